//! Forwarding events on PostgreSQL (migration 0008; reference §4.12), mapped in one place by
//! column name: [`EventRow`] ([`EventRow::new`] event → row, [`EventRow::into_event`] row →
//! event). The unique key on the letter and the address key makes a repeated or concurrent
//! forward to one address a conflict; marking an event sent updates it only while `sent` is
//! null, so of two workers one appends the Forwarded status.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::forwarding::{ForwardingEvent, ForwardingLink};
use melding_domain::{
    AttachmentId, CorrespondenceId, EmailAddress, ForwardingEventId, StatusEntry,
};
use melding_store::sql::TableRow;
use melding_store::{AppendGuard, ForwardingStore, NewJob, StoreError, table_row};
use sqlx::FromRow;
use uuid::Uuid;

use crate::codec::column_list;
use crate::correspondences::append_query;
use crate::jobs::enqueue;
use crate::{PostgresStore, classify, corrupt};

table_row! {
    /// A row of `forwarding_events`: ids as `uuid`, times as `timestamptz`.
    #[derive(Debug, FromRow)]
    struct EventRow in "forwarding_events" {
        id: Uuid,
        correspondence_id: Uuid,
        forwarded_on: DateTime<Utc>,
        forwarded_by: String,
        to_email: String,
        /// The address trimmed and lower-cased; unique with the letter.
        address_key: String,
        forwarding_text: Option<String>,
        sent: Option<DateTime<Utc>>,
    }
}

impl EventRow {
    /// The row of `e`.
    fn new(e: &ForwardingEvent) -> Self {
        Self {
            id: e.id.as_uuid(),
            correspondence_id: e.correspondence_id.as_uuid(),
            forwarded_on: e.forwarded_on,
            forwarded_by: e.forwarded_by.clone(),
            to_email: e.to_email.as_str().to_owned(),
            address_key: e.address_key(),
            forwarding_text: e.forwarding_text.clone(),
            sent: e.sent,
        }
    }

    /// The event this row holds.
    fn into_event(self) -> Result<ForwardingEvent, StoreError> {
        Ok(ForwardingEvent {
            id: ForwardingEventId::from_uuid(self.id),
            correspondence_id: CorrespondenceId::from_uuid(self.correspondence_id),
            forwarded_on: self.forwarded_on,
            forwarded_by: self.forwarded_by,
            to_email: EmailAddress::parse(&self.to_email).map_err(corrupt)?,
            forwarding_text: self.forwarding_text,
            sent: self.sent,
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
impl ForwardingStore for PostgresStore {
    async fn insert_forwarding_event(
        &self,
        event: &ForwardingEvent,
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let row = EventRow::new(event);
        let mut tx = self.pool.begin().await.map_err(classify)?;
        sqlx::query(INSERT_EVENT.as_str())
            .bind(row.id)
            .bind(row.correspondence_id)
            .bind(row.forwarded_on)
            .bind(&row.forwarded_by)
            .bind(&row.to_email)
            .bind(&row.address_key)
            .bind(row.forwarding_text.as_deref())
            .bind(row.sent)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        enqueue(&mut tx, jobs).await?;
        tx.commit().await.map_err(classify)?;
        if !jobs.is_empty() {
            self.jobs_enqueued();
        }
        Ok(())
    }

    async fn forwarding_event(
        &self,
        id: ForwardingEventId,
    ) -> Result<Option<ForwardingEvent>, StoreError> {
        let sql = format!("{} WHERE id = $1", SELECT_EVENTS.as_str());
        sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
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
            .bind(letter.as_uuid())
            .fetch_all(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let letter: Option<Uuid> = sqlx::query_scalar(
            "UPDATE forwarding_events SET sent = $2
             WHERE id = $1 AND sent IS NULL
             RETURNING correspondence_id",
        )
        .bind(id.as_uuid())
        .bind(sent)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(letter) = letter else {
            let known: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM forwarding_events WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
            return known.map(|_| false).ok_or(StoreError::NotFound);
        };
        append_query(
            CorrespondenceId::from_uuid(letter),
            entry,
            &AppendGuard::Always,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?
        .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn insert_forwarding_links(&self, links: &[ForwardingLink]) -> Result<(), StoreError> {
        if links.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(classify)?;
        for row in links.iter().map(LinkRow::new) {
            sqlx::query(INSERT_LINK.as_str())
                .bind(&row.token_hash)
                .bind(row.forwarding_event_id)
                .bind(row.correspondence_id)
                .bind(row.attachment_id)
                .bind(row.created)
                .bind(row.expires)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
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
        Ok(sqlx::query_as::<_, LinkRow>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .map(LinkRow::into_link))
    }
}

table_row! {
    /// A row of `forwarding_links` (migration 0011): ids as `uuid`, times as `timestamptz`.
    #[derive(Debug, FromRow)]
    struct LinkRow in "forwarding_links" {
        /// The SHA-256 of the link's token, hex.
        token_hash: String,
        forwarding_event_id: Uuid,
        correspondence_id: Uuid,
        attachment_id: Uuid,
        created: DateTime<Utc>,
        expires: DateTime<Utc>,
    }
}

impl LinkRow {
    /// The row of `l`.
    fn new(l: &ForwardingLink) -> Self {
        Self {
            token_hash: l.token_hash.clone(),
            forwarding_event_id: l.forwarding_event_id.as_uuid(),
            correspondence_id: l.correspondence_id.as_uuid(),
            attachment_id: l.attachment_id.as_uuid(),
            created: l.created,
            expires: l.expires,
        }
    }

    /// The link this row holds.
    fn into_link(self) -> ForwardingLink {
        ForwardingLink {
            token_hash: self.token_hash,
            forwarding_event_id: ForwardingEventId::from_uuid(self.forwarding_event_id),
            correspondence_id: CorrespondenceId::from_uuid(self.correspondence_id),
            attachment_id: AttachmentId::from_uuid(self.attachment_id),
            created: self.created,
            expires: self.expires,
        }
    }
}

static INSERT_LINK: LazyLock<String> = LazyLock::new(melding_store::sql::insert_one::<LinkRow>);
