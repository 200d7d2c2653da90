//! The blob story against Azure Blob Storage's API: Azurite, started here on a free port.
//! Install it with `scripts/object-stores.sh` (npm `azurite@3` into `.tools/`), or point
//! `MELDING_AZURITE` at an `azurite-blob` executable.

#[path = "common/server.rs"]
mod server;
#[path = "common/story.rs"]
mod story;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use melding_blob::{AzureConfig, BlobStore, ObjectBlobStore};
use server::Server;
use sha2::Sha256;

const ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development key, published by Microsoft.
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const CONTAINER: &str = "melding-test";

fn start_azurite() -> Server {
    let local = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.tools/node_modules/.bin/azurite-blob");
    let Some(azurite) = server::find_program("azurite-blob", "MELDING_AZURITE", &[local]) else {
        panic!(
            "azurite-blob not found: run scripts/object-stores.sh (npm install azurite@3 into \
             .tools/), or set MELDING_AZURITE (or MELDING_SKIP_OBJECT_STORE=1 to skip)"
        );
    };
    Server::start(&azurite, |port, data| {
        [
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            &port.to_string(),
            "--location",
            &data.display().to_string(),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
        ]
        .map(str::to_owned)
        .to_vec()
    })
}

/// The account's endpoint, path-style as Azurite serves it.
fn endpoint(azurite: &Server) -> String {
    format!("{}/{ACCOUNT}", azurite.url())
}

/// `object_store` cannot create containers, so this is the one signed request made by hand:
/// Create Container with Shared Key authorization.
async fn create_container(azurite: &Server) {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let version = "2021-08-06";
    // VERB, eleven standard headers (all empty here; a zero Content-Length is signed as empty),
    // the x-ms- headers sorted, then the resource with its query parameters.
    let string_to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n\
         /{ACCOUNT}/{ACCOUNT}/{CONTAINER}\nrestype:container"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&STANDARD.decode(KEY).expect("key"))
        .expect("any key length");
    mac.update(string_to_sign.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    let response = reqwest::Client::new()
        .put(format!(
            "{}/{CONTAINER}?restype=container",
            endpoint(azurite)
        ))
        .header("x-ms-date", date)
        .header("x-ms-version", version)
        .header("Content-Length", "0")
        .header("Authorization", format!("SharedKey {ACCOUNT}:{signature}"))
        .send()
        .await
        .expect("create container");
    let status = response.status();
    assert!(
        status.is_success(),
        "create container: {status}: {}",
        response.text().await.unwrap_or_default()
    );
}

fn config(azurite: &Server, prefix: Option<&str>) -> AzureConfig {
    AzureConfig {
        account: None,
        container: CONTAINER.into(),
        access_key: None,
        endpoint: Some(endpoint(azurite)),
        use_emulator: true,
        allow_http: false,
        prefix: prefix.map(str::to_owned),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_keeps_blobs_like_every_store() {
    if server::skipped("Azure Blob (Azurite)") {
        return;
    }
    let azurite = start_azurite();
    create_container(&azurite).await;

    let store = ObjectBlobStore::azure(&config(&azurite, Some("attachments"))).expect("store");
    story::run(&store).await;

    // An explicit account, key and endpoint, as a real deployment would give them.
    let explicit = ObjectBlobStore::azure(&AzureConfig {
        account: Some(ACCOUNT.into()),
        access_key: Some(KEY.into()),
        use_emulator: false,
        allow_http: true,
        ..config(&azurite, Some("attachments"))
    })
    .expect("store");
    store
        .put("prefixed", &mut &b"under the prefix"[..], 100, None)
        .await
        .expect("put");
    let (_, size) = explicit.get("prefixed").await.expect("get");
    assert_eq!(size, 16);
    let bare = ObjectBlobStore::azure(&config(&azurite, None)).expect("store");
    assert!(matches!(
        bare.get("prefixed").await,
        Err(melding_blob::BlobError::NotFound)
    ));
}
