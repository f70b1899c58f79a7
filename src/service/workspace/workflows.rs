//! Workflows: named lists of steps (create a task, update a task, create a note) that a user runs
//! by hand, with values filled in from the run's input and from the task an earlier step made.
//!
//! Each step goes through the tasks' or notes' own service method, so every check of theirs
//! applies and every step's change is recorded as its own activity. A run stops at the first
//! failing step and keeps what the steps before it made (each step commits on its own: a run is
//! not one transaction, and says so in its result). The run's record, with each step's outcome,
//! is written when it ends. A disabled workflow refuses to run (409), and nothing is recorded.
//! The rules of placeholders and of a run's course are pure, in `core::workflow`.
use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Days, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    CURSOR_PATTERN, REQUIRED_TEXT, TEXT, decode_cursor, encode_cursor, not_found,
    notes::CreateNoteArgs,
    optional_text, page_limit, parse_id, required_text,
    tasks::{CreateTaskArgs, Priority, TaskStatus, UpdateTaskArgs},
};
use crate::core::workflow::{self as rules, INPUT_NAME_PATTERN, ItemKind, LastTask, MAX_STEPS, Next, Outcome, RUN_TIME_LIMIT};
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::{Workflow, WorkflowRun};

const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 2_000;
/// A step's fields hold what the task's and note's own fields hold; after filling in, the
/// task's or note's own checks apply again.
const MAX_TITLE: usize = 500;
const MAX_TASK_DESCRIPTION: usize = 50_000;
const MAX_NOTE_BODY: usize = 100_000;
/// An id field: a UUID, or placeholders that make one.
const MAX_ID_TEMPLATE: usize = 200;
const MAX_INPUTS: usize = 50;
const MAX_INPUT_VALUE: usize = 10_000;
/// How far from the run's date a step's due date may be, in days.
const MAX_DUE_OFFSET: i32 = 3_650;

/// One step of a workflow. Text fields (and the ids) may hold `{{input.NAME}}`,
/// `{{lastTask.id}}` and `{{lastTask.title}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum WorkflowStep {
    /// Create a task.
    CreateTask {
        #[schemars(length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
        title: String,
        /// Markdown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = 50_000), regex(pattern = TEXT))]
        description: Option<String>,
        /// low, medium (default), high or urgent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<Priority>,
        /// The due date, in days after the run's date in the user's time zone (0: that day; negative: before it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = -3650, max = 3650))]
        due_in_days: Option<i32>,
        /// The project (UUID, or a placeholder such as `{{input.project}}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = 200), regex(pattern = TEXT))]
        project_id: Option<String>,
    },
    /// Change a task's status and/or priority.
    UpdateTask {
        /// The task (UUID, or a placeholder such as `{{lastTask.id}}`).
        #[schemars(length(min = 1, max = 200), regex(pattern = REQUIRED_TEXT))]
        task_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<TaskStatus>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<Priority>,
    },
    /// Create a note.
    CreateNote {
        #[schemars(length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
        title: String,
        /// Markdown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = 100_000), regex(pattern = TEXT))]
        body: Option<String>,
    },
}

impl WorkflowStep {
    fn action(&self) -> &'static str {
        match self {
            WorkflowStep::CreateTask { .. } => "create_task",
            WorkflowStep::UpdateTask { .. } => "update_task",
            WorkflowStep::CreateNote { .. } => "create_note",
        }
    }
}

/// What a workflow's steps look like (the API document's example, which its tests send).
fn steps_example() -> serde_json::Value {
    serde_json::json!([
        {"action": "create_task", "title": "Prepare {{input.topic}}", "priority": "high", "due_in_days": 2},
        {"action": "create_note", "title": "Notes on {{lastTask.title}}", "body": "For task {{lastTask.id}}."}
    ])
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WorkflowView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// A disabled workflow refuses to run.
    pub enabled: bool,
    pub steps: Vec<WorkflowStep>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WorkflowList {
    /// Newest first.
    pub workflows: Vec<WorkflowView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// How one step of a run ended.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    /// The step's number, from 1.
    pub step: u32,
    /// create_task, update_task or create_note.
    pub action: String,
    /// `ok`, `failed`, or `not_run` (an earlier step failed).
    pub status: String,
    /// What the step made or changed: `task` or `note`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<Uuid>,
    /// Why the step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An item a run made.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MadeItem {
    /// `task` or `note`.
    #[serde(rename = "type")]
    pub item_type: String,
    pub id: Uuid,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WorkflowRunView {
    pub id: Uuid,
    pub workflow_id: Uuid,
    /// `succeeded`, or `failed` (a step failed; what the steps before it made is kept).
    pub status: String,
    /// The number of the step that failed, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<u32>,
    /// The run in a sentence: what failed and why, what was made and kept, what was not run.
    pub summary: String,
    /// What the run's steps created (and kept, whatever happened after).
    pub made: Vec<MadeItem>,
    /// Every step's outcome, in order.
    pub steps: Vec<StepResult>,
    /// The input values the run was given.
    pub input: BTreeMap<String, String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WorkflowRunList {
    /// Newest first.
    pub runs: Vec<WorkflowRunView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListWorkflowsArgs {
    /// Only the enabled (true) or the disabled (false) workflows.
    pub enabled: Option<bool>,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateWorkflowArgs {
    #[schemars(length(min = 1, max = 200), regex(pattern = REQUIRED_TEXT))]
    pub name: String,
    #[serde(default)]
    #[schemars(length(max = 2_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    /// Whether it may run (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// 1 to 20 steps, run in this order.
    #[schemars(length(min = 1, max = 20), example = steps_example())]
    pub steps: Vec<WorkflowStep>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateWorkflowArgs {
    /// The workflow's id (UUID).
    pub id: String,
    #[serde(default)]
    #[schemars(with = "String", length(min = 1, max = 200), regex(pattern = REQUIRED_TEXT))]
    pub name: Option<String>,
    #[serde(default)]
    #[schemars(with = "String", length(max = 2_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    #[serde(default)]
    #[schemars(with = "bool")]
    pub enabled: Option<bool>,
    /// Replaces the steps as a whole: 1 to 20 steps.
    #[serde(default)]
    #[schemars(with = "Vec<WorkflowStep>", length(min = 1, max = 20), example = steps_example())]
    pub steps: Option<Vec<WorkflowStep>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunWorkflowArgs {
    /// The workflow's id (UUID).
    pub workflow_id: String,
    /// Values for the steps' `{{input.NAME}}` placeholders: names of letters, digits, `_` and
    /// `-`, each a string. A placeholder whose name is missing here fails its step.
    #[serde(default)]
    #[schemars(extend(
        "propertyNames" = {"pattern": INPUT_NAME_PATTERN},
        "maxProperties" = 50,
        "additionalProperties" = {"type": "string", "maxLength": 10_000, "pattern": TEXT}
    ))]
    pub input: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListWorkflowRunsArgs {
    /// The workflow's id (UUID).
    pub workflow_id: String,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

impl TryFrom<Workflow> for WorkflowView {
    type Error = ServiceError;
    fn try_from(w: Workflow) -> ServiceResult<Self> {
        Ok(Self {
            id: w.id,
            name: w.name,
            description: w.description,
            enabled: w.enabled,
            steps: stored(w.steps, "steps")?,
            created_at: w.created_at,
            updated_at: w.updated_at,
        })
    }
}

impl TryFrom<WorkflowRun> for WorkflowRunView {
    type Error = ServiceError;
    fn try_from(r: WorkflowRun) -> ServiceResult<Self> {
        let steps: Vec<StepResult> = stored(r.steps, "run steps")?;
        let made = steps
            .iter()
            .filter(|s| s.status == "ok" && s.action.starts_with("create_"))
            .filter_map(|s| Some(MadeItem { item_type: s.item_type.clone()?, id: s.item_id? }))
            .collect();
        Ok(Self {
            id: r.id,
            workflow_id: r.workflow_id,
            status: r.status,
            failed_step: r.failed_step.and_then(|n| u32::try_from(n).ok()),
            summary: r.summary,
            made,
            steps,
            input: stored(r.input, "run input")?,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
    }
}

/// JSON the service wrote, read back.
fn stored<T: serde::de::DeserializeOwned>(value: serde_json::Value, what: &str) -> ServiceResult<T> {
    serde_json::from_value(value).map_err(|e| ServiceError::Store(crate::store::StoreError::Corrupt(format!("workflow {what}: {e}"))))
}

/// JSON for the store (the types here always serialise).
fn to_json<T: Serialize>(value: &T) -> ServiceResult<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| ServiceError::Invalid(format!("could not encode: {e}")))
}

/// A text field of a step as saved: the field's own rules (length, no NUL, not blank if
/// required) on the template, and its placeholders.
fn check_text(field: &str, value: &str, max: usize, required: bool, last_task: bool) -> ServiceResult<rules::Needs> {
    if required {
        required_text(field, value, max)?;
    } else {
        optional_text(field, value, max)?;
    }
    rules::check(value, last_task).map_err(|reason| ServiceError::field(field, format!("{field}: {reason}")))
}

/// An id field of a step as saved: a UUID, or placeholders that will make one.
fn check_id(field: &str, value: &str, last_task: bool) -> ServiceResult<()> {
    let needs = check_text(field, value, MAX_ID_TEMPLATE, true, last_task)?;
    if needs.is_literal() && Uuid::parse_str(value.trim()).is_err() {
        return Err(ServiceError::field(
            field,
            format!("{field} must be an id (UUID) or a placeholder such as {{{{lastTask.id}}}} or {{{{input.NAME}}}}."),
        ));
    }
    Ok(())
}

/// The steps as saved: how many, each field's rules and placeholders (a `{{lastTask…}}` needs an
/// earlier task step), and an update that changes something.
fn check_steps(steps: &[WorkflowStep]) -> ServiceResult<()> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(ServiceError::field("steps", format!("steps must hold between 1 and {MAX_STEPS} steps (got {}).", steps.len())));
    }
    let mut task_before = false;
    for (i, step) in steps.iter().enumerate() {
        let at = |name: &str| format!("steps[{i}].{name}");
        match step {
            WorkflowStep::CreateTask { title, description, due_in_days, project_id, .. } => {
                check_text(&at("title"), title, MAX_TITLE, true, task_before)?;
                check_text(&at("description"), description.as_deref().unwrap_or(""), MAX_TASK_DESCRIPTION, false, task_before)?;
                if let Some(project_id) = project_id {
                    check_id(&at("project_id"), project_id, task_before)?;
                }
                if due_in_days.is_some_and(|d| d.abs() > MAX_DUE_OFFSET) {
                    let field = at("due_in_days");
                    return Err(ServiceError::field(&field, format!("{field} must be between -{MAX_DUE_OFFSET} and {MAX_DUE_OFFSET}.")));
                }
                task_before = true;
            }
            WorkflowStep::UpdateTask { task_id, status, priority } => {
                check_id(&at("task_id"), task_id, task_before)?;
                if status.is_none() && priority.is_none() {
                    let field = at("status");
                    return Err(ServiceError::field(&field, format!("steps[{i}]: an update_task step sets status or priority (or both).")));
                }
                task_before = true;
            }
            WorkflowStep::CreateNote { title, body } => {
                check_text(&at("title"), title, MAX_TITLE, true, task_before)?;
                check_text(&at("body"), body.as_deref().unwrap_or(""), MAX_NOTE_BODY, false, task_before)?;
            }
        }
    }
    Ok(())
}

fn check_input(input: &BTreeMap<String, String>) -> ServiceResult<()> {
    if input.len() > MAX_INPUTS {
        return Err(ServiceError::field("input", format!("input holds at most {MAX_INPUTS} values (got {}).", input.len())));
    }
    for (name, value) in input {
        if !rules::is_input_name(name) {
            return Err(ServiceError::field(
                "input",
                "input names are 1 to 64 letters, digits, `_` or `-` (as in {{input.NAME}}).".to_owned(),
            ));
        }
        optional_text(&format!("input.{name}"), value, MAX_INPUT_VALUE)?;
    }
    Ok(())
}

/// A failed step's reason, as its outcome records it.
fn step_error(e: ServiceError) -> String {
    if e.outcome_unknown() {
        return "the database did not confirm the change: it may or may not have been made.".into();
    }
    e.to_string()
}

fn step_result(number: usize, step: &WorkflowStep, outcome: &Outcome) -> StepResult {
    let mut result = StepResult {
        step: u32::try_from(number).unwrap_or(u32::MAX),
        action: step.action().to_owned(),
        status: "not_run".into(),
        item_type: None,
        item_id: None,
        error: None,
    };
    match outcome {
        Outcome::Ok { kind, id, .. } => {
            (result.status, result.item_type, result.item_id) = ("ok".into(), Some(kind.as_str().to_owned()), Some(*id));
        }
        Outcome::Failed(reason) => (result.status, result.error) = ("failed".into(), Some(reason.clone())),
        Outcome::NotRun => {}
    }
    result
}

impl App {
    async fn own_workflow(&self, p: &Principal, id: &str) -> ServiceResult<Workflow> {
        let uuid = parse_id("workflow", id)?;
        self.store.workflow(p.user_id, uuid).await?.ok_or_else(|| not_found("workflow", id))
    }

    pub async fn list_workflows(&self, p: &Principal, args: ListWorkflowsArgs) -> ServiceResult<WorkflowList> {
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        let page = self.store.list_workflows(p.user_id, args.enabled, after, limit).await?;
        Ok(WorkflowList {
            workflows: page.items.into_iter().map(TryInto::try_into).collect::<ServiceResult<_>>()?,
            next_cursor: page.next.map(encode_cursor),
        })
    }

    pub async fn create_workflow(&self, p: &Principal, args: CreateWorkflowArgs) -> ServiceResult<WorkflowView> {
        let name = required_text("name", &args.name, MAX_NAME)?;
        let description = optional_text("description", args.description.as_deref().unwrap_or(""), MAX_DESCRIPTION)?;
        check_steps(&args.steps)?;
        let now = self.now();
        let workflow = Workflow {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            name,
            description,
            enabled: args.enabled.unwrap_or(true),
            steps: to_json(&args.steps)?,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_workflow(&workflow, &self.activity(p, "workflow", workflow.id, &workflow.name, "created")).await?;
        workflow.try_into()
    }

    pub async fn update_workflow(&self, p: &Principal, args: UpdateWorkflowArgs) -> ServiceResult<WorkflowView> {
        let mut workflow = self.own_workflow(p, &args.id).await?;
        if let Some(name) = &args.name {
            workflow.name = required_text("name", name, MAX_NAME)?;
        }
        if let Some(description) = &args.description {
            workflow.description = optional_text("description", description, MAX_DESCRIPTION)?;
        }
        if let Some(enabled) = args.enabled {
            workflow.enabled = enabled;
        }
        if let Some(steps) = &args.steps {
            check_steps(steps)?;
            workflow.steps = to_json(steps)?;
        }
        workflow.updated_at = self.now();
        let activity = self.activity(p, "workflow", workflow.id, &workflow.name, "updated");
        if !self.store.update_workflow(&workflow, &activity).await? {
            return Err(not_found("workflow", &args.id));
        }
        workflow.try_into()
    }

    /// Runs the steps in order until one fails; records the run and returns it.
    pub async fn run_workflow(&self, p: &Principal, args: RunWorkflowArgs) -> ServiceResult<WorkflowRunView> {
        let workflow = self.own_workflow(p, &args.workflow_id).await?;
        if !workflow.enabled {
            return Err(ServiceError::Conflict(format!(
                "The workflow {} is disabled, so it was not run and nothing was recorded: enable it first (enabled: true).",
                workflow.id
            )));
        }
        check_input(&args.input)?;
        let steps: Vec<WorkflowStep> = stored(workflow.steps.clone(), "steps")?;
        let started_at = self.now();
        // The time limit is wall time spent, whatever the (injectable) clock of the workspace says.
        let started = Instant::now();
        let today = self.today(p.user_id).await?;
        let mut outcomes = Vec::with_capacity(steps.len());
        let mut last_task = None;
        for step in &steps {
            let outcome = match rules::next(&outcomes, started.elapsed(), RUN_TIME_LIMIT) {
                Next::Skip => Outcome::NotRun,
                Next::Fail(reason) => Outcome::Failed(reason),
                Next::Run => match self.run_step(p, step, &args.input, last_task.as_ref(), today).await {
                    Ok((outcome, task)) => {
                        last_task = task.or(last_task);
                        outcome
                    }
                    Err(e) => Outcome::Failed(step_error(e)),
                },
            };
            outcomes.push(outcome);
        }
        let failed_step = rules::failed_step(&outcomes);
        let results: Vec<StepResult> = steps.iter().zip(&outcomes).enumerate().map(|(i, (s, o))| step_result(i + 1, s, o)).collect();
        let run = WorkflowRun {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            workflow_id: workflow.id,
            status: if failed_step.is_some() { "failed" } else { "succeeded" }.into(),
            failed_step: failed_step.and_then(|n| i64::try_from(n).ok()),
            summary: rules::summary(&outcomes),
            input: to_json(&args.input)?,
            steps: to_json(&results)?,
            started_at,
            finished_at: self.now(),
        };
        self.store.insert_workflow_run(&run, &self.activity(p, "workflow", workflow.id, &workflow.name, "ran")).await?;
        run.try_into()
    }

    /// One step, through the task's or note's own service method: its outcome, and the task it
    /// made or changed (what `{{lastTask…}}` means from then on).
    async fn run_step(
        &self,
        p: &Principal,
        step: &WorkflowStep,
        input: &BTreeMap<String, String>,
        last_task: Option<&LastTask>,
        today: NaiveDate,
    ) -> ServiceResult<(Outcome, Option<LastTask>)> {
        let fill = |template: &str| rules::render(template, input, last_task).map_err(ServiceError::Invalid);
        let fill_opt = |template: &Option<String>| template.as_deref().map(fill).transpose();
        match step {
            WorkflowStep::CreateTask { title, description, priority, due_in_days, project_id } => {
                let due_date = match due_in_days {
                    None => None,
                    Some(days) => {
                        let shifted = if *days >= 0 {
                            today.checked_add_days(Days::new(days.unsigned_abs().into()))
                        } else {
                            today.checked_sub_days(Days::new(days.unsigned_abs().into()))
                        };
                        Some(shifted.ok_or_else(|| ServiceError::Invalid("the due date is out of range.".into()))?)
                    }
                };
                let args = CreateTaskArgs {
                    title: fill(title.as_str())?,
                    description: fill_opt(description)?,
                    project_id: fill_opt(project_id)?,
                    status: None,
                    priority: *priority,
                    due_date,
                    assignee: None,
                    tags: None,
                };
                let task = self.create_task(p, args).await?;
                Ok((Outcome::Ok { kind: ItemKind::Task, id: task.id, created: true }, Some(LastTask { id: task.id, title: task.title })))
            }
            WorkflowStep::UpdateTask { task_id, status, priority } => {
                let args = UpdateTaskArgs {
                    id: fill(task_id.as_str())?,
                    title: None,
                    description: None,
                    project_id: None,
                    status: *status,
                    priority: *priority,
                    due_date: None,
                    assignee: None,
                    tags: None,
                };
                let task = self.update_task(p, args).await?;
                Ok((Outcome::Ok { kind: ItemKind::Task, id: task.id, created: false }, Some(LastTask { id: task.id, title: task.title })))
            }
            WorkflowStep::CreateNote { title, body } => {
                let args =
                    CreateNoteArgs { title: fill(title.as_str())?, body: fill_opt(body)?, project_id: None, event_id: None, tags: None };
                let note = self.create_note(p, args).await?;
                Ok((Outcome::Ok { kind: ItemKind::Note, id: note.id, created: true }, None))
            }
        }
    }

    pub async fn list_workflow_runs(&self, p: &Principal, args: ListWorkflowRunsArgs) -> ServiceResult<WorkflowRunList> {
        let workflow = self.own_workflow(p, &args.workflow_id).await?;
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        let page = self.store.list_workflow_runs(p.user_id, workflow.id, after, limit).await?;
        Ok(WorkflowRunList {
            runs: page.items.into_iter().map(TryInto::try_into).collect::<ServiceResult<_>>()?,
            next_cursor: page.next.map(encode_cursor),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(title: &str) -> WorkflowStep {
        WorkflowStep::CreateTask { title: title.into(), description: None, priority: None, due_in_days: None, project_id: None }
    }

    #[test]
    fn steps_are_checked_when_saved() {
        assert!(check_steps(&[task("Plan {{input.what}}")]).is_ok());
        assert!(check_steps(&[]).is_err());
        assert!(check_steps(&vec![task("x"); MAX_STEPS]).is_ok());
        assert!(check_steps(&vec![task("x"); MAX_STEPS + 1]).is_err());
        let field = |r: ServiceResult<()>| match r {
            Err(ServiceError::InvalidField { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(check_steps(&[task("x"), task("{{oops}}")])), "steps[1].title");
        assert_eq!(field(check_steps(&[task(" ")])), "steps[0].title");
        // lastTask only after a step that sets it; a literal id must be an id.
        let update = |id: &str| WorkflowStep::UpdateTask { task_id: id.into(), status: Some(TaskStatus::Done), priority: None };
        assert_eq!(field(check_steps(&[update("{{lastTask.id}}")])), "steps[0].task_id");
        assert!(check_steps(&[task("x"), update("{{lastTask.id}}")]).is_ok());
        assert!(check_steps(&[update(&Uuid::nil().to_string())]).is_ok());
        assert!(check_steps(&[update("{{input.task}}")]).is_ok());
        assert_eq!(field(check_steps(&[update("not-an-id")])), "steps[0].task_id");
        let no_change = WorkflowStep::UpdateTask { task_id: Uuid::nil().to_string(), status: None, priority: None };
        assert_eq!(field(check_steps(&[no_change])), "steps[0].status");
        let far =
            WorkflowStep::CreateTask { title: "x".into(), description: None, priority: None, due_in_days: Some(3651), project_id: None };
        assert_eq!(field(check_steps(&[far])), "steps[0].due_in_days");
    }

    #[test]
    fn the_example_is_a_valid_workflow() {
        let steps: Vec<WorkflowStep> = serde_json::from_value(steps_example()).unwrap();
        assert!(check_steps(&steps).is_ok());
    }
}
