//! Attachment bytes in an object store: Amazon S3 (or anything that speaks its API) and Azure Blob
//! Storage, which is what Altinn itself uses, through the `object_store` crate.
//!
//! A put streams: a file that fits in one part goes up with a single request, a larger one as a
//! multipart upload whose parts are sent while the next ones are read, with at most
//! [`PARTS_IN_FLIGHT`] parts on the wire, so memory stays near a few parts whatever the file's
//! size. Size, MD5 and CRC-32 are computed as the bytes pass. An upload that is refused (too
//! large, empty, wrong checksum) or fails is aborted before it completes, and an uncompleted
//! upload is never visible under its key, so the key keeps whatever it held before.
//!
//! An upload whose future is dropped while its parts are streaming (the client went away) is
//! aborted in the background. Dropped during the final step, while the last parts are awaited and
//! the upload is completed, it is left as a dying process leaves it: S3 keeps the uploaded parts
//! (invisible, but billed) until a bucket lifecycle rule (`AbortIncompleteMultipartUpload`)
//! removes them; Azure drops uncommitted blocks by itself after a week.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::TryStreamExt;
use md5::{Digest, Md5};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::StreamReader;

use crate::{BlobError, BlobReader, BlobStore, StoredBlob, valid_key};

/// Size of every multipart part but the last. S3 refuses parts under 5 MiB (except the last);
/// it also allows at most 10,000 parts, so this caps a file at about 48 GiB.
pub const PART_SIZE: usize = 5 * 1024 * 1024;

/// Parts being uploaded at once for one file. Memory per upload is about
/// `PART_SIZE * (PARTS_IN_FLIGHT + 1)`: the parts on the wire and the one being filled.
pub const PARTS_IN_FLIGHT: usize = 2;

/// How much is read from the caller's stream at a time.
const READ_CHUNK: usize = 64 * 1024;

/// The account name and key that every Azurite uses, published by Microsoft; not a secret.
const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An S3 bucket (AWS or any S3-compatible server).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    /// For S3-compatible servers, e.g. `http://127.0.0.1:9000`; requests then use path-style
    /// URLs (`endpoint/bucket/key`). Absent: AWS's own endpoint for the region.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// With `secret_access_key`. When both are absent, the instance's role is used (instance
    /// metadata); give both or neither.
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub secret_access_key: Option<String>,
    /// Allow a plain `http://` endpoint; for test servers only.
    #[serde(default)]
    pub allow_http: bool,
    /// Keys are stored under this folder, e.g. `attachments`.
    #[serde(default)]
    pub prefix: Option<String>,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &redacted(&self.secret_access_key))
            .field("allow_http", &self.allow_http)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A container in an Azure storage account.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// The storage account's name; with `use_emulator` it may be left out (Azurite's
    /// `devstoreaccount1`).
    #[serde(default)]
    pub account: Option<String>,
    pub container: String,
    /// The account's shared key (base64). Absent: Azure's usual credential sources (managed
    /// identity, workload identity, and the `AZURE_*` variables `object_store` reads).
    #[serde(default)]
    pub access_key: Option<String>,
    /// The account's blob endpoint, e.g. `https://acct.blob.core.windows.net` (the default) or,
    /// for Azurite, `http://127.0.0.1:10000/devstoreaccount1`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Azurite: its well-known account and key unless given, its default endpoint unless given,
    /// and plain HTTP allowed.
    #[serde(default)]
    pub use_emulator: bool,
    /// Allow a plain `http://` endpoint; for test servers only.
    #[serde(default)]
    pub allow_http: bool,
    /// Keys are stored under this folder, e.g. `attachments`.
    #[serde(default)]
    pub prefix: Option<String>,
}

impl fmt::Debug for AzureConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureConfig")
            .field("account", &self.account)
            .field("container", &self.container)
            .field("access_key", &redacted(&self.access_key))
            .field("endpoint", &self.endpoint)
            .field("use_emulator", &self.use_emulator)
            .field("allow_http", &self.allow_http)
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn redacted(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "[redacted]")
}

/// Blobs as objects in S3, Azure Blob Storage, or any other [`ObjectStore`].
#[derive(Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl fmt::Debug for ObjectBlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The store's Display names the bucket or container and never a credential.
        f.debug_struct("ObjectBlobStore")
            .field("store", &format_args!("{}", self.store))
            .field("prefix", &self.prefix.as_ref())
            .finish()
    }
}

impl ObjectBlobStore {
    /// Wraps any object store, e.g. `object_store::memory::InMemory` in tests, or a throttled or
    /// fault-injecting wrapper around a real one.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Option<&str>) -> Result<Self, BlobError> {
        Ok(Self {
            store,
            prefix: parse_prefix(prefix)?,
        })
    }

    pub fn s3(config: &S3Config) -> Result<Self, BlobError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_allow_http(config.allow_http);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        match (&config.access_key_id, &config.secret_access_key) {
            (Some(id), Some(secret)) => {
                builder = builder
                    .with_access_key_id(id)
                    .with_secret_access_key(secret);
            }
            (None, None) => {}
            _ => {
                return Err(config_error(
                    "S3: give both access_key_id and secret_access_key, or neither",
                ));
            }
        }
        let store = builder.build().map_err(backend)?;
        Self::new(Arc::new(store), config.prefix.as_deref())
    }

    pub fn azure(config: &AzureConfig) -> Result<Self, BlobError> {
        let account = match (&config.account, config.use_emulator) {
            (Some(account), _) => account.clone(),
            (None, true) => AZURITE_ACCOUNT.to_owned(),
            (None, false) => return Err(config_error("Azure: the account is missing")),
        };
        // object_store's own emulator mode takes Azurite's address only from an environment
        // variable; an explicit endpoint (path-style, account in the path) works for any port.
        let endpoint = match (&config.endpoint, config.use_emulator) {
            (Some(endpoint), _) => Some(endpoint.clone()),
            (None, true) => Some(format!("http://127.0.0.1:10000/{account}")),
            (None, false) => None,
        };
        let mut builder = MicrosoftAzureBuilder::new()
            .with_account(&account)
            .with_container_name(&config.container)
            .with_allow_http(config.allow_http || config.use_emulator);
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        match (&config.access_key, config.use_emulator) {
            (Some(key), _) => builder = builder.with_access_key(key),
            (None, true) => builder = builder.with_access_key(AZURITE_KEY),
            (None, false) => {}
        }
        let store = builder.build().map_err(backend)?;
        Self::new(Arc::new(store), config.prefix.as_deref())
    }

    /// A store named by a URL, its path being the prefix: `s3://bucket/attachments`,
    /// `az://container/attachments` (with `azure_storage_account_name` among the options),
    /// `https://acct.blob.core.windows.net/container`, `memory:///`. `options` are
    /// `object_store`'s configuration keys, e.g. `aws_endpoint`, `aws_allow_http`,
    /// `azure_storage_access_key`.
    pub fn from_url<I, K, V>(url: &str, options: I) -> Result<Self, BlobError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let url = url::Url::parse(url).map_err(|e| config_error(&format!("bad store URL: {e}")))?;
        let (store, prefix) = object_store::parse_url_opts(&url, options).map_err(backend)?;
        Ok(Self {
            store: Arc::from(store),
            prefix,
        })
    }

    fn location(&self, key: &str) -> Result<Path, BlobError> {
        if valid_key(key) {
            Ok(self.prefix.clone().join(key))
        } else {
            Err(BlobError::InvalidKey)
        }
    }

    /// Streams the rest of `bytes` into `upload`, waiting for a free slot before reading more.
    async fn stream_parts(
        upload: &mut WriteMultipart,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
        buf: &mut [u8],
        tally: &mut Tally,
        max_size: u64,
    ) -> Result<(), BlobError> {
        loop {
            upload
                .wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(backend)?;
            let n = tally.read(bytes, buf, max_size).await?;
            if n == 0 {
                return Ok(());
            }
            upload.write(&buf[..n]);
        }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put(
        &self,
        key: &str,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
        max_size: u64,
        expected_md5: Option<&str>,
    ) -> Result<StoredBlob, BlobError> {
        let location = self.location(key)?;
        let mut tally = Tally::default();

        // Read up to one part first: a file that fits is checked whole and sent in one request,
        // and an empty or refused one never reaches the store.
        let mut head = Vec::new();
        let mut buf = vec![0u8; READ_CHUNK];
        while head.len() < PART_SIZE {
            let n = tally.read(bytes, &mut buf, max_size).await?;
            if n == 0 {
                let stored = tally.finish(expected_md5)?;
                self.store
                    .put(&location, PutPayload::from(head))
                    .await
                    .map_err(backend)?;
                return Ok(stored);
            }
            // Grow as a Vec would, but never past what the head can hold.
            if head.capacity() - head.len() < n {
                let want = (head.capacity() * 2).clamp(READ_CHUNK, PART_SIZE + READ_CHUNK);
                head.reserve_exact(want - head.len());
            }
            head.extend_from_slice(&buf[..n]);
        }

        let upload = self.store.put_multipart(&location).await.map_err(backend)?;
        let mut guard = AbortOnDrop(None);
        let writer = guard
            .0
            .insert(WriteMultipart::new_with_chunk_size(upload, PART_SIZE));
        writer.put(Bytes::from(head));
        let streamed = Self::stream_parts(writer, bytes, &mut buf, &mut tally, max_size).await;
        let Some(writer) = guard.0.take() else {
            unreachable!("the guard holds the upload until here")
        };
        match streamed.and_then(|()| tally.finish(expected_md5)) {
            // `finish` aborts the upload itself when completing it fails.
            Ok(stored) => writer.finish().await.map(|_| stored).map_err(backend),
            Err(e) => {
                // The refusal is what the caller needs to hear; a failed abort leaves only
                // invisible parts for the bucket's lifecycle rule.
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    async fn get(&self, key: &str) -> Result<(BlobReader, u64), BlobError> {
        let location = self.location(key)?;
        let result = self.store.get(&location).await.map_err(not_found)?;
        let size = result.meta.size;
        let stream = result.into_stream().map_err(std::io::Error::other);
        Ok((Box::new(StreamReader::new(stream)), size))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let location = self.location(key)?;
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}

/// Size and checksums of the bytes read so far.
#[derive(Default)]
struct Tally {
    size: u64,
    md5: Md5,
    crc: crc32fast::Hasher,
}

impl Tally {
    /// Reads the next chunk into `buf` and counts it; 0 at the end of the stream.
    async fn read(
        &mut self,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
        buf: &mut [u8],
        max_size: u64,
    ) -> Result<usize, BlobError> {
        let n = bytes.read(buf).await?;
        self.size += n as u64;
        if self.size > max_size {
            return Err(BlobError::TooLarge(max_size));
        }
        self.md5.update(&buf[..n]);
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn finish(&mut self, expected_md5: Option<&str>) -> Result<StoredBlob, BlobError> {
        if self.size == 0 {
            return Err(BlobError::Empty);
        }
        let md5: String = std::mem::take(&mut self.md5)
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
            size: self.size,
            md5,
            crc32: std::mem::take(&mut self.crc).finalize(),
        })
    }
}

/// Aborts a multipart upload that is dropped unfinished, e.g. when the request that fed it is
/// cancelled. Aborting is async, so it is handed to the runtime.
struct AbortOnDrop(Option<WriteMultipart>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(upload) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = upload.abort().await;
            });
        }
    }
}

fn parse_prefix(prefix: Option<&str>) -> Result<Path, BlobError> {
    Path::parse(prefix.unwrap_or_default())
        .map_err(|e| config_error(&format!("bad object prefix: {e}")))
}

fn not_found(e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        e => backend(e),
    }
}

fn backend(e: object_store::Error) -> BlobError {
    BlobError::Io(std::io::Error::other(e))
}

fn config_error(message: &str) -> BlobError {
    BlobError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        message.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;

    fn store() -> ObjectBlobStore {
        ObjectBlobStore::new(Arc::new(InMemory::new()), Some("attachments/")).unwrap()
    }

    #[tokio::test]
    async fn keys_go_under_the_prefix() {
        let s = store();
        s.put("k1", &mut &b"hello"[..], 10, None).await.unwrap();
        let meta = s.store.head(&Path::from("attachments/k1")).await.unwrap();
        assert_eq!(meta.size, 5);
    }

    #[tokio::test]
    async fn a_large_file_goes_up_in_parts_and_comes_back_whole() {
        let s = store();
        let data: Vec<u8> = (0..(2 * PART_SIZE + 12_345) as u32)
            .map(|i| (i % 251) as u8)
            .collect();
        let stored = s
            .put("big", &mut &data[..], data.len() as u64, None)
            .await
            .unwrap();
        assert_eq!(stored.size, data.len() as u64);
        assert_eq!(stored.crc32, crc32fast::hash(&data));
        let (mut r, size) = s.get("big").await.unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).await.unwrap();
        assert_eq!(size, data.len() as u64);
        assert!(back == data);
    }

    #[tokio::test]
    async fn a_refused_rewrite_keeps_the_old_object() {
        let s = store();
        s.put("k", &mut &b"first"[..], 10, None).await.unwrap();
        let big = vec![1u8; PART_SIZE + 1];
        let e = s.put("k", &mut &big[..], PART_SIZE as u64, None).await;
        assert!(matches!(e, Err(BlobError::TooLarge(_))));
        let (mut r, _) = s.get("k").await.unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"first");
    }

    #[test]
    fn configs_read_from_toml_and_hide_secrets() {
        let s3: S3Config = toml::from_str(
            r#"
            bucket = "b"
            access_key_id = "id"
            secret_access_key = "hush"
            "#,
        )
        .unwrap();
        assert_eq!(s3.region, "us-east-1");
        assert!(!format!("{s3:?}").contains("hush"));
        let az: AzureConfig = toml::from_str(
            r#"
            container = "c"
            access_key = "hush"
            "#,
        )
        .unwrap();
        assert!(!format!("{az:?}").contains("hush"));
        assert!(toml::from_str::<S3Config>("bucket = \"b\"\nsecret = \"x\"").is_err());
    }

    #[test]
    fn half_a_key_pair_and_a_missing_account_are_refused() {
        let s3 = S3Config {
            bucket: "b".into(),
            region: default_region(),
            endpoint: None,
            access_key_id: Some("id".into()),
            secret_access_key: None,
            allow_http: false,
            prefix: None,
        };
        assert!(ObjectBlobStore::s3(&s3).is_err());
        let az = AzureConfig {
            account: None,
            container: "c".into(),
            access_key: None,
            endpoint: None,
            use_emulator: false,
            allow_http: false,
            prefix: None,
        };
        assert!(ObjectBlobStore::azure(&az).is_err());
    }

    #[tokio::test]
    async fn a_memory_url_works() {
        let s = ObjectBlobStore::from_url("memory:///blobs", std::iter::empty::<(&str, &str)>())
            .unwrap();
        assert_eq!(s.prefix.as_ref(), "blobs");
        s.put("x", &mut &b"1"[..], 1, None).await.unwrap();
    }
}
