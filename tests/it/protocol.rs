//! Streamable HTTP rules: sessions bound to their user, Origin and Host checks, methods,
//! protocol versions, JSON or SSE, and the capabilities clients use.
use serde_json::{Value, json};

use crate::harness::{MCP, Options, TestServer};

fn init(version: &str) -> Value {
    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":version,"capabilities":{},"clientInfo":{"name":"t","version":"0"}}})
}

const BOTH: &str = "application/json, text/event-stream";

/// The JSON-RPC message in a JSON or SSE response body.
fn message(body: &str) -> Value {
    if let Ok(v) = serde_json::from_str(body) {
        return v;
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .find_map(|d| serde_json::from_str::<Value>(d).ok().filter(|v| v.get("id").is_some()))
        .unwrap_or(Value::Null)
}

async fn post(s: &TestServer, token: Option<&str>, session: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = s.http.post(s.url(MCP)).header("Content-Type", "application/json").header("Accept", BOTH).body(body.to_string());
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(id) = session {
        req = req.header("Mcp-Session-Id", id).header("MCP-Protocol-Version", "2025-06-18");
    }
    req.send().await.unwrap()
}

async fn delete(s: &TestServer, token: &str, session: &str) -> reqwest::Response {
    s.http.delete(s.url(MCP)).header("Authorization", format!("Bearer {token}")).header("Mcp-Session-Id", session).send().await.unwrap()
}

/// GET on a session: the server's own SSE stream.
pub async fn open_stream(s: &TestServer, token: &str, session: &str) -> reqwest::Response {
    s.http
        .get(s.url(MCP))
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", "text/event-stream")
        .header("Mcp-Session-Id", session)
        .header("MCP-Protocol-Version", "2025-06-18")
        .send()
        .await
        .unwrap()
}

pub async fn open_session(s: &TestServer, token: Option<&str>) -> String {
    let resp = post(s, token, None, init("2025-06-18")).await;
    assert_eq!(resp.status(), 200);
    let id = resp.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    resp.text().await.unwrap();
    assert_eq!(
        post(s, token, Some(&id), json!({"jsonrpc":"2.0","method":"notifications/initialized"})).await.status().as_u16(),
        if token.is_some() { 202 } else { 401 }
    );
    id
}

#[tokio::test]
async fn a_session_belongs_to_the_user_who_first_used_it() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});

    // Opened with Ada's token: Bob's token on it is told the session does not exist.
    let session = open_session(&s, Some(&a.read)).await;
    assert_eq!(post(&s, Some(&a.read), Some(&session), list.clone()).await.status(), 200);
    assert_eq!(post(&s, Some(&b.read), Some(&session), list.clone()).await.status(), 404);
    let get = s
        .http
        .get(s.url(MCP))
        .header("Accept", "text/event-stream")
        .header("Authorization", format!("Bearer {}", b.read))
        .header("Mcp-Session-Id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 404);
    // Ada's other key is still Ada.
    assert_eq!(post(&s, Some(&a.write), Some(&session), list.clone()).await.status(), 200);

    // Opened without a token (initialize needs none): it belongs to whoever uses it first.
    let anonymous = post(&s, None, None, init("2025-06-18")).await;
    let session2 = anonymous.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    assert_eq!(post(&s, Some(&b.read), Some(&session2), list.clone()).await.status(), 200);
    assert_eq!(post(&s, Some(&a.read), Some(&session2), list.clone()).await.status(), 404);

    // DELETE ends the session: afterwards it is unknown (404), for its owner too.
    // 204, not rmcp's 202: the session is gone (RFC 9110 §9.3.5), and the MCP Python SDK 1.x logs
    // "Session termination failed: 202" for anything but 200/204.
    assert_eq!(delete(&s, &a.read, &session).await.status(), 204);
    assert_eq!(post(&s, Some(&a.read), Some(&session), list.clone()).await.status(), 404);
    assert_eq!(post(&s, Some(&a.read), Some("no-such-session"), list).await.status(), 404);
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused_own_and_allowed_ones_pass() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}).to_string();
    let with_origin = |origin: &str| {
        s.http
            .post(s.url(MCP))
            .header("Authorization", format!("Bearer {}", a.read))
            .header("Content-Type", "application/json")
            .header("Origin", origin)
            .body(list.clone())
            .send()
    };
    for evil in ["https://evil.example", "http://evil.localhost.example", "null"] {
        let resp = with_origin(evil).await.unwrap();
        assert_eq!(resp.status(), 403, "{evil}");
    }
    // Our own origin, and (on a loopback server) local pages such as the Inspector's UI.
    for ok in [s.base.as_str(), "http://localhost:6274", "http://127.0.0.1:3000"] {
        let resp = with_origin(ok).await.unwrap();
        assert_eq!(resp.status(), 200, "{ok}");
        assert_eq!(resp.headers()["access-control-allow-origin"], ok);
        assert!(resp.headers()["access-control-expose-headers"].to_str().unwrap().contains("mcp-session-id"));
    }
    // A foreign Origin is refused before anything else, even without a token, on every method.
    let resp = s.http.get(s.url(MCP)).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let resp = s
        .http
        .post(s.url(MCP))
        .header("Origin", "https://evil.example")
        .header("Content-Type", "application/json")
        .body(init("2025-06-18").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // DNS rebinding: a foreign Host on a loopback server is refused, even for initialize.
    let resp = s
        .http
        .post(s.url(MCP))
        .header("Host", "evil.example")
        .header("Content-Type", "application/json")
        .header("Accept", BOTH)
        .body(init("2025-06-18").to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
    // Preflight for browser clients.
    let resp = s
        .http
        .request(reqwest::Method::OPTIONS, s.url(MCP))
        .header("Origin", "http://localhost:6274")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert!(resp.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
}

#[tokio::test]
async fn a_configured_origin_is_allowed_and_others_are_not() {
    let s = TestServer::start_with(Options { allowed_origins: Some(vec!["https://app.example.com".into()]), ..Default::default() }).await;
    let a = s.account("ada@example.com").await;
    let ping_from = |origin: &'static str| {
        s.http
            .post(s.url(MCP))
            .header("Authorization", format!("Bearer {}", a.read))
            .header("Content-Type", "application/json")
            .header("Origin", origin)
            .body(json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string())
            .send()
    };
    assert_eq!(ping_from("https://app.example.com").await.unwrap().status(), 200);
    assert_eq!(ping_from("https://app.example.org").await.unwrap().status(), 403);
}

#[tokio::test]
async fn methods_versions_and_media_types() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;

    // Every supported version is echoed; an unknown one gets the server's own.
    for version in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let body = post(&s, None, None, init(version)).await.text().await.unwrap();
        assert_eq!(message(&body)["result"]["protocolVersion"], version, "{body}");
    }
    let body = post(&s, None, None, init("2099-01-01")).await.text().await.unwrap();
    assert!(message(&body)["result"]["protocolVersion"].as_str().unwrap().starts_with("20"), "{body}");
    // A stray MCP-Protocol-Version header never sinks initialize.
    let resp = s
        .http
        .post(s.url(MCP))
        .header("Content-Type", "application/json")
        .header("Accept", BOTH)
        .header("MCP-Protocol-Version", "1999-01-01")
        .body(init("2025-06-18").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // After initialize, an unsupported version is a 400.
    let session = open_session(&s, Some(&a.read)).await;
    let resp = s
        .http
        .post(s.url(MCP))
        .header("Authorization", format!("Bearer {}", a.read))
        .header("Content-Type", "application/json")
        .header("Accept", BOTH)
        .header("Mcp-Session-Id", &session)
        .header("MCP-Protocol-Version", "1999-01-01")
        .body(json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Inside a session answers come as SSE; a lone POST asking for JSON gets JSON.
    let resp = post(&s, Some(&a.read), Some(&session), json!({"jsonrpc":"2.0","id":1,"method":"ping"})).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert_eq!(message(&resp.text().await.unwrap())["result"], json!({}));
    let resp = s
        .http
        .post(s.url(MCP))
        .header("Authorization", format!("Bearer {}", a.read))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    // A notification is accepted with 202 and no body.
    let resp = s.rpc(Some(&a.read), json!({"jsonrpc":"2.0","method":"notifications/initialized"})).await;
    assert_eq!(resp.status(), 202);
    // GET without a session has no stream to open; PUT is not a method here.
    let resp = s
        .http
        .get(s.url(MCP))
        .header("Authorization", format!("Bearer {}", a.read))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let resp = s.http.put(s.url(MCP)).header("Authorization", format!("Bearer {}", a.read)).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    // GET with a session opens the server's stream.
    let resp = open_stream(&s, &a.read, &session).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
}

#[tokio::test]
async fn logging_completion_prompts_and_progress() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let launch = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    s.ok(&a.write, "create_project", json!({"name": "Hiring"})).await;

    assert_eq!(s.rpc_ok(&a.read, "logging/setLevel", json!({"level": "warning"})).await["result"], json!({}));
    assert_eq!(s.rpc_ok(&a.read, "ping", json!({})).await["result"], json!({}));
    let done = s
        .rpc_ok(
            &a.read,
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": "navis://projects/{id}/tasks"}, "argument": {"name": "id", "value": "lau"}}),
        )
        .await;
    assert_eq!(done["result"]["completion"]["values"], json!([launch["id"]]), "{done}");

    let prompts = s.rpc_ok(&a.read, "prompts/list", json!({})).await;
    let names: Vec<&str> = prompts["result"]["prompts"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"plan_week") && names.contains(&"scaffold_project"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("test_")), "no conformance fixtures without the flag");
    let today = s.clock_now().date_naive().to_string();
    s.ok(&a.write, "create_task", json!({"title": "Ship the beta", "due_date": today})).await;
    let week = s.rpc_ok(&a.read, "prompts/get", json!({"name": "plan_week", "arguments": {"focus": "the launch"}})).await;
    let text = week["result"]["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("Ship the beta") && text.contains("the launch"), "{text}");
    let scaffold = s.rpc_ok(&a.read, "prompts/get", json!({"name": "scaffold_project", "arguments": {"name": "Garden"}})).await;
    assert!(scaffold["result"]["messages"][0]["content"]["text"].as_str().unwrap().contains("create_tasks"));

    // create_tasks reports progress to a client that asked for it (SSE, inside a session).
    let session = open_session(&s, Some(&a.write)).await;
    let resp = post(&s, Some(&a.write), Some(&session), json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"create_tasks","arguments":{"tasks":[{"title":"a"},{"title":"b"}]},"_meta":{"progressToken":"p1"}}})).await;
    let body = resp.text().await.unwrap();
    assert_eq!(body.matches("notifications/progress").count(), 2, "{body}");
    assert!(body.contains(r#""progressToken":"p1""#));
    assert_eq!(message(&body)["result"]["structuredContent"]["created"], 2);
}

#[tokio::test]
async fn without_sessions_every_request_stands_alone() {
    let s = TestServer::start_with(Options { mcp_sessions: Some(false), ..Default::default() }).await;
    let a = s.account("ada@example.com").await;
    let resp = post(&s, None, None, init("2025-06-18")).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("mcp-session-id").is_none());
    assert_eq!(resp.headers()["content-type"], "application/json");
    let resp = s.rpc(Some(&a.read), json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).await;
    assert_eq!(resp.status(), 200);
    let resp = s
        .http
        .get(s.url(MCP))
        .header("Authorization", format!("Bearer {}", a.read))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn the_2026_07_28_revision_works_statelessly_with_discover() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"}, "io.modelcontextprotocol/clientCapabilities": {}});
    let call = |method: &str, name: Option<&str>, params: Value| {
        let mut req = s
            .http
            .post(s.url(MCP))
            .header("Authorization", format!("Bearer {}", a.read))
            .header("Content-Type", "application/json")
            .header("Accept", BOTH)
            .header("MCP-Protocol-Version", "2026-07-28")
            .header("Mcp-Method", method)
            .body(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string());
        if let Some(name) = name {
            req = req.header("Mcp-Name", name);
        }
        req.send()
    };
    let discover = call("server/discover", None, json!({"_meta": meta})).await.unwrap();
    assert_eq!(discover.status(), 200);
    let doc = message(&discover.text().await.unwrap());
    assert!(doc["result"]["supportedVersions"].as_array().unwrap().iter().any(|v| v == "2026-07-28"), "{doc}");
    let listed = call("tools/call", Some("list_projects"), json!({"name": "list_projects", "arguments": {}, "_meta": meta})).await.unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(message(&listed.text().await.unwrap())["result"]["structuredContent"], json!({"projects": []}));
    // Still authenticated: no token, no answer.
    let anonymous = s
        .http
        .post(s.url(MCP))
        .header("Content-Type", "application/json")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// A refusal for lack of room: the status, a JSON-RPC error body, and a `Retry-After`.
async fn assert_no_room(resp: reqwest::Response, status: u16) {
    assert_eq!(resp.status(), status);
    assert!(resp.headers().get("mcp-session-id").is_none());
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert!(body["error"]["code"].is_i64() && body["error"]["message"].is_string(), "{body}");
}

fn initialized(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), 200);
    resp.headers()["mcp-session-id"].to_str().unwrap().to_owned()
}

/// `initialize` needs no token and each one costs server memory (3,000 of them: +154 MB), so
/// sessions not yet used with a token are capped (503 beyond), and so is each user's count
/// (429 beyond); a session used with a token, or ended, makes room.
#[tokio::test]
async fn sessions_are_capped_for_anonymous_initialize_and_per_user() {
    let s = TestServer::start_with(Options { mcp_max_pending_sessions: Some(3), mcp_max_sessions_per_user: Some(2), ..Default::default() })
        .await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});

    let mut pending = Vec::new();
    for _ in 0..3 {
        pending.push(initialized(&post(&s, None, None, init("2025-06-18")).await));
    }
    assert_no_room(post(&s, None, None, init("2025-06-18")).await, 503).await;
    // Used with a token, a session is no longer pending: there is room for another.
    assert_eq!(post(&s, Some(&a.read), Some(&pending[0]), ping.clone()).await.status(), 200);
    let fourth = initialized(&post(&s, None, None, init("2025-06-18")).await);
    assert_no_room(post(&s, None, None, init("2025-06-18")).await, 503).await;

    // Ada holds one; she may open one more, with her token, and no third, nor take a pending one.
    let ada_second = initialized(&post(&s, Some(&a.write), None, init("2025-06-18")).await);
    assert_no_room(post(&s, Some(&a.read), None, init("2025-06-18")).await, 429).await;
    assert_no_room(post(&s, Some(&a.read), Some(&pending[1]), ping.clone()).await, 429).await;
    // The pending session she could not take is still there for someone else.
    assert_eq!(post(&s, Some(&b.read), Some(&pending[1]), ping.clone()).await.status(), 200);
    // Ending one of hers makes room again.
    assert_eq!(delete(&s, &a.read, &ada_second).await.status(), 204);
    assert_eq!(post(&s, Some(&a.read), Some(&pending[2]), ping.clone()).await.status(), 200);
    assert_eq!(post(&s, Some(&a.read), Some(&fourth), ping).await.status(), 429, "two again: full");
}

/// Sessions end when idle, and a pending session older than the idle time gives up its place
/// to a new one when the cap is reached.
#[tokio::test]
async fn idle_sessions_end_and_stale_pending_ones_make_room() {
    let s =
        TestServer::start_with(Options { mcp_max_pending_sessions: Some(1), mcp_session_idle_secs: Some(1), ..Default::default() }).await;
    let a = s.account("ada@example.com").await;
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    let used = open_session(&s, Some(&a.read)).await;
    let stale = initialized(&post(&s, None, None, init("2025-06-18")).await);
    assert_no_room(post(&s, None, None, init("2025-06-18")).await, 503).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(post(&s, Some(&a.read), Some(&used), ping.clone()).await.status(), 404, "ended when idle");
    let fresh = initialized(&post(&s, None, None, init("2025-06-18")).await);
    assert_eq!(post(&s, Some(&a.read), Some(&stale), ping.clone()).await.status(), 404);
    assert_eq!(post(&s, Some(&a.read), Some(&fresh), ping).await.status(), 200);
}
