//! E-mail notifications: the message a recipient gets, the [`EmailSender`] trait, and its real
//! (SMTP), dev (file drop) and test (capturing) implementations.
//!
//! Every message is built the same way by [`build_message`], whichever implementation sends
//! it, so the dev files show exactly what SMTP would carry: a unique `Message-ID`
//! (`<uuid@domain>`), `Auto-Submitted: auto-generated` (RFC 3834, so out-of-office replies stay
//! quiet), `Content-Language`, a plain-text part and optionally an HTML alternative
//! (`reference/delivery-chain.md` §7.1, rule 45). A message with attachments (a forwarded
//! letter, reference §4.12) is `multipart/mixed`: the text first, then one part per file.

mod capture;
mod file_drop;
mod headers;
mod smtp;

use async_trait::async_trait;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use melding_domain::EmailAddress;

use crate::error::{PermanentKind, SendError};
use crate::templates::Language;

pub use capture::{CapturedEmail, CapturingEmailSender};
pub use file_drop::FileDropEmailSender;
pub use headers::{AutoSubmitted, ContentLanguage};
pub use smtp::{
    DkimAlgorithm, DkimSettings, SmtpConfig, SmtpConfigError, SmtpCredentials, SmtpEmailSender,
    SmtpTls,
};

/// One notification e-mail to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// The `From` address (the instance's or the service owner's sender address).
    pub from: EmailAddress,
    /// The display name shown with `from`, e.g. `Tønsberg kommune`.
    pub from_name: Option<String>,
    /// The one recipient address.
    pub to: EmailAddress,
    /// The subject line (Altinn allows up to 512 characters, `correspondence-api.md` §8.1).
    pub subject: String,
    /// The body: plain text, and optionally HTML shown instead by mail readers that can.
    pub body: EmailBody,
    /// The language of the text, sent as `Content-Language`.
    pub language: Language,
    /// The envelope sender (SMTP `MAIL FROM`) when it differs from `from`, e.g. a per-message
    /// bounce address `bounce+<notification id>@…` so that a bounce finds its notification
    /// (VERP, `reference/delivery-chain.md` §7.1 "Bounces").
    pub envelope_from: Option<EmailAddress>,
    /// Our reference for this message, unique per notification (the notification id). When
    /// given, the `Message-ID` is built from it (`<reference@domain>`), so a repeated send of
    /// the same notification carries the same `Message-ID` and the receiving side can tell it
    /// is one message; when absent a fresh one is made.
    pub reference: Option<String>,
    /// Files sent with the text as `multipart/mixed` parts, in order; empty for notifications.
    pub attachments: Vec<EmailAttachment>,
}

/// One file attached to an [`EmailMessage`].
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAttachment {
    /// The name the recipient sees (`Content-Disposition: attachment; filename=…`).
    pub file_name: String,
    /// The media type, e.g. `application/pdf`; `application/octet-stream` when unknown.
    pub content_type: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for EmailAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailAttachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The body of an [`EmailMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailBody {
    /// The `text/plain` part; always present.
    pub plain: String,
    /// An optional `text/html` alternative of the same text.
    pub html: Option<String>,
}

/// What the receiving server said when it took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailReceipt {
    /// The `Message-ID` header the message carried, with its angle brackets:
    /// `<0190f5c4-…@example.no>`.
    pub message_id: String,
    /// The server's full reply to the end of DATA, e.g. `250 2.0.0 Ok: queued as 4XyZ1`; for the
    /// dev and test senders a description of where the message went.
    pub server_reply: String,
    /// The server's queue id, when its reply names one the Postfix way (`queued as <id>`), for
    /// following the message in the relay's logs.
    pub queue_id: Option<String>,
}

/// Hands e-mail to a mail system. Implementations: [`SmtpEmailSender`] (real),
/// [`FileDropEmailSender`] (dev), [`CapturingEmailSender`] (test).
#[async_trait]
pub trait EmailSender: Send + Sync {
    /// Sends one message and returns what the receiving side said.
    ///
    /// Errors: a classified [`SendError`]: transient (SMTP 4xx, connection refused or dropped,
    /// timeout, TLS failure), permanent (SMTP 5xx; an address the mail library cannot write).
    async fn send(&self, message: &EmailMessage) -> Result<EmailReceipt, SendError>;
}

/// Builds the MIME message for `message` with the given `Message-ID` (angle brackets
/// included), the headers described in the module docs, and the envelope.
///
/// Errors: [`SendError::Permanent`] with [`PermanentKind::InvalidRecipient`] when an address
/// is one lettre cannot put in a header (our [`EmailAddress`] rule is close to lettre's, so
/// this is rare), [`PermanentKind::Rejected`] if the message cannot be assembled.
///
/// With attachments the message is `multipart/mixed`: the text (plain, or plain and HTML as
/// `multipart/alternative`), then each file base64-encoded as an attachment part.
pub fn build_message(message: &EmailMessage, message_id: &str) -> Result<Message, SendError> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        SendError::permanent(PermanentKind::InvalidRecipient, format!("{what}: {e}"))
    };
    let from: lettre::Address = message
        .from
        .as_str()
        .parse()
        .map_err(|e| invalid("from address", &e))?;
    let to: lettre::Address = message
        .to
        .as_str()
        .parse()
        .map_err(|e| invalid("recipient address", &e))?;
    let envelope_from: lettre::Address = match &message.envelope_from {
        Some(address) => address
            .as_str()
            .parse()
            .map_err(|e| invalid("envelope sender", &e))?,
        None => from.clone(),
    };
    let envelope = lettre::address::Envelope::new(Some(envelope_from), vec![to.clone()])
        .map_err(|e| invalid("envelope", &e))?;
    let builder = Message::builder()
        .from(Mailbox::new(message.from_name.clone(), from))
        .to(Mailbox::new(None, to))
        .subject(message.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .header(AutoSubmitted::AutoGenerated)
        .header(ContentLanguage(message.language.code().to_owned()))
        .envelope(envelope);
    let built = if message.attachments.is_empty() {
        match &message.body.html {
            None => builder.singlepart(SinglePart::plain(message.body.plain.clone())),
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                message.body.plain.clone(),
                html.clone(),
            )),
        }
    } else {
        let mut mixed = match &message.body.html {
            None => MultiPart::mixed().singlepart(SinglePart::plain(message.body.plain.clone())),
            Some(html) => MultiPart::mixed().multipart(MultiPart::alternative_plain_html(
                message.body.plain.clone(),
                html.clone(),
            )),
        };
        for file in &message.attachments {
            let content_type = ContentType::parse(&file.content_type)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
            mixed = mixed.singlepart(
                Attachment::new(file.file_name.clone()).body(file.bytes.clone(), content_type),
            );
        }
        builder.multipart(mixed)
    };
    built.map_err(|e| SendError::permanent(PermanentKind::Rejected, format!("message: {e}")))
}

/// A fresh, unique `Message-ID` for a message from `domain`: `<uuid-v4@domain>`
/// (`reference/delivery-chain.md` §7.1).
pub fn new_message_id(domain: &str) -> String {
    format!("<{}@{domain}>", uuid::Uuid::new_v4())
}

/// The `Message-ID` of `message` from `domain`: `<reference@domain>` when the message carries
/// our reference (kept only if it is made of letters, digits, `-` and `.`, so it is a valid
/// `id-left`, RFC 5322 §3.6.4), else [`new_message_id`].
pub fn message_id_for(message: &EmailMessage, domain: &str) -> String {
    match &message.reference {
        Some(r)
            if !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
        {
            format!("<{r}@{domain}>")
        }
        _ => new_message_id(domain),
    }
}
