//! The tool catalogue: names, descriptions, schemas and annotations, and the dispatch from a
//! `tools/call` to the workspace service. Each tool is a few lines: parse, call, shape.
use std::sync::LazyLock;

use rmcp::{
    ErrorData as McpError,
    handler::server::common::{schema_for_output, schema_for_type},
    model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations},
};
use schemars::JsonSchema;
use serde::{Serialize, de::DeserializeOwned};

use crate::service::{
    App, Principal, ServiceError,
    workspace::{activity::*, comments::*, projects::*, tasks::*},
};

/// What a tool does to the workspace; decides its scope and its annotations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Effect {
    Read,
    /// Creates something new each call.
    Create,
    /// Changes something in place; calling twice has the effect of calling once.
    Update,
    Delete,
}

impl Effect {
    pub fn needs_write(self) -> bool {
        self != Effect::Read
    }

    fn annotations(self, title: &str) -> ToolAnnotations {
        let (read_only, destructive, idempotent) = match self {
            Effect::Read => (true, false, true),
            Effect::Create => (false, false, false),
            Effect::Update => (false, false, true),
            Effect::Delete => (false, true, true),
        };
        ToolAnnotations::with_title(title).read_only(read_only).destructive(destructive).idempotent(idempotent).open_world(false)
    }
}

pub struct ToolSpec {
    pub effect: Effect,
    pub tool: Tool,
}

fn spec<In: JsonSchema + 'static, Out: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    effect: Effect,
    description: &'static str,
) -> ToolSpec {
    let tool = Tool::new(name, description, schema_for_type::<In>())
        .with_title(title)
        .with_raw_output_schema(schema_for_output::<Out>())
        .with_annotations(effect.annotations(title));
    ToolSpec { effect, tool }
}

/// `get_current_user` takes no arguments.
#[derive(Debug, Default, serde::Deserialize, JsonSchema)]
pub struct NoArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CurrentUser {
    pub user_id: uuid::Uuid,
    pub email: String,
    /// `api_key` or `oauth`.
    pub token_kind: &'static str,
    /// The API key's name, or the OAuth app's name, as the Connected Apps page shows it.
    pub credential_name: String,
    pub scopes: Vec<&'static str>,
    /// When the credential stops working; absent if it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub static CATALOG: LazyLock<Vec<ToolSpec>> = LazyLock::new(|| {
    use Effect::*;
    vec![
        spec::<ListProjectsArgs, ProjectList>(
            "list_projects",
            "List projects",
            Read,
            "List the user's projects, newest first. Archived projects are left out unless `status` is `archived`. Paginated with `limit` and `cursor`.",
        ),
        spec::<ProjectIdArgs, ProjectDetail>(
            "get_project",
            "Get a project",
            Read,
            "Get one project with the number of its tasks in each status.",
        ),
        spec::<CreateProjectArgs, ProjectView>(
            "create_project",
            "Create a project",
            Create,
            "Create a project. Status defaults to `active`; dates are YYYY-MM-DD.",
        ),
        spec::<UpdateProjectArgs, ProjectView>(
            "update_project",
            "Update a project",
            Update,
            "Change a project's name, description, status or dates. Set status to `archived` to archive it; pass null to clear a date.",
        ),
        spec::<DeleteProjectArgs, DeletedProject>(
            "delete_project",
            "Delete a project",
            Delete,
            "Delete a project. A project that still has tasks is only deleted with `cascade: true`, which deletes its tasks too.",
        ),
        spec::<ListTasksArgs, TaskList>(
            "list_tasks",
            "List tasks",
            Read,
            "List tasks, newest first, filtered by project, status, priority, due-date range, tag, assignee or text. Done tasks are left out unless `status` is `done` or `include_done` is true. Paginated with `limit` and `cursor`.",
        ),
        spec::<TaskIdArgs, TaskDetail>("get_task", "Get a task", Read, "Get one task with its comments."),
        spec::<CreateTaskArgs, TaskView>(
            "create_task",
            "Create a task",
            Create,
            "Create a task, optionally in a project. Status defaults to `todo`, priority to `medium`; due_date is YYYY-MM-DD; the description is markdown.",
        ),
        spec::<CreateTasksArgs, CreatedTasks>(
            "create_tasks",
            "Create several tasks",
            Create,
            "Create up to 50 tasks at once. All are created or, if any is invalid, none.",
        ),
        spec::<UpdateTaskArgs, TaskView>(
            "update_task",
            "Update a task",
            Update,
            "Change any field of a task: title, description, project (null to detach), status, priority, due date, assignee, tags (replaced as a whole). Moving to `done` records the completion time.",
        ),
        spec::<TaskIdArgs, TaskView>(
            "complete_task",
            "Complete a task",
            Update,
            "Mark a task done and record when it was completed. Completing a done task changes nothing.",
        ),
        spec::<TaskIdArgs, DeletedTask>("delete_task", "Delete a task", Delete, "Delete a task and its comments."),
        spec::<ListCommentsArgs, CommentList>(
            "list_comments",
            "List a task's comments",
            Read,
            "List the comments on a task, oldest first. Paginated with `limit` and `cursor`.",
        ),
        spec::<AddCommentArgs, CommentView>("add_comment", "Comment on a task", Create, "Add a comment (markdown) to a task."),
        spec::<ListActivityArgs, ActivityList>(
            "list_recent_activity",
            "Recent activity",
            Read,
            "Every change to the workspace (created, updated, archived, completed, commented, deleted), newest first. Paginated with `limit` and `cursor`.",
        ),
        spec::<NoArgs, CurrentUser>(
            "get_current_user",
            "Who am I",
            Read,
            "Who the token belongs to: user id, email, token kind, scopes and when the token expires.",
        ),
    ]
});

pub static TOOLS: LazyLock<Vec<Tool>> = LazyLock::new(|| CATALOG.iter().map(|s| s.tool.clone()).collect());

pub fn find(name: &str) -> Option<&'static ToolSpec> {
    CATALOG.iter().find(|s| s.tool.name == name)
}

/// Whether calling `name` needs `mcp:write`. Unknown tools need only read: they fail anyway.
pub fn needs_write(name: &str) -> bool {
    find(name).is_some_and(|s| s.effect.needs_write())
}

fn parse<T: DeserializeOwned>(tool: &str, args: Option<JsonObject>) -> Result<T, CallToolResult> {
    let value = serde_json::Value::Object(args.unwrap_or_default());
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let hint =
            if field.ends_with("date") || field.ends_with("_after") || field.ends_with("_before") { " (dates are YYYY-MM-DD)" } else { "" };
        let place = if field == "." { String::new() } else { format!(" in `{field}`") };
        error_result(format!("Invalid arguments for {tool}{place}: {}{hint}. Check the tool's input schema and try again.", e.inner()))
    })
}

fn error_result(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// What a tool call produced. A success is its result serialised once, straight from the
/// service's struct: the same JSON is the text content and the structured content.
pub enum Outcome {
    Json(String),
    Failed(CallToolResult),
}

impl Outcome {
    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Failed(r) if r.is_error == Some(true))
    }

    pub fn into_result(self) -> CallToolResult {
        match self {
            Outcome::Json(json) => {
                let structured = serde_json::from_str(&json).ok();
                let mut result = CallToolResult::success(vec![ContentBlock::text(json)]);
                result.structured_content = structured;
                result
            }
            Outcome::Failed(result) => result,
        }
    }
}

fn shape<T: Serialize>(result: Result<T, ServiceError>) -> Outcome {
    Outcome::Failed(match result {
        Ok(value) => match serde_json::to_string(&value) {
            Ok(json) => return Outcome::Json(json),
            Err(e) => error_result(format!("Navis could not encode the result: {e}")),
        },
        Err(ServiceError::NotFound(m) | ServiceError::Invalid(m) | ServiceError::Conflict(m)) => error_result(m),
        Err(e @ ServiceError::Busy) => error_result(e.to_string()),
        Err(ServiceError::Store(e)) => {
            tracing::error!(error = %e, "tool failed on the store");
            // Every change commits with its activity in one transaction, so a failure changed
            // nothing, unless the database's answer to the commit itself was lost.
            error_result(if e.outcome_unknown() {
                "Navis lost its connection to the database while saving this change, so it may or may not have been made. Check (for example with list_recent_activity) before trying again.".into()
            } else {
                "Navis could not complete this request because of a server error. Nothing was changed; try again.".into()
            })
        }
    })
}

pub async fn call(app: &App, p: &Principal, name: &str, args: Option<JsonObject>) -> Result<CallToolResult, McpError> {
    run(app, p, name, args).await.map(Outcome::into_result)
}

/// Calls a tool; an unknown tool is a protocol error (-32602).
pub async fn run(app: &App, p: &Principal, name: &str, args: Option<JsonObject>) -> Result<Outcome, McpError> {
    let Some(spec) = find(name) else {
        return Err(McpError::invalid_params(format!("Unknown tool: {name}. Call tools/list for the tools this server offers."), None));
    };
    // The edge already answered 403; this keeps the rule true for any other caller.
    if spec.effect.needs_write() && !p.access.can_write() {
        return Ok(Outcome::Failed(error_result("This operation requires the mcp:write scope.".into())));
    }
    macro_rules! run {
        ($method:ident) => {
            match parse(name, args) {
                Ok(args) => shape(app.$method(p, args).await),
                Err(invalid) => Outcome::Failed(invalid),
            }
        };
    }
    Ok(match name {
        "list_projects" => run!(list_projects),
        "get_project" => run!(get_project),
        "create_project" => run!(create_project),
        "update_project" => run!(update_project),
        "delete_project" => run!(delete_project),
        "list_tasks" => run!(list_tasks),
        "get_task" => run!(get_task),
        "create_task" => run!(create_task),
        "create_tasks" => run!(create_tasks),
        "update_task" => run!(update_task),
        "complete_task" => run!(complete_task),
        "delete_task" => run!(delete_task),
        "list_comments" => run!(list_comments),
        "add_comment" => run!(add_comment),
        "list_recent_activity" => run!(list_recent_activity),
        "get_current_user" => match parse::<NoArgs>(name, args) {
            Ok(_) => shape(current_user(app, p).await),
            Err(invalid) => Outcome::Failed(invalid),
        },
        _ => return Err(McpError::invalid_params(format!("Unknown tool: {name}"), None)),
    })
}

async fn current_user(app: &App, p: &Principal) -> Result<CurrentUser, ServiceError> {
    let user = app
        .store
        .user_by_id(p.user_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("The account of this token no longer exists.".into()))?;
    let credential_name = match &p.credential {
        crate::service::Credential::ApiKey { name, .. } => name.clone(),
        crate::service::Credential::OAuth { client_id, .. } => {
            app.store.client(client_id).await?.map(|c| c.name).unwrap_or_else(|| client_id.clone())
        }
    };
    Ok(CurrentUser {
        user_id: user.id,
        email: user.email,
        token_kind: p.credential.kind(),
        credential_name,
        scopes: p.access.granted_scopes().split(' ').collect(),
        expires_at: p.credential.expires_at(),
    })
}
