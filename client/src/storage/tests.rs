use super::*;

const ME: &str = "alice";

fn bob() -> Conv {
    Conv::User("bob".into())
}

fn from_bob(id: u64, text: &str) -> Incoming {
    Incoming {
        conv: bob(),
        server_id: id,
        client_id: format!("b{id}"),
        from: "bob".into(),
        time: 1000 + id,
        text: text.into(),
        file: None,
        said: Default::default(),
    }
}

fn db() -> Storage {
    Storage::open_in_memory().unwrap()
}

#[test]
fn a_message_delivered_twice_is_stored_and_counted_once() {
    let mut s = db();
    let first = s.store_incoming(ME, &from_bob(7, "hi"), true).unwrap();
    assert!(matches!(
        first,
        Stored::New {
            unread: Some(1),
            ..
        }
    ));
    // The same server id again, as SYNC replays what a live push already brought.
    let again = s.store_incoming(ME, &from_bob(7, "hi"), true).unwrap();
    assert!(matches!(again, Stored::Duplicate(ref m) if m.text == "hi"));
    assert_eq!(s.messages(&bob(), None, 10).unwrap().len(), 1);
    assert_eq!(s.unread(&bob()).unwrap(), 1);
    s.store_incoming(ME, &from_bob(8, "there"), true).unwrap();
    assert_eq!(s.unread(&bob()).unwrap(), 2);
    s.mark_read(&bob()).unwrap();
    assert_eq!(s.unread(&bob()).unwrap(), 0);
    // History pages are old news: stored, never counted.
    s.store_incoming(ME, &from_bob(3, "old"), false).unwrap();
    assert_eq!(s.unread(&bob()).unwrap(), 0);
}

#[test]
fn outbox_lifecycle_pending_sent_failed_retry() {
    let mut s = db();
    let a = s.queue_outgoing(&bob(), ME, "c1", "one", 10, None).unwrap();
    let b = s.queue_outgoing(&bob(), ME, "c2", "two", 11, None).unwrap();
    assert_eq!(a.state, MessageState::Pending);
    let pending: Vec<_> = s.pending().unwrap().into_iter().map(|m| m.text).collect();
    assert_eq!(pending, ["one", "two"], "resent oldest first");

    let sent = s.mark_sent("c1", 100, 5000).unwrap().unwrap();
    assert_eq!(sent.state, MessageState::Sent);
    assert_eq!(sent.server_id, Some(100));
    assert_eq!(sent.time, 5000, "the server's time replaces the local one");
    assert_eq!(
        s.mark_sent("c1", 100, 5000).unwrap(),
        None,
        "a repeated ACK changes nothing"
    );

    let failed = s.mark_failed("c2", "not friends").unwrap().unwrap();
    assert_eq!(failed.state, MessageState::Failed);
    assert_eq!(failed.error.as_deref(), Some("not friends"));
    assert!(s.pending().unwrap().is_empty());
    assert_eq!(
        s.mark_failed("c1", "late").unwrap(),
        None,
        "sent stays sent"
    );

    let retried = s.mark_pending("c2").unwrap().unwrap();
    assert_eq!(retried.state, MessageState::Pending);
    assert_eq!(retried.local_id, b.local_id);
    assert_eq!(retried.error, None);
    assert_eq!(s.pending().unwrap().len(), 1);
}

#[test]
fn my_message_echoed_by_sync_before_its_ack_is_not_duplicated() {
    let mut s = db();
    s.queue_outgoing(&bob(), ME, "c1", "hello", 10, None)
        .unwrap();
    // The connection dropped after the server stored it; SYNC now brings it back with my client id.
    let echo = Incoming {
        conv: bob(),
        server_id: 50,
        client_id: "c1".into(),
        from: ME.into(),
        time: 2000,
        text: "hello".into(),
        file: None,
        said: Default::default(),
    };
    let stored = s.store_incoming(ME, &echo, true).unwrap();
    assert!(matches!(stored, Stored::Acked(ref m) if m.state == MessageState::Sent));
    // Then the resend is ACKed with the same id.
    assert_eq!(s.mark_sent("c1", 50, 2000).unwrap(), None);
    let all = s.messages(&bob(), None, 10).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        s.unread(&bob()).unwrap(),
        0,
        "my own messages are never unread"
    );
    // A message I sent from another device is stored as sent.
    let other_device = Incoming {
        client_id: "elsewhere".into(),
        server_id: 51,
        ..echo
    };
    let stored = s.store_incoming(ME, &other_device, true).unwrap();
    assert!(
        matches!(stored, Stored::New { ref message, unread: None } if message.state == MessageState::Sent)
    );
}

#[test]
fn conversations_list_titles_unread_and_last_message() {
    let mut s = db();
    s.store_incoming(ME, &from_bob(1, "first"), true).unwrap();
    s.store_incoming(
        ME,
        &Incoming {
            conv: Conv::Group(9),
            server_id: 2,
            client_id: "x".into(),
            from: "carol".into(),
            time: 5000,
            text: "group hello".into(),
            file: None,
            said: Default::default(),
        },
        true,
    )
    .unwrap();
    s.replace_friends(&[Friend {
        account: "bob".into(),
        nickname: "Bobby".into(),
        remark: "".into(),
        presence: Presence::Online,
        profile: Default::default(),
        category: 0,
    }])
    .unwrap();
    s.replace_groups(&[Group {
        id: 9,
        name: "家人".into(),
        owner: "carol".into(),
        members: 3,
    }])
    .unwrap();
    let convs = s.conversations().unwrap();
    assert_eq!(convs.len(), 2);
    assert_eq!(convs[0].conv, Conv::Group(9), "most recent first");
    assert_eq!(convs[0].title, "家人");
    assert_eq!(convs[1].title, "Bobby");
    assert_eq!(convs[1].unread, 1);
    assert_eq!(
        convs[1].last_message.as_ref().map(|m| m.text.as_str()),
        Some("first")
    );
}

#[test]
fn message_pages_go_backwards_from_a_local_id() {
    let mut s = db();
    for id in 1..=10 {
        s.store_incoming(ME, &from_bob(id, &format!("m{id}")), true)
            .unwrap();
    }
    let newest = s.messages(&bob(), None, 4).unwrap();
    let texts: Vec<_> = newest.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["m7", "m8", "m9", "m10"],
        "oldest first within a page"
    );
    let older = s.messages(&bob(), Some(newest[0].local_id), 4).unwrap();
    let texts: Vec<_> = older.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["m3", "m4", "m5", "m6"]);
}

#[test]
fn a_window_around_an_old_message_is_one_read_of_it_and_its_neighbours() {
    let mut s = db();
    for id in 1..=100 {
        s.store_incoming(ME, &from_bob(id, &format!("m{id}")), true)
            .unwrap();
    }
    let texts = |ms: &[Message]| ms.iter().map(|m| m.text.clone()).collect::<Vec<_>>();
    // m40: three older, the message, two newer, however far back it is.
    let around = s.messages_around(&bob(), 40, 3, 2).unwrap();
    assert_eq!(texts(&around), ["m37", "m38", "m39", "m40", "m41", "m42"]);
    // The ends of the conversation: fewer on the side that runs out.
    assert_eq!(
        texts(&s.messages_around(&bob(), 2, 3, 1).unwrap()),
        ["m1", "m2", "m3"]
    );
    assert_eq!(
        texts(&s.messages_around(&bob(), 99, 0, 5).unwrap()),
        ["m99", "m100"]
    );
    // Not stored here (never seen, or another conversation's): nothing, for the caller to ask the
    // server's pages instead.
    assert!(s.messages_around(&bob(), 999, 3, 3).unwrap().is_empty());
    let carol = Conv::User("carol".into());
    assert!(s.messages_around(&carol, 40, 3, 3).unwrap().is_empty());

    // Paging down from the window's last line, to the newest and no further.
    let last = around.last().unwrap().local_id;
    assert_eq!(
        texts(&s.messages_after(&bob(), last, 3).unwrap()),
        ["m43", "m44", "m45"]
    );
    let newest = s.messages(&bob(), None, 1).unwrap();
    assert!(
        s.messages_after(&bob(), newest[0].local_id, 30)
            .unwrap()
            .is_empty()
    );
    let near_end = s.messages_around(&bob(), 97, 0, 0).unwrap();
    assert_eq!(
        texts(&s.messages_after(&bob(), near_end[0].local_id, 30).unwrap()),
        ["m98", "m99", "m100"]
    );
    // A line no longer stored (deleted for me meanwhile): nothing after it.
    assert!(s.messages_after(&bob(), 1_000_000, 30).unwrap().is_empty());
}

#[test]
fn search_finds_chinese_words_of_any_length_and_ascii_substrings() {
    let mut s = db();
    let texts = [
        "今天天气很好",
        "我们明天去北京吃烤鸭",
        "Hello World from Ququ",
        "100% sure_thing",
        "unrelated",
    ];
    for (i, t) in texts.iter().enumerate() {
        s.store_incoming(ME, &from_bob(i as u64 + 1, t), true)
            .unwrap();
    }
    let found = |q: &str| -> Vec<String> {
        s.search(q, 50)
            .unwrap()
            .into_iter()
            .map(|m| m.text)
            .collect()
    };
    // Two characters inside a sentence: too short for trigrams, so LIKE finds it.
    assert_eq!(found("北京"), ["我们明天去北京吃烤鸭"]);
    assert_eq!(found("天气"), ["今天天气很好"]);
    // Three or more: the trigram index, case-insensitively, in the middle of a word.
    assert_eq!(found("吃烤鸭"), ["我们明天去北京吃烤鸭"]);
    assert_eq!(found("world"), ["Hello World from Ququ"]);
    assert_eq!(found("orl"), ["Hello World from Ququ"]);
    // Several terms must all match; mixed lengths combine both paths.
    assert_eq!(found("hello qu"), ["Hello World from Ququ"]);
    assert!(found("hello 北京").is_empty());
    // LIKE and FTS syntax in the query are plain text.
    assert_eq!(found("%"), ["100% sure_thing"]);
    assert_eq!(found("_"), ["100% sure_thing"]);
    assert_eq!(found("\"sure"), Vec::<String>::new());
    assert_eq!(found("e_t"), ["100% sure_thing"]);
    assert!(found("   ").is_empty());
    assert!(found("nothing-like-this").is_empty());
}

/// The texts of a search's results, in order.
fn texts(s: &Storage, query: &str, limit: u32) -> Vec<String> {
    s.search(query, limit)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect()
}

#[test]
fn search_returns_the_newest_matches_of_many_newest_first() {
    let mut s = db();
    // 1,000 messages, every third mentioning lunch and 吃饭, every fifth both "meeting" and "tomorrow",
    // every 97th 罕.
    for i in 1..=1000u64 {
        let mut t = format!("msg{i}");
        if i % 97 == 0 {
            t.push_str(" 罕");
        }
        if i % 3 == 0 {
            t.push_str(" lunch 吃饭");
        }
        if i % 5 == 0 {
            t.push_str(" meeting tomorrow");
        }
        s.store_incoming(ME, &from_bob(i, &t), true).unwrap();
    }
    let ids = |q: &str, limit: u32| -> Vec<u64> {
        s.search(q, limit)
            .unwrap()
            .into_iter()
            .map(|m| m.server_id.unwrap())
            .collect()
    };
    let expect = |every: u64, n: usize| -> Vec<u64> {
        (1..=1000u64)
            .rev()
            .filter(|i| i % every == 0)
            .take(n)
            .collect()
    };
    assert_eq!(ids("lunch", 50), expect(3, 50));
    assert_eq!(ids("吃饭", 50), expect(3, 50));
    assert_eq!(ids("meeting tomorrow", 50), expect(5, 50));
    assert_eq!(ids("tomorrow lunch", 50), expect(15, 50));
    assert_eq!(ids("饭 meeting", 50), expect(15, 50));
    // Fewer matches than the limit: all of them.
    // A term in every message with one in few: the walk over the first skips ahead with the second.
    assert_eq!(ids("msg 罕", 50), expect(97, 50));
    assert_eq!(ids("罕 msg", 3), [970, 873, 776]);
    assert_eq!(
        ids("msg99", 50),
        [999, 998, 997, 996, 995, 994, 993, 992, 991, 990, 99]
    );
    assert_eq!(ids("吃饭", 0), Vec::<u64>::new());
}

#[test]
fn search_orders_by_time_when_ids_do_not_follow_it() {
    let mut s = db();
    // One of mine, queued with an early local time (it will be acknowledged with the newest server
    // time), then recent messages, then a history page of older ones (higher local ids, older times):
    // across several of the index's blocks of 256 ids.
    s.queue_outgoing(&bob(), ME, "c1", "mine 你好", 5, None)
        .unwrap();
    for i in 0..600u64 {
        let m = Incoming {
            time: 1_000_000 + i,
            ..from_bob(10_000 + i, &format!("recent {i} 你好"))
        };
        s.store_incoming(ME, &m, false).unwrap();
    }
    for i in 0..600u64 {
        let m = Incoming {
            time: 1000 + i,
            ..from_bob(i + 1, &format!("older {i} 你好"))
        };
        s.store_incoming(ME, &m, false).unwrap();
    }
    let found = texts(&s, "你好", 3);
    assert_eq!(
        found,
        ["recent 599 你好", "recent 598 你好", "recent 597 你好"]
    );
    s.mark_sent("c1", 99_999, 2_000_000).unwrap().unwrap();
    let found = texts(&s, "你好", 3);
    assert_eq!(found, ["mine 你好", "recent 599 你好", "recent 598 你好"]);
    let found = texts(&s, "你好 recent", 2);
    assert_eq!(found, ["recent 599 你好", "recent 598 你好"]);
    // Every result newest first by time, also through a long walk.
    let all = s.search("你好", 2000).unwrap();
    assert_eq!(all.len(), 1201);
    assert!(
        all.windows(2)
            .all(|w| (w[0].time, w[0].local_id) > (w[1].time, w[1].local_id))
    );
}

#[test]
fn search_two_character_chinese_words_and_mixed_queries() {
    let mut s = db();
    for (i, t) in [
        "晚上一起吃饭吧",   // 1
        "吃了饭再说",       // 2: 吃 and 饭, but not 吃饭
        "饭吃完了",         // 3: 饭吃, not 吃饭
        "Lunch 吃饭 today", // 4
        "lunch later",      // 5
        "吃饭",             // 6
    ]
    .iter()
    .enumerate()
    {
        s.store_incoming(ME, &from_bob(i as u64 + 1, t), true)
            .unwrap();
    }
    assert_eq!(
        texts(&s, "吃饭", 50),
        ["吃饭", "Lunch 吃饭 today", "晚上一起吃饭吧"]
    );
    assert_eq!(texts(&s, "饭吃", 50), ["饭吃完了"]);
    // A two-character word and a long Latin one: both must match, case-insensitively.
    assert_eq!(texts(&s, "吃饭 LUNCH", 50), ["Lunch 吃饭 today"]);
    assert_eq!(texts(&s, "lunch 吃饭", 50), ["Lunch 吃饭 today"]);
    assert!(texts(&s, "吃饭 later", 50).is_empty());
    // Single characters, anywhere in the text, including the last one.
    assert_eq!(texts(&s, "吧", 50), ["晚上一起吃饭吧"]);
    assert_eq!(texts(&s, "吃 饭", 50).len(), 5);
    assert_eq!(texts(&s, "了", 50), ["饭吃完了", "吃了饭再说"]);
    // Short Latin terms, case-insensitive, inside words; whitespace is not a character of a term.
    assert_eq!(texts(&s, "LU", 50), ["lunch later", "Lunch 吃饭 today"]);
    assert_eq!(texts(&s, "y", 50), ["Lunch 吃饭 today"]);
    assert_eq!(texts(&s, "h l", 50), ["lunch later", "Lunch 吃饭 today"]);
    assert!(texts(&s, "xq", 50).is_empty());
}

#[test]
fn search_takes_quotes_wildcards_and_like_characters_literally() {
    let mut s = db();
    for (i, t) in [
        r#"say "hi" to her"#,
        "100% sure",
        "snake_case name",
        "a*b wild",
        "plain hi there",
        "AND OR NOT",
    ]
    .iter()
    .enumerate()
    {
        s.store_incoming(ME, &from_bob(i as u64 + 1, t), true)
            .unwrap();
    }
    assert_eq!(texts(&s, "\"", 50), [r#"say "hi" to her"#]);
    assert_eq!(texts(&s, "\"h", 50), [r#"say "hi" to her"#]);
    assert_eq!(texts(&s, r#""hi""#, 50), [r#"say "hi" to her"#]);
    assert_eq!(texts(&s, "%", 50), ["100% sure"]);
    assert_eq!(texts(&s, "0%", 50), ["100% sure"]);
    assert_eq!(texts(&s, "_", 50), ["snake_case name"]);
    assert_eq!(texts(&s, "e_c", 50), ["snake_case name"]);
    assert_eq!(texts(&s, "*", 50), ["a*b wild"]);
    assert_eq!(texts(&s, "a*", 50), ["a*b wild"]);
    assert_eq!(texts(&s, "a*b", 50), ["a*b wild"]);
    // `LIKE` and FTS syntax that would match more if it were syntax.
    assert!(texts(&s, "1_0", 50).is_empty());
    assert!(texts(&s, "s%e", 50).is_empty());
    assert!(texts(&s, "h*", 50).is_empty());
    assert!(texts(&s, "pla*", 50).is_empty());
    assert_eq!(texts(&s, "OR", 50), ["AND OR NOT"]);
    assert_eq!(texts(&s, "NOT", 50), ["AND OR NOT"]);
}

#[test]
fn a_version_2_database_is_upgraded_and_its_messages_found_by_short_terms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        super::migrate(&mut conn, &super::schema::MIGRATIONS[..2]).unwrap();
        // What version 2 stored: rows and their trigram index, nothing else.
        for (id, text) in [(1, "明天开会"), (2, "see you 明天 at 9"), (3, "hi all")] {
            conn.execute(
                "INSERT INTO messages (kind, peer, server_id, sender, time, text, state)
                 VALUES ('user', 'bob', ?1, 'bob', ?1, ?2, 3)",
                rusqlite::params![id, text],
            )
            .unwrap();
        }
    }
    let mut s = Storage::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
    assert_eq!(texts(&s, "明天", 50), ["see you 明天 at 9", "明天开会"]);
    assert_eq!(texts(&s, "会", 50), ["明天开会"]);
    assert_eq!(texts(&s, "hi", 50), ["hi all"]);
    assert_eq!(texts(&s, "明天 see", 50), ["see you 明天 at 9"]);
    // New messages are indexed as they come, and deleting one takes it out of the index: the next
    // message reuses its local id (SQLite's rowids) and must not inherit its words.
    let gone = s.store_incoming(ME, &from_bob(4, "明天见"), true).unwrap();
    assert_eq!(texts(&s, "明天", 1), ["明天见"]);
    s.conn
        .execute("DELETE FROM messages WHERE server_id = 4", [])
        .unwrap();
    let Stored::New { message: next, .. } =
        s.store_incoming(ME, &from_bob(5, "hello"), true).unwrap()
    else {
        panic!("not new")
    };
    let Stored::New { message: gone, .. } = gone else {
        panic!("not new")
    };
    assert_eq!(next.local_id, gone.local_id, "the id is reused");
    assert_eq!(texts(&s, "明天", 50), ["see you 明天 at 9", "明天开会"]);
    assert_eq!(texts(&s, "he", 50), ["hello"]);
    // Rebuilding the index from scratch finds the same.
    s.rebuild_search_index().unwrap();
    assert_eq!(texts(&s, "明天", 50), ["see you 明天 at 9", "明天开会"]);
}

#[test]
fn grams_are_each_character_and_pair_once_without_whitespace() {
    // 'A' folds to 'a' (61); "b b" has no pair across the space; the repeated "b" is one token.
    assert_eq!(search::grams("Ab b"), "61 6162 62");
    assert_eq!(search::grams("中"), "e4b8ad");
    assert_eq!(search::grams("  "), "");
}

#[test]
fn search_sees_my_outgoing_messages_too() {
    let mut s = db();
    s.queue_outgoing(&bob(), ME, "c1", "周末一起打球", 1, None)
        .unwrap();
    assert_eq!(s.search("打球", 10).unwrap().len(), 1);
    assert_eq!(s.search("一起打球", 10).unwrap().len(), 1);
}

#[test]
fn migrations_are_recorded_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b.sqlite3");
    {
        let s = Storage::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
        s.set_setting("k", "v").unwrap();
    }
    // Reopening keeps data and does not re-run migrations.
    {
        let s = Storage::open(&path).unwrap();
        assert_eq!(s.setting("k").unwrap().as_deref(), Some("v"));
        s.conn.pragma_update(None, "user_version", 99).unwrap();
    }
    assert!(matches!(
        Storage::open(&path),
        Err(StorageError::TooNew { found: 99, .. })
    ));
}

#[test]
fn sync_cursor_only_moves_forward() {
    let s = db();
    assert_eq!(s.sync_cursor().unwrap(), 0);
    assert_eq!(s.advance_sync_cursor(40).unwrap(), 40);
    assert_eq!(s.advance_sync_cursor(10).unwrap(), 40);
    assert_eq!(s.sync_cursor().unwrap(), 40);
}

#[test]
fn friend_list_replacement_and_removal() {
    let mut s = db();
    let f = |a: &str| Friend {
        account: a.into(),
        nickname: String::new(),
        remark: String::new(),
        presence: Presence::Offline,
        profile: Default::default(),
        category: 0,
    };
    s.replace_friends(&[f("bob"), f("carol")]).unwrap();
    s.set_presence("bob", Presence::Online).unwrap();
    s.remove_friend("carol").unwrap();
    let friends = s.friends().unwrap();
    assert_eq!(friends.len(), 1);
    assert_eq!(friends[0].presence, Presence::Online);
    s.replace_friends(&[f("dave")]).unwrap();
    let names: Vec<_> = s
        .friends()
        .unwrap()
        .into_iter()
        .map(|f| f.account)
        .collect();
    assert_eq!(names, ["dave"]);
}

/// A friend's signature, gender and region are kept with the friend list, and a `PROFILE:` line about
/// them updates it (the list shown before the server answers has them).
#[test]
fn a_friends_profile_is_kept_and_updated() {
    use ququ_protocol::{Gender, Profile};
    let mut s = db();
    let bob = Friend {
        account: "bob".into(),
        nickname: "Bob".into(),
        remark: String::new(),
        presence: Presence::Online,
        profile: Profile {
            gender: Some(Gender::Male),
            region: "北京".into(),
            signature: "在路上".into(),
        },
        category: 0,
    };
    s.replace_friends(std::slice::from_ref(&bob)).unwrap();
    assert_eq!(s.friends().unwrap(), std::slice::from_ref(&bob));
    let changed = Profile {
        gender: None,
        region: String::new(),
        signature: "回来了".into(),
    };
    s.set_contact_profile("bob", "Bobby", &changed).unwrap();
    // Someone not a contact changes nothing.
    s.set_contact_profile("carol", "Carol", &changed).unwrap();
    let friends = s.friends().unwrap();
    assert_eq!(friends.len(), 1);
    assert_eq!(friends[0].nickname, "Bobby");
    assert_eq!(friends[0].profile, changed);
}

#[test]
fn last_login_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(last_login(dir.path()).unwrap(), None);
    let login = LastLogin {
        server: "127.0.0.1:8899".into(),
        account: "小明".into(),
    };
    save_last_login(dir.path(), &login).unwrap();
    assert_eq!(last_login(dir.path()).unwrap(), Some(login));
}

#[tokio::test]
async fn the_async_store_runs_jobs_in_order_off_the_runtime() {
    let store = Store::in_memory();
    store.ready().await.unwrap();
    let mut calls = Vec::new();
    for i in 0..20 {
        calls.push(
            store.call(move |s| s.queue_outgoing(&bob(), ME, &format!("c{i}"), "x", i, None)),
        );
    }
    for c in calls {
        c.await.unwrap();
    }
    let ids: Vec<_> = store
        .pending()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.client_id)
        .collect();
    let expected: Vec<_> = (0..20).map(|i| format!("c{i}")).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn an_unopenable_database_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the database file should be.
    let path = dir.path().join("db");
    std::fs::create_dir_all(&path).unwrap();
    let store = Store::open(path);
    assert!(matches!(
        store.ready().await,
        Err(StorageError::Unavailable(_))
    ));
    assert!(store.conversations().await.is_err());
}

#[test]
fn file_messages_and_transfers_round_trip() {
    use crate::transfer::{Transfer, TransferId, TransferState};
    use ququ_protocol::FileInfo;
    let mut s = db();
    let file = FileInfo {
        file_id: 7,
        size: 1234,
        sha256: "ab".repeat(32),
        name: "报告.pdf".into(),
    };
    let offer = Incoming {
        file: Some(file.clone()),
        ..from_bob(3, "报告.pdf")
    };
    s.store_incoming(ME, &offer, true).unwrap();
    s.store_incoming(ME, &from_bob(4, "just text"), true)
        .unwrap();
    let files = s.files(&bob()).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file, Some(file.clone()));
    assert_eq!(s.file_message(7).unwrap().unwrap().text, "报告.pdf");
    assert!(s.file_message(8).unwrap().is_none());
    assert_eq!(s.messages(&bob(), None, 10).unwrap()[1].file, None);

    let mut t = Transfer {
        id: TransferId::Upload("c1".into()),
        conv: bob(),
        file_id: None,
        name: "a.txt".into(),
        size: 10,
        sha256: String::new(),
        path: "/tmp/a.txt".into(),
        bytes: 0,
        state: TransferState::Offering,
    };
    s.save_transfer(&t).unwrap();
    t.file_id = Some(7);
    t.state = TransferState::Failed {
        reason: "too big".into(),
    };
    s.save_transfer(&t).unwrap();
    let d = Transfer {
        id: TransferId::Download(7),
        state: TransferState::Done,
        ..t.clone()
    };
    s.save_transfer(&d).unwrap();
    assert_eq!(s.transfers().unwrap(), vec![d, t.clone()]);
    assert_eq!(s.transfer(&t.id).unwrap(), Some(t));
}

#[test]
fn a_version_1_database_keeps_its_messages() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    super::migrate(&mut conn, &super::schema::MIGRATIONS[..1]).unwrap();
    conn.execute(
        "INSERT INTO messages (kind, peer, server_id, sender, time, text, state)
         VALUES ('user', 'bob', 1, 'bob', 5, 'old text', 3)",
        [],
    )
    .unwrap();
    super::migrate(&mut conn, super::schema::MIGRATIONS).unwrap();
    let s = Storage { conn };
    let old = s.messages(&bob(), None, 10).unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(
        (old[0].text.as_str(), old[0].file.as_ref()),
        ("old text", None)
    );
}

fn recall(id: u64, target: u64, by: &str, target_from: &str) -> ququ_protocol::RecallMessage {
    ququ_protocol::RecallMessage {
        id,
        to: bob(),
        by: by.into(),
        time: 5000 + id,
        target,
        target_from: target_from.into(),
    }
}

fn quoting(id: u64, text: &str, quoted: u64, quoted_text: &str) -> Incoming {
    Incoming {
        said: Said {
            quote: Some(ququ_protocol::Quote {
                id: quoted,
                from: "bob".into(),
                text: quoted_text.into(),
            }),
            mentions: Default::default(),
        },
        ..from_bob(id, text)
    }
}

#[test]
fn a_recalled_message_is_gone_from_history_from_search_and_from_its_quotes() {
    let mut s = db();
    s.store_incoming(ME, &from_bob(7, "周末去爬山 secret plan"), true)
        .unwrap();
    s.store_incoming(ME, &quoting(8, "好啊", 7, "周末去爬山 secret plan"), true)
        .unwrap();
    assert_eq!(texts(&s, "爬山", 10), ["周末去爬山 secret plan"]);
    assert_eq!(texts(&s, "secret", 10), ["周末去爬山 secret plan"]);
    assert_eq!(s.unread(&bob()).unwrap(), 2);

    let applied = s.apply_recall(ME, &recall(9, 7, "bob", "bob")).unwrap();
    assert!(applied.new);
    assert_eq!(applied.message.server_id, Some(7));
    assert_eq!(applied.message.text, "");
    assert_eq!(applied.message.recalled_by.as_deref(), Some("bob"));
    assert!(applied.message.is_recalled());
    assert_eq!(applied.unread, Some(1), "an unread message taken back");
    // The reply that quoted it keeps its own text but not the quoted one.
    assert_eq!(applied.quotes.len(), 1);
    let quote = applied.quotes[0].quote.clone().unwrap();
    assert_eq!(
        (quote.id, quote.from.as_str(), quote.text.as_str()),
        (7, "bob", "")
    );

    let history = s.messages(&bob(), None, 10).unwrap();
    let texts_now: Vec<_> = history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts_now, ["", "好啊"]);
    assert_eq!(history[1].quote.as_ref().unwrap().text, "");
    // Gone from both indexes: trigrams, and the one- and two-character grams.
    for query in ["爬山", "爬", "secret", "周末去爬山", "plan"] {
        assert!(texts(&s, query, 10).is_empty(), "{query} still found");
    }
    assert_eq!(texts(&s, "好啊", 10), ["好啊"]);

    // The same recall again (live, then by SYNC) changes nothing.
    let again = s.apply_recall(ME, &recall(9, 7, "bob", "bob")).unwrap();
    assert!(!again.new && again.quotes.is_empty());
    assert_eq!(s.messages(&bob(), None, 10).unwrap().len(), 2);
}

#[test]
fn a_recall_of_a_message_never_seen_is_kept_as_a_record() {
    let mut s = db();
    s.store_incoming(ME, &from_bob(2, "hi"), false).unwrap();
    let applied = s.apply_recall(ME, &recall(10, 3, "bob", "bob")).unwrap();
    assert!(applied.new);
    let record = applied.message;
    assert_eq!(record.server_id, Some(10));
    assert_eq!(record.from, "bob");
    assert_eq!(record.text, "");
    assert_eq!(record.state, MessageState::Received);
    let of = record.recall_of.clone().unwrap();
    assert_eq!((of.target, of.target_from.as_str()), (3, "bob"));
    assert_eq!(s.messages(&bob(), None, 10).unwrap().last(), Some(&record));
    assert_eq!(
        s.unread(&bob()).unwrap(),
        0,
        "a recall is not something to read"
    );
    let again = s.apply_recall(ME, &recall(10, 3, "bob", "bob")).unwrap();
    assert!(!again.new);
    assert_eq!(s.messages(&bob(), None, 10).unwrap().len(), 2);
    // My own recall is mine.
    let mine = s.apply_recall(ME, &recall(11, 4, ME, ME)).unwrap();
    assert_eq!(mine.message.state, MessageState::Sent);
}

#[test]
fn a_file_message_recalled_loses_its_file() {
    let mut s = db();
    let offer = Incoming {
        file: Some(FileInfo {
            file_id: 70,
            size: 3,
            sha256: "ab".repeat(32),
            name: "plan.pdf".into(),
        }),
        ..from_bob(7, "plan.pdf")
    };
    s.store_incoming(ME, &offer, true).unwrap();
    let applied = s.apply_recall(ME, &recall(8, 7, "bob", "bob")).unwrap();
    assert_eq!(applied.message.file, None);
    assert!(s.files(&bob()).unwrap().is_empty());
    assert!(texts(&s, "plan", 10).is_empty());
}

#[test]
fn quotes_and_mentions_are_stored_and_read_back() {
    let mut s = db();
    let group = Conv::Group(42);
    // Received with a quote (`SAID:`).
    s.store_incoming(ME, &quoting(8, "sure", 7, "lunch at 12:30?"), true)
        .unwrap();
    let got = s.messages(&bob(), None, 10).unwrap().pop().unwrap();
    assert_eq!(
        got.quote,
        Some(ququ_protocol::Quote {
            id: 7,
            from: "bob".into(),
            text: "lunch at 12:30?".into()
        })
    );
    assert!(got.mentions.is_empty());

    // Mine, quoting a message this device has: the quote comes from it, cut to 100 characters.
    let long = "长".repeat(150);
    s.store_incoming(
        ME,
        &Incoming {
            conv: group.clone(),
            ..from_bob(20, &long)
        },
        true,
    )
    .unwrap();
    let mentions = ququ_protocol::Mentions {
        all: false,
        accounts: vec!["bob".into(), "carol".into()],
    };
    let mine = s
        .queue_said(&Outgoing {
            conv: &group,
            me: ME,
            client_id: "c1",
            text: "@bob @carol 看这个",
            time: 30,
            error: None,
            reply_to: Some(20),
            mentions: &mentions,
        })
        .unwrap();
    let quote = mine.quote.clone().unwrap();
    assert_eq!((quote.id, quote.from.as_str()), (20, "bob"));
    assert_eq!(quote.text.chars().count(), 100);
    assert_eq!(mine.mentions, mentions);
    assert!(mine.mentions_me("carol") && !mine.mentions_me("dave"));
    // Read back from the outbox, as a resend after a restart does.
    assert_eq!(s.pending().unwrap(), vec![mine.clone()]);
    // A quote of a message this device never had keeps just its id.
    let blind = s
        .queue_said(&Outgoing {
            conv: &group,
            me: ME,
            client_id: "c2",
            text: "?",
            time: 31,
            error: None,
            reply_to: Some(5),
            mentions: &Default::default(),
        })
        .unwrap();
    let quote = blind.quote.unwrap();
    assert_eq!(
        (quote.id, quote.from.as_str(), quote.text.as_str()),
        (5, "", "")
    );
    // Its ACK keeps the quote.
    let sent = s.mark_sent("c1", 21, 40).unwrap().unwrap();
    assert_eq!(sent.quote, mine.quote);
    assert_eq!(sent.mentions, mentions);
}

#[test]
fn read_marks_lower_unread_and_only_go_up() {
    let mut s = db();
    for id in 5..=7 {
        s.store_incoming(ME, &from_bob(id, "x"), true).unwrap();
    }
    assert_eq!(s.unread(&bob()).unwrap(), 3);
    // Read up to 6 on another device.
    let mark = s.apply_read(&bob(), 6).unwrap();
    assert_eq!(
        (mark.unread_before, mark.unread, mark.raised),
        (3, 1, Some(6))
    );
    // A lower mark changes nothing.
    let lower = s.apply_read(&bob(), 5).unwrap();
    assert_eq!((lower.unread, lower.raised), (1, None));
    // A message at or below the mark, arriving late, is not unread.
    let late = s.store_incoming(ME, &from_bob(4, "late"), true).unwrap();
    assert!(matches!(late, Stored::New { unread: None, .. }));
    assert_eq!(s.unread(&bob()).unwrap(), 1);
    // Reading all of it here raises the mark to the newest message, which the server is then told.
    let all = s.mark_read_to(&bob(), None).unwrap();
    assert_eq!((all.unread, all.raised), (0, Some(7)));
    assert_eq!(s.read_marks().unwrap(), vec![(bob(), 7)]);
    // A mark for a conversation this device has nothing of is not kept.
    let none = s.apply_read(&Conv::Group(9), 100).unwrap();
    assert_eq!(none.raised, None);
    assert_eq!(s.read_marks().unwrap(), vec![(bob(), 7)]);
    // A message after the mark counts again.
    s.store_incoming(ME, &from_bob(8, "new"), true).unwrap();
    assert_eq!(s.unread(&bob()).unwrap(), 1);
}

#[test]
fn a_version_3_database_gains_replies_recalls_and_read_marks() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    super::migrate(&mut conn, &super::schema::MIGRATIONS[..3]).unwrap();
    conn.execute(
        "INSERT INTO conversations (kind, peer, unread) VALUES ('user', 'bob', 1)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO messages (kind, peer, server_id, sender, time, text, state)
         VALUES ('user', 'bob', 1, 'bob', 5, 'old text', 3)",
        [],
    )
    .unwrap();
    super::migrate(&mut conn, super::schema::MIGRATIONS).unwrap();
    let mut s = Storage { conn };
    let old = s.messages(&bob(), None, 10).unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(
        (
            old[0].quote.as_ref(),
            old[0].mentions.is_empty(),
            old[0].is_recalled()
        ),
        (None, true, false)
    );
    assert_eq!(s.unread(&bob()).unwrap(), 1);
    assert_eq!(s.apply_read(&bob(), 1).unwrap().unread, 0);
    s.apply_recall(ME, &recall(2, 1, "bob", "bob")).unwrap();
    assert!(texts(&s, "old text", 10).is_empty());
}

/// "Delete for me": the message is gone from history and search on this device, and a sync or history
/// page that brings it again does not put it back.
#[test]
fn a_message_deleted_for_me_stays_deleted() {
    let mut s = db();
    let Stored::New { message, .. } = s
        .store_incoming(ME, &from_bob(7, "门禁密码 4827"), true)
        .unwrap()
    else {
        panic!("new");
    };
    s.store_incoming(ME, &from_bob(8, "see you"), true).unwrap();
    let gone = s.delete_message(message.local_id).unwrap();
    assert_eq!(gone.map(|m| m.text), Some("门禁密码 4827".into()));
    let texts: Vec<String> = s
        .messages(&bob(), None, 10)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["see you"]);
    assert!(s.search("4827", 10).unwrap().is_empty());
    assert_eq!(
        s.store_incoming(ME, &from_bob(7, "门禁密码 4827"), false)
            .unwrap(),
        Stored::Deleted
    );
    assert_eq!(s.messages(&bob(), None, 10).unwrap().len(), 1);
    assert_eq!(s.delete_message(message.local_id).unwrap(), None);
}

/// The history window's search: one conversation or all, a span of days, and file names; and reading a
/// conversation from a day on, or up to one.
#[test]
fn search_keeps_to_a_conversation_and_a_span_and_finds_file_names() {
    let mut s = db();
    let group = Conv::Group(9);
    let at = |conv: &Conv, id: u64, time: u64, text: &str| Incoming {
        conv: conv.clone(),
        server_id: id,
        client_id: format!("c{id}"),
        from: "bob".into(),
        time,
        text: text.into(),
        file: None,
        said: Default::default(),
    };
    s.store_incoming(ME, &at(&bob(), 1, 1_000, "周末去爬山吗"), true)
        .unwrap();
    s.store_incoming(ME, &at(&group, 2, 2_000, "爬山的照片发群里"), true)
        .unwrap();
    s.store_incoming(ME, &at(&bob(), 3, 3_000, "爬山 again next week"), true)
        .unwrap();
    let offer = Incoming {
        file: Some(FileInfo {
            file_id: 5,
            size: 10,
            sha256: "ab".repeat(32),
            name: "爬山路线.pdf".into(),
        }),
        ..at(&group, 4, 4_000, "爬山路线.pdf")
    };
    s.store_incoming(ME, &offer, true).unwrap();
    let found = |q: &str, filter: SearchFilter| -> Vec<u64> {
        s.search_in(q, &filter, 50)
            .unwrap()
            .into_iter()
            .filter_map(|m| m.server_id)
            .collect()
    };
    let all = SearchFilter::default();
    assert_eq!(found("爬山", all.clone()), [4, 3, 2, 1], "newest first");
    assert_eq!(found("路线", all.clone()), [4], "a file by its name");
    let in_bob = SearchFilter {
        conv: Some(bob()),
        ..all.clone()
    };
    assert_eq!(found("爬山", in_bob.clone()), [3, 1]);
    assert_eq!(found("爬山 again", in_bob.clone()), [3]);
    let in_group = SearchFilter {
        conv: Some(group.clone()),
        ..all.clone()
    };
    assert_eq!(found("爬山", in_group.clone()), [4, 2]);
    assert!(found("周末", in_group.clone()).is_empty());
    // A span: from 2,000 up to (not including) 4,000.
    let span = SearchFilter {
        since: Some(2_000),
        until: Some(4_000),
        ..all.clone()
    };
    assert_eq!(found("爬山", span), [3, 2]);
    assert_eq!(
        found(
            "爬山",
            SearchFilter {
                since: Some(3_500),
                ..all.clone()
            }
        ),
        [4]
    );
    assert!(
        found(
            "爬山",
            SearchFilter {
                until: Some(1_000),
                ..all
            }
        )
        .is_empty()
    );

    // Reading: the newest up to a day, or the first from one, oldest first either way.
    let read = |filter: SearchFilter, limit| -> Vec<u64> {
        s.browse(&filter, limit)
            .unwrap()
            .into_iter()
            .filter_map(|m| m.server_id)
            .collect()
    };
    assert_eq!(read(in_bob.clone(), 10), [1, 3]);
    assert_eq!(read(in_bob.clone(), 1), [3], "the newest page");
    let from_start = SearchFilter {
        since: Some(0),
        ..in_group.clone()
    };
    assert_eq!(read(from_start, 1), [2], "the first page from a day on");
    let before = SearchFilter {
        until: Some(3_000),
        ..in_bob
    };
    assert_eq!(read(before, 10), [1]);
    assert!(
        read(SearchFilter::default(), 10).is_empty(),
        "no conversation, nothing to read"
    );
}

fn change(id: u64, kind: ququ_protocol::GroupEventKind, account: &str, value: &str) -> GroupEvent {
    GroupEvent {
        id,
        group: 3,
        by: "bob".into(),
        time: 1000 + id,
        kind,
        account: account.into(),
        value: value.into(),
    }
}

fn in_group(id: u64, text: &str) -> Incoming {
    Incoming {
        conv: Conv::Group(3),
        ..from_bob(id, text)
    }
}

/// A group's change is a row of its history between the messages, kept once however often it comes,
/// never unread (not even after a read mark below it), never found, and not stored again once deleted.
#[test]
fn a_group_change_is_kept_in_place_once_and_is_neither_unread_nor_found() {
    use ququ_protocol::GroupEventKind as K;
    let mut s = db();
    let group = Conv::Group(3);
    s.store_incoming(ME, &in_group(1, "before"), true).unwrap();
    let renamed = change(2, K::Rename, "", "周末读书会");
    let Stored::New { message, unread } = s.store_group_event(ME, &renamed).unwrap() else {
        panic!("new");
    };
    assert_eq!(unread, None);
    assert_eq!(message.group_event.as_ref(), Some(&renamed));
    assert_eq!((message.from.as_str(), message.text.as_str()), ("bob", ""));
    assert_eq!(message.state, MessageState::Received);
    s.store_incoming(ME, &in_group(3, "after"), true).unwrap();
    assert!(matches!(
        s.store_group_event(ME, &renamed).unwrap(),
        Stored::Duplicate(m) if m == message
    ));
    let rows = s.messages(&group, None, 10).unwrap();
    let shown: Vec<(Option<u64>, bool)> = rows
        .iter()
        .map(|m| (m.server_id, m.group_event.is_some()))
        .collect();
    assert_eq!(shown, [(Some(1), false), (Some(2), true), (Some(3), false)]);
    assert_eq!(s.unread(&group).unwrap(), 2);
    // Read on another device up to the first message: one message left to read, not the change too.
    assert_eq!(s.apply_read(&group, 1).unwrap().unread, 1);
    assert!(s.search("周末读书会", 10).unwrap().is_empty());
    assert!(s.search("读书", 10).unwrap().is_empty());
    // Mine are mine; deleted here, a change is not brought back.
    let mine = GroupEvent {
        by: ME.into(),
        ..change(4, K::Admin, "carol", "on")
    };
    let Stored::New { message, .. } = s.store_group_event(ME, &mine).unwrap() else {
        panic!("new");
    };
    assert_eq!(message.state, MessageState::Sent);
    s.delete_message(message.local_id).unwrap();
    assert_eq!(s.store_group_event(ME, &mine).unwrap(), Stored::Deleted);
}

/// A database from before (schema 5) keeps its messages, and a change it holds as the server's stand-in
/// `GROUP:` text becomes the change when the server sends it again (a history page): out of search, no
/// longer unread.
#[test]
fn a_version_5_database_keeps_working_and_its_stand_in_changes_become_changes() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    super::migrate(&mut conn, &super::schema::MIGRATIONS[..5]).unwrap();
    conn.execute(
        "INSERT INTO conversations (kind, peer, unread) VALUES ('group', '3', 2)",
        [],
    )
    .unwrap();
    for (id, client_id, text) in [
        (1, "b1", "old message"),
        (2, "event-0123", "bob 将 carol 移出了群 (bob removed carol)"),
    ] {
        conn.execute(
            "INSERT INTO messages (id, kind, peer, server_id, client_id, sender, time, text, state)
             VALUES (?1, 'group', '3', ?1, ?2, 'bob', 1000 + ?1, ?3, 3)",
            params![id, client_id, text],
        )
        .unwrap();
        search::index_message(&conn, id, text).unwrap();
    }
    super::migrate(&mut conn, super::schema::MIGRATIONS).unwrap();
    let mut s = Storage { conn };
    assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
    assert_eq!(texts(&s, "removed", 10).len(), 1);
    assert_eq!(texts(&s, "移出", 10).len(), 1);

    let kicked = change(2, ququ_protocol::GroupEventKind::Kick, "carol", "");
    let Stored::Duplicate(row) = s.store_group_event(ME, &kicked).unwrap() else {
        panic!("the stand-in is the same row");
    };
    assert_eq!(row.group_event, Some(kicked));
    assert_eq!(row.text, "");
    assert!(texts(&s, "removed", 10).is_empty());
    assert!(texts(&s, "移出", 10).is_empty());
    assert_eq!(s.unread(&Conv::Group(3)).unwrap(), 1);
    let rows = s.messages(&Conv::Group(3), None, 10).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].text, "old message");
}

#[test]
fn friend_groups_keep_their_order_and_a_deleted_ones_friends_go_back_to_the_default() {
    let mut s = db();
    let c = |id, name: &str| Category {
        id,
        name: name.into(),
    };
    s.replace_categories(&[c(7, "家人"), c(3, "同事")]).unwrap();
    s.upsert_category(&c(9, "同学")).unwrap();
    s.upsert_category(&c(3, "老同事")).unwrap();
    assert_eq!(
        s.categories().unwrap(),
        [c(7, "家人"), c(3, "老同事"), c(9, "同学")],
        "the server's order, a new one last, a renamed one in its place"
    );
    let f = |a: &str, category| Friend {
        account: a.into(),
        nickname: String::new(),
        remark: String::new(),
        presence: Presence::Offline,
        profile: Default::default(),
        category,
    };
    s.order_categories(&[9, 7, 3]).unwrap();
    assert_eq!(
        s.categories().unwrap(),
        [c(9, "同学"), c(7, "家人"), c(3, "老同事")]
    );
    s.order_categories(&[7, 9, 3]).unwrap();
    s.replace_friends(&[f("bob", 3), f("carol", 7)]).unwrap();
    s.remove_category(3).unwrap();
    let friends = s.friends().unwrap();
    assert_eq!(friends, [f("bob", 0), f("carol", 7)]);
    assert_eq!(s.categories().unwrap(), [c(7, "家人"), c(9, "同学")]);
    s.upsert_category(&c(11, "新")).unwrap();
    assert_eq!(
        s.categories().unwrap(),
        [c(7, "家人"), c(9, "同学"), c(11, "新")],
        "a new one last"
    );
}

/// Avatars: whose is which, a picture fetched once and kept while someone shows it, and forgotten with
/// the last one who does.
#[test]
fn avatars_are_kept_by_digest_while_someone_shows_them() {
    let mut s = Storage::open_in_memory().unwrap();
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    let group = Conv::Group(7);
    assert!(s.set_avatar_of(&bob(), Some(&a)).unwrap(), "to fetch");
    s.put_avatar(&a, b"png a").unwrap();
    assert!(!s.set_avatar_of(&group, Some(&a)).unwrap(), "here already");
    assert_eq!(s.avatar_of(&bob()).unwrap(), Some(a.clone()));
    assert_eq!(s.avatar(&a).unwrap().as_deref(), Some(&b"png a"[..]));
    let mut all = s.avatars().unwrap();
    all.sort_by_key(|(of, _)| of.kind());
    assert_eq!(all, [(group.clone(), a.clone()), (bob(), a.clone())]);

    // bob moves on; the group still shows the first picture, so it stays.
    assert!(s.set_avatar_of(&bob(), Some(&b)).unwrap());
    assert!(s.avatar(&a).unwrap().is_some());
    // The group clears its avatar: nobody shows the first picture any more.
    assert!(!s.set_avatar_of(&group, None).unwrap());
    assert_eq!(s.avatar_of(&group).unwrap(), None);
    assert_eq!(s.avatar(&a).unwrap(), None);
}
