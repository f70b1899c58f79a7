//! The workspace: the operations behind the MCP tools (and later the HTTP API).
//! Input and output shapes live here so that every face of the service agrees on them.
use base64::Engine;
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use super::{App, Credential, Principal, ServiceError, ServiceResult};
use crate::store::Activity;

pub mod activity;
pub mod comments;
pub mod projects;
pub mod tasks;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// `limit` as the list tools accept it: default 20, at most 100.
pub fn page_limit(limit: Option<u32>) -> ServiceResult<u32> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ServiceError::Invalid(format!("limit must be between 1 and {MAX_LIMIT} (got {n})."))),
    }
}

/// Cursors are opaque to callers: the id to continue after, base64url-encoded.
pub fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(cursor: Option<&str>) -> ServiceResult<Option<Uuid>> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).ok().and_then(|b| Uuid::from_slice(&b).ok()).ok_or_else(|| {
                ServiceError::Invalid("cursor is not valid: pass the next_cursor of a previous page, or leave it out to start over.".into())
            })
        })
        .transpose()
}

/// Parses an id argument; a malformed id is reported exactly like an unknown one.
pub fn parse_id(kind: &str, id: &str) -> ServiceResult<Uuid> {
    Uuid::parse_str(id.trim()).map_err(|_| not_found(kind, id))
}

pub fn not_found(kind: &str, id: &str) -> ServiceError {
    ServiceError::NotFound(format!("No {kind} with id {id} exists in this workspace."))
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`) in updates.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub fn required_text(field: &str, value: &str, max: usize) -> ServiceResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::Invalid(format!("{field} must not be empty.")));
    }
    optional_text(field, value, max)
}

pub fn optional_text(field: &str, value: &str, max: usize) -> ServiceResult<String> {
    if value.chars().count() > max {
        return Err(ServiceError::Invalid(format!("{field} must be at most {max} characters.")));
    }
    Ok(value.to_owned())
}

impl App {
    /// The record of a change for `list_recent_activity`; the store writes it with the change.
    pub(crate) fn activity(
        &self,
        p: &Principal,
        entity_type: &'static str,
        entity_id: Uuid,
        title: &str,
        action: &'static str,
    ) -> Activity {
        let via = match &p.credential {
            Credential::ApiKey { id, .. } => format!("api_key:{id}"),
            Credential::OAuth { client_id, .. } => format!("oauth:{client_id}"),
        };
        Activity {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            entity_type,
            entity_id,
            title: title.to_owned(),
            action,
            at: self.now(),
            via: Some(via),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_clear_error() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(Some(&encode_cursor(id))).ok().flatten(), Some(id));
        assert!(decode_cursor(Some("not a cursor")).is_err());
        assert_eq!(decode_cursor(None).ok().flatten(), None);
    }

    #[test]
    fn limits_default_to_20_and_stop_at_100() {
        assert_eq!(page_limit(None).ok(), Some(20));
        assert_eq!(page_limit(Some(100)).ok(), Some(100));
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(101)).is_err());
    }
}
