//! Relayed files (`FileTran:`): offers, one-time transfer tokens, resumable uploads, verified downloads,
//! cancel, reject, quota and expiry.
//!
//! The bytes travel on a separate data connection (`FILE_PUT:` / `FILE_GET:` as its first line) so chat stays
//! responsive during a transfer. The session layer hands this module that connection as a plain byte
//! stream. Files are stored by content (`files/<sha256>`), never under the sender's file name, and become
//! a message in their conversation only once every byte is here and the SHA-256 matches.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use ququ_protocol::{Conv, ErrorCode, FileInfo, FileState, ServerMessage};

use super::{Caller, Result, ServiceError, Services, line, now_millis};
use crate::storage::{
    Body, FileRecord, FileStatus, NewFile, NewMessage, StoreError, Target, TransferGrant, UserId,
};

const MAX_NAME: usize = 255;
/// A transfer token is good for this long, and for one data connection.
const GRANT_TTL: Duration = Duration::from_secs(3600);
const CHUNK: usize = 256 * 1024;
/// How often an upload in cluster mode asks whether it still holds its file's bytes: a newer upload of
/// the file on another node waits twice this before it writes.
const UPLOAD_CHECK: Duration = Duration::from_secs(1);

/// Which way a data connection moves bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Put,
    Get,
}

/// The uploads under way on this node, one per file: a newer upload of a file stops the one before at
/// once (see [`Grants::take_over`]). The one-time transfer tokens themselves are in the store
/// (`FileStore::grant_transfer`), as is which upload, on any node, holds a file's partial bytes.
#[derive(Debug, Default)]
pub struct Grants {
    /// The upload allowed to write each file's partial bytes.
    uploads: Mutex<HashMap<u64, Writer>>,
    next_writer: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
struct Writer {
    seq: u64,
    /// Its claim on the file in the store (`FileStore::claim_upload`).
    claim: i64,
    stop: tokio_util::sync::CancellationToken,
    lock: Arc<tokio::sync::Mutex<()>>,
}

/// An upload's claim on a file's partial bytes; given up on drop.
struct UploadSlot<'a> {
    grants: &'a Grants,
    file: u64,
    seq: u64,
    /// Its claim in the store, and the claim of the upload on this node it took over from, if any.
    claim: i64,
    local_before: Option<i64>,
    stop: tokio_util::sync::CancellationToken,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for UploadSlot<'_> {
    fn drop(&mut self) {
        let mut map = self
            .grants
            .uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if map.get(&self.file).is_some_and(|w| w.seq == self.seq) {
            map.remove(&self.file);
        }
    }
}

impl Grants {
    /// Claims `file`'s partial bytes for a new upload, stopping one already under way: its client has most
    /// likely lost that connection and resumed on this one, and two writers would interleave their bytes.
    /// Lock the slot's `lock` before touching the file; the stopped upload lets go of it at once.
    fn take_over(&self, file: u64) -> UploadSlot<'_> {
        let seq = self
            .next_writer
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stop = tokio_util::sync::CancellationToken::new();
        let claim = rand::random::<i64>();
        let mut map = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        let (lock, local_before) = match map.get(&file) {
            Some(old) => {
                old.stop.cancel();
                (old.lock.clone(), Some(old.claim))
            }
            None => (Arc::new(tokio::sync::Mutex::new(())), None),
        };
        map.insert(
            file,
            Writer {
                seq,
                claim,
                stop: stop.clone(),
                lock: lock.clone(),
            },
        );
        UploadSlot {
            grants: self,
            file,
            seq,
            claim,
            local_before,
            stop,
            lock,
        }
    }
}

/// A name is shown to people, never used as a path — but one that looks like a path is refused anyway, so
/// no client is tempted to save it as one.
fn check_file_name(name: &str) -> Result<()> {
    let bad = name.trim().is_empty()
        || name.chars().count() > MAX_NAME
        || name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
        || name == "."
        || name == "..";
    if bad {
        return Err(ServiceError::refused(
            ErrorCode::BadRequest,
            format!(
                "a file name is 1 to {MAX_NAME} characters with no path separators or control characters"
            ),
        ));
    }
    Ok(())
}

/// An upload stopped because a newer one of the same file took its bytes over.
fn taken_over(file: u64) -> ServiceError {
    ServiceError::refused(
        ErrorCode::BadRequest,
        "a newer upload of this file took over from this connection",
    )
    .about(file.to_string())
}

// What the store keeps of a transfer token: its SHA-256, as of a session token, so a copy of the
// database grants nothing.
use super::accounts::token_hash as transfer_hash;

fn no_file(id: u64, why: &str) -> ServiceError {
    ServiceError::refused(ErrorCode::NoSuchFile, why.to_owned()).about(id.to_string())
}

fn io_err(e: std::io::Error) -> ServiceError {
    ServiceError::Store(StoreError::Unusable {
        path: "files".into(),
        reason: e.to_string(),
    })
}

impl Services {
    fn blob_path(&self, sha256: &str) -> PathBuf {
        self.config.files_dir().join(sha256)
    }

    fn partial_path(&self, file: u64) -> PathBuf {
        self.config
            .files_dir()
            .join("partial")
            .join(file.to_string())
    }

    async fn partial_len(&self, file: u64) -> u64 {
        tokio::fs::metadata(self.partial_path(file))
            .await
            .map_or(0, |m| m.len())
    }

    /// Users a file is addressed to, with the sender. A recipient who blocks the sender is not one: the
    /// offer is kept for the sender only (see `store_file_message`).
    async fn file_audience(&self, f: &FileRecord) -> Result<Vec<UserId>> {
        Ok(match f.to {
            Target::User(u) => {
                let sender = f.sender;
                if self.db(move |s| s.blocks(u, sender)).await? {
                    vec![f.sender]
                } else {
                    vec![f.sender, u]
                }
            }
            Target::Group(g) => {
                let mut ids: Vec<UserId> = self.db(move |s| s.member_ids(g)).await?;
                if !ids.contains(&f.sender) {
                    ids.push(f.sender);
                }
                ids
            }
        })
    }

    pub(super) async fn offer_file(
        &self,
        me: &Caller,
        to: Conv,
        client_id: String,
        size: u64,
        sha256: String,
        name: String,
    ) -> Result<Vec<ServerMessage>> {
        let about = |e: ServiceError| e.about(client_id.clone());
        check_file_name(&name).map_err(about)?;
        let max = self.config.limits.file;
        if size > max {
            return Err(about(ServiceError::refused(
                ErrorCode::TooLarge,
                format!("the file is {size} bytes; this server takes files up to {max} bytes"),
            )));
        }
        let target = match &to {
            Conv::User(account) => {
                let them = self.user_named(account).await.map_err(about)?;
                let (uid, tid) = (me.user, them.id);
                if !self.db(move |s| s.are_friends(uid, tid)).await? {
                    return Err(about(ServiceError::refused(
                        ErrorCode::NotFriends,
                        format!("{} is not your friend", them.account),
                    )));
                }
                Target::User(them.id)
            }
            Conv::Group(g) => {
                self.membership(me, *g).await.map_err(about)?;
                // A muted member offers no files either; checked again when the finished upload is stored.
                let (gid, uid, now) = (*g as i64, me.user, super::now_millis());
                let silence = self.db(move |s| s.silence(gid)).await?;
                if let Some(until) = silence.muted_until(uid, now) {
                    return Err(about(super::messages::muted(*g, until)));
                }
                Target::Group(*g as i64)
            }
        };
        let (uid, cid) = (me.user, client_id.clone());
        if let Some(existing) = self.db(move |s| s.file_by_client_id(uid, &cid)).await? {
            return self.resume_offer(me, existing).await;
        }
        let used = self.db(move |s| s.file_bytes_used(uid)).await?;
        let quota = self.config.file_quota;
        if used.saturating_add(size) > quota {
            return Err(about(ServiceError::refused(
                ErrorCode::QuotaExceeded,
                format!(
                    "your files on the server would take {} bytes; your quota is {quota}",
                    used + size
                ),
            )));
        }
        let now = now_millis();
        let new = NewFile {
            sender: me.user,
            client_id,
            to: target,
            name,
            size,
            sha256,
            created: now,
            expires: now.saturating_add(self.config.file_lifetime.as_millis() as u64),
        };
        let record = self.db(move |s| s.create_file(&new)).await?;
        let token = self.grant(record.id, me.user, Direction::Put).await?;
        Ok(vec![ServerMessage::FileUpload {
            file: record.id,
            token,
            offset: 0,
        }])
    }

    /// The same offer again (same client id): resume the upload, or re-acknowledge a finished one.
    async fn resume_offer(&self, me: &Caller, f: FileRecord) -> Result<Vec<ServerMessage>> {
        match f.status {
            FileStatus::Uploading => {
                let offset = self.partial_len(f.id).await;
                let token = self.grant(f.id, me.user, Direction::Put).await?;
                Ok(vec![ServerMessage::FileUpload {
                    file: f.id,
                    token,
                    offset,
                }])
            }
            FileStatus::Uploaded => {
                let stored = self.store_file_message(&f).await?;
                // Stored now if the upload's own attempt failed: pushed by the relay in cluster mode
                // (with one server a resumed offer is synced, not pushed, as before).
                self.relayed(stored.id).await;
                Ok(vec![ServerMessage::Ack {
                    client_id: stored.client_id.clone(),
                    id: stored.id,
                    time: stored.time,
                }])
            }
            FileStatus::Cancelled | FileStatus::Expired => Err(no_file(
                f.id,
                "that file was cancelled or has expired; offer it again",
            )
            .about(f.client_id)),
        }
    }

    /// Idempotent: the (sender, client id) pair makes a second call return the first message. Refused if
    /// that pair already names another message (a text sent with the same client id): that message is not
    /// this file's offer, and must not be acknowledged or pushed as if it were.
    async fn store_file_message(&self, f: &FileRecord) -> Result<crate::storage::StoredMessage> {
        let new = NewMessage {
            sender: f.sender,
            to: f.to,
            client_id: f.client_id.clone(),
            time: now_millis(),
            body: Body::File(FileInfo {
                file_id: f.id,
                size: f.size,
                sha256: f.sha256.clone(),
                name: f.name.clone(),
            }),
            hidden: false,
        };
        let stored = self
            .db(move |s| {
                // A file to someone who blocks its sender is kept for the sender only, as a message is.
                let hidden = match new.to {
                    Target::User(to) => s.blocks(to, new.sender)?,
                    Target::Group(_) => false,
                };
                s.store_message(&NewMessage { hidden, ..new })
            })
            .await?;
        match &stored.message.body {
            Body::File(info) if info.file_id == f.id => Ok(stored.message),
            _ => Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "that client id is already used by another message; offer the file with a new one",
            )
            .about(f.client_id.clone())),
        }
    }

    /// A new one-time token for `user` to move `file`'s bytes in `direction`, good for an hour.
    async fn grant(&self, file: u64, user: UserId, direction: Direction) -> Result<String> {
        let mut bytes = [0u8; 18];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let token = hex::encode(bytes);
        let grant = TransferGrant {
            file,
            user,
            put: direction == Direction::Put,
            expires: now_millis().saturating_add(GRANT_TTL.as_millis() as u64),
        };
        let hash = transfer_hash(&token);
        self.db(move |s| s.grant_transfer(&hash, &grant)).await?;
        Ok(token)
    }

    /// Redeems a one-time token for the file it grants, which must be in `status`. The token is used
    /// up either way, as one redeemed in the wrong direction.
    async fn granted_file(
        &self,
        token: &str,
        direction: Direction,
        status: FileStatus,
    ) -> Result<(TransferGrant, FileRecord)> {
        let (hash, now) = (transfer_hash(token), now_millis());
        let grant = self
            .db(move |s| s.redeem_transfer(&hash, now))
            .await?
            .filter(|g| g.put == (direction == Direction::Put))
            .ok_or_else(|| {
                ServiceError::refused(ErrorCode::BadToken, "unknown or used transfer token")
            })?;
        let id = grant.file;
        let f = self
            .db(move |s| s.file(id))
            .await?
            .filter(|f| f.status == status)
            .ok_or_else(|| no_file(id, "that file is finished, withdrawn or expired"))?;
        Ok((grant, f))
    }

    /// Receives an upload on a data connection. Returns the line to answer with.
    pub async fn receive_upload(
        &self,
        token: &str,
        offset: u64,
        bytes: &mut (impl AsyncRead + Unpin),
    ) -> Result<ServerMessage> {
        self.space.check()?;
        let (_, f) = self
            .granted_file(token, Direction::Put, FileStatus::Uploading)
            .await?;
        let slot = self.grants.take_over(f.id);
        let _writing = slot.lock.lock().await;
        // The partial bytes may be shared with other nodes (cluster mode: one files directory), and
        // the claim in the store says whose they are. An upload this node took over has stopped
        // already (its lock is ours); one on another node sees within UPLOAD_CHECK that its claim is
        // gone, so that long is waited, twice over, before counting the bytes here.
        let (id, claim) = (f.id, slot.claim);
        let before = self.db(move |s| s.claim_upload(id, claim)).await?;
        if before.is_some() && before != slot.local_before {
            tokio::time::sleep(UPLOAD_CHECK * 2).await;
        }
        let received = tokio::select! {
            received = self.write_upload(f, &slot, offset, bytes) => received,
            never = self.watch_claim(id, claim, &slot.stop) => match never {},
        };
        if let Err(e) = self.db(move |s| s.release_upload(id, claim)).await {
            tracing::warn!(error = %e, file = id, "could not let go of an upload's claim");
        }
        received
    }

    /// Cluster mode: stops the upload holding `claim` on `file` (through `stop`, as a take-over on this
    /// node does) once a newer upload on another node has claimed the bytes; it asks every
    /// [`UPLOAD_CHECK`], beside the upload, which may be waiting for bytes that never come. Never returns.
    async fn watch_claim(
        &self,
        file: u64,
        claim: i64,
        stop: &tokio_util::sync::CancellationToken,
    ) -> std::convert::Infallible {
        if self.passer.is_some() {
            loop {
                tokio::time::sleep(UPLOAD_CHECK).await;
                match self.db(move |s| s.holds_upload(file, claim)).await {
                    Ok(true) => {}
                    Ok(false) => {
                        stop.cancel();
                        break;
                    }
                    // The database is out of reach: the upload goes on; it is asked again.
                    Err(e) => tracing::warn!(error = %e, file, "could not check an upload's claim"),
                }
            }
        }
        std::future::pending().await
    }

    /// The bytes of an upload that holds the file's partial bytes (`slot`), from `offset` on.
    async fn write_upload(
        &self,
        f: FileRecord,
        slot: &UploadSlot<'_>,
        offset: u64,
        bytes: &mut (impl AsyncRead + Unpin),
    ) -> Result<ServerMessage> {
        let partial = self.partial_path(f.id);
        let have = self.partial_len(f.id).await;
        if offset != have {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                format!("the server has {have} bytes of this file; resume from there"),
            )
            .about(f.id.to_string()));
        }
        if let Some(dir) = partial.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| self.write_failed(e))?;
        }
        let mut out = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)
            .await
            .map_err(|e| self.write_failed(e))?;
        let mut remaining = f.size - have;
        let mut buf = vec![0u8; CHUNK];
        let idle = self.config.idle_timeout;
        while remaining > 0 {
            let want = buf.len().min(remaining as usize);
            let read = tokio::select! {
                read = tokio::time::timeout(idle, bytes.read(&mut buf[..want])) => read,
                _ = slot.stop.cancelled() => {
                    out.flush().await.map_err(io_err)?;
                    return Err(taken_over(f.id));
                }
            };
            let n = match read {
                Ok(Ok(n)) => n,
                // A dropped or stalled connection keeps what arrived; the client resumes later.
                Ok(Err(_)) | Err(_) => 0,
            };
            if n == 0 {
                out.flush().await.map_err(io_err)?;
                let got = f.size - remaining;
                return Err(ServiceError::refused(
                    ErrorCode::BadRequest,
                    format!(
                        "the upload stopped at byte {got} of {}; resume from there",
                        f.size
                    ),
                )
                .about(f.id.to_string()));
            }
            if let Err(e) = out.write_all(&buf[..n]).await {
                drop(out);
                return Err(self
                    .upload_failed(&partial, e)
                    .await
                    .about(f.id.to_string()));
            }
            remaining -= n as u64;
        }
        if let Err(e) = out.sync_all().await {
            drop(out);
            return Err(self
                .upload_failed(&partial, e)
                .await
                .about(f.id.to_string()));
        }
        drop(out);
        self.finish_upload(f, partial).await
    }

    /// A write to the disk failed: a full disk is `storage_full` and closes the write gate.
    fn write_failed(&self, e: std::io::Error) -> ServiceError {
        if e.kind() == std::io::ErrorKind::StorageFull {
            self.space.full();
            super::space::Space::refusal()
        } else {
            io_err(e)
        }
    }

    /// An upload's bytes could not be written: its partial file goes, so a failed upload on a full disk
    /// does not keep the disk full until it is cancelled or expires. The client uploads it again from
    /// the start (its next offer answers offset 0).
    async fn upload_failed(&self, partial: &std::path::Path, e: std::io::Error) -> ServiceError {
        tracing::warn!(error = %e, "an upload's bytes could not be written; its partial file is removed");
        let _ = tokio::fs::remove_file(partial).await;
        self.write_failed(e)
    }

    async fn finish_upload(&self, f: FileRecord, partial: PathBuf) -> Result<ServerMessage> {
        let check = partial.clone();
        let digest = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            let mut file = std::fs::File::open(check)?;
            let mut hasher = Sha256::new();
            std::io::copy(&mut file, &mut hasher)?;
            Ok(hex::encode(hasher.finalize()))
        })
        .await?
        .map_err(io_err)?;
        if digest != f.sha256 {
            // Start over: the bytes are wrong somewhere and there is no telling where.
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "the file's SHA-256 does not match the offer; upload it again from the start",
            )
            .about(f.id.to_string()));
        }
        let blob = self.blob_path(&f.sha256);
        if tokio::fs::metadata(&blob).await.is_ok() {
            // Someone uploaded the same content before; keep one copy.
            let _ = tokio::fs::remove_file(&partial).await;
        } else {
            tokio::fs::rename(&partial, &blob).await.map_err(io_err)?;
        }
        let id = f.id;
        self.db(move |s| s.set_file_status(id, FileStatus::Uploaded))
            .await?;
        let stored = match self.store_file_message(&f).await {
            Ok(stored) => stored,
            Err(refused @ ServiceError::Refused { .. }) => {
                // It can never be offered under this client id: withdraw it rather than keep it unannounced.
                self.retire_file(&f, FileStatus::Cancelled).await?;
                return Err(refused);
            }
            Err(e) => return Err(e),
        };
        tracing::info!(file = f.id, size = f.size, "file uploaded");
        let ack = ServerMessage::Ack {
            client_id: stored.client_id.clone(),
            id: stored.id,
            time: stored.time,
        };
        // Cluster mode: the offer is pushed by the relay, in id order with every node's messages.
        if !self.relayed(stored.id).await {
            let offer = line(
                &super::messages::to_wire(stored, ququ_protocol::Features::default()).ok_or_else(
                    || ServiceError::refused(ErrorCode::NoSuchFile, "the offer was recalled"),
                )?,
            );
            let audience = self.file_audience(&f).await?;
            self.hub.send_many(audience, &offer, None);
        }
        self.hub.send(f.sender, &line(&ack), None);
        Ok(ServerMessage::FileState {
            file: f.id,
            state: FileState::Uploaded,
        })
    }

    pub(super) async fn accept_file(&self, me: &Caller, id: u64) -> Result<Vec<ServerMessage>> {
        let f = self.readable_file(me, id).await?;
        let token = self.grant(f.id, me.user, Direction::Get).await?;
        Ok(vec![ServerMessage::FileDownload {
            file: f.id,
            token,
            size: f.size,
        }])
    }

    /// A complete file that `me` may read: its sender, its recipient, or a member of its group who was one
    /// when the file was posted there (a newcomer sees neither the earlier messages nor their files).
    async fn readable_file(&self, me: &Caller, id: u64) -> Result<FileRecord> {
        let f = self
            .db(move |s| s.file(id))
            .await?
            .ok_or_else(|| no_file(id, "there is no such file"))?;
        let allowed = match f.to {
            _ if f.sender == me.user => true,
            // While I block the sender, their files are not mine to fetch (I was never shown them).
            Target::User(u) if u == me.user => {
                let (uid, sender) = (me.user, f.sender);
                !self.db(move |s| s.blocks(uid, sender)).await?
            }
            Target::User(_) => false,
            Target::Group(g) => {
                let (uid, sender, client_id) = (me.user, f.sender, f.client_id.clone());
                self.db(move |s| s.sees_group_file(g, uid, sender, &client_id))
                    .await?
            }
        };
        if !allowed {
            return Err(ServiceError::refused(
                ErrorCode::Forbidden,
                "that file was not sent to you",
            )
            .about(id.to_string()));
        }
        match f.status {
            FileStatus::Uploaded => Ok(f),
            FileStatus::Uploading => Err(no_file(id, "that file is still being uploaded")),
            FileStatus::Cancelled => Err(no_file(id, "the sender withdrew that file")),
            FileStatus::Expired => Err(no_file(id, "that file has expired")),
        }
    }

    /// Streams a download on a data connection: a `FILE_PROGRESS:<id>:<offset>:<size>` line, then the raw
    /// bytes from `offset` to the end.
    pub async fn send_download(
        &self,
        token: &str,
        offset: u64,
        out: &mut (impl AsyncWrite + Unpin),
    ) -> Result<()> {
        let (grant, f) = self
            .granted_file(token, Direction::Get, FileStatus::Uploaded)
            .await?;
        if offset > f.size {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                format!("the file has only {} bytes", f.size),
            ));
        }
        let mut file = tokio::fs::File::open(self.blob_path(&f.sha256))
            .await
            .map_err(io_err)?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(io_err)?;
        let mut buf = vec![0u8; CHUNK];
        let mut sent = offset;
        let write_timeout = self.config.write_timeout.max(self.config.idle_timeout);
        // One line before the bytes says they follow (and from where), so a client can tell a refusal
        // (an `ERROR:` line) from a file that happens to start with "ERROR:".
        let header = ServerMessage::FileProgress {
            file: f.id,
            bytes: offset,
            total: f.size,
        };
        let header = format!("{}\n", header.format());
        if tokio::time::timeout(write_timeout, out.write_all(header.as_bytes()))
            .await
            .map_or(true, |r| r.is_err())
        {
            return Ok(());
        }
        while sent < f.size {
            let n = file.read(&mut buf).await.map_err(io_err)?;
            if n == 0 {
                break;
            }
            match tokio::time::timeout(write_timeout, out.write_all(&buf[..n])).await {
                Ok(Ok(())) => sent += n as u64,
                // The receiver went away; it resumes from what it has.
                _ => return Ok(()),
            }
        }
        let _ = out.flush().await;
        if sent == f.size && f.sender != grant.user {
            let done = ServerMessage::FileState {
                file: f.id,
                state: FileState::Downloaded,
            };
            self.hub.send(f.sender, &line(&done), None);
        }
        Ok(())
    }

    pub(super) async fn reject_file(&self, me: &Caller, id: u64) -> Result<Vec<ServerMessage>> {
        let f = self.readable_file(me, id).await?;
        if f.sender == me.user {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "you sent this file; withdraw it with FILE_CANCEL",
            )
            .about(id.to_string()));
        }
        let msg = ServerMessage::FileState {
            file: id,
            state: FileState::Rejected,
        };
        self.hub.send(f.sender, &line(&msg), None);
        self.hub.send(me.user, &line(&msg), None);
        Ok(Vec::new())
    }

    pub(super) async fn cancel_file(&self, me: &Caller, id: u64) -> Result<Vec<ServerMessage>> {
        let f = self
            .db(move |s| s.file(id))
            .await?
            .filter(|f| f.sender == me.user)
            .ok_or_else(|| no_file(id, "you have no such file"))?;
        if !f.status.is_live() {
            return Err(no_file(id, "that file is already withdrawn or expired"));
        }
        self.retire_file(&f, FileStatus::Cancelled).await?;
        Ok(Vec::new())
    }

    /// A recalled file message's file: withdrawn like a cancelled one, so its bytes go unless another
    /// message offers the same content.
    pub(super) async fn recall_file(&self, file: u64) -> Result<()> {
        let Some(f) = self.db(move |s| s.file(file)).await? else {
            return Ok(());
        };
        if f.status.is_live() {
            self.retire_file(&f, FileStatus::Cancelled).await?;
        }
        Ok(())
    }

    /// Marks a file cancelled or expired, frees its bytes, and tells everyone it was addressed to.
    async fn retire_file(&self, f: &FileRecord, status: FileStatus) -> Result<()> {
        let (id, sha) = (f.id, f.sha256.clone());
        let in_use = self
            .db(move |s| {
                s.set_file_status(id, status)?;
                s.blob_in_use(&sha)
            })
            .await?;
        let _ = tokio::fs::remove_file(self.partial_path(f.id)).await;
        if !in_use {
            let _ = tokio::fs::remove_file(self.blob_path(&f.sha256)).await;
        }
        let state = if status == FileStatus::Expired {
            FileState::Expired
        } else {
            FileState::Cancelled
        };
        let msg = line(&ServerMessage::FileState { file: f.id, state });
        let audience = self.file_audience(f).await?;
        self.hub.send_many(audience, &msg, None);
        Ok(())
    }

    /// Retires every file past its lifetime, and drops expired session tokens. Run at start and
    /// periodically.
    pub async fn sweep_expired(&self) -> Result<usize> {
        let now = now_millis();
        self.db(move |s| s.sweep_tokens(now)).await?;
        self.db(move |s| s.sweep_transfers(now)).await?;
        let expired = self.db(move |s| s.files_expired(now)).await?;
        for f in &expired {
            self.retire_file(f, FileStatus::Expired).await?;
        }
        if !expired.is_empty() {
            tracing::info!(count = expired.len(), "expired relayed files removed");
        }
        Ok(expired.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_that_look_like_paths_are_refused() {
        for bad in [
            "../../etc/passwd",
            "a/b",
            "a\\b",
            "..",
            ".",
            "",
            "  ",
            "a\nb",
            "x\0",
        ] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
        for ok in [
            "notes.txt",
            "照片 2026.jpg",
            "..hidden",
            "a..b",
            "résumé (final).pdf",
        ] {
            assert!(check_file_name(ok).is_ok(), "{ok:?}");
        }
    }
}
