//! Sign-up, sign-in, sign-out and Settings → Connected Apps.
use axum::{
    Form,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{
    AppState,
    client_addr::ClientAddr,
    csrf::{self, DEVICE_COOKIE, SESSION_COOKIE},
    html::{error_box, esc, page},
};
use crate::config::Settings;
use crate::core::scope::Access;
use crate::core::throttle;
use crate::edge::MCP_PATHS;
use crate::service::{
    ServiceError,
    accounts::{SESSION_LIFETIME, SignIn, SignInContext},
    keys::expiry_from_date,
};
use crate::store::User;

pub(crate) fn with_cookies(mut response: Response, cookies: impl IntoIterator<Item = String>) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

pub(crate) async fn signed_in_user(state: &AppState, headers: &HeaderMap) -> Option<User> {
    let cookie = csrf::cookie(&state.settings, headers, SESSION_COOKIE)?;
    state.app.session_user(cookie).await.ok().flatten()
}

pub(crate) fn csrf_failure() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Request refused",
        None,
        r#"<h1>Request refused</h1><p>This form was not submitted from a Navis page, or it has expired. Go back, reload the page and try again.</p>"#,
    )
}

fn server_error(e: &ServiceError, body: &str) -> Response {
    tracing::error!(error = ?e, "page failed");
    page(StatusCode::INTERNAL_SERVER_ERROR, "Error", None, &format!("<h1>Something went wrong</h1>{body}"))
}

/// A change that failed. Every change commits with its audit row in one transaction, so it
/// changed nothing, unless the database's answer to the commit itself was lost.
fn internal_error(e: ServiceError) -> Response {
    let body = if e.outcome_unknown() {
        "<p>Navis could not confirm that your change was saved. Reload the page to see whether it was before trying again.</p>"
    } else {
        "<p>Nothing was changed. Try again in a moment.</p>"
    };
    server_error(&e, body)
}

/// Signing in (or up) got as far as it did: an account made by sign-up stays made.
fn sign_in_failed(e: ServiceError) -> Response {
    server_error(&e, r#"<p>You could not be signed in. <a href="/signin">Sign in</a> again in a moment.</p>"#)
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in_user(&state, &headers).await {
        Some(_) => Redirect::to("/settings/connected-apps").into_response(),
        None => Redirect::to("/signin").into_response(),
    }
}

#[derive(Deserialize)]
pub struct CredentialsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

const HOME: &str = "/settings/connected-apps";

/// Where to go after signing in: `next` resolved against the public URL, accepted only when
/// the result is on the public URL's origin, and then only as its path and query. Any control
/// character (browsers drop tabs and newlines, turning `/\t/evil` into `//evil`) is refused.
fn safe_next(settings: &Settings, next: &str) -> String {
    let base = url::Url::parse(&format!("{}/", settings.public_url));
    let resolved = base.as_ref().ok().filter(|_| next.starts_with('/') && !next.chars().any(char::is_control)).and_then(|base| {
        let url = base.join(next).ok()?;
        (url.origin() == base.origin()).then(|| match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    });
    resolved.unwrap_or_else(|| HOME.to_owned())
}

/// 429 with `Retry-After`, on the sign-in page, saying when to try again.
fn too_many(page: Response, wait_secs: i64) -> Response {
    let mut page = page;
    if let Ok(v) = HeaderValue::from_str(&wait_secs.max(1).to_string()) {
        page.headers_mut().insert(header::RETRY_AFTER, v);
    }
    page
}

const BUSY: &str = "The server is busy; try again in a few seconds.";
const BUSY_RETRY_SECS: i64 = 2;

fn credentials_page(status: StatusCode, signup: bool, email: &str, error: Option<&str>, csrf_token: &str, next: &str) -> Response {
    let next_q: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    let (title, action, button, other) = if signup {
        (
            "Create your account",
            "/signup",
            "Create account",
            format!(r#"Already have an account? <a href="/signin?next={}">Sign in</a>"#, esc(&next_q)),
        )
    } else {
        ("Sign in", "/signin", "Sign in", format!(r#"No account yet? <a href="/signup?next={}">Create one</a>"#, esc(&next_q)))
    };
    let autocomplete = if signup { "new-password" } else { "current-password" };
    let body = format!(
        r#"<section class="card narrow">
<h1>{title}</h1>
{error}
<form method="post" action="{action}">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<label>Email <input type="email" name="email" value="{email}" required autocomplete="email" autofocus></label>
<label>Password <input type="password" name="password" required minlength="8" autocomplete="{autocomplete}"></label>
<button type="submit">{button}</button>
</form>
<p class="muted">{other}</p>
</section>"#,
        error = error_box(error),
        csrf = esc(csrf_token),
        email = esc(email),
        next = esc(next),
    );
    page(status, title, None, &body)
}

fn signup_disabled() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Sign-up disabled",
        None,
        r#"<section class="card narrow"><h1>Sign-up is disabled</h1><p>Ask the administrator for an account (<code>navis user create</code>), then <a href="/signin">sign in</a>.</p></section>"#,
    )
}

pub async fn signup_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    if !state.settings.allow_signup {
        return signup_disabled();
    }
    let (token, set) = csrf::token(&state.settings, &headers);
    with_cookies(credentials_page(StatusCode::OK, true, "", None, &token, &safe_next(&state.settings, &q.next)), set)
}

pub async fn signup(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CredentialsForm>) -> Response {
    if !state.settings.allow_signup {
        return signup_disabled();
    }
    if !csrf::verify(&state.settings, &headers, &form.csrf) {
        return csrf_failure();
    }
    let next = safe_next(&state.settings, &form.next);
    match state.app.create_user(&form.email, &form.password).await {
        Ok(user) => start_session(&state, &user, &next).await,
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => {
            credentials_page(StatusCode::BAD_REQUEST, true, &form.email, Some(&m), &form.csrf, &next)
        }
        Err(ServiceError::Busy) => {
            too_many(credentials_page(StatusCode::TOO_MANY_REQUESTS, true, &form.email, Some(BUSY), &form.csrf, &next), BUSY_RETRY_SECS)
        }
        Err(e) => internal_error(e),
    }
}

/// Signs the browser in: a session cookie, and a device cookie that spares this browser the
/// account's failure delay next time (see `core::throttle`).
async fn start_session(state: &AppState, user: &User, next: &str) -> Response {
    let device = match state.app.device_cookie(&user.email).await {
        Ok(device) => device,
        Err(e) => return sign_in_failed(e),
    };
    match state.app.start_session(user.id).await {
        Ok(cookie) => {
            let session = csrf::set_cookie(&state.settings, SESSION_COOKIE, &cookie, SESSION_LIFETIME.num_seconds(), "Lax");
            let device = csrf::set_cookie(&state.settings, DEVICE_COOKIE, &device, DEVICE_LIFETIME_SECS, "Strict");
            with_cookies(Redirect::to(next).into_response(), [session, device])
        }
        Err(e) => sign_in_failed(e),
    }
}

const DEVICE_LIFETIME_SECS: i64 = 60 * 60 * 24 * 365;

pub async fn signin_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let (token, set) = csrf::token(&state.settings, &headers);
    with_cookies(credentials_page(StatusCode::OK, false, "", None, &token, &safe_next(&state.settings, &q.next)), set)
}

pub async fn signin(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    if !csrf::verify(&state.settings, &headers, &form.csrf) {
        return csrf_failure();
    }
    let next = safe_next(&state.settings, &form.next);
    let again = |status: StatusCode, message: &str| credentials_page(status, false, &form.email, Some(message), &form.csrf, &next);
    let context = SignInContext { address, device_cookie: csrf::cookie(&state.settings, &headers, DEVICE_COOKIE) };
    match state.app.sign_in(&form.email, &form.password, context).await {
        Ok(SignIn::Accepted(user)) => start_session(&state, &user, &next).await,
        Ok(SignIn::Refused) => again(StatusCode::UNAUTHORIZED, "Incorrect email or password."),
        Ok(SignIn::Throttled { wait }) => too_many(
            again(StatusCode::TOO_MANY_REQUESTS, &format!("Too many failed sign-ins. Try again in {}.", throttle::human_wait(wait))),
            wait.num_seconds() + i64::from(wait.subsec_nanos() > 0),
        ),
        Ok(SignIn::Busy) => too_many(again(StatusCode::TOO_MANY_REQUESTS, BUSY), BUSY_RETRY_SECS),
        Err(e) => sign_in_failed(e),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn signout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfOnly>) -> Response {
    if !csrf::verify(&state.settings, &headers, &form.csrf) {
        return csrf_failure();
    }
    if let Some(cookie) = csrf::cookie(&state.settings, &headers, SESSION_COOKIE)
        && let Err(e) = state.app.end_session(cookie).await
    {
        return internal_error(e);
    }
    let clear = csrf::set_cookie(&state.settings, SESSION_COOKIE, "", 0, "Lax");
    with_cookies(Redirect::to("/signin").into_response(), [clear])
}

fn fmt_time(t: Option<DateTime<Utc>>, none: &str) -> String {
    t.map(|t| format!(r#"<time datetime="{}">{}</time>"#, t.to_rfc3339(), t.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_else(|| none.to_owned())
}

/// The panel shown once, right after a key is created: the only time the token is visible.
fn new_key_panel(state: &AppState, name: &str, token: &str) -> String {
    let mcp_url = state.settings.url(MCP_PATHS[0]);
    let claude = serde_json::to_string_pretty(&serde_json::json!({
        "mcpServers": { "navis": {
            "command": "npx",
            "args": ["-y", "mcp-remote", mcp_url, "--header", "Authorization:${NAVIS_AUTH}"],
            "env": { "NAVIS_AUTH": format!("Bearer {token}") }
        }}
    }))
    .unwrap_or_default();
    let curl = format!(
        "curl {mcp_url} \\\n  -H \"Authorization: Bearer {token}\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{{}}}}'"
    );
    format!(
        r#"<section class="card new-key" id="new-key">
<h2>API key “{name}” created</h2>
<p><strong>Copy it now: it will not be shown again.</strong> Navis keeps only a digest of it.</p>
<div class="copy-row"><code id="new-token">{token}</code><button type="button" data-copy="new-token">Copy</button></div>
<h3>Claude Desktop (<code>claude_desktop_config.json</code>)</h3>
<div class="copy-row"><pre id="snippet-claude">{claude}</pre><button type="button" data-copy="snippet-claude">Copy</button></div>
<h3>curl</h3>
<div class="copy-row"><pre id="snippet-curl">{curl}</pre><button type="button" data-copy="snippet-curl">Copy</button></div>
</section>"#,
        name = esc(name),
        token = esc(token),
        claude = esc(&claude),
        curl = esc(&curl),
    )
}

async fn render_connected_apps(state: &AppState, user: &User, csrf_token: &str, new_key: Option<String>, error: Option<&str>) -> Response {
    // Reading the page can fail after a change was made: say only that, and keep a new key's
    // token on screen, as it exists nowhere else.
    let unavailable = |e: ServiceError, new_key: Option<String>| {
        server_error(&e, &format!("<p>This page could not be loaded. Reload it in a moment.</p>{}", new_key.unwrap_or_default()))
    };
    let keys = match state.app.list_api_keys(user.id).await {
        Ok(keys) => keys,
        Err(e) => return unavailable(e, new_key),
    };
    let apps = match state.app.connected_apps(user.id).await {
        Ok(apps) => apps,
        Err(e) => return unavailable(e, new_key),
    };
    let audit = match state.app.audit_trail(user.id, 20).await {
        Ok(a) => a,
        Err(e) => return unavailable(e, new_key),
    };
    let mcp_url = state.settings.url(MCP_PATHS[0]);
    let csrf = esc(csrf_token);
    let rows: String = if keys.is_empty() {
        r#"<tr><td colspan="8" class="muted">No API keys yet.</td></tr>"#.to_owned()
    } else {
        keys.iter()
            .map(|k| {
                let action = if k.status == "revoked" {
                    String::new()
                } else {
                    format!(
                        r#"<form method="post" action="/settings/connected-apps/keys/{id}/revoke"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" class="danger">Revoke</button></form>"#,
                        id = esc(&k.id)
                    )
                };
                format!(
                    r#"<tr data-key-id="{id}"><td>{name}</td><td>{scope}</td><td><code>{display}</code></td><td>{created}</td><td>{last}</td><td>{expires}</td><td class="status-{status}">{status}</td><td>{action}</td></tr>"#,
                    id = esc(&k.id),
                    name = esc(&k.name),
                    scope = k.scope_label,
                    display = esc(&k.display_id),
                    created = fmt_time(Some(k.created_at), ""),
                    last = fmt_time(k.last_used_at, "Never"),
                    expires = fmt_time(k.expires_at, "Never"),
                    status = k.status,
                )
            })
            .collect()
    };
    let app_rows: String = if apps.is_empty() {
        r#"<tr><td colspan="6" class="muted">No apps connected with OAuth. Add this server's URL in an MCP client to connect one.</td></tr>"#.to_owned()
    } else {
        apps.iter()
            .map(|a| {
                format!(
                    r#"<tr data-grant-id="{id}"><td>{name}</td><td>{host}</td><td>{scope}</td><td>{connected}</td><td>{last}</td><td><form method="post" action="/settings/connected-apps/apps/{id}/disconnect"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" class="danger">Disconnect</button></form></td></tr>"#,
                    id = a.grant_id,
                    name = esc(&a.client_name),
                    host = esc(&a.redirect_host),
                    scope = a.access.label(),
                    connected = fmt_time(Some(a.connected_at), ""),
                    last = fmt_time(a.last_used_at, "Never"),
                )
            })
            .collect()
    };
    let audit_rows: String = if audit.is_empty() {
        r#"<li class="muted">Nothing yet.</li>"#.to_owned()
    } else {
        audit.iter().map(|e| format!("<li>{} — {}</li>", fmt_time(Some(e.created_at), ""), esc(&e.detail))).collect()
    };
    let body = format!(
        r#"<h1>Connected Apps</h1>
{error}
<section class="card">
<h2>Your MCP server URL</h2>
<div class="copy-row"><code id="mcp-url">{mcp_url}</code><button type="button" data-copy="mcp-url">Copy</button></div>
<p class="muted">Add it in Claude Desktop, Claude Code, Cursor or the MCP Inspector: they connect with OAuth (you approve them here), or with an API key below. <code>{alias}</code> works too.</p>
</section>
{new_key}
<section class="card">
<h2>Create API key</h2>
<form method="post" action="/settings/connected-apps/keys" class="inline">
<input type="hidden" name="csrf" value="{csrf}">
<label>Name <input type="text" name="name" required maxlength="100" placeholder="e.g. Claude Desktop on my laptop"></label>
<fieldset><legend>Access</legend>
<label><input type="radio" name="scope" value="read" checked> Read</label>
<label><input type="radio" name="scope" value="write"> Read + Write</label>
</fieldset>
<label>Expires (optional) <input type="date" name="expires"></label>
<button type="submit">Create API key</button>
</form>
</section>
<section class="card">
<h2>API keys</h2>
<table class="keys">
<thead><tr><th>Name</th><th>Access</th><th>Key</th><th>Created</th><th>Last used</th><th>Expires</th><th>Status</th><th></th></tr></thead>
<tbody>{rows}</tbody>
</table>
</section>
<section class="card">
<h2>Connected apps (OAuth)</h2>
<table class="apps">
<thead><tr><th>App</th><th>Redirects to</th><th>Access</th><th>Connected</th><th>Last used</th><th></th></tr></thead>
<tbody>{app_rows}</tbody>
</table>
</section>
<section class="card">
<h2>Security events</h2>
<ul class="audit">{audit_rows}</ul>
</section>"#,
        error = error_box(error),
        mcp_url = esc(&mcp_url),
        alias = esc(&state.settings.url(MCP_PATHS[1])),
        new_key = new_key.unwrap_or_default(),
    );
    page(if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK }, "Connected Apps", Some((&user.email, csrf_token)), &body)
}

pub async fn connected_apps(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    with_cookies(render_connected_apps(&state, &user, &token, None, None).await, set)
}

#[derive(Deserialize)]
pub struct CreateKeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires: String,
    #[serde(default)]
    csrf: String,
}

pub async fn create_key(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CreateKeyForm>) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    if !csrf::verify(&state.settings, &headers, &form.csrf) {
        return csrf_failure();
    }
    let Some(access) = Access::parse(&form.scope) else {
        return render_connected_apps(&state, &user, &form.csrf, None, Some("Choose Read or Read + Write.")).await;
    };
    let expires_at = match form.expires.trim() {
        "" => None,
        date => match NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| ServiceError::Invalid("The expiration date must look like 2026-12-31.".into()))
            .and_then(|d| expiry_from_date(d, state.app.now()))
        {
            Ok(at) => Some(at),
            Err(e) => return render_connected_apps(&state, &user, &form.csrf, None, Some(&e.to_string())).await,
        },
    };
    match state.app.create_api_key(user.id, &form.name, access, expires_at).await {
        Ok(created) => {
            let panel = new_key_panel(&state, &created.key.name, &created.token.plaintext);
            render_connected_apps(&state, &user, &form.csrf, Some(panel), None).await
        }
        Err(ServiceError::Invalid(m)) => render_connected_apps(&state, &user, &form.csrf, None, Some(&m)).await,
        Err(e) => internal_error(e),
    }
}

pub async fn revoke_key(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Form(form): Form<CsrfOnly>) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    if !csrf::verify(&state.settings, &headers, &form.csrf) {
        return csrf_failure();
    }
    match state.app.revoke_api_key(user.id, &id).await {
        Ok(()) => Redirect::to("/settings/connected-apps").into_response(),
        Err(ServiceError::NotFound(m)) => render_connected_apps(&state, &user, &form.csrf, None, Some(&m)).await,
        Err(e) => internal_error(e),
    }
}

pub async fn disconnect_app(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    if !csrf::verify(&state.settings, &headers, &form.csrf) {
        return csrf_failure();
    }
    let result = match uuid::Uuid::parse_str(&id) {
        Ok(grant_id) => state.app.disconnect(user.id, grant_id).await,
        Err(_) => Err(ServiceError::NotFound("No such connected app.".into())),
    };
    match result {
        Ok(()) => Redirect::to("/settings/connected-apps").into_response(),
        Err(ServiceError::NotFound(m)) => render_connected_apps(&state, &user, &form.csrf, None, Some(&m)).await,
        Err(e) => internal_error(e),
    }
}

pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("assets/app.js"),
    )
}

pub async fn icon() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], include_str!("assets/icon.svg"))
}

pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], include_str!("assets/app.css"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> Settings {
        Settings::resolve(&crate::config::SettingsArgs { public_url: Some(url.into()), ..Default::default() }).unwrap()
    }

    #[test]
    fn next_stays_on_the_public_origin() {
        let s = settings("https://navis.example");
        assert_eq!(safe_next(&s, "/oauth/authorize?client_id=x&state=a%20b"), "/oauth/authorize?client_id=x&state=a%20b");
        assert_eq!(safe_next(&s, "/settings/connected-apps"), "/settings/connected-apps");
        for evil in [
            "",
            "/\t/evil.example/x",
            "/\u{1}/x",
            "/\u{b}/x",
            "/\u{7f}/x",
            "/\r\n/x",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "https://evil.example/",
            "http://navis.example/",
            "javascript:alert(1)",
            "evil",
            "/%09/evil.example",
        ] {
            let next = safe_next(&s, evil);
            assert!(next == HOME || (next.starts_with('/') && !next.starts_with("//")), "{evil:?} → {next}");
            assert!(HeaderValue::from_str(&next).is_ok(), "{evil:?} must make a valid Location");
        }
        assert_eq!(safe_next(&s, "/\t/evil.example/x"), HOME);
        assert_eq!(safe_next(&s, "//evil.example"), HOME);
        assert_eq!(safe_next(&s, "/\\evil.example"), HOME);
    }
}
