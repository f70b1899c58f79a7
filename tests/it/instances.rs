//! Several Navis instances on one database behave as one server (PostgreSQL in production;
//! the same holds for two processes on one SQLite file, which this suite also checks).
use serde_json::{Value, json};

use crate::harness::{Options, TestServer};
use crate::oauth_support::{Browser, Client, Pkce, query_param};

#[tokio::test]
async fn a_key_revoked_on_one_instance_fails_on_the_other_at_once() {
    let a = TestServer::start().await;
    let b = TestServer::start_with(Options { database_url: Some(a.database_url.clone()), ..Default::default() }).await;
    let ada = a.account("ada@example.com").await;
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
    assert_eq!(b.rpc(Some(&ada.write), list.clone()).await.status(), 200, "a key made on A works on B");
    // Data written through one instance is read through the other.
    let project = a.ok(&ada.write, "create_project", json!({"name": "Written on A"})).await;
    let task = b.ok(&ada.write, "create_task", json!({"title": "Written on B", "project_id": project["id"]})).await;
    assert_eq!(b.ok(&ada.read, "get_project", json!({"id": project["id"]})).await["name"], "Written on A");
    assert_eq!(a.ok(&ada.read, "list_tasks", json!({})).await["tasks"][0]["id"], task["id"]);
    let id = navis::core::token::parse(&ada.write).unwrap().id.to_owned();
    b.app.revoke_api_key(ada.id, &id).await.unwrap();
    assert_eq!(a.rpc(Some(&ada.write), list.clone()).await.status(), 401, "revoked on B, refused on A");
    assert_eq!(a.rpc(Some(&ada.read), list).await.status(), 200, "the user's other key is untouched");
}

#[tokio::test]
async fn an_oauth_flow_may_start_on_one_instance_and_finish_on_another() {
    let a = TestServer::start().await;
    // Both instances answer for the same public URL, as behind a load balancer (A's address here),
    // so a token issued through one is good at the other. Each still has its own loopback port, so
    // the test registers on A, authorizes on A, and redeems and refreshes on B.
    let b = TestServer::start_with(Options {
        database_url: Some(a.database_url.clone()),
        public_url: Some(a.base.clone()),
        ..Default::default()
    })
    .await;
    let browser = Browser::signed_in(&a, "ada@example.com").await;
    let client = Client::register(&a, "App", "http://127.0.0.1:33421/callback").await;
    let pkce = Pkce::new();
    let consent = browser.consent_page(&client.authorize_url(&a, &pkce, "mcp:read mcp:write", "s")).await;
    let code = query_param(&browser.decide(&a, &consent, "approve", None).await, "code").unwrap();
    let resp = b
        .http
        .post(b.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client.id.as_str()),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap_or_default());
    let tokens: Value = resp.json().await.unwrap_or_default();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    // A refresh retried on the other instance within the grace window gets the same successor.
    let refresh_on = |server: &TestServer| {
        let request = server.http.post(server.url("/oauth/token")).form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client.id.as_str()),
            ("refresh_token", refresh),
        ]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let first = refresh_on(&b).await;
    let retry = refresh_on(&a).await;
    assert_eq!(first["refresh_token"], retry["refresh_token"]);
    let token = first["access_token"].as_str().unwrap();
    assert_eq!(a.ok(token, "get_current_user", json!({})).await["email"], "ada@example.com");
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
    assert_eq!(b.rpc(Some(token), list.clone()).await.status(), 200, "B accepts the token A accepts");
    // Disconnect on A: B refuses the token at once.
    let user = a.app.user_by_email("ada@example.com").await.unwrap().id;
    let grant = a.app.connected_apps(user).await.unwrap()[0].grant_id;
    a.app.disconnect(user, grant).await.unwrap();
    assert_eq!(b.rpc(Some(token), list).await.status(), 401, "disconnected on A, refused on B");
}

/// A load balancer without stickiness: each request goes to the next instance in turn. Records
/// which instance got which request (method, and whether it carried a session id).
struct RoundRobin {
    base: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(usize, String, bool)>>>,
}

impl RoundRobin {
    async fn start(upstreams: Vec<String>) -> Self {
        use axum::{body::Body, extract::Request, response::Response};
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let http = reqwest::Client::new();
        let (log, upstreams) = (seen.clone(), std::sync::Arc::new(upstreams));
        let forward = move |request: Request| {
            let (http, log, upstreams, next) = (http.clone(), log.clone(), upstreams.clone(), next.clone());
            async move {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % upstreams.len();
                let (parts, body) = request.into_parts();
                log.lock().unwrap().push((i, parts.method.to_string(), parts.headers.contains_key("mcp-session-id")));
                let body = axum::body::to_bytes(body, 10 << 20).await.unwrap();
                let mut upstream = http.request(parts.method, format!("{}{}", upstreams[i], parts.uri.path()));
                for (name, value) in &parts.headers {
                    if name != "host" && name != "content-length" {
                        upstream = upstream.header(name, value);
                    }
                }
                let resp = upstream.body(body).send().await.unwrap();
                let mut out = Response::builder().status(resp.status());
                for (name, value) in resp.headers() {
                    if name != "content-length" && name != "transfer-encoding" {
                        out = out.header(name, value);
                    }
                }
                out.body(Body::from_stream(resp.bytes_stream())).unwrap()
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(forward)).await });
        Self { base, seen }
    }
}

/// POSTs one JSON-RPC message to an instance; returns the status and the session id it answered with.
async fn mcp_post(server: &TestServer, token: &str, session: Option<&str>, body: Value) -> (u16, Option<String>) {
    let mut req = server
        .http
        .post(server.url(crate::harness::MCP))
        .bearer_auth(token)
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(session) = session {
        req = req.header("Mcp-Session-Id", session).header("Mcp-Protocol-Version", "2025-06-18");
    }
    let resp = req.send().await.unwrap();
    let session = resp.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned());
    (resp.status().as_u16(), session)
}

#[tokio::test]
async fn a_session_opened_on_one_instance_is_served_by_the_other_and_ends_on_both() {
    let a = TestServer::start().await;
    let b = TestServer::start_with(Options {
        database_url: Some(a.database_url.clone()),
        public_url: Some(a.base.clone()),
        ..Default::default()
    })
    .await;
    let ada = a.account("ada@example.com").await;
    let bob = a.account("bob@example.com").await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let (status, session) = mcp_post(&a, &ada.write, None, init).await;
    let session = session.unwrap_or_else(|| panic!("no session from A ({status})"));
    assert_eq!(mcp_post(&b, &ada.write, Some(&session), json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await.0, 202);
    assert_eq!(mcp_post(&b, &ada.read, Some(&session), list.clone()).await.0, 200, "B serves A's session");
    assert_eq!(mcp_post(&b, &bob.read, Some(&session), list.clone()).await.0, 404, "another user's token: no such session");
    assert_eq!(mcp_post(&a, &bob.read, Some(&session), list.clone()).await.0, 404);
    assert_eq!(mcp_post(&a, &ada.read, Some(&session), list.clone()).await.0, 200);
    // GET on B: no server stream there (405), which clients take as "none".
    let get = b.http.get(b.url(crate::harness::MCP)).bearer_auth(&ada.read).header("Mcp-Session-Id", &session).send().await.unwrap();
    assert_eq!(get.status(), 405);
    // Ended on B: gone on A too.
    let end = b.http.delete(b.url(crate::harness::MCP)).bearer_auth(&ada.read).header("Mcp-Session-Id", &session).send().await.unwrap();
    assert_eq!(end.status(), 204);
    assert_eq!(mcp_post(&a, &ada.read, Some(&session), list.clone()).await.0, 404, "ended on B, gone on A");
    assert_eq!(mcp_post(&b, &ada.read, Some(&session), list).await.0, 404);
    let unknown = mcp_post(&b, &ada.read, Some("not-a-session"), json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})).await;
    assert_eq!(unknown.0, 404);

    // The official TypeScript SDK behind a balancer that alternates every request.
    let balancer = RoundRobin::start(vec![a.base.clone(), b.base.clone()]).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/ts");
    let url = format!("{}{}", balancer.base, crate::harness::MCP);
    let token = ada.write.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node").arg("api-key-client.mjs").arg(url).arg(token).current_dir(dir).output().expect("node runs")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "TS client failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert!(seen["sessionId"].is_string(), "{seen}");
    assert_eq!(a.ok(&ada.read, "get_task", json!({"id": seen["taskId"]})).await["title"], "Write the launch post");
    let log = balancer.seen.lock().unwrap().clone();
    for instance in [0, 1] {
        assert!(
            log.iter().any(|(i, method, in_session)| *i == instance && method == "POST" && *in_session),
            "instance {instance} served no request of the session: {log:?}"
        );
    }
}
