//! [`GroupStore`] on PostgreSQL: groups, members, roles, mutes, join requests and removals.

use postgres::{GenericClient, Row};

use ququ_protocol::{JoinPolicy, Millis, Role};

use super::{PgStore, USER_COLS, USER_WIDTH, all, forget_avatar, user_from_row};
use crate::storage::{
    GROUP_IDS, GroupId, GroupRecord, GroupStore, MemberRecord, Silence, StoreError, UserId,
    UserRecord,
};

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.owner_id, o.account, \
     (SELECT count(*) FROM members c WHERE c.group_id = g.id), g.join_policy, g.mute_all, \
     g.notice, COALESCE(n.account, ''), g.notice_time, g.avatar \
     FROM chat_groups g JOIN users o ON o.id = g.owner_id LEFT JOIN users n ON n.id = g.notice_by";

/// The last message id given out: a new member sees the group's messages after it. Read without the
/// counter's lock: a batch committing meanwhile has ids above it, which the newcomer then sees, as
/// on SQLite a batch committed just after the join.
const LAST_MESSAGE_ID: &str = "(SELECT last FROM message_ids)";

fn group_from_row(r: &Row) -> Result<GroupRecord, StoreError> {
    Ok(GroupRecord {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        owner: r.try_get(2)?,
        owner_account: r.try_get(3)?,
        members: u32::try_from(r.try_get::<_, i64>(4)?).unwrap_or(u32::MAX),
        // Only this code writes the column; an unknown value would be a newer server's, and the safe
        // reading of it is the closed one.
        policy: JoinPolicy::parse(r.try_get(5)?).unwrap_or_default(),
        mute_all: r.try_get(6)?,
        notice: r.try_get(7)?,
        notice_by: r.try_get(8)?,
        notice_time: r.try_get::<_, i64>(9)? as Millis,
        avatar: r.try_get(10)?,
    })
}

fn group_by_id(
    client: &mut impl GenericClient,
    id: GroupId,
) -> Result<Option<GroupRecord>, StoreError> {
    client
        .query_opt(&format!("{GROUP_SELECT} WHERE g.id = $1"), &[&id])?
        .map(|r| group_from_row(&r))
        .transpose()
}

impl GroupStore for PgStore {
    fn create_group(
        &self,
        owner: UserId,
        name: &str,
        now: Millis,
    ) -> Result<GroupRecord, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // A random free number: a taken one (rare among nine billion) inserts nothing, and another is
        // drawn. No look first, so two nodes drawing the same number cannot both take it.
        let id = loop {
            let id: GroupId = rand::random_range(GROUP_IDS);
            let n = tx.execute(
                "INSERT INTO chat_groups (id, name, owner_id, created) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
                &[&id, &name, &owner, &(now as i64)],
            )?;
            if n > 0 {
                break id;
            }
        };
        tx.execute(
            &format!(
                "INSERT INTO members (group_id, user_id, role, since_msg) \
                 VALUES ($1, $2, 'owner', {LAST_MESSAGE_ID})"
            ),
            &[&id, &owner],
        )?;
        let group = group_by_id(&mut tx, id)?.ok_or(StoreError::Conflict)?;
        tx.commit()?;
        Ok(group)
    }

    fn group(&self, id: GroupId) -> Result<Option<GroupRecord>, StoreError> {
        group_by_id(&mut *self.conn()?, id)
    }

    fn groups_of(&self, user: UserId) -> Result<Vec<GroupRecord>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "{GROUP_SELECT} JOIN members me ON me.group_id = g.id AND me.user_id = $1 ORDER BY g.id"
            ),
            &[&user],
        )?;
        all(rows, group_from_row)
    }

    fn rename_group(&self, id: GroupId, name: &str) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE chat_groups SET name = $2 WHERE id = $1",
            &[&id, &name],
        )?;
        Ok(())
    }

    fn delete_group(&self, id: GroupId) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Message ids are not touched: the counter row remembers the newest even when its message goes.
        tx.execute("DELETE FROM messages WHERE kind = 1 AND conv = $1", &[&id])?;
        for table in ["members", "group_removed", "group_requests", "group_mutes"] {
            tx.execute(&format!("DELETE FROM {table} WHERE group_id = $1"), &[&id])?;
        }
        let avatar: Option<String> = tx
            .query_opt(
                "DELETE FROM chat_groups WHERE id = $1 RETURNING avatar",
                &[&id],
            )?
            .map(|r| r.try_get(0))
            .transpose()?
            .flatten();
        if let Some(avatar) = avatar {
            forget_avatar(&mut tx, &avatar)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn add_member(
        &self,
        group: GroupId,
        user: UserId,
        role: Role,
        now: Millis,
    ) -> Result<Option<Millis>, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // A plain member coming back takes up a mute still running from before they left; the owner
        // and admins are never muted.
        let parked: Option<i64> = tx
            .query_opt(
                "DELETE FROM group_mutes WHERE group_id = $1 AND user_id = $2 RETURNING until",
                &[&group, &user],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        let until = match parked {
            Some(until) if role == Role::Member && until as Millis > now => until as Millis,
            _ => 0,
        };
        let n = tx.execute(
            &format!(
                "INSERT INTO members (group_id, user_id, role, since_msg, muted_until) \
                 VALUES ($1, $2, $3, {LAST_MESSAGE_ID}, $4) ON CONFLICT DO NOTHING"
            ),
            &[&group, &user, &role.as_str(), &(until as i64)],
        )?;
        if n == 0 {
            // Already a member: whatever was parked is theirs to keep for a later return.
            tx.rollback()?;
            return Ok(None);
        }
        tx.commit()?;
        Ok(Some(until))
    }

    fn remove_member(&self, group: GroupId, user: UserId, now: Millis) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // The group's parked mutes that have ended go first (the lazy cleanup), then a running mute of
        // the one leaving is parked until they come back.
        tx.execute(
            "DELETE FROM group_mutes WHERE group_id = $1 AND until <= $2",
            &[&group, &(now as i64)],
        )?;
        tx.execute(
            "INSERT INTO group_mutes (group_id, user_id, until) \
             SELECT group_id, user_id, muted_until FROM members \
             WHERE group_id = $1 AND user_id = $2 AND role = 'member' AND muted_until > $3 \
             ON CONFLICT (group_id, user_id) DO UPDATE SET until = excluded.until",
            &[&group, &user, &(now as i64)],
        )?;
        let n = tx.execute(
            "DELETE FROM members WHERE group_id = $1 AND user_id = $2",
            &[&group, &user],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn set_join_policy(&self, group: GroupId, policy: JoinPolicy) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE chat_groups SET join_policy = $2 WHERE id = $1",
            &[&group, &policy.as_str()],
        )?;
        Ok(())
    }

    fn set_role(&self, group: GroupId, user: UserId, role: Role) -> Result<bool, StoreError> {
        // The owner's row is never touched here: ownership moves only with the group's owner_id. An
        // admin is never muted, so a mute ends with the promotion.
        let n = self.conn()?.execute(
            "UPDATE members SET role = $3, \
             muted_until = CASE WHEN $3 = 'member' THEN muted_until ELSE 0 END \
             WHERE group_id = $1 AND user_id = $2 AND role != 'owner'",
            &[&group, &user, &role.as_str()],
        )?;
        Ok(n > 0)
    }

    fn transfer_group(&self, group: GroupId, from: UserId, to: UserId) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "UPDATE chat_groups SET owner_id = $2 WHERE id = $1",
            &[&group, &to],
        )?;
        tx.execute(
            "UPDATE members SET role = 'member' WHERE group_id = $1 AND user_id = $2",
            &[&group, &from],
        )?;
        tx.execute(
            "UPDATE members SET role = 'owner', muted_until = 0 WHERE group_id = $1 AND user_id = $2",
            &[&group, &to],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn set_muted(&self, group: GroupId, user: UserId, until: Millis) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "UPDATE members SET muted_until = $3 WHERE group_id = $1 AND user_id = $2 AND role = 'member'",
            &[&group, &user, &(until as i64)],
        )?;
        Ok(n > 0)
    }

    fn set_mute_all(&self, group: GroupId, on: bool) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE chat_groups SET mute_all = $2 WHERE id = $1",
            &[&group, &on],
        )?;
        Ok(())
    }

    fn set_notice(
        &self,
        group: GroupId,
        by: UserId,
        text: &str,
        time: Millis,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE chat_groups SET notice = $2, notice_by = $3, notice_time = $4 WHERE id = $1",
            &[&group, &text, &by, &(time as i64)],
        )?;
        Ok(())
    }

    fn silence(&self, group: GroupId) -> Result<Silence, StoreError> {
        let mut conn = self.conn()?;
        let all_muted = conn
            .query_opt("SELECT mute_all FROM chat_groups WHERE id = $1", &[&group])?
            .map(|r| r.try_get::<_, bool>(0))
            .transpose()?
            .unwrap_or(false);
        let mut silence = Silence {
            all: all_muted,
            ..Silence::default()
        };
        // Only the members it concerns: the owner and admins, and those ever muted.
        let rows = conn.query(
            "SELECT user_id, role, muted_until FROM members \
             WHERE group_id = $1 AND (role != 'member' OR muted_until > 0) ORDER BY user_id",
            &[&group],
        )?;
        for r in rows {
            let user: UserId = r.try_get(0)?;
            if r.try_get::<_, &str>(1)? == "member" {
                silence
                    .muted
                    .push((user, r.try_get::<_, i64>(2)? as Millis));
            } else {
                silence.managers.push(user);
            }
        }
        Ok(silence)
    }

    fn put_join_request(
        &self,
        group: GroupId,
        user: UserId,
        time: Millis,
    ) -> Result<bool, StoreError> {
        // `xmax = 0`: the row was inserted, not updated (PostgreSQL's way of telling the two apart).
        let new: bool = self
            .conn()?
            .query_one(
                "INSERT INTO group_requests (group_id, user_id, time) VALUES ($1, $2, $3) \
                 ON CONFLICT (group_id, user_id) DO UPDATE SET time = excluded.time \
                 RETURNING (xmax = 0)",
                &[&group, &user, &(time as i64)],
            )?
            .try_get(0)?;
        Ok(new)
    }

    fn take_join_request(&self, group: GroupId, user: UserId) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "DELETE FROM group_requests WHERE group_id = $1 AND user_id = $2",
            &[&group, &user],
        )?;
        Ok(n > 0)
    }

    fn join_requests(
        &self,
        manager: UserId,
    ) -> Result<Vec<(GroupId, UserRecord, Millis)>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT r.group_id, {USER_COLS}, r.time FROM group_requests r \
                 JOIN members me ON me.group_id = r.group_id AND me.user_id = $1 \
                     AND me.role IN ('owner', 'admin') \
                 JOIN users u ON u.id = r.user_id \
                 ORDER BY r.time, r.group_id, lower(u.account), u.account"
            ),
            &[&manager],
        )?;
        all(rows, |r| {
            Ok((
                r.try_get(0)?,
                user_from_row(r, 1)?,
                r.try_get::<_, i64>(USER_WIDTH + 1)? as Millis,
            ))
        })
    }

    fn managers(&self, group: GroupId) -> Result<Vec<UserId>, StoreError> {
        let rows = self.conn()?.query(
            "SELECT user_id FROM members WHERE group_id = $1 AND role IN ('owner', 'admin')",
            &[&group],
        )?;
        all(rows, |r| Ok(r.try_get(0)?))
    }

    fn mark_removed(&self, group: GroupId, user: UserId, now: Millis) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO group_removed (group_id, user_id, time) VALUES ($1, $2, $3) \
             ON CONFLICT (group_id, user_id) DO UPDATE SET time = excluded.time",
            &[&group, &user, &(now as i64)],
        )?;
        Ok(())
    }

    fn was_removed(&self, group: GroupId, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM group_removed WHERE group_id = $1 AND user_id = $2",
                &[&group, &user],
            )?
            .is_some())
    }

    fn forget_removed(&self, group: GroupId, user: UserId) -> Result<(), StoreError> {
        self.conn()?.execute(
            "DELETE FROM group_removed WHERE group_id = $1 AND user_id = $2",
            &[&group, &user],
        )?;
        Ok(())
    }

    fn sees_group_file(
        &self,
        group: GroupId,
        user: UserId,
        sender: UserId,
        client_id: &str,
    ) -> Result<bool, StoreError> {
        // The file's message is found by its (client_id, sender), the resend index every message has.
        Ok(self
            .conn()?
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM members g JOIN messages m \
                     ON m.client_id = $4 AND m.sender_id = $3 AND m.kind = 1 AND m.conv = g.group_id \
                     WHERE g.group_id = $1 AND g.user_id = $2 AND m.id > g.since_msg)",
                &[&group, &user, &sender, &client_id],
            )?
            .try_get(0)?)
    }

    fn role(&self, group: GroupId, user: UserId) -> Result<Option<Role>, StoreError> {
        let role = self.conn()?.query_opt(
            "SELECT role FROM members WHERE group_id = $1 AND user_id = $2",
            &[&group, &user],
        )?;
        Ok(match role {
            Some(r) => Role::parse(r.try_get(0)?),
            None => None,
        })
    }

    fn members(&self, group: GroupId) -> Result<Vec<MemberRecord>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {USER_COLS}, m.role, m.muted_until FROM members m JOIN users u ON u.id = m.user_id \
                 WHERE m.group_id = $1 \
                 ORDER BY m.role = 'owner' DESC, m.role = 'admin' DESC, lower(u.account), u.account"
            ),
            &[&group],
        )?;
        all(rows, |r| {
            Ok(MemberRecord {
                user: user_from_row(r, 0)?,
                role: Role::parse(r.try_get(USER_WIDTH)?).unwrap_or(Role::Member),
                muted_until: r.try_get::<_, i64>(USER_WIDTH + 1)? as Millis,
            })
        })
    }

    fn member_ids(&self, group: GroupId) -> Result<Vec<UserId>, StoreError> {
        let rows = self
            .conn()?
            .query("SELECT user_id FROM members WHERE group_id = $1", &[&group])?;
        all(rows, |r| Ok(r.try_get(0)?))
    }
}
