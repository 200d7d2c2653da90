//! The manifest written beside each printable PDF: everything a print house needs to print and
//! post the letter, in JSON, so that the PDF itself never has to be opened to route it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{PostageClass, PrintOrder, PrintReference};
use crate::error::SendError;

/// The value of [`PrintManifest::manifest_version`] this crate writes; raised when a field
/// changes meaning, not when one is added.
pub const MANIFEST_VERSION: u32 = 1;

/// The manifest `<reference>.json` beside `<reference>.pdf` in the outbox. The print house acts
/// on a letter only once its manifest exists (it is written after the PDF), and checks the
/// PDF against `pdfBytes` and `pdfSha256`.
///
/// JSON (camelCase), for example:
/// ```json
/// {
///   "manifestVersion": 1,
///   "reference": "0190f5c4-7e2a-7c3b-9d3e-1a2b3c4d5e6f",
///   "pdfFile": "0190f5c4-7e2a-7c3b-9d3e-1a2b3c4d5e6f.pdf",
///   "pdfBytes": 48213,
///   "pdfSha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
///   "pageCount": 2,
///   "colour": false,
///   "duplex": true,
///   "postage": "B",
///   "senderName": "Tønsberg kommune",
///   "recipient": {
///     "name": "Kari Nordmann",
///     "addressLines": ["Storgata 1"],
///     "postalCode": "3110",
///     "city": "TØNSBERG",
///     "country": "NO"
///   }
/// }
/// ```
/// `pdfBytes` is the PDF's size in bytes, `pdfSha256` its SHA-256 in lower-case hex,
/// `pageCount` pages of content (not sheets), `postage` `"A"` (prioritert) or `"B"` (økonomi),
/// `country` ISO 3166-1 alpha-2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrintManifest {
    /// [`MANIFEST_VERSION`] when written by this crate.
    pub manifest_version: u32,
    /// The order's reference; also the file names' stem.
    pub reference: PrintReference,
    /// The PDF's file name in the same directory: `<reference>.pdf`.
    pub pdf_file: String,
    /// The PDF's size in bytes.
    pub pdf_bytes: u64,
    /// The PDF's SHA-256, lower-case hex (64 characters).
    pub pdf_sha256: String,
    /// Pages of content in the PDF.
    pub page_count: u32,
    /// Print in colour.
    pub colour: bool,
    /// Print on both sides.
    pub duplex: bool,
    /// The postage class.
    pub postage: PostageClass,
    /// The sender named on the envelope or cover sheet.
    pub sender_name: String,
    /// To whom and where.
    pub recipient: ManifestRecipient,
}

/// The recipient part of a [`PrintManifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestRecipient {
    /// The name printed above the address.
    pub name: String,
    /// 1 to 3 address lines.
    pub address_lines: Vec<String>,
    /// The postal code.
    pub postal_code: String,
    /// The city (`poststed`).
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

impl PrintManifest {
    /// The manifest for `order` whose printable file is `pdf`.
    pub fn for_order(order: &PrintOrder, pdf: &[u8]) -> Self {
        PrintManifest {
            manifest_version: MANIFEST_VERSION,
            reference: order.reference.clone(),
            pdf_file: pdf_file_name(&order.reference),
            pdf_bytes: pdf.len() as u64,
            pdf_sha256: format!("{:x}", Sha256::digest(pdf)),
            page_count: order.page_count,
            colour: order.colour,
            duplex: order.duplex,
            postage: order.postage,
            sender_name: order.sender_name.clone(),
            recipient: ManifestRecipient {
                name: order.recipient_name.clone(),
                address_lines: order.address.lines().to_vec(),
                postal_code: order.address.postal_code().to_owned(),
                city: order.address.city().to_owned(),
                country: order.address.country().to_owned(),
            },
        }
    }

    /// The manifest as pretty-printed JSON bytes (UTF-8).
    ///
    /// Errors: [`SendError::Transient`] if serialising fails, which it does not for these
    /// plain fields; kept as an error rather than a panic.
    pub fn to_json(&self) -> Result<Vec<u8>, SendError> {
        serde_json::to_vec_pretty(self)
            .map_err(|e| SendError::transient(format!("encode print manifest: {e}")))
    }
}

/// `<reference>.pdf`.
pub(crate) fn pdf_file_name(reference: &PrintReference) -> String {
    format!("{reference}.pdf")
}

/// `<reference>.json`.
pub(crate) fn manifest_file_name(reference: &PrintReference) -> String {
    format!("{reference}.json")
}
