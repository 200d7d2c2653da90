//! `melding notifications show`: a letter's or a party's notification orders as support reads
//! them — each order, what its contact lookup considered and the rule it applied (used,
//! reserved, stale, not authorised, duplicate, …), and each notification's status, times and
//! provider reference (`reference/delivery-chain.md` §1.5–1.14).

use std::fmt::Write;

use melding_domain::CorrespondenceId;
use melding_domain::notification::{ContactSource, LookupRule, Notification};
use melding_store::{OrderRecord, Store};

/// How many orders `--party` shows at most.
pub const PARTY_LIMIT: u32 = 50;

/// The report for letter `letter`.
///
/// Errors: the store fails.
pub async fn for_letter(store: &dyn Store, letter: CorrespondenceId) -> anyhow::Result<String> {
    let orders = store.notification_orders(letter).await?;
    if orders.is_empty() {
        return Ok(format!("letter {letter} has no notification orders\n"));
    }
    let notifications = store.notifications_of(letter).await?;
    let mut out = format!("letter {letter}: {} notification order(s)\n", orders.len());
    for record in &orders {
        write_order(&mut out, record, &notifications);
    }
    Ok(out)
}

/// The report for the orders addressed to party `urn` (a recipient URN), newest first, at most
/// [`PARTY_LIMIT`].
///
/// Errors: the store fails.
pub async fn for_party(store: &dyn Store, urn: &str) -> anyhow::Result<String> {
    let orders = store
        .notification_orders_for_party(urn, PARTY_LIMIT)
        .await?;
    if orders.is_empty() {
        return Ok(format!("no notification orders for {urn}\n"));
    }
    let mut out = format!(
        "{urn}: {} notification order(s), newest first\n",
        orders.len()
    );
    for record in &orders {
        let notifications = store
            .notifications_of(record.order.correspondence_id)
            .await?;
        write_order(&mut out, record, &notifications);
    }
    Ok(out)
}

fn rule_name(rule: LookupRule) -> &'static str {
    match rule {
        LookupRule::Used => "used",
        LookupRule::Reserved => "not used: reserved in KRR",
        LookupRule::Stale => "not used: stale (not updated or verified in 18 months)",
        LookupRule::NotAuthorised => {
            "not used: the person who registered it may not read the resource"
        }
        LookupRule::Duplicate => "not used: duplicate",
        LookupRule::Invalid => "not used: invalid address",
        LookupRule::NotChosen => "not used: not chosen by the channel",
        LookupRule::NoAddress => "nobody to notify: no address",
    }
}

fn source_name(source: &ContactSource) -> String {
    match source {
        ContactSource::Krr => "KRR".into(),
        ContactSource::OfficialAddress => "official address".into(),
        ContactSource::RegisteredContact { person_urn } => {
            format!("registered contact of {person_urn}")
        }
        ContactSource::Login => "login".into(),
        ContactSource::Custom => "custom recipient".into(),
    }
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into())
}

fn write_order(out: &mut String, record: &OrderRecord, notifications: &[Notification]) {
    let o = &record.order;
    let _ = writeln!(
        out,
        "\norder {} ({}, letter {})\n  recipient {}  channel {}  status {}\n  due {}  processed {}",
        o.id,
        o.kind.name(),
        o.correspondence_id,
        o.recipient.dedupe_key(),
        o.channel.name(),
        o.status.wire(),
        o.requested_send_time.to_rfc3339(),
        time(record.processed),
    );
    if !record.lookup.is_empty() {
        let _ = writeln!(out, "  lookup:");
        for d in &record.lookup {
            let _ = writeln!(
                out,
                "    {:<32} {:<6} {:<24} {}",
                d.address.as_deref().unwrap_or("-"),
                d.channel.map(|c| c.name()).unwrap_or("-"),
                d.source
                    .as_ref()
                    .map(source_name)
                    .unwrap_or_else(|| "-".into()),
                rule_name(d.rule),
            );
        }
    }
    let mine: Vec<&Notification> = notifications
        .iter()
        .filter(|n| n.order_id == o.id)
        .collect();
    if mine.is_empty() {
        let _ = writeln!(out, "  no notifications yet");
    }
    for n in mine {
        let _ = writeln!(
            out,
            "  notification {}  {}  {}\n    sent {}  delivered {}  not before {}  expires {}\n    provider reference {}{}",
            n.id,
            n.address.as_deref().unwrap_or("-"),
            n.status.wire(n.channel),
            time(n.sent),
            time(n.delivered),
            n.not_before.to_rfc3339(),
            n.expires.to_rfc3339(),
            n.provider_reference.as_deref().unwrap_or("-"),
            n.detail
                .as_deref()
                .map(|d| format!("\n    detail {d}"))
                .unwrap_or_default(),
        );
    }
}
