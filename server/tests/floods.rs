//! Floods by one logged-in user (issue 20, item 6): every verb that writes or tells someone is rate
//! limited, a user owns a bounded number of groups, and a repeated friend request reaches its target once.
//! Real TCP against a real server, as in `server.rs`.

mod common;

use std::time::Duration;

use common::{Peer, TestServer};

/// Long enough for a line that was going to arrive to have arrived on loopback.
const QUIET: Duration = Duration::from_millis(500);

/// Sends `lines` back to back (a client pipelining as fast as it can), then reads exactly one answer per
/// line: none is dropped, whatever the server thinks of the flood.
async fn flood(p: &mut Peer, lines: &[String], answer_prefixes: &[&str]) -> Vec<String> {
    let mut all = String::new();
    for l in lines {
        all.push_str(l);
        all.push('\n');
    }
    p.send_raw(all.as_bytes()).await;
    let mut answers = Vec::new();
    while answers.len() < lines.len() {
        let line = p.recv().await;
        if answer_prefixes.iter().any(|a| line.starts_with(a)) {
            answers.push(line);
        }
    }
    answers
}

#[tokio::test]
async fn a_flood_of_friend_requests_reaches_the_online_target_once() {
    // The default limits, as a public server runs.
    let server = TestServer::start().await;
    let mut victim = server.user("victim").await;
    let mut mallory = server.user("mallory").await;
    let lines: Vec<String> = (0..500).map(|i| format!("ADD_FRIEND:victim:{i}")).collect();
    let answers = flood(&mut mallory, &lines, &["REQUEST_SENT:", "ERROR:"]).await;
    assert!(
        answers
            .iter()
            .all(|a| a == "REQUEST_SENT:victim" || a.starts_with("ERROR:rate_limited:")),
        "{answers:?}"
    );
    let pushed: Vec<String> = victim
        .drain(QUIET)
        .await
        .into_iter()
        .filter(|l| l.starts_with("FRIEND_REQUEST:"))
        .collect();
    assert_eq!(pushed.len(), 1, "the victim heard {pushed:?}");
    assert!(
        pushed[0].starts_with("FRIEND_REQUEST:mallory:"),
        "{pushed:?}"
    );
}

#[tokio::test]
async fn a_repeated_friend_request_is_pushed_once_and_refreshed_in_the_list() {
    // No rate limit: this is about the pushes alone.
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.actions = 0).await;
    let mut bob = server.user("bob").await;
    let mut alice = server.user("alice").await;
    let lines: Vec<String> = (0..50)
        .map(|i| format!("ADD_FRIEND:bob:note {i}"))
        .collect();
    let answers = flood(&mut alice, &lines, &["REQUEST_SENT:", "ERROR:"]).await;
    assert!(
        answers.iter().all(|a| a == "REQUEST_SENT:bob"),
        "{answers:?}"
    );
    let pushed: Vec<String> = bob
        .drain(QUIET)
        .await
        .into_iter()
        .filter(|l| l.starts_with("FRIEND_REQUEST:"))
        .collect();
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    assert!(pushed[0].ends_with(":note 0"), "{pushed:?}");
    // The stored request is the latest one.
    bob.send("REQUESTS").await;
    let list = bob.collect_until("REQUESTS_END:").await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list[0].starts_with("FRIEND_REQUEST:alice:"), "{list:?}");
    assert!(list[0].ends_with(":note 49"), "{list:?}");
    // Once answered, a new request is news again.
    bob.send("REJECT_FRIEND:alice").await;
    bob.until("REQUEST_CLOSED:alice").await;
    alice.until("FRIEND_REJECTED:bob").await;
    alice.send("ADD_FRIEND:bob:again").await;
    alice.until("REQUEST_SENT:bob").await;
    assert!(bob.until("FRIEND_REQUEST:").await.ends_with(":again"));
}

#[tokio::test]
async fn creating_groups_past_the_cap_is_refused_until_one_is_dissolved() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.groups = 3;
        c.limits.actions = 0;
    })
    .await;
    let mut alice = server.connect().await;
    alice.send("RESIGER:alice:password").await;
    alice.expect("RESIGER:true:alice").await;
    let ok = alice.login("alice").await;
    assert!(ok.contains(",groups=3,actions=0,"), "advertised: {ok}");
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(alice.create_group(&format!("g{i}")).await);
    }
    alice.send("GROUP_CREATE:one too many").await;
    let refused = alice.recv().await;
    assert!(
        refused.starts_with("ERROR:too_many:you own 3 groups"),
        "{refused}"
    );
    // Groups I am only a member of do not count.
    let mut bob = server.user("bob").await;
    let theirs = bob.create_group("bob's").await;
    bob.open_group(&theirs).await;
    alice.send(&format!("GROUP_JOIN:{theirs}")).await;
    alice.until(&format!("GROUP_INFO:{theirs}:bob:")).await;
    alice.send("GROUP_CREATE:still too many").await;
    assert!(alice.recv().await.starts_with("ERROR:too_many:"));
    // Dissolving one makes room.
    alice.send(&format!("GROUP_DISSOLVE:{}", ids[0])).await;
    alice.until("GROUP_GONE:").await;
    assert!(!alice.create_group("room again").await.is_empty());
    // A flood of creations leaves nothing behind past the cap.
    let lines: Vec<String> = (0..200).map(|i| format!("GROUP_CREATE:f{i}")).collect();
    let answers = flood(&mut alice, &lines, &["GROUP_INFO:", "ERROR:"]).await;
    assert!(
        answers.iter().all(|a| a.starts_with("ERROR:too_many:")),
        "{answers:?}"
    );
    alice.send("GROUPS").await;
    let groups = alice.collect_until("GROUPS_END:").await;
    assert_eq!(groups.last().unwrap(), "GROUPS_END:4", "{groups:?}");
}

#[tokio::test]
async fn verbs_that_change_something_are_refused_past_the_rate_then_flow_again() {
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.actions = 2).await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    // A while for the buckets the friendship took from to fill up again.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let lines: Vec<String> = (0..20).map(|i| format!("REMARK:bob:b{i}")).collect();
    let answers = flood(&mut alice, &lines, &["FRIEND:", "ERROR:"]).await;
    // Bursts of twice the rate pass; the rest are told when to come back, none is dropped.
    let passed = answers.iter().filter(|a| a.starts_with("FRIEND:")).count();
    assert!((4..=5).contains(&passed), "{answers:?}");
    let refused: Vec<&String> = answers.iter().filter(|a| a.starts_with("ERROR:")).collect();
    assert_eq!(passed + refused.len(), 20);
    assert!(
        refused.iter().all(|a| a
            .starts_with("ERROR:rate_limited:too many changes, at most 2 a second; try again in ")),
        "{refused:?}"
    );
    // Every other kind of change shares the budget: group creation, nickname, requests.
    for line in [
        "GROUP_CREATE:x",
        "SET_NICK:Al",
        "ADD_FRIEND:nobody",
        "GROUP_JOIN:1",
    ] {
        alice.send(line).await;
        let answer = alice.until("ERROR:").await;
        assert!(
            answer.starts_with("ERROR:rate_limited:"),
            "{line}: {answer}"
        );
    }
    // Reading is not limited.
    for _ in 0..20 {
        alice.send("FRIENDS").await;
        alice.until("FRIENDS_END:1").await;
    }
    // Someone else is not slowed down by alice.
    bob.send("REMARK:alice:al").await;
    assert!(bob.until("FRIEND:alice:").await.ends_with(":al"));
    // And after a pause, alice's changes flow again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    alice.send("REMARK:bob:later").await;
    assert!(alice.until("FRIEND:bob:").await.ends_with(":later"));
}

/// Issue 20, item 6: one user cannot fill the database with text. Past the day's volume a message is
/// refused with `quota_exceeded`, naming it, and is not stored or delivered; others can still send.
#[tokio::test]
async fn message_text_past_the_days_volume_is_refused_and_not_stored() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.rate = 0;
        c.text_per_day = 20_000;
    })
    .await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let long = "字".repeat(2_500); // 7,500 bytes
    for i in 0..2 {
        alice.send(&format!("MSG:bob:v{i}:{long}")).await;
        alice.until(&format!("ACK:v{i}:")).await;
    }
    alice.send(&format!("MSG:bob:v2:{long}")).await;
    let refused = alice.until("ERROR:").await;
    assert!(
        refused.starts_with("ERROR:quota_exceeded:you have sent your ") && refused.ends_with(":v2"),
        "{refused}"
    );
    // A group message is the same text: refused too.
    let gid = alice.create_group("g").await;
    alice.send(&format!("GROUP:{gid}:g1:{long}")).await;
    let refused = alice.until("ERROR:").await;
    assert!(
        refused.starts_with("ERROR:quota_exceeded:") && refused.ends_with(":g1"),
        "{refused}"
    );
    // Bob has his own allowance, and got only the two stored messages.
    bob.send("MSG:alice:b1:short").await;
    bob.until("ACK:b1:").await;
    bob.send("SYNC:0:100").await;
    let synced = bob.collect_until("SYNC_END:").await;
    let from_alice = synced.iter().filter(|l| l.contains(":alice:bob:")).count();
    assert_eq!(from_alice, 2, "{synced:?}");
}
