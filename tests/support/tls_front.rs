//! A TLS front for a local test server: accepts https on loopback with the test
//! certificate in tests/fixtures/azure/tls (a throwaway CA and a leaf for
//! IP 127.0.0.1; see the README there) and pipes the bytes to the plain-HTTP
//! server behind it. The built binary, which only speaks https to ARM and Entra ID,
//! reaches the stand-ins through it with `SSL_CERT_FILE` naming the test CA.
//!
//! [`Pki`] makes a throwaway CA in the test itself (rcgen) and leaves signed by
//! it: one for 127.0.0.1, one long expired, one for another host name, so the
//! TLS tests can serve each certificate problem with [`start_with`].
#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/azure/tls")
}

/// The CA to trust (PEM), for `SSL_CERT_FILE`.
pub fn ca_file() -> PathBuf {
    tls_dir().join("ca.pem")
}

/// Listen on a free loopback port; each connection is TLS-terminated and piped to
/// `backend`. Runs until the runtime ends. Returns the front's address.
pub async fn start(backend: SocketAddr) -> SocketAddr {
    let cert = std::fs::read(tls_dir().join("leaf.der")).expect("test leaf certificate");
    let key = std::fs::read(tls_dir().join("leaf.key.der")).expect("test leaf key");
    start_with(backend, Leaf { chain: vec![CertificateDer::from(cert)], key }).await.addr
}

/// A running front: its address and how many connections it has accepted (each a
/// handshake tried: a retry would show here).
#[derive(Clone)]
pub struct Front {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl Front {
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// A server certificate (and its chain up to, not including, the CA) with its key.
#[derive(Clone)]
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    /// PKCS#8 DER.
    pub key: Vec<u8>,
}

/// Which leaf a [`Pki`] signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    /// For IP 127.0.0.1 and localhost, valid now.
    Good,
    /// For 127.0.0.1, but valid only in 2020.
    Expired,
    /// Valid now, but for `api.example.invalid` only.
    OtherHost,
}

/// A throwaway certificate authority, its PEM written to a temporary file.
pub struct Pki {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    dir: tempfile::TempDir,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, format!("opsdeck test CA {name}"));
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let key = rcgen::KeyPair::generate().expect("CA key");
        let issuer = rcgen::CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), issuer.pem()).expect("write CA");
        Pki { issuer, dir }
    }

    /// The CA as a PEM file, for `ca_file` or `SSL_CERT_FILE`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A leaf of `kind` signed by this CA.
    pub fn leaf(&self, kind: LeafKind) -> Leaf {
        let names = match kind {
            LeafKind::Good | LeafKind::Expired => vec!["localhost".to_string()],
            LeafKind::OtherHost => vec!["api.example.invalid".to_string()],
        };
        let mut params = rcgen::CertificateParams::new(names).expect("leaf params");
        if kind != LeafKind::OtherHost {
            params.subject_alt_names.push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
        }
        params.distinguished_name.push(rcgen::DnType::CommonName, "opsdeck test server");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        if kind == LeafKind::Expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        } else {
            params.not_before = rcgen::date_time_ymd(2024, 1, 1);
            params.not_after = rcgen::date_time_ymd(2099, 12, 31);
        }
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        Leaf { chain: vec![cert.der().clone()], key: key.serialize_der() }
    }
}

/// Like [`start`], serving `leaf`.
pub async fn start_with(backend: SocketAddr, leaf: Leaf) -> Front {
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(leaf.chain, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key)))
        .expect("TLS config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut plain) = TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    Front { addr, accepted }
}
