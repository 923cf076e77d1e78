//! Relayed files: offers, their status and the bytes they keep on disk. The storage side of
//! [`crate::service`]'s `files.rs`.

use ququ_protocol::Millis;

use super::{StoreError, Target, UserId};

/// Where a relayed file stands on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Offered; bytes are still arriving.
    Uploading,
    /// Every byte is here and verified; it is a message in its conversation.
    Uploaded,
    Cancelled,
    Expired,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Uploading => "uploading",
            FileStatus::Uploaded => "uploaded",
            FileStatus::Cancelled => "cancelled",
            FileStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "uploading" => FileStatus::Uploading,
            "uploaded" => FileStatus::Uploaded,
            "cancelled" => FileStatus::Cancelled,
            "expired" => FileStatus::Expired,
            _ => return None,
        })
    }

    /// Still taking space on disk.
    pub fn is_live(self) -> bool {
        matches!(self, FileStatus::Uploading | FileStatus::Uploaded)
    }
}

/// A file offered for relay.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub sender: UserId,
    pub client_id: String,
    pub to: Target,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub created: Millis,
    pub expires: Millis,
}

/// A relayed file as stored.
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub id: u64,
    pub sender: UserId,
    pub client_id: String,
    pub to: Target,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub status: FileStatus,
    pub created: Millis,
    pub expires: Millis,
}

/// A one-time transfer token's grant: `user` may upload (`put`) or download `file` on one data
/// connection until `expires`. Kept in the store, so a data connection can go to any node (cluster
/// mode: a load balancer may send the chat and the data connection to different nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferGrant {
    pub file: u64,
    pub user: UserId,
    pub put: bool,
    pub expires: Millis,
}

/// What the service needs for relayed files. Every method is one transaction.
pub trait FileStore {
    // Relayed files.
    /// Records an offer; [`StoreError::Conflict`] if (sender, client_id) was offered before.
    fn create_file(&self, file: &NewFile) -> Result<FileRecord, StoreError>;
    fn file(&self, id: u64) -> Result<Option<FileRecord>, StoreError>;
    fn file_by_client_id(
        &self,
        sender: UserId,
        client_id: &str,
    ) -> Result<Option<FileRecord>, StoreError>;
    fn set_file_status(&self, id: u64, status: FileStatus) -> Result<(), StoreError>;
    /// Bytes of live files a user has offered, counted against their quota.
    fn file_bytes_used(&self, sender: UserId) -> Result<u64, StoreError>;
    /// Live files whose lifetime has passed.
    fn files_expired(&self, now: Millis) -> Result<Vec<FileRecord>, StoreError>;
    /// Whether any live file still has this content (blobs are shared by content).
    fn blob_in_use(&self, sha256: &str) -> Result<bool, StoreError>;

    // Transfer tokens, by their SHA-256 (the token itself is the client's alone).
    /// Records the grant of a new token.
    fn grant_transfer(&self, token_hash: &str, grant: &TransferGrant) -> Result<(), StoreError>;
    /// Takes the grant of a token, once: `None` if there is none, or it expired before `now`.
    fn redeem_transfer(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<TransferGrant>, StoreError>;
    /// Forgets grants that expired before `now`; how many.
    fn sweep_transfers(&self, now: Millis) -> Result<usize, StoreError>;

    // Who writes a file's partial bytes: one upload at a time, whichever node it is on.
    /// Claims `file`'s partial bytes for the upload `writer`; the writer it takes them from, if any.
    fn claim_upload(&self, file: u64, writer: i64) -> Result<Option<i64>, StoreError>;
    /// Whether `writer` still holds `file`'s partial bytes (a newer upload has not claimed them).
    fn holds_upload(&self, file: u64, writer: i64) -> Result<bool, StoreError>;
    /// `writer` is done with `file`'s partial bytes (nothing if another has claimed them since).
    fn release_upload(&self, file: u64, writer: i64) -> Result<(), StoreError>;
}
