//! The calendar's persistence: events, and each user's time zone. SQL written once for both
//! databases over `sql::Backend`, like the rest of the store.
//!
//! An event occupies `[start, end)` in UTC. An all-day event also keeps its dates (first and last
//! day, both inclusive); its instants are those days in the user's time zone, recomputed by
//! `set_time_zone` when the zone changes.
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::sql::{Backend, Cols, Stmt, Tx, record, recorded};
use super::{Activity, Page, Record, StoreError, StoreResult, page};

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: String,
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
    /// An all-day event's first and last day (inclusive), in the user's time zone.
    pub all_day: Option<(NaiveDate, NaiveDate)>,
    pub location: Option<String>,
    pub attendees: Vec<String>,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Filters of `list_events`: events overlapping `[from, to)`, of one kind.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub kind: Option<String>,
}

/// Where a page of events (ordered by start, then id) continues: after this event.
pub type EventCursor = (DateTime<Utc>, Uuid);

#[async_trait]
pub trait EventStore: Send + Sync {
    async fn insert_event(&self, event: &Event, activity: &Activity) -> StoreResult<()>;
    async fn event(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Event>>;
    /// Events overlapping the filter's range, by start time then id, after `after`.
    async fn list_events(&self, user_id: Uuid, filter: &EventFilter, after: Option<EventCursor>, limit: u32) -> StoreResult<Page<Event>>;
    /// Updates the event and records `activity`; false (and no record) if the user has no such event.
    async fn update_event(&self, event: &Event, activity: &Activity) -> StoreResult<bool>;
    /// Deletes the event, unlinks the notes about it and its follow-up tasks and records
    /// `activity`, in one transaction; `None` (and no change) if the user has no such event.
    async fn delete_event(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<Option<EventDeletion>>;
    /// Every all-day event of the user (their instants depend on the user's time zone).
    async fn all_day_events(&self, user_id: Uuid) -> StoreResult<Vec<Event>>;
    /// The user's IANA time zone name; `None` if there is no such user.
    async fn time_zone(&self, user_id: Uuid) -> StoreResult<Option<String>>;
    /// Sets the user's time zone and, in the same transaction, moves each listed all-day event
    /// (id, its dates as read, its new instants) — unless its dates changed meanwhile.
    async fn set_time_zone(
        &self,
        user_id: Uuid,
        time_zone: &str,
        all_day: &[(Uuid, (NaiveDate, NaiveDate), DateTime<Utc>, DateTime<Utc>)],
    ) -> StoreResult<bool>;
}

/// What deleting an event did besides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDeletion {
    /// Notes about the event, now about none.
    pub notes_unlinked: u64,
    /// Its follow-up tasks, kept, now of no meeting.
    pub tasks_unlinked: u64,
}

const EVENT_COLUMNS: &str = "SELECT id, user_id, title, description, start_at, end_at, start_date, end_date, location, attendees, kind, \
     created_at, updated_at FROM events";

pub(super) fn event_from(row: &dyn Cols) -> StoreResult<Event> {
    let all_day = match (row.opt_date("start_date")?, row.opt_date("end_date")?) {
        (Some(first), Some(last)) => Some((first, last)),
        (None, None) => None,
        _ => return Err(StoreError::Corrupt("events: one of start_date and end_date".into())),
    };
    Ok(Event {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        title: row.text("title")?,
        description: row.text("description")?,
        start: row.ts("start_at")?,
        end: row.ts("end_at")?,
        all_day,
        location: row.opt_text("location")?,
        attendees: serde_json::from_value(row.json("attendees")?).map_err(|_| StoreError::Corrupt("attendees".into()))?,
        kind: row.text("kind")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

/// Binds what an insert and an update both write, in this order: title, description, start_at,
/// end_at, start_date, end_date, location, attendees, kind.
fn fields<'a>(q: Stmt<'a>, e: &'a Event) -> Stmt<'a> {
    q.bind(&e.title)
        .bind(&e.description)
        .bind(e.start)
        .bind(e.end)
        .bind(e.all_day.map(|d| d.0))
        .bind(e.all_day.map(|d| d.1))
        .bind(&e.location)
        .bind(serde_json::Value::from(e.attendees.clone()))
        .bind(&e.kind)
}

/// The statement that inserts the event.
pub(super) fn insert_event_stmt(e: &Event) -> Stmt<'_> {
    let insert = Stmt::new(
        "INSERT INTO events (id, user_id, title, description, start_at, end_at, start_date, end_date, location, attendees, kind, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.id)
    .bind(e.user_id);
    fields(insert, e).bind(e.created_at).bind(e.updated_at)
}

#[async_trait]
impl<B: Backend> EventStore for B {
    async fn insert_event(&self, e: &Event, activity: &Activity) -> StoreResult<()> {
        recorded(self, insert_event_stmt(e), Record::Activity(activity)).await?;
        Ok(())
    }

    async fn event(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Event>> {
        self.fetch_optional(Stmt::new(EVENT_COLUMNS).push(" WHERE id = ? AND user_id = ?").bind(id).bind(user_id), event_from).await
    }

    async fn list_events(&self, user_id: Uuid, f: &EventFilter, after: Option<EventCursor>, limit: u32) -> StoreResult<Page<Event>> {
        let mut q = Stmt::new(EVENT_COLUMNS).push_bind(" WHERE user_id = ?", user_id);
        if let Some(from) = f.from {
            q = q.push_bind(" AND end_at > ?", from);
        }
        if let Some(to) = f.to {
            q = q.push_bind(" AND start_at < ?", to);
        }
        if let Some(kind) = &f.kind {
            q = q.push_bind(" AND kind = ?", kind);
        }
        if let Some((start, id)) = after {
            q = q.push(" AND (start_at > ? OR (start_at = ? AND id > ?))").bind(start).bind(start).bind(id);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY start_at, id LIMIT ?", i64::from(limit) + 1), event_from).await?;
        Ok(page(items, limit, |e| e.id))
    }

    async fn update_event(&self, e: &Event, activity: &Activity) -> StoreResult<bool> {
        let update = Stmt::new(
            "UPDATE events SET title = ?, description = ?, start_at = ?, end_at = ?, start_date = ?, end_date = ?, location = ?, \
             attendees = ?, kind = ?, updated_at = ? WHERE id = ? AND user_id = ?",
        );
        let update = fields(update, e).bind(e.updated_at).bind(e.id).bind(e.user_id);
        recorded(self, update, Record::Activity(activity)).await
    }

    async fn delete_event(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<Option<EventDeletion>> {
        // One transaction, so that what points at the event (notes, follow-up tasks) is unlinked in it.
        let mut tx = self.begin().await?;
        if tx.execute(Stmt::new("DELETE FROM events WHERE id = ? AND user_id = ?").bind(id).bind(user_id)).await? == 0 {
            return Ok(None);
        }
        // Notes and tasks have no foreign key to events: unlink them here.
        let notes = Stmt::new("UPDATE notes SET event_id = NULL, updated_at = ? WHERE user_id = ? AND event_id = ?");
        let notes_unlinked = tx.execute(notes.bind(activity.at).bind(user_id).bind(id)).await?;
        let tasks = Stmt::new("UPDATE tasks SET event_id = NULL, updated_at = ? WHERE user_id = ? AND event_id = ?");
        let tasks_unlinked = tx.execute(tasks.bind(activity.at).bind(user_id).bind(id)).await?;
        tx.execute(record(Record::Activity(activity))).await?;
        tx.commit().await?;
        Ok(Some(EventDeletion { notes_unlinked, tasks_unlinked }))
    }

    async fn all_day_events(&self, user_id: Uuid) -> StoreResult<Vec<Event>> {
        let q = Stmt::new(EVENT_COLUMNS).push_bind(" WHERE user_id = ? AND start_date IS NOT NULL ORDER BY start_at, id", user_id);
        self.fetch_all(q, event_from).await
    }

    async fn time_zone(&self, user_id: Uuid) -> StoreResult<Option<String>> {
        self.fetch_optional(Stmt::new("SELECT time_zone FROM users WHERE id = ?").bind(user_id), |r| r.text("time_zone")).await
    }

    async fn set_time_zone(
        &self,
        user_id: Uuid,
        time_zone: &str,
        all_day: &[(Uuid, (NaiveDate, NaiveDate), DateTime<Utc>, DateTime<Utc>)],
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let found = tx.execute(Stmt::new("UPDATE users SET time_zone = ? WHERE id = ?").bind(time_zone).bind(user_id)).await? > 0;
        if found {
            for (id, (first, last), start, end) in all_day {
                let moved = Stmt::new(
                    "UPDATE events SET start_at = ?, end_at = ? WHERE id = ? AND user_id = ? AND start_date = ? AND end_date = ?",
                );
                tx.execute(moved.bind(*start).bind(*end).bind(*id).bind(user_id).bind(*first).bind(*last)).await?;
            }
        }
        tx.commit().await?;
        Ok(found)
    }
}
