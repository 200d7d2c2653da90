//! Print: a rendered letter (PDF) handed to a print house to be printed and posted, and the
//! print receipts the print house sends back. This is the paper end of the SvarUt-style chain:
//! a letter not opened in time is printed and posted (`reference/delivery-chain.md` §3.3 step 4,
//! rules 27–29), and the print house's receipt is what turns `SENDT_PRINT` into `PRINTET`
//! (§3.4, rule 33).
//!
//! The [`PrintProvider`] trait has three implementations (STYLE.md practice 10):
//! - **real**: [`SftpPrintProvider`] uploads to a print house's SFTP directory;
//! - **dev** (also the default): [`SpoolPrintProvider`] writes into a local spool directory
//!   that a person, or a print house's own pick-up job, can read;
//! - **test**: [`CapturingPrintProvider`] keeps orders in memory.
//!
//! Both file-based providers use the same layout and formats: for each order `<reference>.pdf`
//! and its manifest `<reference>.json` ([`PrintManifest`]) in an outbox, the manifest written
//! last, both published by renaming a finished temporary file; receipts are JSON files
//! ([`ReceiptFile`]) in a receipts directory, moved to `processed/` once acknowledged.
//!
//! The PDF is rendered elsewhere (`melding-print`); here it is bytes. Only PDF can be printed
//! (rule 30), so [`check_printable`] refuses anything that does not start like one.

mod capture;
mod manifest;
mod receipt;
mod sftp;
mod spool;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{PermanentKind, SendError};

pub use capture::{CapturedPrint, CapturingPrintProvider};
pub use manifest::{MANIFEST_VERSION, ManifestRecipient, PrintManifest};
pub use receipt::{ReceiptFile, ReceiptFileError, ReceiptStatus};
pub use sftp::{HostKeyFingerprint, SftpAuth, SftpPrintConfig, SftpPrintProvider, SftpSetupError};
pub use spool::SpoolPrintProvider;

/// Hands printable letters to a print house and collects its print receipts.
///
/// # Contract
/// - **Submission is idempotent by [`PrintOrder::reference`].** Submitting a reference that was
///   already handed over overwrites nothing and is not an error: the answer says
///   [`PrintSubmission::already_submitted`]. A job that crashed after submitting can therefore
///   simply submit again.
/// - **Receipts are delivered at least once.** [`PrintProvider::fetch_receipts`] returns every
///   receipt not yet acknowledged, the same ones again on the next call until
///   [`PrintProvider::acknowledge`] is called with their ids. The caller records each receipt
///   (idempotently, by its [`PrintReceipt::reference`]: a second receipt for a reference already
///   recorded changes nothing) and only then acknowledges, so a crash in between loses nothing;
///   it can only repeat a receipt.
/// - Acknowledging an id that is unknown or already acknowledged is not an error.
#[async_trait]
pub trait PrintProvider: Send + Sync {
    /// Hands over one letter: `pdf` is the whole printable file (bytes of a PDF, A4 portrait,
    /// rendered elsewhere), `order` says to whom and how.
    ///
    /// Errors: [`SendError::Permanent`] when the order can never be printed (not a PDF, no
    /// pages: see [`check_printable`]); [`SendError::Transient`] when the print house or the disk
    /// cannot be reached or written now (connection refused, authentication or host key
    /// refused, full disk), to be tried again.
    async fn submit(&self, order: &PrintOrder, pdf: &[u8]) -> Result<PrintSubmission, SendError>;

    /// The print receipts not yet acknowledged, oldest first where the provider can tell.
    ///
    /// Errors: [`SendError::Transient`] when the receipts cannot be read now. A single
    /// unreadable receipt file is not an error: it is moved aside (see the providers) and
    /// logged, so that it does not block the others.
    async fn fetch_receipts(&self) -> Result<Vec<PrintReceipt>, SendError>;

    /// Marks receipts as processed so that they are not returned again.
    ///
    /// Errors: [`SendError::Transient`] when this cannot be recorded now; the receipts are then
    /// returned again by the next fetch, which the contract allows.
    async fn acknowledge(&self, receipts: &[ReceiptId]) -> Result<(), SendError>;
}

/// One letter to print and post to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintOrder {
    /// Our reference, unique per letter to print; the idempotency key of [`PrintProvider`] and
    /// the name of the files in the outbox.
    pub reference: PrintReference,
    /// The recipient's name as printed above the address (a person's full name or an
    /// organisation's name).
    pub recipient_name: String,
    /// Where the letter is posted.
    pub address: PostalAddress,
    /// Pages in the PDF (pages of content, not sheets of paper), at least 1.
    pub page_count: u32,
    /// Print in colour rather than black and white (SvarUt's `utskriftMedFarger`, §3.2).
    pub colour: bool,
    /// Print on both sides of the sheet (SvarUt's `tosidig`, §3.2).
    pub duplex: bool,
    /// How fast the post carries it.
    pub postage: PostageClass,
    /// The sender named on the envelope or cover sheet, e.g. `Tønsberg kommune`.
    pub sender_name: String,
}

/// What a provider says when it took an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintSubmission {
    /// The reference of the order.
    pub reference: PrintReference,
    /// Where the order went, for logs: the manifest's local path or remote path.
    pub location: String,
    /// True when this reference had been submitted before and nothing was written this time.
    pub already_submitted: bool,
}

/// Our reference for a print order: 1 to 100 characters of ASCII letters, digits, `-`, `_` and
/// `.`, not starting with `.` (so that it is a safe file name on any print house's server; a
/// UUID or a correspondence id fits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrintReference(String);

/// The text given to [`PrintReference::parse`] is not a valid reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a print reference is 1 to 100 characters of ASCII letters, digits, '-', '_' and '.', not starting with '.'"
)]
pub struct InvalidPrintReference;

impl PrintReference {
    /// Parses a reference.
    ///
    /// Errors: [`InvalidPrintReference`] when the text breaks the rule in the type's docs.
    pub fn parse(s: &str) -> Result<Self, InvalidPrintReference> {
        let ok = (1..=100).contains(&s.len())
            && !s.starts_with('.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(PrintReference(s.to_owned()))
        } else {
            Err(InvalidPrintReference)
        }
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PrintReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PrintReference {
    type Error = InvalidPrintReference;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PrintReference::parse(&value)
    }
}

impl From<PrintReference> for String {
    fn from(value: PrintReference) -> Self {
        value.0
    }
}

/// A postal address a letter can be sent to: 1 to 3 address lines (SvarUt's
/// `adresselinje1..3`), a postal code, a city (`poststed`) and a country as an ISO 3166-1
/// alpha-2 code. A Norwegian address (`NO`) needs a 4-digit postal code
/// (`reference/delivery-chain.md` §3.2, rule 31).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    lines: Vec<String>,
    postal_code: String,
    city: String,
    country: String,
}

/// Why [`PostalAddress::new`] refused an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPostalAddress {
    /// No address line, more than 3, or a blank one.
    #[error("an address has 1 to 3 non-blank address lines")]
    Lines,
    /// A blank postal code, or a Norwegian one that is not 4 digits.
    #[error("the postal code is blank, or a Norwegian one is not 4 digits")]
    PostalCode,
    /// A blank city.
    #[error("the city (poststed) is blank")]
    City,
    /// The country is not two ASCII letters.
    #[error("the country is not an ISO 3166-1 alpha-2 code such as NO")]
    Country,
}

impl PostalAddress {
    /// Checks and builds an address; text is trimmed and the country upper-cased.
    ///
    /// Errors: [`InvalidPostalAddress`] naming the part at fault.
    pub fn new(
        lines: Vec<String>,
        postal_code: &str,
        city: &str,
        country: &str,
    ) -> Result<Self, InvalidPostalAddress> {
        let lines: Vec<String> = lines.iter().map(|l| l.trim().to_owned()).collect();
        if lines.is_empty() || lines.len() > 3 || lines.iter().any(String::is_empty) {
            return Err(InvalidPostalAddress::Lines);
        }
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(InvalidPostalAddress::Country);
        }
        let postal_code = postal_code.trim().to_owned();
        let norwegian_ok =
            postal_code.len() == 4 && postal_code.bytes().all(|b| b.is_ascii_digit());
        if postal_code.is_empty() || (country == "NO" && !norwegian_ok) {
            return Err(InvalidPostalAddress::PostalCode);
        }
        let city = city.trim().to_owned();
        if city.is_empty() {
            return Err(InvalidPostalAddress::City);
        }
        Ok(PostalAddress {
            lines,
            postal_code,
            city,
            country,
        })
    }

    /// The address lines (street, c/o, box), 1 to 3.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The postal code (`postnummer`), e.g. `3110`.
    pub fn postal_code(&self) -> &str {
        &self.postal_code
    }

    /// The city (`poststed`), e.g. `TØNSBERG`.
    pub fn city(&self) -> &str {
        &self.city
    }

    /// The country, ISO 3166-1 alpha-2, upper case, e.g. `NO`.
    pub fn country(&self) -> &str {
        &self.country
    }
}

/// How fast the post carries a letter: Posten's A-post ("prioritert") or B-post ("økonomi").
/// In JSON `"A"` or `"B"`; reading also accepts `"A-post"`, `"prioritert"`, `"B-post"`,
/// `"økonomi"` and `"okonomi"`, the names print houses use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PostageClass {
    /// A-post, "prioritert": the faster, dearer class.
    #[serde(rename = "A", alias = "A-post", alias = "prioritert")]
    APriority,
    /// B-post, "økonomi": the slower, cheaper class.
    #[serde(rename = "B", alias = "B-post", alias = "økonomi", alias = "okonomi")]
    BEconomy,
}

/// The id of one print receipt as the provider knows it (for the file providers the receipt's
/// file name without `.json`); handed back to [`PrintProvider::acknowledge`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptId(String);

impl ReceiptId {
    /// A receipt id as a provider names it (for providers outside this crate, e.g. the
    /// simulator's print house).
    pub fn new(id: impl Into<String>) -> Self {
        ReceiptId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the id is usable as a plain file name (no separators, not `.` or `..`); ids
    /// that are not are ignored by the file providers' acknowledge, as no fetch returned them.
    pub(crate) fn is_plain_file_name(&self) -> bool {
        !self.0.is_empty() && self.0 != "." && self.0 != ".." && !self.0.contains(['/', '\\', '\0'])
    }
}

impl fmt::Display for ReceiptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the print house reports for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintReceipt {
    /// The receipt's id, for [`PrintProvider::acknowledge`].
    pub id: ReceiptId,
    /// The order it is about.
    pub reference: PrintReference,
    /// Printed, or rejected and why.
    pub outcome: PrintOutcome,
    /// When the print house printed or rejected it (UTC), if it said.
    pub at: Option<DateTime<Utc>>,
    /// What it cost, as far as the print house said.
    pub cost: PrintCost,
}

/// The outcome a print receipt reports (SvarUt: `PRINTET`, or a rejection, §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintOutcome {
    /// Printed and handed to the post.
    Printed,
    /// Not printed; the letter will not be posted.
    Rejected {
        /// The print house's reason, e.g. "address incomplete" or "PDF is encrypted".
        reason: String,
    },
}

/// What printing and posting cost, each part present only if the print house reported it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrintCost {
    /// Pages printed (page sides with content).
    pub pages: Option<u32>,
    /// Sheets of paper used (fewer than pages when duplex).
    pub sheets: Option<u32>,
    /// The postage class the letter went with.
    pub postage: Option<PostageClass>,
    /// The price, in øre (1/100 NOK), VAT as the print house's contract says.
    pub price_ore: Option<u64>,
}

/// Checks what every provider needs before it hands a letter over: the bytes are a PDF (start
/// with `%PDF-`; only PDF is printable, `reference/delivery-chain.md` §3.5, rule 30) and the
/// order has at least one page. Does not render or parse the PDF further.
///
/// Errors: [`SendError::Permanent`] with [`PermanentKind::Rejected`] naming what is wrong.
pub fn check_printable(order: &PrintOrder, pdf: &[u8]) -> Result<(), SendError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(SendError::permanent(
            PermanentKind::Rejected,
            format!(
                "print order {}: only a PDF can be printed, and this does not start with %PDF-",
                order.reference
            ),
        ));
    }
    if order.page_count == 0 {
        return Err(SendError::permanent(
            PermanentKind::Rejected,
            format!(
                "print order {}: a letter has at least one page",
                order.reference
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_a_safe_file_name() {
        assert!(PrintReference::parse("0190f5c4-7e2a-7c3b-9d3e-1a2b3c4d5e6f").is_ok());
        assert!(PrintReference::parse("brev_2026.11.30").is_ok());
        for bad in ["", ".hidden", "../etc", "a/b", "a b", "æ", &"x".repeat(101)] {
            assert_eq!(
                PrintReference::parse(bad),
                Err(InvalidPrintReference),
                "{bad:?}"
            );
        }
        let json = serde_json::to_string(&PrintReference::parse("r-1").unwrap()).unwrap();
        assert_eq!(json, "\"r-1\"");
        assert!(serde_json::from_str::<PrintReference>("\"../x\"").is_err());
    }

    #[test]
    fn a_norwegian_address_needs_four_digits() {
        let ok = PostalAddress::new(vec![" Storgata 1 ".into()], "3110", "TØNSBERG", "no").unwrap();
        assert_eq!(ok.lines(), ["Storgata 1"]);
        assert_eq!(ok.country(), "NO");
        assert_eq!(
            PostalAddress::new(vec!["Storgata 1".into()], "311", "TØNSBERG", "NO"),
            Err(InvalidPostalAddress::PostalCode)
        );
        assert!(
            PostalAddress::new(vec!["Kungsgatan 1".into()], "111 43", "Stockholm", "SE").is_ok()
        );
        assert_eq!(
            PostalAddress::new(vec![], "3110", "TØNSBERG", "NO"),
            Err(InvalidPostalAddress::Lines)
        );
        assert_eq!(
            PostalAddress::new(
                vec!["a".into(), "b".into(), "c".into(), "d".into()],
                "3110",
                "X",
                "NO"
            ),
            Err(InvalidPostalAddress::Lines)
        );
        assert_eq!(
            PostalAddress::new(vec!["a".into()], "3110", " ", "NO"),
            Err(InvalidPostalAddress::City)
        );
        assert_eq!(
            PostalAddress::new(vec!["a".into()], "3110", "X", "Norge"),
            Err(InvalidPostalAddress::Country)
        );
    }

    #[test]
    fn postage_reads_the_print_houses_names() {
        for (json, class) in [
            ("\"A\"", PostageClass::APriority),
            ("\"prioritert\"", PostageClass::APriority),
            ("\"A-post\"", PostageClass::APriority),
            ("\"B\"", PostageClass::BEconomy),
            ("\"økonomi\"", PostageClass::BEconomy),
            ("\"okonomi\"", PostageClass::BEconomy),
        ] {
            assert_eq!(serde_json::from_str::<PostageClass>(json).unwrap(), class);
        }
        assert_eq!(
            serde_json::to_string(&PostageClass::BEconomy).unwrap(),
            "\"B\""
        );
    }

    #[test]
    fn only_a_pdf_with_pages_is_printable() {
        let mut order = PrintOrder {
            reference: PrintReference::parse("r-1").unwrap(),
            recipient_name: "Kari Nordmann".into(),
            address: PostalAddress::new(vec!["Storgata 1".into()], "3110", "TØNSBERG", "NO")
                .unwrap(),
            page_count: 1,
            colour: false,
            duplex: false,
            postage: PostageClass::BEconomy,
            sender_name: "Tønsberg kommune".into(),
        };
        assert!(check_printable(&order, b"%PDF-1.7\n...").is_ok());
        let not_pdf = check_printable(&order, b"<html>").unwrap_err();
        assert!(!not_pdf.is_retryable());
        order.page_count = 0;
        assert!(
            !check_printable(&order, b"%PDF-1.7")
                .unwrap_err()
                .is_retryable()
        );
    }
}
