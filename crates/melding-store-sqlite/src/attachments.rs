use async_trait::async_trait;
use melding_domain::CorrespondenceStatus;
use melding_domain::attachment::{AttachmentLink, AttachmentStatus, DataLocationType, StoredFile};
use melding_domain::{
    Attachment, AttachmentId, AttachmentStatusEntry, CorrespondenceId, OrgNumber, ResourceId,
};
use melding_store::{
    AttachmentGuard, AttachmentPurge, AttachmentStore, NewJob, NewLink, StoreError, sql,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row, SqliteConnection};

use crate::codec::{corrupt, from_micros, micros};
use crate::jobs::enqueue;
use crate::{SqliteStore, classify};

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn insert_attachment(
        &self,
        attachment: &Attachment,
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let (a, jobs) = (attachment.clone(), jobs.to_vec());
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                insert_attachment_in(&mut tx, &a).await?;
                enqueue(&mut tx, &jobs).await?;
                tx.commit().await.map_err(classify)
            })
        })
        .await
    }

    async fn attachment(&self, id: AttachmentId) -> Result<Option<Attachment>, StoreError> {
        let mut conn = self.reader.begin().await.map_err(classify)?;
        let row = sqlx::query(sql::SELECT_ATTACHMENT)
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)?;
        match row {
            Some(row) => load(&mut conn, &row).await.map(Some),
            None => Ok(None),
        }
    }

    async fn attachments_of(
        &self,
        correspondence: CorrespondenceId,
    ) -> Result<Vec<AttachmentLink>, StoreError> {
        let mut conn = self.reader.begin().await.map_err(classify)?;
        let rows = sqlx::query(sql::SELECT_ATTACHMENTS_OF)
            .bind(correspondence.to_string())
            .fetch_all(&mut *conn)
            .await
            .map_err(classify)?;
        let mut links = Vec::with_capacity(rows.len());
        for row in &rows {
            let expiration_time = row
                .try_get::<Option<i64>, _>("expiration_time")
                .map_err(classify)?
                .map(from_micros)
                .transpose()?;
            links.push(AttachmentLink {
                attachment: load(&mut conn, row).await?,
                expiration_time,
            });
        }
        Ok(links)
    }

    async fn append_attachment_status(
        &self,
        id: AttachmentId,
        entry: &AttachmentStatusEntry,
        guard: AttachmentGuard,
        file: Option<&StoredFile>,
        jobs: &[NewJob],
    ) -> Result<bool, StoreError> {
        let (entry, file, jobs) = (entry.clone(), file.cloned(), jobs.to_vec());
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                let idt = id.to_string();
                let exists: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE id = ?")
                        .bind(&idt)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(classify)?;
                if exists == 0 {
                    return Err(StoreError::NotFound);
                }
                let (statuses, unlinked) = match &guard {
                    AttachmentGuard::Always => (&[][..], false),
                    AttachmentGuard::UnlessEver(s) => (s.as_slice(), false),
                    AttachmentGuard::UnlinkedUnlessEver(s) => (s.as_slice(), true),
                };
                for s in statuses {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM attachment_statuses
                         WHERE attachment_id = ? AND status = ?",
                    )
                    .bind(&idt)
                    .bind(s.value())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(classify)?;
                    if n > 0 {
                        return Ok(false);
                    }
                }
                if unlinked {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM correspondence_attachments WHERE attachment_id = ?",
                    )
                    .bind(&idt)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(classify)?;
                    if n > 0 {
                        return Ok(false);
                    }
                }
                insert_status(&mut tx, &idt, &entry).await?;
                if let Some(f) = &file {
                    sqlx::query(sql::UPDATE_ATTACHMENT_FILE)
                        .bind(&f.storage_key)
                        .bind(i64::try_from(f.size).map_err(corrupt)?)
                        .bind(&f.checksum)
                        .bind(i64::from(f.crc32))
                        .bind(&idt)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                enqueue(&mut tx, &jobs).await?;
                tx.commit().await.map_err(classify)?;
                Ok(true)
            })
        })
        .await
    }
}

pub(crate) async fn insert_attachment_in(
    tx: &mut SqliteConnection,
    a: &Attachment,
) -> Result<(), StoreError> {
    let id = a.id.to_string();
    let file = a.file.as_ref();
    sqlx::query(sql::INSERT_ATTACHMENT)
        .bind(&id)
        .bind(a.resource_id.as_str())
        .bind(a.sender.as_str())
        .bind(&a.file_name)
        .bind(a.display_name.as_deref())
        .bind(a.is_encrypted)
        .bind(file.map(|f| f.checksum.as_str()).or(a.checksum.as_deref()))
        .bind(&a.senders_reference)
        .bind(a.expiration_in_days)
        .bind(a.data_location_type as i64)
        .bind(file.map(|f| f.storage_key.as_str()))
        .bind(
            file.map(|f| i64::try_from(f.size))
                .transpose()
                .map_err(corrupt)?,
        )
        .bind(file.map(|f| i64::from(f.crc32)))
        .bind(micros(a.created))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    for entry in &a.statuses {
        insert_status(&mut *tx, &id, entry).await?;
    }
    Ok(())
}

pub(crate) async fn insert_link(
    tx: &mut SqliteConnection,
    link: &NewLink,
    position: usize,
) -> Result<(), StoreError> {
    sqlx::query(sql::INSERT_LINK)
        .bind(link.correspondence_id.to_string())
        .bind(link.attachment_id.to_string())
        .bind(i64::try_from(position).map_err(corrupt)?)
        .bind(link.expiration_time.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(())
}

/// Purges an attachment of the purged letter `letter` unless it has ended already or another
/// letter that is not purged uses it; returns whether it did.
pub(crate) async fn purge_unshared_in(
    conn: &mut SqliteConnection,
    letter: CorrespondenceId,
    purge: &AttachmentPurge,
) -> Result<bool, StoreError> {
    let idt = purge.attachment_id.to_string();
    let unshared: bool = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM attachment_statuses
                            WHERE attachment_id = ?1 AND status IN (?2, ?3))
            AND NOT EXISTS (SELECT 1 FROM correspondence_attachments l
                            WHERE l.attachment_id = ?1 AND l.correspondence_id <> ?4
                              AND NOT EXISTS (SELECT 1 FROM correspondence_statuses s
                                              WHERE s.correspondence_id = l.correspondence_id
                                                AND s.status IN (?5, ?6)))",
    )
    .bind(&idt)
    .bind(AttachmentStatus::Purged.value())
    .bind(AttachmentStatus::Expired.value())
    .bind(letter.to_string())
    .bind(CorrespondenceStatus::PurgedByAltinn.value())
    .bind(CorrespondenceStatus::PurgedByRecipient.value())
    .fetch_one(&mut *conn)
    .await
    .map_err(classify)?;
    if !unshared {
        return Ok(false);
    }
    insert_status(&mut *conn, &idt, &purge.entry).await?;
    enqueue(&mut *conn, &purge.jobs).await?;
    Ok(true)
}

async fn insert_status(
    tx: &mut SqliteConnection,
    id: &str,
    entry: &AttachmentStatusEntry,
) -> Result<(), StoreError> {
    sqlx::query(sql::INSERT_ATTACHMENT_STATUS)
        .bind(id)
        .bind(entry.status.value())
        .bind(&entry.text)
        .bind(micros(entry.at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(())
}

/// The attachment in `row` with its status log and the letters using it.
async fn load(conn: &mut SqliteConnection, r: &SqliteRow) -> Result<Attachment, StoreError> {
    let id: String = r.try_get("id").map_err(classify)?;
    let statuses = sqlx::query(sql::SELECT_ATTACHMENT_STATUSES)
        .bind(&id)
        .fetch_all(&mut *conn)
        .await
        .map_err(classify)?
        .iter()
        .map(|s| {
            let v: i64 = s.try_get("status").map_err(classify)?;
            Ok(AttachmentStatusEntry {
                status: AttachmentStatus::from_value(v)
                    .ok_or_else(|| StoreError::Corrupt(format!("attachment status {v}")))?,
                text: s.try_get("status_text").map_err(classify)?,
                at: from_micros(s.try_get("changed_at").map_err(classify)?)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let correspondence_ids = sqlx::query_scalar::<_, String>(sql::SELECT_ATTACHMENT_LETTERS)
        .bind(&id)
        .fetch_all(&mut *conn)
        .await
        .map_err(classify)?
        .iter()
        .map(|c| c.parse().map_err(corrupt))
        .collect::<Result<Vec<CorrespondenceId>, StoreError>>()?;
    let checksum: Option<String> = r.try_get("checksum").map_err(classify)?;
    let storage_key: Option<String> = r.try_get("storage_key").map_err(classify)?;
    let file = match storage_key {
        Some(storage_key) => Some(StoredFile {
            storage_key,
            size: u64::try_from(r.try_get::<i64, _>("size").map_err(classify)?).map_err(corrupt)?,
            checksum: checksum.clone().unwrap_or_default(),
            crc32: u32::try_from(r.try_get::<i64, _>("crc32").map_err(classify)?)
                .map_err(corrupt)?,
        }),
        None => None,
    };
    let location: i64 = r.try_get("data_location_type").map_err(classify)?;
    Ok(Attachment {
        id: id.parse().map_err(corrupt)?,
        resource_id: ResourceId::parse(&r.try_get::<String, _>("resource_id").map_err(classify)?)
            .map_err(corrupt)?,
        sender: OrgNumber::parse(&r.try_get::<String, _>("sender").map_err(classify)?)
            .map_err(corrupt)?,
        file_name: r.try_get("file_name").map_err(classify)?,
        display_name: r.try_get("display_name").map_err(classify)?,
        is_encrypted: r.try_get("is_encrypted").map_err(classify)?,
        checksum,
        senders_reference: r.try_get("senders_reference").map_err(classify)?,
        expiration_in_days: r.try_get("expiration_in_days").map_err(classify)?,
        data_location_type: DataLocationType::from_value(location)
            .ok_or_else(|| StoreError::Corrupt(format!("data location {location}")))?,
        file,
        created: from_micros(r.try_get("created").map_err(classify)?)?,
        statuses,
        correspondence_ids,
    })
}
