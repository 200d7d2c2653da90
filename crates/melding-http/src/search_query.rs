//! The query string of `GET /correspondence/api/v1/correspondence` (reference §4.6) read into
//! the search use case's request. Each parameter has its own small reader; every problem is
//! collected, so one answer names all the bad parameters, as ASP.NET's model binding does.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use melding_api_types::FieldError;
use melding_core::{MAX_PAGE, SearchRequest, SearchRole, decode_cursor};
use melding_domain::recipient::RecipientError;
use melding_domain::resource::ResourceIdError;
use melding_domain::{CorrespondenceId, CorrespondenceStatus, Party, ResourceId};

use crate::error::ApiError;

/// Reads the search's query parameters (names case-insensitive, as ASP.NET binds them; an
/// empty value counts as absent).
///
/// Errors: [`ApiError::Validation`] listing every parameter that is missing or malformed, in
/// the order of the parameter list of the OpenAPI document.
pub(crate) fn search_request(params: &[(String, String)]) -> Result<SearchRequest, ApiError> {
    let q = Query::new(params);
    let mut errs = Problems::default();
    let resource_id = errs.take(resource_id(&q));
    let role = errs.take(role(&q));
    let from = errs.take(time(&q, "from")).flatten();
    let to = errs.take(time(&q, "to")).flatten();
    let status = errs.take(status(&q)).flatten();
    let on_behalf_of = errs.take(on_behalf_of(&q)).flatten();
    let altinn2_correspondence_id = errs.take(altinn2_correspondence_id(&q)).flatten();
    let idempotent_key = errs.take(idempotent_key(&q)).flatten();
    let limit = errs.take(limit(&q));
    let after = errs.take(cursor(&q)).flatten();
    let (Some(resource_id), Some(role), true) = (resource_id, role, errs.0.is_empty()) else {
        return Err(ApiError::Validation(errs.0));
    };
    // An id no resource can have (a `:` after the prefix, over 255 characters) names no
    // resource: the caller has no access to it, as for any unknown resource (4001).
    let resource_id = resource_id.map_err(|_| melding_core::access::no_access())?;
    Ok(SearchRequest {
        resource_id,
        role,
        from,
        to,
        status,
        on_behalf_of,
        senders_reference: q.get("sendersReference").map(str::to_owned),
        idempotent_key,
        altinn2_correspondence_id,
        limit: limit.unwrap_or(MAX_PAGE),
        after,
    })
}

/// The query parameters by lower-cased name; the last of repeated names wins.
struct Query<'a>(BTreeMap<String, &'a str>);

impl<'a> Query<'a> {
    fn new(params: &'a [(String, String)]) -> Self {
        Self(
            params
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
                .collect(),
        )
    }

    /// The value of `name` (any case), `None` when absent or empty.
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .get(&name.to_ascii_lowercase())
            .copied()
            .filter(|v| !v.is_empty())
    }
}

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    /// The value, or `None` with its problem noted.
    fn take<T>(&mut self, read: Result<T, FieldError>) -> Option<T> {
        read.map_err(|e| self.0.push(e)).ok()
    }
}

fn not_valid(name: &str, value: &str) -> FieldError {
    FieldError::new(
        name,
        format!("The value '{value}' is not valid for {name}."),
    )
}

/// `resourceId`, required, parsed as everywhere else, so `urn:altinn:resource:<id>` finds the
/// letters of `<id>`. The inner error is an id no resource can have.
fn resource_id(q: &Query) -> Result<Result<ResourceId, ResourceIdError>, FieldError> {
    q.get("resourceId")
        .map(ResourceId::parse)
        .ok_or_else(|| FieldError::new("resourceId", "The resourceId field is required."))
}

/// `role`, required: by name or by Altinn's number (0, 1, 2), any case.
fn role(q: &Query) -> Result<SearchRole, FieldError> {
    let Some(given) = q.get("role") else {
        return Err(FieldError::new("role", "The role field is required."));
    };
    match given.to_ascii_lowercase().as_str() {
        "recipient" | "0" => Ok(SearchRole::Recipient),
        "sender" | "1" => Ok(SearchRole::Sender),
        "recipientandsender" | "2" => Ok(SearchRole::RecipientAndSender),
        _ => Err(FieldError::new(
            "role",
            format!(
                "The value '{given}' is not valid for role. Valid values: Recipient, Sender, RecipientAndSender (or 0, 1, 2)."
            ),
        )),
    }
}

/// `from` or `to`: a time as the API reads times everywhere (`melding_api_types::time`).
fn time(q: &Query, name: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    q.get(name)
        .map(|v| melding_api_types::time::parse_input(v).ok_or_else(|| not_valid(name, v)))
        .transpose()
}

/// `status`: a status the letter has ever had, by name or number.
fn status(q: &Query) -> Result<Option<CorrespondenceStatus>, FieldError> {
    q.get("status")
        .map(|v| {
            CorrespondenceStatus::parse(v).ok_or_else(|| {
                let valid: Vec<&str> = CorrespondenceStatus::ALL.iter().map(|s| s.name()).collect();
                FieldError::new(
                    "status",
                    format!(
                        "The value '{v}' is not valid for status. Valid values: {} (or their numbers).",
                        valid.join(", ")
                    ),
                )
            })
        })
        .transpose()
}

/// `onBehalfOf`: the party whose letters to search. A blank one is none: the caller's own party
/// (reference §4.6). The texts are Altinn's.
fn on_behalf_of(q: &Query) -> Result<Option<Party>, FieldError> {
    q.get("onBehalfOf")
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            Party::parse(v).map_err(|e| {
                FieldError::new(
                    "onBehalfOf",
                    match e {
                        RecipientError::NationalId(_) => {
                            "The given OnBehalfOf national identity number is not valid"
                        }
                        _ => {
                            "Organization numbers should be on the format countrycode:organizationnumber, for instance 0192:910753614"
                        }
                    },
                )
            })
        })
        .transpose()
}

/// `altinn2CorrespondenceId`: a whole number (Melding holds no migrated letters).
fn altinn2_correspondence_id(q: &Query) -> Result<Option<i64>, FieldError> {
    q.get("altinn2CorrespondenceId")
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| not_valid("altinn2CorrespondenceId", v))
        })
        .transpose()
}

/// `idempotentKey`: a GUID.
fn idempotent_key(q: &Query) -> Result<Option<uuid::Uuid>, FieldError> {
    q.get("idempotentKey")
        .map(|v| v.parse().map_err(|_| not_valid("idempotentKey", v)))
        .transpose()
}

/// `limit` (a Melding addition): the page size, 1 to [`MAX_PAGE`], [`MAX_PAGE`] when absent.
fn limit(q: &Query) -> Result<u32, FieldError> {
    match q.get("limit").map(str::parse::<u32>) {
        None => Ok(MAX_PAGE),
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(FieldError::new(
            "limit",
            format!("limit must be a whole number from 1 to {MAX_PAGE}"),
        )),
    }
}

/// `cursor` (a Melding addition): the `nextCursor` of an earlier page.
fn cursor(q: &Query) -> Result<Option<(DateTime<Utc>, CorrespondenceId)>, FieldError> {
    q.get("cursor")
        .map(|c| {
            decode_cursor(c)
                .ok_or_else(|| FieldError::new("cursor", "cursor is not one this service issued"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use melding_core::encode_cursor;
    use melding_domain::OrgNumber;

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        params(pairs)
    }

    /// The paths of the problems `search_request` reports for `pairs`.
    fn problems(pairs: &[(&str, &str)]) -> Vec<String> {
        match search_request(&params(pairs)) {
            Err(ApiError::Validation(errs)) => errs.into_iter().map(|e| e.path).collect(),
            other => panic!("expected a validation problem, got {other:?}"),
        }
    }

    fn message(read: Result<impl std::fmt::Debug, FieldError>) -> String {
        read.expect_err("a problem").message
    }

    #[test]
    fn a_minimal_search_takes_the_defaults() {
        let req = search_request(&params(&[
            ("resourceId", "kommunepost"),
            ("role", "Recipient"),
        ]))
        .unwrap();
        assert_eq!(req.resource_id.as_str(), "kommunepost");
        assert_eq!(req.role, SearchRole::Recipient);
        assert_eq!(req.limit, MAX_PAGE);
        assert!(req.from.is_none() && req.to.is_none() && req.status.is_none());
        assert!(req.on_behalf_of.is_none() && req.after.is_none());
        assert!(req.senders_reference.is_none() && req.idempotent_key.is_none());
    }

    #[test]
    fn names_are_read_in_any_case_and_empty_values_are_absent() {
        let q = query(&[
            ("RESOURCEID", "r"),
            ("sendersreference", ""),
            ("Limit", "5"),
        ]);
        let q = Query::new(&q);
        assert_eq!(q.get("resourceId"), Some("r"));
        assert_eq!(q.get("sendersReference"), None);
        assert_eq!(limit(&q), Ok(5));
    }

    #[test]
    fn every_bad_parameter_is_reported_at_once_in_document_order() {
        assert_eq!(
            problems(&[
                ("role", "Reader"),
                ("from", "yesterday"),
                ("to", "tomorrow"),
                ("status", "Lost"),
                ("onBehalfOf", "12345"),
                ("altinn2CorrespondenceId", "x"),
                ("idempotentKey", "not-a-guid"),
                ("limit", "0"),
                ("cursor", "???"),
            ]),
            [
                "resourceId",
                "role",
                "from",
                "to",
                "status",
                "onBehalfOf",
                "altinn2CorrespondenceId",
                "idempotentKey",
                "limit",
                "cursor"
            ]
        );
    }

    #[test]
    fn roles_are_names_or_altinns_numbers() {
        for (given, role_wanted) in [
            ("recipient", SearchRole::Recipient),
            ("0", SearchRole::Recipient),
            ("Sender", SearchRole::Sender),
            ("1", SearchRole::Sender),
            ("RECIPIENTANDSENDER", SearchRole::RecipientAndSender),
            ("2", SearchRole::RecipientAndSender),
        ] {
            let q = query(&[("role", given)]);
            assert_eq!(role(&Query::new(&q)), Ok(role_wanted), "{given}");
        }
        let q = query(&[]);
        assert_eq!(
            message(role(&Query::new(&q))),
            "The role field is required."
        );
        let q = query(&[("role", "3")]);
        assert!(message(role(&Query::new(&q))).starts_with("The value '3' is not valid for role."));
    }

    #[test]
    fn times_and_statuses_are_parsed_or_named_as_not_valid() {
        let q = query(&[("from", "2026-03-02T09:00:00Z"), ("to", "soon")]);
        let q = Query::new(&q);
        assert_eq!(
            time(&q, "from").unwrap().unwrap().to_rfc3339(),
            "2026-03-02T09:00:00+00:00"
        );
        assert_eq!(
            message(time(&q, "to")),
            "The value 'soon' is not valid for to."
        );
        let q = query(&[("status", "Published")]);
        assert_eq!(
            status(&Query::new(&q)),
            Ok(Some(CorrespondenceStatus::Published))
        );
        let q = query(&[("status", "Lost")]);
        let text = message(status(&Query::new(&q)));
        assert!(
            text.contains("Published") && text.contains("Lost"),
            "{text}"
        );
    }

    #[test]
    fn on_behalf_of_is_a_party_and_a_blank_one_is_none() {
        let q = query(&[("onBehalfOf", "0192:991825827")]);
        assert_eq!(
            on_behalf_of(&Query::new(&q)),
            Ok(Some(Party::Organization(
                OrgNumber::parse("991825827").unwrap()
            )))
        );
        let q = query(&[("onBehalfOf", "   ")]);
        assert_eq!(on_behalf_of(&Query::new(&q)), Ok(None));
        let q = query(&[("onBehalfOf", "0192:12345")]);
        assert!(message(on_behalf_of(&Query::new(&q))).starts_with("Organization numbers"));
        let q = query(&[("onBehalfOf", "01010112345")]);
        assert_eq!(
            message(on_behalf_of(&Query::new(&q))),
            "The given OnBehalfOf national identity number is not valid"
        );
    }

    #[test]
    fn ids_and_keys_are_numbers_and_guids() {
        let key = "0193a8a0-0000-7000-8000-000000000001";
        let q = query(&[("altinn2CorrespondenceId", " 42 "), ("idempotentKey", key)]);
        let q = Query::new(&q);
        assert_eq!(altinn2_correspondence_id(&q), Ok(Some(42)));
        assert_eq!(idempotent_key(&q), Ok(Some(key.parse().unwrap())));
    }

    #[test]
    fn the_page_size_is_one_to_a_thousand() {
        for (given, ok) in [
            ("1", true),
            ("1000", true),
            ("0", false),
            ("1001", false),
            ("-1", false),
            ("ten", false),
        ] {
            let q = query(&[("limit", given)]);
            assert_eq!(limit(&Query::new(&q)).is_ok(), ok, "{given}");
        }
        let q = query(&[("limit", "0")]);
        assert_eq!(
            message(limit(&Query::new(&q))),
            "limit must be a whole number from 1 to 1000"
        );
    }

    #[test]
    fn a_cursor_is_one_this_service_issued() {
        let at = chrono::DateTime::from_timestamp_micros(1_772_442_000_000_000).unwrap();
        let id: CorrespondenceId = "0193a8a0-0000-7000-8000-000000000002".parse().unwrap();
        let issued = encode_cursor(at, id);
        let q = query(&[("cursor", issued.as_str())]);
        assert_eq!(cursor(&Query::new(&q)), Ok(Some((at, id))));
        let q = query(&[("cursor", "bm90LWEtY3Vyc29y")]);
        assert_eq!(
            message(cursor(&Query::new(&q))),
            "cursor is not one this service issued"
        );
    }
}
