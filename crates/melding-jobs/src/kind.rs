//! Job kinds as types. A kind is one Rust type: its name in the `kind` column, its payload as
//! serde, and (through [`Handle`](crate::Handle)) one handler. Enqueueing goes through
//! [`JobKind::due_at`] and running through [`JobKind::from_job`], so no call site writes a kind
//! string or payload JSON by hand, and the stored shape of every kind is decided in one place.
//!
//! Rows outlive versions: a row written by an older Melding is read by a newer one (and, while
//! nodes are upgraded one by one, the other way round). So a kind's name and its payload's field
//! names are a storage format: they never change once released.

use chrono::{DateTime, Utc};
use melding_domain::CorrespondenceId;
use melding_store::{Job, NewJob};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The payload field that a kind with [`JobKind::LETTER_IN_COLUMN`] keeps in the row's
/// `correspondence_id` column instead of in the payload.
pub const LETTER_FIELD: &str = "correspondenceId";

/// One kind of job: a serde type whose value is the job's payload.
///
/// Implement it for a `#[derive(Serialize, Deserialize)]` type, give it its [`KIND`] and dedupe
/// key, implement [`Handle`](crate::Handle) for the handler, and register the handler with the
/// runner ([`JobHandler::new`](crate::JobHandler::new), [`Runner::register`](crate::Runner::register)).
///
/// The provided [`due_at`](JobKind::due_at) and [`from_job`](JobKind::from_job) are the one
/// mapping between a kind and its rows; kinds do not override them.
///
/// [`KIND`]: JobKind::KIND
pub trait JobKind: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The `kind` column: how the runner finds this kind's handler. Stored in rows, so it never
    /// changes once released.
    const KIND: &'static str;

    /// Attempts before the job is moved to the dead letters (each failed or panicked attempt
    /// counts; a [`RunAgainAt`](crate::Outcome::RunAgainAt) does not). Ten unless a kind says
    /// otherwise: with the runner's back-off (2 s, 4 s, … ±25 %) that is about 17 minutes.
    const MAX_ATTEMPTS: u32 = 10;

    /// Whether the job's [`LETTER_FIELD`] (`correspondenceId`, a [`CorrespondenceId`]) is kept
    /// in the row's `correspondence_id` column rather than in the payload. Kinds that have
    /// always been stored that way (payload `null`, the letter in the column) say `true`, so
    /// their rows keep the shape they have always had; new kinds keep the default `false`.
    const LETTER_IN_COLUMN: bool = false;

    /// The row's unique dedupe key: enqueueing a second job with the same key keeps the first.
    /// Stored in rows, so a kind keeps its key's shape once released.
    fn dedupe_key(&self) -> String;

    /// The row that enqueues this job, due at `run_at` (UTC), to hand to a store write in the
    /// same transaction as the change that causes the job.
    ///
    /// # Panics
    /// If the type's `Serialize` fails or, for a kind with [`JobKind::LETTER_IN_COLUMN`], its
    /// `correspondenceId` is not a correspondence id: a bug in the kind's definition, which the
    /// kind's own tests catch (derived impls over ids and strings never fail).
    fn due_at(&self, run_at: DateTime<Utc>) -> NewJob {
        let mut payload =
            serde_json::to_value(self).expect("a job kind's payload serializes to JSON");
        let mut correspondence_id = None;
        if Self::LETTER_IN_COLUMN
            && let serde_json::Value::Object(fields) = &mut payload
        {
            correspondence_id = fields.remove(LETTER_FIELD).map(|id| {
                serde_json::from_value::<CorrespondenceId>(id)
                    .expect("a job kind's correspondenceId is a correspondence id")
            });
            if fields.is_empty() {
                payload = serde_json::Value::Null;
            }
        }
        NewJob {
            kind: Self::KIND.to_owned(),
            dedupe_key: self.dedupe_key(),
            correspondence_id,
            run_at,
            max_attempts: Self::MAX_ATTEMPTS,
            payload,
        }
    }

    /// Reads the job back from a claimed row (the reverse of [`JobKind::due_at`]).
    ///
    /// # Errors
    /// [`DecodeError::WrongKind`] when the row is of another kind; [`DecodeError::Payload`] when
    /// its payload (with, for [`JobKind::LETTER_IN_COLUMN`], the letter from its column) is not
    /// this kind's shape.
    fn from_job(job: &Job) -> Result<Self, DecodeError> {
        if job.kind != Self::KIND {
            return Err(DecodeError::WrongKind {
                expected: Self::KIND,
                found: job.kind.clone(),
            });
        }
        let mut payload = job.payload.clone();
        if Self::LETTER_IN_COLUMN {
            if payload.is_null() {
                payload = serde_json::Value::Object(serde_json::Map::new());
            }
            if let (serde_json::Value::Object(fields), Some(id)) =
                (&mut payload, job.correspondence_id)
            {
                fields
                    .entry(LETTER_FIELD)
                    .or_insert_with(|| serde_json::Value::String(id.to_string()));
            }
        }
        serde_json::from_value(payload).map_err(|source| DecodeError::Payload {
            kind: Self::KIND,
            source,
        })
    }
}

/// A claimed row that is not a job of the expected kind.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The row's `kind` column names another kind.
    #[error("a {found} job is not a {expected} job")]
    WrongKind {
        /// The kind that was asked for.
        expected: &'static str,
        /// The row's `kind` column.
        found: String,
    },
    /// The row's payload does not have this kind's fields; retrying cannot change that.
    #[error("the payload of this {kind} job cannot be read: {source}")]
    Payload {
        /// The kind that was asked for.
        kind: &'static str,
        /// What serde found wrong, with the field.
        source: serde_json::Error,
    },
}
