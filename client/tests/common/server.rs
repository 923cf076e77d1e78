//! The real server in process, and a proxy that can cut or refuse connections.

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
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let config = ququ_server::Config::new(dir.path());
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
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
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
