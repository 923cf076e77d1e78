//! Property tests of whole sessions, on stable: random sequences of lines — raw junk and well-formed requests
//! from four accounts on up to three connections at once, with uploads and downloads — against one real
//! server over TCP on 127.0.0.1.
//!
//! The harness and its checks are the `session_lines` fuzz target's (`server/fuzz/src/lib.rs`, included
//! below), so what the fuzzer explores for minutes runs here on every `cargo test`, with every verb of the
//! protocol (the newer ones too: group roles, mutes and notices, `SEND:`, recalls, read marks, profiles,
//! blocks, friend groups, avatars): every reply parses and none is `ERROR:internal`; a connection closes
//! only for a documented reason (`LOGOUT`, an over-long line, a data connection, the password changed on
//! another connection); a message is pushed to a connection at most once; an acknowledged message is stored
//! once and is in its recipient's `SYNC:` exactly once (unless the recipient blocks the sender, or it was
//! recalled); a confirmed upload is offered to its recipient exactly once and downloads byte for byte; and a
//! fresh client is served afterwards.
//!
//! The regression tests at the end replay what the harness found.

mod common;

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod session_fuzz;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use common::TestServer;
use session_fuzz::Harness;

/// One server and harness for every case, like the fuzz target's: state carries over between cases.
struct Env {
    rt: tokio::runtime::Runtime,
    harness: Mutex<Harness>,
    _server: TestServer,
}

/// Set by a panic inside the server's own code. The server's tasks catch panics (a connection would just
/// end), so this makes one fail the case that caused it.
static SERVER_PANICKED: AtomicBool = AtomicBool::new(false);

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.location().is_some_and(|l| {
                l.file().contains("server/src/") || l.file().contains("protocol/src/")
            }) {
                SERVER_PANICKED.store(true, Ordering::SeqCst);
            }
            default(info);
        }));
        // Single-threaded, as in the fuzz target: the server runs while a case is played.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (server, harness) = rt.block_on(async {
            let server = TestServer::start_with(tempfile::tempdir().unwrap(), |config| {
                *config = session_fuzz::config(&config.data_dir.clone());
            })
            .await;
            let db = server.dir.path().join("ququ.db");
            let harness = Harness::setup(server.addr, db).await;
            (server, harness)
        });
        Env {
            rt,
            harness: Mutex::new(harness),
            _server: server,
        }
    })
}

/// Plays one input (the fuzz target's bytes) and fails if the server panicked meanwhile.
fn play(data: &[u8]) {
    let env = env();
    SERVER_PANICKED.store(false, Ordering::SeqCst);
    let mut harness = env.harness.lock().unwrap_or_else(|e| e.into_inner());
    env.rt.block_on(harness.run(data));
    assert!(
        !SERVER_PANICKED.load(Ordering::SeqCst),
        "the server panicked (see the message above)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // Each case is a few dozen round trips; a failure is worth a bounded search for a smaller one.
        max_shrink_iters: 256,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_sessions_keep_every_promise(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        play(&data);
    }
}

/// The committed fuzz corpus, replayed: the inputs that reached the most distinct behaviour.
#[test]
fn the_fuzz_corpus_keeps_every_promise() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/session_lines");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    // A bounded sample keeps `cargo test` quick; the whole corpus is for `cargo fuzz run`.
    let step = files.len().div_ceil(40).max(1);
    for path in files.iter().step_by(step) {
        play(&std::fs::read(path).unwrap());
    }
}

// ---- regressions: what the fuzzer found ----

/// Every input the fuzzer ever failed on, replayed (`server/fuzz/regressions/session_lines/`).
#[test]
fn the_fuzzers_findings_stay_fixed() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/session_lines");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the regressions directory")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        play(&std::fs::read(path).unwrap());
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Seen while writing the `session_lines` harness, and found by the fuzzer after 5,170 inputs (its check
/// that a confirmed upload is offered to its recipient exactly once; `crash-036cd18…`: the offer first, then
/// a text to someone else with the same client id, then the upload). A file offered under the client id of
/// a text message was stored as that message when its upload completed — the store's (sender, client id) check handed back the text — so the
/// file was never offered, and the old private message was pushed again, to everyone the file was for
/// (here: a group with a third person in it).
#[tokio::test]
async fn a_file_offer_reusing_a_messages_client_id_does_not_leak_or_repeat_that_message() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let mut carol = server.user("carol").await;
    let group: u64 = alice.create_group("team").await.parse().unwrap();
    alice.send("ADD_FRIEND:carol").await;
    alice.until("REQUEST_SENT:carol").await;
    carol.until("FRIEND_REQUEST:alice:").await;
    carol.send("ACCEPT_FRIEND:alice").await;
    alice.until("FRIEND:carol:").await;
    alice.send(&format!("GROUP_INVITE:{group}:carol")).await;
    carol.until(&format!("GROUP_INFO:{group}:")).await;

    // c1: the text first, then the file; c2: the offer first, then the text, then the upload.
    for (client_id, offer_first) in [("c1", false), ("c2", true)] {
        let content = format!("hello file {client_id}");
        let offer = format!(
            "FileTran:group:{group}:{client_id}:{}:{}:f.txt",
            content.len(),
            sha256_hex(content.as_bytes())
        );
        let text = format!("MSG:bob:{client_id}:for bob only");
        let mut grant = None;
        if offer_first {
            alice.send(&offer).await;
            grant = Some(alice.until("FILE_UPLOAD:").await);
        }
        alice.send(&text).await;
        let ack = alice.until(&format!("ACK:{client_id}:")).await;
        bob.until("MSG:").await;
        if !offer_first {
            alice.send(&offer).await;
            let reply = alice.recv().await;
            if reply.starts_with("FILE_UPLOAD:") {
                grant = Some(reply);
            } else {
                assert!(reply.starts_with("ERROR:"), "{reply}");
            }
        }
        if let Some(grant) = grant {
            let token = grant.split(':').nth(2).unwrap();
            let mut data = common::Peer::connect(server.addr).await;
            data.send(&format!("FILE_PUT:{token}:0")).await;
            data.send_raw(content.as_bytes()).await;
            let answer = data.until_closed().await;
            assert!(
                answer.iter().any(|l| l.starts_with("ERROR:bad_request:")),
                "{answer:?}"
            );
        }
        let leaked: Vec<String> = carol
            .drain(std::time::Duration::from_millis(500))
            .await
            .into_iter()
            .filter(|l| l.contains("for bob only"))
            .collect();
        assert!(
            leaked.is_empty(),
            "carol got alice's private message: {leaked:?}"
        );
        let again: Vec<String> = bob
            .drain(std::time::Duration::from_millis(200))
            .await
            .into_iter()
            .filter(|l| l.contains("for bob only"))
            .collect();
        assert!(
            again.is_empty(),
            "bob got the same message twice: {again:?}"
        );
        // The text message is still acknowledged as it was.
        alice.send(&text).await;
        assert_eq!(alice.until(&format!("ACK:{client_id}:")).await, ack);
    }
}
