//! `get_workspace_summary` (and the resource `navis://workspace/summary`): the user's workspace
//! at a glance — counts of every kind of item, open tasks due today or overdue ("today" in the
//! user's time zone), the next 7 days' events, the active goals with their progress, and the
//! latest changes.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::activity::{ActivityView, ListActivityArgs};
use super::calendar::EventView;
use super::goals::{GoalStatus, GoalView, ListGoalsArgs};
use super::me::NoArgs;
use super::tasks::TaskView;
use crate::service::{App, Principal, ServiceResult};

/// At most this many tasks in each of `due_today` and `overdue` (their counts are complete).
const TASKS_SHOWN: usize = 50;
/// At most this many active goals and recent changes.
const GOALS_SHOWN: u32 = 20;
const ACTIVITY_SHOWN: u32 = 10;

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskCounts {
    /// Every task, whatever its status.
    pub total: i64,
    /// By status: backlog, todo, in_progress, in_review, done (each present, 0 if none).
    pub by_status: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GoalCounts {
    pub total: i64,
    /// By status: active, achieved, abandoned (each present, 0 if none).
    pub by_status: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WorkspaceCounts {
    pub projects: i64,
    pub tasks: TaskCounts,
    pub notes: i64,
    pub events: i64,
    pub goals: GoalCounts,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WorkspaceSummary {
    /// The user's IANA time zone, in which `today` is read.
    pub time_zone: String,
    /// Today's date in the user's time zone.
    pub today: NaiveDate,
    pub counts: WorkspaceCounts,
    /// How many open tasks are due today.
    pub due_today_count: usize,
    /// Open tasks due today (at most 50).
    pub due_today: Vec<TaskView>,
    /// How many open tasks were due before today.
    pub overdue_count: usize,
    /// Open tasks due before today, oldest due date first (at most 50).
    pub overdue: Vec<TaskView>,
    /// From now to 7 days later; the events in it, by start time, in the user's time zone.
    pub upcoming_from: DateTime<Utc>,
    pub upcoming_to: DateTime<Utc>,
    pub upcoming_events: Vec<EventView>,
    /// Active goals (at most 20, newest first), each with its progress.
    pub active_goals: Vec<GoalView>,
    /// The latest changes across every kind of item, newest first (at most 10).
    pub recent_activity: Vec<ActivityView>,
}

fn with_every(statuses: &[&str], counted: Vec<(String, i64)>) -> (i64, BTreeMap<String, i64>) {
    let mut by_status: BTreeMap<String, i64> = statuses.iter().map(|s| ((*s).to_owned(), 0)).collect();
    for (status, n) in counted {
        *by_status.entry(status).or_default() += n;
    }
    (by_status.values().sum(), by_status)
}

impl App {
    pub async fn get_workspace_summary(&self, p: &Principal, _args: NoArgs) -> ServiceResult<WorkspaceSummary> {
        let c = self.store.workspace_counts(p.user_id).await?;
        let (tasks_total, tasks_by_status) = with_every(&["backlog", "todo", "in_progress", "in_review", "done"], c.tasks);
        let (goals_total, goals_by_status) = with_every(&["active", "achieved", "abandoned"], c.goals);
        let (today, due) = self.tasks_due_by_today(p).await?;
        let (overdue, due_today): (Vec<_>, Vec<_>) = due.into_iter().partition(|t| t.due_date.is_some_and(|d| d < today));
        let (tz, from, to, events) = self.upcoming_events(p).await?;
        let goals = self.list_goals(p, ListGoalsArgs { status: Some(GoalStatus::Active), limit: Some(GOALS_SHOWN), cursor: None }).await?;
        let activity = self.list_recent_activity(p, ListActivityArgs { limit: Some(ACTIVITY_SHOWN), cursor: None }).await?;
        Ok(WorkspaceSummary {
            time_zone: tz.name().to_owned(),
            today,
            counts: WorkspaceCounts {
                projects: c.projects,
                tasks: TaskCounts { total: tasks_total, by_status: tasks_by_status },
                notes: c.notes,
                events: c.events,
                goals: GoalCounts { total: goals_total, by_status: goals_by_status },
            },
            due_today_count: due_today.len(),
            due_today: due_today.into_iter().take(TASKS_SHOWN).map(TaskView::from).collect(),
            overdue_count: overdue.len(),
            overdue: overdue.into_iter().take(TASKS_SHOWN).map(TaskView::from).collect(),
            upcoming_from: from,
            upcoming_to: to,
            upcoming_events: events,
            active_goals: goals.goals,
            recent_activity: activity.activity,
        })
    }
}
