//! Forwarding: a recipient sends a copy of a read letter to an e-mail address (reference §4.12).
//!
//! This module holds the rules of the request — the address (3011, 3027), the optional text
//! (1066, 1067), and the key that makes a forward idempotent per letter and address (1064) —,
//! the forwarding event that records it, and the text of the composed e-mail. Whether the
//! letter allows forwarding (1063) and has been read (1065) is read from the letter itself.

use chrono::{DateTime, Utc};

use crate::contact::{EmailAddress, has_address_shape};
use crate::content::{char_len, is_plain_text};
use crate::ids::{AttachmentId, CorrespondenceId, ForwardingEventId};

/// The longest `forwardTo`, in characters (3027).
pub const FORWARD_TO_MAX: usize = 1000;

/// The longest `forwardingText`, in characters (1066).
pub const FORWARDING_TEXT_MAX: usize = 200;

/// What separates the recipient's forwarding text from the letter's body in the composed
/// e-mail (reference §4.12: `forwardingText + "\n\n---\n\n" + messageBody`).
pub const TEXT_SEPARATOR: &str = "\n\n---\n\n";

/// Why a `forwardTo` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ForwardToError {
    /// 3011: not an address by the strict custom-recipient rule (§8.1), or (after the length
    /// check) longer than the 254 characters an SMTP path can carry (RFC 5321 §4.5.3.1.3).
    #[error("not a valid e-mail address")]
    Invalid,
    /// 3027: longer than [`FORWARD_TO_MAX`] characters.
    #[error("longer than {FORWARD_TO_MAX} characters")]
    TooLong,
}

/// Checks a `forwardTo` in the reference's order: the strict address shape (3011), then the
/// length (3027). An address of the right shape between 255 and 1000 characters cannot be
/// delivered by SMTP, so it is refused as invalid (3011) after the length check.
///
/// Errors: [`ForwardToError`].
pub fn parse_forward_to(raw: &str) -> Result<EmailAddress, ForwardToError> {
    let trimmed = raw.trim();
    if !has_address_shape(trimmed) {
        return Err(ForwardToError::Invalid);
    }
    if char_len(trimmed) > FORWARD_TO_MAX {
        return Err(ForwardToError::TooLong);
    }
    EmailAddress::parse(trimmed).map_err(|_| ForwardToError::Invalid)
}

/// The key that makes forwarding idempotent per letter and address (1064): the address
/// trimmed and lower-cased, as the reference compares them.
pub fn address_key(address: &EmailAddress) -> String {
    address.as_str().trim().to_lowercase()
}

/// Why a `forwardingText` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ForwardingTextError {
    /// 1066: longer than [`FORWARDING_TEXT_MAX`] characters.
    #[error("longer than {FORWARDING_TEXT_MAX} characters")]
    TooLong,
    /// 1067: not plain text (reference §5.3).
    #[error("not plain text")]
    NotPlainText,
}

/// Checks the optional `forwardingText`: at most [`FORWARDING_TEXT_MAX`] characters (1066) and
/// plain text by the rule titles follow (1067, reference §5.3). An empty or blank text counts as
/// none.
///
/// Errors: [`ForwardingTextError`].
pub fn check_forwarding_text(text: Option<&str>) -> Result<Option<String>, ForwardingTextError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    if char_len(text) > FORWARDING_TEXT_MAX {
        return Err(ForwardingTextError::TooLong);
    }
    if !is_plain_text(text) {
        return Err(ForwardingTextError::NotPlainText);
    }
    Ok(Some(text.to_owned()))
}

/// One forwarding of a letter, as stored and listed in the details' `forwardingEvents`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingEvent {
    /// The event's id (UUIDv7), the answer of the forward request and the idempotency key of
    /// its e-mail.
    pub id: ForwardingEventId,
    /// The letter forwarded.
    pub correspondence_id: CorrespondenceId,
    /// When the recipient forwarded it (UTC); also the time of its Forwarded status.
    pub forwarded_on: DateTime<Utc>,
    /// Who forwarded it: the URN of the caller's party.
    pub forwarded_by: String,
    /// The address it went to, as given (trimmed).
    pub to_email: EmailAddress,
    /// The recipient's own text, put before the letter's body.
    pub forwarding_text: Option<String>,
    /// When the e-mail channel accepted the composed e-mail (UTC); `None` until then.
    pub sent: Option<DateTime<Utc>>,
}

impl ForwardingEvent {
    /// The idempotency key of this event's letter and address (see [`address_key`]).
    pub fn address_key(&self) -> String {
        address_key(&self.to_email)
    }
}

/// A download link in a forwarded letter's e-mail for one attachment too large to go along as
/// a file (reference §4.12 sends attachments as links; Melding sends them as files up to its
/// limit and links the rest). Whoever has the link may download that one attachment, without a
/// login, until it expires; the link itself is a random token that only the e-mail carries:
/// Melding keeps its SHA-256 hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingLink {
    /// The SHA-256 of the link's token, as 64 lower-case hex digits.
    pub token_hash: String,
    /// The forwarding whose e-mail carries the link.
    pub forwarding_event_id: ForwardingEventId,
    /// The letter the attachment belongs to.
    pub correspondence_id: CorrespondenceId,
    /// The attachment it downloads.
    pub attachment_id: AttachmentId,
    /// When the link was made (UTC).
    pub created: DateTime<Utc>,
    /// When it stops working (UTC). The attachment's own expiry and purging end it earlier.
    pub expires: DateTime<Utc>,
}

/// The plain-text body of the composed e-mail: the forwarding text, the separator and the
/// letter's body, or the body alone (reference §4.12).
pub fn composed_body(forwarding_text: Option<&str>, body: &str) -> String {
    match forwarding_text {
        Some(text) => format!("{text}{TEXT_SEPARATOR}{body}"),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_for_shape_before_length() {
        assert_eq!(
            parse_forward_to(" Kari@Example.no ").unwrap().as_str(),
            "Kari@Example.no"
        );
        for bad in [
            "",
            "kari",
            "kari@",
            "@example.no",
            "kari;ola@example.no",
            "a b@c.no",
        ] {
            assert_eq!(parse_forward_to(bad), Err(ForwardToError::Invalid), "{bad}");
        }
        // A well-shaped address of 1001 characters is too long (3027), not invalid.
        let labels = vec!["a".repeat(60); 17].join(".");
        let long = format!("kari@{labels}.no");
        assert!(long.len() > FORWARD_TO_MAX, "{}", long.len());
        assert_eq!(parse_forward_to(&long), Err(ForwardToError::TooLong));
        // A badly shaped long one is invalid first.
        assert_eq!(
            parse_forward_to(&format!("{long};")),
            Err(ForwardToError::Invalid)
        );
        // Within 1000 but beyond what SMTP carries.
        let mid = format!("kari@{}.no", vec!["a".repeat(60); 5].join("."));
        assert!(mid.len() > 254 && mid.len() <= FORWARD_TO_MAX);
        assert_eq!(parse_forward_to(&mid), Err(ForwardToError::Invalid));
    }

    #[test]
    fn the_idempotency_key_ignores_case_and_surrounding_space() {
        let a = parse_forward_to("Kari@Example.NO").unwrap();
        let b = parse_forward_to("  kari@example.no ").unwrap();
        assert_eq!(address_key(&a), address_key(&b));
        assert_eq!(address_key(&a), "kari@example.no");
    }

    #[test]
    fn forwarding_texts() {
        assert_eq!(check_forwarding_text(None), Ok(None));
        assert_eq!(check_forwarding_text(Some("  ")), Ok(None));
        assert_eq!(
            check_forwarding_text(Some("Se dette")),
            Ok(Some("Se dette".into()))
        );
        let max = "ø".repeat(FORWARDING_TEXT_MAX);
        assert_eq!(check_forwarding_text(Some(&max)), Ok(Some(max.clone())));
        assert_eq!(
            check_forwarding_text(Some(&format!("{max}x"))),
            Err(ForwardingTextError::TooLong)
        );
        for bad in ["# Overskrift", "<b>fet</b>", "[lenke](https://example.no)"] {
            assert_eq!(
                check_forwarding_text(Some(bad)),
                Err(ForwardingTextError::NotPlainText),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_composed_body() {
        assert_eq!(composed_body(None, "Brødtekst"), "Brødtekst");
        assert_eq!(
            composed_body(Some("Til deg"), "Brødtekst"),
            "Til deg\n\n---\n\nBrødtekst"
        );
    }
}
