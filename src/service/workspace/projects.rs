//! Projects: list, get (with task counts), create, update (incl. archiving), delete.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    CURSOR_PATTERN, REQUIRED_TEXT, TEXT, decode_cursor, encode_cursor, not_found, nullable, optional_text, page_limit, parse_id,
    required_text,
};
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::Project;

const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Active,
    OnHold,
    Completed,
    Archived,
}

impl ProjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Active => "active",
            ProjectStatus::OnHold => "on_hold",
            ProjectStatus::Completed => "completed",
            ProjectStatus::Archived => "archived",
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// One of active, on_hold, completed, archived.
    pub status: String,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// Its tags' names (put on with tag_item).
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Project> for ProjectView {
    fn from(p: Project) -> Self {
        Self {
            id: p.id,
            name: p.name,
            description: p.description,
            status: p.status,
            start_date: p.start_date,
            due_date: p.due_date,
            tags: p.tags,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectList {
    pub projects: Vec<ProjectView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub project: ProjectView,
    /// Number of tasks in each status (every status is present).
    pub task_counts: BTreeMap<String, i64>,
    pub total_tasks: i64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeletedProject {
    pub id: Uuid,
    pub deleted: bool,
    /// Tasks deleted with the project (only with `cascade: true`), with their comments and tags.
    pub deleted_tasks: i64,
    /// Notes that were in the project: they are kept, in no project now.
    pub detached_notes: u64,
    /// The tags the project carried (the tags themselves remain).
    pub removed_tags: Vec<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListProjectsArgs {
    /// Only projects in this status. Without it, archived projects are left out.
    pub status: Option<ProjectStatus>,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProjectIdArgs {
    /// The project's id (UUID).
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateProjectArgs {
    #[schemars(length(min = 1, max = 200), regex(pattern = REQUIRED_TEXT))]
    pub name: String,
    #[serde(default)]
    #[schemars(length(max = 20_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    /// Defaults to active.
    #[serde(default)]
    pub status: Option<ProjectStatus>,
    /// YYYY-MM-DD
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// YYYY-MM-DD
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateProjectArgs {
    /// The project's id (UUID).
    pub id: String,
    #[serde(default)]
    #[schemars(with = "String", length(min = 1, max = 200), regex(pattern = REQUIRED_TEXT))]
    pub name: Option<String>,
    #[serde(default)]
    #[schemars(with = "String", length(max = 20_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    /// Set to `archived` to archive the project.
    #[serde(default)]
    #[schemars(with = "ProjectStatus")]
    pub status: Option<ProjectStatus>,
    /// YYYY-MM-DD, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    pub start_date: Option<Option<NaiveDate>>,
    /// YYYY-MM-DD, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    pub due_date: Option<Option<NaiveDate>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteProjectArgs {
    /// The project's id (UUID).
    pub id: String,
    /// Also delete the project's tasks. Without it, a project that has tasks is not deleted.
    /// (Its notes are never deleted: they are detached, kept in no project.)
    #[serde(default)]
    pub cascade: bool,
}

fn check_dates(start: Option<NaiveDate>, due: Option<NaiveDate>) -> ServiceResult<()> {
    if let (Some(s), Some(d)) = (start, due)
        && d < s
    {
        return Err(ServiceError::field("due_date", format!("due_date ({d}) must not be before start_date ({s}).")));
    }
    Ok(())
}

pub const TASK_STATUSES: [&str; 5] = ["backlog", "todo", "in_progress", "in_review", "done"];

impl App {
    pub async fn list_projects(&self, p: &Principal, args: ListProjectsArgs) -> ServiceResult<ProjectList> {
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        let page = self.store.list_projects(p.user_id, args.status.map(ProjectStatus::as_str), false, after, limit).await?;
        Ok(ProjectList { projects: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next.map(encode_cursor) })
    }

    pub(crate) async fn own_project(&self, p: &Principal, id: &str) -> ServiceResult<Project> {
        let uuid = parse_id("project", id)?;
        self.store.project(p.user_id, uuid).await?.ok_or_else(|| not_found("project", id))
    }

    pub async fn get_project(&self, p: &Principal, args: ProjectIdArgs) -> ServiceResult<ProjectDetail> {
        let project = self.own_project(p, &args.id).await?;
        let mut task_counts: BTreeMap<String, i64> = TASK_STATUSES.iter().map(|s| ((*s).to_owned(), 0)).collect();
        for (status, n) in self.store.task_counts(p.user_id, project.id).await? {
            task_counts.insert(status, n);
        }
        let total_tasks = task_counts.values().sum();
        Ok(ProjectDetail { project: project.into(), task_counts, total_tasks })
    }

    pub async fn create_project(&self, p: &Principal, args: CreateProjectArgs) -> ServiceResult<ProjectView> {
        let now = self.now();
        check_dates(args.start_date, args.due_date)?;
        let project = Project {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            name: required_text("name", &args.name, MAX_NAME)?,
            description: optional_text("description", args.description.as_deref().unwrap_or(""), MAX_DESCRIPTION)?,
            status: args.status.unwrap_or(ProjectStatus::Active).as_str().to_owned(),
            start_date: args.start_date,
            due_date: args.due_date,
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.store.insert_project(&project, &self.activity(p, "project", project.id, &project.name, "created")).await?;
        Ok(project.into())
    }

    pub async fn update_project(&self, p: &Principal, args: UpdateProjectArgs) -> ServiceResult<ProjectView> {
        let mut project = self.own_project(p, &args.id).await?;
        if let Some(name) = &args.name {
            project.name = required_text("name", name, MAX_NAME)?;
        }
        if let Some(description) = &args.description {
            project.description = optional_text("description", description, MAX_DESCRIPTION)?;
        }
        let archived = args.status == Some(ProjectStatus::Archived) && project.status != "archived";
        if let Some(status) = args.status {
            project.status = status.as_str().to_owned();
        }
        if let Some(start) = args.start_date {
            project.start_date = start;
        }
        if let Some(due) = args.due_date {
            project.due_date = due;
        }
        check_dates(project.start_date, project.due_date)?;
        project.updated_at = self.now();
        let activity = self.activity(p, "project", project.id, &project.name, if archived { "archived" } else { "updated" });
        if !self.store.update_project(&project, &activity).await? {
            return Err(not_found("project", &args.id));
        }
        Ok(project.into())
    }

    pub async fn delete_project(&self, p: &Principal, args: DeleteProjectArgs) -> ServiceResult<DeletedProject> {
        let project = self.own_project(p, &args.id).await?;
        let tasks: i64 = self.store.task_counts(p.user_id, project.id).await?.iter().map(|(_, n)| n).sum();
        if tasks > 0 && !args.cascade {
            return Err(ServiceError::Conflict(format!(
                "Project \"{}\" still has {tasks} task(s). Move or delete them first, or delete the project with cascade set to true (`cascade: true`; over HTTP, `?cascade=true`) to delete its tasks too.",
                project.name
            )));
        }
        let activity = self.activity(p, "project", project.id, &project.name, "deleted");
        let Some(deletion) = self.store.delete_project(p.user_id, project.id, &activity).await? else {
            return Err(not_found("project", &args.id));
        };
        Ok(DeletedProject {
            id: project.id,
            deleted: true,
            deleted_tasks: tasks,
            detached_notes: deletion.notes_detached,
            removed_tags: project.tags,
        })
    }

    /// Every non-archived project with its open-task count (the `navis://projects/all` resource).
    pub async fn all_projects_with_open_counts(&self, p: &Principal) -> ServiceResult<Vec<(ProjectView, i64)>> {
        let mut projects = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.list_projects(p.user_id, None, false, after, 500).await?;
            projects.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let ids: Vec<Uuid> = projects.iter().map(|p| p.id).collect();
        let mut counts = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            counts.extend(self.store.open_task_counts(p.user_id, chunk).await?);
        }
        Ok(projects
            .into_iter()
            .map(|pr| {
                let n = counts.get(&pr.id).copied().unwrap_or(0);
                (pr.into(), n)
            })
            .collect())
    }
}
