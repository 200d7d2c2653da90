use async_trait::async_trait;
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
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Connection, Row, SqliteConnection};
use uuid::Uuid;

use crate::attachments::{insert_attachment_in, insert_link, purge_unshared_in};
use crate::codec::{corrupt, from_micros, micros};
use crate::jobs::enqueue;
use crate::writer::end_savepoint;
use crate::{SqliteStore, classify};

/// A letter and its status log in one statement, so one snapshot (and one call into SQLite)
/// serves both: the log comes as a JSON array of `[status, text, micros, party]` in log order.
const SELECT_LETTER: &str = "SELECT id, resource_id, recipient, sender, senders_reference,
    message_sender, language, title, summary, body, requested_publish_time, due_date_time,
    external_references, property_list, reply_options, ignore_reservation,
    is_confirmation_needed, is_confidential, allow_forwarding, idempotent_key, created, published,
    (SELECT json_group_array(json_array(status, status_text, changed_at, party))
       FROM (SELECT status, status_text, changed_at, party FROM correspondence_statuses
             WHERE correspondence_id = c.id ORDER BY id)) AS log
    FROM correspondences c WHERE id = ?";

#[async_trait]
impl CorrespondenceStore for SqliteStore {
    async fn insert_letters(
        &self,
        letters: &[Correspondence],
        attachments: &[Attachment],
        links: &[NewLink],
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let rows = LetterRows::new(letters, jobs)?;
        if attachments.is_empty() && links.is_empty() {
            // The common case goes to SQLite as one call: every statement crosses to sqlx's
            // worker thread and back, and those crossings were the largest cost of a create.
            return self
                .write(move |conn| {
                    Box::pin(async move {
                        // On success the statement has released its savepoint itself.
                        match rows
                            .bind(sqlx::query(INSERT_LETTERS_IN_SAVEPOINT))
                            .execute(&mut *conn)
                            .await
                        {
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
                rows.bind(sqlx::query(INSERT_LETTERS))
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
        let Some(row) = sqlx::query(SELECT_LETTER)
            .bind(id.to_string())
            .fetch_optional(&self.reader)
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
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM correspondences WHERE idempotent_key = ?")
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
        let mut page: Vec<(CorrespondenceId, i64)> = rows
            .iter()
            .map(|r| {
                let id: String = r.try_get("id").map_err(classify)?;
                let t: i64 = r.try_get("requested_publish_time").map_err(classify)?;
                Ok((id.parse().map_err(corrupt)?, t))
            })
            .collect::<Result<_, StoreError>>()?;
        let full = page.len() > q.limit as usize;
        page.truncate(q.limit as usize);
        let next = match (full, page.last()) {
            (true, Some((id, t))) => Some((from_micros(*t)?, *id)),
            _ => None,
        };
        Ok(SearchPage {
            ids: page.into_iter().map(|(id, _)| id).collect(),
            next,
        })
    }
}

/// New letters, their status logs and their jobs: three statements, each reading its rows
/// from one JSON array parameter, so the number of letters does not change the number of calls.
macro_rules! insert_letters_sql {
    () => {
        "
        INSERT INTO correspondences (id, resource_id, recipient, sender, senders_reference,
            message_sender, language, title, summary, body, requested_publish_time,
            due_date_time, external_references, property_list, reply_options,
            ignore_reservation, is_confirmation_needed, is_confidential, allow_forwarding,
            idempotent_key, created, published, last_status)
        SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
            value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11,
            value ->> 12, value ->> 13, value ->> 14, value ->> 15, value ->> 16, value ->> 17,
            value ->> 18, value ->> 19, value ->> 20, value ->> 21, value ->> 22
        FROM json_each(?1) ORDER BY key;
        INSERT INTO correspondence_statuses
            (correspondence_id, status, status_text, changed_at, party)
        SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4
        FROM json_each(?2) ORDER BY key;
        INSERT INTO jobs (kind, dedupe_key, correspondence_id, run_at, max_attempts, payload,
            created_at)
        SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
            value ->> 3
        FROM json_each(?3) WHERE true ORDER BY key
        ON CONFLICT (dedupe_key) DO NOTHING;
        "
    };
}

const INSERT_LETTERS: &str = insert_letters_sql!();

/// [`INSERT_LETTERS`] inside a savepoint of its own, in the same call.
const INSERT_LETTERS_IN_SAVEPOINT: &str = concat!(
    "SAVEPOINT melding_letters;",
    insert_letters_sql!(),
    "RELEASE melding_letters;"
);

/// The three JSON arrays [`INSERT_LETTERS`] reads. JSON-valued columns travel as strings, so
/// they are stored exactly as serialised here; booleans as 0/1, times as microseconds.
struct LetterRows {
    letters: String,
    statuses: String,
    jobs: String,
}

impl LetterRows {
    fn new(letters: &[Correspondence], jobs: &[NewJob]) -> Result<Self, StoreError> {
        use serde_json::{Value, json};
        let mut rows = Vec::with_capacity(letters.len());
        let mut statuses = Vec::new();
        for c in letters {
            let s = &c.settings;
            let id = c.id.to_string();
            rows.push(json!([
                id,
                s.resource_id.as_str(),
                c.recipient.urn(),
                s.sender.as_str(),
                s.senders_reference,
                s.message_sender,
                s.content.language,
                s.content.title,
                s.content.summary,
                s.content.body,
                micros(s.requested_publish_time),
                s.due_date_time.map(micros),
                json_text(&s.external_references)?,
                json_text(&s.property_list)?,
                json_text(&s.reply_options)?,
                s.ignore_reservation.map(i64::from),
                i64::from(s.is_confirmation_needed),
                i64::from(s.is_confidential),
                i64::from(s.allow_forwarding),
                c.idempotent_key.map(|k| k.to_string()),
                micros(c.created),
                c.published.map(micros),
                c.statuses.latest().map_or(0, |e| e.status.value()),
            ]));
            for e in c.statuses.entries() {
                statuses.push(json!([id, e.status.value(), e.text, micros(e.at), e.party]));
            }
        }
        let jobs: Vec<Value> = jobs
            .iter()
            .map(|j| {
                json!([
                    j.kind,
                    j.dedupe_key,
                    j.correspondence_id.map(|c| c.to_string()),
                    micros(j.run_at),
                    i64::from(j.max_attempts),
                    j.payload.to_string(),
                ])
            })
            .collect();
        Ok(Self {
            letters: Value::from(rows).to_string(),
            statuses: Value::from(statuses).to_string(),
            jobs: Value::from(jobs).to_string(),
        })
    }

    fn bind<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
        q.bind(&self.letters).bind(&self.statuses).bind(&self.jobs)
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(corrupt)
}

/// The `log` column of [`SELECT_LETTER`] as entries.
fn status_log(r: &SqliteRow) -> Result<StatusHistory, StoreError> {
    let log: String = r.try_get("log").map_err(classify)?;
    let rows: Vec<(i64, String, i64, Option<String>)> =
        serde_json::from_str(&log).map_err(corrupt)?;
    let entries = rows
        .into_iter()
        .map(|(v, text, at, party)| {
            Ok(StatusEntry {
                status: CorrespondenceStatus::from_value(v)
                    .ok_or_else(|| StoreError::Corrupt(format!("status {v}")))?,
                text,
                at: from_micros(at)?,
                party,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(StatusHistory::new(entries))
}

fn letter_from_row(r: &SqliteRow, statuses: StatusHistory) -> Result<Correspondence, StoreError> {
    let get_s = |c: &str| r.try_get::<String, _>(c).map_err(classify);
    let json = |c: &str| -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(&r.try_get::<String, _>(c).map_err(classify)?).map_err(corrupt)
    };
    let id: String = get_s("id")?;
    Ok(Correspondence {
        id: id.parse().map_err(corrupt)?,
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
            requested_publish_time: from_micros(
                r.try_get("requested_publish_time").map_err(classify)?,
            )?,
            due_date_time: r
                .try_get::<Option<i64>, _>("due_date_time")
                .map_err(classify)?
                .map(from_micros)
                .transpose()?,
            external_references: serde_json::from_value(json("external_references")?)
                .map_err(corrupt)?,
            property_list: serde_json::from_value(json("property_list")?).map_err(corrupt)?,
            reply_options: serde_json::from_value(json("reply_options")?).map_err(corrupt)?,
            ignore_reservation: r.try_get("ignore_reservation").map_err(classify)?,
            is_confirmation_needed: r.try_get("is_confirmation_needed").map_err(classify)?,
            is_confidential: r.try_get("is_confidential").map_err(classify)?,
            allow_forwarding: r.try_get("allow_forwarding").map_err(classify)?,
        },
        idempotent_key: r
            .try_get::<Option<String>, _>("idempotent_key")
            .map_err(classify)?
            .map(|k| k.parse().map_err(corrupt))
            .transpose()?,
        created: from_micros(r.try_get("created").map_err(classify)?)?,
        published: r
            .try_get::<Option<i64>, _>("published")
            .map_err(classify)?
            .map(from_micros)
            .transpose()?,
        statuses,
    })
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

async fn append_status_in(
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
    let written = sqlx::query(AssertSqlSafe(sql))
        .bind(id.to_string())
        .bind(entry.status.value())
        .bind(&entry.text)
        .bind(micros(entry.at))
        .bind(entry.party.as_deref())
        .bind(serde_json::Value::from(guard_statuses).to_string())
        .bind(since)
        .fetch_all(&mut *conn)
        .await;
    let outcome = match written {
        Ok(returned) => {
            let appended = !returned.is_empty();
            let mut queued = Ok(());
            if appended {
                for job in &jobs {
                    queued = enqueue(&mut *conn, job).await;
                    if queued.is_err() {
                        break;
                    }
                }
            }
            queued.map(|()| appended)
        }
        Err(e) => Err(classify(e)),
    };
    end_savepoint(conn, "melding_append", outcome).await
}
