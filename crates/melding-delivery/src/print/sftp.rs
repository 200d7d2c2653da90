//! The real print channel: a print house's SFTP server. Letters are uploaded into its upload
//! directory and its receipts read from its receipts directory, in the same layout and formats
//! as the spool ([`super::SpoolPrintProvider`]).
//!
//! Why russh and russh-sftp rather than ssh2: they are pure Rust and async on tokio, so an
//! upload does not hold a blocking thread and nothing links libssh2 or builds OpenSSL from C;
//! their cryptography is aws-lc-rs, which the SMTP channel (lettre) already brings; both are
//! maintained (russh by the Warpgate project, releases through 2026). ssh2 wraps the C libssh2
//! with a blocking API and would need `spawn_blocking` around every call.
//!
//! Each call opens its own SSH connection and closes it when done. Print orders come in tens
//! or hundreds a day, so a pooled connection would save little and would need reconnect logic
//! of its own; this way a print house's server that was down simply works on the next call.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use russh::client::{self, Handle};
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::StatusCode;
use tokio::io::AsyncWriteExt;

use super::manifest::{manifest_file_name, pdf_file_name};
use super::receipt::is_receipt_file_name;
use super::{
    PrintManifest, PrintOrder, PrintProvider, PrintReceipt, PrintSubmission, ReceiptFile,
    ReceiptId, check_printable,
};
use crate::error::SendError;
use crate::secret::Secret;

/// A pinned SSH host key, as `ssh-keygen -l -E sha256 -f <key>.pub` prints it:
/// `SHA256:` followed by the unpadded base64 of the key's SHA-256 (43 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKeyFingerprint(String);

impl HostKeyFingerprint {
    /// Parses a fingerprint.
    ///
    /// Errors: [`SftpSetupError::Fingerprint`] when it is not `SHA256:` and 43 base64
    /// characters.
    pub fn parse(s: &str) -> Result<Self, SftpSetupError> {
        let s = s.trim();
        let ok = s.strip_prefix("SHA256:").is_some_and(|b64| {
            b64.len() == 43
                && b64
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        });
        if ok {
            Ok(HostKeyFingerprint(s.to_owned()))
        } else {
            Err(SftpSetupError::Fingerprint(s.to_owned()))
        }
    }

    /// The fingerprint as text, `SHA256:…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How we log in to the print house's server.
#[derive(Debug, Clone)]
pub struct SftpAuth {
    /// The private key in OpenSSH or PEM text form (Ed25519, ECDSA or RSA), as read from its
    /// file; its public half is in the print house's `authorized_keys`.
    pub private_key: Secret,
    /// The passphrase the key is encrypted with, if it is.
    pub passphrase: Option<Secret>,
    /// A password, for servers that ask for one after the key (OpenSSH
    /// `AuthenticationMethods publickey,password`) or instead of it.
    pub password: Option<Secret>,
}

/// Where and how to reach a print house over SFTP.
#[derive(Debug, Clone)]
pub struct SftpPrintConfig {
    /// The server's host name or IP address.
    pub host: String,
    /// The server's port, usually 22.
    pub port: u16,
    /// The user to log in as.
    pub username: String,
    /// The credentials.
    pub auth: SftpAuth,
    /// The server host keys we accept. A server showing any other key is refused (no "trust
    /// on first use"); with none pinned every server is refused.
    pub host_keys: Vec<HostKeyFingerprint>,
    /// The remote directory letters are uploaded into (absolute, or relative to the login
    /// directory); created if missing.
    pub outbox_dir: String,
    /// The remote directory receipts are read from; acknowledged receipts go to
    /// `<receipts_dir>/processed`, unreadable ones to `<receipts_dir>/unreadable`.
    pub receipts_dir: String,
    /// How long connecting and logging in may take, and how long one SFTP request may wait
    /// for its answer.
    pub timeout: Duration,
}

impl SftpPrintConfig {
    /// A configuration for `username@host:port` with the outbox `upload` and receipts
    /// `receipts` (relative to the login directory) and a 30 s timeout.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        username: impl Into<String>,
        auth: SftpAuth,
        host_keys: Vec<HostKeyFingerprint>,
    ) -> Self {
        SftpPrintConfig {
            host: host.into(),
            port,
            username: username.into(),
            auth,
            host_keys,
            outbox_dir: "upload".into(),
            receipts_dir: "receipts".into(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SftpSetupError {
    /// The private key cannot be read (not a key, wrong passphrase).
    #[error("the SFTP private key cannot be read: {0}")]
    PrivateKey(String),
    /// A pinned host key fingerprint is not of the form `SHA256:<43 base64 characters>`.
    #[error("not a SHA256 host key fingerprint: {0:?}")]
    Fingerprint(String),
}

/// Uploads letters to a print house over SFTP and reads its receipts there. Layout, manifest
/// and receipt files as [`super::SpoolPrintProvider`] documents, under
/// [`SftpPrintConfig::outbox_dir`] and [`SftpPrintConfig::receipts_dir`].
///
/// Each file is uploaded as `<name>.partial` and renamed when complete, the PDF first and the
/// manifest last, so the print house never sees half a file and acts on a letter only when
/// its manifest appears. SFTP's rename never replaces an existing file, so a manifest once
/// published is never overwritten; a submit that finds the manifest there answers
/// `already_submitted`. (A print house that moves manifests away after pick-up must itself
/// recognise a repeated reference.)
#[derive(Debug, Clone)]
pub struct SftpPrintProvider {
    config: Arc<SftpPrintConfig>,
    key: Arc<PrivateKey>,
    ssh: Arc<client::Config>,
}

impl SftpPrintProvider {
    /// A provider for `config`; reads the private key now, connects only when used.
    ///
    /// Errors: [`SftpSetupError::PrivateKey`] when the key cannot be read.
    pub fn new(config: SftpPrintConfig) -> Result<Self, SftpSetupError> {
        let key = russh::keys::decode_secret_key(
            config.auth.private_key.expose(),
            config.auth.passphrase.as_ref().map(Secret::expose),
        )
        .map_err(|e| SftpSetupError::PrivateKey(e.to_string()))?;
        let ssh = client::Config {
            inactivity_timeout: Some(config.timeout),
            ..client::Config::default()
        };
        Ok(SftpPrintProvider {
            config: Arc::new(config),
            key: Arc::new(key),
            ssh: Arc::new(ssh),
        })
    }

    fn remote(dir: &str, name: &str) -> String {
        let dir = dir.trim_end_matches('/');
        if dir.is_empty() {
            name.to_owned()
        } else {
            format!("{dir}/{name}")
        }
    }

    /// Connects, checks the host key, logs in and starts the SFTP subsystem.
    async fn connect(&self) -> Result<Connection, SendError> {
        let config = &self.config;
        let seen = Arc::new(Mutex::new(None));
        let handler = PinnedHostKey {
            pinned: config.host_keys.clone(),
            seen: seen.clone(),
        };
        let target = format!("{}:{}", config.host, config.port);
        let login = async {
            let mut handle = client::connect(
                self.ssh.clone(),
                (config.host.as_str(), config.port),
                handler,
            )
            .await
            .map_err(|e| {
                match seen.lock().expect("host key lock").take() {
                    // The key exchange got as far as our check, which refused the key.
                    Some(Refused(fingerprint)) => SendError::transient(format!(
                        "SFTP {target}: the server's host key {fingerprint} is not one of \
                         the pinned keys; refusing to connect"
                    )),
                    None => SendError::transient(format!("SFTP connect to {target}: {e}")),
                }
            })?;
            let ssh = |e: russh::Error| SendError::transient(format!("SFTP {target}: {e}"));
            let hash = if self.key.algorithm().is_rsa() {
                handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(ssh)?
                    .flatten()
            } else {
                None
            };
            let mut auth = handle
                .authenticate_publickey(
                    config.username.clone(),
                    PrivateKeyWithHashAlg::new(self.key.clone(), hash),
                )
                .await
                .map_err(ssh)?;
            if let (false, Some(password)) = (auth.success(), &config.auth.password) {
                auth = handle
                    .authenticate_password(config.username.clone(), password.expose())
                    .await
                    .map_err(ssh)?;
            }
            if !auth.success() {
                return Err(SendError::transient(format!(
                    "SFTP {target}: the server refused to log in {} with our credentials",
                    config.username
                )));
            }
            let channel = handle.channel_open_session().await.map_err(ssh)?;
            channel.request_subsystem(true, "sftp").await.map_err(ssh)?;
            let sftp = SftpSession::new(channel.into_stream())
                .await
                .map_err(|e| SendError::transient(format!("SFTP {target}: start SFTP: {e}")))?;
            Ok(Connection {
                handle,
                sftp,
                target: target.clone(),
            })
        };
        let connection = tokio::time::timeout(config.timeout, login)
            .await
            .map_err(|_| {
                SendError::transient(format!(
                    "SFTP {target}: no login within {} s",
                    config.timeout.as_secs()
                ))
            })??;
        connection.sftp.set_timeout(config.timeout.as_secs().max(1));
        Ok(connection)
    }
}

/// Records the fingerprint of a host key the check refused, so that the error can name it.
#[derive(Debug)]
struct Refused(String);

/// The SSH client handler: accepts the server only if its host key is pinned.
struct PinnedHostKey {
    pinned: Vec<HostKeyFingerprint>,
    seen: Arc<Mutex<Option<Refused>>>,
}

impl client::Handler for PinnedHostKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let fingerprint = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                key.fingerprint(HashAlg::Sha256).to_string()
            }
            // Host certificates are not part of the pinning scheme.
            PublicKeyOrCertificate::Certificate(cert) => format!(
                "(a host certificate for key {})",
                cert.public_key().fingerprint(HashAlg::Sha256)
            ),
        };
        let accepted = self.pinned.iter().any(|p| p.as_str() == fingerprint);
        if !accepted {
            *self.seen.lock().expect("host key lock") = Some(Refused(fingerprint));
        }
        Ok(accepted)
    }
}

/// One logged-in SFTP session.
struct Connection {
    handle: Handle<PinnedHostKey>,
    sftp: SftpSession,
    target: String,
}

impl Connection {
    fn error(&self, what: &str, e: SftpError) -> SendError {
        SendError::transient(format!("SFTP {}: {what}: {e}", self.target))
    }

    async fn exists(&self, path: &str) -> Result<bool, SendError> {
        self.sftp
            .try_exists(path)
            .await
            .map_err(|e| self.error(&format!("look for {path}"), e))
    }

    /// Creates `dir` and its missing parents.
    async fn create_dir_all(&self, dir: &str) -> Result<(), SendError> {
        let mut path = String::new();
        for part in dir.split('/') {
            if part.is_empty() {
                if path.is_empty() {
                    path.push('/');
                }
                continue;
            }
            if !path.is_empty() && !path.ends_with('/') {
                path.push('/');
            }
            path.push_str(part);
            if self.exists(&path).await? {
                continue;
            }
            // Made by someone else meanwhile is fine.
            if let Err(e) = self.sftp.create_dir(path.clone()).await
                && !self.exists(&path).await?
            {
                return Err(self.error(&format!("create {path}"), e));
            }
        }
        Ok(())
    }

    /// Writes `bytes` to the new file `path` (truncating one left by an earlier attempt).
    async fn upload(&self, path: &str, bytes: &[u8]) -> Result<(), SendError> {
        let io = |e: std::io::Error| self.error(&format!("write {path}"), SftpError::from(e));
        let mut file = self
            .sftp
            .create(path)
            .await
            .map_err(|e| self.error(&format!("create {path}"), e))?;
        file.write_all(bytes).await.map_err(io)?;
        file.close().await.map_err(io)
    }

    async fn remove_if_present(&self, path: &str) -> Result<(), SendError> {
        match self.sftp.remove_file(path).await {
            Ok(()) => Ok(()),
            Err(SftpError::Status(s)) if s.status_code == StatusCode::NoSuchFile => Ok(()),
            Err(e) => Err(self.error(&format!("remove {path}"), e)),
        }
    }

    /// Moves `from` to `to`, replacing `to` if it exists (SFTP's rename would refuse).
    /// Returns false when `from` is gone.
    async fn move_replacing(&self, from: &str, to: &str) -> Result<bool, SendError> {
        if self.sftp.rename(from, to).await.is_ok() {
            return Ok(true);
        }
        if !self.exists(from).await? {
            return Ok(false);
        }
        self.remove_if_present(to).await?;
        self.sftp
            .rename(from, to)
            .await
            .map_err(|e| self.error(&format!("rename {from} to {to}"), e))?;
        Ok(true)
    }

    async fn close(self) {
        let _ = self.sftp.close().await;
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

#[async_trait]
impl PrintProvider for SftpPrintProvider {
    /// Errors: as [`check_printable`]; [`SendError::Transient`] for everything on the way
    /// (server down, host key not pinned, login refused, a remote file that cannot be written).
    async fn submit(&self, order: &PrintOrder, pdf: &[u8]) -> Result<PrintSubmission, SendError> {
        check_printable(order, pdf)?;
        let manifest = PrintManifest::for_order(order, pdf).to_json()?;
        let conn = self.connect().await?;
        let result = async {
            let outbox = &self.config.outbox_dir;
            let manifest_path = Self::remote(outbox, &manifest_file_name(&order.reference));
            let submission = |already_submitted| PrintSubmission {
                reference: order.reference.clone(),
                location: format!(
                    "sftp://{}/{}",
                    conn.target,
                    manifest_path.trim_start_matches('/')
                ),
                already_submitted,
            };
            if conn.exists(&manifest_path).await? {
                return Ok(submission(true));
            }
            conn.create_dir_all(outbox).await?;
            let pdf_path = Self::remote(outbox, &pdf_file_name(&order.reference));
            let pdf_partial = format!("{pdf_path}.partial");
            conn.upload(&pdf_partial, pdf).await?;
            // A PDF without a manifest is left from an attempt that stopped half-way.
            conn.move_replacing(&pdf_partial, &pdf_path).await?;
            let manifest_partial = format!("{manifest_path}.partial");
            conn.upload(&manifest_partial, &manifest).await?;
            if let Err(e) = conn.sftp.rename(&manifest_partial, &manifest_path).await {
                if conn.exists(&manifest_path).await? {
                    // Another submit of the same reference published first.
                    conn.remove_if_present(&manifest_partial).await?;
                    return Ok(submission(true));
                }
                return Err(conn.error(&format!("publish {manifest_path}"), e));
            }
            Ok(submission(false))
        }
        .await;
        conn.close().await;
        result
    }

    /// Reads `<receipts_dir>/*.json` in file name order; a missing directory means no
    /// receipts. A file that cannot be parsed is moved to `<receipts_dir>/unreadable/`.
    ///
    /// Errors: [`SendError::Transient`] when the server or a file cannot be read.
    async fn fetch_receipts(&self) -> Result<Vec<PrintReceipt>, SendError> {
        let conn = self.connect().await?;
        let result = async {
            let dir = &self.config.receipts_dir;
            let entries = match conn.sftp.read_dir(dir.as_str()).await {
                Ok(entries) => entries,
                Err(SftpError::Status(s)) if s.status_code == StatusCode::NoSuchFile => {
                    return Ok(Vec::new());
                }
                Err(e) => return Err(conn.error(&format!("list {dir}"), e)),
            };
            let mut names: Vec<String> = entries
                .filter(|e| e.file_type().is_file())
                .map(|e| e.file_name())
                .filter(|name| is_receipt_file_name(name))
                .collect();
            names.sort();
            let mut receipts = Vec::with_capacity(names.len());
            for name in names {
                let path = Self::remote(dir, &name);
                let bytes = match conn.sftp.read(path.as_str()).await {
                    Ok(bytes) => bytes,
                    Err(SftpError::Status(s)) if s.status_code == StatusCode::NoSuchFile => {
                        continue;
                    }
                    Err(e) => return Err(conn.error(&format!("read {path}"), e)),
                };
                match ReceiptFile::parse(&name, &bytes) {
                    Ok(receipt) => receipts.push(receipt),
                    Err(error) => {
                        tracing::warn!(%error, "unreadable print receipt moved to unreadable/");
                        let aside = Self::remote(dir, "unreadable");
                        conn.create_dir_all(&aside).await?;
                        conn.move_replacing(&path, &Self::remote(&aside, &name))
                            .await?;
                    }
                }
            }
            Ok(receipts)
        }
        .await;
        conn.close().await;
        result
    }

    /// Moves `<receipts_dir>/<id>.json` to `<receipts_dir>/processed/<id>.json`; an id whose
    /// file is gone (already acknowledged) or that is not a plain file name is passed over.
    ///
    /// Errors: [`SendError::Transient`] when the server cannot be reached or a file moved.
    async fn acknowledge(&self, receipts: &[ReceiptId]) -> Result<(), SendError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let conn = self.connect().await?;
        let result = async {
            let dir = &self.config.receipts_dir;
            let processed = Self::remote(dir, "processed");
            conn.create_dir_all(&processed).await?;
            for id in receipts {
                if !id.is_plain_file_name() {
                    tracing::warn!(receipt = %id, "not a receipt id this provider hands out; ignored");
                    continue;
                }
                let name = format!("{id}.json");
                conn.move_replacing(&Self::remote(dir, &name), &Self::remote(&processed, &name))
                    .await?;
            }
            Ok(())
        }
        .await;
        conn.close().await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_sha256_and_43_base64_characters() {
        let good = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";
        assert_eq!(HostKeyFingerprint::parse(good).unwrap().as_str(), good);
        for bad in [
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
            "MD5:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "SHA256:short",
        ] {
            assert!(HostKeyFingerprint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_that_is_not_one_is_refused_at_setup() {
        let auth = SftpAuth {
            private_key: Secret::new("not a key"),
            passphrase: None,
            password: None,
        };
        let config = SftpPrintConfig::new("localhost", 22, "melding", auth, Vec::new());
        assert!(matches!(
            SftpPrintProvider::new(config),
            Err(SftpSetupError::PrivateKey(_))
        ));
    }

    #[test]
    fn remote_paths_join_with_one_slash() {
        assert_eq!(SftpPrintProvider::remote("/up/", "a.pdf"), "/up/a.pdf");
        assert_eq!(SftpPrintProvider::remote("up", "a.pdf"), "up/a.pdf");
        assert_eq!(SftpPrintProvider::remote("", "a.pdf"), "a.pdf");
    }
}
