//! The default and dev print channel: a spool directory on the local disk. A person can open
//! the letters, and a print house's pick-up job (or an operator) can take them from there and
//! drop receipts back.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::manifest::{manifest_file_name, pdf_file_name};
use super::receipt::is_receipt_file_name;
use super::{
    PrintManifest, PrintOrder, PrintProvider, PrintReceipt, PrintSubmission, ReceiptFile,
    ReceiptId, check_printable,
};
use crate::error::SendError;

/// A print provider on a local spool directory `<root>`:
///
/// ```text
/// <root>/outbox/<reference>.pdf          the letter
/// <root>/outbox/<reference>.json         its PrintManifest, written after the PDF
/// <root>/receipts/<name>.json            receipts dropped by the print house (ReceiptFile)
/// <root>/receipts/processed/<name>.json  receipts acknowledged
/// <root>/receipts/unreadable/<name>.json receipt files that are not of the documented shape
/// ```
///
/// Both outbox files are written under a temporary name ending `.partial` and renamed
/// (`write_file_atomically`), so a reader never sees half a file; whoever reads the
/// outbox acts on a `.json` manifest only. A reference whose manifest is already in the outbox
/// counts as submitted and nothing is written again. (Two submits of one reference racing each
/// other may both write, the later rename winning; a caller submits one reference from one
/// job at a time.) Directories are created when first needed.
#[derive(Debug, Clone)]
pub struct SpoolPrintProvider {
    root: PathBuf,
}

impl SpoolPrintProvider {
    /// A provider on the spool directory `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SpoolPrintProvider { root: root.into() }
    }

    /// `<root>`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/outbox`, where letters and manifests are written.
    pub fn outbox_dir(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// `<root>/receipts`, where receipt files are read from.
    pub fn receipts_dir(&self) -> PathBuf {
        self.root.join("receipts")
    }

    /// `<root>/receipts/processed`, where acknowledged receipts are moved.
    pub fn processed_dir(&self) -> PathBuf {
        self.receipts_dir().join("processed")
    }

    /// `<root>/receipts/unreadable`, where receipt files that cannot be read are moved, for an
    /// operator to look at (and move back when mended).
    pub fn unreadable_dir(&self) -> PathBuf {
        self.receipts_dir().join("unreadable")
    }
}

fn io_error(what: String, e: std::io::Error) -> SendError {
    SendError::transient(format!("{what}: {e}"))
}

/// Moves `from` into `dir` under the same file name, creating `dir` if needed.
async fn move_into(from: &Path, dir: &Path, name: &str) -> Result<(), std::io::Error> {
    tokio::fs::create_dir_all(dir).await?;
    tokio::fs::rename(from, dir.join(name)).await
}

#[async_trait]
impl PrintProvider for SpoolPrintProvider {
    /// Errors: as [`check_printable`]; [`SendError::Transient`] when a file cannot be written.
    async fn submit(&self, order: &PrintOrder, pdf: &[u8]) -> Result<PrintSubmission, SendError> {
        check_printable(order, pdf)?;
        let outbox = self.outbox_dir();
        let manifest_path = outbox.join(manifest_file_name(&order.reference));
        let location = manifest_path.display().to_string();
        let exists = tokio::fs::try_exists(&manifest_path)
            .await
            .map_err(|e| io_error(format!("look for {location}"), e))?;
        if exists {
            return Ok(PrintSubmission {
                reference: order.reference.clone(),
                location,
                already_submitted: true,
            });
        }
        let manifest = PrintManifest::for_order(order, pdf).to_json()?;
        let pdf_path = outbox.join(pdf_file_name(&order.reference));
        crate::write_file_atomically(&outbox, &pdf_path, pdf).await?;
        crate::write_file_atomically(&outbox, &manifest_path, &manifest).await?;
        Ok(PrintSubmission {
            reference: order.reference.clone(),
            location,
            already_submitted: false,
        })
    }

    /// Reads `<root>/receipts/*.json` in file name order. A missing receipts directory means
    /// no receipts. A file that cannot be parsed is moved to `receipts/unreadable/` and logged.
    ///
    /// Errors: [`SendError::Transient`] when the directory or a file cannot be read.
    async fn fetch_receipts(&self) -> Result<Vec<PrintReceipt>, SendError> {
        let dir = self.receipts_dir();
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(format!("read {}", dir.display()), e)),
        };
        let mut names = Vec::new();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| io_error(format!("read {}", dir.display()), e))?
        {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let is_file = entry.file_type().await.is_ok_and(|t| t.is_file());
            if is_file && is_receipt_file_name(&name) {
                names.push(name);
            }
        }
        names.sort();
        let mut receipts = Vec::with_capacity(names.len());
        for name in names {
            let path = dir.join(&name);
            let bytes = match tokio::fs::read(&path).await {
                Ok(bytes) => bytes,
                // Acknowledged by another worker since the listing.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error(format!("read {}", path.display()), e)),
            };
            match ReceiptFile::parse(&name, &bytes) {
                Ok(receipt) => receipts.push(receipt),
                Err(error) => {
                    tracing::warn!(%error, "unreadable print receipt moved to receipts/unreadable");
                    move_into(&path, &self.unreadable_dir(), &name)
                        .await
                        .map_err(|e| io_error(format!("move aside {}", path.display()), e))?;
                }
            }
        }
        Ok(receipts)
    }

    /// Moves `receipts/<id>.json` to `receipts/processed/<id>.json`; an id whose file is gone
    /// (already acknowledged) or that is not a plain file name is passed over.
    ///
    /// Errors: [`SendError::Transient`] when a file cannot be moved.
    async fn acknowledge(&self, receipts: &[ReceiptId]) -> Result<(), SendError> {
        let dir = self.receipts_dir();
        let processed = self.processed_dir();
        for id in receipts {
            if !id.is_plain_file_name() {
                tracing::warn!(receipt = %id, "not a receipt id this provider hands out; ignored");
                continue;
            }
            let name = format!("{id}.json");
            match move_into(&dir.join(&name), &processed, &name).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(io_error(
                        format!("move {name} to {}", processed.display()),
                        e,
                    ));
                }
            }
        }
        Ok(())
    }
}
