//! Request parsing that answers the way Altinn does: JSON bodies read case-insensitively with the
//! failing path named, GUID path ids, and the `Accept` header check.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use melding_api_types::FieldError;
use melding_api_types::input::parse_json_noting_unknown;
use serde::de::DeserializeOwned;

use std::sync::atomic::Ordering;

use crate::HttpStats;
use crate::error::ApiError;

/// Parses a JSON body with Altinn's rules. Called inside handlers, after the auth gates, so an
/// unauthorised caller learns nothing from body validation. Unknown properties are accepted as
/// in Altinn (reference §0), logged at `warn` (their paths only; the request span carries the
/// trace id) and counted in `stats`, so that an integrator's typo is visible to the operator.
pub fn json_body<T: DeserializeOwned>(
    stats: &HttpStats,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
        .unwrap_or(false);
    if !is_json {
        return Err(ApiError::Plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The request body must be application/json".into(),
        ));
    }
    let (value, unknown) = parse_json_noting_unknown(body).map_err(ApiError::from)?;
    if !unknown.is_empty() {
        stats
            .unknown_json_fields
            .fetch_add(unknown.len() as u64, Ordering::Relaxed);
        let fields: Vec<&str> = unknown
            .iter()
            .map(|p| &p[..p.floor_char_boundary(100)])
            .collect();
        tracing::warn!(
            fields = %fields.join(", "),
            trace_id = %crate::middleware::current_trace_id(),
            "unknown JSON properties in the request were ignored"
        );
    }
    Ok(value)
}

/// Parses a GUID path segment; anything else is a validation problem naming the parameter.
pub fn guid<T: std::str::FromStr>(raw: &str, name: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::from(FieldError::new(
            name,
            format!("The value '{raw}' is not valid for {name}."),
        ))
    })
}

/// Altinn's `Accept` rule: if present, one of its media ranges (parameters dropped, lower-cased)
/// must equal a produced type or `*/*`. `application/*` is not a wildcard here.
pub fn check_accept(
    headers: &HeaderMap,
    produces: &'static [&'static str],
) -> Result<(), ApiError> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let ok = accept.split(',').any(|range| {
        let media = range
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        media == "*/*" || produces.contains(&media.as_str())
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable(match produces {
            ["text/plain"] => "text/plain",
            _ => "application/json",
        }))
    }
}
