use std::collections::HashSet;

use async_trait::async_trait;
use melding_domain::{NationalId, OrgNumber, Party};
use melding_store::{Organization, Person, RegistryBatch, RegistryStore, Resource, StoreError};
use sqlx::Row;

use crate::{PostgresStore, classify, corrupt};

#[async_trait]
impl RegistryStore for PostgresStore {
    async fn upsert_registry(&self, batch: &RegistryBatch) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        for o in &batch.organizations {
            sqlx::query(
                "INSERT INTO organizations (org_number, name) VALUES ($1, $2)
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
                "INSERT INTO persons (national_id, name) VALUES ($1, $2)
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
                 VALUES ($1, $2, $3, $4, $5)
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
    }

    async fn resource(&self, id: &str) -> Result<Option<Resource>, StoreError> {
        let row = sqlx::query(
            "SELECT id, owner, service_owner_code, title, confidential FROM resources
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
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
            sqlx::query_scalar("SELECT name FROM organizations WHERE org_number = $1")
                .bind(org.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
        Ok(name.map(|name| Organization {
            org_number: org.clone(),
            name,
        }))
    }

    async fn person(&self, id: &NationalId) -> Result<Option<Person>, StoreError> {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM persons WHERE national_id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
        Ok(name.map(|name| Person {
            national_id: id.clone(),
            name,
        }))
    }

    async fn unknown_parties(&self, parties: &[Party]) -> Result<Vec<Party>, StoreError> {
        // Two round trips whatever the number of parties; the answer keeps the input's order.
        let mut orgs = Vec::new();
        let mut persons = Vec::new();
        for p in parties {
            match p {
                Party::Organization(o) => orgs.push(o.as_str().to_owned()),
                Party::Person(n) => persons.push(n.as_str().to_owned()),
            }
        }
        let known_orgs: HashSet<String> = if orgs.is_empty() {
            HashSet::new()
        } else {
            sqlx::query_scalar("SELECT org_number FROM organizations WHERE org_number = ANY($1)")
                .bind(&orgs)
                .fetch_all(&self.pool)
                .await
                .map_err(classify)?
                .into_iter()
                .collect()
        };
        let known_persons: HashSet<String> = if persons.is_empty() {
            HashSet::new()
        } else {
            sqlx::query_scalar("SELECT national_id FROM persons WHERE national_id = ANY($1)")
                .bind(&persons)
                .fetch_all(&self.pool)
                .await
                .map_err(classify)?
                .into_iter()
                .collect()
        };
        Ok(parties
            .iter()
            .filter(|p| match p {
                Party::Organization(o) => !known_orgs.contains(o.as_str()),
                Party::Person(n) => !known_persons.contains(n.as_str()),
            })
            .cloned()
            .collect())
    }
}
