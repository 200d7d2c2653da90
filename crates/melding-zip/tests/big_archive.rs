//! A real archive past 4 GiB: one file of 4 GiB + 1 MiB between two small ones, so the big
//! file needs Zip64 sizes and the file after it a Zip64 offset. The archive is written to a
//! temporary file (about 4.3 GB, removed afterwards) and read back by `unzip -t` and Python.

mod support;

use std::io;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Instant;

use melding_zip::{EntryReader, ZipEntry, content_length, stream_zip};
use tokio::io::{AsyncRead, ReadBuf};

const BIG_SIZE: u64 = (4 << 30) + (1 << 20);

/// The big file repeats this many bytes; a prime, so chunk and period boundaries never align.
const PERIOD: usize = 65_521;

/// Byte `p` of the big file is `PATTERN[p % PERIOD]`; Python computes the same formula.
static PATTERN: LazyLock<Vec<u8>> =
    LazyLock::new(|| (0..PERIOD).map(|i| ((i * 31 + 7) % 251) as u8).collect());

/// The big file, made up as it is read.
struct Synthetic {
    position: u64,
    end: u64,
}

impl AsyncRead for Synthetic {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut left = (self.end - self.position).min(buf.remaining() as u64) as usize;
        while left > 0 {
            let start = (self.position % PERIOD as u64) as usize;
            let take = left.min(PERIOD - start);
            buf.put_slice(&PATTERN[start..start + take]);
            self.position += take as u64;
            left -= take;
        }
        Poll::Ready(Ok(()))
    }
}

fn synthetic_crc32(size: u64) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    let mut left = size;
    while left > 0 {
        let take = left.min(PERIOD as u64) as usize;
        hasher.update(&PATTERN[..take]);
        left -= take as u64;
    }
    hasher.finalize()
}

/// Checks the listing, reads both small files whole and the last 1 MiB + 100 bytes of the big
/// one, and checks the file after the big one really starts past 4 GiB.
const PYTHON_CHECK: &str = r#"
import sys, zipfile
PERIOD = 65521
z = zipfile.ZipFile(sys.argv[1])
listing = [(i.filename, i.file_size) for i in z.infolist()]
assert listing == [("før.txt", 6), ("stor.bin", 4 * 2**30 + 2**20), ("etter.txt", 5)], listing
assert z.read("før.txt") == b"before"
assert z.read("etter.txt") == b"after"
assert z.getinfo("etter.txt").header_offset > 2**32
size = z.getinfo("stor.bin").file_size
start = size - 2**20 - 100
with z.open("stor.bin") as f:
    f.seek(start)
    tail = f.read()
assert tail == bytes(((p % PERIOD) * 31 + 7) % 251 for p in range(start, size)), "tail differs"
print("ok")
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_past_4_gib_is_read_back_by_unzip_and_python() {
    let started = Instant::now();
    let entries = vec![
        ZipEntry {
            name: "før.txt".into(),
            size: 6,
            crc32: crc32fast::hash(b"before"),
        },
        ZipEntry {
            name: "stor.bin".into(),
            size: BIG_SIZE,
            crc32: synthetic_crc32(BIG_SIZE),
        },
        ZipEntry {
            name: "etter.txt".into(),
            size: 5,
            crc32: crc32fast::hash(b"after"),
        },
    ];
    let promised = content_length(&entries);
    assert!(promised > BIG_SIZE);
    let open = |i: usize| {
        let reader: EntryReader = match i {
            0 => Box::new(io::Cursor::new(b"before".to_vec())),
            1 => Box::new(Synthetic {
                position: 0,
                end: BIG_SIZE,
            }),
            _ => Box::new(io::Cursor::new(b"after".to_vec())),
        };
        std::future::ready(Ok(reader))
    };
    let crc_done = started.elapsed();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.zip");
    let written = support::write_to_file(stream_zip(entries, open), &path)
        .await
        .unwrap();
    assert_eq!(written, promised);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), promised);
    assert!(support::check_end_records(&path));
    let streamed = started.elapsed();

    // The two readers are independent, so they read at the same time; unzip is the slow one.
    std::thread::scope(|scope| {
        let unzip = scope.spawn(|| support::unzip_test(&path));
        assert_eq!(support::python(PYTHON_CHECK, &path).trim(), "ok");
        unzip.join().expect("unzip -t accepts the archive");
    });
    let checked = started.elapsed();
    drop(dir);
    eprintln!(
        "big archive: crc {crc_done:?}, streamed {:?}, unzip -t and python {:?}, total {checked:?}",
        streamed - crc_done,
        checked - streamed,
    );
}
