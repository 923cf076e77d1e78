//! Keeps the messages this client sends under the server's advertised `rate`, so a pasted burst or a long
//! outbox after a reconnect is sent in order at a pace the server accepts, instead of being refused.
//!
//! The server's bucket holds two seconds' worth of messages and refills at `rate` a second; this one holds
//! one second's worth and refills a little slower, so the two do not disagree when lines bunch up on the
//! way. Should the server still answer `rate_limited` (another device of the same user sending too), the
//! message goes back to the front of the queue and the queue waits a moment; `unavailable` (a cluster's
//! database away) is the same with a longer pause, limit or none.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ququ_protocol::ClientMessage;

/// How long the queue waits after the server said `rate_limited`.
pub(crate) const BACK_OFF: Duration = Duration::from_secs(1);

/// How long it waits after `unavailable`: a PostgreSQL restart takes seconds (two to come back in
/// `server/tests/pg_restart.rs`), and every message sent meanwhile is refused again.
pub(crate) const UNAVAILABLE_BACK_OFF: Duration = Duration::from_secs(2);

/// A token bucket and the lines waiting for a token, oldest first.
#[derive(Debug)]
pub(crate) struct Pacer {
    /// Tokens a second; `None` is no limit.
    rate: Option<f64>,
    capacity: f64,
    tokens: f64,
    at: Instant,
    waiting: VecDeque<(String, ClientMessage)>,
}

impl Pacer {
    /// A full bucket for a server advertising `rate` messages a second (0: no limit).
    pub(crate) fn new(rate: u32, now: Instant) -> Pacer {
        let rate = (rate > 0).then(|| f64::from(rate) * 0.9);
        let capacity = rate.map_or(0.0, |r| (r / 0.9).max(1.0));
        Pacer {
            rate,
            capacity,
            tokens: capacity,
            at: now,
            waiting: VecDeque::new(),
        }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(rate) = self.rate
            && now > self.at
        {
            let gained = now.duration_since(self.at).as_secs_f64() * rate;
            self.tokens = (self.tokens + gained).min(self.capacity);
            self.at = now;
        }
    }

    /// Queues the message `client_id` (its `MSG:`/`GROUP:` line) behind any already waiting.
    pub(crate) fn push(&mut self, client_id: String, line: ClientMessage) {
        self.waiting.push_back((client_id, line));
    }

    /// The server refused `client_id` for now (its rate, or its database away): it goes first, after
    /// `pause`, and everything behind it waits too.
    pub(crate) fn refused(
        &mut self,
        client_id: String,
        line: ClientMessage,
        now: Instant,
        pause: Duration,
    ) {
        self.waiting.retain(|(id, _)| *id != client_id);
        self.waiting.push_front((client_id, line));
        self.tokens = 0.0;
        self.at = self.at.max(now + pause);
    }

    /// The lines that may go now, in order.
    pub(crate) fn ready(&mut self, now: Instant) -> Vec<ClientMessage> {
        let mut out = Vec::new();
        if self.rate.is_none() {
            // Without a rate only a refusal's pause holds the queue.
            if now >= self.at {
                out.extend(self.waiting.drain(..).map(|(_, line)| line));
            }
            return out;
        }
        self.refill(now);
        while self.tokens >= 1.0 && now >= self.at {
            let Some((_, line)) = self.waiting.pop_front() else {
                break;
            };
            self.tokens -= 1.0;
            out.push(line);
        }
        out
    }

    /// When the next waiting line may go; `None` when nothing waits.
    pub(crate) fn next_at(&self) -> Option<Instant> {
        if self.waiting.is_empty() {
            return None;
        }
        let Some(rate) = self.rate else {
            return Some(self.at);
        };
        let missing = (1.0 - self.tokens).max(0.0);
        Some(self.at + Duration::from_secs_f64(missing / rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(i: usize) -> (String, ClientMessage) {
        let id = format!("c{i}");
        let line = ClientMessage::Msg {
            to: "bob".into(),
            client_id: id.clone(),
            text: format!("hello {i}"),
        };
        (id, line)
    }

    fn ids(lines: &[ClientMessage]) -> Vec<String> {
        lines
            .iter()
            .map(|l| match l {
                ClientMessage::Msg { client_id, .. } => client_id.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_burst_goes_out_in_order_at_the_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(10, t0);
        for i in 0..25 {
            let (id, line) = msg(i);
            p.push(id, line);
        }
        // One second's worth at once...
        let first = p.ready(t0);
        assert_eq!(
            ids(&first),
            (0..10).map(|i| format!("c{i}")).collect::<Vec<_>>()
        );
        // ...then 9 a second (a little under the advertised 10), never out of order.
        let next = p.next_at().unwrap();
        assert!(
            next > t0 && next <= t0 + Duration::from_millis(120),
            "{next:?}"
        );
        let later = p.ready(t0 + Duration::from_secs(1));
        assert_eq!(
            ids(&later),
            (10..19).map(|i| format!("c{i}")).collect::<Vec<_>>()
        );
        let rest = p.ready(t0 + Duration::from_secs(10));
        assert_eq!(rest.len(), 6);
        assert_eq!(p.next_at(), None);
    }

    #[test]
    fn a_refused_message_goes_first_after_a_pause() {
        let t0 = Instant::now();
        let mut p = Pacer::new(10, t0);
        let (a, la) = msg(1);
        let (b, lb) = msg(2);
        p.push(b, lb);
        p.refused(a, la, t0, BACK_OFF);
        assert!(p.ready(t0 + Duration::from_millis(500)).is_empty());
        assert!(p.next_at().unwrap() >= t0 + BACK_OFF);
        let out = p.ready(t0 + Duration::from_secs(2));
        assert_eq!(ids(&out), ["c1", "c2"]);
    }

    #[test]
    fn no_rate_means_no_waiting() {
        let t0 = Instant::now();
        let mut p = Pacer::new(0, t0);
        for i in 0..1000 {
            let (id, line) = msg(i);
            p.push(id, line);
        }
        assert_eq!(p.ready(t0).len(), 1000);
    }

    /// `unavailable` holds the queue even on a server with no rate limit: sent at once, the refused
    /// message would be refused again at once, as often as the connection carries it.
    #[test]
    fn a_refusal_pauses_a_queue_that_has_no_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(0, t0);
        let (a, la) = msg(1);
        let (b, lb) = msg(2);
        p.push(b, lb);
        p.refused(a, la, t0, UNAVAILABLE_BACK_OFF);
        assert!(p.ready(t0 + Duration::from_secs(1)).is_empty());
        assert_eq!(p.next_at(), Some(t0 + UNAVAILABLE_BACK_OFF));
        assert_eq!(ids(&p.ready(t0 + UNAVAILABLE_BACK_OFF)), ["c1", "c2"]);
        assert_eq!(p.next_at(), None);
    }
}
