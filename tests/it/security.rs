//! The security review's findings (issue 7), each as an attack that must fail: redirects,
//! sign-in throttling, CSRF bound to the session, and the authorization request's rules.
use std::net::IpAddr;

use serde_json::{Value, json};

use crate::harness::{Options, TestServer};
use crate::oauth_support::{Browser, Client, Pkce, between, query_param};

fn csrf_of(html: &str) -> String {
    between(html, r#"name="csrf" value=""#, "\"").expect("csrf field").to_owned()
}

/// A browser whose connections come from `from` (any 127.0.0.0/8 address reaches the server).
fn browser_at(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// Posts the sign-in form (fetched first, as a browser would); returns the response.
async fn sign_in(s: &TestServer, b: &reqwest::Client, email: &str, password: &str, next: &str) -> reqwest::Response {
    let form = b.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
    b.post(s.url("/signin"))
        .form(&[("email", email), ("password", password), ("csrf", &csrf_of(&form)), ("next", next)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_never_redirects_off_the_site() {
    let s = TestServer::start().await;
    s.user("ada@example.com").await;
    for evil in [
        "/\t/evil.example/x",
        "/\u{1}/evil.example/x",
        "/\u{b}/evil.example/x",
        "/\u{7f}/evil.example/x",
        "/\n/evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",
        "/\\/evil.example/x",
        "https://evil.example/x",
        "javascript:alert(1)",
        "evil.example",
    ] {
        let b = browser_at("127.0.0.1");
        let resp = sign_in(&s, &b, "ada@example.com", "correct horse battery", evil).await;
        assert_eq!(resp.status(), 303, "{evil:?}");
        assert_eq!(resp.headers()["location"], "/settings/connected-apps", "{evil:?}");
    }
    // The GET form keeps only a safe `next` too (the raw query of the issue's report).
    let b = browser_at("127.0.0.1");
    let form = b.get(s.url("/signin?next=%2F%09%2Fevil.example%2Fx")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains(r#"name="next" value="/settings/connected-apps""#), "{form}");
    // A path on this server, with its query, survives.
    let b = browser_at("127.0.0.1");
    let resp = sign_in(&s, &b, "ada@example.com", "correct horse battery", "/oauth/authorize?client_id=a%20b&state=x").await;
    assert_eq!(resp.headers()["location"], "/oauth/authorize?client_id=a%20b&state=x");
}

#[tokio::test]
async fn an_invalid_authorization_request_never_redirects_even_to_a_registered_uri() {
    let s = TestServer::start().await;
    // Anyone can register a phishing page as their redirect URI.
    let phish = Client::register(&s, "Totally Navis", "https://phish.example/landing").await;
    let signed_in = Browser::signed_in(&s, "ada@example.com").await;
    for (query, what) in [
        (format!("client_id={}&redirect_uri=https%3A%2F%2Fphish.example%2Flanding&response_type=code", phish.id), "no PKCE"),
        (format!("client_id={}&response_type=token", phish.id), "implicit"),
        (format!("client_id={}&response_type=code&code_challenge=x&code_challenge_method=plain", phish.id), "plain PKCE"),
    ] {
        for http in [&s.http, &signed_in.http] {
            let resp = http.get(s.url(&format!("/oauth/authorize?{query}"))).send().await.unwrap();
            assert_eq!(resp.status(), 400, "{what}");
            assert!(resp.headers().get("location").is_none(), "{what}: an error page, never a redirect");
            assert!(resp.text().await.unwrap().contains("Cannot connect this app"), "{what}");
        }
    }
}

#[tokio::test]
async fn registration_refuses_schemes_that_hand_the_code_to_another_program() {
    let s = TestServer::start().await;
    for bad in [
        "search-ms:query=x&crumb=location:\\\\evil.example\\share",
        "ms-msdt:/id PCWDiagnostic",
        "view-source:https://app.example/cb",
        "jar:https://app.example/x.jar!/cb",
        "mailto:victim@example.com",
        "ftp://app.example/cb",
    ] {
        let resp = s.http.post(s.url("/oauth/register")).json(&json!({"redirect_uris": [bad]})).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_redirect_uri", "{bad}");
    }
    // Native apps' own schemes still register: reverse-domain ones and Cursor's.
    let resp = s
        .http
        .post(s.url("/oauth/register"))
        .json(&json!({"redirect_uris": ["com.example.app:/oauth2redirect", "cursor://anysphere.cursor-mcp/oauth/callback", "mailto:x@example.com"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["redirect_uris"], json!(["com.example.app:/oauth2redirect", "cursor://anysphere.cursor-mcp/oauth/callback"]));
}

#[tokio::test]
async fn a_code_exchange_must_repeat_the_redirect_uri_the_request_carried() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", "http://127.0.0.1:4000/callback").await;
    let pkce = Pkce::new();
    let consent = browser.consent_page(&client.authorize_url(&s, &pkce, "mcp:read", "st")).await;
    let code = query_param(&browser.decide(&s, &consent, "approve", None).await, "code").unwrap();
    let without = [("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", pkce.verifier.as_str())];
    let resp = client.token(&s, &without).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].as_str().unwrap().contains("redirect_uri is required"), "{body}");

    // A request that named no redirect URI (the client registered one) may exchange without it.
    let pkce = Pkce::new();
    let mut url = url::Url::parse(&client.authorize_url(&s, &pkce, "mcp:read", "st")).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().filter(|(k, _)| k != "redirect_uri").collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let consent = browser.consent_page(url.as_str()).await;
    let code = query_param(&browser.decide(&s, &consent, "approve", None).await, "code").unwrap();
    let resp = client.token(&s, &[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", &pkce.verifier)]).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn consent_without_a_recognised_scope_asks_for_read_only() {
    let s = TestServer::start().await;
    let browser = Browser::signed_in(&s, "ada@example.com").await;
    let client = Client::register(&s, "App", "http://127.0.0.1:4000/callback").await;
    for scope in ["", "openid profile offline_access"] {
        let pkce = Pkce::new();
        let consent = browser.consent_page(&client.authorize_url(&s, &pkce, scope, "st")).await;
        assert!(!consent.contains("Create, change and delete"), "{scope:?}: only Read is asked for");
        assert!(consent.contains(r#"<input type="hidden" name="access" value="read">"#), "{scope:?}");
        let code = query_param(&browser.decide(&s, &consent, "approve", None).await, "code").unwrap();
        let tokens: Value = client.exchange(&s, &code, &pkce.verifier).await.json().await.unwrap();
        assert_eq!(tokens["scope"], "mcp:read", "{scope:?}");
    }
}

#[tokio::test]
async fn a_planted_csrf_cookie_does_not_pass_for_a_signed_in_browser() {
    let s = TestServer::start().await;
    let user = s.user("ada@example.com").await;
    // Sign in without a cookie jar, to hold the session cookie by hand.
    let plain = browser_at("127.0.0.1");
    let resp = sign_in(&s, &plain, "ada@example.com", "correct horse battery", "").await;
    let session = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("navis_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("session cookie");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let planted = "0123456789abcdef0123456789abcdef0123456789a";
    // No Origin, no Sec-Fetch-Site: only the token can tell.
    let resp = http
        .post(s.url("/settings/connected-apps/keys"))
        .header("Cookie", format!("navis_session={session}; navis_csrf={planted}"))
        .form(&[("name", "planted"), ("scope", "write"), ("csrf", planted)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(s.app.list_api_keys(user).await.unwrap().is_empty(), "no key was made");
    // The page's own token works.
    let page = http
        .get(s.url("/settings/connected-apps"))
        .header("Cookie", format!("navis_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let resp = http
        .post(s.url("/settings/connected-apps/keys"))
        .header("Cookie", format!("navis_session={session}"))
        .form(&[("name", "mine"), ("scope", "read"), ("csrf", &csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success() || resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(s.app.list_api_keys(user).await.unwrap().len(), 1);
}

async fn status_of(resp: reqwest::Response) -> (u16, Option<String>, String) {
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry, resp.text().await.unwrap())
}

#[tokio::test]
async fn parallel_guesses_cannot_slip_past_the_throttle() {
    let s = TestServer::start().await;
    s.user("ada@example.com").await;
    let b = browser_at("127.0.0.2");
    let form = b.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&form);
    let guesses = (0..30).map(|i| {
        let password = format!("guess number {i}");
        let (b, csrf, url) = (b.clone(), csrf.clone(), s.url("/signin"));
        async move {
            let resp = b.post(url).form(&[("email", "ada@example.com"), ("password", &password), ("csrf", &csrf)]).send().await.unwrap();
            resp.status().as_u16()
        }
    });
    let statuses = futures_join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(checked, 5, "only the free attempts are checked, however many arrive at once: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
}

async fn futures_join_all<F: std::future::Future<Output = u16> + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn guessing_cannot_lock_the_owner_out() {
    let s = TestServer::start().await;
    s.user("ada@example.com").await;
    // Ada signs in once from her browser, which then holds a device cookie for her account.
    let ada = browser_at("127.0.0.3");
    assert_eq!(sign_in(&s, &ada, "ada@example.com", "correct horse battery", "").await.status(), 303);
    let signout = ada.get(s.url("/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    ada.post(s.url("/signout")).form(&[("csrf", csrf_of(&signout))]).send().await.unwrap();

    // Someone guesses her password from elsewhere, many times.
    let attacker = browser_at("127.0.0.4");
    for _ in 0..5 {
        assert_eq!(sign_in(&s, &attacker, "ada@example.com", "wrong password", "").await.status(), 401);
    }
    let (status, retry, page) = status_of(sign_in(&s, &attacker, "ada@example.com", "wrong password", "").await).await;
    assert_eq!(status, 429, "the account is slowed down");
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(page.contains("Try again in 1 second."), "the page says when");
    // A slowdown, not a lock: after the delay the attempt is checked again, and the delay grows.
    s.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(sign_in(&s, &attacker, "ada@example.com", "wrong password", "").await.status(), 401);
    let (status, retry, _) = status_of(sign_in(&s, &attacker, "ada@example.com", "wrong password", "").await).await;
    assert_eq!((status, retry.as_deref()), (429, Some("2")));

    // Ada, in her own browser, is not slowed down by the stranger's guesses.
    assert_eq!(sign_in(&s, &ada, "ada@example.com", "correct horse battery", "").await.status(), 303);
    // Her success cleared the account's count. After five more guesses (from another address),
    // on a new device she waits the short delay she is told, then gets in.
    let attacker = browser_at("127.0.0.10");
    for _ in 0..5 {
        assert_eq!(sign_in(&s, &attacker, "ada@example.com", "wrong password", "").await.status(), 401);
    }
    let new_device = browser_at("127.0.0.5");
    let (status, retry, _) = status_of(sign_in(&s, &new_device, "ada@example.com", "correct horse battery", "").await).await;
    assert_eq!(status, 429);
    let wait: i64 = retry.unwrap().parse().unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    s.clock.advance(chrono::Duration::seconds(wait));
    assert_eq!(sign_in(&s, &new_device, "ada@example.com", "correct horse battery", "").await.status(), 303);
}

#[tokio::test]
async fn an_address_that_keeps_failing_is_refused_for_any_account() {
    let s = TestServer::start().await;
    s.user("ada@example.com").await;
    s.user("bob@example.com").await;
    let guesser = browser_at("127.0.0.6");
    for i in 0..10 {
        let status = sign_in(&s, &guesser, &format!("user{i}@example.com"), "wrong password", "").await.status();
        assert_eq!(status, 401, "attempt {i}");
    }
    // Even a right password is refused from that address, for the rest of the window…
    let (status, retry, page) = status_of(sign_in(&s, &guesser, "bob@example.com", "correct horse battery", "").await).await;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("900"));
    assert!(page.contains("Try again in 15 minutes."), "{page}");
    // …while other addresses sign in as usual.
    assert_eq!(sign_in(&s, &browser_at("127.0.0.7"), "bob@example.com", "correct horse battery", "").await.status(), 303);
    s.clock.advance(chrono::Duration::minutes(15));
    assert_eq!(sign_in(&s, &guesser, "bob@example.com", "correct horse battery", "").await.status(), 303);
}

#[tokio::test]
async fn instances_on_one_database_count_failures_together() {
    let a = TestServer::start().await;
    let b = TestServer::start_with(Options { database_url: Some(a.database_url.clone()), ..Default::default() }).await;
    a.user("ada@example.com").await;
    let attacker = browser_at("127.0.0.8");
    for i in 0..5 {
        let on = if i % 2 == 0 { &a } else { &b };
        assert_eq!(sign_in(on, &attacker, "ada@example.com", "wrong password", "").await.status(), 401);
    }
    // The sixth guess is slowed down on either instance (both clocks read the same time).
    b.clock.set(a.clock_now());
    assert_eq!(sign_in(&b, &attacker, "ada@example.com", "wrong password", "").await.status(), 429);
    assert_eq!(sign_in(&a, &attacker, "ada@example.com", "wrong password", "").await.status(), 429);
}

#[tokio::test]
async fn concurrent_password_hashing_is_bounded_and_the_rest_told_to_retry() {
    let s = TestServer::start().await;
    let slots = std::thread::available_parallelism().map_or(1, |n| n.get()) * (1 + navis::service::accounts::HASH_QUEUE_PER_CORE);
    // Hold every queue slot, as that many hashes in flight would.
    let held: Vec<_> = (0..slots).map(|_| s.app.hashing.admit().unwrap()).collect();
    let b = browser_at("127.0.0.9");
    let (status, retry, page) = status_of(sign_in(&s, &b, "ada@example.com", "whatever password", "").await).await;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("2"));
    assert!(page.contains("The server is busy"), "{page}");
    let form = b.get(s.url("/signup")).send().await.unwrap().text().await.unwrap();
    let resp = b
        .post(s.url("/signup"))
        .form(&[("email", "new@example.com"), ("password", "correct horse battery"), ("csrf", &csrf_of(&form))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    // A refused attempt was not counted against anyone; once slots free up, all is as before.
    drop(held);
    s.user("ada@example.com").await;
    assert_eq!(sign_in(&s, &b, "ada@example.com", "correct horse battery", "").await.status(), 303);
}

/// Posts a wrong password with the given `X-Forwarded-For`.
async fn guess_via_proxy(s: &TestServer, b: &reqwest::Client, forwarded_for: &str) -> u16 {
    let form = b.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
    b.post(s.url("/signin"))
        .header("X-Forwarded-For", forwarded_for)
        .form(&[("email", "ada@example.com"), ("password", "wrong password"), ("csrf", &csrf_of(&form))])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_counted_on_its_own_and_spoofing_is_ignored() {
    let proxied = TestServer::start_with(Options { trusted_proxies: Some(vec!["127.0.0.1".into()]), ..Default::default() }).await;
    let proxy = browser_at("127.0.0.1");
    // Ten failures of one client, each for another email (so only the address counter fills).
    for i in 0..10 {
        let form = proxy.get(proxied.url("/signin")).send().await.unwrap().text().await.unwrap();
        let status = proxy
            .post(proxied.url("/signin"))
            .header("X-Forwarded-For", "198.51.100.1")
            .form(&[("email", format!("user{i}@example.com").as_str()), ("password", "wrong password"), ("csrf", &csrf_of(&form))])
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "failure {i} of the first client");
    }
    // That client is now refused; another client behind the same proxy is not.
    assert_eq!(guess_via_proxy(&proxied, &proxy, "198.51.100.1").await, 429);
    assert_eq!(guess_via_proxy(&proxied, &proxy, "198.51.100.2").await, 401);
    // A client cannot escape by writing its own X-Forwarded-For: the proxy appends the real one.
    assert_eq!(guess_via_proxy(&proxied, &proxy, "203.0.113.5, 198.51.100.1").await, 429);

    // Without --trusted-proxies the header is ignored: every guess counts against the connection.
    let direct = TestServer::start().await;
    let spoofer = browser_at("127.0.0.11");
    for i in 0..10 {
        let form = spoofer.get(direct.url("/signin")).send().await.unwrap().text().await.unwrap();
        let status = spoofer
            .post(direct.url("/signin"))
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .form(&[("email", format!("user{i}@example.com").as_str()), ("password", "wrong password"), ("csrf", &csrf_of(&form))])
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    assert_eq!(guess_via_proxy(&direct, &spoofer, "198.51.100.99").await, 429);
}

#[tokio::test]
async fn with_forwarded_configured_only_that_header_names_the_client() {
    let options =
        Options { trusted_proxies: Some(vec!["127.0.0.1".into()]), forwarded_header: Some("forwarded".into()), ..Default::default() };
    let s = TestServer::start_with(options).await;
    let proxy = browser_at("127.0.0.1");
    // Ten failures named by RFC 7239 `Forwarded`, each for another account: that client is refused.
    for i in 0..10 {
        let form = proxy.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
        let status = proxy
            .post(s.url("/signin"))
            .header("Forwarded", r#"for="198.51.100.1:4711";proto=https"#)
            .form(&[("email", format!("user{i}@example.com").as_str()), ("password", "wrong password"), ("csrf", &csrf_of(&form))])
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "failure {i}");
    }
    let with_forwarded = |value: &'static str| {
        let proxy = proxy.clone();
        let s = &s;
        async move {
            let form = proxy.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
            let req = proxy.post(s.url("/signin")).header("Forwarded", value).header("X-Forwarded-For", "203.0.113.77");
            let csrf = csrf_of(&form);
            let form = [("email", "ada@example.com"), ("password", "wrong password"), ("csrf", csrf.as_str())];
            req.form(&form).send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(with_forwarded("for=198.51.100.1").await, 429, "the same client, whatever X-Forwarded-For says");
    assert_eq!(with_forwarded("for=198.51.100.2").await, 401, "another client behind the proxy");
    // X-Forwarded-For alone is not read: every such guess counts against the proxy's own address,
    // which has not failed yet.
    let form = proxy.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
    let status = proxy
        .post(s.url("/signin"))
        .header("X-Forwarded-For", "198.51.100.1")
        .form(&[("email", "bob@example.com"), ("password", "wrong password"), ("csrf", &csrf_of(&form))])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "X-Forwarded-For is ignored when Forwarded is the configured header");
}
