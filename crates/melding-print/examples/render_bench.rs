//! Renders the sample letter (with a one-page PDF attachment) N times on one thread and writes
//! the rate and the peak memory to `bench-results/issue-16/print.json` at the repository root.
//!
//! ```sh
//! cargo run --release -p melding-print --example render_bench -- 500
//! ```
//!
//! Peak memory is the process's high-water mark of resident memory (`VmHWM` in
//! `/proc/self/status`, Linux only), so it includes the embedded fonts and typst's caches.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Instant;

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("the number of letters to render"))
        .unwrap_or(100);
    let mut letter = common::sample_letter();
    letter
        .attachments
        .push(common::attachment_pdf("Kart over sonen.pdf", "K", 1));

    // The first render builds the font book and the standard library; time it apart.
    let started = Instant::now();
    let first = melding_print::render(&letter).expect("the sample letter renders");
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;

    let mut per_letter_ms = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        // A different date each time, so typst's memoization cannot hand back the last result.
        let mut this = letter.clone();
        this.date = letter.date + chrono::Days::new(i as u64 + 1);
        let one = Instant::now();
        let printed = melding_print::render(&this).expect("renders");
        per_letter_ms.push(one.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(printed.pages, first.pages);
    }
    let seconds = started.elapsed().as_secs_f64();
    per_letter_ms.sort_by(f64::total_cmp);
    let percentile = |p: f64| per_letter_ms[((count as f64 - 1.0) * p).round() as usize];

    let result = serde_json::json!({
        "command": format!(
            "cargo run{} -p melding-print --example render_bench -- {count}",
            if cfg!(debug_assertions) { "" } else { " --release" }
        ),
        "profile": if cfg!(debug_assertions) { "dev (debug; dependencies at opt-level 1)" } else { "release" },
        "letters": count,
        "threads": 1,
        "pages_per_letter": first.pages,
        "letter_pages": first.letter_pages,
        "pdf_bytes": first.pdf.len(),
        "first_render_ms": round(first_ms),
        "seconds": round(seconds),
        "pdfs_per_second": round(count as f64 / seconds),
        "ms_per_letter": { "p50": round(percentile(0.5)), "p95": round(percentile(0.95)), "max": round(percentile(1.0)) },
        "peak_rss_kib": peak_rss_kib(),
    });
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench-results/issue-16");
    std::fs::create_dir_all(&dir).expect("create bench-results/issue-16");
    let text = serde_json::to_string_pretty(&result).expect("JSON") + "\n";
    std::fs::write(dir.join("print.json"), &text).expect("write print.json");
    print!("{text}");
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `VmHWM` from `/proc/self/status`, in KiB, or `None` off Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
