//! The web inbox benchmark (issue 17: "Paging stays fast with 10,000 letters per party: a list
//! page p99 under 50 ms in a benchmark"): how long `/inbox` list pages take to arrive, whole, on
//! a warmed server with 10,000 letters for each party, on SQLite and on PostgreSQL.
//!
//! `melding serve --demo` runs on loopback with its development login. The person 08089403198
//! and the organisation 974760673 (where that person is DAGL) get the same number of letters
//! through the sender API, from four senders with varied titles and summaries; the person then
//! opens most of theirs in the inbox, so the unread filter has something to leave out. Browsers
//! (one cookie jar and connection each) log in with the development login and fetch list pages:
//! the first page, pages found by following the pager's "next" link, the last page, each
//! filter, the search, the empty archive, and the organisation's inbox. One client at a time,
//! then several at once (closed loop: each client sends its next request when the last has
//! arrived).
//!
//! ```text
//! cargo run --release -p melding-bench -- --inbox [--quick]
//! ```

mod browser;
mod measure;
mod report;
mod seed;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use self::browser::{Browser, walk};
use self::measure::{Kind, measure};
use self::report::{INBOX_BEGIN, INBOX_END, InboxResults};
use self::seed::{COMMON_WORD, FILTERED_SENDER, case_number, open_all, registry, seed, senders};
use crate::server::Melding;
use crate::{Args, admin, with_database};

/// The issue's bound: a list page's 99th percentile under this many milliseconds.
pub const P99_TARGET_MS: f64 = 50.0;
/// The demo's person (`serve --demo`), whose inbox is measured.
const PERSON: &str = "08089403198";
/// The demo's organisation, whose daglig leder the person is, so the person may read its post.
const ORG: &str = "974760673";
const PERSON_URN: &str = "urn:altinn:person:identifier-no:";
const ORG_URN: &str = "urn:altinn:organization:identifier-no:";
const SENDER_SCOPE: &str = "altinn:correspondence.write altinn:serviceowner";

/// How big and how long: `--quick` or the full run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboxMode {
    /// "quick" or "full".
    pub name: String,
    /// Letters seeded to each party (letters): one create request makes one for the person and
    /// one for the organisation.
    pub letters: usize,
    /// Timed requests per page kind and client count (requests).
    pub samples: usize,
    /// Client counts measured, each client a browser with its own login session and connection.
    pub clients: Vec<usize>,
    /// How far the pager is followed for the "deep pages" kind (pages).
    pub deep_pages: usize,
    /// Requests in flight while seeding and while the person opens letters (requests).
    pub seed_concurrency: usize,
    /// One letter in this many stays unread; the person opens the others before measuring.
    pub unread_every: usize,
}

impl InboxMode {
    /// A smoke run of about a minute per backend: 1,000 letters per party, 100 samples.
    pub fn quick() -> Self {
        Self {
            name: "quick".into(),
            letters: 1_000,
            samples: 100,
            clients: vec![1, 4],
            deep_pages: 10,
            seed_concurrency: 16,
            unread_every: 7,
        }
    }

    /// The issue's size: 10,000 letters per party, 600 samples per page kind and client count.
    pub fn full() -> Self {
        Self {
            name: "full".into(),
            letters: 10_000,
            samples: 600,
            clients: vec![1, 4],
            deep_pages: 50,
            seed_concurrency: 16,
            unread_every: 7,
        }
    }
}

/// One kind of list page at one client count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageResult {
    /// Whose inbox: "person" or "organisation".
    pub party: String,
    /// The kind of page, e.g. "first page".
    pub page: String,
    /// The request (or the first of those taken in turn), e.g. `/inbox?unread=1`.
    pub request: String,
    /// Distinct requests taken in turn (the pages of the pager, the search terms).
    pub distinct_requests: usize,
    /// Clients asking at once (closed loop).
    pub clients: usize,
    /// Timed answers that were a whole page with status 200.
    pub samples: u64,
    /// Answers that were not (other status, cut short, connection error).
    pub errors: u64,
    /// Letters listed per page, averaged over the samples (letters).
    pub letters_per_page: f64,
    /// Latency from sending the request to having the whole body, in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Mean, ms.
    pub mean_ms: f64,
    /// Pages answered per second over the run (pages/s).
    pub pages_per_s: f64,
    /// The server's CPU over the run, in cores (1.0 = one core busy); the database's
    /// processes are not included.
    pub server_cpu_cores: f64,
    /// The machine's CPUs over the run: busy, in percent of all cores (everything: server,
    /// database, generator, and whatever else runs).
    pub machine_busy_pct: f64,
    /// CPU time the hypervisor gave to others over the run, in percent of all cores.
    pub steal_pct: f64,
    /// p99 under [`P99_TARGET_MS`] with no errors.
    pub passed: bool,
}

/// One backend's inbox numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboxBackend {
    /// "sqlite" or "postgres".
    pub backend: String,
    /// Letters seeded to each party (letters).
    pub letters_per_party: usize,
    /// Seconds the create requests took (s).
    pub seed_seconds: f64,
    /// Seconds from the last create until no job was due, i.e. every letter published (s).
    pub publish_seconds: f64,
    /// Letters the person opened in the inbox before measuring (letters), and the seconds
    /// that took.
    pub opened: usize,
    /// Seconds opening them took (s).
    pub open_seconds: f64,
    /// Letters listed when following the person's pager from the first page to the last.
    pub walked_person: usize,
    /// Pages of that walk.
    pub person_pages: usize,
    /// Letters listed when following the pager of the unread filter, and how many there are.
    pub walked_unread: usize,
    /// Letters the person left unread (letters).
    pub expected_unread: usize,
    /// Letters listed when following the organisation's pager.
    pub walked_org: usize,
    /// Every page kind at every client count.
    pub pages: Vec<PageResult>,
    /// The server's resident memory after the run (MiB).
    pub rss_end_mib: f64,
    /// Anything that did not go as planned.
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// One backend.

/// Seeds, opens, walks and measures on a fresh `serve --demo`; `database_url` None is SQLite
/// in `dir`.
pub async fn run_backend(
    bin: &Path,
    dir: &Path,
    database_url: Option<&str>,
    mode: &InboxMode,
) -> anyhow::Result<InboxBackend> {
    let backend = if database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let senders = senders();
    let server = Melding::start_json(
        bin,
        dir,
        database_url,
        &registry(&senders),
        &["--demo".to_owned()],
    )
    .await?;
    let outcome = phases(&server, backend, database_url, &senders, mode).await;
    let stopped = server.stop();
    let result = outcome?;
    stopped?;
    Ok(result)
}

async fn phases(
    server: &Melding,
    backend: &str,
    database_url: Option<&str>,
    senders: &[String],
    mode: &InboxMode,
) -> anyhow::Result<InboxBackend> {
    let root = server
        .base
        .strip_suffix("/correspondence/api/v1")
        .context("unexpected API base")?
        .to_owned();
    let api = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .http1_only()
        .build()?;
    let tokens = senders
        .iter()
        .map(|o| server.token(("--org", o), SENDER_SCOPE))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut notes = Vec::new();

    eprintln!(
        "  {backend}: seeding {} letters to each party …",
        mode.letters
    );
    let began = Instant::now();
    let person_letters = seed(server, &api, &tokens, mode).await?;
    let seed_seconds = began.elapsed().as_secs_f64();
    let began = Instant::now();
    if !server.wait_jobs_idle(&api, Duration::from_secs(600)).await {
        notes.push("jobs were still due 600 s after seeding".to_owned());
    }
    let publish_seconds = began.elapsed().as_secs_f64();
    eprintln!(
        "  {backend}: created in {seed_seconds:.1} s ({:.0} creates/s), all published {publish_seconds:.1} s later",
        mode.letters as f64 / seed_seconds.max(1e-3)
    );

    // The person reads most of their letters in the inbox; one in `unread_every` stays unread.
    let opener = Browser::log_in(&root, PERSON).await?;
    let to_open: Vec<String> = person_letters
        .iter()
        .enumerate()
        .filter(|(i, _)| i % mode.unread_every != 0)
        .map(|(_, id)| format!("/inbox/letters/{id}"))
        .collect();
    let expected_unread = mode.letters - to_open.len();
    let began = Instant::now();
    let open_errors = open_all(&opener, &to_open, mode.seed_concurrency).await;
    let open_seconds = began.elapsed().as_secs_f64();
    if open_errors > 0 {
        notes.push(format!(
            "{open_errors} of {} letter pages did not answer 200",
            to_open.len()
        ));
    }
    if !server.wait_jobs_idle(&api, Duration::from_secs(600)).await {
        notes.push("jobs were still due 600 s after opening letters".to_owned());
    }
    eprintln!(
        "  {backend}: the person opened {} letters in {open_seconds:.1} s",
        to_open.len()
    );
    if let Some(url) = database_url {
        // A database that has just taken 20,000 letters has no statistics of them yet until
        // autovacuum's next round; PostgreSQL then plans the inbox's listing for a handful of
        // rows (a bitmap scan and a sort instead of the index's order: 15-20 ms instead of
        // 0.2 ms for a page after the first). A live database has them, so measure with them.
        crate::admin(url, "ANALYZE".to_owned()).await?;
    }

    let most = mode.clients.iter().copied().max().unwrap_or(1);
    let mut person = Vec::new();
    let mut org = Vec::new();
    for _ in 0..most {
        person.push(Browser::log_in(&root, PERSON).await?);
        let b = Browser::log_in(&root, PERSON).await?;
        b.act_for_org().await?;
        org.push(b);
    }

    // Following every pager to its end checks the paging (each letter once) and warms up.
    let (person_pages, walked_person) = walk(&person[0], "/inbox").await?;
    let (_, walked_unread) = walk(&person[0], "/inbox?unread=1").await?;
    let (org_pages, walked_org) = walk(&org[0], "/inbox").await?;
    for (what, seen, expected) in [
        ("the person's inbox", walked_person, mode.letters),
        (
            "the person's unread letters",
            walked_unread,
            expected_unread,
        ),
        ("the organisation's inbox", walked_org, mode.letters),
    ] {
        if seen != expected {
            notes.push(format!(
                "following the pager of {what} listed {seen} letters, not {expected}"
            ));
        }
    }
    eprintln!(
        "  {backend}: pager walks: {walked_person} letters on {} pages, {walked_unread} unread, {walked_org} for the organisation",
        person_pages.len()
    );

    // An inbox of one page has no pages after the first; its first page stands in.
    let deep = |pages: &[String]| match pages.get(1..pages.len().min(mode.deep_pages)) {
        Some(after) if !after.is_empty() => after.to_vec(),
        _ => pages[..1].to_vec(),
    };
    let searches: Vec<String> = (0..50)
        .map(|k| {
            let number = case_number((k * 7_919 + 13) % mode.letters);
            format!("/inbox?q={}", number.replace('/', "%2F"))
        })
        .collect();
    let last = person_pages
        .last()
        .cloned()
        .unwrap_or_else(|| "/inbox".into());
    let kinds = [
        Kind {
            party: "person",
            page: "first page".into(),
            requests: vec!["/inbox".into()],
        },
        Kind {
            party: "person",
            page: format!("pages 2–{} (pager)", mode.deep_pages),
            requests: deep(&person_pages),
        },
        Kind {
            party: "person",
            page: format!("last page (page {})", person_pages.len()),
            requests: vec![last],
        },
        Kind {
            party: "person",
            page: format!("unread only (1 in {})", mode.unread_every),
            requests: vec!["/inbox?unread=1".into()],
        },
        Kind {
            party: "person",
            page: "one sender (1 letter in 10)".into(),
            requests: vec![format!("/inbox?sender={}", senders[FILTERED_SENDER])],
        },
        Kind {
            party: "person",
            page: format!("search \"{COMMON_WORD}\" (1 in 10)"),
            requests: vec![format!("/inbox?q={COMMON_WORD}")],
        },
        Kind {
            party: "person",
            page: "search a case number (1 match)".into(),
            requests: searches,
        },
        Kind {
            party: "person",
            page: "archive (empty)".into(),
            requests: vec!["/inbox?archived=1".into()],
        },
        Kind {
            party: "organisation",
            page: "first page".into(),
            requests: vec!["/inbox".into()],
        },
        Kind {
            party: "organisation",
            page: format!("pages 2–{} (pager)", mode.deep_pages),
            requests: deep(&org_pages),
        },
    ];
    let mut pages = Vec::new();
    for &clients in &mode.clients {
        for kind in &kinds {
            let browsers = if kind.party == "person" {
                &person
            } else {
                &org
            };
            let r = measure(server, backend, browsers, kind, clients, mode.samples).await;
            eprintln!(
                "  {backend}: {:<13} {:<40} x{clients}  p50 {:>6.2}  p95 {:>6.2}  p99 {:>6.2}  max {:>7.2} ms  {:>6.1} pages/s  {:.1} letters/page  server {:.2} cores  busy {:.0} %  steal {:.0} %{}",
                r.party,
                r.page,
                r.p50_ms,
                r.p95_ms,
                r.p99_ms,
                r.max_ms,
                r.pages_per_s,
                r.letters_per_page,
                r.server_cpu_cores,
                r.machine_busy_pct,
                r.steal_pct,
                if r.errors > 0 {
                    format!("  {} errors", r.errors)
                } else {
                    String::new()
                }
            );
            pages.push(r);
        }
    }
    Ok(InboxBackend {
        backend: backend.to_owned(),
        letters_per_party: mode.letters,
        seed_seconds,
        publish_seconds,
        opened: to_open.len(),
        open_seconds,
        walked_person,
        person_pages: person_pages.len(),
        walked_unread,
        expected_unread,
        walked_org,
        pages,
        rss_end_mib: server.proc().rss_kib as f64 / 1024.0,
        notes,
    })
}

// ---------------------------------------------------------------------------------------------
// Both backends, and the results.

/// The inbox benchmark on SQLite, then PostgreSQL (`--inbox`).
pub async fn run(args: &Args, bin: &Path, work: &Path, began: Instant) -> anyhow::Result<()> {
    let mode = if args.quick {
        InboxMode::quick()
    } else {
        InboxMode::full()
    };
    let mut results = InboxResults::new(bin, &mode);
    if !args.no_sqlite {
        eprintln!("web inbox on SQLite …");
        let r = run_backend(bin, &work.join("inbox-sqlite"), None, &mode).await;
        results.backends.push(r.context("web inbox on SQLite")?);
    }
    if !args.no_postgres {
        let db = format!("melding_bench_inbox_{}", std::process::id());
        admin(&args.postgres_url, format!("CREATE DATABASE {db}")).await?;
        eprintln!("web inbox on PostgreSQL …");
        let url = with_database(&args.postgres_url, &db);
        let r = run_backend(bin, &work.join("inbox-postgres"), Some(&url), &mode).await;
        let dropped = admin(
            &args.postgres_url,
            format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        )
        .await;
        results.backends.push(r.context("web inbox on PostgreSQL")?);
        dropped?;
    }
    let _ = std::fs::remove_dir_all(work);
    results.total_seconds = began.elapsed().as_secs_f64();
    let json_path = results.write_json(&args.results_dir)?;
    eprintln!("wrote {}", json_path.display());
    write_section(args, &results, &json_path)?;
    for b in &results.backends {
        let worst = b.worst();
        println!(
            "{}: worst list-page p99 {:.1} ms ({} {}, {} client(s)); target p99 < {P99_TARGET_MS} ms {}",
            b.backend,
            worst.map_or(0.0, |w| w.p99_ms),
            worst.map_or("", |w| w.party.as_str()),
            worst.map_or("", |w| w.page.as_str()),
            worst.map_or(0, |w| w.clients),
            if b.passed() { "met" } else { "missed" }
        );
    }
    Ok(())
}

/// Writes the inbox section of the Markdown report (`--markdown`, unless "-"), leaving the
/// rest of the file as it is.
fn write_section(args: &Args, results: &InboxResults, json: &Path) -> anyhow::Result<()> {
    if args.markdown.as_os_str() == "-" {
        return Ok(());
    }
    let old = std::fs::read_to_string(&args.markdown).unwrap_or_default();
    let section = results.markdown(json);
    let text = crate::report::splice_section(&old, INBOX_BEGIN, INBOX_END, &section);
    std::fs::write(&args.markdown, text)?;
    eprintln!("wrote {}", args.markdown.display());
    Ok(())
}

/// `--inbox --report RESULTS_JSON`: rewrites the inbox section from an earlier run's results.
pub fn rewrite_report(args: &Args, json: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(json).with_context(|| format!("reading {}", json.display()))?;
    let results: InboxResults = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not an inbox results file", json.display()))?;
    write_section(args, &results, json)
}

impl InboxBackend {
    /// The page kind and client count with the highest p99.
    fn worst(&self) -> Option<&PageResult> {
        self.pages
            .iter()
            .max_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms))
    }

    /// Every page kind at every client count held the target.
    fn passed(&self) -> bool {
        !self.pages.is_empty() && self.pages.iter().all(|p| p.passed)
    }
}
