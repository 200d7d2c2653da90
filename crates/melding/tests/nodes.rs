//! Two `melding serve` processes on one PostgreSQL database: 1,000 letters due a few seconds
//! later are each published exactly once, whichever node claims the job, and both nodes take
//! part (each node's own metrics count its finished jobs).

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "common/pgdb.rs"]
mod pgdb;

#[path = "common/process.rs"]
mod process;
use process::Running as Node;
use process::{BIN, free_port};

const SENDER: &str = "991825827";

/// `count` valid organisation numbers (mod-11), starting from 900000000.
fn org_numbers(count: usize) -> Vec<String> {
    let weights = [3, 2, 7, 6, 5, 4, 3, 2];
    (90_000_000u32..)
        .filter_map(|base| {
            let digits: Vec<u32> = format!("{base:08}")
                .bytes()
                .map(|b| u32::from(b - b'0'))
                .collect();
            let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
            match 11 - sum % 11 {
                10 => None,
                11 => Some(format!("{base:08}0")),
                k => Some(format!("{base:08}{k}")),
            }
        })
        .filter(|n| n != SENDER)
        .take(count)
        .collect()
}

fn melding(data: &Path, url: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--database-url")
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn start_with_lease(data: &Path, url: &str, lease_seconds: u32) -> (Node, String) {
    let (node, base, _) = start_node(data, url, lease_seconds).await;
    (node, base)
}

/// Starts a node; returns it, its API base URL and its metrics URL.
async fn start_node(data: &Path, url: &str, lease_seconds: u32) -> (Node, String, String) {
    let port = free_port();
    let metrics_port = free_port();
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--metrics-listen",
            &format!("127.0.0.1:{metrics_port}"),
            "--data-dir",
        ])
        .arg(data)
        .arg("--database-url")
        .arg(url)
        .env("MELDING_LOG", "warn")
        .env("MELDING_JOB_LEASE_SECONDS", lease_seconds.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node = Node(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/health")).await
            && r.status() == 200
        {
            return (
                node,
                base,
                format!("http://127.0.0.1:{metrics_port}/metrics"),
            );
        }
        assert!(Instant::now() < deadline, "node did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Imports 500 recipient organisations and the sender; returns a sender token.
fn prepare(data: &Path, url: &str) -> (Vec<String>, String) {
    let orgs = org_numbers(500);
    let mut organizations: Vec<Value> = orgs
        .iter()
        .map(|o| json!({"orgNumber": o, "name": format!("Mottaker {o}")}))
        .collect();
    organizations.push(json!({"orgNumber": SENDER, "name": "Digitaliseringsdirektoratet"}));
    let registry = data.join("registry.json");
    std::fs::write(
        &registry,
        json!({
            "organizations": organizations,
            "resources": [{"id": "kommunepost", "owner": SENDER, "serviceOwnerCode": "digdir",
                           "title": "Post fra kommunen"}]
        })
        .to_string(),
    )
    .unwrap();
    melding(
        data,
        url,
        &["registry", "import", registry.to_str().unwrap()],
    );
    // `melding token` reads only the data directory; --init creates the key the nodes load.
    let out = Command::new(BIN)
        .args(["token", "--init", "--org", SENDER, "--scope"])
        .arg("altinn:correspondence.write altinn:serviceowner")
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    (orgs, token)
}

/// Sends 500 letters through each node, due `after` seconds from now; returns their ids.
async fn send_thousand(
    nodes: [&str; 2],
    token: &str,
    orgs: &[String],
    after: i64,
) -> HashSet<String> {
    let client = reqwest::Client::new();
    let publish_at = chrono::Utc::now() + chrono::Duration::seconds(after);
    let recipients: Vec<String> = orgs.iter().map(|o| format!("0192:{o}")).collect();
    let mut sent = HashSet::new();
    for (i, node) in nodes.into_iter().enumerate() {
        let answer: Value = client
            .post(format!("{node}/correspondence/api/v1/correspondence"))
            .bearer_auth(token)
            .json(&json!({
                "correspondence": {"resourceId": "kommunepost", "sendersReference": format!("batch-{i}"),
                    "requestedPublishTime": publish_at.to_rfc3339(),
                    "content": {"messageTitle": "Skatteoppgjør", "messageBody": "Se vedlegg."}},
                "recipients": recipients
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for c in answer["correspondences"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
        {
            sent.insert(c["correspondenceId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(sent.len(), 1000);
    sent
}

/// How many letters the sender sees as published.
async fn published_count(node: &str, token: &str) -> usize {
    let search =
        "/correspondence/api/v1/correspondence?resourceId=kommunepost&role=Sender&status=Published";
    let found: Value = reqwest::Client::new()
        .get(format!("{node}{search}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    found["ids"].as_array().unwrap().len()
}

async fn wait_all_published(node: &str, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while published_count(node, token).await < 1000 {
        assert!(Instant::now() < deadline, "not all letters were published");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every letter has exactly one Published entry.
async fn assert_published_once(nodes: [&str; 2], token: &str, sent: &HashSet<String>) {
    let client = reqwest::Client::new();
    for (i, id) in sent.iter().enumerate() {
        let node = nodes[i % 2];
        let d: Value = client
            .get(format!(
                "{node}/correspondence/api/v1/correspondence/{id}/details"
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let published = d["statusHistory"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["status"] == "Published")
            .count();
        assert_eq!(published, 1, "letter {id}: {d}");
    }
}

/// How many jobs a node has finished, from its own metrics (`melding_jobs_runs_total`).
async fn jobs_done(metrics: &str) -> u64 {
    let text = reqwest::get(metrics).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("melding_jobs_runs_total{outcome=\"done\"} "))
        .unwrap_or_else(|| panic!("no done counter in {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_publish_every_letter_exactly_once() {
    let db = pgdb::TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (orgs, token) = prepare(dir.path(), &db.url);
    let (_a, a, a_metrics) = start_node(dir.path(), &db.url, 60).await;
    let (_b, b, b_metrics) = start_node(dir.path(), &db.url, 60).await;
    let sent = send_thousand([&a, &b], &token, &orgs, 4).await;
    wait_all_published(&b, &token).await;
    assert_published_once([&a, &b], &token, &sent).await;
    // Both nodes published: the work was shared, not done by one while the other idled.
    let (done_a, done_b) = (jobs_done(&a_metrics).await, jobs_done(&b_metrics).await);
    eprintln!("publish jobs done: node a {done_a}, node b {done_b}");
    assert!(done_a > 0 && done_b > 0, "a: {done_a}, b: {done_b}");
    assert!(done_a + done_b >= 1000, "a: {done_a}, b: {done_b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_work_loses_nothing_and_its_jobs_are_taken_over() {
    let db = pgdb::TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (orgs, token) = prepare(dir.path(), &db.url);
    let (mut doomed, a) = start_with_lease(dir.path(), &db.url, 2).await;
    let sent = send_thousand([&a, &a], &token, &orgs, 2).await;
    // Kill the node with SIGKILL as soon as it has started publishing, while it holds claims.
    let deadline = Instant::now() + Duration::from_secs(60);
    while published_count(&a, &token).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the first node never started publishing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();
    let (_b, b) = start_with_lease(dir.path(), &db.url, 2).await;
    let before = published_count(&b, &token).await;
    assert!(
        before < 1000,
        "the killed node finished everything before it died ({before})"
    );
    wait_all_published(&b, &token).await;
    assert_published_once([&b, &b], &token, &sent).await;
}
