//! TLS for `packyard serve --tls-cert --tls-key`: rustls with HTTP/2 offered by ALPN, and the
//! certificate re-read when its files change, so certificates rotate without a restart (a new
//! pair is checked before it replaces the old one; a broken pair is logged and the old one
//! kept).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// How often the certificate files are looked at for changes.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--tls-cert {path}: {reason}")]
    Certificate { path: String, reason: String },
    #[error("--tls-key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the key does not fit the certificate: {0}")]
    Mismatch(String),
}

/// The certificate and key files, and the pair in use.
#[derive(Debug)]
pub struct ReloadingCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' modification times when the pair in use was read.
    read_at: RwLock<(Option<SystemTime>, Option<SystemTime>)>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn load(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| TlsError::Certificate {
            path: cert_path.display().to_string(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: cert_path.display().to_string(),
            reason: "no PEM certificate in the file".to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| TlsError::Key {
        path: key_path.display().to_string(),
        reason: e.to_string(),
    })?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| TlsError::Mismatch(e.to_string()))?;
    Ok(certified)
}

impl ReloadingCert {
    /// Reads the pair; fails when it cannot be used.
    pub fn open(cert_path: &Path, key_path: &Path) -> Result<Arc<ReloadingCert>, TlsError> {
        let read_at = (modified(cert_path), modified(key_path));
        let certified = load(cert_path, key_path)?;
        Ok(Arc::new(ReloadingCert {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            current: RwLock::new(Arc::new(certified)),
            read_at: RwLock::new(read_at),
        }))
    }

    /// Reads the pair again if either file changed; true when a new pair is in use.
    pub fn reload_if_changed(&self) -> bool {
        let now = (modified(&self.cert_path), modified(&self.key_path));
        if self.read_at.read().is_ok_and(|read_at| *read_at == now) {
            return false;
        }
        match load(&self.cert_path, &self.key_path) {
            Ok(certified) => {
                if let Ok(mut current) = self.current.write() {
                    *current = Arc::new(certified);
                }
                if let Ok(mut read_at) = self.read_at.write() {
                    *read_at = now;
                }
                tracing::info!(cert = %self.cert_path.display(), "TLS certificate reloaded");
                true
            }
            // Half-written files (the key before the certificate, say): tried again next time.
            Err(error) => {
                tracing::warn!(%error, "TLS certificate not reloaded; the previous one stays in use");
                false
            }
        }
    }

    /// Watches the files for the life of the process.
    pub fn watch(self: &Arc<Self>) {
        let watched = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("packyard-tls-reload".to_owned())
            .spawn(move || {
                while let Some(cert) = watched.upgrade() {
                    cert.reload_if_changed();
                    drop(cert);
                    std::thread::sleep(RELOAD_EVERY);
                }
            })
            .expect("spawn the TLS reload thread");
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|current| current.clone())
    }
}

/// The server side of TLS: the reloading certificate, HTTP/2 and HTTP/1.1 by ALPN.
pub fn acceptor(cert: Arc<ReloadingCert>) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the provider supports the default TLS versions")
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}
