//! The real SMS channel: an HTTP gateway, spoken to in one of two shapes.
//!
//! Why reqwest: the workspace's HTTP client (rustls, no OpenSSL); gateways are plain HTTPS
//! POSTs, so no SMS crate is needed (`reference/dependencies-and-limits.md` §3, "SMS and
//! print"). The answer is classified once: 429 → slow down until its `Retry-After`; 5xx, 408,
//! 401/403 and network failures → transient; other refusals → permanent
//! (`reference/delivery-chain.md` §1.14).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;

use super::delivery_report::ReportFormat;
use super::{SmsMessage, SmsReceipt, SmsSender, count_segments, generic, pswin};
use crate::error::{RetryAfter, SendError};
use crate::secret::Secret;

/// The shape of the gateway's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayProtocol {
    /// Melding's generic JSON shape, for any gateway fronted by a small adapter: `POST` of
    /// `{"reference", "sender", "to" (E.164), "text", "timeToLiveSeconds"}`, answered 2xx with
    /// `{"gatewayReference": "…"}`; a 4xx with `{"error": "invalidRecipient"}` refuses the
    /// number. Delivery reports: see [`ReportFormat::GenericJson`].
    GenericJson {
        /// Sent as `Authorization: Bearer <token>` when set.
        bearer_token: Option<Secret>,
    },
    /// LINK Mobility's PSWin XML gateway, Altinn's provider (`reference/delivery-chain.md`
    /// §7.2): an ISO-8859-1 `SESSION` document with the account in `CLIENT`/`PW`, receiver as
    /// MSISDN without `+`, TTL in minutes, Unicode texts as hex UCS-2 with `OP=9`.
    LinkPswinXml {
        /// The account name (`CLIENT`).
        client: String,
        /// The account password (`PW`).
        password: Secret,
    },
}

impl GatewayProtocol {
    /// The format of the delivery reports this gateway posts back.
    pub fn report_format(&self) -> ReportFormat {
        match self {
            GatewayProtocol::GenericJson { .. } => ReportFormat::GenericJson,
            GatewayProtocol::LinkPswinXml { .. } => ReportFormat::LinkPswinXml,
        }
    }
}

/// Settings of the SMS gateway channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSmsGatewayConfig {
    /// The URL messages are POSTed to.
    pub url: String,
    /// The gateway's API shape and account.
    pub protocol: GatewayProtocol,
    /// How long one request may take, connection included, before it is a transient failure.
    pub timeout: Duration,
}

/// Sends SMS through an HTTP gateway.
#[derive(Debug, Clone)]
pub struct HttpSmsGateway {
    client: reqwest::Client,
    config: HttpSmsGatewayConfig,
}

impl HttpSmsGateway {
    /// A gateway client with its own connection pool.
    ///
    /// Errors: [`GatewaySetupError`] when the HTTP client's TLS backend cannot start.
    pub fn new(config: HttpSmsGatewayConfig) -> Result<Self, GatewaySetupError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| GatewaySetupError(e.to_string()))?;
        Ok(HttpSmsGateway { client, config })
    }
}

/// The HTTP client for the gateway could not be set up (its TLS backend did not start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot set up the SMS gateway client: {0}")]
pub struct GatewaySetupError(pub String);

#[async_trait]
impl SmsSender for HttpSmsGateway {
    #[tracing::instrument(skip_all, fields(reference = %message.reference))]
    async fn send(&self, message: &SmsMessage) -> Result<SmsReceipt, SendError> {
        let segments = count_segments(&message.text);
        let request = self.client.post(&self.config.url);
        let request = match &self.config.protocol {
            GatewayProtocol::GenericJson { bearer_token } => {
                generic::send_request(request, bearer_token.as_ref(), message)
            }
            GatewayProtocol::LinkPswinXml { client, password } => {
                pswin::send_request(request, client, password, message)
            }
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(network)?;
        if let Some(error) = classify_status(status, retry_after.as_deref()) {
            tracing::warn!(%status, "SMS gateway did not take the message");
            return Err(error);
        }
        let gateway_reference = match &self.config.protocol {
            GatewayProtocol::GenericJson { .. } => generic::read_response(status, &body)?,
            GatewayProtocol::LinkPswinXml { .. } => pswin::read_response(status, &body)?,
        };
        Ok(SmsReceipt {
            gateway_reference,
            segments,
        })
    }
}

/// The failure a status code means regardless of the body, or `None` when the body decides.
fn classify_status(status: StatusCode, retry_after: Option<&str>) -> Option<SendError> {
    if status == StatusCode::TOO_MANY_REQUESTS {
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
            "HTTP {status}: the gateway refused our credentials"
        )));
    }
    None
}

/// A request that got no answer: refused, dropped, timed out or unreadable.
fn network(error: reqwest::Error) -> SendError {
    // `{:#}`-style chains are not available on reqwest::Error; walk the sources so that
    // "connection refused" reaches the log and not only "error sending request".
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
    use super::*;

    #[test]
    fn status_classes() {
        assert_eq!(
            classify_status(StatusCode::TOO_MANY_REQUESTS, Some("30")),
            Some(SendError::SlowDown {
                retry_after: RetryAfter::Delay(Duration::from_secs(30)),
                reason: "HTTP 429 Too Many Requests".into()
            })
        );
        for status in [500, 502, 503, 408, 401, 403] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(
                matches!(
                    classify_status(status, None),
                    Some(SendError::Transient { .. })
                ),
                "{status}"
            );
        }
        for status in [200, 201, 202, 400, 404, 422] {
            assert_eq!(
                classify_status(StatusCode::from_u16(status).unwrap(), None),
                None
            );
        }
    }
}
