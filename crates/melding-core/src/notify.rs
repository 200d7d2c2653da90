//! Notifications: the e-mail and SMS that tell a recipient a letter has arrived, and the
//! reminder if it stays unread (reference §8, `reference/delivery-chain.md` §1).
//!
//! The chain, each step a job written in the same transaction as the change that causes it:
//! 1. initialize writes the letter's notification orders (nothing is sent yet);
//! 2. publishing enqueues [`ProcessNotificationOrder`] for each order, due at its send time
//!    (the reminder 7 days later by default);
//! 3. processing checks the send condition, looks the recipient's contact points up
//!    ([`contacts`]) and writes one notification per address with a [`SendNotification`] job;
//! 4. sending checks the condition again at the moment of hand-over, holds SMS for the daytime
//!    window, and hands the message to SMTP or the SMS gateway with the notification's id as
//!    its idempotency key;
//! 5. purging or failing the letter enqueues [`CancelNotifications`], which cancels what has
//!    not been sent.
//!
//! Every confidential letter to an organisation also gets a confidential reminder order of
//! Melding's own (reference §8.5, [`confidential`]).
//!
//! [`request`] checks the notification order of an initialize request (3001–3025) and turns it
//! into the order rows written with the letters.

mod confidential;
pub mod contacts;
mod inspect;
mod jobs;
mod process;
mod request;
mod send;

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use melding_delivery::email::EmailSender;
use melding_delivery::sms::{SmsSender, SmsSenderId};

/// The formats an SMS gateway posts delivery reports in (generic JSON, LINK PSWin XML),
/// re-exported so the HTTP layer can name them without depending on `melding-delivery`.
pub use melding_delivery::sms::ReportFormat as SmsReportFormat;
use melding_domain::EmailAddress;
use melding_domain::notification::DeliveryChannel;

pub(crate) use confidential::confidential_reminder_order;
pub use confidential::{
    CONFIDENTIAL_REMINDER_BODY, CONFIDENTIAL_REMINDER_RESOURCE, CONFIDENTIAL_REMINDER_SUBJECT,
    DEFAULT_CONFIDENTIAL_REMINDER_DELAY_DAYS, ReminderLanguage,
};
pub use inspect::{DeliveryReportError, OrderView, ReportsRecorded};
pub(crate) use jobs::notification_handlers;
pub use jobs::{CancelNotifications, ProcessNotificationOrder, SendNotification};
pub(crate) use request::{CheckedNotification, build_orders, check_notification};
pub use request::{CustomRecipient, NotificationRequest, NotificationSettings};

/// A rate limiter of one channel: at most so many messages per second from this node.
type Limiter = governor::DefaultDirectRateLimiter;

/// The outbound channels notifications use, and how they are sent. Without them
/// ([`crate::Melding::with_notification_channels`] not called), notifications wait in the queue
/// as `New` and are retried, so nothing is lost while a node is misconfigured.
#[derive(Clone)]
pub struct NotificationChannels {
    pub(crate) email: Arc<dyn EmailSender>,
    sms: Arc<dyn SmsSender>,
    pub(crate) from: EmailAddress,
    pub(crate) from_name: Option<String>,
    sms_sender: SmsSenderId,
    email_rate: Option<Arc<Limiter>>,
    sms_rate: Option<Arc<Limiter>>,
    paused: Arc<Mutex<Pauses>>,
}

impl std::fmt::Debug for NotificationChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationChannels")
            .field("from", &self.from)
            .field("sms_sender", &self.sms_sender)
            .finish_non_exhaustive()
    }
}

/// Until when a provider asked us not to send (HTTP 429, `delivery-chain.md` §1.14 and rule 21).
#[derive(Debug, Default)]
struct Pauses {
    email: Option<DateTime<Utc>>,
    sms: Option<DateTime<Utc>>,
}

impl NotificationChannels {
    /// Channels sending e-mail through `email` from `from` (shown as `from_name`) and SMS
    /// through `sms` as `sms_sender`, with no rate limit.
    pub fn new(
        email: Arc<dyn EmailSender>,
        sms: Arc<dyn SmsSender>,
        from: EmailAddress,
        from_name: Option<String>,
        sms_sender: SmsSenderId,
    ) -> Self {
        Self {
            email,
            sms,
            from,
            from_name,
            sms_sender,
            email_rate: None,
            sms_rate: None,
            paused: Arc::default(),
        }
    }

    /// Sends at most `per_second` messages per second on `channel` from this node (a token
    /// bucket of the `governor` crate, on the wall clock: a throughput limit, not a business
    /// time). `None` removes the limit.
    pub fn with_rate(mut self, channel: DeliveryChannel, per_second: Option<NonZeroU32>) -> Self {
        let limiter = per_second.map(|n| {
            Arc::new(governor::RateLimiter::direct(governor::Quota::per_second(
                n,
            )))
        });
        match channel {
            DeliveryChannel::Email => self.email_rate = limiter,
            DeliveryChannel::Sms => self.sms_rate = limiter,
        }
        self
    }

    pub(crate) fn paused_until(
        &self,
        channel: DeliveryChannel,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let p = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let until = match channel {
            DeliveryChannel::Email => p.email,
            DeliveryChannel::Sms => p.sms,
        };
        until.filter(|u| *u > now)
    }

    pub(crate) fn pause(&self, channel: DeliveryChannel, until: DateTime<Utc>) {
        let mut p = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match channel {
            DeliveryChannel::Email => &mut p.email,
            DeliveryChannel::Sms => &mut p.sms,
        };
        *slot = Some(slot.map_or(until, |u| u.max(until)));
    }

    pub(crate) async fn wait_for_rate(&self, channel: DeliveryChannel) {
        let limiter = match channel {
            DeliveryChannel::Email => &self.email_rate,
            DeliveryChannel::Sms => &self.sms_rate,
        };
        if let Some(l) = limiter {
            l.until_ready().await;
        }
    }
}
