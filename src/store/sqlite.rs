//! The embedded default: SQLite in WAL mode through sqlx.
use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{
    QueryBuilder, Row, Sqlite, SqlitePool,
    query::Query,
    sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous},
};
use uuid::Uuid;

use super::*;

pub struct SqliteStore {
    pool: SqlitePool,
    /// Connections whose commits sync the WAL (`synchronous = FULL`), for the writes that must
    /// survive a power loss and not only a crash: revocations and the security events. A commit
    /// here also makes every earlier commit durable. Workspace writes keep `NORMAL` and its speed
    /// (~3 ms per fsync on this machine's disk: 314 commits/s against 7,900).
    durable: SqlitePool,
    /// The hot path's reads (credentials, task pages), on the caller's thread.
    readers: Readers,
}

/// SQLite connections for reads on the calling thread, with their prepared statements cached.
/// sqlx runs each SQLite connection on a thread of its own and hands every query and row across,
/// which on a busy core costs more than the query itself; these indexed reads take microseconds,
/// so they run inline (as the plain rmcp peer's do). Writes stay on sqlx's pool. WAL mode lets
/// these readers and the writer work at once.
struct Readers {
    path: String,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

/// Idle reader connections kept; more may be open at once under load, and are closed after use.
const IDLE_READERS: usize = 8;

impl Readers {
    fn open(&self) -> StoreResult<rusqlite::Connection> {
        let conn = rusqlite::Connection::open(&self.path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "query_only", true)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one).
    fn read<T>(&self, read: impl FnOnce(&rusqlite::Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or a bare path).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .statement_cache_capacity(256);
        let durable =
            SqlitePoolOptions::new().max_connections(2).connect_with(options.clone().synchronous(SqliteSynchronous::Full)).await?;
        let pool = SqlitePoolOptions::new().max_connections(8).min_connections(1).connect_with(options).await?;
        Ok(Self { pool, durable, readers: Readers { path: path.to_owned(), idle: std::sync::Mutex::default() } })
    }

    /// One change and the record of it, in one transaction; false (and no record) if the
    /// change touched no row.
    async fn recorded<'q>(&self, change: Query<'q, Sqlite, SqliteArguments<'q>>, record: Record<'_>) -> StoreResult<bool> {
        let pool = if matches!(record, Record::Audit(_)) { &self.durable } else { &self.pool };
        let mut tx = pool.begin().await?;
        let changed = change.execute(&mut *tx).await.map_err(conflict_or)?.rows_affected() > 0;
        if changed {
            insert_record(&mut *tx, record).await?;
        }
        commit(tx).await?;
        Ok(changed)
    }
}

async fn insert_record<'c, E: sqlx::Executor<'c, Database = Sqlite>>(executor: E, record: Record<'_>) -> StoreResult<()> {
    match record {
        Record::Activity(a) => {
            sqlx::query(
                "INSERT INTO activity (id, user_id, entity_type, entity_id, title, action, at, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(a.id.to_string())
            .bind(a.user_id.to_string())
            .bind(a.entity_type)
            .bind(a.entity_id.to_string())
            .bind(&a.title)
            .bind(a.action)
            .bind(ts(a.at))
            .bind(&a.via)
            .execute(executor)
            .await?
        }
        Record::Audit(e) => {
            sqlx::query("INSERT INTO audit_events (id, user_id, kind, detail, created_at, ip, client) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(e.id.to_string())
                .bind(e.user_id.to_string())
                .bind(&e.kind)
                .bind(&e.detail)
                .bind(ts(e.created_at))
                .bind(&e.ip)
                .bind(&e.client)
                .execute(executor)
                .await?
        }
    };
    Ok(())
}

/// Fixed-width UTC timestamps, so that text comparison in SQL is time comparison.
fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn opt_ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

fn opt_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// Column access shared by sqlx's rows and rusqlite's, so that one mapping serves both.
trait Cols {
    fn text(&self, col: &str) -> StoreResult<String>;
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn blob(&self, col: &str) -> StoreResult<Vec<u8>>;
    fn opt_blob(&self, col: &str) -> StoreResult<Option<Vec<u8>>>;
}

impl Cols for SqliteRow {
    fn opt_blob(&self, col: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.try_get::<Option<Vec<u8>>, _>(col)?)
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        Ok(self.try_get::<String, _>(col)?)
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Ok(self.try_get::<Option<String>, _>(col)?)
    }
    fn blob(&self, col: &str) -> StoreResult<Vec<u8>> {
        Ok(self.try_get::<Vec<u8>, _>(col)?)
    }
}

impl Cols for rusqlite::Row<'_> {
    fn opt_blob(&self, col: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.get::<_, Option<Vec<u8>>>(col)?)
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        Ok(self.get::<_, String>(col)?)
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Ok(self.get::<_, Option<String>>(col)?)
    }
    fn blob(&self, col: &str) -> StoreResult<Vec<u8>> {
        Ok(self.get::<_, Vec<u8>>(col)?)
    }
}

/// A rusqlite row of a known select list, read by position: looking a column up by name asks
/// SQLite for every column's name in turn, which on a 20-row page cost a tenth of a request.
struct Positional<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: &'static [&'static str],
}

impl Positional<'_, '_> {
    fn index(&self, col: &str) -> rusqlite::Result<usize> {
        self.names.iter().position(|n| *n == col).ok_or_else(|| rusqlite::Error::InvalidColumnName(col.to_owned()))
    }
}

impl Cols for Positional<'_, '_> {
    fn opt_blob(&self, col: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.row.get::<_, Option<Vec<u8>>>(self.index(col)?)?)
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        Ok(self.row.get::<_, String>(self.index(col)?)?)
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Ok(self.row.get::<_, Option<String>>(self.index(col)?)?)
    }
    fn blob(&self, col: &str) -> StoreResult<Vec<u8>> {
        Ok(self.row.get::<_, Vec<u8>>(self.index(col)?)?)
    }
}

fn get_str(row: &impl Cols, col: &str) -> StoreResult<String> {
    row.text(col)
}

fn parse_uuid(col: &str, s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("{col}: not a uuid")))
}

fn get_uuid(row: &impl Cols, col: &str) -> StoreResult<Uuid> {
    parse_uuid(col, &row.text(col)?)
}

fn get_opt_uuid(row: &impl Cols, col: &str) -> StoreResult<Option<Uuid>> {
    row.opt_text(col)?.map(|s| parse_uuid(col, &s)).transpose()
}

fn parse_ts(col: &str, s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| StoreError::Corrupt(format!("{col}: not a timestamp")))
}

fn get_ts(row: &impl Cols, col: &str) -> StoreResult<DateTime<Utc>> {
    parse_ts(col, &row.text(col)?)
}

fn get_opt_ts(row: &impl Cols, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.opt_text(col)?.map(|s| parse_ts(col, &s)).transpose()
}

fn get_opt_date(row: &impl Cols, col: &str) -> StoreResult<Option<NaiveDate>> {
    row.opt_text(col)?
        .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("{col}: not a date"))))
        .transpose()
}

fn user_from(row: &impl Cols) -> StoreResult<User> {
    Ok(User {
        id: get_uuid(row, "id")?,
        email: get_str(row, "email")?,
        password_hash: get_str(row, "password_hash")?,
        created_at: get_ts(row, "created_at")?,
    })
}

fn api_key_from(row: &impl Cols) -> StoreResult<ApiKey> {
    let scope = get_str(row, "scope")?;
    Ok(ApiKey {
        id: get_str(row, "id")?,
        user_id: get_uuid(row, "user_id")?,
        name: get_str(row, "name")?,
        access: Access::parse(&scope).ok_or_else(|| StoreError::Corrupt("scope".into()))?,
        digest: row.blob("digest")?,
        created_at: get_ts(row, "created_at")?,
        expires_at: get_opt_ts(row, "expires_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
        last_used_at: get_opt_ts(row, "last_used_at")?,
    })
}

fn project_from(row: &impl Cols) -> StoreResult<Project> {
    Ok(Project {
        id: get_uuid(row, "id")?,
        user_id: get_uuid(row, "user_id")?,
        name: get_str(row, "name")?,
        description: get_str(row, "description")?,
        status: get_str(row, "status")?,
        start_date: get_opt_date(row, "start_date")?,
        due_date: get_opt_date(row, "due_date")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

fn task_from(row: &impl Cols) -> StoreResult<Task> {
    let tags = row.text("tags")?;
    Ok(Task {
        id: get_uuid(row, "id")?,
        user_id: get_uuid(row, "user_id")?,
        project_id: get_opt_uuid(row, "project_id")?,
        title: get_str(row, "title")?,
        description: get_str(row, "description")?,
        status: get_str(row, "status")?,
        priority: get_str(row, "priority")?,
        due_date: get_opt_date(row, "due_date")?,
        assignee: row.opt_text("assignee")?,
        completed_at: get_opt_ts(row, "completed_at")?,
        tags: serde_json::from_str(&tags).map_err(|_| StoreError::Corrupt("tags".into()))?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

fn access_from(row: &impl Cols, col: &str) -> StoreResult<Access> {
    Access::parse(&get_str(row, col)?).ok_or_else(|| StoreError::Corrupt(col.into()))
}

fn client_from(row: &impl Cols) -> StoreResult<OAuthClient> {
    Ok(OAuthClient {
        id: get_str(row, "id")?,
        secret_digest: row.opt_blob("secret_digest")?,
        name: get_str(row, "name")?,
        redirect_uris: serde_json::from_str(&get_str(row, "redirect_uris")?).map_err(|_| StoreError::Corrupt("redirect_uris".into()))?,
        token_endpoint_auth_method: get_str(row, "token_endpoint_auth_method")?,
        metadata: serde_json::from_str(&get_str(row, "metadata")?).map_err(|_| StoreError::Corrupt("metadata".into()))?,
        created_at: get_ts(row, "created_at")?,
    })
}

/// Grant columns are selected with a `g_` prefix so they can sit beside a token's or a code's.
const GRANT_COLUMNS: &str = "g.id AS g_id, g.user_id AS g_user_id, g.client_id AS g_client_id, g.scope AS g_scope, g.resource AS g_resource, \
    g.redirect_uri AS g_redirect_uri, g.created_at AS g_created_at, g.revoked_at AS g_revoked_at, g.last_used_at AS g_last_used_at";

fn grant_from(row: &impl Cols) -> StoreResult<Grant> {
    Ok(Grant {
        id: get_uuid(row, "g_id")?,
        user_id: get_uuid(row, "g_user_id")?,
        client_id: get_str(row, "g_client_id")?,
        access: access_from(row, "g_scope")?,
        resource: get_str(row, "g_resource")?,
        redirect_uri: get_str(row, "g_redirect_uri")?,
        created_at: get_ts(row, "g_created_at")?,
        revoked_at: get_opt_ts(row, "g_revoked_at")?,
        last_used_at: get_opt_ts(row, "g_last_used_at")?,
    })
}

fn oauth_token_from(row: &impl Cols) -> StoreResult<OAuthToken> {
    Ok(OAuthToken {
        id: get_str(row, "id")?,
        kind: match get_str(row, "kind")?.as_str() {
            "access" => OAuthTokenKind::Access,
            "refresh" => OAuthTokenKind::Refresh,
            _ => return Err(StoreError::Corrupt("kind".into())),
        },
        grant_id: get_uuid(row, "grant_id")?,
        digest: row.blob("digest")?,
        access: access_from(row, "scope")?,
        created_at: get_ts(row, "created_at")?,
        expires_at: get_ts(row, "expires_at")?,
        used_at: get_opt_ts(row, "used_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
    })
}

async fn insert_token<'c, E: sqlx::Executor<'c, Database = Sqlite>>(executor: E, t: &OAuthToken) -> StoreResult<()> {
    sqlx::query("INSERT INTO oauth_tokens (id, kind, grant_id, digest, scope, created_at, expires_at, used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(&t.id)
        .bind(t.kind.as_str())
        .bind(t.grant_id.to_string())
        .bind(&t.digest)
        .bind(t.access.as_str())
        .bind(ts(t.created_at))
        .bind(ts(t.expires_at))
        .bind(opt_ts(t.used_at))
        .bind(opt_ts(t.revoked_at))
        .execute(executor)
        .await
        .map_err(conflict_or)?;
    Ok(())
}

/// A task row as a JSON object whose keys are `Task`'s fields.
/// The columns of a task, in the order every task query selects them.
const TASK_COLUMN_NAMES: [&str; 13] = [
    "id",
    "user_id",
    "project_id",
    "title",
    "description",
    "status",
    "priority",
    "due_date",
    "assignee",
    "completed_at",
    "tags",
    "created_at",
    "updated_at",
];

const TASK_COLUMNS: &str =
    "id, user_id, project_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at";

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)")
            .bind(user.id.to_string())
            .bind(&user.email)
            .bind(&user.password_hash)
            .bind(ts(user.created_at))
            .execute(&self.pool)
            .await
            .map_err(write_error)?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE email = ?").bind(email).fetch_optional(&self.pool).await?.as_ref().map(user_from).transpose()
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn insert_session(&self, digest: &[u8], expires_at: DateTime<Utc>, signed_in: &AuditEvent) -> StoreResult<()> {
        let insert = sqlx::query("INSERT INTO web_sessions (digest, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(digest)
            .bind(signed_in.user_id.to_string())
            .bind(ts(signed_in.created_at))
            .bind(ts(expires_at));
        self.recorded(insert, Record::Audit(signed_in)).await?;
        Ok(())
    }

    async fn session_user(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<User>> {
        sqlx::query("SELECT u.* FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = ? AND s.expires_at > ?")
            .bind(digest)
            .bind(ts(now))
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn delete_session(&self, digest: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM web_sessions WHERE digest = ?").bind(digest).execute(&self.pool).await.map_err(write_error)?;
        Ok(())
    }

    async fn set_password(&self, user_id: Uuid, password_hash: &str, keep_session: Option<&[u8]>, audit: &AuditEvent) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let update = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?").bind(password_hash).bind(user_id.to_string());
        let changed = update.execute(&mut *tx).await.map_err(conflict_or)?.rows_affected() > 0;
        if changed {
            sqlx::query("DELETE FROM web_sessions WHERE user_id = ? AND (? IS NULL OR digest <> ?)")
                .bind(user_id.to_string())
                .bind(keep_session)
                .bind(keep_session)
                .execute(&mut *tx)
                .await?;
            insert_record(&mut *tx, Record::Audit(audit)).await?;
        }
        commit(tx).await?;
        Ok(changed)
    }

    async fn delete_user(&self, user_id: Uuid) -> StoreResult<bool> {
        let deleted =
            sqlx::query("DELETE FROM users WHERE id = ?").bind(user_id.to_string()).execute(&self.pool).await.map_err(write_error)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn insert_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> StoreResult<()> {
        let insert = sqlx::query("INSERT INTO api_keys (id, user_id, name, scope, digest, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(&key.id)
            .bind(key.user_id.to_string())
            .bind(&key.name)
            .bind(key.access.as_str())
            .bind(&key.digest)
            .bind(ts(key.created_at))
            .bind(opt_ts(key.expires_at))
            .bind(opt_ts(key.revoked_at))
            .bind(opt_ts(key.last_used_at));
        self.recorded(insert, Record::Audit(audit)).await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        self.readers.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT * FROM api_keys WHERE id = ?")?;
            let mut rows = stmt.query([id])?;
            rows.next()?.map(|row| api_key_from(row)).transpose()
        })
    }

    async fn list_api_keys(&self, user_id: Uuid) -> StoreResult<Vec<ApiKey>> {
        sqlx::query("SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at DESC")
            .bind(user_id.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(api_key_from)
            .collect()
    }

    async fn revoke_api_key(&self, user_id: Uuid, id: &str, now: DateTime<Utc>, audit: &AuditEvent) -> StoreResult<bool> {
        let revoke = sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")
            .bind(ts(now))
            .bind(id)
            .bind(user_id.to_string());
        self.recorded(revoke, Record::Audit(audit)).await
    }

    async fn touch_api_keys(&self, used: &[(String, DateTime<Utc>)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (id, at) in used {
            sqlx::query("UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)")
                .bind(ts(*at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        insert_record(&self.pool, Record::Audit(event)).await
    }

    async fn list_audit(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let before = before.map(|id| id.to_string());
        sqlx::query("SELECT * FROM audit_events WHERE user_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?")
            .bind(user_id.to_string())
            .bind(&before)
            .bind(&before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(AuditEvent {
                    id: get_uuid(row, "id")?,
                    user_id: get_uuid(row, "user_id")?,
                    kind: get_str(row, "kind")?,
                    detail: get_str(row, "detail")?,
                    created_at: get_ts(row, "created_at")?,
                    ip: row.opt_text("ip")?,
                    client: row.opt_text("client")?,
                })
            })
            .collect()
    }

    async fn insert_project(&self, p: &Project, activity: &Activity) -> StoreResult<()> {
        let insert = sqlx::query("INSERT INTO projects (id, user_id, name, description, status, start_date, due_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(p.id.to_string())
            .bind(p.user_id.to_string())
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.status)
            .bind(opt_date(p.start_date))
            .bind(opt_date(p.due_date))
            .bind(ts(p.created_at))
            .bind(ts(p.updated_at));
        self.recorded(insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn project(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Project>> {
        sqlx::query("SELECT * FROM projects WHERE id = ? AND user_id = ?")
            .bind(id.to_string())
            .bind(user_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(project_from)
            .transpose()
    }

    async fn list_projects(
        &self,
        user_id: Uuid,
        status: Option<&str>,
        include_archived: bool,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Page<Project>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM projects WHERE user_id = ");
        q.push_bind(user_id.to_string());
        if let Some(status) = status {
            q.push(" AND status = ").push_bind(status.to_owned());
        } else if !include_archived {
            q.push(" AND status <> 'archived'");
        }
        if let Some(after) = after {
            q.push(" AND id < ").push_bind(after.to_string());
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(&self.pool).await?;
        let items = rows.iter().map(project_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page(items, limit, |p| p.id))
    }

    async fn update_project(&self, p: &Project, activity: &Activity) -> StoreResult<bool> {
        let update = sqlx::query("UPDATE projects SET name = ?, description = ?, status = ?, start_date = ?, due_date = ?, updated_at = ? WHERE id = ? AND user_id = ?")
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.status)
            .bind(opt_date(p.start_date))
            .bind(opt_date(p.due_date))
            .bind(ts(p.updated_at))
            .bind(p.id.to_string())
            .bind(p.user_id.to_string());
        self.recorded(update, Record::Activity(activity)).await
    }

    async fn delete_project(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool> {
        let delete = sqlx::query("DELETE FROM projects WHERE id = ? AND user_id = ?").bind(id.to_string()).bind(user_id.to_string());
        self.recorded(delete, Record::Activity(activity)).await
    }

    async fn task_counts(&self, user_id: Uuid, project_id: Uuid) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM tasks WHERE user_id = ? AND project_id = ? GROUP BY status")
            .bind(user_id.to_string())
            .bind(project_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((get_str(r, "status")?, r.try_get::<i64, _>("n")?))).collect()
    }

    async fn open_task_counts(&self, user_id: Uuid, project_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, i64)>> {
        if project_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<Sqlite>::new("SELECT project_id, COUNT(*) AS n FROM tasks WHERE user_id = ");
        q.push_bind(user_id.to_string()).push(" AND status <> 'done' AND project_id IN (");
        let mut sep = q.separated(", ");
        for id in project_ids {
            sep.push_bind(id.to_string());
        }
        q.push(") GROUP BY project_id");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((get_uuid(r, "project_id")?, r.try_get::<i64, _>("n")?))).collect()
    }

    async fn insert_tasks(&self, tasks: &[Task], activities: &[Activity]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for t in tasks {
            sqlx::query(
                "INSERT INTO tasks (id, user_id, project_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(t.id.to_string())
            .bind(t.user_id.to_string())
            .bind(t.project_id.map(|p| p.to_string()))
            .bind(&t.title)
            .bind(&t.description)
            .bind(&t.status)
            .bind(&t.priority)
            .bind(opt_date(t.due_date))
            .bind(&t.assignee)
            .bind(opt_ts(t.completed_at))
            .bind(serde_json::to_string(&t.tags).unwrap_or_else(|_| "[]".into()))
            .bind(ts(t.created_at))
            .bind(ts(t.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(conflict_or)?;
        }
        for a in activities {
            insert_record(&mut *tx, Record::Activity(a)).await?;
        }
        commit(tx).await
    }

    async fn task(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Task>> {
        self.readers.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ? AND user_id = ?"))?;
            let mut rows = stmt.query([id.to_string(), user_id.to_string()])?;
            rows.next()?.map(|row| task_from(&Positional { row, names: &TASK_COLUMN_NAMES })).transpose()
        })
    }

    async fn list_tasks(&self, user_id: Uuid, f: &TaskFilter, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Task>> {
        use rusqlite::types::Value;
        let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ?");
        let mut args: Vec<Value> = vec![Value::Text(user_id.to_string())];
        let mut and = |clause: &str, values: Vec<Value>| {
            sql.push_str(clause);
            args.extend(values);
        };
        if let Some(p) = f.project_id {
            and(" AND project_id = ?", vec![Value::Text(p.to_string())]);
        }
        if !f.statuses.is_empty() {
            let marks = vec!["?"; f.statuses.len()].join(", ");
            and(&format!(" AND status IN ({marks})"), f.statuses.iter().map(|s| Value::Text(s.clone())).collect());
        } else if !f.include_done {
            and(" AND status <> 'done'", vec![]);
        }
        if let Some(p) = &f.priority {
            and(" AND priority = ?", vec![Value::Text(p.clone())]);
        }
        if let Some(d) = f.due_from {
            and(" AND due_date >= ?", vec![Value::Text(d.format("%Y-%m-%d").to_string())]);
        }
        if let Some(d) = f.due_to {
            and(" AND due_date <= ?", vec![Value::Text(d.format("%Y-%m-%d").to_string())]);
        }
        if let Some(tag) = &f.tag {
            and(" AND EXISTS (SELECT 1 FROM json_each(tasks.tags) WHERE json_each.value = ?)", vec![Value::Text(tag.clone())]);
        }
        if let Some(a) = &f.assignee {
            and(" AND assignee = ?", vec![Value::Text(a.clone())]);
        }
        if let Some(text) = &f.text {
            let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            and(
                " AND (title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')",
                vec![Value::Text(pattern.clone()), Value::Text(pattern)],
            );
        }
        if let Some(after) = after {
            and(" AND id < ?", vec![Value::Text(after.to_string())]);
        }
        and(" ORDER BY id DESC LIMIT ?", vec![Value::Integer(i64::from(limit) + 1)]);
        let items = self.readers.read(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
            let mut items = Vec::with_capacity(limit as usize + 1);
            while let Some(row) = rows.next()? {
                items.push(task_from(&Positional { row, names: &TASK_COLUMN_NAMES })?);
            }
            Ok(items)
        })?;
        Ok(page(items, limit, |t| t.id))
    }

    async fn update_task(&self, t: &Task, activity: &Activity) -> StoreResult<bool> {
        let update = sqlx::query(
            "UPDATE tasks SET project_id = ?, title = ?, description = ?, status = ?, priority = ?, due_date = ?, assignee = ?, completed_at = ?, tags = ?, updated_at = ? \
             WHERE id = ? AND user_id = ?",
        )
        .bind(t.project_id.map(|p| p.to_string()))
        .bind(&t.title)
        .bind(&t.description)
        .bind(&t.status)
        .bind(&t.priority)
        .bind(opt_date(t.due_date))
        .bind(&t.assignee)
        .bind(opt_ts(t.completed_at))
        .bind(serde_json::to_string(&t.tags).unwrap_or_else(|_| "[]".into()))
        .bind(ts(t.updated_at))
        .bind(t.id.to_string())
        .bind(t.user_id.to_string());
        self.recorded(update, Record::Activity(activity)).await
    }

    async fn delete_task(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool> {
        let delete = sqlx::query("DELETE FROM tasks WHERE id = ? AND user_id = ?").bind(id.to_string()).bind(user_id.to_string());
        self.recorded(delete, Record::Activity(activity)).await
    }

    async fn insert_comment(&self, user_id: Uuid, c: &Comment, activity: &Activity) -> StoreResult<()> {
        let insert = sqlx::query("INSERT INTO comments (id, user_id, task_id, body, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(c.id.to_string())
            .bind(user_id.to_string())
            .bind(c.task_id.to_string())
            .bind(&c.body)
            .bind(ts(c.created_at));
        self.recorded(insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn list_comments(&self, user_id: Uuid, task_id: Uuid, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Comment>> {
        let items = sqlx::query(
            "SELECT id, task_id, body, created_at FROM comments WHERE user_id = ? AND task_id = ? AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(user_id.to_string())
        .bind(task_id.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Comment {
                id: get_uuid(r, "id")?,
                task_id: get_uuid(r, "task_id")?,
                body: get_str(r, "body")?,
                created_at: get_ts(r, "created_at")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(page(items, limit, |c| c.id))
    }

    async fn list_activity(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> StoreResult<Page<ActivityEntry>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT id, entity_type, entity_id, title, action, at, via FROM activity WHERE user_id = ");
        q.push_bind(user_id.to_string());
        if let Some(before) = before {
            q.push(" AND id < ").push_bind(before.to_string());
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let items = q
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ActivityEntry {
                    id: get_uuid(r, "id")?,
                    entity_type: get_str(r, "entity_type")?,
                    entity_id: get_uuid(r, "entity_id")?,
                    title: get_str(r, "title")?,
                    action: get_str(r, "action")?,
                    at: get_ts(r, "at")?,
                    via: r.opt_text("via")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(page(items, limit, |a| a.id))
    }

    async fn server_key(&self, name: &str, candidate: &[u8], now: DateTime<Utc>) -> StoreResult<Vec<u8>> {
        sqlx::query("INSERT OR IGNORE INTO server_keys (name, key, created_at) VALUES (?, ?, ?)")
            .bind(name)
            .bind(candidate)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT key FROM server_keys WHERE name = ?").bind(name).fetch_one(&self.pool).await?)
    }

    async fn insert_client(&self, c: &OAuthClient) -> StoreResult<()> {
        sqlx::query("INSERT INTO oauth_clients (id, secret_digest, name, redirect_uris, token_endpoint_auth_method, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&c.id)
            .bind(&c.secret_digest)
            .bind(&c.name)
            .bind(serde_json::to_string(&c.redirect_uris).unwrap_or_else(|_| "[]".into()))
            .bind(&c.token_endpoint_auth_method)
            .bind(c.metadata.to_string())
            .bind(ts(c.created_at))
            .execute(&self.pool)
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    async fn upsert_client(&self, c: &OAuthClient) -> StoreResult<()> {
        // ON CONFLICT … DO UPDATE, not REPLACE: a REPLACE would delete the row and cascade to its grants.
        sqlx::query(
            "INSERT INTO oauth_clients (id, secret_digest, name, redirect_uris, token_endpoint_auth_method, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris, metadata = excluded.metadata",
        )
        .bind(&c.id)
        .bind(&c.secret_digest)
        .bind(&c.name)
        .bind(serde_json::to_string(&c.redirect_uris).unwrap_or_else(|_| "[]".into()))
        .bind(&c.token_endpoint_auth_method)
        .bind(c.metadata.to_string())
        .bind(ts(c.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn client(&self, id: &str) -> StoreResult<Option<OAuthClient>> {
        sqlx::query("SELECT * FROM oauth_clients WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(client_from)
            .transpose()
    }

    async fn reap_unused_clients(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM oauth_clients WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id)")
            .bind(ts(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn insert_grant_with_code(&self, g: &Grant, code: &AuthCode, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.durable.begin().await?;
        let now = ts(g.created_at);
        sqlx::query("UPDATE oauth_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM oauth_grants WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL)")
            .bind(&now)
            .bind(g.user_id.to_string())
            .bind(&g.client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE oauth_grants SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL")
            .bind(&now)
            .bind(g.user_id.to_string())
            .bind(&g.client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_grants (id, user_id, client_id, scope, resource, redirect_uri, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(g.id.to_string())
        .bind(g.user_id.to_string())
        .bind(&g.client_id)
        .bind(g.access.as_str())
        .bind(&g.resource)
        .bind(&g.redirect_uri)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO oauth_codes (id, digest, grant_id, redirect_uri, code_challenge, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&code.id)
            .bind(&code.digest)
            .bind(code.grant_id.to_string())
            .bind(&code.redirect_uri)
            .bind(&code.code_challenge)
            .bind(ts(code.expires_at))
            .execute(&mut *tx)
            .await?;
        insert_record(&mut *tx, Record::Audit(audit)).await?;
        commit(tx).await
    }

    async fn code(&self, id: &str) -> StoreResult<Option<(AuthCode, Grant)>> {
        let row =
            sqlx::query(&format!("SELECT c.*, {GRANT_COLUMNS} FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id WHERE c.id = ?"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let code = AuthCode {
            id: get_str(&row, "id")?,
            digest: row.blob("digest")?,
            grant_id: get_uuid(&row, "grant_id")?,
            redirect_uri: get_str(&row, "redirect_uri")?,
            code_challenge: get_str(&row, "code_challenge")?,
            expires_at: get_ts(&row, "expires_at")?,
            used_at: get_opt_ts(&row, "used_at")?,
        };
        Ok(Some((code, grant_from(&row)?)))
    }

    async fn redeem_code(&self, id: &str, now: DateTime<Utc>, tokens: &[OAuthToken]) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE oauth_codes SET used_at = ? WHERE id = ? AND used_at IS NULL")
            .bind(ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for t in tokens {
            insert_token(&mut *tx, t).await?;
        }
        commit(tx).await?;
        Ok(true)
    }

    async fn oauth_token(&self, id: &str) -> StoreResult<Option<(OAuthToken, Grant)>> {
        self.readers.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT t.*, {GRANT_COLUMNS} FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.id = ?"
            ))?;
            let mut rows = stmt.query([id])?;
            rows.next()?.map(|r| Ok((oauth_token_from(r)?, grant_from(r)?))).transpose()
        })
    }

    async fn rotate_refresh(&self, old_id: &str, now: DateTime<Utc>, successors: &[OAuthToken]) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("UPDATE oauth_tokens SET used_at = ? WHERE id = ? AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL")
                .bind(ts(now))
                .bind(old_id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for t in successors {
            insert_token(&mut *tx, t).await?;
        }
        commit(tx).await?;
        Ok(true)
    }

    async fn revoke_grant(&self, grant_id: Uuid, now: DateTime<Utc>, audit: Option<&AuditEvent>) -> StoreResult<bool> {
        let mut tx = self.durable.begin().await?;
        let done = sqlx::query("UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(ts(now))
            .bind(grant_id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE oauth_tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL")
            .bind(ts(now))
            .bind(grant_id.to_string())
            .execute(&mut *tx)
            .await?;
        let revoked = done.rows_affected() == 1;
        if revoked && let Some(audit) = audit {
            insert_record(&mut *tx, Record::Audit(audit)).await?;
        }
        commit(tx).await?;
        Ok(revoked)
    }

    async fn revoke_token(&self, id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE oauth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(ts(now))
            .bind(id)
            .execute(&self.durable)
            .await?;
        Ok(())
    }

    async fn user_grant(&self, user_id: Uuid, grant_id: Uuid) -> StoreResult<Option<Grant>> {
        sqlx::query(&format!("SELECT {GRANT_COLUMNS} FROM oauth_grants g WHERE g.id = ? AND g.user_id = ?"))
            .bind(grant_id.to_string())
            .bind(user_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(grant_from)
            .transpose()
    }

    async fn connected_apps(&self, user_id: Uuid) -> StoreResult<Vec<ConnectedApp>> {
        let rows = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS}, c.name AS client_name FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id \
             WHERE g.user_id = ? AND g.revoked_at IS NULL ORDER BY g.created_at DESC"
        ))
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(ConnectedApp { grant: grant_from(r)?, client_name: get_str(r, "client_name")? })).collect()
    }

    async fn purge_expired(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let sessions = sqlx::query("DELETE FROM web_sessions WHERE expires_at < ?").bind(ts(before)).execute(&self.pool).await?;
        let codes = sqlx::query("DELETE FROM oauth_codes WHERE expires_at < ?").bind(ts(before)).execute(&self.pool).await?;
        let failures = sqlx::query("DELETE FROM sign_in_failures WHERE last_failure < ?")
            .bind(ts(before - throttle::WINDOW))
            .execute(&self.pool)
            .await?;
        tracing::debug!(counters = failures.rows_affected(), "expired sign-in failure counters purged");
        Ok(sessions.rows_affected() + codes.rows_affected())
    }

    async fn reserve_sign_in(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<Option<chrono::Duration>> {
        let mut tx = self.pool.begin().await?;
        // Writing first takes SQLite's write lock, so concurrent reservations queue here and
        // each sees the failures counted before it.
        let mut counters = Vec::with_capacity(keys.len());
        for key in keys {
            sqlx::query("INSERT OR IGNORE INTO sign_in_failures (key, failures, last_failure) VALUES (?, 0, ?)")
                .bind(key)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
            let row =
                sqlx::query("SELECT failures, last_failure FROM sign_in_failures WHERE key = ?").bind(key).fetch_one(&mut *tx).await?;
            let count = u32::try_from(row.try_get::<i64, _>("failures")?).unwrap_or(0);
            counters.push((key.clone(), throttle::Failures { count, last: get_ts(&row, "last_failure")? }));
        }
        let next = match reservation(counters, now) {
            Ok(next) => next,
            Err(wait) => {
                tx.rollback().await?;
                return Ok(Some(wait));
            }
        };
        for (key, next) in next {
            sqlx::query("UPDATE sign_in_failures SET failures = ?, last_failure = ? WHERE key = ?")
                .bind(i64::from(next.count))
                .bind(ts(next.last))
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(None)
    }

    async fn settle_sign_in(&self, refund: &[String], clear: &[String]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for key in refund {
            sqlx::query("UPDATE sign_in_failures SET failures = failures - 1 WHERE key = ? AND failures > 0")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        for key in clear {
            sqlx::query("DELETE FROM sign_in_failures WHERE key = ?").bind(key).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn touch_grants(&self, used: &[(Uuid, DateTime<Utc>)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (id, at) in used {
            sqlx::query("UPDATE oauth_grants SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)")
                .bind(ts(*at))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_columns_are_selected_in_the_order_they_are_read() {
        assert_eq!(TASK_COLUMNS, TASK_COLUMN_NAMES.join(", "));
    }
}
