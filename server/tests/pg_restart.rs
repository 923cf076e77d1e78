//! PostgreSQL crashing under a serving node and coming back (issue 26): nothing acknowledged is lost,
//! and the server serves again by itself. A test binary of its own, as it crashes the test process's
//! whole PostgreSQL cluster (`testdb::Cluster::crash`), under every test beside it.
#![cfg(feature = "test-cluster")]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use common::{Peer, TestServer};

/// alice pipelines 300 messages to bob ten at a time, sending again under the same client id whatever
/// is refused (`ERROR:unavailable:…:<client id>`: the database is down) or unanswered when her connection is lost; PostgreSQL crashes
/// (`pg_ctl stop -m immediate`) once a hundred are acknowledged and is back two seconds later. Every
/// acknowledged message is then in bob's sync exactly once, and bob is told the rest live.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_crashing_loses_nothing_acknowledged() {
    const TOTAL: usize = 300;
    const WINDOW: usize = 10;
    // As PostgreSQL runs by default: a commit has reached the WAL when it returns. (The other tests'
    // cluster does not wait for that, and a crash takes its last commits: this test found it so.)
    ququ_server::storage::postgres::testdb::durable_cluster();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.rate = 0).await;
    let (mut alice, bob) = server.friends("alice", "bob").await;
    drop(bob);
    let mut acked = BTreeSet::new();
    let mut refusals = 0;
    let mut crash = None;
    for window in 0..TOTAL / WINDOW {
        let ids: Vec<String> = (window * WINDOW..(window + 1) * WINDOW)
            .map(|i| format!("m{i}"))
            .collect();
        while ids.iter().any(|id| !acked.contains(id)) {
            let mut live = true;
            for id in ids.iter().filter(|id| !acked.contains(*id)) {
                live &= alice.try_send(&format!("MSG:bob:{id}:消息 {id}")).await;
            }
            // Each unacknowledged message is answered: an ACK, or an ERROR naming it.
            let mut answered = 0;
            let waiting = ids.iter().filter(|id| !acked.contains(*id)).count();
            while live && answered < waiting {
                match alice.next_within(Duration::from_secs(20)).await {
                    Some(line) if line.starts_with("ACK:") => {
                        acked.insert(line.split(':').nth(1).unwrap().to_owned());
                        answered += 1;
                    }
                    Some(line) if line.starts_with("ERROR:") => {
                        // The database is away: said as such, naming the message, so a client
                        // sends it again rather than showing it failed.
                        let fields: Vec<&str> = line.split(':').collect();
                        assert_eq!(fields[1], "unavailable", "{line}");
                        assert!(
                            ids.iter().any(|id| id == fields[fields.len() - 1]),
                            "{line}"
                        );
                        refusals += 1;
                        answered += 1;
                    }
                    Some(_) => {}
                    None => live = false,
                }
            }
            if !live {
                alice = logged_in_again(server.addr, "alice").await;
            } else if answered > 0 && ids.iter().any(|id| !acked.contains(id)) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        if acked.len() >= 100 && crash.is_none() {
            // Down now, under the windows still to send; back two seconds later.
            let cluster = ququ_server::storage::postgres::testdb::cluster();
            tokio::task::spawn_blocking(|| cluster.crash())
                .await
                .unwrap();
            crash = Some(std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(2));
                cluster.start_again();
            }));
        }
    }
    crash.unwrap().join().unwrap();
    assert_eq!(acked.len(), TOTAL);

    let mut bob = logged_in_again(server.addr, "bob").await;
    let mut count: HashMap<String, usize> = HashMap::new();
    let mut from = 0;
    loop {
        bob.send(&format!("SYNC:{from}:500")).await;
        let lines = bob.collect_until("SYNC_END:").await;
        for line in lines.iter().filter(|l| l.starts_with("MSG:")) {
            *count
                .entry(line.split(':').nth(5).unwrap().to_owned())
                .or_default() += 1;
        }
        let end: Vec<&str> = lines.last().unwrap().split(':').collect();
        from = end[1].parse().unwrap();
        if end[2] != "1" {
            break;
        }
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored twice: {twice:?}");
    let missing: Vec<_> = acked.iter().filter(|id| !count.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged, never stored: {missing:?}"
    );
    println!(
        "PostgreSQL crashed after 100 of {TOTAL} messages and was back 2 s later: {refusals} refusals \
         sent again, every acknowledged message stored once"
    );

    // Away for longer than a request waits for a database connection (10 s): a message is refused
    // as `unavailable`, naming it (not `internal`, which a client shows as failed), and so is a
    // request that reads; sent again once PostgreSQL is back, the message is acknowledged.
    let cluster = ququ_server::storage::postgres::testdb::cluster();
    tokio::task::spawn_blocking(|| cluster.crash())
        .await
        .unwrap();
    let away = std::time::Instant::now();
    alice.send("MSG:bob:late:还在吗").await;
    let refused = first_error(&mut alice).await;
    assert!(
        refused.starts_with("ERROR:unavailable:the server cannot reach its database just now")
            && refused.ends_with(":late"),
        "{refused}"
    );
    println!(
        "with PostgreSQL away, a message was refused as unavailable after {:?}",
        away.elapsed()
    );
    bob.send("HISTORY:user:alice:0:10").await;
    let refused = first_error(&mut bob).await;
    assert!(refused.starts_with("ERROR:unavailable:"), "{refused}");
    tokio::task::spawn_blocking(|| cluster.start_again())
        .await
        .unwrap();
    alice.send("MSG:bob:late:还在吗").await;
    alice.until("ACK:late:").await;
}

/// The next `ERROR:` line, other lines skipped, within 30 s: a request waits up to 10 s for a database
/// connection before it is refused.
async fn first_error(peer: &mut Peer) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match peer.next_within(left).await {
            Some(line) if line.starts_with("ERROR:") => return line,
            Some(_) => {}
            None => panic!("no ERROR: line within 30 s"),
        }
    }
}

/// `account` logged in on a new connection, trying again while the database is still away.
async fn logged_in_again(addr: std::net::SocketAddr, account: &str) -> Peer {
    for _ in 0..200 {
        let mut peer = Peer::connect(addr).await;
        if peer.try_send(&format!("LOGIN:{account}:password")).await
            && let Some(reply) = peer.next_within(Duration::from_secs(5)).await
            && reply.starts_with("LOGIN:true:")
        {
            return peer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{account} could not log in again");
}
