//! `/metrics`, in the OpenMetrics text format (`prometheus-client`): counters of outcomes, latency
//! histograms (requests by face and status class, database queries, the token endpoint),
//! in-flight requests, open MCP sessions and database pool use — what an operator needs to see
//! load, an outage and the recovery. Aggregates only: never a token, an id or an email.
use std::{
    sync::{LazyLock, OnceLock},
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use super::AuthFailure;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    operation: &'static str,
    status: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabel {
    grant: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    face: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueryLabel {
    kind: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// 0.1 ms to ~1.6 s in doublings: the hot path's answers sit in the first few buckets.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

/// Database query durations, for the whole process: the store records them without a handle to
/// an instance's metrics (in production one process is one instance).
static DB_QUERIES: LazyLock<Histograms<QueryLabel>> = LazyLock::new(|| Family::new_with_constructor(latency));

/// Records how long one database call took: `kind` is `read`, `write` or `transaction`.
pub fn db_query(kind: &'static str, took: Duration) {
    DB_QUERIES.get_or_create(&QueryLabel { kind }).observe(took.as_secs_f64());
}

/// Runs one database call, recording its duration as `kind`.
pub async fn timed<T>(kind: &'static str, call: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let result = call.await;
    db_query(kind, started.elapsed());
    result
}

/// A pool's size and how many of its connections are idle, read when `/metrics` is scraped.
pub type PoolUse = (u32, u32);

pub struct Metrics {
    registry: Registry,
    started: Instant,
    uptime: Gauge,
    auth: Family<OutcomeLabel, Counter>,
    forbidden: Counter,
    tool_calls: Family<ToolLabels, Counter>,
    api_calls: Family<ApiLabels, Counter>,
    tokens: Family<GrantLabel, Counter>,
    fast_path: Counter,
    requests: Histograms<RequestLabels>,
    in_flight: Gauge,
    token_endpoint: Histogram,
    mcp_sessions: Gauge,
    pool_size: Gauge,
    pool_idle: Gauge,
    /// Counts the open MCP sessions when scraped (set by the MCP transports).
    session_count: OnceLock<Box<dyn Fn() -> usize + Send + Sync>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("navis");
        let m = Metrics {
            started: Instant::now(),
            uptime: Gauge::default(),
            auth: Family::default(),
            forbidden: Counter::default(),
            tool_calls: Family::default(),
            api_calls: Family::default(),
            tokens: Family::default(),
            fast_path: Counter::default(),
            requests: Family::new_with_constructor(latency),
            in_flight: Gauge::default(),
            token_endpoint: latency(),
            mcp_sessions: Gauge::default(),
            pool_size: Gauge::default(),
            pool_idle: Gauge::default(),
            session_count: OnceLock::new(),
            registry: Registry::default(),
        };
        registry.register("uptime_seconds", "Seconds since this instance started", m.uptime.clone());
        registry.register("bearer_auth", "Bearer credentials checked, by outcome", m.auth.clone());
        registry.register("insufficient_scope", "Write operations refused to read-only credentials (403)", m.forbidden.clone());
        registry.register("tool_calls", "MCP tool calls, by tool and result", m.tool_calls.clone());
        registry.register("api_requests", "HTTP API requests that reached an operation, by operation and status", m.api_calls.clone());
        registry.register("oauth_token_requests", "Token endpoint requests, by grant (or error)", m.tokens.clone());
        registry.register("mcp_fast_path", "MCP requests answered without building an rmcp service", m.fast_path.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to the response's head), by face (mcp, api, oauth, pages, well_known, ops) and status class",
            m.requests.clone(),
        );
        registry.register("http_requests_in_flight", "HTTP requests being answered now", m.in_flight.clone());
        registry.register("oauth_token_duration_seconds", "Time the token endpoint took to answer", m.token_endpoint.clone());
        registry.register("db_query_duration_seconds", "Database calls, by kind (read, write, transaction)", DB_QUERIES.clone());
        registry.register("mcp_sessions_open", "MCP sessions open on this instance", m.mcp_sessions.clone());
        registry.register("db_pool_connections", "Connections in the database pool", m.pool_size.clone());
        registry.register("db_pool_idle_connections", "Idle connections in the database pool", m.pool_idle.clone());
        Metrics { registry, ..m }
    }
}

/// Counts a request as in flight until dropped.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Which face of the server a path belongs to, as the request-duration label.
pub fn face_of(path: &str) -> &'static str {
    if path == "/mcp" || path.starts_with("/functions/") {
        "mcp"
    } else if path.starts_with("/api/") {
        "api"
    } else if path.starts_with("/oauth/") && path != "/oauth/authorize" {
        "oauth"
    } else if path.starts_with("/.well-known/") {
        "well_known"
    } else if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        "ops"
    } else {
        "pages"
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    pub fn authenticated(&self, oauth: bool) {
        let outcome = if oauth { "oauth" } else { "api_key" };
        self.auth.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn refused(&self, failure: AuthFailure) {
        let outcome = match failure {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Invalid => "invalid",
            AuthFailure::Revoked => "revoked",
            AuthFailure::Expired => "expired",
        };
        self.auth.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn forbidden(&self) {
        self.forbidden.inc();
    }

    /// Only names of tools that exist get here (unknown tools are refused before).
    pub fn tool_call(&self, name: &str, failed: bool) {
        let result = if failed { "error" } else { "ok" };
        self.tool_calls.get_or_create(&ToolLabels { tool: name.to_owned(), result }).inc();
    }

    pub fn api_call(&self, operation: &'static str, status: u16) {
        self.api_calls.get_or_create(&ApiLabels { operation, status: u32::from(status) }).inc();
    }

    pub fn fast_path(&self) {
        self.fast_path.inc();
    }

    pub fn token(&self, grant: Option<&str>) {
        let grant = match grant {
            Some("authorization_code") => "authorization_code",
            Some("refresh_token") => "refresh_token",
            _ => "error",
        };
        self.tokens.get_or_create(&GrantLabel { grant }).inc();
    }

    pub fn token_answered(&self, took: Duration) {
        self.token_endpoint.observe(took.as_secs_f64());
    }

    /// A request has arrived; it stays in flight until the guard is dropped.
    pub fn request_started(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    pub fn request_answered(&self, face: &'static str, status: u16, took: Duration) {
        self.requests.get_or_create(&RequestLabels { face, status: status_class(status) }).observe(took.as_secs_f64());
    }

    /// Where the open MCP sessions are counted (once, by the MCP transports).
    pub fn count_sessions_with(&self, count: impl Fn() -> usize + Send + Sync + 'static) {
        let _ = self.session_count.set(Box::new(count));
    }

    /// The OpenMetrics text exposition, with the gauges read now.
    pub fn render(&self, pool: Option<PoolUse>) -> String {
        self.uptime.set(i64::try_from(self.started.elapsed().as_secs()).unwrap_or(i64::MAX));
        if let Some(count) = self.session_count.get() {
            self.mcp_sessions.set(i64::try_from(count()).unwrap_or(i64::MAX));
        }
        if let Some((size, idle)) = pool {
            self.pool_size.set(i64::from(size));
            self.pool_idle.set(i64::from(idle));
        }
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.authenticated(false);
        m.refused(AuthFailure::Missing);
        m.tool_call("list_tasks", false);
        m.api_call("list_tasks", 200);
        m.request_answered("mcp", 200, Duration::from_micros(300));
        let guard = m.request_started();
        db_query("read", Duration::from_micros(50));
        let text = m.render(Some((8, 7)));
        drop(guard);
        for line in [
            "navis_bearer_auth_total{outcome=\"api_key\"} 1",
            "navis_bearer_auth_total{outcome=\"missing\"} 1",
            "navis_tool_calls_total{tool=\"list_tasks\",result=\"ok\"} 1",
            "navis_api_requests_total{operation=\"list_tasks\",status=\"200\"} 1",
            "navis_http_request_duration_seconds_count{face=\"mcp\",status=\"2xx\"} 1",
            "navis_http_request_duration_seconds_bucket{le=\"0.0004\",face=\"mcp\",status=\"2xx\"} 1",
            "navis_http_requests_in_flight 1",
            "navis_db_pool_connections 8",
            "navis_db_pool_idle_connections 7",
        ] {
            assert!(text.contains(line), "missing {line}:\n{text}");
        }
        assert!(text.contains("navis_db_query_duration_seconds_count{kind=\"read\"}"), "{text}");
        assert_eq!(face_of("/functions/v1/mcp-server-v2"), "mcp");
        assert_eq!(face_of("/oauth/token"), "oauth");
        assert_eq!(face_of("/oauth/authorize"), "pages");
        assert_eq!(face_of("/api/v1/tasks"), "api");
    }
}
