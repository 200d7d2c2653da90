//! The web inbox's listing and sessions on SQLite (migration 0013). Times are microseconds since
//! the Unix epoch (UTC).

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_store::sql::TableRow;
use melding_store::{InboxQuery, InboxStore, SearchPage, StoreError, WebSession, table_row};
use sqlx::FromRow;

use crate::codec::{column_list, from_micros, micros};
use crate::{SqliteStore, classify};

/// The statuses a letter's latest may not be for the inbox to list it: before publication
/// (Initialized, ReadyForPublish), Failed, and purged (PurgedByRecipient, PurgedByAltinn).
const HIDDEN: &str = "(0, 1, 7, 8, 11)";

table_row! {
    /// A row of `web_sessions`: times as microseconds since the Unix epoch (UTC).
    #[derive(Debug, FromRow)]
    struct SessionRow in "web_sessions" {
        token_hash: String,
        person: String,
        acr: String,
        acting_for: String,
        csrf_token: String,
        id_token: Option<String>,
        created: i64,
        last_seen: i64,
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
            created: micros(s.created),
            last_seen: micros(s.last_seen),
        }
    }

    fn into_session(self) -> Result<WebSession, StoreError> {
        Ok(WebSession {
            token_hash: self.token_hash,
            person: self.person,
            acr: self.acr,
            acting_for: self.acting_for,
            csrf_token: self.csrf_token,
            id_token: self.id_token,
            created: from_micros(self.created)?,
            last_seen: from_micros(self.last_seen)?,
        })
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

/// The inbox listing: every value is a bound parameter; a filter that is off binds NULL. The
/// search compares with `lower()`, which folds ASCII letters only; enough for a searched text
/// that is ASCII.
static SELECT_INBOX: LazyLock<String> =
    LazyLock::new(|| inbox_query(|column| format!("lower({column})")));

/// [`SELECT_INBOX`] for a searched text with other letters: the title and summary are also
/// folded for the capitals [`FOLDED`] names, so "søknad" finds a stored "SØKNAD". Kept apart
/// because folding every row costs more than `lower()` alone.
static SELECT_INBOX_FOLDED: LazyLock<String> = LazyLock::new(|| inbox_query(folded));

/// The capitals beyond ASCII that SQLite's `lower()` leaves as they are and Norwegian and Sámi
/// text uses (Norwegian ÆØÅ, the ÄÖÜÉ of names, North Sámi's ÁČĐŊŠŦŽ), with their small letters.
const FOLDED: [(char, char); 14] = [
    ('Æ', 'æ'),
    ('Ø', 'ø'),
    ('Å', 'å'),
    ('Ä', 'ä'),
    ('Ö', 'ö'),
    ('Ü', 'ü'),
    ('É', 'é'),
    ('Á', 'á'),
    ('Č', 'č'),
    ('Đ', 'đ'),
    ('Ŋ', 'ŋ'),
    ('Š', 'š'),
    ('Ŧ', 'ŧ'),
    ('Ž', 'ž'),
];

/// `column` lower-cased, [`FOLDED`]'s capitals included.
fn folded(column: &str) -> String {
    FOLDED
        .iter()
        .fold(format!("lower({column})"), |sql, (capital, small)| {
            format!("replace({sql}, '{capital}', '{small}')")
        })
}

/// The listing, with `lower` saying how a column is lower-cased for the search.
fn inbox_query(lower: impl Fn(&str) -> String) -> String {
    format!(
        "SELECT id, requested_publish_time FROM correspondences c
         WHERE recipient = ?1 AND last_status NOT IN {HIDDEN}
           AND (?2 = 0 OR NOT EXISTS (SELECT 1 FROM correspondence_statuses s
                WHERE s.correspondence_id = c.id AND s.status = 4))
           AND (?3 = EXISTS (SELECT 1 FROM correspondence_statuses s
                WHERE s.correspondence_id = c.id AND s.status = 9))
           AND (?4 IS NULL OR sender = ?4)
           AND (?5 IS NULL OR instr({title}, ?5) > 0 OR instr({summary}, ?5) > 0)
           AND (?6 IS NULL OR requested_publish_time < ?6
                OR (requested_publish_time = ?6 AND id < ?7))
         ORDER BY requested_publish_time DESC, id DESC
         LIMIT ?8",
        title = lower("title"),
        summary = lower("summary"),
    )
}

/// The distinct senders of recipient `?1`'s listed letters, in order: a loose index scan
/// over `correspondences_inbox_senders` (migration 0014), one index seek per sender rather
/// than a read of every letter.
static SELECT_INBOX_SENDERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE senders(sender) AS (
             SELECT (SELECT sender FROM correspondences
                     WHERE recipient = ?1 AND last_status NOT IN {HIDDEN}
                     ORDER BY sender LIMIT 1)
             UNION ALL
             SELECT (SELECT c.sender FROM correspondences c
                     WHERE c.recipient = ?1 AND c.sender > s.sender
                       AND c.last_status NOT IN {HIDDEN}
                     ORDER BY c.sender LIMIT 1)
             FROM senders s WHERE s.sender IS NOT NULL
         )
         SELECT sender FROM senders WHERE sender IS NOT NULL"
    )
});

#[async_trait]
impl InboxStore for SqliteStore {
    async fn inbox(&self, q: &InboxQuery) -> Result<SearchPage, StoreError> {
        let ascii = q.text.as_deref().is_none_or(str::is_ascii);
        let sql = if ascii {
            &SELECT_INBOX
        } else {
            &SELECT_INBOX_FOLDED
        };
        let rows = sqlx::query(sql.as_str())
            .bind(&q.party_urn)
            .bind(q.unread_only)
            .bind(q.archived)
            .bind(q.sender.as_deref())
            .bind(q.text.as_deref().map(str::to_lowercase))
            .bind(q.after.map(|(t, _)| micros(t)))
            .bind(q.after.map(|(_, id)| id.to_string()))
            .bind(i64::from(q.limit) + 1)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        crate::correspondences::id_page(&rows, q.limit)
    }

    async fn inbox_senders(&self, party_urn: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(SELECT_INBOX_SENDERS.as_str())
            .bind(party_urn)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)
    }

    async fn insert_session(&self, session: &WebSession) -> Result<(), StoreError> {
        let row = SessionRow::new(session);
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(INSERT_SESSION.as_str())
                    .bind(&row.token_hash)
                    .bind(&row.person)
                    .bind(&row.acr)
                    .bind(&row.acting_for)
                    .bind(&row.csrf_token)
                    .bind(row.id_token.as_deref())
                    .bind(row.created)
                    .bind(row.last_seen)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
                Ok(())
            })
        })
        .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<WebSession>, StoreError> {
        sqlx::query_as::<_, SessionRow>(SELECT_SESSION.as_str())
            .bind(token_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .map(SessionRow::into_session)
            .transpose()
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen: DateTime<Utc>,
        acting_for: &str,
    ) -> Result<bool, StoreError> {
        let (hash, acting_for) = (token_hash.to_owned(), acting_for.to_owned());
        self.write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE web_sessions SET last_seen = ?2, acting_for = ?3 WHERE token_hash = ?1",
                )
                .bind(&hash)
                .bind(micros(last_seen))
                .bind(&acting_for)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let hash = token_hash.to_owned();
        self.write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query("DELETE FROM web_sessions WHERE token_hash = ?1")
                    .bind(&hash)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    async fn delete_expired_sessions(
        &self,
        created_before: DateTime<Utc>,
        seen_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let done =
                    sqlx::query("DELETE FROM web_sessions WHERE created < ?1 OR last_seen < ?2")
                        .bind(micros(created_before))
                        .bind(micros(seen_before))
                        .execute(&mut *conn)
                        .await
                        .map_err(classify)?;
                Ok(done.rows_affected())
            })
        })
        .await
    }
}
