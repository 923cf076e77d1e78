//! How a TLS certificate is named to people: the SHA-256 of its DER bytes as colon-separated upper-case hex
//! pairs, the form browsers and `openssl x509 -fingerprint -sha256` show. The server prints it at start and
//! from `gen-cert`; a client shows it on first use and pins it, so an operator can read it out to users.

use sha2::{Digest, Sha256};

/// `AB:CD:…` (32 pairs) for a certificate's DER bytes.
pub fn of_certificate(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut out = String::with_capacity(95);
    for (i, byte) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{byte:02X}"));
    }
    out
}

/// Accepts a fingerprint as people paste it (any case, with or without colons or spaces) and returns
/// the canonical form, or `None` if it is not 32 hex bytes.
pub fn normalize(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let pairs: Vec<&str> = (0..32).map(|i| &hex[2 * i..2 * i + 2]).collect();
    Some(pairs.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_openssl_and_reads_back_in_any_spelling() {
        // `printf abc | sha256sum`
        let f = of_certificate(b"abc");
        assert_eq!(
            f,
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
        let loose = f.replace(':', "").to_lowercase();
        assert_eq!(normalize(&loose).as_deref(), Some(f.as_str()));
        assert_eq!(normalize("AB:CD"), None);
        assert_eq!(normalize(&"zz".repeat(32)), None);
    }
}
