//! The error catalogue against the reference's own list of error codes and texts
//! (`reference/altinn-error-texts.tsv`, issue 11 item 1): every code Melding can answer with must
//! carry the reference's HTTP status and text word for word. The list is vendored beside this
//! crate so the test runs from a lone clone; when the shared reference sits beside the clone
//! (`../shared/reference/`, as in CI and the developers' worktrees) the vendored copy must equal it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use melding_api_types::ErrorCode;

const VENDORED_ERRORS: &str = include_str!("../reference/altinn-error-texts.tsv");
const VENDORED_VALIDATION: &str = include_str!("../reference/altinn-validation-texts.txt");

/// code → (HTTP status, text), from the TSV's `code\thttp\tdetail` rows.
fn reference_errors() -> BTreeMap<u16, (u16, &'static str)> {
    let mut lines = VENDORED_ERRORS.lines();
    assert_eq!(lines.next(), Some("code\thttp\tdetail"), "the TSV header");
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut cols = l.splitn(3, '\t');
            let code = cols.next().unwrap().parse().unwrap();
            let http = cols.next().unwrap().parse().unwrap();
            (code, (http, cols.next().unwrap()))
        })
        .collect()
}

#[test]
fn every_code_melding_emits_has_the_reference_status_and_text() {
    let reference = reference_errors();
    assert_eq!(reference.len(), 120, "the reference lists 120 codes");
    let mut wrong = Vec::new();
    for code in ErrorCode::ALL {
        match reference.get(&code.number) {
            None => wrong.push(format!("{} is not in the reference", code.code())),
            Some((status, text)) => {
                if *status != code.status {
                    wrong.push(format!(
                        "{}: status {} where the reference has {status}",
                        code.code(),
                        code.status
                    ));
                }
                if *text != code.message {
                    wrong.push(format!(
                        "{}: {:?} where the reference has {text:?}",
                        code.code(),
                        code.message
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn placeholders_are_filled_as_the_reference_fills_them() {
    assert_eq!(
        ErrorCode::RECIPIENT_LOOKUP_FAILED.filled("urn:a, urn:b"),
        "Could not find partyId for the following recipients: urn:a, urn:b"
    );
    assert_eq!(
        ErrorCode::INVALID_FILE_SIZE.filled("2GB"),
        "File must have content and has a max file size of 2GB"
    );
    assert_eq!(
        ErrorCode::CORRESPONDENCE_NOT_FOUND.filled("x"),
        ErrorCode::CORRESPONDENCE_NOT_FOUND.message
    );
}

/// `../shared/reference/<name>` beside the clone, when it is there.
fn shared(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference")
        .join(name);
    std::fs::read_to_string(&path).ok()
}

#[test]
fn the_vendored_lists_equal_the_shared_reference_when_it_is_beside_the_clone() {
    for (name, vendored) in [
        ("altinn-error-texts.tsv", VENDORED_ERRORS),
        ("altinn-validation-texts.txt", VENDORED_VALIDATION),
    ] {
        match shared(name) {
            Some(shared) => assert_eq!(
                vendored, shared,
                "crates/melding-api-types/reference/{name} differs from ../shared/reference/{name}: copy it again"
            ),
            None => eprintln!("../shared/reference/{name} is not beside the clone; not compared"),
        }
    }
}

/// Whether `message` is `template` with each `{…}` standing for any text.
fn fits(template: &str, message: &str) -> bool {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        pieces.push(&rest[..open]);
        rest = &rest[close..];
    }
    pieces.push(rest);
    let (first, others) = pieces.split_first().unwrap();
    let Some(mut tail) = message.strip_prefix(first) else {
        return false;
    };
    for (i, piece) in others.iter().enumerate() {
        let last = i + 1 == others.len();
        match (last, piece.is_empty()) {
            (true, true) => return true,
            (true, false) => return tail.ends_with(piece),
            (false, _) => match tail.find(piece) {
                Some(at) => tail = &tail[at + piece.len()..],
                None => return false,
            },
        }
    }
    tail.is_empty()
}

/// ASP.NET's own texts for length limits, which the reference's list leaves out.
fn framework_text(message: &str) -> bool {
    fits(
        "The field {} must be a string with a maximum length of {}.",
        message,
    )
}

#[test]
fn every_model_validation_text_is_the_references() {
    use melding_api_types::correspondence::InitializeCorrespondencesExt;
    use melding_api_types::input::parse_json;
    let templates: Vec<&str> = VENDORED_VALIDATION
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let long = "x".repeat(301);
    let props: serde_json::Map<String, serde_json::Value> = (0..11)
        .map(|i| (format!("k{i}"), serde_json::json!("v")))
        .collect();
    let bodies = [
        serde_json::json!({}),
        serde_json::json!({"correspondence": {}, "recipients": []}),
        serde_json::json!({"correspondence": {"content": {"language": "nob"},
            "propertyList": props,
            "externalReferences": [{"referenceValue": "x", "referenceType": "DialogportenTransmissionId"}]},
            "recipients": [null, "nonsense", "08089403199", "urn:altinn:person:idporten-email:nope"],
            "idempotentKey": "not-a-guid"}),
        serde_json::json!({"correspondence": {"content": {"attachments": [
                {"checksum": "abc"}, {"checksum": "9E107D9D372BB6826BD81D3542A419D6"}]},
            "propertyList": {long.clone(): "v"},
            "externalReferences": [
                {"referenceValue": "Nonsense", "referenceType": "DialogportenTransmissionType"}]},
            "recipients": vec!["0192:991825827"; 501]}),
        serde_json::json!({"correspondence": {"content": {}, "propertyList": {"k": long},
            "externalReferences": vec![serde_json::json!({"referenceValue": "x", "referenceType": 0}); 11]},
            "recipients": ["0192:991825827"]}),
        serde_json::json!({"correspondence": {"content": {}, "notification": {
                "notificationChannel": 9, "reminderNotificationChannel": 9, "emailContentType": 9,
                "emailSubject": "x".repeat(513), "reminderSmsBody": "x".repeat(2145),
                "customRecipients": [{"organizationNumber": "991825828"},
                    {"nationalIdentityNumber": "08089403199"}]}},
            "recipients": ["0192:991825827"]}),
    ];
    let mut seen = 0;
    for body in bodies {
        let req: InitializeCorrespondencesExt = parse_json(body.to_string().as_bytes()).unwrap();
        for e in req.validate().err().unwrap_or_default() {
            seen += 1;
            assert!(
                templates.iter().any(|t| fits(t, &e.message))
                    || framework_text(&e.message)
                    || e.message == ErrorCode::INVALID_IDEMPOTENCY_KEY.message,
                "{} at {} is not one of the reference's texts",
                e.message,
                e.path
            );
        }
    }
    assert!(seen >= 27, "only {seen} messages were tried");
}
