//! Malware scanning of attachments before a letter is published. A [`Scanner`] reads an
//! attachment's bytes as a stream and answers [`Verdict::Clean`] or [`Verdict::Infected`];
//! anything else (scanner down, protocol trouble, file too large for the scanner) is a
//! [`ScanError`], which a caller must treat as "not scanned", never as clean.
//!
//! Scanning is off unless configured. [`ClamdScanner`] talks to a ClamAV daemon over TCP or a
//! Unix socket with the `INSTREAM` command, in fixed-size chunks, so memory use does not grow
//! with the file. [`EicarScanner`] needs no daemon: it flags only the EICAR test string, for
//! development and for tests of the code that acts on a verdict.
#![forbid(unsafe_code)]

mod address;
mod clamd;
mod eicar;
mod reply;

use tokio::io::AsyncRead;

pub use address::{ClamdAddress, ParseAddressError};
pub use clamd::ClamdScanner;
pub use eicar::{EICAR, EicarScanner};

/// What a scanner found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// Malware, with the scanner's signature name (clamd: `Local.EICAR.Test.UNOFFICIAL`).
    Infected(String),
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        matches!(self, Self::Clean)
    }
}

/// Why there is no verdict. None of these means the file is clean.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The scanner could not be reached (refused, no such socket, or the connect timed out).
    #[error("scanner at {address} is unreachable: {source}")]
    Unreachable {
        address: String,
        #[source]
        source: std::io::Error,
    },
    /// The exchange took longer than the configured timeout.
    #[error("scanner at {address} did not finish within {timeout:?}")]
    Timeout {
        address: String,
        timeout: std::time::Duration,
    },
    /// The connection failed after it was made.
    #[error("connection to scanner at {address} failed: {source}")]
    Connection {
        address: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than the scanner accepts (clamd's `StreamMaxLength`).
    #[error("the file is larger than the scanner accepts")]
    SizeLimitExceeded,
    /// The scanner reported an error of its own while scanning.
    #[error("scanner error: {0}")]
    Scanner(String),
    /// The scanner answered something this client does not understand.
    #[error("unexpected reply from scanner: {0:?}")]
    Protocol(String),
    /// Reading the bytes to scan failed (the source, not the scanner).
    #[error("reading the file to scan failed: {0}")]
    Input(#[source] std::io::Error),
}

/// A malware scanner. Implementations are cheap to share (`Arc<dyn Scanner>`).
#[async_trait::async_trait]
pub trait Scanner: Send + Sync + std::fmt::Debug {
    /// Scans everything `bytes` yields.
    async fn scan(&self, bytes: &mut (dyn AsyncRead + Send + Unpin)) -> Result<Verdict, ScanError>;

    /// A short name for logs and status texts ("clamd").
    fn name(&self) -> &'static str;
}
