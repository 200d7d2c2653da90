//! Contact lookup: which addresses one notification order goes to, decided when the order is
//! processed, from the registry as it is then (`reference/delivery-chain.md` §1.5–1.7, §2.3,
//! rules 7–11 and 22).
//!
//! The lookup is a pure function over what the registry holds ([`Facts`]); the caller fetches
//! the facts, including whether each person who registered an organisation contact may still
//! read the letter's resource. Every address considered leaves a [`ContactDecision`], so support
//! can answer "why was this person notified, or not?".

use std::collections::HashSet;

use chrono::{DateTime, Months, Utc};
use melding_domain::notification::{
    ContactDecision, ContactSource, DeliveryChannel, LookupRule, NotificationChannel,
    NotificationStatus, OrderRecipient,
};
use melding_domain::{EmailAddress, MobileNumber, NationalId};
use melding_store::{KrrContact, OrgContact, Organization, Person};

/// KRR addresses are not used when the later of their updated and verified times is more than
/// this many months old (`delivery-chain.md` §2.3 rule 4).
pub const STALE_AFTER_MONTHS: u32 = 18;

/// What the registry says about an order's recipient when the order is processed.
#[derive(Debug, Clone)]
pub enum Facts<'a> {
    /// A person, if registered.
    Person(Option<&'a Person>),
    /// An organisation, if registered, and for each of its registered contacts (same index)
    /// whether the person who registered it may read the letter's resource for it now
    /// (`true` for a contact that names no person).
    Organization(Option<&'a Organization>, &'a [bool]),
    /// An ID-porten e-mail user: notified at their login address.
    LoginEmail(&'a str),
    /// A party without any contact point Melding knows (a legacy self-identified user).
    Unreachable,
    /// A custom recipient given as a bare address.
    Custom,
}

/// One address to send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// E-mail or SMS.
    pub channel: DeliveryChannel,
    /// The address: an e-mail address, or a mobile number in E.164.
    pub address: String,
    /// Where it came from.
    pub source: ContactSource,
}

/// The result of a lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// The addresses to send to, one notification each.
    pub targets: Vec<Target>,
    /// A recipient that cannot be notified gets one failed notification on the channel it would
    /// have used, with this status (reserved, not identified), as Altinn records it.
    pub failure: Option<(DeliveryChannel, NotificationStatus)>,
    /// Everything considered, in order.
    pub decisions: Vec<ContactDecision>,
}

/// The rules of one lookup, from the order.
#[derive(Debug, Clone, Copy)]
pub struct LookupRules {
    /// The order's channel.
    pub channel: NotificationChannel,
    /// Notify a reserved person anyway.
    pub ignore_reservation: bool,
    /// Use KRR addresses older than 18 months.
    pub use_stale_contacts: bool,
    /// The time of the lookup (UTC), for the 18-month rule.
    pub now: DateTime<Utc>,
}

/// The preferred channel of `channel` when a recipient has no address at all: where Altinn
/// records the failure (`delivery-chain.md` §1.5, last paragraph).
fn preferred(channel: NotificationChannel) -> DeliveryChannel {
    match channel {
        NotificationChannel::Sms | NotificationChannel::SmsPreferred => DeliveryChannel::Sms,
        _ => DeliveryChannel::Email,
    }
}

/// Looks up the addresses of one order's recipient, by the channel table of
/// `delivery-chain.md` §1.5:
///
/// | Channel | Person (KRR) | Organisation |
/// |---|---|---|
/// | Email | e-mail | official e-mails + registered contacts' e-mails |
/// | Sms | mobile | official mobiles + registered contacts' mobiles |
/// | EmailAndSms | both | both lists |
/// | EmailPreferred | e-mail, else mobile | official: all e-mails if any, else all mobiles; each contact: e-mail, else mobile |
/// | SmsPreferred | mobile, else e-mail | the mirror image |
///
/// A reserved person gets nothing unless the order ignores reservation (one
/// `Failed_RecipientReserved`); a KRR address older than 18 months is skipped unless the order
/// may use stale addresses; when nothing is left the recipient gets one
/// `Failed_RecipientNotIdentified`. Addresses are deduplicated: e-mails case-insensitively,
/// mobiles after normalisation; a contact's address equal to an official one is dropped.
pub fn look_up(recipient: &OrderRecipient, facts: &Facts<'_>, rules: LookupRules) -> Lookup {
    let mut lookup = Lookup::default();
    match (recipient, facts) {
        (OrderRecipient::Email(email), _) => {
            let source = ContactSource::Custom;
            let candidates = Candidates {
                email: Some(email.as_str().to_owned()),
                mobile: None,
            };
            lookup.person_like(candidates, source, rules);
        }
        (OrderRecipient::Mobile(mobile), _) => {
            let source = ContactSource::Custom;
            let candidates = Candidates {
                email: None,
                mobile: Some(mobile.as_str().to_owned()),
            };
            lookup.person_like(candidates, source, rules);
        }
        (_, Facts::Person(Some(person))) => lookup.person(person, rules),
        (_, Facts::Organization(Some(org), authorised)) => {
            lookup.organization(org, authorised, rules)
        }
        (_, Facts::LoginEmail(email)) => {
            let candidates = Candidates {
                email: Some((*email).to_owned()),
                mobile: None,
            };
            lookup.person_like(candidates, ContactSource::Login, rules);
        }
        _ => {}
    }
    if lookup.targets.is_empty() && lookup.failure.is_none() {
        lookup.decisions.push(ContactDecision {
            address: None,
            channel: None,
            source: None,
            rule: LookupRule::NoAddress,
        });
        lookup.failure = Some((
            preferred(rules.channel),
            NotificationStatus::FailedRecipientNotIdentified,
        ));
    }
    lookup
}

/// A person's (or a bare address's) usable e-mail and mobile, after the KRR rules.
struct Candidates {
    email: Option<String>,
    mobile: Option<String>,
}

impl Lookup {
    fn decide(
        &mut self,
        address: &str,
        channel: DeliveryChannel,
        source: &ContactSource,
        rule: LookupRule,
    ) {
        self.decisions.push(ContactDecision {
            address: Some(address.to_owned()),
            channel: Some(channel),
            source: Some(source.clone()),
            rule,
        });
    }

    fn person(&mut self, person: &Person, rules: LookupRules) {
        let krr = person.krr.clone().unwrap_or_default();
        if person.reserved && !rules.ignore_reservation {
            for (address, channel) in krr_addresses(&krr) {
                self.decide(&address, channel, &ContactSource::Krr, LookupRule::Reserved);
            }
            if self.decisions.is_empty() {
                self.decisions.push(ContactDecision {
                    address: None,
                    channel: None,
                    source: Some(ContactSource::Krr),
                    rule: LookupRule::Reserved,
                });
            }
            self.failure = Some((
                preferred(rules.channel),
                NotificationStatus::FailedRecipientReserved,
            ));
            return;
        }
        let fresh = |updated: Option<DateTime<Utc>>, verified: Option<DateTime<Utc>>| {
            rules.use_stale_contacts || !is_stale(updated, verified, rules.now)
        };
        let mut candidates = Candidates {
            email: None,
            mobile: None,
        };
        if let Some(email) = &krr.email {
            if fresh(krr.email_updated, krr.email_verified) {
                candidates.email = Some(email.clone());
            } else {
                self.decide(
                    email,
                    DeliveryChannel::Email,
                    &ContactSource::Krr,
                    LookupRule::Stale,
                );
            }
        }
        if let Some(mobile) = &krr.mobile {
            if fresh(krr.mobile_updated, krr.mobile_verified) {
                candidates.mobile = Some(mobile.clone());
            } else {
                self.decide(
                    mobile,
                    DeliveryChannel::Sms,
                    &ContactSource::Krr,
                    LookupRule::Stale,
                );
            }
        }
        self.person_like(candidates, ContactSource::Krr, rules);
    }

    /// One person's e-mail and mobile by the person column of the channel table.
    fn person_like(&mut self, c: Candidates, source: ContactSource, rules: LookupRules) {
        let email = c.email.and_then(|e| self.valid_email(&e, &source));
        let mobile = c.mobile.and_then(|m| self.valid_mobile(&m, &source));
        let (use_email, use_mobile) = choose(rules.channel, email.is_some(), mobile.is_some());
        if let Some(email) = email {
            let rule = if use_email {
                LookupRule::Used
            } else {
                LookupRule::NotChosen
            };
            self.add(DeliveryChannel::Email, email, &source, rule);
        }
        if let Some(mobile) = mobile {
            let rule = if use_mobile {
                LookupRule::Used
            } else {
                LookupRule::NotChosen
            };
            self.add(DeliveryChannel::Sms, mobile, &source, rule);
        }
    }

    fn organization(&mut self, org: &Organization, authorised: &[bool], rules: LookupRules) {
        // Official addresses: one list per kind.
        let emails: Vec<String> = org
            .notification_emails
            .iter()
            .filter_map(|e| self.valid_email(e, &ContactSource::OfficialAddress))
            .collect();
        let mobiles: Vec<String> = org
            .notification_mobiles
            .iter()
            .filter_map(|m| self.valid_mobile(m, &ContactSource::OfficialAddress))
            .collect();
        let (use_emails, use_mobiles) =
            choose(rules.channel, !emails.is_empty(), !mobiles.is_empty());
        for e in emails {
            let rule = if use_emails {
                LookupRule::Used
            } else {
                LookupRule::NotChosen
            };
            self.add(
                DeliveryChannel::Email,
                e,
                &ContactSource::OfficialAddress,
                rule,
            );
        }
        for m in mobiles {
            let rule = if use_mobiles {
                LookupRule::Used
            } else {
                LookupRule::NotChosen
            };
            self.add(
                DeliveryChannel::Sms,
                m,
                &ContactSource::OfficialAddress,
                rule,
            );
        }
        // Contacts registered for the organisation, each on its own.
        for (i, contact) in org.contacts.iter().enumerate() {
            let source = contact_source(contact);
            if !authorised.get(i).copied().unwrap_or(false) {
                for (address, channel) in contact_addresses(contact) {
                    self.decide(&address, channel, &source, LookupRule::NotAuthorised);
                }
                continue;
            }
            let candidates = Candidates {
                email: contact.email.clone(),
                mobile: contact.mobile.clone(),
            };
            self.person_like(candidates, source, rules);
        }
    }

    fn valid_email(&mut self, e: &str, source: &ContactSource) -> Option<String> {
        match EmailAddress::parse(e) {
            Ok(e) => Some(e.as_str().to_owned()),
            Err(_) => {
                self.decide(e, DeliveryChannel::Email, source, LookupRule::Invalid);
                None
            }
        }
    }

    fn valid_mobile(&mut self, m: &str, source: &ContactSource) -> Option<String> {
        match MobileNumber::parse(m) {
            Ok(m) => Some(m.as_str().to_owned()),
            Err(_) => {
                self.decide(m, DeliveryChannel::Sms, source, LookupRule::Invalid);
                None
            }
        }
    }

    /// Adds a target unless the same address is a target already (then: Duplicate).
    fn add(
        &mut self,
        channel: DeliveryChannel,
        address: String,
        source: &ContactSource,
        rule: LookupRule,
    ) {
        if rule != LookupRule::Used {
            self.decide(&address, channel, source, rule);
            return;
        }
        let key = dedupe_key(channel, &address);
        let taken: HashSet<String> = self
            .targets
            .iter()
            .map(|t| dedupe_key(t.channel, &t.address))
            .collect();
        if taken.contains(&key) {
            self.decide(&address, channel, source, LookupRule::Duplicate);
            return;
        }
        self.decide(&address, channel, source, LookupRule::Used);
        self.targets.push(Target {
            channel,
            address,
            source: source.clone(),
        });
    }
}

/// Which kinds of address to use, given which exist, by the channel table.
fn choose(channel: NotificationChannel, has_email: bool, has_mobile: bool) -> (bool, bool) {
    match channel {
        NotificationChannel::Email => (true, false),
        NotificationChannel::Sms => (false, true),
        NotificationChannel::EmailAndSms => (true, true),
        NotificationChannel::EmailPreferred => (has_email, !has_email && has_mobile),
        NotificationChannel::SmsPreferred => (!has_mobile && has_email, has_mobile),
    }
}

fn dedupe_key(channel: DeliveryChannel, address: &str) -> String {
    match channel {
        DeliveryChannel::Email => format!("email:{}", address.to_lowercase()),
        DeliveryChannel::Sms => format!("sms:{address}"),
    }
}

fn contact_source(contact: &OrgContact) -> ContactSource {
    match &contact.person {
        Some(person) => ContactSource::RegisteredContact {
            person_urn: melding_domain::Party::Person(person.clone()).urn(),
        },
        None => ContactSource::OfficialAddress,
    }
}

fn contact_addresses(contact: &OrgContact) -> Vec<(String, DeliveryChannel)> {
    let mut out = Vec::new();
    if let Some(e) = &contact.email {
        out.push((e.clone(), DeliveryChannel::Email));
    }
    if let Some(m) = &contact.mobile {
        out.push((m.clone(), DeliveryChannel::Sms));
    }
    out
}

fn krr_addresses(krr: &KrrContact) -> Vec<(String, DeliveryChannel)> {
    let mut out = Vec::new();
    if let Some(e) = &krr.email {
        out.push((e.clone(), DeliveryChannel::Email));
    }
    if let Some(m) = &krr.mobile {
        out.push((m.clone(), DeliveryChannel::Sms));
    }
    out
}

/// Whether a KRR address is stale at `now`: the later of its updated and verified times is more
/// than [`STALE_AFTER_MONTHS`] months before `now`. An address with neither time (imported
/// without them) is taken as current: nothing says it is old.
pub fn is_stale(
    updated: Option<DateTime<Utc>>,
    verified: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let Some(latest) = updated.max(verified) else {
        return false;
    };
    match now.checked_sub_months(Months::new(STALE_AFTER_MONTHS)) {
        Some(limit) => latest < limit,
        None => false,
    }
}

/// The persons whose registered contacts for `org` need an authorisation check, by index.
pub fn contact_persons(org: &Organization) -> Vec<Option<NationalId>> {
    org.contacts.iter().map(|c| c.person.clone()).collect()
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // the channel table as literal rows
mod tests {
    use chrono::TimeZone;
    use melding_domain::{OrgNumber, Party};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap()
    }

    fn rules(channel: NotificationChannel) -> LookupRules {
        LookupRules {
            channel,
            ignore_reservation: false,
            use_stale_contacts: false,
            now: now(),
        }
    }

    fn person(email: Option<&str>, mobile: Option<&str>) -> Person {
        let mut p = Person::new(NationalId::parse("08089403198").unwrap(), "Kari Nordmann");
        p.krr = Some(KrrContact {
            email: email.map(str::to_owned),
            email_updated: Some(now() - chrono::Duration::days(30)),
            mobile: mobile.map(str::to_owned),
            mobile_verified: Some(now() - chrono::Duration::days(30)),
            ..KrrContact::default()
        });
        p
    }

    fn party() -> OrderRecipient {
        OrderRecipient::Party(Party::Person(NationalId::parse("08089403198").unwrap()))
    }

    fn addresses(l: &Lookup) -> Vec<(DeliveryChannel, &str)> {
        l.targets
            .iter()
            .map(|t| (t.channel, t.address.as_str()))
            .collect()
    }

    #[test]
    fn a_person_gets_the_channel_tables_addresses() {
        use DeliveryChannel::{Email, Sms};
        let both = person(Some("kari@example.no"), Some("91234567"));
        let email_only = person(Some("kari@example.no"), None);
        let mobile_only = person(None, Some("+4791234567"));
        let cases: &[(&Person, NotificationChannel, Vec<(DeliveryChannel, &str)>)] = &[
            (
                &both,
                NotificationChannel::Email,
                vec![(Email, "kari@example.no")],
            ),
            (&both, NotificationChannel::Sms, vec![(Sms, "+4791234567")]),
            (
                &both,
                NotificationChannel::EmailAndSms,
                vec![(Email, "kari@example.no"), (Sms, "+4791234567")],
            ),
            (
                &both,
                NotificationChannel::EmailPreferred,
                vec![(Email, "kari@example.no")],
            ),
            (
                &both,
                NotificationChannel::SmsPreferred,
                vec![(Sms, "+4791234567")],
            ),
            (
                &email_only,
                NotificationChannel::SmsPreferred,
                vec![(Email, "kari@example.no")],
            ),
            (
                &mobile_only,
                NotificationChannel::EmailPreferred,
                vec![(Sms, "+4791234567")],
            ),
        ];
        for (p, channel, expected) in cases {
            let l = look_up(&party(), &Facts::Person(Some(p)), rules(*channel));
            assert_eq!(&addresses(&l), expected, "{channel:?}");
            assert_eq!(l.failure, None);
        }
        // Email only, no e-mail → not identified, recorded on e-mail.
        let l = look_up(
            &party(),
            &Facts::Person(Some(&mobile_only)),
            rules(NotificationChannel::Email),
        );
        assert!(l.targets.is_empty());
        assert_eq!(
            l.failure,
            Some((Email, NotificationStatus::FailedRecipientNotIdentified))
        );
    }

    #[test]
    fn a_reserved_person_gets_nothing_unless_reservation_is_ignored() {
        let mut p = person(Some("kari@example.no"), Some("91234567"));
        p.reserved = true;
        let l = look_up(
            &party(),
            &Facts::Person(Some(&p)),
            rules(NotificationChannel::SmsPreferred),
        );
        assert!(l.targets.is_empty());
        assert_eq!(
            l.failure,
            Some((
                DeliveryChannel::Sms,
                NotificationStatus::FailedRecipientReserved
            ))
        );
        assert!(l.decisions.iter().all(|d| d.rule == LookupRule::Reserved));
        let ignoring = LookupRules {
            ignore_reservation: true,
            ..rules(NotificationChannel::SmsPreferred)
        };
        let l = look_up(&party(), &Facts::Person(Some(&p)), ignoring);
        assert_eq!(addresses(&l), vec![(DeliveryChannel::Sms, "+4791234567")]);
    }

    #[test]
    fn stale_krr_addresses_are_skipped_and_both_stale_is_nobody() {
        let mut p = person(Some("kari@example.no"), Some("91234567"));
        let krr = p.krr.as_mut().unwrap();
        krr.email_updated = Some(now() - chrono::Duration::days(19 * 31));
        krr.email_verified = Some(now() - chrono::Duration::days(18 * 31));
        let l = look_up(
            &party(),
            &Facts::Person(Some(&p)),
            rules(NotificationChannel::EmailPreferred),
        );
        assert_eq!(addresses(&l), vec![(DeliveryChannel::Sms, "+4791234567")]);
        assert_eq!(l.decisions[0].rule, LookupRule::Stale);

        // Verified recently though updated long ago: the later counts.
        p.krr.as_mut().unwrap().email_verified = Some(now() - chrono::Duration::days(10));
        let l = look_up(
            &party(),
            &Facts::Person(Some(&p)),
            rules(NotificationChannel::EmailPreferred),
        );
        assert_eq!(
            addresses(&l),
            vec![(DeliveryChannel::Email, "kari@example.no")]
        );

        // Both stale → nothing, recorded.
        let krr = p.krr.as_mut().unwrap();
        krr.email_verified = None;
        krr.mobile_verified = Some(now() - chrono::Duration::days(600));
        let l = look_up(
            &party(),
            &Facts::Person(Some(&p)),
            rules(NotificationChannel::EmailAndSms),
        );
        assert!(l.targets.is_empty());
        assert_eq!(
            l.failure,
            Some((
                DeliveryChannel::Email,
                NotificationStatus::FailedRecipientNotIdentified
            ))
        );
        // A sender allowed stale addresses uses them.
        let stale_ok = LookupRules {
            use_stale_contacts: true,
            ..rules(NotificationChannel::EmailAndSms)
        };
        let l = look_up(&party(), &Facts::Person(Some(&p)), stale_ok);
        assert_eq!(l.targets.len(), 2);
    }

    #[test]
    fn eighteen_months_is_the_boundary() {
        let limit = now().checked_sub_months(Months::new(18)).unwrap();
        assert!(!is_stale(Some(limit), None, now()));
        assert!(is_stale(
            Some(limit - chrono::Duration::seconds(1)),
            None,
            now()
        ));
        assert!(!is_stale(None, None, now()));
    }

    fn org() -> Organization {
        let mut o = Organization::new(OrgNumber::parse("991825827").unwrap(), "Bakeriet AS");
        o.notification_emails = vec!["post@bakeriet.no".into(), "POST@bakeriet.no".into()];
        o.notification_mobiles = vec!["+4790000001".into()];
        o.contacts = vec![
            OrgContact {
                person: Some(NationalId::parse("08089403198").unwrap()),
                email: Some("kari@bakeriet.no".into()),
                mobile: Some("+4790000002".into()),
                resources: vec![],
            },
            OrgContact {
                person: Some(NationalId::parse("08089403198").unwrap()),
                email: Some("post@bakeriet.no".into()),
                mobile: None,
                resources: vec![],
            },
            OrgContact {
                person: None,
                email: None,
                mobile: Some("90000003".into()),
                resources: vec![],
            },
        ];
        o
    }

    fn org_party() -> OrderRecipient {
        OrderRecipient::Party(Party::Organization(OrgNumber::parse("991825827").unwrap()))
    }

    #[test]
    fn an_organisation_gets_its_official_addresses_and_authorised_contacts_once_each() {
        use DeliveryChannel::{Email, Sms};
        let o = org();
        let l = look_up(
            &org_party(),
            &Facts::Organization(Some(&o), &[true, true, true]),
            rules(NotificationChannel::EmailPreferred),
        );
        // Official: e-mails exist, so only e-mails (deduplicated case-insensitively); contacts:
        // e-mail else mobile; the second contact's address is an official one.
        assert_eq!(
            addresses(&l),
            vec![
                (Email, "post@bakeriet.no"),
                (Email, "kari@bakeriet.no"),
                (Sms, "+4790000003"),
            ]
        );
        let rules_of: Vec<LookupRule> = l.decisions.iter().map(|d| d.rule).collect();
        assert!(rules_of.contains(&LookupRule::Duplicate));
        assert!(rules_of.contains(&LookupRule::NotChosen));
    }

    #[test]
    fn a_contact_whose_person_may_no_longer_read_is_skipped() {
        let o = org();
        let l = look_up(
            &org_party(),
            &Facts::Organization(Some(&o), &[false, true, true]),
            rules(NotificationChannel::Email),
        );
        assert!(!l.targets.iter().any(|t| t.address == "kari@bakeriet.no"));
        assert!(l.decisions.iter().any(|d| {
            d.address.as_deref() == Some("kari@bakeriet.no") && d.rule == LookupRule::NotAuthorised
        }));
    }

    #[test]
    fn an_unregistered_party_is_not_identified() {
        let l = look_up(
            &party(),
            &Facts::Person(None),
            rules(NotificationChannel::Sms),
        );
        assert_eq!(
            l.failure,
            Some((
                DeliveryChannel::Sms,
                NotificationStatus::FailedRecipientNotIdentified
            ))
        );
        assert_eq!(l.decisions[0].rule, LookupRule::NoAddress);
    }
}
