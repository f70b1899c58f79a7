//! Meetings: an event with its notes and follow-up tasks; notes recorded and action items turned
//! into tasks linked to it (all or none); deleting the event keeps both and unlinks them; the
//! meeting_follow_up prompt; one user's meetings invisible to another.
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::notes::api;

fn titles(list: &Value) -> Vec<&str> {
    list.as_array().unwrap_or_else(|| panic!("not a list: {list}")).iter().map(|t| t["title"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_meeting_gathers_its_notes_and_follow_ups_and_deleting_it_keeps_them() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let event = s
        .ok(
            &a.write,
            "create_event",
            json!({"title": "Roadmap review", "start": "2030-03-04T10:00:00+01:00", "end": "2030-03-04T11:00:00+01:00",
                   "kind": "meeting", "attendees": ["bo@example.com"]}),
        )
        .await;
    let eid = event["id"].as_str().unwrap();

    let empty = s.ok(&a.read, "get_meeting", json!({"event_id": eid})).await;
    assert_eq!((empty["event"]["title"].as_str(), empty["notes"].as_array().map(Vec::len)), (Some("Roadmap review"), Some(0)));
    assert_eq!((empty["follow_ups"].as_array().map(Vec::len), empty["open_follow_ups"].as_u64()), (Some(0), Some(0)));

    // Notes: titled after the meeting unless a title is given; linked to the event.
    let note = s.ok(&a.write, "record_meeting_notes", json!({"event_id": eid, "body": "- ship v2 in April\n- Bo owns docs"})).await;
    assert_eq!((note["title"].as_str(), note["event_id"].as_str()), (Some("Notes: Roadmap review"), Some(eid)));
    let named =
        s.ok(&a.write, "record_meeting_notes", json!({"event_id": eid, "body": "later", "title": "Addendum", "tags": ["q2"]})).await;
    assert_eq!(named["tags"], json!(["q2"]));
    assert!(s.tool_error(&a.write, "record_meeting_notes", json!({"event_id": eid, "body": " "})).await.contains("body"));

    // Follow-ups: all or none; an invalid item names its place and nothing is made.
    let bad =
        s.tool_error(&a.write, "create_follow_ups", json!({"event_id": eid, "action_items": [{"title": "Docs"}, {"title": "  "}]})).await;
    assert!(bad.contains("action_items[1]") && bad.contains("No task was created"), "{bad}");
    assert_eq!(s.ok(&a.read, "list_tasks", json!({"event_id": eid})).await["tasks"], json!([]));
    let made = s
        .ok(
            &a.write,
            "create_follow_ups",
            json!({"event_id": eid, "action_items": [
                {"title": "Write the v2 docs", "assignee": "Bo", "due_date": "2030-03-20", "priority": "high"},
                {"title": "Book the launch room"}]}),
        )
        .await;
    assert_eq!((made["created"].as_u64(), made["event_id"].as_str()), (Some(2), Some(eid)));
    assert!(made["tasks"].as_array().unwrap().iter().all(|t| t["event_id"] == eid), "{made}");
    let room = made["tasks"][1]["id"].clone();
    s.ok(&a.write, "complete_task", json!({"id": room})).await;
    // A task made otherwise is no follow-up.
    s.ok(&a.write, "create_task", json!({"title": "Unrelated"})).await;

    let meeting = s.ok(&a.read, "get_meeting", json!({"event_id": eid})).await;
    assert_eq!(titles(&meeting["notes"]), ["Addendum", "Notes: Roadmap review"]);
    assert_eq!(titles(&meeting["follow_ups"]), ["Book the launch room", "Write the v2 docs"]);
    assert_eq!((meeting["open_follow_ups"].as_u64(), meeting["more_follow_ups"].as_bool()), (Some(1), Some(false)));
    // list_tasks filters by the meeting too (done ones left out unless asked).
    assert_eq!(titles(&s.ok(&a.read, "list_tasks", json!({"event_id": eid})).await["tasks"]), ["Write the v2 docs"]);

    // Deleting the event says what it unlinked; the notes and tasks stay, linked to nothing.
    let deleted = s.ok(&a.write, "delete_event", json!({"id": eid})).await;
    assert_eq!((deleted["notes_unlinked"].as_u64(), deleted["tasks_unlinked"].as_u64()), (Some(2), Some(2)), "{deleted}");
    let task = s.ok(&a.read, "get_task", json!({"id": made["tasks"][0]["id"]})).await;
    assert_eq!((task["title"].as_str(), &task["event_id"]), (Some("Write the v2 docs"), &Value::Null), "{task}");
    assert_eq!(s.ok(&a.read, "get_note", json!({"id": note["id"]})).await["event_id"], Value::Null);
    assert!(s.tool_error(&a.read, "get_meeting", json!({"event_id": eid})).await.contains("No event"));
    assert!(
        s.tool_error(&a.write, "create_follow_ups", json!({"event_id": eid, "action_items": [{"title": "x"}]})).await.contains("No event")
    );
}

#[tokio::test]
async fn another_users_meeting_does_not_exist_for_you_and_the_api_serves_meetings() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let event = s.ok(&a.write, "create_event", json!({"title": "1:1", "start": "2030-03-05T09:00:00Z", "kind": "meeting"})).await;
    let eid = event["id"].as_str().unwrap();
    s.ok(&a.write, "record_meeting_notes", json!({"event_id": eid, "body": "private"})).await;
    for (tool, args) in [
        ("get_meeting", json!({"event_id": eid})),
        ("record_meeting_notes", json!({"event_id": eid, "body": "intrusion"})),
        ("create_follow_ups", json!({"event_id": eid, "action_items": [{"title": "intrusion"}]})),
    ] {
        assert!(s.tool_error(&b.write, tool, args).await.contains("No event"), "{tool}");
    }
    // The HTTP API: the same operations at /events/{event_id}/meeting.
    let (status, follow) =
        api(&s, "POST", &format!("/events/{eid}/meeting/follow-ups"), &a.write, Some(json!({"action_items": [{"title": "Send recap"}]})))
            .await;
    assert_eq!(status, 201, "{follow}");
    let (status, notes) = api(&s, "POST", &format!("/events/{eid}/meeting/notes"), &a.write, Some(json!({"body": "recap sent"}))).await;
    assert_eq!((status, notes["event_id"].as_str()), (201, Some(eid)), "{notes}");
    let (status, meeting) = api(&s, "GET", &format!("/events/{eid}/meeting"), &a.read, None).await;
    assert_eq!((status, titles(&meeting["follow_ups"])), (200, vec!["Send recap"]), "{meeting}");
    assert_eq!(meeting["notes"].as_array().map(Vec::len), Some(2));
    let (status, _) = api(&s, "GET", &format!("/events/{eid}/meeting"), &b.read, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_meeting_follow_up_prompt_embeds_the_meeting_its_notes_and_follow_ups() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let event = s
        .ok(
            &a.write,
            "create_event",
            json!({"title": "Launch sync", "start": "2030-03-06T15:00:00Z", "kind": "meeting", "attendees": ["cy@example.com"]}),
        )
        .await;
    let eid = event["id"].as_str().unwrap();
    s.ok(&a.write, "record_meeting_notes", json!({"event_id": eid, "body": "Cy will email the press list"})).await;
    s.ok(
        &a.write,
        "create_follow_ups",
        json!({"event_id": eid, "action_items": [{"title": "Draft the press release", "assignee": "Ada"}]}),
    )
    .await;
    let prompts = s.rpc_ok(&a.read, "prompts/list", json!({})).await;
    let prompt = prompts["result"]["prompts"].as_array().unwrap().iter().find(|p| p["name"] == "meeting_follow_up").cloned();
    assert_eq!(prompt.as_ref().map(|p| p["arguments"][0]["required"].clone()), Some(json!(true)), "{prompts}");

    let got = s.rpc_ok(&a.read, "prompts/get", json!({"name": "meeting_follow_up", "arguments": {"event_id": eid}})).await;
    let text = got["result"]["messages"][0]["content"]["text"].as_str().unwrap_or_else(|| panic!("{got}"));
    for part in ["Launch sync", "cy@example.com", "Cy will email the press list", "Draft the press release", "create_follow_ups"] {
        assert!(text.contains(part), "{part}: {text}");
    }
    // Another user's event, or none: an invalid-params error, nothing of the meeting shown.
    for token in [&b.read, &a.read] {
        let event_id = if token == &b.read { eid.to_owned() } else { uuid::Uuid::now_v7().to_string() };
        let got = s.rpc_ok(token, "prompts/get", json!({"name": "meeting_follow_up", "arguments": {"event_id": event_id}})).await;
        assert_eq!(got["error"]["code"], -32602, "{got}");
        assert!(!got.to_string().contains("Launch sync"), "{got}");
    }
}

/// The "real client session": the official Python SDK does a day's work end to end, and
/// the database shows every step.
#[tokio::test]
async fn the_python_sdk_does_a_days_work_from_inbox_to_follow_ups() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    // Another user's venue, which the search must not find.
    s.ok(&b.write, "create_task", json!({"title": "Book a venue for Bob"})).await;
    let day = (chrono::Utc::now().date_naive() + chrono::Duration::days(3)).to_string();
    let seen = crate::sdk_clients::python_client("day_client.py", &[&s.url(crate::harness::MCP), &a.write, &day]).await;
    assert_eq!(seen["itemStatus"], "converted");
    // The meeting at 10:00–11:00 splits the working day.
    assert_eq!(
        seen["freeSlots"],
        json!([[format!("{day}T09:00:00Z"), format!("{day}T10:00:00Z")], [format!("{day}T11:00:00Z"), format!("{day}T17:00:00Z")]]),
        "{seen}"
    );
    // The search finds the note and the follow-up about the venue, and nothing of Bob's.
    let found: Vec<&Value> = seen["found"].as_array().unwrap().iter().collect();
    assert!(found.contains(&&json!(["note", seen["noteId"]])), "{seen}");
    assert!(found.contains(&&json!(["task", seen["followUpIds"][1]])), "{seen}");
    assert_eq!(found.len(), 2, "{seen}");
    // The summary counts the converted task and the two follow-ups, the note and the meeting.
    assert_eq!((seen["counts"]["tasks"]["total"].as_i64(), seen["counts"]["notes"].as_i64()), (Some(3), Some(1)), "{seen}");
    assert_eq!(seen["counts"]["events"].as_i64(), Some(1), "{seen}");
    assert_eq!(seen["meetingNotes"], json!([seen["noteId"]]));
    let mut follow_ups = seen["meetingFollowUps"].as_array().unwrap().clone();
    follow_ups.sort_by_key(|v| v.to_string());
    let mut made = seen["followUpIds"].as_array().unwrap().clone();
    made.sort_by_key(|v| v.to_string());
    assert_eq!(follow_ups, made);
    // And the database agrees: the converted task is due that day, high priority, no meeting's.
    let task = s.ok(&a.read, "get_task", json!({"id": seen["convertedTaskId"]})).await;
    assert_eq!((task["due_date"].as_str(), task["priority"].as_str()), (Some(day.as_str()), Some("high")));
    assert_eq!(task["event_id"], Value::Null);
}
