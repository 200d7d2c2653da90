//! Melding's web inbox, "Min meldingsboks" (issue 17; DESIGN.md, decision 7): server-rendered
//! HTML pages under `/inbox` where a person logs in, chooses whom to read post for, lists and
//! opens letters, downloads attachments, and confirms, archives or deletes letters.
//!
//! Every page goes through the same use cases and authorization handles as the API
//! (`melding_core`): opening a letter here logs Fetched and Read exactly as
//! `GET …/content` does, and a letter the person may not read through the API is not listed
//! here either.
//!
//! The pages work without JavaScript and load nothing from outside Melding: one stylesheet,
//! served from `/inbox/assets/`, under a strict Content-Security-Policy.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod access_page;
mod contacts_page;
mod context;
mod i18n;
mod markdown;
mod oidc;
mod pages;

pub use oidc::OidcSettings;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use melding_core::Melding;

/// How a node serves the inbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebSettings {
    /// Offers the development login, which lets anyone log in as any person in the registry
    /// without a provider. Only `melding serve --demo` turns it on.
    pub demo_login: bool,
    /// Marks the session cookie `Secure` (and names it with the `__Host-` prefix): on whenever
    /// the node's public address is `https`. Browsers send a `Secure` cookie only over HTTPS.
    pub secure_cookies: bool,
    /// The OpenID Connect provider people log in with (ID-porten or one like it); `None`
    /// offers no provider login.
    pub oidc: Option<OidcSettings>,
}

/// The inbox's shared state: the use cases and the settings.
#[derive(Clone)]
pub(crate) struct Web {
    pub(crate) melding: Melding,
    pub(crate) settings: Arc<WebSettings>,
    pub(crate) provider: Option<Arc<oidc::Provider>>,
}

/// The inbox's pages, for the composition root to serve beside the API:
///
/// | Path | What |
/// |---|---|
/// | `GET /inbox` | the inbox or the archive of the party acted for, with filters and paging |
/// | `GET /inbox/login` | the login page |
/// | `GET /inbox/login/oidc` | starts a login with the provider (only with [`WebSettings::oidc`]) |
/// | `GET /inbox/login/callback` | where the provider sends the browser back |
/// | `POST /inbox/login/demo` | the development login (only with [`WebSettings::demo_login`]) |
/// | `POST /inbox/logout` | ends the session |
/// | `GET, POST /inbox/act-for` | whom the person may read post for; switch to one |
/// | `GET /inbox/letters/{id}` | a letter (logs Fetched and Read) |
/// | `POST /inbox/letters/{id}/{confirm,archive,delete}` | the recipient's actions |
/// | `GET /inbox/letters/{id}/attachments/{aid}` | one attachment (PDFs inline) |
/// | `GET /inbox/letters/{id}/attachments.zip` | all of them as one zip |
/// | `GET /inbox/access`, `POST /inbox/access/{grant,revoke}` | who reads an organisation's post; delegate and revoke (its DAGL or LEDE) |
/// | `GET /inbox/lang/{nb,nn,en}` | switches the language |
/// | `GET /inbox/contacts`, `POST /inbox/contacts/{own,addresses,add,remove}` | where notices go: a person's own contact, and an organisation's notification addresses and contacts (its DAGL or LEDE) |
/// | `GET /inbox/assets/inbox.css` | the stylesheet |
/// | `GET /inbox/assets/inbox.js` | the script that enhances the pages (they work without it) |
///
/// Every answer carries the inbox's security headers, among them [`CONTENT_SECURITY_POLICY`].
pub fn router(melding: Melding, settings: WebSettings) -> Router {
    let demo = settings.demo_login;
    let provider = settings
        .oidc
        .clone()
        .map(|o| Arc::new(oidc::Provider::new(o)));
    let web = Web {
        melding,
        settings: Arc::new(settings),
        provider,
    };
    let mut r = Router::new()
        .route("/inbox", get(pages::inbox))
        .route("/inbox/", get(pages::inbox))
        .route("/inbox/login", get(pages::login_page))
        .route("/inbox/logout", post(pages::logout))
        .route("/inbox/act-for", get(pages::parties).post(pages::act_for))
        .route("/inbox/letters/{id}", get(pages::letter))
        .route("/inbox/letters/{id}/{action}", post(pages::act))
        .route(
            "/inbox/letters/{id}/attachments/{aid}",
            get(pages::attachment),
        )
        .route(
            "/inbox/letters/{id}/attachments.zip",
            get(pages::attachments_zip),
        )
        .route("/inbox/access", get(access_page::access))
        .route("/inbox/access/grant", post(access_page::grant))
        .route("/inbox/access/revoke", post(access_page::revoke))
        .route("/inbox/contacts", get(contacts_page::contacts))
        .route("/inbox/contacts/own", post(contacts_page::save_own))
        .route(
            "/inbox/contacts/addresses",
            post(contacts_page::save_addresses),
        )
        .route("/inbox/contacts/add", post(contacts_page::add))
        .route("/inbox/contacts/remove", post(contacts_page::remove))
        .route("/inbox/lang/{code}", get(pages::switch_language))
        .route("/inbox/assets/inbox.css", get(stylesheet))
        .route("/inbox/assets/inbox.js", get(script))
        // Not a fallback: the composition root merges this router with the API's, which has
        // its own fallback.
        .route(
            "/inbox/{*rest}",
            get(pages::not_found).post(pages::not_found),
        );
    if demo {
        r = r.route("/inbox/login/demo", post(pages::demo_login));
    }
    if web.provider.is_some() {
        r = r
            .route("/inbox/login/oidc", get(pages::oidc_login))
            .route("/inbox/login/callback", get(pages::oidc_callback));
    }
    r.layer(axum::middleware::from_fn_with_state(
        web.clone(),
        security_headers,
    ))
    .with_state(web)
}

/// The Content-Security-Policy of every inbox page: nothing but Melding's own stylesheet,
/// script and images, forms only to Melding, never framed. No inline script or style runs,
/// and nothing from another origin loads. With a login provider, forms may also lead to the
/// provider's origins (logout ends the login there).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Adds the inbox's security headers to an answer: [`CONTENT_SECURITY_POLICY`] (an attachment
/// keeps its own, stricter `sandbox` policy), `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: same-origin`, `X-Frame-Options: DENY`, and `Cache-Control: no-store` on
/// everything but the stylesheet, so letters do not stay in shared or back-button caches.
async fn security_headers(State(web): State<Web>, req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with("/inbox/assets/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let origins = web
            .provider
            .as_ref()
            .map(|p| p.form_action_origins())
            .unwrap_or_default();
        let csp = if origins.is_empty() {
            HeaderValue::from_static(CONTENT_SECURITY_POLICY)
        } else {
            let with = CONTENT_SECURITY_POLICY.replace(
                "form-action 'self'",
                &format!("form-action 'self' {}", origins.join(" ")),
            );
            HeaderValue::from_str(&with)
                .unwrap_or(HeaderValue::from_static(CONTENT_SECURITY_POLICY))
        };
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

async fn stylesheet() -> Response {
    asset(
        include_str!("../assets/inbox.css"),
        "text/css; charset=utf-8",
    )
}

async fn script() -> Response {
    asset(
        include_str!("../assets/inbox.js"),
        "text/javascript; charset=utf-8",
    )
}

/// One of the inbox's own assets, cacheable for an hour.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = Response::new(axum::body::Body::from(body));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}
