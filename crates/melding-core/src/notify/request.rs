//! The notification order of an initialize request: its business rules, checked in the
//! reference's order (reference §4.1 "template 3001 → notification 3022/3017/3019/3018/3015/
//! 3011/3012/3002…3025", §8.1), and the order rows it becomes (§8.3, `delivery-chain.md` §1.4).
//!
//! The request arrives here after the model checks of the API edge (lengths, defined enum
//! values, custom recipients' organisation and national identity numbers). Building the orders
//! is pure: it takes the time and the settings as arguments.

use chrono::{DateTime, Duration, Utc};
use melding_domain::correspondence::Correspondence;
use melding_domain::notification::{
    EmailContentType, NotificationChannel, NotificationOrder, NotificationTemplate,
    NotificationTexts, OrderKind, OrderRecipient, OrderStatus,
};
use melding_domain::{EmailAddress, MobileNumber, NationalId, OrgNumber, Party};

use crate::Rule;

/// The keyword Altinn Notifications replaces with the name of the person or organisation that
/// owns each contact point; it cannot be resolved for a bare e-mail address or mobile number
/// (reference §8.1, 3015).
pub const RECIPIENT_NAME_KEYWORD: &str = "$recipientName$";

/// The languages GenericAltinnMessage has texts in (reference §8.2). Templates are stored per
/// language in lower case and looked up by exact match, so a letter whose language passed the
/// case-insensitive 1023 check as `NB` finds none (3001).
pub const GENERIC_TEMPLATE_LANGUAGES: [&str; 3] = ["nb", "nn", "en"];

/// How long after the main notice a reminder is due when the settings say nothing: 7 days, as
/// Altinn production (reference §8.3 `delayDays: 7`).
pub const DEFAULT_REMINDER_DELAY_DAYS: i64 = 7;

/// The notification order of an initialize request after the model checks
/// (`InitializeCorrespondenceNotificationExt`, reference §8.1), with its defaults applied: the
/// template is a defined one (an undefined integer was refused at the edge, 3023), the channel
/// is Email when none was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRequest {
    /// CustomMessage (the sender's texts) or GenericAltinnMessage (fixed texts in nb, nn, en).
    pub template: NotificationTemplate,
    /// The main notice's channel.
    pub channel: NotificationChannel,
    /// The main e-mail's subject text (≤ 512 characters).
    pub email_subject: Option<String>,
    /// The main e-mail's body text (≤ 10 000 characters).
    pub email_body: Option<String>,
    /// Plain text or HTML.
    pub email_content_type: EmailContentType,
    /// The main SMS text (≤ 2 144 characters).
    pub sms_body: Option<String>,
    /// Whether a reminder is sent if the letter stays unread.
    pub send_reminder: bool,
    /// The reminder's channel; the main one's when `None`.
    pub reminder_channel: Option<NotificationChannel>,
    /// The reminder e-mail's subject text.
    pub reminder_email_subject: Option<String>,
    /// The reminder e-mail's body text.
    pub reminder_email_body: Option<String>,
    /// The reminder e-mail's content type; the main one's when `None`.
    pub reminder_email_content_type: Option<EmailContentType>,
    /// The reminder SMS text.
    pub reminder_sms_body: Option<String>,
    /// Whom to notify besides (or instead of) the letter's recipient.
    pub custom_recipients: Vec<CustomRecipient>,
    /// Notify only the custom recipients (3022 without any).
    pub override_registered_contact_information: bool,
}

/// One custom recipient as sent: each should name exactly one identifier (3019, 3018). The
/// numbers passed their control digits at the edge; the e-mail address and mobile number are
/// checked here (3011, 3012).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomRecipient {
    /// An e-mail address, not yet checked.
    pub email_address: Option<String>,
    /// A mobile number, not yet checked; must start with `+` or `00`.
    pub mobile_number: Option<String>,
    /// An organisation, notified at its registered addresses.
    pub organization_number: Option<OrgNumber>,
    /// A person, notified at their KRR addresses.
    pub national_identity_number: Option<NationalId>,
}

impl CustomRecipient {
    /// How many identifiers it names.
    fn identifiers(&self) -> usize {
        usize::from(self.email_address.is_some())
            + usize::from(self.mobile_number.is_some())
            + usize::from(self.organization_number.is_some())
            + usize::from(self.national_identity_number.is_some())
    }

    /// Whether it is a bare address (e-mail or mobile), whose owner's name cannot be looked up.
    fn is_address(&self) -> bool {
        self.email_address.is_some() || self.mobile_number.is_some()
    }
}

/// The settings of notification orders that are Melding's, not the sender's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    /// How long after the main notice's send time the reminder is due. Default
    /// [`DEFAULT_REMINDER_DELAY_DAYS`] days; Altinn's test environments use 1 day.
    pub reminder_delay: Duration,
    /// How long after its requested publish time an unopened confidential letter to an
    /// organisation gets its reminder e-mail, and is listed by the confidential-reminders
    /// endpoint (reference §8.5, §4.15). Default
    /// [`super::confidential::DEFAULT_CONFIDENTIAL_REMINDER_DELAY_DAYS`] days; Altinn's test
    /// environments use one minute.
    pub confidential_reminder_delay: Duration,
    /// Senders whose orders may use KRR addresses not confirmed for more than 18 months (like the
    /// tax authority, `delivery-chain.md` §1.4 "Known quirk").
    pub use_stale_contacts_for: Vec<OrgNumber>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            reminder_delay: Duration::days(DEFAULT_REMINDER_DELAY_DAYS),
            confidential_reminder_delay: Duration::days(
                super::confidential::DEFAULT_CONFIDENTIAL_REMINDER_DELAY_DAYS,
            ),
            use_stale_contacts_for: Vec::new(),
        }
    }
}

/// A notification order that passed its business rules, with its custom recipients parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedNotification {
    request: NotificationRequest,
    /// The custom recipients in the order given, as order recipients.
    custom: Vec<OrderRecipient>,
}

/// The business rules of a notification order, in the reference's order (§4.1, §8.1):
/// 3001 (GenericAltinnMessage needs the letter's `language` to be one it has texts in), 3022
/// (override without custom recipients), 3017 (custom recipients with more than one letter
/// recipient), per custom recipient 3019 (no identifier) then 3018 (several), 3015
/// (`$recipientName$`, any case, in any of the six texts while a custom recipient is a bare
/// address), 3011 (each e-mail address strict, no `;`), 3012 (each mobile number starting with
/// `+` or `00` and valid), then for CustomMessage the texts the main channel needs
/// (3002/3004/3006/3024) and, with a reminder, those the reminder channel needs
/// (3003/3005/3007/3025). Texts count as missing when absent or blank.
///
/// `language` is the letter's content language after its checks; `letter_recipients` the
/// number of recipients of the request.
pub(crate) fn check_notification(
    n: &NotificationRequest,
    language: &str,
    letter_recipients: usize,
) -> Result<CheckedNotification, Rule> {
    if n.template == NotificationTemplate::GenericAltinnMessage
        && !GENERIC_TEMPLATE_LANGUAGES.contains(&language)
    {
        return Err(Rule::NotificationTemplateNotFound);
    }
    if n.override_registered_contact_information && n.custom_recipients.is_empty() {
        return Err(Rule::OverrideWithoutCustomRecipients);
    }
    if !n.custom_recipients.is_empty() && letter_recipients > 1 {
        return Err(Rule::CustomRecipientsWithSeveralRecipients);
    }
    for r in &n.custom_recipients {
        match r.identifiers() {
            0 => return Err(Rule::CustomRecipientWithoutIdentifier),
            1 => {}
            _ => return Err(Rule::CustomRecipientWithSeveralIdentifiers),
        }
    }
    if n.custom_recipients.iter().any(CustomRecipient::is_address)
        && texts_of(n)
            .into_iter()
            .flatten()
            .any(|t| contains_keyword(t, RECIPIENT_NAME_KEYWORD))
    {
        return Err(Rule::RecipientNameWithCustomAddress);
    }
    let mut emails = Vec::new();
    for e in n
        .custom_recipients
        .iter()
        .filter_map(|r| r.email_address.as_deref())
    {
        emails.push(custom_email(e).ok_or(Rule::InvalidCustomEmail)?);
    }
    let mut mobiles = Vec::new();
    for m in n
        .custom_recipients
        .iter()
        .filter_map(|r| r.mobile_number.as_deref())
    {
        mobiles.push(custom_mobile(m).ok_or(Rule::InvalidCustomMobile)?);
    }
    if n.template == NotificationTemplate::CustomMessage {
        check_texts(
            n.channel,
            [&n.email_subject, &n.email_body, &n.sms_body],
            false,
        )?;
        if n.send_reminder {
            check_texts(
                n.reminder_channel.unwrap_or(n.channel),
                [
                    &n.reminder_email_subject,
                    &n.reminder_email_body,
                    &n.reminder_sms_body,
                ],
                true,
            )?;
        }
    }
    // Parsed above in rule order; put back in the order the sender gave them.
    let (mut emails, mut mobiles) = (emails.into_iter(), mobiles.into_iter());
    let custom = n
        .custom_recipients
        .iter()
        .filter_map(|r| {
            if r.email_address.is_some() {
                emails.next().map(OrderRecipient::Email)
            } else if r.mobile_number.is_some() {
                mobiles.next().map(OrderRecipient::Mobile)
            } else if let Some(org) = &r.organization_number {
                Some(OrderRecipient::Party(Party::Organization(org.clone())))
            } else {
                r.national_identity_number
                    .clone()
                    .map(|p| OrderRecipient::Party(Party::Person(p)))
            }
        })
        .collect();
    Ok(CheckedNotification {
        request: n.clone(),
        custom,
    })
}

/// The six texts of an order, main then reminder.
fn texts_of(n: &NotificationRequest) -> [Option<&str>; 6] {
    [
        n.email_subject.as_deref(),
        n.email_body.as_deref(),
        n.sms_body.as_deref(),
        n.reminder_email_subject.as_deref(),
        n.reminder_email_body.as_deref(),
        n.reminder_sms_body.as_deref(),
    ]
}

/// Whether `text` holds `keyword` in any case.
fn contains_keyword(text: &str, keyword: &str) -> bool {
    text.to_lowercase().contains(&keyword.to_lowercase())
}

/// A custom recipient's e-mail address by the reference's strict rule (3011): no `;` anywhere
/// and [`EmailAddress::parse`]'s rule.
fn custom_email(s: &str) -> Option<EmailAddress> {
    if s.contains(';') {
        return None;
    }
    EmailAddress::parse(s).ok()
}

/// A custom recipient's mobile number (3012): it must start with `+` or `00` (the reference
/// accepts no national form here, unlike KRR numbers, which [`MobileNumber::parse`] also
/// takes) and be a valid number.
fn custom_mobile(s: &str) -> Option<MobileNumber> {
    let t = s.trim();
    if !(t.starts_with('+') || t.starts_with("00")) {
        return None;
    }
    MobileNumber::parse(t).ok()
}

/// The texts a CustomMessage channel needs: e-mail subject and body for Email, the SMS body for
/// Sms, all three for the preferred channels and for EmailAndSms.
fn check_texts(
    channel: NotificationChannel,
    [subject, body, sms]: [&Option<String>; 3],
    reminder: bool,
) -> Result<(), Rule> {
    let given = |t: &Option<String>| t.as_deref().is_some_and(|s| !s.trim().is_empty());
    let email = given(subject) && given(body);
    let sms = given(sms);
    let (ok, rule) = match channel {
        NotificationChannel::Email => (email, Rule::MissingEmailTexts { reminder }),
        NotificationChannel::Sms => (sms, Rule::MissingSmsText { reminder }),
        NotificationChannel::EmailPreferred | NotificationChannel::SmsPreferred => {
            (email && sms, Rule::MissingPreferredTexts { reminder })
        }
        NotificationChannel::EmailAndSms => {
            (email && sms, Rule::MissingEmailAndSmsTexts { reminder })
        }
    };
    if ok { Ok(()) } else { Err(rule) }
}

/// The orders of one letter (reference §8.3): a Main order per distinct recipient — the letter's
/// recipient unless `overrideRegisteredContactInformation`, then the custom recipients, each
/// once by [`OrderRecipient::dedupe_key`] (first kept) — and, with `sendReminder`, a Reminder
/// order for each, main orders first. A Reserved letter gets none.
///
/// Times (UTC): the main order is due at the later of `now` and the letter's requested publish
/// time, the reminder `settings.reminder_delay` after that. The reminder's channel and e-mail
/// content type default to the main ones. `ignore_reservation` is the letter's;
/// `use_stale_contacts` holds when the letter's sender is in
/// `settings.use_stale_contacts_for`.
pub(crate) fn build_orders(
    n: &CheckedNotification,
    letter: &Correspondence,
    now: DateTime<Utc>,
    settings: &NotificationSettings,
) -> Vec<NotificationOrder> {
    if letter
        .statuses
        .has_been(melding_domain::CorrespondenceStatus::Reserved)
    {
        return Vec::new();
    }
    let r = &n.request;
    let mut recipients: Vec<OrderRecipient> = Vec::new();
    let own = (!r.override_registered_contact_information)
        .then(|| OrderRecipient::Party(letter.recipient.party().clone()));
    for candidate in own.into_iter().chain(n.custom.iter().cloned()) {
        let key = candidate.dedupe_key();
        if !recipients.iter().any(|k| k.dedupe_key() == key) {
            recipients.push(candidate);
        }
    }
    let main_at = now.max(letter.settings.requested_publish_time);
    let main_texts = NotificationTexts {
        email_subject: r.email_subject.clone(),
        email_body: r.email_body.clone(),
        email_content_type: r.email_content_type,
        sms_body: r.sms_body.clone(),
    };
    let reminder_texts = NotificationTexts {
        email_subject: r.reminder_email_subject.clone(),
        email_body: r.reminder_email_body.clone(),
        email_content_type: r
            .reminder_email_content_type
            .unwrap_or(r.email_content_type),
        sms_body: r.reminder_sms_body.clone(),
    };
    let use_stale_contacts = settings
        .use_stale_contacts_for
        .contains(&letter.settings.sender);
    let ignore_reservation = letter.settings.ignore_reservation == Some(true);
    let order = |recipient: &OrderRecipient,
                 kind: OrderKind,
                 channel: NotificationChannel,
                 texts: &NotificationTexts,
                 at: DateTime<Utc>| NotificationOrder {
        id: NotificationOrder::id_for(letter.id, &recipient.dedupe_key(), kind),
        correspondence_id: letter.id,
        kind,
        recipient: recipient.clone(),
        channel,
        template: r.template,
        texts: texts.clone(),
        ignore_reservation,
        use_stale_contacts,
        requested_send_time: at,
        status: OrderStatus::Registered,
        created: now,
    };
    let mut orders: Vec<NotificationOrder> = recipients
        .iter()
        .map(|rec| order(rec, OrderKind::Main, r.channel, &main_texts, main_at))
        .collect();
    if r.send_reminder {
        let channel = r.reminder_channel.unwrap_or(r.channel);
        let at = main_at + settings.reminder_delay;
        orders.extend(
            recipients
                .iter()
                .map(|rec| order(rec, OrderKind::Reminder, channel, &reminder_texts, at)),
        );
    }
    orders
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;
    use melding_domain::correspondence::{Content, LetterSettings};
    use melding_domain::{
        CorrespondenceId, CorrespondenceStatus, Recipient, ResourceId, StatusEntry, StatusHistory,
    };

    use super::*;

    const SENDER: &str = "991825827";
    const ORG: &str = "310394955";
    const PERSON: &str = "08089403198";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    fn org(n: &str) -> OrgNumber {
        OrgNumber::parse(n).unwrap()
    }

    /// An Email CustomMessage with both e-mail texts and nothing else.
    fn email() -> NotificationRequest {
        NotificationRequest {
            template: NotificationTemplate::CustomMessage,
            channel: NotificationChannel::Email,
            email_subject: Some("Ny melding".into()),
            email_body: Some("Du har fått post fra $sendersName$.".into()),
            email_content_type: EmailContentType::Plain,
            sms_body: None,
            send_reminder: false,
            reminder_channel: None,
            reminder_email_subject: None,
            reminder_email_body: None,
            reminder_email_content_type: None,
            reminder_sms_body: None,
            custom_recipients: vec![],
            override_registered_contact_information: false,
        }
    }

    fn to_email(a: &str) -> CustomRecipient {
        CustomRecipient {
            email_address: Some(a.into()),
            ..Default::default()
        }
    }

    fn to_mobile(m: &str) -> CustomRecipient {
        CustomRecipient {
            mobile_number: Some(m.into()),
            ..Default::default()
        }
    }

    fn check(n: &NotificationRequest) -> Result<CheckedNotification, Rule> {
        check_notification(n, "nb", 1)
    }

    fn letter(recipient: &str, publish: DateTime<Utc>, reserved: bool) -> Correspondence {
        let mut statuses = vec![StatusEntry::new(
            CorrespondenceStatus::Initialized,
            t0(),
            None,
        )];
        if reserved {
            statuses.push(StatusEntry::new(CorrespondenceStatus::Reserved, t0(), None));
        }
        Correspondence {
            id: CorrespondenceId::new_v7(t0()),
            recipient: Recipient::parse(recipient).unwrap(),
            settings: LetterSettings {
                resource_id: ResourceId::parse("kommunepost").unwrap(),
                sender: org(SENDER),
                senders_reference: "sak-1".into(),
                message_sender: None,
                content: Content {
                    language: "nb".into(),
                    title: "Vedtak".into(),
                    summary: String::new(),
                    body: "Tekst".into(),
                },
                requested_publish_time: publish,
                due_date_time: None,
                external_references: vec![],
                property_list: BTreeMap::new(),
                reply_options: vec![],
                ignore_reservation: Some(true),
                is_confirmation_needed: false,
                is_confidential: false,
                allow_forwarding: false,
                digital_only: false,
            },
            idempotent_key: None,
            created: t0(),
            published: None,
            statuses: StatusHistory::new(statuses),
        }
    }

    #[test]
    fn generic_templates_exist_in_nb_nn_and_en_only() {
        let generic = NotificationRequest {
            template: NotificationTemplate::GenericAltinnMessage,
            email_subject: None,
            email_body: None,
            ..email()
        };
        for lang in GENERIC_TEMPLATE_LANGUAGES {
            assert!(check_notification(&generic, lang, 1).is_ok(), "{lang}");
        }
        assert_eq!(
            check_notification(&generic, "NB", 1).unwrap_err(),
            Rule::NotificationTemplateNotFound
        );
        // CustomMessage is language-free.
        assert!(check_notification(&email(), "NB", 1).is_ok());
    }

    #[test]
    fn custom_recipients_rules_in_the_references_order() {
        let override_alone = NotificationRequest {
            override_registered_contact_information: true,
            ..email()
        };
        assert_eq!(
            check(&override_alone).unwrap_err(),
            Rule::OverrideWithoutCustomRecipients
        );
        // 3001 comes before everything else.
        assert_eq!(
            check_notification(
                &NotificationRequest {
                    template: NotificationTemplate::GenericAltinnMessage,
                    ..override_alone.clone()
                },
                "NN",
                1
            )
            .unwrap_err(),
            Rule::NotificationTemplateNotFound
        );
        let nobody = NotificationRequest {
            custom_recipients: vec![CustomRecipient::default()],
            ..email()
        };
        assert_eq!(
            check_notification(&nobody, "nb", 2).unwrap_err(),
            Rule::CustomRecipientsWithSeveralRecipients
        );
        assert_eq!(
            check(&nobody).unwrap_err(),
            Rule::CustomRecipientWithoutIdentifier
        );
        let two = NotificationRequest {
            custom_recipients: vec![CustomRecipient {
                email_address: Some("kari@example.no".into()),
                organization_number: Some(org(ORG)),
                ..Default::default()
            }],
            ..email()
        };
        assert_eq!(
            check(&two).unwrap_err(),
            Rule::CustomRecipientWithSeveralIdentifiers
        );
        // An invalid address with a name keyword: 3015 comes before 3011.
        let named = NotificationRequest {
            reminder_sms_body: Some("Hei $RECIPIENTNAME$".into()),
            custom_recipients: vec![to_email("not an address")],
            ..email()
        };
        assert_eq!(
            check(&named).unwrap_err(),
            Rule::RecipientNameWithCustomAddress
        );
        // ... but the keyword is fine for an organisation, which has a name.
        let named_org = NotificationRequest {
            reminder_sms_body: Some("Hei $recipientName$".into()),
            custom_recipients: vec![CustomRecipient {
                organization_number: Some(org(ORG)),
                ..Default::default()
            }],
            ..email()
        };
        assert!(check(&named_org).is_ok());
        // 3011 before 3012, whatever the order of the recipients.
        let both_bad = NotificationRequest {
            custom_recipients: vec![to_mobile("91234567"), to_email("kari;ola@example.no")],
            ..email()
        };
        assert_eq!(check(&both_bad).unwrap_err(), Rule::InvalidCustomEmail);
        // Texts are checked last.
        let no_texts = NotificationRequest {
            email_subject: None,
            custom_recipients: vec![to_mobile("91234567")],
            ..email()
        };
        assert_eq!(check(&no_texts).unwrap_err(), Rule::InvalidCustomMobile);
    }

    #[test]
    fn custom_addresses_are_strict() {
        let with = |r: CustomRecipient| {
            check(&NotificationRequest {
                custom_recipients: vec![r],
                ..email()
            })
        };
        assert!(with(to_email("kåre.ørn@eksempel.no")).is_ok());
        for bad in [
            "kari@example",
            "kari@@example.no",
            "kari@example.no;ola@example.no",
        ] {
            assert_eq!(
                with(to_email(bad)).unwrap_err(),
                Rule::InvalidCustomEmail,
                "{bad}"
            );
        }
        for good in ["+4791234567", "004791234567", "+46701234567"] {
            assert!(with(to_mobile(good)).is_ok(), "{good}");
        }
        // A Norwegian number without +47 is a KRR form, not a custom recipient's.
        for bad in ["91234567", "+47912345", "+47abc", "0047"] {
            assert_eq!(
                with(to_mobile(bad)).unwrap_err(),
                Rule::InvalidCustomMobile,
                "{bad}"
            );
        }
    }

    #[test]
    fn custom_message_needs_the_texts_of_its_channels() {
        use NotificationChannel as C;
        let all = NotificationRequest {
            sms_body: Some("Ny post".into()),
            reminder_email_subject: Some("Påminnelse".into()),
            reminder_email_body: Some("Du har ulest post".into()),
            reminder_sms_body: Some("Ulest post".into()),
            send_reminder: true,
            ..email()
        };
        for channel in C::ALL {
            let n = NotificationRequest {
                channel,
                ..all.clone()
            };
            assert!(check(&n).is_ok(), "{channel:?}");
        }
        let main = |channel: C, n: NotificationRequest| {
            check(&NotificationRequest { channel, ..n }).unwrap_err()
        };
        let no_sms = NotificationRequest {
            sms_body: None,
            ..all.clone()
        };
        let blank_subject = NotificationRequest {
            email_subject: Some("  ".into()),
            ..all.clone()
        };
        assert_eq!(
            main(C::Email, blank_subject.clone()),
            Rule::MissingEmailTexts { reminder: false }
        );
        assert_eq!(
            main(C::Sms, no_sms.clone()),
            Rule::MissingSmsText { reminder: false }
        );
        assert_eq!(
            main(C::EmailPreferred, no_sms.clone()),
            Rule::MissingPreferredTexts { reminder: false }
        );
        assert_eq!(
            main(C::SmsPreferred, blank_subject),
            Rule::MissingPreferredTexts { reminder: false }
        );
        assert_eq!(
            main(C::EmailAndSms, no_sms),
            Rule::MissingEmailAndSmsTexts { reminder: false }
        );
        // The reminder's channel defaults to the main one, and is checked only with a reminder.
        let no_reminder_sms = NotificationRequest {
            reminder_sms_body: None,
            ..all.clone()
        };
        assert_eq!(
            main(C::Sms, no_reminder_sms.clone()),
            Rule::MissingSmsText { reminder: true }
        );
        let reminder = |channel: C| {
            check(&NotificationRequest {
                reminder_channel: Some(channel),
                ..no_reminder_sms.clone()
            })
            .unwrap_err()
        };
        assert_eq!(
            reminder(C::EmailPreferred),
            Rule::MissingPreferredTexts { reminder: true }
        );
        assert_eq!(
            reminder(C::EmailAndSms),
            Rule::MissingEmailAndSmsTexts { reminder: true }
        );
        let no_reminder_email = NotificationRequest {
            reminder_email_body: None,
            ..all.clone()
        };
        assert_eq!(
            main(C::Email, no_reminder_email.clone()),
            Rule::MissingEmailTexts { reminder: true }
        );
        assert!(
            check(&NotificationRequest {
                send_reminder: false,
                ..no_reminder_email
            })
            .is_ok()
        );
        // GenericAltinnMessage brings its own texts.
        let generic = NotificationRequest {
            template: NotificationTemplate::GenericAltinnMessage,
            channel: C::EmailAndSms,
            email_subject: None,
            ..no_reminder_sms
        };
        assert!(check(&generic).is_ok());
    }

    #[test]
    fn one_order_per_distinct_recipient_and_phase() {
        let n = NotificationRequest {
            send_reminder: true,
            reminder_channel: Some(NotificationChannel::Sms),
            reminder_sms_body: Some("Ulest post".into()),
            email_content_type: EmailContentType::Html,
            custom_recipients: vec![
                to_email("Kari@Example.no"),
                to_email("kari@example.NO"),
                to_mobile("+47 912 34 567"),
                CustomRecipient {
                    organization_number: Some(org(ORG)),
                    ..Default::default()
                },
            ],
            ..email()
        };
        let checked = check(&n).unwrap();
        let publish = t0() + Duration::days(2);
        let l = letter(&format!("0192:{ORG}"), publish, false);
        let settings = NotificationSettings {
            reminder_delay: Duration::days(3),
            use_stale_contacts_for: vec![org(SENDER)],
            ..NotificationSettings::default()
        };
        let orders = build_orders(&checked, &l, t0(), &settings);
        let summary: Vec<(OrderKind, String)> = orders
            .iter()
            .map(|o| (o.kind, o.recipient.dedupe_key()))
            .collect();
        let org_urn = format!("urn:altinn:organization:identifier-no:{ORG}");
        let expected_keys = [
            org_urn.clone(),
            "email:kari@example.no".to_owned(),
            "sms:+4791234567".to_owned(),
        ];
        let expected: Vec<(OrderKind, String)> = [OrderKind::Main, OrderKind::Reminder]
            .into_iter()
            .flat_map(|k| expected_keys.iter().map(move |key| (k, key.clone())))
            .collect();
        assert_eq!(summary, expected);
        for o in &orders {
            assert_eq!(
                o.id,
                NotificationOrder::id_for(l.id, &o.recipient.dedupe_key(), o.kind)
            );
            assert_eq!(o.correspondence_id, l.id);
            assert_eq!(o.status, OrderStatus::Registered);
            assert_eq!(o.created, t0());
            assert!(o.ignore_reservation);
            assert!(o.use_stale_contacts);
            match o.kind {
                OrderKind::Main => {
                    assert_eq!(o.requested_send_time, publish);
                    assert_eq!(o.channel, NotificationChannel::Email);
                    assert_eq!(o.texts.email_subject.as_deref(), Some("Ny melding"));
                    assert_eq!(o.texts.email_content_type, EmailContentType::Html);
                }
                OrderKind::ConfidentialReminder => {
                    panic!("build_orders makes no confidential reminder")
                }
                OrderKind::Reminder => {
                    assert_eq!(o.requested_send_time, publish + Duration::days(3));
                    assert_eq!(o.channel, NotificationChannel::Sms);
                    assert_eq!(o.texts.sms_body.as_deref(), Some("Ulest post"));
                    assert_eq!(o.texts.email_subject, None);
                    assert_eq!(
                        o.texts.email_content_type,
                        EmailContentType::Html,
                        "the main content type by default"
                    );
                }
            }
        }
        // The first e-mail is kept as written.
        assert_eq!(
            orders[1].recipient,
            OrderRecipient::Email(EmailAddress::parse("Kari@Example.no").unwrap())
        );
    }

    #[test]
    fn override_notifies_only_the_custom_recipients_and_defaults_apply() {
        let n = NotificationRequest {
            override_registered_contact_information: true,
            custom_recipients: vec![CustomRecipient {
                national_identity_number: Some(NationalId::parse(PERSON).unwrap()),
                ..Default::default()
            }],
            ..email()
        };
        let l = letter(&format!("0192:{ORG}"), t0() - Duration::days(1), false);
        let later = t0() + Duration::minutes(5);
        let orders = build_orders(
            &check(&n).unwrap(),
            &l,
            later,
            &NotificationSettings::default(),
        );
        let [only] = &orders[..] else {
            panic!("{orders:?}")
        };
        assert_eq!(
            only.recipient,
            OrderRecipient::Party(Party::Person(NationalId::parse(PERSON).unwrap()))
        );
        assert_eq!(only.kind, OrderKind::Main);
        assert_eq!(
            only.requested_send_time, later,
            "a past publish time sends now"
        );
        assert!(!only.use_stale_contacts);
        assert_eq!(
            NotificationSettings::default().reminder_delay,
            Duration::days(7)
        );
    }

    #[test]
    fn a_reserved_letter_gets_no_orders() {
        let l = letter(PERSON, t0(), true);
        assert!(
            build_orders(
                &check(&email()).unwrap(),
                &l,
                t0(),
                &NotificationSettings::default()
            )
            .is_empty()
        );
        let l = letter(PERSON, t0(), false);
        assert_eq!(
            build_orders(
                &check(&email()).unwrap(),
                &l,
                t0(),
                &NotificationSettings::default()
            )
            .len(),
            1
        );
    }
}
