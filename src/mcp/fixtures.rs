#![allow(deprecated)] // logging, sampling: deprecated by the 2026 revision, still what 2025 clients use
//! The official MCP conformance suite's fixtures (the tools, resources and prompts its server
//! scenarios call), served only with `--conformance-fixtures`. They sit behind the same
//! authentication as everything else: the suite reaches Navis through a proxy that adds a key.
use rmcp::{
    ErrorData as McpError, RoleServer,
    model::{
        CallToolResult, ClientResult, ContentBlock, CreateMessageRequestParams, ElicitRequestParams, GetPromptResult, JsonObject,
        LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, Prompt, PromptArgument, PromptMessage, Request, Resource,
        ResourceContents, ResourceTemplate, Role, SamplingMessage, ServerRequest, Tool,
    },
    service::RequestContext,
};
use serde_json::{Value, json};

/// A 1×1 PNG and a silent WAV, as the suite's reference server uses.
const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const WAV_SILENT: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=";

fn object(v: Value) -> std::sync::Arc<JsonObject> {
    std::sync::Arc::new(v.as_object().cloned().unwrap_or_default())
}

fn tool(name: &'static str, description: &'static str, schema: Value) -> Tool {
    Tool::new(name, description, object(schema))
}

fn no_args() -> Value {
    json!({"type": "object", "properties": {}})
}

fn string_arg(name: &str) -> Value {
    json!({"type": "object", "properties": {name: {"type": "string"}}, "required": [name]})
}

/// Built once: rmcp asks for a tool's schema on every call.
pub static TOOLS: std::sync::LazyLock<Vec<Tool>> = std::sync::LazyLock::new(tools);

fn tools() -> Vec<Tool> {
    vec![
        tool("test_simple_text", "Returns a simple text result", no_args()),
        tool("test_image_content", "Returns an image", no_args()),
        tool("test_audio_content", "Returns audio", no_args()),
        tool("test_embedded_resource", "Returns an embedded resource", no_args()),
        tool("test_multiple_content_types", "Returns text, an image and a resource", no_args()),
        tool("test_tool_with_logging", "Sends log messages while it runs", no_args()),
        tool("test_error_handling", "Always fails as a tool error", no_args()),
        tool("test_tool_with_progress", "Reports progress while it runs", no_args()),
        tool("test_sampling", "Asks the client's model to complete a prompt", string_arg("prompt")),
        tool("test_elicitation", "Asks the user for input", string_arg("message")),
        tool("test_elicitation_sep1034_defaults", "Asks the user for input with default values", no_args()),
        tool("test_elicitation_sep1330_enums", "Asks the user to choose among enums", no_args()),
        tool(
            "json_schema_2020_12_tool",
            "A tool whose input schema uses JSON Schema 2020-12 features",
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
                "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                "additionalProperties": false
            }),
        ),
    ]
}

pub fn is_fixture_tool(name: &str) -> bool {
    name.starts_with("test_") || name == "json_schema_2020_12_tool"
}

fn text(s: impl Into<String>) -> ContentBlock {
    ContentBlock::text(s)
}

/// Severity order of RFC 5424 levels, for `logging/setLevel` filtering.
pub fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

async fn log(context: &RequestContext<RoleServer>, min_level: LoggingLevel, message: &str) {
    if severity(LoggingLevel::Info) < severity(min_level) {
        return;
    }
    let _ = context
        .peer
        .notify_logging_message(LoggingMessageNotificationParam::new(LoggingLevel::Info, json!(message)).with_logger("conformance"))
        .await;
}

async fn ask(context: &RequestContext<RoleServer>, request: ServerRequest) -> Result<ClientResult, McpError> {
    context.peer.send_request(request).await.map_err(|e| McpError::internal_error(format!("the client did not answer: {e}"), None))
}

async fn elicit(context: &RequestContext<RoleServer>, params: Value) -> Result<CallToolResult, McpError> {
    let params: ElicitRequestParams =
        serde_json::from_value(params).map_err(|e| McpError::internal_error(format!("bad elicitation fixture: {e}"), None))?;
    let answer = ask(context, ServerRequest::ElicitRequest(Request::new(params))).await?;
    Ok(CallToolResult::success(vec![text(format!("Elicitation result: {}", serde_json::to_string(&answer).unwrap_or_default()))]))
}

pub async fn call(
    name: &str,
    args: JsonObject,
    context: &RequestContext<RoleServer>,
    min_level: LoggingLevel,
) -> Result<CallToolResult, McpError> {
    Ok(match name {
        "test_simple_text" => CallToolResult::success(vec![text("This is a simple text response for testing.")]),
        "test_image_content" => CallToolResult::success(vec![ContentBlock::image(PNG_1X1, "image/png")]),
        "test_audio_content" => CallToolResult::success(vec![ContentBlock::audio(WAV_SILENT, "audio/wav")]),
        "test_embedded_resource" => CallToolResult::success(vec![ContentBlock::resource(
            ResourceContents::text("This is an embedded resource content.", "test://embedded-resource").with_mime_type("text/plain"),
        )]),
        "test_multiple_content_types" => CallToolResult::success(vec![
            text("Multiple content types test:"),
            ContentBlock::image(PNG_1X1, "image/png"),
            ContentBlock::resource(
                ResourceContents::text(r#"{"test":"data","value":123}"#, "test://mixed-content-resource")
                    .with_mime_type("application/json"),
            ),
        ]),
        "test_tool_with_logging" => {
            for step in ["Tool execution started", "Tool processing data", "Tool execution completed"] {
                log(context, min_level, step).await;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            CallToolResult::success(vec![text("Tool with logging executed successfully")])
        }
        "test_error_handling" => CallToolResult::error(vec![text("This tool intentionally returns an error for testing")]),
        "test_tool_with_progress" => {
            if let Some(token) = context.meta.get_progress_token() {
                for progress in [0.0, 50.0, 100.0] {
                    let _ = context.peer.notify_progress(ProgressNotificationParam::new(token.clone(), progress).with_total(100.0)).await;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
            CallToolResult::success(vec![text("Tool with progress executed successfully")])
        }
        "test_sampling" => {
            let prompt = args.get("prompt").and_then(Value::as_str).unwrap_or("Hello").to_owned();
            #[allow(deprecated)]
            let params = CreateMessageRequestParams::new(vec![SamplingMessage::user_text(prompt)], 100);
            let answer = ask(context, ServerRequest::CreateMessageRequest(Request::new(params))).await?;
            CallToolResult::success(vec![text(format!("LLM response: {}", serde_json::to_string(&answer).unwrap_or_default()))])
        }
        "test_elicitation" => {
            let message = args.get("message").and_then(Value::as_str).unwrap_or("Please provide a response").to_owned();
            return elicit(context, json!({
                "mode": "form", "message": message,
                "requestedSchema": {"type": "object", "properties": {"response": {"type": "string", "description": "Your response"}}, "required": ["response"]}
            }))
            .await;
        }
        "test_elicitation_sep1034_defaults" => {
            return elicit(context, json!({
                "mode": "form", "message": "Please review and update the form fields with defaults",
                "requestedSchema": {"type": "object", "properties": {
                    "name": {"type": "string", "description": "User name", "default": "John Doe"},
                    "age": {"type": "integer", "description": "User age", "default": 30},
                    "score": {"type": "number", "description": "User score", "default": 95.5},
                    "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
                    "verified": {"type": "boolean", "description": "Verification status", "default": true}
                }}
            }))
            .await;
        }
        "test_elicitation_sep1330_enums" => {
            return elicit(context, json!({
                "mode": "form", "message": "Please select options from the enum fields",
                "requestedSchema": {"type": "object", "properties": {
                    "untitledSingle": {"type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"]},
                    "titledSingle": {"type": "string", "description": "Select one option with titles", "oneOf": [
                        {"const": "value1", "title": "First Option"}, {"const": "value2", "title": "Second Option"}, {"const": "value3", "title": "Third Option"}]},
                    "legacyEnum": {"type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
                    "untitledMulti": {"type": "array", "description": "Select multiple options", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                    "titledMulti": {"type": "array", "description": "Select multiple options with titles", "items": {"anyOf": [
                        {"const": "value1", "title": "First Choice"}, {"const": "value2", "title": "Second Choice"}, {"const": "value3", "title": "Third Choice"}]}}
                }}
            }))
            .await;
        }
        "json_schema_2020_12_tool" => CallToolResult::success(vec![text(format!("Received: {}", Value::Object(args)))]),
        _ => return Err(McpError::invalid_params(format!("Unknown tool: {name}"), None)),
    })
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new("test://static-text", "static-text").with_mime_type("text/plain").with_description("A static text resource"),
        Resource::new("test://static-binary", "static-binary").with_mime_type("image/png").with_description("A static binary resource"),
        Resource::new("test://watched-resource", "watched-resource")
            .with_mime_type("text/plain")
            .with_description("A resource to subscribe to"),
    ]
}

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("test://template/{id}/data", "template")
            .with_mime_type("application/json")
            .with_description("A templated resource"),
    ]
}

pub fn read(uri: &str) -> Option<ResourceContents> {
    match uri {
        "test://static-text" => {
            Some(ResourceContents::text("This is the content of the static text resource.", uri).with_mime_type("text/plain"))
        }
        "test://static-binary" => Some(ResourceContents::blob(PNG_1X1, uri).with_mime_type("image/png")),
        "test://watched-resource" => Some(ResourceContents::text("Watched resource content", uri).with_mime_type("text/plain")),
        _ => {
            let id = uri.strip_prefix("test://template/")?.strip_suffix("/data")?;
            Some(
                ResourceContents::text(json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string(), uri)
                    .with_mime_type("application/json"),
            )
        }
    }
}

pub fn prompts() -> Vec<Prompt> {
    vec![
        Prompt::new("test_simple_prompt", Some("A simple prompt without arguments"), None),
        Prompt::new(
            "test_prompt_with_arguments",
            Some("A prompt with arguments"),
            Some(vec![
                PromptArgument::new("arg1").with_description("First test argument").with_required(true),
                PromptArgument::new("arg2").with_description("Second test argument").with_required(true),
            ]),
        ),
        Prompt::new(
            "test_prompt_with_embedded_resource",
            Some("A prompt with an embedded resource"),
            Some(vec![PromptArgument::new("resourceUri").with_description("URI of the resource to embed").with_required(true)]),
        ),
        Prompt::new("test_prompt_with_image", Some("A prompt with image content"), None),
    ]
}

pub fn get_prompt(name: &str, args: &JsonObject) -> Option<GetPromptResult> {
    let arg = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let messages = match name {
        "test_simple_prompt" => vec![PromptMessage::new_text(Role::User, "This is a simple prompt for testing.")],
        "test_prompt_with_arguments" => {
            vec![PromptMessage::new_text(Role::User, format!("Prompt with arguments: arg1='{}', arg2='{}'", arg("arg1"), arg("arg2")))]
        }
        "test_prompt_with_embedded_resource" => vec![
            PromptMessage::new(
                Role::User,
                ContentBlock::resource(
                    ResourceContents::text("Embedded resource content for testing.", arg("resourceUri")).with_mime_type("text/plain"),
                ),
            ),
            PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
        ],
        "test_prompt_with_image" => vec![
            PromptMessage::new(Role::User, ContentBlock::image(PNG_1X1, "image/png")),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ],
        _ => return None,
    };
    Some(GetPromptResult::new(messages).with_description(format!("{name} (conformance fixture)")))
}

pub fn is_fixture_prompt(name: &str) -> bool {
    name.starts_with("test_")
}
