//! Conversions between domain values and SQLite columns.

use chrono::{DateTime, Utc};
use melding_domain::authz::Right;
use melding_store::StoreError;

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(v).ok_or_else(|| StoreError::Corrupt(format!("time {v}")))
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// A read policy as its JSON column: an array of right strings.
pub(crate) fn policy_to_json(policy: &[Right]) -> String {
    let rights: Vec<String> = policy.iter().map(Right::to_string).collect();
    serde_json::Value::from(rights).to_string()
}

pub(crate) fn policy_from_json(json: &str) -> Result<Vec<Right>, StoreError> {
    let rights: Vec<String> = serde_json::from_str(json).map_err(corrupt)?;
    rights.iter().map(|r| right(r)).collect()
}

/// A right as stored in a `right_` column.
pub(crate) fn right(s: &str) -> Result<Right, StoreError> {
    Right::parse(s).map_err(corrupt)
}
