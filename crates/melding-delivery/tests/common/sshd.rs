//! The SFTP server the print tests talk to: a real OpenSSH `sshd` started on a free local port
//! as the current user, with a host key, a client key and `authorized_keys` made by `ssh-keygen`
//! in a scratch directory, and `internal-sftp` as its SFTP subsystem. Killed when dropped.

#![allow(dead_code)] // each test binary uses its own part of this helper

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

/// Set `MELDING_SKIP_SFTP=1` to let the SFTP tests pass without OpenSSH's server (a machine
/// where `apt-get install openssh-server` cannot run); `scripts/test.sh` refuses that in CI.
pub fn skipped() -> bool {
    if std::env::var_os("MELDING_SKIP_SFTP").is_some_and(|v| v == "1") {
        eprintln!("!!!! MELDING_SKIP_SFTP=1: not testing print over SFTP against a real sshd !!!!");
        return true;
    }
    let keygen = Command::new("ssh-keygen")
        .arg("-?")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        Path::new(SSHD).exists() && keygen,
        "{SSHD} and ssh-keygen are needed for the SFTP tests: apt-get install openssh-server \
         (scripts/test.sh does it), or set MELDING_SKIP_SFTP=1 to skip them"
    );
    false
}

pub struct Sshd {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    /// The client's private key (OpenSSH text), whose public half is authorised.
    pub client_key: String,
    /// The server's host key fingerprint, `SHA256:…`.
    pub host_fingerprint: String,
    /// The user the server lets in (the current user).
    pub user: String,
}

fn run(command: &mut Command) -> String {
    let out = command.output().expect("run a command");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Makes an Ed25519 key pair at `path` and `path.pub`.
pub fn keygen(path: &Path) {
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "melding-test", "-f"])
        .arg(path));
}

/// The SHA256 fingerprint of the public key file `pub_path`, as `ssh-keygen -l` prints it.
pub fn fingerprint(pub_path: &Path) -> String {
    let line = run(Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(pub_path));
    line.split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_owned()
}

impl Sshd {
    pub fn start() -> Sshd {
        let dir = tempfile::tempdir().expect("scratch dir");
        let path = dir.path();
        keygen(&path.join("host_ed25519"));
        keygen(&path.join("client_ed25519"));
        std::fs::copy(
            path.join("client_ed25519.pub"),
            path.join("authorized_keys"),
        )
        .expect("authorized_keys");
        std::fs::create_dir(path.join("data")).expect("data dir");
        let user = run(Command::new("id").arg("-un")).trim().to_owned();
        let config = format!(
            "ListenAddress 127.0.0.1\n\
             HostKey {dir}/host_ed25519\n\
             PidFile none\n\
             UsePAM no\n\
             StrictModes no\n\
             AuthorizedKeysFile {dir}/authorized_keys\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n\
             AllowUsers {user}\n\
             Subsystem sftp internal-sftp\n\
             LogLevel VERBOSE\n",
            dir = path.display()
        );
        std::fs::write(path.join("sshd_config"), config).expect("sshd_config");
        // Run as root, sshd wants its privilege separation directory; Debian's package leaves
        // its creation to systemd, which a container may not run.
        if run(Command::new("id").arg("-u")).trim() == "0" {
            std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        }
        let mut sshd = Sshd {
            child: None,
            port: free_port(),
            client_key: std::fs::read_to_string(path.join("client_ed25519")).expect("client key"),
            host_fingerprint: fingerprint(&path.join("host_ed25519.pub")),
            user,
            dir,
        };
        sshd.resume();
        sshd
    }

    /// Starts sshd (again) on the same port and waits until it accepts connections.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "sshd is running already");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("sshd.log"))
            .expect("log file");
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(self.dir.path().join("sshd_config"))
            .arg("-p")
            .arg(self.port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start /usr/sbin/sshd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            let child = self.child.as_mut().expect("child");
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!("sshd exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on {} within 30 s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops sshd; the port then refuses connections.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// A directory the server's user can write, for the remote outbox and receipts.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A scratch path beside the server's files, for keys the server does not know.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}
