//! SMS notifications: the message, the [`SmsSender`] trait, the real HTTP gateway adapter
//! ([`HttpSmsGateway`]), the dev file drop and the test capture, segment counting and the
//! parsing of the gateway's delivery reports.

mod capture;
pub mod delivery_report;
mod file_drop;
mod gateway;
mod generic;
mod pswin;
pub mod segments;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use melding_domain::MobileNumber;

use crate::error::SendError;

pub use capture::{CapturedSms, CapturingSmsSender};
pub use delivery_report::{
    DeliveryReport, DeliveryResult, ReportFormat, ReportParseError, SmsResult,
    parse_delivery_reports,
};
pub use file_drop::FileDropSmsSender;
pub use gateway::{GatewayProtocol, GatewaySetupError, HttpSmsGateway, HttpSmsGatewayConfig};
pub use segments::{SegmentCount, SmsEncoding, count_segments};

/// How long the network keeps trying to deliver an SMS: 48 hours, Altinn's gateway TTL
/// (`reference/delivery-chain.md` §1.11).
pub const DEFAULT_TIME_TO_LIVE: Duration = Duration::from_secs(48 * 3600);

/// One SMS notification to one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// Who the SMS says it is from.
    pub sender: SmsSenderId,
    /// The recipient, in E.164.
    pub to: MobileNumber,
    /// The text; long texts are sent as concatenated SMS (see [`segments`]).
    pub text: String,
    /// Our reference for this message, unique per notification (e.g. the notification id), sent
    /// to the gateway so that a repeated send can be recognised and reports traced.
    pub reference: String,
    /// How long the network may keep trying; see [`DEFAULT_TIME_TO_LIVE`].
    pub time_to_live: Duration,
}

/// The sender shown on the handset: an alphanumeric name of at most 11 characters (letters and
/// digits of ASCII, space), or a number of 3 to 15 digits (a short code or an MSISDN), as
/// gateways accept them (`reference/delivery-chain.md` §7.2, rule 46).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsSenderId(String);

impl SmsSenderId {
    /// Parses a sender id after trimming white space.
    ///
    /// Errors: [`InvalidSenderId`] when the text is neither form.
    pub fn parse(s: &str) -> Result<Self, InvalidSenderId> {
        let s = s.trim();
        let numeric = s.chars().all(|c| c.is_ascii_digit()) && (3..=15).contains(&s.len());
        let alphanumeric = (1..=11).contains(&s.len())
            && s.chars().any(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
        if numeric || alphanumeric {
            Ok(SmsSenderId(s.to_owned()))
        } else {
            Err(InvalidSenderId)
        }
    }

    /// The id as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the id is a number rather than a name.
    pub fn is_numeric(&self) -> bool {
        self.0.chars().all(|c| c.is_ascii_digit())
    }
}

impl fmt::Display for SmsSenderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A sender id that is neither an alphanumeric name of at most 11 characters nor a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an SMS sender is a name of at most 11 letters and digits, or a number of 3 to 15 digits")]
pub struct InvalidSenderId;

/// What the gateway said when it took an SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsReceipt {
    /// The gateway's id for the message; its delivery reports name it (see
    /// [`delivery_report`]).
    pub gateway_reference: String,
    /// What the text costs, counted by us (see [`segments`]).
    pub segments: SegmentCount,
}

/// Hands SMS to a gateway. Implementations: [`HttpSmsGateway`] (real), [`FileDropSmsSender`]
/// (dev), [`CapturingSmsSender`] (test).
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends one SMS; a result of `Ok` is Altinn's `Accepted` (`reference/delivery-chain.md`
    /// §1.13): delivery itself is learnt later from a delivery report.
    ///
    /// Errors: a classified [`SendError`]: slow down (HTTP 429 with its Retry-After), transient
    /// (HTTP 5xx, connection refused or dropped, timeout, refused credentials), permanent (an
    /// invalid recipient number, or another refusal of the message).
    async fn send(&self, message: &SmsMessage) -> Result<SmsReceipt, SendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_ids() {
        for ok in [
            "Altinn",
            "Tonsberg K",
            "AAAAAAAAAAA",
            "2410",
            "4791234567",
            "A1",
        ] {
            assert!(SmsSenderId::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "AAAAAAAAAAAA",
            "Tønsberg",
            "12",
            "1234567890123456",
            "a-b",
            "+4791234567",
        ] {
            assert_eq!(SmsSenderId::parse(bad), Err(InvalidSenderId), "{bad:?}");
        }
        assert!(SmsSenderId::parse("2410").unwrap().is_numeric());
        assert!(!SmsSenderId::parse("Altinn").unwrap().is_numeric());
    }
}
