//! Projects, tasks and the three resources, through the MCP endpoint.
use chrono::Duration;
use serde_json::{Value, json};

use crate::harness::{TestServer, Trigger};

#[tokio::test]
async fn projects_list_paginate_update_archive_and_delete() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.ok(&a.write, "create_project", json!({"name": format!("P{i}"), "due_date": "2027-03-01"})).await["id"].clone());
    }
    // Newest first, two at a time, with an opaque cursor.
    let page1 = s.ok(&a.read, "list_projects", json!({"limit": 2})).await;
    assert_eq!(page1["projects"].as_array().unwrap().iter().map(|p| p["name"].clone()).collect::<Vec<_>>(), vec![json!("P4"), json!("P3")]);
    let page2 = s.ok(&a.read, "list_projects", json!({"limit": 2, "cursor": page1["next_cursor"]})).await;
    assert_eq!(page2["projects"][0]["name"], "P2");
    let page3 = s.ok(&a.read, "list_projects", json!({"limit": 2, "cursor": page2["next_cursor"]})).await;
    assert_eq!(page3["projects"].as_array().unwrap().len(), 1);
    assert!(page3.get("next_cursor").is_none());

    // Update, clear a date with null, archive; archived projects leave the default listing.
    let updated = s.ok(&a.write, "update_project", json!({"id": ids[0], "name": "Renamed", "due_date": null, "status": "on_hold"})).await;
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["due_date"], Value::Null);
    assert_eq!(updated["status"], "on_hold");
    s.ok(&a.write, "update_project", json!({"id": ids[1], "status": "archived"})).await;
    let listed = s.ok(&a.read, "list_projects", json!({"limit": 100})).await;
    assert_eq!(listed["projects"].as_array().unwrap().len(), 4);
    let archived = s.ok(&a.read, "list_projects", json!({"status": "archived"})).await;
    assert_eq!(archived["projects"][0]["id"], ids[1]);

    // A project with tasks is only deleted with cascade, and then its tasks go too.
    let task = s.ok(&a.write, "create_task", json!({"title": "T", "project_id": ids[2]})).await;
    let refusal = s.tool_error(&a.write, "delete_project", json!({"id": ids[2]})).await;
    assert!(refusal.contains("cascade"), "{refusal}");
    assert_eq!(s.ok(&a.read, "get_task", json!({"id": task["id"]})).await["title"], "T");
    let deleted = s.ok(&a.write, "delete_project", json!({"id": ids[2], "cascade": true})).await;
    assert_eq!(deleted["deleted_tasks"], 1);
    assert!(s.tool_error(&a.read, "get_task", json!({"id": task["id"]})).await.contains("No task"));
    assert!(s.tool_error(&a.read, "get_project", json!({"id": ids[2]})).await.contains("No project"));
    s.ok(&a.write, "delete_project", json!({"id": ids[3]})).await;
}

#[tokio::test]
async fn tasks_filter_update_complete_and_delete() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let p = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let t1 = s.ok(&a.write, "create_task", json!({"title": "Write post", "project_id": p["id"], "priority": "high", "due_date": "2027-01-10", "tags": ["blog", "launch"], "assignee": "ada"})).await;
    let t2 = s
        .ok(
            &a.write,
            "create_task",
            json!({"title": "Fix 100% bug", "priority": "low", "due_date": "2027-02-10", "description": "in the **parser**"}),
        )
        .await;
    assert_eq!(t1["status"], "todo");
    assert_eq!(t2["priority"], "low");

    let ids = |v: &Value| v["tasks"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"project_id": p["id"]})).await), vec![t1["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"priority": "low"})).await), vec![t2["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"tag": "blog"})).await), vec![t1["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"assignee": "ada"})).await), vec![t1["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"text": "100%"})).await), vec![t2["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"text": "parser"})).await), vec![t2["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"due_after": "2027-02-01"})).await), vec![t2["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"due_before": "2027-01-31"})).await), vec![t1["id"].clone()]);

    // Update: move out of the project, clear the due date, replace tags; done records completion.
    let u = s
        .ok(&a.write, "update_task", json!({"id": t1["id"], "project_id": null, "due_date": null, "tags": ["x"], "status": "in_progress"}))
        .await;
    assert_eq!(u["project_id"], Value::Null);
    assert_eq!(u["due_date"], Value::Null);
    assert_eq!(u["tags"], json!(["x"]));
    assert_eq!(u["completed_at"], Value::Null);
    let done = s.ok(&a.write, "complete_task", json!({"id": t1["id"]})).await;
    assert_eq!(done["status"], "done");
    assert!(done["completed_at"].is_string());
    // Done tasks are left out unless asked for.
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({})).await), vec![t2["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"status": "done"})).await), vec![t1["id"].clone()]);
    assert_eq!(s.ok(&a.read, "list_tasks", json!({"include_done": true})).await["tasks"].as_array().unwrap().len(), 2);
    let reopened = s.ok(&a.write, "update_task", json!({"id": t1["id"], "status": "todo"})).await;
    assert_eq!(reopened["completed_at"], Value::Null);

    let detail = s.ok(&a.read, "get_task", json!({"id": t2["id"]})).await;
    assert_eq!(detail["comments"], json!([]));
    assert_eq!(detail["description"], "in the **parser**");
    s.ok(&a.write, "delete_task", json!({"id": t2["id"]})).await;
    assert!(s.tool_error(&a.write, "delete_task", json!({"id": t2["id"]})).await.contains("No task"));
}

#[tokio::test]
async fn create_tasks_is_all_or_nothing() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let p = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let err = s.tool_error(&a.write, "create_tasks", json!({"tasks": [{"title": "ok", "project_id": p["id"]}, {"title": "  "}]})).await;
    assert!(err.contains("tasks[1]") && err.contains("No task was created"), "{err}");
    assert_eq!(s.ok(&a.read, "list_tasks", json!({})).await["tasks"], json!([]));
    let many: Vec<Value> = (0..50).map(|i| json!({"title": format!("T{i}"), "project_id": p["id"]})).collect();
    assert_eq!(s.ok(&a.write, "create_tasks", json!({"tasks": many})).await["created"], 50);
    let too_many: Vec<Value> = (0..51).map(|i| json!({"title": format!("T{i}")})).collect();
    assert!(s.tool_error(&a.write, "create_tasks", json!({"tasks": too_many})).await.contains("between 1 and 50"));
    assert_eq!(s.ok(&a.read, "get_project", json!({"id": p["id"]})).await["task_counts"]["todo"], 50);
}

#[tokio::test]
async fn invalid_arguments_are_tool_errors_that_say_what_to_fix() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let cases = [
        ("create_task", json!({"title": "x", "status": "someday"}), "unknown variant `someday`"),
        ("create_task", json!({"priority": "high"}), "missing field `title`"),
        ("create_task", json!({"title": "x", "due_date": "next tuesday"}), "due_date"),
        ("create_project", json!({"name": ""}), "name must not be empty"),
        ("create_project", json!({"name": "x", "start_date": "2027-05-01", "due_date": "2027-04-01"}), "must not be before"),
        ("list_tasks", json!({"limit": 500}), "limit must be between 1 and 100"),
        ("list_tasks", json!({"cursor": "garbage!"}), "cursor is not valid"),
        ("get_task", json!({"id": "not-a-uuid"}), "No task with id not-a-uuid"),
    ];
    for (tool, args, expected) in cases {
        let err = s.tool_error(&a.write, tool, args.clone()).await;
        assert!(err.contains(expected), "{tool} {args}: {err}");
    }
}

#[tokio::test]
async fn resources_show_today_projects_and_a_projects_tasks() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let today = s.clock_now().date_naive();
    let p = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let archived = s.ok(&a.write, "create_project", json!({"name": "Old", "status": "archived"})).await;
    let due_today = s.ok(&a.write, "create_task", json!({"title": "today", "project_id": p["id"], "due_date": today.to_string()})).await;
    let overdue = s
        .ok(&a.write, "create_task", json!({"title": "late", "project_id": p["id"], "due_date": (today - Duration::days(3)).to_string()}))
        .await;
    let later = s.ok(&a.write, "create_task", json!({"title": "later", "due_date": (today + Duration::days(3)).to_string()})).await;
    let finished = s.ok(&a.write, "create_task", json!({"title": "finished", "due_date": today.to_string(), "status": "done"})).await;

    let read = |uri: String| {
        let s = &s;
        let token = a.read.clone();
        async move {
            let r = s.rpc_ok(&token, "resources/read", json!({"uri": uri})).await;
            let c = &r["result"]["contents"][0];
            assert_eq!(c["mimeType"], "application/json", "{r}");
            serde_json::from_str::<Value>(c["text"].as_str().unwrap()).unwrap()
        }
    };
    let today_doc = read("navis://tasks/today".into()).await;
    let tasks = today_doc["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2, "{today_doc}");
    assert_eq!(tasks[0]["id"], overdue["id"]);
    assert_eq!(tasks[0]["overdue"], true);
    assert_eq!(tasks[1]["id"], due_today["id"]);
    assert_eq!(tasks[1]["overdue"], false);
    assert!(!today_doc.to_string().contains(later["id"].as_str().unwrap()));
    assert!(!today_doc.to_string().contains(finished["id"].as_str().unwrap()));

    let all = read("navis://projects/all".into()).await;
    assert_eq!(all["projects"].as_array().unwrap().len(), 1);
    assert_eq!(all["projects"][0]["open_task_count"], 2);
    assert!(!all.to_string().contains(archived["id"].as_str().unwrap()));

    let pt = read(format!("navis://projects/{}/tasks", p["id"].as_str().unwrap())).await;
    assert_eq!(pt["name"], "Launch");
    assert_eq!(pt["tasks"].as_array().unwrap().len(), 2);

    let templates = s.rpc_ok(&a.read, "resources/templates/list", json!({})).await;
    assert_eq!(templates["result"]["resourceTemplates"][0]["uriTemplate"], "navis://projects/{id}/tasks");
    let missing = s.rpc_ok(&a.read, "resources/read", json!({"uri": "navis://nothing/here"})).await;
    assert_eq!(missing["error"]["code"], -32002);
}

#[tokio::test]
async fn comments_are_listed_oldest_first_and_shown_with_their_task() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let task = s.ok(&a.write, "create_task", json!({"title": "Review"})).await;
    for body in ["First", "Second **bold**", "Third"] {
        let c = s.ok(&a.write, "add_comment", json!({"task_id": task["id"], "body": body})).await;
        assert_eq!(c["body"], body);
    }
    let page1 = s.ok(&a.read, "list_comments", json!({"task_id": task["id"], "limit": 2})).await;
    assert_eq!(
        page1["comments"].as_array().unwrap().iter().map(|c| c["body"].clone()).collect::<Vec<_>>(),
        vec![json!("First"), json!("Second **bold**")]
    );
    let page2 = s.ok(&a.read, "list_comments", json!({"task_id": task["id"], "limit": 2, "cursor": page1["next_cursor"]})).await;
    assert_eq!(page2["comments"][0]["body"], "Third");
    assert!(page2.get("next_cursor").is_none());
    let detail = s.ok(&a.read, "get_task", json!({"id": task["id"]})).await;
    assert_eq!(detail["comments"].as_array().unwrap().len(), 3);
    assert!(s.tool_error(&a.write, "add_comment", json!({"task_id": task["id"], "body": "  "})).await.contains("body must not be empty"));
    // Deleting the task deletes its comments.
    s.ok(&a.write, "delete_task", json!({"id": task["id"]})).await;
    assert!(s.tool_error(&a.read, "list_comments", json!({"task_id": task["id"]})).await.contains("No task"));
}

#[tokio::test]
async fn every_change_is_recorded_as_recent_activity() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let p = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let t = s.ok(&a.write, "create_task", json!({"title": "Draft", "project_id": p["id"]})).await;
    s.ok(&a.write, "add_comment", json!({"task_id": t["id"], "body": "looks good"})).await;
    s.ok(&a.write, "complete_task", json!({"id": t["id"]})).await;
    s.ok(&a.write, "update_project", json!({"id": p["id"], "status": "archived"})).await;
    s.ok(&a.write, "delete_task", json!({"id": t["id"]})).await;
    let all = s.ok(&a.read, "list_recent_activity", json!({})).await;
    let seen: Vec<(String, String)> = all["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["action"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("task", "deleted"),
        ("project", "archived"),
        ("task", "completed"),
        ("task", "commented"),
        ("task", "created"),
        ("project", "created"),
    ];
    assert_eq!(seen, expected.map(|(a, b)| (a.to_owned(), b.to_owned())).to_vec());
    assert_eq!(all["activity"][0]["title"], "Draft");
    let page = s.ok(&a.read, "list_recent_activity", json!({"limit": 4})).await;
    let rest = s.ok(&a.read, "list_recent_activity", json!({"limit": 4, "cursor": page["next_cursor"]})).await;
    assert_eq!(rest["activity"].as_array().unwrap().len(), 2);
    // Another user sees none of it.
    let b = s.account("bob@example.com").await;
    assert_eq!(s.ok(&b.read, "list_recent_activity", json!({})).await["activity"], json!([]));
}

#[tokio::test]
async fn a_change_whose_activity_cannot_be_recorded_is_not_made_at_all() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let p = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let t = s.ok(&a.write, "create_task", json!({"title": "Draft", "project_id": p["id"]})).await;
    let n = s.ok(&a.write, "create_note", json!({"title": "Minutes", "project_id": p["id"], "tags": ["kept"]})).await;
    let before = (
        s.ok(&a.read, "get_project", json!({"id": p["id"]})).await,
        s.ok(&a.read, "get_task", json!({"id": t["id"]})).await,
        s.ok(&a.read, "get_note", json!({"id": n["id"]})).await,
        s.ok(&a.read, "list_tags", json!({})).await,
    );

    // The activity row of every change fails: each change must fail with it, and say so truthfully.
    s.trigger("activity", "INSERT", Trigger::Refuse).await;
    for (tool, args) in [
        ("create_project", json!({"name": "Twin"})),
        ("update_project", json!({"id": p["id"], "name": "Renamed"})),
        ("update_project", json!({"id": p["id"], "status": "archived"})),
        ("delete_project", json!({"id": p["id"], "cascade": true})),
        ("create_task", json!({"title": "Twin"})),
        ("create_tasks", json!({"tasks": [{"title": "Twin 1"}, {"title": "Twin 2"}]})),
        ("update_task", json!({"id": t["id"], "title": "Renamed"})),
        ("complete_task", json!({"id": t["id"]})),
        ("delete_task", json!({"id": t["id"]})),
        ("add_comment", json!({"task_id": t["id"], "body": "Twin"})),
        ("update_task", json!({"id": t["id"], "tags": ["new tag"]})),
        ("create_note", json!({"title": "Twin", "tags": ["new tag"]})),
        ("update_note", json!({"id": n["id"], "body": "changed", "tags": []})),
        ("append_to_note", json!({"id": n["id"], "text": "more"})),
        ("delete_note", json!({"id": n["id"]})),
        ("create_tag", json!({"name": "Twin"})),
        ("tag_item", json!({"item_type": "task", "item_id": t["id"], "name": "new tag"})),
        ("tag_item", json!({"item_type": "project", "item_id": p["id"], "name": "kept"})),
        ("untag_item", json!({"item_type": "note", "item_id": n["id"], "name": "kept"})),
    ] {
        let err = s.tool_error(&a.write, tool, args.clone()).await;
        assert!(err.contains("Nothing was changed"), "{tool} {args}: {err}");
    }
    s.drop_trigger("activity").await;

    // Nothing was: a retry cannot make a duplicate.
    let after = (
        s.ok(&a.read, "get_project", json!({"id": p["id"]})).await,
        s.ok(&a.read, "get_task", json!({"id": t["id"]})).await,
        s.ok(&a.read, "get_note", json!({"id": n["id"]})).await,
        s.ok(&a.read, "list_tags", json!({})).await,
    );
    assert_eq!(after, before);
    let projects = s.ok(&a.read, "list_projects", json!({"status": "active"})).await;
    assert_eq!(projects["projects"].as_array().unwrap().len(), 1, "{projects}");
    let tasks = s.ok(&a.read, "list_tasks", json!({"include_done": true})).await;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(s.ok(&a.read, "list_recent_activity", json!({})).await["activity"].as_array().unwrap().len(), 3);
    assert_eq!(s.ok(&a.read, "list_notes", json!({})).await["notes"].as_array().unwrap().len(), 1);
}
