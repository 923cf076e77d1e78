//! Friend groups (好友分组), over real TCP against a real server: made, renamed, deleted and friends moved
//! into them; the same on every session of the user, live; checked and limited; kept over a restart; and
//! the `FRIEND:` line of a client without the `CATEGORY` feature unchanged.

mod common;

use std::time::Duration;

use common::{Peer, TestServer};

const QUIET: Duration = Duration::from_millis(300);

/// Turns the friend-group lines on for this connection.
async fn features(p: &mut Peer) {
    p.send("FEATURES:CATEGORY").await;
    p.expect("FEATURES:CATEGORY").await;
}

/// Another session of `account`, with the `CATEGORY` feature.
async fn second_session(server: &TestServer, account: &str) -> Peer {
    let mut p = server.connect().await;
    features(&mut p).await;
    p.login(account).await;
    p
}

#[tokio::test]
async fn groups_are_made_renamed_deleted_and_friends_moved_on_every_session() {
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.actions = 0).await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    features(&mut alice).await;
    let mut alice2 = second_session(&server, "alice").await;
    // A session that did not ask for the feature is answered when it asks, and told nothing else.
    let mut alice_plain = server.connect().await;
    alice_plain.login("alice").await;

    alice.send("CATEGORIES").await;
    alice.expect("CATEGORIES_END:0").await;
    alice.send("CATEGORY_ADD:同事: work").await;
    alice.expect("CATEGORY:1:同事%3A work").await;
    alice2.expect("CATEGORY:1:同事%3A work").await;
    alice.send("CATEGORY_ADD:家人").await;
    alice.expect("CATEGORY:2:家人").await;
    alice2.expect("CATEGORY:2:家人").await;

    // A friend starts in the default group; moving them is told to my other sessions, not to them.
    alice.send("FRIENDS").await;
    assert_eq!(
        alice.collect_until("FRIENDS_END:").await,
        ["FRIEND:bob:online:bob::0", "FRIENDS_END:1"]
    );
    alice.send("FRIEND_MOVE:bob:1").await;
    alice.expect("FRIEND:bob:online:bob::1").await;
    alice2.expect("FRIEND:bob:online:bob::1").await;
    alice.send("CATEGORY_RENAME:1:大学同学").await;
    alice.expect("CATEGORY:1:大学同学").await;
    alice2.expect("CATEGORY:1:大学同学").await;

    // The plain session sees its old lines, and the groups when it asks.
    alice_plain.send("FRIENDS").await;
    assert_eq!(
        alice_plain.collect_until("FRIENDS_END:").await,
        ["FRIEND:bob:online:bob:", "FRIENDS_END:1"]
    );
    alice_plain.send("CATEGORIES").await;
    assert_eq!(
        alice_plain.collect_until("CATEGORIES_END:").await,
        ["CATEGORY:1:大学同学", "CATEGORY:2:家人", "CATEGORIES_END:2"]
    );
    // It may change them too, and is answered though it did not ask for the pushes.
    alice_plain.send("CATEGORY_ADD:旧").await;
    alice_plain.expect("CATEGORY:3:旧").await;
    alice.expect("CATEGORY:3:旧").await;
    alice_plain.send("FRIEND_MOVE:bob:2").await;
    alice_plain.expect("FRIEND:bob:online:bob:").await;
    alice.expect("FRIEND:bob:online:bob::2").await;
    alice_plain.send("FRIEND_MOVE:bob:1").await;
    alice_plain.expect("FRIEND:bob:online:bob:").await;
    alice.expect("FRIEND:bob:online:bob::1").await;
    alice_plain.send("CATEGORY_DEL:3").await;
    alice_plain.expect("CATEGORY_GONE:3").await;
    alice.expect("CATEGORY_GONE:3").await;

    // With the profile as well, the group comes first.
    alice.send("FEATURES:CATEGORY,PROFILE").await;
    alice.expect("FEATURES:PROFILE,CATEGORY").await;
    alice.send("FRIENDS").await;
    assert_eq!(
        alice.collect_until("FRIENDS_END:").await,
        ["FRIEND:bob:online:bob::1:::", "FRIENDS_END:1"]
    );

    // Deleting a group puts its friends back in the default one.
    alice.send("CATEGORY_DEL:1").await;
    alice.expect("CATEGORY_GONE:1").await;
    // alice2 heard every change alice_plain made on the way.
    assert_eq!(
        alice2.collect_until("CATEGORY_GONE:1").await,
        [
            "CATEGORY:3:旧",
            "FRIEND:bob:online:bob::2",
            "FRIEND:bob:online:bob::1",
            "CATEGORY_GONE:3",
            "CATEGORY_GONE:1"
        ]
    );
    alice2.send("FRIENDS").await;
    assert_eq!(
        alice2.collect_until("FRIENDS_END:").await,
        ["FRIEND:bob:online:bob::0", "FRIENDS_END:1"]
    );
    alice2.send("CATEGORIES").await;
    assert_eq!(
        alice2.collect_until("CATEGORIES_END:").await,
        ["CATEGORY:2:家人", "CATEGORIES_END:1"]
    );

    // bob was told nothing of it; his own groups are his.
    assert!(bob.drain(QUIET).await.is_empty());
    bob.send("CATEGORIES").await;
    bob.expect("CATEGORIES_END:0").await;
    bob.send("CATEGORY_RENAME:2:mine").await;
    assert_eq!(
        bob.recv().await,
        "ERROR:no_such_category:you have no friend group with that id (the default group cannot be \
         renamed or deleted):2"
    );
    assert!(alice2.drain(QUIET).await.is_empty());
    assert!(alice_plain.drain(QUIET).await.is_empty());
}

#[tokio::test]
async fn bad_names_unknown_groups_and_non_friends_are_refused() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.actions = 0;
        c.limits.name = 5;
        c.limits.categories = 2;
    })
    .await;
    let (mut alice, _bob) = server.friends("alice", "bob").await;
    server.user("carol").await;
    let mut login = server.connect().await;
    let reply = login.login("alice").await;
    assert!(
        reply
            .rsplit(':')
            .next()
            .is_some_and(|limits| limits.split(',').any(|kv| kv == "categories=2")),
        "the limit is advertised: {reply}"
    );
    let refused = async |p: &mut Peer, line: &str, code: &str| {
        p.send(line).await;
        let reply = p.recv().await;
        assert!(
            reply.starts_with(&format!("ERROR:{code}:")),
            "{line}: {reply}"
        );
        reply
    };

    refused(&mut alice, "CATEGORY_ADD:", "bad_request").await;
    refused(&mut alice, "CATEGORY_ADD:  ", "bad_request").await;
    refused(&mut alice, "CATEGORY_ADD:a\tb", "bad_request").await;
    refused(&mut alice, "CATEGORY_ADD:123456", "too_long").await;
    alice.send("CATEGORY_ADD:12345").await;
    alice.expect("CATEGORY:1:12345").await;
    refused(&mut alice, "CATEGORY_ADD:12345", "category_exists").await;
    alice.send("CATEGORY_ADD:家人").await;
    alice.expect("CATEGORY:2:家人").await;
    refused(&mut alice, "CATEGORY_ADD:同事", "too_many").await;
    refused(&mut alice, "CATEGORY_RENAME:1:家人", "category_exists").await;
    // Its own name again is answered as a rename.
    alice.send("CATEGORY_RENAME:1:12345").await;
    alice.expect("CATEGORY:1:12345").await;
    refused(&mut alice, "CATEGORY_RENAME:1:123456", "too_long").await;
    // The default group is neither renamed nor deleted; an unknown one is unknown.
    let reply = refused(&mut alice, "CATEGORY_RENAME:0:x", "no_such_category").await;
    assert!(reply.ends_with(":0"), "about the id: {reply}");
    refused(&mut alice, "CATEGORY_DEL:0", "no_such_category").await;
    refused(&mut alice, "CATEGORY_DEL:9", "no_such_category").await;
    refused(&mut alice, "FRIEND_MOVE:bob:9", "no_such_category").await;
    // Only a friend is moved.
    let reply = refused(&mut alice, "FRIEND_MOVE:carol:1", "not_friends").await;
    assert!(reply.ends_with(":carol"), "about the account: {reply}");
    refused(&mut alice, "FRIEND_MOVE:nobody:1", "no_such_user").await;
    refused(&mut alice, "FRIEND_MOVE:alice:1", "not_friends").await;
    // Deleting one makes room for another.
    alice.send("CATEGORY_DEL:2").await;
    alice.expect("CATEGORY_GONE:2").await;
    alice.send("CATEGORY_ADD:同事").await;
    alice.expect("CATEGORY:3:同事").await;
}

#[tokio::test]
async fn friend_group_changes_count_as_actions() {
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.actions = 1).await;
    let mut alice = server.user("alice").await;
    let mut limited = false;
    for i in 0..6 {
        alice.send(&format!("CATEGORY_ADD:g{i}")).await;
        let reply = alice.recv().await;
        if reply.starts_with("ERROR:rate_limited:") {
            limited = true;
            break;
        }
        assert!(reply.starts_with("CATEGORY:"), "{reply}");
    }
    assert!(limited, "six changes at once pass a limit of one a second");
    // Listing is a read, never limited.
    alice.send("CATEGORIES").await;
    alice.until("CATEGORIES_END:").await;
}

#[tokio::test]
async fn strangers_may_not_touch_friend_groups() {
    let server = TestServer::start().await;
    let mut stranger = server.connect().await;
    for line in [
        "CATEGORIES",
        "CATEGORY_ADD:同事",
        "CATEGORY_RENAME:1:x",
        "CATEGORY_DEL:1",
        "CATEGORY_ORDER:1",
        "FRIEND_MOVE:bob:1",
    ] {
        stranger.send(line).await;
        let reply = stranger.recv().await;
        assert!(reply.starts_with("ERROR:not_logged_in:"), "{line}: {reply}");
    }
}

#[tokio::test]
async fn groups_survive_a_restart_and_unfriending_forgets_a_friends_group() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    features(&mut alice).await;
    alice.send("CATEGORY_ADD:同事").await;
    alice.expect("CATEGORY:1:同事").await;
    alice.send("FRIEND_MOVE:bob:1").await;
    alice.expect("FRIEND:bob:online:bob::1").await;
    let dir = {
        drop((alice, bob));
        server.stop().await
    };

    let server = TestServer::start_with(dir, |_| {}).await;
    let mut alice = second_session(&server, "alice").await;
    alice.send("CATEGORIES").await;
    assert_eq!(
        alice.collect_until("CATEGORIES_END:").await,
        ["CATEGORY:1:同事", "CATEGORIES_END:1"]
    );
    alice.send("FRIENDS").await;
    assert_eq!(
        alice.collect_until("FRIENDS_END:").await,
        ["FRIEND:bob:offline:bob::1", "FRIENDS_END:1"]
    );

    // Friends again after parting, bob starts in the default group.
    alice.send("DEL_FRIEND:bob").await;
    alice.expect("FRIEND_REMOVED:bob").await;
    bob = server.connect().await;
    bob.login("bob").await;
    bob.send("ADD_FRIEND:alice").await;
    bob.until("REQUEST_SENT:alice").await;
    alice.until("FRIEND_REQUEST:bob:").await;
    alice.send("ACCEPT_FRIEND:bob").await;
    alice.expect("REQUEST_CLOSED:bob").await;
    alice.expect("FRIEND:bob:online:bob::0").await;
}

#[tokio::test]
async fn groups_are_reordered_whole_on_every_session_and_a_new_one_goes_last() {
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.actions = 0).await;
    let mut alice = server.user("alice").await;
    features(&mut alice).await;
    let mut alice2 = second_session(&server, "alice").await;
    for name in ["a", "b", "c"] {
        alice.send(&format!("CATEGORY_ADD:{name}")).await;
        alice.until("CATEGORY:").await;
    }
    alice.send("CATEGORY_ORDER:3,1,2").await;
    alice.expect("CATEGORY_ORDER:3,1,2").await;
    alice2.until("CATEGORY_ORDER:").await;
    alice.send("CATEGORY_ADD:d").await;
    alice.expect("CATEGORY:4:d").await;
    alice.send("CATEGORIES").await;
    assert_eq!(
        alice.collect_until("CATEGORIES_END:").await,
        [
            "CATEGORY:3:c",
            "CATEGORY:1:a",
            "CATEGORY:2:b",
            "CATEGORY:4:d",
            "CATEGORIES_END:4"
        ]
    );
    // Each of them once: one left out (a device that missed d) or named twice is refused, as is
    // someone else's or an unknown id; nothing changes.
    for (line, code) in [
        ("CATEGORY_ORDER:3,1,2", "bad_request"),
        ("CATEGORY_ORDER:3,1,2,4,4", "bad_request"),
        ("CATEGORY_ORDER:3,1,2,9", "no_such_category"),
    ] {
        alice.send(line).await;
        let reply = alice.recv().await;
        assert!(
            reply.starts_with(&format!("ERROR:{code}:")),
            "{line}: {reply}"
        );
    }
    let mut bob = server.user("bob").await;
    bob.send("CATEGORY_ORDER:1").await;
    assert!(
        bob.recv().await.starts_with("ERROR:no_such_category:"),
        "alice's groups are not bob's"
    );
    bob.send("CATEGORY_ORDER:").await;
    bob.expect("CATEGORY_ORDER:").await;
    alice.send("CATEGORIES").await;
    assert_eq!(
        alice.collect_until("CATEGORIES_END:").await[0],
        "CATEGORY:3:c"
    );
}
