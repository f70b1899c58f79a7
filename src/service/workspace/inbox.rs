//! The inbox: things captured to sort out later, each open until converted into a task, a note or
//! an event (made with those domains' own checks, in one transaction with marking the item) or
//! dismissed.
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    CURSOR_PATTERN, REQUIRED_TEXT, TEXT, calendar::CreateEventArgs, calendar::EventView, decode_cursor, encode_cursor, not_found,
    notes::CreateNoteArgs, notes::NoteView, optional_text, page_limit, parse_id, required_text, tasks::CreateTaskArgs, tasks::Priority,
    tasks::TaskView,
};
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::{Conversion, Event, InboxItem, Note, Task};
use chrono_tz::Tz;

/// The longest item text, in characters.
const MAX_TEXT: usize = 10_000;
const MAX_SOURCE: usize = 200;
/// The longest title a converted item takes from the text (tasks, notes and events hold 500).
const MAX_TITLE: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxStatus {
    #[default]
    Open,
    Converted,
    Dismissed,
}

impl InboxStatus {
    fn as_str(self) -> &'static str {
        match self {
            InboxStatus::Open => "open",
            InboxStatus::Converted => "converted",
            InboxStatus::Dismissed => "dismissed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConvertInto {
    Task,
    Note,
    Event,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InboxItemView {
    pub id: Uuid,
    pub text: String,
    /// Where it came from (an email, a chat, a voice memo…), as the capture said.
    pub source: Option<String>,
    /// `open`, `converted` or `dismissed`.
    pub status: String,
    /// What a converted item became: `task`, `note` or `event`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_to: Option<String>,
    /// The id of the task, note or event a converted item became.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<InboxItem> for InboxItemView {
    fn from(i: InboxItem) -> Self {
        let (converted_to, converted_id) = i.converted.map(|(t, id)| (Some(t), Some(id))).unwrap_or_default();
        Self {
            id: i.id,
            text: i.text,
            source: i.source,
            status: i.status,
            converted_to,
            converted_id,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InboxList {
    /// Newest first.
    pub items: Vec<InboxItemView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A converted item and what it became (exactly one of `task`, `note`, `event`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConvertedItem {
    pub item: InboxItemView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<NoteView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<EventView>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListInboxArgs {
    /// Which items: `open` (the default), `converted` or `dismissed`.
    #[serde(default)]
    pub status: Option<InboxStatus>,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CaptureArgs {
    /// What to remember, as it came.
    #[schemars(length(min = 1, max = 10_000), regex(pattern = REQUIRED_TEXT))]
    pub text: String,
    /// Where it came from: an email, a chat, a voice memo…
    #[serde(default)]
    #[schemars(length(max = 200), regex(pattern = TEXT))]
    pub source: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct InboxItemIdArgs {
    /// The inbox item's id (UUID).
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConvertInboxItemArgs {
    /// The inbox item's id (UUID).
    pub id: String,
    /// What the item becomes: `task`, `note` or `event`.
    pub into: ConvertInto,
    /// Its title; by default the item's first line (at most 500 characters).
    #[serde(default)]
    #[schemars(length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub title: Option<String>,
    /// The task's description, the note's body or the event's description; by default the item's
    /// whole text when the title does not hold all of it.
    #[serde(default)]
    #[schemars(length(max = 50_000), regex(pattern = TEXT))]
    pub details: Option<String>,
    /// Task or note: the project (UUID).
    #[serde(default)]
    pub project_id: Option<String>,
    /// Task: due date, YYYY-MM-DD.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// Task: low, medium (default), high or urgent.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Event (required): a date-time with an offset, or a date (YYYY-MM-DD) for an all-day event.
    #[serde(default)]
    pub start: Option<String>,
    /// Event: when it ends (exclusive), as start is written; by default an hour after a timed start.
    #[serde(default)]
    pub end: Option<String>,
}

/// What a conversion makes.
enum Made {
    Task(Task),
    Note(Note),
    Event(Event, Tz),
}

fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    line.chars().take(MAX_TITLE).collect()
}

/// Refuses a field the target kind does not take.
fn not_for(field: &str, value: bool, into: &str) -> ServiceResult<()> {
    if value {
        return Err(ServiceError::field(field, format!("{field} does not apply when converting into a {into}: leave it out.")));
    }
    Ok(())
}

fn not_open(item: &InboxItem) -> ServiceError {
    ServiceError::Conflict(format!(
        "The inbox item {} is already {}, not open: only open items can be converted or dismissed. Nothing was changed.",
        item.id, item.status
    ))
}

impl App {
    async fn own_inbox_item(&self, p: &Principal, id: &str) -> ServiceResult<InboxItem> {
        let uuid = parse_id("inbox item", id)?;
        self.store.inbox_item(p.user_id, uuid).await?.ok_or_else(|| not_found("inbox item", id))
    }

    /// The gist of an item, for the activity feed.
    fn inbox_title(item: &InboxItem) -> String {
        first_line(&item.text).chars().take(200).collect()
    }

    pub async fn list_inbox(&self, p: &Principal, args: ListInboxArgs) -> ServiceResult<InboxList> {
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        let status = args.status.unwrap_or_default();
        let page = self.store.list_inbox(p.user_id, status.as_str(), after, limit).await?;
        Ok(InboxList { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next.map(encode_cursor) })
    }

    pub async fn capture_to_inbox(&self, p: &Principal, args: CaptureArgs) -> ServiceResult<InboxItemView> {
        let text = required_text("text", &args.text, MAX_TEXT)?.trim().to_owned();
        let source = optional_text("source", args.source.as_deref().unwrap_or(""), MAX_SOURCE)?.trim().to_owned();
        let now = self.now();
        let item = InboxItem {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            text,
            source: Some(source).filter(|s| !s.is_empty()),
            status: "open".into(),
            converted: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_inbox_item(&item, &self.activity(p, "inbox_item", item.id, &Self::inbox_title(&item), "captured")).await?;
        Ok(item.into())
    }

    pub async fn dismiss_inbox_item(&self, p: &Principal, args: InboxItemIdArgs) -> ServiceResult<InboxItemView> {
        let mut item = self.own_inbox_item(p, &args.id).await?;
        if item.status != "open" {
            return Err(not_open(&item));
        }
        let now = self.now();
        let activity = self.activity(p, "inbox_item", item.id, &Self::inbox_title(&item), "dismissed");
        if !self.store.dismiss_inbox_item(p.user_id, item.id, now, &activity).await? {
            // Converted or dismissed meanwhile.
            return Err(not_open(&self.own_inbox_item(p, &args.id).await?));
        }
        (item.status, item.updated_at) = ("dismissed".into(), now);
        Ok(item.into())
    }

    /// Makes the task, note or event with its domain's checks, then marks the item converted and
    /// inserts the new item in one transaction: an invalid new item leaves the inbox item open.
    pub async fn convert_inbox_item(&self, p: &Principal, args: ConvertInboxItemArgs) -> ServiceResult<ConvertedItem> {
        let mut item = self.own_inbox_item(p, &args.id).await?;
        if item.status != "open" {
            return Err(not_open(&item));
        }
        let title = args.title.clone().unwrap_or_else(|| first_line(&item.text));
        let details = args.details.clone().or_else(|| (title != item.text).then(|| item.text.clone()));
        let now = self.now();
        let mut converted = ConvertedItem { item: item.clone().into(), task: None, note: None, event: None };
        let mut activities = Vec::new();
        let mut made = match args.into {
            ConvertInto::Task => {
                not_for("start", args.start.is_some(), "task")?;
                not_for("end", args.end.is_some(), "task")?;
                let create = CreateTaskArgs {
                    title,
                    description: details,
                    project_id: args.project_id,
                    status: None,
                    priority: args.priority,
                    due_date: args.due_date,
                    assignee: None,
                    tags: None,
                };
                let task = self.new_task(p, create, now).await?;
                activities.push(self.activity(p, "task", task.id, &task.title, "created"));
                Made::Task(task)
            }
            ConvertInto::Note => {
                for (field, set) in [("due_date", args.due_date.is_some()), ("priority", args.priority.is_some())] {
                    not_for(field, set, "note")?;
                }
                not_for("start", args.start.is_some(), "note")?;
                not_for("end", args.end.is_some(), "note")?;
                let create = CreateNoteArgs { title, body: details, project_id: args.project_id, event_id: None, tags: None };
                let note = self.new_note(p, create).await?;
                activities.push(self.activity(p, "note", note.id, &note.title, "created"));
                Made::Note(note)
            }
            ConvertInto::Event => {
                for (field, set) in [
                    ("due_date", args.due_date.is_some()),
                    ("priority", args.priority.is_some()),
                    ("project_id", args.project_id.is_some()),
                ] {
                    not_for(field, set, "event")?;
                }
                let Some(start) = args.start else {
                    return Err(ServiceError::field(
                        "start",
                        "An event needs a start: a date-time with an offset, or a date (YYYY-MM-DD).",
                    ));
                };
                let tz = self.time_zone(p.user_id).await?;
                let create = CreateEventArgs {
                    title,
                    description: details,
                    start,
                    end: args.end,
                    all_day: None,
                    location: None,
                    attendees: None,
                    kind: None,
                };
                let event = self.new_event(p, create, tz)?;
                activities.push(self.activity(p, "event", event.id, &event.title, "created"));
                Made::Event(event, tz)
            }
        };
        let into = match &mut made {
            Made::Task(task) => Conversion::Task(task),
            Made::Note(note) => Conversion::Note(note),
            Made::Event(event, _) => Conversion::Event(event),
        };
        let (kind, new_id) = into.kind_and_id();
        activities.push(self.activity(p, "inbox_item", item.id, &Self::inbox_title(&item), "converted"));
        if !self.store.convert_inbox_item(p.user_id, item.id, now, into, &activities).await? {
            return Err(not_open(&self.own_inbox_item(p, &args.id).await?));
        }
        (item.status, item.converted, item.updated_at) = ("converted".into(), Some((kind.into(), new_id)), now);
        converted.item = item.into();
        match made {
            Made::Task(task) => converted.task = Some(task.into()),
            Made::Note(note) => converted.note = Some(note.into()),
            Made::Event(event, tz) => converted.event = Some(EventView::new(event, tz)),
        }
        Ok(converted)
    }
}
