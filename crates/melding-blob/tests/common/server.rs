//! A throwaway server process for one test binary: started on a free port, its output kept in a
//! log that is shown if it fails to come up, killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to 1 to let the object-store tests pass without their servers (e.g. on a machine where
/// `scripts/object-stores.sh` cannot run).
pub fn skipped(what: &str) -> bool {
    let skip = std::env::var_os("MELDING_SKIP_OBJECT_STORE").is_some_and(|v| v == "1");
    if skip {
        eprintln!("MELDING_SKIP_OBJECT_STORE=1: not testing {what}");
    }
    skip
}

/// `env` if set, else the first of `candidates` that exists, else `name` on PATH.
pub fn find_program(name: &str, env: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|dir| dir.join(name))
                .collect()
        })
        .unwrap_or_default();
    candidates
        .iter()
        .chain(on_path.iter())
        .find(|p| p.is_file())
        .cloned()
}

pub struct Server {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    name: String,
}

impl Server {
    /// Starts `program` with the arguments `args(port, scratch_dir)` and waits until the port
    /// accepts connections.
    pub fn start(program: &Path, args: impl FnOnce(u16, &Path) -> Vec<String>) -> Server {
        let port = free_port();
        let dir = tempfile::tempdir().expect("scratch dir");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        let child = Command::new(program)
            .args(args(port, &data))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut server = Server {
            child,
            port,
            dir,
            name: program.display().to_string(),
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("{} exited with {status}:\n{}", self.name, self.log());
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not listen on port {} within 60 s:\n{}",
                    self.name,
                    self.port,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago; another process could take it before the server does,
/// which is rare enough on a test machine.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}
