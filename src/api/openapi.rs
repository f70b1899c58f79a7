//! The OpenAPI 3.1 document of the HTTP API, generated from the operation catalogue: one
//! operation per route, its parameters and body split out of the operation's input schema (the
//! same JSON Schema the MCP tool publishes), its result the output schema, every `$defs` entry
//! hoisted into `components/schemas`.
use std::{collections::BTreeMap, sync::LazyLock};

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::{PREFIX, TABLE, allows_null};
use crate::config::Settings;
use crate::core::scope;
use crate::edge::AppState;
use crate::ops::{Effect, JsonObject, Verb};

/// Serves the document, with this server's absolute URLs.
pub async fn serve(State(state): State<AppState>) -> Response {
    let mut response = document(&state.settings).to_string().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// The document for a server at `settings.public_url`.
pub fn document(settings: &Settings) -> Value {
    let mut doc = BASE.clone();
    doc["servers"] = json!([{ "url": settings.url(PREFIX), "description": "This Navis server" }]);
    doc["components"]["securitySchemes"]["oauth"]["flows"]["authorizationCode"] = json!({
        "authorizationUrl": settings.url(crate::web::oauth::AUTHORIZE),
        "tokenUrl": settings.url(crate::web::oauth::TOKEN),
        "refreshUrl": settings.url(crate::web::oauth::TOKEN),
        "scopes": {
            scope::READ: "Read all workspace data.",
            scope::WRITE: "Read, create, change and delete workspace data (includes mcp:read).",
        },
    });
    doc
}

const INTRO: &str = "The Navis workspace (projects, tasks, comments, notes, tags, events and meetings, goals, the inbox, activity, search, the summary and the export) over HTTP: the same operations as the MCP server's tools, from the same definitions.\n\n\
**Authentication**: every request carries `Authorization: Bearer <token>`, an API key (`nops_…`) or an OAuth access token. \
The API is the same protected resource as the MCP server, so one token works at both. Reads need `mcp:read`; changes need `mcp:write`. \
A missing or invalid token gets 401, a read-only token on a change gets 403, with the exact bodies of the Navis contract.\n\n\
**Errors** are JSON: a stable `error` code and a `message` that says what to fix (`field` names the argument at fault). \
An id that does not exist and an id that belongs to someone else are both 404.\n\n\
**Lists** take `limit` (1–100, default 20) and `cursor`; a page that is not the last carries `next_cursor` and a `Link: <…>; rel=\"next\"` header.\n\n\
**Retries**: send `Idempotency-Key` on a POST; a retry with the same key (within 24 hours) returns the first response, with `Idempotent-Replayed: true`, instead of creating twice.\n\n\
**PATCH** takes a partial object: fields left out keep their value; `null` clears a nullable field.";

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": { "type": "string", "description": "A stable, machine-readable code: unauthorized, forbidden, not_found, invalid_field, …" },
            "message": { "type": "string", "description": "What went wrong and what to do about it." },
            "field": { "type": "string", "description": "The argument at fault (`tasks[2].due_date`), when there is one." },
        },
    })
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn challenge(description: &str) -> Value {
    let mut response = error_response(description);
    response["headers"] = json!({ "WWW-Authenticate": { "$ref": "#/components/headers/WWW-Authenticate" } });
    response
}

/// Everything but the server's own URLs.
static BASE: LazyLock<Value> = LazyLock::new(|| {
    let mut schemas = Map::new();
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for entry in TABLE.iter() {
        let operation = operation(entry, &mut schemas);
        paths.entry(entry.route.path).or_default().insert(entry.route.verb.as_str().to_ascii_lowercase(), operation);
    }
    schemas.insert("Error".into(), error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Navis HTTP API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": INTRO,
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [],
        "tags": [
            { "name": "projects", "description": "Projects, with task counts; archiving is a status." },
            { "name": "tasks", "description": "Tasks, their completion and their comments." },
            { "name": "goals", "description": "Goals, their progress, and the projects and tasks linked to them." },
            { "name": "search", "description": "Full-text search over the whole workspace, ranked, with snippets." },
            { "name": "notes", "description": "Notes: markdown, in a project or about an event, appended to." },
            { "name": "tags", "description": "Tags, with how many items carry each; tasks, notes and projects are tagged at their own `…/{item_id}/tags`." },
            { "name": "activity", "description": "Every change to the workspace, newest first." },
            { "name": "me", "description": "Who the token belongs to, and the user's time zone (`PATCH /me` changes it)." },
            { "name": "events", "description": "Calendar events: timed (RFC 3339 with offset) or all-day (dates, the end inclusive); an event seen as a meeting, with its notes and follow-up tasks, at `…/{event_id}/meeting`." },
            { "name": "free-time", "description": "Free slots within working hours, in a time zone." },
            { "name": "summary", "description": "The workspace at a glance: counts, what is due, the coming week's events, active goals, the latest changes." },
            { "name": "inbox", "description": "Things captured to sort out later, each converted into a task, a note or an event, or dismissed." },
            { "name": "export", "description": "Everything of the user as one JSON document, streamed as it is read." },
            { "name": "workflows", "description": "Named lists of steps (create a task, update a task, create a note) run by hand with input values; each run recorded, step by step." },
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (`nops_…`, from Settings → Connected Apps or `navis key create`) or an OAuth 2.1 access token. Scopes: `mcp:read` for reads, `mcp:write` for changes.",
                },
                "oauth": { "type": "oauth2", "description": "OAuth 2.1 with PKCE (S256); register with dynamic client registration.", "flows": {} },
            },
            "responses": {
                "BadRequest": error_response("Malformed request: the body is not a JSON object, or a query parameter is unknown or repeated."),
                "Unauthorized": challenge("Missing, malformed, unknown, revoked or expired token."),
                "Forbidden": challenge("The token lacks the mcp:write scope."),
                "NotFound": error_response("No such item in this workspace (also for another user's ids)."),
                "Conflict": error_response("The change conflicts with the current state, or the Idempotency-Key's first request has not finished."),
                "PayloadTooLarge": error_response("The body is larger than the server accepts."),
                "UnsupportedMediaType": error_response("The body is not sent as application/json."),
                "Unprocessable": error_response("An argument is invalid: `field` names it, `message` says why."),
            },
            "headers": {
                "WWW-Authenticate": { "description": "The Bearer challenge, with resource_metadata and scope.", "schema": { "type": "string" } },
                "Link": { "description": "`<url of the next page>; rel=\"next\"`, when there is a next page.", "schema": { "type": "string" } },
                "Location": { "description": "The URL of the created item.", "schema": { "type": "string" } },
                "Idempotent-Replayed": { "description": "`true` when this is the stored response to an earlier request with the same Idempotency-Key.", "schema": { "type": "string" } },
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": false,
                    "description": "Makes the POST safe to retry: a request with a key already used (by this user, within 24 hours) gets the first response back instead of running again. 1–255 visible ASCII characters; a UUID is a good choice.",
                    "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$" },
                },
            },
        },
    })
});

fn operation(entry: &super::Entry, schemas: &mut Map<String, Value>) -> Value {
    let op = entry.op;
    let route = entry.route;
    let input = hoist(&op.input, schemas);
    let output = hoist(&op.output, schemas);
    let properties = input.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let required: Vec<&str> = input.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let path_params: Vec<&str> = route.params().collect();
    let fixed = |name: &str| route.fixed.iter().any(|(f, _)| *f == name);

    let mut parameters: Vec<Value> = path_params
        .iter()
        .map(|name| {
            let schema = properties.get(*name).cloned().unwrap_or_else(|| json!({ "type": "string" }));
            parameter(name, "path", true, &schema, &input)
        })
        .collect();
    let rest = properties.iter().filter(|(name, _)| !path_params.contains(&name.as_str()) && !fixed(name));
    let mut body: Option<Value> = None;
    if route.verb.has_body() {
        let fields: Map<String, Value> = rest.map(|(k, v)| (k.clone(), v.clone())).collect();
        if !fields.is_empty() {
            let needed: Vec<&str> = required.iter().copied().filter(|r| fields.contains_key(*r)).collect();
            let mut schema = json!({ "type": "object", "properties": fields, "additionalProperties": false });
            if !needed.is_empty() {
                schema["required"] = json!(needed);
            }
            body = Some(json!({ "required": !needed.is_empty(), "content": { "application/json": { "schema": schema } } }));
        }
    } else {
        parameters.extend(rest.map(|(name, schema)| parameter(name, "query", required.contains(&name.as_str()), schema, &input)));
    }
    if route.verb == Verb::Post {
        parameters.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" }));
    }

    let scope = if op.effect.needs_write() { scope::WRITE } else { scope::READ };
    let mut description = format!("{}\n\nRequires `{scope}`. The MCP tool `{}` does the same.", op.description, op.name);
    if route.operation_id != op.name {
        description = format!("{} Here the `{}` comes from the path.", description, path_params.join("`, `"));
    }
    for (name, value) in route.fixed {
        description = format!("{description} On this route `{name}` is `{value}`.");
    }
    let status = if op.effect == Effect::Create { "201" } else { "200" };
    let mut ok = json!({
        "description": op.title,
        "content": { "application/json": { "schema": output } },
    });
    let mut headers = Map::new();
    if entry.created_at.is_some() {
        headers.insert("Location".into(), json!({ "$ref": "#/components/headers/Location" }));
    }
    if entry.paginated {
        headers.insert("Link".into(), json!({ "$ref": "#/components/headers/Link" }));
    }
    if route.verb == Verb::Post {
        headers.insert("Idempotent-Replayed".into(), json!({ "$ref": "#/components/headers/Idempotent-Replayed" }));
    }
    if !headers.is_empty() {
        ok["headers"] = Value::Object(headers);
    }
    let mut responses = Map::new();
    responses.insert(status.into(), ok);
    let refs = [
        ("400", "BadRequest", true),
        ("401", "Unauthorized", true),
        ("403", "Forbidden", op.effect.needs_write()),
        ("404", "NotFound", true),
        ("409", "Conflict", op.effect.needs_write()),
        ("413", "PayloadTooLarge", route.verb.has_body()),
        ("415", "UnsupportedMediaType", route.verb.has_body()),
        ("422", "Unprocessable", true),
    ];
    for (code, name, applies) in refs {
        if applies {
            responses.insert(code.into(), json!({ "$ref": format!("#/components/responses/{name}") }));
        }
    }
    let tag = route.path.split('/').nth(1).unwrap_or("");
    // A second route of an operation says what its path narrows ("List tasks, by project_id"),
    // or what it fixes ("Tag an item: note").
    let values: Vec<&str> = route.fixed.iter().map(|(_, v)| *v).collect();
    let summary = if !values.is_empty() {
        format!("{}: {}", op.title, values.join(", "))
    } else if route.operation_id == op.name {
        op.title.to_owned()
    } else {
        format!("{}, by {}", op.title, path_params.join(", "))
    };
    let mut operation = json!({
        "operationId": route.operation_id,
        "summary": summary,
        "description": description,
        "tags": [tag],
        "security": [{ "bearer": [scope] }, { "oauth": [scope] }],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = body {
        operation["requestBody"] = body;
    }
    operation
}

fn parameter(name: &str, location: &str, required: bool, schema: &Value, root: &Value) -> Value {
    let mut schema = schema.clone();
    let description = schema.as_object_mut().and_then(|s| s.remove("description"));
    // A query string has no null: an absent parameter is the null.
    if let Some(root) = root.as_object()
        && allows_null(&schema, root)
    {
        schema = without_null(schema);
    }
    let mut parameter = json!({ "name": name, "in": location, "required": required, "schema": schema });
    if let Some(description) = description {
        parameter["description"] = description;
    }
    parameter
}

/// The schema minus its `null`: `["integer", "null"]` → `integer`, `anyOf: [X, null]` → X.
fn without_null(mut schema: Value) -> Value {
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let left: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
        schema["type"] = if left.len() == 1 { left[0].clone() } else { Value::Array(left) };
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let left: Vec<Value> = branches.iter().filter(|b| b.get("type").and_then(Value::as_str) != Some("null")).cloned().collect();
        if let (1, Some(object)) = (left.len(), schema.as_object_mut()) {
            object.remove("anyOf");
            if let Value::Object(only) = &left[0] {
                for (k, v) in only {
                    object.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        } else {
            schema["anyOf"] = Value::Array(left);
        }
    }
    schema
}

/// Moves a schema's `$defs` into `components/schemas` (renaming one whose name is taken by a
/// different schema) and points its `$ref`s there. Returns the schema without its `$defs`.
fn hoist(schema: &JsonObject, schemas: &mut Map<String, Value>) -> Value {
    let mut schema = schema.clone();
    let defs = match schema.remove("$defs") {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    schema.remove("$schema");
    let mut names = BTreeMap::new();
    for (name, def) in &defs {
        let mut chosen = name.clone();
        let mut n = 2;
        while schemas.get(&chosen).is_some_and(|existing| !same_modulo_refs(existing, def)) {
            chosen = format!("{name}{n}");
            n += 1;
        }
        names.insert(name.clone(), chosen);
    }
    for (name, def) in defs {
        let mut def = def;
        rewrite_refs(&mut def, &names);
        schemas.insert(names.get(&name).cloned().unwrap_or(name), def);
    }
    let mut schema = Value::Object(schema);
    rewrite_refs(&mut schema, &names);
    schema
}

/// Whether two definitions are the same once refs are pointed at components (both sides' refs
/// name the same types, as the catalogue's types have one name each).
fn same_modulo_refs(hoisted: &Value, fresh: &Value) -> bool {
    let mut fresh = fresh.clone();
    let identity: BTreeMap<String, String> = BTreeMap::new();
    rewrite_refs(&mut fresh, &identity);
    hoisted == &fresh
}

fn rewrite_refs(value: &mut Value, names: &BTreeMap<String, String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(target)) = object.get_mut("$ref")
                && let Some(name) = target.strip_prefix("#/$defs/")
            {
                let name = names.get(name).map(String::as_str).unwrap_or(name);
                *target = format!("#/components/schemas/{name}");
            }
            for v in object.values_mut() {
                rewrite_refs(v, names);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_leaves_query_schemas() {
        assert_eq!(without_null(json!({"type": ["integer", "null"], "minimum": 1})), json!({"type": "integer", "minimum": 1}));
        assert_eq!(
            without_null(json!({"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}], "description": "d"})),
            json!({"$ref": "#/components/schemas/X", "description": "d"})
        );
    }

    #[test]
    fn every_route_is_documented_with_resolvable_refs() {
        let doc = BASE.clone();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().cloned().unwrap_or_default();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap_or("");
            assert!(schemas.contains_key(name), "dangling $ref to {name}");
        }
        assert!(!text.contains("#/$defs/"), "a $ref still points at $defs");
        for entry in TABLE.iter() {
            let op = &doc["paths"][entry.route.path][entry.route.verb.as_str().to_ascii_lowercase()];
            assert_eq!(op["operationId"], entry.route.operation_id);
        }
        // PATCH bodies: nullable fields accept null, the others do not.
        let body = &doc["paths"]["/tasks/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["additionalProperties"], false);
        assert!(body["properties"].get("id").is_none(), "the path's id is not in the body");
        assert!(body["properties"]["due_date"]["type"].as_array().is_some_and(|t| t.contains(&json!("null"))));
        assert_eq!(body["properties"]["title"]["type"], "string");
    }
}

#[cfg(test)]
mod dump {
    /// `NAVIS_DUMP_OPENAPI=path cargo test dump_document`: writes the document, for a look.
    #[test]
    fn dump_document() {
        if let Ok(path) = std::env::var("NAVIS_DUMP_OPENAPI") {
            let doc = serde_json::to_string_pretty(&*super::BASE).unwrap_or_default();
            std::fs::write(path, doc).ok();
        }
    }
}
