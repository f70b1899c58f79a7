//! Goals: list, get (with linked projects and tasks), create, update, delete, and linking
//! projects and tasks to them.
//!
//! Progress: the tasks that count towards a goal are those linked to it and those of the
//! projects linked to it (each once). While any count, progress is the share of them that are
//! done, rounded down (100 only when all are), computed by the store at every read, so it is
//! never stale. While none count, progress is the value set by hand (0 by default), which
//! `update_goal` may change only then.
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use uuid::Uuid;

use super::{
    CURSOR_PATTERN, REQUIRED_TEXT, TEXT, decode_cursor, encode_cursor, not_found, nullable, optional_text, page_limit, parse_id,
    required_text,
};
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::goals::{Goal, GoalItem, TaskTally};

const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
/// Linked projects and tasks shown by `get_goal` (each kind); progress counts them all.
const SHOWN_LINKS: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    Active,
    Achieved,
    Abandoned,
}

impl GoalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GoalStatus::Active => "active",
            GoalStatus::Achieved => "achieved",
            GoalStatus::Abandoned => "abandoned",
        }
    }
}

/// What `link_to_goal` links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalItemType {
    Project,
    Task,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressSource {
    /// The share of done tasks among those that count towards the goal.
    Tasks,
    /// Set by hand: no task counts towards the goal.
    Manual,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GoalView {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    /// One of active, achieved, abandoned.
    pub status: String,
    pub target_date: Option<NaiveDate>,
    /// 0–100. Derived from the tasks that count towards the goal when there are any (see
    /// `progress_source`), else as set by hand.
    pub progress: u32,
    pub progress_source: ProgressSource,
    /// Tasks that count towards the goal: linked to it, or in a project linked to it.
    pub tasks_total: i64,
    /// How many of them are done.
    pub tasks_done: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn goal_view(g: Goal, tally: TaskTally) -> GoalView {
    let (progress, progress_source) = if tally.total > 0 {
        (u32::try_from(tally.done * 100 / tally.total).unwrap_or(0), ProgressSource::Tasks)
    } else {
        (u32::try_from(g.progress).unwrap_or(0), ProgressSource::Manual)
    };
    GoalView {
        id: g.id,
        title: g.title,
        description: g.description,
        status: g.status,
        target_date: g.target_date,
        progress,
        progress_source,
        tasks_total: tally.total,
        tasks_done: tally.done,
        created_at: g.created_at,
        updated_at: g.updated_at,
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GoalList {
    pub goals: Vec<GoalView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LinkedProject {
    pub id: Uuid,
    pub name: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LinkedTask {
    pub id: Uuid,
    pub title: String,
    pub status: String,
    pub project_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GoalDetail {
    #[serde(flatten)]
    pub goal: GoalView,
    /// Projects linked to the goal (their tasks count towards it), oldest link first, at most 500.
    pub projects: Vec<LinkedProject>,
    /// Tasks linked to the goal itself, oldest link first, at most 500.
    pub tasks: Vec<LinkedTask>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeletedGoal {
    pub id: Uuid,
    pub deleted: bool,
    /// Links to projects removed with the goal (the projects stay).
    pub unlinked_projects: u64,
    /// Links to tasks removed with the goal (the tasks stay).
    pub unlinked_tasks: u64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GoalLink {
    pub item_type: GoalItemType,
    pub item_id: Uuid,
    /// Whether the item is linked to the goal now.
    pub linked: bool,
    /// False when it already was (or, to unlink, was not) linked: nothing changed.
    pub changed: bool,
    /// The goal as it is now, progress included.
    pub goal: GoalView,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListGoalsArgs {
    /// Only goals in this status (default: all).
    pub status: Option<GoalStatus>,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GoalIdArgs {
    /// The goal's id (UUID).
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateGoalArgs {
    #[schemars(length(min = 1, max = 200), regex(pattern = REQUIRED_TEXT))]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    #[schemars(length(max = 20_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    /// Defaults to active.
    #[serde(default)]
    pub status: Option<GoalStatus>,
    /// YYYY-MM-DD
    #[serde(default)]
    pub target_date: Option<NaiveDate>,
    /// 0–100, by hand (default 0); once tasks count towards the goal, progress follows them.
    #[serde(default, deserialize_with = "whole_number")]
    #[schemars(range(min = 0, max = 100))]
    pub progress: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateGoalArgs {
    /// The goal's id (UUID).
    pub id: String,
    #[serde(default)]
    #[schemars(with = "String", length(min = 1, max = 200), regex(pattern = REQUIRED_TEXT))]
    pub title: Option<String>,
    /// Markdown.
    #[serde(default)]
    #[schemars(with = "String", length(max = 20_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    #[serde(default)]
    #[schemars(with = "GoalStatus")]
    pub status: Option<GoalStatus>,
    /// YYYY-MM-DD, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    pub target_date: Option<Option<NaiveDate>>,
    /// 0–100, by hand: only while no task counts towards the goal (no linked task, no task in a
    /// linked project); otherwise progress follows the tasks and this is refused.
    #[serde(default, deserialize_with = "whole_number")]
    #[schemars(with = "u32", range(min = 0, max = 100))]
    pub progress: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LinkToGoalArgs {
    /// The goal's id (UUID).
    pub goal_id: String,
    /// What to link: a project (all its tasks then count towards the goal) or a single task.
    pub item_type: GoalItemType,
    /// The project's or task's id (UUID).
    pub item_id: String,
    /// Remove the link instead of making it (default false).
    #[serde(default)]
    pub unlink: bool,
}

/// An integer as JSON Schema has it: `40` and `40.0` alike.
fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let whole = n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(f)).map(|f| f as u64));
    whole
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("progress must be a whole number from 0 to 100 (got {n})")))
}

fn manual_progress(progress: u32) -> ServiceResult<i64> {
    if progress > 100 {
        return Err(ServiceError::field("progress", format!("progress must be between 0 and 100 (got {progress}).")));
    }
    Ok(i64::from(progress))
}

impl App {
    pub(crate) async fn own_goal(&self, p: &Principal, id: &str) -> ServiceResult<Goal> {
        let uuid = parse_id("goal", id)?;
        self.store.goal(p.user_id, uuid).await?.ok_or_else(|| not_found("goal", id))
    }

    async fn tally(&self, p: &Principal, goal_id: Uuid) -> ServiceResult<TaskTally> {
        Ok(self.store.goal_progress(p.user_id, &[goal_id]).await?.first().map(|(_, t)| *t).unwrap_or_default())
    }

    async fn goal_now(&self, p: &Principal, goal: Goal) -> ServiceResult<GoalView> {
        let tally = self.tally(p, goal.id).await?;
        Ok(goal_view(goal, tally))
    }

    pub async fn list_goals(&self, p: &Principal, args: ListGoalsArgs) -> ServiceResult<GoalList> {
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        let page = self.store.list_goals(p.user_id, args.status.map(GoalStatus::as_str), after, limit).await?;
        let ids: Vec<Uuid> = page.items.iter().map(|g| g.id).collect();
        let tallies: HashMap<Uuid, TaskTally> = self.store.goal_progress(p.user_id, &ids).await?.into_iter().collect();
        Ok(GoalList {
            goals: page
                .items
                .into_iter()
                .map(|g| {
                    let tally = tallies.get(&g.id).copied().unwrap_or_default();
                    goal_view(g, tally)
                })
                .collect(),
            next_cursor: page.next.map(encode_cursor),
        })
    }

    pub async fn get_goal(&self, p: &Principal, args: GoalIdArgs) -> ServiceResult<GoalDetail> {
        let goal = self.own_goal(p, &args.id).await?;
        let projects = self.store.goal_projects(p.user_id, goal.id, SHOWN_LINKS).await?;
        let tasks = self.store.goal_tasks(p.user_id, goal.id, SHOWN_LINKS).await?;
        Ok(GoalDetail {
            goal: self.goal_now(p, goal).await?,
            projects: projects.into_iter().map(|p| LinkedProject { id: p.id, name: p.name, status: p.status }).collect(),
            tasks: tasks.into_iter().map(|t| LinkedTask { id: t.id, title: t.title, status: t.status, project_id: t.project_id }).collect(),
        })
    }

    pub async fn create_goal(&self, p: &Principal, args: CreateGoalArgs) -> ServiceResult<GoalView> {
        let now = self.now();
        let goal = Goal {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            title: required_text("title", &args.title, MAX_TITLE)?,
            description: optional_text("description", args.description.as_deref().unwrap_or(""), MAX_DESCRIPTION)?,
            status: args.status.unwrap_or(GoalStatus::Active).as_str().to_owned(),
            target_date: args.target_date,
            progress: manual_progress(args.progress.unwrap_or(0))?,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_goal(&goal, &self.activity(p, "goal", goal.id, &goal.title, "created")).await?;
        Ok(goal_view(goal, TaskTally::default()))
    }

    pub async fn update_goal(&self, p: &Principal, args: UpdateGoalArgs) -> ServiceResult<GoalView> {
        let mut goal = self.own_goal(p, &args.id).await?;
        if let Some(title) = &args.title {
            goal.title = required_text("title", title, MAX_TITLE)?;
        }
        if let Some(description) = &args.description {
            goal.description = optional_text("description", description, MAX_DESCRIPTION)?;
        }
        let achieved = args.status == Some(GoalStatus::Achieved) && goal.status != "achieved";
        if let Some(status) = args.status {
            goal.status = status.as_str().to_owned();
        }
        if let Some(target) = args.target_date {
            goal.target_date = target;
        }
        let tally = self.tally(p, goal.id).await?;
        if let Some(progress) = args.progress {
            goal.progress = manual_progress(progress)?;
            if tally.total > 0 {
                return Err(ServiceError::Conflict(format!(
                    "Goal \"{}\" takes its progress from the {} task(s) that count towards it ({} done), so it cannot be set by hand. Leave progress out, or unlink its tasks and projects first.",
                    goal.title, tally.total, tally.done
                )));
            }
        }
        goal.updated_at = self.now();
        let activity = self.activity(p, "goal", goal.id, &goal.title, if achieved { "achieved" } else { "updated" });
        if !self.store.update_goal(&goal, &activity).await? {
            return Err(not_found("goal", &args.id));
        }
        Ok(goal_view(goal, tally))
    }

    pub async fn delete_goal(&self, p: &Principal, args: GoalIdArgs) -> ServiceResult<DeletedGoal> {
        let goal = self.own_goal(p, &args.id).await?;
        let activity = self.activity(p, "goal", goal.id, &goal.title, "deleted");
        let removed = self.store.delete_goal(p.user_id, goal.id, &activity).await?.ok_or_else(|| not_found("goal", &args.id))?;
        Ok(DeletedGoal { id: goal.id, deleted: true, unlinked_projects: removed.projects, unlinked_tasks: removed.tasks })
    }

    pub async fn link_to_goal(&self, p: &Principal, args: LinkToGoalArgs) -> ServiceResult<GoalLink> {
        // The goal first: another user's goal id reads exactly like an unknown one, whatever the item.
        let goal = self.own_goal(p, &args.goal_id).await?;
        let (item, item_id) = match args.item_type {
            GoalItemType::Project => (GoalItem::Project, self.own_project(p, &args.item_id).await?.id),
            GoalItemType::Task => (GoalItem::Task, self.own_task(p, &args.item_id).await?.id),
        };
        let linked = !args.unlink;
        let activity = self.activity(p, "goal", goal.id, &goal.title, if linked { "linked" } else { "unlinked" });
        let changed = self.store.set_goal_link(p.user_id, goal.id, item, item_id, linked, &activity).await?;
        Ok(GoalLink { item_type: args.item_type, item_id, linked, changed, goal: self.goal_now(p, goal).await? })
    }
}
