//! What the world may ask about notifications: the send condition Altinn Notifications polls
//! (reference §4.13), the SMS gateway's delivery reports (`delivery-chain.md` §1.13, §7.2), and
//! the orders of a letter or a party with their notifications (reference §4.3/4.4, and
//! `melding notifications show`).

use melding_delivery::sms::{
    DeliveryReport, DeliveryResult, ReportFormat, ReportParseError, SmsResult,
    parse_delivery_reports,
};
use melding_domain::CorrespondenceId;
use melding_domain::notification::{
    DeliveryChannel, Notification, NotificationStatus, OrderKind, send_condition,
};
use melding_store::{NotificationUpdate, OrderRecord};

use crate::{CoreError, Melding};

/// One notification order of a letter with the notifications processing wrote for it (none
/// while it is still Registered, or when the condition said no).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The order and what its contact lookup considered.
    pub record: OrderRecord,
    /// Its notifications, in creation order.
    pub notifications: Vec<Notification>,
}

/// What a batch of SMS delivery reports did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportsRecorded {
    /// Reports that matched a notification by its gateway reference (including repeats that
    /// found it final already and changed nothing).
    pub matched: usize,
    /// Reports kept as unmatched: unknown reference, or a state outside the mapping.
    pub unmatched: usize,
}

/// Why a delivery-report body was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryReportError {
    /// The body is not a report document of the gateway's format, or a report names no
    /// reference; the body is kept as an unmatched report before this is returned.
    #[error(transparent)]
    Unreadable(#[from] ReportParseError),
    /// The store failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Altinn's SMS result for a gateway result (`delivery-chain.md` §1.13, rule 20).
fn sms_status(result: SmsResult) -> NotificationStatus {
    match result {
        SmsResult::Delivered => NotificationStatus::Delivered,
        SmsResult::Failed => NotificationStatus::Failed,
        SmsResult::FailedExpired => NotificationStatus::FailedExpired,
        SmsResult::FailedDeleted => NotificationStatus::FailedDeleted,
        SmsResult::FailedUndelivered => NotificationStatus::FailedUndelivered,
        SmsResult::FailedRejected => NotificationStatus::FailedRejected,
        SmsResult::FailedBarredReceiver => NotificationStatus::FailedBarredReceiver,
    }
}

/// One report as kept in the unmatched table: Melding's generic JSON shape
/// ([`ReportFormat::GenericJson`]), whatever format it arrived in.
fn report_json(r: &DeliveryReport) -> String {
    serde_json::json!({
        "gatewayReference": r.gateway_reference,
        "to": r.recipient,
        "status": r.state,
        "timestamp": r.reported_at,
    })
    .to_string()
}

impl Melding {
    /// Whether a notice of `kind` about letter `id` should be sent now (reference §4.13): the
    /// letter exists, is published, not failed, not purged, and for a reminder not read. An
    /// unknown letter is `false`, never an error.
    pub async fn notification_condition(
        &self,
        id: CorrespondenceId,
        kind: OrderKind,
    ) -> Result<bool, CoreError> {
        Ok(self
            .store
            .correspondence(id)
            .await?
            .is_some_and(|l| send_condition(&l.statuses, kind)))
    }

    /// The orders of letter `id` with their notifications, main notices first
    /// ([`melding_store::NotificationStore::notification_orders`]).
    pub async fn letter_notifications(
        &self,
        id: CorrespondenceId,
    ) -> Result<Vec<OrderView>, CoreError> {
        let orders = self.store.notification_orders(id).await?;
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let notifications = self.store.notifications_of(id).await?;
        Ok(group(orders, &notifications))
    }

    /// The newest `limit` orders addressed to the party `urn` (a recipient URN), newest first,
    /// each with its notifications; for support ("was this person notified?").
    pub async fn party_notifications(
        &self,
        urn: &str,
        limit: u32,
    ) -> Result<Vec<OrderView>, CoreError> {
        let orders = self.store.notification_orders_for_party(urn, limit).await?;
        let mut out = Vec::with_capacity(orders.len());
        for record in orders {
            let notifications = self
                .store
                .notifications_of(record.order.correspondence_id)
                .await?
                .into_iter()
                .filter(|n| n.order_id == record.order.id)
                .collect();
            out.push(OrderView {
                record,
                notifications,
            });
        }
        Ok(out)
    }

    /// Records the SMS gateway's delivery reports in `body` (`format` as the gateway posts
    /// them): each report's gateway reference finds its notification, whose status moves from
    /// `SMS_Accepted` to the mapped result (`DELIVRD`→Delivered with the delivered time now,
    /// UTC; the failures to their `Failed_*`), completing its order when it was the last. A
    /// report for an unknown reference, or with a state outside the mapping, is kept as an
    /// unmatched report (`delivery-chain.md` §1.14). A report for a notification that is final
    /// already changes nothing.
    ///
    /// Errors: [`DeliveryReportError::Unreadable`] for a body that is not a report document
    /// (the body is kept as unmatched first), [`DeliveryReportError::Core`] when the store fails.
    pub async fn record_sms_delivery_reports(
        &self,
        format: ReportFormat,
        body: &[u8],
    ) -> Result<ReportsRecorded, DeliveryReportError> {
        let now = self.clock.now();
        let reports = match parse_delivery_reports(format, body) {
            Ok(reports) => reports,
            Err(e) => {
                self.store
                    .record_unmatched_report(
                        now,
                        DeliveryChannel::Sms,
                        &String::from_utf8_lossy(body),
                    )
                    .await
                    .map_err(CoreError::from)?;
                return Err(e.into());
            }
        };
        let mut recorded = ReportsRecorded::default();
        for report in &reports {
            let found = self
                .store
                .notification_by_provider_reference(DeliveryChannel::Sms, &report.gateway_reference)
                .await
                .map_err(CoreError::from)?;
            let (Some(n), DeliveryResult::Matched(result)) = (found, report.result) else {
                self.store
                    .record_unmatched_report(now, DeliveryChannel::Sms, &report_json(report))
                    .await
                    .map_err(CoreError::from)?;
                tracing::warn!(reference = %report.gateway_reference, state = %report.state, "SMS delivery report kept unmatched");
                recorded.unmatched += 1;
                continue;
            };
            recorded.matched += 1;
            let status = sms_status(result);
            let update = NotificationUpdate {
                delivered: (status == NotificationStatus::Delivered).then_some(now),
                detail: Some(format!("delivery report: {}", report.state)),
                ..NotificationUpdate::new(
                    n.id,
                    &[NotificationStatus::New, NotificationStatus::Accepted],
                    status,
                )
            };
            if self
                .store
                .update_notification(&update)
                .await
                .map_err(CoreError::from)?
            {
                tracing::info!(notification_id = %n.id, status = status.name(), "SMS delivery report recorded");
                self.complete_order_if_final(n.order_id)
                    .await
                    .map_err(CoreError::from)?;
            }
        }
        Ok(recorded)
    }
}

/// Each order with its own notifications, in the orders' order.
fn group(orders: Vec<OrderRecord>, notifications: &[Notification]) -> Vec<OrderView> {
    orders
        .into_iter()
        .map(|record| {
            let notifications = notifications
                .iter()
                .filter(|n| n.order_id == record.order.id)
                .cloned()
                .collect();
            OrderView {
                record,
                notifications,
            }
        })
        .collect()
}
