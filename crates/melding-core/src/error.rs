//! What a use case can refuse, in the vocabulary of the API's error catalogue. The HTTP layer maps
//! each [`Rule`] to its documented status and `CORR-` code.

use melding_domain::status::LifecycleError;
use melding_store::StoreError;

/// A business rule that refused the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rule {
    #[error("correspondence not found")]
    NotFound,
    #[error("no access to the resource or party")]
    NoAccess,
    #[error("could not determine the caller")]
    CallerUnknown,
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error("idempotency key with several recipients")]
    IdempotencyKeyWithMultipleRecipients,
    #[error("idempotency key already used")]
    DuplicateIdempotencyKey,
    #[error("unknown resource")]
    ResourceNotFound,
    #[error("the resource is confidential")]
    ConfidentialRequired,
    #[error("the resource is not confidential")]
    ConfidentialNotAllowed,
    #[error("recipients must be unique")]
    DuplicateRecipients,
    #[error("unknown recipients: {0:?}")]
    UnknownRecipients(Vec<String>),
    #[error("due date required with confirmation")]
    DueDateRequired,
    #[error("due date before now")]
    DueDateBeforeNow,
    #[error("due date before publish time")]
    DueDateBeforePublish,
    #[error("content missing")]
    MissingContent,
    #[error("title empty")]
    TitleEmpty,
    #[error("title is not plain text")]
    TitleNotPlainText,
    #[error("title too long")]
    TitleTooLong,
    #[error("summary too long")]
    SummaryTooLong,
    #[error("body is not markdown without HTML")]
    BodyNotMarkdown,
    #[error("body empty")]
    BodyEmpty,
    #[error("body too long")]
    BodyTooLong,
    #[error("unsupported language")]
    InvalidLanguage,
    #[error("message sender is not plain text")]
    MessageSenderNotPlainText,
    #[error("more than one transmission type reference")]
    TransmissionTypeTwice,
    #[error("transmission type without dialog id")]
    TransmissionTypeWithoutDialog,
    #[error("existing attachment not found")]
    ExistingAttachmentNotFound,
    #[error("new attachments need a file upload")]
    AttachmentsNeedUpload,
    #[error("reply options must be https URLs")]
    InvalidReplyOptions,
    #[error("from is after to")]
    FromAfterTo,
    #[error("linked to a transmission")]
    PurgeTransmission,
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Rule(#[from] Rule),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LifecycleError> for CoreError {
    fn from(e: LifecycleError) -> Self {
        CoreError::Rule(Rule::Lifecycle(e))
    }
}
