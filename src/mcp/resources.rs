//! Resources: read-only views of the workspace, each read returning the data as it is now.
use rmcp::{
    ErrorData as McpError,
    model::{Resource, ResourceContents, ResourceTemplate},
};
use serde_json::json;

use crate::service::workspace::me::NoArgs;
use crate::service::{App, Principal, ServiceError};

pub const PROJECTS_ALL: &str = "navis://projects/all";
pub const TASKS_TODAY: &str = "navis://tasks/today";
pub const CALENDAR_UPCOMING: &str = "navis://calendar/upcoming";
pub const WORKSPACE_SUMMARY: &str = "navis://workspace/summary";
pub const PROJECT_TASKS_TEMPLATE: &str = "navis://projects/{id}/tasks";
const PROJECT_TASKS_LIMIT: u32 = 100;

pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(PROJECTS_ALL, "projects")
            .with_title("All projects")
            .with_description("Every non-archived project: id, name, status and open-task count.")
            .with_mime_type("application/json"),
        Resource::new(TASKS_TODAY, "tasks-today")
            .with_title("Tasks due today")
            .with_description("Open tasks due today (in your time zone) and overdue ones, marked as such.")
            .with_mime_type("application/json"),
        Resource::new(CALENDAR_UPCOMING, "calendar-upcoming")
            .with_title("Upcoming events")
            .with_description("Calendar events in the next 7 days, by start time, in your time zone.")
            .with_mime_type("application/json"),
        Resource::new(WORKSPACE_SUMMARY, "workspace-summary")
            .with_title("Workspace summary")
            .with_description(
                "Counts of projects, tasks (by status), notes, events and goals; open tasks due today and overdue; the next 7 days' events; active goals with progress; the latest changes (as get_workspace_summary).",
            )
            .with_mime_type("application/json"),
    ]
}

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(PROJECT_TASKS_TEMPLATE, "project-tasks")
            .with_title("A project's open tasks")
            .with_description("The project's id, name and status, and up to 100 of its open tasks.")
            .with_mime_type("application/json"),
    ]
}

fn to_mcp_error(uri: &str, e: ServiceError) -> McpError {
    match e {
        ServiceError::NotFound(_) | ServiceError::Invalid(_) | ServiceError::InvalidField { .. } | ServiceError::Conflict(_) => {
            McpError::resource_not_found(format!("Resource not found: {uri}"), Some(json!({ "uri": uri })))
        }
        e @ ServiceError::Busy => McpError::internal_error(e.to_string(), None),
        ServiceError::Store(e) => {
            tracing::error!(error = %e, "resource read failed on the store");
            McpError::internal_error("server error while reading the resource", None)
        }
    }
}

pub async fn read(app: &App, p: &Principal, uri: &str) -> Result<ResourceContents, McpError> {
    p.acting(read_as(app, p, uri)).await
}

async fn read_as(app: &App, p: &Principal, uri: &str) -> Result<ResourceContents, McpError> {
    let body = match uri {
        PROJECTS_ALL => {
            let projects = app.all_projects_with_open_counts(p).await.map_err(|e| to_mcp_error(uri, e))?;
            json!({
                "projects": projects.into_iter().map(|(pr, open)| json!({
                    "id": pr.id, "name": pr.name, "status": pr.status, "open_task_count": open,
                })).collect::<Vec<_>>()
            })
        }
        TASKS_TODAY => {
            let (today, tasks) = app.tasks_due_by_today(p).await.map_err(|e| to_mcp_error(uri, e))?;
            json!({
                "date": today,
                "tasks": tasks.into_iter().map(|t| json!({
                    "id": t.id, "title": t.title, "status": t.status, "priority": t.priority,
                    "due_date": t.due_date, "project_id": t.project_id, "assignee": t.assignee,
                    "overdue": t.due_date.is_some_and(|d| d < today),
                })).collect::<Vec<_>>()
            })
        }
        CALENDAR_UPCOMING => {
            let (tz, from, to, events) = app.upcoming_events(p).await.map_err(|e| to_mcp_error(uri, e))?;
            json!({
                "time_zone": tz.name(),
                "from": from.with_timezone(&tz).fixed_offset(),
                "to": to.with_timezone(&tz).fixed_offset(),
                "events": events,
            })
        }
        WORKSPACE_SUMMARY => {
            let summary = app.get_workspace_summary(p, NoArgs {}).await.map_err(|e| to_mcp_error(uri, e))?;
            serde_json::to_value(summary).map_err(|e| McpError::internal_error(e.to_string(), None))?
        }
        _ => {
            let Some(id) = uri.strip_prefix("navis://projects/").and_then(|rest| rest.strip_suffix("/tasks")) else {
                return Err(McpError::resource_not_found(format!("Resource not found: {uri}"), Some(json!({ "uri": uri }))));
            };
            let (project, tasks) = app.open_project_tasks(p, id, PROJECT_TASKS_LIMIT).await.map_err(|e| to_mcp_error(uri, e))?;
            json!({
                "id": project.id, "name": project.name, "status": project.status,
                "tasks": tasks.into_iter().map(|t| json!({
                    "id": t.id, "title": t.title, "status": t.status, "priority": t.priority,
                    "due_date": t.due_date, "assignee": t.assignee,
                })).collect::<Vec<_>>()
            })
        }
    };
    Ok(ResourceContents::text(body.to_string(), uri).with_mime_type("application/json"))
}
