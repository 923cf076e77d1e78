//! Profiles (个性签名, gender, region) and the block list (拉黑), over real TCP against a real server: what
//! friends and fellow group members see, live and in their lists, with the `PROFILE` feature and without
//! it (the original client, `nc`); and that a blocked user's private messages and friend requests are
//! answered as ever but never reach, nor are kept for, the one who blocks them.

mod common;

use std::time::Duration;

use common::{Peer, TestServer};

const QUIET: Duration = Duration::from_millis(300);

/// Turns the profile and block lines on for this connection.
async fn features(p: &mut Peer) {
    p.send("FEATURES:PROFILE,BLOCK").await;
    p.expect("FEATURES:PROFILE,BLOCK").await;
}

/// A third user in a group with `owner`'s peer, not a friend: returns them and the group's id.
async fn fellow_member(server: &TestServer, owner: &mut Peer, account: &str) -> (Peer, String) {
    let mut them = server.user(account).await;
    let gid = owner.create_group("crew").await;
    owner.open_group(&gid).await;
    them.send(&format!("GROUP_JOIN:{gid}")).await;
    them.until(&format!("GROUP_INFO:{gid}:")).await;
    owner.until(&format!("MEMBER:{gid}:{account}:")).await;
    (them, gid)
}

#[tokio::test]
async fn a_signature_reaches_friends_and_fellow_members_live_and_in_their_lists() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let (mut carol, gid) = fellow_member(&server, &mut alice, "carol").await;
    for p in [&mut alice, &mut bob, &mut carol] {
        features(p).await;
    }

    alice.send("SET_PROFILE:sign:今天也要加油: go").await;
    let full = "PROFILE:alice:alice:::今天也要加油%3A go";
    alice.expect(full).await;
    // The friend and the fellow member (no friend of hers) are both told, once.
    bob.expect(full).await;
    carol.expect(full).await;
    alice.send("SET_PROFILE:gender:female").await;
    alice.send("SET_PROFILE:region:上海").await;
    let full = "PROFILE:alice:alice:female:上海:今天也要加油%3A go";
    alice.until(full).await;
    bob.until(full).await;
    carol.until(full).await;
    assert!(bob.drain(QUIET).await.is_empty());

    // The friend list a new login reads carries it (the desktop app shows it under the name) …
    let mut bob2 = server.connect().await;
    features(&mut bob2).await;
    bob2.login("bob").await;
    bob2.send("FRIENDS").await;
    assert_eq!(
        bob2.collect_until("FRIENDS_END:").await,
        [
            "FRIEND:alice:online:alice::female:上海:今天也要加油%3A go",
            "FRIENDS_END:1"
        ]
    );
    // … and so does the member list, after the mute field when that is asked for too.
    carol.send(&format!("GROUP_MEMBERS:{gid}")).await;
    let members = carol.collect_until("MEMBERS_END:").await;
    assert_eq!(
        members[0],
        format!("MEMBER:{gid}:alice:owner:online:alice:female:上海:今天也要加油%3A go")
    );
    carol.send("FEATURES:PROFILE,GROUP_MUTE").await;
    carol.until("FEATURES:").await;
    carol.send(&format!("GROUP_MEMBERS:{gid}")).await;
    let members = carol.collect_until("MEMBERS_END:").await;
    assert_eq!(
        members[0],
        format!("MEMBER:{gid}:alice:owner:online:alice:0:female:上海:今天也要加油%3A go")
    );
    // A new member's line carries their profile to those who read it.
    let mut dave = server.user("dave").await;
    dave.send("SET_PROFILE:sign:hi all").await;
    dave.until("PROFILE:dave:dave").await;
    dave.send(&format!("GROUP_JOIN:{gid}")).await;
    assert_eq!(
        bob.drain(QUIET).await,
        Vec::<String>::new(),
        "bob is in no group with dave"
    );
    assert_eq!(
        alice.until(&format!("MEMBER:{gid}:dave:")).await,
        format!("MEMBER:{gid}:dave:member:online:dave:::hi all")
    );

    // Anyone may ask for a profile; it is kept over a restart.
    let dir = {
        drop((alice, bob, bob2, carol, dave));
        server.stop().await
    };
    let server = TestServer::start_with(dir, |_| {}).await;
    let mut erin = server.user("erin").await;
    erin.send("PROFILE:alice").await;
    erin.expect("PROFILE:alice:alice:female:上海:今天也要加油%3A go")
        .await;
    erin.send("PROFILE").await;
    erin.expect("PROFILE:erin:erin:::").await;
    erin.send("PROFILE:nobody").await;
    assert!(
        erin.recv().await.starts_with("ERROR:no_such_user:"),
        "an unknown account"
    );
}

/// A client that never sent `FEATURES:` sees exactly the lines it always did: a friend's new nickname
/// as a `FRIEND:` line, no profile lines, and lists in their old shape.
#[tokio::test]
async fn old_clients_see_the_lines_they_always_did() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let (mut carol, gid) = fellow_member(&server, &mut alice, "carol").await;
    alice.send("SET_PROFILE:sign:hello").await;
    alice.expect("PROFILE:alice:alice").await;
    assert!(bob.drain(QUIET).await.is_empty());
    assert!(carol.drain(QUIET).await.is_empty());

    alice.send("SET_NICK:Ally").await;
    alice.expect("PROFILE:alice:Ally").await;
    bob.expect("FRIEND:alice:online:Ally:").await;
    assert!(carol.drain(QUIET).await.is_empty());

    bob.send("FRIENDS").await;
    assert_eq!(
        bob.collect_until("FRIENDS_END:").await,
        ["FRIEND:alice:online:Ally:", "FRIENDS_END:1"]
    );
    carol.send(&format!("GROUP_MEMBERS:{gid}")).await;
    assert_eq!(
        carol.collect_until("MEMBERS_END:").await[0],
        format!("MEMBER:{gid}:alice:owner:online:Ally")
    );

    // With the feature, a friend hears of a new nickname as one `PROFILE:` line, not also `FRIEND:`.
    features(&mut bob).await;
    features(&mut carol).await;
    alice.send("SET_NICK:Alice").await;
    bob.expect("PROFILE:alice:Alice:::hello").await;
    carol.expect("PROFILE:alice:Alice:::hello").await;
    assert!(bob.drain(QUIET).await.is_empty());
}

#[tokio::test]
async fn a_profile_is_checked_before_it_is_kept() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.sign = 5).await;
    let mut alice = server.user("alice").await;
    let mut login = server.connect().await;
    let reply = login.login("alice").await;
    assert!(
        reply.contains(",sign=5,"),
        "the limit is advertised: {reply}"
    );

    alice.send("SET_PROFILE:sign:123456").await;
    assert!(alice.recv().await.starts_with("ERROR:too_long:"));
    alice.send("SET_PROFILE:sign:one%0Atwo").await;
    assert!(alice.recv().await.starts_with("ERROR:bad_request:"));
    alice.send("SET_PROFILE:region:a\tb").await;
    assert!(alice.recv().await.starts_with("ERROR:bad_request:"));
    alice.send("SET_PROFILE:gender:robot").await;
    assert!(alice.recv().await.starts_with("ERROR:bad_request:"));
    alice.send("SET_PROFILE:mood:ok").await;
    assert!(alice.recv().await.starts_with("ERROR:bad_request:"));
    alice.send("PROFILE").await;
    alice.expect("PROFILE:alice:alice:::").await;

    // Set, then cleared.
    alice.send("SET_PROFILE:sign:12345").await;
    alice.expect("PROFILE:alice:alice").await;
    alice.send("SET_PROFILE:gender:other").await;
    alice.expect("PROFILE:alice:alice").await;
    alice.send("PROFILE").await;
    alice.expect("PROFILE:alice:alice:other::12345").await;
    alice.send("SET_PROFILE:sign:").await;
    alice.expect("PROFILE:alice:alice").await;
    alice.send("SET_PROFILE:gender:").await;
    alice.expect("PROFILE:alice:alice").await;
    alice.send("PROFILE").await;
    alice.expect("PROFILE:alice:alice:::").await;
}

#[tokio::test]
async fn strangers_may_not_set_profiles_or_block() {
    let server = TestServer::start().await;
    server.user("alice").await;
    let mut stranger = server.connect().await;
    for line in [
        "SET_PROFILE:sign:hi",
        "PROFILE:alice",
        "PROFILE",
        "BLOCK:alice",
        "UNBLOCK:alice",
        "BLOCKS",
    ] {
        stranger.send(line).await;
        let reply = stranger.recv().await;
        assert!(reply.starts_with("ERROR:not_logged_in:"), "{line}: {reply}");
    }
}

/// The ids of the messages (`MSG:<id>:…`) among `lines`, with their client ids.
fn client_ids(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("MSG:"))
        .map(|l| l.split(':').nth(5).unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_blocked_users_message_is_acknowledged_but_never_reaches_the_blocker() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let mut bob_phone = server.connect().await;
    bob_phone.login("bob").await;
    let mut alice_phone = server.connect().await;
    features(&mut alice_phone).await;
    alice_phone.login("alice").await;

    alice.send("BLOCK:bob").await;
    let blocked = alice.recv().await;
    assert!(blocked.starts_with("BLOCKED:bob:"), "{blocked}");
    assert!(blocked.ends_with(":bob"), "{blocked}");
    // My other session that reads the block lines is told; the block list says it.
    assert_eq!(alice_phone.recv().await, blocked);
    alice.send("BLOCKS").await;
    assert_eq!(
        alice.collect_until("BLOCKS_END:").await,
        [blocked.clone(), "BLOCKS_END:1".into()]
    );
    // Blocking again changes nothing, and keeps the first time.
    alice.send("BLOCK:bob").await;
    assert_eq!(alice.recv().await, blocked);
    assert_eq!(alice_phone.recv().await, blocked);

    bob.send("MSG:alice:b1:are you there?").await;
    assert!(
        bob.recv().await.starts_with("ACK:b1:"),
        "acknowledged as ever"
    );
    // bob's other device shows it sent, as any message.
    assert!(
        bob_phone
            .until("MSG:")
            .await
            .ends_with(":b1:are you there?")
    );
    bob.send("TYPING:alice").await;
    assert!(alice.drain(QUIET).await.is_empty(), "nothing reaches alice");
    assert!(alice_phone.drain(QUIET).await.is_empty());

    // Not kept for her either: neither a sync nor her history has it.
    alice.send("SYNC:0:100").await;
    assert!(client_ids(&alice.collect_until("SYNC_END:").await).is_empty());
    alice.send("HISTORY:user:bob:0:50").await;
    assert_eq!(
        alice.collect_until("HISTORY_END:").await,
        ["HISTORY_END:user:bob:0:0"]
    );
    // bob's own history keeps it, so nothing on his side gives the block away.
    bob.send("HISTORY:user:alice:0:50").await;
    assert_eq!(client_ids(&bob.collect_until("HISTORY_END:").await), ["b1"]);

    // A group message is not affected.
    let gid = alice.create_group("both").await;
    alice.send(&format!("GROUP_INVITE:{gid}:bob")).await;
    bob.until(&format!("GROUP_INFO:{gid}:")).await;
    bob.send(&format!("GROUP:{gid}:g1:hello group")).await;
    bob.until("ACK:g1:").await;
    assert!(alice.until("GROUP:").await.ends_with(":g1:hello group"));

    // Unblocked, his messages reach her again; the one sent meanwhile stays dropped.
    alice.send("UNBLOCK:bob").await;
    // The line saying bob joined the group may come after his group message (the change and the
    // message are fanned out separately): skipped, as her phone's are.
    alice.until("UNBLOCKED:bob").await;
    // (Her phone saw the group made, too.)
    alice_phone.until("UNBLOCKED:bob").await;
    alice.send("BLOCKS").await;
    alice.expect("BLOCKS_END:0").await;
    bob.send("MSG:alice:b2:now?").await;
    bob.until("ACK:b2:").await;
    assert!(alice.until("MSG:").await.ends_with(":b2:now?"));
    alice.send("SYNC:0:100").await;
    assert_eq!(client_ids(&alice.collect_until("SYNC_END:").await), ["b2"]);
    alice.send("UNBLOCK:bob").await;
    alice.expect("UNBLOCKED:bob").await;
}

#[tokio::test]
async fn a_blocked_users_friend_request_is_answered_but_dropped() {
    let server = TestServer::start().await;
    let mut alice = server.user("alice").await;
    let mut mallory = server.user("mallory").await;
    alice.send("BLOCK:mallory").await;
    alice.until("BLOCKED:mallory:").await;

    mallory.send("ADD_FRIEND:alice:let me in").await;
    mallory.expect("REQUEST_SENT:alice").await;
    assert!(alice.drain(QUIET).await.is_empty());
    alice.send("REQUESTS").await;
    alice.expect("REQUESTS_END:0").await;
    // Her own list shows it waiting, as an unanswered request does.
    mallory.send("REQUESTS").await;
    let mine = mallory.collect_until("REQUESTS_END:").await;
    assert!(mine[0].starts_with("REQUEST_WAITING:alice:"), "{mine:?}");
    // It cannot be accepted by a request the other way, nor answered.
    alice.send("ACCEPT_FRIEND:mallory").await;
    assert!(alice.recv().await.starts_with("ERROR:no_request:"));

    // Unblocking does not bring it back.
    alice.send("UNBLOCK:mallory").await;
    alice.expect("UNBLOCKED:mallory").await;
    alice.send("REQUESTS").await;
    alice.expect("REQUESTS_END:0").await;
    // A new request after the unblock reaches her as ever.
    mallory.send("ADD_FRIEND:alice:sorry").await;
    mallory.expect("REQUEST_SENT:alice").await;
    assert!(alice.recv().await.starts_with("FRIEND_REQUEST:mallory:"));
}

#[tokio::test]
async fn blocking_hides_a_request_already_waiting() {
    let server = TestServer::start().await;
    let mut alice = server.user("alice").await;
    let mut mallory = server.user("mallory").await;
    mallory.send("ADD_FRIEND:alice:hi").await;
    mallory.expect("REQUEST_SENT:alice").await;
    alice.until("FRIEND_REQUEST:mallory:").await;
    alice.send("BLOCK:mallory").await;
    // My sessions close the request they were showing.
    alice.expect("REQUEST_CLOSED:mallory").await;
    alice.until("BLOCKED:mallory:").await;
    alice.send("REQUESTS").await;
    alice.expect("REQUESTS_END:0").await;
    assert!(mallory.drain(QUIET).await.is_empty(), "mallory is not told");
}

#[tokio::test]
async fn blocking_an_unknown_account_or_oneself_is_refused() {
    let server = TestServer::start().await;
    let mut alice = server.user("alice").await;
    alice.send("BLOCK:nobody").await;
    let reply = alice.recv().await;
    assert!(reply.starts_with("ERROR:no_such_user:"), "{reply}");
    assert!(reply.ends_with(":nobody"), "{reply}");
    alice.send("UNBLOCK:nobody").await;
    assert!(alice.recv().await.starts_with("ERROR:no_such_user:"));
    alice.send("BLOCK:alice").await;
    assert!(alice.recv().await.starts_with("ERROR:bad_request:"));
    alice.send("BLOCKS").await;
    alice.expect("BLOCKS_END:0").await;
}
