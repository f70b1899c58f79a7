//! PostgreSQL, for several Navis instances sharing one database. What the shared queries
//! (`sql.rs`) need from it: native types (UUID, TIMESTAMPTZ, DATE, BYTEA, JSONB), `$n`
//! placeholders, its migrations (the migrator takes an advisory lock, so instances starting
//! together migrate once), and its way of locking the sign-in counters.
//!
//! And the second wall: row-level security (migration 0016). Each statement made for an acting
//! user (`store::acting_user`) runs in a transaction that first sets `navis.user_id`, so the
//! policies let it reach that user's workspace rows only; a statement made for no one reaches
//! none. Policies do not bind superusers or BYPASSRLS roles: `--postgres-role` names a role that
//! serves the requests (`SET ROLE` on every connection) while migrations run as the URL's user.
use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{
    PgConnection, PgPool, Postgres, Row,
    pool::PoolConnection,
    postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgQueryResult, PgRow},
    query::Query,
};
use uuid::Uuid;

use super::sql::{Arg, Backend, Cols, Dialect, Map, Stmt, Tx, numbered};
use super::*;
use crate::service::metrics::{PoolUse, timed};

pub struct PostgresStore {
    pool: PgPool,
    /// The URL's own user, for migrations: they create and alter tables, which the serving role
    /// may not.
    options: PgConnectOptions,
    /// The role that serves requests (`--postgres-role`), if not the URL's user.
    role: Option<String>,
    /// Whether the policies bind the serving role (neither a superuser nor BYPASSRLS). Only then
    /// do statements tell them who is acting: for a role that bypasses them, the setting would
    /// change nothing and cost round trips.
    walled: bool,
}

impl PostgresStore {
    pub async fn open(url: &str, role: Option<&str>) -> StoreResult<Self> {
        let options: PgConnectOptions = url.parse()?;
        let mut pool = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            // When the database is down, sqlx keeps trying to connect until this runs out: short,
            // so that requests fail fast with 503 instead of hanging (tests/it/outage.rs).
            .acquire_timeout(Duration::from_secs(2));
        if let Some(role) = role {
            // For the whole session, before the pool hands the connection out: every statement
            // a request makes is the role's.
            let set_role: Arc<str> = format!("SET ROLE {}", identifier(role)).into();
            pool = pool.after_connect(move |conn, _| Box::pin(run(conn, set_role.clone())));
        }
        let pool = pool.connect_with(options.clone()).await?;
        let bypasses: bool =
            sqlx::query_scalar("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").fetch_one(&pool).await?;
        match (bypasses, role) {
            (true, Some(role)) => {
                return Err(StoreError::Unsafe(format!(
                    "the PostgreSQL role {role} is a superuser or has BYPASSRLS, so row-level security would not bind it"
                )));
            }
            (true, None) => tracing::warn!(
                "connected to PostgreSQL as a superuser or a BYPASSRLS role: row-level security is bypassed and only the queries' own \
                 user filters keep workspaces apart; set postgres_role (README: Row-level security)"
            ),
            (false, _) => {}
        }
        Ok(Self { pool, options, role: role.map(str::to_owned), walled: !bypasses })
    }

    /// The user the policies must see as acting: none when they do not bind the role anyway.
    fn acting(&self) -> Option<Uuid> {
        self.walled.then(acting_user).flatten()
    }

    /// A transaction, which has told the policies who is acting when someone is.
    async fn transaction(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        match self.acting() {
            // BEGIN and the setting in one round trip: a simple query takes no parameters, but
            // a UUID's text is hex digits and hyphens only. `true`: local to the transaction.
            Some(user) => self.pool.begin_with(format!("BEGIN; SELECT set_config('navis.user_id', '{user}', true)")).await,
            None => self.pool.begin().await,
        }
    }

    /// A connection for one statement: the pool's own, or an acting user's transaction.
    async fn connection(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self.acting() {
            Some(_) => Conn::Acting(self.transaction().await?),
            None => Conn::Plain(self.pool.acquire().await?),
        })
    }
}

enum Conn {
    Plain(PoolConnection<Postgres>),
    Acting(sqlx::Transaction<'static, Postgres>),
}

impl Conn {
    fn get(&mut self) -> &mut PgConnection {
        match self {
            Conn::Plain(conn) => conn,
            Conn::Acting(tx) => tx,
        }
    }

    /// Keeps what the statement wrote.
    async fn commit(self) -> StoreResult<()> {
        match self {
            Conn::Plain(_) => Ok(()),
            Conn::Acting(tx) => commit(tx).await,
        }
    }
}

/// Runs one statement that takes no parameters.
async fn run(conn: &mut PgConnection, sql: Arc<str>) -> Result<(), sqlx::Error> {
    sqlx::Executor::execute(conn, &*sql).await.map(drop)
}

/// A name as a quoted SQL identifier.
fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// What the serving role needs: to read and write every table (the policies decide which rows),
/// but not the migrations' own record.
async fn grant(owner: &PgPool, role: &str) -> StoreResult<()> {
    let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(owner).await?;
    let (schema, role) = (identifier(&schema), identifier(role));
    // Under a lock, as the migrations are: instances starting together would otherwise update
    // the same catalogue rows at once, and one would fail.
    let sql = format!(
        "BEGIN; SELECT pg_advisory_xact_lock(hashtext('navis: grant the serving role')); \
         GRANT USAGE ON SCHEMA {schema} TO {role}; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}; \
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}; \
         REVOKE ALL ON {schema}._sqlx_migrations FROM {role}; COMMIT"
    );
    sqlx::raw_sql(&sql).execute(owner).await?;
    Ok(())
}

/// Runs a shared statement on any sqlx PostgreSQL executor, with native types.
async fn exec<'c, E: sqlx::Executor<'c, Database = Postgres>>(executor: E, stmt: Stmt<'_>) -> Result<PgQueryResult, sqlx::Error> {
    let Stmt { sql, args } = stmt;
    let sql = numbered(&sql);
    bound(&sql, args).execute(executor).await
}

fn bound<'q>(sql: &'q str, args: Vec<Arg<'q>>) -> Query<'q, Postgres, PgArguments> {
    let mut q = sqlx::query(sql);
    for arg in args {
        q = match arg {
            Arg::Uuid(v) => q.bind(v),
            Arg::Text(v) => q.bind(v.map(std::borrow::Cow::into_owned)),
            Arg::Bytes(v) => q.bind(v),
            Arg::Ts(v) => q.bind(v),
            Arg::Date(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
            Arg::Json(v) => q.bind(v),
        };
    }
    q
}

#[async_trait]
impl Backend for PostgresStore {
    type Tx = PgTx;
    const DIALECT: Dialect = Dialect::Postgres;

    async fn run_migrations(&self) -> StoreResult<()> {
        let owner = PgPoolOptions::new().max_connections(1).connect_with(self.options.clone()).await?;
        sqlx::migrate!("./migrations/postgres").run(&owner).await?;
        if let Some(role) = &self.role {
            grant(&owner, role).await?;
        }
        owner.close().await;
        Ok(())
    }

    async fn reserve_sign_in_failures(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<Option<chrono::Duration>> {
        let mut sorted = keys.to_vec();
        sorted.sort();
        let mut tx = self.pool.begin().await?;
        // The rows must exist to be locked; locking them (in key order, so two reservations
        // never deadlock) makes every instance's reservations for a key queue one behind another.
        sqlx::query(
            "INSERT INTO sign_in_failures (key, failures, last_failure) SELECT k, 0, $2 FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING",
        )
        .bind(&sorted)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query("SELECT key, failures, last_failure FROM sign_in_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE")
            .bind(&sorted)
            .fetch_all(&mut *tx)
            .await?;
        let mut counters = Vec::with_capacity(rows.len());
        for row in rows {
            let count = u32::try_from(row.try_get::<i32, _>("failures")?).unwrap_or(0);
            counters.push((row.try_get::<String, _>("key")?, throttle::Failures { count, last: row.try_get("last_failure")? }));
        }
        let next = match reservation(counters, now) {
            Ok(next) => next,
            Err(wait) => {
                tx.rollback().await?;
                return Ok(Some(wait));
            }
        };
        for (key, next) in next {
            sqlx::query("UPDATE sign_in_failures SET failures = $1, last_failure = $2 WHERE key = $3")
                .bind(i32::try_from(next.count).unwrap_or(i32::MAX))
                .bind(next.last)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(None)
    }

    async fn execute(&self, stmt: Stmt<'_>) -> StoreResult<u64> {
        timed("write", async {
            let mut conn = self.connection().await.map_err(write_error)?;
            let changed = exec(conn.get(), stmt).await.map_err(write_error)?.rows_affected();
            conn.commit().await?;
            Ok(changed)
        })
        .await
    }

    // A read's transaction (if it has one) is dropped rather than committed: it rolls back, having
    // nothing to keep, with the check the pool makes of every returned connection, off the
    // request's path.
    async fn fetch_all<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Vec<T>> {
        let Stmt { sql, args } = stmt;
        let sql = numbered(&sql);
        timed("read", async { bound(&sql, args).fetch_all(self.connection().await?.get()).await?.iter().map(|row| map(row)).collect() })
            .await
    }

    async fn fetch_optional<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>> {
        let Stmt { sql, args } = stmt;
        let sql = numbered(&sql);
        timed("read", async {
            bound(&sql, args).fetch_optional(self.connection().await?.get()).await?.as_ref().map(|row| map(row)).transpose()
        })
        .await
    }

    fn pool_use(&self) -> PoolUse {
        (self.pool.size(), u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX))
    }

    async fn begin(&self) -> StoreResult<PgTx> {
        Ok(PgTx(self.transaction().await?))
    }
}

pub struct PgTx(sqlx::Transaction<'static, Postgres>);

#[async_trait]
impl Tx for PgTx {
    async fn execute(&mut self, stmt: Stmt<'_>) -> StoreResult<u64> {
        Ok(exec(&mut *self.0, stmt).await.map_err(conflict_or)?.rows_affected())
    }

    async fn fetch_optional<T: Send + 'static>(&mut self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>> {
        let Stmt { sql, args } = stmt;
        let sql = numbered(&sql);
        bound(&sql, args).fetch_optional(&mut *self.0).await?.as_ref().map(|row| map(row)).transpose()
    }

    async fn commit(self) -> StoreResult<()> {
        timed("transaction", commit(self.0)).await
    }
}

/// The shared queries' typed columns: PostgreSQL has the types natively.
impl Cols for PgRow {
    fn uuid(&self, col: &str) -> StoreResult<Uuid> {
        Ok(self.try_get(col)?)
    }
    fn opt_uuid(&self, col: &str) -> StoreResult<Option<Uuid>> {
        Ok(self.try_get(col)?)
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Ok(self.try_get(col)?)
    }
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
        Ok(self.try_get(col)?)
    }
    fn opt_bytes(&self, col: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.try_get(col)?)
    }
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.opt_int(col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: null")))
    }
    /// BIGINT (counts) or INTEGER.
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        match self.try_get::<Option<i64>, _>(col) {
            Ok(v) => Ok(v),
            Err(_) => Ok(self.try_get::<Option<i32>, _>(col)?.map(i64::from)),
        }
    }
    fn ts(&self, col: &str) -> StoreResult<DateTime<Utc>> {
        Ok(self.try_get(col)?)
    }
    fn opt_ts(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self.try_get(col)?)
    }
    fn opt_date(&self, col: &str) -> StoreResult<Option<NaiveDate>> {
        Ok(self.try_get(col)?)
    }
    fn json(&self, col: &str) -> StoreResult<serde_json::Value> {
        Ok(self.try_get(col)?)
    }
}
