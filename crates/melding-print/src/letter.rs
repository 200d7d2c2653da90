//! What a printed letter is made of: the sender, the recipient's postal address, the date, the
//! title, the markdown body and the attachments. These are plain values filled in by the caller
//! (the print job in `melding-core`), which has already checked the address rules of
//! `delivery-chain.md` rule 31 (a full postal address; four-digit postnummer in Norway).

use chrono::NaiveDate;
use melding_domain::OrgNumber;

/// One letter to be printed and posted.
///
/// All text is taken literally: nothing in it is ever interpreted as typst code (see
/// [`crate::markdown`]). Only [`body_markdown`](Self::body_markdown) is read as markdown.
#[derive(Debug, Clone)]
pub struct PrintLetter {
    /// Who sends the letter (the service owner), printed in the letter head and as the return
    /// line above the address.
    pub sender: Sender,
    /// Who receives it and where the post goes; placed in the envelope window.
    pub recipient: PrintRecipient,
    /// The letter date, a calendar day in Europe/Oslo (the caller converts from UTC). It is
    /// printed in the date block and is also the PDF's creation date, which keeps rendering
    /// deterministic.
    pub date: NaiveDate,
    /// The letter's title (Altinn `content.messageTitle`), plain text.
    pub title: String,
    /// An optional summary (Altinn `content.messageSummary`), plain text, set in a box under the
    /// title.
    pub summary: Option<String>,
    /// The body (Altinn `content.messageBody`), markdown (CommonMark plus tables and
    /// strikethrough).
    pub body_markdown: String,
    /// The attachments in the order the sender gave them. PDFs are appended after the letter;
    /// the others are listed as not printable (`delivery-chain.md` rule 30: only PDF prints).
    pub attachments: Vec<PrintAttachment>,
    /// The language of the fixed texts (date, "Side", "Vedlegg", …). Bokmål by default.
    pub language: Language,
}

/// The sender block of a letter.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The sender's name, e.g. `Oslo kommune`.
    pub name: String,
    /// The sender's organisation number (nine digits, mod-11 checked by [`OrgNumber::parse`]).
    pub org_number: OrgNumber,
    /// Optional postal address lines of the sender (street, postbox, "0150 Oslo"), printed in
    /// the letter head and, joined, in the return line. May be empty.
    pub address_lines: Vec<String>,
}

/// The recipient's name and postal address.
#[derive(Debug, Clone)]
pub struct PrintRecipient {
    /// The name as it goes on the envelope (person or organisation).
    pub name: String,
    /// The postal address.
    pub address: PostalAddress,
}

/// A postal address as the print house needs it (`delivery-chain.md` rule 31). Mirrors
/// `melding_store::PostalAddress`, which this crate may not depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostalAddress {
    /// Street lines, c/o, postbox and the like, in order; at most a few short lines.
    pub lines: Vec<String>,
    /// The postal code (postnummer, four digits in Norway).
    pub postal_code: String,
    /// The postal town (poststed). Printed in capitals when abroad, as the UPU asks.
    pub city: String,
    /// The country as a name to print (e.g. `SVERIGE`), or `None` for Norway; a domestic letter
    /// carries no country line.
    pub country: Option<String>,
}

/// One attachment of the letter, with its bytes.
#[derive(Debug, Clone)]
pub struct PrintAttachment {
    /// The attachment's file name or display name, printed in the list of attachments.
    pub name: String,
    /// Its media type as the sender declared it, e.g. `application/pdf`.
    pub media_type: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// The language of the letter's fixed texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Language {
    /// Norwegian bokmål (`nb`), the default.
    #[default]
    Bokmal,
    /// Norwegian nynorsk (`nn`).
    Nynorsk,
    /// English (`en`).
    English,
}

impl Language {
    /// The language tag typst uses for hyphenation and quotes (ISO 639-1).
    pub(crate) fn typst_lang(self) -> &'static str {
        match self {
            Language::Bokmal => "nb",
            Language::Nynorsk => "nn",
            Language::English => "en",
        }
    }
}
