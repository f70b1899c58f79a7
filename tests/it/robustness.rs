//! Bad input gets a clear error and the server keeps serving.
use serde_json::{Value, json};

use crate::harness::{MCP, Options, TestServer};

async fn post_raw(s: &TestServer, token: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    s.http
        .post(s.url(MCP))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_oversized_unknown_method_and_unknown_tool() {
    let s = TestServer::start_with(Options { max_body_bytes: Some(16 * 1024), ..Default::default() }).await;
    let a = s.account("ada@example.com").await;

    let resp = post_raw(&s, &a.read, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);

    let resp = post_raw(&s, &a.read, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("batches"));

    let huge = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_project","arguments":{"name": "x".repeat(20 * 1024)}}});
    let resp = post_raw(&s, &a.write, huge.to_string()).await;
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("16384"));

    let unknown_method = s.rpc_ok(&a.read, "tasks/teleport", json!({})).await;
    assert_eq!(unknown_method["error"]["code"], -32601, "{unknown_method}");

    let unknown_tool = s.rpc_ok(&a.read, "tools/call", json!({"name": "launch_rockets", "arguments": {}})).await;
    assert_eq!(unknown_tool["error"]["code"], -32602, "{unknown_tool}");
    assert!(unknown_tool["error"]["message"].as_str().unwrap().contains("launch_rockets"));

    // Nothing was created by the oversized call, and the server still serves.
    assert_eq!(s.ok(&a.read, "list_projects", json!({})).await["projects"], json!([]));
    s.ok(&a.write, "create_project", json!({"name": "still alive"})).await;

    let resp = s.http.get(s.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "not_found");
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(s.http.get(s.url("/readyz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn last_used_times_reach_the_database_in_batches_and_at_shutdown() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    s.ok(&a.read, "list_projects", json!({})).await;
    let id = navis::core::token::parse(&a.read).unwrap().id.to_owned();
    // Authenticating did not write: the database still has no last-used time.
    assert!(s.app.store.api_key(&id).await.unwrap().unwrap().last_used_at.is_none());
    let app = s.app.clone();
    s.stop().await;
    assert!(app.store.api_key(&id).await.unwrap().unwrap().last_used_at.is_some(), "flushed at shutdown");
}

#[tokio::test]
async fn metrics_count_outcomes_and_reveal_no_secret() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    s.ok(&a.read, "list_projects", json!({})).await;
    s.tool_error(&a.read, "get_task", json!({"id": "nope"})).await;
    s.rpc(Some("garbage"), json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).await;
    s.rpc(None, json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).await;
    s.rpc(Some(&a.read), json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_project","arguments":{"name":"x"}}}))
        .await;
    let resp = s.http.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = resp.text().await.unwrap();
    for line in [
        "navis_bearer_auth_total{outcome=\"api_key\"} 3",
        "navis_bearer_auth_total{outcome=\"malformed\"} 1",
        "navis_bearer_auth_total{outcome=\"missing\"} 1",
        "navis_insufficient_scope_total 1",
        "navis_tool_calls_total{tool=\"list_projects\",result=\"ok\"} 1",
        "navis_tool_calls_total{tool=\"get_task\",result=\"error\"} 1",
    ] {
        assert!(text.contains(line), "missing {line}:\n{text}");
    }
    // Latency by face and status class, requests in flight (this one), sessions, the pool.
    for series in [
        "navis_http_request_duration_seconds_count{face=\"mcp\",status=\"2xx\"}",
        "navis_http_request_duration_seconds_count{face=\"mcp\",status=\"4xx\"}",
        "navis_db_query_duration_seconds_count{kind=\"read\"}",
        "navis_http_requests_in_flight 1",
        "navis_mcp_sessions_open 0",
        "navis_db_pool_connections ",
    ] {
        assert!(text.contains(series), "missing {series}:\n{text}");
    }
    assert!(!text.contains(&a.read[..20]) && !text.contains("ada@"), "no credential or identity in metrics");
}

/// JSON that a lenient peek accepts but the MCP layer cannot decode used to reach rmcp, which
/// answered 415 in plain text ("fail to deserialize request body …"). Each gets the documented
/// 400 with a JSON-RPC error instead: -32700 when it is not JSON we can read, -32600 when it is
/// JSON but not a JSON-RPC message; in a session and without one alike.
#[tokio::test]
async fn json_the_mcp_layer_cannot_decode_gets_400_and_a_json_rpc_code() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let call = |arguments: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"create_project","arguments":{arguments}}}}}"#)
            .into_bytes()
    };
    let mut invalid_utf8 = call(r#"{"name":"AB"}"#);
    let at = invalid_utf8.iter().position(|b| *b == b'A').unwrap();
    invalid_utf8[at] = 0xff;
    let cases: [(&str, Vec<u8>, i64); 6] = [
        ("invalid UTF-8 in a string", invalid_utf8, -32700),
        ("nesting deeper than 127", call(&format!(r#"{{"name":"x","deep":{}1{}}}"#, "[".repeat(200), "]".repeat(200))), -32700),
        ("a lone surrogate escape", call(r#"{"name":"\ud800"}"#), -32700),
        ("a number out of range", call(r#"{"name":"x","limit":1e999}"#), -32700),
        ("an id beyond u64", br#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"tools/list"}"#.to_vec(), -32600),
        ("an empty object", b"{}".to_vec(), -32600),
    ];
    let session = crate::protocol::open_session(&s, Some(&a.write)).await;
    for (what, body, code) in cases {
        for session in [None, Some(session.as_str())] {
            let mut req = s
                .http
                .post(s.url(MCP))
                .header("Authorization", format!("Bearer {}", a.write))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .body(body.clone());
            if let Some(id) = session {
                req = req.header("Mcp-Session-Id", id).header("MCP-Protocol-Version", "2025-06-18");
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 400, "{what} (session: {session:?})");
            assert_eq!(resp.headers()["content-type"], "application/json", "{what}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], code, "{what}: {body}");
            assert_eq!(body["jsonrpc"], "2.0", "{what}");
        }
    }
    // Nothing was created, and the server still serves.
    assert_eq!(s.ok(&a.read, "list_projects", json!({})).await["projects"], json!([]));
}

/// A known method whose params have the wrong shape is invalid params (-32602), not an
/// unknown method (-32601): rmcp decodes such a request as a custom one.
#[tokio::test]
async fn a_known_method_with_params_of_the_wrong_shape_is_invalid_params() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    for (method, params) in [
        ("tools/call", json!({"name": "create_project", "arguments": ["a", 1]})),
        ("tools/call", json!({"arguments": {}})),
        ("resources/read", json!({"uri": 7})),
        ("prompts/get", json!({"name": 5})),
    ] {
        let v = s.rpc_ok(&a.write, method, params.clone()).await;
        assert_eq!(v["error"]["code"], -32602, "{method} {params}: {v}");
        assert_eq!(v["id"], 1, "{v}");
    }
    let v = s.rpc_ok(&a.write, "tools/call", json!({"name": "create_project", "arguments": ["a", 1]})).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("arguments"), "the message names the field: {v}");
    // A malformed initialize (allowed without a token) is invalid params too, and opens no session.
    let resp = s.rpc(None, json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion": 5}})).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("mcp-session-id").is_none());
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], -32602);
    let unknown = s.rpc_ok(&a.read, "tasks/teleport", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    assert_eq!(s.ok(&a.read, "list_projects", json!({})).await["projects"], json!([]));
}
