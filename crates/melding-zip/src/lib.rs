//! "Download all attachments" as one zip file.
//!
//! A recipient who asks for all of a letter's attachments gets a single `.zip` named after the
//! letter's title ([`archive_name`]), holding every file under its own name ([`entry_names`]:
//! shortened to 255 bytes without losing the extension, and `name(1).ext`, `name(2).ext`, … when
//! two files would otherwise share a name). The files are stored as they are, without
//! compression, so the archive's exact size is known before the first byte is sent
//! ([`content_length`]) and a download can show real progress.
//!
//! The archive is produced as a stream ([`stream_zip`]) that reads one file at a time in chunks
//! of at most 64 KiB, so memory stays small however large the files are. Each file's size and
//! CRC-32 were recorded when it was uploaded; if the stored bytes no longer match them, the
//! stream ends with an error instead of handing the recipient a silently corrupt zip.
//!
//! Archives above 4 GiB or with more than 65,535 files use the Zip64 extensions (APPNOTE.TXT
//! 4.3.14–4.3.16, 4.5.3); [`ZipOptions::force_zip64`] turns them on for small archives so that
//! path can be tested cheaply.
#![forbid(unsafe_code)]

mod dos_time;
mod layout;
mod names;
mod stream;

pub use dos_time::DosDateTime;
pub use names::{ARCHIVE_FALLBACK_NAME, MAX_ENTRY_NAME_BYTES, archive_name, entry_names};
pub use stream::{CHUNK_SIZE, EntryReader, stream_zip, stream_zip_with};

/// The chunk type and the stream trait of [`stream_zip`]'s answer, for callers that name it.
pub use bytes::Bytes;
/// See [`Bytes`].
pub use futures_core::Stream;

/// One file in the archive, with the size and CRC-32 recorded when it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// The name inside the archive; see [`entry_names`]. Names longer than 65,535 bytes (the
    /// format's limit) are cut at a character boundary.
    pub name: String,
    /// Exact length of the file in bytes.
    pub size: u64,
    /// CRC-32 (IEEE, as zip uses) of the file's bytes.
    pub crc32: u32,
}

/// Choices that change the bytes of the archive. The defaults are what the service sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZipOptions {
    /// Use Zip64 records for every entry and for the end of the archive even when nothing needs
    /// them. Meant for tests: it exercises the Zip64 path on small data.
    pub force_zip64: bool,
    /// The modification time written for every entry.
    pub modified: DosDateTime,
}

/// Exact byte length of the archive [`stream_zip`] makes from these entries.
pub fn content_length(entries: &[ZipEntry]) -> u64 {
    content_length_with(&ZipOptions::default(), entries)
}

/// Exact byte length of the archive [`stream_zip_with`] makes from these entries and options.
pub fn content_length_with(options: &ZipOptions, entries: &[ZipEntry]) -> u64 {
    layout::Layout::new(entries, options).total()
}
