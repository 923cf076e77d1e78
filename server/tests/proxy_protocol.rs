//! Behind a TCP load balancer (issue 26: HAProxy in front of the nodes), with `proxy_protocol` on: the
//! client's address from the PROXY v2 header is the one the per-address limit counts (and the
//! throttles and logs use), not the balancer's. First with headers written by hand, then through a real
//! HAProxy (`send-proxy-v2`), from two loopback addresses.

mod common;

use std::net::IpAddr;

use common::haproxy::Haproxy;
use common::{Peer, TestServer};
use ququ_server::proxy::header;

const BUSY: &str = "BYE:busy:too many connections from your address";

/// A connection that says, through a header as a balancer writes it, that it comes from `client`.
async fn proxied(server: &TestServer, client: &str) -> Peer {
    let mut peer = server.connect().await;
    peer.send_raw(&header(client.parse().unwrap(), server.addr))
        .await;
    peer
}

#[tokio::test]
async fn the_client_address_in_the_header_is_the_one_that_counts() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.proxy_protocol = true;
        c.max_connections_per_ip = 1;
    })
    .await;
    // Every connection comes from 127.0.0.1, the "balancer"; the headers tell them apart.
    let mut first = proxied(&server, "203.0.113.7:40001").await;
    first.send("PING:1").await;
    first.expect("PONG:1").await;
    let mut same = proxied(&server, "203.0.113.7:40002").await;
    assert_eq!(same.until_closed().await, [BUSY]);
    let mut other = proxied(&server, "203.0.113.8:40003").await;
    other.send("PING:3").await;
    other.expect("PONG:3").await;
    // The balancer's own health check (LOCAL) keeps the socket's address.
    let mut check = server.connect().await;
    check
        .send_raw(b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00")
        .await;
    check.send("PING:4").await;
    check.expect("PONG:4").await;
    // Straight to the port, past the balancer: no header, so closed without a word (its first line
    // is not taken for one).
    let mut direct = server.connect().await;
    direct.send("PING:5").await;
    assert_eq!(direct.until_closed().await, Vec::<String>::new());
}

#[tokio::test]
async fn without_the_setting_a_header_is_not_believed() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.max_connections_per_ip = 1;
    })
    .await;
    let mut first = server.connect().await;
    first.send("PING:1").await;
    first.expect("PONG:1").await;
    // Claiming another address does not get round the limit of the real one.
    let mut claims = proxied(&server, "203.0.113.9:40001").await;
    assert_eq!(claims.until_closed().await, [BUSY]);
}

#[tokio::test]
async fn through_a_real_haproxy_each_client_address_has_its_own_limit() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.proxy_protocol = true;
        c.max_connections_per_ip = 1;
    })
    .await;
    let mut haproxy = Haproxy::start(&[server.addr]).await;
    let (two, three): (IpAddr, IpAddr) =
        ("127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap());
    // To the server every connection comes from HAProxy's 127.0.0.1: without the header these two
    // would share one slot, and the second would be refused.
    let mut first = Peer::connect_from(haproxy.front, two).await;
    first.send("PING:1").await;
    first.expect("PONG:1").await;
    let mut other = Peer::connect_from(haproxy.front, three).await;
    other.send("PING:2").await;
    other.expect("PONG:2").await;
    // The same client address again: its limit, passed back through HAProxy.
    let mut again = Peer::connect_from(haproxy.front, two).await;
    assert_eq!(again.until_closed().await, [BUSY]);
    haproxy.child.kill().await.unwrap();
}
