//! Settings aside, the person's own view of their workspace: what is due, the projects, and what
//! changed recently and by which key or app — so they can see what their assistants did. Read-only: the page reads with
//! Read access, through the same service the MCP tools and the HTTP API use.
use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    AppState, csrf,
    html::{Layout, Trouble, error_page, page},
    pages::{signed_in_user, with_cookies},
};
use crate::core::scope::Access;
use crate::service::{Credential, Principal, ServiceError, workspace::activity::Change};
use crate::store::User;

/// How many recent changes the page lists.
const RECENT: u32 = 30;

/// The signed-in person reading their own workspace. No bearer credential is involved; the
/// workspace service never looks at it, and Read access means the page cannot change anything.
fn reader(user: &User) -> Principal {
    Principal {
        user_id: user.id,
        access: Access::Read,
        credential: Credential::ApiKey { id: String::new(), name: "Navis web page".into(), expires_at: None },
    }
}

/// A task due today or overdue, as the page lists it.
struct TaskRow<'a> {
    title: &'a str,
    status: String,
    priority: &'a str,
    due_date: Option<chrono::NaiveDate>,
    overdue: bool,
}

/// A project in the Projects table (its count of open tasks beside it).
struct ProjectRow {
    name: String,
    status: String,
    due_date: Option<chrono::NaiveDate>,
}

#[derive(Template)]
#[template(path = "workspace.html")]
struct WorkspacePage<'a> {
    layout: Layout<'a>,
    today: chrono::NaiveDate,
    /// Due tasks by project, projects in name order, tasks without a project last.
    due: Vec<(String, Vec<TaskRow<'a>>)>,
    projects: Vec<(ProjectRow, i64)>,
    activity: Vec<Change>,
}

/// Statuses are stored as `in_progress`; the page says "in progress".
fn spaced(status: &str) -> String {
    status.replace('_', " ")
}

async fn render(state: &AppState, user: &User, csrf_token: &str) -> Result<Response, ServiceError> {
    let p = reader(user);
    let ((today, due), projects, activity) = p
        .acting(async {
            let due = state.app.tasks_due_by_today(&p).await?;
            Ok::<_, ServiceError>((due, state.app.all_projects_with_open_counts(&p).await?, state.app.recent_changes(&p, RECENT).await?))
        })
        .await?;
    let names: BTreeMap<uuid::Uuid, &str> = projects.iter().map(|(project, _)| (project.id, project.name.as_str())).collect();
    let mut by_project: BTreeMap<(bool, String), Vec<TaskRow>> = BTreeMap::new();
    for task in &due {
        let name = task.project_id.and_then(|id| names.get(&id).copied());
        let row = TaskRow {
            title: &task.title,
            status: spaced(&task.status),
            priority: &task.priority,
            due_date: task.due_date,
            overdue: task.due_date.is_some_and(|d| d < today),
        };
        by_project.entry((name.is_none(), name.unwrap_or("No project").to_owned())).or_default().push(row);
    }
    let projects = projects
        .iter()
        .map(|(project, open)| {
            let row = ProjectRow { name: project.name.clone(), status: spaced(&project.status), due_date: project.due_date };
            (row, *open)
        })
        .collect();
    let view = WorkspacePage {
        layout: Layout::signed_in("Workspace", &user.email, csrf_token),
        today,
        due: by_project.into_iter().map(|((_, name), tasks)| (name, tasks)).collect(),
        projects,
        activity,
    };
    Ok(page(StatusCode::OK, &view))
}

pub async fn workspace(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin?next=%2Fworkspace").into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    let response = match render(&state, &user, &token).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = ?e, "workspace page failed");
            error_page(Trouble::ReloadSoon)
        }
    };
    with_cookies(response, set)
}
