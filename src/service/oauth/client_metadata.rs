//! Client ID Metadata Documents: a client whose `client_id` is an https URL publishes its
//! metadata there. Navis fetches it with SSRF protection — the default https port only, public
//! addresses only, checked after DNS resolution and pinned for the connection (no
//! re-resolution, no proxy), no redirects, a size and a time limit — and caches it as its HTTP
//! caching headers allow, in a bounded cache. Why a fetch failed is logged, never shown.
use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
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
/// Documents kept in memory at once (the URLs come from anonymous requests).
pub const MAX_CACHED_DOCUMENTS: usize = 1000;

#[derive(Debug, Default)]
pub struct ClientMetadataFetcher {
    cache: Mutex<HashMap<String, (OAuthClient, DateTime<Utc>)>>,
    /// Tests only, never set from configuration: reach a test site over plain http, on any port.
    allow_http_for_tests: AtomicBool,
    /// Tests only, never set from configuration: fetch from loopback and private addresses.
    allow_private_for_tests: AtomicBool,
    /// Tests only: names answered without DNS.
    hosts_for_tests: Mutex<HashMap<String, IpAddr>>,
}

impl ClientMetadataFetcher {
    /// Tests only: a loopback test site over plain http (both relaxations below).
    pub fn allow_local_for_tests(&self, allow: bool) {
        self.allow_http_for_tests(allow);
        self.allow_private_for_tests.store(allow, Ordering::Relaxed);
    }

    /// Tests only: plain http and any port, with the address check still on.
    pub fn allow_http_for_tests(&self, allow: bool) {
        self.allow_http_for_tests.store(allow, Ordering::Relaxed);
    }

    /// Tests only: `host` resolves to `ip` (without DNS).
    pub fn resolve_for_tests(&self, host: &str, ip: IpAddr) {
        self.hosts_for_tests.lock().unwrap_or_else(|e| e.into_inner()).insert(host.to_owned(), ip);
    }

    fn http_allowed(&self) -> bool {
        self.allow_http_for_tests.load(Ordering::Relaxed)
    }

    fn private_allowed(&self) -> bool {
        self.allow_private_for_tests.load(Ordering::Relaxed)
    }

    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        if let Some(ip) = self.hosts_for_tests.lock().unwrap_or_else(|e| e.into_inner()).get(host) {
            return Ok(vec![SocketAddr::new(*ip, port)]);
        }
        Ok(tokio::time::timeout(FETCH_TIMEOUT, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| "resolving the client_id host timed out".to_owned())?
            .map_err(|_| "the client_id host does not resolve".to_owned())?
            .collect())
    }

    /// Whether `client_id` names a metadata document: an https URL with a path.
    pub fn is_document_url(&self, client_id: &str) -> bool {
        url::Url::parse(client_id).is_ok_and(|u| {
            let scheme_ok = u.scheme() == "https" || (self.http_allowed() && u.scheme() == "http");
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

    /// Keeps at most [`MAX_CACHED_DOCUMENTS`]: when full, the entry that expires first (an
    /// expired one, if any) makes room.
    fn remember(&self, url: &str, client: &OAuthClient, until: DateTime<Utc>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED_DOCUMENTS
            && !cache.contains_key(url)
            && let Some(first) = cache.iter().min_by_key(|(_, (_, until))| *until).map(|(key, _)| key.clone())
        {
            cache.remove(&first);
        }
        cache.insert(url.to_owned(), (client.clone(), until));
    }

    /// Fetches the document at `url` under the SSRF rules; returns its JSON and how long it may be cached.
    pub async fn fetch(&self, url: &str) -> Result<(Value, i64), FetchError> {
        let parsed = url::Url::parse(url).map_err(|_| FetchError::Refused("the client_id is not a URL"))?;
        // Only the default https port: anything else would let anonymous requests probe ports.
        if parsed.port().is_some() && !self.http_allowed() {
            return Err(FetchError::Refused("a client_id URL must use the default https port (443)"));
        }
        let host = parsed.host_str().ok_or(FetchError::Refused("the client_id URL has no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = parsed.port_or_known_default().ok_or(FetchError::Refused("the client_id URL has no port"))?;
        let addrs = self.resolve(&host, port).await.map_err(FetchError::Failed)?;
        let Some(addr) = addrs.first().copied() else { return Err(FetchError::failed("the client_id host does not resolve")) };
        if !self.private_allowed()
            && let Some(refused) = addrs.iter().find(|a| !is_public(a.ip()))
        {
            return Err(FetchError::Failed(format!("the client_id host resolves to {}, not a public address", refused.ip())));
        }
        let http = pinned_client(&host, addr).map_err(|e| FetchError::Failed(format!("cannot build the HTTP client: {e}")))?;
        let mut response = http
            .get(parsed.as_str())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| FetchError::Failed(format!("fetching from {addr} failed: {}", e.without_url())))?;
        if response.status().is_redirection() {
            return Err(FetchError::failed("the client metadata URL redirects; redirects are not followed"));
        }
        if !response.status().is_success() {
            return Err(FetchError::Failed(format!("the client metadata URL answered {}", response.status())));
        }
        let too_large = || FetchError::Failed(format!("the client metadata document is larger than {MAX_DOCUMENT_BYTES} bytes"));
        if response.content_length().is_some_and(|n| n as usize > MAX_DOCUMENT_BYTES) {
            return Err(too_large());
        }
        let ttl = cache_ttl(response.headers().get("cache-control").and_then(|v| v.to_str().ok()));
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| FetchError::Failed(format!("reading the client metadata failed: {}", e.without_url())))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(too_large());
            }
        }
        let doc: Value = serde_json::from_slice(&body).map_err(|_| FetchError::failed("the client metadata document is not JSON"))?;
        Ok((doc, ttl))
    }
}

/// Why a document was not fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// A rule about the URL itself, which the caller can read anyway: shown to the caller.
    Refused(&'static str),
    /// What happened while resolving, connecting or reading: logged, never shown. An address,
    /// a refused connection or a TLS error would let anonymous requests map the server's network.
    Failed(String),
}

impl FetchError {
    fn failed(why: &str) -> Self {
        Self::Failed(why.to_owned())
    }
}

/// What the caller is told about a [`FetchError::Failed`].
pub const NOT_FETCHED: &str = "it could not be fetched";

/// An HTTP client that reaches `host` only at the vetted `addr`: the connection cannot be
/// re-resolved to somewhere else. No redirects are followed.
fn pinned_client(host: &str, addr: SocketAddr) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(FETCH_TIMEOUT)
        .resolve(host, addr)
        // A proxy would resolve the name again, and could reach what the address check refused.
        .no_proxy()
        .user_agent(concat!("Navis/", env!("CARGO_PKG_VERSION"), " (client metadata fetcher)"))
        .build()
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
        let (doc, ttl) = self.client_metadata.fetch(client_id).await.map_err(|e| match e {
            FetchError::Refused(why) => OAuthError::new("invalid_client", why),
            FetchError::Failed(why) => {
                tracing::info!(client_id, error = %why, "client metadata document not fetched");
                OAuthError::new("invalid_client", NOT_FETCHED)
            }
        })?;
        let client = client_from_document(client_id, &doc, now).map_err(|e| OAuthError::new("invalid_client", e))?;
        self.store.upsert_client(&client).await?;
        if ttl > 0 {
            self.client_metadata.remember(client_id, &client, now + chrono::Duration::seconds(ttl));
        }
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

    fn client(url: &str) -> OAuthClient {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        client_from_document(url, &json!({"client_id": url, "redirect_uris": ["http://127.0.0.1/cb"]}), now).unwrap()
    }

    /// Anonymous requests choose the URLs, so the cache is bounded: when full, the entry that
    /// expires first (an expired one before any other) makes room.
    #[test]
    fn the_cache_is_bounded_and_evicts_what_expires_first() {
        let fetcher = ClientMetadataFetcher::default();
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let url = |i: usize| format!("https://app{i}.example/client.json");
        for i in 0..MAX_CACHED_DOCUMENTS + 10 {
            fetcher.remember(&url(i), &client(&url(i)), start + chrono::Duration::seconds(i as i64 + 1));
        }
        assert_eq!(fetcher.cache.lock().unwrap().len(), MAX_CACHED_DOCUMENTS);
        assert!(fetcher.cached(&url(9), start).is_none(), "the ten that expire first made room");
        assert!(fetcher.cached(&url(10), start).is_some());
        assert!(fetcher.cached(&url(MAX_CACHED_DOCUMENTS + 9), start).is_some());
        // Refreshing an entry already there takes no room.
        fetcher.remember(&url(10), &client(&url(10)), start + chrono::Duration::days(1));
        assert_eq!(fetcher.cache.lock().unwrap().len(), MAX_CACHED_DOCUMENTS);
        assert!(fetcher.cached(&url(11), start).is_some());
    }

    /// A proxy would resolve the name again, and could reach what the address check refused:
    /// the fetcher ignores the proxy environment variables and connects to the pinned address.
    #[tokio::test]
    async fn the_pinned_client_ignores_proxy_settings() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let origin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin_addr = origin.local_addr().unwrap();
        for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            // SAFETY: nextest runs each test in its own process; nothing else here reads the environment.
            unsafe { std::env::set_var(name, format!("http://{}", proxy.local_addr().unwrap())) };
        }
        let http = pinned_client("pinned.invalid", origin_addr).unwrap();
        let request = tokio::spawn(http.get(format!("http://pinned.invalid:{}/client.json", origin_addr.port())).send());
        let (mut stream, reached) = tokio::select! {
            accepted = origin.accept() => (accepted.unwrap().0, "origin"),
            accepted = proxy.accept() => (accepted.unwrap().0, "proxy"),
        };
        let mut head = [0u8; 512];
        let n = stream.read(&mut head).await.unwrap();
        stream.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").await.unwrap();
        for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            // SAFETY: as above.
            unsafe { std::env::remove_var(name) };
        }
        let head = String::from_utf8_lossy(&head[..n]).into_owned();
        assert_eq!(reached, "origin", "{head}");
        assert!(head.starts_with("GET /client.json HTTP/1.1"), "{head}");
        assert!(head.to_ascii_lowercase().contains(&format!("host: pinned.invalid:{}", origin_addr.port())), "{head}");
        request.abort();
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
