//! Connection scenarios: `idle` (many logged-in idle connections: the server's memory per connection, and
//! whether it survives all of them leaving at once), `login` (logins/s with a password and with a session
//! token) and `restart` (every client reconnecting and logging in again after a server restart).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, Semaphore, watch};

use crate::client::{Conn, Login};
use crate::target::Target;
use crate::wire::{Hist, now_ns};
use crate::{BoxResult, System, open_all, open_spread};

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Is the server answering? A fresh connection logs in and pings; the time it took, if it worked.
async fn healthy(addr: SocketAddr, login: &Login) -> Option<Duration> {
    let t = Instant::now();
    let check = async {
        let mut c = Conn::open(addr, 7, login, 4096).await.ok()?;
        match login {
            Login::Redis { .. } => {
                c.w.write_all(b"*1\r\n$4\r\nPING\r\n").await.ok()?;
                // The subscribed form of the reply is an array; either kind means it answered.
                c.r.resp().await.ok()??;
            }
            _ => {
                c.w.write_all(b"PING:42\n").await.ok()?;
                c.r.until("PONG:42").await.ok()??;
            }
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(10), check)
        .await
        .ok()??;
    Some(t.elapsed())
}

/// `connections` logged-in clients that then do nothing; the server's RSS before and after, per
/// connection; then all of them close at once and the server must still answer.
pub async fn idle(target: &mut Target, logins: Vec<Login>, hold: Duration) -> BoxResult {
    let addr = target.addr;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = target.rss_kib();
    let t = Instant::now();
    let conns = open_all(addr, &logins, 512, 0).await?;
    let login_time = t.elapsed();
    tokio::time::sleep(hold).await;
    let rss_idle = target.rss_kib();
    let n = conns.len();
    let t = Instant::now();
    drop(conns);
    let closed_in = t.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let health = healthy(addr, &logins[0]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = target.rss_kib();
    let per_conn = match (rss_before, rss_idle) {
        (Some(a), Some(b)) => Some((b.saturating_sub(a) * 1024) as f64 / n as f64),
        _ => None,
    };
    println!(
        "{}",
        serde_json::json!({
            "scenario": "idle",
            "system": target.system.name(),
            "store": target.store(),
            "connections": n,
            "login_secs": secs(login_time),
            "server_rss_before_kib": rss_before,
            "server_rss_idle_kib": rss_idle,
            "server_rss_after_close_kib": rss_after,
            "rss_per_connection_bytes": per_conn.map(f64::round),
            "closed_all_in_ms": closed_in.as_millis(),
            "alive_after_close": health.is_some(),
            "health_check_ms": health.map(|d| d.as_secs_f64() * 1000.0),
            "server_in_process": target.in_process(),
        })
    );
    if health.is_none() {
        return Err("the server did not answer after every client closed".into());
    }
    Ok(())
}

/// Opens one connection per login, at most `concurrency` at a time, each timed; all are kept open until
/// the last one is in (a storm), then closed.
async fn storm(
    addr: SocketAddr,
    logins: &[Login],
    concurrency: usize,
    keep: bool,
) -> (Duration, Hist, usize, Option<String>) {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, login) in logins.iter().cloned().enumerate() {
        let gate = gate.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            let t = now_ns();
            let c = Conn::open(addr, i, &login, 512).await;
            let took = now_ns() - t;
            Some((took, c.map_err(|e| e.to_string()), keep))
        });
    }
    let mut hist = Hist::default();
    let mut kept = Vec::new();
    let mut failed = 0;
    let mut first_error = None;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Some((took, Ok(c), keep))) => {
                hist.record(took);
                if keep {
                    kept.push(c);
                }
            }
            Ok(Some((_, Err(e), _))) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
            _ => failed += 1,
        }
    }
    let elapsed = t.elapsed();
    drop(kept);
    (elapsed, hist, failed, first_error)
}

/// Logins per second: with the password (Argon2 on the server, Ququ only) and with a session token
/// (Ququ `RESUME:`; Redis `AUTH`, its cheapest way to start an authenticated session).
pub async fn login(
    target: &mut Target,
    password: Vec<Login>,
    resume: Vec<Login>,
    concurrency: usize,
) -> BoxResult {
    let addr = target.addr;
    for (kind, logins, keep) in [("password", password, false), ("token", resume, true)] {
        if logins.is_empty() {
            continue;
        }
        let (elapsed, hist, failed, first_error) = storm(addr, &logins, concurrency, keep).await;
        println!(
            "{}",
            serde_json::json!({
                "scenario": "login",
                "system": target.system.name(),
            "store": target.store(),
                "kind": kind,
                "logins": logins.len(),
                "concurrency": concurrency,
                "failed": failed,
                "first_error": first_error,
                "secs": secs(elapsed),
                "logins_per_s": ((logins.len() - failed) as f64 / elapsed.as_secs_f64()).round(),
                "latency": hist.summary_ms(),
                "server_in_process": target.in_process(),
            })
        );
        // Let closed sessions leave before the next storm.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

/// A tiny deterministic jitter source per client.
fn jitter(n: usize, round: u32, max_ms: u64) -> Duration {
    let mut x =
        (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((round as u64 + 1) * 0xBF58_476D);
    x ^= x >> 29;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 32;
    Duration::from_millis(x % max_ms.max(1))
}

/// What the clients logging in again count between them.
#[derive(Clone, Default)]
struct Tally {
    back: Arc<AtomicU64>,
    /// When each was back (`now_ns`).
    times: Arc<Mutex<Vec<u64>>>,
    first_error: Arc<Mutex<Option<String>>>,
}

/// Client `i` logs in again as a real one does: after a backoff from 50 ms doubling to 1 s, with
/// jitter, trying `addrs` in turn from its own; once in, it is counted and holds the connection until
/// `stop`. A refused connection is an error unless `refusals_expected` (a server starting again).
async fn log_in_again(
    i: usize,
    addrs: &[SocketAddr],
    login: &Login,
    mut stop: watch::Receiver<bool>,
    tally: &Tally,
    refusals_expected: bool,
) {
    let mut delay = Duration::from_millis(50);
    for round in 0.. {
        tokio::time::sleep(delay / 2 + jitter(i, round, delay.as_millis() as u64)).await;
        if *stop.borrow() {
            return;
        }
        let attempt = i + round as usize;
        match Conn::open(addrs[attempt % addrs.len()], attempt, login, 512).await {
            Ok(c) => {
                tally.back.fetch_add(1, Ordering::Relaxed);
                tally.times.lock().await.push(now_ns());
                let _ = stop.changed().await;
                drop(c);
                return;
            }
            Err(e) => {
                let e = e.to_string();
                if !(refusals_expected && e.contains("refused")) {
                    tally.first_error.lock().await.get_or_insert(e);
                }
                delay = (delay * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// `connections` logged-in clients; the server is stopped and started again; each client reconnects
/// as a real one does (backoff from 50 ms doubling to 1 s, with jitter) and logs in again with its token.
pub async fn restart(target: &mut Target, logins: Vec<Login>) -> BoxResult {
    let addr = target.addr;
    let n = logins.len();
    let conns = open_all(addr, &logins, 512, 0).await?;
    let tally = Tally::default();
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = Vec::with_capacity(n);
    for (i, (mut conn, login)) in conns.into_iter().zip(logins.iter().cloned()).enumerate() {
        let (tally, stop) = (tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            // Wait for the server to go away.
            while let Ok(true) = conn.r.fill().await {
                let k = conn.r.pending().len();
                conn.r.consume(k);
            }
            drop(conn);
            // Refused while the server is down: expected, not an error.
            log_in_again(i, &[addr], &login, stop, &tally, true).await;
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t0 = now_ns();
    target.stop().await?;
    let stopped = now_ns();
    target.start_again().await?;
    let up = now_ns();
    let deadline = Instant::now() + Duration::from_secs(120);
    while (tally.back.load(Ordering::Relaxed) as usize) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let done = now_ns();
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let mut hist = Hist::default();
    for &t in tally.times.lock().await.iter() {
        hist.record(t.saturating_sub(up));
    }
    let s = |a: u64, b: u64| ((b.saturating_sub(a)) as f64 / 1e6).round() / 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "scenario": "restart",
            "system": target.system.name(),
            "store": target.store(),
            "connections": n,
            "logged_in_again": tally.back.load(Ordering::Relaxed),
            "stop_secs": s(t0, stopped),
            "start_secs": s(stopped, up),
            "relogin_secs": s(up, done),
            "total_secs": s(t0, done),
            "relogin_after_start": hist.summary_ms(),
            "first_error": tally.first_error.lock().await.clone(),
            "server_in_process": target.in_process(),
        })
    );
    if (tally.back.load(Ordering::Relaxed) as usize) < n {
        return Err("not every client logged in again".into());
    }
    Ok(())
}

/// Cluster mode: `logins.len()` logged-in clients spread round-robin over the nodes; the last node is
/// killed (SIGKILL: no `BYE:`, as a crash); each of its clients reconnects as `restart`'s do, to the other
/// nodes in turn (as a client behind a load balancer is sent to a live one), and logs in again with its
/// token. Reports the time from the kill until all of them are logged in again, and how many clients of
/// the other nodes lost their connection meanwhile (there should be none).
pub async fn failover(nodes: &mut [Target], logins: Vec<Login>) -> BoxResult {
    let addrs: Vec<_> = nodes.iter().map(|t| t.addr).collect();
    if addrs.len() < 2 {
        return Err("failover needs --nodes 2 or more".into());
    }
    let victim = addrs.len() - 1;
    let live: Vec<_> = addrs[..victim].to_vec();
    let n = logins.len();
    let conns = open_spread(&addrs, &logins, 512, 0).await?;
    let moving = (0..n).filter(|i| i % addrs.len() == victim).count();
    let tally = Tally::default();
    let dropped = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = Vec::with_capacity(n);
    for (i, (mut conn, login)) in conns.into_iter().zip(logins.iter().cloned()).enumerate() {
        let (tally, dropped, mut stop, live) =
            (tally.clone(), dropped.clone(), stop.clone(), live.clone());
        let mine = i % addrs.len() == victim;
        tasks.push(tokio::spawn(async move {
            // Wait for the connection to end (or the run).
            loop {
                tokio::select! {
                    more = conn.r.fill() => match more {
                        Ok(true) => {
                            let k = conn.r.pending().len();
                            conn.r.consume(k);
                        }
                        _ => break,
                    },
                    _ = stop.changed() => return,
                }
            }
            drop(conn);
            if !mine {
                dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            log_in_again(i, &live, &login, stop, &tally, false).await;
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t0 = now_ns();
    nodes[victim].kill().await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while (tally.back.load(Ordering::Relaxed) as usize) < moving && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let done = now_ns();
    // A moment more, so that a surviving node's clients cut off late are counted too.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let mut hist = Hist::default();
    for &t in tally.times.lock().await.iter() {
        hist.record(t.saturating_sub(t0));
    }
    let target = &nodes[0];
    println!(
        "{}",
        serde_json::json!({
            "scenario": "failover",
            "system": target.system.name(),
            "store": target.store(),
            "nodes": addrs.len(),
            "connections": n,
            "on_killed_node": moving,
            "logged_in_again": tally.back.load(Ordering::Relaxed),
            "failover_secs": ((done - t0) as f64 / 1e6).round() / 1000.0,
            "relogin_after_kill": hist.summary_ms(),
            "others_dropped": dropped.load(Ordering::Relaxed),
            "first_error": tally.first_error.lock().await.clone(),
        })
    );
    if (tally.back.load(Ordering::Relaxed) as usize) < moving {
        return Err("not every client of the killed node logged in again".into());
    }
    Ok(())
}

/// Logins for `n` Redis clients, each subscribed to its own channel (a session with a mailbox).
pub fn redis_sessions(n: usize) -> Vec<Login> {
    (0..n)
        .map(|i| Login::Redis {
            subscribe: Some(format!("u{i}")),
        })
        .collect()
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Ququ => "ququ",
            System::Redis => "redis",
        }
    }
}
