//! Token introspection (RFC 7662): an authenticated client learns whether one of its own
//! tokens is active, and its scope, expiry, subject and audience. Anything else is inactive.
use serde_json::{Value, json};

use crate::core::{
    secret::{constant_time_eq, digest},
    token::{self, TokenKind},
};
use crate::service::{
    App,
    oauth::{OAuthResult, token::TokenRequest},
};

impl App {
    pub async fn introspect(&self, req: &TokenRequest, token_value: Option<&str>) -> OAuthResult<Value> {
        let client = self.authenticate_client(req.client_id.as_deref(), req.client_secret.as_deref()).await?;
        let inactive = json!({ "active": false });
        let Some(plaintext) = token_value else { return Ok(inactive) };
        let Ok(parsed) = token::parse(plaintext) else { return Ok(inactive) };
        if !matches!(parsed.kind, TokenKind::Access | TokenKind::Refresh) {
            return Ok(inactive);
        }
        let Some((row, grant)) = self.store.oauth_token(parsed.id).await? else { return Ok(inactive) };
        let now = self.now();
        let usable = row.revoked_at.is_none() && grant.revoked_at.is_none() && row.expires_at > now && row.used_at.is_none();
        if !constant_time_eq(&digest(plaintext), &row.digest) || grant.client_id != client.id || !usable {
            return Ok(inactive);
        }
        Ok(json!({
            "active": true,
            "scope": row.access.granted_scopes(),
            "client_id": grant.client_id,
            "token_type": if parsed.kind == TokenKind::Access { "Bearer" } else { "refresh_token" },
            "exp": row.expires_at.timestamp(),
            "iat": row.created_at.timestamp(),
            "sub": grant.user_id.to_string(),
            "aud": grant.resource,
            "iss": self.issuer.as_ref(),
        }))
    }
}
