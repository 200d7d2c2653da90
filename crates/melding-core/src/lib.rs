//! Melding's use cases. Each takes the caller's [`Principal`], decides access before it shows
//! anything of a letter, applies the lifecycle rules of `melding-domain`, and records side
//! effects as jobs in the same write as the change.
//!
//! This crate is generic over the storage traits and never names a database.
#![forbid(unsafe_code)]

mod access;
mod error;
pub mod initialize;
mod lifecycle;
mod principal;
mod publish;
mod read;
mod search;

use std::sync::Arc;

use melding_domain::Clock;
use melding_jobs::Waker;
use melding_store::Store;

pub use access::Access;
pub use error::{CoreError, Rule};
pub use initialize::{InitializeRequest, Initialized, InitializedLetter};
pub use principal::{Principal, scopes};
pub use publish::PublishJob;
pub use read::LetterView;
pub use search::{MAX_PAGE, SearchRequest, SearchResult, decode_cursor, encode_cursor};

/// The use cases, bound to one store and one clock.
#[derive(Clone)]
pub struct Melding {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    waker: Waker,
}

impl std::fmt::Debug for Melding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Melding").finish_non_exhaustive()
    }
}

impl Melding {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, waker: Waker) -> Self {
        Self {
            store,
            clock,
            waker,
        }
    }

    /// The job handlers this crate defines, for the runner.
    pub fn job_handlers(&self) -> Vec<Arc<dyn melding_jobs::JobHandler>> {
        vec![Arc::new(PublishJob::new(
            self.store.clone(),
            self.clock.clone(),
        ))]
    }
}
