//! Email + password accounts (Argon2id) and browser sessions (cookie value stored as a digest).
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use std::{net::IpAddr, sync::Arc};

use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::{App, ServiceError, ServiceResult, audit};
use crate::core::{
    secret::{constant_time_eq, digest, random_token},
    throttle,
};
use crate::store::{StoreError, User};

pub const MIN_PASSWORD_LEN: usize = 8;

pub enum SignIn {
    Accepted(User),
    Refused,
    /// Too many recent failures for this address or account: try again after `wait`.
    Throttled {
        wait: Duration,
    },
    /// Every password-hashing slot is taken: try again in a moment.
    Busy,
}

/// The account page's check of the signed-in user's password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Right,
    Wrong,
    /// Too many recent failures for this account: try again after `wait`.
    Throttled {
        wait: Duration,
    },
}

/// Who is signing in, as far as the edge can tell.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignInContext<'a> {
    /// The client's address (counted against [`throttle::ADDRESS_LIMIT`]); `None` in-process.
    pub address: Option<IpAddr>,
    /// The browser's device cookie, if it sent one.
    pub device_cookie: Option<&'a str>,
}

/// Bounds the memory Argon2 takes (~19 MiB a hash): at most one hash per core runs at once,
/// and at most [`HASH_QUEUE_PER_CORE`] per core wait; beyond that callers are told to come back.
pub struct HashingSlots {
    running: tokio::sync::Semaphore,
    admitted: Arc<tokio::sync::Semaphore>,
}

pub const HASH_QUEUE_PER_CORE: usize = 8;

/// The hashing slots are all taken.
#[derive(Debug)]
pub struct Busy;

impl Default for HashingSlots {
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl HashingSlots {
    pub fn new(cores: usize) -> Self {
        let cores = cores.max(1);
        Self {
            running: tokio::sync::Semaphore::new(cores),
            admitted: Arc::new(tokio::sync::Semaphore::new(cores * (1 + HASH_QUEUE_PER_CORE))),
        }
    }

    /// A place in the queue, or [`Busy`] at once when the queue is full.
    pub fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Busy> {
        self.admitted.clone().try_acquire_owned().map_err(|_| Busy)
    }

    /// Runs `work` on the blocking pool once a core is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let _core = self.running.acquire().await.ok()?;
        tokio::task::spawn_blocking(work).await.ok()
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

/// Whether a new password is acceptable (the sign-up page shows why not beside the field).
pub fn check_password(password: &str) -> ServiceResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServiceError::Invalid(format!("The password must be at least {MIN_PASSWORD_LEN} characters.")));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ServiceError::Invalid(format!("The password must be at most {MAX_PASSWORD_LEN} bytes.")));
    }
    Ok(())
}

impl App {
    pub async fn create_user(&self, email: &str, password: &str) -> ServiceResult<User> {
        let email = normalize_email(email)?;
        let password_hash = self.new_password_hash(password).await?;
        let user = User { id: Uuid::now_v7(), email, password_hash, created_at: self.now() };
        match self.store.insert_user(&user).await {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict) => Err(ServiceError::Conflict("An account with this email already exists.".into())),
            Err(e) => Err(e.into()),
        }
    }

    /// The hash of an acceptable new password, made when a hashing slot is free.
    async fn new_password_hash(&self, password: &str) -> ServiceResult<String> {
        check_password(password)?;
        let _queued = self.hashing.admit().map_err(|Busy| ServiceError::Busy)?;
        let password = password.to_owned();
        self.hashing.run(move || hash_password(&password)).await.ok_or(ServiceError::Invalid("password hashing failed".into()))?
    }

    /// Whether `password` is the signed-in user's (the account page asks before changing or
    /// deleting anything). Counted against the account like a sign-in (`core::throttle`), so a
    /// stolen session cannot be used to guess the password; a wrong one is a security event.
    async fn check_own_password(&self, user: &User, password: &str) -> ServiceResult<PasswordCheck> {
        let _queued = self.hashing.admit().map_err(|Busy| ServiceError::Busy)?;
        let account_key = throttle::account_key(&user.email);
        if let Some(wait) = self.store.reserve_sign_in(std::slice::from_ref(&account_key), self.now()).await? {
            return Ok(PasswordCheck::Throttled { wait });
        }
        let (password, hash) = (password.to_owned(), user.password_hash.clone());
        if self.hashing.run(move || verify_password(&password, &hash)).await.unwrap_or(false) {
            self.store.settle_sign_in(&[], &[account_key]).await?;
            return Ok(PasswordCheck::Right);
        }
        self.audit(user.id, audit::SIGN_IN_FAILED, "Wrong password entered on the account page").await?;
        Ok(PasswordCheck::Wrong)
    }

    /// Changes the signed-in user's password after checking the current one, and signs out every
    /// other browser of theirs (`keep_session` is this browser's session cookie). API keys and
    /// connected apps are separate credentials and keep working.
    pub async fn change_password(&self, user: &User, current: &str, new: &str, keep_session: &str) -> ServiceResult<PasswordCheck> {
        check_password(new)?;
        let checked = self.check_own_password(user, current).await?;
        if checked != PasswordCheck::Right {
            return Ok(checked);
        }
        let hash = self.new_password_hash(new).await?;
        let event = self.audit_event(user.id, audit::PASSWORD_CHANGED, "Password changed; other browsers were signed out");
        if !self.store.set_password(user.id, &hash, Some(&digest(keep_session)), &event).await? {
            return Err(ServiceError::NotFound("No such account.".into()));
        }
        Ok(PasswordCheck::Right)
    }

    /// An administrator sets a user's password (`navis user set-password`): every browser
    /// session of the user ends.
    pub async fn set_password(&self, email: &str, new: &str) -> ServiceResult<User> {
        let user = self.user_by_email(email).await?;
        let hash = self.new_password_hash(new).await?;
        let event = self.audit_event(user.id, audit::PASSWORD_CHANGED, "Password set by an administrator; every browser was signed out");
        if !self.store.set_password(user.id, &hash, None, &event).await? {
            return Err(ServiceError::NotFound(format!("No user with email {}.", user.email)));
        }
        Ok(user)
    }

    /// Deletes the account and everything that is the user's, after checking the password
    /// (anything but `Right`: nothing deleted).
    pub async fn delete_account(&self, user: &User, password: &str) -> ServiceResult<PasswordCheck> {
        let checked = self.check_own_password(user, password).await?;
        if checked == PasswordCheck::Right {
            self.store.delete_user(user.id).await?;
        }
        Ok(checked)
    }

    pub async fn user_by_email(&self, email: &str) -> ServiceResult<User> {
        let email = normalize_email(email)?;
        self.store.user_by_email(&email).await?.ok_or_else(|| ServiceError::NotFound(format!("No user with email {email}.")))
    }

    /// Checks the password; on success returns the user (the admin CLI's check: no throttle context).
    pub async fn verify_credentials(&self, email: &str, password: &str) -> ServiceResult<Option<User>> {
        Ok(match self.sign_in(email, password, SignInContext::default()).await? {
            SignIn::Accepted(user) => Some(user),
            SignIn::Refused | SignIn::Throttled { .. } | SignIn::Busy => None,
        })
    }

    /// Signs in, throttled per client address and per account (`core::throttle`). The attempt is
    /// counted before the password is checked and taken back when it succeeds. Failures are
    /// audited for the account they targeted and take the same time whether or not it exists.
    pub async fn sign_in(&self, email: &str, password: &str, context: SignInContext<'_>) -> ServiceResult<SignIn> {
        let Ok(_queued) = self.hashing.admit() else { return Ok(SignIn::Busy) };
        let now = self.now();
        let address_key = context.address.map(throttle::address_key);
        let account_key = throttle::account_key(email);
        let trusted_device = match context.device_cookie {
            Some(cookie) => self.device_cookie_valid(cookie, &account_key).await?,
            None => false,
        };
        let keys: Vec<String> = address_key.iter().cloned().chain((!trusted_device).then(|| account_key.clone())).collect();
        if let Some(wait) = self.store.reserve_sign_in(&keys, now).await? {
            return Ok(SignIn::Throttled { wait });
        }
        let user = match normalize_email(email) {
            Ok(email) => self.store.user_by_email(&email).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
        let password = password.to_owned();
        let ok = self.hashing.run(move || verify_password(&password, &hash)).await.unwrap_or(false);
        match user {
            Some(user) if ok => {
                self.store.settle_sign_in(&address_key.into_iter().collect::<Vec<_>>(), &[account_key]).await?;
                Ok(SignIn::Accepted(user))
            }
            Some(user) => {
                self.audit(user.id, audit::SIGN_IN_FAILED, "Failed sign-in: wrong password").await?;
                Ok(SignIn::Refused)
            }
            None => Ok(SignIn::Refused),
        }
    }

    /// The key device cookies are signed with, shared by every instance through the database.
    async fn device_key(&self) -> ServiceResult<&[u8]> {
        self.server_key(&self.device_key, "device-cookie").await
    }

    fn device_mac(key: &[u8], nonce: &str, account_key: &str) -> Option<Vec<u8>> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
        mac.update(b"navis device cookie v1\0");
        mac.update(nonce.as_bytes());
        mac.update(b"\0");
        mac.update(account_key.as_bytes());
        Some(mac.finalize().into_bytes().to_vec())
    }

    /// A device cookie for the browser that just signed in to `email`: while it holds it, that
    /// account's failure delay does not apply to it (OWASP's device cookies).
    pub async fn device_cookie(&self, email: &str) -> ServiceResult<String> {
        use base64::Engine;
        let nonce = random_token(16);
        let mac = Self::device_mac(self.device_key().await?, &nonce, &throttle::account_key(email)).unwrap_or_default();
        Ok(format!("{nonce}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)))
    }

    async fn device_cookie_valid(&self, cookie: &str, account_key: &str) -> ServiceResult<bool> {
        use base64::Engine;
        let Some((nonce, mac)) = cookie.split_once('.') else { return Ok(false) };
        let Ok(mac) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(mac) else { return Ok(false) };
        let expected = Self::device_mac(self.device_key().await?, nonce, account_key).unwrap_or_default();
        Ok(!expected.is_empty() && constant_time_eq(&expected, &mac))
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
