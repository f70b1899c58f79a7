//! The token endpoint (OAuth 2.1 §3.2): form-encoded, one grant type per file.
pub mod authorization_code;
pub mod refresh;

use super::{OAuthError, OAuthResult, TokenResponse};
use crate::service::App;

/// The token endpoint's form fields (client credentials from the Basic header are merged in by the edge).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub resource: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl App {
    pub async fn token(&self, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        let client = self.authenticate_client(req.client_id.as_deref(), req.client_secret.as_deref()).await?;
        match req.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(&client, req).await,
            Some("refresh_token") => self.refresh(&client, req).await,
            Some(other) => Err(OAuthError::new("unsupported_grant_type", format!("grant_type {other} is not supported"))),
            None => Err(OAuthError::new("invalid_request", "grant_type is required")),
        }
    }
}
