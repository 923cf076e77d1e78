//! [`GroupStore`] on SQLite: groups, members, roles, mutes, join requests and removals.

use rusqlite::{OptionalExtension, Row, params};

use ququ_protocol::{JoinPolicy, Millis, Role};

use super::{LAST_MESSAGE_ID, SqliteStore, USER_COLS, USER_WIDTH, forget_avatar, user_from_row};
use crate::storage::{
    GROUP_IDS, GroupId, GroupRecord, GroupStore, MemberRecord, Silence, StoreError, UserId,
    UserRecord,
};

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<GroupRecord> {
    Ok(GroupRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        owner: r.get(2)?,
        owner_account: r.get(3)?,
        members: r.get::<_, i64>(4)? as u32,
        // Only this code writes the column, and only valid names; an unknown one would be a newer
        // server's, and the safe reading of it is the closed one.
        policy: JoinPolicy::parse(&r.get::<_, String>(5)?).unwrap_or_default(),
        mute_all: r.get::<_, i64>(6)? != 0,
        notice: r.get(7)?,
        notice_by: r.get(8)?,
        notice_time: r.get::<_, i64>(9)? as Millis,
        avatar: r.get(10)?,
    })
}

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.owner_id, o.account, \
     (SELECT count(*) FROM members c WHERE c.group_id = g.id), g.join_policy, g.mute_all, \
     g.notice, COALESCE(n.account, ''), g.notice_time, g.avatar \
     FROM chat_groups g JOIN users o ON o.id = g.owner_id LEFT JOIN users n ON n.id = g.notice_by";

fn role_str(role: Role) -> &'static str {
    role.as_str()
}

impl GroupStore for SqliteStore {
    fn create_group(
        &self,
        owner: UserId,
        name: &str,
        now: Millis,
    ) -> Result<GroupRecord, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // A random free number; with a few thousand groups among nine billion numbers a second draw is
        // already rare.
        let id = loop {
            let id = rand::random_range(GROUP_IDS);
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM chat_groups WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if !taken {
                break id;
            }
        };
        tx.execute(
            "INSERT INTO chat_groups (id, name, owner_id, created) VALUES (?1, ?2, ?3, ?4)",
            params![id, name, owner, now as i64],
        )?;
        tx.execute(
            &format!(
                "INSERT INTO members (group_id, user_id, role, since_msg) \
                 VALUES (?1, ?2, 'owner', ({LAST_MESSAGE_ID}))"
            ),
            params![id, owner],
        )?;
        let group = tx.query_row(
            &format!("{GROUP_SELECT} WHERE g.id = ?1"),
            [id],
            group_from_row,
        )?;
        tx.commit()?;
        Ok(group)
    }

    fn group(&self, id: GroupId) -> Result<Option<GroupRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                &format!("{GROUP_SELECT} WHERE g.id = ?1"),
                [id],
                group_from_row,
            )
            .optional()?)
    }

    fn groups_of(&self, user: UserId) -> Result<Vec<GroupRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "{GROUP_SELECT} JOIN members me ON me.group_id = g.id AND me.user_id = ?1 ORDER BY g.id"
        ))?;
        let rows = stmt.query_map([user], group_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rename_group(&self, id: GroupId, name: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE chat_groups SET name = ?2 WHERE id = ?1",
            params![id, name],
        )?;
        Ok(())
    }

    fn delete_group(&self, id: GroupId) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM messages WHERE kind = 1 AND conv = ?1", [id])?;
        tx.execute("DELETE FROM members WHERE group_id = ?1", [id])?;
        tx.execute("DELETE FROM group_removed WHERE group_id = ?1", [id])?;
        tx.execute("DELETE FROM group_requests WHERE group_id = ?1", [id])?;
        tx.execute("DELETE FROM group_mutes WHERE group_id = ?1", [id])?;
        let avatar: Option<String> = tx
            .query_row("SELECT avatar FROM chat_groups WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        tx.execute("DELETE FROM chat_groups WHERE id = ?1", [id])?;
        if let Some(avatar) = avatar {
            forget_avatar(&tx, &avatar)?;
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
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // A plain member coming back takes up a mute still running from before they left
        // (see the `group_mutes` migration); the owner and admins are never muted.
        let parked: Option<i64> = tx
            .query_row(
                "DELETE FROM group_mutes WHERE group_id = ?1 AND user_id = ?2 RETURNING until",
                params![group, user],
                |r| r.get(0),
            )
            .optional()?;
        let until = match parked {
            Some(until) if role == Role::Member && until as Millis > now => until as Millis,
            _ => 0,
        };
        let n = tx.execute(
            &format!(
                "INSERT OR IGNORE INTO members (group_id, user_id, role, since_msg, muted_until) \
                 VALUES (?1, ?2, ?3, ({LAST_MESSAGE_ID}), ?4)"
            ),
            params![group, user, role_str(role), until as i64],
        )?;
        if n == 0 {
            // Already a member: whatever was parked is theirs to keep for a later return.
            drop(tx);
            return Ok(None);
        }
        tx.commit()?;
        Ok(Some(until))
    }

    fn remove_member(&self, group: GroupId, user: UserId, now: Millis) -> Result<bool, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // The group's parked mutes that have ended go first (the lazy cleanup), then a running mute of
        // the one leaving is parked until they come back (see the `group_mutes` migration).
        tx.execute(
            "DELETE FROM group_mutes WHERE group_id = ?1 AND until <= ?2",
            params![group, now as i64],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO group_mutes (group_id, user_id, until) \
             SELECT group_id, user_id, muted_until FROM members \
             WHERE group_id = ?1 AND user_id = ?2 AND role = 'member' AND muted_until > ?3",
            params![group, user, now as i64],
        )?;
        let n = tx.execute(
            "DELETE FROM members WHERE group_id = ?1 AND user_id = ?2",
            params![group, user],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn set_join_policy(&self, group: GroupId, policy: JoinPolicy) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE chat_groups SET join_policy = ?2 WHERE id = ?1",
            params![group, policy.as_str()],
        )?;
        Ok(())
    }

    fn set_role(&self, group: GroupId, user: UserId, role: Role) -> Result<bool, StoreError> {
        // The owner's row is never touched here: ownership moves only with the group's owner_id. An admin
        // is never muted, so a mute ends with the promotion.
        let n = self.lock()?.execute(
            "UPDATE members SET role = ?3, muted_until = CASE WHEN ?3 = 'member' THEN muted_until ELSE 0 END \
             WHERE group_id = ?1 AND user_id = ?2 AND role != 'owner'",
            params![group, user, role_str(role)],
        )?;
        Ok(n > 0)
    }

    fn transfer_group(&self, group: GroupId, from: UserId, to: UserId) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE chat_groups SET owner_id = ?2 WHERE id = ?1",
            params![group, to],
        )?;
        tx.execute(
            "UPDATE members SET role = 'member' WHERE group_id = ?1 AND user_id = ?2",
            params![group, from],
        )?;
        tx.execute(
            "UPDATE members SET role = 'owner', muted_until = 0 WHERE group_id = ?1 AND user_id = ?2",
            params![group, to],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn set_muted(&self, group: GroupId, user: UserId, until: Millis) -> Result<bool, StoreError> {
        let n = self.lock()?.execute(
            "UPDATE members SET muted_until = ?3 WHERE group_id = ?1 AND user_id = ?2 AND role = 'member'",
            params![group, user, until as i64],
        )?;
        Ok(n > 0)
    }

    fn set_mute_all(&self, group: GroupId, on: bool) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE chat_groups SET mute_all = ?2 WHERE id = ?1",
            params![group, on as i64],
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
        self.lock()?.execute(
            "UPDATE chat_groups SET notice = ?2, notice_by = ?3, notice_time = ?4 WHERE id = ?1",
            params![group, text, by, time as i64],
        )?;
        Ok(())
    }

    fn put_join_request(
        &self,
        group: GroupId,
        user: UserId,
        time: Millis,
    ) -> Result<bool, StoreError> {
        let conn = self.lock()?;
        let updated = conn.execute(
            "UPDATE group_requests SET time = ?3 WHERE group_id = ?1 AND user_id = ?2",
            params![group, user, time as i64],
        )?;
        if updated > 0 {
            return Ok(false);
        }
        conn.execute(
            "INSERT INTO group_requests (group_id, user_id, time) VALUES (?1, ?2, ?3)",
            params![group, user, time as i64],
        )?;
        Ok(true)
    }

    fn take_join_request(&self, group: GroupId, user: UserId) -> Result<bool, StoreError> {
        let n = self.lock()?.execute(
            "DELETE FROM group_requests WHERE group_id = ?1 AND user_id = ?2",
            params![group, user],
        )?;
        Ok(n > 0)
    }

    fn join_requests(
        &self,
        manager: UserId,
    ) -> Result<Vec<(GroupId, UserRecord, Millis)>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT r.group_id, {USER_COLS}, r.time FROM group_requests r \
             JOIN members me ON me.group_id = r.group_id AND me.user_id = ?1 \
                 AND me.role IN ('owner', 'admin') \
             JOIN users u ON u.id = r.user_id ORDER BY r.time, r.group_id, u.account"
        ))?;
        let rows = stmt.query_map([manager], |r| {
            Ok((
                r.get::<_, GroupId>(0)?,
                user_from_row(r, 1)?,
                r.get::<_, i64>(USER_WIDTH + 1)? as Millis,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn managers(&self, group: GroupId) -> Result<Vec<UserId>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT user_id FROM members WHERE group_id = ?1 AND role IN ('owner', 'admin')",
        )?;
        let rows = stmt.query_map([group], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn silence(&self, group: GroupId) -> Result<Silence, StoreError> {
        let conn = self.lock()?;
        let all: i64 = conn
            .prepare_cached("SELECT mute_all FROM chat_groups WHERE id = ?1")?
            .query_row([group], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let mut silence = Silence {
            all: all != 0,
            ..Silence::default()
        };
        // Only the members it concerns: the owner and admins, and those ever muted.
        let mut stmt = conn.prepare_cached(
            "SELECT user_id, role, muted_until FROM members \
             WHERE group_id = ?1 AND (role != 'member' OR muted_until > 0) ORDER BY user_id",
        )?;
        let rows = stmt.query_map([group], |r| {
            Ok((
                r.get::<_, UserId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (user, role, until) = row?;
            if role == "member" {
                silence.muted.push((user, until as Millis));
            } else {
                silence.managers.push(user);
            }
        }
        Ok(silence)
    }

    fn mark_removed(&self, group: GroupId, user: UserId, now: Millis) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT OR REPLACE INTO group_removed (group_id, user_id, time) VALUES (?1, ?2, ?3)",
            params![group, user, now as i64],
        )?;
        Ok(())
    }

    fn was_removed(&self, group: GroupId, user: UserId) -> Result<bool, StoreError> {
        Ok(self.lock()?.query_row(
            "SELECT EXISTS (SELECT 1 FROM group_removed WHERE group_id = ?1 AND user_id = ?2)",
            params![group, user],
            |r| r.get(0),
        )?)
    }

    fn forget_removed(&self, group: GroupId, user: UserId) -> Result<(), StoreError> {
        self.lock()?.execute(
            "DELETE FROM group_removed WHERE group_id = ?1 AND user_id = ?2",
            params![group, user],
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
        Ok(self.lock()?.query_row(
            "SELECT EXISTS (SELECT 1 FROM members g JOIN messages m \
                 ON m.client_id = ?4 AND m.sender_id = ?3 AND m.kind = 1 AND m.conv = g.group_id \
                 WHERE g.group_id = ?1 AND g.user_id = ?2 AND m.id > g.since_msg)",
            params![group, user, sender, client_id],
            |r| r.get(0),
        )?)
    }

    fn role(&self, group: GroupId, user: UserId) -> Result<Option<Role>, StoreError> {
        let conn = self.lock()?;
        let role: Option<String> = conn
            .prepare_cached("SELECT role FROM members WHERE group_id = ?1 AND user_id = ?2")?
            .query_row(params![group, user], |r| r.get(0))
            .optional()?;
        Ok(role.and_then(|r| Role::parse(&r)))
    }

    fn members(&self, group: GroupId) -> Result<Vec<MemberRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS}, m.role, m.muted_until FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = ?1 ORDER BY m.role = 'owner' DESC, m.role = 'admin' DESC, u.account"
        ))?;
        let rows = stmt.query_map([group], |r| {
            let role: String = r.get(USER_WIDTH)?;
            Ok(MemberRecord {
                user: user_from_row(r, 0)?,
                role: Role::parse(&role).unwrap_or(Role::Member),
                muted_until: r.get::<_, i64>(USER_WIDTH + 1)? as Millis,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn member_ids(&self, group: GroupId) -> Result<Vec<UserId>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached("SELECT user_id FROM members WHERE group_id = ?1")?;
        let rows = stmt.query_map([group], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
