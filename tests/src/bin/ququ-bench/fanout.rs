//! `fanout` (one group, N receiving members, S senders) and `direct` (P pairs of friends, one sender
//! each): every sender sends K messages as fast as it may or at a fixed rate, every receiver checks each
//! delivery, and the run reports deliveries/s, end-to-end latency, and lost, duplicated and garbled
//! deliveries — counted exactly: each payload carries its sender, a sequence number and the send time,
//! and each receiver keeps a bitmap per sender.
//!
//! Flow control, the same for Ququ and Redis: a sender keeps at most `window` messages unacknowledged
//! (`ACK:` / Redis's integer reply), and all senders together at most `inflight` messages not yet
//! delivered to every receiver, so "as fast as possible" measures the sustained rate instead of a queue
//! growing until the server cuts a slow reader off.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Notify, Semaphore, watch};

use crate::client::Login;
use crate::target::Target;
use crate::wire::{
    Hist, MIN_PAYLOAD, Reader, hex_digits, now_ns, parse_u64, read_payload, resp_command,
    resp_frame, write_payload,
};
use crate::{BoxResult, System, open_spread};

/// The load, from the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct Load {
    /// Messages each sender sends
    #[arg(long, default_value_t = 20_000)]
    pub messages: u64,
    /// Messages per second per sender; default: as fast as flow control allows
    #[arg(long)]
    pub rate: Option<u32>,
    /// Payload bytes per message (at least 34)
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Unacknowledged messages a sender may have
    #[arg(long, default_value_t = 256)]
    pub window: usize,
    /// Messages, over all senders, sent but not yet delivered to every receiver
    #[arg(long, default_value_t = 2_000)]
    pub inflight: u64,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 120)]
    pub max_secs: u64,
}

/// Who sends where, and who expects what.
#[derive(Debug)]
pub struct Plan {
    pub scenario: &'static str,
    pub senders: Vec<SenderSpec>,
    pub receivers: Vec<ReceiverSpec>,
    /// Counted deliveries per message (receivers that expect it).
    pub fanout: u64,
    pub params: serde_json::Value,
}

#[derive(Debug)]
pub struct SenderSpec {
    pub login: Login,
    /// Ququ: the line up to the client id (`GROUP:<gid>:` or `MSG:<account>:`); Redis: the channel.
    pub dest: Vec<u8>,
    /// Ququ: the account receivers must see as the sender.
    pub name: String,
}

#[derive(Debug)]
pub struct ReceiverSpec {
    pub login: Login,
    /// Indexes of the senders whose messages this receiver must get.
    pub expects: Vec<u32>,
    /// Ququ: the group id in `GROUP:` lines, or my account in `MSG:` lines; Redis: my channel.
    pub me: Vec<u8>,
}

/// What one receiver saw.
#[derive(Debug, Default)]
struct Tally {
    bits: Vec<Vec<u64>>,
    distinct: u64,
    duplicates: u64,
    garbled: u64,
    hist: Hist,
    /// The same latencies split by where the sender was: [on my node, on another] (cluster mode).
    by_node: [Hist; 2],
    /// Per sender: whether it is on another node than this receiver.
    cross: Vec<bool>,
    /// When the last new delivery arrived (ns, [`now_ns`]).
    last_new: u64,
}

impl Tally {
    fn new(senders: usize, expects: &[u32], messages: u64, cross: Vec<bool>) -> Tally {
        let mut bits = vec![Vec::new(); senders];
        for &s in expects {
            bits[s as usize] = vec![0; messages.div_ceil(64) as usize];
        }
        Tally {
            bits,
            cross,
            ..Tally::default()
        }
    }

    /// One delivery of (sender, seq) sent at `t`; false if it is not one this receiver expects.
    fn record(&mut self, s: u32, seq: u64, t: u64, now: u64) -> bool {
        let Some(bits) = self.bits.get_mut(s as usize) else {
            return false;
        };
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        let Some(w) = bits.get_mut(word) else {
            return false;
        };
        if *w & bit != 0 {
            self.duplicates += 1;
        } else {
            *w |= bit;
            self.distinct += 1;
            self.last_new = now;
            let latency = now.saturating_sub(t);
            self.hist.record(latency);
            let cross = self.cross.get(s as usize).copied().unwrap_or(false);
            self.by_node[cross as usize].record(latency);
        }
        true
    }
}

/// Shared between senders and receivers.
#[derive(Debug, Default)]
struct Flow {
    sent: AtomicU64,
    delivered: AtomicU64,
    progress: Notify,
}

/// Ququ: parses one `GROUP:`/`MSG:` line of ours and records it; other lines are ignored.
fn ququ_line(line: &[u8], size: usize, me: &[u8], names: &[String], tally: &mut Tally, now: u64) {
    let group = line.starts_with(b"GROUP:");
    if !group && !line.starts_with(b"MSG:") {
        return;
    }
    let ok = (|| {
        let cut = line.len().checked_sub(size + 1)?;
        if line[cut] != b':' {
            return None;
        }
        let (s, seq, t) = read_payload(&line[cut + 1..], size)?;
        // verb:id:a:b:time:client_id
        let head = &line[..cut];
        let mut colons = [0usize; 5];
        let mut n = 0;
        for i in memchr::memchr_iter(b':', head) {
            if n == 5 {
                return None;
            }
            colons[n] = i;
            n += 1;
        }
        if n != 5 {
            return None;
        }
        let field =
            |k: usize| &head[colons[k - 1] + 1..colons.get(k).copied().unwrap_or(head.len())];
        let cid = &head[colons[4] + 1..];
        if cid.len() != 32 || seq_of_client_id(&cid[12..]) != Some(seq) {
            return None;
        }
        parse_u64(field(1))?;
        let (from, mine) = if group {
            (field(3), field(2))
        } else {
            (field(2), field(3))
        };
        if mine != me || names.get(s as usize)?.as_bytes() != from {
            return None;
        }
        tally.record(s, seq, t, now).then_some(())
    })();
    if ok.is_none() {
        tally.garbled += 1;
    }
}

/// Reads deliveries until every expected message has arrived or `stop` says so.
#[allow(clippy::too_many_arguments)]
async fn receive(
    system: System,
    mut r: Reader<OwnedReadHalf>,
    spec_me: Vec<u8>,
    mut tally: Tally,
    expected: u64,
    size: usize,
    names: Arc<Vec<String>>,
    flow: Arc<Flow>,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    loop {
        let now = now_ns();
        let before = tally.distinct;
        let mut used = 0;
        let buf = r.pending();
        match system {
            System::Ququ => {
                while let Some(i) = memchr::memchr(b'\n', &buf[used..]) {
                    ququ_line(
                        &buf[used..used + i],
                        size,
                        &spec_me,
                        &names,
                        &mut tally,
                        now,
                    );
                    used += i + 1;
                }
            }
            System::Redis => loop {
                match resp_frame(&buf[used..]) {
                    Ok(Some((n, parts))) => {
                        if let Some((chan, payload)) = parts {
                            let (chan, payload) = (&buf[used..][chan], &buf[used..][payload]);
                            let ok = chan == spec_me.as_slice()
                                && read_payload(payload, size)
                                    .is_some_and(|(s, seq, t)| tally.record(s, seq, t, now));
                            if !ok {
                                tally.garbled += 1;
                            }
                        }
                        used += n;
                    }
                    Ok(None) => break,
                    Err(()) => {
                        tally.garbled += 1;
                        return tally;
                    }
                }
            },
        }
        r.consume(used);
        let new = tally.distinct - before;
        if new > 0 {
            flow.delivered.fetch_add(new, Ordering::Relaxed);
            flow.progress.notify_waiters();
        }
        if tally.distinct >= expected || *stop.borrow() {
            return tally;
        }
        tokio::select! {
            more = r.fill() => match more {
                Ok(true) => {}
                _ => return tally,
            },
            _ = stop.changed() => return tally,
        }
    }
}

/// What one sender did.
#[derive(Debug, Default)]
struct Sent {
    sent: u64,
    acked: u64,
    errors: u64,
    first_error: Option<String>,
    disconnected: bool,
}

/// Counts replies to a sender's messages and returns their credit to the window.
async fn replies(
    system: System,
    mut r: Reader<OwnedReadHalf>,
    window: Arc<Semaphore>,
    total: u64,
    mut stop: watch::Receiver<bool>,
) -> Sent {
    let mut out = Sent::default();
    loop {
        let buf = r.pending();
        let mut used = 0;
        let (mut ok, mut err) = (0u64, 0u64);
        match system {
            System::Ququ => {
                while let Some(i) = memchr::memchr(b'\n', &buf[used..]) {
                    let line = &buf[used..used + i];
                    if line.starts_with(b"ACK:") {
                        ok += 1;
                    } else if line.starts_with(b"ERROR:") {
                        err += 1;
                        out.first_error
                            .get_or_insert_with(|| String::from_utf8_lossy(line).into_owned());
                    }
                    used += i + 1;
                }
            }
            System::Redis => {
                while let Ok(Some((n, _))) = resp_frame(&buf[used..]) {
                    match buf[used] {
                        b':' => ok += 1,
                        b'-' => {
                            err += 1;
                            out.first_error.get_or_insert_with(|| {
                                String::from_utf8_lossy(&buf[used..used + n]).into_owned()
                            });
                        }
                        _ => {}
                    }
                    used += n;
                }
            }
        }
        r.consume(used);
        out.acked += ok;
        out.errors += err;
        if ok + err > 0 {
            window.add_permits((ok + err) as usize);
        }
        if out.acked + out.errors >= total || *stop.borrow() {
            window.close();
            return out;
        }
        let more = tokio::select! {
            more = r.fill() => matches!(more, Ok(true)),
            _ = stop.changed() => false,
        };
        if !more {
            // Cut off (a Ququ sender whose outbox overflowed, say): its sender must not wait for credit.
            out.disconnected = !*stop.borrow();
            window.close();
            return out;
        }
    }
}

/// A client id shaped like the real client's (`ququ_client::new_client_id`): 32 hex digits, the send
/// time in milliseconds first. The last 20 are the sequence number instead of random bits, so a receiver
/// can check them.
fn client_id(now_ns: u64, seq: u64) -> String {
    format!(
        "{:012x}{:020x}",
        (now_ns / 1_000_000) & 0xffff_ffff_ffff,
        seq
    )
}

/// The sequence number in the last 20 hex digits of a [`client_id`].
fn seq_of_client_id(tail: &[u8]) -> Option<u64> {
    // 20 digits of a u64: the first four are always 0.
    match tail.split_at_checked(4)? {
        (b"0000", rest) if rest.len() == 16 => hex_digits(rest),
        _ => None,
    }
}

/// Sends `load.messages` messages, paced by the window, the in-flight bound and the rate.
#[allow(clippy::too_many_arguments)]
async fn send(
    system: System,
    index: u32,
    mut w: OwnedWriteHalf,
    dest: Vec<u8>,
    load: Load,
    fanout: u64,
    window: Arc<Semaphore>,
    flow: Arc<Flow>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<u64> {
    const BATCH: u64 = 64;
    let start = now_ns();
    let mut seq = 0u64;
    let mut out = Vec::with_capacity(256 * BATCH as usize);
    let mut payload = Vec::with_capacity(load.size);
    let limit = load.inflight.max(1) * fanout;
    while seq < load.messages && !*stop.borrow() {
        let mut want = load.messages - seq;
        if let Some(rate) = load.rate {
            let per = 1e9 / rate.max(1) as f64;
            let due = (((now_ns() - start) as f64 / per) as u64 + 1).min(load.messages);
            if due <= seq {
                let at = start + (seq as f64 * per) as u64;
                tokio::time::sleep(Duration::from_nanos(at.saturating_sub(now_ns()))).await;
                continue;
            }
            want = due - seq;
        }
        // Everyone's undelivered messages stay under the bound.
        loop {
            let wait = flow.progress.notified();
            tokio::pin!(wait);
            wait.as_mut().enable();
            let outstanding = (flow.sent.load(Ordering::Relaxed) * fanout)
                .saturating_sub(flow.delivered.load(Ordering::Relaxed));
            if outstanding < limit || *stop.borrow() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(5), wait).await;
        }
        let n = want
            .min(BATCH)
            .min(window.available_permits().max(1) as u64);
        match window.acquire_many(n as u32).await {
            Ok(p) => p.forget(),
            Err(_) => break,
        }
        out.clear();
        let t = now_ns();
        for _ in 0..n {
            payload.clear();
            write_payload(&mut payload, index, seq, t, load.size);
            let cid = client_id(t, seq);
            match system {
                System::Ququ => {
                    out.extend_from_slice(&dest);
                    out.extend_from_slice(cid.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(&payload);
                    out.push(b'\n');
                }
                System::Redis => resp_command(&mut out, &[b"PUBLISH", &dest, &payload]),
            }
            seq += 1;
        }
        flow.sent.fetch_add(n, Ordering::Relaxed);
        w.write_all(&out).await?;
    }
    Ok(seq)
}

/// Runs a plan against the target — one server, or cluster nodes with the clients spread over them
/// round-robin (receiver `i` and sender `i` on node `i % nodes`) — and prints its JSON line.
pub async fn run(
    nodes: &mut [Target],
    plan: Plan,
    load: &Load,
    bus_monitor: Option<SocketAddr>,
) -> BoxResult {
    if load.size < MIN_PAYLOAD {
        return Err(format!("--size must be at least {MIN_PAYLOAD}").into());
    }
    let target = nodes.first().ok_or("no server")?;
    let system = target.system;
    let store = target.store();
    let in_process = target.in_process();
    let addrs: Vec<SocketAddr> = nodes.iter().map(|t| t.addr).collect();
    let node_of = |i: usize| i % addrs.len();
    let s_count = plan.senders.len();
    let names = Arc::new(
        plan.senders
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>(),
    );
    let buf = 256 * 1024;
    let rx_logins: Vec<Login> = plan.receivers.iter().map(|r| r.login.clone()).collect();
    let tx_logins: Vec<Login> = plan.senders.iter().map(|s| s.login.clone()).collect();
    let receivers = open_spread(&addrs, &rx_logins, buf, 0).await?;
    let senders = open_spread(&addrs, &tx_logins, buf, rx_logins.len()).await?;
    let rss =
        |nodes: &[Target]| -> Vec<Option<u64>> { nodes.iter().map(|t| t.rss_kib()).collect() };
    let rss_before = rss(nodes);
    let bus_before = match bus_monitor {
        Some(at) => Some(nats_varz(at).await?),
        None => None,
    };

    let flow = Arc::new(Flow::default());
    let (stop_tx, stop) = watch::channel(false);
    let start = now_ns();
    let mut rx_tasks = Vec::new();
    // Dropping a write half would close the connection: keep them until the end.
    let mut keep = Vec::new();
    for (i, (conn, spec)) in receivers.into_iter().zip(&plan.receivers).enumerate() {
        keep.push(conn.w);
        let expected = spec.expects.len() as u64 * load.messages;
        let cross = (0..s_count).map(|s| node_of(s) != node_of(i)).collect();
        let tally = Tally::new(s_count, &spec.expects, load.messages, cross);
        rx_tasks.push(tokio::spawn(receive(
            system,
            conn.r,
            spec.me.clone(),
            tally,
            expected,
            load.size,
            names.clone(),
            flow.clone(),
            stop.clone(),
        )));
    }
    let mut tx_tasks = Vec::new();
    for (i, (conn, spec)) in senders.into_iter().zip(&plan.senders).enumerate() {
        let window = Arc::new(Semaphore::new(load.window.max(1)));
        let reply_task = tokio::spawn(replies(
            system,
            conn.r,
            window.clone(),
            load.messages,
            stop.clone(),
        ));
        let send_task = tokio::spawn(send(
            system,
            i as u32,
            conn.w,
            spec.dest.clone(),
            load.clone(),
            plan.fanout,
            window,
            flow.clone(),
            stop.clone(),
        ));
        tx_tasks.push((send_task, reply_task));
    }

    // Bounded: the whole run, then a grace period for the last deliveries.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(load.max_secs);
    let mut sent = Sent::default();
    for (send_task, reply_task) in tx_tasks {
        let n = match tokio::time::timeout_at(deadline, send_task).await {
            Ok(Ok(Ok(n))) => n,
            _ => 0,
        };
        sent.sent += n;
        let grace = deadline.max(tokio::time::Instant::now() + Duration::from_secs(10));
        if let Ok(Ok(r)) = tokio::time::timeout_at(grace, reply_task).await {
            sent.acked += r.acked;
            sent.errors += r.errors;
            sent.disconnected |= r.disconnected;
            if sent.first_error.is_none() {
                sent.first_error = r.first_error;
            }
        }
    }
    let senders_done = now_ns();
    let grace = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut all = Tally::default();
    let mut tallies = Vec::new();
    for mut task in rx_tasks {
        let t = match tokio::time::timeout_at(grace, &mut task).await {
            Ok(t) => t,
            Err(_) => {
                // Out of time: stop everyone and count what arrived.
                let _ = stop_tx.send(true);
                task.await
            }
        };
        tallies.push(t?);
    }
    let _ = stop_tx.send(true);
    drop(keep);
    let mut last = start;
    for t in &tallies {
        all.distinct += t.distinct;
        all.duplicates += t.duplicates;
        all.garbled += t.garbled;
        all.hist.merge(&t.hist);
        all.by_node[0].merge(&t.by_node[0]);
        all.by_node[1].merge(&t.by_node[1]);
        last = last.max(t.last_new);
    }
    let bus = match (bus_monitor, bus_before) {
        (Some(at), Some(before)) => Some(bus_figures(&before, &nats_varz(at).await?)),
        _ => None,
    };
    let expected: u64 = plan
        .receivers
        .iter()
        .map(|r| r.expects.len() as u64 * load.messages)
        .sum();
    let secs = (last - start) as f64 / 1e9;
    let rss_after = rss(nodes);
    // Commits: each child server stopped as an operator would, so that its writer logs its counts (the
    // seeding wrote to the store directly, so they are this run's messages only).
    let mut commits: Option<(u64, u64)> = None;
    for t in nodes
        .iter_mut()
        .filter(|t| system == System::Ququ && !t.in_process())
    {
        t.stop().await?;
        commits = match (commits, t.writer_counts()) {
            (None, Some(c)) => Some(c),
            (Some((b, m)), Some((b2, m2))) => Some((b + b2, m + m2)),
            (c, None) => c,
        };
    }
    let total = |kib: &[Option<u64>]| -> Option<u64> {
        kib.iter().copied().sum::<Option<u64>>().map(|k| k / 1024)
    };
    let mut line = serde_json::json!({
        "scenario": plan.scenario,
        "system": system.name(),
        "store": store,
        "params": plan.params,
        "messages_per_sender": load.messages,
        "rate_per_sender": load.rate,
        "payload_bytes": load.size,
        "window": load.window,
        "inflight": load.inflight,
        "sent": sent.sent,
        "acked": sent.acked,
        "send_errors": sent.errors,
        "first_error": sent.first_error,
        "sender_disconnected": sent.disconnected,
        "expected_deliveries": expected,
        "delivered": all.distinct,
        "lost": expected - all.distinct.min(expected),
        "duplicates": all.duplicates,
        "garbled": all.garbled,
        "secs": (secs * 1000.0).round() / 1000.0,
        "send_secs": ((senders_done - start) as f64 / 1e6).round() / 1000.0,
        "deliveries_per_s": (all.distinct as f64 / secs).round(),
        "messages_per_s": (all.distinct as f64 / plan.fanout as f64 / secs).round(),
        "latency": all.hist.summary_ms(),
        "server_rss_mib": total(&rss_after),
        "server_rss_before_mib": total(&rss_before),
        "server_in_process": in_process,
        "nodes": nodes.len(),
    });
    if let Some((batches, messages)) = commits {
        line["commits"] = batches.into();
        line["commits_per_s"] = (batches as f64 / secs).round().into();
        line["batch_messages"] =
            ((messages as f64 / batches.max(1) as f64 * 10.0).round() / 10.0).into();
    }
    if nodes.len() > 1 {
        // Same-node: the recipient is on its sender's node, so only that node's push is timed; cross-node:
        // the message went through PostgreSQL and the other node's relay (woken by the bus or the poll).
        line["latency_same_node"] = all.by_node[0].summary_ms();
        line["latency_cross_node"] = all.by_node[1].summary_ms();
        line["deliveries_same_node"] = all.by_node[0].count().into();
        line["deliveries_cross_node"] = all.by_node[1].count().into();
        line["node_rss_mib"] = rss_after
            .iter()
            .map(|k| k.map(|k| k / 1024))
            .collect::<Vec<_>>()
            .into();
    }
    if let Some(mut bus) = bus {
        // From the first delivery's start to the last delivery, as deliveries_per_s.
        let per_s = |n: u64| (n as f64 / secs).round();
        bus["in_msgs_per_s"] = per_s(bus["in_msgs"].as_u64().unwrap_or(0)).into();
        bus["out_msgs_per_s"] = per_s(bus["out_msgs"].as_u64().unwrap_or(0)).into();
        line["bus"] = bus;
    }
    println!("{line}");
    Ok(())
}

/// A NATS server's `/varz` (its monitoring port, `nats-server -m`), by a plain HTTP/1.0 GET.
async fn nats_varz(at: SocketAddr) -> BoxResult<serde_json::Value> {
    use tokio::io::AsyncReadExt;
    let mut s = tokio::net::TcpStream::connect(at).await?;
    s.write_all(b"GET /varz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut reply)).await??;
    let body = memchr::memmem::find(&reply, b"\r\n\r\n").ok_or("no HTTP body from /varz")? + 4;
    Ok(serde_json::from_slice(&reply[body..])?)
}

/// What the bus carried between two `/varz` readings: messages published to it (`in_msgs`: each node's
/// "stored up to N" and "passed" notices) and delivered by it to subscribers (`out_msgs`).
fn bus_figures(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    let delta = |k: &str| {
        after[k]
            .as_u64()
            .unwrap_or(0)
            .saturating_sub(before[k].as_u64().unwrap_or(0))
    };
    serde_json::json!({
        "in_msgs": delta("in_msgs"),
        "out_msgs": delta("out_msgs"),
        "in_bytes": delta("in_bytes"),
    })
}

/// One group: `members` receivers and `senders` senders, all members (Ququ) or subscribers of one
/// channel (Redis).
pub fn group_plan(
    system: System,
    members: usize,
    senders: usize,
    seeded: Option<&crate::seed::Seeded>,
) -> Plan {
    let sender_names: Vec<String> = (0..senders).map(|i| format!("s{i:04}")).collect();
    let params = serde_json::json!({"members": members, "senders": senders});
    match (system, seeded) {
        (System::Ququ, Some(seeded)) => {
            let gid = seeded.group.expect("seeded group");
            let acc = &seeded.accounts;
            Plan {
                scenario: "fanout",
                senders: (0..senders)
                    .map(|i| SenderSpec {
                        login: resume(&acc[i]),
                        dest: format!("GROUP:{gid}:").into_bytes(),
                        name: sender_names[i].clone(),
                    })
                    .collect(),
                receivers: (0..members)
                    .map(|i| ReceiverSpec {
                        login: resume(&acc[senders + i]),
                        expects: (0..senders as u32).collect(),
                        me: gid.to_string().into_bytes(),
                    })
                    .collect(),
                fanout: members as u64,
                params,
            }
        }
        _ => Plan {
            scenario: "fanout",
            senders: sender_names
                .iter()
                .map(|name| SenderSpec {
                    login: Login::Redis { subscribe: None },
                    dest: b"bench".to_vec(),
                    name: name.clone(),
                })
                .collect(),
            receivers: (0..members)
                .map(|_| ReceiverSpec {
                    login: Login::Redis {
                        subscribe: Some("bench".into()),
                    },
                    expects: (0..senders as u32).collect(),
                    me: b"bench".to_vec(),
                })
                .collect(),
            fanout: members as u64,
            params,
        },
    }
}

/// `pairs` pairs of friends (Ququ) or channels (Redis), each with one sender and one receiver.
pub fn direct_plan(system: System, pairs: usize, seeded: Option<&crate::seed::Seeded>) -> Plan {
    let params = serde_json::json!({"pairs": pairs});
    let sender_names: Vec<String> = (0..pairs).map(|i| format!("s{i:04}")).collect();
    match (system, seeded) {
        (System::Ququ, Some(seeded)) => {
            let acc = &seeded.accounts;
            Plan {
                scenario: "direct",
                senders: (0..pairs)
                    .map(|i| SenderSpec {
                        login: resume(&acc[i]),
                        dest: format!("MSG:{}:", acc[pairs + i].name).into_bytes(),
                        name: sender_names[i].clone(),
                    })
                    .collect(),
                receivers: (0..pairs)
                    .map(|i| ReceiverSpec {
                        login: resume(&acc[pairs + i]),
                        expects: vec![i as u32],
                        me: acc[pairs + i].name.clone().into_bytes(),
                    })
                    .collect(),
                fanout: 1,
                params,
            }
        }
        _ => Plan {
            scenario: "direct",
            senders: (0..pairs)
                .map(|i| SenderSpec {
                    login: Login::Redis { subscribe: None },
                    dest: format!("p{i}").into_bytes(),
                    name: sender_names[i].clone(),
                })
                .collect(),
            receivers: (0..pairs)
                .map(|i| ReceiverSpec {
                    login: Login::Redis {
                        subscribe: Some(format!("p{i}")),
                    },
                    expects: vec![i as u32],
                    me: format!("p{i}").into_bytes(),
                })
                .collect(),
            fanout: 1,
            params,
        },
    }
}

pub fn resume(a: &crate::seed::Account) -> Login {
    Login::Resume {
        account: a.name.clone(),
        token: a.token.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_id_carries_its_sequence_number() {
        for seq in [0, 1, 0xabc, u64::MAX] {
            let id = client_id(1_764_028_805_000_000_000, seq);
            assert_eq!(id.len(), 32);
            assert_eq!(seq_of_client_id(&id.as_bytes()[12..]), Some(seq), "{id}");
        }
        assert_eq!(seq_of_client_id(b"1000ffffffffffffffff"), None);
        assert_eq!(seq_of_client_id(b"0000fffffffffffffff"), None, "too short");
        assert_eq!(seq_of_client_id(b"0000ffffffffffffffzf"), None);
    }
}
