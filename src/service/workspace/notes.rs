//! Notes: list (with filters), get, create, update, append, delete. A note is markdown, optionally
//! in a project and about a calendar event, and carries tags as tasks do.
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    CURSOR_PATTERN, REQUIRED_TEXT, TEXT, decode_cursor, encode_cursor, in_field, no_nul, not_found, nullable, optional_text, page_limit,
    parse_id, required_text,
    tags::{clean_tags, tag_filter},
};
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::{Appended, Note, NoteFilter};

const MAX_TITLE: usize = 500;
/// The longest body, in characters (appending included).
pub const MAX_BODY: usize = 100_000;

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NoteView {
    pub id: Uuid,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub project_id: Option<Uuid>,
    /// The calendar event the note is about.
    pub event_id: Option<Uuid>,
    /// Its tags' names, as the tags spell them.
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Note> for NoteView {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            title: n.title,
            body: n.body,
            project_id: n.project_id,
            event_id: n.event_id,
            tags: n.tags,
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NoteList {
    /// Newest first.
    pub notes: Vec<NoteView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeletedNote {
    pub id: Uuid,
    pub deleted: bool,
    /// The tags the note carried (the tags themselves remain).
    pub removed_tags: Vec<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListNotesArgs {
    /// Only notes in this project (UUID).
    pub project_id: Option<String>,
    /// Only notes about this calendar event (UUID).
    pub event_id: Option<String>,
    /// Only notes carrying this tag (its name, in any case).
    #[schemars(regex(pattern = TEXT))]
    pub tag: Option<String>,
    /// Text to find in the title or the body.
    #[schemars(regex(pattern = TEXT))]
    pub text: Option<String>,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct NoteIdArgs {
    /// The note's id (UUID).
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateNoteArgs {
    #[schemars(length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    #[schemars(length(max = 100_000), regex(pattern = TEXT))]
    pub body: Option<String>,
    /// The project the note belongs to (UUID); none for a loose note.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The calendar event the note is about (UUID).
    #[serde(default)]
    pub event_id: Option<String>,
    /// Tag names; a name no tag has yet makes that tag. Names differing only in case are one tag.
    #[serde(default)]
    #[schemars(length(max = 20), inner(length(max = 50), regex(pattern = TEXT)))]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateNoteArgs {
    /// The note's id (UUID).
    pub id: String,
    #[serde(default)]
    #[schemars(with = "String", length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub title: Option<String>,
    /// Markdown; replaces the body (append_to_note adds to it).
    #[serde(default)]
    #[schemars(with = "String", length(max = 100_000), regex(pattern = TEXT))]
    pub body: Option<String>,
    /// Move to this project (UUID), or null to detach.
    #[serde(default, deserialize_with = "nullable")]
    pub project_id: Option<Option<String>>,
    /// Link to this calendar event (UUID), or null to unlink.
    #[serde(default, deserialize_with = "nullable")]
    pub event_id: Option<Option<String>>,
    /// Replaces the note's tags (names; a name no tag has yet makes that tag).
    #[serde(default)]
    #[schemars(with = "Vec<String>", length(max = 20), inner(length(max = 50), regex(pattern = TEXT)))]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AppendToNoteArgs {
    /// The note's id (UUID).
    pub id: String,
    /// Markdown to add at the end of the body, after a blank line.
    #[schemars(length(min = 1, max = 100_000), regex(pattern = REQUIRED_TEXT))]
    pub text: String,
}

impl App {
    pub(crate) async fn own_note(&self, p: &Principal, id: &str) -> ServiceResult<Note> {
        let uuid = parse_id("note", id)?;
        self.store.note(p.user_id, uuid).await?.ok_or_else(|| not_found("note", id))
    }

    async fn note_project(&self, p: &Principal, project_id: Option<&str>) -> ServiceResult<Option<Uuid>> {
        match project_id {
            None => Ok(None),
            Some(id) => Ok(Some(self.own_project(p, id).await?.id)),
        }
    }

    /// An event id as a filter: any well-formed id (an unknown one lists nothing).
    fn note_event(event_id: Option<&str>) -> ServiceResult<Option<Uuid>> {
        event_id.map(|id| parse_id("event", id)).transpose()
    }

    /// A note's `event_id` field: one of the user's events, else a bad field of the request (the
    /// notes table has no foreign key to events; `delete_event` unlinks the event's notes).
    pub(crate) async fn own_event_id(&self, p: &Principal, event_id: Option<&str>) -> ServiceResult<Option<Uuid>> {
        match event_id {
            None => Ok(None),
            Some(id) => Ok(Some(in_field("event_id", self.own_event(p, id).await)?.id)),
        }
    }

    pub async fn list_notes(&self, p: &Principal, args: ListNotesArgs) -> ServiceResult<NoteList> {
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        no_nul("text", args.text.as_deref().unwrap_or_default())?;
        let filter = NoteFilter {
            // Listing by an unknown or foreign project id is an empty list only if the id is ours.
            project_id: self.note_project(p, args.project_id.as_deref()).await?,
            event_id: Self::note_event(args.event_id.as_deref())?,
            tag: tag_filter(args.tag)?,
            text: args.text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
        };
        let page = self.store.list_notes(p.user_id, &filter, after, limit).await?;
        Ok(NoteList { notes: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next.map(encode_cursor) })
    }

    pub async fn get_note(&self, p: &Principal, args: NoteIdArgs) -> ServiceResult<NoteView> {
        Ok(self.own_note(p, &args.id).await?.into())
    }

    pub async fn create_note(&self, p: &Principal, args: CreateNoteArgs) -> ServiceResult<NoteView> {
        let mut note = self.new_note(p, args).await?;
        let activity = self.activity(p, "note", note.id, &note.title, "created");
        self.store.insert_note(&mut note, &activity).await?;
        Ok(note.into())
    }

    /// The note `args` describe, checked (nothing is written).
    pub(crate) async fn new_note(&self, p: &Principal, args: CreateNoteArgs) -> ServiceResult<Note> {
        let now = self.now();
        Ok(Note {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            project_id: self.note_project(p, args.project_id.as_deref()).await?,
            event_id: self.own_event_id(p, args.event_id.as_deref()).await?,
            title: required_text("title", &args.title, MAX_TITLE)?,
            body: optional_text("body", args.body.as_deref().unwrap_or(""), MAX_BODY)?,
            tags: clean_tags(args.tags.unwrap_or_default())?,
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn update_note(&self, p: &Principal, args: UpdateNoteArgs) -> ServiceResult<NoteView> {
        let mut note = self.own_note(p, &args.id).await?;
        if let Some(title) = &args.title {
            note.title = required_text("title", title, MAX_TITLE)?;
        }
        if let Some(body) = &args.body {
            note.body = optional_text("body", body, MAX_BODY)?;
        }
        if let Some(project_id) = &args.project_id {
            note.project_id = self.note_project(p, project_id.as_deref()).await?;
        }
        if let Some(event_id) = &args.event_id {
            note.event_id = self.own_event_id(p, event_id.as_deref()).await?;
        }
        let set_tags = args.tags.is_some();
        if let Some(tags) = args.tags {
            note.tags = clean_tags(tags)?;
        }
        note.updated_at = self.now();
        let activity = self.activity(p, "note", note.id, &note.title, "updated");
        if !self.store.update_note(&mut note, set_tags, &activity).await? {
            return Err(not_found("note", &args.id));
        }
        Ok(note.into())
    }

    /// Appends to the body as it is when the append runs, so concurrent appends all land.
    pub async fn append_to_note(&self, p: &Principal, args: AppendToNoteArgs) -> ServiceResult<NoteView> {
        let note = self.own_note(p, &args.id).await?;
        required_text("text", &args.text, MAX_BODY)?;
        let activity = self.activity(p, "note", note.id, &note.title, "appended");
        match self.store.append_to_note(p.user_id, note.id, &args.text, MAX_BODY, &activity).await? {
            Appended::Missing => Err(not_found("note", &args.id)),
            Appended::TooLong(length) => Err(ServiceError::Conflict(format!(
                "The note's body would be {length} characters long, more than the {MAX_BODY} a note holds: start another note. Nothing was changed."
            ))),
            Appended::Done(note) => Ok(note.into()),
        }
    }

    pub async fn delete_note(&self, p: &Principal, args: NoteIdArgs) -> ServiceResult<DeletedNote> {
        let note = self.own_note(p, &args.id).await?;
        if !self.store.delete_note(p.user_id, note.id, &self.activity(p, "note", note.id, &note.title, "deleted")).await? {
            return Err(not_found("note", &args.id));
        }
        Ok(DeletedNote { id: note.id, deleted: true, removed_tags: note.tags })
    }
}
