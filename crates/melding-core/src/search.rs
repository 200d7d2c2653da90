//! Listing letters: by resource, role and party, newest first, with Altinn's filters and a
//! cursor for continuing past a page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use melding_domain::{CorrespondenceId, CorrespondenceStatus, Party, ResourceId};
use melding_store::{SearchQuery, SearchRole};
use uuid::Uuid;

use crate::{CoreError, Melding, Principal, Rule};

/// The most ids one page holds (Altinn's fixed limit).
pub const MAX_PAGE: u32 = 1000;

/// A search for letter ids (`GET /correspondence/api/v1/correspondence`, reference §4.6), after
/// the model checks.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The resource searched, without its optional URN prefix.
    pub resource_id: ResourceId,
    /// Whose letters: received, sent or both.
    pub role: SearchRole,
    /// Exclusive lower bound on the requested publish time (UTC).
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on the requested publish time (UTC); before `from` is 1027.
    pub to: Option<DateTime<Utc>>,
    /// Only letters that have ever had this status.
    pub status: Option<CorrespondenceStatus>,
    /// The party searched for; `None` searches for the caller's own party.
    pub on_behalf_of: Option<Party>,
    /// Only letters with exactly this sender's reference.
    pub senders_reference: Option<String>,
    /// Finds the one letter initialized with this idempotency key, if the caller may see it;
    /// the other filters are then ignored (reference §4.6).
    pub idempotent_key: Option<Uuid>,
    /// The id a letter had in Altinn 2. Melding holds no letters migrated from there, so a
    /// search by it finds nothing (issue 11 item 11).
    pub altinn2_correspondence_id: Option<i64>,
    /// The most ids on the page; clamped to 1..=[`MAX_PAGE`].
    pub limit: u32,
    /// Continue after this (requested publish time in UTC, id), from a decoded cursor.
    pub after: Option<(DateTime<Utc>, CorrespondenceId)>,
}

/// One page of a search's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResult {
    /// The letters found, newest requested publish time first (ties: higher id first).
    pub ids: Vec<CorrespondenceId>,
    /// The cursor ([`encode_cursor`]) where the next page starts, when this one was full.
    pub next_cursor: Option<String>,
}

/// Encodes where a page ended as an opaque cursor.
pub fn encode_cursor(at: DateTime<Utc>, id: CorrespondenceId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.timestamp_micros()))
}

/// Reads a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, CorrespondenceId)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (t, id) = raw.split_once('|')?;
    Some((
        DateTime::from_timestamp_micros(t.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

impl Melding {
    /// Lists the ids of the letters of a resource the caller may see (reference §4.6), one
    /// page at a time. A search by `altinn2_correspondence_id` finds nothing.
    ///
    /// # Errors
    /// [`Rule::FromAfterTo`] (1027) when `from` is after `to`; [`Rule::NoAccess`] (4001) for an
    /// unknown resource or a party the caller may not search for; [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(resource_id = %req.resource_id))]
    pub async fn search(
        &self,
        principal: &Principal,
        req: SearchRequest,
    ) -> Result<SearchResult, CoreError> {
        if let (Some(from), Some(to)) = (req.from, req.to)
            && from > to
        {
            return Err(Rule::FromAfterTo.into());
        }
        // Access is decided before anything is listed (4001 otherwise).
        let mut scope = self
            .search_scope(
                principal,
                req.resource_id.as_str(),
                req.on_behalf_of.clone(),
            )
            .await?;
        let (party, on_behalf, service_owner) =
            (scope.party.clone(), scope.on_behalf, scope.service_owner);
        if req.altinn2_correspondence_id.is_some() {
            return Ok(SearchResult {
                ids: vec![],
                next_cursor: None,
            });
        }
        // By idempotency key the reference ignores the other filters (correspondence-api.md §4,
        // search, `idempotentKey`),
        // but a caller finds only what it may see now: its sender always, a recipient only once
        // the letter is published and until it is purged, as when opening it (a deliberate
        // deviation, see the README), so a recipient never learns of a letter early.
        if let Some(key) = req.idempotent_key {
            let mut ids = vec![];
            if let Some(id) = self.store.find_by_idempotent_key(key).await?
                && let Some(letter) = self.store.correspondence(id).await?
                && scope.may_list(principal, &letter).await?
            {
                ids.push(id);
            }
            return Ok(SearchResult {
                ids,
                next_cursor: None,
            });
        }
        // Letters sent match the searched party's org number: the caller's own, or for a
        // service owner the organisation it searches on behalf of.
        let sender_org = match &party {
            Party::Organization(o) if !on_behalf || service_owner => Some(o.to_string()),
            _ => None,
        };
        let page = self
            .store
            .search(&SearchQuery {
                resource_id: req.resource_id.to_string(),
                role: req.role,
                party_urn: party.urn(),
                sender_org,
                from: req.from,
                to: req.to,
                status: req.status,
                senders_reference: req.senders_reference,
                limit: req.limit.clamp(1, MAX_PAGE),
                after: req.after,
            })
            .await?;
        Ok(SearchResult {
            ids: page.ids,
            next_cursor: page.next.map(|(t, id)| encode_cursor(t, id)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let id = CorrespondenceId::new_v7(t);
        assert_eq!(decode_cursor(&encode_cursor(t, id)), Some((t, id)));
        assert_eq!(decode_cursor("!!!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("1|nope")), None);
    }
}
