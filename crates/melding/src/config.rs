//! Settings: documented defaults, then the config file, then `MELDING_*` environment variables
//! and command-line flags (clap reads both). `melding.example.toml` at the repository root is the
//! commented reference.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use melding_http::TrustedIssuer;
use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./melding-data";

/// The config file's shape. Unknown keys are an error, so a typo never passes silently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    /// Where Prometheus scrapes `/metrics`; off when unset.
    pub metrics_listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL; unset for SQLite in the data directory.
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    /// How long a node's claim on a job lasts before another node may take it over.
    pub job_lease_seconds: Option<u32>,
    /// Background jobs a node runs at the same time.
    pub job_concurrency: Option<usize>,
    /// API requests served at once; more are answered 503 with `Retry-After: 1`.
    pub max_in_flight: Option<usize>,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub attachments: AttachmentsConfig,
    /// Malware scanning of attachments; off when unset.
    pub scanner: Option<ScannerConfig>,
}

/// How the API answers browsers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Browser origins (`https://af.altinn.no`, or `https://*.altinn.no` for sub-domains) allowed
    /// to read a letter's content (`GET …/correspondence/{id}/content`) with CORS, as Altinn's
    /// inbox does (reference §0). None by default.
    #[serde(default)]
    pub cors_origins: Vec<String>,
}

/// Where attachment bytes are kept, and their rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsConfig {
    #[serde(default)]
    pub storage: Storage,
    /// The shortest `expirationInDays` accepted (Altinn: 14 in production, 1 in test).
    pub min_expiration_days: Option<i32>,
    pub s3: Option<melding_blob::S3Config>,
    pub azure: Option<melding_blob::AzureConfig>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// Files under `<data-dir>/attachments`.
    #[default]
    Local,
    S3,
    Azure,
}

/// A clamd to scan every uploaded attachment before it is published.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    /// `tcp://host:port`, `host:port`, `unix:///path` or an absolute socket path.
    pub clamd: String,
    /// Limit on one scan, connect included.
    #[serde(default = "scan_timeout")]
    pub timeout_seconds: u64,
}

fn scan_timeout() -> u64 {
    300
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Trust tokens minted by `melding token` with this data directory's key.
    #[serde(default = "yes")]
    pub dev_issuer: bool,
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            dev_issuer: true,
            issuers: vec![],
        }
    }
}

fn yes() -> bool {
    true
}

/// A trusted token issuer: its `iss`, the `aud` tokens must carry, the algorithms allowed, and
/// where its public keys are (a JWKS file or URL).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    pub issuer: String,
    pub audience: String,
    pub algorithms: Vec<String>,
    pub jwks_file: Option<PathBuf>,
    pub jwks_url: Option<String>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in config file {}", path.display()))
    }
}

impl IssuerConfig {
    /// Loads the issuer's keys.
    pub async fn load(&self) -> anyhow::Result<TrustedIssuer> {
        let algorithms = self
            .algorithms
            .iter()
            .map(|a| Algorithm::from_str(a).map_err(|_| anyhow::anyhow!("unknown algorithm {a}")))
            .collect::<anyhow::Result<Vec<_>>>()
            .with_context(|| format!("issuer {}", self.issuer))?;
        if algorithms.is_empty() {
            bail!("issuer {}: list at least one algorithm", self.issuer);
        }
        let keys: JwkSet = match (&self.jwks_file, &self.jwks_url) {
            (Some(file), None) => serde_json::from_slice(
                &std::fs::read(file).with_context(|| format!("reading {}", file.display()))?,
            )
            .with_context(|| format!("parsing JWKS {}", file.display()))?,
            (None, Some(url)) => reqwest::Client::new()
                .get(url)
                .timeout(std::time::Duration::from_secs(10))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .with_context(|| format!("fetching JWKS {url}"))?
                .json()
                .await
                .with_context(|| format!("parsing JWKS {url}"))?,
            _ => bail!(
                "issuer {}: give exactly one of jwks_file and jwks_url",
                self.issuer
            ),
        };
        Ok(TrustedIssuer {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            algorithms,
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../../../melding.example.toml");
        let cfg: FileConfig = toml::from_str(text).unwrap();
        assert!(cfg.auth.dev_issuer);
    }

    #[tokio::test]
    async fn an_issuer_from_a_jwks_file_is_trusted_with_its_pinned_algorithms() {
        use melding_domain::{OrgNumber, Party};
        use melding_http::Authenticator;
        use melding_http::auth::{DEV_AUDIENCE, DEV_ISSUER, DevIssuer};

        let dir = std::env::temp_dir().join(format!("melding-jwks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let idp = DevIssuer::generate();
        let jwks = dir.join("jwks.json");
        std::fs::write(
            &jwks,
            serde_json::to_vec(&idp.trusted_issuer().keys).unwrap(),
        )
        .unwrap();
        let config = |algorithms: &[&str]| IssuerConfig {
            issuer: DEV_ISSUER.into(),
            audience: DEV_AUDIENCE.into(),
            algorithms: algorithms.iter().map(|a| a.to_string()).collect(),
            jwks_file: Some(jwks.clone()),
            jwks_url: None,
        };
        let party = Party::Organization(OrgNumber::parse("991825827").unwrap());
        let token = idp.mint(&party, "s", chrono::Duration::hours(1), chrono::Utc::now());

        let trusted = Authenticator::new(vec![config(&["EdDSA"]).load().await.unwrap()]);
        assert!(trusted.verify(&token).is_some());
        // The same keys with another algorithm pinned refuse the token.
        let pinned = Authenticator::new(vec![config(&["RS256"]).load().await.unwrap()]);
        assert!(pinned.verify(&token).is_none());
        assert!(config(&["NOPE"]).load().await.is_err());
        assert!(config(&[]).load().await.is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn attachment_storage_and_scanner_settings_parse() {
        let cfg: FileConfig = toml::from_str(
            r#"
            [attachments]
            storage = "s3"
            min_expiration_days = 1
            [attachments.s3]
            bucket = "b"
            endpoint = "http://127.0.0.1:5000"
            allow_http = true
            [scanner]
            clamd = "unix:///run/clamav/clamd.ctl"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.attachments.storage, Storage::S3);
        assert_eq!(cfg.attachments.s3.unwrap().bucket, "b");
        assert_eq!(cfg.scanner.unwrap().timeout_seconds, 300);
        assert_eq!(FileConfig::default().attachments.storage, Storage::Local);
        assert!(toml::from_str::<FileConfig>("[attachments]\nstorage = \"ftp\"").is_err());
    }

    #[test]
    fn cors_origins_parse_from_the_http_table() {
        let cfg: FileConfig =
            toml::from_str("[http]\ncors_origins = [\"https://af.altinn.no\"]").unwrap();
        assert_eq!(cfg.http.cors_origins, ["https://af.altinn.no"]);
        assert!(FileConfig::default().http.cors_origins.is_empty());
        assert!(toml::from_str::<FileConfig>("[http]\ncors = []").is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("lisen = \"127.0.0.1:1\"").is_err());
    }
}
