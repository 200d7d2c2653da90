//! Requests racing background jobs on one letter. Each race starts both sides at a barrier and is
//! run many times, with the request's start swept across the job's run, so the interleaving where
//! one side commits between the other's read and its write is reached.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// How many times each race is run.
const ROUNDS: u64 = 60;

fn statuses(details: &Value) -> Vec<String> {
    details["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Reference §6.2: the sender may purge only before publishing (CORR-01013 afterwards). A
/// publish that commits between the purge's check and its write must win: the sender then gets
/// CORR-01013 and the letter stays published; a purge that wins leaves a letter that was never
/// published.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sender_purge_racing_the_publish_job_either_wins_or_answers_1013() {
    let app = Arc::new(TestApp::spawn().await);
    let (mut purged, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let id = app.send_ok(letter(&[PERSON])).await.remove(0);
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let purge = tokio::spawn({
            let (app, barrier, id) = (app.clone(), barrier.clone(), id.clone());
            async move {
                barrier.wait().await;
                // Sweep the purge's start across the publish job's run, 0 to ~6 ms.
                tokio::time::sleep(Duration::from_micros((round % 30) * 200)).await;
                app.call(
                    reqwest::Method::DELETE,
                    &format!("{}/purge", path(&id)),
                    Some(&app.sender()),
                    None,
                )
                .await
            }
        });
        let publish = tokio::spawn({
            let (app, barrier) = (app.clone(), barrier.clone());
            async move {
                barrier.wait().await;
                app.run_jobs().await
            }
        });
        let answer = purge.await.unwrap();
        publish.await.unwrap();
        // Whatever the purge left behind (purging the letter's attachments) runs too.
        app.run_jobs().await;
        let details = app
            .get(&format!("{}/details", path(&id)), &app.sender())
            .await;
        details.assert_status(200);
        let d = details.json();
        let history = statuses(&d);
        if answer.status == 200 {
            purged += 1;
            assert_eq!(d["status"], "PurgedByAltinn", "round {round}: {d}");
            assert!(
                !history.iter().any(|s| s == "Published"),
                "round {round}: the sender purged a published letter: {history:?}"
            );
        } else {
            refused += 1;
            answer.assert_problem(400, 1013);
            assert_eq!(d["status"], "Published", "round {round}: {d}");
            assert_eq!(history_count(&d, "Published"), 1, "round {round}");
        }
    }
    eprintln!("{purged} purges won, {refused} were refused after the publish");
}
