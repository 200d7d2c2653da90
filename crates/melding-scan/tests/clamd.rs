//! `ClamdScanner` against a real clamd. Start one first:
//!
//! ```sh
//! eval "$(scripts/clamd.sh start)"   # sets MELDING_TEST_CLAMD and MELDING_TEST_CLAMD_SOCKET
//! cargo test -p melding-scan --test clamd -- --nocapture
//! ```
//!
//! The daemon of `scripts/clamd.sh` has a one-line signature database that knows only EICAR, as
//! `Local.EICAR.Test`. Without the variables the tests fail, unless `MELDING_SKIP_CLAMD=1`.
//!
//! No test here measures time: the scan rate is measured by `examples/scan_rate.rs`.

use std::time::Duration;

use melding_scan::{ClamdAddress, ClamdScanner, EICAR, ScanError, Scanner, Verdict};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// What clamd reports for the database of `scripts/clamd.sh` (it adds `.UNOFFICIAL` to
/// signatures outside the official databases).
const EICAR_SIGNATURE: &str = "Local.EICAR.Test.UNOFFICIAL";
const TIMEOUT: Duration = Duration::from_secs(30);

/// The clamd named by `variable`, or `None` (after saying so) when told to skip.
fn clamd(variable: &str) -> Option<ClamdScanner> {
    match std::env::var(variable) {
        Ok(value) => {
            let address: ClamdAddress = value.parse().unwrap_or_else(|e| panic!("{variable}: {e}"));
            Some(ClamdScanner::new(address, TIMEOUT))
        }
        Err(_) if std::env::var("MELDING_SKIP_CLAMD").as_deref() == Ok("1") => {
            eprintln!("skipped: {variable} is not set and MELDING_SKIP_CLAMD=1");
            None
        }
        Err(_) => panic!(
            "{variable} is not set: run `eval \"$(scripts/clamd.sh start)\"` first \
             (or set MELDING_SKIP_CLAMD=1 to skip the tests against clamd)"
        ),
    }
}

fn tcp() -> Option<ClamdScanner> {
    clamd("MELDING_TEST_CLAMD")
}

fn unix_socket() -> Option<ClamdScanner> {
    clamd("MELDING_TEST_CLAMD_SOCKET")
}

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

/// A reader fed by a task that writes `content` in pieces of `piece` bytes, as an upload or a
/// blob download would arrive.
fn streamed(content: Vec<u8>, piece: usize) -> impl AsyncRead + Send + Unpin {
    let (reader, mut writer) = tokio::io::duplex(piece);
    tokio::spawn(async move {
        for chunk in content.chunks(piece) {
            if writer.write_all(chunk).await.is_err() {
                return;
            }
        }
    });
    reader
}

#[tokio::test]
async fn eicar_is_infected_with_the_signature_name() {
    let Some(scanner) = tcp() else { return };
    let verdict = scanner.scan(&mut &EICAR[..]).await.unwrap();
    assert_eq!(verdict, Verdict::Infected(EICAR_SIGNATURE.into()));
    assert_eq!(scanner.name(), "clamd");
}

#[tokio::test]
async fn a_clean_50_kib_buffer_is_clean() {
    let Some(scanner) = tcp() else { return };
    let content = clean_bytes(50 * 1024);
    assert_eq!(
        scanner.scan(&mut &content[..]).await.unwrap(),
        Verdict::Clean
    );
}

#[tokio::test]
async fn a_clean_5_mib_file_streamed_in_chunks_is_clean() {
    let Some(scanner) = tcp() else { return };
    let mut reader = streamed(clean_bytes(5 * 1024 * 1024 + 123), 8 * 1024);
    assert_eq!(scanner.scan(&mut reader).await.unwrap(), Verdict::Clean);
}

#[tokio::test]
async fn eicar_over_the_unix_socket() {
    let Some(scanner) = unix_socket() else { return };
    assert!(matches!(scanner.address(), ClamdAddress::Unix(_)));
    let verdict = scanner.scan(&mut &EICAR[..]).await.unwrap();
    assert_eq!(verdict, Verdict::Infected(EICAR_SIGNATURE.into()));
    let content = clean_bytes(50 * 1024);
    assert_eq!(
        scanner.scan(&mut &content[..]).await.unwrap(),
        Verdict::Clean
    );
}

#[tokio::test]
async fn ping_and_version_over_tcp_and_the_unix_socket() {
    for scanner in [tcp(), unix_socket()].into_iter().flatten() {
        scanner.ping().await.unwrap();
        let version = scanner.version().await.unwrap();
        assert!(version.starts_with("ClamAV "), "{version}");
        eprintln!("{}: {version}", scanner.address());
    }
}

#[tokio::test]
async fn concurrent_scans_get_their_own_verdicts() {
    let Some(scanner) = tcp() else { return };
    let scans = (0..32).map(|i| {
        let scanner = scanner.clone();
        tokio::spawn(async move {
            let content = if i % 4 == 0 {
                EICAR.to_vec()
            } else {
                clean_bytes(20_000 + i)
            };
            (i, scanner.scan(&mut &content[..]).await.unwrap())
        })
    });
    for scan in scans {
        let (i, verdict) = scan.await.unwrap();
        let expected = if i % 4 == 0 {
            Verdict::Infected(EICAR_SIGNATURE.into())
        } else {
            Verdict::Clean
        };
        assert_eq!(verdict, expected, "scan {i}");
    }
}

#[tokio::test]
async fn a_stream_past_stream_max_length_is_refused() {
    // scripts/clamd.sh sets StreamMaxLength 100M (104,857,600 bytes); send a little more.
    let Some(scanner) = tcp() else { return };
    let mut zeros = tokio::io::repeat(0).take(100 * 1024 * 1024 + 100 * 1024);
    let result = scanner.scan(&mut zeros).await;
    assert!(
        matches!(result, Err(ScanError::SizeLimitExceeded)),
        "{result:?}"
    );
    // The refusal leaves the daemon serving.
    scanner.ping().await.unwrap();
}

// The failures below need no clamd.

/// A ceiling for exchanges that must end by themselves: far above any scheduler delay, far
/// below "hangs for ever", so a test fails instead of hanging when one does not end.
const CEILING: Duration = Duration::from_secs(120);

#[tokio::test]
async fn a_closed_port_is_unreachable_at_once() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The scanner's own timeout is far above the ceiling: an answer within the ceiling shows the
    // refused connection ended the attempt, not the timeout.
    let scanner = ClamdScanner::new(
        ClamdAddress::Tcp(format!("127.0.0.1:{port}")),
        Duration::from_secs(3600),
    );
    let result = tokio::time::timeout(CEILING, scanner.scan(&mut &EICAR[..]))
        .await
        .expect("a refused connection fails without waiting for the scanner's timeout");
    assert!(
        matches!(result, Err(ScanError::Unreachable { .. })),
        "{result:?}"
    );
    let pinged = tokio::time::timeout(CEILING, scanner.ping())
        .await
        .expect("ping fails at once too");
    assert!(matches!(pinged, Err(ScanError::Unreachable { .. })));
}

#[tokio::test]
async fn a_missing_unix_socket_is_unreachable() {
    let scanner = ClamdScanner::new(
        "unix:///nonexistent/melding/clamd.sock".parse().unwrap(),
        Duration::from_secs(5),
    );
    let result = scanner.scan(&mut &EICAR[..]).await;
    assert!(
        matches!(result, Err(ScanError::Unreachable { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_listener_that_never_accepts_fails_within_the_timeout() {
    // A listener with a backlog of 0 that never accepts: once its queue is full the kernel
    // drops further SYNs, so a connect neither succeeds nor fails, like a firewalled host.
    // (A "non-routable" address is no good here: this network answers for every address.)
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap();
    let _listener = socket.listen(0).unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(address),
        )
        .await
        {
            fillers.push(stream);
        }
    }

    let scanner = ClamdScanner::new(
        ClamdAddress::Tcp(address.to_string()),
        Duration::from_millis(500),
    );
    // Nothing answers, so only the scanner's timeout can end the scan; the ceiling turns a
    // missing timeout into a failure instead of a hang.
    let result = tokio::time::timeout(CEILING, scanner.scan(&mut &EICAR[..]))
        .await
        .expect("the scanner's timeout ends a scan nobody answers");
    // Either the connect times out, or it lands in the queue and the exchange times out.
    assert!(
        matches!(
            result,
            Err(ScanError::Unreachable { .. } | ScanError::Timeout { .. })
        ),
        "{result:?}"
    );
}
