//! `grant_type=refresh_token` (OAuth 2.1 §4.3): rotation on every use. A replay within the
//! grace window gets the same successor back (derived from the presented token under a server
//! key, so nothing but digests is stored); a replay after it revokes the whole grant.
use super::TokenRequest;
use crate::core::{
    oauth::{RefreshDecision, canonical_resource, refresh_decision},
    scope::Access,
    secret::{constant_time_eq, digest},
    token::{self, TokenKind, mint_derived},
};
use crate::service::{
    App,
    oauth::{AUDIT_REFRESH_REUSE, OAuthError, OAuthResult, TokenResponse},
};
use crate::store::OAuthClient;

impl App {
    pub(super) async fn refresh(&self, client: &OAuthClient, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        let plaintext = req.refresh_token.as_deref().ok_or_else(|| OAuthError::new("invalid_request", "refresh_token is required"))?;
        let invalid = || OAuthError::invalid_grant("The refresh token is invalid, expired or revoked.");
        let parsed = token::parse(plaintext).ok().filter(|p| p.kind == TokenKind::Refresh).ok_or_else(invalid)?;
        let (token, grant) = self.store.oauth_token(parsed.id).await?.ok_or_else(invalid)?;
        if !constant_time_eq(&digest(plaintext), &token.digest) || grant.client_id != client.id {
            return Err(invalid());
        }
        // Scope can only shrink (RFC 6749 §6); unknown scopes are narrowed away.
        let access = match req.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            None => token.access,
            Some(list) => match Access::from_scope_list(list) {
                Some(asked) if asked <= token.access => asked,
                Some(_) => {
                    return Err(OAuthError::new("invalid_scope", "A refresh cannot widen the scope; authorize again to get mcp:write."));
                }
                None => token.access,
            },
        };
        if let Some(resource) = req.resource.as_deref().filter(|r| !r.is_empty())
            && canonical_resource(resource).as_deref() != Some(grant.resource.as_str())
        {
            return Err(OAuthError::new("invalid_target", "resource does not match the grant."));
        }
        let now = self.now();
        let revoked = token.revoked_at.is_some() || grant.revoked_at.is_some();
        match refresh_decision(token.expires_at, revoked, token.used_at, now) {
            RefreshDecision::Refuse => Err(invalid()),
            RefreshDecision::RevokeGrant => {
                let event = self.audit_event(grant.user_id, AUDIT_REFRESH_REUSE, "A refresh token was reused; the app was disconnected");
                self.store.revoke_grant(grant.id, now, Some(&event)).await?;
                Err(invalid())
            }
            RefreshDecision::Rotate => {
                let (successor_access, successor_refresh) = self.successors(plaintext).await?;
                let (response, rows) = self.token_pair(&grant, access, now, successor_access.clone(), successor_refresh.clone());
                if self.store.rotate_refresh(&token.id, now, &rows).await? {
                    Ok(response)
                } else {
                    // Another request rotated it a moment ago: answer like a retry.
                    self.issued_successor(successor_access, successor_refresh).await
                }
            }
            RefreshDecision::ReturnSuccessor => {
                let (successor_access, successor_refresh) = self.successors(plaintext).await?;
                self.issued_successor(successor_access, successor_refresh).await
            }
        }
    }

    /// The successor pair of a refresh token: the same every time it is asked for.
    async fn successors(&self, plaintext: &str) -> OAuthResult<(token::NewToken, token::NewToken)> {
        let key = self.derivation_key().await?;
        Ok((mint_derived(TokenKind::Access, key, plaintext, "access"), mint_derived(TokenKind::Refresh, key, plaintext, "refresh")))
    }

    /// The successor pair a rotation already stored, answered again with its remaining lifetime.
    async fn issued_successor(&self, access: token::NewToken, refresh: token::NewToken) -> OAuthResult<TokenResponse> {
        let invalid = || OAuthError::invalid_grant("The refresh token is invalid, expired or revoked.");
        let (row, grant) = self.store.oauth_token(&access.id).await?.ok_or_else(invalid)?;
        let now = self.now();
        if row.revoked_at.is_some() || grant.revoked_at.is_some() || row.expires_at <= now {
            return Err(invalid());
        }
        Ok(TokenResponse {
            access_token: access.plaintext,
            token_type: "Bearer",
            expires_in: (row.expires_at - now).num_seconds(),
            refresh_token: refresh.plaintext,
            scope: row.access.granted_scopes(),
        })
    }
}
