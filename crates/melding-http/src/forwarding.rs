//! The forwarding endpoints (reference §4.12): a recipient forwards a read letter to an e-mail
//! address, and the hidden check of whether a letter allows forwarding.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use melding_api_types::ProblemDetails;
use melding_api_types::forwarding::{AllowForwardingExt, ForwardCorrespondenceExt};
use melding_core::ForwardRequest;
use melding_core::forward::links::LinkError;
use melding_domain::CorrespondenceId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Caller, Policy};
use crate::error::ApiError;
use crate::extract::{check_accept, guid, json_body};

const JSON: &[&str] = &["application/json"];

/// The largest forward body: an address of at most 1000 and a text of at most 200 characters
/// fit many times over.
const FORWARD_BODY_LIMIT: usize = 16 * 1024;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(forward))
        .routes(routes!(check_forwarding))
        .routes(routes!(forwarded_attachment))
        .layer(DefaultBodyLimit::max(FORWARD_BODY_LIMIT))
}

/// Forward a read letter to an e-mail address, with its attachments. The e-mail is sent by a
/// background job; the letter gets the status Forwarded once the e-mail channel accepts it.
/// Forwarding to the same address (case and surrounding spaces ignored) twice is refused.
#[utoipa::path(
    post, path = "/correspondence/api/v1/correspondence/{correspondenceId}/forward", tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    request_body = ForwardCorrespondenceExt,
    responses(
        (status = 200, body = String, description = "The forwarding event's id"),
        (status = 403, description = "The token lacks altinn:correspondence.read: empty body"),
        (status = 400, description = "CORR-03011, 03027, 01063, 01066, 01067, 01065, 01064, or a validation problem", body = ProblemDetails),
        (status = 401, description = "Not the letter's recipient (CORR-04001)", body = ProblemDetails),
        (status = 404, description = "Not found or not visible (CORR-01001)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn forward(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<String>, ApiError> {
    let principal = caller.authorize(Policy::Recipient)?;
    let id: CorrespondenceId = guid(&id, "correspondenceId")?;
    check_accept(&headers, JSON)?;
    let dto: ForwardCorrespondenceExt = json_body(&state.stats, &headers, &body)?;
    let forward_to = dto.forward_to()?;
    let access = state.melding.recipient_access(&principal, id).await?;
    let event = state
        .melding
        .forward(
            access,
            ForwardRequest {
                forward_to,
                forwarding_text: dto.forwarding_text,
            },
        )
        .await?;
    Ok(Json(event.to_string()))
}

/// Whether the letter allows forwarding. Hidden in Altinn's document; for the services that
/// offer a forward button.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}/forward/check", tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = AllowForwardingExt),
        (status = 403, description = "The token lacks altinn:correspondence.forward.check: empty body"),
        (status = 404, description = "No such letter (CORR-01001)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn check_forwarding(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AllowForwardingExt>, ApiError> {
    caller.require(Policy::CheckAllowForwarding)?;
    let id: CorrespondenceId = guid(&id, "correspondenceId")?;
    check_accept(&headers, JSON)?;
    let allow_forwarding = state.melding.forwarding_allowed(id).await?;
    Ok(Json(AllowForwardingExt { allow_forwarding }))
}

/// Download one attachment of a forwarded letter through the link its e-mail carries: the
/// attachments too large to go along as files are sent as these links. No login: the link's
/// token is the permission, and it works until it expires (7 days by default), or until the
/// attachment or the letter is purged.
#[utoipa::path(
    get, path = "/correspondence/api/v1/forwarding/attachment/{token}", tag = "Correspondence",
    params(("token" = String, Path, description = "The link's token, 43 base64url characters")),
    responses(
        (status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No link has this token", body = ProblemDetails),
        (status = 410, description = "The link has expired, or the attachment or letter was purged", body = ProblemDetails),
    ),
)]
async fn forwarded_attachment(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let d = match state.melding.download_forwarded_attachment(&token).await {
        Ok(d) => d,
        Err(LinkError::Unknown) => {
            return Err(ApiError::Plain(
                StatusCode::NOT_FOUND,
                "The download link is unknown".into(),
            ));
        }
        Err(LinkError::Expired(at)) => {
            return Err(ApiError::Plain(
                StatusCode::GONE,
                format!(
                    "The download link expired at {}",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ));
        }
        Err(LinkError::Gone) => {
            return Err(ApiError::Plain(
                StatusCode::GONE,
                "The attachment is no longer available".into(),
            ));
        }
        Err(LinkError::Core(e)) => return Err(e.into()),
    };
    let (content_type, inline) = melding_domain::attachment::download_type(&d.attachment.file_name);
    let name = d.attachment.file_name.clone();
    let mut res = crate::attachment::stream_file(d, content_type, Some((name, inline)));
    // The token is in the URL: a page the file links to must not learn it.
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(res)
}
