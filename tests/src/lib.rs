//! Shared pieces for the end-to-end tests: a real server in a child process (so it can be killed for
//! real), and a client that speaks raw protocol lines.
//!
//! # Layout
//! - [`ServerProcess`] — `ququ_server::run` in a child process of the test binary itself.
//! - [`Peer`] — one TCP connection speaking lines, with timeouts.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The environment variable that turns a test binary into a server process (see [`serve_if_child`]).
pub const SERVE_ENV: &str = "QUQU_TEST_SERVE_DIR";

/// How long a test waits for a line it expects.
pub const WAIT: Duration = Duration::from_secs(15);

/// Call at the top of a `#[test]` named in [`ServerProcess::start`]: in the child it runs the server
/// until killed and never returns; in the parent it returns at once.
pub fn serve_if_child() {
    serve_if_child_with(|_| {});
}

/// [`serve_if_child`] with the server's config adjusted first (the message rate limit is already off).
pub fn serve_if_child_with(adjust: impl FnOnce(&mut ququ_server::Config)) {
    let Some(dir) = std::env::var_os(SERVE_ENV) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("listening {}", listener.local_addr().expect("addr"));
        let mut config = ququ_server::Config::new(PathBuf::from(dir));
        // These tests send as fast as they can on purpose (kill mid-flood, soak); the message rate limit
        // is tested on its own in the server's tests.
        config.limits.rate = 0;
        adjust(&mut config);
        let result = ququ_server::run(listener, config, std::future::pending::<()>()).await;
        eprintln!("server ended: {result:?}");
    });
    std::process::exit(0);
}

/// A server running in a child process of this test binary, on its own data dir.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Re-runs this test binary with only `test_name` selected and [`SERVE_ENV`] set; that test calls
    /// [`serve_if_child`] first. Returns once the server is listening.
    pub fn start(test_name: &str, data_dir: &Path) -> ServerProcess {
        let exe = std::env::current_exe().expect("test binary path");
        let mut child = Command::new(exe)
            .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(SERVE_ENV, data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server process");
        let stdout = child.stdout.take().expect("child stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server process ended before listening")
                .expect("read child stdout");
            // libtest prints "test <name> ... " without a newline before the test runs.
            if let Some((_, addr)) = line.split_once("listening ") {
                break addr.trim().parse().expect("address");
            }
        };
        ServerProcess { child, addr }
    }

    /// The server's process id, for reading its `/proc/<pid>/` (memory, descriptors).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One connection speaking protocol lines.
#[derive(Debug)]
pub struct Peer {
    reader: tokio::io::BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Peer {
    pub async fn connect(addr: SocketAddr) -> Peer {
        let (r, w) = TcpStream::connect(addr)
            .await
            .expect("connect")
            .into_split();
        Peer {
            reader: tokio::io::BufReader::new(r),
            writer: w,
        }
    }

    /// Connects, registers if needed, and logs in with the password `password`.
    pub async fn login(addr: SocketAddr, account: &str) -> Peer {
        let mut p = Peer::connect(addr).await;
        p.send(&format!("RESIGER:{account}:password")).await;
        p.until("RESIGER:").await;
        p.send(&format!("LOGIN:{account}:password")).await;
        let reply = p.until("LOGIN:").await;
        assert!(reply.starts_with("LOGIN:true:"), "{reply}");
        p
    }

    pub async fn send(&mut self, line: &str) {
        self.try_send(line).await.expect("send");
    }

    pub async fn try_send(&mut self, line: &str) -> std::io::Result<()> {
        self.writer.write_all(format!("{line}\n").as_bytes()).await
    }

    /// The next line; `None` when the connection ends.
    pub async fn next(&mut self) -> Option<String> {
        let mut line = String::new();
        match tokio::time::timeout(WAIT, self.reader.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
            Ok(_) => None,
            Err(_) => panic!("timed out waiting for a line"),
        }
    }

    pub async fn recv(&mut self) -> String {
        self.next().await.expect("connection closed")
    }

    /// Skips lines until one starts with `prefix`.
    pub async fn until(&mut self, prefix: &str) -> String {
        loop {
            let line = self.recv().await;
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// Every stored message for this user, by paging `SYNC:` from the start.
    pub async fn sync_all(&mut self) -> Vec<String> {
        let mut after = 0u64;
        let mut out = Vec::new();
        loop {
            self.send(&format!("SYNC:{after}:500")).await;
            loop {
                let line = self.recv().await;
                if let Some(end) = line.strip_prefix("SYNC_END:") {
                    let (last, more) = end.split_once(':').expect("SYNC_END fields");
                    after = last.parse().expect("last id");
                    if more == "1" {
                        break;
                    }
                    return out;
                }
                if line.starts_with("MSG:") || line.starts_with("GROUP:") {
                    out.push(line);
                }
            }
        }
    }
}

/// Makes `a` and `b` friends (both logged in).
pub async fn befriend(a: &mut Peer, a_name: &str, b: &mut Peer, b_name: &str) {
    a.send(&format!("ADD_FRIEND:{b_name}")).await;
    a.until("REQUEST_SENT:").await;
    b.until(&format!("FRIEND_REQUEST:{a_name}:")).await;
    b.send(&format!("ACCEPT_FRIEND:{a_name}")).await;
    b.until(&format!("FRIEND:{a_name}:")).await;
    a.until(&format!("FRIEND:{b_name}:")).await;
}
