//! A scripted OAuth client and a signed-in browser, for driving the authorization server over HTTP.
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{MCP, TestServer};

pub fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)? + from;
    Some(&html[from..to])
}

/// Decodes the character references the pages write: numeric ones (the templates' `&#34;`) and
/// the few named ones (`&quot;` and the like), in one pass so that `&#38;lt;` stays `&lt;`.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let c = match &rest[1..end] {
                "quot" => '"',
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                name => char::from_u32(name.strip_prefix('#')?.parse().ok()?)?,
            };
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Clicks a Connected Apps row's Revoke or Disconnect link, then the button on the confirmation
/// page it opens, as a person would: the row's link is only a GET, the page's form is the post.
/// `cookie` is sent by hand for a client without a cookie jar. Returns the post's response.
pub async fn confirm_row_action(s: &TestServer, http: &reqwest::Client, cookie: Option<&str>, row: &str) -> reqwest::Response {
    let link = unescape(between(row, r#"href=""#, "\"").expect("the row's action link"));
    let with_cookie = |req: reqwest::RequestBuilder| match cookie {
        Some(c) => req.header("Cookie", c),
        None => req,
    };
    let confirm = with_cookie(http.get(s.url(&link))).send().await.unwrap();
    assert_eq!(confirm.status(), 200, "the confirmation page");
    let page = confirm.text().await.unwrap();
    let confirm = &page[page.find(r#"class="card narrow confirm""#).expect("a confirmation, not the action itself")..];
    let form = between(confirm, r#"<form method="post" action=""#, "</form>").expect("the confirmation form");
    let action = unescape(&form[..form.find('"').unwrap()]);
    let csrf = between(form, r#"name="csrf" value=""#, "\"").unwrap().to_owned();
    with_cookie(http.post(s.url(&action)).form(&[("csrf", csrf)])).send().await.unwrap()
}

/// A browser with a signed-in session.
pub struct Browser {
    pub http: reqwest::Client,
}

impl Browser {
    pub async fn signed_in(s: &TestServer, email: &str) -> Browser {
        if s.app.user_by_email(email).await.is_err() {
            s.user(email).await;
        }
        let http = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let form = http.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
        let csrf = between(&form, r#"name="csrf" value=""#, "\"").unwrap().to_owned();
        let resp = http
            .post(s.url("/signin"))
            .form(&[("email", email), ("password", "correct horse battery"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
        Browser { http }
    }

    /// GETs the authorization URL; returns the consent page's HTML (or panics with what came instead).
    pub async fn consent_page(&self, authorize_url: &str) -> String {
        let resp = self.http.get(authorize_url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "expected the consent page, got {:?}", resp.headers().get("location"));
        resp.text().await.unwrap()
    }

    /// Posts the consent form as the user's browser would; returns the redirect Location.
    pub async fn decide(&self, s: &TestServer, consent_html: &str, decision: &str, access: Option<&str>) -> String {
        let resp = self.post_decision(s, consent_html, decision, access).await;
        assert_eq!(resp.status(), 303, "consent should redirect");
        resp.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Posts the consent form as the user's browser would; returns the response as it is.
    pub async fn post_decision(&self, s: &TestServer, consent_html: &str, decision: &str, access: Option<&str>) -> reqwest::Response {
        let form = between(consent_html, r#"<form method="post" action="/oauth/authorize">"#, "</form>").expect("consent form");
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut rest = form;
        while let Some(i) = rest.find(r#"<input type="hidden" name=""#) {
            rest = &rest[i + 27..];
            let name = &rest[..rest.find('"').unwrap()];
            let value = between(rest, r#"value=""#, "\"").unwrap();
            fields.push((name.to_owned(), unescape(value)));
        }
        if let Some(access) = access {
            fields.retain(|(k, _)| k != "access");
            fields.push(("access".into(), access.into()));
        } else if !fields.iter().any(|(k, _)| k == "access") {
            fields.push(("access".into(), "write".into()));
        }
        fields.push(("decision".into(), decision.into()));
        self.http.post(s.url("/oauth/authorize")).form(&fields).send().await.unwrap()
    }
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let verifier = navis::core::secret::random_base62(64);
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce { verifier, challenge }
    }
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url).ok()?.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A registered public client.
pub struct Client {
    pub id: String,
    pub redirect_uri: String,
}

impl Client {
    pub async fn register(s: &TestServer, name: &str, redirect_uri: &str) -> Client {
        let resp = s
            .http
            .post(s.url("/oauth/register"))
            .json(&json!({"client_name": name, "redirect_uris": [redirect_uri]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let doc: Value = resp.json().await.unwrap();
        Client { id: doc["client_id"].as_str().unwrap().to_owned(), redirect_uri: redirect_uri.to_owned() }
    }

    pub fn authorize_url(&self, s: &TestServer, pkce: &Pkce, scope: &str, state: &str) -> String {
        let mut url = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("scope", scope)
            .append_pair("state", state)
            .append_pair("resource", &s.url(MCP));
        url.to_string()
    }

    pub async fn token(&self, s: &TestServer, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> = vec![("client_id", &self.id)];
        fields.extend_from_slice(form);
        s.http.post(s.url("/oauth/token")).form(&fields).send().await.unwrap()
    }

    pub async fn exchange(&self, s: &TestServer, code: &str, verifier: &str) -> reqwest::Response {
        self.token(
            s,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("code_verifier", verifier),
                ("resource", &s.url(MCP)),
            ],
        )
        .await
    }

    pub async fn refresh(&self, s: &TestServer, refresh_token: &str) -> reqwest::Response {
        self.token(s, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    /// Register-free shortcut: authorize as `browser`, approve with `access`, exchange. Returns the token response.
    pub async fn connect(&self, s: &TestServer, browser: &Browser, scope: &str, access: Option<&str>) -> Value {
        let pkce = Pkce::new();
        let consent = browser.consent_page(&self.authorize_url(s, &pkce, scope, "st")).await;
        let location = browser.decide(s, &consent, "approve", access).await;
        let code = query_param(&location, "code").expect("code in redirect");
        let resp = self.exchange(s, &code, &pkce.verifier).await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }
}
