//! Email + password accounts (Argon2id) and browser sessions (cookie value stored as a digest).
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use chrono::Duration;
use uuid::Uuid;

use super::{App, ServiceError, ServiceResult, audit};
use crate::core::secret::{digest, random_token};
use crate::store::{StoreError, User};

pub const MIN_PASSWORD_LEN: usize = 8;
/// Failed sign-ins allowed per address within [`SIGN_IN_WINDOW`] before it is refused.
pub const MAX_FAILED_SIGN_INS: usize = 5;
pub const SIGN_IN_WINDOW: Duration = Duration::minutes(15);

pub enum SignIn {
    Accepted(User),
    Refused,
    Throttled { retry_after_minutes: i64 },
}

/// Recent failed sign-ins per address, in memory (each instance counts its own).
#[derive(Debug, Default)]
pub struct SignInThrottle(std::sync::Mutex<std::collections::HashMap<String, Vec<chrono::DateTime<chrono::Utc>>>>);

impl SignInThrottle {
    /// How long the address must still wait, if it has used up its failures in the window.
    pub fn blocked(&self, key: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let recent: Vec<_> = map.get(key)?.iter().filter(|t| now - **t < SIGN_IN_WINDOW).copied().collect();
        (recent.len() >= MAX_FAILED_SIGN_INS).then(|| recent.iter().min().map_or(SIGN_IN_WINDOW, |first| *first + SIGN_IN_WINDOW - now))
    }

    pub fn fail(&self, key: &str, now: chrono::DateTime<chrono::Utc>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, times| times.iter().any(|t| now - *t < SIGN_IN_WINDOW));
        }
        let times = map.entry(key.to_owned()).or_default();
        times.retain(|t| now - *t < SIGN_IN_WINDOW);
        times.push(now);
    }

    pub fn clear(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}
pub const MAX_PASSWORD_LEN: usize = 1024;
pub const SESSION_LIFETIME: Duration = Duration::days(14);

/// A hash of a random password, verified against when the email is unknown so that a
/// failed sign-in takes the same time whether or not the account exists.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password(&random_token(16)).unwrap_or_default());

fn hash_password(password: &str) -> ServiceResult<String> {
    let mut salt_bytes = [0u8; 16];
    crate::core::secret::fill_random(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| ServiceError::Invalid(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Invalid(format!("cannot hash password: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

pub fn normalize_email(email: &str) -> ServiceResult<String> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(ServiceError::Invalid("Enter a valid email address.".into()));
    }
    Ok(email.to_lowercase())
}

impl App {
    pub async fn create_user(&self, email: &str, password: &str) -> ServiceResult<User> {
        let email = normalize_email(email)?;
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(ServiceError::Invalid(format!("The password must be at least {MIN_PASSWORD_LEN} characters.")));
        }
        if password.len() > MAX_PASSWORD_LEN {
            return Err(ServiceError::Invalid(format!("The password must be at most {MAX_PASSWORD_LEN} bytes.")));
        }
        let password = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|_| ServiceError::Invalid("password hashing failed".into()))??;
        let user = User { id: Uuid::now_v7(), email, password_hash, created_at: self.now() };
        match self.store.insert_user(&user).await {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict) => Err(ServiceError::Conflict("An account with this email already exists.".into())),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_email(&self, email: &str) -> ServiceResult<User> {
        let email = normalize_email(email)?;
        self.store.user_by_email(&email).await?.ok_or_else(|| ServiceError::NotFound(format!("No user with email {email}.")))
    }

    /// Checks the password; on success returns the user. Failures are audited for the
    /// account they targeted, take the same time whether or not the account exists, and after
    /// [`MAX_FAILED_SIGN_INS`] in a window the address is refused for the rest of the window,
    /// whether or not it has an account (so the refusal reveals nothing).
    pub async fn verify_credentials(&self, email: &str, password: &str) -> ServiceResult<Option<User>> {
        Ok(match self.sign_in(email, password).await? {
            SignIn::Accepted(user) => Some(user),
            SignIn::Refused | SignIn::Throttled { .. } => None,
        })
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> ServiceResult<SignIn> {
        let key = email.trim().to_lowercase();
        let now = self.now();
        if let Some(wait) = self.sign_in_throttle.blocked(&key, now) {
            return Ok(SignIn::Throttled { retry_after_minutes: (wait.num_seconds() + 59) / 60 });
        }
        let user = match normalize_email(email) {
            Ok(email) => self.store.user_by_email(&email).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
        match user {
            Some(user) if ok => {
                self.sign_in_throttle.clear(&key);
                Ok(SignIn::Accepted(user))
            }
            Some(user) => {
                self.sign_in_throttle.fail(&key, now);
                self.audit(user.id, audit::SIGN_IN_FAILED, "Failed sign-in: wrong password").await?;
                Ok(SignIn::Refused)
            }
            None => {
                self.sign_in_throttle.fail(&key, now);
                Ok(SignIn::Refused)
            }
        }
    }

    /// Starts a browser session; returns the cookie value (only its digest is stored).
    pub async fn start_session(&self, user_id: Uuid) -> ServiceResult<String> {
        let cookie = random_token(32);
        let signed_in = self.audit_event(user_id, audit::SIGNED_IN, "Signed in");
        self.store.insert_session(&digest(&cookie), signed_in.created_at + SESSION_LIFETIME, &signed_in).await?;
        Ok(cookie)
    }

    pub async fn session_user(&self, cookie: &str) -> ServiceResult<Option<User>> {
        Ok(self.store.session_user(&digest(cookie), self.now()).await?)
    }

    pub async fn end_session(&self, cookie: &str) -> ServiceResult<()> {
        Ok(self.store.delete_session(&digest(cookie)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(normalize_email("  Ada@Example.COM ").ok().as_deref(), Some("ada@example.com"));
        for bad in ["", "ada", "@example.com", "ada@localhost", "a b@example.com", "ada@.com"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }
}
