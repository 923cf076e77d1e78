//! Avatar pictures of users and groups, stored once by their digest. The storage side of
//! [`crate::service`]'s `avatars.rs`.

use super::{GroupId, StoreError, UserId};

/// Whose avatar [`AvatarStore::set_avatar`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarOwner {
    User(UserId),
    Group(GroupId),
}

/// An avatar picture as stored: its bytes (a PNG or JPEG, checked by the service) and their SHA-256 in
/// lower-case hex, which names it.
#[derive(Debug, Clone)]
pub struct Avatar {
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// What the service needs for avatar pictures. Every method is one transaction.
pub trait AvatarStore {
    /// Sets (or, with `None`, clears) a user's or group's avatar. The picture is stored once by its digest
    /// however many show it; the one it replaces is deleted if nobody shows it any more, so the table holds
    /// only pictures someone has.
    fn set_avatar(&self, of: AvatarOwner, image: Option<&Avatar>) -> Result<(), StoreError>;
    /// The picture with this digest, if anyone shows it.
    fn avatar(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;
}
