//! The letter renderer of the delivery chain: `melding-print` (typst) behind core's
//! [`LetterRenderer`], so that `melding-core` does not compile typst (DESIGN.md: heavy
//! dependencies in their own crates).

use melding_core::{LetterRenderer, PrintableLetter, RenderedLetter};
use melding_print::{
    Language, PostalAddress, PrintAttachment, PrintLetter, PrintRecipient, Sender,
};

/// Renders letters with `melding-print`: A4 portrait, 18 mm left margin, the recipient's
/// address in the envelope window, the markdown body typeset, PDF attachments appended
/// (`reference/delivery-chain.md` §3.5).
#[derive(Debug, Clone, Copy, Default)]
pub struct TypstRenderer;

impl LetterRenderer for TypstRenderer {
    /// Errors: typst's own, as a sentence (a letter it cannot lay out).
    fn render(&self, letter: &PrintableLetter) -> Result<RenderedLetter, String> {
        let address = letter
            .address
            .as_ref()
            .map(|a| PostalAddress {
                lines: a.lines.clone(),
                postal_code: a.postal_code.clone(),
                city: a.city.clone(),
                // A domestic letter carries no country line; abroad the ISO code is printed
                // as given (the registry keeps codes, not names).
                country: a.country.clone().filter(|c| !c.eq_ignore_ascii_case("NO")),
            })
            .unwrap_or_default();
        let print = PrintLetter {
            sender: Sender {
                name: letter.sender_name.clone(),
                org_number: letter.sender_org.clone(),
                address_lines: Vec::new(),
            },
            recipient: PrintRecipient {
                name: letter.recipient_name.clone(),
                address,
            },
            date: letter.date,
            title: letter.title.clone(),
            summary: letter.summary.clone(),
            body_markdown: letter.body_markdown.clone(),
            attachments: letter
                .attachments
                .iter()
                .map(|(name, media_type, bytes)| PrintAttachment {
                    name: name.clone(),
                    media_type: media_type.clone(),
                    bytes: bytes.clone(),
                })
                .collect(),
            language: match letter.language.as_str() {
                "nn" => Language::Nynorsk,
                "en" => Language::English,
                _ => Language::Bokmal,
            },
        };
        let printed = melding_print::render(&print).map_err(|e| e.to_string())?;
        Ok(RenderedLetter {
            pages: u32::try_from(printed.pages).unwrap_or(u32::MAX),
            pdf: printed.pdf,
        })
    }
}
