//! Errors on the wire: RFC 7807 ProblemDetails with Altinn's `CORR-xxxxx` codes for business
//! errors, and validation problems (`STD-00000`) for requests that do not fit the model.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// One documented business error: its number, HTTP status and message.
///
/// The message is the reference's text word for word (reference §2.3 and
/// `reference/altinn-error-texts.tsv`, vendored beside this crate). A message may hold one
/// placeholder in braces, such as `{recipients, comma-separated}`; [`ErrorCode::filled`] puts
/// the value in as the reference does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// The number after `CORR-` (`1001`), also sent as the legacy `errorCode`.
    pub number: u16,
    /// The HTTP status the error is answered with.
    pub status: u16,
    /// The reference's text, with its placeholder (if any) still in braces.
    pub message: &'static str,
}

macro_rules! codes {
    ($($name:ident = $num:literal, $status:literal, $msg:literal;)*) => {
        impl ErrorCode {
            $(pub const $name: ErrorCode = ErrorCode { number: $num, status: $status, message: $msg };)*

            /// Every code Melding can answer with.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];
        }
    };
}

codes! {
    CORRESPONDENCE_NOT_FOUND = 1001, 404, "The requested correspondence was not found";
    MESSAGE_TITLE_IS_NOT_PLAIN_TEXT = 1002, 400, "Message title must be plain text";
    UPLOADED_FILES_DOES_NOT_MATCH_ATTACHMENTS = 1005, 400, "Mismatch between uploaded files and attachment metadata";
    DUPLICATE_RECIPIENTS = 1006, 400, "Recipients must be unique";
    EXISTING_ATTACHMENT_NOT_FOUND = 1007, 400, "Existing attachment not found";
    DUE_DATE_TIME_PRIOR_TO_TODAY = 1008, 400, "DueDateTime cannot be prior to today";
    DUE_DATE_TIME_PRIOR_TO_PUBLISH_TIME = 1009, 400, "DueDateTime cannot be prior to RequestedPublishTime";
    CORRESPONDENCE_ALREADY_PUBLISHED = 1013, 400, "Sender cannot delete correspondence that has been published";
    CORRESPONDENCE_ALREADY_PURGED = 1014, 400, "Correspondence has already been purged";
    DUE_DATE_TIME_REQUIRED_FOR_CONFIRMATION = 1016, 400, "DueDateTime is required when confirmation is needed";
    EXISTING_ATTACHMENT_SENDER = 1017, 400, "The sender of the correspondence must be equal the sender of existing attachments";
    ATTACHMENT_NOT_PUBLISHED = 1018, 400, "Attachment is not published";
    MISSING_CONTENT = 1019, 400, "The Content field must be provided for the correspondence";
    MESSAGE_TITLE_EMPTY = 1020, 400, "Message title cannot be empty";
    MESSAGE_BODY_EMPTY = 1021, 400, "Message body cannot be empty";
    MESSAGE_BODY_TOO_LONG = 1022, 400, "Message body cannot exceed 30000 characters";
    INVALID_LANGUAGE = 1023, 400, "Invalid language chosen. Supported languages is Norsk bokmål (nb), Nynorsk (nn) and English (en)";
    READ_BEFORE_FETCHED = 1024, 400, "Correspondence must be fetched before it can be read";
    CONFIRM_BEFORE_FETCHED = 1025, 400, "Correspondence must be fetched before it can be confirmed";
    ARCHIVE_BEFORE_CONFIRMED = 1026, 400, "Cannot archive or delete a correspondence which has not been confirmed when confirmation is required";
    FROM_DATE_AFTER_TO_DATE = 1027, 400, "From date cannot be after to date";
    RECIPIENT_LOOKUP_FAILED = 1029, 404, "Could not find partyId for the following recipients: {recipients, comma-separated}";
    RECIPIENT_RESERVED = 1030, 422, "Recipient {recipientId} has reserved themselves from public correspondences. Can be overridden using the 'IgnoreReservation' flag.";
    INVALID_IDEMPOTENCY_KEY = 1033, 400, "The idempotency key must be a valid non-empty GUID";
    DUPLICATE_INITIALIZATION = 1034, 409, "A correspondence with the same idempotent key already exists";
    INVALID_REPLY_OPTIONS = 1035, 400, "Reply options must be well-formed URIs and HTTPS with a max length of 255 characters";
    RESOURCE_NOT_FOUND = 1036, 400, "ResourceId must match an existing resource in the resource registry";
    MESSAGE_TITLE_TOO_LONG = 1037, 400, "Message title cannot exceed 255 characters";
    ATTACHMENT_COUNT_EXCEEDED = 1038, 400, "A correspondence cannot contain more than 100 attachments in total";
    MESSAGE_SENDER_IS_NOT_PLAIN_TEXT = 1039, 400, "Message sender must be plain text";
    CORRESPONDENCE_ALREADY_READ = 1040, 400, "Correspondence is already marked as read";
    CORRESPONDENCE_ALREADY_CONFIRMED = 1041, 400, "Correspondence has already been confirmed";
    SUMMARY_WRONG_LENGTH = 1042, 400, "Message summary, if not null, must be between 0 and 255 characters long";
    PURGE_TRANSMISSION = 1043, 400, "Cannot purge correspondence linked to a Dialogporten Transmission";
    CONFIDENTIAL_RECIPIENT_ROLES = 1044, 400, "The following recipients lack required roles to read the correspondence: {recipients, comma-separated}";
    TRANSMISSION_ONLY_ONE_RECIPIENT = 1045, 400, "Transmission correspondences only support one recipient";
    TRANSMISSION_RECIPIENT_NOT_DIALOG_PARTY = 1046, 400, "The recipient of the correspondence must be equal to the party of the dialog of the transmission";
    IDEMPOTENCY_KEY_WITH_MULTIPLE_RECIPIENTS = 1047, 400, "Idempotency key is not supported for requests with multiple recipients";
    INVALID_DIALOG_ID = 1048, 400, "DialogId must be a valid non-empty GUID";
    TRANSMISSION_SERVICE_OWNER_NOT_DIALOGS = 1050, 400, "The service owner of a transmission can not differ from the service owner of the dialog";
    TRANSMISSION_WITH_GUI_ACTIONS = 1051, 400, "Correspondences with GUI actions (ReplyOptions or IsConfirmationNeeded) cannot be sent as transmissions";
    TRANSMISSION_TYPE_TWICE = 1052, 400, "Only one DialogportenTransmissionType external reference is allowed";
    TRANSMISSION_TYPE_WITHOUT_DIALOG = 1053, 400, "DialogportenTransmissionType external reference requires a DialogportenDialogId external reference";
    DIALOG_NOT_FOUND = 1054, 404, "Dialogporten dialog with the given id was not found";
    EXISTING_ATTACHMENT_EXPIRES_SOON = 1055, 400, "Existing attachment is expiring within {hours} hour(s) and cannot be attached to a new correspondence";
    IS_CONFIDENTIAL_REQUIRED = 1060, 400, "Confidential correspondences (resources with the access package post-til-virksomheten-med-taushetsbelagt-innhold) cannot be initialized without setting the 'IsConfidential' flag to true";
    IS_CONFIDENTIAL_NOT_ALLOWED = 1061, 400, "Correspondences cannot be initialized with 'IsConfidential' flag set to true if the resource is not confidential";
    NO_UNREAD_CONFIDENTIAL_CORRESPONDENCES = 1062, 404, "No unread confidential correspondences found";
    FORWARDING_NOT_ALLOWED = 1063, 400, "Correspondence does not allow forwarding";
    ALREADY_FORWARDED = 1064, 400, "Correspondence has already been forwarded to the specified recipient";
    FORWARD_BEFORE_READ = 1065, 400, "Correspondence must be read before it can be forwarded";
    FORWARDING_TEXT_TOO_LONG = 1066, 400, "Forwarding text cannot exceed 200 characters";
    FORWARDING_TEXT_NOT_PLAIN_TEXT = 1067, 400, "Forwarding text must be plain text";
    ALLOW_FORWARDING_AUTHENTICATION_LEVEL = 1068, 400, "Correspondence cannot allow forwarding if the resource for the correspondence has a required authorization level above 0";
    ALLOW_FORWARDING_TOO_LARGE = 1069, 400, "Correspondence cannot allow forwarding if the total size of attachments exceeds 10 MB";
    ATTACHMENT_NOT_FOUND = 2001, 404, "The requested attachment was not found";
    UPLOAD_FAILED = 2002, 502, "Error occurred during upload";
    UPLOAD_TO_LINKED_ATTACHMENT = 2003, 400, "Cannot upload attachment to a correspondence that has been created";
    INVALID_FILE_SIZE = 2004, 400, "File must have content and has a max file size of {maxFileSize}";
    FILE_ALREADY_UPLOADED = 2005, 400, "File has already been or is being uploaded";
    ATTACHMENT_ALREADY_PURGED = 2006, 400, "File has already been purged";
    PURGE_LINKED_ATTACHMENT = 2007, 400, "Attachment cannot be purged as it is linked to at least one existing correspondence";
    CHECKSUM_MISMATCH = 2008, 400, "Checksum mismatch";
    DATA_LOCATION_NOT_FOUND = 2009, 400, "Could not get data location url";
    FILENAME_MISSING = 2010, 400, "Filename is missing";
    FILENAME_TOO_LONG = 2011, 400, "Filename is too long";
    FILENAME_INVALID = 2012, 400, "Filename contains invalid characters. The ruleset is based on Windows file naming convention which is defined here: https://learn.microsoft.com/en-us/windows/win32/fileio/naming-a-file#file-and-directory-names";
    FILETYPE_NOT_ALLOWED = 2013, 400, "Filetype not allowed";
    SENDER_DOWNLOAD_AFTER_PUBLISH = 2016, 400, "This attachment is associated with a published correspondence and can no longer be accessed by service owner";
    ATTACHMENT_EXPIRATION_TOO_SHORT = 2017, 400, "Attachment expirationTime must be at least {minimumDays} days from now";
    ATTACHMENT_EXPIRED_PURGE = 2018, 400, "File has expired";
    ATTACHMENT_PURGED_DOWNLOAD = 2019, 400, "The attachment has been purged and cannot be downloaded";
    ATTACHMENT_EXPIRED_DOWNLOAD = 2020, 400, "The attachment has expired and cannot be downloaded";
    FILENAME_RESERVED = 2021, 400, "The filename uses a Windows reserved name. Files cannot be named CON, PRN, AUX, NUL, COM1-COM9, or LPT1-LPT9 (e.g., 'CON.txt' is not allowed, but 'CONSOLE.txt' is).";
    DOWNLOAD_ALL_TOO_LARGE = 2023, 400, "Total size of attachments exceeds the maximum allowed for zip download (25 MB)";
    NOTIFICATION_TEMPLATE_NOT_FOUND = 3001, 404, "The requested notification template with the given language was not found";
    MISSING_EMAIL_CONTENT = 3002, 400, "Email body and subject must be provided when sending email notifications";
    MISSING_EMAIL_REMINDER_CONTENT = 3003, 400, "Reminder email body and subject must be provided when sending reminder email notifications";
    MISSING_SMS_CONTENT = 3004, 400, "SMS body must be provided when sending SMS notifications";
    MISSING_SMS_REMINDER_CONTENT = 3005, 400, "Reminder SMS body must be provided when sending reminder SMS notifications";
    MISSING_PREFERRED_CONTENT = 3006, 400, "Email body, subject and SMS body must be provided when sending preferred notifications";
    MISSING_PREFERRED_REMINDER_CONTENT = 3007, 400, "Reminder email body, subject and SMS body must be provided when sending reminder preferred notifications";
    INVALID_EMAIL_PROVIDED = 3011, 400, "Invalid email provided for custom recipient.";
    INVALID_MOBILE_NUMBER_PROVIDED = 3012, 400, "Invalid mobile number provided. Mobile number can contain only '+' and numeric characters, and it must adhere to the E.164 standard.";
    RECIPIENT_OVERRIDE_WITH_NAME_LOOKUP = 3015, 400, "Recipient overrides with email or mobile number are not allowed when using notification recipient name because of name lookup";
    CUSTOM_RECIPIENT_WITH_MULTIPLE_RECIPIENTS = 3017, 400, "Custom recipient with multiple recipients is not allowed";
    CUSTOM_RECIPIENT_WITH_MULTIPLE_IDENTIFIERS = 3018, 400, "Custom recipient with multiple identifiers is not allowed";
    CUSTOM_RECIPIENT_WITHOUT_IDENTIFIER = 3019, 400, "Custom recipient without identifier is not allowed";
    OVERRIDE_WITHOUT_CUSTOM_RECIPIENTS = 3022, 400, "OverrideRegisteredContactInformation flag can only be used when CustomRecipients is provided";
    INVALID_NOTIFICATION_TEMPLATE = 3023, 400, "Invalid notification template";
    MISSING_EMAIL_AND_SMS_CONTENT = 3024, 400, "Email body, subject and SMS body must be provided when sending email and SMS notifications";
    MISSING_EMAIL_AND_SMS_REMINDER_CONTENT = 3025, 400, "Reminder email body, subject and SMS body must be provided when sending reminder email and SMS notifications";
    FORWARD_TO_TOO_LONG = 3027, 400, "Email address provided for forwarding correspondence exceeds 1000 characters";
    NO_ACCESS_TO_RESOURCE = 4001, 401, "You must use an Altinn token, DialogToken or log in to IDPorten as someone with access to the resource and organization in Altinn Authorization";
    COULD_NOT_FIND_PARTY_UUID = 4002, 400, "Could not retrieve party uuid from lookup in Altinn Register";
    COULD_NOT_DETERMINE_CALLER = 4006, 401, "Could not determine caller";
    ATTACHMENT_RESOURCE_TYPE_NOT_SUPPORTED = 4009, 400, "Resource type is not supported. Resource must be of type CorrespondenceService.";
    RESOURCE_TYPE_NOT_SUPPORTED = 4010, 400, "Resource type is not supported. Resource must be of type CorrespondenceService. If creating a Correspondence as a transmission with reference to an existing DialogId AltinnApp is also allowed.";
}

impl ErrorCode {
    /// `CORR-01001`
    pub fn code(&self) -> String {
        format!("CORR-{:05}", self.number)
    }

    /// The message with its placeholder (the first `{…}`) replaced by `value`, as the reference
    /// fills it: `RECIPIENT_LOOKUP_FAILED.filled("a, b")` is
    /// `"Could not find partyId for the following recipients: a, b"`. A message without a
    /// placeholder is returned unchanged.
    pub fn filled(&self, value: &str) -> String {
        match (self.message.find('{'), self.message.find('}')) {
            (Some(open), Some(close)) if open < close => format!(
                "{}{value}{}",
                &self.message[..open],
                &self.message[close + 1..]
            ),
            _ => self.message.to_owned(),
        }
    }
}

/// The RFC 9110 section and title for a status, as ASP.NET writes them.
pub fn type_and_title(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "Bad Request",
        ),
        401 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.2",
            "Unauthorized",
        ),
        403 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.4",
            "Forbidden",
        ),
        404 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.5",
            "Not Found",
        ),
        405 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.6",
            "Method Not Allowed",
        ),
        406 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.7",
            "Not Acceptable",
        ),
        408 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.9",
            "Request Timeout",
        ),
        409 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.10",
            "Conflict",
        ),
        413 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.14",
            "Content Too Large",
        ),
        415 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.16",
            "Unsupported Media Type",
        ),
        422 => (
            "https://tools.ietf.org/html/rfc9110#section-15.5.21",
            "Unprocessable Entity",
        ),
        451 => (
            "https://tools.ietf.org/html/rfc7725#section-3",
            "Unavailable For Legal Reasons",
        ),
        502 => (
            "https://tools.ietf.org/html/rfc9110#section-15.6.3",
            "Bad Gateway",
        ),
        503 => (
            "https://tools.ietf.org/html/rfc9110#section-15.6.4",
            "Service Unavailable",
        ),
        _ => (
            "https://tools.ietf.org/html/rfc9110#section-15.6.1",
            "Internal Server Error",
        ),
    }
}

/// A business error.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemDetails {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub trace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u16>,
}

impl ProblemDetails {
    pub fn from_code(code: ErrorCode, detail: Option<String>, trace_id: String) -> Self {
        let (kind, title) = type_and_title(code.status);
        Self {
            kind: kind.into(),
            title: title.into(),
            status: code.status,
            detail: detail.unwrap_or_else(|| code.message.to_owned()),
            code: Some(code.code()),
            trace_id,
            error_code: Some(code.number),
        }
    }

    /// A problem without a business code (e.g. 500, 413).
    pub fn plain(status: u16, detail: impl Into<String>, trace_id: String) -> Self {
        let (kind, title) = type_and_title(status);
        Self {
            kind: kind.into(),
            title: title.into(),
            status,
            detail: detail.into(),
            code: None,
            trace_id,
            error_code: None,
        }
    }
}

/// One field that did not fit the model. `path` uses the model's names joined by `/`
/// (`Correspondence/Content/MessageTitle`), or a JSON path (`$.correspondence.content`) for
/// JSON that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationErrorEntry {
    pub code: String,
    pub detail: String,
    pub paths: Vec<String>,
}

/// A request that did not fit the model: 400 with `STD-00000`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationProblem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    pub validation_errors: Vec<ValidationErrorEntry>,
    pub errors: BTreeMap<String, Vec<String>>,
    pub trace_id: String,
}

impl ValidationProblem {
    pub fn new(fields: &[FieldError], trace_id: String) -> Self {
        let (kind, title) = type_and_title(400);
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in fields {
            errors
                .entry(f.path.replace('/', "."))
                .or_default()
                .push(f.message.clone());
        }
        Self {
            kind: kind.into(),
            title: title.into(),
            status: 400,
            detail: "One or more validation errors occurred.".into(),
            code: "STD-00000".into(),
            validation_errors: fields
                .iter()
                .map(|f| ValidationErrorEntry {
                    code: "CORR.VLD-00000".into(),
                    detail: f.message.clone(),
                    paths: vec![f.path.clone()],
                })
                .collect(),
            errors,
            trace_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_labels_in_texts_come_from_the_limits() {
        use melding_domain::attachment::{FORWARDING_MAX, MAX_MULTIPART_FILE, MAX_STREAM_UPLOAD};
        assert!(
            ErrorCode::ALLOW_FORWARDING_TOO_LARGE
                .message
                .ends_with(&format!("exceeds {FORWARDING_MAX}")),
            "1069 names the forwarding limit"
        );
        assert_eq!(
            ErrorCode::INVALID_FILE_SIZE.filled(&MAX_MULTIPART_FILE.compact()),
            "File must have content and has a max file size of 2GB"
        );
        assert_eq!(
            ErrorCode::INVALID_FILE_SIZE.filled(&MAX_STREAM_UPLOAD.compact()),
            "File must have content and has a max file size of 50GB"
        );
    }

    #[test]
    fn codes_are_zero_padded_and_unique() {
        assert_eq!(ErrorCode::CORRESPONDENCE_NOT_FOUND.code(), "CORR-01001");
        assert_eq!(ErrorCode::NO_ACCESS_TO_RESOURCE.code(), "CORR-04001");
        let mut numbers: Vec<u16> = ErrorCode::ALL.iter().map(|c| c.number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn problem_shape() {
        let p = ProblemDetails::from_code(ErrorCode::INVALID_LANGUAGE, None, "00-abc-01".into());
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v["type"],
            "https://tools.ietf.org/html/rfc9110#section-15.5.1"
        );
        assert_eq!(v["title"], "Bad Request");
        assert_eq!(v["status"], 400);
        assert_eq!(v["code"], "CORR-01023");
        assert_eq!(v["errorCode"], 1023);
        assert_eq!(v["traceId"], "00-abc-01");
    }

    #[test]
    fn validation_problem_shape() {
        let p = ValidationProblem::new(
            &[FieldError::new(
                "Correspondence/Content/MessageTitle",
                "required",
            )],
            "t".into(),
        );
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["code"], "STD-00000");
        assert_eq!(v["validationErrors"][0]["code"], "CORR.VLD-00000");
        assert_eq!(
            v["validationErrors"][0]["paths"][0],
            "Correspondence/Content/MessageTitle"
        );
        assert_eq!(
            v["errors"]["Correspondence.Content.MessageTitle"][0],
            "required"
        );
        assert!(v.get("errorCode").is_none());
    }
}
