//! Fault test: SIGKILL the server while clients send, restart it on the same data dir, and check that
//! every message it acknowledged is delivered exactly once and nothing acknowledged is missing.

use std::collections::{BTreeSet, HashMap};

use ququ_tests::{Peer, ServerProcess, befriend, serve_if_child};

/// Only ever runs as the child server process of the test below.
#[test]
fn crash_server_child() {
    serve_if_child();
}

#[tokio::test]
async fn acknowledged_messages_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start("crash_server_child", dir.path());
    let mut alice = Peer::login(server.addr, "alice").await;
    let mut carol = Peer::login(server.addr, "carol").await;
    let mut bob = Peer::login(server.addr, "bob").await;
    befriend(&mut alice, "alice", &mut bob, "bob").await;
    befriend(&mut carol, "carol", &mut bob, "bob").await;

    // Two senders pipeline messages to bob, 50 at a time; the server is killed partway through.
    let send = |mut peer: Peer, name: &'static str| {
        tokio::spawn(async move {
            let mut acked = BTreeSet::new();
            let mut sent = 0usize;
            'batches: for batch in 0..100 {
                for i in batch * 50..(batch + 1) * 50 {
                    let line = format!("MSG:bob:{name}-{i}:message {i} from {name}");
                    if peer.try_send(&line).await.is_err() {
                        break 'batches;
                    }
                    sent += 1;
                }
                let mut acks = 0;
                while acks < 50 {
                    match peer.next().await {
                        Some(line) => {
                            if let Some(rest) = line.strip_prefix("ACK:") {
                                acked.insert(rest.split(':').next().unwrap_or_default().to_owned());
                                acks += 1;
                            }
                        }
                        None => break 'batches,
                    }
                }
            }
            (acked, sent)
        })
    };
    let a = send(alice, "alice");
    let c = send(carol, "carol");
    // Let some hundreds of messages be stored, then pull the plug.
    let mut seen = 0;
    while seen < 300 {
        if bob.recv().await.starts_with("MSG:") {
            seen += 1;
        }
    }
    server.kill();
    drop(bob);
    let (acked_a, sent_a) = a.await.expect("alice task");
    let (acked_c, sent_c) = c.await.expect("carol task");
    assert!(!acked_a.is_empty() && !acked_c.is_empty());

    let server = ServerProcess::start("crash_server_child", dir.path());
    let mut bob = Peer::login(server.addr, "bob").await;
    let stored = bob.sync_all().await;
    let mut count: HashMap<String, usize> = HashMap::new();
    for line in &stored {
        let client_id = line.split(':').nth(5).unwrap_or_default().to_owned();
        *count.entry(client_id).or_default() += 1;
    }
    let duplicates: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "stored twice: {duplicates:?}");
    let missing: Vec<_> = acked_a
        .iter()
        .chain(&acked_c)
        .filter(|id| !count.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    eprintln!(
        "sent {} + {}, acknowledged {} + {}, stored {} before the kill",
        sent_a,
        sent_c,
        acked_a.len(),
        acked_c.len(),
        stored.len()
    );

    // Resending everything (as a client's outbox does after reconnecting) stores nothing twice.
    let mut alice = Peer::login(server.addr, "alice").await;
    for i in 0..sent_a.min(5000) {
        alice
            .send(&format!("MSG:bob:alice-{i}:message {i} from alice"))
            .await;
    }
    alice.send("PING:1").await;
    alice.until("PONG:1").await;
    // A fresh connection, so no live push mixes into the replay.
    drop(bob);
    let mut bob = Peer::login(server.addr, "bob").await;
    let after = bob.sync_all().await;
    let alice_ids: BTreeSet<String> = after
        .iter()
        .filter_map(|l| l.split(':').nth(5))
        .filter(|id| id.starts_with("alice-"))
        .map(str::to_owned)
        .collect();
    let alice_lines = after.iter().filter(|l| l.contains(":alice-")).count();
    assert_eq!(alice_lines, alice_ids.len(), "a resend was stored twice");
    assert_eq!(alice_ids.len(), sent_a.min(5000));
}
