//! A full disk (issue 20, item 10), on a real small file system: a tmpfs mounted for the test. Needs root
//! (CI runs as root); elsewhere the test says why it did not run and passes.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use common::{Peer, TestServer};

const MIB: u64 = 1 << 20;

/// A tmpfs of `size` MiB on a fresh directory, unmounted on drop (lazily, so a server still holding
/// files open after a failed assertion does not leave it mounted).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size_mb: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size_mb}m"),
                "ququ-full-disk",
            ])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs for the full-disk test (it needs root): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run `mount` for the full-disk test: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes a file until the disk says no more, so not one block is left.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    for chunk in [MIB as usize, 4096, 1] {
        let buf = vec![7u8; chunk];
        while f.write_all(&buf).is_ok() {}
    }
    let _ = f.sync_all();
}

fn free(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Polls `cond` every 100 ms for up to 10 s.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..100 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Sends a message every 200 ms (new client ids) until one is answered with a line starting `want`;
/// returns that line. Bounded at 10 s.
async fn send_until(p: &mut Peer, tag: &str, want: &str) -> String {
    for i in 0..50 {
        p.send(&format!("MSG:bob:{tag}{i}:hello {tag}{i}")).await;
        let answer = loop {
            let line = p.recv().await;
            if line.starts_with("ACK:") || line.starts_with("ERROR:") {
                break line;
            }
        };
        if answer.starts_with(want) {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("never answered {want}");
}

/// A file offered and uploaded that is bigger than the free space: the answer on the data connection
/// (if the connection lasted long enough to read it).
async fn upload_too_big(server: &TestServer, alice: &mut Peer, size: usize) -> Option<String> {
    let data = vec![42u8; size];
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&data))
    };
    alice
        .send(&format!("FileTran:user:bob:f1:{size}:{sha}:big.bin"))
        .await;
    let upload = alice.until("FILE_UPLOAD:").await;
    let token = upload.split(':').nth(2).unwrap().to_owned();
    let conn = TcpStream::connect(server.addr).await.unwrap();
    let (read, mut write) = conn.into_split();
    let writer = tokio::spawn(async move {
        let _ = write
            .write_all(format!("FILE_PUT:{token}:0\n").as_bytes())
            .await;
        let _ = write.write_all(&data).await;
        let _ = write.shutdown().await;
    });
    let mut line = String::new();
    let read = tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(read).read_line(&mut line),
    )
    .await
    .expect("the upload was never answered");
    let _ = writer.await;
    match read {
        Ok(n) if n > 0 => Some(line.trim_end().to_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_a_clear_code_keeps_reading_recovers_and_restarts() {
    let Some(fs) = Tmpfs::mount(32) else {
        return;
    };
    let data = tempfile::tempdir_in(fs.path()).unwrap();
    let data_path = data.path().to_owned();
    let reserve = data_path.join("reserve");
    let headroom = 8 * MIB;
    let config = move |c: &mut ququ_server::Config| c.disk_headroom = headroom;
    let server = TestServer::start_with(data, config).await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    send_until(&mut alice, "a", "ACK:").await;
    bob.until("MSG:").await;
    // The server keeps a reserve to give up when the disk is full.
    eventually("the reserve is written", || reserve.exists()).await;

    // An upload bigger than the free space fails when the disk fills, and its partial file goes with
    // it: the disk does not stay full until the offer is cancelled or expires.
    let before = free(fs.path());
    let answer = upload_too_big(&server, &mut alice, (before + 2 * MIB) as usize).await;
    if let Some(answer) = answer {
        assert!(answer.starts_with("ERROR:storage_full:"), "{answer}");
    }
    let partial = data_path.join("files").join("partial");
    eventually("the partial upload is deleted", || {
        std::fs::read_dir(&partial).is_ok_and(|d| d.count() == 0)
    })
    .await;
    eventually("the reserve is back", || reserve.exists()).await;
    assert!(free(fs.path()) + MIB >= before, "space given back");

    // Something else fills the disk to the last block.
    fill(fs.path());
    let refused = send_until(&mut alice, "b", "ERROR:").await;
    assert!(refused.starts_with("ERROR:storage_full:"), "{refused}");
    // It names the message, for the client to send again later.
    assert!(
        refused.rsplit(':').next().unwrap().starts_with('b'),
        "{refused}"
    );
    // Every other write is refused the same way...
    alice.send("GROUP_CREATE:full").await;
    assert!(
        alice
            .until("ERROR:")
            .await
            .starts_with("ERROR:storage_full:")
    );
    alice.send("REMARK:bob:bobby").await;
    assert!(
        alice
            .until("ERROR:")
            .await
            .starts_with("ERROR:storage_full:")
    );
    let mut carol = server.connect().await;
    carol.send("RESIGER:carol:password").await;
    let reg = carol.recv().await;
    assert!(reg.starts_with("RESIGER:false:storage_full:"), "{reg}");
    // ...while reading goes on: a login, sync, history.
    let mut bob2 = server.connect().await;
    bob2.login("bob").await;
    bob2.send("SYNC:0:100").await;
    let sync = bob2.collect_until("SYNC_END:").await;
    assert!(sync.iter().any(|l| l.ends_with(":hello a0")), "{sync:?}");
    bob2.send("HISTORY:user:alice:0:10").await;
    bob2.until("HISTORY_END:user:alice:").await;

    // Space comes back: writes are taken again, by themselves.
    std::fs::remove_file(fs.path().join("filler")).unwrap();
    let ack = send_until(&mut alice, "c", "ACK:").await;
    let stored = format!(":hello {}", ack.split(':').nth(1).unwrap());
    bob.until("MSG:").await;
    eventually("the reserve is back", || reserve.exists()).await;

    // A restart on a full disk: the server starts, serves reads and refuses writes.
    drop((alice, bob, bob2, carol));
    let data = server.stop().await;
    fill(fs.path());
    let server = TestServer::start_with(data, config).await;
    let mut alice = server.connect().await;
    alice.login("alice").await;
    alice.send("SYNC:0:100").await;
    let sync = alice.collect_until("SYNC_END:").await;
    assert!(sync.iter().any(|l| l.ends_with(&stored)), "{sync:?}");
    let refused = send_until(&mut alice, "d", "ERROR:").await;
    assert!(refused.starts_with("ERROR:storage_full:"), "{refused}");
    std::fs::remove_file(fs.path().join("filler")).unwrap();
    send_until(&mut alice, "e", "ACK:").await;
    drop(alice);
    server.stop().await;
}
