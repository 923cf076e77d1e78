//! Relayed files from the client's side: offers' grants, and the data connections that move the bytes.

use std::net::SocketAddr;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

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

pub fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `FILE_UPLOAD:<id>:<token>:<offset>` → (id, token, offset).
pub fn upload_grant(line: &str) -> (u64, String, u64) {
    let f: Vec<&str> = line.split(':').collect();
    assert_eq!(f[0], "FILE_UPLOAD", "{line}");
    (
        f[1].parse().unwrap(),
        f[2].to_owned(),
        f[3].parse().unwrap(),
    )
}

/// Sends `FILE_PUT` and the bytes on a new connection; returns the server's answer.
pub async fn put(addr: SocketAddr, token: &str, offset: u64, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("FILE_PUT:{token}:{offset}\n").as_bytes())
        .await
        .unwrap();
    s.write_all(bytes).await.unwrap();
    s.shutdown().await.unwrap();
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).await.unwrap();
    reply.trim_end().to_owned()
}

/// Downloads with `FILE_GET` from `offset`: the header line, then the bytes. A refusal is `Err(line)`.
pub async fn try_get(addr: SocketAddr, token: &str, offset: u64) -> Result<Vec<u8>, String> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("FILE_GET:{token}:{offset}\n").as_bytes())
        .await
        .unwrap();
    let mut reader = BufReader::new(s);
    let mut header = String::new();
    reader.read_line(&mut header).await.unwrap();
    if !header.starts_with("FILE_PROGRESS:") {
        return Err(header.trim_end().to_owned());
    }
    let f: Vec<&str> = header.trim_end().split(':').collect();
    assert_eq!(f[2], offset.to_string(), "{header}");
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.unwrap();
    assert_eq!(out.len() as u64 + offset, f[3].parse::<u64>().unwrap());
    Ok(out)
}

pub async fn get(addr: SocketAddr, token: &str, offset: u64) -> Vec<u8> {
    try_get(addr, token, offset).await.unwrap()
}

/// `FILE_DOWNLOAD:<id>:<token>:<size>` → token.
pub fn download_token(line: &str) -> String {
    let f: Vec<&str> = line.split(':').collect();
    assert_eq!(f[0], "FILE_DOWNLOAD", "{line}");
    f[2].to_owned()
}
