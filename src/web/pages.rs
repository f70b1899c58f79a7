//! The landing page, sign-up, sign-in, sign-out and Settings → Connected Apps.
//!
//! Every form follows Post/Redirect/Get: a post that succeeds answers 303 to a page, with a
//! one-time message (`flash`), so reloading or going back never repeats an action. A form with
//! errors is shown again at once (400), with each error beside its field and what was typed
//! kept: posting it again changes nothing either.
use askama::Template;
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
    html::{Account, Layout, Message, Trouble, error_page, message_page, page},
    oauth::{WaitingApp, waiting_app},
};
use crate::config::Settings;
use crate::core::scope::Access;
use crate::core::throttle;
use crate::edge::MCP_PATHS;
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
    let home = settings.url("/");
    let public = settings.public_url.as_str();
    let message = match &refusal {
        Refusal::WrongOrigin(origin) => Message::WrongOrigin { origin, public, home: &home },
        Refusal::CrossSite => Message::CrossSite { public, home: &home },
        Refusal::Token => Message::FormExpired,
    };
    message_page(StatusCode::FORBIDDEN, None, message)
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

fn server_error(e: &ServiceError, trouble: Trouble) -> Response {
    tracing::error!(error = ?e, "page failed");
    error_page(trouble)
}

/// A change that failed. Every change commits with its audit row in one transaction, so it
/// changed nothing, unless the database's answer to the commit itself was lost.
fn internal_error(e: ServiceError) -> Response {
    let trouble = if e.outcome_unknown() { Trouble::OutcomeUnknown } else { Trouble::NothingChanged };
    server_error(&e, trouble)
}

/// Signing in (or up) got as far as it did: an account made by sign-up stays made.
fn sign_in_failed(e: ServiceError) -> Response {
    server_error(&e, Trouble::SignIn)
}

/// A page whose data could not be read.
fn unavailable(e: ServiceError) -> Response {
    server_error(&e, Trouble::Unavailable)
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

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    layout: Layout<'a>,
    notice: Option<&'a str>,
    allow_signup: bool,
    mcp_url: String,
}

/// Signed-out visitors: what Navis is and how to connect an assistant. Signed in: Connected Apps.
pub async fn home(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<HomeQuery>) -> Response {
    if signed_in_user(&state, &headers).await.is_some() {
        return Redirect::to(HOME).into_response();
    }
    let view = HomePage {
        layout: Layout::signed_out("Your workspace for AI assistants"),
        notice: q.account_deleted.map(|_| "Your account and everything in it were deleted."),
        allow_signup: state.settings.allow_signup,
        mcp_url: state.settings.url(MCP_PATHS[0]),
    };
    page(StatusCode::OK, &view)
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

#[derive(Template)]
#[template(path = "credentials.html")]
struct CredentialsPage<'a> {
    layout: Layout<'a>,
    v: CredentialsView<'a>,
    /// `next` as a query parameter's value, for the link to the other form.
    next_query: String,
    min_password_len: usize,
}

fn credentials_page(status: StatusCode, v: CredentialsView<'_>) -> Response {
    let view = CredentialsPage {
        layout: Layout::signed_out(if v.signup { "Create your account" } else { "Sign in" }),
        next_query: url::form_urlencoded::byte_serialize(v.next.as_bytes()).collect(),
        min_password_len: accounts::MIN_PASSWORD_LEN,
        v,
    };
    page(status, &view)
}

fn signup_disabled() -> Response {
    message_page(StatusCode::FORBIDDEN, None, Message::SignupDisabled)
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

/// The ready-to-paste client configurations for a new key.
struct Snippets {
    claude_desktop: String,
    claude_code: String,
    cursor: String,
    curl: String,
}

fn snippets(mcp_url: &str, token: &str) -> Snippets {
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
    Snippets { claude_desktop, claude_code, cursor, curl }
}

/// The one page that shows a new key's token.
#[derive(Template)]
#[template(path = "key_created.html")]
struct KeyCreatedPage<'a> {
    layout: Layout<'a>,
    key: &'a KeyView,
    token: &'a str,
    snippets: Snippets,
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

/// How many security events a page lists.
const EVENTS_PER_PAGE: u32 = 20;

/// One expiry preset as the form offers it: the moment the key would stop working.
struct Preset {
    days: i64,
    at: DateTime<Utc>,
    checked: bool,
}

/// One security event: when, what, and from which address and browser.
struct EventRow {
    created_at: DateTime<Utc>,
    detail: String,
    from: Option<String>,
}

impl From<AuditEvent> for EventRow {
    fn from(e: AuditEvent) -> Self {
        let from: Vec<String> = [e.ip.map(|ip| format!("from {ip}")), e.client].into_iter().flatten().collect();
        EventRow { created_at: e.created_at, detail: e.detail, from: (!from.is_empty()).then(|| from.join(" · ")) }
    }
}

#[derive(Template)]
#[template(path = "connected_apps.html")]
struct ConnectedAppsPage<'a> {
    layout: Layout<'a>,
    csrf: &'a str,
    flash: Option<&'a str>,
    mcp_url: String,
    alias: String,
    form: KeyFormView,
    /// The form's choices: Read + Write (else Read), and the expiry option.
    write: bool,
    expiry: String,
    presets: Vec<Preset>,
    /// The earliest expiry date: tomorrow.
    min_date: NaiveDate,
    max_name_len: usize,
    keys: Vec<KeyView>,
    apps: Vec<AppView>,
    events: Vec<EventRow>,
    /// Whether this is an older page of events (then it links to the newest).
    newer: bool,
    older: Option<uuid::Uuid>,
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
    let status = if form.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let form = form.unwrap_or_default();
    let expiry = if form.expiry.is_empty() { "never".to_owned() } else { form.expiry.clone() };
    let today = state.app.now().date_naive();
    let presets = EXPIRY_PRESETS
        .iter()
        .filter_map(|&days| {
            let at = (today + Duration::days(days)).and_hms_opt(0, 0, 0)?.and_utc();
            Some(Preset { days, at, checked: expiry == days.to_string() })
        })
        .collect();
    let view = ConnectedAppsPage {
        layout: Layout::signed_in("Connected Apps", &user.email, csrf_token),
        csrf: csrf_token,
        flash,
        mcp_url: state.settings.url(MCP_PATHS[0]),
        alias: state.settings.url(MCP_PATHS[1]),
        write: form.scope == "write",
        expiry,
        presets,
        min_date: today + Duration::days(1),
        max_name_len: keys::MAX_NAME_LEN,
        form,
        keys,
        apps,
        events: audit.events.into_iter().map(EventRow::from).collect(),
        newer: events_before.is_some(),
        older: audit.older,
    };
    page(status, &view)
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
        Err(e) => return unavailable(e),
    };
    let (csrf_token, set) = csrf::token(&state.settings, &headers);
    let response = match (key, token) {
        (Some(key), Some(token)) => {
            let view = KeyCreatedPage {
                layout: Layout::signed_in("API key created", &user.email, &csrf_token),
                key: &key,
                token: &token,
                snippets: snippets(&state.settings.url(MCP_PATHS[0]), &token),
            };
            page(StatusCode::OK, &view)
        }
        (key, _) => {
            let revoke = key.as_ref().filter(|k| k.status == "active").map(|k| (k.id.as_str(), k.name.as_str()));
            message_page(StatusCode::GONE, Some(Account { email: &user.email, csrf: &csrf_token }), Message::TokenShown { revoke })
        }
    };
    with_cookies(response, set.into_iter().chain(clear))
}

/// What a confirmation page names.
enum Subject {
    Key(KeyView),
    App(AppView),
}

/// A confirmation page: what will happen, a form that does it, and a way back.
#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    layout: Layout<'a>,
    csrf: &'a str,
    subject: Subject,
}

fn confirm_page(user: &User, csrf_token: &str, subject: Subject) -> Response {
    let title = match &subject {
        Subject::Key(key) => format!("Revoke API key “{}”?", key.name),
        Subject::App(app) => format!("Disconnect {}?", app.client_name),
    };
    page(StatusCode::OK, &ConfirmPage { layout: Layout::signed_in(&title, &user.email, csrf_token), csrf: csrf_token, subject })
}

fn gone_page(user: &User, csrf_token: &str, title: &str, text: &str) -> Response {
    message_page(StatusCode::NOT_FOUND, Some(Account { email: &user.email, csrf: csrf_token }), Message::Gone { title, text })
}

/// `GET …/keys/{id}/revoke`: asks before revoking, naming the key.
pub async fn confirm_revoke(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    let response = match own_key(&state, &user, &id).await {
        Ok(Some(key)) if key.status == "active" => confirm_page(&user, &token, Subject::Key(key)),
        Ok(_) => gone_page(&user, &token, "No such active key", "This API key does not exist or was already revoked or expired."),
        Err(e) => return unavailable(e),
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
    /// A time zone that was refused, shown again beside its error.
    time_zone_input: Option<String>,
    time_zone_error: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    layout: Layout<'a>,
    csrf: &'a str,
    email: &'a str,
    flash: Option<&'a str>,
    v: AccountView,
    min_password_len: usize,
    /// The user's time zone, and every zone the field suggests.
    time_zone: &'a str,
    time_zones: &'a [&'static str],
}

/// Every IANA zone name, for the time-zone field's suggestions.
static TIME_ZONES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect());

async fn account_page(
    state: &AppState,
    status: StatusCode,
    user: &User,
    csrf_token: &str,
    v: AccountView,
    flash: Option<&str>,
) -> Response {
    let time_zone = match state.app.time_zone(user.id).await {
        Ok(tz) => tz.name(),
        Err(e) => return internal_error(e),
    };
    let view = AccountPage {
        layout: Layout::signed_in("Account", &user.email, csrf_token),
        csrf: csrf_token,
        email: &user.email,
        flash,
        v,
        min_password_len: accounts::MIN_PASSWORD_LEN,
        time_zone,
        time_zones: &TIME_ZONES,
    };
    page(status, &view)
}

pub async fn account(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to(&format!("/signin?next={}", ACCOUNT.replace('/', "%2F"))).into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    let (message, clear) = flash::take(&state.settings, &headers, FLASH);
    let page = account_page(&state, StatusCode::OK, &user, &token, AccountView::default(), message.as_deref()).await;
    with_cookies(page, set.into_iter().chain(clear))
}

#[derive(Deserialize)]
pub struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    csrf: String,
}

/// The user's time zone, which "today", all-day events and working hours are read in (as
/// `PATCH /api/v1/me` sets it).
pub async fn set_time_zone(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<TimeZoneForm>) -> Response {
    let user = match signed_in_form(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    match state.app.set_time_zone(user.id, form.time_zone.trim()).await {
        Ok(name) => redirect_with_flash(&state, &headers, ACCOUNT, &format!("Your time zone is now {name}.")),
        Err(ServiceError::InvalidField { message, .. } | ServiceError::Invalid(message)) => {
            let view = AccountView { time_zone_input: Some(form.time_zone), time_zone_error: Some(message), ..Default::default() };
            account_page(&state, StatusCode::BAD_REQUEST, &user, &form.csrf, view, None).await
        }
        Err(e) => internal_error(e),
    }
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
    let again = |view: AccountView| account_page(&state, StatusCode::BAD_REQUEST, &user, &form.csrf, view, None);
    if let Err(e) = accounts::check_password(&form.new) {
        return again(AccountView { new_error: Some(e.to_string()), ..Default::default() }).await;
    }
    let session = csrf::cookie(&state.settings, &headers, SESSION_COOKIE).unwrap_or_default();
    match state.app.change_password(&user, &form.current, &form.new, session).await {
        Ok(PasswordCheck::Right) => {
            redirect_with_flash(&state, &headers, ACCOUNT, "Your password was changed. Every other browser was signed out.")
        }
        Ok(PasswordCheck::Wrong) => {
            again(AccountView { current_error: Some("This is not your current password.".into()), ..Default::default() }).await
        }
        Ok(PasswordCheck::Throttled { wait }) => {
            let view = AccountView { current_error: Some(wrong_too_often(wait)), ..Default::default() };
            too_many(account_page(&state, StatusCode::TOO_MANY_REQUESTS, &user, &form.csrf, view, None).await, retry_secs(wait))
        }
        Err(ServiceError::Busy) => {
            too_many(again(AccountView { current_error: Some(BUSY.into()), ..Default::default() }).await, BUSY_RETRY_SECS)
        }
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
    let again = |view: AccountView| account_page(&state, StatusCode::BAD_REQUEST, &user, &form.csrf, view, None);
    match state.app.delete_account(&user, &form.password).await {
        Ok(PasswordCheck::Right) => {
            let clear = csrf::set_cookie(&state.settings, SESSION_COOKIE, "", 0, SameSite::Lax);
            with_cookies(Redirect::to("/?account_deleted=1").into_response(), [clear])
        }
        Ok(PasswordCheck::Wrong) => {
            again(AccountView { delete_error: Some("This is not your password; nothing was deleted.".into()), ..Default::default() }).await
        }
        Ok(PasswordCheck::Throttled { wait }) => {
            let view = AccountView { delete_error: Some(wrong_too_often(wait)), ..Default::default() };
            too_many(account_page(&state, StatusCode::TOO_MANY_REQUESTS, &user, &form.csrf, view, None).await, retry_secs(wait))
        }
        Err(ServiceError::Busy) => {
            too_many(again(AccountView { delete_error: Some(BUSY.into()), ..Default::default() }).await, BUSY_RETRY_SECS)
        }
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
        Ok(Some(app)) => confirm_page(&user, &token, Subject::App(app)),
        Ok(None) => gone_page(&user, &token, "No such connected app", "This app is not connected, or was already disconnected."),
        Err(e) => return unavailable(e),
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

    /// A key or app named to break out of the markup comes out as text, wherever it is shown:
    /// table cells, the Revoke/Disconnect links' accessible names, the confirmation's title.
    #[test]
    fn hostile_key_and_app_names_are_escaped() {
        let hostile = r#"<script>alert(1)</script>" onclick="x"#;
        let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;&#34; onclick=&#34;x";
        let now = Utc::now();
        let key = KeyView {
            id: "k1".into(),
            display_id: "nops_k1".into(),
            name: hostile.into(),
            scope: "mcp:read",
            scope_label: "Read",
            created_at: now,
            last_used_at: None,
            expires_at: None,
            status: "active",
        };
        let app = AppView {
            grant_id: uuid::Uuid::nil(),
            client_id: "c".into(),
            client_name: hostile.into(),
            redirect_host: hostile.into(),
            access: Access::Write,
            connected_at: now,
            last_used_at: None,
        };
        let apps_page = ConnectedAppsPage {
            layout: Layout::signed_in("Connected Apps", hostile, "t"),
            csrf: "t",
            flash: Some(hostile),
            mcp_url: "http://127.0.0.1/mcp".into(),
            alias: "http://127.0.0.1/".into(),
            form: KeyFormView { name: hostile.into(), name_error: Some(hostile.into()), ..Default::default() },
            write: false,
            expiry: "never".into(),
            presets: Vec::new(),
            min_date: now.date_naive(),
            max_name_len: keys::MAX_NAME_LEN,
            keys: vec![key.clone()],
            apps: vec![app.clone()],
            events: vec![EventRow { created_at: now, detail: hostile.into(), from: Some(hostile.into()) }],
            newer: false,
            older: None,
        };
        let confirm =
            |subject| ConfirmPage { layout: Layout::signed_in(hostile, hostile, "t"), csrf: "t", subject }.render().unwrap_or_default();
        for html in [apps_page.render().unwrap_or_default(), confirm(Subject::Key(key)), confirm(Subject::App(app))] {
            assert!(html.contains("</main>"), "{html}");
            assert!(!html.contains("<script>alert"), "{html}");
            assert!(!html.contains(r#"" onclick"#), "{html}");
            assert!(html.contains(escaped), "{html}");
        }
    }
}
