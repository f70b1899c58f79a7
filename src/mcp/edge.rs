//! The HTTP face of the MCP endpoint: authentication and scope checks before rmcp sees a
//! request, and the choice between rmcp's session transport and its sessionless one.
//!
//! Why two transports: the seed's curl example is a lone `tools/list` POST with no
//! `initialize`, no session and no `Accept` header, which rmcp's session mode refuses (400,
//! "session id required") and its Accept check refuses (406). Such requests go to the
//! sessionless service, with `Accept` filled in here; clients that initialize get a session.
use std::{sync::Arc, time::Instant};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService,
    session::{SessionManager, local::LocalSessionManager, never::NeverSessionManager},
};
use tower::ServiceExt;
use uuid::Uuid;

use super::{
    McpState, NavisMcp,
    sessions::{Claim, Full, Limits, Sessions, Shared, judge_shared},
    tools,
};
use crate::config::Settings;
use crate::core::secret;
use crate::edge::bearer;
pub use crate::edge::{MCP_PATHS, PRM_PREFIX};

pub struct McpTransports {
    with_sessions: StreamableHttpService<NavisMcp, LocalSessionManager>,
    session_manager: Arc<LocalSessionManager>,
    sessionless: StreamableHttpService<NavisMcp, NeverSessionManager>,
    sessions_enabled: bool,
    /// Host names a loopback server answers to (DNS-rebinding protection); `None` on a public server.
    allowed_hosts: Option<Vec<String>>,
    /// Who holds which session, and the caps on how many there may be.
    sessions: Sessions,
}

impl McpTransports {
    pub fn new(app: crate::App, settings: &Settings, shutdown: tokio_util::sync::CancellationToken) -> Self {
        let base =
            StreamableHttpServerConfig::default().with_max_request_body_bytes(settings.max_body_bytes).with_cancellation_token(shutdown);
        // DNS-rebinding protection: a server on loopback answers only to local host names (and
        // its public host, for a reverse proxy in front); a public server checks Origin instead.
        let allowed_hosts = settings.loopback_only().then(|| {
            let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
            hosts.extend(settings.public_host());
            hosts
        });
        let base = match &allowed_hosts {
            Some(hosts) => base.with_allowed_hosts(hosts.clone()),
            None => base.disable_allowed_hosts(),
        };
        let fixtures = settings.conformance_fixtures;
        let factory_app = app.clone();
        let mut session_manager = LocalSessionManager::default();
        session_manager.session_config.keep_alive = Some(settings.mcp_session_idle);
        let session_manager = Arc::new(session_manager);
        let with_sessions =
            StreamableHttpService::new(move || Ok(NavisMcp::new(factory_app.clone(), fixtures)), session_manager.clone(), base.clone());
        let sessionless = StreamableHttpService::new(
            move || Ok(NavisMcp::new(app.clone(), fixtures)),
            Arc::new(NeverSessionManager::default()),
            base.with_legacy_session_mode(false).with_json_response(true),
        );
        let sessions = Sessions::new(Limits {
            max_pending: settings.mcp_max_pending_sessions,
            max_per_user: settings.mcp_max_sessions_per_user,
            idle: settings.mcp_session_idle,
        });
        Self { with_sessions, session_manager, sessionless, sessions_enabled: settings.mcp_sessions, allowed_hosts, sessions }
    }

    /// Sessions open now (pending and owned), for `/metrics`.
    pub fn open_sessions(&self) -> usize {
        self.sessions.open()
    }

    pub fn sessions_enabled(&self) -> bool {
        self.sessions_enabled
    }

    /// Whether the request's Host is one this server answers to (any, on a public server).
    pub fn host_allowed(&self, headers: &axum::http::HeaderMap) -> bool {
        let Some(allowed) = &self.allowed_hosts else { return true };
        let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    /// Whether rmcp holds this session here (else another instance opened it).
    async fn is_local(&self, session: &str) -> bool {
        self.session_manager.sessions.read().await.contains_key(session)
    }

    /// Forgets the sessions — of `user`, or everyone's — that rmcp has ended when they went idle.
    async fn forget_ended(&self, user: Option<Uuid>) {
        let live = self.session_manager.sessions.read().await;
        self.sessions.forget_ended(user, |id| live.contains_key(id));
    }

    /// Room for a new session: `user`'s, or a pending one. When it looks full, sessions that have
    /// ended make room first (rmcp's idle ones for a user, stale pending ones for anonymous).
    async fn room(&self, user: Option<Uuid>) -> Result<(), Full> {
        match user {
            None => self.sessions.room_for_pending(Instant::now()).map(|stale| self.close(stale)),
            Some(user) => match self.sessions.room_for_user(user, Instant::now()) {
                Ok(()) => Ok(()),
                Err(_) => {
                    self.forget_ended(Some(user)).await;
                    self.sessions.room_for_user(user, Instant::now())
                }
            },
        }
    }

    /// Records the session rmcp has just opened, or closes it again if the cap was reached meanwhile.
    async fn record(&self, session: &str, user: Option<Uuid>) -> Result<(), Full> {
        let now = Instant::now();
        let recorded = match user {
            None => self.sessions.add_pending(session, now),
            Some(user) => self.sessions.add_owned(session, user, now),
        };
        if recorded.is_err() {
            self.close(vec![session.to_owned()]);
        }
        if self.sessions.prune_due(now) {
            self.forget_ended(None).await;
        }
        recorded
    }

    async fn claim(&self, session: &str, user: Uuid, ending: bool) -> Claim {
        match self.sessions.claim(session, user, ending, Instant::now()) {
            Claim::UserFull { .. } => {
                self.forget_ended(Some(user)).await;
                self.sessions.claim(session, user, ending, Instant::now())
            }
            claim => claim,
        }
    }

    /// Ends sessions in rmcp, in the background.
    fn close(&self, sessions: Vec<String>) {
        if sessions.is_empty() {
            return;
        }
        let manager = self.session_manager.clone();
        tokio::spawn(async move {
            for session in sessions {
                if let Err(e) = manager.close_session(&session.into()).await {
                    tracing::debug!(error = %e, "cannot close an MCP session");
                }
            }
        });
    }
}

/// 503 when too many sessions wait for their first use with a token, 429 when a user holds too
/// many: a JSON-RPC error without id, and when to try again.
fn no_room(full: Full) -> Response {
    let (status, retry_after, message) = match full {
        Full::Pending { retry_after } => (
            StatusCode::SERVICE_UNAVAILABLE,
            retry_after,
            "Too many MCP sessions are waiting for their first request with a token; retry later, or initialize with your token.",
        ),
        Full::User { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            retry_after,
            "You hold the most MCP sessions allowed at once; end sessions you no longer use (DELETE) or retry later.",
        ),
    };
    let mut response = jsonrpc_error(status, -32000, message);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs()));
    response
}

fn session_not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain")], "Not Found: Session not found").into_response()
}

/// May a page from `origin` call the MCP endpoint? Our own origin and the configured allowlist
/// may; when the server listens on loopback, so may pages served from the same machine.
pub fn origin_allowed(origin: &str, settings: &Settings) -> bool {
    let Ok(url) = url::Url::parse(origin) else { return false };
    let normalized = url.origin().ascii_serialization();
    if normalized == settings.public_origin() || settings.allowed_origins.contains(&normalized) {
        return true;
    }
    settings.loopback_only()
        && matches!(url.scheme(), "http" | "https")
        && match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// The protected-resource metadata URL of the MCP path a request came in on.
pub fn resource_metadata_url(settings: &Settings, request_path: &str) -> String {
    let path = MCP_PATHS.iter().find(|p| request_path.starts_with(**p)).copied().unwrap_or("/mcp");
    settings.url(&format!("{PRM_PREFIX}{path}"))
}

/// Why a body rmcp cannot decode is refused, as the JSON-RPC error the README promises (rmcp
/// itself would answer 415 in plain text): -32700 when it is not JSON serde can read (invalid
/// UTF-8, a lone surrogate, a number out of range, nesting deeper than 127), -32600 when it is
/// JSON but not one JSON-RPC message.
pub fn undecodable(body: &[u8], error: &serde_json::Error) -> Response {
    use serde_json::error::Category;
    if matches!(error.classify(), Category::Syntax | Category::Eof | Category::Io) {
        return jsonrpc_error(
            StatusCode::BAD_REQUEST,
            -32700,
            &format!("Parse error: the body is not JSON this server can read ({error})."),
        );
    }
    if body.trim_ascii_start().starts_with(b"[") {
        return jsonrpc_error(
            StatusCode::BAD_REQUEST,
            -32600,
            "Invalid request: JSON-RPC batches are not supported; send one message per POST.",
        );
    }
    jsonrpc_error(StatusCode::BAD_REQUEST, -32600, &format!("Invalid request: expected one JSON-RPC 2.0 message ({error})."))
}

fn jsonrpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": null, "error": { "code": code, "message": message } });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

const SESSION_HEADER: &str = "mcp-session-id";

pub async fn handle(State(state): State<McpState>, request: Request) -> Response {
    let path = request.uri().path();
    let metadata_url = state.metadata_urls.iter().find(|(p, _)| path.starts_with(p)).map_or("", |(_, url)| url.as_str());
    let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(origin) = &origin
        && !origin_allowed(origin, &state.settings)
    {
        return jsonrpc_error(StatusCode::FORBIDDEN, -32600, "Forbidden: this Origin may not call the MCP endpoint.");
    }
    let mut response = match *request.method() {
        Method::POST => post(&state, request, metadata_url).await,
        Method::GET | Method::DELETE => stream_or_end(&state, request, metadata_url).await,
        Method::OPTIONS => StatusCode::NO_CONTENT.into_response(),
        _ => (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, POST, DELETE")]).into_response(),
    };
    if let Some(origin) = origin {
        add_cors(&mut response, &origin);
    }
    response
}

/// CORS for browser-based MCP clients on an allowed origin (e.g. the Inspector's web UI).
fn add_cors(response: &mut Response, origin: &str) {
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, DELETE, OPTIONS"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id"),
    );
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("mcp-session-id, mcp-protocol-version, www-authenticate"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3600"));
}

/// GET opens the session's server-to-client stream; DELETE ends the session. Both need a token,
/// and both need a session: without one there is no stream to open (405).
async fn stream_or_end(state: &McpState, request: Request, metadata_url: &str) -> Response {
    let (mut parts, body) = request.into_parts();
    let principal = match bearer::authenticate(&state.app, &parts.headers, metadata_url).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    if !state.mcp.sessions_enabled || !parts.headers.contains_key(SESSION_HEADER) {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")]).into_response();
    }
    let deleting = parts.method == Method::DELETE;
    parts.extensions.insert(principal.clone());
    in_session(state, principal.user_id, Request::from_parts(parts, body), deleting).await
}

/// Serves a request that carries a session id, refusing it if the session belongs to someone
/// else or has ended (404, as if it did not exist) or would take the user over the cap (429).
/// A session another instance opened is served here without one (see `roam`).
async fn in_session(state: &McpState, user: Uuid, request: Request, deleting: bool) -> Response {
    let Some(session) = request.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return serve(state.mcp.with_sessions.clone(), request).await;
    };
    // Here, the caps first: a session the user may not take stays free for someone else.
    let local = state.mcp.is_local(&session).await;
    if local {
        match state.mcp.claim(&session, user, deleting).await {
            Claim::Granted => {}
            Claim::NotFound => return session_not_found(),
            Claim::UserFull { retry_after } => return no_room(Full::User { retry_after }),
        }
    }
    let digest = secret::digest(&session);
    match shared_claim(state, &digest, user).await {
        Ok(true) => {}
        Ok(false) => {
            // Ended elsewhere (DELETE on another instance), or taken there by another user.
            if local {
                state.mcp.sessions.forget(&session);
                state.mcp.close(vec![session]);
            }
            return session_not_found();
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the shared MCP session record");
            return jsonrpc_error(StatusCode::SERVICE_UNAVAILABLE, -32000, "The session store is unavailable; retry shortly.");
        }
    }
    if !local {
        return roam(state, request, &digest).await;
    }
    let mut response = serve(state.mcp.with_sessions.clone(), request).await;
    if response.status() == StatusCode::NOT_FOUND || (deleting && response.status().is_success()) {
        state.mcp.sessions.forget(&session);
    }
    if deleting && response.status().is_success() {
        end_shared(state, &digest).await;
    }
    if deleting && response.status() == StatusCode::ACCEPTED {
        // The session is gone when rmcp answers, yet it says 202: RFC 9110 §9.3.5 says 204 for a
        // DELETE already enacted, and the MCP Python SDK 1.x (under LangChain's adapters) logs
        // "Session termination failed: 202" on every close otherwise.
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

/// Whether `user` may use the session as every instance sees it (giving it to them if no token
/// used it yet); false if it is unknown, ended, unused too long or another user's.
async fn shared_claim(state: &McpState, digest: &[u8], user: Uuid) -> Result<bool, crate::store::StoreError> {
    let store = &state.app.store;
    // Real time, not the app's clock: rmcp ends idle sessions by real time too.
    let now = chrono::Utc::now();
    let row = store.mcp_session(digest).await?;
    match judge_shared(row.as_ref(), user, now, state.settings.mcp_session_idle) {
        Shared::NotFound => Ok(false),
        Shared::Serve { claim, touch } => {
            // Two users racing for a session no token used yet: one wins, the other is told it does not exist.
            if claim && !store.claim_mcp_session(digest, user).await? {
                let row = store.mcp_session(digest).await?;
                return Ok(matches!(judge_shared(row.as_ref(), user, now, state.settings.mcp_session_idle), Shared::Serve { .. }));
            }
            if touch {
                store.touch_mcp_session(digest, now).await?;
            }
            Ok(true)
        }
    }
}

async fn end_shared(state: &McpState, digest: &[u8]) {
    if let Err(e) = state.app.store.end_mcp_session(digest, chrono::Utc::now()).await {
        tracing::warn!(error = %e, "cannot record the end of an MCP session; it ends on the other instances when it goes idle");
    }
}

/// A session another instance holds, served here: a POST is answered by the sessionless
/// transport, which gives the same answer (Navis sends nothing on its own initiative, so a
/// session carries nothing but its id); GET has no stream here (405, which clients take as
/// "no server stream"); DELETE ends the session for every instance.
async fn roam(state: &McpState, request: Request, digest: &[u8]) -> Response {
    match *request.method() {
        Method::DELETE => {
            end_shared(state, digest).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Method::POST => {
            let (mut parts, body) = request.into_parts();
            parts.headers.remove(SESSION_HEADER);
            accept_both(&mut parts.headers);
            serve(state.mcp.sessionless.clone(), Request::from_parts(parts, body)).await
        }
        _ => (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST, DELETE")]).into_response(),
    }
}

/// `initialize` opens a session: `user`'s when it carried a token, else a pending one.
async fn open_session(state: &McpState, user: Option<Uuid>, request: Request) -> Response {
    // Checked cheaply before rmcp builds the session, and again once it is named.
    if let Err(full) = state.mcp.room(user).await {
        return no_room(full);
    }
    let response = serve(state.mcp.with_sessions.clone(), request).await;
    let Some(session) = response.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return response;
    };
    if let Err(full) = state.mcp.record(&session, user).await {
        return no_room(full);
    }
    // So that every instance can serve it.
    if let Err(e) = state.app.store.insert_mcp_session(&secret::digest(&session), user, chrono::Utc::now()).await {
        tracing::warn!(error = %e, "cannot record an MCP session for the other instances; it is served here only");
    }
    response
}

async fn post(state: &McpState, request: Request, metadata_url: &str) -> Response {
    let (mut parts, body) = request.into_parts();
    let limit = state.settings.max_body_bytes;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return jsonrpc_error(StatusCode::PAYLOAD_TOO_LARGE, -32600, &format!("Request body too large: the limit is {limit} bytes."));
        }
    };
    if let Some(response) = super::fast::try_answer(state, &parts, &bytes, metadata_url).await {
        return response;
    }
    // Decoded once here, exactly as rmcp decodes it, so that anything rmcp would refuse is
    // refused here with a JSON-RPC error; the edge routes and authorizes by the same message.
    let message = serde_json::from_slice::<ClientJsonRpcMessage>(&bytes);
    let request = match &message {
        Ok(ClientJsonRpcMessage::Request(r)) => Some(&r.request),
        _ => None,
    };
    // `initialize` is the one method allowed before authentication; only a well-formed one opens
    // a session (a malformed one goes to the sessionless service, which answers -32602).
    let is_initialize = request.is_some_and(|r| r.method() == "initialize");
    let opens_session = matches!(request, Some(ClientRequest::InitializeRequest(_)));

    let principal = if is_initialize {
        state.app.authenticate(bearer::bearer_token(&parts.headers)).await.ok().and_then(Result::ok)
    } else {
        let principal = match bearer::authenticate(&state.app, &parts.headers, metadata_url).await {
            Ok(principal) => principal,
            Err(refused) => return refused,
        };
        if let Err(error) = &message {
            return undecodable(&bytes, error);
        }
        if let Some(ClientRequest::CallToolRequest(call)) = request
            && tools::needs_write(&call.params.name)
            && !principal.access.can_write()
        {
            state.app.metrics.forbidden();
            return bearer::forbidden(metadata_url);
        }
        Some(principal)
    };
    if let Some(principal) = &principal {
        parts.extensions.insert(principal.clone());
    }
    if opens_session {
        // The version is negotiated in the body; a stray header must not sink the handshake
        // (rmcp would answer 400 when it disagrees with the body).
        parts.headers.remove("mcp-protocol-version");
    }

    let with_session = state.mcp.sessions_enabled && (opens_session || parts.headers.contains_key(SESSION_HEADER));
    if !with_session || !parts.headers.contains_key(header::ACCEPT) {
        accept_both(&mut parts.headers);
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    if !with_session {
        return serve(state.mcp.sessionless.clone(), request).await;
    }
    match (opens_session, principal) {
        (true, principal) => open_session(state, principal.map(|p| p.user_id), request).await,
        (false, Some(principal)) => in_session(state, principal.user_id, request, false).await,
        (false, None) => bearer::unauthorized(metadata_url, crate::service::AuthFailure::Missing),
    }
}

/// rmcp's sessionless transport demands both media types in `Accept`; the seed's curl sends no
/// `Accept` at all, and a request roaming from another instance's session may send either.
fn accept_both(headers: &mut axum::http::HeaderMap) {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
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
