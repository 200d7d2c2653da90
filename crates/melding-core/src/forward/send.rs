//! Sending a forwarded letter: the composed e-mail and the channel's answer (reference §4.12).

use async_trait::async_trait;
use melding_delivery::SendError;
use melding_delivery::email::{EmailAttachment, EmailBody, EmailMessage};
use melding_delivery::templates::Language;
use melding_domain::attachment::{AttachmentLink, AttachmentStatus};
use melding_domain::correspondence::Correspondence;
use melding_domain::forwarding::{ForwardingEvent, composed_body};
use melding_domain::notification::DeliveryChannel;
use melding_domain::{CorrespondenceStatus, ForwardingEventId, StatusEntry};
use melding_jobs::{Handle, JobContext, Outcome};
use tokio::io::AsyncReadExt;

use super::ForwardCorrespondence;
use crate::Melding;
use crate::attachments::open_blob;

#[async_trait]
impl Handle<ForwardCorrespondence> for Melding {
    async fn run(&self, job: ForwardCorrespondence, ctx: &JobContext) -> anyhow::Result<Outcome> {
        self.run_forward(job.forwarding_event_id, ctx).await
    }
}

/// What the body says about attachments that did not go along as files, by language.
fn not_attached_label(language: Language) -> &'static str {
    match language {
        Language::En => "Attachments not included in this e-mail:",
        Language::Nn => "Vedlegg som ikkje er med i denne e-posten:",
        Language::Nb => "Vedlegg som ikke er med i denne e-posten:",
    }
}

impl Melding {
    /// Runs [`ForwardCorrespondence`]. An event already marked sent is left alone (a repeated
    /// job sends nothing twice). The e-mail goes through the notification channels' e-mail
    /// sender, honouring its pause and rate; when the channel accepts it, the event is marked
    /// sent and the letter gets Forwarded (timestamped with the forward time) in one write.
    /// A transient failure is retried by the runner; a permanent one, or the last attempt,
    /// ends the job without Forwarded (Altinn: "all failed → stop").
    #[tracing::instrument(skip_all, fields(forwarding_event_id = %id))]
    pub(crate) async fn run_forward(
        &self,
        id: ForwardingEventId,
        ctx: &JobContext,
    ) -> anyhow::Result<Outcome> {
        let Some(event) = self.store.forwarding_event(id).await? else {
            return Ok(Outcome::Done);
        };
        if event.sent.is_some() {
            return Ok(Outcome::Done);
        }
        let Some(channels) = self.notification_channels.clone() else {
            anyhow::bail!("no e-mail channel is configured on this node");
        };
        let Some(letter) = self.store.correspondence(event.correspondence_id).await? else {
            tracing::warn!("the forwarded letter no longer exists; nothing sent");
            return Ok(Outcome::Done);
        };
        let now = self.clock.now();
        if let Some(until) = channels.paused_until(DeliveryChannel::Email, now) {
            return Ok(Outcome::RunAgainAt(until));
        }
        let message = self.composed_email(&event, &letter, &channels).await?;
        channels.wait_for_rate(DeliveryChannel::Email).await;
        match channels.email.send(&message).await {
            Ok(receipt) => {
                let now = self.clock.now();
                let entry = StatusEntry::new(
                    CorrespondenceStatus::Forwarded,
                    event.forwarded_on,
                    Some(event.forwarded_by.clone()),
                );
                if self.store.mark_forwarding_sent(id, now, &entry).await? {
                    tracing::info!(reply = %receipt.server_reply, "forwarded letter handed over");
                }
                Ok(Outcome::Done)
            }
            Err(SendError::SlowDown {
                retry_after,
                reason,
            }) => {
                let until = retry_after.until(self.clock.now());
                channels.pause(DeliveryChannel::Email, until);
                tracing::warn!(%until, %reason, "e-mail provider asked us to slow down");
                Ok(Outcome::RunAgainAt(until))
            }
            Err(SendError::Permanent { reason, .. }) => {
                tracing::error!(%reason, "the forwarded letter was refused; not sent");
                Ok(Outcome::Done)
            }
            Err(e @ SendError::Transient { .. }) => {
                if ctx.is_last_attempt() {
                    tracing::error!(error = %e, "the forwarded letter could not be sent; giving up");
                    return Ok(Outcome::Done);
                }
                Err(e.into())
            }
        }
    }

    /// The e-mail of one forwarding event: subject = the letter's title; plain body = the
    /// forwarding text, a separator and the letter's body (or the body alone); each attachment
    /// as a file named by its display name (else its file name), as long as the total stays
    /// within [`super::ForwardingSettings::attach_max`]; the rest, and attachments whose bytes
    /// are gone (purged, expired), listed by name at the end of the body.
    async fn composed_email(
        &self,
        event: &ForwardingEvent,
        letter: &Correspondence,
        channels: &crate::NotificationChannels,
    ) -> anyhow::Result<EmailMessage> {
        let content = &letter.settings.content;
        let language = Language::from_code(&content.language).unwrap_or(Language::Nb);
        let links = self.store.attachments_of(letter.id).await?;
        let AttachmentFiles {
            files: attachments,
            too_large,
            mut left_out,
        } = self.attachment_files(&links).await?;
        let mut plain = composed_body(event.forwarding_text.as_deref(), &content.body);
        let ids: Vec<_> = too_large.iter().map(|(id, _)| *id).collect();
        match self.make_forwarding_links(event, &ids).await? {
            Some((urls, expires)) if !urls.is_empty() => {
                plain.push_str("\n\n");
                plain.push_str(&links_label(language, expires));
                for ((_, name), url) in too_large.iter().zip(&urls) {
                    plain.push_str(&format!("\n- {name}: {url}"));
                }
            }
            _ => {
                let names = too_large.into_iter().map(|(_, name)| name);
                left_out = names.chain(left_out).collect();
            }
        }
        if !left_out.is_empty() {
            plain.push_str("\n\n");
            plain.push_str(not_attached_label(language));
            for name in &left_out {
                plain.push_str("\n- ");
                plain.push_str(name);
            }
        }
        Ok(EmailMessage {
            from: channels.from.clone(),
            from_name: channels.from_name.clone(),
            to: event.to_email.clone(),
            subject: content.title.clone(),
            body: EmailBody { plain, html: None },
            language,
            envelope_from: None,
            reference: Some(event.id.to_string()),
            attachments,
        })
    }

    /// The letter's attachments as e-mail files within the size limit, those beyond it, and the
    /// names of those whose bytes are gone.
    async fn attachment_files(&self, links: &[AttachmentLink]) -> anyhow::Result<AttachmentFiles> {
        let now = self.clock.now();
        let limit = self.forwarding.attach_max;
        let mut files = Vec::new();
        let mut too_large = Vec::new();
        let mut left_out = Vec::new();
        let mut total: u64 = 0;
        for link in links {
            let a = &link.attachment;
            let name = a
                .display_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| a.file_name.clone());
            let file = match &a.file {
                Some(f) if !a.has_been(AttachmentStatus::Purged) && !link.is_expired(now) => f,
                _ => {
                    left_out.push(name);
                    continue;
                }
            };
            if limit.is_exceeded_by(total.saturating_add(file.size)) {
                too_large.push((a.id, name));
                continue;
            }
            let (mut reader, size) = open_blob(self.blobs.as_ref(), &file.storage_key)
                .await
                .map_err(|e| anyhow::anyhow!("attachment {}: {e}", a.id))?;
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            reader.read_to_end(&mut bytes).await?;
            total = total.saturating_add(file.size);
            files.push(EmailAttachment {
                file_name: name,
                content_type: "application/octet-stream".to_owned(),
                bytes,
            });
        }
        Ok(AttachmentFiles {
            files,
            too_large,
            left_out,
        })
    }
}

/// How a forwarded letter's attachments go along.
struct AttachmentFiles {
    /// Those sent as files, in the letter's order.
    files: Vec<EmailAttachment>,
    /// Those beyond the size limit, by id and name: linked, or listed by name.
    too_large: Vec<(melding_domain::AttachmentId, String)>,
    /// The names of those whose bytes are gone (purged, expired).
    left_out: Vec<String>,
}

/// What the body says before the download links, by language, with the time they stop working
/// in Oslo time.
fn links_label(language: Language, expires: chrono::DateTime<chrono::Utc>) -> String {
    let until = expires
        .with_timezone(&melding_domain::calendar::OSLO)
        .format("%d.%m.%Y %H:%M");
    match language {
        Language::En => format!("Attachments too large for this e-mail; download them by {until}:"),
        Language::Nn => {
            format!("Vedlegg som er for store for denne e-posten; last dei ned innan {until}:")
        }
        Language::Nb => {
            format!("Vedlegg som er for store for denne e-posten; last dem ned innen {until}:")
        }
    }
}
