//! The landing page, sign-up, sign-in, sign-out and Settings → Connected Apps.
//!
//! Every form follows Post/Redirect/Get: a post that succeeds answers 303 to a page, with a
//! one-time message (`flash`), so reloading or going back never repeats an action. A form with
//! errors is shown again at once (400), with each error beside its field and what was typed
//! kept: posting it again changes nothing either.
use axum::{
    Form,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::{
    AppState,
    client_addr::ClientAddr,
    csrf::{self, DEVICE_COOKIE, Refusal, SESSION_COOKIE, SameSite},
    flash::{self, FLASH, REVEAL},
    html::{esc, field_error, flash_box, invalid_attrs, message_page, page},
    oauth::{WaitingApp, waiting_app},
};
use crate::config::Settings;
use crate::core::scope::Access;
use crate::core::throttle;
use crate::mcp::edge::MCP_PATHS;
use crate::service::{
    ServiceError,
    accounts::{self, PasswordCheck, SESSION_LIFETIME, SignIn, SignInContext},
    keys::{self, KeyView, expiry_from_date},
    oauth::AppView,
};
use crate::store::{AuditEvent, User};

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

/// The page for a refused form: what happened, and what to do about it.
pub(crate) fn csrf_failure(settings: &Settings, refusal: Refusal) -> Response {
    let home = esc(&settings.url("/"));
    let public = esc(&settings.public_url);
    let (title, body) = match refusal {
        Refusal::WrongOrigin(origin) => (
            "Open Navis at its own address",
            format!(
                r#"<p>This form was sent from a page at <code>{origin}</code>, but this Navis server's address is <code>{public}</code>. Browsers keep sign-ins and forms apart for each address, so Navis only accepts forms from pages opened at its own address. Nothing was changed.</p>
<p><a class="button" href="{home}">Open Navis at {public}</a></p>
<p class="muted">Use that address in bookmarks too. The administrator sets it with <code>--public-url</code> (<code>NAVIS_PUBLIC_URL</code>).</p>"#,
                origin = esc(&origin),
            ),
        ),
        Refusal::CrossSite => (
            "Request refused",
            format!(
                r#"<p>This form was sent from another website, so Navis did not act on it. Nothing was changed.</p><p>If you meant to do this, <a href="{home}">open Navis at {public}</a> and do it there.</p>"#
            ),
        ),
        Refusal::Token => (
            "This form has expired",
            r#"<p>The page was open for a long time, or you signed in or out in another tab, so Navis did not act on it. Nothing was changed.</p><p>Go back, reload the page and try again.</p>"#.to_owned(),
        ),
    };
    message_page(StatusCode::FORBIDDEN, title, &body)
}

/// The user of a signed-in form's post, or the answer when there is none: sign in again, or
/// the refusal of a post that is not a same-origin form of this browser's page.
async fn signed_in_form(state: &AppState, headers: &HeaderMap, token: &str) -> Result<User, Response> {
    let Some(user) = signed_in_user(state, headers).await else {
        return Err(Redirect::to("/signin").into_response());
    };
    refuse(state, headers, token).map_or(Ok(user), Err)
}

/// The refusal page when the post is not a same-origin form of this browser's page.
fn refuse(state: &AppState, headers: &HeaderMap, token: &str) -> Option<Response> {
    csrf::check(&state.settings, headers, token).err().map(|r| csrf_failure(&state.settings, r))
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

/// A 303 to `to` that shows `message` there once (bound to the browser's session).
fn redirect_with_flash(state: &AppState, headers: &HeaderMap, to: &str, message: &str) -> Response {
    let set = csrf::cookie(&state.settings, headers, SESSION_COOKIE).map(|session| flash::set(&state.settings, session, FLASH, message));
    with_cookies(Redirect::to(to).into_response(), set)
}

#[derive(Deserialize, Default)]
pub struct HomeQuery {
    /// Set after an account was deleted, so the start page can say so.
    #[serde(default)]
    account_deleted: Option<String>,
}

/// Signed-out visitors: what Navis is and how to connect an assistant. Signed in: Connected Apps.
pub async fn home(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<HomeQuery>) -> Response {
    if signed_in_user(&state, &headers).await.is_some() {
        return Redirect::to(HOME).into_response();
    }
    let mcp_url = esc(&state.settings.url(MCP_PATHS[0]));
    let start = if state.settings.allow_signup {
        r#"<a class="button" href="/signup">Create an account</a> <a class="button secondary" href="/signin">Sign in</a>"#
    } else {
        r#"<a class="button" href="/signin">Sign in</a> <span class="muted">Accounts are made by this server's administrator.</span>"#
    };
    let notice = flash_box(q.account_deleted.map(|_| "Your account and everything in it were deleted."));
    let body = format!(
        r#"{notice}
<section class="hero">
<h1>Let your AI assistants work in your own workspace — safely</h1>
<p class="lead">Navis is a self-hosted workspace of projects and tasks that assistants such as Claude, ChatGPT and Cursor read and change through MCP (the Model Context Protocol), and scripts through an HTTP API. You decide which app gets in and whether it may only read or also write, see what each one did, and cut any of them off in one click.</p>
<p class="actions">{start}</p>
</section>
<section class="card">
<h2>Connect an assistant in three steps</h2>
<ol class="steps">
<li><strong>Sign in</strong> to Navis (or create your account).</li>
<li><strong>Add this server in your assistant</strong> with its MCP address: <code class="wrap">{mcp_url}</code><br><span class="muted">Claude: Settings → Connectors → Add custom connector. Claude Code: <code class="wrap">claude mcp add --transport http navis {mcp_url}</code>. Cursor: add it under <code>mcpServers</code> in <code>.cursor/mcp.json</code>.</span></li>
<li><strong>Approve it</strong> when Navis asks, with Read or Read + Write access. Apps that cannot sign in through the browser use an API key from Settings → Connected Apps instead.</li>
</ol>
</section>"#
    );
    page(StatusCode::OK, "Your workspace for AI assistants", None, &body)
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
    /// Set by sign-out, so the sign-in page can say it happened.
    #[serde(default)]
    signed_out: Option<String>,
}

const HOME: &str = "/settings/connected-apps";

/// Where to go after signing in: `next` resolved against the public URL, accepted only when
/// the result is on the public URL's origin, and then only as its path and query. Any control
/// character (browsers drop tabs and newlines, turning `/\t/evil` into `//evil`) is refused, and
/// so is a path that starts with `//` once dot segments are removed (`/.//evil`): a browser reads
/// `Location: //evil` as another host.
///
/// Public for the fuzz target.
#[doc(hidden)]
pub fn safe_next(settings: &Settings, next: &str) -> String {
    let base = url::Url::parse(&format!("{}/", settings.public_url));
    let resolved = base.as_ref().ok().filter(|_| next.starts_with('/') && !next.chars().any(char::is_control)).and_then(|base| {
        let url = base.join(next).ok()?;
        (url.origin() == base.origin() && !url.path().starts_with("//")).then(|| match url.query() {
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

/// `Retry-After` for a throttle's wait: whole seconds, rounded up.
fn retry_secs(wait: Duration) -> i64 {
    wait.num_seconds() + i64::from(wait.subsec_nanos() > 0)
}

fn wrong_too_often(wait: Duration) -> String {
    format!("Too many wrong passwords. Try again in {}.", throttle::human_wait(wait))
}

const BUSY: &str = "The server is busy; try again in a few seconds.";
const BUSY_RETRY_SECS: i64 = 2;

/// The sign-in or sign-up form as it is shown: what was typed, and what was wrong with it.
#[derive(Default)]
struct CredentialsView<'a> {
    signup: bool,
    email: &'a str,
    next: &'a str,
    csrf: &'a str,
    /// About the whole form (a wrong password names no one field).
    error: Option<String>,
    email_error: Option<String>,
    password_error: Option<String>,
    notice: Option<&'a str>,
    /// The app whose authorization waits for this sign-in.
    waiting: Option<WaitingApp>,
}

fn credentials_page(status: StatusCode, v: CredentialsView<'_>) -> Response {
    let next_q: String = url::form_urlencoded::byte_serialize(v.next.as_bytes()).collect();
    let (title, action, button, other) = if v.signup {
        (
            "Create your account",
            "/signup",
            "Create account",
            format!(r#"Already have an account? <a href="/signin?next={}">Sign in</a>"#, esc(&next_q)),
        )
    } else {
        ("Sign in", "/signin", "Sign in", format!(r#"No account yet? <a href="/signup?next={}">Create one</a>"#, esc(&next_q)))
    };
    let heading = match &v.waiting {
        Some(app) => format!(
            r#"<h1>{} to continue to <span class="client-name">{}</span></h1>{}"#,
            if v.signup { "Create an account" } else { "Sign in" },
            esc(&app.name),
            app.identity_html()
        ),
        None => format!("<h1>{title}</h1>"),
    };
    // A form-wide error describes both inputs; a field's own error only its field.
    let form_error = v.error.as_deref();
    let described = |id: &str, own: Option<&str>| match (own, form_error) {
        (Some(m), _) => invalid_attrs(id, Some(m)),
        (None, Some(_)) => r#" aria-invalid="true" aria-describedby="form-error""#.to_owned(),
        (None, None) => String::new(),
    };
    let autocomplete = if v.signup { "new-password" } else { "current-password" };
    let password_hint = if v.signup {
        format!(r#"<p class="hint" id="password-hint">At least {} characters.</p>"#, accounts::MIN_PASSWORD_LEN)
    } else {
        String::new()
    };
    let body = format!(
        r#"<section class="card narrow">
{heading}
{notice}
{error}
<form method="post" action="{action}" novalidate>
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<label for="email">Email</label>
<input type="email" id="email" name="email" value="{email}" required autocomplete="email" autofocus{email_attrs}>
{email_field_error}
<label for="password">Password</label>
<input type="password" id="password" name="password" required minlength="8" autocomplete="{autocomplete}"{password_attrs}>
{password_field_error}{password_hint}
<button type="submit">{button}</button>
</form>
<p class="muted">{other}</p>
</section>"#,
        notice = flash_box(v.notice),
        error = form_error.map(|m| format!(r#"<p class="error" id="form-error" role="alert">{}</p>"#, esc(m))).unwrap_or_default(),
        csrf = esc(v.csrf),
        email = esc(v.email),
        next = esc(v.next),
        email_attrs = described("email", v.email_error.as_deref()),
        password_attrs = described("password", v.password_error.as_deref()),
        email_field_error = field_error("email", v.email_error.as_deref()),
        password_field_error = field_error("password", v.password_error.as_deref()),
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

/// The sign-in or sign-up form for a browser arriving with `next`.
async fn credentials_form(state: &AppState, headers: &HeaderMap, q: &NextQuery, signup: bool) -> Response {
    let (token, set) = csrf::token(&state.settings, headers);
    let next = safe_next(&state.settings, &q.next);
    let view = CredentialsView {
        signup,
        next: &next,
        csrf: &token,
        notice: q.signed_out.as_ref().map(|_| "You are signed out."),
        waiting: waiting_app(state, &next).await,
        ..Default::default()
    };
    with_cookies(credentials_page(StatusCode::OK, view), set)
}

pub async fn signup_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    if !state.settings.allow_signup {
        return signup_disabled();
    }
    credentials_form(&state, &headers, &q, true).await
}

pub async fn signup(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CredentialsForm>) -> Response {
    if !state.settings.allow_signup {
        return signup_disabled();
    }
    if let Some(refused) = refuse(&state, &headers, &form.csrf) {
        return refused;
    }
    let next = safe_next(&state.settings, &form.next);
    let signup = |view: CredentialsView<'static>| CredentialsView { signup: true, ..view };
    // Each rule's message beside the field it is about.
    if let Err(e) = accounts::normalize_email(&form.email) {
        let view = signup(CredentialsView { email_error: Some(e.to_string()), ..Default::default() });
        return credentials_again(&state, &form, &next, StatusCode::BAD_REQUEST, view).await;
    }
    if let Err(e) = accounts::check_password(&form.password) {
        let view = signup(CredentialsView { password_error: Some(e.to_string()), ..Default::default() });
        return credentials_again(&state, &form, &next, StatusCode::BAD_REQUEST, view).await;
    }
    match state.app.create_user(&form.email, &form.password).await {
        Ok(user) => start_session(&state, &user, &next, Some("Your account is ready. Connect an assistant below.")).await,
        Err(ServiceError::Conflict(m)) => {
            let view =
                signup(CredentialsView { email_error: Some(format!("{m} Sign in instead, or use another email.")), ..Default::default() });
            credentials_again(&state, &form, &next, StatusCode::BAD_REQUEST, view).await
        }
        Err(ServiceError::Invalid(m)) => {
            let view = signup(CredentialsView { error: Some(m), ..Default::default() });
            credentials_again(&state, &form, &next, StatusCode::BAD_REQUEST, view).await
        }
        Err(ServiceError::Busy) => {
            let view = signup(CredentialsView { error: Some(BUSY.into()), ..Default::default() });
            too_many(credentials_again(&state, &form, &next, StatusCode::TOO_MANY_REQUESTS, view).await, BUSY_RETRY_SECS)
        }
        Err(e) => internal_error(e),
    }
}

/// The sign-in or sign-up form again, with what was posted and what was wrong with it.
async fn credentials_again(
    state: &AppState,
    form: &CredentialsForm,
    next: &str,
    status: StatusCode,
    view: CredentialsView<'_>,
) -> Response {
    let waiting = waiting_app(state, next).await;
    credentials_page(status, CredentialsView { email: &form.email, next, csrf: &form.csrf, waiting, ..view })
}

/// Signs the browser in: a session cookie, and a device cookie that spares this browser the
/// account's failure delay next time (see `core::throttle`); `welcome` is shown once after.
async fn start_session(state: &AppState, user: &User, next: &str, welcome: Option<&str>) -> Response {
    let device = match state.app.device_cookie(&user.email).await {
        Ok(device) => device,
        Err(e) => return sign_in_failed(e),
    };
    match state.app.start_session(user.id).await {
        Ok(cookie) => {
            let session = csrf::set_cookie(&state.settings, SESSION_COOKIE, &cookie, SESSION_LIFETIME.num_seconds(), SameSite::Lax);
            let device = csrf::set_cookie(&state.settings, DEVICE_COOKIE, &device, DEVICE_LIFETIME_SECS, SameSite::Strict);
            let welcome = welcome.map(|m| flash::set(&state.settings, &cookie, FLASH, m));
            with_cookies(Redirect::to(next).into_response(), [session, device].into_iter().chain(welcome))
        }
        Err(e) => sign_in_failed(e),
    }
}

const DEVICE_LIFETIME_SECS: i64 = 60 * 60 * 24 * 365;

pub async fn signin_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    credentials_form(&state, &headers, &q, false).await
}

pub async fn signin(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    if let Some(refused) = refuse(&state, &headers, &form.csrf) {
        return refused;
    }
    let next = safe_next(&state.settings, &form.next);
    let again = |status: StatusCode, message: String| {
        credentials_again(&state, &form, &next, status, CredentialsView { error: Some(message), ..Default::default() })
    };
    let context = SignInContext { address, device_cookie: csrf::cookie(&state.settings, &headers, DEVICE_COOKIE) };
    match state.app.sign_in(&form.email, &form.password, context).await {
        Ok(SignIn::Accepted(user)) => start_session(&state, &user, &next, None).await,
        Ok(SignIn::Refused) => again(StatusCode::UNAUTHORIZED, "Incorrect email or password.".into()).await,
        Ok(SignIn::Throttled { wait }) => too_many(
            again(StatusCode::TOO_MANY_REQUESTS, format!("Too many failed sign-ins. Try again in {}.", throttle::human_wait(wait))).await,
            retry_secs(wait),
        ),
        Ok(SignIn::Busy) => too_many(again(StatusCode::TOO_MANY_REQUESTS, BUSY.into()).await, BUSY_RETRY_SECS),
        Err(e) => sign_in_failed(e),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn signout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfOnly>) -> Response {
    if let Some(refused) = refuse(&state, &headers, &form.csrf) {
        return refused;
    }
    if let Some(cookie) = csrf::cookie(&state.settings, &headers, SESSION_COOKIE)
        && let Err(e) = state.app.end_session(cookie).await
    {
        return internal_error(e);
    }
    let clear = csrf::set_cookie(&state.settings, SESSION_COOKIE, "", 0, SameSite::Lax);
    with_cookies(Redirect::to("/signin?signed_out=1").into_response(), [clear])
}

/// A moment as the pages show it: UTC in the markup (the page's script adds local and
/// relative time where it runs).
fn fmt_time(t: Option<DateTime<Utc>>, none: &str) -> String {
    t.map(|t| format!(r#"<time datetime="{}">{}</time>"#, t.to_rfc3339(), t.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_else(|| none.to_owned())
}

/// The ready-to-paste client configurations for a new key: (id, title, where it goes, text).
fn snippets(mcp_url: &str, token: &str) -> [(&'static str, &'static str, &'static str, String); 4] {
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    let claude_desktop = pretty(serde_json::json!({
        "mcpServers": { "navis": {
            "command": "npx",
            "args": ["-y", "mcp-remote@0.15.1", mcp_url, "--header", "Authorization:${NAVIS_AUTH}"],
            "env": { "NAVIS_AUTH": format!("Bearer {token}") }
        }}
    }));
    let cursor = pretty(serde_json::json!({
        "mcpServers": { "navis": { "url": mcp_url, "headers": { "Authorization": format!("Bearer {token}") } } }
    }));
    let claude_code = format!("claude mcp add --transport http navis {mcp_url} \\\n  --header \"Authorization: Bearer {token}\"");
    let curl = format!(
        "curl {mcp_url} \\\n  -H \"Authorization: Bearer {token}\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{{}}}}'"
    );
    [
        (
            "snippet-claude",
            "Claude Desktop",
            "in <code>claude_desktop_config.json</code> (Settings → Developer → Edit Config)",
            claude_desktop,
        ),
        ("snippet-claude-code", "Claude Code", "in a terminal", claude_code),
        ("snippet-cursor", "Cursor", "in <code>~/.cursor/mcp.json</code>, or <code>.cursor/mcp.json</code> in a project", cursor),
        ("snippet-curl", "curl", "to try it in a terminal", curl),
    ]
}

/// A button that copies the text of element `id`; `what` completes its name for screen readers
/// ("Copy the API key") while the visible word alone changes to "Copied".
fn copy_button(id: &str, what: &str) -> String {
    format!(
        r#"<button type="button" data-copy="{id}"><span class="label">Copy</span><span class="visually-hidden"> {}</span></button>"#,
        esc(what)
    )
}

/// The one page that shows a new key's token.
fn new_key_panel(state: &AppState, key: &KeyView, token: &str) -> String {
    let mcp_url = state.settings.url(MCP_PATHS[0]);
    let snippets: String = snippets(&mcp_url, token)
        .iter()
        .map(|(id, title, place, text)| {
            format!(
                r#"<h3>{title} <span class="muted">{place}</span></h3>
<div class="copy-row"><pre id="{id}">{text}</pre>{copy}</div>"#,
                text = esc(text),
                copy = copy_button(id, &format!("the {title} configuration")),
            )
        })
        .collect();
    format!(
        r#"<section class="card new-key" id="new-key">
<h1>API key “<span class="key-name">{name}</span>” created</h1>
<p><strong>Copy it now: this is the only time it is shown.</strong> Navis keeps only a digest of it, so reloading or coming back to this page will not show it again.</p>
<div class="copy-row"><code id="new-token">{token}</code>{copy}</div>
<p class="muted">{access} · {expires}</p>
<h2>Add it to a client</h2>
{snippets}
<p class="actions"><a class="button" href="{HOME}">Done</a></p>
</section>"#,
        name = esc(&key.name),
        token = esc(token),
        copy = copy_button("new-token", "the API key"),
        access = key.scope_label,
        expires = match key.expires_at {
            Some(at) => format!("Stops working at {}", fmt_time(Some(at), "")),
            None => "Never expires".to_owned(),
        },
    )
}

/// What the Create API key form holds: the values as typed, and each field's error.
#[derive(Default)]
struct KeyFormView {
    name: String,
    scope: String,
    expiry: String,
    expires: String,
    name_error: Option<String>,
    scope_error: Option<String>,
    expiry_error: Option<String>,
}

/// The expiry presets, in days.
const EXPIRY_PRESETS: [i64; 3] = [7, 30, 90];

fn key_form(form: &KeyFormView, csrf: &str, now: DateTime<Utc>) -> String {
    let checked = |yes: bool| if yes { " checked" } else { "" };
    let scope = if form.scope == "write" { "write" } else { "read" };
    let expiry = if form.expiry.is_empty() { "never" } else { form.expiry.as_str() };
    let today = now.date_naive();
    let presets: String = EXPIRY_PRESETS
        .iter()
        .map(|days| {
            let at = (today + Duration::days(*days)).and_hms_opt(0, 0, 0).map(|t| t.and_utc());
            format!(
                r#"<label class="choice"><input type="radio" name="expiry" value="{days}"{c}> In {days} days <span class="muted">— stops at {at}</span></label>"#,
                c = checked(expiry == days.to_string()),
                at = fmt_time(at, ""),
            )
        })
        .collect();
    let expiry_described = match &form.expiry_error {
        Some(_) => r#"expiry-hint expiry-error"#,
        None => "expiry-hint",
    };
    format!(
        r#"<form method="post" action="/settings/connected-apps/keys" class="key-form" novalidate>
<input type="hidden" name="csrf" value="{csrf}">
<label for="key-name">Name</label>
<input type="text" id="key-name" name="name" value="{name}" required maxlength="{max}" placeholder="e.g. Claude Desktop on my laptop"{name_attrs}{name_focus}>
{name_error}
<fieldset{scope_attrs}><legend>Access</legend>
<label class="choice"><input type="radio" name="scope" value="read"{read}> <strong>Read</strong> <span class="muted">— read projects, tasks and the rest of the workspace</span></label>
<label class="choice"><input type="radio" name="scope" value="write"{write}> <strong>Read + Write</strong> <span class="muted">— also create, change and delete</span></label>
{scope_error}
</fieldset>
<fieldset aria-describedby="{expiry_described}"><legend>Expires</legend>
<label class="choice"><input type="radio" name="expiry" value="never"{never}> Never <span class="muted">— until you revoke it</span></label>
{presets}
<label class="choice"><input type="radio" name="expiry" value="date"{date}> On a date:</label>
<label for="key-expires" class="visually-hidden">Expiry date</label>
<input type="date" id="key-expires" name="expires" value="{expires}" min="{min}" class="date"{expires_attrs}>
{expiry_error}
<p class="hint" id="expiry-hint">A key stops working at 00:00 UTC on its expiry day, the first moment of that day in UTC, and is then listed as expired.</p>
</fieldset>
<button type="submit">Create API key</button>
</form>"#,
        csrf = esc(csrf),
        name = esc(&form.name),
        max = keys::MAX_NAME_LEN,
        name_attrs = invalid_attrs("key-name", form.name_error.as_deref()),
        name_focus = if form.name_error.is_some() { " autofocus" } else { "" },
        name_error = field_error("key-name", form.name_error.as_deref()),
        scope_attrs = if form.scope_error.is_some() { r#" aria-describedby="scope-error""# } else { "" },
        read = checked(scope == "read"),
        write = checked(scope == "write"),
        scope_error = field_error("scope", form.scope_error.as_deref()),
        never = checked(expiry == "never"),
        date = checked(expiry == "date"),
        expires = esc(&form.expires),
        min = today + Duration::days(1),
        expires_attrs = invalid_attrs("expiry", form.expiry_error.as_deref()),
        expiry_error = field_error("expiry", form.expiry_error.as_deref()),
    )
}

/// How many security events a page lists.
const EVENTS_PER_PAGE: u32 = 20;

/// One security event: when, what, and from which address and browser.
fn audit_item(e: &AuditEvent) -> String {
    let from: Vec<String> = [e.ip.as_deref().map(|ip| format!("from {ip}")), e.client.clone()].into_iter().flatten().collect();
    let from = if from.is_empty() { String::new() } else { format!(r#" <span class="muted">· {}</span>"#, esc(&from.join(" · "))) };
    format!("<li>{} — {}{from}</li>", fmt_time(Some(e.created_at), ""), esc(&e.detail))
}

/// The Connected Apps page; with `form`, the Create API key form shown again with its errors;
/// `events_before` pages back through the security events.
async fn render_connected_apps(
    state: &AppState,
    user: &User,
    csrf_token: &str,
    form: Option<KeyFormView>,
    flash: Option<&str>,
    events_before: Option<uuid::Uuid>,
) -> Response {
    let unavailable = |e: ServiceError| server_error(&e, "<p>This page could not be loaded. Reload it in a moment.</p>");
    let keys = match state.app.list_api_keys(user.id).await {
        Ok(keys) => keys,
        Err(e) => return unavailable(e),
    };
    let apps = match state.app.connected_apps(user.id).await {
        Ok(apps) => apps,
        Err(e) => return unavailable(e),
    };
    let audit = match state.app.audit_page(user.id, events_before, EVENTS_PER_PAGE).await {
        Ok(a) => a,
        Err(e) => return unavailable(e),
    };
    let mcp_url = state.settings.url(MCP_PATHS[0]);
    let rows: String = if keys.is_empty() {
        r#"<tr class="empty"><td colspan="8" class="muted">No API keys yet.</td></tr>"#.to_owned()
    } else {
        keys.iter()
            .map(|k| {
                let action = if k.status == "active" {
                    format!(
                        r#"<a class="button danger small" href="/settings/connected-apps/keys/{id}/revoke" aria-label="Revoke API key “{name}”">Revoke</a>"#,
                        id = esc(&k.id),
                        name = esc(&k.name)
                    )
                } else {
                    String::new()
                };
                format!(
                    r#"<tr data-key-id="{id}"><td data-label="Name" class="name">{name}</td><td data-label="Access">{scope}</td><td data-label="Key"><code>{display}</code></td><td data-label="Created">{created}</td><td data-label="Last used">{last}</td><td data-label="Expires">{expires}</td><td data-label="Status" class="status-{status}">{status}</td><td class="row-action">{action}</td></tr>"#,
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
        r#"<tr class="empty"><td colspan="6" class="muted">No apps connected with OAuth. Add this server's URL in an MCP client to connect one.</td></tr>"#.to_owned()
    } else {
        apps.iter()
            .map(|a| {
                format!(
                    r#"<tr data-grant-id="{id}"><td data-label="App" class="name">{name}</td><td data-label="Redirects to">{host}</td><td data-label="Access">{scope}</td><td data-label="Connected">{connected}</td><td data-label="Last used">{last}</td><td class="row-action"><a class="button danger small" href="/settings/connected-apps/apps/{id}/disconnect" aria-label="Disconnect {name}">Disconnect</a></td></tr>"#,
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
    let audit_rows: String = if audit.events.is_empty() {
        r#"<li class="muted">Nothing yet.</li>"#.to_owned()
    } else {
        audit.events.iter().map(audit_item).collect()
    };
    let newer = events_before.map(|_| format!(r##"<a href="{HOME}#security-events">Newest events</a>"##)).unwrap_or_default();
    let older =
        audit.older.map(|id| format!(r##"<a href="{HOME}?events_before={id}#security-events">Older events</a>"##)).unwrap_or_default();
    let status = if form.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let body = format!(
        r#"<h1>Connected Apps</h1>
{flash}
<section class="card">
<h2>Your MCP server URL</h2>
<div class="copy-row"><code id="mcp-url">{mcp_url}</code>{copy}</div>
<p class="muted">Add it in Claude, Claude Code, Cursor or the MCP Inspector: they connect with OAuth (you approve them here), or with an API key below. <code class="wrap">{alias}</code> works too.</p>
</section>
<section class="card" id="create-key">
<h2>Create API key</h2>
{form}
</section>
<section class="card">
<h2>API keys</h2>
<table class="keys stack">
<thead><tr><th scope="col">Name</th><th scope="col">Access</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>{rows}</tbody>
</table>
</section>
<section class="card">
<h2>Connected apps (OAuth)</h2>
<table class="apps stack">
<thead><tr><th scope="col">App</th><th scope="col">Redirects to</th><th scope="col">Access</th><th scope="col">Connected</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>{app_rows}</tbody>
</table>
</section>
<section class="card" id="security-events">
<h2>Security events</h2>
<ul class="audit">{audit_rows}</ul>
<nav class="pager" aria-label="Security events pages">{newer} {older}</nav>
</section>"#,
        flash = flash_box(flash),
        mcp_url = esc(&mcp_url),
        copy = copy_button("mcp-url", "the MCP server URL"),
        alias = esc(&state.settings.url(MCP_PATHS[1])),
        form = key_form(&form.unwrap_or_default(), csrf_token, state.app.now()),
    );
    page(status, "Connected Apps", Some((&user.email, csrf_token)), &body)
}

#[derive(Deserialize, Default)]
pub struct EventsQuery {
    /// Kept as text: a mangled link shows the newest events rather than an error.
    #[serde(default)]
    events_before: Option<String>,
}

pub async fn connected_apps(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<EventsQuery>) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    let (message, clear) = flash::take(&state.settings, &headers, FLASH);
    let before = query.events_before.and_then(|id| uuid::Uuid::parse_str(&id).ok());
    with_cookies(render_connected_apps(&state, &user, &token, None, message.as_deref(), before).await, set.into_iter().chain(clear))
}

/// `GET /settings/connected-apps/keys`: where Back may land after creating a key; the list is on Connected Apps.
pub async fn keys_index() -> Response {
    Redirect::to(HOME).into_response()
}

#[derive(Deserialize)]
pub struct CreateKeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    /// `never`, a preset number of days, or `date` (then `expires` holds it). Absent in posts of
    /// older pages and scripts, whose `expires` alone decides.
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    expires: String,
    #[serde(default)]
    csrf: String,
}

/// The moment a key made with this form stops working, or why the form's choice cannot be used.
///
/// Public for the fuzz target.
#[doc(hidden)]
pub fn chosen_expiry(form: &CreateKeyForm, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    let date = form.expires.trim();
    let from_date = |date: &str| {
        NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| "Enter the date as a calendar date, like 2026-12-31.".to_owned())
            .and_then(|d| expiry_from_date(d, now).map_err(|_| "Choose a date after today: a key cannot expire in the past.".to_owned()))
            .map(Some)
    };
    match form.expiry.as_str() {
        "" if date.is_empty() => Ok(None),
        "" => from_date(date),
        "date" if date.is_empty() => Err("Choose the date the key stops working, or another option.".into()),
        "date" => from_date(date),
        // A date typed while another option is chosen: ask rather than silently drop it.
        _ if !date.is_empty() => Err("You entered a date: choose “On a date” to use it, or clear the date.".into()),
        "never" => Ok(None),
        preset => match preset.parse::<i64>() {
            Ok(days) if EXPIRY_PRESETS.contains(&days) => from_date(&(now.date_naive() + Duration::days(days)).to_string()),
            _ => Err("Choose when the key expires.".into()),
        },
    }
}

pub async fn create_key(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CreateKeyForm>) -> Response {
    let user = match signed_in_form(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let now = state.app.now();
    let access = Access::parse(&form.scope);
    let expires_at = chosen_expiry(&form, now);
    let name_error = keys::check_name(&form.name).err().map(|e| e.to_string());
    let mut view = KeyFormView {
        name: form.name.clone(),
        scope: form.scope.clone(),
        expiry: form.expiry.clone(),
        expires: form.expires.clone(),
        name_error,
        scope_error: access.is_none().then(|| "Choose Read or Read + Write.".to_owned()),
        expiry_error: expires_at.as_ref().err().cloned(),
    };
    let (Some(access), Ok(expires_at), false) = (access, expires_at, view.name_error.is_some()) else {
        return render_connected_apps(&state, &user, &form.csrf, Some(view), None, None).await;
    };
    match state.app.create_api_key(user.id, &form.name, access, expires_at).await {
        Ok(created) => {
            // Post/Redirect/Get: the token travels to the one page that shows it in a one-time
            // cookie bound to this session, so reloading that page cannot make or show it again.
            let reveal = serde_json::json!({ "id": created.key.id, "token": created.token.plaintext }).to_string();
            let set = csrf::cookie(&state.settings, &headers, SESSION_COOKIE).map(|s| flash::set(&state.settings, s, REVEAL, &reveal));
            with_cookies(Redirect::to(&format!("/settings/connected-apps/keys/{}/created", created.key.id)).into_response(), set)
        }
        Err(ServiceError::Invalid(m)) => {
            view.name_error = Some(m);
            render_connected_apps(&state, &user, &form.csrf, Some(view), None, None).await
        }
        Err(e) => internal_error(e),
    }
}

/// The user's key with this id, if it exists.
async fn own_key(state: &AppState, user: &User, id: &str) -> Result<Option<KeyView>, ServiceError> {
    Ok(state.app.list_api_keys(user.id).await?.into_iter().find(|k| k.id == id))
}

/// `GET …/keys/{id}/created`: the new key's token, once.
pub async fn key_created(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    let (reveal, clear) = flash::take(&state.settings, &headers, REVEAL);
    let reveal = reveal.and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok());
    // Another key's token (a second tab created one meanwhile) stays for that key's own page.
    let clear = clear.filter(|_| reveal.as_ref().is_none_or(|r| r["id"] == id.as_str()));
    let token = reveal.filter(|r| r["id"] == id.as_str()).and_then(|r| r["token"].as_str().map(str::to_owned));
    let key = match own_key(&state, &user, &id).await {
        Ok(key) => key,
        Err(e) => return server_error(&e, "<p>This page could not be loaded. Reload it in a moment.</p>"),
    };
    let (csrf_token, set) = csrf::token(&state.settings, &headers);
    let response = match (key, token) {
        (Some(key), Some(token)) => {
            page(StatusCode::OK, "API key created", Some((&user.email, &csrf_token)), &new_key_panel(&state, &key, &token))
        }
        (key, _) => {
            let revoke = match key {
                Some(k) if k.status == "active" => format!(
                    r#" If you did not copy it, <a href="/settings/connected-apps/keys/{}/revoke">revoke “{}”</a> and create a new key."#,
                    esc(&k.id),
                    esc(&k.name)
                ),
                _ => String::new(),
            };
            let body = format!(
                r#"<section class="card narrow"><h1>This key's token was already shown</h1><p>A new API key's token is shown only once, right after it is created; Navis keeps only a digest of it, so it cannot show it again.{revoke}</p><p><a class="button" href="{HOME}">Go to Connected Apps</a></p></section>"#
            );
            page(StatusCode::GONE, "Token already shown", Some((&user.email, &csrf_token)), &body)
        }
    };
    with_cookies(response, set.into_iter().chain(clear))
}

/// A confirmation page: what will happen, a form that does it, and a way back.
fn confirm_page(
    user: &User,
    csrf_token: &str,
    title: &str,
    facts: &[(&str, String)],
    consequence: &str,
    action: &str,
    button: &str,
) -> Response {
    let facts: String = facts.iter().map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>")).collect();
    let body = format!(
        r#"<section class="card narrow confirm">
<h1>{title}</h1>
<dl class="facts">{facts}</dl>
<p>{consequence}</p>
<form method="post" action="{action}">
<input type="hidden" name="csrf" value="{csrf}">
<div class="actions"><button type="submit" class="danger">{button}</button> <a class="button secondary" href="{HOME}">Cancel</a></div>
</form>
</section>"#,
        title = esc(title),
        csrf = esc(csrf_token),
    );
    page(StatusCode::OK, title, Some((&user.email, csrf_token)), &body)
}

fn gone_page(user: &User, csrf_token: &str, title: &str, text: &str) -> Response {
    let body = format!(
        r#"<section class="card narrow"><h1>{}</h1><p>{}</p><p><a class="button" href="{HOME}">Go to Connected Apps</a></p></section>"#,
        esc(title),
        esc(text)
    );
    page(StatusCode::NOT_FOUND, title, Some((&user.email, csrf_token)), &body)
}

/// `GET …/keys/{id}/revoke`: asks before revoking, naming the key.
pub async fn confirm_revoke(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    let response = match own_key(&state, &user, &id).await {
        Ok(Some(key)) if key.status == "active" => confirm_page(
            &user,
            &token,
            &format!("Revoke API key “{}”?", key.name),
            &[
                ("Key", format!("<code>{}</code>", esc(&key.display_id))),
                ("Access", key.scope_label.to_owned()),
                ("Last used", fmt_time(key.last_used_at, "Never")),
            ],
            "Every app or script using this key is refused from its next request, on every Navis instance. This cannot be undone: to connect it again, create a new key.",
            &format!("/settings/connected-apps/keys/{}/revoke", esc(&key.id)),
            "Revoke key",
        ),
        Ok(_) => gone_page(&user, &token, "No such active key", "This API key does not exist or was already revoked or expired."),
        Err(e) => return server_error(&e, "<p>This page could not be loaded. Reload it in a moment.</p>"),
    };
    with_cookies(response, set)
}

pub async fn revoke_key(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Form(form): Form<CsrfOnly>) -> Response {
    let user = match signed_in_form(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    match state.app.revoke_api_key(user.id, &id).await {
        Ok(key) => {
            let message = format!("API key “{}” was revoked. Anything still using it is refused from its next request.", key.name);
            redirect_with_flash(&state, &headers, HOME, &message)
        }
        Err(ServiceError::NotFound(m)) => gone_page(&user, &form.csrf, "No such active key", &m),
        Err(e) => internal_error(e),
    }
}

const ACCOUNT: &str = "/settings/account";

/// What the account page's forms show: an error beside a field.
#[derive(Default)]
struct AccountView {
    current_error: Option<String>,
    new_error: Option<String>,
    delete_error: Option<String>,
}

fn account_page(status: StatusCode, user: &User, csrf_token: &str, view: AccountView, flash: Option<&str>) -> Response {
    let csrf = esc(csrf_token);
    let body = format!(
        r#"<h1>Account</h1>
{flash}
<section class="card">
<h2>Change password</h2>
<p class="muted">Every other browser signed in to this account is signed out. API keys and connected apps keep working: revoke them on <a href="{HOME}">Connected Apps</a> if you think they leaked.</p>
<form method="post" action="{ACCOUNT}/password" novalidate>
<input type="hidden" name="csrf" value="{csrf}">
<label for="current-password">Current password</label>
<input type="password" id="current-password" name="current" required autocomplete="current-password"{current_attrs}>
{current_error}
<label for="new-password">New password</label>
<input type="password" id="new-password" name="new" required minlength="{min}" autocomplete="new-password" aria-describedby="new-password-hint{new_described}"{new_invalid}>
{new_error}<p class="hint" id="new-password-hint">At least {min} characters.</p>
<button type="submit">Change password</button>
</form>
</section>
<section class="card danger-zone">
<h2>Delete account</h2>
<p>Deletes <strong class="wrap">{email}</strong> and everything in it, at once and for good: your projects, tasks, comments and activity, every API key and connected app (each is refused from its next request), and your security events.</p>
<form method="post" action="{ACCOUNT}/delete" novalidate>
<input type="hidden" name="csrf" value="{csrf}">
<label for="delete-password">Enter your password to confirm</label>
<input type="password" id="delete-password" name="password" required autocomplete="current-password"{delete_attrs}>
{delete_error}
<button type="submit" class="danger">Delete my account</button>
</form>
</section>"#,
        flash = flash_box(flash),
        email = esc(&user.email),
        min = accounts::MIN_PASSWORD_LEN,
        current_attrs = invalid_attrs("current-password", view.current_error.as_deref()),
        current_error = field_error("current-password", view.current_error.as_deref()),
        new_described = if view.new_error.is_some() { " new-password-error" } else { "" },
        new_invalid = if view.new_error.is_some() { r#" aria-invalid="true""# } else { "" },
        new_error = field_error("new-password", view.new_error.as_deref()),
        delete_attrs = invalid_attrs("delete-password", view.delete_error.as_deref()),
        delete_error = field_error("delete-password", view.delete_error.as_deref()),
    );
    page(status, "Account", Some((&user.email, csrf_token)), &body)
}

pub async fn account(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to(&format!("/signin?next={}", ACCOUNT.replace('/', "%2F"))).into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    let (message, clear) = flash::take(&state.settings, &headers, FLASH);
    with_cookies(account_page(StatusCode::OK, &user, &token, AccountView::default(), message.as_deref()), set.into_iter().chain(clear))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    csrf: String,
}

pub async fn change_password(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<PasswordForm>) -> Response {
    let user = match signed_in_form(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let again = |view: AccountView| account_page(StatusCode::BAD_REQUEST, &user, &form.csrf, view, None);
    if let Err(e) = accounts::check_password(&form.new) {
        return again(AccountView { new_error: Some(e.to_string()), ..Default::default() });
    }
    let session = csrf::cookie(&state.settings, &headers, SESSION_COOKIE).unwrap_or_default();
    match state.app.change_password(&user, &form.current, &form.new, session).await {
        Ok(PasswordCheck::Right) => {
            redirect_with_flash(&state, &headers, ACCOUNT, "Your password was changed. Every other browser was signed out.")
        }
        Ok(PasswordCheck::Wrong) => {
            again(AccountView { current_error: Some("This is not your current password.".into()), ..Default::default() })
        }
        Ok(PasswordCheck::Throttled { wait }) => {
            let view = AccountView { current_error: Some(wrong_too_often(wait)), ..Default::default() };
            too_many(account_page(StatusCode::TOO_MANY_REQUESTS, &user, &form.csrf, view, None), retry_secs(wait))
        }
        Err(ServiceError::Busy) => too_many(again(AccountView { current_error: Some(BUSY.into()), ..Default::default() }), BUSY_RETRY_SECS),
        Err(e) => internal_error(e),
    }
}

#[derive(Deserialize)]
pub struct DeleteAccountForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn delete_account(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<DeleteAccountForm>) -> Response {
    let user = match signed_in_form(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let again = |view: AccountView| account_page(StatusCode::BAD_REQUEST, &user, &form.csrf, view, None);
    match state.app.delete_account(&user, &form.password).await {
        Ok(PasswordCheck::Right) => {
            let clear = csrf::set_cookie(&state.settings, SESSION_COOKIE, "", 0, SameSite::Lax);
            with_cookies(Redirect::to("/?account_deleted=1").into_response(), [clear])
        }
        Ok(PasswordCheck::Wrong) => {
            again(AccountView { delete_error: Some("This is not your password; nothing was deleted.".into()), ..Default::default() })
        }
        Ok(PasswordCheck::Throttled { wait }) => {
            let view = AccountView { delete_error: Some(wrong_too_often(wait)), ..Default::default() };
            too_many(account_page(StatusCode::TOO_MANY_REQUESTS, &user, &form.csrf, view, None), retry_secs(wait))
        }
        Err(ServiceError::Busy) => too_many(again(AccountView { delete_error: Some(BUSY.into()), ..Default::default() }), BUSY_RETRY_SECS),
        Err(e) => internal_error(e),
    }
}

/// The user's connected app with this grant id, if it is connected.
async fn own_app(state: &AppState, user: &User, id: &str) -> Result<Option<AppView>, ServiceError> {
    let Ok(grant_id) = uuid::Uuid::parse_str(id) else { return Ok(None) };
    Ok(state.app.connected_apps(user.id).await?.into_iter().find(|a| a.grant_id == grant_id))
}

/// `GET …/apps/{id}/disconnect`: asks before disconnecting, naming the app.
pub async fn confirm_disconnect(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    let response = match own_app(&state, &user, &id).await {
        Ok(Some(app)) => confirm_page(
            &user,
            &token,
            &format!("Disconnect {}?", app.client_name),
            &[
                ("Redirects to", esc(&app.redirect_host)),
                ("Access", app.access.label().to_owned()),
                ("Connected", fmt_time(Some(app.connected_at), "")),
                ("Last used", fmt_time(app.last_used_at, "Never")),
            ],
            "Navis revokes every token this app holds: it is refused from its next request, and must ask you again to reconnect.",
            &format!("/settings/connected-apps/apps/{}/disconnect", app.grant_id),
            "Disconnect",
        ),
        Ok(None) => gone_page(&user, &token, "No such connected app", "This app is not connected, or was already disconnected."),
        Err(e) => return server_error(&e, "<p>This page could not be loaded. Reload it in a moment.</p>"),
    };
    with_cookies(response, set)
}

pub async fn disconnect_app(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let user = match signed_in_form(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let result = match uuid::Uuid::parse_str(&id) {
        Ok(grant_id) => state.app.disconnect(user.id, grant_id).await,
        Err(_) => Err(ServiceError::NotFound("No such connected app.".into())),
    };
    match result {
        Ok(name) => {
            let message = format!("{name} was disconnected. Every token it held is revoked; it must ask you again to reconnect.");
            redirect_with_flash(&state, &headers, HOME, &message)
        }
        Err(ServiceError::NotFound(m)) => gone_page(&user, &form.csrf, "No such connected app", &m),
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
            "/.//evil.example",
            "/x/..//evil.example",
            "/./\\evil.example",
        ] {
            let next = safe_next(&s, evil);
            assert!(next == HOME || (next.starts_with('/') && !next.starts_with("//")), "{evil:?} → {next}");
            assert!(HeaderValue::from_str(&next).is_ok(), "{evil:?} must make a valid Location");
        }
        assert_eq!(safe_next(&s, "/\t/evil.example/x"), HOME);
        assert_eq!(safe_next(&s, "//evil.example"), HOME);
        assert_eq!(safe_next(&s, "/\\evil.example"), HOME);
        // Found by the fuzz target `next`: dot segments removed, `/.//evil` became `//evil`.
        assert_eq!(safe_next(&s, "/.//evil.example"), HOME);
        assert_eq!(safe_next(&s, "/x/..//evil.example/p?q"), HOME);
    }
}
