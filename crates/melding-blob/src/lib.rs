//! Attachment bytes. A [`BlobStore`] takes a stream of bytes under a key, computing the size and
//! MD5 as the bytes pass (nothing holds a whole file in memory), and gives the bytes back as a
//! stream. [`LocalBlobStore`] keeps them under a directory and never leaves a half-written file
//! under its final name: bytes go to a temporary file that is fsynced, renamed into place, and
//! the directory fsynced, so a crash or power cut leaves either the whole file or none.
//! [`ObjectBlobStore`] keeps them in S3 or Azure Blob Storage, streaming large files in parts.
#![forbid(unsafe_code)]

mod object;

pub use object::{AzureConfig, ObjectBlobStore, PART_SIZE, PARTS_IN_FLIGHT, S3Config};

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use md5::{Digest, Md5};
use tokio::fs::File;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub size: u64,
    /// Lower-case hex MD5 of the bytes, as Altinn reports attachment checksums.
    pub md5: String,
    /// CRC-32 (IEEE) of the bytes, so a zip of stored files needs no second read.
    pub crc32: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The stream held no bytes.
    #[error("the file is empty")]
    Empty,
    /// The stream went past the allowed size; nothing was kept.
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    /// The bytes did not match the checksum the sender gave; nothing was kept.
    #[error("checksum mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch { expected: String, actual: String },
    #[error("no blob under that key")]
    NotFound,
    /// A key with characters other than letters, digits, `-` and `_`.
    #[error("invalid blob key")]
    InvalidKey,
    #[error("storage failure: {0}")]
    Io(#[from] std::io::Error),
}

/// A readable stream of stored bytes.
pub type BlobReader = Box<dyn AsyncRead + Send + Unpin>;

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores everything `bytes` yields under `key`, refusing more than `max_size` bytes, an
    /// empty stream, or bytes whose MD5 is not `expected_md5` (when given). On any refusal or
    /// failure nothing is stored under `key`.
    async fn put(
        &self,
        key: &str,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
        max_size: u64,
        expected_md5: Option<&str>,
    ) -> Result<StoredBlob, BlobError>;

    /// The bytes under `key` and their size.
    async fn get(&self, key: &str) -> Result<(BlobReader, u64), BlobError>;

    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}

/// Blobs as files under one directory.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

const CHUNK: usize = 64 * 1024;

impl LocalBlobStore {
    /// Uses (creating if needed) `root`.
    pub async fn open(root: &Path) -> Result<Self, BlobError> {
        tokio::fs::create_dir_all(root.join("tmp")).await?;
        tokio::fs::create_dir_all(root.join("blobs")).await?;
        let removed = sweep_temp(&root.join("tmp"), STALE_TEMP).await?;
        if removed > 0 {
            tracing::info!(removed, "removed unfinished uploads left by an earlier run");
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        if valid_key(key) {
            Ok(self.root.join("blobs").join(key))
        } else {
            Err(BlobError::InvalidKey)
        }
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(
        &self,
        key: &str,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
        max_size: u64,
        expected_md5: Option<&str>,
    ) -> Result<StoredBlob, BlobError> {
        let target = self.path(key)?;
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{key}.{}", uuid::Uuid::new_v4().simple()));
        let result = write_temp(&tmp, bytes, max_size, expected_md5).await;
        let stored = match result {
            Ok(stored) => stored,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        tokio::fs::rename(&tmp, &target).await?;
        // The rename is durable only once the directory itself is on disk.
        File::open(self.root.join("blobs"))
            .await?
            .sync_all()
            .await?;
        Ok(stored)
    }

    async fn get(&self, key: &str) -> Result<(BlobReader, u64), BlobError> {
        let path = self.path(key)?;
        let file = match File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BlobError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata().await?.len();
        Ok((Box::new(file), size))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        File::open(self.root.join("blobs"))
            .await?
            .sync_all()
            .await?;
        Ok(())
    }
}

/// Keys are non-empty and made of ASCII letters, digits, `-` and `_`, so that no backend sees a
/// path separator, a dot segment or anything it would escape.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A temporary file untouched this long belongs to an upload that will never finish (the
/// process writing it stopped); uploads in progress write to theirs continuously.
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes temporary files not modified for `older_than`; returns how many.
async fn sweep_temp(dir: &Path, older_than: std::time::Duration) -> Result<usize, BlobError> {
    let mut removed = 0;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let meta = entry.metadata().await?;
        let stale = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age >= older_than);
        if meta.is_file() && stale {
            tokio::fs::remove_file(entry.path()).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Streams `bytes` into `tmp` in fixed-size chunks, hashing as it goes, then fsyncs the file.
async fn write_temp(
    tmp: &Path,
    bytes: &mut (dyn AsyncRead + Send + Unpin),
    max_size: u64,
    expected_md5: Option<&str>,
) -> Result<StoredBlob, BlobError> {
    let mut file = File::create(tmp).await?;
    let mut hasher = Md5::new();
    let mut crc = crc32fast::Hasher::new();
    let mut size: u64 = 0;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = bytes.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > max_size {
            return Err(BlobError::TooLarge(max_size));
        }
        hasher.update(&buf[..n]);
        crc.update(&buf[..n]);
        file.write_all(&buf[..n]).await?;
    }
    if size == 0 {
        return Err(BlobError::Empty);
    }
    file.flush().await?;
    file.sync_all().await?;
    let md5: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(expected) = expected_md5
        && !expected.eq_ignore_ascii_case(&md5)
    {
        return Err(BlobError::ChecksumMismatch {
            expected: expected.to_owned(),
            actual: md5,
        });
    }
    Ok(StoredBlob {
        size,
        md5,
        crc32: crc.finalize(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (LocalBlobStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (LocalBlobStore::open(dir.path()).await.unwrap(), dir)
    }

    fn temp_files(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("tmp")).unwrap().count()
    }

    #[tokio::test]
    async fn unfinished_uploads_of_an_earlier_run_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        LocalBlobStore::open(dir.path()).await.unwrap();
        let old = dir.path().join("tmp").join("k.old");
        std::fs::write(&old, b"half a file").unwrap();
        let fresh = dir.path().join("tmp").join("k.fresh");
        std::fs::write(&fresh, b"still being written").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        LocalBlobStore::open(dir.path()).await.unwrap();
        assert!(!old.exists(), "a stale temporary file is removed");
        assert!(fresh.exists(), "an upload in progress is left alone");
    }

    #[tokio::test]
    async fn bytes_round_trip_with_size_and_md5() {
        let (s, dir) = store().await;
        let data = b"The quick brown fox jumps over the lazy dog";
        let stored = s.put("a1", &mut &data[..], 1_000, None).await.unwrap();
        assert_eq!(stored.size, data.len() as u64);
        assert_eq!(stored.md5, "9e107d9d372bb6826bd81d3542a419d6");
        assert_eq!(stored.crc32, 0x414f_a339);
        let (mut r, size) = s.get("a1").await.unwrap();
        let mut back = vec![];
        r.read_to_end(&mut back).await.unwrap();
        assert_eq!((back.as_slice(), size), (&data[..], data.len() as u64));
        assert_eq!(temp_files(dir.path()), 0);
    }

    #[tokio::test]
    async fn a_checksum_mismatch_keeps_nothing() {
        let (s, dir) = store().await;
        let e = s
            .put(
                "a1",
                &mut &b"hello"[..],
                100,
                Some("00000000000000000000000000000000"),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, BlobError::ChecksumMismatch { .. }));
        assert!(matches!(s.get("a1").await, Err(BlobError::NotFound)));
        assert_eq!(temp_files(dir.path()), 0);
        // The right checksum, in any case, is accepted.
        s.put(
            "a1",
            &mut &b"hello"[..],
            100,
            Some("5D41402ABC4B2A76B9719D911017C592"),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn empty_and_oversized_streams_are_refused() {
        let (s, dir) = store().await;
        assert!(matches!(
            s.put("e", &mut &b""[..], 100, None).await,
            Err(BlobError::Empty)
        ));
        let big = vec![7u8; 200_000];
        assert!(matches!(
            s.put("b", &mut &big[..], 199_999, None).await,
            Err(BlobError::TooLarge(199_999))
        ));
        assert!(matches!(s.get("b").await, Err(BlobError::NotFound)));
        assert_eq!(temp_files(dir.path()), 0);
    }

    #[tokio::test]
    async fn a_failed_rewrite_leaves_the_old_file_whole() {
        let (s, _dir) = store().await;
        s.put("k", &mut &b"first version"[..], 100, None)
            .await
            .unwrap();
        let e = s
            .put("k", &mut &vec![1u8; 500][..], 100, None)
            .await
            .unwrap_err();
        assert!(matches!(e, BlobError::TooLarge(100)), "{e:?}");
        let (mut r, _) = s.get("k").await.unwrap();
        let mut back = String::new();
        r.read_to_string(&mut back).await.unwrap();
        assert_eq!(back, "first version");
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_directory_and_delete_is_idempotent() {
        let (s, _dir) = store().await;
        s.put("tmp", &mut &b"a key like the staging folder"[..], 100, None)
            .await
            .unwrap();
        for bad in ["../x", "a/b", "", "tmp/../../etc"] {
            assert!(matches!(
                s.put(bad, &mut &b"x"[..], 10, None).await,
                Err(BlobError::InvalidKey)
            ));
        }
        s.put("gone", &mut &b"x"[..], 10, None).await.unwrap();
        s.delete("gone").await.unwrap();
        s.delete("gone").await.unwrap();
        assert!(matches!(s.get("gone").await, Err(BlobError::NotFound)));
    }
}
