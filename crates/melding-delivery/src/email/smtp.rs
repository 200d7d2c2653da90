//! The real e-mail channel: SMTP submission through lettre's pooled async transport.
//!
//! Why lettre: it is the mature Rust SMTP client (`reference/dependencies-and-limits.md` §3,
//! "E-mail"): async over tokio, a connection pool, STARTTLS or implicit TLS over rustls, DKIM
//! signing, and it reports the server's reply, from which we keep the queue id.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::dkim::{DkimConfig, DkimSigningAlgorithm, DkimSigningKey};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{EmailMessage, EmailReceipt, EmailSender, build_message, message_id_for};
use crate::error::{PermanentKind, SendError};
use crate::secret::Secret;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection, no TLS. Only for a relay on the same host or a test server.
    None,
    /// STARTTLS is required (submission on port 587, RFC 6409); a server that does not offer it
    /// is a transient failure, never a fallback to plain text.
    StartTls,
    /// TLS from the first byte (port 465, RFC 8314).
    Implicit,
}

/// The user name and password for SMTP AUTH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    /// The SMTP user name.
    pub username: String,
    /// The password, redacted in `Debug`.
    pub password: Secret,
}

/// DKIM signing with a key from a file (RFC 6376; `reference/delivery-chain.md` §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimSettings {
    /// The selector, the `s=` tag: the key is published at `<selector>._domainkey.<domain>`.
    pub selector: String,
    /// The signing domain, the `d=` tag; align it with the `From` domain for DMARC.
    pub domain: String,
    /// The private key file, in the form lettre reads: for [`DkimAlgorithm::Rsa`] a PKCS#1 PEM
    /// (`-----BEGIN RSA PRIVATE KEY-----`, as `openssl genrsa -traditional 2048` writes it;
    /// PKCS#8 is not read); for [`DkimAlgorithm::Ed25519`] the base64 of the 32-byte raw key.
    pub key_file: PathBuf,
    /// The key's algorithm.
    pub algorithm: DkimAlgorithm,
}

/// The algorithm of a DKIM key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DkimAlgorithm {
    /// `rsa-sha256`.
    Rsa,
    /// `ed25519-sha256` (RFC 8463).
    Ed25519,
}

/// Settings of the SMTP channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The server's host name (also the name checked against its TLS certificate).
    pub host: String,
    /// The server's port: 587 for STARTTLS, 465 for implicit TLS, 25 for a local relay.
    pub port: u16,
    /// How the connection is protected.
    pub tls: SmtpTls,
    /// A PEM file with one more certificate authority to trust besides the built-in web roots,
    /// for a relay with a private CA (and for tests).
    pub extra_root_certificate: Option<PathBuf>,
    /// SMTP AUTH credentials, if the server wants them.
    pub credentials: Option<SmtpCredentials>,
    /// The most connections kept open to the server at once.
    pub pool_size: u32,
    /// How long one SMTP command may take before the attempt is a transient failure.
    pub timeout: Duration,
    /// The domain in generated `Message-ID`s (`<uuid@domain>`); use the sender domain.
    pub message_id_domain: String,
    /// Sign every message with DKIM when set.
    pub dkim: Option<DkimSettings>,
}

impl SmtpConfig {
    /// A configuration for `host:port` with the given TLS mode and the defaults: no extra root
    /// certificate, no credentials, 10 pooled connections, a 30-second command timeout,
    /// `message_id_domain` = `host`, no DKIM.
    pub fn new(host: impl Into<String>, port: u16, tls: SmtpTls) -> Self {
        let host = host.into();
        SmtpConfig {
            message_id_domain: host.clone(),
            host,
            port,
            tls,
            extra_root_certificate: None,
            credentials: None,
            pool_size: 10,
            timeout: Duration::from_secs(30),
            dkim: None,
        }
    }
}

/// Why an [`SmtpEmailSender`] could not be set up from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    /// A file named in the configuration could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The extra root certificate is not a PEM certificate, or TLS could not be configured.
    #[error("TLS settings: {0}")]
    Tls(String),
    /// The DKIM key could not be read as a key of the configured algorithm.
    #[error("DKIM key {path}: {message}")]
    DkimKey {
        /// The key file.
        path: PathBuf,
        /// What was wrong with it.
        message: String,
    },
}

/// Sends notification e-mail over SMTP with a pool of connections.
pub struct SmtpEmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    message_id_domain: String,
    dkim: Option<DkimConfig>,
}

impl std::fmt::Debug for SmtpEmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpEmailSender")
            .field("message_id_domain", &self.message_id_domain)
            .field("dkim", &self.dkim.is_some())
            .finish_non_exhaustive()
    }
}

impl SmtpEmailSender {
    /// Sets up the transport. No connection is made until the first send. Call it inside a
    /// tokio runtime (the pool starts a task that closes idle connections).
    ///
    /// Errors: [`SmtpConfigError`] when a configured file cannot be read or is not what it
    /// should be.
    pub fn new(config: &SmtpConfig) -> Result<Self, SmtpConfigError> {
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
                .port(config.port)
                .timeout(Some(config.timeout))
                .pool_config(PoolConfig::new().max_size(config.pool_size));
        if config.tls != SmtpTls::None {
            let mut tls = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.extra_root_certificate {
                let pem = read(path)?;
                let certificate = Certificate::from_pem(pem.as_bytes())
                    .map_err(|e| SmtpConfigError::Tls(format!("{}: {e}", path.display())))?;
                tls = tls.add_root_certificate(certificate);
            }
            let parameters = tls
                .build_rustls()
                .map_err(|e| SmtpConfigError::Tls(e.to_string()))?;
            builder = builder.tls(match config.tls {
                SmtpTls::StartTls => Tls::Required(parameters),
                _ => Tls::Wrapper(parameters),
            });
        } else {
            builder = builder.tls(Tls::None);
        }
        if let Some(credentials) = &config.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.username.clone(),
                credentials.password.expose().to_owned(),
            ));
        }
        let dkim = config.dkim.as_ref().map(load_dkim).transpose()?;
        Ok(SmtpEmailSender {
            transport: builder.build(),
            message_id_domain: config.message_id_domain.clone(),
            dkim,
        })
    }
}

fn read(path: &Path) -> Result<String, SmtpConfigError> {
    std::fs::read_to_string(path).map_err(|source| SmtpConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn load_dkim(settings: &DkimSettings) -> Result<DkimConfig, SmtpConfigError> {
    let pem = read(&settings.key_file)?;
    let algorithm = match settings.algorithm {
        DkimAlgorithm::Rsa => DkimSigningAlgorithm::Rsa,
        DkimAlgorithm::Ed25519 => DkimSigningAlgorithm::Ed25519,
    };
    let key = DkimSigningKey::new(pem.trim(), algorithm).map_err(|e| SmtpConfigError::DkimKey {
        path: settings.key_file.clone(),
        message: e.to_string(),
    })?;
    Ok(DkimConfig::default_config(
        settings.selector.clone(),
        settings.domain.clone(),
        key,
    ))
}

#[async_trait]
impl EmailSender for SmtpEmailSender {
    #[tracing::instrument(skip_all, fields(message_id))]
    async fn send(&self, message: &EmailMessage) -> Result<EmailReceipt, SendError> {
        let message_id = message_id_for(message, &self.message_id_domain);
        tracing::Span::current().record("message_id", message_id.as_str());
        let mut mime = build_message(message, &message_id)?;
        if let Some(dkim) = &self.dkim {
            mime.sign(dkim);
        }
        match self.transport.send(mime).await {
            Ok(response) => {
                let text = response.message().collect::<Vec<_>>().join(" ");
                let server_reply = format!("{} {text}", response.code());
                Ok(EmailReceipt {
                    queue_id: queue_id(&server_reply),
                    message_id,
                    server_reply,
                })
            }
            Err(error) => {
                let classified = classify(&error);
                tracing::warn!(%error, retryable = classified.is_retryable(), "SMTP send failed");
                Err(classified)
            }
        }
    }
}

/// Sorts a lettre error into our classes: a 5xx reply is permanent (an RFC 3463 `5.1.x`
/// addressing status makes it an invalid recipient); everything else is transient: a 4xx
/// reply, a refused, dropped or timed-out connection, a TLS failure, and what lettre calls a
/// client error (the server lacks STARTTLS, SMTPUTF8 or an AUTH mechanism we need), since those
/// are settings an operator changes. A message that keeps failing that way ends when its
/// notification expires (Altinn's `Failed_TTL`, `reference/delivery-chain.md` §1.11).
fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    let text = error.to_string();
    if error.is_permanent() {
        let kind = if has_addressing_status(&text) {
            PermanentKind::InvalidRecipient
        } else {
            PermanentKind::Rejected
        };
        SendError::permanent(kind, text)
    } else {
        SendError::transient(text)
    }
}

/// Whether a server reply carries an RFC 3463 "addressing status" `5.1.x` (bad mailbox, bad
/// domain, bad syntax).
fn has_addressing_status(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .any(|word| word.starts_with("5.1.") && word.len() > 4)
}

/// The queue id in a Postfix-style reply (`250 2.0.0 Ok: queued as 4XyZ1`); `None` when the
/// server names none.
fn queue_id(reply: &str) -> Option<String> {
    let (_, rest) = reply.split_once("queued as ")?;
    let id: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ')' && *c != ';')
        .collect();
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_from_server_replies() {
        assert_eq!(
            queue_id("250 2.0.0 Ok: queued as 4XyZ1").as_deref(),
            Some("4XyZ1")
        );
        assert_eq!(
            queue_id("250 2.0.0 Ok: queued as ABC; id=1").as_deref(),
            Some("ABC")
        );
        assert_eq!(queue_id("250 OK"), None);
        assert_eq!(queue_id("250 queued as "), None);
    }

    #[test]
    fn addressing_statuses() {
        assert!(has_addressing_status(
            "permanent error (550): 5.1.1 No such user"
        ));
        assert!(has_addressing_status(
            "553 5.1.3 Bad recipient address syntax"
        ));
        assert!(!has_addressing_status("554 5.7.1 Message rejected as spam"));
        assert!(!has_addressing_status("550 mailbox unavailable"));
    }
}
