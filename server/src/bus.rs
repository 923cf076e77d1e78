//! The bus (cluster mode, issue 26): nodes sharing a database tell each other "I have stored messages up
//! to id N" through NATS, so that each node's relay (`service/relay.rs`) reads and delivers them at once
//! instead of at its next one-second poll.
//!
//! Core NATS, at most once, and nothing but that number travels: the messages themselves are read from
//! PostgreSQL, the only truth. So a lost, late, repeated or reordered notice costs latency, never a
//! message, and a node without its NATS server (down, restarting, paused) still delivers everything,
//! by the poll. Notices are coalesced both ways: a node publishes the newest id it has stored whenever it
//! has stored more (not one notice per batch it could not send in time), and delivers up to the newest id
//! it has heard of whenever its relay is free. The same goes for lines passed between nodes
//! (`service/passing.rs`) on [`PASSED_SUBJECT`]: "node X has passed more", read from PostgreSQL too.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::service::Services;

/// Where every node publishes and listens for stored messages. One cluster per NATS server (or
/// account): a second cluster on the same NATS server would wake this one's relays for nothing
/// (harmless, not useful).
pub const SUBJECT: &str = "ququ.stored";

/// Where every node says it has passed lines to the others' sessions (`service/passing.rs`): the
/// payload is a count, `<instance> <n>`, only there to tell "something new" from this node's own.
pub const PASSED_SUBJECT: &str = "ququ.passed";

/// `url` without its user and password (`nats://user:secret@host:4222` → `nats://host:4222`), for the
/// log and the start-up lines.
pub fn describe(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

/// Who connects, taken from `url`'s user part (async-nats reads credentials only from its options, never
/// from the URL): `nats://user:pass@host` → user and password, `nats://token@host` → a token. Returns the
/// address without them.
fn credentials(url: &str) -> (Option<(String, Option<String>)>, String) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (None, url.to_owned());
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return (None, url.to_owned());
    };
    let who = match userinfo.split_once(':') {
        Some((user, pass)) => (user.to_owned(), Some(pass.to_owned())),
        None => (userinfo.to_owned(), None),
    };
    (Some(who), format!("{scheme}://{host}"))
}

/// A notice: the publishing node's instance (random per start, so a node skips its own) and the newest
/// id it has stored, as `<instance> <id>`.
fn notice(instance: u64, id: u64) -> Bytes {
    Bytes::from(format!("{instance:016x} {id}"))
}

/// The id in another node's notice; `None` for this node's own or for a line that is not a notice.
fn heard(payload: &[u8], instance: u64) -> Option<u64> {
    let text = std::str::from_utf8(payload).ok()?;
    let (from, id) = text.split_once(' ')?;
    if u64::from_str_radix(from, 16).ok()? == instance {
        return None;
    }
    id.parse().ok()
}

/// Connects to the NATS server at `url` in the background (a node starts, and delivers by polling,
/// while NATS is unreachable) and runs the bus until `stop`.
pub async fn run(url: String, services: Arc<Services>, stop: CancellationToken) {
    let (Some(mut stored), Some(mut passed)) = (services.stored_ids(), services.passed_batches())
    else {
        return;
    };
    let shown = describe(&url);
    let instance = rand::random::<u64>();
    let (who, address) = credentials(&url);
    let options = match who {
        Some((user, Some(pass))) => async_nats::ConnectOptions::with_user_and_password(user, pass),
        Some((token, None)) => async_nats::ConnectOptions::with_token(token),
        None => async_nats::ConnectOptions::new(),
    };
    let client = options
        .name("ququ-server")
        .retry_on_initial_connect()
        .event_callback(|event| async move {
            // Connected, disconnected, reconnected: worth a line each, as the poll is then the only way.
            tracing::info!(%event, "message bus");
        })
        .connect(address.as_str())
        .await;
    let client = match client {
        Ok(client) => client,
        Err(e) => {
            // Only a malformed address gets here (retry_on_initial_connect waits for a server).
            tracing::error!(bus = %shown, error = %e, "cannot use the message bus; delivering by polling");
            return;
        }
    };
    let mut notices = match client.subscribe("ququ.*").await {
        Ok(subscriber) => subscriber,
        Err(e) => {
            tracing::error!(bus = %shown, error = %e, "cannot listen on the message bus; delivering by polling");
            return;
        }
    };
    tracing::info!(bus = %shown, "message bus: telling other nodes of new messages through NATS");

    // The newest id heard of, delivered by one task as fast as the relay takes it.
    let (wanted, mut wants) = watch::channel(0u64);
    let deliver = {
        let services = services.clone();
        let stop = stop.clone();
        async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    changed = wants.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        let up_to = *wants.borrow_and_update();
                        services.deliver_stored(up_to).await;
                    }
                }
            }
        }
    };
    // Passed lines are read by one task too, once however many notices came while it read.
    let passed_news = tokio::sync::Notify::new();
    let take = async {
        loop {
            passed_news.notified().await;
            services.take_passed().await;
        }
    };
    let listen = async {
        while let Some(message) = notices.next().await {
            let Some(n) = heard(&message.payload, instance) else {
                continue;
            };
            match message.subject.as_str() {
                SUBJECT => crate::service::raise_to(&wanted, n),
                PASSED_SUBJECT => passed_news.notify_one(),
                _ => {}
            }
        }
    };
    let publish = async {
        loop {
            let (subject, n) = tokio::select! {
                changed = stored.changed() => match changed {
                    Ok(()) => (SUBJECT, *stored.borrow_and_update()),
                    Err(_) => break,
                },
                changed = passed.changed() => match changed {
                    Ok(()) => (PASSED_SUBJECT, *passed.borrow_and_update()),
                    Err(_) => break,
                },
            };
            if let Err(e) = client.publish(subject, notice(instance, n)).await {
                tracing::warn!(error = %e, "could not tell the other nodes of new messages");
            }
        }
    };
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = deliver => {}
        _ = take => {}
        _ = listen => tracing::warn!("the message bus subscription ended; delivering by polling"),
        _ = publish => {}
    }
    // Whatever is buffered goes before the connection closes; the others poll for it anyway.
    let _ = client.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        assert_eq!(
            describe("nats://ququ:s3cret@10.0.0.5:4222"),
            "nats://10.0.0.5:4222"
        );
        assert_eq!(describe("nats://10.0.0.5:4222"), "nats://10.0.0.5:4222");
        assert_eq!(describe("tok@host:4222"), "host:4222");
    }

    #[test]
    fn credentials_in_the_address_are_taken_out_of_it() {
        assert_eq!(
            credentials("nats://ququ:s3:cret@10.0.0.5:4222"),
            (
                Some(("ququ".into(), Some("s3:cret".into()))),
                "nats://10.0.0.5:4222".into()
            )
        );
        assert_eq!(
            credentials("nats://t0ken@host:4222"),
            (Some(("t0ken".into(), None)), "nats://host:4222".into())
        );
        assert_eq!(
            credentials("nats://host:4222"),
            (None, "nats://host:4222".into())
        );
    }

    #[test]
    fn a_node_hears_the_others_and_not_itself() {
        let mine = 0x1234;
        assert_eq!(heard(&notice(0x99, 42), mine), Some(42));
        assert_eq!(heard(&notice(mine, 42), mine), None, "its own");
        for junk in [
            &b""[..],
            b"42",
            b"zz 1",
            b"0000000000000099 x",
            b"\xff\xfe 1",
        ] {
            assert_eq!(heard(junk, mine), None, "{junk:?}");
        }
    }
}
