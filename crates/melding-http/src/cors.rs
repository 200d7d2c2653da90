//! CORS on the recipient's content endpoint (`GET …/correspondence/{id}/content`), as the
//! reference's policy "ArbeidsflateCors" allows it (reference §0, "CORS"): a browser page on one of
//! the configured origins (the inbox) may read a letter's body with the user's token; pages on
//! any other origin get no CORS headers at all. The headers come from tower-http's `CorsLayer`;
//! this module only decides which requests it sees and answers preflights 204, as ASP.NET does.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The origins allowed to call the content endpoint from a browser, e.g.
/// `https://af.altinn.no`, or `https://*.altinn.no` for every sub-domain of `altinn.no` (the
/// reference allows wildcard sub-domains). Empty (the default) allows no origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins {
    /// Exact origins, lower-cased: `https://af.altinn.no`.
    exact: Vec<String>,
    /// Wildcard sub-domains as (scheme with `://`, `.domain[:port]`), lower-cased.
    sub_domains: Vec<(String, String)>,
}

/// A configured origin that is not `http(s)://host[:port]` (or `http(s)://*.domain[:port]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a CORS origin: give scheme and host (and port), e.g. https://af.altinn.no or https://*.altinn.no, without a path"
)]
pub struct CorsOriginError(pub String);

impl CorsOrigins {
    /// Parses configured origins. An origin is compared as a whole (scheme, host and port, case
    /// insensitive), as browsers send it; `*.` before the host allows its sub-domains. Written by
    /// hand because the `Origin` syntax is this small and `http::Uri` rejects the `*.` form.
    pub fn parse<S: AsRef<str>>(origins: &[S]) -> Result<Self, CorsOriginError> {
        let mut parsed = Self::default();
        for origin in origins {
            let raw = origin.as_ref().trim();
            let bad = || CorsOriginError(raw.to_owned());
            let lower = raw.to_ascii_lowercase();
            let (scheme, authority) = lower
                .split_once("://")
                .filter(|(s, _)| *s == "http" || *s == "https")
                .ok_or_else(bad)?;
            let host_ok = |h: &str| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            };
            match authority.strip_prefix("*.") {
                Some(domain) if host_ok(domain) => parsed
                    .sub_domains
                    .push((format!("{scheme}://"), format!(".{domain}"))),
                None if host_ok(authority) => parsed.exact.push(lower.clone()),
                _ => return Err(bad()),
            }
        }
        Ok(parsed)
    }

    /// Whether a request's `Origin` header value is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.exact.contains(&origin)
            || self.sub_domains.iter().any(|(scheme, domain)| {
                origin
                    .strip_prefix(scheme.as_str())
                    .and_then(|host| host.strip_suffix(domain.as_str()))
                    .is_some_and(|sub| !sub.is_empty() && !sub.contains('/'))
            })
    }

    /// Whether no origin is allowed.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.sub_domains.is_empty()
    }
}

/// The content endpoint's CORS: the allowed origins and the layer that writes the headers.
pub(crate) struct ContentCors {
    origins: CorsOrigins,
    layer: CorsLayer,
}

impl ContentCors {
    pub(crate) fn new(origins: CorsOrigins) -> Arc<Self> {
        let allowed = origins.clone();
        let layer = CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, _| {
                origin.to_str().is_ok_and(|o| allowed.allows(o))
            }))
            // The reference's policy: these methods and headers, with credentials.
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                HeaderName::from_static("request-id"),
                HeaderName::from_static("request-context"),
                HeaderName::from_static("traceparent"),
                HeaderName::from_static("prefer"),
            ])
            .allow_credentials(true);
        Arc::new(Self { origins, layer })
    }
}

/// Passes requests from allowed origins through the `CorsLayer`; everything else is served as
/// if CORS did not exist, except that a preflight from another origin is answered 204 without
/// CORS headers (which the browser reads as a refusal), as the reference does.
pub(crate) async fn content_cors(
    State(cors): State<Arc<ContentCors>>,
    req: Request,
    next: Next,
) -> Response {
    let origin = req.headers().get(header::ORIGIN).map(HeaderValue::to_str);
    let preflight = req.method() == Method::OPTIONS
        && origin.is_some()
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let allowed = matches!(origin, Some(Ok(o)) if cors.origins.allows(o));
    if !allowed {
        if preflight {
            return StatusCode::NO_CONTENT.into_response();
        }
        return next.run(req).await;
    }
    let mut res = match cors.layer.layer(next).oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    if preflight {
        *res.status_mut() = StatusCode::NO_CONTENT;
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_or_by_sub_domain() {
        let o = CorsOrigins::parse(&["https://af.altinn.no", "https://*.Tt02.altinn.no"]).unwrap();
        assert!(o.allows("https://af.altinn.no"));
        assert!(o.allows("HTTPS://AF.ALTINN.NO"));
        assert!(o.allows("https://af.tt02.altinn.no"));
        assert!(!o.allows("https://tt02.altinn.no"));
        assert!(!o.allows("http://af.altinn.no"));
        assert!(!o.allows("https://af.altinn.no.evil.example"));
        assert!(!o.allows("https://evil.example/x.tt02.altinn.no"));
        assert!(!o.allows("null"));
        assert!(CorsOrigins::parse::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn origins_with_paths_or_other_schemes_are_refused() {
        for bad in [
            "af.altinn.no",
            "https://af.altinn.no/",
            "https://af.altinn.no/inbox",
            "ftp://af.altinn.no",
            "https://",
            "https://*.",
            "*",
        ] {
            assert!(CorsOrigins::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
