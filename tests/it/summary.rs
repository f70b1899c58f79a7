//! The workspace as a whole: notes and events in `search_workspace`, `get_workspace_summary` and
//! the resource `navis://workspace/summary`, `export_workspace` (streamed over HTTP), and the
//! `plan_week` prompt — each per user, through MCP and /api/v1.
use serde_json::{Value, json};

use crate::api::expect;
use crate::calendar::{at, resource};
use crate::harness::TestServer;

/// (type, id) of every result for a query.
async fn found(s: &TestServer, token: &str, args: Value) -> Vec<(String, String)> {
    let r = s.ok(token, "search_workspace", args).await;
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["type"].as_str().unwrap().to_owned(), x["id"].as_str().unwrap().to_owned()))
        .collect()
}

fn item(kind: &str, v: &Value) -> (String, String) {
    (kind.to_owned(), v["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn search_finds_notes_and_events_of_their_owner_only_and_follows_changes() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let mut mine = Vec::new();
    for acct in [&a, &b] {
        let note = s.ok(&acct.write, "create_note", json!({"title": "Zanzibar offsite", "body": "Flights and the hotel"})).await;
        let event = s
            .ok(
                &acct.write,
                "create_event",
                json!({"title": "Budget review", "description": "Zanzibar costs", "start": "2026-06-01T09:00:00Z", "end": "2026-06-01T10:00:00Z"}),
            )
            .await;
        mine.push((note, event));
    }
    let (note, event) = &mine[0];
    let (bob_note, bob_event) = &mine[1];

    // Each finds their own note (by title) and event (by description), never the other's.
    let mut ada = found(&s, &a.read, json!({"query": "zanzibar"})).await;
    ada.sort();
    let mut expected = vec![item("note", note), item("event", event)];
    expected.sort();
    assert_eq!(ada, expected);
    let bob = found(&s, &b.read, json!({"query": "zanzibar"})).await;
    assert_eq!(bob.len(), 2);
    assert!(bob.contains(&item("note", bob_note)) && bob.contains(&item("event", bob_event)));
    assert_eq!(found(&s, &a.read, json!({"query": "hotel", "types": "note"})).await, vec![item("note", note)]);
    assert_eq!(found(&s, &a.read, json!({"query": "budget", "types": "event"})).await, vec![item("event", event)]);
    assert_eq!(found(&s, &a.read, json!({"query": "budget", "types": "note,task"})).await, vec![]);
    let r = s.ok(&a.read, "search_workspace", json!({"query": "zanzibar", "types": "event"})).await;
    assert_eq!(r["results"][0]["title"], "Budget review");
    assert!(r["results"][0]["snippet"].as_str().unwrap().contains("**Zanzibar**"), "{r}");
    let body = expect(&s, 200, "GET", "/search?query=flights&types=note,event", &a.read, None).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert_eq!(body["results"][0]["id"], note["id"]);

    // The index follows an update, an append and a deletion.
    s.ok(&a.write, "update_event", json!({"id": event["id"], "title": "Quarterly planning"})).await;
    assert_eq!(found(&s, &a.read, json!({"query": "quarterly"})).await, vec![item("event", event)]);
    s.ok(&a.write, "append_to_note", json!({"id": note["id"], "text": "Snorkelling on day two"})).await;
    assert_eq!(found(&s, &a.read, json!({"query": "snorkelling"})).await, vec![item("note", note)]);
    s.ok(&a.write, "delete_note", json!({"id": note["id"]})).await;
    assert_eq!(found(&s, &a.read, json!({"query": "hotel"})).await, vec![]);
    assert_eq!(found(&s, &a.read, json!({"query": "zanzibar"})).await, vec![item("event", event)]);
    s.ok(&a.write, "delete_event", json!({"id": event["id"]})).await;
    assert_eq!(found(&s, &a.read, json!({"query": "zanzibar"})).await, vec![]);
    // Bob's are untouched.
    assert_eq!(found(&s, &b.read, json!({"query": "zanzibar"})).await.len(), 2);
}

#[tokio::test]
async fn the_summary_counts_each_users_own_items_with_today_in_their_time_zone() {
    let s = TestServer::start().await;
    // 23:30 UTC on 4 May is already 5 May in Berlin.
    s.clock.set(at("2026-05-04T23:30:00Z"));
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    expect(&s, 200, "PATCH", "/me", &a.write, Some(json!({"time_zone": "Europe/Berlin"}))).await;

    let p = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    s.ok(&a.write, "create_project", json!({"name": "Hiring"})).await;
    let due = s.ok(&a.write, "create_task", json!({"title": "Due Berlin today", "due_date": "2026-05-05", "project_id": p["id"]})).await;
    let late = s.ok(&a.write, "create_task", json!({"title": "Late", "due_date": "2026-05-04", "status": "in_progress"})).await;
    s.ok(&a.write, "create_task", json!({"title": "Done late", "due_date": "2026-05-01", "status": "done"})).await;
    s.ok(&a.write, "create_task", json!({"title": "Later", "due_date": "2026-05-20"})).await;
    s.ok(&a.write, "create_note", json!({"title": "Notes"})).await;
    let soon =
        s.ok(&a.write, "create_event", json!({"title": "Soon", "start": "2026-05-06T09:00:00Z", "end": "2026-05-06T10:00:00Z"})).await;
    s.ok(&a.write, "create_event", json!({"title": "Far", "start": "2026-06-06T09:00:00Z", "end": "2026-06-06T10:00:00Z"})).await;
    let goal = s.ok(&a.write, "create_goal", json!({"title": "Ship v2"})).await;
    s.ok(&a.write, "link_to_goal", json!({"goal_id": goal["id"], "item_type": "project", "item_id": p["id"]})).await;
    let old = s.ok(&a.write, "create_goal", json!({"title": "Old"})).await;
    s.ok(&a.write, "update_goal", json!({"id": old["id"], "status": "achieved"})).await;
    // Bob's items must never show in Ada's summary.
    let bp = s.ok(&b.write, "create_project", json!({"name": "Bob's"})).await;
    s.ok(&b.write, "create_task", json!({"title": "Bob due", "due_date": "2026-05-01", "project_id": bp["id"]})).await;
    s.ok(&b.write, "create_event", json!({"title": "Bob soon", "start": "2026-05-06T09:00:00Z", "end": "2026-05-06T10:00:00Z"})).await;
    s.ok(&b.write, "create_goal", json!({"title": "Bob goal"})).await;

    let sum = s.ok(&a.read, "get_workspace_summary", json!({})).await;
    assert_eq!((sum["time_zone"].as_str(), sum["today"].as_str()), (Some("Europe/Berlin"), Some("2026-05-05")), "{sum}");
    let c = &sum["counts"];
    assert_eq!((c["projects"].as_i64(), c["notes"].as_i64(), c["events"].as_i64()), (Some(2), Some(1), Some(2)), "{sum}");
    assert_eq!(c["tasks"], json!({"total": 4, "by_status": {"backlog": 0, "todo": 2, "in_progress": 1, "in_review": 0, "done": 1}}));
    assert_eq!(c["goals"], json!({"total": 2, "by_status": {"active": 1, "achieved": 1, "abandoned": 0}}));
    assert_eq!((sum["due_today_count"].as_u64(), sum["due_today"][0]["id"].clone()), (Some(1), due["id"].clone()));
    assert_eq!((sum["overdue_count"].as_u64(), sum["overdue"][0]["id"].clone()), (Some(1), late["id"].clone()));
    let events: Vec<&Value> = sum["upcoming_events"].as_array().unwrap().iter().map(|e| &e["id"]).collect();
    assert_eq!(events, vec![&soon["id"]]);
    let goals = sum["active_goals"].as_array().unwrap();
    assert_eq!((goals.len(), goals[0]["id"].clone(), goals[0]["tasks_total"].as_i64()), (1, goal["id"].clone(), Some(1)));
    let activity = sum["recent_activity"].as_array().unwrap();
    assert_eq!((activity.len(), activity[0]["type"].as_str(), activity[0]["action"].as_str()), (10, Some("goal"), Some("achieved")));
    assert!(!sum.to_string().contains("Bob"), "{sum}");

    // The same over HTTP and as the resource (listed, readable).
    let http = expect(&s, 200, "GET", "/summary", &a.read, None).await;
    assert_eq!(http["counts"], sum["counts"]);
    let res = resource(&s, &a.read, "navis://workspace/summary").await;
    assert_eq!((res["counts"].clone(), res["overdue"].clone()), (sum["counts"].clone(), sum["overdue"].clone()));
    let listed = s.rpc_ok(&a.read, "resources/list", json!({})).await;
    assert!(listed["result"]["resources"].as_array().unwrap().iter().any(|r| r["uri"] == "navis://workspace/summary"), "{listed}");

    // Bob sees only his own.
    let bob = resource(&s, &b.read, "navis://workspace/summary").await;
    assert_eq!((bob["counts"]["projects"].as_i64(), bob["counts"]["tasks"]["total"].as_i64()), (Some(1), Some(1)));
    assert_eq!((bob["today"].as_str(), bob["overdue_count"].as_u64()), (Some("2026-05-04"), Some(1)));
    assert_eq!(bob["counts"]["goals"]["total"], 1);
    assert!(!bob.to_string().contains("Ship v2") && !bob.to_string().contains("Launch"), "{bob}");
    // A new user's summary is all zeros.
    let c = s.account("cy@example.com").await;
    let empty = s.ok(&c.read, "get_workspace_summary", json!({})).await;
    assert_eq!((empty["counts"]["tasks"]["total"].as_i64(), empty["recent_activity"].clone()), (Some(0), json!([])));
}

#[tokio::test]
async fn plan_week_embeds_the_weeks_tasks_events_and_active_goals_in_the_users_time_zone() {
    let s = TestServer::start().await;
    // Monday 4 May 23:30 UTC is Tuesday 5 May in Tokyo: the week is 5–11 May there.
    s.clock.set(at("2026-05-04T23:30:00Z"));
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    expect(&s, 200, "PATCH", "/me", &a.write, Some(json!({"time_zone": "Asia/Tokyo"}))).await;
    s.ok(&a.write, "create_task", json!({"title": "Write the brief", "due_date": "2026-05-11"})).await;
    s.ok(&a.write, "create_task", json!({"title": "Next week's task", "due_date": "2026-05-12"})).await;
    let ev = |title: &str, start: &str, end: &str| json!({"title": title, "start": start, "end": end, "kind": "meeting"});
    s.ok(&a.write, "create_event", ev("Board meeting", "2026-05-07T10:00:00+09:00", "2026-05-07T11:00:00+09:00")).await;
    s.ok(&a.write, "create_event", ev("Late Monday call", "2026-05-11T22:00:00+09:00", "2026-05-11T23:00:00+09:00")).await;
    s.ok(&a.write, "create_event", ev("After the week", "2026-05-12T09:00:00+09:00", "2026-05-12T10:00:00+09:00")).await;
    s.ok(&a.write, "create_event", ev("Already over", "2026-05-04T09:00:00+09:00", "2026-05-04T10:00:00+09:00")).await;
    s.ok(&a.write, "create_goal", json!({"title": "Raise the seed round", "progress": 40, "target_date": "2026-09-30"})).await;
    let done = s.ok(&a.write, "create_goal", json!({"title": "Old achieved goal"})).await;
    s.ok(&a.write, "update_goal", json!({"id": done["id"], "status": "achieved"})).await;
    s.ok(&b.write, "create_event", ev("Bob's meeting", "2026-05-07T10:00:00+09:00", "2026-05-07T11:00:00+09:00")).await;
    s.ok(&b.write, "create_goal", json!({"title": "Bob's goal"})).await;

    let week = s.rpc_ok(&a.read, "prompts/get", json!({"name": "plan_week", "arguments": {"focus": "fundraising"}})).await;
    let text = week["result"]["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("Today is 2026-05-05 (time zone Asia/Tokyo)") && text.contains("through 2026-05-11"), "{text}");
    for present in [
        "Write the brief",
        "Board meeting",
        "Thu 2026-05-07 10:00 to 11:00",
        "Late Monday call",
        "Raise the seed round (40% done, target 2026-09-30)",
        "fundraising",
    ] {
        assert!(text.contains(present), "{present} missing: {text}");
    }
    for absent in ["Next week's task", "After the week", "Already over", "Old achieved goal", "Bob"] {
        assert!(!text.contains(absent), "{absent} present: {text}");
    }
    // Bob's week has his own event and goal, none of Ada's.
    let bob = s.rpc_ok(&b.read, "prompts/get", json!({"name": "plan_week", "arguments": {}})).await;
    let text = bob["result"]["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("Bob's meeting") && text.contains("Bob's goal") && text.contains("time zone UTC"), "{text}");
    assert!(!text.contains("Board meeting") && !text.contains("seed round") && !text.contains("Write the brief"), "{text}");
}
