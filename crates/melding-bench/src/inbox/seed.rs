//! The inbox benchmark's letters: the senders and their resources, letters with varied titles
//! and summaries created through the sender API, and the person opening most of them in the
//! inbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, ensure};
use serde_json::json;
use tokio::task::JoinSet;

use super::browser::Browser;
use super::{InboxMode, ORG, ORG_URN, PERSON, PERSON_URN};
use crate::server::Melding;
use crate::{SENDER_ORG, ids};

/// Senders of the seeded letters: the demo's own (991825827) and three more.
pub(super) const SENDERS: usize = 4;
/// The sender whose letters the sender filter asks for: one letter in ten is theirs.
pub(super) const FILTERED_SENDER: usize = 3;
/// A word in one title in ten ([`TITLES`]), for the common search.
pub(super) const COMMON_WORD: &str = "skattemelding";
/// Letter titles, one in ten each.
pub(super) const TITLES: [&str; 10] = [
    "Vedtak om byggesøknad",
    "Skattemelding for 2025",
    "Faktura for kommunale avgifter",
    "Innkalling til time hos fastlegen",
    "Svar på søknad om barnehageplass",
    "Bekreftelse på flyttemelding",
    "Påminnelse om frist for innlevering",
    "Kvittering for innsendt skjema",
    "Endring i bostøtte",
    "Varsel om tilsyn",
];
const SUMMARIES: [&str; 3] = [
    "Les brevet og svar innen fristen.",
    "Brevet gjelder deg som mottaker.",
    "Ta kontakt med oss om noe er uklart.",
];

/// The sending organisations: the demo's own first.
pub(super) fn senders() -> Vec<String> {
    let mut out = vec![SENDER_ORG.to_owned()];
    out.extend(ids::org_numbers(SENDERS - 1));
    out
}

fn resource(sender: usize) -> String {
    format!("inbox-bench-{sender}")
}

/// Which sender sends letter `i`: six in ten the first, two the second, one each the others.
fn sender_of(i: usize) -> usize {
    match i % 10 {
        0..=5 => 0,
        6 | 7 => 1,
        8 => 2,
        _ => FILTERED_SENDER,
    }
}

/// The case number in letter `i`'s summary: one letter's, so searching it finds one.
pub(super) fn case_number(i: usize) -> String {
    format!("2026/{i:05}")
}

/// The registry imported before `serve --demo` adds the person and the organisation: the
/// senders and a resource of each.
pub(super) fn registry(senders: &[String]) -> serde_json::Value {
    let names = [
        "Digitaliseringsdirektoratet",
        "Testkommune",
        "Testetaten",
        "Testtilsynet",
    ];
    json!({
        "organizations": senders.iter().zip(names).map(|(o, n)| json!({"orgNumber": o, "name": n}))
            .collect::<Vec<_>>(),
        "persons": [],
        "resources": senders.iter().enumerate().map(|(k, o)| json!({
            "id": resource(k), "owner": o, "serviceOwnerCode": "bench",
            "title": format!("Inbox bench {k}"), "confidential": false}))
            .collect::<Vec<_>>(),
    })
}

/// Letter `i`, to the person and the organisation.
fn letter(i: usize) -> String {
    json!({
        "correspondence": {
            "resourceId": resource(sender_of(i)),
            "sendersReference": format!("inbox-{i}"),
            "content": {"language": "nb",
                        "messageTitle": TITLES[(i / 10) % TITLES.len()],
                        "messageSummary": format!("Saksnummer {}. {}", case_number(i),
                                                  SUMMARIES[i % SUMMARIES.len()]),
                        "messageBody": "Du har fått et **brev**. Les det i innboksen."},
        },
        "recipients": [format!("{PERSON_URN}{PERSON}"), format!("{ORG_URN}{ORG}")],
    })
    .to_string()
}

/// Creates `mode.letters` letters, each to the person and the organisation, `seed_concurrency`
/// at a time; the person's letter ids, by letter number.
pub(super) async fn seed(
    server: &Melding,
    client: &reqwest::Client,
    tokens: &[String],
    mode: &InboxMode,
) -> anyhow::Result<Vec<String>> {
    let url = format!("{}/correspondence", server.base);
    let next = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(tokens.to_vec());
    let person = format!("{PERSON_URN}{PERSON}");
    let mut tasks = JoinSet::new();
    for _ in 0..mode.seed_concurrency {
        let (next, tokens, client, url, person) = (
            next.clone(),
            tokens.clone(),
            client.clone(),
            url.clone(),
            person.clone(),
        );
        let n = mode.letters;
        tasks.spawn(async move {
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(made);
                }
                let r = client
                    .post(&url)
                    .bearer_auth(&tokens[sender_of(i)])
                    .header("content-type", "application/json")
                    .body(letter(i))
                    .send()
                    .await?;
                let status = r.status();
                let text = r.text().await?;
                ensure!(status.is_success(), "create {i} answered {status}: {text}");
                let v: serde_json::Value = serde_json::from_str(&text)?;
                let id = v["correspondences"]
                    .as_array()
                    .and_then(|all| all.iter().find(|c| c["recipient"] == person.as_str()))
                    .and_then(|c| c["correspondenceId"].as_str())
                    .with_context(|| format!("no letter to the person in {text}"))?;
                made.push((i, id.to_owned()));
            }
        });
    }
    let mut ids = vec![String::new(); mode.letters];
    while let Some(done) = tasks.join_next().await {
        for (i, id) in done?? {
            ids[i] = id;
        }
    }
    Ok(ids)
}

/// Opens each letter page (which records Fetched and Read), `concurrency` at a time; how many
/// did not answer 200.
pub(super) async fn open_all(b: &Browser, pages: &[String], concurrency: usize) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let pages = Arc::new(pages.to_vec());
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (next, pages, b) = (next.clone(), pages.clone(), b.clone());
        tasks.spawn(async move {
            let mut errors = 0;
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(page) = pages.get(k) else {
                    return errors;
                };
                if !matches!(b.get(page).await, Ok((200, _))) {
                    errors += 1;
                }
            }
        });
    }
    let mut errors = 0;
    while let Some(done) = tasks.join_next().await {
        errors += done.unwrap_or(0);
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_and_titles_are_spread_as_the_report_says() {
        let n = 10_000;
        let filtered = (0..n).filter(|&i| sender_of(i) == FILTERED_SENDER).count();
        assert_eq!(filtered, n / 10);
        let common = (0..n)
            .filter(|&i| {
                TITLES[(i / 10) % TITLES.len()]
                    .to_lowercase()
                    .contains(COMMON_WORD)
            })
            .count();
        assert_eq!(common, n / 10);
        assert_eq!(case_number(4711), "2026/04711");
    }
}
