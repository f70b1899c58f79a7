//! The inbox's persistence (`InboxStore`): items captured to sort out later, and their conversion
//! into a task, a note or an event — the new item made and the inbox item marked converted in one
//! transaction, with the tasks', notes' and calendar's own insert statements.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::calendar::insert_event_stmt;
use super::notes::insert_note_in;
use super::sql::{Backend, Cols, Stmt, Tx, insert_tasks_in, record, recorded};
use super::{Activity, Event, Note, Page, Record, StoreResult, Task, page};

#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    pub id: Uuid,
    pub user_id: Uuid,
    pub text: String,
    pub source: Option<String>,
    /// `open`, `converted` or `dismissed`.
    pub status: String,
    /// What a converted item became: `task`, `note` or `event`, and its id.
    pub converted: Option<(String, Uuid)>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an inbox item is converted into.
pub enum Conversion<'a> {
    Task(&'a mut Task),
    Note(&'a mut Note),
    Event(&'a Event),
}

impl Conversion<'_> {
    pub fn kind_and_id(&self) -> (&'static str, Uuid) {
        match self {
            Conversion::Task(t) => ("task", t.id),
            Conversion::Note(n) => ("note", n.id),
            Conversion::Event(e) => ("event", e.id),
        }
    }
}

#[async_trait]
pub trait InboxStore: Send + Sync {
    async fn insert_inbox_item(&self, item: &InboxItem, activity: &Activity) -> StoreResult<()>;
    async fn inbox_item(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<InboxItem>>;
    /// The user's items of this status, newest first, after the given id.
    async fn list_inbox(&self, user_id: Uuid, status: &str, after: Option<Uuid>, limit: u32) -> StoreResult<Page<InboxItem>>;
    /// Marks the item dismissed and records `activity`, if it is open; false (nothing changed) if not.
    async fn dismiss_inbox_item(&self, user_id: Uuid, id: Uuid, at: DateTime<Utc>, activity: &Activity) -> StoreResult<bool>;
    /// In one transaction: marks the item converted into `into`, if it is open, inserts `into` and
    /// records `activities`; false (and nothing made or changed) if the item is not open.
    async fn convert_inbox_item(
        &self,
        user_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
        into: Conversion<'_>,
        activities: &[Activity],
    ) -> StoreResult<bool>;
}

pub(super) fn item_from(row: &dyn Cols) -> StoreResult<InboxItem> {
    let converted = match (row.opt_text("converted_type")?, row.opt_uuid("converted_id")?) {
        (Some(kind), Some(id)) => Some((kind, id)),
        _ => None,
    };
    Ok(InboxItem {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        text: row.text("text")?,
        source: row.opt_text("source")?,
        status: row.text("status")?,
        converted,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

const ITEMS: &str = "SELECT * FROM inbox_items WHERE user_id = ?";

#[async_trait]
impl<B: Backend> InboxStore for B {
    async fn insert_inbox_item(&self, i: &InboxItem, activity: &Activity) -> StoreResult<()> {
        let insert = Stmt::new(
            "INSERT INTO inbox_items (id, user_id, text, source, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?)",
        )
        .bind(i.id)
        .bind(i.user_id)
        .bind(&i.text)
        .bind(&i.source)
        .bind(i.created_at)
        .bind(i.updated_at);
        recorded(self, insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn inbox_item(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<InboxItem>> {
        self.fetch_optional(Stmt::new(ITEMS).bind(user_id).push_bind(" AND id = ?", id), item_from).await
    }

    async fn list_inbox(&self, user_id: Uuid, status: &str, after: Option<Uuid>, limit: u32) -> StoreResult<Page<InboxItem>> {
        let mut q = Stmt::new(ITEMS).bind(user_id).push_bind(" AND status = ?", status);
        if let Some(after) = after {
            q = q.push_bind(" AND id < ?", after);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), item_from).await?;
        Ok(page(items, limit, |i| i.id))
    }

    async fn dismiss_inbox_item(&self, user_id: Uuid, id: Uuid, at: DateTime<Utc>, activity: &Activity) -> StoreResult<bool> {
        let dismiss =
            Stmt::new("UPDATE inbox_items SET status = 'dismissed', updated_at = ? WHERE user_id = ? AND id = ? AND status = 'open'")
                .bind(at)
                .bind(user_id)
                .bind(id);
        recorded(self, dismiss, Record::Activity(activity)).await
    }

    async fn convert_inbox_item(
        &self,
        user_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
        into: Conversion<'_>,
        activities: &[Activity],
    ) -> StoreResult<bool> {
        let (kind, new_id) = into.kind_and_id();
        let mut tx = self.begin().await?;
        let mark = Stmt::new(
            "UPDATE inbox_items SET status = 'converted', converted_type = ?, converted_id = ?, updated_at = ? \
             WHERE user_id = ? AND id = ? AND status = 'open'",
        )
        .bind(kind)
        .bind(new_id)
        .bind(at)
        .bind(user_id)
        .bind(id);
        if tx.execute(mark).await? == 0 {
            // Dropped unfinished: rolled back.
            return Ok(false);
        }
        match into {
            Conversion::Task(task) => insert_tasks_in(&mut tx, std::slice::from_mut(task)).await?,
            Conversion::Note(note) => insert_note_in(&mut tx, note).await?,
            Conversion::Event(event) => {
                tx.execute(insert_event_stmt(event)).await?;
            }
        }
        for a in activities {
            tx.execute(record(Record::Activity(a))).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
