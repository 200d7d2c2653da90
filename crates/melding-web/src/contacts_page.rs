//! "Kontaktinformasjon" (issue 17 item 5; seed 003): where notices of new post go.
//! - Acting for themself, a person sees their KRR entry; they change it in KRR, not here.
//! - Acting for an organisation, a person keeps their own contact for it ("Din
//!   kontaktinformasjon for virksomheten").
//! - The organisation's DAGL or LEDE also keeps its official notification addresses and its
//!   list of up to 20 contacts, and removes the contacts of people who should no longer be
//!   notified.
//!
//! The rules are `melding_core::contact_details`'; this module checks the typed values
//! ([`EmailAddress`], [`MobileNumber`]) and renders each refusal next to its field.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use melding_core::contact_details::{ContactOutcome, KrrContact, OrgContact, contact_key};
use melding_core::{CoreError, DelegationAccess, Principal, Rule, Session};
use melding_domain::contact::{EmailAddress, MobileNumber};
use melding_domain::{OrgNumber, Party};
use serde::Deserialize;

use crate::Web;
use crate::access_page::masked;
use crate::context::{PageError, acting_for_org, form_session, language, signed_in};
use crate::i18n::{Lang, Texts};
use crate::pages::{Layout, html, user_bar};

/// The person's own contact form, as shown or as refused.
#[derive(Default)]
struct OwnForm {
    email: String,
    mobile: String,
    email_error: Option<&'static str>,
    mobile_error: Option<&'static str>,
    /// Whether a contact is registered now, so it can be removed.
    registered: bool,
}

/// One contact of the organisation's list.
struct ContactView {
    who: String,
    email: String,
    mobile: String,
    applies_to: String,
    key: String,
}

/// The manager's forms, as shown or as refused.
#[derive(Default)]
struct ManagerForms {
    emails: String,
    mobiles: String,
    emails_error: Option<String>,
    mobiles_error: Option<String>,
    contacts: Vec<ContactView>,
    add_email: String,
    add_mobile: String,
    add_email_error: Option<&'static str>,
    add_mobile_error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    layout: Layout,
    csrf: String,
    notice: Option<&'static str>,
    krr: Option<KrrContact>,
    own: Option<OwnForm>,
    manager: Option<ManagerForms>,
}

/// What a form left to show again: the refused values and their errors.
#[derive(Default)]
struct Refused {
    own: Option<OwnForm>,
    manager: Option<ManagerForms>,
}

impl Refused {
    /// A refused form of the manager's.
    fn manager(forms: ManagerForms) -> Self {
        Self {
            own: None,
            manager: Some(forms),
        }
    }
}

/// The page again with a refused form: its values and errors, and 400.
async fn refuse(
    web: &Web,
    session: &Session,
    lang: Lang,
    refused: Refused,
) -> Result<Response, PageError> {
    render(web, session, lang, None, refused, StatusCode::BAD_REQUEST).await
}

/// The page's query: what the last change did.
#[derive(Debug, Deserialize)]
pub(crate) struct ContactsParams {
    done: Option<String>,
}

pub(crate) async fn contacts(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Query(p): Query<ContactsParams>,
) -> Result<Response, PageError> {
    let lang = language(&jar, &headers);
    let session = signed_in(&web, &jar, lang).await?;
    let t = lang.texts();
    let notice = match p.done.as_deref() {
        Some("saved") => Some(t.contacts_saved),
        Some("unchanged") => Some(t.contacts_unchanged),
        Some("full") => Some(t.contacts_full),
        _ => None,
    };
    render(
        &web,
        &session,
        lang,
        notice,
        Refused::default(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    web: &Web,
    session: &Session,
    lang: Lang,
    notice: Option<&'static str>,
    refused: Refused,
    status: StatusCode,
) -> Result<Response, PageError> {
    let t = lang.texts();
    let principal = session.principal();
    let core = |e| PageError::core(lang, e);
    let (krr, own, manager) = match &session.acting_for {
        Party::Organization(org) => {
            let own = match refused.own {
                Some(form) => form,
                None => {
                    let mine = web
                        .melding
                        .own_contact(&principal, org)
                        .await
                        .map_err(core)?;
                    OwnForm {
                        registered: mine.is_some(),
                        email: mine
                            .as_ref()
                            .and_then(|c| c.email.clone())
                            .unwrap_or_default(),
                        mobile: mine.and_then(|c| c.mobile).unwrap_or_default(),
                        ..OwnForm::default()
                    }
                }
            };
            let manager = match manager_access(web, &principal, org).await.map_err(core)? {
                Some(access) => Some(manager_forms(web, &access, refused.manager, t, lang).await?),
                None => None,
            };
            (None, Some(own), manager)
        }
        _ => {
            let krr = web
                .melding
                .own_registry_contact(&principal)
                .await
                .map_err(core)?;
            (Some(krr.unwrap_or_default()), None, None)
        }
    };
    let page = ContactsPage {
        layout: Layout::new(
            lang,
            t.contact_details.to_owned(),
            "/inbox/contacts",
            Some(user_bar(web, session, lang).await?),
        ),
        csrf: session.csrf_token.clone(),
        notice,
        krr,
        own,
        manager,
    };
    Ok((status, html(&page)).into_response())
}

/// The manager's handle when the person may manage `org`'s contacts (DAGL or LEDE), else
/// `None`.
async fn manager_access<'a>(
    web: &Web,
    principal: &'a Principal,
    org: &OrgNumber,
) -> Result<Option<DelegationAccess<'a>>, CoreError> {
    match web.melding.delegation_access(principal, org).await {
        Ok(access) => Ok(Some(access)),
        Err(CoreError::Rule(Rule::NoAccess)) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn manager_forms(
    web: &Web,
    access: &DelegationAccess<'_>,
    refused: Option<ManagerForms>,
    t: &Texts,
    lang: Lang,
) -> Result<ManagerForms, PageError> {
    let core = |e| PageError::core(lang, e);
    let now = web
        .melding
        .organization_contacts(access)
        .await
        .map_err(core)?;
    let mut contacts = Vec::with_capacity(now.contacts.len());
    for c in &now.contacts {
        contacts.push(contact_view(web, c, t, lang).await?);
    }
    let mut forms = refused.unwrap_or_else(|| ManagerForms {
        emails: now.notification_emails.join("\n"),
        mobiles: now.notification_mobiles.join("\n"),
        ..ManagerForms::default()
    });
    forms.contacts = contacts;
    Ok(forms)
}

async fn contact_view(
    web: &Web,
    c: &OrgContact,
    t: &Texts,
    lang: Lang,
) -> Result<ContactView, PageError> {
    let who = match &c.person {
        Some(person) => {
            let name = web
                .melding
                .party_name(&Party::Person(person.clone()))
                .await
                .map_err(|e| PageError::core(lang, e))?;
            format!(
                "{} {}",
                name.unwrap_or_else(|| "–".to_owned()),
                masked(person)
            )
        }
        None => t.registered_by_organisation.to_owned(),
    };
    Ok(ContactView {
        who,
        email: c.email.clone().unwrap_or_default(),
        mobile: c.mobile.clone().unwrap_or_default(),
        applies_to: if c.resources.is_empty() {
            t.all_services.to_owned()
        } else {
            c.resources.join(", ")
        },
        key: contact_key(c),
    })
}

/// The start of a manager's form: the language, the session, its caller and the organisation
/// it acts for (404 when it acts for the person themself).
async fn manager_form(
    web: &Web,
    jar: &CookieJar,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(Lang, Session, Principal, OrgNumber), PageError> {
    let (lang, session) = form_session(web, jar, headers, csrf).await?;
    let org = acting_for_org(&session, lang)?;
    let principal = session.principal();
    Ok((lang, session, principal, org))
}

/// The handle that lets `principal` manage `org`'s contacts: its DAGL or LEDE (403 for anyone
/// else).
async fn manage<'a>(
    web: &Web,
    principal: &'a Principal,
    org: &OrgNumber,
    lang: Lang,
) -> Result<DelegationAccess<'a>, PageError> {
    web.melding
        .delegation_access(principal, org)
        .await
        .map_err(|e| PageError::core(lang, e))
}

/// Where a change leaves the person: back on the page, saying what it did.
fn done(outcome: ContactOutcome) -> Response {
    let done = match outcome {
        ContactOutcome::Changed => "saved",
        ContactOutcome::Unchanged => "unchanged",
        ContactOutcome::Full => "full",
    };
    Redirect::to(&format!("/inbox/contacts?done={done}")).into_response()
}

/// An optional field: empty is `None`, anything else must parse.
fn optional<T, E>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    error: &'static str,
) -> Result<Option<T>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else {
        parse(text).map(Some).map_err(|_| error)
    }
}

/// The person's own contact form.
#[derive(Debug, Deserialize)]
pub(crate) struct OwnContactForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    own_email: String,
    #[serde(default)]
    own_mobile: String,
}

pub(crate) async fn save_own(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<OwnContactForm>,
) -> Result<Response, PageError> {
    let (lang, session) = form_session(&web, &jar, &headers, &form.csrf).await?;
    let org = acting_for_org(&session, lang)?;
    let t = lang.texts();
    let email = optional(&form.own_email, EmailAddress::parse, t.invalid_email);
    let mobile = optional(&form.own_mobile, MobileNumber::parse, t.invalid_mobile);
    let (Ok(email), Ok(mobile)) = (email.clone(), mobile.clone()) else {
        let own = OwnForm {
            email: form.own_email,
            mobile: form.own_mobile,
            email_error: email.err(),
            mobile_error: mobile.err(),
            registered: false,
        };
        let refused = Refused {
            own: Some(own),
            manager: None,
        };
        return refuse(&web, &session, lang, refused).await;
    };
    let outcome = web
        .melding
        .set_own_contact(&session.principal(), &org, email, mobile)
        .await
        .map_err(|e| PageError::core(lang, e))?;
    Ok(done(outcome))
}

/// The official notification addresses' form: one address per line.
#[derive(Debug, Deserialize)]
pub(crate) struct AddressesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    emails: String,
    #[serde(default)]
    mobiles: String,
}

/// Each non-empty line of `text` parsed; the first line that does not parse is the error,
/// quoted after `error`.
fn lines<T, E>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    error: &str,
) -> Result<Vec<T>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| parse(l).map_err(|_| format!("{error} «{l}»")))
        .collect()
}

pub(crate) async fn save_addresses(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<AddressesForm>,
) -> Result<Response, PageError> {
    let (lang, session, principal, org) = manager_form(&web, &jar, &headers, &form.csrf).await?;
    let access = manage(&web, &principal, &org, lang).await?;
    let t = lang.texts();
    let emails = lines(&form.emails, EmailAddress::parse, t.invalid_email);
    let mobiles = lines(&form.mobiles, MobileNumber::parse, t.invalid_mobile);
    let (Ok(emails), Ok(mobiles)) = (&emails, &mobiles) else {
        let manager = ManagerForms {
            emails: form.emails,
            mobiles: form.mobiles,
            emails_error: emails.err(),
            mobiles_error: mobiles.err(),
            ..ManagerForms::default()
        };
        return refuse(&web, &session, lang, Refused::manager(manager)).await;
    };
    let outcome = web
        .melding
        .set_notification_addresses(&access, emails, mobiles)
        .await
        .map_err(|e| PageError::core(lang, e))?;
    Ok(done(outcome))
}

/// The form that adds a contact to the organisation's list.
#[derive(Debug, Deserialize)]
pub(crate) struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    add_email: String,
    #[serde(default)]
    add_mobile: String,
}

pub(crate) async fn add(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    let (lang, session, principal, org) = manager_form(&web, &jar, &headers, &form.csrf).await?;
    let access = manage(&web, &principal, &org, lang).await?;
    let t = lang.texts();
    let email = optional(&form.add_email, EmailAddress::parse, t.invalid_email);
    let mobile = optional(&form.add_mobile, MobileNumber::parse, t.invalid_mobile);
    let checked = match (email, mobile) {
        (Ok(None), Ok(None)) => Err((Some(t.contact_needs_one), None)),
        (Ok(email), Ok(mobile)) => Ok((email, mobile)),
        (email, mobile) => Err((email.err(), mobile.err())),
    };
    let (email, mobile) = match checked {
        Ok(values) => values,
        Err((email_error, mobile_error)) => {
            let manager = ManagerForms {
                add_email: form.add_email,
                add_mobile: form.add_mobile,
                add_email_error: email_error,
                add_mobile_error: mobile_error,
                ..ManagerForms::default()
            };
            return refuse(&web, &session, lang, Refused::manager(manager)).await;
        }
    };
    let outcome = web
        .melding
        .add_contact(&access, email, mobile)
        .await
        .map_err(|e| PageError::core(lang, e))?;
    Ok(done(outcome))
}

/// The form that removes one contact, by its key.
#[derive(Debug, Deserialize)]
pub(crate) struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
}

pub(crate) async fn remove(
    State(web): State<Web>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    let (lang, _, principal, org) = manager_form(&web, &jar, &headers, &form.csrf).await?;
    let access = manage(&web, &principal, &org, lang).await?;
    let outcome = web
        .melding
        .remove_contact(&access, &form.key)
        .await
        .map_err(|e| PageError::core(lang, e))?;
    Ok(done(outcome))
}
