//! TLS to PostgreSQL: libpq's `sslmode` and `sslrootcert` in the connection string, over rustls with
//! the `ring` provider (as the listener's own TLS, [`crate::tls`]).
//!
//! The `postgres` crate reads `sslmode` only up to `require` and nothing about certificates, and takes
//! a TLS connector of the caller's choosing. So the connection string is read here first: `sslmode`
//! and `sslrootcert` are taken out and the rest goes to [`postgres::Config`], so an operator writes the
//! same string as for `psql`:
//!
//! | `sslmode`             | encrypted                    | certificate checked                        |
//! |-----------------------|------------------------------|--------------------------------------------|
//! | `disable`             | never                        | —                                          |
//! | `allow`, `prefer` (default) | if the server offers it | against `sslrootcert` if given, else not |
//! | `require`             | always                       | against `sslrootcert` if given, else not   |
//! | `verify-ca`           | always                       | signed by `sslrootcert`                    |
//! | `verify-full`         | always                       | signed by `sslrootcert`, for the host name |
//!
//! as libpq does, except that `allow` is taken as `prefer`, and there is no default root file
//! (`~/.postgresql/root.crt`) nor `sslrootcert=system`: the CA is named, or nothing is checked. Client
//! certificates (`sslcert`, `sslkey`) are refused with a clear error; Ququ logs in with a password.
//! SCRAM runs without channel binding (the server's end-point hash is not computed), which PostgreSQL
//! accepts unless the role demands it.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::Socket;
use postgres::config::SslMode;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `sslmode`, as libpq spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A connection string with Ququ's part of it taken out.
#[derive(Debug, PartialEq, Eq)]
struct Split {
    mode: Mode,
    root: Option<PathBuf>,
    /// Everything else, for [`postgres::Config`].
    rest: String,
}

/// What a connection string says: where to connect, and how to wrap the connection.
pub(super) struct Target {
    pub config: postgres::Config,
    pub tls: MakeTls,
}

/// Reads a libpq connection string (`key=value …` or a `postgres://` URL), TLS settings included.
/// The error is for the operator, in libpq's terms.
pub(super) fn target(url: &str) -> Result<Target, String> {
    let split = split(url)?;
    let mut config: postgres::Config = split
        .rest
        .parse()
        .map_err(|e: postgres::Error| e.to_string())?;
    config.ssl_mode(match split.mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    });
    let check = match (split.mode, split.root) {
        (Mode::VerifyFull, Some(root)) => Check::Full(root),
        (Mode::VerifyCa | Mode::Require | Mode::Prefer, Some(root)) => Check::Chain(root),
        (Mode::VerifyCa | Mode::VerifyFull, None) => {
            return Err(format!(
                "sslmode={} needs sslrootcert=<file>: the CA certificate (PEM) that signed the \
                 database server's certificate",
                if split.mode == Mode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                }
            ));
        }
        // `disable` never connects with TLS: a root file beside it changes nothing, as in libpq.
        (Mode::Disable, _) | (Mode::Prefer | Mode::Require, None) => Check::Nothing,
    };
    let tls = MakeTls::new(check)?;
    Ok(Target { config, tls })
}

/// The connection string without its TLS settings, for [`super::describe`].
pub(super) fn without_tls(url: &str) -> Option<String> {
    split(url).ok().map(|s| s.rest)
}

/// Takes `sslmode` and `sslrootcert` out of `url`.
fn split(url: &str) -> Result<Split, String> {
    let mut mode = Mode::Prefer;
    let mut root = None;
    let mut take = |key: &str, value: String| -> Result<bool, String> {
        match key {
            "sslmode" => {
                mode = match value.as_str() {
                    "disable" => Mode::Disable,
                    "allow" | "prefer" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(format!(
                            "sslmode={other} is not one of disable, allow, prefer, require, \
                             verify-ca, verify-full"
                        ));
                    }
                };
                Ok(true)
            }
            "sslrootcert" if value == "system" => Err(
                "sslrootcert=system is not supported: name the CA certificate file (PEM)".into(),
            ),
            "sslrootcert" => {
                root = Some(PathBuf::from(value));
                Ok(true)
            }
            "sslcert" | "sslkey" | "sslpassword" => Err(format!(
                "{key}: client certificates are not supported; Ququ logs in to PostgreSQL with a \
                 password (over TLS with sslmode=verify-full)"
            )),
            _ => Ok(false),
        }
    };
    let rest = if let Some(query_at) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .and_then(|_| url.find('?'))
    {
        let (base, query) = url.split_at(query_at);
        let mut kept = Vec::new();
        for pair in query[1..].split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !take(&decode(key)?, decode(value)?)? {
                kept.push(pair);
            }
        }
        if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url.to_owned()
    } else {
        let mut kept = Vec::new();
        for (key, value, raw) in pairs(url)? {
            if !take(key, value)? {
                kept.push(raw);
            }
        }
        kept.join(" ")
    };
    Ok(Split { mode, root, rest })
}

/// The `key=value` pairs of a libpq connection string in its key-value form, each with the text it
/// was written as: a value is a run of non-blank characters or quoted in `'…'`, and `\` escapes the
/// next character in either.
fn pairs(s: &str) -> Result<Vec<(&str, String, &str)>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let start = rest;
        let Some(eq) = rest.find('=') else {
            return Err(format!("\"{}\" has no \"=\"", rest.trim_end()));
        };
        let key = rest[..eq].trim_end();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("\"{key}\" is not a connection setting"));
        }
        rest = rest[eq + 1..].trim_start();
        let mut value = String::new();
        let quoted = rest.starts_with('\'');
        let mut chars = rest.char_indices().skip(usize::from(quoted));
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => return Err(format!("{key}: a \"\\\" ends the string")),
                },
                '\'' if quoted => {
                    end = Some(i + 1);
                    break;
                }
                c if !quoted && c.is_whitespace() => {
                    end = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = match end {
            Some(end) => end,
            None if quoted => return Err(format!("{key}: a quote is not closed")),
            None => rest.len(),
        };
        let raw_len = start.len() - rest.len() + end;
        out.push((key, value, &start[..raw_len]));
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

/// Percent-decodes a part of a URL's query.
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = s
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| format!("\"{s}\" has a \"%\" not followed by two hex digits"))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("\"{s}\" is not UTF-8 once decoded"))
}

/// How far the database server's certificate is checked.
enum Check {
    Nothing,
    /// Signed by the CA in this file, whatever host it names.
    Chain(PathBuf),
    /// Signed by the CA in this file, and naming the host connected to.
    Full(PathBuf),
}

/// The TLS connector the pool and the leader's connection connect with.
#[derive(Clone)]
pub struct MakeTls {
    config: Arc<rustls::ClientConfig>,
    checked: bool,
}

impl MakeTls {
    fn new(check: Check) -> Result<MakeTls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = match &check {
            Check::Nothing => None,
            Check::Chain(root) | Check::Full(root) => Some(
                WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots(root)?),
                    provider.clone(),
                )
                .build()
                .map_err(|e| format!("sslrootcert={}: {e}", root.display()))?,
            ),
        };
        let verifier = Arc::new(Verifier {
            provider: provider.clone(),
            chain,
            names: matches!(check, Check::Full(_)),
        });
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeTls {
            config: Arc::new(config),
            checked: !matches!(check, Check::Nothing),
        })
    }

    /// Whether the server's certificate is checked (`sslrootcert` given): without it, TLS keeps the
    /// connection from being read on the way, not from being taken over by whoever answers.
    pub fn checked(&self) -> bool {
        self.checked
    }
}

/// The CA certificates in the PEM file `path`.
fn roots(path: &Path) -> Result<rustls::RootCertStore, String> {
    let failed = |reason: String| format!("sslrootcert={}: {reason}", path.display());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| failed(e.to_string()))? {
        roots
            .add(cert.map_err(|e| failed(e.to_string()))?)
            .map_err(|e| failed(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(failed("no CERTIFICATE block in the file".into()));
    }
    Ok(roots)
}

impl MakeTlsConnect<Socket> for MakeTls {
    type Stream = Tls;
    type TlsConnect = Connect;
    type Error = io::Error;

    /// Called for every host before connecting, a Unix socket's directory too (over which TLS is
    /// never used): so a host that is no name for a certificate fails only at a handshake.
    fn make_tls_connect(&mut self, host: &str) -> io::Result<Connect> {
        Ok(Connect {
            config: self.config.clone(),
            host: host.to_owned(),
        })
    }
}

/// One connection's handshake, to come.
pub struct Connect {
    config: Arc<rustls::ClientConfig>,
    host: String,
}

impl TlsConnect<Socket> for Connect {
    type Stream = Tls;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Tls>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        Box::pin(async move {
            let name = ServerName::try_from(self.host).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the host is no name for a TLS certificate: {e}"),
                )
            })?;
            let connector = tokio_rustls::TlsConnector::from(self.config);
            match connector.connect(name, stream).await {
                Ok(stream) => Ok(Tls(stream)),
                Err(e) => Err(explained(e)),
            }
        })
    }
}

/// A refused certificate said in the operator's terms, the rest as rustls says it.
fn explained(e: io::Error) -> io::Error {
    use rustls::CertificateError::{NotValidForName, NotValidForNameContext, UnknownIssuer};
    let Some(rustls::Error::InvalidCertificate(why)) =
        e.get_ref().and_then(|inner| inner.downcast_ref())
    else {
        return e;
    };
    let hint = match why {
        UnknownIssuer => "the database server's certificate is not signed by the CA in sslrootcert",
        NotValidForName | NotValidForNameContext { .. } => {
            "the host in the connection string is not a name in the database server's \
             certificate (sslmode=verify-ca checks only who signed it)"
        }
        _ => return e,
    };
    io::Error::new(e.kind(), format!("{hint}: {e}"))
}

/// A connection to PostgreSQL inside TLS.
pub struct Tls(tokio_rustls::client::TlsStream<Socket>);

impl TlsStream for Tls {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// How a database server's certificate is taken: as libpq's `sslmode` says (see the table at the top).
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    /// The CA to check the chain against; `None` takes any certificate (`prefer` and `require` without
    /// `sslrootcert`, as libpq does). The handshake's signatures are checked either way, so the session
    /// is with the holder of the certificate's key.
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// Whether the certificate must name the host (`verify-full`), or only be signed (`verify-ca`).
    names: bool,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain first and the name last, so a name error means the chain held.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            checked => checked,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_are_taken_out_of_a_url_and_the_rest_kept() {
        let s = split(
            "postgres://ququ:pw@db1:5432/ququ?sslmode=verify-full&sslrootcert=%2Fetc%2Fququ%2Fca%20db.pem\
             &connect_timeout=5",
        )
        .unwrap();
        assert_eq!(s.mode, Mode::VerifyFull);
        assert_eq!(s.root, Some(PathBuf::from("/etc/ququ/ca db.pem")));
        assert_eq!(s.rest, "postgres://ququ:pw@db1:5432/ququ?connect_timeout=5");
        let s = split("postgresql://db1/ququ?sslmode=require").unwrap();
        assert_eq!((s.mode, s.root), (Mode::Require, None));
        assert_eq!(s.rest, "postgresql://db1/ququ");
        // No query, or none of Ququ's: unchanged, prefer as libpq's default.
        for url in [
            "postgres://db1/ququ",
            "postgres://db1/ququ?application_name=x",
        ] {
            assert_eq!(
                split(url).unwrap(),
                Split {
                    mode: Mode::Prefer,
                    root: None,
                    rest: url.into()
                }
            );
        }
    }

    #[test]
    fn tls_settings_are_taken_out_of_key_value_pairs_quoted_or_not() {
        let s = split(
            "host=db1 user=ququ  password='it''s \\'secret\\' x' sslmode = verify-ca \
             sslrootcert='/etc/ququ/my ca.pem' dbname=ququ",
        );
        // `''` is not an escape in libpq: the quote closes, and what follows is not a setting.
        assert!(s.is_err(), "{s:?}");
        let s = split(
            "host=db1 user=ququ  password='it\\'s secret' sslmode = verify-ca \
             sslrootcert='/etc/ququ/my ca.pem' dbname=ququ",
        )
        .unwrap();
        assert_eq!(s.mode, Mode::VerifyCa);
        assert_eq!(s.root, Some(PathBuf::from("/etc/ququ/my ca.pem")));
        assert_eq!(
            s.rest,
            "host=db1 user=ququ password='it\\'s secret' dbname=ququ"
        );
        let config: postgres::Config = s.rest.parse().unwrap();
        assert_eq!(config.get_password(), Some(&b"it's secret"[..]));
        assert_eq!(split("sslmode=disable").unwrap().mode, Mode::Disable);
        assert_eq!(split("host=/run/pg").unwrap().mode, Mode::Prefer);
    }

    #[test]
    fn settings_ququ_cannot_honour_are_refused_saying_why() {
        let refused = |url: &str| match target(url) {
            Ok(_) => panic!("{url} was taken"),
            Err(e) => e,
        };
        let e = refused("host=db1 sslmode=verify-full");
        assert!(e.contains("needs sslrootcert="), "{e}");
        let e = refused("postgres://db1/ququ?sslmode=verify-ca");
        assert!(e.contains("sslmode=verify-ca needs sslrootcert="), "{e}");
        let e = refused("host=db1 sslmode=secure");
        assert!(e.contains("sslmode=secure is not one of"), "{e}");
        let e = refused("host=db1 sslcert=/c.pem sslkey=/k.pem");
        assert!(e.contains("client certificates are not supported"), "{e}");
        let e = refused("host=db1 sslmode=verify-full sslrootcert=system");
        assert!(e.contains("sslrootcert=system is not supported"), "{e}");
        let e = refused("host=db1 sslmode=verify-full sslrootcert=/no/such/ca.pem");
        assert!(e.starts_with("sslrootcert=/no/such/ca.pem: "), "{e}");
        let e = refused("host=db1 password='open");
        assert!(e.contains("not closed"), "{e}");
        let e = refused("postgres://db1/ququ?sslrootcert=%zz");
        assert!(e.contains("two hex digits"), "{e}");
    }

    #[test]
    fn a_certificate_file_with_no_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let url = format!(
            "host=db1 sslmode=verify-full sslrootcert={}",
            empty.display()
        );
        let e = target(&url).err().expect("an empty CA file was taken");
        assert!(e.ends_with("no CERTIFICATE block in the file"), "{e}");
    }

    #[test]
    fn the_mode_reaches_the_client_and_checking_follows_the_root_file() {
        let t = target("host=db1 sslmode=disable").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Disable);
        let t = target("host=db1").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Prefer);
        assert!(!t.tls.checked());
        let t = target("host=db1 sslmode=require").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        assert!(!t.tls.checked());
    }
}
