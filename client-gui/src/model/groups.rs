//! What I may do in a group, worked out from the roles, mutes and requests the server has told: who
//! manages it, whether I may speak now, what a member's right-click menu offers.

use ququ_protocol::{Millis, Role};

use super::{JoinRequest, Model};

/// Why I cannot write in a group now (禁言), for the words in place of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silenced {
    /// I am muted until this time (ms since the epoch).
    Until(Millis),
    /// The whole group is muted; only the owner and admins speak.
    All,
}

/// What a member's right-click menu offers me, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAction {
    /// Open a private chat (a friend).
    Chat,
    /// Write `@name` into the input.
    Mention,
    /// Make an admin (`true`) or a plain member again (owner only).
    Admin(bool),
    /// Mute for a while (owner or admin, on a plain member).
    Mute,
    /// Lift a mute now in force.
    Unmute,
    /// Hand the group over (owner only).
    Transfer,
    /// Remove from the group (the owner anyone but themself, an admin plain members).
    Kick,
}

/// How long a mute from the member menu lasts, in seconds: QQ offers these.
pub const MUTE_CHOICES: [u64; 4] = [10 * 60, 60 * 60, 12 * 60 * 60, 24 * 60 * 60];

impl Model {
    /// `account`'s role in `group`: from its member list, else the group's record for the owner.
    pub fn role_in(&self, group: u64, account: &str) -> Role {
        if let Some(member) = self
            .members
            .get(&group)
            .and_then(|ms| ms.iter().find(|m| m.account == account))
        {
            return member.role;
        }
        match self.groups.get(&group) {
            Some(g) if g.owner == account => Role::Owner,
            _ => Role::Member,
        }
    }

    /// I am the group's owner or one of its admins.
    pub fn manages(&self, group: u64) -> bool {
        self.role_in(group, &self.account).manages()
    }

    /// Whether I cannot write in `group` at `now`, and why. The owner and admins are never muted.
    pub fn silenced(&self, group: u64, now: Millis) -> Option<Silenced> {
        if self.manages(group) {
            return None;
        }
        let until = self
            .members
            .get(&group)
            .and_then(|ms| ms.iter().find(|m| m.account == self.account))
            .map_or(0, |m| m.muted_until);
        if until > now {
            Some(Silenced::Until(until))
        } else if self.muted_groups.contains(&group) {
            Some(Silenced::All)
        } else {
            None
        }
    }

    /// `account` is muted in `group` at `now`.
    pub fn is_member_muted(&self, group: u64, account: &str, now: Millis) -> bool {
        self.members
            .get(&group)
            .and_then(|ms| ms.iter().find(|m| m.account == account))
            .is_some_and(|m| m.muted_until > now)
    }

    /// What I may do to `account` in `group`, as the server would allow it: an admin manages plain
    /// members only; the owner anyone; nobody manages themself.
    pub fn member_actions(&self, group: u64, account: &str, now: Millis) -> Vec<MemberAction> {
        let mut actions = Vec::new();
        if account == self.account {
            return actions;
        }
        if self.friends.contains_key(account) {
            actions.push(MemberAction::Chat);
        }
        actions.push(MemberAction::Mention);
        let mine = self.role_in(group, &self.account);
        let theirs = self.role_in(group, account);
        if mine == Role::Owner {
            actions.push(MemberAction::Admin(theirs != Role::Admin));
        }
        let over = match mine {
            Role::Owner => true,
            Role::Admin => theirs == Role::Member,
            Role::Member => false,
        };
        // The server mutes plain members only: the owner and admins always speak.
        if over && theirs == Role::Member && self.features.group_mute {
            if self.is_member_muted(group, account, now) {
                actions.push(MemberAction::Unmute);
            }
            actions.push(MemberAction::Mute);
        }
        if mine == Role::Owner {
            actions.push(MemberAction::Transfer);
        }
        if over {
            actions.push(MemberAction::Kick);
        }
        actions
    }

    /// Requests to join `group`, oldest first.
    pub fn join_requests_for(&self, group: u64) -> impl Iterator<Item = &JoinRequest> {
        self.join_requests.iter().filter(move |r| r.group == group)
    }
}
