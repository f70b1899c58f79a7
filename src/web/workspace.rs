//! Settings aside, the person's own view of their workspace: what is due, the projects, and what
//! changed recently and by which key or app — so they can see what their assistants did. Read-only: the page reads with
//! Read access, through the same service the MCP tools and the HTTP API use.
use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    AppState, csrf,
    html::{esc, page},
    pages::{signed_in_user, with_cookies},
};
use crate::core::scope::Access;
use crate::service::{Credential, Principal, ServiceError, workspace::activity::Change};
use crate::store::{Task, User};

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

fn task_item(task: &Task, today: chrono::NaiveDate) -> String {
    let due = match task.due_date {
        Some(d) if d < today => format!(r#"<span class="tag overdue">Overdue</span> due {d}"#),
        Some(d) => format!(r#"<span class="tag">Today</span> due {d}"#),
        None => String::new(),
    };
    format!(
        r#"<li><span class="task-title">{title}</span> <span class="muted">· {status} · {priority} priority</span> {due}</li>"#,
        title = esc(&task.title),
        status = esc(&task.status.replace('_', " ")),
        priority = esc(&task.priority),
    )
}

fn activity_item(a: &Change) -> String {
    format!(
        r#"<li><time datetime="{at}">{utc}</time> — {kind} “{title}” {action}{by}</li>"#,
        at = a.at.to_rfc3339(),
        utc = a.at.format("%Y-%m-%d %H:%M UTC"),
        kind = esc(&a.entity_type),
        title = esc(&a.title),
        action = esc(&a.action),
        by = a.by.as_deref().map(|by| format!(r#" <span class="muted">by {}</span>"#, esc(by))).unwrap_or_default(),
    )
}

async fn render(state: &AppState, user: &User) -> Result<String, ServiceError> {
    let p = reader(user);
    let (today, due) = state.app.tasks_due_by_today(&p).await?;
    let projects = state.app.all_projects_with_open_counts(&p).await?;
    let activity = state.app.recent_changes(&p, RECENT).await?;
    let names: BTreeMap<uuid::Uuid, &str> = projects.iter().map(|(project, _)| (project.id, project.name.as_str())).collect();
    // Due tasks by project, projects in name order, tasks without a project last.
    let mut by_project: BTreeMap<(bool, String), Vec<&Task>> = BTreeMap::new();
    for task in &due {
        let name = task.project_id.and_then(|id| names.get(&id).copied());
        by_project.entry((name.is_none(), name.unwrap_or("No project").to_owned())).or_default().push(task);
    }
    let due_html = if due.is_empty() {
        r#"<p class="muted">Nothing is due today or overdue.</p>"#.to_owned()
    } else {
        by_project
            .iter()
            .map(|((_, name), tasks)| {
                let items: String = tasks.iter().map(|t| task_item(t, today)).collect();
                format!(r#"<h3>{}</h3><ul class="tasks">{items}</ul>"#, esc(name))
            })
            .collect()
    };
    let projects_html = if projects.is_empty() {
        r#"<p class="muted">No projects yet. Ask your assistant to create one, or use the HTTP API.</p>"#.to_owned()
    } else {
        let rows: String = projects
            .iter()
            .map(|(project, open)| {
                format!(
                    r#"<tr><td data-label="Project" class="name">{name}</td><td data-label="Status">{status}</td><td data-label="Open tasks">{open}</td><td data-label="Due">{due}</td></tr>"#,
                    name = esc(&project.name),
                    status = esc(&project.status.replace('_', " ")),
                    due = project.due_date.map(|d| d.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        format!(
            r#"<table class="stack"><thead><tr><th scope="col">Project</th><th scope="col">Status</th><th scope="col">Open tasks</th><th scope="col">Due</th></tr></thead><tbody>{rows}</tbody></table>"#
        )
    };
    let activity_html = if activity.is_empty() {
        r#"<li class="muted">No changes yet.</li>"#.to_owned()
    } else {
        activity.iter().map(activity_item).collect()
    };
    Ok(format!(
        r#"<h1>Workspace</h1>
<p class="muted">What your assistants and scripts see and change. This page only reads; changes are made through MCP or the HTTP API.</p>
<section class="card" id="due">
<h2>Due today or overdue <span class="muted">({today}, UTC)</span></h2>
{due_html}
</section>
<section class="card" id="projects">
<h2>Projects</h2>
{projects_html}
</section>
<section class="card" id="activity">
<h2>Recent changes</h2>
<ul class="audit">{activity_html}</ul>
</section>"#
    ))
}

pub async fn workspace(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(user) = signed_in_user(&state, &headers).await else {
        return Redirect::to("/signin?next=%2Fworkspace").into_response();
    };
    let (token, set) = csrf::token(&state.settings, &headers);
    let response = match render(&state, &user).await {
        Ok(body) => page(StatusCode::OK, "Workspace", Some((&user.email, &token)), &body),
        Err(e) => {
            tracing::error!(error = ?e, "workspace page failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "Error", None, "<h1>Something went wrong</h1><p>Reload the page in a moment.</p>")
        }
    };
    with_cookies(response, set)
}
