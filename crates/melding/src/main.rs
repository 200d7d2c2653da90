//! `melding`: the command line of the Melding service.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{ArgGroup, Args, Parser, Subcommand};
use melding::config::{Given, LogFormat, Settings};
use melding::{App, SystemClock};
use melding_domain::{Clock, NationalId, OrgNumber, Party, ResourceType};
use melding_store::{Organization, Person, RegistryBatch, RegistryStore, Resource};
use tokio::sync::watch;

#[derive(Parser)]
#[command(
    name = "melding",
    version,
    about = "Melding: secure digital post, wire-compatible with Altinn 3 Correspondence API v1",
    after_help = "Example: a demo server with a sender, two recipients and ready-made tokens:\n  melding serve --demo\n\nEvery subcommand's --help shows its defaults and an example."
)]
struct Cli {
    /// On an error, print each cause on its own line and, with RUST_BACKTRACE=1, the backtrace
    /// (also with MELDING_LOG=debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API and the job runner until SIGTERM or Ctrl-C.
    #[command(after_help = "Example:\n  melding serve --demo --data-dir ./melding-data")]
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    #[command(
        after_help = "Example:\n  melding migrate --database-url postgres://melding@db.example.no/melding"
    )]
    Migrate(DataArgs),
    /// Print a development token that a server on the same data directory accepts.
    ///
    /// The token is signed with the development key in <data-dir>/keys, which `melding serve`
    /// creates the first time it starts. Run this with the server's --data-dir.
    #[command(
        after_help = "Example:\n  melding token --org 991825827 --scope \"altinn:correspondence.write altinn:serviceowner\""
    )]
    Token(TokenArgs),
    /// Manage the registries of organisations, persons and resources.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Copy a SQLite data directory (database and keys) to a new directory while Melding runs.
    #[command(after_help = "Example:\n  melding backup /var/backups/melding-2026-11-30")]
    Backup {
        /// The new directory to write, e.g. /backup/melding-2026-11-23.
        dest: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Look at background jobs and re-queue dead ones.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Look at notifications: who was (or was not) notified about a letter, and why.
    Notifications {
        #[command(subcommand)]
        command: NotificationsCommand,
    },
    /// Run the delivery chain in process on a simulated clock over a generated population, and
    /// print what became of the letters (outcomes, prints per day, notices, costs, broken
    /// promises). The summary is also written as JSON.
    #[command(
        after_help = "Example:\n  melding simulate --letters 100000 --days 120 --seed 1 --json simulation.json"
    )]
    Simulate {
        /// Letters to send, one per generated recipient.
        #[arg(long, default_value_t = 10_000)]
        letters: u32,
        /// Simulated days, from Monday 2 March 2026 08:00 Oslo.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// The letters go out at random times during the first this many days.
        #[arg(long, default_value_t = 14)]
        sending_days: u32,
        /// The seed: the same seed gives the same population and the same outcomes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the JSON summary.
        #[arg(long, default_value = "simulation.json")]
        json: PathBuf,
        /// Render printed letters with typst instead of a one-page stand-in (much slower).
        #[arg(long)]
        typst: bool,
    },
    /// Look at a letter's delivery chain (its receipt trail) and stop a pending print.
    Delivery {
        #[command(subcommand)]
        command: DeliveryCommand,
    },
}

#[derive(Subcommand)]
enum DeliveryCommand {
    /// Print a letter's receipt trail in SvarUt's vocabulary: how it was routed and why,
    /// notified, read, sent to a digital mailbox or to print, printed.
    #[command(
        after_help = "Example:\n  melding delivery show 0194c2a0-5c00-7000-8000-000000000002"
    )]
    Show {
        /// The letter's id (a correspondence id).
        letter: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the operator queue: letters that must go on paper but whose recipient's address is
    /// protected, oldest first. Handle each by other means, then `melding delivery stop` it.
    #[command(after_help = "Example:\n  melding delivery queue")]
    Queue {
        /// List at most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Stop a letter's pending print ("manually handled"), or take it out of the operator
    /// queue once handled. Refused once the letter was read, delivered to a digital mailbox or
    /// sent to print.
    #[command(
        after_help = "Example:\n  melding delivery stop 0194c2a0-5c00-7000-8000-000000000002 --operator kari --reason \"delivered by hand\""
    )]
    Stop {
        /// The letter's id (a correspondence id).
        letter: String,
        /// Who stops it, recorded in the trail.
        #[arg(long)]
        operator: String,
        /// Why, recorded in the trail.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum NotificationsCommand {
    /// Print a letter's notification orders (or a party's, newest first, with --party): the
    /// addresses the lookup considered and the rule it applied, and each notification's
    /// status, times and provider reference.
    #[command(
        after_help = "Example:\n  melding notifications show 0194c2a0-5c00-7000-8000-000000000002\n  melding notifications show --party urn:altinn:person:identifier-no:08089403198"
    )]
    Show {
        /// The letter's id (a correspondence id).
        #[arg(required_unless_present = "party", conflicts_with = "party")]
        letter: Option<String>,
        /// A recipient URN, e.g. urn:altinn:organization:identifier-no:310394955.
        #[arg(long)]
        party: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// List queued jobs, earliest due first (or the dead letters with --dead).
    #[command(after_help = "Example:\n  melding jobs list --dead")]
    List {
        /// Show jobs that used up their attempts instead of the queue.
        #[arg(long)]
        dead: bool,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Put a dead job back in the queue, due now, with its attempts reset.
    #[command(after_help = "Example:\n  melding jobs retry 42")]
    Retry {
        /// The dead job's id (from `melding jobs list --dead`).
        id: i64,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Insert or update organisations, persons, self-identified users, resources and roles from a
    /// JSON or CSV file.
    ///
    /// A file whose name ends in .csv is CSV: a header row naming the columns (any order;
    /// optional ones may be left out), one entry per line, several values in one cell separated
    /// by '|'. A CSV file holds one kind of entry, given by --kind or else read from the header
    /// (a `role` column means roles, `nationalId` persons, `orgNumber` organizations, `id`
    /// resources, `email` or `username` without those self-identified users). The columns:
    ///
    ///   persons:       nationalId, name, reserved, email, emailUpdated, emailVerified, mobile,
    ///                  mobileUpdated, mobileVerified, mailboxProvider, mailboxAddress,
    ///                  addressLines, postalCode, city, country
    ///   organizations: orgNumber, name, parent, notificationEmails, notificationMobiles,
    ///                  addressLines, postalCode, city, country
    ///   resources:     id, owner, serviceOwnerCode, title, confidential, readPolicy,
    ///                  resourceType, minimumAuthenticationLevel
    ///   roles:         orgNumber, nationalId, role
    ///   self-identified: name, email or username (exactly one per line)
    ///
    /// Any other file is JSON (see the README for its shape). Mobile numbers are stored in
    /// E.164: 8 digits starting with 4 or 9 get +47, 00 becomes +.
    ///
    /// The whole file is checked first; a bad entry is reported with its line and column (CSV)
    /// or its path (JSON) and nothing is written. A valid file is written in transactions of
    /// 10,000 entries. If the database fails midway, the transactions before stay written (the
    /// message says how many entries); every write is an upsert, so running the same import
    /// again completes it. An import adds roles and never removes one; it replaces everything
    /// else about an entry it lists (an organisation's contacts, which CSV has no column for,
    /// included).
    #[command(
        verbatim_doc_comment,
        after_help = "Example:\n  melding registry import registry.json"
    )]
    Import {
        /// The file: *.csv, or JSON (e.g. registry.json).
        file: PathBuf,
        /// The kind of entry in a CSV file [default: read from the header].
        #[arg(long, value_enum)]
        kind: Option<melding::registry_import::Kind>,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Args, Clone)]
struct DataArgs {
    #[command(flatten)]
    dirs: DirArgs,
    /// Use PostgreSQL at this URL (postgres://…) instead of SQLite in the data directory
    /// [default: SQLite in the data directory].
    #[arg(long, env = "MELDING_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

/// Where a command finds its files. The defaults are shown in the help text rather than given
/// to clap, so that a config file's `data_dir` still wins over the built-in default.
#[derive(Args, Clone)]
struct DirArgs {
    /// Directory holding the database and keys [default: ./melding-data].
    #[arg(long, env = "MELDING_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Config file, see melding.example.toml [default: none].
    #[arg(long, env = "MELDING_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "MELDING_LISTEN")]
    listen: Option<SocketAddr>,
    /// Serve Prometheus metrics (GET /metrics) on this address [default: off].
    #[arg(long, env = "MELDING_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    #[command(flatten)]
    data: DataArgs,
    /// Log as text or JSON lines [default: text].
    #[arg(long, env = "MELDING_LOG_FORMAT")]
    log_format: Option<LogFormat>,
    /// How long a claim on a background job lasts before another node may take it [default: 60].
    #[arg(long, env = "MELDING_JOB_LEASE_SECONDS")]
    job_lease_seconds: Option<u32>,
    /// How many background jobs a node runs at the same time [default: 8].
    #[arg(long, env = "MELDING_JOB_CONCURRENCY")]
    job_concurrency: Option<usize>,
    /// Browser origins allowed to read letters' content with CORS, comma-separated, e.g.
    /// https://af.altinn.no,https://*.altinn.no [default: none].
    #[arg(long, env = "MELDING_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Option<Vec<String>>,
    /// Seed a demo sender, resource and recipients and print ready-to-paste curl commands.
    #[arg(long)]
    demo: bool,
}

#[derive(Args)]
#[command(group(ArgGroup::new("party").required(true).args(["org", "person", "self_identified"])))]
struct TokenArgs {
    /// Token for this organisation (sender, or organisation recipient). Give --org, --person or
    /// --self-identified.
    #[arg(long)]
    org: Option<String>,
    /// Token for this person (national identity number).
    #[arg(long)]
    person: Option<String>,
    /// Token for this self-identified user, by their recipient URN:
    /// urn:altinn:person:idporten-email:<e-mail> or
    /// urn:altinn:person:legacy-selfidentified:<user name>. The token names the user in its
    /// `c` (party) claim.
    #[arg(long, value_name = "URN")]
    self_identified: Option<String>,
    /// Space-separated scopes, from: altinn:correspondence.write (send letters),
    /// altinn:serviceowner (with write: a service owner), altinn:correspondence.read (read
    /// letters as a recipient), melding:admin (manage any organisation's delegations).
    #[arg(long)]
    scope: String,
    /// Lifetime in minutes, at least 1.
    #[arg(
        long,
        default_value_t = 60,
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(i64).range(1..)
    )]
    minutes: i64,
    /// Create the development signing key if the data directory has none (no server has run
    /// there yet). A server started later on the same directory trusts it.
    #[arg(long)]
    init: bool,
    #[command(flatten)]
    dirs: DirArgs,
}

impl DirArgs {
    fn given(&self) -> Given {
        Given {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            ..Given::default()
        }
    }
}

impl DataArgs {
    fn given(&self) -> Given {
        Given {
            database_url: self.database_url.clone(),
            ..self.dirs.given()
        }
    }
}

impl ServeArgs {
    fn given(&self) -> Given {
        Given {
            listen: self.listen,
            metrics_listen: self.metrics_listen,
            log_format: self.log_format,
            job_lease_seconds: self.job_lease_seconds,
            job_concurrency: self.job_concurrency,
            cors_origins: self.cors_origins.clone(),
            ..self.data.given()
        }
    }
}

/// The settings of a command over the data directory (flags and environment, then the file,
/// then the defaults; see `melding::config`).
fn resolve(args: &DataArgs) -> anyhow::Result<Settings> {
    Settings::load(args.given())
}

/// Opens (creating and migrating) the store the settings name.
async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn melding_store::Store>> {
    melding::open_backend(&settings.data_dir, settings.database_url.as_deref()).await
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MELDING_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose > 0 || debug_logging();
    match run(cli.command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            report(&e, verbose);
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether `MELDING_LOG` asks for debug or trace output anywhere.
fn debug_logging() -> bool {
    std::env::var("MELDING_LOG").is_ok_and(|f| f.contains("debug") || f.contains("trace"))
}

/// Prints an error as one line, `error: what failed: why: the root cause`, with no backtrace
/// even when RUST_BACKTRACE is set. `verbose` (-v, or MELDING_LOG=debug) prints anyhow's full
/// report instead: every cause on its own line, and the backtrace when one was captured.
fn report(e: &anyhow::Error, verbose: bool) {
    if verbose {
        eprintln!("error: {e:?}");
    } else {
        eprintln!("error: {e:#}");
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => {
            init_logging(LogFormat::Text);
            let r = resolve(&args)?;
            open_store(&r).await?;
            match &r.database_url {
                Some(_) => println!("PostgreSQL schema is up to date"),
                None => println!("database in {} is up to date", r.data_dir.display()),
            }
            Ok(())
        }
        Command::Token(args) => token(args),
        Command::Jobs { command } => jobs(command).await,
        Command::Backup { dest, data } => {
            let r = resolve(&data)?;
            anyhow::ensure!(
                r.database_url.is_none(),
                "melding backup copies a SQLite data directory; back up PostgreSQL with pg_dump or pg_basebackup (see the README)"
            );
            melding::backup(&r.data_dir, &dest).await?;
            println!("backed up {} to {}", r.data_dir.display(), dest.display());
            Ok(())
        }
        Command::Notifications {
            command:
                NotificationsCommand::Show {
                    letter,
                    party,
                    data,
                },
        } => {
            let store = open_store(&resolve(&data)?).await?;
            let report = match (letter, party) {
                (Some(id), _) => {
                    let id: melding_domain::CorrespondenceId = id
                        .parse()
                        .map_err(|_| anyhow::anyhow!("{id:?} is not a correspondence id"))?;
                    melding::notifications_show::for_letter(store.as_ref(), id).await?
                }
                (None, Some(urn)) => {
                    melding::notifications_show::for_party(store.as_ref(), &urn).await?
                }
                (None, None) => anyhow::bail!("give a letter id or --party URN"),
            };
            print!("{report}");
            Ok(())
        }
        Command::Simulate {
            letters,
            days,
            sending_days,
            seed,
            json,
            typst,
        } => {
            anyhow::ensure!(letters >= 1, "--letters must be at least 1");
            anyhow::ensure!(days >= 1, "--days must be at least 1");
            let plan = melding::simulate::SimulationPlan {
                letters,
                days,
                sending_days,
                seed,
                typst,
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            let summary = melding::simulate::simulate(&plan).await?;
            print!("{}", melding::simulate::render_summary(&summary));
            melding::simulate::write_summary(&summary, &json)?;
            println!("Summary written to {}", json.display());
            anyhow::ensure!(
                summary.violations.total() == 0,
                "{} broken promises: see the summary",
                summary.violations.total()
            );
            Ok(())
        }
        Command::Delivery {
            command: DeliveryCommand::Show { letter, data },
        } => {
            let store = open_store(&resolve(&data)?).await?;
            let id = parse_letter_id(&letter)?;
            let trail = melding_core::delivery::receipt_trail(store.as_ref(), id).await?;
            anyhow::ensure!(!trail.is_empty(), "no letter {id}");
            for e in trail {
                println!(
                    "{}  {:<16}  {}",
                    e.at.to_rfc3339(),
                    e.status.as_str(),
                    e.text
                );
                if let Some(d) = e.details {
                    println!("{:>44}{d}", "");
                }
            }
            Ok(())
        }
        Command::Delivery {
            command: DeliveryCommand::Queue { limit, data },
        } => {
            let store = open_store(&resolve(&data)?).await?;
            let queue = store.awaiting_operator(limit).await?;
            if queue.is_empty() {
                println!("The operator queue is empty.");
            }
            for (id, e) in queue {
                println!("{id}  {}  {}", e.at.to_rfc3339(), e.text);
            }
            Ok(())
        }
        Command::Delivery {
            command:
                DeliveryCommand::Stop {
                    letter,
                    operator,
                    reason,
                    data,
                },
        } => {
            let store = open_store(&resolve(&data)?).await?;
            let id = parse_letter_id(&letter)?;
            let now = SystemClock.now();
            let stopped =
                melding_core::delivery::stop_print(store.as_ref(), now, id, &operator, &reason)
                    .await
                    .map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
            anyhow::ensure!(
                stopped,
                "{id} was not stopped: it was already read, delivered to a digital mailbox, sent to print or stopped"
            );
            println!("{id}: manually handled; it will not be printed");
            Ok(())
        }
        Command::Registry {
            command: RegistryCommand::Import { file, kind, data },
        } => {
            let r = resolve(&data)?;
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let started = std::time::Instant::now();
            let import = melding::registry_import::read(&file, kind, progress)?;
            let store = open_store(&r).await?;
            melding::registry_import::apply(&import, store.as_ref(), progress).await?;
            let b = &import.batch;
            println!(
                "imported {} organisations, {} persons, {} resources, {} roles from {} in {:.1} s",
                b.organizations.len(),
                b.persons.len(),
                b.resources.len(),
                b.roles.len(),
                file.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn jobs(command: JobsCommand) -> anyhow::Result<()> {
    match command {
        JobsCommand::List { dead, limit, data } => {
            let store = open_store(&resolve(&data)?).await?;
            let jobs = store.list_jobs(dead, limit).await?;
            if jobs.is_empty() {
                println!(
                    "{}",
                    if dead {
                        "no dead jobs"
                    } else {
                        "no queued jobs"
                    }
                );
            }
            for j in jobs {
                println!(
                    "{:>8}  {:<10} {}  attempts {}/{}  due {}{}",
                    j.id,
                    j.kind,
                    j.correspondence_id
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    j.attempts,
                    j.max_attempts,
                    j.run_at.to_rfc3339(),
                    j.last_error
                        .map(|e| format!("  last error: {e}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        JobsCommand::Retry { id, data } => {
            let store = open_store(&resolve(&data)?).await?;
            match store.retry_dead_job(id, SystemClock.now()).await? {
                Some(queued) => {
                    println!("dead job {id} is queued again as job {queued}, due now");
                    Ok(())
                }
                None => anyhow::bail!("there is no dead job {id} (see `melding jobs list --dead`)"),
            }
        }
    }
}

fn token(args: TokenArgs) -> anyhow::Result<()> {
    let data_dir = Settings::load(args.dirs.given())?.data_dir;
    let party = melding::dev_issuer::token_party(
        args.org.as_deref(),
        args.person.as_deref(),
        args.self_identified.as_deref(),
    )?;
    let scope = melding::dev_issuer::checked_scopes(&args.scope)?;
    let (issuer, created) = melding::dev_issuer::for_token(&data_dir, args.init)?;
    if created {
        eprintln!(
            "created a development signing key in {}; start the server with --data-dir {}",
            melding::dev_issuer::keys_dir(&data_dir).display(),
            data_dir.display()
        );
    }
    println!(
        "{}",
        issuer.mint(
            &party,
            &scope,
            chrono::Duration::minutes(args.minutes),
            SystemClock.now()
        )
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::load(args.given())?;
    let serve = settings.serve()?;
    init_logging(serve.log_format);
    let store = open_store(&settings).await?;
    let mut issuers = Vec::new();
    let dev = melding::dev_issuer::open(&settings.data_dir)?;
    if serve.dev_issuer {
        issuers.push(dev.trusted_issuer());
    }
    for cfg in &serve.issuers {
        issuers.push(cfg.load().await?);
    }
    if args.demo {
        seed_demo(store.as_ref()).await?;
    }
    let blobs = melding::open_blobs(&settings.data_dir, &serve.attachments).await?;
    let mut node = melding::Node::new(store, blobs, Arc::new(SystemClock), issuers);
    node.jobs = serve.jobs;
    if let Some(n) = serve.max_in_flight {
        node.max_in_flight = n;
    }
    node.cors_origins = serve.cors_origins;
    if let Some(days) = serve.min_expiration_days {
        node.min_expiration_days = days;
    }
    if let Some(scan) = serve.scanner {
        let clamd = melding_scan::ClamdScanner::new(scan.address, scan.timeout);
        match clamd.ping().await {
            Ok(()) => tracing::info!(clamd = %scan.clamd, "malware scanning with clamd"),
            // Uploads wait in UploadProcessing and their scan jobs retry until clamd answers.
            Err(e) => tracing::warn!(clamd = %scan.clamd, error = %e, "clamd does not answer yet"),
        }
        node.scanner = Some(Arc::new(clamd));
    }
    node.notification_channels = Some(melding::notification_channels(
        &settings.data_dir,
        &serve.notifications,
    )?);
    node.sms_reports = melding::sms_report_webhook(&serve.notifications);
    node.notification_settings = serve.notifications.settings.clone();
    node.forwarding = melding_core::ForwardingSettings {
        link_base_url: serve.public_url.clone(),
        ..serve.notifications.forwarding.clone()
    };
    node.delivery = serve.delivery.settings.clone();
    node.web = melding_web::WebSettings {
        demo_login: args.demo,
        secure_cookies: serve
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        oidc: serve.web.oidc.clone(),
    };
    node.sessions = serve.web.sessions;
    if args.demo {
        // The demo's chain resource is in the chain unless the config says otherwise.
        node.delivery
            .resources
            .entry(DEMO_CHAIN_RESOURCE.to_owned())
            .or_insert_with(melding_core::ChainPolicy::svarut);
    }
    node.delivery_channels = Some(melding::delivery_channels(
        &settings.data_dir,
        &serve.delivery,
        Arc::new(SystemClock),
    )?);
    let outbox = notification_outbox(&settings.data_dir, &serve.notifications);
    let app = App::new(node);
    let listener = melding::bind(serve.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %settings.data_dir.display(), "Melding is listening");
    if args.demo {
        print_demo(&dev, addr);
        println!("{outbox}");
        if matches!(
            serve.delivery.print,
            melding::config::PrintProviderSetting::Spool
        ) {
            println!(
                "# Printed letters of \"{DEMO_CHAIN_RESOURCE}\" go to {}",
                melding::print_spool_dir(&settings.data_dir).display()
            );
        }
    }
    let metrics = match serve.metrics_listen {
        Some(addr) => {
            let l = melding::bind(addr).await?;
            tracing::info!(addr = %l.local_addr()?, "metrics at /metrics");
            Some(l)
        }
        None => None,
    };
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = tx.send(true);
    });
    app.serve(listener, metrics, rx)
        .await
        .context("Melding stopped with an error")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

const DEMO_SENDER: &str = "991825827";
const DEMO_PERSON: &str = "08089403198";
const DEMO_ORG: &str = "974760673";
const DEMO_RESOURCE: &str = "melding-demo";
/// The demo's resource in the delivery chain: its letters are routed and, when nobody can read
/// them digitally, printed to `<data dir>/print`.
const DEMO_CHAIN_RESOURCE: &str = "melding-demo-svarut";

async fn seed_demo(store: &dyn RegistryStore) -> anyhow::Result<()> {
    let org = |n: &str| OrgNumber::parse(n).expect("valid demo org number");
    store
        .upsert_registry(&RegistryBatch {
            organizations: vec![
                Organization::new(org(DEMO_SENDER), "Digitaliseringsdirektoratet"),
                Organization::new(org(DEMO_ORG), "Brønnøysundregistrene"),
            ],
            persons: vec![Person {
                address: Some(melding_store::PostalAddress {
                    lines: vec!["Storgata 1".into()],
                    postal_code: "3110".into(),
                    city: "TØNSBERG".into(),
                    country: None,
                    protected: false,
                }),
                ..Person::new(
                    NationalId::parse(DEMO_PERSON).expect("valid demo person"),
                    "Ola Nordmann",
                )
            }],
            resources: [
                (DEMO_RESOURCE, "Melding demo"),
                (DEMO_CHAIN_RESOURCE, "Melding demo: SvarUt-kjeden"),
            ]
            .into_iter()
            .map(|(id, title)| Resource {
                id: id.into(),
                owner: org(DEMO_SENDER),
                service_owner_code: "digdir".into(),
                title: title.into(),
                confidential: false,
                read_policy: vec![],
                resource_type: ResourceType::CorrespondenceService,
                minimum_authentication_level: 0,
            })
            .collect(),
            // Ola is daglig leder of Brønnøysundregistrene, so the web inbox lets him read
            // its post too.
            roles: vec![melding_store::RoleAssignment {
                org: org(DEMO_ORG),
                person: NationalId::parse(DEMO_PERSON).expect("valid demo person"),
                role: "DAGL".into(),
            }],
            self_identified_users: vec![],
            // Seeded at every start: the contacts kept in the inbox outlive a restart.
            keep_contacts: [org(DEMO_SENDER), org(DEMO_ORG)].into(),
        })
        .await?;
    Ok(())
}

/// A correspondence id from the command line.
fn parse_letter_id(text: &str) -> anyhow::Result<melding_domain::CorrespondenceId> {
    text.parse()
        .map_err(|_| anyhow::anyhow!("{text:?} is not a correspondence id"))
}

/// Where notifications go, one line each, for the demo's printout.
fn notification_outbox(data_dir: &std::path::Path, cfg: &melding::config::Notifications) -> String {
    use melding::config::{EmailChannel, SmsChannel};
    let (email_dir, sms_dir) = melding::outbox_dirs(data_dir);
    let email = match &cfg.email {
        EmailChannel::Files => format!("files in {}", email_dir.display()),
        EmailChannel::Smtp(s) => format!("SMTP {}:{}", s.host, s.port),
    };
    let sms = match &cfg.sms {
        SmsChannel::Files => format!("files in {}", sms_dir.display()),
        SmsChannel::Gateway(g) => format!("gateway {}", g.url),
    };
    format!("# Notification e-mail goes to {email}\n# Notification SMS go to {sms}\n")
}

fn print_demo(dev: &melding_http::dev_issuer::DevIssuer, addr: SocketAddr) {
    let now = SystemClock.now();
    let ttl = chrono::Duration::hours(12);
    let sender = dev.mint(
        &Party::Organization(OrgNumber::parse(DEMO_SENDER).expect("valid")),
        "altinn:correspondence.write altinn:serviceowner",
        ttl,
        now,
    );
    let reader = dev.mint(
        &Party::Person(NationalId::parse(DEMO_PERSON).expect("valid")),
        "altinn:correspondence.read",
        ttl,
        now,
    );
    let base = format!("http://{addr}/correspondence/api/v1");
    println!(
        r#"
Melding demo is running at http://{addr}
Sender: Digitaliseringsdirektoratet ({DEMO_SENDER}), resource "{DEMO_RESOURCE}".
Recipients: Ola Nordmann ({DEMO_PERSON}) and Brønnøysundregistrene ({DEMO_ORG}).

Web inbox: http://{addr}/inbox (demo login: national identity number {DEMO_PERSON})

export SENDER_TOKEN={sender}
export READER_TOKEN={reader}

# Send a letter to Ola Nordmann:
curl -s -X POST {base}/correspondence -H "Authorization: Bearer $SENDER_TOKEN" -H 'Content-Type: application/json' \
  -d '{{"correspondence": {{"resourceId": "{DEMO_RESOURCE}", "sendersReference": "demo-1", "isConfirmationNeeded": true,
       "dueDateTime": "2099-01-01T00:00:00+00:00",
       "content": {{"language": "nb", "messageTitle": "Vedtak om byggesøknad", "messageBody": "Du har fått **innvilget** søknaden."}}}},
       "recipients": ["urn:altinn:person:identifier-no:{DEMO_PERSON}"]}}'

# The answer holds the letter's id; keep it (it is published within a second):
export ID=<correspondenceId from the answer>

# Ola lists his letters, opens one, marks it read and confirms it:
curl -s "{base}/correspondence?resourceId={DEMO_RESOURCE}&role=Recipient" -H "Authorization: Bearer $READER_TOKEN"
curl -s {base}/correspondence/$ID -H "Authorization: Bearer $READER_TOKEN"
curl -s -X POST {base}/correspondence/$ID/markasread -H "Authorization: Bearer $READER_TOKEN"
curl -s -X POST {base}/correspondence/$ID/confirm -H "Authorization: Bearer $READER_TOKEN"

# The sender follows the status history:
curl -s {base}/correspondence/$ID/details -H "Authorization: Bearer $SENDER_TOKEN"
"#
    );
}
