//! The per-user trail of security events shown on the Connected Apps page.
use std::net::IpAddr;

use uuid::Uuid;

use super::{App, ServiceResult};
use crate::core::user_agent;
use crate::store::AuditEvent;

pub const KEY_CREATED: &str = "api_key.created";
pub const KEY_REVOKED: &str = "api_key.revoked";
pub const SIGN_IN_FAILED: &str = "sign_in.failed";
pub const SIGNED_IN: &str = "sign_in.succeeded";
pub const PASSWORD_CHANGED: &str = "password.changed";

/// Where the request being served came from, as the edge saw it. The edge sets it around a
/// request (`REQUEST_ORIGIN.scope`); every security event written while serving that request
/// records it, without each service call having to carry it.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

tokio::task_local! {
    pub static REQUEST_ORIGIN: RequestOrigin;
}

/// One page of security events, newest first; `older` continues after the last one.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub older: Option<Uuid>,
}

impl App {
    /// A security event; a change hands it to the store, which writes it in the change's transaction.
    pub(crate) fn audit_event(&self, user_id: Uuid, kind: &str, detail: impl Into<String>) -> AuditEvent {
        let origin = REQUEST_ORIGIN.try_with(Clone::clone).unwrap_or_default();
        AuditEvent {
            id: Uuid::now_v7(),
            user_id,
            kind: kind.to_owned(),
            detail: detail.into(),
            created_at: self.now(),
            ip: origin.ip.map(|ip| ip.to_canonical().to_string()),
            client: origin.user_agent.as_deref().map(user_agent::family),
        }
    }

    /// Writes an event that records no change of its own (a failed sign-in).
    pub async fn audit(&self, user_id: Uuid, kind: &str, detail: impl Into<String>) -> ServiceResult<()> {
        self.store.insert_audit(&self.audit_event(user_id, kind, detail)).await?;
        Ok(())
    }

    pub async fn audit_trail(&self, user_id: Uuid, limit: u32) -> ServiceResult<Vec<AuditEvent>> {
        Ok(self.store.list_audit(user_id, None, limit).await?)
    }

    /// `limit` events older than `before` (or the newest), and where the next page starts.
    pub async fn audit_page(&self, user_id: Uuid, before: Option<Uuid>, limit: u32) -> ServiceResult<AuditPage> {
        let mut events = self.store.list_audit(user_id, before, limit + 1).await?;
        let older = if events.len() > limit as usize {
            events.truncate(limit as usize);
            events.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage { events, older })
    }
}
