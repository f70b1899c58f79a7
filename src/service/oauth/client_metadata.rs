//! Client ID Metadata Documents: a client whose `client_id` is an https URL publishes its
//! metadata there. Navis fetches it with SSRF protection — public addresses only, checked
//! after DNS resolution and pinned for the connection (no re-resolution), no redirects,
//! a size and a time limit — and caches it as its HTTP caching headers allow.
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{OAuthError, OAuthResult};
use crate::core::{net::is_public, oauth::check_redirect_uri};
use crate::service::App;
use crate::store::OAuthClient;

pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_TTL_SECS: i64 = 300;
const MAX_TTL_SECS: i64 = 24 * 3600;

#[derive(Debug, Default)]
pub struct ClientMetadataFetcher {
    cache: Mutex<HashMap<String, (OAuthClient, DateTime<Utc>)>>,
    /// Tests only: reach loopback servers over plain http. Never set from configuration.
    allow_local_for_tests: AtomicBool,
}

impl ClientMetadataFetcher {
    pub fn allow_local_for_tests(&self, allow: bool) {
        self.allow_local_for_tests.store(allow, Ordering::Relaxed);
    }

    fn local_allowed(&self) -> bool {
        self.allow_local_for_tests.load(Ordering::Relaxed)
    }

    /// Whether `client_id` names a metadata document: an https URL with a path.
    pub fn is_document_url(&self, client_id: &str) -> bool {
        url::Url::parse(client_id).is_ok_and(|u| {
            let scheme_ok = u.scheme() == "https" || (self.local_allowed() && u.scheme() == "http");
            scheme_ok
                && u.path() != "/"
                && !u.path().is_empty()
                && u.fragment().is_none()
                && u.username().is_empty()
                && u.password().is_none()
                && u.host_str().is_some()
        })
    }

    fn cached(&self, url: &str, now: DateTime<Utc>) -> Option<OAuthClient> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(url).filter(|(_, until)| *until > now).map(|(c, _)| c.clone())
    }

    fn remember(&self, url: &str, client: &OAuthClient, until: DateTime<Utc>) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(url.to_owned(), (client.clone(), until));
    }

    /// Fetches the document at `url` under the SSRF rules; returns its JSON and how long it may be cached.
    pub async fn fetch(&self, url: &str) -> Result<(Value, i64), String> {
        let parsed = url::Url::parse(url).map_err(|_| "the client_id is not a URL".to_owned())?;
        let host = parsed.host_str().ok_or("the client_id URL has no host")?.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = parsed.port_or_known_default().ok_or("the client_id URL has no port")?;
        let addrs: Vec<SocketAddr> = tokio::time::timeout(FETCH_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| "resolving the client_id host timed out".to_owned())?
            .map_err(|_| "the client_id host does not resolve".to_owned())?
            .collect();
        let Some(addr) = addrs.first().copied() else { return Err("the client_id host does not resolve".into()) };
        if !self.local_allowed() && !addrs.iter().all(|a| is_public(a.ip())) {
            return Err("the client_id host resolves to a private or local address".into());
        }
        // Pin the vetted address: the connection cannot be re-resolved to somewhere else.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .resolve(&host, addr)
            .user_agent(concat!("Navis/", env!("CARGO_PKG_VERSION"), " (client metadata fetcher)"))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut response = http
            .get(parsed.as_str())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("fetching the client metadata failed: {}", e.without_url()))?;
        if response.status().is_redirection() {
            return Err("the client metadata URL redirects; redirects are not followed".into());
        }
        if !response.status().is_success() {
            return Err(format!("the client metadata URL answered {}", response.status()));
        }
        if response.content_length().is_some_and(|n| n as usize > MAX_DOCUMENT_BYTES) {
            return Err(format!("the client metadata document is larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        let ttl = cache_ttl(response.headers().get("cache-control").and_then(|v| v.to_str().ok()));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading the client metadata failed: {}", e.without_url()))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("the client metadata document is larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
        }
        let doc: Value = serde_json::from_slice(&body).map_err(|_| "the client metadata document is not JSON".to_owned())?;
        Ok((doc, ttl))
    }
}

/// Seconds a response may be reused, from its Cache-Control header (RFC 9111 §5.2.2).
pub fn cache_ttl(header: Option<&str>) -> i64 {
    let Some(header) = header else { return DEFAULT_TTL_SECS };
    let mut ttl = DEFAULT_TTL_SECS;
    for directive in header.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return 0;
        }
        if let Some(v) = directive.strip_prefix("max-age=") {
            ttl = v.trim_matches('"').parse::<i64>().unwrap_or(0);
        }
    }
    ttl.clamp(0, MAX_TTL_SECS)
}

/// Validates a fetched document into a client (draft-ietf-oauth-client-id-metadata-document).
pub fn client_from_document(url: &str, doc: &Value, now: DateTime<Utc>) -> Result<OAuthClient, String> {
    let obj = doc.as_object().ok_or("the client metadata document is not a JSON object")?;
    if obj.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err("the document's client_id is not the URL it was fetched from".into());
    }
    let method = obj.get("token_endpoint_auth_method").and_then(Value::as_str).unwrap_or("none");
    if method != "none" {
        return Err(format!("token_endpoint_auth_method {method} is not supported for metadata-document clients (use none)"));
    }
    let uris: Vec<String> = obj
        .get("redirect_uris")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let accepted: Vec<String> = uris.into_iter().filter(|u| check_redirect_uri(u).is_ok()).collect();
    if accepted.is_empty() {
        return Err("the client metadata document lists no acceptable redirect_uris".into());
    }
    let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let name = obj
        .get("client_name")
        .and_then(Value::as_str)
        .map(|n| n.trim().chars().take(100).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or(host);
    Ok(OAuthClient {
        id: url.to_owned(),
        secret_digest: None,
        name,
        metadata: json!({ "client_id": url, "client_name": obj.get("client_name"), "redirect_uris": accepted, "token_endpoint_auth_method": "none" }),
        redirect_uris: accepted,
        token_endpoint_auth_method: "none".into(),
        created_at: now,
    })
}

impl App {
    /// A client by id: a registered one, or — for an https `client_id` — its metadata document,
    /// fetched (or taken from the cache) and recorded so that grants can refer to it.
    pub async fn resolve_client(&self, client_id: &str) -> OAuthResult<Option<OAuthClient>> {
        if !self.client_metadata.is_document_url(client_id) {
            return Ok(self.store.client(client_id).await?);
        }
        let now = self.now();
        if let Some(client) = self.client_metadata.cached(client_id, now) {
            return Ok(Some(client));
        }
        let (doc, ttl) = self.client_metadata.fetch(client_id).await.map_err(|e| OAuthError::new("invalid_client", e))?;
        let client = client_from_document(client_id, &doc, now).map_err(|e| OAuthError::new("invalid_client", e))?;
        self.store.upsert_client(&client).await?;
        self.client_metadata.remember(client_id, &client, now + chrono::Duration::seconds(ttl));
        Ok(Some(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_lifetime_follows_cache_control() {
        assert_eq!(cache_ttl(None), 300);
        assert_eq!(cache_ttl(Some("public, max-age=60")), 60);
        assert_eq!(cache_ttl(Some("max-age=999999999")), 86400);
        assert_eq!(cache_ttl(Some("no-store")), 0);
        assert_eq!(cache_ttl(Some("max-age=60, no-cache")), 0);
    }

    #[test]
    fn documents_must_name_themselves_and_a_usable_redirect() {
        let url = "https://app.example/oauth/client.json";
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let ok = json!({"client_id": url, "client_name": "App", "redirect_uris": ["http://127.0.0.1/cb", "http://evil.example/cb"]});
        let client = client_from_document(url, &ok, now).map_err(|e| e.to_string());
        assert_eq!(client.as_ref().map(|c| c.redirect_uris.clone()), Ok(vec!["http://127.0.0.1/cb".to_owned()]));
        assert!(
            client_from_document(url, &json!({"client_id": "https://other.example/x", "redirect_uris": ["http://127.0.0.1/cb"]}), now)
                .is_err()
        );
        assert!(client_from_document(url, &json!({"client_id": url, "redirect_uris": ["http://evil.example/cb"]}), now).is_err());
        assert!(
            client_from_document(
                url,
                &json!({"client_id": url, "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
                now
            )
            .is_err()
        );
        assert!(client_from_document(url, &json!(["not an object"]), now).is_err());
    }
}
