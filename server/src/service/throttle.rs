//! Login and registration throttling: failures slow down, then block for a while. And the per-user
//! message rate limit: a token bucket per user.
//!
//! Two kinds of key: the client's IP address and the account name. Per IP, too many failures block every
//! login and registration attempt from that address for a while — that stops a password-guessing script.
//! Per account, failures first add a growing delay and only much later block, so a stranger cannot
//! easily lock a real user out of their own account.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::storage::UserId;

/// The thresholds. Defaults suit a public server; tests use smaller ones.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Failures are counted over this window.
    pub window: Duration,
    /// Failures from one IP before it is blocked.
    pub ip_block_after: u32,
    /// Failures on one account before each attempt is delayed.
    pub account_delay_after: u32,
    /// Failures on one account before it is blocked.
    pub account_block_after: u32,
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
            account_block_after: 50,
            block_for: Duration::from_secs(15 * 60),
            registrations_per_ip: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    Account(String),
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

/// The failure counters.
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    entries: Mutex<HashMap<Key, Entry>>,
}

/// The map is pruned of stale entries once it grows past this, so a flood of addresses cannot grow it
/// without bound.
const PRUNE_AT: usize = 10_000;

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

    fn blocked(&self, map: &HashMap<Key, Entry>, key: &Key, now: Instant) -> Option<u64> {
        let until = map.get(key)?.blocked_until?;
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    fn count(&self, map: &HashMap<Key, Entry>, key: &Key, now: Instant) -> u32 {
        map.get(key)
            .filter(|e| now.duration_since(e.since) < self.config.window)
            .map_or(0, |e| e.count)
    }

    /// Before a login attempt.
    pub fn check_login(&self, ip: IpAddr, account: &str) -> Verdict {
        let now = Instant::now();
        let map = self.entries();
        let account = Key::Account(account.to_ascii_lowercase());
        for key in [Key::Ip(ip), account.clone()] {
            if let Some(secs) = self.blocked(&map, &key, now) {
                return Verdict::Blocked(secs);
            }
        }
        let failures = self.count(&map, &account, now);
        if failures >= self.config.account_delay_after {
            let extra = (failures - self.config.account_delay_after).min(5);
            return Verdict::Delay(Duration::from_secs(1 << extra));
        }
        Verdict::Allow
    }

    /// Before a registration attempt.
    pub fn check_register(&self, ip: IpAddr) -> Verdict {
        let now = Instant::now();
        let map = self.entries();
        if let Some(secs) = self.blocked(&map, &Key::Ip(ip), now) {
            return Verdict::Blocked(secs);
        }
        if let Some(secs) = self.blocked(&map, &Key::Registered(ip), now) {
            return Verdict::Blocked(secs);
        }
        Verdict::Allow
    }

    fn bump(&self, map: &mut HashMap<Key, Entry>, key: Key, block_after: u32, now: Instant) {
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
        entry.count += 1;
        if entry.count >= block_after {
            entry.blocked_until = Some(now + self.config.block_for);
            entry.count = 0;
            entry.since = now;
        }
    }

    fn prune(&self, map: &mut HashMap<Key, Entry>, now: Instant) {
        if map.len() > PRUNE_AT {
            let window = self.config.window;
            map.retain(|_, e| {
                now.duration_since(e.since) < window || e.blocked_until.is_some_and(|u| u > now)
            });
        }
    }

    /// A failed login, resume or registration.
    pub fn failed(&self, ip: IpAddr, account: Option<&str>) {
        let now = Instant::now();
        let mut map = self.entries();
        self.prune(&mut map, now);
        self.bump(&mut map, Key::Ip(ip), self.config.ip_block_after, now);
        if let Some(account) = account {
            let key = Key::Account(account.to_ascii_lowercase());
            self.bump(&mut map, key, self.config.account_block_after, now);
        }
    }

    /// A successful login clears that account's failures.
    pub fn logged_in(&self, account: &str) {
        self.entries()
            .remove(&Key::Account(account.to_ascii_lowercase()));
    }

    /// A successful registration counts against the address's allowance.
    pub fn registered(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.entries();
        self.prune(&mut map, now);
        let limit = self.config.registrations_per_ip;
        self.bump(&mut map, Key::Registered(ip), limit, now);
    }
}

/// Per-user message rate limit: a token bucket per user, shared by all of that user's sessions.
///
/// A bucket holds `2 × rate` tokens and refills at `rate` per second, so a user may paste a burst of
/// two seconds' worth of messages at once and then `rate` per second. `rate == 0` turns the limit off.
#[derive(Debug)]
pub struct MessageRate {
    rate: u32,
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
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn capacity(&self) -> f64 {
        2.0 * f64::from(self.rate)
    }

    /// Takes one token for `user`, or says how long until one is free.
    pub fn take(&self, user: UserId) -> Result<(), Duration> {
        if self.rate == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let (rate, capacity) = (f64::from(self.rate), self.capacity());
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
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
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
            account_block_after: 6,
            block_for: Duration::from_secs(300),
            registrations_per_ip: 2,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn failures_slow_down_then_block_and_the_block_expires() {
        let t = small();
        assert_eq!(t.check_login(ip(1), "alice"), Verdict::Allow);
        t.failed(ip(1), Some("alice"));
        t.failed(ip(2), Some("alice"));
        assert_eq!(
            t.check_login(ip(3), "alice"),
            Verdict::Delay(Duration::from_secs(1))
        );
        t.failed(ip(3), Some("alice"));
        assert_eq!(
            t.check_login(ip(3), "Alice"),
            Verdict::Delay(Duration::from_secs(2))
        );
        // The address that keeps failing is blocked, whatever account it tries.
        t.failed(ip(1), Some("bob"));
        t.failed(ip(1), Some("carol"));
        t.failed(ip(1), Some("dave"));
        assert!(matches!(t.check_login(ip(1), "erin"), Verdict::Blocked(_)));
        assert!(matches!(t.check_register(ip(1)), Verdict::Blocked(_)));
        assert_eq!(t.check_login(ip(9), "erin"), Verdict::Allow);
        tokio::time::advance(Duration::from_secs(301)).await;
        assert_eq!(t.check_login(ip(1), "erin"), Verdict::Allow);
    }

    #[tokio::test(start_paused = true)]
    async fn success_clears_an_accounts_failures() {
        let t = small();
        t.failed(ip(1), Some("alice"));
        t.failed(ip(1), Some("alice"));
        assert!(matches!(t.check_login(ip(1), "alice"), Verdict::Delay(_)));
        t.logged_in("alice");
        assert_eq!(t.check_login(ip(1), "alice"), Verdict::Allow);
    }

    #[tokio::test(start_paused = true)]
    async fn registrations_per_address_are_capped() {
        let t = small();
        t.registered(ip(1));
        assert_eq!(t.check_register(ip(1)), Verdict::Allow);
        t.registered(ip(1));
        assert!(matches!(t.check_register(ip(1)), Verdict::Blocked(_)));
        assert_eq!(t.check_register(ip(2)), Verdict::Allow);
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
}
