//! Sending: a sender initializes one letter per recipient. Checks run in the order Altinn runs
//! them, so the first failure reported is the one an Altinn integration expects.
//!
//! The use case runs in three steps, each a function of its own: check the request (and look up
//! what the checks need), build the letters (pure), persist them in one write.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use melding_blob::StoredBlob;
use melding_domain::Attachment;
use melding_domain::ResourceType;
use melding_domain::attachment::{self, AttachmentStatus};
use melding_domain::content::{self, char_len};
use melding_domain::correspondence::{
    Content, Correspondence, ExternalReference, LetterSettings, ReferenceType, ReplyOption,
};
use melding_domain::notification::{NotificationOrder, OrderKind};
use melding_domain::resource::allows_forwarding;
use melding_domain::{
    CorrespondenceId, CorrespondenceStatus, NationalId, OrgNumber, Party, Recipient, ResourceId,
    StatusEntry, StatusHistory,
};
use melding_jobs::JobKind;
use melding_store::{NewJob, NewLink, Resource, StoreError};
use uuid::Uuid;

use crate::access::{self, SenderAccess};
use crate::attachments::{
    AttachmentRequest, UploadedPart, after_upload, new_attachment, stored_file,
};
use crate::dialog;
use crate::jobs::ExpireAttachment;
use crate::notify::{self, CheckedNotification, NotificationRequest, NotificationSettings};
use crate::publish::Publish;
use crate::{CoreError, Melding, Principal, Rule};

/// A request that has passed the model checks (required fields, lengths, recipient formats).
#[derive(Debug, Clone)]
pub struct InitializeRequest {
    /// The resource, without its optional URN prefix.
    pub resource_id: ResourceId,
    /// The sender's own reference for the letters (1–4096 characters by the model checks).
    pub senders_reference: String,
    /// A display name to show instead of the service owner's name; must be plain text (1039).
    pub message_sender: Option<String>,
    /// The content; the model checks made sure there is one.
    pub content: ContentInput,
    /// When the letters may be published (UTC); `None` is now, a past time publishes at once
    /// (reference §5.4).
    pub requested_publish_time: Option<DateTime<Utc>>,
    /// When the recipient should have acted (UTC); not in the past (1008), not before the
    /// publish time (1009), required with a confirmation (1016; reference §5.4).
    pub due_date_time: Option<DateTime<Utc>>,
    /// References to other systems, among them the Dialogporten dialog and transmission type
    /// that make the letter a transmission (1048, 1052, 1053; reference §4.1).
    pub external_references: Vec<ExternalReference>,
    /// The sender's key–value pairs, stored as given.
    pub property_list: BTreeMap<String, String>,
    /// Links the recipient may reply through; https URLs of at most 255 characters (1035).
    pub reply_options: Vec<ReplyOption>,
    /// `Some(true)` sends to persons reserved against digital post in KRR; otherwise a lone
    /// reserved recipient is refused (1030) and among several gets a Reserved letter
    /// (reference §5.2).
    pub ignore_reservation: Option<bool>,
    /// The recipient must confirm the letter; needs a due date (1016).
    pub is_confirmation_needed: bool,
    /// The letter is confidential; must match the resource (1060, 1061).
    pub is_confidential: bool,
    /// The recipient may forward the letter; needs authentication level 0 on the resource
    /// (1068) and at most 10 MB of attachments (1069; reference §4.1).
    pub allow_forwarding: bool,
    /// Never print the letters (Melding's addition, SvarUt's `kunDigitalLevering`): in the
    /// delivery chain they end "not delivered" where paper would be needed.
    pub digital_only: bool,
    /// One letter is made per recipient, in this order; must be unique (1006).
    pub recipients: Vec<Recipient>,
    /// Ids of published shared attachments of the same sender to link (1007, 1017, 1018,
    /// 1055; reference §4.14, §5.5).
    pub existing_attachments: Vec<Uuid>,
    /// New attachment entries in the content.
    pub new_attachments: Vec<AttachmentRequest>,
    /// The file parts of a multipart request, already in blob storage; `None` for JSON, where
    /// new attachments cannot be sent (1005).
    pub files: Option<Vec<UploadedPart>>,
    /// A key that makes a retry of a one-recipient request safe: only with one recipient
    /// (1047), and a key already used is 1034 (reference §5.6).
    pub idempotent_key: Option<Uuid>,
    /// The notification order, checked after the content, attachments and reply options
    /// (3001–3025, reference §4.1) and written as order rows with each letter (§8.3).
    pub notification: Option<NotificationRequest>,
}

/// The content object of a request, before its checks (1019 and the title, summary, body and
/// language rules of reference §4.1).
#[derive(Debug, Clone)]
pub struct ContentInput {
    /// `nb`, `nn` or `en` (1023); `None` or blank is `nb`.
    pub language: Option<String>,
    /// The message title: plain text, 1–255 characters (1020, 1002, 1037).
    pub title: String,
    /// The summary: at most 255 characters (1042); `None` is stored as empty.
    pub summary: Option<String>,
    /// The markdown body: 1–30000 characters (1021, 1022).
    pub body: String,
}

/// One letter an initialize created: its id, its first status (Initialized, ReadyForPublish or
/// Reserved) and its recipient's URN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializedLetter {
    /// The new letter's id.
    pub id: CorrespondenceId,
    /// Initialized (new attachments pending), ReadyForPublish or Reserved (reference §4.1).
    pub status: CorrespondenceStatus,
    /// The recipient as URN.
    pub recipient: String,
    /// The notification orders written with the letter, main orders first; empty without a
    /// notification request and for a Reserved letter.
    pub orders: Vec<InitializedOrder>,
}

/// One notification order an initialize wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitializedOrder {
    /// The order's id ([`melding_domain::notification::NotificationOrder::id_for`]).
    pub id: Uuid,
    /// The main notice or the reminder.
    pub kind: OrderKind,
}

/// The answer to an initialize: the letters, in the recipients' order, and the ids of every
/// attachment they link (new ones first, then existing ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialized {
    /// One letter per recipient, in the request's order.
    pub letters: Vec<InitializedLetter>,
    /// The linked attachments' ids: new ones first, then existing ones.
    pub attachment_ids: Vec<Uuid>,
}

const RECIPIENT_NAME: &str = "{{recipientName}}";

/// The outcome of step 1, [`Melding::check_request`]: a request that passed every check, with
/// what the checks looked up and the sender's handle. Only step 2 ([`build_letters`]) reads it.
#[derive(Debug)]
struct CheckedRequest<'a> {
    sender: SenderAccess<'a>,
    /// The resource the letters are sent with.
    resource_id: ResourceId,
    req: InitializeRequest,
    content: Content,
    /// When the letters are to be published: the requested time, or now.
    publish_at: DateTime<Utc>,
    /// URNs of the recipients reserved against digital post (KRR) whose letters are Reserved.
    reserved: HashSet<String>,
    /// The existing attachments the letters link, each once, in the order first named.
    existing: Vec<Attachment>,
    /// For each new attachment entry, in order: its file's storage key and what was stored.
    uploads: Vec<(String, StoredBlob)>,
    /// Recipient URN → registered name, when the content names `{{recipientName}}`.
    names: HashMap<String, String>,
    /// The notification order, when the request has one.
    notification: Option<CheckedNotification>,
}

/// The outcome of step 2, [`build_letters`]: every row one initialize writes, in one transaction,
/// and the answer to give once they are written.
#[derive(Debug)]
struct LetterBatch {
    letters: Vec<Correspondence>,
    new_attachments: Vec<Attachment>,
    links: Vec<NewLink>,
    orders: Vec<NotificationOrder>,
    jobs: Vec<NewJob>,
    idempotent_key: Option<Uuid>,
    answer: Initialized,
}

impl Melding {
    /// `POST /correspondence` (JSON or multipart): one letter per recipient, in three steps:
    /// check the request ([`Melding::check_request`]), build the letters ([`build_letters`]),
    /// persist them with their attachments, links and jobs in one write
    /// ([`Melding::persist`]).
    ///
    /// # Errors
    /// The first [`Rule`] the request breaks, in Altinn's order (reference §4.1);
    /// [`Rule::NoAccess`] (4001) for a caller that does not own the resource;
    /// [`CoreError::Store`] when the store fails.
    #[tracing::instrument(skip_all, fields(resource_id = %req.resource_id, recipients = req.recipients.len()))]
    pub async fn initialize(
        &self,
        principal: &Principal,
        req: InitializeRequest,
    ) -> Result<Initialized, CoreError> {
        let now = self.clock.now();
        let checked = self.check_request(principal, req, now).await?;
        let batch = build_letters(checked, now, self.scanner.is_some(), &self.notifications);
        self.persist(batch).await
    }

    /// Step 1: every check, in the order Altinn runs them, and what the later steps need looked
    /// up (the resource and the sender's right to it, reservations, existing attachments,
    /// recipients' names).
    async fn check_request<'a>(
        &self,
        principal: &'a Principal,
        req: InitializeRequest,
        now: DateTime<Utc>,
    ) -> Result<CheckedRequest<'a>, CoreError> {
        check_request_alone(&req)?;
        if let Some(key) = req.idempotent_key
            && self.store.find_by_idempotent_key(key).await?.is_some()
        {
            return Err(Rule::DuplicateIdempotencyKey.into());
        }
        let resource_id = req.resource_id.clone();
        let resource = self
            .store
            .resource(resource_id.as_str())
            .await?
            .ok_or(Rule::ResourceNotFound)?;
        let sender = access::sender_of(principal, resource)?;
        check_against_resource(&req, sender.resource())?;
        self.check_recipients(&req).await?;
        if req.is_confirmation_needed && req.due_date_time.is_none() {
            return Err(Rule::DueDateRequired.into());
        }
        let reserved = self.reserved_recipients(&req).await?;
        let publish_at = check_dates(&req, now)?;
        let content = check_content(&req.content)?;
        if let Some(ms) = &req.message_sender
            && !content::is_plain_text(ms)
        {
            return Err(Rule::MessageSenderNotPlainText.into());
        }
        // A transmission goes into a dialog that Melding holds (reference order: after the
        // content, before the attachments).
        if let (Some(dialog_id), [recipient]) = (dialog_of(&req), req.recipients.as_slice()) {
            dialog::check_transmission_into(
                self.store.as_ref(),
                dialog_id,
                sender.sender(),
                &recipient.urn(),
            )
            .await?;
        }
        let (existing, uploads) = self.check_attachments(&req, sender.sender(), now).await?;
        if req
            .reply_options
            .iter()
            .any(|o| !content::is_reply_option_url(&o.url))
        {
            return Err(Rule::InvalidReplyOptions.into());
        }
        let mut names = HashMap::new();
        if uses_recipient_name(&content) {
            for recipient in &req.recipients {
                names.insert(recipient.urn(), self.display_name(recipient).await?);
            }
        }
        let notification = req
            .notification
            .as_ref()
            .map(|n| notify::check_notification(n, &content.language, req.recipients.len()))
            .transpose()?;
        // The reference reports the uploads' errors after the notification's.
        for (a, (_, stored)) in req.new_attachments.iter().zip(&uploads) {
            if let Some(expected) = &a.checksum
                && !expected.eq_ignore_ascii_case(&stored.md5)
            {
                return Err(Rule::ChecksumMismatch.into());
            }
        }
        Ok(CheckedRequest {
            sender,
            resource_id,
            req,
            content,
            publish_at,
            reserved,
            existing,
            uploads,
            names,
            notification,
        })
    }

    /// Recipients are unique and registered; confidential post to an organisation needs someone
    /// registered to receive it (1044).
    async fn check_recipients(&self, req: &InitializeRequest) -> Result<(), CoreError> {
        let urns: Vec<String> = req.recipients.iter().map(Recipient::urn).collect();
        if urns.iter().collect::<HashSet<_>>().len() != urns.len() {
            return Err(Rule::DuplicateRecipients.into());
        }
        let parties: Vec<Party> = req.recipients.iter().map(|r| r.party().clone()).collect();
        let unknown = self.store.unknown_parties(&parties).await?;
        if !unknown.is_empty() {
            return Err(Rule::UnknownRecipients(unknown.iter().map(Party::urn).collect()).into());
        }
        // Confidential post to an organisation needs someone registered to receive it.
        if req.is_confidential {
            let mut lacking = Vec::new();
            for party in &parties {
                if let Party::Organization(org) = party
                    && !access::has_confidential_receiver(self.store.as_ref(), org).await?
                {
                    lacking.push(party.urn());
                }
            }
            if !lacking.is_empty() {
                return Err(Rule::ConfidentialRecipientsWithoutRoles(lacking).into());
            }
        }
        Ok(())
    }

    /// KRR: a person reserved against digital post gets no letter unless the sender ignores
    /// the reservation; alone, the request is refused; among others, their letter is Reserved.
    /// Returns the reserved recipients' URNs.
    ///
    /// A resource in the delivery chain that may print takes reserved persons' letters: they
    /// go on paper (`delivery-chain.md` §2.3 and rule 24: reserved persons must get paper;
    /// [`crate::delivery::route`]).
    async fn reserved_recipients(
        &self,
        req: &InitializeRequest,
    ) -> Result<HashSet<String>, CoreError> {
        let mut reserved = HashSet::new();
        let policy = self.delivery.policy(req.resource_id.as_str());
        let paper_for_reserved = policy.enabled && !policy.digital_only && !req.digital_only;
        if req.ignore_reservation != Some(true) && !paper_for_reserved {
            let persons: Vec<NationalId> = req
                .recipients
                .iter()
                .filter_map(|r| match r.party() {
                    Party::Person(n) => Some(n.clone()),
                    Party::Organization(_) | Party::SelfIdentified(_) => None,
                })
                .collect();
            for p in self.store.reserved_persons(&persons).await? {
                reserved.insert(Party::Person(p).urn());
            }
            if let ([only], false) = (req.recipients.as_slice(), reserved.is_empty()) {
                return Err(Rule::RecipientReserved(only.urn()).into());
            }
        }
        Ok(reserved)
    }

    /// The attachments of the letters: existing ones (the sender's, published, not about to
    /// expire) and new ones (each with its uploaded file). Returns the existing attachments and,
    /// per new entry, its file's storage key and stored blob.
    async fn check_attachments(
        &self,
        req: &InitializeRequest,
        sender: &OrgNumber,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Attachment>, Vec<(String, StoredBlob)>), CoreError> {
        // Each named attachment once, in the order first named (`dedup` alone would keep
        // repeats that are not side by side).
        let mut named = HashSet::new();
        let existing_ids: Vec<Uuid> = req
            .existing_attachments
            .iter()
            .copied()
            .filter(|id| named.insert(*id))
            .collect();
        let existing = self.load_existing(&existing_ids, sender).await?;
        if existing.len() + req.new_attachments.len() > attachment::MAX_PER_LETTER {
            return Err(Rule::TooManyAttachments.into());
        }
        if existing
            .iter()
            .any(|a| a.status() != AttachmentStatus::Published)
        {
            return Err(Rule::ExistingAttachmentNotPublished.into());
        }
        let parts = match_files(&req.new_attachments, req.files.as_deref())?;
        let total: u64 = existing.iter().map(Attachment::size).sum::<u64>()
            + parts
                .iter()
                .filter_map(|p| p.stored.as_ref())
                .map(|s| s.size)
                .sum::<u64>();
        if req.allow_forwarding && attachment::FORWARDING_MAX.is_exceeded_by(total) {
            return Err(Rule::ForwardingTooLarge.into());
        }
        for a in &req.new_attachments {
            attachment::check_file_name(&a.file_name).map_err(Rule::from)?;
        }
        let uploads = parts
            .iter()
            .map(|p| p.stored.clone().map(|stored| (p.key.clone(), stored)))
            .collect::<Option<Vec<_>>>()
            .ok_or(Rule::FileSize(attachment::MAX_MULTIPART_FILE))?;
        for a in &req.new_attachments {
            self.check_expiration(a)?;
        }
        self.check_existing_expiry(&existing, now).await?;
        Ok((existing, uploads))
    }

    async fn display_name(&self, recipient: &Recipient) -> Result<String, CoreError> {
        let name = match recipient.party() {
            Party::Organization(o) => self.store.organization(o).await?.map(|o| o.name),
            Party::Person(p) => self.store.person(p).await?.map(|p| p.name),
            Party::SelfIdentified(u) => self.store.self_identified_user(u).await?.map(|u| u.name),
        };
        // The name exactly as registered, case and all (issue 11 item 10).
        name.ok_or_else(|| Rule::UnknownRecipients(vec![recipient.urn()]).into())
    }

    /// Step 3: writes the letters, their new attachments, links, notification orders and jobs
    /// in one transaction and wakes the job runner.
    async fn persist(&self, batch: LetterBatch) -> Result<Initialized, CoreError> {
        match self
            .store
            .insert_letters_with_orders(
                &batch.letters,
                &batch.new_attachments,
                &batch.links,
                &batch.orders,
                &batch.jobs,
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) if batch.idempotent_key.is_some() => {
                return Err(Rule::DuplicateIdempotencyKey.into());
            }
            Err(e) => return Err(e.into()),
        }
        self.waker.wake();
        tracing::info!(letters = batch.letters.len(), "correspondences initialized");
        Ok(batch.answer)
    }
}

/// The checks that need nothing looked up, which Altinn runs first: an idempotency key is for
/// one recipient ([`Rule::IdempotencyKeyWithMultipleRecipients`]), and the
/// Dialogporten transmission rules that need nothing looked up, so that a request the reference
/// refuses for them is refused here whatever else is wrong with it.
fn check_request_alone(req: &InitializeRequest) -> Result<(), Rule> {
    if req.idempotent_key.is_some() && req.recipients.len() > 1 {
        return Err(Rule::IdempotencyKeyWithMultipleRecipients);
    }
    check_transmission(req)
}

/// What the resource allows (reference §4.1): its type must take letters (4010), the
/// confidentiality must match (skipped for Altinn apps), and forwarding needs authentication
/// level 0 (1068).
fn check_against_resource(req: &InitializeRequest, resource: &Resource) -> Result<(), Rule> {
    // A transmission names its Dialogporten dialog; only then may an Altinn app send.
    let transmission = req
        .external_references
        .iter()
        .any(|r| r.kind == ReferenceType::DialogportenDialogId);
    if !resource.resource_type.allows_correspondence(transmission) {
        return Err(Rule::ResourceTypeNotForCorrespondence);
    }
    // The reference skips the confidentiality match for Altinn apps (§4.1).
    if resource.resource_type != ResourceType::AltinnApp {
        if resource.confidential && !req.is_confidential {
            return Err(Rule::ConfidentialRequired);
        }
        if !resource.confidential && req.is_confidential {
            return Err(Rule::ConfidentialNotAllowed);
        }
    }
    if req.allow_forwarding && !allows_forwarding(resource.minimum_authentication_level) {
        return Err(Rule::ForwardingAboveLevelZero);
    }
    Ok(())
}

/// The due date is not in the past nor before publishing. Returns the publish time: the
/// requested one, or `now`.
fn check_dates(req: &InitializeRequest, now: DateTime<Utc>) -> Result<DateTime<Utc>, Rule> {
    let publish_at = req.requested_publish_time.unwrap_or(now);
    if let Some(due) = req.due_date_time {
        if due < now {
            return Err(Rule::DueDateBeforeNow);
        }
        if due < publish_at {
            return Err(Rule::DueDateBeforePublish);
        }
    }
    Ok(publish_at)
}

/// Step 2: the rows a checked request becomes, with nothing looked up: one letter per recipient
/// (personalised where the content names `{{recipientName}}`), the new attachments in
/// UploadProcessing with their scan jobs, the links with their expiry jobs, a publish job
/// for each letter that is ready (or Reserved, which the publish job fails), and each letter's
/// notification orders ([`notify::build_orders`] with `notifications`).
fn build_letters(
    checked: CheckedRequest<'_>,
    now: DateTime<Utc>,
    scanner_configured: bool,
    notifications: &NotificationSettings,
) -> LetterBatch {
    let CheckedRequest {
        sender,
        resource_id,
        req,
        content,
        publish_at,
        reserved,
        existing,
        uploads,
        names,
        notification,
    } = checked;
    // New attachments arrive uploaded, waiting in UploadProcessing for their scan job.
    let mut new_attachments = Vec::with_capacity(uploads.len());
    let mut jobs = Vec::new();
    for (a, (key, stored)) in req.new_attachments.iter().zip(&uploads) {
        let mut row = new_attachment(a, &resource_id, sender.sender(), now);
        row.file = Some(stored_file(key, stored));
        let (entry, after) = after_upload(row.id, now, scanner_configured);
        row.statuses.push(entry);
        jobs.extend(after);
        new_attachments.push(row);
    }
    let ready = new_attachments
        .iter()
        .all(|a| a.status() == AttachmentStatus::Published);
    let linked: Vec<&Attachment> = new_attachments.iter().chain(existing.iter()).collect();

    let settings = LetterSettings {
        resource_id,
        sender: sender.sender().clone(),
        senders_reference: req.senders_reference,
        message_sender: req.message_sender,
        content,
        requested_publish_time: publish_at,
        due_date_time: req.due_date_time,
        external_references: req.external_references,
        property_list: req.property_list,
        reply_options: req.reply_options,
        ignore_reservation: req.ignore_reservation,
        is_confirmation_needed: req.is_confirmation_needed,
        is_confidential: req.is_confidential,
        allow_forwarding: req.allow_forwarding,
        digital_only: req.digital_only,
    };
    let mut letters = Vec::with_capacity(req.recipients.len());
    let mut links = Vec::with_capacity(req.recipients.len() * linked.len());
    let link_from = publish_at.max(now);
    // A letter that is not a transmission opens a dialog: its own id.
    let transmission = dialog_of_references(&settings.external_references).is_some();
    for recipient in &req.recipients {
        let id = CorrespondenceId::new_v7(now);
        let mut settings = settings.clone();
        if !transmission {
            settings.external_references.push(dialog::opened_by(id));
        }
        if let Some(name) = names.get(&recipient.urn()) {
            settings.content = personalise(&settings.content, name);
        }
        let mut statuses = vec![StatusEntry::new(
            CorrespondenceStatus::Initialized,
            now,
            None,
        )];
        if reserved.contains(&recipient.urn()) {
            // The publish job fails it with the reservation as its reason.
            statuses.push(StatusEntry::new(CorrespondenceStatus::Reserved, now, None));
            jobs.push(Publish::new(id).due_at(publish_at.max(now)));
        } else if ready {
            statuses.push(StatusEntry::new(
                CorrespondenceStatus::ReadyForPublish,
                now,
                None,
            ));
            jobs.push(Publish::new(id).due_at(publish_at.max(now)));
        }
        let statuses = StatusHistory::new(statuses);
        for a in &linked {
            links.push(NewLink {
                correspondence_id: id,
                attachment_id: a.id,
                expiration_time: attachment::link_expiration(link_from, a.expiration_in_days),
            });
        }
        letters.push(Correspondence {
            id,
            recipient: recipient.clone(),
            settings,
            idempotent_key: req.idempotent_key,
            created: now,
            published: None,
            statuses,
        });
    }
    for a in &linked {
        if let Some(at) = attachment::link_expiration(link_from, a.expiration_in_days) {
            jobs.push(ExpireAttachment::new(a.id).due_at(at));
        }
    }
    let mut orders: Vec<NotificationOrder> = match &notification {
        Some(n) => letters
            .iter()
            .flat_map(|l| notify::build_orders(n, l, now, notifications))
            .collect(),
        None => Vec::new(),
    };
    // Melding's own order for each confidential letter to an organisation (reference §8.5).
    orders.extend(
        letters
            .iter()
            .filter_map(|l| notify::confidential_reminder_order(l, now, notifications)),
    );
    let answer = Initialized {
        letters: letters
            .iter()
            .map(|l| InitializedLetter {
                id: l.id,
                status: if reserved.contains(&l.recipient.urn()) {
                    CorrespondenceStatus::Reserved
                } else if ready {
                    CorrespondenceStatus::ReadyForPublish
                } else {
                    CorrespondenceStatus::Initialized
                },
                recipient: l.recipient.urn(),
                // The sender's answer lists the orders the sender asked for.
                orders: orders
                    .iter()
                    .filter(|o| o.correspondence_id == l.id)
                    .filter(|o| o.kind != OrderKind::ConfidentialReminder)
                    .map(|o| InitializedOrder {
                        id: o.id,
                        kind: o.kind,
                    })
                    .collect(),
            })
            .collect(),
        attachment_ids: linked.iter().map(|a| a.id.as_uuid()).collect(),
    };
    LetterBatch {
        letters,
        new_attachments,
        links,
        orders,
        jobs,
        idempotent_key: req.idempotent_key,
        answer,
    }
}

/// Pairs each new attachment entry with its file part (1005 when they do not match): part *i*
/// serves entry *i* when its file name is the entry's; otherwise the one part carrying that
/// exact file name does.
fn match_files<'a>(
    entries: &[AttachmentRequest],
    files: Option<&'a [UploadedPart]>,
) -> Result<Vec<&'a UploadedPart>, Rule> {
    let files = match files {
        None if entries.is_empty() => return Ok(vec![]),
        None => return Err(Rule::AttachmentsNeedUpload),
        Some(f) => f,
    };
    if files.len() != entries.len() {
        return Err(Rule::AttachmentsNeedUpload);
    }
    let mut used = vec![false; files.len()];
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let name = Some(entry.file_name.as_str());
        let pick = if files[i].file_name.as_deref() == name && !used[i] {
            Some(i)
        } else {
            let same: Vec<usize> = (0..files.len())
                .filter(|j| files[*j].file_name.as_deref() == name && !used[*j])
                .collect();
            match same.as_slice() {
                [j] => Some(*j),
                _ => None,
            }
        };
        let j = pick.ok_or(Rule::AttachmentsNeedUpload)?;
        used[j] = true;
        out.push(&files[j]);
    }
    Ok(out)
}

fn check_content(c: &ContentInput) -> Result<Content, Rule> {
    if c.title.trim().is_empty() {
        return Err(Rule::TitleEmpty);
    }
    if !content::is_plain_text(&c.title) {
        return Err(Rule::TitleNotPlainText);
    }
    if char_len(&c.title) > content::TITLE_MAX {
        return Err(Rule::TitleTooLong);
    }
    let summary = c.summary.clone().unwrap_or_default();
    if char_len(&summary) > content::SUMMARY_MAX {
        return Err(Rule::SummaryTooLong);
    }
    if c.body.trim().is_empty() {
        return Err(Rule::BodyEmpty);
    }
    if char_len(&c.body) > content::BODY_MAX {
        return Err(Rule::BodyTooLong);
    }
    let language = match c.language.as_deref().map(str::trim) {
        None | Some("") => "nb".to_owned(),
        Some(l) => l.to_owned(),
    };
    if !content::is_supported_language(&language) {
        return Err(Rule::InvalidLanguage);
    }
    Ok(Content {
        language,
        title: c.title.clone(),
        summary,
        body: c.body.clone(),
    })
}

/// The Dialogporten transmission rules, in the reference's order (§4.1): at most one
/// `DialogportenTransmissionType` reference (1052), which needs a `DialogportenDialogId`
/// reference (1053). A letter naming a dialog is a transmission on it: the dialog id must be a
/// GUID (1048), and a transmission has one recipient (1045) and no reply options or
/// confirmation (1051). The dialog itself is looked up later, in the reference's place
/// ([`dialog::check_transmission_into`]: 1050, 1046, 1054).
fn check_transmission(req: &InitializeRequest) -> Result<(), Rule> {
    check_external_references(&req.external_references)?;
    let Some(dialog) = req
        .external_references
        .iter()
        .find(|r| r.kind == ReferenceType::DialogportenDialogId)
    else {
        return Ok(());
    };
    // An empty value names no dialog, which is what 1048 says ("a valid non-empty GUID").
    if Uuid::parse_str(dialog.value.trim()).is_err() {
        return Err(Rule::InvalidDialogId);
    }
    if req.recipients.len() > 1 {
        return Err(Rule::TransmissionWithSeveralRecipients);
    }
    if !req.reply_options.is_empty() || req.is_confirmation_needed {
        return Err(Rule::TransmissionWithGuiActions);
    }
    Ok(())
}

/// The dialog a transmission names: its `DialogportenDialogId` reference, already checked to be a
/// GUID by [`check_transmission`]. `None` for a letter that is not a transmission.
fn dialog_of(req: &InitializeRequest) -> Option<Uuid> {
    dialog_of_references(&req.external_references)
}

fn dialog_of_references(refs: &[ExternalReference]) -> Option<Uuid> {
    refs.iter()
        .find(|r| r.kind == ReferenceType::DialogportenDialogId)
        .and_then(|r| Uuid::parse_str(r.value.trim()).ok())
}

fn check_external_references(refs: &[ExternalReference]) -> Result<(), Rule> {
    let types = refs
        .iter()
        .filter(|r| r.kind == ReferenceType::DialogportenTransmissionType)
        .count();
    if types > 1 {
        return Err(Rule::TransmissionTypeTwice);
    }
    if types == 1
        && !refs
            .iter()
            .any(|r| r.kind == ReferenceType::DialogportenDialogId)
    {
        return Err(Rule::TransmissionTypeWithoutDialog);
    }
    Ok(())
}

fn uses_recipient_name(c: &Content) -> bool {
    [&c.title, &c.summary, &c.body]
        .iter()
        .any(|s| s.contains(RECIPIENT_NAME))
}

fn personalise(c: &Content, name: &str) -> Content {
    Content {
        language: c.language.clone(),
        title: c.title.replace(RECIPIENT_NAME, name),
        summary: c.summary.replace(RECIPIENT_NAME, name),
        body: c.body.replace(RECIPIENT_NAME, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use melding_domain::AttachmentStatusEntry;
    use melding_domain::attachment::{AttachmentStatus as A, DataLocationType, StoredFile};

    use crate::principal::scopes;
    use crate::test_support::{ORG_RECIPIENT, OTHER_SENDER, PERSON, SENDER, melding, resource, t0};

    fn org(n: &str) -> OrgNumber {
        OrgNumber::parse(n).unwrap()
    }

    fn sender(n: &str) -> Principal {
        Principal::new(
            Party::Organization(org(n)),
            [scopes::WRITE, scopes::SERVICE_OWNER],
        )
    }

    fn request(recipients: &[&str]) -> InitializeRequest {
        InitializeRequest {
            resource_id: ResourceId::parse("urn:altinn:resource:kommunepost").unwrap(),
            senders_reference: "sak-1".into(),
            message_sender: None,
            content: ContentInput {
                language: None,
                title: "Vedtak for {{recipientName}}".into(),
                summary: None,
                body: "Tekst".into(),
            },
            requested_publish_time: None,
            due_date_time: None,
            external_references: vec![],
            property_list: BTreeMap::new(),
            reply_options: vec![],
            ignore_reservation: None,
            is_confirmation_needed: false,
            is_confidential: false,
            allow_forwarding: false,
            digital_only: false,
            recipients: recipients
                .iter()
                .map(|r| Recipient::parse(r).unwrap())
                .collect(),
            existing_attachments: vec![],
            new_attachments: vec![],
            files: None,
            idempotent_key: None,
            notification: None,
        }
    }

    fn attachment_request(file_name: &str) -> AttachmentRequest {
        AttachmentRequest {
            file_name: file_name.into(),
            display_name: None,
            is_encrypted: false,
            checksum: None,
            senders_reference: "vedlegg-1".into(),
            expiration_in_days: None,
            data_location_type: DataLocationType::AltinnCorrespondenceAttachment,
        }
    }

    fn stored(size: u64) -> StoredBlob {
        StoredBlob {
            size,
            md5: "0cc175b9c0f1b6a831c399e269772661".into(),
            crc32: 1,
        }
    }

    /// A published attachment of the sender's, kept for `days` after publishing.
    fn published_attachment(days: Option<i32>) -> Attachment {
        let mut a = new_attachment(
            &AttachmentRequest {
                expiration_in_days: days,
                ..attachment_request("vedtak.pdf")
            },
            &ResourceId::parse("kommunepost").unwrap(),
            &org(SENDER),
            t0() - Duration::days(1),
        );
        a.file = Some(StoredFile {
            storage_key: "key".into(),
            size: 1,
            checksum: "0cc175b9c0f1b6a831c399e269772661".into(),
            crc32: 1,
        });
        a.statuses
            .push(AttachmentStatusEntry::new(A::Published, t0()));
        a
    }

    #[test]
    fn an_idempotency_key_is_for_one_recipient() {
        let mut req = request(&[ORG_RECIPIENT, PERSON]);
        assert_eq!(check_request_alone(&req), Ok(()));
        req.idempotent_key = Some(Uuid::nil());
        assert_eq!(
            check_request_alone(&req),
            Err(Rule::IdempotencyKeyWithMultipleRecipients)
        );
        req.recipients.truncate(1);
        assert_eq!(check_request_alone(&req), Ok(()));
    }

    #[test]
    fn the_resource_decides_type_confidentiality_and_forwarding() {
        let req = request(&[ORG_RECIPIENT]);
        let mut r = resource();
        assert_eq!(check_against_resource(&req, &r), Ok(()));
        r.resource_type = ResourceType::BrokerService;
        assert_eq!(
            check_against_resource(&req, &r),
            Err(Rule::ResourceTypeNotForCorrespondence)
        );
        r.resource_type = ResourceType::CorrespondenceService;
        r.confidential = true;
        assert_eq!(
            check_against_resource(&req, &r),
            Err(Rule::ConfidentialRequired)
        );
        let confidential = InitializeRequest {
            is_confidential: true,
            ..request(&[ORG_RECIPIENT])
        };
        assert_eq!(check_against_resource(&confidential, &r), Ok(()));
        r.confidential = false;
        assert_eq!(
            check_against_resource(&confidential, &r),
            Err(Rule::ConfidentialNotAllowed)
        );
        let forwarding = InitializeRequest {
            allow_forwarding: true,
            digital_only: false,
            ..request(&[ORG_RECIPIENT])
        };
        r.minimum_authentication_level = 3;
        assert_eq!(
            check_against_resource(&forwarding, &r),
            Err(Rule::ForwardingAboveLevelZero)
        );
    }

    #[test]
    fn a_due_date_lies_after_now_and_after_publishing() {
        let mut req = request(&[ORG_RECIPIENT]);
        assert_eq!(check_dates(&req, t0()), Ok(t0()));
        req.due_date_time = Some(t0() - Duration::hours(1));
        assert_eq!(check_dates(&req, t0()), Err(Rule::DueDateBeforeNow));
        req.requested_publish_time = Some(t0() + Duration::days(2));
        req.due_date_time = Some(t0() + Duration::days(1));
        assert_eq!(check_dates(&req, t0()), Err(Rule::DueDateBeforePublish));
        req.due_date_time = Some(t0() + Duration::days(3));
        assert_eq!(check_dates(&req, t0()), Ok(t0() + Duration::days(2)));
    }

    #[test]
    fn each_new_attachment_gets_the_file_part_named_for_it() {
        let part = |name: &str, key: &str| UploadedPart {
            file_name: Some(name.into()),
            key: key.into(),
            stored: Some(stored(1)),
        };
        let entries = [attachment_request("a.pdf"), attachment_request("b.pdf")];
        let files = [part("b.pdf", "kb"), part("a.pdf", "ka")];
        let picked = match_files(&entries, Some(&files[..])).unwrap();
        assert_eq!(
            picked.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            ["ka", "kb"]
        );
        assert_eq!(
            match_files(&entries, Some(&files[..1])).unwrap_err(),
            Rule::AttachmentsNeedUpload
        );
        assert_eq!(
            match_files(&entries, None).unwrap_err(),
            Rule::AttachmentsNeedUpload
        );
        assert!(match_files(&[], None).unwrap().is_empty());
    }

    /// Step 2 with an existing attachment: every letter is ready, a reserved recipient's is
    /// Reserved, each is personalised, linked and has its publish job; the link's expiry has
    /// its job once.
    #[test]
    fn building_makes_one_personalised_letter_per_recipient() {
        let principal = sender(SENDER);
        let person_urn = Recipient::parse(PERSON).unwrap().urn();
        let org_urn = Recipient::parse(ORG_RECIPIENT).unwrap().urn();
        let existing = published_attachment(Some(30));
        let req = request(&[ORG_RECIPIENT, PERSON]);
        let checked = CheckedRequest {
            sender: access::sender_of(&principal, resource()).unwrap(),
            resource_id: ResourceId::parse("kommunepost").unwrap(),
            content: check_content(&req.content).unwrap(),
            req,
            publish_at: t0(),
            reserved: HashSet::from([person_urn.clone()]),
            existing: vec![existing.clone()],
            uploads: vec![],
            notification: None,
            names: HashMap::from([
                (org_urn.clone(), "Bedrift AS".to_owned()),
                (person_urn.clone(), "Kari Nordmann".to_owned()),
            ]),
        };
        let batch = build_letters(checked, t0(), false, &NotificationSettings::default());
        assert_eq!(batch.letters.len(), 2);
        let [to_org, to_person] = &batch.letters[..] else {
            unreachable!()
        };
        assert_eq!(to_org.recipient.urn(), org_urn);
        assert_eq!(to_org.settings.content.title, "Vedtak for Bedrift AS");
        assert_eq!(to_person.settings.content.title, "Vedtak for Kari Nordmann");
        assert_eq!(to_org.settings.sender, org(SENDER));
        assert!(
            to_org
                .statuses
                .has_been(CorrespondenceStatus::ReadyForPublish)
        );
        assert!(to_person.statuses.has_been(CorrespondenceStatus::Reserved));
        assert_eq!(
            batch
                .answer
                .letters
                .iter()
                .map(|l| l.status)
                .collect::<Vec<_>>(),
            [
                CorrespondenceStatus::ReadyForPublish,
                CorrespondenceStatus::Reserved
            ]
        );
        assert_eq!(batch.answer.attachment_ids, [existing.id.as_uuid()]);
        assert!(batch.new_attachments.is_empty());
        assert_eq!(batch.links.len(), 2);
        assert!(batch.links.iter().all(|l| l.attachment_id == existing.id
            && l.expiration_time == Some(t0() + Duration::days(30))));
        let kinds: Vec<&str> = batch.jobs.iter().map(|j| j.kind.as_str()).collect();
        assert_eq!(kinds, ["publish", "publish", "expire-attachment"]);
    }

    /// Step 2 with a new attachment: it waits in UploadProcessing for its scan, so the letter
    /// stays Initialized without a publish job.
    #[test]
    fn building_with_a_new_attachment_waits_for_its_scan() {
        let principal = sender(SENDER);
        let req = InitializeRequest {
            new_attachments: vec![attachment_request("vedtak.pdf")],
            ..request(&[ORG_RECIPIENT])
        };
        let checked = CheckedRequest {
            sender: access::sender_of(&principal, resource()).unwrap(),
            resource_id: ResourceId::parse("kommunepost").unwrap(),
            content: check_content(&req.content).unwrap(),
            req,
            publish_at: t0(),
            reserved: HashSet::new(),
            existing: vec![],
            uploads: vec![("k1".into(), stored(7))],
            names: HashMap::new(),
            notification: None,
        };
        let batch = build_letters(checked, t0(), true, &NotificationSettings::default());
        let [a] = &batch.new_attachments[..] else {
            unreachable!()
        };
        assert_eq!(a.status(), A::UploadProcessing);
        assert_eq!(
            a.file.as_ref().map(|f| (f.storage_key.as_str(), f.size)),
            Some(("k1", 7))
        );
        assert_eq!(a.sender, org(SENDER));
        let [letter] = &batch.letters[..] else {
            unreachable!()
        };
        assert_eq!(
            letter.settings.content.title, "Vedtak for {{recipientName}}",
            "no names looked up, no personalisation"
        );
        assert_eq!(
            batch.answer.letters[0].status,
            CorrespondenceStatus::Initialized
        );
        let kinds: Vec<&str> = batch.jobs.iter().map(|j| j.kind.as_str()).collect();
        assert_eq!(kinds, ["scan-attachment"]);
        assert_eq!(batch.answer.attachment_ids, [a.id.as_uuid()]);
    }

    /// Step 1 against a real store: only the resource's owner may send, and only to registered
    /// recipients; the names personalisation needs are looked up.
    #[tokio::test]
    async fn checking_decides_the_sender_then_the_recipients() {
        let (melding, _dir) = melding().await;
        let other = sender(OTHER_SENDER);
        let err = melding
            .check_request(&other, request(&[ORG_RECIPIENT]), t0())
            .await
            .unwrap_err();
        assert!(matches!(err, CoreError::Rule(Rule::NoAccess)), "{err:?}");
        let owner = sender(SENDER);
        let err = melding
            .check_request(&owner, request(&["0192:974760673", "0192:923456783"]), t0())
            .await
            .unwrap_err();
        let CoreError::Rule(Rule::UnknownRecipients(unknown)) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            unknown,
            [format!("{}923456783", melding_domain::recipient::ORG_URN)]
        );
        let checked = melding
            .check_request(&owner, request(&[ORG_RECIPIENT, PERSON]), t0())
            .await
            .unwrap();
        assert_eq!(checked.resource_id.as_str(), "kommunepost");
        assert_eq!(checked.sender.sender(), &org(SENDER));
        assert_eq!(checked.publish_at, t0());
        let mut names: Vec<&str> = checked.names.values().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["Bedrift AS", "Kari Nordmann"]);
    }

    /// Step 3 against a real store: the letters are written and can be read back; a second
    /// batch with the same idempotency key, checked before the first was written, is refused.
    #[tokio::test]
    async fn persisting_writes_once_per_idempotency_key() {
        let (melding, _dir) = melding().await;
        let owner = sender(SENDER);
        let keyed = || InitializeRequest {
            idempotent_key: Some(Uuid::from_u128(7)),
            ..request(&[ORG_RECIPIENT])
        };
        let first = melding.check_request(&owner, keyed(), t0()).await.unwrap();
        let second = melding.check_request(&owner, keyed(), t0()).await.unwrap();
        let done = melding
            .persist(build_letters(
                first,
                t0(),
                false,
                &NotificationSettings::default(),
            ))
            .await
            .unwrap();
        let [letter] = &done.letters[..] else {
            panic!("{done:?}")
        };
        let stored = melding
            .store
            .correspondence(letter.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.recipient.urn(), letter.recipient);
        assert_eq!(stored.settings.content.title, "Vedtak for Bedrift AS");
        assert_eq!(
            stored.statuses.current().map(|e| e.status),
            Some(CorrespondenceStatus::ReadyForPublish)
        );
        let err = melding
            .persist(build_letters(
                second,
                t0(),
                false,
                &NotificationSettings::default(),
            ))
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::Rule(Rule::DuplicateIdempotencyKey)),
            "{err:?}"
        );
    }

    #[test]
    fn content_checks_in_order() {
        let mut c = ContentInput {
            language: None,
            title: "Vedtak".into(),
            summary: None,
            body: "Tekst".into(),
        };
        assert_eq!(check_content(&c).unwrap().language, "nb");
        c.title = "# Vedtak".into();
        assert_eq!(check_content(&c), Err(Rule::TitleNotPlainText));
        c.title = "Vedtak".into();
        c.body = "Linje 1<br>Linje 2".into();
        assert_eq!(check_content(&c).unwrap().body, "Linje 1<br>Linje 2");
        c.body = "ok".into();
        c.language = Some("se".into());
        assert_eq!(check_content(&c), Err(Rule::InvalidLanguage));
    }

    #[test]
    fn transmission_type_needs_a_dialog() {
        let t = ExternalReference {
            value: "Information".into(),
            kind: ReferenceType::DialogportenTransmissionType,
        };
        let d = ExternalReference {
            value: "x".into(),
            kind: ReferenceType::DialogportenDialogId,
        };
        assert_eq!(
            check_external_references(std::slice::from_ref(&t)),
            Err(Rule::TransmissionTypeWithoutDialog)
        );
        assert_eq!(check_external_references(&[t.clone(), d.clone()]), Ok(()));
        assert_eq!(
            check_external_references(&[t.clone(), t, d]),
            Err(Rule::TransmissionTypeTwice)
        );
    }
}
