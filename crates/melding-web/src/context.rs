//! What every inbox request works out first: its language, its session (from the session
//! cookie), and the checks on its forms (CSRF). Also the inbox's error pages.

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use melding_core::{CoreError, Rule, Session, StoreError};
use melding_domain::status::LifecycleError;
use melding_domain::{OrgNumber, Party};
use subtle::ConstantTimeEq;

use crate::Web;
use crate::i18n::{Lang, Texts};

/// The cookie that holds the language chosen with the switch.
pub(crate) const LANG_COOKIE: &str = "melding-lang";

/// The cookie that holds a form token before login (the login form's CSRF check, by double
/// submission).
pub(crate) const LOGIN_CSRF_COOKIE: &str = "melding-login-csrf";

/// The session cookie's name: with the `__Host-` prefix when it is `Secure`, so it can be set
/// only by this host, over HTTPS, for the whole site.
pub(crate) fn session_cookie_name(web: &Web) -> &'static str {
    if web.settings.secure_cookies {
        "__Host-melding-session"
    } else {
        "melding-session"
    }
}

/// A cookie of the inbox: for the whole site, HttpOnly, SameSite=Lax (a person arriving from a
/// link or from the login provider's redirect is still logged in; cross-site forms are not),
/// `Secure` when the node is served over HTTPS; a browser-session cookie (no expiry: the server
/// ends sessions).
pub(crate) fn cookie(web: &Web, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(web.settings.secure_cookies)
        .build()
}

/// The language of a request: the switch's cookie, else `Accept-Language`, else bokmål.
pub(crate) fn language(jar: &CookieJar, headers: &HeaderMap) -> Lang {
    jar.get(LANG_COOKIE)
        .and_then(|c| Lang::from_code(c.value()))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::Nb)
}

/// The live session of a request, if its cookie names one.
pub(crate) async fn session(
    web: &Web,
    jar: &CookieJar,
    lang: Lang,
) -> Result<Option<Session>, PageError> {
    let Some(c) = jar.get(session_cookie_name(web)) else {
        return Ok(None);
    };
    web.melding
        .resume_session(c.value())
        .await
        .map_err(|e| PageError::core(lang, e))
}

/// The session of a request that needs one; a request without goes to the login page.
pub(crate) async fn signed_in(
    web: &Web,
    jar: &CookieJar,
    lang: Lang,
) -> Result<Session, PageError> {
    session(web, jar, lang).await?.ok_or(PageError::LoginNeeded)
}

/// The start of a form's handler: the request's language, and its session once the form's CSRF
/// token is checked against it.
///
/// Errors: [`PageError::LoginNeeded`] without a live session, 403 when the token differs.
pub(crate) async fn form_session(
    web: &Web,
    jar: &CookieJar,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(Lang, Session), PageError> {
    let lang = language(jar, headers);
    let session = signed_in(web, jar, lang).await?;
    check_csrf(&session, csrf, lang)?;
    Ok((lang, session))
}

/// The organisation the session acts for. A person acting for themself has no organisation's
/// pages: 404.
pub(crate) fn acting_for_org(session: &Session, lang: Lang) -> Result<OrgNumber, PageError> {
    match &session.acting_for {
        Party::Organization(o) => Ok(o.clone()),
        _ => Err(PageError::not_found(lang)),
    }
}

/// Checks a form's CSRF token against the session's, in constant time.
///
/// Errors: [`PageError`] 403 with the "form expired" text when they differ.
pub(crate) fn check_csrf(session: &Session, token: &str, lang: Lang) -> Result<(), PageError> {
    if same_secret(&session.csrf_token, token) {
        Ok(())
    } else {
        Err(PageError::page(lang, StatusCode::FORBIDDEN, |t| {
            t.expired_form
        }))
    }
}

/// Whether two secrets are equal, compared in constant time.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Picks one text of a language.
pub(crate) type TextOf = fn(&Texts) -> &'static str;

/// Why a page cannot be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// No live session: to the login page.
    LoginNeeded,
    /// An error page in the request's language.
    Page {
        lang: Lang,
        status: StatusCode,
        text: TextOf,
    },
}

impl PageError {
    pub(crate) fn page(lang: Lang, status: StatusCode, text: TextOf) -> Self {
        PageError::Page { lang, status, text }
    }

    pub(crate) fn not_found(lang: Lang) -> Self {
        Self::page(lang, StatusCode::NOT_FOUND, |t| t.not_found)
    }

    /// The page for a use case's error: 404 for a letter that is not there or not visible,
    /// 403 for no access, 409 for an action the letter's state does not allow, 503 when the
    /// store is unavailable, 500 otherwise (logged).
    pub(crate) fn core(lang: Lang, e: CoreError) -> Self {
        match e {
            CoreError::Rule(Rule::NotFound | Rule::AttachmentNotFound) => Self::not_found(lang),
            CoreError::Rule(Rule::Lifecycle(
                LifecycleError::NotVisible | LifecycleError::AlreadyPurged,
            )) => Self::not_found(lang),
            CoreError::Rule(Rule::NoAccess) => {
                Self::page(lang, StatusCode::FORBIDDEN, |t| t.no_access)
            }
            CoreError::Rule(
                Rule::Lifecycle(_)
                | Rule::AttachmentPurgedDownload
                | Rule::AttachmentExpiredDownload
                | Rule::DownloadAllTooLarge
                | Rule::NoDataLocation,
            ) => Self::page(lang, StatusCode::CONFLICT, |t| t.not_allowed),
            CoreError::Store(StoreError::Unavailable(reason)) => {
                tracing::warn!(%reason, "inbox: the store is unavailable");
                Self::page(lang, StatusCode::SERVICE_UNAVAILABLE, |t| t.unavailable)
            }
            e => {
                tracing::error!(error = %e, "inbox: a request failed");
                Self::page(lang, StatusCode::INTERNAL_SERVER_ERROR, |t| t.error)
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::LoginNeeded => Redirect::to("/inbox/login").into_response(),
            PageError::Page { lang, status, text } => {
                let t = lang.texts();
                let page = ErrorPage {
                    layout: crate::pages::Layout::new(lang, t.error.to_owned(), "/inbox", None),
                    message: text(t),
                };
                (status, crate::pages::html(&page)).into_response()
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: crate::pages::Layout,
    message: &'static str,
}
