//! Melding's delegation API: grant and revoke a role or access package for a person in an
//! organisation, and read the log of changes. Callers are administrators (scope
//! `melding:admin`) or the organisation's general manager or chair.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::HeaderMap;
use melding_api_types::{FieldError, ProblemDetails};
use melding_domain::authz::Right;
use melding_domain::{NationalId, OrgNumber};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{check_accept, json_body};

const JSON: &[&str] = &["application/json"];

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // One `routes!` per path: handlers named together are served on every path among them.
        .routes(routes!(grant))
        .routes(routes!(revoke))
        .routes(routes!(log))
        .routes(routes!(authorized_parties))
        .layer(DefaultBodyLimit::max(64 * 1024))
}

/// `{"nationalId": "08089403198", "right": "urn:altinn:accesspackage:ordinaer-post-til-virksomheten"}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationExt {
    pub national_id: Option<String>,
    /// A role code (`KOMAB`, `urn:altinn:rolecode:A0236`, …) or an access package URN.
    pub right: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RevokeQuery {
    pub right: Option<String>,
}

/// Whether the request changed anything (a repeated grant or revoke does not).
#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationChangedExt {
    pub changed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationLogEntryExt {
    #[serde(serialize_with = "melding_api_types::time::serialize")]
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    /// `grant` or `revoke`.
    pub action: String,
    pub national_id: String,
    pub right: String,
}

fn org_number(raw: &str) -> Result<OrgNumber, ApiError> {
    OrgNumber::parse(raw).map_err(|e| FieldError::new("orgNumber", e.to_string()).into())
}

fn parse_person(raw: Option<&str>) -> Result<NationalId, ApiError> {
    let raw =
        raw.ok_or_else(|| FieldError::new("NationalId", "The NationalId field is required."))?;
    NationalId::parse(raw).map_err(|e| FieldError::new("NationalId", e.to_string()).into())
}

fn parse_right(raw: Option<&str>) -> Result<Right, ApiError> {
    let raw = raw.ok_or_else(|| FieldError::new("Right", "The Right field is required."))?;
    Right::parse(raw).map_err(|e| FieldError::new("Right", e).into())
}

/// Grant a role or access package to a person in the organisation.
#[utoipa::path(
    post, path = "/melding/api/v1/organizations/{orgNumber}/delegations", tag = "Delegation",
    params(("orgNumber" = String, Path)),
    request_body = DelegationExt,
    responses(
        (status = 200, body = DelegationChangedExt),
        (status = 400, description = "Validation problem", body = ProblemDetails),
        (status = 404, description = "Unknown organisation or person (CORR-01029)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(org): Path<String>,
    body: Bytes,
) -> Result<Json<DelegationChangedExt>, ApiError> {
    let principal = caller.principal()?;
    check_accept(&headers, JSON)?;
    let org = org_number(&org)?;
    let dto: DelegationExt = json_body(&state.stats, &headers, &body)?;
    let person = parse_person(dto.national_id.as_deref())?;
    let right = parse_right(dto.right.as_deref())?;
    let access = state.melding.delegation_access(&principal, &org).await?;
    let changed = state
        .melding
        .change_delegation(&access, &person, right, true)
        .await?;
    Ok(Json(DelegationChangedExt { changed }))
}

/// Revoke a role or access package from a person in the organisation.
#[utoipa::path(
    delete, path = "/melding/api/v1/organizations/{orgNumber}/delegations/{nationalId}", tag = "Delegation",
    params(("orgNumber" = String, Path), ("nationalId" = String, Path), ("right" = String, Query)),
    responses(
        (status = 200, body = DelegationChangedExt),
        (status = 400, description = "Validation problem", body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((org, person)): Path<(String, String)>,
    Query(q): Query<RevokeQuery>,
) -> Result<Json<DelegationChangedExt>, ApiError> {
    let principal = caller.principal()?;
    check_accept(&headers, JSON)?;
    let org = org_number(&org)?;
    let person = parse_person(Some(&person))?;
    let right = parse_right(q.right.as_deref())?;
    let access = state.melding.delegation_access(&principal, &org).await?;
    let changed = state
        .melding
        .change_delegation(&access, &person, right, false)
        .await?;
    Ok(Json(DelegationChangedExt { changed }))
}

/// Every grant and revocation for the organisation, oldest first.
#[utoipa::path(
    get, path = "/melding/api/v1/organizations/{orgNumber}/delegations/log", tag = "Delegation",
    params(("orgNumber" = String, Path)),
    responses(
        (status = 200, body = Vec<DelegationLogEntryExt>),
    ),
    security(("bearer" = []))
)]
async fn log(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Json<Vec<DelegationLogEntryExt>>, ApiError> {
    let principal = caller.principal()?;
    check_accept(&headers, JSON)?;
    let org = org_number(&org)?;
    let access = state.melding.delegation_access(&principal, &org).await?;
    let entries = state.melding.delegation_log(&access).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|c| DelegationLogEntryExt {
                at: c.at,
                actor: c.actor,
                action: if c.granted { "grant" } else { "revoke" }.to_owned(),
                national_id: c.person.to_string(),
                right: c.right.to_string(),
            })
            .collect(),
    ))
}

/// A party the caller may read post for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizedPartyExt {
    /// `urn:altinn:person:identifier-no:…`, `urn:altinn:organization:identifier-no:…`, or a
    /// self-identified user's `urn:altinn:person:idporten-email:…` /
    /// `urn:altinn:person:legacy-selfidentified:…`.
    pub party: String,
    pub name: Option<String>,
    /// The roles and access packages held; empty for the caller's own party.
    pub rights: Vec<String>,
}

/// The caller's own party and every organisation it may read post for; use them as
/// `onBehalfOf` when searching.
#[utoipa::path(
    get, path = "/melding/api/v1/authorizedparties", tag = "Delegation",
    responses(
        (status = 200, body = Vec<AuthorizedPartyExt>),
    ),
    security(("bearer" = []))
)]
async fn authorized_parties(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<Vec<AuthorizedPartyExt>>, ApiError> {
    let principal = caller.principal()?;
    check_accept(&headers, JSON)?;
    let parties = state.melding.authorized_parties(&principal).await?;
    Ok(Json(
        parties
            .into_iter()
            .map(|p| AuthorizedPartyExt {
                party: p.party.urn(),
                name: p.name,
                rights: p.rights.iter().map(ToString::to_string).collect(),
            })
            .collect(),
    ))
}
