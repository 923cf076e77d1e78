//! `ququ-server`: the chat server binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use ququ_server::config::{FileConfig, TlsFiles, default_data_dir};
use ququ_server::storage::Store;
use ququ_server::{Config, Error};

/// The Ququ chat server. Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) for more.
///
/// With no command it serves. The other commands are for the operator and work on the database in the
/// data directory, beside a running server (except `restore`, which refuses to run beside one).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Address to listen on [default: 127.0.0.1:8899; use 0.0.0.0:8899 to accept other computers]
    #[arg(long, env = "QUQU_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where the database lives [default: the OS data directory, e.g. ~/.local/share/ququ-server]
    #[arg(long, env = "QUQU_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Most simultaneous connections
    #[arg(long)]
    max_connections: Option<usize>,
    /// Behind a load balancer that sends the PROXY protocol v2 header (HAProxy's send-proxy-v2): the
    /// client's address counts for limits and logs; a connection without the header is closed
    #[arg(long)]
    proxy_protocol: bool,
    /// Cluster mode: keep accounts, messages and groups in this PostgreSQL database (a postgres:// URL or
    /// libpq connection string) instead of SQLite in the data directory, which keeps only relayed
    /// files. Needs a ququ-server built with `--features cluster`
    #[arg(long, env = "QUQU_DATABASE", global = true)]
    database: Option<String>,
    /// Cluster mode (with --database): this node's name among the servers sharing the database, unique
    /// among those running [default: the host name]
    #[arg(long, env = "QUQU_NODE_NAME")]
    node_name: Option<String>,
    /// Where relayed files are kept [default: files/ in the data directory]. Cluster mode: one directory
    /// every node shares (an NFS mount), so a file uploaded through one node downloads through another
    #[arg(long, env = "QUQU_FILES_DIR")]
    files_dir: Option<PathBuf>,
    /// Cluster mode: the NATS server through which the nodes sharing --database tell each other of new
    /// messages (nats://host:4222), so they are delivered at once rather than within a second
    #[arg(long, env = "QUQU_BUS", requires = "database")]
    bus: Option<String>,
    /// A TOML config file; flags override its settings
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    /// Serve TLS with this PEM certificate (chain); needs --tls-key. See `gen-cert`
    #[arg(long, env = "QUQU_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, env = "QUQU_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Copy the live database to DEST, a new file (consistent, while the server runs and writes)
    Backup { dest: PathBuf },
    /// Replace the database with the backup SRC (refused while a server runs on the data directory;
    /// message ids go on after the highest the replaced database gave out)
    Restore { src: PathBuf },
    /// List accounts and how many connections each has
    Users,
    /// List live connections: account, address, since when
    Online,
    /// Create ACCOUNT with a password (asked for, or one line of stdin); no registration cap applies
    AddUser {
        account: String,
        /// Its nickname [default: the account name]
        #[arg(long)]
        nickname: Option<String>,
    },
    /// Set a new password for ACCOUNT (asked for, or read from stdin); all its devices are disconnected
    /// within a second and must log in again
    ResetPassword { account: String },
    /// Stop ACCOUNT from logging in and disconnect its devices within a second (its data stays)
    Disable { account: String },
    /// Let a disabled ACCOUNT log in again
    Enable { account: String },
    /// Make a self-signed TLS certificate and key (cert.pem, key.pem) and print its fingerprint
    GenCert {
        /// Where to write them [default: the data directory]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Host names and IP addresses clients use to reach the server [default: localhost 127.0.0.1]
        names: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: in journald or a file, escape codes are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match serve(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ququ-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), Error> {
    let file = match &args.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let mut config = Config::new(default_data_dir()?);
    file.apply(&mut config)?;
    if let Some(dir) = args.data_dir.clone() {
        config.data_dir = dir;
    }
    if let Some(dir) = args.files_dir.clone() {
        config.files_dir = Some(dir);
    }
    if let Some(tls) = TlsFiles::from_pair(args.tls_cert.clone(), args.tls_key.clone())? {
        config.tls = Some(tls);
    }
    if let Some(Cmd::GenCert { out, names }) = args.command {
        return gen_cert(out.unwrap_or_else(|| config.data_dir.clone()), names);
    }
    if let Some(cmd) = args.command {
        let database = args.database.clone();
        // On the blocking pool: PostgreSQL's blocking client runs a runtime of its own.
        return tokio::task::spawn_blocking(move || {
            operate(cmd, &config, database.as_deref()).map_err(|e| e.to_string())
        })
        .await
        .map_err(std::io::Error::other)?
        .map_err(|e| Error::Io(std::io::Error::other(e)));
    }
    if args.proxy_protocol {
        config.proxy_protocol = true;
    }
    if let Some(n) = args.max_connections {
        config.max_connections = n;
    }
    config.bus = args.bus.clone();
    // Before anything else: a second server on the same data directory would share its database. In
    // cluster mode the database is PostgreSQL's, and every node may share one directory of files.
    let _lock = match &args.database {
        None => Some(ququ_server::lock_data_dir(&config.data_dir)?),
        Some(_) => None,
    };
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], ququ_protocol::DEFAULT_PORT)));
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("cannot listen on {listen}: {e}"),
        ))
    })?;
    // Open the database before announcing anything, so a bad data dir fails loudly at start.
    let (store, database) = match args.database.clone() {
        None => (
            std::sync::Arc::new(ququ_server::open_store(&config)?) as std::sync::Arc<dyn Store>,
            config.db_path().display().to_string(),
        ),
        Some(url) => {
            std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            })?;
            let node = args.node_name.clone().or(file.node_name.clone());
            tokio::task::spawn_blocking(move || serve_cluster_store(&url, node))
                .await
                .map_err(std::io::Error::other)??
        }
    };
    // Load the certificate before announcing anything too: a bad one stops the start, loudly.
    let tls = ququ_server::tls::load_configured(&config)?;
    let shutdown = shutdown_signal();
    announce(format_args!(
        "ququ-server listening on {}",
        listener.local_addr()?
    ));
    announce(format_args!("database: {database}"));
    #[cfg(feature = "cluster")]
    if let Some(bus) = &config.bus {
        announce(format_args!(
            "message bus: NATS {}",
            ququ_server::bus::describe(bus)
        ));
    }
    match &tls {
        Some(tls) => announce(format_args!(
            "TLS certificate fingerprint (SHA-256): {}",
            tls.fingerprint
        )),
        None => announce(format_args!(
            "TLS: off (plain TCP; see `ququ-server gen-cert` and --tls-cert)"
        )),
    }
    ququ_server::run_prepared(listener, config, store, tls, shutdown).await?;
    announce(format_args!("ququ-server stopped"));
    Ok(())
}

/// How many PostgreSQL connections a server keeps at most: the message writer's, and the blocking pool's
/// requests beside it.
#[cfg(feature = "cluster")]
const CLUSTER_CONNECTIONS: u32 = 16;

/// What a server or command in cluster mode holds: the store, and how to name it (and the node).
type Cluster = (std::sync::Arc<dyn Store>, String);

/// The PostgreSQL store at `url` (cluster mode), as the operator's commands open it: no serving lock,
/// no node (they run beside the servers). Blocking.
#[cfg(feature = "cluster")]
fn open_cluster_store(url: &str) -> Result<Cluster, Error> {
    use ququ_server::storage::postgres::{PgStore, describe};
    // The store first: it says a wrong password or a missing database in PostgreSQL's words.
    let store = PgStore::open(url, CLUSTER_CONNECTIONS)?;
    Ok((
        std::sync::Arc::new(store),
        format!("PostgreSQL {}", describe(url)),
    ))
}

/// The PostgreSQL store at `url` for a serving server, registered as the node `node_name` (default:
/// the host name) among those serving the database. Blocking.
#[cfg(feature = "cluster")]
fn serve_cluster_store(url: &str, node_name: Option<String>) -> Result<Cluster, Error> {
    use ququ_server::storage::postgres::{PgStore, describe};
    let store = PgStore::open(url, CLUSTER_CONNECTIONS)?;
    let name = node_name.unwrap_or_else(host_name);
    let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let store = store.join(&name, now)?;
    Ok((
        std::sync::Arc::new(store),
        format!("PostgreSQL {}, as node {name}", describe(url)),
    ))
}

/// A node's default name: the host's, or "ququ" if it has none that reads as text.
#[cfg(feature = "cluster")]
fn host_name() -> String {
    match gethostname::gethostname().into_string() {
        Ok(name) if !name.trim().is_empty() => name,
        _ => "ququ".into(),
    }
}

#[cfg(not(feature = "cluster"))]
fn open_cluster_store(_url: &str) -> Result<Cluster, Error> {
    Err(Error::NoCluster)
}

#[cfg(not(feature = "cluster"))]
fn serve_cluster_store(_url: &str, _node_name: Option<String>) -> Result<Cluster, Error> {
    Err(Error::NoCluster)
}

/// A line for the operator on stdout. A server outlives whatever read its stdout (a pipe to `head`, a
/// terminal closed under `nohup`), and `println!` would panic then; the server's work does not depend
/// on anyone reading these lines, so a failed write is ignored.
fn announce(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// `gen-cert`: writes `cert.pem` and `key.pem` to `dir`.
fn gen_cert(dir: PathBuf, mut names: Vec<String>) -> Result<(), Error> {
    if names.is_empty() {
        names = vec!["localhost".into(), "127.0.0.1".into()];
    }
    let (cert, key) = ququ_server::tls::default_paths(&dir);
    let fingerprint = ququ_server::tls::generate(&names, &cert, &key)?;
    println!(
        "wrote {} and {} (for {})",
        cert.display(),
        key.display(),
        names.join(", ")
    );
    println!("fingerprint (SHA-256): {fingerprint}");
    println!(
        "serve with: ququ-server --tls-cert {} --tls-key {}",
        cert.display(),
        key.display()
    );
    println!(
        "clients are shown this fingerprint the first time they connect; tell your users to compare."
    );
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what systemd and `kill` send); on Windows also on
/// Ctrl-Break, the console closing, logoff and shutdown.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    // The handlers are installed now, not when the future is first polled: once the server has said
    // it is listening, a SIGTERM must already mean a clean stop, not the default instant death.
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        let installed = |kind, name| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for {name}");
                None
            }
        };
        (
            installed(SignalKind::interrupt(), "Ctrl-C"),
            installed(SignalKind::terminate(), "SIGTERM"),
        )
    };
    // Windows has no SIGTERM. Service wrappers (NSSM, WinSW) and `taskkill` without /F stop a console
    // program with Ctrl-Break or by closing its console; logoff and shutdown send their own events. Each
    // gets the same clean stop as Ctrl-C.
    #[cfg(windows)]
    let console = {
        use tokio::signal::windows;
        fn installed<T>(r: std::io::Result<T>, name: &str) -> Option<T> {
            r.map_err(|e| tracing::warn!(error = %e, "cannot listen for {name}"))
                .ok()
        }
        (
            installed(windows::ctrl_c(), "Ctrl-C"),
            installed(windows::ctrl_break(), "Ctrl-Break"),
            installed(windows::ctrl_close(), "the console closing"),
            installed(windows::ctrl_shutdown(), "shutdown"),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(interrupt) => {}
                _ = wait(terminate) => {}
            }
        }
        #[cfg(windows)]
        {
            let (mut c, mut brk, mut close, mut shutdown) = console;
            tokio::select! {
                Some(()) = async { c.as_mut()?.recv().await } => {}
                Some(()) = async { brk.as_mut()?.recv().await } => {}
                Some(()) = async { close.as_mut()?.recv().await } => {}
                Some(()) = async { shutdown.as_mut()?.recv().await } => {}
                else => std::future::pending::<()>().await,
            }
        }
        #[cfg(not(any(unix, windows)))]
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}

/// Runs an operator command against the database in `config.data_dir`, or the PostgreSQL database at
/// `database`. Blocking.
fn operate(
    cmd: Cmd,
    config: &Config,
    database: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    use ququ_server::{SqliteStore, admin};
    if let Some(url) = database {
        if matches!(cmd, Cmd::Backup { .. } | Cmd::Restore { .. }) {
            return Err(
                "backup and restore are SQLite's: a PostgreSQL database is backed up with \
                        PostgreSQL's own tools (pg_dump, pg_basebackup; see docs/deploy.md)"
                    .into(),
            );
        }
        let (store, _) = open_cluster_store(url)?;
        return administer(cmd, store.as_ref(), config);
    }
    let db = config.db_path();
    if let Cmd::Restore { src } = &cmd {
        // Held until the restore is done: no server may start on the database meanwhile either.
        let _lock = ququ_server::lock_data_dir(&config.data_dir)?;
        let last = SqliteStore::restore(&db, src)?;
        println!(
            "restored {} from {}; new message ids start after {last}",
            db.display(),
            src.display()
        );
        return Ok(());
    }
    // `add-user` may come first on a fresh install: it creates the database.
    if matches!(cmd, Cmd::AddUser { .. }) {
        std::fs::create_dir_all(&config.data_dir)?;
    } else if !db.exists() {
        return Err(format!("no database at {}", db.display()).into());
    }
    let store = SqliteStore::open(&db, config.durability)?;
    if let Cmd::Backup { dest } = &cmd {
        admin::backup(&store, dest)?;
        println!("backed up {} to {}", db.display(), dest.display());
        return Ok(());
    }
    administer(cmd, &store, config)
}

/// The operator commands that work on any store.
fn administer(
    cmd: Cmd,
    store: &dyn Store,
    config: &Config,
) -> Result<(), Box<dyn std::error::Error>> {
    use ququ_server::admin;
    match cmd {
        Cmd::Users => {
            println!(
                "{:<24} {:<24} {:<17} state",
                "account", "nickname", "created"
            );
            for u in admin::users(store)? {
                let state = match (u.disabled, u.connections) {
                    (true, _) => "disabled".to_owned(),
                    (false, 0) => "offline".to_owned(),
                    (false, n) => {
                        format!("online ({n} connection{})", if n == 1 { "" } else { "s" })
                    }
                };
                println!(
                    "{:<24} {:<24} {:<17} {state}",
                    u.account,
                    u.nickname,
                    when(u.created)
                );
            }
        }
        Cmd::Online => {
            let online = admin::online(store)?;
            // Which node each connection is on, once there is more than one to tell apart.
            let nodes: std::collections::BTreeSet<_> =
                online.iter().filter_map(|c| c.node.as_deref()).collect();
            let by_node = nodes.len() > 1;
            if by_node {
                println!("{:<24} {:<22} {:<17} node", "account", "address", "since");
            } else {
                println!("{:<24} {:<22} since", "account", "address");
            }
            for c in online {
                let who = c.account.unwrap_or_else(|| "(not logged in)".into());
                let addr = format!("{}:{}", c.ip, c.port);
                match (by_node, c.node) {
                    (true, Some(node)) => {
                        println!("{who:<24} {addr:<22} {:<17} {node}", when(c.since))
                    }
                    _ => println!("{who:<24} {addr:<22} {}", when(c.since)),
                }
            }
        }
        Cmd::AddUser { account, nickname } => {
            let password = read_password(&format!("password for {account}: "))?;
            let user = admin::add_user(
                store,
                &account,
                nickname.as_deref(),
                &password,
                &config.limits,
            )?;
            println!("added {} ({})", user.account, user.nickname);
        }
        Cmd::ResetPassword { account } => {
            let password = read_password(&format!("new password for {account}: "))?;
            admin::reset_password(store, &account, &password)?;
            println!("password of {account} changed; its devices must log in again");
        }
        Cmd::Disable { account } => {
            admin::set_disabled(store, &account, true)?;
            println!("{account} is disabled");
        }
        Cmd::Enable { account } => {
            admin::set_disabled(store, &account, false)?;
            println!("{account} is enabled");
        }
        Cmd::Backup { .. } | Cmd::Restore { .. } | Cmd::GenCert { .. } => {}
    }
    Ok(())
}

fn when(millis: u64) -> String {
    chrono::DateTime::from_timestamp_millis(millis as i64)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "?".into())
}

/// From the terminal without echo, or one line of stdin when it is not a terminal (scripts, tests).
fn read_password(prompt: &str) -> std::io::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
