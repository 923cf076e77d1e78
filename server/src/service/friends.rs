//! Friends: search, requests, the friend list, remarks, and online/offline notices.

use std::collections::HashSet;

use ququ_protocol::Feature;
use ququ_protocol::{Conv, ErrorCode, Features, Presence, ServerMessage};

use super::hub::Forms;
use super::{Caller, Result, ServiceError, Services, SessionId, check_name, line, now_millis};
use crate::config::FindPresence;
use crate::storage::{CategoryRefusal, FriendRecord, UserId, UserRecord};

const SEARCH_LIMIT: u32 = 50;
const NOTE_LIMIT: u32 = 200;

impl Services {
    fn presence_of(&self, user: &UserRecord) -> Presence {
        if self.hub.is_online(user.id) {
            Presence::Online
        } else {
            Presence::Offline
        }
    }

    /// A friend's line as a session with `features` reads it: their friend group with `CATEGORY`, their
    /// profile with `PROFILE`.
    fn friend_line(&self, f: FriendRecord, features: Features) -> ServerMessage {
        ServerMessage::Friend {
            presence: self.presence_of(&f.user),
            account: f.user.account,
            nickname: f.user.nickname,
            remark: f.remark,
            category: features.category.then_some(f.category),
            profile: features.profile.then_some(f.user.profile),
        }
    }

    /// Pushes a friend's line to `user`'s sessions (but `except`), each in the form it reads; with
    /// `only_category`, only to those with the `CATEGORY` feature (a move is nothing to the others).
    fn push_friend(
        &self,
        user: UserId,
        view: FriendRecord,
        except: Option<SessionId>,
        only_category: bool,
    ) {
        // Two trailing parts, each on its own feature: four forms, indexed [category][profile].
        let form = |category, profile| {
            let features = Features {
                category,
                profile,
                ..Features::default()
            };
            line(&self.friend_line(view.clone(), features))
        };
        let forms = [
            [form(false, false), form(false, true)],
            [form(true, false), form(true, true)],
        ];
        let mut wakes = super::hub::Wakes::default();
        let [[a, b], [c, d]] = forms;
        let forms = Forms::by_two(
            Feature::Category,
            Feature::Profile,
            [
                [(!only_category).then_some(a), (!only_category).then_some(b)],
                [Some(c), Some(d)],
            ],
        );
        self.hub.queue_forms([user], &forms, except, &mut wakes);
        wakes.wake();
    }

    pub(super) async fn user_named(&self, account: &str) -> Result<UserRecord> {
        let lookup = account.to_owned();
        self.db(move |s| s.user_by_account(&lookup))
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| {
                ServiceError::refused(
                    ErrorCode::NoSuchUser,
                    format!("there is no account {account}"),
                )
                .about(account)
            })
    }

    /// Tells the user's friends on this node that they came online or went offline.
    pub(super) async fn announce_presence(&self, uid: UserId, account: &str, presence: Presence) {
        let friends = match self.db(move |s| s.friends(uid)).await {
            Ok(friends) => friends,
            Err(e) => {
                tracing::warn!(error = %e, "could not load friends for a presence notice");
                return;
            }
        };
        let msg = line(&ServerMessage::Presence {
            account: account.to_owned(),
            presence,
        });
        // This node's sessions only: in cluster mode every node tells its own (`passing.rs`).
        self.hub
            .here()
            .send_many(friends.iter().map(|f| f.user.id), &msg, None);
    }

    pub(super) async fn find_users(
        &self,
        me: &Caller,
        query: String,
    ) -> Result<Vec<ServerMessage>> {
        let query = query.trim().to_owned();
        if query.is_empty() {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "type part of an account name or nickname to search",
            ));
        }
        // Whether someone is online is theirs to show to friends, not to anyone who can guess a name
        // (issue 20, item 7): by default a stranger is shown `offline`, as the field has no third value
        // an old client would parse.
        let everyone = self.config.find_presence == FindPresence::Everyone;
        let uid = me.user;
        let (found, friends) = self
            .db(move |s| {
                let found = s.search_users(&query, SEARCH_LIMIT)?;
                let friends: HashSet<UserId> = if everyone {
                    HashSet::new()
                } else {
                    s.friends(uid)?.into_iter().map(|f| f.user.id).collect()
                };
                Ok((found, friends))
            })
            .await?;
        let count = found.len() as u32;
        let mut out: Vec<_> = found
            .into_iter()
            .map(|u| ServerMessage::Found {
                presence: if everyone || u.id == uid || friends.contains(&u.id) {
                    self.presence_of(&u)
                } else {
                    Presence::Offline
                },
                account: u.account,
                nickname: u.nickname,
            })
            .collect();
        out.push(ServerMessage::FoundEnd { count });
        Ok(out)
    }

    pub(super) async fn friend_request(
        &self,
        me: &Caller,
        session: SessionId,
        account: String,
        note: String,
    ) -> Result<Vec<ServerMessage>> {
        // Control characters in a note would act on the friend's terminal as a message's would (issue
        // 20, item 5); PostgreSQL cannot even store a NUL.
        check_name("the note", &note, NOTE_LIMIT, true).map_err(|e| e.about(account.clone()))?;
        let them = self.user_named(&account).await?;
        let refuse =
            |code, text: &str| Err(ServiceError::refused(code, text).about(account.clone()));
        if them.id == me.user {
            return refuse(
                ErrorCode::SelfRequest,
                "you cannot add yourself as a friend",
            );
        }
        let (uid, tid, max) = (me.user, them.id, self.config.limits.friends);
        let (already, count, mutual, blocked) = self
            .db(move |s| {
                let mutual = s.has_request(tid, uid)?;
                let blocked = s.blocks(tid, uid)?;
                Ok((
                    s.are_friends(uid, tid)?,
                    s.friend_count(uid)?,
                    mutual,
                    blocked,
                ))
            })
            .await?;
        if already {
            return refuse(ErrorCode::AlreadyFriends, "you are friends already");
        }
        if count >= max {
            return refuse(
                ErrorCode::TooMany,
                "you have as many friends as the server allows",
            );
        }
        // They block me: the request is kept for my list of requests waiting, and never reaches them
        // (not live, not in their list, not after an unblock). I am answered as ever, so I learn nothing;
        // and a request of theirs to me is not accepted by asking back.
        if blocked {
            let now = now_millis();
            self.db(move |s| s.put_request(uid, tid, &note, now, true))
                .await?;
            let sent = ServerMessage::RequestSent {
                account: them.account,
            };
            self.hub.send(me.user, &line(&sent), Some(session));
            return Ok(vec![sent]);
        }
        if mutual {
            // They asked me first: asking back is accepting.
            return self.accept_friend(me, them.account).await;
        }
        let now = now_millis();
        let stored_note = note.clone();
        // A request already waiting is refreshed (its note and time), not pushed again: asking 5,000
        // times pushed 5,000 lines to the target (issue 20). Its latest note shows in their list.
        let waiting = self
            .db(move |s| {
                let waiting = s.has_request(uid, tid)?;
                s.put_request(uid, tid, &stored_note, now, false)?;
                Ok(waiting)
            })
            .await?;
        if !waiting {
            let me_record = self.user_by_id(me.user).await?;
            let request = ServerMessage::FriendRequest {
                from: me_record.account,
                time: now,
                nickname: me_record.nickname,
                note,
            };
            self.hub.send(them.id, &line(&request), None);
            // Who asks, with their picture, as the requests list shows them.
            let msg = super::avatars::avatar_of(Conv::User(me.account.clone()), me_record.avatar);
            self.tell_avatar([them.id], &msg, None);
        }
        let sent = ServerMessage::RequestSent {
            account: them.account,
        };
        self.hub.send(me.user, &line(&sent), Some(session));
        Ok(vec![sent])
    }

    async fn user_by_id(&self, id: crate::storage::UserId) -> Result<UserRecord> {
        self.db(move |s| s.user_by_id(id))
            .await?
            .ok_or_else(|| ServiceError::refused(ErrorCode::NoSuchUser, "the account is gone"))
    }

    pub(super) async fn accept_friend(
        &self,
        me: &Caller,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        let them = self.user_named(&account).await?;
        let (uid, tid, now) = (me.user, them.id, now_millis());
        let views = self
            .db(move |s| {
                let pending = s.has_request(tid, uid)?;
                if !pending {
                    return Ok(None);
                }
                s.add_friendship(uid, tid, now)?;
                Ok(Some((s.friend(uid, tid)?, s.friend(tid, uid)?)))
            })
            .await?;
        let Some((Some(mine), Some(theirs))) = views else {
            return Err(ServiceError::refused(
                ErrorCode::NoRequest,
                format!("{account} has not asked to be your friend"),
            )
            .about(account));
        };
        // Each side learns the other's avatar right after the new friend's line.
        let (my_avatar, their_avatar) = (theirs.user.avatar.clone(), mine.user.avatar.clone());
        self.push_friend(them.id, theirs, None, false);
        let msg = super::avatars::avatar_of(Conv::User(me.account.clone()), my_avatar);
        self.tell_avatar([them.id], &msg, None);
        let closed = ServerMessage::RequestClosed {
            account: them.account,
        };
        // My other sessions update too; this one gets the same lines as the reply.
        self.hub.send(me.user, &line(&closed), None);
        self.push_friend(me.user, mine, None, false);
        let msg = super::avatars::avatar_of(Conv::User(account), their_avatar);
        self.tell_avatar([me.user], &msg, None);
        Ok(Vec::new())
    }

    pub(super) async fn reject_friend(
        &self,
        me: &Caller,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        let them = self.user_named(&account).await?;
        let (uid, tid, now) = (me.user, them.id, now_millis());
        // The refusal is kept, then forgotten once a session of the sender has it queued, so whether
        // it is kept is decided as it is told: a sender offline by then hears of it at their next
        // listing of requests.
        let taken = self
            .db(move |s| {
                let taken = s.take_request(tid, uid)?;
                if taken {
                    s.put_declined(tid, uid, now)?;
                }
                Ok(taken)
            })
            .await?;
        if !taken {
            return Err(ServiceError::refused(
                ErrorCode::NoRequest,
                format!("{account} has not asked to be your friend"),
            )
            .about(account));
        }
        let rejected = ServerMessage::FriendRejected {
            account: me.account.clone(),
        };
        if self.hub.send(them.id, &line(&rejected), None)
            && let Err(e) = self.db(move |s| s.forget_declined(tid, uid)).await
        {
            // The refusal is made; at worst the sender is told it once more.
            tracing::warn!(error = %e, "could not forget a refusal already told");
        }
        let closed = ServerMessage::RequestClosed {
            account: them.account,
        };
        self.hub.send(me.user, &line(&closed), None);
        Ok(Vec::new())
    }

    pub(super) async fn delete_friend(
        &self,
        me: &Caller,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        let them = self.user_named(&account).await?;
        let (uid, tid) = (me.user, them.id);
        if !self.db(move |s| s.remove_friendship(uid, tid)).await? {
            return Err(ServiceError::refused(
                ErrorCode::NotFriends,
                format!("{account} is not your friend"),
            )
            .about(account));
        }
        let to_them = ServerMessage::FriendRemoved {
            account: me.account.clone(),
        };
        self.hub.send(them.id, &line(&to_them), None);
        let to_me = ServerMessage::FriendRemoved {
            account: them.account,
        };
        self.hub.send(me.user, &line(&to_me), None);
        Ok(Vec::new())
    }

    pub(super) async fn set_remark(
        &self,
        me: &Caller,
        session: SessionId,
        features: Features,
        account: String,
        remark: String,
    ) -> Result<Vec<ServerMessage>> {
        check_name("the remark", &remark, self.config.limits.name, true)
            .map_err(|e| e.about(account.clone()))?;
        let them = self.user_named(&account).await?;
        let (uid, tid) = (me.user, them.id);
        let view = self
            .db(move |s| {
                if !s.set_remark(uid, tid, &remark)? {
                    return Ok(None);
                }
                s.friend(uid, tid)
            })
            .await?
            .ok_or_else(|| {
                ServiceError::refused(
                    ErrorCode::NotFriends,
                    format!("{account} is not your friend"),
                )
                .about(account.clone())
            })?;
        let friend = self.friend_line(view.clone(), features);
        self.push_friend(me.user, view, Some(session), false);
        Ok(vec![friend])
    }

    pub(super) async fn list_friends(
        &self,
        me: &Caller,
        features: Features,
    ) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let friends = self.db(move |s| s.friends(uid)).await?;
        let count = friends.len() as u32;
        // Whose avatar is which follows the list (see `avatars_after`).
        let avatars: Vec<_> = friends
            .iter()
            .map(|f| (Conv::User(f.user.account.clone()), f.user.avatar.clone()))
            .collect();
        let mut out: Vec<_> = friends
            .into_iter()
            .map(|f| self.friend_line(f, features))
            .collect();
        out.push(ServerMessage::FriendsEnd { count });
        out.extend(super::avatars::avatars_after(features, avatars));
        Ok(out)
    }

    pub(super) async fn list_requests(
        &self,
        me: &Caller,
        features: Features,
    ) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let (requests, sent, declined) = self
            .db(move |s| {
                Ok((
                    s.requests_to(uid)?,
                    s.requests_from(uid)?,
                    s.take_declined(uid)?,
                ))
            })
            .await?;
        let count = requests.len() as u32;
        // Everyone listed, asking or asked, with their picture (after the list and its refusals).
        let avatars: Vec<_> = requests
            .iter()
            .map(|r| &r.from)
            .chain(sent.iter().map(|r| &r.to))
            .map(|u| (Conv::User(u.account.clone()), u.avatar.clone()))
            .collect();
        let mut out: Vec<_> = requests
            .into_iter()
            .map(|r| ServerMessage::FriendRequest {
                from: r.from.account,
                time: r.time,
                nickname: r.from.nickname,
                note: r.note,
            })
            .collect();
        out.extend(sent.into_iter().map(|r| ServerMessage::RequestWaiting {
            to: r.to.account,
            time: r.time,
            nickname: r.to.nickname,
        }));
        out.push(ServerMessage::RequestsEnd { count });
        // Refusals that happened while I was away, after the list (they are not requests to me).
        out.extend(
            declined
                .into_iter()
                .map(|account| ServerMessage::FriendRejected { account }),
        );
        out.extend(super::avatars::avatars_after(features, avatars));
        Ok(out)
    }
}

// The block list (拉黑).
impl Services {
    /// `BLOCK:` — from now on their private messages, file offers, friend requests and typing to me are
    /// dropped without a word to them (see `writer.rs`, `files.rs`, `friend_request`, `typing`). Nothing
    /// else changes: a friendship stays (deleting it is `DEL_FRIEND:`), groups are as they were, and my
    /// presence and profile still reach them, so nothing on their side changes when I block them.
    pub(super) async fn block(
        &self,
        me: &Caller,
        session: SessionId,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        let them = self.user_named(&account).await?;
        if them.id == me.user {
            return Err(
                ServiceError::refused(ErrorCode::BadRequest, "you cannot block yourself")
                    .about(account),
            );
        }
        let (uid, tid, now) = (me.user, them.id, now_millis());
        let (since, hid_request) = self.db(move |s| s.block(uid, tid, now)).await?;
        let blocked = ServerMessage::Blocked {
            account: them.account.clone(),
            time: since,
            nickname: them.nickname,
        };
        let mut wakes = super::hub::Wakes::default();
        let mut reply = Vec::new();
        if hid_request {
            // Their request waiting for me is gone from my list, as if answered.
            let closed = ServerMessage::RequestClosed {
                account: them.account,
            };
            self.hub
                .queue([uid], &line(&closed), Some(session), &mut wakes);
            reply.push(closed);
        }
        let forms = Forms::by(Feature::Block, None, line(&blocked));
        self.hub
            .queue_forms([uid], &forms, Some(session), &mut wakes);
        wakes.wake();
        reply.push(blocked);
        Ok(reply)
    }

    /// `UNBLOCK:` — what they send me from now on reaches me again; what was dropped stays dropped.
    /// Unblocking someone not blocked is answered the same (as blocking twice is).
    pub(super) async fn unblock(
        &self,
        me: &Caller,
        session: SessionId,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        let them = self.user_named(&account).await?;
        let (uid, tid) = (me.user, them.id);
        self.db(move |s| s.unblock(uid, tid)).await?;
        let unblocked = ServerMessage::Unblocked {
            account: them.account,
        };
        let mut wakes = super::hub::Wakes::default();
        let forms = Forms::by(Feature::Block, None, line(&unblocked));
        self.hub
            .queue_forms([uid], &forms, Some(session), &mut wakes);
        wakes.wake();
        Ok(vec![unblocked])
    }

    /// `BLOCKS` — the accounts I block, by name.
    pub(super) async fn list_blocks(&self, me: &Caller) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let blocked = self.db(move |s| s.blocked(uid)).await?;
        let count = blocked.len() as u32;
        let mut out: Vec<_> = blocked
            .into_iter()
            .map(|(user, time)| ServerMessage::Blocked {
                account: user.account,
                time,
                nickname: user.nickname,
            })
            .collect();
        out.push(ServerMessage::BlocksEnd { count });
        Ok(out)
    }
}

// Friend groups (好友分组): the user's own, kept here so all their devices show the same; each change is
// told to their other sessions with the `CATEGORY` feature (the one that asked is answered either way).
impl Services {
    /// `CATEGORIES` — my groups in their order; the default group (0) is every user's and not listed.
    pub(super) async fn list_categories(&self, me: &Caller) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let categories = self.db(move |s| s.categories(uid)).await?;
        let count = categories.len() as u32;
        let mut out: Vec<_> = categories
            .into_iter()
            .map(|(category, name)| ServerMessage::Category { category, name })
            .collect();
        out.push(ServerMessage::CategoriesEnd { count });
        Ok(out)
    }

    /// `CATEGORY_ADD:` — a new group, last.
    pub(super) async fn add_category(
        &self,
        me: &Caller,
        session: SessionId,
        name: String,
    ) -> Result<Vec<ServerMessage>> {
        check_name("the group name", &name, self.config.limits.name, false)?;
        let (uid, max) = (me.user, self.config.limits.categories);
        let stored = name.clone();
        let category = self
            .db(move |s| s.add_category(uid, &stored, max))
            .await?
            .map_err(|refusal| category_refused(refusal, &name))?;
        Ok(vec![self.tell_category(
            uid,
            session,
            ServerMessage::Category { category, name },
        )])
    }

    /// `CATEGORY_RENAME:` — the default group has no name of its own to change (the app says it in the
    /// user's language), so 0 is `no_such_category`.
    pub(super) async fn rename_category(
        &self,
        me: &Caller,
        session: SessionId,
        category: u64,
        name: String,
    ) -> Result<Vec<ServerMessage>> {
        check_name("the group name", &name, self.config.limits.name, false)?;
        let uid = me.user;
        let stored = name.clone();
        self.db(move |s| s.rename_category(uid, category, &stored))
            .await?
            .map_err(|refusal| category_refused(refusal, &category.to_string()))?;
        Ok(vec![self.tell_category(
            uid,
            session,
            ServerMessage::Category { category, name },
        )])
    }

    /// `CATEGORY_DEL:` — its friends go back to the default group, which `CATEGORY_GONE:` says for them
    /// all (no `FRIEND:` line each).
    pub(super) async fn delete_category(
        &self,
        me: &Caller,
        session: SessionId,
        category: u64,
    ) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        if !self.db(move |s| s.delete_category(uid, category)).await? {
            return Err(category_refused(
                CategoryRefusal::NoSuch,
                &category.to_string(),
            ));
        }
        Ok(vec![self.tell_category(
            uid,
            session,
            ServerMessage::CategoryGone { category },
        )])
    }

    /// `CATEGORY_ORDER:` — the whole order, so two devices reordering at once end with one of theirs.
    pub(super) async fn order_categories(
        &self,
        me: &Caller,
        session: SessionId,
        categories: Vec<u64>,
    ) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let order = categories.clone();
        self.db(move |s| s.order_categories(uid, &order))
            .await?
            .map_err(|refusal| category_refused(refusal, ""))?;
        Ok(vec![self.tell_category(
            uid,
            session,
            ServerMessage::CategoryOrder { categories },
        )])
    }

    /// `FRIEND_MOVE:` — only I see which group a friend is in; they are not told.
    pub(super) async fn move_friend(
        &self,
        me: &Caller,
        session: SessionId,
        features: Features,
        account: String,
        category: u64,
    ) -> Result<Vec<ServerMessage>> {
        let them = self.user_named(&account).await?;
        let (uid, tid) = (me.user, them.id);
        let view = self
            .db(move |s| s.move_friend(uid, tid, category))
            .await?
            .map_err(|refusal| match refusal {
                CategoryRefusal::NotFriends => ServiceError::refused(
                    ErrorCode::NotFriends,
                    format!("{account} is not your friend"),
                )
                .about(account.clone()),
                other => category_refused(other, &category.to_string()),
            })?;
        let friend = self.friend_line(view.clone(), features);
        self.push_friend(uid, view, Some(session), true);
        Ok(vec![friend])
    }

    /// Tells my other sessions with the `CATEGORY` feature, and returns the line for this one.
    fn tell_category(&self, user: UserId, session: SessionId, msg: ServerMessage) -> ServerMessage {
        let mut wakes = super::hub::Wakes::default();
        let forms = Forms::by(Feature::Category, None, line(&msg));
        self.hub
            .queue_forms([user], &forms, Some(session), &mut wakes);
        wakes.wake();
        msg
    }
}

/// The refusal for a friend-group change; `about` is the group's id, or the name that clashes.
fn category_refused(refusal: CategoryRefusal, about: &str) -> ServiceError {
    let (code, text) = match refusal {
        CategoryRefusal::NoSuch => (
            ErrorCode::NoSuchCategory,
            "you have no friend group with that id (the default group cannot be renamed or deleted)",
        ),
        CategoryRefusal::Exists => (
            ErrorCode::CategoryExists,
            "you have a friend group with that name already",
        ),
        CategoryRefusal::TooMany => (
            ErrorCode::TooMany,
            "you have as many friend groups as the server allows",
        ),
        CategoryRefusal::NotFriends => (ErrorCode::NotFriends, "that account is not your friend"),
        CategoryRefusal::NoSuchIn(id) => {
            return ServiceError::refused(
                ErrorCode::NoSuchCategory,
                "you have no friend group with that id",
            )
            .about(id.to_string());
        }
        CategoryRefusal::NotEveryOne => {
            return ServiceError::refused(
                ErrorCode::BadRequest,
                "name each of your friend groups once (another device may have added one: list them \
                 again)",
            );
        }
    };
    ServiceError::refused(code, text).about(about)
}
