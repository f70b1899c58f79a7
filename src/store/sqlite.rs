//! The embedded default: SQLite in WAL mode. What the shared queries (`sql.rs`) need from it:
//! writes and transactions through sqlx, reads on the caller's thread through rusqlite, ids,
//! times, dates and JSON as text, its migrations, and its way of locking the sign-in counters.
use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{
    Row, Sqlite, SqlitePool,
    query::Query,
    sqlite::{
        SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteRow, SqliteSynchronous,
    },
};
use uuid::Uuid;

use super::sql::{Arg, Backend, Cols, Dialect, Map, Stmt, Tx};
use super::*;
use crate::core::rfc3339;
use crate::service::metrics::{PoolUse, db_query, timed};

/// Transactions take the write lock at their start. A deferred one that reads and then writes
/// must upgrade its lock, and SQLite answers that upgrade "database is locked" at once, without
/// waiting, whenever another connection is writing (to avoid a deadlock); one that starts with
/// the lock waits its turn under the busy timeout instead.
const BEGIN_IMMEDIATE: &str = "BEGIN IMMEDIATE";

pub struct SqliteStore {
    pool: SqlitePool,
    /// Connections whose commits sync the WAL (`synchronous = FULL`), for the writes that must
    /// survive a power loss and not only a crash: revocations, grants and the security events
    /// (`Backend::begin_durable`). A commit here also makes every earlier commit durable.
    /// Workspace writes keep `NORMAL` and its speed (~3 ms per fsync on this machine's disk:
    /// 314 commits/s against 7,900).
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
        let started = std::time::Instant::now();
        let result = self.read_untimed(read);
        db_query("read", started.elapsed());
        result
    }

    fn read_untimed<T>(&self, read: impl FnOnce(&rusqlite::Connection) -> StoreResult<T>) -> StoreResult<T> {
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
}

/// Runs a shared statement on any sqlx SQLite executor: ids, timestamps, dates and JSON as text.
async fn exec<'c, E: sqlx::Executor<'c, Database = Sqlite>>(executor: E, stmt: Stmt<'_>) -> Result<SqliteQueryResult, sqlx::Error> {
    let Stmt { sql, args } = stmt;
    bound(&sql, args).execute(executor).await
}

fn bound<'q>(sql: &'q str, args: Vec<Arg<'q>>) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    let mut q = sqlx::query(sql);
    for arg in args {
        q = match arg {
            Arg::Uuid(v) => q.bind(v.map(|v| v.to_string())),
            Arg::Text(v) => q.bind(v.map(std::borrow::Cow::into_owned)),
            Arg::Bytes(v) => q.bind(v),
            Arg::Ts(v) => q.bind(opt_ts(v)),
            Arg::Date(v) => q.bind(opt_date(v)),
            Arg::Int(v) => q.bind(v),
            Arg::Json(v) => q.bind(v.to_string()),
        };
    }
    q
}

/// The same arguments for the readers (rusqlite).
fn values(args: Vec<Arg<'_>>) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    let text = |v: Option<String>| v.map_or(Value::Null, Value::Text);
    args.into_iter()
        .map(|arg| match arg {
            Arg::Uuid(v) => text(v.map(|v| v.to_string())),
            Arg::Text(v) => text(v.map(std::borrow::Cow::into_owned)),
            Arg::Bytes(v) => v.map_or(Value::Null, |v| Value::Blob(v.to_vec())),
            Arg::Ts(v) => text(opt_ts(v)),
            Arg::Date(v) => text(opt_date(v)),
            Arg::Int(v) => Value::Integer(v),
            Arg::Json(v) => Value::Text(v.to_string()),
        })
        .collect()
}

#[async_trait]
impl Backend for SqliteStore {
    type Tx = SqliteTx;
    const DIALECT: Dialect = Dialect::Sqlite;

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    async fn reserve_sign_in_failures(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<Option<chrono::Duration>> {
        let mut tx = self.pool.begin_with(BEGIN_IMMEDIATE).await?;
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

    async fn execute(&self, stmt: Stmt<'_>) -> StoreResult<u64> {
        timed("write", async { Ok(exec(&self.pool, stmt).await.map_err(write_error)?.rows_affected()) }).await
    }

    fn pool_use(&self) -> PoolUse {
        (self.pool.size(), u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX))
    }

    /// Reads run on the readers, on the caller's thread (see `Readers`).
    async fn fetch_all<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Vec<T>> {
        let Stmt { sql, args } = stmt;
        self.readers.read(|conn| {
            let mut prepared = conn.prepare_cached(&sql)?;
            let names = column_names(&prepared);
            let mut rows = prepared.query(rusqlite::params_from_iter(values(args)))?;
            let mut items = Vec::new();
            while let Some(row) = rows.next()? {
                items.push(map(&Positional::new(row, &names))?);
            }
            Ok(items)
        })
    }

    async fn fetch_optional<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>> {
        let Stmt { sql, args } = stmt;
        self.readers.read(|conn| {
            let mut prepared = conn.prepare_cached(&sql)?;
            let names = column_names(&prepared);
            let mut rows = prepared.query(rusqlite::params_from_iter(values(args)))?;
            rows.next()?.map(|row| map(&Positional::new(row, &names))).transpose()
        })
    }

    async fn begin(&self) -> StoreResult<SqliteTx> {
        Ok(SqliteTx(self.pool.begin_with(BEGIN_IMMEDIATE).await?))
    }

    async fn begin_durable(&self) -> StoreResult<SqliteTx> {
        Ok(SqliteTx(self.durable.begin_with(BEGIN_IMMEDIATE).await?))
    }
}

pub struct SqliteTx(sqlx::Transaction<'static, Sqlite>);

#[async_trait]
impl Tx for SqliteTx {
    async fn execute(&mut self, stmt: Stmt<'_>) -> StoreResult<u64> {
        Ok(exec(&mut *self.0, stmt).await.map_err(conflict_or)?.rows_affected())
    }

    async fn fetch_optional<T: Send + 'static>(&mut self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>> {
        let Stmt { sql, args } = stmt;
        let row = bound(&sql, args).fetch_optional(&mut *self.0).await?;
        row.as_ref().map(|row| map(row)).transpose()
    }

    async fn commit(self) -> StoreResult<()> {
        timed("transaction", commit(self.0)).await
    }
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
trait Raw {
    fn text(&self, col: &str) -> StoreResult<String>;
    /// A text column read where it lies, without a copy: `None` for null, else what `read`
    /// makes of it (ids, times and JSON are parsed straight from SQLite's text).
    fn read_text<T>(&self, col: &str, read: impl FnOnce(&str) -> T) -> StoreResult<Option<T>> {
        Ok(self.opt_text(col)?.map(|s| read(&s)))
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn blob(&self, col: &str) -> StoreResult<Vec<u8>>;
    fn opt_blob(&self, col: &str) -> StoreResult<Option<Vec<u8>>>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
}

/// The shared queries' typed columns, from SQLite's text (see `ts`).
impl<R: Raw> Cols for R {
    fn uuid(&self, col: &str) -> StoreResult<Uuid> {
        get_uuid(self, col)
    }
    fn opt_uuid(&self, col: &str) -> StoreResult<Option<Uuid>> {
        get_opt_uuid(self, col)
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        Raw::text(self, col)
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Raw::opt_text(self, col)
    }
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
        self.blob(col)
    }
    fn opt_bytes(&self, col: &str) -> StoreResult<Option<Vec<u8>>> {
        self.opt_blob(col)
    }
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.opt_int(col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: null")))
    }
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        Raw::opt_int(self, col)
    }
    fn ts(&self, col: &str) -> StoreResult<DateTime<Utc>> {
        get_ts(self, col)
    }
    fn opt_ts(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        get_opt_ts(self, col)
    }
    fn opt_date(&self, col: &str) -> StoreResult<Option<NaiveDate>> {
        get_opt_date(self, col)
    }
    fn json(&self, col: &str) -> StoreResult<serde_json::Value> {
        parsed(self, col, "JSON", |s| serde_json::from_str(s).ok())
    }
    fn string_list(&self, col: &str) -> StoreResult<Vec<String>> {
        parsed(self, col, "a JSON list of strings", |s| serde_json::from_str(s).ok())
    }
}

impl Raw for SqliteRow {
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        Ok(self.try_get::<Option<i64>, _>(col)?)
    }
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

/// The column names of a prepared statement, read once per query.
fn column_names(stmt: &rusqlite::Statement<'_>) -> Vec<String> {
    stmt.column_names().into_iter().map(str::to_owned).collect()
}

/// A rusqlite row read by position, its names looked up in the statement's list read once:
/// rusqlite's own lookup by name asks SQLite for every column's name in turn, which on a
/// 20-row page of tasks cost a tenth of a request.
struct Positional<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: &'a [String],
    /// Where the next lookup looks first: mappings read the columns in the order they are
    /// selected, so a lookup is one comparison.
    next: std::cell::Cell<usize>,
}

impl<'a, 'r> Positional<'a, 'r> {
    fn new(row: &'a rusqlite::Row<'r>, names: &'a [String]) -> Self {
        Self { row, names, next: std::cell::Cell::new(0) }
    }

    fn index(&self, col: &str) -> rusqlite::Result<usize> {
        let guess = self.next.get();
        let index = if self.names.get(guess).is_some_and(|n| n == col) {
            guess
        } else {
            self.names.iter().position(|n| n == col).ok_or_else(|| rusqlite::Error::InvalidColumnName(col.to_owned()))?
        };
        self.next.set(index + 1);
        Ok(index)
    }
}

impl Raw for Positional<'_, '_> {
    fn read_text<T>(&self, col: &str, read: impl FnOnce(&str) -> T) -> StoreResult<Option<T>> {
        use rusqlite::types::{FromSqlError, ValueRef};
        let index = self.index(col)?;
        match self.row.get_ref(index)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(Some(read(text))),
                Err(e) => Err(rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e)).into()),
            },
            other => Err(rusqlite::Error::FromSqlConversionFailure(index, other.data_type(), Box::new(FromSqlError::InvalidType)).into()),
        }
    }

    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        Ok(self.row.get::<_, Option<i64>>(self.index(col)?)?)
    }
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

fn corrupt(col: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("{col}: not {what}"))
}

/// A non-null text column, parsed where it lies.
fn parsed<T>(row: &(impl Raw + ?Sized), col: &str, what: &str, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<T> {
    get_opt(row, col, what, parse)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: null")))
}

/// A text column that may be null, parsed where it lies.
fn get_opt<T>(row: &(impl Raw + ?Sized), col: &str, what: &str, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<Option<T>> {
    row.read_text(col, parse)?.map(|parsed| parsed.ok_or_else(|| corrupt(col, what))).transpose()
}

fn get_uuid(row: &(impl Raw + ?Sized), col: &str) -> StoreResult<Uuid> {
    parsed(row, col, "a uuid", |s| Uuid::parse_str(s).ok())
}

fn get_opt_uuid(row: &(impl Raw + ?Sized), col: &str) -> StoreResult<Option<Uuid>> {
    get_opt(row, col, "a uuid", |s| Uuid::parse_str(s).ok())
}

fn get_ts(row: &(impl Raw + ?Sized), col: &str) -> StoreResult<DateTime<Utc>> {
    parsed(row, col, "a timestamp", rfc3339::parse_ts)
}

fn get_opt_ts(row: &(impl Raw + ?Sized), col: &str) -> StoreResult<Option<DateTime<Utc>>> {
    get_opt(row, col, "a timestamp", rfc3339::parse_ts)
}

fn get_opt_date(row: &(impl Raw + ?Sized), col: &str) -> StoreResult<Option<NaiveDate>> {
    get_opt(row, col, "a date", rfc3339::parse_date)
}
