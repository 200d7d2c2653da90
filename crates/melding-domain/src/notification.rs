//! Notification orders and notifications: the e-mail and SMS that tell a recipient a letter has
//! arrived, and the reminder if it stays unread.
//!
//! The shapes follow Altinn Correspondence and Altinn Notifications
//! (`reference/correspondence-api.md` §8, `reference/delivery-chain.md` §1):
//! - a **notification order** ([`NotificationOrder`]) is written with the letter, one per
//!   distinct recipient and phase (the main notice, and the reminder when `sendReminder`). It
//!   names whom to notify (the letter's recipient, or a custom recipient), the channel, the
//!   template and the sender's texts. Nothing is sent before the letter is published.
//! - when an order's time comes and its send condition holds ([`send_condition`]), the
//!   recipient's contact points are looked up and one **notification** ([`Notification`]) is
//!   written per address, with what the lookup considered ([`ContactDecision`]).
//! - each notification is then handed to SMTP or the SMS gateway on its own, after the
//!   condition is checked again, SMS only inside the daytime window ([`sms_window_opens`]).
//!
//! Status names are Altinn's, with its prefixes on the wire: `Order_*` for orders, `Email_*` and
//! `SMS_*` for notifications (`delivery-chain.md` §1.13, rule 19).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Oslo;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contact::{EmailAddress, MobileNumber};
use crate::ids::CorrespondenceId;
use crate::recipient::Party;
use crate::status::{CorrespondenceStatus, StatusHistory};

/// How a recipient is notified (Altinn's `NotificationChannel`, reference §8.1 and
/// `delivery-chain.md` §1.5). The integers are Altinn's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotificationChannel {
    /// E-mail only (0). What an order without a channel gets (reference §8.1 quirk).
    Email,
    /// SMS only (1).
    Sms,
    /// E-mail where there is an address, else SMS (2).
    EmailPreferred,
    /// SMS where there is a number, else e-mail (3).
    SmsPreferred,
    /// Both, independently (4).
    EmailAndSms,
}

impl NotificationChannel {
    /// Every channel, in Altinn's integer order.
    pub const ALL: [NotificationChannel; 5] = [
        NotificationChannel::Email,
        NotificationChannel::Sms,
        NotificationChannel::EmailPreferred,
        NotificationChannel::SmsPreferred,
        NotificationChannel::EmailAndSms,
    ];

    /// Altinn's integer for the channel (0–4).
    pub fn value(self) -> i32 {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or_default() as i32
    }

    /// The channel for Altinn's integer, or `None` outside 0–4.
    pub fn from_value(v: i64) -> Option<Self> {
        usize::try_from(v)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// Altinn's name for the channel, e.g. `EmailPreferred`.
    pub fn name(self) -> &'static str {
        match self {
            NotificationChannel::Email => "Email",
            NotificationChannel::Sms => "Sms",
            NotificationChannel::EmailPreferred => "EmailPreferred",
            NotificationChannel::SmsPreferred => "SmsPreferred",
            NotificationChannel::EmailAndSms => "EmailAndSms",
        }
    }

    /// The channel with this name, case-insensitively, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether the channel can send e-mail at all (so the order needs e-mail texts).
    pub fn uses_email(self) -> bool {
        self != NotificationChannel::Sms
    }

    /// Whether the channel can send SMS at all (so the order needs an SMS text).
    pub fn uses_sms(self) -> bool {
        self != NotificationChannel::Email
    }
}

/// Altinn's notification templates (`notificationTemplate`, reference §8.1–8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotificationTemplate {
    /// The sender's texts verbatim, after keyword replacement (0, the default).
    CustomMessage,
    /// Fixed sentences in nb, nn or en about a new message, with the sender's text inserted (1).
    GenericAltinnMessage,
}

impl NotificationTemplate {
    /// The template for Altinn's integer (0 or 1), or `None`.
    pub fn from_value(v: i64) -> Option<Self> {
        match v {
            0 => Some(NotificationTemplate::CustomMessage),
            1 => Some(NotificationTemplate::GenericAltinnMessage),
            _ => None,
        }
    }

    /// The template with this name, case-insensitively, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "custommessage" => Some(NotificationTemplate::CustomMessage),
            "genericaltinnmessage" => Some(NotificationTemplate::GenericAltinnMessage),
            _ => None,
        }
    }

    /// Altinn's name, e.g. `CustomMessage`.
    pub fn name(self) -> &'static str {
        match self {
            NotificationTemplate::CustomMessage => "CustomMessage",
            NotificationTemplate::GenericAltinnMessage => "GenericAltinnMessage",
        }
    }
}

/// Whether an e-mail body is plain text or HTML (`emailContentType`, reference §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum EmailContentType {
    /// Plain text (0, the default).
    #[default]
    Plain,
    /// HTML (1).
    Html,
}

/// Which notice of a letter an order is: the one at publication or the reminder
/// (Altinn's shipment types `Notification` and `Reminder`, `delivery-chain.md` §1.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderKind {
    /// The notice sent when the letter is published. Its condition ignores Read.
    Main,
    /// The reminder, sent [`NotificationOrder::requested_send_time`] later and only if the
    /// letter is still unread.
    Reminder,
    /// The e-mail telling an organisation that a confidential letter to it is still unopened,
    /// 7 days after its requested publish time (reference §8.5). Not ordered by the sender: every
    /// confidential letter to an organisation gets one. It goes only if the letter has never been
    /// opened (no Fetched, no Read); opening it as recipient removes it (reference §4.3).
    ConfidentialReminder,
}

impl OrderKind {
    /// `Notification` or `Reminder`, as Altinn names shipment types; `ConfidentialReminder`
    /// for the unopened-confidential e-mail, which Altinn sends as an order of its own.
    pub fn name(self) -> &'static str {
        match self {
            OrderKind::Main => "Notification",
            OrderKind::Reminder => "Reminder",
            OrderKind::ConfidentialReminder => "ConfidentialReminder",
        }
    }
}

/// The sender's own texts for one phase of an order (`emailSubject`, `emailBody`, `smsBody`,
/// `emailContentType`, or the `reminder…` ones, reference §8.1). Lengths are checked at the
/// edge: subject ≤ 512, e-mail body ≤ 10 000, SMS body ≤ 2 144 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationTexts {
    /// Inserted into the template's e-mail subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_subject: Option<String>,
    /// Inserted into the template's e-mail body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_body: Option<String>,
    /// Whether the e-mail body is plain text or HTML.
    #[serde(default)]
    pub email_content_type: EmailContentType,
    /// Inserted into the template's SMS body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_body: Option<String>,
}

/// Whom an order notifies (reference §8.3: the letter's recipient unless overridden, plus custom
/// recipients; `delivery-chain.md` §1.4 recipient variants).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderRecipient {
    /// A party whose contact points are looked up when the order is processed: KRR for a
    /// person, official addresses and registered contacts for an organisation, the login
    /// address for an ID-porten e-mail user.
    Party(Party),
    /// A bare e-mail address given by the sender.
    Email(EmailAddress),
    /// A bare mobile number given by the sender, E.164.
    Mobile(MobileNumber),
}

impl OrderRecipient {
    /// The key Altinn deduplicates recipients by (reference §8.3): the party URN, or the
    /// lower-cased e-mail address, or the mobile number.
    pub fn dedupe_key(&self) -> String {
        match self {
            OrderRecipient::Party(p) => p.urn(),
            OrderRecipient::Email(e) => format!("email:{}", e.as_str().to_lowercase()),
            OrderRecipient::Mobile(m) => format!("sms:{}", m.as_str()),
        }
    }
}

/// Where an order is in its life (Altinn's `OrderProcessingStatus`, `delivery-chain.md` §1.10;
/// on the wire `Order_<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Written, waiting for its send time (and, before that, for the letter's publication).
    Registered,
    /// Contact points looked up and notifications written; they are being sent.
    Processed,
    /// Every notification has a final result.
    Completed,
    /// The send condition said no when the order's time came: nothing was sent.
    SendConditionNotMet,
    /// Cancelled before it was processed (the letter was purged or failed before publication).
    Cancelled,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Registered,
        OrderStatus::Processed,
        OrderStatus::Completed,
        OrderStatus::SendConditionNotMet,
        OrderStatus::Cancelled,
    ];

    /// The status's name without prefix, e.g. `SendConditionNotMet`.
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::Registered => "Registered",
            OrderStatus::Processed => "Processed",
            OrderStatus::Completed => "Completed",
            OrderStatus::SendConditionNotMet => "SendConditionNotMet",
            OrderStatus::Cancelled => "Cancelled",
        }
    }

    /// The status for a name as [`OrderStatus::name`] writes it, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.name() == s)
    }

    /// The wire name, e.g. `Order_Completed`.
    pub fn wire(self) -> String {
        format!("Order_{}", self.name())
    }
}

/// A notification order, written in the same transaction as its letter (reference §8.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationOrder {
    /// Deterministic: derived from the letter, the recipient's dedupe key and the kind
    /// ([`NotificationOrder::id_for`]), so writing an order twice is the same order.
    pub id: Uuid,
    /// The letter the order is about.
    pub correspondence_id: CorrespondenceId,
    /// The main notice or the reminder.
    pub kind: OrderKind,
    /// Whom to notify.
    pub recipient: OrderRecipient,
    /// How.
    pub channel: NotificationChannel,
    /// Which texts.
    pub template: NotificationTemplate,
    /// The sender's texts for this phase.
    pub texts: NotificationTexts,
    /// Notify a person even when they are reserved in KRR (the letter's `ignoreReservation`).
    pub ignore_reservation: bool,
    /// Use KRR addresses older than 18 months (senders configured like the tax authority,
    /// `delivery-chain.md` §1.4 "Known quirk").
    pub use_stale_contacts: bool,
    /// When the order is due (UTC): for the main notice the later of creation and the
    /// letter's requested publish time; for the reminder that plus the reminder delay. The job
    /// runs at the later of this and the publication.
    pub requested_send_time: DateTime<Utc>,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// When it was written (UTC).
    pub created: DateTime<Utc>,
}

impl NotificationOrder {
    /// The order id for a letter, recipient key ([`OrderRecipient::dedupe_key`]) and kind: a
    /// UUIDv5 in the letter's namespace, as Altinn derives its idempotency ids (`delivery-chain.md`
    /// §8).
    pub fn id_for(letter: CorrespondenceId, recipient_key: &str, kind: OrderKind) -> Uuid {
        let name = format!("{}:{}", kind.name(), recipient_key);
        Uuid::new_v5(&letter.as_uuid(), name.as_bytes())
    }
}

/// The two ways a notification travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeliveryChannel {
    /// E-mail (wire prefix `Email_`).
    Email,
    /// SMS (wire prefix `SMS_`).
    Sms,
}

impl DeliveryChannel {
    /// `Email` or `Sms`, as stored.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryChannel::Email => "Email",
            DeliveryChannel::Sms => "Sms",
        }
    }

    /// The channel for a stored name, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Email" => Some(DeliveryChannel::Email),
            "Sms" => Some(DeliveryChannel::Sms),
            _ => None,
        }
    }
}

/// A notification's result (Altinn's `EmailNotificationResultType` and
/// `SmsNotificationResultType`, `delivery-chain.md` §1.13), plus [`NotificationStatus::Cancelled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotificationStatus {
    /// Waiting to be sent (also after a transient failure).
    New,
    /// Accepted by the SMTP server (`Email_Succeeded`).
    Succeeded,
    /// Accepted by the SMS gateway (`SMS_Accepted`).
    Accepted,
    /// Reported delivered by the provider.
    Delivered,
    /// Failed for a reason without a name of its own.
    Failed,
    /// The person is reserved in KRR and the letter does not ignore it: no address used.
    FailedRecipientReserved,
    /// No usable address was found for the recipient.
    FailedRecipientNotIdentified,
    /// The e-mail address was refused as malformed.
    FailedInvalidEmailFormat,
    /// The mobile number was refused by the gateway (`SMS_Failed_InvalidRecipient`).
    FailedInvalidRecipient,
    /// The mail system bounced it.
    FailedBounced,
    /// Not accepted before its expiry ([`expiry_of`]); Altinn's TTL failure.
    FailedTtl,
    /// The SMS gateway reported it undelivered.
    FailedUndelivered,
    /// The SMS gateway reported it expired in the network.
    FailedExpired,
    /// The SMS gateway reported it deleted.
    FailedDeleted,
    /// The SMS gateway reported it rejected.
    FailedRejected,
    /// The SMS gateway reported the receiver barred.
    FailedBarredReceiver,
    /// Melding's own: the send condition said no when the message was about to be handed over
    /// (the letter was read, purged or failed meanwhile), so nothing was sent.
    Cancelled,
}

impl NotificationStatus {
    /// Every status.
    pub const ALL: [NotificationStatus; 17] = [
        NotificationStatus::New,
        NotificationStatus::Succeeded,
        NotificationStatus::Accepted,
        NotificationStatus::Delivered,
        NotificationStatus::Failed,
        NotificationStatus::FailedRecipientReserved,
        NotificationStatus::FailedRecipientNotIdentified,
        NotificationStatus::FailedInvalidEmailFormat,
        NotificationStatus::FailedInvalidRecipient,
        NotificationStatus::FailedBounced,
        NotificationStatus::FailedTtl,
        NotificationStatus::FailedUndelivered,
        NotificationStatus::FailedExpired,
        NotificationStatus::FailedDeleted,
        NotificationStatus::FailedRejected,
        NotificationStatus::FailedBarredReceiver,
        NotificationStatus::Cancelled,
    ];

    /// The name without prefix, as Altinn writes it, e.g. `Failed_TTL`.
    pub fn name(self) -> &'static str {
        match self {
            NotificationStatus::New => "New",
            NotificationStatus::Succeeded => "Succeeded",
            NotificationStatus::Accepted => "Accepted",
            NotificationStatus::Delivered => "Delivered",
            NotificationStatus::Failed => "Failed",
            NotificationStatus::FailedRecipientReserved => "Failed_RecipientReserved",
            NotificationStatus::FailedRecipientNotIdentified => "Failed_RecipientNotIdentified",
            NotificationStatus::FailedInvalidEmailFormat => "Failed_InvalidEmailFormat",
            NotificationStatus::FailedInvalidRecipient => "Failed_InvalidRecipient",
            NotificationStatus::FailedBounced => "Failed_Bounced",
            NotificationStatus::FailedTtl => "Failed_TTL",
            NotificationStatus::FailedUndelivered => "Failed_Undelivered",
            NotificationStatus::FailedExpired => "Failed_Expired",
            NotificationStatus::FailedDeleted => "Failed_Deleted",
            NotificationStatus::FailedRejected => "Failed_Rejected",
            NotificationStatus::FailedBarredReceiver => "Failed_BarredReceiver",
            NotificationStatus::Cancelled => "Cancelled",
        }
    }

    /// The status for a name as [`NotificationStatus::name`] writes it, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.name() == s)
    }

    /// The wire name on `channel`, e.g. `Email_Succeeded` or `SMS_Failed_TTL`.
    pub fn wire(self, channel: DeliveryChannel) -> String {
        match channel {
            DeliveryChannel::Email => format!("Email_{}", self.name()),
            DeliveryChannel::Sms => format!("SMS_{}", self.name()),
        }
    }

    /// Whether the notification will not be sent (again): anything but [`NotificationStatus::New`].
    pub fn is_handed_over_or_final(self) -> bool {
        self != NotificationStatus::New
    }

    /// Whether the provider took it (accepted or delivered).
    pub fn is_sent(self) -> bool {
        matches!(
            self,
            NotificationStatus::Succeeded
                | NotificationStatus::Accepted
                | NotificationStatus::Delivered
        )
    }

    /// Whether no further report can change it: delivered, failed or cancelled.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            NotificationStatus::New | NotificationStatus::Succeeded | NotificationStatus::Accepted
        )
    }
}

/// Where an address a lookup considered came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ContactSource {
    /// The person's entry in KRR.
    Krr,
    /// An organisation's official notification address (varslingsadresse).
    OfficialAddress,
    /// A contact a person registered for the organisation; the person's right to read the
    /// resource is checked again just before sending.
    RegisteredContact {
        /// The person who registered it, as a party URN (never shown in texts).
        person_urn: String,
    },
    /// The login address of an ID-porten e-mail user.
    Login,
    /// Given by the sender as a custom recipient.
    Custom,
}

/// What a lookup did with one address (or with a recipient that had none), kept for support:
/// "why was this person notified, or not?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LookupRule {
    /// Used: a notification was written for it.
    Used,
    /// Not used: the person is reserved in KRR and the letter does not ignore it.
    Reserved,
    /// Not used: the later of its updated and verified times is more than 18 months old
    /// (`delivery-chain.md` §2.3 rule 4).
    Stale,
    /// Not used: the person who registered it may not read the letter's resource.
    NotAuthorised,
    /// Not used: the same address is used already for this order.
    Duplicate,
    /// Not used: it is not a valid e-mail address or E.164 mobile number.
    Invalid,
    /// Not used: the channel does not use this kind of address, or the preferred kind exists.
    NotChosen,
    /// Nobody to notify: the recipient is not registered or has no address.
    NoAddress,
}

/// One line of a lookup's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactDecision {
    /// The address considered, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// E-mail or SMS, if an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<DeliveryChannel>,
    /// Where it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ContactSource>,
    /// What was done with it.
    pub rule: LookupRule,
}

/// One message to one address, or the record that a recipient could not be reached
/// (`delivery-chain.md` §1.5: one notification per address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Its id; also the idempotency key sent to the provider and the `Message-ID`'s left part.
    pub id: Uuid,
    /// The order it belongs to.
    pub order_id: Uuid,
    /// The letter.
    pub correspondence_id: CorrespondenceId,
    /// E-mail or SMS.
    pub channel: DeliveryChannel,
    /// The address (e-mail, or E.164 mobile); `None` when none could be used.
    pub address: Option<String>,
    /// Where the address came from.
    pub source: Option<ContactSource>,
    /// Its result so far.
    pub status: NotificationStatus,
    /// Not sent before this time (UTC): the order's time, or for daytime SMS the next window.
    pub not_before: DateTime<Utc>,
    /// Not sent after this time (UTC); it then fails with `Failed_TTL` ([`expiry_of`]).
    pub expires: DateTime<Utc>,
    /// When the provider took it (UTC).
    pub sent: Option<DateTime<Utc>>,
    /// When the provider reported it delivered (UTC).
    pub delivered: Option<DateTime<Utc>>,
    /// The provider's reference: the SMTP server's queue id or the gateway's message id.
    pub provider_reference: Option<String>,
    /// The provider's last answer or the reason for a failure, for support.
    pub detail: Option<String>,
    /// When the row was written (UTC).
    pub created: DateTime<Utc>,
}

/// The send condition of reference §4.13: the letter exists, has been published, has not failed
/// and has not been purged, and, for a reminder, has not been read. Since 2026-08 a letter that
/// is read still gets its main notice. The confidential reminder (§8.5) also needs the letter
/// never to have been opened (Fetched), since opening it removes that reminder (§4.3).
pub fn send_condition(history: &StatusHistory, kind: OrderKind) -> bool {
    history.has_been(CorrespondenceStatus::Published)
        && !history.has_been(CorrespondenceStatus::Failed)
        && !history.is_purged()
        && match kind {
            OrderKind::Main => true,
            OrderKind::Reminder => !history.has_been(CorrespondenceStatus::Read),
            OrderKind::ConfidentialReminder => {
                !history.has_been(CorrespondenceStatus::Read)
                    && !history.has_been(CorrespondenceStatus::Fetched)
            }
        }
}

/// The hour (Europe/Oslo) after which daytime SMS may go out (`delivery-chain.md` §1.11).
pub const SMS_WINDOW_START_HOUR: u32 = 9;
/// The hour (Europe/Oslo) before which daytime SMS must go out.
pub const SMS_WINDOW_END_HOUR: u32 = 17;
/// How long a notification may wait before it fails with `Failed_TTL`: 48 hours
/// (`delivery-chain.md` §1.11).
pub const TIME_TO_LIVE_HOURS: i64 = 48;

/// Whether `at` is strictly inside the daytime SMS window: after 09:00:00 and before 17:00:00
/// Europe/Oslo, any day of the week (`delivery-chain.md` §1.11, rule 15).
pub fn in_sms_window(at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&Oslo).time();
    let start = NaiveTime::from_hms_opt(SMS_WINDOW_START_HOUR, 0, 0).unwrap_or_default();
    let end = NaiveTime::from_hms_opt(SMS_WINDOW_END_HOUR, 0, 0).unwrap_or_default();
    local > start && local < end
}

/// The first moment at or after `at` when a daytime SMS may go out: `at` itself inside the
/// window, else one second after 09:00 Europe/Oslo on the same day (before the window) or the
/// next day (after it). Daylight-saving changes happen at night, so 09:00 always exists.
pub fn sms_window_opens(at: DateTime<Utc>) -> DateTime<Utc> {
    if in_sms_window(at) {
        return at;
    }
    let local = at.with_timezone(&Oslo);
    let day = if local.time()
        < NaiveTime::from_hms_opt(SMS_WINDOW_START_HOUR, 0, 1).unwrap_or_default()
    {
        local.date_naive()
    } else {
        local.date_naive() + Duration::days(1)
    };
    let opens = day
        .and_hms_opt(SMS_WINDOW_START_HOUR, 0, 1)
        .and_then(|t| Oslo.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc));
    opens.unwrap_or(at + Duration::hours(1))
}

/// When a notification written at `requested` expires (`delivery-chain.md` §1.11): 48 hours
/// after it; for a daytime SMS written outside the window, 48 hours after the window opens on
/// that Oslo day (before 09:00), or 72 hours after that day's 09:00 (after 17:00), which is the
/// same as 48 hours after the next window opens.
pub fn expiry_of(channel: DeliveryChannel, requested: DateTime<Utc>) -> DateTime<Utc> {
    match channel {
        DeliveryChannel::Email => requested + Duration::hours(TIME_TO_LIVE_HOURS),
        DeliveryChannel::Sms => sms_window_opens(requested) + Duration::hours(TIME_TO_LIVE_HOURS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StatusEntry;

    fn oslo(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Oslo.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn history(statuses: &[CorrespondenceStatus]) -> StatusHistory {
        let at = oslo(2026, 3, 2, 10, 0);
        StatusHistory::new(
            statuses
                .iter()
                .map(|s| StatusEntry::new(*s, at, None))
                .collect(),
        )
    }

    #[test]
    fn the_condition_is_the_references() {
        use CorrespondenceStatus::*;
        let cases: &[(&[CorrespondenceStatus], bool, bool)] = &[
            (&[Initialized], false, false),
            (&[Initialized, ReadyForPublish], false, false),
            (&[Initialized, Published], true, true),
            (&[Initialized, Published, Fetched], true, true),
            (&[Initialized, Published, Read], true, false),
            (&[Initialized, Published, Read, Confirmed], true, false),
            (&[Initialized, Published, PurgedByRecipient], false, false),
            (&[Initialized, Published, PurgedByAltinn], false, false),
            (&[Initialized, Failed], false, false),
        ];
        for (statuses, main, reminder) in cases {
            let h = history(statuses);
            assert_eq!(send_condition(&h, OrderKind::Main), *main, "{statuses:?}");
            assert_eq!(
                send_condition(&h, OrderKind::Reminder),
                *reminder,
                "{statuses:?}"
            );
        }
    }

    #[test]
    fn sms_wait_for_the_daytime_window_in_oslo() {
        // 22:00 in winter → 09:00:01 next morning.
        let evening = oslo(2026, 1, 14, 22, 0);
        assert!(!in_sms_window(evening));
        assert_eq!(
            sms_window_opens(evening),
            oslo(2026, 1, 15, 9, 0) + Duration::seconds(1)
        );
        // 08:30 → 09:00:01 the same day; 09:00 itself is outside (strictly between).
        assert_eq!(
            sms_window_opens(oslo(2026, 1, 15, 8, 30)),
            oslo(2026, 1, 15, 9, 0) + Duration::seconds(1)
        );
        assert!(!in_sms_window(oslo(2026, 1, 15, 9, 0)));
        assert!(in_sms_window(oslo(2026, 1, 15, 9, 1)));
        assert!(in_sms_window(oslo(2026, 1, 15, 16, 59)));
        assert!(!in_sms_window(oslo(2026, 1, 15, 17, 0)));
        // Inside the window: now.
        let noon = oslo(2026, 1, 15, 12, 0);
        assert_eq!(sms_window_opens(noon), noon);
    }

    #[test]
    fn the_window_follows_daylight_saving_time() {
        // Summer time starts 2026-03-29 at 02:00 Oslo: 22:00 the evening before (UTC+1) → 09:00
        // next morning in UTC+2, which is 07:00 UTC.
        let before = oslo(2026, 3, 28, 22, 0);
        let opens = sms_window_opens(before);
        assert_eq!(
            opens,
            Utc.with_ymd_and_hms(2026, 3, 29, 7, 0, 1).unwrap(),
            "09:00:01 CEST"
        );
        // And back: winter time from 2026-10-25 03:00 → 09:00 is 08:00 UTC.
        let opens = sms_window_opens(oslo(2026, 10, 24, 23, 0));
        assert_eq!(opens, Utc.with_ymd_and_hms(2026, 10, 25, 8, 0, 1).unwrap());
    }

    #[test]
    fn expiry_is_48_hours_anchored_to_the_window_for_sms() {
        let noon = oslo(2026, 1, 15, 12, 0);
        assert_eq!(
            expiry_of(DeliveryChannel::Email, noon),
            noon + Duration::hours(48)
        );
        assert_eq!(
            expiry_of(DeliveryChannel::Sms, noon),
            noon + Duration::hours(48)
        );
        // Created after 17:00: today's 09:00 + 72 h (= tomorrow's window + 48 h).
        let late = oslo(2026, 1, 15, 18, 0);
        assert_eq!(
            expiry_of(DeliveryChannel::Sms, late),
            oslo(2026, 1, 15, 9, 0) + Duration::hours(72) + Duration::seconds(1)
        );
    }

    #[test]
    fn names_round_trip() {
        for s in NotificationStatus::ALL {
            assert_eq!(NotificationStatus::parse(s.name()), Some(s));
        }
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.name()), Some(s));
        }
        for c in NotificationChannel::ALL {
            assert_eq!(NotificationChannel::from_value(c.value() as i64), Some(c));
            assert_eq!(NotificationChannel::parse(c.name()), Some(c));
        }
        assert_eq!(
            NotificationStatus::FailedTtl.wire(DeliveryChannel::Sms),
            "SMS_Failed_TTL"
        );
        assert_eq!(
            NotificationStatus::Succeeded.wire(DeliveryChannel::Email),
            "Email_Succeeded"
        );
        assert_eq!(OrderStatus::Completed.wire(), "Order_Completed");
    }

    #[test]
    fn order_ids_are_deterministic_per_letter_recipient_and_kind() {
        let letter: CorrespondenceId = "0194c2a0-5c00-7000-8000-000000000002".parse().unwrap();
        let a = NotificationOrder::id_for(letter, "k", OrderKind::Main);
        assert_eq!(a, NotificationOrder::id_for(letter, "k", OrderKind::Main));
        assert_ne!(
            a,
            NotificationOrder::id_for(letter, "k", OrderKind::Reminder)
        );
        assert_ne!(a, NotificationOrder::id_for(letter, "j", OrderKind::Main));
    }
}
