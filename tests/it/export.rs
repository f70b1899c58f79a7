//! export_workspace: every kind of the user's items in one JSON document, nothing of another
//! user's; over HTTP streamed as it is read (a large workspace is never built in memory at once),
//! as a tool result refused beyond its cap.
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::notes::api;

fn ids(doc: &Value, key: &str) -> Vec<String> {
    doc[key].as_array().unwrap_or_else(|| panic!("no {key} in the export")).iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_export_holds_every_kind_of_the_users_items_and_nothing_of_anothers() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let project = s.ok(&a.write, "create_project", json!({"name": "House", "status": "archived"})).await;
    let task = s.ok(&a.write, "create_task", json!({"title": "Paint", "project_id": project["id"], "tags": ["diy"]})).await;
    let done = s.ok(&a.write, "create_task", json!({"title": "Buy paint", "status": "done"})).await;
    let comment = s.ok(&a.write, "add_comment", json!({"task_id": task["id"], "body": "white"})).await;
    let event = s.ok(&a.write, "create_event", json!({"title": "Painter visit", "start": "2030-02-01"})).await;
    let note = s.ok(&a.write, "create_note", json!({"title": "Colours", "body": "ivory", "event_id": event["id"]})).await;
    let goal = s.ok(&a.write, "create_goal", json!({"title": "Finish the house"})).await;
    s.ok(&a.write, "link_to_goal", json!({"goal_id": goal["id"], "item_type": "project", "item_id": project["id"]})).await;
    s.ok(&a.write, "link_to_goal", json!({"goal_id": goal["id"], "item_type": "task", "item_id": done["id"]})).await;
    let item = s.ok(&a.write, "capture_to_inbox", json!({"text": "Call the roofer"})).await;
    s.ok(&a.write, "dismiss_inbox_item", json!({"id": item["id"]})).await;
    for (tool, args) in [
        ("create_project", json!({"name": "Bob's"})),
        ("create_task", json!({"title": "Bob's task", "tags": ["bob"]})),
        ("create_note", json!({"title": "Bob's note"})),
        ("capture_to_inbox", json!({"text": "Bob's item"})),
    ] {
        s.ok(&b.write, tool, args).await;
    }

    let doc = s.ok(&a.read, "export_workspace", json!({})).await;
    assert_eq!((doc["format"].as_str(), doc["user"]["email"].as_str()), (Some("navis-export/1"), Some("ada@example.com")));
    assert_eq!(doc["user"]["time_zone"], "UTC");
    // Archived projects, done tasks and dismissed items are in it too: everything.
    assert_eq!(ids(&doc, "projects"), [project["id"].as_str().unwrap()]);
    let mut tasks = vec![task["id"].as_str().unwrap(), done["id"].as_str().unwrap()];
    tasks.sort();
    assert_eq!(ids(&doc, "tasks"), tasks);
    assert_eq!(doc["tasks"][0]["tags"], json!(["diy"]));
    assert_eq!(
        doc["comments"],
        json!([{"id": comment["id"], "task_id": task["id"], "body": "white", "created_at": comment["created_at"]}])
    );
    assert_eq!(ids(&doc, "notes"), [note["id"].as_str().unwrap()]);
    assert_eq!(doc["notes"][0]["event_id"], event["id"]);
    assert_eq!((ids(&doc, "events"), doc["events"][0]["all_day"].as_bool()), (vec![event["id"].as_str().unwrap().to_owned()], Some(true)));
    assert_eq!(doc["goals"][0]["project_ids"], json!([project["id"]]));
    assert_eq!(doc["goals"][0]["task_ids"], json!([done["id"]]));
    // Progress derived from the linked tasks: Paint (in the project) is open, Buy paint done.
    assert_eq!(doc["goals"][0]["progress"], 50);
    assert_eq!(
        (ids(&doc, "inbox"), doc["inbox"][0]["status"].as_str()),
        (vec![item["id"].as_str().unwrap().to_owned()], Some("dismissed"))
    );
    assert_eq!(doc["tags"].as_array().map(|t| t.iter().map(|t| t["name"].clone()).collect::<Vec<_>>()), Some(vec![json!("diy")]));
    assert!(doc["activity"].as_array().unwrap().len() >= 10, "{}", doc["activity"]);
    assert!(!doc.to_string().contains("Bob"), "another user's data in the export");

    // The HTTP API streams the same document, as a download.
    let resp = s.http.get(s.url("/api/v1/export")).bearer_auth(&a.read).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert!(resp.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"navis-export-"));
    assert!(resp.headers().get("content-length").is_none(), "the export is streamed, not buffered");
    let mut streamed: Value = resp.json().await.unwrap();
    let mut tool = doc.clone();
    for d in [&mut streamed, &mut tool] {
        d["exported_at"] = Value::Null;
    }
    assert_eq!(streamed, tool);
    // Another user's export is theirs alone; an empty workspace exports empty lists.
    let (status, bobs) = api(&s, "GET", "/export", &b.read, None).await;
    assert_eq!((status, bobs["user"]["email"].as_str()), (200, Some("bob@example.com")));
    assert!(!bobs.to_string().contains("Paint"));
    let c = s.account("cy@example.com").await;
    let empty = s.ok(&c.read, "export_workspace", json!({})).await;
    for key in ["projects", "tasks", "comments", "notes", "events", "goals", "inbox", "tags", "workflows", "workflow_runs", "activity"] {
        assert_eq!(empty[key], json!([]), "{key}");
    }
}

/// The resident memory of this process (the server runs in it), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = status.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test]
async fn a_large_export_streams_in_bounded_memory_and_the_tool_refuses_it() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    // 12,000 tasks with 2 KB descriptions: an export of about 26 MB.
    const TASKS: usize = 12_000;
    let description = "lorem ipsum ".repeat(170);
    let batches: Vec<Value> = (0..TASKS / 50)
        .map(|b| json!({"tasks": (0..50).map(|i| json!({"title": format!("Task {}", b * 50 + i), "description": description})).collect::<Vec<_>>()}))
        .collect();
    for chunk in batches.chunks(4) {
        let calls = chunk.iter().map(|batch| api(&s, "POST", "/tasks/batch", &a.write, Some(batch.clone())));
        for (status, body) in futures_util::future::join_all(calls).await {
            assert_eq!(status, 201, "{body}");
        }
    }

    // Read the first chunk, then stop reading a while: the server must wait for the client rather
    // than read on and hold the rest.
    let before = rss();
    let mut resp = s.http.get(s.url("/api/v1/export")).bearer_auth(&a.read).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.chunk().await.unwrap().unwrap().to_vec();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let paused = rss().saturating_sub(before);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    let size = body.len();
    assert!(size > 24 << 20, "the export is {size} bytes");
    assert!(paused < (size / 2) as u64, "the server held {paused} bytes more while the client paused, of a {size}-byte export");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["tasks"].as_array().map(Vec::len), Some(TASKS));
    assert_eq!(doc["activity"].as_array().map(Vec::len), Some(TASKS));

    // A tool result is one message: beyond 16 MB the tool says where to get it instead.
    let refused = s.tool_error(&a.read, "export_workspace", json!({})).await;
    assert!(refused.contains("GET /api/v1/export"), "{refused}");
}
