//! The inbox's pages and forms. Each handler works out the language and the session
//! ([`crate::context`]), calls one use case of `melding_core`, and renders a template or
//! redirects (303 after every form, so a reload does not repeat it).

use askama::Template;
use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use melding_core::{CoreError, InboxRequest, Login, Rule, Session};
use melding_domain::{AttachmentId, CorrespondenceId, NationalId, OrgNumber, Party, Recipient};
use serde::Deserialize;

use crate::Web;
use crate::context::{
    LANG_COOKIE, LOGIN_CSRF_COOKIE, PageError, check_csrf, cookie, form_session, language,
    same_secret, session, session_cookie_name, signed_in,
};
use crate::i18n::{Lang, Texts};
use crate::markdown::body_html;

/// Letters per inbox page.
const PAGE_SIZE: u32 = 20;

/// A rendered template as an HTML answer; a template that fails to render (a bug) is a 500.
pub(crate) fn html(page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "inbox: a template failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// What the frame of every page shows: the language, the title, the language switch and, when
/// logged in, whom the person acts for with the switch and logout.
pub(crate) struct Layout {
    pub(crate) lang: &'static str,
    pub(crate) t: &'static Texts,
    pub(crate) title: String,
    pub(crate) langs: Vec<LangLink>,
    pub(crate) user: Option<UserBar>,
}

pub(crate) struct LangLink {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) href: String,
    pub(crate) current: bool,
}

pub(crate) struct UserBar {
    pub(crate) acting_for: String,
    pub(crate) org_number: Option<String>,
    pub(crate) csrf: String,
}

impl Layout {
    /// The frame of a page titled `title` at `here` (where the language switch returns to).
    pub(crate) fn new(lang: Lang, title: String, here: &str, user: Option<UserBar>) -> Self {
        let back = encode(here);
        Self {
            lang: lang.code(),
            t: lang.texts(),
            title,
            langs: Lang::ALL
                .iter()
                .map(|l| LangLink {
                    code: l.code(),
                    name: l.name(),
                    href: format!("/inbox/lang/{}?back={back}", l.code()),
                    current: *l == lang,
                })
                .collect(),
            user,
        }
    }
}

/// Percent-encodes `s` for a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The bar of a logged-in page: the party acted for, by name and number.
pub(crate) async fn user_bar(
    web: &Web,
    session: &Session,
    lang: Lang,
) -> Result<UserBar, PageError> {
    let name = web
        .melding
        .party_name(&session.acting_for)
        .await
        .map_err(|e| PageError::core(lang, e))?;
    Ok(UserBar {
        acting_for: party_label(&session.acting_for, name, lang),
        org_number: match &session.acting_for {
            Party::Organization(o) => Some(o.to_string()),
            _ => None,
        },
        csrf: session.csrf_token.clone(),
    })
}

/// A party's name as the pages show it; a party the registry does not know is shown by its
/// number (an organisation) or as "yourself".
fn party_label(party: &Party, name: Option<String>, lang: Lang) -> String {
    name.unwrap_or_else(|| match party {
        Party::Organization(o) => o.to_string(),
        _ => lang.texts().yourself.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// The inbox.

/// The inbox's query: `archived=1` for the archive, `unread=1`, `sender=<org number>`,
/// `q=<text>`, `cursor=<from the previous page>`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InboxParams {
    archived: Option<String>,
    unread: Option<String>,
    sender: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    heading: &'static str,
    archived: bool,
    unread: bool,
    q: String,
    senders: Vec<SenderChoice>,
    entries: Vec<EntryView>,
    next_href: Option<String>,
    first_href: Option<String>,
}

struct SenderChoice {
    org: String,
    name: String,
    selected: bool,
}

struct EntryView {
    href: String,
    title: String,
    sender: String,
    summary: String,
    received: String,
    due: Option<String>,
    deletion: Option<String>,
    unread: bool,
    confidential: bool,
}

pub(crate) async fn inbox(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Query(p): Query<InboxParams>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let session = signed_in(&web, &jar, lang).await?;
    let t = lang.texts();
    let on = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty() && v != "0");
    let (archived, unread) = (on(&p.archived), on(&p.unread));
    let sender = p
        .sender
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| OrgNumber::parse(s).ok());
    let q = p.q.clone().unwrap_or_default();
    let principal = session.principal();
    let page = web
        .melding
        .inbox(
            &principal,
            InboxRequest {
                party: session.acting_for.clone(),
                unread_only: unread,
                archived,
                sender: sender.clone(),
                text: Some(q.clone()),
                limit: PAGE_SIZE,
                cursor: p.cursor.clone(),
                with_senders: true,
            },
        )
        .await;
    let page = match page {
        Ok(page) => page,
        // The right to read for the organisation was taken away during the session (a
        // delegation revoked): the person acts for themself again and chooses anew, rather
        // than meeting a refusal on every page.
        Err(CoreError::Rule(Rule::NoAccess)) if session.acting_for != principal.party => {
            web.melding
                .act_for(&session, principal.party.clone())
                .await
                .map_err(|e| PageError::core(lang, e))?;
            return Ok(Redirect::to("/inbox/act-for").into_response());
        }
        Err(e) => return Err(PageError::core(lang, e)),
    };
    let senders = page
        .senders
        .into_iter()
        .map(|(org, name)| SenderChoice {
            selected: sender.as_ref() == Some(&org),
            name: name.unwrap_or_else(|| org.to_string()),
            org: org.to_string(),
        })
        .collect();
    let entries = page
        .entries
        .into_iter()
        .map(|e| EntryView {
            href: format!("/inbox/letters/{}", e.id),
            title: e.title,
            sender: e.sender_name.unwrap_or_else(|| e.sender.to_string()),
            summary: e.summary,
            received: lang.date_time(e.published),
            due: e.due.map(|d| lang.date_time(d)),
            deletion: e.deletion_due.map(|d| lang.date(d)),
            unread: !e.read,
            confidential: e.confidential,
        })
        .collect();
    // The same filters, from the start or after the cursor.
    let mut filters = Vec::new();
    if archived {
        filters.push("archived=1".to_owned());
    }
    if unread {
        filters.push("unread=1".to_owned());
    }
    if let Some(s) = &sender {
        filters.push(format!("sender={s}"));
    }
    if !q.trim().is_empty() {
        filters.push(format!("q={}", encode(q.trim())));
    }
    let href = |extra: Option<String>| {
        let all: Vec<String> = filters.iter().cloned().chain(extra).collect();
        if all.is_empty() {
            "/inbox".to_owned()
        } else {
            format!("/inbox?{}", all.join("&"))
        }
    };
    let next_href = page
        .next_cursor
        .map(|c| href(Some(format!("cursor={}", encode(&c)))));
    let first_href = p.cursor.is_some().then(|| href(None));
    let heading = if archived { t.archive } else { t.inbox };
    let here = href(None);
    let user = user_bar(&web, &session, lang).await?;
    let title = format!("{heading}: {}", user.acting_for);
    Ok(html(&InboxPage {
        layout: Layout::new(lang, title, &here, Some(user)),
        heading,
        archived,
        unread,
        q,
        senders,
        entries,
        next_href,
        first_href,
    }))
}

// ---------------------------------------------------------------------------------------------
// A letter.

#[derive(Template)]
#[template(path = "letter.html")]
struct LetterPage {
    layout: Layout,
    id: String,
    zip_href: Option<String>,
    title: String,
    sender: String,
    received: String,
    due: Option<String>,
    deletion: Option<String>,
    confidential: bool,
    body: String,
    attachments: Vec<AttachmentView>,
    replies: Vec<ReplyView>,
    needs_confirmation: bool,
    confirmed: bool,
    archived: bool,
    may_archive_or_delete: bool,
    csrf: String,
}

struct AttachmentView {
    href: String,
    name: String,
    size: String,
}

struct ReplyView {
    href: String,
    text: String,
}

/// The letter's id from the path; anything that is not an id is a 404.
fn letter_id(raw: &str, lang: Lang) -> Result<CorrespondenceId, PageError> {
    raw.parse().map_err(|_| PageError::not_found(lang))
}

/// A size in bytes as people read it: "812 B", "14 kB", "3.2 MB" (powers of 1000).
fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1000 => format!("{b} B"),
        b if b < 1_000_000 => format!("{} kB", b.div_ceil(1000)),
        b if b < 1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => format!("{:.1} GB", b as f64 / 1e9),
    }
}

pub(crate) async fn letter(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let session = signed_in(&web, &jar, lang).await?;
    let id = letter_id(&raw, lang)?;
    let principal = session.principal();
    let core = |e| PageError::core(lang, e);
    let access = open_letter(&web, &session, &principal, id, lang).await?;
    // Opening the letter here is reading its content: Fetched and, the first time, Read.
    let view = web.melding.content(access).await.map_err(core)?;
    let l = &view.letter;
    let s = &l.statuses;
    use melding_domain::CorrespondenceStatus as S;
    let confirmed = s.has_been(S::Confirmed);
    let needs_confirmation = l.settings.is_confirmation_needed;
    let attachments = view
        .attachments
        .iter()
        .map(|a| AttachmentView {
            href: format!("/inbox/letters/{id}/attachments/{}", a.attachment.id),
            name: a
                .attachment
                .display_name
                .clone()
                .unwrap_or_else(|| a.attachment.file_name.clone()),
            size: a
                .attachment
                .file
                .as_ref()
                .map(|f| human_size(f.size))
                .unwrap_or_default(),
        })
        .collect();
    let replies = l
        .settings
        .reply_options
        .iter()
        .map(|r| ReplyView {
            href: r.url.clone(),
            text: r.text.clone().unwrap_or_else(|| r.url.clone()),
        })
        .collect();
    let page = LetterPage {
        zip_href: (view.attachments.len() > 1)
            .then(|| format!("/inbox/letters/{id}/attachments.zip")),
        id: id.to_string(),
        title: l.settings.content.title.clone(),
        sender: view
            .sender_name
            .clone()
            .unwrap_or_else(|| l.settings.sender.to_string()),
        received: lang.date_time(l.published.unwrap_or(l.settings.requested_publish_time)),
        due: l.settings.due_date_time.map(|d| lang.date_time(d)),
        deletion: web.melding.content_deletion_due(l).map(|d| lang.date(d)),
        confidential: l.settings.is_confidential,
        body: body_html(&l.settings.content.body),
        attachments,
        replies,
        needs_confirmation,
        confirmed,
        archived: s.has_been(S::Archived),
        may_archive_or_delete: !needs_confirmation || confirmed,
        csrf: session.csrf_token.clone(),
        layout: Layout::new(
            lang,
            l.settings.content.title.clone(),
            &format!("/inbox/letters/{id}"),
            Some(user_bar(&web, &session, lang).await?),
        ),
    };
    Ok(html(&page))
}

/// The letter `id` as `principal` (the session's person) may open it, decided as the API
/// decides; refused (403) before anything is logged when its resource needs a higher login
/// level than the session's.
async fn open_letter<'p>(
    web: &Web,
    session: &Session,
    principal: &'p melding_core::Principal,
    id: CorrespondenceId,
    lang: Lang,
) -> Result<melding_core::LetterAccess<'p>, PageError> {
    let core = |e| PageError::core(lang, e);
    let access = web
        .melding
        .letter_access(principal, id)
        .await
        .map_err(core)?;
    let needed = web
        .melding
        .minimum_authentication_level(access.letter())
        .await
        .map_err(core)?;
    if needed > session.authentication_level() {
        return Err(PageError::page(lang, StatusCode::FORBIDDEN, |t| {
            t.level_too_low
        }));
    }
    Ok(access)
}

/// A form that carries only its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    csrf: String,
}

/// What a recipient does to a letter from its page.
enum Action {
    Confirm,
    Archive,
    Delete,
}

/// `POST /inbox/letters/{id}/{confirm,archive,delete}`: the recipient's action on a letter,
/// then back to the letter (confirm) or the inbox; any other action is a 404.
pub(crate) async fn act(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Path((raw, action)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let action = match action.as_str() {
        "confirm" => Action::Confirm,
        "archive" => Action::Archive,
        "delete" => Action::Delete,
        _ => return Err(PageError::not_found(lang)),
    };
    let session = signed_in(&web, &jar, lang).await?;
    check_csrf(&session, &form.csrf, lang)?;
    let id = letter_id(&raw, lang)?;
    let principal = session.principal();
    let core = |e| PageError::core(lang, e);
    let access = open_letter(&web, &session, &principal, id, lang).await?;
    match action {
        Action::Confirm => {
            let result = web
                .melding
                .confirm(access.into_recipient().map_err(core)?)
                .await;
            // Confirming twice (a second tab) is no error to the person.
            match result {
                Ok(_)
                | Err(melding_core::CoreError::Rule(melding_core::Rule::Lifecycle(
                    melding_domain::status::LifecycleError::AlreadyConfirmed,
                ))) => {}
                Err(e) => return Err(core(e)),
            }
            Ok(Redirect::to(&format!("/inbox/letters/{id}")).into_response())
        }
        Action::Archive => {
            web.melding
                .archive(access.into_recipient().map_err(core)?)
                .await
                .map_err(core)?;
            Ok(Redirect::to("/inbox").into_response())
        }
        Action::Delete => {
            access.check_recipient_side().map_err(core)?;
            web.melding.purge(access).await.map_err(core)?;
            Ok(Redirect::to("/inbox").into_response())
        }
    }
}

/// One attachment of a letter: a PDF opens in the browser, anything else downloads. The
/// answer's own Content-Security-Policy is `sandbox`, so a file never runs as a page of the
/// inbox.
pub(crate) async fn attachment(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Path((raw, raw_aid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let session = signed_in(&web, &jar, lang).await?;
    let id = letter_id(&raw, lang)?;
    let aid: AttachmentId = raw_aid.parse().map_err(|_| PageError::not_found(lang))?;
    let principal = session.principal();
    let core = |e| PageError::core(lang, e);
    let access = open_letter(&web, &session, &principal, id, lang)
        .await?
        .into_recipient()
        .map_err(core)?;
    let d = web
        .melding
        .download_letter_attachment(access, aid)
        .await
        .map_err(core)?;
    let name = d.attachment.file_name.clone();
    let pdf = name.to_ascii_lowercase().ends_with(".pdf");
    let mut res = Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(
        d.reader,
    )));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if pdf {
            "application/pdf"
        } else {
            "application/octet-stream"
        }),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(d.size));
    let disposition = melding_domain::attachment::content_disposition(pdf, &name);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    Ok(res)
}

/// Every attachment of a letter as one zip, as the API's `downloadall` makes it (logs
/// AttachmentsDownloaded once).
pub(crate) async fn attachments_zip(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let session = signed_in(&web, &jar, lang).await?;
    let id = letter_id(&raw, lang)?;
    let principal = session.principal();
    let core = |e| PageError::core(lang, e);
    let access = open_letter(&web, &session, &principal, id, lang)
        .await?
        .into_recipient()
        .map_err(core)?;
    let all = web.melding.download_all(access).await.map_err(core)?;
    let (length, file_name, stream) = all.into_zip();
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let disposition = melding_domain::attachment::content_disposition(false, &file_name);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// Whom to act for.

#[derive(Template)]
#[template(path = "parties.html")]
struct PartiesPage {
    layout: Layout,
    parties: Vec<PartyChoice>,
    csrf: String,
}

struct PartyChoice {
    urn: String,
    name: String,
    number: Option<String>,
    current: bool,
    /// The person's own party.
    yourself: bool,
}

pub(crate) async fn parties(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let session = signed_in(&web, &jar, lang).await?;
    let principal = session.principal();
    let parties = web
        .melding
        .authorized_parties(&principal)
        .await
        .map_err(|e| PageError::core(lang, e))?
        .into_iter()
        .map(|p| PartyChoice {
            urn: p.party.urn(),
            current: p.party == session.acting_for,
            yourself: p.party == principal.party,
            number: match &p.party {
                Party::Organization(o) => Some(o.to_string()),
                _ => None,
            },
            name: party_label(&p.party, p.name, lang),
        })
        .collect();
    let t = lang.texts();
    Ok(html(&PartiesPage {
        layout: Layout::new(
            lang,
            t.choose_party.to_owned(),
            "/inbox/act-for",
            Some(user_bar(&web, &session, lang).await?),
        ),
        parties,
        csrf: session.csrf_token.clone(),
    }))
}

/// The act-for form: the party's URN and the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct ActForForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    party: String,
}

pub(crate) async fn act_for(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<ActForForm>,
) -> Result<Response, PageError> {
    let (lang, session) = form_session(&web, &jar, &headers, &form.csrf).await?;
    let party = Recipient::parse(&form.party)
        .map(|r| r.party().clone())
        .map_err(|_| PageError::page(lang, StatusCode::BAD_REQUEST, |t| t.no_access))?;
    web.melding
        .act_for(&session, party)
        .await
        .map_err(|e| PageError::core(lang, e))?;
    Ok(Redirect::to("/inbox").into_response())
}

// ---------------------------------------------------------------------------------------------
// Login, logout, language.

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    provider: bool,
    demo: bool,
    csrf: String,
    error: Option<&'static str>,
    national_id: String,
}

/// The login page. It sets the login form's CSRF cookie when the browser has none.
pub(crate) async fn login_page(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    if session(&web, &jar, lang).await?.is_some() {
        return Ok(Redirect::to("/inbox").into_response());
    }
    let (jar, csrf) = login_csrf(&web, jar);
    let page = login(&web, lang, csrf, None, String::new());
    Ok((jar, html(&page)).into_response())
}

fn login(
    web: &Web,
    lang: Lang,
    csrf: String,
    error: Option<&'static str>,
    national_id: String,
) -> LoginPage {
    LoginPage {
        layout: Layout::new(lang, lang.texts().log_in.to_owned(), "/inbox/login", None),
        provider: web.provider.is_some(),
        demo: web.settings.demo_login,
        csrf,
        error,
        national_id,
    }
}

/// The browser's login-form token, made and set when it has none.
fn login_csrf(web: &Web, jar: CookieJar) -> (CookieJar, String) {
    match jar.get(LOGIN_CSRF_COOKIE) {
        Some(c) if c.value().len() == 43 => {
            let v = c.value().to_owned();
            (jar, v)
        }
        _ => {
            let v = melding_core::session::new_secret();
            (jar.add(cookie(web, LOGIN_CSRF_COOKIE, v.clone())), v)
        }
    }
}

/// The development login's form.
#[derive(Debug, Deserialize)]
pub(crate) struct DemoLoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    national_id: String,
}

/// The development login (`serve --demo` only): logs in as the registered person with that
/// national identity number, at the level `demo`.
pub(crate) async fn demo_login(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<DemoLoginForm>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let expected = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if !same_secret(&expected, &form.csrf) {
        return Err(PageError::page(lang, StatusCode::FORBIDDEN, |t| {
            t.expired_form
        }));
    }
    let typed = form.national_id.trim().to_owned();
    let person = NationalId::parse(&typed).ok();
    let known = match &person {
        Some(p) => web
            .melding
            .party_name(&Party::Person(p.clone()))
            .await
            .map_err(|e| PageError::core(lang, e))?
            .is_some(),
        None => false,
    };
    let (Some(person), true) = (person, known) else {
        let page = login(
            &web,
            lang,
            form.csrf,
            Some(lang.texts().unknown_person),
            typed,
        );
        return Ok((StatusCode::BAD_REQUEST, html(&page)).into_response());
    };
    let (token, _) = web
        .melding
        .start_session(Login {
            person,
            acr: "demo".to_owned(),
            id_token: None,
        })
        .await
        .map_err(|e| PageError::core(lang, e))?;
    let jar = jar
        .add(cookie(&web, session_cookie_name(&web), token))
        .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/"));
    Ok((jar, Redirect::to("/inbox")).into_response())
}

/// Logout: ends the session and forgets the cookie.
pub(crate) async fn logout(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let (lang, session) = form_session(&web, &jar, &headers, &form.csrf).await?;
    if let Some(c) = jar.get(session_cookie_name(&web)) {
        web.melding
            .end_session(c.value())
            .await
            .map_err(|e| PageError::core(lang, e))?;
    }
    let jar = jar.remove(Cookie::build(session_cookie_name(&web)).path("/"));
    // A login from the provider ends there too; the provider sends the browser back to the
    // login page.
    let at_provider = web
        .provider
        .as_ref()
        .zip(session.id_token.as_deref())
        .and_then(|(p, token)| p.logout_url(token));
    match at_provider {
        Some(url) => Ok((jar, Redirect::to(url.as_str())).into_response()),
        None => Ok((jar, Redirect::to("/inbox/login")).into_response()),
    }
}

/// The cookie that holds a login waiting for the provider's answer, for ten minutes.
const OIDC_COOKIE: &str = "melding-oidc-login";

/// Starts a login with the provider: its secrets into a cookie, the browser to the provider.
pub(crate) async fn oidc_login(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let Some(provider) = web.provider.clone() else {
        return Err(PageError::not_found(lang));
    };
    let (url, pending) = provider.begin(lang.code()).await.map_err(|e| {
        tracing::warn!(error = %e, "inbox: a login could not start");
        PageError::page(lang, StatusCode::BAD_GATEWAY, |t| t.login_failed)
    })?;
    let mut c = cookie(&web, OIDC_COOKIE, pending.to_cookie());
    c.set_path("/inbox/login");
    c.set_max_age(cookie::time::Duration::minutes(10));
    Ok((jar.add(c), Redirect::to(url.as_str())).into_response())
}

/// The provider's answer to a login: `code` and `state`, or `error`.
#[derive(Debug, Deserialize)]
pub(crate) struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Where the provider sends the browser back: the login is verified, a session starts, and
/// the browser goes to the inbox.
pub(crate) async fn oidc_callback(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Query(p): Query<CallbackParams>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let Some(provider) = web.provider.clone() else {
        return Err(PageError::not_found(lang));
    };
    let failed = |status| PageError::page(lang, status, |t| t.login_failed);
    let pending = jar
        .get(OIDC_COOKIE)
        .and_then(|c| crate::oidc::PendingLogin::from_cookie(c.value()));
    let jar = jar.remove(Cookie::build(OIDC_COOKIE).path("/inbox/login"));
    if let Some(error) = p.error {
        tracing::info!(%error, description = p.error_description.as_deref().unwrap_or(""), "inbox: the provider refused a login");
        return Err(failed(StatusCode::BAD_REQUEST));
    }
    let (Some(pending), Some(state), Some(code)) = (pending, p.state, p.code) else {
        tracing::info!("inbox: a login came back without its pending state");
        return Err(failed(StatusCode::BAD_REQUEST));
    };
    let login = provider
        .finish(&pending, &state, &code)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "inbox: a login failed");
            failed(StatusCode::BAD_REQUEST)
        })?;
    let (token, _) = web
        .melding
        .start_session(Login {
            person: login.person,
            acr: login.acr,
            id_token: Some(login.id_token),
        })
        .await
        .map_err(|e| PageError::core(lang, e))?;
    let jar = jar.add(cookie(&web, session_cookie_name(&web), token));
    Ok((jar, Redirect::to("/inbox")).into_response())
}

/// The language switch's query: where to return to.
#[derive(Debug, Deserialize)]
pub(crate) struct BackParams {
    back: Option<String>,
}

/// Switches the language and returns to the page the switch was on (only pages of the inbox).
pub(crate) async fn switch_language(
    State(web): State<Web>,
    jar: CookieJar,
    Path(code): Path<String>,
    Query(p): Query<BackParams>,
) -> Response {
    let back = p
        .back
        .filter(|b| b.starts_with("/inbox") && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/inbox".to_owned());
    let Some(lang) = Lang::from_code(&code) else {
        return Redirect::to(&back).into_response();
    };
    let jar = jar.add(cookie(&web, LANG_COOKIE, lang.code().to_owned()));
    (jar, Redirect::to(&back)).into_response()
}

/// A path under `/inbox` that names no page.
pub(crate) async fn not_found(jar: CookieJar, headers: HeaderMap) -> PageError {
    PageError::not_found(language(&jar, &headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(14_001), "15 kB");
        assert_eq!(human_size(3_200_000), "3.2 MB");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("/inbox?q=a b&c"), "/inbox%3Fq%3Da%20b%26c");
        assert_eq!(encode("søk"), "s%C3%B8k");
    }
}
