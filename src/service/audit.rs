//! The per-user trail of security events shown on the Connected Apps page.
use uuid::Uuid;

use super::{App, ServiceResult};
use crate::store::AuditEvent;

pub const KEY_CREATED: &str = "api_key.created";
pub const KEY_REVOKED: &str = "api_key.revoked";
pub const SIGN_IN_FAILED: &str = "sign_in.failed";
pub const SIGNED_IN: &str = "sign_in.succeeded";

impl App {
    /// A security event; a change hands it to the store, which writes it in the change's transaction.
    pub(crate) fn audit_event(&self, user_id: Uuid, kind: &str, detail: impl Into<String>) -> AuditEvent {
        AuditEvent { id: Uuid::now_v7(), user_id, kind: kind.to_owned(), detail: detail.into(), created_at: self.now() }
    }

    /// Writes an event that records no change of its own (a failed sign-in).
    pub async fn audit(&self, user_id: Uuid, kind: &str, detail: impl Into<String>) -> ServiceResult<()> {
        self.store.insert_audit(&self.audit_event(user_id, kind, detail)).await?;
        Ok(())
    }

    pub async fn audit_trail(&self, user_id: Uuid, limit: u32) -> ServiceResult<Vec<AuditEvent>> {
        Ok(self.store.list_audit(user_id, limit).await?)
    }
}
