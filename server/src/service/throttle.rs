//! Login and registration throttling: attempts are counted before the password is hashed, guessing
//! slows down and then blocks the guessing address only. And the per-user message rate limit: a token
//! bucket per user.
//!
//! The policy (docs/security.md, "Login throttling"):
//! - Every password attempt is counted when it arrives, under one lock, *before* the password is hashed,
//!   so attempts sent in parallel are counted like attempts sent one after another; a right password
//!   gives its attempt back.
//! - Per address: more than `ip_block_after` attempts that did not succeed in the window block every
//!   login and registration from that address for `block_for` — that stops a guessing script.
//! - Per (account, address): past `account_delay_after` attempts, each further one from that address
//!   waits 1, 2, 4 … 32 s. Only the guessing address is slowed.
//! - There is no lock per account: guesses from other addresses never slow down or refuse the owner's
//!   login from a fresh address. A global ceiling per account would let a stranger with a few addresses
//!   lock the owner out, which is the attack this file exists to stop; a guesser with many addresses is
//!   held back by the per-address block and the cost of Argon2 instead.
//! - A known device — a `RESUME:` with a valid session token — is never throttled: the token is checked
//!   first (a SHA-256 lookup, no Argon2), and only a bad token counts against its address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::storage::UserId;

/// The thresholds. Defaults suit a public server; tests use smaller ones.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Attempts are counted over this window.
    pub window: Duration,
    /// Unsuccessful attempts (logins, bad tokens, refused registrations) from one address before it is
    /// blocked.
    pub ip_block_after: u32,
    /// Unsuccessful logins on one account from one address before each further attempt from that
    /// address is delayed.
    pub account_delay_after: u32,
    /// How long a block lasts.
    pub block_for: Duration,
    /// Successful registrations one IP may make per window.
    pub registrations_per_ip: u32,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            window: Duration::from_secs(15 * 60),
            ip_block_after: 20,
            account_delay_after: 5,
            block_for: Duration::from_secs(15 * 60),
            registrations_per_ip: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    /// One account (lower-cased) guessed from one address.
    Guess(String, IpAddr),
    Registered(IpAddr),
}

#[derive(Debug)]
struct Entry {
    count: u32,
    since: Instant,
    blocked_until: Option<Instant>,
}

/// What to do with an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Wait this long, then go ahead.
    Delay(Duration),
    /// Refuse; this many seconds remain.
    Blocked(u64),
}

/// The attempt counters.
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    entries: Mutex<HashMap<Key, Entry>>,
}

/// The map is pruned of stale entries once it grows past this, so a flood of addresses cannot grow it
/// without bound.
const PRUNE_AT: usize = 10_000;

/// The longest delay is 2^5 = 32 s.
const MAX_DELAY_SHIFT: u32 = 5;

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Self {
        Throttle {
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry of `key`, its count reset if its window has passed.
    fn entry<'m>(&self, map: &'m mut HashMap<Key, Entry>, key: Key, now: Instant) -> &'m mut Entry {
        let window = self.config.window;
        let entry = map.entry(key).or_insert(Entry {
            count: 0,
            since: now,
            blocked_until: None,
        });
        if now.duration_since(entry.since) >= window {
            entry.count = 0;
            entry.since = now;
        }
        entry
    }

    /// Seconds left of `key`'s block, starting one if its count has reached `limit`.
    fn over(
        &self,
        map: &mut HashMap<Key, Entry>,
        key: Key,
        limit: u32,
        now: Instant,
    ) -> Option<u64> {
        let block_for = self.config.block_for;
        let entry = self.entry(map, key, now);
        if let Some(until) = entry.blocked_until {
            if until > now {
                return Some((until - now).as_secs().max(1));
            }
            entry.blocked_until = None;
        }
        if entry.count >= limit {
            entry.blocked_until = Some(now + block_for);
            entry.count = 0;
            entry.since = now;
            return Some(block_for.as_secs().max(1));
        }
        None
    }

    fn prune(&self, map: &mut HashMap<Key, Entry>, now: Instant) {
        if map.len() > PRUNE_AT {
            let window = self.config.window;
            map.retain(|_, e| {
                now.duration_since(e.since) < window || e.blocked_until.is_some_and(|u| u > now)
            });
        }
    }

    /// Before a password login: decides, and counts the attempt at once — before the password is hashed
    /// and under the same lock as the decision, so parallel attempts cannot all pass. Give it back with
    /// [`Throttle::login_succeeded`] if the password was right.
    pub fn begin_login(&self, ip: IpAddr, account: &str) -> Verdict {
        let now = Instant::now();
        let mut map = self.entries();
        self.prune(&mut map, now);
        if let Some(secs) = self.over(&mut map, Key::Ip(ip), self.config.ip_block_after, now) {
            return Verdict::Blocked(secs);
        }
        self.entry(&mut map, Key::Ip(ip), now).count += 1;
        let guess = self.entry(&mut map, Key::Guess(account.to_ascii_lowercase(), ip), now);
        let before = guess.count;
        guess.count += 1;
        match before.checked_sub(self.config.account_delay_after) {
            Some(extra) => Verdict::Delay(Duration::from_secs(1 << extra.min(MAX_DELAY_SHIFT))),
            None => Verdict::Allow,
        }
    }

    /// The password was right: its attempt no longer counts against the address, and the account's
    /// failures from this address are forgotten.
    pub fn login_succeeded(&self, ip: IpAddr, account: &str) {
        let mut map = self.entries();
        if let Some(e) = map.get_mut(&Key::Ip(ip)) {
            e.count = e.count.saturating_sub(1);
        }
        map.remove(&Key::Guess(account.to_ascii_lowercase(), ip));
    }

    /// Seconds left if `ip` is blocked (checked before answering a bad session token).
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.entries();
        self.over(&mut map, Key::Ip(ip), self.config.ip_block_after, now)
    }

    /// Before a registration: decides, and counts it against the address's allowance at once, under the
    /// lock that decides, so sign-ups sent in parallel cannot all pass the cap (as logins cannot pass
    /// theirs). [`Throttle::register_undone`] gives it back if no account was made.
    pub fn begin_register(&self, ip: IpAddr) -> Verdict {
        let now = Instant::now();
        let mut map = self.entries();
        self.prune(&mut map, now);
        if let Some(secs) = self.over(&mut map, Key::Ip(ip), self.config.ip_block_after, now) {
            return Verdict::Blocked(secs);
        }
        let limit = self.config.registrations_per_ip;
        if let Some(secs) = self.over(&mut map, Key::Registered(ip), limit, now) {
            return Verdict::Blocked(secs);
        }
        self.entry(&mut map, Key::Registered(ip), now).count += 1;
        Verdict::Allow
    }

    /// A registration let through by [`Throttle::begin_register`] made no account: it no longer counts
    /// against the allowance, and if the server refused it (a taken or invalid name) it counts as a failed
    /// attempt of the address.
    pub fn register_undone(&self, ip: IpAddr, refused: bool) {
        let now = Instant::now();
        let mut map = self.entries();
        if let Some(e) = map.get_mut(&Key::Registered(ip)) {
            e.count = e.count.saturating_sub(1);
        }
        if refused {
            self.entry(&mut map, Key::Ip(ip), now).count += 1;
        }
    }

    /// A refused registration or a bad session token: counts against the address.
    pub fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.entries();
        self.prune(&mut map, now);
        self.entry(&mut map, Key::Ip(ip), now).count += 1;
    }
}

/// Per-user message rate limit: a token bucket per user, shared by all of that user's sessions.
///
/// A bucket holds `2 × rate` tokens and refills at `rate` per second, so a user may paste a burst of
/// two seconds' worth of messages at once and then `rate` per second. `rate == 0` turns the limit off.
/// [`MessageRate::per_day`] makes a bucket of bytes instead: a day's allowance, refilled over the day.
#[derive(Debug)]
pub struct MessageRate {
    /// Tokens added per second; 0 turns the limit off.
    rate: f64,
    capacity: f64,
    buckets: Mutex<HashMap<UserId, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl MessageRate {
    pub fn new(rate: u32) -> Self {
        MessageRate {
            rate: f64::from(rate),
            capacity: 2.0 * f64::from(rate),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `amount` a day, all of it usable at once, coming back evenly over 24 hours; 0 turns it off.
    pub fn per_day(amount: u64) -> Self {
        MessageRate {
            rate: amount as f64 / 86_400.0,
            capacity: amount as f64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `user`, or says how long until one is free.
    pub fn take(&self, user: UserId) -> Result<(), Duration> {
        self.take_n(user, 1)
    }

    /// Takes `n` tokens for `user`, or says how long until there are `n` (a want bigger than the bucket
    /// is measured against a full one).
    pub fn take_n(&self, user: UserId, n: u64) -> Result<(), Duration> {
        if self.rate == 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let (rate, capacity) = (self.rate, self.capacity);
        let want = (n as f64).min(capacity);
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_AT {
            // A full bucket is the same as no bucket: forget those.
            map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < capacity);
        }
        let bucket = map.entry(user).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.at = now;
        if bucket.tokens >= want {
            bucket.tokens -= want;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((want - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    fn small() -> Throttle {
        Throttle::new(ThrottleConfig {
            window: Duration::from_secs(60),
            ip_block_after: 4,
            account_delay_after: 2,
            block_for: Duration::from_secs(300),
            registrations_per_ip: 2,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn guessing_slows_then_blocks_only_the_guessing_address_and_the_block_expires() {
        let t = small();
        assert_eq!(t.begin_login(ip(1), "alice"), Verdict::Allow);
        assert_eq!(t.begin_login(ip(1), "alice"), Verdict::Allow);
        assert_eq!(
            t.begin_login(ip(1), "Alice"),
            Verdict::Delay(Duration::from_secs(1))
        );
        assert_eq!(
            t.begin_login(ip(1), "alice"),
            Verdict::Delay(Duration::from_secs(2))
        );
        // Another address is neither slowed nor blocked on the same account.
        assert_eq!(t.begin_login(ip(2), "alice"), Verdict::Allow);
        // The address that keeps failing is blocked, whatever account it tries.
        assert!(matches!(t.begin_login(ip(1), "erin"), Verdict::Blocked(_)));
        assert!(matches!(t.begin_register(ip(1)), Verdict::Blocked(_)));
        assert!(t.blocked(ip(1)).is_some());
        assert_eq!(t.begin_login(ip(9), "erin"), Verdict::Allow);
        tokio::time::advance(Duration::from_secs(301)).await;
        assert_eq!(t.begin_login(ip(1), "erin"), Verdict::Allow);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_count_when_they_start_not_when_they_fail() {
        // Parallel attempts: none has finished (failed) yet when the next one arrives.
        let t = small();
        let verdicts: Vec<Verdict> = (0..10).map(|_| t.begin_login(ip(1), "alice")).collect();
        let passed = verdicts
            .iter()
            .filter(|v| !matches!(v, Verdict::Blocked(_)))
            .count();
        assert_eq!(passed, 4, "{verdicts:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_right_password_gives_its_attempt_back_and_clears_the_delay() {
        let t = small();
        for _ in 0..3 {
            t.begin_login(ip(1), "alice");
        }
        assert!(matches!(t.begin_login(ip(1), "alice"), Verdict::Delay(_)));
        t.login_succeeded(ip(1), "alice");
        t.login_succeeded(ip(1), "alice");
        assert_eq!(t.begin_login(ip(1), "alice"), Verdict::Allow);
        // Logins that succeed never add up to a block (an office behind one address).
        for _ in 0..20 {
            assert_eq!(t.begin_login(ip(1), "bob"), Verdict::Allow);
            t.login_succeeded(ip(1), "bob");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn registrations_per_address_are_capped() {
        let t = small();
        assert_eq!(t.begin_register(ip(1)), Verdict::Allow);
        // A sign-up that made no account (the name was taken) gives its place back.
        assert_eq!(t.begin_register(ip(1)), Verdict::Allow);
        t.register_undone(ip(1), true);
        assert_eq!(t.begin_register(ip(1)), Verdict::Allow);
        assert!(matches!(t.begin_register(ip(1)), Verdict::Blocked(_)));
        assert_eq!(t.begin_register(ip(2)), Verdict::Allow);
    }

    /// Sign-ups still under way count: ten sent at once from one address get the cap's two through, not
    /// all ten (they used to be counted only once each had finished).
    #[tokio::test(start_paused = true)]
    async fn registrations_count_when_they_start() {
        let t = small();
        let allowed = (0..10)
            .filter(|_| t.begin_register(ip(1)) == Verdict::Allow)
            .count();
        assert_eq!(allowed, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn messages_burst_to_twice_the_rate_then_flow_at_the_rate() {
        let r = MessageRate::new(5);
        let alice = UserId::from(1);
        for _ in 0..10 {
            assert_eq!(r.take(alice), Ok(()));
        }
        let wait = r.take(alice).unwrap_err();
        assert_eq!(wait, Duration::from_millis(200));
        // Someone else is not slowed down by alice.
        assert_eq!(r.take(UserId::from(2)), Ok(()));
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..5 {
            assert_eq!(r.take(alice), Ok(()));
        }
        assert!(r.take(alice).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_of_zero_is_no_limit() {
        let r = MessageRate::new(0);
        for _ in 0..10_000 {
            assert_eq!(r.take(UserId::from(1)), Ok(()));
        }
    }

    /// Issue 20, item 6: a day's text volume is spent, then comes back over the day, per user.
    #[tokio::test(start_paused = true)]
    async fn a_days_volume_is_spent_then_comes_back_over_the_day() {
        let v = MessageRate::per_day(86_400);
        let alice = UserId::from(1);
        assert_eq!(v.take_n(alice, 80_000), Ok(()));
        let wait = v.take_n(alice, 8_000).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1_600));
        assert_eq!(v.take_n(UserId::from(2), 8_000), Ok(()), "bob has his own");
        tokio::time::advance(Duration::from_secs(1_600)).await;
        assert_eq!(v.take_n(alice, 8_000), Ok(()));
        assert!(
            MessageRate::per_day(0).take_n(alice, u64::MAX).is_ok(),
            "0 is off"
        );
    }
}
