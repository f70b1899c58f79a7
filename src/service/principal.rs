//! Who is calling: produced once at the edge from a bearer token, passed to every service call.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::core::scope::Access;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub access: Access,
    pub credential: Credential,
}

impl Principal {
    /// Runs `work` acting for this principal's user: on PostgreSQL, the row-level security
    /// policies then let its statements reach this user's workspace rows and no one else's.
    /// Every entry into the workspace wraps its call in this, in one place each:
    /// `Operation::call` (MCP tools, the fast path, `/api/v1`), MCP resources, prompts and
    /// argument completion, and the web workspace page.
    pub async fn acting<F: std::future::Future>(&self, work: F) -> F::Output {
        crate::store::acting_as(self.user_id, work).await
    }
}

#[derive(Debug, Clone)]
pub enum Credential {
    ApiKey { id: String, name: String, expires_at: Option<DateTime<Utc>> },
    OAuth { grant_id: Uuid, client_id: String, expires_at: DateTime<Utc> },
}

impl Credential {
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::ApiKey { .. } => "api_key",
            Credential::OAuth { .. } => "oauth",
        }
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Credential::ApiKey { expires_at, .. } => *expires_at,
            Credential::OAuth { expires_at, .. } => Some(*expires_at),
        }
    }
}

/// Why a bearer token was refused. Only `Revoked` and `Expired` are told apart from
/// `Invalid`, and only to a caller who presented the real secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Invalid,
    Revoked,
    Expired,
}

impl AuthFailure {
    pub fn reason(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Invalid => "invalid",
            AuthFailure::Revoked => "revoked",
            AuthFailure::Expired => "expired",
        }
    }
}
