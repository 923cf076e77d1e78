//! `files`: relay one file through the server — upload, then download — timed, and the bytes checked.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use ququ_tests::{Peer, befriend};

use crate::BoxResult;

pub async fn run(addr: SocketAddr, file: Option<PathBuf>, mb: u64) -> BoxResult {
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
            "system": "ququ",
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
