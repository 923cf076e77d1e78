//! Avatars (头像) kept by the server: a user's (`SET_AVATAR:`) and a group's (`GROUP_AVATAR:`), fetched by
//! digest (`AVATAR_GET:`), and the `AVATAR_OF:` lines that say whose picture is which.

use std::collections::HashSet;

use ququ_protocol::Feature;
use ququ_protocol::{Conv, ErrorCode, Features, Role, ServerMessage};
use sha2::{Digest, Sha256};

use super::hub::Forms;
use super::hub::Wakes;
use super::{Caller, Result, ServiceError, Services, SessionId, line};
use crate::storage::{Avatar, AvatarOwner, UserId};

/// The first bytes of every PNG file.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The first bytes of every JPEG file (start of image, then the first marker's `FF`).
const JPEG: &[u8] = b"\xff\xd8\xff";

/// An `AVATAR_OF:` line.
pub(super) fn avatar_of(of: Conv, sha256: Option<String>) -> ServerMessage {
    ServerMessage::AvatarOf { of, sha256 }
}

/// The `AVATAR_OF:` lines a session with the `AVATAR` feature gets after a list: one per listed user or
/// group, an empty digest for one without an avatar — so a client that kept someone's old picture
/// while offline learns that it is gone (no line would leave it guessing).
pub(super) fn avatars_after(
    features: Features,
    listed: impl IntoIterator<Item = (Conv, Option<String>)>,
) -> Vec<ServerMessage> {
    if !features.avatar {
        return Vec::new();
    }
    listed
        .into_iter()
        .map(|(of, sha)| avatar_of(of, sha))
        .collect()
}

impl Services {
    /// Checks an uploaded picture (the service decides what is a picture; the store just keeps bytes) and
    /// names it by its digest. Empty is `None`: the avatar is cleared.
    fn checked_avatar(&self, image: Vec<u8>) -> Result<Option<Avatar>> {
        if image.is_empty() {
            return Ok(None);
        }
        let max = self.config.limits.avatar;
        if image.len() > max as usize {
            return Err(ServiceError::refused(
                ErrorCode::TooLarge,
                format!(
                    "an avatar may be at most {max} bytes; this one is {}",
                    image.len()
                ),
            ));
        }
        // Only the signature is checked, not the whole picture: a client decodes what it fetches itself and
        // copes with a broken one (it shows the default), and this keeps the server free of image codecs.
        if !image.starts_with(PNG) && !image.starts_with(JPEG) {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "an avatar must be a PNG or JPEG picture",
            ));
        }
        let sha256 = hex::encode(Sha256::digest(&image));
        Ok(Some(Avatar {
            sha256,
            bytes: image,
        }))
    }

    /// `SET_AVATAR:` — my avatar. My other sessions and everyone who shows me (friends, fellow group
    /// members) with the `AVATAR` feature are told, once each; this session is answered either way.
    pub(super) async fn set_avatar(
        &self,
        me: &Caller,
        session: SessionId,
        image: Vec<u8>,
    ) -> Result<Vec<ServerMessage>> {
        let avatar = self.checked_avatar(image)?;
        let sha256 = avatar.as_ref().map(|a| a.sha256.clone());
        let uid = me.user;
        let (friends, members) = self
            .db(move |s| {
                s.set_avatar(AvatarOwner::User(uid), avatar.as_ref())?;
                let friends: Vec<UserId> = s.friends(uid)?.into_iter().map(|f| f.user.id).collect();
                Ok((friends, s.co_members(uid)?))
            })
            .await?;
        let reply = avatar_of(Conv::User(me.account.clone()), sha256);
        let mut audience: HashSet<UserId> = members.into_iter().collect();
        audience.extend(friends);
        audience.insert(uid);
        self.tell_avatar(audience, &reply, Some(session));
        Ok(vec![reply])
    }

    /// `GROUP_AVATAR:` — the group's avatar, set by its owner or an admin; every member's sessions with
    /// the `AVATAR` feature are told.
    pub(super) async fn set_group_avatar(
        &self,
        me: &Caller,
        session: SessionId,
        group: u64,
        image: Vec<u8>,
    ) -> Result<Vec<ServerMessage>> {
        let about = |e: ServiceError| e.about(group.to_string());
        let (_, role) = self.membership(me, group).await?;
        if role == Role::Member {
            return Err(about(ServiceError::refused(
                ErrorCode::Forbidden,
                "only the group's owner and admins can change its avatar",
            )));
        }
        let avatar = self.checked_avatar(image).map_err(about)?;
        let sha256 = avatar.as_ref().map(|a| a.sha256.clone());
        let gid = group as i64;
        let members = self
            .db(move |s| {
                s.set_avatar(AvatarOwner::Group(gid), avatar.as_ref())?;
                s.member_ids(gid)
            })
            .await?;
        let reply = avatar_of(Conv::Group(group), sha256);
        self.tell_avatar(members, &reply, Some(session));
        Ok(vec![reply])
    }

    /// `AVATAR_GET:` — any picture by its digest, to anyone logged in: the digest is learnt only from an
    /// `AVATAR_OF:` line, and 256 bits are not guessed, so knowing it is the permission.
    pub(super) async fn get_avatar(&self, sha256: String) -> Result<Vec<ServerMessage>> {
        let key = sha256.clone();
        match self.db(move |s| s.avatar(&key)).await? {
            Some(image) => Ok(vec![ServerMessage::Avatar { sha256, image }]),
            None => Err(ServiceError::refused(
                ErrorCode::NoSuchFile,
                "no avatar has that digest (it may have been replaced)",
            )
            .about(sha256)),
        }
    }

    /// Queues an `AVATAR_OF:` line for the sessions of `users` (but `except`) that read it.
    pub(super) fn tell_avatar(
        &self,
        users: impl IntoIterator<Item = UserId>,
        msg: &ServerMessage,
        except: Option<SessionId>,
    ) {
        let mut wakes = Wakes::default();
        let forms = Forms::by(Feature::Avatar, None, line(msg));
        self.hub.queue_forms(users, &forms, except, &mut wakes);
        wakes.wake();
    }
}
