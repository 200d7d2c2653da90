//! Digital mailboxes: handing a letter to the mailbox a person chose in KRR (Digipost or e-Boks)
//! instead of, or before, paper.
//!
//! Why this exists: a person who has chosen a digital mailbox gets the letter there
//! (`reference/delivery-chain.md` §3.3 step 2, SvarUt's `SENDT_SDP` → `LEVERT_SDP`), and once the
//! provider confirms delivery the letter is never printed (rule 28). KRR tells us the mailbox
//! (`digital_post.postkasseadresse`) and the provider (`postkasseleverandoeradresse`, §2.1); this
//! module takes it from there.
//!
//! The shape follows the other channels (STYLE.md practice 10): the [`DigitalMailbox`] trait
//! and its implementations: real ([`DigipostMailbox`], [`EboksMailbox`]), dev
//! ([`FileDropMailbox`]) and test ([`CapturingMailbox`]). Failures are the crate's one
//! [`SendError`] (transient / slow down / permanent). Delivery is learnt by polling
//! ([`DigitalMailbox::delivery_status`]) or, where the provider calls us, from a callback
//! ([`DigitalMailbox::parse_callback`]); both end in a [`MailboxStatus`].
//!
//! What is the providers' real API and what is our assumption is said on each adapter; in
//! short: Digipost's signing, multipart message and status endpoint follow Digipost's published
//! documentation and Java client; e-Boks has no public sender API that we could read, so its
//! adapter is a plain JSON shape of our own, to be fitted to the real one.

mod capture;
mod digipost;
mod eboks;
mod file_drop;
mod http;
mod multipart;
mod signature;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::{NationalId, OrgNumber};
use reqwest::header::HeaderMap;

use crate::error::SendError;

pub use capture::{CapturedMailboxMessage, CapturingMailbox};
pub use digipost::{DigipostConfig, DigipostMailbox};
pub use eboks::{
    CALLBACK_SIGNATURE_HEADER as EBOKS_CALLBACK_SIGNATURE_HEADER, EboksConfig, EboksMailbox,
};
pub use file_drop::FileDropMailbox;

/// Our reference for one delivery to a mailbox: unique per letter and recipient (e.g. the
/// correspondence id), and the idempotency key, so that sending the same reference twice never
/// makes two letters (DESIGN.md decision 2: external sends carry idempotency keys).
///
/// 1 to 64 characters of ASCII letters, digits, `-`, `_` and `.`, not starting with `.`: the
/// reference travels as Digipost's `message-id`, in URL paths (e-Boks, assumed) and as a
/// directory name (the dev file drop), so it is kept to characters that are safe in all three.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxReference(String);

impl MailboxReference {
    /// Parses a reference.
    ///
    /// Errors: [`InvalidMailboxReference`] when the text is empty, longer than 64 characters,
    /// starts with `.` or holds another character than those above.
    pub fn parse(s: &str) -> Result<Self, InvalidMailboxReference> {
        let ok = (1..=64).contains(&s.len())
            && !s.starts_with('.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(MailboxReference(s.to_owned()))
        } else {
            Err(InvalidMailboxReference)
        }
    }

    /// The reference as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MailboxReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mailbox reference that is empty, too long or holds characters other than ASCII letters,
/// digits, `-`, `_` and `.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a mailbox reference is 1 to 64 ASCII letters, digits, '-', '_' or '.', not starting with '.'"
)]
pub struct InvalidMailboxReference;

/// The digital mailbox providers approved in Norway (`reference/delivery-chain.md` §2.1: KRR's
/// `postkasseleverandoeradresse` names one of them by org number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailboxProvider {
    /// Digipost (Posten Bring).
    Digipost,
    /// e-Boks.
    EBoks,
}

impl MailboxProvider {
    /// A short lowercase name for logs and file names: `digipost` or `e-boks`.
    pub fn as_str(self) -> &'static str {
        match self {
            MailboxProvider::Digipost => "digipost",
            MailboxProvider::EBoks => "e-boks",
        }
    }
}

/// Who the letter is for, as the mailbox provider knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxRecipient {
    /// The person's national identity number or the organisation's number.
    pub id: MailboxRecipientId,
    /// The mailbox address from KRR (`digital_post.postkasseadresse`, e.g. a Digipost address
    /// `ola.nordmann#1234`), when known. Digipost is addressed by the identity number, which
    /// KRR keys the mailbox on, so it ignores this; e-Boks (assumed shape) and the file drop
    /// pass it on.
    pub mailbox_address: Option<String>,
}

/// The identity a mailbox is registered under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxRecipientId {
    /// A person (fødselsnummer or D-nummer).
    Person(NationalId),
    /// An organisation.
    Organisation(OrgNumber),
}

/// The sender the recipient sees: the service owner's organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSender {
    /// The organisation number.
    pub org_number: OrgNumber,
    /// The name shown, e.g. `Ås kommune`.
    pub name: String,
}

/// The letter itself, the document the recipient opens first.
///
/// Our choice: either a PDF (the letter as `melding-print` renders it, the same file the print
/// fallback would post: `reference/delivery-chain.md` §3.5, only PDF is printable) or the
/// letter's own text as HTML (for a letter that has no PDF). Digipost shows both (file types
/// `pdf` and `html`; it sanitises HTML); for e-Boks the HTML case is our assumption.
#[derive(Clone, PartialEq, Eq)]
pub enum PrimaryDocument {
    /// A PDF file's bytes.
    Pdf(Vec<u8>),
    /// A complete HTML document in UTF-8.
    Html(String),
}

impl PrimaryDocument {
    /// The media type: `application/pdf` or `text/html; charset=utf-8`.
    pub fn media_type(&self) -> &'static str {
        match self {
            PrimaryDocument::Pdf(_) => "application/pdf",
            PrimaryDocument::Html(_) => "text/html; charset=utf-8",
        }
    }

    /// The file type / extension: `pdf` or `html` (Digipost's `file-type`).
    pub fn file_type(&self) -> &'static str {
        match self {
            PrimaryDocument::Pdf(_) => "pdf",
            PrimaryDocument::Html(_) => "html",
        }
    }

    /// The document's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            PrimaryDocument::Pdf(bytes) => bytes,
            PrimaryDocument::Html(text) => text.as_bytes(),
        }
    }
}

impl fmt::Debug for PrimaryDocument {
    // Letter bodies never go to logs (STYLE.md practice 12): show the kind and size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrimaryDocument::{}({} bytes)",
            self.file_type(),
            self.bytes().len()
        )
    }
}

/// A file sent with the letter.
#[derive(Clone, PartialEq, Eq)]
pub struct MailboxAttachment {
    /// The file name the recipient sees, e.g. `vedtak.pdf`.
    pub name: String,
    /// The media type, e.g. `application/pdf`.
    pub media_type: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl MailboxAttachment {
    /// The file type as Digipost names it (`pdf`, `txt`, …): the name's extension in lowercase,
    /// else one read from the media type, else `bin`.
    pub fn file_type(&self) -> String {
        if let Some((_, ext)) = self.name.rsplit_once('.')
            && !ext.is_empty()
            && ext.len() <= 8
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return ext.to_ascii_lowercase();
        }
        let essence = self
            .media_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/pdf" => "pdf",
            "text/html" => "html",
            "text/plain" => "txt",
            "application/xml" | "text/xml" => "xml",
            "application/json" => "json",
            "image/png" => "png",
            "image/jpeg" => "jpg",
            _ => "bin",
        }
        .to_owned()
    }
}

impl fmt::Debug for MailboxAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxAttachment")
            .field("name", &self.name)
            .field("media_type", &self.media_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// One letter to one recipient's digital mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxMessage {
    /// Our reference, the idempotency key (see [`MailboxReference`]).
    pub reference: MailboxReference,
    /// The provider KRR names for the recipient.
    pub provider: MailboxProvider,
    /// The recipient.
    pub recipient: MailboxRecipient,
    /// The title the mailbox lists the letter under (SvarUt's `tittel`).
    pub subject: String,
    /// The letter.
    pub primary_document: PrimaryDocument,
    /// Further files, in order.
    pub attachments: Vec<MailboxAttachment>,
    /// The sending organisation.
    pub sender: MailboxSender,
}

/// Where a letter stands at the provider, mapped to SvarUt's vocabulary
/// (`reference/delivery-chain.md` §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxStatus {
    /// Handed over, no delivery receipt yet (`SENDT_SDP`); ask again later.
    Pending,
    /// In the recipient's mailbox (`LEVERT_SDP`): the letter must not be printed any more
    /// (rule 28).
    Delivered {
        /// When the provider says it was delivered (UTC), if it says.
        at: Option<DateTime<Utc>>,
    },
    /// The provider will not deliver it (e.g. the mailbox was closed): the letter goes on by
    /// the other routes (notification, print).
    Failed {
        /// What the provider said.
        reason: String,
    },
}

impl MailboxStatus {
    /// SvarUt's status for this state: `SENDT_SDP` (pending), `LEVERT_SDP` (delivered); a
    /// failed mailbox delivery has no SvarUt status of its own (the letter goes on to another
    /// channel), so `None`.
    pub fn svarut_status(&self) -> Option<&'static str> {
        match self {
            MailboxStatus::Pending => Some("SENDT_SDP"),
            MailboxStatus::Delivered { .. } => Some("LEVERT_SDP"),
            MailboxStatus::Failed { .. } => None,
        }
    }
}

/// What the provider said when it took a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSubmission {
    /// Our reference, as sent.
    pub reference: MailboxReference,
    /// The provider that took it.
    pub provider: MailboxProvider,
    /// The provider's id for the letter (Digipost echoes our `message-id`).
    pub provider_reference: String,
    /// `true` when the provider already had a letter with this reference (our earlier attempt
    /// got through but its answer was lost): not an error, the letter is there once.
    pub already_submitted: bool,
    /// The state right after the hand-over (Digipost often answers `DELIVERED` at once).
    pub status: MailboxStatus,
}

/// A status report a provider pushed to us, read by [`DigitalMailbox::parse_callback`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxReceipt {
    /// The letter it is about.
    pub reference: MailboxReference,
    /// Its state.
    pub status: MailboxStatus,
}

/// A callback that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// This mailbox does not call back (Digipost's receipts are polled), or no secret to check
    /// callbacks is configured.
    #[error("this mailbox does not take status callbacks")]
    NotSupported,
    /// The callback's signature is missing or does not match: answer 401 and ignore it.
    #[error("the callback's signature is missing or wrong")]
    BadSignature,
    /// The body is not a status report we understand: answer 400.
    #[error("unreadable callback: {0}")]
    Malformed(String),
}

/// A mailbox adapter that could not be set up from its settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailboxSetupError {
    /// The base URL is not a URL.
    #[error("invalid base URL {0}")]
    BaseUrl(String),
    /// The signing key could not be read.
    #[error("cannot read the signing key: {0}")]
    Key(String),
    /// The HTTP client's TLS backend did not start.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// Hands letters to a digital mailbox provider and learns whether they arrived.
/// Implementations: [`DigipostMailbox`], [`EboksMailbox`] (real), [`FileDropMailbox`] (dev),
/// [`CapturingMailbox`] (test).
#[async_trait]
pub trait DigitalMailbox: Send + Sync {
    /// Hands one letter over. `Ok` means the provider has it (SvarUt's `SENDT_SDP`, or already
    /// `LEVERT_SDP` when [`MailboxSubmission::status`] says delivered); sending the same
    /// reference again is safe and answers `Ok` with `already_submitted`.
    ///
    /// Errors: a classified [`SendError`]: slow down (HTTP 429 with its `Retry-After`),
    /// transient (HTTP 5xx or 408, refused credentials, network failures, a disk that cannot be
    /// written), permanent (the provider does not know the recipient, or refuses the letter).
    async fn deliver(&self, message: &MailboxMessage) -> Result<MailboxSubmission, SendError>;

    /// Asks the provider where the letter with `reference` stands.
    ///
    /// Errors: as for [`DigitalMailbox::deliver`]; a reference the provider does not know is
    /// permanent ([`crate::PermanentKind::Rejected`]).
    async fn delivery_status(
        &self,
        reference: &MailboxReference,
    ) -> Result<MailboxStatus, SendError>;

    /// Reads a status report the provider POSTed to us (headers and raw body), after checking
    /// that it comes from the provider. The default: this mailbox takes no callbacks.
    ///
    /// Errors: [`CallbackError`].
    fn parse_callback(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Vec<MailboxReceipt>, CallbackError> {
        let _ = (headers, body);
        Err(CallbackError::NotSupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        for ok in [
            "0192b8c4-5f7e-7c3a-9d1e-2f4a6b8c0d1e",
            "corr_17.recipient-2",
            "a",
        ] {
            assert!(MailboxReference::parse(ok).is_ok(), "{ok:?}");
        }
        let long = "x".repeat(65);
        for bad in ["", ".hidden", "a/b", "a b", "ø", "..", long.as_str()] {
            assert_eq!(
                MailboxReference::parse(bad),
                Err(InvalidMailboxReference),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn attachment_file_types() {
        let file = |name: &str, media_type: &str| MailboxAttachment {
            name: name.into(),
            media_type: media_type.into(),
            bytes: vec![],
        };
        assert_eq!(
            file("Vedtak.PDF", "application/octet-stream").file_type(),
            "pdf"
        );
        assert_eq!(
            file("vedlegg", "text/plain; charset=utf-8").file_type(),
            "txt"
        );
        assert_eq!(file("bilde.", "image/jpeg").file_type(), "jpg");
        assert_eq!(file("data", "application/x-unknown").file_type(), "bin");
    }

    #[test]
    fn statuses_in_svarut_terms() {
        assert_eq!(MailboxStatus::Pending.svarut_status(), Some("SENDT_SDP"));
        assert_eq!(
            MailboxStatus::Delivered { at: None }.svarut_status(),
            Some("LEVERT_SDP")
        );
        assert_eq!(
            MailboxStatus::Failed {
                reason: "closed".into()
            }
            .svarut_status(),
            None
        );
    }

    #[test]
    fn letter_bodies_stay_out_of_debug_output() {
        let document = PrimaryDocument::Html("<p>Vedtak om barnehageplass</p>".into());
        let shown = format!("{document:?}");
        assert!(!shown.contains("barnehageplass"), "{shown}");
        assert!(shown.contains("31 bytes"), "{shown}");
    }
}
