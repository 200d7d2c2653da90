//! "Tilganger" (issue 17 item 5): the general manager or chair of an organisation sees who
//! reads its post, and delegates or revokes ordinary post, "Kommunale tjenester" and
//! confidential post to a person by national identity number. The rules are the API's
//! (`melding_core::delegation`): only DAGL or LEDE as registered in Enhetsregisteret may
//! change them, and every change is logged with who, when and what.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use melding_core::delegation::AccessHolder;
use melding_core::{CoreError, Rule, Session};
use melding_domain::NationalId;
use melding_domain::authz::{CONFIDENTIAL_POST, ORDINARY_POST, Right};
use serde::Deserialize;

use crate::Web;
use crate::context::{PageError, TextOf, acting_for_org, form_session, language, signed_in};
use crate::i18n::{Lang, Texts};
use crate::pages::{Layout, html, user_bar};

/// The rights the page gives and takes, by the form's value: the ordinary-post package,
/// Kommunale tjenester (KOMAB), the confidential-post package.
const RIGHTS: [(&str, TextOf); 3] = [
    (ORDINARY_POST, |t| t.right_ordinary_post),
    ("KOMAB", |t| t.right_municipal),
    (CONFIDENTIAL_POST, |t| t.right_confidential),
];

fn right_of(value: &str) -> Option<Right> {
    RIGHTS
        .iter()
        .any(|(v, _)| *v == value)
        .then(|| Right::parse(value).ok())
        .flatten()
}

/// A right as the page names it: one of [`RIGHTS`] by its text, a role by its code.
fn right_label(right: &Right, t: &Texts) -> String {
    let value = match right {
        Right::Role(code) => code.as_str(),
        Right::Package(urn) => urn.as_str(),
    };
    RIGHTS
        .iter()
        .find(|(v, _)| *v == value)
        .map_or_else(|| value.to_owned(), |(_, text)| text(t).to_owned())
}

/// A national identity number as the page shows it: the birth date, the rest hidden.
pub(crate) fn masked(person: &NationalId) -> String {
    let s = person.to_string();
    format!("{}*****", &s[..6.min(s.len())])
}

struct HolderView {
    name: String,
    masked: String,
    national_id: String,
    right: String,
    right_value: String,
}

fn views(holders: Vec<AccessHolder>, t: &Texts) -> Vec<HolderView> {
    holders
        .into_iter()
        .map(|h| HolderView {
            name: h.name.unwrap_or_else(|| "–".to_owned()),
            masked: masked(&h.person),
            national_id: h.person.to_string(),
            right: right_label(&h.right, t),
            right_value: match &h.right {
                Right::Role(code) => code.clone(),
                Right::Package(urn) => urn.clone(),
            },
        })
        .collect()
}

struct RightChoice {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessPage {
    layout: Layout,
    registered: Vec<HolderView>,
    delegated: Vec<HolderView>,
    rights: Vec<RightChoice>,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    national_id: String,
}

/// The page's query: what the last change did.
#[derive(Debug, Deserialize)]
pub(crate) struct AccessParams {
    done: Option<String>,
}

pub(crate) async fn access(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Query(p): Query<AccessParams>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let session = signed_in(&web, &jar, lang).await?;
    let t = lang.texts();
    let notice = match p.done.as_deref() {
        Some("granted") => Some(t.granted),
        Some("revoked") => Some(t.revoked),
        Some("unchanged") => Some(t.unchanged),
        _ => None,
    };
    render(
        &web,
        &session,
        lang,
        notice,
        None,
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    web: &Web,
    session: &Session,
    lang: Lang,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    national_id: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let org = acting_for_org(session, lang)?;
    let principal = session.principal();
    let core = |e| PageError::core(lang, e);
    let admin = web
        .melding
        .delegation_access(&principal, &org)
        .await
        .map_err(core)?;
    let who = web.melding.post_access(&admin).await.map_err(core)?;
    let t = lang.texts();
    let page = AccessPage {
        layout: Layout::new(
            lang,
            t.access.to_owned(),
            "/inbox/access",
            Some(user_bar(web, session, lang).await?),
        ),
        registered: views(who.registered, t),
        delegated: views(who.delegated, t),
        rights: RIGHTS
            .iter()
            .map(|(value, label)| RightChoice {
                value,
                label: label(t),
            })
            .collect(),
        csrf: session.csrf_token.clone(),
        notice,
        error,
        national_id,
    };
    Ok((status, html(&page)).into_response())
}

/// The grant and revoke forms: the person and the right, with the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    national_id: String,
    #[serde(default)]
    right: String,
}

async fn change(
    web: Web,
    jar: CookieJar,
    headers: HeaderMap,
    form: ChangeForm,
    grant: bool,
) -> Result<Response, PageError> {
    let (lang, session) = form_session(&web, &jar, &headers, &form.csrf).await?;
    let org = acting_for_org(&session, lang)?;
    let typed = form.national_id.trim().to_owned();
    let (Ok(person), Some(right)) = (NationalId::parse(&typed), right_of(&form.right)) else {
        return render(
            &web,
            &session,
            lang,
            None,
            Some(lang.texts().unknown_person),
            typed,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let principal = session.principal();
    let admin = web
        .melding
        .delegation_access(&principal, &org)
        .await
        .map_err(|e| PageError::core(lang, e))?;
    match web
        .melding
        .change_delegation(&admin, &person, right, grant)
        .await
    {
        Ok(changed) => {
            let done = match (changed, grant) {
                (false, _) => "unchanged",
                (true, true) => "granted",
                (true, false) => "revoked",
            };
            Ok(Redirect::to(&format!("/inbox/access?done={done}")).into_response())
        }
        Err(CoreError::Rule(Rule::UnknownRecipients(_))) => {
            render(
                &web,
                &session,
                lang,
                None,
                Some(lang.texts().unknown_person),
                typed,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(PageError::core(lang, e)),
    }
}

pub(crate) async fn grant(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PageError> {
    change(web, jar, headers, form, true).await
}

pub(crate) async fn revoke(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PageError> {
    change(web, jar, headers, form, false).await
}
