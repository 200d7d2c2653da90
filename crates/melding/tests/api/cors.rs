//! CORS on the content endpoint (issue 11, item 12): the configured origins get
//! `Access-Control-Allow-Origin` and a 204 preflight; every other origin gets no CORS headers.

use reqwest::Method;

use crate::support::*;

const INBOX: &str = "https://af.altinn.no";

async fn app_with_inbox() -> TestApp {
    TestApp::spawn_with(|node| {
        node.cors_origins =
            melding_http::CorsOrigins::parse(&[INBOX, "https://*.tt02.altinn.no"]).unwrap();
    })
    .await
}

fn content_url(app: &TestApp, id: &str) -> String {
    format!("{}{}/content", app.base, path(id))
}

async fn preflight(app: &TestApp, id: &str, origin: &str) -> Answer {
    let res = app
        .client
        .request(Method::OPTIONS, content_url(app, id))
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    Answer::read(res).await
}

async fn read_content(app: &TestApp, id: &str, origin: Option<&str>) -> Answer {
    let mut req = app
        .client
        .get(content_url(app, id))
        .bearer_auth(app.person());
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    Answer::read(req.send().await.unwrap()).await
}

fn cors_headers(a: &Answer) -> Vec<String> {
    a.headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn the_inbox_origin_may_read_a_letters_content() {
    let app = app_with_inbox().await;
    let id = app.published_letter().await;
    let p = preflight(&app, &id, INBOX).await;
    p.assert_status(204);
    assert!(p.text.is_empty());
    assert_eq!(p.headers["access-control-allow-origin"], INBOX);
    assert_eq!(p.headers["access-control-allow-credentials"], "true");
    let methods = p.headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("GET"), "{methods}");
    let headers = p.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("authorization"), "{headers}");
    // A sub-domain of a wildcard entry is allowed as well.
    let sub = "https://af.tt02.altinn.no";
    let p = preflight(&app, &id, sub).await;
    p.assert_status(204);
    assert_eq!(p.headers["access-control-allow-origin"], sub);

    app.get(&path(&id), &app.person()).await.assert_status(200);
    let a = read_content(&app, &id, Some(INBOX)).await;
    a.assert_status(200);
    assert_eq!(a.headers["access-control-allow-origin"], INBOX);
    assert_eq!(a.headers["access-control-allow-credentials"], "true");
    assert!(a.text.contains("innvilget"), "{}", a.text);
}

#[tokio::test]
async fn other_origins_get_no_cors_headers() {
    let app = app_with_inbox().await;
    let id = app.published_letter().await;
    app.get(&path(&id), &app.person()).await.assert_status(200);
    for origin in ["https://evil.example", "https://af.altinn.no.evil.example"] {
        let p = preflight(&app, &id, origin).await;
        p.assert_status(204);
        assert_eq!(cors_headers(&p), Vec::<String>::new(), "{origin}");
        let a = read_content(&app, &id, Some(origin)).await;
        a.assert_status(200);
        assert_eq!(cors_headers(&a), Vec::<String>::new(), "{origin}");
    }
    // Without an Origin (not a browser's cross-origin call) nothing changes either.
    let a = read_content(&app, &id, None).await;
    a.assert_status(200);
    assert_eq!(cors_headers(&a), Vec::<String>::new());
}

#[tokio::test]
async fn no_origin_is_allowed_unless_configured() {
    let app = TestApp::spawn().await;
    let id = app.published_letter().await;
    app.get(&path(&id), &app.person()).await.assert_status(200);
    let p = preflight(&app, &id, INBOX).await;
    assert_eq!(cors_headers(&p), Vec::<String>::new());
    let a = read_content(&app, &id, Some(INBOX)).await;
    a.assert_status(200);
    assert_eq!(cors_headers(&a), Vec::<String>::new());
}

/// The forward endpoint carries the same policy (reference §0 lists it among the
/// recipient-facing endpoints): a preflight from the inbox is allowed, another origin is not.
#[tokio::test]
async fn the_inbox_origin_may_forward_a_letter() {
    let app = app_with_inbox().await;
    let id = app.published_letter().await;
    let url = format!("{}{}/forward", app.base, path(&id));
    let preflight = |origin: &'static str| {
        let (app, url) = (&app, url.clone());
        async move {
            let res = app
                .client
                .request(Method::OPTIONS, url)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization")
                .send()
                .await
                .unwrap();
            Answer::read(res).await
        }
    };
    let p = preflight(INBOX).await;
    p.assert_status(204);
    assert_eq!(
        p.headers["access-control-allow-origin"].to_str().unwrap(),
        INBOX
    );
    let other = preflight("https://evil.example").await;
    assert!(cors_headers(&other).is_empty(), "{:?}", other.headers);
}
