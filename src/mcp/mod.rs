#![allow(deprecated)] // logging/setLevel: deprecated by the 2026 revision, still what 2025 clients use
//! The MCP server: rmcp speaks the protocol; Navis adds the Principal, scope checks and the workspace.
pub mod edge;
pub mod fast;
pub mod fixtures;
pub mod prompts;
pub mod resources;
pub mod sessions;
pub mod tools;

use std::sync::{Arc, Mutex};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, CompletionInfo, CustomRequest, CustomResult,
        ErrorCode, GetPromptRequestParams, GetPromptResponse, Implementation, InitializeRequestParams, ListPromptsResult,
        ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel, PaginatedRequestParams, ProgressNotificationParam,
        ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Reference, ServerCapabilities, ServerConfig,
        SetLevelRequestParams, SubscribeRequestParams, UnsubscribeRequestParams,
    },
    service::RequestContext,
};

use crate::config::Settings;
use crate::edge::{AppState, MCP_PATHS};
use crate::service::{App, Principal};

/// What the MCP endpoint's handlers get: the shared state plus rmcp's transports.
#[derive(Clone)]
pub struct McpState {
    pub app: App,
    pub settings: Arc<Settings>,
    pub mcp: Arc<edge::McpTransports>,
    /// Each MCP path with the URL of its protected-resource metadata, made once: every 401 names it.
    pub metadata_urls: Arc<[(&'static str, String)]>,
}

/// The MCP endpoint at both of its paths, with its state.
pub fn router(state: AppState, transports: Arc<edge::McpTransports>) -> axum::Router {
    let metadata_urls = MCP_PATHS.iter().map(|path| (*path, edge::resource_metadata_url(&state.settings, path))).collect();
    let state = McpState { app: state.app, settings: state.settings, mcp: transports, metadata_urls };
    MCP_PATHS.iter().fold(axum::Router::new(), |router, path| router.route(path, axum::routing::any(edge::handle))).with_state(state)
}

pub const INSTRUCTIONS: &str = "Navis is the user's operations workspace: projects and tasks. \
Use list_projects and list_tasks to look around, create_task / update_task / complete_task to act. \
Ids are UUIDs, dates YYYY-MM-DD. Write tools need a token with the mcp:write scope.";

/// One per MCP session (or per sessionless request): rmcp builds it from a factory.
#[derive(Clone)]
pub struct NavisMcp {
    app: App,
    /// Serve the conformance suite's fixtures too (`--conformance-fixtures`).
    fixtures: bool,
    /// The level set with `logging/setLevel`; messages below it are not sent.
    log_level: Arc<Mutex<LoggingLevel>>,
}

impl NavisMcp {
    pub fn new(app: App, fixtures: bool) -> Self {
        Self { app, fixtures, log_level: Arc::new(Mutex::new(LoggingLevel::Info)) }
    }
}

/// The Principal the HTTP edge attached to this request. Every request but `initialize`
/// has one; if one is missing, the request is refused rather than served anonymously.
fn principal(context: &RequestContext<RoleServer>) -> Result<Principal, McpError> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>())
        .cloned()
        .ok_or_else(|| McpError::invalid_request("Missing or invalid authorization token.", None))
}

impl ServerHandler for NavisMcp {
    fn get_info(&self) -> ServerConfig {
        let capabilities =
            ServerCapabilities::builder().enable_tools().enable_resources().enable_prompts().enable_logging().enable_completions();
        let capabilities = if self.fixtures { capabilities.enable_resources_subscribe().build() } else { capabilities.build() };
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("navis", env!("CARGO_PKG_VERSION")).with_title("Navis"))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        principal(&context)?;
        let mut list = tools::TOOLS.clone();
        if self.fixtures {
            list.extend(fixtures::TOOLS.iter().cloned());
        }
        Ok(ListToolsResult::with_all_items(list))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        tools::find(name)
            .map(|s| s.tool.clone())
            .or_else(|| if self.fixtures { fixtures::TOOLS.iter().find(|t| t.name == name).cloned() } else { None })
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let p = principal(&context)?;
        if self.fixtures && fixtures::is_fixture_tool(&request.name) {
            let level = *self.log_level.lock().unwrap_or_else(|e| e.into_inner());
            return fixtures::call(&request.name, request.arguments.unwrap_or_default(), &context, level).await.map(Into::into);
        }
        // Batch creation reports progress to clients that asked for it.
        let progress = (request.name == "create_tasks").then(|| context.meta.get_progress_token()).flatten();
        let total = request.arguments.as_ref().and_then(|a| a.get("tasks")).and_then(|t| t.as_array()).map_or(0, Vec::len) as f64;
        if let Some(token) = &progress {
            let _ = context
                .peer
                .notify_progress(ProgressNotificationParam::new(token.clone(), 0.0).with_total(total).with_message("validating tasks"))
                .await;
        }
        let result = tools::call(&self.app, &p, &request.name, request.arguments).await;
        if let Ok(outcome) = &result {
            self.app.metrics.tool_call(&request.name, outcome.is_error == Some(true));
        }
        if let Some(token) = progress {
            let _ = context.peer.notify_progress(ProgressNotificationParam::new(token, total).with_total(total).with_message("done")).await;
        }
        result.map(Into::into)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        principal(&context)?;
        let mut list = resources::list();
        if self.fixtures {
            list.extend(fixtures::resources());
        }
        Ok(ListResourcesResult::with_all_items(list))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        principal(&context)?;
        let mut list = resources::templates();
        if self.fixtures {
            list.extend(fixtures::templates());
        }
        Ok(ListResourceTemplatesResult::with_all_items(list))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let p = principal(&context)?;
        if self.fixtures
            && let Some(contents) = fixtures::read(&request.uri)
        {
            return Ok(ReadResourceResult::new(vec![contents]).into());
        }
        let contents = resources::read(&self.app, &p, &request.uri).await?;
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        principal(&context)?;
        let mut list = prompts::list();
        if self.fixtures {
            list.extend(fixtures::prompts());
        }
        Ok(ListPromptsResult::with_all_items(list))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let p = principal(&context)?;
        let args = request.arguments.unwrap_or_default();
        if self.fixtures
            && fixtures::is_fixture_prompt(&request.name)
            && let Some(result) = fixtures::get_prompt(&request.name, &args)
        {
            return Ok(result.into());
        }
        prompts::get(&self.app, &p, &request.name, &args).await.map(Into::into)
    }

    /// Argument completion: project ids (by name or id prefix) for the project-tasks template.
    async fn complete(&self, request: CompleteRequestParams, context: RequestContext<RoleServer>) -> Result<CompleteResult, McpError> {
        let p = principal(&context)?;
        let values = match &request.r#ref {
            Reference::Resource(r) if r.uri == resources::PROJECT_TASKS_TEMPLATE && request.argument.name == "id" => {
                let prefix = request.argument.value.to_lowercase();
                let projects = p
                    .acting(self.app.all_projects_with_open_counts(&p))
                    .await
                    .map_err(|e| McpError::internal_error(format!("cannot list projects: {e}"), None))?;
                projects
                    .into_iter()
                    .filter(|(pr, _)| pr.name.to_lowercase().starts_with(&prefix) || pr.id.to_string().starts_with(&prefix))
                    .map(|(pr, _)| pr.id.to_string())
                    .take(CompletionInfo::MAX_VALUES)
                    .collect()
            }
            _ => Vec::new(),
        };
        let info = CompletionInfo::new(values).map_err(|e| McpError::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }

    async fn set_level(&self, request: SetLevelRequestParams, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        principal(&context)?;
        *self.log_level.lock().unwrap_or_else(|e| e.into_inner()) = request.level;
        Ok(())
    }

    /// Navis has no subscriptions (every read is live); the conformance fixtures accept them.
    #[allow(deprecated)]
    async fn subscribe(&self, request: SubscribeRequestParams, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        principal(&context)?;
        if self.fixtures && fixtures::read(&request.uri).is_some() {
            return Ok(());
        }
        Err(McpError::invalid_params("Navis resources do not support subscriptions; read them again instead.", None))
    }

    #[allow(deprecated)]
    async fn unsubscribe(&self, request: UnsubscribeRequestParams, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        principal(&context)?;
        if self.fixtures && fixtures::read(&request.uri).is_some() {
            return Ok(());
        }
        Err(McpError::invalid_params("Navis resources do not support subscriptions.", None))
    }

    /// rmcp decodes a request whose params do not fit its method as a custom request, which
    /// would be "method not found"; for a method Navis serves it is invalid params (-32602).
    async fn on_custom_request(&self, request: CustomRequest, _context: RequestContext<RoleServer>) -> Result<CustomResult, McpError> {
        match params_shape_error(&request) {
            Some(why) => Err(McpError::invalid_params(format!("Invalid params for {}: {why}", request.method), None)),
            None => Err(McpError::new(ErrorCode::METHOD_NOT_FOUND, request.method, None)),
        }
    }
}

/// Why a custom request's params do not fit the method of that name, for the methods Navis
/// serves; `None` for any other method.
fn params_shape_error(request: &CustomRequest) -> Option<String> {
    fn why<T: serde::de::DeserializeOwned>(params: Option<&serde_json::Value>) -> String {
        match serde_path_to_error::deserialize::<_, T>(params.unwrap_or(&serde_json::Value::Null)) {
            Err(e) => e.to_string(),
            Ok(_) => "they do not have the shape the method takes".into(),
        }
    }
    let params = request.params.as_ref();
    Some(match request.method.as_str() {
        "initialize" => why::<InitializeRequestParams>(params),
        "tools/call" => why::<CallToolRequestParams>(params),
        "resources/read" => why::<ReadResourceRequestParams>(params),
        "resources/subscribe" => why::<SubscribeRequestParams>(params),
        "resources/unsubscribe" => why::<UnsubscribeRequestParams>(params),
        "prompts/get" => why::<GetPromptRequestParams>(params),
        "completion/complete" => why::<CompleteRequestParams>(params),
        "logging/setLevel" => why::<SetLevelRequestParams>(params),
        "ping" | "tools/list" | "resources/list" | "resources/templates/list" | "prompts/list" => {
            why::<Option<PaginatedRequestParams>>(params)
        }
        _ => return None,
    })
}
