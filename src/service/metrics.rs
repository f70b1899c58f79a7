//! Counters for `/metrics` (Prometheus text format). Aggregates only: never a token, an id or
//! an email. Lock-free atomics, so counting costs the hot path nothing measurable.
use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use super::AuthFailure;

/// Authentication outcomes, in this order: accepted API key, accepted OAuth token, then the refusals.
const AUTH_LABELS: [&str; 7] = ["api_key", "oauth", "missing", "malformed", "invalid", "revoked", "expired"];
/// Token endpoint outcomes.
const TOKEN_LABELS: [&str; 3] = ["authorization_code", "refresh_token", "error"];

#[derive(Debug)]
pub struct Metrics {
    started: std::time::Instant,
    auth: [AtomicU64; 7],
    forbidden: AtomicU64,
    /// Tool name → [succeeded, failed]. Only names of tools that exist get here.
    tool_calls: Mutex<BTreeMap<String, [u64; 2]>>,
    /// (HTTP API operation, status) → requests. Only operations that exist get here.
    api_calls: Mutex<BTreeMap<(&'static str, u16), u64>>,
    tokens: [AtomicU64; 3],
    /// MCP requests answered by the sessionless fast path (the rest went through rmcp).
    fast_path: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: std::time::Instant::now(),
            auth: Default::default(),
            forbidden: AtomicU64::new(0),
            tool_calls: Mutex::new(BTreeMap::new()),
            api_calls: Mutex::new(BTreeMap::new()),
            tokens: Default::default(),
            fast_path: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn authenticated(&self, oauth: bool) {
        self.auth[usize::from(oauth)].fetch_add(1, Relaxed);
    }

    pub fn refused(&self, failure: AuthFailure) {
        let i = match failure {
            AuthFailure::Missing => 2,
            AuthFailure::Malformed => 3,
            AuthFailure::Invalid => 4,
            AuthFailure::Revoked => 5,
            AuthFailure::Expired => 6,
        };
        self.auth[i].fetch_add(1, Relaxed);
    }

    pub fn forbidden(&self) {
        self.forbidden.fetch_add(1, Relaxed);
    }

    pub fn tool_call(&self, name: &str, failed: bool) {
        let mut calls = self.tool_calls.lock().unwrap_or_else(|e| e.into_inner());
        match calls.get_mut(name) {
            Some(counts) => counts[usize::from(failed)] += 1,
            None => {
                let mut counts = [0, 0];
                counts[usize::from(failed)] = 1;
                calls.insert(name.to_owned(), counts);
            }
        }
    }

    pub fn api_call(&self, operation: &'static str, status: u16) {
        *self.api_calls.lock().unwrap_or_else(|e| e.into_inner()).entry((operation, status)).or_insert(0) += 1;
    }

    pub fn fast_path(&self) {
        self.fast_path.fetch_add(1, Relaxed);
    }

    pub fn token(&self, grant: Option<&str>) {
        let i = match grant {
            Some("authorization_code") => 0,
            Some("refresh_token") => 1,
            _ => 2,
        };
        self.tokens[i].fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP navis_uptime_seconds Seconds since this instance started.\n# TYPE navis_uptime_seconds gauge\n");
        out.push_str(&format!("navis_uptime_seconds {}\n", self.started.elapsed().as_secs()));
        out.push_str("# HELP navis_bearer_auth_total Bearer credentials checked, by outcome.\n# TYPE navis_bearer_auth_total counter\n");
        for (label, n) in AUTH_LABELS.iter().zip(&self.auth) {
            out.push_str(&format!("navis_bearer_auth_total{{outcome=\"{label}\"}} {}\n", n.load(Relaxed)));
        }
        out.push_str("# HELP navis_insufficient_scope_total Write tools refused to read-only credentials (403).\n# TYPE navis_insufficient_scope_total counter\n");
        out.push_str(&format!("navis_insufficient_scope_total {}\n", self.forbidden.load(Relaxed)));
        out.push_str("# HELP navis_tool_calls_total MCP tool calls, by tool and result.\n# TYPE navis_tool_calls_total counter\n");
        for (name, counts) in self.tool_calls.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            for (result, n) in ["ok", "error"].iter().zip(counts) {
                out.push_str(&format!("navis_tool_calls_total{{tool=\"{name}\",result=\"{result}\"}} {n}\n"));
            }
        }
        out.push_str("# HELP navis_api_requests_total HTTP API requests that reached an operation, by operation and status.\n# TYPE navis_api_requests_total counter\n");
        for ((operation, status), n) in self.api_calls.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            out.push_str(&format!("navis_api_requests_total{{operation=\"{operation}\",status=\"{status}\"}} {n}\n"));
        }
        out.push_str("# HELP navis_oauth_token_requests_total Token endpoint requests, by grant (or error).\n# TYPE navis_oauth_token_requests_total counter\n");
        for (label, n) in TOKEN_LABELS.iter().zip(&self.tokens) {
            out.push_str(&format!("navis_oauth_token_requests_total{{grant=\"{label}\"}} {}\n", n.load(Relaxed)));
        }
        out.push_str("# HELP navis_mcp_fast_path_total MCP requests answered without building an rmcp service.\n# TYPE navis_mcp_fast_path_total counter\n");
        out.push_str(&format!("navis_mcp_fast_path_total {}\n", self.fast_path.load(Relaxed)));
        out
    }
}
