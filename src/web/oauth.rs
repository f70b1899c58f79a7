//! The OAuth endpoints' HTTP face: metadata, registration, authorization and consent, token,
//! revocation, introspection. Each handler parses, calls the service, renders.
use std::collections::HashMap;

use askama::Template;
use axum::{
    Json,
    body::Bytes,
    extract::{Query, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use base64::Engine;
use serde_json::{Value, json};

use super::{
    AppState, csrf,
    html::{self, Layout, Message, message_page},
    pages::{signed_in_user, with_cookies},
};
use crate::core::scope::{self, Access};
use crate::service::oauth::{
    OAuthError,
    authorize::{AuthorizationParams, AuthorizeError, ValidAuthorization},
    register::RegistrationRequest,
    token::TokenRequest,
};
use crate::store::OAuthClient;

pub const AUTHORIZE: &str = "/oauth/authorize";
pub const TOKEN: &str = "/oauth/token";
pub const REGISTER: &str = "/oauth/register";
pub const REVOKE: &str = "/oauth/revoke";
pub const INTROSPECT: &str = "/oauth/introspect";

fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn oauth_error(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, Json(json!({ "error": e.error, "error_description": e.description }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="navis""#));
    }
    no_store(response)
}

/// RFC 8414 metadata. The issuer is the public URL, byte for byte as everywhere else.
pub async fn metadata(State(state): State<AppState>) -> impl IntoResponse {
    let s = &state.settings;
    let doc = json!({
        "issuer": s.public_url,
        "authorization_endpoint": s.url(AUTHORIZE),
        "token_endpoint": s.url(TOKEN),
        "registration_endpoint": s.url(REGISTER),
        "revocation_endpoint": s.url(REVOKE),
        "introspection_endpoint": s.url(INTROSPECT),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "scopes_supported": [scope::READ, scope::WRITE],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
        "service_documentation": s.url("/"),
    });
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(doc))
}

pub async fn register(State(state): State<AppState>, body: Bytes) -> Response {
    let req: RegistrationRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return oauth_error(OAuthError::new(
                "invalid_client_metadata",
                format!("The body must be a JSON object of client metadata: {e}"),
            ));
        }
    };
    match state.app.register_client(req).await {
        Ok(doc) => no_store((StatusCode::CREATED, Json(doc)).into_response()),
        Err(e) => oauth_error(e),
    }
}

/// Parses a form body, refusing repeated parameters (RFC 6749 §3.1, §3.2).
fn parse_form(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if map.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::new("invalid_request", format!("Parameter {k} is repeated.")));
        }
    }
    Ok(map)
}

/// The token request from the form plus client credentials from an HTTP Basic header.
///
/// Public for the fuzz target.
#[doc(hidden)]
pub fn token_request(headers: &HeaderMap, body: &[u8]) -> Result<(TokenRequest, HashMap<String, String>), OAuthError> {
    let mut form = parse_form(body)?;
    let mut req = TokenRequest {
        grant_type: form.remove("grant_type"),
        code: form.remove("code"),
        redirect_uri: form.remove("redirect_uri"),
        code_verifier: form.remove("code_verifier"),
        refresh_token: form.remove("refresh_token"),
        scope: form.remove("scope"),
        resource: form.remove("resource"),
        client_id: form.remove("client_id"),
        client_secret: form.remove("client_secret"),
    };
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
    {
        let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).ok().and_then(|b| String::from_utf8(b).ok());
        let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Err(OAuthError::new("invalid_client", "Malformed Basic credentials."));
        };
        // RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic credentials.
        let decode =
            |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.to_string()).unwrap_or_default();
        let (id, secret) = (decode(id), decode(secret));
        if req.client_id.as_deref().is_some_and(|c| c != id) {
            return Err(OAuthError::new("invalid_request", "client_id in the body differs from the Basic credentials."));
        }
        req.client_id = Some(id);
        req.client_secret = Some(secret);
    }
    Ok((req, form))
}

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match token_request(&headers, &body) {
        Ok((req, _)) => req,
        Err(e) => return oauth_error(e),
    };
    let started = std::time::Instant::now();
    let answer = state.app.token(&req).await;
    state.app.metrics.token_answered(started.elapsed());
    match answer {
        Ok(tokens) => {
            state.app.metrics.token(req.grant_type.as_deref());
            no_store(Json(tokens).into_response())
        }
        Err(e) => {
            state.app.metrics.token(None);
            oauth_error(e)
        }
    }
}

pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (req, mut rest) = match token_request(&headers, &body) {
        Ok(parsed) => parsed,
        Err(e) => return oauth_error(e),
    };
    match state.app.revoke(&req, rest.remove("token").as_deref()).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => oauth_error(e),
    }
}

pub async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (req, mut rest) = match token_request(&headers, &body) {
        Ok(parsed) => parsed,
        Err(e) => return oauth_error(e),
    };
    match state.app.introspect(&req, rest.remove("token").as_deref()).await {
        Ok(doc) => no_store(Json(doc).into_response()),
        Err(e) => oauth_error(e),
    }
}

fn error_page(message: &str) -> Response {
    message_page(StatusCode::BAD_REQUEST, None, Message::CannotConnect { message })
}

fn refused(AuthorizeError(message): AuthorizeError) -> Response {
    error_page(&message)
}

/// The app an authorization request names, as the sign-in and consent pages introduce it.
pub struct WaitingApp {
    pub name: String,
    /// The domain its Client ID Metadata Document was fetched from; `None` when the app
    /// registered itself (then its name is only what it says it is).
    pub verified_domain: Option<String>,
}

impl WaitingApp {
    fn of(state: &AppState, client: &OAuthClient) -> WaitingApp {
        let verified_domain = state
            .app
            .client_metadata
            .is_document_url(&client.id)
            .then(|| url::Url::parse(&client.id).ok().and_then(|u| u.host_str().map(str::to_owned)))
            .flatten();
        WaitingApp { name: client.name.clone(), verified_domain }
    }
}

/// The app waiting for a sign-in whose `next` is an authorization request, if it is one Navis accepts.
pub(crate) async fn waiting_app(state: &AppState, next: &str) -> Option<WaitingApp> {
    let query = next.strip_prefix(AUTHORIZE)?.strip_prefix('?')?;
    let params = serde_urlencoded_form::<AuthorizationParams>(query.as_bytes()).ok()?;
    let valid = state.app.validate_authorization(&params).await.ok()?;
    Some(WaitingApp::of(state, &valid.client))
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    layout: Layout<'a>,
    csrf: &'a str,
    app: WaitingApp,
    email: &'a str,
    /// The host the browser is sent to after the decision, and the whole redirect URI.
    host: String,
    redirect_uri: &'a str,
    loopback: bool,
    /// Whether the app asks to write (then the person may still allow reading only).
    write: bool,
    /// The authorization request, carried back by the form: (name, value) of each present parameter.
    fields: Vec<(&'static str, &'a str)>,
}

fn consent_page(state: &AppState, v: &ValidAuthorization, params: &AuthorizationParams, email: &str, csrf_token: &str) -> Response {
    let host =
        url::Url::parse(&v.redirect_uri).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| v.redirect_uri.clone());
    let fields = [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("state", &params.state),
        ("scope", &params.scope),
        ("resource", &params.resource),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value.as_deref()?)))
    .collect();
    let view = ConsentPage {
        layout: Layout::signed_in("Authorize app", email, csrf_token),
        csrf: csrf_token,
        app: WaitingApp::of(state, &v.client),
        email,
        host,
        redirect_uri: &v.redirect_uri,
        loopback: v.loopback_only,
        write: v.requested == Access::Write,
        fields,
    };
    html::consent_page(&view, &v.redirect_uri)
}

pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(params): Query<AuthorizationParams>,
) -> Response {
    let valid = match state.app.validate_authorization(&params).await {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    let Some(user) = signed_in_user(&state, &headers).await else {
        let back = format!("{AUTHORIZE}?{}", raw.unwrap_or_default());
        let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        return Redirect::to(&format!("/signin?next={next}")).into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    with_cookies(consent_page(&state, &valid, &params, &user.email, &token), set)
}

#[derive(serde::Deserialize)]
pub struct ConsentForm {
    #[serde(flatten)]
    params: AuthorizationParams,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    access: String,
}

pub async fn consent(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(form) = serde_urlencoded_form::<ConsentForm>(&body) else {
        return error_page("The consent form could not be read.");
    };
    if let Err(refusal) = csrf::check(&state.settings, &headers, &form.csrf) {
        return super::pages::csrf_failure(&state.settings, refusal);
    }
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    // Everything is checked again: the form's hidden fields are only the user's browser talking.
    let valid = match state.app.validate_authorization(&form.params).await {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    let location = match form.decision.as_str() {
        "approve" => {
            let granted = Access::parse(&form.access).unwrap_or(Access::Read);
            match state.app.approve_authorization(user.id, &valid, granted).await {
                Ok(location) => location,
                Err(_) => return error_page("The server could not complete your approval; try again."),
            }
        }
        _ => state.app.deny_authorization(&valid),
    };
    Redirect::to(&location).into_response()
}

/// Form bodies into a struct, through JSON so that `#[serde(flatten)]` works.
///
/// Public for the fuzz target.
#[doc(hidden)]
pub fn serde_urlencoded_form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let map: serde_json::Map<String, Value> =
        url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect();
    serde_json::from_value(Value::Object(map))
}
