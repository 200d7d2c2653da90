//! `POST /correspondence/api/v1/correspondence/upload` (reference §4.2): a letter and its files in
//! one multipart request. Form fields carry the same model as the JSON endpoint, in ASP.NET's
//! field-path notation; file parts named `attachments` are handed to the upload use case
//! (`melding_core::LetterUpload`) as they arrive, in whatever order the parts come, which
//! streams them into storage and deletes them when the letter is refused.

use axum::Json;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode};
use futures_util::TryStreamExt;
use melding_api_types::ProblemDetails;
use melding_api_types::correspondence::{
    InitializeCorrespondencesExt, InitializeCorrespondencesResponseExt,
};
use melding_api_types::form::form_to_json;
use melding_api_types::input::parse_json;
use melding_core::{InitializeRequest, LetterUpload};
use tokio_util::io::StreamReader;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Caller, Policy};
use crate::correspondence::{initialized_dto, to_initialize_request};
use crate::error::ApiError;
use crate::extract::check_accept;

/// Text fields beyond these limits are refused, so a form cannot exhaust memory.
const MAX_TEXT_FIELD: usize = 256 * 1024;
const MAX_FIELDS: usize = 10_000;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(initialize_with_files))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// Initialize letters with new attachments: form fields for the letter, one `attachments` file
/// part per entry of `Correspondence.Content.Attachments`.
#[utoipa::path(
    post, path = "/correspondence/api/v1/correspondence/upload", tag = "Correspondence",
    request_body(content = String, content_type = "multipart/form-data",
        description = "Form fields `Correspondence.ResourceId`, `Correspondence.Content.MessageTitle`, \
            `Correspondence.Content.Attachments[0].FileName`, `Recipients[0]`, … and file parts named `attachments`"),
    responses(
        (status = 200, body = InitializeCorrespondencesResponseExt),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 400, description = "Validation problem or business rule (incl. CORR-01005, 02004, 02008, 02010–02013)", body = ProblemDetails),
        (status = 502, description = "Storage failure (CORR-02002)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn initialize_with_files(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<InitializeCorrespondencesResponseExt>, ApiError> {
    let principal = caller.authorize(Policy::Sender)?;
    check_accept(&headers, &["application/json"])?;
    let multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|e| ApiError::Plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.body_text()))?;
    let mut upload = state.melding.letter_upload(&principal);
    match receive(multipart, &mut upload).await {
        Ok(req) => {
            let done = state.melding.initialize_uploaded(upload, req).await?;
            Ok(Json(initialized_dto(done)))
        }
        Err(e) => {
            // The form was refused before the letter reached the use case: its files go.
            upload.discard().await;
            Err(e)
        }
    }
}

/// Reads the form: file parts go to `upload` as they arrive, text fields are collected and, at
/// the end, checked against the model and turned into the use case's request.
async fn receive(
    mut multipart: Multipart,
    upload: &mut LetterUpload,
) -> Result<InitializeRequest, ApiError> {
    let mut fields = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(form_error(&e.body_text())),
        };
        let name = field.name().unwrap_or("").to_owned();
        if name.eq_ignore_ascii_case("attachments") {
            let file_name = field.file_name().map(str::to_owned);
            let mut reader = StreamReader::new(field.map_err(std::io::Error::other));
            upload.add_file(file_name, &mut reader).await?;
        } else {
            if fields.len() >= MAX_FIELDS {
                return Err(form_error("The form has too many fields"));
            }
            let text = read_text(field, &name).await?;
            fields.push((name, text));
        }
    }
    let json = form_to_json(fields);
    let body = serde_json::to_vec(&json).map_err(|e| form_error(&e.to_string()))?;
    let dto: InitializeCorrespondencesExt = parse_json(&body).map_err(ApiError::from)?;
    let valid = dto.validate().map_err(ApiError::Validation)?;
    to_initialize_request(valid)
}

/// One text field of the form, at most [`MAX_TEXT_FIELD`] bytes of UTF-8.
async fn read_text(mut field: Field<'_>, name: &str) -> Result<String, ApiError> {
    let mut text = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if text.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(form_error(&format!("The form field {name} is too long")));
                }
                text.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(form_error(&e.body_text())),
        }
    }
    String::from_utf8(text).map_err(|_| form_error(&format!("The form field {name} is not UTF-8")))
}

fn form_error(detail: &str) -> ApiError {
    ApiError::Plain(
        StatusCode::BAD_REQUEST,
        format!("The multipart form could not be read: {detail}"),
    )
}
