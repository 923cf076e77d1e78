//! The protocol's hot path: parse and format of a chat line, and line framing.
//!
//! `cargo bench -p ququ-protocol --bench codec`. Under `cargo test --benches` each runs once, as a check.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio_util::codec::{Decoder, Encoder};

use ququ_protocol::{ChatMessage, ClientMessage, GroupMessage, LineCodec, ServerMessage};

/// A 64-byte payload, like the fan-out benchmark's.
const TEXT: &str = "0003000001234500000000017640288050000xxxxxxxxxxxxxxxxxxxxxxxxxxxx";

fn parse_and_format(c: &mut Criterion) {
    let mut g = c.benchmark_group("line");
    g.throughput(Throughput::Elements(1));
    let client_line = format!("MSG:bob:c123456:{TEXT}");
    g.bench_function("parse client MSG", |b| {
        b.iter(|| ClientMessage::parse(black_box(&client_line)).unwrap())
    });
    let cjk = "你好 Bob! lunch at 12:30? 100% my treat 🍜".repeat(2);
    let cjk_line = format!("MSG:bob:c123456:{cjk}");
    g.bench_function("parse client MSG (CJK, colons, %)", |b| {
        b.iter(|| ClientMessage::parse(black_box(&cjk_line)).unwrap())
    });
    let group = ServerMessage::GroupMsg(GroupMessage {
        id: 123_456_789,
        group: 1,
        from: "s0003".into(),
        time: 1_764_028_805_000,
        client_id: "c123456".into(),
        text: TEXT.into(),
    });
    g.bench_function("format server GROUP", |b| {
        b.iter(|| black_box(&group).format())
    });
    let server_line = group.format();
    g.bench_function("parse server GROUP", |b| {
        b.iter(|| ServerMessage::parse(black_box(&server_line)).unwrap())
    });
    let private = ServerMessage::Msg(ChatMessage {
        id: 1,
        from: "alice".into(),
        to: "bob".into(),
        time: 1_764_028_805_000,
        client_id: "c17".into(),
        text: cjk.clone(),
    });
    g.bench_function("format server MSG (CJK, colons, %)", |b| {
        b.iter(|| black_box(&private).format())
    });
    g.finish();
}

fn framing(c: &mut Criterion) {
    let mut g = c.benchmark_group("framing");
    // 1,000 server lines in one buffer, as one read of a busy connection.
    let line = ServerMessage::GroupMsg(GroupMessage {
        id: 123_456_789,
        group: 1,
        from: "s0003".into(),
        time: 1_764_028_805_000,
        client_id: "c123456".into(),
        text: TEXT.into(),
    })
    .format();
    let mut input = BytesMut::new();
    let mut codec = LineCodec::default();
    for _ in 0..1000 {
        codec.encode(line.as_str(), &mut input).unwrap();
    }
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("decode 1000 lines", |b| {
        b.iter(|| {
            let mut buf = input.clone();
            let mut codec = LineCodec::default();
            let mut n = 0;
            while let Some(l) = codec.decode(&mut buf).unwrap() {
                black_box(l.unwrap());
                n += 1;
            }
            assert_eq!(n, 1000);
        })
    });
    g.bench_function("encode 1000 lines", |b| {
        let mut out = BytesMut::with_capacity(input.len());
        b.iter(|| {
            out.clear();
            let mut codec = LineCodec::default();
            for _ in 0..1000 {
                codec.encode(black_box(line.as_str()), &mut out).unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(benches, parse_and_format, framing);
criterion_main!(benches);
