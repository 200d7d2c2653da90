//! Every template in bokmål, nynorsk and English, for the main notice and the reminder, to an
//! organisation, a person and a bare contact point, checked against `tests/expected/*.txt`.
//! Run with `MELDING_BLESS=1` to write the files anew after a deliberate change of text, and
//! read the diff: these are the words recipients see.

use std::fmt::Write;
use std::path::Path;

use melding_delivery::templates::{
    Keywords, Language, NotificationTemplate, NotifiedRecipient, Phase, SenderTexts, render,
};
use melding_domain::OrgNumber;

fn sender_texts(template: NotificationTemplate, language: Language, phase: Phase) -> SenderTexts {
    use Language::*;
    use NotificationTemplate::*;
    use Phase::*;
    let (subject, body, sms) = match (template, language, phase) {
        (CustomMessage, Nb, Main) => (
            "Nytt brev fra $sendersName$: $messageTitle$",
            "Hei $recipientName$ $recipientNumber$\n\n$correspondenceRecipientName$ har fått \
             brevet «$messageTitle$» ($resourceName$). Brevet blir sendt i posten om det ikke \
             er åpnet innen 2 virkedager.",
            "$sendersName$ har sendt $correspondenceRecipientName$ et brev i Altinn: $messageTitle$",
        ),
        (CustomMessage, Nb, Reminder) => (
            "Påminnelse: $messageTitle$",
            "Hei $recipientName$. Brevet «$messageTitle$» fra $sendersName$ er ikke åpnet ennå.",
            "Påminnelse: uåpnet brev fra $sendersName$ i Altinn.",
        ),
        (CustomMessage, Nn, Main) => (
            "Nytt brev frå $sendersName$: $messageTitle$",
            "Hei $recipientName$ $recipientNumber$\n\n$correspondenceRecipientName$ har fått \
             brevet «$messageTitle$» ($resourceName$).",
            "$sendersName$ har sendt $correspondenceRecipientName$ eit brev i Altinn: $messageTitle$",
        ),
        (CustomMessage, Nn, Reminder) => (
            "Påminning: $messageTitle$",
            "Hei $recipientName$. Brevet «$messageTitle$» frå $sendersName$ er ikkje opna enno.",
            "Påminning: uopna brev frå $sendersName$ i Altinn.",
        ),
        (CustomMessage, En, Main) => (
            "New letter from $sendersName$: $messageTitle$",
            "Hello $recipientName$ $recipientNumber$\n\n$correspondenceRecipientName$ has \
             received the letter \"$messageTitle$\" ($resourceName$).",
            "$sendersName$ has sent $correspondenceRecipientName$ a letter in Altinn: $messageTitle$",
        ),
        (CustomMessage, En, Reminder) => (
            "Reminder: $messageTitle$",
            "Hello $recipientName$. The letter \"$messageTitle$\" from $sendersName$ is still \
             unopened.",
            "Reminder: unopened letter from $sendersName$ in Altinn.",
        ),
        // The generic template wraps a short sender text (or none, for the SMS).
        (GenericAltinnMessage, Nb | Nn, _) => ("(byggesak 2026/1234)", "Saksnummer 2026/1234.", ""),
        (GenericAltinnMessage, En, _) => ("(case 2026/1234)", "Case number 2026/1234.", ""),
    };
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    SenderTexts {
        email_subject: some(subject),
        email_body: some(body),
        sms_body: some(sms),
    }
}

fn recipients() -> [(&'static str, NotifiedRecipient); 3] {
    [
        (
            "organisation",
            NotifiedRecipient::Organisation {
                name: "Bakeriet Ås AS".into(),
                org_number: OrgNumber::parse("991825827").unwrap(),
            },
        ),
        (
            "person",
            NotifiedRecipient::Person {
                name: "Kari Nordmann".into(),
            },
        ),
        ("contact point", NotifiedRecipient::ContactPoint),
    ]
}

fn render_all(template: NotificationTemplate, language: Language) -> String {
    let mut out = String::new();
    for phase in [Phase::Main, Phase::Reminder] {
        for (who, recipient) in recipients() {
            let correspondence_recipient_name = match &recipient {
                NotifiedRecipient::Person { name } => name.clone(),
                _ => "Bakeriet Ås AS".into(),
            };
            let keywords = Keywords {
                senders_name: "Ås kommune".into(),
                correspondence_recipient_name,
                resource_name: match language {
                    Language::En => "Building permits".into(),
                    _ => "Byggesak".into(),
                },
                message_title: match language {
                    Language::En => "Decision on your application".into(),
                    Language::Nb => "Vedtak om rammetillatelse".into(),
                    Language::Nn => "Vedtak om rammeløyve".into(),
                },
                recipient,
            };
            let texts = render(
                template,
                language,
                phase,
                &sender_texts(template, language, phase),
                &keywords,
            );
            writeln!(out, "=== {phase:?} notice to {who} ===").unwrap();
            writeln!(out, "E-mail subject: {}", texts.email_subject).unwrap();
            writeln!(out, "E-mail body:\n{}", texts.email_body).unwrap();
            writeln!(out, "SMS: {}", texts.sms_body).unwrap();
            writeln!(out).unwrap();
        }
    }
    out
}

#[test]
fn rendered_texts_match_the_expected_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected");
    let bless = std::env::var_os("MELDING_BLESS").is_some_and(|v| v == "1");
    let mut mismatches = Vec::new();
    for (template, name) in [
        (NotificationTemplate::CustomMessage, "custom-message"),
        (
            NotificationTemplate::GenericAltinnMessage,
            "generic-altinn-message",
        ),
    ] {
        for language in [Language::Nb, Language::Nn, Language::En] {
            let got = render_all(template, language);
            let path = dir.join(format!("{name}-{}.txt", language.code()));
            if bless {
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (MELDING_BLESS=1 writes it)", path.display()));
            if got != want {
                mismatches.push(format!(
                    "{}:\n--- want\n{want}\n--- got\n{got}",
                    path.display()
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
