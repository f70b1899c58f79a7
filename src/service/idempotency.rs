//! `Idempotency-Key` on the HTTP API's POSTs: a retried request with the same key gets the first
//! response back instead of making its change twice (scripts and CI retry on timeouts).
//!
//! A key belongs to one user and names one request (its operation, path and body): the first
//! request with it reserves it, runs, and stores its response if it succeeded; a failure that
//! changed nothing frees the key, so the retry runs again. Keys are kept `IDEMPOTENCY_KEPT` (24 h).
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{App, Principal, ServiceResult};
use crate::store::IdempotencyRecord;

/// The longest key accepted (Stripe's limit too).
pub const MAX_KEY_LEN: usize = 255;

/// What to do with a request that carries an `Idempotency-Key`.
#[derive(Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// First use of the key: run the request, then `finish` or `abandon` it.
    Run,
    /// The key's request already succeeded: answer with its response.
    Replay { status: u16, body: String },
    /// The key's first request is still running, or was interrupted with its outcome unknown.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// A key is 1–255 visible ASCII characters (a UUID is the usual choice).
pub fn valid_key(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What a key is bound to: the operation, the path (with its ids) and the body, whose object
/// keys are sorted (serde_json's map is ordered), so `{"a":1,"b":2}` and `{"b":2,"a":1}` agree.
pub fn fingerprint(operation: &str, path: &str, body: &Value) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [operation, path, &body.to_string()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().into()
}

impl App {
    pub async fn begin_idempotent(&self, p: &Principal, key: &str, fingerprint: &[u8]) -> ServiceResult<Idempotency> {
        Ok(match self.store.reserve_idempotency_key(p.user_id, key, fingerprint, self.now()).await? {
            IdempotencyRecord::Reserved => Idempotency::Run,
            IdempotencyRecord::Taken { fingerprint: theirs, .. } if theirs != fingerprint => Idempotency::Mismatch,
            IdempotencyRecord::Taken { response: Some((status, body)), .. } => Idempotency::Replay { status, body },
            IdempotencyRecord::Taken { response: None, .. } => Idempotency::InFlight,
        })
    }

    /// Keeps the response of the key's request, for its retries.
    pub async fn finish_idempotent(&self, p: &Principal, key: &str, status: u16, body: &str) -> ServiceResult<()> {
        Ok(self.store.complete_idempotency_key(p.user_id, key, status, body).await?)
    }

    /// Frees the key of a request that changed nothing, so that a retry runs it again.
    pub async fn abandon_idempotent(&self, p: &Principal, key: &str) -> ServiceResult<()> {
        Ok(self.store.release_idempotency_key(p.user_id, key).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(valid_key("3f1c7e2a-0b9d-4c55-8f3e-2a1b0c9d8e7f"));
        assert!(valid_key(&"k".repeat(255)));
        for bad in ["", " ", "with space", "tab\t", "é", &"k".repeat(256)] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_fingerprint_ignores_key_order_and_sees_everything_else() {
        let a: Value = serde_json::from_str(r#"{"title":"x","tags":["a","b"]}"#).unwrap_or_default();
        let b: Value = serde_json::from_str(r#"{"tags":["a","b"],"title":"x"}"#).unwrap_or_default();
        assert_eq!(fingerprint("create_task", "/tasks", &a), fingerprint("create_task", "/tasks", &b));
        let c: Value = serde_json::from_str(r#"{"title":"y","tags":["a","b"]}"#).unwrap_or_default();
        assert_ne!(fingerprint("create_task", "/tasks", &a), fingerprint("create_task", "/tasks", &c));
        assert_ne!(fingerprint("add_comment", "/tasks/1/comments", &a), fingerprint("add_comment", "/tasks/2/comments", &a));
        // Lengths are hashed too: moving a character from one part to the next changes it.
        assert_ne!(fingerprint("ab", "c", &Value::Null), fingerprint("a", "bc", &Value::Null));
    }
}
