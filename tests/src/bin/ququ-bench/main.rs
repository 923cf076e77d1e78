//! `ququ-bench`: drives a real Ququ server — or Redis pub/sub, on the same scenario — over loopback with
//! many simulated clients, and prints one JSON line per run.
//!
//! Scenarios: `fanout` (one group: N members receive, S send), `direct` (pairs of friends), `idle`
//! (many logged-in idle connections: server memory per connection), `login` (logins/s with a password
//! and with a session token), `restart` (every client logging in again after a server restart) and
//! `files` (relay one file); with `--nodes N` (cluster mode) `fanout` and `direct` run against N nodes on
//! one PostgreSQL database and NATS bus, and `failover` kills one of them. `bench/run.sh` runs them all
//! for Ququ and Redis; `docs/benchmarks.md` has the figures.
//!
//! The server under test is, for `--system ququ`: in this process on a temporary data dir (default),
//! the `ququ-server` binary started as a child (`--server-bin`, pinned with `--server-cpus`), or one
//! already running (`--server`, `files` only; loopback only). `--system redis` starts `redis-server`
//! (`--redis-bin`) as a child the same way. Ququ's accounts, tokens and groups are written into the data
//! dir before it starts (see `seed.rs`), so a 10,000-user run does not first register 10,000 users.
//!
//! # Layout
//! - `main.rs` — arguments, the runtime, what each scenario seeds and runs.
//! - `target.rs` — starting, stopping and measuring the server under test.
//! - `seed.rs` — accounts, tokens, the group and friendships in a fresh data dir.
//! - `client.rs` — a simulated client's connection and login.
//! - `fanout.rs` — `fanout` and `direct`: senders, receivers, exact loss/duplicate counting.
//! - `conns.rs` — `idle`, `login`, `restart`.
//! - `files.rs` — `files`.
//! - `wire.rs` — read buffer, payload, latency histogram, RESP.

mod client;
mod conns;
mod fanout;
mod files;
mod seed;
mod target;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use client::{Conn, Login};
use target::{Launch, Target};

pub type BoxResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Which server is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum System {
    Ququ,
    Redis,
}

#[derive(Debug, Parser)]
#[command(
    about = "Load generator and benchmarks for the Ququ server, and Redis pub/sub for comparison \
                   (loopback only)"
)]
struct Args {
    /// The server under test
    #[arg(long, global = true, value_enum, default_value = "ququ")]
    system: System,
    /// A Ququ server already running on this machine (`files` only)
    #[arg(long, global = true)]
    server: Option<SocketAddr>,
    /// Run this `ququ-server` binary as a child process instead of a server in this process
    #[arg(long, global = true)]
    server_bin: Option<PathBuf>,
    /// The `redis-server` binary for `--system redis`
    #[arg(long, global = true, default_value = "redis-server")]
    redis_bin: PathBuf,
    /// Pin a child server to these CPUs (`taskset -c` list, e.g. `0`)
    #[arg(long, global = true)]
    server_cpus: Option<String>,
    /// Ququ's durability: `normal` (a commit survives the process being killed) or `full` (fsync)
    #[arg(long, global = true, default_value = "normal")]
    durability: String,
    /// Ququ's outbox per connection, in lines
    #[arg(long, global = true, default_value_t = 4096)]
    outbox: usize,
    /// Ququ on PostgreSQL (cluster mode): seed and serve from this database (a postgres:// URL), which
    /// must be empty: bench/run.sh makes a new one per run. Needs ququ-bench built with
    /// `--features cluster`, and a `--server-bin` built the same way
    #[arg(long, global = true)]
    database: Option<String>,
    /// Cluster mode (`fanout`, `direct`): start this many `ququ-server` nodes (`--server-bin`) on one
    /// `--database`, named n1, n2…, and spread the clients over them round-robin
    #[arg(long, global = true, default_value_t = 1)]
    nodes: usize,
    /// Cluster mode: the nodes' NATS bus (`nats://127.0.0.1:PORT`), passed to each as `--bus`
    #[arg(long, global = true)]
    bus: Option<String>,
    /// The bus's NATS monitoring address (`nats-server -m PORT`: `127.0.0.1:PORT`): the run reports the
    /// messages the bus took in and handed out meanwhile, from its `/varz`
    #[arg(long, global = true)]
    bus_monitor: Option<SocketAddr>,
    /// Runtime worker threads for the load generator [default: the CPUs it may run on]
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// One group: MEMBERS receive every message the SENDERS send
    Fanout {
        #[arg(long, default_value_t = 100)]
        members: usize,
        #[arg(long, default_value_t = 4)]
        senders: usize,
        #[command(flatten)]
        load: fanout::Load,
    },
    /// PAIRS pairs of friends, one sending to the other
    Direct {
        #[arg(long, default_value_t = 50)]
        pairs: usize,
        #[command(flatten)]
        load: fanout::Load,
    },
    /// CONNECTIONS logged-in idle connections: server RSS per connection, then all close at once
    Idle {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Seconds to stay connected before measuring
        #[arg(long, default_value_t = 3)]
        hold: u64,
    },
    /// Logins per second: PASSWORD logins (Argon2), then TOKENS session resumes
    Login {
        #[arg(long, default_value_t = 200)]
        password: usize,
        #[arg(long, default_value_t = 10_000)]
        tokens: usize,
        /// Logins in progress at once
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
    },
    /// CONNECTIONS logged-in clients; restart the server; time until all are logged in again
    Restart {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
    },
    /// Cluster mode (`--nodes`): CONNECTIONS logged-in clients over the nodes; the last node is killed
    /// (SIGKILL); time until all its clients are logged in again on the others
    Failover {
        #[arg(long, default_value_t = 3000)]
        connections: usize,
    },
    /// Relay one file through the server: upload, then download, both timed
    Files {
        /// The file to send; default: a generated file of --mb megabytes
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long, default_value_t = 256)]
        mb: u64,
    },
}

fn main() -> BoxResult {
    let args = Args::parse();
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?
        .block_on(run(args))
}

/// Wall-clock milliseconds (for seeded rows).
pub fn wall_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Opens and logs in one connection per login, 256 at a time, in order; source addresses are numbered
/// from `first`.
pub async fn open_all(
    addr: SocketAddr,
    logins: &[Login],
    buf: usize,
    first: usize,
) -> BoxResult<Vec<Conn>> {
    open_spread(&[addr], logins, buf, first).await
}

/// [`open_all`] over several servers: login `i` goes to `addrs[i % addrs.len()]`.
pub async fn open_spread(
    addrs: &[SocketAddr],
    logins: &[Login],
    buf: usize,
    first: usize,
) -> BoxResult<Vec<Conn>> {
    let gate = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = Vec::with_capacity(logins.len());
    for (i, login) in logins.iter().cloned().enumerate() {
        let gate = gate.clone();
        let addr = addrs[i % addrs.len()];
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let open = Conn::open(addr, first + i, &login, buf);
            match tokio::time::timeout(Duration::from_secs(60), open).await {
                Ok(r) => r,
                Err(_) => Err("login timed out".into()),
            }
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await??);
    }
    Ok(out)
}

/// The server under test: one, or with `nodes` > 1 that many cluster nodes on the one database, each
/// with its own data dir (for relayed files only: the data is in PostgreSQL) and name.
async fn start_nodes(
    launch: &Launch,
    data: &std::path::Path,
    nodes: usize,
) -> BoxResult<Vec<Target>> {
    if nodes <= 1 {
        return Ok(vec![Target::start(launch, data).await?]);
    }
    let mut out = Vec::with_capacity(nodes);
    for i in 1..=nodes {
        let dir = data.with_file_name(format!("data-n{i}"));
        std::fs::create_dir_all(&dir)?;
        let launch = Launch {
            node_name: Some(format!("n{i}")),
            ..launch.clone()
        };
        out.push(Target::start(&launch, &dir).await?);
    }
    Ok(out)
}

/// Names for a scenario's accounts: senders `s0000…`, then receivers `r00000…`.
fn names(senders: usize, receivers: usize) -> Vec<String> {
    (0..senders)
        .map(|i| format!("s{i:04}"))
        .chain((0..receivers).map(|i| format!("r{i:05}")))
        .collect()
}

async fn run(args: Args) -> BoxResult {
    let launch = Launch {
        system: args.system,
        server: args.server,
        server_bin: args.server_bin.clone(),
        redis_bin: args.redis_bin.clone(),
        cpus: args.server_cpus.clone(),
        durability: args.durability.clone(),
        outbox: args.outbox,
        database: args.database.clone(),
        node_name: None,
        bus: args.bus.clone(),
    };
    if args.nodes > 1
        && (args.system != System::Ququ || args.database.is_none() || args.server_bin.is_none())
    {
        return Err("--nodes needs --system ququ, --database and --server-bin".into());
    }
    if args.nodes > 1
        && !matches!(
            args.scenario,
            Scenario::Fanout { .. } | Scenario::Direct { .. } | Scenario::Failover { .. }
        )
    {
        return Err("--nodes runs `fanout`, `direct` and `failover` only".into());
    }
    if let Some(addr) = args.server
        && !addr.ip().is_loopback()
    {
        return Err(format!("{addr} is not a loopback address").into());
    }
    let seeds = args.server.is_none() && args.system == System::Ququ;
    if !seeds && args.system == System::Ququ && !matches!(args.scenario, Scenario::Files { .. }) {
        return Err(
            "with --server only `files` runs: other scenarios seed a fresh data dir".into(),
        );
    }
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let system = args.system;
    match args.scenario {
        Scenario::Files { file, mb } => {
            if system == System::Redis {
                return Err("`files` has no Redis counterpart; compare with bench/files.sh".into());
            }
            let target = Target::start(&launch, &data).await?;
            files::run(target.addr, file, mb).await
        }
        Scenario::Fanout {
            members,
            senders,
            load,
        } => {
            let seeded = if seeds {
                Some(seed::seed(
                    &data,
                    launch.database.as_deref(),
                    &names(senders, members),
                    true,
                    &[],
                )?)
            } else {
                None
            };
            let mut nodes = start_nodes(&launch, &data, args.nodes).await?;
            let plan = fanout::group_plan(system, members, senders, seeded.as_ref());
            fanout::run(&mut nodes, plan, &load, args.bus_monitor).await
        }
        Scenario::Direct { pairs, load } => {
            let seeded = if seeds {
                let pairs: Vec<(usize, usize)> = (0..pairs).map(|i| (i, pairs + i)).collect();
                Some(seed::seed(
                    &data,
                    launch.database.as_deref(),
                    &names(pairs.len(), pairs.len()),
                    false,
                    &pairs,
                )?)
            } else {
                None
            };
            let mut nodes = start_nodes(&launch, &data, args.nodes).await?;
            let plan = fanout::direct_plan(system, pairs, seeded.as_ref());
            fanout::run(&mut nodes, plan, &load, args.bus_monitor).await
        }
        Scenario::Idle { connections, hold } => {
            let logins = session_logins(system, seeds, &data, &launch, connections)?;
            let mut target = Target::start(&launch, &data).await?;
            conns::idle(&mut target, logins, Duration::from_secs(hold)).await
        }
        Scenario::Login {
            password,
            tokens,
            concurrency,
        } => {
            let n = password.max(tokens);
            let (pw, resume) = match system {
                System::Ququ => {
                    let seeded =
                        seed::seed(&data, launch.database.as_deref(), &names(0, n), false, &[])?;
                    let pw = seeded.accounts[..password]
                        .iter()
                        .map(|a| Login::Password {
                            account: a.name.clone(),
                            password: seed::PASSWORD.into(),
                        })
                        .collect();
                    let resume = seeded.accounts[..tokens]
                        .iter()
                        .map(fanout::resume)
                        .collect();
                    (pw, resume)
                }
                System::Redis => (Vec::new(), vec![Login::Redis { subscribe: None }; tokens]),
            };
            let mut target = Target::start(&launch, &data).await?;
            conns::login(&mut target, pw, resume, concurrency).await
        }
        Scenario::Failover { connections } => {
            if args.nodes < 2 {
                return Err("failover needs --nodes 2 or more".into());
            }
            let logins = session_logins(system, seeds, &data, &launch, connections)?;
            let mut nodes = start_nodes(&launch, &data, args.nodes).await?;
            conns::failover(&mut nodes, logins).await
        }
        Scenario::Restart { connections } => {
            let logins = session_logins(system, seeds, &data, &launch, connections)?;
            let mut target = Target::start(&launch, &data).await?;
            conns::restart(&mut target, logins).await
        }
    }
}

/// One logged-in session per client: Ququ `RESUME:` with a seeded account, or a Redis subscriber on its
/// own channel.
fn session_logins(
    system: System,
    seeds: bool,
    data: &std::path::Path,
    launch: &Launch,
    n: usize,
) -> BoxResult<Vec<Login>> {
    Ok(match system {
        System::Ququ if seeds => {
            seed::seed(data, launch.database.as_deref(), &names(0, n), false, &[])?
                .accounts
                .iter()
                .map(fanout::resume)
                .collect()
        }
        _ => conns::redis_sessions(n),
    })
}
