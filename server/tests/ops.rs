//! The operator's commands under real conditions: `backup` while a client writes steadily, `restore`
//! beside a running server and the message ids after it, and the connection table under connection churn.
//! Each test runs the real `ququ-server` binary.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use common::{Peer, listening_addr};
use ququ_server::storage::{AccountStore, MessageStore};

/// A `ququ-server` process on a free port over `dir`, with the config file `toml`.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(dir: &Path, toml: &str) -> Server {
        let config = dir.with_extension("toml");
        std::fs::write(&config, toml).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = listening_addr(child.stdout.take().unwrap());
        Server { child, addr }
    }

    /// SIGTERM, and a clean exit.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ququ-server <args> --data-dir DIR`, waited for at most `bound`.
fn admin(dir: &Path, args: &[&str], bound: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > bound {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{args:?} did not finish in {bound:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Registers `a` and `b` (password `password`), makes them friends, and returns `a` logged in; `b` is
/// left offline, so what `a` sends it is only stored.
async fn friends(addr: SocketAddr, a: &str, b: &str) -> Peer {
    let mut pa = Peer::connect(addr).await;
    pa.send(&format!("RESIGER:{a}:password")).await;
    pa.expect(&format!("RESIGER:true:{a}")).await;
    pa.login(a).await;
    let mut pb = Peer::connect(addr).await;
    pb.send(&format!("RESIGER:{b}:password")).await;
    pb.expect(&format!("RESIGER:true:{b}")).await;
    pb.login(b).await;
    pa.send(&format!("ADD_FRIEND:{b}:hi")).await;
    pa.until(&format!("REQUEST_SENT:{b}")).await;
    pb.until(&format!("FRIEND_REQUEST:{a}:")).await;
    pb.send(&format!("ACCEPT_FRIEND:{a}")).await;
    pa.until(&format!("FRIEND:{b}:")).await;
    pb.send("LOGOUT").await;
    pb.until_closed().await;
    pa
}

/// Sends `n` messages from `a` to `to`, pipelined in rounds, each `size` bytes of text; returns the
/// message ids the server acknowledged.
async fn fill(a: &mut Peer, to: &str, prefix: &str, n: usize, size: usize) -> Vec<u64> {
    let text = "x".repeat(size);
    let mut ids = Vec::new();
    for round in (0..n).collect::<Vec<_>>().chunks(500) {
        for i in round {
            a.send(&format!("MSG:{to}:{prefix}{i}:{text}")).await;
        }
        for _ in round {
            ids.push(ack_id(&a.until("ACK:").await));
        }
    }
    ids
}

/// The message id of `ACK:<client_id>:<id>:<time>`.
fn ack_id(line: &str) -> u64 {
    line.split(':').nth(2).unwrap().parse().unwrap()
}

/// A client sending one message every `every` to `to` on its own connection, logged in as `account`,
/// until stopped; it records each acknowledged client id with when its `ACK:` arrived.
struct SteadyWriter {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<(String, Instant)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SteadyWriter {
    async fn start(addr: SocketAddr, account: &str, to: &str, every: Duration) -> SteadyWriter {
        let mut login = Peer::connect(addr).await;
        login.login(account).await;
        let mut peer = login;
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let (s, a, to) = (stop.clone(), acked.clone(), to.to_owned());
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            let mut sent = 0usize;
            let mut answered = 0usize;
            let text = "y".repeat(200);
            loop {
                tokio::select! {
                    _ = tick.tick(), if !s.load(Ordering::Relaxed) => {
                        peer.send(&format!("MSG:{to}:steady{sent}:{text}")).await;
                        sent += 1;
                    }
                    line = peer.recv() => {
                        if let Some(rest) = line.strip_prefix("ACK:") {
                            let id = rest.split(':').next().unwrap().to_owned();
                            a.lock().await.push((id, Instant::now()));
                            answered += 1;
                        } else {
                            panic!("unexpected line: {line}");
                        }
                    }
                }
                if s.load(Ordering::Relaxed) && answered == sent {
                    break;
                }
            }
        });
        SteadyWriter { stop, acked, task }
    }

    /// Client ids acknowledged before `t`.
    async fn acked_before(&self, t: Instant) -> HashSet<String> {
        self.acked
            .lock()
            .await
            .iter()
            .filter(|(_, at)| *at < t)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Stops sending, waits for the answers still due, and returns how many were acknowledged.
    async fn finish(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the writer's last answers did not come")
            .unwrap();
        self.acked.lock().await.len()
    }
}

/// The client ids of every message stored for `account` in the database at `db`.
fn stored_client_ids(db: &Path, account: &str) -> HashSet<String> {
    let store = ququ_server::SqliteStore::open(db, ququ_server::Durability::Normal).unwrap();
    let user = store.user_by_account(account).unwrap().unwrap();
    store
        .messages_after(user.id, 0, u32::MAX)
        .unwrap()
        .into_iter()
        .map(|m| m.client_id)
        .collect()
}

/// What is left in `dir` besides `keep`.
fn others_in(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

const NO_RATE: &str = "[limits]\nrate = 0\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_steady_writes_finishes_and_holds_everything_acknowledged_before_it() {
    let _alone = LOADED.lock().await;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let server = Server::start(&dir, NO_RATE);
    let mut alice = friends(server.addr, "alice", "bob").await;
    // A database of about 14 MB: 40,000 messages of 200 bytes.
    fill(&mut alice, "bob", "fill", 40_000, 200).await;

    // 200 messages a second for the whole backup, from a second session of alice's.
    let writer = SteadyWriter::start(server.addr, "alice", "bob", Duration::from_millis(5)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let backups = root.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let dest = backups.join("ququ-backup.db");
    let started = Instant::now();
    let d = dir.clone();
    let dest_arg = dest.to_str().unwrap().to_owned();
    let said = tokio::task::spawn_blocking(move || {
        admin(&d, &["backup", &dest_arg], Duration::from_secs(30))
    })
    .await
    .unwrap();
    let took = started.elapsed();
    let size = std::fs::metadata(&dest).map_or(0, |m| m.len());
    assert!(size > 8 << 20, "a backup of only {size} bytes");
    let acked_before = writer.acked_before(started).await;
    assert!(
        ok(&said).starts_with("backed up"),
        "{}",
        String::from_utf8_lossy(&said.stdout)
    );

    // A backup killed half-way (here as soon as it starts writing) leaves nothing that stops the next.
    let killed = backups.join("killed.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["backup", killed.to_str().unwrap(), "--data-dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let partial = backups.join("killed.db.partial");
    let k = killed.clone();
    tokio::task::spawn_blocking(move || {
        let watch = Instant::now();
        while !partial.exists() && !k.exists() && watch.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_micros(200));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    })
    .await
    .unwrap();
    let retry_started = Instant::now();
    let d = dir.clone();
    let killed_arg = killed.to_str().unwrap().to_owned();
    let retry = tokio::task::spawn_blocking(move || {
        admin(&d, &["backup", &killed_arg], Duration::from_secs(30))
    })
    .await
    .unwrap();
    let acked_before_retry = writer.acked_before(retry_started).await;
    // The writer kept writing through all of it.
    let during = writer.acked.lock().await.len() - acked_before.len();
    let total = writer.finish().await;
    assert!(during > 0 && total > 100, "{during} {total}");
    println!("backup of {size} bytes took {took:?} while {total} messages were written at 200/s");

    // The backups open, hold every message acknowledged before they started, and nothing is left
    // beside them.
    ok(&retry);
    assert_eq!(
        others_in(&backups, &["ququ-backup.db", "killed.db"]),
        Vec::<String>::new()
    );
    let copy = root.path().join("check.db");
    std::fs::copy(&dest, &copy).unwrap();
    let stored = stored_client_ids(&copy, "bob");
    assert!(stored.len() >= 40_000 + acked_before.len());
    let missing: Vec<_> = acked_before.difference(&stored).collect();
    assert!(missing.is_empty(), "missing from the backup: {missing:?}");
    let copy = root.path().join("check-retry.db");
    std::fs::copy(&killed, &copy).unwrap();
    let stored = stored_client_ids(&copy, "bob");
    let missing: Vec<_> = acked_before_retry.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "missing from the retried backup: {missing:?}"
    );
    server.stop();
}

#[tokio::test]
async fn an_interrupted_backup_leaves_nothing_that_blocks_the_next_and_a_backup_never_overwrites() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let server = Server::start(&dir, NO_RATE);
    let mut alice = friends(server.addr, "alice", "bob").await;
    fill(&mut alice, "bob", "m", 50, 10).await;
    let backups = root.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let dest = backups.join("b.db");
    // What an interrupted run can leave: a half-written database and its journal, next to the name the
    // backup was to take, and (from older versions) a journal under that name itself.
    for leftover in ["b.db-journal", "b.db.partial", "b.db.partial-journal"] {
        std::fs::write(backups.join(leftover), vec![0xA5; 4096]).unwrap();
    }
    let d = dir.clone();
    let dest_arg = dest.to_str().unwrap().to_owned();
    let first = tokio::task::spawn_blocking(move || {
        admin(&d, &["backup", &dest_arg], Duration::from_secs(30))
    })
    .await
    .unwrap();
    ok(&first);
    assert_eq!(others_in(&backups, &["b.db"]), Vec::<String>::new());
    assert_eq!(stored_client_ids(&dest, "bob").len(), 50);

    // An existing backup is never replaced: the command says so, and the file is as it was.
    let before = std::fs::read(&dest).unwrap();
    let d = dir.clone();
    let dest_arg = dest.to_str().unwrap().to_owned();
    let again = tokio::task::spawn_blocking(move || {
        admin(&d, &["backup", &dest_arg], Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(&dest).unwrap(), before);
    server.stop();
}

/// Alice's messages to bob, `n` of them, each acknowledged; returns the highest id.
async fn send_some(addr: SocketAddr, prefix: &str, n: usize) -> u64 {
    let mut alice = Peer::connect(addr).await;
    alice.login("alice").await;
    let ids = fill(&mut alice, "bob", prefix, n, 10).await;
    ids.into_iter().max().unwrap()
}

/// Held by the tests that load the machine (a steady writer, connection churn) for their whole run: each
/// measures under its own load, and run side by side on two cores the churn fell under the rate it needs
/// (497 connections a second alone, under 200 beside the backup test).
static LOADED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server over `root/data` where alice and bob are friends and alice sent bob `n` messages, backed up
/// to `root/b.db` by the operator's command: the server, its data directory and the backup.
async fn backed_up(root: &Path, prefix: &str, n: usize) -> (Server, PathBuf, PathBuf) {
    let dir = root.join("data");
    let server = Server::start(&dir, NO_RATE);
    drop(friends(server.addr, "alice", "bob").await);
    send_some(server.addr, prefix, n).await;
    let backup = root.join("b.db");
    ok(&admin_beside(&dir, &["backup", backup.to_str().unwrap()]).await);
    (server, dir, backup)
}

/// [`admin`] with a 30 s bound, on a blocking thread so the test's runtime goes on serving meanwhile.
async fn admin_beside(dir: &Path, args: &[&str]) -> Output {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        admin(&dir, &args, Duration::from_secs(30))
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn restore_and_a_second_server_are_refused_while_a_server_runs_on_the_data_dir() {
    let root = tempfile::tempdir().unwrap();
    let (server, dir, backup) = backed_up(root.path(), "before", 5).await;
    send_some(server.addr, "after", 5).await;

    // A restore under the running server is refused, in words, and the server's data stays as it was.
    let restore = admin_beside(&dir, &["restore", backup.to_str().unwrap()]).await;
    let err = String::from_utf8_lossy(&restore.stderr);
    assert!(!restore.status.success(), "restored under a live server");
    assert!(err.contains("in use by a running ququ-server"), "{err}");

    // So is a second server on the same data directory.
    let second = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!second.status.success(), "a second server started");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("in use by a running ququ-server"), "{err}");

    // The first one still serves, and everything written after the backup is still there after it stops.
    send_some(server.addr, "later", 1).await;
    server.stop();
    let stored = stored_client_ids(&dir.join("ququ.db"), "bob");
    assert!(
        stored.contains("after4") && stored.contains("later0"),
        "{stored:?}"
    );
}

#[tokio::test]
async fn message_ids_after_a_restore_go_on_past_every_id_given_out_before_it() {
    let root = tempfile::tempdir().unwrap();
    let (server, dir, backup) = backed_up(root.path(), "old", 10).await;
    // Bob's client saw everything up to here: its sync cursor is the highest id given out.
    let cursor = send_some(server.addr, "lost", 10).await;
    // Killed, not stopped: the last ids may be only in the write-ahead log, which restore must read too.
    drop(server);

    let said = ok(&admin_beside(&dir, &["restore", backup.to_str().unwrap()]).await);
    assert!(said.contains("restored"), "{said}");
    assert!(said.contains(&format!("start after {cursor}")), "{said}");
    let mut left = others_in(
        &dir,
        &[
            "ququ.db",
            "ququ.db.connections",
            "ququ-server.lock",
            "reserve",
        ],
    );
    left.retain(|n| !n.starts_with("ququ.db.connections-"));
    assert_eq!(left, Vec::<String>::new(), "left in the data directory");

    let server = Server::start(&dir, NO_RATE);
    let mut alice = Peer::connect(server.addr).await;
    alice.login("alice").await;
    for i in 0..5 {
        alice.send(&format!("MSG:bob:new{i}:hello")).await;
        let id = ack_id(&alice.until("ACK:").await);
        assert!(id > cursor, "new message got id {id}, not above {cursor}");
    }
    let mut bob = Peer::connect(server.addr).await;
    bob.login("bob").await;
    bob.send(&format!("SYNC:{cursor}:500")).await;
    let synced = bob.collect_until("SYNC_END:").await;
    let new: Vec<_> = synced
        .iter()
        .filter(|l| l.starts_with("MSG:") && l.contains(":new"))
        .collect();
    assert_eq!(new.len(), 5, "{synced:?}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_churn_does_not_hold_up_messages_with_full_durability_and_online_still_lists() {
    let _alone = LOADED.lock().await;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let server = Server::start(&dir, "durability = \"full\"\n[limits]\nrate = 0\n");
    let addr = server.addr;
    let mut alice = friends(addr, "alice", "bob").await;

    // Connect and close as fast as 40 clients can, from 5 addresses (each under the per-address limit).
    let stop = Arc::new(AtomicBool::new(false));
    let mut churners = Vec::new();
    for i in 0..40u8 {
        let stop = stop.clone();
        churners.push(tokio::spawn(async move {
            let from = std::net::Ipv4Addr::new(127, 0, 0, 2 + i % 5);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind((from, 0).into()).unwrap();
                if let Ok(s) = socket.connect(addr).await {
                    drop(s);
                    n += 1;
                }
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Meanwhile alice sends a message every 50 ms and times each one's ACK.
    let mut round_trips = Vec::new();
    let probing = Instant::now();
    let mut i = 0;
    while probing.elapsed() < Duration::from_secs(6) {
        let sent = Instant::now();
        alice.send(&format!("MSG:bob:probe{i}:hello")).await;
        alice.until("ACK:").await;
        round_trips.push(sent.elapsed());
        i += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The operator still sees who is online, from another process, during the churn.
    let d = dir.clone();
    let online =
        ok(
            &tokio::task::spawn_blocking(move || admin(&d, &["online"], Duration::from_secs(30)))
                .await
                .unwrap(),
        );
    let users = ok(&tokio::task::spawn_blocking({
        let d = dir.clone();
        move || admin(&d, &["users"], Duration::from_secs(30))
    })
    .await
    .unwrap());
    stop.store(true, Ordering::Relaxed);
    let mut connects = 0;
    for c in churners {
        connects += c.await.unwrap();
    }
    let seconds = probing.elapsed().as_secs_f64() + 0.5;

    round_trips.sort();
    let p99 = round_trips[round_trips.len() * 99 / 100];
    let max = *round_trips.last().unwrap();
    println!(
        "{connects} connections in {seconds:.1} s ({:.0}/s); {} ACKs: p50 {:?}, p99 {p99:?}, max {max:?}",
        connects as f64 / seconds,
        round_trips.len(),
        round_trips[round_trips.len() / 2]
    );
    assert!(
        connects as f64 / seconds > 200.0,
        "too little churn to test"
    );
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?}");
    assert!(online.lines().any(|l| l.starts_with("alice ")), "{online}");
    assert!(
        users
            .lines()
            .any(|l| l.starts_with("alice ") && l.contains("online (1 connection)")),
        "{users}"
    );
    server.stop();
}
