//! The blob story that S3 and Azure pass, against the local directory store and an in-memory
//! object store, so the story itself is checked on every machine, servers or not.

#[path = "common/story.rs"]
mod story;

use std::sync::Arc;

use melding_blob::{LocalBlobStore, ObjectBlobStore};

#[tokio::test]
async fn local_files_keep_blobs_like_every_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::open(dir.path()).await.unwrap();
    story::run(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_object_store_keeps_blobs_like_every_store() {
    let memory = Arc::new(object_store::memory::InMemory::new());
    let store = ObjectBlobStore::new(memory, Some("attachments")).unwrap();
    story::run(&store).await;
}
