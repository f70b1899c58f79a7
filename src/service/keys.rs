//! API keys: create (plaintext shown once), list, revoke, and bearer authentication.
use std::{collections::HashMap, sync::Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{App, AuthFailure, Credential, Principal, ServiceError, ServiceResult, audit};
use crate::core::{
    scope::Access,
    secret::{constant_time_eq, digest},
    token::{self, TokenKind},
};
use crate::store::ApiKey;

pub const MAX_NAME_LEN: usize = 100;

/// The result of creating a key: the only moment the plaintext exists.
#[derive(Debug)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub token: token::NewToken,
}

/// The shape of a key on the page and in `navis key list`: never the digest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyView {
    pub id: String,
    pub display_id: String,
    pub name: String,
    pub scope: &'static str,
    pub scope_label: &'static str,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub status: &'static str,
}

/// Key expiry from a date: the key stops working at 00:00 UTC on that day.
pub fn expiry_from_date(date: NaiveDate, now: DateTime<Utc>) -> ServiceResult<DateTime<Utc>> {
    let at = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).ok_or_else(|| ServiceError::Invalid("invalid date".into()))?;
    if at <= now {
        return Err(ServiceError::Invalid("The expiration date must be in the future.".into()));
    }
    Ok(at)
}

/// A key's name, trimmed, or why it cannot be one (the page shows this beside the name field).
pub fn check_name(name: &str) -> ServiceResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::Invalid("Give the key a name, so you can recognise it later.".into()));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ServiceError::Invalid(format!("The key name must be at most {MAX_NAME_LEN} characters.")));
    }
    Ok(name)
}

/// A key's status at `now`: revoked wins over expired.
pub fn key_status(key: &ApiKey, now: DateTime<Utc>) -> &'static str {
    if key.revoked_at.is_some() {
        "revoked"
    } else if key.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    }
}

impl App {
    pub async fn create_api_key(
        &self,
        user_id: Uuid,
        name: &str,
        access: Access,
        expires_at: Option<DateTime<Utc>>,
    ) -> ServiceResult<CreatedKey> {
        let name = check_name(name)?;
        let now = self.now();
        if expires_at.is_some_and(|e| e <= now) {
            return Err(ServiceError::Invalid("The expiration date must be in the future.".into()));
        }
        let token = token::mint(TokenKind::ApiKey);
        let key = ApiKey {
            id: token.id.clone(),
            user_id,
            name: name.to_owned(),
            access,
            digest: digest(&token.plaintext).to_vec(),
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
        };
        let detail =
            format!("API key \"{}\" ({}) created with {}", key.name, token::display_id(TokenKind::ApiKey, &key.id), access.label());
        self.store.insert_api_key(&key, &self.audit_event(user_id, audit::KEY_CREATED, detail)).await?;
        Ok(CreatedKey { key, token })
    }

    pub async fn list_api_keys(&self, user_id: Uuid) -> ServiceResult<Vec<KeyView>> {
        let now = self.now();
        let keys = self.store.list_api_keys(user_id).await?;
        Ok(keys
            .into_iter()
            .map(|k| {
                // A use not yet flushed to the database is still a use.
                let last_used_at = k.last_used_at.max(self.last_used.pending(&k.id));
                KeyView {
                    display_id: token::display_id(TokenKind::ApiKey, &k.id),
                    status: key_status(&k, now),
                    scope: k.access.as_str(),
                    scope_label: k.access.label(),
                    id: k.id,
                    name: k.name,
                    created_at: k.created_at,
                    last_used_at,
                    expires_at: k.expires_at,
                }
            })
            .collect())
    }

    /// Revokes one of the user's keys; accepts the bare id or the `nops_…` display id. Returns
    /// the key as it was, so the caller can name it; the security event names it too.
    pub async fn revoke_api_key(&self, user_id: Uuid, id: &str) -> ServiceResult<ApiKey> {
        let id = id.strip_prefix(TokenKind::ApiKey.prefix()).unwrap_or(id);
        let not_found = || ServiceError::NotFound("No active API key with that id.".into());
        let key = self.store.api_key(id).await?.filter(|k| k.user_id == user_id).ok_or_else(not_found)?;
        let detail = format!("API key \"{}\" ({}) revoked", key.name, token::display_id(TokenKind::ApiKey, id));
        let event = self.audit_event(user_id, audit::KEY_REVOKED, detail);
        if !self.store.revoke_api_key(user_id, id, self.now(), &event).await? {
            return Err(not_found());
        }
        Ok(key)
    }

    /// The bearer check: format and checksum first (no I/O), then one indexed lookup
    /// and a constant-time digest comparison. No password hashing, no write.
    pub async fn authenticate(&self, bearer: Option<&str>) -> ServiceResult<Result<Principal, AuthFailure>> {
        let Some(bearer) = bearer else { return Ok(Err(AuthFailure::Missing)) };
        let Ok(parsed) = token::parse(bearer) else { return Ok(Err(AuthFailure::Malformed)) };
        match parsed.kind {
            TokenKind::Access => self.authenticate_access(parsed).await,
            // Refresh tokens and codes are for the token endpoint, never bearer credentials.
            TokenKind::Refresh | TokenKind::Code => Ok(Err(AuthFailure::Invalid)),
            TokenKind::ApiKey => {
                let Some(key) = self.store.api_key(parsed.id).await? else { return Ok(Err(AuthFailure::Invalid)) };
                if !constant_time_eq(&digest(parsed.plaintext), &key.digest) {
                    return Ok(Err(AuthFailure::Invalid));
                }
                let now = self.now();
                match key_status(&key, now) {
                    "revoked" => return Ok(Err(AuthFailure::Revoked)),
                    "expired" => return Ok(Err(AuthFailure::Expired)),
                    _ => {}
                }
                self.last_used.record(&key.id, now);
                Ok(Ok(Principal {
                    user_id: key.user_id,
                    access: key.access,
                    credential: Credential::ApiKey { id: key.id, name: key.name, expires_at: key.expires_at },
                }))
            }
        }
    }

    /// Writes the batched last-used times; called periodically and at shutdown.
    pub async fn flush_last_used(&self) -> ServiceResult<()> {
        let used = self.last_used.take();
        if !used.is_empty() {
            self.store.touch_api_keys(&used).await?;
        }
        let used = self.grant_last_used.take();
        if !used.is_empty() {
            self.store.touch_grants(&used).await?;
        }
        Ok(())
    }
}

/// Last-used times collected in memory and written in batches, so that
/// authenticating a request never writes to the database.
#[derive(Debug)]
pub struct LastUsed<K>(Mutex<HashMap<K, DateTime<Utc>>>);

impl<K> Default for LastUsed<K> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: std::hash::Hash + Eq + Clone> LastUsed<K> {
    pub fn record(&self, id: &K, at: DateTime<Utc>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(id) {
            Some(t) => *t = (*t).max(at),
            None => {
                map.insert(id.clone(), at);
            }
        }
    }

    pub fn pending(&self, id: &K) -> Option<DateTime<Utc>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id).copied()
    }

    pub fn take(&self) -> Vec<(K, DateTime<Utc>)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner())).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(revoked: bool, expires: Option<i64>) -> ApiKey {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        ApiKey {
            id: "x".into(),
            user_id: Uuid::nil(),
            name: "n".into(),
            access: Access::Read,
            digest: vec![],
            created_at: t0,
            expires_at: expires.map(|s| t0 + chrono::Duration::seconds(s)),
            revoked_at: revoked.then_some(t0),
            last_used_at: None,
        }
    }

    #[test]
    fn status_follows_revocation_then_expiry_at_the_given_time() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        assert_eq!(key_status(&key(false, None), t0), "active");
        assert_eq!(key_status(&key(false, Some(10)), t0), "active");
        assert_eq!(key_status(&key(false, Some(10)), t0 + chrono::Duration::seconds(10)), "expired");
        assert_eq!(key_status(&key(true, Some(10)), t0 + chrono::Duration::seconds(99)), "revoked");
    }

    #[test]
    fn expiry_dates_must_lie_in_the_future() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(); // 2027-01-15
        assert!(expiry_from_date(now.date_naive(), now).is_err());
        let tomorrow = now.date_naive().succ_opt().unwrap_or_default();
        assert_eq!(expiry_from_date(tomorrow, now).ok().map(|t| t.date_naive()), Some(tomorrow));
    }

    #[test]
    fn last_used_keeps_the_latest_time_and_drains() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let lu = LastUsed::<String>::default();
        let a = "a".to_owned();
        lu.record(&a, t0 + chrono::Duration::seconds(5));
        lu.record(&a, t0);
        assert_eq!(lu.pending(&a), Some(t0 + chrono::Duration::seconds(5)));
        assert_eq!(lu.take().len(), 1);
        assert_eq!(lu.pending(&a), None);
    }
}
