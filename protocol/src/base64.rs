//! Standard base64 (RFC 4648, `A–Z a–z 0–9 + /`, `=` padding) for the image bytes of `SET_AVATAR:`,
//! `GROUP_AVATAR:` and `AVATAR:`. Written out here rather than taken from a crate: it is forty lines, and
//! the protocol crate (and its fuzz workspace, which has a lock file of its own) stays at three
//! dependencies. None of its characters is escaped in a field, so a field of base64 is the same on the wire.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// How long `len` bytes are in base64, padded: four characters for every three bytes begun.
pub fn encoded_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// `bytes` in base64, padded.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(bytes.len()));
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Reads padded base64, strictly: a length that is a multiple of four, padding only at the end, and
/// unused bits zero, so every byte string has exactly one spelling. `None` otherwise.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.len() / 4;
    for (q, quad) in bytes.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && q + 1 != quads) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        // The bits a padded quad does not use must be zero, or two spellings would mean the same bytes.
        if got[keep..].iter().any(|&b| b != 0) {
            return None;
        }
        out.extend_from_slice(&got[..keep]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        for (raw, wire) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"\xff\xfe\x00", "//4A"),
        ] {
            assert_eq!(encode(raw), wire);
            assert_eq!(decode(wire).as_deref(), Some(raw));
        }
    }

    #[test]
    fn refuses_what_is_not_canonical() {
        for bad in ["Zg", "Zg=", "Zh==", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm 9"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
