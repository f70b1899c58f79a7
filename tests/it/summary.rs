//! The workspace as a whole: notes and events in `search_workspace`, `get_workspace_summary` and
//! the resource `navis://workspace/summary`, `export_workspace` (streamed over HTTP), and the
//! `plan_week` prompt — each per user, through MCP and /api/v1.
use serde_json::{Value, json};

use crate::api::expect;
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
