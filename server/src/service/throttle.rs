//! Login and registration throttling: attempts are counted before the password is hashed, guessing
//! slows down and then blocks the guessing address only. And the per-user message rate limit: a token
//! bucket per user.
//!
//! The policy (docs/security.md, "Login throttling"):
//! - Every password attempt is counted when it arrives, *before* the password is hashed, in the store
//!   under a lock of its counters (`ThrottleStore`: in cluster mode every node's attempts meet there), so
//!   attempts sent in parallel, or to several nodes, are counted like attempts sent one after another; a
//!   right password gives its attempt back.
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
//!
//! The message rate limits are each node's own (a user's sessions on two nodes have a bucket on each).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use ququ_protocol::Millis;
use tokio::time::Instant;

use crate::storage::{ThrottleEntry, UserId};

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

/// What to do with an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Wait this long, then go ahead.
    Delay(Duration),
    /// Refuse; this many seconds remain.
    Blocked(u64),
}

/// The longest delay is 2^5 = 32 s.
const MAX_DELAY_SHIFT: u32 = 5;

/// Something the login throttle counts or asks, decided on the counters it names
/// ([`Attempt::counters`]) as the store holds them: in cluster mode every node's attempts meet in the
/// same counters (`ThrottleStore`), so a guesser spread over several nodes is blocked at one node's
/// threshold.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// Before a password login: decides, and counts the attempt at once — before the password is hashed
    /// and under the same lock as the decision, so parallel attempts cannot all pass. Given back with
    /// [`Attempt::LoginSucceeded`] if the password was right.
    Login { ip: IpAddr, account: String },
    /// The password was right: its attempt no longer counts against the address, and the account's
    /// failures from this address are forgotten.
    LoginSucceeded { ip: IpAddr, account: String },
    /// Whether `ip` is blocked (asked before answering a bad session token).
    Blocked { ip: IpAddr },
    /// Before a registration: decides, and counts it against the address's allowance at once, under the
    /// lock that decides, so sign-ups sent in parallel cannot all pass the cap (as logins cannot pass
    /// theirs). [`Attempt::RegisterUndone`] gives it back if no account was made.
    Register { ip: IpAddr },
    /// A registration let through made no account: it no longer counts against the allowance, and if
    /// the server refused it (a taken or invalid name) it counts as a failed attempt of the address.
    RegisterUndone { ip: IpAddr, refused: bool },
    /// A bad session token: counts against the address.
    Failed { ip: IpAddr },
}

/// The counter of an address's unsuccessful attempts.
fn of_address(ip: &IpAddr) -> String {
    format!("ip {ip}")
}

/// The counter of one account (lower-cased) guessed from one address.
fn of_guess(ip: &IpAddr, account: &str) -> String {
    format!("guess {ip} {}", account.to_ascii_lowercase())
}

/// The counter of an address's registrations.
fn of_registrations(ip: &IpAddr) -> String {
    format!("registered {ip}")
}

impl Attempt {
    /// The names of the counters it reads or changes.
    pub fn counters(&self) -> Vec<String> {
        match self {
            Attempt::Login { ip, account } | Attempt::LoginSucceeded { ip, account } => {
                vec![of_address(ip), of_guess(ip, account)]
            }
            Attempt::Blocked { ip } | Attempt::Failed { ip } => vec![of_address(ip)],
            Attempt::Register { ip } | Attempt::RegisterUndone { ip, .. } => {
                vec![of_address(ip), of_registrations(ip)]
            }
        }
    }

    /// Decides it at `now` on `counters` — those of [`Attempt::counters`] that exist — changing them
    /// as it counts. [`Verdict::Allow`] for what only counts.
    pub fn decide(
        &self,
        config: &ThrottleConfig,
        counters: &mut HashMap<String, ThrottleEntry>,
        now: Millis,
    ) -> Verdict {
        let mut c = Counters {
            config,
            counters,
            now,
        };
        match self {
            Attempt::Login { ip, account } => {
                let address = of_address(ip);
                if let Some(secs) = c.over(&address, config.ip_block_after) {
                    return Verdict::Blocked(secs);
                }
                c.entry(&address).count += 1;
                let guess = c.entry(&of_guess(ip, account));
                let before = guess.count;
                guess.count += 1;
                match before.checked_sub(config.account_delay_after) {
                    Some(extra) => {
                        Verdict::Delay(Duration::from_secs(1 << extra.min(MAX_DELAY_SHIFT)))
                    }
                    None => Verdict::Allow,
                }
            }
            Attempt::LoginSucceeded { ip, account } => {
                if let Some(e) = c.counters.get_mut(&of_address(ip)) {
                    e.count = e.count.saturating_sub(1);
                }
                c.counters.remove(&of_guess(ip, account));
                Verdict::Allow
            }
            Attempt::Blocked { ip } => match c.over(&of_address(ip), config.ip_block_after) {
                Some(secs) => Verdict::Blocked(secs),
                None => Verdict::Allow,
            },
            Attempt::Register { ip } => {
                if let Some(secs) = c.over(&of_address(ip), config.ip_block_after) {
                    return Verdict::Blocked(secs);
                }
                let registered = of_registrations(ip);
                if let Some(secs) = c.over(&registered, config.registrations_per_ip) {
                    return Verdict::Blocked(secs);
                }
                c.entry(&registered).count += 1;
                Verdict::Allow
            }
            Attempt::RegisterUndone { ip, refused } => {
                if let Some(e) = c.counters.get_mut(&of_registrations(ip)) {
                    e.count = e.count.saturating_sub(1);
                }
                if *refused {
                    c.entry(&of_address(ip)).count += 1;
                }
                Verdict::Allow
            }
            Attempt::Failed { ip } => {
                c.entry(&of_address(ip)).count += 1;
                Verdict::Allow
            }
        }
    }
}

/// An attempt's counters at the moment it is decided.
struct Counters<'a> {
    config: &'a ThrottleConfig,
    counters: &'a mut HashMap<String, ThrottleEntry>,
    now: Millis,
}

impl Counters<'_> {
    fn window(&self) -> Millis {
        self.config.window.as_millis() as Millis
    }

    /// The counter `key`, reset if its window has passed.
    fn entry(&mut self, key: &str) -> &mut ThrottleEntry {
        let (now, window) = (self.now, self.window());
        let entry = self
            .counters
            .entry(key.to_owned())
            .or_insert(ThrottleEntry {
                count: 0,
                since: now,
                blocked_until: None,
            });
        if now.saturating_sub(entry.since) >= window {
            entry.count = 0;
            entry.since = now;
        }
        entry
    }

    /// Seconds left of `key`'s block, starting one if its count has reached `limit`.
    fn over(&mut self, key: &str, limit: u32) -> Option<u64> {
        let (now, block_for) = (self.now, self.config.block_for);
        let entry = self.entry(key);
        if let Some(until) = entry.blocked_until {
            if until > now {
                return Some(((until - now) / 1000).max(1));
            }
            entry.blocked_until = None;
        }
        if entry.count >= limit {
            entry.blocked_until = Some(now + block_for.as_millis() as Millis);
            entry.count = 0;
            entry.since = now;
            return Some(block_for.as_secs().max(1));
        }
        None
    }
}

/// A rate limit's buckets are pruned of full ones once there are more than this, so a flood of users
/// cannot grow the map without bound.
const PRUNE_AT: usize = 10_000;

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

    /// The counters of one store, decided on at a clock the test moves.
    struct Counted {
        config: ThrottleConfig,
        counters: HashMap<String, ThrottleEntry>,
        now: Millis,
    }

    impl Counted {
        fn decide(&mut self, attempt: Attempt) -> Verdict {
            // What the store does: only the attempt's own counters are in play.
            let names = attempt.counters();
            let mut mine: HashMap<String, ThrottleEntry> = names
                .iter()
                .filter_map(|n| self.counters.remove_entry(n))
                .collect();
            let verdict = attempt.decide(&self.config, &mut mine, self.now);
            assert!(mine.keys().all(|k| names.contains(k)), "{mine:?}");
            self.counters.extend(mine);
            verdict
        }

        fn begin_login(&mut self, ip: IpAddr, account: &str) -> Verdict {
            let account = account.to_owned();
            self.decide(Attempt::Login { ip, account })
        }

        fn login_succeeded(&mut self, ip: IpAddr, account: &str) {
            let account = account.to_owned();
            self.decide(Attempt::LoginSucceeded { ip, account });
        }

        fn begin_register(&mut self, ip: IpAddr) -> Verdict {
            self.decide(Attempt::Register { ip })
        }

        fn blocked(&mut self, ip: IpAddr) -> bool {
            matches!(self.decide(Attempt::Blocked { ip }), Verdict::Blocked(_))
        }
    }

    fn small() -> Counted {
        Counted {
            config: ThrottleConfig {
                window: Duration::from_secs(60),
                ip_block_after: 4,
                account_delay_after: 2,
                block_for: Duration::from_secs(300),
                registrations_per_ip: 2,
            },
            counters: HashMap::new(),
            now: 1_000_000,
        }
    }

    #[test]
    fn guessing_slows_then_blocks_only_the_guessing_address_and_the_block_expires() {
        let mut t = small();
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
        assert_eq!(t.begin_login(ip(1), "erin"), Verdict::Blocked(300));
        assert!(matches!(t.begin_register(ip(1)), Verdict::Blocked(_)));
        assert!(t.blocked(ip(1)));
        assert_eq!(t.begin_login(ip(9), "erin"), Verdict::Allow);
        t.now += 299_000;
        assert_eq!(t.begin_login(ip(1), "erin"), Verdict::Blocked(1));
        t.now += 2_000;
        assert_eq!(t.begin_login(ip(1), "erin"), Verdict::Allow);
    }

    #[test]
    fn attempts_count_when_they_start_not_when_they_fail() {
        // Parallel attempts: none has finished (failed) yet when the next one arrives.
        let mut t = small();
        let verdicts: Vec<Verdict> = (0..10).map(|_| t.begin_login(ip(1), "alice")).collect();
        let passed = verdicts
            .iter()
            .filter(|v| !matches!(v, Verdict::Blocked(_)))
            .count();
        assert_eq!(passed, 4, "{verdicts:?}");
    }

    #[test]
    fn a_right_password_gives_its_attempt_back_and_clears_the_delay() {
        let mut t = small();
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

    #[test]
    fn a_window_passing_forgets_the_count() {
        let mut t = small();
        for _ in 0..3 {
            t.begin_login(ip(1), "alice");
        }
        t.now += 60_000;
        assert_eq!(t.begin_login(ip(1), "alice"), Verdict::Allow);
    }

    #[test]
    fn registrations_per_address_are_capped() {
        let mut t = small();
        assert_eq!(t.begin_register(ip(1)), Verdict::Allow);
        // A sign-up that made no account (the name was taken) gives its place back.
        assert_eq!(t.begin_register(ip(1)), Verdict::Allow);
        t.decide(Attempt::RegisterUndone {
            ip: ip(1),
            refused: true,
        });
        assert_eq!(t.begin_register(ip(1)), Verdict::Allow);
        assert!(matches!(t.begin_register(ip(1)), Verdict::Blocked(_)));
        assert_eq!(t.begin_register(ip(2)), Verdict::Allow);
    }

    /// Sign-ups still under way count: ten sent at once from one address get the cap's two through, not
    /// all ten (they used to be counted only once each had finished).
    #[test]
    fn registrations_count_when_they_start() {
        let mut t = small();
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
