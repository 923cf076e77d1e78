//! HAProxy in TCP mode on a free port, in front of one or more servers, passing each connection on with
//! a PROXY v2 header (`send-proxy-v2`), as docs/deploy.md sets it up.

use std::net::SocketAddr;
use std::time::Duration;

pub struct Haproxy {
    pub child: tokio::process::Child,
    pub front: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    /// In front of `backends`, round robin. With several, each is health-checked four times a second
    /// and a connection that cannot reach its server is sent to another (`redispatch`), so a node that
    /// dies is out of the rotation within a quarter of a second.
    pub async fn start(backends: &[SocketAddr]) -> Haproxy {
        let dir = tempfile::tempdir().unwrap();
        let front = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();
        let checks = if backends.len() > 1 {
            " check check-send-proxy inter 250ms fall 1 rise 2"
        } else {
            ""
        };
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, addr)| format!("  server n{} {addr} send-proxy-v2{checks}\n", i + 1))
            .collect();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(
            &config,
            format!(
                "global\n  maxconn 1000\n\
                 defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 1h\n  timeout server 1h\n\
                 \x20 retries 3\n  option redispatch\n\
                 frontend ququ\n  bind {front}\n  default_backend nodes\n\
                 backend nodes\n  balance roundrobin\n{servers}"
            ),
        )
        .unwrap();
        // -db: in the foreground, no daemon; -q: its start-up notices stay out of the test's output.
        let child = tokio::process::Command::new("haproxy")
            .args(["-db", "-q", "-f"])
            .arg(&config)
            .kill_on_drop(true)
            .spawn()
            .expect("haproxy (Debian: haproxy, installed by .ci/run)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(front).await.is_ok() {
                return Haproxy {
                    child,
                    front,
                    _dir: dir,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("haproxy is not listening on {front}");
    }
}
