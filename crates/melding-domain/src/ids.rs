//! Typed ids. Server-generated ids are UUIDv7, so they sort by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new_v7(at: chrono::DateTime<chrono::Utc>) -> Self {
                let ts = uuid::Timestamp::from_unix(
                    uuid::NoContext,
                    at.timestamp() as u64,
                    at.timestamp_subsec_nanos(),
                );
                Self(Uuid::new_v7(ts))
            }

            /// The id holding `id` (read from the wire or a row; any UUID version).
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The UUID inside.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// One letter to one recipient.
    CorrespondenceId
);
typed_id!(
    /// One file, possibly shared by the letters of one request.
    AttachmentId
);
typed_id!(
    /// One forwarding of a letter by its recipient to an e-mail address (reference §4.12).
    ForwardingEventId
);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn v7_ids_sort_by_time_and_print_lowercase_hyphenated() {
        let t = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        let a = CorrespondenceId::new_v7(t);
        let b = CorrespondenceId::new_v7(t + Duration::seconds(1));
        assert!(a < b);
        let s = a.to_string();
        assert_eq!(s, s.to_lowercase());
        assert_eq!(s.len(), 36);
        assert_eq!(s.parse::<CorrespondenceId>().unwrap(), a);
    }
}
