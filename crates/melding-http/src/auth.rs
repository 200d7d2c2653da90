//! Bearer-token authentication and the route-level policies of the Correspondence API.
//!
//! Tokens are JWTs from trusted issuers (keys from a JWKS, algorithms pinned, `iss`, `aud` and
//! `exp` checked with no leeway). The caller's party comes from, in the reference's order
//! (§1.4), `c` (a party URN; how a self-identified user's token names them), `pid` (a person)
//! or the `consumer` / `urn:altinn:orgNumber` claim (an organisation). The built-in development
//! issuer (`melding token`) lives in `dev_issuer.rs` and is re-exported here.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use melding_core::{Principal, scopes};
use melding_domain::{NationalId, OrgNumber, Party, Recipient};
use serde::{Deserialize, Serialize};

use crate::AppState;
pub use crate::dev_issuer::{DEV_AUDIENCE, DEV_ISSUER, DevIssuer};
use crate::error::ApiError;

/// An issuer whose tokens Melding accepts.
#[derive(Clone)]
pub struct TrustedIssuer {
    pub issuer: String,
    pub audience: String,
    pub algorithms: Vec<Algorithm>,
    pub keys: JwkSet,
}

impl std::fmt::Debug for TrustedIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("keys", &self.keys.keys.len())
            .finish()
    }
}

/// Verifies tokens against the trusted issuers.
#[derive(Debug, Clone, Default)]
pub struct Authenticator {
    issuers: Vec<TrustedIssuer>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Consumer {
    #[serde(default)]
    pub authority: Option<String>,
    #[serde(rename = "ID")]
    pub id: String,
}

/// The claims Melding reads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub scope: Option<String>,
    /// A party URN, read before every other claim (reference §1.4, as Dialogporten's party
    /// claim). A self-identified user's token names the user here:
    /// `urn:altinn:person:idporten-email:kari@example.no` or
    /// `urn:altinn:person:legacy-selfidentified:kari77`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<Consumer>,
    #[serde(
        default,
        rename = "urn:altinn:orgNumber",
        skip_serializing_if = "Option::is_none"
    )]
    pub org_number: Option<String>,
}

impl Claims {
    /// The party the token speaks for; `None` when it names none, or names one in a form that
    /// does not parse.
    fn party(&self) -> Option<Party> {
        if let Some(c) = &self.c {
            return Recipient::parse(c).ok().map(|r| r.party().clone());
        }
        if let Some(pid) = &self.pid {
            return NationalId::parse(pid).ok().map(Party::Person);
        }
        let org = self
            .org_number
            .clone()
            .or_else(|| self.consumer.as_ref().map(|c| c.id.clone()))?;
        let digits = org.rsplit(':').next().unwrap_or(&org);
        OrgNumber::parse(digits).ok().map(Party::Organization)
    }
}

/// Why a bearer token was refused, for the `error_description` of the 401's
/// `WWW-Authenticate: Bearer error="invalid_token"` challenge (RFC 6750 §3.1) and the access
/// log. It says which check failed and nothing about the token or the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not a JWT: wrong number of parts, bad base64 or JSON, a claim missing or of the wrong type.
    Malformed,
    /// `exp` has passed (checked with no leeway, reference §1.1).
    Expired,
    /// `nbf` lies in the future.
    NotYetValid,
    /// No trusted issuer has the key (`kid`) or algorithm, or the signature does not verify.
    BadSignatureOrUnknownKey,
    /// Signed by a trusted key, but `iss` or `aud` is not the one that key's issuer uses.
    WrongIssuerOrAudience,
}

impl TokenProblem {
    /// The short, ASCII `error_description` (RFC 6750 §3: no `"` or `\`).
    pub fn description(self) -> &'static str {
        match self {
            TokenProblem::Malformed => "The token is malformed",
            TokenProblem::Expired => "The token has expired",
            TokenProblem::NotYetValid => "The token is not valid yet",
            TokenProblem::BadSignatureOrUnknownKey => {
                "The token has a bad signature or an unknown key"
            }
            TokenProblem::WrongIssuerOrAudience => "The token has the wrong issuer or audience",
        }
    }

    /// How specific a failure is: a token that a trusted key verified but whose claims failed
    /// says more than one no key verified.
    fn rank(self) -> u8 {
        match self {
            TokenProblem::BadSignatureOrUnknownKey => 0,
            TokenProblem::Malformed => 1,
            TokenProblem::WrongIssuerOrAudience => 2,
            TokenProblem::NotYetValid => 3,
            TokenProblem::Expired => 4,
        }
    }

    fn of(e: &jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::ExpiredSignature => TokenProblem::Expired,
            K::ImmatureSignature => TokenProblem::NotYetValid,
            K::InvalidIssuer | K::InvalidAudience => TokenProblem::WrongIssuerOrAudience,
            K::InvalidSignature
            | K::InvalidAlgorithm
            | K::InvalidAlgorithmName
            | K::InvalidKeyFormat
            | K::InvalidEcdsaKey
            | K::InvalidEddsaKey
            | K::UnsupportedAlgorithm
            | K::InvalidRsaKey(_)
            | K::MissingAlgorithm => TokenProblem::BadSignatureOrUnknownKey,
            _ => TokenProblem::Malformed,
        }
    }
}

impl std::fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

impl Authenticator {
    pub fn new(issuers: Vec<TrustedIssuer>) -> Self {
        Self { issuers }
    }

    /// The verified claims of `token`, or `None` if no trusted issuer vouches for it.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        self.check(token).ok()
    }

    /// The verified claims of `token`, or why no trusted issuer vouches for it. Each issuer
    /// whose pinned algorithms include the token's is tried with its key for the token's `kid`
    /// (or every key when there is none); `exp`, `nbf`, `iss` and `aud` are checked with no
    /// leeway. When every attempt fails, the most specific failure is reported.
    pub fn check(&self, token: &str) -> Result<Claims, TokenProblem> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenProblem::Malformed)?;
        let mut worst = TokenProblem::BadSignatureOrUnknownKey;
        for issuer in &self.issuers {
            if !issuer.algorithms.contains(&header.alg) {
                continue;
            }
            let mut validation = Validation::new(header.alg);
            validation.algorithms = issuer.algorithms.clone();
            validation.set_issuer(&[&issuer.issuer]);
            validation.set_audience(&[&issuer.audience]);
            validation.leeway = 0;
            validation.validate_nbf = true;
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            let candidates: Vec<&Jwk> = match &header.kid {
                Some(kid) => issuer.keys.find(kid).into_iter().collect(),
                None => issuer.keys.keys.iter().collect(),
            };
            for jwk in candidates {
                let Ok(key) = DecodingKey::from_jwk(jwk) else {
                    continue;
                };
                match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
                    Ok(data) => return Ok(data.claims),
                    Err(e) => {
                        let problem = TokenProblem::of(&e);
                        if problem.rank() > worst.rank() {
                            worst = problem;
                        }
                    }
                }
            }
        }
        Err(worst)
    }
}

/// A caller with a verified token. Extracting it answers 401 (empty body,
/// `WWW-Authenticate: Bearer`, with `error="invalid_token"` and why when a token was given)
/// when the token is missing or not trusted.
#[derive(Debug, Clone)]
pub struct Caller {
    claims: Claims,
    scopes: Vec<String>,
}

/// The route-level gates of the reference (§1.3). Failing one answers 403 with an empty body
/// and `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` naming what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Sender,
    Recipient,
    SenderOrRecipient,
    /// Altinn's *NotificationCheck*: the system scope `altinn:system/notifications.condition.check`
    /// that Altinn Notifications' Maskinporten token carries (reference §1.3). Melding has one
    /// token scheme, so any trusted token with that scope passes; it needs no party.
    NotificationCheck,
    /// Altinn's *CheckAllowForwardingPolicy*: the scope `altinn:correspondence.forward.check`
    /// (reference §1.3, §4.12); like [`Policy::NotificationCheck`] it needs no party.
    CheckAllowForwarding,
}

impl Policy {
    /// The scopes of the policy, space-separated as in RFC 6750's `scope` attribute; for
    /// [`Policy::SenderOrRecipient`] either one passes.
    pub fn scope(self) -> &'static str {
        match self {
            Policy::Sender => scopes::WRITE,
            Policy::Recipient => scopes::READ,
            Policy::SenderOrRecipient => "altinn:correspondence.write altinn:correspondence.read",
            Policy::NotificationCheck => scopes::NOTIFICATION_CHECK,
            Policy::CheckAllowForwarding => scopes::FORWARD_CHECK,
        }
    }
}

impl Caller {
    pub fn require(&self, policy: Policy) -> Result<&Self, ApiError> {
        let has = |s: &str| self.scopes.iter().any(|x| x == s);
        let ok = match policy {
            Policy::Sender => has(scopes::WRITE),
            Policy::Recipient => has(scopes::READ),
            Policy::SenderOrRecipient => has(scopes::WRITE) || has(scopes::READ),
            Policy::NotificationCheck => has(scopes::NOTIFICATION_CHECK),
            Policy::CheckAllowForwarding => has(scopes::FORWARD_CHECK),
        };
        if ok {
            Ok(self)
        } else {
            Err(ApiError::Forbidden {
                scope: policy.scope(),
            })
        }
    }

    /// The party the token speaks for; 401/4006 when the token names none.
    pub fn principal(&self) -> Result<Principal, ApiError> {
        let party = self
            .claims
            .party()
            .ok_or(ApiError::Rule(melding_core::Rule::CallerUnknown))?;
        Ok(Principal::new(party, self.scopes.clone()))
    }

    /// Passes `policy` and yields the principal.
    pub fn authorize(&self, policy: Policy) -> Result<Principal, ApiError> {
        self.require(policy)?.principal()
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated(None))?;
        // Another scheme (Basic, …) counts as no credentials: no error code (RFC 6750 §3.1).
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(ApiError::Unauthenticated(None))?
            .trim();
        let claims = state
            .auth
            .check(token)
            .map_err(|p| ApiError::Unauthenticated(Some(p)))?;
        let scopes = claims
            .scope
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Ok(Caller { claims, scopes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::{Duration, Utc};
    use melding_domain::SelfIdentified;

    fn org() -> Party {
        Party::Organization(OrgNumber::parse("991825827").unwrap())
    }

    #[test]
    fn minted_tokens_verify_and_name_their_party() {
        let dev = DevIssuer::generate();
        let auth = Authenticator::new(vec![dev.trusted_issuer()]);
        let token = dev.mint(
            &org(),
            "altinn:correspondence.write",
            Duration::hours(1),
            Utc::now(),
        );
        let claims = auth.verify(&token).unwrap();
        assert_eq!(claims.party(), Some(org()));
        let person = Party::Person(NationalId::parse("08089403198").unwrap());
        let token = dev.mint(
            &person,
            "altinn:correspondence.read",
            Duration::hours(1),
            Utc::now(),
        );
        assert_eq!(auth.verify(&token).unwrap().party(), Some(person));
        for user in [
            SelfIdentified::idporten_email("kari@example.no").unwrap(),
            SelfIdentified::legacy("kari77").unwrap(),
        ] {
            let party = Party::SelfIdentified(user);
            let token = dev.mint(
                &party,
                "altinn:correspondence.read",
                Duration::hours(1),
                Utc::now(),
            );
            let claims = auth.verify(&token).unwrap();
            assert_eq!(claims.c, Some(party.urn()));
            assert_eq!(claims.party(), Some(party));
        }
    }

    #[test]
    fn the_party_claim_comes_first_and_must_parse() {
        let claims = |c: Option<&str>| Claims {
            iss: DEV_ISSUER.into(),
            aud: DEV_AUDIENCE.into(),
            exp: 0,
            iat: None,
            scope: None,
            c: c.map(str::to_owned),
            pid: Some("08089403198".into()),
            consumer: None,
            org_number: None,
        };
        assert_eq!(
            claims(Some("urn:altinn:person:legacy-selfidentified:kari77")).party(),
            Some(Party::SelfIdentified(
                SelfIdentified::legacy("kari77").unwrap()
            ))
        );
        assert_eq!(
            claims(None).party(),
            Some(Party::Person(NationalId::parse("08089403198").unwrap()))
        );
        assert_eq!(
            claims(Some("urn:altinn:person:idporten-email:nei")).party(),
            None
        );
    }

    #[test]
    fn expired_foreign_and_tampered_tokens_are_refused() {
        let dev = DevIssuer::generate();
        let auth = Authenticator::new(vec![dev.trusted_issuer()]);
        let expired = dev.mint(&org(), "s", Duration::seconds(-5), Utc::now());
        assert!(auth.verify(&expired).is_none());
        let stranger = DevIssuer::generate().mint(&org(), "s", Duration::hours(1), Utc::now());
        assert!(auth.verify(&stranger).is_none());
        let good = dev.mint(&org(), "s", Duration::hours(1), Utc::now());
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(br#"{"iss":"melding-dev","aud":"melding","exp":99999999999,"scope":"altinn:correspondence.write","consumer":{"ID":"0192:974760673"}}"#);
        parts[1] = &forged_claims;
        assert!(auth.verify(&parts.join(".")).is_none());
        assert!(auth.verify("not-a-token").is_none());
    }

    #[test]
    fn dev_key_persists_in_the_data_directory() {
        let dir = std::env::temp_dir().join(format!("melding-key-{}", uuid::Uuid::new_v4()));
        let a = DevIssuer::load_or_create(&dir).unwrap();
        let b = DevIssuer::load_or_create(&dir).unwrap();
        let token = a.mint(&org(), "s", Duration::hours(1), Utc::now());
        assert!(
            Authenticator::new(vec![b.trusted_issuer()])
                .verify(&token)
                .is_some()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
