//! The seed's curl example and the exact 401/403 contract (PRODUCT.md §4).
use chrono::Duration;
use navis::core::scope::Access;
use serde_json::{Value, json};

use crate::harness::{MCP, TestServer};

const UNAUTHORIZED: &str = r#"{"error":"unauthorized","message":"Missing or invalid authorization token."}"#;
const FORBIDDEN: &str = r#"{"error":"forbidden","message":"This operation requires the mcp:write scope."}"#;

fn tools_list() -> Value {
    json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}})
}

/// Asserts the exact 401 and returns the challenge.
async fn assert_401(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(resp.text().await.unwrap(), UNAUTHORIZED);
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains(r#"scope="mcp:read mcp:write""#), "{challenge}");
    challenge
}

fn param<'a>(challenge: &'a str, name: &str) -> Option<&'a str> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let end = challenge[start..].find('"')? + start;
    Some(&challenge[start..end])
}

/// The challenge's `resource_metadata` must serve a valid RFC 9728 document for this resource.
async fn assert_metadata(server: &TestServer, challenge: &str, resource_path: &str) {
    let url = param(challenge, "resource_metadata").expect("resource_metadata in challenge");
    assert_eq!(url, server.url(&format!("/.well-known/oauth-protected-resource{resource_path}")));
    let resp = server.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["resource"], server.url(resource_path));
    assert_eq!(doc["authorization_servers"], json!([server.base]));
    assert_eq!(doc["scopes_supported"], json!(["mcp:read", "mcp:write"]));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
}

#[tokio::test]
async fn the_seed_curl_example_lists_the_tools() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    // Exactly the seed's request: POST, Authorization, Content-Type, the body. No Accept, no session.
    let resp = s.rpc(Some(&a.read), tools_list()).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert!(resp.headers().get("mcp-session-id").is_none());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], 1);
    let names: Vec<&str> = body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for expected in [
        "list_projects",
        "get_project",
        "create_project",
        "update_project",
        "delete_project",
        "list_tasks",
        "get_task",
        "create_task",
        "create_tasks",
        "update_task",
        "complete_task",
        "delete_task",
        "list_comments",
        "add_comment",
        "list_recent_activity",
        "get_current_user",
        "list_goals",
        "get_goal",
        "create_goal",
        "update_goal",
        "delete_goal",
        "link_to_goal",
        "search_workspace",
        "list_notes",
        "get_note",
        "create_note",
        "update_note",
        "append_to_note",
        "delete_note",
        "list_tags",
        "create_tag",
        "tag_item",
        "untag_item",
        "get_workspace_summary",
        "list_inbox",
        "capture_to_inbox",
        "convert_inbox_item",
        "dismiss_inbox_item",
        "get_meeting",
        "record_meeting_notes",
        "create_follow_ups",
        "export_workspace",
        "list_workflows",
        "create_workflow",
        "run_workflow",
        "list_workflow_runs",
        "list_events",
        "get_event",
        "create_event",
        "update_event",
        "delete_event",
        "find_free_time",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    // Exactly the 52 tools of the catalogue (TOOLS.md): nothing HTTP-only leaks into the list.
    assert_eq!(names.len(), 52, "{names:?}");
    // Every tool carries a description, both schemas and truthful annotations.
    for tool in body["result"]["tools"].as_array().unwrap() {
        assert!(tool["description"].as_str().is_some_and(|d| d.len() > 10), "{tool}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{tool}");
        let read_only = tool["annotations"]["readOnlyHint"].as_bool().unwrap();
        let name = tool["name"].as_str().unwrap();
        assert_eq!(read_only, ["list_", "get_", "find_", "search_", "export_"].iter().any(|p| name.starts_with(p)), "{name}");
        // Destructive: what deletes, and taking a tag off an item (tagging only adds).
        let destructive = name.starts_with("delete_") || name.starts_with("untag_");
        assert_eq!(tool["annotations"]["destructiveHint"].as_bool().unwrap(), destructive, "{name}");
    }
}

#[tokio::test]
async fn the_short_alias_serves_the_same_endpoint_with_its_own_metadata() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let resp = s
        .http
        .post(s.url("/mcp"))
        .header("Authorization", format!("Bearer {}", a.read))
        .header("Content-Type", "application/json")
        .body(tools_list().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = s.http.post(s.url("/mcp")).header("Content-Type", "application/json").body(tools_list().to_string()).send().await.unwrap();
    let challenge = assert_401(resp).await;
    assert_metadata(&s, &challenge, "/mcp").await;
}

#[tokio::test]
async fn missing_and_bad_tokens_get_the_exact_401_with_a_working_challenge() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;

    // No header: a challenge without an error code (RFC 6750 §3).
    let challenge = assert_401(s.rpc(None, tools_list()).await).await;
    assert_eq!(param(&challenge, "error"), None);
    assert_metadata(&s, &challenge, MCP).await;

    let truncated = &a.read[..a.read.len() - 3];
    let mut typo = a.read.clone();
    let last = typo.pop().unwrap();
    typo.push(if last == 'a' { 'b' } else { 'a' });
    let unknown = navis::core::token::mint(navis::core::token::TokenKind::ApiKey).plaintext;
    for bad in ["garbage", "nops_your_token_here", truncated, &typo, &unknown, ""] {
        let challenge = assert_401(s.rpc(Some(bad), tools_list()).await).await;
        assert_eq!(param(&challenge, "error"), Some("invalid_token"), "{bad}");
        assert_metadata(&s, &challenge, MCP).await;
    }
    // Another auth scheme is refused too.
    let resp = s
        .http
        .post(s.url(MCP))
        .header("Authorization", "Basic YTpi")
        .header("Content-Type", "application/json")
        .body(tools_list().to_string())
        .send()
        .await
        .unwrap();
    assert_401(resp).await;
    // A token in the query string is never looked at.
    let resp = s
        .http
        .post(format!("{}?access_token={}", s.url(MCP), a.read))
        .header("Content-Type", "application/json")
        .body(tools_list().to_string())
        .send()
        .await
        .unwrap();
    assert_401(resp).await;
}

/// RFC 6750 §3.1: a request may carry one credential. Two `Authorization` headers are refused
/// whichever order they come in and even when both are valid, so that no proxy or client can
/// make the server pick one it did not mean (the first used to win: valid, then garbage → 200).
#[tokio::test]
async fn two_authorization_headers_are_refused_with_the_exact_401() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let valid = format!("Bearer {}", a.read);
    for (first, second) in [
        (valid.as_str(), "Bearer garbage"),
        ("Bearer garbage", valid.as_str()),
        (valid.as_str(), valid.as_str()),
        (valid.as_str(), &format!("Bearer {}", b.write)),
    ] {
        let resp = s
            .http
            .post(s.url(MCP))
            .header("Content-Type", "application/json")
            .header("Authorization", first)
            .header("Authorization", second)
            .body(tools_list().to_string())
            .send()
            .await
            .unwrap();
        let challenge = assert_401(resp).await;
        assert_eq!(param(&challenge, "error"), Some("invalid_token"), "{first} + {second}");
    }
    // A header plus a token in the query string is still one credential: the query is ignored.
    let resp = s
        .http
        .post(format!("{}?access_token=garbage", s.url(MCP)))
        .header("Content-Type", "application/json")
        .header("Authorization", &valid)
        .body(tools_list().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_revoked_key_fails_on_the_next_request() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    assert_eq!(s.rpc(Some(&a.write), tools_list()).await.status(), 200);
    let id = navis::core::token::parse(&a.write).unwrap().id.to_owned();
    s.app.revoke_api_key(a.id, &id).await.unwrap();
    let challenge = assert_401(s.rpc(Some(&a.write), tools_list()).await).await;
    assert_eq!(param(&challenge, "error"), Some("invalid_token"));
    assert!(challenge.contains("revoked"), "{challenge}");
    assert_metadata(&s, &challenge, MCP).await;
    // The other key of the same user is untouched.
    assert_eq!(s.rpc(Some(&a.read), tools_list()).await.status(), 200);
}

#[tokio::test]
async fn an_expired_key_fails_once_its_time_has_come() {
    let s = TestServer::start().await;
    let user = s.user("ada@example.com").await;
    let expires = s.clock_now() + Duration::days(2);
    let key = s.app.create_api_key(user, "short-lived", Access::Read, Some(expires)).await.unwrap().token.plaintext;
    assert_eq!(s.rpc(Some(&key), tools_list()).await.status(), 200);
    s.clock.advance(Duration::days(2));
    let challenge = assert_401(s.rpc(Some(&key), tools_list()).await).await;
    assert!(challenge.contains("expired"), "{challenge}");
    assert_metadata(&s, &challenge, MCP).await;
}

#[tokio::test]
async fn a_read_key_reads_and_gets_the_exact_403_on_every_write_tool() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let project = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let task = s.ok(&a.write, "create_task", json!({"title": "Draft", "project_id": project["id"]})).await;

    // Reads work with the read key.
    assert_eq!(s.ok(&a.read, "list_projects", json!({})).await["projects"][0]["id"], project["id"]);
    assert_eq!(s.ok(&a.read, "get_task", json!({"id": task["id"]})).await["title"], "Draft");
    assert_eq!(s.ok(&a.read, "get_current_user", json!({})).await["scopes"], json!(["mcp:read"]));
    let resources = s.rpc_ok(&a.read, "resources/list", json!({})).await;
    assert!(resources["result"]["resources"].as_array().unwrap().len() >= 2);

    // Which tools write is what the catalogue says of them, not a list kept here.
    let tools = s.rpc_ok(&a.read, "tools/list", json!({})).await["result"]["tools"].as_array().unwrap().clone();
    let (reads, writes): (Vec<&Value>, Vec<&Value>) = tools.iter().partition(|t| t["annotations"]["readOnlyHint"].as_bool().unwrap());
    assert!(writes.len() >= 9 && reads.len() >= 7, "{} writes, {} reads", writes.len(), reads.len());
    let args = json!({"id": task["id"], "task_id": task["id"], "name": "x", "title": "x", "body": "x", "tasks": [{"title": "x"}]});
    let call =
        |name: &str| s.rpc(Some(&a.read), json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name": name, "arguments": args}}));
    for tool in writes {
        let name = tool["name"].as_str().unwrap();
        let resp = call(name).await;
        assert_eq!(resp.status(), 403, "{name}");
        assert_eq!(resp.headers()["content-type"], "application/json");
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with(r#"Bearer error="insufficient_scope""#), "{challenge}");
        assert!(challenge.contains(r#"scope="mcp:read mcp:write""#), "{challenge}");
        assert_metadata(&s, &challenge, MCP).await;
        assert_eq!(resp.text().await.unwrap(), FORBIDDEN, "{name}");
    }
    for tool in reads {
        let name = tool["name"].as_str().unwrap();
        let resp = call(name).await;
        assert_eq!(resp.status(), 200, "{name} is read-only, so a read key may call it");
        let body: Value = resp.json().await.unwrap();
        assert!(body["result"].is_object() && !body.to_string().contains("mcp:write scope"), "{name}: {body}");
    }
    // Nothing was changed by the refused calls.
    let still = s.ok(&a.read, "get_task", json!({"id": task["id"]})).await;
    assert_eq!(still["title"], "Draft");
    assert_eq!(still["status"], "todo");
}

#[tokio::test]
async fn a_write_key_reads_and_writes() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let project = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let task = s.ok(&a.write, "create_task", json!({"title": "Draft", "project_id": project["id"]})).await;
    assert_eq!(s.ok(&a.write, "complete_task", json!({"id": task["id"]})).await["status"], "done");
    assert_eq!(s.ok(&a.write, "get_project", json!({"id": project["id"]})).await["task_counts"]["done"], 1);
    assert_eq!(s.ok(&a.write, "get_current_user", json!({})).await["scopes"], json!(["mcp:read", "mcp:write"]));
}

#[tokio::test]
async fn initialize_needs_no_token_but_everything_else_does() {
    let s = TestServer::start().await;
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let resp = s
        .http
        .post(s.url(MCP))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let session = resp.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let text = resp.text().await.unwrap();
    assert!(text.contains(r#""protocolVersion":"2025-06-18""#), "{text}");

    // Inside the session, without a token: still 401, on POST, GET and DELETE.
    let post = s
        .http
        .post(s.url(MCP))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("Mcp-Session-Id", &session)
        .body(tools_list().to_string())
        .send()
        .await
        .unwrap();
    assert_401(post).await;
    let get = s.http.get(s.url(MCP)).header("Accept", "text/event-stream").header("Mcp-Session-Id", &session).send().await.unwrap();
    assert_401(get).await;
    let delete = s.http.delete(s.url(MCP)).header("Mcp-Session-Id", &session).send().await.unwrap();
    assert_401(delete).await;
    // A notification without a token is refused as well.
    let note = s.rpc(None, json!({"jsonrpc":"2.0","method":"notifications/initialized"})).await;
    assert_401(note).await;
}

#[tokio::test]
async fn protected_resource_metadata_is_served_for_both_paths_and_the_root() {
    let s = TestServer::start().await;
    for (path, resource) in [
        ("/.well-known/oauth-protected-resource/functions/v1/mcp-server-v2", s.url(MCP)),
        ("/.well-known/oauth-protected-resource/mcp", s.url("/mcp")),
        ("/.well-known/oauth-protected-resource", s.base.clone()),
    ] {
        let resp = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["access-control-allow-origin"], "*");
        let doc: Value = resp.json().await.unwrap();
        assert_eq!(doc["resource"], resource, "{path}");
        assert_eq!(doc["authorization_servers"][0], s.base);
    }
}

impl TestServer {
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use navis::core::clock::Clock;
        self.clock.now()
    }
}
