//! The delivery chain's jobs. Kind names, dedupe keys and payload field names are stored in
//! rows that outlive versions; they never change.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use melding_delivery::SendError;
use melding_delivery::mailbox::{
    MailboxAttachment, MailboxMessage, MailboxRecipient, MailboxRecipientId, MailboxReference,
    MailboxSender, MailboxStatus, PrimaryDocument,
};
use melding_delivery::print::{
    PostageClass, PostalAddress as PrintAddress, PrintOrder, PrintOutcome, PrintReference,
};
use melding_domain::correspondence::Correspondence;
use melding_domain::notification::OrderKind;
use melding_domain::{
    AttachmentStatus, CorrespondenceId, CorrespondenceStatus, DeliveryEvent, Party, ReceiptStatus,
    calendar::oslo_date,
};
use melding_jobs::{Handle, JobContext, JobHandler, JobKind, Outcome};
use melding_store::PostalAddress;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::route::{self, Route, RouteFacts};
use super::{DeliveryChannels, PrintableLetter, mailbox_provider};
use crate::Melding;
use crate::attachments::open_blob;
use crate::notify::contacts::is_stale;

/// The handlers of the chain's jobs, for the runner.
pub(crate) fn delivery_handlers(m: &Melding) -> Vec<JobHandler> {
    vec![
        JobHandler::new::<RouteLetter>(m.clone()),
        JobHandler::new::<PrintLetter>(m.clone()),
        JobHandler::new::<SubmitPrint>(m.clone()),
        JobHandler::new::<AwaitPrintReceipt>(m.clone()),
        JobHandler::new::<DeliverToMailbox>(m.clone()),
        JobHandler::new::<AwaitMailboxReceipt>(m.clone()),
        JobHandler::new::<DeleteLetterContent>(m.clone()),
    ]
}

macro_rules! letter_job {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The letter.
            pub correspondence_id: CorrespondenceId,
        }

        impl JobKind for $name {
            const KIND: &'static str = $kind;
            fn dedupe_key(&self) -> String {
                format!("{}:{}", Self::KIND, self.correspondence_id)
            }
        }
    };
}

letter_job!(
    /// Decide a published letter's route and record it (`route-letter`). Enqueued by the
    /// publish job for a resource in the chain.
    RouteLetter,
    "route-letter"
);
letter_job!(
    /// Render the letter and hand it to the print provider (`submit-print`), once
    /// [`PrintLetter`] has decided to print it. Idempotent by the letter's id at the provider.
    SubmitPrint,
    "submit-print"
);
letter_job!(
    /// Collect the print provider's receipt for a letter handed over (`await-print-receipt`),
    /// polling until it comes.
    AwaitPrintReceipt,
    "await-print-receipt"
);
letter_job!(
    /// Hand the letter to the digital mailbox its recipient chose (`deliver-to-mailbox`).
    DeliverToMailbox,
    "deliver-to-mailbox"
);
letter_job!(
    /// Ask the digital mailbox whether a letter handed over has been delivered
    /// (`await-mailbox-receipt`), polling until it says.
    AwaitMailboxReceipt,
    "await-mailbox-receipt"
);

letter_job!(
    /// Delete a letter's content and attachments at the end of its retention period
    /// (`delete-letter-content`): enqueued at publication for a resource in the chain, due 3
    /// months later by default (`delivery-chain.md` rule 32). Letters are deleted one job each;
    /// the runner takes them in batches.
    DeleteLetterContent,
    "delete-letter-content"
);

/// Decide whether a letter is printed now (`print-letter`). `fallback`: the print deadline of
/// an unread inbox letter, counted from its first notice; otherwise paper at once (the route
/// said print).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrintLetter {
    /// The letter.
    pub correspondence_id: CorrespondenceId,
    /// Whether this is the print fallback of an inbox letter.
    pub fallback: bool,
}

impl JobKind for PrintLetter {
    const KIND: &'static str = "print-letter";
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.correspondence_id)
    }
}

/// The Altinn statuses after which nothing more is delivered: read, purged, failed.
fn gone_or_read() -> Vec<i32> {
    use CorrespondenceStatus as S;
    [
        S::Read,
        S::Confirmed,
        S::PurgedByAltinn,
        S::PurgedByRecipient,
        S::Failed,
    ]
    .iter()
    .map(|s| s.value())
    .collect()
}

fn is_gone(letter: &Correspondence) -> bool {
    letter.statuses.is_purged() || letter.statuses.has_been(CorrespondenceStatus::Failed)
}

/// What the registry says about a recipient, for routing and for the print address.
struct RecipientFacts {
    name: String,
    facts: RouteFacts,
    address: Option<PostalAddress>,
    mailbox_address: Option<String>,
}

impl Melding {
    fn channels_for_delivery(&self) -> Option<&DeliveryChannels> {
        self.delivery_channels.as_ref()
    }

    async fn recipient_facts(&self, letter: &Correspondence) -> anyhow::Result<RecipientFacts> {
        let policy = self.delivery.policy(letter.settings.resource_id.as_str());
        let now = self.clock.now();
        let mut facts = RouteFacts {
            recipient_kind: "person",
            registered: false,
            reserved: false,
            mailbox_provider: None,
            mailbox_adapter: false,
            notifiable: false,
            postal_address: false,
            protected_address: false,
            digital_only: policy.digital_only || letter.settings.digital_only,
            print_fallback: policy.print_fallback,
        };
        let mut name = letter.recipient.urn();
        let mut address = None;
        let mut mailbox_address = None;
        match letter.recipient.party() {
            Party::Person(nid) => {
                if let Some(p) = self.store.person(nid).await? {
                    facts.registered = true;
                    facts.reserved = p.reserved && letter.settings.ignore_reservation != Some(true);
                    name = p.name.clone();
                    address = p.address.clone();
                    if let Some(krr) = &p.krr {
                        let email = krr.email.is_some()
                            && !is_stale(krr.email_updated, krr.email_verified, now);
                        let mobile = krr.mobile.is_some()
                            && !is_stale(krr.mobile_updated, krr.mobile_verified, now);
                        facts.notifiable = email || mobile;
                        facts.mailbox_provider = krr.mailbox_provider.clone();
                        facts.mailbox_adapter = krr
                            .mailbox_provider
                            .as_deref()
                            .and_then(mailbox_provider)
                            .is_some_and(|p| {
                                self.channels_for_delivery()
                                    .is_some_and(|c| c.mailboxes.contains_key(&p))
                            });
                        mailbox_address = krr.mailbox_address.clone();
                    }
                }
            }
            Party::Organization(org) => {
                facts.recipient_kind = "organization";
                if let Some(o) = self.store.organization(org).await? {
                    facts.registered = true;
                    facts.notifiable = !o.notification_emails.is_empty()
                        || !o.notification_mobiles.is_empty()
                        || !o.contacts.is_empty();
                    name = o.name.clone();
                    address = o.address.clone();
                }
            }
            Party::SelfIdentified(user) => {
                facts.recipient_kind = "selfIdentified";
                if let Some(u) = self.store.self_identified_user(user).await? {
                    facts.registered = true;
                    name = u.name;
                }
            }
        }
        facts.postal_address = address.is_some();
        facts.protected_address = address.as_ref().is_some_and(|a| a.protected);
        Ok(RecipientFacts {
            name,
            facts,
            address,
            mailbox_address,
        })
    }

    /// Appends `event` unless the trail or the letter's history says the chain is over for it;
    /// wakes the runner when jobs were written.
    async fn record(
        &self,
        id: CorrespondenceId,
        event: DeliveryEvent,
        unless: &[ReceiptStatus],
        unless_altinn: &[i32],
        jobs: &[melding_store::NewJob],
    ) -> anyhow::Result<bool> {
        let written = self
            .store
            .append_delivery_event(id, &event, unless, unless_altinn, jobs)
            .await?;
        if written {
            tracing::info!(correspondence_id = %id, status = %event.status, "delivery event");
            if !jobs.is_empty() {
                self.waker.wake();
            }
        }
        Ok(written)
    }

    /// The letter as the renderer takes it: the service owner as sender, the recipient's
    /// registered name and address, the attachments whose bytes are still kept.
    async fn printable(
        &self,
        letter: &Correspondence,
        recipient: &RecipientFacts,
    ) -> anyhow::Result<PrintableLetter> {
        let sender = self.store.organization(&letter.settings.sender).await?;
        let sender_name = sender
            .map(|o| o.name)
            .unwrap_or_else(|| letter.settings.sender.to_string());
        let now = self.clock.now();
        let mut attachments = Vec::new();
        for link in self.store.attachments_of(letter.id).await? {
            let a = &link.attachment;
            let Some(file) = a
                .file
                .as_ref()
                .filter(|_| !a.has_been(AttachmentStatus::Purged) && !link.is_expired(now))
            else {
                continue;
            };
            let (mut reader, size) = open_blob(self.blobs.as_ref(), &file.storage_key)
                .await
                .map_err(|e| anyhow::anyhow!("attachment {}: {e}", a.id))?;
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            reader.read_to_end(&mut bytes).await?;
            let name = a
                .display_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| a.file_name.clone());
            attachments.push((name, a.data_type().to_owned(), bytes));
        }
        let content = &letter.settings.content;
        Ok(PrintableLetter {
            sender_name,
            sender_org: letter.settings.sender.clone(),
            recipient_name: recipient.name.clone(),
            // A protected address is never printed, not even on a digital mailbox's copy.
            address: recipient.address.clone().filter(|a| !a.protected),
            date: oslo_date(letter.published.unwrap_or(now)),
            title: content.title.clone(),
            summary: Some(content.summary.clone()).filter(|s| !s.trim().is_empty()),
            body_markdown: content.body.clone(),
            attachments,
            language: content.language.clone(),
        })
    }

    async fn render(
        &self,
        channels: &DeliveryChannels,
        letter: PrintableLetter,
    ) -> anyhow::Result<Result<super::RenderedLetter, String>> {
        let renderer = Arc::clone(&channels.renderer);
        Ok(tokio::task::spawn_blocking(move || renderer.render(&letter)).await?)
    }

    /// When the print deadline starts counting: the first main notice sent, else the
    /// publication when no notice will ever be sent; `None` while a main notice is still
    /// waiting to go out (an SMS held for the daytime window).
    async fn notice_time(&self, letter: &Correspondence) -> anyhow::Result<Option<DateTime<Utc>>> {
        let orders = self.store.notification_orders(letter.id).await?;
        let main: Vec<_> = orders
            .iter()
            .filter(|r| r.order.kind == OrderKind::Main)
            .map(|r| r.order.id)
            .collect();
        let notifications = self.store.notifications_of(letter.id).await?;
        let of_main = || notifications.iter().filter(|n| main.contains(&n.order_id));
        if let Some(first) = of_main().filter_map(|n| n.sent).min() {
            return Ok(Some(first));
        }
        let waiting_order = orders.iter().any(|r| {
            r.order.kind == OrderKind::Main
                && r.order.status == melding_domain::notification::OrderStatus::Registered
        });
        let waiting_notice = of_main().any(|n| !n.status.is_handed_over_or_final());
        if waiting_order || waiting_notice {
            return Ok(None);
        }
        Ok(Some(letter.published.unwrap_or(letter.created)))
    }
}

/// The step that puts a letter in the operator queue: it must go on paper, but its address is
/// protected and is never printed.
fn operator_queue(now: DateTime<Utc>) -> DeliveryEvent {
    DeliveryEvent::new(
        ReceiptStatus::TilManuellHandtering,
        now,
        "Waiting for an operator: the recipient's address is protected and is never printed.",
    )
}

fn print_address(a: &PostalAddress) -> Result<PrintAddress, String> {
    PrintAddress::new(
        a.lines.clone(),
        &a.postal_code,
        &a.city,
        a.country.as_deref().unwrap_or("NO"),
    )
    .map_err(|e| format!("the postal address cannot be printed: {e}"))
}

#[async_trait]
impl Handle<RouteLetter> for Melding {
    async fn run(&self, job: RouteLetter, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let id = job.correspondence_id;
        let Some(letter) = self.store.correspondence(id).await? else {
            return Ok(Outcome::Done);
        };
        let policy = self
            .delivery
            .policy(letter.settings.resource_id.as_str())
            .clone();
        if !policy.enabled
            || !letter.statuses.has_been(CorrespondenceStatus::Published)
            || is_gone(&letter)
        {
            return Ok(Outcome::Done);
        }
        let now = self.clock.now();
        let recipient = self.recipient_facts(&letter).await?;
        let decision = route::decide(&recipient.facts);
        let mut jobs = Vec::new();
        let mut deadline = None;
        match decision.route {
            Route::DigitalMailbox => jobs.push(
                DeliverToMailbox {
                    correspondence_id: id,
                }
                .due_at(now),
            ),
            Route::Print => jobs.push(
                PrintLetter {
                    correspondence_id: id,
                    fallback: false,
                }
                .due_at(now),
            ),
            Route::Inbox => {
                if let Some((at, job)) = self.fallback_print(&letter, now)? {
                    deadline = Some(at);
                    jobs.push(job);
                }
            }
            Route::NotDelivered | Route::Operator => {}
        }
        let route_name = match decision.route {
            Route::DigitalMailbox => "the digital mailbox",
            Route::Inbox => "the inbox",
            Route::Print => "print",
            Route::NotDelivered => "nowhere",
            Route::Operator => "the operator queue",
        };
        let details = serde_json::json!({
            "route": decision.route,
            "reason": decision.reason,
            "facts": recipient.facts,
            "printDeadlineRule": policy.print_deadline,
            "printNotBefore": deadline,
        });
        let event = DeliveryEvent::new(
            ReceiptStatus::Akseptert,
            now,
            format!("Routed to {route_name}: {}.", decision.reason),
        )
        .with_details(details.to_string());
        let written = self
            .record(id, event, &[ReceiptStatus::Akseptert], &[], &jobs)
            .await?;
        if written && decision.route == Route::Operator {
            self.record(
                id,
                operator_queue(now),
                &[ReceiptStatus::TilManuellHandtering],
                &[],
                &[],
            )
            .await?;
        }
        if written && decision.route == Route::NotDelivered {
            let event = DeliveryEvent::new(
                ReceiptStatus::IkkeLevert,
                now,
                format!("Not delivered: {}.", decision.reason),
            );
            self.record(id, event, &[ReceiptStatus::IkkeLevert], &[], &[])
                .await?;
        }
        Ok(Outcome::Done)
    }
}

#[async_trait]
impl Handle<PrintLetter> for Melding {
    async fn run(&self, job: PrintLetter, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let id = job.correspondence_id;
        let Some(letter) = self.store.correspondence(id).await? else {
            return Ok(Outcome::Done);
        };
        // A digital-only letter is never printed, whatever enqueued this job.
        if is_gone(&letter) || super::first_read(&letter).is_some() || letter.settings.digital_only
        {
            return Ok(Outcome::Done);
        }
        let now = self.clock.now();
        let policy = self
            .delivery
            .policy(letter.settings.resource_id.as_str())
            .clone();
        let mut details = serde_json::json!({ "fallback": job.fallback });
        if job.fallback {
            // The deadline counts from the first notice (seed 003: "2 virkedager etter at
            // varsel er sendt"); routing scheduled this job at the earliest it can be.
            let Some(noticed) = self.notice_time(&letter).await? else {
                return Ok(Outcome::RunAgainAt(now + Duration::hours(1)));
            };
            let deadline = policy
                .print_deadline
                .deadline(&self.delivery.calendar, noticed)?;
            if deadline > now {
                return Ok(Outcome::RunAgainAt(deadline));
            }
            details = serde_json::json!({
                "fallback": true,
                "noticeSentAt": noticed,
                "printDeadlineRule": policy.print_deadline,
                "deadline": deadline,
            });
        }
        let recipient = self.recipient_facts(&letter).await?;
        let stops = ReceiptStatus::STOPS_PRINT;
        let unread = gone_or_read();
        let protected = recipient.address.as_ref().is_some_and(|a| a.protected);
        let (event, jobs) = match recipient.address.as_ref().map(print_address) {
            Some(_) if protected => (operator_queue(now), Vec::new()),
            Some(Ok(_)) => (
                DeliveryEvent::new(
                    ReceiptStatus::SendtPrint,
                    now,
                    if job.fallback {
                        "Not opened by the print deadline: sent to print."
                    } else {
                        "Sent to print."
                    },
                )
                .with_details(details.to_string()),
                vec![
                    SubmitPrint {
                        correspondence_id: id,
                    }
                    .due_at(now),
                ],
            ),
            Some(Err(reason)) => (
                DeliveryEvent::new(
                    ReceiptStatus::IkkeLevert,
                    now,
                    format!("Not delivered: {reason}."),
                ),
                Vec::new(),
            ),
            None => (
                DeliveryEvent::new(
                    ReceiptStatus::IkkeLevert,
                    now,
                    "Not delivered: the recipient has no postal address to print to.",
                ),
                Vec::new(),
            ),
        };
        // The decision is written only while the letter is unread, not delivered to a
        // mailbox and not stopped: atomically with any reading (DeliveryStore).
        self.record(id, event, &stops, &unread, &jobs).await?;
        Ok(Outcome::Done)
    }
}

#[async_trait]
impl Handle<SubmitPrint> for Melding {
    async fn run(&self, job: SubmitPrint, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let id = job.correspondence_id;
        let now = self.clock.now();
        let Some(channels) = self.channels_for_delivery().filter(|c| c.print.is_some()) else {
            tracing::warn!(correspondence_id = %id, "no print provider on this node; the letter waits");
            return Ok(Outcome::RunAgainAt(now + Duration::minutes(5)));
        };
        let Some(letter) = self.store.correspondence(id).await? else {
            return Ok(Outcome::Done);
        };
        let trail = self.store.delivery_events(id).await?;
        if trail.iter().any(|e| {
            matches!(
                e.status,
                ReceiptStatus::Printet
                    | ReceiptStatus::IkkeLevert
                    | ReceiptStatus::TilManuellHandtering
            )
        }) {
            return Ok(Outcome::Done);
        }
        let recipient = self.recipient_facts(&letter).await?;
        let not_delivered = |reason: String| {
            DeliveryEvent::new(
                ReceiptStatus::IkkeLevert,
                now,
                format!("Not delivered: {reason}."),
            )
        };
        let done_guard = [
            ReceiptStatus::Printet,
            ReceiptStatus::IkkeLevert,
            ReceiptStatus::TilManuellHandtering,
        ];
        if recipient.address.as_ref().is_some_and(|a| a.protected) {
            // Protected since the print was decided: it goes to an operator instead.
            self.record(id, operator_queue(now), &done_guard, &[], &[])
                .await?;
            return Ok(Outcome::Done);
        }
        let address = match recipient.address.as_ref().map(print_address) {
            Some(Ok(a)) => a,
            Some(Err(reason)) => {
                self.record(id, not_delivered(reason), &done_guard, &[], &[])
                    .await?;
                return Ok(Outcome::Done);
            }
            None => {
                let reason = "the recipient has no postal address to print to".to_owned();
                self.record(id, not_delivered(reason), &done_guard, &[], &[])
                    .await?;
                return Ok(Outcome::Done);
            }
        };
        let printable = self.printable(&letter, &recipient).await?;
        let sender_name = printable.sender_name.clone();
        let rendered = match self.render(channels, printable).await? {
            Ok(r) => r,
            Err(reason) => {
                self.record(
                    id,
                    not_delivered(format!("the letter could not be rendered: {reason}")),
                    &done_guard,
                    &[],
                    &[],
                )
                .await?;
                return Ok(Outcome::Done);
            }
        };
        let order = PrintOrder {
            reference: PrintReference::parse(&id.to_string())
                .map_err(|e| anyhow::anyhow!("print reference {id}: {e}"))?,
            recipient_name: recipient.name.clone(),
            address,
            page_count: rendered.pages,
            colour: false,
            duplex: false,
            postage: PostageClass::BEconomy,
            sender_name,
        };
        let provider = channels.print.as_ref().expect("filtered above");
        match provider.submit(&order, &rendered.pdf).await {
            Ok(submission) => {
                tracing::info!(correspondence_id = %id, location = %submission.location, pages = rendered.pages, "handed to the print provider");
                let poll = now + Duration::seconds(i64::from(self.delivery.receipt_poll_seconds));
                self.store
                    .append_delivery_event(
                        id,
                        &DeliveryEvent::new(
                            ReceiptStatus::SendtPrint,
                            now,
                            format!("Handed to the print provider ({} pages).", rendered.pages),
                        )
                        .with_details(
                            serde_json::json!({
                                "pages": rendered.pages,
                                "colour": order.colour,
                                "duplex": order.duplex,
                                "postage": order.postage,
                                "location": submission.location,
                            })
                            .to_string(),
                        ),
                        &done_guard,
                        &[],
                        &[AwaitPrintReceipt {
                            correspondence_id: id,
                        }
                        .due_at(poll)],
                    )
                    .await?;
                Ok(Outcome::Done)
            }
            Err(SendError::Permanent { reason, .. }) => {
                self.record(
                    id,
                    not_delivered(format!("the print provider refused it: {reason}")),
                    &done_guard,
                    &[],
                    &[],
                )
                .await?;
                Ok(Outcome::Done)
            }
            Err(SendError::SlowDown { retry_after, .. }) => {
                Ok(Outcome::RunAgainAt(retry_after.until(now)))
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl Handle<AwaitPrintReceipt> for Melding {
    async fn run(&self, job: AwaitPrintReceipt, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let id = job.correspondence_id;
        let now = self.clock.now();
        let again = now + Duration::seconds(i64::from(self.delivery.receipt_poll_seconds));
        let Some(provider) = self.channels_for_delivery().and_then(|c| c.print.clone()) else {
            return Ok(Outcome::RunAgainAt(again));
        };
        let done = [ReceiptStatus::Printet, ReceiptStatus::IkkeLevert];
        // Every receipt the provider has is recorded, whichever letter it is for, and only
        // then acknowledged: a crash in between repeats a receipt, which the guard ignores.
        let receipts = provider.fetch_receipts().await?;
        let mut acknowledged = Vec::new();
        for receipt in receipts {
            let Ok(letter) = receipt.reference.as_str().parse::<CorrespondenceId>() else {
                tracing::warn!(reference = %receipt.reference, "a print receipt for no letter of ours; left for an operator");
                continue;
            };
            let at = receipt.at.unwrap_or(now);
            let cost = serde_json::json!({
                "pages": receipt.cost.pages,
                "sheets": receipt.cost.sheets,
                "postage": receipt.cost.postage,
                "priceOre": receipt.cost.price_ore,
            });
            let event = match &receipt.outcome {
                PrintOutcome::Printed => DeliveryEvent::new(
                    ReceiptStatus::Printet,
                    at,
                    "Printed and posted by the print provider.",
                ),
                PrintOutcome::Rejected { reason } => DeliveryEvent::new(
                    ReceiptStatus::IkkeLevert,
                    at,
                    format!("Not delivered: the print provider rejected it: {reason}."),
                ),
            }
            .with_details(cost.to_string());
            match self
                .store
                .append_delivery_event(letter, &event, &done, &[], &[])
                .await
            {
                Ok(_) | Err(melding_store::StoreError::NotFound) => {
                    acknowledged.push(receipt.id.clone())
                }
                Err(e) => return Err(e.into()),
            }
        }
        if !acknowledged.is_empty() {
            provider.acknowledge(&acknowledged).await?;
        }
        let trail = self.store.delivery_events(id).await?;
        if trail.iter().any(|e| done.contains(&e.status)) {
            Ok(Outcome::Done)
        } else {
            Ok(Outcome::RunAgainAt(again))
        }
    }
}

impl Melding {
    /// The print fallback of a letter routed to the inbox at `now`: [`PrintLetter`] due at its
    /// print deadline, with that deadline; `None` when the resource's fallback is off or the
    /// letter or its resource is digital-only.
    fn fallback_print(
        &self,
        letter: &Correspondence,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<(DateTime<Utc>, melding_store::NewJob)>> {
        let policy = self.delivery.policy(letter.settings.resource_id.as_str());
        if !policy.print_fallback || policy.digital_only || letter.settings.digital_only {
            return Ok(None);
        }
        let at = policy
            .print_deadline
            .deadline(&self.delivery.calendar, now)?;
        let job = PrintLetter {
            correspondence_id: letter.id,
            fallback: true,
        }
        .due_at(at);
        Ok(Some((at, job)))
    }

    /// The letter goes on by the inbox route after its digital mailbox failed: recorded, with
    /// the print fallback scheduled as for an inbox letter.
    async fn mailbox_failed(
        &self,
        letter: &Correspondence,
        reason: &str,
    ) -> anyhow::Result<Outcome> {
        let now = self.clock.now();
        let jobs: Vec<_> = self
            .fallback_print(letter, now)?
            .map(|(_, job)| job)
            .into_iter()
            .collect();
        let event = DeliveryEvent::new(
            ReceiptStatus::Akseptert,
            now,
            format!("The digital mailbox did not take the letter ({reason}): routed to the inbox."),
        );
        self.record(letter.id, event, &[ReceiptStatus::LevertSdp], &[], &jobs)
            .await?;
        Ok(Outcome::Done)
    }
}

#[async_trait]
impl Handle<DeliverToMailbox> for Melding {
    async fn run(&self, job: DeliverToMailbox, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let id = job.correspondence_id;
        let now = self.clock.now();
        let Some(letter) = self.store.correspondence(id).await? else {
            return Ok(Outcome::Done);
        };
        if is_gone(&letter) {
            return Ok(Outcome::Done);
        }
        let recipient = self.recipient_facts(&letter).await?;
        let provider = recipient
            .facts
            .mailbox_provider
            .as_deref()
            .and_then(mailbox_provider);
        let channels = self.channels_for_delivery();
        let (Some(provider), Some(channels)) = (provider, channels) else {
            return self
                .mailbox_failed(&letter, "no digital mailbox is registered any more")
                .await;
        };
        let Some(mailbox) = channels.mailboxes.get(&provider).cloned() else {
            return self
                .mailbox_failed(&letter, "this node has no adapter for the provider")
                .await;
        };
        let Party::Person(nid) = letter.recipient.party() else {
            return self.mailbox_failed(&letter, "not a person").await;
        };
        let printable = self.printable(&letter, &recipient).await?;
        let attachments = printable
            .attachments
            .iter()
            .map(|(name, media_type, bytes)| MailboxAttachment {
                name: name.clone(),
                media_type: media_type.clone(),
                bytes: bytes.clone(),
            })
            .collect();
        let sender = MailboxSender {
            org_number: letter.settings.sender.clone(),
            name: printable.sender_name.clone(),
        };
        let subject = printable.title.clone();
        let primary_document = match self.render(channels, printable).await? {
            Ok(rendered) => PrimaryDocument::Pdf(rendered.pdf),
            Err(reason) => {
                return self
                    .mailbox_failed(
                        &letter,
                        &format!("the letter could not be rendered: {reason}"),
                    )
                    .await;
            }
        };
        let message = MailboxMessage {
            reference: MailboxReference::parse(&id.to_string())
                .map_err(|e| anyhow::anyhow!("mailbox reference {id}: {e}"))?,
            provider,
            recipient: MailboxRecipient {
                id: MailboxRecipientId::Person(nid.clone()),
                mailbox_address: recipient.mailbox_address.clone(),
            },
            subject,
            primary_document,
            attachments,
            sender,
        };
        match mailbox.deliver(&message).await {
            Ok(submission) => {
                let details = serde_json::json!({
                    "provider": provider.as_str(),
                    "providerReference": submission.provider_reference,
                })
                .to_string();
                let sent = DeliveryEvent::new(
                    ReceiptStatus::SendtSdp,
                    now,
                    format!("Sent to the digital mailbox ({}).", provider.as_str()),
                )
                .with_details(details);
                let poll = AwaitMailboxReceipt {
                    correspondence_id: id,
                }
                .due_at(now + Duration::seconds(i64::from(self.delivery.receipt_poll_seconds)));
                let pending = matches!(submission.status, MailboxStatus::Pending);
                let jobs = if pending { vec![poll] } else { Vec::new() };
                self.record(id, sent, &[ReceiptStatus::SendtSdp], &[], &jobs)
                    .await?;
                self.mailbox_settled(&letter, submission.status).await
            }
            Err(SendError::Permanent { reason, .. }) => {
                self.mailbox_failed(&letter, &format!("refused: {reason}"))
                    .await
            }
            Err(SendError::SlowDown { retry_after, .. }) => {
                Ok(Outcome::RunAgainAt(retry_after.until(now)))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Melding {
    /// Records what the mailbox says: delivered (`LEVERT_SDP`, never printed from here on),
    /// failed (on by the inbox route), or nothing yet.
    async fn mailbox_settled(
        &self,
        letter: &Correspondence,
        status: MailboxStatus,
    ) -> anyhow::Result<Outcome> {
        let now = self.clock.now();
        match status {
            MailboxStatus::Pending => Ok(Outcome::Done),
            MailboxStatus::Delivered { at } => {
                let event = DeliveryEvent::new(
                    ReceiptStatus::LevertSdp,
                    at.unwrap_or(now),
                    "Delivered to the digital mailbox.",
                );
                self.record(letter.id, event, &[ReceiptStatus::LevertSdp], &[], &[])
                    .await?;
                Ok(Outcome::Done)
            }
            MailboxStatus::Failed { reason } => self.mailbox_failed(letter, &reason).await,
        }
    }
}

#[async_trait]
impl Handle<AwaitMailboxReceipt> for Melding {
    async fn run(&self, job: AwaitMailboxReceipt, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        let id = job.correspondence_id;
        let now = self.clock.now();
        let again = now + Duration::seconds(i64::from(self.delivery.receipt_poll_seconds));
        let Some(letter) = self.store.correspondence(id).await? else {
            return Ok(Outcome::Done);
        };
        let trail = self.store.delivery_events(id).await?;
        let Some(provider) = trail
            .iter()
            .rev()
            .find(|e| e.status == ReceiptStatus::SendtSdp)
            .and_then(|e| e.details.as_deref())
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .and_then(|d| d["provider"].as_str().and_then(mailbox_provider))
        else {
            return Ok(Outcome::Done);
        };
        let Some(mailbox) = self
            .channels_for_delivery()
            .and_then(|c| c.mailboxes.get(&provider).cloned())
        else {
            return Ok(Outcome::RunAgainAt(again));
        };
        let reference = MailboxReference::parse(&id.to_string())
            .map_err(|e| anyhow::anyhow!("mailbox reference {id}: {e}"))?;
        match mailbox.delivery_status(&reference).await {
            Ok(MailboxStatus::Pending) => Ok(Outcome::RunAgainAt(again)),
            Ok(status) => self.mailbox_settled(&letter, status).await,
            Err(SendError::Permanent { reason, .. }) => {
                self.mailbox_failed(&letter, &format!("unknown to the provider: {reason}"))
                    .await
            }
            Err(SendError::SlowDown { retry_after, .. }) => {
                Ok(Outcome::RunAgainAt(retry_after.until(now)))
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl Handle<DeleteLetterContent> for Melding {
    async fn run(&self, job: DeleteLetterContent, _ctx: &JobContext) -> anyhow::Result<Outcome> {
        use melding_domain::StatusEntry;
        use melding_store::AppendGuard;
        let id = job.correspondence_id;
        let Some(letter) = self.store.correspondence(id).await? else {
            return Ok(Outcome::Done);
        };
        let policy = self
            .delivery
            .policy(letter.settings.resource_id.as_str())
            .clone();
        // Deleting cannot be undone: the policy in force now decides, so a resource taken out
        // of the chain, or given a longer period, keeps its letters.
        let (true, Some(published)) = (policy.enabled, letter.published) else {
            return Ok(Outcome::Done);
        };
        let due = policy.retention.deletion_due_at(published)?;
        let now = self.clock.now();
        if due > now {
            return Ok(Outcome::RunAgainAt(due));
        }
        if !letter.statuses.is_purged() {
            let entry = StatusEntry::new(CorrespondenceStatus::PurgedByAltinn, now, None)
                .with_text(format!(
                    "Deleted at the end of its retention period ({})",
                    policy.retention
                ));
            let attachments =
                crate::attachments::purges_with_letter(&self.store.attachments_of(id).await?, now);
            let guard = AppendGuard::UnlessAny(vec![
                CorrespondenceStatus::PurgedByAltinn,
                CorrespondenceStatus::PurgedByRecipient,
            ]);
            self.store
                .purge_correspondence(
                    id,
                    &entry,
                    guard,
                    &[crate::notify::CancelNotifications::new(id).due_at(now)],
                    &attachments,
                )
                .await?;
            self.waker.wake();
        }
        // Also for a letter its recipient purged: the content is gone from the database now.
        if self.store.erase_letter_content(id).await? {
            tracing::info!(correspondence_id = %id, "content deleted after the retention period");
        }
        // The sender sees the deletion in the trail (its status history hides purges, as
        // Altinn's does). Repeated after a crash, the guard writes it once.
        let event = DeliveryEvent::new(
            ReceiptStatus::Slettet,
            now,
            format!(
                "Content and attachments deleted at the end of the retention period ({}).",
                policy.retention
            ),
        );
        self.record(id, event, &[ReceiptStatus::Slettet], &[], &[])
            .await?;
        Ok(Outcome::Done)
    }
}
