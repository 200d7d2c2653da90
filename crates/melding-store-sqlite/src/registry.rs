use std::collections::HashSet;

use async_trait::async_trait;
use melding_domain::authz::Holdings;
use melding_domain::resource::check_authentication_level;
use melding_domain::{NationalId, OrgNumber, Party, SelfIdentified};
use melding_store::{
    ContactChange, ContactOutcome, DelegationChange, Organization, OrganizationContacts, Person,
    RegistryBatch, RegistryStore, Resource, RoleAssignment, SelfIdentifiedUser, StoreError, sql,
};
use sqlx::types::Json;
use sqlx::{Connection, Row, SqliteConnection};

use crate::codec::{corrupt, from_micros, micros, policy_from_json, policy_to_json, right};
use crate::{SqliteStore, classify};

#[async_trait]
impl RegistryStore for SqliteStore {
    async fn upsert_registry(&self, batch: &RegistryBatch) -> Result<(), StoreError> {
        let batch = batch.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                for o in &batch.organizations {
                    sqlx::query(sql::UPSERT_ORGANIZATION)
                        .bind(o.org_number.as_str())
                        .bind(&o.name)
                        .bind(o.parent.as_ref().map(OrgNumber::as_str))
                        .bind(o.address.as_ref().map(Json))
                        .bind(Json(&o.notification_emails))
                        .bind(Json(&o.notification_mobiles))
                        .bind(Json(&o.contacts))
                        .bind(batch.keep_contacts.contains(&o.org_number))
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                for p in &batch.persons {
                    sqlx::query(sql::UPSERT_PERSON)
                        .bind(p.national_id.as_str())
                        .bind(&p.name)
                        .bind(p.reserved)
                        .bind(p.address.as_ref().map(Json))
                        .bind(p.krr.as_ref().map(Json))
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                for r in &batch.resources {
                    sqlx::query(sql::UPSERT_RESOURCE)
                        .bind(&r.id)
                        .bind(r.owner.as_str())
                        .bind(&r.service_owner_code)
                        .bind(&r.title)
                        .bind(r.confidential)
                        .bind(policy_to_json(&r.read_policy))
                        .bind(r.resource_type.as_str())
                        .bind(i64::from(r.minimum_authentication_level))
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                for u in &batch.self_identified_users {
                    sqlx::query(sql::UPSERT_SELF_IDENTIFIED_USER)
                        .bind(u.user.urn())
                        .bind(&u.name)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                // After the parties, so a role may name an entry of the same batch; the foreign
                // keys refuse one for a party in neither (NotFound, and the batch is undone).
                for a in &batch.roles {
                    sqlx::query(sql::INSERT_ROLE)
                        .bind(a.org.as_str())
                        .bind(a.person.as_str())
                        .bind(&a.role)
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
        let row = sqlx::query(sql::SELECT_RESOURCE)
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
                read_policy: policy_from_json(
                    &r.try_get::<String, _>("read_policy").map_err(classify)?,
                )?,
                resource_type: r
                    .try_get::<String, _>("resource_type")
                    .map_err(classify)?
                    .parse()
                    .map_err(corrupt)?,
                minimum_authentication_level: check_authentication_level(
                    r.try_get("minimum_authentication_level")
                        .map_err(classify)?,
                )
                .map_err(corrupt)?,
            })
        })
        .transpose()
    }

    async fn organization(&self, org: &OrgNumber) -> Result<Option<Organization>, StoreError> {
        let row = sqlx::query(sql::SELECT_ORGANIZATION)
            .bind(org.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        row.map(|r| {
            Ok(Organization {
                org_number: org.clone(),
                name: r.try_get("name").map_err(classify)?,
                parent: r
                    .try_get::<Option<String>, _>("parent")
                    .map_err(classify)?
                    .map(|p| OrgNumber::parse(&p).map_err(corrupt))
                    .transpose()?,
                address: r
                    .try_get::<Option<Json<_>>, _>("address")
                    .map_err(classify)?
                    .map(|a| a.0),
                notification_emails: r
                    .try_get::<Json<_>, _>("notification_emails")
                    .map_err(classify)?
                    .0,
                notification_mobiles: r
                    .try_get::<Json<_>, _>("notification_mobiles")
                    .map_err(classify)?
                    .0,
                contacts: r.try_get::<Json<_>, _>("contacts").map_err(classify)?.0,
            })
        })
        .transpose()
    }

    async fn person(&self, id: &NationalId) -> Result<Option<Person>, StoreError> {
        let row = sqlx::query(sql::SELECT_PERSON)
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        row.map(|r| {
            Ok(Person {
                national_id: id.clone(),
                name: r.try_get("name").map_err(classify)?,
                reserved: r.try_get("reserved").map_err(classify)?,
                address: r
                    .try_get::<Option<Json<_>>, _>("address")
                    .map_err(classify)?
                    .map(|a| a.0),
                krr: r
                    .try_get::<Option<Json<_>>, _>("krr")
                    .map_err(classify)?
                    .map(|k| k.0),
            })
        })
        .transpose()
    }

    async fn unknown_parties(&self, parties: &[Party]) -> Result<Vec<Party>, StoreError> {
        if parties.is_empty() {
            return Ok(Vec::new());
        }
        // One query whatever the number of parties: the lists go in as JSON arrays.
        let (mut orgs, mut persons, mut users) = (Vec::new(), Vec::new(), Vec::new());
        for p in parties {
            match p {
                Party::Organization(o) => orgs.push(o.as_str()),
                Party::Person(n) => persons.push(n.as_str()),
                Party::SelfIdentified(u) => users.push(u.urn()),
            }
        }
        let known = sqlx::query(
            "SELECT 'o' AS kind, org_number AS party FROM organizations
               WHERE org_number IN (SELECT value FROM json_each(?1))
             UNION ALL
             SELECT 'p', national_id FROM persons
               WHERE national_id IN (SELECT value FROM json_each(?2))
             UNION ALL
             SELECT 's', urn FROM self_identified_users
               WHERE urn IN (SELECT value FROM json_each(?3))",
        )
        .bind(json_list(&orgs)?)
        .bind(json_list(&persons)?)
        .bind(json_list(&users)?)
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        let known: Vec<(String, String)> = known
            .iter()
            .map(|r| {
                let kind = r.try_get("kind").map_err(classify)?;
                Ok((kind, r.try_get("party").map_err(classify)?))
            })
            .collect::<Result<_, StoreError>>()?;
        let known: HashSet<(&str, &str)> = known
            .iter()
            .map(|(k, id)| (k.as_str(), id.as_str()))
            .collect();
        Ok(parties
            .iter()
            .filter(|p| match p {
                Party::Organization(o) => !known.contains(&("o", o.as_str())),
                Party::Person(n) => !known.contains(&("p", n.as_str())),
                Party::SelfIdentified(u) => !known.contains(&("s", u.urn().as_str())),
            })
            .cloned()
            .collect())
    }

    async fn self_identified_user(
        &self,
        user: &SelfIdentified,
    ) -> Result<Option<SelfIdentifiedUser>, StoreError> {
        let name: Option<String> = sqlx::query_scalar(sql::SELECT_SELF_IDENTIFIED_USER_NAME)
            .bind(user.urn())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        Ok(name.map(|name| SelfIdentifiedUser {
            user: user.clone(),
            name,
        }))
    }

    async fn reserved_persons(
        &self,
        persons: &[NationalId],
    ) -> Result<Vec<NationalId>, StoreError> {
        if persons.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = persons.iter().map(NationalId::as_str).collect();
        let reserved: HashSet<String> = sqlx::query_scalar(
            "SELECT national_id FROM persons
             WHERE reserved <> 0 AND national_id IN (SELECT value FROM json_each(?))",
        )
        .bind(json_list(&ids)?)
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?
        .into_iter()
        .collect();
        Ok(persons
            .iter()
            .filter(|p| reserved.contains(p.as_str()))
            .cloned()
            .collect())
    }

    async fn holdings(&self, person: &NationalId, org: &OrgNumber) -> Result<Holdings, StoreError> {
        let roles: Vec<String> = sqlx::query_scalar(sql::SELECT_HELD_ROLES)
            .bind(person.as_str())
            .bind(org.as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        let delegated: Vec<String> = sqlx::query_scalar(sql::SELECT_DELEGATED_RIGHTS)
            .bind(person.as_str())
            .bind(org.as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        Ok(Holdings {
            roles: roles.into_iter().collect(),
            delegated: delegated
                .iter()
                .map(|r| right(r))
                .collect::<Result<_, _>>()?,
        })
    }

    async fn organizations_of(&self, person: &NationalId) -> Result<Vec<OrgNumber>, StoreError> {
        let orgs: Vec<String> = sqlx::query_scalar(sql::SELECT_ORGANIZATIONS_OF)
            .bind(person.as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        orgs.iter()
            .map(|o| OrgNumber::parse(o).map_err(corrupt))
            .collect()
    }

    async fn change_delegation(&self, change: &DelegationChange) -> Result<bool, StoreError> {
        let change = change.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                let changed = change_delegation_in(&mut tx, &change).await?;
                tx.commit().await.map_err(classify)?;
                Ok(changed)
            })
        })
        .await
    }

    async fn change_contacts(
        &self,
        org: &OrgNumber,
        change: &ContactChange,
    ) -> Result<ContactOutcome, StoreError> {
        let (org, change) = (org.clone(), change.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(classify)?;
                let outcome = change_contacts_in(&mut tx, &org, &change).await?;
                tx.commit().await.map_err(classify)?;
                Ok(outcome)
            })
        })
        .await
    }

    async fn organization_roles(&self, org: &OrgNumber) -> Result<Vec<RoleAssignment>, StoreError> {
        let rows = sqlx::query(sql::SELECT_ORGANIZATION_ROLES)
            .bind(org.as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok(RoleAssignment {
                    org: org.clone(),
                    person: NationalId::parse(
                        &r.try_get::<String, _>("national_id").map_err(classify)?,
                    )
                    .map_err(corrupt)?,
                    role: r.try_get("role").map_err(classify)?,
                })
            })
            .collect()
    }

    async fn delegation_log(&self, org: &OrgNumber) -> Result<Vec<DelegationChange>, StoreError> {
        let rows = sqlx::query(sql::SELECT_DELEGATION_LOG)
            .bind(org.as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok(DelegationChange {
                    at: from_micros(r.try_get("at").map_err(classify)?)?,
                    actor: r.try_get("actor").map_err(classify)?,
                    granted: r.try_get("granted").map_err(classify)?,
                    org: org.clone(),
                    person: NationalId::parse(
                        &r.try_get::<String, _>("national_id").map_err(classify)?,
                    )
                    .map_err(corrupt)?,
                    right: right(&r.try_get::<String, _>("right_").map_err(classify)?)?,
                })
            })
            .collect()
    }
}

/// Grants or revokes on the writer's connection; the single writer makes the check and the
/// change one step, so concurrent identical grants log one change.
async fn change_delegation_in(
    conn: &mut SqliteConnection,
    c: &DelegationChange,
) -> Result<bool, StoreError> {
    // Checked for revocations too, which would otherwise quietly change nothing.
    let known: bool = sqlx::query_scalar(sql::BOTH_REGISTERED)
        .bind(c.org.as_str())
        .bind(c.person.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(classify)?;
    if !known {
        return Err(StoreError::NotFound);
    }
    let right = c.right.to_string();
    let affected = if c.granted {
        sqlx::query(sql::INSERT_DELEGATION)
            .bind(c.org.as_str())
            .bind(c.person.as_str())
            .bind(&right)
            .bind(&c.actor)
            .bind(micros(c.at))
            .execute(&mut *conn)
            .await
    } else {
        sqlx::query(sql::DELETE_DELEGATION)
            .bind(c.org.as_str())
            .bind(c.person.as_str())
            .bind(&right)
            .execute(&mut *conn)
            .await
    }
    .map_err(classify)?
    .rows_affected();
    if affected == 0 {
        return Ok(false);
    }
    sqlx::query(sql::INSERT_DELEGATION_LOG)
        .bind(micros(c.at))
        .bind(&c.actor)
        .bind(c.granted)
        .bind(c.org.as_str())
        .bind(c.person.as_str())
        .bind(&right)
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    Ok(true)
}

/// A list bound as one JSON-array parameter, for `IN (SELECT value FROM json_each(?))`.
fn json_list(items: &[impl AsRef<str>]) -> Result<String, StoreError> {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&items).map_err(corrupt)
}

/// Reads `org`'s contacts applies `change` and writes the result when it changed.
async fn change_contacts_in(
    conn: &mut SqliteConnection,
    org: &OrgNumber,
    change: &ContactChange,
) -> Result<ContactOutcome, StoreError> {
    let row = sqlx::query(sql::SELECT_ORGANIZATION_CONTACTS)
        .bind(org.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(classify)?
        .ok_or(StoreError::NotFound)?;
    let mut contacts = OrganizationContacts {
        notification_emails: row
            .try_get::<Json<_>, _>("notification_emails")
            .map_err(classify)?
            .0,
        notification_mobiles: row
            .try_get::<Json<_>, _>("notification_mobiles")
            .map_err(classify)?
            .0,
        contacts: row.try_get::<Json<_>, _>("contacts").map_err(classify)?.0,
    };
    let outcome = change.apply(&mut contacts);
    if outcome == ContactOutcome::Changed {
        sqlx::query(sql::UPDATE_ORGANIZATION_CONTACTS)
            .bind(org.as_str())
            .bind(Json(&contacts.notification_emails))
            .bind(Json(&contacts.notification_mobiles))
            .bind(Json(&contacts.contacts))
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
    }
    Ok(outcome)
}
