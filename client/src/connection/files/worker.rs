//! The transfer workers: tasks that move one file's bytes on a data connection of their own (`FILE_PUT:` /
//! `FILE_GET:`), hash files off the runtime, and report to the connection task (`super`, which owns every
//! transfer's state). They live here, beside that code, rather than in [`crate::transfer`], which holds only
//! the public data types: a worker sends [`Event`]s, and the event types in turn name the transfer types.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ququ_protocol::{ClientMessage, FileState, ServerMessage};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::event::Event;
use crate::transfer::{TransferError, TransferId, part_path, unique_path};

/// Bytes per read and write on a data connection.
const CHUNK: usize = 256 * 1024;
/// Progress events per transfer are at least this far apart (the last one always comes).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// The longest line a data connection answers with; anything longer is not the server.
const MAX_REPLY: usize = 64 * 1024;

/// What a worker tells the connection task. `run` identifies the attempt, so a report from an attempt that
/// was since paused or replaced is recognised and ignored.
#[derive(Debug)]
pub(crate) enum Report {
    Hashed {
        id: TransferId,
        run: u64,
        result: Result<(u64, String), TransferError>,
    },
    /// The data connection is up; bytes flow from `offset`.
    Started {
        id: TransferId,
        run: u64,
        offset: u64,
    },
    /// The attempt ended. `moved`: some bytes were transferred, so a retry is making progress. An upload
    /// succeeds with `None`, a download with the path it was saved at.
    Finished {
        id: TransferId,
        run: u64,
        result: Result<Option<PathBuf>, TransferError>,
        moved: bool,
    },
    /// Time to ask the server again after a broken attempt.
    Retry { id: TransferId, run: u64 },
}

/// Size and lower-case hex SHA-256 of a file. Blocking.
pub(crate) fn hash_file(path: &Path) -> Result<(u64, String), TransferError> {
    let meta = std::fs::metadata(path).map_err(|e| TransferError::read(path, e))?;
    if !meta.is_file() {
        return Err(TransferError::NotAFile(path.display().to_string()));
    }
    let mut file = std::fs::File::open(path).map_err(|e| TransferError::read(path, e))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(|e| TransferError::read(path, e))?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Throttles [`Event::TransferProgress`].
struct Progress {
    id: TransferId,
    total: u64,
    events: mpsc::UnboundedSender<Event>,
    last: Option<Instant>,
}

impl Progress {
    fn report(&mut self, bytes: u64) {
        let due = self.last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY);
        if due || bytes >= self.total {
            self.last = Some(Instant::now());
            let _ = self.events.send(Event::TransferProgress {
                id: self.id.clone(),
                bytes,
                total: self.total,
            });
        }
    }
}

/// Reads one `\n`-terminated line, at most [`MAX_REPLY`] bytes, leaving what follows in the reader.
/// `None` at end of stream.
async fn read_reply<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&buf[..i]);
            reader.consume(i + 1);
            break;
        }
        let n = buf.len();
        line.extend_from_slice(buf);
        reader.consume(n);
        if line.len() > MAX_REPLY {
            return Err(std::io::Error::other("the reply line is too long"));
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// A refusal line from the server, or what it said instead.
fn refusal(line: &str) -> TransferError {
    match ServerMessage::parse(line) {
        Ok(ServerMessage::Error { code, text, .. }) => TransferError::Refused { code, text },
        _ => TransferError::Protocol(line.chars().take(200).collect()),
    }
}

/// What a worker needs besides its own job.
#[derive(Debug, Clone)]
pub(crate) struct Worker {
    pub connector: crate::tls::Connector,
    pub connect_timeout: Duration,
    /// A data connection that moves nothing for this long is given up (and retried).
    pub idle: Duration,
    pub events: mpsc::UnboundedSender<Event>,
    pub reports: mpsc::UnboundedSender<Report>,
    pub run: u64,
}

/// One upload attempt: `FILE_PUT:` and the bytes from `offset` on a new connection.
#[derive(Debug)]
pub(crate) struct Upload {
    pub id: TransferId,
    pub path: PathBuf,
    pub size: u64,
    pub token: String,
    pub offset: u64,
}

/// One download attempt: `FILE_GET:` on a new connection into `<dest>.part`, then verify and rename.
#[derive(Debug)]
pub(crate) struct Download {
    pub id: TransferId,
    pub dest: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub token: String,
}

/// Runs `io`, giving up after `idle` as a broken connection would.
async fn within<T>(
    idle: Duration,
    io: impl Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    tokio::time::timeout(idle, io)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::other(format!("nothing moved for {idle:?}"))))
}

impl Worker {
    pub(crate) async fn upload(self, job: Upload) {
        let mut moved = false;
        let result = self.try_upload(&job, &mut moved).await.map(|()| None);
        let _ = self.reports.send(Report::Finished {
            id: job.id,
            run: self.run,
            result,
            moved,
        });
    }

    async fn try_upload(&self, job: &Upload, moved: &mut bool) -> Result<(), TransferError> {
        let mut file = tokio::fs::File::open(&job.path)
            .await
            .map_err(|e| TransferError::read(&job.path, e))?;
        let now = file
            .metadata()
            .await
            .map_err(|e| TransferError::read(&job.path, e))?
            .len();
        if now != job.size {
            return Err(TransferError::Changed { was: job.size, now });
        }
        if job.offset > job.size {
            return Err(TransferError::Protocol(format!(
                "the server wants bytes from {} of a {}-byte file",
                job.offset, job.size
            )));
        }
        file.seek(std::io::SeekFrom::Start(job.offset))
            .await
            .map_err(|e| TransferError::read(&job.path, e))?;
        let stream = self.connector.connect(self.connect_timeout).await?;
        let (read, mut write) = tokio::io::split(stream);
        let mut reader = tokio::io::BufReader::new(read);
        let header = ClientMessage::FilePut {
            token: job.token.clone(),
            offset: job.offset,
        };
        let broke = |e: std::io::Error| TransferError::Interrupted(e.to_string());
        write
            .write_all(format!("{}\n", header.format()).as_bytes())
            .await
            .map_err(broke)?;
        let _ = self.reports.send(Report::Started {
            id: job.id.clone(),
            run: self.run,
            offset: job.offset,
        });
        let mut progress = Progress {
            id: job.id.clone(),
            total: job.size,
            events: self.events.clone(),
            last: None,
        };
        let mut sent = job.offset;
        let mut buf = vec![0u8; CHUNK];
        while sent < job.size {
            let want = buf.len().min((job.size - sent) as usize);
            let n = file
                .read(&mut buf[..want])
                .await
                .map_err(|e| TransferError::read(&job.path, e))?;
            if n == 0 {
                return Err(TransferError::Changed {
                    was: job.size,
                    now: sent,
                });
            }
            if let Err(e) = within(self.idle, write.write_all(&buf[..n])).await {
                // The server may have refused the token and closed: its line says why, better than EPIPE.
                return Err(match within(self.idle, read_reply(&mut reader)).await {
                    Ok(Some(line)) => refusal(&line),
                    _ => broke(e),
                });
            }
            sent += n as u64;
            *moved = true;
            progress.report(sent);
        }
        write.flush().await.map_err(broke)?;
        // The server verifies the whole file before it answers, which takes a while for a big one.
        match within(self.idle, read_reply(&mut reader)).await {
            Ok(Some(line)) => match ServerMessage::parse(&line) {
                Ok(ServerMessage::FileState {
                    state: FileState::Uploaded,
                    ..
                }) => Ok(()),
                _ => Err(refusal(&line)),
            },
            Ok(None) => Err(TransferError::Interrupted(
                "the server closed before confirming the upload".into(),
            )),
            Err(e) => Err(broke(e)),
        }
    }

    pub(crate) async fn download(self, job: Download) {
        let mut moved = false;
        let result = self.try_download(&job, &mut moved).await.map(Some);
        let _ = self.reports.send(Report::Finished {
            id: job.id,
            run: self.run,
            result,
            moved,
        });
    }

    async fn try_download(
        &self,
        job: &Download,
        moved: &mut bool,
    ) -> Result<PathBuf, TransferError> {
        let part = part_path(&job.dest);
        if let Some(dir) = part.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| TransferError::write(dir, e))?;
        }
        let mut out = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part)
            .await
            .map_err(|e| TransferError::write(&part, e))?;
        let mut have = out
            .metadata()
            .await
            .map_err(|e| TransferError::read(&part, e))?
            .len();
        if have > job.size {
            // Not a prefix of this file: start over.
            out.set_len(0)
                .await
                .map_err(|e| TransferError::write(&part, e))?;
            have = 0;
        }
        if have < job.size {
            self.fetch(job, &part, &mut out, have, moved).await?;
        }
        out.sync_all()
            .await
            .map_err(|e| TransferError::write(&part, e))?;
        drop(out);
        let (check, want) = (part.clone(), job.sha256.clone());
        let digest = tokio::task::spawn_blocking(move || hash_file(&check))
            .await
            .map_err(|e| TransferError::Read {
                path: part.display().to_string(),
                error: e.to_string(),
            })??;
        if digest.1 != want {
            // No telling which bytes are wrong: the retry starts from nothing.
            let _ = tokio::fs::remove_file(&part).await;
            return Err(TransferError::Corrupt);
        }
        let dest = job.dest.clone();
        tokio::task::spawn_blocking(move || {
            let target = unique_path(&dest, false);
            std::fs::rename(&part, &target).map_err(|e| TransferError::write(&target, e))?;
            Ok(target)
        })
        .await
        .map_err(|e| TransferError::Write {
            path: job.dest.display().to_string(),
            error: e.to_string(),
        })?
    }

    async fn fetch(
        &self,
        job: &Download,
        part: &Path,
        out: &mut tokio::fs::File,
        have: u64,
        moved: &mut bool,
    ) -> Result<(), TransferError> {
        let broke = |e: std::io::Error| TransferError::Interrupted(e.to_string());
        let mut stream = self.connector.connect(self.connect_timeout).await?;
        let header = ClientMessage::FileGet {
            token: job.token.clone(),
            offset: have,
        };
        stream
            .write_all(format!("{}\n", header.format()).as_bytes())
            .await
            .map_err(broke)?;
        let mut reader = tokio::io::BufReader::with_capacity(CHUNK, stream);
        let line = within(self.idle, read_reply(&mut reader))
            .await
            .map_err(broke)?
            .ok_or_else(|| TransferError::Interrupted("the server closed at once".into()))?;
        match ServerMessage::parse(&line) {
            Ok(ServerMessage::FileProgress { bytes, total, .. })
                if bytes == have && total == job.size => {}
            _ => return Err(refusal(&line)),
        }
        let _ = self.reports.send(Report::Started {
            id: job.id.clone(),
            run: self.run,
            offset: have,
        });
        let mut progress = Progress {
            id: job.id.clone(),
            total: job.size,
            events: self.events.clone(),
            last: None,
        };
        let mut got = have;
        let mut buf = vec![0u8; CHUNK];
        while got < job.size {
            let want = buf.len().min((job.size - got) as usize);
            let n = within(self.idle, reader.read(&mut buf[..want]))
                .await
                .map_err(broke)?;
            if n == 0 {
                out.flush()
                    .await
                    .map_err(|e| TransferError::write(part, e))?;
                return Err(TransferError::Interrupted(format!(
                    "the server stopped at byte {got} of {}",
                    job.size
                )));
            }
            out.write_all(&buf[..n])
                .await
                .map_err(|e| TransferError::write(part, e))?;
            got += n as u64;
            *moved = true;
            progress.report(got);
        }
        out.flush()
            .await
            .map_err(|e| TransferError::write(part, e))?;
        Ok(())
    }
}
