//! Sending one notification: the last checks at the moment of hand-over, the texts, and the
//! provider's answer (`reference/delivery-chain.md` §1.9, §1.11, §1.13–1.14, §7).

use chrono::{DateTime, Utc};
use melding_delivery::email::{EmailBody, EmailMessage};
use melding_delivery::sms::{DEFAULT_TIME_TO_LIVE, SmsMessage};
use melding_delivery::templates::{
    self, Keywords, Language, NotifiedRecipient, Phase, SenderTexts,
};
use melding_delivery::{PermanentKind, SendError};
use melding_domain::correspondence::Correspondence;
use melding_domain::notification::{
    self, DeliveryChannel, EmailContentType, Notification, NotificationOrder, NotificationStatus,
    NotificationTemplate, OrderKind, OrderRecipient, send_condition,
};
use melding_domain::{EmailAddress, MobileNumber, Party};
use melding_jobs::{JobContext, Outcome};
use melding_store::NotificationUpdate;
use uuid::Uuid;

use super::NotificationChannels;
use crate::Melding;

const NEW: &[NotificationStatus] = &[NotificationStatus::New];

impl Melding {
    /// Runs [`super::SendNotification`]. A notification that is no longer `New` is left alone
    /// (a repeated job sends nothing twice). Then, in order: the send condition is checked
    /// again (read, purged or failed meanwhile → `Cancelled`); past its expiry it fails with
    /// `Failed_TTL`; an SMS outside 09–17 Oslo waits for the window; a registered
    /// organisation contact whose person may no longer read the resource is `Cancelled`; a
    /// channel the provider paused waits; then the message is handed over.
    pub(crate) async fn run_send_notification(
        &self,
        id: Uuid,
        ctx: &JobContext,
    ) -> anyhow::Result<Outcome> {
        let Some(n) = self.store.notification(id).await? else {
            return Ok(Outcome::Done);
        };
        if n.status != NotificationStatus::New {
            return Ok(Outcome::Done);
        }
        let Some(channels) = self.notification_channels.clone() else {
            anyhow::bail!("no notification channels are configured on this node");
        };
        let order = self
            .store
            .notification_order(n.order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("notification {id} has no order"))?
            .order;
        let now = self.clock.now();
        let letter = self.store.correspondence(n.correspondence_id).await?;
        let Some(letter) = letter.filter(|l| send_condition(&l.statuses, order.kind)) else {
            let reason = match order.kind {
                OrderKind::Main => {
                    "send condition not met at hand-over: the letter was purged or failed"
                }
                OrderKind::Reminder => {
                    "send condition not met at hand-over: the letter was read, purged or failed"
                }
                OrderKind::ConfidentialReminder => {
                    "send condition not met at hand-over: the letter was opened, purged or failed"
                }
            };
            return self.finish(&n, NotificationStatus::Cancelled, reason).await;
        };
        if now > n.expires {
            return self
                .finish(
                    &n,
                    NotificationStatus::FailedTtl,
                    "not handed over before its expiry",
                )
                .await;
        }
        if n.channel == DeliveryChannel::Sms && !notification::in_sms_window(now) {
            let opens = notification::sms_window_opens(now);
            self.hold(&n, opens).await?;
            return Ok(Outcome::RunAgainAt(opens));
        }
        if n.not_before > now {
            return Ok(Outcome::RunAgainAt(n.not_before));
        }
        if !self
            .contact_still_authorised(n.source.as_ref(), &letter)
            .await?
        {
            return self
                .finish(
                    &n,
                    NotificationStatus::Cancelled,
                    "the person who registered this contact may no longer read the letter's resource",
                )
                .await;
        }
        if let Some(until) = channels.paused_until(n.channel, now) {
            self.hold(&n, until).await?;
            return Ok(Outcome::RunAgainAt(until));
        }
        let texts = self.texts_for(&order, &letter).await?;
        let html = order.texts.email_content_type == EmailContentType::Html;
        channels.wait_for_rate(n.channel).await;
        let result = hand_over(&channels, &n, &letter, texts, html).await;
        let now = self.clock.now();
        match result {
            Ok((status, reference, reply)) => {
                let update = NotificationUpdate {
                    sent: Some(now),
                    provider_reference: reference,
                    detail: Some(reply),
                    ..NotificationUpdate::new(n.id, NEW, status)
                };
                self.store.update_notification(&update).await?;
                tracing::info!(notification_id = %n.id, channel = n.channel.name(), "notification handed over");
                self.record_notified(&letter, &order, n.channel, now)
                    .await?;
                Ok(Outcome::Done)
            }
            Err(SendError::SlowDown {
                retry_after,
                reason,
            }) => {
                let until = retry_after.until(now);
                channels.pause(n.channel, until);
                tracing::warn!(channel = n.channel.name(), %until, %reason, "provider asked us to slow down");
                self.hold(&n, until).await?;
                Ok(Outcome::RunAgainAt(until))
            }
            Err(SendError::Permanent { kind, reason }) => {
                let status = match (kind, n.channel) {
                    (PermanentKind::InvalidRecipient, DeliveryChannel::Email) => {
                        NotificationStatus::FailedInvalidEmailFormat
                    }
                    (PermanentKind::InvalidRecipient, DeliveryChannel::Sms) => {
                        NotificationStatus::FailedInvalidRecipient
                    }
                    (PermanentKind::Rejected, DeliveryChannel::Sms) => {
                        NotificationStatus::FailedRejected
                    }
                    (PermanentKind::Rejected, DeliveryChannel::Email) => NotificationStatus::Failed,
                };
                self.finish(&n, status, &reason).await
            }
            Err(e @ SendError::Transient { .. }) => {
                if ctx.is_last_attempt() {
                    return self
                        .finish(&n, NotificationStatus::FailedTtl, &e.to_string())
                        .await;
                }
                // A failed attempt: the runner retries with back-off.
                Err(e.into())
            }
        }
    }

    /// Records `VARSLET` in the receipt trail of a letter in the delivery chain when its first
    /// main notice has gone out (`delivery-chain.md` §3.4); reminders and later notices add
    /// nothing.
    async fn record_notified(
        &self,
        letter: &Correspondence,
        order: &melding_domain::notification::NotificationOrder,
        channel: DeliveryChannel,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let in_chain = self
            .delivery
            .policy(letter.settings.resource_id.as_str())
            .enabled;
        if order.kind != OrderKind::Main || !in_chain {
            return Ok(());
        }
        let how = match channel {
            DeliveryChannel::Email => "e-mail",
            DeliveryChannel::Sms => "SMS",
        };
        let event = melding_domain::DeliveryEvent::new(
            melding_domain::ReceiptStatus::Varslet,
            now,
            format!("The recipient was notified by {how}."),
        );
        self.store
            .append_delivery_event(
                letter.id,
                &event,
                &[melding_domain::ReceiptStatus::Varslet],
                &[],
                &[],
            )
            .await?;
        Ok(())
    }

    /// Ends a `New` notification with `status` and completes its order when it was the last.
    async fn finish(
        &self,
        n: &Notification,
        status: NotificationStatus,
        detail: &str,
    ) -> anyhow::Result<Outcome> {
        let update = NotificationUpdate {
            detail: Some(detail.to_owned()),
            ..NotificationUpdate::new(n.id, NEW, status)
        };
        if self.store.update_notification(&update).await? {
            tracing::info!(notification_id = %n.id, status = status.name(), detail, "notification ended");
            self.complete_order_if_final(n.order_id).await?;
        }
        Ok(Outcome::Done)
    }

    /// Records that a `New` notification waits until `until` (the SMS window, a pause).
    async fn hold(&self, n: &Notification, until: DateTime<Utc>) -> anyhow::Result<()> {
        let update = NotificationUpdate {
            not_before: Some(until),
            ..NotificationUpdate::new(n.id, NEW, NotificationStatus::New)
        };
        self.store.update_notification(&update).await?;
        Ok(())
    }

    /// Marks the order completed once every notification of it is final.
    pub(crate) async fn complete_order_if_final(
        &self,
        order_id: Uuid,
    ) -> Result<(), melding_store::StoreError> {
        let Some(record) = self.store.notification_order(order_id).await? else {
            return Ok(());
        };
        let all = self
            .store
            .notifications_of(record.order.correspondence_id)
            .await?;
        if all
            .iter()
            .filter(|n| n.order_id == order_id)
            .all(|n| n.status.is_final())
        {
            self.store.complete_notification_order(order_id).await?;
        }
        Ok(())
    }

    /// The texts of one notice: the order's template and texts with the keywords of the letter,
    /// its resource, its sender and this notification's recipient.
    async fn texts_for(
        &self,
        order: &NotificationOrder,
        letter: &Correspondence,
    ) -> anyhow::Result<templates::RenderedTexts> {
        let template = match order.template {
            NotificationTemplate::CustomMessage => templates::NotificationTemplate::CustomMessage,
            NotificationTemplate::GenericAltinnMessage => {
                templates::NotificationTemplate::GenericAltinnMessage
            }
        };
        let language =
            Language::from_code(&letter.settings.content.language).unwrap_or(Language::Nb);
        let phase = match order.kind {
            // The confidential reminder carries its own texts (a CustomMessage), so the phase
            // picks no generic text for it.
            OrderKind::Main | OrderKind::ConfidentialReminder => Phase::Main,
            OrderKind::Reminder => Phase::Reminder,
        };
        let texts = SenderTexts {
            email_subject: order.texts.email_subject.clone(),
            email_body: order.texts.email_body.clone(),
            sms_body: order.texts.sms_body.clone(),
        };
        // Only the values the texts mention are looked up: a sender's own texts often use
        // none but the title, and each lookup is a read per notice.
        let uses = |name: &str| templates::mentions(template, language, phase, &texts, name);
        let senders_name = if uses("sendersName") {
            let sender_org = self.store.organization(&letter.settings.sender).await?;
            letter
                .settings
                .message_sender
                .clone()
                .filter(|s| !s.trim().is_empty())
                .or_else(|| sender_org.map(|o| o.name))
                .unwrap_or_else(|| letter.settings.sender.to_string())
        } else {
            String::new()
        };
        let resource_name = if uses("resourceName") {
            let resource = self
                .store
                .resource(letter.settings.resource_id.as_str())
                .await?;
            resource
                .map(|r| r.title)
                .unwrap_or_else(|| letter.settings.resource_id.as_str().to_owned())
        } else {
            String::new()
        };
        let correspondence_recipient_name = if uses("correspondenceRecipientName") {
            match self.recipient_named(letter.recipient.party()).await? {
                NotifiedRecipient::Organisation { name, .. }
                | NotifiedRecipient::Person { name } => name,
                NotifiedRecipient::ContactPoint => letter.recipient.urn(),
            }
        } else {
            String::new()
        };
        let recipient = match &order.recipient {
            OrderRecipient::Party(p) if uses("recipientName") || uses("recipientNumber") => {
                self.recipient_named(p).await?
            }
            OrderRecipient::Party(_) | OrderRecipient::Email(_) | OrderRecipient::Mobile(_) => {
                NotifiedRecipient::ContactPoint
            }
        };
        let keywords = Keywords {
            senders_name,
            correspondence_recipient_name,
            resource_name,
            message_title: letter.settings.content.title.clone(),
            recipient,
        };
        Ok(templates::render(
            template, language, phase, &texts, &keywords,
        ))
    }

    /// A party as `$recipientName$` and `$recipientNumber$` see it: its registered name (the
    /// URN's number for an organisation nobody registered); never a national identity number.
    async fn recipient_named(&self, party: &Party) -> anyhow::Result<NotifiedRecipient> {
        Ok(match party {
            Party::Organization(o) => NotifiedRecipient::Organisation {
                name: self
                    .store
                    .organization(o)
                    .await?
                    .map(|org| org.name)
                    .unwrap_or_else(|| o.to_string()),
                org_number: o.clone(),
            },
            Party::Person(p) => NotifiedRecipient::Person {
                name: self
                    .store
                    .person(p)
                    .await?
                    .map(|p| p.name)
                    .unwrap_or_default(),
            },
            Party::SelfIdentified(u) => NotifiedRecipient::Person {
                name: self
                    .store
                    .self_identified_user(u)
                    .await?
                    .map(|u| u.name)
                    .unwrap_or_default(),
            },
        })
    }
}

/// Hands one message to its channel (an e-mail body that is `html` gets a plain-text part made
/// from it); on success, the status, the provider's reference and its answer.
async fn hand_over(
    channels: &NotificationChannels,
    n: &Notification,
    letter: &Correspondence,
    texts: templates::RenderedTexts,
    html: bool,
) -> Result<(NotificationStatus, Option<String>, String), SendError> {
    let address = n.address.as_deref().unwrap_or_default();
    let language = Language::from_code(&letter.settings.content.language).unwrap_or(Language::Nb);
    match n.channel {
        DeliveryChannel::Email => {
            let to = EmailAddress::parse(address).map_err(|e| {
                SendError::permanent(PermanentKind::InvalidRecipient, e.to_string())
            })?;
            let body = if html {
                EmailBody {
                    plain: html_to_plain(&texts.email_body),
                    html: Some(texts.email_body),
                }
            } else {
                EmailBody {
                    plain: texts.email_body,
                    html: None,
                }
            };
            let message = EmailMessage {
                from: channels.from.clone(),
                from_name: channels.from_name.clone(),
                to,
                subject: texts.email_subject,
                body,
                language,
                envelope_from: None,
                reference: Some(n.id.to_string()),
                attachments: Vec::new(),
            };
            let receipt = channels.email.send(&message).await?;
            Ok((
                NotificationStatus::Succeeded,
                receipt.queue_id.or(Some(receipt.message_id)),
                receipt.server_reply,
            ))
        }
        DeliveryChannel::Sms => {
            let to = MobileNumber::parse(address).map_err(|e| {
                SendError::permanent(PermanentKind::InvalidRecipient, e.to_string())
            })?;
            let message = SmsMessage {
                sender: channels.sms_sender.clone(),
                to,
                text: texts.sms_body,
                reference: n.id.to_string(),
                time_to_live: DEFAULT_TIME_TO_LIVE,
            };
            let receipt = channels.sms.send(&message).await?;
            Ok((
                NotificationStatus::Accepted,
                Some(receipt.gateway_reference),
                format!("accepted, {} segment(s)", receipt.segments.segments),
            ))
        }
    }
}

/// The plain-text part of an HTML notice, by the `html2text` crate (wrapped at 78 columns, the
/// line length RFC 5322 §2.1.1 recommends).
fn html_to_plain(html: &str) -> String {
    html2text::from_read(html.as_bytes(), 78).unwrap_or_else(|_| html.to_owned())
}
