//! The SMTP server the e-mail tests talk to: `tests/smtp_sink.py` (aiosmtpd) started on a free
//! port, its messages written into a scratch directory, killed when dropped. The API suite of
//! `crates/melding` includes this file too, for notices sent through the whole chain.

#![allow(dead_code)] // each test binary uses its own part of this helper

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set `MELDING_SKIP_SMTP=1` to let the SMTP tests pass without aiosmtpd (a machine where
/// `pip install aiosmtpd` cannot run); `scripts/test.sh` refuses that in CI.
pub fn skipped() -> bool {
    if std::env::var_os("MELDING_SKIP_SMTP").is_some_and(|v| v == "1") {
        eprintln!("!!!! MELDING_SKIP_SMTP=1: not testing e-mail against a real SMTP server !!!!");
        return true;
    }
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "python3 with aiosmtpd is needed for the SMTP tests: pip install aiosmtpd \
         (scripts/test.sh does it), or set MELDING_SKIP_SMTP=1 to skip them"
    );
    false
}

/// What the sink does with a message; see `tests/smtp_sink.py`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    TempFail,
    Reject,
    Drop,
}

/// How the sink protects its connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkTls {
    None,
    StartTls { cert: PathBuf, key: PathBuf },
    Implicit { cert: PathBuf, key: PathBuf },
}

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start(mode: Mode, tls: SinkTls) -> SmtpSink {
        Self::start_on(free_port(), mode, tls)
    }

    /// Starts the sink on `port` and waits until it accepts connections.
    pub fn start_on(port: u16, mode: Mode, tls: SinkTls) -> SmtpSink {
        let dir = tempfile::tempdir().expect("scratch dir");
        let out = dir.path().join("messages");
        std::fs::create_dir(&out).expect("messages dir");
        let log = std::fs::File::create(dir.path().join("sink.log")).expect("log file");
        // From the package's own directory, so the API tests of `crates/melding` can start the
        // same sink through `#[path]`.
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../melding-delivery/tests/smtp_sink.py");
        let mode = match mode {
            Mode::Accept => "accept",
            Mode::TempFail => "tempfail",
            Mode::Reject => "reject",
            Mode::Drop => "drop",
        };
        let mut command = Command::new("python3");
        command
            .arg(script)
            .args(["--port", &port.to_string(), "--mode", mode])
            .arg("--out")
            .arg(&out);
        match &tls {
            SinkTls::None => {}
            SinkTls::StartTls { cert, key } | SinkTls::Implicit { cert, key } => {
                let name = if matches!(tls, SinkTls::StartTls { .. }) {
                    "starttls"
                } else {
                    "implicit"
                };
                command
                    .args(["--tls", name, "--cert"])
                    .arg(cert)
                    .arg("--key")
                    .arg(key);
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start python3 tests/smtp_sink.py");
        let mut sink = SmtpSink { child, port, dir };
        sink.wait_until_listening();
        sink
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("smtp_sink.py exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "smtp_sink.py did not listen on {} within 30 s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sink.log")).unwrap_or_default()
    }

    /// The messages taken so far, oldest first: (envelope lines, raw message).
    pub fn messages(&self) -> Vec<(Vec<String>, String)> {
        let out = self.dir.path().join("messages");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&out)
            .expect("messages dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|eml| {
                let envelope = std::fs::read_to_string(eml.with_extension("envelope"))
                    .expect("envelope")
                    .lines()
                    .map(str::to_owned)
                    .collect();
                let raw = String::from_utf8(std::fs::read(&eml).expect("eml")).expect("utf-8");
                (envelope, raw)
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A certificate authority and a server certificate for `localhost` and 127.0.0.1 signed by it,
/// made with the openssl command line (present wherever python3's ssl module is). Returns
/// (ca.pem, server.pem, server.key).
pub fn make_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Melding test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n\
         extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
    )
    .expect("extensions file");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}
