//! Unopened confidential letters: the e-mail an organisation gets when a confidential letter to
//! it is still unopened 7 days after publication (reference §8.5), and the list of such letters
//! that `GET /correspondence/api/v1/confidential-reminders` answers (reference §4.15).
//!
//! Every confidential letter to an organisation gets a [`OrderKind::ConfidentialReminder`] order,
//! written with the letter at initialize and due at its requested publish time plus
//! [`NotificationSettings::confidential_reminder_delay`]. The sender did not order it, so the
//! sender's overview and details do not list it; `melding notifications show` does. It goes
//! through the same processing and sending as the sender's notices, with the condition that the
//! letter was never opened: opening the letter as recipient (Fetched) removes the reminder, as in
//! the reference (§4.3).

use chrono::{DateTime, Utc};
use melding_domain::calendar::oslo_date;
use melding_domain::correspondence::Correspondence;
use melding_domain::notification::{
    EmailContentType, NotificationChannel, NotificationOrder, NotificationTemplate,
    NotificationTexts, OrderKind, OrderRecipient, OrderStatus,
};
use melding_domain::{CorrespondenceStatus, Party};

use super::NotificationSettings;
use crate::{CoreError, Melding, Principal, Rule};

/// How long after its requested publish time an unopened confidential letter's reminder is due
/// when the settings say nothing: 7 days, as Altinn production (reference §8.5; its test
/// environments use one minute).
pub const DEFAULT_CONFIDENTIAL_REMINDER_DELAY_DAYS: i64 = 7;

/// The Altinn resource whose rights decide who may see the list of unopened confidential letters
/// (reference §4.15).
pub const CONFIDENTIAL_REMINDER_RESOURCE: &str =
    "digdir-reminder-unopened-confidential-correspondences";

/// The confidential reminder's e-mail subject (reference §8.5). `$recipientName$` becomes the
/// organisation's registered name.
pub const CONFIDENTIAL_REMINDER_SUBJECT: &str =
    "Din virksomhet $recipientName$ har uåpnet taushetsbelagt post.";

/// The confidential reminder's e-mail body. Its first sentence is the reference's (§8.5); the
/// reference elides the rest, so the rest is Melding's wording.
pub const CONFIDENTIAL_REMINDER_BODY: &str = "Dette er et automatisk varsel om at din virksomhet \
har mottatt taushetsbelagt post som ikke er åpnet. Taushetsbelagt post kan bare åpnes av personer \
som har fått tilgang til den. Logg inn og velg å representere $recipientName$ for å se hvilke \
meldinger det gjelder.";

/// The most letters one list names: a longer list is cut here (the reference sets no limit; a
/// notice meant for people gains nothing from more lines).
pub const MAX_LISTED: u32 = 500;

/// The confidential reminder order of one letter, or `None` when it gets none: a letter that is
/// not confidential, whose recipient is not an organisation, or that was reserved. The order is
/// an e-mail CustomMessage to the organisation with the §8.5 texts, due
/// `settings.confidential_reminder_delay` after the later of `now` and the letter's requested
/// publish time (UTC).
pub(crate) fn confidential_reminder_order(
    letter: &Correspondence,
    now: DateTime<Utc>,
    settings: &NotificationSettings,
) -> Option<NotificationOrder> {
    let recipient = letter.recipient.party();
    if !letter.settings.is_confidential
        || !matches!(recipient, Party::Organization(_))
        || letter.statuses.has_been(CorrespondenceStatus::Reserved)
    {
        return None;
    }
    let recipient = OrderRecipient::Party(recipient.clone());
    let kind = OrderKind::ConfidentialReminder;
    Some(NotificationOrder {
        id: NotificationOrder::id_for(letter.id, &recipient.dedupe_key(), kind),
        correspondence_id: letter.id,
        kind,
        recipient,
        channel: NotificationChannel::Email,
        template: NotificationTemplate::CustomMessage,
        texts: NotificationTexts {
            email_subject: Some(CONFIDENTIAL_REMINDER_SUBJECT.to_owned()),
            email_body: Some(CONFIDENTIAL_REMINDER_BODY.to_owned()),
            email_content_type: EmailContentType::Plain,
            sms_body: None,
        },
        ignore_reservation: false,
        use_stale_contacts: false,
        requested_send_time: now.max(letter.settings.requested_publish_time)
            + settings.confidential_reminder_delay,
        status: OrderStatus::Registered,
        created: now,
    })
}

/// The language of the unopened-confidential list (`languageCode`, reference §4.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReminderLanguage {
    /// Norwegian bokmål, the default.
    #[default]
    Nb,
    /// Norwegian nynorsk.
    Nn,
    /// English.
    En,
}

impl ReminderLanguage {
    /// `nb`, `nn` or `en`, in any case; anything else is `None`.
    pub fn from_code(code: &str) -> Option<Self> {
        match code.to_ascii_lowercase().as_str() {
            "nb" => Some(Self::Nb),
            "nn" => Some(Self::Nn),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    fn intro(self) -> &'static str {
        match self {
            Self::Nb => {
                "Dette er et automatisk varsel om at din virksomhet har mottatt taushetsbelagt \
                 post som ikke er åpnet. Taushetsbelagt post kan bare åpnes av personer som har \
                 fått tilgang til den. Disse meldingene er ikke åpnet:"
            }
            Self::Nn => {
                "Dette er eit automatisk varsel om at verksemda di har fått teiepliktig post som \
                 ikkje er opna. Teiepliktig post kan berre opnast av personar som har fått \
                 tilgang til han. Desse meldingane er ikkje opna:"
            }
            Self::En => {
                "This is an automatic notice that your organisation has received confidential \
                 mail that has not been opened. Confidential mail can only be opened by people \
                 who have been given access to it. These messages have not been opened:"
            }
        }
    }

    fn line(self, n: usize, sender: &str, date: &str, resource: &str) -> String {
        match self {
            Self::Nb => format!(
                "{n}. Melding fra avsender {sender} datert {date}, denne krever tilgang til \
                 tjenesten: {resource}"
            ),
            Self::Nn => format!(
                "{n}. Melding frå avsendar {sender} datert {date}, denne krev tilgang til \
                 tenesta: {resource}"
            ),
            Self::En => format!(
                "{n}. Message from sender {sender} dated {date}, this requires access to the \
                 service: {resource}"
            ),
        }
    }

    fn closing(self) -> &'static str {
        match self {
            Self::Nb => "NB! Dette varselet forsvinner når alle meldingene over er åpnet.",
            Self::Nn => "NB! Dette varselet forsvinn når alle meldingane over er opna.",
            Self::En => "NB! This notice disappears once all the messages above have been opened.",
        }
    }
}

impl Melding {
    /// The list of the caller's unopened confidential letters as `text/plain` markdown
    /// (reference §4.15): an intro paragraph, one numbered line per letter published at least
    /// [`NotificationSettings::confidential_reminder_delay`] ago and never opened (sender: the
    /// letter's `messageSender`, else the sender organisation's registered name, else its
    /// number; date: the Oslo publish date as dd.MM.yyyy; service: the resource's title, else its
    /// id), oldest first and at most [`MAX_LISTED`], then a closing line.
    ///
    /// The caller is the organisation the token speaks for, which may always see its own list.
    ///
    /// # Errors
    /// [`Rule::CallerUnknown`] (4006) when the token speaks for no organisation;
    /// [`Rule::NoUnopenedConfidential`] (1062) when there is nothing to list;
    /// [`CoreError::Store`].
    pub async fn confidential_reminders(
        &self,
        principal: &Principal,
        language: ReminderLanguage,
    ) -> Result<String, CoreError> {
        let Party::Organization(org) = &principal.party else {
            return Err(Rule::CallerUnknown.into());
        };
        let before = self.clock.now() - self.notifications.confidential_reminder_delay;
        let ids = self
            .store
            .unopened_confidential(&principal.party.urn(), before, MAX_LISTED)
            .await?;
        let mut lines = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(letter) = self.store.correspondence(id).await? else {
                continue;
            };
            let sender = match &letter.settings.message_sender {
                Some(name) if !name.trim().is_empty() => name.clone(),
                _ => self
                    .store
                    .organization(&letter.settings.sender)
                    .await?
                    .map(|o| o.name)
                    .unwrap_or_else(|| letter.settings.sender.to_string()),
            };
            let resource_id = letter.settings.resource_id.as_str();
            let resource = self
                .store
                .resource(resource_id)
                .await?
                .map(|r| r.title)
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| resource_id.to_owned());
            let published = letter
                .published
                .unwrap_or(letter.settings.requested_publish_time);
            let date = oslo_date(published).format("%d.%m.%Y").to_string();
            lines.push(language.line(lines.len() + 1, &sender, &date, &resource));
        }
        if lines.is_empty() {
            tracing::debug!(%org, "no unopened confidential letters");
            return Err(Rule::NoUnopenedConfidential.into());
        }
        Ok(format!(
            "{}\n\n{}\n\n{}\n",
            language.intro(),
            lines.join("\n"),
            language.closing()
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{Duration, TimeZone};
    use melding_domain::correspondence::{Content, LetterSettings};
    use melding_domain::{
        CorrespondenceId, OrgNumber, Recipient, ResourceId, StatusEntry, StatusHistory,
    };

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    const ORG: &str = "urn:altinn:organization:identifier-no:310394955";
    const PERSON: &str = "urn:altinn:person:identifier-no:08089403198";

    fn letter(recipient: &str, confidential: bool, publish: DateTime<Utc>) -> Correspondence {
        Correspondence {
            id: CorrespondenceId::new_v7(t0()),
            recipient: Recipient::parse(recipient).unwrap(),
            settings: LetterSettings {
                resource_id: ResourceId::parse("taushetsbelagt-post").unwrap(),
                sender: OrgNumber::parse("991825827").unwrap(),
                senders_reference: "ref".into(),
                message_sender: None,
                content: Content {
                    language: "nb".into(),
                    title: "Vedtak".into(),
                    summary: String::new(),
                    body: "Body".into(),
                },
                requested_publish_time: publish,
                due_date_time: None,
                external_references: vec![],
                property_list: BTreeMap::new(),
                reply_options: vec![],
                ignore_reservation: None,
                is_confirmation_needed: false,
                is_confidential: confidential,
                allow_forwarding: false,
                digital_only: false,
            },
            idempotent_key: None,
            created: t0(),
            published: None,
            statuses: StatusHistory::new(vec![StatusEntry::new(
                CorrespondenceStatus::Initialized,
                t0(),
                None,
            )]),
        }
    }

    fn org() -> Party {
        Recipient::parse(ORG).unwrap().party().clone()
    }

    #[test]
    fn a_confidential_letter_to_an_organisation_gets_one_email_reminder_after_the_delay() {
        let settings = NotificationSettings::default();
        let publish = t0() + Duration::hours(3);
        let l = letter(ORG, true, publish);
        let o = confidential_reminder_order(&l, t0(), &settings).expect("an order");
        assert_eq!(o.kind, OrderKind::ConfidentialReminder);
        assert_eq!(o.channel, NotificationChannel::Email);
        assert_eq!(o.template, NotificationTemplate::CustomMessage);
        assert_eq!(o.recipient, OrderRecipient::Party(org()));
        assert_eq!(o.requested_send_time, publish + Duration::days(7));
        assert_eq!(
            o.texts.email_subject.as_deref(),
            Some(CONFIDENTIAL_REMINDER_SUBJECT)
        );
        // A publish time in the past counts from now.
        let past = letter(ORG, true, t0() - Duration::days(30));
        let o = confidential_reminder_order(&past, t0(), &settings).unwrap();
        assert_eq!(o.requested_send_time, t0() + Duration::days(7));
        // The delay is the settings'.
        let short = NotificationSettings {
            confidential_reminder_delay: Duration::minutes(1),
            ..NotificationSettings::default()
        };
        let o = confidential_reminder_order(&l, t0(), &short).unwrap();
        assert_eq!(o.requested_send_time, publish + Duration::minutes(1));
    }

    #[test]
    fn letters_that_are_not_confidential_or_not_to_an_organisation_get_none() {
        let settings = NotificationSettings::default();
        assert_eq!(
            confidential_reminder_order(&letter(ORG, false, t0()), t0(), &settings),
            None
        );
        assert_eq!(
            confidential_reminder_order(&letter(PERSON, true, t0()), t0(), &settings),
            None
        );
    }

    #[test]
    fn languages_are_read_in_any_case_and_lines_follow_the_reference() {
        assert_eq!(
            ReminderLanguage::from_code("NN"),
            Some(ReminderLanguage::Nn)
        );
        assert_eq!(ReminderLanguage::from_code("se"), None);
        assert_eq!(
            ReminderLanguage::Nb.line(2, "Skatteetaten", "01.03.2026", "Skattemelding"),
            "2. Melding fra avsender Skatteetaten datert 01.03.2026, denne krever tilgang til \
             tjenesten: Skattemelding"
        );
    }
}
