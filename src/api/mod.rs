//! The HTTP API under `/api/v1`: the operation catalogue (`crate::ops`) as resource-oriented
//! routes, with the seed's exact 401/403, JSON errors, cursor pagination with `Link` headers and
//! `Idempotency-Key` on every POST. The routes, the OpenAPI document (`openapi`) and the
//! reference page (`docs`) all come from the catalogue; this file has no per-operation code.
//!
//! The API is the same protected resource as the MCP server: the server at its public URL, of
//! which both MCP paths and `/api/v1` are parts. One token (an API key, or an OAuth access token
//! issued for the public URL or either MCP path) works at both, with the same scopes; the
//! challenges point at the root protected-resource metadata document, which names the public URL.
use std::sync::LazyLock;

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use serde_json::{Map, Value, json};
use tower_http::cors::{Any, CorsLayer};

use crate::edge::{API_PREFIX, AppState, PRM_PREFIX, bearer};
use crate::ops::{self, Effect, JsonObject, OpError, Operation, Route, Verb};
use crate::service::{
    Principal, ServiceError,
    idempotency::{self, Idempotency},
    workspace::export::ExportChunk,
};

pub mod docs;
pub mod openapi;

pub const PREFIX: &str = API_PREFIX;
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The HTTP API's routes, with their state.
pub fn router(state: AppState) -> Router {
    // Scripts on any origin may call the API: it takes no cookies, only bearer tokens.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, IDEMPOTENCY_KEY])
        .expose_headers([header::LINK, header::LOCATION, header::WWW_AUTHENTICATE, IDEMPOTENT_REPLAYED])
        .max_age(std::time::Duration::from_secs(3600));
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::serve).fallback(only_get))
        .route("/api/v1/docs", get(docs::serve).fallback(only_get))
        .route("/api/v1", any(handle))
        .route("/api/v1/", any(handle))
        .route("/api/v1/{*path}", any(handle))
        .layer(cors)
        .with_state(state)
}

/// The metadata document the API's challenges point at: the root one, whose resource is the
/// public URL (see the module's note).
pub fn resource_metadata_url(settings: &crate::config::Settings) -> String {
    settings.url(PRM_PREFIX)
}

/// A JSON error: a stable `error` code and a `message` that says what to fix.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    error_with(status, code, message.into(), None)
}

fn error_with(status: StatusCode, code: &str, message: String, field: Option<String>) -> Response {
    let mut body = json!({ "error": code, "message": message });
    if let (Some(field), Some(object)) = (field, body.as_object_mut()) {
        object.insert("field".into(), Value::String(field));
    }
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn only_get() -> Response {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "This resource only answers GET.");
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

/// A route of the catalogue, split into segments once.
struct Entry {
    op: &'static Operation,
    route: &'static Route,
    segments: Vec<&'static str>,
    /// For creates: the path template of the created item (`/projects/{id}`), if it has one.
    created_at: Option<&'static str>,
    /// Whether the result is a page (carries `next_cursor`).
    paginated: bool,
}

static TABLE: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let all: Vec<(&'static Operation, &'static Route)> =
        ops::OPERATIONS.iter().flat_map(|op| op.routes.iter().map(move |r| (op, r))).collect();
    all.iter()
        .map(|&(op, route)| Entry {
            op,
            route,
            segments: route.path.split('/').skip(1).collect(),
            created_at: (op.effect == Effect::Create)
                .then(|| {
                    all.iter().find(|(_, r)| r.verb == Verb::Get && r.path.strip_prefix(route.path) == Some("/{id}")).map(|(_, r)| r.path)
                })
                .flatten(),
            paginated: op.output.get("properties").and_then(Value::as_object).is_some_and(|p| p.contains_key("next_cursor")),
        })
        .collect()
});

/// A path's `{name}` parameters with their (percent-decoded) values, and the route's fixed arguments.
type Params = Vec<(&'static str, String)>;

enum Resolved {
    Found(&'static Entry, Params),
    /// The path exists, not with this method: these are allowed.
    WrongMethod(Vec<&'static str>),
    NotFound,
}

/// Finds the route for a method and a path (below the prefix). Literal segments beat
/// parameters, so `POST /tasks/batch` is the batch, `GET /tasks/batch` a task id.
fn resolve(method: &Method, path: &str) -> Resolved {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let mut best: Option<(&Entry, usize, Params)> = None;
    let mut allowed = Vec::new();
    for entry in TABLE.iter() {
        if entry.segments.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let mut literals = 0;
        let matches = entry.segments.iter().zip(&segments).all(|(pattern, actual)| {
            match pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !actual.is_empty() => {
                    params.push((name, percent_encoding::percent_decode_str(actual).decode_utf8_lossy().into_owned()));
                    true
                }
                Some(_) => false,
                None => {
                    literals += 1;
                    pattern == actual
                }
            }
        });
        if !matches {
            continue;
        }
        if entry.route.verb.as_str() != method.as_str() {
            allowed.push(entry.route.verb.as_str());
            continue;
        }
        if best.as_ref().is_none_or(|(_, n, _)| literals > *n) {
            best = Some((entry, literals, params));
        }
    }
    match best {
        Some((entry, _, mut params)) => {
            params.extend(entry.route.fixed.iter().map(|&(name, value)| (name, value.to_owned())));
            Resolved::Found(entry, params)
        }
        None if !allowed.is_empty() => {
            let order = ["GET", "POST", "PATCH", "DELETE"];
            allowed.sort_by_key(|m| order.iter().position(|o| o == m));
            allowed.dedup();
            Resolved::WrongMethod(allowed)
        }
        None => Resolved::NotFound,
    }
}

/// Every `/api/v1/…` request but the document and the reference page.
async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().strip_prefix(PREFIX).unwrap_or_default();
    let (entry, params) = match resolve(&parts.method, path) {
        Resolved::Found(entry, params) => (entry, params),
        Resolved::WrongMethod(allowed) => {
            let allow = allowed.join(", ");
            if parts.method == Method::OPTIONS {
                return (StatusCode::NO_CONTENT, [(header::ALLOW, allow)]).into_response();
            }
            let mut response =
                error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{} is not allowed here; use {allow}.", parts.method));
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            return response;
        }
        Resolved::NotFound => {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("No such route: {}. The routes are listed at {PREFIX}/docs.", parts.uri.path()),
            );
        }
    };
    let metadata_url = resource_metadata_url(&state.settings);
    let principal = match bearer::authenticate(&state.app, &parts.headers, &metadata_url).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    if !entry.op.permits(&principal) {
        state.app.metrics.forbidden();
        return bearer::forbidden(&metadata_url);
    }
    let response = serve(&state, entry, params, &parts, body, &principal, &metadata_url).await;
    state.app.metrics.api_call(entry.route.operation_id, response.status().as_u16());
    response
}

async fn serve(
    state: &AppState,
    entry: &'static Entry,
    params: Vec<(&'static str, String)>,
    parts: &Parts,
    body: Body,
    principal: &Principal,
    metadata_url: &str,
) -> Response {
    let (body, args) = match arguments(state, entry, params, parts, body).await {
        Ok(parsed) => parsed,
        Err(refused) => return refused,
    };
    if let Some(stream) = entry.op.stream {
        return streamed(state, stream(&state.app, principal));
    }
    let key = match parts.headers.get(&IDEMPOTENCY_KEY) {
        Some(key) if entry.route.verb == Verb::Post => match key.to_str().ok().filter(|k| idempotency::valid_key(k)) {
            Some(key) => Some(key),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_idempotency_key",
                    format!("Idempotency-Key must be 1 to {} visible ASCII characters; a UUID is a good choice.", idempotency::MAX_KEY_LEN),
                );
            }
        },
        _ => None,
    };
    let Some(key) = key else {
        let result = entry.op.call(&state.app, principal, args).await;
        return respond(state, entry, parts, result, metadata_url);
    };
    let fingerprint = idempotency::fingerprint(entry.route.operation_id, parts.uri.path(), &Value::Object(body));
    match state.app.begin_idempotent(principal, key, &fingerprint).await {
        Ok(Idempotency::Run) => {}
        Ok(Idempotency::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = success(state, entry, parts, status, body);
            response.headers_mut().insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            return response;
        }
        Ok(Idempotency::InFlight) => {
            return error(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "The first request with this Idempotency-Key has not finished (or was interrupted, so it may or may not have taken effect). Retry shortly; if this persists, check whether the change was made before sending it with a new key.",
            );
        }
        Ok(Idempotency::Mismatch) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request (another operation, path or body). Use a new key for a new request.",
            );
        }
        Err(e) => return service_error(e),
    }
    let result = entry.op.call(&state.app, principal, args).await;
    let outcome_unknown = matches!(&result, Err(OpError::Service(e)) if e.outcome_unknown());
    let kept = match &result {
        Ok(json) => state.app.finish_idempotent(principal, key, success_status(entry).as_u16(), json).await,
        // The change may have been made: keep the key reserved rather than let a retry repeat it.
        Err(_) if outcome_unknown => Ok(()),
        Err(_) => state.app.abandon_idempotent(principal, key).await,
    };
    if let Err(e) = kept {
        tracing::error!(error = %e, "cannot record the idempotency key's outcome");
    }
    respond(state, entry, parts, result, metadata_url)
}

/// The operation's arguments: path parameters, then the query string (GET, DELETE) or the JSON
/// body (POST, PATCH). Also returns the body as sent, for the idempotency fingerprint.
async fn arguments(
    state: &AppState,
    entry: &Entry,
    params: Vec<(&'static str, String)>,
    parts: &Parts,
    body: Body,
) -> Result<(JsonObject, JsonObject), Response> {
    let input = &entry.op.input;
    let properties = input.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let in_path = |name: &str| params.iter().any(|(p, _)| *p == name);
    let mut args = JsonObject::new();
    let mut sent = JsonObject::new();
    if entry.route.verb.has_body() {
        if let Some((name, _)) = parts.uri.query().and_then(|q| url::form_urlencoded::parse(q.as_bytes()).next()) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "unknown_parameter",
                format!("Unknown query parameter `{name}`: this operation takes its arguments in a JSON body."),
            ));
        }
        let limit = state.settings.max_body_bytes;
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return Err(error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("The body is larger than {limit} bytes.")));
        };
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            if !is_json(&parts.headers) {
                return Err(error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Send the body as JSON, with Content-Type: application/json.",
                ));
            }
            sent = match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(object)) => object,
                Ok(_) => return Err(error(StatusCode::BAD_REQUEST, "malformed_body", "The body must be a JSON object.")),
                Err(e) => return Err(error(StatusCode::BAD_REQUEST, "malformed_json", format!("The body is not valid JSON: {e}."))),
            };
        }
        for (name, value) in &sent {
            let Some(schema) = properties.get(name).filter(|_| !in_path(name)) else {
                return Err(invalid_field(name, format!("Unknown field `{name}`. {}", accepted(&properties, &params))));
            };
            if value.is_null() && !allows_null(schema, input) {
                return Err(invalid_field(
                    name,
                    format!("`{name}` cannot be null: leave it out to keep its value. Only nullable fields are cleared with null."),
                ));
            }
            args.insert(name.clone(), value.clone());
        }
    } else if let Some(query) = parts.uri.query() {
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let Some(schema) = properties.get(name.as_ref()).filter(|_| !in_path(&name)) else {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "unknown_parameter",
                    format!("Unknown query parameter `{name}`. {}", accepted(&properties, &params)),
                ));
            };
            if args.contains_key(name.as_ref()) {
                return Err(error(StatusCode::BAD_REQUEST, "repeated_parameter", format!("`{name}` is given more than once.")));
            }
            args.insert(name.clone().into_owned(), from_query(&value, schema, input));
        }
    }
    for (name, value) in params {
        args.insert(name.to_owned(), Value::String(value));
    }
    Ok((sent, args))
}

fn accepted(properties: &Map<String, Value>, params: &[(&str, String)]) -> String {
    let names: Vec<String> = properties.keys().filter(|k| !params.iter().any(|(p, _)| p == k)).map(|k| format!("`{k}`")).collect();
    if names.is_empty() { "This operation takes none.".into() } else { format!("This operation takes {}.", names.join(", ")) }
}

fn invalid_field(field: &str, message: String) -> Response {
    error_with(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message, Some(field.to_owned()))
}

/// `application/json`, or any `+json` type (`application/merge-patch+json` describes PATCH exactly).
fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        let media = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
    })
}

/// The schema behind a `$ref` into the input's `$defs`, or the schema itself.
fn resolved<'a>(schema: &'a Value, root: &'a JsonObject) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => root.get("$defs").and_then(|d| d.get(name)).unwrap_or(schema),
        None => schema,
    }
}

/// The JSON types a schema admits (`type`, through `anyOf`/`oneOf` and `$ref`s).
fn json_types<'a>(schema: &'a Value, root: &'a JsonObject, out: &mut Vec<&'a str>) {
    let schema = resolved(schema, root);
    match schema.get("type") {
        Some(Value::String(t)) => out.push(t),
        Some(Value::Array(types)) => out.extend(types.iter().filter_map(Value::as_str)),
        _ => {}
    }
    if schema.get("enum").and_then(Value::as_array).is_some_and(|e| e.iter().any(Value::is_null)) {
        out.push("null");
    }
    for key in ["anyOf", "oneOf"] {
        for branch in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            json_types(branch, root, out);
        }
    }
}

pub(crate) fn allows_null(schema: &Value, root: &JsonObject) -> bool {
    let mut types = Vec::new();
    json_types(schema, root, &mut types);
    types.contains(&"null")
}

/// A query-string value as the JSON its schema expects: integers, numbers and booleans are
/// converted; anything else (or a value that does not convert) stays a string, and the
/// operation's parser then names the field that is wrong.
fn from_query(value: &str, schema: &Value, root: &JsonObject) -> Value {
    let mut types = Vec::new();
    json_types(schema, root, &mut types);
    if types.contains(&"integer")
        && let Ok(n) = value.parse::<i64>()
    {
        return Value::from(n);
    }
    if types.contains(&"number")
        && let Ok(n) = value.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(n)
    {
        return Value::Number(n);
    }
    if types.contains(&"boolean") {
        match value {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(value.to_owned())
}

fn success_status(entry: &Entry) -> StatusCode {
    if entry.op.effect == Effect::Create { StatusCode::CREATED } else { StatusCode::OK }
}

fn respond(state: &AppState, entry: &Entry, parts: &Parts, result: Result<String, OpError>, metadata_url: &str) -> Response {
    match result {
        Ok(json) => success(state, entry, parts, success_status(entry), json),
        Err(OpError::Forbidden) => bearer::forbidden(metadata_url),
        Err(OpError::Arguments { field, detail }) => {
            let place = field.as_deref().map(|f| format!("`{f}`: ")).unwrap_or_default();
            let hint = if field.as_deref().is_some_and(|f| f.ends_with("date") || f.ends_with("_after") || f.ends_with("_before")) {
                " (dates are YYYY-MM-DD)"
            } else {
                ""
            };
            error_with(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", format!("{place}{detail}{hint}."), field)
        }
        Err(OpError::Service(e)) => service_error(e),
        Err(OpError::Encode(e)) => {
            tracing::error!(error = %e, operation = entry.op.name, "cannot encode a result");
            error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Navis could not encode the result.")
        }
    }
}

/// A body sent as it is produced (the export). Its status is 200 before the end is known: if
/// producing fails midway, the connection is cut before the body's end, so that no client takes
/// a truncated document for a whole one.
fn streamed(state: &AppState, chunks: tokio::sync::mpsc::Receiver<ExportChunk>) -> Response {
    let body = futures_util::stream::unfold(chunks, |mut chunks| async move {
        let chunk = chunks.recv().await?.map_err(|e| {
            tracing::warn!(error = %e, "the export stopped midway");
            std::io::Error::other(e.to_string())
        });
        Some((chunk, chunks))
    });
    let file = format!("attachment; filename=\"navis-export-{}.json\"", state.app.now().format("%Y-%m-%d"));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(&file) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    (StatusCode::OK, headers, Body::from_stream(body)).into_response()
}

fn service_error(e: ServiceError) -> Response {
    match e {
        ServiceError::NotFound(m) => error(StatusCode::NOT_FOUND, "not_found", m),
        ServiceError::InvalidField { field, message } => {
            error_with(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message, Some(field))
        }
        ServiceError::Invalid(m) => error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", m),
        ServiceError::Conflict(m) => error(StatusCode::CONFLICT, "conflict", m),
        e @ ServiceError::Busy => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "busy", e.to_string());
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        ServiceError::Store(e) => {
            tracing::error!(error = %e, "API request failed on the store");
            let message = if e.outcome_unknown() {
                "Navis lost its connection to the database while saving this change, so it may or may not have been made. Check (for example GET /api/v1/activity) before trying again."
            } else {
                "Navis could not complete this request because of a server error. Nothing was changed; try again."
            };
            error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
        }
    }
}

/// A result: its JSON as the operation serialised it, plus `Location` for a created item and a
/// `Link` to the next page of a list.
fn success(state: &AppState, entry: &Entry, parts: &Parts, status: StatusCode, json: String) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if entry.paginated || entry.created_at.is_some() {
        #[derive(serde::Deserialize)]
        struct Peek {
            id: Option<String>,
            next_cursor: Option<String>,
        }
        let peek: Option<Peek> = serde_json::from_str(&json).ok();
        if let (Some(template), Some(id)) = (entry.created_at, peek.as_ref().and_then(|p| p.id.as_deref()))
            && let Ok(value) = HeaderValue::from_str(&state.settings.url(&format!("{PREFIX}{}", template.replace("{id}", id))))
        {
            headers.insert(header::LOCATION, value);
        }
        if let Some(cursor) = peek.as_ref().and_then(|p| p.next_cursor.as_deref()) {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
                if name != "cursor" {
                    query.append_pair(&name, &value);
                }
            }
            query.append_pair("cursor", cursor);
            let next = state.settings.url(&format!("{}?{}", parts.uri.path(), query.finish()));
            if let Ok(value) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
                headers.insert(header::LINK, value);
            }
        }
    }
    (status, headers, json).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: Method, path: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
        match resolve(&method, path) {
            Resolved::Found(entry, params) => Some((entry.route.operation_id, params)),
            _ => None,
        }
    }

    #[test]
    fn routes_resolve_to_their_operation_and_literals_win() {
        assert_eq!(found(Method::GET, "/projects"), Some(("list_projects", vec![])));
        assert_eq!(found(Method::GET, "/projects/abc"), Some(("get_project", vec![("id", "abc".into())])));
        assert_eq!(found(Method::GET, "/projects/p1/tasks"), Some(("list_project_tasks", vec![("project_id", "p1".into())])));
        assert_eq!(found(Method::POST, "/tasks/batch"), Some(("create_tasks", vec![])));
        assert_eq!(found(Method::GET, "/tasks/batch"), Some(("get_task", vec![("id", "batch".into())])));
        assert_eq!(found(Method::POST, "/tasks/t%201/comments"), Some(("add_comment", vec![("task_id", "t 1".into())])));
        assert_eq!(found(Method::GET, "/me"), Some(("get_current_user", vec![])));
        assert_eq!(
            found(Method::DELETE, "/notes/n1/tags/to%2Fdo"),
            Some(("untag_note", vec![("item_id", "n1".into()), ("name", "to/do".into()), ("item_type", "note".into())]))
        );
        assert_eq!(
            found(Method::POST, "/projects/p1/tags"),
            Some(("tag_project", vec![("item_id", "p1".into()), ("item_type", "project".into())]))
        );
        assert!(matches!(resolve(&Method::PUT, "/projects"), Resolved::WrongMethod(m) if m == ["GET", "POST"]));
        assert!(matches!(resolve(&Method::POST, "/projects/x"), Resolved::WrongMethod(m) if m == ["GET", "PATCH", "DELETE"]));
        assert!(matches!(resolve(&Method::GET, "/nothing"), Resolved::NotFound));
        assert!(matches!(resolve(&Method::GET, "/projects/"), Resolved::NotFound));
        assert!(matches!(resolve(&Method::GET, "/projects//tasks"), Resolved::NotFound));
    }

    #[test]
    fn query_values_become_the_json_their_schema_expects() {
        let root = JsonObject::new();
        assert_eq!(from_query("5", &json!({"type": ["integer", "null"]}), &root), json!(5));
        assert_eq!(from_query("five", &json!({"type": ["integer", "null"]}), &root), json!("five"));
        assert_eq!(from_query("true", &json!({"type": "boolean"}), &root), json!(true));
        assert_eq!(from_query("5", &json!({"type": "string"}), &root), json!("5"));
        assert!(allows_null(&json!({"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]}), &root));
        assert!(!allows_null(&json!({"$ref": "#/$defs/X"}), &root));
    }

    #[test]
    fn creates_point_at_their_item_and_lists_are_paginated() {
        let entry = |id: &str| TABLE.iter().find(|e| e.route.operation_id == id).map(|e| (e.created_at, e.paginated));
        assert_eq!(entry("create_project"), Some((Some("/projects/{id}"), false)));
        assert_eq!(entry("create_task"), Some((Some("/tasks/{id}"), false)));
        assert_eq!(entry("add_comment"), Some((None, false)));
        assert_eq!(entry("list_tasks"), Some((None, true)));
        assert_eq!(entry("list_project_tasks"), Some((None, true)));
        assert_eq!(entry("get_current_user"), Some((None, false)));
    }
}
