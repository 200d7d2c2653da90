//! README "Durability": an answer of 200 means the letter is on disk. A SIGKILL test cannot show
//! that (the page cache survives a killed process), so this test watches the system calls of a
//! running `melding serve` with strace and checks that the 200 answer to a create is written to
//! the socket only after the SQLite WAL holding the letter was fsynced.
//!
//! strace is Debian's `strace` package. When it is missing the test installs it with apt-get
//! (as root); if that is impossible it skips with a loud line, except under `CI=true`, where a
//! skip is a failure.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "common/process.rs"]
mod process;
use process::Running as Killed;
use process::{BIN, data_dir_with_sender, free_port};

fn strace_works() -> bool {
    Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=none", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether strace can be used, installing it when it is missing and we may.
fn strace_available() -> bool {
    if strace_works() {
        return true;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        eprintln!("durability: strace is missing; installing Debian's strace package");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "strace"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        if !strace_works() {
            let _ = Command::new("apt-get").args(["update", "-qq"]).status();
            let _ = Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends", "strace"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
        }
    }
    strace_works()
}

/// Whether every thread of process `pid` is traced.
fn all_threads_traced(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|t| {
        std::fs::read_to_string(t.path().join("status")).is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("TracerPid:"))
                .is_some_and(|v| v.trim() != "0")
        })
    })
}

/// The position in the strace log of each finished fsync/fdatasync of the WAL, and of the first
/// write of an HTTP 200 answer to a socket, and of the last write to the WAL before that answer.
#[derive(Debug)]
struct Trace {
    wal_syncs_done: Vec<usize>,
    wal_writes: Vec<usize>,
    answer: Option<usize>,
}

fn read_trace(log: &str) -> Trace {
    let mut pending_sync: std::collections::HashSet<String> = Default::default();
    let mut trace = Trace {
        wal_syncs_done: vec![],
        wal_writes: vec![],
        answer: None,
    };
    for (i, line) in log.lines().enumerate() {
        let (pid, call) = match line.split_once(' ') {
            Some((pid, call)) if pid.chars().all(|c| c.is_ascii_digit()) => (pid, call.trim()),
            _ => ("", line),
        };
        let is_sync = call.starts_with("fsync(") || call.starts_with("fdatasync(");
        let on_wal = call.contains("-wal>");
        if is_sync && on_wal {
            if call.ends_with("<unfinished ...>") {
                pending_sync.insert(pid.to_owned());
            } else {
                trace.wal_syncs_done.push(i);
            }
        } else if (call.starts_with("<... fsync resumed>")
            || call.starts_with("<... fdatasync resumed>"))
            && pending_sync.remove(pid)
        {
            trace.wal_syncs_done.push(i);
        } else if on_wal
            && ["pwrite64(", "write(", "writev(", "pwritev("]
                .iter()
                .any(|c| call.starts_with(c))
        {
            trace.wal_writes.push(i);
        } else if trace.answer.is_none() && call.contains("HTTP/1.1 200") {
            trace.answer = Some(i);
        }
    }
    trace
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_is_answered_only_after_the_wal_is_fsynced() {
    if !strace_available() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "strace is needed for the durability test and could not be installed (CI=true: no skipping)"
        );
        eprintln!(
            "\n!!!!! SKIPPED durability::a_create_is_answered_only_after_the_wal_is_fsynced: \
             strace is not installed and could not be installed (apt-get install strace) !!!!!\n"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (data, sender) = data_dir_with_sender(dir.path());

    let port = free_port();
    let server = Killed(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(&data)
            .env("MELDING_LOG", "warn")
            .env_remove("MELDING_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    process::wait_until_healthy(port).await;

    // Attach to every thread of the running server (threads started later are followed too).
    let log = dir.path().join("strace.log");
    let pid = server.0.id();
    let mut strace = Killed(
        Command::new("strace")
            .args([
                "-f",
                "-qq",
                "-y",
                "-s",
                "64",
                "-e",
                "trace=fsync,fdatasync,write,writev,pwrite64,pwritev,sendto,sendmsg",
                "-o",
            ])
            .arg(&log)
            .args(["-p", &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !all_threads_traced(pid) {
        assert!(Instant::now() < deadline, "strace did not attach");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // One create, due tomorrow, so no publish job writes beside it.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let answer = reqwest::Client::new()
        .post(format!("{base}/correspondence/api/v1/correspondence"))
        .bearer_auth(&sender)
        .json(&json!({
            "correspondence": {"resourceId": "kommunepost", "sendersReference": "fsync-1",
                "requestedPublishTime": tomorrow.to_rfc3339(),
                "content": {"messageTitle": "Vedtak", "messageBody": "Innvilget."}},
            "recipients": ["08089403198"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let v: Value = answer.json().await.unwrap();
    assert!(
        v["correspondences"][0]["correspondenceId"].is_string(),
        "{v}"
    );

    // Detach (SIGTERM makes strace detach and flush its log), then read what it saw.
    let strace_pid = strace.0.id().to_string();
    Command::new("kill")
        .args(["-TERM", &strace_pid])
        .status()
        .unwrap();
    let _ = strace.0.wait();
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let trace = read_trace(&text);
    let answer = trace
        .answer
        .unwrap_or_else(|| panic!("no HTTP 200 written in the trace:\n{text}"));
    let last_wal_write = trace
        .wal_writes
        .iter()
        .copied()
        .filter(|w| *w < answer)
        .max()
        .unwrap_or_else(|| {
            panic!("the letter was not written to the WAL before the answer:\n{text}")
        });
    eprintln!(
        "strace: {} lines; last WAL write at line {}, WAL syncs done at {:?}, 200 answer at line {}",
        text.lines().count(),
        last_wal_write + 1,
        trace
            .wal_syncs_done
            .iter()
            .map(|s| s + 1)
            .collect::<Vec<_>>(),
        answer + 1
    );
    assert!(
        trace
            .wal_syncs_done
            .iter()
            .any(|s| (last_wal_write..answer).contains(s)),
        "the 200 answer (line {}) was written before the WAL write (line {}) was fsynced:\n{text}",
        answer + 1,
        last_wal_write + 1
    );
}

#[test]
fn the_trace_reader_finds_syncs_writes_and_the_answer() {
    let log = "\
100 pwrite64(7</d/melding.db-wal>, \"x\", 4096, 0) = 4096
101 fdatasync(7</d/melding.db-wal> <unfinished ...>
102 write(9<TCP:[1->2]>, \"x\", 1) = 1
101 <... fdatasync resumed>) = 0
102 writev(9<TCP:[1->2]>, [{iov_base=\"HTTP/1.1 200 OK\\r\\n\"...}], 2) = 200
";
    let t = read_trace(log);
    assert_eq!(t.wal_writes, [0]);
    assert_eq!(t.wal_syncs_done, [3]);
    assert_eq!(t.answer, Some(4));
}
