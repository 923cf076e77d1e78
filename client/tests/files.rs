//! Files through the real server, in process: send, download, resume after broken data connections and a
//! restart, offline recipients, refusals.

mod common;

use std::path::{Path, PathBuf};

use common::server::{DataProxy, TestServer, Trap, User, befriend, content};
use common::{config, wait_for, wait_stopped};
use ququ_client::{Client, Event, FileInfo, Transfer, TransferId, TransferState};

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Waits for the transfer `id` to reach a state `pred` accepts; returns the transfer.
async fn transfer_reaching(
    user: &mut User,
    id: &TransferId,
    what: &str,
    pred: impl Fn(&TransferState) -> bool,
) -> Transfer {
    match user
        .wait(
            what,
            |e| matches!(e, Event::Transfer(t) if t.id == *id && pred(&t.state)),
        )
        .await
    {
        Event::Transfer(t) => t,
        _ => unreachable!(),
    }
}

/// Waits for a file message from `from`; returns the file.
async fn file_from(user: &mut User, from: &str) -> FileInfo {
    let from = from.to_owned();
    match user
        .wait(
            "a file message",
            |e| matches!(e, Event::Message(m) if m.from == from && m.file.is_some()),
        )
        .await
    {
        Event::Message(m) => m.file.unwrap(),
        _ => unreachable!(),
    }
}

fn is_done(s: &TransferState) -> bool {
    *s == TransferState::Done
}

#[tokio::test]
async fn a_few_megabytes_arrive_byte_identical() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let files = tempfile::tempdir().unwrap();
    let bytes = content(3 * 1024 * 1024 + 17, 7);
    let path = write_file(files.path(), "report 2026.pdf", &bytes);

    let client_id = alice.handle.send_file(bob.conv(), &path);
    let id = TransferId::Upload(client_id);
    let sent = transfer_reaching(&mut alice, &id, "upload done", is_done).await;
    assert_eq!(sent.size, bytes.len() as u64);
    let file = file_from(&mut bob, "alice").await;
    assert_eq!(file.name, "report 2026.pdf");
    assert_eq!(file.size, bytes.len() as u64);
    assert_eq!(Some(file.file_id), sent.file_id);

    let inbox = tempfile::tempdir().unwrap();
    let down = bob
        .handle
        .download_file(file.file_id, Some(inbox.path().to_path_buf()));
    let got = transfer_reaching(&mut bob, &down, "download done", is_done).await;
    assert_eq!(got.path, inbox.path().join("report 2026.pdf"));
    assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
    alice
        .wait("downloaded by bob", |e| {
            matches!(e, Event::Transfer(t) if t.id == id && t.state == TransferState::RecipientDownloaded)
        })
        .await;

    // Again into the same directory: the first copy is kept and the second gets a number.
    bob.handle
        .download_file(file.file_id, Some(inbox.path().to_path_buf()));
    let again = transfer_reaching(&mut bob, &down, "second download", is_done).await;
    assert_eq!(again.path, inbox.path().join("report 2026 (1).pdf"));
    assert_eq!(std::fs::read(&again.path).unwrap(), bytes);
    let leftovers: Vec<_> = std::fs::read_dir(inbox.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The file is a message in both conversations, found by its name.
    let at_alice = alice.handle.store().files(bob.conv()).await.unwrap();
    assert_eq!(at_alice.len(), 1);
    assert_eq!(at_alice[0].text, "report 2026.pdf");
    assert_eq!(
        bob.handle.store().transfers().await.unwrap()[0].state,
        TransferState::Done
    );
    alice.stop().await;
    bob.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn broken_data_connections_resume_where_they_stopped() {
    let server = TestServer::start().await;
    {
        let mut alice = User::register(&server.addr, "alice").await;
        let mut bob = User::register(&server.addr, "bob").await;
        befriend(&mut alice, &mut bob).await;
        alice.stop().await;
        bob.stop().await;
    }
    // The first upload and the first download are cut after a megabyte.
    let proxy = DataProxy::start(
        server.addr.clone(),
        Some((1 << 20, Trap::Cut)),
        Some((1 << 20, Trap::Cut)),
    )
    .await;
    let mut alice = User::login(&proxy.addr, "alice").await;
    let mut bob = User::login(&proxy.addr, "bob").await;
    let files = tempfile::tempdir().unwrap();
    let bytes = content(4 * 1024 * 1024, 11);
    let path = write_file(files.path(), "photos.zip", &bytes);

    let id = TransferId::Upload(alice.handle.send_file(bob.conv(), &path));
    let mut starts = Vec::new();
    loop {
        let t = transfer_reaching(&mut alice, &id, "upload", |s| {
            matches!(
                s,
                TransferState::Uploading | TransferState::Done | TransferState::Failed { .. }
            )
        })
        .await;
        match t.state {
            TransferState::Uploading => starts.push(t.bytes),
            TransferState::Done => break,
            other => panic!("upload ended {other:?}"),
        }
    }
    assert!(starts.len() >= 2, "never interrupted: {starts:?}");
    assert!(
        starts[1..].iter().any(|&offset| offset > 0),
        "the upload started over instead of resuming: {starts:?}"
    );

    let file = file_from(&mut bob, "alice").await;
    let inbox = tempfile::tempdir().unwrap();
    let down = bob
        .handle
        .download_file(file.file_id, Some(inbox.path().join("saved.zip")));
    let mut starts = Vec::new();
    let got = loop {
        let t = transfer_reaching(&mut bob, &down, "download", |s| {
            matches!(
                s,
                TransferState::Downloading | TransferState::Done | TransferState::Failed { .. }
            )
        })
        .await;
        match t.state {
            TransferState::Downloading => starts.push(t.bytes),
            TransferState::Done => break t,
            other => panic!("download ended {other:?}"),
        }
    };
    assert!(starts.len() >= 2, "never interrupted: {starts:?}");
    assert!(starts[1..].iter().any(|&offset| offset > 0), "{starts:?}");
    assert_eq!(got.path, inbox.path().join("saved.zip"));
    assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
    assert_eq!(proxy.trapped.load(std::sync::atomic::Ordering::SeqCst), 2);
    alice.stop().await;
    bob.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn an_upload_resumes_after_the_app_restarts_and_an_offline_friend_gets_it() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let bob_dir = bob.stop().await;
    alice.stop().await;

    // The server gets 1.5 MB of the upload; the rest vanishes, and alice quits while waiting for an answer.
    let proxy = DataProxy::start(server.addr.clone(), Some((3 << 19, Trap::Swallow)), None).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&proxy.addr, "alice", dir.path());
    let (handle, mut events) = Client::start(cfg.clone()).unwrap();
    let files = tempfile::tempdir().unwrap();
    let bytes = content(5 * 1024 * 1024 + 3, 3);
    let path = write_file(files.path(), "video.mp4", &bytes);
    let id = TransferId::Upload(handle.send_file(ququ_client::Conv::User("bob".into()), &path));
    let total = bytes.len() as u64;
    wait_for(&mut events, "every byte written", |e| {
        matches!(e, Event::TransferProgress { id: i, bytes, .. } if *i == id && *bytes == total)
    })
    .await;
    handle.shutdown();
    wait_stopped(&mut events).await;
    drop(handle);

    let (handle, mut events) = Client::start(cfg).unwrap();
    let resumed = wait_for(
        &mut events,
        "the upload resumed",
        |e| matches!(e, Event::Transfer(t) if t.id == id && t.state == TransferState::Uploading),
    )
    .await;
    assert!(
        matches!(&resumed, Event::Transfer(t) if t.bytes == 3 << 19),
        "{resumed:?}"
    );
    wait_for(
        &mut events,
        "upload done",
        |e| matches!(e, Event::Transfer(t) if t.id == id && t.state == TransferState::Done),
    )
    .await;

    // Bob was offline all along: the file reaches him by sync.
    let (bob_handle, bob_events) =
        Client::start(config(&server.addr, "bob", bob_dir.path())).unwrap();
    let mut bob = User {
        name: "bob".into(),
        handle: bob_handle,
        events: bob_events,
        dir: bob_dir,
    };
    let file = file_from(&mut bob, "alice").await;
    let inbox = tempfile::tempdir().unwrap();
    let down = bob
        .handle
        .download_file(file.file_id, Some(inbox.path().to_path_buf()));
    let got = transfer_reaching(&mut bob, &down, "download done", is_done).await;
    assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
    handle.shutdown();
    wait_stopped(&mut events).await;
    bob.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn a_file_the_server_refuses_fails_with_the_reason() {
    let server = TestServer::start_with(|c| c.limits.file = 1000).await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let files = tempfile::tempdir().unwrap();
    let path = write_file(files.path(), "big.bin", &content(5000, 1));
    let id = TransferId::Upload(alice.handle.send_file(bob.conv(), &path));
    let failed = transfer_reaching(&mut alice, &id, "refusal", |s| {
        matches!(s, TransferState::Failed { .. })
    })
    .await;
    assert!(
        matches!(&failed.state, TransferState::Failed { reason } if reason.contains("too_large")),
        "{failed:?}"
    );

    // A file that does not exist fails too, with the reason.
    let id = TransferId::Upload(
        alice
            .handle
            .send_file(bob.conv(), files.path().join("missing.txt")),
    );
    let failed = transfer_reaching(&mut alice, &id, "missing file", |s| {
        matches!(s, TransferState::Failed { .. })
    })
    .await;
    assert!(
        matches!(&failed.state, TransferState::Failed { reason } if reason.contains("missing.txt")),
        "{failed:?}"
    );
    alice.stop().await;
    bob.stop().await;
    server.stop().await;
}
