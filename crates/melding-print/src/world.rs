//! The typst `World` a letter is compiled in: the standard library, the fonts shipped inside the
//! binary (typst-assets), one generated main file and the letter's PDF attachments. There is no
//! file system, no package download and no system font, so rendering is a pure function of the
//! letter.
//!
//! Written here (about 80 lines) rather than taken from `embedded-typst` or `typst-kit`: those
//! bring font discovery on the system or package downloads we must not have, and the trait is
//! small (`dependencies-and-limits.md`, row "PDF for print letters").

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// What every letter shares: the standard library and the embedded fonts, built once per
/// process (parsing the fonts takes a few milliseconds).
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Shared {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// A file id for a fixed path in the project root. Typst interns ids for the life of the
/// process (at most 2^16 of them), so letters reuse the same few paths instead of making new
/// ones.
pub(crate) fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("the paths given here are fixed and valid");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// The path of the main file.
const MAIN_PATH: &str = "/letter.typ";

/// The path under which the `index`th printable attachment is readable by `image(…)`.
pub(crate) fn attachment_path(index: usize) -> String {
    format!("/attachment-{index}.pdf")
}

/// The world of one letter.
pub(crate) struct LetterWorld {
    main: Source,
    attachments: Vec<(FileId, Bytes)>,
    today: Datetime,
}

impl LetterWorld {
    /// A world whose main file is `source` and whose files are `attachments` at
    /// [`attachment_path`]`(0..)`. `today` answers typst's `datetime.today()` (the letter date).
    pub(crate) fn new(source: String, attachments: Vec<Bytes>, today: Datetime) -> Self {
        let attachments = attachments
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| (file_id(&attachment_path(i)), bytes))
            .collect();
        Self {
            main: Source::new(file_id(MAIN_PATH), source),
            attachments,
            today,
        }
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}

impl World for LetterWorld {
    fn library(&self) -> &LazyHash<Library> {
        &SHARED.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &SHARED.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.clone()));
        }
        self.attachments
            .iter()
            .find(|(file, _)| *file == id)
            .map(|(_, bytes)| bytes.clone())
            .ok_or_else(|| not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        SHARED.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}
