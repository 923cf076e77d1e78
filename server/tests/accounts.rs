//! Accounts under attack and in the operator's hands (issue 20, items 2, 3, 4 and 15): login throttling
//! that cannot lock the owner out and cannot be raced, live sessions ended when an account is disabled or
//! its password changes, and the operator's conveniences.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use common::{Peer, TestServer};

fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// Item 3: 60 wrong passwords in parallel from 6 addresses (each under the per-address limit) must not
/// lock alice out: her password from another address, and her token from one of the guessing addresses,
/// log in at once.
#[tokio::test]
async fn guesses_from_many_addresses_do_not_lock_the_owner_out() {
    let server = TestServer::start().await;
    let token = {
        let alice = server.user("alice").await;
        alice.token.clone().unwrap()
    };
    let mut guessers = Vec::new();
    for n in 2..8u8 {
        for i in 0..10 {
            let addr = server.addr;
            guessers.push(tokio::spawn(async move {
                let mut p = Peer::connect_from(addr, loopback(n)).await;
                p.send(&format!("LOGIN:alice:wrong-{n}-{i}")).await;
                p
            }));
        }
    }
    let mut guessers: Vec<Peer> = futures_join(guessers).await;
    // Each address's first 5 guesses are answered at once; later ones from that address are delayed,
    // and are left waiting: they must not hold up the owner.
    let mut answered = 0;
    for chunk in guessers.chunks_mut(10) {
        for p in chunk.iter_mut().take(5) {
            let reply = p.recv().await;
            assert!(reply.starts_with("LOGIN:false:"), "{reply}");
            answered += 1;
        }
    }
    assert_eq!(answered, 30);

    let started = Instant::now();
    let mut owner = Peer::connect_from(server.addr, loopback(20)).await;
    owner.send("LOGIN:alice:password").await;
    let reply = owner.recv().await;
    assert!(reply.starts_with("LOGIN:true:"), "{reply}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the owner waited {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let mut device = Peer::connect_from(server.addr, loopback(2)).await;
    device.send(&format!("RESUME:alice:{token}")).await;
    let reply = device.recv().await;
    assert!(reply.starts_with("LOGIN:true:"), "{reply}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

/// Item 3: an address that keeps guessing is blocked, but a known device behind the same address (its
/// session token) still logs in.
#[tokio::test]
async fn a_known_device_is_never_throttled() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.throttle.ip_block_after = 3;
        c.throttle.account_delay_after = 100;
    })
    .await;
    let token = server.user("alice").await.token.clone().unwrap();
    let mut p = server.connect().await;
    for guess in ["123456", "qwerty", "letmein"] {
        p.send(&format!("LOGIN:alice:{guess}")).await;
        assert!(p.recv().await.starts_with("LOGIN:false:bad_credentials:"));
    }
    p.send("LOGIN:alice:password").await;
    assert!(p.recv().await.starts_with("LOGIN:false:rate_limited:"));
    p.send(&format!("RESUME:alice:{token}")).await;
    let reply = p.recv().await;
    assert!(reply.starts_with("LOGIN:true:"), "{reply}");
}

/// Item 4: attempts sent in parallel are counted before any password is hashed, so no more than the
/// limit are ever evaluated.
#[tokio::test]
async fn parallel_guesses_cannot_get_past_the_limit() {
    const LIMIT: u32 = 20;
    const N: usize = 100;
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.throttle.ip_block_after = LIMIT;
        // No delays: they would only make the test slow, the count is what matters.
        c.throttle.account_delay_after = u32::MAX;
    })
    .await;
    drop(server.user("alice").await);
    let mut tries = Vec::new();
    for i in 0..N {
        let addr = server.addr;
        tries.push(tokio::spawn(async move {
            let mut p = Peer::connect(addr).await;
            p.send(&format!("LOGIN:alice:guess-{i}")).await;
            p.recv().await
        }));
    }
    let replies: Vec<String> = futures_join(tries).await;
    let evaluated = replies
        .iter()
        .filter(|r| r.starts_with("LOGIN:false:bad_credentials:"))
        .count();
    let limited = replies
        .iter()
        .filter(|r| r.starts_with("LOGIN:false:rate_limited:"))
        .count();
    assert_eq!(evaluated + limited, N, "{replies:?}");
    assert!(
        evaluated <= LIMIT as usize,
        "{evaluated} passwords evaluated"
    );
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
