//! Printable letters: one letter rendered to a PDF for the print house, for the paper fallback
//! of the delivery chain (`DESIGN.md` step 6; `delivery-chain.md` §3.5 and rules 30–31).
//!
//! [`render`] takes a [`PrintLetter`] (sender, the recipient's postal address, date, title,
//! markdown body, attachments) and gives a [`PrintedLetter`]: an A4 PDF with embedded fonts,
//! the address placed for a left-window envelope (see [`template`] for the positions), PDF
//! attachments appended page by page, and the other attachments listed as not printable.
//!
//! Typst is used as a library, with its fonts compiled in (typst-assets) and a world of our own
//! (`world.rs`), so rendering reads no files and needs no system fonts. It lives in its own crate
//! because typst is heavy to compile.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod letter;
mod markdown;
mod render;
pub mod template;
mod texts;
mod world;

pub use letter::{Language, PostalAddress, PrintAttachment, PrintLetter, PrintRecipient, Sender};
pub use render::{
    NotPrintable, NotPrintableReason, PrintError, PrintedAttachment, PrintedLetter, render,
};
pub use template::{ADDRESS_TOP_MM, BARCODE_STRIP_MM, LEFT_MARGIN_MM};
