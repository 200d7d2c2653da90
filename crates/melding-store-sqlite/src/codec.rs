//! Conversions between domain values and SQLite columns.

use chrono::{DateTime, Utc};
use melding_domain::authz::Right;
use melding_store::StoreError;
use melding_store::sql::{TableRow, Values};

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

/// `c1, c2, …`: a select or insert list of `columns`, each prefixed with `prefix` (e.g. `"c."`).
pub(crate) fn column_list(prefix: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("{prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (c1, …) SELECT value ->> 0, … FROM json_each(param) WHERE true ORDER BY
/// key`: inserts one row per element of the JSON array bound to `param` (written with
/// [`json_rows`]), in array order, column *i* of `columns` read from element *i* of the row's
/// values. Both the list and the positions are generated from the row type's `COLUMNS`, which
/// its serialisation follows, so they cannot disagree. (`WHERE true` lets an `ON CONFLICT`
/// clause follow: SQLite's parser would otherwise read its `ON` as a join's.)
pub(crate) fn insert_from_json(table: &str, columns: &[&str], param: &str) -> String {
    let values = (0..columns.len())
        .map(|i| format!("value ->> {i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {table} ({}) SELECT {values} FROM json_each({param}) WHERE true ORDER BY key",
        column_list("", columns)
    )
}

/// `json_object('c1', c1, …)`: one row as a JSON object keyed by column name, to be read back
/// with serde into the row type whose `COLUMNS` these are.
pub(crate) fn json_object_of(columns: &[&str]) -> String {
    let pairs = columns
        .iter()
        .map(|c| format!("'{c}', {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("json_object({pairs})")
}

/// Rows as the JSON array [`insert_from_json`] reads: one array of values per row.
pub(crate) fn json_rows<T: TableRow>(rows: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(&Values(rows)).map_err(corrupt)
}
