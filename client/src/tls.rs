//! Reaching the server: plain TCP, or TLS with the server's certificate checked the way SSH checks a host
//! key.
//!
//! A certificate that chains to a well-known root (Mozilla's list, compiled in) for the server's name is
//! accepted as a browser would. Anything else — a self-signed certificate from `ququ-server gen-cert` —
//! is accepted only if its fingerprint was pinned for this server in `known_servers` (in the client's data
//! directory). The first connection to an unknown one stops with [`StopReason::UnknownCertificate`] so
//! the user can compare the fingerprint with the operator's and call [`trust`]; a pinned server whose
//! certificate changed is refused with [`StopReason::CertificateChanged`], loudly, until the user forgets
//! the old pin ([`forget`]).
//!
//! [`StopReason::UnknownCertificate`]: crate::event::StopReason::UnknownCertificate
//! [`StopReason::CertificateChanged`]: crate::event::StopReason::CertificateChanged

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The file of pinned fingerprints in a data directory: one `<server> <fingerprint>` per line.
pub const KNOWN_SERVERS: &str = "known_servers";

/// Why a connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to {server}: {error}")]
    Connect { server: String, error: String },
    #[error("connecting to {0} timed out")]
    Timeout(String),
    #[error("TLS with {server} failed: {error}")]
    Tls { server: String, error: String },
    /// Self-signed or otherwise unverifiable, and not pinned: ask the user.
    #[error(
        "{server} presents a certificate this computer has not seen before (fingerprint {fingerprint})"
    )]
    Unknown { server: String, fingerprint: String },
    /// Pinned, and now different: someone may be in the middle.
    #[error(
        "the certificate of {server} has CHANGED (pinned {pinned}, now {presented}); refusing to connect"
    )]
    Changed {
        server: String,
        pinned: String,
        presented: String,
    },
}

/// A pin file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct PinError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// An open connection, whichever kind.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}
pub(crate) type Stream = Box<dyn Io>;

/// Opens a TCP connection to `addr`, refusing one that reached itself.
///
/// A client that keeps retrying a port nobody listens on in the ephemeral range (a server this computer
/// is about to host) can be given that very port as its own source port: the kernel then connects the
/// socket to itself (TCP simultaneous open), the "server" answers with the client's own words, and the
/// port stays taken, so the real server cannot listen there. A clean-clone CI run hit it: "cannot listen
/// on 127.0.0.1:41973: Address already in use". Such a connection is dropped and reported refused, which
/// is the truth: nothing listens there.
pub async fn connect_tcp(addr: &str) -> std::io::Result<TcpStream> {
    let tcp = TcpStream::connect(addr).await?;
    if connected_to_itself(&tcp) {
        drop(tcp);
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused (nothing listens there; the attempt reached itself)",
        ));
    }
    Ok(tcp)
}

fn connected_to_itself(tcp: &TcpStream) -> bool {
    matches!((tcp.local_addr(), tcp.peer_addr()), (Ok(local), Ok(peer)) if local == peer)
}

/// The addresses in a server setting: one `host:port`, or several separated by commas — the nodes of
/// one service (a cluster, or a standby), tried in turn. Blanks around each are ignored.
pub fn addresses(server: &str) -> Vec<&str> {
    server
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect()
}

/// How to open connections to one server (one address, or several nodes of it); cheap to clone (the
/// chat connection and every file worker share it).
#[derive(Clone)]
pub(crate) struct Connector {
    /// The setting as given: it names the service (its pin, its database, errors about it as a whole).
    pub server: String,
    addresses: Arc<[String]>,
    /// The address that answered last: tried first next time, and by the file workers, so a client
    /// stays on the node it is on until that node fails.
    current: Arc<AtomicUsize>,
    tls: Option<Arc<Setup>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("server", &self.server)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

struct Setup {
    /// The pin for this server, read once: pins change only while no client runs (the user trusts or
    /// forgets a certificate after a stop, then starts again). A pin file that cannot be read fails
    /// every TLS attempt, naming it.
    pinned: Result<Option<String>, String>,
    provider: Arc<CryptoProvider>,
    roots: Arc<WebPkiServerVerifier>,
}

impl Connector {
    /// `tls` with pins kept in `data_dir`. Reads the pin file (small) when `tls`.
    pub(crate) fn new(server: &str, tls: bool, data_dir: &Path) -> Connector {
        let server = server.trim().to_owned();
        let tls = tls.then(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let roots =
                rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let roots =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .expect("Mozilla's roots make a valid verifier");
            Arc::new(Setup {
                pinned: pinned(data_dir, &server).map_err(|e| e.to_string()),
                provider,
                roots,
            })
        });
        let addresses: Arc<[String]> = addresses(&server).into_iter().map(str::to_owned).collect();
        Connector {
            server,
            addresses,
            current: Arc::new(AtomicUsize::new(0)),
            tls,
        }
    }

    /// Connects (and shakes hands, for TLS), each address within `timeout`: the one that answered last
    /// first, then the others in order, until one answers. A node that is down or unreachable moves on
    /// to the next; a certificate to decide about does not (every node serves the same one, so the
    /// next would ask the same). A host name with several addresses is itself tried address by address.
    pub(crate) async fn connect(&self, timeout: Duration) -> Result<Stream, ConnectError> {
        let count = self.addresses.len();
        let first = self.current.load(Ordering::Relaxed);
        let mut failed = ConnectError::Connect {
            server: self.server.clone(),
            error: "no address".to_owned(),
        };
        for i in (0..count).map(|k| (first + k) % count) {
            let address = &self.addresses[i];
            let result = match tokio::time::timeout(timeout, self.open(address)).await {
                Ok(result) => result,
                Err(_) => Err(ConnectError::Timeout(address.clone())),
            };
            match result {
                Ok(stream) => {
                    self.current.store(i, Ordering::Relaxed);
                    return Ok(stream);
                }
                Err(e @ (ConnectError::Unknown { .. } | ConnectError::Changed { .. })) => {
                    return Err(e);
                }
                Err(e) => failed = e,
            }
        }
        Err(failed)
    }

    async fn open(&self, address: &str) -> Result<Stream, ConnectError> {
        let server = address.to_owned();
        let tcp = connect_tcp(&server)
            .await
            .map_err(|e| ConnectError::Connect {
                server: server.clone(),
                error: e.to_string(),
            })?;
        let _ = tcp.set_nodelay(true);
        let Some(setup) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let tls_error = |error: String| ConnectError::Tls {
            server: server.clone(),
            error,
        };
        let pinned = setup.pinned.clone().map_err(tls_error)?;
        let seen = Arc::new(Mutex::new(None));
        let verifier = Arc::new(Pinning {
            pinned: pinned.clone(),
            setup: setup.clone(),
            seen: seen.clone(),
        });
        let config = rustls::ClientConfig::builder_with_provider(setup.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        let name = ServerName::try_from(host_of(&server).to_owned())
            .map_err(|e| tls_error(format!("{server} is not a valid server name: {e}")))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        match connector.connect(name, tcp).await {
            Ok(stream) => Ok(Box::new(stream)),
            Err(e) => {
                let presented = seen.lock().unwrap_or_else(|e| e.into_inner()).take();
                // These name the setting, not the node: the pin is the service's ([`trust`]).
                let service = self.server.clone();
                Err(match (presented, pinned) {
                    (Some(presented), Some(pinned)) => ConnectError::Changed {
                        server: service,
                        pinned,
                        presented,
                    },
                    (Some(fingerprint), None) => ConnectError::Unknown {
                        server: service,
                        fingerprint,
                    },
                    (None, _) => tls_error(e.to_string()),
                })
            }
        }
    }
}

/// `host` of `host:port` (and of `[v6]:port`).
fn host_of(server: &str) -> &str {
    let host = server.rsplit_once(':').map_or(server, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Checks the certificate: a well-known root vouches for it, or it is the pinned one.
struct Pinning {
    pinned: Option<String>,
    setup: Arc<Setup>,
    /// The fingerprint of a certificate this refused, for the error the user sees.
    seen: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for Pinning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pinning")
            .field("pinned", &self.pinned)
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for Pinning {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = ququ_protocol::fingerprint::of_certificate(end_entity);
        if self.pinned.as_deref() == Some(presented.as_str()) {
            return Ok(ServerCertVerified::assertion());
        }
        let by_roots = self.setup.roots.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if by_roots.is_ok() {
            return by_roots;
        }
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(presented);
        Err(rustls::Error::General(
            "the certificate is neither pinned nor signed by a known authority".into(),
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.setup.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.setup.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.setup
            .provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn pin_error(path: &Path) -> impl Fn(std::io::Error) -> PinError + '_ {
    move |source| PinError {
        path: path.to_owned(),
        source,
    }
}

fn read_pins(path: &Path) -> Result<Vec<(String, String)>, PinError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(pin_error(path)(e)),
    };
    Ok(text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let (server, fingerprint) = l.trim().split_once(char::is_whitespace)?;
            Some((server.to_owned(), fingerprint.trim().to_owned()))
        })
        .collect())
}

fn write_pins(path: &Path, pins: &[(String, String)]) -> Result<(), PinError> {
    let mut text = String::from(
        "# Ququ: TLS certificates trusted on first use. <server> <SHA-256 fingerprint>\n",
    );
    for (server, fingerprint) in pins {
        text.push_str(&format!("{server} {fingerprint}\n"));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(pin_error(path))?;
    }
    // Written aside and renamed, so a crash never leaves half a file of pins.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(pin_error(path))?;
    std::fs::rename(&tmp, path).map_err(pin_error(path))
}

/// The fingerprint pinned for `server` in the data directory `data_dir`, if any.
pub fn pinned(data_dir: &Path, server: &str) -> Result<Option<String>, PinError> {
    let server = server.trim();
    Ok(read_pins(&data_dir.join(KNOWN_SERVERS))?
        .into_iter()
        .find(|(s, _)| s == server)
        .map(|(_, f)| f))
}

/// Pins `fingerprint` for `server` (replacing an earlier pin): the user compared it and trusts it.
pub fn trust(data_dir: &Path, server: &str, fingerprint: &str) -> Result<(), PinError> {
    let path = data_dir.join(KNOWN_SERVERS);
    let server = server.trim();
    let mut pins = read_pins(&path)?;
    pins.retain(|(s, _)| s != server);
    pins.push((server.to_owned(), fingerprint.to_owned()));
    write_pins(&path, &pins)
}

/// Removes the pin for `server`; the next connection asks again.
pub fn forget(data_dir: &Path, server: &str) -> Result<(), PinError> {
    let path = data_dir.join(KNOWN_SERVERS);
    let mut pins = read_pins(&path)?;
    pins.retain(|(s, _)| s != server.trim());
    write_pins(&path, &pins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_names_one_address_or_several() {
        assert_eq!(addresses("127.0.0.1:8899"), ["127.0.0.1:8899"]);
        assert_eq!(
            addresses(" n1.example.com:8899 ,n2.example.com:8899,, [::1]:1 "),
            ["n1.example.com:8899", "n2.example.com:8899", "[::1]:1"]
        );
        assert!(addresses(" , ").is_empty());
    }

    #[test]
    fn pins_are_per_server_replaced_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(pinned(dir.path(), "a:1").unwrap(), None);
        trust(dir.path(), "a:1", "AA").unwrap();
        trust(dir.path(), "b:1", "BB").unwrap();
        trust(dir.path(), " a:1 ", "CC").unwrap();
        assert_eq!(pinned(dir.path(), "a:1").unwrap().as_deref(), Some("CC"));
        assert_eq!(pinned(dir.path(), "b:1").unwrap().as_deref(), Some("BB"));
        forget(dir.path(), "a:1").unwrap();
        assert_eq!(pinned(dir.path(), "a:1").unwrap(), None);
        assert_eq!(pinned(dir.path(), "b:1").unwrap().as_deref(), Some("BB"));
    }

    /// The connection CI's smoke test met: a socket on 127.0.0.1:P connecting to 127.0.0.1:P, with
    /// nothing listening, is connected to itself on Linux. Made here on purpose (a socket bound to the
    /// port first) since `connect_tcp` cannot be made to pick that source port.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_connection_to_itself_is_told_from_a_real_one() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let own = socket.local_addr().unwrap();
        let looped = socket.connect(own).await.unwrap();
        assert!(connected_to_itself(&looped), "{own} connected to itself");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let real = connect_tcp(&addr.to_string()).await.unwrap();
        assert!(!connected_to_itself(&real));

        // Once the looped socket is gone nothing listens at `own`: refused, in those words.
        drop(looped);
        let refused = connect_tcp(&own.to_string()).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn hosts_are_taken_from_addresses() {
        assert_eq!(host_of("chat.example.com:8899"), "chat.example.com");
        assert_eq!(host_of("127.0.0.1:8899"), "127.0.0.1");
        assert_eq!(host_of("[::1]:8899"), "::1");
    }
}
