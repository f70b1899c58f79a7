//! SQL written once for both databases: statements with `?` placeholders and typed arguments
//! (`Stmt`, `Arg`), rows read through typed getters (`Cols`), and the queries themselves as one
//! generic implementation over a `Backend` — what each database provides: running a statement,
//! reading rows, transactions, and the few clauses where the dialects truly differ (`Dialect`).
//!
//! SQLite keeps ids as text, timestamps as fixed-width RFC 3339 text and JSON as text;
//! PostgreSQL has UUID, TIMESTAMPTZ, DATE and JSONB. Each backend binds `Arg`s and implements
//! `Cols` for its rows accordingly, so the queries and the row mapping here see only Rust types.
//!
//! Every query of `Store` lives here. What stays in `sqlite.rs` and `postgres.rs` is what truly
//! differs: connecting, binding, migrations, and the sign-in throttle's locking.
use std::borrow::Cow;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::tags::{ensure_tags, names, names_from, replace_tags, update_tagged};
use super::*;

/// One argument of a statement. `None`s are typed NULLs (PostgreSQL wants to know the type).
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Uuid(Option<Uuid>),
    Text(Option<Cow<'a, str>>),
    Bytes(Option<&'a [u8]>),
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
    &'a [u8] => |v| Arg::Bytes(Some(v)),
    &'a Vec<u8> => |v| Arg::Bytes(Some(v)),
    Option<&'a [u8]> => |v| Arg::Bytes(v),
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

    /// A statement whose SQL is put together at run time (from names of tables, never from input).
    pub fn owned(sql: String) -> Self {
        Self { sql: Cow::Owned(sql), args: Vec::new() }
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
    /// The user with the bound email, whatever its case (SQLite's column is NOCASE, and indexed so).
    fn email_is(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT * FROM users WHERE email = ?",
            Dialect::Postgres => "SELECT * FROM users WHERE lower(email) = lower(?)",
        }
    }

    /// Full-text search of one user's `search_documents` (see `search.rs`): the statement up to
    /// its WHERE, whose `?`s take `search_terms` and the user id, with the columns doc_type,
    /// doc_id, parent_id, title, snippet (matches between `**`) and score (the rank as text, higher
    /// is better); and its ORDER BY, best first. SQLite: FTS5 and bm25; PostgreSQL: a `tsvector`
    /// and ts_rank. Title matches weigh more than body matches on both.
    pub(super) fn search(self) -> (&'static str, &'static str) {
        match self {
            Dialect::Sqlite => (
                "SELECT d.doc_type, d.doc_id, d.parent_id, d.title, snippet(search_fts, -1, '**', '**', '…', 16) AS snippet, \
                 CAST(-bm25(search_fts, 4.0, 1.0) AS TEXT) AS score \
                 FROM search_fts JOIN search_documents d ON d.seq = search_fts.rowid WHERE search_fts MATCH ? AND d.user_id = ?",
                " ORDER BY bm25(search_fts, 4.0, 1.0), d.doc_id",
            ),
            Dialect::Postgres => (
                "SELECT d.doc_type, d.doc_id, d.parent_id, d.title, \
                 CASE WHEN to_tsvector('simple'::regconfig, search_fold(d.body)) @@ q \
                 THEN ts_headline('simple'::regconfig, d.body, q, 'StartSel=\"**\", StopSel=\"**\", MaxWords=24, MinWords=8, ShortWord=0, MaxFragments=2, FragmentDelimiter=\" … \"') \
                 ELSE ts_headline('simple'::regconfig, d.title, q, 'StartSel=\"**\", StopSel=\"**\", HighlightAll=true') END AS snippet, \
                 ts_rank(d.document, q)::float8::text AS score \
                 FROM search_documents d, to_tsquery('simple'::regconfig, replace(search_fold(?), ' ', ':* & ') || ':*') AS q \
                 WHERE d.document @@ q AND d.user_id = ?",
                " ORDER BY ts_rank(d.document, q) DESC, d.doc_id",
            ),
        }
    }

    /// A search's words (letters and digits only) as the first argument of `search`: each a
    /// quoted prefix, all required. Never query syntax, whatever the user typed.
    pub(super) fn search_terms(self, words: &[String]) -> String {
        match self {
            Dialect::Sqlite => words.iter().map(|w| format!("\"{}\"*", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" "),
            // `search` makes each word a prefix and joins them with `&`.
            Dialect::Postgres => words.join(" "),
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
    fn opt_bytes(&self, col: &str) -> StoreResult<Option<Vec<u8>>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn ts(&self, col: &str) -> StoreResult<DateTime<Utc>>;
    fn opt_ts(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>>;
    fn opt_date(&self, col: &str) -> StoreResult<Option<NaiveDate>>;
    fn json(&self, col: &str) -> StoreResult<serde_json::Value>;
    /// A JSON array of strings (the tags columns).
    fn string_list(&self, col: &str) -> StoreResult<Vec<String>> {
        serde_json::from_value(self.json(col)?).map_err(|_| StoreError::Corrupt(format!("{col}: not a JSON list of strings")))
    }
}

pub type Map<T> = fn(&dyn Cols) -> StoreResult<T>;

/// What a database provides to the shared queries.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    type Tx: Tx;
    const DIALECT: Dialect;
    async fn run_migrations(&self) -> StoreResult<()>;
    /// `Store::reserve_sign_in`: the counters must be read and written under a lock that every
    /// instance respects, which each database takes its own way.
    async fn reserve_sign_in_failures(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<Option<chrono::Duration>>;
    /// A write that commits by itself.
    async fn execute(&self, stmt: Stmt<'_>) -> StoreResult<u64>;
    async fn fetch_all<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Vec<T>>;
    async fn fetch_optional<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>>;
    async fn begin(&self) -> StoreResult<Self::Tx>;
    /// A transaction whose commit must survive a power loss, not only a crash: revocations,
    /// grants and security events. PostgreSQL's every commit is; SQLite's are on a second pool.
    async fn begin_durable(&self) -> StoreResult<Self::Tx> {
        self.begin().await
    }
    /// The pool's size and idle connections.
    fn pool_use(&self) -> crate::service::metrics::PoolUse;
}

/// A transaction: everything in it commits together, or nothing does.
#[async_trait]
pub trait Tx: Send {
    async fn execute(&mut self, stmt: Stmt<'_>) -> StoreResult<u64>;
    async fn fetch_optional<T: Send + 'static>(&mut self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>>;
    async fn commit(self) -> StoreResult<()>;
}

/// The statement that writes a change's record.
/// Inserts the tasks (one user's, at least one) and their tag links, the tags made as needed,
/// inside `tx`; the caller records the activity and commits.
pub(super) async fn insert_tasks_in<T: Tx>(tx: &mut T, tasks: &mut [Task]) -> StoreResult<()> {
    let Some(first) = tasks.first() else {
        return Ok(());
    };
    let (user_id, now) = (first.user_id, first.created_at);
    // Every tag the tasks name, made once for them all.
    let tags = ensure_tags(tx, user_id, tasks.iter().flat_map(|t| &t.tags), now).await?;
    for t in tasks.iter_mut() {
        let insert = Stmt::new(
            "INSERT INTO tasks (id, user_id, project_id, event_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(t.id)
        .bind(t.user_id)
        .bind(t.project_id)
        .bind(t.event_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(&t.status)
        .bind(&t.priority)
        .bind(t.due_date)
        .bind(&t.assignee)
        .bind(t.completed_at)
        .bind(names(&t.tags))
        .bind(t.created_at)
        .bind(t.updated_at);
        tx.execute(insert).await?;
        if !t.tags.is_empty() {
            t.tags = replace_tags(tx, Taggable::Task, t.user_id, t.id, &t.tags, &tags).await?;
        }
    }
    Ok(())
}

pub fn record(record: Record<'_>) -> Stmt<'_> {
    match record {
        Record::Activity(a) => {
            Stmt::new("INSERT INTO activity (id, user_id, entity_type, entity_id, title, action, at, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(a.id)
                .bind(a.user_id)
                .bind(a.entity_type)
                .bind(a.entity_id)
                .bind(&a.title)
                .bind(a.action)
                .bind(a.at)
                .bind(&a.via)
        }
        Record::Audit(e) => {
            Stmt::new("INSERT INTO audit_events (id, user_id, kind, detail, created_at, ip, client) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(e.id)
                .bind(e.user_id)
                .bind(&e.kind)
                .bind(&e.detail)
                .bind(e.created_at)
                .bind(&e.ip)
                .bind(&e.client)
        }
    }
}

/// One change and the record of it, in one transaction; false (and no record) if the change
/// touched no row.
pub async fn recorded<B: Backend>(db: &B, change: Stmt<'_>, rec: Record<'_>) -> StoreResult<bool> {
    let mut tx = if matches!(rec, Record::Audit(_)) { db.begin_durable().await? } else { db.begin().await? };
    let changed = tx.execute(change).await? > 0;
    if changed {
        tx.execute(record(rec)).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

fn user_from(row: &dyn Cols) -> StoreResult<User> {
    Ok(User {
        id: row.uuid("id")?,
        email: row.text("email")?,
        password_hash: row.text("password_hash")?,
        created_at: row.ts("created_at")?,
    })
}

fn access_from(row: &dyn Cols, col: &str) -> StoreResult<Access> {
    Access::parse(&row.text(col)?).ok_or_else(|| StoreError::Corrupt(col.into()))
}

fn api_key_from(row: &dyn Cols) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: row.text("id")?,
        user_id: row.uuid("user_id")?,
        name: row.text("name")?,
        access: access_from(row, "scope")?,
        digest: row.bytes("digest")?,
        created_at: row.ts("created_at")?,
        expires_at: row.opt_ts("expires_at")?,
        revoked_at: row.opt_ts("revoked_at")?,
        last_used_at: row.opt_ts("last_used_at")?,
    })
}

fn audit_from(row: &dyn Cols) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        kind: row.text("kind")?,
        detail: row.text("detail")?,
        created_at: row.ts("created_at")?,
        ip: row.opt_text("ip")?,
        client: row.opt_text("client")?,
    })
}

fn client_from(row: &dyn Cols) -> StoreResult<OAuthClient> {
    Ok(OAuthClient {
        id: row.text("id")?,
        secret_digest: row.opt_bytes("secret_digest")?,
        name: row.text("name")?,
        redirect_uris: serde_json::from_value(row.json("redirect_uris")?).map_err(|_| StoreError::Corrupt("redirect_uris".into()))?,
        token_endpoint_auth_method: row.text("token_endpoint_auth_method")?,
        metadata: row.json("metadata")?,
        created_at: row.ts("created_at")?,
    })
}

/// Grant columns are selected with a `g_` prefix so they can sit beside a token's or a code's.
macro_rules! grant_columns {
    () => {
        "g.id AS g_id, g.user_id AS g_user_id, g.client_id AS g_client_id, g.scope AS g_scope, g.resource AS g_resource, \
         g.redirect_uri AS g_redirect_uri, g.created_at AS g_created_at, g.revoked_at AS g_revoked_at, g.last_used_at AS g_last_used_at"
    };
}

fn grant_from(row: &dyn Cols) -> StoreResult<Grant> {
    Ok(Grant {
        id: row.uuid("g_id")?,
        user_id: row.uuid("g_user_id")?,
        client_id: row.text("g_client_id")?,
        access: access_from(row, "g_scope")?,
        resource: row.text("g_resource")?,
        redirect_uri: row.text("g_redirect_uri")?,
        created_at: row.ts("g_created_at")?,
        revoked_at: row.opt_ts("g_revoked_at")?,
        last_used_at: row.opt_ts("g_last_used_at")?,
    })
}

fn oauth_token_from(row: &dyn Cols) -> StoreResult<OAuthToken> {
    Ok(OAuthToken {
        id: row.text("id")?,
        kind: match row.text("kind")?.as_str() {
            "access" => OAuthTokenKind::Access,
            "refresh" => OAuthTokenKind::Refresh,
            _ => return Err(StoreError::Corrupt("kind".into())),
        },
        grant_id: row.uuid("grant_id")?,
        digest: row.bytes("digest")?,
        access: access_from(row, "scope")?,
        created_at: row.ts("created_at")?,
        expires_at: row.ts("expires_at")?,
        used_at: row.opt_ts("used_at")?,
        revoked_at: row.opt_ts("revoked_at")?,
    })
}

fn code_from(row: &dyn Cols) -> StoreResult<AuthCode> {
    Ok(AuthCode {
        id: row.text("id")?,
        digest: row.bytes("digest")?,
        grant_id: row.uuid("grant_id")?,
        redirect_uri: row.text("redirect_uri")?,
        code_challenge: row.text("code_challenge")?,
        expires_at: row.ts("expires_at")?,
        used_at: row.opt_ts("used_at")?,
    })
}

fn insert_token(t: &OAuthToken) -> Stmt<'_> {
    Stmt::new("INSERT INTO oauth_tokens (id, kind, grant_id, digest, scope, created_at, expires_at, used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(&t.id)
        .bind(t.kind.as_str())
        .bind(t.grant_id)
        .bind(&t.digest)
        .bind(t.access.as_str())
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.used_at)
        .bind(t.revoked_at)
}

fn client_row<'a>(sql: &'static str, c: &'a OAuthClient) -> Stmt<'a> {
    Stmt::new(sql)
        .bind(&c.id)
        .bind(c.secret_digest.as_deref())
        .bind(&c.name)
        .bind(serde_json::Value::from(c.redirect_uris.clone()))
        .bind(&c.token_endpoint_auth_method)
        .bind(c.metadata.clone())
        .bind(c.created_at)
}

const INSERT_CLIENT: &str = "INSERT INTO oauth_clients (id, secret_digest, name, redirect_uris, token_endpoint_auth_method, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

pub(super) fn project_from(row: &dyn Cols) -> StoreResult<Project> {
    Ok(Project {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        name: row.text("name")?,
        description: row.text("description")?,
        status: row.text("status")?,
        start_date: row.opt_date("start_date")?,
        due_date: row.opt_date("due_date")?,
        tags: names_from(row)?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

pub(super) fn task_from(row: &dyn Cols) -> StoreResult<Task> {
    Ok(Task {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        project_id: row.opt_uuid("project_id")?,
        event_id: row.opt_uuid("event_id")?,
        title: row.text("title")?,
        description: row.text("description")?,
        status: row.text("status")?,
        priority: row.text("priority")?,
        due_date: row.opt_date("due_date")?,
        assignee: row.opt_text("assignee")?,
        completed_at: row.opt_ts("completed_at")?,
        tags: names_from(row)?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

pub(super) fn comment_from(row: &dyn Cols) -> StoreResult<Comment> {
    Ok(Comment { id: row.uuid("id")?, task_id: row.uuid("task_id")?, body: row.text("body")?, created_at: row.ts("created_at")? })
}

pub(super) fn activity_from(row: &dyn Cols) -> StoreResult<ActivityEntry> {
    Ok(ActivityEntry {
        id: row.uuid("id")?,
        entity_type: row.text("entity_type")?,
        entity_id: row.uuid("entity_id")?,
        title: row.text("title")?,
        action: row.text("action")?,
        at: row.ts("at")?,
        via: row.opt_text("via")?,
    })
}

const TASK_COLUMNS: &str = "SELECT id, user_id, project_id, event_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at FROM tasks";

/// `q` AND one of `columns` contains `text`, whatever its case (the text's own wildcards escaped).
pub(super) fn containing<'a>(q: Stmt<'a>, dialect: Dialect, [a, b]: [&str; 2], text: &str) -> Stmt<'a> {
    let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let like = dialect.ilike();
    q.push(&format!(" AND ({a} {like} ? ESCAPE '\\' OR {b} {like} ? ESCAPE '\\')")).bind(pattern.clone()).bind(pattern)
}

#[async_trait]
impl<B: Backend> Store for B {
    async fn migrate(&self) -> StoreResult<()> {
        self.run_migrations().await
    }

    fn pool_use(&self) -> Option<crate::service::metrics::PoolUse> {
        Some(Backend::pool_use(self))
    }

    async fn ping(&self) -> StoreResult<()> {
        self.fetch_optional(Stmt::new("SELECT 1 AS one"), |r| r.int("one")).await?;
        Ok(())
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        let insert = Stmt::new("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)");
        self.execute(insert.bind(user.id).bind(&user.email).bind(&user.password_hash).bind(user.created_at)).await?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.fetch_optional(Stmt::new(Self::DIALECT.email_is()).bind(email), user_from).await
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        self.fetch_optional(Stmt::new("SELECT * FROM users WHERE id = ?").bind(id), user_from).await
    }

    async fn insert_session(&self, digest: &[u8], expires_at: DateTime<Utc>, signed_in: &AuditEvent) -> StoreResult<()> {
        let insert = Stmt::new("INSERT INTO web_sessions (digest, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(digest)
            .bind(signed_in.user_id)
            .bind(signed_in.created_at)
            .bind(expires_at);
        recorded(self, insert, Record::Audit(signed_in)).await?;
        Ok(())
    }

    async fn session_user(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<User>> {
        let q = Stmt::new("SELECT u.* FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = ? AND s.expires_at > ?");
        self.fetch_optional(q.bind(digest).bind(now), user_from).await
    }

    async fn delete_session(&self, digest: &[u8]) -> StoreResult<()> {
        self.execute(Stmt::new("DELETE FROM web_sessions WHERE digest = ?").bind(digest)).await?;
        Ok(())
    }

    async fn set_password(&self, user_id: Uuid, password_hash: &str, keep_session: Option<&[u8]>, audit: &AuditEvent) -> StoreResult<bool> {
        let mut tx = self.begin_durable().await?;
        let changed = tx.execute(Stmt::new("UPDATE users SET password_hash = ? WHERE id = ?").bind(password_hash).bind(user_id)).await? > 0;
        if changed {
            let mut others = Stmt::new("DELETE FROM web_sessions WHERE user_id = ?").bind(user_id);
            if let Some(keep) = keep_session {
                others = others.push_bind(" AND digest <> ?", keep);
            }
            tx.execute(others).await?;
            tx.execute(record(Record::Audit(audit))).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn delete_user(&self, user_id: Uuid) -> StoreResult<bool> {
        Ok(self.execute(Stmt::new("DELETE FROM users WHERE id = ?").bind(user_id)).await? > 0)
    }

    async fn insert_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> StoreResult<()> {
        let insert = Stmt::new(
            "INSERT INTO api_keys (id, user_id, name, scope, digest, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.id)
        .bind(key.user_id)
        .bind(&key.name)
        .bind(key.access.as_str())
        .bind(&key.digest)
        .bind(key.created_at)
        .bind(key.expires_at)
        .bind(key.revoked_at)
        .bind(key.last_used_at);
        recorded(self, insert, Record::Audit(audit)).await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        self.fetch_optional(Stmt::new("SELECT * FROM api_keys WHERE id = ?").bind(id), api_key_from).await
    }

    async fn list_api_keys(&self, user_id: Uuid) -> StoreResult<Vec<ApiKey>> {
        self.fetch_all(Stmt::new("SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at DESC").bind(user_id), api_key_from).await
    }

    async fn revoke_api_key(&self, user_id: Uuid, id: &str, now: DateTime<Utc>, audit: &AuditEvent) -> StoreResult<bool> {
        let revoke = Stmt::new("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL");
        recorded(self, revoke.bind(now).bind(id).bind(user_id), Record::Audit(audit)).await
    }

    async fn touch_api_keys(&self, used: &[(String, DateTime<Utc>)]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for (id, at) in used {
            let touch = Stmt::new("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)");
            tx.execute(touch.bind(*at).bind(id).bind(*at)).await?;
        }
        tx.commit().await
    }

    async fn insert_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        self.execute(record(Record::Audit(event))).await?;
        Ok(())
    }

    async fn list_audit(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let mut q = Stmt::new("SELECT * FROM audit_events WHERE user_id = ?").bind(user_id);
        if let Some(before) = before {
            q = q.push_bind(" AND id < ?", before);
        }
        self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", limit), audit_from).await
    }

    async fn server_key(&self, name: &str, candidate: &[u8], now: DateTime<Utc>) -> StoreResult<Vec<u8>> {
        let insert = Stmt::new("INSERT INTO server_keys (name, key, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING");
        self.execute(insert.bind(name).bind(candidate).bind(now)).await?;
        self.fetch_optional(Stmt::new("SELECT key FROM server_keys WHERE name = ?").bind(name), |r| r.bytes("key"))
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("server key {name} missing after insert")))
    }

    async fn insert_client(&self, c: &OAuthClient) -> StoreResult<()> {
        self.execute(client_row(INSERT_CLIENT, c)).await?;
        Ok(())
    }

    async fn upsert_client(&self, c: &OAuthClient) -> StoreResult<()> {
        // ON CONFLICT … DO UPDATE, not a replace: replacing would delete the row and cascade to its grants.
        const UPSERT: &str = "INSERT INTO oauth_clients (id, secret_digest, name, redirect_uris, token_endpoint_auth_method, metadata, created_at) \
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris, metadata = excluded.metadata";
        self.execute(client_row(UPSERT, c)).await?;
        Ok(())
    }

    async fn client(&self, id: &str) -> StoreResult<Option<OAuthClient>> {
        self.fetch_optional(Stmt::new("SELECT * FROM oauth_clients WHERE id = ?").bind(id), client_from).await
    }

    async fn reap_unused_clients(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let reap = Stmt::new(
            "DELETE FROM oauth_clients WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id)",
        );
        self.execute(reap.bind(before)).await
    }

    async fn insert_grant_with_code(&self, g: &Grant, code: &AuthCode, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_durable().await?;
        let revoke_tokens = Stmt::new(
            "UPDATE oauth_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND grant_id IN \
             (SELECT id FROM oauth_grants WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL)",
        );
        tx.execute(revoke_tokens.bind(g.created_at).bind(g.user_id).bind(&g.client_id)).await?;
        let revoke_grants = Stmt::new("UPDATE oauth_grants SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL");
        tx.execute(revoke_grants.bind(g.created_at).bind(g.user_id).bind(&g.client_id)).await?;
        let grant = Stmt::new(
            "INSERT INTO oauth_grants (id, user_id, client_id, scope, resource, redirect_uri, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(g.id)
        .bind(g.user_id)
        .bind(&g.client_id)
        .bind(g.access.as_str())
        .bind(&g.resource)
        .bind(&g.redirect_uri)
        .bind(g.created_at);
        tx.execute(grant).await?;
        let insert_code =
            Stmt::new("INSERT INTO oauth_codes (id, digest, grant_id, redirect_uri, code_challenge, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(&code.id)
                .bind(&code.digest)
                .bind(code.grant_id)
                .bind(&code.redirect_uri)
                .bind(&code.code_challenge)
                .bind(code.expires_at);
        tx.execute(insert_code).await?;
        tx.execute(record(Record::Audit(audit))).await?;
        tx.commit().await
    }

    async fn code(&self, id: &str) -> StoreResult<Option<(AuthCode, Grant)>> {
        const CODE: &str =
            concat!("SELECT c.*, ", grant_columns!(), " FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id WHERE c.id = ?");
        self.fetch_optional(Stmt::new(CODE).bind(id), |r| Ok((code_from(r)?, grant_from(r)?))).await
    }

    async fn redeem_code(&self, id: &str, now: DateTime<Utc>, tokens: &[OAuthToken]) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // Dropped without a commit, the transaction rolls back.
        if tx.execute(Stmt::new("UPDATE oauth_codes SET used_at = ? WHERE id = ? AND used_at IS NULL").bind(now).bind(id)).await? != 1 {
            return Ok(false);
        }
        for t in tokens {
            tx.execute(insert_token(t)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn oauth_token(&self, id: &str) -> StoreResult<Option<(OAuthToken, Grant)>> {
        const TOKEN: &str =
            concat!("SELECT t.*, ", grant_columns!(), " FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.id = ?");
        self.fetch_optional(Stmt::new(TOKEN).bind(id), |r| Ok((oauth_token_from(r)?, grant_from(r)?))).await
    }

    async fn rotate_refresh(&self, old_id: &str, now: DateTime<Utc>, successors: &[OAuthToken]) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let retire =
            Stmt::new("UPDATE oauth_tokens SET used_at = ? WHERE id = ? AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL");
        if tx.execute(retire.bind(now).bind(old_id)).await? != 1 {
            return Ok(false);
        }
        for t in successors {
            tx.execute(insert_token(t)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_grant(&self, grant_id: Uuid, now: DateTime<Utc>, audit: Option<&AuditEvent>) -> StoreResult<bool> {
        let mut tx = self.begin_durable().await?;
        let revoked = tx
            .execute(Stmt::new("UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(now).bind(grant_id))
            .await?
            == 1;
        tx.execute(Stmt::new("UPDATE oauth_tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL").bind(now).bind(grant_id))
            .await?;
        if revoked && let Some(audit) = audit {
            tx.execute(record(Record::Audit(audit))).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    async fn revoke_token(&self, id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin_durable().await?;
        tx.execute(Stmt::new("UPDATE oauth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(now).bind(id)).await?;
        tx.commit().await
    }

    async fn user_grant(&self, user_id: Uuid, grant_id: Uuid) -> StoreResult<Option<Grant>> {
        const GRANT: &str = concat!("SELECT ", grant_columns!(), " FROM oauth_grants g WHERE g.id = ? AND g.user_id = ?");
        self.fetch_optional(Stmt::new(GRANT).bind(grant_id).bind(user_id), grant_from).await
    }

    async fn connected_apps(&self, user_id: Uuid) -> StoreResult<Vec<ConnectedApp>> {
        const APPS: &str = concat!(
            "SELECT ",
            grant_columns!(),
            ", c.name AS client_name FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id \
             WHERE g.user_id = ? AND g.revoked_at IS NULL ORDER BY g.created_at DESC"
        );
        self.fetch_all(Stmt::new(APPS).bind(user_id), |r| Ok(ConnectedApp { grant: grant_from(r)?, client_name: r.text("client_name")? }))
            .await
    }

    async fn touch_grants(&self, used: &[(Uuid, DateTime<Utc>)]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for (id, at) in used {
            let touch = Stmt::new("UPDATE oauth_grants SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)");
            tx.execute(touch.bind(*at).bind(*id).bind(*at)).await?;
        }
        tx.commit().await
    }

    async fn purge_expired(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let sessions = self.execute(Stmt::new("DELETE FROM web_sessions WHERE expires_at < ?").bind(before)).await?;
        let codes = self.execute(Stmt::new("DELETE FROM oauth_codes WHERE expires_at < ?").bind(before)).await?;
        let failures =
            self.execute(Stmt::new("DELETE FROM sign_in_failures WHERE last_failure < ?").bind(before - throttle::WINDOW)).await?;
        self.execute(Stmt::new("DELETE FROM idempotency_keys WHERE created_at < ?").bind(before - IDEMPOTENCY_KEPT)).await?;
        tracing::debug!(counters = failures, "expired sign-in failure counters purged");
        Ok(sessions + codes)
    }

    async fn reserve_sign_in(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<Option<chrono::Duration>> {
        self.reserve_sign_in_failures(keys, now).await
    }

    async fn settle_sign_in(&self, refund: &[String], clear: &[String]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for key in refund {
            tx.execute(Stmt::new("UPDATE sign_in_failures SET failures = failures - 1 WHERE key = ? AND failures > 0").bind(key)).await?;
        }
        for key in clear {
            tx.execute(Stmt::new("DELETE FROM sign_in_failures WHERE key = ?").bind(key)).await?;
        }
        tx.commit().await
    }

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

    async fn delete_project(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<Option<ProjectDeletion>> {
        let mut tx = self.begin().await?;
        let detach = Stmt::new("UPDATE notes SET project_id = NULL, updated_at = ? WHERE user_id = ? AND project_id = ?");
        let notes_detached = tx.execute(detach.bind(activity.at).bind(user_id).bind(id)).await?;
        // Its tasks and every tag link of the project and of its tasks go through the foreign keys.
        if tx.execute(Stmt::new("DELETE FROM projects WHERE id = ? AND user_id = ?").bind(id).bind(user_id)).await? == 0 {
            return Ok(None);
        }
        tx.execute(record(Record::Activity(activity))).await?;
        tx.commit().await?;
        Ok(Some(ProjectDeletion { notes_detached }))
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

    async fn insert_tasks(&self, tasks: &mut [Task], activities: &[Activity]) -> StoreResult<()> {
        if tasks.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        insert_tasks_in(&mut tx, tasks).await?;
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
        if let Some(e) = f.event_id {
            q = q.push_bind(" AND event_id = ?", e);
        }
        if let [status] = f.statuses.as_slice() {
            // Equality, so that the planner walks tasks(user_id, status, id) in id order.
            q = q.push_bind(" AND status = ?", status);
        } else if !f.statuses.is_empty() {
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
            q = q.push_bind(&Taggable::Task.has_tag(), tag_key(tag));
        }
        if let Some(a) = &f.assignee {
            q = q.push_bind(" AND assignee = ?", a);
        }
        if let Some(text) = &f.text {
            q = containing(q, Self::DIALECT, ["title", "description"], text);
        }
        if let Some(after) = after {
            q = q.push_bind(" AND id < ?", after);
        }
        let items = self.fetch_all(q.push_bind(" ORDER BY id DESC LIMIT ?", i64::from(limit) + 1), task_from).await?;
        Ok(page(items, limit, |t| t.id))
    }

    async fn update_task(&self, t: &mut Task, set_tags: bool, activity: &Activity) -> StoreResult<bool> {
        // The tags column is not written from `t` unless asked: a tag put on meanwhile stays.
        let update = Stmt::new(
            "UPDATE tasks SET project_id = ?, title = ?, description = ?, status = ?, priority = ?, due_date = ?, assignee = ?, completed_at = ?, \
             updated_at = ? WHERE id = ? AND user_id = ?",
        )
        .bind(t.project_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(&t.status)
        .bind(&t.priority)
        .bind(t.due_date)
        .bind(&t.assignee)
        .bind(t.completed_at)
        .bind(t.updated_at)
        .bind(t.id)
        .bind(t.user_id);
        update_tagged(self, Taggable::Task, t.user_id, t.id, update, set_tags.then_some(&mut t.tags), activity).await
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
        let mut q = Stmt::new("SELECT id, entity_type, entity_id, title, action, at, via FROM activity WHERE user_id = ?").bind(user_id);
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
