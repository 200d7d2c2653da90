//! Melding's use cases. Access is decided in one module, [`access`]: a use case that shows or
//! changes a letter, an attachment or a delegation takes the handle that module hands out after
//! its decision ([`LetterAccess`], [`RecipientAccess`], [`AttachmentAccess`],
//! [`DelegationAccess`]); the others take the caller's [`Principal`] and decide through it
//! before they show anything. Use cases apply the lifecycle rules of `melding-domain` and record
//! side effects as jobs in the same write as the change.
//!
//! This crate is generic over the storage traits and never names a database.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod attachments;
pub mod contact_details;
pub mod delegation;
pub mod delivery;
mod dialog;
mod error;
pub mod forward;
pub mod inbox;
pub mod initialize;
mod jobs;
mod lifecycle;
pub mod notify;
mod principal;
mod publish;
mod read;
mod search;
pub mod session;
#[cfg(test)]
mod test_support;
mod upload;

use std::sync::Arc;

use melding_blob::BlobStore;
use melding_domain::Clock;
use melding_jobs::Waker;
use melding_scan::Scanner;
use melding_store::Store;

pub use access::{
    AttachmentAccess, DelegationAccess, LetterAccess, RecipientAccess, SenderAccess, Side,
};
pub use delivery::{
    ChainPolicy, DeliveryChannels, DeliverySettings, LetterRenderer, PrintableLetter,
    RenderedLetter,
};
pub use error::{CoreError, Rule};
pub use forward::{ForwardCorrespondence, ForwardRequest, ForwardingSettings};
pub use inbox::{InboxEntry, InboxPage, InboxRequest, MAX_INBOX_PAGE};
pub use initialize::{
    ContentInput, InitializeRequest, Initialized, InitializedLetter, InitializedOrder,
};
pub use jobs::{
    AttachmentSettled, DeleteBlob, ExpireAttachment, PurgeLetterAttachments, ScanAttachment,
};
pub use notify::{
    CancelNotifications, CustomRecipient, NotificationChannels, NotificationRequest,
    NotificationSettings, ProcessNotificationOrder, ReminderLanguage, SendNotification,
};
pub use principal::{Principal, scopes};
pub use publish::Publish;
pub use read::LetterView;
pub use search::{MAX_PAGE, SearchRequest, SearchResult, decode_cursor, encode_cursor};
pub use session::{Login, Session, SessionSettings};

/// The use cases, bound to one store and one clock.
#[derive(Clone)]
pub struct Melding {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    scanner: Option<Arc<dyn Scanner>>,
    clock: Arc<dyn Clock>,
    waker: Waker,
    min_expiration_days: i32,
    notification_channels: Option<NotificationChannels>,
    notifications: NotificationSettings,
    forwarding: ForwardingSettings,
    delivery: DeliverySettings,
    delivery_channels: Option<DeliveryChannels>,
    sessions: SessionSettings,
}

impl std::fmt::Debug for Melding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Melding").finish_non_exhaustive()
    }
}

impl Melding {
    /// The use cases over `store` (letters, attachments' rows, registries, jobs), `blobs`
    /// (attachment bytes), `clock` (all times they write) and `waker` (nudges the job runner
    /// after a write that enqueued jobs). No malware scanner until [`Melding::with_scanner`].
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        waker: Waker,
    ) -> Self {
        Self {
            store,
            blobs,
            scanner: None,
            clock,
            waker,
            min_expiration_days: melding_domain::attachment::MIN_EXPIRATION_DAYS,
            notification_channels: None,
            notifications: NotificationSettings::default(),
            forwarding: ForwardingSettings::default(),
            delivery: DeliverySettings::default(),
            delivery_channels: None,
            sessions: SessionSettings::default(),
        }
    }

    /// Runs the web inbox's sessions with `settings` (idle and absolute timeouts).
    pub fn with_session_settings(mut self, settings: SessionSettings) -> Self {
        self.sessions = settings;
        self
    }

    /// Scans every uploaded attachment with `scanner` before it is published.
    pub fn with_scanner(mut self, scanner: Arc<dyn Scanner>) -> Self {
        self.scanner = Some(scanner);
        self
    }

    /// Accepts `expirationInDays` from `days` (Altinn: 14 in production, 1 in test
    /// environments).
    pub fn with_min_expiration_days(mut self, days: i32) -> Self {
        self.min_expiration_days = days;
        self
    }

    /// Sends notifications through `channels` (e-mail and SMS). Without them notifications wait
    /// in the queue, retried, until a node that has them sends them.
    pub fn with_notification_channels(mut self, channels: NotificationChannels) -> Self {
        self.notification_channels = Some(channels);
        self
    }

    /// Writes notification orders with `settings` (reminder delay, senders that may use stale
    /// KRR addresses) instead of [`NotificationSettings::default`].
    pub fn with_notification_settings(mut self, settings: NotificationSettings) -> Self {
        self.notifications = settings;
        self
    }

    /// Composes forwarded letters' e-mails with `settings` (how many bytes of attachments go
    /// along as files) instead of [`ForwardingSettings::default`].
    pub fn with_forwarding_settings(mut self, settings: ForwardingSettings) -> Self {
        self.forwarding = settings;
        self
    }

    /// Routes letters and decides print by `settings` (the chain per resource, the
    /// business-day calendar) instead of [`DeliverySettings::default`] (the chain off).
    pub fn with_delivery_settings(mut self, settings: DeliverySettings) -> Self {
        self.delivery = settings;
        self
    }

    /// Renders letters and hands them to print and to digital mailboxes through `channels`.
    /// Without them, routing and print decisions are still made and recorded; the hand-over
    /// waits, retried, for a node that has them.
    pub fn with_delivery_channels(mut self, channels: DeliveryChannels) -> Self {
        self.delivery_channels = Some(channels);
        self
    }

    /// The handlers of every job kind this crate defines, for the runner
    /// ([`melding_jobs::Runner::register`]).
    pub fn job_handlers(&self) -> Vec<melding_jobs::JobHandler> {
        let mut handlers = vec![melding_jobs::JobHandler::new::<Publish>(self.clone())];
        handlers.extend(jobs::attachment_handlers(self));
        handlers.extend(notify::notification_handlers(self));
        handlers.extend(delivery::delivery_handlers(self));
        handlers.push(melding_jobs::JobHandler::new::<ForwardCorrespondence>(
            self.clone(),
        ));
        handlers
    }
}

// The multipart letter's files (reference §4.2), received through core so that the HTTP edge
// never writes blobs itself.
pub use upload::LetterUpload;
// What the HTTP edge needs from the crates below core, so that it depends on core alone
// (DESIGN.md: melding-http depends on core, api-types and domain).
pub use melding_jobs::RunnerStats;
pub use melding_store::{JobStore, SearchRole, StoreError, StoreHealth};
/// The download-all zip (stored entries, length known up front), re-exported for the HTTP edge.
pub use melding_zip as zip;
