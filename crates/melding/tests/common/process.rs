//! What the tests that run the real `melding` binary share: the binary, a free port, and a child
//! process that is killed when its test ends, passed or failed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// The `melding` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_melding");

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process (a `melding serve`) that is killed and reaped when dropped, so a failing
/// test leaves no server behind.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `melding ARGS --data-dir DIR`, with no config file taken from the environment, asserts
/// that it succeeded and returns its standard output, trimmed.
pub fn melding_ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("MELDING_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A data directory `dir/data` ready for letters sent to a real `melding serve`: the registry
/// holds the sender 991825827 (Digitaliseringsdirektoratet), which owns the resource
/// `kommunepost`, and the person 08089403198. Returns the directory and a sender token minted
/// with `--init` (the server started on the directory later trusts it).
pub fn data_dir_with_sender(dir: &Path) -> (PathBuf, String) {
    let data = dir.join("data");
    let registry = dir.join("registry.json");
    std::fs::write(
        &registry,
        serde_json::json!({
            "organizations": [{"orgNumber": "991825827", "name": "Digitaliseringsdirektoratet"}],
            "persons": [{"nationalId": "08089403198", "name": "Ola Nordmann"}],
            "resources": [{"id": "kommunepost", "owner": "991825827", "serviceOwnerCode": "digdir",
                           "title": "Post fra kommunen"}]
        })
        .to_string(),
    )
    .unwrap();
    melding_ok(&data, &["registry", "import", registry.to_str().unwrap()]);
    let sender = melding_ok(
        &data,
        &[
            "token",
            "--init",
            "--org",
            "991825827",
            "--scope",
            "altinn:correspondence.write altinn:serviceowner",
        ],
    );
    (data, sender)
}

/// Waits until the server on `port` answers `GET /healthz` with 200, for at most 60 s (then the
/// test fails with "server did not come up").
pub async fn wait_until_healthy(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "server did not come up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
