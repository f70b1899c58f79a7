//! The workspace: the operations behind the MCP tools (and later the HTTP API).
//! Input and output shapes live here so that every face of the service agrees on them.
use base64::Engine;
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use super::{App, Credential, Principal, ServiceError, ServiceResult};
use crate::store::Activity;

pub mod activity;
pub mod calendar;
pub mod comments;
pub mod export;
pub mod goals;
pub mod inbox;
pub mod me;
pub mod meetings;
pub mod notes;
pub mod projects;
pub mod search;
pub mod summary;
pub mod tags;
pub mod tasks;
pub mod workflows;

/// Free text: anything but NUL, which PostgreSQL cannot store. (The patterns are stated in the
/// input schemas, in a syntax every JSON Schema engine reads alike, and enforced here.)
pub const TEXT: &str = r"^[^\x00]*$";
/// Required text: no NUL, and a character that is not blank (ASCII whitespace). Written so
/// that no engine backtracks on it.
pub const REQUIRED_TEXT: &str = r"^[\t\n\f\r ]*[^\x00\t\n\f\r ][^\x00]*$";
/// A `next_cursor` (or nothing, for the first page).
pub const CURSOR_PATTERN: &str = r"^([A-Za-z0-9_-]{22})?$";

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// `limit` as the list tools accept it: default 20, at most 100.
pub fn page_limit(limit: Option<u32>) -> ServiceResult<u32> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ServiceError::field("limit", format!("limit must be between 1 and {MAX_LIMIT} (got {n})."))),
    }
}

/// Cursors are opaque to callers: the id to continue after, base64url-encoded (22 characters).
/// Any 22 such characters decode (the last one's spare bits are ignored), so the schema's
/// pattern describes exactly what is accepted.
const CURSOR: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

pub fn encode_cursor(id: Uuid) -> String {
    CURSOR.encode(id.as_bytes())
}

pub fn decode_cursor(cursor: Option<&str>) -> ServiceResult<Option<Uuid>> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            CURSOR.decode(c).ok().and_then(|b| Uuid::from_slice(&b).ok()).ok_or_else(|| {
                ServiceError::field(
                    "cursor",
                    "cursor is not valid: pass the next_cursor of a previous page, or leave it out to start over.",
                )
            })
        })
        .transpose()
}

/// Parses an id argument; a malformed id is reported exactly like an unknown one.
pub fn parse_id(kind: &str, id: &str) -> ServiceResult<Uuid> {
    Uuid::parse_str(id.trim()).map_err(|_| not_found(kind, id))
}

/// An id given in a request's body: an unknown (or another user's) one is a bad field of the
/// request (422 over HTTP), not a missing resource at its URL (404).
pub fn in_field<T>(field: &str, found: ServiceResult<T>) -> ServiceResult<T> {
    found.map_err(|e| match e {
        ServiceError::NotFound(message) => ServiceError::field(field, message),
        e => e,
    })
}

pub fn not_found(kind: &str, id: &str) -> ServiceError {
    ServiceError::NotFound(format!("No {kind} with id {id} exists in this workspace."))
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`) in updates.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Text that must say something: at most `max` characters as sent, no NUL, and not blank;
/// returned without its surrounding blanks (ASCII whitespace, as `REQUIRED_TEXT` says).
pub fn required_text(field: &str, value: &str, max: usize) -> ServiceResult<String> {
    optional_text(field, value, max)?;
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if value.is_empty() {
        return Err(ServiceError::field(field, format!("{field} must not be empty.")));
    }
    Ok(value.to_owned())
}

/// Free text: at most `max` characters, no NUL.
pub fn optional_text(field: &str, value: &str, max: usize) -> ServiceResult<String> {
    if value.chars().count() > max {
        return Err(ServiceError::field(field, format!("{field} must be at most {max} characters.")));
    }
    no_nul(field, value)?;
    Ok(value.to_owned())
}

/// NUL cannot be stored (PostgreSQL refuses it in text), nor searched for.
pub fn no_nul(field: &str, value: &str) -> ServiceResult<()> {
    if value.contains('\0') {
        return Err(ServiceError::field(field, format!("{field} must not contain NUL characters.")));
    }
    Ok(())
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
        // Any 22 base64url characters are a cursor, as the schema's pattern says.
        assert!(decode_cursor(Some("zzzzzzzzzzzzzzzzzzzzzz")).is_ok_and(|c| c.is_some()));
        assert_eq!(decode_cursor(None).ok().flatten(), None);
    }

    #[test]
    fn text_rules_are_the_patterns_the_schemas_state() {
        assert_eq!(required_text("title", "  x \n", 500).ok().as_deref(), Some("x"));
        for blank in ["", " ", "\t\n\r\x0c "] {
            assert!(required_text("title", blank, 500).is_err(), "{blank:?}");
        }
        // Blank means ASCII whitespace, as in the pattern: other characters are content.
        assert_eq!(required_text("title", "\u{3000}", 500).ok().as_deref(), Some("\u{3000}"));
        assert!(required_text("title", "a\0b", 500).is_err());
        assert!(optional_text("description", "a\0", 500).is_err());
        // Lengths count what was sent, as maxLength does.
        assert!(required_text("title", &format!("{} ", "x".repeat(500)), 500).is_err());
    }

    /// The schemas' patterns and the rules agree on every string, tricky ones included: what
    /// the API document calls valid is accepted, and what it calls invalid is refused.
    #[test]
    fn the_patterns_accept_exactly_what_the_rules_accept() {
        let matches = |pattern: &str, s: &str| regex_automata::meta::Regex::new(pattern).map(|r| r.is_match(s)).unwrap_or(false);
        let samples = [
            "",
            " ",
            "x",
            " x ",
            "\t",
            "\n\r\x0c",
            "\x0b",
            "\0",
            "a\0",
            "\u{3000}",
            "\u{feff}",
            "\u{85}",
            "\u{1c}",
            "é",
            "🦀 ok",
            "AAAAAAAAAAAAAAAAAAAAAA",
            "zzzzzzzzzzzzzzzzzzzzz_",
            "short",
            "AAAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAA!",
        ];
        for s in samples {
            assert_eq!(matches(REQUIRED_TEXT, s), required_text("f", s, 500).is_ok(), "REQUIRED_TEXT on {s:?}");
            assert_eq!(matches(TEXT, s), optional_text("f", s, 500).is_ok(), "TEXT on {s:?}");
            assert_eq!(matches(CURSOR_PATTERN, s), decode_cursor(Some(s)).is_ok(), "CURSOR_PATTERN on {s:?}");
        }
    }

    #[test]
    fn limits_default_to_20_and_stop_at_100() {
        assert_eq!(page_limit(None).ok(), Some(20));
        assert_eq!(page_limit(Some(100)).ok(), Some(100));
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(101)).is_err());
    }
}
