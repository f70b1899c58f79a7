//! Workflows' persistence (`WorkflowStore`): the workflows, their steps kept as JSON (the service
//! checks them before they are saved and reads them back), and the record of each run. A run's
//! steps make their tasks and notes through the tasks' and notes' own statements, each committed
//! as it goes; the run's record is written once the run is over, with its activity.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::sql::{Backend, Cols, Stmt, recorded};
use super::{Activity, Page, Record, StoreResult, page};

#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    /// The steps, as the service wrote them.
    pub steps: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRun {
    pub id: Uuid,
    pub user_id: Uuid,
    pub workflow_id: Uuid,
    /// `succeeded` or `failed`.
    pub status: String,
    /// 1-based; `None` when the run succeeded.
    pub failed_step: Option<i64>,
    pub summary: String,
    /// The run's input values, a JSON object of strings.
    pub input: serde_json::Value,
    /// Each step's outcome, as the service wrote them.
    pub steps: serde_json::Value,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

#[async_trait]
pub trait WorkflowStore: Send + Sync {
    async fn insert_workflow(&self, workflow: &Workflow, activity: &Activity) -> StoreResult<()>;
    async fn workflow(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Workflow>>;
    /// The user's workflows (only the enabled or disabled ones, if asked), newest first, after the given id.
    async fn list_workflows(&self, user_id: Uuid, enabled: Option<bool>, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Workflow>>;
    /// Writes the workflow's name, description, enabled and steps; false if it is gone.
    async fn update_workflow(&self, workflow: &Workflow, activity: &Activity) -> StoreResult<bool>;
    async fn insert_workflow_run(&self, run: &WorkflowRun, activity: &Activity) -> StoreResult<()>;
    /// One workflow's runs, newest first, after the given id.
    async fn list_workflow_runs(&self, user_id: Uuid, workflow_id: Uuid, after: Option<Uuid>, limit: u32)
    -> StoreResult<Page<WorkflowRun>>;
}

pub(super) fn workflow_from(row: &dyn Cols) -> StoreResult<Workflow> {
    Ok(Workflow {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        name: row.text("name")?,
        description: row.text("description")?,
        enabled: row.int("enabled")? != 0,
        steps: row.json("steps")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

pub(super) fn run_from(row: &dyn Cols) -> StoreResult<WorkflowRun> {
    Ok(WorkflowRun {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        workflow_id: row.uuid("workflow_id")?,
        status: row.text("status")?,
        failed_step: row.opt_int("failed_step")?,
        summary: row.text("summary")?,
        input: row.json("input")?,
        steps: row.json("steps")?,
        started_at: row.ts("started_at")?,
        finished_at: row.ts("finished_at")?,
    })
}

const WORKFLOWS: &str = "SELECT * FROM workflows WHERE user_id = ?";

#[async_trait]
impl<B: Backend> WorkflowStore for B {
    async fn insert_workflow(&self, w: &Workflow, activity: &Activity) -> StoreResult<()> {
        let insert = Stmt::new(
            "INSERT INTO workflows (id, user_id, name, description, enabled, steps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(w.id)
        .bind(w.user_id)
        .bind(&w.name)
        .bind(&w.description)
        .bind(i64::from(w.enabled))
        .bind(w.steps.clone())
        .bind(w.created_at)
        .bind(w.updated_at);
        recorded(self, insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn workflow(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Workflow>> {
        self.fetch_optional(Stmt::new(WORKFLOWS).bind(user_id).push_bind(" AND id = ?", id), workflow_from).await
    }

    async fn list_workflows(&self, user_id: Uuid, enabled: Option<bool>, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Workflow>> {
        let mut q = Stmt::new(WORKFLOWS).bind(user_id);
        if let Some(enabled) = enabled {
            q = q.push_bind(" AND enabled = ?", i64::from(enabled));
        }
        if let Some(after) = after {
            q = q.push_bind(" AND id < ?", after);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), workflow_from).await?;
        Ok(page(items, limit, |w| w.id))
    }

    async fn update_workflow(&self, w: &Workflow, activity: &Activity) -> StoreResult<bool> {
        let update = Stmt::new(
            "UPDATE workflows SET name = ?, description = ?, enabled = ?, steps = ?, updated_at = ? WHERE user_id = ? AND id = ?",
        )
        .bind(&w.name)
        .bind(&w.description)
        .bind(i64::from(w.enabled))
        .bind(w.steps.clone())
        .bind(w.updated_at)
        .bind(w.user_id)
        .bind(w.id);
        recorded(self, update, Record::Activity(activity)).await
    }

    async fn insert_workflow_run(&self, r: &WorkflowRun, activity: &Activity) -> StoreResult<()> {
        let insert = Stmt::new(
            "INSERT INTO workflow_runs (id, user_id, workflow_id, status, failed_step, summary, input, steps, started_at, finished_at) \
             VALUES (?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?)",
        )
        .bind(r.id)
        .bind(r.user_id)
        .bind(r.workflow_id)
        .bind(&r.status)
        .bind(r.failed_step.unwrap_or(0)) // steps count from 1: 0 is none
        .bind(&r.summary)
        .bind(r.input.clone())
        .bind(r.steps.clone())
        .bind(r.started_at)
        .bind(r.finished_at);
        recorded(self, insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn list_workflow_runs(
        &self,
        user_id: Uuid,
        workflow_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Page<WorkflowRun>> {
        let mut q = Stmt::new("SELECT * FROM workflow_runs WHERE user_id = ? AND workflow_id = ?").bind(user_id).bind(workflow_id);
        if let Some(after) = after {
            q = q.push_bind(" AND id < ?", after);
        }
        let runs = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), run_from).await?;
        Ok(page(runs, limit, |r| r.id))
    }
}
