//! Load: many connections of mixed reads and writes, through MCP and the HTTP API, with API keys
//! and OAuth tokens (refreshed as they go), then the same with a third of the connections
//! misbehaving (slow bodies, requests dropped halfway, garbage). Zero errors for the well-behaved
//! clients, no unbounded memory growth, and the p99 reported.
//!
//! CI runs a short form (5 s per phase, 32 connections). The full form, 60 s at 256 connections on
//! a release build: `scripts/load.sh` (figures in bench/README.md).
use std::{
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{MCP, TestServer};
use crate::oauth_support::{Browser, Client};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What one well-behaved connection holds: an API key pair, and for some an OAuth grant.
struct Worker {
    http: reqwest::Client,
    read_key: String,
    write_key: String,
    oauth: Option<(Client, String, String)>,
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: Vec<String>,
    refreshes: u64,
}

fn is_tool_success(v: &Value) -> bool {
    v["result"]["isError"] == false
}

impl Worker {
    async fn run_until(&mut self, s: &TestServer, until: Instant, tally: &mut Tally) {
        let mut i: u64 = 0;
        while Instant::now() < until {
            i += 1;
            let started = Instant::now();
            let outcome = self.one(s, i, tally).await;
            tally.latencies.push(started.elapsed());
            if let Err(e) = outcome {
                tally.errors.push(e);
            }
        }
    }

    async fn mcp(&self, s: &TestServer, token: &str, name: &str, args: Value) -> Result<(), String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}});
        let resp = self.http.post(s.url(MCP)).bearer_auth(token).json(&body).send().await.map_err(|e| format!("{name}: {}", chain(&e)))?;
        let status = resp.status();
        let v: Value = resp.json().await.map_err(|e| format!("{name}: {}", chain(&e)))?;
        (status == 200 && is_tool_success(&v)).then_some(()).ok_or_else(|| format!("{name}: {status} {v}"))
    }

    async fn api(&self, req: reqwest::RequestBuilder, what: &str) -> Result<(), String> {
        let resp = req.send().await.map_err(|e| format!("{what}: {}", chain(&e)))?;
        let status = resp.status();
        let _ = resp.bytes().await.map_err(|e| format!("{what}: {}", chain(&e)))?;
        status.is_success().then_some(()).ok_or_else(|| format!("{what}: {status}"))
    }

    async fn one(&mut self, s: &TestServer, i: u64, tally: &mut Tally) -> Result<(), String> {
        if i % 4 < 2
            && let Some((client, access, refresh)) = &mut self.oauth
        {
            if i % 40 == 4 {
                // Refresh rotation in the mix (early, so even a slow run has some): the old refresh
                // token is retired, the new pair used.
                let resp = client.refresh(s, refresh).await;
                let status = resp.status();
                let tokens: Value = resp.json().await.map_err(|e| format!("refresh: {}", chain(&e)))?;
                if status != 200 {
                    return Err(format!("refresh: {status} {tokens}"));
                }
                *access = tokens["access_token"].as_str().unwrap().to_owned();
                *refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
                tally.refreshes += 1;
                return Ok(());
            }
            let access = access.clone();
            return match i % 4 {
                0 => self.mcp(s, &access, "create_task", json!({"title": format!("oauth {i}")})).await,
                _ => self.mcp(s, &access, "list_projects", json!({})).await,
            };
        }
        match i % 5 {
            0 => {
                let create = self.http.post(s.url("/api/v1/tasks")).bearer_auth(&self.write_key).json(&json!({"title": format!("t{i}")}));
                self.api(create, "POST /tasks").await
            }
            1 => self.api(self.http.get(s.url("/api/v1/tasks?limit=20")).bearer_auth(&self.read_key), "GET /tasks").await,
            2 => self.mcp(s, &self.write_key, "get_current_user", json!({})).await,
            _ => self.mcp(s, &self.read_key, "list_tasks", json!({"status": "todo"})).await,
        }
    }
}

/// An error with its causes ("error sending request: connection closed before message completed").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    out
}

/// Connections that misbehave in turn: a body that stops coming, a request dropped halfway,
/// garbage instead of HTTP. Each comes from `from`, so the per-address cap never touches others.
async fn misbehave(addr: std::net::SocketAddr, from: IpAddr, until: Instant) -> u64 {
    let mut done = 0;
    while Instant::now() < until {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind((from, 0).into()).unwrap();
        let Ok(mut stream) = socket.connect(addr).await else { continue };
        let head = format!("POST {MCP} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n");
        let result = match done % 3 {
            0 => {
                // Half a body, then silence for a while, then gone.
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(br#"{"jsonrpc":"2.0","#).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(())
            }
            1 => stream.write_all(&head.as_bytes()[..head.len() / 2]).await,
            _ => {
                let _ = stream.write_all(b"\x16\x03\x01 garbage \xff\xfe\r\n\r\n").await;
                let mut buf = [0u8; 256];
                let _ = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await;
                Ok(())
            }
        };
        drop(result);
        done += 1;
    }
    done
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted.get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or_default()
}

async fn phase(s: &Arc<TestServer>, workers: Vec<Worker>, seconds: u64, misbehaving: usize) -> (Vec<Worker>, Tally, u64) {
    let until = Instant::now() + Duration::from_secs(seconds);
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let bad: Vec<_> = (0..misbehaving).map(|_| tokio::spawn(misbehave(addr, "127.0.0.2".parse().unwrap(), until))).collect();
    let good: Vec<_> = workers
        .into_iter()
        .map(|mut w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                w.run_until(&s, until, &mut tally).await;
                (w, tally)
            })
        })
        .collect();
    let mut total = Tally::default();
    let mut back = Vec::new();
    for handle in good {
        let (w, t) = handle.await.unwrap();
        total.latencies.extend(t.latencies);
        total.errors.extend(t.errors);
        total.refreshes += t.refreshes;
        back.push(w);
    }
    let mut bad_done = 0;
    for handle in bad {
        bad_done += handle.await.unwrap();
    }
    (back, total, bad_done)
}

fn report(name: &str, seconds: u64, tally: &mut Tally, misbehaving_done: u64) {
    tally.latencies.sort();
    let n = tally.latencies.len();
    println!(
        "load {name}: {n} requests in {seconds} s ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {}, refreshes {}, misbehaving connections {misbehaving_done}",
        n as f64 / seconds as f64,
        percentile(&tally.latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&tally.latencies, 0.99).as_secs_f64() * 1e3,
        tally.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        tally.errors.len(),
        tally.refreshes,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_load_with_and_without_misbehaving_clients_has_no_errors_and_no_growth() {
    let seconds = setting("NAVIS_LOAD_SECS", 5);
    let connections = setting("NAVIS_LOAD_CONNECTIONS", 32) as usize;
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let mut workers = Vec::new();
    for w in 0..connections {
        // Every fourth connection also holds an OAuth grant of its own (its own registered app).
        let oauth = if w % 4 == 0 {
            let client = Client::register(&s, &format!("load {w}"), "http://127.0.0.1:9/callback").await;
            let tokens = client.connect(&s, &browser, "mcp:read mcp:write", Some("write")).await;
            let (access, refresh) =
                (tokens["access_token"].as_str().unwrap().to_owned(), tokens["refresh_token"].as_str().unwrap().to_owned());
            Some((client, access, refresh))
        } else {
            None
        };
        // Spread over two client addresses, so the per-address connection cap (256) is not the limit.
        let from: IpAddr = if w % 2 == 0 { "127.0.0.1" } else { "127.0.0.3" }.parse().unwrap();
        let http = reqwest::Client::builder().local_address(from).pool_max_idle_per_host(1).build().unwrap();
        workers.push(Worker { http, read_key: a.read.clone(), write_key: a.write.clone(), oauth });
    }
    let s = Arc::new(s);

    // Warm up, then measure memory before and after both phases.
    let (workers, _, _) = phase(&s, workers, 1, 0).await;
    let rss_before = rss_kib();
    let (workers, mut plain, _) = phase(&s, workers, seconds, 0).await;
    report("all clients well-behaved", seconds, &mut plain, 0);
    assert!(plain.errors.is_empty(), "errors under load: {:?}", &plain.errors[..plain.errors.len().min(5)]);
    assert!(plain.refreshes > 0, "refreshes were in the mix");

    // A third of the connections misbehave; the others must not notice.
    let misbehaving = connections / 3;
    let good: Vec<Worker> = workers.into_iter().take(connections - misbehaving).collect();
    let (_, mut mixed, bad_done) = phase(&s, good, seconds, misbehaving).await;
    report("a third misbehaving", seconds, &mut mixed, bad_done);
    assert!(mixed.errors.is_empty(), "errors with misbehaving clients: {:?}", &mixed.errors[..mixed.errors.len().min(5)]);
    assert!(bad_done > misbehaving as u64, "the misbehaving clients ran");
    let rss_after = rss_kib();
    println!("load rss: {rss_before} KiB before, {rss_after} KiB after");
    assert!(rss_after < rss_before + 64 * 1024, "memory grew from {rss_before} KiB to {rss_after} KiB");
}
