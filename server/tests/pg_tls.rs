//! TLS to PostgreSQL (issue 26): the connection string's `sslmode` and `sslrootcert`, as libpq takes
//! them, against a real PostgreSQL that takes only TLS connections over TCP. A test binary of its own,
//! as its cluster (`testdb::tls_cluster`) differs from the other tests'.
#![cfg(feature = "test-cluster")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::Peer;
use ququ_server::storage::NodeStore;
use ququ_server::storage::postgres::PgStore;
use ququ_server::storage::postgres::testdb::{Cluster, tls_cluster};

/// A new database's connection string over TCP to `host`, with `settings`.
fn url(cluster: &Cluster, host: &str, settings: &str) -> String {
    cluster.tcp_url(&cluster.create_database(), host, settings)
}

/// Why opening a store on `url` failed.
fn refused(url: &str) -> String {
    match PgStore::open(url, 2) {
        Ok(_) => panic!("{url} was taken"),
        Err(e) => e.to_string(),
    }
}

/// How many of the connections to database `db` are inside TLS, and how many are not.
fn encrypted_and_plain(cluster: &Cluster, db: &str) -> (i64, i64) {
    let mut admin = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).unwrap();
    let row = admin
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1",
            &[&db],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn verify_full_with_the_right_ca_connects_inside_tls_and_serves_as_a_node() {
    let cluster = tls_cluster();
    let db = cluster.create_database();
    let ca = cluster.ca_file();
    let store = PgStore::open(
        &cluster.tcp_url(
            &db,
            "localhost",
            &format!("sslmode=verify-full sslrootcert={}", ca.display()),
        ),
        2,
    )
    .unwrap();
    let node = store.join("n1", 1).unwrap();
    // The sweeps' leader holds a connection of its own, made outside the pool: inside TLS too.
    assert!(node.lead().unwrap());
    let (encrypted, plain) = encrypted_and_plain(cluster, &db);
    assert!(encrypted >= 2, "{encrypted} connections inside TLS");
    assert_eq!(plain, 0);
}

#[test]
fn a_certificate_for_another_name_or_from_another_ca_is_refused() {
    let cluster = tls_cluster();
    let ca = cluster.ca_file().display().to_string();
    // The certificate names localhost, not 127.0.0.1: verify-full refuses it, verify-ca takes it.
    let e = refused(&url(
        cluster,
        "127.0.0.1",
        &format!("sslmode=verify-full sslrootcert={ca}"),
    ));
    assert!(
        e.contains("the host in the connection string is not a name in the database server's"),
        "{e}"
    );
    PgStore::open(
        &url(
            cluster,
            "127.0.0.1",
            &format!("sslmode=verify-ca sslrootcert={ca}"),
        ),
        2,
    )
    .unwrap();
    // Signed by a CA other than the one named: refused whatever the mode that checks.
    let other = cluster.other_ca_file().display().to_string();
    for mode in ["verify-full", "verify-ca", "require", "prefer"] {
        let e = refused(&url(
            cluster,
            "localhost",
            &format!("sslmode={mode} sslrootcert={other}"),
        ));
        assert!(
            e.contains("the database server's certificate is not signed by the CA in sslrootcert"),
            "{mode}: {e}"
        );
    }
}

#[test]
fn without_a_ca_tls_is_used_unchecked_and_disable_is_refused_by_a_tls_only_server() {
    let cluster = tls_cluster();
    // require, and the default (prefer), encrypt without checking the certificate, as libpq does.
    for settings in ["sslmode=require", ""] {
        let db = cluster.create_database();
        let store = PgStore::open(&cluster.tcp_url(&db, "127.0.0.1", settings), 2).unwrap();
        assert_eq!(encrypted_and_plain(cluster, &db).1, 0, "{settings}");
        drop(store);
    }
    // This server takes no plain connection over TCP, and says so.
    let e = refused(&url(cluster, "localhost", "sslmode=disable"));
    assert!(e.contains("no encryption"), "{e}");
    // A wrong password over TLS is PostgreSQL's refusal, said as it says it.
    let e = refused(&url(cluster, "localhost", "sslmode=require").replace(
        ququ_server::storage::postgres::testdb::TLS_PASSWORD,
        "wrong",
    ));
    assert!(e.contains("password authentication failed"), "{e}");
}

/// The binary, as an operator starts it: a `postgres://` URL with `sslmode=verify-full` and the CA;
/// clients register and log in; the start-up line names the database without the password.
#[tokio::test]
async fn the_binary_serves_over_verify_full() {
    // The blocking client runs a runtime of its own, which cannot start on the test's thread.
    let blocking = |f: fn() -> _| std::thread::spawn(f).join().unwrap();
    let cluster: &Cluster = blocking(tls_cluster);
    let db = std::thread::scope(|s| s.spawn(|| cluster.create_database()).join().unwrap());
    let port = cluster
        .tcp_url(&db, "localhost", "")
        .split_whitespace()
        .find_map(|s| s.strip_prefix("port="))
        .unwrap()
        .to_owned();
    let ca = cluster.ca_file().display().to_string().replace('/', "%2F");
    let url = format!(
        "postgres://postgres:{}@localhost:{port}/{db}?sslmode=verify-full&sslrootcert={ca}",
        ququ_server::storage::postgres::testdb::TLS_PASSWORD
    );
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--database", &url, "--node-name", "tls1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..2 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        lines.push(line.trim().to_owned());
    }
    let addr: std::net::SocketAddr = lines[0]
        .strip_prefix("ququ-server listening on ")
        .unwrap_or_else(|| panic!("{lines:?}"))
        .parse()
        .unwrap();
    assert_eq!(
        lines[1],
        format!("database: PostgreSQL postgres://postgres@localhost:{port}/{db}, as node tls1")
    );
    let mut p = Peer::connect(addr).await;
    p.send("RESIGER:alice:password").await;
    p.expect("RESIGER:true:alice").await;
    p.login("alice").await;
    let (encrypted, plain) = std::thread::scope(|s| {
        s.spawn(|| encrypted_and_plain(cluster, &db))
            .join()
            .unwrap()
    });
    assert!(encrypted >= 1 && plain == 0, "{encrypted} / {plain}");
    child.kill().unwrap();
    child.wait().unwrap();
}
