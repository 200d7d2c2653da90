//! `melding simulate`: the delivery chain run in process on a simulated clock over a generated
//! population, to show that no letter falls through (issue 16 item 7).
//!
//! A fresh SQLite store in a temporary directory holds a population drawn from a seeded random
//! generator: persons reserved against digital post, persons who chose Digipost or e-Boks,
//! persons with an e-mail address, with only a mobile number, or with no contact point at all,
//! and organisations with and without notification addresses, and with no one who reads their
//! post. Letters go out during the first
//! days; each recipient reads after a delay drawn from a distribution, or never. The real
//! use cases and jobs of `melding-core` run every simulated hour (publishing, routing,
//! notices with their SMS window, the print deadline on Norwegian business days, print,
//! digital mailbox, retention); only the outside world is stood in for: e-mail, SMS and the
//! digital mailboxes are `melding-delivery`'s capturing adapters, and [`PrintHouse`] takes print
//! orders and returns a receipt for each the next simulated hour.
//!
//! At the end every letter is classified by its receipt trail into exactly one outcome, and the
//! trail is checked against the chain's promises ([`Violations`]): no print before its deadline,
//! none after the letter was read or delivered to a digital mailbox, no unread inbox letter left
//! unprinted a day past its deadline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use melding_core::{
    ChainPolicy, ContentInput, DeliveryChannels, DeliverySettings, InitializeRequest,
    LetterRenderer, Melding, NotificationChannels, NotificationRequest, Principal, PrintableLetter,
    RenderedLetter,
};
use melding_delivery::SendError;
use melding_delivery::email::CapturingEmailSender;
use melding_delivery::mailbox::{CapturingMailbox, MailboxProvider};
use melding_delivery::print::{
    PrintCost, PrintOrder, PrintOutcome, PrintProvider, PrintReceipt, PrintSubmission, ReceiptId,
};
use melding_delivery::sms::{CapturingSmsSender, SmsSenderId};
use melding_domain::calendar::oslo_date;
use melding_domain::notification::{EmailContentType, NotificationChannel, NotificationTemplate};
use melding_domain::{
    Clock, CorrespondenceId, DeliveryEvent, EmailAddress, OrgNumber, Party, PrintDeadlineRule,
    ReceiptStatus, Recipient, ResourceId, ResourceType, SimulatedClock,
};
use melding_jobs::{Runner, RunnerConfig, Waker};
use melding_store::{
    KrrContact, Organization, Person, PostalAddress, RegistryBatch, Resource, Store,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The simulated sender: a municipality.
const SENDER: &str = "991825827";
/// The resource the simulated letters are sent under, in the chain.
const RESOURCE: &str = "simulert-kommunepost";
/// Recipients per initialize request (the API's limit is 500).
const PER_REQUEST: usize = 500;

/// What `melding simulate` is asked to do.
#[derive(Debug, Clone)]
pub struct SimulationPlan {
    /// Letters to send, one per recipient.
    pub letters: u32,
    /// Simulated days to run, counted from Monday 2 March 2026 08:00 Oslo.
    pub days: u32,
    /// The letters go out at random times during the first this many days (at most `days`).
    pub sending_days: u32,
    /// The seed of the population and of the reading delays: the same seed gives the same run.
    pub seed: u64,
    /// Render printed letters with typst (slow) instead of a one-page stand-in PDF.
    pub typst: bool,
    /// Show a progress bar on standard error.
    pub progress: bool,
}

/// The outcome of a run: the JSON written for comparison between runs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulationSummary {
    /// Letters sent.
    pub letters: u32,
    /// Simulated days.
    pub days: u32,
    /// The days over which the letters went out.
    pub sending_days: u32,
    /// The seed.
    pub seed: u64,
    /// Recipients by kind (`person with e-mail`, `reserved person`, …).
    pub population: BTreeMap<String, u64>,
    /// Letters by their one final outcome (`read digitally`, `printed`, …).
    pub outcomes: BTreeMap<String, u64>,
    /// Letters handed to print per Oslo date (`YYYY-MM-DD`).
    pub prints_per_day: BTreeMap<String, u64>,
    /// Notices handed over, by channel (`email`, `sms`).
    pub notices_per_channel: BTreeMap<String, u64>,
    /// Letters delivered to each digital mailbox provider.
    pub mailbox_deliveries: BTreeMap<String, u64>,
    /// Pages printed, as the print house's receipts say.
    pub printed_pages: u64,
    /// What printing and postage cost, in øre, as the print house's receipts say.
    pub print_cost_ore: u64,
    /// Broken promises, by kind; all zero in a correct chain.
    pub violations: Violations,
    /// Wall-clock seconds the run took.
    pub wall_seconds: f64,
    /// Letters per wall-clock second.
    pub letters_per_second: f64,
}

/// The chain's promises, counted where a trail breaks them (`reference/delivery-chain.md`
/// rules 27 and 28).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Violations {
    /// Printed before two business days had passed since its notice.
    pub printed_before_deadline: u64,
    /// Printed after the recipient had read it.
    pub printed_after_reading: u64,
    /// Printed after a digital mailbox had delivered it.
    pub printed_after_mailbox_delivery: u64,
    /// Unread in the inbox a day past its deadline, and not printed.
    pub unprinted_past_deadline: u64,
    /// Ended in more than one final outcome, or none where one was due.
    pub ambiguous_outcome: u64,
}

impl Violations {
    /// The sum of all kinds.
    pub fn total(&self) -> u64 {
        self.printed_before_deadline
            + self.printed_after_reading
            + self.printed_after_mailbox_delivery
            + self.unprinted_past_deadline
            + self.ambiguous_outcome
    }
}

/// The simulated print house: takes orders and, at the next fetch, returns a `Printed`
/// receipt for each, priced as a B-post letter (11 kr plus 0.90 kr a page). Keeps the orders'
/// metadata, not their PDFs, so a run of 100,000 letters stays small.
#[derive(Debug, Default)]
pub struct PrintHouse {
    pending: Mutex<Vec<PrintOrder>>,
    next_receipt: Mutex<u64>,
}

#[async_trait]
impl PrintProvider for PrintHouse {
    async fn submit(&self, order: &PrintOrder, _pdf: &[u8]) -> Result<PrintSubmission, SendError> {
        self.pending
            .lock()
            .expect("print house")
            .push(order.clone());
        Ok(PrintSubmission {
            reference: order.reference.clone(),
            location: "the simulated print house".into(),
            already_submitted: false,
        })
    }

    async fn fetch_receipts(&self) -> Result<Vec<PrintReceipt>, SendError> {
        let orders: Vec<PrintOrder> =
            std::mem::take(&mut *self.pending.lock().expect("print house"));
        let mut next = self.next_receipt.lock().expect("print house");
        Ok(orders
            .into_iter()
            .map(|order| {
                *next += 1;
                PrintReceipt {
                    id: receipt_id(*next),
                    reference: order.reference,
                    outcome: PrintOutcome::Printed,
                    at: None,
                    cost: PrintCost {
                        pages: Some(order.page_count),
                        sheets: Some(order.page_count),
                        postage: Some(order.postage),
                        price_ore: Some(1100 + 90 * u64::from(order.page_count)),
                    },
                }
            })
            .collect())
    }

    async fn acknowledge(&self, _receipts: &[ReceiptId]) -> Result<(), SendError> {
        Ok(())
    }
}

fn receipt_id(n: u64) -> ReceiptId {
    ReceiptId::new(format!("sim-{n}"))
}

/// A one-page stand-in for the typst renderer: a minimal PDF, so that a run measures the
/// chain rather than typesetting (`--typst` renders for real).
#[derive(Debug, Clone, Copy)]
struct StandInRenderer;

impl LetterRenderer for StandInRenderer {
    fn render(&self, letter: &PrintableLetter) -> Result<RenderedLetter, String> {
        Ok(RenderedLetter {
            pdf: format!("%PDF-1.7\n% {}\n%%EOF\n", letter.title).into_bytes(),
            pages: 1,
        })
    }
}

/// The kinds of recipient the population is drawn from, with their shares in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    EmailPerson,
    SmsPerson,
    DigipostPerson,
    EboksPerson,
    ReservedPerson,
    UnreachablePerson,
    NotifiedOrganisation,
    SilentOrganisation,
    UnreadOrganisation,
}

impl Kind {
    const SHARES: [(Kind, u32); 9] = [
        (Kind::EmailPerson, 38),
        (Kind::SmsPerson, 14),
        (Kind::DigipostPerson, 16),
        (Kind::EboksPerson, 8),
        (Kind::ReservedPerson, 4),
        (Kind::UnreachablePerson, 8),
        (Kind::NotifiedOrganisation, 7),
        (Kind::SilentOrganisation, 3),
        (Kind::UnreadOrganisation, 2),
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::EmailPerson => "person with e-mail",
            Kind::SmsPerson => "person with only a mobile number",
            Kind::DigipostPerson => "person with Digipost",
            Kind::EboksPerson => "person with e-Boks",
            Kind::ReservedPerson => "reserved person",
            Kind::UnreachablePerson => "person without a contact point",
            Kind::NotifiedOrganisation => "organisation with notification addresses",
            Kind::SilentOrganisation => "organisation without notification addresses",
            Kind::UnreadOrganisation => "organisation without anyone who reads its post",
        }
    }

    fn draw(rng: &mut StdRng) -> Kind {
        let total: u32 = Kind::SHARES.iter().map(|(_, s)| s).sum();
        let mut pick = rng.random_range(0..total);
        for (kind, share) in Kind::SHARES {
            if pick < share {
                return kind;
            }
            pick -= share;
        }
        Kind::EmailPerson
    }
}

/// One simulated letter: its recipient, when it is sent and when (if ever) it is read.
struct Planned {
    kind: Kind,
    party: Party,
    send_at: DateTime<Utc>,
    read_after: Option<Duration>,
    id: Option<CorrespondenceId>,
    read: bool,
}

/// The reading delay: 35 % within hours, 25 % within 1–4 days, 10 % within 5–30 days, 30 %
/// never.
fn reading_delay(rng: &mut StdRng) -> Option<Duration> {
    let p: f64 = rng.random();
    if p < 0.35 {
        Some(Duration::minutes(rng.random_range(5..8 * 60)))
    } else if p < 0.60 {
        Some(Duration::hours(rng.random_range(24..4 * 24)))
    } else if p < 0.70 {
        Some(Duration::hours(rng.random_range(5 * 24..30 * 24)))
    } else {
        None
    }
}

/// When the simulation starts: Monday 2 March 2026, 08:00 Oslo.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0)
        .single()
        .expect("a valid start")
}

/// Runs a simulation in a fresh temporary directory, removed afterwards.
///
/// Errors: the store or a use case failing, which is a bug the run reports.
pub async fn simulate(plan: &SimulationPlan) -> anyhow::Result<SimulationSummary> {
    let dir = std::env::temp_dir().join(format!(
        "melding-simulate-{}-{}",
        std::process::id(),
        plan.seed
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let outcome = simulate_in(plan, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn simulate_in(plan: &SimulationPlan, dir: &Path) -> anyhow::Result<SimulationSummary> {
    let wall = std::time::Instant::now();
    let store = crate::open_backend(dir, None).await?;
    let blobs = crate::open_blobs(dir, &Default::default()).await?;
    let clock = Arc::new(SimulatedClock::new(start()));
    let mut rng = StdRng::seed_from_u64(plan.seed);

    let mut planned = population(plan, &mut rng);
    register(store.as_ref(), &planned).await?;
    let mut population: BTreeMap<String, u64> = BTreeMap::new();
    for p in &planned {
        *population.entry(p.kind.name().to_owned()).or_default() += 1;
    }

    let email = Arc::new(CapturingEmailSender::new());
    let sms = Arc::new(CapturingSmsSender::new());
    let digipost = Arc::new(CapturingMailbox::new());
    let eboks = Arc::new(CapturingMailbox::new());
    let print = Arc::new(PrintHouse::default());
    let renderer: Arc<dyn LetterRenderer> = if plan.typst {
        Arc::new(crate::printing::TypstRenderer)
    } else {
        Arc::new(StandInRenderer)
    };
    let waker = Waker::default();
    let melding = Melding::new(store.clone(), blobs, clock.clone(), waker.clone())
        .with_notification_channels(NotificationChannels::new(
            email.clone(),
            sms.clone(),
            EmailAddress::parse("ikke-svar@kommune.example.no")?,
            Some("Simulert kommune".into()),
            SmsSenderId::parse("Kommunen").map_err(|e| anyhow::anyhow!("{e:?}"))?,
        ))
        .with_delivery_settings(DeliverySettings {
            default: ChainPolicy::svarut(),
            receipt_poll_seconds: 3600,
            ..DeliverySettings::default()
        })
        .with_delivery_channels(
            DeliveryChannels::new(renderer)
                .with_print(print.clone())
                .with_mailbox(MailboxProvider::Digipost, digipost.clone())
                .with_mailbox(MailboxProvider::EBoks, eboks.clone()),
        );
    let mut runner = Runner::new(
        store.clone(),
        clock.clone(),
        RunnerConfig {
            batch: 256,
            concurrency: 16,
            ..RunnerConfig::default()
        },
        waker,
    );
    for handler in melding.job_handlers() {
        runner.register(handler);
    }

    let sender = Principal::new(
        Party::Organization(OrgNumber::parse(SENDER)?),
        [
            melding_core::scopes::WRITE,
            melding_core::scopes::SERVICE_OWNER,
        ],
    );
    let hours = i64::from(plan.days) * 24;
    let bar = progress_bar(plan, hours);
    for _ in 0..hours {
        let now = clock.now();
        send_due(&melding, &sender, &mut planned, now).await?;
        read_due(&melding, &mut planned, now).await?;
        runner.run_until_idle().await?;
        clock.advance(Duration::hours(1));
        bar.inc(1);
    }
    runner.run_until_idle().await?;
    bar.finish_and_clear();

    let mut summary = SimulationSummary {
        letters: plan.letters,
        days: plan.days,
        sending_days: plan.sending_days.min(plan.days),
        seed: plan.seed,
        population,
        outcomes: BTreeMap::new(),
        prints_per_day: BTreeMap::new(),
        notices_per_channel: BTreeMap::from([
            ("email".to_owned(), email.sent().len() as u64),
            ("sms".to_owned(), sms.sent().len() as u64),
        ]),
        mailbox_deliveries: BTreeMap::from([
            ("digipost".to_owned(), digipost.sent().len() as u64),
            ("e-boks".to_owned(), eboks.sent().len() as u64),
        ]),
        printed_pages: 0,
        print_cost_ore: 0,
        violations: Violations::default(),
        wall_seconds: 0.0,
        letters_per_second: 0.0,
    };
    let end = clock.now();
    let ids: Vec<CorrespondenceId> = planned.iter().filter_map(|p| p.id).collect();
    for chunk in ids.chunks(1000) {
        for id in chunk {
            let trail = melding_core::delivery::receipt_trail(store.as_ref(), *id).await?;
            judge(&trail, end, &mut summary);
        }
    }
    let unsent = planned.iter().filter(|p| p.id.is_none()).count() as u64;
    if unsent > 0 {
        summary.outcomes.insert("not sent in time".into(), unsent);
    }
    summary.wall_seconds = wall.elapsed().as_secs_f64();
    summary.letters_per_second = f64::from(plan.letters) / summary.wall_seconds.max(1e-9);
    Ok(summary)
}

fn progress_bar(plan: &SimulationPlan, hours: i64) -> indicatif::ProgressBar {
    if !plan.progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(u64::try_from(hours).unwrap_or(0));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "simulating {bar:40} {pos}/{len} simulated hours, {elapsed} ({eta} left)",
        )
        .expect("a valid template"),
    );
    bar
}

/// Draws the recipients and their reading delays.
fn population(plan: &SimulationPlan, rng: &mut StdRng) -> Vec<Planned> {
    let n = plan.letters as usize;
    let persons = melding_domain::identifiers::synthetic::national_ids(n);
    let orgs = melding_domain::identifiers::synthetic::org_numbers(n + 1)
        .into_iter()
        .filter(|o| o.as_str() != SENDER)
        .collect::<Vec<_>>();
    let sending = Duration::days(i64::from(plan.sending_days.min(plan.days).max(1)));
    let window_minutes = sending.num_minutes().max(1);
    (0..n)
        .map(|i| {
            let kind = Kind::draw(rng);
            let party = match kind {
                Kind::NotifiedOrganisation
                | Kind::SilentOrganisation
                | Kind::UnreadOrganisation => Party::Organization(orgs[i].clone()),
                _ => Party::Person(persons[i].clone()),
            };
            Planned {
                kind,
                party,
                send_at: start() + Duration::minutes(rng.random_range(0..window_minutes)),
                // Nobody holds a role to read an unread organisation's post.
                read_after: if kind == Kind::UnreadOrganisation {
                    None
                } else {
                    reading_delay(rng)
                },
                id: None,
                read: false,
            }
        })
        .collect()
}

fn address(i: usize) -> PostalAddress {
    PostalAddress {
        lines: vec![format!("Storgata {}", i % 200 + 1)],
        postal_code: "3110".into(),
        city: "TØNSBERG".into(),
        country: None,
        protected: false,
    }
}

/// Writes the sender, the resource and the recipients to the registry.
async fn register(store: &dyn Store, planned: &[Planned]) -> anyhow::Result<()> {
    let mut batch = RegistryBatch {
        organizations: vec![Organization::new(
            OrgNumber::parse(SENDER)?,
            "Simulert kommune",
        )],
        resources: vec![Resource {
            id: RESOURCE.into(),
            owner: OrgNumber::parse(SENDER)?,
            service_owner_code: "sim".into(),
            title: "Post fra kommunen".into(),
            confidential: false,
            read_policy: vec![],
            resource_type: ResourceType::CorrespondenceService,
            minimum_authentication_level: 0,
        }],
        ..RegistryBatch::default()
    };
    for (i, p) in planned.iter().enumerate() {
        match &p.party {
            Party::Person(nid) => {
                let mut person = Person::new(nid.clone(), format!("Person {i}"));
                // One in five persons without a contact point has no postal address either:
                // nothing to print to.
                person.address =
                    (p.kind != Kind::UnreachablePerson || i % 5 != 0).then(|| address(i));
                let email = Some(format!("person{i}@example.no"));
                let mobile = Some(format!("+47{}", 40_000_000 + i));
                person.krr = match p.kind {
                    Kind::EmailPerson => Some(KrrContact {
                        email,
                        mobile,
                        ..KrrContact::default()
                    }),
                    Kind::SmsPerson => Some(KrrContact {
                        mobile,
                        ..KrrContact::default()
                    }),
                    Kind::DigipostPerson | Kind::EboksPerson => Some(KrrContact {
                        email,
                        mailbox_provider: Some(
                            if p.kind == Kind::DigipostPerson {
                                "digipost"
                            } else {
                                "eboks"
                            }
                            .into(),
                        ),
                        mailbox_address: Some(format!("person{i}#{}", 1000 + i % 9000)),
                        ..KrrContact::default()
                    }),
                    Kind::ReservedPerson => {
                        person.reserved = true;
                        None
                    }
                    _ => None,
                };
                batch.persons.push(person);
            }
            Party::Organization(org) => {
                let mut o = Organization::new(org.clone(), format!("Virksomhet {i} AS"));
                o.address = Some(address(i));
                if matches!(
                    p.kind,
                    Kind::NotifiedOrganisation | Kind::UnreadOrganisation
                ) {
                    o.notification_emails = vec![format!("post{i}@virksomhet.example.no")];
                }
                batch.organizations.push(o);
            }
            Party::SelfIdentified(_) => {}
        }
    }
    store.upsert_registry(&batch).await?;
    Ok(())
}

/// Sends every planned letter whose time has come, up to 500 recipients a request.
async fn send_due(
    melding: &Melding,
    sender: &Principal,
    planned: &mut [Planned],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let due: Vec<usize> = planned
        .iter()
        .enumerate()
        .filter(|(_, p)| p.id.is_none() && p.send_at <= now)
        .map(|(i, _)| i)
        .collect();
    for chunk in due.chunks(PER_REQUEST) {
        let recipients: Vec<Recipient> = chunk
            .iter()
            .map(|i| Recipient::parse(&planned[*i].party.urn()))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("a generated recipient: {e}"))?;
        let answer = melding
            .initialize(sender, request(recipients))
            .await
            .map_err(|e| anyhow::anyhow!("initialize: {e}"))?;
        for (i, letter) in chunk.iter().zip(answer.letters) {
            planned[*i].id = Some(letter.id);
        }
    }
    Ok(())
}

fn request(recipients: Vec<Recipient>) -> InitializeRequest {
    InitializeRequest {
        resource_id: ResourceId::parse(RESOURCE).expect("a valid resource id"),
        senders_reference: "eiendomsskatt-2026".into(),
        message_sender: None,
        content: ContentInput {
            language: Some("nb".into()),
            title: "Eiendomsskatt 2026".into(),
            summary: Some("Skatteseddel for eiendomsskatt".into()),
            body: "Eiendomsskatten for **2026** er 4 200 kroner.".into(),
        },
        requested_publish_time: None,
        due_date_time: None,
        external_references: Vec::new(),
        property_list: BTreeMap::new(),
        reply_options: Vec::new(),
        ignore_reservation: None,
        is_confirmation_needed: false,
        is_confidential: false,
        allow_forwarding: false,
        digital_only: false,
        recipients,
        existing_attachments: Vec::new(),
        new_attachments: Vec::new(),
        files: None,
        idempotent_key: None,
        notification: Some(NotificationRequest {
            template: NotificationTemplate::CustomMessage,
            channel: NotificationChannel::EmailPreferred,
            email_subject: Some("Du har fått post fra kommunen".into()),
            email_body: Some("Logg inn for å lese brevet.".into()),
            email_content_type: EmailContentType::Plain,
            sms_body: Some("Du har fått post fra kommunen.".into()),
            send_reminder: false,
            reminder_channel: None,
            reminder_email_subject: None,
            reminder_email_body: None,
            reminder_email_content_type: None,
            reminder_sms_body: None,
            custom_recipients: Vec::new(),
            override_registered_contact_information: false,
        }),
    }
}

/// The recipients whose reading time has come open their letters (the content, which marks
/// them read), through the same use cases as the API.
async fn read_due(
    melding: &Melding,
    planned: &mut [Planned],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for p in planned.iter_mut() {
        let (Some(id), Some(after), false) = (p.id, p.read_after, p.read) else {
            continue;
        };
        if p.send_at + after > now {
            continue;
        }
        p.read = true;
        let reader = Principal::new(p.party.clone(), [melding_core::scopes::READ]);
        let access = match melding.letter_access(&reader, id).await {
            Ok(a) => a,
            Err(melding_core::CoreError::Store(e)) => return Err(e.into()),
            // Not visible to its recipient (not published, deleted): nothing to read.
            Err(_) => continue,
        };
        match melding.content(access).await {
            Ok(_) | Err(melding_core::CoreError::Rule(_)) => {}
            Err(e) => return Err(anyhow::anyhow!("reading {id}: {e}")),
        }
    }
    Ok(())
}

/// Classifies one letter by its trail into exactly one outcome and counts what it breaks.
fn judge(trail: &[DeliveryEvent], end: DateTime<Utc>, summary: &mut SimulationSummary) {
    use ReceiptStatus as R;
    let first = |s: R| trail.iter().find(|e| e.status == s).map(|e| e.at);
    let read = first(R::Lest);
    let delivered = first(R::LevertSdp);
    let sent_to_print = first(R::SendtPrint);
    let printed = first(R::Printet);
    let not_delivered = first(R::IkkeLevert);
    let stopped = first(R::ManueltHandtert);
    let notified = first(R::Varslet);
    let routed_to_print = trail
        .iter()
        .find(|e| e.status == R::Akseptert)
        .and_then(|e| e.details.as_deref())
        .is_some_and(|d| d.contains("\"route\":\"print\""));

    // A letter not delivered on paper may still be read in the inbox; then it was read.
    let finals = [
        delivered.is_some(),
        printed.is_some(),
        not_delivered.is_some() && read.is_none(),
        stopped.is_some(),
        read.is_some() && sent_to_print.is_none() && delivered.is_none(),
    ];
    let outcome = if delivered.is_some() {
        "delivered to a digital mailbox"
    } else if printed.is_some() {
        "printed"
    } else if sent_to_print.is_some() {
        "at the print house"
    } else if read.is_some() {
        "read digitally"
    } else if not_delivered.is_some() {
        "not delivered"
    } else if stopped.is_some() {
        "handled manually"
    } else if notified.is_some() {
        "notified, unread, deadline not reached"
    } else {
        "waiting"
    };
    *summary.outcomes.entry(outcome.to_owned()).or_default() += 1;
    if finals.iter().filter(|f| **f).count() > 1 {
        summary.violations.ambiguous_outcome += 1;
    }

    if let Some(at) = sent_to_print {
        *summary
            .prints_per_day
            .entry(oslo_date(at).to_string())
            .or_default() += 1;
        if read.is_some_and(|r| r < at) {
            summary.violations.printed_after_reading += 1;
        }
        if delivered.is_some_and(|d| d < at) {
            summary.violations.printed_after_mailbox_delivery += 1;
        }
        if !routed_to_print
            && let Some(noticed) = notified
            && deadline(noticed) > at
        {
            summary.violations.printed_before_deadline += 1;
        }
    }
    if let Some(e) = trail.iter().find(|e| e.status == R::Printet)
        && let Some(details) = e.details.as_deref()
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(details)
    {
        summary.printed_pages += v["pages"].as_u64().unwrap_or(0);
        summary.print_cost_ore += v["priceOre"].as_u64().unwrap_or(0);
    }
    if let Some(noticed) = notified
        && sent_to_print.is_none()
        && read.is_none_or(|r| r > deadline(noticed))
        && delivered.is_none()
        && stopped.is_none()
        && not_delivered.is_none()
        && deadline(noticed) + Duration::days(1) < end
    {
        summary.violations.unprinted_past_deadline += 1;
    }
}

/// Two business days after `noticed`, as the chain counts them.
fn deadline(noticed: DateTime<Utc>) -> DateTime<Utc> {
    PrintDeadlineRule::default()
        .deadline(&melding_domain::BusinessCalendar::norwegian(), noticed)
        .unwrap_or(noticed)
}

/// Writes `summary` as pretty JSON to `path`.
///
/// Errors: the file cannot be written.
pub fn write_summary(summary: &SimulationSummary, path: &PathBuf) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(summary)?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

/// The summary for a person: outcome counts, prints per day, notices, costs and violations.
pub fn render_summary(s: &SimulationSummary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} letters sent over {} days, {} simulated days (seed {}), {:.1} s, {:.0} letters/s",
        s.letters, s.sending_days, s.days, s.seed, s.wall_seconds, s.letters_per_second
    );
    let _ = writeln!(out, "\nRecipients:");
    for (k, v) in &s.population {
        let _ = writeln!(out, "  {v:>8}  {k}");
    }
    let _ = writeln!(out, "\nOutcomes:");
    for (k, v) in &s.outcomes {
        let _ = writeln!(out, "  {v:>8}  {k}");
    }
    let _ = writeln!(out, "\nNotices:");
    for (k, v) in &s.notices_per_channel {
        let _ = writeln!(out, "  {v:>8}  {k}");
    }
    let _ = writeln!(out, "\nDigital mailbox deliveries:");
    for (k, v) in &s.mailbox_deliveries {
        let _ = writeln!(out, "  {v:>8}  {k}");
    }
    let _ = writeln!(out, "\nSent to print per day (Oslo):");
    for (k, v) in &s.prints_per_day {
        let _ = writeln!(out, "  {k}  {v:>8}");
    }
    let _ = writeln!(
        out,
        "\nPrinted: {} pages, {:.2} kr",
        s.printed_pages,
        s.print_cost_ore as f64 / 100.0
    );
    let v = &s.violations;
    let _ = writeln!(
        out,
        "Deadline violations: {} (before the deadline {}, after reading {}, after a mailbox delivery {}, unprinted past the deadline {}, ambiguous {})",
        v.total(),
        v.printed_before_deadline,
        v.printed_after_reading,
        v.printed_after_mailbox_delivery,
        v.unprinted_past_deadline,
        v.ambiguous_outcome
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small run: every letter ends in one outcome and no promise is broken.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_population_breaks_no_promise() {
        let plan = SimulationPlan {
            letters: 300,
            days: 21,
            sending_days: 10,
            seed: 7,
            typst: false,
            progress: false,
        };
        let s = simulate(&plan).await.unwrap();
        assert_eq!(
            s.violations,
            Violations::default(),
            "{}",
            render_summary(&s)
        );
        assert_eq!(
            s.outcomes.values().sum::<u64>(),
            300,
            "{}",
            render_summary(&s)
        );
        // Each route happened at least once.
        for outcome in [
            "delivered to a digital mailbox",
            "printed",
            "read digitally",
            "not delivered",
        ] {
            assert!(
                s.outcomes.get(outcome).copied().unwrap_or(0) > 0,
                "no {outcome}: {}",
                render_summary(&s)
            );
        }
        assert!(s.printed_pages > 0 && s.print_cost_ore > 0);
        assert!(s.notices_per_channel["email"] > 0 && s.notices_per_channel["sms"] > 0);
        // The same seed gives the same outcomes.
        let again = simulate(&plan).await.unwrap();
        assert_eq!(again.outcomes, s.outcomes);
    }

    /// The outcomes that end a letter's delivery.
    const TERMINAL: [&str; 5] = [
        "delivered to a digital mailbox",
        "printed",
        "read digitally",
        "not delivered",
        "handled manually",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4))]

        /// For random populations, with enough days after the last letter for every deadline
        /// to pass: every letter ends in exactly one terminal outcome, and no print happens
        /// before its deadline, after a reading or after a digital-mailbox delivery.
        #[test]
        fn every_letter_ends_in_one_terminal_outcome(
            seed in proptest::prelude::any::<u64>(),
            letters in 60u32..160,
            sending_days in 1u32..6,
        ) {
            // Letters go out over `sending_days`; 9 more days cover a deadline across a weekend
            // and a public holiday.
            let days = sending_days + 9;
            let plan = SimulationPlan {
                letters,
                days,
                sending_days,
                seed,
                typst: false,
                progress: false,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let s = runtime.block_on(simulate(&plan)).unwrap();
            proptest::prop_assert_eq!(&s.violations, &Violations::default(), "{}", render_summary(&s));
            proptest::prop_assert_eq!(s.outcomes.values().sum::<u64>(), u64::from(letters));
            for outcome in s.outcomes.keys() {
                proptest::prop_assert!(
                    TERMINAL.contains(&outcome.as_str()),
                    "{outcome} is not terminal: {}",
                    render_summary(&s)
                );
            }
        }
    }
}
