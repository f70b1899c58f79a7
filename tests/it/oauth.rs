//! The OAuth 2.1 authorization server, end to end over HTTP, and the attacks it must refuse.
use chrono::Duration;
use serde_json::{Value, json};

use crate::harness::{MCP, TestServer, Trigger};
use crate::oauth_support::{Browser, Client, Pkce, between, query_param};

const CALLBACK: &str = "http://127.0.0.1:33418/callback";

async fn list_tools(s: &TestServer, token: &str) -> u16 {
    s.rpc(Some(token), json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).await.status().as_u16()
}

#[tokio::test]
async fn discovery_documents_agree_on_the_issuer_and_allow_browsers() {
    let s = TestServer::start().await;
    let meta: Value = s.http.get(s.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    let prm: Value = s.http.get(s.url("/.well-known/oauth-protected-resource/mcp")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["issuer"], s.base);
    assert_eq!(prm["authorization_servers"][0], meta["issuer"], "issuer byte-identical");
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    for field in ["authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint", "introspection_endpoint"] {
        assert!(meta[field].as_str().unwrap().starts_with(&s.base), "{field}");
    }
    // CORS for browser-based clients, preflight included.
    for path in ["/.well-known/oauth-authorization-server", "/oauth/register", "/oauth/token"] {
        let resp = s
            .http
            .request(reqwest::Method::OPTIONS, s.url(path))
            .header("Origin", "http://localhost:6274")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}");
        assert_eq!(resp.headers()["access-control-allow-origin"], "*", "{path}");
    }
}

#[tokio::test]
async fn dynamic_registration_fills_defaults_and_judges_each_redirect_uri() {
    let s = TestServer::start().await;
    let reg = |body: Value| s.http.post(s.url("/oauth/register")).json(&body).send();
    let resp = reg(json!({"redirect_uris": [CALLBACK]})).await.unwrap();
    assert_eq!(resp.status(), 201);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(doc["response_types"], json!(["code"]));
    assert_eq!(doc["token_endpoint_auth_method"], "none");
    assert_eq!(doc["redirect_uris"], json!([CALLBACK]));
    assert!(doc["client_id"].is_string() && doc.get("client_secret").is_none());
    assert!(!doc.to_string().contains("null"), "no null fields: {doc}");

    // Cursor-style: an app scheme, an https callback, a loopback one, and one bad URI that must not sink the rest.
    let resp = reg(json!({"client_name": "Cursor", "redirect_uris": ["cursor://anysphere.cursor-mcp/oauth/callback", "https://cursor.com/cb", "http://evil.example/cb", "http://localhost/cb"], "scope": "mcp:read offline_access"})).await.unwrap();
    assert_eq!(resp.status(), 201);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["redirect_uris"].as_array().unwrap().len(), 3);
    assert_eq!(doc["scope"], "mcp:read");

    for (body, error) in [
        (json!({"redirect_uris": ["http://evil.example/cb", "javascript:alert(1)"]}), "invalid_redirect_uri"),
        (json!({"client_name": "x"}), "invalid_redirect_uri"),
        (json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "private_key_jwt"}), "invalid_client_metadata"),
        (json!({"redirect_uris": [CALLBACK], "grant_types": ["client_credentials"]}), "invalid_client_metadata"),
    ] {
        let resp = reg(body.clone()).await.unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], error, "{body}");
    }

    // A confidential client gets its secret once and must use it.
    let doc: Value =
        reg(json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "client_secret_basic"})).await.unwrap().json().await.unwrap();
    let (id, secret) = (doc["client_id"].as_str().unwrap(), doc["client_secret"].as_str().unwrap());
    let resp = s
        .http
        .post(s.url("/oauth/token"))
        .basic_auth(id, Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = s
        .http
        .post(s.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "authenticated; only the refresh token is bad");
}

#[tokio::test]
async fn the_whole_flow_sign_in_consent_code_tokens_refresh_and_disconnect() {
    let s = TestServer::start().await;
    let client = Client::register(&s, "Claude Desktop", CALLBACK).await;
    let pkce = Pkce::new();
    let state = "a/b+c=d&e f";
    let url = client.authorize_url(&s, &pkce, "mcp:read mcp:write offline_access openid", state);

    // Not signed in: sent to sign in, and back to the authorization afterwards.
    let anonymous = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = anonymous.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let signin = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(signin.starts_with("/signin?next=%2Foauth%2Fauthorize"), "{signin}");
    s.user("ada@example.com").await;
    let form = anonymous.get(s.url(&signin)).send().await.unwrap().text().await.unwrap();
    let csrf = between(&form, r#"name="csrf" value=""#, "\"").unwrap().to_owned();
    let next = crate::oauth_support::unescape(between(&form, r#"name="next" value=""#, "\"").unwrap());
    let resp = anonymous
        .post(s.url("/signin"))
        .form(&[("email", "ada@example.com"), ("password", "correct horse battery"), ("csrf", &csrf), ("next", &next)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/oauth/authorize?"), "{back}");

    let browser = Browser { http: anonymous };
    let consent = browser.consent_page(&s.url(&back)).await;
    assert!(consent.contains("Claude Desktop"), "names the client");
    assert!(consent.contains("127.0.0.1"), "shows the redirect host");
    assert!(consent.contains("runs on your own computer"), "warns about a loopback-only client");
    assert!(consent.contains("Read only") && consent.contains("Create, change and delete"), "scopes in plain words");
    assert!(consent.contains("Approve") && consent.contains("Deny"));

    let location = browser.decide(&s, &consent, "approve", None).await;
    assert!(location.starts_with(CALLBACK));
    assert_eq!(query_param(&location, "state").as_deref(), Some(state), "state echoed untouched");
    assert_eq!(query_param(&location, "iss").as_deref(), Some(s.base.as_str()), "RFC 9207 iss");
    let code = query_param(&location, "code").unwrap();

    let resp = client.exchange(&s, &code, &pkce.verifier).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let tokens: Value = resp.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "mcp:read mcp:write");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("nopa_") && refresh.starts_with("nopr_"));

    // The access token works like an API key, for reads and writes.
    let who = s.ok(&access, "get_current_user", json!({})).await;
    assert_eq!(who["token_kind"], "oauth");
    assert_eq!(who["credential_name"], "Claude Desktop");
    s.ok(&access, "create_project", json!({"name": "via OAuth"})).await;
    // A refresh token is not a bearer credential.
    assert_eq!(list_tools(&s, &refresh).await, 401);

    // An hour later the access token has expired; the refresh token rotates.
    s.clock.advance(Duration::minutes(61));
    assert_eq!(list_tools(&s, &access).await, 401);
    let resp = client.refresh(&s, &refresh).await;
    assert_eq!(resp.status(), 200);
    let rotated: Value = resp.json().await.unwrap();
    let access2 = rotated["access_token"].as_str().unwrap().to_owned();
    let refresh2 = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh);
    assert_eq!(list_tools(&s, &access2).await, 200);

    // A retry of the same refresh inside the grace window gets the same successor back.
    s.clock.advance(Duration::seconds(30));
    let again: Value = client.refresh(&s, &refresh).await.json().await.unwrap();
    assert_eq!(again["access_token"], rotated["access_token"]);
    assert_eq!(again["refresh_token"], rotated["refresh_token"]);
    assert_eq!(list_tools(&s, &access2).await, 200);

    // The Connected Apps page lists the app; Disconnect revokes everything at once.
    let page = browser.http.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    let row = between(&page, "<tr data-grant-id=", "</tr>").expect("the app is listed");
    assert!(row.contains("Claude Desktop") && row.contains("127.0.0.1") && row.contains("Read + Write"), "{row}");
    let resp = crate::oauth_support::confirm_row_action(&s, &browser.http, None, row).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(list_tools(&s, &access2).await, 401, "access token dead on the next request");
    let resp = client.refresh(&s, &refresh2).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_grant", "refresh token dead too");
    let page = browser.http.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("<tr data-grant-id="), "no longer listed");
    assert!(page.contains("Claude Desktop was disconnected."), "the page says what happened");
    assert!(page.contains("Connected &#34;Claude Desktop&#34;") && page.contains("Disconnected &#34;Claude Desktop&#34;"), "audit trail");
}

#[tokio::test]
async fn refresh_replay_after_the_grace_window_revokes_the_grant() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let tokens = client.connect(&s, &browser, "mcp:read mcp:write", None).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let rotated: Value = client.refresh(&s, refresh).await.json().await.unwrap();
    s.clock.advance(Duration::seconds(61));
    let resp = client.refresh(&s, refresh).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(list_tools(&s, rotated["access_token"].as_str().unwrap()).await, 401, "the successor was revoked too");
    assert_eq!(client.refresh(&s, rotated["refresh_token"].as_str().unwrap()).await.status(), 400);
    let page = browser.http.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("reused"), "the reuse is in the audit trail");
}

#[tokio::test]
async fn a_refresh_cannot_widen_the_scope_but_may_narrow_it() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let read = client.connect(&s, &browser, "mcp:read mcp:write", Some("read")).await;
    assert_eq!(read["scope"], "mcp:read", "the user granted Read only");
    let resp = client
        .token(&s, &[("grant_type", "refresh_token"), ("refresh_token", read["refresh_token"].as_str().unwrap()), ("scope", "mcp:write")])
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_scope");

    let write = client.connect(&s, &browser, "mcp:read mcp:write", None).await;
    let resp = client
        .token(&s, &[("grant_type", "refresh_token"), ("refresh_token", write["refresh_token"].as_str().unwrap()), ("scope", "mcp:read")])
        .await;
    let narrowed: Value = resp.json().await.unwrap();
    assert_eq!(narrowed["scope"], "mcp:read");
    let token = narrowed["access_token"].as_str().unwrap();
    let resp = s
        .rpc(Some(token), json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_project","arguments":{"name":"x"}}}))
        .await;
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn a_read_grant_gets_403_and_a_step_up_authorization_succeeds() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "Inspector", CALLBACK).await;
    let read = client.connect(&s, &browser, "mcp:read", None).await;
    let token = read["access_token"].as_str().unwrap();
    assert_eq!(s.ok(token, "list_projects", json!({})).await["projects"], json!([]));
    let resp = s
        .rpc(Some(token), json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_project","arguments":{"name":"x"}}}))
        .await;
    assert_eq!(resp.status(), 403);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains(r#"error="insufficient_scope""#) && challenge.contains(r#"scope="mcp:read mcp:write""#), "{challenge}");
    assert_eq!(resp.text().await.unwrap(), r#"{"error":"forbidden","message":"This operation requires the mcp:write scope."}"#);

    // Step up: a new authorization asking for mcp:write. It replaces the read grant.
    let write = client.connect(&s, &browser, "mcp:read mcp:write", None).await;
    let token2 = write["access_token"].as_str().unwrap();
    s.ok(token2, "create_project", json!({"name": "after step-up"})).await;
    assert_eq!(list_tools(&s, token).await, 401, "re-approving replaced the old grant");
    assert_eq!(s.app.connected_apps(s.app.user_by_email("ada@example.com").await.unwrap().id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn authorization_code_replay_revokes_what_the_first_use_issued() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let pkce = Pkce::new();
    let consent = browser.consent_page(&client.authorize_url(&s, &pkce, "mcp:read", "s")).await;
    let code = query_param(&browser.decide(&s, &consent, "approve", None).await, "code").unwrap();
    let first: Value = client.exchange(&s, &code, &pkce.verifier).await.json().await.unwrap();
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(list_tools(&s, access).await, 200);
    let resp = client.exchange(&s, &code, &pkce.verifier).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(list_tools(&s, access).await, 401, "the first exchange's tokens are revoked");
    assert_eq!(client.refresh(&s, first["refresh_token"].as_str().unwrap()).await.status(), 400);
}

#[tokio::test]
async fn pkce_redirect_and_client_are_checked_before_anything_is_issued() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let other = Client::register(&s, "Other", CALLBACK).await;
    let pkce = Pkce::new();
    let consent = browser.consent_page(&client.authorize_url(&s, &pkce, "mcp:read", "s")).await;
    let code = query_param(&browser.decide(&s, &consent, "approve", None).await, "code").unwrap();

    let wrong_verifier = Pkce::new().verifier;
    for (who, form) in [
        (
            "wrong verifier",
            vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CALLBACK),
                ("code_verifier", wrong_verifier.as_str()),
            ],
        ),
        ("missing verifier", vec![("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)]),
        (
            "plain verifier = challenge",
            vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CALLBACK),
                ("code_verifier", pkce.challenge.as_str()),
            ],
        ),
        (
            "other redirect",
            vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", "http://127.0.0.1:33418/other"),
                ("code_verifier", pkce.verifier.as_str()),
            ],
        ),
        (
            "garbage code",
            vec![
                ("grant_type", "authorization_code"),
                ("code", "nopc_garbage"),
                ("redirect_uri", CALLBACK),
                ("code_verifier", pkce.verifier.as_str()),
            ],
        ),
    ] {
        let resp = client.token(&s, &form).await;
        assert_eq!(resp.status(), 400, "{who}");
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_grant", "{who}");
    }
    // Another client cannot redeem it.
    let resp = other.exchange(&s, &code, &pkce.verifier).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // A different resource.
    let resp = client
        .token(
            &s,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &pkce.verifier),
                ("resource", "https://evil.example/mcp"),
            ],
        )
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_target");
    // After all those failures, the rightful exchange still works (nothing was issued or burnt).
    let resp = client.exchange(&s, &code, &pkce.verifier).await;
    assert_eq!(resp.status(), 200);
    // An unknown client is told to register again.
    let resp = s
        .http
        .post(s.url("/oauth/token"))
        .form(&[("client_id", "nope"), ("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_client");
}

#[tokio::test]
async fn authorization_requests_are_validated_without_becoming_an_open_redirect() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", "https://app.example/callback").await;
    let pkce = Pkce::new();
    let base = |redirect: &str, extra: &[(&str, &str)]| {
        let mut url = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &client.id)
                .append_pair("redirect_uri", redirect)
                .append_pair("state", "xyz");
            for (k, v) in extra {
                q.append_pair(k, v);
            }
        }
        url.to_string()
    };
    let good_pkce = [("code_challenge", pkce.challenge.as_str()), ("code_challenge_method", "S256")];

    // Redirect URI variations: an error page, never a redirect.
    for evil in [
        "https://app.example/other",
        "https://evil.example/callback",
        "https://app.example@evil.example/callback",
        "https://app.example/%63allback",
        "https://app.example/callback#frag",
        "https://app.example/callback/",
        "javascript:alert(1)//https://app.example/callback",
        "http://app.example/callback",
    ] {
        let resp = browser.http.get(base(evil, &good_pkce)).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{evil}");
        assert!(resp.headers().get("location").is_none(), "{evil}");
    }
    // An unknown client with an evil redirect: a page too.
    let resp = browser
        .http
        .get(s.url("/oauth/authorize?response_type=code&client_id=nope&redirect_uri=https%3A%2F%2Fevil.example%2F&state=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());

    // Errors about PKCE, response type and resource: an error page too, never a redirect, even to
    // the registered URI (RFC 9700 §4.11.2: registration is open, so that URI may be a phishing page).
    for (extra, error) in [
        (vec![], "invalid_request"),
        (vec![("code_challenge", pkce.challenge.as_str()), ("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge", pkce.challenge.as_str())], "invalid_request"),
        (
            vec![("code_challenge", pkce.challenge.as_str()), ("code_challenge_method", "S256"), ("resource", "https://evil.example/mcp")],
            "invalid_target",
        ),
    ] {
        let resp = browser.http.get(base("https://app.example/callback", &extra)).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{extra:?}");
        assert!(resp.headers().get("location").is_none(), "{extra:?}");
        assert!(resp.text().await.unwrap().contains(&format!("({error})")), "{extra:?}");
    }
    // A missing resource means this server, and unknown scopes are narrowed away.
    let resp = browser
        .http
        .get(base("https://app.example/callback", &[good_pkce[0], good_pkce[1], ("scope", "openid profile offline_access")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "consent page");
    // Deny goes back with access_denied.
    let consent = resp.text().await.unwrap();
    let location = browser.decide(&s, &consent, "deny", None).await;
    assert_eq!(query_param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn consent_submitted_cross_site_is_refused() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let pkce = Pkce::new();
    let url = client.authorize_url(&s, &pkce, "mcp:read mcp:write", "s");
    let consent = browser.consent_page(&url).await;
    let params: Vec<(String, String)> = url::Url::parse(&url).unwrap().query_pairs().into_owned().collect();
    let csrf = between(&consent, r#"name="csrf" value=""#, "\"").unwrap().to_owned();
    let mut fields = params.clone();
    fields.push(("decision".into(), "approve".into()));
    fields.push(("access".into(), "write".into()));
    // A forged page elsewhere: the browser says so with Origin, and the attacker cannot know the token.
    let mut with_token = fields.clone();
    with_token.push(("csrf".into(), csrf));
    let resp =
        browser.http.post(s.url("/oauth/authorize")).header("Origin", "https://evil.example").form(&with_token).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let mut forged = fields.clone();
    forged.push(("csrf".into(), "guess".into()));
    let resp = browser.http.post(s.url("/oauth/authorize")).form(&forged).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(
        s.app.connected_apps(s.app.user_by_email("ada@example.com").await.unwrap().id).await.unwrap().is_empty(),
        "nothing was granted"
    );
}

#[tokio::test]
async fn a_reaped_registration_gets_invalid_client_but_a_used_one_is_kept() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let unused = Client::register(&s, "Never used", CALLBACK).await;
    let used = Client::register(&s, "Used", CALLBACK).await;
    let tokens = used.connect(&s, &browser, "mcp:read", None).await;
    s.clock.advance(Duration::hours(25));
    assert_eq!(s.app.reap_unused_clients().await.unwrap(), 1);
    let resp = unused.refresh(&s, "nopr_whatever").await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_client");
    let resp = browser.http.get(unused.authorize_url(&s, &Pkce::new(), "mcp:read", "s")).send().await.unwrap();
    assert_eq!(resp.status(), 400, "an error page, not a redirect");
    assert_eq!(used.refresh(&s, tokens["refresh_token"].as_str().unwrap()).await.status(), 200, "a client with a live grant is kept");
}

#[tokio::test]
async fn revocation_and_introspection() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let other = Client::register(&s, "Other", CALLBACK).await;
    let tokens = client.connect(&s, &browser, "mcp:read", None).await;
    let access = tokens["access_token"].as_str().unwrap();
    let introspect = |c: &str, t: &str| s.http.post(s.url("/oauth/introspect")).form(&[("client_id", c), ("token", t)]).send();
    let doc: Value = introspect(&client.id, access).await.unwrap().json().await.unwrap();
    assert_eq!(doc["active"], true);
    assert_eq!(doc["scope"], "mcp:read");
    assert_eq!(doc["aud"], s.url(MCP));
    assert_eq!(doc["iss"], s.base);
    let doc: Value = introspect(&other.id, access).await.unwrap().json().await.unwrap();
    assert_eq!(doc, json!({"active": false}), "another client learns nothing");

    // Another client cannot revoke it; its own client can.
    let revoke = |c: &str, t: &str| s.http.post(s.url("/oauth/revoke")).form(&[("client_id", c), ("token", t)]).send();
    assert_eq!(revoke(&other.id, access).await.unwrap().status(), 200);
    assert_eq!(list_tools(&s, access).await, 200);
    assert_eq!(revoke(&client.id, access).await.unwrap().status(), 200);
    assert_eq!(list_tools(&s, access).await, 401);
    // Revoking the refresh token ends the grant.
    assert_eq!(revoke(&client.id, tokens["refresh_token"].as_str().unwrap()).await.unwrap().status(), 200);
    assert_eq!(client.refresh(&s, tokens["refresh_token"].as_str().unwrap()).await.status(), 400);
    assert_eq!(revoke(&client.id, "nopa_unknown").await.unwrap().status(), 200, "unknown tokens: same answer");
}

#[tokio::test]
async fn an_app_connected_twice_is_listed_twice_and_disconnected_separately() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let laptop = Client::register(&s, "Claude Desktop", CALLBACK).await;
    let desktop = Client::register(&s, "Claude Desktop", "http://localhost:9999/callback").await;
    let a = laptop.connect(&s, &browser, "mcp:read", None).await;
    let b = desktop.connect(&s, &browser, "mcp:read", None).await;
    let user = s.app.user_by_email("ada@example.com").await.unwrap().id;
    let apps = s.app.connected_apps(user).await.unwrap();
    assert_eq!(apps.len(), 2);
    let laptop_grant = apps.iter().find(|x| x.client_id == laptop.id).unwrap().grant_id;
    s.app.disconnect(user, laptop_grant).await.unwrap();
    assert_eq!(list_tools(&s, a["access_token"].as_str().unwrap()).await, 401);
    assert_eq!(list_tools(&s, b["access_token"].as_str().unwrap()).await, 200);
    // Another user cannot disconnect Ada's app.
    let bob = s.user("bob@example.com").await;
    let desktop_grant = s.app.connected_apps(user).await.unwrap()[0].grant_id;
    assert!(s.app.disconnect(bob, desktop_grant).await.is_err());
    assert_eq!(list_tools(&s, b["access_token"].as_str().unwrap()).await, 200);
}

#[tokio::test]
async fn a_token_bound_to_another_resource_is_refused_by_the_resource_server() {
    use navis::core::{scope::Access, secret::digest, token};
    use navis::store::{AuditEvent, AuthCode, Grant};
    let s = TestServer::start().await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let user = s.user("ada@example.com").await;
    // A grant for some other server's resource, planted directly in the store: the
    // authorization endpoint never issues one (invalid_target), so only the RS check is tested.
    let now = s.clock_now();
    let grant = Grant {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        client_id: client.id.clone(),
        access: Access::Write,
        resource: "https://other.example/mcp".into(),
        redirect_uri: CALLBACK.into(),
        created_at: now,
        revoked_at: None,
        last_used_at: None,
    };
    let pkce = Pkce::new();
    let code = token::mint(token::TokenKind::Code);
    let row = AuthCode {
        id: code.id.clone(),
        digest: digest(&code.plaintext).to_vec(),
        grant_id: grant.id,
        redirect_uri: CALLBACK.into(),
        code_challenge: pkce.challenge.clone(),
        expires_at: now + Duration::minutes(5),
        used_at: None,
    };
    let event = AuditEvent {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        kind: "oauth.connected".into(),
        detail: "planted".into(),
        created_at: now,
        ip: None,
        client: None,
    };
    s.app.store.insert_grant_with_code(&grant, &row, &event).await.unwrap();
    let resp = client
        .token(
            &s,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code.plaintext),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let tokens: Value = resp.json().await.unwrap();
    assert_eq!(list_tools(&s, tokens["access_token"].as_str().unwrap()).await, 401, "audience mismatch");
}

#[tokio::test]
async fn expired_sessions_and_codes_are_purged() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let pkce = Pkce::new();
    let consent = browser.consent_page(&client.authorize_url(&s, &pkce, "mcp:read", "s")).await;
    let code = query_param(&browser.decide(&s, &consent, "approve", None).await, "code").unwrap();
    assert_eq!(s.app.purge_expired().await.unwrap(), 0, "nothing has expired yet");
    s.clock.advance(Duration::days(15));
    // The 14-day browser session and the 10-minute code are gone.
    assert_eq!(s.app.purge_expired().await.unwrap(), 2);
    assert_eq!(client.exchange(&s, &code, &pkce.verifier).await.status(), 400);
    let resp = browser.http.get(s.url("/settings/connected-apps")).send().await.unwrap();
    assert_eq!(resp.headers()["location"], "/signin");
}

#[tokio::test]
async fn an_approval_or_a_disconnect_whose_audit_row_fails_changes_nothing() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let first = client.connect(&s, &browser, "mcp:read", None).await;
    let user = s.app.user_by_email("ada@example.com").await.unwrap().id;
    let grant = s.app.connected_apps(user).await.unwrap()[0].grant_id;

    s.trigger("audit_events", "INSERT", Trigger::Refuse).await;
    // Approving the app again replaces its grant: without the audit row, the old grant must survive.
    let consent = browser.consent_page(&client.authorize_url(&s, &Pkce::new(), "mcp:read mcp:write", "s")).await;
    let resp = browser.post_decision(&s, &consent, "approve", None).await;
    assert_ne!(resp.status(), 303, "no code is handed out");
    assert!(s.app.disconnect(user, grant).await.is_err(), "a disconnect without its audit row fails");
    let refresh = client.refresh(&s, first["refresh_token"].as_str().unwrap()).await;
    let rotated: Value = refresh.json().await.unwrap();
    s.clock.advance(Duration::seconds(61));
    let replay = client.refresh(&s, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(replay.status(), 500, "a replay whose revocation cannot be recorded is not answered as handled");
    s.drop_trigger("audit_events").await;

    let apps = s.app.connected_apps(user).await.unwrap();
    assert_eq!(apps.iter().map(|a| a.grant_id).collect::<Vec<_>>(), vec![grant], "the first grant alone, still live");
    assert_eq!(list_tools(&s, rotated["access_token"].as_str().unwrap()).await, 200);
    // With the audit trail writable again, the same replay revokes the grant and says so.
    assert_eq!(client.refresh(&s, first["refresh_token"].as_str().unwrap()).await.status(), 400);
    assert_eq!(list_tools(&s, rotated["access_token"].as_str().unwrap()).await, 401);
    let kinds: Vec<String> = s.app.audit_trail(user, 50).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "oauth.connected").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "oauth.refresh_reuse").count(), 1, "{kinds:?}");
}

#[tokio::test]
async fn the_losing_exchange_of_a_code_redeemed_twice_at_once_revokes_the_grant_and_records_it() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", CALLBACK).await;
    let user = s.app.user_by_email("ada@example.com").await.unwrap().id;
    let code_reuse_events = || async { s.app.audit_trail(user, 50).await.unwrap().iter().filter(|e| e.kind == "oauth.code_reuse").count() };
    let authorize = || async {
        let pkce = Pkce::new();
        let consent = browser.consent_page(&client.authorize_url(&s, &pkce, "mcp:read", "s")).await;
        (query_param(&browser.decide(&s, &consent, "approve", None).await, "code").unwrap(), pkce)
    };

    // Deterministically: another exchange marks the code used between this one's read and its
    // write, which then changes no row (a trigger makes every update of a code change nothing).
    let (code, pkce) = authorize().await;
    s.trigger("oauth_codes", "UPDATE", Trigger::Skip).await;
    let resp = client.exchange(&s, &code, &pkce.verifier).await;
    s.drop_trigger("oauth_codes").await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert!(s.app.connected_apps(user).await.unwrap().is_empty(), "the grant is revoked");
    assert_eq!(code_reuse_events().await, 1, "the revocation is a security event on Connected Apps");
    let page = browser.http.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("used twice"), "listed on the page");

    // And for real: two exchanges at once. One wins; either way the grant ends revoked, and recorded.
    let (code, pkce) = authorize().await;
    let (one, two) = tokio::join!(client.exchange(&s, &code, &pkce.verifier), client.exchange(&s, &code, &pkce.verifier));
    let mut statuses = [one.status().as_u16(), two.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400]);
    assert!(s.app.connected_apps(user).await.unwrap().is_empty());
    assert_eq!(code_reuse_events().await, 2);
}
