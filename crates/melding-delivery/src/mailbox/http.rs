//! How the mailbox adapters read an HTTP answer that is not a success, the same way the SMS
//! gateway does (`reference/delivery-chain.md` §1.14): 429 → slow down until its
//! `Retry-After`; 5xx, 408 and refused credentials (401/403) → transient; the rest is for the
//! adapter to read from the body.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::error::{RetryAfter, SendError};

/// The failure a status code means regardless of the body, or `None` when the body decides.
pub(super) fn classify_status(status: StatusCode, headers: &HeaderMap) -> Option<SendError> {
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok());
        return Some(SendError::SlowDown {
            retry_after: RetryAfter::from_header(retry_after),
            reason: format!("HTTP {status}"),
        });
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Some(SendError::transient(format!("HTTP {status}")));
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Some(SendError::transient(format!(
            "HTTP {status}: the mailbox provider refused our credentials"
        )));
    }
    None
}

/// A request that got no answer: refused, dropped, timed out or unreadable. The error's
/// sources are walked so that "connection refused" reaches the log, not only "error sending
/// request".
pub(super) fn network(error: reqwest::Error) -> SendError {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    SendError::transient(reason)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn status_classes() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "30".parse().unwrap());
        assert_eq!(
            classify_status(StatusCode::TOO_MANY_REQUESTS, &headers),
            Some(SendError::SlowDown {
                retry_after: RetryAfter::Delay(Duration::from_secs(30)),
                reason: "HTTP 429 Too Many Requests".into()
            })
        );
        for status in [500, 502, 503, 408, 401, 403] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(
                matches!(
                    classify_status(status, &HeaderMap::new()),
                    Some(SendError::Transient { .. })
                ),
                "{status}"
            );
        }
        for status in [200, 201, 400, 404, 409, 422] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(classify_status(status, &HeaderMap::new()), None, "{status}");
        }
    }
}
