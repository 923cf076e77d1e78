//! Accounts under attack and in the operator's hands (issue 20, items 2, 3, 4 and 15): login throttling
//! that cannot lock the owner out and cannot be raced, live sessions ended when an account is disabled or
//! its password changes, and the operator's conveniences.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use common::{Peer, TestServer, admin, listening_addr};

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
    // Each guess on a connection of its own, all at once; replies come back on `answers`. Past the
    // first 5 from one address, its guesses are delayed (up to 32 s): those are left waiting, and must
    // not hold up the owner.
    let (tx, mut answers) = tokio::sync::mpsc::unbounded_channel();
    for n in 2..8u8 {
        for i in 0..10 {
            let (addr, tx) = (server.addr, tx.clone());
            tokio::spawn(async move {
                let mut p = Peer::connect_from(addr, loopback(n)).await;
                p.send(&format!("LOGIN:alice:wrong-{n}-{i}")).await;
                let _ = tx.send(p.next_within(Duration::from_secs(60)).await);
            });
        }
    }
    for _ in 0..30 {
        let reply = tokio::time::timeout(Duration::from_secs(30), answers.recv())
            .await
            .expect("the first guesses are answered")
            .unwrap()
            .unwrap_or_default();
        assert!(reply.starts_with("LOGIN:false:"), "{reply}");
    }

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

/// What `p` gets until the server closes the connection, which must end with `BYE:<code>:`; and a
/// message sent after it is not acknowledged.
async fn ended_with(p: &mut Peer, code: &str) {
    let rest = p.until_closed().await;
    let last = rest.last().map(String::as_str).unwrap_or("");
    assert!(last.starts_with(&format!("BYE:{code}:")), "{rest:?}");
    // Whatever reaches the server now is not read, let alone acknowledged.
    p.try_send("MSG:alice:after-bye:sent after the end").await;
    assert!(p.next().await.is_none(), "the connection stays closed");
}

/// Item 2: `ququ-server disable` (another process, beside the live server) ends every session of the
/// account within a second or two; what it sends afterwards is not acknowledged or delivered.
#[tokio::test]
async fn disabling_an_account_ends_its_live_sessions() {
    let server = TestServer::start().await;
    let (mut alice, mut mallory) = server.friends("alice", "mallory").await;
    let mut mallory2 = server.connect().await;
    mallory2.login("mallory").await;
    mallory.send("MSG:alice:m1:before").await;
    mallory.until("ACK:m1:").await;
    alice.until("MSG:").await;
    mallory2.until("MSG:").await;

    admin(server.dir.path(), &["disable", "mallory"], "");
    let started = Instant::now();
    ended_with(&mut mallory, "disabled").await;
    ended_with(&mut mallory2, "disabled").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ended after {:?}",
        started.elapsed()
    );
    // Nothing mallory tried to send reached alice, who carries on.
    alice.send("PING:7").await;
    let lines = alice.collect_until("PONG:7").await;
    assert!(!lines.iter().any(|l| l.contains("after-bye")), "{lines:?}");
    assert!(lines.iter().any(|l| l == "CONNECT_CLIENT:mallory:offline") || lines.len() == 1);
    // And she cannot come back.
    let mut again = server.connect().await;
    again.send("LOGIN:mallory:password").await;
    assert!(again.recv().await.starts_with("LOGIN:false:disabled:"));
}

/// Item 2: `ququ-server reset-password` ends every session of the account; their tokens no longer
/// resume, and the new password logs in.
#[tokio::test]
async fn resetting_a_password_ends_every_live_session() {
    let server = TestServer::start().await;
    let (_alice, mut mallory) = server.friends("alice", "mallory").await;
    let mut mallory2 = server.connect().await;
    mallory2.login("mallory").await;
    let token = mallory2.token.clone().unwrap();

    admin(
        server.dir.path(),
        &["reset-password", "mallory"],
        "n3w-password\n",
    );
    ended_with(&mut mallory, "password_changed").await;
    ended_with(&mut mallory2, "password_changed").await;
    let mut again = server.connect().await;
    again.send(&format!("RESUME:mallory:{token}")).await;
    assert!(again.recv().await.starts_with("LOGIN:false:bad_token:"));
    again.send("LOGIN:mallory:n3w-password").await;
    assert!(again.recv().await.starts_with("LOGIN:true:"));
}

/// Item 2: `PASSWD:` on device A ends device B at once, but not A, which carries on.
#[tokio::test]
async fn changing_ones_password_ends_the_other_devices_but_not_this_one() {
    let server = TestServer::start().await;
    let (mut alice, mut a) = server.friends("alice", "mallory").await;
    let mut b = server.connect().await;
    b.login("mallory").await;

    a.send("PASSWD:password:n3w-password").await;
    a.expect("PASSWD:true").await;
    ended_with(&mut b, "password_changed").await;
    a.send("MSG:alice:m2:still here").await;
    a.until("ACK:m2:").await;
    alice.until("MSG:").await;
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Starts the `ququ-server` binary on a free port over `dir` with the config file `config` (TOML), its
/// stderr piped, and returns it with the address it listens on.
fn spawn_binary(
    dir: &std::path::Path,
    config: &str,
) -> (std::process::Child, std::net::SocketAddr) {
    use std::process::{Command, Stdio};
    let path = dir.join("ququ.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .arg("--config")
        .arg(&path)
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = listening_addr(child.stdout.take().unwrap());
    (child, addr)
}

/// Stops the server with SIGTERM and returns what it logged.
fn stop_binary(child: std::process::Child) -> String {
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Item 15: the log has no colour codes when stderr is not a terminal (journald, a file, this pipe).
#[tokio::test]
async fn the_log_has_no_colour_codes_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = spawn_binary(dir.path(), "");
    let mut p = Peer::connect(addr).await;
    p.send("RESIGER:alice:password").await;
    p.expect("RESIGER:true:alice").await;
    p.login("alice").await;
    drop(p);
    let log = stop_binary(child);
    assert!(log.contains("logged in"), "the log was captured: {log}");
    assert!(!log.contains("\x1b["), "escape codes in the log: {log:?}");
}

/// Item 15: the registration cap per address is set in the config file; raised, it lets a whole office
/// behind one address sign up.
#[tokio::test]
async fn a_raised_registration_cap_lets_an_office_sign_up_from_one_address() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = spawn_binary(dir.path(), "[throttle]\nregistrations_per_address = 30\n");
    let mut p = Peer::connect(addr).await;
    for i in 0..25 {
        p.send(&format!("RESIGER:staff{i}:password")).await;
        p.expect(&format!("RESIGER:true:staff{i}")).await;
    }
    stop_binary(child);
}

/// Item 15: `ququ-server add-user`, beside the live server, creates an account that logs in, with its
/// nickname; a taken name or a bad password is refused.
#[tokio::test]
async fn add_user_creates_an_account_that_logs_in() {
    let server = TestServer::start().await;
    // The server has opened (created) its database once it answers.
    let mut early = server.connect().await;
    early.send("PING:1").await;
    early.expect("PONG:1").await;
    let said = admin(
        server.dir.path(),
        &["add-user", "carol", "--nickname", "Carol C"],
        "s3cret-pass\n",
    );
    assert!(said.contains("added carol"), "{said}");
    let mut p = server.connect().await;
    p.send("LOGIN:carol:s3cret-pass").await;
    let reply = p.recv().await;
    assert!(reply.starts_with("LOGIN:true:"), "{reply}");
    assert!(reply.contains(":carol:Carol C:"), "{reply}");

    for (args, stdin) in [
        (&["add-user", "carol"][..], "an0ther-pass\n"),
        (&["add-user", "dave"][..], "short\n"),
        (&["add-user", "_bad"][..], "s3cret-pass\n"),
    ] {
        let out = common::admin_command(server.dir.path(), args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(stdin.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        assert!(!out.status.success(), "{args:?} should be refused");
    }
}
