//! Dynamic client registration (RFC 7591), open: MCP clients register themselves. Each
//! redirect URI is judged on its own, so one unacceptable URI does not sink the others.
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{OAuthError, OAuthResult};
use crate::core::{
    oauth::check_redirect_uri,
    scope::Access,
    secret::{digest, random_base62, random_token},
};
use crate::service::App;
use crate::store::OAuthClient;

const AUTH_METHODS: [&str; 3] = ["none", "client_secret_basic", "client_secret_post"];
const MAX_REDIRECT_URIS: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub struct RegistrationRequest {
    pub redirect_uris: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub scope: Option<String>,
    /// Descriptive fields echoed back when they are strings.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

const ECHOED: [&str; 8] =
    ["client_uri", "logo_uri", "tos_uri", "policy_uri", "software_id", "software_version", "application_type", "contacts"];

fn invalid_metadata(description: impl Into<String>) -> OAuthError {
    OAuthError::new("invalid_client_metadata", description)
}

/// A registration that passed every rule: what `register_client` records, less the id and secret.
#[derive(Debug, Clone)]
pub struct CheckedRegistration {
    pub name: String,
    /// The acceptable redirect URIs, in order, without repeats.
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub scope: Option<&'static str>,
}

/// The registration rules, without I/O (the fuzz target calls this too).
pub fn check_registration(req: &RegistrationRequest) -> OAuthResult<CheckedRegistration> {
    let uris = req.redirect_uris.as_deref().unwrap_or_default();
    if uris.is_empty() {
        return Err(OAuthError::new("invalid_redirect_uri", "redirect_uris is required: at least one redirect URI."));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::new("invalid_redirect_uri", format!("At most {MAX_REDIRECT_URIS} redirect URIs.")));
    }
    let mut accepted: Vec<String> = Vec::new();
    let mut rejected = Vec::new();
    for uri in uris {
        match check_redirect_uri(uri) {
            Ok(()) if !accepted.contains(uri) => accepted.push(uri.clone()),
            Ok(()) => {}
            Err(reason) => rejected.push(reason),
        }
    }
    if accepted.is_empty() {
        return Err(OAuthError::new("invalid_redirect_uri", format!("No acceptable redirect URI: {}", rejected.join("; "))));
    }
    let grant_types: Vec<String> = match &req.grant_types {
        None => vec!["authorization_code".into(), "refresh_token".into()],
        Some(types) => types.iter().filter(|t| *t == "authorization_code" || *t == "refresh_token").cloned().collect(),
    };
    if !grant_types.iter().any(|t| t == "authorization_code") {
        return Err(invalid_metadata("grant_types must include authorization_code."));
    }
    if let Some(types) = &req.response_types
        && !types.iter().any(|t| t == "code")
    {
        return Err(invalid_metadata("response_types must include code."));
    }
    let method = req.token_endpoint_auth_method.clone().unwrap_or_else(|| "none".into());
    if !AUTH_METHODS.contains(&method.as_str()) {
        return Err(invalid_metadata(format!("token_endpoint_auth_method must be one of {}.", AUTH_METHODS.join(", "))));
    }
    let name =
        req.client_name.as_deref().map(|n| n.trim().chars().take(100).collect::<String>()).filter(|n| !n.is_empty()).unwrap_or_else(|| {
            url::Url::parse(&accepted[0]).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "Unnamed app".into())
        });
    let scope = req.scope.as_deref().and_then(Access::from_scope_list).map(|a| a.granted_scopes());
    Ok(CheckedRegistration { name, redirect_uris: accepted, grant_types, token_endpoint_auth_method: method, scope })
}

impl App {
    /// Registers a client; returns the 201 body (full metadata, never a `null` field).
    pub async fn register_client(&self, req: RegistrationRequest) -> OAuthResult<Value> {
        let CheckedRegistration { name, redirect_uris: accepted, grant_types, token_endpoint_auth_method: method, scope } =
            check_registration(&req)?;
        let now = self.now();
        let client_id = random_base62(24);
        let secret = (method != "none").then(|| random_token(32));
        let mut metadata = json!({
            "client_id": client_id,
            "client_id_issued_at": now.timestamp(),
            "client_name": name,
            "redirect_uris": accepted,
            "grant_types": grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": method,
        });
        if let Some(scope) = scope {
            metadata["scope"] = json!(scope);
        }
        for key in ECHOED {
            if let Some(v) = req.other.get(key).filter(|v| v.is_string() || (key == "contacts" && v.is_array())) {
                metadata[key] = v.clone();
            }
        }
        let client = OAuthClient {
            id: client_id,
            secret_digest: secret.as_deref().map(|s| digest(s).to_vec()),
            name,
            redirect_uris: accepted,
            token_endpoint_auth_method: method,
            metadata: metadata.clone(),
            created_at: now,
        };
        self.store.insert_client(&client).await?;
        if let Some(secret) = secret {
            // Shown once, in this response; only its digest is kept.
            metadata["client_secret"] = json!(secret);
            metadata["client_secret_expires_at"] = json!(0);
        }
        Ok(metadata)
    }
}
