//! Times on the wire: `2025-05-29T13:31:28.290518+00:00` (microseconds, `+00:00`, never `Z`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

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
}
