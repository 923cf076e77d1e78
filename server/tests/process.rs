//! The `ququ-server` binary as an operator runs it, and the connection-info table it keeps.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Peer, TestServer, admin};

#[tokio::test]
async fn the_connection_table_records_who_is_connected_from_where() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let mut anonymous = server.connect().await;
    // An answered ping means the server has accepted and recorded the connection.
    anonymous.send("PING:1").await;
    anonymous.expect("PONG:1").await;

    // A second handle on the live database, as an operator's tool would open it.
    let db = common::open_store(server.dir.path());
    let rows = connections(&db).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let alice_row = rows
        .iter()
        .find(|r| r.account.as_deref() == Some("alice"))
        .unwrap();
    assert_eq!(alice_row.ip, "127.0.0.1");
    assert!(alice_row.port > 0 && alice_row.since > 0);
    assert!(
        rows.iter().any(|r| r.account.is_none()),
        "not logged in yet"
    );

    drop(alice);
    drop(anonymous);
    // The rows go when the connections do.
    for _ in 0..100 {
        if connections(&db).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(connections(&db).await.is_empty());
}

/// The connection table, read on the blocking pool as the server reads it (PostgreSQL's blocking client
/// runs a runtime of its own).
async fn connections(
    db: &std::sync::Arc<dyn ququ_server::storage::Store>,
) -> Vec<ququ_server::storage::ConnectionRecord> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || db.connections().unwrap())
        .await
        .unwrap()
}

/// Starts `ququ-server` on a free port over `dir`, its stdout piped (and its stderr too, for `log`).
fn spawn_server(
    dir: &std::path::Path,
    log: bool,
) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ququ-server"));
    command
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(if log { Stdio::piped() } else { Stdio::null() });
    if log {
        command.env("RUST_LOG", "trace");
    }
    let mut child = command.spawn().unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    (child, out)
}

#[test]
fn sigterm_says_goodbye_to_clients_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut out) = spawn_server(dir.path(), false);
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("ququ-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    let mut second = String::new();
    out.read_line(&mut second).unwrap();
    assert_eq!(
        second.trim(),
        format!("database: {}", dir.path().join("ququ.db").display())
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut p = Peer::connect(addr.parse().unwrap()).await;
        p.send("RESIGER:alice:secret").await;
        p.expect("RESIGER:true:alice").await;
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let rest = p.until_closed().await;
        assert_eq!(rest.len(), 1, "{rest:?}");
        assert!(rest[0].starts_with("BYE:shutdown:"));
    });
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut tls = String::new();
    out.read_line(&mut tls).unwrap();
    assert!(tls.starts_with("TLS: off"), "{tls}");
    let mut last = String::new();
    out.read_line(&mut last).unwrap();
    assert_eq!(last.trim(), "ququ-server stopped");
}

#[test]
fn a_server_whose_stdout_was_closed_still_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut out) = spawn_server(dir.path(), false);
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("ququ-server listening on "), "{first}");
    // Whoever read the server's output has gone (`ququ-server | head -1`): its last line has nowhere
    // to go, which must not turn a clean stop into a crash.
    drop(out);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_corrupt_database_is_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ququ.db");
    std::fs::write(&db, vec![0x42; 8192]).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("cannot be used"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), vec![0x42; 8192]);
}

#[test]
fn no_password_token_or_message_text_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (child, mut out) = spawn_server(dir.path(), true);
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first.trim().rsplit(' ').next().unwrap().to_owned();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = rt.block_on(async {
        let addr = addr.parse().unwrap();
        let mut a = Peer::connect(addr).await;
        a.send("RESIGER:alice:Pa55word-alice").await;
        a.expect("RESIGER:true:alice").await;
        a.send("LOGIN:alice:Pa55word-alice").await;
        let login = a.recv().await;
        let token = login.split(':').nth(5).unwrap().to_owned();
        let mut b = Peer::connect(addr).await;
        b.send("RESIGER:bob:Pa55word-bob").await;
        b.recv().await;
        b.send("LOGIN:bob:Pa55word-bob").await;
        b.until("LOGIN:true").await;
        a.send("ADD_FRIEND:bob:secret-note-text").await;
        b.until("FRIEND_REQUEST:").await;
        b.send("ACCEPT_FRIEND:alice").await;
        a.until("FRIEND:bob").await;
        a.send("MSG:bob:c1:very-private-message-text").await;
        a.until("ACK:c1:").await;
        a.send("LOGIN:alice:wrong-Pa55word").await;
        a.recv().await;
        a.send("PASSWD:Pa55word-alice:new-Pa55word").await;
        a.expect("PASSWD:true").await;
        token
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("logged in"), "the log was captured: {log}");
    for secret in [
        "Pa55word",
        token.as_str(),
        "very-private-message-text",
        "secret-note-text",
    ] {
        assert!(!log.contains(secret), "`{secret}` is in the log");
    }
}

#[cfg_attr(
    feature = "test-cluster",
    ignore = "backup and restore are SQLite's; PostgreSQL's database is backed up by pg_dump"
)]
#[tokio::test]
async fn the_operator_backs_up_restores_resets_and_disables() {
    let server = TestServer::start().await;
    let dir = server.dir.path().to_owned();
    let mut alice = server.user("alice").await;
    alice.send("PING:1").await;
    alice.expect("PONG:1").await;

    let users = admin(&dir, &["users"], "");
    assert!(
        users.contains("alice") && users.contains("online (1 connection)"),
        "{users}"
    );
    assert!(admin(&dir, &["online"], "").contains("127.0.0.1:"));
    let backup = dir.join("backup.db");
    let said = admin(&dir, &["backup", backup.to_str().unwrap()], "");
    assert!(said.starts_with("backed up"), "{said}");
    drop(server.user("bob").await);

    drop(alice);
    let dir_handle = server.stop().await;
    admin(&dir, &["restore", backup.to_str().unwrap()], "");
    let users = admin(&dir, &["users"], "");
    assert!(users.contains("alice") && !users.contains("bob"), "{users}");

    admin(&dir, &["reset-password", "alice"], "n3w-password\n");
    admin(&dir, &["disable", "alice"], "");
    assert!(admin(&dir, &["users"], "").contains("disabled"));

    let server = TestServer::start_with(dir_handle, |_| {}).await;
    let mut p = server.connect().await;
    p.send("LOGIN:alice:n3w-password").await;
    assert!(p.recv().await.starts_with("LOGIN:false:disabled:"));
    admin(&dir, &["enable", "alice"], "");
    p.send("LOGIN:alice:password").await;
    assert!(p.recv().await.starts_with("LOGIN:false:bad_credentials:"));
    p.send("LOGIN:alice:n3w-password").await;
    assert!(p.recv().await.starts_with("LOGIN:true:"));
}

#[test]
fn gen_cert_makes_a_pair_the_server_serves_tls_with_and_announces_by_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("tls");
    let made = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["gen-cert", "--out"])
        .arg(&certs)
        .args(["chat.example.com", "203.0.113.5"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let said = String::from_utf8(made.stdout).unwrap();
    let fingerprint = said
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint (SHA-256): "))
        .unwrap_or_else(|| panic!("no fingerprint in: {said}"))
        .to_owned();
    assert_eq!(fingerprint.len(), 95, "{fingerprint}");
    assert!(said.contains("chat.example.com, 203.0.113.5"), "{said}");

    // Asked again, it refuses to overwrite the key a running server may be using.
    let again = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["gen-cert", "--out"])
        .arg(&certs)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Half a TLS setup is refused at start, in words.
    let half = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--tls-cert")
        .arg(certs.join("cert.pem"))
        .output()
        .unwrap();
    assert!(!half.status.success());
    assert!(String::from_utf8_lossy(&half.stderr).contains("--tls-key"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--tls-cert")
        .arg(certs.join("cert.pem"))
        .arg("--tls-key")
        .arg(certs.join("key.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines, _) = announced(&mut child);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        lines[2],
        format!("TLS certificate fingerprint (SHA-256): {fingerprint}"),
        "{lines:?}"
    );
}

#[test]
fn a_bad_certificate_stops_the_start_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "this is not a certificate\n").unwrap();
    std::fs::write(dir.path().join("key.pem"), "nor is this a key\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(dir.path().join("key.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cert.pem"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "nothing announced: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Cluster mode's `--database` (issue 26), on a server built without it: it says how to get it and
/// stops, before it listens or touches the data directory's database.
#[cfg(not(feature = "cluster"))]
#[test]
fn database_is_refused_by_a_server_built_without_cluster_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--database", "postgres://ququ@db1/ququ"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--features cluster"), "{said}");
    assert!(!dir.path().join("ququ.db").exists());
    // The operator's commands too.
    let out = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args([
            "users",
            "--database",
            "postgres://ququ@db1/ququ",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--features cluster"));
}

/// Cluster mode's `--database` (issue 26): the binary serves from PostgreSQL, says which database (and
/// never a password), and the operator's commands see what its clients did; backup is PostgreSQL's own.
#[cfg(feature = "test-cluster")]
#[tokio::test]
async fn the_binary_serves_from_postgresql_with_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::pg_url(dir.path());
    // A server on the database, over the data directory `files`.
    let serve = |files: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_ququ-server"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(files)
            .arg("--database")
            .arg(&url)
            // Every server here is the node "chat1": the one started after the first stops takes the
            // name its clean stop freed.
            .env("QUQU_NODE_NAME", "chat1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = serve(dir.path());
    let (lines, mut out) = announced(&mut child);
    let addr: std::net::SocketAddr = lines[0]
        .strip_prefix("ququ-server listening on ")
        .unwrap_or_else(|| panic!("{lines:?}"))
        .parse()
        .unwrap();
    assert!(
        lines[1].starts_with("database: PostgreSQL postgres://postgres@/tmp/ququ-pg-")
            && lines[1].contains("/t_")
            && lines[1].ends_with(", as node chat1"),
        "{lines:?}"
    );
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    // SQLite's file is not made: the data directory keeps only relayed files.
    assert!(!dir.path().join("ququ.db").exists());

    let mut p = Peer::connect(addr).await;
    p.send("RESIGER:alice:password").await;
    p.expect("RESIGER:true:alice").await;
    p.login("alice").await;
    let users = admin(dir.path(), &["users"], "");
    assert!(
        users.contains("alice") && users.contains("online (1 connection)"),
        "{users}"
    );
    let refused = common::admin_command(dir.path(), &["backup", "/tmp/never.db"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pg_dump"));
    // A second server on the same database serves beside the first, as another node; one with the
    // first's name is refused while the first runs.
    let other = tempfile::tempdir().unwrap();
    let node = |name: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ququ-server"));
        command
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(other.path())
            .arg("--database")
            .arg(&url)
            .env("QUQU_NODE_NAME", name);
        command
    };
    let same_name = node("chat1").output().unwrap();
    assert!(!same_name.status.success());
    let said = String::from_utf8_lossy(&same_name.stderr);
    assert!(said.contains("a node named \"chat1\" is running"), "{said}");
    let mut second = node("chat2")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr2 = common::listening_addr(second.stdout.take().unwrap());
    let mut phone = Peer::connect(addr2).await;
    phone.login("alice").await;
    let online = admin(dir.path(), &["online"], "");
    assert!(
        online.contains("chat1") && online.contains("chat2"),
        "{online}"
    );
    second.kill().unwrap();
    second.wait().unwrap();

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    // Once it has stopped, the next one serves.
    let mut next = serve(other.path());
    let addr = common::listening_addr(next.stdout.take().unwrap());
    let mut p = Peer::connect(addr).await;
    p.login("alice").await;
    next.kill().unwrap();
    next.wait().unwrap();
}

/// The three lines a starting server announces (where it listens, its database, TLS), and the rest of
/// its stdout.
fn announced(
    child: &mut std::process::Child,
) -> (Vec<String>, BufReader<std::process::ChildStdout>) {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let lines = (0..3)
        .map(|_| {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            line.trim().to_owned()
        })
        .collect();
    (lines, out)
}

/// The operator's `online` on a database several nodes serve: each connection's node, once there are
/// connections on more than one (until then, the lines are as SQLite's). The two nodes are store
/// handles, as two servers' are.
#[cfg(feature = "test-cluster")]
#[test]
fn online_shows_each_connections_node_once_there_are_two() {
    use ququ_server::storage::postgres::PgStore;
    use ququ_server::storage::{AccountStore, ConnectionRecord};
    let dir = tempfile::tempdir().unwrap();
    let url = common::pg_url(dir.path());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let connect = move |node: &PgStore, conn_id: u64, port: u16| {
        node.add_connection(&ConnectionRecord {
            conn_id,
            account: None,
            ip: "10.0.0.9".into(),
            port,
            since: now,
            node: None,
        })
        .unwrap();
    };
    // On a thread of its own: the blocking client runs a runtime of its own.
    let url2 = url.clone();
    let chat1 = std::thread::spawn(move || {
        let node = PgStore::open(&url2, 2).unwrap().join("chat1", now).unwrap();
        connect(&node, 1, 5001);
        node
    })
    .join()
    .unwrap();
    let one = admin(dir.path(), &["online"], "");
    assert!(one.starts_with("account") && !one.contains("node"), "{one}");
    assert!(one.contains("10.0.0.9:5001"), "{one}");
    let chat2 = std::thread::spawn(move || {
        let node = PgStore::open(&url, 2).unwrap().join("chat2", now).unwrap();
        connect(&node, 1, 5002);
        node
    })
    .join()
    .unwrap();
    let two = admin(dir.path(), &["online"], "");
    let lines: Vec<&str> = two.lines().collect();
    assert!(lines[0].ends_with(" node"), "{two}");
    assert!(
        lines[1].contains("10.0.0.9:5001") && lines[1].ends_with(" chat1"),
        "{two}"
    );
    assert!(
        lines[2].contains("10.0.0.9:5002") && lines[2].ends_with(" chat2"),
        "{two}"
    );
    std::thread::spawn(move || drop((chat1, chat2)))
        .join()
        .unwrap();
}

/// A serving node says it is alive every second: past the silence limit its name is still refused to
/// another start (so the heartbeat runs, not only the registration), and a clean stop frees it at once.
#[cfg(feature = "test-cluster")]
#[test]
fn a_serving_node_keeps_its_name_by_its_heartbeat_and_frees_it_when_it_stops() {
    use ququ_server::storage::postgres::PgStore;
    use ququ_server::storage::{NODE_SILENCE_LIMIT, StoreError};
    let dir = tempfile::tempdir().unwrap();
    let url = common::pg_url(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--node-name",
            "chat1",
            "--data-dir",
        ])
        .arg(dir.path())
        .arg("--database")
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::listening_addr(child.stdout.take().unwrap());
    std::thread::sleep(Duration::from_millis(NODE_SILENCE_LIMIT + 2000));
    // On a thread of its own: the blocking client runs a runtime of its own.
    let join = |url: String| {
        std::thread::spawn(move || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64;
            PgStore::open(&url, 1).unwrap().join("chat1", now).map(drop)
        })
        .join()
        .unwrap()
    };
    let refused = join(url.clone());
    assert!(
        matches!(refused, Err(StoreError::NodeInUse { .. })),
        "{refused:?}"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    join(url).unwrap();
}
