//! PostgreSQL, for several Navis instances sharing one database. Same trait, same rules as
//! SQLite; native types (UUID, TIMESTAMPTZ, DATE, BYTEA, JSONB). The migrator takes an
//! advisory lock, so instances starting together migrate once.
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    PgPool, Postgres, QueryBuilder, Row,
    postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow},
    query::Query,
};
use uuid::Uuid;

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
    match record {
        Record::Activity(a) => sqlx::query(
            "INSERT INTO activity (id, user_id, entity_type, entity_id, title, action, at, via) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(a.id)
        .bind(a.user_id)
        .bind(a.entity_type)
        .bind(a.entity_id)
        .bind(&a.title)
        .bind(a.action)
        .bind(a.at)
        .bind(&a.via)
        .execute(executor)
        .await?,
        Record::Audit(e) => {
            sqlx::query("INSERT INTO audit_events (id, user_id, kind, detail, created_at, ip, client) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(e.id)
                .bind(e.user_id)
                .bind(&e.kind)
                .bind(&e.detail)
                .bind(e.created_at)
                .bind(&e.ip)
                .bind(&e.client)
                .execute(executor)
                .await?
        }
    };
    Ok(())
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

fn project_from(row: &PgRow) -> StoreResult<Project> {
    Ok(Project {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        status: row.try_get("status")?,
        start_date: row.try_get("start_date")?,
        due_date: row.try_get("due_date")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn task_from(row: &PgRow) -> StoreResult<Task> {
    let tags: serde_json::Value = row.try_get("tags")?;
    Ok(Task {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        project_id: row.try_get("project_id")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        status: row.try_get("status")?,
        priority: row.try_get("priority")?,
        due_date: row.try_get("due_date")?,
        assignee: row.try_get("assignee")?,
        completed_at: row.try_get("completed_at")?,
        tags: serde_json::from_value(tags).map_err(|_| StoreError::Corrupt("tags".into()))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
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

const TASK_COLUMNS: &str =
    "id, user_id, project_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at";

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

    async fn set_password(&self, user_id: Uuid, password_hash: &str, keep_session: Option<&[u8]>, audit: &AuditEvent) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let update = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(user_id);
        let changed = update.execute(&mut *tx).await.map_err(conflict_or)?.rows_affected() > 0;
        if changed {
            sqlx::query("DELETE FROM web_sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR digest <> $2)")
                .bind(user_id)
                .bind(keep_session)
                .execute(&mut *tx)
                .await?;
            insert_record(&mut *tx, Record::Audit(audit)).await?;
        }
        commit(tx).await?;
        Ok(changed)
    }

    async fn delete_user(&self, user_id: Uuid) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(&self.pool).await.map_err(write_error)?;
        Ok(deleted.rows_affected() > 0)
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

    async fn list_audit(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        sqlx::query("SELECT * FROM audit_events WHERE user_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3")
            .bind(user_id)
            .bind(before)
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
                    ip: row.try_get("ip")?,
                    client: row.try_get("client")?,
                })
            })
            .collect()
    }

    async fn insert_project(&self, p: &Project, activity: &Activity) -> StoreResult<()> {
        let insert = sqlx::query(
            "INSERT INTO projects (id, user_id, name, description, status, start_date, due_date, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        self.recorded(insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn project(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Project>> {
        sqlx::query("SELECT * FROM projects WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
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
        let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM projects WHERE user_id = ");
        q.push_bind(user_id);
        if let Some(status) = status {
            q.push(" AND status = ").push_bind(status.to_owned());
        } else if !include_archived {
            q.push(" AND status <> 'archived'");
        }
        if let Some(after) = after {
            q.push(" AND id < ").push_bind(after);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit) + 1);
        let rows = q.build().fetch_all(&self.pool).await?;
        let items = rows.iter().map(project_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page(items, limit, |p| p.id))
    }

    async fn update_project(&self, p: &Project, activity: &Activity) -> StoreResult<bool> {
        let update = sqlx::query(
            "UPDATE projects SET name = $1, description = $2, status = $3, start_date = $4, due_date = $5, updated_at = $6 WHERE id = $7 AND user_id = $8",
        )
        .bind(&p.name)
        .bind(&p.description)
        .bind(&p.status)
        .bind(p.start_date)
        .bind(p.due_date)
        .bind(p.updated_at)
        .bind(p.id)
        .bind(p.user_id);
        self.recorded(update, Record::Activity(activity)).await
    }

    async fn delete_project(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool> {
        let delete = sqlx::query("DELETE FROM projects WHERE id = $1 AND user_id = $2").bind(id).bind(user_id);
        self.recorded(delete, Record::Activity(activity)).await
    }

    async fn task_counts(&self, user_id: Uuid, project_id: Uuid) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM tasks WHERE user_id = $1 AND project_id = $2 GROUP BY status")
            .bind(user_id)
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get::<i64, _>("n")?))).collect()
    }

    async fn open_task_counts(&self, user_id: Uuid, project_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, i64)>> {
        if project_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query("SELECT project_id, COUNT(*) AS n FROM tasks WHERE user_id = $1 AND status <> 'done' AND project_id = ANY($2) GROUP BY project_id")
            .bind(user_id)
            .bind(project_ids)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("project_id")?, r.try_get::<i64, _>("n")?))).collect()
    }

    async fn insert_tasks(&self, tasks: &[Task], activities: &[Activity]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for t in tasks {
            sqlx::query(
                "INSERT INTO tasks (id, user_id, project_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
            .bind(serde_json::json!(t.tags))
            .bind(t.created_at)
            .bind(t.updated_at)
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
        sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"))
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(task_from)
            .transpose()
    }

    async fn list_tasks(&self, user_id: Uuid, f: &TaskFilter, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Task>> {
        let mut q = QueryBuilder::<Postgres>::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = "));
        q.push_bind(user_id);
        if let Some(p) = f.project_id {
            q.push(" AND project_id = ").push_bind(p);
        }
        if let [status] = f.statuses.as_slice() {
            // `= ANY($n)` would not let the planner walk tasks(user_id, status, id) in id order.
            q.push(" AND status = ").push_bind(status.clone());
        } else if !f.statuses.is_empty() {
            q.push(" AND status = ANY(").push_bind(f.statuses.clone()).push(")");
        } else if !f.include_done {
            q.push(" AND status <> 'done'");
        }
        if let Some(p) = &f.priority {
            q.push(" AND priority = ").push_bind(p.clone());
        }
        if let Some(d) = f.due_from {
            q.push(" AND due_date >= ").push_bind(d);
        }
        if let Some(d) = f.due_to {
            q.push(" AND due_date <= ").push_bind(d);
        }
        if let Some(tag) = &f.tag {
            q.push(" AND tags @> jsonb_build_array(").push_bind(tag.clone()).push("::text)");
        }
        if let Some(a) = &f.assignee {
            q.push(" AND assignee = ").push_bind(a.clone());
        }
        if let Some(text) = &f.text {
            // ILIKE: case-insensitive like SQLite's LIKE, with the pattern's wildcards escaped.
            let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            q.push(" AND (title ILIKE ").push_bind(pattern.clone()).push(" OR description ILIKE ").push_bind(pattern).push(")");
        }
        if let Some(after) = after {
            q.push(" AND id < ").push_bind(after);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit) + 1);
        let rows = q.build().fetch_all(&self.pool).await?;
        let items = rows.iter().map(task_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page(items, limit, |t| t.id))
    }

    async fn update_task(&self, t: &Task, activity: &Activity) -> StoreResult<bool> {
        let update = sqlx::query(
            "UPDATE tasks SET project_id = $1, title = $2, description = $3, status = $4, priority = $5, due_date = $6, assignee = $7, completed_at = $8, \
             tags = $9, updated_at = $10 WHERE id = $11 AND user_id = $12",
        )
        .bind(t.project_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(&t.status)
        .bind(&t.priority)
        .bind(t.due_date)
        .bind(&t.assignee)
        .bind(t.completed_at)
        .bind(serde_json::json!(t.tags))
        .bind(t.updated_at)
        .bind(t.id)
        .bind(t.user_id);
        self.recorded(update, Record::Activity(activity)).await
    }

    async fn delete_task(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool> {
        let delete = sqlx::query("DELETE FROM tasks WHERE id = $1 AND user_id = $2").bind(id).bind(user_id);
        self.recorded(delete, Record::Activity(activity)).await
    }

    async fn insert_comment(&self, user_id: Uuid, c: &Comment, activity: &Activity) -> StoreResult<()> {
        let insert = sqlx::query("INSERT INTO comments (id, user_id, task_id, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(c.id)
            .bind(user_id)
            .bind(c.task_id)
            .bind(&c.body)
            .bind(c.created_at);
        self.recorded(insert, Record::Activity(activity)).await?;
        Ok(())
    }

    async fn list_comments(&self, user_id: Uuid, task_id: Uuid, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Comment>> {
        let items = sqlx::query(
            "SELECT id, task_id, body, created_at FROM comments WHERE user_id = $1 AND task_id = $2 AND id > $3 ORDER BY id LIMIT $4",
        )
        .bind(user_id)
        .bind(task_id)
        .bind(after.unwrap_or(Uuid::nil()))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Comment {
                id: r.try_get("id")?,
                task_id: r.try_get("task_id")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(page(items, limit, |c| c.id))
    }

    async fn list_activity(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> StoreResult<Page<ActivityEntry>> {
        let mut q =
            QueryBuilder::<Postgres>::new("SELECT id, entity_type, entity_id, title, action, at, via FROM activity WHERE user_id = ");
        q.push_bind(user_id);
        if let Some(before) = before {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit) + 1);
        let items = q
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ActivityEntry {
                    id: r.try_get("id")?,
                    entity_type: r.try_get("entity_type")?,
                    entity_id: r.try_get("entity_id")?,
                    title: r.try_get("title")?,
                    action: r.try_get("action")?,
                    at: r.try_get("at")?,
                    via: r.try_get("via")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(page(items, limit, |a| a.id))
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
