//! The benchmark of the hot path: authenticated `tools/call list_tasks` (20 of 10,000 tasks,
//! SQLite), the seed's sessionless single POST, against a release `navis serve` pinned to one
//! core, from a load generator pinned to the other. Loopback only; it stops by itself.
//!
//! Run it with `scripts/bench.sh` (which builds both in release mode and pins the cores).
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

struct Args {
    navis: String,
    seconds: u64,
    connections: usize,
    tasks: usize,
    server_core: Option<String>,
    /// `list_tasks` (the benchmark), `ping` (authentication and transport alone), `tools_list`
    /// (a large response without a query), `list_tasks_1` (the query with one row).
    request: String,
    /// Tasks of other users in the database besides the benchmark user's own (`scripts/bench-scale.sh`).
    other_tasks: usize,
    /// API keys of other users in the database besides the benchmark user's one.
    other_keys: usize,
}

fn args() -> Args {
    let mut a = Args {
        navis: "target/release/navis".into(),
        seconds: 10,
        connections: 32,
        tasks: 10_000,
        server_core: Some("0".into()),
        request: "list_tasks".into(),
        other_tasks: 0,
        other_keys: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--navis" => a.navis = value,
            "--seconds" => a.seconds = value.parse().unwrap_or(10),
            "--connections" => a.connections = value.parse().unwrap_or(32),
            "--tasks" => a.tasks = value.parse().unwrap_or(10_000),
            "--server-core" => a.server_core = (value != "none").then_some(value),
            "--request" => a.request = value,
            "--other-tasks" => a.other_tasks = value.parse().unwrap_or(0),
            "--other-keys" => a.other_keys = value.parse().unwrap_or(0),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

async fn post(sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>, port: u16, token: &str, body: Bytes) -> (u16, Bytes) {
    let req = Request::post("/mcp")
        .header("host", format!("127.0.0.1:{port}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(body))
        .unwrap();
    let resp = sender.send_request(req).await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.into_body().collect().await.expect("body").to_bytes())
}

async fn connect(port: u16) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    stream.set_nodelay(true).ok();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    sender
}

/// Other users' rows, written straight into the database before the server starts: 1,000 users
/// sharing `tasks` tasks (a fifth of each status) and `keys` API keys. The benchmark user's
/// requests should cost the same whatever else the tables hold.
fn add_others(db: &str, tasks: usize, keys: usize) {
    let mut conn = rusqlite::Connection::open(db).expect("the database");
    let tx = conn.transaction().unwrap();
    let users: Vec<String> = (0..1000).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let now = "2026-11-30T00:00:00.000000Z";
    for (i, user) in users.iter().enumerate() {
        tx.execute(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (?1, ?2, 'x', ?3)",
            (user, format!("other{i}@example.com"), now),
        )
        .unwrap();
    }
    let statuses = ["backlog", "todo", "in_progress", "in_review", "done"];
    {
        let mut insert = tx
            .prepare("INSERT INTO tasks (id, user_id, title, status, priority, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'medium', ?5, ?5)")
            .unwrap();
        for i in 0..tasks {
            insert
                .execute((uuid::Uuid::now_v7().to_string(), &users[i % users.len()], format!("Other task {i}"), statuses[i % 5], now))
                .unwrap();
        }
        let mut insert = tx
            .prepare("INSERT INTO api_keys (id, user_id, name, scope, digest, created_at) VALUES (?1, ?2, 'other', 'mcp:read', ?3, ?4)")
            .unwrap();
        for i in 0..keys {
            let id: String = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
            insert.execute((id, &users[i % users.len()], uuid::Uuid::new_v4().as_bytes().repeat(2), now)).unwrap();
        }
    }
    tx.commit().unwrap();
}

fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data = dir.path().to_str().unwrap().to_owned();
    let cli = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = Command::new(&a.navis)
            .args(args)
            .args(["--data-dir", &data])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("navis runs");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap().trim().to_owned()
    };
    cli(&["user", "create", "--email", "bench@example.com", "--password-stdin"], "a long benchmark password\n");
    let token = cli(&["key", "create", "--user", "bench@example.com", "--name", "bench", "--scope", "write"], "");
    if a.other_tasks > 0 || a.other_keys > 0 {
        add_others(&format!("{data}/navis.db"), a.other_tasks, a.other_keys);
    }

    let mut server = match &a.server_core {
        Some(core) => Command::new("taskset")
            .args(["-c", core, &a.navis, "serve"])
            .args(["--data-dir", &data, "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .spawn(),
        None => Command::new(&a.navis)
            .args(["serve", "--data-dir", &data, "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .spawn(),
    }
    .expect("server starts");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result = rt.block_on(async {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Seed: a project and `tasks` tasks, 50 per call.
        let mut s = connect(port).await;
        let (_, body) = post(&mut s, port, &token, Bytes::from(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_project","arguments":{"name":"Bench"}}}"#)).await;
        let project: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let project_id = project["result"]["structuredContent"]["id"].as_str().unwrap().to_owned();
        for batch in 0..a.tasks.div_ceil(50) {
            let tasks: Vec<serde_json::Value> = (0..50).map(|i| serde_json::json!({"title": format!("Task {}", batch * 50 + i), "project_id": project_id, "priority": "medium"})).collect();
            let body = serde_json::json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_tasks","arguments":{"tasks": tasks}}});
            let (status, _) = post(&mut s, port, &token, Bytes::from(body.to_string())).await;
            assert_eq!(status, 200);
        }

        let request = Bytes::from(match a.request.as_str() {
            "ping" => r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
            "tools_list" => r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
            "list_tasks_1" => r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_tasks","arguments":{"limit":1}}}"#,
            _ => r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_tasks","arguments":{"limit":20}}}"#,
        });
        let run = |duration: Duration| {
            let (token, request) = (token.clone(), request.clone());
            async move {
                let deadline = Instant::now() + duration;
                let mut workers = Vec::new();
                for _ in 0..a.connections {
                    let (token, request) = (token.clone(), request.clone());
                    workers.push(tokio::spawn(async move {
                        let mut sender = connect(port).await;
                        let mut latencies = Vec::with_capacity(100_000);
                        let mut errors = 0u64;
                        while Instant::now() < deadline {
                            let started = Instant::now();
                            let (status, body) = post(&mut sender, port, &token, request.clone()).await;
                            if status != 200 || body.len() < 30 {
                                errors += 1;
                            }
                            latencies.push(started.elapsed());
                        }
                        (latencies, errors)
                    }));
                }
                let mut all = Vec::new();
                let mut errors = 0;
                for w in workers {
                    let (l, e) = w.await.unwrap();
                    all.extend(l);
                    errors += e;
                }
                (all, errors)
            }
        };
        run(Duration::from_secs(2)).await; // warm-up
        let started = Instant::now();
        let (mut latencies, errors) = run(Duration::from_secs(a.seconds)).await;
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0;
        (latencies.len() as f64 / elapsed, pct(0.5), pct(0.99), latencies.len(), errors)
    });
    server.kill().ok();
    server.wait().ok();
    let (rps, p50, p99, n, errors) = result;
    println!("| {} | {} | {rps:.0} | {p50:.2} | {p99:.2} | {n} | {errors} |", a.request, a.connections);
    if errors > 0 {
        std::process::exit(1);
    }
}
