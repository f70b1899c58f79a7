//! Client ID Metadata Documents: fetched with SSRF protection, validated, cached per HTTP headers.
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{Router, http::header, response::IntoResponse, routing::get};
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::oauth_support::{Browser, Pkce, query_param};

const CALLBACK: &str = "http://127.0.0.1:33420/callback";

/// A stand-in for a client's website, on loopback, counting how often each document is fetched.
async fn client_site(hits: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let doc_base = base.clone();
    let app = Router::new()
        .route("/client.json", get(move || {
            let hits = hits.clone();
            let base = doc_base.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                ([(header::CACHE_CONTROL, "max-age=60")], axum::Json(json!({
                    "client_id": format!("{base}/client.json"), "client_name": "Claude Code (CIMD)", "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"
                })))
            }
        }))
        .route("/liar.json", get(|| async { axum::Json(json!({"client_id": "https://someone-else.example/client.json", "redirect_uris": [CALLBACK]})) }))
        .route("/redirect.json", get(|| async { (axum::http::StatusCode::FOUND, [(header::LOCATION, "http://169.254.169.254/latest/meta-data")]).into_response() }))
        .route("/huge.json", get(|| async { "x".repeat(200 * 1024) }));
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    base
}

fn authorize_url(s: &TestServer, client_id: &str, pkce: &Pkce) -> String {
    let mut url = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "s");
    url.to_string()
}

#[tokio::test]
async fn local_and_private_client_metadata_urls_are_never_fetched() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let hits = Arc::new(AtomicUsize::new(0));
    let site = client_site(hits.clone()).await;
    let port = site.rsplit(':').next().unwrap();
    for client_id in [
        format!("https://127.0.0.1:{port}/client.json"),
        format!("https://localhost:{port}/client.json"),
        "https://[::1]/client.json".into(),
        "https://169.254.169.254/latest/client.json".into(),
        "https://10.0.0.1/client.json".into(),
    ] {
        let resp = browser.http.get(authorize_url(&s, &client_id, &Pkce::new())).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{client_id}");
        assert!(resp.headers().get("location").is_none());
        let page = resp.text().await.unwrap();
        assert!(page.contains("private or local address"), "{client_id}: {page}");
    }
    // Plain http is never a metadata document URL.
    let resp = browser.http.get(authorize_url(&s, &format!("{site}/client.json"), &Pkce::new())).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing was fetched");
    let meta: Value = s.http.get(s.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["client_id_metadata_document_supported"], true);
}

#[tokio::test]
async fn a_metadata_document_client_connects_and_its_document_is_cached() {
    let s = TestServer::start().await;
    // The test's client site is on loopback over http, which production never allows.
    s.app.client_metadata.allow_local_for_tests(true);
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let hits = Arc::new(AtomicUsize::new(0));
    let site = client_site(hits.clone()).await;
    let client_id = format!("{site}/client.json");

    let pkce = Pkce::new();
    let consent = browser.consent_page(&authorize_url(&s, &client_id, &pkce)).await;
    assert!(consent.contains("Claude Code (CIMD)"), "the consent names the client from its document");
    let location = browser.decide(&s, &consent, "approve", None).await;
    let code = query_param(&location, "code").unwrap();
    let resp = s
        .http
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id.as_str()),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let tokens: Value = resp.json().await.unwrap();
    assert_eq!(
        s.ok(tokens["access_token"].as_str().unwrap(), "get_current_user", json!({})).await["credential_name"],
        "Claude Code (CIMD)"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "fetched once; the token request used the cache");

    // Within max-age=60 the cache answers; after it, the document is fetched again.
    browser.consent_page(&authorize_url(&s, &client_id, &Pkce::new())).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    s.clock.advance(chrono::Duration::seconds(61));
    browser.consent_page(&authorize_url(&s, &client_id, &Pkce::new())).await;
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // Documents that lie about their id, redirect, or are too large are refused with a page.
    for (path, expected) in
        [("/liar.json", "client_id is not the URL"), ("/redirect.json", "redirects are not followed"), ("/huge.json", "larger than")]
    {
        let resp = browser.http.get(authorize_url(&s, &format!("{site}{path}"), &Pkce::new())).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{path}");
        let page = resp.text().await.unwrap();
        assert!(page.contains(expected), "{path}: {page}");
    }
}
