//! The inbox's login against a real OpenID provider: node-oidc-provider
//! (`scripts/oidc-provider/provider.mjs`), which each test starts, configured like ID-porten
//! (code flow with PKCE, `pid`, `acr`, RP-initiated logout). A reqwest client with a cookie
//! store plays the browser, following the redirects between Melding and the provider.
//!
//! Needs Node.js and the provider's npm packages (`npm ci --prefix scripts/oidc-provider`, which
//! `scripts/test.sh` runs); `MELDING_SKIP_OIDC=1` skips these tests, loudly in the script.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use melding_blob::LocalBlobStore;
use melding_core::Melding;
use melding_domain::correspondence::Correspondence;
use melding_domain::{
    CorrespondenceStatus as S, NationalId, OrgNumber, ResourceType, SimulatedClock,
};
use melding_store::{
    CorrespondenceStore, Organization, Person, RegistryBatch, RegistryStore, Resource, Store,
};
use melding_store_sqlite::SqliteStore;
use melding_store_tests::fixtures::letter_in;
use melding_web::{OidcSettings, WebSettings, router};

const SENDER: &str = "991825827";
const PERSON: &str = "08089403198";

fn skipped() -> bool {
    if std::env::var("MELDING_SKIP_OIDC").as_deref() == Ok("1") {
        eprintln!("skipped: MELDING_SKIP_OIDC=1");
        return true;
    }
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The provider, stopped when dropped.
struct OpenIdProvider {
    child: Child,
    issuer: String,
}

impl OpenIdProvider {
    fn start(melding_base: &str) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts/oidc-provider/provider.mjs");
        let port = free_port();
        let mut child = Command::new("node")
            .arg(&script)
            .arg(port.to_string())
            .arg(melding_base)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs scripts/oidc-provider/provider.mjs (npm ci --prefix scripts/oidc-provider)");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("listening "),
            "the provider did not start: {line:?}"
        );
        Self {
            child,
            issuer: line.trim_start_matches("listening ").trim().to_owned(),
        }
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Inbox {
    base: String,
    store: Arc<SqliteStore>,
    provider: OpenIdProvider,
    _dir: tempfile::TempDir,
}

fn t0() -> DateTime<Utc> {
    Utc::now() - Duration::hours(1)
}

/// Melding's inbox on a real port, logging in with a provider started for it.
async fn inbox() -> Inbox {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let provider = OpenIdProvider::start(&base);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let org = |n: &str| OrgNumber::parse(n).unwrap();
    let resource = |id: &str, level: u8| Resource {
        id: id.into(),
        owner: org(SENDER),
        service_owner_code: "ttd".into(),
        title: id.into(),
        confidential: false,
        read_policy: vec![],
        resource_type: ResourceType::CorrespondenceService,
        minimum_authentication_level: level,
    };
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![Organization::new(org(SENDER), "Skatteetaten")],
            persons: vec![Person::new(
                NationalId::parse(PERSON).unwrap(),
                "Kari Nordmann",
            )],
            resources: vec![resource("kommunepost", 3), resource("skattemelding", 4)],
            ..Default::default()
        })
        .await
        .unwrap();
    let blobs = LocalBlobStore::open(&dir.path().join("blobs"))
        .await
        .unwrap();
    // The provider's tokens carry real times, checked by openidconnect against the system
    // clock, so Melding's clock starts at the real time too.
    let melding = Melding::new(
        store.clone() as Arc<dyn Store>,
        Arc::new(blobs),
        Arc::new(SimulatedClock::new(Utc::now())),
        melding_jobs::Waker::default(),
    );
    let app = router(
        melding,
        WebSettings {
            demo_login: false,
            secure_cookies: false,
            oidc: Some(OidcSettings {
                issuer: provider.issuer.clone(),
                client_id: "melding-inbox".into(),
                client_secret: Some("melding-inbox-test-secret".into()),
                redirect_url: format!("{base}/inbox/login/callback"),
                post_logout_redirect_url: format!("{base}/inbox/login"),
                acr_values: Some("idporten-loa-substantial".into()),
                scopes: vec!["profile".into()],
            }),
        },
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Inbox {
        base,
        store,
        provider,
        _dir: dir,
    }
}

fn letter(resource: &str, minutes: i64, title: &str) -> Correspondence {
    let mut c = letter_in(
        resource,
        &OrgNumber::parse(SENDER).unwrap(),
        &format!("urn:altinn:person:identifier-no:{PERSON}"),
        t0() + Duration::minutes(minutes),
        &[S::Initialized, S::ReadyForPublish, S::Published],
    );
    c.settings.content.title = title.to_owned();
    c
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The `action` of the first form in `html` and its hidden inputs.
fn form(html: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let marker = format!("{name}=\"");
        let start = tag.find(&marker)? + marker.len();
        Some(tag[start..start + tag[start..].find('"')?].replace("&amp;", "&"))
    };
    let start = html.find("<form").expect("a form");
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    let action = attr(&form[..form.find('>').unwrap()], "action").unwrap_or_default();
    let mut hidden = Vec::new();
    for part in form.split("<input").skip(1) {
        let tag = &part[..part.find('>').unwrap()];
        if tag.contains("type=\"hidden\"")
            && let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value"))
        {
            hidden.push((n, v));
        }
    }
    (action, hidden)
}

/// Logs in at the provider as `pid` at `level`, from Melding's login link to the inbox.
async fn log_in(b: &reqwest::Client, inbox: &Inbox, pid: &str, level: &str) -> reqwest::Response {
    let login = b
        .get(format!("{}/inbox/login/oidc", inbox.base))
        .send()
        .await
        .unwrap();
    assert!(
        login.url().as_str().starts_with(&inbox.provider.issuer),
        "{}",
        login.url()
    );
    let page = login.text().await.unwrap();
    let (action, _) = form(&page);
    b.post(format!("{}{action}", inbox.provider.issuer))
        .form(&[("pid", pid), ("acr", level)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_logs_in_with_the_provider_and_out_again() {
    if skipped() {
        return;
    }
    let inbox = inbox().await;
    let ordinary = letter("kommunepost", 1, "Vedtak om byggesøknad");
    let high = letter("skattemelding", 2, "Skattemeldingen din");
    inbox
        .store
        .insert_correspondences(&[ordinary.clone(), high.clone()], &[])
        .await
        .unwrap();
    let b = browser();

    // The login page offers the provider.
    let page = b
        .get(format!("{}/inbox/login", inbox.base))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("form-action 'self' {}", inbox.provider.issuer)),
        "{csp}"
    );
    assert!(page.text().await.unwrap().contains("/inbox/login/oidc"));

    // The authorization request: code flow, PKCE with S256, the configured level and scopes.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = no_redirects
        .get(format!("{}/inbox/login/oidc", inbox.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let to = start.headers()["location"].to_str().unwrap().to_owned();
    for part in [
        "response_type=code",
        "code_challenge_method=S256",
        "code_challenge=",
        "acr_values=idporten-loa-substantial",
        "scope=openid+profile",
        "state=",
        "nonce=",
    ] {
        assert!(to.contains(part), "{part} in {to}");
    }
    let cookie = start.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("melding-oidc-login="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // Kari logs in at the substantial level and lands in her inbox.
    let inbox_page = log_in(&b, &inbox, PERSON, "idporten-loa-substantial").await;
    assert_eq!(inbox_page.url().as_str(), format!("{}/inbox", inbox.base));
    let body = inbox_page.text().await.unwrap();
    assert!(body.contains("Kari Nordmann"), "{body}");
    assert!(body.contains("Vedtak om byggesøknad") && body.contains("Skattemeldingen din"));

    // The ordinary letter opens; the one that needs level 4 does not, and logs nothing.
    let a = b
        .get(format!("{}/inbox/letters/{}", inbox.base, ordinary.id))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    let a = b
        .get(format!("{}/inbox/letters/{}", inbox.base, high.id))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 403);
    assert!(a.text().await.unwrap().contains("høyere sikkerhetsnivå"));
    let log = inbox.store.correspondence(high.id).await.unwrap().unwrap();
    assert!(!log.statuses.has_been(S::Fetched));

    // Logout ends the session here and at the provider, which sends her back to the login page.
    let page = b
        .get(format!("{}/inbox", inbox.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    // Nor can it be confirmed or deleted from a form.
    for action in ["confirm", "delete"] {
        let a = b
            .post(format!("{}/inbox/letters/{}/{action}", inbox.base, high.id))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), 403, "{action}");
    }
    let log = inbox.store.correspondence(high.id).await.unwrap().unwrap();
    assert!(!log.statuses.has_been(S::Confirmed) && !log.statuses.is_purged());
    let confirm = b
        .post(format!("{}/inbox/logout", inbox.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        confirm.url().as_str().starts_with(&inbox.provider.issuer),
        "at the provider's logout: {}",
        confirm.url()
    );
    let (action, hidden) = form(&confirm.text().await.unwrap());
    let mut fields: Vec<(String, String)> = hidden;
    fields.push(("logout".into(), "yes".into()));
    let back = b
        .post(if action.starts_with("http") {
            action
        } else {
            format!("{}{action}", inbox.provider.issuer)
        })
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(back.url().as_str(), format!("{}/inbox/login", inbox.base));
    let a = b.get(format!("{}/inbox", inbox.base)).send().await.unwrap();
    assert_eq!(a.url().as_str(), format!("{}/inbox/login", inbox.base));
    // The provider asks for a login again: its session ended too.
    let again = b
        .get(format!("{}/inbox/login/oidc", inbox.base))
        .send()
        .await
        .unwrap();
    assert!(
        again.url().as_str().contains("/interaction/"),
        "{}",
        again.url()
    );

    // At the high level, the level-4 letter opens.
    let b = browser();
    log_in(&b, &inbox, PERSON, "idporten-loa-high").await;
    let a = b
        .get(format!("{}/inbox/letters/{}", inbox.base, high.id))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
}

#[tokio::test]
async fn a_login_that_does_not_come_back_as_it_left_is_refused() {
    if skipped() {
        return;
    }
    let inbox = inbox().await;
    let b = browser();
    // A callback with no login started in this browser.
    let a = b
        .get(format!(
            "{}/inbox/login/callback?code=abc&state=def",
            inbox.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 400);
    assert!(a.text().await.unwrap().contains("Innloggingen mislyktes"));
    // A login started, but the callback carries another state.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let start = no_redirects
        .get(format!("{}/inbox/login/oidc", inbox.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let a = no_redirects
        .get(format!(
            "{}/inbox/login/callback?code=abc&state=forged",
            inbox.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 400);
    assert!(a.headers().get("location").is_none());
    // The person cancelled at the provider.
    let a = b
        .get(format!(
            "{}/inbox/login/callback?error=access_denied",
            inbox.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 400);
    // A person the provider knows but the provider refuses (not a test person) never gets in.
    let page = log_in(&b, &inbox, "12345678901", "idporten-loa-high").await;
    assert_eq!(page.status(), 400);
    let a = b.get(format!("{}/inbox", inbox.base)).send().await.unwrap();
    assert_eq!(a.url().as_str(), format!("{}/inbox/login", inbox.base));
}
