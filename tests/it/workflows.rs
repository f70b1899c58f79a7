//! Workflows: created with their steps checked, run with placeholders filled in, stopped at the
//! first failing step with what came before kept, refused when disabled, runs listed; one user's
//! workflows invisible to another; through MCP and the HTTP API.
use serde_json::{Value, json};
use uuid::Uuid;

use crate::calendar::at;
use crate::harness::TestServer;
use crate::notes::api;

fn ids(list: &Value, key: &str) -> Vec<Value> {
    list[key].as_array().unwrap_or_else(|| panic!("no {key} in {list}")).iter().map(|i| i["id"].clone()).collect()
}

fn statuses(run: &Value) -> Vec<String> {
    run["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_workflow_runs_its_steps_with_the_input_and_the_last_task_filled_in() {
    let s = TestServer::start().await;
    s.clock.set(at("2030-01-10T12:00:00Z"));
    let a = s.account("ada@example.com").await;
    let project = s.ok(&a.write, "create_project", json!({"name": "Blog"})).await;
    let steps = json!([
        {"action": "create_task", "title": "Write {{input.topic}}", "description": "For {{ input.who }}", "priority": "high",
         "due_in_days": 2, "project_id": "{{input.project}}"},
        {"action": "update_task", "task_id": "{{lastTask.id}}", "status": "in_progress"},
        {"action": "create_note", "title": "Notes: {{lastTask.title}}", "body": "Task {{lastTask.id}}"}
    ]);
    let workflow = s.ok(&a.write, "create_workflow", json!({"name": "New post", "description": "A post", "steps": steps})).await;
    assert_eq!((workflow["enabled"].as_bool(), workflow["steps"].clone()), (Some(true), steps));
    let listed = s.ok(&a.read, "list_workflows", json!({})).await;
    assert_eq!(ids(&listed, "workflows"), vec![workflow["id"].clone()]);

    let input = json!({"topic": "the launch", "who": "Bo", "project": project["id"]});
    let run = s.ok(&a.write, "run_workflow", json!({"workflow_id": workflow["id"], "input": input})).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(statuses(&run), ["ok", "ok", "ok"]);
    assert!(run.get("failed_step").is_none(), "{run}");
    assert_eq!(run["input"], input);
    let task_id = run["steps"][0]["item_id"].clone();
    assert_eq!((run["steps"][1]["item_type"].as_str(), run["steps"][1]["item_id"].clone()), (Some("task"), task_id.clone()));
    let note_id = run["steps"][2]["item_id"].clone();
    assert_eq!(run["made"], json!([{"type": "task", "id": task_id}, {"type": "note", "id": note_id}]));
    assert!(run["summary"].as_str().unwrap().starts_with("All 3 steps succeeded"), "{run}");

    // The steps went through the tasks' and notes' own tools: the task was made and then updated.
    let task = s.ok(&a.read, "get_task", json!({"id": task_id})).await;
    assert_eq!(
        (task["title"].as_str(), task["description"].as_str(), task["priority"].as_str(), task["status"].as_str()),
        (Some("Write the launch"), Some("For Bo"), Some("high"), Some("in_progress"))
    );
    assert_eq!((task["due_date"].as_str(), task["project_id"].clone()), (Some("2030-01-12"), project["id"].clone()));
    let note = s.ok(&a.read, "get_note", json!({"id": note_id})).await;
    assert_eq!(note["title"], "Notes: Write the launch");
    assert_eq!(note["body"], format!("Task {}", task_id.as_str().unwrap()));

    // Every change is in the activity feed: the workflow's making and run, and each step's change.
    let activity = s.ok(&a.read, "list_recent_activity", json!({"limit": 10})).await;
    let changes: Vec<(String, String)> = activity["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["action"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [("workflow", "ran"), ("note", "created"), ("task", "updated"), ("task", "created"), ("workflow", "created")];
    assert_eq!(changes[..5], expected.map(|(t, a)| (t.to_owned(), a.to_owned())), "{changes:?}");

    // The run is recorded.
    let runs = s.ok(&a.read, "list_workflow_runs", json!({"workflow_id": workflow["id"]})).await;
    assert_eq!(runs["runs"], json!([run]));
    // The export holds the workflow and its run.
    let export = s.ok(&a.read, "export_workspace", json!({})).await;
    assert_eq!((export["workflows"].clone(), export["workflow_runs"].clone()), (json!([workflow]), json!([run])));
}

#[tokio::test]
async fn steps_are_checked_when_the_workflow_is_saved() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let task = json!({"action": "create_task", "title": "x"});
    let create = |steps: Value| json!({"name": "W", "steps": steps});
    for (steps, says) in [
        (json!([{"action": "create_task", "title": "Hi {{name}}"}]), "steps[0].title"),
        (json!([task, {"action": "create_note", "title": "n", "body": "{{input.a"}]), "steps[1].body"),
        (json!([{"action": "update_task", "task_id": "{{lastTask.id}}", "status": "done"}]), "earlier"),
        (json!([{"action": "update_task", "task_id": "task-1", "status": "done"}]), "steps[0].task_id"),
        (json!([task, {"action": "update_task", "task_id": "{{lastTask.id}}"}]), "status or priority"),
        (json!([{"action": "delete_everything"}]), "action"),
        (json!([]), "steps"),
        (Value::Array(vec![task.clone(); 21]), "20"),
    ] {
        let message = s.tool_error(&a.write, "create_workflow", create(steps.clone())).await;
        assert!(message.contains(says), "{steps}: {message}");
    }
    // Twenty steps are allowed.
    s.ok(&a.write, "create_workflow", create(Value::Array(vec![task; 20]))).await;
    assert_eq!(s.ok(&a.read, "list_workflows", json!({})).await["workflows"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_run_stops_at_the_first_failing_step_and_keeps_what_came_before() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let missing = Uuid::now_v7();
    let steps = json!([
        {"action": "create_task", "title": "First"},
        {"action": "update_task", "task_id": missing, "status": "done"},
        {"action": "create_note", "title": "Never"}
    ]);
    let workflow = s.ok(&a.write, "create_workflow", json!({"name": "Breaks", "steps": steps})).await;
    let run = s.ok(&a.write, "run_workflow", json!({"workflow_id": workflow["id"]})).await;
    assert_eq!((run["status"].as_str(), run["failed_step"].as_u64()), (Some("failed"), Some(2)), "{run}");
    assert_eq!(statuses(&run), ["ok", "failed", "not_run"]);
    let error = run["steps"][1]["error"].as_str().unwrap();
    assert!(error.contains(&format!("No task with id {missing}")), "{error}");
    let first = run["steps"][0]["item_id"].clone();
    assert_eq!(run["made"], json!([{"type": "task", "id": first}]));
    let summary = run["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("Step 2 of 3 failed") && summary.contains("which is kept") && summary.contains("Step 3 was not run"),
        "{summary}"
    );
    // Step 1's task is kept; step 3's note was never made.
    assert_eq!(ids(&s.ok(&a.read, "list_tasks", json!({})).await, "tasks"), vec![first]);
    assert_eq!(s.ok(&a.read, "list_notes", json!({})).await["notes"], json!([]));

    // A missing input fails its step with a clear reason, and nothing is made.
    let needs = s
        .ok(&a.write, "create_workflow", json!({"name": "Needs", "steps": [{"action": "create_note", "title": "About {{input.topic}}"}]}))
        .await;
    let run = s.ok(&a.write, "run_workflow", json!({"workflow_id": needs["id"], "input": {"other": "x"}})).await;
    assert_eq!((run["status"].as_str(), run["failed_step"].as_u64()), (Some("failed"), Some(1)));
    assert!(run["steps"][0]["error"].as_str().unwrap().contains("`topic` is missing"), "{run}");
    assert_eq!((run["made"].clone(), s.ok(&a.read, "list_notes", json!({})).await["notes"].clone()), (json!([]), json!([])));
    // A step's own checks apply after filling in: create_task refuses a blank title.
    let blank =
        s.ok(&a.write, "create_workflow", json!({"name": "Blank", "steps": [{"action": "create_task", "title": "{{input.t}}"}]})).await;
    let run = s.ok(&a.write, "run_workflow", json!({"workflow_id": blank["id"], "input": {"t": "  "}})).await;
    assert_eq!(run["steps"][0]["error"], "title must not be empty.", "{run}");
    // Input that could never fill a placeholder is refused before anything runs.
    for input in [json!({"bad name": "x"}), json!({"topic": "a\u{0}b"})] {
        assert!(s.tool_error(&a.write, "run_workflow", json!({"workflow_id": needs["id"], "input": input})).await.contains("input"));
    }
    assert_eq!(s.ok(&a.read, "list_workflow_runs", json!({"workflow_id": needs["id"]})).await["runs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_disabled_workflow_refuses_to_run_and_records_nothing() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let steps = json!([{"action": "create_task", "title": "Water the plants"}]);
    let off = s.ok(&a.write, "create_workflow", json!({"name": "Off", "enabled": false, "steps": steps})).await;
    let on = s.ok(&a.write, "create_workflow", json!({"name": "On", "steps": steps})).await;
    assert!(s.tool_error(&a.write, "run_workflow", json!({"workflow_id": off["id"]})).await.contains("disabled"));
    assert_eq!(s.ok(&a.read, "list_workflow_runs", json!({"workflow_id": off["id"]})).await["runs"], json!([]));
    assert_eq!(s.ok(&a.read, "list_tasks", json!({})).await["tasks"], json!([]));
    assert_eq!(ids(&s.ok(&a.read, "list_workflows", json!({"enabled": false})).await, "workflows"), vec![off["id"].clone()]);
    assert_eq!(ids(&s.ok(&a.read, "list_workflows", json!({"enabled": true})).await, "workflows"), vec![on["id"].clone()]);
    // Enabled again (over HTTP, the one way to change a workflow), it runs.
    let id = off["id"].as_str().unwrap();
    let (status, enabled) = api(&s, "PATCH", &format!("/workflows/{id}"), &a.write, Some(json!({"enabled": true}))).await;
    assert_eq!((status, enabled["enabled"].as_bool()), (200, Some(true)));
    assert_eq!(s.ok(&a.write, "run_workflow", json!({"workflow_id": off["id"]})).await["status"], "succeeded");
}

#[tokio::test]
async fn another_user_can_neither_see_nor_run_a_workflow_nor_touch_its_owners_tasks() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let adas_task = s.ok(&a.write, "create_task", json!({"title": "Ada's"})).await;
    let adas = s.ok(&a.write, "create_workflow", json!({"name": "Ada's", "steps": [{"action": "create_task", "title": "x"}]})).await;
    s.ok(&a.write, "run_workflow", json!({"workflow_id": adas["id"]})).await;

    assert_eq!(s.ok(&b.read, "list_workflows", json!({})).await["workflows"], json!([]));
    for (tool, token) in [("run_workflow", &b.write), ("list_workflow_runs", &b.read)] {
        let message = s.tool_error(token, tool, json!({"workflow_id": adas["id"]})).await;
        assert_eq!(message, format!("No workflow with id {} exists in this workspace.", adas["id"].as_str().unwrap()), "{tool}");
    }
    // Bob's own workflow cannot reach Ada's task, nor put a task in her project.
    let adas_project = s.ok(&a.write, "create_project", json!({"name": "Ada's"})).await;
    let bobs = s
        .ok(
            &b.write,
            "create_workflow",
            json!({"name": "Sneaky", "steps": [
                {"action": "update_task", "task_id": adas_task["id"], "status": "done"},
            ]}),
        )
        .await;
    let run = s.ok(&b.write, "run_workflow", json!({"workflow_id": bobs["id"]})).await;
    assert_eq!(run["status"], "failed");
    assert!(run["steps"][0]["error"].as_str().unwrap().contains("No task with id"), "{run}");
    let into = s
        .ok(
            &b.write,
            "create_workflow",
            json!({"name": "Into", "steps": [{"action": "create_task", "title": "x", "project_id": "{{input.p}}"}]}),
        )
        .await;
    let run = s.ok(&b.write, "run_workflow", json!({"workflow_id": into["id"], "input": {"p": adas_project["id"]}})).await;
    assert!(run["steps"][0]["error"].as_str().unwrap().contains("No project with id"), "{run}");
    assert_eq!(s.ok(&a.read, "get_task", json!({"id": adas_task["id"]})).await["status"], "todo");
    assert_eq!(s.ok(&a.read, "list_tasks", json!({"project_id": adas_project["id"]})).await["tasks"], json!([]));
    // Running needs mcp:write: a read key gets the 403 of every write tool.
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "run_workflow", "arguments": {"workflow_id": adas["id"]}}});
    assert_eq!(s.rpc(Some(&a.read), call).await.status(), 403);
    assert_eq!(s.ok(&a.read, "list_workflow_runs", json!({"workflow_id": adas["id"]})).await["runs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn runs_are_listed_newest_first_a_page_at_a_time() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let workflow =
        s.ok(&a.write, "create_workflow", json!({"name": "Daily", "steps": [{"action": "create_note", "title": "{{input.day}}"}]})).await;
    let mut runs = Vec::new();
    for day in ["mon", "tue", "wed"] {
        runs.push(s.ok(&a.write, "run_workflow", json!({"workflow_id": workflow["id"], "input": {"day": day}})).await["id"].clone());
    }
    let page1 = s.ok(&a.read, "list_workflow_runs", json!({"workflow_id": workflow["id"], "limit": 2})).await;
    assert_eq!(ids(&page1, "runs"), vec![runs[2].clone(), runs[1].clone()]);
    let page2 =
        s.ok(&a.read, "list_workflow_runs", json!({"workflow_id": workflow["id"], "limit": 2, "cursor": page1["next_cursor"]})).await;
    assert_eq!(ids(&page2, "runs"), vec![runs[0].clone()]);
    assert!(page2.get("next_cursor").is_none());
    assert_eq!(page2["runs"][0]["input"], json!({"day": "mon"}));
}

#[tokio::test]
async fn the_http_api_has_workflows() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let body = json!({"name": "Standup", "steps": [{"action": "create_task", "title": "Standup with {{input.team}}", "due_in_days": 0}]});
    let (status, workflow) = api(&s, "POST", "/workflows", &a.write, Some(body.clone())).await;
    assert_eq!(status, 201, "{workflow}");
    let id = workflow["id"].as_str().unwrap().to_owned();
    let (status, listed) = api(&s, "GET", "/workflows?enabled=true", &a.read, None).await;
    assert_eq!((status, ids(&listed, "workflows")), (200, vec![workflow["id"].clone()]));
    let (status, run) = api(&s, "POST", &format!("/workflows/{id}/runs"), &a.write, Some(json!({"input": {"team": "core"}}))).await;
    assert_eq!((status, run["status"].as_str()), (201, Some("succeeded")), "{run}");
    let (status, runs) = api(&s, "GET", &format!("/workflows/{id}/runs?limit=1"), &a.read, None).await;
    assert_eq!((status, ids(&runs, "runs")), (200, vec![run["id"].clone()]));
    let (status, refused) =
        api(&s, "POST", "/workflows", &a.write, Some(json!({"name": "Bad", "steps": [{"action": "create_note", "title": "{{x}}"}]}))).await;
    assert_eq!((status, refused["field"].as_str()), (422, Some("steps[0].title")));
    let (status, _) = api(&s, "PATCH", &format!("/workflows/{id}"), &a.write, Some(json!({"enabled": false}))).await;
    assert_eq!(status, 200);
    let (status, conflict) = api(&s, "POST", &format!("/workflows/{id}/runs"), &a.write, Some(json!({}))).await;
    assert_eq!((status, conflict["error"].as_str()), (409, Some("conflict")));
    let (status, _) = api(&s, "POST", &format!("/workflows/{}/runs", Uuid::now_v7()), &a.write, Some(json!({}))).await;
    assert_eq!(status, 404);
    let (status, _) = api(&s, "POST", "/workflows", &a.read, Some(body)).await;
    assert_eq!(status, 403, "creating needs mcp:write");
    // The four tools, truthfully annotated (a run makes things each time); changing a workflow is HTTP only.
    let tools = s.rpc_ok(&a.read, "tools/list", json!({})).await["result"]["tools"].as_array().unwrap().clone();
    let hints = |name: &str| {
        let tool = tools.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name}"));
        let a = &tool["annotations"];
        (a["readOnlyHint"].as_bool(), a["destructiveHint"].as_bool(), a["idempotentHint"].as_bool())
    };
    assert_eq!(hints("run_workflow"), (Some(false), Some(false), Some(false)));
    assert_eq!(hints("create_workflow"), (Some(false), Some(false), Some(false)));
    assert_eq!(hints("list_workflows").0, Some(true));
    assert_eq!(hints("list_workflow_runs").0, Some(true));
    assert!(!tools.iter().any(|t| t["name"] == "update_workflow"));
}
