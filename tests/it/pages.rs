//! The Connected Apps flow over HTTP, as a browser would drive it.
use serde_json::json;

use crate::harness::{TestServer, Trigger};

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)? + from;
    Some(&html[from..to])
}

fn csrf_of(html: &str) -> String {
    between(html, r#"name="csrf" value=""#, "\"").expect("csrf field").to_owned()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn sign_up(s: &TestServer, b: &reqwest::Client, email: &str) -> String {
    let form = b.get(s.url("/signup")).send().await.unwrap().text().await.unwrap();
    let resp = b
        .post(s.url("/signup"))
        .form(&[("email", email), ("password", "correct horse battery"), ("csrf", &csrf_of(&form))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/settings/connected-apps");
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("navis_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let page = b.get(s.url("/settings/connected-apps")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[tokio::test]
async fn sign_up_create_a_key_copy_it_once_use_it_revoke_it() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    assert!(page.contains(&s.url("/functions/v1/mcp-server-v2")), "the page shows the MCP URL");
    assert!(page.contains("No API keys yet."));

    let resp = b
        .post(s.url("/settings/connected-apps/keys"))
        .form(&[("name", "Claude Desktop"), ("scope", "write"), ("expires", ""), ("csrf", &csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let created = resp.text().await.unwrap();
    let token = between(&created, r#"<code id="new-token">"#, "</code>").expect("token shown once").to_owned();
    assert!(token.starts_with("nops_"));
    assert!(created.contains("will not be shown again"));
    // Ready-to-paste snippets carry the token.
    assert!(between(&created, r#"<pre id="snippet-claude">"#, "</pre>").unwrap().contains(&token));
    assert!(between(&created, r#"<pre id="snippet-curl">"#, "</pre>").unwrap().contains(&token));

    // The key works.
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}});
    assert_eq!(s.rpc(Some(&token), list.clone()).await.status(), 200);
    s.ok(&token, "create_project", json!({"name": "From the page's key"})).await;

    // The page never shows the token again, only its non-secret identifier, scope and last use.
    let again = b.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(!again.contains(&token), "token shown again");
    let display_id = &token[..5 + 16];
    assert!(again.contains(display_id));
    assert!(again.contains("Claude Desktop") && again.contains("Read + Write") && again.contains("status-active"));
    let row = between(&again, "<tr data-key-id=", "</tr>").unwrap();
    assert!(!row.contains("Never</td><td>Never"), "last used is recorded: {row}");

    // Revoke: the next request fails.
    let key_id = &token[5..21];
    let resp =
        b.post(s.url(&format!("/settings/connected-apps/keys/{key_id}/revoke"))).form(&[("csrf", csrf_of(&again))]).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(s.rpc(Some(&token), list).await.status(), 401);
    let after = b.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(after.contains("status-revoked"));
    assert!(after.contains("API key") && after.contains("revoked"), "audit trail lists the revocation");
}

#[tokio::test]
async fn a_read_only_key_with_an_expiry_is_listed_as_such() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    let expires = (s.clock_now().date_naive() + chrono::Duration::days(30)).to_string();
    let resp = b
        .post(s.url("/settings/connected-apps/keys"))
        .form(&[("name", "ci"), ("scope", "read"), ("expires", &expires), ("csrf", &csrf_of(&page))])
        .send()
        .await
        .unwrap();
    let created = resp.text().await.unwrap();
    let token = between(&created, r#"<code id="new-token">"#, "</code>").unwrap().to_owned();
    let user = s.ok(&token, "get_current_user", json!({})).await;
    assert_eq!(user["scopes"], json!(["mcp:read"]));
    assert!(user["expires_at"].as_str().unwrap().starts_with(&expires));
    assert!(created.contains(&expires));
    // A past date is refused with a clear message and no key is made.
    let resp = b
        .post(s.url("/settings/connected-apps/keys"))
        .form(&[("name", "old"), ("scope", "read"), ("expires", "2000-01-01"), ("csrf", &csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("must be in the future"));
    let user = s.app.user_by_email("ada@example.com").await.unwrap().id;
    let names: Vec<String> = s.app.list_api_keys(user).await.unwrap().into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["ci"], "no key was made by the refused form");
}

#[tokio::test]
async fn a_key_change_whose_audit_row_cannot_be_written_is_not_made() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    let create = |name: &'static str| {
        b.post(s.url("/settings/connected-apps/keys"))
            .form(&[("name", name), ("scope", "write"), ("expires", ""), ("csrf", &csrf_of(&page))])
            .send()
    };
    s.trigger("audit_events", "INSERT", Trigger::Refuse).await;
    let resp = create("laptop").await.unwrap();
    assert_eq!(resp.status(), 500);
    let body = resp.text().await.unwrap();
    assert!(body.contains("Nothing was changed") && !body.contains("nops_"), "{body}");
    s.drop_trigger("audit_events").await;
    let listed = b.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("No API keys yet."), "no key whose token was never shown");

    // Revoking: the key stays active, and says so, if its audit row fails.
    let created = create("desktop").await.unwrap().text().await.unwrap();
    let token = between(&created, r#"<code id="new-token">"#, "</code>").unwrap().to_owned();
    s.trigger("audit_events", "INSERT", Trigger::Refuse).await;
    let resp = b
        .post(s.url(&format!("/settings/connected-apps/keys/{}/revoke", &token[5..21])))
        .form(&[("csrf", csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert!(resp.text().await.unwrap().contains("Nothing was changed"));
    s.drop_trigger("audit_events").await;
    assert_eq!(s.rpc(Some(&token), json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).await.status(), 200);
}

#[tokio::test]
async fn forms_refuse_cross_site_posts_and_pages_refuse_framing() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    let csrf = csrf_of(&page);

    // Right token, wrong origin; and right origin, no token.
    let resp = b
        .post(s.url("/settings/connected-apps/keys"))
        .header("Origin", "https://evil.example")
        .form(&[("name", "x"), ("scope", "write"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = b
        .post(s.url("/settings/connected-apps/keys"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("name", "x"), ("scope", "write"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp =
        b.post(s.url("/settings/connected-apps/keys")).form(&[("name", "x"), ("scope", "write"), ("csrf", "forged")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let users_keys = s.app.list_api_keys(s.app.user_by_email("ada@example.com").await.unwrap().id).await.unwrap();
    assert!(users_keys.is_empty(), "no key was created by a refused post");

    for path in ["/signin", "/signup", "/settings/connected-apps"] {
        let resp = b.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.headers()["x-frame-options"], "DENY", "{path}");
        assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
    }
}

#[tokio::test]
async fn sign_in_sign_out_and_failed_attempts() {
    let s = TestServer::start().await;
    s.user("ada@example.com").await;
    let b = browser();
    let form = b.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&form);
    let resp = b
        .post(s.url("/signin"))
        .form(&[("email", "ada@example.com"), ("password", "wrong password"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("Incorrect email or password."));
    let resp = b
        .post(s.url("/signin"))
        .form(&[("email", "nobody@example.com"), ("password", "wrong password"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Unauthenticated visitors are sent to sign in.
    let resp = b.get(s.url("/settings/connected-apps")).send().await.unwrap();
    assert_eq!(resp.headers()["location"], "/signin");

    let resp = b
        .post(s.url("/signin"))
        .form(&[("email", "ADA@example.com"), ("password", "correct horse battery"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let page = b.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Failed sign-in"), "the failed attempt is in the audit trail");
    let resp = b.post(s.url("/signout")).form(&[("csrf", csrf_of(&page))]).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let resp = b.get(s.url("/settings/connected-apps")).send().await.unwrap();
    assert_eq!(resp.status(), 303, "the session ended");
}

#[tokio::test]
async fn sign_up_can_be_switched_off() {
    let s = TestServer::start_with(crate::harness::Options { allow_signup: Some(false), ..Default::default() }).await;
    let resp = s.http.get(s.url("/signup")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let resp = s
        .http
        .post(s.url("/signup"))
        .form(&[("email", "a@example.com"), ("password", "correct horse battery"), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(s.app.user_by_email("a@example.com").await.is_err());
}

#[tokio::test]
async fn the_connected_apps_page_works_in_a_real_browser() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/ts");
    assert!(dir.join("node_modules/playwright-core").exists(), "run `npm ci --prefix tests/clients/ts` (scripts/test.sh does)");
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is needed: `apt-get install chromium` (scripts/test.sh does, as root)"
    );
    let s = TestServer::start().await;
    let shot = s.dir.path().join("connected-apps.png");
    let out =
        tokio::process::Command::new("node").arg("pages-in-chromium.mjs").arg(&s.base).arg(&shot).current_dir(&dir).output().await.unwrap();
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = seen["token"].as_str().unwrap();
    assert!(token.starts_with("nops_"), "{seen}");
    assert_eq!(seen["problems"], json!([]), "no script errors or CSP violations");
    // The copy button ran (our script, allowed by the CSP): the clipboard holds the token, or the
    // fallback selected it for the user.
    assert!(seen["copyLabel"] == "Copied" || seen["copyLabel"] == "Press Ctrl+C", "{seen}");
    if seen["copyLabel"] == "Copied" {
        assert_eq!(seen["clipboard"], token);
    }
    assert_eq!(seen["shownAgain"], false, "the token is shown only once");
    assert!(seen["listed"].as_str().unwrap().contains("Claude Desktop"));
    assert_eq!(seen["status"], "revoked");
    assert_eq!(s.rpc(Some(token), json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).await.status(), 401);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "a screenshot was taken");

    // The consent page in the browser: it names the app; Read only was chosen; Approve redirected with a code.
    let consent = seen["consentText"].as_str().unwrap();
    assert!(consent.contains("Browser Test App") && consent.contains("browser@example.com"), "{consent}");
    assert_eq!(seen["state"], "st8");
    let resp = s
        .http
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", seen["clientId"].as_str().unwrap()),
            ("code", seen["code"].as_str().unwrap()),
            ("redirect_uri", "http://127.0.0.1:33422/callback"),
            ("code_verifier", seen["verifier"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let tokens: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(tokens["scope"], "mcp:read", "the user's choice of Read only was kept");
    if let Ok(keep) = std::env::var("NAVIS_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).ok();
    }
}
