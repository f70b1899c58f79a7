//! The admin CLI works against the database of a running server.
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::harness::TestServer;

pub(crate) fn navis(s: &TestServer, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_navis"))
        .args(args)
        .env("NAVIS_DATA_DIR", s.dir.path())
        .env("NAVIS_DATABASE_URL", &s.database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run navis");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[tokio::test]
async fn user_and_key_commands_work_while_the_server_runs() {
    let s = TestServer::start().await;
    let (ok, _, err) = navis(&s, &["user", "create", "--email", "ada@example.com", "--password-stdin"], Some("a long password\n"));
    assert!(ok, "{err}");
    assert!(s.app.verify_credentials("ada@example.com", "a long password").await.unwrap().is_some());

    let (ok, out, err) =
        navis(&s, &["key", "create", "--user", "ada@example.com", "--name", "cli", "--scope", "write", "--expires", "2999-01-01"], None);
    assert!(ok, "{err}");
    let token = out.trim_end().to_owned();
    assert_eq!(out, format!("{token}\n"), "stdout holds only the token");
    assert!(token.starts_with("nops_"));
    assert_eq!(s.ok(&token, "get_current_user", json!({})).await["email"], "ada@example.com");

    let (ok, out, _) = navis(&s, &["key", "list", "--user", "ada@example.com"], None);
    assert!(ok);
    assert!(out.contains(&token[..21]) && out.contains("Read + Write") && out.contains("2999-01-01"), "{out}");
    assert!(!out.contains(&token), "list never shows the token");
    let (ok, out, _) = navis(&s, &["key", "list", "--user", "ada@example.com", "--json"], None);
    assert!(ok);
    let keys: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(keys[0]["status"], "active");

    let (ok, _, err) = navis(&s, &["key", "revoke", "--user", "ada@example.com", &token[..21]], None);
    assert!(ok, "{err}");
    let resp = s.rpc(Some(&token), json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).await;
    assert_eq!(resp.status(), 401, "revoked from the CLI, refused by the server at once");

    // A forgotten password: the administrator sets a new one; every browser is signed out.
    let session = s.app.start_session(s.app.user_by_email("ada@example.com").await.unwrap().id).await.unwrap();
    let (ok, _, err) =
        navis(&s, &["user", "set-password", "--email", "ada@example.com", "--password-stdin"], Some("another long password\n"));
    assert!(ok, "{err}");
    assert!(s.app.verify_credentials("ada@example.com", "another long password").await.unwrap().is_some());
    assert!(s.app.session_user(&session).await.unwrap().is_none(), "signed out everywhere");
    let (ok, _, err) = navis(&s, &["user", "set-password", "--email", "ada@example.com", "--password-stdin"], Some("short\n"));
    assert!(!ok && err.contains("at least 8"), "{err}");

    // Clear errors for mistakes.
    let (ok, _, err) = navis(&s, &["key", "create", "--user", "nobody@example.com", "--name", "x", "--scope", "read"], None);
    assert!(!ok && err.contains("No user"), "{err}");
    let (ok, _, err) = navis(&s, &["key", "create", "--user", "ada@example.com", "--name", "x", "--scope", "admin"], None);
    assert!(!ok && err.contains("admin"), "{err}");
    let (ok, _, err) =
        navis(&s, &["key", "create", "--user", "ada@example.com", "--name", "x", "--scope", "read", "--expires", "2001-01-01"], None);
    assert!(!ok && err.contains("future"), "{err}");
}

#[test]
fn help_lists_every_command_and_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_navis")).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for word in [
        "serve",
        "migrate",
        "user",
        "key",
        "--listen",
        "--public-url",
        "--data-dir",
        "--database-url",
        "--config",
        "NAVIS_LISTEN",
        "--max-body-bytes",
        "--allow-signup",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_navis")).args(["key", "create", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for word in ["--user", "--name", "--scope", "--expires"] {
        assert!(help.contains(word), "key create --help lacks {word}:\n{help}");
    }
}

#[tokio::test]
async fn serve_starts_on_an_empty_data_dir_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_navis"))
        .arg("serve")
        .env("NAVIS_DATA_DIR", dir.path().join("fresh"))
        .env("NAVIS_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("NAVIS_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let mut ready = false;
    for _ in 0..100 {
        if reqwest::get(&url).await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "navis serve became ready on a fresh data dir");
    assert!(dir.path().join("fresh/navis.db").exists(), "the database was created");
    let pid = child.id().unwrap().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait()).await.expect("stops within 10 s").unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}
