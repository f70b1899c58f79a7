//! Goals (progress derived from linked tasks and projects, links that go with what they join)
//! and `search_workspace` (ranked full-text search with snippets, per user, plain words only),
//! through MCP and through /api/v1.
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Options, TestServer};

/// One API request below /api/v1; returns (status, JSON body).
async fn api(s: &TestServer, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = s.http.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), s.url(&format!("/api/v1{path}")));
    req = req.header("Authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        req = req.header("Content-Type", "application/json").body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}")))
}

fn ids(list: &Value, key: &str) -> Vec<Value> {
    list[key].as_array().unwrap().iter().map(|x| x["id"].clone()).collect()
}

fn actions(activity: &Value) -> Vec<(String, String)> {
    activity["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["action"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn goals_are_created_listed_updated_and_deleted_with_clear_errors() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let mut made = Vec::new();
    for i in 0..5 {
        let g = s.ok(&a.write, "create_goal", json!({"title": format!("G{i}"), "target_date": "2027-06-30"})).await;
        assert_eq!(
            (g["status"].as_str(), g["progress"].as_u64(), g["progress_source"].as_str()),
            (Some("active"), Some(0), Some("manual"))
        );
        made.push(g["id"].clone());
    }
    // Newest first, paginated with an opaque cursor.
    let page1 = s.ok(&a.read, "list_goals", json!({"limit": 2})).await;
    assert_eq!(ids(&page1, "goals"), vec![made[4].clone(), made[3].clone()]);
    let page2 = s.ok(&a.read, "list_goals", json!({"limit": 2, "cursor": page1["next_cursor"]})).await;
    assert_eq!(ids(&page2, "goals"), vec![made[2].clone(), made[1].clone()]);
    let page3 = s.ok(&a.read, "list_goals", json!({"limit": 2, "cursor": page2["next_cursor"]})).await;
    assert_eq!(ids(&page3, "goals"), vec![made[0].clone()]);
    assert!(page3.get("next_cursor").is_none());

    // Partial update: what is left out stays, null clears the target date.
    let u =
        s.ok(&a.write, "update_goal", json!({"id": made[0], "description": "Run **10k**", "target_date": null, "progress": 40.0})).await;
    assert_eq!((u["title"].as_str(), u["description"].as_str()), (Some("G0"), Some("Run **10k**")));
    assert_eq!(u["target_date"], Value::Null);
    assert_eq!(u["progress"], 40);
    let achieved = s.ok(&a.write, "update_goal", json!({"id": made[1], "status": "achieved"})).await;
    assert_eq!(achieved["target_date"], "2027-06-30");
    s.ok(&a.write, "update_goal", json!({"id": made[2], "status": "abandoned"})).await;
    assert_eq!(ids(&s.ok(&a.read, "list_goals", json!({"status": "achieved"})).await, "goals"), vec![made[1].clone()]);
    assert_eq!(s.ok(&a.read, "list_goals", json!({"status": "active"})).await["goals"].as_array().unwrap().len(), 3);
    assert_eq!(s.ok(&a.read, "list_goals", json!({"limit": 100})).await["goals"].as_array().unwrap().len(), 5);

    let detail = s.ok(&a.read, "get_goal", json!({"id": made[0]})).await;
    assert_eq!((detail["progress"].as_u64(), detail["projects"].clone(), detail["tasks"].clone()), (Some(40), json!([]), json!([])));

    let cases = [
        ("create_goal", json!({"title": "  "}), "title must not be empty"),
        ("create_goal", json!({"title": "x", "progress": 101}), "progress must be between 0 and 100"),
        ("create_goal", json!({"title": "x", "progress": 4.5}), "progress must be a whole number"),
        ("create_goal", json!({"title": "x", "status": "done"}), "unknown variant `done`"),
        ("create_goal", json!({"title": "x", "target_date": "soon"}), "target_date"),
        ("create_goal", json!({"description": "no title"}), "missing field `title`"),
        ("update_goal", json!({"id": made[0], "progress": 250}), "progress must be between 0 and 100"),
        ("list_goals", json!({"limit": 0}), "limit must be between 1 and 100"),
        ("list_goals", json!({"cursor": "nope"}), "cursor is not valid"),
        ("get_goal", json!({"id": "not-a-uuid"}), "No goal with id not-a-uuid"),
        ("link_to_goal", json!({"goal_id": made[0], "item_type": "note", "item_id": made[1]}), "unknown variant `note`"),
        ("link_to_goal", json!({"goal_id": made[0], "item_type": "task", "item_id": made[1]}), "No task with id"),
    ];
    for (tool, args, expected) in cases {
        let err = s.tool_error(&a.write, tool, args.clone()).await;
        assert!(err.contains(expected), "{tool} {args}: {err}");
    }

    let deleted = s.ok(&a.write, "delete_goal", json!({"id": made[4]})).await;
    assert_eq!((deleted["deleted"].as_bool(), deleted["unlinked_tasks"].as_u64()), (Some(true), Some(0)));
    assert!(s.tool_error(&a.read, "get_goal", json!({"id": made[4]})).await.contains("No goal"));
    assert!(s.tool_error(&a.write, "delete_goal", json!({"id": made[4]})).await.contains("No goal"));

    let seen = actions(&s.ok(&a.read, "list_recent_activity", json!({"limit": 5})).await);
    let expected = [("goal", "deleted"), ("goal", "updated"), ("goal", "achieved"), ("goal", "updated"), ("goal", "created")];
    assert_eq!(seen, expected.map(|(t, a)| (t.to_owned(), a.to_owned())).to_vec());
}

#[tokio::test]
async fn progress_is_the_share_of_done_tasks_linked_directly_or_through_a_project() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let goal = s.ok(&a.write, "create_goal", json!({"title": "Launch v2", "progress": 30})).await;
    let g = goal["id"].clone();
    let loose = s.ok(&a.write, "create_task", json!({"title": "Press kit"})).await;
    let p = s.ok(&a.write, "create_project", json!({"name": "Website"})).await;
    let b = s.ok(&a.write, "create_task", json!({"title": "Landing page", "project_id": p["id"], "status": "done"})).await;
    let c = s.ok(&a.write, "create_task", json!({"title": "Pricing page", "project_id": p["id"]})).await;
    let progress = |v: &Value| {
        (v["progress"].as_u64().unwrap(), v["progress_source"].as_str().unwrap().to_owned(), v["tasks_total"].as_i64().unwrap())
    };
    let link = |item_type: &str, id: &Value, unlink: bool| json!({"goal_id": g, "item_type": item_type, "item_id": id, "unlink": unlink});

    // One linked task, not done: 0 %, from the tasks; the hand-set 30 no longer shows.
    let linked = s.ok(&a.write, "link_to_goal", link("task", &loose["id"], false)).await;
    assert_eq!((linked["linked"].as_bool(), linked["changed"].as_bool()), (Some(true), Some(true)));
    assert_eq!(progress(&linked["goal"]), (0, "tasks".into(), 1));
    // Linking again changes nothing (and records nothing).
    let again = s.ok(&a.write, "link_to_goal", link("task", &loose["id"], false)).await;
    assert_eq!(again["changed"], false);
    s.ok(&a.write, "complete_task", json!({"id": loose["id"]})).await;
    assert_eq!(progress(&s.ok(&a.read, "get_goal", json!({"id": g})).await), (100, "tasks".into(), 1));

    // A linked project's tasks count too: 2 of 3 done, rounded down.
    s.ok(&a.write, "link_to_goal", link("project", &p["id"], false)).await;
    assert_eq!(progress(&s.ok(&a.read, "get_goal", json!({"id": g})).await), (66, "tasks".into(), 3));
    // A task linked directly and through its project counts once.
    s.ok(&a.write, "link_to_goal", link("task", &c["id"], false)).await;
    let detail = s.ok(&a.read, "get_goal", json!({"id": g})).await;
    assert_eq!(progress(&detail), (66, "tasks".into(), 3));
    assert_eq!(detail["projects"], json!([{"id": p["id"], "name": "Website", "status": "active"}]));
    assert_eq!(
        detail["tasks"].as_array().unwrap().iter().map(|t| t["title"].clone()).collect::<Vec<_>>(),
        vec![json!("Press kit"), json!("Pricing page")]
    );
    // The list shows the same, never stale: a task's change shows at the next read.
    s.ok(&a.write, "update_task", json!({"id": c["id"], "status": "done"})).await;
    assert_eq!(progress(&s.ok(&a.read, "list_goals", json!({})).await["goals"][0]), (100, "tasks".into(), 3));
    s.ok(&a.write, "create_task", json!({"title": "Blog page", "project_id": p["id"]})).await;
    assert_eq!(progress(&s.ok(&a.read, "list_goals", json!({})).await["goals"][0]), (75, "tasks".into(), 4));

    // While tasks count, progress cannot be set by hand (409 over HTTP).
    let err = s.tool_error(&a.write, "update_goal", json!({"id": g, "progress": 10})).await;
    assert!(err.contains("cannot be set by hand") && err.contains("4 task(s)"), "{err}");
    let (status, body) = api(&s, "PATCH", &format!("/goals/{}", g.as_str().unwrap()), &a.write, Some(json!({"progress": 10}))).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")));

    // Deleting a linked task removes its link (and it stops counting); deleting the project too.
    s.ok(&a.write, "delete_task", json!({"id": c["id"]})).await;
    let detail = s.ok(&a.read, "get_goal", json!({"id": g})).await;
    assert_eq!(detail["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(progress(&detail), (66, "tasks".into(), 3));
    s.ok(&a.write, "delete_project", json!({"id": p["id"], "cascade": true})).await;
    let detail = s.ok(&a.read, "get_goal", json!({"id": g})).await;
    assert_eq!((detail["projects"].clone(), progress(&detail)), (json!([]), (100, "tasks".into(), 1)));
    let _ = b;

    // Unlinked from every task, the goal shows its hand-set progress again, which may change.
    let unlinked = s.ok(&a.write, "link_to_goal", link("task", &loose["id"], true)).await;
    assert_eq!((unlinked["linked"].as_bool(), unlinked["changed"].as_bool()), (Some(false), Some(true)));
    assert_eq!(progress(&unlinked["goal"]), (30, "manual".into(), 0));
    assert_eq!(s.ok(&a.write, "link_to_goal", link("task", &loose["id"], true)).await["changed"], false);
    assert_eq!(s.ok(&a.write, "update_goal", json!({"id": g, "progress": 55})).await["progress"], 55);

    let seen = actions(&s.ok(&a.read, "list_recent_activity", json!({"limit": 100})).await);
    let goal_actions: Vec<&str> = seen.iter().filter(|(t, _)| t == "goal").map(|(_, a)| a.as_str()).collect();
    assert_eq!(goal_actions, ["updated", "unlinked", "linked", "linked", "linked", "created"]);
}

#[tokio::test]
async fn deleting_a_goal_removes_its_links_in_one_go_and_says_so() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let g = s.ok(&a.write, "create_goal", json!({"title": "Ship"})).await["id"].clone();
    let p = s.ok(&a.write, "create_project", json!({"name": "Site"})).await;
    let t1 = s.ok(&a.write, "create_task", json!({"title": "One"})).await;
    let t2 = s.ok(&a.write, "create_task", json!({"title": "Two"})).await;
    for (kind, id) in [("project", &p["id"]), ("task", &t1["id"]), ("task", &t2["id"])] {
        s.ok(&a.write, "link_to_goal", json!({"goal_id": g, "item_type": kind, "item_id": id})).await;
    }
    let deleted = s.ok(&a.write, "delete_goal", json!({"id": g})).await;
    assert_eq!((deleted["unlinked_projects"].as_u64(), deleted["unlinked_tasks"].as_u64()), (Some(1), Some(2)));
    // What was linked stays.
    s.ok(&a.read, "get_project", json!({"id": p["id"]})).await;
    s.ok(&a.read, "get_task", json!({"id": t1["id"]})).await;
    assert!(
        s.tool_error(&a.write, "link_to_goal", json!({"goal_id": g, "item_type": "task", "item_id": t1["id"]})).await.contains("No goal")
    );

    // A delete whose activity cannot be recorded removes neither the goal nor its links.
    let g2 = s.ok(&a.write, "create_goal", json!({"title": "Keep"})).await["id"].clone();
    s.ok(&a.write, "link_to_goal", json!({"goal_id": g2, "item_type": "task", "item_id": t1["id"]})).await;
    s.trigger("activity", "INSERT", crate::harness::Trigger::Refuse).await;
    for (tool, args) in [
        ("delete_goal", json!({"id": g2})),
        ("link_to_goal", json!({"goal_id": g2, "item_type": "task", "item_id": t1["id"], "unlink": true})),
        ("update_goal", json!({"id": g2, "title": "Renamed"})),
        ("create_goal", json!({"title": "Twin"})),
    ] {
        let err = s.tool_error(&a.write, tool, args.clone()).await;
        assert!(err.contains("Nothing was changed"), "{tool}: {err}");
    }
    s.drop_trigger("activity").await;
    let kept = s.ok(&a.read, "get_goal", json!({"id": g2})).await;
    assert_eq!((kept["title"].as_str(), kept["tasks"].as_array().unwrap().len()), (Some("Keep"), 1));
}

#[tokio::test]
async fn another_users_goals_and_items_are_unknown_ids() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let ga = s.ok(&a.write, "create_goal", json!({"title": "Ada's goal"})).await["id"].as_str().unwrap().to_owned();
    let ta = s.ok(&a.write, "create_task", json!({"title": "Ada's task"})).await["id"].as_str().unwrap().to_owned();
    let pa = s.ok(&a.write, "create_project", json!({"name": "Ada's project"})).await["id"].as_str().unwrap().to_owned();
    let gb = s.ok(&b.write, "create_goal", json!({"title": "Bob's goal"})).await["id"].clone();
    let tb = s.ok(&b.write, "create_task", json!({"title": "Bob's task"})).await["id"].clone();
    // "ID" stands for the id under test.
    let cases = [
        ("get_goal", &ga, json!({"id": "ID"})),
        ("update_goal", &ga, json!({"id": "ID", "title": "pwned"})),
        ("delete_goal", &ga, json!({"id": "ID"})),
        ("link_to_goal", &ga, json!({"goal_id": "ID", "item_type": "task", "item_id": tb})),
        ("link_to_goal", &ta, json!({"goal_id": gb, "item_type": "task", "item_id": "ID"})),
        ("link_to_goal", &pa, json!({"goal_id": gb, "item_type": "project", "item_id": "ID"})),
    ];
    let fill = |template: &Value, id: &str| -> Value {
        serde_json::from_str(&template.to_string().replace("\"ID\"", &format!("\"{id}\""))).unwrap()
    };
    for (tool, foreign, template) in &cases {
        let unknown = Uuid::now_v7().to_string();
        let foreign_err = s.tool_error(&b.write, tool, fill(template, foreign)).await;
        let unknown_err = s.tool_error(&b.write, tool, fill(template, &unknown)).await;
        assert_eq!(foreign_err.replace(foreign.as_str(), "ID"), unknown_err.replace(&unknown, "ID"), "{tool}");
        assert!(foreign_err.contains("No "), "{tool}: {foreign_err}");
    }
    assert_eq!(ids(&s.ok(&b.read, "list_goals", json!({})).await, "goals"), vec![gb.clone()]);
    let ada_goal = s.ok(&a.read, "get_goal", json!({"id": ga})).await;
    assert_eq!((ada_goal["title"].as_str(), ada_goal["tasks"].as_array().unwrap().len()), (Some("Ada's goal"), 0));
    assert_eq!(s.ok(&b.read, "get_goal", json!({"id": gb})).await["tasks"], json!([]));
}

#[tokio::test]
async fn goals_over_http() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let resp = s
        .http
        .post(s.url("/api/v1/goals"))
        .header("Authorization", format!("Bearer {}", a.write))
        .header("Content-Type", "application/json")
        .body(json!({"title": "Read 20 books", "target_date": "2027-12-31"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let goal: Value = resp.json().await.unwrap();
    let id = goal["id"].as_str().unwrap().to_owned();
    assert!(location.ends_with(&format!("/api/v1/goals/{id}")), "{location}");
    let task = s.ok(&a.write, "create_task", json!({"title": "Book one"})).await;

    let (status, link) =
        api(&s, "POST", &format!("/goals/{id}/links"), &a.write, Some(json!({"item_type": "task", "item_id": task["id"]}))).await;
    assert_eq!((status, link["linked"].as_bool(), link["goal"]["tasks_total"].as_i64()), (200, Some(true), Some(1)));
    s.ok(&a.write, "complete_task", json!({"id": task["id"]})).await;
    let (status, got) = api(&s, "GET", &format!("/goals/{id}"), &a.read, None).await;
    assert_eq!((status, got["progress"].as_u64(), got["tasks"][0]["id"].clone()), (200, Some(100), task["id"].clone()));
    let (_, list) = api(&s, "GET", "/goals?status=active&limit=5", &a.read, None).await;
    assert_eq!(ids(&list, "goals"), vec![json!(id)]);
    let (status, _) = api(&s, "GET", "/goals?status=finished", &a.read, None).await;
    assert_eq!(status, 422);
    // Unlinking is the same route with `unlink: true`.
    let (status, unlinked) =
        api(&s, "POST", &format!("/goals/{id}/links"), &a.write, Some(json!({"item_type": "task", "item_id": task["id"], "unlink": true})))
            .await;
    assert_eq!((status, unlinked["linked"].as_bool(), unlinked["goal"]["progress_source"].as_str()), (200, Some(false), Some("manual")));
    let (status, patched) = api(&s, "PATCH", &format!("/goals/{id}"), &a.write, Some(json!({"target_date": null, "progress": 20}))).await;
    assert_eq!((status, patched["target_date"].clone(), patched["progress"].as_u64()), (200, Value::Null, Some(20)));
    let (status, deleted) = api(&s, "DELETE", &format!("/goals/{id}"), &a.write, None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));
    let (status, missing) = api(&s, "GET", &format!("/goals/{id}"), &a.read, None).await;
    assert_eq!((status, missing["error"].as_str()), (404, Some("not_found")));
}

/// The titles found for a query (with options), best first.
async fn found(s: &TestServer, token: &str, args: Value) -> Vec<(String, String)> {
    let r = s.ok(token, "search_workspace", args).await;
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["type"].as_str().unwrap().to_owned(), x["title"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test]
async fn search_finds_every_kind_of_item_ranked_with_marked_snippets() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let p = s.ok(&a.write, "create_project", json!({"name": "Kubernetes migration", "description": "Move the cluster before Q3."})).await;
    let t = s
        .ok(&a.write, "create_task", json!({"title": "Write the runbook", "description": "Cover the **kubernetes** upgrade and the rollback.", "project_id": p["id"]}))
        .await;
    let c = s.ok(&a.write, "add_comment", json!({"task_id": t["id"], "body": "The rollback needs a kubernetes expert."})).await;
    let g = s.ok(&a.write, "create_goal", json!({"title": "Café opening", "description": "Coffee for the whole floor"})).await;
    s.ok(&a.write, "create_task", json!({"title": "Unrelated chore"})).await;

    // The title match ranks above body matches; each kind is found; snippets mark the words.
    let r = s.ok(&a.read, "search_workspace", json!({"query": "kubernetes"})).await;
    let results = r["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{r}");
    assert_eq!((results[0]["type"].as_str(), results[0]["id"].clone()), (Some("project"), p["id"].clone()));
    assert!(results.iter().all(|x| x["snippet"].as_str().unwrap().to_lowercase().contains("**kubernetes**")), "{r}");
    assert!(results.windows(2).all(|w| w[0]["rank"].as_f64() >= w[1]["rank"].as_f64()), "{r}");
    let comment = results.iter().find(|x| x["type"] == "comment").unwrap();
    assert_eq!(
        (comment["id"].clone(), comment["task_id"].clone(), comment["title"].as_str()),
        (c["id"].clone(), t["id"].clone(), Some("Write the runbook"))
    );

    // Every word must match; a word matches the beginning of words; case and accents aside.
    assert_eq!(found(&s, &a.read, json!({"query": "rollback expert"})).await, pairs(&[("comment", "Write the runbook")]));
    assert_eq!(found(&s, &a.read, json!({"query": "KUBER"})).await.len(), 3);
    assert_eq!(found(&s, &a.read, json!({"query": "cafe"})).await, pairs(&[("goal", "Café opening")]));
    assert_eq!(found(&s, &a.read, json!({"query": "coffee floor"})).await, pairs(&[("goal", "Café opening")]));
    assert_eq!(found(&s, &a.read, json!({"query": "kubernetes zebra"})).await, pairs(&[]));
    let _ = g;

    // types narrows the kinds.
    assert_eq!(
        found(&s, &a.read, json!({"query": "rollback", "types": "task, comment"}))
            .await
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .len(),
        2
    );
    assert_eq!(found(&s, &a.read, json!({"query": "kubernetes", "types": "task"})).await, pairs(&[("task", "Write the runbook")]));
    assert!(s.tool_error(&a.read, "search_workspace", json!({"query": "x", "types": "tasks"})).await.contains("types must list"));
    assert!(s.tool_error(&a.read, "search_workspace", json!({"query": "   "})).await.contains("query must not be empty"));

    // The index follows every change: a rename, a deletion (with its comments).
    s.ok(&a.write, "update_task", json!({"id": t["id"], "title": "Write the playbook"})).await;
    assert_eq!(found(&s, &a.read, json!({"query": "runbook"})).await, pairs(&[]));
    assert_eq!(found(&s, &a.read, json!({"query": "playbook"})).await, pairs(&[("task", "Write the playbook")]));
    assert_eq!(found(&s, &a.read, json!({"query": "expert"})).await, pairs(&[("comment", "Write the playbook")]));
    s.ok(&a.write, "delete_project", json!({"id": p["id"], "cascade": true})).await;
    assert_eq!(found(&s, &a.read, json!({"query": "kubernetes"})).await, pairs(&[]));
    assert_eq!(found(&s, &a.read, json!({"query": "expert"})).await, pairs(&[]));
}

#[tokio::test]
async fn search_pages_through_results_with_a_cursor() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let tasks: Vec<Value> =
        (0..7).map(|i| json!({"title": format!("Invoice {i}"), "description": "quarterly invoice".repeat(i % 3 + 1)})).collect();
    s.ok(&a.write, "create_tasks", json!({"tasks": tasks})).await;
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut args = json!({"query": "invoice", "limit": 3});
        if !cursor.is_null() {
            args["cursor"] = cursor.clone();
        }
        let page = s.ok(&a.read, "search_workspace", args).await;
        seen.extend(ids(&page, "results"));
        match page.get("next_cursor") {
            Some(next) => cursor = next.clone(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let unique: std::collections::HashSet<String> = seen.iter().map(|v| v.to_string()).collect();
    assert_eq!(unique.len(), 7);
    // Over HTTP: GET /search, with the Link header to the next page.
    let resp = s.http.get(s.url("/api/v1/search?q=unused")).header("Authorization", format!("Bearer {}", a.read)).send().await.unwrap();
    assert_eq!(resp.status(), 400, "the parameter is `query`");
    let resp = s
        .http
        .get(s.url("/api/v1/search?query=invoice&types=task&limit=5"))
        .header("Authorization", format!("Bearer {}", a.read))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["link"].to_str().unwrap().contains("rel=\"next\""));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["results"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn search_never_returns_another_users_items() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    for acct in [&a, &b] {
        let p = s.ok(&acct.write, "create_project", json!({"name": "Shared secret roadmap"})).await;
        let t = s.ok(&acct.write, "create_task", json!({"title": "Secret roadmap review", "project_id": p["id"]})).await;
        s.ok(&acct.write, "add_comment", json!({"task_id": t["id"], "body": "secret roadmap notes"})).await;
        s.ok(&acct.write, "create_goal", json!({"title": "Roadmap secret goal"})).await;
    }
    let ada_ids: std::collections::HashSet<String> = {
        let mut all = Vec::new();
        for tool in ["list_projects", "list_tasks", "list_goals"] {
            let key = tool.trim_start_matches("list_");
            all.extend(ids(&s.ok(&a.read, tool, json!({})).await, key));
        }
        all.iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    for (who, other_ids) in [(&b, &ada_ids)] {
        for args in [
            json!({"query": "secret roadmap"}),
            json!({"query": "secret", "types": "comment,goal"}),
            json!({"query": "ROAD", "limit": 100}),
        ] {
            let r = s.ok(&who.read, "search_workspace", args.clone()).await;
            let results = r["results"].as_array().unwrap();
            assert!(!results.is_empty(), "{args}");
            for x in results {
                assert!(!other_ids.contains(x["id"].as_str().unwrap()), "{args}: Bob found Ada's {x}");
                if let Some(task) = x["task_id"].as_str() {
                    assert!(!other_ids.contains(task), "{x}");
                }
            }
        }
    }
    // Each finds exactly their own four.
    for acct in [&a, &b] {
        assert_eq!(found(&s, &acct.read, json!({"query": "secret roadmap"})).await.len(), 4);
        let (status, body) = api(&s, "GET", "/search?query=secret%20roadmap", &acct.read, None).await;
        assert_eq!((status, body["results"].as_array().unwrap().len()), (200, 4));
    }
}

#[tokio::test]
async fn hostile_query_syntax_is_only_words() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    s.ok(&a.write, "create_task", json!({"title": "Deploy the API", "description": "near the end of Q3; don't forget rollback"})).await;
    let hostile = [
        "\"deploy",
        "deploy\"",
        "\"\"",
        "*",
        "deploy*",
        "*deploy",
        "NEAR(deploy api)",
        "deploy NEAR api",
        "-deploy",
        "deploy -api",
        "((deploy",
        "deploy)",
        "deploy OR api",
        "deploy AND NOT api",
        "title:deploy",
        "{title body}: deploy",
        "^deploy",
        "deploy + api",
        "'; DROP TABLE tasks; --",
        "deploy & api | !x",
        "deploy:* <-> api",
        "don't",
        "\\",
        "%_%",
        "deploy\u{0}",
        "🦀 deploy",
        "ÅPI",
    ];
    for q in hostile {
        let r = s.tool(&a.read, "search_workspace", json!({"query": q})).await;
        if q.contains('\u{0}') {
            assert_eq!(r["isError"], true, "{q}: {r}");
            continue;
        }
        assert_eq!(r["isError"], false, "{q}: {r}");
    }
    // The words in them still count.
    for (q, n) in [
        ("\"deploy", 1),
        ("NEAR(deploy api)", 1),
        ("-deploy", 1),
        ("deploy OR zebra", 0),
        ("'; DROP TABLE tasks; --", 0),
        ("don't", 1),
        ("*", 0),
        ("ÅPI", 1),
    ] {
        assert_eq!(found(&s, &a.read, json!({"query": q})).await.len(), n, "{q}");
    }
    let (status, body) = api(&s, "GET", "/search?query=%22deploy%20NEAR(%2A", &a.read, None).await;
    assert_eq!((status, body["results"].as_array().unwrap().len()), (200, 1));
    assert_eq!(s.ok(&a.read, "list_tasks", json!({})).await["tasks"].as_array().unwrap().len(), 1);
}

/// A database from before search (migrations up to 0010) with rows in it: once Navis upgrades
/// it, search finds them.
#[tokio::test]
async fn an_upgraded_database_finds_its_old_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (url, folder) = match crate::harness::postgres_base() {
        None => (format!("sqlite://{}", dir.path().join("old.db").display()), "migrations/sqlite"),
        Some(base) => {
            use sqlx::Connection;
            let name = format!("navis_t_{}", Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
            let mut url = url::Url::parse(&base).unwrap();
            url.set_path(&name);
            (url.to_string(), "migrations/postgres")
        }
    };
    let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(folder)).await.unwrap();
    migrator.migrations = migrator.migrations.iter().filter(|m| m.version < 11).cloned().collect::<Vec<_>>().into();
    let (user, project, task, comment) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let now = "2027-01-15T08:00:00.000000Z";
    let rows = [
        format!("INSERT INTO users (id, email, password_hash, created_at) VALUES ('{user}', 'old@example.com', 'x', '{now}')"),
        format!(
            "INSERT INTO projects (id, user_id, name, description, status, created_at, updated_at) VALUES ('{project}', '{user}', 'Legacy archive', 'tape drives', 'active', '{now}', '{now}')"
        ),
        format!(
            "INSERT INTO tasks (id, user_id, project_id, title, description, status, priority, created_at, updated_at) VALUES ('{task}', '{user}', '{project}', 'Digitise tapes', 'before the archive closes', 'todo', 'medium', '{now}', '{now}')"
        ),
        format!(
            "INSERT INTO comments (id, user_id, task_id, body, created_at) VALUES ('{comment}', '{user}', '{task}', 'Found more tapes', '{now}')"
        ),
    ];
    if url.starts_with("sqlite") {
        use sqlx::Connection;
        let options: sqlx::sqlite::SqliteConnectOptions =
            url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
        migrator.run(&mut conn).await.unwrap();
        for row in &rows {
            sqlx::query(row).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    } else {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        migrator.run(&mut conn).await.unwrap();
        for row in &rows {
            sqlx::query(row).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    }
    let s = TestServer::start_with(Options { database_url: Some(url), ..Default::default() }).await;
    let token = s.key(user, navis::core::scope::Access::Read).await;
    let r = s.ok(&token, "search_workspace", json!({"query": "tape"})).await;
    let mut kinds: Vec<&str> = r["results"].as_array().unwrap().iter().map(|x| x["type"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["comment", "project", "task"], "{r}");
    assert_eq!(found(&s, &token, json!({"query": "archive"})).await.len(), 2);
}
