//! The current user: who a token belongs to (`get_current_user`, `GET /api/v1/me`).
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::service::{App, Credential, Principal, ServiceError, ServiceResult};

/// `get_current_user` takes no arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct NoArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CurrentUser {
    pub user_id: uuid::Uuid,
    pub email: String,
    /// `api_key` or `oauth`.
    pub token_kind: &'static str,
    /// The API key's name, or the OAuth app's name, as the Connected Apps page shows it.
    pub credential_name: String,
    pub scopes: Vec<&'static str>,
    /// When the credential stops working; absent if it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The user's IANA time zone: "today", all-day events and working hours are read in it.
    pub time_zone: String,
}

/// `PATCH /api/v1/me`: the account settings a token may change.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct UpdateCurrentUserArgs {
    /// An IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC). All-day events stay on
    /// their dates, now read in the new zone.
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = super::TEXT), example = &"Europe/Berlin")]
    pub time_zone: Option<String>,
}

impl App {
    pub async fn current_user(&self, p: &Principal, _args: NoArgs) -> ServiceResult<CurrentUser> {
        let user = self
            .store
            .user_by_id(p.user_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("The account of this token no longer exists.".into()))?;
        let credential_name = match &p.credential {
            Credential::ApiKey { name, .. } => name.clone(),
            Credential::OAuth { client_id, .. } => self.store.client(client_id).await?.map(|c| c.name).unwrap_or_else(|| client_id.clone()),
        };
        Ok(CurrentUser {
            user_id: user.id,
            email: user.email,
            token_kind: p.credential.kind(),
            credential_name,
            scopes: p.access.granted_scopes().split(' ').collect(),
            expires_at: p.credential.expires_at(),
            time_zone: self.time_zone(user.id).await?.name().to_owned(),
        })
    }

    pub async fn update_current_user(&self, p: &Principal, args: UpdateCurrentUserArgs) -> ServiceResult<CurrentUser> {
        if let Some(time_zone) = &args.time_zone {
            self.set_time_zone(p.user_id, time_zone).await?;
        }
        self.current_user(p, NoArgs {}).await
    }
}
