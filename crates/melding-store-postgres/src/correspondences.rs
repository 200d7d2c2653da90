use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::Attachment;
use melding_domain::correspondence::{Content, Correspondence, LetterSettings};
use melding_domain::{
    CorrespondenceId, CorrespondenceStatus, OrgNumber, StatusEntry, StatusHistory,
};
use melding_store::{
    AppendGuard, CorrespondenceStore, NewJob, NewLink, SearchPage, SearchQuery, SearchRole,
    StoreError,
};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};
use uuid::Uuid;

use crate::attachments::{insert_attachment_in, insert_link};
use crate::jobs::enqueue;
use crate::{PostgresStore, classify, corrupt};

const SELECT_LETTER: &str = "SELECT id, resource_id, recipient, sender, senders_reference,
    message_sender, language, title, summary, body, requested_publish_time, due_date_time,
    external_references, property_list, reply_options, ignore_reservation,
    is_confirmation_needed, is_confidential, allow_forwarding, idempotent_key, created, published
    FROM correspondences WHERE id = $1";

/// Statuses a letter holds before it is visible to its recipient: Initialized, ReadyForPublish
/// and Failed. The recipient search never shows a letter whose latest status is one of these.
const PRE_PUBLISH: &str = "(0, 1, 11)";

#[async_trait]
impl CorrespondenceStore for PostgresStore {
    async fn insert_letters(
        &self,
        letters: &[Correspondence],
        attachments: &[Attachment],
        links: &[NewLink],
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        for c in letters {
            insert_letter(&mut tx, c).await?;
        }
        for a in attachments {
            insert_attachment_in(&mut tx, a).await?;
        }
        for (position, link) in links.iter().enumerate() {
            insert_link(&mut tx, link, position).await?;
        }
        for job in jobs {
            enqueue(&mut tx, job).await?;
        }
        tx.commit().await.map_err(classify)
    }

    async fn correspondence(
        &self,
        id: CorrespondenceId,
    ) -> Result<Option<Correspondence>, StoreError> {
        // One snapshot for the letter and its log, so a concurrent append is seen whole or not.
        let mut tx = self.pool.begin().await.map_err(classify)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let Some(row) = sqlx::query(SELECT_LETTER)
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?
        else {
            return Ok(None);
        };
        let statuses = sqlx::query(
            "SELECT status, status_text, changed_at, party FROM correspondence_statuses
             WHERE correspondence_id = $1 ORDER BY id",
        )
        .bind(id.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?
        .iter()
        .map(status_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await.map_err(classify)?;
        letter_from_row(&row, StatusHistory::new(statuses)).map(Some)
    }

    async fn append_status(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        // Serialise appends to this letter: the guard below is evaluated by one transaction at
        // a time, and sees every status committed before it.
        let locked = sqlx::query("SELECT 1 FROM correspondences WHERE id = $1 FOR UPDATE")
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        let blocked: bool = match &guard {
            AppendGuard::Always => false,
            AppendGuard::UnlessAny(statuses) => {
                let values: Vec<i32> = statuses.iter().map(|s| s.value()).collect();
                sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM correspondence_statuses
                     WHERE correspondence_id = $1 AND status = ANY($2))",
                )
                .bind(id.as_uuid())
                .bind(values)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?
            }
            AppendGuard::UnlessSameSince(since) => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM correspondence_statuses
                 WHERE correspondence_id = $1 AND status = $2
                   AND party IS NOT DISTINCT FROM $3 AND changed_at >= $4)",
            )
            .bind(id.as_uuid())
            .bind(entry.status.value())
            .bind(entry.party.as_deref())
            .bind(*since)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?,
        };
        if blocked {
            return Ok(false);
        }
        insert_status(&mut tx, id.as_uuid(), entry).await?;
        if entry.status == CorrespondenceStatus::Published {
            sqlx::query(
                "UPDATE correspondences SET published = $1 WHERE id = $2 AND published IS NULL",
            )
            .bind(entry.at)
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        for job in jobs {
            enqueue(&mut tx, job).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn find_by_idempotent_key(
        &self,
        key: Uuid,
    ) -> Result<Option<CorrespondenceId>, StoreError> {
        let id: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM correspondences WHERE idempotent_key = $1")
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
        let mut page: Vec<(CorrespondenceId, DateTime<Utc>)> = rows
            .iter()
            .map(|r| {
                let id: Uuid = r.try_get("id").map_err(classify)?;
                let t: DateTime<Utc> = r.try_get("requested_publish_time").map_err(classify)?;
                Ok((CorrespondenceId::from_uuid(id), t))
            })
            .collect::<Result<_, StoreError>>()?;
        let full = page.len() > q.limit as usize;
        page.truncate(q.limit as usize);
        let next = match (full, page.last()) {
            (true, Some((id, t))) => Some((*t, *id)),
            _ => None,
        };
        Ok(SearchPage {
            ids: page.into_iter().map(|(id, _)| id).collect(),
            next,
        })
    }
}

async fn insert_letter(
    tx: &mut Transaction<'static, Postgres>,
    c: &Correspondence,
) -> Result<(), StoreError> {
    let s = &c.settings;
    let last = c.statuses.latest().map(|e| e.status.value()).unwrap_or(0);
    sqlx::query(
        "INSERT INTO correspondences (id, resource_id, recipient, sender, senders_reference,
            message_sender, language, title, summary, body, requested_publish_time, due_date_time,
            external_references, property_list, reply_options, ignore_reservation,
            is_confirmation_needed, is_confidential, allow_forwarding, idempotent_key, created,
            published, last_status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23)",
    )
    .bind(c.id.as_uuid())
    .bind(&s.resource_id)
    .bind(&c.recipient)
    .bind(s.sender.as_str())
    .bind(&s.senders_reference)
    .bind(s.message_sender.as_deref())
    .bind(&s.content.language)
    .bind(&s.content.title)
    .bind(&s.content.summary)
    .bind(&s.content.body)
    .bind(s.requested_publish_time)
    .bind(s.due_date_time)
    .bind(Json(&s.external_references))
    .bind(Json(&s.property_list))
    .bind(Json(&s.reply_options))
    .bind(s.ignore_reservation)
    .bind(s.is_confirmation_needed)
    .bind(s.is_confidential)
    .bind(s.allow_forwarding)
    .bind(c.idempotent_key)
    .bind(c.created)
    .bind(c.published)
    .bind(last)
    .execute(&mut **tx)
    .await
    .map_err(classify)?;
    for entry in c.statuses.entries() {
        insert_status(tx, c.id.as_uuid(), entry).await?;
    }
    Ok(())
}

/// Writes one log entry and, unless it is Fetched, makes it the letter's latest status.
async fn insert_status(
    tx: &mut Transaction<'static, Postgres>,
    id: Uuid,
    entry: &StatusEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO correspondence_statuses (correspondence_id, status, status_text, changed_at, party)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(entry.status.value())
    .bind(&entry.text)
    .bind(entry.at)
    .bind(entry.party.as_deref())
    .execute(&mut **tx)
    .await
    .map_err(classify)?;
    if entry.status != CorrespondenceStatus::Fetched {
        sqlx::query("UPDATE correspondences SET last_status = $1 WHERE id = $2")
            .bind(entry.status.value())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(classify)?;
    }
    Ok(())
}

fn status_from_row(r: &PgRow) -> Result<StatusEntry, StoreError> {
    let v: i32 = r.try_get("status").map_err(classify)?;
    Ok(StatusEntry {
        status: CorrespondenceStatus::from_value(i64::from(v))
            .ok_or_else(|| StoreError::Corrupt(format!("status {v}")))?,
        text: r.try_get("status_text").map_err(classify)?,
        at: r.try_get("changed_at").map_err(classify)?,
        party: r.try_get("party").map_err(classify)?,
    })
}

fn letter_from_row(r: &PgRow, statuses: StatusHistory) -> Result<Correspondence, StoreError> {
    let get_s = |c: &str| r.try_get::<String, _>(c).map_err(classify);
    Ok(Correspondence {
        id: CorrespondenceId::from_uuid(r.try_get("id").map_err(classify)?),
        recipient: get_s("recipient")?,
        settings: LetterSettings {
            resource_id: get_s("resource_id")?,
            sender: OrgNumber::parse(&get_s("sender")?).map_err(corrupt)?,
            senders_reference: get_s("senders_reference")?,
            message_sender: r.try_get("message_sender").map_err(classify)?,
            content: Content {
                language: get_s("language")?,
                title: get_s("title")?,
                summary: get_s("summary")?,
                body: get_s("body")?,
            },
            requested_publish_time: r.try_get("requested_publish_time").map_err(classify)?,
            due_date_time: r.try_get("due_date_time").map_err(classify)?,
            external_references: r
                .try_get::<Json<_>, _>("external_references")
                .map_err(classify)?
                .0,
            property_list: r
                .try_get::<Json<_>, _>("property_list")
                .map_err(classify)?
                .0,
            reply_options: r
                .try_get::<Json<_>, _>("reply_options")
                .map_err(classify)?
                .0,
            ignore_reservation: r.try_get("ignore_reservation").map_err(classify)?,
            is_confirmation_needed: r.try_get("is_confirmation_needed").map_err(classify)?,
            is_confidential: r.try_get("is_confidential").map_err(classify)?,
            allow_forwarding: r.try_get("allow_forwarding").map_err(classify)?,
        },
        idempotent_key: r.try_get("idempotent_key").map_err(classify)?,
        created: r.try_get("created").map_err(classify)?,
        published: r.try_get("published").map_err(classify)?,
        statuses,
    })
}
