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

/// Posts the Create API key form; the answer is a redirect to the page that shows the token once.
async fn post_key(s: &TestServer, b: &reqwest::Client, page: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = csrf_of(page);
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", &csrf));
    b.post(s.url("/settings/connected-apps/keys")).form(&form).send().await.unwrap()
}

/// Follows the create form's redirect to the page that shows the new token; returns its HTML.
async fn created_page(s: &TestServer, b: &reqwest::Client, resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 303, "Post/Redirect/Get");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/settings/connected-apps/keys/") && location.ends_with("/created"), "{location}");
    let page = b.get(s.url(&location)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    page.text().await.unwrap()
}

fn token_of(created: &str) -> String {
    between(created, r#"<code id="new-token">"#, "</code>").expect("token shown once").to_owned()
}

/// The date `days` from the test clock's today (UTC), as the date input holds it.
fn in_days(s: &TestServer, days: i64) -> String {
    (s.clock_now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// Posts the sign-up form (fetched first, as a browser would).
async fn post_signup(s: &TestServer, b: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
    let form = b.get(s.url("/signup")).send().await.unwrap().text().await.unwrap();
    b.post(s.url("/signup")).form(&[("email", email), ("password", password), ("csrf", &csrf_of(&form))]).send().await.unwrap()
}

async fn sign_up(s: &TestServer, b: &reqwest::Client, email: &str) -> String {
    let resp = post_signup(s, b, email, "correct horse battery").await;
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
    let page = page.text().await.unwrap();
    assert!(page.contains("Your account is ready."), "sign-up says it worked, once");
    page
}

#[tokio::test]
async fn sign_up_create_a_key_copy_it_once_use_it_revoke_it() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    assert!(page.contains(&s.url("/functions/v1/mcp-server-v2")), "the page shows the MCP URL");
    assert!(page.contains("No API keys yet."));

    let resp = post_key(&s, &b, &page, &[("name", "Claude Desktop"), ("scope", "write"), ("expiry", "never")]).await;
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let created = created_page(&s, &b, resp).await;
    let token = token_of(&created);
    assert!(token.starts_with("nops_"));
    assert!(created.contains("only time it is shown"));
    // Ready-to-paste snippets carry the token: Claude Desktop, Claude Code, Cursor, curl.
    for snippet in ["snippet-claude", "snippet-claude-code", "snippet-cursor", "snippet-curl"] {
        let text = between(&created, &format!(r#"<pre id="{snippet}">"#), "</pre>").unwrap_or_else(|| panic!("{snippet}"));
        assert!(text.contains(&token), "{snippet}");
    }
    assert!(
        between(&created, r#"<pre id="snippet-claude-code">"#, "</pre>").unwrap().starts_with("claude mcp add --transport http navis ")
    );

    // Reloading the page (or coming back to it) shows the token no more, and makes no key.
    let reload = b.get(s.url(&location)).send().await.unwrap();
    assert_eq!(reload.status(), 410);
    let reload = reload.text().await.unwrap();
    assert!(!reload.contains(&token) && reload.contains("already shown") && reload.contains("revoke “Claude Desktop”"), "{reload}");
    let user = s.app.user_by_email("ada@example.com").await.unwrap().id;
    assert_eq!(s.app.list_api_keys(user).await.unwrap().len(), 1, "one form, one key");

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
    assert!(!row.contains(r#"data-label="Last used">Never"#), "last used is recorded: {row}");

    // Revoke: the row's link asks first, naming the key; the confirmation's form revokes it.
    let key_id = &token[5..21];
    let confirm = b.get(s.url(&format!("/settings/connected-apps/keys/{key_id}/revoke"))).send().await.unwrap().text().await.unwrap();
    assert!(confirm.contains("Revoke API key “Claude Desktop”?") && confirm.contains(display_id), "{confirm}");
    assert_eq!(s.rpc(Some(&token), list.clone()).await.status(), 200, "asking changed nothing");
    let resp = crate::oauth_support::confirm_row_action(&s, &b, None, row).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/settings/connected-apps");
    assert_eq!(s.rpc(Some(&token), list).await.status(), 401);
    let after = b.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(after.contains("status-revoked"));
    assert!(after.contains(r#"<p class="flash" role="status">API key “Claude Desktop” was revoked."#), "the page says what happened");
    assert!(after.contains("API key &#34;Claude Desktop&#34; (nops_") && after.contains(") revoked"), "the event names the key");
    // Once: a reload shows the list without the message, and revokes nothing more.
    let reloaded = b.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(!reloaded.contains("class=\"flash\"") && reloaded.contains("status-revoked"));
    // Revoking again (a second tab's stale form) changes nothing and says so.
    let resp =
        b.post(s.url(&format!("/settings/connected-apps/keys/{key_id}/revoke"))).form(&[("csrf", csrf_of(&after))]).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("No active API key"));
    let confirm = b.get(s.url(&format!("/settings/connected-apps/keys/{key_id}/revoke"))).send().await.unwrap();
    assert_eq!(confirm.status(), 404, "no confirmation for a revoked key");

    // Two tabs: a key made in the second before the first tab's page loaded keeps its token for
    // its own page; the first tab's page does not swallow it.
    let first = post_key(&s, &b, &page, &[("name", "tab one"), ("scope", "read")]).await;
    let second = post_key(&s, &b, &page, &[("name", "tab two"), ("scope", "read")]).await;
    let first_page = b.get(s.url(first.headers()["location"].to_str().unwrap())).send().await.unwrap();
    assert_eq!(first_page.status(), 410, "its token was replaced by the second key's");
    let second_token = token_of(&created_page(&s, &b, second).await);
    assert!(second_token.starts_with("nops_"));
}

#[tokio::test]
async fn a_read_only_key_with_an_expiry_is_listed_as_such() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    let expires = in_days(&s, 30);
    // An older page's post (no `expiry` choice): the date alone decides.
    let resp = post_key(&s, &b, &page, &[("name", "ci"), ("scope", "read"), ("expires", &expires)]).await;
    let created = created_page(&s, &b, resp).await;
    let token = token_of(&created);
    let user = s.ok(&token, "get_current_user", json!({})).await;
    assert_eq!(user["scopes"], json!(["mcp:read"]));
    assert!(user["expires_at"].as_str().unwrap().starts_with(&expires));
    assert!(created.contains(&format!("{expires} 00:00 UTC")), "the exact moment it stops");
    // A preset: 7 days from today, at 00:00 UTC.
    let resp = post_key(&s, &b, &page, &[("name", "week"), ("scope", "read"), ("expiry", "7"), ("expires", "")]).await;
    let token = token_of(&created_page(&s, &b, resp).await);
    let week = in_days(&s, 7);
    assert!(s.ok(&token, "get_current_user", json!({})).await["expires_at"].as_str().unwrap().starts_with(&format!("{week}T00:00:00")));
    // A past date is refused beside the date field, and no key is made.
    let resp = post_key(&s, &b, &page, &[("name", "old"), ("scope", "read"), ("expiry", "date"), ("expires", "2000-01-01")]).await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"<p class="field-error" id="expiry-error">Choose a date after today"#), "{html}");
    let user = s.app.user_by_email("ada@example.com").await.unwrap().id;
    let names: Vec<String> = s.app.list_api_keys(user).await.unwrap().into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["ci", "week"], "no key was made by the refused form");
}

#[tokio::test]
async fn form_errors_stand_beside_their_fields_and_keep_what_was_typed() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    let tomorrow = in_days(&s, 1);
    assert!(page.contains(&format!(r#"name="expires" value="" min="{tomorrow}""#)), "no past date can be picked");
    let in_30 = in_days(&s, 30);
    assert!(page.contains(&format!("{in_30} 00:00 UTC")), "each preset says the exact moment");

    // A blank name: the error is tied to the name field; Read + Write and 30 days stay chosen.
    let resp = post_key(&s, &b, &page, &[("name", "   "), ("scope", "write"), ("expiry", "30"), ("expires", "")]).await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    let name_input = between(&html, r#"<input type="text" id="key-name""#, ">").unwrap();
    assert!(name_input.contains(r#"aria-invalid="true" aria-describedby="key-name-error""#), "{name_input}");
    let after_input = &html[html.find(r#"id="key-name""#).unwrap()..];
    assert!(after_input.find(r#"id="key-name-error""#).unwrap() < 400, "the message follows the field");
    assert!(html.contains("Give the key a name"));
    assert!(html.contains(r#"value="write" checked"#) && html.contains(r#"value="30" checked"#), "choices kept");

    // A too-long name keeps what was typed, escaped.
    let long = format!("<b>{}", "x".repeat(120));
    let resp = post_key(&s, &b, &page, &[("name", &long), ("scope", "read"), ("expiry", "never")]).await;
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!(r#"value="&#60;b&#62;{}""#, "x".repeat(120))) && html.contains("at most 100 characters"));

    // A date typed while "Never" is chosen is not silently dropped.
    let resp = post_key(&s, &b, &page, &[("name", "laptop"), ("scope", "read"), ("expiry", "never"), ("expires", &in_30)]).await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"id="key-expires" name="expires" value=""#) && html.contains("choose “On a date”"), "{html}");
    assert!(html.contains(r#"aria-describedby="expiry-error""#));
    let user = s.app.user_by_email("ada@example.com").await.unwrap().id;
    assert!(s.app.list_api_keys(user).await.unwrap().is_empty(), "no refused form made a key");

    // Sign-up: the error beside the email field, the email kept.
    let b = browser();
    let resp = post_signup(&s, &b, "ADA@example.com", "correct horse battery").await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(
            r#"value="ADA@example.com" required autocomplete="email" autofocus aria-invalid="true" aria-describedby="email-error""#
        ),
        "{html}"
    );
    assert!(html.contains(r#"id="email-error">An account with this email already exists."#));
    let resp = post_signup(&s, &b, "bob@example.com", "short").await;
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"aria-describedby="password-error""#) && html.contains("at least 8 characters"), "{html}");
}

#[tokio::test]
async fn a_key_change_whose_audit_row_cannot_be_written_is_not_made() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    let (server, jar, form) = (&s, &b, &page);
    let create = move |name: &'static str| async move {
        post_key(server, jar, form, &[("name", name), ("scope", "write"), ("expiry", "never")]).await
    };
    s.trigger("audit_events", "INSERT", Trigger::Refuse).await;
    let resp = create("laptop").await;
    assert_eq!(resp.status(), 500);
    let body = resp.text().await.unwrap();
    assert!(body.contains("Nothing was changed") && !body.contains("nops_"), "{body}");
    s.drop_trigger("audit_events").await;
    let listed = b.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("No API keys yet."), "no key whose token was never shown");

    // Revoking: the key stays active, and says so, if its audit row fails.
    let token = token_of(&created_page(&s, &b, create("desktop").await).await);
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
async fn the_account_page_sets_the_time_zone_the_workspace_reads_days_in() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    let token = token_of(&created_page(&s, &b, post_key(&s, &b, &page, &[("name", "laptop"), ("scope", "read")]).await).await);
    let account = b.get(s.url("/settings/account")).send().await.unwrap().text().await.unwrap();
    assert!(account.contains(r#"id="time-zone" name="time_zone""#) && account.contains(r#"value="UTC""#), "{account}");
    assert!(account.contains(r#"<option value="Europe/Berlin">"#), "the field suggests every zone");
    let set =
        |zone: &'static str| b.post(s.url("/settings/account/time-zone")).form(&[("time_zone", zone), ("csrf", &csrf_of(&account))]).send();

    // An unknown zone: the error beside the field, the input kept, nothing changed.
    let resp = set("Mars/Olympus").await.unwrap();
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"aria-invalid="true""#) && html.contains(r#"id="time-zone-error""#), "{html}");
    assert!(html.contains(r#"value="Mars/Olympus""#), "{html}");
    let me = s.ok(&token, "get_current_user", json!({})).await;
    assert_eq!(me["time_zone"], "UTC");

    let resp = set("Asia/Tokyo").await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["location"].to_str().unwrap()), (303, "/settings/account"));
    let after = b.get(s.url("/settings/account")).send().await.unwrap().text().await.unwrap();
    assert!(after.contains("Your time zone is now Asia/Tokyo.") && after.contains(r#"value="Asia/Tokyo""#), "{after}");
    assert_eq!(s.ok(&token, "get_current_user", json!({})).await["time_zone"], "Asia/Tokyo");
    // Without the form's CSRF token nothing changes.
    let forged = b.post(s.url("/settings/account/time-zone")).form(&[("time_zone", "UTC")]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(s.ok(&token, "get_current_user", json!({})).await["time_zone"], "Asia/Tokyo");
}

#[tokio::test]
async fn changing_the_password_signs_out_other_browsers_and_deleting_the_account_removes_everything() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    let token = token_of(&created_page(&s, &b, post_key(&s, &b, &page, &[("name", "laptop"), ("scope", "write")]).await).await);
    let other = crate::oauth_support::Browser::signed_in(&s, "ada@example.com").await;
    let account = b.get(s.url("/settings/account")).send().await.unwrap().text().await.unwrap();
    let change = |current: &'static str, new: &'static str| {
        b.post(s.url("/settings/account/password")).form(&[("current", current), ("new", new), ("csrf", &csrf_of(&account))]).send()
    };

    // A wrong current password: the error beside that field, nothing changed.
    let resp = change("wrong password", "a new long password").await.unwrap();
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"aria-invalid="true" aria-describedby="current-password-error""#), "{html}");
    let resp = change("correct horse battery", "short").await.unwrap();
    assert!(resp.text().await.unwrap().contains(r#"id="new-password-error">The password must be at least 8"#));
    assert!(s.app.verify_credentials("ada@example.com", "correct horse battery").await.unwrap().is_some());

    let resp = change("correct horse battery", "a new long password").await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["location"].to_str().unwrap()), (303, "/settings/account"));
    let after = b.get(s.url("/settings/account")).send().await.unwrap().text().await.unwrap();
    assert!(after.contains("Your password was changed."), "this browser stays signed in and is told");
    let resp = other.http.get(s.url("/settings/connected-apps")).send().await.unwrap();
    assert_eq!(resp.headers()["location"], "/signin", "the other browser was signed out");
    assert!(s.app.verify_credentials("ada@example.com", "correct horse battery").await.unwrap().is_none());
    assert!(s.app.verify_credentials("ada@example.com", "a new long password").await.unwrap().is_some());
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
    assert_eq!(s.rpc(Some(&token), list.clone()).await.status(), 200, "API keys are separate credentials");

    // Guessing the password with a signed-in browser is slowed down like guessing it at sign-in.
    for _ in 0..5 {
        assert_eq!(change("wrong password", "a third long password").await.unwrap().status(), 400);
    }
    let resp = change("wrong password", "a third long password").await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    assert!(resp.text().await.unwrap().contains("Too many wrong passwords."));
    s.clock.advance(chrono::Duration::minutes(6));
    assert!(after.contains("Your password was changed."));

    // Delete: only with the password; then the key, the session and the account are gone.
    let delete = |password: &'static str| {
        b.post(s.url("/settings/account/delete")).form(&[("password", password), ("csrf", &csrf_of(&after))]).send()
    };
    let resp = delete("correct horse battery").await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("nothing was deleted"));
    assert_eq!(s.rpc(Some(&token), list.clone()).await.status(), 200);
    s.clock.advance(chrono::Duration::minutes(6)); // the account's slowdown after the guesses above
    let resp = delete("a new long password").await.unwrap();
    assert_eq!(resp.headers()["location"], "/?account_deleted=1");
    assert!(b.get(s.url("/?account_deleted=1")).send().await.unwrap().text().await.unwrap().contains("were deleted"));
    assert_eq!(s.rpc(Some(&token), list).await.status(), 401, "its keys stop at once");
    assert!(s.app.user_by_email("ada@example.com").await.is_err());
    assert_eq!(b.get(s.url("/settings/connected-apps")).send().await.unwrap().headers()["location"], "/signin");
}

#[tokio::test]
async fn the_workspace_page_shows_what_is_due_the_projects_and_what_changed() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    assert!(page.contains(r#"<a href="/workspace">Workspace</a>"#));
    let empty = b.get(s.url("/workspace")).send().await.unwrap().text().await.unwrap();
    assert!(empty.contains("Nothing is due today or overdue.") && empty.contains("No projects yet."), "{empty}");

    // An assistant, with a key, makes a project and tasks.
    let token = token_of(&created_page(&s, &b, post_key(&s, &b, &page, &[("name", "assistant"), ("scope", "write")]).await).await);
    let project = s.ok(&token, "create_project", json!({"name": "Launch <plan>"})).await;
    let today = in_days(&s, 0);
    let yesterday = in_days(&s, -1);
    for (title, due) in [("Write the announcement", today.as_str()), ("Book the venue", yesterday.as_str()), ("Later", "2999-01-01")] {
        s.ok(&token, "create_task", json!({"title": title, "project_id": project["id"], "due_date": due})).await;
    }
    let html = b.get(s.url("/workspace")).send().await.unwrap().text().await.unwrap();
    let due = between(&html, r#"id="due">"#, "</section>").unwrap();
    assert!(due.contains("<h3>Launch &#60;plan&#62;</h3>"), "due tasks by project, escaped: {due}");
    assert!(due.contains("Write the announcement") && due.contains("Book the venue") && !due.contains("Later"), "{due}");
    assert!(due.contains(&format!(r#"<span class="tag overdue">Overdue</span> due {yesterday}"#)), "{due}");
    let projects = between(&html, r#"id="projects">"#, "</section>").unwrap();
    assert!(projects.contains(r#"<td data-label="Open tasks">3</td>"#), "{projects}");
    let activity = between(&html, r#"id="activity">"#, "</section>").unwrap();
    assert!(activity.contains("task “Later” created") && activity.contains("project “Launch &#60;plan&#62;” created"), "{activity}");
    assert!(activity.contains("created <span class=\"muted\">by API key “assistant”</span>"), "which key made it: {activity}");
    // A change made by an app connected with OAuth is attributed to the app.
    let consenting = crate::oauth_support::Browser::signed_in(&s, "ada@example.com").await;
    let client = crate::oauth_support::Client::register(&s, "Claude Desktop", "http://127.0.0.1:4000/callback").await;
    let tokens = client.connect(&s, &consenting, "mcp:read mcp:write", None).await;
    s.ok(tokens["access_token"].as_str().unwrap(), "create_project", json!({"name": "From Claude"})).await;
    let html = b.get(s.url("/workspace")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("project “From Claude” created <span class=\"muted\">by Claude Desktop</span>"), "{html}");
    // The page reads only: it has no form but sign-out.
    assert_eq!(html.matches("<form").count(), 1);
    // Signed out: sent to sign in, and back here afterwards.
    let resp = browser().get(s.url("/workspace")).send().await.unwrap();
    assert_eq!(resp.headers()["location"], "/signin?next=%2Fworkspace");
}

#[tokio::test]
async fn security_events_say_from_where_and_page_back() {
    let s = TestServer::start().await;
    let b = browser();
    let page = sign_up(&s, &b, "ada@example.com").await;
    // The sign-up's own event records the browser's address; reqwest sent no User-Agent.
    assert!(page.contains("Signed in <span class=\"muted\">· from 127.0.0.1</span>"), "{page}");
    let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    let resp = b
        .post(s.url("/settings/connected-apps/keys"))
        .header("User-Agent", chrome)
        .form(&[("name", "laptop"), ("scope", "read"), ("expiry", "never"), ("csrf", &csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let user = s.app.user_by_email("ada@example.com").await.unwrap().id;
    for i in 0..25 {
        s.app.audit(user, "test.event", format!("Event number {i}")).await.unwrap();
    }
    let first = b.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(first.contains("Event number 24") && first.contains("Event number 5") && !first.contains("Event number 4<"), "20 a page");
    let older = between(&first, r#"<a href="/settings/connected-apps?events_before="#, "\"").expect("a link to older events");
    let second = b.get(s.url(&format!("/settings/connected-apps?events_before={older}"))).send().await.unwrap().text().await.unwrap();
    assert!(second.contains("Event number 4<") && second.contains("Event number 0<") && !second.contains("Event number 5<"), "{second}");
    assert!(second.contains("API key &#34;laptop&#34; (nops_") && second.contains("from 127.0.0.1 · Chrome on Linux"), "{second}");
    assert!(second.contains(">Newest events</a>") && !second.contains(">Older events</a>"), "the last page");
    // A mangled link shows the newest events, not an error.
    let resp = b.get(s.url("/settings/connected-apps?events_before=nonsense")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn browsers_get_pages_where_api_clients_get_json() {
    let s = TestServer::start().await;
    let resp = s.http.get(s.url("/no/such/page")).header("Accept", HTML).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("Page not found"));
    let resp = s.http.get(s.url("/no/such/page")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["error"], "not_found");

    // A form's address opened directly (Back after a post, a bookmark): a page, not an empty 405.
    let resp = s.http.get(s.url("/signout")).header("Accept", HTML).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    assert!(resp.text().await.unwrap().contains("only takes a form"));
    let resp = s.http.get(s.url("/signout")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["error"], "method_not_allowed");
    // Back to the create form's address after making a key: the list, not an error.
    let resp = browser().get(s.url("/settings/connected-apps/keys")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["location"].to_str().unwrap()), (303, "/settings/connected-apps"));

    // The start page tells a newcomer what Navis is and how to connect, with this server's URL.
    let landing = s.http.get(s.url("/")).send().await.unwrap();
    assert_eq!(landing.status(), 200);
    let landing = landing.text().await.unwrap();
    assert!(landing.contains("three steps") && landing.contains(&s.url("/functions/v1/mcp-server-v2")), "{landing}");
    assert!(landing.contains(r#"href="/signup""#) && landing.contains(r#"href="/signin""#));
}

#[tokio::test]
async fn a_form_sent_from_another_address_says_where_navis_is() {
    let s = TestServer::start().await;
    s.user("ada@example.com").await;
    let b = browser();
    let form = b.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
    let port = s.base.rsplit(':').next().unwrap();
    let resp = b
        .post(s.url("/signin"))
        .header("Origin", format!("http://localhost:{port}"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("email", "ada@example.com"), ("password", "correct horse battery"), ("csrf", &csrf_of(&form))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("<code>http://localhost:{port}</code>")), "names where the form was: {html}");
    assert!(html.contains(&format!(r#"href="{}/">Open Navis at {}</a>"#, s.base, s.base)), "and where Navis is: {html}");
    // A stale token says the form expired, not that it came from elsewhere.
    let resp = b.post(s.url("/signin")).form(&[("email", "ada@example.com"), ("password", "x"), ("csrf", "stale")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("This form has expired"));
}

#[tokio::test]
async fn sign_in_names_the_waiting_app_and_consent_says_how_far_its_name_is_verified() {
    use crate::oauth_support::{Client, Pkce};
    let s = TestServer::start().await;
    s.user("ada@example.com").await;
    let client = Client::register(&s, "Claude", "http://127.0.0.1:4000/callback").await;
    let url = client.authorize_url(&s, &Pkce::new(), "mcp:read", "st");
    let b = browser();
    let resp = b.get(&url).send().await.unwrap();
    let signin = b.get(s.url(resp.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
    assert!(signin.contains(r#"<h1>Sign in to continue to <span class="client-name">Claude</span></h1>"#), "{signin}");
    assert!(signin.contains("Self-reported name"), "anyone can register as “Claude”: {signin}");
    let consent = crate::oauth_support::Browser::signed_in(&s, "ada@example.com").await.consent_page(&url).await;
    assert!(consent.contains("Self-reported name") && consent.contains("http://127.0.0.1:4000/callback"), "{consent}");

    // A Client ID Metadata Document client: its name comes from the domain that serves it.
    s.app.client_metadata.allow_local_for_tests(true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    let client_id = format!("{site}/client.json");
    let doc = json!({"client_id": client_id, "client_name": "Claude Code", "redirect_uris": ["http://127.0.0.1:4000/callback"], "token_endpoint_auth_method": "none"});
    let app = axum::Router::new().route("/client.json", axum::routing::get(move || async move { axum::Json(doc) }));
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let cimd = crate::oauth_support::Client { id: client_id, redirect_uri: "http://127.0.0.1:4000/callback".into() };
    let consent = crate::oauth_support::Browser::signed_in(&s, "ada@example.com")
        .await
        .consent_page(&cimd.authorize_url(&s, &Pkce::new(), "mcp:read", "st"))
        .await;
    assert!(consent.contains("Verified: 127.0.0.1") && !consent.contains("Self-reported"), "{consent}");
}

#[tokio::test]
async fn the_pages_work_in_a_real_browser_on_a_desktop_and_a_phone() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/ts");
    assert!(dir.join("node_modules/playwright-core").exists(), "run `npm ci --prefix tests/clients/ts` (scripts/test.sh does)");
    assert!(dir.join("node_modules/axe-core").exists(), "run `npm ci --prefix tests/clients/ts` (scripts/test.sh does)");
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is needed: `apt-get install chromium` (scripts/test.sh does, as root)"
    );
    let s = TestServer::start().await;
    // Screenshots of every page at both widths, for a person to look at (never committed).
    let shots = std::env::var_os("NAVIS_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("navis-screenshots"));
    let out = tokio::process::Command::new("node")
        .arg("pages-in-chromium.mjs")
        .arg(&s.base)
        .arg(&shots)
        .current_dir(&dir)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("screenshots in {}", shots.display());
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["problems"], json!([]), "no script errors or CSP violations");

    // Every page, at 1280, 390 and 360 px: no horizontal scrolling, no serious axe violation.
    let checks = seen["checks"].as_array().unwrap();
    for check in checks {
        assert!(check["overflow"].as_i64().unwrap() <= 0, "wider than the screen: {check}");
        assert_eq!(check["axe"], json!([]), "accessibility: {check}");
    }
    for page in [
        "landing",
        "signup",
        "key-created",
        "confirm-revoke",
        "connected-apps-after-revoke",
        "create-key-errors",
        "consent",
        "consent-long-name",
        "signin-for-app",
        "not-found",
        "account",
        "workspace",
    ] {
        for width in [1280, 390, 360] {
            assert!(checks.iter().any(|c| c["name"] == page && c["width"] == width), "{page} was checked at {width} px");
        }
        for width in [1280, 390] {
            let shot = shots.join(format!("{page}-{width}.png"));
            assert!(std::fs::metadata(&shot).map(|m| m.len() > 5_000).unwrap_or(false), "{}", shot.display());
        }
    }

    // Sign-up says it worked; a blank name is refused beside the field, the choices kept.
    assert!(seen["welcome"].as_str().unwrap().contains("Your account is ready"), "{seen}");
    let error = &seen["nameError"];
    assert_eq!(error["invalid"], "true");
    assert!(error["message"].as_str().unwrap().contains("Give the key a name"), "{error}");
    assert!((0.0..40.0).contains(&error["gap"].as_f64().unwrap()), "the message sits right below the field: {error}");
    assert_eq!((&error["write"], &error["days30"]), (&json!(true), &json!(true)), "{error}");

    // Made by keyboard alone: Read + Write, 30 days; shown once, copied, never again.
    let token = seen["token"].as_str().unwrap();
    assert!(token.starts_with("nops_"), "{seen}");
    let user = s.app.user_by_email("browser@example.com").await.unwrap().id;
    let keys = s.app.list_api_keys(user).await.unwrap();
    let desktop = keys.iter().find(|k| k.name == "Claude Desktop").unwrap();
    assert_eq!(desktop.scope, "mcp:write");
    assert_eq!(desktop.expires_at.unwrap().to_rfc3339(), format!("{}T00:00:00+00:00", in_days(&s, 30)));
    assert!(seen["copyLabel"] == "Copied" || seen["copyLabel"] == "Press Ctrl+C", "{seen}");
    if seen["copyLabel"] == "Copied" {
        assert_eq!(seen["clipboard"], token);
    }
    assert_eq!(seen["reloadStatus"], 410, "a reload cannot show the token again");
    assert_eq!((&seen["shownAfterReload"], &seen["shownAfterBack"]), (&json!(false), &json!(false)));
    assert_eq!(seen["keysAfterReloads"], 1, "reload and Back made no second key");
    assert!(seen["listed"].as_str().unwrap().contains("Claude Desktop"));

    // Revoke asked first, by name, and said what it did, once.
    assert_eq!(seen["confirmRevoke"], "Revoke API key “Claude Desktop”?");
    assert!(seen["revokedFlash"].as_str().unwrap().contains("“Claude Desktop” was revoked"), "{seen}");
    assert_eq!(seen["status"], "revoked");
    assert_eq!((&seen["flashAfterReload"], &seen["keysAfterRevoke"]), (&json!(0), &json!(1)));
    let event = seen["latestEvent"].as_str().unwrap();
    assert!(event.contains("“Claude Desktop”") || event.contains("\"Claude Desktop\""), "the event names the key: {event}");
    assert!(event.contains("from 127.0.0.1 · Chrome on Linux"), "and says from where: {event}");
    assert_eq!(s.rpc(Some(token), json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).await.status(), 401);
    assert_eq!(keys.len(), 2, "one key per form: the desktop's and the phone's");
    assert!(keys.iter().all(|k| k.status == "revoked"), "both revoked after confirming");
    assert_eq!(seen["phoneActionsOnScreen"], true, "Revoke and Disconnect are within a phone's screen");

    // The waiting app is named at sign-in, its name marked self-reported; Cancel kept the app.
    let long = "A".repeat(100);
    assert!(seen["signinForApp"].as_str().unwrap().contains(&format!("Sign in to continue to {long}")), "{seen}");
    assert!(seen["signinForApp"].as_str().unwrap().contains("Self-reported name"));
    assert_eq!(seen["appsAfterCancel"], 2);
    assert!(seen["disconnectedFlash"].as_str().unwrap().contains("was disconnected"), "{seen}");
    assert!(
        !seen["appsAfterDisconnect"].as_str().unwrap().contains(&long)
            && seen["appsAfterDisconnect"].as_str().unwrap().contains("Browser Test App")
    );
    assert_eq!(seen["notFoundStatus"], 404);
    // Opened at localhost while the public URL is 127.0.0.1: the refusal says where to go.
    assert_eq!(seen["wrongOriginStatus"], 403);
    assert!(seen["wrongOriginText"].as_str().unwrap().contains(&format!("Open Navis at {}", s.base)), "{seen}");

    // The consent page in the browser: it names the app; Read only was chosen; Approve redirected with a code.
    let consent = seen["consentText"].as_str().unwrap();
    assert!(consent.contains("Browser Test App") && consent.contains("browser@example.com"), "{consent}");
    assert!(consent.contains("your browser will be sent to 127.0.0.1"), "{consent}");
    assert_eq!(seen["state"], "st8");
    let resp = s
        .http
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", seen["clientId"].as_str().unwrap()),
            ("code", seen["code"].as_str().unwrap()),
            ("redirect_uri", seen["callback"].as_str().unwrap()),
            ("code_verifier", seen["verifier"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let tokens: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(tokens["scope"], "mcp:read", "the user's choice of Read only was kept");
}
