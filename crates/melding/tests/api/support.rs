//! `TestApp`: the real application on port 0 over a fresh SQLite database, with a simulated
//! clock and a development issuer, so tests read like the product.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use melding::App;
use melding_core::Publish;
use melding_core::notify::NotificationChannels;
use melding_delivery::email::{CapturedEmail, CapturingEmailSender};
use melding_delivery::sms::{CapturedSms, CapturingSmsSender, SmsSenderId};
use melding_domain::correspondence::{Content, Correspondence, LetterSettings};
use melding_domain::notification::{
    EmailContentType, NotificationChannel, NotificationOrder, NotificationTemplate,
    NotificationTexts, OrderKind, OrderRecipient, OrderStatus,
};
use melding_domain::{
    Clock, CorrespondenceId, CorrespondenceStatus, EmailAddress, MobileNumber, NationalId,
    OrgNumber, Party, Recipient, ResourceId, ResourceType, SimulatedClock, StatusEntry,
    StatusHistory,
};
use melding_http::auth::DevIssuer;
use melding_jobs::JobKind;
use melding_jobs::Runner;
use melding_store::{Organization, Person, RegistryBatch, RegistryStore, Resource};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[path = "../common/pgdb.rs"]
mod pgdb;
use pgdb::TestDatabase;

pub const SENDER: &str = "991825827";
pub const OTHER_SENDER: &str = "974760673";
pub const RECIPIENT_ORG: &str = "310394955";
pub const PERSON: &str = "08089403198";
pub const OTHER_PERSON: &str = "21866699620";
pub const RESOURCE: &str = "kommunepost";
pub const OTHER_RESOURCE: &str = "skattepost";
pub const CONFIDENTIAL_RESOURCE: &str = "fortrolig";

/// The address notification e-mail is sent from in tests.
pub const NOTIFICATION_FROM: &str = "ikke-svar@melding.test";
/// The SMS sender id in tests.
pub const SMS_SENDER: &str = "Melding";
/// The Basic-auth user the SMS gateway posts delivery reports as, in tests.
pub const SMS_REPORTS_USER: &str = "gateway";
/// Its password.
pub const SMS_REPORTS_PASSWORD: &str = "hemmelig-rapport";
/// The scope Altinn Notifications calls the condition endpoints with.
pub const CONDITION_CHECK: &str = "altinn:system/notifications.condition.check";

pub const WRITE: &str = "altinn:correspondence.write altinn:serviceowner";
pub const READ: &str = "altinn:correspondence.read";

pub struct TestApp {
    pub base: String,
    /// The node's store, for setting up states the API cannot reach quickly.
    pub store: Arc<dyn melding_store::Store>,
    pub metrics_url: String,
    pub clock: Arc<SimulatedClock>,
    pub runner: Arc<Runner>,
    pub issuer: DevIssuer,
    pub client: reqwest::Client,
    /// Every notification e-mail the node handed over, in memory.
    pub email_outbox: Arc<CapturingEmailSender>,
    /// Every notification SMS the node handed over, in memory.
    pub sms_outbox: Arc<CapturingSmsSender>,
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

/// The backend the suite runs on: SQLite unless `MELDING_TEST_BACKEND=postgres`, then a fresh
/// PostgreSQL database per test on `MELDING_TEST_POSTGRES_URL` (default the local server),
/// dropped when the test ends, passed or failed.
fn postgres_wanted() -> bool {
    std::env::var("MELDING_TEST_BACKEND").is_ok_and(|b| b.eq_ignore_ascii_case("postgres"))
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// Reads a response whole.
    pub async fn read(res: reqwest::Response) -> Self {
        Answer {
            status: res.status(),
            headers: res.headers().clone(),
            text: res.text().await.unwrap(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// Asserts a ProblemDetails with this status and CORR- number.
    pub fn assert_problem(&self, status: u16, code: u16) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        let v = self.json();
        assert_eq!(v["code"], format!("CORR-{code:05}"), "body: {}", self.text);
        assert_eq!(v["errorCode"], code, "body: {}", self.text);
        assert_eq!(v["status"], status);
        assert!(v["traceId"].as_str().is_some_and(|t| t.starts_with("00-")));
    }

    pub fn assert_validation(&self, path: &str) {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "body: {}", self.text);
        let v = self.json();
        assert_eq!(v["code"], "STD-00000", "body: {}", self.text);
        let paths: Vec<String> = v["validationErrors"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["paths"].as_array().unwrap().clone())
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        assert!(paths.iter().any(|p| p == path), "{path} not in {paths:?}");
    }

    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        self
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A test app whose node is adjusted by `tune` (e.g. a scanner) before it starts.
    pub async fn spawn_with(tune: impl FnOnce(&mut melding::Node)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = if postgres_wanted() {
            Some(TestDatabase::create().await)
        } else {
            None
        };
        let store = melding::open_backend(dir.path(), database.as_ref().map(|d| d.url.as_str()))
            .await
            .unwrap();
        seed(store.as_ref()).await;
        let clock = Arc::new(SimulatedClock::new(start_time()));
        let issuer = DevIssuer::generate();
        let blobs = melding::open_blobs(dir.path(), &Default::default())
            .await
            .unwrap();
        let mut node = melding::Node::new(
            store.clone(),
            blobs,
            clock.clone(),
            vec![issuer.trusted_issuer()],
        );
        node.min_expiration_days = 1;
        let email_outbox = Arc::new(CapturingEmailSender::new());
        let sms_outbox = Arc::new(CapturingSmsSender::new());
        node.notification_channels = Some(NotificationChannels::new(
            email_outbox.clone(),
            sms_outbox.clone(),
            EmailAddress::parse(NOTIFICATION_FROM).unwrap(),
            Some("Melding".into()),
            SmsSenderId::parse(SMS_SENDER).unwrap(),
        ));
        node.sms_reports = Some(melding_http::SmsReportWebhook {
            username: SMS_REPORTS_USER.into(),
            password: SMS_REPORTS_PASSWORD.into(),
            format: melding_core::notify::SmsReportFormat::GenericJson,
        });
        tune(&mut node);
        let app = App::new(node);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let api = app.api.clone();
        tokio::spawn(async move { api.serve(listener, std::future::pending()).await.unwrap() });
        let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_addr = metrics_listener.local_addr().unwrap();
        let metrics = app.metrics.clone();
        tokio::spawn(async move {
            metrics
                .serve(metrics_listener, std::future::pending())
                .await
                .unwrap()
        });
        Self {
            base: format!("http://{addr}"),
            store,
            metrics_url: format!("http://{metrics_addr}/metrics"),
            clock,
            runner: app.runner.clone(),
            issuer,
            client: reqwest::Client::new(),
            email_outbox,
            sms_outbox,
            _dir: dir,
            _database: database,
        }
    }

    pub fn token(&self, party: &Party, scope: &str) -> String {
        self.issuer
            .mint(party, scope, Duration::hours(1), Utc::now())
    }

    pub fn sender(&self) -> String {
        self.token(&org(SENDER), WRITE)
    }

    pub fn other_sender(&self) -> String {
        self.token(&org(OTHER_SENDER), WRITE)
    }

    pub fn person(&self) -> String {
        self.token(&person(PERSON), READ)
    }

    pub fn other_person(&self) -> String {
        self.token(&person(OTHER_PERSON), READ)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        Answer::read(res).await
    }

    /// Sends a multipart form (letter fields and files) to `/correspondence/upload`.
    pub async fn send_form(&self, token: &str, form: reqwest::multipart::Form) -> Answer {
        let res = self
            .client
            .post(format!(
                "{}/correspondence/api/v1/correspondence/upload",
                self.base
            ))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        Answer::read(res).await
    }

    /// Uploads `bytes` as the raw body of `/attachment/{id}/upload`.
    pub async fn upload(&self, token: &str, id: &str, bytes: Vec<u8>) -> Answer {
        let res = self
            .client
            .post(format!(
                "{}/correspondence/api/v1/attachment/{id}/upload",
                self.base
            ))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
        Answer::read(res).await
    }

    /// GETs raw bytes.
    pub async fn get_bytes(
        &self,
        path: &str,
        token: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str) -> Answer {
        self.call(Method::POST, path, Some(token), None).await
    }

    pub async fn send(&self, token: &str, body: Value) -> Answer {
        self.call(
            Method::POST,
            "/correspondence/api/v1/correspondence",
            Some(token),
            Some(body),
        )
        .await
    }

    /// Sends `body` as the sender and returns the new letters' ids.
    pub async fn send_ok(&self, body: Value) -> Vec<String> {
        let a = self.send(&self.sender(), body).await;
        a.assert_status(200);
        a.json()["correspondences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["correspondenceId"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Sends a letter to the person and publishes it.
    pub async fn published_letter(&self) -> String {
        let id = self.send_ok(letter(&[PERSON])).await.remove(0);
        self.run_jobs().await;
        id
    }

    pub async fn run_jobs(&self) -> usize {
        self.runner.run_until_idle().await.unwrap()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The node's data directory (its SQLite file and attachment files).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The notification e-mails sent so far, oldest first.
    pub fn emails(&self) -> Vec<CapturedEmail> {
        self.email_outbox.sent()
    }

    /// The notification SMS sent so far, oldest first.
    pub fn sms(&self) -> Vec<CapturedSms> {
        self.sms_outbox.sent()
    }
}

/// How many entries of `status` a details answer's history holds.
pub fn history_count(details: &Value, status: &str) -> usize {
    details["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == status)
        .count()
}

pub fn org(n: &str) -> Party {
    Party::Organization(OrgNumber::parse(n).unwrap())
}

pub fn person(n: &str) -> Party {
    Party::Person(NationalId::parse(n).unwrap())
}

pub fn path(id: &str) -> String {
    format!("/correspondence/api/v1/correspondence/{id}")
}

/// A minimal valid request to these recipients (national ids or org numbers).
pub fn letter(recipients: &[&str]) -> Value {
    let recipients: Vec<String> = recipients
        .iter()
        .map(|r| {
            if r.len() == 9 {
                format!("urn:altinn:organization:identifier-no:{r}")
            } else {
                format!("urn:altinn:person:identifier-no:{r}")
            }
        })
        .collect();
    json!({
        "correspondence": {
            "resourceId": RESOURCE,
            "sendersReference": "sak-2026-1",
            "content": {
                "language": "nb",
                "messageTitle": "Vedtak om byggesøknad",
                "messageSummary": "Søknaden er behandlet",
                "messageBody": "# Vedtak\n\nDu har fått **innvilget** søknaden."
            }
        },
        "recipients": recipients
    })
}

async fn seed(store: &dyn RegistryStore) {
    let o = |n: &str, name: &str| Organization::new(OrgNumber::parse(n).unwrap(), name);
    let resource = |id: &str, owner: &str, confidential: bool| Resource {
        id: id.into(),
        owner: OrgNumber::parse(owner).unwrap(),
        service_owner_code: "digdir".into(),
        title: format!("Post: {id}"),
        confidential,
        read_policy: vec![],
        resource_type: ResourceType::CorrespondenceService,
        minimum_authentication_level: 0,
    };
    store
        .upsert_registry(&RegistryBatch {
            keep_contacts: Default::default(),
            organizations: vec![
                o(SENDER, "Digitaliseringsdirektoratet"),
                o(OTHER_SENDER, "Brønnøysundregistrene"),
                o(RECIPIENT_ORG, "BYGG OG ANLEGG AS"),
            ],
            persons: vec![
                Person::new(NationalId::parse(PERSON).unwrap(), "OLA NORDMANN"),
                Person::new(NationalId::parse(OTHER_PERSON).unwrap(), "Kari Nordmann"),
            ],
            resources: vec![
                resource(RESOURCE, SENDER, false),
                resource(OTHER_RESOURCE, OTHER_SENDER, false),
                resource(CONFIDENTIAL_RESOURCE, SENDER, true),
            ],
            roles: vec![],
            self_identified_users: vec![],
        })
        .await
        .unwrap();
}

/// One notification order for [`TestApp::letter_with_orders`]: its phase, whom it notifies
/// and on which channel.
pub struct OrderSpec {
    pub kind: OrderKind,
    pub recipient: OrderRecipient,
    pub channel: NotificationChannel,
}

impl OrderSpec {
    /// The main notice to a bare e-mail address.
    pub fn email(address: &str) -> Self {
        Self {
            kind: OrderKind::Main,
            recipient: OrderRecipient::Email(EmailAddress::parse(address).unwrap()),
            channel: NotificationChannel::Email,
        }
    }

    /// The main notice to a bare mobile number (E.164).
    pub fn sms(number: &str) -> Self {
        Self {
            kind: OrderKind::Main,
            recipient: OrderRecipient::Mobile(MobileNumber::parse(number).unwrap()),
            channel: NotificationChannel::Sms,
        }
    }

    /// The main notice to a party (looked up in the registry when processed) on `channel`.
    pub fn party(party: Party, channel: NotificationChannel) -> Self {
        Self {
            kind: OrderKind::Main,
            recipient: OrderRecipient::Party(party),
            channel,
        }
    }

    /// The same order as the reminder phase.
    pub fn reminder(mut self) -> Self {
        self.kind = OrderKind::Reminder;
        self
    }
}

impl TestApp {
    /// A letter from [`SENDER`] to [`PERSON`] on [`RESOURCE`] with notification orders, written
    /// straight into the store with its publish job due now, so a test can name the order's
    /// recipient and channel directly instead of going through initialize's validation. Main
    /// notices are due now, reminders in 7 days. Nothing runs; returns the letter's id.
    pub async fn letter_with_orders(&self, orders: &[OrderSpec]) -> String {
        let now = self.now();
        let letter = Correspondence {
            id: CorrespondenceId::new_v7(now),
            recipient: Recipient::from_urn(&format!("urn:altinn:person:identifier-no:{PERSON}"))
                .unwrap(),
            settings: LetterSettings {
                resource_id: ResourceId::parse(RESOURCE).unwrap(),
                sender: OrgNumber::parse(SENDER).unwrap(),
                senders_reference: "sak-2026-1".to_owned(),
                message_sender: None,
                content: Content {
                    language: "nb".to_owned(),
                    title: "Vedtak om byggesøknad".to_owned(),
                    summary: "Søknaden er behandlet".to_owned(),
                    body: "# Vedtak".to_owned(),
                },
                requested_publish_time: now,
                due_date_time: None,
                external_references: Vec::new(),
                property_list: BTreeMap::new(),
                reply_options: Vec::new(),
                ignore_reservation: None,
                is_confirmation_needed: false,
                is_confidential: false,
                allow_forwarding: false,
                digital_only: false,
            },
            idempotent_key: None,
            created: now,
            published: None,
            statuses: StatusHistory::new(vec![StatusEntry::new(
                CorrespondenceStatus::Initialized,
                now,
                None,
            )]),
        };
        let orders: Vec<NotificationOrder> = orders
            .iter()
            .map(|o| NotificationOrder {
                id: NotificationOrder::id_for(letter.id, &o.recipient.dedupe_key(), o.kind),
                correspondence_id: letter.id,
                kind: o.kind,
                recipient: o.recipient.clone(),
                channel: o.channel,
                template: NotificationTemplate::CustomMessage,
                texts: NotificationTexts {
                    email_subject: Some("Ny melding".to_owned()),
                    email_body: Some("Du har fått en melding.".to_owned()),
                    email_content_type: EmailContentType::Plain,
                    sms_body: Some("Du har fått en melding.".to_owned()),
                },
                ignore_reservation: false,
                use_stale_contacts: false,
                requested_send_time: match o.kind {
                    OrderKind::Main => now,
                    OrderKind::Reminder | OrderKind::ConfidentialReminder => {
                        now + Duration::days(7)
                    }
                },
                status: OrderStatus::Registered,
                created: now,
            })
            .collect();
        self.store
            .insert_letters_with_orders(
                std::slice::from_ref(&letter),
                &[],
                &[],
                &orders,
                &[Publish::new(letter.id).due_at(now)],
            )
            .await
            .unwrap();
        letter.id.to_string()
    }
}
