//! Tags: the entity, its queries (`TagStore`), and how items carry tags (`Taggable`, and the
//! helpers the tasks' and notes' writes use to keep an item's links and its `tags` column equal).
use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::sql::{Backend, Cols, Stmt, Tx, record, recorded};
use super::{Activity, Page, Record, StoreError, StoreResult, page};

#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tag with how many items of each kind carry it.
#[derive(Debug, Clone)]
pub struct TagUse {
    pub tag: Tag,
    pub tasks: i64,
    pub notes: i64,
    pub projects: i64,
}

/// The colour of a tag made without one (also what the 0009 migration gave the tags it made).
pub const DEFAULT_TAG_COLOR: &str = "#6B7280";

/// What makes two tag names one tag: the name with ASCII letters lower-cased, so `Urgent` and
/// `urgent` are one tag. Other letters compare exactly: ASCII folding is what SQLite's own
/// `lower()` does, so the migration that turned existing task tags into tags keyed them alike.
pub fn tag_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The kinds of item a tag can be put on.
///
/// Which tags an item carries is recorded twice, in one transaction: as links (a table per kind,
/// `task_tags`…, with foreign keys to the tag and the item, so that deleting either deletes the
/// link), which are the truth that filters and counts use, and as the names in the item's own
/// `tags` column, in the order they were given, so that an item (and a page of them, on the hot
/// path of `list_tasks`) reads back with its tags without a join. Every write of an item's tags
/// goes through the helpers below, which keep the two equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taggable {
    Task,
    Note,
    Project,
}

impl Taggable {
    pub fn as_str(self) -> &'static str {
        match self {
            Taggable::Task => "task",
            Taggable::Note => "note",
            Taggable::Project => "project",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Taggable::Task => "tasks",
            Taggable::Note => "notes",
            Taggable::Project => "projects",
        }
    }

    fn links(self) -> &'static str {
        match self {
            Taggable::Task => "task_tags",
            Taggable::Note => "note_tags",
            Taggable::Project => "project_tags",
        }
    }

    /// ` AND` the row of the item's table carries the tag whose key (`tag_key`) is bound.
    pub(super) fn has_tag(self) -> String {
        format!(
            " AND EXISTS (SELECT 1 FROM {links} l JOIN tags g ON g.id = l.tag_id \
             WHERE l.user_id = {table}.user_id AND l.item_id = {table}.id AND g.name_key = ?)",
            links = self.links(),
            table = self.table()
        )
    }
}

/// What `tag_item` did.
#[derive(Debug, Clone)]
pub enum Tagged {
    /// The user has no such item.
    Missing,
    /// The item already carries the most tags it may: nothing was changed.
    Full,
    Done {
        tag: Tag,
        /// The tag was made for this (no tag had its name).
        created: bool,
        /// The item did not carry it before.
        added: bool,
        /// The item's tags now.
        tags: Vec<String>,
    },
}

/// What `untag_item` did.
#[derive(Debug, Clone)]
pub enum Untagged {
    /// The user has no such item.
    Missing,
    Done {
        /// The item carried the tag, and no longer does.
        removed: bool,
        /// The item's tags now.
        tags: Vec<String>,
    },
}

#[async_trait]
pub trait TagStore: Send + Sync {
    /// Inserts the tag and records `activity`; `StoreError::Conflict` if a tag of the user has its name.
    async fn insert_tag(&self, tag: &Tag, activity: &Activity) -> StoreResult<()>;
    /// The user's tags in name order (ASCII case aside), after the tag with the given id, with
    /// how many items carry each.
    async fn list_tags(&self, user_id: Uuid, after: Option<Uuid>, limit: u32) -> StoreResult<Page<TagUse>>;
    /// Puts the tag named `name` (in any case; made, grey, if there is none) on the item, unless
    /// the item already carries `max_tags`; records `activity` if the item did not carry it.
    async fn tag_item(
        &self,
        kind: Taggable,
        user_id: Uuid,
        item_id: Uuid,
        name: &str,
        max_tags: usize,
        activity: &Activity,
    ) -> StoreResult<Tagged>;
    /// Takes the tag named `name` (in any case) off the item; records `activity` if it was on it.
    async fn untag_item(&self, kind: Taggable, user_id: Uuid, item_id: Uuid, name: &str, activity: &Activity) -> StoreResult<Untagged>;
}

pub(super) fn tag_from(row: &dyn Cols) -> StoreResult<Tag> {
    Ok(Tag {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        name: row.text("name")?,
        color: row.text("color")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

/// An item's `tags` column.
pub(super) fn names_from(row: &dyn Cols) -> StoreResult<Vec<String>> {
    row.string_list("tags")
}

/// An item's `tags` column, to write.
pub(super) fn names(tags: &[String]) -> serde_json::Value {
    serde_json::Value::from(tags.to_vec())
}

/// The user's tag named `name` (in any case), made (grey) if there is none; with whether it was made.
async fn ensure_tag<T: Tx>(tx: &mut T, user_id: Uuid, name: &str, now: DateTime<Utc>) -> StoreResult<(Tag, bool)> {
    let key = tag_key(name);
    // Of two transactions making one tag, the second waits for the first and then finds its tag.
    let insert = Stmt::new(
        "INSERT INTO tags (id, user_id, name, name_key, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (user_id, name_key) DO NOTHING",
    );
    let made =
        tx.execute(insert.bind(Uuid::now_v7()).bind(user_id).bind(name).bind(&key).bind(DEFAULT_TAG_COLOR).bind(now).bind(now)).await?;
    let tag =
        tx.fetch_optional(Stmt::new("SELECT * FROM tags WHERE user_id = ? AND name_key = ?").bind(user_id).bind(key), tag_from).await?;
    Ok((tag.ok_or_else(|| StoreError::Corrupt("tags: the tag just made is gone".into()))?, made > 0))
}

/// The user's tags named `names` (in any case), by key, made (grey) where there are none. They
/// are made in key order, so that two transactions making the same new tags cannot deadlock.
pub(super) async fn ensure_tags<'n, T: Tx>(
    tx: &mut T,
    user_id: Uuid,
    names: impl Iterator<Item = &'n String>,
    now: DateTime<Utc>,
) -> StoreResult<BTreeMap<String, Tag>> {
    let mut wanted: BTreeMap<String, &String> = BTreeMap::new();
    for name in names {
        wanted.entry(tag_key(name)).or_insert(name);
    }
    let mut tags = BTreeMap::new();
    for (key, name) in wanted {
        tags.insert(key, ensure_tag(tx, user_id, name, now).await?.0);
    }
    Ok(tags)
}

/// Makes `names` the item's tags, in that order, without repeats, from `tags` (`ensure_tags` of
/// them): its links and its `tags` column. Returns the names as the tags spell them.
pub(super) async fn replace_tags<T: Tx>(
    tx: &mut T,
    kind: Taggable,
    user_id: Uuid,
    item_id: Uuid,
    names: &[String],
    tags: &BTreeMap<String, Tag>,
) -> StoreResult<Vec<String>> {
    let links = kind.links();
    tx.execute(Stmt::owned(format!("DELETE FROM {links} WHERE user_id = ? AND item_id = ?")).bind(user_id).bind(item_id)).await?;
    let mut spelled: Vec<String> = Vec::with_capacity(names.len());
    for tag in names.iter().filter_map(|name| tags.get(&tag_key(name))) {
        let link = Stmt::owned(format!("INSERT INTO {links} (user_id, tag_id, item_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"));
        if tx.execute(link.bind(user_id).bind(tag.id).bind(item_id)).await? > 0 {
            spelled.push(tag.name.clone());
        }
    }
    write_names(tx, kind, user_id, item_id, &spelled).await?;
    Ok(spelled)
}

/// `replace_tags` for one item, its tags made first.
pub(super) async fn set_tags<T: Tx>(
    tx: &mut T,
    kind: Taggable,
    user_id: Uuid,
    item_id: Uuid,
    names: &[String],
    now: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let tags = ensure_tags(tx, user_id, names.iter(), now).await?;
    replace_tags(tx, kind, user_id, item_id, names, &tags).await
}

/// An item's update (`change`, which touches its row or none), with `tags` made its tags when
/// given (and then spelled as the tags are), and its `activity`, in one transaction; false (and
/// nothing changed) if the user has no such item.
pub(super) async fn update_tagged<B: Backend>(
    db: &B,
    kind: Taggable,
    user_id: Uuid,
    item_id: Uuid,
    change: Stmt<'_>,
    tags: Option<&mut Vec<String>>,
    activity: &Activity,
) -> StoreResult<bool> {
    let Some(tags) = tags else {
        return recorded(db, change, Record::Activity(activity)).await;
    };
    let mut tx = db.begin().await?;
    if tx.execute(change).await? == 0 {
        return Ok(false);
    }
    *tags = set_tags(&mut tx, kind, user_id, item_id, tags, activity.at).await?;
    tx.execute(record(Record::Activity(activity))).await?;
    tx.commit().await?;
    Ok(true)
}

async fn write_names<T: Tx>(tx: &mut T, kind: Taggable, user_id: Uuid, item_id: Uuid, tags: &[String]) -> StoreResult<()> {
    let update = Stmt::owned(format!("UPDATE {} SET tags = ? WHERE user_id = ? AND id = ?", kind.table()));
    tx.execute(update.bind(names(tags)).bind(user_id).bind(item_id)).await?;
    Ok(())
}

/// Starts a change of the item's tags: locks the item (its row; on SQLite the database), so that
/// changes of one item's tags queue up and each reads the tags the last one left, and returns
/// those tags; `None` if the user has no such item.
async fn lock_tags<T: Tx>(
    tx: &mut T,
    kind: Taggable,
    user_id: Uuid,
    item_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<Option<Vec<String>>> {
    let table = kind.table();
    let touch = Stmt::owned(format!("UPDATE {table} SET updated_at = ? WHERE user_id = ? AND id = ?"));
    if tx.execute(touch.bind(now).bind(user_id).bind(item_id)).await? == 0 {
        return Ok(None);
    }
    let read = Stmt::owned(format!("SELECT tags FROM {table} WHERE user_id = ? AND id = ?"));
    tx.fetch_optional(read.bind(user_id).bind(item_id), names_from).await
}

#[async_trait]
impl<B: Backend> TagStore for B {
    async fn insert_tag(&self, t: &Tag, activity: &Activity) -> StoreResult<()> {
        let insert =
            Stmt::new("INSERT INTO tags (id, user_id, name, name_key, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(t.id)
                .bind(t.user_id)
                .bind(&t.name)
                .bind(tag_key(&t.name))
                .bind(&t.color)
                .bind(t.created_at)
                .bind(t.updated_at);
        recorded(self, insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn list_tags(&self, user_id: Uuid, after: Option<Uuid>, limit: u32) -> StoreResult<Page<TagUse>> {
        let mut q = Stmt::new(
            "SELECT g.*, (SELECT COUNT(*) FROM task_tags l WHERE l.tag_id = g.id) AS tasks, \
             (SELECT COUNT(*) FROM note_tags l WHERE l.tag_id = g.id) AS notes, \
             (SELECT COUNT(*) FROM project_tags l WHERE l.tag_id = g.id) AS projects FROM tags g WHERE g.user_id = ?",
        )
        .bind(user_id);
        if let Some(after) = after {
            // Keys are unique per user, so the cursor's tag names exactly where the page starts.
            q = q.push(" AND g.name_key > (SELECT c.name_key FROM tags c WHERE c.user_id = ? AND c.id = ?)").bind(user_id).bind(after);
        }
        let items = self
            .fetch_all(q.push_bind(" ORDER BY g.name_key LIMIT ?", i64::from(limit) + 1), |r| {
                Ok(TagUse { tag: tag_from(r)?, tasks: r.int("tasks")?, notes: r.int("notes")?, projects: r.int("projects")? })
            })
            .await?;
        Ok(page(items, limit, |t| t.tag.id))
    }

    async fn tag_item(
        &self,
        kind: Taggable,
        user_id: Uuid,
        item_id: Uuid,
        name: &str,
        max_tags: usize,
        activity: &Activity,
    ) -> StoreResult<Tagged> {
        let mut tx = self.begin().await?;
        let Some(mut tags) = lock_tags(&mut tx, kind, user_id, item_id, activity.at).await? else {
            return Ok(Tagged::Missing);
        };
        let (tag, created) = ensure_tag(&mut tx, user_id, name, activity.at).await?;
        let link = Stmt::owned(format!("INSERT INTO {} (user_id, tag_id, item_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", kind.links()));
        // Already there, or no room: the transaction is dropped, so nothing changed (not even updated_at).
        if tx.execute(link.bind(user_id).bind(tag.id).bind(item_id)).await? == 0 {
            return Ok(Tagged::Done { tag, created, added: false, tags });
        }
        if tags.len() >= max_tags {
            return Ok(Tagged::Full);
        }
        tags.push(tag.name.clone());
        write_names(&mut tx, kind, user_id, item_id, &tags).await?;
        tx.execute(record(Record::Activity(activity))).await?;
        tx.commit().await?;
        Ok(Tagged::Done { tag, created, added: true, tags })
    }

    async fn untag_item(&self, kind: Taggable, user_id: Uuid, item_id: Uuid, name: &str, activity: &Activity) -> StoreResult<Untagged> {
        let mut tx = self.begin().await?;
        let Some(mut tags) = lock_tags(&mut tx, kind, user_id, item_id, activity.at).await? else {
            return Ok(Untagged::Missing);
        };
        let unlink = Stmt::owned(format!(
            "DELETE FROM {} WHERE user_id = ? AND item_id = ? AND tag_id IN (SELECT id FROM tags WHERE user_id = ? AND name_key = ?)",
            kind.links()
        ));
        // Not there: the transaction is dropped, so nothing changed.
        if tx.execute(unlink.bind(user_id).bind(item_id).bind(user_id).bind(tag_key(name))).await? == 0 {
            return Ok(Untagged::Done { removed: false, tags });
        }
        tags.retain(|t| tag_key(t) != tag_key(name));
        write_names(&mut tx, kind, user_id, item_id, &tags).await?;
        tx.execute(record(Record::Activity(activity))).await?;
        tx.commit().await?;
        Ok(Untagged::Done { removed: true, tags })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_one_tag_whatever_their_ascii_case() {
        assert_eq!(tag_key("Urgent"), tag_key("uRGENT"));
        assert_ne!(tag_key("Été"), tag_key("été"));
    }
}
