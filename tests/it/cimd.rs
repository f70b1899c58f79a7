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
        // A document that names itself by the host it was asked for, whatever that name is.
        .route("/named.json", get(|headers: axum::http::HeaderMap| async move {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
            axum::Json(json!({"client_id": format!("http://{host}/named.json"), "client_name": format!("Named {host}"), "redirect_uris": [CALLBACK]}))
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

/// What the caller sees when a document could not be fetched, whatever the reason: the reason
/// (an address, a port that did not answer, a TLS error) would let anyone probe the server's
/// network through the authorization endpoint. The server's log has it.
const NOT_FETCHED: &str = "it could not be fetched";

async fn refused_page(s: &TestServer, browser: &Browser, client_id: &str) -> String {
    let resp = browser.http.get(authorize_url(s, client_id, &Pkce::new())).send().await.unwrap();
    assert_eq!(resp.status(), 400, "{client_id}");
    assert!(resp.headers().get("location").is_none());
    resp.text().await.unwrap()
}

#[tokio::test]
async fn local_and_private_client_metadata_urls_are_never_fetched() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let hits = Arc::new(AtomicUsize::new(0));
    let site = client_site(hits.clone()).await;
    let port = site.rsplit(':').next().unwrap();
    for client_id in [
        "https://127.0.0.1/client.json",
        "https://localhost/client.json",
        "https://[::1]/client.json",
        "https://[::ffff:127.0.0.1]/client.json",
        "https://169.254.169.254/latest/client.json",
        "https://10.0.0.1/client.json",
        "https://[fec0::1]/client.json",
        "https://[2001::1]/client.json",
        "https://[64:ff9b::7f00:1]/client.json",
    ] {
        let page = refused_page(&s, &browser, client_id).await;
        assert!(page.contains(NOT_FETCHED), "{client_id}: {page}");
        assert!(!page.contains("private") && !page.contains("resolve"), "no detail for the caller: {page}");
    }
    // Only the default https port: any other is refused before anything is resolved or fetched.
    for client_id in [format!("https://127.0.0.1:{port}/client.json"), "https://client.example:8443/client.json".into()] {
        let page = refused_page(&s, &browser, &client_id).await;
        assert!(page.contains("default https port"), "{client_id}: {page}");
    }
    // Plain http is never a metadata document URL.
    refused_page(&s, &browser, &format!("{site}/client.json")).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing was fetched");
    let meta: Value = s.http.get(s.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["client_id_metadata_document_supported"], true);
}

/// The address a name resolves to is what is judged, not the name; and the connection goes to
/// that vetted address (pinned), never to a second lookup that could answer differently.
#[tokio::test]
async fn the_resolved_address_is_judged_and_the_connection_pinned_to_it() {
    let s = TestServer::start().await;
    // The test site is plain http on a loopback port: allow just that; the address check stays on.
    s.app.client_metadata.allow_http_for_tests(true);
    // A name with no DNS record at all, answered by the fetcher's own resolver as loopback.
    s.app.client_metadata.resolve_for_tests("client.example", std::net::Ipv4Addr::LOCALHOST.into());
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let hits = Arc::new(AtomicUsize::new(0));
    let site = client_site(hits.clone()).await;
    let port = site.rsplit(':').next().unwrap();
    let named = [format!("http://client.example:{port}/named.json"), format!("http://localhost:{port}/named.json")];
    for client_id in &named {
        let page = refused_page(&s, &browser, client_id).await;
        assert!(page.contains(NOT_FETCHED), "{client_id}: {page}");
        assert!(!page.contains("127.0.0.1") && !page.contains("private"), "no detail for the caller: {page}");
    }
    // Refused before connecting, though the site was there to answer.
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // With the address check off, the same URLs are fetched: what was refused was the address.
    // `client.example` has no DNS record, so the connection can only have gone to the pinned one.
    s.app.client_metadata.allow_local_for_tests(true);
    for client_id in &named {
        let consent = browser.consent_page(&authorize_url(&s, client_id, &Pkce::new())).await;
        let host = client_id.trim_start_matches("http://").split('/').next().unwrap();
        assert!(consent.contains(&format!("Named {host}")), "{consent}");
    }
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

    // Documents that lie about their id, redirect, or are too large are refused with a page;
    // what went wrong while fetching is the server log's to say, what the document says is not.
    for (path, expected) in [("/liar.json", "client_id is not the URL"), ("/redirect.json", NOT_FETCHED), ("/huge.json", NOT_FETCHED)] {
        let page = refused_page(&s, &browser, &format!("{site}{path}")).await;
        assert!(page.contains(expected), "{path}: {page}");
    }
}
