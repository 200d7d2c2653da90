//! The dev e-mail channel: every message is written as an `.eml` file that a person can open.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{EmailMessage, EmailReceipt, EmailSender, build_message, message_id_for};
use crate::error::SendError;

/// Writes each message, exactly as SMTP would carry it, to `<dir>/<uuid>.eml` (RFC 5322 text
/// that any mail reader opens). Files are written under a temporary name and renamed, so a
/// reader never sees half a message. Meant for development and demos, not production.
#[derive(Debug, Clone)]
pub struct FileDropEmailSender {
    dir: PathBuf,
    message_id_domain: String,
}

impl FileDropEmailSender {
    /// A sender writing into `dir` (created on first send if missing), with `Message-ID`s in
    /// `message_id_domain`.
    pub fn new(dir: impl Into<PathBuf>, message_id_domain: impl Into<String>) -> Self {
        FileDropEmailSender {
            dir: dir.into(),
            message_id_domain: message_id_domain.into(),
        }
    }

    /// The directory the files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl EmailSender for FileDropEmailSender {
    /// Errors: [`SendError::Transient`] when the file cannot be written (a full or read-only
    /// disk is an operator's to fix); as [`build_message`] for a message that cannot be built.
    async fn send(&self, message: &EmailMessage) -> Result<EmailReceipt, SendError> {
        let message_id = message_id_for(message, &self.message_id_domain);
        let mime = build_message(message, &message_id)?;
        let name = uuid::Uuid::now_v7();
        let path = self.dir.join(format!("{name}.eml"));
        crate::write_file_atomically(&self.dir, &path, &mime.formatted()).await?;
        Ok(EmailReceipt {
            message_id,
            server_reply: format!("written to {}", path.display()),
            queue_id: Some(name.to_string()),
        })
    }
}
