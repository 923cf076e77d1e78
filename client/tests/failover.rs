//! A server setting with several addresses (the nodes of one service): the client skips one that is
//! down, and moves to the next when the one it is on goes away — issue 26's "clients accept a list of
//! addresses and move to the next on failure". Two plain servers stand in for two nodes of a cluster;
//! the account is on both, with a different user id on each, which tells them apart.

mod common;

use common::server::{TestServer, User};
use common::{config, wait_for};
use ququ_client::{Client, Event};

#[tokio::test]
async fn a_client_skips_an_address_that_is_down_and_moves_on_when_its_node_goes() {
    // In process, whatever QUQU_TEST_SERVER_CMD says: one of them is stopped halfway.
    let a = TestServer::start_with(|_| {}).await;
    let b = TestServer::start_with(|_| {}).await;
    // On b, ann is the second account (user id 2); on a, where the client registers her, the first.
    User::register(&b.addr, "zed").await.stop().await;
    User::register(&b.addr, "ann").await.stop().await;
    // An address nothing listens on: bound, then released.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let setting = format!("{down}, {} ,{}", a.addr, b.addr);

    let dir = tempfile::tempdir().unwrap();
    let (handle, mut events) =
        Client::start(config(&setting, "ann", dir.path()).register(true)).unwrap();
    let on = |e: &Event| match e {
        Event::LoggedIn { user_id, .. } => Some(*user_id),
        _ => None,
    };
    let first = wait_for(&mut events, "a login past the address that is down", |e| {
        on(e).is_some()
    })
    .await;
    assert_eq!(on(&first), Some(1), "on a, the first that answers");

    a.stop().await;
    let second = wait_for(&mut events, "a login on the next node", |e| {
        on(e).is_some() || matches!(e, Event::Stopped(_))
    })
    .await;
    assert_eq!(on(&second), Some(2), "on b, the only one left: {second:?}");
    handle.shutdown();
}
