//! Who holds which MCP session, and how many sessions there may be.
//!
//! rmcp keeps every session in memory (about 50 KB each) and `initialize` needs no token, so
//! without limits anyone could fill the server's memory. A session is *pending* from an
//! anonymous `initialize` until its first use with a token; from then on it belongs to that user
//! (another user's token is told it does not exist). Pending sessions are capped as a whole,
//! owned ones per user; rmcp ends sessions that stay idle. The caller passes the time in.
use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::mcp_sessions::McpSessionRow;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pending: usize,
    pub max_per_user: usize,
    /// A session unused this long has ended (rmcp's keep-alive).
    pub idle: Duration,
}

/// How long a pending session keeps its place once the cap is reached. Clients use a new
/// session at once or abandon it (the SDKs initialize again after signing in), so an older
/// pending session gives up its place to a new one.
const PENDING_GRACE: Duration = Duration::from_secs(300);

/// With this many owned sessions remembered, those rmcp has ended are forgotten (at most once a minute).
const PRUNE_OWNED_AT: usize = 10_000;
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The answer to a request on a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The user's own session (from now on, if it was pending).
    Granted,
    /// Another user's session, or none at all: 404, as if it did not exist.
    NotFound,
    /// A pending session, and the user already holds as many sessions as allowed.
    UserFull { retry_after: Duration },
}

/// Why a new session was refused, and when trying again makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Pending { retry_after: Duration },
    User { retry_after: Duration },
}

struct Owned {
    user: Uuid,
    last_used: Instant,
}

#[derive(Default)]
struct State {
    owned: HashMap<String, Owned>,
    by_user: HashMap<Uuid, HashSet<String>>,
    pending: HashMap<String, Instant>,
    last_prune: Option<Instant>,
}

impl State {
    fn user_count(&self, user: Uuid) -> usize {
        self.by_user.get(&user).map_or(0, HashSet::len)
    }

    fn own(&mut self, session: &str, user: Uuid, now: Instant) {
        self.owned.insert(session.to_owned(), Owned { user, last_used: now });
        self.by_user.entry(user).or_default().insert(session.to_owned());
    }

    fn disown(&mut self, session: &str) {
        if let Some(owned) = self.owned.remove(session)
            && let Some(set) = self.by_user.get_mut(&owned.user)
        {
            set.remove(session);
            if set.is_empty() {
                self.by_user.remove(&owned.user);
            }
        }
    }

    /// When one of the user's sessions will have been idle long enough to end.
    fn user_retry_after(&self, user: Uuid, idle: Duration, now: Instant) -> Duration {
        let soonest = self.by_user.get(&user).into_iter().flatten().filter_map(|s| self.owned.get(s)).map(|o| o.last_used + idle).min();
        until(soonest, now)
    }
}

/// Whole seconds from `now` to `then`, at least one (a `Retry-After` of 0 invites a busy loop).
fn until(then: Option<Instant>, now: Instant) -> Duration {
    let wait = then.map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
    Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(Duration::from_secs(1))
}

pub struct Sessions {
    limits: Limits,
    state: Mutex<State>,
}

impl Sessions {
    pub fn new(limits: Limits) -> Self {
        Self { limits, state: Mutex::new(State::default()) }
    }

    /// How many sessions are open: pending ones and owned ones.
    pub fn open(&self) -> usize {
        let state = self.state();
        state.pending.len() + state.owned.len()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pending_grace(&self) -> Duration {
        self.limits.idle.min(PENDING_GRACE)
    }

    /// Is there room for another pending session? When the cap is reached, pending sessions
    /// older than the grace time give up their place: they are returned, for rmcp to close.
    pub fn room_for_pending(&self, now: Instant) -> Result<Vec<String>, Full> {
        let mut state = self.state();
        if state.pending.len() < self.limits.max_pending {
            return Ok(Vec::new());
        }
        let grace = self.pending_grace();
        let stale: Vec<String> =
            state.pending.iter().filter(|(_, since)| now.saturating_duration_since(**since) >= grace).map(|(id, _)| id.clone()).collect();
        if stale.is_empty() {
            let oldest = state.pending.values().min().map(|since| *since + grace);
            return Err(Full::Pending { retry_after: until(oldest, now) });
        }
        for id in &stale {
            state.pending.remove(id);
        }
        Ok(stale)
    }

    /// Records a new pending session, unless the cap was reached meanwhile.
    pub fn add_pending(&self, session: &str, now: Instant) -> Result<(), Full> {
        let mut state = self.state();
        if state.pending.len() >= self.limits.max_pending {
            let oldest = state.pending.values().min().map(|since| *since + self.pending_grace());
            return Err(Full::Pending { retry_after: until(oldest, now) });
        }
        state.pending.insert(session.to_owned(), now);
        Ok(())
    }

    /// May `user` hold another session?
    pub fn room_for_user(&self, user: Uuid, now: Instant) -> Result<(), Full> {
        let state = self.state();
        if state.user_count(user) < self.limits.max_per_user {
            return Ok(());
        }
        Err(Full::User { retry_after: state.user_retry_after(user, self.limits.idle, now) })
    }

    /// Records a new session of `user`'s, unless the user reached the cap meanwhile.
    pub fn add_owned(&self, session: &str, user: Uuid, now: Instant) -> Result<(), Full> {
        let mut state = self.state();
        if state.user_count(user) >= self.limits.max_per_user {
            return Err(Full::User { retry_after: state.user_retry_after(user, self.limits.idle, now) });
        }
        state.own(session, user, now);
        Ok(())
    }

    /// A request of `user`'s on `session`. The first use with a token makes a pending session the
    /// user's, if the user has room — or if the request ends it (`ending`: a DELETE).
    pub fn claim(&self, session: &str, user: Uuid, ending: bool, now: Instant) -> Claim {
        let mut state = self.state();
        if let Some(owned) = state.owned.get_mut(session) {
            if owned.user != user {
                return Claim::NotFound;
            }
            owned.last_used = now;
            return Claim::Granted;
        }
        if !state.pending.contains_key(session) {
            return Claim::NotFound;
        }
        if !ending && state.user_count(user) >= self.limits.max_per_user {
            return Claim::UserFull { retry_after: state.user_retry_after(user, self.limits.idle, now) };
        }
        state.pending.remove(session);
        state.own(session, user, now);
        Claim::Granted
    }

    /// The session has ended (DELETE, or rmcp no longer knows it).
    pub fn forget(&self, session: &str) {
        let mut state = self.state();
        state.disown(session);
        state.pending.remove(session);
    }

    /// Whether it is time to forget every owned session rmcp has ended (see [`Self::forget_ended`]).
    pub fn prune_due(&self, now: Instant) -> bool {
        let mut state = self.state();
        let due = state.owned.len() >= PRUNE_OWNED_AT && state.last_prune.is_none_or(|t| now.saturating_duration_since(t) >= PRUNE_EVERY);
        if due {
            state.last_prune = Some(now);
        }
        due
    }

    /// Forgets the owned sessions — of `user`, or of everyone — that are no longer `live`
    /// (rmcp ends idle sessions without telling anyone).
    pub fn forget_ended(&self, user: Option<Uuid>, live: impl Fn(&str) -> bool) {
        let mut state = self.state();
        let ended: Vec<String> = match user {
            Some(user) => state.by_user.get(&user).into_iter().flatten().filter(|s| !live(s)).cloned().collect(),
            None => state.owned.keys().filter(|s| !live(s)).cloned().collect(),
        };
        for session in ended {
            state.disown(&session);
        }
    }
}

/// What the shared record of a session (`mcp_sessions`) says of a request from `user` at `now`
/// (real time, as rmcp's idle timeout runs on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// Serve it; first give the session to the user (`claim`: no token used it before), and
    /// record the use (`touch`: the last recorded one is half an idle time old).
    Serve { claim: bool, touch: bool },
    /// Unknown, ended, unused too long, or another user's: 404, as if it never existed.
    NotFound,
}

pub fn judge_shared(row: Option<&McpSessionRow>, user: Uuid, now: DateTime<Utc>, idle: Duration) -> Shared {
    let Some(row) = row else { return Shared::NotFound };
    let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
    let unused = now - row.last_seen_at;
    if row.ended_at.is_some() || unused > idle || row.user_id.is_some_and(|owner| owner != user) {
        return Shared::NotFound;
    }
    Shared::Serve { claim: row.user_id.is_none(), touch: unused >= idle / 2 }
}

#[cfg(test)]
mod tests {
    use super::{Shared, judge_shared};
    use crate::store::mcp_sessions::McpSessionRow;

    #[test]
    fn the_shared_record_decides_who_may_use_a_session_and_when_it_has_ended() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2030-01-01T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let idle = std::time::Duration::from_secs(600);
        let (ada, bob) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let row = |user, ended| McpSessionRow { user_id: user, last_seen_at: t0, ended_at: ended };
        let at = |secs| t0 + chrono::Duration::seconds(secs);
        assert_eq!(judge_shared(None, ada, t0, idle), Shared::NotFound);
        assert_eq!(judge_shared(Some(&row(Some(ada), None)), ada, at(10), idle), Shared::Serve { claim: false, touch: false });
        assert_eq!(judge_shared(Some(&row(Some(ada), None)), bob, at(10), idle), Shared::NotFound);
        assert_eq!(judge_shared(Some(&row(None, None)), bob, at(10), idle), Shared::Serve { claim: true, touch: false });
        assert_eq!(judge_shared(Some(&row(Some(ada), None)), ada, at(300), idle), Shared::Serve { claim: false, touch: true });
        assert_eq!(judge_shared(Some(&row(Some(ada), None)), ada, at(600), idle), Shared::Serve { claim: false, touch: true });
        assert_eq!(judge_shared(Some(&row(Some(ada), None)), ada, at(601), idle), Shared::NotFound);
        assert_eq!(judge_shared(Some(&row(Some(ada), Some(at(5)))), ada, at(10), idle), Shared::NotFound);
    }

    use super::*;

    const IDLE: Duration = Duration::from_secs(1800);

    fn sessions(max_pending: usize, max_per_user: usize) -> Sessions {
        Sessions::new(Limits { max_pending, max_per_user, idle: IDLE })
    }

    #[test]
    fn pending_sessions_are_capped_and_stale_ones_give_up_their_place() {
        let s = sessions(2, 10);
        let t0 = Instant::now();
        assert_eq!(s.room_for_pending(t0), Ok(vec![]));
        s.add_pending("a", t0).unwrap();
        s.add_pending("b", t0 + Duration::from_secs(100)).unwrap();
        let t1 = t0 + Duration::from_secs(200);
        assert_eq!(
            s.room_for_pending(t1),
            Err(Full::Pending { retry_after: Duration::from_secs(100) }),
            "a is 200 s old, 300 s is the grace"
        );
        assert_eq!(s.add_pending("c", t1), Err(Full::Pending { retry_after: Duration::from_secs(100) }));
        // Once `a` is past the grace time, it makes room (and is handed back to be closed).
        let t2 = t0 + Duration::from_secs(300);
        assert_eq!(s.room_for_pending(t2), Ok(vec!["a".to_owned()]));
        s.add_pending("c", t2).unwrap();
        assert_eq!(s.claim("a", Uuid::nil(), false, t2), Claim::NotFound, "a is gone");
    }

    #[test]
    fn the_first_user_takes_a_pending_session_if_there_is_room_and_keeps_it() {
        let s = sessions(10, 1);
        let (ada, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let t0 = Instant::now();
        s.add_pending("p1", t0).unwrap();
        s.add_pending("p2", t0).unwrap();
        assert_eq!(s.claim("p1", ada, false, t0), Claim::Granted);
        assert_eq!(s.claim("p1", ada, false, t0 + Duration::from_secs(60)), Claim::Granted);
        assert_eq!(s.claim("p1", bob, false, t0), Claim::NotFound);
        // Ada has her one: a second is refused until hers has been idle long enough to end.
        assert_eq!(s.claim("p2", ada, false, t0 + Duration::from_secs(60)), Claim::UserFull { retry_after: IDLE });
        assert_eq!(s.room_for_user(ada, t0 + Duration::from_secs(60)), Err(Full::User { retry_after: IDLE }));
        // …but she may end it, and Bob may take it.
        assert_eq!(s.claim("p2", ada, true, t0), Claim::Granted);
        s.forget("p2");
        assert_eq!(s.claim("p2", bob, false, t0), Claim::NotFound);
        assert_eq!(s.claim("nonexistent", bob, false, t0), Claim::NotFound);
        s.forget("p1");
        assert_eq!(s.room_for_user(ada, t0), Ok(()));
        s.add_owned("o1", ada, t0).unwrap();
        assert_eq!(s.add_owned("o2", ada, t0), Err(Full::User { retry_after: IDLE }));
    }

    #[test]
    fn sessions_rmcp_ended_are_forgotten() {
        let s = sessions(10, 2);
        let ada = Uuid::from_u128(1);
        let t0 = Instant::now();
        s.add_owned("live", ada, t0).unwrap();
        s.add_owned("ended", ada, t0).unwrap();
        assert!(s.room_for_user(ada, t0).is_err());
        s.forget_ended(Some(ada), |id| id == "live");
        assert_eq!(s.room_for_user(ada, t0), Ok(()));
        assert_eq!(s.claim("ended", ada, false, t0), Claim::NotFound);
        assert_eq!(s.claim("live", ada, false, t0), Claim::Granted);
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        let now = Instant::now();
        assert_eq!(until(None, now), Duration::from_secs(1));
        assert_eq!(until(Some(now), now), Duration::from_secs(1));
        assert_eq!(until(Some(now + Duration::from_millis(1500)), now), Duration::from_secs(2));
        assert_eq!(until(Some(now + Duration::from_secs(30)), now), Duration::from_secs(30));
    }
}
