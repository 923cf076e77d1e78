//! A real server on 127.0.0.1:0 with a temporary data dir, and a raw-line client to talk to it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use ququ_server::Config;

pub mod haproxy;
pub mod transfer;

/// How long a test waits for a line it expects before failing.
const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ququ_server::Error>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(tempfile::tempdir().unwrap(), |_| {}).await
    }

    pub async fn start_with(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> TestServer {
        // The server's warnings and errors (RUST_LOG for more), shown with a failing test's output: an
        // internal error's cause is only in the log.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
            )
            .with_test_writer()
            .try_init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::new(dir.path());
        tweak(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = async {
            let _ = stopped.await;
        };
        #[cfg(not(feature = "test-cluster"))]
        let task = tokio::spawn(ququ_server::run(listener, config, stopped));
        #[cfg(feature = "test-cluster")]
        let task = {
            let store = serve_store(dir.path());
            tokio::spawn(ququ_server::run_with_store(
                listener, config, store, stopped,
            ))
        };
        TestServer {
            addr,
            dir,
            stop,
            task,
        }
    }

    /// Shuts down gracefully and hands back the data dir, for a restart.
    pub async fn stop(self) -> tempfile::TempDir {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
        self.dir
    }

    pub async fn connect(&self) -> Peer {
        Peer::connect(self.addr).await
    }

    /// A new account, logged in.
    pub async fn user(&self, account: &str) -> Peer {
        let mut p = self.connect().await;
        p.send(&format!("RESIGER:{account}:password")).await;
        p.expect(&format!("RESIGER:true:{account}")).await;
        p.login(account).await;
        p
    }

    /// Two accounts that are friends, both logged in, with the friendship notices consumed.
    pub async fn friends(&self, a: &str, b: &str) -> (Peer, Peer) {
        let mut pa = self.user(a).await;
        let mut pb = self.user(b).await;
        pa.send(&format!("ADD_FRIEND:{b}:hi")).await;
        pa.expect(&format!("REQUEST_SENT:{b}")).await;
        pb.until(&format!("FRIEND_REQUEST:{a}:")).await;
        pb.send(&format!("ACCEPT_FRIEND:{a}")).await;
        pb.until(&format!("FRIEND:{a}:")).await;
        pa.until(&format!("FRIEND:{b}:")).await;
        (pa, pb)
    }
}

/// With `--features test-cluster`: the connection string of the PostgreSQL database of the data
/// directory `dir`, made in the test process's private cluster the first time and named in
/// `dir/pg-database`, so a server restarted on the same directory (and an operator's command on it)
/// finds the same data, as it would in its SQLite file.
#[cfg(feature = "test-cluster")]
pub fn pg_url(dir: &std::path::Path) -> String {
    use ququ_server::storage::postgres::testdb;
    let named = dir.join("pg-database");
    // On a thread of its own: the blocking client runs a runtime of its own, which cannot start on a
    // thread driving the test's.
    std::thread::spawn(move || {
        let cluster = testdb::cluster();
        let db = match std::fs::read_to_string(&named) {
            Ok(db) => db,
            Err(_) => {
                let db = cluster.create_database();
                std::fs::write(&named, &db).unwrap();
                db
            }
        };
        cluster.url(&db)
    })
    .join()
    .unwrap()
}

/// A second handle on the database of the data directory `dir`, as an operator's tool opens it:
/// SQLite's file there, or with `--features test-cluster` its PostgreSQL database.
pub fn open_store(dir: &std::path::Path) -> std::sync::Arc<dyn ququ_server::storage::Store> {
    #[cfg(feature = "test-cluster")]
    {
        let url = pg_url(dir);
        let store = std::thread::spawn(move || {
            ququ_server::storage::postgres::PgStore::open(&url, 8).unwrap()
        })
        .join()
        .unwrap();
        std::sync::Arc::new(store)
    }
    #[cfg(not(feature = "test-cluster"))]
    std::sync::Arc::new(
        ququ_server::SqliteStore::open(&dir.join("ququ.db"), ququ_server::Durability::Normal)
            .unwrap(),
    )
}

/// With `--features test-cluster`: the store a test server of `dir` serves from, registered as a node
/// named after the directory, so several test servers can share a database (tests/cluster.rs) (a server
/// stopped with [`TestServer::stop`] leaves, so a restart takes the name again).
#[cfg(feature = "test-cluster")]
pub fn serve_store(dir: &std::path::Path) -> std::sync::Arc<dyn ququ_server::storage::Store> {
    let url = pg_url(dir);
    let name = format!(
        "test-{}",
        dir.file_name().unwrap_or_default().to_string_lossy()
    );
    let store = std::thread::spawn(move || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        ququ_server::storage::postgres::PgStore::open(&url, 8)
            .unwrap()
            .join(&name, now)
            .unwrap()
    })
    .join()
    .unwrap();
    std::sync::Arc::new(store)
}

/// `ququ-server ARGS --data-dir DIR`, an operator's command on the server of `dir` (with
/// `--features test-cluster`, on its PostgreSQL database: `--database`).
pub fn admin_command(dir: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ququ-server"));
    command.args(args).arg("--data-dir").arg(dir);
    #[cfg(feature = "test-cluster")]
    command.arg("--database").arg(pg_url(dir));
    command
}

pub struct Peer {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    pub token: Option<String>,
}

impl Peer {
    pub async fn connect(addr: SocketAddr) -> Peer {
        let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
        Peer {
            reader: BufReader::new(r),
            writer: w,
            token: None,
        }
    }

    /// A client with a tiny receive buffer, so the server notices quickly when it stops reading.
    pub async fn connect_small(addr: SocketAddr) -> Peer {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let (r, w) = socket.connect(addr).await.unwrap().into_split();
        Peer {
            reader: BufReader::new(r),
            writer: w,
            token: None,
        }
    }

    /// A client whose socket is bound to `local` first: any of 127/8 on Linux, so one test can come
    /// from many addresses.
    pub async fn connect_from(addr: SocketAddr, local: std::net::IpAddr) -> Peer {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(local, 0)).unwrap();
        let (r, w) = socket.connect(addr).await.unwrap().into_split();
        Peer {
            reader: BufReader::new(r),
            writer: w,
            token: None,
        }
    }

    pub async fn login(&mut self, account: &str) -> String {
        self.send(&format!("LOGIN:{account}:password")).await;
        let reply = self.until("LOGIN:").await;
        assert!(reply.starts_with("LOGIN:true:"), "login failed: {reply}");
        self.token = reply.split(':').nth(5).map(str::to_owned);
        reply
    }

    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\n").as_bytes()).await;
    }

    /// Sends a line to a server that may have closed the connection already; false if it could not.
    pub async fn try_send(&mut self, line: &str) -> bool {
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .await
            .is_ok()
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// The next line, or `None` at end of stream.
    pub async fn next(&mut self) -> Option<String> {
        let mut line = String::new();
        let n = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
            .await
            .expect("timed out waiting for a line")
            .ok()?;
        if n == 0 {
            return None;
        }
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    /// The next line if one comes within `d`; `None` at end of stream or if none came.
    pub async fn next_within(&mut self, d: Duration) -> Option<String> {
        let mut line = String::new();
        match tokio::time::timeout(d, self.reader.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
            _ => None,
        }
    }

    /// The next line, but a group change as its history keeps it (issue 25: `GROUP_EVENT:`, or the `GROUP:`
    /// saying it in words, whose client id starts `event-`): every invite, join, kick, … pushes one to the
    /// members, and tests of other things would otherwise have to step over them. `tests/group_admin.rs`
    /// reads them with [`Peer::next_event`] and [`Peer::next`].
    pub async fn recv(&mut self) -> String {
        loop {
            let line = self.next().await.expect("connection closed");
            if !is_group_event(&line) {
                return line;
            }
        }
    }

    /// The next group change line (see [`Peer::recv`]), skipping anything else.
    pub async fn next_event(&mut self) -> String {
        loop {
            let line = self.next().await.expect("connection closed");
            if is_group_event(&line) {
                return line;
            }
        }
    }

    /// The next line must be exactly `line`.
    pub async fn expect(&mut self, line: &str) {
        assert_eq!(self.recv().await, line);
    }

    /// Skips lines until one starts with `prefix`, and returns it.
    pub async fn until(&mut self, prefix: &str) -> String {
        loop {
            let line = self.recv().await;
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// Creates a group named `name` and returns its id (from the `GROUP_INFO:` answer).
    pub async fn create_group(&mut self, name: &str) -> String {
        self.send(&format!("GROUP_CREATE:{name}")).await;
        let info = self.until("GROUP_INFO:").await;
        info.split(':').nth(1).unwrap().to_owned()
    }

    /// Lets anyone join group `gid` by its number (a new group takes members by invitation only).
    pub async fn open_group(&mut self, gid: &str) {
        self.send(&format!("GROUP_POLICY:{gid}:open")).await;
        self.until(&format!("GROUP_POLICY:{gid}:open")).await;
    }

    /// Lines up to and including the first that starts with `end`.
    pub async fn collect_until(&mut self, end: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let line = self.recv().await;
            let done = line.starts_with(end);
            out.push(line);
            if done {
                return out;
            }
        }
    }

    /// Like [`Peer::collect_until`], group changes included.
    pub async fn collect_all_until(&mut self, end: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let line = self.next().await.expect("connection closed");
            let done = line.starts_with(end);
            out.push(line);
            if done {
                return out;
            }
        }
    }

    /// Lines that arrive within `d` (for asserting that something did NOT arrive), group changes left out
    /// as [`Peer::recv`] leaves them.
    pub async fn drain(&mut self, d: Duration) -> Vec<String> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + d;
        loop {
            let mut line = String::new();
            match tokio::time::timeout_at(deadline, self.reader.read_line(&mut line)).await {
                Ok(Ok(n)) if n > 0 => {
                    let line = line.trim_end();
                    if !is_group_event(line) {
                        out.push(line.to_owned());
                    }
                }
                _ => return out,
            }
        }
    }

    /// Reads until the server closes the connection; returns what came before.
    pub async fn until_closed(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(line) = self.next().await {
            out.push(line);
        }
        out
    }
}

/// A group change line: `GROUP_EVENT:…`, or `GROUP:<id>:<group>:<by>:<time>:event-…:<text>`.
pub fn is_group_event(line: &str) -> bool {
    line.starts_with("GROUP_EVENT:")
        || (line.starts_with("GROUP:")
            && line
                .split(':')
                .nth(5)
                .is_some_and(|client_id| client_id.starts_with("event-")))
}

/// Runs the operator's command `ququ-server <args> --data-dir DIR` as a process of its own (beside a live
/// server, as an operator would), feeding `stdin`; returns stdout, failing on a non-zero exit.
pub fn admin(dir: &std::path::Path, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = admin_command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The address a starting `ququ-server` process announces on its first line of stdout. The rest of its
/// stdout is read on a thread of its own, so the server never blocks on a full pipe.
pub fn listening_addr(stdout: std::process::ChildStdout) -> SocketAddr {
    use std::io::BufRead;
    let mut out = std::io::BufReader::new(stdout);
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("ququ-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .parse()
        .unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    addr
}
