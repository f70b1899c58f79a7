//! `grant_type=authorization_code` (OAuth 2.1 §4.1.3): every check passes before anything is
//! issued; a code used twice revokes what its first use issued (the whole grant), and says so
//! on Connected Apps, whether the second use came later or at the same moment.
use super::TokenRequest;
use crate::core::{
    oauth::{canonical_resource, pkce_s256_matches},
    secret::{constant_time_eq, digest},
    token::{self, TokenKind},
};
use crate::service::{
    App,
    oauth::{AUDIT_CODE_REUSE, OAuthError, OAuthResult, TokenResponse},
};
use crate::store::{Grant, OAuthClient};

fn invalid_code() -> OAuthError {
    OAuthError::invalid_grant("The authorization code is invalid, expired or already used.")
}

impl App {
    pub(super) async fn exchange_code(&self, client: &OAuthClient, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        let plaintext = req.code.as_deref().ok_or_else(|| OAuthError::new("invalid_request", "code is required"))?;
        let parsed = token::parse(plaintext).ok().filter(|p| p.kind == TokenKind::Code).ok_or_else(invalid_code)?;
        let (code, grant) = self.store.code(parsed.id).await?.ok_or_else(invalid_code)?;
        if !constant_time_eq(&digest(plaintext), &code.digest) || grant.client_id != client.id {
            return Err(invalid_code());
        }
        let now = self.now();
        if code.used_at.is_some() {
            return Err(self.code_replayed(&grant, now).await);
        }
        if code.expires_at <= now || grant.revoked_at.is_some() {
            return Err(invalid_code());
        }
        // OAuth 2.1 §4.1.3: when the authorization request named a redirect URI, the exchange
        // must send the same one; when it named none, one sent here must be the grant's.
        let expected = if code.redirect_uri.is_empty() { None } else { Some(code.redirect_uri.as_str()) };
        match (expected, req.redirect_uri.as_deref()) {
            (Some(expected), Some(sent)) if sent == expected => {}
            (Some(_), None) => {
                return Err(OAuthError::invalid_grant("redirect_uri is required: the authorization request carried one."));
            }
            (None, None) => {}
            (None, Some(sent)) if sent == grant.redirect_uri => {}
            _ => return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request.")),
        }
        let verifier = req.code_verifier.as_deref().ok_or_else(|| OAuthError::invalid_grant("code_verifier is required (PKCE)."))?;
        if !pkce_s256_matches(verifier, &code.code_challenge) {
            return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge."));
        }
        if let Some(resource) = req.resource.as_deref().filter(|r| !r.is_empty())
            && canonical_resource(resource).as_deref() != Some(grant.resource.as_str())
        {
            return Err(OAuthError::new("invalid_target", "resource does not match the authorization request."));
        }
        // Single use, even under concurrent exchanges: only one caller marks the code used (and
        // stores its tokens with the mark). The other is a replay like any later one.
        let (response, rows) = self.fresh_tokens(&grant, grant.access, now);
        if !self.store.redeem_code(&code.id, now, &rows).await? {
            return Err(self.code_replayed(&grant, now).await);
        }
        Ok(response)
    }

    /// Replay: someone else may hold the first exchange's tokens. Revoke them all, and record it.
    async fn code_replayed(&self, grant: &Grant, now: chrono::DateTime<chrono::Utc>) -> OAuthError {
        let event =
            self.audit_event(grant.user_id, AUDIT_CODE_REUSE, "An authorization code was used twice; the app's tokens were revoked");
        match self.store.revoke_grant(grant.id, now, Some(&event)).await {
            Ok(_) => invalid_code(),
            Err(e) => e.into(),
        }
    }
}
