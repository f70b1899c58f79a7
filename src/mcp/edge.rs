//! The HTTP face of the MCP endpoint: authentication and scope checks before rmcp sees a
//! request, and the choice between rmcp's session transport and its sessionless one.
//!
//! Why two transports: the seed's curl example is a lone `tools/list` POST with no
//! `initialize`, no session and no `Accept` header, which rmcp's session mode refuses (400,
//! "session id required") and its Accept check refuses (406). Such requests go to the
//! sessionless service, with `Accept` filled in here; clients that initialize get a session.
use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService,
    session::{local::LocalSessionManager, never::NeverSessionManager},
};
use serde::Deserialize;
use tower::ServiceExt;

use super::{NavisMcp, tools};
use crate::config::Settings;
use crate::web::{AppState, bearer};

/// The two MCP paths: the one the original documents, and a short alias.
pub const MCP_PATHS: [&str; 2] = ["/functions/v1/mcp-server-v2", "/mcp"];
pub const PRM_PREFIX: &str = "/.well-known/oauth-protected-resource";

pub struct McpTransports {
    with_sessions: StreamableHttpService<NavisMcp, LocalSessionManager>,
    sessionless: StreamableHttpService<NavisMcp, NeverSessionManager>,
}

impl McpTransports {
    pub fn new(app: crate::App, settings: &Settings, shutdown: tokio_util::sync::CancellationToken) -> Self {
        let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        hosts.extend(settings.public_host());
        let base = StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_max_request_body_bytes(settings.max_body_bytes)
            .with_cancellation_token(shutdown);
        let factory_app = app.clone();
        let with_sessions = StreamableHttpService::new(
            move || Ok(NavisMcp::new(factory_app.clone())),
            Arc::new(LocalSessionManager::default()),
            base.clone(),
        );
        let sessionless = StreamableHttpService::new(
            move || Ok(NavisMcp::new(app.clone())),
            Arc::new(NeverSessionManager::default()),
            base.with_legacy_session_mode(false).with_json_response(true),
        );
        Self { with_sessions, sessionless }
    }
}

/// The protected-resource metadata URL of the MCP path a request came in on.
pub fn resource_metadata_url(settings: &Settings, request_path: &str) -> String {
    let path = MCP_PATHS.iter().find(|p| request_path.starts_with(**p)).copied().unwrap_or("/mcp");
    settings.url(&format!("{PRM_PREFIX}{path}"))
}

/// Just enough of a JSON-RPC message to route and authorize it.
#[derive(Deserialize)]
struct Peek {
    method: Option<String>,
    params: Option<PeekParams>,
}

#[derive(Deserialize)]
struct PeekParams {
    name: Option<String>,
}

fn jsonrpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": null, "error": { "code": code, "message": message } });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let metadata_url = resource_metadata_url(&state.settings, request.uri().path());
    match *request.method() {
        Method::POST => post(state, request, &metadata_url).await,
        Method::GET | Method::DELETE => {
            let (mut parts, body) = request.into_parts();
            match bearer::authenticate(&state.app, &parts.headers, &metadata_url).await {
                Ok(principal) => {
                    parts.extensions.insert(principal);
                    serve(state.mcp.with_sessions.clone(), Request::from_parts(parts, body)).await
                }
                Err(refused) => refused,
            }
        }
        Method::OPTIONS => StatusCode::NO_CONTENT.into_response(),
        _ => (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, POST, DELETE")]).into_response(),
    }
}

async fn post(state: AppState, request: Request, metadata_url: &str) -> Response {
    let (mut parts, body) = request.into_parts();
    let limit = state.settings.max_body_bytes;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => return jsonrpc_error(StatusCode::PAYLOAD_TOO_LARGE, -32600, &format!("Request body too large: the limit is {limit} bytes.")),
    };
    let peek: Option<Peek> = serde_json::from_slice(&bytes).ok();
    let method = peek.as_ref().and_then(|p| p.method.as_deref());
    let is_initialize = method == Some("initialize");

    // `initialize` is the one method allowed before authentication.
    if is_initialize {
        if let Ok(Ok(principal)) = state.app.authenticate(bearer::bearer_token(&parts.headers)).await {
            parts.extensions.insert(principal);
        }
    } else {
        let principal = match bearer::authenticate(&state.app, &parts.headers, metadata_url).await {
            Ok(principal) => principal,
            Err(refused) => return refused,
        };
        let Some(peek) = &peek else {
            return match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Err(_) => jsonrpc_error(StatusCode::BAD_REQUEST, -32700, "Parse error: the body is not valid JSON."),
                Ok(serde_json::Value::Array(_)) => jsonrpc_error(StatusCode::BAD_REQUEST, -32600, "Invalid request: JSON-RPC batches are not supported; send one message per POST."),
                Ok(_) => jsonrpc_error(StatusCode::BAD_REQUEST, -32600, "Invalid request: expected a JSON-RPC 2.0 message object."),
            };
        };
        if peek.method.as_deref() == Some("tools/call")
            && let Some(name) = peek.params.as_ref().and_then(|p| p.name.as_deref())
            && tools::needs_write(name)
            && !principal.access.can_write()
        {
            return bearer::forbidden(metadata_url);
        }
        parts.extensions.insert(principal);
    }

    let with_session = is_initialize || parts.headers.contains_key("mcp-session-id");
    if !with_session || !parts.headers.contains_key(header::ACCEPT) {
        // rmcp demands both media types; the seed's curl sends no Accept at all.
        let accept = parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
            parts.headers.insert(header::ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
        }
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    if with_session {
        serve(state.mcp.with_sessions.clone(), request).await
    } else {
        serve(state.mcp.sessionless.clone(), request).await
    }
}

async fn serve<S>(service: S, request: Request) -> Response
where
    S: tower::Service<Request, Error = std::convert::Infallible> + Send,
    S::Response: IntoResponse,
    S::Future: Send,
{
    match service.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}
