//! Groups: create, join, leave, invite, kick, rename, dissolve, the member list, and (issue 25) admins
//! and handing a group over.

use ququ_protocol::Feature;
use ququ_protocol::{
    Conv, ErrorCode, Features, GoneReason, GroupEventKind, JoinPolicy, Presence, Role,
    ServerMessage,
};

use super::avatars::{avatar_of, avatars_after};
use super::hub::Forms;
use super::{Caller, Result, ServiceError, Services, check_len, check_name, line, now_millis};
use crate::storage::{Body, GroupRecord, MemberRecord, NewMessage, Target, UserId};

fn info(g: &GroupRecord) -> ServerMessage {
    ServerMessage::GroupInfo {
        group: g.id as u64,
        owner: g.owner_account.clone(),
        members: g.members,
        name: g.name.clone(),
    }
}

fn no_group(group: u64) -> ServiceError {
    ServiceError::refused(ErrorCode::NoSuchGroup, format!("there is no group {group}"))
        .about(group.to_string())
}

fn not_member(group: u64) -> ServiceError {
    ServiceError::refused(
        ErrorCode::NotMember,
        format!("you are not in group {group}"),
    )
    .about(group.to_string())
}

/// The role as a session is shown it: a client that did not ask for `GROUP_ROLE` cannot parse `admin` in a
/// `MEMBER:` line (it would drop the whole line, and the member with it), so it sees a plain member.
fn shown_role(role: Role, features: Features) -> Role {
    if role == Role::Admin && !features.group_role {
        Role::Member
    } else {
        role
    }
}

fn not_owner(group: u64, what: &str) -> ServiceError {
    ServiceError::refused(
        ErrorCode::NotOwner,
        format!("only the group's owner can {what}"),
    )
    .about(group.to_string())
}

impl Services {
    fn member_line(&self, group: u64, m: &MemberRecord, features: Features) -> ServerMessage {
        // An ended mute reads as none, so a client need not compare clocks with the server.
        let muted_until = features
            .group_mute
            .then_some(m.muted_until)
            .map(|until| if until > now_millis() { until } else { 0 });
        ServerMessage::Member {
            muted_until,
            group,
            account: m.user.account.clone(),
            role: shown_role(m.role, features),
            presence: if self.hub.is_online(m.user.id) {
                Presence::Online
            } else {
                Presence::Offline
            },
            nickname: m.user.nickname.clone(),
            profile: features.profile.then(|| m.user.profile.clone()),
        }
    }

    /// The group and the caller's role in it; `no_such_group` or `not_member` otherwise.
    pub(super) async fn membership(&self, me: &Caller, group: u64) -> Result<(GroupRecord, Role)> {
        self.membership_of(me.user, group).await
    }

    /// [`Services::membership`] by user id.
    pub(super) async fn membership_of(
        &self,
        user: UserId,
        group: u64,
    ) -> Result<(GroupRecord, Role)> {
        let (gid, uid) = (group as i64, user);
        let (g, role) = self
            .db(move |s| Ok((s.group(gid)?, s.role(gid, uid)?)))
            .await?;
        let g = g.ok_or_else(|| no_group(group))?;
        let role = role.ok_or_else(|| not_member(group))?;
        Ok((g, role))
    }

    async fn member_ids(&self, group: u64) -> Result<Vec<UserId>> {
        let gid = group as i64;
        self.db(move |s| s.member_ids(gid)).await
    }

    pub(super) async fn create_group(
        &self,
        me: &Caller,
        name: String,
    ) -> Result<Vec<ServerMessage>> {
        check_name("the group name", &name, self.config.limits.name, false)?;
        let (uid, now, max) = (me.user, now_millis(), self.config.limits.groups);
        // Checked and created in one call on the blocking pool; the rate limit on changes keeps what
        // concurrent sessions of one user could slip past the check to a handful.
        let g = self
            .db(move |s| {
                let owned = s.groups_of(uid)?.iter().filter(|g| g.owner == uid).count();
                if owned >= max as usize {
                    return Ok(Err(owned));
                }
                s.create_group(uid, &name, now).map(Ok)
            })
            .await?
            .map_err(|owned| {
                ServiceError::refused(
                    ErrorCode::TooMany,
                    format!(
                        "you own {owned} groups, the most this server allows; dissolve one first"
                    ),
                )
            })?;
        tracing::info!(group = g.id, "group created");
        let msg = info(&g);
        self.hub.send(me.user, &line(&msg), None);
        Ok(Vec::new())
    }

    /// Adds `user` and tells everyone: the newcomer's sessions get `GROUP_INFO` (and `GROUP_MUTE` if a
    /// mute from before they left still runs), the others a `MEMBER` line, with that mute in it.
    async fn add_to_group(&self, group: u64, user: UserId) -> Result<()> {
        let gid = group as i64;
        let (max, now) = (self.config.limits.members, now_millis());
        let added = self
            .db(move |s| {
                let g = s.group(gid)?;
                if g.as_ref().is_some_and(|g| g.members >= max) {
                    return Ok(Err(ErrorCode::TooMany));
                }
                let Some(muted_until) = s.add_member(gid, user, Role::Member, now)? else {
                    return Ok(Err(ErrorCode::AlreadyMember));
                };
                let g = s.group(gid)?;
                let me = s.user_by_id(user)?.map(|user| MemberRecord {
                    user,
                    role: Role::Member,
                    muted_until,
                });
                Ok(Ok((g, me)))
            })
            .await?;
        let (g, member) = match added {
            Ok((Some(g), Some(member))) => (g, member),
            Ok(_) => return Err(no_group(group)),
            Err(ErrorCode::TooMany) => {
                return Err(ServiceError::refused(
                    ErrorCode::TooMany,
                    format!("group {group} is full ({max} members)"),
                )
                .about(group.to_string()));
            }
            Err(code) => {
                return Err(ServiceError::refused(code, "already a member of the group")
                    .about(group.to_string()));
            }
        };
        self.hub.send(user, &line(&info(&g)), None);
        self.tell_avatar(
            [user],
            &avatar_of(Conv::Group(group), g.avatar.clone()),
            None,
        );
        if member.muted_until > 0 {
            // Leaving did not end it: their client learns it as it would have, had they stayed.
            self.tell_mute(
                vec![user],
                &ServerMessage::GroupMute {
                    group,
                    account: member.user.account.clone(),
                    until: member.muted_until,
                },
            );
        }
        let others: Vec<_> = self
            .member_ids(group)
            .await?
            .into_iter()
            .filter(|id| *id != user)
            .collect();
        // A newcomer is a plain member (muted or not): the forms differ only in the mute and profile
        // fields.
        let form = |group_mute, profile| {
            let features = Features {
                group_mute,
                profile,
                ..Features::default()
            };
            line(&self.member_line(group, &member, features))
        };
        let forms = [
            [form(false, false), form(false, true)],
            [form(true, false), form(true, true)],
        ];
        let mut wakes = super::hub::Wakes::default();
        let [[a, b], [c, d]] = forms;
        let forms = Forms::by_two(
            Feature::GroupMute,
            Feature::Profile,
            [[Some(a), Some(b)], [Some(c), Some(d)]],
        );
        self.hub
            .queue_forms(others.iter().copied(), &forms, None, &mut wakes);
        wakes.wake();
        let msg = avatar_of(Conv::User(member.user.account), member.user.avatar);
        self.tell_avatar(others, &msg, None);
        Ok(())
    }

    /// `GROUP_JOIN`: only an open group takes someone by its number, and not someone removed from it.
    pub(super) async fn join_group(&self, me: &Caller, group: u64) -> Result<Vec<ServerMessage>> {
        let (gid, uid) = (group as i64, me.user);
        let (g, removed, role) = self
            .db(move |s| Ok((s.group(gid)?, s.was_removed(gid, uid)?, s.role(gid, uid)?)))
            .await?;
        let g = g.ok_or_else(|| no_group(group))?;
        if role.is_some() {
            return Err(ServiceError::refused(
                ErrorCode::AlreadyMember,
                "already a member of the group",
            )
            .about(group.to_string()));
        }
        if g.policy == JoinPolicy::Approve {
            // The owner and admins decide, so a removed member may ask again.
            return self.ask_to_join(me, group).await;
        }
        if g.policy != JoinPolicy::Open {
            return Err(ServiceError::refused(
                ErrorCode::InviteOnly,
                format!(
                    "group {group} takes new members by invitation only; ask a member to invite you"
                ),
            )
            .about(group.to_string()));
        }
        if removed {
            return Err(ServiceError::refused(
                ErrorCode::Removed,
                format!(
                    "you were removed from group {group}; only a new invitation brings you back"
                ),
            )
            .about(group.to_string()));
        }
        self.add_to_group(group, me.user).await?;
        self.group_event(
            me.user,
            group,
            GroupEventKind::Join,
            &me.account,
            String::new(),
        )
        .await;
        Ok(Vec::new())
    }

    /// `GROUP_POLICY`: the owner sets who may join (every member is told); any member may ask.
    pub(super) async fn group_policy(
        &self,
        me: &Caller,
        group: u64,
        policy: Option<JoinPolicy>,
    ) -> Result<Vec<ServerMessage>> {
        let (g, role) = self.membership(me, group).await?;
        let Some(policy) = policy else {
            return Ok(vec![ServerMessage::GroupPolicy {
                group,
                policy: g.policy,
            }]);
        };
        if role != Role::Owner {
            return Err(ServiceError::refused(
                ErrorCode::NotOwner,
                "only the group's owner can change who may join",
            )
            .about(group.to_string()));
        }
        let gid = group as i64;
        self.db(move |s| s.set_join_policy(gid, policy)).await?;
        let members = self.member_ids(group).await?;
        self.hub.send_many(
            members,
            &line(&ServerMessage::GroupPolicy { group, policy }),
            None,
        );
        Ok(Vec::new())
    }

    pub(super) async fn invite(
        &self,
        me: &Caller,
        group: u64,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        self.membership(me, group).await?;
        let them = self.user_named(&account).await?;
        let (uid, tid) = (me.user, them.id);
        // Only friends can be pulled into a group, so strangers cannot be spammed into groups.
        if !self.db(move |s| s.are_friends(uid, tid)).await? {
            return Err(ServiceError::refused(
                ErrorCode::NotFriends,
                format!("you can only invite friends; {account} is not your friend"),
            )
            .about(account));
        }
        self.add_to_group(group, them.id)
            .await
            .map_err(|e| e.about(account))?;
        // A new invitation is what lets a removed member back: they may use the number again.
        let gid = group as i64;
        self.db(move |s| s.forget_removed(gid, tid)).await?;
        self.group_event(
            me.user,
            group,
            GroupEventKind::Invite,
            &them.account,
            String::new(),
        )
        .await;
        Ok(Vec::new())
    }

    /// Removes `user` and tells them and the remaining members.
    async fn remove_from_group(
        &self,
        group: u64,
        user: UserId,
        account: &str,
        reason: GoneReason,
    ) -> Result<()> {
        let (gid, now) = (group as i64, now_millis());
        self.db(move |s| s.remove_member(gid, user, now)).await?;
        self.hub.send(
            user,
            &line(&ServerMessage::GroupGone { group, reason }),
            None,
        );
        let left = ServerMessage::MemberLeft {
            group,
            account: account.to_owned(),
            reason,
        };
        let rest = self.member_ids(group).await?;
        self.hub.send_many(rest, &line(&left), None);
        Ok(())
    }

    pub(super) async fn leave_group(&self, me: &Caller, group: u64) -> Result<Vec<ServerMessage>> {
        let (_, role) = self.membership(me, group).await?;
        if role == Role::Owner {
            return Err(ServiceError::refused(
                ErrorCode::OwnerCannotLeave,
                "the owner cannot leave; dissolve the group instead",
            )
            .about(group.to_string()));
        }
        self.remove_from_group(group, me.user, &me.account, GoneReason::Left)
            .await?;
        self.group_event(
            me.user,
            group,
            GroupEventKind::Leave,
            &me.account,
            String::new(),
        )
        .await;
        Ok(Vec::new())
    }

    pub(super) async fn kick(
        &self,
        me: &Caller,
        group: u64,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        let (_, role) = self.membership(me, group).await?;
        if !role.manages() {
            return Err(not_owner(group, "remove members (or an admin)"));
        }
        let them = self.user_named(&account).await?;
        if them.id == me.user {
            return Err(ServiceError::refused(
                ErrorCode::OwnerCannotLeave,
                "you cannot remove yourself; leave the group instead (its owner dissolves it)",
            )
            .about(account));
        }
        let (gid, tid) = (group as i64, them.id);
        let their_role = self.target_role(group, tid, &account).await?;
        // An admin manages plain members only: the owner and the other admins are the owner's to deal with.
        if role == Role::Admin && their_role != Role::Member {
            return Err(ServiceError::refused(
                ErrorCode::Forbidden,
                format!("{account} is the owner or an admin of group {group}; only the owner can remove an admin"),
            )
            .about(account));
        }
        // Remembered first, so there is no moment when they are out but free to join by the number.
        let now = now_millis();
        self.db(move |s| s.mark_removed(gid, tid, now)).await?;
        self.remove_from_group(group, them.id, &them.account, GoneReason::Kicked)
            .await?;
        self.group_event(
            me.user,
            group,
            GroupEventKind::Kick,
            &them.account,
            String::new(),
        )
        .await;
        Ok(Vec::new())
    }

    pub(super) async fn dissolve(&self, me: &Caller, group: u64) -> Result<Vec<ServerMessage>> {
        let (_, role) = self.membership(me, group).await?;
        if role != Role::Owner {
            return Err(ServiceError::refused(
                ErrorCode::NotOwner,
                "only the group's owner can dissolve it",
            )
            .about(group.to_string()));
        }
        let members = self.member_ids(group).await?;
        let gid = group as i64;
        self.db(move |s| s.delete_group(gid)).await?;
        let gone = ServerMessage::GroupGone {
            group,
            reason: GoneReason::Dissolved,
        };
        self.hub.send_many(members, &line(&gone), None);
        Ok(Vec::new())
    }

    pub(super) async fn rename_group(
        &self,
        me: &Caller,
        group: u64,
        name: String,
    ) -> Result<Vec<ServerMessage>> {
        check_name("the group name", &name, self.config.limits.name, false)
            .map_err(|e| e.about(group.to_string()))?;
        let (_, role) = self.membership(me, group).await?;
        if !role.manages() {
            return Err(not_owner(group, "rename it (or an admin)"));
        }
        let gid = group as i64;
        let g = self
            .db(move |s| {
                s.rename_group(gid, &name)?;
                s.group(gid)
            })
            .await?
            .ok_or_else(|| no_group(group))?;
        let members = self.member_ids(group).await?;
        self.hub.send_many(members, &line(&info(&g)), None);
        self.group_event(me.user, group, GroupEventKind::Rename, "", g.name)
            .await;
        Ok(Vec::new())
    }

    pub(super) async fn list_members(
        &self,
        me: &Caller,
        features: Features,
        group: u64,
    ) -> Result<Vec<ServerMessage>> {
        self.membership(me, group).await?;
        let gid = group as i64;
        let members = self.db(move |s| s.members(gid)).await?;
        let count = members.len() as u32;
        let mut out: Vec<_> = members
            .iter()
            .map(|m| self.member_line(group, m, features))
            .collect();
        out.push(ServerMessage::MembersEnd { group, count });
        out.extend(avatars_after(
            features,
            members
                .into_iter()
                .map(|m| (Conv::User(m.user.account), m.user.avatar)),
        ));
        Ok(out)
    }

    pub(super) async fn list_groups(
        &self,
        me: &Caller,
        features: Features,
    ) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let groups = self.db(move |s| s.groups_of(uid)).await?;
        let count = groups.len() as u32;
        let mut out: Vec<_> = groups.iter().map(info).collect();
        out.push(ServerMessage::GroupsEnd { count });
        out.extend(avatars_after(
            features,
            groups
                .into_iter()
                .map(|g| (Conv::Group(g.id as u64), g.avatar)),
        ));
        Ok(out)
    }

    /// Stores a change to `group` in its history and pushes it to the members: `GROUP_EVENT:` to sessions
    /// with that feature, a `GROUP:` saying it in words to the rest. The change itself is done already,
    /// so a failure to record it is logged, not answered: the caller's request did what it asked.
    async fn group_event(
        &self,
        by: UserId,
        group: u64,
        kind: GroupEventKind,
        account: &str,
        value: String,
    ) {
        let message = NewMessage {
            sender: by,
            to: Target::Group(group as i64),
            // Unique per sender like any client_id, and never one a client would choose.
            client_id: format!("event-{:032x}", rand::random::<u128>()),
            time: now_millis(),
            body: Body::Event {
                kind,
                account: account.to_owned(),
                value,
            },
            hidden: false,
        };
        let stored = match self.db(move |s| s.store_message(&message)).await {
            Ok(stored) => stored.message,
            Err(e) => {
                tracing::warn!(group, kind = kind.as_str(), error = %e, "a group change was not recorded");
                return;
            }
        };
        // Cluster mode: pushed by the relay, in id order with every node's messages.
        if self.relayed(stored.id).await {
            return;
        }
        let members = match self.member_ids(group).await {
            Ok(members) => members,
            Err(e) => {
                tracing::warn!(group, error = %e, "a group change was recorded but not pushed");
                return;
            }
        };
        let plain = super::messages::to_wire(stored.clone(), Features::default());
        let rich = super::messages::to_wire(stored, Features::ALL);
        if let (Some(plain), Some(rich)) = (plain, rich) {
            let mut wakes = super::hub::Wakes::default();
            let forms = Forms::by(Feature::GroupEvent, Some(line(&plain)), line(&rich));
            self.hub.queue_forms(members, &forms, None, &mut wakes);
            wakes.wake();
        }
    }

    /// `account`'s role in `group`; `not_member` (about the account) if they are not in it.
    async fn target_role(&self, group: u64, user: UserId, account: &str) -> Result<Role> {
        let gid = group as i64;
        self.db(move |s| s.role(gid, user)).await?.ok_or_else(|| {
            ServiceError::refused(
                ErrorCode::NotMember,
                format!("{account} is not in group {group}"),
            )
            .about(account.to_owned())
        })
    }

    /// Tells every member's sessions that asked for `GROUP_ROLE` lines of a role change.
    fn tell_role(&self, group: u64, members: &[UserId], account: &str, role: Role) {
        let msg = ServerMessage::GroupRole {
            group,
            account: account.to_owned(),
            role,
        };
        let mut wakes = super::hub::Wakes::default();
        let forms = Forms::by(Feature::GroupRole, None, line(&msg));
        self.hub
            .queue_forms(members.iter().copied(), &forms, None, &mut wakes);
        wakes.wake();
    }

    /// `GROUP_ADMIN`: the owner makes a member an admin, or an admin a plain member again.
    pub(super) async fn set_admin(
        &self,
        me: &Caller,
        group: u64,
        account: String,
        admin: bool,
    ) -> Result<Vec<ServerMessage>> {
        let (_, role) = self.membership(me, group).await?;
        if role != Role::Owner {
            return Err(not_owner(group, "appoint admins"));
        }
        let them = self.user_named(&account).await?;
        let their_role = self.target_role(group, them.id, &account).await?;
        if their_role == Role::Owner {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "the owner is not made an admin; hand the group over with GROUP_TRANSFER instead",
            )
            .about(account));
        }
        let new_role = if admin { Role::Admin } else { Role::Member };
        let (gid, tid, max) = (group as i64, them.id, self.config.limits.admins);
        // Counted and set in one call on the blocking pool; only the owner sets admins, and their
        // changes are rate-limited, so two of their sessions racing past the count is the worst case.
        let set = self
            .db(move |s| {
                if new_role == Role::Admin && their_role != Role::Admin {
                    let admins = s
                        .members(gid)?
                        .iter()
                        .filter(|m| m.role == Role::Admin)
                        .count();
                    if admins >= max as usize {
                        return Ok(false);
                    }
                }
                s.set_role(gid, tid, new_role)
            })
            .await?;
        if !set {
            return Err(ServiceError::refused(
                ErrorCode::TooMany,
                format!("group {group} has {max} admins, the most this server allows"),
            )
            .about(account));
        }
        let members = self.member_ids(group).await?;
        self.tell_role(group, &members, &them.account, new_role);
        let value = if admin { "on" } else { "off" };
        self.group_event(
            me.user,
            group,
            GroupEventKind::Admin,
            &them.account,
            value.to_owned(),
        )
        .await;
        Ok(Vec::new())
    }

    /// `GROUP_TRANSFER`: the owner hands the group to another member and becomes a plain member.
    pub(super) async fn transfer_group(
        &self,
        me: &Caller,
        group: u64,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        let (_, role) = self.membership(me, group).await?;
        if role != Role::Owner {
            return Err(not_owner(group, "hand the group over"));
        }
        let them = self.user_named(&account).await?;
        if them.id == me.user {
            return Err(
                ServiceError::refused(ErrorCode::BadRequest, "you own the group already")
                    .about(account),
            );
        }
        self.target_role(group, them.id, &account).await?;
        let (gid, from, to) = (group as i64, me.user, them.id);
        let g = self
            .db(move |s| {
                s.transfer_group(gid, from, to)?;
                s.group(gid)
            })
            .await?
            .ok_or_else(|| no_group(group))?;
        tracing::info!(group = g.id, "group handed over");
        let members = self.member_ids(group).await?;
        self.tell_role(group, &members, &them.account, Role::Owner);
        self.tell_role(group, &members, &me.account, Role::Member);
        // `GROUP_INFO:` names the owner: every client, old ones too, learns of the change from it.
        self.hub.send_many(members, &line(&info(&g)), None);
        self.group_event(
            me.user,
            group,
            GroupEventKind::Transfer,
            &them.account,
            String::new(),
        )
        .await;
        Ok(Vec::new())
    }

    /// Tells every member's sessions that asked for `GROUP_MUTE` lines.
    fn tell_mute(&self, members: Vec<UserId>, msg: &ServerMessage) {
        let mut wakes = super::hub::Wakes::default();
        let forms = Forms::by(Feature::GroupMute, None, line(msg));
        self.hub.queue_forms(members, &forms, None, &mut wakes);
        wakes.wake();
    }

    /// `GROUP_MUTE`: the owner or an admin mutes a plain member for a while, or lifts it.
    pub(super) async fn mute_member(
        &self,
        me: &Caller,
        group: u64,
        account: String,
        seconds: u64,
    ) -> Result<Vec<ServerMessage>> {
        let (_, role) = self.membership(me, group).await?;
        if !role.manages() {
            return Err(not_owner(group, "mute members (or an admin)"));
        }
        if seconds > MAX_MUTE_SECS {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                format!("a mute lasts at most {MAX_MUTE_SECS} seconds (30 days)"),
            )
            .about(account));
        }
        let them = self.user_named(&account).await?;
        let their_role = self.target_role(group, them.id, &account).await?;
        // The owner and admins always speak: a mute is for plain members (and by an admin, for them only).
        if their_role != Role::Member {
            return Err(ServiceError::refused(
                ErrorCode::Forbidden,
                format!("{account} is the owner or an admin of group {group}, who cannot be muted"),
            )
            .about(account));
        }
        let until = if seconds == 0 {
            0
        } else {
            now_millis() + seconds * 1000
        };
        let (gid, tid) = (group as i64, them.id);
        if !self.db(move |s| s.set_muted(gid, tid, until)).await? {
            // Made an admin or gone between the check and the write.
            return Err(ServiceError::refused(
                ErrorCode::Forbidden,
                format!("{account} is no longer a plain member of group {group}"),
            )
            .about(account));
        }
        let members = self.member_ids(group).await?;
        self.tell_mute(
            members,
            &ServerMessage::GroupMute {
                group,
                account: them.account.clone(),
                until,
            },
        );
        self.group_event(
            me.user,
            group,
            GroupEventKind::Mute,
            &them.account,
            until.to_string(),
        )
        .await;
        Ok(Vec::new())
    }

    /// `GROUP_NOTICE`: the owner or an admin sets (or clears) the announcement; any member may ask.
    pub(super) async fn group_notice(
        &self,
        me: &Caller,
        group: u64,
        text: Option<String>,
    ) -> Result<Vec<ServerMessage>> {
        let (g, role) = self.membership(me, group).await?;
        let Some(text) = text else {
            return Ok(vec![notice_line(&g)]);
        };
        if !role.manages() {
            return Err(not_owner(group, "set the announcement (or an admin)"));
        }
        // Lines and tabs are an announcement's shape; other control characters would garble a screen.
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "the announcement must not contain control characters other than tab and newline",
            )
            .about(group.to_string()));
        }
        check_len("the announcement", &text, self.config.limits.notice)
            .map_err(|e| e.about(group.to_string()))?;
        let (gid, uid, now) = (group as i64, me.user, now_millis());
        let g = self
            .db(move |s| {
                s.set_notice(gid, uid, &text, now)?;
                s.group(gid)
            })
            .await?
            .ok_or_else(|| no_group(group))?;
        let members = self.member_ids(group).await?;
        let mut wakes = super::hub::Wakes::default();
        let forms = Forms::by(Feature::GroupNotice, None, line(&notice_line(&g)));
        self.hub.queue_forms(members, &forms, None, &mut wakes);
        wakes.wake();
        self.group_event(me.user, group, GroupEventKind::Notice, "", g.notice)
            .await;
        Ok(Vec::new())
    }

    /// `GROUP_JOIN` of an `approve` group: the request waits for the owner or an admin, who are told now
    /// (if online) or by `GROUP_REQUESTS` at their next login.
    async fn ask_to_join(&self, me: &Caller, group: u64) -> Result<Vec<ServerMessage>> {
        let (gid, uid, now) = (group as i64, me.user, now_millis());
        let (new, managers, user) = self
            .db(move |s| {
                Ok((
                    s.put_join_request(gid, uid, now)?,
                    s.managers(gid)?,
                    s.user_by_id(uid)?,
                ))
            })
            .await?;
        // Asking again refreshes the request without telling them again, as friend requests do.
        if new && let Some(user) = user {
            let request = ServerMessage::GroupJoinRequest {
                group,
                account: user.account.clone(),
                time: now,
                nickname: user.nickname,
            };
            self.hub.send_many(managers.clone(), &line(&request), None);
            // Who asks, with their picture, as the requests list shows them (as a friend request).
            self.tell_avatar(
                managers,
                &avatar_of(Conv::User(user.account), user.avatar),
                None,
            );
        }
        self.hub.send(
            me.user,
            &line(&ServerMessage::GroupJoinSent { group }),
            None,
        );
        Ok(Vec::new())
    }

    /// `GROUP_JOIN_ANSWER`: the owner or an admin lets a requester in, or not.
    pub(super) async fn answer_join(
        &self,
        me: &Caller,
        group: u64,
        account: String,
        accept: bool,
    ) -> Result<Vec<ServerMessage>> {
        let (_, role) = self.membership(me, group).await?;
        if !role.manages() {
            return Err(not_owner(group, "answer requests to join (or an admin)"));
        }
        let them = self.user_named(&account).await?;
        let (gid, tid) = (group as i64, them.id);
        if !self.db(move |s| s.take_join_request(gid, tid)).await? {
            return Err(ServiceError::refused(
                ErrorCode::NoRequest,
                format!("{account} has not asked to join group {group}"),
            )
            .about(account));
        }
        if accept && let Err(e) = self.add_to_group(group, them.id).await {
            // A full group (or a failure) leaves the request waiting, to be answered again once
            // there is room; one who got in meanwhile has no request left to answer.
            if !matches!(
                &e,
                ServiceError::Refused {
                    code: ErrorCode::AlreadyMember,
                    ..
                }
            ) {
                let now = now_millis();
                self.db(move |s| s.put_join_request(gid, tid, now)).await?;
            }
            return Err(e.about(account));
        }
        let managers = self.db(move |s| s.managers(gid)).await?;
        let closed = ServerMessage::GroupJoinClosed {
            group,
            account: them.account.clone(),
        };
        self.hub.send_many(managers, &line(&closed), None);
        if accept {
            // Let in by the group itself: an earlier removal no longer stands.
            self.db(move |s| s.forget_removed(gid, tid)).await?;
            self.group_event(
                me.user,
                group,
                GroupEventKind::Join,
                &them.account,
                String::new(),
            )
            .await;
        } else {
            self.hub.send(
                them.id,
                &line(&ServerMessage::GroupJoinRejected { group }),
                None,
            );
        }
        Ok(Vec::new())
    }

    /// `GROUP_REQUESTS`: the requests waiting in the groups I own or administer.
    pub(super) async fn list_join_requests(
        &self,
        me: &Caller,
        features: Features,
    ) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let requests = self.db(move |s| s.join_requests(uid)).await?;
        let count = requests.len() as u32;
        // Everyone asking, with their picture, after the list (as friend requests have it).
        let avatars: Vec<_> = requests
            .iter()
            .map(|(_, user, _)| (Conv::User(user.account.clone()), user.avatar.clone()))
            .collect();
        let mut out: Vec<_> = requests
            .into_iter()
            .map(|(group, user, time)| ServerMessage::GroupJoinRequest {
                group: group as u64,
                account: user.account,
                time,
                nickname: user.nickname,
            })
            .collect();
        out.push(ServerMessage::GroupRequestsEnd { count });
        out.extend(avatars_after(features, avatars));
        Ok(out)
    }

    /// `GROUP_MUTE_ALL`: the owner or an admin mutes the whole group or lifts it; any member may ask.
    pub(super) async fn mute_all(
        &self,
        me: &Caller,
        group: u64,
        on: Option<bool>,
    ) -> Result<Vec<ServerMessage>> {
        let (g, role) = self.membership(me, group).await?;
        let Some(on) = on else {
            return Ok(vec![ServerMessage::GroupMuteAll {
                group,
                on: g.mute_all,
            }]);
        };
        if !role.manages() {
            return Err(not_owner(group, "mute the group (or an admin)"));
        }
        let gid = group as i64;
        self.db(move |s| s.set_mute_all(gid, on)).await?;
        let members = self.member_ids(group).await?;
        self.tell_mute(members, &ServerMessage::GroupMuteAll { group, on });
        let value = if on { "on" } else { "off" };
        self.group_event(
            me.user,
            group,
            GroupEventKind::MuteAll,
            "",
            value.to_owned(),
        )
        .await;
        Ok(Vec::new())
    }
}

/// The announcement line of a group.
fn notice_line(g: &GroupRecord) -> ServerMessage {
    ServerMessage::GroupNotice {
        group: g.id as u64,
        by: g.notice_by.clone(),
        time: g.notice_time,
        text: g.notice.clone(),
    }
}

/// The longest mute, as QQ's: 30 days.
const MAX_MUTE_SECS: u64 = 30 * 24 * 3600;
