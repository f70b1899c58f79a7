//! A PostgreSQL outage under load, on a PostgreSQL of the test's own (initdb and pg_ctl in a
//! temporary directory; the machine's shared server is never stopped): while it is down, every
//! request fails fast with 503 and a JSON body (never a hang, never a 500), `/readyz` says so, and
//! when it returns Navis serves again without a restart.
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::harness::{Options, TestServer};

/// A PostgreSQL server in a temporary directory, stopped when dropped.
struct OwnPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn postgres_bin() -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)");
    let mut bins: Vec<PathBuf> = versions.filter_map(|v| Some(v.ok()?.path().join("bin"))).filter(|b| b.join("initdb").exists()).collect();
    bins.sort();
    bins.pop().expect("initdb in /usr/lib/postgresql/*/bin")
}

/// Runs a PostgreSQL tool as the `postgres` user when we are root (initdb and postgres refuse root).
fn as_postgres(program: &Path, args: &[&str]) -> std::process::Output {
    let root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let mut cmd = if root {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        std::process::Command::new(program)
    };
    cmd.args(args).output().expect("a PostgreSQL tool runs")
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new().prefix("navis-outage-").tempdir().unwrap();
        let chown = std::process::Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).output();
        assert!(chown.is_ok());
        let data = dir.path().join("data");
        let out =
            as_postgres(&bin.join("initdb"), &["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = OwnPostgres { bin, data, port, _dir: dir };
        pg.up();
        pg
    }

    fn ctl(&self, args: &[&str]) {
        let mut all = vec!["-D", self.data.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = as_postgres(&self.bin.join("pg_ctl"), &all);
        assert!(out.status.success(), "pg_ctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn up(&self) {
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off", self.port, self.data.display());
        let log = self.data.join("server.log");
        self.ctl(&["-o", &options, "-l", log.to_str().unwrap(), "-w", "start"]);
    }

    /// As a crash or a pulled cable looks to Navis: immediate shutdown, connections cut.
    fn down(&self) {
        self.ctl(&["-m", "immediate", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let mut all = vec!["-D", self.data.to_str().unwrap()];
        all.extend_from_slice(&["-m", "immediate", "stop"]);
        as_postgres(&self.bin.join("pg_ctl"), &all);
    }
}

/// One request of the load: a read through MCP or a write through the API. Its status, its body
/// (JSON or not), and how long it took.
async fn one_request(s: &TestServer, token: &str, i: usize) -> (u16, Option<Value>, Duration) {
    let started = Instant::now();
    let resp = if i.is_multiple_of(2) {
        s.rpc(Some(token), json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_tasks", "arguments": {}}}))
            .await
    } else {
        s.http.post(s.url("/api/v1/tasks")).bearer_auth(token).json(&json!({"title": format!("task {i}")})).send().await.unwrap()
    };
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.ok();
    (status, body, started.elapsed())
}

#[tokio::test]
async fn a_postgres_outage_gives_fast_503s_and_navis_recovers_without_a_restart() {
    let pg = OwnPostgres::start();
    let s = TestServer::start_with(Options { database_url: Some(pg.url()), ..Default::default() }).await;
    let a = s.account("ada@example.com").await;
    for i in 0..20 {
        let (status, _, _) = one_request(&s, &a.write, i).await;
        assert!(status == 200 || status == 201, "before the outage: {status}");
    }

    pg.down();
    // Eight clients keep calling for four seconds while the database is down.
    let s = std::sync::Arc::new(s);
    let down_since = Instant::now();
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (s, token) = (s.clone(), a.write.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while down_since.elapsed() < Duration::from_secs(4) {
                    seen.push(one_request(&s, &token, c + seen.len()).await);
                }
                seen
            })
        })
        .collect();
    let mut answered = 0;
    for client in clients {
        for (status, body, took) in client.await.unwrap() {
            assert_eq!(status, 503, "while the database is down: {body:?}");
            let body = body.expect("a JSON body");
            assert!(body["error"].is_string() && body["message"].is_string(), "{body}");
            assert!(took < Duration::from_secs(3), "fails fast, not after a long wait: {took:?}");
            answered += 1;
        }
    }
    assert!(answered >= 16, "every client kept being answered during the outage ({answered})");
    let ready = s.http.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "unavailable");

    pg.up();
    let back = Instant::now();
    loop {
        let (status, body, _) = one_request(&s, &a.write, 1).await;
        if status == 201 {
            break;
        }
        assert_eq!(status, 503, "only 503 until it recovers: {body:?}");
        assert!(back.elapsed() < Duration::from_secs(20), "Navis did not recover within 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, _, _) = one_request(&s, &a.write, 0).await;
    assert_eq!(status, 200);
    assert_eq!(s.http.get(s.url("/readyz")).send().await.unwrap().status(), 200);
}
