//! What a use case can refuse, in the vocabulary of the API's error catalogue. The HTTP layer maps
//! each [`Rule`] to its documented status and `CORR-` code.

use melding_domain::status::LifecycleError;
use melding_store::StoreError;

/// A business rule that refused the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rule {
    /// CORR-01001 (404): the correspondence does not exist or the caller may not see it
    /// (reference §2.3).
    #[error("correspondence not found")]
    NotFound,
    /// CORR-04001 (401): the caller has no access to the resource or the party (reference §1.4).
    #[error("no access to the resource or party")]
    NoAccess,
    /// CORR-04006 (401): the caller's organisation or person cannot be determined from the token
    /// (reference §1.4).
    #[error("could not determine the caller")]
    CallerUnknown,
    /// A status transition the lifecycle refuses (reference §6.2); the HTTP layer maps each
    /// [`LifecycleError`] to its code (1001, 1013, 1014, 1024, 1025, 1026, 1040, 1041).
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// CORR-01047: an idempotency key on a request with more than one recipient (reference §5.6).
    #[error("idempotency key with several recipients")]
    IdempotencyKeyWithMultipleRecipients,
    /// CORR-01034 (409): a correspondence with the same idempotency key already exists
    /// (reference §5.6).
    #[error("idempotency key already used")]
    DuplicateIdempotencyKey,
    /// CORR-01036: the resource id is not in the resource registry (reference §4.1).
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
    /// CORR-01060: the resource is confidential but `isConfidential` is not true (reference §4.1).
    #[error("the resource is confidential")]
    ConfidentialRequired,
    /// CORR-01061: `isConfidential` is true but the resource is not confidential (reference §4.1).
    #[error("the resource is not confidential")]
    ConfidentialNotAllowed,
    /// CORR-01062 (404): the organisation has no confidential letter that has stayed unopened
    /// for the reminder delay (reference §4.15).
    #[error("no unread confidential correspondences")]
    NoUnopenedConfidential,
    /// CORR-01006: the same recipient is named twice (reference §5.2).
    #[error("recipients must be unique")]
    DuplicateRecipients,
    /// CORR-01029 (404): parties (their URNs) the register does not know: a letter's recipients
    /// (reference §5.2), or the organisation or person of a delegation change.
    #[error("unknown recipients: {0:?}")]
    UnknownRecipients(Vec<String>),
    /// CORR-01044: recipients (their URNs) without anyone holding the roles confidential post
    /// needs (reference §4.1).
    #[error("recipients lack the roles confidential post needs: {0:?}")]
    ConfidentialRecipientsWithoutRoles(Vec<String>),
    /// CORR-01030 (422): the only recipient (its URN) is reserved against digital post in KRR
    /// and `ignoreReservation` is not true (reference §5.2).
    #[error("the recipient {0} is reserved against digital post")]
    RecipientReserved(String),
    /// CORR-01016: `isConfirmationNeeded` without a `dueDateTime` (reference §5.4).
    #[error("due date required with confirmation")]
    DueDateRequired,
    /// CORR-01008: `dueDateTime` is in the past (reference §5.4).
    #[error("due date before now")]
    DueDateBeforeNow,
    /// CORR-01009: `dueDateTime` is before `requestedPublishTime` (reference §5.4).
    #[error("due date before publish time")]
    DueDateBeforePublish,
    /// CORR-01019: the request has no `content` (reference §5.3).
    #[error("content missing")]
    MissingContent,
    /// CORR-01020: the message title is empty (reference §5.3).
    #[error("title empty")]
    TitleEmpty,
    /// CORR-01002: the message title is not plain text (reference §5.3).
    #[error("title is not plain text")]
    TitleNotPlainText,
    /// CORR-01037: the message title exceeds 255 characters (reference §5.3).
    #[error("title too long")]
    TitleTooLong,
    /// CORR-01042: the message summary exceeds 255 characters (reference §5.3).
    #[error("summary too long")]
    SummaryTooLong,
    /// CORR-01021: the message body is empty (reference §5.3).
    #[error("body empty")]
    BodyEmpty,
    /// CORR-01022: the message body exceeds 30000 characters (reference §5.3).
    #[error("body too long")]
    BodyTooLong,
    /// CORR-01023: the language is not `nb`, `nn` or `en` (reference §5.3).
    #[error("unsupported language")]
    InvalidLanguage,
    /// CORR-01039: `messageSender` is not plain text (reference §5.3).
    #[error("message sender is not plain text")]
    MessageSenderNotPlainText,
    /// CORR-01052: more than one `DialogportenTransmissionType` external reference.
    #[error("more than one transmission type reference")]
    TransmissionTypeTwice,
    /// CORR-01053: a `DialogportenTransmissionType` external reference without a
    /// `DialogportenDialogId` one.
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
    /// CORR-01007: an `existingAttachments` id names no attachment (reference §5.5).
    #[error("existing attachment not found")]
    ExistingAttachmentNotFound,
    /// CORR-01005: attachment metadata and uploaded files do not match (reference §4.2, §5.5).
    #[error("new attachments need a file upload")]
    AttachmentsNeedUpload,
    /// CORR-01035: a reply option is not a well-formed https URL of at most 255 characters
    /// (reference §5.3).
    #[error("reply options must be https URLs")]
    InvalidReplyOptions,
    /// CORR-01027: a search whose `from` is after its `to` (reference §4.6).
    #[error("from is after to")]
    FromAfterTo,
    /// CORR-01043: purging a correspondence linked to a Dialogporten transmission (reference §4.9).
    #[error("linked to a transmission")]
    PurgeTransmission,
    // Attachments (reference §4.14, §5.5, the 2xxx codes).
    /// CORR-02001 (404): the attachment does not exist or the caller may not see it
    /// (reference §4.14).
    #[error("attachment not found")]
    AttachmentNotFound,
    /// CORR-02002 (502): reading the upload or blob storage failed (reference §4.14).
    #[error("the upload failed")]
    UploadFailed,
    /// CORR-02003: uploading to an attachment already linked to a correspondence (reference §4.14).
    #[error("the attachment is linked to a correspondence")]
    UploadToLinkedAttachment,
    /// 2004: the file is empty or larger than the limit of its upload path.
    #[error("the file is empty or larger than {0}")]
    FileSize(melding_domain::ByteSize),
    /// CORR-02005: the attachment's file has been or is being uploaded (reference §4.14).
    #[error("the file has been uploaded already")]
    AlreadyUploaded,
    /// CORR-02006: the attachment has been purged already (reference §4.14).
    #[error("the attachment has been purged")]
    AttachmentAlreadyPurged,
    /// CORR-02007: purging an attachment linked to at least one correspondence (reference §4.14).
    #[error("the attachment is used by a correspondence")]
    AttachmentInUse,
    /// CORR-02008: the uploaded bytes do not match the declared checksum (reference §4.14).
    #[error("checksum mismatch")]
    ChecksumMismatch,
    /// CORR-02009: the attachment has no stored file, or its bytes are gone from blob storage.
    #[error("the attachment has no uploaded file")]
    NoDataLocation,
    /// CORR-02010 to 02013, 02021: the file name is missing, too long, of a type not allowed, has
    /// invalid characters or is a Windows reserved name (reference §5.5).
    #[error(transparent)]
    FileName(#[from] melding_domain::attachment::FileNameError),
    /// CORR-02016: the sender downloads an attachment of a published correspondence
    /// (reference §4.14).
    #[error("the attachment belongs to a published correspondence")]
    SenderDownloadAfterPublish,
    /// CORR-02017: `expirationInDays` below the minimum; holds that minimum in days
    /// (reference §4.14).
    #[error("expiration too short")]
    ExpirationTooShort(i32),
    /// CORR-02018: purging an attachment that has expired (reference §4.14).
    #[error("the attachment has expired and cannot be purged")]
    AttachmentExpiredPurge,
    /// CORR-02019: downloading an attachment that has been purged (reference §4.10).
    #[error("the attachment has been purged and cannot be downloaded")]
    AttachmentPurgedDownload,
    /// CORR-02020: downloading an attachment that has expired (reference §4.10).
    #[error("the attachment has expired and cannot be downloaded")]
    AttachmentExpiredDownload,
    /// CORR-02023: the attachments together exceed the download-all limit
    /// (`melding_domain::attachment::MAX_DOWNLOAD_ALL`, 2 GB; reference §4.11).
    #[error("the attachments are too large to download together")]
    DownloadAllTooLarge,
    /// CORR-01017: an existing attachment has another sender than the correspondence
    /// (reference §5.5).
    #[error("existing attachments belong to another sender")]
    ExistingAttachmentSender,
    /// CORR-01018: an existing attachment is not published (reference §5.5).
    #[error("existing attachment is not published")]
    ExistingAttachmentNotPublished,
    /// CORR-01038: more than 100 attachments on one correspondence (reference §5.5).
    #[error("more than 100 attachments")]
    TooManyAttachments,
    /// CORR-01055: an existing attachment expires within six hours (reference §5.5).
    #[error("existing attachment expires soon")]
    ExistingAttachmentExpiresSoon,
    // Notification orders (reference §4.1, §8.1, the 3xxx codes).
    /// CORR-03001 (404): GenericAltinnMessage has no texts in the letter's language
    /// (reference §8.1–8.2).
    #[error("no notification template in the letter's language")]
    NotificationTemplateNotFound,
    /// CORR-03002 (main) / 03003 (reminder): a CustomMessage on the Email channel without e-mail
    /// subject and body (reference §8.1).
    #[error("e-mail subject and body required (reminder: {reminder})")]
    MissingEmailTexts {
        /// The reminder's texts (3003) rather than the main ones (3002).
        reminder: bool,
    },
    /// CORR-03004 (main) / 03005 (reminder): a CustomMessage on the Sms channel without an SMS
    /// body (reference §8.1).
    #[error("SMS body required (reminder: {reminder})")]
    MissingSmsText {
        /// The reminder's text (3005) rather than the main one (3004).
        reminder: bool,
    },
    /// CORR-03006 (main) / 03007 (reminder): a CustomMessage on EmailPreferred or SmsPreferred
    /// without e-mail subject, body and SMS body (reference §8.1).
    #[error("e-mail and SMS texts required for a preferred channel (reminder: {reminder})")]
    MissingPreferredTexts {
        /// The reminder's texts (3007) rather than the main ones (3006).
        reminder: bool,
    },
    /// CORR-03024 (main) / 03025 (reminder): a CustomMessage on EmailAndSms without e-mail
    /// subject, body and SMS body (reference §8.1).
    #[error("e-mail and SMS texts required for EmailAndSms (reminder: {reminder})")]
    MissingEmailAndSmsTexts {
        /// The reminder's texts (3025) rather than the main ones (3024).
        reminder: bool,
    },
    /// CORR-03011: a custom recipient's e-mail address is not a strict one (reference §8.1).
    #[error("invalid custom recipient e-mail address")]
    InvalidCustomEmail,
    /// CORR-03012: a custom recipient's mobile number does not start with `+` or `00` or is not
    /// a valid number (reference §8.1).
    #[error("invalid custom recipient mobile number")]
    InvalidCustomMobile,
    /// CORR-03015: `$recipientName$` in a text while a custom recipient is a bare e-mail
    /// address or mobile number (reference §8.1).
    #[error("$recipientName$ with a custom e-mail or mobile recipient")]
    RecipientNameWithCustomAddress,
    /// CORR-03017: custom recipients on a request to more than one recipient (reference §8.1).
    #[error("custom recipients with several recipients")]
    CustomRecipientsWithSeveralRecipients,
    /// CORR-03018: a custom recipient naming more than one identifier (reference §8.1).
    #[error("custom recipient with several identifiers")]
    CustomRecipientWithSeveralIdentifiers,
    /// CORR-03019: a custom recipient naming no identifier (reference §8.1).
    #[error("custom recipient without identifier")]
    CustomRecipientWithoutIdentifier,
    /// CORR-03022: `overrideRegisteredContactInformation` without custom recipients
    /// (reference §8.1).
    #[error("override without custom recipients")]
    OverrideWithoutCustomRecipients,
    /// 3023: a notification template integer the reference does not define; answered with the
    /// bare JSON string "Invalid notification template" (reference §2.2 quirk, §8.1).
    #[error("invalid notification template")]
    InvalidNotificationTemplate,
    // Forwarding (reference §4.12).
    /// CORR-03011: the `forwardTo` address is not a strict e-mail address (reference §4.12).
    #[error("invalid forward-to e-mail address")]
    InvalidForwardTo,
    /// CORR-03027: the `forwardTo` address exceeds 1000 characters (reference §4.12).
    #[error("forward-to e-mail address too long")]
    ForwardToTooLong,
    /// CORR-01063: the letter does not allow forwarding (reference §4.12).
    #[error("the correspondence does not allow forwarding")]
    ForwardingNotAllowed,
    /// CORR-01066: `forwardingText` exceeds 200 characters (reference §4.12).
    #[error("forwarding text too long")]
    ForwardingTextTooLong,
    /// CORR-01067: `forwardingText` is not plain text (reference §4.12, §5.3).
    #[error("forwarding text is not plain text")]
    ForwardingTextNotPlainText,
    /// CORR-01065: the letter has not been read, so it cannot be forwarded (reference §4.12).
    #[error("the correspondence must be read before it is forwarded")]
    ForwardBeforeRead,
    /// CORR-01064: the letter was forwarded to the same address (trimmed, lower-cased) before
    /// (reference §4.12).
    #[error("already forwarded to that address")]
    AlreadyForwarded,
    /// CORR-01069: `allowForwarding` with attachments over 10 MB in total (reference §4.12).
    #[error(
        "allowForwarding with more than {} of attachments",
        melding_domain::attachment::FORWARDING_MAX
    )]
    ForwardingTooLarge,
}

/// Why a use case failed: a business rule (answered with its `CORR-` code) or storage.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A business rule refused the request.
    #[error(transparent)]
    Rule(#[from] Rule),
    /// The store failed; the HTTP layer answers 503 when it is unavailable, else 500.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LifecycleError> for CoreError {
    fn from(e: LifecycleError) -> Self {
        CoreError::Rule(Rule::Lifecycle(e))
    }
}
