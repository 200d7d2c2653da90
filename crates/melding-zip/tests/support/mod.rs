//! Writing an archive stream to disk and asking independent readers (Info-ZIP `unzip` and
//! Python's `zipfile`) what they make of it.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;

/// Writes the whole stream to `path`; the first error is returned.
pub async fn write_to_file(
    stream: impl Stream<Item = std::io::Result<Bytes>>,
    path: &Path,
) -> std::io::Result<u64> {
    let mut stream = std::pin::pin!(stream);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        written += chunk.len() as u64;
        file.write_all(&chunk)?;
    }
    file.flush()?;
    Ok(written)
}

/// `unzip -t`: every entry is read and its CRC checked. Panics with unzip's output unless it
/// exits with 0.
pub fn unzip_test(path: &Path) {
    let output = Command::new("unzip")
        .arg("-t")
        .arg(path)
        .output()
        .expect("unzip must be installed to run these tests");
    assert!(
        output.status.success(),
        "unzip -t failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs a Python program with the archive path as `sys.argv[1]` and returns its stdout. Panics
/// unless it exits with 0.
pub fn python(program: &str, path: &Path) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(program)
        .arg(path)
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .expect("python3 must be installed to run these tests");
    assert!(
        output.status.success(),
        "python failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("python prints UTF-8")
}

/// Checks what the readers do not: that the Zip64 end locator (when present) points at the
/// Zip64 end record, and that the central directory offset points at a central header (or at
/// the end records of an empty archive). Returns whether Zip64 end records are present.
pub fn check_end_records(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};

    let mut file = std::fs::File::open(path).unwrap();
    let len = file.metadata().unwrap().len();
    let mut read_at = |offset: u64, n: usize| {
        let mut buf = vec![0; n];
        file.seek(SeekFrom::Start(offset)).unwrap();
        file.read_exact(&mut buf).unwrap();
        buf
    };
    let u64_le = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().unwrap());
    let end = read_at(len - 22, 22);
    assert_eq!(
        &end[..4],
        b"PK\x05\x06",
        "end record at the very end (no comment)"
    );
    let mut directory_offset = u64::from(u32::from_le_bytes(end[16..20].try_into().unwrap()));
    let zip64 = len >= 22 + 20 && read_at(len - 42, 4) == b"PK\x06\x07";
    if zip64 {
        let locator = read_at(len - 42, 20);
        let record_offset = u64_le(&locator[8..16]);
        assert_eq!(
            record_offset,
            len - 42 - 56,
            "the locator points at the Zip64 end record"
        );
        let record = read_at(record_offset, 56);
        assert_eq!(&record[..4], b"PK\x06\x06");
        directory_offset = u64_le(&record[48..56]);
    }
    let expected: &[u8] = if directory_offset == len - 22 {
        b"PK\x05\x06"
    } else if zip64 && directory_offset == len - 98 {
        b"PK\x06\x06"
    } else {
        b"PK\x01\x02"
    };
    assert_eq!(&read_at(directory_offset, expected.len())[..], expected);
    zip64
}
