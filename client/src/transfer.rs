//! File transfers (`FileTran:`): files relayed through the server like QQ's offline files — resumable,
//! verified by SHA-256, each on a data connection of its own so chat stays responsive.
//!
//! # API
//!
//! Settled; the desktop app builds on these names.
//!
//! Commands, on [`crate::Handle`] (each only enqueues and returns at once):
//! - `send_file(conv: Conv, path: impl Into<PathBuf>) -> String` — sends a file to a friend or a group.
//!   Returns its client id; the transfer is [`TransferId::Upload`]`(client_id)`. The file is hashed off the
//!   runtime and the transfer recorded in the local database before anything is offered, so it survives
//!   disconnects and app restarts and resumes where the server stopped (re-offered under the same client id).
//! - `download_file(file_id: u64, dest: Option<PathBuf>) -> TransferId` — downloads a file offered in a
//!   conversation (its [`crate::Message::file`]). `dest`: `None` saves into the OS Downloads directory (or
//!   the data directory if there is none); an existing directory saves into it; anything else is the full
//!   path to save as. The sender's name is only ever used sanitized to a plain file name, and a name that
//!   exists already becomes `name (1).ext`. Bytes go to `<dest>.part`, which a resumed download continues;
//!   the file gets its final name only once its SHA-256 matches. Asking again for a failed, paused or
//!   interrupted download resumes it.
//! - `pause_transfer(id: TransferId)` — stops the data connection; nothing resumes it but
//!   `resume_transfer` (not even a reconnect or restart).
//! - `resume_transfer(id: TransferId)` — resumes a paused or failed transfer.
//! - `cancel_transfer(id: TransferId)` — an upload is withdrawn from the server too (`FILE_CANCEL:`); a
//!   download's `.part` file is deleted.
//! - `reject_file(file_id: u64)` — declines a file offered to me (`FILE_REJECT:`); the sender is told.
//!
//! Events, on [`crate::Event`]:
//! - `Event::Transfer(Transfer)` — a transfer was created or its [`TransferState`] changed. The
//!   [`Transfer`] is complete each time: replace what you have for its [`Transfer::id`].
//! - `Event::TransferProgress { id: TransferId, bytes: u64, total: u64 }` — bytes so far (counting what
//!   the server or the `.part` file had before), a few times a second at most while bytes flow.
//! - `Event::Message(m)` with `m.file = Some(FileInfo { file_id, size, sha256, name })` — the file as a
//!   message in its conversation (its `text` is the file name), like any message: it arrives live or by
//!   sync, mine included once the upload is complete.
//!
//! Reads, on [`crate::Store`]:
//! - `transfers() -> Vec<Transfer>` — every transfer this device knows, newest first.
//! - `files(conv: Conv) -> Vec<Message>` — the file messages of one conversation, oldest first.
//!
//! # How it works
//! The connection task keeps every transfer in memory and in the `transfers` table (`connection/files`).
//! Offers and accepts go on the chat connection; the server's grants (`FILE_UPLOAD:`, `FILE_DOWNLOAD:`)
//! start a worker task (`connection/files/worker`) that opens a new TCP connection (`FILE_PUT:` /
//! `FILE_GET:`) and reports back. A broken data connection is retried (re-offer or re-accept, after a
//! short delay) while it keeps making progress; after a login every unfinished transfer that is not paused
//! is offered or accepted again.
//!
//! This module holds only the data types and the file-name rules: the workers send [`crate::Event`]s,
//! which name these types, so keeping them apart keeps `event` and `transfer` from importing each other.

use std::path::{Path, PathBuf};

use ququ_protocol::{Conv, ErrorCode};

/// Which transfer: an upload by the client id of its offer, a download by the server's file id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransferId {
    Upload(String),
    Download(u64),
}

impl TransferId {
    pub fn is_upload(&self) -> bool {
        matches!(self, TransferId::Upload(_))
    }
}

impl std::fmt::Display for TransferId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferId::Upload(client_id) => write!(f, "upload {client_id}"),
            TransferId::Download(file_id) => write!(f, "download {file_id}"),
        }
    }
}

/// Where a transfer stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransferState {
    /// Upload: hashing the file, or offered and waiting for the server's go-ahead (also while offline, and
    /// between attempts after a data connection broke).
    Offering,
    /// Download: asked the server for it, and waiting (the same cases as `Offering`).
    Requesting,
    /// Bytes are flowing up. The [`Transfer::bytes`] of this event is where the server resumed.
    Uploading,
    /// Bytes are flowing down. The [`Transfer::bytes`] of this event is where the `.part` file resumed.
    Downloading,
    /// Stopped by [`crate::Handle::pause_transfer`] until [`crate::Handle::resume_transfer`].
    Paused,
    /// Upload: every byte is on the server and the file is a message in its conversation.
    /// Download: verified and saved at [`Transfer::path`].
    Done,
    /// Refused by the server or unable to go on; [`crate::Handle::resume_transfer`] tries again.
    Failed { reason: String },
    /// Withdrawn: by me, or (for a download) by the sender.
    Cancelled,
    /// Upload: the recipient declined it. Download: I declined it.
    Rejected,
    /// The server's lifetime for the file passed; it is gone from the server.
    Expired,
    /// Upload, after `Done`: a recipient downloaded all of it (in a group, once per recipient).
    RecipientDownloaded,
}

impl TransferState {
    /// True for states that no reconnect moves on from (resume may still restart a failed one).
    pub fn is_finished(&self) -> bool {
        !self.is_active() && *self != TransferState::Paused
    }

    /// True while the transfer is under way or waiting to be.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            TransferState::Offering
                | TransferState::Requesting
                | TransferState::Uploading
                | TransferState::Downloading
        )
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TransferState::Offering => "offering",
            TransferState::Requesting => "requesting",
            TransferState::Uploading => "uploading",
            TransferState::Downloading => "downloading",
            TransferState::Paused => "paused",
            TransferState::Done => "done",
            TransferState::Failed { .. } => "failed",
            TransferState::Cancelled => "cancelled",
            TransferState::Rejected => "rejected",
            TransferState::Expired => "expired",
            TransferState::RecipientDownloaded => "recipient_downloaded",
        }
    }

    /// The database form: the name, and the reason of a failure.
    pub(crate) fn from_db(name: &str, reason: Option<String>) -> Option<TransferState> {
        Some(match name {
            "offering" => TransferState::Offering,
            "requesting" => TransferState::Requesting,
            "uploading" => TransferState::Uploading,
            "downloading" => TransferState::Downloading,
            "paused" => TransferState::Paused,
            "done" => TransferState::Done,
            "failed" => TransferState::Failed {
                reason: reason.unwrap_or_default(),
            },
            "cancelled" => TransferState::Cancelled,
            "rejected" => TransferState::Rejected,
            "expired" => TransferState::Expired,
            "recipient_downloaded" => TransferState::RecipientDownloaded,
            _ => return None,
        })
    }
}

/// One upload or download, as this device knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: TransferId,
    pub conv: Conv,
    /// The server's id for the file: for an upload once the server has granted it.
    pub file_id: Option<u64>,
    /// Display name (an upload's is its file name; a download's is the sender's, unsanitized).
    pub name: String,
    pub size: u64,
    /// Lower-case hex SHA-256; empty while an upload is still being hashed.
    pub sha256: String,
    /// Upload: the file being sent. Download: where it is saved (while under way, with `.part` appended on
    /// disk; once `Done`, the final name, which may have become `name (1).ext`).
    pub path: PathBuf,
    /// Bytes transferred as of this event (see also [`crate::Event::TransferProgress`]).
    pub bytes: u64,
    pub state: TransferState,
}

impl Transfer {
    pub fn is_upload(&self) -> bool {
        self.id.is_upload()
    }
}

/// Why a transfer attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: String },
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: String },
    #[error("{0} is not a file that can be sent")]
    NotAFile(String),
    #[error("the file changed since it was offered (it was {was} bytes, now {now})")]
    Changed { was: u64, now: u64 },
    #[error(transparent)]
    Connect(#[from] crate::tls::ConnectError),
    #[error("the data connection broke: {0}")]
    Interrupted(String),
    #[error("{text} ({code})")]
    Refused { code: ErrorCode, text: String },
    #[error("the server answered something unexpected: {0}")]
    Protocol(String),
    #[error("the downloaded bytes do not match the file's SHA-256")]
    Corrupt,
}

impl TransferError {
    /// Whether asking the server again may help: the connection broke, the grant went stale, or the server
    /// and this device disagreed about the offset.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            TransferError::Connect { .. }
            | TransferError::Interrupted(_)
            | TransferError::Corrupt
            | TransferError::Protocol(_) => true,
            TransferError::Refused { code, .. } => {
                matches!(code, ErrorCode::BadToken | ErrorCode::BadRequest)
            }
            _ => false,
        }
    }

    pub(crate) fn read(path: &Path, e: std::io::Error) -> TransferError {
        TransferError::Read {
            path: path.display().to_string(),
            error: e.to_string(),
        }
    }

    pub(crate) fn write(path: &Path, e: std::io::Error) -> TransferError {
        TransferError::Write {
            path: path.display().to_string(),
            error: e.to_string(),
        }
    }
}

/// The longest file name this client offers (the server takes up to 255 characters).
const MAX_NAME: usize = 255;

/// The name an upload is offered under: the file's own name, made acceptable to the server (no path
/// separators or control characters, at most 255 characters).
pub(crate) fn offer_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_control() || c == '/' || c == '\\' {
                '_'
            } else {
                c
            }
        })
        .take(MAX_NAME)
        .collect();
    (!clean.trim().is_empty() && clean != "." && clean != "..").then_some(clean)
}

/// A name from another user made safe to create in a directory: never a path, never hidden or special.
pub fn safe_file_name(name: &str) -> String {
    let mut clean: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    // Leading dots would hide the file (or make it `..`); trailing dots and spaces Windows drops silently.
    clean = clean
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_owned();
    // Keep well under the usual 255-byte limit, leaving room for " (12)" and ".part".
    while clean.len() > 200 {
        clean.pop();
    }
    let stem = clean.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        clean.insert(0, '_');
    }
    if clean.is_empty() {
        "download".to_owned()
    } else {
        clean
    }
}

/// `path` with `.part` appended: where a download's bytes go until verified.
pub(crate) fn part_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// `path`, or `stem (1).ext`, `stem (2).ext`, … — the first that is free. With `with_part`, the `.part`
/// name beside it must be free too (a new download must not continue someone else's).
pub(crate) fn unique_path(path: &Path, with_part: bool) -> PathBuf {
    let taken = |p: &Path| p.exists() || (with_part && part_path(p).exists());
    if !taken(path) {
        return path.to_path_buf();
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (1u32..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !taken(p))
        .unwrap_or_else(|| path.to_path_buf())
}

/// The OS Downloads directory, else `downloads` in the data directory.
pub fn default_download_dir(data_dir: &Path) -> PathBuf {
    directories::UserDirs::new()
        .and_then(|u| u.download_dir().map(Path::to_path_buf))
        .unwrap_or_else(|| data_dir.join("downloads"))
}

/// Where a download of `name` saved per `dest` goes (see [`crate::Handle::download_file`]). Blocking (it
/// looks at the file system).
pub(crate) fn choose_destination(dest: Option<PathBuf>, name: &str, data_dir: &Path) -> PathBuf {
    let safe = safe_file_name(name);
    let path = match dest {
        None => default_download_dir(data_dir).join(safe),
        Some(dir) if dir.is_dir() => dir.join(safe),
        Some(path) if path.file_name().is_none() => path.join(safe),
        Some(path) => path,
    };
    unique_path(&path, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_senders_name_never_becomes_a_path() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name(".."), "download");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        assert_eq!(safe_file_name("a\\b:c"), "a_b_c");
        assert_eq!(safe_file_name("CON.txt"), "_CON.txt");
        assert_eq!(safe_file_name("报告 (final).pdf"), "报告 (final).pdf");
        assert_eq!(safe_file_name("x\u{0}y"), "x_y");
        assert!(safe_file_name(&"长".repeat(300)).len() <= 200);
    }

    #[test]
    fn a_clashing_name_gets_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let want = dir.path().join("report.pdf");
        assert_eq!(unique_path(&want, true), want);
        std::fs::write(&want, b"x").unwrap();
        assert_eq!(unique_path(&want, true), dir.path().join("report (1).pdf"));
        std::fs::write(part_path(&dir.path().join("report (1).pdf")), b"x").unwrap();
        assert_eq!(unique_path(&want, true), dir.path().join("report (2).pdf"));
        assert_eq!(unique_path(&want, false), dir.path().join("report (1).pdf"));
    }

    #[test]
    fn offered_names_are_plain() {
        assert_eq!(
            offer_name(Path::new("/tmp/a b.txt")).as_deref(),
            Some("a b.txt")
        );
        assert_eq!(offer_name(Path::new("/")), None);
    }
}
