//! Rendering one letter: sort the attachments into printable PDFs and the rest, write the typst
//! source, compile it in the letter's own world and export the PDF.

use std::sync::Arc;

use chrono::Datelike;
use hayro_syntax::{LoadPdfError, Pdf};
use typst::diag::SourceDiagnostic;
use typst::ecow::EcoVec;
use typst::foundations::{Bytes, Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::letter::{PrintAttachment, PrintLetter};
use crate::template::{AppendedPdf, LeftOut, letter_source};
use crate::texts::Texts;
use crate::world::LetterWorld;

/// A rendered letter, ready for the print house.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedLetter {
    /// The PDF (A4 portrait, PDF 1.7, fonts embedded, no encryption), bytes.
    pub pdf: Vec<u8>,
    /// Pages in the PDF: the letter's own pages plus every appended attachment page. Print
    /// houses price by page (and by sheet, see [`Self::sheets`]).
    pub pages: usize,
    /// The letter's own pages (title, body, attachment lists), before the attachments.
    pub letter_pages: usize,
    /// The PDF attachments appended after the letter, in order, with their page counts.
    pub printed_attachments: Vec<PrintedAttachment>,
    /// The attachments that are not in the PDF, in the sender's order, with the reason.
    pub not_printable: Vec<NotPrintable>,
}

impl PrintedLetter {
    /// Sheets of paper the letter takes: one page per sheet single-sided, two per sheet duplex
    /// (the last sheet may have a blank back). SvarUt lets the sender choose duplex
    /// (`delivery-chain.md` §3.5).
    pub fn sheets(&self, duplex: bool) -> usize {
        if duplex {
            self.pages.div_ceil(2)
        } else {
            self.pages
        }
    }
}

/// A PDF attachment that was appended to the printed letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedAttachment {
    /// The attachment's name as given.
    pub name: String,
    /// How many pages of the printed letter it fills.
    pub pages: usize,
}

/// An attachment that was left out of the printed letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPrintable {
    /// The attachment's name as given.
    pub name: String,
    /// Why it was left out.
    pub reason: NotPrintableReason,
}

/// Why an attachment cannot be printed (`delivery-chain.md` rule 30: only PDF documents without
/// a password are printable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPrintableReason {
    /// Its media type is not `application/pdf`.
    NotPdf {
        /// The media type the sender declared.
        media_type: String,
    },
    /// It is an encrypted PDF (with or without a password to open it).
    Encrypted,
    /// It claims to be a PDF but cannot be read as one, or has no pages.
    Unreadable,
}

/// Why a letter could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// Typst rejected the generated document (a bug here, or an attachment typst cannot place).
    #[error("typst could not lay out the letter: {0}")]
    Compile(String),
    /// Typst laid the letter out but could not write the PDF.
    #[error("typst could not write the PDF: {0}")]
    Export(String),
    /// The letter date lies outside the years typst can represent (−9999 to 9999).
    #[error("the letter date {0} cannot be represented")]
    DateOutOfRange(chrono::NaiveDate),
}

/// Renders `letter` to a PDF.
///
/// Pure: reads nothing but `letter` (fonts are compiled into the binary) and gives the same
/// bytes for the same letter. Takes some tens of milliseconds; call it from a blocking thread
/// (`tokio::task::spawn_blocking`) in async code.
///
/// # Errors
/// [`PrintError`] when typst fails; attachments that cannot be printed are not errors but are
/// listed in [`PrintedLetter::not_printable`].
pub fn render(letter: &PrintLetter) -> Result<PrintedLetter, PrintError> {
    let texts = Texts::of(letter.language);
    let mut appended = Vec::new();
    let mut appended_bytes = Vec::new();
    let mut not_printable = Vec::new();
    for attachment in &letter.attachments {
        match printable_pages(attachment) {
            Ok((pages, bytes)) => {
                appended.push(PrintedAttachment {
                    name: attachment.name.clone(),
                    pages,
                });
                appended_bytes.push(bytes);
            }
            Err(reason) => not_printable.push(NotPrintable {
                name: attachment.name.clone(),
                reason,
            }),
        }
    }
    let appended_view: Vec<AppendedPdf<'_>> = appended
        .iter()
        .map(|a| AppendedPdf {
            name: &a.name,
            pages: a.pages,
        })
        .collect();
    let left_out: Vec<LeftOut<'_>> = not_printable
        .iter()
        .map(|n| LeftOut {
            name: &n.name,
            reason: texts.reason(&n.reason),
        })
        .collect();
    let source = letter_source(letter, &appended_view, &left_out);

    let date = letter.date;
    let today = u8::try_from(date.month())
        .ok()
        .zip(u8::try_from(date.day()).ok())
        .and_then(|(month, day)| Datetime::from_ymd(date.year(), month, day))
        .ok_or(PrintError::DateOutOfRange(date))?;
    let world = LetterWorld::new(source, appended_bytes, today);
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| PrintError::Compile(describe(&errors)))?;
    let options = PdfOptions {
        ident: Smart::Custom("melding-print".to_owned()),
        creator: Smart::Custom(Some("Melding".to_owned())),
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options)
        .map_err(|errors| PrintError::Export(describe(&errors)))?;
    // Typst memoizes across compilations; keep only what recent letters used so a long-running
    // process does not grow (what the typst CLI's watch mode does after each compile).
    comemo::evict(10);

    let pages = document.pages().len();
    let attachment_pages: usize = appended.iter().map(|a| a.pages).sum();
    Ok(PrintedLetter {
        pdf,
        pages,
        letter_pages: pages - attachment_pages,
        printed_attachments: appended,
        not_printable,
    })
}

/// The page count and bytes of a printable attachment, or why it is not printable.
///
/// The PDF is opened with a password no one uses, so that every encrypted PDF fails here,
/// including those whose user password is empty and which viewers open without asking: the
/// print house takes no encrypted files (rule 30).
fn printable_pages(attachment: &PrintAttachment) -> Result<(usize, Bytes), NotPrintableReason> {
    let media_type = attachment.media_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/pdf") {
        return Err(NotPrintableReason::NotPdf {
            media_type: attachment.media_type.clone(),
        });
    }
    const NOT_A_PASSWORD: &str = "\u{1}melding-print refuses encrypted PDFs\u{1}";
    let bytes = Bytes::new(attachment.bytes.clone());
    match Pdf::new_with_password(Arc::new(bytes.clone()), NOT_A_PASSWORD) {
        Ok(pdf) if !pdf.pages().is_empty() => Ok((pdf.pages().len(), bytes)),
        Ok(_) | Err(LoadPdfError::Invalid) => Err(NotPrintableReason::Unreadable),
        Err(LoadPdfError::Decryption(_)) => Err(NotPrintableReason::Encrypted),
    }
}

/// Typst's diagnostics as one line: each message with its hints.
fn describe(errors: &EcoVec<SourceDiagnostic>) -> String {
    errors
        .iter()
        .map(|e| {
            let mut line = e.message.to_string();
            for hint in &e.hints {
                line.push_str(" (hint: ");
                line.push_str(&hint.v);
                line.push(')');
            }
            line
        })
        .collect::<Vec<_>>()
        .join("; ")
}
