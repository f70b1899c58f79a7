//! PostgreSQL, for several Navis instances sharing one database. What the shared queries
//! (`sql.rs`) need from it: native types (UUID, TIMESTAMPTZ, DATE, BYTEA, JSONB), `$n`
//! placeholders, its migrations (the migrator takes an advisory lock, so instances starting
//! together migrate once), and its way of locking the sign-in counters.
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{
    PgPool, Postgres, Row,
    postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgQueryResult, PgRow},
    query::Query,
};
use uuid::Uuid;

use super::sql::{Arg, Backend, Cols, Dialect, Map, Stmt, Tx, numbered};
use super::*;
use crate::service::metrics::{PoolUse, timed};

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            // When the database is down, sqlx keeps trying to connect until this runs out: short,
            // so that requests fail fast with 503 instead of hanging (tests/it/outage.rs).
            .acquire_timeout(Duration::from_secs(2))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
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
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await?;
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
        timed("write", async { Ok(exec(&self.pool, stmt).await.map_err(write_error)?.rows_affected()) }).await
    }

    async fn fetch_all<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Vec<T>> {
        let Stmt { sql, args } = stmt;
        let sql = numbered(&sql);
        timed("read", async { bound(&sql, args).fetch_all(&self.pool).await?.iter().map(|row| map(row)).collect() }).await
    }

    async fn fetch_optional<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>> {
        let Stmt { sql, args } = stmt;
        let sql = numbered(&sql);
        timed("read", async { bound(&sql, args).fetch_optional(&self.pool).await?.as_ref().map(|row| map(row)).transpose() }).await
    }

    fn pool_use(&self) -> PoolUse {
        (self.pool.size(), u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX))
    }

    async fn begin(&self) -> StoreResult<PgTx> {
        Ok(PgTx(self.pool.begin().await?))
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
