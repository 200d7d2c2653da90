//! The delivery chain after publishing (`reference/delivery-chain.md` §3.3–§3.5; seeds 001,
//! 003, 004): each letter of a resource in the chain is routed to a digital mailbox, to the
//! inbox with notice, or to print ([`route`]); an inbox letter still unread at its print
//! deadline (2 business days by default) is printed and posted; every step is a SvarUt
//! receipt status in the letter's trail ([`melding_domain::delivery`]).
//!
//! Each step is a job written in the same transaction as the event that causes it:
//! 1. publishing enqueues [`RouteLetter`];
//! 2. routing records `AKSEPTERT` with the facts and the route, and enqueues
//!    [`DeliverToMailbox`], or [`PrintLetter`] due now (paper at once) or at the print
//!    deadline (the fallback);
//! 3. [`PrintLetter`] decides, atomically with any reading, whether the letter is printed:
//!    it records `SENDT_PRINT` only while the letter is unread, not delivered to a mailbox and
//!    not stopped by an operator, and enqueues [`SubmitPrint`];
//! 4. [`SubmitPrint`] renders the PDF and hands it to the print provider (idempotent by the
//!    letter's id), then [`AwaitPrintReceipt`] collects the provider's receipt (`PRINTET`, with
//!    pages and costs).
//!
//! Rendering is behind [`LetterRenderer`] so that this crate does not compile typst; the
//! composition root plugs `melding-print` in.

mod jobs;
pub mod route;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use melding_delivery::mailbox::{DigitalMailbox, MailboxProvider};
use melding_delivery::print::PrintProvider;
use melding_domain::{
    BusinessCalendar, CorrespondenceId, DeliveryEvent, PrintDeadlineRule, RetentionPeriod,
};
use melding_store::{PostalAddress, Store};

pub(crate) use jobs::delivery_handlers;
pub use jobs::{
    AwaitMailboxReceipt, AwaitPrintReceipt, DeleteLetterContent, DeliverToMailbox, PrintLetter,
    RouteLetter, SubmitPrint,
};

use crate::{CoreError, Melding};

/// How one resource's letters travel the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPolicy {
    /// Route the resource's letters at all. Off: letters stay in the inbox only, as in Altinn.
    pub enabled: bool,
    /// Print an inbox letter still unread at its deadline (SvarUt's fallback; "may be
    /// configured off", `delivery-chain.md` §3.3 item 4).
    pub print_fallback: bool,
    /// Never print (SvarUt's `kunDigitalLevering`): letters without a digital route are not
    /// delivered (rule 28).
    pub digital_only: bool,
    /// When an unread letter is printed, counted from its notice: 2 business days unless set
    /// (seeds 001, 003, 004; rule 27).
    pub print_deadline: PrintDeadlineRule,
    /// How long after publication the letter's content and attachments are deleted: 3 months
    /// unless set (seeds 001, 003, 004; rule 32). The receipt trail and status history stay.
    pub retention: RetentionPeriod,
}

impl ChainPolicy {
    /// The SvarUt chain as the seeds describe it: routed, printed after 2 business days.
    pub fn svarut() -> Self {
        Self {
            enabled: true,
            print_fallback: true,
            digital_only: false,
            print_deadline: PrintDeadlineRule::default(),
            retention: RetentionPeriod::DEFAULT,
        }
    }

    /// Altinn's behaviour: no routing, no print.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::svarut()
        }
    }
}

/// The chain's settings: a default policy, overrides per resource id, and the business-day
/// calendar deadlines are counted on (Norwegian public holidays, Europe/Oslo).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// The policy of resources without an override.
    pub default: ChainPolicy,
    /// Policies by resource id.
    pub resources: HashMap<String, ChainPolicy>,
    /// The business days (`delivery-chain.md` §5).
    pub calendar: BusinessCalendar,
    /// How often to ask a print provider or a digital mailbox for a receipt that has not come
    /// yet, in seconds.
    pub receipt_poll_seconds: u32,
}

impl Default for DeliverySettings {
    /// The chain off for every resource (Altinn's behaviour); the Norwegian calendar; receipts
    /// polled every 5 minutes.
    fn default() -> Self {
        Self {
            default: ChainPolicy::off(),
            resources: HashMap::new(),
            calendar: BusinessCalendar::norwegian(),
            receipt_poll_seconds: 300,
        }
    }
}

impl DeliverySettings {
    /// The policy of resource `id`.
    pub fn policy(&self, resource_id: &str) -> &ChainPolicy {
        self.resources.get(resource_id).unwrap_or(&self.default)
    }
}

/// A letter as the print house and the digital mailbox get it, before rendering.
#[derive(Debug, Clone)]
pub struct PrintableLetter {
    /// The service owner's name, printed as the sender.
    pub sender_name: String,
    /// The service owner's organisation number.
    pub sender_org: melding_domain::OrgNumber,
    /// The recipient's name.
    pub recipient_name: String,
    /// The recipient's postal address; `None` for a digital-mailbox copy of a recipient
    /// without one.
    pub address: Option<PostalAddress>,
    /// The letter date (Oslo).
    pub date: NaiveDate,
    /// The title.
    pub title: String,
    /// The summary, if any.
    pub summary: Option<String>,
    /// The body, markdown.
    pub body_markdown: String,
    /// The attachments whose bytes are still kept: name, media type, bytes.
    pub attachments: Vec<(String, String, Vec<u8>)>,
    /// The letter's language code (`nb`, `nn`, `en`).
    pub language: String,
}

/// A rendered letter: the PDF bytes and the number of pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedLetter {
    /// The PDF.
    pub pdf: Vec<u8>,
    /// Pages in it.
    pub pages: u32,
}

/// Renders letters to PDF (A4, window-envelope address: `delivery-chain.md` §3.5). Called from
/// a blocking thread: rendering is CPU work.
pub trait LetterRenderer: Send + Sync {
    /// Renders `letter`.
    ///
    /// Errors: a sentence saying why the letter cannot be rendered; the letter is then not
    /// delivered on paper and the trail says so.
    fn render(&self, letter: &PrintableLetter) -> Result<RenderedLetter, String>;
}

/// The adapters the chain hands letters to. Without them ([`Melding::with_delivery_channels`]
/// not called) letters are still routed and their print decided; the hand-over waits,
/// retried, until a node with channels runs it.
#[derive(Clone)]
pub struct DeliveryChannels {
    pub(crate) renderer: Arc<dyn LetterRenderer>,
    pub(crate) print: Option<Arc<dyn PrintProvider>>,
    pub(crate) mailboxes: HashMap<MailboxProvider, Arc<dyn DigitalMailbox>>,
}

impl std::fmt::Debug for DeliveryChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryChannels")
            .field("print", &self.print.is_some())
            .field("mailboxes", &self.mailboxes.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl DeliveryChannels {
    /// Channels rendering with `renderer`, with no print provider and no mailbox yet.
    pub fn new(renderer: Arc<dyn LetterRenderer>) -> Self {
        Self {
            renderer,
            print: None,
            mailboxes: HashMap::new(),
        }
    }

    /// Hands printed letters to `provider` (a spool directory, an SFTP print house, …).
    pub fn with_print(mut self, provider: Arc<dyn PrintProvider>) -> Self {
        self.print = Some(provider);
        self
    }

    /// Delivers to persons who chose `provider` through `mailbox`.
    pub fn with_mailbox(
        mut self,
        provider: MailboxProvider,
        mailbox: Arc<dyn DigitalMailbox>,
    ) -> Self {
        self.mailboxes.insert(provider, mailbox);
        self
    }
}

/// The provider KRR names, by the names the registry import accepts (`digipost`, `eboks` or
/// `e-boks`, any case).
pub(crate) fn mailbox_provider(name: &str) -> Option<MailboxProvider> {
    match name.trim().to_ascii_lowercase().as_str() {
        "digipost" => Some(MailboxProvider::Digipost),
        "eboks" | "e-boks" => Some(MailboxProvider::EBoks),
        _ => None,
    }
}

/// At most this many letters in one receipt query (SvarUt's `status-sok` takes a list; the
/// issue of the delivery chain asks for up to 1,000).
pub const MAX_RECEIPT_QUERY: usize = 1000;

/// A letter's receipt status as a query answers it: the latest step of its trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSummary {
    /// The letter.
    pub correspondence_id: CorrespondenceId,
    /// Its latest receipt status.
    pub status: melding_domain::ReceiptStatus,
    /// When it reached it (UTC).
    pub changed: DateTime<Utc>,
}

impl Melding {
    /// The receipt trail of a letter the caller may see, as its sender or its recipient
    /// ([`Melding::receipt_trail`] after the access decision).
    ///
    /// Errors: [`CoreError`] when the store fails.
    /// With the trail comes the deletion date of the letter's content
    /// ([`Melding::content_deletion_due`]), which the recipient sees on each letter.
    pub async fn receipts(
        &self,
        access: crate::LetterAccess<'_>,
    ) -> Result<(Vec<DeliveryEvent>, Option<DateTime<Utc>>), CoreError> {
        let letter = access.into_letter();
        let stored = self.store.delivery_events(letter.id).await?;
        Ok((
            full_trail(&letter, stored),
            self.content_deletion_due(&letter),
        ))
    }

    /// When the letter's content and attachments are deleted (UTC): the end of its resource's
    /// retention period after publication, for a published letter of a resource in the chain;
    /// `None` otherwise (Altinn's letters are kept until purged).
    pub fn content_deletion_due(
        &self,
        letter: &melding_domain::correspondence::Correspondence,
    ) -> Option<DateTime<Utc>> {
        let policy = self.delivery.policy(letter.settings.resource_id.as_str());
        let published = letter.published?;
        policy
            .enabled
            .then(|| policy.retention.deletion_due_at(published).ok())
            .flatten()
    }

    /// The latest receipt status of each of `ids` that the caller sent (SvarUt's
    /// `status-sok`); letters it did not send, or that do not exist, are left out. Ids repeated
    /// are answered once.
    ///
    /// The caller checks the count against [`MAX_RECEIPT_QUERY`].
    ///
    /// Errors: [`CoreError`] when the store fails.
    pub async fn receipt_statuses(
        &self,
        principal: &crate::Principal,
        ids: &[CorrespondenceId],
    ) -> Result<Vec<ReceiptSummary>, CoreError> {
        let mut trails: HashMap<CorrespondenceId, Vec<DeliveryEvent>> = self
            .store
            .delivery_events_of(ids)
            .await?
            .into_iter()
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for id in ids {
            if !seen.insert(*id) {
                continue;
            }
            let stored = trails.remove(id).unwrap_or_default();
            if let Some(s) = self.summary_for_sender(principal, *id, stored).await? {
                out.push(s);
            }
        }
        Ok(out)
    }

    async fn summary_for_sender(
        &self,
        principal: &crate::Principal,
        id: CorrespondenceId,
        stored: Vec<DeliveryEvent>,
    ) -> Result<Option<ReceiptSummary>, CoreError> {
        let access = match self.letter_access(principal, id).await {
            Ok(a) => a,
            Err(CoreError::Store(e)) => return Err(CoreError::Store(e)),
            Err(_) => return Ok(None),
        };
        if access.side() != crate::Side::Sender {
            return Ok(None);
        }
        let letter = access.into_letter();
        Ok(full_trail(&letter, stored).pop().map(|e| ReceiptSummary {
            correspondence_id: id,
            status: e.status,
            changed: e.at,
        }))
    }

    /// Records, for the letter's sender, that the recipient read the letter in another system
    /// (SvarUt's `POST /forsendelser/{id}/lest`, `delivery-chain.md` §3.3 item 8): `LEST` in
    /// the trail, which stops a pending print. Returns whether it was recorded (false: the
    /// letter was already read, printed, delivered or stopped).
    ///
    /// Errors: [`crate::Rule::NoAccess`] (4001) for a caller who is not the sender;
    /// [`CoreError`] when the store fails.
    pub async fn mark_read_elsewhere(
        &self,
        access: crate::LetterAccess<'_>,
        system: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, CoreError> {
        if access.side() != crate::Side::Sender {
            return Err(crate::access::no_access());
        }
        let now = self.clock.now();
        let at = at.map_or(now, |t| t.min(now));
        let event = DeliveryEvent::new(
            melding_domain::ReceiptStatus::Lest,
            at,
            format!("Read in {system}, as the sender reported."),
        )
        .with_details(serde_json::json!({ "system": system }).to_string());
        let stops = melding_domain::ReceiptStatus::STOPS_PRINT;
        Ok(self
            .store
            .append_delivery_event(access.id(), &event, &stops, &[], &[])
            .await?)
    }

    /// A letter's receipt trail ([`receipt_trail`]), for a caller that already decided access.
    ///
    /// Errors: [`CoreError`] when the store fails.
    pub async fn receipt_trail(
        &self,
        id: CorrespondenceId,
    ) -> Result<Vec<DeliveryEvent>, CoreError> {
        receipt_trail(self.store.as_ref(), id).await
    }
}

/// A letter's receipt trail, oldest first: `MOTTATT` at its creation, the chain's events, and
/// `LEST` at its first reading, so the trail reads as SvarUt's `hendelser`
/// (`delivery-chain.md` §3.4). Decides no access: for operators (`melding delivery show`) and
/// for use cases after their access decision.
///
/// Errors: [`CoreError`] when the store fails; an unknown letter has an empty trail.
pub async fn receipt_trail(
    store: &dyn Store,
    id: CorrespondenceId,
) -> Result<Vec<DeliveryEvent>, CoreError> {
    let Some(letter) = store.correspondence(id).await? else {
        return Ok(Vec::new());
    };
    let stored = store.delivery_events(id).await?;
    Ok(full_trail(&letter, stored))
}

/// An operator takes a letter out of the chain at `now` (`MANUELT_HANDTERT`,
/// `delivery-chain.md` §3.3 item 7, rule 29): a pending print never happens. Returns whether it
/// was recorded (false: already read, printed, delivered to a digital mailbox, sent to print or
/// stopped; once sent to print nothing can be recalled).
///
/// Errors: [`crate::Rule::NotFound`] for an unknown letter; [`CoreError`] when the store fails.
pub async fn stop_print(
    store: &dyn Store,
    now: DateTime<Utc>,
    id: CorrespondenceId,
    operator: &str,
    reason: &str,
) -> Result<bool, CoreError> {
    let event = DeliveryEvent::new(
        melding_domain::ReceiptStatus::ManueltHandtert,
        now,
        format!("Handled manually by {operator}: {reason}"),
    );
    let stops = melding_domain::ReceiptStatus::STOPS_OPERATOR;
    let read = [melding_domain::CorrespondenceStatus::Read.value()];
    match store
        .append_delivery_event(id, &event, &stops, &read, &[])
        .await
    {
        Err(melding_store::StoreError::NotFound) => Err(crate::Rule::NotFound.into()),
        other => Ok(other?),
    }
}

/// `stored` with `MOTTATT` (creation) in front and `LEST` (the first Read) in time order.
pub(crate) fn full_trail(
    letter: &melding_domain::correspondence::Correspondence,
    stored: Vec<DeliveryEvent>,
) -> Vec<DeliveryEvent> {
    use melding_domain::ReceiptStatus;
    let mut trail = vec![DeliveryEvent::new(
        ReceiptStatus::Mottatt,
        letter.created,
        "Received, and given its correspondence id.",
    )];
    trail.extend(stored);
    if let Some(read) = first_read(letter) {
        trail.push(DeliveryEvent::new(
            ReceiptStatus::Lest,
            read,
            "Opened by the recipient in the inbox, which accepts digital delivery.",
        ));
    }
    trail.sort_by_key(|e| e.at);
    trail
}

/// When the letter was first read, if it was.
pub(crate) fn first_read(
    letter: &melding_domain::correspondence::Correspondence,
) -> Option<DateTime<Utc>> {
    letter
        .statuses
        .first(melding_domain::CorrespondenceStatus::Read)
        .map(|e| e.at)
}
