//! The attachment endpoints (reference §4.10, §4.11, §4.14): the sender's shared attachments,
//! and the recipient's downloads from a letter. Bytes stream in both directions; nothing holds
//! a whole file in memory.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use melding_api_types::ProblemDetails;
use melding_api_types::attachment::{
    AttachmentDetailsExt, AttachmentOverviewExt, AttachmentStatusEventExt,
    CorrespondenceAttachmentExt, InitializeAttachmentExt, ValidAttachment,
};
use melding_core::attachments::{AttachmentRequest, Download};
use melding_domain::attachment::{self, AttachmentLink, content_disposition};
use melding_domain::{Attachment, AttachmentId, CorrespondenceId};
use tokio_util::io::{ReaderStream, StreamReader};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Policy};
use crate::error::ApiError;
use crate::extract::{check_accept, guid, json_body};
use crate::{AppState, JSON_BODY_LIMIT};

const JSON: &[&str] = &["application/json"];
const OCTET: &[&str] = &["application/octet-stream"];
const ZIP: &[&str] = &["application/zip"];

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    let json = OpenApiRouter::new()
        .routes(routes!(initialize_attachment))
        .routes(routes!(attachment_overview, delete_attachment))
        .routes(routes!(attachment_details))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    // Uploads and downloads stream; the size rules are the use case's (50 GB raw upload).
    let streams = OpenApiRouter::new()
        .routes(routes!(upload_attachment))
        .routes(routes!(sender_download))
        .routes(routes!(recipient_download))
        .routes(routes!(download_all))
        .layer(DefaultBodyLimit::disable());
    json.merge(streams)
}

/// Initialize a shared attachment; upload its file next.
#[utoipa::path(
    post, path = "/correspondence/api/v1/attachment", tag = "Attachment",
    request_body = InitializeAttachmentExt,
    responses(
        (status = 200, body = String, description = "The attachment id"),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 400, description = "Validation problem, CORR-01036, 02010–02013, 02017, 02021", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn initialize_attachment(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<String>, ApiError> {
    let principal = caller.authorize(Policy::Sender)?;
    check_accept(&headers, JSON)?;
    let dto: InitializeAttachmentExt = json_body(&state.stats, &headers, &body)?;
    let valid = dto.validate().map_err(ApiError::Validation)?;
    let id = state
        .melding
        .initialize_attachment(
            &principal,
            &valid.resource_id,
            attachment_request(valid.attachment),
        )
        .await?;
    Ok(Json(id.to_string()))
}

/// The use case's attachment metadata from metadata that passed the model checks.
pub(crate) fn attachment_request(a: ValidAttachment) -> AttachmentRequest {
    AttachmentRequest {
        file_name: a.file_name,
        display_name: a.display_name,
        is_encrypted: a.is_encrypted,
        checksum: a.checksum,
        senders_reference: a.senders_reference,
        expiration_in_days: a.expiration_in_days,
        data_location_type: a.data_location_type,
    }
}

fn attachment_call(
    caller: &Caller,
    id: &str,
    headers: &HeaderMap,
    produces: &'static [&'static str],
) -> Result<(melding_core::Principal, AttachmentId), ApiError> {
    let principal = caller.authorize(Policy::Sender)?;
    let id = guid(id, "attachmentId")?;
    check_accept(headers, produces)?;
    Ok((principal, id))
}

/// Upload the file of an initialized attachment, once, as the raw request body.
#[utoipa::path(
    post, path = "/correspondence/api/v1/attachment/{attachmentId}/upload", tag = "Attachment",
    params(("attachmentId" = uuid::Uuid, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = AttachmentOverviewExt),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 400, description = "CORR-02003, 02004, 02005, 02008", body = ProblemDetails),
        (status = 404, description = "CORR-02001", body = ProblemDetails),
        (status = 502, description = "Storage failure (CORR-02002)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn upload_attachment(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<AttachmentOverviewExt>, ApiError> {
    let (principal, id) = attachment_call(&caller, &id, &headers, JSON)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let stream = request
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let mut reader = StreamReader::new(stream);
    let access = state.melding.attachment_access(&principal, id).await?;
    let a = state
        .melding
        .upload_attachment(access, declared, &mut reader)
        .await?;
    Ok(Json(overview_dto(&a)))
}

/// The attachment as its sender sees it.
#[utoipa::path(
    get, path = "/correspondence/api/v1/attachment/{attachmentId}", tag = "Attachment",
    params(("attachmentId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = AttachmentOverviewExt),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 404, description = "CORR-02001", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn attachment_overview(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AttachmentOverviewExt>, ApiError> {
    let (principal, id) = attachment_call(&caller, &id, &headers, JSON)?;
    let access = state.melding.attachment_access(&principal, id).await?;
    let a = state.melding.attachment_overview(access);
    Ok(Json(overview_dto(&a)))
}

/// The overview plus the status history.
#[utoipa::path(
    get, path = "/correspondence/api/v1/attachment/{attachmentId}/details", tag = "Attachment",
    params(("attachmentId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = AttachmentDetailsExt),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 404, description = "CORR-02001", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn attachment_details(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AttachmentDetailsExt>, ApiError> {
    let (principal, id) = attachment_call(&caller, &id, &headers, JSON)?;
    let access = state.melding.attachment_access(&principal, id).await?;
    let a = state.melding.attachment_overview(access);
    Ok(Json(AttachmentDetailsExt {
        overview: overview_dto(&a),
        status_history: a
            .statuses
            .iter()
            .map(|e| AttachmentStatusEventExt {
                status: e.status.name().to_owned(),
                status_text: e.text.clone(),
                status_changed: e.at,
            })
            .collect(),
    }))
}

/// Purge an attachment no letter uses; its file is deleted. Answers the purged attachment's
/// overview, the `AttachmentOverviewExt` Altinn's operation declares.
#[utoipa::path(
    delete, path = "/correspondence/api/v1/attachment/{attachmentId}", tag = "Attachment",
    params(("attachmentId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = AttachmentOverviewExt, description = "Purged"),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 400, description = "CORR-02006, 02007, 02018", body = ProblemDetails),
        (status = 404, description = "CORR-02001", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn delete_attachment(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AttachmentOverviewExt>, ApiError> {
    let (principal, id) = attachment_call(&caller, &id, &headers, JSON)?;
    let access = state.melding.attachment_access(&principal, id).await?;
    let a = state.melding.delete_attachment(access).await?;
    Ok(Json(overview_dto(&a)))
}

/// The sender's copy of the file, until a letter using it has been published.
#[utoipa::path(
    get, path = "/correspondence/api/v1/attachment/{attachmentId}/download", tag = "Attachment",
    params(("attachmentId" = uuid::Uuid, Path)),
    responses(
        (status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 400, description = "CORR-02016, 02019, 02020", body = ProblemDetails),
        (status = 404, description = "CORR-02001", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn sender_download(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (principal, id) = attachment_call(&caller, &id, &headers, OCTET)?;
    let access = state.melding.attachment_access(&principal, id).await?;
    let d = state.melding.download_attachment_as_sender(access).await?;
    Ok(stream_file(d, "application/octet-stream", None))
}

/// The recipient's download of one attachment of a letter; logs AttachmentsDownloaded.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}/attachment/{attachmentId}/download",
    tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path), ("attachmentId" = uuid::Uuid, Path)),
    responses(
        (status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, description = "The token lacks altinn:correspondence.read: empty body"),
        (status = 400, description = "CORR-02019, 02020", body = ProblemDetails),
        (status = 404, description = "CORR-01001, 02001", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn recipient_download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let principal = caller.authorize(Policy::Recipient)?;
    let id: CorrespondenceId = guid(&id, "correspondenceId")?;
    let aid: AttachmentId = guid(&aid, "attachmentId")?;
    let access = state.melding.recipient_access(&principal, id).await?;
    let d = state
        .melding
        .download_letter_attachment(access, aid)
        .await?;
    let (content_type, inline) = attachment::download_type(&d.attachment.file_name);
    let name = d.attachment.file_name.clone();
    Ok(stream_file(d, content_type, Some((name, inline))))
}

/// Every attachment of a letter as one zip (stored entries, length known up front).
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}/attachments/downloadall",
    tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, content_type = "application/zip", body = Vec<u8>),
        (status = 403, description = "The token lacks altinn:correspondence.read: empty body"),
        (status = 400, description = "CORR-02019, 02020, 02023", body = ProblemDetails),
        (status = 404, description = "CORR-01001, 02001", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn download_all(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let principal = caller.authorize(Policy::Recipient)?;
    let id: CorrespondenceId = guid(&id, "correspondenceId")?;
    check_accept(&headers, ZIP)?;
    let access = state.melding.recipient_access(&principal, id).await?;
    let all = state.melding.download_all(access).await?;
    let (length, file_name, stream) = all.into_zip();
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(false, &file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// A file answer with its exact length, so a broken stream aborts the connection instead of
/// ending a short body cleanly.
pub(crate) fn stream_file(
    d: Download,
    content_type: &str,
    name: Option<(String, bool)>,
) -> Response {
    let mut res = Response::new(Body::from_stream(ReaderStream::with_capacity(
        d.reader,
        64 * 1024,
    )));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(d.size));
    if let Some((name, inline)) = name
        && let Ok(v) = HeaderValue::from_str(&content_disposition(inline, &name))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res.into_response()
}

pub(crate) fn overview_dto(a: &Attachment) -> AttachmentOverviewExt {
    let current = a.current();
    AttachmentOverviewExt {
        resource_id: a.resource_id.to_string(),
        sender: a.sender_urn(),
        file_name: a.file_name.clone(),
        display_name: a.display_name.clone(),
        is_encrypted: false,
        checksum: a.checksum.clone().unwrap_or_default(),
        senders_reference: a.senders_reference.clone(),
        expiration_in_days: a.expiration_in_days,
        attachment_id: a.id.as_uuid(),
        status: a.status().name().to_owned(),
        status_text: current.map(|e| e.text.clone()).unwrap_or_default(),
        status_changed: current.map_or(a.created, |e| e.at),
        correspondence_ids: a.correspondence_ids.iter().map(|c| c.as_uuid()).collect(),
        data_type: a.data_type().to_owned(),
    }
}

/// An attachment as a letter's overview lists it.
pub(crate) fn letter_attachment_dto(link: &AttachmentLink) -> CorrespondenceAttachmentExt {
    let a = &link.attachment;
    let current = a.current();
    CorrespondenceAttachmentExt {
        id: a.id.as_uuid(),
        file_name: a.file_name.clone(),
        display_name: a.display_name.clone(),
        is_encrypted: a.is_encrypted,
        checksum: a.checksum.clone(),
        senders_reference: a.senders_reference.clone(),
        expiration_in_days: None,
        data_location_type: a.data_location_type.name().to_owned(),
        created: a.created,
        status: a.status().name().to_owned(),
        status_text: current.map(|e| e.text.clone()).unwrap_or_default(),
        status_changed: current.map_or(a.created, |e| e.at),
        data_type: a.data_type().to_owned(),
        expiration_time: link.expiration_time,
    }
}
