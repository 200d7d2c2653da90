//! What the web inbox ("Min meldingsboks", issue 17) needs beyond the API's reads: a listing of
//! one recipient's letters across every resource, with the inbox's filters, and the sessions of
//! people logged in to it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::CorrespondenceId;

use crate::{SearchPage, StoreError};

/// Which of a recipient's letters the inbox lists. Only letters the recipient may see are
/// listed: published, not failed, not purged (reference §6.1, recipient-visible statuses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxQuery {
    /// The recipient, as party URN (`urn:altinn:person:identifier-no:…` or
    /// `urn:altinn:organization:identifier-no:…`).
    pub party_urn: String,
    /// Only letters never read (no Read in their log).
    pub unread_only: bool,
    /// `false`: the letters not archived (the inbox); `true`: only the archived ones (an
    /// Archived status in their log).
    pub archived: bool,
    /// Only letters from this sender (the sending organisation's number).
    pub sender: Option<String>,
    /// Only letters whose title or summary contains this text, taken literally (no
    /// wildcards), case ignored: the text is lower-cased whole, and the stored title and
    /// summary by the database. PostgreSQL folds by its locale (all letters in a UTF-8
    /// locale); SQLite folds ASCII and the capitals of Norwegian, Sámi and the ÄÖÜÉ of names,
    /// so a stored "SØKNAD" is found by "søknad", but a stored "ÇA" is not found by "ça".
    pub text: Option<String>,
    /// At most this many ids on the page.
    pub limit: u32,
    /// Continue after this (requested publish time in UTC, id), newest first.
    pub after: Option<(DateTime<Utc>, CorrespondenceId)>,
}

/// A login to the web inbox, kept server-side: the browser holds only the session token, and
/// the store only the token's SHA-256, so a database dump holds no working session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// The SHA-256 of the session token, 64 lower-case hex digits.
    pub token_hash: String,
    /// The person logged in: their national identity number (11 digits, the `pid` claim).
    pub person: String,
    /// The login's authentication level as the provider gave it (`acr`, e.g.
    /// `idporten-loa-high`).
    pub acr: String,
    /// Whom the person reads post for now, as party URN: themself or an organisation.
    pub acting_for: String,
    /// The token every form of this session must carry (CSRF), 43 base64url characters.
    pub csrf_token: String,
    /// The provider's ID token, kept to end the session at the provider on logout
    /// (`id_token_hint`); `None` for a development login.
    pub id_token: Option<String>,
    /// When the person logged in (UTC): the absolute timeout counts from here.
    pub created: DateTime<Utc>,
    /// The last request in this session (UTC): the idle timeout counts from here.
    pub last_seen: DateTime<Utc>,
}

/// The inbox's reads and its sessions. Every method answers [`StoreError::Unavailable`] when the
/// database fails and [`StoreError::Corrupt`] when a stored row no longer parses.
#[async_trait]
pub trait InboxStore: Send + Sync {
    /// The ids of the letters `query` finds, newest requested publish time first (ties: higher
    /// id first), one page of at most `query.limit`, read in one statement.
    async fn inbox(&self, query: &InboxQuery) -> Result<SearchPage, StoreError>;

    /// The distinct senders (organisation numbers) of the letters to `party_urn` that the inbox
    /// may list, in ascending order: the choices of the inbox's sender filter.
    async fn inbox_senders(&self, party_urn: &str) -> Result<Vec<String>, StoreError>;

    /// Stores a new session. A token hash already stored is [`StoreError::Conflict`].
    async fn insert_session(&self, session: &WebSession) -> Result<(), StoreError>;

    /// The session whose token hashes to `token_hash`, if it exists (expired or not: the caller
    /// decides).
    async fn session(&self, token_hash: &str) -> Result<Option<WebSession>, StoreError>;

    /// Records a request in the session: its new `last_seen` (UTC) and whom it acts for.
    /// Returns whether the session still existed.
    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen: DateTime<Utc>,
        acting_for: &str,
    ) -> Result<bool, StoreError>;

    /// Ends a session. Returns whether it existed.
    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError>;

    /// Deletes the sessions created before `created_before` or idle since before
    /// `seen_before` (both UTC): the expired ones. Returns how many.
    async fn delete_expired_sessions(
        &self,
        created_before: DateTime<Utc>,
        seen_before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}
