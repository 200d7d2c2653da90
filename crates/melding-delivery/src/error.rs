//! How a send failed, classified once so that a notification job can retry or give up without
//! knowing the channel.
//!
//! The classes follow Altinn Notifications (`reference/delivery-chain.md` §1.14 and §7.1, rule
//! 21): SMTP 4xx, dropped or refused connections, timeouts and HTTP 5xx are transient; a 429
//! carries the provider's "retry after" and pauses the channel until then; SMTP 5xx and an
//! address the provider refuses are permanent.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How long Altinn waits after a 429 that names no time (`reference/delivery-chain.md` §1.14:
/// "default 60 s").
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a message was not handed over, and what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later with back-off: the server answered 4xx (SMTP) or 5xx (HTTP), the
    /// connection was refused, dropped or timed out, TLS could not be set up, or the provider
    /// refused our credentials (a configuration fault that an operator fixes, after which the
    /// same message goes through; likewise a server that lacks STARTTLS or another capability
    /// we require). The message was not accepted.
    #[error("transient failure: {reason}")]
    Transient {
        /// What happened, for logs and the job's last error; never holds the message body.
        reason: String,
    },
    /// The provider asked us to slow down (HTTP 429): send nothing more on this channel until
    /// the given time, then try this message again (`reference/delivery-chain.md` §1.14).
    #[error("the provider asked us to slow down ({reason})")]
    SlowDown {
        /// When sending may resume, from the provider's `Retry-After`.
        retry_after: RetryAfter,
        /// What the provider said.
        reason: String,
    },
    /// Will not succeed by trying again: the notification ends as failed.
    #[error("permanent failure ({kind:?}): {reason}")]
    Permanent {
        /// Whether the address was at fault or the message was refused for another reason.
        kind: PermanentKind,
        /// What the server said.
        reason: String,
    },
}

impl SendError {
    /// A [`SendError::Transient`] with the given reason.
    pub fn transient(reason: impl Into<String>) -> Self {
        SendError::Transient {
            reason: reason.into(),
        }
    }

    /// A [`SendError::Permanent`] with the given kind and reason.
    pub fn permanent(kind: PermanentKind, reason: impl Into<String>) -> Self {
        SendError::Permanent {
            kind,
            reason: reason.into(),
        }
    }

    /// Whether trying the same message again later may succeed (transient or slow-down).
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SendError::Permanent { .. })
    }
}

/// Why a permanent failure is permanent; maps to Altinn's result codes
/// (`reference/delivery-chain.md` §1.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermanentKind {
    /// The address or number is not one the provider can deliver to: `Failed_InvalidEmailFormat`
    /// for e-mail (e.g. SMTP 550/553 on RCPT), `Failed_InvalidRecipient` for SMS (PSWin's
    /// "Invalid RCV").
    InvalidRecipient,
    /// The provider refused the message for another lasting reason (SMTP 5xx on DATA, an HTTP
    /// 4xx other than 401/403/408/429): `Failed` / `Failed_Rejected`.
    Rejected,
}

/// When a provider lets us send again, as its `Retry-After` said it (RFC 9110 §10.2.3): a delay
/// or a point in time. Kept in this form so that adapters need no clock; the job that handles
/// the answer resolves it with [`RetryAfter::until`] and its own `Clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Wait this long from the moment the answer arrived.
    Delay(Duration),
    /// Wait until this instant (UTC).
    At(DateTime<Utc>),
}

impl RetryAfter {
    /// Reads a `Retry-After` header value: whole seconds (`"120"`) or an HTTP date
    /// (`"Wed, 21 Oct 2026 07:28:00 GMT"`). A missing or unreadable value gives
    /// [`DEFAULT_RETRY_AFTER`], as Altinn does.
    pub fn from_header(value: Option<&str>) -> Self {
        let Some(value) = value.map(str::trim) else {
            return RetryAfter::Delay(DEFAULT_RETRY_AFTER);
        };
        if let Ok(seconds) = value.parse::<u64>() {
            return RetryAfter::Delay(Duration::from_secs(seconds));
        }
        match httpdate::parse_http_date(value) {
            Ok(at) => RetryAfter::At(DateTime::<Utc>::from(at)),
            Err(_) => RetryAfter::Delay(DEFAULT_RETRY_AFTER),
        }
    }

    /// The instant (UTC) from which sending may resume, given the time `now` at which the
    /// answer arrived.
    pub fn until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match *self {
            RetryAfter::Delay(delay) => {
                now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)
            }
            RetryAfter::At(at) => at.max(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = Utc.with_ymd_and_hms(2026, 10, 21, 7, 0, 0).unwrap();
        assert_eq!(
            RetryAfter::from_header(Some("120")),
            RetryAfter::Delay(Duration::from_secs(120))
        );
        assert_eq!(
            RetryAfter::from_header(Some("120")).until(now),
            Utc.with_ymd_and_hms(2026, 10, 21, 7, 2, 0).unwrap()
        );
        let at = RetryAfter::from_header(Some("Wed, 21 Oct 2026 07:28:00 GMT"));
        assert_eq!(
            at.until(now),
            Utc.with_ymd_and_hms(2026, 10, 21, 7, 28, 0).unwrap()
        );
        // A date already past means "now", not the past.
        assert_eq!(
            at.until(now + chrono::Duration::hours(1)),
            now + chrono::Duration::hours(1)
        );
        assert_eq!(
            RetryAfter::from_header(None),
            RetryAfter::Delay(DEFAULT_RETRY_AFTER)
        );
        assert_eq!(
            RetryAfter::from_header(Some("soon")),
            RetryAfter::Delay(DEFAULT_RETRY_AFTER)
        );
    }

    #[test]
    fn only_permanent_failures_are_final() {
        assert!(SendError::transient("x").is_retryable());
        assert!(
            SendError::SlowDown {
                retry_after: RetryAfter::Delay(Duration::from_secs(1)),
                reason: "429".into()
            }
            .is_retryable()
        );
        assert!(!SendError::permanent(PermanentKind::Rejected, "550").is_retryable());
    }
}
