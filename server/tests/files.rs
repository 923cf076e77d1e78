//! Files relayed through the server (`FileTran:`): offer, upload on a data connection, download, resume.

mod common;

use common::TestServer;
use common::transfer::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::test]
async fn a_100_mb_file_arrives_byte_identical() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let data = content(100 << 20, 7);
    let digest = sha(&data);
    alice
        .send(&format!(
            "FileTran:user:bob:f1:{}:{digest}:holiday video.mp4",
            data.len()
        ))
        .await;
    let (id, token, offset) = upload_grant(&alice.recv().await);
    assert_eq!(offset, 0);
    assert_eq!(
        put(server.addr, &token, 0, &data).await,
        format!("FILE_STATE:{id}:uploaded")
    );
    assert!(alice.until("ACK:f1:").await.starts_with("ACK:f1:"));
    let offer = bob.until("FileTran:").await;
    assert!(
        offer.ends_with(&format!(
            ":f1:{id}:{}:{digest}:holiday video.mp4",
            data.len()
        )),
        "{offer}"
    );
    assert!(offer.contains(":alice:user:bob:"), "{offer}");

    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    let token = download_token(&bob.recv().await);
    let got = get(server.addr, &token, 0).await;
    assert_eq!(got.len(), data.len());
    assert!(got == data, "downloaded bytes differ");
    alice.until(&format!("FILE_STATE:{id}:downloaded")).await;

    // The server keeps it by content, not under the sender's name.
    let mut names: Vec<String> = std::fs::read_dir(server.dir.path().join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [digest, "partial".to_owned()]);
}

#[tokio::test]
async fn an_upload_cut_at_half_resumes_without_resending_the_first_half() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let data = content(8 << 20, 11);
    let half = data.len() / 2;
    alice
        .send(&format!(
            "FileTran:user:bob:f2:{}:{}:report.pdf",
            data.len(),
            sha(&data)
        ))
        .await;
    let (id, token, _) = upload_grant(&alice.recv().await);

    // The first half goes out on a data connection that then stays open, stalled…
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(format!("FILE_PUT:{token}:0\n").as_bytes())
        .await
        .unwrap();
    conn.write_all(&data[..half]).await.unwrap();
    conn.flush().await.unwrap();
    // …and chat carries on meanwhile.
    alice.send("MSG:bob:c1:sending you the report").await;
    alice.until("ACK:c1:").await;
    assert!(
        bob.until("MSG:")
            .await
            .ends_with(":c1:sending you the report")
    );
    // Then the connection drops.
    conn.shutdown().await.unwrap();
    let mut reply = String::new();
    BufReader::new(conn).read_line(&mut reply).await.unwrap();
    assert!(
        reply.starts_with(&format!(
            "ERROR:bad_request:the upload stopped at byte {half} "
        )),
        "{reply}"
    );

    // Offering again with the same client id says where to resume.
    alice
        .send(&format!(
            "FileTran:user:bob:f2:{}:{}:report.pdf",
            data.len(),
            sha(&data)
        ))
        .await;
    let (again, token, offset) = upload_grant(&alice.recv().await);
    assert_eq!((again, offset), (id, half as u64));
    // Resuming from anywhere else is refused.
    let wrong = put(server.addr, &token, 0, &[]).await;
    assert_eq!(
        wrong,
        format!(
            "ERROR:bad_request:the server has {half} bytes of this file; resume from there:{id}"
        )
    );
    alice
        .send(&format!(
            "FileTran:user:bob:f2:{}:{}:report.pdf",
            data.len(),
            sha(&data)
        ))
        .await;
    let (_, token, _) = upload_grant(&alice.recv().await);
    assert_eq!(
        put(server.addr, &token, half as u64, &data[half..]).await,
        format!("FILE_STATE:{id}:uploaded")
    );

    // A download can resume too.
    bob.until("FileTran:").await;
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    let first = get(server.addr, &download_token(&bob.recv().await), 0).await;
    assert!(first == data);
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    let tail = get(server.addr, &download_token(&bob.recv().await), 1000).await;
    assert!(tail == data[1000..]);

    // Offering a finished file again just acknowledges it.
    alice
        .send(&format!(
            "FileTran:user:bob:f2:{}:{}:report.pdf",
            data.len(),
            sha(&data)
        ))
        .await;
    assert!(alice.until("ACK:f2:").await.starts_with("ACK:f2:"));
}

#[tokio::test]
async fn a_file_for_an_offline_friend_is_downloaded_after_they_log_in() {
    let server = TestServer::start().await;
    let (mut alice, bob) = server.friends("alice", "bob").await;
    drop(bob);
    alice.until("CONNECT_CLIENT:bob:offline").await;
    let data = content(300_000, 3);
    alice
        .send(&format!(
            "FileTran:user:bob:f3:{}:{}:照片.jpg",
            data.len(),
            sha(&data)
        ))
        .await;
    let (id, token, _) = upload_grant(&alice.recv().await);
    put(server.addr, &token, 0, &data).await;

    let mut bob = server.connect().await;
    bob.login("bob").await;
    bob.send("SYNC:0:100").await;
    let lines = bob.collect_until("SYNC_END:").await;
    assert!(
        lines[0].starts_with("FileTran:") && lines[0].ends_with(":照片.jpg"),
        "{lines:?}"
    );
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(get(server.addr, &download_token(&bob.recv().await), 0).await == data);
}

#[tokio::test]
async fn bad_offers_and_strangers_are_refused() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.file = 1000;
        c.file_quota = 1500;
    })
    .await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let mut carol = server.user("carol").await;
    let small = content(1000, 5);
    let digest = sha(&small);

    for name in ["../../../etc/passwd", "a/b.txt", "C:\\\\x.txt"] {
        alice
            .send(&format!("FileTran:user:bob:p1:10:{digest}:{name}"))
            .await;
        let reply = alice.recv().await;
        assert!(
            reply.starts_with("ERROR:bad_request:a file name") && reply.ends_with(":p1"),
            "{name}: {reply}"
        );
    }
    alice
        .send(&format!("FileTran:user:bob:big:1001:{digest}:big.bin"))
        .await;
    assert!(alice.recv().await.starts_with("ERROR:too_large:"));
    alice
        .send(&format!("FileTran:user:carol:s1:10:{digest}:x.bin"))
        .await;
    assert!(alice.recv().await.starts_with("ERROR:not_friends:"));

    alice
        .send(&format!("FileTran:user:bob:q1:1000:{digest}:one.bin"))
        .await;
    let (id, token, _) = upload_grant(&alice.recv().await);
    alice
        .send(&format!("FileTran:user:bob:q2:1000:{digest}:two.bin"))
        .await;
    assert!(alice.recv().await.starts_with("ERROR:quota_exceeded:"));

    // Wrong bytes are caught by the checksum; nothing is delivered.
    let wrong = put(server.addr, &token, 0, &content(1000, 6)).await;
    assert!(wrong.contains("SHA-256 does not match"), "{wrong}");
    alice
        .send(&format!("FileTran:user:bob:q1:1000:{digest}:one.bin"))
        .await;
    let (_, token, offset) = upload_grant(&alice.recv().await);
    assert_eq!(offset, 0, "a failed checksum starts over");
    assert_eq!(
        put(server.addr, &token, 0, &small).await,
        format!("FILE_STATE:{id}:uploaded")
    );
    // A token works once.
    assert!(
        put(server.addr, &token, 0, &small)
            .await
            .starts_with("ERROR:bad_token:")
    );

    carol.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(carol.recv().await.starts_with("ERROR:forbidden:"));
    carol.send(&format!("FILE_ACCEPT:{}", id + 100)).await;
    assert!(carol.recv().await.starts_with("ERROR:no_such_file:"));
    assert!(
        try_get(server.addr, "forged", 0)
            .await
            .unwrap_err()
            .starts_with("ERROR:bad_token:")
    );

    bob.until("FileTran:").await;
    bob.send(&format!("FILE_REJECT:{id}")).await;
    alice.until(&format!("FILE_STATE:{id}:rejected")).await;
    alice.send(&format!("FILE_CANCEL:{id}")).await;
    alice.expect(&format!("FILE_STATE:{id}:cancelled")).await;
    bob.until(&format!("FILE_STATE:{id}:cancelled")).await;
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(bob.recv().await.starts_with("ERROR:no_such_file:"));
    // Withdrawn files no longer count against the quota, and their bytes are gone.
    alice
        .send(&format!("FileTran:user:bob:q3:1000:{digest}:three.bin"))
        .await;
    assert!(alice.recv().await.starts_with("FILE_UPLOAD:"));
    assert!(!server.dir.path().join("files").join(&digest).exists());
}

#[tokio::test]
async fn a_group_file_reaches_members_only() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let mut carol = server.user("carol").await;
    let gid = alice.create_group("team").await;
    alice.send(&format!("GROUP_INVITE:{gid}:bob")).await;
    bob.until("GROUP_INFO:").await;
    let data = content(50_000, 9);
    alice
        .send(&format!(
            "FileTran:group:{gid}:g1:{}:{}:plan.xlsx",
            data.len(),
            sha(&data)
        ))
        .await;
    let (id, token, _) = upload_grant(&alice.until("FILE_UPLOAD:").await);
    put(server.addr, &token, 0, &data).await;
    let offer = bob.until("FileTran:").await;
    assert!(offer.contains(&format!(":alice:group:{gid}:")), "{offer}");
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(get(server.addr, &download_token(&bob.recv().await), 0).await == data);
    carol.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(carol.recv().await.starts_with("ERROR:forbidden:"));
}

#[tokio::test]
async fn a_file_past_its_lifetime_is_removed_and_everyone_is_told() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.file_lifetime = std::time::Duration::from_secs(2);
        c.file_sweep_every = std::time::Duration::from_millis(100);
    })
    .await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let data = content(10_000, 4);
    let digest = sha(&data);
    alice
        .send(&format!(
            "FileTran:user:bob:e1:{}:{digest}:old.txt",
            data.len()
        ))
        .await;
    let (id, token, _) = upload_grant(&alice.recv().await);
    put(server.addr, &token, 0, &data).await;
    bob.until("FileTran:").await;
    assert!(server.dir.path().join("files").join(&digest).exists());

    alice.until(&format!("FILE_STATE:{id}:expired")).await;
    bob.until(&format!("FILE_STATE:{id}:expired")).await;
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(bob.recv().await.starts_with("ERROR:no_such_file:"));
    assert!(!server.dir.path().join("files").join(&digest).exists());
}

#[tokio::test]
async fn a_resumed_upload_takes_over_from_a_connection_that_is_still_open() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let data = content(3 << 20, 11);
    let half = data.len() / 2;
    alice
        .send(&format!(
            "FileTran:user:bob:t1:{}:{}:slides.pdf",
            data.len(),
            sha(&data)
        ))
        .await;
    let (id, token, _) = upload_grant(&alice.recv().await);

    // The first data connection sends half, then goes quiet without closing (a link that died silently).
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first
        .write_all(format!("FILE_PUT:{token}:0\n").as_bytes())
        .await
        .unwrap();
    first.write_all(&data[..half]).await.unwrap();
    first.flush().await.unwrap();
    // The client reconnects and offers again; the server says how far it got.
    let mut offset = 0;
    for _ in 0..100 {
        alice
            .send(&format!(
                "FileTran:user:bob:t1:{}:{}:slides.pdf",
                data.len(),
                sha(&data)
            ))
            .await;
        let (again, token2, at) = upload_grant(&alice.until("FILE_UPLOAD:").await);
        assert_eq!(again, id);
        if at as usize == half {
            offset = at;
            // The new connection takes over; the old one is stopped before it can write again.
            // The old connection, not knowing, sends its next bytes (the right ones, as a real client
            // would) just as the new one starts: one of the two writes them, never both.
            let (reply, late) = tokio::join!(
                put(server.addr, &token2, at, &data[half..]),
                first.write_all(&data[half..half + 4096])
            );
            if reply != format!("FILE_STATE:{id}:uploaded") {
                // The old bytes got in first: the server says where it stands, and the client resumes there.
                assert!(reply.contains("resume from there"), "{reply} ({late:?})");
                alice
                    .send(&format!(
                        "FileTran:user:bob:t1:{}:{}:slides.pdf",
                        data.len(),
                        sha(&data)
                    ))
                    .await;
                let (_, token3, at) = upload_grant(&alice.until("FILE_UPLOAD:").await);
                assert_eq!(at as usize, half + 4096);
                let reply = put(server.addr, &token3, at, &data[at as usize..]).await;
                assert_eq!(reply, format!("FILE_STATE:{id}:uploaded"));
            }
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(offset as usize, half, "the server never had the first half");
    let mut told = String::new();
    let _ = BufReader::new(first).read_line(&mut told).await;
    assert!(told.contains("took over"), "{told}");

    alice.until("ACK:t1:").await;
    bob.until("FileTran:").await;
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    let token = download_token(&bob.until("FILE_DOWNLOAD:").await);
    assert!(
        get(server.addr, &token, 0).await == data,
        "the stored file is intact"
    );
}

/// Issue 20, item 1, as it was found: a fresh account joined the group by its number and downloaded a
/// file offered there before. Now the join is refused, and a newcomer (let in later) still cannot
/// download what was offered before they joined, but can what comes after.
#[tokio::test]
async fn a_newcomer_cannot_download_files_offered_before_they_joined() {
    let server = TestServer::start().await;
    let mut alice = server.user("alice").await;
    let mut mallory = server.user("mallory").await;
    let gid = alice.create_group("team").await;
    let data = content(20_000, 5);
    alice
        .send(&format!(
            "FileTran:group:{gid}:f1:{}:{}:salaries.xlsx",
            data.len(),
            sha(&data)
        ))
        .await;
    let (id, token, _) = upload_grant(&alice.until("FILE_UPLOAD:").await);
    put(server.addr, &token, 0, &data).await;
    alice.until("ACK:f1:").await;

    mallory.send(&format!("GROUP_JOIN:{gid}")).await;
    let refused = mallory.recv().await;
    assert!(refused.starts_with("ERROR:invite_only:"), "{refused}");
    mallory.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(mallory.recv().await.starts_with("ERROR:forbidden:"));

    alice.open_group(&gid).await;
    mallory.send(&format!("GROUP_JOIN:{gid}")).await;
    mallory.until(&format!("GROUP_INFO:{gid}:")).await;
    mallory.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(mallory.recv().await.starts_with("ERROR:forbidden:"));

    let later = content(1_000, 6);
    alice
        .send(&format!(
            "FileTran:group:{gid}:f2:{}:{}:agenda.txt",
            later.len(),
            sha(&later)
        ))
        .await;
    let (id2, token, _) = upload_grant(&alice.until("FILE_UPLOAD:").await);
    put(server.addr, &token, 0, &later).await;
    mallory.until("FileTran:").await;
    mallory.send(&format!("FILE_ACCEPT:{id2}")).await;
    assert!(get(server.addr, &download_token(&mallory.recv().await), 0).await == later);
}

/// Issue 24: a file message can be recalled like a text. Its offer leaves sync, a download is refused,
/// and its bytes are deleted from the server's disk.
#[tokio::test]
async fn a_recalled_file_is_withdrawn_and_its_bytes_deleted() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let data = content(20_000, 5);
    let digest = sha(&data);
    alice
        .send(&format!(
            "FileTran:user:bob:r1:{}:{digest}:wrong.pdf",
            data.len()
        ))
        .await;
    let (file, token, _) = upload_grant(&alice.recv().await);
    put(server.addr, &token, 0, &data).await;
    let offer = bob.until("FileTran:").await;
    let id = offer.split(':').nth(1).unwrap().to_owned();
    assert!(server.dir.path().join("files").join(&digest).exists());

    alice.send(&format!("RECALL:{id}")).await;
    bob.until(&format!("FILE_STATE:{file}:cancelled")).await;
    let told = bob.until("MSG:").await;
    assert!(
        told.ends_with("alice 撤回了一条消息 (recalled a message)"),
        "{told}"
    );
    bob.send(&format!("FILE_ACCEPT:{file}")).await;
    assert!(bob.recv().await.starts_with("ERROR:no_such_file:"));
    assert!(!server.dir.path().join("files").join(&digest).exists());
    bob.send("SYNC:0:100").await;
    let page = bob.collect_until("SYNC_END:").await;
    assert!(page.iter().all(|l| !l.contains("wrong.pdf")), "{page:?}");
}

/// A file from someone the recipient blocks (拉黑) is taken as ever — uploaded, acknowledged, shown on
/// the sender's other session — and never offered to the recipient, live or by sync, nor theirs to fetch.
#[tokio::test]
async fn a_file_from_a_blocked_friend_is_uploaded_but_never_offered() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    bob.send("BLOCK:alice").await;
    bob.until("BLOCKED:alice:").await;
    let data = content(10_000, 9);
    alice
        .send(&format!(
            "FileTran:user:bob:f9:{}:{}:note.txt",
            data.len(),
            sha(&data)
        ))
        .await;
    let (id, token, _) = upload_grant(&alice.recv().await);
    assert!(
        put(server.addr, &token, 0, &data)
            .await
            .starts_with("FILE_STATE:")
    );
    // alice's own session sees her offer and its ACK, as with any file.
    assert!(alice.until("FileTran:").await.ends_with(":note.txt"));
    alice.until("ACK:f9:").await;
    assert_eq!(
        bob.drain(std::time::Duration::from_millis(300)).await,
        Vec::<String>::new()
    );
    bob.send("SYNC:0:100").await;
    assert_eq!(
        bob.collect_until("SYNC_END:").await.len(),
        1,
        "only SYNC_END"
    );
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    assert!(bob.recv().await.starts_with("ERROR:forbidden:"));
}
