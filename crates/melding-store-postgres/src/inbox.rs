//! The web inbox's listing and sessions on PostgreSQL (migration 0013).

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_store::sql::TableRow;
use melding_store::{InboxQuery, InboxStore, SearchPage, StoreError, WebSession, table_row};
use sqlx::FromRow;

use crate::codec::column_list;
use crate::{PostgresStore, classify};

/// The statuses a letter's latest may not be for the inbox to list it: before publication
/// (Initialized, ReadyForPublish), Failed, and purged (PurgedByRecipient, PurgedByAltinn).
const HIDDEN: &str = "(0, 1, 7, 8, 11)";

table_row! {
    /// A row of `web_sessions`: times as `timestamptz`.
    #[derive(Debug, FromRow)]
    struct SessionRow in "web_sessions" {
        token_hash: String,
        person: String,
        acr: String,
        acting_for: String,
        csrf_token: String,
        id_token: Option<String>,
        created: DateTime<Utc>,
        last_seen: DateTime<Utc>,
    }
}

impl SessionRow {
    fn new(s: &WebSession) -> Self {
        Self {
            token_hash: s.token_hash.clone(),
            person: s.person.clone(),
            acr: s.acr.clone(),
            acting_for: s.acting_for.clone(),
            csrf_token: s.csrf_token.clone(),
            id_token: s.id_token.clone(),
            created: s.created,
            last_seen: s.last_seen,
        }
    }

    fn into_session(self) -> WebSession {
        WebSession {
            token_hash: self.token_hash,
            person: self.person,
            acr: self.acr,
            acting_for: self.acting_for,
            csrf_token: self.csrf_token,
            id_token: self.id_token,
            created: self.created,
            last_seen: self.last_seen,
        }
    }
}

static INSERT_SESSION: LazyLock<String> =
    LazyLock::new(melding_store::sql::insert_one::<SessionRow>);

static SELECT_SESSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM {} WHERE token_hash = $1",
        column_list("", SessionRow::COLUMNS),
        SessionRow::TABLE
    )
});

/// The inbox listing, first page: every value is a bound parameter; a filter that is off binds
/// NULL. `$6` is the limit.
static SELECT_INBOX: LazyLock<String> = LazyLock::new(|| inbox_query("", 6));

/// The inbox listing after a cursor (`$6` the time, `$7` the id, `$8` the limit). The plain
/// `requested_publish_time <= $6` lets the index `correspondences_inbox` start at the cursor;
/// written as `$6 IS NULL OR …` the cursor made PostgreSQL read every letter older than it
/// (about 20 ms at page 30 of 10,000 letters; BENCHMARKS.md, "Web inbox list pages").
static SELECT_INBOX_AFTER: LazyLock<String> = LazyLock::new(|| {
    inbox_query(
        "AND requested_publish_time <= $6::timestamptz
           AND (requested_publish_time < $6::timestamptz OR id < $7::uuid)",
        8,
    )
});

/// The listing with `after` (the cursor's condition, or nothing) and `$limit`. The unread and
/// archived checks are `EXISTS … OFFSET 0`: without the `OFFSET`, PostgreSQL may turn them into
/// a hashed subplan that reads every Read or Archived status of every letter in the database,
/// not only this party's; with it each listed letter is probed in
/// `correspondence_statuses_by_letter`.
fn inbox_query(after: &str, limit: u8) -> String {
    format!(
        "SELECT id, requested_publish_time FROM correspondences c
         WHERE recipient = $1 AND last_status NOT IN {HIDDEN}
           AND (NOT $2 OR NOT EXISTS (SELECT 1 FROM correspondence_statuses s
                WHERE s.correspondence_id = c.id AND s.status = 4 OFFSET 0))
           AND ($3 = EXISTS (SELECT 1 FROM correspondence_statuses s
                WHERE s.correspondence_id = c.id AND s.status = 9 OFFSET 0))
           AND ($4::text IS NULL OR sender = $4)
           AND ($5::text IS NULL OR strpos(lower(title), $5) > 0
                OR strpos(lower(summary), $5) > 0)
           {after}
         ORDER BY requested_publish_time DESC, id DESC
         LIMIT ${limit}"
    )
}

/// The distinct senders of recipient `$1`'s listed letters, in order: a loose index scan
/// over `correspondences_inbox_senders` (migration 0014), one index seek per sender rather
/// than a read of every letter.
static SELECT_INBOX_SENDERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE senders(sender) AS (
             SELECT (SELECT sender FROM correspondences
                     WHERE recipient = $1 AND last_status NOT IN {HIDDEN}
                     ORDER BY sender LIMIT 1)
             UNION ALL
             SELECT (SELECT c.sender FROM correspondences c
                     WHERE c.recipient = $1 AND c.sender > s.sender
                       AND c.last_status NOT IN {HIDDEN}
                     ORDER BY c.sender LIMIT 1)
             FROM senders s WHERE s.sender IS NOT NULL
         )
         SELECT sender FROM senders WHERE sender IS NOT NULL"
    )
});

#[async_trait]
impl InboxStore for PostgresStore {
    async fn inbox(&self, q: &InboxQuery) -> Result<SearchPage, StoreError> {
        let query = sqlx::query(match q.after {
            None => SELECT_INBOX.as_str(),
            Some(_) => SELECT_INBOX_AFTER.as_str(),
        })
        .bind(&q.party_urn)
        .bind(q.unread_only)
        .bind(q.archived)
        .bind(q.sender.as_deref())
        .bind(q.text.as_deref().map(str::to_lowercase));
        let query = match q.after {
            None => query,
            Some((t, id)) => query.bind(t).bind(id.as_uuid()),
        };
        let rows = query
            .bind(i64::from(q.limit) + 1)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        crate::correspondences::id_page(&rows, q.limit)
    }

    async fn inbox_senders(&self, party_urn: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(SELECT_INBOX_SENDERS.as_str())
            .bind(party_urn)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)
    }

    async fn insert_session(&self, session: &WebSession) -> Result<(), StoreError> {
        let row = SessionRow::new(session);
        sqlx::query(INSERT_SESSION.as_str())
            .bind(&row.token_hash)
            .bind(&row.person)
            .bind(&row.acr)
            .bind(&row.acting_for)
            .bind(&row.csrf_token)
            .bind(row.id_token.as_deref())
            .bind(row.created)
            .bind(row.last_seen)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<WebSession>, StoreError> {
        Ok(sqlx::query_as::<_, SessionRow>(SELECT_SESSION.as_str())
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .map(SessionRow::into_session))
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen: DateTime<Utc>,
        acting_for: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE web_sessions SET last_seen = $2, acting_for = $3 WHERE token_hash = $1",
        )
        .bind(token_hash)
        .bind(last_seen)
        .bind(acting_for)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_expired_sessions(
        &self,
        created_before: DateTime<Utc>,
        seen_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE created < $1 OR last_seen < $2")
            .bind(created_before)
            .bind(seen_before)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected())
    }
}
