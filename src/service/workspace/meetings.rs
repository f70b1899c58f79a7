//! Meetings: a calendar event seen with what came of it — the notes about it and the tasks that
//! follow it up. Built on the calendar, notes and tasks (their checks apply as they are); a
//! follow-up task carries the event's id, which `delete_event` clears.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    REQUIRED_TEXT, TEXT, calendar::EventView, notes::CreateNoteArgs, notes::MAX_BODY, notes::NoteView, required_text,
    tasks::CreateTaskArgs, tasks::TaskView,
};
use crate::service::{App, Principal, ServiceResult};
use crate::store::{NoteFilter, TaskFilter};

/// How many notes and follow-ups `get_meeting` shows (the newest); `list_notes` and `list_tasks`
/// with `event_id` page through all of them.
const SHOWN: u32 = 100;
/// The longest title, as notes hold.
const MAX_TITLE: usize = 500;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MeetingArgs {
    /// The meeting's calendar event (UUID).
    pub event_id: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MeetingView {
    pub event: EventView,
    /// The notes about the meeting, newest first (at most 100: `list_notes` with `event_id` has them all).
    pub notes: Vec<NoteView>,
    /// The tasks that follow it up, done ones included, newest first (at most 100: `list_tasks`
    /// with `event_id` and `include_done` has them all).
    pub follow_ups: Vec<TaskView>,
    /// How many of the follow-ups shown are not done yet.
    pub open_follow_ups: usize,
    /// Whether there are more notes than shown.
    pub more_notes: bool,
    /// Whether there are more follow-ups than shown.
    pub more_follow_ups: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecordMeetingNotesArgs {
    /// The meeting's calendar event (UUID).
    pub event_id: String,
    /// The notes, in markdown.
    #[schemars(length(min = 1, max = 100_000), regex(pattern = REQUIRED_TEXT))]
    pub body: String,
    /// The note's title; by default "Notes: " and the meeting's title.
    #[serde(default)]
    #[schemars(length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub title: Option<String>,
    /// The project the note belongs to (UUID).
    #[serde(default)]
    pub project_id: Option<String>,
    /// Tag names; a name no tag has yet makes that tag.
    #[serde(default)]
    #[schemars(length(max = 20), inner(length(max = 50), regex(pattern = TEXT)))]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateFollowUpsArgs {
    /// The meeting's calendar event (UUID).
    pub event_id: String,
    /// 1 to 50 action items, each a task as `create_task` takes it; created all together or not at all.
    #[schemars(length(min = 1, max = 50))]
    pub action_items: Vec<CreateTaskArgs>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FollowUps {
    /// The meeting the tasks follow up.
    pub event_id: Uuid,
    pub created: usize,
    pub tasks: Vec<TaskView>,
}

impl App {
    pub async fn get_meeting(&self, p: &Principal, args: MeetingArgs) -> ServiceResult<MeetingView> {
        let event = self.own_event(p, &args.event_id).await?;
        let notes = NoteFilter { event_id: Some(event.id), ..NoteFilter::default() };
        let notes = self.store.list_notes(p.user_id, &notes, None, SHOWN).await?;
        let tasks = TaskFilter { event_id: Some(event.id), include_done: true, ..TaskFilter::default() };
        let tasks = self.store.list_tasks(p.user_id, &tasks, None, SHOWN).await?;
        let follow_ups: Vec<TaskView> = tasks.items.into_iter().map(Into::into).collect();
        Ok(MeetingView {
            event: EventView::new(event, self.time_zone(p.user_id).await?),
            notes: notes.items.into_iter().map(Into::into).collect(),
            open_follow_ups: follow_ups.iter().filter(|t| t.status != "done").count(),
            follow_ups,
            more_notes: notes.next.is_some(),
            more_follow_ups: tasks.next.is_some(),
        })
    }

    /// A note about the meeting, made as `create_note` makes notes.
    pub async fn record_meeting_notes(&self, p: &Principal, args: RecordMeetingNotesArgs) -> ServiceResult<NoteView> {
        let event = self.own_event(p, &args.event_id).await?;
        // Notes of a meeting say something (create_note allows an empty body).
        required_text("body", &args.body, MAX_BODY)?;
        let title = args.title.unwrap_or_else(|| format!("Notes: {}", event.title).chars().take(MAX_TITLE).collect());
        let note = CreateNoteArgs {
            title,
            body: Some(args.body),
            project_id: args.project_id,
            event_id: Some(event.id.to_string()),
            tags: args.tags,
        };
        self.create_note(p, note).await
    }

    /// The action items as tasks of the meeting, all or none, as `create_tasks` makes them.
    pub async fn create_follow_ups(&self, p: &Principal, args: CreateFollowUpsArgs) -> ServiceResult<FollowUps> {
        let event = self.own_event(p, &args.event_id).await?;
        let mut tasks = self.new_tasks(p, "action_items", args.action_items).await?;
        for t in &mut tasks {
            t.event_id = Some(event.id);
        }
        let activities: Vec<_> = tasks.iter().map(|t| self.activity(p, "task", t.id, &t.title, "created")).collect();
        self.store.insert_tasks(&mut tasks, &activities).await?;
        Ok(FollowUps { event_id: event.id, created: tasks.len(), tasks: tasks.into_iter().map(Into::into).collect() })
    }
}
