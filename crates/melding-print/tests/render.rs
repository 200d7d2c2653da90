//! Renders sample letters and checks the PDFs with poppler-utils (pdftotext, pdfinfo, pdffonts):
//! the print house's rules from `delivery-chain.md` §3.5 and rule 30 (A4 portrait, 18 mm left
//! margin, embedded fonts, only PDF attachments), the window address, the text, and that a
//! letter's text can never become typst code.

mod common;

use std::process::Command;

use common::*;
use melding_print::{
    ADDRESS_TOP_MM, BARCODE_STRIP_MM, Language, NotPrintableReason, PrintAttachment, render,
};

fn a4_page_size(info: &[(String, String)]) {
    let size = info_field(info, "Page size");
    assert!(
        size.starts_with("595.") && size.contains(" x 841.") && size.contains("(A4)"),
        "not A4 portrait: {size}"
    );
}

/// Collapses runs of whitespace, so that text checks do not depend on pdftotext's layout.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_letter_is_a4_with_address_title_norwegian_letters_and_the_markdown_as_text() {
    if !poppler_available("a_letter_is_a4…") {
        return;
    }
    let dir = tempdir().unwrap();
    let printed = render(&sample_letter()).expect("renders");
    let pdf = write_pdf(dir.path(), "letter.pdf", &printed.pdf);

    let info = pdf_info(&pdf);
    a4_page_size(&info);
    assert_eq!(info_field(&info, "Pages"), printed.pages.to_string());
    assert_eq!(printed.pages, printed.letter_pages);
    assert_eq!(info_field(&info, "Encrypted"), "no");
    let version: f64 = info_field(&info, "PDF version").parse().unwrap();
    assert!(
        (1.0..=1.7).contains(&version),
        "PDF {version} is outside 1.0–1.7 (§3.5)"
    );
    assert_eq!(
        info_field(&info, "Title"),
        "Vedtak om parkeringstillatelse for beboere"
    );

    let text = squeezed(&pdf_text(&pdf, None));
    for expected in [
        "Vedtak om parkeringstillatelse for beboere",
        "Oslo kommune, Bymiljøetaten",
        "Org.nr. 974 760 673",
        "Åse Ødegård Sæther",
        "Kjølberggata 7B",
        "0653 Oslo",
        "Dato: 30. november 2026",
        "Søknaden din er innvilget. Tillatelsen gjelder i ett år.",
        // Markdown without its syntax: strong, emphasis, heading, ordered list, inline code.
        "Vi viser til søknaden din om parkeringstillatelse for Sørkedalsveien 17.",
        "Vedtak",
        "PT-2026-0042",
        "1. henge beviset godt synlig i frontruta,",
        "3. melde fra om du flytter.",
        // A link prints its text and its address.
        "klageskjemaet (https://www.oslo.kommune.no/klage)",
        "Æ, Ø og Å står riktig: blåbærsyltetøy og ÆØÅ.",
        "Saksnummer: 26/01234-5",
        "Side 1 av 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    for syntax in ["**", "##", "](", "```", "`PT"] {
        assert!(
            !text.contains(syntax),
            "markdown syntax {syntax:?} printed:\n{text}"
        );
    }
}

#[test]
fn every_font_is_embedded() {
    if !poppler_available("every_font_is_embedded") {
        return;
    }
    let dir = tempdir().unwrap();
    let mut letter = sample_letter();
    letter
        .attachments
        .push(attachment_pdf("vedlegg.pdf", "A", 1));
    let pdf = write_pdf(dir.path(), "letter.pdf", &render(&letter).unwrap().pdf);
    let fonts = run("pdffonts", &[pdf.to_str().unwrap()]);
    // name, type, encoding, emb, sub, uni, object ID: after the two header lines, one per font.
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "no fonts listed:\n{fonts}");
    for row in rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        let emb = columns[columns.len() - 5];
        assert_eq!(emb, "yes", "font not embedded: {row}\n{fonts}");
    }
}

#[test]
fn nothing_is_printed_in_the_barcode_strip_and_the_address_sits_in_the_window() {
    if !poppler_available("nothing_is_printed_in_the_barcode_strip…") {
        return;
    }
    let dir = tempdir().unwrap();
    let mut letter = sample_letter();
    letter
        .attachments
        .push(attachment_pdf("vedlegg.pdf", "B", 1));
    let printed = render(&letter).unwrap();
    let words = pdf_words(&write_pdf(dir.path(), "letter.pdf", &printed.pdf));
    assert!(
        words.iter().any(|w| w.page == printed.pages),
        "the attachment page has no text"
    );

    let strip = mm(BARCODE_STRIP_MM);
    let in_strip: Vec<_> = words.iter().filter(|w| w.x_min < strip).collect();
    assert!(
        in_strip.is_empty(),
        "text left of {strip} pt (18 mm): {in_strip:?}"
    );

    // The window of a DIN 680 / C5 envelope: 20–110 mm from the left, 45–90 mm from the top.
    let (left, right, top, bottom) = (mm(20.0), mm(110.0), mm(45.0), mm(90.0));
    for word in ["Åse", "Kjølberggata", "0653"] {
        let w = words
            .iter()
            .find(|w| w.page == 1 && w.text == word)
            .expect(word);
        assert!(
            w.x_min >= left && w.x_max <= right && w.y_min >= top && w.y_max <= bottom,
            "{word} is outside the window: {w:?}"
        );
        // pdftotext's box starts at the font's ascender, which rises above the line's top (by
        // 0.8 mm for "Å" in Libertinus Serif at 10 pt); allow 1 mm.
        assert!(
            w.y_min >= mm(ADDRESS_TOP_MM - 1.0),
            "{word} is above the address zone: {w:?}"
        );
    }
}

#[test]
fn pdf_attachments_are_appended_with_all_their_pages() {
    if !poppler_available("pdf_attachments_are_appended_with_all_their_pages") {
        return;
    }
    let dir = tempdir().unwrap();
    let long = attachment_pdf("Kart over sonen.pdf", "LANG", 14);
    let long_pages = render_pages(&long);
    assert!(
        long_pages >= 2,
        "the long attachment should run over pages, has {long_pages}"
    );
    let mut letter = sample_letter();
    letter.attachments = vec![long, attachment_pdf("Gebyrer.pdf", "KORT", 1)];
    let printed = render(&letter).unwrap();

    assert_eq!(printed.printed_attachments.len(), 2);
    assert_eq!(printed.printed_attachments[0].pages, long_pages);
    assert_eq!(printed.printed_attachments[1].pages, 1);
    assert_eq!(printed.pages, printed.letter_pages + long_pages + 1);
    assert!(printed.not_printable.is_empty());

    let pdf = write_pdf(dir.path(), "letter.pdf", &printed.pdf);
    assert_eq!(
        info_field(&pdf_info(&pdf), "Pages"),
        printed.pages.to_string()
    );
    a4_page_size(&pdf_info(&pdf));
    let letter_text = squeezed(&pdf_text(&pdf, Some((1, printed.letter_pages))));
    assert!(letter_text.contains("Vedlegg"), "{letter_text}");
    assert!(
        letter_text.contains(&format!("1. Kart over sonen.pdf ({long_pages} sider)")),
        "{letter_text}"
    );
    assert!(
        letter_text.contains("2. Gebyrer.pdf (1 side)"),
        "{letter_text}"
    );
    assert!(
        !letter_text.contains("LANG"),
        "attachment text on the letter's pages"
    );

    let first = printed.letter_pages + 1;
    let attached = squeezed(&pdf_text(&pdf, Some((first, first + long_pages - 1))));
    assert!(attached.contains("Vedlegg LANG"), "{attached}");
    assert!(
        attached.contains("Avsnitt 13 i vedlegget LANG"),
        "last paragraph missing: {attached}"
    );
    let last = squeezed(&pdf_text(&pdf, Some((printed.pages, printed.pages))));
    assert!(last.contains("Avsnitt 0 i vedlegget KORT"), "{last}");
}

/// The page count of a PDF attachment as pdfinfo reads it.
fn render_pages(attachment: &PrintAttachment) -> usize {
    let dir = tempdir().unwrap();
    let pdf = write_pdf(dir.path(), "a.pdf", &attachment.bytes);
    info_field(&pdf_info(&pdf), "Pages").parse().unwrap()
}

#[test]
fn attachments_that_cannot_be_printed_are_listed_and_returned() {
    if !poppler_available("attachments_that_cannot_be_printed_are_listed_and_returned") {
        return;
    }
    let dir = tempdir().unwrap();
    let good = attachment_pdf("Vedtak.pdf", "OK", 1);
    // A PDF header and a catalog, but no page tree: what a cut-off upload can look like.
    let broken =
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
            .to_vec();
    let mut letter = sample_letter();
    letter.attachments = vec![
        PrintAttachment {
            name: "Søknad.docx".into(),
            media_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                .into(),
            bytes: b"PK\x03\x04 not really a docx".to_vec(),
        },
        good,
        PrintAttachment {
            name: "Ødelagt.pdf".into(),
            media_type: "application/pdf".into(),
            bytes: broken,
        },
        PrintAttachment {
            name: "Bilde.png".into(),
            media_type: "image/png".into(),
            bytes: vec![0x89, b'P'],
        },
    ];
    let printed = render(&letter).unwrap();
    let names: Vec<_> = printed
        .not_printable
        .iter()
        .map(|n| (n.name.as_str(), &n.reason))
        .collect();
    assert_eq!(
        names,
        vec![
            (
                "Søknad.docx",
                &NotPrintableReason::NotPdf {
                    media_type:
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                            .into()
                }
            ),
            ("Ødelagt.pdf", &NotPrintableReason::Unreadable),
            (
                "Bilde.png",
                &NotPrintableReason::NotPdf {
                    media_type: "image/png".into()
                }
            ),
        ]
    );
    assert_eq!(printed.printed_attachments.len(), 1);
    assert_eq!(printed.pages, printed.letter_pages + 1);

    let pdf = write_pdf(dir.path(), "letter.pdf", &printed.pdf);
    let text = squeezed(&pdf_text(&pdf, Some((1, printed.letter_pages))));
    assert!(text.contains("Vedlegg som ikke kan skrives ut"), "{text}");
    assert!(text.contains("Søknad.docx – ikke PDF"), "{text}");
    assert!(
        text.contains("Ødelagt.pdf – PDF-filen kan ikke leses"),
        "{text}"
    );
    assert!(text.contains("Bilde.png – ikke PDF (image/png)"), "{text}");
}

#[test]
fn an_encrypted_pdf_is_not_printed_even_without_a_password_to_open_it() {
    if !poppler_available("an_encrypted_pdf_is_not_printed…") {
        return;
    }
    if Command::new("qpdf").arg("--version").output().is_err() {
        if std::env::var("MELDING_SKIP_PRINT").as_deref() == Ok("1") {
            eprintln!("SKIPPED: qpdf is missing and MELDING_SKIP_PRINT=1");
            return;
        }
        panic!("this test encrypts a PDF with qpdf: apt-get install qpdf, or MELDING_SKIP_PRINT=1");
    }
    let dir = tempdir().unwrap();
    let plain = write_pdf(
        dir.path(),
        "plain.pdf",
        &attachment_pdf("x", "HEMMELIG", 1).bytes,
    );
    let mut attachments = Vec::new();
    // An empty user password (opens without asking, as viewers do) and a real one.
    for (user, name) in [("", "Tom.pdf"), ("hemmelig", "Passord.pdf")] {
        let out = dir.path().join(name);
        run(
            "qpdf",
            &[
                "--encrypt",
                user,
                "eier",
                "256",
                "--",
                plain.to_str().unwrap(),
                out.to_str().unwrap(),
            ],
        );
        attachments.push(PrintAttachment {
            name: name.into(),
            media_type: "application/pdf".into(),
            bytes: std::fs::read(&out).unwrap(),
        });
    }
    let mut letter = sample_letter();
    letter.attachments = attachments;
    let printed = render(&letter).unwrap();
    assert!(printed.printed_attachments.is_empty());
    let reasons: Vec<_> = printed.not_printable.iter().map(|n| &n.reason).collect();
    assert_eq!(
        reasons,
        [
            &NotPrintableReason::Encrypted,
            &NotPrintableReason::Encrypted
        ]
    );
    let text = squeezed(&pdf_text(
        &write_pdf(dir.path(), "l.pdf", &printed.pdf),
        None,
    ));
    assert!(
        text.contains("Tom.pdf – kryptert eller passordbeskyttet"),
        "{text}"
    );
    assert!(!text.contains("HEMMELIG"), "{text}");
}

#[test]
fn letter_text_never_runs_as_typst_code() {
    if !poppler_available("letter_text_never_runs_as_typst_code") {
        return;
    }
    let dir = tempdir().unwrap();
    let mut letter = sample_letter();
    letter.title = "Tittel #set page(width: 5cm) ] \\ \"".into();
    letter.sender.name = "Avsender ]#set text(size: 40pt)[".into();
    letter.recipient.name = "Navn $x^2$ <etikett> @ref".into();
    letter.recipient.address.lines = vec!["Gate /* kommentar */ 1 // ikke kommentar".into()];
    letter.summary = Some("#import \"@preview/x:0.1.0\": *".into());
    letter.body_markdown = concat!(
        "Linje med \\#set page(paper: \"a5\") og `#set page(paper: \"a6\")`.\n\n",
        "Stjerne \\*ikke fet\\* og ]]] og [[[ og \\\\ bakstrek og \"sitat\".\n\n",
        "Matte $1 + 1$ og #let x = 1 og #{panic(\"inn\")} og {x} og <lab> og @lab.\n\n",
        "```\n#read(\"/etc/passwd\")\n\\u{41}\n```\n\n",
        "- #import \"@preview/pakke:1.0.0\": *\n",
    )
    .into();
    let printed = render(&letter).expect("renders whatever the text");
    let pdf = write_pdf(dir.path(), "letter.pdf", &printed.pdf);
    a4_page_size(&pdf_info(&pdf));
    let text = squeezed(&pdf_text(&pdf, None));
    for literal in [
        "Tittel #set page(width: 5cm) ] \\ \"",
        "Avsender ]#set text(size: 40pt)[",
        "Navn $x^2$ <etikett> @ref",
        "Gate /* kommentar */ 1 // ikke kommentar",
        "#import \"@preview/x:0.1.0\": *",
        "Linje med #set page(paper: \"a5\") og #set page(paper: \"a6\").",
        "Stjerne *ikke fet* og ]]] og [[[ og \\ bakstrek og \"sitat\".",
        "Matte $1 + 1$ og #let x = 1 og #{panic(\"inn\")} og {x} og <lab> og @lab.",
        "#read(\"/etc/passwd\")",
        "\\u{41}",
        "#import \"@preview/pakke:1.0.0\": *",
    ] {
        assert!(text.contains(literal), "missing {literal:?} in:\n{text}");
    }
}

#[test]
fn rendering_is_deterministic() {
    let mut letter = sample_letter();
    letter
        .attachments
        .push(attachment_pdf("vedlegg.pdf", "D", 1));
    let first = render(&letter).unwrap();
    let second = render(&letter).unwrap();
    assert!(first.pdf == second.pdf, "two renders of one letter differ");
    let mut later = letter.clone();
    later.date = later.date.succ_opt().unwrap();
    assert!(
        render(&later).unwrap().pdf != first.pdf,
        "the date is not in the PDF"
    );
}

#[test]
fn nynorsk_and_english_letters_use_their_own_words() {
    if !poppler_available("nynorsk_and_english_letters_use_their_own_words") {
        return;
    }
    let dir = tempdir().unwrap();
    for (language, expected) in [
        (
            Language::Nynorsk,
            [
                "Vedlegg som ikkje kan skrivast ut",
                "Dato: 30. november 2026",
                "Side 1 av 1",
            ],
        ),
        (
            Language::English,
            [
                "Attachments that cannot be printed",
                "Date: 30 November 2026",
                "Page 1 of 1",
            ],
        ),
    ] {
        let mut letter = sample_letter();
        letter.language = language;
        letter.attachments = vec![PrintAttachment {
            name: "notat.txt".into(),
            media_type: "text/plain".into(),
            bytes: b"hei".to_vec(),
        }];
        let pdf = write_pdf(dir.path(), "l.pdf", &render(&letter).unwrap().pdf);
        let text = squeezed(&pdf_text(&pdf, None));
        for e in expected {
            assert!(text.contains(e), "{language:?}: missing {e:?} in {text}");
        }
    }
}

#[test]
fn a_foreign_address_ends_with_the_country_in_capitals() {
    if !poppler_available("a_foreign_address_ends_with_the_country_in_capitals") {
        return;
    }
    let dir = tempdir().unwrap();
    let mut letter = sample_letter();
    letter.recipient.address.postal_code = "SE-111 22".into();
    letter.recipient.address.city = "Stockholm".into();
    letter.recipient.address.country = Some("Sverige".into());
    let pdf = write_pdf(dir.path(), "l.pdf", &render(&letter).unwrap().pdf);
    let text = pdf_text(&pdf, Some((1, 1)));
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let city = lines
        .iter()
        .position(|l| l.starts_with("SE-111 22 STOCKHOLM"))
        .expect(&text);
    assert!(lines[city + 1].starts_with("SVERIGE"), "{text}");
}

#[test]
fn sheets_count_two_pages_per_sheet_when_duplex() {
    let mut letter = sample_letter();
    letter.attachments.push(attachment_pdf("a.pdf", "S", 14));
    let printed = render(&letter).unwrap();
    assert!(printed.pages >= 3);
    assert_eq!(printed.sheets(false), printed.pages);
    assert_eq!(printed.sheets(true), printed.pages.div_ceil(2));
}
