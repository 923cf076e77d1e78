//! Disk space (issue 20, item 10): refuse writes early, before the disk is full, and keep a reserve to
//! give up when it is full anyway.
//!
//! Below `disk_headroom` free bytes on the data directory's disk, every request that writes is refused
//! with `storage_full` and nothing else changes: logins, `SYNC:`, history and downloads go on. The free
//! space is read (`statvfs`, one system call) at most once a second, so the check costs a request a clock
//! read and two atomic loads; a write that fails with a full disk anyway (another program filled it)
//! closes the gate at once. It opens by itself at the first check that finds the headroom again. The
//! headroom also leaves room for SQLite's WAL checkpoint, which otherwise took back the first space an
//! operator freed.
//!
//! The reserve is a file of zeros (`reserve` in the data directory, `min(headroom / 2, 4 MiB)`). When the
//! disk is full (less free than the reserve would give back) it is deleted, so SQLite has room for what
//! even reading needs (its shared-memory file, a login's token, a checkpoint), and the server starts on
//! a full disk. It is written again once the disk has the headroom and the reserve's size free.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ququ_protocol::ErrorCode;

use super::ServiceError;

/// The reserve file's name in the data directory.
pub const RESERVE_FILE: &str = "reserve";

/// The largest reserve.
const MAX_RESERVE: u64 = 4 << 20;

/// How often the free space is read at most.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The free-space gate of one data directory.
///
/// Every message passes [`Space::check`], so between reads of the free space it is two atomic loads and
/// no lock (the fan-out benchmark sends millions a second through it).
#[derive(Debug)]
pub struct Space {
    dir: PathBuf,
    headroom: u64,
    /// Times below are milliseconds since this.
    base: Instant,
    /// When the free space is next read.
    next_check: AtomicU64,
    /// Writes are refused.
    low: AtomicBool,
    /// Held while the free space is read, so one caller reads it and the others go on.
    reading: Mutex<()>,
}

/// Bytes an unprivileged process may still write on the disk that holds `dir`.
#[cfg(unix)]
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let st = rustix::fs::statvfs(dir)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Not read on other systems (rustix's `statvfs` is Unix-only; the Windows build caught it): the headroom
/// check is off there, and a write that fails for want of space is still answered `storage_full`.
#[cfg(not(unix))]
pub fn free_bytes(_dir: &Path) -> std::io::Result<u64> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The size of the reserve for `headroom`.
pub fn reserve_size(headroom: u64) -> u64 {
    (headroom / 2).min(MAX_RESERVE)
}

/// Deletes the reserve file in `dir`, if there is one; true if there was.
pub fn release_reserve(dir: &Path) -> bool {
    let released = std::fs::remove_file(dir.join(RESERVE_FILE)).is_ok();
    if released {
        tracing::warn!(
            "the disk is full: gave up the reserved space so the server can go on reading"
        );
    }
    released
}

impl Space {
    pub fn new(dir: PathBuf, headroom: u64) -> Self {
        Space {
            dir,
            headroom,
            base: Instant::now(),
            next_check: AtomicU64::new(0),
            low: AtomicBool::new(false),
            reading: Mutex::new(()),
        }
    }

    fn now(&self) -> u64 {
        self.base.elapsed().as_millis() as u64
    }

    /// The refusal every write gets while the disk is low.
    pub fn refusal() -> ServiceError {
        ServiceError::refused(
            ErrorCode::StorageFull,
            "the server's storage is full; nothing was stored, try again later",
        )
    }

    /// Whether a write may go ahead: `storage_full` while free space is under the headroom.
    pub fn check(&self) -> Result<(), ServiceError> {
        if self.headroom == 0 {
            return Ok(());
        }
        let now = self.now();
        if now >= self.next_check.load(Ordering::Relaxed)
            && let Ok(_reading) = self.reading.try_lock()
            && now >= self.next_check.load(Ordering::Relaxed)
        {
            self.next_check
                .store(now + CHECK_EVERY.as_millis() as u64, Ordering::Relaxed);
            // An unreadable free space is not a reason to refuse: the write itself will tell.
            let low = free_bytes(&self.dir).is_ok_and(|free| free < self.headroom);
            if self.low.swap(low, Ordering::Relaxed) != low {
                if low {
                    tracing::warn!(
                        headroom = self.headroom,
                        "the disk is nearly full: refusing writes until space is freed"
                    );
                } else {
                    tracing::info!("disk space is back: taking writes again");
                }
            }
        }
        if self.low.load(Ordering::Relaxed) {
            Err(Self::refusal())
        } else {
            Ok(())
        }
    }

    /// A write failed because the disk is full: refuse writes until a check finds the headroom again,
    /// and give up the reserve so reading goes on.
    pub fn full(&self) {
        self.next_check.store(
            self.now() + CHECK_EVERY.as_millis() as u64,
            Ordering::Relaxed,
        );
        if !self.low.swap(true, Ordering::Relaxed) {
            tracing::warn!("a write failed on a full disk: refusing writes until space is freed");
        }
        release_reserve(&self.dir);
    }

    /// Whether the disk is full right now (less free than the reserve would give back): what a plain
    /// I/O error from SQLite most likely means then.
    pub fn is_full_now(&self) -> bool {
        self.headroom > 0
            && free_bytes(&self.dir).is_ok_and(|free| free < reserve_size(self.headroom).max(1))
    }

    /// Upkeep, every second on the blocking pool: gives up the reserve when the disk is full, and writes
    /// it (again) once there is room for it on top of the headroom.
    pub fn tend(&self) {
        let size = reserve_size(self.headroom);
        if size == 0 {
            return;
        }
        let Ok(free) = free_bytes(&self.dir) else {
            return;
        };
        let path = self.dir.join(RESERVE_FILE);
        let have = std::fs::metadata(&path).is_ok_and(|m| m.len() == size);
        if have && free < size {
            release_reserve(&self.dir);
        } else if !have
            && free >= self.headroom.saturating_add(size)
            && let Err(e) = write_reserve(&path, size)
        {
            tracing::warn!(error = %e, "could not write the disk space reserve");
            let _ = std::fs::remove_file(path.with_extension("tmp"));
        }
    }
}

/// Real zeros, not a sparse file: the point is blocks the file system has handed out.
fn write_reserve(path: &Path, size: u64) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    let chunk = vec![0u8; 64 << 10];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    // No fsync: the file system counts the blocks as used as soon as they are written, which is all the
    // reserve is for.
    drop(file);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_headroom_means_no_check_and_no_reserve() {
        let dir = tempfile::tempdir().unwrap();
        let space = Space::new(dir.path().to_owned(), 0);
        assert!(space.check().is_ok());
        space.tend();
        assert!(!dir.path().join(RESERVE_FILE).exists());
    }

    #[test]
    fn a_headroom_bigger_than_the_disk_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let space = Space::new(dir.path().to_owned(), u64::MAX);
        let err = space.check().unwrap_err();
        assert!(matches!(
            err,
            ServiceError::Refused {
                code: ErrorCode::StorageFull,
                ..
            }
        ));
    }

    #[test]
    fn the_reserve_is_written_when_there_is_room() {
        let dir = tempfile::tempdir().unwrap();
        let space = Space::new(dir.path().to_owned(), 1 << 20);
        space.tend();
        let len = std::fs::metadata(dir.path().join(RESERVE_FILE))
            .unwrap()
            .len();
        assert_eq!(len, 512 << 10);
        space.full();
        assert!(!dir.path().join(RESERVE_FILE).exists());
        assert!(space.check().is_err(), "refused until the next check");
    }
}
