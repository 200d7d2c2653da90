//! Forwarding events on SQLite (migration 0008; reference §4.12), mapped in one place by column
//! name: [`EventRow`] ([`EventRow::new`] event → row, [`EventRow::into_event`] row → event).
//! Times are microseconds since the Unix epoch (UTC). The unique key on the letter and the
//! address key makes a repeated or concurrent forward to one address a conflict.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::forwarding::{ForwardingEvent, ForwardingLink};
use melding_domain::{CorrespondenceId, EmailAddress, ForwardingEventId, StatusEntry};
use melding_store::sql::TableRow;
use melding_store::{AppendGuard, ForwardingStore, NewJob, StoreError, table_row};
use sqlx::{Connection, FromRow};

use crate::codec::{column_list, corrupt, from_micros, micros};
use crate::correspondences::append_status_in;
use crate::jobs::enqueue;
use crate::{SqliteStore, classify};

table_row! {
    /// A row of `forwarding_events`: ids as text, times as microseconds since the Unix epoch
    /// (UTC).
    #[derive(Debug, FromRow)]
    struct EventRow in "forwarding_events" {
        id: String,
        correspondence_id: String,
        forwarded_on: i64,
        forwarded_by: String,
        to_email: String,
        /// The address trimmed and lower-cased; unique with the letter.
        address_key: String,
        forwarding_text: Option<String>,
        sent: Option<i64>,
    }
}

impl EventRow {
    /// The row of `e`.
    fn new(e: &ForwardingEvent) -> Self {
        Self {
            id: e.id.to_string(),
            correspondence_id: e.correspondence_id.to_string(),
            forwarded_on: micros(e.forwarded_on),
            forwarded_by: e.forwarded_by.clone(),
            to_email: e.to_email.as_str().to_owned(),
            address_key: e.address_key(),
            forwarding_text: e.forwarding_text.clone(),
            sent: e.sent.map(micros),
        }
    }

    /// The event this row holds.
    fn into_event(self) -> Result<ForwardingEvent, StoreError> {
        Ok(ForwardingEvent {
            id: self.id.parse().map_err(corrupt)?,
            correspondence_id: self.correspondence_id.parse().map_err(corrupt)?,
            forwarded_on: from_micros(self.forwarded_on)?,
            forwarded_by: self.forwarded_by,
            to_email: EmailAddress::parse(&self.to_email).map_err(corrupt)?,
            forwarding_text: self.forwarding_text,
            sent: self.sent.map(from_micros).transpose()?,
        })
    }
}

static INSERT_EVENT: LazyLock<String> = LazyLock::new(melding_store::sql::insert_one::<EventRow>);

static SELECT_EVENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM {}",
        column_list("", EventRow::COLUMNS),
        EventRow::TABLE
    )
});

#[async_trait]
impl ForwardingStore for SqliteStore {
    async fn insert_forwarding_event(
        &self,
        event: &ForwardingEvent,
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let (row, jobs) = (EventRow::new(event), jobs.to_vec());
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                sqlx::query(INSERT_EVENT.as_str())
                    .bind(&row.id)
                    .bind(&row.correspondence_id)
                    .bind(row.forwarded_on)
                    .bind(&row.forwarded_by)
                    .bind(&row.to_email)
                    .bind(&row.address_key)
                    .bind(row.forwarding_text.as_deref())
                    .bind(row.sent)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                enqueue(&mut tx, &jobs).await?;
                tx.commit().await.map_err(classify)
            })
        })
        .await
    }

    async fn forwarding_event(
        &self,
        id: ForwardingEventId,
    ) -> Result<Option<ForwardingEvent>, StoreError> {
        let sql = format!("{} WHERE id = $1", SELECT_EVENTS.as_str());
        sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .map(EventRow::into_event)
            .transpose()
    }

    async fn forwarding_events(
        &self,
        letter: CorrespondenceId,
    ) -> Result<Vec<ForwardingEvent>, StoreError> {
        let sql = format!(
            "{} WHERE correspondence_id = $1 ORDER BY forwarded_on, id",
            SELECT_EVENTS.as_str()
        );
        sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(letter.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?
            .into_iter()
            .map(EventRow::into_event)
            .collect()
    }

    async fn mark_forwarding_sent(
        &self,
        id: ForwardingEventId,
        sent: DateTime<Utc>,
        entry: &StatusEntry,
    ) -> Result<bool, StoreError> {
        let entry = entry.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                let letter: Option<String> = sqlx::query_scalar(
                    "UPDATE forwarding_events SET sent = $2
                     WHERE id = $1 AND sent IS NULL
                     RETURNING correspondence_id",
                )
                .bind(id.to_string())
                .bind(micros(sent))
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                let Some(letter) = letter else {
                    let known: Option<i64> =
                        sqlx::query_scalar("SELECT 1 FROM forwarding_events WHERE id = $1")
                            .bind(id.to_string())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(classify)?;
                    return known.map(|_| false).ok_or(StoreError::NotFound);
                };
                let letter: CorrespondenceId = letter.parse().map_err(corrupt)?;
                append_status_in(&mut tx, letter, entry, AppendGuard::Always, Vec::new()).await?;
                tx.commit().await.map_err(classify)?;
                Ok(true)
            })
        })
        .await
    }

    async fn insert_forwarding_links(&self, links: &[ForwardingLink]) -> Result<(), StoreError> {
        if links.is_empty() {
            return Ok(());
        }
        let rows: Vec<LinkRow> = links.iter().map(LinkRow::new).collect();
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                for row in &rows {
                    sqlx::query(INSERT_LINK.as_str())
                        .bind(&row.token_hash)
                        .bind(&row.forwarding_event_id)
                        .bind(&row.correspondence_id)
                        .bind(&row.attachment_id)
                        .bind(row.created)
                        .bind(row.expires)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                tx.commit().await.map_err(classify)
            })
        })
        .await
    }

    async fn forwarding_link(
        &self,
        token_hash: &str,
    ) -> Result<Option<ForwardingLink>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE token_hash = $1",
            column_list("", LinkRow::COLUMNS),
            LinkRow::TABLE
        );
        sqlx::query_as::<_, LinkRow>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .map(LinkRow::into_link)
            .transpose()
    }
}

table_row! {
    /// A row of `forwarding_links` (migration 0011): ids as text, times as microseconds since
    /// the Unix epoch (UTC).
    #[derive(Debug, FromRow)]
    struct LinkRow in "forwarding_links" {
        /// The SHA-256 of the link's token, hex.
        token_hash: String,
        forwarding_event_id: String,
        correspondence_id: String,
        attachment_id: String,
        created: i64,
        expires: i64,
    }
}

impl LinkRow {
    /// The row of `l`.
    fn new(l: &ForwardingLink) -> Self {
        Self {
            token_hash: l.token_hash.clone(),
            forwarding_event_id: l.forwarding_event_id.to_string(),
            correspondence_id: l.correspondence_id.to_string(),
            attachment_id: l.attachment_id.to_string(),
            created: micros(l.created),
            expires: micros(l.expires),
        }
    }

    /// The link this row holds.
    fn into_link(self) -> Result<ForwardingLink, StoreError> {
        Ok(ForwardingLink {
            token_hash: self.token_hash,
            forwarding_event_id: self.forwarding_event_id.parse().map_err(corrupt)?,
            correspondence_id: self.correspondence_id.parse().map_err(corrupt)?,
            attachment_id: self.attachment_id.parse().map_err(corrupt)?,
            created: from_micros(self.created)?,
            expires: from_micros(self.expires)?,
        })
    }
}

static INSERT_LINK: LazyLock<String> = LazyLock::new(melding_store::sql::insert_one::<LinkRow>);
