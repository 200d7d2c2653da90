//! Wire conventions: headers, health, OpenAPI, Accept, case-insensitive input.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn health_endpoints_answer_anonymously() {
    let app = TestApp::spawn().await;
    let h = app.call(reqwest::Method::GET, "/health", None, None).await;
    h.assert_status(200);
    assert_eq!(h.json()["status"], "Healthy");
    assert_eq!(
        h.json()["message"],
        "Environment properly configured and database is accessible"
    );
    let z = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(
        z.json(),
        json!({"status": "Healthy", "message": "Process is responsive"})
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let a = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(a.headers["x-content-type-options"], "nosniff");
    assert_eq!(a.headers["cache-control"], "no-store");
    let s = app
        .call(
            reqwest::Method::GET,
            "/correspondence/api/v1/swagger/v1/swagger.json",
            None,
            None,
        )
        .await;
    assert_eq!(s.headers["x-content-type-options"], "nosniff");
    assert!(s.headers.get("cache-control").is_none());
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let app = TestApp::spawn().await;
    let s = app
        .call(
            reqwest::Method::GET,
            "/correspondence/api/v1/swagger/v1/swagger.json",
            None,
            None,
        )
        .await;
    s.assert_status(200);
    let doc = s.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (p, m) in [
        ("/correspondence/api/v1/correspondence", "post"),
        ("/correspondence/api/v1/correspondence", "get"),
        (
            "/correspondence/api/v1/correspondence/{correspondenceId}",
            "get",
        ),
        (
            "/correspondence/api/v1/correspondence/{correspondenceId}/details",
            "get",
        ),
        (
            "/correspondence/api/v1/correspondence/{correspondenceId}/content",
            "get",
        ),
        (
            "/correspondence/api/v1/correspondence/{correspondenceId}/markasread",
            "post",
        ),
        (
            "/correspondence/api/v1/correspondence/{correspondenceId}/confirm",
            "post",
        ),
        (
            "/correspondence/api/v1/correspondence/{correspondenceId}/purge",
            "delete",
        ),
        (
            "/correspondence/api/v1/correspondence/{correspondenceId}/forward",
            "post",
        ),
        (
            "/correspondence/api/v1/correspondence/{correspondenceId}/forward/check",
            "get",
        ),
    ] {
        assert!(
            paths.get(p).and_then(|x| x.get(m)).is_some(),
            "{m} {p} missing"
        );
    }
    assert!(doc["components"]["schemas"]["InitializeCorrespondencesExt"].is_object());
}

#[tokio::test]
async fn an_unsupported_accept_header_is_406() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    let res = app
        .client
        .get(format!("{}{}", app.base, path(&id)))
        .bearer_auth(app.person())
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 406);
    let problem: serde_json::Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("This endpoint does not support the requested Accept header.")
    );
    for ok in [
        "application/json",
        "*/*",
        "text/html, application/json;q=0.9",
    ] {
        let res = app
            .client
            .get(format!("{}{}", app.base, path(&id)))
            .bearer_auth(app.person())
            .header("accept", ok)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{ok}");
    }
    let res = app
        .client
        .get(format!("{}{}/content", app.base, path(&id)))
        .bearer_auth(app.person())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 406);
}

#[tokio::test]
async fn property_names_match_in_any_case_and_unknown_ones_are_ignored() {
    let app = TestApp::spawn().await;
    let body = json!({
        "Correspondence": {
            "ResourceId": format!("urn:altinn:resource:{RESOURCE}"),
            "SendersReference": "ref",
            "allowSystemDeleteAfter": "2030-01-01T00:00:00+00:00",
            "PropertyList": {"SaksNr": "2026/17"},
            "ExternalReferences": [{"ReferenceValue": "x", "ReferenceType": 0}],
            "Content": {"MessageTitle": "Tittel", "MessageBody": "Tekst"}
        },
        "Recipients": [format!("0192:{RECIPIENT_ORG}")]
    });
    let id = app.send_ok(body).await.remove(0);
    app.run_jobs().await;
    let o = app
        .get(&path(&id), &app.token(&org(RECIPIENT_ORG), READ))
        .await
        .json();
    assert_eq!(o["resourceId"], RESOURCE);
    assert_eq!(o["content"]["language"], "nb");
    assert_eq!(o["propertyList"], json!({"SaksNr": "2026/17"}));
    assert_eq!(o["externalReferences"][0]["referenceType"], "Generic");
    assert_eq!(
        o["recipient"],
        format!("urn:altinn:organization:identifier-no:{RECIPIENT_ORG}")
    );
}

#[tokio::test]
async fn errors_keep_the_callers_trace_id() {
    let app = TestApp::spawn().await;
    let trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let res = app
        .client
        .get(format!(
            "{}{}",
            app.base,
            path("0198c2a1-0000-7000-8000-0000000000ff")
        ))
        .bearer_auth(app.person())
        .header("traceparent", trace)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["traceId"], trace);
    assert_eq!(
        v["type"],
        "https://tools.ietf.org/html/rfc9110#section-15.5.5"
    );
    assert_eq!(v["title"], "Not Found");
}

#[tokio::test]
async fn metrics_show_the_job_queue_and_what_ran() {
    let app = TestApp::spawn().await;
    let scrape = || async {
        reqwest::get(&app.metrics_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let mut body = letter(&[PERSON]);
    body["correspondence"]["requestedPublishTime"] =
        json!((app.now() + chrono::Duration::minutes(10)).to_rfc3339());
    app.send_ok(body).await;
    app.send_ok(letter(&[OTHER_PERSON])).await;
    app.advance(chrono::Duration::seconds(30));
    let m = scrape().await;
    assert!(m.contains("melding_jobs_queued 2\n"), "{m}");
    assert!(m.contains("melding_jobs_due 1\n"), "{m}");
    assert!(
        m.contains("melding_jobs_oldest_due_age_seconds 30\n"),
        "{m}"
    );
    assert!(m.contains("melding_jobs_dead 0\n"), "{m}");
    app.run_jobs().await;
    let m = scrape().await;
    assert!(m.contains("melding_jobs_queued 1\n"), "{m}");
    assert!(
        m.contains("melding_jobs_runs_total{outcome=\"done\"} 1\n"),
        "{m}"
    );
    assert!(
        m.contains("melding_jobs_runs_total{outcome=\"panicked\"} 0\n"),
        "{m}"
    );
    // The API listener does not serve metrics.
    app.call(reqwest::Method::GET, "/metrics", None, None)
        .await
        .assert_status(404);
}

#[tokio::test]
async fn a_busy_node_refuses_quickly_with_retry_after() {
    let app = TestApp::spawn_with(|node| node.max_in_flight = 1).await;
    let a = app
        .call(
            reqwest::Method::POST,
            "/correspondence/api/v1/attachment",
            Some(&app.sender()),
            Some(serde_json::json!({
                "resourceId": RESOURCE, "fileName": "a.pdf", "sendersReference": "x"
            })),
        )
        .await;
    a.assert_status(200);
    let id: String = serde_json::from_str(&a.text).unwrap();
    // An upload whose body the test holds open keeps the node's only slot.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let upload = app
        .client
        .post(format!(
            "{}/correspondence/api/v1/attachment/{id}/upload",
            app.base
        ))
        .bearer_auth(app.sender())
        .body(body)
        .send();
    let upload = tokio::spawn(upload);
    tx.send(Ok(vec![1u8; 1000])).await.unwrap();
    // Once the upload is under way (seen in the store, not over HTTP, so the test takes no
    // slot itself), another request is refused at once with 503 and Retry-After.
    let aid: melding_domain::AttachmentId = id.parse().unwrap();
    let mut started = false;
    for _ in 0..500 {
        let a = app.store.attachment(aid).await.unwrap().unwrap();
        if a.has_been(melding_domain::AttachmentStatus::UploadProcessing) {
            started = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(started, "the upload started");
    let overview = format!("/correspondence/api/v1/attachment/{id}");
    let refused = app.get(&overview, &app.sender()).await;
    refused.assert_status(503);
    assert_eq!(refused.headers["retry-after"], "1");
    assert_eq!(refused.json()["status"], 503);
    // Health is never refused.
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // The upload finishes, and the slot is free again.
    tx.send(Ok(vec![2u8; 1000])).await.unwrap();
    drop(tx);
    let done = upload.await.unwrap().unwrap();
    assert_eq!(done.status(), 200);
    app.get(&overview, &app.sender()).await.assert_status(200);
}
