//! The print receipt files a print house (or a person, in development) drops into the receipts
//! directory, and how they are read into [`PrintReceipt`]s.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{PostageClass, PrintCost, PrintOutcome, PrintReceipt, PrintReference, ReceiptId};

/// What a receipt file says happened (SvarUt's vocabulary is accepted too, §3.4 and rule 33).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReceiptStatus {
    /// Printed and posted: `"printed"` (or `"PRINTET"`).
    #[serde(rename = "printed", alias = "PRINTET")]
    Printed,
    /// Not printed: `"rejected"` (or `"AVVIST"`).
    #[serde(rename = "rejected", alias = "AVVIST")]
    Rejected,
}

/// One receipt file, `<any name>.json` in the receipts directory, its name (without `.json`)
/// being the receipt's id. The print house writes it under another name (e.g. ending
/// `.partial`) and renames it to `.json` when complete; files not ending in `.json` are not
/// read.
///
/// JSON (camelCase); only `reference` and `status` are required:
/// ```json
/// {
///   "reference": "0190f5c4-7e2a-7c3b-9d3e-1a2b3c4d5e6f",
///   "status": "printed",
///   "at": "2026-12-02T09:15:00+01:00",
///   "reason": null,
///   "pages": 2,
///   "sheets": 1,
///   "postage": "B",
///   "priceOre": 1850
/// }
/// ```
/// `status` is `"printed"` or `"rejected"` (`"PRINTET"`/`"AVVIST"` accepted), `at` an RFC 3339
/// time with offset, `reason` the cause of a rejection, `pages` printed page sides, `sheets`
/// sheets of paper, `postage` as in the manifest, `priceOre` the price in øre (1/100 NOK).
/// Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptFile {
    /// The order's reference.
    pub reference: PrintReference,
    /// Printed or rejected.
    pub status: ReceiptStatus,
    /// When (RFC 3339), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Printed page sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Sheets of paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheets: Option<u32>,
    /// The postage class used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postage: Option<PostageClass>,
    /// The price in øre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_ore: Option<u64>,
}

/// A receipt file that is not valid JSON of the [`ReceiptFile`] shape.
#[derive(Debug, thiserror::Error)]
#[error("receipt file {file}: {source}")]
pub struct ReceiptFileError {
    /// The file's name.
    pub file: String,
    /// What serde said.
    #[source]
    pub source: serde_json::Error,
}

/// The reason given for a rejection whose file names none.
const NO_REASON: &str = "the print house gave no reason";

impl ReceiptFile {
    /// Reads the file `name` (which ends in `.json`) with contents `bytes` as the receipt with
    /// id `name` minus `.json`.
    ///
    /// Errors: [`ReceiptFileError`] when the JSON is not of the documented shape.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<PrintReceipt, ReceiptFileError> {
        let file: ReceiptFile =
            serde_json::from_slice(bytes).map_err(|source| ReceiptFileError {
                file: name.to_owned(),
                source,
            })?;
        Ok(file.into_receipt(ReceiptId::new(name.strip_suffix(".json").unwrap_or(name))))
    }

    /// This file's content as the receipt with id `id`.
    pub fn into_receipt(self, id: ReceiptId) -> PrintReceipt {
        let outcome = match self.status {
            ReceiptStatus::Printed => PrintOutcome::Printed,
            ReceiptStatus::Rejected => PrintOutcome::Rejected {
                reason: self
                    .reason
                    .filter(|r| !r.trim().is_empty())
                    .unwrap_or_else(|| NO_REASON.to_owned()),
            },
        };
        PrintReceipt {
            id,
            reference: self.reference,
            outcome,
            at: self.at,
            cost: PrintCost {
                pages: self.pages,
                sheets: self.sheets,
                postage: self.postage,
                price_ore: self.price_ore,
            },
        }
    }
}

/// Whether a directory entry named `name` is a receipt file to read (ends in `.json`, is not
/// hidden).
pub(crate) fn is_receipt_file_name(name: &str) -> bool {
    name.ends_with(".json") && name.len() > ".json".len() && !name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_printed_receipt_with_cost() {
        let receipt = ReceiptFile::parse(
            "r-1-printed.json",
            br#"{"reference":"r-1","status":"PRINTET","at":"2026-12-02T09:15:00+01:00",
                "pages":3,"sheets":2,"postage":"prioritert","priceOre":2150,"batch":"x"}"#,
        )
        .unwrap();
        assert_eq!(receipt.id.as_str(), "r-1-printed");
        assert_eq!(receipt.reference.as_str(), "r-1");
        assert_eq!(receipt.outcome, PrintOutcome::Printed);
        assert_eq!(
            receipt.at,
            Some(Utc.with_ymd_and_hms(2026, 12, 2, 8, 15, 0).unwrap())
        );
        assert_eq!(
            receipt.cost,
            PrintCost {
                pages: Some(3),
                sheets: Some(2),
                postage: Some(PostageClass::APriority),
                price_ore: Some(2150)
            }
        );
    }

    #[test]
    fn a_rejection_keeps_its_reason_or_says_there_was_none() {
        let with = ReceiptFile::parse(
            "a.json",
            br#"{"reference":"r-2","status":"rejected","reason":"PDF is encrypted"}"#,
        )
        .unwrap();
        assert_eq!(
            with.outcome,
            PrintOutcome::Rejected {
                reason: "PDF is encrypted".into()
            }
        );
        assert_eq!(with.cost, PrintCost::default());
        let without =
            ReceiptFile::parse("b.json", br#"{"reference":"r-2","status":"AVVIST"}"#).unwrap();
        assert_eq!(
            without.outcome,
            PrintOutcome::Rejected {
                reason: NO_REASON.into()
            }
        );
    }

    #[test]
    fn a_file_of_another_shape_is_an_error() {
        let bad_files: [&[u8]; 4] = [
            br#"{"status":"printed"}"#,
            br#"{"reference":"r-1","status":"lost"}"#,
            br#"{"reference":"../x","status":"printed"}"#,
            b"not json",
        ];
        for bad in bad_files {
            let error = ReceiptFile::parse("bad.json", bad).unwrap_err();
            assert_eq!(error.file, "bad.json");
        }
    }

    #[test]
    fn only_visible_json_files_are_receipts() {
        assert!(is_receipt_file_name("r-1.json"));
        assert!(!is_receipt_file_name("r-1.json.partial"));
        assert!(!is_receipt_file_name(".r-1.json"));
        assert!(!is_receipt_file_name(".json"));
        assert!(!is_receipt_file_name("processed"));
    }
}
