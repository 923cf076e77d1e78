//! The checks behind the `parse_line` fuzz target.
//!
//! This file is also compiled into `protocol/tests/properties.rs` (via `#[path]`), so everything here runs
//! on stable in `cargo test -p ququ-protocol`, seed corpus included, and cannot rot while nobody fuzzes.
//!
//! For any input bytes:
//! - neither `ClientMessage::parse` nor `ServerMessage::parse` panics, on the whole input (lossily decoded)
//!   or on any of its lines;
//! - whatever parses formats to a line with no raw CR/LF that parses back to the same value and formats the
//!   same again (every accepted line has one canonical form);
//! - `LineCodec` never panics, never yields a line over its cap or containing `\n`, gives the same results
//!   however the bytes are split into reads, and agrees with [`reference_lines`], a plain model of framing.

use bytes::BytesMut;
use ququ_protocol::{ClientMessage, CodecError, DEFAULT_MAX_LINE, LineCodec, ServerMessage};
use tokio_util::codec::Decoder;

/// One thing a [`LineCodec`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Line(String),
    NotUtf8,
    /// `CodecError::LineTooLong`; decoding stops there, as a connection would be closed.
    TooLong,
}

/// Runs every check on `data`. Panics (the fuzzer's finding) if one fails.
pub fn parse_line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_line(&text);
    for line in text.split('\n') {
        check_line(line.strip_suffix('\r').unwrap_or(line));
    }

    // The default cap, and a tiny one so over-long lines are common; each fed whole, a byte at a time and
    // in chunks of a size the input picks.
    for cap in [DEFAULT_MAX_LINE, 16] {
        let reference = reference_lines(cap, data);
        let chunk = 1 + data.len() % 7;
        let pieces: Vec<&[u8]> = data.chunks(chunk).collect();
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(
            decode_chunks(cap, &[data]),
            reference,
            "whole input, cap {cap}"
        );
        assert_eq!(
            decode_chunks(cap, &pieces),
            reference,
            "chunks of {chunk}, cap {cap}"
        );
        assert_eq!(decode_chunks(cap, &bytes), reference, "bytewise, cap {cap}");
        for out in reference {
            if let Decoded::Line(line) = out {
                assert!(line.len() <= cap && !line.contains('\n'));
                check_line(&line);
            }
        }
    }
}

/// Both parsers on one line: no panic, and anything accepted has a canonical form that round-trips.
pub fn check_line(line: &str) {
    match ClientMessage::parse(line) {
        Ok(msg) => {
            let wire = msg.format();
            assert!(!wire.contains(['\r', '\n']), "raw CR/LF in {wire:?}");
            let again = ClientMessage::parse(&wire).unwrap_or_else(|e| {
                panic!("{line:?} parsed to {msg:?}, whose {wire:?} fails: {e}")
            });
            assert_eq!(again, msg, "{line:?} -> {wire:?}");
            assert_eq!(again.format(), wire);
            assert!(wire.starts_with(msg.verb()));
        }
        Err(err) => {
            let _ = (err.code(), err.to_string());
        }
    }
    match ServerMessage::parse(line) {
        Ok(msg) => {
            let wire = msg.format();
            assert!(!wire.contains(['\r', '\n']), "raw CR/LF in {wire:?}");
            let again = ServerMessage::parse(&wire).unwrap_or_else(|e| {
                panic!("{line:?} parsed to {msg:?}, whose {wire:?} fails: {e}")
            });
            assert_eq!(again, msg, "{line:?} -> {wire:?}");
            assert_eq!(again.format(), wire);
        }
        Err(err) => {
            let _ = (err.code(), err.to_string());
        }
    }
}

/// Feeds `chunks` to a fresh `LineCodec::new(cap)` as successive reads, then ends the stream, the way
/// `FramedRead` drives it. Stops at the first error.
pub fn decode_chunks(cap: usize, chunks: &[&[u8]]) -> Vec<Decoded> {
    let mut codec = LineCodec::new(cap);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(item)) => out.push(item.map_or(Decoded::NotUtf8, Decoded::Line)),
                Ok(None) => break,
                Err(err) => return too_long(out, err),
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(item)) => out.push(item.map_or(Decoded::NotUtf8, Decoded::Line)),
            Ok(None) => return out,
            Err(err) => return too_long(out, err),
        }
    }
}

fn too_long(mut out: Vec<Decoded>, err: CodecError) -> Vec<Decoded> {
    assert!(matches!(err, CodecError::LineTooLong { .. }), "{err}");
    out.push(Decoded::TooLong);
    out
}

/// What framing `data` must give: split at each `\n`, drop one `\r` before it, and keep a final line that
/// has no terminator; a line over `cap` bytes is an error that ends the stream.
pub fn reference_lines(cap: usize, data: &[u8]) -> Vec<Decoded> {
    let mut pieces: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    if pieces.last().is_some_and(|last| last.is_empty()) {
        pieces.pop();
    }
    let mut out = Vec::new();
    for piece in pieces {
        let line = piece.strip_suffix(b"\r").unwrap_or(piece);
        if line.len() > cap {
            out.push(Decoded::TooLong);
            break;
        }
        out.push(match std::str::from_utf8(line) {
            Ok(line) => Decoded::Line(line.to_owned()),
            Err(_) => Decoded::NotUtf8,
        });
    }
    out
}
