//! Where a file in a bubble stands on this device, worked out from the client's transfers whenever it is
//! asked for, so there is no copy in the bubble to keep in step.

use std::collections::HashSet;
use std::path::Path;

use ququ_protocol::Conv;

use super::{Delivery, Transfer, TransferId, TransferState};
use super::{FileItem, Line, Model, now_millis};

/// Where a file stands, from this device's side. Mine go Uploading → Sent → DeliveredToPeer; theirs go
/// Offered → Downloading → Saved. Either may end Rejected, Cancelled, Expired or Failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Mine: bytes going up. `done` bytes are on the server.
    Uploading {
        done: u64,
        paused: bool,
    },
    /// Mine: every byte is on the server; the recipient may download it.
    Sent,
    /// Mine: a recipient has downloaded it.
    DeliveredToPeer,
    /// Theirs: waiting for me to download or reject it.
    Offered,
    /// Theirs: bytes coming down.
    Downloading {
        done: u64,
        paused: bool,
    },
    /// Theirs: saved on this device.
    Saved,
    Rejected,
    /// Withdrawn by the sender (or by me, for mine).
    Cancelled,
    /// The server no longer keeps it.
    Expired,
    /// The transfer stopped on an error; the words say why.
    Failed(String),
}

impl FileState {
    /// How a transfer's state reads in a bubble (its `bytes` kept current by progress events).
    pub fn of_transfer(transfer: &Transfer) -> FileState {
        let (upload, bytes) = (transfer.is_upload(), transfer.bytes);
        let moving = |paused| {
            if upload {
                FileState::Uploading {
                    done: bytes,
                    paused,
                }
            } else {
                FileState::Downloading {
                    done: bytes,
                    paused,
                }
            }
        };
        match &transfer.state {
            TransferState::Offering
            | TransferState::Requesting
            | TransferState::Uploading
            | TransferState::Downloading => moving(false),
            TransferState::Paused => moving(true),
            TransferState::Done if upload => FileState::Sent,
            TransferState::Done => FileState::Saved,
            TransferState::Failed { reason } => FileState::Failed(reason.clone()),
            TransferState::Cancelled => FileState::Cancelled,
            TransferState::Rejected => FileState::Rejected,
            TransferState::Expired => FileState::Expired,
            TransferState::RecipientDownloaded => FileState::DeliveredToPeer,
        }
    }

    pub fn is_paused(&self) -> bool {
        matches!(
            self,
            FileState::Uploading { paused: true, .. } | FileState::Downloading { paused: true, .. }
        )
    }
}

/// A file bubble as it stands now: the offer, plus what this device's transfer of it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView<'a> {
    pub item: &'a FileItem,
    /// The server's id for the file: the message's, or the transfer's for one of mine still going up.
    pub file_id: Option<u64>,
    pub state: FileState,
    /// This device's copy: the file I am sending, or where one I received was saved (only once whole).
    /// Thumbnails and Open / Show in folder use it.
    pub local: Option<&'a Path>,
    /// The transfer that Pause, Resume and Cancel name, if the file has one here.
    pub key: Option<TransferId>,
}

impl FileView<'_> {
    /// Fraction done while bytes move, for the progress bar.
    pub fn progress(&self) -> Option<f32> {
        match self.state {
            FileState::Uploading { done, .. } | FileState::Downloading { done, .. } => {
                Some(if self.item.size == 0 {
                    1.0
                } else {
                    (done as f64 / self.item.size as f64).clamp(0.0, 1.0) as f32
                })
            }
            _ => None,
        }
    }
}

/// The transfer a file bubble belongs to: mine are known by my client id (the server's file id comes
/// later), theirs by the server's file id. The one place this is worked out. (Mine sent from another
/// device have no upload here; [`Model::file`] then looks for a download of it.)
pub fn transfer_key(line: &Line, mine: bool) -> Option<TransferId> {
    let file = line.file.as_ref()?;
    if mine {
        Some(TransferId::Upload(line.client_id.clone()))
    } else {
        file.file_id.map(TransferId::Download)
    }
}

impl Model {
    /// The file in `line`, if it has one, with where it stands on this device: from its transfer, or
    /// without one, on the server (mine) or waiting for me (theirs).
    pub fn file<'a>(&'a self, line: &'a Line) -> Option<FileView<'a>> {
        let item = line.file.as_ref()?;
        let mine = line.from == self.account;
        let mut key = transfer_key(line, mine);
        // Mine, sent from another device of mine: a picture of it downloaded here (the server lets its
        // sender fetch it) is what shows, as for theirs.
        if mine
            && key
                .as_ref()
                .is_some_and(|k| !self.transfers.contains_key(k))
            && let Some(download) = item.file_id.map(TransferId::Download)
            && self.transfers.contains_key(&download)
        {
            key = Some(download);
        }
        let transfer = key.as_ref().and_then(|k| self.transfers.get(k));
        let state = match transfer {
            Some(t) => FileState::of_transfer(t),
            None if mine => FileState::Sent,
            None => FileState::Offered,
        };
        // A download's path is its final name only once it is done (a `.part` until then).
        let local = transfer
            .filter(|t| t.is_upload() || t.state == TransferState::Done)
            .map(|t| t.path.as_path());
        Some(FileView {
            item,
            file_id: item.file_id.or(transfer.and_then(|t| t.file_id)),
            state,
            local,
            key,
        })
    }

    /// The file in `line` if it is a picture that this device has no copy of and no transfer for (an
    /// offer to me, or mine sent from another device): one to fetch so it shows inline. Its server id.
    pub fn picture_to_fetch(&self, line: &Line) -> Option<u64> {
        let item = line.file.as_ref().filter(|f| f.is_image())?;
        let file_id = item.file_id?;
        let mine = line.from == self.account;
        let upload = TransferId::Upload(line.client_id.clone());
        let here = self.transfers.contains_key(&TransferId::Download(file_id))
            || (mine && self.transfers.contains_key(&upload));
        (!here).then_some(file_id)
    }

    /// The transfers in the local store, newest first, read at login so bubbles show what happened before
    /// a restart. Returns the conversations they are in.
    pub fn restore_transfers(&mut self, transfers: Vec<Transfer>) -> HashSet<Conv> {
        let mut convs = HashSet::new();
        for transfer in transfers {
            convs.insert(transfer.conv.clone());
            // Newest first: keep the newest of an id that was restarted.
            self.transfers
                .entry(transfer.id.clone())
                .or_insert(transfer);
        }
        convs
    }

    /// Records a transfer (new, changed, or progress in `bytes`); an upload not yet stored by the server
    /// gets a bubble of its own, as mine are shown while they go up.
    pub fn apply_transfer(&mut self, transfer: Transfer) {
        if let TransferId::Upload(client_id) = &transfer.id {
            let conversation = self.conversations.entry(transfer.conv.clone()).or_default();
            if !conversation
                .lines
                .iter()
                .any(|l| &l.client_id == client_id && l.from == self.account)
            {
                conversation.upsert(Line {
                    local_id: None,
                    id: None,
                    client_id: client_id.clone(),
                    from: self.account.clone(),
                    time: now_millis(),
                    text: transfer.name.clone(),
                    delivery: Delivery::Sending,
                    file: Some(FileItem {
                        file_id: transfer.file_id,
                        name: transfer.name.clone(),
                        size: transfer.size,
                    }),
                    quote: None,
                    mentions: Default::default(),
                    recalled: None,
                    change: None,
                });
            }
        }
        self.transfers.insert(transfer.id.clone(), transfer);
    }
}

/// "1.2 MB": one decimal below ten units, none above, 1024-based like file managers on Windows (and
/// QQ). Bytes are shown whole.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    // 1023.96 KB would print as "1024 KB"; say "1.0 MB" instead.
    if value >= 1023.95 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}
