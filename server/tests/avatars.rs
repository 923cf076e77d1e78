//! Avatars (头像) kept by the server, over real TCP against a real server: a picture set by one user
//! reaches friends and fellow group members live (with the `AVATAR` feature) and follows their lists;
//! anyone logged in fetches it by its digest; a group's owner and admins set the group's; what is not a
//! small PNG or JPEG is refused; and it all survives a restart.

mod common;

use std::time::Duration;

use common::{Peer, TestServer};
use ququ_protocol::base64;
use sha2::{Digest, Sha256};

const QUIET: Duration = Duration::from_millis(300);

/// A 1 × 1 transparent PNG, the one in docs/protocol.md.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP438DwHwAGgAJ/EEwb4QAAAABJRU5ErkJggg==";
const PNG_SHA: &str = "9f53a393e528fdbe12274d43223ec83480f91f39c49c9c69344ef1b26ad1196b";

/// Another picture: a JPEG's start (the server checks the signature only).
fn jpeg() -> (String, String) {
    let bytes = b"\xff\xd8\xff\xe0 not really the rest of a jpeg".to_vec();
    (base64::encode(&bytes), hex::encode(Sha256::digest(&bytes)))
}

async fn features(p: &mut Peer) {
    p.send("FEATURES:AVATAR").await;
    p.expect("FEATURES:AVATAR").await;
}

async fn refused(p: &mut Peer, line: &str, code: &str) {
    p.send(line).await;
    let got = p.recv().await;
    assert!(
        got.starts_with(&format!("ERROR:{code}:")),
        "{line} answered {got}"
    );
}

#[tokio::test]
async fn an_avatar_reaches_friends_and_fellow_members_and_survives_a_restart() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    // carol is in a group with alice, not her friend.
    let mut carol = server.user("carol").await;
    let gid = alice.create_group("crew").await;
    alice.open_group(&gid).await;
    carol.send(&format!("GROUP_JOIN:{gid}")).await;
    carol.until(&format!("GROUP_INFO:{gid}:")).await;
    alice.until(&format!("MEMBER:{gid}:carol:")).await;
    // dave is alice's friend too but never asked for the feature: he is told nothing.
    let mut dave = server.user("dave").await;
    dave.send("ADD_FRIEND:alice").await;
    alice.until("FRIEND_REQUEST:dave:").await;
    alice.send("ACCEPT_FRIEND:dave").await;
    alice.until("FRIEND:dave:").await;
    dave.until("FRIEND:alice:").await;
    for p in [&mut bob, &mut carol] {
        features(p).await;
    }

    // alice's own session is answered although it did not ask for the feature.
    alice.send(&format!("SET_AVATAR:{PNG}")).await;
    let of = format!("AVATAR_OF:user:alice:{PNG_SHA}");
    alice.expect(&of).await;
    bob.expect(&of).await;
    carol.expect(&of).await;
    assert!(
        dave.drain(QUIET).await.is_empty(),
        "an old client hears nothing"
    );

    // Fetched by its digest, by anyone logged in.
    bob.send(&format!("AVATAR_GET:{PNG_SHA}")).await;
    bob.expect(&format!("AVATAR:{PNG_SHA}:{PNG}")).await;
    let mut erin = server.user("erin").await;
    erin.send(&format!("AVATAR_GET:{PNG_SHA}")).await;
    erin.expect(&format!("AVATAR:{PNG_SHA}:{PNG}")).await;

    // It follows the friend list, the member list and a profile, after the list's end.
    bob.send("FRIENDS").await;
    assert_eq!(
        bob.collect_until("FRIENDS_END:").await,
        ["FRIEND:alice:online:alice:", "FRIENDS_END:1"]
    );
    bob.expect(&of).await;
    carol.send(&format!("GROUP_MEMBERS:{gid}")).await;
    carol.collect_until("MEMBERS_END:").await;
    carol.expect(&of).await;
    // Someone without an avatar is said to have none, so a picture kept from before is let go.
    carol.expect("AVATAR_OF:user:carol:").await;
    carol.send("PROFILE:alice").await;
    carol.expect("PROFILE:alice:alice:::").await;
    carol.expect(&of).await;
    // dave's list is as it always was.
    dave.send("FRIENDS").await;
    assert_eq!(dave.collect_until("FRIENDS_END:").await.len(), 2);
    assert!(dave.drain(QUIET).await.is_empty());

    // A new member learns who has one right after the member's line; the newcomer asks the list.
    let mut frank = server.user("frank").await;
    features(&mut frank).await;
    frank.send(&format!("SET_AVATAR:{}", jpeg().0)).await;
    let frank_of = format!("AVATAR_OF:user:frank:{}", jpeg().1);
    frank.expect(&frank_of).await;
    frank.send(&format!("GROUP_JOIN:{gid}")).await;
    carol.until(&format!("MEMBER:{gid}:frank:")).await;
    carol.expect(&frank_of).await;

    // Kept over a restart.
    let dir = {
        drop((alice, bob, carol, dave, erin, frank));
        server.stop().await
    };
    let server = TestServer::start_with(dir, |_| {}).await;
    let mut bob = server.connect().await;
    features(&mut bob).await;
    bob.login("bob").await;
    bob.send("FRIENDS").await;
    bob.collect_until("FRIENDS_END:").await;
    bob.expect(&of).await;
    bob.send(&format!("AVATAR_GET:{PNG_SHA}")).await;
    bob.expect(&format!("AVATAR:{PNG_SHA}:{PNG}")).await;

    // Cleared: friends are told, and the picture nobody shows any more is gone.
    let mut alice = server.connect().await;
    alice.login("alice").await;
    alice.send("SET_AVATAR:").await;
    alice.expect("AVATAR_OF:user:alice:").await;
    bob.until("AVATAR_OF:user:alice:").await;
    refused(&mut bob, &format!("AVATAR_GET:{PNG_SHA}"), "no_such_file").await;
}

#[tokio::test]
async fn what_is_not_a_small_picture_is_refused() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.avatar = 100;
    })
    .await;
    let mut nobody = server.connect().await;
    refused(&mut nobody, &format!("SET_AVATAR:{PNG}"), "not_logged_in").await;
    refused(
        &mut nobody,
        &format!("AVATAR_GET:{PNG_SHA}"),
        "not_logged_in",
    )
    .await;

    let mut alice = server.user("alice").await;
    // The limit is advertised at login.
    let mut again = server.connect().await;
    again.send("LOGIN:alice:password").await;
    assert!(again.recv().await.ends_with(",avatar=100"));

    let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
    big.resize(101, 0);
    refused(
        &mut alice,
        &format!("SET_AVATAR:{}", base64::encode(&big)),
        "too_large",
    )
    .await;
    big.truncate(100);
    alice
        .send(&format!("SET_AVATAR:{}", base64::encode(&big)))
        .await;
    assert!(alice.recv().await.starts_with("AVATAR_OF:user:alice:"));
    // Not a PNG or JPEG, and not base64.
    refused(&mut alice, "SET_AVATAR:aGVsbG8=", "bad_request").await;
    refused(&mut alice, "SET_AVATAR:GIF89a", "bad_request").await;
    refused(&mut alice, "SET_AVATAR:R0lGODlhAQABAAAAACw=", "bad_request").await;
    // An unknown digest.
    refused(
        &mut alice,
        &format!("AVATAR_GET:{}", "0".repeat(64)),
        "no_such_file",
    )
    .await;
}

#[tokio::test]
async fn a_groups_avatar_is_set_by_its_owner_and_admins_and_told_to_its_members() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let gid = alice.create_group("crew").await;
    alice.open_group(&gid).await;
    let mut carol = server.user("carol").await;
    for p in [&mut bob, &mut carol] {
        features(p).await;
        p.send(&format!("GROUP_JOIN:{gid}")).await;
        p.until(&format!("GROUP_INFO:{gid}:")).await;
    }
    let mut mallory = server.user("mallory").await;
    // carol's joining, as bob and alice were told it.
    bob.drain(QUIET).await;
    alice.drain(QUIET).await;

    refused(&mut bob, &format!("GROUP_AVATAR:{gid}:{PNG}"), "forbidden").await;
    refused(
        &mut mallory,
        &format!("GROUP_AVATAR:{gid}:{PNG}"),
        "not_member",
    )
    .await;
    refused(
        &mut mallory,
        &format!("GROUP_AVATAR:1:{PNG}"),
        "no_such_group",
    )
    .await;
    refused(
        &mut alice,
        &format!("GROUP_AVATAR:{gid}:aGVsbG8="),
        "bad_request",
    )
    .await;

    alice.send(&format!("GROUP_AVATAR:{gid}:{PNG}")).await;
    let of = format!("AVATAR_OF:group:{gid}:{PNG_SHA}");
    alice.until(&of).await;
    bob.until(&of).await;
    carol.until(&of).await;

    // An admin may too.
    alice.send(&format!("GROUP_ADMIN:{gid}:bob:on")).await;
    bob.next_event().await;
    let (jpeg, jpeg_sha) = jpeg();
    bob.send(&format!("GROUP_AVATAR:{gid}:{jpeg}")).await;
    let of = format!("AVATAR_OF:group:{gid}:{jpeg_sha}");
    bob.until(&of).await;
    carol.until(&of).await;
    // The first picture, nobody's any more, is gone.
    refused(&mut carol, &format!("AVATAR_GET:{PNG_SHA}"), "no_such_file").await;

    // It follows the group list, and a newcomer hears it after the group's line.
    carol.send("GROUPS").await;
    carol.collect_until("GROUPS_END:").await;
    carol.expect(&of).await;
    features(&mut mallory).await;
    mallory.send(&format!("GROUP_JOIN:{gid}")).await;
    mallory.until(&format!("GROUP_INFO:{gid}:")).await;
    mallory.until(&of).await;
    mallory.send(&format!("AVATAR_GET:{jpeg_sha}")).await;
    mallory.expect(&format!("AVATAR:{jpeg_sha}:{jpeg}")).await;
}

/// A stranger asking to be my friend comes with their picture, live and in the requests list; the list
/// says the same of those I asked.
#[tokio::test]
async fn who_asks_to_be_a_friend_comes_with_their_avatar() {
    let server = TestServer::start().await;
    let mut alice = server.user("alice").await;
    let mut carol = server.user("carol").await;
    for p in [&mut alice, &mut carol] {
        features(p).await;
    }
    alice.send(&format!("SET_AVATAR:{PNG}")).await;
    let of = format!("AVATAR_OF:user:alice:{PNG_SHA}");
    alice.expect(&of).await;
    alice.send("ADD_FRIEND:carol:hi").await;
    alice.expect("REQUEST_SENT:carol").await;
    carol.until("FRIEND_REQUEST:alice:").await;
    carol.expect(&of).await;
    carol.send("REQUESTS").await;
    carol.collect_until("REQUESTS_END:").await;
    carol.expect(&of).await;
    alice.send("REQUESTS").await;
    assert!(alice.collect_until("REQUESTS_END:").await[0].starts_with("REQUEST_WAITING:carol:"));
    alice.expect("AVATAR_OF:user:carol:").await;
}

/// Someone asking to join an `approve` group is shown with their picture, as a friend request is: the
/// owner is told who has which right after the request, live and in the list at the next login.
#[tokio::test]
async fn a_join_request_comes_with_the_askers_avatar() {
    let server = TestServer::start().await;
    let mut alice = server.user("alice").await;
    features(&mut alice).await;
    let gid = alice.create_group("crew").await;
    alice.send(&format!("GROUP_POLICY:{gid}:approve")).await;
    alice.until(&format!("GROUP_POLICY:{gid}:approve")).await;
    let mut dave = server.user("dave").await;
    features(&mut dave).await;
    let (jpeg, sha) = jpeg();
    dave.send(&format!("SET_AVATAR:{jpeg}")).await;
    let of = format!("AVATAR_OF:user:dave:{sha}");
    dave.expect(&of).await;

    dave.send(&format!("GROUP_JOIN:{gid}")).await;
    dave.expect(&format!("GROUP_JOIN_SENT:{gid}")).await;
    alice
        .until(&format!("GROUP_JOIN_REQUEST:{gid}:dave:"))
        .await;
    alice.expect(&of).await;

    alice.send("GROUP_REQUESTS").await;
    let listed = alice.collect_until("GROUP_REQUESTS_END:").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    alice.expect(&of).await;
}
