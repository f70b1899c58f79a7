//! The sessionless fast path against rmcp: the same requests to two instances on one database,
//! one with the fast path and one without, must get the same answers.
use serde_json::{Value, json};

use crate::harness::{MCP, Options, TestServer};

/// Status, content type and JSON body of one POST, with the seed's headers plus `extra`.
async fn exchange(s: &TestServer, token: Option<&str>, body: &str, extra: &[(&str, &str)]) -> (u16, String, Value) {
    let mut req = s.http.post(s.url(MCP)).header("Content-Type", "application/json").body(body.to_owned());
    if let Some(token) = token {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = resp.text().await.unwrap();
    (status, content_type, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn fast_path_count(s: &TestServer) -> u64 {
    let metrics = s.http.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    metrics.lines().find_map(|l| l.strip_prefix("navis_mcp_fast_path_total ")).unwrap().parse().unwrap()
}

/// The first place where two JSON values differ, for a readable failure.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_difference(p, q, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    (p, q) => return Some(format!("{path}.{k}: {p:?} vs {q:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
    }
}

fn assert_same(a: &(u16, String, Value), b: &(u16, String, Value), what: &str) {
    assert_eq!((a.0, &a.1), (b.0, &b.1), "{what}");
    if let Some(d) = first_difference(&a.2, &b.2, "") {
        panic!("{what}: fast path and rmcp differ at {d}");
    }
}

/// Replaces the values that differ between two creations (ids, times) so that shapes compare.
fn masked(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    if k == "id" || k.ends_with("_at") || k == "text" {
                        *x = json!("…");
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[tokio::test]
async fn the_fast_path_answers_exactly_as_rmcp_does() {
    let fast = TestServer::start_with(Options { mcp_sessions: Some(false), ..Default::default() }).await;
    let slow = TestServer::start_with(Options {
        database_url: Some(fast.database_url.clone()),
        mcp_sessions: Some(false),
        mcp_fast_path: Some(false),
        ..Default::default()
    })
    .await;
    let ada = fast.account("ada@example.com").await;
    let project = fast.ok(&ada.write, "create_project", json!({"name": "Launch"})).await;
    let pid = project["id"].as_str().unwrap().to_owned();
    for i in 0..25 {
        let status = ["todo", "in_progress", "done"][i % 3];
        fast.ok(&ada.write, "create_task", json!({"title": format!("Task {i}"), "project_id": pid, "status": status, "tags": ["x"]})).await;
    }
    let task = fast.ok(&ada.read, "list_tasks", json!({"limit": 1})).await["tasks"][0]["id"].as_str().unwrap().to_owned();
    let before = (fast_path_count(&fast).await, fast_path_count(&slow).await);

    let call = |name: &str, args: Value| {
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": args}}).to_string()
    };
    let reads = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string(),
        json!({"jsonrpc": "2.0", "id": "p-1", "method": "ping", "params": {}}).to_string(),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}).to_string(),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}).to_string(),
        call("list_tasks", json!({"status": "todo", "limit": 20})),
        call("list_tasks", json!({"limit": 5, "include_done": true})),
        call("list_tasks", json!({"project_id": pid, "tag": "x", "limit": 3})),
        call("list_tasks", json!({"limit": 0})),
        call("list_tasks", json!({"due_after": "not a date"})),
        call("list_tasks", json!({"cursor": "garbage"})),
        call("get_task", json!({"id": task})),
        call("get_task", json!({"id": "00000000-0000-0000-0000-000000000000"})),
        call("get_project", json!({"id": pid})),
        call("list_projects", json!({})),
        call("get_current_user", json!({})),
        call("list_recent_activity", json!({"limit": 3})),
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "list_projects"}}).to_string(),
    ];
    for body in &reads {
        for token in [ada.read.as_str(), ada.write.as_str()] {
            let a = exchange(&fast, Some(token), body, &[]).await;
            let b = exchange(&slow, Some(token), body, &[]).await;
            assert_same(&a, &b, body);
        }
        let with_version = [("MCP-Protocol-Version", "2025-06-18"), ("Accept", "application/json, text/event-stream")];
        assert_same(
            &exchange(&fast, Some(&ada.read), body, &with_version).await,
            &exchange(&slow, Some(&ada.read), body, &with_version).await,
            body,
        );
    }
    // Refusals: no token, a bad token, and a write tool with a read key.
    for (token, body) in [
        (None, call("list_tasks", json!({}))),
        (Some("nops_garbage"), call("list_tasks", json!({}))),
        (Some(ada.read.as_str()), call("create_task", json!({"title": "x"}))),
        (Some(ada.read.as_str()), json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string()),
    ] {
        let a = exchange(&fast, token, &body, &[]).await;
        let b = exchange(&slow, token, &body, &[]).await;
        assert_same(&a, &b, &body);
    }
    // Writes: the same shape, the same effect (ids and times differ).
    for body in [call("create_task", json!({"title": "Written", "project_id": pid})), call("create_project", json!({"name": "Second"}))] {
        let a = exchange(&fast, Some(&ada.write), &body, &[]).await;
        let b = exchange(&slow, Some(&ada.write), &body, &[]).await;
        assert_eq!((a.0, &a.1, masked(a.2.clone())), (b.0, &b.1, masked(b.2.clone())), "{body}");
        assert_eq!(a.2["result"]["isError"], false);
    }
    let after = (fast_path_count(&fast).await, fast_path_count(&slow).await);
    assert!(after.0 - before.0 >= 40, "the fast instance answered on its fast path: {before:?} → {after:?}");
    assert_eq!(after.1, before.1, "the other instance never did");

    // What the fast path leaves to rmcp still works there: a session header, an unknown method,
    // an id it would not echo verbatim, an unknown tool.
    for body in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list", "params": {}}).to_string(),
        json!({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}).to_string(),
        call("no_such_tool", json!({})),
    ] {
        let before = fast_path_count(&fast).await;
        let a = exchange(&fast, Some(&ada.read), &body, &[]).await;
        assert_same(&a, &exchange(&slow, Some(&ada.read), &body, &[]).await, &body);
        assert_eq!(fast_path_count(&fast).await, before, "{body} went to rmcp");
    }
}
