//! The inbox: capture, list, convert into a task, a note or an event in one transaction, dismiss;
//! through MCP and the HTTP API, one user's items invisible to another.
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::TestServer;
use crate::notes::api;

fn ids(v: &Value) -> Vec<Value> {
    v["items"].as_array().unwrap_or_else(|| panic!("no items in {v}")).iter().map(|i| i["id"].clone()).collect()
}

#[tokio::test]
async fn inbox_items_are_captured_listed_converted_and_dismissed() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let call = s.ok(&a.write, "capture_to_inbox", json!({"text": "Call the plumber\nabout the leak", "source": "voice memo"})).await;
    assert_eq!((call["status"].as_str(), call["source"].as_str()), (Some("open"), Some("voice memo")));
    let idea = s.ok(&a.write, "capture_to_inbox", json!({"text": "Idea: a garden"})).await;
    let lunch = s.ok(&a.write, "capture_to_inbox", json!({"text": "Lunch with Bo"})).await;
    let spam = s.ok(&a.write, "capture_to_inbox", json!({"text": "Newsletter"})).await;
    assert!(s.tool_error(&a.write, "capture_to_inbox", json!({"text": "  "})).await.contains("text"));

    // Newest first, paginated, the open ones by default.
    let page1 = s.ok(&a.read, "list_inbox", json!({"limit": 3})).await;
    assert_eq!(ids(&page1), vec![spam["id"].clone(), lunch["id"].clone(), idea["id"].clone()]);
    let page2 = s.ok(&a.read, "list_inbox", json!({"limit": 3, "cursor": page1["next_cursor"]})).await;
    assert_eq!(ids(&page2), vec![call["id"].clone()]);

    // Into a task: the title is the first line, the description the whole text.
    let project = s.ok(&a.write, "create_project", json!({"name": "House"})).await;
    let converted = s
        .ok(
            &a.write,
            "convert_inbox_item",
            json!({"id": call["id"], "into": "task", "project_id": project["id"], "due_date": "2030-01-08"}),
        )
        .await;
    let task = &converted["task"];
    assert_eq!(
        (task["title"].as_str(), task["description"].as_str(), task["project_id"].clone(), task["due_date"].as_str()),
        (Some("Call the plumber"), Some("Call the plumber\nabout the leak"), project["id"].clone(), Some("2030-01-08"))
    );
    assert_eq!(
        (converted["item"]["status"].as_str(), converted["item"]["converted_to"].as_str(), converted["item"]["converted_id"].clone()),
        (Some("converted"), Some("task"), task["id"].clone())
    );
    assert_eq!(s.ok(&a.read, "get_task", json!({"id": task["id"]})).await["title"], "Call the plumber");

    // Into a note, with a title given; into an event, which needs a start.
    let note = s.ok(&a.write, "convert_inbox_item", json!({"id": idea["id"], "into": "note", "title": "Garden"})).await["note"].clone();
    assert_eq!((note["title"].as_str(), note["body"].as_str()), (Some("Garden"), Some("Idea: a garden")));
    assert!(s.tool_error(&a.write, "convert_inbox_item", json!({"id": lunch["id"], "into": "event"})).await.contains("start"));
    let event =
        s.ok(&a.write, "convert_inbox_item", json!({"id": lunch["id"], "into": "event", "start": "2030-01-09T12:00:00Z"})).await["event"]
            .clone();
    assert_eq!((event["title"].as_str(), event["description"].as_str()), (Some("Lunch with Bo"), Some("")));
    assert!(
        s.tool_error(&a.write, "convert_inbox_item", json!({"id": spam["id"], "into": "task", "start": "2030-01-09"}))
            .await
            .contains("start")
    );

    // Dismiss; then neither converting nor dismissing again is allowed.
    assert_eq!(s.ok(&a.write, "dismiss_inbox_item", json!({"id": spam["id"]})).await["status"], "dismissed");
    assert!(s.tool_error(&a.write, "dismiss_inbox_item", json!({"id": spam["id"]})).await.contains("already dismissed"));
    assert!(s.tool_error(&a.write, "convert_inbox_item", json!({"id": call["id"], "into": "note"})).await.contains("already converted"));
    assert_eq!(ids(&s.ok(&a.read, "list_inbox", json!({})).await), Vec::<Value>::new());
    let done = s.ok(&a.read, "list_inbox", json!({"status": "converted"})).await;
    assert_eq!(ids(&done), vec![lunch["id"].clone(), idea["id"].clone(), call["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_inbox", json!({"status": "dismissed"})).await), vec![spam["id"].clone()]);

    // Every change is in the activity feed.
    let activity = s.ok(&a.read, "list_recent_activity", json!({"limit": 50})).await;
    let actions: Vec<String> = activity["activity"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "inbox_item")
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "captured").count(), 4, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "converted").count(), 3, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "dismissed").count(), 1, "{actions:?}");
}

#[tokio::test]
async fn an_invalid_conversion_makes_nothing_and_leaves_the_item_open() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let item = s.ok(&a.write, "capture_to_inbox", json!({"text": "Plan the trip"})).await;
    let bobs_project = s.ok(&b.write, "create_project", json!({"name": "Bob's"})).await;
    for bad in [
        json!({"id": item["id"], "into": "task", "project_id": bobs_project["id"]}),
        json!({"id": item["id"], "into": "task", "title": " "}),
        json!({"id": item["id"], "into": "event", "start": "2030-01-09T12:00:00Z", "end": "2030-01-09T11:00:00Z"}),
        json!({"id": item["id"], "into": "event", "start": "tomorrow"}),
        json!({"id": item["id"], "into": "note", "due_date": "2030-01-09"}),
    ] {
        s.tool_error(&a.write, "convert_inbox_item", bad).await;
    }
    assert_eq!(ids(&s.ok(&a.read, "list_inbox", json!({})).await), vec![item["id"].clone()]);
    assert_eq!(s.ok(&a.read, "list_tasks", json!({})).await["tasks"], json!([]));
    assert_eq!(s.ok(&a.read, "list_notes", json!({})).await["notes"], json!([]));
    assert_eq!(s.ok(&a.read, "list_events", json!({"from": "2030-01-01"})).await["events"], json!([]));

    // The store refuses an item no longer open, and makes nothing (the one transaction rolls back).
    s.ok(&a.write, "dismiss_inbox_item", json!({"id": item["id"]})).await;
    let before = s.ok(&a.read, "list_events", json!({"from": "2030-01-01"})).await["events"].as_array().unwrap().len();
    assert!(
        s.tool_error(&a.write, "convert_inbox_item", json!({"id": item["id"], "into": "event", "start": "2030-01-09T12:00:00Z"}))
            .await
            .contains("not open")
    );
    assert_eq!(s.ok(&a.read, "list_events", json!({"from": "2030-01-01"})).await["events"].as_array().unwrap().len(), before);

    // Another user sees none of it and can touch none of it.
    assert_eq!(ids(&s.ok(&b.read, "list_inbox", json!({"status": "dismissed"})).await), Vec::<Value>::new());
    assert!(s.tool_error(&b.write, "dismiss_inbox_item", json!({"id": item["id"]})).await.contains("No inbox item"));
    let bobs = s.ok(&b.write, "capture_to_inbox", json!({"text": "Bob's"})).await;
    assert!(s.tool_error(&a.write, "convert_inbox_item", json!({"id": bobs["id"], "into": "note"})).await.contains("No inbox item"));
    assert!(s.tool_error(&a.write, "dismiss_inbox_item", json!({"id": Uuid::now_v7()})).await.contains("No inbox item"));
    assert_eq!(s.ok(&b.read, "list_inbox", json!({})).await["items"][0]["status"], "open");
}

#[tokio::test]
async fn the_http_api_has_the_inbox() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let (status, item) = api(&s, "POST", "/inbox", &a.write, Some(json!({"text": "Renew passport", "source": "email"}))).await;
    assert_eq!((status, item["status"].as_str()), (201, Some("open")));
    let id = item["id"].as_str().unwrap().to_owned();
    let (status, listed) = api(&s, "GET", "/inbox?status=open", &a.read, None).await;
    assert_eq!((status, ids(&listed)), (200, vec![item["id"].clone()]));
    let (status, refused) =
        api(&s, "POST", &format!("/inbox/{id}/convert"), &a.write, Some(json!({"into": "task", "project_id": Uuid::now_v7()}))).await;
    assert_eq!((status, refused["field"].as_str()), (422, Some("project_id")));
    let (status, converted) = api(&s, "POST", &format!("/inbox/{id}/convert"), &a.write, Some(json!({"into": "task"}))).await;
    assert_eq!((status, converted["task"]["title"].as_str()), (201, Some("Renew passport")), "a conversion makes something");
    let (status, conflict) = api(&s, "POST", &format!("/inbox/{id}/dismiss"), &a.write, Some(json!({}))).await;
    assert_eq!((status, conflict["error"].as_str()), (409, Some("conflict")));
    let (status, _) = api(&s, "POST", &format!("/inbox/{}/dismiss", Uuid::now_v7()), &a.write, Some(json!({}))).await;
    assert_eq!(status, 404);
    let (status, _) = api(&s, "POST", "/inbox", &a.read, Some(json!({"text": "x"}))).await;
    assert_eq!(status, 403, "capturing needs mcp:write");
}

#[tokio::test]
async fn the_triage_inbox_prompt_embeds_the_open_items_and_the_rules() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let open = s.ok(&a.write, "capture_to_inbox", json!({"text": "Book the dentist", "source": "email"})).await;
    let gone = s.ok(&a.write, "capture_to_inbox", json!({"text": "Old flyer"})).await;
    s.ok(&a.write, "dismiss_inbox_item", json!({"id": gone["id"]})).await;
    s.ok(&b.write, "capture_to_inbox", json!({"text": "Bob's secret"})).await;
    let prompts = s.rpc_ok(&a.read, "prompts/list", json!({})).await;
    assert!(prompts["result"]["prompts"].as_array().unwrap().iter().any(|p| p["name"] == "triage_inbox"), "{prompts}");
    let got = s.rpc_ok(&a.read, "prompts/get", json!({"name": "triage_inbox"})).await;
    let text = got["result"]["messages"][0]["content"]["text"].as_str().unwrap_or_else(|| panic!("{got}"));
    assert!(text.contains(&format!("id={} (from email): Book the dentist", open["id"].as_str().unwrap())), "{text}");
    assert!(!text.contains("Old flyer") && !text.contains("Bob's secret"), "{text}");
    for rule in ["into=task", "into=note", "into=event", "dismiss_inbox_item"] {
        assert!(text.contains(rule), "{rule}: {text}");
    }
}
