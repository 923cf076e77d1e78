//! The real server in process (or, for `TestServer::start`, a server program named by
//! `QUQU_TEST_SERVER_CMD`), and a proxy that can cut or refuse connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ququ_client::{Client, Conv, Event, Events, Handle};
use rand::Rng;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::{config, wait_for};

pub struct TestServer {
    pub addr: String,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The server program when `QUQU_TEST_SERVER_CMD` names one (killed when dropped).
    external: Option<tokio::process::Child>,
}

/// A command line that starts a `ququ-server` program (`ARGS...` split on spaces; `--listen` and
/// `--data-dir` are appended). With it, the tests that use the default configuration run against that
/// program instead of the server in process: packaging/windows-smoke.sh sets it to
/// `wine …/ququ-server.exe` to check the Windows server with the Linux client.
pub const SERVER_CMD_ENV: &str = "QUQU_TEST_SERVER_CMD";

impl TestServer {
    pub async fn start() -> TestServer {
        match std::env::var(SERVER_CMD_ENV) {
            Ok(cmd) if !cmd.trim().is_empty() => Self::start_external(&cmd).await,
            _ => Self::start_with(|_| {}).await,
        }
    }

    async fn start_external(cmd: &str) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        // A free port: bound and released, then given to the program (a race no other test here loses).
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .to_string();
        let mut words = cmd.split_whitespace();
        let mut child = tokio::process::Command::new(words.next().unwrap())
            .args(words)
            .arg("--listen")
            .arg(&addr)
            .arg("--data-dir")
            .arg(dir.path())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{SERVER_CMD_ENV}={cmd} did not start: {e}"));
        // Ready when it accepts a connection (Wine takes a few seconds to start a program).
        let deadline = tokio::time::Instant::now() + super::PATIENCE;
        while TcpStream::connect(&addr).await.is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{SERVER_CMD_ENV}={cmd} exited: {status}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{SERVER_CMD_ENV}={cmd} is not listening on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        TestServer {
            addr,
            _dir: dir,
            stop: None,
            task: None,
            external: Some(child),
        }
    }

    /// A server whose configuration `adjust` changes first (smaller limits, say).
    pub async fn start_with(adjust: impl FnOnce(&mut ququ_server::Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mut config = ququ_server::Config::new(dir.path());
        adjust(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = ququ_server::run(listener, config, shutdown).await {
                panic!("server failed: {e}");
            }
        });
        TestServer {
            addr,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
            external: None,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(mut child) = self.external.take() {
            let _ = child.kill().await;
        }
    }
}

/// A user with a running client.
pub struct User {
    pub name: String,
    pub handle: Handle,
    pub events: Events,
    pub dir: tempfile::TempDir,
}

impl User {
    /// Registers `name` on `server` and waits for the login and first sync.
    pub async fn register(server: &str, name: &str) -> User {
        let dir = tempfile::tempdir().unwrap();
        let (handle, mut events) =
            Client::start(config(server, name, dir.path()).register(true)).unwrap();
        wait_for(&mut events, "login", |e| {
            matches!(e, Event::LoggedIn { .. })
        })
        .await;
        wait_for(&mut events, "sync", |e| matches!(e, Event::Synced { .. })).await;
        User {
            name: name.into(),
            handle,
            events,
            dir,
        }
    }

    /// Logs `name` in (already registered) on `server` and waits for the first sync.
    pub async fn login(server: &str, name: &str) -> User {
        let dir = tempfile::tempdir().unwrap();
        let (handle, mut events) = Client::start(config(server, name, dir.path())).unwrap();
        wait_for(&mut events, "sync", |e| matches!(e, Event::Synced { .. })).await;
        User {
            name: name.into(),
            handle,
            events,
            dir,
        }
    }

    pub fn conv(&self) -> Conv {
        Conv::User(self.name.clone())
    }

    pub async fn wait(&mut self, what: &str, pred: impl FnMut(&Event) -> bool) -> Event {
        wait_for(&mut self.events, what, pred).await
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.handle.shutdown();
        super::wait_stopped(&mut { self.events }).await;
        self.dir
    }
}

/// Makes `a` and `b` friends.
pub async fn befriend(a: &mut User, b: &mut User) {
    a.handle.add_friend(&b.name, "hi");
    let from = a.name.clone();
    b.wait(
        "friend request",
        |e| matches!(e, Event::FriendRequest(r) if r.from == from),
    )
    .await;
    b.handle.accept_friend(&a.name);
    let bname = b.name.clone();
    a.wait(
        "friendship",
        |e| matches!(e, Event::FriendChanged(f) if f.account == bname),
    )
    .await;
    let aname = a.name.clone();
    b.wait(
        "friendship",
        |e| matches!(e, Event::FriendChanged(f) if f.account == aname),
    )
    .await;
}

/// A TCP proxy in front of the server. It can cut every connection after a random few hundred
/// milliseconds, or refuse connections altogether.
pub struct Proxy {
    pub addr: String,
    pub refuse: Arc<AtomicBool>,
    pub chaos: Arc<AtomicBool>,
    pub cuts: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: String, cut_ms: std::ops::Range<u64>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let refuse = Arc::new(AtomicBool::new(false));
        let chaos = Arc::new(AtomicBool::new(true));
        let cuts = Arc::new(AtomicUsize::new(0));
        let (r, c, n) = (refuse.clone(), chaos.clone(), cuts.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if r.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let life = Duration::from_millis(rand::rng().random_range(cut_ms.clone()));
                let (c, n) = (c.clone(), n.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let pipe = tokio::io::copy_bidirectional(&mut client, &mut server);
                    tokio::pin!(pipe);
                    tokio::select! {
                        _ = &mut pipe => {}
                        _ = tokio::time::sleep(life) => {
                            if c.load(Ordering::SeqCst) {
                                n.fetch_add(1, Ordering::SeqCst);
                                // Dropping both sockets mid-stream: lines in flight either way are lost.
                                return;
                            }
                            let _ = pipe.await;
                        }
                    }
                });
            }
        });
        Proxy {
            addr,
            refuse,
            chaos,
            cuts,
            task,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What [`DataProxy`] does to the first data connection of a kind once `after` bytes of file have passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trap {
    /// Drops both sockets, as a broken network would.
    Cut,
    /// Swallows everything after, and closes towards the server only when the client goes away: the
    /// client believes it sent everything and waits for an answer that never comes.
    Swallow,
}

/// A TCP proxy that passes chat connections untouched and interferes with the first `FILE_PUT` and the
/// first `FILE_GET` data connection once they have carried a set number of bytes.
pub struct DataProxy {
    pub addr: String,
    /// Data connections interfered with so far.
    pub trapped: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl DataProxy {
    pub async fn start(
        upstream: String,
        put: Option<(u64, Trap)>,
        get: Option<(u64, Trap)>,
    ) -> DataProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let trapped = Arc::new(AtomicUsize::new(0));
        let armed = (
            Arc::new(AtomicBool::new(put.is_some())),
            Arc::new(AtomicBool::new(get.is_some())),
        );
        let t = trapped.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (upstream, t, armed) = (upstream.clone(), t.clone(), armed.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut cr, cw) = client.into_split();
                    let (sr, mut sw) = server.into_split();
                    // The first bytes say what kind of connection this is.
                    let mut first = vec![0u8; 64 * 1024];
                    let Ok(n) = cr.read(&mut first).await else {
                        return;
                    };
                    first.truncate(n);
                    let trap = if first.starts_with(b"FILE_PUT:")
                        && armed.0.swap(false, Ordering::SeqCst)
                    {
                        put.map(|p| (p, true))
                    } else if first.starts_with(b"FILE_GET:")
                        && armed.1.swap(false, Ordering::SeqCst)
                    {
                        get.map(|g| (g, false))
                    } else {
                        None
                    };
                    let Some(((after, how), upward)) = trap else {
                        if sw.write_all(&first).await.is_err() {
                            return;
                        }
                        let mut client = cr.reunite(cw).unwrap();
                        let mut server = sr.reunite(sw).unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        return;
                    };
                    // The header line does not count as file bytes.
                    let header = first.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
                    let (mut from, mut to, mut back_from, mut back_to): (
                        Reader,
                        Writer,
                        Reader,
                        Writer,
                    ) = if upward {
                        (Box::new(cr), Box::new(sw), Box::new(sr), Box::new(cw))
                    } else {
                        (Box::new(sr), Box::new(cw), Box::new(cr), Box::new(sw))
                    };
                    let mut passed = 0u64;
                    if upward {
                        let body = &first[header..];
                        let take = body.len().min(after as usize);
                        if to.write_all(&first[..header + take]).await.is_err() {
                            return;
                        }
                        passed = take as u64;
                    } else if sw_write(&mut back_to, &first).await.is_err() {
                        return;
                    }
                    // Downloads: the server's header line is not file bytes either.
                    let mut skip_line = !upward;
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut other = vec![0u8; 1024];
                    loop {
                        tokio::select! {
                            r = from.read(&mut buf) => {
                                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                                let mut chunk = &buf[..n];
                                if skip_line {
                                    if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
                                        if to.write_all(&chunk[..=i]).await.is_err() { return; }
                                        chunk = &chunk[i + 1..];
                                        skip_line = false;
                                    } else {
                                        if to.write_all(chunk).await.is_err() { return; }
                                        continue;
                                    }
                                }
                                if passed >= after {
                                    match how {
                                        Trap::Cut => { t.fetch_add(1, Ordering::SeqCst); return; }
                                        Trap::Swallow => continue,
                                    }
                                }
                                let take = chunk.len().min((after - passed) as usize);
                                if to.write_all(&chunk[..take]).await.is_err() { return; }
                                passed += take as u64;
                                if passed >= after {
                                    let _ = to.flush().await;
                                    if how == Trap::Swallow {
                                        t.fetch_add(1, Ordering::SeqCst);
                                    }
                                }
                            }
                            r = back_from.read(&mut other) => {
                                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                                if how == Trap::Swallow && passed >= after {
                                    continue;
                                }
                                if back_to.write_all(&other[..n]).await.is_err() { return; }
                            }
                        }
                    }
                });
            }
        });
        DataProxy {
            addr,
            trapped,
            task,
        }
    }
}

type Reader = Box<dyn tokio::io::AsyncRead + Unpin + Send>;
type Writer = Box<dyn tokio::io::AsyncWrite + Unpin + Send>;

async fn sw_write(w: &mut Writer, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    w.write_all(bytes).await
}

impl Drop for DataProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Deterministic bytes that do not compress or repeat (xorshift).
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
