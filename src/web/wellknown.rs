//! RFC 9728 protected resource metadata: one document per MCP path, plus the root form.
//!
//! Navis is one protected resource, named by its public URL: the MCP server (at either path) and
//! the HTTP API under `/api/v1` are parts of it, take the same tokens with the same scopes, and a
//! token issued for any of these names works at all of them. The API's challenges point at the
//! root document; each MCP path has its own, as MCP clients look for it there, and so has
//! `/api/v1`, at RFC 9728's place for that name.
use axum::{
    Json,
    extract::{OriginalUri, State},
    http::header,
    response::IntoResponse,
};
use serde_json::json;

use super::AppState;
use crate::config::Settings;
use crate::core::scope;
use crate::edge::PRM_PREFIX;

fn document(settings: &Settings, resource: String) -> serde_json::Value {
    json!({
        "resource": resource,
        // The issuer string, byte-identical to the authorization server metadata's.
        "authorization_servers": [settings.public_url],
        "scopes_supported": [scope::READ, scope::WRITE],
        "bearer_methods_supported": ["header"],
        "resource_name": "Navis: MCP server and HTTP API (one protected resource)",
        "resource_documentation": settings.url("/"),
    })
}

fn respond(doc: serde_json::Value) -> impl IntoResponse {
    ([(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"), (header::CACHE_CONTROL, "public, max-age=300")], Json(doc))
}

/// `/.well-known/oauth-protected-resource/<mcp path>` describes `<public url>/<mcp path>`.
pub async fn protected_resource(State(state): State<AppState>, OriginalUri(uri): OriginalUri) -> impl IntoResponse {
    let path = uri.path().strip_prefix(PRM_PREFIX).unwrap_or("/mcp");
    // The RFC 9728 form for a public URL with a path carries that path first.
    let base = state.settings.base_path();
    let path = path.strip_prefix(base).filter(|p| !base.is_empty() && p.starts_with('/')).unwrap_or(path);
    respond(document(&state.settings, state.settings.url(path)))
}

/// The root form describes the whole origin, a prefix of both MCP paths.
pub async fn protected_resource_root(State(state): State<AppState>) -> impl IntoResponse {
    respond(document(&state.settings, state.settings.public_url.clone()))
}
