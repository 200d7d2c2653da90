//! Settings in one place: the documented defaults, then the config file, then `MELDING_*`
//! environment variables and command-line flags (clap reads both into [`Given`]), merged and
//! checked here. A bad value is refused before anything starts, with a [`SettingError`] that
//! names the setting as the operator writes it (file key, flag, environment variable).
//! `melding.example.toml` at the repository root is the commented reference.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use std::num::NonZeroU32;

use melding_core::NotificationSettings;
use melding_delivery::Secret;
use melding_delivery::email::{DkimAlgorithm, DkimSettings, SmtpConfig, SmtpCredentials, SmtpTls};
use melding_delivery::sms::{GatewayProtocol, HttpSmsGatewayConfig, ReportFormat, SmsSenderId};
use melding_domain::{EmailAddress, OrgNumber};
use melding_http::{CorsOrigins, TrustedIssuer};
use melding_jobs::RunnerConfig;
use melding_scan::ClamdAddress;
use serde::Deserialize;

/// The API's listen address when none is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The data directory when none is given, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./melding-data";

/// The config file's shape. Unknown keys are an error, so a typo never passes silently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    /// Where Prometheus scrapes `/metrics`; off when unset.
    pub metrics_listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL; unset for SQLite in the data directory.
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    /// How long a node's claim on a job lasts before another node may take it over.
    pub job_lease_seconds: Option<u32>,
    /// Background jobs a node runs at the same time.
    pub job_concurrency: Option<usize>,
    /// API requests served at once; more are answered 503 with `Retry-After: 1`.
    pub max_in_flight: Option<usize>,
    /// The address people reach this node's API at (`https://melding.example.no`), that links
    /// Melding sends out start with (the download links of forwarded letters). When unset:
    /// `http://<listen>` if `listen` is a specific address, else no links.
    pub public_url: Option<String>,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub attachments: AttachmentsConfig,
    /// Malware scanning of attachments; off when unset.
    pub scanner: Option<ScannerConfig>,
    #[serde(default)]
    pub notifications: NotificationsConfig,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    #[serde(default)]
    pub web: WebConfig,
}

/// The web inbox (`[web]`, issue 17): its sessions' timeouts and the OpenID Connect provider
/// people log in with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Minutes a session may go without a request before it ends; 30 by default.
    pub session_idle_minutes: Option<u32>,
    /// Hours after the login at which a session ends however busy; 8 by default.
    pub session_absolute_hours: Option<u32>,
    /// The login provider (`[web.oidc]`); without it only `serve --demo`'s development login
    /// exists.
    pub oidc: Option<OidcTable>,
}

/// `[web.oidc]`: an OpenID Connect provider compatible with ID-porten.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcTable {
    /// The provider's issuer URL, e.g. `https://idporten.no`.
    pub issuer: String,
    /// Melding's client id at the provider.
    pub client_id: String,
    /// A file holding the client secret (`client_secret_basic`), if the provider gave one.
    pub client_secret_file: Option<PathBuf>,
    /// The `acr_values` to ask for, e.g. `idporten-loa-substantial`.
    pub acr_values: Option<String>,
    /// Scopes besides `openid`; `["profile"]` by default.
    #[serde(default = "profile_scope")]
    pub scopes: Vec<String>,
}

fn profile_scope() -> Vec<String> {
    vec!["profile".to_owned()]
}

/// `[web]`, checked.
#[derive(Debug, Clone, Default)]
pub struct Web {
    /// The sessions' idle and absolute timeouts.
    pub sessions: melding_core::SessionSettings,
    /// The login provider, its redirect addresses made from `public_url`.
    pub oidc: Option<melding_web::OidcSettings>,
}

/// Checks `[web]`: timeouts of at least 1, and a provider only with a public address to
/// send the browser back to.
fn check_web(cfg: &WebConfig, public_url: Option<&str>) -> Result<Web, SettingError> {
    let mut sessions = melding_core::SessionSettings::default();
    if let Some(m) = cfg.session_idle_minutes {
        at_least_one("web.session_idle_minutes", "", m)?;
        sessions.idle = chrono::Duration::minutes(i64::from(m));
    }
    if let Some(h) = cfg.session_absolute_hours {
        at_least_one("web.session_absolute_hours", "", h)?;
        sessions.absolute = chrono::Duration::hours(i64::from(h));
    }
    let oidc = match &cfg.oidc {
        None => None,
        Some(o) => {
            let bad = |key: &str, problem: String| {
                SettingError::new(format!("web.oidc.{key}"), "", problem)
            };
            let issuer = reqwest::Url::parse(&o.issuer)
                .map_err(|e| bad("issuer", format!("{}: {e}", o.issuer)))?;
            if !matches!(issuer.scheme(), "http" | "https") {
                return Err(bad(
                    "issuer",
                    format!("{}: give an https:// address", o.issuer),
                ));
            }
            if o.client_id.trim().is_empty() {
                return Err(bad("client_id", "must not be empty".into()));
            }
            let Some(base) = public_url else {
                return Err(bad(
                    "issuer",
                    "a login provider needs public_url, the address the provider sends people back to".into(),
                ));
            };
            let client_secret = o
                .client_secret_file
                .as_ref()
                .map(|path| {
                    std::fs::read_to_string(path)
                        .map(|s| s.trim().to_owned())
                        .map_err(|e| {
                            bad(
                                "client_secret_file",
                                format!("cannot read {}: {e}", path.display()),
                            )
                        })
                })
                .transpose()?;
            Some(melding_web::OidcSettings {
                issuer: o.issuer.trim_end_matches('/').to_owned(),
                client_id: o.client_id.clone(),
                client_secret,
                redirect_url: format!("{base}/inbox/login/callback"),
                post_logout_redirect_url: format!("{base}/inbox/login"),
                acr_values: o.acr_values.clone(),
                scopes: o.scopes.clone(),
            })
        }
    };
    Ok(Web { sessions, oidc })
}

/// The delivery chain after publishing (`[delivery]`, `reference/delivery-chain.md` §3.3):
/// routing to digital mailboxes, print when unread. Off unless `chain = true`, for every
/// resource or per resource under `[delivery.resources.<id>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Route letters and print the unread ones (SvarUt's chain); `false` when unset: letters
    /// stay in the inbox, as in Altinn.
    pub chain: Option<bool>,
    /// Print an inbox letter still unread at its deadline; `true` when unset.
    pub print_fallback: Option<bool>,
    /// Never print (SvarUt's `kunDigitalLevering`); `false` when unset.
    pub digital_only: Option<bool>,
    /// When an unread letter is printed, counted from its first notice: `"2 business days"`
    /// (the default; any number) or `"40 business hours"` (svarut.no's reading).
    pub print_after: Option<String>,
    /// `spool` (default: `<data dir>/print`, a PDF and a manifest per letter, receipts read
    /// back from `receipts/`), `sftp` (a print house's server, `[delivery.sftp]`) or `none`
    /// (print decisions wait for a node that has a provider).
    #[serde(default)]
    pub print: PrintKind,
    /// `files` (Digipost and e-Boks letters written under `<data dir>/mailbox/<provider>`),
    /// `providers` (the real APIs of `[delivery.digipost]` and `[delivery.eboks]`, whichever
    /// are given) or `none` (the default: persons who chose a digital mailbox get the inbox).
    #[serde(default)]
    pub mailbox: MailboxKind,
    /// The print house's SFTP server, for `print = "sftp"`.
    pub sftp: Option<SftpTable>,
    /// Digipost's API, for `mailbox = "providers"`.
    pub digipost: Option<DigipostTable>,
    /// e-Boks's API, for `mailbox = "providers"`.
    pub eboks: Option<EboksTable>,
    /// Months after publication a letter's content and attachments are deleted (its receipt
    /// trail stays); 3 when unset.
    pub retention_months: Option<u32>,
    /// Seconds between asks for a print or mailbox receipt that has not come; 300 when unset.
    pub receipt_poll_seconds: Option<u32>,
    /// Per-resource overrides of `chain`, `print_fallback`, `digital_only` and `print_after`.
    #[serde(default)]
    pub resources: std::collections::BTreeMap<String, ResourceDeliveryConfig>,
}

/// `[delivery.resources.<id>]`: what differs for one resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDeliveryConfig {
    pub chain: Option<bool>,
    pub print_fallback: Option<bool>,
    pub digital_only: Option<bool>,
    pub print_after: Option<String>,
    pub retention_months: Option<u32>,
}

/// `[delivery] print`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PrintKind {
    /// A spool directory under `<data dir>/print`.
    #[default]
    Spool,
    /// A print house's SFTP server, `[delivery.sftp]`.
    Sftp,
    /// No print provider on this node.
    None,
}

/// `[delivery.sftp]`: the file form of `melding_delivery::print::SftpPrintConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftpTable {
    /// The server's host name.
    pub host: String,
    /// Its port; 22 when unset.
    #[serde(default = "ssh_port")]
    pub port: u16,
    /// The user to log in as.
    pub username: String,
    /// The private key file (OpenSSH or PEM; Ed25519, ECDSA or RSA).
    pub private_key_file: PathBuf,
    /// The key's passphrase, if it is encrypted.
    pub passphrase: Option<String>,
    /// A password, for servers that ask for one after (or instead of) the key.
    pub password: Option<String>,
    /// The server host keys accepted, as `SHA256:…` fingerprints (`ssh-keygen -lf`); at least
    /// one: there is no trust on first use.
    pub host_keys: Vec<String>,
    /// The remote directory letters are uploaded to; `upload` when unset.
    pub outbox_dir: Option<String>,
    /// The remote directory receipts are read from; `receipts` when unset.
    pub receipts_dir: Option<String>,
    /// Seconds connecting and one request may take; 30 when unset.
    pub timeout_seconds: Option<u64>,
}

fn ssh_port() -> u16 {
    22
}

/// `[delivery.digipost]`: the file form of `melding_delivery::mailbox::DigipostConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigipostTable {
    /// The API's base URL, e.g. `https://api.digipost.no`.
    pub base_url: String,
    /// The broker's Digipost account id (`X-Digipost-UserId`).
    pub broker_id: u64,
    /// The sender account the letters appear from; the broker's id when unset.
    pub sender_id: Option<u64>,
    /// The certificate's RSA private key, a PEM file.
    pub signing_key_file: PathBuf,
    /// Seconds one request may take; 30 when unset.
    pub timeout_seconds: Option<u64>,
}

/// `[delivery.eboks]`: the file form of `melding_delivery::mailbox::EboksConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EboksTable {
    /// The API's base URL.
    pub base_url: String,
    /// The bearer token.
    pub api_token: String,
    /// Seconds one request may take; 30 when unset.
    pub timeout_seconds: Option<u64>,
}

/// The print provider `[delivery] print` names, checked.
#[derive(Debug, Clone)]
pub enum PrintProviderSetting {
    /// The spool directory under `<data dir>/print`.
    Spool,
    /// A print house's SFTP server.
    Sftp(Box<melding_delivery::print::SftpPrintConfig>),
    /// None on this node.
    None,
}

/// The digital mailboxes `[delivery] mailbox` names, checked.
#[derive(Debug, Clone, Default)]
pub struct MailboxSettings {
    /// Development mailboxes writing files, for both providers.
    pub files: bool,
    /// Digipost's API.
    pub digipost: Option<melding_delivery::mailbox::DigipostConfig>,
    /// e-Boks's API.
    pub eboks: Option<melding_delivery::mailbox::EboksConfig>,
}

/// `[delivery] mailbox`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailboxKind {
    /// No digital mailbox adapters.
    #[default]
    None,
    /// Development mailboxes for Digipost and e-Boks writing files.
    Files,
    /// The real APIs of `[delivery.digipost]` and `[delivery.eboks]`.
    Providers,
}

/// The `[delivery]` table, checked.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The chain per resource and the calendar.
    pub settings: melding_core::DeliverySettings,
    /// The print provider.
    pub print: PrintProviderSetting,
    /// The digital mailbox adapters.
    pub mailbox: MailboxSettings,
}

/// Reads a secret file a `[delivery]` key names; the error names the key.
fn read_secret_file(key: &str, path: &Path) -> Result<Secret, SettingError> {
    std::fs::read_to_string(path).map(Secret::new).map_err(|e| {
        SettingError::new(
            format!("delivery.{key}"),
            "",
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

fn timeout(key: &str, seconds: Option<u64>) -> Result<std::time::Duration, SettingError> {
    let secs = seconds.unwrap_or(30);
    at_least_one(&format!("delivery.{key}"), "", secs)?;
    Ok(std::time::Duration::from_secs(secs))
}

/// Checks `print` and its table.
fn check_print(cfg: &DeliveryConfig) -> Result<PrintProviderSetting, SettingError> {
    use melding_delivery::print::{HostKeyFingerprint, SftpAuth, SftpPrintConfig};
    let bad =
        |key: &str, problem: String| SettingError::new(format!("delivery.{key}"), "", problem);
    Ok(match cfg.print {
        PrintKind::Spool => PrintProviderSetting::Spool,
        PrintKind::None => PrintProviderSetting::None,
        PrintKind::Sftp => {
            let t = cfg.sftp.as_ref().ok_or_else(|| {
                bad(
                    "print",
                    "print = \"sftp\" needs a [delivery.sftp] table".into(),
                )
            })?;
            let host_keys = t
                .host_keys
                .iter()
                .map(|k| {
                    HostKeyFingerprint::parse(k).map_err(|e| bad("sftp.host_keys", e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if host_keys.is_empty() {
                return Err(bad(
                    "sftp.host_keys",
                    "pin at least one SHA256 host key fingerprint (ssh-keygen -lf)".into(),
                ));
            }
            let auth = SftpAuth {
                private_key: read_secret_file("sftp.private_key_file", &t.private_key_file)?,
                passphrase: t.passphrase.clone().map(Secret::new),
                password: t.password.clone().map(Secret::new),
            };
            let mut sftp =
                SftpPrintConfig::new(t.host.clone(), t.port, t.username.clone(), auth, host_keys);
            if let Some(d) = &t.outbox_dir {
                sftp.outbox_dir = d.clone();
            }
            if let Some(d) = &t.receipts_dir {
                sftp.receipts_dir = d.clone();
            }
            sftp.timeout = timeout("sftp.timeout_seconds", t.timeout_seconds)?;
            PrintProviderSetting::Sftp(Box::new(sftp))
        }
    })
}

/// Checks `mailbox` and its tables.
fn check_mailbox(cfg: &DeliveryConfig) -> Result<MailboxSettings, SettingError> {
    use melding_delivery::mailbox::{DigipostConfig, EboksConfig};
    let bad =
        |key: &str, problem: String| SettingError::new(format!("delivery.{key}"), "", problem);
    Ok(match cfg.mailbox {
        MailboxKind::None => MailboxSettings::default(),
        MailboxKind::Files => MailboxSettings {
            files: true,
            ..MailboxSettings::default()
        },
        MailboxKind::Providers => {
            let digipost = cfg
                .digipost
                .as_ref()
                .map(|t| -> Result<_, SettingError> {
                    Ok(DigipostConfig {
                        base_url: t.base_url.clone(),
                        broker_id: t.broker_id,
                        sender_id: t.sender_id.unwrap_or(t.broker_id),
                        signing_key_pem: read_secret_file(
                            "digipost.signing_key_file",
                            &t.signing_key_file,
                        )?,
                        timeout: timeout("digipost.timeout_seconds", t.timeout_seconds)?,
                    })
                })
                .transpose()?;
            let eboks = cfg
                .eboks
                .as_ref()
                .map(|t| -> Result<_, SettingError> {
                    Ok(EboksConfig {
                        base_url: t.base_url.clone(),
                        api_token: Secret::new(t.api_token.clone()),
                        callback_secret: None,
                        timeout: timeout("eboks.timeout_seconds", t.timeout_seconds)?,
                    })
                })
                .transpose()?;
            if digipost.is_none() && eboks.is_none() {
                return Err(bad(
                    "mailbox",
                    "mailbox = \"providers\" needs a [delivery.digipost] or [delivery.eboks] table"
                        .into(),
                ));
            }
            MailboxSettings {
                files: false,
                digipost,
                eboks,
            }
        }
    })
}

/// Reads `"2 business days"` or `"40 business hours"` (also singular, any case).
fn print_after(text: &str) -> Result<melding_domain::PrintDeadlineRule, String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let unit = match words.as_slice() {
        [n, b, u] if b == "business" => Some((n, u.trim_end_matches('s'))),
        _ => None,
    };
    let Some((n, unit)) = unit else {
        return Err(format!(
            "expected \"<n> business days\" or \"<n> business hours\", not {text:?}"
        ));
    };
    let n: u32 = n
        .parse()
        .map_err(|_| format!("{n:?} is not a whole number"))?;
    if n > 1000 {
        return Err(format!("{n} is more than 1000"));
    }
    match unit {
        "day" => Ok(melding_domain::PrintDeadlineRule::BusinessDays(n)),
        "hour" => Ok(melding_domain::PrintDeadlineRule::BusinessHours(n)),
        _ => Err(format!(
            "expected \"<n> business days\" or \"<n> business hours\", not {text:?}"
        )),
    }
}

/// Checks the `[delivery]` table; each problem names its key.
fn check_delivery(cfg: &DeliveryConfig) -> Result<Delivery, SettingError> {
    let bad =
        |key: &str, problem: String| SettingError::new(format!("delivery.{key}"), "", problem);
    let base = melding_core::ChainPolicy::svarut();
    let policy = |key: &str,
                  chain: Option<bool>,
                  fallback: Option<bool>,
                  digital_only: Option<bool>,
                  after: Option<&str>,
                  months: Option<u32>,
                  inherit: &melding_core::ChainPolicy|
     -> Result<melding_core::ChainPolicy, SettingError> {
        Ok(melding_core::ChainPolicy {
            enabled: chain.unwrap_or(inherit.enabled),
            print_fallback: fallback.unwrap_or(inherit.print_fallback),
            digital_only: digital_only.unwrap_or(inherit.digital_only),
            print_deadline: match after {
                Some(text) => {
                    print_after(text).map_err(|e| bad(&format!("{key}print_after"), e))?
                }
                None => inherit.print_deadline,
            },
            retention: match months {
                Some(m) => melding_domain::RetentionPeriod::from_months(m)
                    .map_err(|e| bad(&format!("{key}retention_months"), e.to_string()))?,
                None => inherit.retention,
            },
        })
    };
    let inherit = melding_core::ChainPolicy {
        enabled: false,
        ..base
    };
    let default = policy(
        "",
        cfg.chain,
        cfg.print_fallback,
        cfg.digital_only,
        cfg.print_after.as_deref(),
        cfg.retention_months,
        &inherit,
    )?;
    let mut resources = std::collections::HashMap::new();
    for (id, r) in &cfg.resources {
        let p = policy(
            &format!("resources.{id}."),
            r.chain,
            r.print_fallback,
            r.digital_only,
            r.print_after.as_deref(),
            r.retention_months,
            &default,
        )?;
        resources.insert(id.clone(), p);
    }
    let receipt_poll_seconds = cfg.receipt_poll_seconds.unwrap_or(300);
    if receipt_poll_seconds == 0 {
        return Err(bad(
            "receipt_poll_seconds",
            "must be at least 1, not 0".into(),
        ));
    }
    Ok(Delivery {
        settings: melding_core::DeliverySettings {
            default,
            resources,
            receipt_poll_seconds,
            ..melding_core::DeliverySettings::default()
        },
        print: check_print(cfg)?,
        mailbox: check_mailbox(cfg)?,
    })
}

/// How notifications leave the node (`[notifications]`): e-mail as files or over SMTP, SMS as
/// files or through an HTTP gateway (`reference/delivery-chain.md` §7). Files by default, under
/// `<data dir>/outbox/{email,sms}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// `files` (default) or `smtp` (then `[notifications.smtp]`).
    #[serde(default)]
    pub email: EmailChannelKind,
    /// `files` (default) or `gateway` (then `[notifications.gateway]`).
    #[serde(default)]
    pub sms: SmsChannelKind,
    /// The address notification e-mail is sent from; [`DEFAULT_NOTIFICATION_FROM`] when unset.
    pub from: Option<String>,
    /// The name shown with it, e.g. `Altinn`.
    pub from_name: Option<String>,
    /// The SMS sender id: up to 11 letters and digits, or 3–15 digits; [`DEFAULT_SMS_SENDER`]
    /// when unset.
    pub sms_sender: Option<String>,
    /// The most e-mails this node sends a second; unlimited when unset.
    pub email_per_second: Option<u32>,
    /// The most SMS this node sends a second; unlimited when unset.
    pub sms_per_second: Option<u32>,
    /// The most bytes of attachments a forwarded letter's e-mail carries as files (reference
    /// §4.12); the rest are listed by name. 10 000 000 (10 MB) when unset.
    pub forward_attachments_max_bytes: Option<u64>,
    /// How long the download links for attachments beyond `forward_attachments_max_bytes` work,
    /// as a duration like `"7d"`; 7 days when unset. Links need `public_url`.
    pub forward_link_lifetime: Option<String>,
    /// The SMTP server, for `email = "smtp"`.
    pub smtp: Option<SmtpTable>,
    /// The SMS gateway, for `sms = "gateway"`.
    pub gateway: Option<GatewayTable>,
    /// Credentials the SMS gateway posts delivery reports with (HTTP Basic); reports are
    /// refused (401) when unset.
    pub delivery_reports: Option<DeliveryReportsTable>,
    /// How long after the main notice an unread letter's reminder goes out, as a duration like
    /// `"7d"`, `"24h"` or `"1day 12h"` (the humantime format); 7 days when unset (reference §8.3;
    /// Altinn's test environments use 1 day).
    pub reminder_delay: Option<String>,
    /// How long after its publish time an unopened confidential letter to an organisation gets
    /// its reminder e-mail and is listed by `GET /correspondence/api/v1/confidential-reminders`,
    /// in the same format; 7 days when unset (reference §8.5; Altinn's test environments use
    /// 1 minute).
    pub confidential_reminder_delay: Option<String>,
    /// Senders (organisation numbers) whose notices may use KRR addresses that were not
    /// confirmed for more than 18 months, like the tax authority (`delivery-chain.md` §1.4);
    /// none by default.
    #[serde(default)]
    pub use_stale_contacts_for: Vec<String>,
}

/// `[notifications] email`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EmailChannelKind {
    /// One `.eml` file per message under `<data dir>/outbox/email`.
    #[default]
    Files,
    /// An SMTP server, `[notifications.smtp]`.
    Smtp,
}

/// `[notifications] sms`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmsChannelKind {
    /// One file per message under `<data dir>/outbox/sms`.
    #[default]
    Files,
    /// An HTTP SMS gateway, `[notifications.gateway]`.
    Gateway,
}

/// `[notifications.smtp]`: the file form of `melding_delivery::email::SmtpConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpTable {
    /// The server's host name.
    pub host: String,
    /// 587 for STARTTLS (the default), 465 for implicit TLS, 25 for a local relay.
    #[serde(default = "smtp_port")]
    pub port: u16,
    /// `starttls` (default), `implicit` or `none`.
    #[serde(default = "starttls")]
    pub tls: String,
    /// SMTP AUTH user name (give both or neither).
    pub username: Option<String>,
    /// SMTP AUTH password.
    pub password: Option<String>,
    /// A PEM file with one more CA to trust.
    pub extra_root_certificate: Option<PathBuf>,
    /// The domain of generated `Message-ID`s; the host when unset.
    pub message_id_domain: Option<String>,
    /// Seconds one SMTP command may take (default 30).
    pub timeout_seconds: Option<u64>,
    /// DKIM signing, when set.
    pub dkim: Option<DkimTable>,
}

fn smtp_port() -> u16 {
    587
}

fn starttls() -> String {
    "starttls".into()
}

/// `[notifications.smtp.dkim]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimTable {
    /// The selector (`s=`).
    pub selector: String,
    /// The signing domain (`d=`).
    pub domain: String,
    /// The private key file (see `melding_delivery::email::DkimSettings::key_file`).
    pub key_file: PathBuf,
    /// `rsa` (default) or `ed25519`.
    #[serde(default = "rsa")]
    pub algorithm: String,
}

fn rsa() -> String {
    "rsa".into()
}

/// `[notifications.gateway]`: the file form of `melding_delivery::sms::HttpSmsGatewayConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayTable {
    /// Where messages are POSTed.
    pub url: String,
    /// `generic` (default, Melding's JSON) or `pswin` (LINK Mobility's XML).
    #[serde(default = "generic")]
    pub protocol: String,
    /// `generic`: sent as a bearer token when set.
    pub bearer_token: Option<String>,
    /// `pswin`: the account name.
    pub client: Option<String>,
    /// `pswin`: the account password.
    pub password: Option<String>,
    /// Seconds one request may take (default 30).
    pub timeout_seconds: Option<u64>,
}

fn generic() -> String {
    "generic".into()
}

/// `[notifications.delivery_reports]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryReportsTable {
    /// The Basic-auth user name.
    pub username: String,
    /// The Basic-auth password.
    pub password: String,
}

/// The sender address of notification e-mail when `notifications.from` is unset.
pub const DEFAULT_NOTIFICATION_FROM: &str = "ikke-svar@melding.local";
/// The SMS sender id when `notifications.sms_sender` is unset.
pub const DEFAULT_SMS_SENDER: &str = "Melding";

/// Where e-mail goes, checked.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // read once at start-up; boxing buys nothing
pub enum EmailChannel {
    /// Files under `<data dir>/outbox/email`.
    Files,
    /// SMTP.
    Smtp(SmtpConfig),
}

/// Where SMS go, checked.
#[derive(Debug, Clone)]
pub enum SmsChannel {
    /// Files under `<data dir>/outbox/sms`.
    Files,
    /// An HTTP gateway.
    Gateway(HttpSmsGatewayConfig),
}

/// The `[notifications]` table, checked.
#[derive(Debug, Clone)]
pub struct Notifications {
    /// Where e-mail goes: files (default) or SMTP.
    pub email: EmailChannel,
    /// Where SMS go: files (default) or an HTTP gateway.
    pub sms: SmsChannel,
    /// The From address of notification e-mail.
    pub from: EmailAddress,
    /// The name shown with it.
    pub from_name: Option<String>,
    /// The sender id on the handset.
    pub sms_sender: SmsSenderId,
    /// At most this many e-mails a second from this node; unlimited when `None`.
    pub email_per_second: Option<NonZeroU32>,
    /// At most this many SMS a second from this node; unlimited when `None`.
    pub sms_per_second: Option<NonZeroU32>,
    /// The delivery-report webhook's Basic-auth user and password.
    pub delivery_reports: Option<(String, Secret)>,
    /// The reminder delays and the senders that may use stale KRR addresses.
    pub settings: NotificationSettings,
    /// How forwarded letters' e-mails are composed (`forward_attachments_max_bytes`).
    pub forwarding: melding_core::ForwardingSettings,
}

impl Notifications {
    /// The format the SMS gateway posts delivery reports in: PSWin XML for `pswin`, else
    /// generic JSON.
    pub fn report_format(&self) -> ReportFormat {
        match &self.sms {
            SmsChannel::Gateway(g) => g.protocol.report_format(),
            SmsChannel::Files => ReportFormat::GenericJson,
        }
    }
}

/// Checks the `[notifications]` table; each problem names its key.
fn check_notifications(cfg: &NotificationsConfig) -> Result<Notifications, SettingError> {
    let bad =
        |key: &str, problem: String| SettingError::new(format!("notifications.{key}"), "", problem);
    let from = EmailAddress::parse(cfg.from.as_deref().unwrap_or(DEFAULT_NOTIFICATION_FROM))
        .map_err(|e| bad("from", e.to_string()))?;
    let sms_sender = SmsSenderId::parse(cfg.sms_sender.as_deref().unwrap_or(DEFAULT_SMS_SENDER))
        .map_err(|_| {
            bad(
                "sms_sender",
                "up to 11 letters, digits and spaces, or 3 to 15 digits".into(),
            )
        })?;
    let rate = |key: &str, v: Option<u32>| -> Result<Option<NonZeroU32>, SettingError> {
        v.map(|n| NonZeroU32::new(n).ok_or_else(|| bad(key, "must be at least 1, not 0".into())))
            .transpose()
    };
    let email = match cfg.email {
        EmailChannelKind::Files => EmailChannel::Files,
        EmailChannelKind::Smtp => {
            let t = cfg.smtp.as_ref().ok_or_else(|| {
                bad(
                    "email",
                    "email = \"smtp\" needs a [notifications.smtp] table".into(),
                )
            })?;
            let tls = match t.tls.to_ascii_lowercase().as_str() {
                "starttls" => SmtpTls::StartTls,
                "implicit" => SmtpTls::Implicit,
                "none" => SmtpTls::None,
                other => {
                    return Err(bad(
                        "smtp.tls",
                        format!("expected starttls, implicit or none, not {other:?}"),
                    ));
                }
            };
            let mut smtp = SmtpConfig::new(t.host.clone(), t.port, tls);
            smtp.extra_root_certificate = t.extra_root_certificate.clone();
            if let Some(d) = &t.message_id_domain {
                smtp.message_id_domain = d.clone();
            }
            if let Some(secs) = t.timeout_seconds {
                at_least_one("notifications.smtp.timeout_seconds", "", secs)?;
                smtp.timeout = std::time::Duration::from_secs(secs);
            }
            smtp.credentials = match (&t.username, &t.password) {
                (Some(u), Some(p)) => Some(SmtpCredentials {
                    username: u.clone(),
                    password: Secret::new(p.clone()),
                }),
                (None, None) => None,
                _ => {
                    return Err(bad(
                        "smtp.username",
                        "give both username and password, or neither".into(),
                    ));
                }
            };
            smtp.dkim = t
                .dkim
                .as_ref()
                .map(|d| {
                    let algorithm = match d.algorithm.to_ascii_lowercase().as_str() {
                        "rsa" => DkimAlgorithm::Rsa,
                        "ed25519" => DkimAlgorithm::Ed25519,
                        other => {
                            return Err(bad(
                                "smtp.dkim.algorithm",
                                format!("expected rsa or ed25519, not {other:?}"),
                            ));
                        }
                    };
                    Ok(DkimSettings {
                        selector: d.selector.clone(),
                        domain: d.domain.clone(),
                        key_file: d.key_file.clone(),
                        algorithm,
                    })
                })
                .transpose()?;
            EmailChannel::Smtp(smtp)
        }
    };
    let sms = match cfg.sms {
        SmsChannelKind::Files => SmsChannel::Files,
        SmsChannelKind::Gateway => {
            let t = cfg.gateway.as_ref().ok_or_else(|| {
                bad(
                    "sms",
                    "sms = \"gateway\" needs a [notifications.gateway] table".into(),
                )
            })?;
            if !(t.url.starts_with("http://") || t.url.starts_with("https://")) {
                return Err(bad(
                    "gateway.url",
                    format!("expected an http(s) URL, not {:?}", t.url),
                ));
            }
            let protocol = match t.protocol.to_ascii_lowercase().as_str() {
                "generic" => GatewayProtocol::GenericJson {
                    bearer_token: t.bearer_token.clone().map(Secret::new),
                },
                "pswin" => match (&t.client, &t.password) {
                    (Some(c), Some(p)) => GatewayProtocol::LinkPswinXml {
                        client: c.clone(),
                        password: Secret::new(p.clone()),
                    },
                    _ => {
                        return Err(bad(
                            "gateway.client",
                            "protocol = \"pswin\" needs client and password".into(),
                        ));
                    }
                },
                other => {
                    return Err(bad(
                        "gateway.protocol",
                        format!("expected generic or pswin, not {other:?}"),
                    ));
                }
            };
            let timeout = t.timeout_seconds.unwrap_or(30);
            at_least_one("notifications.gateway.timeout_seconds", "", timeout)?;
            SmsChannel::Gateway(HttpSmsGatewayConfig {
                url: t.url.clone(),
                protocol,
                timeout: std::time::Duration::from_secs(timeout),
            })
        }
    };
    let delivery_reports = match &cfg.delivery_reports {
        Some(d) if d.username.is_empty() || d.password.is_empty() => {
            return Err(bad(
                "delivery_reports.password",
                "give a non-empty username and password".into(),
            ));
        }
        Some(d) => Some((d.username.clone(), Secret::new(d.password.clone()))),
        None => None,
    };
    let delay = |key: &str, v: Option<&str>, default: chrono::Duration| match v {
        None => Ok(default),
        Some(text) => humantime::parse_duration(text)
            .map_err(|e| e.to_string())
            .and_then(|d| chrono::Duration::from_std(d).map_err(|e| e.to_string()))
            .map_err(|e| {
                bad(
                    key,
                    format!("{e}; write a duration such as \"7d\" or \"1m\""),
                )
            }),
    };
    let defaults = NotificationSettings::default();
    let settings = NotificationSettings {
        reminder_delay: delay(
            "reminder_delay",
            cfg.reminder_delay.as_deref(),
            defaults.reminder_delay,
        )?,
        confidential_reminder_delay: delay(
            "confidential_reminder_delay",
            cfg.confidential_reminder_delay.as_deref(),
            defaults.confidential_reminder_delay,
        )?,
        use_stale_contacts_for: cfg
            .use_stale_contacts_for
            .iter()
            .map(|n| {
                OrgNumber::parse(n).map_err(|e| bad("use_stale_contacts_for", format!("{n}: {e}")))
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Notifications {
        email,
        sms,
        from,
        from_name: cfg.from_name.clone(),
        sms_sender,
        email_per_second: rate("email_per_second", cfg.email_per_second)?,
        sms_per_second: rate("sms_per_second", cfg.sms_per_second)?,
        delivery_reports,
        settings,
        forwarding: {
            let defaults = melding_core::ForwardingSettings::default();
            melding_core::ForwardingSettings {
                attach_max: cfg
                    .forward_attachments_max_bytes
                    .map_or(defaults.attach_max, melding_domain::ByteSize::bytes),
                link_lifetime: delay(
                    "forward_link_lifetime",
                    cfg.forward_link_lifetime.as_deref(),
                    defaults.link_lifetime,
                )?,
                // The node's public address is a serve setting ([`ServeSettings::public_url`]).
                link_base_url: None,
            }
        },
    })
}

/// How the API answers browsers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Browser origins (`https://af.altinn.no`, or `https://*.altinn.no` for sub-domains) allowed
    /// to read a letter's content (`GET …/correspondence/{id}/content`) with CORS, as Altinn's
    /// inbox does (reference §0). None by default.
    #[serde(default)]
    pub cors_origins: Vec<String>,
}

/// Where attachment bytes are kept, and their rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsConfig {
    #[serde(default)]
    pub storage: Storage,
    /// The shortest `expirationInDays` accepted (Altinn: 14 in production, 1 in test).
    pub min_expiration_days: Option<i32>,
    pub s3: Option<melding_blob::S3Config>,
    pub azure: Option<melding_blob::AzureConfig>,
}

/// Which attachment storage `[attachments] storage` names.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// Files under `<data-dir>/attachments`.
    #[default]
    Local,
    /// An S3 bucket, configured in `[attachments.s3]`.
    S3,
    /// An Azure Blob container, configured in `[attachments.azure]`.
    Azure,
}

/// A clamd to scan every uploaded attachment before it is published.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    /// `tcp://host:port`, `host:port`, `unix:///path` or an absolute socket path.
    pub clamd: String,
    /// Limit on one scan, connect included.
    #[serde(default = "scan_timeout")]
    pub timeout_seconds: u64,
}

fn scan_timeout() -> u64 {
    300
}

/// How log lines are written: `text` for people, `json` (one object a line) for collectors.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// Which token issuers a server trusts (`[auth]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Trust tokens minted by `melding token` with this data directory's key.
    #[serde(default = "yes")]
    pub dev_issuer: bool,
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            dev_issuer: true,
            issuers: vec![],
        }
    }
}

fn yes() -> bool {
    true
}

/// A trusted token issuer: its `iss`, the `aud` tokens must carry, the algorithms allowed, and
/// where its public keys are (a JWKS file or URL).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    pub issuer: String,
    pub audience: String,
    pub algorithms: Vec<String>,
    pub jwks_file: Option<PathBuf>,
    pub jwks_url: Option<String>,
}

impl FileConfig {
    /// Reads the config file at `path`; no path is an empty file (every setting at its default).
    ///
    /// Errors: the file cannot be read (`reading config file …`), or is not TOML of this shape —
    /// an unknown key or a value of the wrong type, named by TOML's message (`in config file …`).
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in config file {}", path.display()))
    }
}

impl IssuerConfig {
    /// The pinned algorithms, each one `jsonwebtoken` knows.
    ///
    /// Errors: an empty list, or a name that is no JWS algorithm (`unknown algorithm NOPE`).
    pub fn parsed_algorithms(&self) -> Result<Vec<Algorithm>, String> {
        let algorithms = self
            .algorithms
            .iter()
            .map(|a| Algorithm::from_str(a).map_err(|_| format!("unknown algorithm {a}")))
            .collect::<Result<Vec<_>, _>>()?;
        if algorithms.is_empty() {
            return Err("list at least one algorithm".into());
        }
        Ok(algorithms)
    }

    /// Checks that exactly one of `jwks_file` and `jwks_url` is given.
    pub fn check_keys(&self) -> Result<(), String> {
        match (&self.jwks_file, &self.jwks_url) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err("give exactly one of jwks_file and jwks_url".into()),
        }
    }

    /// Loads the issuer's keys from its JWKS file or URL (10 s limit on fetching).
    ///
    /// Errors: the checks of [`Self::parsed_algorithms`] and [`Self::check_keys`], then a JWKS
    /// that cannot be read, fetched (`fetching JWKS …`) or parsed; each names the issuer or
    /// the file or URL.
    pub async fn load(&self) -> anyhow::Result<TrustedIssuer> {
        let algorithms = self
            .parsed_algorithms()
            .map_err(|e| anyhow::anyhow!("issuer {}: {e}", self.issuer))?;
        self.check_keys()
            .map_err(|e| anyhow::anyhow!("issuer {}: {e}", self.issuer))?;
        let keys: JwkSet = match (&self.jwks_file, &self.jwks_url) {
            (Some(file), _) => serde_json::from_slice(
                &std::fs::read(file).with_context(|| format!("reading {}", file.display()))?,
            )
            .with_context(|| format!("parsing JWKS {}", file.display()))?,
            (None, Some(url)) => reqwest::Client::new()
                .get(url)
                .timeout(std::time::Duration::from_secs(10))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .with_context(|| format!("fetching JWKS {url}"))?
                .json()
                .await
                .with_context(|| format!("parsing JWKS {url}"))?,
            (None, None) => bail!("issuer {}: give jwks_file or jwks_url", self.issuer),
        };
        Ok(TrustedIssuer {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            algorithms,
            keys,
        })
    }
}

/// What the command line gave: flags, or the `MELDING_*` variables clap reads for them. `None`
/// where neither was given, so the config file or the default applies.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// `--config` / `MELDING_CONFIG`.
    pub config: Option<PathBuf>,
    /// `--data-dir` / `MELDING_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url` / `MELDING_DATABASE_URL`.
    pub database_url: Option<String>,
    /// `serve --listen` / `MELDING_LISTEN`.
    pub listen: Option<SocketAddr>,
    /// `serve --metrics-listen` / `MELDING_METRICS_LISTEN`.
    pub metrics_listen: Option<SocketAddr>,
    /// `serve --log-format` / `MELDING_LOG_FORMAT`.
    pub log_format: Option<LogFormat>,
    /// `serve --job-lease-seconds` / `MELDING_JOB_LEASE_SECONDS`.
    pub job_lease_seconds: Option<u32>,
    /// `serve --job-concurrency` / `MELDING_JOB_CONCURRENCY`.
    pub job_concurrency: Option<usize>,
    /// `serve --cors-origins` / `MELDING_CORS_ORIGINS` (comma-separated).
    pub cors_origins: Option<Vec<String>>,
}

/// A setting whose value is refused, named as the operator writes it: its config-file key
/// (`job_lease_seconds`, `auth.issuers[0].algorithms`) and, when it has them, its flag and
/// environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    /// The config-file key, with its table: `attachments.min_expiration_days`.
    pub setting: String,
    /// The other ways to give it, e.g. `--job-lease-seconds, MELDING_JOB_LEASE_SECONDS`; empty
    /// for file-only settings.
    pub also: &'static str,
    /// What is wrong with the value.
    pub problem: String,
}

impl SettingError {
    fn new(setting: impl Into<String>, also: &'static str, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            also,
            problem: problem.into(),
        }
    }
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "setting {}", self.setting)?;
        if !self.also.is_empty() {
            write!(f, " ({})", self.also)?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for SettingError {}

/// What every command reads: the config file, the data directory and the database.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file as read (empty when none was given).
    pub file: FileConfig,
    /// What the command line gave.
    pub given: Given,
    /// Flag or environment, then the file, then [`DEFAULT_DATA_DIR`].
    pub data_dir: PathBuf,
    /// A `postgres://` or `postgresql://` URL; `None` for SQLite in the data directory (an
    /// empty URL counts as none).
    pub database_url: Option<String>,
}

/// What `melding serve` runs with, on top of [`Settings`]: every value checked.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// The API's address: flag or environment, then the file, then [`DEFAULT_LISTEN`].
    pub listen: SocketAddr,
    /// Where `/metrics` is served; `None`: off.
    pub metrics_listen: Option<SocketAddr>,
    /// Text or JSON lines; text by default.
    pub log_format: LogFormat,
    /// The job runner's lease and concurrency as given, the rest at their defaults.
    pub jobs: RunnerConfig,
    /// API requests served at once; `None`: `melding_http::DEFAULT_MAX_IN_FLIGHT`.
    pub max_in_flight: Option<usize>,
    /// Browser origins allowed to read a letter's content; none by default.
    pub cors_origins: CorsOrigins,
    /// The shortest `expirationInDays` accepted, in days; `None`: Altinn's production 14.
    pub min_expiration_days: Option<i32>,
    /// Attachment storage, with the table its `storage` names present.
    pub attachments: AttachmentsConfig,
    /// The clamd that scans uploads; `None`: no scanning.
    pub scanner: Option<Scanner>,
    /// Trust the data directory's development issuer (`[auth] dev_issuer`).
    pub dev_issuer: bool,
    /// The configured issuers, their algorithms and key sources checked; their keys are loaded
    /// at start with [`IssuerConfig::load`].
    pub issuers: Vec<IssuerConfig>,
    /// How notifications are sent (`[notifications]`); file drops by default.
    pub notifications: Notifications,
    /// The delivery chain (`[delivery]`); off by default.
    pub delivery: Delivery,
    /// The address links Melding sends out start with, without a trailing slash: `public_url`,
    /// else `http://<listen>` when `listen` is a specific address; `None`: no links.
    pub public_url: Option<String>,
    /// The web inbox's sessions and login provider (`[web]`).
    pub web: Web,
}

/// The `[scanner]` table, checked.
#[derive(Debug, Clone)]
pub struct Scanner {
    /// The address as written, for the log.
    pub clamd: String,
    /// The address, parsed.
    pub address: ClamdAddress,
    /// Limit on one scan, connect included.
    pub timeout: std::time::Duration,
}

const ALSO_DATABASE_URL: &str = "--database-url, MELDING_DATABASE_URL";
const ALSO_JOB_LEASE: &str = "--job-lease-seconds, MELDING_JOB_LEASE_SECONDS";
const ALSO_JOB_CONCURRENCY: &str = "--job-concurrency, MELDING_JOB_CONCURRENCY";
const ALSO_CORS: &str = "--cors-origins, MELDING_CORS_ORIGINS";

impl Settings {
    /// Reads the config file `given` names and merges it with `given`.
    ///
    /// Errors: those of [`FileConfig::load`], and a [`SettingError`] from [`Self::merge`].
    pub fn load(given: Given) -> anyhow::Result<Self> {
        let file = FileConfig::load(given.config.as_deref())?;
        Ok(Self::merge(file, given)?)
    }

    /// Merges `file` with `given` (the command line wins) and checks the database URL.
    ///
    /// Errors: `database_url` that is neither empty nor `postgres://…` / `postgresql://…`.
    pub fn merge(file: FileConfig, given: Given) -> Result<Self, SettingError> {
        let data_dir = given
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = given
            .database_url
            .clone()
            .or_else(|| file.database_url.clone())
            .filter(|url| !url.trim().is_empty());
        if let Some(url) = &database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(SettingError::new(
                "database_url",
                ALSO_DATABASE_URL,
                "unsupported database URL (expected postgres://…, or none for SQLite in the data directory)",
            ));
        }
        Ok(Self {
            file,
            given,
            data_dir,
            database_url,
        })
    }

    /// The settings of `melding serve`, each merged and checked.
    ///
    /// Errors: the first bad setting, in the order of `melding.example.toml`: a lease or a
    /// concurrency of 0, `max_in_flight` 0, a CORS origin that is not `scheme://host[:port]`,
    /// issuers with unknown or no algorithms or not exactly one JWKS source, attachment storage
    /// without its table, `min_expiration_days` below 1, a clamd address that does not parse.
    pub fn serve(&self) -> Result<ServeSettings, SettingError> {
        let (file, given) = (&self.file, &self.given);
        let listen = given
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid default address"));
        let mut jobs = RunnerConfig::default();
        if let Some(secs) = given.job_lease_seconds.or(file.job_lease_seconds) {
            at_least_one("job_lease_seconds", ALSO_JOB_LEASE, secs)?;
            jobs.lease = chrono::Duration::seconds(i64::from(secs));
        }
        if let Some(n) = given.job_concurrency.or(file.job_concurrency) {
            at_least_one("job_concurrency", ALSO_JOB_CONCURRENCY, n)?;
            jobs.concurrency = n;
        }
        if let Some(n) = file.max_in_flight {
            at_least_one("max_in_flight", "", n)?;
        }
        let origins = given
            .cors_origins
            .as_ref()
            .unwrap_or(&file.http.cors_origins);
        let cors_origins = CorsOrigins::parse(origins.as_slice())
            .map_err(|e| SettingError::new("http.cors_origins", ALSO_CORS, e.to_string()))?;
        for (i, issuer) in file.auth.issuers.iter().enumerate() {
            let setting = |key: &str| format!("auth.issuers[{i}].{key}");
            issuer
                .parsed_algorithms()
                .map_err(|e| SettingError::new(setting("algorithms"), "", e))?;
            issuer
                .check_keys()
                .map_err(|e| SettingError::new(setting("jwks_file"), "", e))?;
        }
        check_storage(&file.attachments)?;
        if let Some(days) = file.attachments.min_expiration_days {
            at_least_one("attachments.min_expiration_days", "", days)?;
        }
        let scanner = file.scanner.as_ref().map(check_scanner).transpose()?;
        let notifications = check_notifications(&file.notifications)?;
        let delivery = check_delivery(&file.delivery)?;
        let public_url = match &file.public_url {
            Some(url) => Some(check_public_url(url)?),
            None if !listen.ip().is_unspecified() => Some(format!("http://{listen}")),
            None => None,
        };
        let web = check_web(&file.web, public_url.as_deref())?;
        Ok(ServeSettings {
            listen,
            metrics_listen: given.metrics_listen.or(file.metrics_listen),
            log_format: given.log_format.or(file.log_format).unwrap_or_default(),
            jobs,
            max_in_flight: file.max_in_flight,
            cors_origins,
            min_expiration_days: file.attachments.min_expiration_days,
            attachments: file.attachments.clone(),
            scanner,
            dev_issuer: file.auth.dev_issuer,
            issuers: file.auth.issuers.clone(),
            notifications,
            delivery,
            public_url,
            web,
        })
    }
}

/// Checks `public_url`: an absolute `http` or `https` URL without query or fragment; returns
/// it without a trailing slash.
fn check_public_url(url: &str) -> Result<String, SettingError> {
    let bad = |problem: String| SettingError::new("public_url", "", problem);
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(format!("{url}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(bad(format!("{url}: give an http:// or https:// address")));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad(format!("{url}: no query or fragment")));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Refuses a count or a duration of less than 1.
fn at_least_one<N>(setting: &str, also: &'static str, value: N) -> Result<(), SettingError>
where
    N: PartialOrd + From<u8> + std::fmt::Display,
{
    if value < N::from(1) {
        return Err(SettingError::new(
            setting,
            also,
            format!("must be at least 1, not {value}"),
        ));
    }
    Ok(())
}

/// `attachments.storage = "s3"` or `"azure"` needs its table.
fn check_storage(cfg: &AttachmentsConfig) -> Result<(), SettingError> {
    let missing = match cfg.storage {
        Storage::Local => None,
        Storage::S3 => cfg.s3.is_none().then_some(("s3", "attachments.s3")),
        Storage::Azure => cfg
            .azure
            .is_none()
            .then_some(("azure", "attachments.azure")),
    };
    match missing {
        Some((name, table)) => Err(SettingError::new(
            "attachments.storage",
            "",
            format!("storage = \"{name}\" needs an [{table}] table"),
        )),
        None => Ok(()),
    }
}

fn check_scanner(cfg: &ScannerConfig) -> Result<Scanner, SettingError> {
    let address = cfg
        .clamd
        .parse()
        .map_err(|e: melding_scan::ParseAddressError| {
            SettingError::new("scanner.clamd", "", e.to_string())
        })?;
    Ok(Scanner {
        clamd: cfg.clamd.clone(),
        address,
        timeout: std::time::Duration::from_secs(cfg.timeout_seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../../../melding.example.toml");
        let cfg: FileConfig = toml::from_str(text).unwrap();
        assert!(cfg.auth.dev_issuer);
    }

    #[tokio::test]
    async fn an_issuer_from_a_jwks_file_is_trusted_with_its_pinned_algorithms() {
        use melding_domain::{OrgNumber, Party};
        use melding_http::Authenticator;
        use melding_http::auth::{DEV_AUDIENCE, DEV_ISSUER, DevIssuer};

        let dir = std::env::temp_dir().join(format!("melding-jwks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let idp = DevIssuer::generate();
        let jwks = dir.join("jwks.json");
        std::fs::write(
            &jwks,
            serde_json::to_vec(&idp.trusted_issuer().keys).unwrap(),
        )
        .unwrap();
        let config = |algorithms: &[&str]| IssuerConfig {
            issuer: DEV_ISSUER.into(),
            audience: DEV_AUDIENCE.into(),
            algorithms: algorithms.iter().map(|a| a.to_string()).collect(),
            jwks_file: Some(jwks.clone()),
            jwks_url: None,
        };
        let party = Party::Organization(OrgNumber::parse("991825827").unwrap());
        let token = idp.mint(&party, "s", chrono::Duration::hours(1), chrono::Utc::now());

        let trusted = Authenticator::new(vec![config(&["EdDSA"]).load().await.unwrap()]);
        assert!(trusted.verify(&token).is_some());
        // The same keys with another algorithm pinned refuse the token.
        let pinned = Authenticator::new(vec![config(&["RS256"]).load().await.unwrap()]);
        assert!(pinned.verify(&token).is_none());
        assert!(config(&["NOPE"]).load().await.is_err());
        assert!(config(&[]).load().await.is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn attachment_storage_and_scanner_settings_parse() {
        let cfg: FileConfig = toml::from_str(
            r#"
            [attachments]
            storage = "s3"
            min_expiration_days = 1
            [attachments.s3]
            bucket = "b"
            endpoint = "http://127.0.0.1:5000"
            allow_http = true
            [scanner]
            clamd = "unix:///run/clamav/clamd.ctl"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.attachments.storage, Storage::S3);
        assert_eq!(cfg.attachments.s3.unwrap().bucket, "b");
        assert_eq!(cfg.scanner.unwrap().timeout_seconds, 300);
        assert_eq!(FileConfig::default().attachments.storage, Storage::Local);
        assert!(toml::from_str::<FileConfig>("[attachments]\nstorage = \"ftp\"").is_err());
    }

    #[test]
    fn cors_origins_parse_from_the_http_table() {
        let cfg: FileConfig =
            toml::from_str("[http]\ncors_origins = [\"https://af.altinn.no\"]").unwrap();
        assert_eq!(cfg.http.cors_origins, ["https://af.altinn.no"]);
        assert!(FileConfig::default().http.cors_origins.is_empty());
        assert!(toml::from_str::<FileConfig>("[http]\ncors = []").is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("lisen = \"127.0.0.1:1\"").is_err());
    }

    /// The settings of `serve` from a config file's text and what the command line gave.
    fn serve_settings(toml_text: &str, given: Given) -> Result<ServeSettings, SettingError> {
        let file: FileConfig = toml::from_str(toml_text).unwrap();
        Settings::merge(file, given)?.serve()
    }

    /// The setting a refusal names, and that its message says so.
    fn refused(toml_text: &str, given: Given) -> SettingError {
        let err = serve_settings(toml_text, given).expect_err("a bad setting");
        assert!(
            err.to_string()
                .starts_with(&format!("setting {}", err.setting)),
            "{err}"
        );
        err
    }

    #[test]
    fn the_command_line_wins_over_the_file_and_the_file_over_the_defaults() {
        let defaults = serve_settings("", Given::default()).unwrap();
        assert_eq!(defaults.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            defaults.jobs.concurrency,
            RunnerConfig::default().concurrency
        );
        assert!(defaults.dev_issuer && defaults.scanner.is_none());
        let file = "listen = \"127.0.0.1:9000\"\njob_concurrency = 3\njob_lease_seconds = 5\n";
        let from_file = serve_settings(file, Given::default()).unwrap();
        assert_eq!(from_file.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(from_file.jobs.concurrency, 3);
        assert_eq!(from_file.jobs.lease, chrono::Duration::seconds(5));
        let given = Given {
            listen: Some("127.0.0.1:9001".parse().unwrap()),
            job_concurrency: Some(4),
            ..Given::default()
        };
        let from_flags = serve_settings(file, given).unwrap();
        assert_eq!(from_flags.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(from_flags.jobs.concurrency, 4);
        assert_eq!(from_flags.jobs.lease, chrono::Duration::seconds(5));

        let file: FileConfig = toml::from_str("data_dir = \"/srv/from-file\"").unwrap();
        let s = Settings::merge(file.clone(), Given::default()).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/srv/from-file"));
        let given = Given {
            data_dir: Some("/srv/from-flag".into()),
            ..Given::default()
        };
        assert_eq!(
            Settings::merge(file, given).unwrap().data_dir,
            PathBuf::from("/srv/from-flag")
        );
        assert_eq!(
            Settings::merge(FileConfig::default(), Given::default())
                .unwrap()
                .data_dir,
            PathBuf::from(DEFAULT_DATA_DIR)
        );
    }

    #[test]
    fn a_database_url_other_than_postgres_names_database_url() {
        let given = Given {
            database_url: Some("mysql://db/melding".into()),
            ..Given::default()
        };
        let err = Settings::merge(FileConfig::default(), given).unwrap_err();
        assert_eq!(err.setting, "database_url");
        assert!(err.to_string().contains("MELDING_DATABASE_URL"), "{err}");
        let file: FileConfig = toml::from_str("database_url = \"sqlite://x\"").unwrap();
        assert_eq!(
            Settings::merge(file, Given::default()).unwrap_err().setting,
            "database_url"
        );
        // Empty is none: SQLite in the data directory.
        let file: FileConfig = toml::from_str("database_url = \"\"").unwrap();
        assert!(
            Settings::merge(file, Given::default())
                .unwrap()
                .database_url
                .is_none()
        );
        let file: FileConfig =
            toml::from_str("database_url = \"postgresql://db/melding\"").unwrap();
        assert!(Settings::merge(file, Given::default()).is_ok());
    }

    #[test]
    fn a_zero_count_or_duration_names_its_setting() {
        let err = refused("job_lease_seconds = 0", Given::default());
        assert_eq!(err.setting, "job_lease_seconds");
        assert!(err.to_string().contains("--job-lease-seconds"), "{err}");
        let given = Given {
            job_lease_seconds: Some(0),
            ..Given::default()
        };
        assert_eq!(refused("", given).setting, "job_lease_seconds");
        let given = Given {
            job_concurrency: Some(0),
            ..Given::default()
        };
        let err = refused("", given);
        assert_eq!(err.setting, "job_concurrency");
        assert!(err.to_string().contains("MELDING_JOB_CONCURRENCY"), "{err}");
        assert_eq!(
            refused("max_in_flight = 0", Given::default()).setting,
            "max_in_flight"
        );
        let err = refused("[attachments]\nmin_expiration_days = 0", Given::default());
        assert_eq!(err.setting, "attachments.min_expiration_days");
        assert_eq!(err.problem, "must be at least 1, not 0");
    }

    #[test]
    fn a_bad_cors_origin_names_http_cors_origins() {
        let err = refused(
            "[http]\ncors_origins = [\"af.altinn.no/inbox\"]",
            Given::default(),
        );
        assert_eq!(err.setting, "http.cors_origins");
        assert!(err.problem.contains("af.altinn.no/inbox"), "{err}");
        let given = Given {
            cors_origins: Some(vec!["ftp://x".into()]),
            ..Given::default()
        };
        assert!(refused("", given).to_string().contains("--cors-origins"));
    }

    #[test]
    fn a_bad_issuer_names_its_entry_and_key() {
        let issuer = |rest: &str| {
            format!("[[auth.issuers]]\nissuer = \"https://idp\"\naudience = \"melding\"\n{rest}\n")
        };
        let err = refused(
            &issuer("algorithms = [\"NOPE\"]\njwks_file = \"/k.json\""),
            Given::default(),
        );
        assert_eq!(err.setting, "auth.issuers[0].algorithms");
        assert_eq!(err.problem, "unknown algorithm NOPE");
        let err = refused(
            &issuer("algorithms = []\njwks_file = \"/k.json\""),
            Given::default(),
        );
        assert_eq!(err.setting, "auth.issuers[0].algorithms");
        let err = refused(&issuer("algorithms = [\"RS256\"]"), Given::default());
        assert_eq!(err.setting, "auth.issuers[0].jwks_file");
        assert!(err.problem.contains("exactly one"), "{err}");
        let two = issuer("algorithms = [\"RS256\"]\njwks_file = \"/k.json\"")
            + &issuer("algorithms = [\"RS256\"]\njwks_file = \"/k.json\"\njwks_url = \"http://x\"");
        assert_eq!(
            refused(&two, Given::default()).setting,
            "auth.issuers[1].jwks_file"
        );
    }

    #[test]
    fn attachment_storage_without_its_table_names_attachments_storage() {
        for (storage, table) in [("s3", "[attachments.s3]"), ("azure", "[attachments.azure]")] {
            let err = refused(
                &format!("[attachments]\nstorage = \"{storage}\""),
                Given::default(),
            );
            assert_eq!(err.setting, "attachments.storage");
            assert!(err.problem.contains(table), "{err}");
        }
    }

    #[test]
    fn a_bad_clamd_address_names_scanner_clamd() {
        let err = refused("[scanner]\nclamd = \"unix://relative\"", Given::default());
        assert_eq!(err.setting, "scanner.clamd");
        assert!(err.problem.contains("unix://relative"), "{err}");
        let ok = serve_settings(
            "[scanner]\nclamd = \"tcp://127.0.0.1:3310\"\ntimeout_seconds = 7",
            Given::default(),
        )
        .unwrap();
        assert_eq!(
            ok.scanner.unwrap().timeout,
            std::time::Duration::from_secs(7)
        );
    }

    #[test]
    fn a_file_error_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("melding.toml");
        for (text, key) in [
            ("lisen = \"127.0.0.1:1\"", "lisen"),
            ("job_concurrency = \"many\"", "job_concurrency"),
            ("listen = \"localhost\"", "listen"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = format!("{:#}", FileConfig::load(Some(&path)).unwrap_err());
            assert!(err.contains(key), "{key}: {err}");
            assert!(err.contains("melding.toml"), "{err}");
        }
    }

    #[test]
    fn notifications_default_to_file_drops_and_parse_smtp_and_a_gateway() {
        let defaults = serve_settings("", Given::default()).unwrap().notifications;
        assert!(matches!(defaults.email, EmailChannel::Files));
        assert!(matches!(defaults.sms, SmsChannel::Files));
        assert_eq!(defaults.from.as_str(), DEFAULT_NOTIFICATION_FROM);
        assert_eq!(defaults.sms_sender.as_str(), DEFAULT_SMS_SENDER);
        assert!(defaults.delivery_reports.is_none());
        assert_eq!(defaults.settings.reminder_delay, chrono::Duration::days(7));
        assert_eq!(
            defaults.settings.confidential_reminder_delay,
            chrono::Duration::days(7)
        );
        assert!(defaults.settings.use_stale_contacts_for.is_empty());
        let file = r#"
            [notifications]
            email = "smtp"
            sms = "gateway"
            from = "ikke-svar@kommune.no"
            from_name = "Kommunen"
            sms_sender = "Kommunen"
            email_per_second = 20
            sms_per_second = 5
            reminder_delay = "1d"
            confidential_reminder_delay = "1m"
            use_stale_contacts_for = ["974761076"]
            [notifications.smtp]
            host = "smtp.kommune.no"
            port = 465
            tls = "implicit"
            username = "melding"
            password = "hemmelig"
            [notifications.smtp.dkim]
            selector = "melding"
            domain = "kommune.no"
            key_file = "/etc/melding/dkim.pem"
            [notifications.gateway]
            url = "https://pswin.example/xml"
            protocol = "pswin"
            client = "kommunen"
            password = "hemmelig"
            [notifications.delivery_reports]
            username = "link"
            password = "rapport"
        "#;
        let n = serve_settings(file, Given::default())
            .unwrap()
            .notifications;
        let EmailChannel::Smtp(smtp) = &n.email else {
            panic!("{:?}", n.email)
        };
        assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.kommune.no", 465));
        assert_eq!(smtp.tls, SmtpTls::Implicit);
        assert_eq!(smtp.credentials.as_ref().unwrap().username, "melding");
        assert_eq!(smtp.dkim.as_ref().unwrap().algorithm, DkimAlgorithm::Rsa);
        let SmsChannel::Gateway(g) = &n.sms else {
            panic!("{:?}", n.sms)
        };
        assert!(matches!(g.protocol, GatewayProtocol::LinkPswinXml { .. }));
        assert_eq!(n.report_format(), ReportFormat::LinkPswinXml);
        assert_eq!(n.email_per_second.map(NonZeroU32::get), Some(20));
        assert_eq!(n.sms_per_second.map(NonZeroU32::get), Some(5));
        assert_eq!(n.delivery_reports.as_ref().unwrap().0, "link");
        assert_eq!(n.settings.reminder_delay, chrono::Duration::days(1));
        assert_eq!(
            n.settings.confidential_reminder_delay,
            chrono::Duration::minutes(1)
        );
        assert_eq!(
            n.settings.use_stale_contacts_for,
            vec![OrgNumber::parse("974761076").unwrap()]
        );
    }

    #[test]
    fn forwarding_links_start_with_the_public_url_and_last_as_configured() {
        let defaults = serve_settings("", Given::default()).unwrap();
        assert_eq!(
            defaults.public_url.as_deref(),
            Some(format!("http://{DEFAULT_LISTEN}").as_str())
        );
        assert_eq!(
            defaults.notifications.forwarding.link_lifetime,
            chrono::Duration::days(7)
        );
        // Listening on every interface says nothing about the public address.
        let anywhere = Given {
            listen: Some("0.0.0.0:8080".parse().unwrap()),
            ..Given::default()
        };
        assert_eq!(serve_settings("", anywhere).unwrap().public_url, None);
        let s = serve_settings(
            "public_url = \"https://melding.kommune.no/\"\n[notifications]\nforward_link_lifetime = \"3d\"",
            Given::default(),
        )
        .unwrap();
        assert_eq!(s.public_url.as_deref(), Some("https://melding.kommune.no"));
        assert_eq!(
            s.notifications.forwarding.link_lifetime,
            chrono::Duration::days(3)
        );
        for bad in [
            "melding.kommune.no",
            "ftp://melding.kommune.no",
            "https://melding.kommune.no/?x=1",
        ] {
            let err = refused(&format!("public_url = \"{bad}\""), Given::default());
            assert_eq!(err.setting, "public_url", "{bad}");
        }
    }

    #[test]
    fn a_bad_notification_setting_names_its_key() {
        let cases = [
            (
                "[notifications]\nfrom = \"not an address\"",
                "notifications.from",
            ),
            (
                "[notifications]\nsms_sender = \"Altfor-langt-navn\"",
                "notifications.sms_sender",
            ),
            (
                "[notifications]\nemail_per_second = 0",
                "notifications.email_per_second",
            ),
            (
                "[notifications]\nsms_per_second = 0",
                "notifications.sms_per_second",
            ),
            (
                "[notifications]\nreminder_delay = \"seven days\"",
                "notifications.reminder_delay",
            ),
            (
                "[notifications]\nconfidential_reminder_delay = \"7\"",
                "notifications.confidential_reminder_delay",
            ),
            (
                "[notifications]\nforward_link_lifetime = \"a week\"",
                "notifications.forward_link_lifetime",
            ),
            (
                "[notifications]\nuse_stale_contacts_for = [\"123\"]",
                "notifications.use_stale_contacts_for",
            ),
            ("[notifications]\nemail = \"smtp\"", "notifications.email"),
            ("[notifications]\nsms = \"gateway\"", "notifications.sms"),
            (
                "[notifications]\nemail = \"smtp\"\n[notifications.smtp]\nhost = \"h\"\ntls = \"ssl3\"",
                "notifications.smtp.tls",
            ),
            (
                "[notifications]\nemail = \"smtp\"\n[notifications.smtp]\nhost = \"h\"\nusername = \"u\"",
                "notifications.smtp.username",
            ),
            (
                "[notifications]\nsms = \"gateway\"\n[notifications.gateway]\nurl = \"ftp://x\"",
                "notifications.gateway.url",
            ),
            (
                "[notifications]\nsms = \"gateway\"\n[notifications.gateway]\nurl = \"https://x\"\nprotocol = \"smpp\"",
                "notifications.gateway.protocol",
            ),
            (
                "[notifications]\nsms = \"gateway\"\n[notifications.gateway]\nurl = \"https://x\"\nprotocol = \"pswin\"",
                "notifications.gateway.client",
            ),
            (
                "[notifications.delivery_reports]\nusername = \"u\"\npassword = \"\"",
                "notifications.delivery_reports.password",
            ),
        ];
        for (text, setting) in cases {
            assert_eq!(refused(text, Given::default()).setting, setting, "{text}");
        }
        // A channel name outside the list is refused by the file's shape.
        assert!(toml::from_str::<FileConfig>("[notifications]\nemail = \"pigeon\"").is_err());
    }

    #[test]
    fn the_delivery_chain_is_off_unless_turned_on_and_reads_per_resource_overrides() {
        use melding_domain::PrintDeadlineRule;
        let defaults = serve_settings("", Given::default()).unwrap().delivery;
        assert!(!defaults.settings.default.enabled);
        assert!(matches!(defaults.print, PrintProviderSetting::Spool));
        assert!(!defaults.mailbox.files && defaults.mailbox.digipost.is_none());
        let file = r#"
            [delivery]
            chain = true
            print_after = "3 business days"
            mailbox = "files"
            receipt_poll_seconds = 60
            [delivery.resources.skatt]
            digital_only = true
            [delivery.resources.barnehage]
            print_after = "40 business hours"
            retention_months = 6
            [delivery.resources.altinn-only]
            chain = false
        "#;
        let d = serve_settings(file, Given::default()).unwrap().delivery;
        let s = &d.settings;
        assert!(s.default.enabled && s.default.print_fallback && !s.default.digital_only);
        assert_eq!(s.default.print_deadline, PrintDeadlineRule::BusinessDays(3));
        assert_eq!(s.receipt_poll_seconds, 60);
        assert!(d.mailbox.files);
        let skatt = s.policy("skatt");
        assert!(skatt.enabled && skatt.digital_only);
        assert_eq!(skatt.print_deadline, PrintDeadlineRule::BusinessDays(3));
        assert_eq!(
            s.policy("barnehage").print_deadline,
            PrintDeadlineRule::BusinessHours(40)
        );
        assert_eq!(s.policy("barnehage").retention.months(), 6);
        assert_eq!(s.default.retention.months(), 3);
        assert!(!s.policy("altinn-only").enabled);
        assert!(s.policy("other").enabled);
    }

    #[test]
    fn a_bad_delivery_setting_names_its_key() {
        let cases = [
            (
                "[delivery]\nprint_after = \"2 days\"",
                "delivery.print_after",
            ),
            (
                "[delivery]\nprint_after = \"two business days\"",
                "delivery.print_after",
            ),
            (
                "[delivery]\nprint_after = \"2 business weeks\"",
                "delivery.print_after",
            ),
            (
                "[delivery.resources.x]\nprint_after = \"2\"",
                "delivery.resources.x.print_after",
            ),
            (
                "[delivery]\nreceipt_poll_seconds = 0",
                "delivery.receipt_poll_seconds",
            ),
        ];
        for (text, setting) in cases {
            assert_eq!(refused(text, Given::default()).setting, setting, "{text}");
        }
        assert!(toml::from_str::<FileConfig>("[delivery]\nprint = \"fax\"").is_err());
    }

    #[test]
    fn print_houses_and_digital_mailboxes_are_read_from_their_tables() {
        let dir = std::env::temp_dir().join(format!("melding-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("print-house.key");
        std::fs::write(&key, "-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
        let pem = dir.join("digipost.pem");
        std::fs::write(&pem, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        let fingerprint = format!("SHA256:{}", "A".repeat(43));
        let file = format!(
            r#"
            [delivery]
            print = "sftp"
            mailbox = "providers"
            [delivery.sftp]
            host = "print.example.no"
            username = "kommunen"
            private_key_file = "{}"
            host_keys = ["{fingerprint}"]
            outbox_dir = "inn"
            [delivery.digipost]
            base_url = "https://api.digipost.example"
            broker_id = 1234
            signing_key_file = "{}"
            [delivery.eboks]
            base_url = "https://api.e-boks.example"
            api_token = "hemmelig"
            timeout_seconds = 10
        "#,
            key.display(),
            pem.display()
        );
        let d = serve_settings(&file, Given::default()).unwrap().delivery;
        let PrintProviderSetting::Sftp(sftp) = &d.print else {
            panic!("{:?}", d.print)
        };
        assert_eq!((sftp.host.as_str(), sftp.port), ("print.example.no", 22));
        assert_eq!(sftp.outbox_dir, "inn");
        assert_eq!(sftp.receipts_dir, "receipts");
        assert_eq!(sftp.host_keys[0].as_str(), fingerprint);
        let digipost = d.mailbox.digipost.as_ref().unwrap();
        assert_eq!((digipost.broker_id, digipost.sender_id), (1234, 1234));
        assert_eq!(
            d.mailbox.eboks.as_ref().unwrap().timeout,
            std::time::Duration::from_secs(10)
        );
        assert!(!d.mailbox.files);

        let refusals = [
            ("[delivery]\nprint = \"sftp\"", "delivery.print"),
            ("[delivery]\nmailbox = \"providers\"", "delivery.mailbox"),
            (
                "[delivery]\nprint = \"sftp\"\n[delivery.sftp]\nhost = \"h\"\nusername = \"u\"\nprivate_key_file = \"/nonexistent/key\"\nhost_keys = [\"SHA256:AAAA\"]",
                "delivery.sftp.host_keys",
            ),
            (
                "[delivery]\nprint = \"sftp\"\n[delivery.sftp]\nhost = \"h\"\nusername = \"u\"\nprivate_key_file = \"/nonexistent/key\"\nhost_keys = []",
                "delivery.sftp.host_keys",
            ),
        ];
        for (text, setting) in refusals {
            assert_eq!(refused(text, Given::default()).setting, setting, "{text}");
        }
        let missing_key = format!(
            "[delivery]\nprint = \"sftp\"\n[delivery.sftp]\nhost = \"h\"\nusername = \"u\"\nprivate_key_file = \"/nonexistent/key\"\nhost_keys = [\"{fingerprint}\"]"
        );
        assert_eq!(
            refused(&missing_key, Given::default()).setting,
            "delivery.sftp.private_key_file"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
