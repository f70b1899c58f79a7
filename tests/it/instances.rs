//! Several Navis instances on one database behave as one server (PostgreSQL in production;
//! the same holds for two processes on one SQLite file, which this suite also checks).
use serde_json::{Value, json};

use crate::harness::{Options, TestServer};
use crate::oauth_support::{Browser, Client, Pkce, query_param};

#[tokio::test]
async fn a_key_revoked_on_one_instance_fails_on_the_other_at_once() {
    let a = TestServer::start().await;
    let b = TestServer::start_with(Options { database_url: Some(a.database_url.clone()), ..Default::default() }).await;
    let ada = a.account("ada@example.com").await;
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
    assert_eq!(b.rpc(Some(&ada.write), list.clone()).await.status(), 200, "a key made on A works on B");
    // Data written through one instance is read through the other.
    let project = a.ok(&ada.write, "create_project", json!({"name": "Written on A"})).await;
    let task = b.ok(&ada.write, "create_task", json!({"title": "Written on B", "project_id": project["id"]})).await;
    assert_eq!(b.ok(&ada.read, "get_project", json!({"id": project["id"]})).await["name"], "Written on A");
    assert_eq!(a.ok(&ada.read, "list_tasks", json!({})).await["tasks"][0]["id"], task["id"]);
    let id = navis::core::token::parse(&ada.write).unwrap().id.to_owned();
    b.app.revoke_api_key(ada.id, &id).await.unwrap();
    assert_eq!(a.rpc(Some(&ada.write), list.clone()).await.status(), 401, "revoked on B, refused on A");
    assert_eq!(a.rpc(Some(&ada.read), list).await.status(), 200, "the user's other key is untouched");
}

#[tokio::test]
async fn an_oauth_flow_may_start_on_one_instance_and_finish_on_another() {
    let a = TestServer::start().await;
    // Both instances answer for the same public URL, as behind a load balancer (A's address here),
    // so a token issued through one is good at the other. Each still has its own loopback port, so
    // the test registers on A, authorizes on A, and redeems and refreshes on B.
    let b = TestServer::start_with(Options {
        database_url: Some(a.database_url.clone()),
        public_url: Some(a.base.clone()),
        ..Default::default()
    })
    .await;
    let browser = Browser::signed_in(&a, "ada@example.com").await;
    let client = Client::register(&a, "App", "http://127.0.0.1:33421/callback").await;
    let pkce = Pkce::new();
    let consent = browser.consent_page(&client.authorize_url(&a, &pkce, "mcp:read mcp:write", "s")).await;
    let code = query_param(&browser.decide(&a, &consent, "approve", None).await, "code").unwrap();
    let resp = b
        .http
        .post(b.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client.id.as_str()),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap_or_default());
    let tokens: Value = resp.json().await.unwrap_or_default();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    // A refresh retried on the other instance within the grace window gets the same successor.
    let refresh_on = |server: &TestServer| {
        let request = server.http.post(server.url("/oauth/token")).form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client.id.as_str()),
            ("refresh_token", refresh),
        ]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let first = refresh_on(&b).await;
    let retry = refresh_on(&a).await;
    assert_eq!(first["refresh_token"], retry["refresh_token"]);
    let token = first["access_token"].as_str().unwrap();
    assert_eq!(a.ok(token, "get_current_user", json!({})).await["email"], "ada@example.com");
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
    assert_eq!(b.rpc(Some(token), list.clone()).await.status(), 200, "B accepts the token A accepts");
    // Disconnect on A: B refuses the token at once.
    let user = a.app.user_by_email("ada@example.com").await.unwrap().id;
    let grant = a.app.connected_apps(user).await.unwrap()[0].grant_id;
    a.app.disconnect(user, grant).await.unwrap();
    assert_eq!(b.rpc(Some(token), list).await.status(), 401, "disconnected on A, refused on B");
}
