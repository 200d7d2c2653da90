//! Letters and their status logs on SQLite.
//!
//! Each table is mapped in one place, by column name: [`LetterRow`] for `correspondences`
//! ([`LetterRow::new`] letter → row, [`LetterRow::into_letter`] row → letter) and [`StatusRow`]
//! for `correspondence_statuses` ([`StatusRow::new`], [`StatusRow::into_entry`]). The field names
//! of a row type are its columns: the bulk insert ([`INSERT_LETTERS`]) and the select
//! ([`SELECT_LETTER`]) are generated from the row type's `COLUMNS`; the select decodes by name,
//! the insert reads each row's values in the order the row type serialises them, which is that
//! of `COLUMNS` (`melding_store::table_row!`), so no order is kept by hand.
//!
//! A new field of a letter touches, on this backend:
//! 1. a migration adding the column (`migrations/`);
//! 2. the field in [`LetterRow`] (which puts it in the insert and the select);
//! 3. its line in [`LetterRow::new`] and in [`LetterRow::into_letter`] (the mapping).

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::Attachment;
use melding_domain::correspondence::{Content, Correspondence, LetterSettings};
use melding_domain::notification::NotificationOrder;
use melding_domain::{
    CorrespondenceId, CorrespondenceStatus, OrgNumber, Recipient, ResourceId, StatusEntry,
    StatusHistory,
};
use melding_store::sql::TableRow;
use melding_store::{
    AppendGuard, AttachmentPurge, CorrespondenceStore, NewJob, NewLink, SearchPage, SearchQuery,
    SearchRole, StoreError, sql, table_row,
};
use sqlx::{AssertSqlSafe, Connection, FromRow, Row, SqliteConnection};
use uuid::Uuid;

use crate::attachments::{insert_attachment_in, insert_link, purge_unshared_in};
use crate::codec::{
    column_list, corrupt, from_micros, insert_from_json, json_object_of, json_rows, micros,
};
use crate::jobs::{NewJobRow, enqueue, insert_jobs};
use crate::notifications::OrderRow;
use crate::writer::end_savepoint;
use crate::{SqliteStore, classify};

table_row! {
    /// A row of `correspondences` as SQLite stores it: ids and keys as text, times as
    /// microseconds since the Unix epoch (UTC), booleans as 0/1, JSON-valued columns as JSON
    /// text (stored exactly as serialised here).
    #[derive(Debug, FromRow)]
    struct LetterRow in "correspondences" {
        id: String,
        resource_id: String,
        recipient: String,
        sender: String,
        senders_reference: String,
        message_sender: Option<String>,
        language: String,
        title: String,
        summary: String,
        body: String,
        requested_publish_time: i64,
        due_date_time: Option<i64>,
        external_references: String,
        property_list: String,
        reply_options: String,
        ignore_reservation: Option<bool>,
        is_confirmation_needed: bool,
        is_confidential: bool,
        allow_forwarding: bool,
        /// Never printed (migration 0010).
        digital_only: bool,
        idempotent_key: Option<String>,
        created: i64,
        published: Option<i64>,
        /// The latest status, Fetched excluded: what the recipient search filters on. Written
        /// from the letter's log; not read back (the log is).
        last_status: i32,
    }
}

impl LetterRow {
    /// The row of letter `c`.
    fn new(c: &Correspondence) -> Result<Self, StoreError> {
        let s = &c.settings;
        Ok(Self {
            id: c.id.to_string(),
            resource_id: s.resource_id.to_string(),
            recipient: c.recipient.urn(),
            sender: s.sender.as_str().to_owned(),
            senders_reference: s.senders_reference.clone(),
            message_sender: s.message_sender.clone(),
            language: s.content.language.clone(),
            title: s.content.title.clone(),
            summary: s.content.summary.clone(),
            body: s.content.body.clone(),
            requested_publish_time: micros(s.requested_publish_time),
            due_date_time: s.due_date_time.map(micros),
            external_references: json_text(&s.external_references)?,
            property_list: json_text(&s.property_list)?,
            reply_options: json_text(&s.reply_options)?,
            ignore_reservation: s.ignore_reservation,
            is_confirmation_needed: s.is_confirmation_needed,
            is_confidential: s.is_confidential,
            allow_forwarding: s.allow_forwarding,
            digital_only: s.digital_only,
            idempotent_key: c.idempotent_key.map(|k| k.to_string()),
            created: micros(c.created),
            published: c.published.map(micros),
            last_status: last_status(c),
        })
    }

    /// The letter this row holds, with its status log.
    fn into_letter(self, statuses: StatusHistory) -> Result<Correspondence, StoreError> {
        Ok(Correspondence {
            id: self.id.parse().map_err(corrupt)?,
            recipient: Recipient::from_urn(&self.recipient).map_err(corrupt)?,
            settings: LetterSettings {
                resource_id: ResourceId::parse(&self.resource_id).map_err(corrupt)?,
                sender: OrgNumber::parse(&self.sender).map_err(corrupt)?,
                senders_reference: self.senders_reference,
                message_sender: self.message_sender,
                content: Content {
                    language: self.language,
                    title: self.title,
                    summary: self.summary,
                    body: self.body,
                },
                requested_publish_time: from_micros(self.requested_publish_time)?,
                due_date_time: self.due_date_time.map(from_micros).transpose()?,
                external_references: serde_json::from_str(&self.external_references)
                    .map_err(corrupt)?,
                property_list: serde_json::from_str(&self.property_list).map_err(corrupt)?,
                reply_options: serde_json::from_str(&self.reply_options).map_err(corrupt)?,
                ignore_reservation: self.ignore_reservation,
                is_confirmation_needed: self.is_confirmation_needed,
                is_confidential: self.is_confidential,
                allow_forwarding: self.allow_forwarding,
                digital_only: self.digital_only,
            },
            idempotent_key: self
                .idempotent_key
                .map(|k| k.parse().map_err(corrupt))
                .transpose()?,
            created: from_micros(self.created)?,
            published: self.published.map(from_micros).transpose()?,
            statuses,
        })
    }
}

/// What a new letter's `last_status` column holds: its latest status (Initialized if none).
fn last_status(c: &Correspondence) -> i32 {
    c.statuses.latest().map_or(0, |e| e.status.value())
}

table_row! {
    /// A row of `correspondence_statuses`: one entry of a letter's log, its time in
    /// microseconds since the Unix epoch (UTC). Read back by [`SELECT_LETTER`] as JSON objects
    /// keyed by column name.
    #[derive(Debug, serde::Deserialize)]
    struct StatusRow in "correspondence_statuses" {
        correspondence_id: String,
        status: i64,
        status_text: String,
        changed_at: i64,
        party: Option<String>,
    }
}

impl StatusRow {
    /// The row of entry `e` of letter `letter`'s log.
    fn new(letter: CorrespondenceId, e: &StatusEntry) -> Self {
        Self {
            correspondence_id: letter.to_string(),
            status: i64::from(e.status.value()),
            status_text: e.text.clone(),
            changed_at: micros(e.at),
            party: e.party.clone(),
        }
    }

    /// The log entry this row holds.
    fn into_entry(self) -> Result<StatusEntry, StoreError> {
        Ok(StatusEntry {
            status: CorrespondenceStatus::from_value(self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {}", self.status)))?,
            text: self.status_text,
            at: from_micros(self.changed_at)?,
            party: self.party,
        })
    }
}

/// A letter and its status log in one statement, so one snapshot (and one call into SQLite)
/// serves both: the letter's columns by name, and `log`, a JSON array of its [`StatusRow`]s as
/// objects keyed by column name, in log order. Binds `$1`, the letter's id.
static SELECT_LETTER: LazyLock<String> = LazyLock::new(|| select_letters("id = $1"));

/// The letters whose ids are in the JSON array of strings `$1`.
static SELECT_LETTERS: LazyLock<String> =
    LazyLock::new(|| select_letters("id IN (SELECT value FROM json_each($1))"));

/// Letters with their status logs (as the JSON array `log`), chosen by `filter`.
fn select_letters(filter: &str) -> String {
    format!(
        "SELECT {letter},
            (SELECT json_group_array({status})
             FROM (SELECT {statuses} FROM correspondence_statuses
                   WHERE correspondence_id = c.id ORDER BY id)) AS log
         FROM correspondences c WHERE {filter}",
        letter = column_list("c.", LetterRow::COLUMNS),
        status = json_object_of(StatusRow::COLUMNS),
        statuses = column_list("", StatusRow::COLUMNS),
    )
}

/// A letter from a row of [`select_letters`].
fn letter_of(row: &sqlx::sqlite::SqliteRow) -> Result<Correspondence, StoreError> {
    let log: String = row.try_get("log").map_err(classify)?;
    let entries = serde_json::from_str::<Vec<StatusRow>>(&log)
        .map_err(corrupt)?
        .into_iter()
        .map(StatusRow::into_entry)
        .collect::<Result<Vec<_>, _>>()?;
    LetterRow::from_row(row)
        .map_err(classify)?
        .into_letter(StatusHistory::new(entries))
}

#[async_trait]
impl CorrespondenceStore for SqliteStore {
    async fn insert_letters_with_orders(
        &self,
        letters: &[Correspondence],
        attachments: &[Attachment],
        links: &[NewLink],
        orders: &[NotificationOrder],
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let rows = LetterRows::new(letters, orders, jobs)?;
        if attachments.is_empty() && links.is_empty() {
            // The common case goes to SQLite as one call: every statement crosses to sqlx's
            // worker thread and back, and those crossings were the largest cost of a create.
            return self
                .write(move |conn| {
                    Box::pin(async move {
                        // On success the statement has released its savepoint itself.
                        match rows.query(true).execute(&mut *conn).await {
                            Ok(_) => Ok(()),
                            Err(e) => {
                                end_savepoint(conn, "melding_letters", Err(classify(e))).await
                            }
                        }
                    })
                })
                .await;
        }
        let (attachments, links) = (attachments.to_vec(), links.to_vec());
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                for a in &attachments {
                    insert_attachment_in(&mut tx, a).await?;
                }
                rows.query(false)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                for (position, link) in links.iter().enumerate() {
                    insert_link(&mut tx, link, position).await?;
                }
                tx.commit().await.map_err(classify)
            })
        })
        .await
    }

    async fn correspondence(
        &self,
        id: CorrespondenceId,
    ) -> Result<Option<Correspondence>, StoreError> {
        sqlx::query(SELECT_LETTER.as_str())
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .as_ref()
            .map(letter_of)
            .transpose()
    }

    async fn correspondences(
        &self,
        ids: &[CorrespondenceId],
    ) -> Result<Vec<Correspondence>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows = sqlx::query(SELECT_LETTERS.as_str())
            .bind(serde_json::to_string(&wanted).map_err(corrupt)?)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        let letters = rows.iter().map(letter_of).collect::<Result<Vec<_>, _>>()?;
        Ok(melding_store::in_order_of(ids, letters))
    }

    async fn append_status(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
    ) -> Result<bool, StoreError> {
        let (entry, jobs) = (entry.clone(), jobs.to_vec());
        self.write(move |conn| Box::pin(append_status_in(conn, id, entry, guard, jobs)))
            .await
    }

    async fn purge_correspondence(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
        attachments: &[AttachmentPurge],
    ) -> Result<bool, StoreError> {
        let (entry, jobs, attachments) = (entry.clone(), jobs.to_vec(), attachments.to_vec());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::raw_sql("SAVEPOINT melding_purge")
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
                let outcome = purge_in(conn, id, entry, guard, jobs, &attachments).await;
                end_savepoint(conn, "melding_purge", outcome).await
            })
        })
        .await
    }

    async fn find_by_idempotent_key(
        &self,
        key: Uuid,
    ) -> Result<Option<CorrespondenceId>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(sql::SELECT_ID_BY_IDEMPOTENT_KEY)
            .bind(key.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        id.map(|s| s.parse().map_err(corrupt)).transpose()
    }

    async fn search(&self, q: &SearchQuery) -> Result<SearchPage, StoreError> {
        // The SQL is assembled from constant fragments only; every value is a bound parameter.
        let pre_publish = "(0, 1, 11)";
        let recipient_clause = match q.status {
            None => format!("(recipient = ?1 AND last_status NOT IN {pre_publish})"),
            Some(s) if matches!(s.value(), 0 | 1 | 11) => "(0 = 1)".to_owned(),
            Some(_) => "(recipient = ?1 AND EXISTS (SELECT 1 FROM correspondence_statuses s
                 WHERE s.correspondence_id = c.id AND s.status = ?2))"
                .to_owned(),
        };
        let sender_clause = match q.status {
            None => "(sender = ?3)".to_owned(),
            Some(_) => "(sender = ?3 AND EXISTS (SELECT 1 FROM correspondence_statuses s
                 WHERE s.correspondence_id = c.id AND s.status = ?2))"
                .to_owned(),
        };
        let who = match q.role {
            SearchRole::Recipient => recipient_clause,
            SearchRole::Sender => sender_clause,
            SearchRole::RecipientAndSender => format!("({recipient_clause} OR {sender_clause})"),
        };
        let sql = format!(
            "SELECT id, requested_publish_time FROM correspondences c
             WHERE resource_id = ?4 AND {who}
               AND (?5 IS NULL OR requested_publish_time > ?5)
               AND (?6 IS NULL OR requested_publish_time < ?6)
               AND (?7 IS NULL OR senders_reference = ?7)
               AND (?8 IS NULL OR requested_publish_time < ?8
                    OR (requested_publish_time = ?8 AND id < ?9))
             ORDER BY requested_publish_time DESC, id DESC
             LIMIT ?10"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(&q.party_urn)
            .bind(q.status.map(|s| s.value()))
            .bind(q.sender_org.as_deref().unwrap_or("\u{0}no-sender"))
            .bind(&q.resource_id)
            .bind(q.from.map(micros))
            .bind(q.to.map(micros))
            .bind(q.senders_reference.as_deref())
            .bind(q.after.map(|(t, _)| micros(t)))
            .bind(q.after.map(|(_, id)| id.to_string()))
            .bind(i64::from(q.limit) + 1)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        id_page(&rows, q.limit)
    }

    async fn unopened_confidential(
        &self,
        recipient_urn: &str,
        published_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CorrespondenceId>, StoreError> {
        let excluded = melding_store::opened_or_gone_sql();
        let sql = format!(
            "SELECT id FROM correspondences c
             WHERE recipient = ?1 AND is_confidential = 1
               AND published IS NOT NULL AND published <= ?2
               AND NOT EXISTS (SELECT 1 FROM correspondence_statuses s
                   WHERE s.correspondence_id = c.id AND s.status IN ({excluded}))
             ORDER BY published, id
             LIMIT ?3",
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(recipient_urn)
            .bind(micros(published_before))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id").map_err(classify)?;
                id.parse().map_err(corrupt)
            })
            .collect()
    }
}

/// New letters, their status logs and their jobs: three statements, each reading its rows
/// ([`LetterRow`], [`StatusRow`], [`NewJobRow`]) from one JSON array parameter (`$1`, `$2`,
/// `$3`), so the number of letters does not change the number of calls. With `orders`, a fourth
/// statement before the jobs' writes the letters' notification orders ([`OrderRow`]) from `$4`.
fn insert_letters_sql(orders: bool) -> String {
    let orders = if orders {
        format!(
            "{};\n",
            insert_from_json(OrderRow::TABLE, OrderRow::COLUMNS, "$4")
        )
    } else {
        String::new()
    };
    format!(
        "{};\n{};\n{orders}{};",
        insert_from_json(LetterRow::TABLE, LetterRow::COLUMNS, "$1"),
        insert_from_json(StatusRow::TABLE, StatusRow::COLUMNS, "$2"),
        insert_jobs("$3"),
    )
}

/// [`insert_letters_sql`] without orders.
static INSERT_LETTERS: LazyLock<String> = LazyLock::new(|| insert_letters_sql(false));

/// [`insert_letters_sql`] with orders.
static INSERT_LETTERS_WITH_ORDERS: LazyLock<String> = LazyLock::new(|| insert_letters_sql(true));

/// `statements` inside a savepoint of its own, in the same call.
fn in_savepoint(statements: &str) -> String {
    format!("SAVEPOINT melding_letters;\n{statements}\nRELEASE melding_letters;")
}

/// [`INSERT_LETTERS`] inside a savepoint of its own, in the same call.
static INSERT_LETTERS_IN_SAVEPOINT: LazyLock<String> =
    LazyLock::new(|| in_savepoint(INSERT_LETTERS.as_str()));

/// [`INSERT_LETTERS_WITH_ORDERS`] inside a savepoint of its own, in the same call.
static INSERT_LETTERS_WITH_ORDERS_IN_SAVEPOINT: LazyLock<String> =
    LazyLock::new(|| in_savepoint(INSERT_LETTERS_WITH_ORDERS.as_str()));

/// The JSON arrays [`insert_letters_sql`] reads; `orders` only when there are any.
struct LetterRows {
    letters: String,
    statuses: String,
    jobs: String,
    orders: Option<String>,
}

impl LetterRows {
    fn new(
        letters: &[Correspondence],
        orders: &[NotificationOrder],
        jobs: &[NewJob],
    ) -> Result<Self, StoreError> {
        let mut rows = Vec::with_capacity(letters.len());
        let mut statuses = Vec::new();
        for c in letters {
            rows.push(LetterRow::new(c)?);
            statuses.extend(c.statuses.entries().iter().map(|e| StatusRow::new(c.id, e)));
        }
        let jobs: Vec<NewJobRow> = jobs.iter().map(NewJobRow::new).collect();
        Ok(Self {
            letters: json_rows(&rows)?,
            statuses: json_rows(&statuses)?,
            jobs: json_rows(&jobs)?,
            orders: if orders.is_empty() {
                None
            } else {
                let rows = orders
                    .iter()
                    .map(OrderRow::new)
                    .collect::<Result<Vec<_>, _>>()?;
                Some(json_rows(&rows)?)
            },
        })
    }

    /// The statement that writes these rows: with the orders' insert when there are orders,
    /// `in_savepoint` wrapping it in a savepoint of its own.
    fn sql(&self, in_savepoint: bool) -> &'static str {
        match (self.orders.is_some(), in_savepoint) {
            (false, false) => INSERT_LETTERS.as_str(),
            (false, true) => INSERT_LETTERS_IN_SAVEPOINT.as_str(),
            (true, false) => INSERT_LETTERS_WITH_ORDERS.as_str(),
            (true, true) => INSERT_LETTERS_WITH_ORDERS_IN_SAVEPOINT.as_str(),
        }
    }

    /// [`Self::sql`] with the arrays bound.
    fn query(
        &self,
        in_savepoint: bool,
    ) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
        let q = sqlx::query(self.sql(in_savepoint))
            .bind(&self.letters)
            .bind(&self.statuses)
            .bind(&self.jobs);
        match &self.orders {
            Some(orders) => q.bind(orders),
            None => q,
        }
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(corrupt)
}

/// Appends a status inside the writer's transaction (as a savepoint of its own).
/// Appends `entry` unless `guard` blocks it: the guard, the log entry and the letter's latest
/// status (and publish time) are one call into SQLite, inside a savepoint that the jobs, if
/// any, join before it is released.
/// The letter's purge status, then its attachments that no live letter uses any more. The
/// writer runs one write at a time, so the attachments' check sees every other purge.
async fn purge_in(
    conn: &mut SqliteConnection,
    id: CorrespondenceId,
    entry: StatusEntry,
    guard: AppendGuard,
    jobs: Vec<NewJob>,
    attachments: &[AttachmentPurge],
) -> Result<bool, StoreError> {
    if !append_status_in(&mut *conn, id, entry, guard, jobs).await? {
        return Ok(false);
    }
    for purge in attachments {
        purge_unshared_in(&mut *conn, id, purge).await?;
    }
    Ok(true)
}

pub(crate) async fn append_status_in(
    conn: &mut SqliteConnection,
    id: CorrespondenceId,
    entry: StatusEntry,
    guard: AppendGuard,
    jobs: Vec<NewJob>,
) -> Result<bool, StoreError> {
    // ?1 letter, ?2 status, ?3 text, ?4 time, ?5 party, ?6 guard statuses, ?7 guard since.
    let allowed = match &guard {
        AppendGuard::Always => "1",
        AppendGuard::UnlessAny(_) => {
            "NOT EXISTS (SELECT 1 FROM correspondence_statuses
                         WHERE correspondence_id = ?1
                           AND status IN (SELECT value FROM json_each(?6)))"
        }
        AppendGuard::UnlessSameSince(_) => {
            "NOT EXISTS (SELECT 1 FROM correspondence_statuses
                         WHERE correspondence_id = ?1 AND status = ?2 AND party IS ?5
                           AND changed_at >= ?7)"
        }
    };
    // The UPDATE runs only when the INSERT wrote its row (`changes()` is the INSERT's count).
    // Whether it did is read from its RETURNING row: summed row counts would include the
    // SAVEPOINT's, which SQLite reports as the count of the connection's previous write.
    let sql = format!(
        "SAVEPOINT melding_append;
         INSERT INTO correspondence_statuses
             (correspondence_id, status, status_text, changed_at, party)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE {allowed}
         RETURNING 1;
         UPDATE correspondences
         SET last_status = ?2,
             published = CASE WHEN ?2 = {published} THEN coalesce(published, ?4)
                              ELSE published END
         WHERE id = ?1 AND ?2 <> {fetched} AND changes() = 1;",
        published = CorrespondenceStatus::Published.value(),
        fetched = CorrespondenceStatus::Fetched.value(),
    );
    let guard_statuses: Vec<i32> = match &guard {
        AppendGuard::UnlessAny(statuses) => statuses.iter().map(|s| s.value()).collect(),
        _ => Vec::new(),
    };
    let since = match &guard {
        AppendGuard::UnlessSameSince(t) => Some(micros(*t)),
        _ => None,
    };
    let row = StatusRow::new(id, &entry);
    let written = sqlx::query(AssertSqlSafe(sql))
        .bind(&row.correspondence_id)
        .bind(row.status)
        .bind(&row.status_text)
        .bind(row.changed_at)
        .bind(row.party.as_deref())
        .bind(serde_json::Value::from(guard_statuses).to_string())
        .bind(since)
        .fetch_all(&mut *conn)
        .await;
    let outcome = match written {
        Ok(returned) => {
            let appended = !returned.is_empty();
            let queued = if appended {
                enqueue(&mut *conn, &jobs).await
            } else {
                Ok(())
            };
            queued.map(|()| appended)
        }
        Err(e) => Err(classify(e)),
    };
    end_savepoint(conn, "melding_append", outcome).await
}

/// One page of letter ids from `rows` of `SELECT id, requested_publish_time …` read with a
/// limit of `limit + 1` (the API's search, the inbox).
pub(crate) fn id_page(
    rows: &[sqlx::sqlite::SqliteRow],
    limit: u32,
) -> Result<SearchPage, StoreError> {
    let rows = rows
        .iter()
        .map(|r| {
            let id: String = r.try_get("id").map_err(classify)?;
            let t: i64 = r.try_get("requested_publish_time").map_err(classify)?;
            Ok((id.parse().map_err(corrupt)?, from_micros(t)?))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(SearchPage::from_rows(rows, limit))
}
