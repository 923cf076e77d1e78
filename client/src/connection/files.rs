//! The connection task's side of file transfers: it keeps every transfer (in memory and in the database),
//! sends offers and accepts on the chat connection, turns the server's grants into worker tasks
//! ([`worker::Worker`], in `files/worker.rs`) and their reports into [`Event::Transfer`]s, and asks again
//! after a broken data connection, a reconnect or a restart. Workers never touch this state: they report,
//! and a report from an attempt that has since been paused or replaced is recognised by its `run` and
//! ignored.
//!
//! It runs past 600 lines because it is one state machine: the commands, the server's lines and the
//! workers' reports all move the same [`Live`] entries between [`TransferState`]s, and each transition is
//! easiest to check beside the others.

mod worker;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use ququ_protocol::{ClientMessage, Conv, ErrorCode, FileState};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::{End, FileCommand, Link, Session, reason};
use crate::event::Event;
use crate::storage::StorageError;
use crate::transfer::{self, Transfer, TransferError, TransferId, TransferState};
use worker::{Download, Report, Upload, Worker};

/// Attempts in a row that move no bytes before a transfer is given up as failed (resume restarts it).
const MAX_STRIKES: u32 = 5;

/// One transfer and what is running for it.
struct Live {
    t: Transfer,
    /// The current attempt (hasher, worker or retry timer); reports from any other are stale.
    run: u64,
    /// A hasher or data-connection worker is running: do not ask the server again meanwhile.
    worker: Option<AbortHandle>,
    /// A retry is scheduled.
    timer: Option<AbortHandle>,
    /// An offer or accept is out on the current connection and not yet answered.
    asked: bool,
    /// Attempts in a row that moved no bytes.
    strikes: u32,
}

impl Live {
    fn new(t: Transfer) -> Live {
        Live {
            t,
            run: 0,
            worker: None,
            timer: None,
            asked: false,
            strikes: 0,
        }
    }

    fn stop(&mut self) {
        for task in [self.worker.take(), self.timer.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        self.asked = false;
    }

    /// The waiting state for this direction: what a transfer goes back to between attempts.
    fn waiting(&self) -> TransferState {
        if self.t.is_upload() {
            TransferState::Offering
        } else {
            TransferState::Requesting
        }
    }
}

pub(super) struct Files {
    live: HashMap<TransferId, Live>,
    pub(super) reports: mpsc::UnboundedReceiver<Report>,
    report_tx: mpsc::UnboundedSender<Report>,
    next_run: u64,
}

impl Files {
    pub(super) fn new() -> Files {
        let (report_tx, reports) = mpsc::unbounded_channel();
        Files {
            live: HashMap::new(),
            reports,
            report_tx,
            next_run: 0,
        }
    }

    fn next_run(&mut self) -> u64 {
        self.next_run += 1;
        self.next_run
    }
}

/// Deletes a download's partial file, off the runtime; a file already gone is fine.
fn remove_part(dest: PathBuf) {
    tokio::task::spawn_blocking(move || {
        let _ = std::fs::remove_file(transfer::part_path(&dest));
    });
}

impl Session {
    /// Loads every transfer recorded before; unfinished ones wait for the next login, and an upload that was
    /// still being hashed is hashed again.
    pub(super) async fn load_transfers(&mut self) -> Result<(), StorageError> {
        let all = self.store.call(|s| s.transfers()).await?;
        for mut t in all {
            // Whatever was flowing when the app stopped is waiting now.
            t.state = match t.state {
                TransferState::Uploading => TransferState::Offering,
                TransferState::Downloading => TransferState::Requesting,
                other => other,
            };
            let id = t.id.clone();
            let hash = t.is_upload() && t.sha256.is_empty() && t.state.is_active();
            self.files.live.insert(id.clone(), Live::new(t));
            if hash {
                self.start_hash(&id);
            }
        }
        Ok(())
    }

    fn worker(&mut self) -> (Worker, u64) {
        let run = self.files.next_run();
        let worker = Worker {
            connector: self.connector.clone(),
            connect_timeout: self.config.timing.connect_timeout,
            idle: self.config.timing.dead_after,
            events: self.events.clone(),
            reports: self.files.report_tx.clone(),
            run,
        };
        (worker, run)
    }

    /// Stores a transfer's current state and tells the user interface.
    async fn commit(&mut self, id: &TransferId) -> Result<(), End> {
        let Some(l) = self.files.live.get(id) else {
            return Ok(());
        };
        let t = l.t.clone();
        let stored = t.clone();
        self.store.call(move |s| s.save_transfer(&stored)).await?;
        self.emit(Event::Transfer(t));
        Ok(())
    }

    async fn set_state(&mut self, id: &TransferId, state: TransferState) -> Result<(), End> {
        if let Some(l) = self.files.live.get_mut(id) {
            l.t.state = state;
        }
        self.commit(id).await
    }

    fn start_hash(&mut self, id: &TransferId) {
        let (worker, run) = self.worker();
        let Some(l) = self.files.live.get_mut(id) else {
            return;
        };
        let path = l.t.path.clone();
        let id = id.clone();
        let task = tokio::spawn(async move {
            let result = tokio::task::spawn_blocking(move || worker::hash_file(&path))
                .await
                .unwrap_or_else(|e| Err(TransferError::Protocol(e.to_string())));
            let _ = worker.reports.send(Report::Hashed { id, run, result });
        });
        l.stop();
        l.run = run;
        l.worker = Some(task.abort_handle());
    }

    /// Sends a request now if logged in, else keeps it for the next login.
    async fn request_now_or_later(
        &mut self,
        link: Option<&mut Link>,
        msg: ClientMessage,
    ) -> Result<(), End> {
        match link {
            Some(link) => link.send(&msg).await?,
            None => self.queued.push_back(msg),
        }
        Ok(())
    }

    /// Offers an upload or accepts a download on the connection, unless something is under way for it.
    async fn ask(&mut self, link: Option<&mut Link>, id: &TransferId) -> Result<(), End> {
        let Some(link) = link else {
            return Ok(());
        };
        let Some(l) = self.files.live.get_mut(id) else {
            return Ok(());
        };
        if !l.t.state.is_active() || l.worker.is_some() || l.asked {
            return Ok(());
        }
        if let Some(timer) = l.timer.take() {
            timer.abort();
        }
        let msg = match &l.t.id {
            TransferId::Upload(client_id) => {
                if l.t.sha256.is_empty() {
                    return Ok(());
                }
                link.offers.push_back(client_id.clone());
                ClientMessage::FileOffer {
                    to: l.t.conv.clone(),
                    client_id: client_id.clone(),
                    size: l.t.size,
                    sha256: l.t.sha256.clone(),
                    name: l.t.name.clone(),
                }
            }
            TransferId::Download(file) => ClientMessage::FileAccept { file: *file },
        };
        l.asked = true;
        link.send(&msg).await?;
        Ok(())
    }

    /// After a login: every unfinished transfer with nothing under way asks again; the server answers
    /// with the offset it has, so nothing is sent twice.
    pub(super) async fn resume_transfers(&mut self, link: &mut Link) -> Result<(), End> {
        let mut ids: Vec<TransferId> = Vec::new();
        for (id, l) in &mut self.files.live {
            // Answers to anything asked on the old connection will never come.
            l.asked = false;
            if l.t.state.is_active() && l.worker.is_none() {
                ids.push(id.clone());
            }
        }
        // Oldest first would be nicer, but ids carry no order; sorting keeps it deterministic at least.
        ids.sort();
        for id in ids {
            self.ask(Some(&mut *link), &id).await?;
        }
        Ok(())
    }

    pub(super) async fn file_command(
        &mut self,
        link: Option<&mut Link>,
        cmd: FileCommand,
    ) -> Result<(), End> {
        match cmd {
            FileCommand::Send {
                conv,
                client_id,
                path,
            } => self.send_file(conv, client_id, path).await,
            FileCommand::Download { file_id, dest } => {
                self.download_file(link, file_id, dest).await
            }
            FileCommand::Pause(id) => {
                let Some(l) = self.files.live.get_mut(&id) else {
                    return Ok(());
                };
                if !l.t.state.is_active() {
                    return Ok(());
                }
                l.stop();
                self.set_state(&id, TransferState::Paused).await
            }
            FileCommand::Resume(id) => {
                let Some(l) = self.files.live.get_mut(&id) else {
                    return Ok(());
                };
                if !matches!(
                    l.t.state,
                    TransferState::Paused | TransferState::Failed { .. }
                ) {
                    return Ok(());
                }
                l.strikes = 0;
                l.t.state = l.waiting();
                let hash = l.t.is_upload() && l.t.sha256.is_empty();
                self.commit(&id).await?;
                if hash {
                    self.start_hash(&id);
                    Ok(())
                } else {
                    self.ask(link, &id).await
                }
            }
            FileCommand::Cancel(id) => {
                let Some(l) = self.files.live.get_mut(&id) else {
                    return Ok(());
                };
                if matches!(l.t.state, TransferState::Cancelled | TransferState::Expired)
                    || (!l.t.is_upload() && l.t.state == TransferState::Done)
                {
                    return Ok(());
                }
                l.stop();
                let (file_id, dest) = (l.t.file_id, l.t.path.clone());
                self.set_state(&id, TransferState::Cancelled).await?;
                match id {
                    // Without a file id the offer is unanswered yet; its grant is answered with the cancel.
                    TransferId::Upload(_) => {
                        if let Some(file) = file_id {
                            self.request_now_or_later(link, ClientMessage::FileCancel { file })
                                .await?;
                        }
                    }
                    TransferId::Download(_) => remove_part(dest),
                }
                Ok(())
            }
            FileCommand::Reject(file) => {
                let id = TransferId::Download(file);
                if let Some(l) = self.files.live.get_mut(&id)
                    && l.t.state != TransferState::Done
                {
                    l.stop();
                    remove_part(l.t.path.clone());
                    self.set_state(&id, TransferState::Rejected).await?;
                }
                self.request_now_or_later(link, ClientMessage::FileReject { file })
                    .await
            }
        }
    }

    /// Records an upload and starts hashing it; it is offered once hashed (see `on_report`).
    async fn send_file(&mut self, conv: Conv, client_id: String, path: PathBuf) -> Result<(), End> {
        // A restart may have another working directory: keep the path that was meant.
        let path = std::path::absolute(&path).unwrap_or(path);
        let name = transfer::offer_name(&path);
        let problem = if path.to_str().is_none() {
            Some(format!(
                "{} is not a Unicode path, which this client cannot keep",
                path.display()
            ))
        } else if name.is_none() {
            Some(format!("{} has no file name", path.display()))
        } else {
            None
        };
        let id = TransferId::Upload(client_id);
        let t = Transfer {
            id: id.clone(),
            conv,
            file_id: None,
            name: name.unwrap_or_default(),
            size: 0,
            sha256: String::new(),
            path,
            bytes: 0,
            state: match problem {
                Some(reason) => TransferState::Failed { reason },
                None => TransferState::Offering,
            },
        };
        let active = t.state.is_active();
        self.files.live.insert(id.clone(), Live::new(t));
        // Recorded before anything else happens, so a restart finds it.
        self.commit(&id).await?;
        if active {
            self.start_hash(&id);
        }
        Ok(())
    }

    async fn download_file(
        &mut self,
        link: Option<&mut Link>,
        file_id: u64,
        dest: Option<PathBuf>,
    ) -> Result<(), End> {
        let id = TransferId::Download(file_id);
        if let Some(l) = self.files.live.get_mut(&id) {
            match &l.t.state {
                s if s.is_active() => return Ok(()),
                // Asking again continues where it stopped, into the same `.part` file.
                TransferState::Paused | TransferState::Failed { .. } => {
                    l.strikes = 0;
                    l.t.state = TransferState::Requesting;
                    self.commit(&id).await?;
                    return self.ask(link, &id).await;
                }
                // Done, cancelled, rejected or expired: a fresh download (the server decides if it can).
                _ => {}
            }
        }
        let message = self.store.call(move |s| s.file_message(file_id)).await?;
        let Some((conv, file)) = message.and_then(|m| Some((m.conv, m.file?))) else {
            self.emit(Event::Error {
                code: ErrorCode::NoSuchFile,
                text: format!("no conversation here offers file {file_id}"),
                about: Some(file_id.to_string()),
            });
            return Ok(());
        };
        let (name, data_dir) = (file.name.clone(), self.data_dir.clone());
        let path = tokio::task::spawn_blocking(move || {
            transfer::choose_destination(dest, &name, &data_dir)
        })
        .await
        .map_err(|e| End::Stop(crate::StopReason::Storage(e.to_string())))?;
        let t = Transfer {
            id: id.clone(),
            conv,
            file_id: Some(file_id),
            name: file.name,
            size: file.size,
            sha256: file.sha256,
            path,
            bytes: 0,
            state: TransferState::Requesting,
        };
        self.files.live.insert(id.clone(), Live::new(t));
        self.commit(&id).await?;
        self.ask(link, &id).await
    }

    /// `FILE_UPLOAD:` answers the oldest unanswered offer on this connection.
    pub(super) async fn on_file_upload(
        &mut self,
        link: &mut Link,
        file: u64,
        token: String,
        offset: u64,
    ) -> Result<(), End> {
        let Some(client_id) = link.offers.pop_front() else {
            tracing::warn!(file, "an upload grant for no offer");
            return Ok(());
        };
        let id = TransferId::Upload(client_id);
        let Some(l) = self.files.live.get_mut(&id) else {
            return Ok(());
        };
        l.asked = false;
        let new_id = l.t.file_id != Some(file);
        l.t.file_id = Some(file);
        if l.t.state == TransferState::Cancelled {
            // Cancelled while the offer was on its way: withdraw what the server just set up.
            link.send(&ClientMessage::FileCancel { file }).await?;
        }
        if !l.t.state.is_active() || l.worker.is_some() {
            if new_id {
                let stored = l.t.clone();
                self.store.call(move |s| s.save_transfer(&stored)).await?;
            }
            return Ok(());
        }
        let job = Upload {
            id: id.clone(),
            path: l.t.path.clone(),
            size: l.t.size,
            token,
            offset,
        };
        let (worker, run) = self.worker();
        let task = tokio::spawn(worker.upload(job));
        if let Some(l) = self.files.live.get_mut(&id) {
            l.run = run;
            l.worker = Some(task.abort_handle());
            l.t.bytes = offset;
        }
        Ok(())
    }

    pub(super) async fn on_file_download(
        &mut self,
        file: u64,
        token: String,
        size: u64,
    ) -> Result<(), End> {
        let id = TransferId::Download(file);
        let Some(l) = self.files.live.get_mut(&id) else {
            return Ok(());
        };
        l.asked = false;
        if !l.t.state.is_active() || l.worker.is_some() {
            return Ok(());
        }
        if size != l.t.size {
            let reason = format!(
                "the server has {size} bytes for this file, its offer said {}",
                l.t.size
            );
            return self.set_state(&id, TransferState::Failed { reason }).await;
        }
        let job = Download {
            id: id.clone(),
            dest: l.t.path.clone(),
            size,
            sha256: l.t.sha256.clone(),
            token,
        };
        let (worker, run) = self.worker();
        let task = tokio::spawn(worker.download(job));
        if let Some(l) = self.files.live.get_mut(&id) {
            l.run = run;
            l.worker = Some(task.abort_handle());
        }
        Ok(())
    }

    /// `ACK:` of a file's client id: every byte is on the server and the file is a message.
    pub(super) async fn on_file_ack(
        &mut self,
        link: &mut Link,
        client_id: &str,
    ) -> Result<(), End> {
        link.offers.retain(|c| c != client_id);
        let id = TransferId::Upload(client_id.to_owned());
        let Some(l) = self.files.live.get_mut(&id) else {
            return Ok(());
        };
        if !(l.t.state.is_active()
            || matches!(
                l.t.state,
                TransferState::Paused | TransferState::Failed { .. }
            ))
        {
            return Ok(());
        }
        l.stop();
        l.t.bytes = l.t.size;
        self.set_state(&id, TransferState::Done).await
    }

    /// An `ERROR:` about one of my offers or accepts fails that transfer. True if it was about a transfer
    /// (then it is reported as the transfer's failure, not as an [`Event::Error`]).
    pub(super) async fn on_file_error(
        &mut self,
        link: &mut Link,
        code: &ErrorCode,
        text: &str,
        about: Option<&str>,
    ) -> Result<bool, End> {
        let Some(about) = about else {
            return Ok(false);
        };
        let upload = TransferId::Upload(about.to_owned());
        if let Some(l) = self.files.live.get_mut(&upload) {
            link.offers.retain(|c| c != about);
            if *code == ErrorCode::RateLimited && l.t.state.is_active() {
                // Too many messages and offers at once: offer it again in a moment, not a failure.
                l.asked = false;
                self.schedule_retry(&upload, Duration::from_secs(1));
                return Ok(true);
            }
            if l.t.state.is_active() {
                l.stop();
                let reason = reason(code, text);
                self.set_state(&upload, TransferState::Failed { reason })
                    .await?;
            }
            return Ok(true);
        }
        let Ok(file) = about.parse::<u64>() else {
            return Ok(false);
        };
        let download = TransferId::Download(file);
        if let Some(l) = self.files.live.get_mut(&download)
            && l.asked
        {
            l.stop();
            let reason = reason(code, text);
            self.set_state(&download, TransferState::Failed { reason })
                .await?;
            return Ok(true);
        }
        // A cancel that came too late (the file was already withdrawn or expired) changes nothing.
        let late_cancel = self.files.live.values().any(|l| {
            l.t.is_upload() && l.t.file_id == Some(file) && l.t.state == TransferState::Cancelled
        });
        Ok(late_cancel && *code == ErrorCode::NoSuchFile)
    }

    /// `FILE_STATE:` — the file was rejected, cancelled, expired or downloaded by a recipient.
    pub(super) async fn on_file_state(&mut self, file: u64, state: FileState) -> Result<(), End> {
        let ids: Vec<TransferId> = self
            .files
            .live
            .iter()
            .filter(|(_, l)| l.t.file_id == Some(file))
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            let Some(l) = self.files.live.get_mut(&id) else {
                continue;
            };
            let gone = matches!(l.t.state, TransferState::Cancelled | TransferState::Expired);
            let next = if l.t.is_upload() {
                match state {
                    FileState::Rejected if !gone => TransferState::Rejected,
                    FileState::Cancelled if !gone => TransferState::Cancelled,
                    FileState::Expired if !gone => TransferState::Expired,
                    FileState::Downloaded if !gone => TransferState::RecipientDownloaded,
                    _ => continue,
                }
            } else {
                if gone || l.t.state == TransferState::Done {
                    continue;
                }
                match state {
                    FileState::Rejected => TransferState::Rejected,
                    FileState::Cancelled => TransferState::Cancelled,
                    FileState::Expired => TransferState::Expired,
                    _ => continue,
                }
            };
            if !l.t.is_upload() || next != TransferState::RecipientDownloaded {
                l.stop();
            }
            if !l.t.is_upload() {
                remove_part(l.t.path.clone());
            }
            self.set_state(&id, next).await?;
        }
        Ok(())
    }

    /// A worker, hasher or retry timer reports. `link` is the connection if logged in.
    pub(super) async fn on_report(
        &mut self,
        link: Option<&mut Link>,
        report: Report,
    ) -> Result<(), End> {
        match report {
            Report::Hashed { id, run, result } => {
                let Some(l) = self.files.live.get_mut(&id).filter(|l| l.run == run) else {
                    return Ok(());
                };
                l.worker = None;
                match result {
                    Ok((size, sha256)) => {
                        l.t.size = size;
                        l.t.sha256 = sha256;
                        self.commit(&id).await?;
                        self.ask(link, &id).await
                    }
                    Err(e) => {
                        let reason = e.to_string();
                        self.set_state(&id, TransferState::Failed { reason }).await
                    }
                }
            }
            Report::Started { id, run, offset } => {
                let Some(l) = self.files.live.get_mut(&id).filter(|l| l.run == run) else {
                    return Ok(());
                };
                if !l.t.state.is_active() {
                    return Ok(());
                }
                l.t.bytes = offset;
                l.t.state = if l.t.is_upload() {
                    TransferState::Uploading
                } else {
                    TransferState::Downloading
                };
                self.commit(&id).await
            }
            Report::Finished {
                id,
                run,
                result,
                moved,
            } => {
                let Some(l) = self.files.live.get_mut(&id).filter(|l| l.run == run) else {
                    return Ok(());
                };
                l.worker = None;
                if !l.t.state.is_active() {
                    return Ok(());
                }
                match result {
                    Ok(saved) => {
                        if let Some(path) = saved {
                            l.t.path = path;
                        }
                        l.t.bytes = l.t.size;
                        self.set_state(&id, TransferState::Done).await
                    }
                    Err(e) => {
                        if moved {
                            l.strikes = 0;
                        }
                        if !e.retryable() || l.strikes >= MAX_STRIKES {
                            let reason = e.to_string();
                            return self.set_state(&id, TransferState::Failed { reason }).await;
                        }
                        tracing::info!("{id}: {e}; asking the server again");
                        l.strikes += 1;
                        l.t.state = l.waiting();
                        let strikes = l.strikes;
                        let delay = self.retry_delay(strikes);
                        self.commit(&id).await?;
                        self.schedule_retry(&id, delay);
                        Ok(())
                    }
                }
            }
            Report::Retry { id, run } => {
                let Some(l) = self.files.live.get_mut(&id).filter(|l| l.run == run) else {
                    return Ok(());
                };
                l.timer = None;
                self.ask(link, &id).await
            }
        }
    }

    /// Like reconnecting: quick at first, slower when attempts keep failing.
    fn retry_delay(&self, strikes: u32) -> Duration {
        let timing = &self.config.timing;
        timing
            .reconnect_initial
            .saturating_mul(1 << strikes.saturating_sub(1).min(10))
            .min(timing.reconnect_max)
    }

    fn schedule_retry(&mut self, id: &TransferId, delay: Duration) {
        let run = self.files.next_run();
        let reports = self.files.report_tx.clone();
        let Some(l) = self.files.live.get_mut(id) else {
            return;
        };
        let retry = Report::Retry {
            id: id.clone(),
            run,
        };
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = reports.send(retry);
        });
        l.stop();
        l.run = run;
        l.timer = Some(task.abort_handle());
    }
}
