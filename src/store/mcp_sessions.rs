//! MCP sessions as every instance sees them (`McpSessionStore`): the session itself lives in
//! the memory of the instance a client initialized on; this is what the others need to serve
//! it — whose it is, when it was last used, whether it has ended. Keyed by the digest of the id.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreResult;
use super::sql::{Backend, Stmt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpSessionRow {
    /// `None` until a token first uses the session.
    pub user_id: Option<Uuid>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait McpSessionStore: Send + Sync {
    async fn insert_mcp_session(&self, digest: &[u8], user_id: Option<Uuid>, at: DateTime<Utc>) -> StoreResult<()>;
    async fn mcp_session(&self, digest: &[u8]) -> StoreResult<Option<McpSessionRow>>;
    /// Gives a session no one owns yet to `user_id`; false if it had an owner (or is unknown).
    async fn claim_mcp_session(&self, digest: &[u8], user_id: Uuid) -> StoreResult<bool>;
    async fn touch_mcp_session(&self, digest: &[u8], at: DateTime<Utc>) -> StoreResult<()>;
    /// Ends the session for every instance; false if it was unknown or had ended already.
    async fn end_mcp_session(&self, digest: &[u8], at: DateTime<Utc>) -> StoreResult<bool>;
    /// Forgets sessions unused since `before`; how many.
    async fn reap_mcp_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

#[async_trait]
impl<B: Backend> McpSessionStore for B {
    async fn insert_mcp_session(&self, digest: &[u8], user_id: Option<Uuid>, at: DateTime<Utc>) -> StoreResult<()> {
        let insert = Stmt::new("INSERT INTO mcp_sessions (digest, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)");
        self.execute(insert.bind(digest).bind(user_id).bind(at).bind(at)).await?;
        Ok(())
    }

    async fn mcp_session(&self, digest: &[u8]) -> StoreResult<Option<McpSessionRow>> {
        let q = Stmt::new("SELECT user_id, last_seen_at, ended_at FROM mcp_sessions WHERE digest = ?").bind(digest);
        self.fetch_optional(q, |r| {
            Ok(McpSessionRow { user_id: r.opt_uuid("user_id")?, last_seen_at: r.ts("last_seen_at")?, ended_at: r.opt_ts("ended_at")? })
        })
        .await
    }

    async fn claim_mcp_session(&self, digest: &[u8], user_id: Uuid) -> StoreResult<bool> {
        let claim = Stmt::new("UPDATE mcp_sessions SET user_id = ? WHERE digest = ? AND user_id IS NULL");
        Ok(self.execute(claim.bind(user_id).bind(digest)).await? > 0)
    }

    async fn touch_mcp_session(&self, digest: &[u8], at: DateTime<Utc>) -> StoreResult<()> {
        let touch = Stmt::new("UPDATE mcp_sessions SET last_seen_at = ? WHERE digest = ? AND last_seen_at < ?");
        self.execute(touch.bind(at).bind(digest).bind(at)).await?;
        Ok(())
    }

    async fn end_mcp_session(&self, digest: &[u8], at: DateTime<Utc>) -> StoreResult<bool> {
        let end = Stmt::new("UPDATE mcp_sessions SET ended_at = ? WHERE digest = ? AND ended_at IS NULL");
        Ok(self.execute(end.bind(at).bind(digest)).await? > 0)
    }

    async fn reap_mcp_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.execute(Stmt::new("DELETE FROM mcp_sessions WHERE last_seen_at < ?").bind(before)).await
    }
}
