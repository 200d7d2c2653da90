//! Attachments through the API: shared attachments, multipart letters, recipient downloads, the
//! download-all zip, expiry, purge and malware scanning — every reachable 2xxx code.

use std::sync::Arc;

use chrono::Duration;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::*;

const API: &str = "/correspondence/api/v1";

pub(crate) fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn md5_hex(data: &[u8]) -> String {
    use std::fmt::Write;
    let digest = md5_of(data);
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// MD5 by `md5sum`, so the test does not share the server's hashing code.
fn md5_of(data: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    std::fs::write(&f, data).unwrap();
    let out = std::process::Command::new("md5sum")
        .arg(&f)
        .output()
        .unwrap();
    let hex = String::from_utf8(out.stdout).unwrap();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The letter's form fields, with one metadata entry per file.
pub(crate) fn letter_form(recipients: &[&str], files: &[(&str, Vec<u8>)]) -> Form {
    let mut form = Form::new()
        .text("Correspondence.ResourceId", RESOURCE)
        .text("Correspondence.SendersReference", "sak-2026-7")
        .text("Correspondence.Content.Language", "nb")
        .text(
            "Correspondence.Content.MessageTitle",
            "Vedtak om byggesøknad",
        )
        .text("Correspondence.Content.MessageSummary", "Med vedlegg")
        .text("Correspondence.Content.MessageBody", "Se **vedlegget**.");
    for (i, r) in recipients.iter().enumerate() {
        let urn = if r.len() == 9 {
            format!("urn:altinn:organization:identifier-no:{r}")
        } else {
            format!("urn:altinn:person:identifier-no:{r}")
        };
        form = form.text(format!("Recipients[{i}]"), urn);
    }
    for (i, (name, _)) in files.iter().enumerate() {
        form = form
            .text(
                format!("Correspondence.Content.Attachments[{i}].FileName"),
                name.to_string(),
            )
            .text(
                format!("Correspondence.Content.Attachments[{i}].SendersReference"),
                format!("vedlegg-{i}"),
            );
    }
    for (name, data) in files {
        form = form.part(
            "attachments",
            Part::bytes(data.clone()).file_name(name.to_string()),
        );
    }
    form
}

pub(crate) fn ids(a: &Answer) -> (Vec<String>, Vec<String>) {
    let v = a.json();
    let letters = v["correspondences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["correspondenceId"].as_str().unwrap().to_owned())
        .collect();
    let attachments = v["attachmentIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (letters, attachments)
}

pub(crate) fn attachment_path(id: &str) -> String {
    format!("{API}/attachment/{id}")
}

pub(crate) fn download_path(letter: &str, attachment: &str) -> String {
    format!("{API}/correspondence/{letter}/attachment/{attachment}/download")
}

async fn init_attachment(app: &TestApp, body: Value) -> Answer {
    app.call(
        Method::POST,
        &format!("{API}/attachment"),
        Some(&app.sender()),
        Some(body),
    )
    .await
}

fn attachment_body(file_name: &str) -> Value {
    json!({
        "resourceId": RESOURCE,
        "fileName": file_name,
        "displayName": "Vedlegg",
        "sendersReference": "vedlegg-1"
    })
}

/// A shared attachment, uploaded and Published (by its scan job).
async fn published_attachment(app: &TestApp, file_name: &str, data: Vec<u8>) -> String {
    let a = init_attachment(app, attachment_body(file_name)).await;
    a.assert_status(200);
    let id: String = serde_json::from_str(&a.text).unwrap();
    app.upload(&app.sender(), &id, data)
        .await
        .assert_status(200);
    app.run_jobs().await;
    id
}

#[tokio::test]
async fn the_altinn_use_case_flow_works_end_to_end() {
    let app = TestApp::spawn().await;
    let data = bytes(300_000, 7);
    // Multipart create with one attachment.
    let a = app
        .send_form(
            &app.sender(),
            letter_form(&[PERSON], &[("vedtak.pdf", data.clone())]),
        )
        .await;
    a.assert_status(200);
    let (letters, attachments) = ids(&a);
    let (letter, attachment) = (&letters[0], &attachments[0]);
    // Initialized until its attachment's scan job has published the attachment.
    assert_eq!(a.json()["correspondences"][0]["status"], "Initialized");
    // The recipient polls the overview until Published.
    app.get(&path(letter), &app.person())
        .await
        .assert_problem(404, 1001);
    app.run_jobs().await;
    let overview = app.get(&path(letter), &app.person()).await;
    overview.assert_status(200);
    let o = overview.json();
    assert_eq!(o["status"], "Published");
    let listed = &o["content"]["attachments"][0];
    assert_eq!(listed["id"], attachment.as_str());
    assert_eq!(listed["fileName"], "vedtak.pdf");
    assert_eq!(listed["status"], "Published");
    assert_eq!(listed["dataType"], "application/pdf");
    assert_eq!(listed["checksum"], md5_hex(&data));
    assert_eq!(listed["dataLocationType"], "AltinnCorrespondenceAttachment");
    // The sender reads the attachment overview.
    let s = app.get(&attachment_path(attachment), &app.sender()).await;
    s.assert_status(200);
    let s = s.json();
    assert_eq!(s["status"], "Published");
    assert_eq!(s["statusText"], "Bypassed malware scan");
    assert_eq!(s["correspondenceIds"], json!([letter]));
    assert_eq!(
        s["sender"],
        format!("urn:altinn:organization:identifier-no:{SENDER}")
    );
    // The recipient downloads it: the same bytes, shown inline as a PDF.
    let (status, headers, body) = app
        .get_bytes(&download_path(letter, attachment), &app.person())
        .await;
    assert_eq!(status, 200);
    assert!(body == data, "downloaded bytes differ");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["content-length"], data.len().to_string().as_str());
    assert_eq!(
        headers["content-disposition"],
        "inline; filename*=UTF-8''vedtak.pdf"
    );
    let details = app
        .get(&format!("{}/details", path(letter)), &app.person())
        .await
        .json();
    assert_eq!(history_count(&details, "AttachmentsDownloaded"), 1);
    assert!(
        details["statusHistory"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["statusText"] == format!("Attachment {attachment} has been downloaded"))
    );
    // The recipient purges; the overview is 404 and the attachment is purged with it.
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(letter)),
        Some(&app.person()),
        None,
    )
    .await
    .assert_status(200);
    app.get(&path(letter), &app.person())
        .await
        .assert_problem(404, 1001);
    let s = app
        .get(&attachment_path(attachment), &app.sender())
        .await
        .json();
    assert_eq!(s["status"], "Purged");
    assert_eq!(s["statusText"], "Attachment has been purged");
    app.get_bytes(&download_path(letter, attachment), &app.person())
        .await
        .0
        .as_u16()
        .eq(&400)
        .then_some(())
        .expect("a purged attachment cannot be downloaded");
}

#[tokio::test]
async fn an_attachment_named_twice_is_linked_once() {
    let app = TestApp::spawn().await;
    let mut published = Vec::new();
    for name in ["a.txt", "b.txt"] {
        let a = init_attachment(&app, attachment_body(name)).await;
        a.assert_status(200);
        let id: String = serde_json::from_str(&a.text).unwrap();
        app.upload(&app.sender(), &id, bytes(1_000, 1))
            .await
            .assert_status(200);
        published.push(id);
    }
    app.run_jobs().await;
    let (a, b) = (&published[0], &published[1]);
    // The repeat is not next to the first naming, so only a full de-duplication catches it.
    let mut l = letter(&[PERSON]);
    l["existingAttachments"] = json!([a, b, a]);
    let sent = app.send(&app.sender(), l).await;
    sent.assert_status(200);
    assert_eq!(sent.json()["attachmentIds"], json!([a, b]));
}

#[tokio::test]
async fn a_shared_attachment_is_uploaded_once_and_used_by_letters() {
    let app = TestApp::spawn().await;
    let data = bytes(70_000, 3);
    let mut body = attachment_body("Søknad.txt");
    body["checksum"] = json!(md5_hex(&data));
    let a = init_attachment(&app, body).await;
    a.assert_status(200);
    let id: String = serde_json::from_str(&a.text).unwrap();
    let o = app.get(&attachment_path(&id), &app.sender()).await.json();
    assert_eq!(o["status"], "Initialized");
    assert_eq!(o["dataType"], "text/plain");
    assert_eq!(o["isEncrypted"], false);
    // A letter cannot use it before it is published (1018).
    let mut l = letter(&[PERSON]);
    l["existingAttachments"] = json!([id]);
    app.send(&app.sender(), l.clone())
        .await
        .assert_problem(400, 1018);
    // Upload, once.
    let up = app.upload(&app.sender(), &id, data.clone()).await;
    up.assert_status(200);
    assert_eq!(up.json()["status"], "UploadProcessing");
    assert_eq!(up.json()["checksum"], md5_hex(&data));
    app.run_jobs().await;
    app.upload(&app.sender(), &id, data.clone())
        .await
        .assert_problem(400, 2005);
    // The sender can download it while no letter using it is published.
    let (status, headers, body) = app
        .get_bytes(&format!("{}/download", attachment_path(&id)), &app.sender())
        .await;
    assert_eq!(status, 200);
    assert!(body == data);
    assert_eq!(headers["content-type"], "application/octet-stream");
    // Two letters use it; both publish at once.
    let mut l = letter(&[PERSON, OTHER_PERSON]);
    l["existingAttachments"] = json!([id]);
    let a = app.send(&app.sender(), l).await;
    a.assert_status(200);
    assert_eq!(a.json()["attachmentIds"], json!([id]));
    let (letters, _) = ids(&a);
    assert_eq!(a.json()["correspondences"][0]["status"], "ReadyForPublish");
    // Linked: no re-upload (2005 wins: it was uploaded), no delete (2007).
    app.call(
        Method::DELETE,
        &attachment_path(&id),
        Some(&app.sender()),
        None,
    )
    .await
    .assert_problem(400, 2007);
    app.run_jobs().await;
    // Published: the sender's access to the bytes has ended (2016); recipients download.
    app.get(&format!("{}/download", attachment_path(&id)), &app.sender())
        .await
        .assert_problem(400, 2016);
    let (status, headers, body) = app
        .get_bytes(&download_path(&letters[1], &id), &app.other_person())
        .await;
    assert_eq!(status, 200);
    assert!(body == data);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"S_knad.txt\"; filename*=UTF-8''S%C3%B8knad.txt"
    );
    let o = app.get(&attachment_path(&id), &app.sender()).await.json();
    let mut expected = letters.clone();
    expected.sort();
    assert_eq!(o["correspondenceIds"], json!(expected));
    // One recipient purges: the attachment stays for the other.
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(&letters[0])),
        Some(&app.person()),
        None,
    )
    .await
    .assert_status(200);
    let o = app.get(&attachment_path(&id), &app.sender()).await.json();
    assert_eq!(o["status"], "Published");
    // The other purges too: now it is purged, and downloads say so (2019).
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(&letters[1])),
        Some(&app.other_person()),
        None,
    )
    .await
    .assert_status(200);
    let d = app
        .get(&format!("{}/details", attachment_path(&id)), &app.sender())
        .await
        .json();
    assert_eq!(d["status"], "Purged");
    let history: Vec<&str> = d["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "Initialized",
            "UploadProcessing",
            "UploadProcessing",
            "Published",
            "Purged"
        ]
    );
    app.get(&download_path(&letters[1], &id), &app.other_person())
        .await
        .assert_problem(400, 2019);
    app.get(&format!("{}/download", attachment_path(&id)), &app.sender())
        .await
        .assert_problem(400, 2019);
    app.call(
        Method::DELETE,
        &attachment_path(&id),
        Some(&app.sender()),
        None,
    )
    .await
    .assert_problem(400, 2006);
}

#[tokio::test]
async fn uploads_are_checked() {
    let app = TestApp::spawn().await;
    let data = bytes(10_000, 1);
    // A checksum mismatch fails the attachment (2008), and it cannot be tried again.
    let mut body = attachment_body("a.pdf");
    body["checksum"] = json!("00000000000000000000000000000000");
    let id: String = serde_json::from_str(&init_attachment(&app, body).await.text).unwrap();
    app.upload(&app.sender(), &id, data.clone())
        .await
        .assert_problem(400, 2008);
    let o = app.get(&attachment_path(&id), &app.sender()).await.json();
    assert_eq!(
        (o["status"].as_str(), o["statusText"].as_str()),
        (Some("Failed"), Some("Checksum mismatch"))
    );
    app.upload(&app.sender(), &id, data.clone())
        .await
        .assert_problem(400, 2005);
    // An empty body is refused before anything starts (2004) and the upload may be retried.
    let id: String =
        serde_json::from_str(&init_attachment(&app, attachment_body("b.pdf")).await.text).unwrap();
    let empty = app.upload(&app.sender(), &id, vec![]).await;
    empty.assert_problem(400, 2004);
    assert!(empty.json()["detail"].as_str().unwrap().contains("50GB"));
    app.upload(&app.sender(), &id, data.clone())
        .await
        .assert_status(200);
    // Unknown attachments (2001), bad ids (validation), another sender (4001), no token
    // (401), a read-only token (403).
    let unknown = "0198c2a1-0000-7000-8000-000000000000";
    app.upload(&app.sender(), unknown, data.clone())
        .await
        .assert_problem(404, 2001);
    app.get(&attachment_path(unknown), &app.sender())
        .await
        .assert_problem(404, 2001);
    app.get(&attachment_path("nope"), &app.sender())
        .await
        .assert_validation("attachmentId");
    app.upload(&app.other_sender(), &id, data.clone())
        .await
        .assert_problem(401, 4001);
    app.call(Method::GET, &attachment_path(&id), None, None)
        .await
        .assert_status(401);
    app.get(&attachment_path(&id), &app.person())
        .await
        .assert_status(403);
    // Nothing uploaded yet: the sender has nothing to download (2009).
    let id: String =
        serde_json::from_str(&init_attachment(&app, attachment_body("c.pdf")).await.text).unwrap();
    app.get(&format!("{}/download", attachment_path(&id)), &app.sender())
        .await
        .assert_problem(400, 2009);
    // Storage failing mid-upload: 502/2002, and the attachment is Failed.
    let tmp = app.data_dir().join("attachments/tmp");
    std::fs::remove_dir(&tmp).unwrap();
    app.upload(&app.sender(), &id, data.clone())
        .await
        .assert_problem(502, 2002);
    std::fs::create_dir(&tmp).unwrap();
    let o = app.get(&attachment_path(&id), &app.sender()).await.json();
    assert_eq!(
        (o["status"].as_str(), o["statusText"].as_str()),
        (Some("Failed"), Some("Upload failed"))
    );
}

#[tokio::test]
async fn attachment_metadata_is_checked_in_altinns_order() {
    let app = TestApp::spawn().await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = attachment_body("a.pdf");
        f(&mut b);
        b
    };
    let cases: Vec<(Value, u16, u16)> = vec![
        (with(&|b| b["resourceId"] = json!("finnes-ikke")), 400, 1036),
        (
            with(&|b| b["resourceId"] = json!(OTHER_RESOURCE)),
            401,
            4001,
        ),
        (with(&|b| b["fileName"] = json!("")), 400, 2010),
        (with(&|b| b["fileName"] = json!("program.exe")), 400, 2013),
        (with(&|b| b["fileName"] = json!("a|b.pdf")), 400, 2012),
        (with(&|b| b["fileName"] = json!("CON.pdf")), 400, 2021),
        (with(&|b| b["expirationInDays"] = json!(0)), 400, 2017),
    ];
    for (body, status, code) in cases {
        init_attachment(&app, body)
            .await
            .assert_problem(status, code);
    }
    init_attachment(
        &app,
        with(&|b| b["fileName"] = json!("a".repeat(256) + ".pdf")),
    )
    .await
    .assert_validation("FileName");
    init_attachment(&app, with(&|b| b["checksum"] = json!("ABC")))
        .await
        .assert_validation("Checksum");
    init_attachment(&app, with(&|b| b["sendersReference"] = Value::Null))
        .await
        .assert_validation("SendersReference");
}

#[tokio::test]
async fn multipart_letters_are_checked_and_keep_nothing_when_refused() {
    let app = TestApp::spawn().await;
    let data = bytes(5_000, 9);
    // Metadata for two files, one file part: 1005.
    let mut form = letter_form(&[PERSON], &[("a.pdf", data.clone())]);
    form = form
        .text("Correspondence.Content.Attachments[1].FileName", "b.pdf")
        .text(
            "Correspondence.Content.Attachments[1].SendersReference",
            "x",
        );
    app.send_form(&app.sender(), form)
        .await
        .assert_problem(400, 1005);
    // An empty file part: 2004 (2GB).
    let a = app
        .send_form(&app.sender(), letter_form(&[PERSON], &[("a.pdf", vec![])]))
        .await;
    a.assert_problem(400, 2004);
    assert!(a.json()["detail"].as_str().unwrap().contains("2GB"));
    // A bad file name: 2013.
    app.send_form(
        &app.sender(),
        letter_form(&[PERSON], &[("a.exe", data.clone())]),
    )
    .await
    .assert_problem(400, 2013);
    // A checksum that does not match: 2008, and no letter is created.
    let form = letter_form(&[PERSON], &[("a.pdf", data.clone())]).text(
        "Correspondence.Content.Attachments[0].Checksum",
        "00000000000000000000000000000000",
    );
    app.send_form(&app.sender(), form)
        .await
        .assert_problem(400, 2008);
    let found = app
        .get(
            &format!("{API}/correspondence?resourceId={RESOURCE}&role=sender"),
            &app.sender(),
        )
        .await
        .json();
    assert_eq!(found["ids"], json!([]));
    // Files part in a JSON request cannot be sent: 1005.
    let mut l = letter(&[PERSON]);
    l["correspondence"]["content"]["attachments"] =
        json!([{"fileName": "a.pdf", "sendersReference": "x"}]);
    app.send(&app.sender(), l).await.assert_problem(400, 1005);
    // More than 100 attachments: 1038 (before the file match).
    let mut form = letter_form(&[PERSON], &[]);
    for i in 0..101 {
        form = form
            .text(
                format!("Correspondence.Content.Attachments[{i}].FileName"),
                "a.pdf",
            )
            .text(
                format!("Correspondence.Content.Attachments[{i}].SendersReference"),
                "x",
            );
    }
    app.send_form(&app.sender(), form)
        .await
        .assert_problem(400, 1038);
    // The refused requests left no files behind.
    let stored = std::fs::read_dir(app.data_dir().join("attachments/blobs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(stored, 0, "refused uploads must not leave files");
    // Parts match by file name when out of order; both arrive.
    let form = letter_form(
        &[PERSON],
        &[("a.pdf", bytes(10, 1)), ("b.txt", bytes(20, 2))],
    );
    let a = app.send_form(&app.sender(), form).await;
    a.assert_status(200);
    assert_eq!(ids(&a).1.len(), 2);
}

#[tokio::test]
async fn existing_attachments_follow_the_rules() {
    let app = TestApp::spawn().await;
    let mut l = letter(&[PERSON]);
    l["existingAttachments"] = json!(["0198c2a1-0000-7000-8000-000000000000"]);
    app.send(&app.sender(), l).await.assert_problem(400, 1007);
    // Another sender's attachment: 1017.
    let theirs = init_attachment_as(&app, &app.other_sender(), OTHER_RESOURCE).await;
    let mut l = letter(&[PERSON]);
    l["existingAttachments"] = json!([theirs]);
    app.send(&app.sender(), l).await.assert_problem(400, 1017);
    // allowForwarding with more than 10 MB of attachments: 1069.
    let big = published_attachment(&app, "stor.pdf", bytes(10_000_001, 5)).await;
    let mut l = letter(&[PERSON]);
    l["existingAttachments"] = json!([big]);
    l["correspondence"]["allowForwarding"] = json!(true);
    app.send(&app.sender(), l.clone())
        .await
        .assert_problem(400, 1069);
    l["correspondence"]["allowForwarding"] = json!(false);
    app.send(&app.sender(), l).await.assert_status(200);
    // An attachment whose every link expires within six hours: 1055.
    let mut body = attachment_body("kort.pdf");
    body["expirationInDays"] = json!(1);
    let a = init_attachment(&app, body).await;
    let short: String = serde_json::from_str(&a.text).unwrap();
    app.upload(&app.sender(), &short, bytes(100, 1))
        .await
        .assert_status(200);
    app.run_jobs().await;
    let mut l = letter(&[PERSON]);
    l["existingAttachments"] = json!([short]);
    app.send(&app.sender(), l.clone()).await.assert_status(200);
    app.advance(Duration::hours(19));
    app.send(&app.sender(), l).await.assert_problem(400, 1055);
}

async fn init_attachment_as(app: &TestApp, token: &str, resource: &str) -> String {
    let mut body = attachment_body("a.pdf");
    body["resourceId"] = json!(resource);
    let a = app
        .call(
            Method::POST,
            &format!("{API}/attachment"),
            Some(token),
            Some(body),
        )
        .await;
    a.assert_status(200);
    let id: String = serde_json::from_str(&a.text).unwrap();
    let up = app
        .client
        .post(format!("{}{API}/attachment/{id}/upload", app.base))
        .bearer_auth(token)
        .body(bytes(100, 2))
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200);
    app.run_jobs().await;
    id
}

#[tokio::test]
async fn attachments_expire_for_their_letters() {
    let app = TestApp::spawn().await;
    let mut form = letter_form(&[PERSON], &[("a.pdf", bytes(1000, 4))]);
    form = form.text(
        "Correspondence.Content.Attachments[0].ExpirationInDays",
        "1",
    );
    let a = app.send_form(&app.sender(), form).await;
    a.assert_status(200);
    let (letters, attachments) = ids(&a);
    app.run_jobs().await;
    let overview = app.get(&path(&letters[0]), &app.person()).await.json();
    let expires = overview["content"]["attachments"][0]["expirationTime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(expires.starts_with("2026-03-03T09:00:00"), "{expires}");
    let (status, _, body) = app
        .get_bytes(&download_path(&letters[0], &attachments[0]), &app.person())
        .await;
    assert_eq!(status, 200, "downloadable until the link expires");
    assert_eq!(body, bytes(1000, 4));
    // A day later the link has expired: 2020 even before the job has run.
    app.advance(Duration::hours(24));
    app.get(&download_path(&letters[0], &attachments[0]), &app.person())
        .await
        .assert_problem(400, 2020);
    app.run_jobs().await;
    let o = app
        .get(&attachment_path(&attachments[0]), &app.sender())
        .await
        .json();
    assert_eq!(o["status"], "Expired");
    assert_eq!(o["statusText"], "The attachment has expired");
    // Expired: the sender can neither download (2020) nor purge (2018) it.
    app.get(
        &format!("{}/download", attachment_path(&attachments[0])),
        &app.sender(),
    )
    .await
    .assert_problem(400, 2020);
    app.call(
        Method::DELETE,
        &attachment_path(&attachments[0]),
        Some(&app.sender()),
        None,
    )
    .await
    .assert_problem(400, 2018);
}

#[tokio::test]
async fn an_unused_attachment_can_be_deleted_once() {
    let app = TestApp::spawn().await;
    let id = published_attachment(&app, "a.pdf", bytes(100, 1)).await;
    let a = app
        .call(
            Method::DELETE,
            &attachment_path(&id),
            Some(&app.sender()),
            None,
        )
        .await;
    a.assert_status(200);
    assert_eq!(a.json()["status"], "Purged");
    app.run_jobs().await;
    app.call(
        Method::DELETE,
        &attachment_path(&id),
        Some(&app.sender()),
        None,
    )
    .await
    .assert_problem(400, 2006);
    let stored = std::fs::read_dir(app.data_dir().join("attachments/blobs"))
        .unwrap()
        .count();
    assert_eq!(stored, 0, "the file is deleted with the attachment");
    app.call(
        Method::DELETE,
        &attachment_path(&id),
        Some(&app.other_sender()),
        None,
    )
    .await
    .assert_problem(401, 4001);
}

#[tokio::test]
async fn all_attachments_download_as_one_zip() {
    let app = TestApp::spawn().await;
    let files = vec![
        ("Vedtak.pdf", bytes(120_000, 1)),
        ("vedtak.pdf", bytes(3, 2)),
        ("Kart.png", bytes(50_000, 3)),
    ];
    let a = app
        .send_form(&app.sender(), letter_form(&[PERSON], &files))
        .await;
    a.assert_status(200);
    let letter = ids(&a).0.remove(0);
    app.run_jobs().await;
    let all = format!("{API}/correspondence/{letter}/attachments/downloadall");
    let (status, headers, body) = app.get_bytes(&all, &app.person()).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/zip");
    assert_eq!(headers["content-length"], body.len().to_string().as_str());
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("vedtak-om-byggesknad.zip"),
        "{:?}",
        headers["content-disposition"]
    );
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("all.zip");
    std::fs::write(&zip, &body).unwrap();
    let t = std::process::Command::new("unzip")
        .arg("-t")
        .arg(&zip)
        .output()
        .unwrap();
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stdout));
    let script = r#"
import sys, zipfile, hashlib, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, hashlib.md5(z.read(i)).hexdigest()] for i in z.infolist()]))
"#;
    let py = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let listed: Vec<(String, String)> = serde_json::from_slice(&py.stdout).unwrap();
    let expected: Vec<(String, String)> = [
        ("Vedtak.pdf", &files[0].1),
        ("vedtak(1).pdf", &files[1].1),
        ("Kart.png", &files[2].1),
    ]
    .iter()
    .map(|(n, d)| (n.to_string(), md5_hex(d)))
    .collect();
    assert_eq!(listed, expected);
    let details = app
        .get(&format!("{}/details", path(&letter)), &app.person())
        .await
        .json();
    assert!(
        details["statusHistory"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["status"] == "AttachmentsDownloaded"
                && e["statusText"] == "All attachments downloaded")
    );
    // A letter without attachments has nothing to zip (2001); a stranger gets 4001.
    let plain = app.published_letter().await;
    app.get(
        &format!("{API}/correspondence/{plain}/attachments/downloadall"),
        &app.person(),
    )
    .await
    .assert_problem(404, 2001);
    app.get(&all, &app.other_person())
        .await
        .assert_problem(401, 4001);
    // More than 2·10⁹ bytes in all cannot be zipped (2023). The recorded sizes are raised in
    // the store, so the test needs no gigabytes.
    let links = app
        .store
        .attachments_of(letter.parse().unwrap())
        .await
        .unwrap();
    for link in links.iter().take(2) {
        let mut file = link.attachment.file.clone().unwrap();
        file.size = 1_000_000_001;
        let entry = melding_domain::AttachmentStatusEntry::new(
            melding_domain::AttachmentStatus::Published,
            app.now(),
        );
        app.store
            .append_attachment_status(
                link.attachment.id,
                &entry,
                melding_store::AttachmentGuard::Always,
                Some(&file),
                &[],
            )
            .await
            .unwrap();
    }
    app.get(&all, &app.person()).await.assert_problem(400, 2023);
}

#[tokio::test]
async fn every_attachment_endpoint_keeps_parties_apart() {
    let app = TestApp::spawn().await;
    let a = app
        .send_form(
            &app.sender(),
            letter_form(&[PERSON], &[("a.pdf", bytes(64, 1))]),
        )
        .await;
    let (letters, attachments) = ids(&a);
    let (letter, attachment) = (&letters[0], &attachments[0]);
    let shared = published_attachment(&app, "b.pdf", bytes(64, 2)).await;
    // Sender endpoints: the owner succeeds, another organisation gets 4001, a recipient's
    // read token 403, no token 401.
    let sender_calls: Vec<(Method, String)> = vec![
        (Method::GET, attachment_path(&shared)),
        (Method::GET, format!("{}/details", attachment_path(&shared))),
        (
            Method::GET,
            format!("{}/download", attachment_path(&shared)),
        ),
        (Method::POST, format!("{}/upload", attachment_path(&shared))),
        (Method::DELETE, attachment_path(&shared)),
    ];
    for (method, p) in &sender_calls {
        app.call(method.clone(), p, Some(&app.other_sender()), None)
            .await
            .assert_problem(401, 4001);
        app.call(method.clone(), p, Some(&app.person()), None)
            .await
            .assert_status(403);
        app.call(method.clone(), p, None, None)
            .await
            .assert_status(401);
    }
    app.get(&attachment_path(&shared), &app.sender())
        .await
        .assert_status(200);
    let a = app
        .call(
            Method::POST,
            &format!("{API}/attachment"),
            Some(&app.person()),
            Some(attachment_body("c.pdf")),
        )
        .await;
    a.assert_status(403);
    // Recipient endpoints: the recipient succeeds, another person gets 4001 and nothing of the
    // letter, the sender's write token 403.
    app.run_jobs().await;
    let recipient_calls = [
        download_path(letter, attachment),
        format!("{API}/correspondence/{letter}/attachments/downloadall"),
    ];
    for p in &recipient_calls {
        let stranger = app.get(p, &app.other_person()).await;
        stranger.assert_problem(401, 4001);
        assert!(!stranger.text.contains(attachment.as_str()));
        app.get(p, &app.sender()).await.assert_status(403);
        app.call(Method::GET, p, None, None)
            .await
            .assert_status(401);
        let (status, _, _) = app.get_bytes(p, &app.person()).await;
        assert_eq!(status, 200, "{p}");
    }
    // An attachment of another letter is not part of this one (2001).
    app.get(&download_path(letter, &shared), &app.person())
        .await
        .assert_problem(404, 2001);
}

/// A clamd from `scripts/clamd.sh`, or `None` when the run opted out with MELDING_SKIP_CLAMD=1.
fn clamd() -> Option<melding_scan::ClamdScanner> {
    match std::env::var("MELDING_TEST_CLAMD") {
        Ok(addr) => Some(melding_scan::ClamdScanner::new(
            addr.parse().expect("MELDING_TEST_CLAMD is a clamd address"),
            std::time::Duration::from_secs(30),
        )),
        Err(_) if std::env::var("MELDING_SKIP_CLAMD").as_deref() == Ok("1") => {
            eprintln!("skipped: MELDING_SKIP_CLAMD=1");
            None
        }
        Err(_) => panic!(
            "MELDING_TEST_CLAMD is not set: run `eval \"$(scripts/clamd.sh start)\"` first \
             (or set MELDING_SKIP_CLAMD=1 to skip the malware-scanning test)"
        ),
    }
}

#[tokio::test]
async fn malware_fails_the_attachment_and_its_letters() {
    let Some(scanner) = clamd() else { return };
    let app = TestApp::spawn_with(|node| node.scanner = Some(Arc::new(scanner))).await;
    // The EICAR test file: the attachment and both letters fail.
    let a = app
        .send_form(
            &app.sender(),
            letter_form(
                &[PERSON, OTHER_PERSON],
                &[("eicar.txt", melding_scan::EICAR.to_vec())],
            ),
        )
        .await;
    a.assert_status(200);
    assert_eq!(a.json()["correspondences"][0]["status"], "Initialized");
    let (letters, attachments) = ids(&a);
    app.run_jobs().await;
    let o = app
        .get(&attachment_path(&attachments[0]), &app.sender())
        .await
        .json();
    assert_eq!(o["status"], "Failed");
    assert_eq!(o["statusText"], "Malware scan failed: Malicious");
    for letter in &letters {
        let l = app.get(&path(letter), &app.sender()).await.json();
        assert_eq!(l["status"], "Failed");
        assert_eq!(l["statusText"], "Malware scan failed: Malicious");
    }
    app.get(&path(&letters[0]), &app.person())
        .await
        .assert_problem(404, 1001);
    // A clean file is scanned and published, and so is its letter.
    let a = app
        .send_form(
            &app.sender(),
            letter_form(&[PERSON], &[("ren.pdf", bytes(50_000, 1))]),
        )
        .await;
    let (letters, attachments) = ids(&a);
    let pending = app
        .get(&attachment_path(&attachments[0]), &app.sender())
        .await
        .json();
    assert_eq!(pending["status"], "UploadProcessing");
    app.run_jobs().await;
    let o = app
        .get(&attachment_path(&attachments[0]), &app.sender())
        .await
        .json();
    assert_eq!(o["status"], "Published");
    assert_eq!(o["statusText"], "Published");
    let l = app.get(&path(&letters[0]), &app.person()).await.json();
    assert_eq!(l["status"], "Published");
    // A shared attachment is scanned on upload too.
    let id: String = serde_json::from_str(
        &init_attachment(&app, attachment_body("virus.txt"))
            .await
            .text,
    )
    .unwrap();
    let up = app
        .upload(&app.sender(), &id, melding_scan::EICAR.to_vec())
        .await;
    up.assert_status(200);
    assert_eq!(up.json()["status"], "UploadProcessing");
    app.run_jobs().await;
    let o = app.get(&attachment_path(&id), &app.sender()).await.json();
    assert_eq!(o["status"], "Failed");
}
