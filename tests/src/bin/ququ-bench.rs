//! `ququ-bench`: drives a real Ququ server over loopback and prints one JSON line per run.
//!
//! Scenarios so far: `files` — upload and download one file through the server's relay, timed, and the
//! bytes checked. By default the server runs in this process on a temporary data dir; `--server` points
//! at one already running (it must be on this machine: only loopback is ever a target).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use ququ_tests::{Peer, befriend};

#[derive(Debug, Parser)]
#[command(about = "Load generator and benchmarks for the Ququ server (loopback only)")]
struct Args {
    /// A running server on this machine; default: one started in-process on a temporary data dir
    #[arg(long, global = true)]
    server: Option<SocketAddr>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Relay one file through the server: upload, then download, both timed
    Files {
        /// The file to send; default: a generated file of --mb megabytes
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long, default_value_t = 256)]
        mb: u64,
    },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let _dir;
    let addr = match args.server {
        Some(addr) if addr.ip().is_loopback() => addr,
        Some(addr) => return Err(format!("{addr} is not a loopback address").into()),
        None => {
            _dir = tempfile::tempdir()?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let mut config = ququ_server::Config::new(_dir.path());
            config.limits.file = u64::MAX;
            config.file_quota = u64::MAX;
            tokio::spawn(ququ_server::run(
                listener,
                config,
                std::future::pending::<()>(),
            ));
            addr
        }
    };
    match args.scenario {
        Scenario::Files { file, mb } => files(addr, file, mb).await,
    }
}

async fn files(
    addr: SocketAddr,
    file: Option<PathBuf>,
    mb: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let scratch = tempfile::tempdir()?;
    let path = match file {
        Some(path) => path,
        None => {
            let path = scratch.path().join("bench.bin");
            std::fs::write(&path, noise(mb << 20))?;
            path
        }
    };
    let data = tokio::fs::read(&path).await?;
    let digest = hex::encode(Sha256::digest(&data));
    let tag = std::process::id();
    let (a, b) = (format!("bench-a{tag}"), format!("bench-b{tag}"));
    let mut sender = Peer::login(addr, &a).await;
    let mut receiver = Peer::login(addr, &b).await;
    befriend(&mut sender, &a, &mut receiver, &b).await;

    sender
        .send(&format!(
            "FileTran:user:{b}:bench:{}:{digest}:bench.bin",
            data.len()
        ))
        .await;
    let grant = sender.until("FILE_UPLOAD:").await;
    let token = grant.split(':').nth(2).ok_or("bad FILE_UPLOAD")?.to_owned();
    let file_id = grant.split(':').nth(1).ok_or("bad FILE_UPLOAD")?.to_owned();

    let started = Instant::now();
    let mut put = TcpStream::connect(addr).await?;
    put.write_all(format!("FILE_PUT:{token}:0\n").as_bytes())
        .await?;
    put.write_all(&data).await?;
    let mut answer = String::new();
    BufReader::new(put).read_line(&mut answer).await?;
    let upload = started.elapsed();
    if !answer.starts_with("FILE_STATE:") {
        return Err(format!("upload refused: {answer}").into());
    }

    receiver.send(&format!("FILE_ACCEPT:{file_id}")).await;
    let grant = receiver.until("FILE_DOWNLOAD:").await;
    let token = grant
        .split(':')
        .nth(2)
        .ok_or("bad FILE_DOWNLOAD")?
        .to_owned();
    let started = Instant::now();
    let mut get = TcpStream::connect(addr).await?;
    get.write_all(format!("FILE_GET:{token}:0\n").as_bytes())
        .await?;
    let mut reader = BufReader::new(get);
    let mut header = String::new();
    reader.read_line(&mut header).await?;
    let mut received = Vec::with_capacity(data.len());
    reader.read_to_end(&mut received).await?;
    let download = started.elapsed();
    let intact = hex::encode(Sha256::digest(&received)) == digest;

    let mb_s = |secs: f64| data.len() as f64 / (1 << 20) as f64 / secs;
    println!(
        "{}",
        serde_json::json!({
            "scenario": "files",
            "bytes": data.len(),
            "upload_s": upload.as_secs_f64(),
            "upload_mb_s": mb_s(upload.as_secs_f64()),
            "download_s": download.as_secs_f64(),
            "download_mb_s": mb_s(download.as_secs_f64()),
            "intact": intact,
        })
    );
    if !intact {
        return Err("downloaded bytes differ".into());
    }
    Ok(())
}

/// Incompressible bytes (xorshift), so nothing along the way can shortcut them.
fn noise(len: u64) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(len as usize + 8);
    while (out.len() as u64) < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len as usize);
    out
}
