//! The OAuth 2.1 authorization server, one file per endpoint or grant (rauthy's layout):
//! `register` (RFC 7591), `authorize`, `token/authorization_code`, `token/refresh`,
//! `revoke` (RFC 7009), `introspect` (RFC 7662), and access-token checks for the resource side.
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{App, AuthFailure, Credential, Principal, ServiceResult};
use crate::core::{
    scope::Access,
    secret::{constant_time_eq, digest},
    token::{NewToken, ParsedToken, TokenKind, mint},
};
use crate::store::{Grant, OAuthClient, OAuthToken, OAuthTokenKind};

pub mod authorize;
pub mod client_metadata;
pub mod introspect;
pub mod register;
pub mod revoke;
pub mod token;

pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(30);
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// Registrations that never led to a grant are deleted after this long.
pub const UNUSED_CLIENT_TTL: Duration = Duration::hours(24);

pub const AUDIT_CONNECTED: &str = "oauth.connected";
pub const AUDIT_DISCONNECTED: &str = "oauth.disconnected";
pub const AUDIT_REFRESH_REUSE: &str = "oauth.refresh_reuse";
pub const AUDIT_CODE_REUSE: &str = "oauth.code_reuse";

/// An OAuth error response (RFC 6749 §5.2): `error`, `error_description`, and its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" { 401 } else { 400 };
        Self { status, error, description: description.into() }
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    pub fn server_error() -> Self {
        Self { status: 500, error: "server_error", description: "The server could not complete the request; try again.".into() }
    }
}

impl From<super::ServiceError> for OAuthError {
    fn from(e: super::ServiceError) -> Self {
        tracing::error!(error = %e, "oauth request failed");
        OAuthError::server_error()
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "oauth request failed on the store");
        OAuthError::server_error()
    }
}

pub type OAuthResult<T> = Result<T, OAuthError>;

/// The token endpoint's success response (RFC 6749 §5.1).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: &'static str,
}

/// A connected app as the Connected Apps page lists it.
#[derive(Debug, Clone)]
pub struct AppView {
    pub grant_id: Uuid,
    pub client_id: String,
    pub client_name: String,
    pub redirect_host: String,
    pub access: Access,
    pub connected_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl App {
    /// The names of the one resource this server protects (see `resource_names`).
    pub fn resources(&self) -> [String; 4] {
        resource_names(&self.issuer)
    }

    /// Whether `resource` (already canonical) names this server.
    pub fn is_own_resource(&self, resource: &str) -> bool {
        self.resources().iter().any(|r| r == resource)
    }

    /// The key refresh successors are derived with, shared by every instance through the database.
    async fn derivation_key(&self) -> ServiceResult<&[u8]> {
        self.server_key(&self.derivation_key, "refresh-derivation").await
    }

    /// Authenticates a client at the token, revocation and introspection endpoints.
    /// Unknown clients get 401 `invalid_client`, which tells MCP clients to register again.
    pub async fn authenticate_client(&self, client_id: Option<&str>, secret: Option<&str>) -> OAuthResult<OAuthClient> {
        let Some(client_id) = client_id.filter(|c| !c.is_empty()) else {
            return Err(OAuthError::new("invalid_client", "client_id is required"));
        };
        let Some(client) = self.resolve_client(client_id).await? else {
            return Err(OAuthError::new("invalid_client", "Unknown client: register again"));
        };
        if let Some(expected) = &client.secret_digest {
            let ok = secret.is_some_and(|s| constant_time_eq(&digest(s), expected));
            if !ok {
                return Err(OAuthError::new("invalid_client", "Client authentication failed"));
            }
        }
        Ok(client)
    }

    fn token_row(&self, t: &NewToken, kind: OAuthTokenKind, grant_id: Uuid, access: Access, now: DateTime<Utc>) -> OAuthToken {
        let lifetime = match kind {
            OAuthTokenKind::Access => ACCESS_TOKEN_LIFETIME,
            OAuthTokenKind::Refresh => REFRESH_TOKEN_LIFETIME,
        };
        OAuthToken {
            id: t.id.clone(),
            kind,
            grant_id,
            digest: digest(&t.plaintext).to_vec(),
            access,
            created_at: now,
            expires_at: now + lifetime,
            used_at: None,
            revoked_at: None,
        }
    }

    /// Checks an OAuth access token presented as a bearer: one indexed lookup (token joined
    /// with its grant), a constant-time digest comparison, expiry, revocation and audience.
    pub(crate) async fn authenticate_access(&self, parsed: ParsedToken<'_>) -> ServiceResult<Result<Principal, AuthFailure>> {
        let Some((token, grant)) = self.store.oauth_token(parsed.id).await? else { return Ok(Err(AuthFailure::Invalid)) };
        if token.kind != OAuthTokenKind::Access || !constant_time_eq(&digest(parsed.plaintext), &token.digest) {
            return Ok(Err(AuthFailure::Invalid));
        }
        let now = self.now();
        if token.revoked_at.is_some() || grant.revoked_at.is_some() {
            return Ok(Err(AuthFailure::Revoked));
        }
        if token.expires_at <= now {
            return Ok(Err(AuthFailure::Expired));
        }
        // Audience: a token is only good at the resource it was issued for (RFC 8707).
        if !self.is_own_resource(&grant.resource) {
            return Ok(Err(AuthFailure::Invalid));
        }
        self.grant_last_used.record(&grant.id, now);
        Ok(Ok(Principal {
            user_id: grant.user_id,
            access: token.access,
            credential: Credential::OAuth { grant_id: grant.id, client_id: grant.client_id, expires_at: token.expires_at },
        }))
    }

    /// Access and refresh tokens for a grant, minted at random.
    fn fresh_tokens(&self, grant: &Grant, access: Access, now: DateTime<Utc>) -> (TokenResponse, Vec<OAuthToken>) {
        let at = mint(TokenKind::Access);
        let rt = mint(TokenKind::Refresh);
        self.token_pair(grant, access, now, at, rt)
    }

    fn token_pair(
        &self,
        grant: &Grant,
        access: Access,
        now: DateTime<Utc>,
        at: NewToken,
        rt: NewToken,
    ) -> (TokenResponse, Vec<OAuthToken>) {
        let rows = vec![
            self.token_row(&at, OAuthTokenKind::Access, grant.id, access, now),
            self.token_row(&rt, OAuthTokenKind::Refresh, grant.id, access, now),
        ];
        let response = TokenResponse {
            access_token: at.plaintext,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_LIFETIME.num_seconds(),
            refresh_token: rt.plaintext,
            scope: access.granted_scopes(),
        };
        (response, rows)
    }

    /// The user's connected apps, for the Connected Apps page.
    pub async fn connected_apps(&self, user_id: Uuid) -> ServiceResult<Vec<AppView>> {
        let apps = self.store.connected_apps(user_id).await?;
        Ok(apps
            .into_iter()
            .map(|a| AppView {
                last_used_at: a.grant.last_used_at.max(self.grant_last_used.pending(&a.grant.id)),
                redirect_host: url::Url::parse(&a.grant.redirect_uri)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| a.grant.redirect_uri.clone()),
                grant_id: a.grant.id,
                client_id: a.grant.client_id,
                client_name: a.client_name,
                access: a.grant.access,
                connected_at: a.grant.created_at,
            })
            .collect())
    }

    /// Disconnect: revokes the grant and every access and refresh token issued under it.
    /// Returns the app's name.
    pub async fn disconnect(&self, user_id: Uuid, grant_id: Uuid) -> ServiceResult<String> {
        let Some(grant) = self.store.user_grant(user_id, grant_id).await? else {
            return Err(super::ServiceError::NotFound("No such connected app.".into()));
        };
        let name = self.store.client(&grant.client_id).await?.map(|c| c.name).unwrap_or_else(|| grant.client_id.clone());
        let event = self.audit_event(user_id, AUDIT_DISCONNECTED, format!("Disconnected \"{name}\"; all its tokens were revoked"));
        self.store.revoke_grant(grant.id, self.now(), Some(&event)).await?;
        Ok(name)
    }

    /// Background job: deletes registrations that never led to a grant.
    pub async fn reap_unused_clients(&self) -> ServiceResult<u64> {
        Ok(self.store.reap_unused_clients(self.now() - UNUSED_CLIENT_TTL).await?)
    }

    /// Background job: deletes browser sessions and authorization codes expired for an hour
    /// (a replayed old code then finds nothing, and is refused the same way).
    pub async fn purge_expired(&self) -> ServiceResult<u64> {
        Ok(self.store.purge_expired(self.now() - chrono::Duration::hours(1)).await?)
    }
}

/// The names of the one resource a server at `issuer` protects: the origin, both MCP paths and
/// the HTTP API; a token issued for any of them is good at all of them. (The edge serves these
/// paths; a test there checks that the two lists agree.)
pub fn resource_names(issuer: &str) -> [String; 4] {
    [issuer.to_owned(), format!("{issuer}/functions/v1/mcp-server-v2"), format!("{issuer}/mcp"), format!("{issuer}/api/v1")]
}

/// Adds query parameters to a redirect URI, keeping the query it already has.
pub fn with_params(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}
