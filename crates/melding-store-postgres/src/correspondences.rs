use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::Attachment;
use melding_domain::correspondence::{Content, Correspondence, LetterSettings};
use melding_domain::{
    CorrespondenceId, CorrespondenceStatus, OrgNumber, Recipient, ResourceId, StatusEntry,
    StatusHistory,
};
use melding_store::{
    AppendGuard, AttachmentPurge, CorrespondenceStore, NewJob, NewLink, SearchPage, SearchQuery,
    SearchRole, StoreError,
};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres, Row};
use uuid::Uuid;

use crate::attachments::{insert_attachment_in, insert_link, purge_unshared_in};
use crate::jobs::enqueue;
use crate::{PostgresStore, classify, corrupt};

/// A letter and its status log in one statement, so one snapshot (and one round trip) serves
/// both: the log comes as parallel arrays in log order.
const SELECT_LETTER: &str = "SELECT c.id, resource_id, recipient, sender, senders_reference,
    message_sender, language, title, summary, body, requested_publish_time, due_date_time,
    external_references, property_list, reply_options, ignore_reservation,
    is_confirmation_needed, is_confidential, allow_forwarding, idempotent_key, created, published,
    log.statuses, log.texts, log.times, log.parties
    FROM correspondences c
    CROSS JOIN LATERAL (
        SELECT array_agg(status ORDER BY s.id) AS statuses,
               array_agg(status_text ORDER BY s.id) AS texts,
               array_agg(changed_at ORDER BY s.id) AS times,
               array_agg(party ORDER BY s.id) AS parties
        FROM correspondence_statuses s WHERE s.correspondence_id = c.id
    ) log
    WHERE c.id = $1";

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
        let rows = LetterRows::new(letters, jobs)?;
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
        let Some(row) = sqlx::query(SELECT_LETTER)
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
        else {
            return Ok(None);
        };
        letter_from_row(&row, status_log(&row)?).map(Some)
    }

    async fn append_status(
        &self,
        id: CorrespondenceId,
        entry: &StatusEntry,
        guard: AppendGuard,
        jobs: &[NewJob],
    ) -> Result<bool, StoreError> {
        let append = append_query(id, entry, &guard);
        if jobs.is_empty() {
            return append
                .fetch_one(&self.pool)
                .await
                .map_err(classify)?
                .ok_or(StoreError::NotFound);
        }
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let appended = append
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?
            .ok_or(StoreError::NotFound)?;
        if !appended {
            return Ok(false);
        }
        for job in jobs {
            enqueue(&mut tx, job).await?;
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
        let appended = append_query(id, entry, &guard)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?
            .ok_or(StoreError::NotFound)?;
        if !appended {
            return Ok(false);
        }
        for job in jobs {
            enqueue(&mut tx, job).await?;
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

/// New letters, their status logs and their jobs as column arrays, written by one statement
/// (`UNNEST` per table in data-modifying `WITH` clauses) whatever their number: a letter to 500
/// recipients costs one round trip, not 2,000.
#[derive(Default)]
struct LetterRows {
    id: Vec<Uuid>,
    resource_id: Vec<String>,
    recipient: Vec<String>,
    sender: Vec<String>,
    senders_reference: Vec<String>,
    message_sender: Vec<Option<String>>,
    language: Vec<String>,
    title: Vec<String>,
    summary: Vec<String>,
    body: Vec<String>,
    requested_publish_time: Vec<DateTime<Utc>>,
    due_date_time: Vec<Option<DateTime<Utc>>>,
    external_references: Vec<serde_json::Value>,
    property_list: Vec<serde_json::Value>,
    reply_options: Vec<serde_json::Value>,
    ignore_reservation: Vec<Option<bool>>,
    is_confirmation_needed: Vec<bool>,
    is_confidential: Vec<bool>,
    allow_forwarding: Vec<bool>,
    idempotent_key: Vec<Option<Uuid>>,
    created: Vec<DateTime<Utc>>,
    published: Vec<Option<DateTime<Utc>>>,
    last_status: Vec<i32>,
    // The status log, in log order (its identity column keeps that order).
    status_letter: Vec<Uuid>,
    status: Vec<i32>,
    status_text: Vec<String>,
    changed_at: Vec<DateTime<Utc>>,
    party: Vec<Option<String>>,
    // Jobs; a job whose dedupe key is taken is kept as it is.
    job_kind: Vec<String>,
    job_key: Vec<String>,
    job_letter: Vec<Option<Uuid>>,
    job_run_at: Vec<DateTime<Utc>>,
    job_max_attempts: Vec<i64>,
    job_payload: Vec<serde_json::Value>,
}

impl LetterRows {
    fn new(letters: &[Correspondence], jobs: &[NewJob]) -> Result<Self, StoreError> {
        let mut r = Self::default();
        for c in letters {
            let s = &c.settings;
            r.id.push(c.id.as_uuid());
            r.resource_id.push(s.resource_id.to_string());
            r.recipient.push(c.recipient.urn());
            r.sender.push(s.sender.as_str().to_owned());
            r.senders_reference.push(s.senders_reference.clone());
            r.message_sender.push(s.message_sender.clone());
            r.language.push(s.content.language.clone());
            r.title.push(s.content.title.clone());
            r.summary.push(s.content.summary.clone());
            r.body.push(s.content.body.clone());
            r.requested_publish_time.push(s.requested_publish_time);
            r.due_date_time.push(s.due_date_time);
            r.external_references.push(json(&s.external_references)?);
            r.property_list.push(json(&s.property_list)?);
            r.reply_options.push(json(&s.reply_options)?);
            r.ignore_reservation.push(s.ignore_reservation);
            r.is_confirmation_needed.push(s.is_confirmation_needed);
            r.is_confidential.push(s.is_confidential);
            r.allow_forwarding.push(s.allow_forwarding);
            r.idempotent_key.push(c.idempotent_key);
            r.created.push(c.created);
            r.published.push(c.published);
            // What the recipient search filters on.
            r.last_status
                .push(c.statuses.latest().map_or(0, |e| e.status.value()));
            for e in c.statuses.entries() {
                r.status_letter.push(c.id.as_uuid());
                r.status.push(e.status.value());
                r.status_text.push(e.text.clone());
                r.changed_at.push(e.at);
                r.party.push(e.party.clone());
            }
        }
        for j in jobs {
            r.job_kind.push(j.kind.clone());
            r.job_key.push(j.dedupe_key.clone());
            r.job_letter.push(j.correspondence_id.map(|c| c.as_uuid()));
            r.job_run_at.push(j.run_at);
            r.job_max_attempts.push(i64::from(j.max_attempts));
            r.job_payload.push(j.payload.clone());
        }
        Ok(r)
    }

    fn insert(&self) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(
            "WITH letters AS (
                INSERT INTO correspondences (id, resource_id, recipient, sender, senders_reference,
                    message_sender, language, title, summary, body, requested_publish_time,
                    due_date_time, external_references, property_list, reply_options,
                    ignore_reservation, is_confirmation_needed, is_confidential, allow_forwarding,
                    idempotent_key, created, published, last_status)
                SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                    $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                    $11::timestamptz[], $12::timestamptz[], $13::jsonb[], $14::jsonb[],
                    $15::jsonb[], $16::boolean[], $17::boolean[], $18::boolean[], $19::boolean[],
                    $20::uuid[], $21::timestamptz[], $22::timestamptz[], $23::integer[])
            ), log AS (
                INSERT INTO correspondence_statuses
                    (correspondence_id, status, status_text, changed_at, party)
                SELECT l, s, t, a, p
                FROM UNNEST($24::uuid[], $25::integer[], $26::text[], $27::timestamptz[],
                            $28::text[]) WITH ORDINALITY AS x(l, s, t, a, p, n)
                ORDER BY n
            ), queued AS (
                INSERT INTO jobs (kind, dedupe_key, correspondence_id, run_at, max_attempts,
                                  payload, created_at)
                SELECT k, d, c, r, m, p, r
                FROM UNNEST($29::text[], $30::text[], $31::uuid[], $32::timestamptz[],
                            $33::bigint[], $34::jsonb[]) AS x(k, d, c, r, m, p)
                ON CONFLICT (dedupe_key) DO NOTHING
            )
            SELECT 1",
        )
        .bind(&self.id)
        .bind(&self.resource_id)
        .bind(&self.recipient)
        .bind(&self.sender)
        .bind(&self.senders_reference)
        .bind(&self.message_sender)
        .bind(&self.language)
        .bind(&self.title)
        .bind(&self.summary)
        .bind(&self.body)
        .bind(&self.requested_publish_time)
        .bind(&self.due_date_time)
        .bind(&self.external_references)
        .bind(&self.property_list)
        .bind(&self.reply_options)
        .bind(&self.ignore_reservation)
        .bind(&self.is_confirmation_needed)
        .bind(&self.is_confidential)
        .bind(&self.allow_forwarding)
        .bind(&self.idempotent_key)
        .bind(&self.created)
        .bind(&self.published)
        .bind(&self.last_status)
        .bind(&self.status_letter)
        .bind(&self.status)
        .bind(&self.status_text)
        .bind(&self.changed_at)
        .bind(&self.party)
        .bind(&self.job_kind)
        .bind(&self.job_key)
        .bind(&self.job_letter)
        .bind(&self.job_run_at)
        .bind(&self.job_max_attempts)
        .bind(&self.job_payload)
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(corrupt)
}

/// The status log columns of [`SELECT_LETTER`], zipped back into entries.
fn status_log(r: &PgRow) -> Result<StatusHistory, StoreError> {
    let statuses: Vec<i32> = r
        .try_get::<Option<Vec<i32>>, _>("statuses")
        .map_err(classify)?
        .unwrap_or_default();
    let texts: Vec<String> = r
        .try_get::<Option<Vec<String>>, _>("texts")
        .map_err(classify)?
        .unwrap_or_default();
    let times: Vec<DateTime<Utc>> = r
        .try_get::<Option<Vec<DateTime<Utc>>>, _>("times")
        .map_err(classify)?
        .unwrap_or_default();
    let parties: Vec<Option<String>> = r
        .try_get::<Option<Vec<Option<String>>>, _>("parties")
        .map_err(classify)?
        .unwrap_or_default();
    if [texts.len(), times.len(), parties.len()] != [statuses.len(); 3] {
        return Err(StoreError::Corrupt(
            "status log arrays differ in length".into(),
        ));
    }
    let entries = statuses
        .into_iter()
        .zip(texts)
        .zip(times)
        .zip(parties)
        .map(|(((v, text), at), party)| {
            Ok(StatusEntry {
                status: CorrespondenceStatus::from_value(i64::from(v))
                    .ok_or_else(|| StoreError::Corrupt(format!("status {v}")))?,
                text,
                at,
                party,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(StatusHistory::new(entries))
}

fn letter_from_row(r: &PgRow, statuses: StatusHistory) -> Result<Correspondence, StoreError> {
    let get_s = |c: &str| r.try_get::<String, _>(c).map_err(classify);
    Ok(Correspondence {
        id: CorrespondenceId::from_uuid(r.try_get("id").map_err(classify)?),
        recipient: Recipient::from_urn(&get_s("recipient")?).map_err(corrupt)?,
        settings: LetterSettings {
            resource_id: ResourceId::parse(&get_s("resource_id")?).map_err(corrupt)?,
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

/// `melding_append_status` (migration 0005): locks the letter, checks the guard and writes, in
/// one round trip. NULL when there is no such letter.
fn append_query<'q>(
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
    sqlx::query_scalar::<_, Option<bool>>(
        "SELECT melding_append_status($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.as_uuid())
    .bind(entry.status.value())
    .bind(&entry.text)
    .bind(entry.at)
    .bind(entry.party.as_deref())
    .bind(unless_any)
    .bind(unless_same_since)
    .bind(CorrespondenceStatus::Fetched.value())
    .bind(CorrespondenceStatus::Published.value())
}
