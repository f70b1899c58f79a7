//! Tasks: list (with filters), get (with comments), create, create many, update, complete, delete.
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    CURSOR_PATTERN, REQUIRED_TEXT, TEXT, decode_cursor, encode_cursor, in_field, no_nul, not_found, nullable, optional_text, page_limit,
    parse_id, required_text, tags::clean_tags,
};
use crate::core::rfc3339;
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::{Task, TaskFilter};

const MAX_TITLE: usize = 500;
const MAX_DESCRIPTION: usize = 50_000;
pub const MAX_BATCH: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Backlog,
    Todo,
    InProgress,
    InReview,
    Done,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Backlog => "backlog",
            TaskStatus::Todo => "todo",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::InReview => "in_review",
            TaskStatus::Done => "done",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskView {
    pub id: Uuid,
    pub project_id: Option<Uuid>,
    /// The meeting (calendar event) it is a follow-up of.
    pub event_id: Option<Uuid>,
    pub title: String,
    /// Markdown.
    pub description: String,
    /// One of backlog, todo, in_progress, in_review, done.
    pub status: String,
    /// One of low, medium, high, urgent.
    pub priority: String,
    #[serde(serialize_with = "rfc3339::opt_date")]
    pub due_date: Option<NaiveDate>,
    pub assignee: Option<String>,
    #[serde(serialize_with = "rfc3339::opt_ts")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Its tags' names, as the tags spell them.
    pub tags: Vec<String>,
    #[serde(serialize_with = "rfc3339::ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::ts")]
    pub updated_at: DateTime<Utc>,
}

impl From<Task> for TaskView {
    fn from(t: Task) -> Self {
        Self {
            id: t.id,
            project_id: t.project_id,
            event_id: t.event_id,
            title: t.title,
            description: t.description,
            status: t.status,
            priority: t.priority,
            due_date: t.due_date,
            assignee: t.assignee,
            completed_at: t.completed_at,
            tags: t.tags,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CommentView {
    pub id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: TaskView,
    pub comments: Vec<CommentView>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskList {
    pub tasks: Vec<TaskView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreatedTasks {
    pub tasks: Vec<TaskView>,
    pub created: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeletedTask {
    pub id: Uuid,
    pub deleted: bool,
    /// The tags the task carried (the tags themselves remain). Its comments are deleted with it.
    pub removed_tags: Vec<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListTasksArgs {
    /// Only tasks of this project (UUID).
    pub project_id: Option<String>,
    /// Only the follow-ups of this meeting (the event's UUID).
    pub event_id: Option<String>,
    /// Only tasks in this status. Done tasks are left out unless asked for here or with include_done.
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    /// Due on or after this date (YYYY-MM-DD).
    pub due_after: Option<NaiveDate>,
    /// Due on or before this date (YYYY-MM-DD).
    pub due_before: Option<NaiveDate>,
    /// Only tasks carrying this tag (its name, in any case).
    #[schemars(regex(pattern = TEXT))]
    pub tag: Option<String>,
    #[schemars(regex(pattern = TEXT))]
    pub assignee: Option<String>,
    /// Text to find in the title or description.
    #[schemars(regex(pattern = TEXT))]
    pub text: Option<String>,
    /// Include done tasks (default false).
    #[serde(default)]
    pub include_done: bool,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskIdArgs {
    /// The task's id (UUID).
    pub id: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct CreateTaskArgs {
    #[schemars(length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    #[schemars(length(max = 50_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    /// The project the task belongs to (UUID); none for a loose task.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Defaults to todo.
    #[serde(default)]
    pub status: Option<TaskStatus>,
    /// Defaults to medium.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// YYYY-MM-DD
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    #[schemars(length(max = 200), regex(pattern = TEXT))]
    pub assignee: Option<String>,
    /// Tag names; a name no tag has yet makes that tag. Names differing only in case are one tag.
    #[serde(default)]
    #[schemars(length(max = 20), inner(length(max = 50), regex(pattern = TEXT)))]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateTasksArgs {
    /// 1 to 50 tasks, created all together or not at all.
    #[schemars(length(min = 1, max = 50))]
    pub tasks: Vec<CreateTaskArgs>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateTaskArgs {
    /// The task's id (UUID).
    pub id: String,
    #[serde(default)]
    #[schemars(with = "String", length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub title: Option<String>,
    /// Markdown.
    #[serde(default)]
    #[schemars(with = "String", length(max = 50_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    /// Move to this project (UUID), or null to detach.
    #[serde(default, deserialize_with = "nullable")]
    pub project_id: Option<Option<String>>,
    #[serde(default)]
    #[schemars(with = "TaskStatus")]
    pub status: Option<TaskStatus>,
    #[serde(default)]
    #[schemars(with = "Priority")]
    pub priority: Option<Priority>,
    /// YYYY-MM-DD, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    pub due_date: Option<Option<NaiveDate>>,
    /// A name, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(length(max = 200), regex(pattern = TEXT))]
    pub assignee: Option<Option<String>>,
    /// Replaces the task's tags (names; a name no tag has yet makes that tag).
    #[serde(default)]
    #[schemars(with = "Vec<String>", length(max = 20), inner(length(max = 50), regex(pattern = TEXT)))]
    pub tags: Option<Vec<String>>,
}

fn clean_assignee(assignee: Option<String>) -> ServiceResult<Option<String>> {
    assignee.map(|a| optional_text("assignee", &a, 200).map(|a| a.trim().to_owned())).transpose().map(|a| a.filter(|a| !a.is_empty()))
}

impl App {
    /// A task's `project_id` field: an unknown (or another user's) project is a bad field of this
    /// request (422 over HTTP), not a missing resource at its URL (404).
    async fn own_project_id(&self, p: &Principal, project_id: Option<&str>) -> ServiceResult<Option<Uuid>> {
        match project_id {
            None => Ok(None),
            Some(id) => Ok(Some(in_field("project_id", self.own_project(p, id).await)?.id)),
        }
    }

    pub(crate) async fn own_task(&self, p: &Principal, id: &str) -> ServiceResult<Task> {
        let uuid = parse_id("task", id)?;
        self.store.task(p.user_id, uuid).await?.ok_or_else(|| not_found("task", id))
    }

    pub async fn list_tasks(&self, p: &Principal, args: ListTasksArgs) -> ServiceResult<TaskList> {
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        let project_id = match args.project_id.as_deref() {
            // Listing by an unknown or foreign project id is an empty list only if the id is ours.
            Some(id) => Some(self.own_project(p, id).await?.id),
            None => None,
        };
        for (field, value) in [("tag", &args.tag), ("assignee", &args.assignee), ("text", &args.text)] {
            no_nul(field, value.as_deref().unwrap_or_default())?;
        }
        let filter = TaskFilter {
            project_id,
            event_id: args.event_id.as_deref().map(|id| parse_id("event", id)).transpose()?,
            statuses: args.status.map(|s| vec![s.as_str().to_owned()]).unwrap_or_default(),
            priority: args.priority.map(|x| x.as_str().to_owned()),
            due_from: args.due_after,
            due_to: args.due_before,
            tag: args.tag.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
            assignee: args.assignee.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()),
            text: args.text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
            include_done: args.include_done,
        };
        let page = self.store.list_tasks(p.user_id, &filter, after, limit).await?;
        Ok(TaskList { tasks: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next.map(encode_cursor) })
    }

    pub async fn get_task(&self, p: &Principal, args: TaskIdArgs) -> ServiceResult<TaskDetail> {
        let task = self.own_task(p, &args.id).await?;
        let comments = self.store.list_comments(p.user_id, task.id, None, 1000).await?.items;
        Ok(TaskDetail {
            task: task.into(),
            comments: comments.into_iter().map(|c| CommentView { id: c.id, body: c.body, created_at: c.created_at }).collect(),
        })
    }

    pub(crate) async fn new_task(&self, p: &Principal, args: CreateTaskArgs, now: DateTime<Utc>) -> ServiceResult<Task> {
        let status = args.status.unwrap_or(TaskStatus::Todo);
        Ok(Task {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            project_id: self.own_project_id(p, args.project_id.as_deref()).await?,
            event_id: None,
            title: required_text("title", &args.title, MAX_TITLE)?,
            description: optional_text("description", args.description.as_deref().unwrap_or(""), MAX_DESCRIPTION)?,
            status: status.as_str().to_owned(),
            priority: args.priority.unwrap_or(Priority::Medium).as_str().to_owned(),
            due_date: args.due_date,
            assignee: clean_assignee(args.assignee)?,
            completed_at: (status == TaskStatus::Done).then_some(now),
            tags: clean_tags(args.tags.unwrap_or_default())?,
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn create_task(&self, p: &Principal, args: CreateTaskArgs) -> ServiceResult<TaskView> {
        let mut task = self.new_task(p, args, self.now()).await?;
        let activity = self.activity(p, "task", task.id, &task.title, "created");
        self.store.insert_tasks(std::slice::from_mut(&mut task), &[activity]).await?;
        Ok(task.into())
    }

    /// All or nothing: every task is validated before any is written, and they are written in one transaction.
    pub async fn create_tasks(&self, p: &Principal, args: CreateTasksArgs) -> ServiceResult<CreatedTasks> {
        let mut tasks = self.new_tasks(p, "tasks", args.tasks).await?;
        let activities: Vec<_> = tasks.iter().map(|t| self.activity(p, "task", t.id, &t.title, "created")).collect();
        self.store.insert_tasks(&mut tasks, &activities).await?;
        Ok(CreatedTasks { created: tasks.len(), tasks: tasks.into_iter().map(Into::into).collect() })
    }

    /// The tasks a batch describes, every one checked (nothing is written); an error names the
    /// batch's field and the task's place in it (`tasks[2].due_date`).
    pub(crate) async fn new_tasks(&self, p: &Principal, field: &str, batch: Vec<CreateTaskArgs>) -> ServiceResult<Vec<Task>> {
        if batch.is_empty() || batch.len() > MAX_BATCH {
            return Err(ServiceError::field(field, format!("{field} must hold between 1 and {MAX_BATCH} tasks (got {}).", batch.len())));
        }
        let now = self.now();
        let mut tasks = Vec::with_capacity(batch.len());
        for (i, t) in batch.into_iter().enumerate() {
            let task = self.new_task(p, t, now).await.map_err(|e| match e {
                ServiceError::Invalid(m) => ServiceError::Invalid(format!("{field}[{i}]: {m} No task was created.")),
                ServiceError::InvalidField { field: inner, message } => {
                    ServiceError::field(format!("{field}[{i}].{inner}"), format!("{field}[{i}]: {message} No task was created."))
                }
                ServiceError::NotFound(m) => ServiceError::NotFound(format!("{field}[{i}]: {m} No task was created.")),
                other => other,
            })?;
            tasks.push(task);
        }
        Ok(tasks)
    }

    pub async fn update_task(&self, p: &Principal, args: UpdateTaskArgs) -> ServiceResult<TaskView> {
        let mut task = self.own_task(p, &args.id).await?;
        let now = self.now();
        if let Some(title) = &args.title {
            task.title = required_text("title", title, MAX_TITLE)?;
        }
        if let Some(description) = &args.description {
            task.description = optional_text("description", description, MAX_DESCRIPTION)?;
        }
        if let Some(project_id) = &args.project_id {
            task.project_id = self.own_project_id(p, project_id.as_deref()).await?;
        }
        let mut action = "updated";
        if let Some(status) = args.status {
            set_status(&mut task, status, now);
            if status == TaskStatus::Done {
                action = "completed";
            }
        }
        if let Some(priority) = args.priority {
            task.priority = priority.as_str().to_owned();
        }
        if let Some(due) = args.due_date {
            task.due_date = due;
        }
        if let Some(assignee) = args.assignee {
            task.assignee = clean_assignee(assignee)?;
        }
        let set_tags = args.tags.is_some();
        if let Some(tags) = args.tags {
            task.tags = clean_tags(tags)?;
        }
        task.updated_at = now;
        let activity = self.activity(p, "task", task.id, &task.title, action);
        if !self.store.update_task(&mut task, set_tags, &activity).await? {
            return Err(not_found("task", &args.id));
        }
        Ok(task.into())
    }

    pub async fn complete_task(&self, p: &Principal, args: TaskIdArgs) -> ServiceResult<TaskView> {
        let mut task = self.own_task(p, &args.id).await?;
        if task.status == "done" {
            return Ok(task.into());
        }
        let now = self.now();
        set_status(&mut task, TaskStatus::Done, now);
        task.updated_at = now;
        let activity = self.activity(p, "task", task.id, &task.title, "completed");
        if !self.store.update_task(&mut task, false, &activity).await? {
            return Err(not_found("task", &args.id));
        }
        Ok(task.into())
    }

    pub async fn delete_task(&self, p: &Principal, args: TaskIdArgs) -> ServiceResult<DeletedTask> {
        let task = self.own_task(p, &args.id).await?;
        if !self.store.delete_task(p.user_id, task.id, &self.activity(p, "task", task.id, &task.title, "deleted")).await? {
            return Err(not_found("task", &args.id));
        }
        Ok(DeletedTask { id: task.id, deleted: true, removed_tags: task.tags })
    }

    /// Open tasks due today or earlier (the `navis://tasks/today` resource), today in the user's time zone.
    pub async fn tasks_due_by_today(&self, p: &Principal) -> ServiceResult<(NaiveDate, Vec<Task>)> {
        let today = self.today(p.user_id).await?;
        let filter = TaskFilter { due_to: Some(today), ..TaskFilter::default() };
        let mut tasks = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.list_tasks(p.user_id, &filter, after, 500).await?;
            tasks.extend(page.items);
            match page.next {
                Some(next) if tasks.len() < 5_000 => after = Some(next),
                _ => break,
            }
        }
        tasks.sort_by(|a, b| a.due_date.cmp(&b.due_date).then_with(|| a.id.cmp(&b.id)));
        Ok((today, tasks))
    }

    /// Up to `limit` open tasks of one project (the `navis://projects/{id}/tasks` resource).
    pub async fn open_project_tasks(
        &self,
        p: &Principal,
        project_id: &str,
        limit: u32,
    ) -> ServiceResult<(crate::store::Project, Vec<Task>)> {
        let project = self.own_project(p, project_id).await?;
        let filter = TaskFilter { project_id: Some(project.id), ..TaskFilter::default() };
        let page = self.store.list_tasks(p.user_id, &filter, None, limit).await?;
        Ok((project, page.items))
    }
}

/// Done sets `completed_at`; leaving done clears it.
fn set_status(task: &mut Task, status: TaskStatus, now: DateTime<Utc>) {
    if status == TaskStatus::Done && task.status != "done" {
        task.completed_at = Some(now);
    } else if status != TaskStatus::Done {
        task.completed_at = None;
    }
    task.status = status.as_str().to_owned();
}
