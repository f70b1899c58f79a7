//! PostgreSQL, for several Navis instances sharing one database. Same trait, same rules as
//! SQLite; native types (UUID, TIMESTAMPTZ, DATE, BYTEA, JSONB). The migrator takes an
//! advisory lock, so instances starting together migrate once.
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

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// One change and the record of it, in one transaction; false (and no record) if the
    /// change touched no row.
    async fn recorded(&self, change: Query<'_, Postgres, PgArguments>, record: Record<'_>) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = change.execute(&mut *tx).await.map_err(conflict_or)?.rows_affected() > 0;
        if changed {
            insert_record(&mut *tx, record).await?;
        }
        commit(tx).await?;
        Ok(changed)
    }
}

async fn insert_record<'c, E: sqlx::Executor<'c, Database = Postgres>>(executor: E, record: Record<'_>) -> StoreResult<()> {
    exec(executor, sql::record(record)).await?;
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

    async fn execute(&self, stmt: Stmt<'_>) -> StoreResult<u64> {
        Ok(exec(&self.pool, stmt).await.map_err(write_error)?.rows_affected())
    }

    async fn fetch_all<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Vec<T>> {
        let Stmt { sql, args } = stmt;
        let sql = numbered(&sql);
        bound(&sql, args).fetch_all(&self.pool).await?.iter().map(|row| map(row)).collect()
    }

    async fn fetch_optional<T: Send + 'static>(&self, stmt: Stmt<'_>, map: Map<T>) -> StoreResult<Option<T>> {
        let Stmt { sql, args } = stmt;
        let sql = numbered(&sql);
        bound(&sql, args).fetch_optional(&self.pool).await?.as_ref().map(|row| map(row)).transpose()
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
        commit(self.0).await
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

fn access_from(row: &PgRow, col: &str) -> StoreResult<Access> {
    Access::parse(&row.try_get::<String, _>(col)?).ok_or_else(|| StoreError::Corrupt(col.into()))
}

fn user_from(row: &PgRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
    })
}

fn api_key_from(row: &PgRow) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        access: access_from(row, "scope")?,
        digest: row.try_get("digest")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

fn client_from(row: &PgRow) -> StoreResult<OAuthClient> {
    let uris: serde_json::Value = row.try_get("redirect_uris")?;
    Ok(OAuthClient {
        id: row.try_get("id")?,
        secret_digest: row.try_get("secret_digest")?,
        name: row.try_get("name")?,
        redirect_uris: serde_json::from_value(uris).map_err(|_| StoreError::Corrupt("redirect_uris".into()))?,
        token_endpoint_auth_method: row.try_get("token_endpoint_auth_method")?,
        metadata: row.try_get("metadata")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Grant columns are selected with a `g_` prefix so they can sit beside a token's or a code's.
const GRANT_COLUMNS: &str = "g.id AS g_id, g.user_id AS g_user_id, g.client_id AS g_client_id, g.scope AS g_scope, g.resource AS g_resource, \
    g.redirect_uri AS g_redirect_uri, g.created_at AS g_created_at, g.revoked_at AS g_revoked_at, g.last_used_at AS g_last_used_at";

fn grant_from(row: &PgRow) -> StoreResult<Grant> {
    Ok(Grant {
        id: row.try_get("g_id")?,
        user_id: row.try_get("g_user_id")?,
        client_id: row.try_get("g_client_id")?,
        access: access_from(row, "g_scope")?,
        resource: row.try_get("g_resource")?,
        redirect_uri: row.try_get("g_redirect_uri")?,
        created_at: row.try_get("g_created_at")?,
        revoked_at: row.try_get("g_revoked_at")?,
        last_used_at: row.try_get("g_last_used_at")?,
    })
}

fn oauth_token_from(row: &PgRow) -> StoreResult<OAuthToken> {
    Ok(OAuthToken {
        id: row.try_get("id")?,
        kind: match row.try_get::<String, _>("kind")?.as_str() {
            "access" => OAuthTokenKind::Access,
            "refresh" => OAuthTokenKind::Refresh,
            _ => return Err(StoreError::Corrupt("kind".into())),
        },
        grant_id: row.try_get("grant_id")?,
        digest: row.try_get("digest")?,
        access: access_from(row, "scope")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

async fn insert_token<'c, E: sqlx::Executor<'c, Database = Postgres>>(executor: E, t: &OAuthToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO oauth_tokens (id, kind, grant_id, digest, scope, created_at, expires_at, used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&t.id)
    .bind(t.kind.as_str())
    .bind(t.grant_id)
    .bind(&t.digest)
    .bind(t.access.as_str())
    .bind(t.created_at)
    .bind(t.expires_at)
    .bind(t.used_at)
    .bind(t.revoked_at)
    .execute(executor)
    .await
    .map_err(conflict_or)?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user.id)
            .bind(&user.email)
            .bind(&user.password_hash)
            .bind(user.created_at)
            .execute(&self.pool)
            .await
            .map_err(write_error)?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?.as_ref().map(user_from).transpose()
    }

    async fn insert_session(&self, digest: &[u8], expires_at: DateTime<Utc>, signed_in: &AuditEvent) -> StoreResult<()> {
        let insert = sqlx::query("INSERT INTO web_sessions (digest, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(digest)
            .bind(signed_in.user_id)
            .bind(signed_in.created_at)
            .bind(expires_at);
        self.recorded(insert, Record::Audit(signed_in)).await?;
        Ok(())
    }

    async fn session_user(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<User>> {
        sqlx::query("SELECT u.* FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = $1 AND s.expires_at > $2")
            .bind(digest)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn delete_session(&self, digest: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM web_sessions WHERE digest = $1").bind(digest).execute(&self.pool).await.map_err(write_error)?;
        Ok(())
    }

    async fn insert_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> StoreResult<()> {
        let insert = sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, scope, digest, created_at, expires_at, revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        self.recorded(insert, Record::Audit(audit)).await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        sqlx::query("SELECT * FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(api_key_from)
            .transpose()
    }

    async fn list_api_keys(&self, user_id: Uuid) -> StoreResult<Vec<ApiKey>> {
        sqlx::query("SELECT * FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(api_key_from)
            .collect()
    }

    async fn revoke_api_key(&self, user_id: Uuid, id: &str, now: DateTime<Utc>, audit: &AuditEvent) -> StoreResult<bool> {
        let revoke = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .bind(user_id);
        self.recorded(revoke, Record::Audit(audit)).await
    }

    async fn touch_api_keys(&self, used: &[(String, DateTime<Utc>)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (id, at) in used {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
                .bind(at)
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

    async fn list_audit(&self, user_id: Uuid, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        sqlx::query("SELECT * FROM audit_events WHERE user_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(user_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(AuditEvent {
                    id: row.try_get("id")?,
                    user_id: row.try_get("user_id")?,
                    kind: row.try_get("kind")?,
                    detail: row.try_get("detail")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn server_key(&self, name: &str, candidate: &[u8], now: DateTime<Utc>) -> StoreResult<Vec<u8>> {
        sqlx::query("INSERT INTO server_keys (name, key, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT key FROM server_keys WHERE name = $1").bind(name).fetch_one(&self.pool).await?)
    }

    async fn insert_client(&self, c: &OAuthClient) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_clients (id, secret_digest, name, redirect_uris, token_endpoint_auth_method, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.id)
        .bind(&c.secret_digest)
        .bind(&c.name)
        .bind(serde_json::json!(c.redirect_uris))
        .bind(&c.token_endpoint_auth_method)
        .bind(&c.metadata)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn upsert_client(&self, c: &OAuthClient) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_clients (id, secret_digest, name, redirect_uris, token_endpoint_auth_method, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris, metadata = excluded.metadata",
        )
        .bind(&c.id)
        .bind(&c.secret_digest)
        .bind(&c.name)
        .bind(serde_json::json!(c.redirect_uris))
        .bind(&c.token_endpoint_auth_method)
        .bind(&c.metadata)
        .bind(c.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn client(&self, id: &str) -> StoreResult<Option<OAuthClient>> {
        sqlx::query("SELECT * FROM oauth_clients WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(client_from)
            .transpose()
    }

    async fn reap_unused_clients(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM oauth_clients WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id)",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_grant_with_code(&self, g: &Grant, code: &AuthCode, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE oauth_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND grant_id IN \
             (SELECT id FROM oauth_grants WHERE user_id = $2 AND client_id = $3 AND revoked_at IS NULL)",
        )
        .bind(g.created_at)
        .bind(g.user_id)
        .bind(&g.client_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE user_id = $2 AND client_id = $3 AND revoked_at IS NULL")
            .bind(g.created_at)
            .bind(g.user_id)
            .bind(&g.client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO oauth_grants (id, user_id, client_id, scope, resource, redirect_uri, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(g.id)
            .bind(g.user_id)
            .bind(&g.client_id)
            .bind(g.access.as_str())
            .bind(&g.resource)
            .bind(&g.redirect_uri)
            .bind(g.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_codes (id, digest, grant_id, redirect_uri, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&code.id)
        .bind(&code.digest)
        .bind(code.grant_id)
        .bind(&code.redirect_uri)
        .bind(&code.code_challenge)
        .bind(code.expires_at)
        .execute(&mut *tx)
        .await?;
        insert_record(&mut *tx, Record::Audit(audit)).await?;
        commit(tx).await
    }

    async fn code(&self, id: &str) -> StoreResult<Option<(AuthCode, Grant)>> {
        let row = sqlx::query(&format!(
            "SELECT c.*, {GRANT_COLUMNS} FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let code = AuthCode {
            id: row.try_get("id")?,
            digest: row.try_get("digest")?,
            grant_id: row.try_get("grant_id")?,
            redirect_uri: row.try_get("redirect_uri")?,
            code_challenge: row.try_get("code_challenge")?,
            expires_at: row.try_get("expires_at")?,
            used_at: row.try_get("used_at")?,
        };
        Ok(Some((code, grant_from(&row)?)))
    }

    async fn redeem_code(&self, id: &str, now: DateTime<Utc>, tokens: &[OAuthToken]) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now)
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
        let row = sqlx::query(&format!(
            "SELECT t.*, {GRANT_COLUMNS} FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(|r| Ok((oauth_token_from(r)?, grant_from(r)?))).transpose()
    }

    async fn rotate_refresh(&self, old_id: &str, now: DateTime<Utc>, successors: &[OAuthToken]) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE oauth_tokens SET used_at = $1 WHERE id = $2 AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
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
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(grant_id)
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
        sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn user_grant(&self, user_id: Uuid, grant_id: Uuid) -> StoreResult<Option<Grant>> {
        sqlx::query(&format!("SELECT {GRANT_COLUMNS} FROM oauth_grants g WHERE g.id = $1 AND g.user_id = $2"))
            .bind(grant_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(grant_from)
            .transpose()
    }

    async fn connected_apps(&self, user_id: Uuid) -> StoreResult<Vec<ConnectedApp>> {
        let rows = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS}, c.name AS client_name FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id \
             WHERE g.user_id = $1 AND g.revoked_at IS NULL ORDER BY g.created_at DESC"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(ConnectedApp { grant: grant_from(r)?, client_name: r.try_get("client_name")? })).collect()
    }

    async fn purge_expired(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let sessions = sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1").bind(before).execute(&self.pool).await?;
        let codes = sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1").bind(before).execute(&self.pool).await?;
        let failures =
            sqlx::query("DELETE FROM sign_in_failures WHERE last_failure < $1").bind(before - throttle::WINDOW).execute(&self.pool).await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(before - IDEMPOTENCY_KEPT).execute(&self.pool).await?;
        tracing::debug!(counters = failures.rows_affected(), "expired sign-in failure counters purged");
        Ok(sessions.rows_affected() + codes.rows_affected())
    }

    async fn reserve_sign_in(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<Option<chrono::Duration>> {
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

    async fn settle_sign_in(&self, refund: &[String], clear: &[String]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE sign_in_failures SET failures = failures - 1 WHERE key = ANY($1) AND failures > 0")
            .bind(refund)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE key = ANY($1)").bind(clear).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn touch_grants(&self, used: &[(Uuid, DateTime<Utc>)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (id, at) in used {
            sqlx::query("UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
