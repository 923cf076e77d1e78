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
    assert!(login.contains(",admins=1,"), "{login}");
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

/// Asks for every feature this build knows (the mute lines among them).
/// Every feature but the profile lines, whose fields would follow the mute field these tests read last
/// (`tests/profiles_and_blocks.rs` reads them), and the avatar lines, which follow a newcomer's lines
/// (`tests/avatars.rs` reads them).
async fn all_features(p: &mut Peer) {
    let features = ququ_protocol::Features {
        profile: false,
        avatar: false,
        ..ququ_protocol::Features::ALL
    };
    p.send(&format!("FEATURES:{}", features.to_field())).await;
    p.until("FEATURES:").await;
}

#[tokio::test]
async fn mute_verbs_need_a_login_membership_and_a_manager() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol", "dave"]).await;
    let mut stranger = server.connect().await;
    for line in [
        format!("GROUP_MUTE:{gid}:bob:60"),
        format!("GROUP_MUTE_ALL:{gid}:on"),
        format!("GROUP_MUTE_ALL:{gid}"),
    ] {
        refused(&mut stranger, &line, "not_logged_in").await;
    }
    let mut mallory = server.user("mallory").await;
    for line in [
        format!("GROUP_MUTE:{gid}:bob:60"),
        format!("GROUP_MUTE_ALL:{gid}:on"),
        format!("GROUP_MUTE_ALL:{gid}"),
    ] {
        refused(&mut mallory, &line, "not_member").await;
    }
    // A plain member mutes nobody.
    refused(
        &mut peers[1],
        &format!("GROUP_MUTE:{gid}:bob:60"),
        "not_owner",
    )
    .await;
    refused(
        &mut peers[1],
        &format!("GROUP_MUTE_ALL:{gid}:on"),
        "not_owner",
    )
    .await;
    // bob and dave become admins: an admin mutes neither the owner nor another admin, and the owner
    // mutes no admin.
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    alice.send(&format!("GROUP_ADMIN:{gid}:dave:on")).await;
    members(&mut alice, &gid).await;
    refused(
        &mut peers[0],
        &format!("GROUP_MUTE:{gid}:alice:60"),
        "forbidden",
    )
    .await;
    refused(
        &mut peers[0],
        &format!("GROUP_MUTE:{gid}:dave:60"),
        "forbidden",
    )
    .await;
    refused(&mut alice, &format!("GROUP_MUTE:{gid}:bob:60"), "forbidden").await;
    refused(
        &mut alice,
        &format!("GROUP_MUTE:{gid}:mallory:60"),
        "not_member",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_MUTE:{gid}:carol:2592001"),
        "bad_request",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_MUTE:{gid}:carol:soon"),
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn a_muted_member_is_refused_until_unmuted_and_everyone_is_told() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol"]).await;
    all_features(&mut alice).await;
    all_features(&mut peers[0]).await;
    // carol's client is older and asked for nothing.
    let before = now();
    alice.send(&format!("GROUP_MUTE:{gid}:bob:600")).await;
    let told = alice.recv().await;
    let prefix = format!("GROUP_MUTE:{gid}:bob:");
    assert!(told.starts_with(&prefix), "{told}");
    let until: u64 = told[prefix.len()..].parse().unwrap();
    assert!(
        until >= before + 600_000 && until <= now() + 600_000,
        "{until}"
    );
    peers[0].expect(&told).await;

    let bob = &mut peers[0];
    let sha = "a".repeat(64);
    for (line, id) in [
        (format!("GROUP:{gid}:m1:hello?"), "m1"),
        (format!("SEND:group:{gid}:m2:0:alice:@alice hello?"), "m2"),
        (format!("FileTran:group:{gid}:m3:5:{sha}:a.txt"), "m3"),
    ] {
        bob.send(&line).await;
        let error = bob.until("ERROR:").await;
        let text = error
            .strip_prefix("ERROR:muted:")
            .unwrap_or_else(|| panic!("{line}: {error}"));
        assert!(
            text.ends_with(&format!(":{id}")),
            "about is the client_id: {error}"
        );
        assert_eq!(ququ_protocol::muted_until(text), Some(until), "{error}");
    }
    // Private messages are not the group's business.
    let carol = &mut peers[1];
    carol.send(&format!("GROUP:{gid}:c1:bob is quiet")).await;
    carol.until("ACK:c1:").await;
    assert_eq!(
        carol.drain(Duration::from_millis(300)).await,
        Vec::<String>::new(),
        "an old client is not sent mute lines"
    );
    // The list says so to those who asked, and to the rest only what they can read.
    let listed = members(&mut alice, &gid).await;
    assert!(
        listed.contains(&format!("MEMBER:{gid}:bob:member:online:bob:{until}")),
        "{listed:?}"
    );
    assert!(
        listed.contains(&format!("MEMBER:{gid}:carol:member:online:carol:0")),
        "{listed:?}"
    );
    let listed = members(&mut peers[1], &gid).await;
    assert!(
        listed.contains(&format!("MEMBER:{gid}:bob:member:online:bob")),
        "{listed:?}"
    );

    alice.send(&format!("GROUP_MUTE:{gid}:bob:0")).await;
    alice.until(&format!("GROUP_MUTE:{gid}:bob:0")).await;
    let bob = &mut peers[0];
    bob.until(&format!("GROUP_MUTE:{gid}:bob:0")).await;
    bob.send(&format!("GROUP:{gid}:m4:thanks")).await;
    bob.until("ACK:m4:").await;
}

#[tokio::test]
async fn a_mute_survives_a_restart() {
    let server = TestServer::start().await;
    let (gid, mut alice, peers) = team(&server, &["bob"]).await;
    alice.send(&format!("GROUP_MUTE:{gid}:bob:600")).await;
    all_features(&mut alice).await;
    let listed = members(&mut alice, &gid).await;
    let bob_line = listed
        .iter()
        .find(|l| l.starts_with(&format!("MEMBER:{gid}:bob:")))
        .unwrap()
        .clone();
    let until: u64 = bob_line.rsplit(':').next().unwrap().parse().unwrap();
    assert!(until > now());
    drop(alice);
    drop(peers);
    let server = TestServer::start_with(server.stop().await, |_| {}).await;
    let mut bob = server.connect().await;
    bob.login("bob").await;
    bob.send(&format!("GROUP:{gid}:m1:am I still muted?")).await;
    let error = bob.until("ERROR:").await;
    assert!(
        error.starts_with(&format!("ERROR:muted:{until} ")),
        "{error}"
    );
    all_features(&mut bob).await;
    let listed = members(&mut bob, &gid).await;
    assert!(
        listed.contains(&bob_line.replace(":bob:member:offline:", ":bob:member:online:")),
        "{listed:?}"
    );
}

/// `p` sends to the group and is refused with `muted` until `until`.
async fn still_muted(p: &mut Peer, gid: &str, client_id: &str, until: u64) {
    p.send(&format!("GROUP:{gid}:{client_id}:am I free now?"))
        .await;
    let error = p.until("ERROR:").await;
    let text = error
        .strip_prefix("ERROR:muted:")
        .unwrap_or_else(|| panic!("{error}"));
    assert_eq!(ququ_protocol::muted_until(text), Some(until), "{error}");
}

/// The lines up to the `ACK:` of `client_id`: neither a refusal nor a mute line among them.
async fn speaks(p: &mut Peer, client_id: &str) {
    loop {
        let got = p.recv().await;
        assert!(
            !got.starts_with("ERROR:") && !got.starts_with("GROUP_MUTE:"),
            "{client_id}: {got}"
        );
        if got.starts_with(&format!("ACK:{client_id}:")) {
            return;
        }
    }
}

/// `p` leaves the group and joins it again by its number; the others in `watchers` see them go and come.
async fn leave_and_rejoin(p: &mut Peer, account: &str, gid: &str, watchers: &mut [&mut Peer]) {
    p.send(&format!("GROUP_LEAVE:{gid}")).await;
    p.until(&format!("GROUP_GONE:{gid}:left")).await;
    for w in watchers.iter_mut() {
        w.until(&format!("MEMBER_LEFT:{gid}:{account}:left")).await;
    }
    p.send(&format!("GROUP_JOIN:{gid}")).await;
    p.until(&format!("GROUP_INFO:{gid}:")).await;
}

/// Leaving is no way out of a mute (QQ keeps it until it ends): back by the number, by an invitation
/// after a kick, the member is refused as before with the same end, and everyone is told so. Once lifted,
/// coming back again leaves them free.
#[tokio::test]
async fn a_mute_outlives_leaving_and_coming_back_until_it_is_lifted() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol"]).await;
    alice.send(&format!("GROUP_POLICY:{gid}:open")).await;
    alice.until(&format!("GROUP_POLICY:{gid}:open")).await;
    let [bob, carol] = &mut peers[..] else {
        unreachable!()
    };
    for p in [&mut alice, &mut *bob, &mut *carol] {
        all_features(p).await;
    }
    alice.send(&format!("GROUP_MUTE:{gid}:bob:600")).await;
    let told = alice.until(&format!("GROUP_MUTE:{gid}:bob:")).await;
    let until: u64 = told.rsplit(':').next().unwrap().parse().unwrap();
    assert!(until > now());
    bob.until(&told).await;
    carol.until(&told).await;

    // Out and back in by the number: the newcomer is told of the mute, the others see it in the line
    // that brings them in.
    leave_and_rejoin(bob, "bob", &gid, &mut [&mut alice, &mut *carol]).await;
    bob.expect(&told).await;
    let line = format!("MEMBER:{gid}:bob:member:online:bob:{until}");
    alice.until(&line).await;
    carol.until(&line).await;
    still_muted(bob, &gid, "m1", until).await;
    for p in [&mut alice, &mut *bob, &mut *carol] {
        let listed = members(p, &gid).await;
        assert!(listed.contains(&line), "{listed:?}");
    }

    // Kicked and invited back: the same.
    alice.send(&format!("GROUP_KICK:{gid}:bob")).await;
    bob.until(&format!("GROUP_GONE:{gid}:kicked")).await;
    alice.send(&format!("GROUP_INVITE:{gid}:bob")).await;
    bob.until(&format!("GROUP_INFO:{gid}:")).await;
    bob.expect(&told).await;
    alice.until(&line).await;
    carol.until(&line).await;
    still_muted(bob, &gid, "m2", until).await;

    // Lifted, it stays lifted through another leave and return.
    alice.send(&format!("GROUP_MUTE:{gid}:bob:0")).await;
    bob.until(&format!("GROUP_MUTE:{gid}:bob:0")).await;
    carol.until(&format!("GROUP_MUTE:{gid}:bob:0")).await;
    leave_and_rejoin(bob, "bob", &gid, &mut [&mut alice, &mut *carol]).await;
    let line = format!("MEMBER:{gid}:bob:member:online:bob:0");
    alice.until(&line).await;
    carol.until(&line).await;
    bob.send(&format!("GROUP:{gid}:m3:thanks")).await;
    speaks(bob, "m3").await;
    let listed = members(&mut alice, &gid).await;
    assert!(listed.contains(&line), "{listed:?}");
}

/// A mute that ends while the member is out does not come back with them.
#[tokio::test]
async fn a_mute_that_ended_while_out_is_gone_on_return() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob"]).await;
    alice.send(&format!("GROUP_POLICY:{gid}:open")).await;
    alice.until(&format!("GROUP_POLICY:{gid}:open")).await;
    all_features(&mut alice).await;
    all_features(&mut peers[0]).await;
    alice.send(&format!("GROUP_MUTE:{gid}:bob:1")).await;
    let told = alice.until(&format!("GROUP_MUTE:{gid}:bob:")).await;
    let until: u64 = told.rsplit(':').next().unwrap().parse().unwrap();
    let bob = &mut peers[0];
    bob.until(&told).await;
    bob.send(&format!("GROUP_LEAVE:{gid}")).await;
    bob.until(&format!("GROUP_GONE:{gid}:left")).await;
    tokio::time::sleep(Duration::from_millis((until + 200).saturating_sub(now()))).await;
    bob.send(&format!("GROUP_JOIN:{gid}")).await;
    bob.until(&format!("GROUP_INFO:{gid}:")).await;
    alice
        .until(&format!("MEMBER:{gid}:bob:member:online:bob:0"))
        .await;
    bob.send(&format!("GROUP:{gid}:m1:free")).await;
    speaks(bob, "m1").await;
}

#[tokio::test]
async fn a_muted_group_hears_only_its_owner_and_admins() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol"]).await;
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    all_features(&mut alice).await;
    all_features(&mut peers[1]).await;
    // The admin turns it on; the members who asked are told.
    peers[0].send(&format!("GROUP_MUTE_ALL:{gid}:on")).await;
    alice.until(&format!("GROUP_MUTE_ALL:{gid}:on")).await;
    peers[1].until(&format!("GROUP_MUTE_ALL:{gid}:on")).await;
    let carol = &mut peers[1];
    carol.send(&format!("GROUP:{gid}:c1:hello?")).await;
    let error = carol.until("ERROR:").await;
    assert!(error.starts_with("ERROR:muted:0 "), "{error}");
    assert!(error.ends_with(":c1"), "{error}");
    // Anyone in it may ask.
    carol.send(&format!("GROUP_MUTE_ALL:{gid}")).await;
    carol.expect(&format!("GROUP_MUTE_ALL:{gid}:on")).await;
    for (p, id) in [(&mut alice, "a1"), (&mut peers[0], "b1")] {
        p.send(&format!("GROUP:{gid}:{id}:announcement")).await;
        p.until(&format!("ACK:{id}:")).await;
    }
    alice.send(&format!("GROUP_MUTE_ALL:{gid}:off")).await;
    alice.until(&format!("GROUP_MUTE_ALL:{gid}:off")).await;
    let carol = &mut peers[1];
    carol.until(&format!("GROUP_MUTE_ALL:{gid}:off")).await;
    carol.send(&format!("GROUP:{gid}:c2:hello!")).await;
    carol.until("ACK:c2:").await;
}

/// The id in an `ACK:<client_id>:<id>:<time>`.
async fn acked(p: &mut Peer, client_id: &str) -> String {
    let ack = p.until(&format!("ACK:{client_id}:")).await;
    ack.split(':').nth(2).unwrap().to_owned()
}

/// As QQ: an admin takes back a plain member's message, past the sender's own time limit, and everyone
/// is told; not the owner's, nor another admin's. A plain member takes back no one else's.
#[tokio::test]
async fn an_admin_recalls_plain_members_messages_but_not_the_owners_or_another_admins() {
    // The sender's window is one second; the admin's recall comes after it.
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.recall = 1).await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol", "dave"]).await;
    for admin in ["bob", "dave"] {
        alice.send(&format!("GROUP_ADMIN:{gid}:{admin}:on")).await;
    }
    members(&mut alice, &gid).await;
    all_features(&mut alice).await;
    for p in peers.iter_mut() {
        all_features(p).await;
    }
    let carol_said = {
        let carol = &mut peers[1];
        carol
            .send(&format!("GROUP:{gid}:c1:wrong chat, sorry"))
            .await;
        acked(carol, "c1").await
    };
    alice.until(&format!("GROUP:{carol_said}:")).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    peers[0].send(&format!("RECALL:{carol_said}")).await;
    let told = format!(":{carol_said}:carol");
    for p in std::iter::once(&mut alice).chain(peers.iter_mut()) {
        let recalled = p.until("RECALLED:").await;
        assert!(
            recalled.starts_with("RECALLED:") && recalled.contains(&format!(":group:{gid}:bob:")),
            "{recalled}"
        );
        assert!(recalled.ends_with(&told), "{recalled}");
    }

    // The owner's message and another admin's are beyond an admin.
    alice.send(&format!("GROUP:{gid}:a1:meeting at 3")).await;
    let alice_said = acked(&mut alice, "a1").await;
    peers[2].send(&format!("GROUP:{gid}:d1:noted")).await;
    let dave_said = acked(&mut peers[2], "d1").await;
    let bob = &mut peers[0];
    for id in [&alice_said, &dave_said] {
        let line = format!("RECALL:{id}");
        refused(bob, &line, "forbidden").await;
    }
    // A plain member may not take back someone else's message either.
    let carol = &mut peers[1];
    refused(carol, &format!("RECALL:{dave_said}"), "forbidden").await;
    // Nothing was taken back: the owner still sees both messages in the history.
    alice.send(&format!("HISTORY:group:{gid}:0:10")).await;
    let history = alice.collect_until("HISTORY_END:").await;
    for id in [&alice_said, &dave_said] {
        assert!(
            history
                .iter()
                .any(|l| l.starts_with(&format!("GROUP:{id}:"))),
            "{history:?}"
        );
    }
}

/// `@all`: the owner and admins mention everyone; a plain member is refused, and told only they may.
#[tokio::test]
async fn an_admin_mentions_everyone_and_a_plain_member_may_not() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol"]).await;
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    members(&mut alice, &gid).await;
    for p in peers.iter_mut() {
        all_features(p).await;
    }
    peers[0]
        .send(&format!("SEND:group:{gid}:b1:0:*:@all 今晚聚餐"))
        .await;
    acked(&mut peers[0], "b1").await;
    let said = peers[1].until("SAID:").await;
    assert!(said.contains(":bob:"), "{said}");
    assert!(said.ends_with(":b1:*:0:::@all 今晚聚餐"), "{said}");

    let carol = &mut peers[1];
    carol
        .send(&format!("SEND:group:{gid}:c1:0:*:@all me too"))
        .await;
    let error = carol.until("ERROR:").await;
    assert!(
        error.starts_with("ERROR:not_owner:only the group's owner or an admin mentions everyone"),
        "{error}"
    );
    assert!(error.ends_with(":c1"), "{error}");
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn notice_verbs_need_a_login_membership_and_a_manager() {
    let server = TestServer::start().await;
    let (gid, _alice, mut peers) = team(&server, &["bob"]).await;
    let mut stranger = server.connect().await;
    for line in [
        format!("GROUP_NOTICE:{gid}:hi"),
        format!("GROUP_NOTICE:{gid}"),
    ] {
        refused(&mut stranger, &line, "not_logged_in").await;
    }
    let mut mallory = server.user("mallory").await;
    for line in [
        format!("GROUP_NOTICE:{gid}:hi"),
        format!("GROUP_NOTICE:{gid}"),
    ] {
        refused(&mut mallory, &line, "not_member").await;
    }
    refused(
        &mut peers[0],
        &format!("GROUP_NOTICE:{gid}:mine now"),
        "not_owner",
    )
    .await;
    refused(&mut peers[0], &format!("GROUP_NOTICE:{gid}:"), "not_owner").await;
    // Never set: nobody, at no time, says nothing.
    peers[0].send(&format!("GROUP_NOTICE:{gid}")).await;
    peers[0].expect(&format!("GROUP_NOTICE:{gid}::0:")).await;
}

#[tokio::test]
async fn an_announcement_is_told_to_members_and_kept_for_those_who_ask() {
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.notice = 30).await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol"]).await;
    let login = {
        let mut p = server.connect().await;
        p.login("alice").await
    };
    assert!(login.contains(",notice=30"), "{login}");
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    all_features(&mut alice).await;
    all_features(&mut peers[0]).await;
    // The admin sets it; text is free to the end of the line, newlines escaped.
    let before = now();
    peers[0]
        .send(&format!("GROUP_NOTICE:{gid}:周五 10:30%0Abring snacks"))
        .await;
    let told = alice.until(&format!("GROUP_NOTICE:{gid}:")).await;
    let prefix = format!("GROUP_NOTICE:{gid}:bob:");
    let rest = told.strip_prefix(&prefix).expect(&told);
    let (time, text) = rest.split_once(':').unwrap();
    assert!(time.parse::<u64>().unwrap() >= before, "{told}");
    assert_eq!(text, "周五 10%3A30%0Abring snacks");
    peers[0].expect(&told).await;
    let carol = &mut peers[1];
    assert_eq!(
        carol.drain(Duration::from_millis(300)).await,
        Vec::<String>::new(),
        "an old client is not pushed the line"
    );
    // Asked for, it is there, for an old client too, and after a restart.
    carol.send(&format!("GROUP_NOTICE:{gid}")).await;
    carol.expect(&told).await;
    refused(
        &mut alice,
        &format!("GROUP_NOTICE:{gid}:{}", "长".repeat(31)),
        "too_long",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_NOTICE:{gid}:bell%07"),
        "bad_request",
    )
    .await;
    drop(alice);
    drop(peers);
    let server = TestServer::start_with(server.stop().await, |c| c.limits.notice = 30).await;
    let mut alice = server.connect().await;
    alice.login("alice").await;
    alice.send(&format!("GROUP_NOTICE:{gid}")).await;
    alice.expect(&told).await;
    // The owner clears it.
    all_features(&mut alice).await;
    alice.send(&format!("GROUP_NOTICE:{gid}:")).await;
    let cleared = alice.until(&format!("GROUP_NOTICE:{gid}:")).await;
    assert!(
        cleared.starts_with(&format!("GROUP_NOTICE:{gid}:alice:")) && cleared.ends_with(':'),
        "{cleared}"
    );
}

#[tokio::test]
async fn an_approve_group_lets_in_whom_its_owner_or_an_admin_accepts() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol"]).await;
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    alice.send(&format!("GROUP_POLICY:{gid}:approve")).await;
    alice.until(&format!("GROUP_POLICY:{gid}:approve")).await;
    for p in peers.iter_mut() {
        p.until(&format!("GROUP_POLICY:{gid}:approve")).await;
    }
    let mut dave = server.user("dave").await;
    let mut erin = server.user("erin").await;
    dave.send(&format!("GROUP_JOIN:{gid}")).await;
    dave.expect(&format!("GROUP_JOIN_SENT:{gid}")).await;
    let request = alice
        .until(&format!("GROUP_JOIN_REQUEST:{gid}:dave:"))
        .await;
    assert!(request.ends_with(":dave"), "{request}");
    peers[0].expect(&request).await;
    assert_eq!(
        peers[1].drain(Duration::from_millis(300)).await,
        Vec::<String>::new(),
        "a plain member is not asked"
    );
    // Who may answer.
    let mut stranger = server.connect().await;
    let yes = format!("GROUP_JOIN_ANSWER:{gid}:dave:yes");
    refused(&mut stranger, &yes, "not_logged_in").await;
    refused(&mut stranger, "GROUP_REQUESTS", "not_logged_in").await;
    refused(&mut erin, &yes, "not_member").await;
    refused(&mut peers[1], &yes, "not_owner").await;
    refused(
        &mut alice,
        &format!("GROUP_JOIN_ANSWER:{gid}:erin:yes"),
        "no_request",
    )
    .await;
    // A plain member's list is empty; the owner's has it.
    peers[1].send("GROUP_REQUESTS").await;
    peers[1].expect("GROUP_REQUESTS_END:0").await;
    alice.send("GROUP_REQUESTS").await;
    alice.expect(&request).await;
    alice.expect("GROUP_REQUESTS_END:1").await;

    // The admin says yes: every manager hears it is closed, dave is in.
    peers[0].send(&yes).await;
    let closed = format!("GROUP_JOIN_CLOSED:{gid}:dave");
    // dave is in first, then the request is closed for every manager.
    dave.until(&format!("GROUP_INFO:{gid}:alice:4:team")).await;
    alice.until(&format!("MEMBER:{gid}:dave:")).await;
    alice.until(&closed).await;
    peers[0].until(&closed).await;
    refused(&mut alice, &yes, "no_request").await;

    // erin is declined.
    erin.send(&format!("GROUP_JOIN:{gid}")).await;
    erin.expect(&format!("GROUP_JOIN_SENT:{gid}")).await;
    alice
        .until(&format!("GROUP_JOIN_REQUEST:{gid}:erin:"))
        .await;
    alice
        .send(&format!("GROUP_JOIN_ANSWER:{gid}:erin:no"))
        .await;
    alice.until(&format!("GROUP_JOIN_CLOSED:{gid}:erin")).await;
    erin.expect(&format!("GROUP_JOIN_REJECTED:{gid}")).await;
    erin.send(&format!("GROUP_MEMBERS:{gid}")).await;
    assert!(erin.recv().await.starts_with("ERROR:not_member:"));
}

#[tokio::test]
async fn a_join_request_waits_for_an_offline_owner() {
    let server = TestServer::start().await;
    let (gid, mut alice, _peers) = team(&server, &[]).await;
    alice.send(&format!("GROUP_POLICY:{gid}:approve")).await;
    alice.until(&format!("GROUP_POLICY:{gid}:approve")).await;
    alice.send("LOGOUT").await;
    alice.until("BYE:").await;
    let mut dave = server.user("dave").await;
    dave.send(&format!("GROUP_JOIN:{gid}")).await;
    dave.expect(&format!("GROUP_JOIN_SENT:{gid}")).await;
    // Asking again does not ask twice.
    dave.send(&format!("GROUP_JOIN:{gid}")).await;
    dave.expect(&format!("GROUP_JOIN_SENT:{gid}")).await;
    let mut alice = server.connect().await;
    alice.login("alice").await;
    alice.send("GROUP_REQUESTS").await;
    let listed = alice.collect_until("GROUP_REQUESTS_END:").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed[0].starts_with(&format!("GROUP_JOIN_REQUEST:{gid}:dave:")),
        "{listed:?}"
    );
    assert_eq!(listed[1], "GROUP_REQUESTS_END:1");
    alice
        .send(&format!("GROUP_JOIN_ANSWER:{gid}:dave:yes"))
        .await;
    dave.until(&format!("GROUP_INFO:{gid}:alice:2:team")).await;
}

/// The `<kind>:<account>:<value>` of a `GROUP_EVENT:` line, and its id.
fn event(line: &str) -> (u64, String) {
    let f: Vec<&str> = line.split(':').collect();
    assert_eq!(f[0], "GROUP_EVENT", "{line}");
    (f[1].parse().unwrap(), f[5..].join(":"))
}

#[tokio::test]
async fn every_group_change_is_a_line_of_the_groups_history() {
    let server = TestServer::start().await;
    let (gid, mut alice, mut peers) = team(&server, &["bob", "carol", "dave"]).await;
    all_features(&mut alice).await;
    all_features(&mut peers[0]).await;
    // carol's client is older: she gets each change in words, as a GROUP: message.
    alice.send(&format!("GROUP_RENAME:{gid}:crew")).await;
    let renamed = alice.next_event().await;
    let (id, what) = event(&renamed);
    assert_eq!(what, "rename::crew");
    assert!(
        renamed.starts_with(&format!("GROUP_EVENT:{id}:{gid}:alice:")),
        "{renamed}"
    );
    assert_eq!(peers[0].next_event().await, renamed);
    let said = loop {
        // Past the stand-ins of the invitations before.
        let line = peers[1].next_event().await;
        if line.starts_with(&format!("GROUP:{id}:")) {
            break line;
        }
    };
    assert!(
        said.starts_with(&format!("GROUP:{id}:{gid}:alice:"))
            && said.ends_with(":alice 将群名改为 crew (alice renamed the group to crew)"),
        "{said}"
    );
    for line in [
        format!("GROUP_ADMIN:{gid}:bob:on"),
        format!("GROUP_MUTE:{gid}:carol:60"),
        format!("GROUP_MUTE:{gid}:carol:0"),
        format!("GROUP_MUTE_ALL:{gid}:on"),
        format!("GROUP_MUTE_ALL:{gid}:off"),
        format!("GROUP_NOTICE:{gid}:read me"),
        format!("GROUP_KICK:{gid}:dave"),
        format!("GROUP_TRANSFER:{gid}:bob"),
    ] {
        alice.send(&line).await;
        alice.next_event().await;
    }
    peers[1].send(&format!("GROUP_LEAVE:{gid}")).await;
    peers[1].until(&format!("GROUP_GONE:{gid}:left")).await;
    let left = alice.next_event().await;
    assert!(left.ends_with(":leave:carol:"), "{left}");

    // The history keeps them in order, among the messages; newest first.
    alice.send(&format!("GROUP:{gid}:a1:hello")).await;
    alice.until("ACK:a1:").await;
    alice.send(&format!("HISTORY:group:{gid}:0:50")).await;
    let page = alice.collect_all_until("HISTORY_END:").await;
    let mut kinds: Vec<String> = page
        .iter()
        .filter(|l| l.starts_with("GROUP_EVENT:"))
        .map(|l| {
            let (_, what) = event(l);
            // The mute's end is a time; its kind and whom it concerns are what this test checks.
            if what.starts_with("mute:carol:") && !what.ends_with(":0") {
                "mute:carol:<until>".to_owned()
            } else {
                what
            }
        })
        .collect();
    kinds.reverse();
    assert_eq!(
        kinds,
        [
            "invite:bob:",
            "invite:carol:",
            "invite:dave:",
            "rename::crew",
            "admin:bob:on",
            "mute:carol:<until>",
            "mute:carol:0",
            "mute_all::on",
            "mute_all::off",
            "notice::read me",
            "kick:dave:",
            "transfer:bob:",
            "leave:carol:",
        ],
        "{page:?}"
    );
    assert!(page[0].ends_with(":a1:hello"), "{page:?}");

    // A member who was away syncs them in order, in words without the feature.
    let mut bob = server.connect().await;
    bob.login("bob").await;
    bob.send("SYNC:0:100").await;
    let synced = bob.collect_all_until("SYNC_END:").await;
    let words: Vec<&String> = synced
        .iter()
        .filter(|l| common::is_group_event(l))
        .collect();
    // His own invitation is the first thing he sees of the group.
    assert_eq!(words.len(), 13, "{synced:?}");
    assert!(
        words[0].ends_with(":alice 邀请 bob 加入了群 (alice invited bob)"),
        "{words:?}"
    );
    assert!(
        words[5].ends_with(":alice 禁言了 carol 1 分钟 (alice muted carol for 1 min)"),
        "{words:?}"
    );
    assert!(
        words[12].ends_with(":carol 退出了群 (carol left)"),
        "{words:?}"
    );
    assert!(synced[13].ends_with(":a1:hello"), "{synced:?}");

    // A change is the group's: nobody recalls or quotes it.
    let mut bob = peers.remove(0);
    bob.send(&format!("RECALL:{id}")).await;
    assert!(
        bob.until("ERROR:")
            .await
            .starts_with("ERROR:no_such_message:")
    );
    bob.send(&format!("SEND:group:{gid}:b1:{id}::so?")).await;
    assert!(
        bob.until("ERROR:")
            .await
            .starts_with("ERROR:no_such_message:")
    );
}

#[tokio::test]
async fn a_request_to_a_full_group_waits_and_a_kicked_member_may_ask_again() {
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.members = 2).await;
    let (gid, mut alice, mut peers) = team(&server, &["bob"]).await;
    alice.send(&format!("GROUP_POLICY:{gid}:approve")).await;
    alice.until(&format!("GROUP_POLICY:{gid}:approve")).await;
    let mut dave = server.user("dave").await;
    dave.send(&format!("GROUP_JOIN:{gid}")).await;
    dave.expect(&format!("GROUP_JOIN_SENT:{gid}")).await;
    alice
        .until(&format!("GROUP_JOIN_REQUEST:{gid}:dave:"))
        .await;
    // Full: refused, and the request is still there.
    refused(
        &mut alice,
        &format!("GROUP_JOIN_ANSWER:{gid}:dave:yes"),
        "too_many",
    )
    .await;
    alice.send("GROUP_REQUESTS").await;
    alice
        .until(&format!("GROUP_JOIN_REQUEST:{gid}:dave:"))
        .await;
    alice.expect("GROUP_REQUESTS_END:1").await;
    // Room is made by a kick; the kicked member may ask to come back (the owner decides).
    alice.send(&format!("GROUP_KICK:{gid}:bob")).await;
    peers[0].until(&format!("GROUP_GONE:{gid}:kicked")).await;
    alice
        .send(&format!("GROUP_JOIN_ANSWER:{gid}:dave:yes"))
        .await;
    alice.until(&format!("GROUP_JOIN_CLOSED:{gid}:dave")).await;
    dave.until(&format!("GROUP_INFO:{gid}:alice:2:team")).await;
    peers[0].send(&format!("GROUP_JOIN:{gid}")).await;
    peers[0].expect(&format!("GROUP_JOIN_SENT:{gid}")).await;
    alice.until(&format!("GROUP_JOIN_REQUEST:{gid}:bob:")).await;
}

/// The walk-through of group management in docs/protocol.md, played against the server: the same lines,
/// but for ids, times and event client ids (`N`, `T`, `event-X`) and the group's number (`G`).
#[tokio::test]
async fn the_spec_walkthrough_of_group_management_is_what_the_server_says() {
    let server = TestServer::start().await;
    let mut alice = server.user("alice").await;
    let mut bob = server.connect().await;
    bob.send("REGISTER:bob:password:Bob the Builder").await;
    bob.expect("RESIGER:true:bob").await;
    bob.login("bob").await;
    alice.send("ADD_FRIEND:bob:hi").await;
    bob.until("FRIEND_REQUEST:alice:").await;
    bob.send("ACCEPT_FRIEND:alice").await;
    alice.until("FRIEND:bob:").await;
    let gid = alice.create_group("lunch crew").await;
    alice.send(&format!("GROUP_INVITE:{gid}:bob")).await;
    bob.until(&format!("GROUP_INFO:{gid}:")).await;
    alice.until(&format!("MEMBER:{gid}:bob:")).await;
    // Past the invitation's own line on both sides.
    alice.next_event().await;
    bob.next_event().await;
    let shown = |line: String| -> String {
        let mut f: Vec<String> = line.split(':').map(str::to_owned).collect();
        for field in f.iter_mut() {
            if *field == gid {
                *field = "G".into();
            } else if field.len() == 13 && field.bytes().all(|b| b.is_ascii_digit()) {
                *field = "T".into();
            } else if field.starts_with("event-") {
                *field = "event-X".into();
            }
        }
        if matches!(f[0].as_str(), "GROUP" | "GROUP_EVENT") {
            f[1] = "N".into();
        }
        f.join(":")
    };
    async fn lines(p: &mut Peer, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(p.next().await.expect("a line"));
        }
        out
    }

    let features = "SAID,RECALLED,READ,TYPING,GROUP_ROLE,GROUP_MUTE,GROUP_NOTICE,GROUP_EVENT";
    bob.send(&format!("FEATURES:{features}")).await;
    bob.expect(&format!("FEATURES:{features}")).await;
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    assert_eq!(
        lines(&mut alice, 1)
            .await
            .into_iter()
            .map(shown)
            .collect::<Vec<_>>(),
        ["GROUP:N:G:alice:T:event-X:alice 将 bob 设为管理员 (alice made bob an admin)"]
    );
    bob.send(&format!("GROUP_NOTICE:{gid}:周六 8:00 出发, bring water"))
        .await;
    bob.send(&format!("GROUP_MUTE_ALL:{gid}:on")).await;
    assert_eq!(
        lines(&mut bob, 6)
            .await
            .into_iter()
            .map(shown)
            .collect::<Vec<_>>(),
        [
            "GROUP_ROLE:G:bob:admin",
            "GROUP_EVENT:N:G:alice:T:admin:bob:on",
            "GROUP_NOTICE:G:bob:T:周六 8%3A00 出发, bring water",
            "GROUP_EVENT:N:G:bob:T:notice::周六 8%3A00 出发, bring water",
            "GROUP_MUTE_ALL:G:on",
            "GROUP_EVENT:N:G:bob:T:mute_all::on",
        ]
    );
    assert_eq!(
        lines(&mut alice, 2)
            .await
            .into_iter()
            .map(shown)
            .collect::<Vec<_>>(),
        [
            "GROUP:N:G:bob:T:event-X:bob 发布了群公告 (bob posted an announcement)：%0A周六 8%3A00 出发, bring water",
            "GROUP:N:G:bob:T:event-X:bob 开启了全员禁言 (bob muted the group)",
        ]
    );
    alice.send(&format!("GROUP_MEMBERS:{gid}")).await;
    alice.send(&format!("GROUP_TRANSFER:{gid}:bob")).await;
    alice
        .send(&format!("GROUP:{gid}:g9:can I still talk?"))
        .await;
    assert_eq!(
        lines(&mut alice, 6)
            .await
            .into_iter()
            .map(shown)
            .collect::<Vec<_>>(),
        [
            "MEMBER:G:alice:owner:online:alice",
            "MEMBER:G:bob:member:online:Bob the Builder",
            "MEMBERS_END:G:2",
            "GROUP_INFO:G:bob:2:lunch crew",
            "GROUP:N:G:alice:T:event-X:alice 将群转让给 bob (alice handed the group to bob)",
            "ERROR:muted:0 group G is muted%3A only its owner and admins may speak:g9",
        ]
        .map(|l| l.replace("group G", &format!("group {gid}")))
    );
    assert_eq!(
        lines(&mut bob, 4)
            .await
            .into_iter()
            .map(shown)
            .collect::<Vec<_>>(),
        [
            "GROUP_ROLE:G:bob:owner",
            "GROUP_ROLE:G:alice:member",
            "GROUP_INFO:G:bob:2:lunch crew",
            "GROUP_EVENT:N:G:alice:T:transfer:bob:",
        ]
    );
}
