//! The typst source of one letter: page setup, letter head, window address, date, title,
//! summary, body, the list of attachments and the appended PDF pages.
//!
//! ## Layout (A4 portrait, 210 × 297 mm; positions from the page's top-left corner)
//!
//! The address block follows **DIN 5008:2020 form B**, the layout window envelopes C5/6, C5
//! and C4 with a left window (DIN 680 / ISO 269: window 90 × 45 mm, 20 mm from the left edge)
//! are made for; Posten's standard window envelopes use the same window position
//! (`delivery-chain.md` §3.5 only says "laid out for the envelope window"; Posten's own
//! measurements are **unverified**):
//!
//! | Zone | Left | Top | Size |
//! |---|---|---|---|
//! | Letter head (sender) | 25 mm | 20 mm | up to 45 mm from the top |
//! | Address field (window) | 20 mm | 45 mm | 85 × 45 mm |
//! | – return line (sender, 7 pt) | 25 mm | 56 mm | in the 17.7 mm "Zusatz- und Vermerkzone" |
//! | – recipient address (10 pt) | 25 mm | 62.7 mm | 27.3 mm high: six lines |
//! | Date block | 125 mm | 50 mm | 75 mm wide |
//! | Title, then body | 25 mm | 98.5 mm | 165 mm wide |
//!
//! Text starts 5 mm inside the window (25 mm from the edge), as DIN 5008 sets it, which also
//! keeps it clear of the print house's 18 mm barcode strip on the left
//! (`delivery-chain.md` §3.5, rule 30). Page margins: left 25 mm, right 20 mm, top 20 mm,
//! bottom 22 mm, footer "Side 1 av 2" on the letter's pages.
//!
//! Appended PDF pages are each scaled to fit a box 192 × 297 mm that starts 18 mm from the left
//! edge (keeping their proportions, centred), so nothing of an attachment lands in the
//! barcode strip either; an A4 page shrinks to about 91 %.

use std::fmt::Write;

use chrono::Datelike;

use crate::letter::{PrintLetter, Sender};
use crate::markdown::{body_markup, string_literal, text_markup};
use crate::texts::Texts;
use crate::world::attachment_path;

/// Left page margin of the letter pages, in mm (DIN 5008: 25 mm).
pub const LEFT_MARGIN_MM: f64 = 25.0;
/// Top page margin of the letter pages, in mm.
const TOP_MARGIN_MM: f64 = 20.0;
/// The print house's barcode strip on the left edge, in mm, kept empty on every page
/// (`delivery-chain.md` §3.5).
pub const BARCODE_STRIP_MM: f64 = 18.0;
/// Top of the return line in the address field, mm from the top edge.
const RETURN_LINE_TOP_MM: f64 = 56.0;
/// Top of the recipient address (DIN 5008 form B: 45 + 17.7 mm).
pub const ADDRESS_TOP_MM: f64 = 62.7;
/// Left edge of the date block, mm.
const DATE_BLOCK_LEFT_MM: f64 = 125.0;
/// Top of the date block, mm.
const DATE_BLOCK_TOP_MM: f64 = 50.0;
/// Where the title starts on page one, mm from the top.
const TITLE_TOP_MM: f64 = 98.5;

/// One printable attachment as the template needs it.
pub(crate) struct AppendedPdf<'a> {
    /// The name shown in the attachment list.
    pub name: &'a str,
    /// Its page count.
    pub pages: usize,
}

/// One attachment left out, with its reason in words.
pub(crate) struct LeftOut<'a> {
    /// The name shown.
    pub name: &'a str,
    /// Why, in the letter's language.
    pub reason: String,
}

/// The label that marks the end of the letter's own pages, for "Side x av y".
const LETTER_END: &str = "<melding-letter-end>";

/// Writes the whole typst source of `letter`. PDFs in `appended` are read from
/// [`attachment_path`]`(i)` in the order given.
pub(crate) fn letter_source(
    letter: &PrintLetter,
    appended: &[AppendedPdf<'_>],
    left_out: &[LeftOut<'_>],
) -> String {
    let texts = Texts::of(letter.language);
    let mut s = String::with_capacity(4096 + letter.body_markdown.len() * 2);
    let lit = |text: &str| string_literal(text);
    let date = letter.date;

    // Document metadata and the fixed creation date (deterministic output).
    let _ = writeln!(
        s,
        "#set document(title: {}, author: {}, date: datetime(year: {}, month: {}, day: {}))",
        lit(&letter.title),
        lit(&letter.sender.name),
        date.year(),
        date.month(),
        date.day(),
    );
    let _ = writeln!(
        s,
        "#set text(font: \"Libertinus Serif\", size: 11pt, lang: \"{}\")",
        letter.language.typst_lang()
    );
    s.push_str("#set par(justify: false, spacing: 0.9em, leading: 0.6em)\n");
    s.push_str("#show raw: set text(font: \"DejaVu Sans Mono\", size: 9pt)\n");
    s.push_str("#show heading: set text(size: 12pt)\n");
    s.push_str("#show heading.where(level: 1): set text(size: 13pt)\n");
    s.push_str("#show heading: set block(above: 1.2em, below: 0.7em)\n");
    let _ = writeln!(
        s,
        "#set page(paper: \"a4\", margin: (left: {LEFT_MARGIN_MM}mm, right: 20mm, \
         top: {TOP_MARGIN_MM}mm, bottom: 22mm), footer: context [\
         #set text(size: 8pt)\n\
         #h(1fr){page}#\" \"#here().page()#\" \"{of}#\" \"\
         #counter(page).at({LETTER_END}).first()])",
        page = text_markup(texts.page),
        of = text_markup(texts.of),
    );

    // Page one: letter head, address field and date block, placed absolutely.
    let at = |left_mm: f64, top_mm: f64| {
        format!(
            "#place(top + left, dx: {:.2}mm, dy: {:.2}mm)",
            left_mm - LEFT_MARGIN_MM,
            top_mm - TOP_MARGIN_MM
        )
    };
    let _ = writeln!(
        s,
        "{}[{}]",
        at(LEFT_MARGIN_MM, TOP_MARGIN_MM),
        letter_head(&letter.sender, texts)
    );
    let _ = writeln!(
        s,
        "{}[#block(width: 80mm)[#set text(size: 7pt)\n#underline[{}]]]",
        at(LEFT_MARGIN_MM, RETURN_LINE_TOP_MM),
        text_markup(&return_line(&letter.sender)),
    );
    let _ = writeln!(
        s,
        "{}[#block(width: 80mm, height: 27mm)[#set text(size: 10pt)\n#set par(spacing: 0pt, leading: 0.45em)\n{}]]",
        at(LEFT_MARGIN_MM, ADDRESS_TOP_MM),
        address_markup(letter),
    );
    let _ = writeln!(
        s,
        "{}[#set text(size: 10pt)\n{}#\": \"{}]",
        at(DATE_BLOCK_LEFT_MM, DATE_BLOCK_TOP_MM),
        text_markup(texts.date),
        text_markup(&texts.long_date(date)),
    );
    let _ = writeln!(s, "#v({:.2}mm)", TITLE_TOP_MM - TOP_MARGIN_MM);

    // Title, summary, body.
    let _ = writeln!(
        s,
        "#block(below: 1.2em)[#set text(size: 15pt, weight: \"bold\")\n{}]",
        text_markup(&letter.title)
    );
    if let Some(summary) = letter.summary.as_deref().filter(|t| !t.trim().is_empty()) {
        let _ = writeln!(
            s,
            "#block(inset: (left: 3mm, y: 1mm), stroke: (left: 1pt), below: 1.2em)[#emph[{}]]",
            text_markup(summary)
        );
    }
    s.push_str(&body_markup(&letter.body_markdown));
    s.push('\n');

    // The attachment lists.
    if !appended.is_empty() {
        let _ = writeln!(
            s,
            "\n#heading(level: 2, outlined: false)[{}]",
            text_markup(texts.attachments)
        );
        s.push_str("#enum(");
        for pdf in appended {
            let unit = if pdf.pages == 1 {
                texts.page_one
            } else {
                texts.page_many
            };
            let _ = write!(
                s,
                "[{}],",
                text_markup(&format!("{} ({} {unit})", pdf.name, pdf.pages))
            );
        }
        s.push_str(")\n");
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            s,
            "\n#heading(level: 2, outlined: false)[{}]",
            text_markup(texts.not_printable)
        );
        let _ = writeln!(s, "{}\n", text_markup(texts.not_printable_note));
        s.push_str("#list(");
        for item in left_out {
            let _ = write!(
                s,
                "[{}],",
                text_markup(&format!("{} – {}", item.name, item.reason))
            );
        }
        s.push_str(")\n");
    }
    let _ = writeln!(s, "#metadata(none) {LETTER_END}");

    // The appended PDFs, every page, clear of the barcode strip.
    for (index, pdf) in appended.iter().enumerate() {
        let _ = writeln!(
            s,
            "#for p in range(1, {pages} + 1) {{ page(margin: (left: {BARCODE_STRIP_MM}mm, rest: 0mm), \
             header: none, footer: none, image({path}, page: p, width: 100%, height: 100%, \
             fit: \"contain\", alt: {alt})) }}",
            pages = pdf.pages,
            path = lit(&attachment_path(index)),
            alt = lit(pdf.name),
        );
    }
    s
}

/// The letter head: the sender's name in bold, the organisation number, the address lines.
fn letter_head(sender: &Sender, texts: &Texts) -> String {
    let mut head = format!(
        "#block(width: 95mm)[#set par(spacing: 0pt, leading: 0.45em)\n#text(size: 13pt, weight: \"bold\")[{}]#linebreak()#text(size: 9pt)[{}]",
        text_markup(&sender.name),
        text_markup(&format!(
            "{} {}",
            texts.org_number,
            grouped_org_number(sender)
        )),
    );
    for line in &sender.address_lines {
        let _ = write!(head, "#linebreak()#text(size: 9pt)[{}]", text_markup(line));
    }
    head.push(']');
    head
}

/// The organisation number grouped the Norwegian way: `974 760 673`.
fn grouped_org_number(sender: &Sender) -> String {
    let digits = sender.org_number.as_str();
    if digits.len() == 9 {
        format!("{} {} {}", &digits[0..3], &digits[3..6], &digits[6..9])
    } else {
        digits.to_owned()
    }
}

/// The one-line return address above the recipient (DIN 5008's "Rücksendeangabe").
fn return_line(sender: &Sender) -> String {
    std::iter::once(sender.name.as_str())
        .chain(sender.address_lines.iter().map(String::as_str))
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The recipient's name and address, one line each: name, street lines, "postnummer poststed",
/// and the country in capitals when abroad (UPU practice: last line, capitals).
fn address_markup(letter: &PrintLetter) -> String {
    let address = &letter.recipient.address;
    let mut lines: Vec<String> = vec![letter.recipient.name.clone()];
    lines.extend(
        address
            .lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned(),
    );
    match &address.country {
        None => lines.push(format!("{} {}", address.postal_code, address.city)),
        Some(country) => {
            lines.push(format!(
                "{} {}",
                address.postal_code,
                address.city.to_uppercase()
            ));
            lines.push(country.to_uppercase());
        }
    }
    lines
        .iter()
        .map(|l| text_markup(l))
        .collect::<Vec<_>>()
        .join("#linebreak()")
}
