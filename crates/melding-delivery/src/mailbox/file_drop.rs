//! The dev mailbox: every letter is written as a folder a person can open.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::Serialize;

use super::{
    DigitalMailbox, MailboxMessage, MailboxRecipientId, MailboxReference, MailboxStatus,
    MailboxSubmission,
};
use crate::error::{PermanentKind, SendError};

/// The file written last in each letter's folder; its presence means the letter is complete.
const MANIFEST: &str = "message.json";

/// Writes each letter to `<dir>/<reference>/`: `primary.pdf` or `primary.html`, the
/// attachments as `attachment-<n>-<name>` (the name with anything but ASCII letters, digits,
/// `.`, `-` and `_` replaced by `_`), and last `message.json` with
/// `{"reference", "provider", "recipient": {"nationalId" | "orgNumber", "mailboxAddress"},
/// "subject", "sender": {"orgNumber", "name"}, "primaryDocument", "attachments": [{"file",
/// "name", "mediaType", "size"}]}`. Every file is written under a temporary name and renamed.
///
/// Every letter counts as delivered at once (LEVERT_SDP). Writing the same reference again
/// rewrites the folder and answers `already_submitted`. Meant for development and demos.
#[derive(Debug, Clone)]
pub struct FileDropMailbox {
    dir: PathBuf,
}

impl FileDropMailbox {
    /// A mailbox writing into `dir` (created on first delivery if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileDropMailbox { dir: dir.into() }
    }

    /// The directory the folders go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn folder(&self, reference: &MailboxReference) -> PathBuf {
        // Safe as a path component: MailboxReference allows no '/' and no leading '.'.
        self.dir.join(reference.as_str())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    reference: &'a str,
    provider: &'a str,
    recipient: RecipientRecord<'a>,
    subject: &'a str,
    sender: SenderRecord<'a>,
    primary_document: String,
    attachments: Vec<AttachmentRecord<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecipientRecord<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    national_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_number: Option<&'a str>,
    mailbox_address: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SenderRecord<'a> {
    org_number: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttachmentRecord<'a> {
    file: String,
    name: &'a str,
    media_type: &'a str,
    size: usize,
}

fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[async_trait]
impl DigitalMailbox for FileDropMailbox {
    /// Errors: [`SendError::Transient`] when a file cannot be written.
    async fn deliver(&self, message: &MailboxMessage) -> Result<MailboxSubmission, SendError> {
        let folder = self.folder(&message.reference);
        let already_submitted = tokio::fs::try_exists(folder.join(MANIFEST))
            .await
            .unwrap_or(false);
        let primary = format!("primary.{}", message.primary_document.file_type());
        crate::write_file_atomically(
            &folder,
            &folder.join(&primary),
            message.primary_document.bytes(),
        )
        .await?;
        let mut attachments = Vec::with_capacity(message.attachments.len());
        for (i, attachment) in message.attachments.iter().enumerate() {
            let file = format!("attachment-{}-{}", i + 1, safe_file_name(&attachment.name));
            crate::write_file_atomically(&folder, &folder.join(&file), &attachment.bytes).await?;
            attachments.push(AttachmentRecord {
                file,
                name: &attachment.name,
                media_type: &attachment.media_type,
                size: attachment.bytes.len(),
            });
        }
        let (national_id, org_number) = match &message.recipient.id {
            MailboxRecipientId::Person(id) => (Some(id.as_str()), None),
            MailboxRecipientId::Organisation(org) => (None, Some(org.as_str())),
        };
        let manifest = Manifest {
            reference: message.reference.as_str(),
            provider: message.provider.as_str(),
            recipient: RecipientRecord {
                national_id,
                org_number,
                mailbox_address: message.recipient.mailbox_address.as_deref(),
            },
            subject: &message.subject,
            sender: SenderRecord {
                org_number: message.sender.org_number.as_str(),
                name: &message.sender.name,
            },
            primary_document: primary,
            attachments,
        };
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| SendError::transient(format!("encode mailbox manifest: {e}")))?;
        crate::write_file_atomically(&folder, &folder.join(MANIFEST), &json).await?;
        Ok(MailboxSubmission {
            reference: message.reference.clone(),
            provider: message.provider,
            provider_reference: folder.display().to_string(),
            already_submitted,
            status: MailboxStatus::Delivered { at: None },
        })
    }

    /// Delivered when the letter's folder is complete.
    ///
    /// Errors: [`SendError::Permanent`] when no letter with `reference` was written.
    async fn delivery_status(
        &self,
        reference: &MailboxReference,
    ) -> Result<MailboxStatus, SendError> {
        let manifest = self.folder(reference).join(MANIFEST);
        match tokio::fs::try_exists(&manifest).await {
            Ok(true) => Ok(MailboxStatus::Delivered { at: None }),
            Ok(false) => Err(SendError::permanent(
                PermanentKind::Rejected,
                format!("no letter {reference} in {}", self.dir.display()),
            )),
            Err(e) => Err(SendError::transient(format!(
                "read {}: {e}",
                manifest.display()
            ))),
        }
    }
}
