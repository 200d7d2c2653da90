//! The texts a recipient sees in a notification: Altinn's two notification templates in
//! bokmål, nynorsk and English, and keyword replacement.
//!
//! `reference/correspondence-api.md` §8.2: a template has an e-mail subject, an e-mail body and
//! an SMS body; `{textToken}` in it is replaced by the sender's own text followed by a space,
//! and the result is trimmed. `CustomMessage` is only `{textToken}`: the sender's text verbatim.
//! `GenericAltinnMessage` wraps the sender's text in fixed sentences. Then the keywords are
//! replaced (`reference/delivery-chain.md` §1.8; `correspondence-api.md` §8.2):
//! `$sendersName$`, `$correspondenceRecipientName$`, `$resourceName$`, `$messageTitle$`,
//! `$recipientName$` and `$recipientNumber$`, matched exactly (case-sensitive).
//!
//! Where the reference gives the generic texts they are used as given: the e-mail subjects and
//! bodies of the main notice in all three languages and the bokmål reminder's subject and the
//! start of its body. The rest is ours and marked `(ours)` below: the end of the reminder
//! bodies, the nynorsk and English reminders, and every SMS text (the reference quotes none).
//!
//! Two choices differ from a literal reading of the reference, both so that no odd text
//! reaches a person: an absent sender text replaces `{textToken}` with nothing (not a lone
//! space, which would leave two spaces mid-sentence), and replacement is one pass, so a value
//! that itself contains `$…$` (a sender called `$recipientName$`) is never replaced again.
//!
//! Why not minijinja (`reference/dependencies-and-limits.md` §3 "Templates"): these texts are
//! fixed, and the `$keyword$` syntax and exact, ordinal replacement are the contract that
//! senders write against; a template engine would add a syntax (`{{ }}`, `{% %}`) that a
//! sender's text could trigger. Runtime-editable templates, if they come, are where it fits.

use melding_domain::OrgNumber;

/// The language of a notification (Altinn's `languageCode`: `nb`, `nn`, `en`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// Norwegian bokmål.
    Nb,
    /// Norwegian nynorsk.
    Nn,
    /// English.
    En,
}

impl Language {
    /// The language code, as in `Content-Language`: `nb`, `nn` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Nb => "nb",
            Language::Nn => "nn",
            Language::En => "en",
        }
    }

    /// The language for a code (`nb`, `nn`, `en`, case-insensitive), or `None` for another.
    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "nb" => Some(Language::Nb),
            "nn" => Some(Language::Nn),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// Altinn's notification templates (`correspondence-api.md` §8.1 `notificationTemplate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationTemplate {
    /// The sender's texts, verbatim (after keyword replacement). The default.
    CustomMessage,
    /// Fixed sentences about a new message in the inbox, with the sender's text inserted.
    GenericAltinnMessage,
}

/// Whether the notice is the first one or the reminder sent later if the letter is still unread
/// (7 days later in production, `reference/delivery-chain.md` §1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The notice sent when the letter is published.
    Main,
    /// The reminder.
    Reminder,
}

/// The sender's own texts for one phase, from the notification request (`emailSubject`,
/// `emailBody`, `smsBody`, or the `reminder…` ones); each may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderTexts {
    /// Inserted into the e-mail subject.
    pub email_subject: Option<String>,
    /// Inserted into the e-mail body.
    pub email_body: Option<String>,
    /// Inserted into the SMS body.
    pub sms_body: Option<String>,
}

/// Who the notice goes to, as far as `$recipientName$` and `$recipientNumber$` need to know
/// (`reference/delivery-chain.md` §1.8, rule 12 and rule 40). A person is held without their
/// national identity number, so it cannot appear in any text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifiedRecipient {
    /// An organisation: `$recipientName$` is its name, `$recipientNumber$` its org number.
    Organisation {
        /// The organisation's name, e.g. `Bakeriet AS`.
        name: String,
        /// Its organisation number.
        org_number: OrgNumber,
    },
    /// A person: `$recipientName$` is their name, `$recipientNumber$` is empty.
    Person {
        /// The person's name, e.g. `Kari Nordmann`.
        name: String,
    },
    /// A bare e-mail address or mobile number with nobody looked up behind it:
    /// `$recipientName$` and `$recipientNumber$` are left as written.
    ContactPoint,
}

/// The values of the keywords for one notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keywords {
    /// `$sendersName$`: the letter's `messageSender`, else the sender's name.
    pub senders_name: String,
    /// `$correspondenceRecipientName$`: the letter's recipient's name (for a notice to an
    /// organisation's employee, the organisation).
    pub correspondence_recipient_name: String,
    /// `$resourceName$`: the resource's title in the notice's language.
    pub resource_name: String,
    /// `$messageTitle$`: the letter's title.
    pub message_title: String,
    /// Who this notice goes to, for `$recipientName$` and `$recipientNumber$`.
    pub recipient: NotifiedRecipient,
}

/// The finished texts of one notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedTexts {
    /// The e-mail subject.
    pub email_subject: String,
    /// The e-mail body.
    pub email_body: String,
    /// The SMS body.
    pub sms_body: String,
}

/// The three template texts of one template, language and phase.
struct TemplateTexts {
    email_subject: &'static str,
    email_body: &'static str,
    sms_body: &'static str,
}

const CUSTOM: TemplateTexts = TemplateTexts {
    email_subject: "{textToken}",
    email_body: "{textToken}",
    sms_body: "{textToken}",
};

fn generic(language: Language, phase: Phase) -> TemplateTexts {
    match (language, phase) {
        (Language::Nb, Phase::Main) => TemplateTexts {
            email_subject: "En melding har blitt mottatt i Altinn {textToken}",
            email_body: "Hei. $correspondenceRecipientName$ har mottatt en ny melding fra \
                $sendersName$. {textToken}Logg deg inn i Altinn for å se denne meldingen.",
            // (ours)
            sms_body: "Hei. $correspondenceRecipientName$ har mottatt en ny melding fra \
                $sendersName$ i Altinn. {textToken}Logg inn i Altinn for å se meldingen.",
        },
        (Language::Nb, Phase::Reminder) => TemplateTexts {
            email_subject: "Påminnelse - en melding har blitt mottatt i Altinn {textToken}",
            // The reference gives the start; the end (from "en ny melding") is ours.
            email_body: "Hei. Dette er en påminnelse om at $correspondenceRecipientName$ har \
                mottatt en ny melding fra $sendersName$. {textToken}Logg deg inn i Altinn for å \
                se denne meldingen.",
            // (ours)
            sms_body: "Påminnelse: $correspondenceRecipientName$ har en ulest melding fra \
                $sendersName$ i Altinn. {textToken}Logg inn i Altinn for å se meldingen.",
        },
        (Language::Nn, Phase::Main) => TemplateTexts {
            email_subject: "Ein melding har blitt motteke i Altinn {textToken}",
            // The reference gives the start; the last sentence is ours.
            email_body: "Hei. $correspondenceRecipientName$ har motteke ei ny melding frå \
                $sendersName$. {textToken}Logg deg inn i Altinn for å sjå denne meldinga.",
            // (ours)
            sms_body: "Hei. $correspondenceRecipientName$ har motteke ei ny melding frå \
                $sendersName$ i Altinn. {textToken}Logg inn i Altinn for å sjå meldinga.",
        },
        // (ours)
        (Language::Nn, Phase::Reminder) => TemplateTexts {
            email_subject: "Påminning - ein melding har blitt motteke i Altinn {textToken}",
            email_body: "Hei. Dette er ei påminning om at $correspondenceRecipientName$ har \
                motteke ei ny melding frå $sendersName$. {textToken}Logg deg inn i Altinn for å \
                sjå denne meldinga.",
            sms_body: "Påminning: $correspondenceRecipientName$ har ei ulesen melding frå \
                $sendersName$ i Altinn. {textToken}Logg inn i Altinn for å sjå meldinga.",
        },
        (Language::En, Phase::Main) => TemplateTexts {
            email_subject: "A message has been received in Altinn {textToken}",
            email_body: "Hello. $correspondenceRecipientName$ has received a new message from \
                $sendersName$. {textToken}Log in to Altinn to see this message.",
            // (ours)
            sms_body: "Hello. $correspondenceRecipientName$ has received a new message from \
                $sendersName$ in Altinn. {textToken}Log in to Altinn to see the message.",
        },
        // (ours)
        (Language::En, Phase::Reminder) => TemplateTexts {
            email_subject: "Reminder - a message has been received in Altinn {textToken}",
            email_body: "Hello. This is a reminder that $correspondenceRecipientName$ has \
                received a new message from $sendersName$. {textToken}Log in to Altinn to see \
                this message.",
            sms_body: "Reminder: $correspondenceRecipientName$ has an unread message from \
                $sendersName$ in Altinn. {textToken}Log in to Altinn to see the message.",
        },
    }
}

/// Renders the three texts of a notice: the template for `language` and `phase` with the
/// sender's `texts` in `{textToken}`, trimmed, then the keywords replaced in one pass (see the
/// module docs). `CustomMessage` reads the same in every language.
pub fn render(
    template: NotificationTemplate,
    language: Language,
    phase: Phase,
    texts: &SenderTexts,
    keywords: &Keywords,
) -> RenderedTexts {
    let texts_of = match template {
        NotificationTemplate::CustomMessage => CUSTOM,
        NotificationTemplate::GenericAltinnMessage => generic(language, phase),
    };
    let one = |template: &str, text: &Option<String>| {
        replace_keywords(&insert_text(template, text.as_deref()), keywords)
    };
    RenderedTexts {
        email_subject: one(texts_of.email_subject, &texts.email_subject),
        email_body: one(texts_of.email_body, &texts.email_body),
        sms_body: one(texts_of.sms_body, &texts.sms_body),
    }
}

/// Whether the texts [`render`] would fill for these arguments mention the keyword `name`
/// (`"sendersName"` for `$sendersName$`), so a caller looks up only the values the texts use.
pub fn mentions(
    template: NotificationTemplate,
    language: Language,
    phase: Phase,
    texts: &SenderTexts,
    name: &str,
) -> bool {
    let texts_of = match template {
        NotificationTemplate::CustomMessage => CUSTOM,
        NotificationTemplate::GenericAltinnMessage => generic(language, phase),
    };
    let token = format!("${name}$");
    [
        (texts_of.email_subject, &texts.email_subject),
        (texts_of.email_body, &texts.email_body),
        (texts_of.sms_body, &texts.sms_body),
    ]
    .iter()
    .any(|(template, text)| insert_text(template, text.as_deref()).contains(&token))
}

/// `{textToken}` → the text and a space (nothing when absent or blank), then trimmed.
fn insert_text(template: &str, text: Option<&str>) -> String {
    let token = match text.map(str::trim) {
        Some(text) if !text.is_empty() => format!("{text} "),
        _ => String::new(),
    };
    template.replace("{textToken}", &token).trim().to_owned()
}

/// Replaces every known `$keyword$` that has a value, in one pass over `text`.
pub fn replace_keywords(text: &str, keywords: &Keywords) -> String {
    let value = |name: &str| -> Option<&str> {
        match name {
            "sendersName" => Some(&keywords.senders_name),
            "correspondenceRecipientName" => Some(&keywords.correspondence_recipient_name),
            "resourceName" => Some(&keywords.resource_name),
            "messageTitle" => Some(&keywords.message_title),
            "recipientName" => match &keywords.recipient {
                NotifiedRecipient::Organisation { name, .. }
                | NotifiedRecipient::Person { name } => Some(name),
                NotifiedRecipient::ContactPoint => None,
            },
            "recipientNumber" => match &keywords.recipient {
                NotifiedRecipient::Organisation { org_number, .. } => Some(org_number.as_str()),
                NotifiedRecipient::Person { .. } => Some(""),
                NotifiedRecipient::ContactPoint => None,
            },
            _ => None,
        }
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after
            .find('$')
            .and_then(|end| value(&after[..end]).map(|v| (end, v)))
        {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 1..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_sees_the_keywords_of_the_sender_texts_and_of_the_generic_template() {
        let own = SenderTexts {
            email_subject: Some("$messageTitle$".into()),
            email_body: Some("Hei $recipientName$".into()),
            sms_body: None,
        };
        let custom = |name| {
            mentions(
                NotificationTemplate::CustomMessage,
                Language::Nb,
                Phase::Main,
                &own,
                name,
            )
        };
        assert!(custom("messageTitle"));
        assert!(custom("recipientName"));
        assert!(!custom("sendersName"));
        assert!(!custom("resourceName"));
        // Whatever the generic texts mention is mentioned, with or without sender texts.
        for language in [Language::Nb, Language::Nn, Language::En] {
            for phase in [Phase::Main, Phase::Reminder] {
                let t = generic(language, phase);
                let all = format!("{} {} {}", t.email_subject, t.email_body, t.sms_body);
                for name in ["sendersName", "resourceName", "correspondenceRecipientName"] {
                    assert_eq!(
                        mentions(
                            NotificationTemplate::GenericAltinnMessage,
                            language,
                            phase,
                            &SenderTexts::default(),
                            name
                        ),
                        all.contains(&format!("${name}$")),
                        "{name}"
                    );
                }
            }
        }
    }

    fn keywords(recipient: NotifiedRecipient) -> Keywords {
        Keywords {
            senders_name: "Ås kommune".into(),
            correspondence_recipient_name: "Bakeriet AS".into(),
            resource_name: "Byggesak".into(),
            message_title: "Vedtak".into(),
            recipient,
        }
    }

    #[test]
    fn keywords_are_replaced_once_and_exactly() {
        let org = NotifiedRecipient::Organisation {
            name: "Bakeriet AS".into(),
            org_number: OrgNumber::parse("991825827").unwrap(),
        };
        let k = keywords(org);
        assert_eq!(
            replace_keywords("$recipientName$ ($recipientNumber$): $messageTitle$", &k),
            "Bakeriet AS (991825827): Vedtak"
        );
        // Case-sensitive, unknown names and lone dollars are left alone.
        assert_eq!(
            replace_keywords("$RecipientName$ $foo$ 5$ $$ $sendersName", &k),
            "$RecipientName$ $foo$ 5$ $$ $sendersName"
        );
        // A keyword right after an unknown `$…`.
        assert_eq!(replace_keywords("$5 $sendersName$", &k), "$5 Ås kommune");
        // A value holding a keyword is not replaced again.
        let mut tricky = k.clone();
        tricky.senders_name = "$recipientNumber$".into();
        assert_eq!(
            replace_keywords("$sendersName$", &tricky),
            "$recipientNumber$"
        );
    }

    #[test]
    fn a_person_has_an_empty_recipient_number() {
        let k = keywords(NotifiedRecipient::Person {
            name: "Kari Nordmann".into(),
        });
        assert_eq!(
            replace_keywords("$recipientName$ [$recipientNumber$]", &k),
            "Kari Nordmann []"
        );
    }

    #[test]
    fn a_bare_contact_point_leaves_recipient_keywords() {
        let k = keywords(NotifiedRecipient::ContactPoint);
        assert_eq!(
            replace_keywords("$recipientName$ $recipientNumber$ $sendersName$", &k),
            "$recipientName$ $recipientNumber$ Ås kommune"
        );
    }

    #[test]
    fn text_token_and_trimming() {
        assert_eq!(insert_text("{textToken}", Some("  Hei  ")), "Hei");
        assert_eq!(insert_text("A {textToken}B", Some("x")), "A x B");
        assert_eq!(insert_text("A {textToken}B", None), "A B");
        assert_eq!(insert_text("A {textToken}B", Some("  ")), "A B");
        assert_eq!(insert_text("Subject {textToken}", None), "Subject");
    }

    #[test]
    fn languages() {
        for language in [Language::Nb, Language::Nn, Language::En] {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(Language::from_code("NB"), Some(Language::Nb));
        assert_eq!(Language::from_code("se"), None);
    }
}
