//! Notes and tags: their tools through MCP, their routes through the HTTP API, how tags and the
//! items that carry them stay one truth, and what deleting an item or a project does to them.
use std::borrow::Cow;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Options, TestServer};

fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().unwrap_or_else(|| panic!("no {key} in {v}"))
}

fn ids(v: &Value, key: &str) -> Vec<Value> {
    list(v, key).iter().map(|item| item["id"].clone()).collect()
}

/// Each tag's name with how many items carry it.
async fn tag_counts(s: &TestServer, token: &str) -> Vec<(String, i64)> {
    let tags = s.ok(token, "list_tags", json!({"limit": 100})).await;
    list(&tags, "tags").iter().map(|t| (t["name"].as_str().unwrap().to_owned(), t["item_count"].as_i64().unwrap())).collect()
}

fn counts(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

#[tokio::test]
async fn notes_are_written_filtered_appended_and_deleted() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let project = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let event = s.ok(&a.write, "create_event", json!({"title": "Kickoff", "start": "2030-01-07T10:00:00Z"})).await;
    let event = event["id"].as_str().unwrap().to_owned();
    let kickoff = s
        .ok(
            &a.write,
            "create_note",
            json!({"title": "Kickoff", "body": "# Agenda\n\n- scope", "project_id": project["id"], "event_id": event, "tags": ["Meeting", "launch"]}),
        )
        .await;
    assert_eq!((kickoff["project_id"].clone(), kickoff["event_id"].as_str()), (project["id"].clone(), Some(event.as_str())));
    assert_eq!(kickoff["tags"], json!(["Meeting", "launch"]));
    let loose = s.ok(&a.write, "create_note", json!({"title": "Ideas"})).await;
    assert_eq!((loose["body"].as_str(), loose["project_id"].clone(), loose["tags"].clone()), (Some(""), Value::Null, json!([])));
    let recipe = s.ok(&a.write, "create_note", json!({"title": "Bread", "body": "Flour, 100% hydration", "tags": ["MEETING"]})).await;
    // A tag named in another case is the same tag, spelled as it was first.
    assert_eq!(recipe["tags"], json!(["Meeting"]));

    // Newest first, paginated; each filter narrows.
    let page1 = s.ok(&a.read, "list_notes", json!({"limit": 2})).await;
    assert_eq!(ids(&page1, "notes"), vec![recipe["id"].clone(), loose["id"].clone()]);
    let page2 = s.ok(&a.read, "list_notes", json!({"limit": 2, "cursor": page1["next_cursor"]})).await;
    assert_eq!(ids(&page2, "notes"), vec![kickoff["id"].clone()]);
    assert!(page2.get("next_cursor").is_none());
    let by = |args: Value| {
        let (s, token) = (&s, a.read.clone());
        async move { ids(&s.ok(&token, "list_notes", args).await, "notes") }
    };
    assert_eq!(by(json!({"project_id": project["id"]})).await, vec![kickoff["id"].clone()]);
    assert_eq!(by(json!({"event_id": event})).await, vec![kickoff["id"].clone()]);
    assert_eq!(by(json!({"event_id": Uuid::now_v7()})).await, Vec::<Value>::new());
    assert_eq!(by(json!({"tag": "meeting"})).await, vec![recipe["id"].clone(), kickoff["id"].clone()]);
    assert_eq!(by(json!({"tag": "LAUNCH"})).await, vec![kickoff["id"].clone()]);
    assert_eq!(by(json!({"tag": "nothing"})).await, Vec::<Value>::new());
    assert_eq!(by(json!({"text": "agenda"})).await, vec![kickoff["id"].clone()], "the body is searched");
    assert_eq!(by(json!({"text": "IDEAS"})).await, vec![loose["id"].clone()], "the title is searched");
    assert_eq!(by(json!({"text": "100%"})).await, vec![recipe["id"].clone()], "wildcards are text");
    assert_eq!(by(json!({"text": "%"})).await, vec![recipe["id"].clone()]);
    assert!(s.tool_error(&a.read, "list_notes", json!({"project_id": Uuid::now_v7()})).await.contains("No project"));
    assert!(s.tool_error(&a.read, "list_notes", json!({"event_id": "tomorrow"})).await.contains("No event"));

    // Append: after a blank line, whatever the body ends with; an empty body takes the text as is.
    let appended = s.ok(&a.write, "append_to_note", json!({"id": kickoff["id"], "text": "## Decisions\n\n- ship"})).await;
    assert_eq!(appended["body"], "# Agenda\n\n- scope\n\n## Decisions\n\n- ship");
    s.ok(&a.write, "update_note", json!({"id": loose["id"], "body": "first\n\n"})).await;
    assert_eq!(s.ok(&a.write, "append_to_note", json!({"id": loose["id"], "text": "second"})).await["body"], "first\n\nsecond");
    let bread = s.ok(&a.write, "update_note", json!({"id": recipe["id"], "body": ""})).await;
    assert_eq!(bread["body"], "");
    assert_eq!(s.ok(&a.write, "append_to_note", json!({"id": recipe["id"], "text": "Salt"})).await["body"], "Salt");
    assert!(s.tool_error(&a.write, "append_to_note", json!({"id": recipe["id"], "text": " \n"})).await.contains("text must not be empty"));
    let long = "x".repeat(60_000);
    s.ok(&a.write, "append_to_note", json!({"id": recipe["id"], "text": long})).await;
    let refused = s.tool_error(&a.write, "append_to_note", json!({"id": recipe["id"], "text": long})).await;
    assert!(refused.contains("100000"), "{refused}");
    assert_eq!(s.ok(&a.read, "get_note", json!({"id": recipe["id"]})).await["body"].as_str().unwrap().len(), 60_006, "unchanged");

    // Update is partial; null detaches from the project and the event; tags are replaced.
    let moved = s
        .ok(
            &a.write,
            "update_note",
            json!({"id": kickoff["id"], "title": "Kick-off", "project_id": null, "event_id": null, "tags": ["launch", "q3"]}),
        )
        .await;
    assert_eq!((moved["project_id"].clone(), moved["event_id"].clone()), (Value::Null, Value::Null));
    assert_eq!((moved["title"].as_str(), moved["tags"].clone()), (Some("Kick-off"), json!(["launch", "q3"])));
    assert_eq!(moved["body"], appended["body"], "a field left out keeps its value");
    let got = s.ok(&a.read, "get_note", json!({"id": kickoff["id"]})).await;
    let untimed = |v: &Value| json!([v["id"], v["title"], v["body"], v["project_id"], v["event_id"], v["tags"]]);
    assert_eq!(untimed(&got), untimed(&moved));
    assert!(s.tool_error(&a.write, "update_note", json!({"id": kickoff["id"], "title": " "})).await.contains("title must not be empty"));
    assert!(s.tool_error(&a.write, "update_note", json!({"id": kickoff["id"], "project_id": Uuid::now_v7()})).await.contains("No project"));

    // Deleting says which tags the note carried; the tags remain, carried by one item fewer.
    assert_eq!(tag_counts(&s, &a.read).await, counts(&[("launch", 1), ("Meeting", 1), ("q3", 1)]));
    let deleted = s.ok(&a.write, "delete_note", json!({"id": kickoff["id"]})).await;
    assert_eq!((deleted["deleted"].as_bool(), deleted["removed_tags"].clone()), (Some(true), json!(["launch", "q3"])));
    assert_eq!(tag_counts(&s, &a.read).await, counts(&[("launch", 0), ("Meeting", 1), ("q3", 0)]));
    assert!(s.tool_error(&a.read, "get_note", json!({"id": kickoff["id"]})).await.contains("No note"));
    assert!(s.tool_error(&a.write, "delete_note", json!({"id": kickoff["id"]})).await.contains("No note"));

    let actions: Vec<(String, String)> = list(&s.ok(&a.read, "list_recent_activity", json!({"limit": 5})).await, "activity")
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["action"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(actions[0], ("note".to_owned(), "deleted".to_owned()));
    assert_eq!(actions[1], ("note".to_owned(), "updated".to_owned()));
    assert_eq!(actions[2], ("note".to_owned(), "appended".to_owned()));
}

#[tokio::test]
async fn tags_are_one_truth_for_tasks_notes_and_projects() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let task = s.ok(&a.write, "create_task", json!({"title": "Write post", "tags": ["blog"]})).await;
    let other = s.ok(&a.write, "create_task", json!({"title": "Fix bug"})).await;
    let note = s.ok(&a.write, "create_note", json!({"title": "Outline"})).await;
    let project = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;

    // create_tag: a colour (default grey), names unique whatever their case.
    let urgent = s.ok(&a.write, "create_tag", json!({"name": "Urgent", "color": "#dc2626"})).await;
    assert_eq!((urgent["name"].as_str(), urgent["color"].as_str()), (Some("Urgent"), Some("#DC2626")));
    assert_eq!(s.ok(&a.write, "create_tag", json!({"name": "later"})).await["color"], "#6B7280");
    assert!(s.tool_error(&a.write, "create_tag", json!({"name": "URGENT"})).await.contains("already have a tag named"));
    assert!(s.tool_error(&a.write, "create_tag", json!({"name": "x", "color": "red"})).await.contains("color"));

    // tag_item: by name in any case; a new name makes the tag; a second time changes nothing.
    let tagged = s.ok(&a.write, "tag_item", json!({"item_type": "task", "item_id": task["id"], "name": "urgent"})).await;
    assert_eq!((tagged["added"].as_bool(), tagged["tag_created"].as_bool()), (Some(true), Some(false)));
    assert_eq!((tagged["tag"]["id"].clone(), tagged["tags"].clone()), (urgent["id"].clone(), json!(["blog", "Urgent"])));
    let again = s.ok(&a.write, "tag_item", json!({"item_type": "task", "item_id": task["id"], "name": "URGENT"})).await;
    assert_eq!((again["added"].as_bool(), again["tags"].clone()), (Some(false), json!(["blog", "Urgent"])));
    let made = s.ok(&a.write, "tag_item", json!({"item_type": "note", "item_id": note["id"], "name": "  Research "})).await;
    assert_eq!(
        (made["tag_created"].as_bool(), made["tag"]["name"].as_str(), made["tag"]["color"].as_str()),
        (Some(true), Some("Research"), Some("#6B7280"))
    );
    s.ok(&a.write, "tag_item", json!({"item_type": "note", "item_id": note["id"], "name": "urgent"})).await;
    let tagged_project = s.ok(&a.write, "tag_item", json!({"item_type": "project", "item_id": project["id"], "name": "Urgent"})).await;
    assert_eq!(tagged_project["tags"], json!(["Urgent"]));

    // Every face of an item shows the tags it carries, and the tag filters find it.
    assert_eq!(s.ok(&a.read, "get_task", json!({"id": task["id"]})).await["tags"], json!(["blog", "Urgent"]));
    assert_eq!(s.ok(&a.read, "get_note", json!({"id": note["id"]})).await["tags"], json!(["Research", "Urgent"]));
    assert_eq!(s.ok(&a.read, "get_project", json!({"id": project["id"]})).await["tags"], json!(["Urgent"]));
    assert_eq!(list(&s.ok(&a.read, "list_projects", json!({})).await, "projects")[0]["tags"], json!(["Urgent"]));
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"tag": "uRgEnT"})).await, "tasks"), vec![task["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_notes", json!({"tag": "Urgent"})).await, "notes"), vec![note["id"].clone()]);
    let listed = s.ok(&a.read, "list_tags", json!({})).await;
    let urgent_use = list(&listed, "tags").iter().find(|t| t["name"] == "Urgent").unwrap();
    assert_eq!(
        (
            urgent_use["item_count"].as_i64(),
            urgent_use["task_count"].as_i64(),
            urgent_use["note_count"].as_i64(),
            urgent_use["project_count"].as_i64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );

    // update_task's tags replace the task's links: new names make tags, dropped ones unlink.
    let updated = s.ok(&a.write, "update_task", json!({"id": task["id"], "tags": ["BLOG", "launch", "Launch"]})).await;
    assert_eq!(updated["tags"], json!(["blog", "launch"]), "spelled as the tags are, without repeats");
    assert_eq!(tag_counts(&s, &a.read).await, counts(&[("blog", 1), ("later", 0), ("launch", 1), ("Research", 1), ("Urgent", 2)]));
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"tag": "urgent"})).await, "tasks"), Vec::<Value>::new());
    // An update that leaves tags out leaves them, and so does completing.
    s.ok(&a.write, "update_task", json!({"id": task["id"], "title": "Write the post"})).await;
    assert_eq!(s.ok(&a.write, "complete_task", json!({"id": task["id"]})).await["tags"], json!(["blog", "launch"]));
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"tag": "launch", "include_done": true})).await, "tasks"), vec![task["id"].clone()]);

    // untag_item: a tag not on the item is a no-op that says so; the tag itself stays.
    let untagged = s.ok(&a.write, "untag_item", json!({"item_type": "note", "item_id": note["id"], "name": "URGENT"})).await;
    assert_eq!((untagged["removed"].as_bool(), untagged["tags"].clone()), (Some(true), json!(["Research"])));
    let absent = s.ok(&a.write, "untag_item", json!({"item_type": "note", "item_id": note["id"], "name": "urgent"})).await;
    assert_eq!((absent["removed"].as_bool(), absent["tags"].clone()), (Some(false), json!(["Research"])));
    let unknown = s.ok(&a.write, "untag_item", json!({"item_type": "task", "item_id": other["id"], "name": "no such tag"})).await;
    assert_eq!(unknown["removed"], false);
    assert!(
        s.tool_error(&a.write, "untag_item", json!({"item_type": "task", "item_id": note["id"], "name": "x"})).await.contains("No task")
    );
    assert!(
        s.tool_error(&a.write, "tag_item", json!({"item_type": "goal", "item_id": note["id"], "name": "x"}))
            .await
            .contains("unknown variant")
    );

    // At most 20 tags on an item; the 21st makes no tag either.
    for i in 0..20 {
        s.ok(&a.write, "tag_item", json!({"item_type": "task", "item_id": other["id"], "name": format!("t{i:02}")})).await;
    }
    let full = s.tool_error(&a.write, "tag_item", json!({"item_type": "task", "item_id": other["id"], "name": "one more"})).await;
    assert!(full.contains("20 tags"), "{full}");
    assert!(!tag_counts(&s, &a.read).await.iter().any(|(n, _)| n == "one more"));
    assert!(
        s.tool_error(&a.write, "update_task", json!({"id": other["id"], "tags": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()}))
            .await
            .contains("at most 20")
    );

    // list_tags: name order whatever the case, paginated.
    let mut names = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = s.ok(&a.read, "list_tags", json!({"limit": 7, "cursor": cursor})).await;
        names.extend(list(&page, "tags").iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        match page.get("next_cursor") {
            Some(next) => cursor = next.clone(),
            None => break,
        }
    }
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_ascii_lowercase());
    assert_eq!((names.len(), &names), (25, &sorted));

    // Deleting a task takes its links with it, and says which tags it carried.
    let deleted = s.ok(&a.write, "delete_task", json!({"id": task["id"]})).await;
    assert_eq!(deleted["removed_tags"], json!(["blog", "launch"]));
    let after = tag_counts(&s, &a.read).await;
    assert!(after.contains(&("blog".to_owned(), 0)) && after.contains(&("launch".to_owned(), 0)), "{after:?}");

    // Tagging is activity on the item.
    let activity = s.ok(&a.read, "list_recent_activity", json!({"limit": 100})).await;
    let tagged_note = list(&activity, "activity").iter().any(|e| e["type"] == "note" && e["action"] == "tagged" && e["title"] == "Outline");
    let untagged_note = list(&activity, "activity").iter().any(|e| e["type"] == "note" && e["action"] == "untagged");
    let created_tag = list(&activity, "activity").iter().any(|e| e["type"] == "tag" && e["action"] == "created" && e["title"] == "Urgent");
    assert!(tagged_note && untagged_note && created_tag, "{activity}");
    // A no-op (already tagged, not tagged) records nothing.
    assert_eq!(list(&activity, "activity").iter().filter(|e| e["id"] == task["id"] && e["action"] == "tagged").count(), 1);
}

#[tokio::test]
async fn deleting_a_project_detaches_its_notes_and_unlinks_what_it_deletes() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let project = s.ok(&a.write, "create_project", json!({"name": "Launch"})).await;
    let note = s.ok(&a.write, "create_note", json!({"title": "Plan", "project_id": project["id"], "tags": ["plan"]})).await;
    let elsewhere = s.ok(&a.write, "create_project", json!({"name": "Other"})).await;
    let kept = s.ok(&a.write, "create_note", json!({"title": "Other plan", "project_id": elsewhere["id"]})).await;
    s.ok(&a.write, "tag_item", json!({"item_type": "project", "item_id": project["id"], "name": "big"})).await;
    s.ok(&a.write, "create_task", json!({"title": "Step", "project_id": project["id"], "tags": ["step"]})).await;

    // Refused (it has a task): nothing changes, the note stays in the project.
    assert!(s.tool_error(&a.write, "delete_project", json!({"id": project["id"]})).await.contains("cascade"));
    assert_eq!(s.ok(&a.read, "get_note", json!({"id": note["id"]})).await["project_id"], project["id"]);

    s.clock.advance(chrono::Duration::minutes(5));
    let deleted = s.ok(&a.write, "delete_project", json!({"id": project["id"], "cascade": true})).await;
    assert_eq!(
        (deleted["deleted_tasks"].as_i64(), deleted["detached_notes"].as_u64(), deleted["removed_tags"].clone()),
        (Some(1), Some(1), json!(["big"]))
    );
    let detached = s.ok(&a.read, "get_note", json!({"id": note["id"]})).await;
    assert_eq!((detached["project_id"].clone(), detached["tags"].clone()), (Value::Null, json!(["plan"])));
    assert_ne!(detached["updated_at"], note["updated_at"], "detaching is a change of the note");
    assert_eq!(s.ok(&a.read, "get_note", json!({"id": kept["id"]})).await["project_id"], elsewhere["id"]);
    // The project's and its task's tag links went with them; the tags stay.
    assert_eq!(tag_counts(&s, &a.read).await, counts(&[("big", 0), ("plan", 1), ("step", 0)]));

    // A project with notes and no tasks needs no cascade.
    let solo = s.ok(&a.write, "create_project", json!({"name": "Solo"})).await;
    s.ok(&a.write, "update_note", json!({"id": note["id"], "project_id": solo["id"]})).await;
    assert_eq!(s.ok(&a.write, "delete_project", json!({"id": solo["id"]})).await["detached_notes"], 1);

    // Deleting the user deletes everything, notes in projects and tags included.
    assert!(s.app.store.delete_user(a.id).await.unwrap());
    assert!(s.app.store.note(a.id, note["id"].as_str().unwrap().parse().unwrap()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_note_is_about_one_of_the_users_events_and_deleting_the_event_unlinks_it() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let event = s.ok(&a.write, "create_event", json!({"title": "Standup", "start": "2030-01-07T09:00:00Z"})).await;
    let bobs = s.ok(&b.write, "create_event", json!({"title": "Bob's", "start": "2030-01-07T09:00:00Z"})).await;

    // An unknown, another user's or a malformed event id is a bad event_id (422 over HTTP), and nothing is made.
    for bad in [json!(Uuid::now_v7()), bobs["id"].clone(), json!("tomorrow")] {
        let r = s.tool(&a.write, "create_note", json!({"title": "Minutes", "event_id": bad})).await;
        assert_eq!(r["isError"], true, "{r}");
        assert!(r["content"][0]["text"].as_str().unwrap().contains("No event"), "{r}");
    }
    assert_eq!(list(&s.ok(&a.read, "list_notes", json!({})).await, "notes").len(), 0);

    let minutes = s.ok(&a.write, "create_note", json!({"title": "Minutes", "event_id": event["id"]})).await;
    let other = s.ok(&a.write, "create_note", json!({"title": "Other"})).await;
    assert!(s.tool_error(&a.write, "update_note", json!({"id": other["id"], "event_id": bobs["id"]})).await.contains("No event"));
    // Bob deleting his event touches none of Ada's notes; Ada deleting hers unlinks its notes.
    s.ok(&b.write, "delete_event", json!({"id": bobs["id"]})).await;
    assert_eq!(s.ok(&a.read, "get_note", json!({"id": minutes["id"]})).await["event_id"], event["id"]);
    s.clock.advance(chrono::Duration::minutes(5));
    s.ok(&a.write, "delete_event", json!({"id": event["id"]})).await;
    let unlinked = s.ok(&a.read, "get_note", json!({"id": minutes["id"]})).await;
    assert_eq!(unlinked["event_id"], Value::Null);
    assert_ne!(unlinked["updated_at"], minutes["updated_at"], "unlinking is a change of the note");
    assert_eq!(list(&s.ok(&a.read, "list_notes", json!({"event_id": event["id"]})).await, "notes").len(), 0);
}

#[tokio::test]
async fn concurrent_taggings_and_appends_all_land() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let task = s.ok(&a.write, "create_task", json!({"title": "Busy"})).await;
    let note = s.ok(&a.write, "create_note", json!({"title": "Log"})).await;
    let mut running = Vec::new();
    for i in 0..8 {
        let (url, token, http) = (s.url(crate::harness::MCP), a.write.clone(), s.http.clone());
        let (task_id, note_id) = (task["id"].clone(), note["id"].clone());
        running.push(tokio::spawn(async move {
            for (name, args) in [
                ("tag_item", json!({"item_type": "task", "item_id": task_id, "name": format!("t{i}")})),
                // Everyone also makes the one shared tag at once.
                ("tag_item", json!({"item_type": "note", "item_id": note_id, "name": "shared"})),
                ("append_to_note", json!({"id": note_id, "text": format!("line {i}")})),
            ] {
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}});
                let req = http.post(&url).header("Authorization", format!("Bearer {token}")).header("Content-Type", "application/json");
                let resp: Value = req.body(body.to_string()).send().await.unwrap().json().await.unwrap();
                assert_eq!(resp["result"]["isError"], false, "{resp}");
            }
        }));
    }
    for r in running {
        r.await.unwrap();
    }
    let got = s.ok(&a.read, "get_task", json!({"id": task["id"]})).await;
    let mut tags: Vec<String> = got["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    tags.sort();
    assert_eq!(tags, (0..8).map(|i| format!("t{i}")).collect::<Vec<_>>());
    for i in 0..8 {
        assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({"tag": format!("T{i}")})).await, "tasks"), vec![task["id"].clone()]);
    }
    let log = s.ok(&a.read, "get_note", json!({"id": note["id"]})).await;
    assert_eq!(log["tags"], json!(["shared"]));
    let body = log["body"].as_str().unwrap();
    assert_eq!(body.split("\n\n").count(), 8, "{body}");
    assert!((0..8).all(|i| body.contains(&format!("line {i}"))), "{body}");
    let tags = tag_counts(&s, &a.read).await;
    assert_eq!(tags.iter().filter(|(n, _)| n == "shared").collect::<Vec<_>>(), vec![&("shared".to_owned(), 1)]);
}

/// One API request; returns status and JSON body.
pub(crate) async fn api(s: &TestServer, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = s.http.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), s.url(&format!("/api/v1{path}")));
    req = req.header("Authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        req = req.header("Content-Type", "application/json").body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_http_api_has_notes_and_tags_each_item_at_its_own_tags() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let resp = s
        .http
        .post(s.url("/api/v1/notes"))
        .header("Authorization", format!("Bearer {}", a.write))
        .header("Content-Type", "application/json")
        .body(json!({"title": "Minutes", "tags": ["to/do"]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let note: Value = resp.json().await.unwrap();
    let nid = note["id"].as_str().unwrap().to_owned();
    assert_eq!(location, s.url(&format!("/api/v1/notes/{nid}")));

    let (status, appended) = api(&s, "POST", &format!("/notes/{nid}/append"), &a.write, Some(json!({"text": "- done"}))).await;
    assert_eq!((status, appended["body"].as_str()), (200, Some("- done")));
    let (status, refused) = api(&s, "PATCH", &format!("/notes/{nid}"), &a.write, Some(json!({"event_id": Uuid::now_v7()}))).await;
    assert_eq!((status, refused["field"].as_str()), (422, Some("event_id")), "an unknown event is a bad field");
    let event = s.ok(&a.write, "create_event", json!({"title": "Review", "start": "2030-01-07T10:00:00Z"})).await;
    let (status, patched) = api(&s, "PATCH", &format!("/notes/{nid}"), &a.write, Some(json!({"event_id": event["id"]}))).await;
    assert_eq!((status, patched["body"].as_str(), patched["event_id"].clone()), (200, Some("- done"), event["id"].clone()));
    let (status, listed) = api(&s, "GET", "/notes?tag=TO%2FDO", &a.read, None).await;
    assert_eq!((status, ids(&listed, "notes")), (200, vec![note["id"].clone()]));

    // Tags live at the item, as labels do at GitHub's issues: POST …/tags, DELETE …/tags/{name}.
    let task = s.ok(&a.write, "create_task", json!({"title": "T"})).await;
    let tid = task["id"].as_str().unwrap();
    let (status, tagged) = api(&s, "POST", &format!("/tasks/{tid}/tags"), &a.write, Some(json!({"name": "Blog"}))).await;
    assert_eq!((status, tagged["item_type"].as_str(), tagged["tags"].clone()), (200, Some("task"), json!(["Blog"])));
    let (status, refused) = api(&s, "POST", &format!("/tasks/{tid}/tags"), &a.write, Some(json!({"name": "x", "item_type": "note"}))).await;
    assert_eq!((status, refused["field"].as_str()), (422, Some("item_type")), "the route says what the item is");
    let (status, _) = api(&s, "POST", &format!("/projects/{tid}/tags"), &a.write, Some(json!({"name": "x"}))).await;
    assert_eq!(status, 404, "a task's id is no project's");
    let (status, untagged) = api(&s, "DELETE", &format!("/notes/{nid}/tags/To%2Fdo"), &a.write, None).await;
    assert_eq!((status, untagged["removed"].as_bool(), untagged["tags"].clone()), (200, Some(true), json!([])));
    let (status, again) = api(&s, "DELETE", &format!("/notes/{nid}/tags/to%2Fdo"), &a.write, None).await;
    assert_eq!((status, again["removed"].as_bool()), (200, Some(false)));

    let (status, created) = api(&s, "POST", "/tags", &a.write, Some(json!({"name": "Later", "color": "#00aa00"}))).await;
    assert_eq!((status, created["color"].as_str()), (201, Some("#00AA00")));
    let (status, conflict) = api(&s, "POST", "/tags", &a.write, Some(json!({"name": "blog"}))).await;
    assert_eq!((status, conflict["error"].as_str()), (409, Some("conflict")));
    let (status, tags) = api(&s, "GET", "/tags", &a.read, None).await;
    let names: Vec<&str> = list(&tags, "tags").iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!((status, names), (200, vec!["Blog", "Later", "to/do"]));
    let (status, deleted) = api(&s, "DELETE", &format!("/notes/{nid}"), &a.write, None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));

    // The document names each route's fixed item_type in its summary, and keeps it out of the body.
    let doc: Value = s.http.get(s.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let tag_note = &doc["paths"]["/notes/{item_id}/tags"]["post"];
    assert_eq!((tag_note["operationId"].as_str(), tag_note["summary"].as_str()), (Some("tag_note"), Some("Tag an item: note")));
    let body = &tag_note["requestBody"]["content"]["application/json"]["schema"];
    assert!(body["properties"].get("item_type").is_none() && body["properties"].get("item_id").is_none(), "{body}");
    assert_eq!(body["required"], json!(["name"]));
    let untag_task = &doc["paths"]["/tasks/{item_id}/tags/{name}"]["delete"];
    assert_eq!(untag_task["operationId"], "untag_item");
    let params: Vec<&str> = untag_task["parameters"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(params, ["item_id", "name"]);
}

/// A database that was at migration 0008 with tags written on tasks: migrating turns them into tags.
#[tokio::test]
async fn existing_task_tags_become_tags_when_the_database_is_migrated() {
    use sqlx::migrate::Migrator;
    let dir = tempfile::tempdir().unwrap();
    let url = crate::harness::fresh_database(&dir).await;
    let (folder, user, t1, t2) =
        (if crate::harness::on_postgres() { "postgres" } else { "sqlite" }, Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut migrator = Migrator::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder)).await.unwrap();
    migrator.migrations = Cow::Owned(migrator.migrations.iter().filter(|m| m.version <= 8).cloned().collect());
    let now = "2027-01-15T08:00:00.000000Z";
    let rows = format!(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ('{user}', 'ada@example.com', 'x', '{now}');
         INSERT INTO tasks (id, user_id, title, status, priority, tags, created_at, updated_at) VALUES
           ('{t1}', '{user}', 'One', 'todo', 'low', '[\"Blog\", \"urgent\", \"URGENT\"]', '{now}', '{now}'),
           ('{t2}', '{user}', 'Two', 'todo', 'low', '[\"urgent\"]', '{now}', '{now}');"
    );
    if crate::harness::on_postgres() {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        migrator.run(&pool).await.unwrap();
        sqlx::raw_sql(&rows).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let options = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        migrator.run(&pool).await.unwrap();
        sqlx::raw_sql(&rows).execute(&pool).await.unwrap();
        pool.close().await;
    }

    let s = TestServer::start_with(Options { database_url: Some(url), ..Default::default() }).await;
    let key = s.key(user, navis::core::scope::Access::Write).await;
    assert_eq!(s.ok(&key, "get_task", json!({"id": t1})).await["tags"], json!(["Blog", "URGENT"]));
    assert_eq!(s.ok(&key, "get_task", json!({"id": t2})).await["tags"], json!(["URGENT"]));
    assert_eq!(tag_counts(&s, &key).await, counts(&[("Blog", 1), ("URGENT", 2)]));
    assert_eq!(ids(&s.ok(&key, "list_tasks", json!({"tag": "urgent"})).await, "tasks").len(), 2);
    // They are tags like any other: tagging by name finds them.
    let tagged = s.ok(&key, "tag_item", json!({"item_type": "task", "item_id": t2, "name": "blog"})).await;
    assert_eq!((tagged["tag_created"].as_bool(), tagged["tags"].clone()), (Some(false), json!(["URGENT", "Blog"])));
}
