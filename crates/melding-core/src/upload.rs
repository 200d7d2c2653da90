//! The multipart letter (reference §4.2): a sender posts a letter and its files in one request.
//! The HTTP edge reads the form; this module owns what happens to the files. Each file part is
//! streamed into blob storage under a fresh key as it arrives (a form may put the files before
//! the fields that describe them), up to Altinn's per-file limit. When the letter is refused —
//! by the use case, by the form, or because the client went away — the stored files are
//! deleted, so a refused request leaves nothing behind.
//!
//! The edge holds a [`LetterUpload`] while it reads the form and ends it with
//! [`Melding::initialize_uploaded`] or [`LetterUpload::discard`]; one dropped without either
//! removes its files in the background.

use std::sync::Arc;

use melding_blob::{BlobError, BlobStore};
use melding_domain::attachment::MAX_MULTIPART_FILE;
use tokio::io::AsyncRead;

use crate::attachments::UploadedPart;
use crate::{CoreError, InitializeRequest, Initialized, Melding, Principal, Rule};

/// The files of one multipart letter, received for one sender, not yet part of a letter.
///
/// Made by [`Melding::letter_upload`]; ended by [`Melding::initialize_uploaded`] (the files
/// become the letter's attachments, or are deleted if the letter is refused) or by
/// [`LetterUpload::discard`] (the request was refused before it reached the use case). Dropped
/// without either, it deletes its files on a background task.
pub struct LetterUpload {
    principal: Principal,
    blobs: Arc<dyn BlobStore>,
    parts: Vec<UploadedPart>,
    /// The largest file part accepted, in bytes: [`MAX_MULTIPART_FILE`] (2 GB).
    max_file: u64,
    /// True once the files belong to a letter or have been deleted.
    settled: bool,
}

impl std::fmt::Debug for LetterUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LetterUpload")
            .field("files", &self.parts.len())
            .field("settled", &self.settled)
            .finish_non_exhaustive()
    }
}

impl Melding {
    /// Starts receiving the files of a multipart letter for `principal`, who sends it.
    pub fn letter_upload(&self, principal: &Principal) -> LetterUpload {
        LetterUpload {
            principal: principal.clone(),
            blobs: self.blobs.clone(),
            parts: Vec::new(),
            max_file: MAX_MULTIPART_FILE.as_u64(),
            settled: false,
        }
    }

    /// Initializes the letters of `req` with the files `upload` received as the attachments
    /// its new attachment entries describe (matched by file name, reference §4.2), for the
    /// sender that started the upload. When the letter is refused the files are deleted
    /// before the error is returned.
    ///
    /// Errors: every error of [`Melding::initialize`].
    pub async fn initialize_uploaded(
        &self,
        mut upload: LetterUpload,
        mut req: InitializeRequest,
    ) -> Result<Initialized, CoreError> {
        req.files = Some(upload.parts.clone());
        let result = self.initialize(&upload.principal, req).await;
        match &result {
            Ok(_) => upload.settled = true,
            Err(_) => upload.delete_files().await,
        }
        result
    }
}

impl LetterUpload {
    /// Streams one file part of the form into blob storage under a new key. `file_name` is the
    /// part's file name, `None` when it gave none. A part without bytes is recorded with
    /// nothing stored (the use case then refuses it as an attachment without content).
    ///
    /// Errors: [`Rule::FileSize`] (CORR-02004, "2GB") when the part is larger than
    /// [`MAX_MULTIPART_FILE`] bytes; [`Rule::UploadFailed`] (CORR-02002) when reading the part
    /// or writing storage fails. Nothing of the failed part is kept; the parts stored before
    /// stay until the upload ends.
    pub async fn add_file(
        &mut self,
        file_name: Option<String>,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<(), CoreError> {
        let key = uuid::Uuid::new_v4().simple().to_string();
        let stored = match self.blobs.put(&key, bytes, self.max_file, None).await {
            Ok(stored) => Some(stored),
            Err(BlobError::Empty) => None,
            Err(BlobError::TooLarge(_)) => {
                return Err(Rule::FileSize(MAX_MULTIPART_FILE).into());
            }
            Err(e) => {
                tracing::warn!(error = %e, "multipart upload failed");
                return Err(Rule::UploadFailed.into());
            }
        };
        self.parts.push(UploadedPart {
            file_name,
            key,
            stored,
        });
        Ok(())
    }

    /// How many file parts have been received, empty ones included.
    pub fn file_count(&self) -> usize {
        self.parts.len()
    }

    /// Ends an upload whose request was refused before it reached the use case (a form that
    /// cannot be read or does not fit the model): its files are deleted.
    pub async fn discard(mut self) {
        self.delete_files().await;
    }

    async fn delete_files(&mut self) {
        self.settled = true;
        for key in stored_keys(&self.parts) {
            delete_logged(self.blobs.as_ref(), &key).await;
        }
    }
}

impl Drop for LetterUpload {
    /// An upload abandoned midway (the client went away while sending) still removes its files,
    /// on a task of the running runtime.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let keys = stored_keys(&self.parts);
        if keys.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                files = keys.len(),
                "an abandoned multipart upload left files behind: no runtime to delete them"
            );
            return;
        };
        let blobs = self.blobs.clone();
        runtime.spawn(async move {
            for key in keys {
                delete_logged(blobs.as_ref(), &key).await;
            }
        });
    }
}

/// The keys under which bytes were stored (empty parts stored nothing).
fn stored_keys(parts: &[UploadedPart]) -> Vec<String> {
    parts
        .iter()
        .filter(|p| p.stored.is_some())
        .map(|p| p.key.clone())
        .collect()
}

async fn delete_logged(blobs: &dyn BlobStore, key: &str) {
    if let Err(e) = blobs.delete(key).await {
        tracing::warn!(key = %key, error = %e, "could not remove a refused upload");
    }
}

#[cfg(test)]
mod tests {
    use melding_blob::ObjectBlobStore;
    use melding_domain::{OrgNumber, Party};

    use super::*;

    fn upload(blobs: &Arc<dyn BlobStore>) -> LetterUpload {
        let sender = Principal::new(
            Party::Organization(OrgNumber::parse("991825827").unwrap()),
            [crate::scopes::WRITE],
        );
        LetterUpload {
            principal: sender,
            blobs: blobs.clone(),
            parts: Vec::new(),
            max_file: MAX_MULTIPART_FILE.as_u64(),
            settled: false,
        }
    }

    fn memory() -> Arc<dyn BlobStore> {
        Arc::new(
            ObjectBlobStore::from_url("memory:///", std::iter::empty::<(&str, &str)>()).unwrap(),
        )
    }

    async fn exists(blobs: &Arc<dyn BlobStore>, key: &str) -> bool {
        match blobs.get(key).await {
            Ok(_) => true,
            Err(BlobError::NotFound) => false,
            Err(e) => panic!("storage failure: {e}"),
        }
    }

    #[tokio::test]
    async fn each_file_part_is_stored_under_its_own_key() {
        let blobs = memory();
        let mut up = upload(&blobs);
        up.add_file(Some("a.txt".into()), &mut &b"first"[..])
            .await
            .unwrap();
        up.add_file(Some("a.txt".into()), &mut &b"second"[..])
            .await
            .unwrap();
        assert_eq!(up.file_count(), 2);
        let (a, b) = (&up.parts[0], &up.parts[1]);
        assert_ne!(a.key, b.key);
        assert_eq!(a.stored.as_ref().unwrap().size, 5);
        assert_eq!(b.stored.as_ref().unwrap().size, 6);
        assert!(exists(&blobs, &a.key).await && exists(&blobs, &b.key).await);
        up.discard().await;
    }

    #[tokio::test]
    async fn an_empty_part_is_recorded_without_bytes() {
        let blobs = memory();
        let mut up = upload(&blobs);
        up.add_file(None, &mut &b""[..]).await.unwrap();
        assert_eq!(up.file_count(), 1);
        assert!(up.parts[0].stored.is_none());
        assert!(!exists(&blobs, &up.parts[0].key).await);
        up.discard().await;
    }

    #[tokio::test]
    async fn a_part_over_the_limit_is_corr_02004_and_is_not_kept() {
        let blobs = memory();
        let mut up = upload(&blobs);
        up.max_file = 4;
        let err = up
            .add_file(Some("big.pdf".into()), &mut &b"12345"[..])
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::Rule(Rule::FileSize(limit)) if limit == MAX_MULTIPART_FILE),
            "{err:?}"
        );
        assert_eq!(up.file_count(), 0);
        up.discard().await;
    }

    #[tokio::test]
    async fn a_part_that_breaks_off_is_an_upload_failure() {
        struct Broken;
        impl AsyncRead for Broken {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                _: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Err(std::io::Error::other("connection reset")))
            }
        }
        let blobs = memory();
        let mut up = upload(&blobs);
        let err = up.add_file(None, &mut Broken).await.unwrap_err();
        assert!(
            matches!(err, CoreError::Rule(Rule::UploadFailed)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_discarded_upload_deletes_its_files() {
        let blobs = memory();
        let mut up = upload(&blobs);
        up.add_file(Some("a.txt".into()), &mut &b"bytes"[..])
            .await
            .unwrap();
        let key = up.parts[0].key.clone();
        up.discard().await;
        assert!(!exists(&blobs, &key).await);
    }

    #[tokio::test]
    async fn a_dropped_upload_deletes_its_files_in_the_background() {
        let blobs = memory();
        let mut up = upload(&blobs);
        up.add_file(Some("a.txt".into()), &mut &b"bytes"[..])
            .await
            .unwrap();
        let key = up.parts[0].key.clone();
        drop(up);
        // The deletion runs on a spawned task; give it turns until it has run.
        for _ in 0..1000 {
            if !exists(&blobs, &key).await {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the dropped upload's file is still stored");
    }
}
