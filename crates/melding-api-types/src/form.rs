//! Multipart form fields as ASP.NET binds them: `Correspondence.Content.Attachments[0].FileName`,
//! `Recipients[0]`, `Correspondence.PropertyList[key]`, case-insensitive (`correspondence.resourceid`
//! and `Correspondence.ResourceId` are one field), with an optional `request.` prefix. Fields
//! whose names are not property paths (an empty name, `a..b`) are ignored, as the reference's
//! binder ignores them (reference §4.2, issue 11 item 13). [`form_to_json`] turns the fields into
//! the JSON the JSON endpoint takes, so both endpoints share one model and one set of checks.

use serde_json::{Map, Value};

/// Properties whose form values are booleans.
const BOOLS: &[&str] = &[
    "isencrypted",
    "ignorereservation",
    "isconfirmationneeded",
    "isconfidential",
    "allowforwarding",
    "digitalonly",
    "sendreminder",
    "overrideregisteredcontactinformation",
    "isreserved",
];
/// Properties whose form values are whole numbers.
const INTS: &[&str] = &["expirationindays"];
/// Arrays a client may send as repeated fields without an index.
const REPEATABLE: &[&str] = &["recipients", "existingattachments"];
/// Maps whose keys are the sender's own data, kept as written (lower-case names).
const VERBATIM_MAPS: &[&str] = &["propertylist"];

const INDEX: &str = "\u{0}index:";

/// One step of a field path.
enum Step {
    Key(String),
    Index(usize),
}

/// `A.B[0].C[key]` → `[Key(A), Key(B), Index(0), Key(C), Key(key)]`; `None` when malformed.
fn parse_path(name: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in name.split('.') {
        let (head, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if head.is_empty() {
            return None;
        }
        steps.push(Step::Key(head.to_owned()));
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = &r[..end];
            match inner.parse::<usize>() {
                Ok(i) if i < 10_000 => steps.push(Step::Index(i)),
                Ok(_) => return None,
                Err(_) if inner.is_empty() => return None,
                Err(_) => steps.push(Step::Key(inner.to_owned())),
            }
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(steps)
}

fn typed(last_key: &str, raw: String) -> Value {
    let key = last_key.to_ascii_lowercase();
    if BOOLS.contains(&key.as_str()) {
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    if INTS.contains(&key.as_str())
        && let Ok(n) = raw.trim().parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(raw)
}

/// Puts `value` at `steps` below `node`. Property names match the keys already there in any
/// case; inside `verbatim` maps (the sender's own property list) keys are kept as written.
fn insert(node: &mut Map<String, Value>, steps: &[Step], value: Value, verbatim: bool) {
    let key = match &steps[0] {
        Step::Key(k) if verbatim => k.clone(),
        Step::Key(k) => node
            .keys()
            .find(|existing| existing.eq_ignore_ascii_case(k))
            .cloned()
            .unwrap_or_else(|| k.clone()),
        Step::Index(i) => format!("{INDEX}{i:05}"),
    };
    let child_verbatim = VERBATIM_MAPS.contains(&key.to_ascii_lowercase().as_str());
    if steps.len() == 1 {
        match node.get_mut(&key) {
            // A repeated plain field of an array property: collect the values.
            Some(Value::Object(existing)) if REPEATABLE.contains(&key.to_lowercase().as_str()) => {
                let n = existing.len();
                existing.insert(format!("{INDEX}{n:05}"), value);
            }
            Some(Value::String(first)) if REPEATABLE.contains(&key.to_lowercase().as_str()) => {
                let mut m = Map::new();
                m.insert(format!("{INDEX}{:05}", 0), Value::String(first.clone()));
                m.insert(format!("{INDEX}{:05}", 1), value);
                node.insert(key, Value::Object(m));
            }
            _ => {
                node.insert(key, value);
            }
        }
        return;
    }
    let child = node.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !child.is_object() {
        *child = Value::Object(Map::new());
    }
    if let Value::Object(m) = child {
        insert(m, &steps[1..], value, child_verbatim);
    }
}

/// Objects built from indexes become arrays, in index order.
fn finish(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            if !m.is_empty() && m.keys().all(|k| k.starts_with(INDEX)) {
                let mut items: Vec<(String, Value)> = m.into_iter().collect();
                items.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Array(items.into_iter().map(|(_, v)| finish(v)).collect())
            } else {
                Value::Object(m.into_iter().map(|(k, v)| (k, finish(v))).collect())
            }
        }
        other => other,
    }
}

/// Builds the request JSON from form fields. A field whose name is not a property path is
/// ignored, like any field the model does not know.
pub fn form_to_json(fields: Vec<(String, String)>) -> Value {
    let mut root = Map::new();
    for (name, raw) in fields {
        let trimmed = name.trim();
        let path = match trimmed.get(..8) {
            Some(p) if p.eq_ignore_ascii_case("request.") => &trimmed[8..],
            _ => trimmed,
        };
        let Some(steps) = parse_path(path) else {
            continue;
        };
        let last = steps
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::Key(k) => Some(k.as_str()),
                Step::Index(_) => None,
            })
            .unwrap_or("");
        let value = typed(last, raw);
        insert(&mut root, &steps, value, false);
    }
    finish(Value::Object(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn paths_build_nested_objects_and_arrays() {
        let v = form_to_json(f(&[
            ("Correspondence.ResourceId", "skatt"),
            ("request.Correspondence.Content.MessageTitle", "Vedtak"),
            ("Correspondence.Content.Attachments[1].FileName", "b.pdf"),
            ("Correspondence.Content.Attachments[0].FileName", "a.pdf"),
            ("Correspondence.Content.Attachments[0].IsEncrypted", "True"),
            (
                "Correspondence.Content.Attachments[0].ExpirationInDays",
                "14",
            ),
            ("Correspondence.PropertyList[saksnr]", "42"),
            ("Recipients[0]", "urn:a"),
            ("Recipients[1]", "urn:b"),
            ("Correspondence.IsConfirmationNeeded", "false"),
        ]));
        assert_eq!(
            v,
            json!({
                "Correspondence": {
                    "ResourceId": "skatt",
                    "Content": {
                        "MessageTitle": "Vedtak",
                        "Attachments": [
                            {"FileName": "a.pdf", "IsEncrypted": true, "ExpirationInDays": 14},
                            {"FileName": "b.pdf"}
                        ]
                    },
                    "PropertyList": {"saksnr": "42"},
                    "IsConfirmationNeeded": false
                },
                "Recipients": ["urn:a", "urn:b"]
            })
        );
    }

    #[test]
    fn repeated_plain_fields_collect_into_arrays() {
        let v = form_to_json(f(&[
            ("recipients", "urn:a"),
            ("recipients", "urn:b"),
            ("recipients", "urn:c"),
        ]));
        assert_eq!(v, json!({"recipients": ["urn:a", "urn:b", "urn:c"]}));
    }

    #[test]
    fn a_title_saying_true_stays_text() {
        let v = form_to_json(f(&[("Correspondence.Content.MessageTitle", "true")]));
        assert_eq!(
            v,
            json!({"Correspondence": {"Content": {"MessageTitle": "true"}}})
        );
    }

    #[test]
    fn names_match_in_any_case_and_stray_fields_are_ignored() {
        let v = form_to_json(f(&[
            ("Correspondence.ResourceId", "skatt"),
            ("correspondence.content.messagetitle", "Vedtak"),
            ("CORRESPONDENCE.Content.MessageBody", "Tekst"),
            ("correspondence.propertylist.CaseNumber", "1"),
            ("Correspondence.PropertyList[casenumber]", "2"),
            ("", ""),
            ("Recipients[", "x"),
            ("a..b", "x"),
        ]));
        assert_eq!(
            v,
            json!({"Correspondence": {
                "ResourceId": "skatt",
                "content": {"messagetitle": "Vedtak", "MessageBody": "Tekst"},
                "propertylist": {"CaseNumber": "1", "casenumber": "2"}
            }})
        );
    }

    #[test]
    fn notification_fields_build_the_notification_object() {
        let v = form_to_json(f(&[
            ("Correspondence.Notification.NotificationTemplate", "1"),
            (
                "Correspondence.Notification.NotificationChannel",
                "EmailAndSms",
            ),
            ("Correspondence.Notification.SendReminder", "true"),
            (
                "Correspondence.Notification.OverrideRegisteredContactInformation",
                "True",
            ),
            (
                "Correspondence.Notification.CustomRecipients[0].EmailAddress",
                "kari@example.no",
            ),
            (
                "Correspondence.Notification.CustomRecipients[0].IsReserved",
                "false",
            ),
        ]));
        assert_eq!(
            v,
            json!({"Correspondence": {"Notification": {
                "NotificationTemplate": "1",
                "NotificationChannel": "EmailAndSms",
                "SendReminder": true,
                "OverrideRegisteredContactInformation": true,
                "CustomRecipients": [{"EmailAddress": "kari@example.no", "IsReserved": false}]
            }}})
        );
    }
}
