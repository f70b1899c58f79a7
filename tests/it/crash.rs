//! `kill -9` during writes: after a restart every acknowledged write is there and every
//! acknowledged revocation still holds (the embedded SQLite database; a process crash).
use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};

use crate::harness::{MCP, on_postgres};

fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_navis"))
        .args(args)
        .env("NAVIS_DATA_DIR", dir)
        .env_remove("NAVIS_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "navis {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn serve(dir: &std::path::Path, port: u16) -> tokio::process::Child {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_navis"))
        .arg("serve")
        .env("NAVIS_DATA_DIR", dir)
        .env("NAVIS_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("NAVIS_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.is_ok_and(|r| r.status() == 200) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("navis serve did not become ready");
}

async fn call(http: &reqwest::Client, port: u16, token: &str, name: &str, args: Value) -> Option<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}});
    let resp = http
        .post(format!("http://127.0.0.1:{port}{MCP}"))
        .header("Authorization", format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .ok()?;
    if resp.status() != 200 {
        return None;
    }
    let v: Value = resp.json().await.ok()?;
    (v["result"]["isError"] == false).then(|| v["result"]["structuredContent"].clone())
}

#[tokio::test]
async fn a_crash_loses_no_acknowledged_write_or_revocation() {
    if on_postgres() {
        return; // The embedded database's durability; PostgreSQL's is PostgreSQL's.
    }
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let d = dir.path();
    cli(d, &["user", "create", "--email", "ada@example.com"]);
    let writer = cli(d, &["key", "create", "--user", "ada@example.com", "--name", "writer", "--scope", "write"]);
    let doomed: Vec<String> = (0..6)
        .map(|i| cli(d, &["key", "create", "--user", "ada@example.com", "--name", &format!("doomed {i}"), "--scope", "read"]))
        .collect();

    let mut server = serve(d, port).await;
    let http = reqwest::Client::new();
    // Writers create tasks as fast as they can; a title counts once its call was answered.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (http, writer, acknowledged, stop) = (http.clone(), writer.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let title = format!("w{w}-{n}");
                if call(&http, port, &writer, "create_task", json!({"title": title})).await.is_some() {
                    acknowledged.lock().unwrap().push(title);
                }
                n += 1;
            }
        }));
    }
    // Meanwhile, revocations with the admin CLI, acknowledged when it exits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut revoked = Vec::new();
    for token in &doomed[..3] {
        cli(d, &["key", "revoke", "--user", "ada@example.com", &token[..21]]);
        revoked.push(token.clone());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The crash: no shutdown, no flush.
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 10, "the load made writes before the crash: {}", acknowledged.len());

    let _server = serve(d, port).await;
    let mut stored = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"limit": 100, "include_done": true});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = call(&http, port, &writer, "list_tasks", args).await.expect("list after restart");
        for t in page["tasks"].as_array().unwrap() {
            stored.insert(t["title"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let lost: Vec<_> = acknowledged.iter().filter(|t| !stored.contains(*t)).collect();
    assert!(lost.is_empty(), "acknowledged writes lost in the crash: {lost:?}");
    for token in &revoked {
        assert!(call(&http, port, token, "list_projects", json!({})).await.is_none(), "a revocation came back after the crash");
    }
    for token in &doomed[3..] {
        assert!(call(&http, port, token, "list_projects", json!({})).await.is_some(), "an unrevoked key still works");
    }
}
