//! Issue 25: group management — admins, handing a group over, muting, the announcement.

mod common;

use std::time::Duration;

use common::{Peer, TestServer};

/// alice's group with `others` in it, every one alice's friend and logged in, with the join notices
/// consumed. Returns the group id, alice and the others in order.
async fn team(server: &TestServer, others: &[&str]) -> (String, Peer, Vec<Peer>) {
    let mut alice = server.user("alice").await;
    let gid = alice.create_group("team").await;
    let mut peers = Vec::new();
    for name in others {
        let mut p = server.user(name).await;
        alice.send(&format!("ADD_FRIEND:{name}:hi")).await;
        alice.until(&format!("REQUEST_SENT:{name}")).await;
        p.until("FRIEND_REQUEST:alice:").await;
        p.send("ACCEPT_FRIEND:alice").await;
        p.until("FRIEND:alice:").await;
        alice.until(&format!("FRIEND:{name}:")).await;
        alice.send(&format!("GROUP_INVITE:{gid}:{name}")).await;
        p.until(&format!("GROUP_INFO:{gid}:")).await;
        alice.until(&format!("MEMBER:{gid}:{name}:")).await;
        for earlier in peers.iter_mut() {
            let earlier: &mut Peer = earlier;
            earlier.until(&format!("MEMBER:{gid}:{name}:")).await;
        }
        peers.push(p);
    }
    (gid, alice, peers)
}

/// Asks for the `GROUP_ROLE` feature (and the others), as a new client does.
async fn features(p: &mut Peer) {
    p.send("FEATURES:SAID,RECALLED,READ,TYPING,GROUP_ROLE")
        .await;
    p.until("FEATURES:").await;
}

/// The next line, which must be an `ERROR:` with this code.
async fn refused(p: &mut Peer, line: &str, code: &str) {
    p.send(line).await;
    let got = p.until("ERROR:").await;
    assert!(
        got.starts_with(&format!("ERROR:{code}:")),
        "{line} should be refused with {code}, got {got}"
    );
}

async fn members(p: &mut Peer, gid: &str) -> Vec<String> {
    p.send(&format!("GROUP_MEMBERS:{gid}")).await;
    let mut lines = p.collect_until(&format!("MEMBERS_END:{gid}:")).await;
    lines.retain(|l| l.starts_with("MEMBER:"));
    lines
}

#[tokio::test]
async fn admin_verbs_need_a_login_membership_and_the_owner() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob"]).await;
    let mut stranger = server.connect().await;
    for line in [
        format!("GROUP_ADMIN:{gid}:bob:on"),
        format!("GROUP_TRANSFER:{gid}:bob"),
    ] {
        refused(&mut stranger, &line, "not_logged_in").await;
    }
    let mut mallory = server.user("mallory").await;
    for line in [
        format!("GROUP_ADMIN:{gid}:bob:on"),
        format!("GROUP_TRANSFER:{gid}:bob"),
    ] {
        refused(&mut mallory, &line, "not_member").await;
    }
    refused(&mut mallory, "GROUP_ADMIN:1:bob:on", "no_such_group").await;
    let bob = &mut peers[0];
    for line in [
        format!("GROUP_ADMIN:{gid}:bob:on"),
        format!("GROUP_ADMIN:{gid}:alice:off"),
        format!("GROUP_TRANSFER:{gid}:bob"),
    ] {
        refused(bob, &line, "not_owner").await;
    }
    // The owner's own mistakes.
    refused(
        &mut alice,
        &format!("GROUP_ADMIN:{gid}:mallory:on"),
        "not_member",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_ADMIN:{gid}:nobody:on"),
        "no_such_user",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_ADMIN:{gid}:alice:on"),
        "bad_request",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_TRANSFER:{gid}:alice"),
        "bad_request",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_TRANSFER:{gid}:mallory"),
        "not_member",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_ADMIN:{gid}:bob:maybe"),
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn an_admin_is_told_to_members_who_asked_and_listed_as_member_to_the_rest() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol"]).await;
    features(&mut alice).await;
    features(&mut peers[0]).await;
    // carol's client is older: it never asked for GROUP_ROLE.
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    alice.expect(&format!("GROUP_ROLE:{gid}:bob:admin")).await;
    peers[0]
        .expect(&format!("GROUP_ROLE:{gid}:bob:admin"))
        .await;
    let carol = &mut peers[1];
    assert_eq!(
        carol.drain(Duration::from_millis(300)).await,
        Vec::<String>::new(),
        "an old client is not sent a line it cannot read"
    );
    let listed = members(carol, &gid).await;
    assert!(
        listed
            .iter()
            .any(|l| l.starts_with(&format!("MEMBER:{gid}:bob:member:"))),
        "{listed:?}"
    );
    let listed = members(&mut alice, &gid).await;
    assert_eq!(
        listed
            .iter()
            .map(|l| l.split(':').take(4).collect::<Vec<_>>().join(":"))
            .collect::<Vec<_>>(),
        [
            format!("MEMBER:{gid}:alice:owner"),
            format!("MEMBER:{gid}:bob:admin"),
            format!("MEMBER:{gid}:carol:member"),
        ],
        "owner first, then admins"
    );
    // And back.
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:off")).await;
    alice.expect(&format!("GROUP_ROLE:{gid}:bob:member")).await;
    peers[0]
        .expect(&format!("GROUP_ROLE:{gid}:bob:member"))
        .await;
}

#[tokio::test]
async fn an_admin_kicks_and_renames_but_only_plain_members_and_never_dissolves() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol", "dave"]).await;
    for admin in ["bob", "dave"] {
        alice.send(&format!("GROUP_ADMIN:{gid}:{admin}:on")).await;
    }
    // Without the feature nobody hears of it; wait for it to be stored by asking for the list.
    let listed = members(&mut alice, &gid).await;
    assert_eq!(listed.len(), 4);
    let (bob, rest) = peers.split_first_mut().unwrap();
    refused(bob, &format!("GROUP_KICK:{gid}:alice"), "forbidden").await;
    refused(bob, &format!("GROUP_KICK:{gid}:dave"), "forbidden").await;
    refused(bob, &format!("GROUP_DISSOLVE:{gid}"), "not_owner").await;
    refused(bob, &format!("GROUP_ADMIN:{gid}:carol:on"), "not_owner").await;
    refused(bob, &format!("GROUP_TRANSFER:{gid}:bob"), "not_owner").await;
    refused(bob, &format!("GROUP_POLICY:{gid}:open"), "not_owner").await;

    bob.send(&format!("GROUP_RENAME:{gid}:bob's team")).await;
    let renamed = format!("GROUP_INFO:{gid}:alice:4:bob's team");
    alice.until(&renamed).await;
    bob.until(&renamed).await;
    for p in rest.iter_mut() {
        p.until(&renamed).await;
    }
    bob.send(&format!("GROUP_KICK:{gid}:carol")).await;
    rest[0].until(&format!("GROUP_GONE:{gid}:kicked")).await;
    alice
        .until(&format!("MEMBER_LEFT:{gid}:carol:kicked"))
        .await;
    bob.until(&format!("MEMBER_LEFT:{gid}:carol:kicked")).await;
    // A plain member still may not.
    alice.send(&format!("GROUP_ADMIN:{gid}:dave:off")).await;
    members(&mut alice, &gid).await;
    refused(&mut rest[1], &format!("GROUP_KICK:{gid}:bob"), "not_owner").await;
    refused(
        &mut rest[1],
        &format!("GROUP_RENAME:{gid}:mine"),
        "not_owner",
    )
    .await;
}

#[tokio::test]
async fn a_handed_over_group_has_a_new_owner_and_the_old_one_may_leave() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol"]).await;
    features(&mut alice).await;
    features(&mut peers[0]).await;
    refused(
        &mut alice,
        &format!("GROUP_LEAVE:{gid}"),
        "owner_cannot_leave",
    )
    .await;
    alice.send(&format!("GROUP_TRANSFER:{gid}:bob")).await;
    for p in [&mut alice, &mut peers[0]] {
        p.expect(&format!("GROUP_ROLE:{gid}:bob:owner")).await;
        p.expect(&format!("GROUP_ROLE:{gid}:alice:member")).await;
        p.expect(&format!("GROUP_INFO:{gid}:bob:3:team")).await;
    }
    // carol, without the feature, learns it from GROUP_INFO alone.
    peers[1]
        .expect(&format!("GROUP_INFO:{gid}:bob:3:team"))
        .await;
    refused(&mut alice, &format!("GROUP_DISSOLVE:{gid}"), "not_owner").await;
    refused(&mut alice, &format!("GROUP_KICK:{gid}:carol"), "not_owner").await;
    refused(
        &mut peers[0],
        &format!("GROUP_LEAVE:{gid}"),
        "owner_cannot_leave",
    )
    .await;
    alice.send(&format!("GROUP_LEAVE:{gid}")).await;
    alice.until(&format!("GROUP_GONE:{gid}:left")).await;
    peers[0]
        .until(&format!("MEMBER_LEFT:{gid}:alice:left"))
        .await;

    // It holds over a restart.
    drop(alice);
    drop(peers);
    let dir = server.stop().await;
    let server = TestServer::start_with(dir, |_| {}).await;
    let mut bob = server.connect().await;
    bob.login("bob").await;
    bob.send("GROUPS").await;
    bob.until(&format!("GROUP_INFO:{gid}:bob:2:team")).await;
}

#[tokio::test]
async fn a_group_has_at_most_the_advertised_number_of_admins() {
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.admins = 1).await;
    let (gid, mut alice, _peers) = team(&server, &["bob", "carol"]).await;
    let login = {
        let mut p = server.connect().await;
        p.login("alice").await
    };
    assert!(login.ends_with(",admins=1"), "{login}");
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    refused(
        &mut alice,
        &format!("GROUP_ADMIN:{gid}:carol:on"),
        "too_many",
    )
    .await;
    // Setting the one admin again is not a second one.
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:off")).await;
    alice.send(&format!("GROUP_ADMIN:{gid}:carol:on")).await;
    features(&mut alice).await;
    let listed = members(&mut alice, &gid).await;
    assert!(
        listed
            .iter()
            .any(|l| l.starts_with(&format!("MEMBER:{gid}:carol:admin:"))),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|l| l.starts_with(&format!("MEMBER:{gid}:bob:member:"))),
        "{listed:?}"
    );
}
