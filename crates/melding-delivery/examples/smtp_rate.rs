//! Measures how many notification e-mails per second the pooled SMTP transport hands to a
//! local SMTP sink (aiosmtpd, `tests/smtp_sink.py`, started here unless `--port` names one that
//! runs). The number is the client's and the sink's together on one machine; aiosmtpd, a
//! Python server, is usually the slower of the two.
//!
//! ```text
//! cargo run -p melding-delivery --example smtp_rate -- [--count N] [--pool P] [--port PORT]
//! ```
//! Defaults: 2 000 e-mails, a pool of 8 connections, one sender task per connection.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use melding_delivery::email::{
    EmailBody, EmailMessage, EmailSender, SmtpConfig, SmtpEmailSender, SmtpTls,
};
use melding_delivery::templates::Language;
use melding_domain::EmailAddress;

struct Args {
    count: usize,
    pool: u32,
    port: Option<u16>,
}

fn args() -> Args {
    let mut args = Args {
        count: 2000,
        pool: 8,
        port: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--count" => args.count = value.parse().expect("--count N"),
            "--pool" => args.pool = value.parse().expect("--pool P"),
            "--port" => args.port = Some(value.parse().expect("--port PORT")),
            other => panic!("unknown flag {other}; see the example's docs"),
        }
    }
    args
}

/// The sink, killed when dropped.
struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sink() -> (Sink, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
    let child = Command::new("python3")
        .arg(script)
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .expect("start python3 tests/smtp_sink.py (pip install aiosmtpd)");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the sink did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Sink(child), port)
}

#[tokio::main]
async fn main() {
    let args = args();
    let (_sink, port) = match args.port {
        Some(port) => (None, port),
        None => {
            let (sink, port) = start_sink();
            (Some(sink), port)
        }
    };
    let mut config = SmtpConfig::new("127.0.0.1", port, SmtpTls::None);
    config.pool_size = args.pool;
    config.message_id_domain = "melding.example.no".into();
    let sender = Arc::new(SmtpEmailSender::new(&config).expect("SMTP transport"));
    let message = Arc::new(EmailMessage {
        from: EmailAddress::parse("varsel@melding.example.no").unwrap(),
        from_name: Some("Melding".into()),
        to: EmailAddress::parse("kari@example.no").unwrap(),
        subject: "En melding har blitt mottatt i Altinn".into(),
        body: EmailBody {
            plain: "Hei. Bakeriet AS har mottatt en ny melding fra Ås kommune. Logg deg inn i \
                    Altinn for å se denne meldingen."
                .into(),
            html: None,
        },
        language: Language::Nb,
        envelope_from: None,
        reference: None,
        attachments: Vec::new(),
    });

    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.pool {
        let (sender, message, next, failed) = (
            sender.clone(),
            message.clone(),
            next.clone(),
            failed.clone(),
        );
        let count = args.count;
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < count {
                if let Err(e) = sender.send(&message).await {
                    eprintln!("send failed: {e}");
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "smtp_rate: {} e-mails ({} failed) in {:.2} s over {} pooled connections: {:.0} e-mails/s",
        args.count,
        failed,
        elapsed,
        args.pool,
        (args.count - failed) as f64 / elapsed
    );
}
