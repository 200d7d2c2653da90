use async_trait::async_trait;
use melding_domain::{NationalId, OrgNumber, Party};
use melding_store::{Organization, Person, RegistryBatch, RegistryStore, Resource, StoreError};
use sqlx::{Connection, Row};

use crate::codec::corrupt;
use crate::{SqliteStore, classify};

#[async_trait]
impl RegistryStore for SqliteStore {
    async fn upsert_registry(&self, batch: &RegistryBatch) -> Result<(), StoreError> {
        let batch = batch.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                for o in &batch.organizations {
                    sqlx::query(
                        "INSERT INTO organizations (org_number, name) VALUES (?, ?)
                         ON CONFLICT (org_number) DO UPDATE SET name = excluded.name",
                    )
                    .bind(o.org_number.as_str())
                    .bind(&o.name)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                }
                for p in &batch.persons {
                    sqlx::query(
                        "INSERT INTO persons (national_id, name) VALUES (?, ?)
                         ON CONFLICT (national_id) DO UPDATE SET name = excluded.name",
                    )
                    .bind(p.national_id.as_str())
                    .bind(&p.name)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                }
                for r in &batch.resources {
                    sqlx::query(
                        "INSERT INTO resources (id, owner, service_owner_code, title, confidential)
                         VALUES (?, ?, ?, ?, ?)
                         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner,
                            service_owner_code = excluded.service_owner_code,
                            title = excluded.title, confidential = excluded.confidential",
                    )
                    .bind(&r.id)
                    .bind(r.owner.as_str())
                    .bind(&r.service_owner_code)
                    .bind(&r.title)
                    .bind(r.confidential)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                }
                tx.commit().await.map_err(classify)
            })
        })
        .await
    }

    async fn resource(&self, id: &str) -> Result<Option<Resource>, StoreError> {
        let row = sqlx::query(
            "SELECT id, owner, service_owner_code, title, confidential FROM resources WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(classify)?;
        row.map(|r| {
            Ok(Resource {
                id: r.try_get("id").map_err(classify)?,
                owner: OrgNumber::parse(&r.try_get::<String, _>("owner").map_err(classify)?)
                    .map_err(corrupt)?,
                service_owner_code: r.try_get("service_owner_code").map_err(classify)?,
                title: r.try_get("title").map_err(classify)?,
                confidential: r.try_get("confidential").map_err(classify)?,
            })
        })
        .transpose()
    }

    async fn organization(&self, org: &OrgNumber) -> Result<Option<Organization>, StoreError> {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM organizations WHERE org_number = ?")
                .bind(org.as_str())
                .fetch_optional(&self.reader)
                .await
                .map_err(classify)?;
        Ok(name.map(|name| Organization {
            org_number: org.clone(),
            name,
        }))
    }

    async fn person(&self, id: &NationalId) -> Result<Option<Person>, StoreError> {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM persons WHERE national_id = ?")
                .bind(id.as_str())
                .fetch_optional(&self.reader)
                .await
                .map_err(classify)?;
        Ok(name.map(|name| Person {
            national_id: id.clone(),
            name,
        }))
    }

    async fn unknown_parties(&self, parties: &[Party]) -> Result<Vec<Party>, StoreError> {
        let mut unknown = Vec::new();
        for p in parties {
            let found = match p {
                Party::Organization(o) => self.organization(o).await?.is_some(),
                Party::Person(n) => self.person(n).await?.is_some(),
            };
            if !found {
                unknown.push(p.clone());
            }
        }
        Ok(unknown)
    }
}
