//! The notification endpoints: the send-condition checks Altinn Notifications calls before it
//! sends (reference §4.13), and the webhook the SMS gateway posts delivery reports to
//! (`delivery-chain.md` §1.13, §7.2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use melding_api_types::ProblemDetails;
use melding_core::notify::{DeliveryReportError, SmsReportFormat};
use melding_domain::CorrespondenceId;
use melding_domain::notification::OrderKind;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Caller, Policy};
use crate::error::ApiError;

/// Where the SMS gateway posts its delivery reports. Melding's own path (Altinn receives LINK's
/// reports in its Notifications service, outside Correspondence's API): under
/// `/notifications/api/v1/`, as Altinn Notifications names its paths.
pub const SMS_DELIVERY_REPORTS: &str = "/notifications/api/v1/sms/delivery-reports";

/// How the SMS gateway's delivery-report webhook is reached: the HTTP Basic credentials the
/// gateway is configured with (LINK Mobility's PSWin posts with Basic auth, `delivery-chain.md`
/// §7.2) and the format it posts in.
#[derive(Clone)]
pub struct SmsReportWebhook {
    /// The Basic-auth user name.
    pub username: String,
    /// The Basic-auth password.
    pub password: String,
    /// Generic JSON or LINK PSWin XML.
    pub format: SmsReportFormat,
}

impl std::fmt::Debug for SmsReportWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsReportWebhook")
            .field("username", &self.username)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl SmsReportWebhook {
    /// Whether an `Authorization` header value carries these credentials, compared in constant
    /// time (the `subtle` crate) so the comparison does not leak how much matched.
    fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(encoded) = authorization.and_then(|a| {
            a.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
                .map(|(_, v)| v.trim())
        }) else {
            return false;
        };
        let Ok(decoded) = STANDARD.decode(encoded) else {
            return false;
        };
        let expected = format!("{}:{}", self.username, self.password);
        bool::from(decoded.as_slice().ct_eq(expected.as_bytes()))
    }
}

/// `{"sendNotification": bool}` (reference §4.13).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationCheckExt {
    /// Whether the notice should be sent now.
    pub send_notification: bool,
}

/// What the delivery-report webhook did with a body.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryReportsRecordedExt {
    /// Reports matched to a notification by the gateway's reference.
    pub matched: usize,
    /// Reports kept as unmatched (unknown reference or state).
    pub unmatched: usize,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_reminder))
        .routes(routes!(check_main))
        .routes(routes!(sms_delivery_reports))
}

/// The condition answer for `id`: a path that is not a UUID names no letter, so `false` too
/// ("always 200", reference §4.13).
async fn condition(
    state: &AppState,
    caller: &Caller,
    id: &str,
    kind: OrderKind,
) -> Result<Json<NotificationCheckExt>, ApiError> {
    caller.require(Policy::NotificationCheck)?;
    let send_notification = match id.parse::<CorrespondenceId>() {
        Ok(id) => state.melding.notification_condition(id, kind).await?,
        Err(_) => false,
    };
    Ok(Json(NotificationCheckExt { send_notification }))
}

/// Whether a reminder about the letter should be sent now: published, not failed, not purged
/// and not read. Always 200; an unknown letter is `false`.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}/notification/check", tag = "Notifications",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = NotificationCheckExt),
        (status = 403, description = "The token lacks altinn:system/notifications.condition.check: empty body"),
    ),
    security(("bearer" = []))
)]
async fn check_reminder(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<NotificationCheckExt>, ApiError> {
    condition(&state, &caller, &id, OrderKind::Reminder).await
}

/// Whether the main notice about the letter should be sent now: published, not failed and not
/// purged (a read letter still gets it). Always 200; an unknown letter is `false`.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}/notification/check/main", tag = "Notifications",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = NotificationCheckExt),
        (status = 403, description = "The token lacks altinn:system/notifications.condition.check: empty body"),
    ),
    security(("bearer" = []))
)]
async fn check_main(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<NotificationCheckExt>, ApiError> {
    condition(&state, &caller, &id, OrderKind::Main).await
}

/// The SMS gateway's delivery reports (generic JSON or LINK PSWin XML, as configured), behind
/// HTTP Basic auth. Each report moves its SMS to Delivered or a `Failed_*` status; reports for
/// unknown references are kept for inspection (`melding notifications unmatched`… in the
/// database). 401 with `WWW-Authenticate: Basic` without the configured credentials (always,
/// when none are configured); 400 for a body that is not a report document (kept too).
#[utoipa::path(
    post, path = "/notifications/api/v1/sms/delivery-reports", tag = "Notifications",
    request_body(content = String, content_type = "application/json", description = "Generic JSON reports, or PSWin XML (application/xml)"),
    responses(
        (status = 200, body = DeliveryReportsRecordedExt),
        (status = 400, body = ProblemDetails, description = "Not a report document"),
    ),
    security(("basic" = []))
)]
async fn sms_delivery_reports(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(webhook) = state
        .sms_reports
        .as_ref()
        .filter(|w| w.admits(authorization))
    else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                r#"Basic realm="melding-sms-reports", charset="UTF-8""#,
            )],
        )
            .into_response());
    };
    match state
        .melding
        .record_sms_delivery_reports(webhook.format, &body)
        .await
    {
        Ok(done) => Ok(Json(DeliveryReportsRecordedExt {
            matched: done.matched,
            unmatched: done.unmatched,
        })
        .into_response()),
        Err(DeliveryReportError::Unreadable(e)) => {
            Err(ApiError::Plain(StatusCode::BAD_REQUEST, e.to_string()))
        }
        Err(DeliveryReportError::Core(e)) => Err(e.into()),
    }
}
