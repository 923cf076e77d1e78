//! Reconnect delays: start near one second (the original client's timer), double on each failure up to a
//! cap, and spread by ±20 % so that many clients cut off by the same server restart do not all return in the
//! same instant.

use std::time::Duration;

use rand::Rng;

/// Invalid backoff settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackoffError {
    #[error("the first reconnect delay must be above zero")]
    ZeroInitial,
    #[error("the largest reconnect delay ({max:?}) is below the first ({initial:?})")]
    MaxBelowInitial { initial: Duration, max: Duration },
}

/// The delay sequence between reconnect attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    /// The un-jittered delay the next failure will wait.
    next: Duration,
    attempts: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Result<Self, BackoffError> {
        if initial.is_zero() {
            return Err(BackoffError::ZeroInitial);
        }
        if max < initial {
            return Err(BackoffError::MaxBelowInitial { initial, max });
        }
        Ok(Backoff {
            initial,
            max,
            next: initial,
            attempts: 0,
        })
    }

    /// The delay before the next attempt. Never above the cap, even after jitter.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (base * 2).min(self.max);
        self.attempts = self.attempts.saturating_add(1);
        let factor = rand::rng().random_range(0.8..=1.2);
        base.mul_f64(factor).min(self.max)
    }

    /// Failed attempts since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Called after a good connection: the next failure waits about the first delay again.
    pub fn reset(&mut self) {
        self.next = self.initial;
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn starts_near_a_second_and_grows_to_the_cap() {
        let mut b = Backoff::new(secs(1.0), secs(30.0)).unwrap();
        let first = b.next_delay();
        assert!(first >= secs(0.8) && first <= secs(1.2), "{first:?}");
        let second = b.next_delay();
        assert!(second >= secs(1.6) && second <= secs(2.4), "{second:?}");
        let later: Vec<_> = (0..20).map(|_| b.next_delay()).collect();
        assert!(later.iter().all(|d| *d <= secs(30.0)));
        // Once at the cap it stays near it rather than falling back.
        assert!(later[10..].iter().all(|d| *d >= secs(24.0)), "{later:?}");
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let delays: std::collections::HashSet<_> = (0..20)
            .map(|_| Backoff::new(secs(1.0), secs(30.0)).unwrap().next_delay())
            .collect();
        assert!(
            delays.len() > 1,
            "every client would retry at the same instant"
        );
    }

    #[test]
    fn reset_after_a_good_connection() {
        let mut b = Backoff::new(secs(1.0), secs(30.0)).unwrap();
        for _ in 0..6 {
            b.next_delay();
        }
        assert_eq!(b.attempts(), 6);
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert!(b.next_delay() <= secs(1.2));
    }

    #[test]
    fn bad_settings_are_refused() {
        assert_eq!(
            Backoff::new(Duration::ZERO, secs(1.0)).unwrap_err(),
            BackoffError::ZeroInitial
        );
        assert!(matches!(
            Backoff::new(secs(2.0), secs(1.0)),
            Err(BackoffError::MaxBelowInitial { .. })
        ));
    }
}
