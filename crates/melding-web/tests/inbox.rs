//! The inbox over HTTP, against a real SQLite store: log in with the development login, list,
//! filter and open letters, confirm, archive and delete, act for an organisation, switch the
//! language, log out, and the session's idle timeout. Requests go through the router as a
//! browser sends them (forms, cookies, redirects followed by hand).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, TimeZone, Utc};
use melding_blob::BlobStore;
use melding_blob::LocalBlobStore;
use melding_core::Melding;
use melding_domain::AttachmentId;
use melding_domain::attachment::{
    Attachment, AttachmentStatus, AttachmentStatusEntry, DataLocationType, StoredFile,
};
use melding_domain::correspondence::Correspondence;
use melding_domain::{
    CorrespondenceId, CorrespondenceStatus as S, NationalId, OrgNumber, ResourceType,
    SimulatedClock,
};
use melding_store::{
    CorrespondenceStore, NewLink, Organization, Person, RegistryBatch, RegistryStore, Resource,
    RoleAssignment, Store,
};
use melding_store_sqlite::SqliteStore;
use melding_store_tests::fixtures::letter_in;
use melding_web::{WebSettings, router};
use tower::ServiceExt;

const SENDER: &str = "991825827";
const ORG: &str = "310394955";
const OTHER_ORG: &str = "974760673";
const PERSON: &str = "08089403198";
const OTHER_PERSON: &str = "17912099997";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

struct Inbox {
    app: Router,
    store: Arc<SqliteStore>,
    blobs: Arc<LocalBlobStore>,
    clock: Arc<SimulatedClock>,
    _dir: tempfile::TempDir,
}

fn org(n: &str) -> OrgNumber {
    OrgNumber::parse(n).unwrap()
}

async fn inbox(demo_login: bool) -> Inbox {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let person = |n: &str, name: &str| Person::new(NationalId::parse(n).unwrap(), name);
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![
                Organization::new(org(SENDER), "Tønsberg kommune"),
                Organization::new(org(ORG), "Bedrift AS"),
                Organization::new(org(OTHER_ORG), "Annen AS"),
            ],
            persons: vec![
                person(PERSON, "Kari Nordmann"),
                person(OTHER_PERSON, "Per Hansen"),
            ],
            resources: vec![Resource {
                id: "kommunepost".into(),
                owner: org(SENDER),
                service_owner_code: "ttd".into(),
                title: "Kommunepost".into(),
                confidential: false,
                read_policy: vec![],
                resource_type: ResourceType::CorrespondenceService,
                minimum_authentication_level: 0,
            }],
            roles: vec![RoleAssignment {
                org: org(ORG),
                person: NationalId::parse(PERSON).unwrap(),
                role: "DAGL".into(),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let blobs = Arc::new(
        LocalBlobStore::open(&dir.path().join("blobs"))
            .await
            .unwrap(),
    );
    let clock = Arc::new(SimulatedClock::new(t0()));
    let melding = Melding::new(
        store.clone() as Arc<dyn Store>,
        blobs.clone(),
        clock.clone(),
        melding_jobs::Waker::default(),
    );
    let app = router(
        melding,
        WebSettings {
            demo_login,
            secure_cookies: false,
            oidc: None,
        },
    );
    Inbox {
        app,
        store,
        blobs,
        clock,
        _dir: dir,
    }
}

/// A published letter to `recipient` (a URN), `minutes` after t0.
fn letter(recipient: &str, minutes: i64, title: &str, body: &str) -> Correspondence {
    let mut c = letter_in(
        "kommunepost",
        &org(SENDER),
        recipient,
        t0() + Duration::minutes(minutes),
        &[S::Initialized, S::ReadyForPublish, S::Published],
    );
    c.settings.content.title = title.to_owned();
    c.settings.content.summary = format!("Sammendrag av {title}");
    c.settings.content.body = body.to_owned();
    c
}

fn person_urn(n: &str) -> String {
    format!("urn:altinn:person:identifier-no:{n}")
}

fn org_urn(n: &str) -> String {
    format!("urn:altinn:organization:identifier-no:{n}")
}

/// A browser: its cookies and language.
struct Browser<'a> {
    inbox: &'a Inbox,
    cookies: BTreeMap<String, String>,
    accept_language: &'static str,
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    headers: axum::http::HeaderMap,
    body: String,
    bytes: Vec<u8>,
}

impl<'a> Browser<'a> {
    fn new(inbox: &'a Inbox) -> Self {
        Self {
            inbox,
            cookies: BTreeMap::new(),
            accept_language: "nb",
        }
    }

    async fn send(&mut self, req: Request<Body>) -> Answer {
        let res = self.inbox.app.clone().oneshot(req).await.unwrap();
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            location,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            bytes: body.to_vec(),
        }
    }

    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::ACCEPT_LANGUAGE, self.accept_language);
        if !cookie.is_empty() {
            b = b.header(header::COOKIE, cookie.join("; "));
        }
        b
    }

    async fn get(&mut self, uri: &str) -> Answer {
        let req = self.request("GET", uri).body(Body::empty()).unwrap();
        self.send(req).await
    }

    async fn post(&mut self, uri: &str, form: &[(&str, &str)]) -> Answer {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        let req = self
            .request("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.join("&")))
            .unwrap();
        self.send(req).await
    }

    /// Logs in with the development login as `person`.
    async fn log_in(&mut self, person: &str) {
        let page = self.get("/inbox/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = hidden(&page.body, "csrf");
        let done = self
            .post(
                "/inbox/login/demo",
                &[("csrf", &csrf), ("national_id", person)],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location.as_deref(), Some("/inbox"));
    }

    /// The session's CSRF token, from a page's logout form.
    async fn csrf(&mut self) -> String {
        let page = self.get("/inbox").await;
        assert_eq!(page.status, StatusCode::OK);
        hidden(&page.body, "csrf")
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of the first hidden input named `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

async fn statuses(inbox: &Inbox, id: CorrespondenceId) -> Vec<S> {
    inbox
        .store
        .correspondence(id)
        .await
        .unwrap()
        .unwrap()
        .statuses
        .entries()
        .iter()
        .map(|e| e.status)
        .collect()
}

#[tokio::test]
async fn a_person_logs_in_reads_confirms_archives_and_logs_out() {
    let inbox = inbox(true).await;
    let me = person_urn(PERSON);
    let mut first = letter(
        &me,
        1,
        "Vedtak om byggesøknad",
        "Du har fått **innvilget** søknaden.\n\n<script>alert(1)</script>",
    );
    first.settings.is_confirmation_needed = true;
    let second = letter(&me, 2, "Eiendomsskatt 2026", "Skatteseddelen er vedlagt.");
    let not_mine = letter(&person_urn(OTHER_PERSON), 3, "Per sitt brev", "Hemmelig");
    inbox
        .store
        .insert_correspondences(&[first.clone(), second.clone(), not_mine.clone()], &[])
        .await
        .unwrap();

    let mut b = Browser::new(&inbox);
    // Not logged in: to the login page.
    let a = b.get("/inbox").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location.as_deref(), Some("/inbox/login"));
    // A login form without its token is refused.
    let a = b
        .post(
            "/inbox/login/demo",
            &[("csrf", "x"), ("national_id", PERSON)],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Someone the registry does not know cannot log in.
    let page = b.get("/inbox/login").await;
    let csrf = hidden(&page.body, "csrf");
    let a = b
        .post(
            "/inbox/login/demo",
            &[("csrf", &csrf), ("national_id", "12345678901")],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("aria-invalid=\"true\""), "{}", a.body);
    b.log_in(PERSON).await;

    // The inbox: the person's two letters, newest first, both unread; not Per's.
    let a = b.get("/inbox").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.headers[header::CONTENT_SECURITY_POLICY],
        melding_web::CONTENT_SECURITY_POLICY
    );
    assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
    assert!(a.body.contains("<html lang=\"nb\">"));
    // The one script is Melding's own file; no inline script, which the policy would block.
    assert_eq!(a.body.matches("<script").count(), 1);
    assert!(
        a.body
            .contains("<script src=\"/inbox/assets/inbox.js\" defer></script>")
    );
    let js = b.get("/inbox/assets/inbox.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(
        js.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(js.body.contains("data-confirm") || js.body.contains("dataset.confirm"));
    assert!(a.body.contains("Kari Nordmann"), "acting for herself");
    let (i1, i2) = (
        a.body.find("Vedtak om byggesøknad").unwrap(),
        a.body.find("Eiendomsskatt 2026").unwrap(),
    );
    assert!(i2 < i1, "newest first");
    assert!(!a.body.contains("Per sitt brev"));
    assert_eq!(a.body.matches("unread-badge").count(), 2);
    assert!(a.body.contains("Tønsberg kommune"), "the sender's name");

    // Opening a letter logs Fetched and Read, as the API's content does.
    let a = b.get(&format!("/inbox/letters/{}", first.id)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("<strong>innvilget</strong>"));
    assert!(!a.body.contains("<script>alert(1)</script>"));
    assert!(a.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let log = statuses(&inbox, first.id).await;
    assert!(
        log.contains(&S::Fetched) && log.contains(&S::Read),
        "{log:?}"
    );
    // Confirmation is asked for: no archive or delete until it is given.
    assert!(
        a.body
            .contains(&format!("/inbox/letters/{}/confirm", first.id))
    );
    assert!(
        !a.body
            .contains(&format!("/inbox/letters/{}/archive", first.id))
    );

    // Per's letter is not there for Kari.
    let a = b.get(&format!("/inbox/letters/{}", not_mine.id)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(!statuses(&inbox, not_mine.id).await.contains(&S::Fetched));
    let a = b.get("/inbox/letters/not-an-id").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // Only one letter is unread now.
    let a = b.get("/inbox?unread=1").await;
    assert!(a.body.contains("Eiendomsskatt 2026"));
    assert!(!a.body.contains("Vedtak om byggesøknad"));

    // A form without the session's token changes nothing.
    let confirm = format!("/inbox/letters/{}/confirm", first.id);
    let a = b.post(&confirm, &[("csrf", "forged")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = b.post(&confirm, &[]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(!statuses(&inbox, first.id).await.contains(&S::Confirmed));
    let csrf = b.csrf().await;
    let a = b.post(&confirm, &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(statuses(&inbox, first.id).await.contains(&S::Confirmed));
    // Again (a second tab): no error.
    let a = b.post(&confirm, &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);

    // Archived: out of the inbox, into the archive.
    let a = b
        .post(
            &format!("/inbox/letters/{}/archive", first.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(statuses(&inbox, first.id).await.contains(&S::Archived));
    let a = b.get("/inbox").await;
    assert!(!a.body.contains("Vedtak om byggesøknad"));
    let a = b.get("/inbox?archived=1").await;
    assert!(a.body.contains("Vedtak om byggesøknad"));
    assert!(!a.body.contains("Eiendomsskatt 2026"));

    // Deleted: gone from everywhere, PurgedByRecipient in its log.
    let a = b
        .post(
            &format!("/inbox/letters/{}/delete", second.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(
        statuses(&inbox, second.id)
            .await
            .contains(&S::PurgedByRecipient)
    );
    let a = b.get("/inbox").await;
    assert!(a.body.contains("Ingen meldinger her."), "{}", a.body);
    let a = b.get(&format!("/inbox/letters/{}", second.id)).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // Logout ends the session: the old cookie no longer works.
    let session_cookie = b.cookies["melding-session"].clone();
    let a = b.post("/inbox/logout", &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location.as_deref(), Some("/inbox/login"));
    b.cookies.insert("melding-session".into(), session_cookie);
    let a = b.get("/inbox").await;
    assert_eq!(a.location.as_deref(), Some("/inbox/login"));
}

#[tokio::test]
async fn a_person_acts_for_an_organisation_they_hold_a_role_in() {
    let inbox = inbox(true).await;
    let to_org = letter(&org_urn(ORG), 1, "Brev til Bedrift AS", "Til daglig leder.");
    let to_other = letter(
        &org_urn(OTHER_ORG),
        2,
        "Brev til Annen AS",
        "Ikke for Kari.",
    );
    let to_me = letter(&person_urn(PERSON), 3, "Brev til Kari", "Privat.");
    inbox
        .store
        .insert_correspondences(&[to_org.clone(), to_other.clone(), to_me], &[])
        .await
        .unwrap();
    let mut b = Browser::new(&inbox);
    b.log_in(PERSON).await;

    let a = b.get("/inbox/act-for").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Kari Nordmann"));
    assert!(a.body.contains("Bedrift AS") && a.body.contains(ORG));
    assert!(!a.body.contains("Annen AS"), "no role there");
    let csrf = hidden(&a.body, "csrf");

    // An organisation she holds no right for is refused, and nothing changes.
    let a = b
        .post(
            "/inbox/act-for",
            &[("csrf", &csrf), ("party", &org_urn(OTHER_ORG))],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = b.get("/inbox").await;
    assert!(a.body.contains("Brev til Kari"));

    let a = b
        .post(
            "/inbox/act-for",
            &[("csrf", &csrf), ("party", &org_urn(ORG))],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = b.get("/inbox").await;
    assert!(a.body.contains("Brev til Bedrift AS"), "{}", a.body);
    assert!(!a.body.contains("Brev til Kari"));
    assert!(!a.body.contains("Brev til Annen AS"));
    assert!(a.body.contains(&format!("Org.nr. {ORG}")));
    // Opening the organisation's letter logs Read with her party, as through the API.
    let a = b.get(&format!("/inbox/letters/{}", to_org.id)).await;
    assert_eq!(a.status, StatusCode::OK);
    let letter = inbox
        .store
        .correspondence(to_org.id)
        .await
        .unwrap()
        .unwrap();
    let read = letter.statuses.first(S::Read).unwrap();
    assert_eq!(read.party.as_deref(), Some(person_urn(PERSON).as_str()));
    // The other organisation's letter stays closed.
    let a = b.get(&format!("/inbox/letters/{}", to_other.id)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_inbox_pages_filters_by_sender_and_searches() {
    let inbox = inbox(true).await;
    let me = person_urn(PERSON);
    let letters: Vec<Correspondence> = (0..45)
        .map(|i| letter(&me, i, &format!("Brev nummer {i:02}"), "Tekst."))
        .collect();
    inbox
        .store
        .insert_correspondences(&letters, &[])
        .await
        .unwrap();
    let mut b = Browser::new(&inbox);
    b.log_in(PERSON).await;

    // Three pages of 20, 20 and 5, newest first, each letter once.
    let mut seen = Vec::new();
    let mut uri = "/inbox".to_owned();
    loop {
        let a = b.get(&uri).await;
        assert_eq!(a.status, StatusCode::OK);
        for i in (0..45).rev() {
            if a.body.contains(&format!("Brev nummer {i:02}")) {
                seen.push(i);
            }
        }
        match a.body.find("rel=\"next\"") {
            Some(_) => {
                let start = a.body.find("<a href=\"/inbox?cursor=").unwrap() + 9;
                let end = start + a.body[start..].find('"').unwrap();
                uri = a.body[start..end].replace("&amp;", "&");
            }
            None => break,
        }
    }
    assert_eq!(seen, (0..45).rev().collect::<Vec<_>>());

    let a = b.get("/inbox?q=nummer+07").await;
    assert!(a.body.contains("Brev nummer 07"));
    assert_eq!(a.body.matches("class=\"letter-title\"").count(), 1);
    let a = b.get(&format!("/inbox?sender={SENDER}")).await;
    assert_eq!(a.body.matches("class=\"letter-title\"").count(), 20);
    assert!(a.body.contains(&format!(
        "<option value=\"{SENDER}\" selected>Tønsberg kommune"
    )));
    let a = b.get(&format!("/inbox?sender={OTHER_ORG}")).await;
    assert_eq!(a.body.matches("class=\"letter-title\"").count(), 0);
}

#[tokio::test]
async fn languages_come_from_the_browser_and_the_switch() {
    let inbox = inbox(true).await;
    let mut b = Browser::new(&inbox);
    b.accept_language = "en-GB,en;q=0.9";
    let a = b.get("/inbox/login").await;
    assert!(a.body.contains("<html lang=\"en\">"));
    assert!(
        a.body.contains("<title>Log in – My inbox</title>"),
        "{}",
        a.body
    );
    let a = b.get("/inbox/lang/nn?back=/inbox/login").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location.as_deref(), Some("/inbox/login"));
    let a = b.get("/inbox/login").await;
    assert!(a.body.contains("<html lang=\"nn\">"));
    assert!(a.body.contains("Meldingsboksen min"));
    // The switch returns only to the inbox's own pages.
    let a = b.get("/inbox/lang/en?back=https://evil.example/").await;
    assert_eq!(a.location.as_deref(), Some("/inbox"));
    let a = b.get("/inbox/lang/en?back=//evil.example/inbox").await;
    assert_eq!(a.location.as_deref(), Some("/inbox"));
    // An unknown page is a 404 page in the language.
    let a = b.get("/inbox/nothing-here").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body.contains("We could not find this page or letter."));
}

#[tokio::test]
async fn an_idle_session_ends_and_the_demo_login_is_off_without_demo() {
    let inbox = inbox(true).await;
    let mut b = Browser::new(&inbox);
    b.log_in(PERSON).await;
    assert_eq!(b.get("/inbox").await.status, StatusCode::OK);
    // 29 minutes idle: still logged in, and the idle clock restarts.
    inbox.clock.advance(Duration::minutes(29));
    assert_eq!(b.get("/inbox").await.status, StatusCode::OK);
    inbox.clock.advance(Duration::minutes(29));
    assert_eq!(b.get("/inbox").await.status, StatusCode::OK);
    // 30 minutes idle: the session has ended.
    inbox.clock.advance(Duration::minutes(30));
    let a = b.get("/inbox").await;
    assert_eq!(a.location.as_deref(), Some("/inbox/login"));

    // Busy, but eight hours after the login: ended too.
    b.log_in(PERSON).await;
    let mut busy = 0;
    for _ in 0..20 {
        inbox.clock.advance(Duration::minutes(25));
        if b.get("/inbox").await.status == StatusCode::OK {
            busy += 1;
        }
    }
    assert_eq!(
        busy, 19,
        "up to 7 h 55 min after the login, not at 8 h 20 min"
    );
    let a = b.get("/inbox").await;
    assert_eq!(a.location.as_deref(), Some("/inbox/login"));

    // Without --demo there is no development login.
    let plain = self::inbox(false).await;
    let mut b = Browser::new(&plain);
    let page = b.get("/inbox/login").await;
    assert!(!page.body.contains("/inbox/login/demo"));
    let csrf = b.cookies["melding-login-csrf"].clone();
    let a = b
        .post(
            "/inbox/login/demo",
            &[("csrf", &csrf), ("national_id", PERSON)],
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(!b.cookies.contains_key("melding-session"));
}

/// A published attachment of `letter` named `name` holding `bytes`, stored in blob storage.
async fn attachment(
    inbox: &Inbox,
    letter: &Correspondence,
    name: &str,
    bytes: &[u8],
) -> (Attachment, NewLink) {
    let at = letter.created;
    let id = AttachmentId::new_v7(at);
    let key = format!("test-{id}");
    let stored = inbox
        .blobs
        .put(&key, &mut &bytes[..], 1 << 20, None)
        .await
        .unwrap();
    let a = Attachment {
        id,
        resource_id: letter.settings.resource_id.clone(),
        sender: letter.settings.sender.clone(),
        file_name: name.to_owned(),
        display_name: None,
        is_encrypted: false,
        checksum: Some(stored.md5.clone()),
        senders_reference: "ref".to_owned(),
        expiration_in_days: None,
        data_location_type: DataLocationType::AltinnCorrespondenceAttachment,
        file: Some(StoredFile {
            storage_key: key,
            size: stored.size,
            checksum: stored.md5,
            crc32: stored.crc32,
        }),
        created: at,
        statuses: vec![
            AttachmentStatusEntry::new(AttachmentStatus::Initialized, at),
            AttachmentStatusEntry::new(AttachmentStatus::Published, at),
        ],
        correspondence_ids: vec![],
    };
    let link = NewLink {
        correspondence_id: letter.id,
        attachment_id: id,
        expiration_time: None,
    };
    (a, link)
}

#[tokio::test]
async fn attachments_download_one_by_one_and_as_a_zip() {
    let inbox = inbox(true).await;
    let l = letter(&person_urn(PERSON), 1, "Vedtak med vedlegg", "Se vedlegg.");
    let (pdf, pdf_link) = attachment(&inbox, &l, "vedtak.pdf", b"%PDF-1.7 test").await;
    let (txt, txt_link) = attachment(&inbox, &l, "Søknad.txt", b"hei").await;
    inbox
        .store
        .insert_letters(
            std::slice::from_ref(&l),
            &[pdf.clone(), txt.clone()],
            &[pdf_link, txt_link],
            &[],
        )
        .await
        .unwrap();
    let mut b = Browser::new(&inbox);
    b.log_in(PERSON).await;

    let page = b.get(&format!("/inbox/letters/{}", l.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("vedtak.pdf") && page.body.contains("Søknad.txt"));
    assert!(
        page.body
            .contains(&format!("/inbox/letters/{}/attachments.zip", l.id))
    );

    // A PDF opens in the browser; anything else downloads. Neither can run as a page.
    let a = b
        .get(&format!("/inbox/letters/{}/attachments/{}", l.id, pdf.id))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(
        a.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(a.headers[header::CONTENT_SECURITY_POLICY], "sandbox");
    assert_eq!(a.body, "%PDF-1.7 test");
    let a = b
        .get(&format!("/inbox/letters/{}/attachments/{}", l.id, txt.id))
        .await;
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(
        a.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"S_knad.txt\"; filename*=UTF-8''S%C3%B8knad.txt"
    );
    assert_eq!(a.body, "hei");
    let log = statuses(&inbox, l.id).await;
    assert_eq!(
        log.iter()
            .filter(|s| **s == S::AttachmentsDownloaded)
            .count(),
        2
    );

    // All of them as one zip, with both files in it.
    let a = b
        .get(&format!("/inbox/letters/{}/attachments.zip", l.id))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/zip");
    assert!(a.bytes.starts_with(b"PK\x03\x04"));
    assert!(a.body.contains("vedtak.pdf") && a.body.contains("%PDF-1.7 test"));
    assert!(a.body.contains("hei"));
    assert_eq!(
        a.headers[header::CONTENT_LENGTH].to_str().unwrap(),
        a.bytes.len().to_string()
    );

    // An attachment of another letter is not reachable through this one.
    let other = letter(&person_urn(OTHER_PERSON), 2, "Per sitt", "Hemmelig.");
    let (secret, secret_link) = attachment(&inbox, &other, "per.pdf", b"%PDF per").await;
    inbox
        .store
        .insert_letters(
            std::slice::from_ref(&other),
            std::slice::from_ref(&secret),
            &[secret_link],
            &[],
        )
        .await
        .unwrap();
    let a = b
        .get(&format!(
            "/inbox/letters/{}/attachments/{}",
            l.id, secret.id
        ))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = b
        .get(&format!(
            "/inbox/letters/{}/attachments/{}",
            other.id, secret.id
        ))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_general_manager_delegates_post_and_revokes_it() {
    let inbox = inbox(true).await;
    let to_org = letter(&org_urn(ORG), 1, "Brev til Bedrift AS", "Til virksomheten.");
    inbox
        .store
        .insert_correspondences(std::slice::from_ref(&to_org), &[])
        .await
        .unwrap();

    // Kari, daglig leder, acts for the organisation and sees who reads its post.
    let mut kari = Browser::new(&inbox);
    kari.log_in(PERSON).await;
    let csrf = kari.csrf().await;
    let a = kari
        .post(
            "/inbox/act-for",
            &[("csrf", &csrf), ("party", &org_urn(ORG))],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = kari.get("/inbox/access").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("Kari Nordmann") && a.body.contains("DAGL"));
    assert!(a.body.contains("080894*****"), "the national id is masked");
    assert!(!a.body.contains(PERSON), "{}", a.body);
    assert!(a.body.contains("Ingen har fått tilgang ved delegering."));

    // Per cannot read the organisation's post yet.
    let mut per = Browser::new(&inbox);
    per.log_in(OTHER_PERSON).await;
    let a = per.get("/inbox/act-for").await;
    assert!(!a.body.contains("Bedrift AS"));

    // A bad number is refused with the form kept.
    let a = kari
        .post(
            "/inbox/access/grant",
            &[("csrf", &csrf), ("national_id", "123"), ("right", "KOMAB")],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("aria-invalid=\"true\""));
    // Kari gives Per ordinary post.
    let ordinary = "urn:altinn:accesspackage:ordinaer-post-til-virksomheten";
    let a = kari
        .post(
            "/inbox/access/grant",
            &[
                ("csrf", &csrf),
                ("national_id", OTHER_PERSON),
                ("right", ordinary),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location.as_deref(), Some("/inbox/access?done=granted"));
    let a = kari.get("/inbox/access?done=granted").await;
    assert!(a.body.contains("Per Hansen") && a.body.contains("Ordinær post til virksomheten"));
    assert!(a.body.contains("Tilgangen er gitt."));

    // Per now acts for the organisation and reads its letter.
    let per_csrf = per.csrf().await;
    let a = per
        .post(
            "/inbox/act-for",
            &[("csrf", &per_csrf), ("party", &org_urn(ORG))],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = per.get("/inbox").await;
    assert!(a.body.contains("Brev til Bedrift AS"), "{}", a.body);
    let a = per.get(&format!("/inbox/letters/{}", to_org.id)).await;
    assert_eq!(a.status, StatusCode::OK);
    // A delegated right does not let Per delegate.
    let a = per.get("/inbox/access").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = per
        .post(
            "/inbox/access/grant",
            &[
                ("csrf", &per_csrf),
                ("national_id", PERSON),
                ("right", "KOMAB"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // Kari revokes it: gone from the list, and Per can no longer read for the organisation.
    let a = kari
        .post(
            "/inbox/access/revoke",
            &[
                ("csrf", &csrf),
                ("national_id", OTHER_PERSON),
                ("right", ordinary),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/inbox/access?done=revoked"));
    let a = kari.get("/inbox/access").await;
    assert!(!a.body.contains("Per Hansen"));
    let a = per.get(&format!("/inbox/letters/{}", to_org.id)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // His inbox does not refuse him over and over: he acts for himself again and chooses anew.
    let a = per.get("/inbox").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location.as_deref(), Some("/inbox/act-for"));
    let a = per.get("/inbox").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Per Hansen") && !a.body.contains("Brev til Bedrift AS"));
    // Revoking again changes nothing, and says so.
    let a = kari
        .post(
            "/inbox/access/revoke",
            &[
                ("csrf", &csrf),
                ("national_id", OTHER_PERSON),
                ("right", ordinary),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/inbox/access?done=unchanged"));
}

#[tokio::test]
async fn contact_details_are_kept_by_the_manager_and_by_each_person() {
    let inbox = inbox(true).await;
    inbox
        .store
        .upsert_registry(&RegistryBatch {
            persons: vec![Person {
                krr: Some(melding_store::KrrContact {
                    email: Some("kari@example.no".into()),
                    ..Default::default()
                }),
                ..Person::new(NationalId::parse(PERSON).unwrap(), "Kari Nordmann")
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let stored = || async { inbox.store.organization(&org(ORG)).await.unwrap().unwrap() };

    // Acting for herself, Kari sees her KRR entry, which she changes in KRR, not here.
    let mut kari = Browser::new(&inbox);
    kari.log_in(PERSON).await;
    let csrf = kari.csrf().await;
    let a = kari.get("/inbox/contacts").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("kari@example.no"), "{}", a.body);
    assert!(a.body.contains("Kontakt- og reservasjonsregisteret"));
    assert!(!a.body.contains("Varslingsadresser"));
    let a = kari
        .post(
            "/inbox/contacts/own",
            &[("csrf", &csrf), ("own_email", "kari@bedrift.no")],
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "no own contact for oneself"
    );

    // As daglig leder of Bedrift AS she manages its addresses and contacts.
    kari.post(
        "/inbox/act-for",
        &[("csrf", &csrf), ("party", &org_urn(ORG))],
    )
    .await;
    let a = kari.get("/inbox/contacts").await;
    assert!(a.body.contains("Varslingsadresser for virksomheten"));
    assert!(a.body.contains("Ingen kontakter er registrert."));

    // A line that is no address is refused next to its field, the text kept, nothing stored.
    let a = kari
        .post(
            "/inbox/contacts/addresses",
            &[
                ("csrf", &csrf),
                ("emails", "post@bedrift.no\nikke en adresse"),
                ("mobiles", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("aria-invalid=\"true\""));
    assert!(a.body.contains("«ikke en adresse»"), "{}", a.body);
    assert!(stored().await.notification_emails.is_empty());
    // Repeats are kept once, mobiles normalised.
    let a = kari
        .post(
            "/inbox/contacts/addresses",
            &[
                ("csrf", &csrf),
                ("emails", "post@bedrift.no\r\nPOST@bedrift.no\r\n"),
                ("mobiles", "912 34 567\n+47 91234567"),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/inbox/contacts?done=saved"));
    let o = stored().await;
    assert_eq!(o.notification_emails, ["post@bedrift.no"]);
    assert_eq!(o.notification_mobiles, ["+4791234567"]);

    // A contact needs an address; then it is added, and Kari adds her own contact too.
    let a = kari.post("/inbox/contacts/add", &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.body
            .contains("Skriv en e-postadresse, et mobilnummer eller begge.")
    );
    let a = kari
        .post(
            "/inbox/contacts/add",
            &[("csrf", &csrf), ("add_email", "regnskap@bedrift.no")],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/inbox/contacts?done=saved"));
    let a = kari
        .post(
            "/inbox/contacts/own",
            &[("csrf", &csrf), ("own_mobile", "nine one two")],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("Skriv et gyldig mobilnummer"));
    let a = kari
        .post(
            "/inbox/contacts/own",
            &[
                ("csrf", &csrf),
                ("own_email", "kari@bedrift.no"),
                ("own_mobile", "412 34 567"),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/inbox/contacts?done=saved"));
    let contacts = stored().await.contacts;
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[1].person, Some(NationalId::parse(PERSON).unwrap()));
    assert_eq!(contacts[1].mobile.as_deref(), Some("+4741234567"));
    let a = kari.get("/inbox/contacts?done=saved").await;
    assert!(a.body.contains("Kontaktinformasjonen er lagret."));
    assert!(a.body.contains("Kari Nordmann 080894*****"), "{}", a.body);
    assert!(
        a.body.contains("value=\"kari@bedrift.no\""),
        "her form shows it"
    );

    // The first contact's remove button removes it; again, nothing changes.
    let key = hidden(&a.body, "key");
    let a = kari
        .post("/inbox/contacts/remove", &[("csrf", &csrf), ("key", &key)])
        .await;
    assert_eq!(a.location.as_deref(), Some("/inbox/contacts?done=saved"));
    let a = kari
        .post("/inbox/contacts/remove", &[("csrf", &csrf), ("key", &key)])
        .await;
    assert_eq!(
        a.location.as_deref(),
        Some("/inbox/contacts?done=unchanged")
    );
    assert_eq!(stored().await.contacts.len(), 1);
    // Without the session's CSRF token nothing happens.
    let a = kari
        .post("/inbox/contacts/own", &[("own_email", "x@bedrift.no")])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // Per, given ordinary post, keeps his own contact but may not manage the organisation's.
    let ordinary = "urn:altinn:accesspackage:ordinaer-post-til-virksomheten";
    kari.post(
        "/inbox/access/grant",
        &[
            ("csrf", &csrf),
            ("national_id", OTHER_PERSON),
            ("right", ordinary),
        ],
    )
    .await;
    let mut per = Browser::new(&inbox);
    per.log_in(OTHER_PERSON).await;
    let per_csrf = per.csrf().await;
    per.post(
        "/inbox/act-for",
        &[("csrf", &per_csrf), ("party", &org_urn(ORG))],
    )
    .await;
    let a = per.get("/inbox/contacts").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Din kontaktinformasjon for virksomheten"));
    assert!(!a.body.contains("Varslingsadresser for virksomheten"));
    let a = per
        .post(
            "/inbox/contacts/own",
            &[("csrf", &per_csrf), ("own_email", "per@bedrift.no")],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/inbox/contacts?done=saved"));
    let a = per
        .post(
            "/inbox/contacts/addresses",
            &[("csrf", &per_csrf), ("emails", "per@bedrift.no")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let o = stored().await;
    assert_eq!(o.notification_emails, ["post@bedrift.no"]);
    assert_eq!(o.contacts.len(), 2);
}
