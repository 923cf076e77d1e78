//! The server under test: Ququ in this process, Ququ as a child process (`--server-bin`, optionally pinned
//! with `taskset`), Ququ already running (`--server`), or Redis as a child process. Each can be stopped and
//! started again on the same address and data, and a child's resident memory read from `/proc`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::wire::{Reader, Resp};
use crate::{BoxResult, System};

/// Redis's password: every Redis connection authenticates, as every Ququ connection logs in.
pub const REDIS_PASSWORD: &str = "bench-password";

/// How to start the server under test.
#[derive(Debug, Clone)]
pub struct Launch {
    pub system: System,
    /// A Ququ server already running (loopback only).
    pub server: Option<SocketAddr>,
    pub server_bin: Option<PathBuf>,
    pub redis_bin: PathBuf,
    /// `taskset -c` list for a child server, e.g. `0`.
    pub cpus: Option<String>,
    pub durability: String,
    pub outbox: usize,
    /// Ququ on this PostgreSQL database instead of SQLite in the data dir.
    pub database: Option<String>,
    /// Cluster mode: this node's `--node-name` (several nodes on one database need distinct ones).
    pub node_name: Option<String>,
    /// Cluster mode: the nodes' NATS bus (`--bus`).
    pub bus: Option<String>,
}

#[derive(Debug)]
enum Kind {
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        task: Option<tokio::task::JoinHandle<()>>,
    },
    Child(Option<Child>),
    External,
}

/// A running server under test.
#[derive(Debug)]
pub struct Target {
    pub system: System,
    pub addr: SocketAddr,
    /// Ququ's data dir (deleted at the end), or Redis's working dir.
    pub dir: PathBuf,
    launch: Launch,
    kind: Kind,
}

fn free_port() -> std::io::Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    l.local_addr()
}

/// Ququ's config for every benchmark: no message rate limit, room for the connections, no heartbeats
/// during a run.
pub fn ququ_config(dir: &Path, launch: &Launch) -> ququ_server::Config {
    let mut config = ququ_server::Config::new(dir);
    config.limits.rate = 0;
    config.limits.file = u64::MAX;
    config.file_quota = u64::MAX;
    config.max_connections = 50_000;
    config.max_connections_per_ip = 50_000;
    config.heartbeat = Duration::from_secs(600);
    config.idle_timeout = Duration::from_secs(1200);
    config.outbox_capacity = launch.outbox;
    if launch.durability == "full" {
        config.durability = ququ_server::Durability::Full;
    }
    config
}

/// The same as a config file, for a child `ququ-server`.
fn ququ_toml(launch: &Launch) -> String {
    format!(
        "max_connections = 50000\nmax_connections_per_ip = 50000\nheartbeat_secs = 600\n\
         idle_timeout_secs = 1200\noutbox_capacity = {}\ndurability = \"{}\"\n\
         file_quota_mb = 1000000000\n[limits]\nrate = 0\nfile = 1099511627776\n",
        launch.outbox, launch.durability
    )
}

impl Target {
    /// Where Ququ keeps its data in this run, for the JSON lines: `sqlite` or `postgres`.
    pub fn store(&self) -> &'static str {
        match (self.system, &self.launch.database) {
            (System::Redis, _) => "none",
            (System::Ququ, Some(_)) => "postgres",
            (System::Ququ, None) => "sqlite",
        }
    }

    /// Starts the server. For Ququ, `dir` is its data dir, seeded already if the scenario needs it.
    pub async fn start(launch: &Launch, dir: &Path) -> BoxResult<Target> {
        let mut t = Target {
            system: launch.system,
            addr: match (launch.system, launch.server) {
                (System::Ququ, Some(addr)) => addr,
                _ => free_port()?,
            },
            dir: dir.to_owned(),
            launch: launch.clone(),
            kind: Kind::External,
        };
        t.boot().await?;
        Ok(t)
    }

    async fn boot(&mut self) -> BoxResult {
        match (self.system, &self.launch.server, &self.launch.server_bin) {
            (System::Redis, ..) => {
                let bin = self.launch.redis_bin.clone();
                let args: Vec<String> = [
                    "--port",
                    &self.addr.port().to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--maxclients",
                    "19000",
                    "--requirepass",
                    REDIS_PASSWORD,
                    "--dir",
                    &self.dir.display().to_string(),
                    "--loglevel",
                    "warning",
                    "--client-output-buffer-limit",
                    "pubsub 256mb 64mb 60",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                let log = std::fs::File::create(self.dir.join("redis.log"))?;
                let mut child = self.command(&bin, &args).stdout(log).spawn()?;
                for _ in 0..200 {
                    if let Ok(Some(Resp::Simple(_) | Resp::Error(_))) = redis_ping(self.addr).await
                    {
                        self.kind = Kind::Child(Some(child));
                        return Ok(());
                    }
                    if let Some(status) = child.try_wait()? {
                        return Err(format!("redis-server exited: {status}").into());
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err("redis-server did not start".into())
            }
            (System::Ququ, Some(_), _) => {
                self.kind = Kind::External;
                Ok(())
            }
            (System::Ququ, None, Some(bin)) => {
                let toml = self.dir.join("bench.toml");
                std::fs::write(&toml, ququ_toml(&self.launch))?;
                let args: Vec<String> = vec![
                    "--listen".into(),
                    self.addr.to_string(),
                    "--data-dir".into(),
                    self.dir.display().to_string(),
                    "--config".into(),
                    toml.display().to_string(),
                ];
                let mut args = args;
                if let Some(url) = &self.launch.database {
                    args.extend(["--database".into(), url.clone()]);
                }
                if let Some(name) = &self.launch.node_name {
                    args.extend(["--node-name".into(), name.clone()]);
                }
                if let Some(bus) = &self.launch.bus {
                    args.extend(["--bus".into(), bus.clone()]);
                }
                let log = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.join("server.log"))?;
                let bin = bin.clone();
                let mut child = self
                    .command(&bin, &args)
                    .stdout(Stdio::piped())
                    .stderr(log)
                    // The writer's one debug line, at shutdown, counts its batches (commits) and
                    // messages: see `writer_counts`.
                    .env("RUST_LOG", "warn,ququ_server::service::writer=debug")
                    .spawn()?;
                let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
                loop {
                    match tokio::time::timeout(Duration::from_secs(60), out.next_line()).await {
                        Ok(Ok(Some(line))) if line.contains("listening on") => break,
                        Ok(Ok(Some(_))) => continue,
                        _ => {
                            return Err(format!(
                                "ququ-server did not start; see {}",
                                self.dir.join("server.log").display()
                            )
                            .into());
                        }
                    }
                }
                // Keep draining its stdout so it never blocks on a full pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
                self.kind = Kind::Child(Some(child));
                Ok(())
            }
            (System::Ququ, None, None) => {
                let listener = tokio::net::TcpListener::bind(self.addr).await?;
                let config = ququ_config(&self.dir, &self.launch);
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let store = match &self.launch.database {
                    Some(url) => Some(crate::seed::open_store(&self.dir, Some(url), true)?),
                    None => None,
                };
                let task = tokio::spawn(async move {
                    let shutdown = async move {
                        let _ = stopped.await;
                    };
                    let served = match store {
                        Some(store) => {
                            ququ_server::run_with_store(listener, config, store, shutdown).await
                        }
                        None => ququ_server::run(listener, config, shutdown).await,
                    };
                    if let Err(e) = served {
                        eprintln!("in-process server failed: {e}");
                    }
                });
                self.kind = Kind::InProcess {
                    stop: Some(stop),
                    task: Some(task),
                };
                Ok(())
            }
        }
    }

    fn command(&self, bin: &Path, args: &[String]) -> Command {
        let mut cmd = match &self.launch.cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpus).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }

    /// The process whose memory is the server's: the child, or this process for an in-process server
    /// (then the figure includes the load generator).
    pub fn pid(&self) -> Option<u32> {
        match &self.kind {
            Kind::Child(Some(c)) => c.id(),
            Kind::InProcess { .. } => Some(std::process::id()),
            _ => None,
        }
    }

    pub fn in_process(&self) -> bool {
        matches!(self.kind, Kind::InProcess { .. })
    }

    /// Resident memory of the server process in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Stops the server the way an operator would (SIGTERM; Ququ then says `BYE:shutdown` to everyone).
    pub async fn stop(&mut self) -> BoxResult {
        match &mut self.kind {
            Kind::Child(child) => {
                if let Some(mut c) = child.take() {
                    if let Some(pid) = c.id() {
                        Command::new("kill")
                            .arg("-TERM")
                            .arg(pid.to_string())
                            .status()
                            .await?;
                    }
                    if tokio::time::timeout(Duration::from_secs(30), c.wait())
                        .await
                        .is_err()
                    {
                        c.kill().await?;
                    }
                }
            }
            Kind::InProcess { stop, task } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(task) = task.take() {
                    task.await?;
                }
            }
            Kind::External => {
                return Err("cannot restart a server this benchmark did not start".into());
            }
        }
        Ok(())
    }

    /// A child Ququ server's message writer's batches (one transaction each) and messages over its
    /// life, from the line it logs when it stops: after [`Target::stop`] only.
    pub fn writer_counts(&self) -> Option<(u64, u64)> {
        let log = std::fs::read_to_string(self.dir.join("server.log")).ok()?;
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains("message writer stopped"))?;
        let field = |name: &str| -> Option<u64> {
            let at = line.find(&format!("{name}="))? + name.len() + 1;
            let digits: String = line[at..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            digits.parse().ok()
        };
        Some((field("batches")?, field("messages")?))
    }

    /// Kills the server at once (SIGKILL), as a crash would: no `BYE:`, its sockets reset by the kernel.
    pub async fn kill(&mut self) -> BoxResult {
        match &mut self.kind {
            Kind::Child(child) => {
                if let Some(mut c) = child.take() {
                    c.kill().await?;
                }
                Ok(())
            }
            _ => Err("only a child server can be killed".into()),
        }
    }

    /// Starts it again on the same address and data.
    pub async fn start_again(&mut self) -> BoxResult {
        self.boot().await
    }
}

async fn redis_ping(addr: SocketAddr) -> std::io::Result<Option<Resp>> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(b"PING\r\n").await?;
    let mut r = Reader::new(s, 256);
    tokio::time::timeout(Duration::from_secs(1), r.resp())
        .await
        .unwrap_or(Ok(None))
}

/// Connects from a loopback address chosen by `n` (127.0.0.2 … 127.0.0.251), so many thousands of
/// connections and reconnections never run out of ephemeral ports on one source address.
pub async fn connect(addr: SocketAddr, n: usize) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    let source = std::net::Ipv4Addr::new(127, 0, 0, 2 + (n % 250) as u8);
    socket.bind(SocketAddr::from((source, 0)))?;
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}
