//! The one place where use-case errors become HTTP answers: ProblemDetails with the documented
//! status and `CORR-` code, validation problems for requests that do not fit the model, and
//! empty 401/403 answers from the auth gates. Internal causes are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use melding_api_types::{ErrorCode, FieldError, ProblemDetails, ValidationProblem};
use melding_core::StoreError;
use melding_core::{CoreError, Rule};
use melding_domain::attachment::FileNameError;
use melding_domain::status::LifecycleError;

use crate::auth::TokenProblem;
use crate::middleware::current_trace_id;

/// Every refusal the HTTP layer answers. [`IntoResponse`] turns each into its documented answer:
/// a ProblemDetails (reference §2.1), a validation problem (§2.2), or the empty 401/403 of the
/// auth gates (§1.3).
#[derive(Debug)]
pub enum ApiError {
    /// No token (`None`: a bare `WWW-Authenticate: Bearer`), or one no trusted issuer vouches
    /// for (`Some`: `Bearer error="invalid_token", error_description="…"`, RFC 6750 §3.1):
    /// 401, empty body.
    Unauthenticated(Option<TokenProblem>),
    /// The token lacks the scope the route needs: 403, empty body, with
    /// `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750 §3.1).
    Forbidden {
        /// The scope the route needs (space-separated when either one will do).
        scope: &'static str,
    },
    Rule(Rule),
    Validation(Vec<FieldError>),
    Store(StoreError),
    /// A problem without a business code (404 route, 405, 408, 413, 415, …).
    Plain(StatusCode, String),
    /// The `Accept` header names nothing the endpoint produces.
    NotAcceptable(&'static str),
    /// The node serves as many requests as it may: 503 with `Retry-After`.
    Overloaded,
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Rule(r) => ApiError::Rule(r),
            CoreError::Store(s) => ApiError::Store(s),
        }
    }
}

impl From<Rule> for ApiError {
    fn from(r: Rule) -> Self {
        ApiError::Rule(r)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Validation(vec![e])
    }
}

/// The catalogue entry and detail text for a business rule.
fn code_for(rule: &Rule) -> (ErrorCode, Option<String>) {
    use ErrorCode as C;
    let plain = |c: ErrorCode| (c, None);
    match rule {
        Rule::NotFound => plain(C::CORRESPONDENCE_NOT_FOUND),
        Rule::NoAccess => plain(C::NO_ACCESS_TO_RESOURCE),
        Rule::CallerUnknown => plain(C::COULD_NOT_DETERMINE_CALLER),
        Rule::Lifecycle(l) => plain(match l {
            LifecycleError::NotVisible => C::CORRESPONDENCE_NOT_FOUND,
            LifecycleError::SenderPurgeAfterPublish => C::CORRESPONDENCE_ALREADY_PUBLISHED,
            LifecycleError::AlreadyPurged => C::CORRESPONDENCE_ALREADY_PURGED,
            LifecycleError::ReadBeforeFetched => C::READ_BEFORE_FETCHED,
            LifecycleError::ConfirmBeforeFetched => C::CONFIRM_BEFORE_FETCHED,
            LifecycleError::PurgeBeforeConfirmed => C::ARCHIVE_BEFORE_CONFIRMED,
            LifecycleError::AlreadyRead => C::CORRESPONDENCE_ALREADY_READ,
            LifecycleError::AlreadyConfirmed => C::CORRESPONDENCE_ALREADY_CONFIRMED,
        }),
        Rule::IdempotencyKeyWithMultipleRecipients => {
            plain(C::IDEMPOTENCY_KEY_WITH_MULTIPLE_RECIPIENTS)
        }
        Rule::DuplicateIdempotencyKey => plain(C::DUPLICATE_INITIALIZATION),
        Rule::ResourceNotFound => plain(C::RESOURCE_NOT_FOUND),
        Rule::ResourceTypeNotForCorrespondence => plain(C::RESOURCE_TYPE_NOT_SUPPORTED),
        Rule::ResourceTypeNotForAttachment => plain(C::ATTACHMENT_RESOURCE_TYPE_NOT_SUPPORTED),
        Rule::ForwardingAboveLevelZero => plain(C::ALLOW_FORWARDING_AUTHENTICATION_LEVEL),
        Rule::ConfidentialRequired => plain(C::IS_CONFIDENTIAL_REQUIRED),
        Rule::ConfidentialNotAllowed => plain(C::IS_CONFIDENTIAL_NOT_ALLOWED),
        Rule::NoUnopenedConfidential => plain(C::NO_UNREAD_CONFIDENTIAL_CORRESPONDENCES),
        Rule::DuplicateRecipients => plain(C::DUPLICATE_RECIPIENTS),
        // The lists are joined with ", " as the reference joins them.
        Rule::UnknownRecipients(list) => (
            C::RECIPIENT_LOOKUP_FAILED,
            Some(C::RECIPIENT_LOOKUP_FAILED.filled(&list.join(", "))),
        ),
        Rule::RecipientReserved(recipient) => (
            C::RECIPIENT_RESERVED,
            Some(C::RECIPIENT_RESERVED.filled(recipient)),
        ),
        Rule::ConfidentialRecipientsWithoutRoles(list) => (
            C::CONFIDENTIAL_RECIPIENT_ROLES,
            Some(C::CONFIDENTIAL_RECIPIENT_ROLES.filled(&list.join(", "))),
        ),
        Rule::DueDateRequired => plain(C::DUE_DATE_TIME_REQUIRED_FOR_CONFIRMATION),
        Rule::DueDateBeforeNow => plain(C::DUE_DATE_TIME_PRIOR_TO_TODAY),
        Rule::DueDateBeforePublish => plain(C::DUE_DATE_TIME_PRIOR_TO_PUBLISH_TIME),
        Rule::MissingContent => plain(C::MISSING_CONTENT),
        Rule::TitleEmpty => plain(C::MESSAGE_TITLE_EMPTY),
        Rule::TitleNotPlainText => plain(C::MESSAGE_TITLE_IS_NOT_PLAIN_TEXT),
        Rule::TitleTooLong => plain(C::MESSAGE_TITLE_TOO_LONG),
        Rule::SummaryTooLong => plain(C::SUMMARY_WRONG_LENGTH),
        Rule::BodyEmpty => plain(C::MESSAGE_BODY_EMPTY),
        Rule::BodyTooLong => plain(C::MESSAGE_BODY_TOO_LONG),
        Rule::InvalidLanguage => plain(C::INVALID_LANGUAGE),
        Rule::MessageSenderNotPlainText => plain(C::MESSAGE_SENDER_IS_NOT_PLAIN_TEXT),
        Rule::TransmissionTypeTwice => plain(C::TRANSMISSION_TYPE_TWICE),
        Rule::TransmissionTypeWithoutDialog => plain(C::TRANSMISSION_TYPE_WITHOUT_DIALOG),
        Rule::InvalidDialogId => plain(C::INVALID_DIALOG_ID),
        Rule::TransmissionWithSeveralRecipients => plain(C::TRANSMISSION_ONLY_ONE_RECIPIENT),
        Rule::TransmissionWithGuiActions => plain(C::TRANSMISSION_WITH_GUI_ACTIONS),
        Rule::DialogNotFound => plain(C::DIALOG_NOT_FOUND),
        Rule::DialogOfAnotherServiceOwner => plain(C::TRANSMISSION_SERVICE_OWNER_NOT_DIALOGS),
        Rule::DialogOfAnotherParty => plain(C::TRANSMISSION_RECIPIENT_NOT_DIALOG_PARTY),
        Rule::ExistingAttachmentNotFound => plain(C::EXISTING_ATTACHMENT_NOT_FOUND),
        Rule::AttachmentsNeedUpload => plain(C::UPLOADED_FILES_DOES_NOT_MATCH_ATTACHMENTS),
        Rule::InvalidReplyOptions => plain(C::INVALID_REPLY_OPTIONS),
        Rule::FromAfterTo => plain(C::FROM_DATE_AFTER_TO_DATE),
        Rule::PurgeTransmission => plain(C::PURGE_TRANSMISSION),
        Rule::AttachmentNotFound => plain(C::ATTACHMENT_NOT_FOUND),
        Rule::UploadFailed => plain(C::UPLOAD_FAILED),
        Rule::UploadToLinkedAttachment => plain(C::UPLOAD_TO_LINKED_ATTACHMENT),
        Rule::FileSize(limit) => (
            C::INVALID_FILE_SIZE,
            Some(C::INVALID_FILE_SIZE.filled(&limit.compact())),
        ),
        Rule::AlreadyUploaded => plain(C::FILE_ALREADY_UPLOADED),
        Rule::AttachmentAlreadyPurged => plain(C::ATTACHMENT_ALREADY_PURGED),
        Rule::AttachmentInUse => plain(C::PURGE_LINKED_ATTACHMENT),
        Rule::ChecksumMismatch => plain(C::CHECKSUM_MISMATCH),
        Rule::NoDataLocation => plain(C::DATA_LOCATION_NOT_FOUND),
        Rule::FileName(f) => plain(match f {
            FileNameError::Missing => C::FILENAME_MISSING,
            FileNameError::TooLong => C::FILENAME_TOO_LONG,
            FileNameError::TypeNotAllowed => C::FILETYPE_NOT_ALLOWED,
            FileNameError::InvalidCharacters => C::FILENAME_INVALID,
            FileNameError::ReservedName => C::FILENAME_RESERVED,
        }),
        Rule::SenderDownloadAfterPublish => plain(C::SENDER_DOWNLOAD_AFTER_PUBLISH),
        Rule::ExpirationTooShort(days) => (
            C::ATTACHMENT_EXPIRATION_TOO_SHORT,
            Some(C::ATTACHMENT_EXPIRATION_TOO_SHORT.filled(&days.to_string())),
        ),
        Rule::AttachmentExpiredPurge => plain(C::ATTACHMENT_EXPIRED_PURGE),
        Rule::AttachmentPurgedDownload => plain(C::ATTACHMENT_PURGED_DOWNLOAD),
        Rule::AttachmentExpiredDownload => plain(C::ATTACHMENT_EXPIRED_DOWNLOAD),
        Rule::DownloadAllTooLarge => plain(C::DOWNLOAD_ALL_TOO_LARGE),
        Rule::ExistingAttachmentSender => plain(C::EXISTING_ATTACHMENT_SENDER),
        Rule::ExistingAttachmentNotPublished => plain(C::ATTACHMENT_NOT_PUBLISHED),
        Rule::TooManyAttachments => plain(C::ATTACHMENT_COUNT_EXCEEDED),
        // The core refuses links that expire within six hours (reference §5.5).
        Rule::ExistingAttachmentExpiresSoon => (
            C::EXISTING_ATTACHMENT_EXPIRES_SOON,
            Some(C::EXISTING_ATTACHMENT_EXPIRES_SOON.filled("6")),
        ),
        Rule::ForwardingTooLarge => plain(C::ALLOW_FORWARDING_TOO_LARGE),
        Rule::InvalidForwardTo => plain(C::INVALID_EMAIL_PROVIDED),
        Rule::ForwardToTooLong => plain(C::FORWARD_TO_TOO_LONG),
        Rule::ForwardingNotAllowed => plain(C::FORWARDING_NOT_ALLOWED),
        Rule::ForwardingTextTooLong => plain(C::FORWARDING_TEXT_TOO_LONG),
        Rule::ForwardingTextNotPlainText => plain(C::FORWARDING_TEXT_NOT_PLAIN_TEXT),
        Rule::ForwardBeforeRead => plain(C::FORWARD_BEFORE_READ),
        Rule::AlreadyForwarded => plain(C::ALREADY_FORWARDED),
        Rule::NotificationTemplateNotFound => plain(C::NOTIFICATION_TEMPLATE_NOT_FOUND),
        Rule::MissingEmailTexts { reminder } => plain(if *reminder {
            C::MISSING_EMAIL_REMINDER_CONTENT
        } else {
            C::MISSING_EMAIL_CONTENT
        }),
        Rule::MissingSmsText { reminder } => plain(if *reminder {
            C::MISSING_SMS_REMINDER_CONTENT
        } else {
            C::MISSING_SMS_CONTENT
        }),
        Rule::MissingPreferredTexts { reminder } => plain(if *reminder {
            C::MISSING_PREFERRED_REMINDER_CONTENT
        } else {
            C::MISSING_PREFERRED_CONTENT
        }),
        Rule::MissingEmailAndSmsTexts { reminder } => plain(if *reminder {
            C::MISSING_EMAIL_AND_SMS_REMINDER_CONTENT
        } else {
            C::MISSING_EMAIL_AND_SMS_CONTENT
        }),
        Rule::InvalidCustomEmail => plain(C::INVALID_EMAIL_PROVIDED),
        Rule::InvalidCustomMobile => plain(C::INVALID_MOBILE_NUMBER_PROVIDED),
        Rule::RecipientNameWithCustomAddress => plain(C::RECIPIENT_OVERRIDE_WITH_NAME_LOOKUP),
        Rule::CustomRecipientsWithSeveralRecipients => {
            plain(C::CUSTOM_RECIPIENT_WITH_MULTIPLE_RECIPIENTS)
        }
        Rule::CustomRecipientWithSeveralIdentifiers => {
            plain(C::CUSTOM_RECIPIENT_WITH_MULTIPLE_IDENTIFIERS)
        }
        Rule::CustomRecipientWithoutIdentifier => plain(C::CUSTOM_RECIPIENT_WITHOUT_IDENTIFIER),
        Rule::OverrideWithoutCustomRecipients => plain(C::OVERRIDE_WITHOUT_CUSTOM_RECIPIENTS),
        // Answered as a bare string before this table is read (see `into_response`).
        Rule::InvalidNotificationTemplate => plain(C::INVALID_NOTIFICATION_TEMPLATE),
    }
}

/// Why a request was refused at the auth gates, put on the response (never sent) so that the
/// access log can say it: `invalid_token: The token has expired`, `missing token`, or
/// `insufficient_scope: altinn:correspondence.write`.
#[derive(Debug, Clone)]
pub(crate) struct RefusalReason(pub String);

fn problem(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let trace_id = current_trace_id();
        match self {
            ApiError::Unauthenticated(why) => {
                let (challenge, reason) = match why {
                    None => ("Bearer".to_owned(), "missing token".to_owned()),
                    Some(p) => (
                        format!(
                            r#"Bearer error="invalid_token", error_description="{}""#,
                            p.description()
                        ),
                        format!("invalid_token: {}", p.description()),
                    ),
                };
                let mut res = StatusCode::UNAUTHORIZED.into_response();
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                res.extensions_mut().insert(RefusalReason(reason));
                res
            }
            ApiError::Forbidden { scope } => {
                let mut res = StatusCode::FORBIDDEN.into_response();
                let challenge = format!(r#"Bearer error="insufficient_scope", scope="{scope}""#);
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                res.extensions_mut()
                    .insert(RefusalReason(format!("insufficient_scope: {scope}")));
                res
            }
            // The reference's mapper answers an undefined template with a bare JSON string, not a
            // ProblemDetails (reference §2.2 quirk, §8.1).
            ApiError::Rule(Rule::InvalidNotificationTemplate) => problem(
                StatusCode::BAD_REQUEST,
                &ErrorCode::INVALID_NOTIFICATION_TEMPLATE.message,
            ),
            ApiError::Rule(rule) => {
                let (code, detail) = code_for(&rule);
                let status =
                    StatusCode::from_u16(code.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                problem(status, &ProblemDetails::from_code(code, detail, trace_id))
            }
            ApiError::Validation(fields) => problem(
                StatusCode::BAD_REQUEST,
                &ValidationProblem::new(&fields, trace_id),
            ),
            ApiError::Store(e) => {
                tracing::error!(error = %e, "storage failure");
                let (status, detail) = match e {
                    StoreError::Unavailable(_) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The service is temporarily unavailable; try again shortly",
                    ),
                    _ => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "An unexpected error occurred",
                    ),
                };
                let mut res = problem(
                    status,
                    &ProblemDetails::plain(status.as_u16(), detail, trace_id),
                );
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    res.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                }
                res
            }
            ApiError::Overloaded => {
                let status = StatusCode::SERVICE_UNAVAILABLE;
                let mut res = problem(
                    status,
                    &ProblemDetails::plain(
                        status.as_u16(),
                        "The service is busy; try again shortly",
                        trace_id,
                    ),
                );
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                res
            }
            ApiError::Plain(status, detail) => problem(
                status,
                &ProblemDetails::plain(status.as_u16(), detail, trace_id),
            ),
            // Altinn answers this one in plain text (reference §0, `Accept` header); Melding
            // answers every refusal as a ProblemDetails, with the same sentence as its detail.
            ApiError::NotAcceptable(supported) => problem(
                StatusCode::NOT_ACCEPTABLE,
                &ProblemDetails::plain(
                    StatusCode::NOT_ACCEPTABLE.as_u16(),
                    format!(
                        "This endpoint does not support the requested Accept header. Supported Accept headers are: {supported}"
                    ),
                    trace_id,
                ),
            ),
        }
    }
}
