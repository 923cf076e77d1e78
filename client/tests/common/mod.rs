//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod server;

use std::time::Duration;

use ququ_client::{Config, Event, Events, Timing};

/// Upper bound on any single wait, so a broken build fails instead of hanging. Not a performance assertion.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Timers short enough for tests: reconnects within a fraction of a second.
pub fn fast_timing() -> Timing {
    Timing {
        reconnect_initial: Duration::from_millis(30),
        reconnect_max: Duration::from_millis(150),
        ping_after: Duration::from_secs(5),
        dead_after: Duration::from_secs(15),
        connect_timeout: Duration::from_secs(5),
        sync_page: 100,
    }
}

pub fn config(server: &str, account: &str, dir: &std::path::Path) -> Config {
    Config::new(server, account, "password1")
        .data_dir(dir)
        .timing(fast_timing())
}

/// Waits for the first event matching `pred`, skipping others. Panics (failing the test) on timeout or end.
pub async fn wait_for(
    events: &mut Events,
    what: &str,
    mut pred: impl FnMut(&Event) -> bool,
) -> Event {
    let found = tokio::time::timeout(PATIENCE, async {
        while let Some(e) = events.recv().await {
            if pred(&e) {
                return Some(e);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(e)) => e,
        Ok(None) => panic!("event stream ended while waiting for {what}"),
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Drains events until the stream ends (the client stopped).
pub async fn wait_stopped(events: &mut Events) -> Vec<Event> {
    let mut seen = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        while let Some(e) = events.recv().await {
            seen.push(e);
        }
    })
    .await
    .expect("client did not stop");
    seen
}
