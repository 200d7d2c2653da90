//! Times on the wire: `2025-05-29T13:31:28.290518+00:00` (microseconds, `+00:00`, never `Z`) on
//! output. On input any ISO-8601 time with an offset, and, as the reference's parser reads them
//! in its default setup (a server on UTC), a time or a date without one, taken as UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Local date-time shapes read as UTC, most common first.
const WITHOUT_OFFSET: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"];

/// Reads an input time: RFC 3339 with an offset (`2099-01-01T00:00:00+01:00`, `…Z`), a date-time
/// without one (`2099-01-01T00:00:00`, `2099-01-01T00:00:00.5`, `2099-01-01T00:00`), or a date
/// (`2099-01-01`, midnight); the last two are UTC (issue 11 item 9). A space may stand for the
/// `T`. `None` when the text is none of these.
pub fn parse_input(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let text = match text.as_bytes().get(10) {
        Some(b' ') => format!("{}T{}", &text[..10], &text[11..]),
        _ => text.to_owned(),
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Some(t) = WITHOUT_OFFSET
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
    {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Deserializes an optional input time with [`parse_input`]; `null` is `None`.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_input(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("'{s}' is not an ISO-8601 date or time"))
        }),
    }
}

pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, false)
}

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format(t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn times_use_offset_notation_with_microseconds() {
        let t = chrono::Utc
            .with_ymd_and_hms(2025, 5, 29, 13, 31, 28)
            .unwrap()
            + chrono::Duration::microseconds(290_518);
        assert_eq!(super::format(&t), "2025-05-29T13:31:28.290518+00:00");
    }

    #[test]
    fn input_times_without_an_offset_are_utc() {
        let midnight = chrono::Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap();
        for text in [
            "2099-01-01T00:00:00",
            "2099-01-01",
            "2099-01-01T00:00",
            "2099-01-01 00:00:00",
            "2099-01-01T00:00:00Z",
            "2099-01-01T01:00:00+01:00",
            "2099-01-01T00:00:00.000",
        ] {
            assert_eq!(super::parse_input(text), Some(midnight), "{text}");
        }
        for bad in ["", "2099-13-01", "tomorrow", "2099-01-01T25:00:00"] {
            assert_eq!(super::parse_input(bad), None, "{bad}");
        }
    }
}
