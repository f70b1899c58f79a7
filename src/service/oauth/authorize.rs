//! The authorization endpoint (OAuth 2.1 §4.1.1): validate the request, then — after sign-in
//! and consent — issue a single-use code bound to the client, redirect URI, PKCE challenge,
//! resource and scope.
use uuid::Uuid;

use super::{AUDIT_CONNECTED, CODE_LIFETIME, OAuthResult, with_params};
use crate::core::{
    oauth::{canonical_resource, is_loopback_redirect, redirect_matches, valid_pkce_challenge},
    scope::Access,
    secret::digest,
    token::{TokenKind, mint},
};
use crate::service::App;
use crate::store::{AuthCode, Grant, OAuthClient};

/// The parameters of an authorization request, as they arrive (query string or consent form).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizationParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub resource: Option<String>,
}

/// A request that passed every check; what the consent page shows and the code binds.
#[derive(Debug, Clone)]
pub struct ValidAuthorization {
    pub client: OAuthClient,
    pub redirect_uri: String,
    /// Whether the request named the redirect URI (then the code exchange must name it too).
    pub redirect_uri_sent: bool,
    pub state: Option<String>,
    pub code_challenge: String,
    /// The most the client asked for (after narrowing unknown scopes away).
    pub requested: Access,
    pub resource: String,
    /// True when every redirect URI of the client is on the user's own machine.
    pub loopback_only: bool,
}

/// Why a request was refused, for the error page. Refusals are never redirected to the client,
/// even to a registered redirect URI: registration is open, so anyone can register a phishing
/// page, and a redirect the user never agreed to would make Navis an open redirector
/// (RFC 9700 §4.11.2). Only a decision the user made on the consent page goes back to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeError(pub String);

impl App {
    pub async fn validate_authorization(&self, p: &AuthorizationParams) -> Result<ValidAuthorization, AuthorizeError> {
        let client_id = p
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| AuthorizeError("The request names no client (client_id is missing).".into()))?;
        let client = match self.resolve_client(client_id).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(AuthorizeError(
                    "This app is not registered with Navis (unknown client_id). Ask the app to connect again.".into(),
                ));
            }
            Err(e) if e.error == "invalid_client" => {
                return Err(AuthorizeError(format!("This app's client metadata document cannot be used: {}.", e.description)));
            }
            Err(_) => return Err(AuthorizeError("The server could not check this request; try again.".into())),
        };
        let redirect_uri = match p.redirect_uri.as_deref() {
            Some(uri) => client.redirect_uris.iter().any(|r| redirect_matches(r, uri)).then(|| uri.to_owned()).ok_or_else(|| {
                AuthorizeError("The redirect URI does not match any this app registered, so Navis will not send you there.".into())
            })?,
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => return Err(AuthorizeError("The request names no redirect URI and the app registered several.".into())),
        };
        let fail = |error: &str, description: &str| {
            AuthorizeError(format!("{} sent a request Navis cannot accept ({error}): {description}", client.name))
        };
        if p.response_type.as_deref() != Some("code") {
            return Err(fail("unsupported_response_type", "Only response_type=code is supported."));
        }
        let challenge = p.code_challenge.as_deref().unwrap_or("");
        if challenge.is_empty() {
            return Err(fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256."));
        }
        if p.code_challenge_method.as_deref() != Some("S256") {
            return Err(fail("invalid_request", "Only the S256 code_challenge_method is supported."));
        }
        if !valid_pkce_challenge(challenge) {
            return Err(fail("invalid_request", "code_challenge is not a valid S256 challenge."));
        }
        let resource = match p.resource.as_deref() {
            None | Some("") => self.issuer.to_string(),
            Some(raw) => match canonical_resource(raw) {
                Some(r) if self.is_own_resource(&r) => r,
                _ => return Err(fail("invalid_target", "The resource is not served by this authorization server.")),
            },
        };
        // Unknown scopes (offline_access, openid, …) are narrowed away, never fatal; asking for
        // nothing Navis knows means asking for the least: Read (a client steps up to Write by
        // authorizing again after a 403 `insufficient_scope`).
        let requested = p.scope.as_deref().and_then(Access::from_scope_list).unwrap_or(Access::Read);
        Ok(ValidAuthorization {
            loopback_only: client.redirect_uris.iter().all(|r| is_loopback_redirect(r)),
            client,
            redirect_uri,
            redirect_uri_sent: p.redirect_uri.is_some(),
            state: p.state.clone(),
            code_challenge: challenge.to_owned(),
            requested,
            resource,
        })
    }

    /// The user approved: record the grant (replacing any earlier grant of this client) and
    /// return the redirect carrying the code, `state` and `iss` (RFC 9207).
    pub async fn approve_authorization(&self, user_id: Uuid, v: &ValidAuthorization, granted: Access) -> OAuthResult<String> {
        let now = self.now();
        let access = granted.min(v.requested);
        let grant = Grant {
            id: Uuid::now_v7(),
            user_id,
            client_id: v.client.id.clone(),
            access,
            resource: v.resource.clone(),
            redirect_uri: v.redirect_uri.clone(),
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        };
        let code = mint(TokenKind::Code);
        let row = AuthCode {
            id: code.id.clone(),
            digest: digest(&code.plaintext).to_vec(),
            grant_id: grant.id,
            // Empty when the request named none: the exchange may then omit it (OAuth 2.1 §4.1.3).
            redirect_uri: if v.redirect_uri_sent { v.redirect_uri.clone() } else { String::new() },
            code_challenge: v.code_challenge.clone(),
            expires_at: now + CODE_LIFETIME,
            used_at: None,
        };
        let event = self.audit_event(user_id, AUDIT_CONNECTED, format!("Connected \"{}\" with {}", v.client.name, access.label()));
        self.store.insert_grant_with_code(&grant, &row, &event).await?;
        let mut params = vec![("code", code.plaintext.as_str())];
        if let Some(state) = v.state.as_deref() {
            params.push(("state", state));
        }
        params.push(("iss", &self.issuer));
        Ok(with_params(&v.redirect_uri, &params))
    }

    /// The user said no: back to the client with `access_denied`.
    pub fn deny_authorization(&self, v: &ValidAuthorization) -> String {
        let mut params = vec![("error", "access_denied"), ("error_description", "The user denied the request.")];
        if let Some(state) = v.state.as_deref() {
            params.push(("state", state));
        }
        params.push(("iss", &self.issuer));
        with_params(&v.redirect_uri, &params)
    }
}
