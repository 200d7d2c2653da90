//! README "Backups": `melding backup DEST` copies a running node's data directory — database,
//! keys and attachment files. Restored to a fresh directory on its own, it serves the same
//! letters, and their attachments download byte for byte.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "common/process.rs"]
mod process;
use process::Running as Server;
use process::melding_ok as melding;
use process::{BIN, data_dir_with_sender};

async fn serve(dir: &Path) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir)
            .env("MELDING_LOG", "warn")
            .env_remove("MELDING_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}/correspondence/api/v1");
    process::wait_until_healthy(port).await;
    (server, base)
}

/// Copies a directory tree, as an operator restores a backup onto a fresh disk.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Bytes no compression or deduplication would make look alike (xorshift).
fn document(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[tokio::test]
async fn a_backup_restored_to_a_fresh_directory_serves_byte_identical_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sender) = data_dir_with_sender(dir.path());
    let reader = melding(
        &data,
        &[
            "token",
            "--init",
            "--person",
            "08089403198",
            "--scope",
            "altinn:correspondence.read",
        ],
    );

    let (server, base) = serve(&data).await;
    let client = reqwest::Client::new();
    let file = document(300_000);
    let form = reqwest::multipart::Form::new()
        .text("Correspondence.ResourceId", "kommunepost")
        .text("Correspondence.SendersReference", "backup-1")
        .text("Correspondence.Content.MessageTitle", "Vedtak")
        .text("Correspondence.Content.MessageBody", "Se vedlegg.")
        .text(
            "Correspondence.Content.Attachments[0].FileName",
            "vedtak.pdf",
        )
        .text(
            "Correspondence.Content.Attachments[0].SendersReference",
            "v-1",
        )
        .text(
            "Recipients[0]",
            "urn:altinn:person:identifier-no:08089403198",
        )
        .part(
            "attachments",
            reqwest::multipart::Part::bytes(file.clone()).file_name("vedtak.pdf"),
        );
    let sent: Value = client
        .post(format!("{base}/correspondence/upload"))
        .bearer_auth(&sender)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let letter = sent["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap_or_else(|| panic!("{sent}"))
        .to_owned();
    let attachment = sent["attachmentIds"][0].as_str().unwrap().to_owned();
    let download = format!("/correspondence/{letter}/attachment/{attachment}/download");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = client
            .get(format!("{base}{download}"))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            assert!(r.bytes().await.unwrap() == file);
            break;
        }
        assert!(Instant::now() < deadline, "the letter was not published");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Backed up while the node runs, restored to a fresh directory, the original gone.
    let backup = dir.path().join("backup");
    melding(&data, &["backup", backup.to_str().unwrap()]);
    drop(server);
    let restored = dir.path().join("restored");
    copy_dir(&backup, &restored);
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::remove_dir_all(&backup).unwrap();

    let (_server, base) = serve(&restored).await;
    let r = client
        .get(format!("{base}{download}"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let back = r.bytes().await.unwrap();
    assert_eq!(back.len(), file.len());
    assert!(back == file, "the restored attachment differs");
}
