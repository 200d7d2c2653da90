use async_trait::async_trait;
use chrono::{DateTime, Utc};
use melding_domain::CorrespondenceStatus;
use melding_domain::attachment::{AttachmentLink, AttachmentStatus, DataLocationType, StoredFile};
use melding_domain::{
    Attachment, AttachmentId, AttachmentStatusEntry, CorrespondenceId, OrgNumber, ResourceId,
};
use melding_store::{
    AttachmentGuard, AttachmentPurge, AttachmentStore, NewJob, NewLink, StoreError, sql,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row, Transaction};
use uuid::Uuid;

use crate::jobs::enqueue;
use crate::{PostgresStore, classify, corrupt, unsigned};

#[async_trait]
impl AttachmentStore for PostgresStore {
    async fn insert_attachment(
        &self,
        attachment: &Attachment,
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        insert_attachment_in(&mut tx, attachment).await?;
        enqueue(&mut tx, jobs).await?;
        tx.commit().await.map_err(classify)?;
        if !jobs.is_empty() {
            self.jobs_enqueued();
        }
        Ok(())
    }

    async fn attachment(&self, id: AttachmentId) -> Result<Option<Attachment>, StoreError> {
        let mut tx = snapshot(self).await?;
        let row = sqlx::query(sql::SELECT_ATTACHMENT)
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        let found = match row {
            Some(row) => Some(load(&mut tx, &row).await?),
            None => None,
        };
        tx.commit().await.map_err(classify)?;
        Ok(found)
    }

    async fn attachments_of(
        &self,
        correspondence: CorrespondenceId,
    ) -> Result<Vec<AttachmentLink>, StoreError> {
        let mut tx = snapshot(self).await?;
        let rows = sqlx::query(sql::SELECT_ATTACHMENTS_OF)
            .bind(correspondence.as_uuid())
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        let mut links = Vec::with_capacity(rows.len());
        for row in &rows {
            links.push(AttachmentLink {
                attachment: load(&mut tx, row).await?,
                expiration_time: row.try_get("expiration_time").map_err(classify)?,
            });
        }
        tx.commit().await.map_err(classify)?;
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
        let mut tx = self.pool.begin().await.map_err(classify)?;
        // One append to this attachment at a time, so the guard sees every committed status.
        let locked = sqlx::query("SELECT 1 FROM attachments WHERE id = $1 FOR UPDATE")
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        let (statuses, unlinked) = match &guard {
            AttachmentGuard::Always => (&[][..], false),
            AttachmentGuard::UnlessEver(s) => (s.as_slice(), false),
            AttachmentGuard::UnlinkedUnlessEver(s) => (s.as_slice(), true),
        };
        let values: Vec<i32> = statuses.iter().map(|s| s.value()).collect();
        let blocked: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM attachment_statuses
                            WHERE attachment_id = $1 AND status = ANY($2))
                 OR ($3 AND EXISTS (SELECT 1 FROM correspondence_attachments
                                    WHERE attachment_id = $1))",
        )
        .bind(id.as_uuid())
        .bind(values)
        .bind(unlinked)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        if blocked {
            return Ok(false);
        }
        insert_status(&mut tx, id.as_uuid(), entry).await?;
        if let Some(f) = file {
            sqlx::query(sql::UPDATE_ATTACHMENT_FILE)
                .bind(&f.storage_key)
                .bind(i64::try_from(f.size).map_err(corrupt)?)
                .bind(&f.checksum)
                .bind(i64::from(f.crc32))
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        enqueue(&mut tx, jobs).await?;
        tx.commit().await.map_err(classify)?;
        if !jobs.is_empty() {
            self.jobs_enqueued();
        }
        Ok(true)
    }
}

/// A read-only transaction over one snapshot.
async fn snapshot(store: &PostgresStore) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = store.pool.begin().await.map_err(classify)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(tx)
}

pub(crate) async fn insert_attachment_in(
    tx: &mut PgConnection,
    a: &Attachment,
) -> Result<(), StoreError> {
    let file = a.file.as_ref();
    sqlx::query(sql::INSERT_ATTACHMENT)
        .bind(a.id.as_uuid())
        .bind(a.resource_id.as_str())
        .bind(a.sender.as_str())
        .bind(&a.file_name)
        .bind(a.display_name.as_deref())
        .bind(a.is_encrypted)
        .bind(file.map(|f| f.checksum.as_str()).or(a.checksum.as_deref()))
        .bind(&a.senders_reference)
        .bind(a.expiration_in_days)
        .bind(a.data_location_type as i32)
        .bind(file.map(|f| f.storage_key.as_str()))
        .bind(
            file.map(|f| i64::try_from(f.size))
                .transpose()
                .map_err(corrupt)?,
        )
        .bind(file.map(|f| i64::from(f.crc32)))
        .bind(a.created)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    for entry in &a.statuses {
        insert_status(&mut *tx, a.id.as_uuid(), entry).await?;
    }
    Ok(())
}

pub(crate) async fn insert_link(
    tx: &mut PgConnection,
    link: &NewLink,
    position: usize,
) -> Result<(), StoreError> {
    sqlx::query(sql::INSERT_LINK)
        .bind(link.correspondence_id.as_uuid())
        .bind(link.attachment_id.as_uuid())
        .bind(i32::try_from(position).map_err(corrupt)?)
        .bind(link.expiration_time)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(())
}

/// Purges an attachment of the purged letter `letter` unless it has ended already or another
/// letter that is not purged uses it; returns whether it did. The caller holds its row lock.
pub(crate) async fn purge_unshared_in(
    tx: &mut Transaction<'static, Postgres>,
    letter: CorrespondenceId,
    purge: &AttachmentPurge,
) -> Result<bool, StoreError> {
    let id = purge.attachment_id.as_uuid();
    let unshared: bool = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM attachment_statuses
                            WHERE attachment_id = $1 AND status = ANY($2))
            AND NOT EXISTS (SELECT 1 FROM correspondence_attachments l
                            WHERE l.attachment_id = $1 AND l.correspondence_id <> $3
                              AND NOT EXISTS (SELECT 1 FROM correspondence_statuses s
                                              WHERE s.correspondence_id = l.correspondence_id
                                                AND s.status = ANY($4)))",
    )
    .bind(id)
    .bind(vec![
        AttachmentStatus::Purged.value(),
        AttachmentStatus::Expired.value(),
    ])
    .bind(letter.as_uuid())
    .bind(vec![
        CorrespondenceStatus::PurgedByAltinn.value(),
        CorrespondenceStatus::PurgedByRecipient.value(),
    ])
    .fetch_one(&mut **tx)
    .await
    .map_err(classify)?;
    if !unshared {
        return Ok(false);
    }
    insert_status(tx, id, &purge.entry).await?;
    enqueue(tx, &purge.jobs).await?;
    Ok(true)
}

async fn insert_status(
    tx: &mut PgConnection,
    id: Uuid,
    entry: &AttachmentStatusEntry,
) -> Result<(), StoreError> {
    sqlx::query(sql::INSERT_ATTACHMENT_STATUS)
        .bind(id)
        .bind(entry.status.value())
        .bind(&entry.text)
        .bind(entry.at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(())
}

/// The attachment in `row` with its status log and the letters using it.
async fn load(tx: &mut PgConnection, r: &PgRow) -> Result<Attachment, StoreError> {
    let id: Uuid = r.try_get("id").map_err(classify)?;
    let statuses = sqlx::query(sql::SELECT_ATTACHMENT_STATUSES)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?
        .iter()
        .map(|s| {
            let v: i32 = s.try_get("status").map_err(classify)?;
            Ok(AttachmentStatusEntry {
                status: AttachmentStatus::from_value(i64::from(v))
                    .ok_or_else(|| StoreError::Corrupt(format!("attachment status {v}")))?,
                text: s.try_get("status_text").map_err(classify)?,
                at: s
                    .try_get::<DateTime<Utc>, _>("changed_at")
                    .map_err(classify)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let correspondence_ids = sqlx::query_scalar::<_, Uuid>(sql::SELECT_ATTACHMENT_LETTERS)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?
        .into_iter()
        .map(CorrespondenceId::from_uuid)
        .collect();
    let checksum: Option<String> = r.try_get("checksum").map_err(classify)?;
    let storage_key: Option<String> = r.try_get("storage_key").map_err(classify)?;
    let file = match storage_key {
        Some(storage_key) => Some(StoredFile {
            storage_key,
            size: unsigned(r.try_get::<i64, _>("size").map_err(classify)?)?,
            checksum: checksum.clone().unwrap_or_default(),
            crc32: unsigned(r.try_get::<i64, _>("crc32").map_err(classify)?)?,
        }),
        None => None,
    };
    let location: i32 = r.try_get("data_location_type").map_err(classify)?;
    Ok(Attachment {
        id: AttachmentId::from_uuid(id),
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
        data_location_type: DataLocationType::from_value(i64::from(location))
            .ok_or_else(|| StoreError::Corrupt(format!("data location {location}")))?,
        file,
        created: r.try_get("created").map_err(classify)?,
        statuses,
        correspondence_ids,
    })
}
