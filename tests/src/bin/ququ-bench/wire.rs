//! The bytes on the wire: a reusable read buffer, the benchmark payload, a latency histogram, and just
//! enough RESP (Redis's protocol) to subscribe, publish and read pushed messages without allocating.

use std::sync::OnceLock;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The clock every timestamp in a payload is read from: nanoseconds since this process's first call.
/// Senders and receivers are in the same process, so send and receive times compare exactly.
pub fn now_ns() -> u64 {
    static T0: OnceLock<Instant> = OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// A read buffer over one connection: lines (or RESP frames) are parsed in place from `pending()`.
#[derive(Debug)]
pub struct Reader<R> {
    pub io: R,
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    pub fn new(io: R, capacity: usize) -> Self {
        Reader {
            io,
            buf: vec![0; capacity.max(64)],
            lo: 0,
            hi: 0,
        }
    }

    /// Reads what the socket has; `Ok(false)` at end of stream.
    pub async fn fill(&mut self) -> std::io::Result<bool> {
        if self.lo == self.hi {
            self.lo = 0;
            self.hi = 0;
        } else if self.hi == self.buf.len() {
            if self.lo > 0 {
                self.buf.copy_within(self.lo..self.hi, 0);
                self.hi -= self.lo;
                self.lo = 0;
            } else {
                // One frame bigger than the buffer (never in the hot path).
                let n = self.buf.len() * 2;
                self.buf.resize(n, 0);
            }
        }
        let n = self.io.read(&mut self.buf[self.hi..]).await?;
        self.hi += n;
        Ok(n > 0)
    }

    pub fn pending(&self) -> &[u8] {
        &self.buf[self.lo..self.hi]
    }

    pub fn consume(&mut self, n: usize) {
        self.lo += n;
    }

    /// The next `\n`-terminated line without its terminator; `None` at end of stream.
    pub async fn line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', self.pending()) {
                let line = String::from_utf8_lossy(&self.pending()[..i])
                    .trim_end_matches('\r')
                    .to_owned();
                self.consume(i + 1);
                return Ok(Some(line));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Skips lines until one starts with `prefix`; `None` at end of stream.
    pub async fn until(&mut self, prefix: &str) -> std::io::Result<Option<String>> {
        while let Some(line) = self.line().await? {
            if line.starts_with(prefix) {
                return Ok(Some(line));
            }
        }
        Ok(None)
    }

    /// The next RESP reply in a simplified form (setup only; the hot path uses [`resp_frame`]).
    pub async fn resp(&mut self) -> std::io::Result<Option<Resp>> {
        loop {
            match parse_resp(self.pending()) {
                Ok(Some((value, used))) => {
                    self.consume(used);
                    return Ok(Some(value));
                }
                Ok(None) => {}
                Err(()) => {
                    return Err(std::io::Error::other("malformed RESP from the server"));
                }
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }
}

/// The benchmark payload: sender index (4 digits), sequence number (10), send time in ns (20), then `x`
/// up to `size` bytes. No `:` or `%`, so Ququ sends it unescaped and it ends every line it is in.
pub const MIN_PAYLOAD: usize = 34;

pub fn write_payload(out: &mut Vec<u8>, sender: u32, seq: u64, t: u64, size: usize) {
    let start = out.len();
    push_digits(out, sender as u64, 4);
    push_digits(out, seq, 10);
    push_digits(out, t, 20);
    out.resize(start + size, b'x');
}

fn push_digits(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for i in (0..width).rev() {
        out[start + i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

// The receivers check every byte of millions of deliveries a second on one core, next to the server
// under test: these checks have no branch per byte (no early exit), so they stay a small part of the
// load generator's time instead of capping what it can measure.

fn digits(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    let mut bad = false;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        bad |= d > 9;
        v = v.wrapping_mul(10).wrapping_add(d as u64);
    }
    (!bad).then_some(v)
}

/// The value of ASCII hex digits (either case), `None` if one is not a digit or there are over 16.
pub fn hex_digits(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    let mut bad = b.len() > 16;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        let l = (c | 0x20).wrapping_sub(b'a');
        let (digit, letter) = (d <= 9, l <= 5);
        bad |= !(digit | letter);
        v = (v << 4) | if digit { d as u64 } else { l as u64 + 10 };
    }
    (!bad).then_some(v)
}

/// (sender, seq, send time) from a payload of exactly `size` bytes; `None` if it is not one of ours
/// intact.
pub fn read_payload(p: &[u8], size: usize) -> Option<(u32, u64, u64)> {
    if p.len() != size || p[MIN_PAYLOAD..].iter().fold(0, |acc, &c| acc | (c ^ b'x')) != 0 {
        return None;
    }
    Some((
        digits(&p[..4])? as u32,
        digits(&p[4..14])?,
        digits(&p[14..34])?,
    ))
}

/// Parses a decimal `u64` from ASCII (for ids in lines).
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    digits(b)
}

/// A log-linear histogram of nanosecond values: exact below 128 ns, then 128 buckets per power of two
/// (under 1 % error). Cheap enough to update once per delivery.
#[derive(Debug, Clone)]
pub struct Hist {
    counts: Vec<u64>,
    pub n: u64,
    pub max: u64,
}

const SUB: u64 = 128;

impl Default for Hist {
    fn default() -> Self {
        Hist {
            counts: vec![0; (64 - 6) * SUB as usize],
            n: 0,
            max: 0,
        }
    }
}

impl Hist {
    fn index(v: u64) -> usize {
        if v < SUB {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as u64; // >= 7
        let m = (v >> (e - 7)) - SUB;
        ((e - 6) * SUB + m) as usize
    }

    fn value(i: usize) -> u64 {
        let i = i as u64;
        if i < SUB {
            return i;
        }
        let (e, m) = (i / SUB + 6, i % SUB);
        // The middle of the bucket.
        ((SUB + m) << (e - 7)) + ((1u64 << (e - 7)) >> 1)
    }

    pub fn record(&mut self, v: u64) {
        self.counts[Self::index(v)] += 1;
        self.n += 1;
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, other: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.n += other.n;
        self.max = self.max.max(other.max);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The value at quantile `q` (0..=1), in nanoseconds.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.n == 0 {
            return 0;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::value(i).min(self.max);
            }
        }
        self.max
    }

    /// p50/p99/max in milliseconds, for the JSON line.
    pub fn summary_ms(&self) -> serde_json::Value {
        let ms = |ns: u64| (ns as f64 / 1e6 * 1000.0).round() / 1000.0;
        serde_json::json!({
            "p50_ms": ms(self.quantile(0.50)),
            "p99_ms": ms(self.quantile(0.99)),
            "p999_ms": ms(self.quantile(0.999)),
            "max_ms": ms(self.max),
        })
    }
}

/// A RESP value, simplified (setup and checks only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Resp>),
}

/// `Ok(None)`: incomplete; `Err`: malformed.
fn resp_line(b: &[u8]) -> Result<Option<(&[u8], usize)>, ()> {
    match memchr::memchr(b'\n', b) {
        Some(i) if i > 0 && b[i - 1] == b'\r' => Ok(Some((&b[..i - 1], i + 1))),
        Some(_) => Err(()),
        None => Ok(None),
    }
}

/// A RESP integer (`-`, then 1–18 digits), read from its bytes as [`digits`] reads the payload's. Every
/// pushed message has three, and `from_utf8` plus `str::parse` took 8 % of the load generator's core in
/// a Redis fan-out (its frames' whole parse, 16 % before, is 12.5 % now).
fn resp_int(b: &[u8]) -> Result<i64, ()> {
    let (negative, b) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if b.is_empty() || b.len() > 18 {
        return Err(());
    }
    let v = digits(b).ok_or(())? as i64;
    Ok(if negative { -v } else { v })
}

pub fn parse_resp(b: &[u8]) -> Result<Option<(Resp, usize)>, ()> {
    if b.is_empty() {
        return Ok(None);
    }
    let Some((line, mut used)) = resp_line(&b[1..])? else {
        return Ok(None);
    };
    used += 1;
    let text = || String::from_utf8_lossy(line).into_owned();
    Ok(Some(match b[0] {
        b'+' => (Resp::Simple(text()), used),
        b'-' => (Resp::Error(text()), used),
        b':' => (Resp::Int(resp_int(line)?), used),
        b'$' => {
            let n = resp_int(line)?;
            if n < 0 {
                return Ok(Some((Resp::Bulk(None), used)));
            }
            let n = n as usize;
            if b.len() < used + n + 2 {
                return Ok(None);
            }
            let data = b[used..used + n].to_vec();
            (Resp::Bulk(Some(data)), used + n + 2)
        }
        b'*' => {
            let n = resp_int(line)?;
            let mut items = Vec::new();
            for _ in 0..n.max(0) {
                match parse_resp(&b[used..])? {
                    Some((v, u)) => {
                        items.push(v);
                        used += u;
                    }
                    None => return Ok(None),
                }
            }
            (Resp::Array(items), used)
        }
        _ => return Err(()),
    }))
}

/// One RESP frame in the hot path, without allocating: how many bytes it takes and, if it is a pushed
/// `message` (`*3` of `message`, channel, payload), the channel's and payload's ranges in `b`.
pub type Frame = (
    usize,
    Option<(std::ops::Range<usize>, std::ops::Range<usize>)>,
);

pub fn resp_frame(b: &[u8]) -> Result<Option<Frame>, ()> {
    if b.is_empty() {
        return Ok(None);
    }
    if b[0] != b'*' {
        // A simple reply (+OK, :n, -ERR): one line.
        return Ok(resp_line(b)?.map(|(_, used)| (used, None)));
    }
    let Some((line, mut used)) = resp_line(&b[1..])? else {
        return Ok(None);
    };
    used += 1;
    let n = resp_int(line)?;
    let mut parts: [std::ops::Range<usize>; 3] = [0..0, 0..0, 0..0];
    for i in 0..n.max(0) as usize {
        let rest = &b[used..];
        if rest.is_empty() {
            return Ok(None);
        }
        let Some((line, u)) = resp_line(&rest[1..])? else {
            return Ok(None);
        };
        match rest[0] {
            b'$' => {
                let len = resp_int(line)?.max(0) as usize;
                let start = used + 1 + u;
                if b.len() < start + len + 2 {
                    return Ok(None);
                }
                if let Some(part) = parts.get_mut(i) {
                    *part = start..start + len;
                }
                used = start + len + 2;
            }
            b':' | b'+' => used += 1 + u,
            _ => return Err(()),
        }
    }
    let [kind, chan, payload] = parts;
    if n == 3 && &b[kind] == b"message" {
        Ok(Some((used, Some((chan, payload)))))
    } else {
        Ok(Some((used, None)))
    }
}

/// `PUBLISH <channel> <payload>` as a RESP array, appended to `out`.
pub fn resp_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips() {
        let mut out = Vec::new();
        write_payload(&mut out, 7, 123_456, 9_876_543_210, 64);
        assert_eq!(out.len(), 64);
        assert_eq!(read_payload(&out, 64), Some((7, 123_456, 9_876_543_210)));
        out[40] = b'y';
        assert_eq!(read_payload(&out, 64), None);
        out[40] = b'x';
        out[5] = b'/';
        assert_eq!(read_payload(&out, 64), None, "a digit that is not one");
        assert_eq!(read_payload(&out[..63], 63), None);
    }

    #[test]
    fn hex_digits_parse_both_cases_and_nothing_else() {
        assert_eq!(hex_digits(b"00ff"), Some(255));
        assert_eq!(hex_digits(b"DEADbeef"), Some(0xdead_beef));
        assert_eq!(hex_digits(b"ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(hex_digits(b"1ffffffffffffffff"), None, "over 16 digits");
        for bad in [&b"0g"[..], b"0:", b"@", b"`", b"0 ", b"G"] {
            assert_eq!(hex_digits(bad), None, "{bad:?}");
        }
        assert_eq!(
            hex_digits(b"0000000000000000000a"),
            None,
            "20 digits, though the value fits"
        );
    }

    #[test]
    fn histogram_quantiles_are_close() {
        let mut h = Hist::default();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 / 50_000_000.0 - 1.0).abs() < 0.01, "{p50}");
        assert_eq!(h.max, 100_000_000);
    }

    #[test]
    fn resp_integers() {
        assert_eq!(resp_int(b"0"), Ok(0));
        assert_eq!(resp_int(b"64"), Ok(64));
        assert_eq!(resp_int(b"-1"), Ok(-1));
        assert_eq!(resp_int(b"999999999999999999"), Ok(999_999_999_999_999_999));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"1 ",
            b"6a",
            b"1234567890123456789",
            b"--1",
        ] {
            assert_eq!(resp_int(bad), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn resp_frames() {
        let mut b = Vec::new();
        resp_command(&mut b, &[b"message", b"chan", b"hello"]);
        b.extend_from_slice(b":12\r\n");
        let (used, parts) = resp_frame(&b).unwrap().unwrap();
        let (c, p) = parts.unwrap();
        assert_eq!(&b[c], b"chan");
        assert_eq!(&b[p], b"hello");
        assert_eq!(resp_frame(&b[used..]).unwrap(), Some((5, None)));
        assert_eq!(resp_frame(&b[..used - 1]).unwrap(), None);
        assert_eq!(
            parse_resp(b"*2\r\n$3\r\nabc\r\n:1\r\n").unwrap(),
            Some((
                Resp::Array(vec![Resp::Bulk(Some(b"abc".to_vec())), Resp::Int(1)]),
                17
            ))
        );
    }
}
