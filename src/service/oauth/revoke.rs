//! Token revocation (RFC 7009). Revoking a refresh token revokes its grant (and so every
//! access token issued under it, RFC 7009 §2.1); revoking an access token revokes that token.
//! The answer is the same whether or not the token existed.
use crate::core::{
    secret::{constant_time_eq, digest},
    token::{self, TokenKind},
};
use crate::service::{
    App,
    oauth::{OAuthResult, token::TokenRequest},
};

impl App {
    pub async fn revoke(&self, req: &TokenRequest, token_value: Option<&str>) -> OAuthResult<()> {
        let client = self.authenticate_client(req.client_id.as_deref(), req.client_secret.as_deref()).await?;
        let Some(plaintext) = token_value else { return Ok(()) };
        let Ok(parsed) = token::parse(plaintext) else { return Ok(()) };
        if !matches!(parsed.kind, TokenKind::Access | TokenKind::Refresh) {
            return Ok(());
        }
        let Some((row, grant)) = self.store.oauth_token(parsed.id).await? else { return Ok(()) };
        // Only the client the token was issued to may revoke it.
        if !constant_time_eq(&digest(plaintext), &row.digest) || grant.client_id != client.id {
            return Ok(());
        }
        let now = self.now();
        match parsed.kind {
            TokenKind::Refresh => {
                self.store.revoke_grant(grant.id, now, None).await?;
            }
            _ => self.store.revoke_token(&row.id, now).await?,
        }
        Ok(())
    }
}
