//! Letters and their status logs on PostgreSQL.
//!
//! Each table is mapped in one place, by column name: [`LetterRow`] for `correspondences`
//! ([`LetterRow::new`] letter → row, [`LetterRow::into_letter`] row → letter) and [`StatusRow`]
//! for `correspondence_statuses` ([`StatusRow::new`], [`StatusRow::into_entry`]). The field names
//! of a row type are its columns: the bulk insert ([`INSERT_LETTERS`], one array per column,
//! `UNNEST`ed) and the select ([`SELECT_LETTER`], decoded by name) are generated from the row
//! type's declaration (`table_columns!`), so no order or type is kept by hand.
//!
//! A new field of a letter touches, on this backend:
//! 1. a migration adding the column (`migrations/`);
//! 2. the field with its column's type in [`LetterRow`] (which puts it in the insert and the
//!    select);
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
    SearchRole, StoreError, sql,
};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, FromRow, Postgres, Row};
use uuid::Uuid;

use crate::attachments::{insert_attachment_in, insert_link, purge_unshared_in};
use crate::codec::{column_list, insert_unnest, json_object_of, table_columns};
use crate::jobs::{NewJobColumns, enqueue, insert_jobs};
use crate::notifications::{OrderColumns, OrderRow};
use crate::{PostgresStore, classify, corrupt};

table_columns! {
    /// A row of `correspondences`: ids and keys as `uuid`, times as `timestamptz` (microseconds),
    /// JSON-valued columns as `jsonb`.
    #[derive(Debug, FromRow)]
    struct LetterRow in "correspondences", columns LetterColumns {
        id: Uuid as "uuid",
        resource_id: String as "text",
        recipient: String as "text",
        sender: String as "text",
        senders_reference: String as "text",
        message_sender: Option<String> as "text",
        language: String as "text",
        title: String as "text",
        summary: String as "text",
        body: String as "text",
        requested_publish_time: DateTime<Utc> as "timestamptz",
        due_date_time: Option<DateTime<Utc>> as "timestamptz",
        external_references: serde_json::Value as "jsonb",
        property_list: serde_json::Value as "jsonb",
        reply_options: serde_json::Value as "jsonb",
        ignore_reservation: Option<bool> as "boolean",
        is_confirmation_needed: bool as "boolean",
        is_confidential: bool as "boolean",
        allow_forwarding: bool as "boolean",
        /// Never printed (migration 0010).
        digital_only: bool as "boolean",
        idempotent_key: Option<Uuid> as "uuid",
        created: DateTime<Utc> as "timestamptz",
        published: Option<DateTime<Utc>> as "timestamptz",
        /// The latest status, Fetched excluded: what the recipient search filters on. Written
        /// from the letter's log; not read back (the log is).
        last_status: i32 as "integer",
    }
}

impl LetterRow {
    /// The row of letter `c`.
    fn new(c: &Correspondence) -> Result<Self, StoreError> {
        let s = &c.settings;
        Ok(Self {
            id: c.id.as_uuid(),
            resource_id: s.resource_id.to_string(),
            recipient: c.recipient.urn(),
            sender: s.sender.as_str().to_owned(),
            senders_reference: s.senders_reference.clone(),
            message_sender: s.message_sender.clone(),
            language: s.content.language.clone(),
            title: s.content.title.clone(),
            summary: s.content.summary.clone(),
            body: s.content.body.clone(),
            requested_publish_time: s.requested_publish_time,
            due_date_time: s.due_date_time,
            external_references: json(&s.external_references)?,
            property_list: json(&s.property_list)?,
            reply_options: json(&s.reply_options)?,
            ignore_reservation: s.ignore_reservation,
            is_confirmation_needed: s.is_confirmation_needed,
            is_confidential: s.is_confidential,
            allow_forwarding: s.allow_forwarding,
            digital_only: s.digital_only,
            idempotent_key: c.idempotent_key,
            created: c.created,
            published: c.published,
            last_status: c.statuses.latest().map_or(0, |e| e.status.value()),
        })
    }

    /// The letter this row holds, with its status log.
    fn into_letter(self, statuses: StatusHistory) -> Result<Correspondence, StoreError> {
        Ok(Correspondence {
            id: CorrespondenceId::from_uuid(self.id),
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
                requested_publish_time: self.requested_publish_time,
                due_date_time: self.due_date_time,
                external_references: serde_json::from_value(self.external_references)
                    .map_err(corrupt)?,
                property_list: serde_json::from_value(self.property_list).map_err(corrupt)?,
                reply_options: serde_json::from_value(self.reply_options).map_err(corrupt)?,
                ignore_reservation: self.ignore_reservation,
                is_confirmation_needed: self.is_confirmation_needed,
                is_confidential: self.is_confidential,
                allow_forwarding: self.allow_forwarding,
                digital_only: self.digital_only,
            },
            idempotent_key: self.idempotent_key,
            created: self.created,
            published: self.published,
            statuses,
        })
    }
}

table_columns! {
    /// A row of `correspondence_statuses`: one entry of a letter's log. Read back by
    /// [`SELECT_LETTER`] as JSON objects keyed by column name.
    #[derive(Debug, serde::Deserialize)]
    struct StatusRow in "correspondence_statuses", columns StatusColumns {
        correspondence_id: Uuid as "uuid",
        status: i32 as "integer",
        status_text: String as "text",
        changed_at: DateTime<Utc> as "timestamptz",
        party: Option<String> as "text",
    }
}

impl StatusRow {
    /// The row of entry `e` of letter `letter`'s log.
    fn new(letter: CorrespondenceId, e: &StatusEntry) -> Self {
        Self {
            correspondence_id: letter.as_uuid(),
            status: e.status.value(),
            status_text: e.text.clone(),
            changed_at: e.at,
            party: e.party.clone(),
        }
    }

    /// The log entry this row holds.
    fn into_entry(self) -> Result<StatusEntry, StoreError> {
        Ok(StatusEntry {
            status: CorrespondenceStatus::from_value(i64::from(self.status))
                .ok_or_else(|| StoreError::Corrupt(format!("status {}", self.status)))?,
            text: self.status_text,
            at: self.changed_at,
            party: self.party,
        })
    }
}

/// A letter and its status log in one statement, so one snapshot (and one round trip) serves
/// both: the letter's columns by name, and `log`, a JSON array of its [`StatusRow`]s as objects
/// keyed by column name, in log order (NULL when the log is empty). Binds `$1`, the letter's id.
static SELECT_LETTER: LazyLock<String> = LazyLock::new(|| select_letters("c.id = $1"));

/// The letters whose ids are in the array `$1`.
static SELECT_LETTERS: LazyLock<String> = LazyLock::new(|| select_letters("c.id = ANY($1)"));

/// Letters with their status logs (as the JSON array `log`), chosen by `filter`.
fn select_letters(filter: &str) -> String {
    format!(
        "SELECT {letter}, log.entries AS log
         FROM correspondences c
         CROSS JOIN LATERAL (
             SELECT json_agg({status} ORDER BY s.id) AS entries
             FROM correspondence_statuses s WHERE s.correspondence_id = c.id
         ) log
         WHERE {filter}",
        letter = column_list("c.", LetterRow::COLUMNS),
        status = json_object_of(StatusRow::COLUMNS),
    )
}

/// A letter from a row of [`select_letters`].
fn letter_of(row: &sqlx::postgres::PgRow) -> Result<Correspondence, StoreError> {
    let log: Option<Json<Vec<StatusRow>>> = row.try_get("log").map_err(classify)?;
    let entries = log
        .map_or_else(Vec::new, |l| l.0)
        .into_iter()
        .map(StatusRow::into_entry)
        .collect::<Result<Vec<_>, _>>()?;
    LetterRow::from_row(row)
        .map_err(classify)?
        .into_letter(StatusHistory::new(entries))
}

/// New letters, their status logs and their jobs, written by one statement whatever their
/// number: a data-modifying `WITH` clause per table, each `UNNEST`ing its rows' column arrays
/// ([`LetterColumns`] from `$1`, then [`StatusColumns`], then [`NewJobColumns`], then, with
/// `orders`, the notification orders' [`OrderColumns`]). A letter to 500 recipients costs one
/// round trip, not 2,000. Status rows are inserted in log order, so their identity column keeps
/// that order. (Foreign keys are checked at the end of the statement, so the orders may point
/// at letters written by the same statement.)
fn insert_letters_sql(orders: bool) -> String {
    let statuses = 1 + LetterColumns::SQL_TYPES.len();
    let jobs = statuses + StatusColumns::SQL_TYPES.len();
    let orders = if orders {
        format!(
            ", orders AS ({})",
            insert_unnest(
                OrderRow::TABLE,
                OrderRow::COLUMNS,
                OrderColumns::SQL_TYPES,
                jobs + NewJobColumns::SQL_TYPES.len()
            )
        )
    } else {
        String::new()
    };
    format!(
        "WITH letters AS ({}), log AS ({}), queued AS ({}){orders} SELECT 1",
        insert_unnest(
            LetterRow::TABLE,
            LetterRow::COLUMNS,
            LetterColumns::SQL_TYPES,
            1
        ),
        insert_unnest(
            StatusRow::TABLE,
            StatusRow::COLUMNS,
            StatusColumns::SQL_TYPES,
            statuses
        ),
        insert_jobs(jobs),
    )
}

/// [`insert_letters_sql`] without orders.
static INSERT_LETTERS: LazyLock<String> = LazyLock::new(|| insert_letters_sql(false));

/// [`insert_letters_sql`] with orders.
static INSERT_LETTERS_WITH_ORDERS: LazyLock<String> = LazyLock::new(|| insert_letters_sql(true));

/// Statuses a letter holds before it is visible to its recipient: Initialized, ReadyForPublish
/// and Failed. The recipient search never shows a letter whose latest status is one of these.
const PRE_PUBLISH: &str = "(0, 1, 11)";

#[async_trait]
impl CorrespondenceStore for PostgresStore {
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
            // The common case is one statement, so one round trip and one implicit transaction.
            rows.insert().execute(&self.pool).await.map_err(classify)?;
        } else {
            let mut tx = self.pool.begin().await.map_err(classify)?;
            for a in attachments {
                insert_attachment_in(&mut tx, a).await?;
            }
            rows.insert().execute(&mut *tx).await.map_err(classify)?;
            for (position, link) in links.iter().enumerate() {
                insert_link(&mut tx, link, position).await?;
            }
            tx.commit().await.map_err(classify)?;
        }
        if !jobs.is_empty() {
            self.jobs_enqueued();
        }
        Ok(())
    }

    async fn correspondence(
        &self,
        id: CorrespondenceId,
    ) -> Result<Option<Correspondence>, StoreError> {
        sqlx::query(SELECT_LETTER.as_str())
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
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
        let wanted: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
        let rows = sqlx::query(SELECT_LETTERS.as_str())
            .bind(&wanted)
            .fetch_all(&self.pool)
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
        if jobs.is_empty() {
            return append_query(id, entry, &guard)
                .fetch_one(&self.pool)
                .await
                .map_err(classify)?
                .ok_or(StoreError::NotFound);
        }
        let mut tx = self.pool.begin().await.map_err(classify)?;
        if !append_in(&mut tx, id, entry, &guard, jobs).await? {
            return Ok(false);
        }
        tx.commit().await.map_err(classify)?;
        self.jobs_enqueued();
        Ok(true)
    }

    async fn purge_correspondence(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
        attachments: &[AttachmentPurge],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        if !append_in(&mut tx, id, entry, &guard, jobs).await? {
            return Ok(false);
        }
        // The attachments are locked (in id order, so purges sharing some cannot deadlock)
        // before they are checked: of two letters sharing an attachment purged at once, the
        // second waits here for the first to commit and then sees that letter purged.
        let mut ids: Vec<Uuid> = attachments
            .iter()
            .map(|p| p.attachment_id.as_uuid())
            .collect();
        ids.sort();
        sqlx::query("SELECT 1 FROM attachments WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        let mut queued = !jobs.is_empty();
        for purge in attachments {
            if purge_unshared_in(&mut tx, id, purge).await? {
                queued |= !purge.jobs.is_empty();
            }
        }
        tx.commit().await.map_err(classify)?;
        if queued {
            self.jobs_enqueued();
        }
        Ok(true)
    }

    async fn find_by_idempotent_key(
        &self,
        key: Uuid,
    ) -> Result<Option<CorrespondenceId>, StoreError> {
        let id: Option<Uuid> = sqlx::query_scalar(sql::SELECT_ID_BY_IDEMPOTENT_KEY)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(id.map(CorrespondenceId::from_uuid))
    }

    async fn search(&self, q: &SearchQuery) -> Result<SearchPage, StoreError> {
        // The SQL is assembled from constant fragments only; every value is a bound parameter.
        // Every parameter is bound with its type, so a fragment may leave some unused.
        let recipient_clause = match q.status {
            None => format!("(recipient = $1 AND last_status NOT IN {PRE_PUBLISH})"),
            Some(s) if matches!(s.value(), 0 | 1 | 11) => "FALSE".to_owned(),
            Some(_) => "(recipient = $1 AND EXISTS (SELECT 1 FROM correspondence_statuses s
                 WHERE s.correspondence_id = c.id AND s.status = $2))"
                .to_owned(),
        };
        // A party that is not an organisation has sent nothing.
        let sender_clause = match q.status {
            None => "(sender = $3)".to_owned(),
            Some(_) => "(sender = $3 AND EXISTS (SELECT 1 FROM correspondence_statuses s
                 WHERE s.correspondence_id = c.id AND s.status = $2))"
                .to_owned(),
        };
        let who = match q.role {
            SearchRole::Recipient => recipient_clause,
            SearchRole::Sender => sender_clause,
            SearchRole::RecipientAndSender => format!("({recipient_clause} OR {sender_clause})"),
        };
        let sql = format!(
            "SELECT id, requested_publish_time FROM correspondences c
             WHERE resource_id = $4 AND {who}
               AND ($5::timestamptz IS NULL OR requested_publish_time > $5)
               AND ($6::timestamptz IS NULL OR requested_publish_time < $6)
               AND ($7::text IS NULL OR senders_reference = $7)
               AND ($8::timestamptz IS NULL OR requested_publish_time < $8
                    OR (requested_publish_time = $8 AND id < $9))
             ORDER BY requested_publish_time DESC, id DESC
             LIMIT $10"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(&q.party_urn)
            .bind(q.status.map(|s| s.value()))
            .bind(q.sender_org.as_deref())
            .bind(&q.resource_id)
            .bind(q.from)
            .bind(q.to)
            .bind(q.senders_reference.as_deref())
            .bind(q.after.map(|(t, _)| t))
            .bind(q.after.map(|(_, id)| id.as_uuid()))
            .bind(i64::from(q.limit) + 1)
            .fetch_all(&self.pool)
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
             WHERE recipient = $1 AND is_confidential
               AND published IS NOT NULL AND published <= $2
               AND NOT EXISTS (SELECT 1 FROM correspondence_statuses s
                   WHERE s.correspondence_id = c.id AND s.status IN ({excluded}))
             ORDER BY published, id
             LIMIT $3",
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(recipient_urn)
            .bind(published_before)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| {
                let id: Uuid = r.try_get("id").map_err(classify)?;
                Ok(CorrespondenceId::from_uuid(id))
            })
            .collect()
    }
}

/// The column arrays [`insert_letters_sql`] reads; `orders` only when there are any.
struct LetterRows {
    letters: LetterColumns,
    statuses: StatusColumns,
    jobs: NewJobColumns,
    orders: Option<OrderColumns>,
}

impl LetterRows {
    fn new(
        letters: &[Correspondence],
        orders: &[NotificationOrder],
        jobs: &[NewJob],
    ) -> Result<Self, StoreError> {
        let mut rows = LetterColumns::default();
        let mut statuses = StatusColumns::default();
        for c in letters {
            rows.push(LetterRow::new(c)?);
            for e in c.statuses.entries() {
                statuses.push(StatusRow::new(c.id, e));
            }
        }
        Ok(Self {
            letters: rows,
            statuses,
            jobs: NewJobColumns::of(jobs),
            orders: if orders.is_empty() {
                None
            } else {
                Some(OrderColumns::of(orders)?)
            },
        })
    }

    fn insert(&self) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
        let sql = match self.orders {
            Some(_) => INSERT_LETTERS_WITH_ORDERS.as_str(),
            None => INSERT_LETTERS.as_str(),
        };
        let query = self
            .jobs
            .bind(self.statuses.bind(self.letters.bind(sqlx::query(sql))));
        match &self.orders {
            Some(orders) => orders.bind(query),
            None => query,
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(corrupt)
}

/// Appends `entry` to letter `id` under `guard` in `tx` and, when it was appended, enqueues
/// `jobs` there too. Returns whether it was appended (false: the guard refused, nothing
/// written); an unknown letter is [`StoreError::NotFound`].
pub(crate) async fn append_in(
    tx: &mut sqlx::PgConnection,
    id: CorrespondenceId,
    entry: &StatusEntry,
    guard: &AppendGuard,
    jobs: &[NewJob],
) -> Result<bool, StoreError> {
    let appended = append_query(id, entry, guard)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?
        .ok_or(StoreError::NotFound)?;
    if appended {
        enqueue(tx, jobs).await?;
    }
    Ok(appended)
}

/// `melding_append_status` (migration 0005): locks the letter, checks the guard and writes, in
/// one round trip. NULL when there is no such letter.
pub(crate) fn append_query<'q>(
    id: CorrespondenceId,
    entry: &'q StatusEntry,
    guard: &AppendGuard,
) -> sqlx::query::QueryScalar<'q, Postgres, Option<bool>, sqlx::postgres::PgArguments> {
    let (unless_any, unless_same_since) = match guard {
        AppendGuard::Always => (None, None),
        AppendGuard::UnlessAny(statuses) => (
            Some(statuses.iter().map(|s| s.value()).collect::<Vec<i32>>()),
            None,
        ),
        AppendGuard::UnlessSameSince(since) => (None, Some(*since)),
    };
    let row = StatusRow::new(id, entry);
    sqlx::query_scalar::<_, Option<bool>>(
        "SELECT melding_append_status($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row.correspondence_id)
    .bind(row.status)
    .bind(row.status_text)
    .bind(row.changed_at)
    .bind(row.party)
    .bind(unless_any)
    .bind(unless_same_since)
    .bind(CorrespondenceStatus::Fetched.value())
    .bind(CorrespondenceStatus::Published.value())
}

/// One page of letter ids from `rows` of `SELECT id, requested_publish_time …` read with a
/// limit of `limit + 1` (the API's search, the inbox).
pub(crate) fn id_page(
    rows: &[sqlx::postgres::PgRow],
    limit: u32,
) -> Result<SearchPage, StoreError> {
    let rows = rows
        .iter()
        .map(|r| {
            let id: Uuid = r.try_get("id").map_err(classify)?;
            let t: DateTime<Utc> = r.try_get("requested_publish_time").map_err(classify)?;
            Ok((CorrespondenceId::from_uuid(id), t))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(SearchPage::from_rows(rows, limit))
}
