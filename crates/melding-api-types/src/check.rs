//! The small steps of the model checks, shared by the correspondence and attachment requests.
//! Each step reads one field, answers the value in its checked form or the one [`FieldError`]
//! the reference reports for it (reference §5, `reference/altinn-validation-texts.txt`), and is
//! tested on its own. The texts that name a limit take the number from the limit's constant.

use melding_domain::content::char_len;
use melding_domain::resource::{RESOURCE_ID_MAX, RESOURCE_URN, ResourceIdError};
use melding_domain::{ResourceId, content};
use uuid::Uuid;

use crate::problem::FieldError;

/// The field errors of one request, collected in the order the reference reports them.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    /// Records `e`.
    pub(crate) fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// The value of a step that passed; records the error of one that did not.
    pub(crate) fn take<T>(&mut self, step: Result<T, FieldError>) -> Option<T> {
        step.map_err(|e| self.push(e)).ok()
    }

    /// The value of a step that passed; records every error of one that did not.
    pub(crate) fn take_all<T>(&mut self, step: Result<T, Vec<FieldError>>) -> Option<T> {
        step.map_err(|e| self.0.extend(e)).ok()
    }

    /// Appends the errors collected in `later` (reported after this one's).
    pub(crate) fn append(&mut self, later: Problems) {
        self.0.extend(later.0);
    }

    /// The checked value when nothing was recorded; every recorded error otherwise.
    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => Err(self.0),
        }
    }
}

/// ASP.NET's text for a missing required field: `The MessageTitle field is required.`
pub(crate) fn required(path: &str, name: &str) -> FieldError {
    FieldError::new(path, format!("The {name} field is required."))
}

/// ASP.NET's `[MaxLength]` text: `The field MessageTitle must be a string with a maximum length
/// of 255.`
fn too_long(path: &str, name: &str, max: usize) -> FieldError {
    FieldError::new(
        path,
        format!("The field {name} must be a string with a maximum length of {max}."),
    )
}

/// A required text of at most `max` characters, at `{prefix}{name}`.
///
/// Errors: [`required`] when missing or empty; the maximum-length text when longer.
pub(crate) fn required_text(
    prefix: &str,
    name: &str,
    value: Option<String>,
    max: usize,
) -> Result<String, FieldError> {
    let path = format!("{prefix}{name}");
    match value {
        None => Err(required(&path, name)),
        Some(v) if v.is_empty() => Err(required(&path, name)),
        Some(v) if char_len(&v) > max => Err(too_long(&path, name, max)),
        Some(v) => Ok(v),
    }
}

/// An optional text of at most `max` characters, at `{prefix}{name}`.
///
/// Errors: the maximum-length text when longer.
pub(crate) fn optional_text(
    prefix: &str,
    name: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match value {
        Some(v) if char_len(&v) > max => Err(too_long(&format!("{prefix}{name}"), name, max)),
        v => Ok(v),
    }
}

/// A sender's reference, required and at most [`content::SENDERS_REFERENCE_MAX`] characters.
pub(crate) fn senders_reference(prefix: &str, value: Option<String>) -> Result<String, FieldError> {
    required_text(
        prefix,
        "SendersReference",
        value,
        content::SENDERS_REFERENCE_MAX,
    )
}

/// The resource a request names, at `{prefix}ResourceId`, without its optional URN prefix.
///
/// Errors: [`required`] when missing or blank; the reference's pattern text when it is longer
/// than [`RESOURCE_ID_MAX`] characters or holds a `:` after the prefix.
pub(crate) fn resource_id(prefix: &str, value: Option<&str>) -> Result<ResourceId, FieldError> {
    let path = format!("{prefix}ResourceId");
    match ResourceId::parse(value.unwrap_or_default()) {
        Ok(id) => Ok(id),
        Err(ResourceIdError::Empty) => Err(required(&path, "ResourceId")),
        Err(ResourceIdError::Format) => Err(FieldError::new(
            path,
            format!(
                "ResourceId must be at most {RESOURCE_ID_MAX} characters and may not contain ':' after an optional '{RESOURCE_URN}' prefix"
            ),
        )),
    }
}

/// The length of an MD5 checksum in lower-case hex.
const MD5_HEX_LEN: usize = 32;

/// An attachment's checksum, at `{prefix}Checksum`: an empty one means none; any other must be
/// 32 lower-case hex digits.
///
/// Errors: the reference's length text, or its lower-case text for other characters.
pub(crate) fn checksum(prefix: &str, value: Option<String>) -> Result<Option<String>, FieldError> {
    let path = format!("{prefix}Checksum");
    match value {
        None => Ok(None),
        Some(c) if c.is_empty() => Ok(None),
        Some(c) if c.chars().count() != MD5_HEX_LEN => Err(FieldError::new(
            path,
            format!(
                "The checksum, if used, must be a MD5 hash with a length of {MD5_HEX_LEN} characters"
            ),
        )),
        Some(c) if !c.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Err(FieldError::new(
                path,
                "The checksum, if used, must be a MD5 hash in lower case",
            ))
        }
        Some(c) => Ok(Some(c)),
    }
}

/// The idempotency key, at `IdempotentKey`: absent, or a GUID that is not all zeros.
///
/// Errors: the reference's text (1033's) for anything else.
pub(crate) fn idempotent_key(value: Option<&str>) -> Result<Option<Uuid>, FieldError> {
    match value.map(Uuid::parse_str) {
        None => Ok(None),
        Some(Ok(k)) if !k.is_nil() => Ok(Some(k)),
        Some(_) => Err(FieldError::new(
            "IdempotentKey",
            "The idempotency key must be a valid non-empty GUID",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<T: std::fmt::Debug>(r: Result<T, FieldError>) -> (String, String) {
        let e = r.unwrap_err();
        (e.path, e.message)
    }

    #[test]
    fn problems_pass_a_value_only_when_nothing_was_recorded() {
        let mut p = Problems::default();
        let v = p.take(Ok::<_, FieldError>(1));
        assert_eq!(p.finish(v).unwrap(), 1);

        let mut p = Problems::default();
        let v = p.take(Ok::<_, FieldError>(1));
        p.push(FieldError::new("A", "a"));
        assert_eq!(p.finish(v).unwrap_err().len(), 1);

        let mut p = Problems::default();
        let mut later = Problems::default();
        later.push(FieldError::new("Later", "l"));
        let v: Option<u8> = p.take(Err(FieldError::new("First", "f")));
        assert!(
            p.take_all::<u8>(Err(vec![FieldError::new("Second", "s")]))
                .is_none()
        );
        p.append(later);
        let paths: Vec<String> = p
            .finish(v)
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["First", "Second", "Later"]);
    }

    #[test]
    fn a_required_text_is_present_and_not_too_long() {
        assert_eq!(
            required_text("A/", "Title", Some("x".into()), 3).unwrap(),
            "x"
        );
        assert_eq!(
            message(required_text("A/", "Title", None, 3)),
            ("A/Title".into(), "The Title field is required.".into())
        );
        assert_eq!(
            message(required_text("", "Title", Some(String::new()), 3)).1,
            "The Title field is required."
        );
        // White space is a value to the model (the business rules refuse a blank title).
        assert!(required_text("", "Title", Some(" ".into()), 3).is_ok());
        assert_eq!(
            message(required_text("A/", "Title", Some("æøåx".into()), 3)),
            (
                "A/Title".into(),
                "The field Title must be a string with a maximum length of 3.".into()
            )
        );
    }

    #[test]
    fn an_optional_text_is_only_limited() {
        assert_eq!(optional_text("", "Summary", None, 3).unwrap(), None);
        assert_eq!(
            optional_text("", "Summary", Some(String::new()), 3).unwrap(),
            Some(String::new())
        );
        assert_eq!(
            message(optional_text("B/", "Summary", Some("abcd".into()), 3)),
            (
                "B/Summary".into(),
                "The field Summary must be a string with a maximum length of 3.".into()
            )
        );
    }

    #[test]
    fn senders_reference_takes_its_limit_from_the_domain() {
        let longest = "r".repeat(content::SENDERS_REFERENCE_MAX);
        assert!(senders_reference("", Some(longest.clone())).is_ok());
        assert_eq!(
            message(senders_reference("", Some(format!("{longest}r")))).1,
            "The field SendersReference must be a string with a maximum length of 4096."
        );
    }

    #[test]
    fn resource_ids_are_required_and_patterned() {
        assert_eq!(
            resource_id("Correspondence/", Some(" urn:altinn:resource:skatt "))
                .unwrap()
                .as_str(),
            "skatt"
        );
        assert_eq!(
            message(resource_id("Correspondence/", None)),
            (
                "Correspondence/ResourceId".into(),
                "The ResourceId field is required.".into()
            )
        );
        assert_eq!(
            message(resource_id("", Some("  "))).1,
            "The ResourceId field is required."
        );
        for bad in ["a:b", "urn:altinn:resource:", &"r".repeat(256)] {
            assert_eq!(
                message(resource_id("", Some(bad))),
                (
                    "ResourceId".into(),
                    "ResourceId must be at most 255 characters and may not contain ':' after an optional 'urn:altinn:resource:' prefix".into()
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn checksums_are_lower_case_md5_or_nothing() {
        let md5 = "9e107d9d372bb6826bd81d3542a419d6";
        assert_eq!(
            checksum("", Some(md5.into())).unwrap().as_deref(),
            Some(md5)
        );
        assert_eq!(checksum("", Some(String::new())).unwrap(), None);
        assert_eq!(checksum("", None).unwrap(), None);
        assert_eq!(
            message(checksum("X/", Some("abc".into()))),
            (
                "X/Checksum".into(),
                "The checksum, if used, must be a MD5 hash with a length of 32 characters".into()
            )
        );
        assert_eq!(
            message(checksum("", Some(md5.to_uppercase()))).1,
            "The checksum, if used, must be a MD5 hash in lower case"
        );
    }

    #[test]
    fn idempotency_keys_are_non_nil_guids() {
        let k = "0193a0c4-5a1e-7c3b-9d2f-1a2b3c4d5e6f";
        assert_eq!(
            idempotent_key(Some(k)).unwrap(),
            Some(Uuid::parse_str(k).unwrap())
        );
        assert_eq!(idempotent_key(None).unwrap(), None);
        for bad in ["00000000-0000-0000-0000-000000000000", "not-a-guid", ""] {
            assert_eq!(
                message(idempotent_key(Some(bad))),
                (
                    "IdempotentKey".into(),
                    "The idempotency key must be a valid non-empty GUID".into()
                )
            );
        }
    }
}
