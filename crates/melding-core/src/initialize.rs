//! Sending: a sender initializes one letter per recipient. Checks run in the order Altinn runs
//! them, so the first failure reported is the one an Altinn integration expects.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use melding_domain::Attachment;
use melding_domain::ResourceType;
use melding_domain::attachment::{self, AttachmentStatus};
use melding_domain::content::{self, char_len};
use melding_domain::correspondence::{
    Content, Correspondence, ExternalReference, LetterSettings, ReferenceType, ReplyOption,
};
use melding_domain::resource::allows_forwarding;
use melding_domain::{
    CorrespondenceId, CorrespondenceStatus, NationalId, Party, Recipient, ResourceId, StatusEntry,
    StatusHistory,
};
use melding_store::{NewLink, StoreError};
use uuid::Uuid;

use crate::access;
use crate::attachments::{AttachmentRequest, UploadedPart, new_attachment, stored_file};
use crate::publish::publish_job;
use crate::{CoreError, Melding, Principal, Rule};

/// A request that has passed the model checks (required fields, lengths, recipient formats).
#[derive(Debug, Clone)]
pub struct InitializeRequest {
    /// The resource, without its optional URN prefix.
    pub resource_id: ResourceId,
    pub senders_reference: String,
    pub message_sender: Option<String>,
    /// The content; the model checks made sure there is one.
    pub content: ContentInput,
    pub requested_publish_time: Option<DateTime<Utc>>,
    pub due_date_time: Option<DateTime<Utc>>,
    pub external_references: Vec<ExternalReference>,
    pub property_list: BTreeMap<String, String>,
    pub reply_options: Vec<ReplyOption>,
    pub ignore_reservation: Option<bool>,
    pub is_confirmation_needed: bool,
    pub is_confidential: bool,
    pub allow_forwarding: bool,
    pub recipients: Vec<Recipient>,
    pub existing_attachments: Vec<Uuid>,
    /// New attachment entries in the content.
    pub new_attachments: Vec<AttachmentRequest>,
    /// The file parts of a multipart request, already in blob storage; `None` for JSON, where
    /// new attachments cannot be sent (1005).
    pub files: Option<Vec<UploadedPart>>,
    pub idempotent_key: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct ContentInput {
    pub language: Option<String>,
    pub title: String,
    pub summary: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializedLetter {
    pub id: CorrespondenceId,
    pub status: CorrespondenceStatus,
    pub recipient: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialized {
    pub letters: Vec<InitializedLetter>,
    pub attachment_ids: Vec<Uuid>,
}

const RECIPIENT_NAME: &str = "{{recipientName}}";

impl Melding {
    #[tracing::instrument(skip_all, fields(resource_id = %req.resource_id, recipients = req.recipients.len()))]
    pub async fn initialize(
        &self,
        principal: &Principal,
        req: InitializeRequest,
    ) -> Result<Initialized, CoreError> {
        let now = self.clock.now();
        if req.idempotent_key.is_some() && req.recipients.len() > 1 {
            return Err(Rule::IdempotencyKeyWithMultipleRecipients.into());
        }
        // Melding has no dialog service to ask, so the transmission rules that need none run
        // first, before anything is looked up.
        check_transmission(&req)?;
        if let Some(key) = req.idempotent_key
            && self.store.find_by_idempotent_key(key).await?.is_some()
        {
            return Err(Rule::DuplicateIdempotencyKey.into());
        }
        let resource_id = req.resource_id;
        let resource = self
            .store
            .resource(resource_id.as_str())
            .await?
            .ok_or(Rule::ResourceNotFound)?;
        let sender = match &principal.party {
            Party::Organization(org) if *org == resource.owner => org.clone(),
            _ => return Err(Rule::NoAccess.into()),
        };
        // A transmission names its Dialogporten dialog; only then may an Altinn app send.
        let transmission = req
            .external_references
            .iter()
            .any(|r| r.kind == ReferenceType::DialogportenDialogId);
        if !resource.resource_type.allows_correspondence(transmission) {
            return Err(Rule::ResourceTypeNotForCorrespondence.into());
        }
        // The reference skips the confidentiality match for Altinn apps (§4.1).
        if resource.resource_type != ResourceType::AltinnApp {
            if resource.confidential && !req.is_confidential {
                return Err(Rule::ConfidentialRequired.into());
            }
            if !resource.confidential && req.is_confidential {
                return Err(Rule::ConfidentialNotAllowed.into());
            }
        }
        if req.allow_forwarding && !allows_forwarding(resource.minimum_authentication_level) {
            return Err(Rule::ForwardingAboveLevelZero.into());
        }
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
        if req.is_confirmation_needed && req.due_date_time.is_none() {
            return Err(Rule::DueDateRequired.into());
        }
        // KRR: a person reserved against digital post gets no letter unless the sender ignores
        // the reservation; alone, the request is refused; among others, their letter is Reserved.
        let mut reserved = HashSet::new();
        if req.ignore_reservation != Some(true) {
            let persons: Vec<NationalId> = parties
                .iter()
                .filter_map(|p| match p {
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
        let publish_at = req.requested_publish_time.unwrap_or(now);
        if let Some(due) = req.due_date_time {
            if due < now {
                return Err(Rule::DueDateBeforeNow.into());
            }
            if due < publish_at {
                return Err(Rule::DueDateBeforePublish.into());
            }
        }
        let content = check_content(&req.content)?;
        if let Some(ms) = &req.message_sender
            && !content::is_plain_text(ms)
        {
            return Err(Rule::MessageSenderNotPlainText.into());
        }
        // Each named attachment once, in the order first named (`dedup` alone would keep
        // repeats that are not side by side).
        let mut named = HashSet::new();
        let existing_ids: Vec<Uuid> = req
            .existing_attachments
            .iter()
            .copied()
            .filter(|id| named.insert(*id))
            .collect();
        let existing = self.load_existing(&existing_ids, &sender).await?;
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
        if parts.iter().any(|p| p.stored.is_none()) {
            return Err(Rule::FileSize(attachment::MAX_MULTIPART_FILE).into());
        }
        for a in &req.new_attachments {
            self.check_expiration(a)?;
        }
        self.check_existing_expiry(&existing, now).await?;
        if req
            .reply_options
            .iter()
            .any(|o| !content::is_reply_option_url(&o.url))
        {
            return Err(Rule::InvalidReplyOptions.into());
        }

        for (a, part) in req.new_attachments.iter().zip(&parts) {
            if let (Some(expected), Some(stored)) = (&a.checksum, &part.stored)
                && !expected.eq_ignore_ascii_case(&stored.md5)
            {
                return Err(Rule::ChecksumMismatch.into());
            }
        }

        // New attachments arrive uploaded, waiting in UploadProcessing for their scan job.
        let mut new_attachments = Vec::with_capacity(parts.len());
        let mut jobs = Vec::new();
        for (a, part) in req.new_attachments.iter().zip(&parts) {
            let mut row = new_attachment(a, &resource_id, &sender, now);
            let stored = part
                .stored
                .as_ref()
                .ok_or(Rule::FileSize(attachment::MAX_MULTIPART_FILE))?;
            row.file = Some(stored_file(&part.key, stored));
            let (entry, after) = self.after_upload(row.id, now);
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
            sender,
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
        };
        let mut letters = Vec::with_capacity(req.recipients.len());
        let mut links = Vec::with_capacity(req.recipients.len() * linked.len());
        let link_from = publish_at.max(now);
        for recipient in &req.recipients {
            let id = CorrespondenceId::new_v7(now);
            let mut settings = settings.clone();
            if uses_recipient_name(&settings.content) {
                let name = self.display_name(recipient).await?;
                settings.content = personalise(&settings.content, &name);
            }
            let mut statuses = vec![StatusEntry::new(
                CorrespondenceStatus::Initialized,
                now,
                None,
            )];
            if reserved.contains(&recipient.urn()) {
                // The publish job fails it with the reservation as its reason.
                statuses.push(StatusEntry::new(CorrespondenceStatus::Reserved, now, None));
                jobs.push(publish_job(id, publish_at.max(now)));
            } else if ready {
                statuses.push(StatusEntry::new(
                    CorrespondenceStatus::ReadyForPublish,
                    now,
                    None,
                ));
                jobs.push(publish_job(id, publish_at.max(now)));
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
                jobs.push(Melding::expire_job(a.id, at));
            }
        }
        match self
            .store
            .insert_letters(&letters, &new_attachments, &links, &jobs)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) if req.idempotent_key.is_some() => {
                return Err(Rule::DuplicateIdempotencyKey.into());
            }
            Err(e) => return Err(e.into()),
        }
        self.waker.wake();
        tracing::info!(letters = letters.len(), "correspondences initialized");
        Ok(Initialized {
            letters: letters
                .into_iter()
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
                })
                .collect(),
            attachment_ids: linked.iter().map(|a| a.id.as_uuid()).collect(),
        })
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
/// confirmation (1051). The reference's dialog lookups (1050, 1046, 1054) need a dialog service,
/// which Melding does not have.
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
