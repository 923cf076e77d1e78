//! Friends: search, requests, the friend list, remarks, and online/offline notices.

use std::collections::HashSet;

use ququ_protocol::{Conv, ErrorCode, Features, Presence, ServerMessage};

use super::{
    Caller, Result, ServiceError, Services, SessionId, check_len, check_name, line, now_millis,
};
use crate::config::FindPresence;
use crate::storage::{FriendRecord, UserId, UserRecord};

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

    /// A friend's line as a session with `features` reads it: their profile with `PROFILE`.
    fn friend_line(&self, f: FriendRecord, features: Features) -> ServerMessage {
        ServerMessage::Friend {
            presence: self.presence_of(&f.user),
            account: f.user.account,
            nickname: f.user.nickname,
            remark: f.remark,
            profile: features.profile.then_some(f.user.profile),
        }
    }

    /// Pushes a friend's line to `user`'s sessions (but `except`), each in the form it reads.
    fn push_friend(&self, user: UserId, view: FriendRecord, except: Option<SessionId>) {
        let rich = line(&self.friend_line(view.clone(), Features::ALL));
        let plain = line(&self.friend_line(view, Features::default()));
        let mut wakes = super::hub::Wakes::default();
        self.hub.queue_forms(
            [user],
            Some(&plain),
            &rich,
            |f| f.profile,
            except,
            &mut wakes,
        );
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

    /// Tells every online friend that `me` came online or went offline.
    pub(super) async fn announce_presence(&self, me: &Caller, presence: Presence) {
        let uid = me.user;
        let friends = match self.db(move |s| s.friends(uid)).await {
            Ok(friends) => friends,
            Err(e) => {
                tracing::warn!(error = %e, "could not load friends for a presence notice");
                return;
            }
        };
        let msg = line(&ServerMessage::Presence {
            account: me.account.clone(),
            presence,
        });
        self.hub
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
        check_len("the note", &note, NOTE_LIMIT).map_err(|e| e.about(account.clone()))?;
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
        self.push_friend(them.id, theirs, None);
        let msg = super::avatars::avatar_of(Conv::User(me.account.clone()), my_avatar);
        self.tell_avatar([them.id], &msg, None);
        let closed = ServerMessage::RequestClosed {
            account: them.account,
        };
        // My other sessions update too; this one gets the same lines as the reply.
        self.hub.send(me.user, &line(&closed), None);
        self.push_friend(me.user, mine, None);
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
        self.push_friend(me.user, view, Some(session));
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
        self.hub.queue_forms(
            [uid],
            None,
            &line(&blocked),
            |f| f.block,
            Some(session),
            &mut wakes,
        );
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
        self.hub.queue_forms(
            [uid],
            None,
            &line(&unblocked),
            |f| f.block,
            Some(session),
            &mut wakes,
        );
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
