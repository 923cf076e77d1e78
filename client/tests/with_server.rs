//! The client against the real server, in process.

mod common;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::server::{Proxy, TestServer, User, befriend};
use common::{PATIENCE, config, wait_for, wait_stopped};
use ququ_client::{
    Category, Client, Conv, ErrorCode, Event, JoinPolicy, Message, MessageState, Presence, Store,
};

#[tokio::test]
async fn two_friends_chat_and_a_third_user_sees_the_group() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    let mut carol = User::register(&server.addr, "carol").await;
    befriend(&mut alice, &mut bob).await;

    // Private chat, both ways, Chinese included.
    let cid = alice.handle.send_text(bob.conv(), "hello bob");
    bob.wait("alice's message", |e| {
        matches!(e, Event::Message(m) if m.from == "alice" && m.text == "hello bob"
            && m.conv == Conv::User("alice".into()) && m.state == MessageState::Received)
    })
    .await;
    alice
        .wait("ack", |e| {
            matches!(e, Event::MessageState(m) if m.client_id == cid && m.state == MessageState::Sent)
        })
        .await;
    bob.handle
        .send_text(alice.conv(), "你好 alice，我们明天去北京");
    alice
        .wait(
            "bob's reply",
            |e| matches!(e, Event::Message(m) if m.from == "bob" && m.text.starts_with("你好")),
        )
        .await;
    alice
        .wait(
            "unread count",
            |e| matches!(e, Event::Unread { conv, unread: 1 } if *conv == Conv::User("bob".into())),
        )
        .await;

    // A group: alice creates it, carol is refused by its number until alice opens it, then bob and carol
    // join; everyone sees everyone's messages.
    alice.handle.create_group("周末球队");
    let group = match alice
        .wait("new group", |e| matches!(e, Event::GroupChanged(_)))
        .await
    {
        Event::GroupChanged(g) => g.id,
        _ => unreachable!(),
    };
    carol.handle.join_group(group);
    carol
        .wait("the refusal", |e| {
            matches!(
                e,
                Event::Error {
                    code: ErrorCode::InviteOnly,
                    ..
                }
            )
        })
        .await;
    alice.handle.set_group_policy(group, Some(JoinPolicy::Open));
    alice
        .wait("the group opened", |e| {
            matches!(e, Event::GroupPolicy { group: g, policy: JoinPolicy::Open } if *g == group)
        })
        .await;
    bob.handle.join_group(group);
    carol.handle.join_group(group);
    bob.wait(
        "joined",
        |e| matches!(e, Event::GroupChanged(g) if g.id == group),
    )
    .await;
    carol
        .wait(
            "joined",
            |e| matches!(e, Event::GroupChanged(g) if g.id == group),
        )
        .await;
    alice
        .handle
        .send_text(Conv::Group(group), "group hello from alice");
    bob.handle.send_text(Conv::Group(group), "bob here");
    // Two senders: either may arrive first. (The group's changes, bob's and carol's joining, are no
    // messages: they come as `Event::GroupChange`.)
    let mut at_carol = HashSet::new();
    while at_carol.len() < 2 {
        if let Event::Message(m) = carol
            .wait(
                "group messages",
                |e| matches!(e, Event::Message(m) if m.conv == Conv::Group(group)),
            )
            .await
        {
            at_carol.insert(m.text);
        }
    }
    assert_eq!(
        at_carol,
        HashSet::from(["group hello from alice".to_owned(), "bob here".to_owned()])
    );
    alice
        .wait("bob in the group", |e| {
            matches!(e, Event::Message(m) if m.conv == Conv::Group(group) && m.text == "bob here")
        })
        .await;
    // Carol is no friend of alice's: her private message is refused and marked failed, not lost silently.
    let refused = carol.handle.send_text(alice.conv(), "can we talk?");
    let failed = carol
        .wait(
            "refusal",
            |e| matches!(e, Event::MessageState(m) if m.client_id == refused),
        )
        .await;
    assert!(
        matches!(failed, Event::MessageState(m) if m.state == MessageState::Failed
        && m.error.as_deref().is_some_and(|e| e.contains("not_friends")))
    );

    // Members list.
    carol.handle.list_members(group);
    let members = carol
        .wait("members", |e| matches!(e, Event::Members { .. }))
        .await;
    if let Event::Members { members, .. } = members {
        let names: HashSet<_> = members.iter().map(|m| m.account.as_str()).collect();
        assert_eq!(names, HashSet::from(["alice", "bob", "carol"]));
    }

    // Local search finds a two-character Chinese word and a group message.
    alice.handle.search("北京");
    let results = alice
        .wait("search", |e| matches!(e, Event::SearchResults { .. }))
        .await;
    assert!(matches!(&results, Event::SearchResults { messages, .. }
        if messages.len() == 1 && messages[0].from == "bob"));
    let found = carol
        .handle
        .store()
        .search("hello from".into(), 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    // Server history for a conversation comes back as one page, oldest first.
    bob.handle.load_history(alice.conv(), 0, 50);
    let history = bob
        .wait("history", |e| matches!(e, Event::History { .. }))
        .await;
    if let Event::History { messages, .. } = history {
        let texts: Vec<_> = messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["hello bob", "你好 alice，我们明天去北京"]);
    }

    // Presence: alice sees bob leave.
    bob.stop().await;
    alice
        .wait("bob offline", |e| {
            matches!(e, Event::Presence { account, presence: Presence::Offline } if account == "bob")
        })
        .await;
    alice.stop().await;
    carol.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn a_pasted_burst_beyond_the_servers_rate_all_arrives_in_order_none_failed() {
    let server = TestServer::start_with(|c| c.limits.rate = 10).await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;

    // Fifty at once: the server takes twenty at a time and ten a second, so most must wait their turn.
    let sent: Vec<String> = (0..50).map(|i| format!("line {i:02}")).collect();
    for text in &sent {
        alice.handle.send_text(bob.conv(), text.as_str());
    }
    let mut got = Vec::new();
    while got.len() < sent.len() {
        if let Event::Message(m) = bob
            .wait(
                "the burst",
                |e| matches!(e, Event::Message(m) if m.from == "alice"),
            )
            .await
        {
            got.push(m.text);
        }
    }
    assert_eq!(got, sent, "every line once, in the order typed");
    // The server pushes a message before it answers its sender, so bob can have every line while the
    // answer to alice's last one is still on its way. Answers come in order: once the last line is
    // settled, all are.
    alice
        .wait("the answer to the last line", |e| {
            matches!(e, Event::MessageState(m) if m.text == "line 49" && m.state != MessageState::Pending)
        })
        .await;
    let mine = alice
        .handle
        .store()
        .messages(bob.conv(), None, 100)
        .await
        .unwrap();
    assert!(
        mine.iter().all(|m| m.state == MessageState::Sent),
        "none marked failed: {:?}",
        mine.iter()
            .filter(|m| m.state != MessageState::Sent)
            .collect::<Vec<_>>()
    );
    alice.stop().await;
    bob.stop().await;
    server.stop().await;
}

/// Messages of one conversation from one sender, in server order.
async fn texts_from(store: &Store, conv: &Conv, from: &str) -> Vec<(u64, String)> {
    let all = store.messages(conv.clone(), None, 100_000).await.unwrap();
    let mut mine: Vec<_> = all
        .into_iter()
        .filter(|m| m.from == from)
        .map(|m| (m.server_id.unwrap_or(0), m.text))
        .collect();
    mine.sort();
    mine
}

/// Collects a user's events on a task of its own, so nothing is missed while the test polls the stores.
fn record(mut events: ququ_client::Events) -> tokio::task::JoinHandle<Vec<Event>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(e) = events.recv().await {
            seen.push(e);
        }
        seen
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_through_a_connection_cut_every_few_hundred_ms() {
    const FROM_ALICE: usize = 1000;
    const FROM_BOB: usize = 100;
    // Cuts and resends are the point here, not pacing (which has its own test below).
    let server = TestServer::start_with(|c| c.limits.rate = 0).await;
    {
        let mut alice = User::register(&server.addr, "alice").await;
        let mut bob = User::register(&server.addr, "bob").await;
        befriend(&mut alice, &mut bob).await;
        alice.stop().await;
        bob.stop().await;
    }
    let proxy = Proxy::start(server.addr.clone(), 100..400).await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (alice, alice_events) = Client::start(config(&proxy.addr, "alice", dirs.0.path())).unwrap();
    let (bob, bob_events) = Client::start(config(&proxy.addr, "bob", dirs.1.path())).unwrap();
    let (alice_log, bob_log) = (record(alice_events), record(bob_events));

    let expected_alice: Vec<String> = (0..FROM_ALICE).map(|i| format!("a{i:04}")).collect();
    let expected_bob: Vec<String> = (0..FROM_BOB).map(|i| format!("b{i:04}")).collect();
    // Paced a little, so the sending spans several cuts rather than fitting in one connection.
    for (i, text) in expected_alice.iter().enumerate() {
        alice.send_text(Conv::User("bob".into()), text.clone());
        if i % 10 == 9 {
            if let Some(t) = expected_bob.get(i / 10) {
                bob.send_text(Conv::User("alice".into()), t.clone());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    let (a_store, b_store) = (alice.store(), bob.store());
    let (a_conv, b_conv) = (Conv::User("bob".into()), Conv::User("alice".into()));
    let everything_arrived = async {
        loop {
            let a_pending = a_store.pending().await.unwrap().len();
            let b_pending = b_store.pending().await.unwrap().len();
            let at_bob = texts_from(&b_store, &b_conv, "alice").await.len();
            let at_alice = texts_from(&a_store, &a_conv, "bob").await.len();
            if a_pending == 0 && b_pending == 0 && at_bob >= FROM_ALICE && at_alice >= FROM_BOB {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(PATIENCE * 3, everything_arrived)
        .await
        .expect("not every message arrived");
    proxy.chaos.store(false, Ordering::SeqCst);
    assert!(
        proxy.cuts.load(Ordering::SeqCst) >= 2,
        "the proxy never cut a connection, so this test proved nothing"
    );

    // Exactly once and in order, on the receiving side…
    let at_bob = texts_from(&b_store, &b_conv, "alice").await;
    let at_bob_texts: Vec<_> = at_bob.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(at_bob_texts, expected_alice);
    let at_alice = texts_from(&a_store, &a_conv, "bob").await;
    let at_alice_texts: Vec<_> = at_alice.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(at_alice_texts, expected_bob);
    // …and both sides agree on every message's server id.
    assert_eq!(texts_from(&a_store, &a_conv, "alice").await, at_bob);
    assert_eq!(texts_from(&b_store, &b_conv, "bob").await, at_alice);
    let all_failed: Vec<Message> = a_store
        .messages(a_conv.clone(), None, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.state == MessageState::Failed)
        .collect();
    assert!(all_failed.is_empty(), "{all_failed:?}");

    alice.shutdown();
    bob.shutdown();
    let (alice_seen, bob_seen) = (alice_log.await.unwrap(), bob_log.await.unwrap());
    // Nothing was shown twice: one Message event per message from the other side.
    let shown_at_bob = bob_seen
        .iter()
        .filter(|e| matches!(e, Event::Message(m) if m.from == "alice"))
        .count();
    assert_eq!(shown_at_bob, FROM_ALICE);
    let shown_at_alice = alice_seen
        .iter()
        .filter(|e| matches!(e, Event::Message(m) if m.from == "bob"))
        .count();
    assert_eq!(shown_at_alice, FROM_BOB);
    assert!(
        alice_seen
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. }))
    );
    server.stop().await;
}

#[tokio::test]
async fn pending_messages_survive_a_restart() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;
    alice.stop().await;

    // Alice comes back through a proxy that refuses every connection: her messages can only wait.
    let proxy = Proxy::start(server.addr.clone(), 60_000..60_001).await;
    proxy.refuse.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&proxy.addr, "alice", dir.path());
    let (handle, mut events) = Client::start(cfg.clone()).unwrap();
    wait_for(&mut events, "a failed connection", |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .await;
    let texts = ["are you there?", "it's me", "第三条消息"];
    for t in texts {
        handle.send_text(bob.conv(), t);
    }
    handle.shutdown();
    let seen = wait_stopped(&mut events).await;
    let queued = seen
        .iter()
        .filter(|e| matches!(e, Event::Message(m) if m.state == MessageState::Pending))
        .count();
    assert_eq!(queued, 3);
    assert_eq!(handle.store().pending().await.unwrap().len(), 3);
    drop(handle);

    // Restarted, with the way open: the outbox is delivered, in order.
    proxy.refuse.store(false, Ordering::SeqCst);
    let (handle, mut events) = Client::start(cfg).unwrap();
    let mut got = Vec::new();
    while got.len() < texts.len() {
        if let Event::Message(m) = bob
            .wait(
                "alice's queued messages",
                |e| matches!(e, Event::Message(m) if m.from == "alice"),
            )
            .await
        {
            got.push(m.text);
        }
    }
    assert_eq!(got, texts);
    let store = handle.store();
    tokio::time::timeout(PATIENCE, async {
        while !store.pending().await.unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the outbox never emptied");
    let sent = store
        .messages(bob.conv(), None, 10)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.state == MessageState::Sent)
        .count();
    assert_eq!(sent, 3);
    handle.shutdown();
    wait_stopped(&mut events).await;
    bob.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn a_server_restart_is_survived_with_the_token_or_the_password() {
    // The server's data directory outlives the server, so accounts and history survive its restart.
    let data = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let first = tokio::spawn(ququ_server::run(
        listener,
        ququ_server::Config::new(data.path()),
        async {
            let _ = stopped.await;
        },
    ));
    let mut alice = User::register(&addr.to_string(), "alice").await;
    let _ = stop.send(());
    first.await.unwrap().unwrap();
    alice
        .wait("disconnect", |e| matches!(e, Event::Disconnected { .. }))
        .await;

    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(ququ_server::run(
        listener,
        ququ_server::Config::new(data.path()),
        async {
            let _ = stopped.await;
        },
    ));
    alice
        .wait("logged in again", |e| matches!(e, Event::LoggedIn { .. }))
        .await;
    alice.stop().await;
    let _ = stop.send(());
    second.await.unwrap().unwrap();
}

/// Issue 25: the group management lines reach the client as events — an admin made, a member muted
/// (and the mute in a fresh member list), the whole group muted, an announcement set, and a join by
/// approval from the asking to the answer.
#[tokio::test]
async fn group_management_arrives_as_events() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    let mut carol = User::register(&server.addr, "carol").await;
    alice.handle.create_group("读书会");
    let group = match alice
        .wait("new group", |e| matches!(e, Event::GroupChanged(_)))
        .await
    {
        Event::GroupChanged(g) => g.id,
        _ => unreachable!(),
    };
    alice.handle.set_group_policy(group, Some(JoinPolicy::Open));
    alice
        .wait("opened", |e| matches!(e, Event::GroupPolicy { .. }))
        .await;
    bob.handle.join_group(group);
    bob.wait(
        "joined",
        |e| matches!(e, Event::GroupChanged(g) if g.id == group),
    )
    .await;

    alice.handle.set_group_admin(group, "bob", true);
    bob.wait("made an admin", |e| {
        matches!(e, Event::MemberRole { group: g, account, role: ququ_client::Role::Admin }
            if *g == group && account == "bob")
    })
    .await;

    // Bob, an admin now, mutes no one above him but may set the announcement.
    bob.handle
        .group_notice(group, Some("每周六下午三点".into()));
    alice
        .wait("the announcement", |e| {
            matches!(e, Event::GroupNotice { group: g, by, text, .. }
                if *g == group && by == "bob" && text == "每周六下午三点")
        })
        .await;

    // Join by approval: carol asks, alice (the owner) and bob (an admin) see it; bob lets her in.
    alice
        .handle
        .set_group_policy(group, Some(JoinPolicy::Approve));
    alice
        .wait("approve", |e| {
            matches!(
                e,
                Event::GroupPolicy {
                    policy: JoinPolicy::Approve,
                    ..
                }
            )
        })
        .await;
    carol.handle.join_group(group);
    carol
        .wait(
            "asked",
            |e| matches!(e, Event::JoinRequestSent { group: g } if *g == group),
        )
        .await;
    for manager in [&mut alice, &mut bob] {
        manager
            .wait("carol's request", |e| {
                matches!(e, Event::JoinRequest { group: g, account, .. }
                    if *g == group && account == "carol")
            })
            .await;
    }
    bob.handle.answer_join(group, "carol", true);
    alice
        .wait("answered", |e| {
            matches!(e, Event::JoinRequestClosed { group: g, account } if *g == group && account == "carol")
        })
        .await;
    carol
        .wait(
            "let in",
            |e| matches!(e, Event::GroupChanged(g) if g.id == group),
        )
        .await;

    // Carol is muted for an hour; a fresh member list says until when; then the whole group.
    alice.handle.mute_member(group, "carol", 3600);
    let until = match carol
        .wait("muted", |e| {
            matches!(e, Event::MemberMuted { group: g, account, until }
                if *g == group && account == "carol" && *until > 0)
        })
        .await
    {
        Event::MemberMuted { until, .. } => until,
        _ => unreachable!(),
    };
    alice.handle.list_members(group);
    let members = match alice
        .wait(
            "members",
            |e| matches!(e, Event::Members { group: g, .. } if *g == group),
        )
        .await
    {
        Event::Members { members, .. } => members,
        _ => unreachable!(),
    };
    let carol_listed = members
        .iter()
        .find(|m| m.account == "carol")
        .expect("carol");
    assert_eq!(carol_listed.muted_until, until);
    let bob_listed = members.iter().find(|m| m.account == "bob").expect("bob");
    assert_eq!(bob_listed.role, ququ_client::Role::Admin);
    alice.handle.mute_all(group, Some(true));
    carol
        .wait(
            "all muted",
            |e| matches!(e, Event::GroupMutedAll { group: g, on: true } if *g == group),
        )
        .await;
}

/// A group's changes (`GROUP_EVENT:`) are kept as changes, not messages: one arrives live as
/// `Event::GroupChange`; a member offline meanwhile gets the changes by sync, in order with the messages
/// around them; they are in the local history after a restart, where they were; they count as nothing
/// unread and search does not find them.
#[tokio::test]
async fn group_changes_are_kept_in_order_in_the_history_and_are_neither_unread_nor_found() {
    use ququ_client::{GroupEvent, GroupEventKind};

    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let bob = User::register(&server.addr, "bob").await;
    let mut carol = User::register(&server.addr, "carol").await;
    alice.handle.create_group("读书会");
    let group = match alice
        .wait("new group", |e| matches!(e, Event::GroupChanged(_)))
        .await
    {
        Event::GroupChanged(g) => g.id,
        _ => unreachable!(),
    };
    let conv = Conv::Group(group);
    alice.handle.set_group_policy(group, Some(JoinPolicy::Open));
    alice
        .wait("opened", |e| matches!(e, Event::GroupPolicy { .. }))
        .await;

    // Live: bob joins, and alice is told so as a typed change with the row it is kept as.
    bob.handle.join_group(group);
    let (event, message) = match alice
        .wait("bob's joining", |e| matches!(e, Event::GroupChange { .. }))
        .await
    {
        Event::GroupChange { event, message } => (event, message),
        _ => unreachable!(),
    };
    assert_eq!(
        (
            event.group,
            event.kind,
            event.by.as_str(),
            event.account.as_str()
        ),
        (group, GroupEventKind::Join, "bob", "bob")
    );
    assert_eq!(message.conv, conv);
    assert_eq!(message.server_id, Some(event.id));
    assert_eq!(message.group_event.as_ref(), Some(&event));
    carol.handle.join_group(group);
    // Her own joining is the last thing she is sent (after the group itself): waiting for the group
    // alone let her stop before it was kept, and the sync then brought it back (seen once in CI).
    carol
        .wait("her joining", |e| {
            matches!(e, Event::GroupChange { event, .. }
                if event.kind == GroupEventKind::Join && event.account == "carol")
        })
        .await;
    let carol_dir = carol.stop().await;

    // Carol is away: a message, a rename, an admin made, a message.
    let said = alice.handle.send_text(conv.clone(), "before the changes");
    alice
        .wait("sent", |e| {
            matches!(e, Event::MessageState(m) if m.client_id == said && m.state == MessageState::Sent)
        })
        .await;
    alice.handle.rename_group(group, "新名字读书会");
    alice
        .wait("renamed", |e| {
            matches!(e, Event::GroupChange { event, .. } if event.kind == GroupEventKind::Rename)
        })
        .await;
    alice.handle.set_group_admin(group, "bob", true);
    alice
        .wait("bob an admin", |e| {
            matches!(e, Event::GroupChange { event, .. } if event.kind == GroupEventKind::Admin)
        })
        .await;
    bob.handle.send_text(conv.clone(), "after the changes");
    alice
        .wait(
            "bob's message",
            |e| matches!(e, Event::Message(m) if m.text == "after the changes"),
        )
        .await;

    // Carol comes back: the sync brings the four in order, the changes as changes.
    let cfg = config(&server.addr, "carol", carol_dir.path());
    let (handle, mut events) = Client::start(cfg.clone()).unwrap();
    let mut seen = Vec::new();
    loop {
        match wait_for(&mut events, "the sync", |_| true).await {
            Event::Synced { .. } => break,
            Event::Message(m) if m.conv == conv => {
                seen.push((m.server_id.unwrap(), m.text, None::<GroupEventKind>))
            }
            Event::GroupChange { event, message } if message.conv == conv => {
                seen.push((event.id, String::new(), Some(event.kind)))
            }
            _ => {}
        }
    }
    let ids: Vec<u64> = seen.iter().map(|(id, ..)| *id).collect();
    assert!(ids.is_sorted(), "not in id order: {seen:?}");
    let what: Vec<_> = seen
        .iter()
        .map(|(_, text, kind)| (text.as_str(), *kind))
        .collect();
    assert_eq!(
        what,
        [
            ("before the changes", None),
            ("", Some(GroupEventKind::Rename)),
            ("", Some(GroupEventKind::Admin)),
            ("after the changes", None),
        ]
    );
    let store = handle.store();
    assert_eq!(store.unread(conv.clone()).await.unwrap(), 2);
    handle.shutdown();
    wait_stopped(&mut events).await;
    drop(store);

    // Reopened after the restart, the history has the changes where they happened.
    let storage = ququ_client::Storage::open(&cfg.database_path().unwrap()).unwrap();
    let history = storage.messages(&conv, None, 100).unwrap();
    let changes: Vec<&GroupEvent> = history
        .iter()
        .filter_map(|m| m.group_event.as_ref())
        .collect();
    assert!(
        changes
            .iter()
            .any(|e| e.kind == GroupEventKind::Join && e.account == "carol"),
        "{changes:?}"
    );
    let rename = changes
        .iter()
        .find(|e| e.kind == GroupEventKind::Rename)
        .expect("the rename");
    assert_eq!(
        (rename.by.as_str(), rename.value.as_str()),
        ("alice", "新名字读书会")
    );
    let admin = changes
        .iter()
        .find(|e| e.kind == GroupEventKind::Admin)
        .expect("the new admin");
    assert_eq!(
        (admin.account.as_str(), admin.value.as_str()),
        ("bob", "on")
    );
    let order: Vec<&str> = history
        .iter()
        .skip_while(|m| m.text != "before the changes")
        .map(|m| match &m.group_event {
            Some(e) => e.kind.as_str(),
            None => m.text.as_str(),
        })
        .collect();
    assert_eq!(
        order,
        ["before the changes", "rename", "admin", "after the changes"]
    );
    assert_eq!(storage.unread(&conv).unwrap(), 2);
    // Search finds the messages, never the changes: not the new name, nor the words a change once
    // came in.
    assert_eq!(storage.search("changes", 10).unwrap().len(), 2);
    assert!(storage.search("新名字", 10).unwrap().is_empty());
    assert!(storage.search("renamed", 10).unwrap().is_empty());
    assert!(storage.search("admin", 10).unwrap().is_empty());

    alice.stop().await;
    bob.stop().await;
    server.stop().await;
}

/// Profiles and the block list as the GUI sees them: my profile after login and on a change, a friend's
/// and a fellow member's change as `UserProfile`, the signature in the friend list (also as kept
/// locally), and a blocked friend's message never arriving while the blocker is told `Blocked`.
#[tokio::test]
async fn profiles_and_blocks_arrive_as_events() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    let mut carol = User::register(&server.addr, "carol").await;
    befriend(&mut alice, &mut bob).await;
    alice.handle.create_group("hikers");
    let group = match alice
        .wait("new group", |e| matches!(e, Event::GroupChanged(_)))
        .await
    {
        Event::GroupChanged(g) => g.id,
        _ => unreachable!(),
    };
    alice.handle.invite(group, "bob");
    alice.handle.set_group_policy(group, Some(JoinPolicy::Open));
    alice
        .wait("opened", |e| matches!(e, Event::GroupPolicy { .. }))
        .await;
    carol.handle.join_group(group);
    carol
        .wait(
            "joined",
            |e| matches!(e, Event::GroupChanged(g) if g.id == group),
        )
        .await;

    alice.handle.set_signature("周末去爬山");
    alice
        .handle
        .set_profile(ququ_client::ProfileChange::Gender(Some(
            ququ_client::Gender::Female,
        )));
    alice
        .wait("my profile", |e| {
            matches!(e, Event::MyProfile(p) if p.signature == "周末去爬山"
            && p.gender == Some(ququ_client::Gender::Female))
        })
        .await;
    for (user, what) in [(&mut bob, "the friend"), (&mut carol, "the fellow member")] {
        user.wait(what, |e| {
            matches!(e, Event::UserProfile { account, profile, .. } if account == "alice"
                && profile.signature == "周末去爬山"
                && profile.gender == Some(ququ_client::Gender::Female))
        })
        .await;
    }
    // The friend list kept locally has it, for the list shown before the server answers.
    let friends = bob.handle.store().friends().await.unwrap();
    assert_eq!(friends[0].profile.signature, "周末去爬山");
    // A member list carries it too.
    carol.handle.list_members(group);
    let members = match carol
        .wait(
            "members",
            |e| matches!(e, Event::Members { group: g, .. } if *g == group),
        )
        .await
    {
        Event::Members { members, .. } => members,
        _ => unreachable!(),
    };
    let listed = members
        .iter()
        .find(|m| m.account == "alice")
        .expect("alice");
    assert_eq!(listed.profile.signature, "周末去爬山");

    // A new login: my profile, the friend list with the signature, and whom I block.
    alice.handle.block("bob");
    alice
        .wait(
            "blocked",
            |e| matches!(e, Event::Blocked(b) if b.account == "bob"),
        )
        .await;
    let dir = alice.stop().await;
    let (handle, mut events) = Client::start(config(&server.addr, "alice", dir.path())).unwrap();
    wait_for(
        &mut events,
        "my profile again",
        |e| matches!(e, Event::MyProfile(p) if p.signature == "周末去爬山"),
    )
    .await;
    wait_for(
        &mut events,
        "the block list",
        |e| matches!(e, Event::Blocks(list) if list.len() == 1 && list[0].account == "bob"),
    )
    .await;
    let mut bob_friends = bob.handle.store().friends().await.unwrap();
    bob_friends.retain(|f| f.account == "alice");
    assert_eq!(bob_friends.len(), 1, "the friendship stays");

    // bob's message is sent as ever, and never reaches alice; once unblocked, the next one does.
    let cid = bob.handle.send_text(alice_conv(), "are you there?");
    bob.wait("ack", |e| {
        matches!(e, Event::MessageState(m) if m.client_id == cid && m.state == MessageState::Sent)
    })
    .await;
    handle.unblock("bob");
    wait_for(
        &mut events,
        "unblocked",
        |e| matches!(e, Event::Unblocked { account } if account == "bob"),
    )
    .await;
    bob.handle.send_text(alice_conv(), "now?");
    let got = wait_for(
        &mut events,
        "bob's message",
        |e| matches!(e, Event::Message(m) if m.from == "bob"),
    )
    .await;
    match got {
        Event::Message(m) => assert_eq!(m.text, "now?", "the blocked one never came"),
        _ => unreachable!(),
    }
    handle.shutdown();
}

/// Friend groups (好友分组) as the GUI sees them: made, renamed, deleted and a friend moved, on the device
/// that asked and on another device of the same user, live and in the friend list kept locally; a clash
/// refused in words; and the groups again after a new login.
#[tokio::test]
async fn friend_groups_arrive_as_events_on_every_device() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let phone_dir = tempfile::tempdir().unwrap();
    let (phone, mut phone_events) =
        Client::start(config(&server.addr, "alice", phone_dir.path())).unwrap();
    // The groups come before the friends after a login.
    wait_for(
        &mut phone_events,
        "the phone's groups",
        |e| matches!(e, Event::Categories(list) if list.is_empty()),
    )
    .await;
    wait_for(
        &mut phone_events,
        "the phone's friends",
        |e| matches!(e, Event::Friends(list) if list.len() == 1 && list[0].category == 0),
    )
    .await;

    alice.handle.add_category("同事");
    let id = match alice
        .wait(
            "made",
            |e| matches!(e, Event::CategoryChanged(c) if c.name == "同事"),
        )
        .await
    {
        Event::CategoryChanged(c) => c.id,
        _ => unreachable!(),
    };
    wait_for(
        &mut phone_events,
        "made, on the phone",
        |e| matches!(e, Event::CategoryChanged(c) if c.id == id && c.name == "同事"),
    )
    .await;
    alice.handle.move_friend("bob", id);
    alice
        .wait(
            "moved",
            |e| matches!(e, Event::FriendChanged(f) if f.account == "bob" && f.category == id),
        )
        .await;
    wait_for(
        &mut phone_events,
        "moved, on the phone",
        |e| matches!(e, Event::FriendChanged(f) if f.account == "bob" && f.category == id),
    )
    .await;
    assert_eq!(phone.store().friends().await.unwrap()[0].category, id);

    phone.rename_category(id, "老同事");
    alice
        .wait(
            "renamed",
            |e| matches!(e, Event::CategoryChanged(c) if c.id == id && c.name == "老同事"),
        )
        .await;
    assert_eq!(
        alice.handle.store().categories().await.unwrap(),
        [Category {
            id,
            name: "老同事".into()
        }]
    );
    alice.handle.add_category("老同事");
    alice
        .wait("refused", |e| {
            matches!(
                e,
                Event::Error {
                    code: ErrorCode::CategoryExists,
                    ..
                }
            )
        })
        .await;

    // Put in another order from the phone, after a second group.
    phone.add_category("家人");
    let family = match wait_for(
        &mut phone_events,
        "a second group",
        |e| matches!(e, Event::CategoryChanged(c) if c.name == "家人"),
    )
    .await
    {
        Event::CategoryChanged(c) => c.id,
        _ => unreachable!(),
    };
    phone.order_categories(vec![family, id]);
    alice
        .wait(
            "the new order",
            |e| matches!(e, Event::CategoryOrder(o) if *o == [family, id]),
        )
        .await;
    let names: Vec<String> = alice
        .handle
        .store()
        .categories()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["家人", "老同事"]);
    phone.delete_category(family);
    alice
        .wait(
            "the second gone",
            |e| matches!(e, Event::CategoryGone { category } if *category == family),
        )
        .await;

    // A new login has them; then deleting puts bob back in the default group everywhere.
    let dir = alice.stop().await;
    let (handle, mut events) = Client::start(config(&server.addr, "alice", dir.path())).unwrap();
    wait_for(
        &mut events,
        "the groups again",
        |e| matches!(e, Event::Categories(list) if list.len() == 1 && list[0].name == "老同事"),
    )
    .await;
    wait_for(
        &mut events,
        "the friends again",
        |e| matches!(e, Event::Friends(list) if list[0].category == id),
    )
    .await;
    handle.delete_category(id);
    wait_for(
        &mut events,
        "deleted",
        |e| matches!(e, Event::CategoryGone { category } if *category == id),
    )
    .await;
    wait_for(
        &mut phone_events,
        "deleted, on the phone",
        |e| matches!(e, Event::CategoryGone { category } if *category == id),
    )
    .await;
    for store in [handle.store(), phone.store()] {
        assert_eq!(store.friends().await.unwrap()[0].category, 0);
        assert!(store.categories().await.unwrap().is_empty());
    }
    handle.shutdown();
    phone.shutdown();
}

/// Avatars as the GUI sees them: mine set and told back, a friend told live and given the picture
/// (fetched once, checked against its digest, kept locally), a group's set by its owner and refused to a
/// plain member, and after a new login the friend's picture comes from the local copy with no fetch.
#[tokio::test]
async fn avatars_arrive_as_events_with_their_pictures() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;
    // Any bytes that start like a PNG: the server checks no more.
    use sha2::Digest as _;
    let png = b"\x89PNG\r\n\x1a\nnot much of a picture".to_vec();
    let sha = hex::encode(sha2::Sha256::digest(&png));

    alice.handle.set_avatar(png.clone());
    alice
        .wait("my avatar", |e| {
            matches!(e, Event::Avatar { of: Conv::User(a), sha256: Some(s) } if a == "alice" && *s == sha)
        })
        .await;
    bob.wait("alice's avatar", |e| {
        matches!(e, Event::Avatar { of: Conv::User(a), sha256: Some(s) } if a == "alice" && *s == sha)
    })
    .await;
    match bob
        .wait("the picture", |e| matches!(e, Event::AvatarImage { .. }))
        .await
    {
        Event::AvatarImage { sha256, bytes } => {
            assert_eq!(sha256, sha);
            assert_eq!(bytes, png);
        }
        _ => unreachable!(),
    }
    let store = bob.handle.store();
    assert_eq!(
        store.avatar_of(alice_conv()).await.unwrap(),
        Some(sha.clone())
    );

    // Not a picture: refused in words the app can show.
    alice.handle.set_avatar(b"hello".to_vec());
    alice
        .wait("refused", |e| {
            matches!(
                e,
                Event::Error {
                    code: ququ_client::ErrorCode::BadRequest,
                    ..
                }
            )
        })
        .await;

    // A group's avatar: its owner sets it, a plain member may not.
    alice.handle.create_group("hikers");
    let group = match alice
        .wait("new group", |e| matches!(e, Event::GroupChanged(_)))
        .await
    {
        Event::GroupChanged(g) => g.id,
        _ => unreachable!(),
    };
    alice.handle.invite(group, "bob");
    bob.wait(
        "joined",
        |e| matches!(e, Event::GroupChanged(g) if g.id == group),
    )
    .await;
    bob.handle.set_group_avatar(group, png.clone());
    bob.wait("forbidden", |e| {
        matches!(
            e,
            Event::Error {
                code: ququ_client::ErrorCode::Forbidden,
                ..
            }
        )
    })
    .await;
    alice.handle.set_group_avatar(group, png.clone());
    bob.wait("the group's avatar", |e| {
        matches!(e, Event::Avatar { of: Conv::Group(g), sha256: Some(s) } if *g == group && *s == sha)
    })
    .await;

    // A new login: the friend's avatar is told again after the friend list, and its picture is the one
    // kept here.
    let dir = bob.stop().await;
    let (handle, mut events) = Client::start(config(&server.addr, "bob", dir.path())).unwrap();
    wait_for(&mut events, "alice's avatar again", |e| {
        matches!(e, Event::Avatar { of: Conv::User(a), sha256: Some(s) } if a == "alice" && *s == sha)
    })
    .await;
    wait_for(
        &mut events,
        "the picture, from here",
        |e| matches!(e, Event::AvatarImage { sha256, bytes } if *sha256 == sha && *bytes == png),
    )
    .await;

    // Cleared while bob is away: his next login lets the kept picture go.
    handle.shutdown();
    wait_stopped(&mut events).await;
    alice.handle.set_avatar(Vec::new());
    alice
        .wait(
            "cleared",
            |e| matches!(e, Event::Avatar { of: Conv::User(a), sha256: None } if a == "alice"),
        )
        .await;
    let (handle, mut events) = Client::start(config(&server.addr, "bob", dir.path())).unwrap();
    wait_for(
        &mut events,
        "alice's avatar gone",
        |e| matches!(e, Event::Avatar { of: Conv::User(a), sha256: None } if a == "alice"),
    )
    .await;
    assert_eq!(handle.store().avatar_of(alice_conv()).await.unwrap(), None);
    handle.shutdown();
}

/// Alice's private conversation, as her friends address it.
fn alice_conv() -> Conv {
    Conv::User("alice".into())
}
