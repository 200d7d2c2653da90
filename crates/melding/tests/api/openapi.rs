//! The served OpenAPI document tells the truth about the auth gates, and browsable API docs are
//! served from Melding itself (issue 11, item 15).

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::support::*;

const DOC: &str = "/correspondence/api/v1/swagger/v1/swagger.json";

async fn document(app: &TestApp) -> Value {
    let res = app
        .client
        .get(format!("{}{DOC}", app.base))
        .send()
        .await
        .unwrap();
    let a = Answer::read(res).await;
    a.assert_status(200);
    a.json()
}

/// Every operation of the document that needs a token, with a path whose parameters are filled.
fn secured_operations(doc: &Value) -> Vec<(Method, String, Value)> {
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            // Bearer-token operations only (the SMS gateway's webhook uses HTTP Basic and is
            // covered in notifications.rs).
            let bearer = op["security"]
                .as_array()
                .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()));
            if !bearer {
                continue;
            }
            let filled = path
                .split('/')
                .map(|segment| match segment {
                    "{orgNumber}" => RECIPIENT_ORG.to_owned(),
                    s if s.starts_with('{') => "0198c2a1-0000-7000-8000-000000000000".to_owned(),
                    s => s.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            out.push((method, filled, op.clone()));
        }
    }
    out
}

#[tokio::test]
async fn every_operation_documents_its_401_and_403_as_they_are_sent() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let ops = secured_operations(&doc);
    assert!(ops.len() >= 20, "{} operations", ops.len());
    // A trusted token with no scopes at all: every scope gate refuses it.
    let scopeless = app
        .issuer
        .mint(&org(SENDER), "", Duration::hours(1), Utc::now());
    for (method, path, op) in &ops {
        let what = format!("{method} {path}");
        let documented_401 = &op["responses"]["401"];
        assert!(documented_401.is_object(), "{what}: no 401 documented");
        assert!(
            documented_401.get("content").is_none(),
            "{what}: 401 documented with a body: {documented_401}"
        );
        assert!(
            documented_401["headers"]["WWW-Authenticate"].is_object(),
            "{what}: 401 without WWW-Authenticate"
        );
        let a = app.call(method.clone(), path, None, None).await;
        assert_eq!(a.status.as_u16(), 401, "{what}: {}", a.text);
        assert_eq!(a.text, "", "{what}");
        assert_eq!(a.headers["www-authenticate"], "Bearer", "{what}");

        let documented_403 = &op["responses"]["403"];
        let a = app.call(method.clone(), path, Some(&scopeless), None).await;
        if a.status.as_u16() == 403 {
            assert!(
                documented_403.is_object(),
                "{what}: 403 sent, not documented"
            );
            assert_eq!(a.text, "", "{what}");
        } else {
            assert!(
                documented_403.is_null(),
                "{what}: 403 documented, {} sent",
                a.status
            );
        }
        if documented_403.is_object() {
            assert!(
                documented_403.get("content").is_none(),
                "{what}: 403 documented with a body: {documented_403}"
            );
        }
    }
}

#[tokio::test]
async fn a_path_answers_other_methods_than_its_documented_ones_with_405() {
    // schemathesis found DELETE …/delegations and POST …/delegations/{nationalId} answering 500.
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let token = app.sender();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let filled = path
            .split('/')
            .map(|segment| match segment {
                "{orgNumber}" => RECIPIENT_ORG.to_owned(),
                "{nationalId}" => PERSON.to_owned(),
                s if s.starts_with('{') => "0198c2a1-0000-7000-8000-000000000000".to_owned(),
                s => s.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            if item.get(method.as_str().to_ascii_lowercase()).is_some() {
                continue;
            }
            let a = app.call(method.clone(), &filled, Some(&token), None).await;
            assert_eq!(a.status.as_u16(), 405, "{method} {filled}: {}", a.text);
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_melding_itself() {
    let app = TestApp::spawn().await;
    let get = |path: &str| {
        let url = format!("{}/correspondence/api/v1/swagger/{path}", app.base);
        let client = app.client.clone();
        async move { Answer::read(client.get(url).send().await.unwrap()).await }
    };
    let index = get("index.html").await;
    index.assert_status(200);
    assert!(
        index.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(index.text.contains("swagger-ui"), "{}", index.text);
    // Every asset comes from Melding: no CDN, nothing fetched from elsewhere.
    let initializer = get("swagger-initializer.js").await;
    initializer.assert_status(200);
    for page in [&index.text, &initializer.text] {
        assert!(!page.contains("http://"), "{page}");
        assert!(!page.contains("https://"), "{page}");
    }
    assert!(initializer.text.contains(DOC), "{}", initializer.text);
    let bundle = get("swagger-ui-bundle.js").await;
    bundle.assert_status(200);
    assert!(bundle.text.len() > 100_000);
    // The document the UI shows is the served one.
    document(&app).await;
}
