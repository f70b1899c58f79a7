//! Persistence: one trait, implemented once for SQLite and PostgreSQL (`sql.rs`) over what each
//! database provides (`sqlite.rs`, `postgres.rs`). SQL lives here and only here.
//! Every workspace method takes the owning user's id and filters by it.
//!
//! A change and the row that records it (its `Activity`, or its `AuditEvent`) are written in one
//! transaction: both or neither. So a failed change has changed nothing, and a retry cannot
//! duplicate it; the one exception is a commit whose answer was lost (`StoreError::Uncertain`).
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::core::{scope::Access, throttle};

pub mod calendar;
pub mod export;
pub mod goals;
pub mod inbox;
pub mod mcp_sessions;
pub mod notes;
pub mod postgres;
pub mod search;
pub mod sql;
pub mod sqlite;
pub mod summary;
pub mod tags;
pub mod workflows;

pub use notes::{Appended, Note, NoteFilter, NoteStore};
pub use tags::{DEFAULT_TAG_COLOR, Tag, TagStore, TagUse, Taggable, Tagged, Untagged, tag_key};

pub use calendar::{Event, EventCursor, EventDeletion, EventFilter, EventStore};
pub use inbox::{Conversion, InboxItem, InboxStore};
pub use workflows::{Workflow, WorkflowRun, WorkflowStore};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    Conflict,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Read(#[from] rusqlite::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database is set up in a way Navis refuses to run on (a role that bypasses row-level security).
    #[error("{0}")]
    Unsafe(String),
    /// The database's answer to a write was lost (the connection broke while committing): the
    /// change may or may not have been made.
    #[error("database error, the change may have been made: {0}")]
    Uncertain(sqlx::Error),
}

impl StoreError {
    /// Whether a failed call may nevertheless have changed something.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, StoreError::Uncertain(_))
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The lookup id embedded in the token (not secret).
    pub id: String,
    pub user_id: Uuid,
    pub name: String,
    pub access: Access,
    /// SHA-256 of the whole token.
    pub digest: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub detail: String,
    pub created_at: DateTime<Utc>,
    /// The address of the client whose request caused it, when a request did.
    pub ip: Option<String>,
    /// That client's family (`core::user_agent::family`), when it sent a `User-Agent`.
    pub client: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub description: String,
    pub status: String,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// The names of its tags, as the tags spell them (see [`Taggable`]).
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Task {
    pub id: Uuid,
    pub user_id: Uuid,
    pub project_id: Option<Uuid>,
    /// The meeting (event) it is a follow-up of (`create_follow_ups`).
    #[serde(default)]
    pub event_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub due_date: Option<NaiveDate>,
    pub assignee: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The names of its tags, as the tags spell them (see [`Taggable`]).
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: Uuid,
    pub task_id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// What deleting a project did besides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectDeletion {
    /// Notes that were in the project, and now are in none.
    pub notes_detached: u64,
}

#[derive(Debug, Clone)]
pub struct Activity {
    pub id: Uuid,
    pub user_id: Uuid,
    pub entity_type: &'static str,
    pub entity_id: Uuid,
    pub title: String,
    pub action: &'static str,
    pub at: DateTime<Utc>,
    /// The credential that made the change (`api_key:<id>`, `oauth:<client id>`).
    pub via: Option<String>,
}

/// An activity record as read back.
#[derive(Debug, Clone)]
pub struct ActivityEntry {
    pub id: Uuid,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub title: String,
    pub action: String,
    pub at: DateTime<Utc>,
    pub via: Option<String>,
}

/// A registered OAuth client (RFC 7591 dynamic registration).
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub id: String,
    /// Confidential clients only.
    pub secret_digest: Option<Vec<u8>>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: String,
    /// The registration response's metadata, echoed on registration.
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// One approval of a client by a user; every code and token hangs off it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: Uuid,
    pub user_id: Uuid,
    pub client_id: String,
    pub access: Access,
    pub resource: String,
    pub redirect_uri: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub id: String,
    pub digest: Vec<u8>,
    pub grant_id: Uuid,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthTokenKind {
    Access,
    Refresh,
}

impl OAuthTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthTokenKind::Access => "access",
            OAuthTokenKind::Refresh => "refresh",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OAuthToken {
    pub id: String,
    pub kind: OAuthTokenKind,
    pub grant_id: Uuid,
    pub digest: Vec<u8>,
    pub access: Access,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A live grant as the Connected Apps page lists it.
#[derive(Debug, Clone)]
pub struct ConnectedApp {
    pub grant: Grant,
    pub client_name: String,
}

/// Filters of `list_tasks`; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<Uuid>,
    /// The follow-ups of this meeting (event).
    pub event_id: Option<Uuid>,
    pub statuses: Vec<String>,
    pub priority: Option<String>,
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    pub tag: Option<String>,
    pub assignee: Option<String>,
    pub text: Option<String>,
    /// When false (the default) done tasks are left out.
    pub include_done: bool,
}

/// How long the response to an `Idempotency-Key` is kept (and a reused key refused).
pub const IDEMPOTENCY_KEPT: chrono::Duration = chrono::Duration::hours(24);

/// What the database holds for an `Idempotency-Key` when a request arrives with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyRecord {
    /// The key was free (or expired): it is now reserved for this request.
    Reserved,
    /// The key is taken: by a request with this fingerprint, whose response is this (status,
    /// body), or `None` while that request is still running.
    Taken { fingerprint: Vec<u8>, response: Option<(u16, String)> },
}

/// One page of a listing; `next` is the id to continue after.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Uuid>,
}

/// Splits the extra row of a `limit + 1` query off into the continuation id.
fn page<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> Uuid) -> Page<T> {
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(id)
    } else {
        None
    };
    Page { items, next }
}

tokio::task_local! {
    /// The user whose workspace the current task is serving (set from the `Principal` by
    /// `Principal::acting`). PostgreSQL's row-level security policies (the second wall, behind
    /// every query's own `user_id` filter) let a statement see only this user's workspace rows;
    /// with no acting user, none. SQLite has no row-level security and ignores it.
    static ACTING_USER: Uuid;
}

/// Runs `work` with `user` as the acting user of every statement it makes.
pub async fn acting_as<F: std::future::Future>(user: Uuid, work: F) -> F::Output {
    ACTING_USER.scope(user, work).await
}

/// The acting user, if the current task has one.
pub fn acting_user() -> Option<Uuid> {
    ACTING_USER.try_with(|user| *user).ok()
}

/// A unique-constraint violation is a conflict the services report; anything else is a database error.
fn conflict_or(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Database(e),
    }
}

/// The error of a write that commits (a commit, or a statement outside a transaction). The
/// database refusing it, or no connection to send it on, means nothing was written; any other
/// failure (the connection broke on the way) leaves the outcome unknown.
fn write_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => conflict_or(e),
        e => StoreError::Uncertain(e),
    }
}

async fn commit<DB: sqlx::Database>(tx: sqlx::Transaction<'_, DB>) -> StoreResult<()> {
    tx.commit().await.map_err(write_error)
}

/// The row that records a change, written in the change's transaction.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// Workspace changes, for `list_recent_activity`.
    Activity(&'a Activity),
    /// Security events, for the Connected Apps page.
    Audit(&'a AuditEvent),
}

/// Everything Navis keeps. One implementation for both databases (`sql.rs`, generic over the
/// `sql::Backend` each database provides); every workspace method takes the owning user's id
/// (or a row that carries it) and filters by it.
#[async_trait]
pub trait Store:
    EventStore
    + export::ExportStore
    + goals::GoalStore
    + InboxStore
    + mcp_sessions::McpSessionStore
    + search::SearchStore
    + summary::SummaryStore
    + NoteStore
    + TagStore
    + WorkflowStore
    + Send
    + Sync
    + 'static
{
    async fn migrate(&self) -> StoreResult<()>;
    /// The connection pool's size and idle connections, for `/metrics`.
    fn pool_use(&self) -> Option<crate::service::metrics::PoolUse> {
        None
    }
    async fn ping(&self) -> StoreResult<()>;

    // Accounts
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;

    // Browser sessions (looked up by the digest of the cookie value)
    /// Starts a session of `signed_in`'s user at its time, and writes that audit event.
    async fn insert_session(&self, digest: &[u8], expires_at: DateTime<Utc>, signed_in: &AuditEvent) -> StoreResult<()>;
    async fn session_user(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<User>>;
    async fn delete_session(&self, digest: &[u8]) -> StoreResult<()>;
    /// Sets the user's password hash, ends the user's browser sessions but `keep_session` (all of
    /// them when `None`) and writes `audit`, in one transaction; false if there is no such user.
    async fn set_password(&self, user_id: Uuid, password_hash: &str, keep_session: Option<&[u8]>, audit: &AuditEvent) -> StoreResult<bool>;
    /// Deletes the user and, through the foreign keys, everything that is theirs: sessions, API
    /// keys, OAuth grants with their codes and tokens, the workspace and its activity, the audit trail.
    async fn delete_user(&self, user_id: Uuid) -> StoreResult<bool>;

    // API keys
    async fn insert_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> StoreResult<()>;
    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKey>>;
    async fn list_api_keys(&self, user_id: Uuid) -> StoreResult<Vec<ApiKey>>;
    /// Marks the key revoked (and writes `audit`); false if the user has no such live key.
    async fn revoke_api_key(&self, user_id: Uuid, id: &str, now: DateTime<Utc>, audit: &AuditEvent) -> StoreResult<bool>;
    /// Writes batched last-used times (never moves a time backwards).
    async fn touch_api_keys(&self, used: &[(String, DateTime<Utc>)]) -> StoreResult<()>;

    // Audit trail
    /// An event that records no change of its own (a failed sign-in).
    async fn insert_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// The user's events, newest first, older than `before` when given.
    async fn list_audit(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> StoreResult<Vec<AuditEvent>>;

    // Projects
    async fn insert_project(&self, project: &Project, activity: &Activity) -> StoreResult<()>;
    async fn project(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Project>>;
    async fn list_projects(
        &self,
        user_id: Uuid,
        status: Option<&str>,
        include_archived: bool,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Page<Project>>;
    /// Updates the project and records `activity`; false (and no record) if the user has no such project.
    async fn update_project(&self, project: &Project, activity: &Activity) -> StoreResult<bool>;
    /// Deletes the project (and, through the foreign keys, its tasks and tag links), detaches its
    /// notes, and records `activity`; `None` (and nothing changed) if the user has no such project.
    async fn delete_project(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<Option<ProjectDeletion>>;
    /// (status, count) of the project's tasks.
    async fn task_counts(&self, user_id: Uuid, project_id: Uuid) -> StoreResult<Vec<(String, i64)>>;
    /// Open (not done) task count per project, for the given projects.
    async fn open_task_counts(&self, user_id: Uuid, project_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, i64)>>;

    // Tasks
    /// Inserts all tasks, their tags (making the tags no tag names yet) and their activities, or
    /// nothing; each task's `tags` become the names as its tags spell them.
    async fn insert_tasks(&self, tasks: &mut [Task], activities: &[Activity]) -> StoreResult<()>;
    async fn task(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<Task>>;
    async fn list_tasks(&self, user_id: Uuid, filter: &TaskFilter, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Task>>;
    /// Updates the task and records `activity`; false (and nothing changed) if the user has no
    /// such task. With `set_tags`, its tags become `task.tags` (as `insert_tasks` makes them);
    /// without, its tags are left as they are in the database, whatever `task.tags` says.
    async fn update_task(&self, task: &mut Task, set_tags: bool, activity: &Activity) -> StoreResult<bool>;
    async fn delete_task(&self, user_id: Uuid, id: Uuid, activity: &Activity) -> StoreResult<bool>;
    /// A task's comments, oldest first, after the given id.
    async fn list_comments(&self, user_id: Uuid, task_id: Uuid, after: Option<Uuid>, limit: u32) -> StoreResult<Page<Comment>>;
    async fn insert_comment(&self, user_id: Uuid, comment: &Comment, activity: &Activity) -> StoreResult<()>;

    // Activity
    /// The user's activity, newest first, before the given id.
    async fn list_activity(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> StoreResult<Page<ActivityEntry>>;

    // Idempotency keys of the HTTP API (rows older than `IDEMPOTENCY_KEPT` count as free).
    /// Reserves `key` for a request with `fingerprint`, or says who holds it.
    async fn reserve_idempotency_key(
        &self,
        user_id: Uuid,
        key: &str,
        fingerprint: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<IdempotencyRecord>;
    /// Stores the response of the request that reserved `key`.
    async fn complete_idempotency_key(&self, user_id: Uuid, key: &str, status: u16, body: &str) -> StoreResult<()>;
    /// Frees a reservation whose request failed without changing anything, so it can be retried.
    async fn release_idempotency_key(&self, user_id: Uuid, key: &str) -> StoreResult<()>;

    // OAuth
    /// The named server key, created from `candidate` the first time it is asked for.
    async fn server_key(&self, name: &str, candidate: &[u8], now: DateTime<Utc>) -> StoreResult<Vec<u8>>;
    async fn insert_client(&self, client: &OAuthClient) -> StoreResult<()>;
    async fn client(&self, id: &str) -> StoreResult<Option<OAuthClient>>;
    /// Inserts or refreshes a client (metadata-document clients), keeping its grants.
    async fn upsert_client(&self, client: &OAuthClient) -> StoreResult<()>;
    /// Deletes clients registered before `before` that never obtained a grant.
    async fn reap_unused_clients(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Records an approval: revokes the user's earlier live grants of the same client (and
    /// their tokens), then stores the new grant, its code and `audit`, in one transaction.
    async fn insert_grant_with_code(&self, grant: &Grant, code: &AuthCode, audit: &AuditEvent) -> StoreResult<()>;
    async fn code(&self, id: &str) -> StoreResult<Option<(AuthCode, Grant)>>;
    /// Marks the code used and stores the tokens it is exchanged for, atomically; false (and
    /// nothing stored) if the code already was used.
    async fn redeem_code(&self, id: &str, now: DateTime<Utc>, tokens: &[OAuthToken]) -> StoreResult<bool>;
    /// A token with its grant, in one indexed lookup.
    async fn oauth_token(&self, id: &str) -> StoreResult<Option<(OAuthToken, Grant)>>;
    /// Retires refresh token `old_id` and stores its successors atomically; false if it was already retired.
    async fn rotate_refresh(&self, old_id: &str, now: DateTime<Utc>, successors: &[OAuthToken]) -> StoreResult<bool>;
    /// Revokes the grant and every token under it, and writes `audit` if the grant was live;
    /// false if it was not.
    async fn revoke_grant(&self, grant_id: Uuid, now: DateTime<Utc>, audit: Option<&AuditEvent>) -> StoreResult<bool>;
    async fn revoke_token(&self, id: &str, now: DateTime<Utc>) -> StoreResult<()>;
    async fn user_grant(&self, user_id: Uuid, grant_id: Uuid) -> StoreResult<Option<Grant>>;
    async fn connected_apps(&self, user_id: Uuid) -> StoreResult<Vec<ConnectedApp>>;
    async fn touch_grants(&self, used: &[(Uuid, DateTime<Utc>)]) -> StoreResult<()>;
    /// Deletes browser sessions and authorization codes that expired before `before`, and
    /// sign-in failure counters that have run out; returns how many sessions and codes.
    async fn purge_expired(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    // Sign-in throttle (keys and rules in `core::throttle`; shared by every instance on the database)
    /// Atomically, across instances: when no key must wait ([`throttle::wait`]), counts one
    /// failure on every key and returns `None`; otherwise counts nothing and returns the longest wait.
    async fn reserve_sign_in(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<Option<chrono::Duration>>;
    /// After a successful sign-in: takes the reserved failure back on `refund`, forgets `clear`.
    async fn settle_sign_in(&self, refund: &[String], clear: &[String]) -> StoreResult<()>;
}

/// What a sign-in reservation writes: every counter after one more failure, or — when some key
/// must wait — nothing, and the longest wait.
fn reservation(
    counters: Vec<(String, throttle::Failures)>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, throttle::Failures)>, chrono::Duration> {
    match counters.iter().filter_map(|(key, f)| throttle::wait(key, Some(*f), now)).max() {
        Some(wait) => Err(wait),
        None => Ok(counters.into_iter().map(|(key, f)| (key, throttle::count_failure(Some(f), now))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_write_whose_answer_was_lost_may_have_changed_something() {
        // Never sent, or refused by the database: nothing was written.
        assert!(!write_error(sqlx::Error::PoolTimedOut).outcome_unknown());
        assert!(!write_error(sqlx::Error::PoolClosed).outcome_unknown());
        // The connection broke on the way: the commit may have happened.
        let broken = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(write_error(sqlx::Error::Io(broken)).outcome_unknown());
        assert!(write_error(sqlx::Error::Protocol("unexpected message".into())).outcome_unknown());
    }
}
