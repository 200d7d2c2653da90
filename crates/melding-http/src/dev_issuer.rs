//! The development issuer (`melding token`): an Ed25519 key kept in the data directory that
//! signs tokens a server on the same directory trusts when `[auth] dev_issuer` is on (DESIGN.md
//! decision 5). For trying Melding out and for tests; production trusts real issuers.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use melding_domain::Party;
use serde::{Deserialize, Serialize};

use crate::auth::{Claims, Consumer, TrustedIssuer};

/// Issuer name and audience of tokens minted by `melding token`.
pub const DEV_ISSUER: &str = "melding-dev";
pub const DEV_AUDIENCE: &str = "melding";

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410), followed by the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

#[derive(Serialize, Deserialize)]
struct DevKeyFile {
    kid: String,
    seed: String,
}

/// The development issuer's signing key.
#[derive(Clone)]
pub struct DevIssuer {
    kid: String,
    seed: [u8; 32],
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl DevIssuer {
    /// Where [`DevIssuer::load_or_create`] keeps the key in the keys directory `dir`.
    pub fn key_file(dir: &Path) -> std::path::PathBuf {
        dir.join("dev-issuer.json")
    }

    /// Loads the key from `dir/dev-issuer.json`, creating it (mode 0600) the first time.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Self> {
        let path = Self::key_file(dir);
        if path.exists() {
            let file: DevKeyFile = serde_json::from_slice(&std::fs::read(&path)?)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
            let seed: [u8; 32] = STANDARD
                .decode(&file.seed)
                .ok()
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| std::io::Error::other(format!("{}: bad seed", path.display())))?;
            return Ok(Self {
                kid: file.kid,
                seed,
            });
        }
        std::fs::create_dir_all(dir)?;
        let issuer = Self::generate();
        let body = serde_json::to_vec_pretty(&DevKeyFile {
            kid: issuer.kid.clone(),
            seed: STANDARD.encode(issuer.seed),
        })
        .map_err(std::io::Error::other)?;
        write_private(&path, &body)?;
        Ok(issuer)
    }

    /// A fresh key that lives only in memory (for tests).
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut seed);
        Self {
            kid: format!("dev-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            seed,
        }
    }

    /// The public half, as an issuer the authenticator trusts.
    pub fn trusted_issuer(&self) -> TrustedIssuer {
        let public = ed25519_dalek::SigningKey::from_bytes(&self.seed)
            .verifying_key()
            .to_bytes();
        let jwk: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "kid": self.kid, "x": URL_SAFE_NO_PAD.encode(public)
        }))
        .expect("a well-formed Ed25519 JWK");
        TrustedIssuer {
            issuer: DEV_ISSUER.into(),
            audience: DEV_AUDIENCE.into(),
            algorithms: vec![Algorithm::EdDSA],
            keys: JwkSet { keys: vec![jwk] },
        }
    }

    /// Signs a token for `party` with `scope`, valid for `ttl`.
    pub fn mint(
        &self,
        party: &Party,
        scope: &str,
        ttl: chrono::Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let (c, pid, consumer) = match party {
            Party::Person(p) => (None, Some(p.to_string()), None),
            Party::Organization(o) => (
                None,
                None,
                Some(Consumer {
                    authority: Some("iso6523-actorid-upis".into()),
                    id: format!("0192:{o}"),
                }),
            ),
            Party::SelfIdentified(u) => (Some(u.urn()), None, None),
        };
        let claims = Claims {
            iss: DEV_ISSUER.into(),
            aud: DEV_AUDIENCE.into(),
            exp: (now + ttl).timestamp(),
            iat: Some(now.timestamp()),
            scope: Some(scope.into()),
            c,
            pid,
            consumer,
            org_number: None,
        };
        self.sign(&claims)
    }

    /// Signs exactly these claims (for tests of unusual tokens): a [`Claims`], or any
    /// serialisable map such as a `serde_json::Value` with claims `Claims` lacks (`nbf`).
    pub fn sign<C: Serialize>(&self, claims: &C) -> String {
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&self.seed);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der))
            .expect("signing with a valid Ed25519 key")
    }
}

fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(body)?;
    f.sync_all()
}
