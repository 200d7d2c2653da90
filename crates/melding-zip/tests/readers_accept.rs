//! Archives as recipients' tools see them: each one is written to disk, its length compared
//! with `content_length`, and then read back by `unzip -t` and Python's `zipfile`, which must
//! accept it and find exactly the names and bytes that went in. Readers that yield the wrong
//! bytes must end the stream with an error.

mod support;

use std::io::{self, Cursor};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::StreamExt;
use melding_zip::{
    CHUNK_SIZE, DosDateTime, EntryReader, ZipEntry, ZipOptions, content_length,
    content_length_with, entry_names, stream_zip, stream_zip_with,
};
use tokio::io::{AsyncRead, ReadBuf};

/// Lists every entry as `hex(name) size hex(bytes)`, after `testzip()` has checked all CRCs and
/// after checking that names are flagged as UTF-8.
const PYTHON_LIST: &str = r#"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist():
    assert i.flag_bits & 0x800, "UTF-8 flag missing on " + i.filename
    assert i.compress_type == zipfile.ZIP_STORED
    print(i.filename.encode().hex(), i.file_size, z.read(i).hex())
"#;

/// Entries and an `open` that serves their bytes from memory.
fn in_memory(
    files: &[(&str, Vec<u8>)],
) -> (
    Vec<ZipEntry>,
    impl FnMut(usize) -> std::future::Ready<io::Result<EntryReader>> + Send + 'static,
) {
    let names = entry_names(files.iter().map(|(name, _)| *name));
    let entries = names
        .into_iter()
        .zip(files)
        .map(|(name, (_, data))| ZipEntry {
            name,
            size: data.len() as u64,
            crc32: crc32fast::hash(data),
        })
        .collect();
    let data: Vec<Vec<u8>> = files.iter().map(|(_, data)| data.clone()).collect();
    let open = move |i: usize| {
        let reader: EntryReader = Box::new(Cursor::new(data[i].clone()));
        std::future::ready(Ok(reader))
    };
    (entries, open)
}

/// What Python found, as (name, size, bytes).
fn python_listing(path: &std::path::Path) -> Vec<(String, u64, Vec<u8>)> {
    support::python(PYTHON_LIST, path)
        .lines()
        .map(|line| {
            let mut fields = line.split(' ');
            let name = String::from_utf8(hex(fields.next().unwrap())).unwrap();
            let size = fields.next().unwrap().parse().unwrap();
            let data = hex(fields.next().unwrap_or(""));
            (name, size, data)
        })
        .collect()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Streams the archive to a temporary file, checks its length against `content_length_with`,
/// has `unzip -t` and Python read it, and checks Python found exactly these files.
async fn round_trip(
    options: ZipOptions,
    files: &[(&str, Vec<u8>)],
    expected_names: &[&str],
    expect_zip64: bool,
) {
    let (entries, open) = in_memory(files);
    let promised = content_length_with(&options, &entries);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.zip");
    let written = support::write_to_file(stream_zip_with(options, entries, open), &path)
        .await
        .unwrap();
    assert_eq!(written, promised);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), promised);

    assert_eq!(support::check_end_records(&path), expect_zip64);
    support::unzip_test(&path);
    let found = python_listing(&path);
    let expected: Vec<_> = expected_names
        .iter()
        .zip(files)
        .map(|(name, (_, data))| (name.to_string(), data.len() as u64, data.clone()))
        .collect();
    assert_eq!(found, expected);
}

fn sample_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("Vedtak.pdf", b"%PDF-1.7 not really a pdf".to_vec()),
        ("tom.txt", Vec::new()),
        (
            "Søknad om støtte.docx",
            "blåbærsyltetøy ".repeat(5_000).into_bytes(),
        ),
        ("vedtak.PDF", vec![0xFF; 3]),
        (
            "stor.bin",
            (0..200_003u32).map(|i| (i * 7 % 251) as u8).collect(),
        ),
        ("Vedtak.pdf", b"second".to_vec()),
    ]
}

const SAMPLE_NAMES: [&str; 6] = [
    "Vedtak.pdf",
    "tom.txt",
    "Søknad om støtte.docx",
    "vedtak(1).PDF",
    "stor.bin",
    "Vedtak(2).pdf",
];

#[tokio::test]
async fn several_small_files_are_read_back_exactly() {
    round_trip(ZipOptions::default(), &sample_files(), &SAMPLE_NAMES, false).await;
}

#[tokio::test]
async fn forced_zip64_is_read_back_exactly() {
    let options = ZipOptions {
        force_zip64: true,
        ..ZipOptions::default()
    };
    round_trip(options, &sample_files(), &SAMPLE_NAMES, true).await;
}

#[tokio::test]
async fn forced_zip64_costs_the_extra_records_and_nothing_else() {
    let (entries, _) = in_memory(&sample_files());
    let forced = ZipOptions {
        force_zip64: true,
        ..ZipOptions::default()
    };
    let per_entry = 20 + (4 + 24);
    let extra = entries.len() as u64 * per_entry + 56 + 20;
    assert_eq!(
        content_length_with(&forced, &entries),
        content_length(&entries) + extra
    );
}

#[tokio::test]
async fn an_empty_archive_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.zip");
    let open =
        |_: usize| std::future::ready(Err::<EntryReader, _>(io::Error::other("never called")));
    let written = support::write_to_file(stream_zip(Vec::new(), open), &path)
        .await
        .unwrap();
    assert_eq!(written, content_length(&[]));
    assert!(!support::check_end_records(&path));
    assert_eq!(python_listing(&path), []);
}

#[tokio::test]
async fn more_than_65535_files_use_zip64_and_are_all_found() {
    let count = 65_537;
    let files: Vec<(String, Vec<u8>)> = (0..count)
        .map(|i| (format!("f{i:05}.txt"), vec![(i % 256) as u8]))
        .collect();
    let borrowed: Vec<(&str, Vec<u8>)> = files
        .iter()
        .map(|(name, data)| (name.as_str(), data.clone()))
        .collect();
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    round_trip(ZipOptions::default(), &borrowed, &names, true).await;
}

#[tokio::test]
async fn the_same_entries_give_the_same_bytes() {
    let options = ZipOptions {
        force_zip64: false,
        modified: DosDateTime::new(2024, 5, 17, 12, 30, 0).unwrap(),
    };
    let mut archives = Vec::new();
    for _ in 0..2 {
        let (entries, open) = in_memory(&sample_files());
        let chunks: Vec<_> = stream_zip_with(options, entries, open).collect().await;
        let bytes: Vec<u8> = chunks.into_iter().flat_map(|c| c.unwrap()).collect();
        archives.push(bytes);
    }
    assert_eq!(archives[0], archives[1]);
    // The time is in the first local header: 12:30:00 on 2024-05-17.
    assert_eq!(&archives[0][10..14], &[0xC0, 0x63, 0xB1, 0x58]);
}

#[tokio::test]
async fn data_comes_in_chunks_of_at_most_64_kib() {
    let (entries, open) = in_memory(&[("stor.bin", vec![1; 3 * CHUNK_SIZE + 5])]);
    let sizes: Vec<usize> = stream_zip(entries, open)
        .map(|chunk| chunk.unwrap().len())
        .collect()
        .await;
    assert!(sizes.iter().all(|&size| size <= CHUNK_SIZE), "{sizes:?}");
    assert_eq!(sizes[1..5], [CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE, 5]);
}

/// A reader that hands out one byte per read, to show short reads are fine.
struct Trickle(Cursor<Vec<u8>>);

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut one = [0; 1];
        let mut small = ReadBuf::new(&mut one);
        let poll = Pin::new(&mut self.0).poll_read(cx, &mut small);
        buf.put_slice(small.filled());
        poll
    }
}

#[tokio::test]
async fn readers_may_give_few_bytes_at_a_time() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let entries = vec![ZipEntry {
        name: "drypp.bin".into(),
        size: data.len() as u64,
        crc32: crc32fast::hash(&data),
    }];
    let promised = content_length(&entries);
    let open = move |_| {
        let reader: EntryReader = Box::new(Trickle(Cursor::new(data.clone())));
        std::future::ready(Ok(reader))
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trickle.zip");
    let written = support::write_to_file(stream_zip(entries, open), &path)
        .await
        .unwrap();
    assert_eq!(written, promised);
    support::unzip_test(&path);
}

#[tokio::test]
async fn files_are_opened_one_at_a_time_in_order() {
    let opened = Arc::new(Mutex::new(Vec::new()));
    let files = sample_files();
    let (entries, mut serve) = in_memory(&files);
    let log = opened.clone();
    let open = move |i| {
        log.lock().unwrap().push(i);
        serve(i)
    };
    let mut stream = std::pin::pin!(stream_zip(entries, open));
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(&first[..4], b"PK\x03\x04");
    assert_eq!(*opened.lock().unwrap(), [0]);
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    assert_eq!(*opened.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
}

/// Streams `entries` with readers over `actual` and returns every item the stream yielded.
async fn stream_with_actual_bytes(
    entries: Vec<ZipEntry>,
    actual: Vec<Vec<u8>>,
) -> Vec<io::Result<bytes::Bytes>> {
    let open = move |i: usize| {
        let reader: EntryReader = Box::new(Cursor::new(actual[i].clone()));
        std::future::ready(Ok(reader))
    };
    stream_zip(entries, open).collect().await
}

fn recorded(name: &str, data: &[u8]) -> ZipEntry {
    ZipEntry {
        name: name.into(),
        size: data.len() as u64,
        crc32: crc32fast::hash(data),
    }
}

/// The stream ended with an error of this kind, after which nothing came, and the central
/// directory (signature `PK\x01\x02`) was never sent.
fn assert_ends_with_error(items: &[io::Result<bytes::Bytes>], kind: io::ErrorKind) {
    let (last, before) = items.split_last().expect("the stream yielded something");
    let error = last.as_ref().expect_err("the stream ends with an error");
    assert_eq!(error.kind(), kind, "{error}");
    for item in before {
        let chunk = item.as_ref().expect("only the last item is an error");
        assert!(!chunk.windows(4).any(|w| w == b"PK\x01\x02"));
    }
}

#[tokio::test]
async fn a_file_shorter_than_recorded_ends_the_stream_with_an_error() {
    let good = b"hello".to_vec();
    let stored = vec![7; 100_000];
    let entries = vec![recorded("a.txt", &good), recorded("b.bin", &stored)];
    let items = stream_with_actual_bytes(entries, vec![good, stored[..99_999].to_vec()]).await;
    assert_ends_with_error(&items, io::ErrorKind::UnexpectedEof);
}

#[tokio::test]
async fn a_file_longer_than_recorded_ends_the_stream_with_an_error() {
    let stored = b"hello".to_vec();
    let entries = vec![recorded("a.txt", &stored)];
    let items = stream_with_actual_bytes(entries, vec![b"hello!".to_vec()]).await;
    assert_ends_with_error(&items, io::ErrorKind::InvalidData);
}

#[tokio::test]
async fn a_file_with_other_bytes_than_recorded_ends_the_stream_with_an_error() {
    let stored = vec![1; 70_000];
    let mut changed = stored.clone();
    changed[69_999] = 2;
    let entries = vec![recorded("a.bin", &stored), recorded("b.bin", &stored)];
    let items = stream_with_actual_bytes(entries, vec![changed, stored]).await;
    assert_ends_with_error(&items, io::ErrorKind::InvalidData);
}

#[tokio::test]
async fn a_file_that_cannot_be_opened_ends_the_stream_with_that_error() {
    let entries = vec![recorded("a.txt", b"a"), recorded("b.txt", b"b")];
    let open = |i: usize| {
        std::future::ready(if i == 0 {
            Ok(Box::new(Cursor::new(b"a".to_vec())) as EntryReader)
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "gone"))
        })
    };
    let items: Vec<_> = stream_zip(entries, open).collect().await;
    assert_ends_with_error(&items, io::ErrorKind::NotFound);
    // Entry 0's header and data came; entry 1's header did not.
    assert_eq!(items.len(), 3);
}
