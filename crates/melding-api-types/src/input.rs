//! Reading request bodies the way Altinn does: property names match case-insensitively, unknown
//! properties are ignored, enums come as names (any case) or numbers. Errors name the JSON path.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::problem::FieldError;

/// Every property name the input models use, in its canonical spelling.
const KNOWN_KEYS: &[&str] = &[
    "correspondence",
    "recipients",
    "existingAttachments",
    "idempotentKey",
    "resourceId",
    "sender",
    "sendersReference",
    "messageSender",
    "content",
    "requestedPublishTime",
    "dueDateTime",
    "externalReferences",
    "propertyList",
    "replyOptions",
    "notification",
    "ignoreReservation",
    "isConfirmationNeeded",
    "isConfidential",
    "allowForwarding",
    "digitalOnly",
    "language",
    "messageTitle",
    "messageSummary",
    "messageBody",
    "attachments",
    "referenceValue",
    "referenceType",
    "linkURL",
    "linkText",
    "fileName",
    "displayName",
    "isEncrypted",
    "checksum",
    "expirationInDays",
    "dataLocationType",
    "id",
    // The notification order (reference §8.1).
    "notificationTemplate",
    "emailSubject",
    "emailBody",
    "emailContentType",
    "smsBody",
    "sendReminder",
    "reminderEmailSubject",
    "reminderEmailBody",
    "reminderEmailContentType",
    "reminderSmsBody",
    "notificationChannel",
    "reminderNotificationChannel",
    "customRecipients",
    "customRecipient",
    "customNotificationRecipients",
    "recipientToOverride",
    "overrideRegisteredContactInformation",
    "emailAddress",
    "mobileNumber",
    "organizationNumber",
    "nationalIdentityNumber",
    "isReserved",
    // Forwarding (reference §4.12).
    "forwardTo",
    "forwardingText",
];

/// Objects whose keys are the sender's own data and must be kept as written.
const VERBATIM_MAPS: &[&str] = &["propertyList"];

fn canonical(key: &str) -> Option<&'static str> {
    KNOWN_KEYS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(key))
}

/// Rewrites property names to their canonical spelling, recursively.
pub fn canonicalize_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let name = canonical(&k).map(str::to_owned).unwrap_or(k);
                let v = if VERBATIM_MAPS.contains(&name.as_str()) {
                    v
                } else {
                    canonicalize_keys(v)
                };
                out.insert(name, v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonicalize_keys).collect()),
        other => other,
    }
}

/// Parses a JSON body into `T`, reporting the JSON path of the first thing that does not fit.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, FieldError> {
    parse_json_noting_unknown(body).map(|(value, _)| value)
}

/// Parses a JSON body into `T` like [`parse_json`], and also returns the JSON paths
/// (`$.correspondence.isConfirmationNeded`) of the properties `T` does not know.
///
/// Unknown properties are accepted, as Altinn accepts them (reference §0, "JSON property
/// names"); the caller reports them so that an integrator's typo is visible to the operator.
/// The paths name keys only, never values. Errors are those of [`parse_json`].
pub fn parse_json_noting_unknown<T: DeserializeOwned>(
    body: &[u8],
) -> Result<(T, Vec<String>), FieldError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| FieldError::new("$", format!("The request body is not valid JSON: {e}")))?;
    let value = canonicalize_keys(value);
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    // serde_ignored reports every property the model skips; serde_path_to_error names the path
    // of the first value that does not fit.
    let parsed = serde_ignored::deserialize(
        serde_path_to_error::Deserializer::new(value, &mut track),
        |path| unknown.push(json_path(&path.to_string())),
    );
    match parsed {
        Ok(v) => Ok((v, unknown)),
        Err(e) => {
            let path = track.path().to_string();
            let path = if path == "." {
                "$".to_owned()
            } else {
                format!("$.{path}")
            };
            Err(FieldError::new(
                path.clone(),
                format!("The JSON value at {path} could not be converted: {e}"),
            ))
        }
    }
}

/// `correspondence.?.isConfirmationNeded` (serde_ignored's form, `?` for an `Option`) as
/// `$.correspondence.isConfirmationNeded`.
fn json_path(ignored: &str) -> String {
    let segments: Vec<&str> = ignored
        .split('.')
        .filter(|s| !s.is_empty() && *s != "?")
        .collect();
    if segments.is_empty() {
        "$".to_owned()
    } else {
        format!("$.{}", segments.join("."))
    }
}

/// Deserializes an optional list of strings in which `null` entries read as empty strings, so
/// that validation can refuse them by name ("Recipients can not contain null or empty values")
/// instead of the JSON reader refusing the whole body.
pub fn strings_allowing_null<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let list = Option::<Vec<Option<String>>>::deserialize(d)?;
    Ok(list.map(|l| l.into_iter().map(Option::unwrap_or_default).collect()))
}

/// Deserializes an enum given as a name (any case) or a number, through `parse`.
pub fn enum_by_name_or_number<'de, D, T>(
    d: D,
    parse: fn(&str) -> Option<T>,
    what: &'static str,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let v = Value::deserialize(d)?;
    let s = match &v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(serde::de::Error::custom(format!("expected a {what}"))),
    };
    parse(&s).ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not a valid {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_match_case_insensitively_but_property_list_is_kept() {
        let v = canonicalize_keys(json!({
            "Correspondence": {"ResourceId": "r", "PROPERTYLIST": {"MyKey": "v"},
                               "replyoptions": [{"LinkUrl": "https://x"}]},
            "Recipients": ["a"], "unknownThing": 1
        }));
        assert_eq!(v["correspondence"]["resourceId"], "r");
        assert_eq!(v["correspondence"]["propertyList"]["MyKey"], "v");
        assert_eq!(
            v["correspondence"]["replyOptions"][0]["linkURL"],
            "https://x"
        );
        assert_eq!(v["recipients"][0], "a");
        assert_eq!(v["unknownThing"], 1);
    }

    #[test]
    fn unknown_properties_are_accepted_and_named_by_their_path() {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Inner {
            is_confirmation_needed: Option<bool>,
        }
        #[derive(serde::Deserialize)]
        struct Outer {
            correspondence: Option<Inner>,
        }
        let (parsed, unknown): (Outer, _) = parse_json_noting_unknown(
            br#"{"Correspondence": {"isConfirmationNeded": true}, "extra": {"a": 1}}"#,
        )
        .unwrap();
        assert_eq!(parsed.correspondence.unwrap().is_confirmation_needed, None);
        assert_eq!(
            unknown,
            vec!["$.correspondence.isConfirmationNeded", "$.extra"]
        );
        let e = parse_json_noting_unknown::<Outer>(
            br#"{"correspondence": {"isConfirmationNeeded": 3}}"#,
        )
        .err()
        .unwrap();
        assert_eq!(e.path, "$.correspondence.isConfirmationNeeded");
    }

    #[test]
    fn errors_carry_the_json_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            content: Inner,
        }
        let e = parse_json::<Outer>(br#"{"content": {"n": "x"}}"#).unwrap_err();
        assert_eq!(e.path, "$.content.n");
        let e = parse_json::<Outer>(b"{not json").unwrap_err();
        assert_eq!(e.path, "$");
    }
}
