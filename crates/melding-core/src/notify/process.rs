//! Processing one notification order: the send condition, the contact lookup, and one
//! notification per address (`reference/delivery-chain.md` §1.9–1.10).

use chrono::{DateTime, Utc};
use melding_domain::correspondence::Correspondence;
use melding_domain::notification::{
    self, ContactSource, DeliveryChannel, Notification, NotificationOrder, NotificationStatus,
    OrderRecipient, OrderStatus, send_condition,
};
use melding_domain::{Party, SelfIdentified};
use melding_jobs::{JobKind, Outcome};
use melding_store::{Organization, Person, ProcessedOrder};
use uuid::Uuid;

use super::SendNotification;
use super::contacts::{self, Facts, LookupRules};
use crate::Melding;
use crate::access::Pdp;

/// What the registry held for the order's recipient, owned, for [`Facts`].
enum Held {
    Person(Option<Person>),
    Organization(Option<Organization>, Vec<bool>),
    LoginEmail(String),
    Unreachable,
    Custom,
}

impl Held {
    fn facts(&self) -> Facts<'_> {
        match self {
            Held::Person(p) => Facts::Person(p.as_ref()),
            Held::Organization(o, a) => Facts::Organization(o.as_ref(), a),
            Held::LoginEmail(e) => Facts::LoginEmail(e),
            Held::Unreachable => Facts::Unreachable,
            Held::Custom => Facts::Custom,
        }
    }
}

/// The notification id of an order's address: deterministic, so a repeated processing (which
/// the store refuses anyway) could never make a second one.
fn notification_id(order: Uuid, channel: DeliveryChannel, address: Option<&str>) -> Uuid {
    let name = format!("{}:{}", channel.name(), address.unwrap_or_default());
    Uuid::new_v5(&order, name.as_bytes())
}

impl Melding {
    /// Runs [`super::ProcessNotificationOrder`]: a processed order is left alone; a letter that
    /// fails the send condition ends the order as `SendConditionNotMet`; otherwise the
    /// recipient's contact points are looked up and the notifications written with their send
    /// jobs, in one transaction.
    pub(crate) async fn run_process_order(&self, order_id: Uuid) -> anyhow::Result<Outcome> {
        let Some(record) = self.store.notification_order(order_id).await? else {
            return Ok(Outcome::Done);
        };
        let order = record.order;
        if order.status != OrderStatus::Registered {
            return Ok(Outcome::Done);
        }
        let now = self.clock.now();
        if order.requested_send_time > now {
            return Ok(Outcome::RunAgainAt(order.requested_send_time));
        }
        let letter = self.store.correspondence(order.correspondence_id).await?;
        let Some(letter) = letter.filter(|l| send_condition(&l.statuses, order.kind)) else {
            let processed = ProcessedOrder {
                order_id,
                status: OrderStatus::SendConditionNotMet,
                at: now,
                lookup: Vec::new(),
                notifications: Vec::new(),
                jobs: Vec::new(),
            };
            self.store.process_notification_order(&processed).await?;
            tracing::info!(%order_id, "send condition not met; nothing sent");
            return Ok(Outcome::Done);
        };
        let processed = self.processed_order(&order, &letter, now).await?;
        let all_final = processed.jobs.is_empty();
        if self.store.process_notification_order(&processed).await? {
            self.waker.wake();
            if all_final {
                self.store.complete_notification_order(order_id).await?;
            }
            tracing::info!(
                %order_id,
                correspondence_id = %order.correspondence_id,
                notifications = processed.notifications.len(),
                "notification order processed"
            );
        }
        Ok(Outcome::Done)
    }

    /// The outcome of processing `order` for `letter` at `now` (UTC), not yet written: the
    /// recipient's contact points looked up (`delivery-chain.md` §1.10), one notification per
    /// address with its send job, and the failure record when nobody can be reached. The send
    /// condition is the caller's to check.
    pub(crate) async fn processed_order(
        &self,
        order: &NotificationOrder,
        letter: &Correspondence,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ProcessedOrder> {
        let order_id = order.id;
        let held = self.held_for(order, letter).await?;
        let rules = LookupRules {
            channel: order.channel,
            ignore_reservation: order.ignore_reservation,
            use_stale_contacts: order.use_stale_contacts,
            now,
        };
        let lookup = contacts::look_up(&order.recipient, &held.facts(), rules);
        let mut notifications = Vec::new();
        let mut jobs = Vec::new();
        for target in &lookup.targets {
            let not_before = not_before(target.channel, now);
            let n = Notification {
                id: notification_id(order_id, target.channel, Some(&target.address)),
                order_id,
                correspondence_id: order.correspondence_id,
                channel: target.channel,
                address: Some(target.address.clone()),
                source: Some(target.source.clone()),
                status: NotificationStatus::New,
                not_before,
                expires: notification::expiry_of(target.channel, now),
                sent: None,
                delivered: None,
                provider_reference: None,
                detail: None,
                created: now,
            };
            jobs.push(
                SendNotification {
                    notification_id: n.id,
                }
                .due_at(not_before),
            );
            notifications.push(n);
        }
        if let Some((channel, status)) = lookup.failure {
            notifications.push(Notification {
                id: notification_id(order_id, channel, None),
                order_id,
                correspondence_id: order.correspondence_id,
                channel,
                address: None,
                source: None,
                status,
                not_before: now,
                expires: now,
                sent: None,
                delivered: None,
                provider_reference: None,
                detail: None,
                created: now,
            });
        }
        Ok(ProcessedOrder {
            order_id,
            status: OrderStatus::Processed,
            at: now,
            lookup: lookup.decisions,
            notifications,
            jobs,
        })
    }

    /// Fetches what the lookup needs about the order's recipient, including, for each contact a
    /// person registered for an organisation, whether that person may read the letter's
    /// resource for it now (and the contact is for this resource).
    async fn held_for(
        &self,
        order: &NotificationOrder,
        letter: &Correspondence,
    ) -> anyhow::Result<Held> {
        Ok(match &order.recipient {
            OrderRecipient::Email(_) | OrderRecipient::Mobile(_) => Held::Custom,
            OrderRecipient::Party(Party::Person(p)) => Held::Person(self.store.person(p).await?),
            OrderRecipient::Party(Party::Organization(o)) => {
                let org = self.store.organization(o).await?;
                let mut authorised = Vec::new();
                if let Some(org) = &org {
                    let resource = letter.settings.resource_id.as_str();
                    let mut pdp = Pdp::new(self.store.clone());
                    for contact in &org.contacts {
                        let for_resource = contact.resources.is_empty()
                            || contact.resources.iter().any(|r| r == resource);
                        let may = match &contact.person {
                            None => for_resource,
                            Some(person) => {
                                for_resource
                                    && pdp
                                        .person_may_read(person, &org.org_number, resource)
                                        .await?
                            }
                        };
                        authorised.push(may);
                    }
                }
                Held::Organization(org, authorised)
            }
            OrderRecipient::Party(Party::SelfIdentified(SelfIdentified::IdportenEmail(e))) => {
                Held::LoginEmail(e.clone())
            }
            OrderRecipient::Party(Party::SelfIdentified(SelfIdentified::Legacy(_))) => {
                Held::Unreachable
            }
        })
    }

    /// Whether the person behind a registered contact may still read the letter's resource for
    /// its recipient organisation: checked again just before sending (`delivery-chain.md` §1.6,
    /// rule 43). Other sources need no check.
    pub(crate) async fn contact_still_authorised(
        &self,
        source: Option<&ContactSource>,
        letter: &Correspondence,
    ) -> anyhow::Result<bool> {
        let Some(ContactSource::RegisteredContact { person_urn }) = source else {
            return Ok(true);
        };
        let (Ok(Party::Person(person)), Party::Organization(org)) =
            (Party::parse(person_urn), letter.recipient.party())
        else {
            return Ok(false);
        };
        let mut pdp = Pdp::new(self.store.clone());
        Ok(pdp
            .person_may_read(&person, org, letter.settings.resource_id.as_str())
            .await?)
    }
}

/// When a processed order's notifications may go: now for e-mail, the next daytime window for
/// SMS.
fn not_before(channel: DeliveryChannel, now: DateTime<Utc>) -> DateTime<Utc> {
    match channel {
        DeliveryChannel::Email => now,
        DeliveryChannel::Sms => notification::sms_window_opens(now),
    }
}
