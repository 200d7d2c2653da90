//! Renders the sample letter of the tests and writes page one as `docs/print-sample.png` at the
//! repository root (60 dpi, through poppler's `pdftoppm`), for a look at the layout without
//! opening a PDF. Run once after a layout change:
//!
//! ```sh
//! cargo run -p melding-print --example print_sample
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;

fn main() {
    let mut letter = common::sample_letter();
    letter.attachments = vec![
        common::attachment_pdf("Kart over sonen.pdf", "K", 1),
        melding_print::PrintAttachment {
            name: "Søknad.docx".to_owned(),
            media_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                .to_owned(),
            bytes: b"PK".to_vec(),
        },
    ];
    let printed = melding_print::render(&letter).expect("the sample letter renders");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let docs = root.join("docs");
    std::fs::create_dir_all(&docs).expect("create docs/");
    let dir = std::env::temp_dir().join(format!("melding-print-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let pdf = common::write_pdf(&dir, "sample.pdf", &printed.pdf);
    let prefix = dir.join("page");
    common::run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf.to_str().expect("UTF-8 path"),
            prefix.to_str().expect("UTF-8 path"),
        ],
    );
    std::fs::copy(dir.join("page.png"), docs.join("print-sample.png")).expect("copy the PNG");
    std::fs::remove_dir_all(&dir).expect("remove the temporary directory");
    println!(
        "docs/print-sample.png: page 1 of {} ({} letter pages, {} bytes of PDF)",
        printed.pages,
        printed.letter_pages,
        printed.pdf.len()
    );
}
