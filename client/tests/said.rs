//! Issue 24 against the real server, in process: replies with quotes, mentions, recalls (and what they do
//! to search, quotes and other sessions), read marks across sessions, and recall refusals.

mod common;

use std::time::Duration;

use common::server::{TestServer, User, befriend};
use common::{config, wait_for};
use ququ_client::{Client, Conv, ErrorCode, Event, Features, Mentions, Message, MessageState};

/// The server id of the next message `who` receives (or sends from another session) with this text.
async fn received(who: &mut User, text: &str) -> Message {
    match who
        .wait(
            &format!("`{text}` at {}", who.name),
            |e| matches!(e, Event::Message(m) if m.text == text && m.server_id.is_some()),
        )
        .await
    {
        Event::Message(m) => m,
        _ => unreachable!(),
    }
}

/// My message `client_id`, once the server has acknowledged it.
async fn acked(who: &mut User, client_id: &str) -> Message {
    match who
        .wait("the ACK", |e| {
            matches!(e, Event::MessageState(m) if m.client_id == client_id && m.state == MessageState::Sent)
        })
        .await
    {
        Event::MessageState(m) => m,
        _ => unreachable!(),
    }
}

async fn recalled(who: &mut User, target: u64) -> Event {
    let name = who.name.clone();
    who.wait(
        &format!("the recall of #{target} at {name}"),
        |e| matches!(e, Event::Recalled { target: t, .. } if *t == target),
    )
    .await
}

async fn search(who: &mut User, query: &str) -> Vec<Message> {
    who.handle.search(query);
    match who
        .wait(
            "search results",
            |e| matches!(e, Event::SearchResults { query: q, .. } if q == query),
        )
        .await
    {
        Event::SearchResults { messages, .. } => messages,
        _ => unreachable!(),
    }
}

/// A second session of an account that exists, with its own local database.
async fn second_session(server: &str, name: &str) -> User {
    User::login(server, name).await
}

#[tokio::test]
async fn the_server_grants_every_feature_at_login() {
    let server = TestServer::start().await;
    let _alice = User::register(&server.addr, "alice").await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut events) = Client::start(config(&server.addr, "alice", dir.path())).unwrap();
    let login = wait_for(&mut events, "login", |e| {
        matches!(e, Event::LoggedIn { .. })
    })
    .await;
    assert!(
        matches!(login, Event::LoggedIn { features, .. } if features == Features::ALL),
        "{login:?}"
    );
    handle.shutdown();
}

#[tokio::test]
async fn a_reply_arrives_with_its_quote_and_a_mention_is_marked() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;

    bob.handle.send_text(alice.conv(), "lunch at 12:30?");
    let question = received(&mut alice, "lunch at 12:30?").await;
    let id = question.server_id.unwrap();
    let cid = alice
        .handle
        .send_reply(bob.conv(), Some(id), Mentions::default(), "sure 好的");
    let mine = acked(&mut alice, &cid).await;
    assert_eq!(mine.quote.as_ref().map(|q| q.id), Some(id));
    let reply = received(&mut bob, "sure 好的").await;
    let quote = reply.quote.expect("the reply carries its quote");
    assert_eq!(
        (quote.id, quote.from.as_str(), quote.text.as_str()),
        (id, "bob", "lunch at 12:30?")
    );
    assert_eq!(reply.conv, Conv::User("alice".into()));
    // It is stored with its quote, as a restart would read it.
    let stored = bob
        .handle
        .store()
        .messages(alice.conv(), None, 10)
        .await
        .unwrap();
    assert_eq!(stored.last().unwrap().quote.as_ref().unwrap().id, id);

    // A group message that mentions bob.
    alice.handle.create_group("午饭");
    let group = match alice
        .wait("the group", |e| matches!(e, Event::GroupChanged(_)))
        .await
    {
        Event::GroupChanged(g) => g.id,
        _ => unreachable!(),
    };
    alice.handle.invite(group, "bob");
    bob.wait(
        "the invitation",
        |e| matches!(e, Event::GroupChanged(g) if g.id == group),
    )
    .await;
    let mentions = Mentions {
        all: false,
        accounts: vec!["bob".into()],
    };
    alice
        .handle
        .send_reply(Conv::Group(group), None, mentions.clone(), "@bob 你来吗");
    let mention = received(&mut bob, "@bob 你来吗").await;
    assert_eq!(mention.mentions, mentions);
    assert!(mention.mentions_me("bob") && !mention.mentions_me("carol"));
    assert_eq!(mention.quote, None);
    server.stop().await;
}

#[tokio::test]
async fn a_recall_reaches_everyone_and_search_and_quotes_forget_the_text() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let mut alice2 = second_session(&server.addr, "alice").await;

    let cid = alice.handle.send_text(bob.conv(), "秘密计划 at dawn");
    let id = acked(&mut alice, &cid).await.server_id.unwrap();
    received(&mut bob, "秘密计划 at dawn").await;
    received(&mut alice2, "秘密计划 at dawn").await;
    // Bob quotes it before it is recalled.
    bob.handle
        .send_reply(alice.conv(), Some(id), Mentions::default(), "ok!");
    let reply = received(&mut alice2, "ok!").await;
    assert_eq!(reply.quote.as_ref().unwrap().text, "秘密计划 at dawn");
    assert_eq!(search(&mut bob, "秘密").await.len(), 1);

    alice.handle.recall(id);
    for who in [&mut alice, &mut bob, &mut alice2] {
        let Event::Recalled {
            by,
            message,
            quotes,
            ..
        } = recalled(who, id).await
        else {
            unreachable!()
        };
        assert_eq!(by, "alice");
        assert_eq!(message.server_id, Some(id));
        assert_eq!(message.text, "");
        assert_eq!(message.recalled_by.as_deref(), Some("alice"));
        // Bob's reply is stored at all three; its quote text is gone everywhere.
        assert_eq!(quotes.len(), 1, "at {}", who.name);
        assert_eq!(quotes[0].text, "ok!");
        assert_eq!(quotes[0].quote.as_ref().unwrap().text, "");
    }
    for who in [&mut alice, &mut bob, &mut alice2] {
        for query in ["秘密", "秘密计划", "dawn"] {
            assert!(
                search(who, query).await.is_empty(),
                "{} still finds {query}",
                who.name
            );
        }
    }
    let history = bob
        .handle
        .store()
        .messages(alice.conv(), None, 10)
        .await
        .unwrap();
    let recalled_row = history.iter().find(|m| m.server_id == Some(id)).unwrap();
    assert!(recalled_row.is_recalled() && recalled_row.text.is_empty());

    // A session that never had the message gets the recall as a record of its own by SYNC.
    let mut alice3 = second_session(&server.addr, "alice").await;
    let rows = alice3
        .handle
        .store()
        .messages(bob.conv(), None, 10)
        .await
        .unwrap();
    let record = rows
        .iter()
        .find(|m| m.recall_of.is_some())
        .expect("the recall is stored as a record");
    assert_eq!(record.recall_of.as_ref().unwrap().target, id);
    assert_eq!(record.from, "alice");
    assert!(!rows.iter().any(|m| m.text.contains("秘密")));
    assert!(search(&mut alice3, "秘密").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn read_on_one_session_clears_unread_on_the_others() {
    let server = TestServer::start().await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let mut alice2 = second_session(&server.addr, "alice").await;

    bob.handle.send_text(alice.conv(), "one");
    bob.handle.send_text(alice.conv(), "two");
    for who in [&mut alice, &mut alice2] {
        who.wait(
            "two unread",
            |e| matches!(e, Event::Unread { conv, unread: 2 } if *conv == Conv::User("bob".into())),
        )
        .await;
    }
    alice.handle.mark_read(bob.conv());
    alice2
        .wait(
            "read on the other session",
            |e| matches!(e, Event::Unread { conv, unread: 0 } if *conv == Conv::User("bob".into())),
        )
        .await;
    assert_eq!(alice2.handle.store().unread(bob.conv()).await.unwrap(), 0);

    // A session that logs in later syncs both messages, then the mark (READS after SYNC) clears them.
    let mut alice3 = second_session(&server.addr, "alice").await;
    let mut unread = alice3.handle.store().unread(bob.conv()).await.unwrap();
    if unread != 0 {
        alice3
            .wait("the read mark after sync", |e| {
                matches!(e, Event::Unread { conv, unread: 0 } if *conv == Conv::User("bob".into()))
            })
            .await;
        unread = alice3.handle.store().unread(bob.conv()).await.unwrap();
    }
    assert_eq!(unread, 0);

    // Read up to the first of two new ones: one stays unread elsewhere.
    bob.handle.send_text(alice.conv(), "three");
    let three = received(&mut alice, "three").await.server_id.unwrap();
    bob.handle.send_text(alice.conv(), "four");
    received(&mut alice, "four").await;
    alice2
        .wait("two unread again", |e| {
            matches!(e, Event::Unread { unread: 2, .. })
        })
        .await;
    alice.handle.mark_read_up_to(bob.conv(), three);
    alice2
        .wait("one left", |e| matches!(e, Event::Unread { unread: 1, .. }))
        .await;
    server.stop().await;
}

#[tokio::test]
async fn a_refused_recall_reaches_the_caller_with_its_code() {
    let server = TestServer::start_with(|c| c.limits.recall = 1).await;
    let mut alice = User::register(&server.addr, "alice").await;
    let mut bob = User::register(&server.addr, "bob").await;
    befriend(&mut alice, &mut bob).await;

    async fn refusal(who: &mut User, target: u64) -> ErrorCode {
        match who
            .wait(
                &format!("the refusal of #{target}"),
                |e| matches!(e, Event::RecallFailed { target: t, .. } if *t == target),
            )
            .await
        {
            Event::RecallFailed { code, .. } => code,
            _ => unreachable!(),
        }
    }

    // Someone else's message.
    bob.handle.send_text(alice.conv(), "bob's words");
    let theirs = received(&mut alice, "bob's words").await.server_id.unwrap();
    alice.handle.recall(theirs);
    assert_eq!(refusal(&mut alice, theirs).await, ErrorCode::Forbidden);

    // No such message.
    alice.handle.recall(999_999);
    assert_eq!(refusal(&mut alice, 999_999).await, ErrorCode::NoSuchMessage);

    // Too late: the server's window here is one second.
    let cid = alice.handle.send_text(bob.conv(), "too late to take back");
    let mine = acked(&mut alice, &cid).await.server_id.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    alice.handle.recall(mine);
    assert_eq!(refusal(&mut alice, mine).await, ErrorCode::TooLate);

    // In time, then again: the second is no_such_message (recalled already).
    let cid = alice.handle.send_text(bob.conv(), "quick");
    let quick = acked(&mut alice, &cid).await.server_id.unwrap();
    alice.handle.recall(quick);
    recalled(&mut alice, quick).await;
    alice.handle.recall(quick);
    assert_eq!(refusal(&mut alice, quick).await, ErrorCode::NoSuchMessage);
    server.stop().await;
}
