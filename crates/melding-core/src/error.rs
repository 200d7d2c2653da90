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
    /// The resource is not a correspondence service (nor an Altinn app named by a
    /// transmission), so letters cannot be sent with it (4010, reference §4.1).
    #[error("letters need a correspondence service")]
    ResourceTypeNotForCorrespondence,
    /// Shared attachments belong to correspondence services and generic access resources only
    /// (4009, reference §4.14).
    #[error("attachments need a correspondence service or a generic access resource")]
    ResourceTypeNotForAttachment,
    /// `allowForwarding` on a resource whose minimum authentication level is above 0 (1068,
    /// reference §4.1).
    #[error("forwarding is not allowed above authentication level 0")]
    ForwardingAboveLevelZero,
    #[error("the resource is confidential")]
    ConfidentialRequired,
    #[error("the resource is not confidential")]
    ConfidentialNotAllowed,
    #[error("recipients must be unique")]
    DuplicateRecipients,
    #[error("unknown recipients: {0:?}")]
    UnknownRecipients(Vec<String>),
    #[error("recipients lack the roles confidential post needs: {0:?}")]
    ConfidentialRecipientsWithoutRoles(Vec<String>),
    /// The only recipient (its URN) is reserved against digital post (KRR).
    #[error("the recipient {0} is reserved against digital post")]
    RecipientReserved(String),
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
    /// A `DialogportenDialogId` reference whose value is not a GUID (1048).
    #[error("the dialog id is not a GUID")]
    InvalidDialogId,
    /// A transmission (a letter referring to a dialog) to more than one recipient (1045).
    #[error("a transmission has one recipient")]
    TransmissionWithSeveralRecipients,
    /// A transmission into a dialog that Melding does not hold, or no longer holds because the
    /// letter that opened it was purged or failed (1054).
    #[error("the transmission's dialog was not found")]
    DialogNotFound,
    /// A transmission into a dialog of another service owner (1050).
    #[error("the transmission's dialog belongs to another service owner")]
    DialogOfAnotherServiceOwner,
    /// A transmission to another recipient than the party of its dialog (1046).
    #[error("the transmission's recipient is not the party of its dialog")]
    DialogOfAnotherParty,
    /// A transmission with reply options or a confirmation to give (1051).
    #[error("a transmission cannot carry reply options or ask for confirmation")]
    TransmissionWithGuiActions,
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
    // Attachments (reference §4.14, §5.5, the 2xxx codes).
    #[error("attachment not found")]
    AttachmentNotFound,
    #[error("the upload failed")]
    UploadFailed,
    #[error("the attachment is linked to a correspondence")]
    UploadToLinkedAttachment,
    /// 2004: the file is empty or larger than the limit of its upload path.
    #[error("the file is empty or larger than {0}")]
    FileSize(melding_domain::ByteSize),
    #[error("the file has been uploaded already")]
    AlreadyUploaded,
    #[error("the attachment has been purged")]
    AttachmentAlreadyPurged,
    #[error("the attachment is used by a correspondence")]
    AttachmentInUse,
    #[error("checksum mismatch")]
    ChecksumMismatch,
    #[error("the attachment has no uploaded file")]
    NoDataLocation,
    #[error(transparent)]
    FileName(#[from] melding_domain::attachment::FileNameError),
    #[error("the attachment belongs to a published correspondence")]
    SenderDownloadAfterPublish,
    #[error("expiration too short")]
    ExpirationTooShort(i32),
    #[error("the attachment has expired and cannot be purged")]
    AttachmentExpiredPurge,
    #[error("the attachment has been purged and cannot be downloaded")]
    AttachmentPurgedDownload,
    #[error("the attachment has expired and cannot be downloaded")]
    AttachmentExpiredDownload,
    #[error("the attachments are too large to download together")]
    DownloadAllTooLarge,
    #[error("existing attachments belong to another sender")]
    ExistingAttachmentSender,
    #[error("existing attachment is not published")]
    ExistingAttachmentNotPublished,
    #[error("more than 100 attachments")]
    TooManyAttachments,
    #[error("existing attachment expires soon")]
    ExistingAttachmentExpiresSoon,
    #[error(
        "allowForwarding with more than {} of attachments",
        melding_domain::attachment::FORWARDING_MAX
    )]
    ForwardingTooLarge,
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
