//! Melding's outbound channels: the ways a notification leaves the building.
//!
//! Each channel is a trait with three kinds of implementation (STYLE.md practice 10):
//! - **real**: e-mail over SMTP ([`email::SmtpEmailSender`], lettre), SMS through an HTTP
//!   gateway ([`sms::HttpSmsGateway`], a generic JSON shape or LINK Mobility's PSWin XML),
//!   digital mailboxes ([`mailbox::DigipostMailbox`], [`mailbox::EboksMailbox`]), printed
//!   letters to a print house's SFTP server ([`print::SftpPrintProvider`]);
//! - **dev**: each message written as a file under a directory, so a person can look
//!   ([`email::FileDropEmailSender`], [`sms::FileDropSmsSender`],
//!   [`mailbox::FileDropMailbox`], [`print::SpoolPrintProvider`]);
//! - **test**: messages captured in memory ([`email::CapturingEmailSender`],
//!   [`sms::CapturingSmsSender`], [`mailbox::CapturingMailbox`],
//!   [`print::CapturingPrintProvider`]).
//!
//! Every failure is classified once, in [`SendError`], as transient (retry with back-off),
//! "slow down until" (the provider asked us to wait) or permanent (give up), so the notification
//! job that calls a channel can decide without knowing SMTP or HTTP. The texts a recipient sees
//! come from [`templates`]. Wiring these into letters (orders, jobs, contact lookup) lives in
//! `melding-core`, which names only the traits.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod email;
pub mod error;
mod files;
pub mod mailbox;
pub mod print;
pub mod secret;
pub mod sms;
pub mod templates;

pub use error::{PermanentKind, RetryAfter, SendError};
pub use secret::Secret;

pub(crate) use files::write_file_atomically;
