//! Row-level security on PostgreSQL, the second wall (migration 0016, `store::postgres`): a query
//! that forgets its user filter still reaches only the acting user's rows, and none when no one
//! is acting. (The rest of the suite, run on PostgreSQL, runs behind the same policies: the proof
//! that they let through everything the workspace does for its own user.) SQLite has no
//! row-level security; these tests skip without `NAVIS_TEST_POSTGRES`.
use navis::store::{
    acting_as,
    postgres::PostgresStore,
    sql::{Backend, Stmt},
};
use serde_json::{Value, json};
use sqlx::Connection;
use uuid::Uuid;

use crate::harness::{Account, POSTGRES_ROLE, TestServer, on_postgres};

/// The tables outside the policies by design: the auth tables, read before the caller is known
/// or for no workspace principal (six have a `user_id`), and the migrations' record.
const OUTSIDE: [&str; 13] = [
    "_sqlx_migrations",
    "api_keys",
    "audit_events",
    "idempotency_keys",
    // MCP sessions, checked before any workspace call (migration 0017, after the policies).
    "mcp_sessions",
    "oauth_clients",
    "oauth_codes",
    "oauth_grants",
    "oauth_tokens",
    "server_keys",
    "sign_in_failures",
    "users",
    "web_sessions",
];

/// The workspace tables `fill` puts rows in.
const FILLED: [&str; 15] = [
    "activity",
    "comments",
    "events",
    "goal_projects",
    "goal_tasks",
    "goals",
    "inbox_items",
    "note_tags",
    "notes",
    "project_tags",
    "projects",
    "search_documents",
    "tags",
    "task_tags",
    "tasks",
];

/// Something in every workspace table for this account: a tagged project, a tagged task in it
/// with a comment, a tagged note, an event, a goal linked to the project and the task, an inbox
/// item (and, by triggers, their search documents; by every change, activity).
async fn fill(s: &TestServer, who: &Account, name: &str) {
    let project = s.ok(&who.write, "create_project", json!({"name": format!("{name}'s project")})).await;
    s.ok(&who.write, "tag_item", json!({"item_type": "project", "item_id": project["id"], "name": "mine"})).await;
    let task =
        s.ok(&who.write, "create_task", json!({"title": format!("{name}'s task"), "project_id": project["id"], "tags": ["mine"]})).await;
    s.ok(&who.write, "add_comment", json!({"task_id": task["id"], "body": format!("{name}'s comment")})).await;
    s.ok(&who.write, "create_note", json!({"title": format!("{name}'s note"), "tags": ["mine"]})).await;
    s.ok(&who.write, "create_event", json!({"title": format!("{name}'s event"), "start": "2030-01-01T09:00:00Z"})).await;
    let goal = s.ok(&who.write, "create_goal", json!({"title": format!("{name}'s goal")})).await;
    for (kind, item) in [("project", &project), ("task", &task)] {
        s.ok(&who.write, "link_to_goal", json!({"goal_id": goal["id"], "item_type": kind, "item_id": item["id"]})).await;
    }
    s.ok(&who.write, "capture_to_inbox", json!({"text": format!("{name}'s idea")})).await;
}

/// Every table of the schema, from the catalogue: its name, and whether the policies guard it
/// (row-level security on, and forced).
async fn tables(s: &TestServer) -> Vec<(String, bool)> {
    let mut conn = sqlx::PgConnection::connect(&s.database_url).await.unwrap();
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT relname::text, relrowsecurity AND relforcerowsecurity FROM pg_class \
         WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows
}

/// The tables the policies guard.
async fn guarded_tables(s: &TestServer) -> Vec<String> {
    tables(s).await.into_iter().filter(|(_, guarded)| *guarded).map(|(t, _)| t).collect()
}

/// The store Navis serves with, as the suite's servers open it.
async fn store(s: &TestServer) -> PostgresStore {
    PostgresStore::open(&s.database_url, Some(POSTGRES_ROLE)).await.unwrap()
}

async fn titles(store: &PostgresStore, table: &str, column: &str) -> Vec<String> {
    let sql = format!("SELECT {column} AS t FROM {table} ORDER BY 1");
    store.fetch_all(Stmt::owned(sql), |r| r.text("t")).await.unwrap()
}

#[tokio::test]
async fn every_workspace_table_is_guarded_and_only_the_auth_tables_are_not() {
    if !on_postgres() {
        return eprintln!("skipped: row-level security is PostgreSQL's (set NAVIS_TEST_POSTGRES)");
    }
    let s = TestServer::start().await;
    let tables = tables(&s).await;
    let open: Vec<&str> = tables.iter().filter(|(_, guarded)| !guarded).map(|(t, _)| t.as_str()).collect();
    // A new table lands here: workspace data needs a `user_id` (0016's walk then guards it, or a
    // later migration must), an auth table goes in OUTSIDE with the reason in 0016's comment.
    assert_eq!(open, OUTSIDE, "tables outside the policies");
    let guarded = guarded_tables(&s).await;
    for table in FILLED {
        assert!(guarded.iter().any(|t| t == table), "{table} is guarded");
    }
}

#[tokio::test]
async fn a_query_that_forgets_the_user_filter_reaches_only_the_acting_users_rows() {
    if !on_postgres() {
        return eprintln!("skipped: row-level security is PostgreSQL's (set NAVIS_TEST_POSTGRES)");
    }
    let s = TestServer::start().await;
    let (ada, bob) = (s.account("ada@example.com").await, s.account("bob@example.com").await);
    fill(&s, &ada, "Ada").await;
    fill(&s, &bob, "Bob").await;
    let store = store(&s).await;

    // No filter at all: Ada sees her task, never Bob's.
    assert_eq!(acting_as(ada.id, titles(&store, "tasks", "title")).await, ["Ada's task"]);
    assert_eq!(acting_as(bob.id, titles(&store, "tasks", "title")).await, ["Bob's task"]);
    // And in every guarded table: rows exist for both, Ada's statement reaches only hers.
    let guarded = guarded_tables(&s).await;
    for table in &guarded {
        let users = acting_as(ada.id, titles(&store, table, "DISTINCT user_id::text")).await;
        assert!(users.iter().all(|u| *u == ada.id.to_string()), "{table}: Ada reaches {users:?}");
    }
    let mut admin = sqlx::PgConnection::connect(&s.database_url).await.unwrap();
    for table in FILLED {
        let owners: i64 = sqlx::query_scalar(&format!("SELECT count(DISTINCT user_id) FROM {table}")).fetch_one(&mut admin).await.unwrap();
        assert_eq!(owners, 2, "{table}: the fixture fills it for both users");
    }

    // Nobody acting (a statement made outside any principal's call): nothing, in every table.
    for table in &guarded {
        assert_eq!(titles(&store, table, "user_id::text").await, Vec::<String>::new(), "{table} with no one acting");
    }
    // Nor is a user's id left behind on a pooled connection for the next statement.
    acting_as(ada.id, titles(&store, "tasks", "title")).await;
    assert!(titles(&store, "tasks", "title").await.is_empty(), "the setting ends with its transaction");

    // Writes that forget the filter change only the acting user's rows…
    let renamed = acting_as(ada.id, store.execute(Stmt::new("UPDATE tasks SET title = 'renamed'"))).await.unwrap();
    assert_eq!(renamed, 1);
    assert_eq!(acting_as(bob.id, titles(&store, "tasks", "title")).await, ["Bob's task"]);
    assert_eq!(store.execute(Stmt::new("DELETE FROM notes")).await.unwrap(), 0, "no one acting deletes nothing");
    // …and cannot write a row for another user.
    let planted = Stmt::new(
        "INSERT INTO tags (id, user_id, name, name_key, color, created_at, updated_at) VALUES (?, ?, 'x', 'x', '#000000', now(), now())",
    )
    .bind(Uuid::now_v7())
    .bind(bob.id);
    let refused = acting_as(ada.id, store.execute(planted)).await.unwrap_err();
    assert!(refused.to_string().contains("row-level security"), "{refused}");

    // Through Navis itself, each still sees their whole workspace.
    let listed = s.ok(&bob.read, "search_workspace", json!({"query": "Bob"})).await;
    assert!(listed["results"].as_array().is_some_and(|r| r.len() >= 5), "{listed}");
    assert_eq!(s.ok(&bob.read, "list_notes", json!({})).await["notes"][0]["title"], "Bob's note");
}

#[tokio::test]
async fn deleting_an_account_still_empties_its_workspace() {
    if !on_postgres() {
        return eprintln!("skipped: row-level security is PostgreSQL's (set NAVIS_TEST_POSTGRES)");
    }
    let s = TestServer::start().await;
    let (ada, bob) = (s.account("ada@example.com").await, s.account("bob@example.com").await);
    fill(&s, &ada, "Ada").await;
    fill(&s, &bob, "Bob").await;
    // Account deletion acts for no workspace principal: the cascades from `users` are not
    // subject to the policies.
    let user = s.app.user_by_email("ada@example.com").await.unwrap();
    assert_eq!(s.app.delete_account(&user, "correct horse battery").await.unwrap(), navis::service::accounts::PasswordCheck::Right);
    let mut admin = sqlx::PgConnection::connect(&s.database_url).await.unwrap();
    for table in guarded_tables(&s).await {
        let left: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
            .bind(ada.id)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert_eq!(left, 0, "{table} keeps rows of a deleted user");
    }
    let bobs: Value = s.ok(&bob.read, "list_tasks", json!({})).await;
    assert_eq!(bobs["tasks"][0]["title"], "Bob's task");
}

#[tokio::test]
async fn navis_refuses_to_serve_as_a_role_that_bypasses_the_policies() {
    if !on_postgres() {
        return eprintln!("skipped: row-level security is PostgreSQL's (set NAVIS_TEST_POSTGRES)");
    }
    let s = TestServer::start().await;
    // The suite connects as a superuser: serving as that very role must be refused.
    let superuser = url::Url::parse(&s.database_url).unwrap().username().to_owned();
    let refused = PostgresStore::open(&s.database_url, Some(&superuser)).await.err().expect("a superuser role is refused");
    assert!(refused.to_string().contains("row-level security"), "{refused}");
}
