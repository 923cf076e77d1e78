//! The storage conformance suite (issue 26): what every backend must do, written against the traits, so
//! that SQLite and the backends to come (PostgreSQL) run the very same cases.
//!
//! A backend's tests run all of it with one line, `conformance_tests!(fixture)`, which makes a `#[test]`
//! of each case; `fixture` is an expression making a [`Fixture`], evaluated afresh for each test. A new
//! case is a `pub(crate) fn` here taking `&dyn Fixture` and its name in the macro's list (a name left out
//! is unused code, which clippy refuses, so none is forgotten).
//!
//! `#[cfg(test)]` rather than behind a cargo feature: every backend lives in this crate, where a backend's
//! own `#[cfg(test)]` module sees the suite, and none of it is built into the server. Only a backend in
//! another crate would need a feature to reach it.
//!
//! What one backend alone has (SQLite's files, migrations, query plans, WAL, backups, or a failure made
//! by reaching into its database) stays in that backend's own tests.

use ququ_protocol::Role;

use super::*;

/// Where a test's stores come from: one database of its own, empty at first.
pub(crate) trait Fixture {
    /// A new handle on the fixture's database. Handles opened side by side, or one after another, see
    /// the same data: as the server and the operator's commands beside it do, or a server before and
    /// after a restart.
    fn open(&self) -> Box<dyn Store>;
}

/// `#[test]` fns running every case of the suite against the stores of `$fixture` (an expression making
/// a [`Fixture`], evaluated once per test).
macro_rules! conformance_tests {
    ($fixture:expr) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture;
            session_ends_are_taken_once_in_order,
            a_sync_page_is_the_first_messages_over_all_sources,
            account_names_are_unique_ignoring_case,
            a_resent_message_is_stored_once,
            a_batch_stores_each_message_once_in_order,
            ids_never_go_back_when_the_newest_messages_are_deleted,
            a_new_member_sees_only_later_group_messages,
            a_mute_comes_back_with_its_member_until_it_ends,
        );
    };
    (@cases $fixture:expr; $($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                $crate::storage::conformance::$case(&$fixture);
            }
        )*
    };
}
pub(crate) use conformance_tests;

/// Issue 20, item 2: requests to end sessions, written by one handle (the operator's command), are
/// taken once by another (the server), oldest first.
pub(crate) fn session_ends_are_taken_once_in_order(f: &dyn Fixture) {
    let server = f.open();
    let operator = f.open();
    assert!(server.take_session_ends().unwrap().is_empty());
    operator.end_sessions(3, "disabled", 10).unwrap();
    operator.end_sessions(4, "password_changed", 20).unwrap();
    let ends = server.take_session_ends().unwrap();
    assert_eq!(
        ends,
        [
            SessionEnd {
                user: 3,
                code: "disabled".into(),
                at: 10
            },
            SessionEnd {
                user: 4,
                code: "password_changed".into(),
                at: 20
            },
        ]
    );
    assert!(server.take_session_ends().unwrap().is_empty());
}

/// Sync pages are the first messages after the cursor over all sources, whichever source fills
/// the page first, and a member sees a group only from when they joined.
pub(crate) fn a_sync_page_is_the_first_messages_over_all_sources(f: &dyn Fixture) {
    let s = f.open();
    let a = s.create_user("alice", "A", "h", 1).unwrap().id;
    let b = s.create_user("bob", "B", "h", 1).unwrap().id;
    let g = s.create_group(a, "g", 1).unwrap().id;
    let text = |i: usize, sender, to| NewMessage {
        sender,
        to,
        client_id: format!("m{i}"),
        time: i as u64,
        body: Body::Text(format!("{i}")),
        hidden: false,
    };
    let mut batch = Vec::new();
    for i in 0..30 {
        batch.push(match i % 3 {
            0 => text(i, a, Target::User(b)),
            1 => text(i, b, Target::User(a)),
            _ => text(i, a, Target::Group(g)),
        });
    }
    for r in s.store_messages(&batch) {
        r.unwrap();
    }
    let ids = |user, after, limit| -> Vec<u64> {
        s.messages_after(user, after, limit)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect()
    };
    assert_eq!(ids(a, 0, 100), (1..=30).collect::<Vec<_>>());
    assert_eq!(ids(a, 0, 7), (1..=7).collect::<Vec<_>>());
    assert_eq!(ids(a, 7, 7), (8..=14).collect::<Vec<_>>());
    assert_eq!(ids(a, 28, 7), [29, 30]);
    // bob is not in the group: only the private messages.
    let bobs: Vec<u64> = (1..=30).filter(|i| i % 3 != 0).collect();
    assert_eq!(ids(b, 0, 100), bobs);
    assert_eq!(ids(b, 0, 4), bobs[..4]);
    // A member who joins later sees the group from then on.
    assert_eq!(s.add_member(g, b, Role::Member, 1).unwrap(), Some(0));
    let later = s.store_messages(&[text(30, a, Target::Group(g))]);
    let later = later[0].as_ref().unwrap().message.id;
    assert_eq!(*ids(b, 0, 100).last().unwrap(), later);
    assert_eq!(ids(b, 0, 100).len(), bobs.len() + 1);
}

pub(crate) fn account_names_are_unique_ignoring_case(f: &dyn Fixture) {
    let s = f.open();
    s.create_user("alice", "Alice", "h", 1).unwrap();
    assert!(matches!(
        s.create_user("ALICE", "x", "h", 2),
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        s.user_by_account("Alice").unwrap().unwrap().account,
        "alice"
    );
}

pub(crate) fn a_resent_message_is_stored_once(f: &dyn Fixture) {
    let s = f.open();
    let a = s.create_user("alice", "A", "h", 1).unwrap();
    let b = s.create_user("bob", "B", "h", 1).unwrap();
    let msg = NewMessage {
        sender: a.id,
        to: Target::User(b.id),
        client_id: "c1".into(),
        time: 5,
        body: Body::Text("hi".into()),
        hidden: false,
    };
    let first = s.store_message(&msg).unwrap();
    let again = s.store_message(&NewMessage { time: 9, ..msg }).unwrap();
    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert_eq!(first.message, again.message);
    assert_eq!(s.messages_after(b.id, 0, 10).unwrap().len(), 1);
}

pub(crate) fn a_batch_stores_each_message_once_in_order(f: &dyn Fixture) {
    let s = f.open();
    let a = s.create_user("alice", "A", "h", 1).unwrap().id;
    let b = s.create_user("bob", "B", "h", 1).unwrap().id;
    let msg = |cid: &str| NewMessage {
        sender: a,
        to: Target::User(b),
        client_id: cid.into(),
        time: 5,
        body: Body::Text(format!("text {cid}")),
        hidden: false,
    };
    s.store_message(&msg("x0")).unwrap();
    // One batch holding a resend of its own first message and of one stored before.
    let results: Vec<Stored> = s
        .store_messages(&[msg("x1"), msg("x2"), msg("x1"), msg("x0")])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        results.iter().map(|r| r.duplicate).collect::<Vec<_>>(),
        [false, false, true, true]
    );
    assert_eq!(results[0].message, results[2].message);
    assert_eq!(results[1].message.body, Body::Text("text x2".into()));
    assert!(results[0].message.id < results[1].message.id);
    assert_eq!(s.messages_after(b, 0, 10).unwrap().len(), 3);
}

/// Clients sync by "after the last id I have", so an id given out once is never given out again:
/// not when the newest messages go with their dissolved group, not after the server restarts.
pub(crate) fn ids_never_go_back_when_the_newest_messages_are_deleted(f: &dyn Fixture) {
    let s = f.open();
    let a = s.create_user("alice", "A", "h", 1).unwrap().id;
    let b = s.create_user("bob", "B", "h", 1).unwrap().id;
    let g = s.create_group(a, "g", 1).unwrap().id;
    let msg = |to, cid: &str| NewMessage {
        sender: a,
        to,
        client_id: cid.into(),
        time: 1,
        body: Body::Text(cid.into()),
        hidden: false,
    };
    let private = s.store_message(&msg(Target::User(b), "p1")).unwrap();
    let newest = s
        .store_messages(&[msg(Target::Group(g), "g1"), msg(Target::Group(g), "g2")])
        .pop()
        .unwrap()
        .unwrap();
    assert!(newest.message.id > private.message.id);
    s.delete_group(g).unwrap();
    // The server restarts.
    drop(s);
    let s = f.open();
    let one = s.store_message(&msg(Target::User(b), "p2")).unwrap();
    let batch = s.store_messages(&[msg(Target::User(b), "p3"), msg(Target::User(b), "p4")]);
    assert_eq!(one.message.id, newest.message.id + 1);
    let ids: Vec<u64> = batch.into_iter().map(|r| r.unwrap().message.id).collect();
    assert_eq!(ids, [newest.message.id + 2, newest.message.id + 3]);
    // Bob, whose cursor is at the deleted message, still gets everything sent since.
    let seen: Vec<_> = s
        .messages_after(b, newest.message.id, 10)
        .unwrap()
        .into_iter()
        .map(|m| m.client_id)
        .collect();
    assert_eq!(seen, ["p2", "p3", "p4"]);
}

pub(crate) fn a_new_member_sees_only_later_group_messages(f: &dyn Fixture) {
    let s = f.open();
    let a = s.create_user("alice", "A", "h", 1).unwrap();
    let b = s.create_user("bob", "B", "h", 1).unwrap();
    let g = s.create_group(a.id, "g", 1).unwrap();
    let send = |cid: &str| {
        s.store_message(&NewMessage {
            sender: a.id,
            to: Target::Group(g.id),
            client_id: cid.into(),
            time: 1,
            body: Body::Text(cid.into()),
            hidden: false,
        })
        .unwrap()
    };
    send("before");
    s.add_member(g.id, b.id, Role::Member, 1).unwrap();
    send("after");
    let seen: Vec<_> = s
        .messages_after(b.id, 0, 10)
        .unwrap()
        .into_iter()
        .map(|m| m.client_id)
        .collect();
    assert_eq!(seen, ["after"]);
    assert_eq!(
        s.history(b.id, Target::Group(g.id), 0, 10).unwrap().len(),
        1
    );
    assert_eq!(
        s.history(a.id, Target::Group(g.id), 0, 10).unwrap().len(),
        2
    );
}

/// A member who leaves (or is removed) while muted comes back muted until the same time; one whose mute
/// ended meanwhile, or was lifted, comes back unmuted. (SQLite's own test of the same case also checks
/// that it keeps no row for a mute that can no longer matter.)
pub(crate) fn a_mute_comes_back_with_its_member_until_it_ends(f: &dyn Fixture) {
    let s = f.open();
    let a = s.create_user("alice", "A", "h", 1).unwrap().id;
    let b = s.create_user("bob", "B", "h", 1).unwrap().id;
    let c = s.create_user("carol", "C", "h", 1).unwrap().id;
    let g = s.create_group(a, "g", 1).unwrap().id;
    assert_eq!(s.add_member(g, b, Role::Member, 10).unwrap(), Some(0));
    assert_eq!(s.add_member(g, b, Role::Member, 10).unwrap(), None);
    assert_eq!(s.add_member(g, c, Role::Member, 10).unwrap(), Some(0));
    assert!(s.set_muted(g, b, 1000).unwrap());
    assert!(s.set_muted(g, c, 50).unwrap());
    // Leaving at 20: bob's mute runs to 1000, carol's to 50.
    assert!(s.remove_member(g, b, 20).unwrap());
    assert!(s.remove_member(g, c, 20).unwrap());
    assert!(!s.remove_member(g, b, 20).unwrap());
    // bob comes back at 30 with his mute; carol at 60, after hers ended, without.
    assert_eq!(s.add_member(g, b, Role::Member, 30).unwrap(), Some(1000));
    let bob = |s: &dyn Store| s.members(g).unwrap().into_iter().find(|m| m.user.id == b);
    assert_eq!(bob(&*s).unwrap().muted_until, 1000);
    assert_eq!(s.silence(g).unwrap().muted_until(b, 30), Some(1000));
    assert_eq!(s.add_member(g, c, Role::Member, 60).unwrap(), Some(0));
    // A lifted mute does not come back.
    assert!(s.set_muted(g, b, 0).unwrap());
    assert!(s.remove_member(g, b, 40).unwrap());
    assert_eq!(s.add_member(g, b, Role::Member, 41).unwrap(), Some(0));
}
