//! The PROXY protocol, version 2: the binary header a TCP load balancer (HAProxy's `send-proxy-v2`)
//! writes before the client's own bytes, saying whom it is passing on. Behind one, every connection
//! comes from the balancer's address; with `proxy_protocol = true` the server reads the header first and
//! treats the client's address as the peer — for the per-address connection limit, the login and
//! registration throttles, and the logs.
//!
//! Only version 2 (binary) is read: it is what HAProxy, nginx, Envoy and the cloud balancers send, and
//! it is framed by length, so a header cannot run into the first line. A `LOCAL` header (the balancer's
//! own health check) keeps the socket's address. When the setting is on, a connection without a valid
//! header is closed: the port must only be reachable through the balancer, or anyone could claim any
//! address (docs/deploy.md).
//!
//! Spec: <https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt>, section 2.2.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The twelve bytes every version 2 header starts with.
const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// The longest address block accepted: 216 bytes of addresses (AF_UNIX) plus TLVs a balancer may
/// add (HAProxy's are well under 1 KiB). Bounded, so a stranger cannot make the server buffer much.
const MAX_BLOCK: usize = 1536;

/// Why a connection's PROXY header was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no PROXY protocol v2 header (is the port reachable without the load balancer?)")]
    NoHeader,
    #[error("PROXY header: {0}")]
    Bad(&'static str),
    #[error("reading the PROXY header: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one version 2 header from `from` and returns the client's address: `Some` for a proxied TCP
/// connection, `None` for a `LOCAL` one or a family other than TCP over IPv4/IPv6 (the socket's own
/// address then stands). Reads exactly the header, nothing of what follows it.
pub async fn read_header<R: AsyncRead + Unpin>(
    from: &mut R,
) -> Result<Option<SocketAddr>, ProxyError> {
    // The first byte alone first: a client that came straight to the port (its first line starts
    // with a letter) is told apart at once, not after waiting for bytes it will never send.
    let mut fixed = [0u8; 16];
    from.read_exact(&mut fixed[..1]).await?;
    if fixed[0] != SIGNATURE[0] {
        return Err(ProxyError::NoHeader);
    }
    from.read_exact(&mut fixed[1..]).await?;
    if fixed[..12] != SIGNATURE {
        return Err(ProxyError::NoHeader);
    }
    let length = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    if length > MAX_BLOCK {
        return Err(ProxyError::Bad("address block too long"));
    }
    let mut block = vec![0u8; length];
    from.read_exact(&mut block).await?;
    parse(fixed[12], fixed[13], &block)
}

/// The header after its signature: version and command, family and transport, the address block.
fn parse(version_command: u8, family: u8, block: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    if version_command >> 4 != 2 {
        return Err(ProxyError::Bad("not version 2"));
    }
    match version_command & 0x0f {
        // LOCAL: the balancer speaking for itself (a health check).
        0 => return Ok(None),
        1 => {}
        _ => return Err(ProxyError::Bad("unknown command")),
    }
    // High nibble: the address family; low: the transport (1 = stream). Anything but TCP over IP is
    // accepted and carries no address we use.
    let source = match family {
        0x11 => {
            let a = block
                .get(..12)
                .ok_or(ProxyError::Bad("IPv4 block too short"))?;
            let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
            SocketAddr::new(IpAddr::V4(ip), u16::from_be_bytes([a[8], a[9]]))
        }
        0x21 => {
            let a = block
                .get(..36)
                .ok_or(ProxyError::Bad("IPv6 block too short"))?;
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&a[..16]);
            SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(ip)),
                u16::from_be_bytes([a[32], a[33]]),
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(source))
}

/// A version 2 header for a TCP connection from `source` to `destination`, as a balancer writes it:
/// for tests (here and in `tests/`).
pub fn header(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.push(0x21);
    match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            out.push(0x11);
            out.extend_from_slice(&12u16.to_be_bytes());
            out.extend_from_slice(&s.ip().octets());
            out.extend_from_slice(&d.ip().octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
        (s, d) => {
            let v6 = |a: SocketAddr| match a.ip() {
                IpAddr::V4(ip) => ip.to_ipv6_mapped(),
                IpAddr::V6(ip) => ip,
            };
            out.push(0x21);
            out.extend_from_slice(&36u16.to_be_bytes());
            out.extend_from_slice(&v6(s).octets());
            out.extend_from_slice(&v6(d).octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(bytes: &[u8]) -> (Result<Option<SocketAddr>, ProxyError>, Vec<u8>) {
        let mut reader = bytes;
        let result = read_header(&mut reader).await;
        (result, reader.to_vec())
    }

    #[tokio::test]
    async fn a_tcp4_header_gives_the_client_and_leaves_the_first_line() {
        let client: SocketAddr = "203.0.113.7:51234".parse().unwrap();
        let mut bytes = header(client, "10.0.0.5:8899".parse().unwrap());
        bytes.extend_from_slice(b"LOGIN:alice:secret\n");
        let (result, rest) = read(&bytes).await;
        assert_eq!(result.unwrap(), Some(client));
        assert_eq!(rest, b"LOGIN:alice:secret\n");
    }

    #[tokio::test]
    async fn a_tcp6_header_gives_the_client() {
        let client: SocketAddr = "[2001:db8::7]:443".parse().unwrap();
        let bytes = header(client, "[2001:db8::1]:8899".parse().unwrap());
        assert_eq!(read(&bytes).await.0.unwrap(), Some(client));
    }

    #[tokio::test]
    async fn a_local_header_keeps_the_socket_address() {
        // HAProxy's health check: LOCAL, family unspecified, no addresses.
        let mut bytes = SIGNATURE.to_vec();
        bytes.extend_from_slice(&[0x20, 0x00, 0, 0]);
        bytes.extend_from_slice(b"PING\n");
        let (result, rest) = read(&bytes).await;
        assert_eq!(result.unwrap(), None);
        assert_eq!(rest, b"PING\n");
    }

    #[tokio::test]
    async fn tlvs_after_the_addresses_are_skipped() {
        let client: SocketAddr = "198.51.100.2:1000".parse().unwrap();
        let mut bytes = header(client, "10.0.0.5:8899".parse().unwrap());
        // Length 12 + 7: a TLV (type 0x04 NOOP, length 4) after the addresses.
        bytes[15] = 12 + 7;
        bytes.extend_from_slice(&[0x04, 0x00, 0x04, 1, 2, 3, 4]);
        bytes.extend_from_slice(b"X");
        let (result, rest) = read(&bytes).await;
        assert_eq!(result.unwrap(), Some(client));
        assert_eq!(rest, b"X");
    }

    #[tokio::test]
    async fn a_client_without_a_header_or_with_a_broken_one_is_refused() {
        let (result, _) = read(b"LOGIN:alice:secret123\n").await;
        assert!(matches!(result, Err(ProxyError::NoHeader)), "{result:?}");
        let client: SocketAddr = "203.0.113.7:1".parse().unwrap();
        let mut bytes = header(client, client);
        bytes[12] = 0x11; // version 1 in the binary form
        assert!(matches!(read(&bytes).await.0, Err(ProxyError::Bad(_))));
        let mut short = header(client, client);
        short[15] = 4; // an IPv4 block of 4 bytes
        short.truncate(20);
        assert!(matches!(read(&short).await.0, Err(ProxyError::Bad(_))));
        let mut long = SIGNATURE.to_vec();
        long.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
        assert!(matches!(read(&long).await.0, Err(ProxyError::Bad(_))));
        // Cut off mid-header: the connection ended.
        let cut = &header(client, client)[..20];
        assert!(matches!(read(cut).await.0, Err(ProxyError::Io(_))));
    }
}
