//! The archive as a stream of chunks, read from the stored files one at a time.
//!
//! Every file is checked against the size and CRC-32 recorded at upload while it passes. A
//! mismatch ends the stream with an error before the central directory is sent, so the HTTP
//! layer aborts the response and the client is left with an incomplete download, never with a
//! well-formed zip holding the wrong bytes.

use std::future::Future;
use std::io;

use bytes::Bytes;
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::layout::{self, Layout};
use crate::{ZipEntry, ZipOptions};

/// Largest chunk of file data the stream yields (and so the most it holds of any file).
pub const CHUNK_SIZE: usize = 64 * 1024;

/// The bytes of one entry, as `open` gives them.
pub type EntryReader = Box<dyn AsyncRead + Send + Unpin>;

/// The archive of `entries` as a stream of chunks, exactly [`content_length`] bytes long.
///
/// `open(i)` gives the bytes of entry `i`; it is called lazily, one entry at a time, in order,
/// just before that entry's header is sent. File data is copied in chunks of at most
/// [`CHUNK_SIZE`] bytes. If `open` fails, if a reader fails, or if it gives a different number
/// of bytes than the entry's `size` or bytes whose CRC-32 is not its `crc32`, the stream yields
/// that error and ends.
///
/// [`content_length`]: crate::content_length
pub fn stream_zip<F, Fut>(
    entries: Vec<ZipEntry>,
    open: F,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static
where
    F: FnMut(usize) -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<EntryReader>> + Send + 'static,
{
    stream_zip_with(ZipOptions::default(), entries, open)
}

/// [`stream_zip`] with options; its length is [`content_length_with`] for the same options.
///
/// [`content_length_with`]: crate::content_length_with
pub fn stream_zip_with<F, Fut>(
    options: ZipOptions,
    entries: Vec<ZipEntry>,
    open: F,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static
where
    F: FnMut(usize) -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<EntryReader>> + Send + 'static,
{
    let writer = Writer {
        layout: Layout::new(&entries, &options),
        entries,
        options,
        open,
        phase: Phase::Entry(0),
        position: 0,
    };
    futures_util::stream::unfold(writer, |mut writer| async move {
        let chunk = writer.next_chunk().await?;
        Some((chunk, writer))
    })
}

struct Writer<F> {
    entries: Vec<ZipEntry>,
    layout: Layout,
    options: ZipOptions,
    open: F,
    phase: Phase,
    /// Bytes yielded so far; checked against the layout in debug builds.
    position: u64,
}

enum Phase {
    /// Open entry `i` and send its local header (or go on to the directory after the last).
    Entry(usize),
    /// Send entry data.
    Data(EntryData),
    /// Send central directory headers from entry `i` on.
    CentralDirectory(usize),
    /// Send the end records.
    End,
    /// Finished, or stopped by an error.
    Done,
}

impl<F, Fut> Writer<F>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = io::Result<EntryReader>>,
{
    async fn next_chunk(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            // An error returns with the phase left at `Done`, which ends the stream.
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Entry(index) if index == self.entries.len() => {
                    self.phase = Phase::CentralDirectory(0);
                }
                Phase::Entry(index) => {
                    let reader = match (self.open)(index).await {
                        Ok(reader) => reader,
                        Err(error) => return Some(Err(error)),
                    };
                    let entry = &self.entries[index];
                    let placement = self.layout.placement(index);
                    debug_assert_eq!(placement.offset, self.position);
                    let mut header = Vec::new();
                    layout::local_header(&mut header, entry, placement, &self.options);
                    self.phase = Phase::Data(EntryData {
                        index,
                        reader,
                        remaining: entry.size,
                        hasher: crc32fast::Hasher::new(),
                    });
                    return Some(Ok(self.emit(header)));
                }
                Phase::Data(mut data) => match data.next_chunk(&self.entries[data.index]).await {
                    Ok(Some(chunk)) => {
                        self.phase = Phase::Data(data);
                        return Some(Ok(self.emit(chunk)));
                    }
                    Ok(None) => self.phase = Phase::Entry(data.index + 1),
                    Err(error) => return Some(Err(error)),
                },
                Phase::CentralDirectory(mut index) => {
                    debug_assert!(
                        index > 0 || self.position == self.layout.central_directory_offset()
                    );
                    let mut chunk = Vec::new();
                    while let Some(entry) = self.entries.get(index) {
                        let before = chunk.len();
                        let placement = self.layout.placement(index);
                        layout::central_header(&mut chunk, entry, placement, &self.options);
                        if chunk.len() > CHUNK_SIZE && before > 0 {
                            chunk.truncate(before);
                            break;
                        }
                        index += 1;
                    }
                    if chunk.is_empty() {
                        self.phase = Phase::End;
                    } else {
                        self.phase = Phase::CentralDirectory(index);
                        return Some(Ok(self.emit(chunk)));
                    }
                }
                Phase::End => {
                    let mut chunk = Vec::new();
                    self.layout.end_records(&mut chunk);
                    let chunk = self.emit(chunk);
                    debug_assert_eq!(self.position, self.layout.total());
                    return Some(Ok(chunk));
                }
                Phase::Done => return None,
            }
        }
    }

    fn emit(&mut self, chunk: impl Into<Bytes>) -> Bytes {
        let chunk = chunk.into();
        self.position += chunk.len() as u64;
        chunk
    }
}

/// One entry's data on its way through, checked as it passes.
struct EntryData {
    index: usize,
    reader: EntryReader,
    remaining: u64,
    hasher: crc32fast::Hasher,
}

impl EntryData {
    /// The next chunk of data, `None` once all of it was sent and checked.
    async fn next_chunk(&mut self, entry: &ZipEntry) -> io::Result<Option<Bytes>> {
        if self.remaining == 0 {
            return self.finish(entry).await.map(|()| None);
        }
        let want = usize::try_from(self.remaining).map_or(CHUNK_SIZE, |r| r.min(CHUNK_SIZE));
        let mut buf = vec![0; want];
        let mut filled = 0;
        while filled < want {
            let read = self.reader.read(&mut buf[filled..]).await?;
            if read == 0 {
                let got = entry.size - self.remaining + filled as u64;
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "zip entry {}: the file ended after {got} of its recorded {} bytes",
                        self.index, entry.size
                    ),
                ));
            }
            filled += read;
        }
        self.hasher.update(&buf);
        self.remaining -= want as u64;
        Ok(Some(Bytes::from(buf)))
    }

    /// Checks that the reader has nothing more and that the bytes were the recorded ones.
    async fn finish(&mut self, entry: &ZipEntry) -> io::Result<()> {
        let mut probe = [0; 1];
        if self.reader.read(&mut probe).await? != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "zip entry {}: the file is longer than its recorded {} bytes",
                    self.index, entry.size
                ),
            ));
        }
        let crc32 = self.hasher.clone().finalize();
        if crc32 != entry.crc32 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "zip entry {}: CRC-32 of the file is {crc32:08x}, recorded {:08x}",
                    self.index, entry.crc32
                ),
            ));
        }
        Ok(())
    }
}
