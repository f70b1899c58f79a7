//! Real, independent MCP clients against a real Navis, with an API key.
use std::process::Command;

use serde_json::Value;

use crate::harness::{MCP, TestServer};

fn client_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/ts")
}

#[tokio::test]
async fn the_official_typescript_sdk_connects_with_an_api_key() {
    let dir = client_dir();
    assert!(
        dir.join("node_modules/@modelcontextprotocol/sdk").exists(),
        "the TypeScript SDK is not installed: run `npm ci --prefix tests/clients/ts` (scripts/test.sh does)"
    );
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let url = s.url(MCP);
    let token = a.write.clone();
    let out = tokio::task::spawn_blocking(move || Command::new("node").arg("api-key-client.mjs").arg(url).arg(token).current_dir(dir).output().expect("node runs"))
        .await
        .unwrap();
    assert!(out.status.success(), "TS client failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(seen["serverName"], "navis");
    assert!(seen["sessionId"].is_string(), "the SDK got a session: {seen}");
    assert!(seen["toolNames"].as_array().unwrap().iter().any(|t| t == "create_task"));
    assert!(seen["todayTaskIds"].as_array().unwrap().contains(&seen["taskId"]), "{seen}");

    // What the SDK created is really in Ada's workspace.
    let task = s.ok(&a.read, "get_task", serde_json::json!({"id": seen["taskId"]})).await;
    assert_eq!(task["title"], "Write the launch post");
    assert_eq!(task["project_id"], seen["projectId"]);
}
