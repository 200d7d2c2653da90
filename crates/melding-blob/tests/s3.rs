//! The blob story against a real S3 API: moto's server, started here on a free port.
//! Install it with `scripts/object-stores.sh` (or `pip install 'moto[server]'`).

#[path = "common/server.rs"]
mod server;
#[path = "common/story.rs"]
mod story;

use melding_blob::{BlobStore, ObjectBlobStore, S3Config};
use server::Server;

const BUCKET: &str = "melding-test";

fn start_moto() -> Server {
    let Some(moto) = server::find_program("moto_server", "MELDING_MOTO", &[]) else {
        panic!(
            "moto_server is not on PATH: run scripts/object-stores.sh or \
             pip install 'moto[server]' (or set MELDING_SKIP_OBJECT_STORE=1 to skip)"
        );
    };
    Server::start(&moto, |port, _| {
        vec![
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ]
    })
}

fn config(moto: &Server, prefix: Option<&str>) -> S3Config {
    S3Config {
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        endpoint: Some(moto.url()),
        // moto accepts any credentials; object_store must still sign.
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
        prefix: prefix.map(str::to_owned),
    }
}

/// moto does not check signatures, so a bare PUT creates the bucket; `object_store` has no
/// call for that.
async fn create_bucket(moto: &Server) {
    let response = reqwest::Client::new()
        .put(format!("{}/{BUCKET}", moto.url()))
        .send()
        .await
        .expect("create bucket");
    assert!(
        response.status().is_success(),
        "create bucket: {}",
        response.status()
    );
}

/// Multipart uploads begun and neither completed nor aborted.
async fn open_uploads(moto: &Server) -> usize {
    let body = reqwest::get(format!("{}/{BUCKET}?uploads", moto.url()))
        .await
        .expect("list uploads")
        .text()
        .await
        .expect("list uploads");
    body.matches("<Upload>").count()
}

/// Waits until exactly `n` multipart uploads are open.
async fn wait_for_open_uploads(moto: &Server, n: usize) {
    for _ in 0..200 {
        if open_uploads(moto).await == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "{n} open multipart uploads expected; {}",
        open_uploads(moto).await
    );
}

/// An upload whose caller goes away (the future is dropped) is aborted in the background.
async fn a_cancelled_upload_is_aborted(moto: &Server, store: &dyn BlobStore) {
    let first_part = vec![5u8; 6 * 1024 * 1024];
    // The writing half stays open, so the stream waits for bytes that never come.
    let (_writer, never) = tokio::io::duplex(64);
    let mut reader = tokio::io::AsyncReadExt::chain(&first_part[..], never);
    tokio::select! {
        result = store.put("cancelled", &mut reader, u64::MAX, None) => {
            panic!("the put should be waiting for more bytes: {result:?}")
        }
        () = wait_for_open_uploads(moto, 1) => {}
    }
    wait_for_open_uploads(moto, 0).await;
    assert!(matches!(
        store.get("cancelled").await,
        Err(melding_blob::BlobError::NotFound)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_keeps_blobs_like_every_store() {
    if server::skipped("S3 (moto)") {
        return;
    }
    let moto = start_moto();
    create_bucket(&moto).await;

    let store = ObjectBlobStore::s3(&config(&moto, Some("attachments/"))).expect("store");
    story::run(&store).await;
    assert_eq!(
        open_uploads(&moto).await,
        0,
        "refused uploads must be aborted, not left behind"
    );
    a_cancelled_upload_is_aborted(&moto, &store).await;

    // The prefix is a folder in the bucket: the key is not at the bucket's root, and a store
    // named by a URL with the same folder finds it.
    let bare = ObjectBlobStore::s3(&config(&moto, None)).expect("store");
    store
        .put("prefixed", &mut &b"under the prefix"[..], 100, None)
        .await
        .expect("put");
    assert!(matches!(
        bare.get("prefixed").await,
        Err(melding_blob::BlobError::NotFound)
    ));
    let by_url = ObjectBlobStore::from_url(
        &format!("s3://{BUCKET}/attachments"),
        [
            ("aws_endpoint", moto.url()),
            ("aws_allow_http", "true".into()),
            ("aws_access_key_id", "test".into()),
            ("aws_secret_access_key", "test".into()),
            ("aws_region", "us-east-1".into()),
        ],
    )
    .expect("store from URL");
    let (_, size) = by_url
        .get("prefixed")
        .await
        .expect("get through the URL store");
    assert_eq!(size, 16);
}
