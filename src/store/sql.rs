//! SQL written once for both databases: statements with `?` placeholders and typed arguments
//! (`Stmt`, `Arg`), rows read through typed getters (`Cols`), and the queries themselves as one
//! generic implementation over a `Backend` — what each database provides: running a statement,
//! reading rows, transactions, and the few clauses where the dialects truly differ (`Dialect`).
//!
//! SQLite keeps ids as text, timestamps as fixed-width RFC 3339 text and JSON as text;
//! PostgreSQL has UUID, TIMESTAMPTZ, DATE and JSONB. Each backend binds `Arg`s and implements
//! `Cols` for its rows accordingly, so the queries and the row mapping here see only Rust types.
//!
//! The workspace (projects, tasks, comments, activity, idempotency keys) lives here; accounts,
//! keys and OAuth are still written per database in `sqlite.rs` and `postgres.rs`.
use std::borrow::Cow;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;

/// One argument of a statement. `None`s are typed NULLs (PostgreSQL wants to know the type).
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Uuid(Option<Uuid>),
    Text(Option<Cow<'a, str>>),
    Bytes(&'a [u8]),
    Ts(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    Int(i64),
    Json(serde_json::Value),
}

macro_rules! arg_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl<'a> From<$t> for Arg<'a> {
            fn from($v: $t) -> Self { $e }
        })*
    };
}

arg_from! {
    Uuid => |v| Arg::Uuid(Some(v)),
    Option<Uuid> => |v| Arg::Uuid(v),
    &'a str => |v| Arg::Text(Some(Cow::Borrowed(v))),
    &'a String => |v| Arg::Text(Some(Cow::Borrowed(v))),
    String => |v| Arg::Text(Some(Cow::Owned(v))),
    Option<&'a String> => |v| Arg::Text(v.map(|s| Cow::Borrowed(s.as_str()))),
    &'a Option<String> => |v| Arg::Text(v.as_deref().map(Cow::Borrowed)),
    &'a [u8] => |v| Arg::Bytes(v),
    &'a Vec<u8> => |v| Arg::Bytes(v),
    DateTime<Utc> => |v| Arg::Ts(Some(v)),
    Option<DateTime<Utc>> => |v| Arg::Ts(v),
    NaiveDate => |v| Arg::Date(Some(v)),
    Option<NaiveDate> => |v| Arg::Date(v),
    i64 => |v| Arg::Int(v),
    u32 => |v| Arg::Int(i64::from(v)),
    serde_json::Value => |v| Arg::Json(v),
}

/// A statement: SQL with `?` for each argument, in order.
#[derive(Debug, Clone)]
pub struct Stmt<'a> {
    pub sql: Cow<'static, str>,
    pub args: Vec<Arg<'a>>,
}

impl<'a> Stmt<'a> {
    pub fn new(sql: &'static str) -> Self {
        Self { sql: Cow::Borrowed(sql), args: Vec::new() }
    }

    pub fn bind(mut self, arg: impl Into<Arg<'a>>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends SQL (for statements built from optional filters).
    pub fn push(mut self, sql: &str) -> Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Appends SQL whose `?`s take these arguments.
    pub fn push_bind(self, sql: &str, arg: impl Into<Arg<'a>>) -> Self {
        self.push(sql).bind(arg)
    }
}

/// `?` placeholders as PostgreSQL's `$1, $2, …` (outside string literals).
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            c => out.push(c),
        }
    }
    out
}

/// Where the two databases' SQL truly differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A task's `tags` (a JSON array of strings) contains the bound tag.
    fn has_tag(self) -> &'static str {
        match self {
            Dialect::Sqlite => " AND EXISTS (SELECT 1 FROM json_each(tasks.tags) WHERE json_each.value = ?)",
            Dialect::Postgres => " AND tags @> jsonb_build_array(?::text)",
        }
    }

    /// Case-insensitive LIKE (SQLite's LIKE already is, for ASCII).
    fn ilike(self) -> &'static str {
        match self {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }
}

/// A row's columns as Rust types, whatever the database stores.
pub trait Cols {
    fn uuid(&self, col: &str) -> StoreResult<Uuid>;
    fn opt_uuid(&self, col: &str) -> StoreResult<Option<Uuid>>;
    fn text(&self, col: &str) -> StoreResult<String>;
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn ts(&self, col: &str) -> StoreResult<DateTime<Utc>>;
    fn opt_ts(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>>;
    fn opt_date(&self, col: &str) -> StoreResult<Option<NaiveDate>>;
    fn json(&self, col: &str) -> StoreResult<serde_json::Value>;
}

pub type Map<T> = fn(&dyn Cols) -> StoreResult<T>;

/// What a database provides to the shared queries.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    type Tx: Tx;
    const DIALECT: Dialect;
    /// A write that commits by itself.
    async fn execute(&self, stmt: Stmt<'_>) -> StoreResult<u64>;
    async fn fetch_all<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Vec<T>>;
    async fn fetch_optional<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>>;
    async fn begin(&self) -> StoreResult<Self::Tx>;
}

/// A transaction: everything in it commits together, or nothing does.
#[async_trait]
pub trait Tx: Send {
    async fn execute(&mut self, stmt: Stmt<'_>) -> StoreResult<u64>;
    async fn fetch_optional<T: Send + 'static>(&mut self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>>;
    async fn commit(self) -> StoreResult<()>;
}

/// The statement that writes a change's record.
pub fn record(record: Record<'_>) -> Stmt<'_> {
    match record {
        Record::Activity(a) => {
            Stmt::new("INSERT INTO activity (id, user_id, entity_type, entity_id, title, action, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(a.id)
                .bind(a.user_id)
                .bind(a.entity_type)
                .bind(a.entity_id)
                .bind(&a.title)
                .bind(a.action)
                .bind(a.at)
        }
        Record::Audit(e) => Stmt::new("INSERT INTO audit_events (id, user_id, kind, detail, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(e.id)
            .bind(e.user_id)
            .bind(&e.kind)
            .bind(&e.detail)
            .bind(e.created_at),
    }
}

/// One change and the record of it, in one transaction; false (and no record) if the change
/// touched no row.
pub async fn recorded<B: Backend>(db: &B, change: Stmt<'_>, rec: Record<'_>) -> StoreResult<bool> {
    let mut tx = db.begin().await?;
    let changed = tx.execute(change).await? > 0;
    if changed {
        tx.execute(record(rec)).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

fn project_from(row: &dyn Cols) -> StoreResult<Project> {
    Ok(Project {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        name: row.text("name")?,
        description: row.text("description")?,
        status: row.text("status")?,
        start_date: row.opt_date("start_date")?,
        due_date: row.opt_date("due_date")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

fn task_from(row: &dyn Cols) -> StoreResult<Task> {
    Ok(Task {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        project_id: row.opt_uuid("project_id")?,
        title: row.text("title")?,
        description: row.text("description")?,
        status: row.text("status")?,
        priority: row.text("priority")?,
        due_date: row.opt_date("due_date")?,
        assignee: row.opt_text("assignee")?,
        completed_at: row.opt_ts("completed_at")?,
        tags: serde_json::from_value(row.json("tags")?).map_err(|_| StoreError::Corrupt("tags".into()))?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

fn comment_from(row: &dyn Cols) -> StoreResult<Comment> {
    Ok(Comment { id: row.uuid("id")?, task_id: row.uuid("task_id")?, body: row.text("body")?, created_at: row.ts("created_at")? })
}

fn activity_from(row: &dyn Cols) -> StoreResult<ActivityEntry> {
    Ok(ActivityEntry {
        id: row.uuid("id")?,
        entity_type: row.text("entity_type")?,
        entity_id: row.uuid("entity_id")?,
        title: row.text("title")?,
        action: row.text("action")?,
        at: row.ts("at")?,
    })
}

const TASK_COLUMNS: &str = "SELECT id, user_id, project_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at FROM tasks";

fn tags(t: &Task) -> serde_json::Value {
    serde_json::Value::from(t.tags.clone())
}

#[async_trait]
impl<B: Backend> WorkspaceStore for B {
    async fn insert_project(&self, p: &Project, activity: &Activity) -> StoreResult<()> {
        let insert = Stmt::new(
            "INSERT INTO projects (id, user_id, name, description, status, start_date, due_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id)
        .bind(p.user_id)
        .bind(&p.name)
        .bind(&p.description)
        .bind(&p.status)
        .bind(p.start_date)
        .bind(p.due_date)
        .bind(p.created_at)
        .bind(p.updated_at);
        recorded(self, insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn project(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Project>> {
        self.fetch_optional(Stmt::new("SELECT * FROM projects WHERE id = ? AND user_id = ?").bind(id).bind(user_id), project_from).await
    }

    async fn list_projects(
        &self,
        user_id: Uuid,
        status: Option<&str>,
        include_archived: bool,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Page<Project>> {
        let mut q = Stmt::new("SELECT * FROM projects WHERE user_id = ?").bind(user_id);
        if let Some(status) = status {
            q = q.push_bind(" AND status = ?", status);
        } else if !include_archived {
            q = q.push(" AND status <> 'archived'");
        }
        if let Some(after) = after {
            q = q.push_bind(" AND id < ?", after);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), project_from).await?;
        Ok(page(items, limit, |p| p.id))
    }

    async fn update_project(&self, p: &Project, activity: &Activity) -> StoreResult<bool> {
        let update = Stmt::new(
            "UPDATE projects SET name = ?, description = ?, status = ?, start_date = ?, due_date = ?, updated_at = ? WHERE id = ? AND user_id = ?",
        )
        .bind(&p.name)
        .bind(&p.description)
        .bind(&p.status)
        .bind(p.start_date)
        .bind(p.due_date)
        .bind(p.updated_at)
        .bind(p.id)
        .bind(p.user_id);
        recorded(self, update, Record::Activity(activity)).await
    }

    async fn delete_project(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool> {
        recorded(self, Stmt::new("DELETE FROM projects WHERE id = ? AND user_id = ?").bind(id).bind(user_id), Record::Activity(activity))
            .await
    }

    async fn task_counts(&self, user_id: Uuid, project_id: Uuid) -> StoreResult<Vec<(String, i64)>> {
        let q = Stmt::new("SELECT status, COUNT(*) AS n FROM tasks WHERE user_id = ? AND project_id = ? GROUP BY status")
            .bind(user_id)
            .bind(project_id);
        self.fetch_all(q, |r| Ok((r.text("status")?, r.int("n")?))).await
    }

    async fn open_task_counts(&self, user_id: Uuid, project_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, i64)>> {
        if project_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Stmt::new("SELECT project_id, COUNT(*) AS n FROM tasks WHERE user_id = ? AND status <> 'done' AND project_id IN (")
            .bind(user_id);
        for (i, id) in project_ids.iter().enumerate() {
            q = q.push_bind(if i == 0 { "?" } else { ", ?" }, *id);
        }
        self.fetch_all(q.push(") GROUP BY project_id"), |r| Ok((r.uuid("project_id")?, r.int("n")?))).await
    }

    async fn insert_tasks(&self, tasks: &[Task], activities: &[Activity]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for t in tasks {
            let insert = Stmt::new(
                "INSERT INTO tasks (id, user_id, project_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(t.id)
            .bind(t.user_id)
            .bind(t.project_id)
            .bind(&t.title)
            .bind(&t.description)
            .bind(&t.status)
            .bind(&t.priority)
            .bind(t.due_date)
            .bind(&t.assignee)
            .bind(t.completed_at)
            .bind(tags(t))
            .bind(t.created_at)
            .bind(t.updated_at);
            tx.execute(insert).await?;
        }
        for a in activities {
            tx.execute(record(Record::Activity(a))).await?;
        }
        tx.commit().await
    }

    async fn task(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Task>> {
        self.fetch_optional(Stmt::new(TASK_COLUMNS).push(" WHERE id = ? AND user_id = ?").bind(id).bind(user_id), task_from).await
    }

    async fn list_tasks(&self, user_id: Uuid, f: &TaskFilter, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Task>> {
        let mut q = Stmt::new(TASK_COLUMNS).push_bind(" WHERE user_id = ?", user_id);
        if let Some(p) = f.project_id {
            q = q.push_bind(" AND project_id = ?", p);
        }
        if !f.statuses.is_empty() {
            q = q.push(" AND status IN (");
            for (i, s) in f.statuses.iter().enumerate() {
                q = q.push_bind(if i == 0 { "?" } else { ", ?" }, s);
            }
            q = q.push(")");
        } else if !f.include_done {
            q = q.push(" AND status <> 'done'");
        }
        if let Some(p) = &f.priority {
            q = q.push_bind(" AND priority = ?", p);
        }
        if let Some(d) = f.due_from {
            q = q.push_bind(" AND due_date >= ?", d);
        }
        if let Some(d) = f.due_to {
            q = q.push_bind(" AND due_date <= ?", d);
        }
        if let Some(tag) = &f.tag {
            q = q.push_bind(Self::DIALECT.has_tag(), tag);
        }
        if let Some(a) = &f.assignee {
            q = q.push_bind(" AND assignee = ?", a);
        }
        if let Some(text) = &f.text {
            // The pattern's own wildcards are escaped.
            let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            let like = Self::DIALECT.ilike();
            q = q
                .push(&format!(" AND (title {like} ? ESCAPE '\\' OR description {like} ? ESCAPE '\\')"))
                .bind(pattern.clone())
                .bind(pattern);
        }
        if let Some(after) = after {
            q = q.push_bind(" AND id < ?", after);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), task_from).await?;
        Ok(page(items, limit, |t| t.id))
    }

    async fn update_task(&self, t: &Task, activity: &Activity) -> StoreResult<bool> {
        let update = Stmt::new(
            "UPDATE tasks SET project_id = ?, title = ?, description = ?, status = ?, priority = ?, due_date = ?, assignee = ?, completed_at = ?, \
             tags = ?, updated_at = ? WHERE id = ? AND user_id = ?",
        )
        .bind(t.project_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(&t.status)
        .bind(&t.priority)
        .bind(t.due_date)
        .bind(&t.assignee)
        .bind(t.completed_at)
        .bind(tags(t))
        .bind(t.updated_at)
        .bind(t.id)
        .bind(t.user_id);
        recorded(self, update, Record::Activity(activity)).await
    }

    async fn delete_task(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool> {
        recorded(self, Stmt::new("DELETE FROM tasks WHERE id = ? AND user_id = ?").bind(id).bind(user_id), Record::Activity(activity)).await
    }

    async fn insert_comment(&self, user_id: Uuid, c: &Comment, activity: &Activity) -> StoreResult<()> {
        let insert = Stmt::new("INSERT INTO comments (id, user_id, task_id, body, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(c.id)
            .bind(user_id)
            .bind(c.task_id)
            .bind(&c.body)
            .bind(c.created_at);
        recorded(self, insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn list_comments(&self, user_id: Uuid, task_id: Uuid, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Comment>> {
        let mut q =
            Stmt::new("SELECT id, task_id, body, created_at FROM comments WHERE user_id = ? AND task_id = ?").bind(user_id).bind(task_id);
        if let Some(after) = after {
            q = q.push_bind(" AND id > ?", after);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id LIMIT ?", i64::from(limit) + 1), comment_from).await?;
        Ok(page(items, limit, |c| c.id))
    }

    async fn list_activity(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> StoreResult<Page<ActivityEntry>> {
        let mut q = Stmt::new("SELECT id, entity_type, entity_id, title, action, at FROM activity WHERE user_id = ?").bind(user_id);
        if let Some(before) = before {
            q = q.push_bind(" AND id < ?", before);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), activity_from).await?;
        Ok(page(items, limit, |a| a.id))
    }

    async fn reserve_idempotency_key(
        &self,
        user_id: Uuid,
        key: &str,
        fingerprint: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<IdempotencyRecord> {
        // Of two requests racing with one key, one inserts; the other waits for it (SQLite's
        // write lock, PostgreSQL's unique index), then finds the key taken.
        let mut tx = self.begin().await?;
        let expired = Stmt::new("DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND created_at < ?");
        tx.execute(expired.bind(user_id).bind(key).bind(now - IDEMPOTENCY_KEPT)).await?;
        let insert =
            Stmt::new("INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
        let record = if tx.execute(insert.bind(user_id).bind(key).bind(fingerprint).bind(now)).await? > 0 {
            IdempotencyRecord::Reserved
        } else {
            let taken =
                Stmt::new("SELECT fingerprint, status, body FROM idempotency_keys WHERE user_id = ? AND key = ?").bind(user_id).bind(key);
            tx.fetch_optional(taken, |r| {
                let response = r.opt_int("status")?.zip(r.opt_text("body")?).map(|(s, b)| (u16::try_from(s).unwrap_or(500), b));
                Ok(IdempotencyRecord::Taken { fingerprint: r.bytes("fingerprint")?, response })
            })
            .await?
            .ok_or(StoreError::Conflict)?
        };
        tx.commit().await?;
        Ok(record)
    }

    async fn complete_idempotency_key(&self, user_id: Uuid, key: &str, status: u16, body: &str) -> StoreResult<()> {
        let update = Stmt::new("UPDATE idempotency_keys SET status = ?, body = ? WHERE user_id = ? AND key = ?");
        self.execute(update.bind(i64::from(status)).bind(body).bind(user_id).bind(key)).await?;
        Ok(())
    }

    async fn release_idempotency_key(&self, user_id: Uuid, key: &str) -> StoreResult<()> {
        let delete = Stmt::new("DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND status IS NULL");
        self.execute(delete.bind(user_id).bind(key)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_outside_literals() {
        assert_eq!(numbered("SELECT * FROM t WHERE a = ? AND b IN (?, ?)"), "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(numbered("SELECT '?' || ? FROM t WHERE c LIKE ? ESCAPE '\\'"), "SELECT '?' || $1 FROM t WHERE c LIKE $2 ESCAPE '\\'");
    }
}
