//! The embedded server for the first run.
//!
//! On a fresh machine the configured server is `127.0.0.1:8899` and nothing listens there. Rather than
//! fail, the login window offers to host one: the server library ([`ququ_server::run`]) runs inside this
//! app on the app's tokio runtime, with its SQLite database under the app's data directory. A second
//! `ququ` on the same machine then finds it listening and simply logs in.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("{0} is not an address on this computer")]
    NotLocal(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    /// The data directory is another server's, or its database cannot be opened.
    #[error("{0}")]
    Server(#[from] ququ_server::Error),
}

/// True if `addr` (`host:port`) names this computer, so hosting a server there makes sense.
pub fn is_local(addr: &str) -> bool {
    let Some((host, _)) = addr.trim().rsplit_once(':') else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// True if a connection to `addr` is actively refused: nothing listens there. A timeout or an unknown
/// host is not "nothing listening" (it may be a firewall or a typo), so no offer is made then.
pub async fn nothing_listening(addr: String) -> bool {
    match tokio::time::timeout(
        Duration::from_secs(2),
        ququ_client::tls::connect_tcp(addr.as_str()),
    )
    .await
    {
        Ok(Err(e)) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        _ => false,
    }
}

/// A server this app is hosting. Cloneable so it can travel in messages; dropping the last clone does not
/// stop the server — [`Hosted::stop`] does, so closing the login window does not pull the rug.
#[derive(Debug, Clone)]
pub struct Hosted {
    pub addr: SocketAddr,
    /// `addr` as text, for the status bar.
    pub label: String,
    /// The address it was asked to host at (the login window's server), to host there again next time.
    pub request: String,
    stop: Arc<Mutex<Option<oneshot::Sender<()>>>>,
    /// The server's database, for who is connected (its connection table, as `ququ-server online`).
    store: Arc<ququ_server::SqliteStore>,
}

impl Hosted {
    /// How many others are connected to this server now (every connection not logged in as `me`,
    /// counting a person once however many devices they use), read off the UI thread.
    pub fn others_connected(&self, me: String) -> impl Future<Output = usize> + Send + 'static {
        let store = self.store.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let online = ququ_server::admin::online(&*store).unwrap_or_default();
                let others: std::collections::BTreeSet<String> = online
                    .into_iter()
                    .filter_map(|c| c.account)
                    .filter(|account| *account != me)
                    .collect();
                others.len()
            })
            .await
            .unwrap_or(0)
        }
    }

    /// Asks the server to shut down (it says `BYE:shutdown` to every client and closes the database).
    pub fn stop(&self) {
        if let Ok(mut stop) = self.stop.lock()
            && let Some(stop) = stop.take()
        {
            let _ = stop.send(());
        }
    }
}

/// Starts the server on `addr` with its data under `data_dir`. Returns once it is listening, so the
/// login that follows cannot race the bind.
pub async fn host(addr: String, data_dir: PathBuf) -> Result<Hosted, EmbeddedError> {
    if !is_local(&addr) {
        return Err(EmbeddedError::NotLocal(addr));
    }
    // A loopback address in the settings means "this computer": listen on every interface so that other
    // computers on the LAN can log in too, while this app keeps connecting over loopback.
    let bind = match addr.parse::<SocketAddr>() {
        Ok(sa) if sa.ip().is_loopback() => {
            SocketAddr::new(IpAddr::from([0, 0, 0, 0]), sa.port()).to_string()
        }
        _ => addr.clone(),
    };
    let listener = tokio::net::TcpListener::bind(bind.as_str())
        .await
        .map_err(|source| EmbeddedError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| EmbeddedError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let config = ququ_server::Config::new(data_dir);
    // The data directory's lock and the database are taken here, not in the server's task, so that a
    // directory another server holds, or a database that cannot be opened, is said in the login window
    // instead of a server that silently never starts.
    let (lock, store, config) = tokio::task::spawn_blocking(move || {
        ququ_server::open_data_dir(&config).map(|(lock, store)| (lock, store, config))
    })
    .await
    .map_err(|e| ququ_server::Error::Io(std::io::Error::other(e)))??;
    let store = Arc::new(store);
    let served = store.clone();
    tokio::spawn(async move {
        let _lock = lock;
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = ququ_server::run_with_store(listener, config, served, shutdown).await {
            eprintln!("ququ: the embedded server stopped: {e}");
        }
    });
    // What to tell people on other computers: this machine's LAN address, when it has one.
    let label = match local_ip_address::local_ip() {
        Ok(ip) if local.ip().is_unspecified() && !ip.is_loopback() => {
            SocketAddr::new(ip, local.port()).to_string()
        }
        _ => SocketAddr::new(
            if local.ip().is_unspecified() {
                IpAddr::from([127, 0, 0, 1])
            } else {
                local.ip()
            },
            local.port(),
        )
        .to_string(),
    };
    Ok(Hosted {
        addr: local,
        label,
        request: addr,
        stop: Arc::new(Mutex::new(Some(stop))),
        store,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_addresses() {
        assert!(is_local("127.0.0.1:8899"));
        assert!(is_local("localhost:8899"));
        assert!(is_local("[::1]:8899"));
        assert!(is_local("0.0.0.0:1"));
        assert!(!is_local("192.0.2.1:8899"));
        assert!(!is_local("example.com:8899"));
        assert!(!is_local("nonsense"));
    }

    #[tokio::test]
    async fn refused_means_nothing_listening() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        assert!(!nothing_listening(addr.clone()).await);
        drop(listener);
        assert!(nothing_listening(addr).await);
    }

    #[tokio::test]
    async fn hosts_a_server_that_answers() {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let dir = tempfile::tempdir().unwrap();
        let hosted = host("127.0.0.1:0".into(), dir.path().join("server"))
            .await
            .unwrap();
        // It listens on every interface; this computer reaches it over loopback.
        assert!(hosted.addr.ip().is_unspecified());
        let local = SocketAddr::from(([127, 0, 0, 1], hosted.addr.port()));
        let mut stream = tokio::net::TcpStream::connect(local).await.unwrap();
        stream.write_all(b"PING:7\n").await.unwrap();
        let mut line = String::new();
        BufReader::new(&mut stream)
            .read_line(&mut line)
            .await
            .unwrap();
        assert_eq!(line.trim_end(), "PONG:7");
        assert!(
            dir.path().join("server").exists(),
            "the database lives under the app's data dir"
        );
        hosted.stop();
        assert!(
            host("192.0.2.1:1".into(), dir.path().into()).await.is_err(),
            "only local addresses"
        );
    }

    /// A data directory another server holds is refused in words, not left to a server that never starts.
    #[tokio::test]
    async fn a_data_directory_in_use_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let first = host("127.0.0.1:0".into(), dir.path().join("server"))
            .await
            .unwrap();
        let second = host("127.0.0.1:0".into(), dir.path().join("server")).await;
        let err = second.expect_err("two servers on one data directory");
        assert!(err.to_string().contains("in use"), "{err}");
        first.stop();
    }
}
