//! Two users: no tool or resource lets one read, change or detect the other's data by id.
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::TestServer;

/// The error B gets for A's id must read exactly like the error for an id that never existed.
async fn same_as_unknown(s: &TestServer, token: &str, tool: &str, foreign: &str, make: impl Fn(&str) -> Value) {
    let unknown = Uuid::now_v7().to_string();
    let foreign_err = s.tool_error(token, tool, make(foreign)).await;
    let unknown_err = s.tool_error(token, tool, make(&unknown)).await;
    assert_eq!(foreign_err.replace(foreign, "ID"), unknown_err.replace(&unknown, "ID"), "{tool} tells a foreign id from an unknown one");
    assert!(foreign_err.contains("No "), "{tool}: {foreign_err}");
}

#[tokio::test]
async fn no_tool_or_resource_crosses_between_users() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let today = s.clock_now().date_naive().to_string();
    let pa = s.ok(&a.write, "create_project", json!({"name": "Ada's secret project"})).await;
    let ta = s.ok(&a.write, "create_task", json!({"title": "Ada's secret task", "project_id": pa["id"], "due_date": today})).await;
    let pb = s.ok(&b.write, "create_project", json!({"name": "Bob's project"})).await;
    let tb = s.ok(&b.write, "create_task", json!({"title": "Bob's task", "project_id": pb["id"]})).await;
    let (pa_id, ta_id) = (pa["id"].as_str().unwrap().to_owned(), ta["id"].as_str().unwrap().to_owned());

    // Ids of Ada's, used by Bob, with a read and with a write key.
    same_as_unknown(&s, &b.read, "get_project", &pa_id, |id| json!({"id": id})).await;
    same_as_unknown(&s, &b.write, "update_project", &pa_id, |id| json!({"id": id, "name": "pwned"})).await;
    same_as_unknown(&s, &b.write, "update_project", &pa_id, |id| json!({"id": id, "status": "archived"})).await;
    same_as_unknown(&s, &b.write, "delete_project", &pa_id, |id| json!({"id": id, "cascade": true})).await;
    same_as_unknown(&s, &b.read, "list_tasks", &pa_id, |id| json!({"project_id": id})).await;
    same_as_unknown(&s, &b.write, "create_task", &pa_id, |id| json!({"title": "planted", "project_id": id})).await;
    same_as_unknown(&s, &b.write, "create_tasks", &pa_id, |id| json!({"tasks": [{"title": "planted", "project_id": id}]})).await;
    same_as_unknown(&s, &b.read, "get_task", &ta_id, |id| json!({"id": id})).await;
    same_as_unknown(&s, &b.write, "update_task", &ta_id, |id| json!({"id": id, "title": "pwned"})).await;
    same_as_unknown(&s, &b.write, "update_task", &pa_id, |id| json!({"id": tb["id"], "project_id": id})).await;
    same_as_unknown(&s, &b.write, "complete_task", &ta_id, |id| json!({"id": id})).await;
    same_as_unknown(&s, &b.write, "delete_task", &ta_id, |id| json!({"id": id})).await;
    same_as_unknown(&s, &b.read, "list_comments", &ta_id, |id| json!({"task_id": id})).await;
    same_as_unknown(&s, &b.write, "add_comment", &ta_id, |id| json!({"task_id": id, "body": "planted"})).await;
    // Notes and tags: Ada's note, her items to tag, her project to file a note in.
    let na = s.ok(&a.write, "create_note", json!({"title": "Ada's secret note", "project_id": pa_id, "tags": ["secret"]})).await;
    let nb = s.ok(&b.write, "create_note", json!({"title": "Bob's note"})).await;
    let na_id = na["id"].as_str().unwrap().to_owned();
    same_as_unknown(&s, &b.read, "get_note", &na_id, |id| json!({"id": id})).await;
    same_as_unknown(&s, &b.write, "update_note", &na_id, |id| json!({"id": id, "title": "pwned"})).await;
    same_as_unknown(&s, &b.write, "append_to_note", &na_id, |id| json!({"id": id, "text": "planted"})).await;
    same_as_unknown(&s, &b.write, "delete_note", &na_id, |id| json!({"id": id})).await;
    same_as_unknown(&s, &b.read, "list_notes", &pa_id, |id| json!({"project_id": id})).await;
    same_as_unknown(&s, &b.write, "create_note", &pa_id, |id| json!({"title": "planted", "project_id": id})).await;
    same_as_unknown(&s, &b.write, "update_note", &pa_id, |id| json!({"id": nb["id"], "project_id": id})).await;
    for (kind, id) in [("task", &ta_id), ("note", &na_id), ("project", &pa_id)] {
        same_as_unknown(&s, &b.write, "tag_item", id, |id| json!({"item_type": kind, "item_id": id, "name": "secret"})).await;
        same_as_unknown(&s, &b.write, "untag_item", id, |id| json!({"item_type": kind, "item_id": id, "name": "secret"})).await;
    }
    // Bob's tag of the same name is his own: it finds none of Ada's items, and counts none.
    s.ok(&b.write, "tag_item", json!({"item_type": "note", "item_id": nb["id"], "name": "SECRET"})).await;
    assert_eq!(s.ok(&b.read, "list_notes", json!({"tag": "secret"})).await["notes"].as_array().unwrap().len(), 1);
    assert_eq!(s.ok(&b.read, "list_tasks", json!({"tag": "secret"})).await["tasks"], json!([]));
    let tags = s.ok(&b.read, "list_tags", json!({})).await;
    assert_eq!((tags["tags"][0]["name"].as_str(), tags["tags"][0]["item_count"].as_i64()), (Some("SECRET"), Some(1)));
    assert_eq!(tags["tags"].as_array().unwrap().len(), 1, "{tags}");
    assert_eq!(s.ok(&b.read, "list_notes", json!({"text": "secret"})).await["notes"], json!([]));

    // Listings and resources show Bob only his own.
    let projects = s.ok(&b.read, "list_projects", json!({})).await;
    assert_eq!(projects["projects"].as_array().unwrap().len(), 1);
    assert_eq!(projects["projects"][0]["id"], pb["id"]);
    let tasks = s.ok(&b.read, "list_tasks", json!({"include_done": true})).await;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(tasks["tasks"][0]["id"], tb["id"]);
    let found = s.ok(&b.read, "list_tasks", json!({"text": "secret"})).await;
    assert_eq!(found["tasks"], json!([]));
    assert_eq!(s.ok(&b.read, "get_current_user", json!({})).await["email"], "bob@example.com");
    for uri in ["navis://projects/all", "navis://tasks/today"] {
        let r = s.rpc_ok(&b.read, "resources/read", json!({"uri": uri})).await;
        let text = r["result"]["contents"][0]["text"].as_str().unwrap();
        assert!(!text.contains(&pa_id) && !text.contains(&ta_id) && !text.contains("Ada"), "{uri}: {text}");
    }
    let foreign = s.rpc_ok(&b.read, "resources/read", json!({"uri": format!("navis://projects/{pa_id}/tasks")})).await;
    let unknown_id = Uuid::now_v7().to_string();
    let unknown = s.rpc_ok(&b.read, "resources/read", json!({"uri": format!("navis://projects/{unknown_id}/tasks")})).await;
    assert_eq!(foreign["error"]["code"], unknown["error"]["code"]);
    assert_eq!(
        foreign["error"]["message"].as_str().unwrap().replace(&pa_id, "ID"),
        unknown["error"]["message"].as_str().unwrap().replace(&unknown_id, "ID")
    );
    assert!(foreign.get("result").is_none(), "{foreign}");

    // Ada's data is exactly as she left it.
    let pa_now = s.ok(&a.read, "get_project", json!({"id": pa_id})).await;
    assert_eq!(pa_now["name"], "Ada's secret project");
    assert_eq!(pa_now["status"], "active");
    assert_eq!(pa_now["total_tasks"], 1);
    let na_now = s.ok(&a.read, "get_note", json!({"id": na_id})).await;
    assert_eq!(
        (na_now["title"].as_str(), na_now["body"].as_str(), na_now["tags"].clone()),
        (Some("Ada's secret note"), Some(""), json!(["secret"]))
    );
    let ada_tags = s.ok(&a.read, "list_tags", json!({})).await;
    assert_eq!((ada_tags["tags"][0]["name"].as_str(), ada_tags["tags"][0]["item_count"].as_i64()), (Some("secret"), Some(1)));
    let ta_now = s.ok(&a.read, "get_task", json!({"id": ta_id})).await;
    assert_eq!(ta_now["title"], "Ada's secret task");
    assert_eq!(ta_now["comments"], json!([]), "no comment was planted");
    assert_eq!(ta_now["status"], "todo");
    let today_a = s.rpc_ok(&a.read, "resources/read", json!({"uri": "navis://tasks/today"})).await;
    assert!(today_a["result"]["contents"][0]["text"].as_str().unwrap().contains(&ta_id));
}

/// Below the services, the schema itself refuses a row of one user that points at another's.
#[tokio::test]
async fn the_schema_lets_a_users_rows_point_only_at_that_users_rows() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let pb = s.ok(&b.write, "create_project", json!({"name": "Bob's project"})).await;
    let tb = s.ok(&b.write, "create_task", json!({"title": "Bob's task", "project_id": pb["id"]})).await;
    let (pb, tb) = (pb["id"].as_str().unwrap(), tb["id"].as_str().unwrap());
    let now = "2027-01-15T08:00:00.000000Z";
    let task_in = |user: Uuid, project: &str| {
        format!(
            "INSERT INTO tasks (id, user_id, project_id, title, status, priority, created_at, updated_at) \
             VALUES ('{}', '{user}', '{project}', 'planted', 'todo', 'medium', '{now}', '{now}')",
            Uuid::now_v7()
        )
    };
    let comment_on = |user: Uuid, task: &str| {
        format!(
            "INSERT INTO comments (id, user_id, task_id, body, created_at) VALUES ('{}', '{user}', '{task}', 'planted', '{now}')",
            Uuid::now_v7()
        )
    };
    // A tag of Ada's, to link (as Ada) to Bob's task, note and project.
    let note_of = |user: Uuid, project: &str| {
        format!(
            "INSERT INTO notes (id, user_id, project_id, title, created_at, updated_at) VALUES ('{}', '{user}', '{project}', 'planted', '{now}', '{now}')",
            Uuid::now_v7()
        )
    };
    let ta = s.ok(&a.write, "create_tag", json!({"name": "mine"})).await;
    let nb = s.ok(&b.write, "create_note", json!({"title": "Bob's note"})).await;
    let link = |table: &str, item: &str| {
        format!("INSERT INTO {table} (user_id, tag_id, item_id) VALUES ('{}', '{}', '{item}')", a.id, ta["id"].as_str().unwrap())
    };
    let nb = nb["id"].as_str().unwrap();
    for (what, sql) in [
        ("a task of Ada's in Bob's project", task_in(a.id, pb)),
        ("a comment of Ada's on Bob's task", comment_on(a.id, tb)),
        ("a note of Ada's in Bob's project", note_of(a.id, pb)),
        ("Ada's tag on Bob's task", link("task_tags", tb)),
        ("Ada's tag on Bob's note", link("note_tags", nb)),
        ("Ada's tag on Bob's project", link("project_tags", pb)),
    ] {
        match s.sql(&sql).await {
            Err(sqlx::Error::Database(e)) => assert_eq!(e.kind(), sqlx::error::ErrorKind::ForeignKeyViolation, "{what}: {e}"),
            other => panic!("{what} was not refused by a foreign key: {other:?}"),
        }
    }
    // The same rows owned by Bob are accepted: what is refused is the crossing, not the row.
    s.sql(&task_in(b.id, pb)).await.unwrap();
    s.sql(&comment_on(b.id, tb)).await.unwrap();
    s.sql(&note_of(b.id, pb)).await.unwrap();
    assert_eq!(s.ok(&a.read, "list_tasks", json!({"include_done": true})).await["tasks"], json!([]));
}
