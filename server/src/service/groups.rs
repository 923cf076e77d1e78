//! Groups: create, join, leave, invite, kick, rename, dissolve, and the member list.

use ququ_protocol::{ErrorCode, GoneReason, JoinPolicy, Presence, Role, ServerMessage};

use super::{Caller, Result, ServiceError, Services, check_name, line, now_millis};
use crate::storage::{GroupRecord, MemberRecord, UserId};

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

impl Services {
    fn member_line(&self, group: u64, m: &MemberRecord) -> ServerMessage {
        ServerMessage::Member {
            group,
            account: m.user.account.clone(),
            role: m.role,
            presence: if self.hub.is_online(m.user.id) {
                Presence::Online
            } else {
                Presence::Offline
            },
            nickname: m.user.nickname.clone(),
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

    /// Adds `user` and tells everyone: the newcomer's sessions get `GROUP_INFO`, the others a `MEMBER` line.
    async fn add_to_group(&self, group: u64, user: UserId) -> Result<()> {
        let gid = group as i64;
        let max = self.config.limits.members;
        let added = self
            .db(move |s| {
                let g = s.group(gid)?;
                if g.as_ref().is_some_and(|g| g.members >= max) {
                    return Ok(Err(ErrorCode::TooMany));
                }
                if !s.add_member(gid, user, Role::Member)? {
                    return Ok(Err(ErrorCode::AlreadyMember));
                }
                let g = s.group(gid)?;
                let me = s.user_by_id(user)?.map(|user| MemberRecord {
                    user,
                    role: Role::Member,
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
        let others: Vec<_> = self
            .member_ids(group)
            .await?
            .into_iter()
            .filter(|id| *id != user)
            .collect();
        self.hub
            .send_many(others, &line(&self.member_line(group, &member)), None);
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
        let gid = group as i64;
        self.db(move |s| s.remove_member(gid, user)).await?;
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
        Ok(Vec::new())
    }

    pub(super) async fn kick(
        &self,
        me: &Caller,
        group: u64,
        account: String,
    ) -> Result<Vec<ServerMessage>> {
        let (_, role) = self.membership(me, group).await?;
        if role != Role::Owner {
            return Err(ServiceError::refused(
                ErrorCode::NotOwner,
                "only the group's owner can remove members",
            )
            .about(group.to_string()));
        }
        let them = self.user_named(&account).await?;
        if them.id == me.user {
            return Err(ServiceError::refused(
                ErrorCode::OwnerCannotLeave,
                "the owner cannot remove themselves; dissolve the group instead",
            )
            .about(account));
        }
        let (gid, tid) = (group as i64, them.id);
        if self.db(move |s| s.role(gid, tid)).await?.is_none() {
            return Err(ServiceError::refused(
                ErrorCode::NotMember,
                format!("{account} is not in group {group}"),
            )
            .about(account));
        }
        // Remembered first, so there is no moment when they are out but free to join by the number.
        let now = now_millis();
        self.db(move |s| s.mark_removed(gid, tid, now)).await?;
        self.remove_from_group(group, them.id, &them.account, GoneReason::Kicked)
            .await?;
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
        if role != Role::Owner {
            return Err(ServiceError::refused(
                ErrorCode::NotOwner,
                "only the group's owner can rename it",
            )
            .about(group.to_string()));
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
        Ok(Vec::new())
    }

    pub(super) async fn list_members(&self, me: &Caller, group: u64) -> Result<Vec<ServerMessage>> {
        self.membership(me, group).await?;
        let gid = group as i64;
        let members = self.db(move |s| s.members(gid)).await?;
        let count = members.len() as u32;
        let mut out: Vec<_> = members.iter().map(|m| self.member_line(group, m)).collect();
        out.push(ServerMessage::MembersEnd { group, count });
        Ok(out)
    }

    pub(super) async fn list_groups(&self, me: &Caller) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let groups = self.db(move |s| s.groups_of(uid)).await?;
        let count = groups.len() as u32;
        let mut out: Vec<_> = groups.iter().map(info).collect();
        out.push(ServerMessage::GroupsEnd { count });
        Ok(out)
    }
}
