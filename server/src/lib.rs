//! The Ququ server: accounts, presence, friends, private and group chat with durable delivery.
//!
//! It speaks the line protocol of [`ququ_protocol`] over TCP and keeps everything in SQLite under its data
//! directory. [`run`] is the whole server; the `ququ-server` binary, the tests and the desktop app's
//! embedded server all call it.
//!
//! # Layout
//! Each layer has one job, and a line travels through them in order:
//! socket → `session` (framing, the per-connection loop) → [`service`] (what a request means, who may do
//! it, who hears about it) → [`storage::Store`] (the traits) → [`storage::sqlite`] (SQLite), and back out
//! through the service's hub to every recipient's session.
//! - [`config`] — [`Config`] and the TOML config file.
//! - [`admin`] — the operator's commands (users, online, add user, reset password, disable, backup).
//! - `bus` — cluster mode (feature `cluster`): nodes tell each other of new messages through NATS.
//! - `session` — one connection's `select!` loop.
//! - [`tls`] — loading the certificate and key, and `gen-cert`'s self-signed pair.
//! - [`proxy`] — the PROXY protocol v2 header a load balancer sends first (`proxy_protocol = true`).
//! - [`service`] — [`service::Services`] and the hub of online sessions.
//! - [`storage`] — the [`storage::Store`] trait, made of one trait per area in a file named as the
//!   service's (`accounts.rs`, `avatars.rs`, `friends.rs`, `groups.rs`, `files.rs`, `messages.rs`), and its
//!   SQLite implementation, [`storage::sqlite`], split the same way; `storage/conformance.rs` holds the
//!   tests every implementation runs.

pub mod admin;
#[cfg(feature = "cluster")]
pub mod bus;
pub mod config;
pub mod proxy;
pub mod service;
mod session;
pub mod storage;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use ququ_protocol::{ErrorCode, ServerMessage};

pub use config::{Config, FindPresence};
pub use storage::sqlite::{Durability, SqliteStore};

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] storage::StoreError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(
        "the data directory {path} is in use by a running ququ-server{pid}; stop it first (one server \
         per data directory, and `restore` only while none runs)"
    )]
    InUse { path: String, pid: String },
    #[error(
        "--database needs a ququ-server built with cluster mode (cargo build --release -p ququ-server \
         --features cluster); this one keeps its data in SQLite in the data directory only"
    )]
    NoCluster,
}

/// The name of [`DataDirLock`]'s file in the data directory.
pub const LOCK_FILE: &str = "ququ-server.lock";

/// The data directory's lock, held by a serving server for its whole life and by `restore`, so that
/// neither a second server nor a restore can work on a database a server has open. An OS file lock
/// (`flock`), so it goes with the process however that ends: a killed server leaves no stale lock.
#[derive(Debug)]
pub struct DataDirLock {
    _file: std::fs::File,
}

/// Takes `dir`'s lock (creating the directory if needed), or says which process holds it.
pub fn lock_data_dir(dir: &std::path::Path) -> Result<DataDirLock, Error> {
    use std::io::{Read, Seek, Write};
    std::fs::create_dir_all(dir).map_err(|source| Error::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            // The holder wrote its pid there; it is only for the message.
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            return Err(Error::InUse {
                path: dir.display().to_string(),
                pid: if pid.is_empty() {
                    String::new()
                } else {
                    format!(" (pid {pid})")
                },
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(DataDirLock { _file: file })
}

/// Opens the database under `config.data_dir`, creating the directory if needed.
pub fn open_store(config: &Config) -> Result<SqliteStore, Error> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store = match SqliteStore::open(&config.db_path(), config.durability) {
        Ok(store) => store,
        // On a full disk SQLite cannot even make its shared-memory file to read: give up the reserve
        // kept for that (issue 20, item 10) and try again. Writes are refused until space is back.
        Err(e) if service::space::release_reserve(&config.data_dir) => {
            tracing::warn!(error = %e, "could not open the database; trying again with the reserve freed");
            SqliteStore::open(&config.db_path(), config.durability)?
        }
        Err(e) => return Err(e.into()),
    };
    Ok(store)
}

/// Runs the server on `listener` until `shutdown` completes (holding the data directory's
/// [`DataDirLock`] throughout), then stops accepting, tells every client
/// `BYE:shutdown`, waits for sessions to finish their writes (up to `config.shutdown_grace`) and closes the
/// database.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let (_lock, store) = open_data_dir(&config)?;
    run_with_store(listener, config, Arc::new(store), shutdown).await
}

/// What [`run`] takes before it serves: the data directory's lock, then its database. A caller that
/// wants either failure before it starts serving (the desktop app says it in its login window) calls
/// this, keeps the lock for the server's life, and serves with [`run_with_store`].
pub fn open_data_dir(config: &Config) -> Result<(DataDirLock, SqliteStore), Error> {
    let lock = lock_data_dir(&config.data_dir)?;
    let store = open_store(config)?;
    Ok((lock, store))
}

/// [`run`] with a store the caller opened (another backend, or one shared with an admin tool).
pub async fn run_with_store(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn storage::Store>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let tls = tls::load_configured(&config)?;
    run_prepared(listener, config, store, tls, shutdown).await
}

/// [`run_with_store`] with the certificate already loaded (the binary loads it first to print its
/// fingerprint, and a bad one should stop the start before anything is announced).
pub async fn run_prepared(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn storage::Store>,
    tls: Option<tls::Tls>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    // The connection table describes live connections; after a restart there are none.
    {
        let store = store.clone();
        let cleared = tokio::task::spawn_blocking(move || store.clear_connections())
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        match cleared {
            Ok(()) => {}
            // On a full disk the server starts anyway, to serve reads (issue 20, item 10); the stale
            // rows only describe connections, and are cleared at the next start.
            Err(e) if e.is_full() || e.is_io() => {
                tracing::warn!(error = %e, "could not clear the connection table: the disk is full");
            }
            Err(e) => return Err(e.into()),
        }
    }
    let grace = config.shutdown_grace;
    let maintained = store.clone();
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let per_ip = Arc::new(PerIp::new(config.max_connections_per_ip));
    let proxied = config.proxy_protocol;
    let shared = store.shared();
    let (bus, relay_poll) = (config.bus.clone(), config.relay_poll);
    let mut services = service::Services::new(store, Arc::new(config));
    if shared {
        // Cluster mode: this node's sessions get every node's messages, in id order.
        services = tokio::task::spawn_blocking(move || services.relay_all())
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))??;
    }
    let services = Arc::new(services);
    let space = services.space();
    let stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    let next_id = AtomicU64::new(1);

    // Cluster mode: what other nodes stored or passed is delivered at once when the bus says so, and
    // within a second by this poll whatever the bus does (a lost notice, NATS down): two indexed reads
    // a second. What this node's services push for the other nodes' sessions is stored as it comes.
    if shared {
        let (services, stop) = (services.clone(), stop.clone());
        #[cfg(feature = "cluster")]
        if let Some(url) = bus {
            tracker.spawn(bus::run(url, services.clone(), stop.clone()));
        }
        {
            let (services, stop) = (services.clone(), stop.clone());
            tracker.spawn(async move { services.run_passing(stop).await });
        }
        tracker.spawn(async move {
            let mut every = tokio::time::interval(relay_poll);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = every.tick() => {
                        services.deliver_stored(u64::MAX).await;
                        services.take_passed().await;
                    }
                }
            }
        });
    }
    #[cfg(not(feature = "cluster"))]
    let _ = bus;

    // Relayed files, session and transfer tokens, requests to end sessions, the login throttle's
    // counters and lines passed between nodes, past their lifetime, are removed at start and then every
    // minute, by one node of those sharing the database (the leader; a SQLite server always is).
    {
        let services = services.clone();
        let stop = stop.clone();
        let period = services.config().file_sweep_every;
        tracker.spawn(async move {
            let mut every = tokio::time::interval(period);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = every.tick() => {
                        match services.lead().await {
                            Ok(true) => {}
                            Ok(false) => continue,
                            Err(e) => {
                                tracing::warn!(error = %e, "could not ask whether this node leads the sweeps");
                                continue;
                            }
                        }
                        if let Err(e) = services.sweep_expired().await {
                            tracing::warn!(error = %e, "could not sweep expired files and tokens");
                        }
                        if let Err(e) = services.sweep_session_ends().await {
                            tracing::warn!(error = %e, "could not sweep requests to end sessions");
                        }
                        if let Err(e) = services.sweep_throttle().await {
                            tracing::warn!(error = %e, "could not sweep the login throttle's counters");
                        }
                        if let Err(e) = services.sweep_passed().await {
                            tracing::warn!(error = %e, "could not sweep lines passed between nodes");
                        }
                    }
                }
            }
        });
    }

    // The store's upkeep (SQLite: WAL checkpoints) every second on the blocking pool, never inside a
    // request. The same tick says this node is alive and reaps silent ones (cluster mode), and ends the
    // sessions an operator's command asked to end (a disabled account, a reset password), so they end
    // within about a second.
    {
        let stop = stop.clone();
        let services = services.clone();
        tracker.spawn(async move {
            let mut every = tokio::time::interval(MAINTAIN_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = every.tick() => {
                        let store = maintained.clone();
                        let space = space.clone();
                        // The free-space reserve too: given up on a full disk, written again once
                        // there is room.
                        let upkeep = move || {
                            space.tend();
                            let done = store.maintain();
                            // A checkpoint that finds the disk full closes the write gate too.
                            if done.as_ref().is_err_and(|e| e.is_full()) {
                                space.full();
                            }
                            done
                        };
                        match tokio::task::spawn_blocking(upkeep).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => tracing::warn!(error = %e, "store upkeep failed"),
                            Err(e) => tracing::warn!(error = %e, "store upkeep failed"),
                        }
                        if let Err(e) = services.tend_node().await {
                            tracing::warn!(error = %e, "could not send this node's heartbeat");
                        }
                        if let Err(e) = services.end_requested_sessions().await {
                            tracing::warn!(error = %e, "could not look for sessions to end");
                        }
                    }
                }
            }
        });
    }

    let accept = async {
        loop {
            let (socket, peer) = match listener.accept().await {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin or die.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = socket.set_nodelay(true);
            let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                tracker.spawn(refuse_busy(
                    socket,
                    acceptor,
                    "the server is at its connection limit; try again later",
                ));
                continue;
            };
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            let services = services.clone();
            let stop = stop.clone();
            let per_ip = per_ip.clone();
            tracker.spawn(async move {
                // The PROXY header and the handshake are read here, on the connection's own task, so a
                // slow or hostile client cannot hold up the accept loop.
                let mut socket = socket;
                let peer = if proxied {
                    match tokio::time::timeout(PROXY_WAIT, proxy::read_header(&mut socket)).await {
                        Ok(Ok(client)) => client.unwrap_or(peer),
                        Ok(Err(e)) => {
                            tracing::info!(%peer, error = %e, "connection closed");
                            return;
                        }
                        Err(_) => {
                            tracing::info!(%peer, "connection closed: no PROXY header in time");
                            return;
                        }
                    }
                } else {
                    peer
                };
                let Some(ip_slot) = per_ip.acquire(peer.ip()) else {
                    refuse_busy(socket, acceptor, "too many connections from your address").await;
                    return;
                };
                if let Some((read, write)) = open(socket, acceptor, peer).await {
                    session::serve(read, write, peer, id, services, stop).await;
                }
                drop(ip_slot);
                drop(permit);
            });
        }
    };
    tokio::select! {
        _ = accept => {}
        _ = shutdown => tracing::info!("shutting down"),
    }
    drop(listener);
    stop.cancel();
    tracker.close();
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!("some sessions did not finish in time");
    }
    // Cluster mode: the node's registration and connection rows go now, not after ten silent seconds.
    if let Err(e) = services.leave().await {
        tracing::warn!(error = %e, "could not remove this node's registration");
    }
    // Dropping the last reference closes the database (checkpointing the WAL): the message writer holds
    // one until it has written what is queued.
    let writer = services.take_writer_task();
    drop(services);
    if let Some(writer) = writer
        && tokio::time::timeout(grace, writer).await.is_err()
    {
        tracing::warn!("the message writer did not finish in time");
    }
    Ok(())
}

/// Counts connections per address, so one address cannot take every slot.
#[derive(Debug)]
struct PerIp {
    max: usize,
    counts: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

/// One connection's place in [`PerIp`]; freed on drop.
#[derive(Debug)]
struct IpSlot {
    owner: Arc<PerIp>,
    ip: std::net::IpAddr,
}

impl PerIp {
    fn new(max: usize) -> Self {
        PerIp {
            max,
            counts: Default::default(),
        }
    }

    fn acquire(self: Arc<Self>, ip: std::net::IpAddr) -> Option<IpSlot> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(ip).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        drop(counts);
        Some(IpSlot { owner: self, ip })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut counts = self.owner.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// How often the store's upkeep ([`storage::Upkeep::maintain`]) runs.
const MAINTAIN_EVERY: Duration = Duration::from_secs(1);

/// How long a load balancer may take to send its PROXY header: it writes it at once, with the
/// connection, so this only ends connections that never send one.
const PROXY_WAIT: Duration = Duration::from_secs(5);

/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The two halves of an accepted connection: plain TCP, or TLS once the handshake is done. `None` if the
/// handshake failed (a plain-TCP client on a TLS port, a scanner): there is nobody to answer.
async fn open(
    socket: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    peer: std::net::SocketAddr,
) -> Option<(session::Reader, session::Writer)> {
    let Some(acceptor) = acceptor else {
        let (read, write) = socket.into_split();
        return Some((Box::new(read), Box::new(write)));
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await {
        Ok(Ok(stream)) => {
            let (read, write) = tokio::io::split(stream);
            Some((Box::new(read), Box::new(write)))
        }
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::info!(%peer, "TLS handshake timed out");
            None
        }
    }
}

async fn refuse_busy(
    socket: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    why: &'static str,
) {
    use tokio::io::AsyncWriteExt;
    let bye = ServerMessage::Bye {
        code: ErrorCode::Busy,
        text: why.into(),
    };
    let line = format!("{}\n", bye.format());
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let peer = socket.peer_addr().ok()?;
        let (_, mut write) = open(socket, acceptor, peer).await?;
        write.write_all(line.as_bytes()).await.ok()?;
        write.flush().await.ok()
    })
    .await;
}
