//! Measuring one kind of inbox list page: browsers asking for it in a closed loop, each answer
//! timed until the whole page has arrived, with the server's and the machine's CPU over the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use hdrhistogram::Histogram;
use tokio::task::JoinSet;

use super::browser::{Browser, letters_on};
use super::{P99_TARGET_MS, PageResult};
use crate::perf;
use crate::server::{Melding, clock_ticks};

/// The machine's CPU counters from `/proc/stat`, in clock ticks over all cores.
#[derive(Debug, Clone, Copy, Default)]
struct CpuStat {
    busy: u64,
    steal: u64,
    total: u64,
}

impl CpuStat {
    fn read() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // user nice system idle iowait irq softirq steal (guest time is inside user)
        let f: Vec<u64> = stat
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("cpu "))
            .map(|l| {
                l.split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let at = |i: usize| f.get(i).copied().unwrap_or(0);
        let total: u64 = (0..8).map(at).sum();
        let (idle, steal) = (at(3) + at(4), at(7));
        Self {
            busy: total.saturating_sub(idle + steal),
            steal,
            total,
        }
    }

    /// Busy and stolen since `earlier`, in percent of all cores.
    fn since(self, earlier: Self) -> (f64, f64) {
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        (
            self.busy.saturating_sub(earlier.busy) as f64 * 100.0 / total,
            self.steal.saturating_sub(earlier.steal) as f64 * 100.0 / total,
        )
    }
}

fn histogram() -> Histogram<u64> {
    // microseconds, 1 µs to 10 min, 3 significant digits
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// One kind of list page: whose, what it is, and the requests taken in turn.
pub(super) struct Kind {
    pub(super) party: &'static str,
    pub(super) page: String,
    pub(super) requests: Vec<String>,
}

/// What one client measured.
struct Tally {
    latency: Histogram<u64>,
    errors: u64,
    letters: u64,
}

/// Asks for `kind`'s pages `samples` times, from `clients` browsers at once, each sending its
/// next request when its last answer has arrived, after a few untimed requests to warm up.
pub(super) async fn measure(
    server: &Melding,
    label: &str,
    browsers: &[Browser],
    kind: &Kind,
    clients: usize,
    samples: usize,
) -> PageResult {
    let requests = Arc::new(kind.requests.clone());
    for (k, b) in browsers.iter().take(clients).enumerate() {
        for j in 0..5 {
            let _ = b.get(&requests[(k + j) % requests.len()]).await;
        }
    }
    let next = Arc::new(AtomicUsize::new(0));
    let ticks = clock_ticks();
    let (cpu_before, machine_before) = (server.proc().cpu_ticks, CpuStat::read());
    let recording = perf::start(label, &format!("{} {} x{clients}", kind.party, kind.page));
    let began = Instant::now();
    let mut tasks = JoinSet::new();
    for b in browsers.iter().take(clients) {
        let (b, next, requests) = (b.clone(), next.clone(), requests.clone());
        tasks.spawn(async move {
            let mut t = Tally {
                latency: histogram(),
                errors: 0,
                letters: 0,
            };
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= samples {
                    return t;
                }
                let sent = Instant::now();
                let answer = b.get(&requests[k % requests.len()]).await;
                let us = sent.elapsed().as_micros().max(1) as u64;
                match answer {
                    Ok((200, html)) if html.trim_end().ends_with("</html>") => {
                        let _ = t.latency.record(us);
                        t.letters += letters_on(&html) as u64;
                    }
                    _ => t.errors += 1,
                }
            }
        });
    }
    let mut all = Tally {
        latency: histogram(),
        errors: 0,
        letters: 0,
    };
    while let Some(done) = tasks.join_next().await {
        if let Ok(t) = done {
            let _ = all.latency.add(&t.latency);
            all.errors += t.errors;
            all.letters += t.letters;
        }
    }
    let wall = began.elapsed().as_secs_f64().max(1e-3);
    if let Some(r) = recording {
        r.finish();
    }
    let cpu = server.proc().cpu_ticks.saturating_sub(cpu_before) as f64 / ticks;
    let (machine_busy_pct, steal_pct) = CpuStat::read().since(machine_before);
    let h = &all.latency;
    let ms = |us: u64| us as f64 / 1000.0;
    let n = h.len();
    let (p50_ms, p95_ms, p99_ms, max_ms) = if n == 0 {
        (0.0, 0.0, 0.0, 0.0)
    } else {
        (
            ms(h.value_at_quantile(0.50)),
            ms(h.value_at_quantile(0.95)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max()),
        )
    };
    PageResult {
        party: kind.party.to_owned(),
        page: kind.page.clone(),
        request: kind.requests[0].clone(),
        distinct_requests: kind.requests.len(),
        clients,
        samples: n,
        errors: all.errors,
        letters_per_page: if n == 0 {
            0.0
        } else {
            all.letters as f64 / n as f64
        },
        p50_ms,
        p95_ms,
        p99_ms,
        max_ms,
        mean_ms: if n == 0 { 0.0 } else { h.mean() / 1000.0 },
        pages_per_s: n as f64 / wall,
        server_cpu_cores: cpu / wall,
        machine_busy_pct,
        steal_pct,
        passed: n > 0 && all.errors == 0 && p99_ms < P99_TARGET_MS,
    }
}
