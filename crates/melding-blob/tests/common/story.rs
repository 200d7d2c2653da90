//! What every blob store must do, written once and run against each backend.

use md5::{Digest, Md5};
use melding_blob::{BlobError, BlobStore};
use tokio::io::AsyncReadExt;

const MIB: usize = 1024 * 1024;

/// Runs every chapter in order; each uses its own keys, so the store may be shared.
pub async fn run(store: &dyn BlobStore) {
    bytes_round_trip_with_size_md5_and_crc32(store).await;
    a_12_mib_file_round_trips_byte_for_byte(store).await;
    a_checksum_mismatch_keeps_nothing(store).await;
    an_empty_stream_is_refused_and_keeps_nothing(store).await;
    a_too_large_stream_is_refused_and_keeps_nothing(store).await;
    a_refused_rewrite_keeps_the_old_bytes(store).await;
    delete_is_idempotent_and_missing_keys_are_not_found(store).await;
    invalid_keys_are_refused(store).await;
}

async fn read_all(store: &dyn BlobStore, key: &str) -> (Vec<u8>, u64) {
    let (mut reader, size) = store.get(key).await.expect("get");
    let mut back = Vec::new();
    reader.read_to_end(&mut back).await.expect("read");
    (back, size)
}

async fn assert_missing(store: &dyn BlobStore, key: &str, why: &str) {
    match store.get(key).await {
        Err(BlobError::NotFound) => {}
        Err(e) => panic!("{why}: get({key}) failed with {e:?} instead of NotFound"),
        Ok((_, size)) => panic!("{why}: get({key}) found {size} bytes"),
    }
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Bytes that differ everywhere, so a misplaced or repeated part would show.
fn patterned(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

async fn bytes_round_trip_with_size_md5_and_crc32(store: &dyn BlobStore) {
    let data = b"The quick brown fox jumps over the lazy dog";
    let stored = store
        .put("round-trip", &mut &data[..], 1_000, None)
        .await
        .expect("put");
    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(stored.md5, "9e107d9d372bb6826bd81d3542a419d6");
    assert_eq!(stored.crc32, 0x414f_a339);
    let (back, size) = read_all(store, "round-trip").await;
    assert_eq!(size, data.len() as u64);
    assert_eq!(back, data);
}

async fn a_12_mib_file_round_trips_byte_for_byte(store: &dyn BlobStore) {
    let data = patterned(12 * MIB + 777);
    let md5 = md5_hex(&data);
    let stored = store
        .put("twelve-mib", &mut &data[..], 20 * MIB as u64, Some(&md5))
        .await
        .expect("put 12 MiB");
    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(stored.md5, md5);
    assert_eq!(stored.crc32, crc32fast::hash(&data));
    let (back, size) = read_all(store, "twelve-mib").await;
    assert_eq!(size, data.len() as u64);
    assert!(back == data, "the 12 MiB file came back different");
    store.delete("twelve-mib").await.expect("delete");
}

async fn a_checksum_mismatch_keeps_nothing(store: &dyn BlobStore) {
    let wrong = "00000000000000000000000000000000";
    let e = store
        .put("mismatch-small", &mut &b"hello"[..], 100, Some(wrong))
        .await
        .unwrap_err();
    assert!(matches!(e, BlobError::ChecksumMismatch { .. }), "{e:?}");
    assert_missing(store, "mismatch-small", "after a checksum mismatch").await;

    // Large enough to be sent in parts before the checksum is known.
    let data = patterned(11 * MIB);
    let e = store
        .put(
            "mismatch-large",
            &mut &data[..],
            20 * MIB as u64,
            Some(wrong),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, BlobError::ChecksumMismatch { .. }), "{e:?}");
    assert_missing(
        store,
        "mismatch-large",
        "after a multipart checksum mismatch",
    )
    .await;

    // The right checksum, in any case, is accepted.
    store
        .put(
            "mismatch-small",
            &mut &b"hello"[..],
            100,
            Some("5D41402ABC4B2A76B9719D911017C592"),
        )
        .await
        .expect("put with an upper-case MD5");
    store.delete("mismatch-small").await.expect("delete");
}

async fn an_empty_stream_is_refused_and_keeps_nothing(store: &dyn BlobStore) {
    let e = store
        .put("empty", &mut &b""[..], 100, None)
        .await
        .unwrap_err();
    assert!(matches!(e, BlobError::Empty), "{e:?}");
    assert_missing(store, "empty", "after an empty stream").await;
}

async fn a_too_large_stream_is_refused_and_keeps_nothing(store: &dyn BlobStore) {
    let e = store
        .put("large-small", &mut &[7u8; 11][..], 10, None)
        .await
        .unwrap_err();
    assert!(matches!(e, BlobError::TooLarge(10)), "{e:?}");
    assert_missing(store, "large-small", "after an 11-byte stream over 10").await;

    // Refused after parts have gone up.
    let data = patterned(12 * MIB);
    let limit = 11 * MIB as u64;
    let e = store
        .put("large-parts", &mut &data[..], limit, None)
        .await
        .unwrap_err();
    assert!(matches!(e, BlobError::TooLarge(l) if l == limit), "{e:?}");
    assert_missing(
        store,
        "large-parts",
        "after a multipart stream over the limit",
    )
    .await;
}

async fn a_refused_rewrite_keeps_the_old_bytes(store: &dyn BlobStore) {
    store
        .put("rewrite", &mut &b"first version"[..], 100, None)
        .await
        .expect("put");
    let data = patterned(7 * MIB);
    let e = store
        .put("rewrite", &mut &data[..], 6 * MIB as u64, None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, BlobError::TooLarge(max) if max == 6 * MIB as u64),
        "{e:?}"
    );
    let (back, _) = read_all(store, "rewrite").await;
    assert_eq!(back, b"first version");
    store.delete("rewrite").await.expect("delete");
}

async fn delete_is_idempotent_and_missing_keys_are_not_found(store: &dyn BlobStore) {
    store
        .put("gone", &mut &b"x"[..], 10, None)
        .await
        .expect("put");
    store.delete("gone").await.expect("first delete");
    store.delete("gone").await.expect("second delete");
    assert_missing(store, "gone", "after delete").await;
    assert_missing(store, "never-stored", "a key never written").await;
    store
        .delete("never-stored")
        .await
        .expect("delete of a key never written");
}

async fn invalid_keys_are_refused(store: &dyn BlobStore) {
    for bad in ["../x", "a/b", "", "tmp/../../etc", "a.b", "a b", "ø"] {
        assert!(
            matches!(
                store.put(bad, &mut &b"x"[..], 10, None).await,
                Err(BlobError::InvalidKey)
            ),
            "put {bad:?}"
        );
        assert!(
            matches!(store.get(bad).await, Err(BlobError::InvalidKey)),
            "get {bad:?}"
        );
        assert!(
            matches!(store.delete(bad).await, Err(BlobError::InvalidKey)),
            "delete {bad:?}"
        );
    }
}
