//! The storage conformance suite (issue 26): what every backend must do, written against the traits, so
//! that SQLite and the backends to come (PostgreSQL) run the very same cases.
//!
//! # Layout
//! The cases are grouped by area, one module each, named as the macro's areas are: `accounts`,
//! `messages`, `group_messages`, `friends`, `groups`, `files`, `avatars`, `nodes`, `upkeep`. A case is a
//! `pub(crate) fn` generic over the [`Fixture`], bounded by the traits it needs (accounts are in nearly
//! all: there is nothing to store without users); a case that needs two areas besides accounts sits in an
//! area of its own (`group_messages`), so a backend lists an area as soon as every trait it needs is
//! done, and no sooner.
//!
//! A backend's tests run the areas it implements with one line,
//! `conformance_tests!(fixture; accounts, messages, ...)`, which makes a module per area with a `#[test]`
//! of each of its cases; `fixture` is an expression making a [`Fixture`], evaluated afresh for each test
//! inside the area's module, which sees the calling module's names (so name things as the caller does,
//! not through `super::`). A new case is a `pub(crate) fn` in its area's module here and its name in
//! that area's list in the macro (a name left out is unused code, which clippy refuses, so none is
//! forgotten). SQLite lists every area; a backend under way lists those it has done, and the compiler
//! checks that its handle implements what they need.
//!
//! `#[cfg(test)]` rather than behind a cargo feature: every backend lives in this crate, where a backend's
//! own `#[cfg(test)]` module sees the suite, and none of it is built into the server. Only a backend in
//! another crate would need a feature to reach it.
//!
//! What one backend alone has (SQLite's files, migrations, query plans, WAL, backups, or a failure made
//! by reaching into its database) stays in that backend's own tests.

/// Where a test's stores come from: one database of its own, empty at first.
pub(crate) trait Fixture {
    /// The store type a handle is: the cases call the area traits on it, each bounding it by those it
    /// needs, so a backend that has only some areas runs the cases of those.
    type Handle;
    /// A new handle on the fixture's database. Handles opened side by side, or one after another, see
    /// the same data: as the server and the operator's commands beside it do, or a server before and
    /// after a restart.
    fn open(&self) -> Self::Handle;
    /// A handle serving as the node `name`, started now, as a serving server's store is: it keeps its
    /// own connection rows and takes session ends from its start. A backend with a single node (SQLite)
    /// hands out a plain handle.
    fn node(&self, name: &str) -> Self::Handle;
}

/// A module per listed area with a `#[test]` fn for each of its cases, run against the stores of
/// `$fixture` (an expression making a [`Fixture`], evaluated once per test).
macro_rules! conformance_tests {
    ($fixture:expr; $($area:ident),+ $(,)?) => {
        $( $crate::storage::conformance::conformance_tests!(@area $fixture; $area); )+
    };
    (@area $fixture:expr; accounts) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; accounts;
            session_ends_are_taken_once_in_order,
            account_names_are_unique_ignoring_case,
            a_name_with_a_nul_finds_no_one,
            a_session_token_lives_until_it_expires_or_is_revoked,
            the_connection_table_lists_live_connections,
            an_account_keeps_its_changes_and_searches_find_it,
        );
    };
    (@area $fixture:expr; messages) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; messages;
            a_resent_message_is_stored_once,
            a_batch_stores_each_message_once_in_order,
            a_recall_erases_the_message_and_follows_it,
            a_hidden_message_is_the_senders_alone,
            a_read_mark_only_rises,
        );
    };
    (@area $fixture:expr; group_messages) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; group_messages;
            a_sync_page_is_the_first_messages_over_all_sources,
            ids_never_go_back_when_the_newest_messages_are_deleted,
            a_new_member_sees_only_later_group_messages,
            a_newcomer_does_not_get_files_offered_before,
        );
    };
    (@area $fixture:expr; friends) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; friends;
            a_request_is_accepted_into_a_friendship,
            remarks_and_friend_groups_are_each_sides_own,
            a_block_hides_requests_from_the_blocker,
        );
    };
    (@area $fixture:expr; groups) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; groups;
            a_mute_comes_back_with_its_member_until_it_ends,
            a_group_is_made_renamed_and_dissolved,
            roles_decide_who_manages_and_who_may_speak,
            join_requests_and_removals,
        );
    };
    (@area $fixture:expr; files) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; files;
            a_file_offer_lives_until_it_is_cancelled_or_expires,
            a_transfer_token_is_good_once_until_it_expires,
            a_files_bytes_are_claimed_by_one_upload_at_a_time,
        );
    };
    (@area $fixture:expr; avatars) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; avatars;
            an_avatar_is_kept_while_someone_shows_it,
        );
    };
    (@area $fixture:expr; nodes) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; nodes;
            a_lone_node_lives_leads_and_reaps_no_one,
            a_users_first_and_last_connection_are_told,
            throttle_counters_are_kept_by_name,
        );
    };
    (@area $fixture:expr; upkeep) => {
        $crate::storage::conformance::conformance_tests!(@cases $fixture; upkeep;
            upkeep_runs_beside_requests,
        );
    };
    (@cases $fixture:expr; $area:ident; $($case:ident,)*) => {
        mod $area {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $case() {
                    $crate::storage::conformance::$area::$case(&$fixture);
                }
            )*
        }
    };
}
pub(crate) use conformance_tests;

/// Accounts, session tokens, the connection table and session ends: [`AccountStore`] (and one avatar lookup).
pub(crate) mod accounts {
    use ququ_protocol::ProfileChange;

    use super::Fixture;
    use crate::storage::*;

    /// Issue 20, item 2: requests to end sessions, written by one handle (the operator's command), are
    /// taken once by another (the server), oldest first.
    pub(crate) fn session_ends_are_taken_once_in_order<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore,
    {
        let server = f.node("a");
        let operator = f.open();
        assert!(server.take_session_ends().unwrap().is_empty());
        operator.end_sessions(3, "disabled", 10).unwrap();
        operator.end_sessions(4, "password_changed", 20).unwrap();
        let ends = server.take_session_ends().unwrap();
        assert_eq!(ends, super::first_two_ends());
        assert!(server.take_session_ends().unwrap().is_empty());
        // A later request is taken too, and only it.
        operator.end_sessions(5, "disabled", 30).unwrap();
        let ends = server.take_session_ends().unwrap();
        assert_eq!(ends.iter().map(|e| e.user).collect::<Vec<_>>(), [5]);
        // The sweep forgets old requests; none comes back after it.
        operator.sweep_session_ends(100).unwrap();
        assert!(server.take_session_ends().unwrap().is_empty());
    }

    pub(crate) fn account_names_are_unique_ignoring_case<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore,
    {
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

    /// A looked-up name or search with a NUL character in it (a client may send one: the fuzzer does)
    /// finds no one, as on SQLite, rather than failing: PostgreSQL's text cannot hold NUL at all.
    pub(crate) fn a_name_with_a_nul_finds_no_one<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + AvatarStore,
    {
        let s = f.open();
        s.create_user("alice", "Alice", "h", 1).unwrap();
        assert!(s.user_by_account("alice\0").unwrap().is_none());
        assert!(s.user_by_account("\0").unwrap().is_none());
        assert!(s.search_users("ali\0", 10).unwrap().is_empty());
        assert!(s.avatar("\0").unwrap().is_none());
        assert_eq!(s.search_users("ali", 10).unwrap().len(), 1);
    }

    /// A session token logs in until it expires or is revoked: what `LOGIN_TOKEN` checks. Revoking all of
    /// a user's tokens but one is a password change on one device; the sweep drops only expired ones.
    pub(crate) fn a_session_token_lives_until_it_expires_or_is_revoked<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        s.create_token(a, "t1", 100).unwrap();
        s.create_token(a, "t2", 200).unwrap();
        s.create_token(a, "t3", 300).unwrap();
        s.create_token(b, "tb", 50).unwrap();
        assert_eq!(s.token_user("t1", 99).unwrap(), Some(a));
        // A token is dead at its expiry time, not after it.
        assert_eq!(s.token_user("t1", 100).unwrap(), None);
        assert_eq!(s.token_user("nope", 0).unwrap(), None);
        s.revoke_token("t1").unwrap();
        assert_eq!(s.token_user("t1", 0).unwrap(), None);
        // Another handle (the operator's) sees the same tokens.
        let other = f.open();
        other.revoke_tokens(a, Some("t3")).unwrap();
        assert_eq!(s.token_user("t2", 0).unwrap(), None);
        assert_eq!(s.token_user("t3", 0).unwrap(), Some(a));
        assert_eq!(s.token_user("tb", 0).unwrap(), Some(b));
        s.revoke_tokens(b, None).unwrap();
        assert_eq!(s.token_user("tb", 0).unwrap(), None);
        s.create_token(b, "tb2", 150).unwrap();
        // At 200: tb2 (150) has expired, t3 (300) has not.
        assert_eq!(s.sweep_tokens(200).unwrap(), 1);
        assert_eq!(s.sweep_tokens(200).unwrap(), 0);
        assert_eq!(s.token_user("t3", 200).unwrap(), Some(a));
    }

    /// The connection table: every connection from its start, named by account once logged in; what the
    /// operator's `online` lists.
    pub(crate) fn the_connection_table_lists_live_connections<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore,
    {
        let s = f.node("a");
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let conn = |conn_id, port| ConnectionRecord {
            conn_id,
            account: None,
            ip: "10.0.0.1".into(),
            port,
            since: 7,
            node: None,
        };
        s.add_connection(&conn(2, 4000)).unwrap();
        s.add_connection(&conn(1, 4001)).unwrap();
        s.set_connection_user(2, a).unwrap();
        let listed = f.open().connections().unwrap();
        let seen: Vec<_> = listed
            .iter()
            .map(|c| (c.conn_id, c.account.clone(), c.ip.as_str(), c.port, c.since))
            .collect();
        assert_eq!(
            seen,
            [
                (1, None, "10.0.0.1", 4001, 7),
                (2, Some("alice".to_string()), "10.0.0.1", 4000, 7),
            ]
        );
        s.remove_connection(1).unwrap();
        assert_eq!(s.connections().unwrap().len(), 1);
        // The server's start forgets whatever a previous run left.
        s.add_connection(&conn(3, 4002)).unwrap();
        s.clear_connections().unwrap();
        assert!(s.connections().unwrap().is_empty());
    }

    /// What login, `FIND` and profiles rely on: changes to an account are kept, a disabled account is
    /// found by no search, an exact account name comes first, and `%` or `_` in a search are plain text.
    pub(crate) fn an_account_keeps_its_changes_and_searches_find_it<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore,
    {
        let s = f.open();
        let a = s.create_user("ann", "Zed", "h", 1).unwrap().id;
        let b = s.create_user("joanna", "Ann's friend", "h", 2).unwrap().id;
        let c = s.create_user("x_y", "100%", "h", 3).unwrap().id;
        s.set_nickname(a, "Annie").unwrap();
        s.set_password_hash(a, "h2").unwrap();
        s.set_profile(a, &ProfileChange::Signature("hello".into()))
            .unwrap();
        s.set_profile(a, &ProfileChange::Region("Shanghai".into()))
            .unwrap();
        s.set_profile(
            a,
            &ProfileChange::Gender(Some(ququ_protocol::Gender::Female)),
        )
        .unwrap();
        let ann = f.open().user_by_id(a).unwrap().unwrap();
        assert_eq!(
            (ann.nickname.as_str(), ann.password_hash.as_str()),
            ("Annie", "h2")
        );
        assert_eq!(ann.profile.signature, "hello");
        assert_eq!(ann.profile.region, "Shanghai");
        assert_eq!(ann.profile.gender, Some(ququ_protocol::Gender::Female));
        assert_eq!(ann.created, 1);
        assert!(!ann.disabled && ann.avatar.is_none());
        let found = |q: &str| -> Vec<UserId> {
            s.search_users(q, 10)
                .unwrap()
                .into_iter()
                .map(|u| u.id)
                .collect()
        };
        // "ann" is alice's account exactly and in joanna's: the exact match first, whatever the case.
        assert_eq!(found("ANN"), [a, b]);
        assert_eq!(found("friend"), [b]);
        assert_eq!(found("%"), [c]);
        assert_eq!(found("_"), [c]);
        assert_eq!(s.search_users("ann", 1).unwrap().len(), 1);
        s.set_disabled(b, true).unwrap();
        assert_eq!(found("ann"), [a]);
        assert!(s.user_by_id(b).unwrap().unwrap().disabled);
        // The operator still lists everyone, by account.
        let all: Vec<_> = s.users().unwrap().into_iter().map(|u| u.id).collect();
        assert_eq!(all, [a, b, c]);
        assert!(s.user_by_id(999_999).unwrap().is_none());
        assert!(s.user_by_account("nobody").unwrap().is_none());
    }
}

/// Storing, syncing, recalling and reading private messages: [`MessageStore`] (with accounts).
pub(crate) mod messages {
    use ququ_protocol::Conv;

    use super::Fixture;
    use crate::storage::*;

    pub(crate) fn a_resent_message_is_stored_once<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + MessageStore,
    {
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

    pub(crate) fn a_batch_stores_each_message_once_in_order<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + MessageStore,
    {
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

    /// A recall erases the message and follows it in its conversation under the next id, as a message of
    /// the recaller's: the recipient syncs it in order and sees the original as gone. Only once.
    pub(crate) fn a_recall_erases_the_message_and_follows_it<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + MessageStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let sent = s
            .store_message(&NewMessage {
                sender: a,
                to: Target::User(b),
                client_id: "c1".into(),
                time: 5,
                body: Body::Text("oops".into()),
                hidden: false,
            })
            .unwrap()
            .message;
        let seen = s.visible_message(b, sent.id).unwrap().unwrap();
        assert_eq!((seen.sender, seen.from.as_str()), (a, "alice"));
        assert_eq!((seen.to, seen.excerpt.as_str()), (Target::User(b), "oops"));
        assert!(!seen.is_recall && !seen.hidden && seen.file.is_none());
        let recall = s.recall_message(sent.id, a, 9).unwrap().unwrap();
        assert_eq!(recall.id, sent.id + 1);
        assert_eq!(recall.from, "alice");
        assert_eq!(recall.to, Conv::User("bob".into()));
        assert_eq!(
            recall.body,
            Body::Recall {
                target: sent.id,
                target_from: "alice".into()
            }
        );
        assert!(s.recall_message(sent.id, a, 10).unwrap().is_none());
        assert!(s.visible_message(b, sent.id).unwrap().is_none());
        assert!(s.visible_message(a, sent.id).unwrap().is_none());
        let synced = s.messages_after(b, 0, 10).unwrap();
        assert_eq!(synced.len(), 2);
        assert_eq!(synced[0].body, Body::Gone);
        assert_eq!(synced[1], recall);
        // The recall itself is neither quoted nor recalled.
        assert!(s.visible_message(b, recall.id).unwrap().unwrap().is_recall);
        assert_eq!(s.history(a, Target::User(b), 0, 10).unwrap().len(), 2);
    }

    /// A message to someone who blocks its sender is the sender's alone: the recipient never sees it, not
    /// by sync, history or id; a reply quoting a message shows the quote as the message is now.
    pub(crate) fn a_hidden_message_is_the_senders_alone<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + MessageStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let msg = |cid: &str, body, hidden| NewMessage {
            sender: a,
            to: Target::User(b),
            client_id: cid.into(),
            time: 1,
            body,
            hidden,
        };
        let open = s
            .store_message(&msg("c1", Body::Text("seen".into()), false))
            .unwrap()
            .message;
        let hidden = s
            .store_message(&msg("c2", Body::Text("unseen".into()), true))
            .unwrap()
            .message;
        let ids = |user| -> Vec<u64> {
            s.messages_after(user, 0, 10)
                .unwrap()
                .into_iter()
                .map(|m| m.id)
                .collect()
        };
        assert_eq!(ids(a), [open.id, hidden.id]);
        assert_eq!(ids(b), [open.id]);
        assert_eq!(s.history(b, Target::User(a), 0, 10).unwrap().len(), 1);
        assert_eq!(s.history(a, Target::User(b), 0, 10).unwrap().len(), 2);
        assert!(s.visible_message(b, hidden.id).unwrap().is_none());
        assert!(s.visible_message(a, hidden.id).unwrap().unwrap().hidden);
        // bob answers alice's open message, mentioning nobody: the quote is read back from it.
        let reply = Body::Said(Said {
            text: "re".into(),
            reply_to: Some(open.id),
            mentions: Default::default(),
            quote: None,
        });
        s.store_message(&NewMessage {
            sender: b,
            to: Target::User(a),
            client_id: "r1".into(),
            time: 2,
            body: reply,
            hidden: false,
        })
        .unwrap();
        let back = s.history(a, Target::User(b), 0, 1).unwrap().remove(0);
        let Body::Said(said) = back.body else {
            panic!("{back:?}")
        };
        let quote = said.quote.unwrap();
        assert_eq!((quote.id, quote.from.as_str()), (open.id, "alice"));
        assert_eq!(quote.text, "seen");
        assert_eq!(said.reply_to, Some(open.id));
    }

    /// Read marks only rise, and name a private conversation by the peer's account.
    pub(crate) fn a_read_mark_only_rises<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + MessageStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        assert!(s.set_read(a, Target::User(b), 5).unwrap());
        assert!(!s.set_read(a, Target::User(b), 5).unwrap());
        assert!(!s.set_read(a, Target::User(b), 3).unwrap());
        assert!(s.set_read(a, Target::User(b), 8).unwrap());
        assert!(s.set_read(a, Target::Group(1_000_000_001), 2).unwrap());
        // A cursor past every id does not wrap.
        assert!(s.set_read(b, Target::User(a), u64::MAX).unwrap());
        assert_eq!(
            f.open().reads(a).unwrap(),
            [
                (Conv::User("bob".into()), 8),
                (Conv::Group(1_000_000_001), 2)
            ]
        );
        assert_eq!(s.reads(b).unwrap().len(), 1);
    }
}

/// What a group member sees of its messages and files: [`GroupStore`] and [`MessageStore`] together.
pub(crate) mod group_messages {
    use ququ_protocol::{FileInfo, Role};

    use super::Fixture;
    use crate::storage::*;

    /// Sync pages are the first messages after the cursor over all sources, whichever source fills
    /// the page first, and a member sees a group only from when they joined.
    pub(crate) fn a_sync_page_is_the_first_messages_over_all_sources<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore + MessageStore,
    {
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

    /// Clients sync by "after the last id I have", so an id given out once is never given out again:
    /// not when the newest messages go with their dissolved group, not after the server restarts.
    pub(crate) fn ids_never_go_back_when_the_newest_messages_are_deleted<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore + MessageStore,
    {
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

    pub(crate) fn a_new_member_sees_only_later_group_messages<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore + MessageStore,
    {
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

    /// A member gets the files offered in the group after they joined, not those from before.
    pub(crate) fn a_newcomer_does_not_get_files_offered_before<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore + MessageStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let g = s.create_group(a, "g", 1).unwrap().id;
        let offer = |cid: &str, id| NewMessage {
            sender: a,
            to: Target::Group(g),
            client_id: cid.into(),
            time: 1,
            body: Body::File(FileInfo {
                file_id: id,
                name: format!("{cid}.txt"),
                size: 3,
                sha256: "ab".repeat(32),
            }),
            hidden: false,
        };
        s.store_message(&offer("f1", 1)).unwrap();
        s.add_member(g, b, Role::Member, 2).unwrap();
        let later = s.store_message(&offer("f2", 2)).unwrap().message;
        assert!(!s.sees_group_file(g, b, a, "f1").unwrap());
        assert!(s.sees_group_file(g, b, a, "f2").unwrap());
        assert!(s.sees_group_file(g, a, a, "f1").unwrap());
        assert!(!s.sees_group_file(g, b, a, "nope").unwrap());
        // And the message itself says what it offers.
        let seen = s.visible_message(b, later.id).unwrap().unwrap();
        assert_eq!(seen.file, Some((2, "ab".repeat(32))));
        assert_eq!(seen.excerpt, "[f2.txt]");
        assert_eq!(s.messages_after(b, 0, 10).unwrap(), [later]);
    }
}

/// Requests, friendships, remarks, friend groups and blocks: [`FriendStore`].
pub(crate) mod friends {
    use super::Fixture;
    use crate::storage::*;

    /// A request waits for its recipient (and shows in its sender's list), an earlier refusal is forgotten
    /// when asked again, and accepting makes both sides friends and takes the requests both ways.
    pub(crate) fn a_request_is_accepted_into_a_friendship<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + FriendStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let c = s.create_user("carol", "C", "h", 1).unwrap().id;
        s.put_request(a, b, "hi bob", 10, false).unwrap();
        s.put_request(c, b, "hi", 5, false).unwrap();
        let to_b: Vec<_> = s
            .requests_to(b)
            .unwrap()
            .into_iter()
            .map(|r| (r.from.id, r.note, r.time))
            .collect();
        assert_eq!(
            to_b,
            [(c, "hi".to_string(), 5), (a, "hi bob".to_string(), 10)]
        );
        let from_a: Vec<_> = s
            .requests_from(a)
            .unwrap()
            .into_iter()
            .map(|r| (r.to.id, r.time))
            .collect();
        assert_eq!(from_a, [(b, 10)]);
        assert!(s.has_request(a, b).unwrap());
        assert!(!s.has_request(b, a).unwrap());
        // bob declines carol; she hears it once.
        assert!(s.take_request(c, b).unwrap());
        assert!(!s.take_request(c, b).unwrap());
        s.put_declined(c, b, 6).unwrap();
        assert_eq!(s.take_declined(c).unwrap(), ["bob"]);
        assert!(s.take_declined(c).unwrap().is_empty());
        // A refusal carol has not heard yet is forgotten when she asks again, or when she was told live.
        s.put_declined(c, b, 7).unwrap();
        s.put_request(c, b, "again", 8, false).unwrap();
        assert!(s.take_declined(c).unwrap().is_empty());
        s.put_declined(c, a, 9).unwrap();
        s.forget_declined(c, a).unwrap();
        assert!(s.take_declined(c).unwrap().is_empty());
        // Asking again refreshes the request.
        s.put_request(a, b, "hello?", 11, false).unwrap();
        let req = s.requests_to(b).unwrap().pop().unwrap();
        assert_eq!((req.note.as_str(), req.time), ("hello?", 11));
        // bob had asked alice too; accepting takes both.
        s.put_request(b, a, "me too", 12, false).unwrap();
        s.add_friendship(a, b, 13).unwrap();
        assert!(s.are_friends(a, b).unwrap() && s.are_friends(b, a).unwrap());
        assert!(!s.are_friends(a, c).unwrap());
        assert!(!s.has_request(a, b).unwrap() && !s.has_request(b, a).unwrap());
        assert!(s.requests_from(a).unwrap().is_empty());
        assert_eq!(s.friend_count(a).unwrap(), 1);
        let friends: Vec<_> = s
            .friends(b)
            .unwrap()
            .into_iter()
            .map(|f| f.user.id)
            .collect();
        assert_eq!(friends, [a]);
        // Made friends twice is still one friendship.
        s.add_friendship(b, a, 14).unwrap();
        assert_eq!(f.open().friend_count(b).unwrap(), 1);
    }

    /// Each side's remark and friend group are its own; deleting the friendship forgets them both, and
    /// deleting it again says there was none.
    pub(crate) fn remarks_and_friend_groups_are_each_sides_own<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + FriendStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let c = s.create_user("carol", "C", "h", 1).unwrap().id;
        s.add_friendship(a, b, 1).unwrap();
        s.add_friendship(a, c, 1).unwrap();
        assert!(s.set_remark(a, b, "Bobby").unwrap());
        assert!(!s.set_remark(b, c, "not a friend").unwrap());
        assert_eq!(s.friend(a, b).unwrap().unwrap().remark, "Bobby");
        assert_eq!(s.friend(b, a).unwrap().unwrap().remark, "");
        assert!(s.friend(b, c).unwrap().is_none());
        // Friend groups: made in order, names unique per user, at most `max`.
        let work = s.add_category(a, "work", 2).unwrap().unwrap();
        assert_eq!(
            s.add_category(a, "work", 2).unwrap(),
            Err(CategoryRefusal::Exists)
        );
        let home = s.add_category(a, "home", 2).unwrap().unwrap();
        assert_eq!(
            s.add_category(a, "more", 2).unwrap(),
            Err(CategoryRefusal::TooMany)
        );
        // bob's own groups do not count against alice's, and may share names.
        let bobs = s.add_category(b, "work", 2).unwrap().unwrap();
        assert!(work < home && bobs != work);
        assert_eq!(
            s.categories(a).unwrap(),
            [(work, "work".to_string()), (home, "home".to_string())]
        );
        assert_eq!(
            s.rename_category(a, work, "home").unwrap(),
            Err(CategoryRefusal::Exists)
        );
        assert_eq!(s.rename_category(a, work, "work").unwrap(), Ok(()));
        assert_eq!(
            s.rename_category(a, bobs, "x").unwrap(),
            Err(CategoryRefusal::NoSuch)
        );
        assert_eq!(s.rename_category(a, work, "office").unwrap(), Ok(()));
        assert_eq!(s.order_categories(a, &[home, work]).unwrap(), Ok(()));
        assert_eq!(
            s.categories(a).unwrap(),
            [(home, "home".to_string()), (work, "office".to_string())]
        );
        assert_eq!(
            s.order_categories(a, &[home, bobs]).unwrap(),
            Err(CategoryRefusal::NoSuchIn(bobs))
        );
        assert_eq!(
            s.order_categories(a, &[home]).unwrap(),
            Err(CategoryRefusal::NotEveryOne)
        );
        assert_eq!(
            s.order_categories(a, &[home, home]).unwrap(),
            Err(CategoryRefusal::NotEveryOne)
        );
        // Moving friends.
        let moved = s.move_friend(a, b, work).unwrap().unwrap();
        assert_eq!(
            (moved.user.id, moved.category, moved.remark.as_str()),
            (b, work, "Bobby")
        );
        s.move_friend(a, c, home).unwrap().unwrap();
        assert_eq!(
            s.move_friend(a, b, bobs).unwrap().unwrap_err(),
            CategoryRefusal::NoSuch
        );
        assert_eq!(
            s.move_friend(b, c, 0).unwrap().unwrap_err(),
            CategoryRefusal::NotFriends
        );
        assert_eq!(s.friend(b, a).unwrap().unwrap().category, 0);
        // A deleted group's friends go back to the default group.
        assert!(s.delete_category(a, home).unwrap());
        assert!(!s.delete_category(a, home).unwrap());
        assert!(!s.delete_category(a, bobs).unwrap());
        let cats: Vec<_> = s
            .friends(a)
            .unwrap()
            .into_iter()
            .map(|f| (f.user.id, f.category))
            .collect();
        assert_eq!(cats, [(b, work), (c, 0)]);
        // Unfriended and befriended again: no remark, the default group.
        assert!(s.remove_friendship(b, a).unwrap());
        assert!(!s.remove_friendship(a, b).unwrap());
        assert!(!s.are_friends(a, b).unwrap() && !s.are_friends(b, a).unwrap());
        s.add_friendship(a, b, 2).unwrap();
        let again = s.friend(a, b).unwrap().unwrap();
        assert_eq!((again.remark.as_str(), again.category), ("", 0));
        // A group id is never given out twice, so a device that missed a deletion cannot mistake a new one.
        let next = s.add_category(a, "home", 2).unwrap().unwrap();
        assert!(next > home);
    }

    /// A block hides the blocked user's waiting request from the blocker (never from its sender) and holds
    /// from its first time; unblocking lifts it, and the block list names everyone blocked.
    pub(crate) fn a_block_hides_requests_from_the_blocker<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + FriendStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let c = s.create_user("carol", "C", "h", 1).unwrap().id;
        s.put_request(b, a, "hi", 1, false).unwrap();
        assert_eq!(s.block(a, b, 5).unwrap(), (5, true));
        // Blocking again keeps the first time, and there is nothing more to hide.
        assert_eq!(s.block(a, b, 9).unwrap(), (5, false));
        assert_eq!(s.block(a, c, 7).unwrap(), (7, false));
        assert!(s.blocks(a, b).unwrap());
        assert!(!s.blocks(b, a).unwrap());
        // bob's request is his to see waiting, never alice's to see or take.
        assert!(s.requests_to(a).unwrap().is_empty());
        assert!(!s.has_request(b, a).unwrap());
        assert!(!s.take_request(b, a).unwrap());
        assert_eq!(s.requests_from(b).unwrap().len(), 1);
        // One made while blocked is hidden from the start (the service says so).
        s.put_request(c, a, "me", 8, true).unwrap();
        assert!(s.requests_to(a).unwrap().is_empty());
        assert_eq!(s.requests_from(c).unwrap().len(), 1);
        let blocked: Vec<_> = s
            .blocked(a)
            .unwrap()
            .into_iter()
            .map(|(u, at)| (u.account, at))
            .collect();
        assert_eq!(blocked, [("bob".to_string(), 5), ("carol".to_string(), 7)]);
        assert!(s.unblock(a, b).unwrap());
        assert!(!s.unblock(a, b).unwrap());
        assert!(!f.open().blocks(a, b).unwrap());
        // A request hidden stays hidden after the unblock: it was never shown, and is not now.
        assert!(s.requests_to(a).unwrap().is_empty());
        // A new request after the unblock is shown.
        s.put_request(b, a, "again", 10, false).unwrap();
        assert!(s.has_request(b, a).unwrap());
    }
}

/// Groups, members, roles, mutes, join requests and removals: [`GroupStore`].
pub(crate) mod groups {
    use ququ_protocol::{JoinPolicy, Millis, Role};

    use super::Fixture;
    use crate::storage::*;

    /// A member who leaves (or is removed) while muted comes back muted until the same time; one whose mute
    /// ended meanwhile, or was lifted, comes back unmuted. (SQLite's own test of the same case also checks
    /// that it keeps no row for a mute that can no longer matter.)
    pub(crate) fn a_mute_comes_back_with_its_member_until_it_ends<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore,
    {
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
        let bob = |s: &F::Handle| s.members(g).unwrap().into_iter().find(|m| m.user.id == b);
        assert_eq!(bob(&s).unwrap().muted_until, 1000);
        assert_eq!(s.silence(g).unwrap().muted_until(b, 30), Some(1000));
        assert_eq!(s.add_member(g, c, Role::Member, 60).unwrap(), Some(0));
        // A lifted mute does not come back.
        assert!(s.set_muted(g, b, 0).unwrap());
        assert!(s.remove_member(g, b, 40).unwrap());
        assert_eq!(s.add_member(g, b, Role::Member, 41).unwrap(), Some(0));
    }

    /// A new group has a random ten-digit number and its owner as its only member; it can be renamed, is
    /// listed for each member, and goes with everything of it when dissolved.
    pub(crate) fn a_group_is_made_renamed_and_dissolved<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let g = s.create_group(a, "team", 3).unwrap();
        assert!(GROUP_IDS.contains(&g.id));
        assert_eq!(
            (g.name.as_str(), g.owner, g.owner_account.as_str()),
            ("team", a, "alice")
        );
        assert_eq!(g.members, 1);
        assert_eq!(g.policy, JoinPolicy::default());
        assert!(!g.mute_all && g.notice.is_empty() && g.notice_by.is_empty() && g.avatar.is_none());
        assert_eq!(s.role(g.id, a).unwrap(), Some(Role::Owner));
        let h = s.create_group(b, "other", 3).unwrap();
        assert_ne!(g.id, h.id);
        s.add_member(g.id, b, Role::Member, 4).unwrap();
        s.rename_group(g.id, "crew").unwrap();
        s.set_join_policy(g.id, JoinPolicy::Open).unwrap();
        s.set_notice(g.id, b, "read me", 7).unwrap();
        let seen = f.open().group(g.id).unwrap().unwrap();
        assert_eq!(
            (seen.name.as_str(), seen.members, seen.policy),
            ("crew", 2, JoinPolicy::Open)
        );
        assert_eq!(
            (
                seen.notice.as_str(),
                seen.notice_by.as_str(),
                seen.notice_time
            ),
            ("read me", "bob", 7)
        );
        let of_b: Vec<_> = s.groups_of(b).unwrap().into_iter().map(|g| g.id).collect();
        let mut both = vec![g.id, h.id];
        both.sort();
        assert_eq!(of_b, both);
        let mut ids = s.member_ids(g.id).unwrap();
        ids.sort();
        assert_eq!(ids, [a, b]);
        assert_eq!(s.co_members(a).unwrap(), [b]);
        assert!(s.co_members(b).unwrap().contains(&a));
        s.delete_group(g.id).unwrap();
        assert!(s.group(g.id).unwrap().is_none());
        assert!(s.role(g.id, a).unwrap().is_none());
        assert!(s.member_ids(g.id).unwrap().is_empty());
        assert_eq!(s.groups_of(b).unwrap().len(), 1);
        assert!(s.co_members(a).unwrap().is_empty());
    }

    /// Roles: admins are made and unmade but the owner's row is never touched that way; ownership moves
    /// only by a transfer; the owner and admins are the managers, never muted, and speak in a muted group.
    pub(crate) fn roles_decide_who_manages_and_who_may_speak<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let c = s.create_user("carol", "C", "h", 1).unwrap().id;
        let d = s.create_user("dave", "D", "h", 1).unwrap().id;
        let g = s.create_group(a, "g", 1).unwrap().id;
        for u in [b, c] {
            s.add_member(g, u, Role::Member, 1).unwrap();
        }
        assert!(s.set_muted(g, b, 500).unwrap());
        // Making bob admin ends his mute; an admin cannot be muted; a stranger has no role to set.
        assert!(s.set_role(g, b, Role::Admin).unwrap());
        assert!(!s.set_muted(g, b, 600).unwrap());
        assert!(!s.set_role(g, d, Role::Admin).unwrap());
        assert!(!s.set_role(g, a, Role::Member).unwrap());
        assert_eq!(s.role(g, a).unwrap(), Some(Role::Owner));
        assert_eq!(s.role(g, b).unwrap(), Some(Role::Admin));
        let mut managers = s.managers(g).unwrap();
        managers.sort();
        assert_eq!(managers, [a, b]);
        let members: Vec<_> = s
            .members(g)
            .unwrap()
            .into_iter()
            .map(|m| (m.user.id, m.role, m.muted_until))
            .collect();
        assert_eq!(
            members,
            [
                (a, Role::Owner, 0),
                (b, Role::Admin, 0),
                (c, Role::Member, 0)
            ]
        );
        assert!(s.set_muted(g, c, 300).unwrap());
        s.set_mute_all(g, true).unwrap();
        let silence = f.open().silence(g).unwrap();
        assert!(silence.all);
        assert_eq!(silence.muted, [(c, 300)]);
        assert_eq!(silence.muted_until(a, 0), None);
        assert_eq!(silence.muted_until(b, 0), None);
        assert_eq!(silence.muted_until(c, 10), Some(300));
        assert_eq!(silence.muted_until(c, 400), Some(0));
        assert!(s.group(g).unwrap().unwrap().mute_all);
        s.set_mute_all(g, false).unwrap();
        assert_eq!(s.silence(g).unwrap().muted_until(c, 400), None);
        // The owner hands the group to carol, whose mute ends with it.
        s.transfer_group(g, a, c).unwrap();
        let group = s.group(g).unwrap().unwrap();
        assert_eq!((group.owner, group.owner_account.as_str()), (c, "carol"));
        assert_eq!(s.role(g, a).unwrap(), Some(Role::Member));
        assert_eq!(s.role(g, c).unwrap(), Some(Role::Owner));
        assert_eq!(s.silence(g).unwrap().muted_until(c, 10), None);
        // Demoted, bob is a plain member again.
        assert!(s.set_role(g, b, Role::Member).unwrap());
        assert_eq!(s.managers(g).unwrap(), [c]);
        assert_eq!(s.silence(g).unwrap().managers, [c]);
    }

    /// Join requests wait for the group's owner and admins only; a removed member cannot come back by
    /// the number until invited again.
    pub(crate) fn join_requests_and_removals<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let c = s.create_user("carol", "C", "h", 1).unwrap().id;
        let d = s.create_user("dave", "D", "h", 1).unwrap().id;
        let g = s.create_group(a, "g", 1).unwrap().id;
        s.add_member(g, b, Role::Admin, 1).unwrap();
        s.add_member(g, d, Role::Member, 1).unwrap();
        assert!(s.put_join_request(g, c, 10).unwrap());
        assert!(!s.put_join_request(g, c, 20).unwrap());
        let seen = |who| -> Vec<(GroupId, UserId, Millis)> {
            s.join_requests(who)
                .unwrap()
                .into_iter()
                .map(|(g, u, t)| (g, u.id, t))
                .collect()
        };
        assert_eq!(seen(a), [(g, c, 20)]);
        assert_eq!(seen(b), [(g, c, 20)]);
        assert!(seen(d).is_empty());
        assert!(s.take_join_request(g, c).unwrap());
        assert!(!s.take_join_request(g, c).unwrap());
        assert!(seen(a).is_empty());
        // dave is removed.
        assert!(s.remove_member(g, d, 30).unwrap());
        s.mark_removed(g, d, 30).unwrap();
        s.mark_removed(g, d, 31).unwrap();
        assert!(f.open().was_removed(g, d).unwrap());
        assert!(!s.was_removed(g, c).unwrap());
        s.forget_removed(g, d).unwrap();
        assert!(!s.was_removed(g, d).unwrap());
    }
}

/// Relayed files: [`FileStore`].
pub(crate) mod files {
    use super::Fixture;
    use crate::storage::*;

    /// A relayed file: offered once per (sender, client id), found by its id and by that pair, counted
    /// against its sender's quota while live, expired when its time is up, and its content in use while
    /// any live file has it.
    pub(crate) fn a_file_offer_lives_until_it_is_cancelled_or_expires<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + FileStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let sha = |c: &str| c.repeat(64);
        let offer = |cid: &str, to, size, content: &str, expires| NewFile {
            sender: a,
            client_id: cid.into(),
            to,
            name: format!("{cid}.bin"),
            size,
            sha256: sha(content),
            created: 10,
            expires,
        };
        let one = s
            .create_file(&offer("f1", Target::User(b), 100, "a", 50))
            .unwrap();
        assert_eq!(one.status, FileStatus::Uploading);
        assert_eq!((one.sender, one.to, one.size), (a, Target::User(b), 100));
        assert_eq!(
            (one.name.as_str(), one.created, one.expires),
            ("f1.bin", 10, 50)
        );
        assert!(matches!(
            s.create_file(&offer("f1", Target::User(b), 1, "b", 1)),
            Err(StoreError::Conflict)
        ));
        let two = s
            .create_file(&offer("f2", Target::Group(1_000_000_007), 20, "a", 80))
            .unwrap();
        let three = s
            .create_file(&offer("f3", Target::User(b), 5, "c", 90))
            .unwrap();
        assert!(one.id != two.id && two.id != three.id);
        let found = f.open().file(two.id).unwrap().unwrap();
        assert_eq!(
            (found.client_id.as_str(), found.to),
            ("f2", Target::Group(1_000_000_007))
        );
        assert_eq!(s.file_by_client_id(a, "f3").unwrap().unwrap().id, three.id);
        assert!(s.file_by_client_id(b, "f3").unwrap().is_none());
        assert!(s.file(three.id + 1000).unwrap().is_none());
        assert_eq!(s.file_bytes_used(a).unwrap(), 125);
        assert_eq!(s.file_bytes_used(b).unwrap(), 0);
        s.set_file_status(one.id, FileStatus::Uploaded).unwrap();
        assert_eq!(
            s.file(one.id).unwrap().unwrap().status,
            FileStatus::Uploaded
        );
        s.set_file_status(three.id, FileStatus::Cancelled).unwrap();
        assert_eq!(s.file_bytes_used(a).unwrap(), 120);
        assert!(!s.blob_in_use(&sha("c")).unwrap());
        // At 80: f1 (50) and f2 (80) are due, f3 is cancelled already.
        let mut due: Vec<_> = s
            .files_expired(80)
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        due.sort();
        assert_eq!(due, [one.id, two.id]);
        assert!(s.blob_in_use(&sha("a")).unwrap());
        s.set_file_status(one.id, FileStatus::Expired).unwrap();
        assert!(s.blob_in_use(&sha("a")).unwrap());
        s.set_file_status(two.id, FileStatus::Expired).unwrap();
        assert!(!s.blob_in_use(&sha("a")).unwrap());
        assert!(s.files_expired(1000).unwrap().is_empty());
        assert_eq!(s.file_bytes_used(a).unwrap(), 0);
    }

    /// A transfer token's grant is taken once, whoever asks (any node), and not after it expires; the
    /// sweep forgets expired ones.
    pub(crate) fn a_transfer_token_is_good_once_until_it_expires<F: Fixture>(f: &F)
    where
        F::Handle: FileStore,
    {
        let (one, two) = (f.node("a"), f.open());
        let grant = |file, expires| TransferGrant {
            file,
            user: 7,
            put: true,
            expires,
        };
        one.grant_transfer("h1", &grant(1, 100)).unwrap();
        one.grant_transfer("h2", &grant(2, 100)).unwrap();
        one.grant_transfer("h3", &grant(3, 50)).unwrap();
        assert_eq!(two.redeem_transfer("h1", 99).unwrap(), Some(grant(1, 100)));
        assert_eq!(one.redeem_transfer("h1", 99).unwrap(), None, "once");
        assert_eq!(one.redeem_transfer("h2", 100).unwrap(), None, "expired");
        assert_eq!(one.redeem_transfer("nope", 0).unwrap(), None);
        assert_eq!(one.sweep_transfers(60).unwrap(), 1, "h3");
    }

    /// One upload holds a file's partial bytes: a newer claim takes them, saying from whom; the old
    /// writer then holds nothing, and its letting go leaves the new claim alone.
    pub(crate) fn a_files_bytes_are_claimed_by_one_upload_at_a_time<F: Fixture>(f: &F)
    where
        F::Handle: FileStore,
    {
        let (one, two) = (f.node("a"), f.open());
        assert_eq!(one.claim_upload(5, 11).unwrap(), None);
        assert!(two.holds_upload(5, 11).unwrap());
        assert_eq!(two.claim_upload(5, 22).unwrap(), Some(11));
        assert!(!one.holds_upload(5, 11).unwrap());
        one.release_upload(5, 11).unwrap();
        assert!(
            one.holds_upload(5, 22).unwrap(),
            "the old writer lets go of nothing"
        );
        assert_eq!(one.claim_upload(6, 11).unwrap(), None, "another file");
        two.release_upload(5, 22).unwrap();
        assert_eq!(one.claim_upload(5, 33).unwrap(), None, "free again");
    }
}

/// Avatar pictures of users and groups: [`AvatarStore`] (with groups).
pub(crate) mod avatars {
    use super::Fixture;
    use crate::storage::*;

    /// A picture is kept once however many users and groups show it, and goes when the last lets it go.
    pub(crate) fn an_avatar_is_kept_while_someone_shows_it<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + GroupStore + AvatarStore,
    {
        let s = f.open();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let g = s.create_group(a, "g", 1).unwrap().id;
        let pic = |c: &str, bytes: &[u8]| Avatar {
            sha256: c.repeat(64),
            bytes: bytes.to_vec(),
        };
        let one = pic("1", b"\x89PNG one");
        let two = pic("2", b"\xff\xd8 two");
        assert!(s.avatar(&one.sha256).unwrap().is_none());
        s.set_avatar(AvatarOwner::User(a), Some(&one)).unwrap();
        s.set_avatar(AvatarOwner::Group(g), Some(&one)).unwrap();
        assert_eq!(
            s.user_by_id(a).unwrap().unwrap().avatar,
            Some(one.sha256.clone())
        );
        assert_eq!(
            s.group(g).unwrap().unwrap().avatar,
            Some(one.sha256.clone())
        );
        assert_eq!(f.open().avatar(&one.sha256).unwrap().unwrap(), one.bytes);
        // alice changes hers: the group still shows the first.
        s.set_avatar(AvatarOwner::User(a), Some(&two)).unwrap();
        assert_eq!(s.avatar(&one.sha256).unwrap().unwrap(), one.bytes);
        assert_eq!(s.avatar(&two.sha256).unwrap().unwrap(), two.bytes);
        // The group drops it: nobody shows it any more.
        s.set_avatar(AvatarOwner::Group(g), None).unwrap();
        assert!(s.group(g).unwrap().unwrap().avatar.is_none());
        assert!(s.avatar(&one.sha256).unwrap().is_none());
        // Setting the same one again changes nothing.
        s.set_avatar(AvatarOwner::User(a), Some(&two)).unwrap();
        assert_eq!(s.avatar(&two.sha256).unwrap().unwrap(), two.bytes);
        // Dissolving a group lets its picture go.
        s.set_avatar(AvatarOwner::Group(g), Some(&one)).unwrap();
        s.delete_group(g).unwrap();
        assert!(s.avatar(&one.sha256).unwrap().is_none());
        s.set_avatar(AvatarOwner::User(a), None).unwrap();
        assert!(s.user_by_id(a).unwrap().unwrap().avatar.is_none());
        assert!(s.avatar(&two.sha256).unwrap().is_none());
    }
}

/// The nodes sharing a database: [`NodeStore`]. What two nodes on one database do is PostgreSQL's own
/// (`postgres/tests.rs`); here, what a lone serving node sees on every backend.
pub(crate) mod nodes {
    use super::Fixture;
    use crate::storage::*;

    /// A lone node is alive, leads the sweeps (every time it asks) and never reaps itself, however long
    /// ago its last heartbeat was; its connections stay.
    pub(crate) fn a_lone_node_lives_leads_and_reaps_no_one<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + NodeStore,
    {
        let n = f.node("a");
        let alice = n.create_user("alice", "A", "h", 1).unwrap().id;
        n.add_connection(&super::connection(1)).unwrap();
        n.set_connection_user(1, alice).unwrap();
        let now = 1_000_000_000_000;
        assert!(n.heartbeat(now).unwrap());
        assert!(n.lead().unwrap());
        assert!(n.lead().unwrap());
        assert_eq!(
            n.reap_silent_nodes(now + 10 * NODE_SILENCE_LIMIT).unwrap(),
            Reaped::default()
        );
        assert_eq!(n.connections().unwrap().len(), 1);
    }

    /// Presence: a login is its user's first connection, or not; a connection's end is their last, or
    /// not; an unknown connection's end is nobody's.
    pub(crate) fn a_users_first_and_last_connection_are_told<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + PassStore,
    {
        let n = f.node("a");
        let alice = n.create_user("alice", "A", "h", 1).unwrap().id;
        for conn_id in [1, 2] {
            n.add_connection(&super::connection(conn_id)).unwrap();
        }
        assert!(n.arrive(1, alice).unwrap(), "her first");
        assert!(!n.arrive(2, alice).unwrap(), "her second");
        assert_eq!(n.depart(1).unwrap(), None, "one is left");
        assert_eq!(n.depart(2).unwrap(), Some(alice), "her last");
        assert_eq!(n.depart(3).unwrap(), None, "no such connection");
        assert!(n.connections().unwrap().is_empty());
    }

    /// The login throttle's counters: what a decision leaves is kept, for any handle (any node) to see
    /// next; only the named counters are in play; a removed one is gone; the sweep forgets counters
    /// whose window has passed, unless they are blocked.
    pub(crate) fn throttle_counters_are_kept_by_name<F: Fixture>(f: &F)
    where
        F::Handle: ThrottleStore,
    {
        let (one, two) = (f.node("a"), f.open());
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let entry = |count, since, blocked_until| ThrottleEntry {
            count,
            since,
            blocked_until,
        };
        one.throttle(&names(&["ip a", "ip b", "ip c"]), &mut |c| {
            assert!(c.is_empty());
            c.insert("ip a".into(), entry(1, 100, None));
            c.insert("ip b".into(), entry(2, 100, Some(5_000)));
            c.insert("ip c".into(), entry(3, 4_000, None));
        })
        .unwrap();
        two.throttle(&names(&["ip a", "ip z"]), &mut |c| {
            assert_eq!(c.len(), 1, "{c:?}");
            c.get_mut("ip a").unwrap().count += 1;
        })
        .unwrap();
        one.throttle(&names(&["ip a", "ip c"]), &mut |c| {
            assert_eq!(c["ip a"], entry(2, 100, None));
            c.remove("ip c");
        })
        .unwrap();
        // At 2,000 with a window of 1,000: a's window has passed, b's block has not.
        assert_eq!(two.sweep_throttle(2_000, 1_000).unwrap(), 1);
        one.throttle(&names(&["ip a", "ip b", "ip c"]), &mut |c| {
            assert_eq!(c.len(), 1, "{c:?}");
            assert_eq!(c["ip b"], entry(2, 100, Some(5_000)));
        })
        .unwrap();
    }
}

/// The backend's own upkeep: [`Upkeep`].
pub(crate) mod upkeep {
    use super::Fixture;
    use crate::storage::*;

    /// Upkeep runs beside requests, from another handle too, and loses nothing.
    pub(crate) fn upkeep_runs_beside_requests<F: Fixture>(f: &F)
    where
        F::Handle: AccountStore + Upkeep,
    {
        let s = f.open();
        let other = f.open();
        s.create_user("alice", "A", "h", 1).unwrap();
        for _ in 0..3 {
            s.maintain().unwrap();
            other.maintain().unwrap();
        }
        assert!(other.user_by_account("alice").unwrap().is_some());
    }
}

/// Connection `conn_id`, from 10.0.0.1, with no user yet.
fn connection(conn_id: u64) -> crate::storage::ConnectionRecord {
    crate::storage::ConnectionRecord {
        conn_id,
        account: None,
        ip: "10.0.0.1".into(),
        port: 4000,
        since: 7,
        node: None,
    }
}

/// What `end_sessions(3, "disabled", 10)` then `end_sessions(4, "password_changed", 20)` leave for a
/// server to take (here and in the PostgreSQL tests with several nodes).
pub(crate) fn first_two_ends() -> [crate::storage::SessionEnd; 2] {
    [
        crate::storage::SessionEnd {
            user: 3,
            code: "disabled".into(),
            at: 10,
        },
        crate::storage::SessionEnd {
            user: 4,
            code: "password_changed".into(),
            at: 20,
        },
    ]
}
