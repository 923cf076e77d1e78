//! TLS against the real server: a self-signed certificate is shown on first use, pinned when the user
//! trusts it, and a different certificate for a pinned server is refused. Chat and file transfers run over
//! TLS once trusted.

mod common;

use std::path::Path;

use common::server::TestServer;
use common::{config, wait_for, wait_stopped};
use ququ_client::{Client, Conv, Event, Events, Handle, StopReason, TransferId, TransferState};

/// A TLS server with a fresh self-signed certificate; returns it, the certificate's directory and its
/// fingerprint.
async fn tls_server() -> (TestServer, tempfile::TempDir, String) {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = ququ_server::tls::default_paths(certs.path());
    let fingerprint =
        ququ_server::tls::generate(&["localhost".into(), "127.0.0.1".into()], &cert, &key).unwrap();
    let server = TestServer::start_with(|c| {
        c.tls = Some(ququ_server::config::TlsFiles { cert, key });
    })
    .await;
    (server, certs, fingerprint)
}

fn start(server: &str, account: &str, dir: &Path, register: bool) -> (Handle, Events) {
    Client::start(config(server, account, dir).register(register).tls(true)).unwrap()
}

/// Starts a client and expects it to stop at once with `what`.
async fn stops_with(server: &str, account: &str, dir: &Path) -> StopReason {
    let (_handle, mut events) = start(server, account, dir, true);
    let seen = wait_stopped(&mut events).await;
    assert!(
        !seen.iter().any(|e| matches!(e, Event::LoggedIn { .. })),
        "must not log in: {seen:?}"
    );
    match seen.last() {
        Some(Event::Stopped(reason)) => reason.clone(),
        other => panic!("expected a stop, got {other:?}"),
    }
}

async fn logged_in(server: &str, account: &str, dir: &Path) -> (Handle, Events) {
    let (handle, mut events) = start(server, account, dir, true);
    wait_for(&mut events, "sync over TLS", |e| {
        matches!(e, Event::Synced { .. })
    })
    .await;
    (handle, events)
}

#[tokio::test]
async fn a_self_signed_server_is_pinned_on_first_use_and_a_changed_certificate_is_refused() {
    let (server, _certs, fingerprint) = tls_server().await;
    let (alice_dir, bob_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    // First contact: nothing is sent (no password, no account) until the user decides.
    let reason = stops_with(&server.addr, "alice", alice_dir.path()).await;
    assert_eq!(
        reason,
        StopReason::UnknownCertificate {
            server: server.addr.clone(),
            fingerprint: fingerprint.clone(),
        }
    );
    assert!(reason.to_string().contains(&fingerprint));

    // The user compared it and trusts it: from now on it connects without asking.
    ququ_client::tls::trust(alice_dir.path(), &server.addr, &fingerprint).unwrap();
    ququ_client::tls::trust(bob_dir.path(), &server.addr, &fingerprint).unwrap();
    let (alice, mut alice_events) = logged_in(&server.addr, "alice", alice_dir.path()).await;
    let (bob, mut bob_events) = logged_in(&server.addr, "bob", bob_dir.path()).await;

    // Chat over TLS.
    alice.add_friend("bob", "hi");
    wait_for(&mut bob_events, "request", |e| {
        matches!(e, Event::FriendRequest(_))
    })
    .await;
    bob.accept_friend("alice");
    wait_for(
        &mut alice_events,
        "friendship",
        |e| matches!(e, Event::FriendChanged(f) if f.account == "bob"),
    )
    .await;
    alice.send_text(Conv::User("bob".into()), "加密了吗？");
    wait_for(
        &mut bob_events,
        "the message",
        |e| matches!(e, Event::Message(m) if m.text == "加密了吗？"),
    )
    .await;

    // A file over TLS data connections, both ways through the server.
    let files = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let path = files.path().join("notes.bin");
    std::fs::write(&path, &bytes).unwrap();
    let up = TransferId::Upload(alice.send_file(Conv::User("bob".into()), &path));
    wait_for(
        &mut alice_events,
        "upload over TLS",
        |e| matches!(e, Event::Transfer(t) if t.id == up && t.state == TransferState::Done),
    )
    .await;
    let file = match wait_for(
        &mut bob_events,
        "file message",
        |e| matches!(e, Event::Message(m) if m.file.is_some()),
    )
    .await
    {
        Event::Message(m) => m.file.unwrap(),
        _ => unreachable!(),
    };
    let down = bob.download_file(file.file_id, Some(files.path().join("in")));
    let done = match wait_for(
        &mut bob_events,
        "download over TLS",
        |e| matches!(e, Event::Transfer(t) if t.id == down && t.state == TransferState::Done),
    )
    .await
    {
        Event::Transfer(t) => t,
        _ => unreachable!(),
    };
    assert_eq!(std::fs::read(&done.path).unwrap(), bytes);
    alice.shutdown();
    bob.shutdown();
    wait_stopped(&mut alice_events).await;
    wait_stopped(&mut bob_events).await;

    // Someone else answers at that address (here: the pin no longer matches): refused, loudly, and
    // nothing is sent.
    let other = "AB:".repeat(31) + "AB";
    ququ_client::tls::trust(alice_dir.path(), &server.addr, &other).unwrap();
    let reason = stops_with(&server.addr, "alice", alice_dir.path()).await;
    assert_eq!(
        reason,
        StopReason::CertificateChanged {
            server: server.addr.clone(),
            pinned: other,
            presented: fingerprint,
        }
    );
    assert!(reason.to_string().contains("CHANGED"));
    server.stop().await;
}

#[tokio::test]
async fn a_plain_client_gets_nowhere_on_a_tls_port_and_a_tls_client_nowhere_on_a_plain_one() {
    let (server, _certs, _) = tls_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut events) =
        Client::start(config(&server.addr, "eve", dir.path()).register(true)).unwrap();
    // The plain client's lines are not a TLS handshake: it never logs in and keeps retrying.
    let disconnected = wait_for(&mut events, "a failed attempt", |e| {
        matches!(e, Event::Disconnected { .. } | Event::LoggedIn { .. })
    })
    .await;
    assert!(
        matches!(disconnected, Event::Disconnected { .. }),
        "{disconnected:?}"
    );
    handle.shutdown();
    wait_stopped(&mut events).await;

    let plain = TestServer::start().await;
    let (handle, mut events) = start(&plain.addr, "eve", dir.path(), true);
    let failed = wait_for(&mut events, "a failed handshake", |e| {
        matches!(e, Event::Disconnected { .. } | Event::LoggedIn { .. })
    })
    .await;
    match failed {
        Event::Disconnected { reason, .. } => assert!(reason.contains("TLS"), "{reason}"),
        other => panic!("{other:?}"),
    }
    handle.shutdown();
    wait_stopped(&mut events).await;
    server.stop().await;
    plain.stop().await;
}
