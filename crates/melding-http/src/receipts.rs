//! The delivery chain's receipt endpoints (Melding additions, SvarUt's vocabulary:
//! `reference/delivery-chain.md` §3.3–§3.4): a letter's receipt trail for its sender and
//! recipient, the latest status of up to 1,000 of a sender's letters, and a sender's report
//! that a letter was read in another system, which stops its print.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use melding_api_types::ProblemDetails;
use melding_api_types::receipts::{
    ReadElsewhereExt, ReceiptEventExt, ReceiptQueryExt, ReceiptStatusExt, ReceiptTrailExt,
};
use melding_domain::{CorrespondenceId, DeliveryEvent};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Caller, Policy};
use crate::error::ApiError;
use crate::extract::{check_accept, guid, json_body};

const JSON: &[&str] = &["application/json"];

/// The largest query body: 1,000 ids of 38 characters fit with room to spare.
const RECEIPTS_BODY_LIMIT: usize = 64 * 1024;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receipt_trail))
        .routes(routes!(receipt_statuses))
        .routes(routes!(read_elsewhere))
        .layer(DefaultBodyLimit::max(RECEIPTS_BODY_LIMIT))
}

fn event_dto(e: &DeliveryEvent) -> ReceiptEventExt {
    ReceiptEventExt {
        status: e.status.as_str().to_owned(),
        text: e.text.clone(),
        at: e.at,
        details: e
            .details
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok()),
    }
}

/// The letter's receipt trail in SvarUt's vocabulary, oldest first: received, routed,
/// notified, read, sent to and delivered in a digital mailbox, sent to print, printed, not
/// delivered, handled manually. For the letter's sender and its recipient.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}/receipts", tag = "Receipts",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = ReceiptTrailExt),
        (status = 403, description = "The token lacks altinn:correspondence.write and altinn:correspondence.read: empty body"),
        (status = 400, description = "A malformed id", body = ProblemDetails),
        (status = 401, description = "Neither the letter's sender nor its recipient (CORR-04001)", body = ProblemDetails),
        (status = 404, description = "No such letter (CORR-01001)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn receipt_trail(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ReceiptTrailExt>, ApiError> {
    let principal = caller.authorize(Policy::SenderOrRecipient)?;
    let id: CorrespondenceId = guid(&id, "correspondenceId")?;
    check_accept(&headers, JSON)?;
    let access = state.melding.letter_access(&principal, id).await?;
    let (events, content_deletion_due) = state.melding.receipts(access).await?;
    let status = events
        .last()
        .map(|e| e.status.as_str().to_owned())
        .unwrap_or_default();
    Ok(Json(ReceiptTrailExt {
        correspondence_id: id.as_uuid(),
        status,
        events: events.iter().map(event_dto).collect(),
        content_deletion_due,
    }))
}

/// The latest receipt status of up to 1,000 letters the caller sent (SvarUt's `status-sok`).
/// Letters it did not send, or that do not exist, are left out of the answer.
#[utoipa::path(
    post, path = "/correspondence/api/v1/correspondence/receipts", tag = "Receipts",
    request_body = ReceiptQueryExt,
    responses(
        (status = 200, body = Vec<ReceiptStatusExt>),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 400, description = "No ids, or more than 1,000", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn receipt_statuses(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Vec<ReceiptStatusExt>>, ApiError> {
    let principal = caller.authorize(Policy::Sender)?;
    check_accept(&headers, JSON)?;
    let query: ReceiptQueryExt = json_body(&state.stats, &headers, &body)?;
    let ids: Vec<CorrespondenceId> = query
        .ids()?
        .iter()
        .map(|u| CorrespondenceId::from_uuid(*u))
        .collect();
    let statuses = state.melding.receipt_statuses(&principal, &ids).await?;
    Ok(Json(
        statuses
            .into_iter()
            .map(|s| ReceiptStatusExt {
                correspondence_id: s.correspondence_id.as_uuid(),
                status: s.status.as_str().to_owned(),
                last_changed: s.changed,
            })
            .collect(),
    ))
}

/// The sender reports that the recipient read the letter in another system (SvarUt's
/// `lest`): `LEST` in the trail, and a pending print never happens. Answers whether it was
/// recorded: `false` when the letter was already read, delivered, sent to print or stopped.
#[utoipa::path(
    post, path = "/correspondence/api/v1/correspondence/{correspondenceId}/read-elsewhere", tag = "Receipts",
    params(("correspondenceId" = uuid::Uuid, Path)),
    request_body = ReadElsewhereExt,
    responses(
        (status = 200, body = bool),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 400, description = "A malformed id or body", body = ProblemDetails),
        (status = 401, description = "Not the letter's sender (CORR-04001)", body = ProblemDetails),
        (status = 404, description = "No such letter (CORR-01001)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn read_elsewhere(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<bool>, ApiError> {
    let principal = caller.authorize(Policy::Sender)?;
    let id: CorrespondenceId = guid(&id, "correspondenceId")?;
    check_accept(&headers, JSON)?;
    let report: ReadElsewhereExt = json_body(&state.stats, &headers, &body)?;
    let system = report.system()?;
    let access = state.melding.letter_access(&principal, id).await?;
    let recorded = state
        .melding
        .mark_read_elsewhere(access, &system, report.read_at)
        .await?;
    Ok(Json(recorded))
}
