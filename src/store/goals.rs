//! Goals and their links to projects and tasks. A goal's progress is derived, in SQL, from the
//! tasks that count towards it (`GoalStore::goal_progress`) whenever there are any.
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::sql::{Backend, Cols, Stmt, Tx, project_from, record, recorded, task_from};
use super::{Activity, Page, Project, Record, StoreResult, Task, page};

#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: String,
    pub target_date: Option<NaiveDate>,
    /// Progress set by hand (0–100), shown while no task counts towards the goal.
    pub progress: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a goal can be linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalItem {
    Project,
    Task,
}

impl GoalItem {
    fn link(self) -> &'static str {
        match self {
            GoalItem::Project => {
                "INSERT INTO goal_projects (user_id, goal_id, project_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
            }
            GoalItem::Task => "INSERT INTO goal_tasks (user_id, goal_id, task_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        }
    }

    fn unlink(self) -> &'static str {
        match self {
            GoalItem::Project => "DELETE FROM goal_projects WHERE user_id = ? AND goal_id = ? AND project_id = ?",
            GoalItem::Task => "DELETE FROM goal_tasks WHERE user_id = ? AND goal_id = ? AND task_id = ?",
        }
    }
}

/// The tasks that count towards a goal: those linked to it and those of the projects linked to
/// it, each once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskTally {
    pub total: i64,
    pub done: i64,
}

/// The links a deleted goal took with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemovedLinks {
    pub projects: u64,
    pub tasks: u64,
}

pub(super) fn goal_from(row: &dyn Cols) -> StoreResult<Goal> {
    Ok(Goal {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        title: row.text("title")?,
        description: row.text("description")?,
        status: row.text("status")?,
        target_date: row.opt_date("target_date")?,
        progress: row.int("progress")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

/// Appends `(?, ?, …)` with the ids.
fn in_list<'a>(mut q: Stmt<'a>, ids: &[Uuid]) -> Stmt<'a> {
    for (i, id) in ids.iter().enumerate() {
        q = q.push_bind(if i == 0 { "(?" } else { ", ?" }, *id);
    }
    q.push(")")
}

#[async_trait]
pub trait GoalStore: Send + Sync {
    async fn insert_goal(&self, goal: &Goal, activity: &Activity) -> StoreResult<()>;
    async fn goal(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Goal>>;
    /// Newest first, of one status or all, after the given id.
    async fn list_goals(&self, user_id: Uuid, status: Option<&str>, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Goal>>;
    /// The task tally of each given goal that has tasks counting towards it.
    async fn goal_progress(&self, user_id: Uuid, goal_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, TaskTally)>>;
    /// Updates the goal and records `activity`; false (and no record) if the user has no such goal.
    async fn update_goal(&self, goal: &Goal, activity: &Activity) -> StoreResult<bool>;
    /// Deletes the goal and its links and records `activity`, in one transaction; `None` if the
    /// user has no such goal.
    async fn delete_goal(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<Option<RemovedLinks>>;
    /// Links (or unlinks) a project or task of the user's to a goal of the user's and records
    /// `activity` (whose time is the link's); false (and no record) if it already was (or was
    /// not) linked.
    async fn set_goal_link(
        &self,
        user_id: Uuid,
        goal_id: Uuid,
        item: GoalItem,
        item_id: Uuid,
        linked: bool,
        activity: &Activity,
    ) -> StoreResult<bool>;
    /// The projects linked to the goal, oldest link first (at most `limit`).
    async fn goal_projects(&self, user_id: Uuid, goal_id: Uuid, limit: u32) -> StoreResult<Vec<Project>>;
    /// The tasks linked to the goal itself, oldest link first (at most `limit`).
    async fn goal_tasks(&self, user_id: Uuid, goal_id: Uuid, limit: u32) -> StoreResult<Vec<Task>>;
}

#[async_trait]
impl<B: Backend> GoalStore for B {
    async fn insert_goal(&self, g: &Goal, activity: &Activity) -> StoreResult<()> {
        let insert = Stmt::new(
            "INSERT INTO goals (id, user_id, title, description, status, target_date, progress, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(g.id)
        .bind(g.user_id)
        .bind(&g.title)
        .bind(&g.description)
        .bind(&g.status)
        .bind(g.target_date)
        .bind(g.progress)
        .bind(g.created_at)
        .bind(g.updated_at);
        recorded(self, insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn goal(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Goal>> {
        self.fetch_optional(Stmt::new("SELECT * FROM goals WHERE id = ? AND user_id = ?").bind(id).bind(user_id), goal_from).await
    }

    async fn list_goals(&self, user_id: Uuid, status: Option<&str>, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Goal>> {
        let mut q = Stmt::new("SELECT * FROM goals WHERE user_id = ?").bind(user_id);
        if let Some(status) = status {
            q = q.push_bind(" AND status = ?", status);
        }
        if let Some(after) = after {
            q = q.push_bind(" AND id < ?", after);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), goal_from).await?;
        Ok(page(items, limit, |g| g.id))
    }

    async fn goal_progress(&self, user_id: Uuid, goal_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, TaskTally)>> {
        if goal_ids.is_empty() {
            return Ok(Vec::new());
        }
        // UNION: a task linked directly and through its project counts once.
        let q = Stmt::new(
            "SELECT c.goal_id, COUNT(*) AS total, SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END) AS done FROM (\
             SELECT goal_id, task_id FROM goal_tasks WHERE user_id = ? AND goal_id IN ",
        )
        .bind(user_id);
        let q = in_list(q, goal_ids).push_bind(
            " UNION SELECT l.goal_id, t.id AS task_id FROM goal_projects l JOIN tasks t ON t.user_id = l.user_id AND t.project_id = l.project_id \
             WHERE l.user_id = ? AND l.goal_id IN ",
            user_id,
        );
        let q = in_list(q, goal_ids).push_bind(") c JOIN tasks t ON t.user_id = ? AND t.id = c.task_id GROUP BY c.goal_id", user_id);
        self.fetch_all(q, |r| Ok((r.uuid("goal_id")?, TaskTally { total: r.int("total")?, done: r.int("done")? }))).await
    }

    async fn update_goal(&self, g: &Goal, activity: &Activity) -> StoreResult<bool> {
        let update = Stmt::new(
            "UPDATE goals SET title = ?, description = ?, status = ?, target_date = ?, progress = ?, updated_at = ? WHERE id = ? AND user_id = ?",
        )
        .bind(&g.title)
        .bind(&g.description)
        .bind(&g.status)
        .bind(g.target_date)
        .bind(g.progress)
        .bind(g.updated_at)
        .bind(g.id)
        .bind(g.user_id);
        recorded(self, update, Record::Activity(activity)).await
    }

    async fn delete_goal(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<Option<RemovedLinks>> {
        // The foreign keys would remove the links too; deleting them first counts them.
        let mut tx = self.begin().await?;
        let projects = tx.execute(Stmt::new("DELETE FROM goal_projects WHERE user_id = ? AND goal_id = ?").bind(user_id).bind(id)).await?;
        let tasks = tx.execute(Stmt::new("DELETE FROM goal_tasks WHERE user_id = ? AND goal_id = ?").bind(user_id).bind(id)).await?;
        let deleted = tx.execute(Stmt::new("DELETE FROM goals WHERE id = ? AND user_id = ?").bind(id).bind(user_id)).await? > 0;
        if deleted {
            tx.execute(record(Record::Activity(activity))).await?;
        }
        tx.commit().await?;
        Ok(deleted.then_some(RemovedLinks { projects, tasks }))
    }

    async fn set_goal_link(
        &self,
        user_id: Uuid,
        goal_id: Uuid,
        item: GoalItem,
        item_id: Uuid,
        linked: bool,
        activity: &Activity,
    ) -> StoreResult<bool> {
        let change = if linked {
            Stmt::new(item.link()).bind(user_id).bind(goal_id).bind(item_id).bind(activity.at)
        } else {
            Stmt::new(item.unlink()).bind(user_id).bind(goal_id).bind(item_id)
        };
        recorded(self, change, Record::Activity(activity)).await
    }

    async fn goal_projects(&self, user_id: Uuid, goal_id: Uuid, limit: u32) -> StoreResult<Vec<Project>> {
        let q = Stmt::new(
            "SELECT p.* FROM goal_projects l JOIN projects p ON p.user_id = l.user_id AND p.id = l.project_id \
             WHERE l.user_id = ? AND l.goal_id = ? ORDER BY l.created_at, p.id LIMIT ?",
        );
        self.fetch_all(q.bind(user_id).bind(goal_id).bind(limit), project_from).await
    }

    async fn goal_tasks(&self, user_id: Uuid, goal_id: Uuid, limit: u32) -> StoreResult<Vec<Task>> {
        let q = Stmt::new(
            "SELECT t.* FROM goal_tasks l JOIN tasks t ON t.user_id = l.user_id AND t.id = l.task_id \
             WHERE l.user_id = ? AND l.goal_id = ? ORDER BY l.created_at, t.id LIMIT ?",
        );
        self.fetch_all(q.bind(user_id).bind(goal_id).bind(limit), task_from).await
    }
}
