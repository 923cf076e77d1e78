//! TLS for the listener: load a certificate and key (PEM), or make a self-signed pair for `gen-cert`.
//!
//! rustls with the `ring` provider; TLS 1.2 and 1.3 with rustls's safe defaults. A self-signed certificate
//! is trusted by clients pinning its fingerprint ([`ququ_protocol::fingerprint`]) on first use, so the
//! names in it matter little; a real certificate (Let's Encrypt and the like) is checked against the
//! usual roots by the clients and needs no pinning.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("cannot read the TLS private key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("the TLS certificate and key do not make a usable pair: {0}")]
    Config(#[from] rustls::Error),
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} already exists; remove it first, or pick another --out directory")]
    Exists(PathBuf),
}

/// A loaded certificate and key, ready to accept connections.
#[derive(Clone)]
pub struct Tls {
    pub acceptor: TlsAcceptor,
    /// The fingerprint of the server's own certificate, for the operator to hand to users.
    pub fingerprint: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// Reads a PEM certificate chain (server certificate first) and its PEM private key.
pub fn load(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
    let cert_error = |reason: String| TlsError::Certificate {
        path: cert.to_owned(),
        reason,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_error(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    let Some(first) = chain.first() else {
        return Err(cert_error("no CERTIFICATE block in the file".into()));
    };
    let fingerprint = ququ_protocol::fingerprint::of_certificate(first);
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.to_owned(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private)?;
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        fingerprint,
    })
}

/// The certificate `config` names, if any.
pub fn load_configured(config: &crate::Config) -> Result<Option<Tls>, TlsError> {
    config
        .tls
        .as_ref()
        .map(|files| load(&files.cert, &files.key))
        .transpose()
}

/// Where `gen-cert` writes by default: `cert.pem` and `key.pem` in `dir`.
pub fn default_paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// Makes a self-signed certificate for `names` (DNS names or IP addresses) and writes it and its key
/// (readable by the owner only) to `cert` and `key`. Refuses to overwrite. Returns the fingerprint.
pub fn generate(names: &[String], cert: &Path, key: &Path) -> Result<String, TlsError> {
    for path in [cert, key] {
        if path.exists() {
            return Err(TlsError::Exists(path.to_owned()));
        }
    }
    let made = rcgen::generate_simple_self_signed(names.to_vec())?;
    let fingerprint = ququ_protocol::fingerprint::of_certificate(made.cert.der());
    write_file(cert, made.cert.pem().as_bytes(), false)?;
    write_file(key, made.signing_key.serialize_pem().as_bytes(), true)?;
    Ok(fingerprint)
}

fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), TlsError> {
    use std::io::Write;
    let failed = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_loads_with_the_same_fingerprint_and_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = default_paths(dir.path());
        let made = generate(&["localhost".into(), "127.0.0.1".into()], &cert, &key).unwrap();
        let loaded = load(&cert, &key).unwrap();
        assert_eq!(loaded.fingerprint, made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the key is the owner's only");
        }
        assert!(matches!(
            generate(&["localhost".into()], &cert, &key),
            Err(TlsError::Exists(_))
        ));
    }

    #[test]
    fn a_missing_or_garbled_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = default_paths(dir.path());
        let err = load(&cert, &key).unwrap_err().to_string();
        assert!(err.contains("cert.pem"), "{err}");
        std::fs::write(&cert, "not a certificate").unwrap();
        let err = load(&cert, &key).unwrap_err().to_string();
        assert!(err.contains("no CERTIFICATE block"), "{err}");
    }
}
