//! Wire compatibility, round 2 (issue 11): the reference's exact error texts, model validation
//! before business rules, the Dialogporten transmission rules, HTML in bodies as literal text,
//! times without an offset, search by Altinn 2 id and on behalf of others, lenient multipart
//! binding, and the shapes of Altinn's own example requests (reference §14.1/§14.2).

use melding_domain::NationalId;
use melding_store::{Person, RegistryBatch};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::*;

const SEARCH: &str = "/correspondence/api/v1/correspondence";
const DIALOG: &str = "0198c2a1-1111-7000-8000-000000000001";

/// A ProblemDetails with this status, code and the reference's text word for word.
fn assert_text(a: &Answer, status: u16, code: u16, detail: &str) {
    a.assert_problem(status, code);
    assert_eq!(a.json()["detail"], detail, "body: {}", a.text);
}

/// A validation problem (`STD-00000`) naming `path` with `message`, in `validationErrors` and
/// in the legacy `errors` map.
fn assert_invalid(a: &Answer, path: &str, message: &str) {
    a.assert_validation(path);
    let v = a.json();
    let listed = v["validationErrors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["detail"] == message && e["paths"][0] == path);
    assert!(listed, "{message:?} at {path} not in {}", a.text);
    let key = path.replace('/', ".");
    let legacy = v["errors"][&key]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m == message));
    assert!(legacy, "{message:?} not under errors.{key} in {}", a.text);
}

/// `body` with the property at `pointer` (a JSON pointer) set to `value`.
fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
    body
}

fn without(mut body: Value, pointer: &str, key: &str) -> Value {
    body.pointer_mut(pointer)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    body
}

#[tokio::test]
async fn business_errors_carry_the_reference_text() {
    let app = TestApp::spawn().await;
    let sender = app.sender();
    let send = |body: Value| {
        let app = &app;
        let sender = sender.clone();
        async move { app.send(&sender, body).await }
    };

    let a = send(with(
        letter(&[PERSON]),
        "/correspondence/resourceId",
        json!("no-such-resource"),
    ))
    .await;
    assert_text(
        &a,
        400,
        1036,
        "ResourceId must match an existing resource in the resource registry",
    );
    let a = send(with(
        letter(&[PERSON]),
        "/correspondence/resourceId",
        json!(OTHER_RESOURCE),
    ))
    .await;
    assert_text(
        &a,
        401,
        4001,
        "You must use an Altinn token, DialogToken or log in to IDPorten as someone with access to the resource and organization in Altinn Authorization",
    );

    // The unknown recipients are listed after the text, joined by ", ".
    let a = send(letter(&[PERSON, "01010150740", "314138910"])).await;
    a.assert_problem(404, 1029);
    let detail = a.json()["detail"].as_str().unwrap().to_owned();
    let person = "urn:altinn:person:identifier-no:01010150740";
    let org = "urn:altinn:organization:identifier-no:314138910";
    let prefix = "Could not find partyId for the following recipients: ";
    assert!(
        detail == format!("{prefix}{person}, {org}")
            || detail == format!("{prefix}{org}, {person}"),
        "{detail}"
    );

    // A reserved person alone: the text names the recipient.
    let mut reserved = Person::new(NationalId::parse("01010150740").unwrap(), "Reservert");
    reserved.reserved = true;
    app.store
        .upsert_registry(&RegistryBatch {
            persons: vec![reserved],
            ..Default::default()
        })
        .await
        .unwrap();
    let a = send(letter(&["01010150740"])).await;
    assert_text(
        &a,
        422,
        1030,
        "Recipient urn:altinn:person:identifier-no:01010150740 has reserved themselves from public correspondences. Can be overridden using the 'IgnoreReservation' flag.",
    );

    let a = send(with(
        letter(&[PERSON]),
        "/correspondence/dueDateTime",
        json!("2026-03-01T00:00:00+00:00"),
    ))
    .await;
    assert_text(&a, 400, 1008, "DueDateTime cannot be prior to today");
    let a = send(with(
        letter(&[PERSON]),
        "/correspondence/content/messageTitle",
        json!("# Overskrift"),
    ))
    .await;
    assert_text(&a, 400, 1002, "Message title must be plain text");
    let mut b = letter(&[PERSON]);
    b["correspondence"]["messageSender"] = json!("<b>Kommunen</b>");
    assert_text(
        &send(b).await,
        400,
        1039,
        "Message sender must be plain text",
    );

    let id = app.published_letter().await;
    let purge = format!("{}/purge", path(&id));
    let a = app
        .call(Method::DELETE, &purge, Some(&app.sender()), None)
        .await;
    assert_text(
        &a,
        400,
        1013,
        "Sender cannot delete correspondence that has been published",
    );
    let read = format!("{}/markasread", path(&id));
    let confirm = format!("{}/confirm", path(&id));
    assert_text(
        &app.post(&read, &app.person()).await,
        400,
        1024,
        "Correspondence must be fetched before it can be read",
    );
    app.get(&path(&id), &app.person()).await.assert_status(200);
    app.post(&read, &app.person()).await.assert_status(200);
    assert_text(
        &app.post(&read, &app.person()).await,
        400,
        1040,
        "Correspondence is already marked as read",
    );
    app.post(&confirm, &app.person()).await.assert_status(200);
    assert_text(
        &app.post(&confirm, &app.person()).await,
        400,
        1041,
        "Correspondence has already been confirmed",
    );
    let a = app
        .get(
            &format!("{SEARCH}?resourceId={RESOURCE}&role=Recipient&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z"),
            &app.person(),
        )
        .await;
    assert_text(&a, 400, 1027, "From date cannot be after to date");
}

#[tokio::test]
async fn model_validation_comes_before_business_rules() {
    let app = TestApp::spawn().await;
    let send = |body: Value| {
        let app = &app;
        async move { app.send(&app.sender(), body).await }
    };
    // Missing content is a model problem even where a business rule would also refuse.
    let no_content = without(letter(&[PERSON]), "/correspondence", "content");
    assert_invalid(
        &send(no_content.clone()).await,
        "Correspondence/Content",
        "The Content field is required.",
    );
    let unknown_resource = with(
        no_content,
        "/correspondence/resourceId",
        json!("no-such-resource"),
    );
    assert_invalid(
        &send(unknown_resource).await,
        "Correspondence/Content",
        "The Content field is required.",
    );
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/content",
            Value::Null,
        ))
        .await,
        "Correspondence/Content",
        "The Content field is required.",
    );

    // Every required field of reference §4.1.
    for (pointer, key, path) in [
        ("", "correspondence", "Correspondence"),
        ("", "recipients", "Recipients"),
        ("/correspondence", "resourceId", "Correspondence/ResourceId"),
        (
            "/correspondence",
            "sendersReference",
            "Correspondence/SendersReference",
        ),
        (
            "/correspondence/content",
            "messageTitle",
            "Correspondence/Content/MessageTitle",
        ),
        (
            "/correspondence/content",
            "messageBody",
            "Correspondence/Content/MessageBody",
        ),
    ] {
        let field = path.rsplit('/').next().unwrap();
        assert_invalid(
            &send(without(letter(&[PERSON]), pointer, key)).await,
            path,
            &format!("The {field} field is required."),
        );
    }
    let mut b = letter(&[PERSON]);
    b["correspondence"]["content"]["attachments"] = json!([{"fileName": "a.pdf"}]);
    assert_invalid(
        &send(b).await,
        "Correspondence/Content/Attachments[0]/SendersReference",
        "The SendersReference field is required.",
    );

    // The recipient list (reference §5.2).
    assert_invalid(
        &send(with(letter(&[PERSON]), "/recipients", json!([]))).await,
        "Recipients",
        "Recipients can not be empty",
    );
    assert_invalid(
        &send(with(letter(&[PERSON]), "/recipients", json!([null]))).await,
        "Recipients[0]",
        "Recipients can not contain null or empty values",
    );
    assert_invalid(
        &send(with(letter(&[PERSON]), "/recipients", json!([" "]))).await,
        "Recipients[0]",
        "Recipients can not contain null or empty values",
    );
    assert_invalid(
        &send(with(letter(&[PERSON]), "/recipients", json!(["nonsense"]))).await,
        "Recipients[0]",
        "Recipient should be an organization number in the format 'urn:altinn:organization:identifier-no:organizationnumber' or the format countrycode:organizationnumber, for instance 0192:910753614, a national identity number, an idporten email URN in the format 'urn:altinn:person:idporten-email:email', or a legacy selfidentified URN in the format 'urn:altinn:person:legacy-selfidentified:username'",
    );
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/recipients",
            json!(vec![format!("0192:{SENDER}"); 501]),
        ))
        .await,
        "Recipients",
        "Recipients can contain at most 500 recipients",
    );

    // Texts, lists and checksums.
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/content/language",
            json!("nob"),
        ))
        .await,
        "Correspondence/Content/Language",
        "The ISO6391 field must be exactly 2 characters long!",
    );
    let props: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/propertyList",
            Value::Object(props),
        ))
        .await,
        "Correspondence/PropertyList",
        "propertyList can contain at most 10 properties",
    );
    let long_key = "k".repeat(51);
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/propertyList",
            json!({ long_key.clone(): "v" }),
        ))
        .await,
        "Correspondence/PropertyList",
        &format!("propertyList Key can not be longer than 50. Length:51, KeyValue:{long_key}"),
    );
    let long_value = "v".repeat(301);
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/propertyList",
            json!({ "saksnr": long_value.clone() }),
        ))
        .await,
        "Correspondence/PropertyList",
        &format!("propertyList Value can not be longer than 300. Length:301, Value:{long_value}"),
    );
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({"referenceValue": format!("r{i}"), "referenceType": "Generic"}))
        .collect();
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/externalReferences",
            json!(eleven),
        ))
        .await,
        "Correspondence/ExternalReferences",
        "externalReferences can contain at most 10 references",
    );
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/externalReferences",
            json!([{"referenceValue": "t", "referenceType": "DialogportenTransmissionId"}]),
        ))
        .await,
        "Correspondence/ExternalReferences",
        "Cannot initialize a correspondence with pre-existing transmission defined",
    );
    assert_invalid(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/externalReferences",
            json!([
                {"referenceValue": "Nonsense", "referenceType": "DialogportenTransmissionType"},
                {"referenceValue": DIALOG, "referenceType": "DialogportenDialogId"}
            ]),
        ))
        .await,
        "Correspondence/ExternalReferences",
        "DialogportenTransmissionType referenceValue must be a valid transmission type",
    );
    for (checksum, message) in [
        (
            "abc",
            "The checksum, if used, must be a MD5 hash with a length of 32 characters",
        ),
        (
            "9E107D9D372BB6826BD81D3542A419D6",
            "The checksum, if used, must be a MD5 hash in lower case",
        ),
    ] {
        let mut b = letter(&[PERSON]);
        b["correspondence"]["content"]["attachments"] =
            json!([{"fileName": "a.pdf", "sendersReference": "x", "checksum": checksum}]);
        assert_invalid(
            &send(b).await,
            "Correspondence/Content/Attachments[0]/Checksum",
            message,
        );
    }

    // Enums of §3.1 outside their values are model problems naming the field.
    let a = send(with(
        letter(&[PERSON]),
        "/correspondence/externalReferences",
        json!([{"referenceValue": "x", "referenceType": "Nope"}]),
    ))
    .await;
    a.assert_validation("$.correspondence.externalReferences[0].referenceType");
    let mut b = letter(&[PERSON]);
    b["correspondence"]["content"]["attachments"] =
        json!([{"fileName": "a.pdf", "sendersReference": "x", "dataLocationType": "Nope"}]);
    send(b)
        .await
        .assert_validation("$.correspondence.content.attachments[0].dataLocationType");
    app.get(
        &format!("{SEARCH}?resourceId={RESOURCE}&role=Nobody"),
        &app.person(),
    )
    .await
    .assert_validation("role");
    app.get(
        &format!("{SEARCH}?resourceId={RESOURCE}&role=Recipient&status=Nope"),
        &app.person(),
    )
    .await
    .assert_validation("status");
}

#[tokio::test]
async fn transmission_rules_are_checked_before_any_lookup() {
    let app = TestApp::spawn().await;
    let send = |body: Value| {
        let app = &app;
        async move { app.send(&app.sender(), body).await }
    };
    let transmission = |recipients: &[&str], dialog: &str| {
        with(
            letter(recipients),
            "/correspondence/externalReferences",
            json!([{"referenceValue": dialog, "referenceType": "DialogportenDialogId"}]),
        )
    };
    for dialog in ["not-a-guid", ""] {
        assert_text(
            &send(transmission(&[PERSON], dialog)).await,
            400,
            1048,
            "DialogId must be a valid non-empty GUID",
        );
    }
    assert_text(
        &send(transmission(&[PERSON, OTHER_PERSON], DIALOG)).await,
        400,
        1045,
        "Transmission correspondences only support one recipient",
    );
    // Before any lookup: an unknown resource or recipient does not hide the rule.
    let unknown_resource = with(
        transmission(&[PERSON, OTHER_PERSON], DIALOG),
        "/correspondence/resourceId",
        json!("no-such-resource"),
    );
    send(unknown_resource).await.assert_problem(400, 1045);
    send(transmission(&[PERSON, "01010150740"], DIALOG))
        .await
        .assert_problem(400, 1045);
    let gui = "Correspondences with GUI actions (ReplyOptions or IsConfirmationNeeded) cannot be sent as transmissions";
    let mut b = transmission(&[PERSON], DIALOG);
    b["correspondence"]["replyOptions"] = json!([{"linkURL": "https://svar.example.no"}]);
    assert_text(&send(b).await, 400, 1051, gui);
    let mut b = transmission(&[PERSON], DIALOG);
    b["correspondence"]["isConfirmationNeeded"] = json!(true);
    b["correspondence"]["dueDateTime"] = json!("2026-04-01T00:00:00+00:00");
    assert_text(&send(b).await, 400, 1051, gui);
    assert_text(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/externalReferences",
            json!([{"referenceValue": "Information", "referenceType": "DialogportenTransmissionType"}]),
        ))
        .await,
        400,
        1053,
        "DialogportenTransmissionType external reference requires a DialogportenDialogId external reference",
    );
    assert_text(
        &send(with(
            letter(&[PERSON]),
            "/correspondence/resourceId",
            json!("no-such-resource"),
        ))
        .await,
        400,
        1036,
        "ResourceId must match an existing resource in the resource registry",
    );
    let twice = with(
        transmission(&[PERSON], DIALOG),
        "/correspondence/externalReferences",
        json!([
            {"referenceValue": "Information", "referenceType": "DialogportenTransmissionType"},
            {"referenceValue": "Decision", "referenceType": 6},
            {"referenceValue": DIALOG, "referenceType": "DialogportenDialogId"}
        ]),
    );
    let twice = with(
        twice,
        "/correspondence/resourceId",
        json!("no-such-resource"),
    );
    assert_text(
        &send(twice).await,
        400,
        1052,
        "Only one DialogportenTransmissionType external reference is allowed",
    );
    // A transmission that keeps the rules is sent into a dialog Melding holds.
    let dialog = app.send_ok(letter(&[PERSON])).await.remove(0);
    let mut ok = transmission(&[PERSON], &dialog);
    ok["correspondence"]["externalReferences"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"referenceValue": "decision", "referenceType": "DialogportenTransmissionType"}),
        );
    send(ok).await.assert_status(200);
}

/// Every letter that is not a transmission opens a dialog (its own id, shown as its
/// `DialogportenDialogId` reference); a transmission must go into such a dialog, of the same
/// service owner and to the same party, as long as the letter that opened it lives.
#[tokio::test]
async fn transmissions_go_into_a_dialog_melding_holds() {
    let app = TestApp::spawn().await;
    let transmission = |token: String, resource: &str, recipient: &str, dialog: &str| {
        let app = &app;
        let body = with(
            with(
                letter(&[recipient]),
                "/correspondence/externalReferences",
                json!([{"referenceValue": dialog, "referenceType": "DialogportenDialogId"}]),
            ),
            "/correspondence/resourceId",
            json!(resource),
        );
        async move { app.send(&token, body).await }
    };

    let mut first = letter(&[PERSON]);
    first["correspondence"]["externalReferences"] =
        json!([{"referenceValue": "sak-17", "referenceType": "Generic"}]);
    let dialog = app.send_ok(first).await.remove(0);
    let o = app.get(&path(&dialog), &app.sender()).await.json();
    assert_eq!(
        o["externalReferences"],
        json!([
            {"referenceValue": "sak-17", "referenceType": "Generic"},
            {"referenceValue": dialog, "referenceType": "DialogportenDialogId"}
        ]),
        "the letter names the dialog it opened"
    );

    assert_text(
        &transmission(app.sender(), RESOURCE, PERSON, DIALOG).await,
        404,
        1054,
        "Dialogporten dialog with the given id was not found",
    );
    assert_text(
        &transmission(app.other_sender(), OTHER_RESOURCE, PERSON, &dialog).await,
        400,
        1050,
        "The service owner of a transmission can not differ from the service owner of the dialog",
    );
    assert_text(
        &transmission(app.sender(), RESOURCE, OTHER_PERSON, &dialog).await,
        400,
        1046,
        "The recipient of the correspondence must be equal to the party of the dialog of the transmission",
    );
    let sent = transmission(app.sender(), RESOURCE, PERSON, &dialog).await;
    sent.assert_status(200);
    let sent_id = sent.json()["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = app.get(&path(&sent_id), &app.sender()).await.json();
    assert_eq!(
        t["externalReferences"],
        json!([{"referenceValue": dialog, "referenceType": "DialogportenDialogId"}]),
        "a transmission opens no dialog of its own"
    );
    assert_text(
        &transmission(app.sender(), RESOURCE, PERSON, &sent_id).await,
        404,
        1054,
        "Dialogporten dialog with the given id was not found",
    );

    // Purging the letter that opened the dialog purges the dialog, as in Altinn.
    app.call(
        Method::DELETE,
        &format!("{}/purge", path(&dialog)),
        Some(&app.sender()),
        None,
    )
    .await
    .assert_status(200);
    transmission(app.sender(), RESOURCE, PERSON, &dialog)
        .await
        .assert_problem(404, 1054);
}

#[tokio::test]
async fn html_in_a_body_is_kept_as_literal_text() {
    let app = TestApp::spawn().await;
    let body = "Linje 1<br>Linje 2 <script>alert(1)</script>";
    let id = app
        .send_ok(with(
            letter(&[PERSON]),
            "/correspondence/content/messageBody",
            json!(body),
        ))
        .await
        .remove(0);
    app.run_jobs().await;
    let o = app.get(&path(&id), &app.person()).await;
    assert_eq!(o.json()["content"]["messageBody"], body);
    // The content endpoint gives the text back as it came, as plain text a browser will not
    // sniff into HTML.
    let c = app
        .get(&format!("{}/content", path(&id)), &app.person())
        .await;
    c.assert_status(200);
    assert_eq!(c.text, body);
    assert!(
        c.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(c.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn times_without_an_offset_are_utc() {
    let app = TestApp::spawn().await;
    let mut b = letter(&[PERSON]);
    b["correspondence"]["requestedPublishTime"] = json!("2026-03-03");
    b["correspondence"]["dueDateTime"] = json!("2099-01-01T00:00:00");
    let id = app.send_ok(b).await.remove(0);
    let o = app.get(&path(&id), &app.sender()).await.json();
    assert_eq!(
        o["requestedPublishTime"],
        "2026-03-03T00:00:00.000000+00:00"
    );
    assert_eq!(o["dueDateTime"], "2099-01-01T00:00:00.000000+00:00");
    let search = |query: &str| {
        let app = &app;
        let url = format!("{SEARCH}?resourceId={RESOURCE}&role=Sender&{query}");
        async move { app.get(&url, &app.sender()).await }
    };
    let found = search("from=2026-01-01&to=2026-03-04T00:00:00").await;
    found.assert_status(200);
    assert_eq!(found.json()["ids"], json!([id]));
    let later = search("from=2026-03-03T00:00:01").await;
    assert_eq!(later.json()["ids"], json!([]));
    search("from=someday").await.assert_validation("from");
}

#[tokio::test]
async fn search_by_altinn2_id_finds_nothing_and_service_owners_search_on_behalf_of_anyone() {
    let app = TestApp::spawn().await;
    let id = app.send_ok(letter(&[PERSON])).await.remove(0);
    let search = |query: String| {
        let app = &app;
        let url = format!("{SEARCH}?resourceId={RESOURCE}&{query}");
        async move { app.get(&url, &app.sender()).await }
    };
    let a = search("role=Sender".into()).await;
    assert_eq!(a.json()["ids"], json!([id]));
    // Melding holds no letters migrated from Altinn 2.
    let a = search("role=Sender&altinn2CorrespondenceId=12345".into()).await;
    a.assert_status(200);
    assert_eq!(a.json()["ids"], json!([]));
    search("role=Sender&altinn2CorrespondenceId=abc".into())
        .await
        .assert_validation("altinn2CorrespondenceId");

    for (on_behalf_of, own) in [
        (
            format!("urn:altinn:organization:identifier-no:{SENDER}"),
            true,
        ),
        (format!("0192:{SENDER}"), true),
        (String::new(), true),
        (format!("urn:altinn:person:identifier-no:{PERSON}"), false),
        (PERSON.to_owned(), false),
        (
            format!("urn:altinn:organization:identifier-no:{RECIPIENT_ORG}"),
            false,
        ),
    ] {
        let a = search(format!("role=Sender&onBehalfOf={on_behalf_of}")).await;
        a.assert_status(200);
        let expected = if own { json!([id]) } else { json!([]) };
        assert_eq!(a.json()["ids"], expected, "onBehalfOf={on_behalf_of}");
    }
    let a = search("role=Sender&onBehalfOf=01010150741".to_owned()).await;
    assert_invalid(
        &a,
        "onBehalfOf",
        "The given OnBehalfOf national identity number is not valid",
    );
}

/// A multipart body of `fields` (name, value), then `files` (part name, file name, bytes).
fn form(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Form {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    for (name, file, bytes) in files {
        form = form.part(
            name.to_string(),
            Part::bytes(bytes.to_vec()).file_name(file.to_string()),
        );
    }
    form
}

#[tokio::test]
async fn multipart_names_match_in_any_case_and_stray_fields_are_ignored() {
    let app = TestApp::spawn().await;
    let person_urn = format!("urn:altinn:person:identifier-no:{PERSON}");
    let a = app
        .send_form(
            &app.sender(),
            form(
                &[
                    ("Correspondence.ResourceId", RESOURCE),
                    ("correspondence.sendersreference", "sak-1"),
                    ("CORRESPONDENCE.CONTENT.MESSAGETITLE", "Vedtak"),
                    ("correspondence.Content.messageBody", "Tekst"),
                    ("correspondence.duedatetime", "2099-01-01"),
                    ("", ""),
                    ("", "stray"),
                    ("correspondence.unknownField", "x"),
                    ("NotAField[", "x"),
                    ("recipients[0]", &person_urn),
                ],
                &[],
            ),
        )
        .await;
    a.assert_status(200);
    let id = a.json()["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = app.get(&path(&id), &app.sender()).await.json();
    assert_eq!(o["sendersReference"], "sak-1");
    assert_eq!(o["content"]["messageTitle"], "Vedtak");
    assert_eq!(o["dueDateTime"], "2099-01-01T00:00:00.000000+00:00");
}

#[tokio::test]
async fn altinns_example_json_initialize_succeeds() {
    let app = TestApp::spawn().await;
    // The Bruno collection's Initialize (reference §14.1): camelCase and PascalCase mixed, a
    // notification, a reply option and a confirmation; and the Postman one's obsolete fields.
    let body = json!({
        "correspondence": {
            "resourceId": RESOURCE,
            "sendersReference": "1",
            "content": {
                "language": "nb",
                "messageTitle": "Testmelding tittel",
                "messageSummary": "Ett sammendrag for meldingen",
                "messageBody": "Som kan være plain text eller **markdown**",
                "attachments": []
            },
            "requestedPublishTime": "2026-03-02T09:00:00.000Z",
            "dueDateTime": "2026-03-16T09:00:00.000Z",
            "allowSystemDeleteAfter": "2027-03-02T09:00:00.000Z",
            "externalReferences": [],
            "propertyList": {"caseNumber": "123", "etc": "can-use-for-anything"},
            "replyOptions": [{"linkURL": "https://digdir-samarbeid.slack.com/", "linkText": "Slack"}],
            "notification": {
                "notificationTemplate": "CustomMessage",
                "notificationChannel": "EmailAndSms",
                "SendReminder": true,
                "EmailSubject": "Test av Correspondence: E-post varsel",
                "ReminderEmailSubject": "Test av Correspondence: E-post påminnelse",
                "SmsBody": "Dette er SMS-en som sendes ut ved varsling",
                "ReminderSmsBody": "Dette er SMS-en som sendes ut ved påminnelse",
                "EmailBody": "Dette er mailteksten som sendes ut",
                "ReminderEmailBody": "Dette er eposten som sendes ut ved påminnelse"
            },
            "IgnoreReservation": false,
            "IsConfirmationNeeded": true
        },
        "Recipients": [
            format!("urn:altinn:organization:identifier-no:{RECIPIENT_ORG}"),
            format!("urn:altinn:person:identifier-no:{PERSON}")
        ],
        "existingAttachments": []
    });
    let a = app.send(&app.sender(), body.clone()).await;
    a.assert_status(200);
    let v = a.json();
    assert_eq!(v["correspondences"].as_array().unwrap().len(), 2);
    // The same request from a client that writes its times without an offset (.NET's "s"
    // format) is read the same way.
    let mut local = body;
    local["correspondence"]["sendersReference"] = json!("2");
    local["correspondence"]["requestedPublishTime"] = json!("2026-03-02T09:00:00");
    local["correspondence"]["dueDateTime"] = json!("2026-03-16T09:00:00");
    app.send(&app.sender(), local).await.assert_status(200);
    assert_eq!(v["correspondences"][0]["status"], "ReadyForPublish");
    let id = v["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap();
    let o = app.get(&path(id), &app.sender()).await.json();
    assert_eq!(o["propertyList"]["caseNumber"], "123");
    assert_eq!(o["replyOptions"][0]["linkText"], "Slack");
    assert_eq!(o["isConfirmationNeeded"], true);
}

#[tokio::test]
async fn altinns_example_multipart_initialize_succeeds() {
    let app = TestApp::spawn().await;
    let org = format!("urn:altinn:organization:identifier-no:{RECIPIENT_ORG}");
    let person = format!("urn:altinn:person:identifier-no:{PERSON}");
    // The Bruno collection's "Initialize and upload (form-data)" (reference §14.1): lower-case
    // dotted names, dotted property-list keys, an indexed reply option and attachment list, the
    // file part named `Attachments`, and a stray field with an empty name. A second attachment
    // makes the list more than one long.
    let fields = [
        ("correspondence.resourceid", RESOURCE),
        ("correspondence.sendersreference", "1"),
        ("correspondence.content.language", "nb"),
        ("correspondence.content.messagetitle", "Testmelding tittel"),
        (
            "correspondence.content.messagesummary",
            "Ett sammendrag for meldingen",
        ),
        (
            "correspondence.content.messagebody",
            "Som kan være plain text eller **markdown**",
        ),
        (
            "correspondence.requestedpublishtime",
            "2026-03-02T09:00:00.000Z",
        ),
        ("correspondence.duedatetime", "2026-03-16T09:00:00.000Z"),
        ("correspondence.propertylist.casenumber", "123"),
        ("correspondence.propertylist.etc", "can-use-for-anything"),
        (
            "correspondence.replyoptions[0].linkurl",
            "https://digdir-samarbeid.slack.com/",
        ),
        ("correspondence.replyoptions[0].linktext", "Slack"),
        (
            "correspondence.notification.notificationtemplate",
            "CustomMessage",
        ),
        (
            "correspondence.notification.notificationchannel",
            "EmailAndSms",
        ),
        ("correspondence.notification.sendreminder", "true"),
        (
            "correspondence.notification.emailsubject",
            "Test av Correspondence: E-post varsel",
        ),
        (
            "correspondence.notification.smsbody",
            "Dette er SMS-en som sendes ut ved varsling",
        ),
        (
            "correspondence.notification.emailbody",
            "Dette er mailteksten som sendes ut",
        ),
        // The collection's request asks for a reminder without its texts, which the reference
        // refuses with 3025 (§8.1); the reminder texts are the only addition.
        (
            "correspondence.notification.reminderemailsubject",
            "Påminnelse: E-post varsel",
        ),
        (
            "correspondence.notification.reminderemailbody",
            "Dette er påminnelsen som sendes ut",
        ),
        (
            "correspondence.notification.remindersmsbody",
            "Dette er påminnelses-SMS-en",
        ),
        ("correspondence.ignorereservation", "false"),
        ("correspondence.isconfirmationneeded", "true"),
        ("recipients[0]", &org),
        ("recipients[1]", &person),
        (
            "correspondence.content.attachments[0].sendersReference",
            "test-file-1",
        ),
        (
            "correspondence.content.attachments[0].filename",
            "test-file.txt",
        ),
        (
            "correspondence.content.attachments[1].sendersreference",
            "test-file-2",
        ),
        (
            "correspondence.content.attachments[1].FILENAME",
            "vedlegg.pdf",
        ),
        ("", ""),
    ];
    let files: [(&str, &str, &[u8]); 2] = [
        ("Attachments", "test-file.txt", b"Hei fra Bruno"),
        ("attachments", "vedlegg.pdf", b"%PDF-1.4 vedlegg"),
    ];
    let a = app.send_form(&app.sender(), form(&fields, &files)).await;
    a.assert_status(200);
    let v = a.json();
    assert_eq!(v["correspondences"].as_array().unwrap().len(), 2);
    assert_eq!(v["attachmentIds"].as_array().unwrap().len(), 2);
    app.run_jobs().await;
    let id = v["correspondences"][1]["correspondenceId"]
        .as_str()
        .unwrap();
    let o = app.get(&path(id), &app.person()).await.json();
    assert_eq!(o["propertyList"]["casenumber"], "123");
    assert_eq!(
        o["replyOptions"][0]["linkURL"],
        "https://digdir-samarbeid.slack.com/"
    );
    let names: Vec<&str> = o["content"]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fileName"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"test-file.txt") && names.contains(&"vedlegg.pdf"));

    // The use-case test's form (reference §14.3): `request.`-prefixed names.
    let fields = [
        ("request.Correspondence.ResourceId", RESOURCE),
        ("request.Correspondence.SendersReference", "bruksmønster"),
        ("request.Correspondence.Content.Language", "nb"),
        (
            "request.Correspondence.Content.MessageTitle",
            "Bruksmønstertest",
        ),
        ("request.Correspondence.Content.MessageBody", "Tekst"),
        (
            "request.Correspondence.Content.Attachments[0].FileName",
            "usecase-attachment.txt",
        ),
        (
            "request.Correspondence.Content.Attachments[0].SendersReference",
            "v-1",
        ),
        (
            "request.Correspondence.Content.Attachments[0].DataLocationType",
            "0",
        ),
        ("request.Recipients[0]", &person),
    ];
    let files: [(&str, &str, &[u8]); 1] = [("attachments", "usecase-attachment.txt", b"usecase")];
    let a = app.send_form(&app.sender(), form(&fields, &files)).await;
    a.assert_status(200);
    assert_eq!(a.json()["attachmentIds"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_checksum_mismatch_has_the_reference_text() {
    let app = TestApp::spawn().await;
    let person = format!("urn:altinn:person:identifier-no:{PERSON}");
    let fields = [
        ("Correspondence.ResourceId", RESOURCE),
        ("Correspondence.SendersReference", "sak"),
        ("Correspondence.Content.MessageTitle", "Vedtak"),
        ("Correspondence.Content.MessageBody", "Tekst"),
        ("Correspondence.Content.Attachments[0].FileName", "a.txt"),
        (
            "Correspondence.Content.Attachments[0].SendersReference",
            "v",
        ),
        (
            "Correspondence.Content.Attachments[0].Checksum",
            "9e107d9d372bb6826bd81d3542a419d6",
        ),
        ("Recipients[0]", &person),
    ];
    let files: [(&str, &str, &[u8]); 1] = [("attachments", "a.txt", b"not that")];
    let a = app.send_form(&app.sender(), form(&fields, &files)).await;
    assert_text(&a, 400, 2008, "Checksum mismatch");
}
