//! The web face: sign-up and sign-in pages, Connected Apps, the OAuth endpoints, the well-known
//! metadata documents, health and metrics.
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderMap, HeaderName, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tower_http::cors::{Any, CorsLayer};

pub use crate::edge::AppState;
use crate::edge::{API_PREFIX, MCP_PATHS, PRM_PREFIX};
use crate::service::audit::{REQUEST_ORIGIN, RequestOrigin};
use client_addr::ClientAddr;

pub mod base_path;
pub mod client_addr;
pub mod connections;
pub mod csrf;
pub mod flash;
pub mod html;
pub mod oauth;
pub mod pages;
pub mod wellknown;
pub mod workspace;

/// Form posts are small; the MCP endpoint applies its own (configurable) limit.
const FORM_BODY_LIMIT: usize = 64 * 1024;

/// The web face's routes, with its state.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(PRM_PREFIX, get(wellknown::protected_resource_root))
        // RFC 9728's place for the API's own name of the resource (its challenges point at the root).
        .route(&format!("{PRM_PREFIX}{API_PREFIX}"), get(wellknown::protected_resource));
    for path in MCP_PATHS {
        router = router.route(&format!("{PRM_PREFIX}{path}"), get(wellknown::protected_resource));
    }
    // A public URL with a path: the documents also where RFC 8414 §3.1 and RFC 9728 §3.1 put them
    // for an issuer and resources with that path (inserted after the well-known prefix).
    let base = state.settings.base_path().to_owned();
    if !base.is_empty() {
        router = router.route(&format!("{PRM_PREFIX}{base}"), get(wellknown::protected_resource_root));
        for path in MCP_PATHS.iter().chain([&API_PREFIX]) {
            router = router.route(&format!("{PRM_PREFIX}{base}{path}"), get(wellknown::protected_resource));
        }
    }
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/signup", get(pages::signup_form).post(pages::signup))
        .route("/signin", get(pages::signin_form).post(pages::signin))
        .route("/signout", post(pages::signout))
        .route("/settings/connected-apps", get(pages::connected_apps))
        .route("/workspace", get(workspace::workspace))
        .route("/settings/account", get(pages::account))
        .route("/settings/account/password", post(pages::change_password))
        .route("/settings/account/time-zone", post(pages::set_time_zone))
        .route("/settings/account/delete", post(pages::delete_account))
        .route("/settings/connected-apps/keys", get(pages::keys_index).post(pages::create_key))
        .route("/settings/connected-apps/keys/{id}/created", get(pages::key_created))
        .route("/settings/connected-apps/keys/{id}/revoke", get(pages::confirm_revoke).post(pages::revoke_key))
        .route("/settings/connected-apps/apps/{id}/disconnect", get(pages::confirm_disconnect).post(pages::disconnect_app))
        .route(oauth::AUTHORIZE, get(oauth::authorize).post(oauth::consent))
        .route("/assets/app.js", get(pages::script))
        .route("/assets/app.css", get(pages::stylesheet))
        .route("/assets/icon.svg", get(pages::icon))
        .route("/favicon.ico", get(pages::icon))
        // Only here: a fallback set on the OAuth routes would bypass their CORS layer (preflights).
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), record_origin));
    // Browser-based clients (the Inspector's web UI) call these cross-origin; none uses cookies.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("mcp-protocol-version")])
        .max_age(std::time::Duration::from_secs(3600));
    let mut oauth_api = Router::new().route("/.well-known/oauth-authorization-server", get(oauth::metadata));
    if !base.is_empty() {
        oauth_api = oauth_api.route(&format!("/.well-known/oauth-authorization-server{base}"), get(oauth::metadata));
    }
    let oauth_api = oauth_api
        .route(oauth::REGISTER, post(oauth::register))
        .route(oauth::TOKEN, post(oauth::token))
        .route(oauth::REVOKE, post(oauth::revoke))
        .route(oauth::INTROSPECT, post(oauth::introspect))
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), record_origin))
        .layer(cors);
    router.merge(pages).merge(oauth_api).with_state(state)
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.app.store.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "unavailable", "message": "database unreachable" })))
                .into_response()
        }
    }
}

/// Prometheus metrics of this instance: counts only, never a credential or an identity.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.app.metrics.render(state.app.store.pool_use());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
}

/// Serves the request with its origin (peer address, `User-Agent`) known to the security events
/// it causes (`service::audit::REQUEST_ORIGIN`). Pages and OAuth only: the MCP path writes none.
async fn record_origin(ClientAddr(ip): ClientAddr, request: Request, next: Next) -> Response {
    let user_agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| ua.chars().take(512).collect());
    REQUEST_ORIGIN.scope(RequestOrigin { ip, user_agent }, next.run(request)).await
}

/// Unknown routes: a page for a browser (it asks for `text/html`), JSON for everyone else.
pub async fn not_found(headers: HeaderMap) -> Response {
    if html::wants_html(&headers) {
        return html::not_found_page();
    }
    (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": "not_found", "message": "No such route." }))).into_response()
}

/// A known route with a method it does not take (axum adds `Allow`); decided like [`not_found`].
async fn method_not_allowed(headers: HeaderMap) -> Response {
    if html::wants_html(&headers) {
        return html::method_not_allowed_page();
    }
    let body =
        serde_json::json!({ "error": "method_not_allowed", "message": "This route does not take this method; see the Allow header." });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}
