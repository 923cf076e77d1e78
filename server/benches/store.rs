//! The server's message store: one group commit as the fan-out benchmark makes them — 37 messages of
//! 64 bytes from 4 senders to one group, written in one transaction by `Store::store_messages`.
//!
//! `cargo bench -p ququ-server --bench store`. The figure is SQLite's share of a fan-out: the rest of the
//! server's time goes to putting each stored message on every member's socket. `QUQU_BENCH_BATCHES`
//! sets how many commits the store holds before measuring starts (20,000, about 740,000 messages; under
//! `cargo test --benches`, which runs the bench once as a check, 100), so indexes are as deep as after a
//! few minutes of load rather than empty.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use ququ_server::storage::{
    AccountStore, Body, GroupStore, MessageStore, NewMessage, Target, Upkeep,
};
use ququ_server::{Durability, SqliteStore};

/// Messages per commit: what the server's writer gathered per commit in the fan-out benchmark.
const BATCH: usize = 37;
const SENDERS: i64 = 4;

fn prefill() -> usize {
    if let Some(n) = std::env::var("QUQU_BENCH_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    if std::env::args().any(|a| a == "--bench") {
        20_000
    } else {
        100
    }
}

struct Sender {
    store: SqliteStore,
    group: i64,
    senders: Vec<i64>,
    seq: u64,
    text: String,
}

impl Sender {
    /// The next commit's messages, with client ids shaped like the real client's (time first).
    fn batch(&mut self) -> Vec<NewMessage> {
        (0..BATCH)
            .map(|i| {
                self.seq += 1;
                NewMessage {
                    sender: self.senders[i % self.senders.len()],
                    to: Target::Group(self.group),
                    client_id: format!(
                        "{:012x}{:020x}",
                        1_780_000_000_000 + self.seq / 40,
                        self.seq
                    ),
                    time: self.seq,
                    body: Body::Text(self.text.clone()),
                    hidden: false,
                }
            })
            .collect()
    }

    fn commit(&mut self) {
        let batch = self.batch();
        for r in self.store.store_messages(&batch) {
            assert!(!r.expect("stored").duplicate);
        }
    }
}

fn group_commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("bench.db"), Durability::Normal).expect("open");
    let senders: Vec<i64> = (0..SENDERS)
        .map(|i| {
            store
                .create_user(&format!("sender{i}"), "S", "h", 1)
                .expect("user")
                .id
        })
        .collect();
    let group = store
        .create_group(senders[0], "bench", 1)
        .expect("group")
        .id;
    let mut s = Sender {
        store,
        group,
        senders,
        seq: 0,
        text: "x".repeat(64),
    };
    for i in 0..prefill() {
        s.commit();
        // The server checkpoints the WAL every second; without it the WAL would grow without bound.
        if i % 1000 == 999 {
            s.store.maintain().expect("checkpoint");
        }
    }
    s.store.maintain().expect("checkpoint");

    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("group commit of 37 messages", |b| {
        // The server checkpoints on a thread of its own, so checkpoints are run here but not timed.
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for i in 0..iters {
                let start = Instant::now();
                s.commit();
                timed += start.elapsed();
                if i % 1000 == 999 {
                    s.store.maintain().expect("checkpoint");
                }
            }
            s.store.maintain().expect("checkpoint");
            black_box(timed)
        })
    });
    g.finish();
}

criterion_group!(benches, group_commit);
criterion_main!(benches);
