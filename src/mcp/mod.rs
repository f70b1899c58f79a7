//! The MCP server: rmcp speaks the protocol; Navis adds the Principal, scope checks and the workspace.
pub mod edge;
pub mod resources;
pub mod tools;

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
        PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
};

use crate::service::{App, Principal};

pub const INSTRUCTIONS: &str = "Navis is the user's operations workspace: projects and tasks. \
Use list_projects and list_tasks to look around, create_task / update_task / complete_task to act. \
Ids are UUIDs, dates YYYY-MM-DD. Write tools need a token with the mcp:write scope.";

#[derive(Clone)]
pub struct NavisMcp {
    app: App,
}

impl NavisMcp {
    pub fn new(app: App) -> Self {
        Self { app }
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
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("navis", env!("CARGO_PKG_VERSION")).with_title("Navis"))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(&self, _request: Option<PaginatedRequestParams>, context: RequestContext<RoleServer>) -> Result<ListToolsResult, McpError> {
        principal(&context)?;
        Ok(ListToolsResult::with_all_items(tools::TOOLS.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        tools::find(name).map(|s| s.tool.clone())
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let p = principal(&context)?;
        tools::call(&self.app, &p, &request.name, request.arguments).await.map(Into::into)
    }

    async fn list_resources(&self, _request: Option<PaginatedRequestParams>, context: RequestContext<RoleServer>) -> Result<ListResourcesResult, McpError> {
        principal(&context)?;
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn list_resource_templates(&self, _request: Option<PaginatedRequestParams>, context: RequestContext<RoleServer>) -> Result<ListResourceTemplatesResult, McpError> {
        principal(&context)?;
        Ok(ListResourceTemplatesResult::with_all_items(resources::templates()))
    }

    async fn read_resource(&self, request: ReadResourceRequestParams, context: RequestContext<RoleServer>) -> Result<ReadResourceResponse, McpError> {
        let p = principal(&context)?;
        let contents = resources::read(&self.app, &p, &request.uri).await?;
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}
