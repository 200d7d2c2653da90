//! The composition root: picks the concrete store, clock and issuers, wires the use cases, the
//! job runner and the HTTP application together, and runs them. The CLI in `main.rs` and the
//! integration tests both start Melding through [`App`].
#![forbid(unsafe_code)]

pub mod config;
pub mod dev_issuer;
pub mod notifications_show;
pub mod printing;
pub mod registry_import;
pub mod simulate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use melding_blob::{BlobStore, LocalBlobStore, ObjectBlobStore};
use melding_core::Melding;
use melding_core::notify::NotificationChannels;
use melding_domain::Clock;
use melding_http::{AppState, Authenticator, CorsOrigins, Server, TrustedIssuer};
use melding_jobs::{Runner, RunnerConfig, Waker};
use melding_scan::Scanner;
use melding_store::Store;
use melding_store_sqlite::SqliteStore;
use tokio::sync::watch;

/// The wall clock, for production.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// The name of the SQLite file inside the data directory.
pub const DATABASE_FILE: &str = "melding.db";

/// Opens the store a data directory holds, creating and migrating it as needed.
pub async fn open_store(data_dir: &Path) -> anyhow::Result<SqliteStore> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    SqliteStore::open(&data_dir.join(DATABASE_FILE))
        .await
        .with_context(|| format!("opening the database in {}", data_dir.display()))
}

/// Opens the store the settings name: PostgreSQL for a `postgres://` or `postgresql://` URL,
/// otherwise the SQLite file in the data directory. Either way the schema is migrated first.
pub async fn open_backend(
    data_dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<Arc<dyn Store>> {
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = melding_store_postgres::PostgresStore::connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Arc::new(store))
        }
        Some(url) if !url.trim().is_empty() => anyhow::bail!(
            "unsupported database URL (expected postgres://…, or none for SQLite in the data directory)"
        ),
        _ => Ok(Arc::new(open_store(data_dir).await?)),
    }
}

/// Where attachment bytes live in a data directory when no object store is configured.
pub fn attachments_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("attachments")
}

/// Opens the attachment storage the settings name: files under the data directory by default,
/// or S3 or Azure Blob.
pub async fn open_blobs(
    data_dir: &Path,
    cfg: &config::AttachmentsConfig,
) -> anyhow::Result<Arc<dyn BlobStore>> {
    use config::Storage;
    Ok(match cfg.storage {
        Storage::Local => {
            let dir = attachments_dir(data_dir);
            Arc::new(
                LocalBlobStore::open(&dir)
                    .await
                    .with_context(|| format!("opening attachment storage in {}", dir.display()))?,
            )
        }
        Storage::S3 => {
            let s3 = cfg
                .s3
                .as_ref()
                .context("attachments.storage = \"s3\" needs an [attachments.s3] table")?;
            Arc::new(ObjectBlobStore::s3(s3).context("configuring S3 attachment storage")?)
        }
        Storage::Azure => {
            let az = cfg
                .azure
                .as_ref()
                .context("attachments.storage = \"azure\" needs an [attachments.azure] table")?;
            Arc::new(ObjectBlobStore::azure(az).context("configuring Azure attachment storage")?)
        }
    })
}

/// Where file-dropped notifications go in a data directory: `outbox/email` and `outbox/sms`
/// under it (the default channels of `[notifications]`).
pub fn outbox_dirs(data_dir: &Path) -> (PathBuf, PathBuf) {
    let outbox = data_dir.join("outbox");
    (outbox.join("email"), outbox.join("sms"))
}

/// The notification channels `[notifications]` names: file drops under [`outbox_dirs`], SMTP or
/// an HTTP SMS gateway, with the from-address, sender id and per-channel rates.
///
/// Errors: an SMTP setup that fails (an unreadable CA or DKIM key file, named) or an SMS gateway
/// client that cannot start.
pub fn notification_channels(
    data_dir: &Path,
    cfg: &config::Notifications,
) -> anyhow::Result<NotificationChannels> {
    use melding_delivery::email::{EmailSender, FileDropEmailSender, SmtpEmailSender};
    use melding_delivery::sms::{FileDropSmsSender, HttpSmsGateway, SmsSender};
    use melding_domain::notification::DeliveryChannel;
    let (email_dir, sms_dir) = outbox_dirs(data_dir);
    let email: Arc<dyn EmailSender> = match &cfg.email {
        config::EmailChannel::Files => Arc::new(FileDropEmailSender::new(
            email_dir,
            cfg.from
                .as_str()
                .rsplit('@')
                .next()
                .unwrap_or("melding.local"),
        )),
        config::EmailChannel::Smtp(smtp) => {
            Arc::new(SmtpEmailSender::new(smtp).context("setting up SMTP for notifications")?)
        }
    };
    let sms: Arc<dyn SmsSender> = match &cfg.sms {
        config::SmsChannel::Files => Arc::new(FileDropSmsSender::new(sms_dir)),
        config::SmsChannel::Gateway(g) => Arc::new(HttpSmsGateway::new(g.clone())?),
    };
    Ok(NotificationChannels::new(
        email,
        sms,
        cfg.from.clone(),
        cfg.from_name.clone(),
        cfg.sms_sender.clone(),
    )
    .with_rate(DeliveryChannel::Email, cfg.email_per_second)
    .with_rate(DeliveryChannel::Sms, cfg.sms_per_second))
}

/// The delivery chain's adapters `[delivery]` configures: letters rendered with typst
/// ([`printing::TypstRenderer`]); print to a spool directory `<data dir>/print` (the default),
/// to a print house's SFTP server, or nowhere; digital mailboxes as files under
/// `<data dir>/mailbox/{digipost,e-boks}`, through Digipost's and e-Boks's APIs, or none.
///
/// Errors: an SFTP key that cannot be read, or a mailbox API whose URL or key is refused.
pub fn delivery_channels(
    data_dir: &Path,
    cfg: &config::Delivery,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<melding_core::DeliveryChannels> {
    use melding_delivery::mailbox::{
        DigipostMailbox, EboksMailbox, FileDropMailbox, MailboxProvider,
    };
    use melding_delivery::print::{SftpPrintProvider, SpoolPrintProvider};
    let mut channels = melding_core::DeliveryChannels::new(Arc::new(printing::TypstRenderer));
    match &cfg.print {
        config::PrintProviderSetting::Spool => {
            channels =
                channels.with_print(Arc::new(SpoolPrintProvider::new(print_spool_dir(data_dir))));
        }
        config::PrintProviderSetting::Sftp(sftp) => {
            let provider = SftpPrintProvider::new((**sftp).clone())
                .context("setting up the SFTP print provider ([delivery.sftp])")?;
            channels = channels.with_print(Arc::new(provider));
        }
        config::PrintProviderSetting::None => {}
    }
    if cfg.mailbox.files {
        for provider in [MailboxProvider::Digipost, MailboxProvider::EBoks] {
            let dir = data_dir.join("mailbox").join(provider.as_str());
            channels = channels.with_mailbox(provider, Arc::new(FileDropMailbox::new(dir)));
        }
    }
    if let Some(digipost) = &cfg.mailbox.digipost {
        let mailbox = DigipostMailbox::new(digipost.clone(), clock)
            .context("setting up Digipost ([delivery.digipost])")?;
        channels = channels.with_mailbox(MailboxProvider::Digipost, Arc::new(mailbox));
    }
    if let Some(eboks) = &cfg.mailbox.eboks {
        let mailbox =
            EboksMailbox::new(eboks.clone()).context("setting up e-Boks ([delivery.eboks])")?;
        channels = channels.with_mailbox(MailboxProvider::EBoks, Arc::new(mailbox));
    }
    Ok(channels)
}

/// The print spool directory of `data_dir`: `<data dir>/print`.
pub fn print_spool_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("print")
}

/// The SMS delivery-report webhook `[notifications.delivery_reports]` configures, if any.
pub fn sms_report_webhook(cfg: &config::Notifications) -> Option<melding_http::SmsReportWebhook> {
    cfg.delivery_reports
        .as_ref()
        .map(|(username, password)| melding_http::SmsReportWebhook {
            username: username.clone(),
            password: password.expose().to_owned(),
            format: cfg.report_format(),
        })
}

/// Everything a running node is made of.
pub struct App {
    pub melding: Melding,
    pub runner: Arc<Runner>,
    /// The API, for the main listener.
    pub api: Server,
    /// `/metrics`, for a listener of its own.
    pub metrics: Server,
}

/// What a node is built from.
pub struct Node {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub issuers: Vec<TrustedIssuer>,
    pub jobs: RunnerConfig,
    /// Scans attachments before they are published; none by default.
    pub scanner: Option<Arc<dyn Scanner>>,
    /// The shortest `expirationInDays` accepted for attachments.
    pub min_expiration_days: i32,
    /// API requests served at once; more are answered 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// The longest an API request may take (uploads and downloads excepted): 408 after.
    pub request_timeout: std::time::Duration,
    /// Browser origins allowed to read a letter's content (CORS); none by default.
    pub cors_origins: CorsOrigins,
    /// The e-mail and SMS channels notifications go out through. `None` (the default of
    /// [`Node::new`]) leaves notifications waiting as `New` in the queue, retried, until a node
    /// with channels runs them (`melding_core::notify`).
    pub notification_channels: Option<NotificationChannels>,
    /// The SMS gateway's delivery-report webhook credentials and format; `None` (the default)
    /// refuses every report with 401.
    pub sms_reports: Option<melding_http::SmsReportWebhook>,
    /// The reminder delays and the senders that may use stale KRR addresses; Altinn
    /// production's by default (`melding_core::NotificationSettings::default`).
    pub notification_settings: melding_core::NotificationSettings,
    /// How forwarded letters' e-mails are composed; [`melding_core::ForwardingSettings`]'s
    /// default (attachments up to 10 MB as files) unless set.
    pub forwarding: melding_core::ForwardingSettings,
    /// Which resources' letters are routed and printed, and the calendar print deadlines count
    /// on; the chain off by default (Altinn's behaviour, `melding_core::DeliverySettings`).
    pub delivery: melding_core::DeliverySettings,
    /// The renderer, print provider and digital mailboxes; `None` (the default) records route
    /// and print decisions but leaves the hand-overs waiting, retried.
    pub delivery_channels: Option<melding_core::DeliveryChannels>,
    /// How the web inbox is served: no development login and plain cookies by default.
    pub web: melding_web::WebSettings,
    /// The inbox sessions' timeouts: 30 minutes idle, 8 hours in all by default.
    pub sessions: melding_core::SessionSettings,
}

impl Node {
    /// A node with default job settings, no scanner and Altinn's production expiry minimum.
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        issuers: Vec<TrustedIssuer>,
    ) -> Self {
        Self {
            store,
            blobs,
            clock,
            issuers,
            jobs: RunnerConfig::default(),
            scanner: None,
            min_expiration_days: melding_domain::attachment::MIN_EXPIRATION_DAYS,
            max_in_flight: melding_http::DEFAULT_MAX_IN_FLIGHT,
            request_timeout: melding_http::DEFAULT_REQUEST_TIMEOUT,
            cors_origins: CorsOrigins::default(),
            notification_channels: None,
            sms_reports: None,
            notification_settings: melding_core::NotificationSettings::default(),
            forwarding: melding_core::ForwardingSettings::default(),
            delivery: melding_core::DeliverySettings::default(),
            delivery_channels: None,
            web: melding_web::WebSettings::default(),
            sessions: melding_core::SessionSettings::default(),
        }
    }
}

impl App {
    /// Builds a node over `store` and `blobs` with `clock`, trusting `issuers`.
    pub fn build(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        issuers: Vec<TrustedIssuer>,
    ) -> Self {
        Self::new(Node::new(store, blobs, clock, issuers))
    }

    pub fn new(node: Node) -> Self {
        let Node {
            store,
            blobs,
            clock,
            issuers,
            jobs,
            scanner,
            min_expiration_days,
            max_in_flight,
            request_timeout,
            cors_origins,
            notification_channels,
            sms_reports,
            notification_settings,
            forwarding,
            delivery,
            delivery_channels,
            web,
            sessions,
        } = node;
        let waker = Waker::default();
        let mut melding = Melding::new(store.clone(), blobs, clock.clone(), waker.clone())
            .with_min_expiration_days(min_expiration_days)
            .with_notification_settings(notification_settings)
            .with_forwarding_settings(forwarding)
            .with_delivery_settings(delivery)
            .with_session_settings(sessions);
        if let Some(channels) = delivery_channels {
            melding = melding.with_delivery_channels(channels);
        }
        if let Some(scanner) = scanner {
            melding = melding.with_scanner(scanner);
        }
        if let Some(channels) = notification_channels {
            melding = melding.with_notification_channels(channels);
        }
        let clock_for_metrics = clock.clone();
        let mut runner = Runner::new(store.clone(), clock, jobs, waker);
        for handler in melding.job_handlers() {
            runner.register(handler);
        }
        let stats = Arc::new(melding_http::HttpStats::default());
        let metrics = Server::metrics(
            store.clone(),
            clock_for_metrics,
            runner.stats(),
            stats.clone(),
        );
        let api = Server::api(AppState {
            melding: melding.clone(),
            auth: Arc::new(Authenticator::new(issuers)),
            health: store.clone(),
            max_in_flight,
            request_timeout,
            stats,
            cors_origins,
            sms_reports,
        })
        .with_pages(melding_web::router(melding.clone(), web));
        Self {
            melding,
            runner: Arc::new(runner),
            api,
            metrics,
        }
    }

    /// Serves HTTP on `listener` and runs jobs until `shutdown` turns true; in-flight requests
    /// finish before it returns.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        metrics: Option<tokio::net::TcpListener>,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        if let Some(metrics_listener) = metrics {
            let metrics_server = self.metrics.clone();
            let mut stop = shutdown.clone();
            tokio::spawn(async move {
                let served = metrics_server
                    .serve(metrics_listener, async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "metrics listener failed");
                }
            });
        }
        let runner = self.runner.clone();
        let jobs = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { runner.run_forever(shutdown).await }
        });
        let mut http_shutdown = shutdown.clone();
        self.api
            .serve(listener, async move {
                let _ = http_shutdown.wait_for(|stop| *stop).await;
            })
            .await
            .context("serving HTTP")?;
        jobs.await.context("job runner")?;
        Ok(())
    }
}

/// Binds `addr`, reporting a clear error when it is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))
}

/// Copies a SQLite data directory to `dest` while Melding may be running: a consistent snapshot of
/// the database, then the keys. `dest` must not exist yet.
pub async fn backup(data_dir: &Path, dest: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !dest.exists(),
        "{} exists already; back up into a new directory",
        dest.display()
    );
    let db = data_dir.join(DATABASE_FILE);
    anyhow::ensure!(db.exists(), "no Melding database in {}", data_dir.display());
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let store = open_store(data_dir).await?;
    store
        .backup_to(&dest.join(DATABASE_FILE))
        .await
        .context("copying the database")?;
    let keys = dev_issuer::keys_dir(data_dir);
    if keys.is_dir() {
        let to = dev_issuer::keys_dir(dest);
        std::fs::create_dir_all(&to)?;
        for entry in std::fs::read_dir(&keys)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let target = to.join(entry.file_name());
                std::fs::copy(entry.path(), &target)
                    .with_context(|| format!("copying {}", entry.path().display()))?;
                std::fs::File::open(&target)?.sync_all()?;
            }
        }
    }
    copy_tree(&attachments_dir(data_dir), &attachments_dir(dest))?;
    std::fs::File::open(dest)?.sync_all()?;
    Ok(())
}

/// Copies the attachment files (written once, never changed in place) after the database
/// snapshot, so every file the snapshot names is there; files uploaded later are extra.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
            std::fs::File::open(&target)?.sync_all()?;
        }
    }
    std::fs::File::open(to)?.sync_all()?;
    Ok(())
}
