//! The model without a window: events in, state and [`Change`]s out.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ququ_client::{Event, Message, MessageState};
use ququ_protocol::{Conv, ErrorCode, FileInfo, Presence};

use super::*;

fn model() -> Model {
    Model::new("me".into(), "Me".into())
}

fn friend(account: &str, presence: Presence) -> Friend {
    Friend {
        account: account.into(),
        nickname: String::new(),
        remark: String::new(),
        presence,
        profile: Default::default(),
        category: 0,
    }
}

/// A message as the client reports it: `local_id` doubles as the server id once stored.
pub(crate) fn message(local_id: i64, from: &str, conv: Conv, state: MessageState) -> Message {
    Message {
        local_id,
        conv,
        server_id: (state != MessageState::Pending).then_some(local_id as u64),
        client_id: format!("c{local_id}"),
        from: from.into(),
        time: 1_000 + local_id as u64,
        text: format!("text {local_id}"),
        file: None,
        state,
        error: None,
        quote: None,
        mentions: Default::default(),
        recalled_by: None,
        recall_of: None,
        group_event: None,
    }
}

fn line(id: Option<u64>, client_id: &str, delivery: Delivery) -> Line {
    Line {
        local_id: None,
        id,
        client_id: client_id.into(),
        from: "a".into(),
        time: 0,
        text: "x".into(),
        delivery,
        file: None,
        quote: None,
        mentions: Default::default(),
        recalled: None,
        change: None,
    }
}

#[test]
fn a_message_arrives_counted_unread_once() {
    let mut m = model();
    let ann = Conv::User("ann".into());
    let hello = message(7, "ann", ann.clone(), MessageState::Received);
    assert_eq!(
        m.apply(Event::Message(hello.clone())),
        Change::Incoming(ann.clone())
    );
    assert_eq!(m.unread(&ann), 1);
    assert_eq!(m.conversations[&ann].lines[0].text, "text 7");
    // The same message again (sync after a reconnect) is not a second unread one.
    assert_eq!(
        m.apply(Event::Message(hello)),
        Change::Conversation(ann.clone())
    );
    assert_eq!(m.unread(&ann), 1);
    assert_eq!(m.recent()[0].0, &ann, "the conversation is in Recent");
    assert!(m.read(&ann), "reading it is news for the server");
    assert!(!m.read(&ann), "reading it twice is not");
    // The server says another device of mine read it.
    m.apply(Event::Unread {
        conv: ann.clone(),
        unread: 3,
    });
    assert_eq!(m.total_unread(), 3);
    m.apply(Event::Unread {
        conv: ann.clone(),
        unread: 0,
    });
    assert_eq!(m.total_unread(), 0);
}

#[test]
fn an_ack_turns_my_pending_message_sent() {
    let mut m = model();
    let bo = Conv::User("bo".into());
    let mine = message(3, "me", bo.clone(), MessageState::Pending);
    assert_eq!(
        m.apply(Event::Message(mine.clone())),
        Change::Conversation(bo.clone()),
        "mine is never unread"
    );
    assert_eq!(m.conversations[&bo].lines[0].delivery, Delivery::Sending);
    let acked = Message {
        server_id: Some(90),
        time: 5_000,
        state: MessageState::Sent,
        ..mine
    };
    m.apply(Event::MessageState(acked));
    let lines = &m.conversations[&bo].lines;
    assert_eq!(lines.len(), 1, "the same bubble, not a second one");
    assert_eq!(
        (lines[0].delivery, lines[0].id, lines[0].time),
        (Delivery::Sent, Some(90), 5_000),
        "sent, with the server's id and time"
    );
    assert_eq!(m.total_unread(), 0);
}

#[test]
fn a_friend_goes_offline_in_the_list_and_in_groups() {
    let mut m = model();
    m.apply(Event::Friends(vec![
        friend("ann", Presence::Online),
        friend("bo", Presence::Online),
    ]));
    m.apply(Event::Members {
        group: 5,
        members: vec![Member {
            group: 5,
            account: "ann".into(),
            nickname: "Ann".into(),
            role: ququ_protocol::Role::Member,
            presence: Presence::Online,
            muted_until: 0,
            profile: Default::default(),
        }],
    });
    assert_eq!(
        m.apply(Event::Presence {
            account: "ann".into(),
            presence: Presence::Offline,
        }),
        Change::Nothing
    );
    assert_eq!(m.friends["ann"].presence, Presence::Offline);
    assert_eq!(m.members[&5][0].presence, Presence::Offline);
    let order: Vec<_> = m
        .sorted_friends()
        .iter()
        .map(|f| f.account.as_str())
        .collect();
    assert_eq!(order, ["bo", "ann"], "online first");
}

#[test]
fn a_files_state_follows_its_transfer() {
    let mut m = model();
    let cy = Conv::User("cy".into());
    let upload = Transfer {
        id: TransferId::Upload("up1".into()),
        conv: cy.clone(),
        file_id: None,
        name: "a.png".into(),
        size: 10,
        sha256: String::new(),
        path: PathBuf::from("/tmp/a.png"),
        bytes: 0,
        state: TransferState::Uploading,
    };
    assert_eq!(
        m.apply(Event::Transfer(upload.clone())),
        Change::Conversation(cy.clone())
    );
    let bubble = |m: &Model| {
        let line = &m.conversations[&cy].lines[0];
        let f = m.file(line).expect("a file bubble");
        (
            f.state.clone(),
            f.progress(),
            f.file_id,
            f.local.map(PathBuf::from),
        )
    };
    // Shown at once, while it goes up, with my copy for the thumbnail.
    assert_eq!(
        bubble(&m),
        (
            FileState::Uploading {
                done: 0,
                paused: false
            },
            Some(0.0),
            None,
            Some(PathBuf::from("/tmp/a.png"))
        )
    );
    m.apply(Event::TransferProgress {
        id: upload.id.clone(),
        bytes: 5,
        total: 10,
    });
    assert_eq!(bubble(&m).1, Some(0.5), "progress moves the bar");
    m.apply(Event::Transfer(Transfer {
        file_id: Some(9),
        bytes: 10,
        state: TransferState::Done,
        ..upload
    }));
    // The server's stored offer is the same bubble.
    let mut offer = message(4, "me", cy.clone(), MessageState::Sent);
    offer.client_id = "up1".into();
    offer.file = Some(FileInfo {
        file_id: 9,
        size: 10,
        sha256: String::new(),
        name: "a.png".into(),
    });
    m.apply(Event::Message(offer));
    assert_eq!(m.conversations[&cy].lines.len(), 1);
    assert_eq!(
        bubble(&m),
        (
            FileState::Sent,
            None,
            Some(9),
            Some(PathBuf::from("/tmp/a.png"))
        )
    );

    // Theirs: offered until I download it; the path counts only once the download is whole.
    let mut theirs = message(5, "cy", cy.clone(), MessageState::Received);
    theirs.file = Some(FileInfo {
        file_id: 11,
        size: 4,
        sha256: String::new(),
        name: "b.txt".into(),
    });
    m.apply(Event::Message(theirs));
    let state = |m: &Model| {
        let line = &m.conversations[&cy].lines[1];
        let f = m.file(line).expect("a file bubble");
        (f.state.clone(), f.local.map(PathBuf::from), f.key.clone())
    };
    assert_eq!(
        state(&m),
        (FileState::Offered, None, Some(TransferId::Download(11)))
    );
    let download = Transfer {
        id: TransferId::Download(11),
        conv: cy.clone(),
        file_id: Some(11),
        name: "b.txt".into(),
        size: 4,
        sha256: String::new(),
        path: PathBuf::from("/dl/b.txt"),
        bytes: 2,
        state: TransferState::Paused,
    };
    m.apply(Event::Transfer(download.clone()));
    assert_eq!(
        state(&m).0,
        FileState::Downloading {
            done: 2,
            paused: true
        }
    );
    assert_eq!(state(&m).1, None, "a .part file is not opened");
    m.apply(Event::Transfer(Transfer {
        state: TransferState::Done,
        bytes: 4,
        ..download
    }));
    assert_eq!(
        state(&m),
        (
            FileState::Saved,
            Some(PathBuf::from("/dl/b.txt")),
            Some(TransferId::Download(11))
        )
    );
}

#[test]
fn history_pages_fill_the_conversation_from_the_top() {
    let mut m = model();
    let g = Conv::Group(3);
    // Opening the chat asks the local store for the newest page.
    assert_eq!(m.start_page(&g), Some(None));
    assert_eq!(m.start_page(&g), None, "not twice while one is on its way");
    let page: Vec<Message> = (11..=40)
        .map(|i| message(i, "ann", g.clone(), MessageState::Received))
        .collect();
    assert_eq!(
        m.local_page(&g, page, true),
        None,
        "a full page: more may be local"
    );
    assert_eq!(m.conversations[&g].paging, Paging::More);
    assert_eq!(
        m.start_page(&g),
        Some(Some(11)),
        "older than the oldest shown"
    );
    // Local history runs out: the server is asked, below the oldest server id.
    let short: Vec<Message> = (5..=10)
        .map(|i| message(i, "ann", g.clone(), MessageState::Received))
        .collect();
    assert_eq!(m.local_page(&g, short, true), Some(5));
    assert_eq!(m.conversations[&g].paging, Paging::Loading);
    let older: Vec<Message> = (1..=4)
        .map(|i| message(i, "bo", g.clone(), MessageState::Received))
        .collect();
    assert_eq!(
        m.apply(Event::History {
            conv: g.clone(),
            messages: older,
            more: false,
        }),
        Change::Conversation(g.clone())
    );
    let c = &m.conversations[&g];
    let ids: Vec<_> = c.lines.iter().filter_map(|l| l.id).collect();
    assert_eq!(ids, (1..=40).collect::<Vec<_>>(), "in order, no gaps");
    assert_eq!(c.paging, Paging::Complete);
    assert_eq!(m.start_page(&g), None, "the beginning is shown");
    assert_eq!(m.total_unread(), 0, "history is not news");

    // After a restart the Recent list has each conversation's last message; the chat's first page is
    // still the newest, not the page before that message.
    let r = Conv::User("cy".into());
    m.restore_recent(vec![ququ_client::Conversation {
        conv: r.clone(),
        title: "cy".into(),
        unread: 2,
        last_message: Some(message(60, "cy", r.clone(), MessageState::Received)),
    }]);
    assert_eq!(m.recent()[0].1.text, "text 60");
    assert_eq!(m.unread(&r), 2);
    assert_eq!(m.start_page(&r), Some(None));

    // Offline, a short local page offers "Load earlier" again for later.
    let h = Conv::User("ann".into());
    m.start_page(&h);
    assert_eq!(m.local_page(&h, Vec::new(), false), None);
    assert_eq!(m.conversations[&h].paging, Paging::More);
}

#[test]
fn answered_requests_empty_the_dialog_and_refusals_are_told() {
    let mut m = model();
    m.apply(Event::FriendRequest(FriendRequest {
        from: "ann".into(),
        nickname: "Ann".into(),
        note: String::new(),
        time: 0,
    }));
    assert!(m.has_requests());
    assert_eq!(
        m.apply(Event::FriendChanged(friend("ann", Presence::Online))),
        Change::RequestsEmptied
    );
    assert_eq!(
        m.apply(Event::Error {
            code: ErrorCode::NoSuchUser,
            text: String::new(),
            about: Some("zed".into()),
        }),
        Change::Refused {
            code: ErrorCode::NoSuchUser,
            about: Some("zed".into())
        }
    );
    assert_eq!(
        m.found,
        Some(Vec::new()),
        "no such user shows as no results"
    );
    assert_eq!(
        m.apply(Event::GroupChanged(Group {
            id: 8,
            name: "g".into(),
            owner: "me".into(),
            members: 1,
        })),
        Change::GroupChanged(8)
    );
    assert_eq!(
        m.apply(Event::GroupGone {
            group: 8,
            reason: ququ_protocol::GoneReason::Left,
        }),
        Change::Nothing
    );
    assert!(m.groups.is_empty());
}

#[test]
fn my_requests_wait_until_answered_and_a_refusal_until_dismissed() {
    let mut s = model();
    s.found = Some(vec![FoundUser {
        account: "ann".into(),
        nickname: "Ann".into(),
        presence: Presence::Online,
    }]);
    s.request_sent("ann".into());
    s.request_sent("bo".into());
    assert_eq!(s.sent["ann"].nickname, "Ann", "the name the search showed");
    assert!(s.has_requests());
    assert_eq!(s.requests_needing_me(), 0, "waiting needs nothing from me");
    s.dismiss_declined("ann");
    assert!(
        s.sent.contains_key("ann"),
        "a waiting request cannot be dismissed"
    );
    s.request_declined("ann".into());
    assert_eq!(s.requests_needing_me(), 1);
    s.dismiss_declined("ann");
    assert!(!s.sent.contains_key("ann"));
    // A friend already is not asked again.
    s.friends
        .insert("cy".into(), friend("cy", Presence::Offline));
    s.request_sent("cy".into());
    assert!(!s.sent.contains_key("cy"));

    // The server's list replaces the waiting ones; a refusal not yet dismissed stays.
    s.request_declined("di".into());
    s.sent_listed([("ed".to_owned(), "Ed".to_owned())]);
    let left: Vec<_> = s.sent.iter().map(|(a, r)| (a.as_str(), r.state)).collect();
    assert_eq!(left, [("di", Sent::Declined), ("ed", Sent::Waiting)]);
}

#[test]
fn pinned_chats_lead_recent_and_muted_ones_still_count() {
    let mut m = model();
    let (ann, bo, g) = (
        Conv::User("ann".into()),
        Conv::User("bo".into()),
        Conv::Group(1),
    );
    for (id, conv) in [(1, &ann), (2, &bo), (3, &g)] {
        m.apply(Event::Message(message(
            id,
            "x",
            conv.clone(),
            MessageState::Received,
        )));
    }
    let order =
        |m: &Model| -> Vec<Conv> { m.recent().into_iter().map(|(c, _)| c.clone()).collect() };
    assert_eq!(
        order(&m),
        [g.clone(), bo.clone(), ann.clone()],
        "newest first"
    );
    m.set_pinned(&ann, true);
    m.set_pinned(&bo, true);
    assert_eq!(
        order(&m),
        [bo.clone(), ann.clone(), g.clone()],
        "the latest pinned on top"
    );
    m.set_pinned(&bo, false);
    assert_eq!(order(&m), [ann.clone(), g.clone(), bo.clone()]);
    m.set_muted(&g, true);
    m.apply(Event::Message(message(
        4,
        "x",
        g.clone(),
        MessageState::Received,
    )));
    assert_eq!(m.unread(&g), 2, "muted, still counted");
    assert!(m.is_muted(&g) && !m.is_muted(&ann));
}

#[test]
fn human_sizes() {
    assert_eq!(human_size(0), "0 B");
    assert_eq!(human_size(1023), "1023 B");
    assert_eq!(human_size(1024), "1.0 KB");
    assert_eq!(human_size(1_258_291), "1.2 MB");
    assert_eq!(human_size(15 * 1024 * 1024), "15 MB");
    assert_eq!(human_size(1024 * 1024 - 1), "1.0 MB");
    assert_eq!(human_size(3 << 30), "3.0 GB");
}

#[test]
fn upsert_dedups_and_orders() {
    let mut c = Conversation::default();
    assert!(c.upsert(line(None, "c1", Delivery::Sending)));
    c.upsert(line(Some(5), "c0", Delivery::Sent));
    c.upsert(line(Some(3), "", Delivery::Sent));
    assert!(!c.upsert(line(Some(7), "c1", Delivery::Sent)));
    c.upsert(line(Some(5), "c0", Delivery::Sent));
    let ids: Vec<_> = c.lines.iter().map(|l| l.id).collect();
    assert_eq!(ids, vec![Some(3), Some(5), Some(7)]);
    assert_eq!(c.lines[2].delivery, Delivery::Sent);
}

#[test]
fn times() {
    let day = 86_400_000;
    assert_eq!(
        format_time(day + 3_600_000 + 60_000, day + 5_000_000, 0),
        "01:01"
    );
    assert_eq!(format_time(0, day * 3, 0), "01-01 00:00");
    assert_eq!(format_time(0, 0, 480), "08:00");
}

#[test]
fn countdown_rounds_up() {
    let now = Instant::now();
    let c = Connection::Reconnecting {
        at: now + Duration::from_millis(2100),
    };
    assert_eq!(c.seconds_left(now), Some(3));
}

#[test]
fn pictures_to_fetch_are_offers_and_mine_from_another_device() {
    let mut m = model();
    let cy = Conv::User("cy".into());
    let picture = |file_id, name: &str| {
        Some(FileInfo {
            file_id,
            size: 100,
            sha256: String::new(),
            name: name.into(),
        })
    };
    let mut theirs = message(1, "cy", cy.clone(), MessageState::Received);
    theirs.file = picture(21, "a.jpg");
    let mut text_file = message(2, "cy", cy.clone(), MessageState::Received);
    text_file.file = picture(22, "a.txt");
    // Mine, sent from my phone: no upload of it on this device.
    let mut elsewhere = message(3, "me", cy.clone(), MessageState::Sent);
    elsewhere.file = picture(23, "b.png");
    for message in [theirs, text_file, elsewhere] {
        m.apply(Event::Message(message));
    }
    let fetch = |m: &Model| -> Vec<u64> {
        m.conversations[&cy]
            .lines
            .iter()
            .filter_map(|l| m.picture_to_fetch(l))
            .collect()
    };
    assert_eq!(fetch(&m), [21, 23], "pictures only");

    // Once downloaded, mine from elsewhere shows from its download, like theirs.
    for file_id in [21, 23] {
        m.apply(Event::Transfer(Transfer {
            id: TransferId::Download(file_id),
            conv: cy.clone(),
            file_id: Some(file_id),
            name: "p".into(),
            size: 100,
            sha256: String::new(),
            path: PathBuf::from(format!("/pictures/{file_id}.png")),
            bytes: 100,
            state: TransferState::Done,
        }));
    }
    assert!(fetch(&m).is_empty(), "nothing is fetched twice");
    let mine = &m.conversations[&cy].lines[2];
    let shown = m.file(mine).expect("a file bubble");
    assert_eq!(shown.state, FileState::Saved);
    assert_eq!(shown.local, Some(std::path::Path::new("/pictures/23.png")));
}

/// Issue 24: "typing…" shows for a few seconds after a friend's sign of typing and goes by itself; the
/// Recall item says why it is greyed, and a group's owner may recall anyone's message at any time.
#[test]
fn typing_fades_and_recall_is_allowed_or_says_why() {
    let mut m = model();
    m.features = ququ_protocol::Features::ALL;
    let now = super::now_millis();
    assert!(!m.is_typing("ann", now));
    m.apply(Event::Typing { from: "ann".into() });
    assert!(m.is_typing("ann", now));
    assert!(!m.is_typing("ann", now + super::TYPING_SHOWN_MS + 1));

    let ann = Conv::User("ann".into());
    let sent = |from: &str, age_ms: u64| Line {
        from: from.into(),
        time: now - age_ms,
        ..line(Some(5), "c5", Delivery::Sent)
    };
    let me = m.account.clone();
    assert_eq!(m.may_recall(&ann, &sent(&me, 1_000), now), Ok(()));
    assert_eq!(
        m.may_recall(&ann, &sent(&me, 121_000), now),
        Err(super::RecallBar::TooLate(120))
    );
    assert_eq!(
        m.may_recall(&ann, &sent("ann", 1_000), now),
        Err(super::RecallBar::NotMine)
    );
    let pending = Line {
        id: None,
        ..sent(&me, 0)
    };
    assert_eq!(
        m.may_recall(&ann, &pending, now),
        Err(super::RecallBar::NotSent)
    );
    let mine = Conv::Group(9);
    m.groups.insert(
        9,
        ququ_client::Group {
            id: 9,
            name: "g".into(),
            owner: me.clone(),
            members: 2,
        },
    );
    assert_eq!(m.may_recall(&mine, &sent("ann", 3_600_000), now), Ok(()));
    m.features = ququ_protocol::Features::default();
    assert_eq!(
        m.may_recall(&ann, &sent(&me, 1_000), now),
        Err(super::RecallBar::ServerCannot)
    );
}

/// Issue 25: roles, mutes, the announcement and join requests are kept as the server tells them; a
/// join request is news once, and goes when answered; my own request's answer reaches the dialog.
#[test]
fn group_management_is_kept_as_told() {
    let mut m = model();
    m.apply(Event::Members {
        group: 5,
        members: vec![Member {
            group: 5,
            account: "ann".into(),
            nickname: "Ann".into(),
            role: ququ_protocol::Role::Member,
            presence: Presence::Online,
            muted_until: 0,
            profile: Default::default(),
        }],
    });
    m.apply(Event::MemberRole {
        group: 5,
        account: "ann".into(),
        role: ququ_protocol::Role::Admin,
    });
    assert_eq!(m.members[&5][0].role, ququ_protocol::Role::Admin);
    m.apply(Event::MemberMuted {
        group: 5,
        account: "ann".into(),
        until: 9_000,
    });
    assert_eq!(m.members[&5][0].muted_until, 9_000);
    m.apply(Event::GroupMutedAll { group: 5, on: true });
    assert!(m.muted_groups.contains(&5));
    m.apply(Event::GroupMutedAll {
        group: 5,
        on: false,
    });
    assert!(m.muted_groups.is_empty());
    m.apply(Event::GroupNotice {
        group: 5,
        by: "ann".into(),
        time: 7,
        text: "周六三点".into(),
    });
    assert_eq!(m.notices[&5].text, "周六三点");

    let asks = || Event::JoinRequest {
        group: 5,
        account: "cy".into(),
        nickname: "Cy".into(),
        time: 8,
    };
    assert_eq!(m.apply(asks()), Change::JoinRequest(5));
    assert_eq!(m.apply(asks()), Change::Nothing, "told twice, news once");
    assert_eq!(m.join_requests.len(), 1);
    m.apply(Event::JoinRequestClosed {
        group: 5,
        account: "cy".into(),
    });
    assert!(m.join_requests.is_empty());
    assert_eq!(
        m.apply(Event::JoinRequestSent { group: 6 }),
        Change::JoinAsked(6)
    );
    assert_eq!(
        m.apply(Event::JoinRequestDeclined { group: 6 }),
        Change::JoinDeclined(6)
    );
}

/// What a member's menu offers follows the server's rules: the owner manages anyone but themself, an
/// admin plain members only, a plain member no one; mutes only on plain members. A mute or "everyone
/// muted" silences me only while it lasts and never the owner or an admin.
#[test]
fn member_menus_and_mutes_follow_the_roles() {
    use super::{MemberAction as A, Silenced};
    use ququ_protocol::Role;
    let member = |account: &str, role: Role, muted_until: u64| Member {
        group: 5,
        account: account.into(),
        nickname: String::new(),
        role,
        presence: Presence::Online,
        muted_until,
        profile: Default::default(),
    };
    let mut m = model();
    m.features.group_mute = true;
    m.friends
        .insert("bob".into(), friend("bob", Presence::Online));
    m.apply(Event::Members {
        group: 5,
        members: vec![
            member("me", Role::Owner, 0),
            member("adm", Role::Admin, 0),
            member("bob", Role::Member, 9_000),
        ],
    });
    let now = 1_000;
    assert_eq!(
        m.member_actions(5, "bob", now),
        [
            A::Chat,
            A::Mention,
            A::Admin(true),
            A::Unmute,
            A::Mute,
            A::Transfer,
            A::Kick
        ]
    );
    assert_eq!(
        m.member_actions(5, "adm", now),
        [A::Mention, A::Admin(false), A::Transfer, A::Kick],
        "an admin is not muted, but may be unmade or removed by the owner"
    );
    assert!(
        m.member_actions(5, "me", now).is_empty(),
        "no menu on myself"
    );
    assert_eq!(m.silenced(5, now), None, "the owner always speaks");

    // The same group seen by the admin, then by bob.
    m.account = "adm".into();
    assert_eq!(
        m.member_actions(5, "bob", now),
        [A::Chat, A::Mention, A::Unmute, A::Mute, A::Kick]
    );
    assert_eq!(
        m.member_actions(5, "me", now),
        [A::Mention],
        "not the owner"
    );
    m.account = "bob".into();
    assert_eq!(m.member_actions(5, "adm", now), [A::Mention]);
    assert_eq!(m.silenced(5, now), Some(Silenced::Until(9_000)));
    assert_eq!(m.silenced(5, 9_000), None, "over when it says");
    m.apply(Event::GroupMutedAll { group: 5, on: true });
    assert_eq!(m.silenced(5, 9_000), Some(Silenced::All));
    m.account = "adm".into();
    assert_eq!(
        m.silenced(5, 9_000),
        None,
        "admins speak when all are muted"
    );
}

/// An admin recalls a plain member's message at any time, but not the owner's; join requests count
/// among the requests that need me.
#[test]
fn admins_recall_members_messages_and_join_requests_count() {
    use ququ_protocol::Role;
    let mut m = model();
    m.features.recalled = true;
    m.account = "adm".into();
    m.apply(Event::Members {
        group: 5,
        members: ["own", "adm", "bob"]
            .into_iter()
            .zip([Role::Owner, Role::Admin, Role::Member])
            .map(|(account, role)| Member {
                group: 5,
                account: account.into(),
                nickname: String::new(),
                role,
                presence: Presence::Online,
                muted_until: 0,
                profile: Default::default(),
            })
            .collect(),
    });
    let conv = Conv::Group(5);
    let mut old = line(Some(3), "c3", Delivery::Sent);
    old.from = "bob".into();
    old.time = 0;
    let far_later = 3_600_000;
    assert_eq!(m.may_recall(&conv, &old, far_later), Ok(()));
    old.from = "own".into();
    assert_eq!(
        m.may_recall(&conv, &old, far_later),
        Err(RecallBar::NotMine)
    );

    assert_eq!(m.requests_needing_me(), 0);
    m.apply(Event::JoinRequest {
        group: 5,
        account: "cy".into(),
        nickname: "Cy".into(),
        time: 8,
    });
    assert_eq!(m.requests_needing_me(), 1);
    assert!(m.has_requests());
    assert_eq!(
        m.apply(Event::JoinRequestClosed {
            group: 5,
            account: "cy".into(),
        }),
        Change::RequestsEmptied,
        "the requests dialog closes when nothing is left"
    );
}

/// A change to a group is a line of its chat in words, with the names as I see them (a remark first),
/// and never counts unread; Recent previews it in words too.
#[test]
fn group_changes_are_grey_lines_in_words_and_never_unread() {
    use ququ_client::{GroupEvent, GroupEventKind};
    use ququ_protocol::Role;
    let mut m = model();
    let mut bob = friend("bob", Presence::Online);
    bob.remark = "老鲍".into();
    m.friends.insert("bob".into(), bob);
    m.apply(Event::Members {
        group: 5,
        members: vec![Member {
            group: 5,
            account: "ann".into(),
            nickname: "Ann".into(),
            role: Role::Owner,
            presence: Presence::Online,
            muted_until: 0,
            profile: Default::default(),
        }],
    });
    let conv = Conv::Group(5);
    let change = |n: i64, kind, account: &str, value: &str| {
        let event = GroupEvent {
            id: n as u64,
            group: 5,
            by: "ann".into(),
            time: 1_000,
            kind,
            account: account.into(),
            value: value.into(),
        };
        let mut message = message(n, "ann", conv.clone(), MessageState::Received);
        message.text = String::new();
        message.group_event = Some(event.clone());
        Event::GroupChange { event, message }
    };
    assert_eq!(
        m.apply(change(1, GroupEventKind::Invite, "bob", "")),
        Change::Conversation(conv.clone())
    );
    assert_eq!(m.unread(&conv), 0, "a change is not a message to read");
    let (_, last) = m
        .recent()
        .into_iter()
        .find(|(c, _)| **c == conv)
        .expect("in Recent");
    assert_eq!(
        m.preview(&conv, last, crate::i18n::Lang::Zh),
        "Ann 邀请 老鲍 加入了群聊"
    );
    m.apply(change(2, GroupEventKind::Rename, "", "读书会"));
    m.apply(change(3, GroupEventKind::Mute, "bob", "0"));
    let words: Vec<String> = m.conversations[&conv]
        .lines
        .iter()
        .map(|l| m.preview(&conv, l, crate::i18n::Lang::En))
        .collect();
    assert_eq!(
        words,
        [
            "Ann invited 老鲍 to the group",
            "Ann renamed the group to \u{201c}读书会\u{201d}",
            "Ann unmuted 老鲍"
        ]
    );
    // Me as "you", as QQ writes it.
    let me = m.account.clone();
    m.apply(change(4, GroupEventKind::Invite, &me, ""));
    m.apply(change(5, GroupEventKind::Leave, &me, ""));
    let lines = &m.conversations[&conv].lines;
    let words = |lang| -> Vec<String> {
        lines[3..]
            .iter()
            .map(|l| m.preview(&conv, l, lang))
            .collect()
    };
    assert_eq!(
        words(crate::i18n::Lang::Zh),
        ["Ann 邀请 你 加入了群聊", "你 退出了群聊"]
    );
    assert_eq!(
        words(crate::i18n::Lang::En),
        ["Ann invited you to the group", "You left the group"]
    );
}

/// Friend groups (好友分组): the default group first, then mine in order with their friends online
/// first; a move, a rename and a deletion as the server tells them; a fold kept until its group goes.
#[test]
fn friends_are_shown_by_friend_group() {
    use ququ_client::Category;
    let mut m = model();
    let cat = |id, name: &str| Category {
        id,
        name: name.into(),
    };
    m.apply(Event::Categories(vec![cat(5, "同事"), cat(2, "家人")]));
    let in_group = |account: &str, presence, category| Friend {
        category,
        ..friend(account, presence)
    };
    m.apply(Event::Friends(vec![
        in_group("ann", Presence::Offline, 5),
        in_group("bob", Presence::Online, 5),
        in_group("cat", Presence::Online, 0),
        // A group this device does not know yet: shown in the default one.
        in_group("dan", Presence::Offline, 9),
    ]));
    let shown = |m: &Model| {
        m.friend_sections()
            .iter()
            .map(|s| {
                let names: Vec<&str> = s.friends.iter().map(|f| f.account.as_str()).collect();
                (
                    s.id,
                    s.name.map(str::to_owned),
                    names.join(","),
                    s.online,
                    s.collapsed,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        shown(&m),
        [
            (0, None, "cat,dan".into(), 1, false),
            (5, Some("同事".into()), "bob,ann".into(), 1, false),
            (2, Some("家人".into()), String::new(), 0, false),
        ]
    );
    m.apply(Event::FriendChanged(in_group("cat", Presence::Online, 2)));
    m.apply(Event::CategoryChanged(cat(5, "老同事")));
    m.apply(Event::CategoryChanged(cat(7, "同学")));
    m.set_collapsed(5, true);
    assert_eq!(
        shown(&m),
        [
            (0, None, "dan".into(), 0, false),
            (5, Some("老同事".into()), "bob,ann".into(), 1, true),
            (2, Some("家人".into()), "cat".into(), 1, false),
            (7, Some("同学".into()), String::new(), 0, false),
        ]
    );
    assert_eq!(m.category_name(5, "My friends"), "老同事");
    assert_eq!(m.category_moved(7, true), Some(vec![5, 7, 2]));
    assert_eq!(m.category_moved(7, false), None, "last already");
    assert_eq!(m.category_moved(5, true), None, "first already");
    assert_eq!(
        m.category_moved(0, true),
        None,
        "the default group stays first"
    );
    m.apply(Event::CategoryOrder(vec![7, 2, 5]));
    let order: Vec<u64> = m.categories.iter().map(|c| c.id).collect();
    assert_eq!(order, [7, 2, 5]);
    m.apply(Event::CategoryOrder(vec![5, 2, 7]));
    assert_eq!(m.category_name(0, "My friends"), "My friends");
    m.apply(Event::CategoryGone { category: 5 });
    assert_eq!(
        shown(&m),
        [
            (0, None, "bob,ann,dan".into(), 1, false),
            (2, Some("家人".into()), "cat".into(), 1, false),
            (7, Some("同学".into()), String::new(), 0, false),
        ]
    );
    assert!(m.collapsed.is_empty(), "the fold went with its group");
}

/// Messages `ids` of `conv` from ann, as the local store reads them.
fn stored(conv: &Conv, ids: std::ops::RangeInclusive<i64>) -> Vec<Message> {
    ids.map(|i| message(i, "ann", conv.clone(), MessageState::Received))
        .collect()
}

/// A chat of 100,000 messages showing its newest page jumps to message 10: the window around it
/// replaces the lines (61 of them, not the 99,990 back to it), a live message waits beyond the window
/// rather than after a hole while Recent and the unread count show it, paging down reaches the newest
/// and takes it in, and Back to newest reads the newest page again.
#[test]
fn a_jump_far_back_shows_a_window_and_live_messages_wait_beyond_it() {
    let mut m = model();
    let ann = Conv::User("ann".into());
    assert_eq!(m.start_page(&ann), Some(None));
    m.local_page(&ann, stored(&ann, 99_971..=100_000), true);
    assert!(!m.conversations[&ann].detached());

    assert!(m.start_window(&ann));
    assert!(!m.start_window(&ann), "not twice while one is on its way");
    assert_eq!(m.start_page(&ann), None, "nor a page back meanwhile");
    // What the store reads around message 10: the 9 before it (the beginning) and 30 after.
    assert!(m.window_page(&ann, 10, stored(&ann, 1..=40)));
    let c = &m.conversations[&ann];
    assert!(c.lines.len() <= 2 * AROUND as usize + 1);
    assert_eq!(c.lines.len(), 40);
    assert!(c.lines.iter().any(|l| l.id == Some(10)));
    assert_eq!(c.newer, Newer::More, "newer ones exist after the last line");
    assert_eq!(c.paging, Paging::More);
    assert_eq!(
        m.recent()[0].1.text,
        "text 100000",
        "Recent keeps the newest"
    );

    // A message comes while the window shows old ones: not after the last line, but counted and in
    // Recent.
    let live = message(100_001, "ann", ann.clone(), MessageState::Received);
    assert_eq!(m.apply(Event::Message(live)), Change::Incoming(ann.clone()));
    let c = &m.conversations[&ann];
    assert_eq!(c.lines.last().and_then(|l| l.id), Some(40));
    assert!(!c.lines.iter().any(|l| l.id == Some(100_001)));
    assert_eq!(m.recent()[0].1.text, "text 100001");
    assert_eq!(m.unread(&ann), 1);
    // A page back from the window goes above it, in place.
    assert_eq!(m.start_page(&ann), Some(Some(1)));
    m.local_page(&ann, Vec::new(), false);

    // Scrolled down: the page after the last line; a short one reached the newest and takes in what
    // waited beyond.
    assert_eq!(m.start_newer(&ann), Some(40));
    assert_eq!(m.start_newer(&ann), None, "not twice");
    m.newer_page(&ann, Some(stored(&ann, 41..=70)));
    assert_eq!(m.conversations[&ann].newer, Newer::More);
    assert_eq!(m.start_newer(&ann), Some(70));
    m.newer_page(&ann, None);
    assert_eq!(
        m.conversations[&ann].newer,
        Newer::More,
        "a failed read: again"
    );
    assert_eq!(m.start_newer(&ann), Some(70));
    m.newer_page(&ann, Some(stored(&ann, 71..=80)));
    let c = &m.conversations[&ann];
    assert!(!c.detached(), "the newest is shown");
    assert!(c.beyond.is_empty());
    let ids: Vec<_> = c.lines.iter().filter_map(|l| l.id).collect();
    assert_eq!(ids[..80], (1..=80).collect::<Vec<_>>()[..]);
    assert_eq!(m.start_newer(&ann), None);

    // Jumped again, then back to the newest: the window goes, the newest page is read as on opening.
    assert!(m.start_window(&ann));
    assert!(m.window_page(&ann, 500, stored(&ann, 470..=530)));
    assert_eq!(m.conversations[&ann].lines.len(), 61);
    assert!(m.back_to_newest(&ann));
    assert!(!m.back_to_newest(&ann), "once");
    let c = &m.conversations[&ann];
    assert!(!c.detached());
    assert_eq!(c.lines.last().and_then(|l| l.id), Some(100_001));
    assert_eq!(m.start_page(&ann), Some(None), "the newest page");
    m.local_page(&ann, stored(&ann, 99_972..=100_001), true);
    let c = &m.conversations[&ann];
    assert_eq!(c.lines.len(), 30);
    assert_eq!(c.lines.last().and_then(|l| l.id), Some(100_001));
}

/// A message not stored on this device has no window: the lines stay and the jump pages back for it;
/// a window that reaches the newest message is the chat as usual; a message deleted from this device
/// while beyond the window leaves Recent too.
#[test]
fn a_window_not_stored_or_reaching_the_newest() {
    let mut m = model();
    let ann = Conv::User("ann".into());
    m.start_page(&ann);
    m.local_page(&ann, stored(&ann, 71..=100), true);
    assert!(m.start_window(&ann));
    assert!(!m.window_page(&ann, 5, Vec::new()));
    let c = &m.conversations[&ann];
    assert_eq!(c.lines.len(), 30, "untouched");
    assert_eq!(c.paging, Paging::More, "free to page back");
    assert!(!c.detached());

    assert!(m.start_window(&ann));
    assert!(m.window_page(&ann, 80, stored(&ann, 50..=100)));
    let c = &m.conversations[&ann];
    assert!(!c.detached(), "fewer than 30 after it: the newest is shown");
    assert_eq!(c.lines.len(), 51);

    assert!(m.start_window(&ann));
    assert!(m.window_page(&ann, 20, stored(&ann, 1..=50)));
    m.apply(Event::Message(message(
        101,
        "ann",
        ann.clone(),
        MessageState::Received,
    )));
    assert_eq!(m.recent()[0].1.text, "text 101");
    m.forget_line(&ann, 101);
    assert_eq!(m.recent()[0].1.text, "text 100");
}
