//! `ququ-server`: the chat server binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use ququ_server::config::{FileConfig, default_data_dir};
use ququ_server::{Config, Error};

/// The Ququ chat server. Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) for more.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on [default: 127.0.0.1:8899; use 0.0.0.0:8899 to accept other computers]
    #[arg(long, env = "QUQU_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where the database lives [default: the OS data directory, e.g. ~/.local/share/ququ-server]
    #[arg(long, env = "QUQU_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Most simultaneous connections
    #[arg(long)]
    max_connections: Option<usize>,
    /// A TOML config file; flags override its settings
    #[arg(long, short)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
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
    file.apply(&mut config);
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(n) = args.max_connections {
        config.max_connections = n;
    }
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
    let store = ququ_server::open_store(&config)?;
    println!("ququ-server listening on {}", listener.local_addr()?);
    println!("database: {}", config.db_path().display());
    ququ_server::run_with_store(
        listener,
        config,
        std::sync::Arc::new(store),
        shutdown_signal(),
    )
    .await?;
    println!("ququ-server stopped");
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what systemd and `kill` send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
