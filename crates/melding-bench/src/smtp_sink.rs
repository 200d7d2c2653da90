//! The SMTP server the notification benchmark sends into: it accepts every message, answers
//! `250` at once and records when it did, and the `Subject` of the message, so the benchmark can
//! count e-mails per second and time each letter from its creation to its `250`.
//!
//! Hand-written on tokio rather than a library SMTP server (aiosmtpd, which the tests use, or
//! a Rust crate): the sink must not be what limits the rate it measures, and must stamp each
//! `250` in this process's clock. It speaks just enough ESMTP for lettre's client: greeting,
//! `EHLO`/`HELO`, `MAIL`, `RCPT`, `DATA` with dot-stuffing, `RSET`, `NOOP` and `QUIT`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message: its `Subject` header and when the `250` for it was written.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub subject: String,
    pub at: Instant,
}

/// A running sink on a loopback port; it stops when the benchmark process ends.
#[derive(Debug, Clone)]
pub struct SmtpSink {
    pub port: u16,
    accepted: Arc<Mutex<Vec<Accepted>>>,
}

impl SmtpSink {
    /// Listens on `127.0.0.1:0` and serves every connection on its own task.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let sink = Self {
            port,
            accepted: accepted.clone(),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let accepted = accepted.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, accepted).await;
                });
            }
        });
        Ok(sink)
    }

    /// How many messages were accepted so far.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Takes the messages accepted so far, leaving none.
    pub fn take(&self) -> Vec<Accepted> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Accepted>> {
        self.accepted.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn serve(stream: TcpStream, accepted: Arc<Mutex<Vec<Accepted>>>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 melding-bench-sink ESMTP\r\n").await?;
    let mut line = String::new();
    let mut queued = 0u64;
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line
            .get(..4)
            .map(str::to_ascii_uppercase)
            .unwrap_or_default();
        match verb.as_str() {
            "EHLO" => {
                write
                    .write_all(b"250-melding-bench-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    .await?
            }
            "HELO" => write.write_all(b"250 melding-bench-sink\r\n").await?,
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await?;
                let mut subject = String::new();
                let mut in_headers = true;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    let text = line.trim_end_matches(['\r', '\n']);
                    if text == "." {
                        break;
                    }
                    if in_headers {
                        if text.is_empty() {
                            in_headers = false;
                        } else if let Some(s) = text.strip_prefix("Subject: ") {
                            subject = s.to_owned();
                        }
                    }
                }
                queued += 1;
                write
                    .write_all(format!("250 2.0.0 Ok: queued as {queued}\r\n").as_bytes())
                    .await?;
                let at = Instant::now();
                accepted
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Accepted { subject, at });
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            // MAIL, RCPT, RSET, NOOP and anything else: accepted.
            _ => write.write_all(b"250 OK\r\n").await?,
        }
    }
}
