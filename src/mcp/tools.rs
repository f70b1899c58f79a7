//! The MCP face of the operation catalogue (`crate::ops`): each operation becomes a tool with
//! its schemas and annotations, and `tools/call` runs it through the operation's one dispatch.
use std::sync::LazyLock;

use rmcp::{
    ErrorData as McpError,
    model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations},
};

use crate::ops::{self, Effect, Encoded, Encoding, OpError, Operation};
use crate::service::{App, Principal, ServiceError};

fn annotations(effect: Effect, title: &str) -> ToolAnnotations {
    let (read_only, destructive, idempotent) = match effect {
        Effect::Read => (true, false, true),
        Effect::Create => (false, false, false),
        Effect::Update => (false, false, true),
        Effect::Append => (false, false, false),
        Effect::Delete => (false, true, true),
    };
    ToolAnnotations::with_title(title).read_only(read_only).destructive(destructive).idempotent(idempotent).open_world(false)
}

pub struct ToolSpec {
    pub op: &'static Operation,
    pub tool: Tool,
}

pub static CATALOG: LazyLock<Vec<ToolSpec>> = LazyLock::new(|| {
    ops::OPERATIONS
        .iter()
        .filter(|op| op.tool)
        .map(|op| ToolSpec {
            op,
            tool: Tool::new(op.name, op.description, std::sync::Arc::new(op.input.clone()))
                .with_title(op.title)
                .with_raw_output_schema(std::sync::Arc::new(op.output.clone()))
                .with_annotations(annotations(op.effect, op.title)),
        })
        .collect()
});

pub static TOOLS: LazyLock<Vec<Tool>> = LazyLock::new(|| CATALOG.iter().map(|s| s.tool.clone()).collect());

pub fn find(name: &str) -> Option<&'static ToolSpec> {
    CATALOG.iter().find(|s| s.tool.name == name)
}

/// Whether calling `name` needs `mcp:write`. Unknown tools need only read: they fail anyway.
pub fn needs_write(name: &str) -> bool {
    find(name).is_some_and(|s| s.op.effect.needs_write())
}

fn error_result(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// What a tool call produced. A success is its result serialised once, straight from the
/// service's struct: the same JSON is the text content and the structured content.
pub enum Outcome {
    Json(Encoded),
    Failed(CallToolResult),
}

impl Outcome {
    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Failed(r) if r.is_error == Some(true))
    }

    pub fn into_result(self) -> CallToolResult {
        match self {
            Outcome::Json(Encoded { json, .. }) => {
                let structured = serde_json::from_str(&json).ok();
                let mut result = CallToolResult::success(vec![ContentBlock::text(json)]);
                result.structured_content = structured;
                result
            }
            Outcome::Failed(result) => result,
        }
    }
}

/// An operation's failure as a tool error: a message that says what to do next.
fn failed(tool: &str, error: OpError) -> CallToolResult {
    error_result(match error {
        OpError::Forbidden => "This operation requires the mcp:write scope.".into(),
        OpError::Arguments { field, detail } => {
            let field = field.unwrap_or_default();
            let hint = if field.ends_with("date") || field.ends_with("_after") || field.ends_with("_before") {
                " (dates are YYYY-MM-DD)"
            } else {
                ""
            };
            let place = if field.is_empty() { String::new() } else { format!(" in `{field}`") };
            format!("Invalid arguments for {tool}{place}: {detail}{hint}. Check the tool's input schema and try again.")
        }
        OpError::Encode(e) => format!("Navis could not encode the result: {e}"),
        OpError::Service(
            e @ (ServiceError::NotFound(_)
            | ServiceError::Invalid(_)
            | ServiceError::InvalidField { .. }
            | ServiceError::Conflict(_)
            | ServiceError::Busy),
        ) => e.to_string(),
        OpError::Service(ServiceError::Store(e)) => {
            tracing::error!(error = %e, "tool failed on the store");
            // Every change commits with its activity in one transaction, so a failure changed
            // nothing, unless the database's answer to the commit itself was lost.
            if e.outcome_unknown() {
                "Navis lost its connection to the database while saving this change, so it may or may not have been made. Check (for example with list_recent_activity) before trying again.".into()
            } else {
                "Navis could not complete this request because of a server error. Nothing was changed; try again.".into()
            }
        }
    })
}

pub async fn call(app: &App, p: &Principal, name: &str, args: Option<JsonObject>) -> Result<CallToolResult, McpError> {
    run(app, p, name, args, Encoding::Json).await.map(Outcome::into_result)
}

/// Calls a tool, its result written as `encoding` asks; an unknown tool is a protocol error (-32602).
pub async fn run(app: &App, p: &Principal, name: &str, args: Option<JsonObject>, encoding: Encoding) -> Result<Outcome, McpError> {
    let Some(spec) = find(name) else {
        return Err(McpError::invalid_params(format!("Unknown tool: {name}. Call tools/list for the tools this server offers."), None));
    };
    // The edge already answered 403 for a read-only token; the operation checks again for any other caller.
    Ok(match spec.op.call_encoded(app, p, args.unwrap_or_default(), encoding).await {
        Ok(json) => Outcome::Json(json),
        Err(error) => Outcome::Failed(failed(name, error)),
    })
}
