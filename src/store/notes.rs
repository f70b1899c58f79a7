//! Notes: the entity and its queries (`NoteStore`). A note carries tags as a task does
//! (`super::tags`); its `event_id` has no foreign key: the service checks the event is the user's, and `delete_event` unlinks the event's notes.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::sql::{Backend, Cols, Stmt, Tx, containing, record, recorded};
use super::tags::{Taggable, names, names_from, set_tags, tag_key, update_tagged};
use super::{Activity, Page, Record, StoreResult, page};

#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: Uuid,
    pub user_id: Uuid,
    pub project_id: Option<Uuid>,
    /// A calendar event's id; no foreign key yet (the events table comes with the calendar).
    pub event_id: Option<Uuid>,
    pub title: String,
    /// Markdown.
    pub body: String,
    /// The names of its tags, as the tags spell them (see [`Taggable`]).
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Filters of `list_notes`; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct NoteFilter {
    pub project_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    /// A tag's name, in any case.
    pub tag: Option<String>,
    /// Text to find in the title or the body.
    pub text: Option<String>,
}

/// What appending to a note did.
#[derive(Debug, Clone)]
pub enum Appended {
    /// The user has no such note.
    Missing,
    /// The body would exceed the limit (it would be this many characters): nothing was changed.
    TooLong(usize),
    Done(Note),
}

/// `text` appended to a markdown `body` as a block of its own: after the body's trailing line
/// breaks are trimmed, a blank line, then `text`. An empty body becomes `text`.
pub fn append_markdown(body: &str, text: &str) -> String {
    let body = body.trim_end_matches(['\n', '\r']);
    if body.is_empty() { text.to_owned() } else { format!("{body}\n\n{text}") }
}

#[async_trait]
pub trait NoteStore: Send + Sync {
    /// Inserts the note with its tags (making the tags no tag names yet; its `tags` become the
    /// names as its tags spell them) and records `activity`.
    async fn insert_note(&self, note: &mut Note, activity: &Activity) -> StoreResult<()>;
    async fn note(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Note>>;
    /// The user's notes, newest first, after the given id.
    async fn list_notes(&self, user_id: Uuid, filter: &NoteFilter, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Note>>;
    /// Updates the note and records `activity`; false (and nothing changed) if the user has no
    /// such note. With `set_tags`, its tags become `note.tags` (as `insert_note` makes them);
    /// without, its tags are left as they are in the database, whatever `note.tags` says.
    async fn update_note(&self, note: &mut Note, set_tags: bool, activity: &Activity) -> StoreResult<bool>;
    /// Appends `text` to the note's body as it is at that moment, after a blank line
    /// ([`append_markdown`]), unless the body would then be longer than `max_chars`; records `activity`.
    async fn append_to_note(&self, user_id: Uuid, id: Uuid, text: &str, max_chars: usize, activity: &Activity) -> StoreResult<Appended>;
    /// Deletes the note (and, through the foreign keys, its tag links) and records `activity`.
    async fn delete_note(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool>;
}

pub(super) fn note_from(row: &dyn Cols) -> StoreResult<Note> {
    Ok(Note {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        project_id: row.opt_uuid("project_id")?,
        event_id: row.opt_uuid("event_id")?,
        title: row.text("title")?,
        body: row.text("body")?,
        tags: names_from(row)?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

/// Inserts the note (and its tag links, the tags made as needed) inside `tx`; the caller records
/// the activity and commits.
pub(super) async fn insert_note_in<T: Tx>(tx: &mut T, n: &mut Note) -> StoreResult<()> {
    let insert = Stmt::new(
            "INSERT INTO notes (id, user_id, project_id, event_id, title, body, tags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(n.id)
        .bind(n.user_id)
        .bind(n.project_id)
        .bind(n.event_id)
        .bind(&n.title)
        .bind(&n.body)
        .bind(names(&n.tags))
        .bind(n.created_at)
        .bind(n.updated_at);
    tx.execute(insert).await?;
    if !n.tags.is_empty() {
        n.tags = set_tags(tx, Taggable::Note, n.user_id, n.id, &n.tags, n.created_at).await?;
    }
    Ok(())
}

const NOTE: &str = "SELECT * FROM notes WHERE user_id = ? AND id = ?";

#[async_trait]
impl<B: Backend> NoteStore for B {
    async fn insert_note(&self, n: &mut Note, activity: &Activity) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_note_in(&mut tx, n).await?;
        tx.execute(record(Record::Activity(activity))).await?;
        tx.commit().await
    }

    async fn note(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Note>> {
        self.fetch_optional(Stmt::new(NOTE).bind(user_id).bind(id), note_from).await
    }

    async fn list_notes(&self, user_id: Uuid, f: &NoteFilter, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Note>> {
        let mut q = Stmt::new("SELECT * FROM notes WHERE user_id = ?").bind(user_id);
        if let Some(p) = f.project_id {
            q = q.push_bind(" AND project_id = ?", p);
        }
        if let Some(e) = f.event_id {
            q = q.push_bind(" AND event_id = ?", e);
        }
        if let Some(tag) = &f.tag {
            q = q.push_bind(&Taggable::Note.has_tag(), tag_key(tag));
        }
        if let Some(text) = &f.text {
            q = containing(q, Self::DIALECT, ["title", "body"], text);
        }
        if let Some(after) = after {
            q = q.push_bind(" AND id < ?", after);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), note_from).await?;
        Ok(page(items, limit, |n| n.id))
    }

    async fn update_note(&self, n: &mut Note, set_tags: bool, activity: &Activity) -> StoreResult<bool> {
        let update =
            Stmt::new("UPDATE notes SET project_id = ?, event_id = ?, title = ?, body = ?, updated_at = ? WHERE id = ? AND user_id = ?")
                .bind(n.project_id)
                .bind(n.event_id)
                .bind(&n.title)
                .bind(&n.body)
                .bind(n.updated_at)
                .bind(n.id)
                .bind(n.user_id);
        update_tagged(self, Taggable::Note, n.user_id, n.id, update, set_tags.then_some(&mut n.tags), activity).await
    }

    async fn append_to_note(&self, user_id: Uuid, id: Uuid, text: &str, max_chars: usize, activity: &Activity) -> StoreResult<Appended> {
        let mut tx = self.begin().await?;
        // Touching the note first locks it: two appends at once both land, one after the other.
        let touch = Stmt::new("UPDATE notes SET updated_at = ? WHERE user_id = ? AND id = ?");
        if tx.execute(touch.bind(activity.at).bind(user_id).bind(id)).await? == 0 {
            return Ok(Appended::Missing);
        }
        let Some(mut note) = tx.fetch_optional(Stmt::new(NOTE).bind(user_id).bind(id), note_from).await? else {
            return Ok(Appended::Missing);
        };
        note.body = append_markdown(&note.body, text);
        let length = note.body.chars().count();
        if length > max_chars {
            return Ok(Appended::TooLong(length));
        }
        tx.execute(Stmt::new("UPDATE notes SET body = ? WHERE user_id = ? AND id = ?").bind(&note.body).bind(user_id).bind(id)).await?;
        tx.execute(record(Record::Activity(activity))).await?;
        tx.commit().await?;
        Ok(Appended::Done(note))
    }

    async fn delete_note(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool> {
        recorded(self, Stmt::new("DELETE FROM notes WHERE id = ? AND user_id = ?").bind(id).bind(user_id), Record::Activity(activity)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_markdown_is_a_block_of_its_own() {
        assert_eq!(append_markdown("", "- a"), "- a");
        assert_eq!(append_markdown("\n\n", "- a"), "- a");
        assert_eq!(append_markdown("# Notes", "- a"), "# Notes\n\n- a");
        assert_eq!(append_markdown("# Notes\n", "- a"), "# Notes\n\n- a");
        assert_eq!(append_markdown("# Notes\r\n\r\n\n", "- a"), "# Notes\n\n- a");
        // Trailing spaces (a markdown line break) are the body's own.
        assert_eq!(append_markdown("line  ", "next"), "line  \n\nnext");
    }
}
