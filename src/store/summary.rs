//! `get_workspace_summary`: how many of each kind of item a user has, one query per kind (tasks
//! and goals by status).
use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use super::sql::{Backend, Stmt};

/// The user's items, counted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts {
    pub projects: i64,
    /// (status, count) for each task status the user has tasks in.
    pub tasks: Vec<(String, i64)>,
    pub notes: i64,
    pub events: i64,
    /// (status, count) for each goal status the user has goals in.
    pub goals: Vec<(String, i64)>,
}

#[async_trait]
pub trait SummaryStore: Send + Sync {
    async fn workspace_counts(&self, user_id: Uuid) -> StoreResult<Counts>;
}

async fn count<B: Backend>(db: &B, sql: &'static str, user_id: Uuid) -> StoreResult<i64> {
    Ok(db.fetch_optional(Stmt::new(sql).bind(user_id), |r| r.int("n")).await?.unwrap_or(0))
}

async fn by_status<B: Backend>(db: &B, sql: &'static str, user_id: Uuid) -> StoreResult<Vec<(String, i64)>> {
    db.fetch_all(Stmt::new(sql).bind(user_id), |r| Ok((r.text("status")?, r.int("n")?))).await
}

#[async_trait]
impl<B: Backend> SummaryStore for B {
    async fn workspace_counts(&self, user_id: Uuid) -> StoreResult<Counts> {
        Ok(Counts {
            projects: count(self, "SELECT COUNT(*) AS n FROM projects WHERE user_id = ?", user_id).await?,
            tasks: by_status(self, "SELECT status, COUNT(*) AS n FROM tasks WHERE user_id = ? GROUP BY status ORDER BY status", user_id)
                .await?,
            notes: count(self, "SELECT COUNT(*) AS n FROM notes WHERE user_id = ?", user_id).await?,
            events: count(self, "SELECT COUNT(*) AS n FROM events WHERE user_id = ?", user_id).await?,
            goals: by_status(self, "SELECT status, COUNT(*) AS n FROM goals WHERE user_id = ? GROUP BY status ORDER BY status", user_id)
                .await?,
        })
    }
}
