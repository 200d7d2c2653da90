//! Measures how many 50 KiB clean buffers a clamd scans per second, one at a time and eight at
//! once (500 scans each), and writes the figures as JSON. A benchmark program, not a test:
//! tests never assert on time (STYLE 14).
//!
//! ```sh
//! eval "$(scripts/clamd.sh start)"
//! cargo run -p melding-scan --example scan_rate -- "$MELDING_TEST_CLAMD" bench-results/clamd-scan-rate.json
//! ```
//!
//! The first argument is the clamd address (`tcp://host:port`, `host:port` or `unix:///path`;
//! default `$MELDING_TEST_CLAMD`), the second the file to write (default
//! `bench-results/clamd-scan-rate.json`).

use std::time::{Duration, Instant};

use melding_scan::{ClamdAddress, ClamdScanner, Scanner};

/// Scans per run, split evenly between the workers of the concurrent run.
const SCANS: u32 = 500;
const PARALLEL: u32 = 8;
const SIZE: usize = 50 * 1024;

/// Deterministic bytes that match no signature (xorshift, so not all one value).
fn clean_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address = match args.next() {
        Some(a) => a,
        None => std::env::var("MELDING_TEST_CLAMD")
            .map_err(|_| "give a clamd address, or set MELDING_TEST_CLAMD")?,
    };
    let out = args
        .next()
        .unwrap_or_else(|| "bench-results/clamd-scan-rate.json".to_owned());
    let address: ClamdAddress = address.parse()?;
    let scanner = ClamdScanner::new(address.clone(), Duration::from_secs(30));
    scanner.ping().await?;
    let version = scanner.version().await?;
    let content = clean_bytes(SIZE);

    let started = Instant::now();
    for _ in 0..SCANS {
        assert!(scanner.scan(&mut &content[..]).await?.is_clean());
    }
    let sequential = f64::from(SCANS) / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let workers: Vec<_> = (0..PARALLEL)
        .map(|_| {
            let scanner = scanner.clone();
            let content = content.clone();
            tokio::spawn(async move {
                for _ in 0..SCANS / PARALLEL {
                    let verdict = scanner.scan(&mut &content[..]).await?;
                    assert!(verdict.is_clean());
                }
                Ok::<_, melding_scan::ScanError>(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let concurrent = f64::from(SCANS) / started.elapsed().as_secs_f64();

    let json = format!(
        "{{\n  \"what\": \"clamd scans of {SIZE}-byte clean buffers over {address}\",\n  \
         \"clamd\": {version:?},\n  \"scans_per_run\": {SCANS},\n  \
         \"sequential_scans_per_second\": {sequential:.0},\n  \
         \"concurrent_scans_per_second\": {concurrent:.0},\n  \"concurrency\": {PARALLEL}\n}}\n"
    );
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &json)?;
    print!("{json}");
    eprintln!("written to {out}");
    Ok(())
}
