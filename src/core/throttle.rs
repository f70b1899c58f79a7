//! Sign-in throttling rules (pure; time is a parameter).
//!
//! Failures are counted under two kinds of key, separately:
//! - per **client address** (an IPv4 address, or an IPv6 /64, which one host usually owns whole):
//!   after [`ADDRESS_LIMIT`] failures the address is refused until its counter expires. Only the
//!   guesser's own address is affected.
//! - per **account** (the email as typed, whether or not it has an account, so that a refusal
//!   reveals nothing): never a hard lock, which would let anyone lock anyone out. After
//!   [`ACCOUNT_FREE_FAILURES`] failures every further attempt must wait a delay that doubles
//!   with each failure, up to [`ACCOUNT_MAX_DELAY`]. A browser that has signed in to the account
//!   before (it holds a device cookie for it) skips the account delay: the owner is not slowed
//!   by strangers' guesses.
//!
//! A counter expires [`WINDOW`] after its last failure. An attempt is counted *before* the
//! password is checked (reserved) and refunded when it succeeds, so parallel guesses cannot all
//! pass the check before any failure is recorded.
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use super::secret::digest_hex;

pub const WINDOW: Duration = Duration::minutes(15);
pub const ADDRESS_LIMIT: u32 = 10;
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
pub const ACCOUNT_MAX_DELAY: Duration = Duration::minutes(5);

/// One counter as stored: failures since it last expired, and when the last one happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last: DateTime<Utc>,
}

impl Failures {
    /// The counter as it stands at `now`: none once [`WINDOW`] has passed since the last failure.
    pub fn live(self, now: DateTime<Utc>) -> Option<Failures> {
        (self.count > 0 && now - self.last < WINDOW).then_some(self)
    }
}

/// Which rule a key follows; the kind is the key's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Address,
    Account,
}

const ADDRESS_PREFIX: &str = "addr:";
const ACCOUNT_PREFIX: &str = "acct:";

/// The stored key of a client address. Stored as a digest: the table holds no addresses or
/// emails in the clear, only what is needed to count.
pub fn address_key(ip: IpAddr) -> String {
    let unit = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    };
    format!("{ADDRESS_PREFIX}{}", digest_hex(&unit))
}

/// The stored key of an account: the email as typed, trimmed and lower-cased.
pub fn account_key(email: &str) -> String {
    format!("{ACCOUNT_PREFIX}{}", digest_hex(&email.trim().to_lowercase()))
}

pub fn kind(key: &str) -> KeyKind {
    if key.starts_with(ADDRESS_PREFIX) { KeyKind::Address } else { KeyKind::Account }
}

/// How long an attempt under `key` must still wait, or `None` when it may go ahead now.
pub fn wait(key: &str, failures: Option<Failures>, now: DateTime<Utc>) -> Option<Duration> {
    let f = failures?.live(now)?;
    let until = match kind(key) {
        KeyKind::Address if f.count >= ADDRESS_LIMIT => f.last + WINDOW,
        KeyKind::Address => return None,
        KeyKind::Account if f.count >= ACCOUNT_FREE_FAILURES => f.last + account_delay(f.count),
        KeyKind::Account => return None,
    };
    (until > now).then(|| until - now)
}

/// 1 s after the fifth failure, doubling with each further one, at most [`ACCOUNT_MAX_DELAY`].
pub fn account_delay(count: u32) -> Duration {
    let doublings = count.saturating_sub(ACCOUNT_FREE_FAILURES).min(20);
    Duration::seconds(1i64 << doublings).min(ACCOUNT_MAX_DELAY)
}

/// The counter after one more failure at `now`.
pub fn count_failure(failures: Option<Failures>, now: DateTime<Utc>) -> Failures {
    match failures.and_then(|f| f.live(now)) {
        Some(f) => Failures { count: f.count.saturating_add(1), last: now },
        None => Failures { count: 1, last: now },
    }
}

/// "12 seconds", "5 minutes": when the user may try again, for the page.
pub fn human_wait(wait: Duration) -> String {
    let secs = wait.num_seconds().max(1);
    if secs < 90 {
        format!("{secs} second{}", if secs == 1 { "" } else { "s" })
    } else {
        let mins = (secs + 59) / 60;
        format!("{mins} minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn after(n: u32, key: &str) -> (Option<Failures>, DateTime<Utc>) {
        let mut f = None;
        let mut now = t0();
        for _ in 0..n {
            now += wait(key, f, now).unwrap_or(Duration::zero());
            f = Some(count_failure(f, now));
        }
        (f, now)
    }

    #[test]
    fn an_address_is_refused_after_its_limit_until_the_window_passes() {
        let key = address_key("203.0.113.9".parse().unwrap());
        let (f, now) = after(ADDRESS_LIMIT - 1, &key);
        assert_eq!(wait(&key, f, now), None);
        let f = Some(count_failure(f, now));
        assert_eq!(wait(&key, f, now), Some(WINDOW));
        assert_eq!(wait(&key, f, now + WINDOW - Duration::seconds(1)), Some(Duration::seconds(1)));
        assert_eq!(wait(&key, f, now + WINDOW), None);
        // The next failure after expiry starts a new count.
        assert_eq!(count_failure(f, now + WINDOW).count, 1);
    }

    #[test]
    fn an_account_is_slowed_down_never_locked() {
        let key = account_key("Ada@Example.com ");
        assert_eq!(key, account_key("ada@example.com"));
        let (f, now) = after(ACCOUNT_FREE_FAILURES - 1, &key);
        assert_eq!(wait(&key, f, now), None);
        let mut f = Some(count_failure(f, now));
        assert_eq!(wait(&key, f, now), Some(Duration::seconds(1)));
        // Each further failure doubles the delay, up to the cap.
        let mut now = now;
        let mut delays = vec![];
        for _ in 0..12 {
            let d = wait(&key, f, now).unwrap();
            delays.push(d.num_seconds());
            now += d;
            assert_eq!(wait(&key, f, now), None, "the attempt may go ahead once the delay is over");
            f = Some(count_failure(f, now));
        }
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    }

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_v4_as_v4() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:bbbb::2".parse().unwrap());
        let c = address_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(address_key("::ffff:198.51.100.7".parse().unwrap()), address_key("198.51.100.7".parse().unwrap()));
        assert_eq!(kind(&a), KeyKind::Address);
        assert_eq!(kind(&account_key("x@example.com")), KeyKind::Account);
    }

    #[test]
    fn waits_read_well() {
        assert_eq!(human_wait(Duration::seconds(1)), "1 second");
        assert_eq!(human_wait(Duration::milliseconds(200)), "1 second");
        assert_eq!(human_wait(Duration::seconds(64)), "64 seconds");
        assert_eq!(human_wait(Duration::minutes(15)), "15 minutes");
    }
}
