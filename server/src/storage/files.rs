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
}
