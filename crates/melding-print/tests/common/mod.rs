//! Sample letters and the poppler-utils checks shared by the tests and the sample example.
#![allow(dead_code)] // each test binary uses a part of this module

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use melding_domain::OrgNumber;
use melding_print::{
    Language, PostalAddress, PrintAttachment, PrintLetter, PrintRecipient, Sender,
};

/// The markdown body of the sample letter: headings, emphasis, lists, a link, code, æøå.
pub const SAMPLE_BODY: &str = "\
Vi viser til søknaden din om **parkeringstillatelse** for *Sørkedalsveien 17*.

## Vedtak

Søknaden er innvilget. Tillatelsen gjelder fra 1. desember 2026 og har nummeret `PT-2026-0042`.

Du må:

1. henge beviset godt synlig i frontruta,
2. fornye tillatelsen før den går ut,
3. melde fra om du flytter.

### Klage

Du kan klage på vedtaket innen tre uker. Se [klageskjemaet](https://www.oslo.kommune.no/klage) \
eller skriv til oss.

- Æ, Ø og Å står riktig: blåbærsyltetøy og ÆØÅ.
- Spørsmål? Ring 21 80 21 80.

```
Saksnummer: 26/01234-5
```
";

/// A letter from Oslo kommune to a person in Oslo, bokmål, no attachments.
pub fn sample_letter() -> PrintLetter {
    PrintLetter {
        sender: Sender {
            name: "Oslo kommune, Bymiljøetaten".to_owned(),
            org_number: OrgNumber::parse("974760673").expect("a valid organisation number"),
            address_lines: vec!["Postboks 636 Løren".to_owned(), "0507 Oslo".to_owned()],
        },
        recipient: PrintRecipient {
            name: "Åse Ødegård Sæther".to_owned(),
            address: PostalAddress {
                lines: vec!["Kjølberggata 7B".to_owned()],
                postal_code: "0653".to_owned(),
                city: "Oslo".to_owned(),
                country: None,
            },
        },
        date: NaiveDate::from_ymd_opt(2026, 11, 30).expect("a real date"),
        title: "Vedtak om parkeringstillatelse for beboere".to_owned(),
        summary: Some("Søknaden din er innvilget. Tillatelsen gjelder i ett år.".to_owned()),
        body_markdown: SAMPLE_BODY.to_owned(),
        attachments: Vec::new(),
        language: Language::Bokmal,
    }
}

/// A PDF attachment made by rendering another letter with the crate itself; its body runs over
/// `paragraphs` paragraphs so it can be made to fill more than one page.
pub fn attachment_pdf(name: &str, marker: &str, paragraphs: usize) -> PrintAttachment {
    let mut letter = sample_letter();
    letter.title = format!("Vedlegg {marker}");
    letter.summary = None;
    letter.body_markdown = (0..paragraphs)
        .map(|i| {
            format!(
                "Avsnitt {i} i vedlegget {marker}. {}",
                "Lorem ipsum dolor sit amet. ".repeat(12)
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let printed = melding_print::render(&letter).expect("the attachment letter renders");
    PrintAttachment {
        name: name.to_owned(),
        media_type: "application/pdf".to_owned(),
        bytes: printed.pdf,
    }
}

/// Whether the poppler-utils commands (pdftotext, pdfinfo, pdffonts, pdftoppm) are here.
/// Without them a test fails with a clear message, unless `MELDING_SKIP_PRINT=1`, when it
/// says it is skipped and the caller returns early.
pub fn poppler_available(test: &str) -> bool {
    let present = ["pdftotext", "pdfinfo", "pdffonts", "pdftoppm"]
        .iter()
        .all(|tool| Command::new(tool).arg("-v").output().is_ok());
    if present {
        return true;
    }
    if std::env::var("MELDING_SKIP_PRINT").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: poppler-utils is missing and MELDING_SKIP_PRINT=1");
        return false;
    }
    panic!(
        "{test} needs poppler-utils (pdftotext, pdfinfo, pdffonts, pdftoppm): \
         apt-get install poppler-utils, or set MELDING_SKIP_PRINT=1 to skip"
    );
}

/// A fresh directory under the system's temporary directory, removed when dropped.
///
/// Written here instead of taking the `tempfile` crate: that crate's dependencies (rustix) turn
/// on other features of crates typst also uses, which made cargo build all of typst a second
/// time for the tests.
pub struct TempDir(PathBuf);

impl TempDir {
    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Makes a [`TempDir`] named after the process and a counter.
pub fn tempdir() -> std::io::Result<TempDir> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("melding-print-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&path)?;
    Ok(TempDir(path))
}

/// Writes `pdf` into `dir` as `name` and returns its path.
pub fn write_pdf(dir: &Path, name: &str, pdf: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pdf).expect("write the PDF");
    path
}

/// Runs a command and returns its standard output; panics with its standard error if it fails.
pub fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The text of `pdf` (all pages, or `first..=last`) as pdftotext gives it, layout kept.
pub fn pdf_text(pdf: &Path, pages: Option<(usize, usize)>) -> String {
    let mut args: Vec<String> = vec!["-layout".into(), "-enc".into(), "UTF-8".into()];
    if let Some((first, last)) = pages {
        args.extend([
            "-f".into(),
            first.to_string(),
            "-l".into(),
            last.to_string(),
        ]);
    }
    args.extend([pdf.to_str().expect("UTF-8 path").to_owned(), "-".into()]);
    run(
        "pdftotext",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

/// pdfinfo's fields as (key, value) pairs.
pub fn pdf_info(pdf: &Path) -> Vec<(String, String)> {
    run("pdfinfo", &[pdf.to_str().expect("UTF-8 path")])
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// One field of pdfinfo.
pub fn info_field(info: &[(String, String)], key: &str) -> String {
    info.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("pdfinfo has no {key}: {info:?}"))
}

/// A word on a page with its box in PDF points from the page's top-left corner.
#[derive(Debug, Clone)]
pub struct Word {
    pub page: usize,
    pub text: String,
    pub x_min: f64,
    pub y_min: f64,
    pub x_max: f64,
    pub y_max: f64,
}

/// Every word of `pdf` with its bounding box, from `pdftotext -bbox` (an XHTML file with one
/// `<page>` per page and one `<word xMin=… yMin=… xMax=… yMax=…>` per word).
pub fn pdf_words(pdf: &Path) -> Vec<Word> {
    let xhtml = run(
        "pdftotext",
        &[
            "-bbox",
            "-enc",
            "UTF-8",
            pdf.to_str().expect("UTF-8 path"),
            "-",
        ],
    );
    let mut words = Vec::new();
    let mut page = 0;
    for line in xhtml.lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            page += 1;
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let attr = |name: &str| -> f64 {
                let start = rest.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
                let end = start + rest[start..].find('"').expect("closing quote");
                rest[start..end].parse().expect("a number")
            };
            let text_start = rest.find('>').expect("end of tag") + 1;
            let text_end = rest.rfind("</word>").expect("closing tag");
            words.push(Word {
                page,
                text: rest[text_start..text_end].to_owned(),
                x_min: attr("xMin"),
                y_min: attr("yMin"),
                x_max: attr("xMax"),
                y_max: attr("yMax"),
            });
        }
    }
    words
}

/// Millimetres to PDF points (1 pt = 1/72 inch).
pub fn mm(mm: f64) -> f64 {
    mm * 72.0 / 25.4
}
