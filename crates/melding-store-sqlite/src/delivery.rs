//! Receipt trails on SQLite (migration 0009; `reference/delivery-chain.md` §3.4). Every write
//! goes through the one writer connection, so a guarded append and a Read racing it never
//! interleave: whichever is written second sees the first.

use async_trait::async_trait;
use melding_domain::{CorrespondenceId, DeliveryEvent, ReceiptStatus};
use melding_store::{DeliveryStore, NewJob, StoreError, trails_by_letter};
use sqlx::{Connection, FromRow};

use crate::codec::{corrupt, from_micros, micros};
use crate::jobs::enqueue;
use crate::{SqliteStore, classify};

/// A row of `delivery_events`, as read back: ids as text, times as microseconds since the Unix
/// epoch (UTC).
#[derive(Debug, FromRow)]
struct EventRow {
    correspondence_id: String,
    status: String,
    at: i64,
    event_text: String,
    details: Option<String>,
}

impl EventRow {
    fn into_event(self) -> Result<(CorrespondenceId, DeliveryEvent), StoreError> {
        Ok((
            self.correspondence_id.parse().map_err(corrupt)?,
            DeliveryEvent {
                status: self.status.parse().map_err(corrupt)?,
                at: from_micros(self.at)?,
                text: self.event_text,
                details: self.details,
            },
        ))
    }
}

const SELECT_EVENTS: &str =
    "SELECT correspondence_id, status, at, event_text, details FROM delivery_events";

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn append_delivery_event(
        &self,
        id: CorrespondenceId,
        event: &DeliveryEvent,
        unless: &[ReceiptStatus],
        unless_altinn: &[i32],
        jobs: &[NewJob],
    ) -> Result<bool, StoreError> {
        let unless = serde_json::to_string(&unless.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            .map_err(corrupt)?;
        let unless_altinn = serde_json::to_string(unless_altinn).map_err(corrupt)?;
        let (event, jobs) = (event.clone(), jobs.to_vec());
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                let known: Option<i64> =
                    sqlx::query_scalar("SELECT 1 FROM correspondences WHERE id = ?1")
                        .bind(id.to_string())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(classify)?;
                if known.is_none() {
                    return Err(StoreError::NotFound);
                }
                let blocked: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM delivery_events
                                    WHERE correspondence_id = ?1
                                      AND status IN (SELECT value FROM json_each(?2)))
                         OR EXISTS (SELECT 1 FROM correspondence_statuses
                                    WHERE correspondence_id = ?1
                                      AND status IN (SELECT value FROM json_each(?3)))",
                )
                .bind(id.to_string())
                .bind(&unless)
                .bind(&unless_altinn)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
                if blocked {
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO delivery_events
                         (correspondence_id, status, at, event_text, details)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .bind(id.to_string())
                .bind(event.status.as_str())
                .bind(micros(event.at))
                .bind(&event.text)
                .bind(event.details.as_deref())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                enqueue(&mut tx, &jobs).await?;
                tx.commit().await.map_err(classify)?;
                Ok(true)
            })
        })
        .await
    }

    async fn delivery_events(
        &self,
        id: CorrespondenceId,
    ) -> Result<Vec<DeliveryEvent>, StoreError> {
        let sql = format!("{SELECT_EVENTS} WHERE correspondence_id = ?1 ORDER BY at, id");
        sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?
            .into_iter()
            .map(|row| row.into_event().map(|(_, event)| event))
            .collect()
    }

    async fn erase_letter_content(&self, id: CorrespondenceId) -> Result<bool, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let changed = sqlx::query(
                    "UPDATE correspondences
                     SET title = '', summary = '', body = '', property_list = '{}'
                     WHERE id = ?1
                       AND (title <> '' OR summary <> '' OR body <> '' OR property_list <> '{}')",
                )
                .bind(id.to_string())
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected();
                if changed > 0 {
                    return Ok(true);
                }
                let known: Option<i64> =
                    sqlx::query_scalar("SELECT 1 FROM correspondences WHERE id = ?1")
                        .bind(id.to_string())
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(classify)?;
                known.map(|_| false).ok_or(StoreError::NotFound)
            })
        })
        .await
    }

    async fn awaiting_operator(
        &self,
        limit: u32,
    ) -> Result<Vec<(CorrespondenceId, DeliveryEvent)>, StoreError> {
        const SQL: &str = "SELECT d.correspondence_id, d.status, d.at, d.event_text, d.details
             FROM delivery_events d
             WHERE d.status = 'TIL_MANUELL_HANDTERING'
               AND NOT EXISTS (SELECT 1 FROM delivery_events e
                               WHERE e.correspondence_id = d.correspondence_id
                                 AND e.status = 'MANUELT_HANDTERT')
             ORDER BY d.at, d.id
             LIMIT ?1";
        sqlx::query_as::<_, EventRow>(SQL)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?
            .into_iter()
            .map(EventRow::into_event)
            .collect()
    }

    async fn delivery_events_of(
        &self,
        ids: &[CorrespondenceId],
    ) -> Result<Vec<(CorrespondenceId, Vec<DeliveryEvent>)>, StoreError> {
        let ids = serde_json::to_string(&ids.iter().map(|id| id.to_string()).collect::<Vec<_>>())
            .map_err(corrupt)?;
        let sql = format!(
            "{SELECT_EVENTS} WHERE correspondence_id IN (SELECT value FROM json_each(?1))
             ORDER BY correspondence_id, at, id"
        );
        let rows = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(ids)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        trails_by_letter(rows.into_iter().map(EventRow::into_event))
    }
}
