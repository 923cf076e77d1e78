//! Cluster mode (issue 26): several servers on one PostgreSQL database, each delivering to its own
//! sessions what the others store, in id order, with a real NATS server as the bus or without one.
//! Needs PostgreSQL and `nats-server` installed (`.ci/run` installs both).
#![cfg(feature = "test-cluster")]

mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::transfer::{content, download_token, get, put, sha, upload_grant};
use common::{Peer, TestServer};

/// A private NATS server on a free loopback port, stopped when dropped.
struct Nats {
    child: Child,
    url: String,
}

impl Nats {
    fn start() -> Nats {
        Nats::start_as(None)
    }

    /// With `Some((user, password))` it takes no one else, and its URL carries them.
    fn start_as(user: Option<(&str, &str)>) -> Nats {
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let mut command = Command::new("nats-server");
        command.args(["-a", "127.0.0.1", "-p", &port.to_string()]);
        if let Some((user, pass)) = user {
            command.args(["--user", user, "--pass", pass]);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is not installed (Debian: apt-get install nats-server)");
        // Ready once it takes connections.
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let who = user.map_or(String::new(), |(u, p)| format!("{u}:{p}@"));
                return Nats {
                    child,
                    url: format!("nats://{who}127.0.0.1:{port}"),
                };
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("nats-server did not start on port {port}");
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the nodes of a test find each other's messages.
#[derive(Clone, Copy)]
enum Finding<'a> {
    /// Through the NATS server at this URL only: the relay's poll is an hour apart.
    BusOnly(&'a str),
    /// Through the bus at this URL, and the poll.
    Bus(&'a str),
    /// By the relay's poll alone.
    Poll,
}

/// Two nodes on one database (each a server with its own data directory, and one files directory, as
/// an NFS mount would be: node one's), finding each other's messages as `finding` says, with no message
/// rate limit (the tests pipeline).
async fn two_nodes(finding: Finding<'_>) -> (TestServer, TestServer) {
    two_nodes_with(finding, |_| {}).await
}

/// [`two_nodes`], with `also` applied to both nodes' configuration.
async fn two_nodes_with(
    finding: Finding<'_>,
    also: impl Fn(&mut ququ_server::Config),
) -> (TestServer, TestServer) {
    let (bus, poll) = match finding {
        Finding::BusOnly(url) => (Some(url.to_owned()), Duration::from_secs(3600)),
        Finding::Bus(url) => (Some(url.to_owned()), Duration::from_secs(1)),
        Finding::Poll => (None, Duration::from_secs(1)),
    };
    let tweak = |c: &mut ququ_server::Config| {
        c.bus = bus.clone();
        c.relay_poll = poll;
        c.limits.rate = 0;
        also(c);
    };
    let first = TestServer::start_with(tempfile::tempdir().unwrap(), tweak).await;
    // The second node's directory names the first's database (see `common::pg_url`).
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        first.dir.path().join("pg-database"),
        dir.path().join("pg-database"),
    )
    .unwrap();
    let files = first.dir.path().join("files");
    let second = TestServer::start_with(dir, |c| {
        tweak(c);
        c.files_dir = Some(files);
    })
    .await;
    (first, second)
}

/// `account` logged in on `node`.
async fn login(node: &TestServer, account: &str) -> Peer {
    let mut peer = node.connect().await;
    peer.login(account).await;
    peer
}

/// The id of a pushed `MSG:`/`GROUP:` line.
fn id_of(line: &str) -> u64 {
    line.split(':').nth(1).unwrap().parse().unwrap()
}

/// Reads `peer`'s pushed messages (`MSG:`/`GROUP:` lines) until it has `n` of them; every id larger than
/// the one before, as the client's sync cursor needs. Returns their client ids.
async fn pushed(peer: &mut Peer, n: usize) -> Vec<String> {
    let mut last = 0;
    let mut ids = Vec::new();
    while ids.len() < n {
        let line = peer.recv().await;
        if !(line.starts_with("MSG:") || line.starts_with("GROUP:")) {
            continue;
        }
        let id = id_of(&line);
        assert!(id > last, "id {id} after {last}: out of order ({line})");
        last = id;
        ids.push(client_id(&line).to_owned());
    }
    ids
}

/// The client id of a pushed line: `MSG:<id>:<from>:<to>:<time>:<client id>:<text>`,
/// `GROUP:<id>:<group>:<from>:<time>:<client id>:<text>`.
fn client_id(line: &str) -> &str {
    line.split(':').nth(5).unwrap()
}

/// Messages between nodes, private and to a group: with the bus alone, and with nothing but the relay's
/// poll.
async fn messages_cross_nodes(finding: Finding<'_>) {
    let (one, two) = two_nodes(finding).await;
    // Friends and a group of three made on node one; then bob and carol move to node two.
    let (mut alice, mut bob) = one.friends("alice", "bob").await;
    let gid = alice.create_group("跨节点 group").await;
    alice.open_group(&gid).await;
    let mut carol = one.user("carol").await;
    for p in [&mut bob, &mut carol] {
        p.send(&format!("GROUP_JOIN:{gid}")).await;
        p.until(&format!("GROUP_INFO:{gid}:")).await;
    }
    drop((bob, carol));
    let mut bob = login(&two, "bob").await;
    let mut carol = login(&two, "carol").await;

    // Pipelined, from node one: a private message and a group message, ten times over.
    for i in 0..10 {
        alice.send(&format!("MSG:bob:p{i}:你好 {i}")).await;
        alice.send(&format!("GROUP:{gid}:g{i}:大家好 {i}")).await;
    }
    let mut first = String::new();
    for i in 0..10 {
        let ack = alice.until(&format!("ACK:p{i}:")).await;
        if i == 0 {
            first = ack.split(':').nth(2).unwrap().to_owned();
        }
        alice.until(&format!("ACK:g{i}:")).await;
    }
    let expected: Vec<String> = (0..10)
        .flat_map(|i| [format!("p{i}"), format!("g{i}")])
        .collect();
    assert_eq!(
        pushed(&mut bob, 20).await,
        expected,
        "bob on node two: every message once, in order"
    );
    let groups: Vec<String> = (0..10).map(|i| format!("g{i}")).collect();
    assert_eq!(pushed(&mut carol, 10).await, groups);

    // And back: bob on node two answers alice on node one.
    bob.send("MSG:alice:r1:收到").await;
    bob.until("ACK:r1:").await;
    let back = alice.until("MSG:").await;
    assert!(back.ends_with(":r1:收到"), "{back}");
    assert_eq!(
        bob.drain(Duration::from_millis(300)).await,
        Vec::<String>::new(),
        "no echo"
    );

    // A recall and a group change, stored outside the message writer, cross too.
    alice.send(&format!("RECALL:{first}")).await;
    let recalled = bob.until("MSG:").await;
    assert!(
        recalled.ends_with(&format!(
            ":recall-{first}:alice 撤回了一条消息 (recalled a message)"
        )),
        "{recalled}"
    );
    alice.send(&format!("GROUP_RENAME:{gid}:改名了")).await;
    let renamed = carol.next_event().await;
    assert!(renamed.contains("改名了"), "{renamed}");
}

/// Through a NATS server that takes only our user (its password in the URL, as an operator writes it),
/// with the poll an hour apart: what crosses, crosses by the bus.
#[tokio::test]
async fn messages_reach_another_node_through_the_bus() {
    let nats = Nats::start_as(Some(("ququ", "s3cret")));
    messages_cross_nodes(Finding::BusOnly(&nats.url)).await;
}

/// No NATS at all: the relay's one-second poll delivers everything all the same.
#[tokio::test]
async fn messages_reach_another_node_without_a_bus() {
    messages_cross_nodes(Finding::Poll).await;
}

/// The bus pointing at a NATS server that is down (a node starts anyway), then one coming up there:
/// nothing is lost meanwhile.
#[tokio::test]
async fn a_node_starts_and_delivers_while_its_bus_is_down() {
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let url = format!("nats://127.0.0.1:{port}");
    let (one, two) = two_nodes(Finding::Bus(&url)).await;
    let (mut alice, bob) = one.friends("alice", "bob").await;
    drop(bob);
    let mut bob = login(&two, "bob").await;
    alice.send("MSG:bob:d1:bus down").await;
    alice.until("ACK:d1:").await;
    assert_eq!(pushed(&mut bob, 1).await, ["d1"]);
}

/// Senders on both nodes at once, pipelining into one group whose members are on both: every member
/// gets every message exactly once, in id order, whichever node stored it.
#[tokio::test]
async fn senders_on_both_nodes_interleave_in_one_order() {
    let nats = Nats::start();
    let (one, two) = two_nodes(Finding::Bus(&nats.url)).await;
    let mut owner = one.user("owner").await;
    let gid = owner.create_group("both").await;
    owner.open_group(&gid).await;
    let names = ["a1", "a2", "b1", "b2"];
    for name in names {
        let mut p = one.user(name).await;
        p.send(&format!("GROUP_JOIN:{gid}")).await;
        p.until(&format!("GROUP_INFO:{gid}:")).await;
    }
    // a1, a2 on node one; b1, b2 on node two.
    let mut peers: HashMap<&str, Peer> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let node = if i < 2 { &one } else { &two };
        peers.insert(name, login(node, name).await);
    }
    const EACH: usize = 50;
    for i in 0..EACH {
        for name in names {
            let p = peers.get_mut(name).unwrap();
            p.send(&format!("GROUP:{gid}:{name}-{i}:{name} says {i}"))
                .await;
        }
    }
    // The owner (node one) gets all of them; each sender all but its own.
    let all = pushed(&mut owner, EACH * names.len()).await;
    for name in names {
        let theirs: Vec<&String> = all
            .iter()
            .filter(|c| c.starts_with(&format!("{name}-")))
            .collect();
        let want: Vec<String> = (0..EACH).map(|i| format!("{name}-{i}")).collect();
        assert_eq!(theirs, want.iter().collect::<Vec<_>>(), "{name}'s in order");
    }
    for name in names {
        let p = peers.get_mut(name).unwrap();
        let got = pushed(p, EACH * (names.len() - 1)).await;
        let others: Vec<&String> = all
            .iter()
            .filter(|c| !c.starts_with(&format!("{name}-")))
            .collect();
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            others,
            "{name} gets the others' messages in the one order"
        );
    }
}

/// Everything else a session is pushed crosses nodes too (`service/passing.rs`): presence both ways and
/// in lists, a friend request and its answer, typing, and a password change ending my other device's
/// session on the other node.
async fn other_lines_cross_nodes(finding: Finding<'_>) {
    let (one, two) = two_nodes(finding).await;
    let (alice, bob) = one.friends("alice", "bob").await;
    drop((alice, bob));
    let mut bob = login(&two, "bob").await;
    bob.send("FEATURES:TYPING").await;
    bob.until("FEATURES:").await;

    // alice comes online on node one: bob, on node two, is told, and his list says so.
    let mut alice = login(&one, "alice").await;
    bob.until("CONNECT_CLIENT:alice:online").await;
    bob.send("FRIENDS").await;
    let listed = bob.until("FRIEND:alice:").await;
    assert!(listed.starts_with("FRIEND:alice:online:"), "{listed}");
    // And node one knows bob is online on node two.
    alice.send("FRIENDS").await;
    let listed = alice.until("FRIEND:bob:").await;
    assert!(listed.starts_with("FRIEND:bob:online:"), "{listed}");

    alice.send("TYPING:bob").await;
    assert_eq!(bob.until("TYPING:").await, "TYPING:alice");

    // A request from node one, answered on node two.
    let mut carol = one.user("carol").await;
    carol.send("ADD_FRIEND:bob:你好").await;
    let request = bob.until("FRIEND_REQUEST:carol:").await;
    assert!(request.ends_with(":你好"), "{request}");
    bob.send("ACCEPT_FRIEND:carol").await;
    let friend = carol.until("FRIEND:bob:").await;
    assert!(friend.starts_with("FRIEND:bob:online:"), "{friend}");

    // alice's password changed on node one ends her other session, on node two.
    let mut alice_phone = login(&two, "alice").await;
    alice.send("PASSWD:password:new-password-1").await;
    assert_eq!(alice.until("PASSWD:").await, "PASSWD:true");
    let bye = alice_phone.until("BYE:").await;
    assert!(bye.starts_with("BYE:password_changed:"), "{bye}");

    // alice leaves: bob is told once her last session, on either node, is gone.
    drop(alice);
    drop(alice_phone);
    bob.until("CONNECT_CLIENT:alice:offline").await;
    bob.send("FRIENDS").await;
    let listed = bob.until("FRIEND:alice:").await;
    assert!(listed.starts_with("FRIEND:alice:offline:"), "{listed}");
}

/// By the bus alone (the poll an hour apart).
#[tokio::test]
async fn other_lines_reach_another_node_through_the_bus() {
    let nats = Nats::start();
    other_lines_cross_nodes(Finding::BusOnly(&nats.url)).await;
}

/// By the poll alone.
#[tokio::test]
async fn other_lines_reach_another_node_without_a_bus() {
    other_lines_cross_nodes(Finding::Poll).await;
}

/// A file crosses nodes (one files directory, `--files-dir`; tokens and upload claims in the database):
/// offered through node one, its bytes sent half through node two and resumed through node one, and
/// downloaded by bob through node two, byte for byte.
#[tokio::test]
async fn a_file_crosses_nodes() {
    let (one, two) = two_nodes(Finding::Poll).await;
    let (mut alice, bob) = one.friends("alice", "bob").await;
    drop(bob);
    let mut bob = login(&two, "bob").await;
    let data = content(600_000, 7);
    let offer = format!(
        "FileTran:user:bob:f1:{}:{}:报告.pdf",
        data.len(),
        sha(&data)
    );
    alice.send(&offer).await;
    let (id, token, offset) = upload_grant(&alice.until("FILE_UPLOAD:").await);
    assert_eq!(offset, 0);
    // The first half through node two: its token was granted by node one.
    let half = data.len() / 2;
    let stopped = put(two.addr, &token, 0, &data[..half]).await;
    assert!(stopped.contains("resume"), "{stopped}");
    // The same offer again resumes where node two's bytes stopped, through node one.
    alice.send(&offer).await;
    let (again, token, offset) = upload_grant(&alice.until("FILE_UPLOAD:").await);
    assert_eq!((again, offset), (id, half as u64));
    let done = put(one.addr, &token, offset, &data[half..]).await;
    assert!(!done.starts_with("ERROR"), "{done}");
    // bob, on node two, is offered it and downloads it there.
    let offered = bob.until("FileTran:").await;
    assert!(offered.ends_with(":报告.pdf"), "{offered}");
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    let token = download_token(&bob.until("FILE_DOWNLOAD:").await);
    assert!(get(two.addr, &token, 0).await == data, "the same bytes");
    // A token is good once, on whichever node.
    assert!(
        common::transfer::try_get(one.addr, &token, 0)
            .await
            .is_err()
    );
}

/// An upload left open on one node (a link that died silently) is taken over by its resumption through
/// another: the old one is told and stops, within the second its claim is checked, and the file is whole.
#[tokio::test]
async fn a_resumed_upload_takes_over_from_one_still_open_on_another_node() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (one, two) = two_nodes(Finding::Poll).await;
    let (mut alice, bob) = one.friends("alice", "bob").await;
    drop(bob);
    let data = content(2 << 20, 5);
    let half = data.len() / 2;
    let offer = format!(
        "FileTran:user:bob:t1:{}:{}:slides.pdf",
        data.len(),
        sha(&data)
    );
    alice.send(&offer).await;
    let (id, token, _) = upload_grant(&alice.until("FILE_UPLOAD:").await);
    let mut first = tokio::net::TcpStream::connect(two.addr).await.unwrap();
    first
        .write_all(format!("FILE_PUT:{token}:0\n").as_bytes())
        .await
        .unwrap();
    first.write_all(&data[..half]).await.unwrap();
    first.flush().await.unwrap();
    let mut resumed = None;
    for _ in 0..200 {
        alice.send(&offer).await;
        let (again, token, at) = upload_grant(&alice.until("FILE_UPLOAD:").await);
        assert_eq!(again, id);
        if at as usize == half {
            resumed = Some(put(one.addr, &token, at, &data[half..]).await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        resumed.as_deref(),
        Some(format!("FILE_STATE:{id}:uploaded").as_str())
    );
    let mut told = String::new();
    let _ = BufReader::new(first).read_line(&mut told).await;
    assert!(told.contains("took over"), "{told}");
    let mut bob = login(&two, "bob").await;
    bob.send(&format!("FILE_ACCEPT:{id}")).await;
    let token = download_token(&bob.until("FILE_DOWNLOAD:").await);
    assert!(get(two.addr, &token, 0).await == data, "the file is whole");
}

/// Login guessing spread over two nodes is blocked at one node's threshold: the counters are shared
/// (storage/throttle.rs), where each node used to count only its own.
#[tokio::test]
async fn guessing_over_two_nodes_is_blocked_at_one_nodes_threshold() {
    let (one, two) = two_nodes_with(Finding::Poll, |c| {
        c.throttle.ip_block_after = 4;
        c.throttle.account_delay_after = u32::MAX;
    })
    .await;
    drop(one.user("alice").await);
    let mut replies = Vec::new();
    for i in 0..8 {
        let node = if i % 2 == 0 { &one } else { &two };
        let mut p = node.connect().await;
        p.send(&format!("LOGIN:alice:guess-{i}")).await;
        replies.push(p.until("LOGIN:").await);
    }
    let evaluated = replies
        .iter()
        .filter(|r| r.starts_with("LOGIN:false:bad_credentials:"))
        .count();
    assert_eq!(evaluated, 4, "{replies:?}");
    assert!(
        replies[4..]
            .iter()
            .all(|r| r.starts_with("LOGIN:false:rate_limited:")),
        "{replies:?}"
    );
}

/// A `ququ-server` process: one node of a cluster behind a balancer (PROXY protocol on), sharing the
/// database, the bus and the files directory with the others. Killed (SIGKILL) when dropped.
struct NodeProcess {
    child: Child,
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl NodeProcess {
    fn start(
        url: &str,
        name: &str,
        bus: &str,
        files: &std::path::Path,
        config: &std::path::Path,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ququ-server"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .arg("--database")
            .arg(url)
            .args(["--node-name", name, "--bus", bus, "--files-dir"])
            .arg(files)
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = common::listening_addr(child.stdout.take().unwrap());
        NodeProcess {
            child,
            addr,
            _dir: dir,
        }
    }

    /// SIGKILL: no goodbye to the database, the bus or the clients.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A connection straight to `node` (a test choosing where a user starts), with the PROXY header the
/// balancer would have sent.
async fn on_node(node: std::net::SocketAddr) -> Peer {
    let mut peer = Peer::connect(node).await;
    let client = "127.0.0.1:50000".parse().unwrap();
    peer.send_raw(&ququ_server::proxy::header(client, node))
        .await;
    peer
}

/// `account` logged in through the balancer at `front`, trying again until a node answers (while one
/// has just died and the balancer has not noticed yet).
async fn back_in(front: std::net::SocketAddr, account: &str) -> Peer {
    loop {
        let mut peer = Peer::connect(front).await;
        if peer.try_send(&format!("LOGIN:{account}:password")).await {
            while let Some(line) = peer.next_within(Duration::from_secs(3)).await {
                if line.starts_with("LOGIN:true:") {
                    return peer;
                }
                if line.starts_with("LOGIN:") {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What one member saw: every group message by id (its client id), live or by a sync after a
/// reconnection; and when it was back after losing its node.
#[derive(Default)]
struct Seen {
    by_id: std::collections::BTreeMap<u64, String>,
    back_after: Option<Duration>,
}

/// Reads `peer`'s group messages into `seen` until the connection closes (its node died: `false`) or
/// `stop` is set (`true`); ids only grow on one connection. `count` counts every one, for the test to
/// know how far the traffic is.
async fn read_group(
    peer: &mut Peer,
    seen: &mut Seen,
    stop: &tokio_util::sync::CancellationToken,
    count: &std::sync::atomic::AtomicUsize,
    presence: Option<&tokio::sync::mpsc::UnboundedSender<String>>,
) -> bool {
    let mut last = 0;
    loop {
        let line = tokio::select! {
            _ = stop.cancelled() => return true,
            line = peer.next_within(Duration::from_secs(3600)) => line,
        };
        let Some(line) = line else {
            return false;
        };
        if line.starts_with("GROUP:") {
            let id = id_of(&line);
            assert!(id > last, "id {id} after {last} on one connection: {line}");
            last = id;
            seen.by_id.insert(id, client_id(&line).to_owned());
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else if line.starts_with("CONNECT_CLIENT:")
            && let Some(presence) = presence
        {
            let _ = presence.send(line);
        }
    }
}

/// Everything stored for `peer`'s user after id `after`, into `seen`.
async fn sync_from(peer: &mut Peer, after: u64, seen: &mut Seen) {
    let mut from = after;
    loop {
        peer.send(&format!("SYNC:{from}:500")).await;
        let mut end = None;
        while end.is_none() {
            let line = peer.recv().await;
            if line.starts_with("GROUP:") {
                seen.by_id.insert(id_of(&line), client_id(&line).to_owned());
            } else if let Some(rest) = line.strip_prefix("SYNC_END:") {
                let mut f = rest.split(':');
                let last: u64 = f.next().unwrap().parse().unwrap();
                end = Some((last, f.next() == Some("1")));
            }
        }
        let (last, more) = end.unwrap();
        from = last;
        if !more {
            return;
        }
    }
}

/// Issue 26, node kill: three nodes behind HAProxy, 30 users (ten on each), six of them pipelining
/// into a group of all 30; one node is SIGKILLed mid-traffic. Its clients log in again through the
/// balancer (on the other nodes) and sync; senders send again what was not acknowledged, under the same
/// client ids. Then every acknowledged message is stored once and every member has each exactly once;
/// a friend sees a user of the dead node who stayed away go offline (when the node is reaped) and come
/// back online. How long the dead node's clients took to be back is printed, not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_nodes_clients_carry_on_through_the_others_and_nothing_acknowledged_is_lost() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio_util::sync::CancellationToken;

    const USERS: usize = 30;
    const SENDERS: [usize; 6] = [0, 1, 2, 6, 7, 8];
    const EACH: usize = 150;
    const WINDOW: usize = 15;
    // Users on the killed node (the second) are those with i % 3 == 1; u04 stays away once it dies,
    // and u03, on the first node, is its friend.
    const LONELY: usize = 4;
    const PAL: usize = 3;

    let db_dir = tempfile::tempdir().unwrap();
    let url = common::pg_url(db_dir.path());
    let nats = Nats::start();
    let files = tempfile::tempdir().unwrap();
    let config = files.path().join("ququ.toml");
    std::fs::write(
        &config,
        "proxy_protocol = true\n[limits]\nrate = 0\nactions = 0\n[throttle]\nregistrations_per_address = 0\n",
    )
    .unwrap();
    let mut nodes: Vec<NodeProcess> = (1..=3)
        .map(|i| NodeProcess::start(&url, &format!("n{i}"), &nats.url, files.path(), &config))
        .collect();
    let addrs: Vec<_> = nodes.iter().map(|n| n.addr).collect();
    let balancer = common::haproxy::Haproxy::start(&addrs).await;
    let front = balancer.front;
    let name = |i: usize| format!("u{i:02}");

    // Each user signs up and logs in on its node; all join one group; u03 and u04 are friends.
    let mut peers = Vec::new();
    for i in 0..USERS {
        let mut p = on_node(addrs[i % 3]).await;
        p.send(&format!("RESIGER:{}:password", name(i))).await;
        p.until("RESIGER:true").await;
        p.login(&name(i)).await;
        peers.push(p);
    }
    let gid = peers[0].create_group("全员群").await;
    peers[0].open_group(&gid).await;
    for p in &mut peers[1..] {
        p.send(&format!("GROUP_JOIN:{gid}")).await;
        p.until(&format!("GROUP_INFO:{gid}:")).await;
    }
    peers[PAL]
        .send(&format!("ADD_FRIEND:{}:hi", name(LONELY)))
        .await;
    peers[LONELY]
        .until(&format!("FRIEND_REQUEST:{}:", name(PAL)))
        .await;
    peers[LONELY]
        .send(&format!("ACCEPT_FRIEND:{}", name(PAL)))
        .await;
    peers[PAL]
        .until(&format!("FRIEND:{}:online:", name(LONELY)))
        .await;

    let stop = CancellationToken::new();
    let count = Arc::new(AtomicUsize::new(0));
    let killed_at: Arc<std::sync::Mutex<Option<std::time::Instant>>> = Arc::default();
    let (presence_tx, mut presence) = tokio::sync::mpsc::unbounded_channel::<String>();
    let lonely_may_return = Arc::new(tokio::sync::Notify::new());
    let mut senders = Vec::new();
    let mut members = Vec::new();
    for (i, mut peer) in peers.into_iter().enumerate() {
        let account = name(i);
        if SENDERS.contains(&i) {
            let (gid, killed_at) = (gid.clone(), killed_at.clone());
            senders.push(tokio::spawn(async move {
                let mut acked = std::collections::BTreeSet::new();
                let mut back_after = None;
                for window in 0..EACH / WINDOW {
                    let ids: Vec<String> = (window * WINDOW..(window + 1) * WINDOW)
                        .map(|n| format!("{account}-{n}"))
                        .collect();
                    // Until the window is acknowledged, on whichever node: a lost node's client logs
                    // in again and sends what was not acknowledged, under the same client ids.
                    loop {
                        let mut sent = true;
                        for id in ids.iter().filter(|id| !acked.contains(*id)) {
                            sent &= peer.try_send(&format!("GROUP:{gid}:{id}:消息 {id}")).await;
                        }
                        while sent && ids.iter().any(|id| !acked.contains(id)) {
                            match peer.next_within(Duration::from_secs(3600)).await {
                                Some(line) => {
                                    if let Some(rest) = line.strip_prefix("ACK:") {
                                        acked.insert(rest.split(':').next().unwrap().to_owned());
                                    }
                                }
                                None => sent = false,
                            }
                        }
                        if sent {
                            break;
                        }
                        peer = back_in(front, &account).await;
                        let killed = killed_at.lock().unwrap().expect("a node died");
                        back_after.get_or_insert(killed.elapsed());
                    }
                }
                (account, acked, back_after)
            }));
        } else {
            let (stop, count, killed_at) = (stop.clone(), count.clone(), killed_at.clone());
            let presence = (i == PAL).then(|| presence_tx.clone());
            let lonely_may_return = lonely_may_return.clone();
            members.push(tokio::spawn(async move {
                let mut seen = Seen::default();
                loop {
                    let last = seen.by_id.keys().next_back().copied().unwrap_or(0);
                    if read_group(&mut peer, &mut seen, &stop, &count, presence.as_ref()).await {
                        // The traffic is over: whatever was missed comes by a sync.
                        sync_from(&mut peer, last, &mut seen).await;
                        return (i, account, seen);
                    }
                    if i == LONELY {
                        lonely_may_return.notified().await;
                    }
                    let last = seen.by_id.keys().next_back().copied().unwrap_or(0);
                    peer = back_in(front, &account).await;
                    let killed = killed_at.lock().unwrap().expect("a node died");
                    seen.back_after.get_or_insert(killed.elapsed());
                    sync_from(&mut peer, last, &mut seen).await;
                }
            }));
        }
    }
    drop(presence_tx);

    // Mid-traffic, the second node is killed.
    while count.load(Ordering::Relaxed) < 24 * 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    *killed_at.lock().unwrap() = Some(std::time::Instant::now());
    nodes[1].kill();

    // u03 sees u04 go offline once the dead node is reaped; then u04 comes back.
    let offline = format!("CONNECT_CLIENT:{}:offline", name(LONELY));
    while presence.recv().await.expect("u03's presence lines") != offline {}
    let reaped_after = killed_at.lock().unwrap().unwrap().elapsed();
    lonely_may_return.notify_one();
    let online = format!("CONNECT_CLIENT:{}:online", name(LONELY));
    while presence.recv().await.expect("u03's presence lines") != online {}

    let mut acked = std::collections::BTreeSet::new();
    let mut back = Vec::new();
    for sender in senders {
        let (account, mine, back_after) = sender.await.unwrap();
        assert_eq!(mine.len(), EACH, "{account}: every message acknowledged");
        acked.extend(mine);
        back.extend(back_after);
    }
    // Everything is acknowledged: the members read to the end, then sync.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.cancel();
    for member in members {
        let (i, account, seen) = member.await.unwrap();
        let mut ids_of: HashMap<&str, Vec<u64>> = HashMap::new();
        for (id, cid) in &seen.by_id {
            ids_of.entry(cid.as_str()).or_default().push(*id);
        }
        let twice: Vec<_> = ids_of.iter().filter(|(_, ids)| ids.len() > 1).collect();
        assert!(twice.is_empty(), "{account}: stored twice: {twice:?}");
        let missing: Vec<_> = acked
            .iter()
            .filter(|cid| !ids_of.contains_key(cid.as_str()))
            .collect();
        assert!(missing.is_empty(), "{account}: never got {missing:?}");
        if i != LONELY {
            back.extend(seen.back_after);
        }
    }
    let slowest = back.iter().max().copied().unwrap_or_default();
    println!(
        "node kill: {} acknowledged messages, each stored once and had by all {} members; the dead \
         node's {} clients back within {} ms of the SIGKILL (slowest); its stayed-away user shown \
         offline after {} ms",
        acked.len(),
        USERS - SENDERS.len(),
        back.len(),
        slowest.as_millis(),
        reaped_after.as_millis()
    );
    assert_eq!(
        back.len(),
        USERS / 3 - 1,
        "every client of the dead node came back (u04 when it was let)"
    );
    drop(balancer);
}

/// The bus paused (its `nats-server` SIGSTOPped: it neither answers nor drops the connections) for three
/// seconds while alice sends: every message still reaches bob on the other node, once and in order — by
/// the one-second poll while the bus is stopped — and after it resumes, at once again.
#[tokio::test]
async fn a_paused_bus_costs_latency_never_a_message() {
    let nats = Nats::start();
    let (one, two) = two_nodes(Finding::Bus(&nats.url)).await;
    let (mut alice, bob) = one.friends("alice", "bob").await;
    drop(bob);
    let mut bob = login(&two, "bob").await;
    let signal = |sig: &str| {
        let done = Command::new("kill")
            .args([sig, &nats.child.id().to_string()])
            .status()
            .unwrap();
        assert!(done.success(), "kill {sig}");
    };
    signal("-STOP");
    let paused = std::time::Instant::now();
    for i in 0..30 {
        alice.send(&format!("MSG:bob:p{i}:暂停时 {i}")).await;
    }
    for i in 0..30 {
        alice.until(&format!("ACK:p{i}:")).await;
    }
    let expected: Vec<String> = (0..30).map(|i| format!("p{i}")).collect();
    assert_eq!(pushed(&mut bob, 30).await, expected);
    let during = paused.elapsed();
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(during)).await;
    signal("-CONT");
    for i in 0..30 {
        alice.send(&format!("MSG:bob:q{i}:恢复后 {i}")).await;
    }
    let expected: Vec<String> = (0..30).map(|i| format!("q{i}")).collect();
    assert_eq!(pushed(&mut bob, 30).await, expected);
    assert_eq!(
        bob.drain(Duration::from_millis(500)).await,
        Vec::<String>::new(),
        "nothing twice"
    );
}

/// A node taken for dead while it was alive (stalled past the silence limit; here an operator's handle
/// reaps by a clock 20 s ahead) ends its sessions rather than serve users every other node now counts as
/// offline: they get `BYE:shutdown`, log in again and are counted online anew.
#[tokio::test]
async fn a_node_taken_for_dead_while_alive_ends_its_sessions() {
    let (one, two) = two_nodes(Finding::Poll).await;
    let (mut alice, bob) = one.friends("alice", "bob").await;
    drop(bob);
    let mut bob = login(&two, "bob").await;
    let store = common::open_store(one.dir.path());
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 20_000;
    let reaped = tokio::task::spawn_blocking(move || store.reap_silent_nodes(later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reaped.nodes.len(), 2, "{reaped:?}");
    let bye = alice.until("BYE:").await;
    assert!(bye.starts_with("BYE:shutdown:"), "{bye}");
    assert!(bob.until("BYE:").await.starts_with("BYE:shutdown:"));
    let mut bob = login(&two, "bob").await;
    let mut alice = login(&one, "alice").await;
    bob.until("CONNECT_CLIENT:alice:online").await;
    bob.send("FRIENDS").await;
    let listed = bob.until("FRIEND:alice:").await;
    assert!(listed.starts_with("FRIEND:alice:online:"), "{listed}");
    alice.send("MSG:bob:after:又连上了").await;
    assert!(bob.until("MSG:").await.ends_with(":after:又连上了"));
}
