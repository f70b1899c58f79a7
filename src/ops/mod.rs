//! The operation catalogue: every workspace operation declared once — name, title, description,
//! effect, input and output types, the service method that runs it, and its HTTP routes.
//!
//! Both faces are built from it and nothing else: the MCP tools (schemas, annotations, the scope
//! check, dispatch — `mcp::tools`, also used by the fast path) and the HTTP API (routes, the
//! OpenAPI document, the reference page — `api`). The schema-driven tests walk the same list.
//! Adding an operation = its migration, its store query, its service method and one `op!` entry
//! in `catalog.rs`.
use std::{future::Future, pin::Pin, sync::LazyLock};

use schemars::{JsonSchema, generate::SchemaSettings};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::service::{App, Principal, ServiceError, ServiceResult};

mod catalog;
mod encode;

pub use encode::{Encoded, Encoding};

pub type JsonObject = Map<String, Value>;

/// What an operation does to the workspace: decides the scope it needs, its MCP annotations and
/// its HTTP status.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Effect {
    Read,
    /// Creates something new each call.
    Create,
    /// Changes something in place; calling twice has the effect of calling once.
    Update,
    /// Adds to something in place (appending to a note): each call adds again, nothing new is made.
    Append,
    Delete,
}

impl Effect {
    /// Reads need `mcp:read`; everything else needs `mcp:write`.
    pub fn needs_write(self) -> bool {
        self != Effect::Read
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    /// Whether the arguments come in a JSON body (POST, PATCH) rather than the query string.
    pub fn has_body(self) -> bool {
        matches!(self, Verb::Post | Verb::Patch)
    }
}

/// One HTTP route of an operation, relative to `/api/v1`. `{name}` segments fill the argument of
/// that name, and `fixed` arguments are set by the route itself (`item_type` is `note` on
/// `/notes/{item_id}/tags`); the other arguments come from the query string (GET, DELETE) or the
/// JSON body.
#[derive(Debug)]
pub struct Route {
    pub verb: Verb,
    pub path: &'static str,
    pub fixed: &'static [(&'static str, &'static str)],
    /// The OpenAPI `operationId`: the operation's name for its first route; a second route (the
    /// same operation reached another way, e.g. a project's tasks) names its own.
    pub operation_id: &'static str,
}

impl Route {
    /// The path's `{name}` parameters, in order.
    pub fn params(&self) -> impl Iterator<Item = &'static str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }
}

type Runner =
    for<'a> fn(&'a App, &'a Principal, JsonObject, Encoding) -> Pin<Box<dyn Future<Output = Result<Encoded, OpError>> + Send + 'a>>;

pub struct Operation {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub effect: Effect,
    pub routes: Vec<Route>,
    /// JSON Schema (2020-12) of the arguments, as they are deserialised.
    pub input: JsonObject,
    /// JSON Schema (2020-12) of the result, as it is serialised.
    pub output: JsonObject,
    /// Whether it is also an MCP tool. An account setting (`PATCH /me`) is HTTP only: the tool
    /// catalogue is the product's, and changing a setting is not an assistant's work.
    pub tool: bool,
    /// Served over HTTP as a stream of chunks rather than one buffered body (the export).
    pub stream: Option<Streamer>,
    run: Runner,
    check: fn(JsonObject) -> Result<(), OpError>,
}

/// An operation whose HTTP body is written as it is produced: chunks of its JSON result, the
/// last an error if it could not be finished.
pub type Streamer = fn(&App, &Principal) -> tokio::sync::mpsc::Receiver<crate::service::workspace::export::ExportChunk>;

/// Why an operation did not produce its result.
#[derive(Debug)]
pub enum OpError {
    /// The token may only read, and the operation writes.
    Forbidden,
    /// The arguments do not fit the input type: `field` is where (`tasks[2].due_date`), if known.
    Arguments {
        field: Option<String>,
        detail: String,
    },
    Service(ServiceError),
    /// The result could not be encoded (a bug).
    Encode(String),
}

impl From<ServiceError> for OpError {
    fn from(e: ServiceError) -> Self {
        OpError::Service(e)
    }
}

impl Operation {
    fn new<In: JsonSchema + DeserializeOwned, Out: JsonSchema>(
        name: &'static str,
        title: &'static str,
        effect: Effect,
        routes: Vec<Route>,
        description: &'static str,
        run: Runner,
    ) -> Self {
        Self {
            name,
            title,
            description,
            effect,
            routes,
            input: input_schema::<In>(),
            output: output_schema::<Out>(),
            tool: true,
            stream: None,
            run,
            check: check_args::<In>,
        }
    }

    /// Streamed over HTTP (the MCP tool still answers in one result).
    fn streamed(self, stream: Streamer) -> Self {
        Self { stream: Some(stream), ..self }
    }

    /// Served over HTTP only, not as an MCP tool.
    fn http_only(self) -> Self {
        Self { tool: false, ..self }
    }

    /// Whether the principal's scopes allow this operation.
    pub fn permits(&self, p: &Principal) -> bool {
        !self.effect.needs_write() || p.access.can_write()
    }

    /// Checks the scope, parses the arguments, runs the service, and returns the result's JSON,
    /// serialised once. The one dispatch of every face: MCP, its fast path and the HTTP API.
    pub async fn call(&self, app: &App, p: &Principal, args: JsonObject) -> Result<String, OpError> {
        Ok(self.call_encoded(app, p, args, Encoding::Json).await?.json)
    }

    /// `call`, with the result written as `encoding` asks (an MCP tool result wants its text too).
    pub async fn call_encoded(&self, app: &App, p: &Principal, args: JsonObject, encoding: Encoding) -> Result<Encoded, OpError> {
        if !self.permits(p) {
            return Err(OpError::Forbidden);
        }
        p.acting((self.run)(app, p, args, encoding)).await
    }

    /// Parses the arguments as `call` does, without running anything: the fuzz target
    /// `tool_args` reaches every operation's input type through this, by name.
    pub fn check_args(&self, args: JsonObject) -> Result<(), OpError> {
        (self.check)(args)
    }
}

pub static OPERATIONS: LazyLock<Vec<Operation>> = LazyLock::new(catalog::operations);

pub fn find(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|op| op.name == name)
}

/// The schema of what `T` accepts (the deserialisation contract), root title kept. A field
/// that may be left out but not set to null (`title` in an update) has no `default: null`.
fn input_schema<T: JsonSchema>() -> JsonObject {
    let mut schema = schema_object(SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>());
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            let nullable = match property.get("type") {
                Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
                Some(t) => t == "null",
                None => property
                    .get("anyOf")
                    .and_then(Value::as_array)
                    .is_some_and(|b| b.iter().any(|b| b.get("type") == Some(&Value::from("null")))),
            };
            if !nullable
                && property.get("default") == Some(&Value::Null)
                && let Some(p) = property.as_object_mut()
            {
                p.remove("default");
            }
        }
    }
    schema
}

/// The schema of what `T` writes (the serialisation contract: `Option` fields without
/// `skip_serializing_if` are always present), without the root title and description.
fn output_schema<T: JsonSchema>() -> JsonObject {
    let mut schema = schema_object(SchemaSettings::draft2020_12().for_serialize().into_generator().into_root_schema_for::<T>());
    schema.remove("title");
    schema.remove("description");
    schema
}

fn schema_object(schema: schemars::Schema) -> JsonObject {
    match schema.to_value() {
        Value::Object(object) => object,
        other => {
            let mut object = JsonObject::new();
            object.insert("allOf".into(), Value::Array(vec![other]));
            object
        }
    }
}

/// Deserialises arguments, saying where they went wrong.
pub(crate) fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, OpError> {
    serde_path_to_error::deserialize(Value::Object(args)).map_err(|e| {
        let path = e.path().to_string();
        let detail = e.inner().to_string();
        // A missing field is reported at its parent; name the field itself.
        let field = match (path.as_str(), missing_field(&detail)) {
            (".", Some(missing)) => Some(missing.to_owned()),
            (".", None) => None,
            (parent, Some(missing)) => Some(format!("{parent}.{missing}")),
            (field, None) => Some(field.to_owned()),
        };
        OpError::Arguments { field, detail }
    })
}

fn check_args<T: DeserializeOwned>(args: JsonObject) -> Result<(), OpError> {
    parse::<T>(args).map(drop)
}

fn missing_field(detail: &str) -> Option<&str> {
    detail.strip_prefix("missing field `")?.split('`').next()
}

pub(crate) fn encode<T: Serialize>(result: ServiceResult<T>, encoding: Encoding) -> Result<Encoded, OpError> {
    encode::encode(&result?, encoding).map_err(|e| OpError::Encode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_routes_are_unique_and_every_path_parameter_is_an_argument() {
        let mut names = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        let mut routes = std::collections::HashSet::new();
        for op in OPERATIONS.iter() {
            assert!(names.insert(op.name), "{} declared twice", op.name);
            assert_eq!(op.routes.first().map(|r| r.operation_id), Some(op.name), "{}: its first route carries its name", op.name);
            let properties = op.input.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
            for route in &op.routes {
                assert!(ids.insert(route.operation_id), "operationId {} twice", route.operation_id);
                assert!(routes.insert((route.verb, route.path)), "{} {} twice", route.verb.as_str(), route.path);
                for param in route.params() {
                    assert!(properties.contains_key(param), "{}: {{{param}}} is not an argument", op.name);
                }
                for (name, _) in route.fixed {
                    assert!(properties.contains_key(*name), "{}: the fixed {name} is not an argument", op.name);
                    assert!(route.params().all(|p| p != *name), "{}: {name} is fixed and in the path", op.name);
                }
                assert_eq!(route.verb == Verb::Get, op.effect == Effect::Read, "{}: reads are GET, changes are not", op.name);
            }
        }
    }

    #[test]
    fn argument_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Args {
            title: String,
            tasks: Vec<Inner>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            due_date: chrono::NaiveDate,
        }
        let field = |v: Value| match parse::<Args>(v.as_object().cloned().unwrap_or_default()) {
            Err(OpError::Arguments { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(serde_json::json!({"tasks": []})), Some("title".into()));
        assert_eq!(field(serde_json::json!({"title": 1, "tasks": []})), Some("title".into()));
        assert_eq!(field(serde_json::json!({"title": "t", "tasks": [{"due_date": "x"}]})), Some("tasks[0].due_date".into()));
        assert_eq!(field(serde_json::json!({"title": "t", "tasks": [{}]})), Some("tasks[0].due_date".into()));
    }
}
