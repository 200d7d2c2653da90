//! The open-loop load generator. Request `i` is due at `start + i / rate` whether or not earlier
//! requests have finished, and its latency is measured from that due time, not from when it was
//! actually sent. A server that falls behind therefore shows its queueing in the latencies
//! instead of silently slowing the generator down (coordinated omission).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::server::{Melding, ProcSample};

/// How one scenario is driven.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Requests per second.
    pub rate: f64,
    pub duration: Duration,
    /// Never more than this many requests, whatever rate × duration says.
    pub max_requests: u64,
    /// Requests still open when the next one is due beyond this are not sent; they count as
    /// "dropped" (the generator's own bound, as k6's maxVUs).
    pub max_in_flight: usize,
    /// A request open this long counts as "timeout".
    pub timeout: Duration,
}

impl Shape {
    pub fn new(rate: f64, duration: Duration) -> Self {
        Self {
            rate,
            duration,
            max_requests: 1_000_000,
            max_in_flight: 4096,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Latency in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default)]
pub struct Latency {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// What the server used during a scenario.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default)]
pub struct ServerUsage {
    pub cpu_seconds: f64,
    /// cpu_seconds over the scenario's wall time: 1.0 is one core busy.
    pub cpu_cores: f64,
    pub rss_end_mib: f64,
    /// Peak resident set during the scenario (VmHWM, reset at its start).
    pub rss_peak_mib: f64,
}

/// One scenario's numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub scenario: String,
    pub target_rate: f64,
    pub duration_s: f64,
    pub scheduled: u64,
    pub ok: u64,
    /// 2xx answers per second of wall time (first due time to last answer).
    pub achieved_rate: f64,
    /// Latency of the 2xx answers, from each request's due time.
    pub latency: Latency,
    /// Latency of every answer that came back (any status), for the spike.
    pub latency_all: Latency,
    /// Count per outcome: HTTP status ("200", "429", …), "timeout", "error", "dropped".
    pub outcomes: BTreeMap<String, u64>,
    /// How many non-2xx answers carried Retry-After.
    pub retry_after: u64,
    pub server: ServerUsage,
    /// CPU the benchmark process itself used (it shares the cores with the server).
    pub generator_cpu_seconds: f64,
    /// Seconds from the scenario's last answer until no job was due any more, i.e. until every
    /// letter it created was published (None where not measured). Publishing that keeps up
    /// with creating shows as a fraction of a second.
    pub drain_seconds: Option<f64>,
}

impl RunResult {
    pub fn errors(&self) -> u64 {
        self.outcomes
            .iter()
            .filter(|(k, _)| !k.starts_with('2'))
            .map(|(_, v)| v)
            .sum()
    }
}

#[derive(Debug)]
struct Tally {
    ok: Histogram<u64>,
    all: Histogram<u64>,
    outcomes: BTreeMap<String, u64>,
    retry_after: u64,
    last_done: Instant,
}

fn histogram() -> Histogram<u64> {
    // microseconds, 1 µs to 10 min, 3 significant digits: constant bounds that are always valid
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn summarize(h: &Histogram<u64>) -> Latency {
    if h.is_empty() {
        return Latency::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Latency {
        p50_ms: ms(h.value_at_quantile(0.50)),
        p95_ms: ms(h.value_at_quantile(0.95)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
        mean_ms: h.mean() / 1000.0,
    }
}

/// Drives `make(i)` open-loop with `shape` against `server` and measures.
pub async fn run<F>(name: &str, server: &Melding, shape: Shape, make: F) -> RunResult
where
    F: Fn(u64) -> reqwest::RequestBuilder,
{
    let ticks = crate::server::clock_ticks();
    server.reset_peak();
    let before = server.proc();
    let me_before = ProcSample::read(std::process::id());

    let n =
        ((shape.rate * shape.duration.as_secs_f64()).round() as u64).clamp(1, shape.max_requests);
    let interval = Duration::from_secs_f64(1.0 / shape.rate);
    let start = Instant::now() + Duration::from_millis(5);
    let tally = Arc::new(Mutex::new(Tally {
        ok: histogram(),
        all: histogram(),
        outcomes: BTreeMap::new(),
        retry_after: 0,
        last_done: start,
    }));
    let label = server
        .data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let recording = crate::perf::start(&label, name);
    let slots = Arc::new(Semaphore::new(shape.max_in_flight));
    let mut tasks = JoinSet::new();
    let mut dropped = 0u64;
    for i in 0..n {
        let due = start + interval.mul_f64(i as f64);
        // A deadline already passed must not go through the timer wheel, which would round it
        // up to the next millisecond tick and cap the rate near 1,000/s.
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            dropped += 1;
            continue;
        };
        let request = make(i);
        let tally = tally.clone();
        let timeout = shape.timeout;
        tasks.spawn(async move {
            let outcome = tokio::time::timeout(timeout, async {
                let resp = request.send().await?;
                let status = resp.status();
                let retry_after = resp.headers().contains_key("retry-after");
                resp.bytes().await?;
                Ok::<_, reqwest::Error>((status, retry_after))
            })
            .await;
            let done = Instant::now();
            let us = done.duration_since(due).as_micros().max(1) as u64;
            let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
            t.last_done = t.last_done.max(done);
            let key = match outcome {
                Ok(Ok((status, retry_after))) => {
                    let _ = t.all.record(us);
                    if status.is_success() {
                        let _ = t.ok.record(us);
                    } else if retry_after {
                        t.retry_after += 1;
                    }
                    status.as_u16().to_string()
                }
                Ok(Err(_)) => "error".to_owned(),
                Err(_) => "timeout".to_owned(),
            };
            *t.outcomes.entry(key).or_default() += 1;
            drop(slot);
        });
    }
    while tasks.join_next().await.is_some() {}
    if let Some(r) = recording {
        r.finish();
    }

    let after = server.proc();
    let me_after = ProcSample::read(std::process::id());
    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
    if dropped > 0 {
        t.outcomes.insert("dropped".to_owned(), dropped);
    }
    let wall = t.last_done.duration_since(start).as_secs_f64().max(1e-3);
    let ok = t.ok.len();
    let cpu_seconds = after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / ticks;
    RunResult {
        scenario: name.to_owned(),
        target_rate: shape.rate,
        duration_s: shape.duration.as_secs_f64(),
        scheduled: n,
        ok,
        achieved_rate: ok as f64 / wall,
        latency: summarize(&t.ok),
        latency_all: summarize(&t.all),
        outcomes: t.outcomes.clone(),
        retry_after: t.retry_after,
        server: ServerUsage {
            cpu_seconds,
            cpu_cores: cpu_seconds / wall,
            rss_end_mib: after.rss_kib as f64 / 1024.0,
            rss_peak_mib: after.hwm_kib as f64 / 1024.0,
        },
        generator_cpu_seconds: me_after.cpu_ticks.saturating_sub(me_before.cpu_ticks) as f64
            / ticks,
        drain_seconds: None,
    }
}
