//! Soak test: N clients chat privately and in a group for M seconds against the real server process on
//! 127.0.0.1, dropping and resuming their connections at random, then all leave. The server's open file
//! descriptors must come back to the baseline exactly, and its resident memory to within a stated bound;
//! every message it acknowledged must be in its recipient's `SYNC:` exactly once.
//!
//! Bounded by default (50 clients, 20 s) so it runs with `cargo test`; longer:
//!
//! ```sh
//! QUQU_SOAK_CLIENTS=200 QUQU_SOAK_SECS=600 cargo test -p ququ-tests --test soak -- --nocapture
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use ququ_tests::{Peer, ServerProcess};

/// Resident memory may end this much above the baseline. The baseline is taken after a warm-up round of
/// the same workload, so SQLite's page cache, tokio's worker and blocking-pool threads and the allocator's
/// arenas have already grown to their working size; what is left is the allocator keeping freed pages and
/// the page cache holding the newly written rows. Measured (see docs/security.md): a few MB for 50 clients ×
/// 20 s and for 200 clients × 10 min. A leak per connection or per message (tens of thousands of each)
/// would blow well past this.
const RSS_SLACK_KB: u64 = 32 * 1024;

/// Only ever runs as the child server process of the test below: the real server with the message rate
/// limit off and registration throttling relaxed, since every client here comes from 127.0.0.1.
#[test]
fn soak_server_child() {
    ququ_tests::serve_if_child_with(|config| config.throttle.registrations_per_ip = u32::MAX);
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the server process holds, from `/proc`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Usage {
    rss_kb: u64,
    fds: usize,
    threads: u64,
}

fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read fds")
        .count();
    Usage {
        rss_kb: field("VmRSS:"),
        fds,
        threads: field("Threads:"),
    }
}

/// The server's descriptors once it has closed every connection: waits (up to 20 s) for the count to come
/// down to `target`, as sessions end asynchronously after their clients go.
async fn settled(pid: u32, target: Option<usize>) -> Usage {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = usage(pid);
    let mut steady = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = usage(pid);
        let done = match target {
            Some(t) => now.fds <= t,
            None => {
                steady = if now.fds == last.fds { steady + 1 } else { 0 };
                steady >= 8
            }
        };
        last = now;
        if done || Instant::now() > deadline {
            return last;
        }
    }
}

/// A tiny deterministic PRNG (xorshift), one per client.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One client's chat connection.
struct Conn {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Conn {
    async fn resume(addr: SocketAddr, account: &str, token: &str) -> Conn {
        let (read, write) = TcpStream::connect(addr)
            .await
            .expect("connect")
            .into_split();
        let mut c = Conn {
            read: BufReader::new(read),
            write,
        };
        c.send(&format!("RESUME:{account}:{token}")).await;
        let reply = c.until("LOGIN:").await;
        assert!(reply.starts_with("LOGIN:true:"), "{account}: {reply}");
        c
    }

    async fn send(&mut self, line: &str) {
        self.write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("send");
    }

    async fn next(&mut self, wait: Duration) -> Option<String> {
        let mut line = String::new();
        match tokio::time::timeout(wait, self.read.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => Some(line.trim_end().to_owned()),
            Ok(_) => panic!("the server closed a connection"),
            Err(_) => None,
        }
    }

    async fn until(&mut self, prefix: &str) -> String {
        loop {
            let line = self
                .next(Duration::from_secs(30))
                .await
                .unwrap_or_else(|| panic!("timed out waiting for {prefix}"));
            assert!(!line.starts_with("BYE:"), "cut off: {line}");
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// Reads (and discards) pushed lines for `d`, like an idle client.
    async fn idle(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            if let Some(line) = self.next(left).await {
                assert!(!line.starts_with("BYE:"), "cut off: {line}");
            }
        }
    }
}

/// What one client had acknowledged: (recipient, message id).
type Acked = Vec<(usize, u64)>;

/// Runs the chat workload for `secs` seconds: each client sends to its friends (the clients next to it) and
/// to the group, syncs, idles, and drops and resumes its connection at random.
async fn workload(
    addr: SocketAddr,
    accounts: &Arc<Vec<(String, String)>>,
    group: u64,
    secs: u64,
    round: u64,
    stop_early: &Arc<AtomicBool>,
    sent: &Arc<AtomicU64>,
) -> Vec<Acked> {
    let n = accounts.len();
    let mut tasks = Vec::new();
    for i in 0..n {
        let accounts = accounts.clone();
        let stop_early = stop_early.clone();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let (account, token) = &accounts[i];
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((i as u64 + 1) << 20) ^ round);
            let deadline = Instant::now() + Duration::from_secs(secs);
            let mut acked = Acked::new();
            let mut conn = Some(Conn::resume(addr, account, token).await);
            let mut seq = 0u64;
            while Instant::now() < deadline && !stop_early.load(Ordering::Relaxed) {
                let Some(c) = conn.as_mut() else {
                    tokio::time::sleep(Duration::from_millis(50 + rng.below(500))).await;
                    conn = Some(Conn::resume(addr, account, token).await);
                    continue;
                };
                seq += 1;
                let client_id = format!("r{round}-{seq}");
                // Group messages go to everyone: fewer of them as the group grows, so the pushes stay
                // about the same in total.
                let group_share = (250 / n as u64).clamp(1, 5);
                match rng.below(100) {
                    0..=69 => {
                        let to = (i + [1, n - 1][rng.below(2) as usize]) % n;
                        c.send(&format!(
                            "MSG:{}:{client_id}:hello {} from {account}, round {round} #{seq}",
                            accounts[to].0, accounts[to].0
                        ))
                        .await;
                        let ack = c.until(&format!("ACK:{client_id}:")).await;
                        let id = ack.split(':').nth(2).unwrap().parse().unwrap();
                        acked.push((to, id));
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    r if r < 70 + group_share => {
                        c.send(&format!("GROUP:{group}:{client_id}:hi all from {account}"))
                            .await;
                        c.until(&format!("ACK:{client_id}:")).await;
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    70..=84 => {
                        // A client catching up after a reconnect.
                        c.send(&format!("SYNC:{}:50", rng.below(1000))).await;
                        c.until("SYNC_END:").await;
                    }
                    85..=89 => {
                        c.send("FRIENDS").await;
                        c.until("FRIENDS_END:").await;
                    }
                    90..=96 => {
                        // Gone without a word: the server notices the closed socket.
                        conn = None;
                        continue;
                    }
                    _ => {
                        // Half-closed, as a client that is shutting down.
                        let _ = c.write.shutdown().await;
                        conn = None;
                        continue;
                    }
                }
                c.idle(Duration::from_millis(20 + rng.below(180))).await;
            }
            acked
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("client task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_returns_to_its_baseline_after_a_soak() {
    let clients = env_or("QUQU_SOAK_CLIENTS", 50).max(3) as usize;
    let secs = env_or("QUQU_SOAK_SECS", 20).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start("soak_server_child", dir.path());
    let (addr, pid) = (server.addr, server.pid());
    let started = Instant::now();
    let fresh = usage(pid);

    // Accounts (registration and the first login each cost an Argon2 hash; later logins resume).
    let mut accounts = Vec::new();
    let mut peers = Vec::new();
    for i in 0..clients {
        let account = format!("soak{i}");
        let mut p = Peer::connect(addr).await;
        p.send(&format!("RESIGER:{account}:password")).await;
        p.until("RESIGER:true:").await;
        p.send(&format!("LOGIN:{account}:password")).await;
        let ok = p.until("LOGIN:true:").await;
        let token = ok.split(':').nth(5).expect("token").to_owned();
        accounts.push((account, token));
        peers.push(p);
    }
    // A ring of friendships, and one group everyone is in.
    for i in 0..clients {
        let j = (i + 1) % clients;
        peers[i]
            .send(&format!("ADD_FRIEND:{}", accounts[j].0))
            .await;
        peers[i].until("REQUEST_SENT:").await;
        peers[j]
            .send(&format!("ACCEPT_FRIEND:{}", accounts[i].0))
            .await;
        peers[j].until(&format!("FRIEND:{}:", accounts[i].0)).await;
    }
    peers[0].send("GROUP_CREATE:soak").await;
    let info = peers[0].until("GROUP_INFO:").await;
    let group: u64 = info.split(':').nth(1).unwrap().parse().unwrap();
    // A new group is invite-only; the soak's peers join it by its number.
    peers[0].send(&format!("GROUP_POLICY:{group}:open")).await;
    peers[0].until(&format!("GROUP_POLICY:{group}:open")).await;
    for p in peers.iter_mut().skip(1) {
        p.send(&format!("GROUP_JOIN:{group}")).await;
        p.until(&format!("GROUP_INFO:{group}:")).await;
    }
    drop(peers);
    let accounts = Arc::new(accounts);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));

    // Warm-up: a quarter of the run (at least 5 s) of the same workload, then everyone leaves.
    let warm_secs = (secs / 4).max(5);
    let mut acked = workload(addr, &accounts, group, warm_secs, 0, &stop, &sent).await;
    let baseline = settled(pid, None).await;

    // The soak, sampling the server every second.
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut peak = usage(pid);
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let u = usage(pid);
                peak.rss_kb = peak.rss_kb.max(u.rss_kb);
                peak.fds = peak.fds.max(u.fds);
                peak.threads = peak.threads.max(u.threads);
            }
            peak
        })
    };
    let before = sent.load(Ordering::Relaxed);
    let soak_started = Instant::now();
    let never = Arc::new(AtomicBool::new(false));
    acked.extend(workload(addr, &accounts, group, secs, 1, &never, &sent).await);
    let soak_took = soak_started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.await.expect("sampler");
    let messages = sent.load(Ordering::Relaxed) - before;
    let after = settled(pid, Some(baseline.fds)).await;

    // Every acknowledged private message is in its recipient's SYNC exactly once.
    let mut expected: Vec<HashMap<u64, usize>> = vec![HashMap::new(); clients];
    for (to, id) in acked.iter().flatten() {
        *expected[*to].entry(*id).or_default() += 1;
    }
    let mut checked = 0;
    for (i, (account, token)) in accounts.iter().enumerate() {
        let mut p = Peer::connect(addr).await;
        p.send(&format!("RESUME:{account}:{token}")).await;
        p.until("LOGIN:true:").await;
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for line in p.sync_all().await {
            if line.starts_with("MSG:") && line.split(':').nth(3) == Some(account.as_str()) {
                *seen
                    .entry(line.split(':').nth(1).unwrap().parse().unwrap())
                    .or_default() += 1;
            }
        }
        for (id, n) in &expected[i] {
            assert_eq!(*n, 1, "message {id} acknowledged twice");
            assert_eq!(
                seen.get(id),
                Some(&1),
                "message {id} to {account} not in its SYNC once"
            );
            checked += 1;
        }
    }
    let final_usage = settled(pid, Some(baseline.fds)).await;

    println!(
        "soak: {clients} clients, {secs} s (+{warm_secs} s warm-up), {messages} messages acknowledged \
         in {:.1} s ({:.0}/s), {checked} private messages checked in SYNC; total {:.0} s",
        soak_took.as_secs_f64(),
        messages as f64 / soak_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!("soak: fresh    {fresh:?}");
    println!("soak: baseline {baseline:?}");
    println!("soak: peak     {peak:?}");
    println!("soak: after    {after:?}");
    println!("soak: final    {final_usage:?}");
    println!(
        "soak: RSS after - baseline = {} kB (bound {RSS_SLACK_KB} kB); fds after - baseline = {}",
        after.rss_kb as i64 - baseline.rss_kb as i64,
        after.fds as i64 - baseline.fds as i64
    );
    // Descriptors: every connection's socket is closed again; the rest (listener, database and its WAL
    // files, the runtime's epoll and wakers, stdio) are the same ones as at the baseline.
    assert_eq!(
        after.fds, baseline.fds,
        "open descriptors did not return to the baseline"
    );
    assert_eq!(final_usage.fds, baseline.fds);
    assert!(
        after.rss_kb <= baseline.rss_kb + RSS_SLACK_KB,
        "resident memory grew by {} kB (bound {RSS_SLACK_KB} kB)",
        after.rss_kb - baseline.rss_kb
    );
    drop(server);
}
