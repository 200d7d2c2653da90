//! Logging in with OpenID Connect (issue 17 item 1): the authorization code flow with PKCE
//! against a configured provider, compatible with ID-porten, through the `openidconnect` crate.
//! The person is the ID token's `pid` claim; `acr` gives the level of the login. Logging out
//! ends the login at the provider too (RP-initiated logout with `id_token_hint`).
//!
//! Between the redirect to the provider and the browser's return, the login's `state`, `nonce`
//! and PKCE verifier wait in a short-lived HttpOnly cookie of the browser that started it: the
//! return must carry the same `state` (no login forced on someone else's browser), the ID token
//! the same `nonce` (no replayed token), and the code exchange the verifier (no stolen code).

use std::sync::Arc;

use base64::Engine;
use melding_domain::NationalId;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, TokenResponse,
};
use tokio::sync::OnceCell;

/// The provider the inbox logs people in with. Its `Debug` leaves the client secret out.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The provider's issuer, e.g. `https://idporten.no`; its discovery document is read from
    /// `<issuer>/.well-known/openid-configuration` at the first login.
    pub issuer: String,
    /// Melding's client id at the provider.
    pub client_id: String,
    /// The client secret (`client_secret_basic`), if the provider gave one.
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: `<public_url>/inbox/login/callback`.
    pub redirect_url: String,
    /// Where the provider sends the browser after logging out: `<public_url>/inbox/login`.
    pub post_logout_redirect_url: String,
    /// The `acr_values` asked for (ID-porten: `idporten-loa-substantial` or
    /// `idporten-loa-high`); none asks for the provider's default.
    pub acr_values: Option<String>,
    /// Scopes asked for besides `openid` (ID-porten: `profile`).
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field("redirect_url", &self.redirect_url)
            .field("post_logout_redirect_url", &self.post_logout_redirect_url)
            .field("acr_values", &self.acr_values)
            .field("scopes", &self.scopes)
            .finish()
    }
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery found: the client, and the end-session endpoint if the provider has one.
struct Discovered {
    client: Client,
    end_session: Option<EndSessionUrl>,
}

/// Why a login with the provider failed. Each is shown to the person as a failed login; the
/// detail goes to the node's log.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OidcError {
    /// The provider could not be reached or its discovery document is unusable.
    #[error("the login provider's discovery failed: {0}")]
    Discovery(String),
    /// The browser came back without the login it started (no cookie, or another `state`).
    #[error("the login's state does not match")]
    State,
    /// The code exchange failed.
    #[error("the code exchange failed: {0}")]
    Exchange(String),
    /// The ID token is missing or does not verify (signature, issuer, audience, expiry, nonce).
    #[error("the ID token does not verify: {0}")]
    IdToken(String),
    /// The ID token names no person: no `pid`, or not a national identity number.
    #[error("the ID token has no valid pid claim")]
    NoPerson,
}

/// A login waiting for the provider's answer, as its cookie holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingLogin {
    state: String,
    nonce: String,
    verifier: String,
}

impl PendingLogin {
    /// The cookie's value: the three secrets joined by `|` (none of them holds one).
    pub(crate) fn to_cookie(&self) -> String {
        format!("{}|{}|{}", self.state, self.nonce, self.verifier)
    }

    /// Reads a cookie made by [`Self::to_cookie`].
    pub(crate) fn from_cookie(value: &str) -> Option<Self> {
        let mut parts = value.split('|');
        let (state, nonce, verifier) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || state.is_empty() || nonce.is_empty() || verifier.is_empty() {
            return None;
        }
        Some(Self {
            state: state.to_owned(),
            nonce: nonce.to_owned(),
            verifier: verifier.to_owned(),
        })
    }
}

/// A login the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedLogin {
    pub(crate) person: NationalId,
    pub(crate) acr: String,
    pub(crate) id_token: String,
}

/// The provider, discovered at the first login and remembered after.
pub(crate) struct Provider {
    settings: OidcSettings,
    http: openidconnect::reqwest::Client,
    discovered: OnceCell<Arc<Discovered>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

impl Provider {
    pub(crate) fn new(settings: OidcSettings) -> Self {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send Melding anywhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("a reqwest client without redirects builds");
        Self {
            settings,
            http,
            discovered: OnceCell::new(),
        }
    }

    /// The origins the browser may be sent to after a form (the CSP's `form-action`): the
    /// issuer's, and the end-session endpoint's once discovered.
    pub(crate) fn form_action_origins(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(u) = openidconnect::url::Url::parse(&self.settings.issuer) {
            out.push(u.origin().ascii_serialization());
        }
        if let Some(end) = self.discovered.get().and_then(|d| d.end_session.clone()) {
            let origin = end.url().origin().ascii_serialization();
            if !out.contains(&origin) {
                out.push(origin);
            }
        }
        out
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        self.discovered
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.settings.issuer.clone())
                    .map_err(|e| OidcError::Discovery(e.to_string()))?;
                let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| OidcError::Discovery(error_chain(&e)))?;
                let end_session = metadata.additional_metadata().end_session_endpoint.clone();
                let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
                    .map_err(|e| OidcError::Discovery(e.to_string()))?;
                let client = CoreClient::from_provider_metadata(
                    metadata,
                    ClientId::new(self.settings.client_id.clone()),
                    self.settings.client_secret.clone().map(ClientSecret::new),
                )
                .set_redirect_uri(redirect);
                Ok(Arc::new(Discovered {
                    client,
                    end_session,
                }))
            })
            .await
            .cloned()
    }

    /// Starts a login: the provider's authorization URL to send the browser to, with the
    /// login's secrets for its cookie. `ui_locales` is the inbox's language.
    pub(crate) async fn begin(
        &self,
        ui_locale: &str,
    ) -> Result<(openidconnect::url::Url, PendingLogin), OidcError> {
        let d = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_ui_locale(openidconnect::LanguageTag::new(ui_locale.to_owned()));
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(acr) = &self.settings.acr_values {
            for value in acr.split_whitespace() {
                request = request
                    .add_auth_context_value(AuthenticationContextClass::new(value.to_owned()));
            }
        }
        let (url, state, nonce) = request.url();
        Ok((
            url,
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
            },
        ))
    }

    /// Finishes a login from the provider's answer: checks `state` against the pending login,
    /// exchanges `code` with the PKCE verifier, and verifies the ID token (signature by the
    /// provider's keys, issuer, audience, expiry, nonce).
    pub(crate) async fn finish(
        &self,
        pending: &PendingLogin,
        state: &str,
        code: &str,
    ) -> Result<VerifiedLogin, OidcError> {
        if !crate::context::same_secret(&pending.state, state) {
            return Err(OidcError::State);
        }
        let d = self.discovered().await?;
        let response = d
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(error_chain(&e)))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::IdToken("the token response has no ID token".into()))?;
        let claims: &CoreIdTokenClaims = id_token
            .claims(
                &d.client.id_token_verifier(),
                &Nonce::new(pending.nonce.clone()),
            )
            .map_err(|e| OidcError::IdToken(error_chain(&e)))?;
        let acr = claims
            .auth_context_ref()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let raw = id_token.to_string();
        let person = pid_of(&raw).ok_or(OidcError::NoPerson)?;
        Ok(VerifiedLogin {
            person,
            acr,
            id_token: raw,
        })
    }

    /// Where to send the browser to end the login at the provider: its end-session endpoint
    /// with the ID token as hint and the login page to come back to; `None` when the provider
    /// has no such endpoint (or was never discovered) or the token does not parse.
    pub(crate) fn logout_url(&self, id_token: &str) -> Option<openidconnect::url::Url> {
        let d = self.discovered.get()?;
        let end = d.end_session.clone()?;
        let token: CoreIdToken = id_token.parse().ok()?;
        let back =
            PostLogoutRedirectUrl::new(self.settings.post_logout_redirect_url.clone()).ok()?;
        Some(
            LogoutRequest::from(end)
                .set_id_token_hint(&token)
                .set_client_id(ClientId::new(self.settings.client_id.clone()))
                .set_post_logout_redirect_uri(back)
                .http_get_url(),
        )
    }
}

/// The `pid` claim of an ID token whose signature and claims have been verified already:
/// `openidconnect` verifies the standard claims and ignores the rest, so the payload is read
/// once more for this one.
fn pid_of(id_token: &str) -> Option<NationalId> {
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    NationalId::parse(claims.get("pid")?.as_str()?).ok()
}

/// An error with its causes, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_login_round_trips_through_its_cookie() {
        let p = PendingLogin {
            state: "s-1".into(),
            nonce: "n_2".into(),
            verifier: "v.3~x".into(),
        };
        assert_eq!(PendingLogin::from_cookie(&p.to_cookie()), Some(p));
        assert_eq!(PendingLogin::from_cookie("a|b"), None);
        assert_eq!(PendingLogin::from_cookie("a|b|c|d"), None);
        assert_eq!(PendingLogin::from_cookie("a||c"), None);
    }

    #[test]
    fn the_person_is_the_pid_claim() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"abc","pid":"08089403198","acr":"idporten-loa-high"}"#);
        let token = format!("e30.{payload}.sig");
        assert_eq!(
            pid_of(&token),
            Some(NationalId::parse("08089403198").unwrap())
        );
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"abc"}"#);
        assert_eq!(pid_of(&format!("e30.{payload}.sig")), None);
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"pid":"12345678901"}"#);
        assert_eq!(
            pid_of(&format!("e30.{payload}.sig")),
            None,
            "not a valid national id"
        );
    }
}
