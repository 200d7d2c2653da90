//! SQL text that both backends run unchanged, and the macro that declares a table's row type.
//!
//! Only the backend crates (`melding-store-sqlite`, `melding-store-postgres`) use this module:
//! it holds strings, not a database client, so the rule "only the store crates touch SQL" holds.
//! The statements here are the ones whose text is the same on SQLite and PostgreSQL: both accept
//! `$1`-style placeholders (sqlx's SQLite driver binds `$NNN` by number, like `?NNN`), and the
//! registry's, the attachments' and the job queue's tables have the same names, columns and
//! constraints on both. What differs is how a
//! value is bound (a time is microseconds since the Unix epoch on SQLite, `timestamptz` on
//! PostgreSQL; a boolean is 0/1 on SQLite), so each backend keeps its own binds and row types.
//!
//! Statements that differ by more than placeholders (lists bound as a JSON array on SQLite and as
//! an array on PostgreSQL, `FOR UPDATE SKIP LOCKED`, the bulk letter insert) stay in the backend.

/// A row type of one table, declared with [`table_row!`](crate::table_row): its field names
/// are the table's column names.
pub trait TableRow {
    /// The table's name.
    const TABLE: &'static str;
    /// The table's columns this row type holds: its field names, in declaration order.
    const COLUMNS: &'static [&'static str];

    /// Serialises the row's values as a sequence in [`Self::COLUMNS`] order (what [`Values`]
    /// writes for each row).
    fn serialize_values<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
}

/// `INSERT INTO <table> (c1, …, cn) VALUES ($1, …, $n)`: the statement that inserts one row of
/// `T`, its values bound in [`TableRow::COLUMNS`] order. Both backends run it unchanged.
pub fn insert_one<T: TableRow>() -> String {
    let placeholders = (1..=T::COLUMNS.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {} ({}) VALUES ({placeholders})",
        T::TABLE,
        T::COLUMNS.join(", ")
    )
}

/// Rows serialised compactly for a bulk insert: an array with one array of values per row, each
/// in [`TableRow::COLUMNS`] order. The positions come from the row type's declaration, so a
/// statement generated from `COLUMNS` (column *i* is element *i*) always agrees with them; nobody
/// keeps an order by hand. (An array of objects keyed by column name would nearly double the text
/// SQLite parses per letter.)
#[derive(Debug)]
pub struct Values<'a, T>(pub &'a [T]);

impl<T: TableRow> serde::Serialize for Values<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        /// One row as its values.
        struct Row<'a, T>(&'a T);
        impl<T: TableRow> serde::Serialize for Row<'_, T> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize_values(serializer)
            }
        }
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for row in self.0 {
            seq.serialize_element(&Row(row))?;
        }
        seq.end()
    }
}

/// Declares a row type of one table and implements [`TableRow`] for it: the struct as written,
/// `TABLE` (the table's name), `COLUMNS` (the struct's field names, in order) and its values'
/// serialisation in that order. The field names *are* the column names, so a backend generates
/// its insert and select lists from `COLUMNS` and maps a row by name (`sqlx::FromRow` for a
/// select): adding a field adds its column to every statement built from the row type.
///
/// ```
/// use melding_store::sql::{TableRow, Values};
///
/// melding_store::table_row! {
///     /// A row of `notes`.
///     #[derive(Debug)]
///     pub struct NoteRow in "notes" {
///         pub id: i64,
///         pub text: Option<String>,
///     }
/// }
/// assert_eq!(NoteRow::TABLE, "notes");
/// assert_eq!(NoteRow::COLUMNS, &["id", "text"]);
/// let rows = [NoteRow { id: 7, text: None }];
/// assert_eq!(serde_json::to_string(&Values(&rows)).unwrap(), "[[7,null]]");
/// ```
#[macro_export]
macro_rules! table_row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $table:literal {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )*
        }

        impl $crate::sql::TableRow for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn serialize_values<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                use $crate::__serde::ser::SerializeTuple;
                let mut values = serializer.serialize_tuple(Self::COLUMNS.len())?;
                $( values.serialize_element(&self.$field)?; )*
                values.end()
            }
        }
    };
}

/// Inserts or updates an organisation. Binds `$1` org number, `$2` name, `$3` parent org number
/// (or NULL), `$4` postal address (JSON or NULL), `$5` official notification e-mails, `$6`
/// official notification mobiles, `$7` user-registered contacts (each a JSON array), `$8`
/// whether an organisation already registered keeps its stored contacts instead of `$7`.
pub const UPSERT_ORGANIZATION: &str = "INSERT INTO organizations (org_number, name, parent,
        address, notification_emails, notification_mobiles, contacts)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (org_number) DO UPDATE SET name = excluded.name,
        parent = excluded.parent, address = excluded.address,
        notification_emails = excluded.notification_emails,
        notification_mobiles = excluded.notification_mobiles,
        contacts = CASE WHEN $8 THEN organizations.contacts ELSE excluded.contacts END";

/// Inserts or updates a person. Binds `$1` national identity number, `$2` name, `$3` reserved in
/// KRR (boolean), `$4` postal address (JSON or NULL), `$5` KRR contact entry (JSON or NULL).
pub const UPSERT_PERSON: &str = "INSERT INTO persons (national_id, name, reserved, address, krr)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (national_id) DO UPDATE SET name = excluded.name,
        reserved = excluded.reserved, address = excluded.address, krr = excluded.krr";

/// Inserts or updates a resource. Binds `$1` resource id, `$2` owner org number, `$3` service
/// owner code, `$4` title, `$5` confidential (boolean), `$6` read policy (a JSON array of right
/// strings), `$7` Resource Registry type, `$8` minimum authentication level (0–4).
pub const UPSERT_RESOURCE: &str = "INSERT INTO resources
        (id, owner, service_owner_code, title, confidential, read_policy, resource_type,
         minimum_authentication_level)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET owner = excluded.owner,
        service_owner_code = excluded.service_owner_code,
        title = excluded.title, confidential = excluded.confidential,
        read_policy = excluded.read_policy,
        resource_type = excluded.resource_type,
        minimum_authentication_level = excluded.minimum_authentication_level";

/// Inserts or renames a self-identified user. Binds `$1` party URN, `$2` name.
pub const UPSERT_SELF_IDENTIFIED_USER: &str = "INSERT INTO self_identified_users (urn, name)
     VALUES ($1, $2)
     ON CONFLICT (urn) DO UPDATE SET name = excluded.name";

/// Records an Enhetsregisteret role unless it is recorded already. Binds `$1` org number, `$2`
/// national identity number, `$3` role code. A party that is not registered breaks a foreign key.
pub const INSERT_ROLE: &str = "INSERT INTO roles (org_number, national_id, role)
     VALUES ($1, $2, $3)
     ON CONFLICT (org_number, national_id, role) DO NOTHING";

/// A resource by id (`$1`); columns named as [`crate::Resource`]'s fields.
pub const SELECT_RESOURCE: &str = "SELECT id, owner, service_owner_code, title, confidential,
        read_policy, resource_type, minimum_authentication_level
     FROM resources WHERE id = $1";

/// An organisation by org number (`$1`); columns named as [`crate::Organization`]'s fields.
pub const SELECT_ORGANIZATION: &str = "SELECT org_number, name, parent, address,
        notification_emails, notification_mobiles, contacts
     FROM organizations WHERE org_number = $1";

/// Organisation `$1`'s `notification_emails`, `notification_mobiles` and `contacts` (each a JSON
/// array), read to be changed in the same transaction. SQLite's writes are one at a time
/// already; PostgreSQL uses [`SELECT_ORGANIZATION_CONTACTS_FOR_UPDATE`].
pub const SELECT_ORGANIZATION_CONTACTS: &str =
    "SELECT notification_emails, notification_mobiles, contacts
     FROM organizations WHERE org_number = $1";

/// [`SELECT_ORGANIZATION_CONTACTS`] locking the row until the transaction ends, so two changes
/// made at once apply one after the other (PostgreSQL).
pub const SELECT_ORGANIZATION_CONTACTS_FOR_UPDATE: &str =
    "SELECT notification_emails, notification_mobiles, contacts
     FROM organizations WHERE org_number = $1 FOR UPDATE";

/// Writes organisation `$1`'s `$2` notification e-mails, `$3` notification mobiles and `$4`
/// contacts (each a JSON array).
pub const UPDATE_ORGANIZATION_CONTACTS: &str = "UPDATE organizations
     SET notification_emails = $2, notification_mobiles = $3, contacts = $4
     WHERE org_number = $1";

/// A person by national identity number (`$1`); columns named as [`crate::Person`]'s fields.
pub const SELECT_PERSON: &str = "SELECT national_id, name, reserved, address, krr
     FROM persons WHERE national_id = $1";

/// The name of the self-identified user with party URN `$1`.
pub const SELECT_SELF_IDENTIFIED_USER_NAME: &str =
    "SELECT name FROM self_identified_users WHERE urn = $1";

/// The role codes person `$1` holds in exactly organisation `$2`.
pub const SELECT_HELD_ROLES: &str =
    "SELECT role FROM roles WHERE national_id = $1 AND org_number = $2";

/// The rights delegated to person `$1` in exactly organisation `$2`, as right strings.
pub const SELECT_DELEGATED_RIGHTS: &str =
    "SELECT right_ FROM delegations WHERE national_id = $1 AND org_number = $2";

/// The org numbers where person `$1` holds a role or a delegation, with their sub-units, sorted.
pub const SELECT_ORGANIZATIONS_OF: &str = "WITH held AS (
        SELECT org_number FROM roles WHERE national_id = $1
        UNION SELECT org_number FROM delegations WHERE national_id = $1
     )
     SELECT org_number FROM held
     UNION SELECT o.org_number FROM organizations o JOIN held h ON o.parent = h.org_number
     ORDER BY org_number";

/// The Enhetsregisteret roles of organisation `$1`: `national_id`, `role`, sorted by both.
pub const SELECT_ORGANIZATION_ROLES: &str = "SELECT national_id, role FROM roles
     WHERE org_number = $1 ORDER BY national_id, role";

/// The delegation log of organisation `$1`, oldest first: `at`, `actor`, `granted`,
/// `national_id`, `right_`.
pub const SELECT_DELEGATION_LOG: &str = "SELECT at, actor, granted, national_id, right_
     FROM delegation_log WHERE org_number = $1 ORDER BY id";

/// Whether organisation `$1` and person `$2` are both registered (one boolean).
pub const BOTH_REGISTERED: &str =
    "SELECT EXISTS (SELECT 1 FROM organizations WHERE org_number = $1)
        AND EXISTS (SELECT 1 FROM persons WHERE national_id = $2)";

/// Grants right `$3` to person `$2` in organisation `$1`, by actor `$4` at `$5`, unless it is
/// held already (then no row is affected).
pub const INSERT_DELEGATION: &str = "INSERT INTO delegations
        (org_number, national_id, right_, granted_by, granted_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (org_number, national_id, right_) DO NOTHING";

/// Revokes right `$3` from person `$2` in organisation `$1` (no row affected when not held).
pub const DELETE_DELEGATION: &str =
    "DELETE FROM delegations WHERE org_number = $1 AND national_id = $2 AND right_ = $3";

/// Logs a delegation change. Binds `$1` time, `$2` actor, `$3` granted (boolean), `$4` org
/// number, `$5` national identity number, `$6` right.
pub const INSERT_DELEGATION_LOG: &str = "INSERT INTO delegation_log
        (at, actor, granted, org_number, national_id, right_)
     VALUES ($1, $2, $3, $4, $5, $6)";

/// The queue's counts at time `$1`: `queued`, `due` (run at or before `$1`), `dead`, and
/// `oldest` (the earliest due run time, NULL when none is due).
pub const JOB_COUNTS: &str = "SELECT (SELECT COUNT(*) FROM jobs) AS queued,
        (SELECT COUNT(*) FROM jobs WHERE run_at <= $1) AS due,
        (SELECT COUNT(*) FROM dead_jobs) AS dead,
        (SELECT MIN(run_at) FROM jobs WHERE run_at <= $1) AS oldest";

/// The id of the letter created with idempotency key `$1`.
pub const SELECT_ID_BY_IDEMPOTENT_KEY: &str =
    "SELECT id FROM correspondences WHERE idempotent_key = $1";

/// The columns of `attachments` (aliased `a`) that [`crate::AttachmentStore`] reads, in the
/// order of [`INSERT_ATTACHMENT`]'s binds.
macro_rules! attachment_columns {
    () => {
        "a.id, a.resource_id, a.sender, a.file_name, a.display_name, a.is_encrypted, a.checksum,
         a.senders_reference, a.expiration_in_days, a.data_location_type, a.storage_key, a.size,
         a.crc32, a.created"
    };
}

/// Stores a new attachment. Binds `$1` id, `$2` resource id, `$3` sender org number, `$4` file
/// name, `$5` display name, `$6` encrypted (boolean), `$7` MD5 checksum, `$8` sender's
/// reference, `$9` expiration in days, `$10` data location type, `$11` storage key, `$12` size
/// in bytes, `$13` CRC-32, `$14` creation time; the file's columns (`$7`, `$11`–`$13`) are NULL
/// until it is uploaded.
pub const INSERT_ATTACHMENT: &str = "INSERT INTO attachments (id, resource_id, sender, file_name,
        display_name, is_encrypted, checksum, senders_reference, expiration_in_days,
        data_location_type, storage_key, size, crc32, created)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

/// An attachment by id (`$1`), its columns named as in [`INSERT_ATTACHMENT`].
pub const SELECT_ATTACHMENT: &str = concat!(
    "SELECT ",
    attachment_columns!(),
    " FROM attachments a WHERE a.id = $1"
);

/// The attachments letter `$1` uses, in link order: the columns of [`SELECT_ATTACHMENT`] and
/// the link's `expiration_time`.
pub const SELECT_ATTACHMENTS_OF: &str = concat!(
    "SELECT ",
    attachment_columns!(),
    ", l.expiration_time
     FROM correspondence_attachments l JOIN attachments a ON a.id = l.attachment_id
     WHERE l.correspondence_id = $1 ORDER BY l.position"
);

/// Appends to an attachment's status log. Binds `$1` attachment id, `$2` status value, `$3`
/// status text, `$4` time.
pub const INSERT_ATTACHMENT_STATUS: &str = "INSERT INTO attachment_statuses
        (attachment_id, status, status_text, changed_at)
     VALUES ($1, $2, $3, $4)";

/// Attachment `$1`'s status log in write order: `status`, `status_text`, `changed_at`.
pub const SELECT_ATTACHMENT_STATUSES: &str = "SELECT status, status_text, changed_at
     FROM attachment_statuses WHERE attachment_id = $1 ORDER BY id";

/// The ids of the letters that use attachment `$1`, sorted.
pub const SELECT_ATTACHMENT_LETTERS: &str = "SELECT correspondence_id
     FROM correspondence_attachments WHERE attachment_id = $1 ORDER BY correspondence_id";

/// Records an uploaded file on attachment `$5`: `$1` storage key, `$2` size in bytes, `$3` MD5
/// checksum, `$4` CRC-32.
pub const UPDATE_ATTACHMENT_FILE: &str = "UPDATE attachments
     SET storage_key = $1, size = $2, checksum = $3, crc32 = $4
     WHERE id = $5";

/// Links letter `$1` to attachment `$2` at position `$3` (0-based, the request's order), with
/// the link's expiration time `$4` (or NULL).
pub const INSERT_LINK: &str = "INSERT INTO correspondence_attachments
        (correspondence_id, attachment_id, position, expiration_time)
     VALUES ($1, $2, $3, $4)";

/// Records the outcome of processing order `$1` if its status is still `$5` (Registered): its
/// new status `$2` (a name as `OrderStatus::name` writes it), the processing time `$3` and the
/// lookup record `$4` (a JSON array). Returns `1` when it did, no row otherwise.
pub const PROCESS_ORDER: &str = "UPDATE notification_orders
     SET status = $2, processed = $3, lookup = $4
     WHERE id = $1 AND status = $5
     RETURNING 1";

/// Whether notification order `$1` exists (one boolean).
pub const ORDER_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM notification_orders WHERE id = $1)";

/// Whether notification `$1` exists (one boolean).
pub const NOTIFICATION_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM notifications WHERE id = $1)";

/// Sets the status of order `$1` to `$2` if it is `$3` (status names); affects one row or none.
pub const CHANGE_ORDER_STATUS: &str =
    "UPDATE notification_orders SET status = $2 WHERE id = $1 AND status = $3";

/// Sets the status of letter `$1`'s orders that are `$3` to `$2` (status names).
pub const CHANGE_ORDER_STATUSES_OF: &str =
    "UPDATE notification_orders SET status = $2 WHERE correspondence_id = $1 AND status = $3";

/// Sets the status of letter `$1`'s notifications that are `$3` to `$2` (status names), with
/// detail `$4`.
pub const CHANGE_NOTIFICATION_STATUSES_OF: &str =
    "UPDATE notifications SET status = $2, detail = $4
     WHERE correspondence_id = $1 AND status = $3";

/// Keeps a delivery report that matched no notification. Binds `$1` time received, `$2` channel
/// name (`Email`, `Sms`), `$3` the report's text.
pub const INSERT_UNMATCHED_REPORT: &str =
    "INSERT INTO unmatched_delivery_reports (received, channel, body) VALUES ($1, $2, $3)";

/// The newest `$1` unmatched delivery reports, newest first (ties: the later written first):
/// `id`, `received`, `channel`, `body`.
pub const SELECT_UNMATCHED_REPORTS: &str = "SELECT id, received, channel, body
     FROM unmatched_delivery_reports ORDER BY received DESC, id DESC LIMIT $1";

/// The order clause of a letter's orders: main notices first, then by creation (ties by id).
pub const ORDERS_IN_ORDER: &str = "ORDER BY CASE kind WHEN 'Main' THEN 0 ELSE 1 END, created, id";
