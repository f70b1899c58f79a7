//! Reading a whole workspace out (`export_workspace`): every kind of item, a page at a time in id
//! order (keyset, so each page costs the same however deep the export is), with the rows
//! mapped as everywhere else.
use async_trait::async_trait;
use uuid::Uuid;

use super::calendar::event_from;
use super::goals::goal_from;
use super::inbox::item_from;
use super::notes::note_from;
use super::sql::{Backend, Map, Stmt, activity_from, comment_from, project_from, task_from};
use super::tags::tag_from;
use super::workflows::{run_from, workflow_from};
use super::{ActivityEntry, Comment, Event, InboxItem, Note, Project, StoreResult, Tag, Task, Workflow, WorkflowRun, goals::Goal};

/// The kinds of item an export holds, in the order it writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Projects,
    Tasks,
    Comments,
    Notes,
    Events,
    Goals,
    Inbox,
    Tags,
    Workflows,
    WorkflowRuns,
    Activity,
}

impl ExportKind {
    pub const ALL: [ExportKind; 11] = [
        ExportKind::Projects,
        ExportKind::Tasks,
        ExportKind::Comments,
        ExportKind::Notes,
        ExportKind::Events,
        ExportKind::Goals,
        ExportKind::Inbox,
        ExportKind::Tags,
        ExportKind::Workflows,
        ExportKind::WorkflowRuns,
        ExportKind::Activity,
    ];

    /// Its key in the export document.
    pub fn key(self) -> &'static str {
        match self {
            ExportKind::Projects => "projects",
            ExportKind::Tasks => "tasks",
            ExportKind::Comments => "comments",
            ExportKind::Notes => "notes",
            ExportKind::Events => "events",
            ExportKind::Goals => "goals",
            ExportKind::Inbox => "inbox",
            ExportKind::Tags => "tags",
            ExportKind::Workflows => "workflows",
            ExportKind::WorkflowRuns => "workflow_runs",
            ExportKind::Activity => "activity",
        }
    }

    fn table(self) -> &'static str {
        if self == ExportKind::Inbox { "inbox_items" } else { self.key() }
    }
}

/// One page of one kind.
#[derive(Debug)]
pub enum ExportRows {
    Projects(Vec<Project>),
    Tasks(Vec<Task>),
    Comments(Vec<Comment>),
    Notes(Vec<Note>),
    Events(Vec<Event>),
    Goals(Vec<Goal>),
    Inbox(Vec<InboxItem>),
    Tags(Vec<Tag>),
    Workflows(Vec<Workflow>),
    WorkflowRuns(Vec<WorkflowRun>),
    Activity(Vec<ActivityEntry>),
}

/// A goal's link to a project or a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalLinkRow {
    pub goal_id: Uuid,
    /// `project` or `task`.
    pub kind: &'static str,
    pub linked_id: Uuid,
}

#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Up to `limit` items of `kind` of the user, in id order, after `after`; also the last id read
    /// (the next page's `after`), `None` when the page is empty.
    async fn export_page(
        &self,
        user_id: Uuid,
        kind: ExportKind,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<(ExportRows, Option<Uuid>)>;
    /// The projects and tasks linked to these goals of the user.
    async fn goal_links(&self, user_id: Uuid, goal_ids: &[Uuid]) -> StoreResult<Vec<GoalLinkRow>>;
}

async fn page<B: Backend, T: Send + 'static>(
    b: &B,
    kind: ExportKind,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
    map: Map<T>,
    id: fn(&T) -> Uuid,
) -> StoreResult<(Vec<T>, Option<Uuid>)> {
    let mut q = Stmt::new("SELECT * FROM ").push(kind.table()).push_bind(" WHERE user_id = ?", user_id);
    if let Some(after) = after {
        q = q.push_bind(" AND id > ?", after);
    }
    let rows = b.fetch_all(q.push_bind(" ORDER BY id LIMIT ?", i64::from(limit)), map).await?;
    let last = rows.last().map(id);
    Ok((rows, last))
}

#[async_trait]
impl<B: Backend> ExportStore for B {
    async fn export_page(
        &self,
        user_id: Uuid,
        kind: ExportKind,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<(ExportRows, Option<Uuid>)> {
        let (u, a, l) = (user_id, after, limit);
        Ok(match kind {
            ExportKind::Projects => page(self, kind, u, a, l, project_from, |r| r.id).await.map(|(r, n)| (ExportRows::Projects(r), n))?,
            ExportKind::Tasks => page(self, kind, u, a, l, task_from, |r| r.id).await.map(|(r, n)| (ExportRows::Tasks(r), n))?,
            ExportKind::Comments => page(self, kind, u, a, l, comment_from, |r| r.id).await.map(|(r, n)| (ExportRows::Comments(r), n))?,
            ExportKind::Notes => page(self, kind, u, a, l, note_from, |r| r.id).await.map(|(r, n)| (ExportRows::Notes(r), n))?,
            ExportKind::Events => page(self, kind, u, a, l, event_from, |r| r.id).await.map(|(r, n)| (ExportRows::Events(r), n))?,
            ExportKind::Goals => page(self, kind, u, a, l, goal_from, |r| r.id).await.map(|(r, n)| (ExportRows::Goals(r), n))?,
            ExportKind::Inbox => page(self, kind, u, a, l, item_from, |r| r.id).await.map(|(r, n)| (ExportRows::Inbox(r), n))?,
            ExportKind::Tags => page(self, kind, u, a, l, tag_from, |r| r.id).await.map(|(r, n)| (ExportRows::Tags(r), n))?,
            ExportKind::Workflows => {
                page(self, kind, u, a, l, workflow_from, |r| r.id).await.map(|(r, n)| (ExportRows::Workflows(r), n))?
            }
            ExportKind::WorkflowRuns => {
                page(self, kind, u, a, l, run_from, |r| r.id).await.map(|(r, n)| (ExportRows::WorkflowRuns(r), n))?
            }
            ExportKind::Activity => page(self, kind, u, a, l, activity_from, |r| r.id).await.map(|(r, n)| (ExportRows::Activity(r), n))?,
        })
    }

    async fn goal_links(&self, user_id: Uuid, goal_ids: &[Uuid]) -> StoreResult<Vec<GoalLinkRow>> {
        let mut links = Vec::new();
        if goal_ids.is_empty() {
            return Ok(links);
        }
        for (kind, table, column) in [("project", "goal_projects", "project_id"), ("task", "goal_tasks", "task_id")] {
            let select = Stmt::new("SELECT goal_id, ").push(column).push(" AS linked_id FROM ").push(table);
            let mut q = select.push_bind(" WHERE user_id = ? AND goal_id IN (", user_id);
            for (i, id) in goal_ids.iter().enumerate() {
                q = q.push_bind(if i == 0 { "?" } else { ", ?" }, *id);
            }
            let rows = self.fetch_all(q.push(") ORDER BY goal_id, created_at"), |r| Ok((r.uuid("goal_id")?, r.uuid("linked_id")?))).await?;
            links.extend(rows.into_iter().map(|(goal_id, linked_id)| GoalLinkRow { goal_id, kind, linked_id }));
        }
        Ok(links)
    }
}
