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
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| FieldError::new("$", format!("The request body is not valid JSON: {e}")))?;
    let value = canonicalize_keys(value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            "$".to_owned()
        } else {
            format!("$.{path}")
        };
        FieldError::new(
            path.clone(),
            format!(
                "The JSON value at {path} could not be converted: {}",
                e.inner()
            ),
        )
    })
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
