//! A TLS front for a local test server: accepts https on loopback with the test
//! certificate in tests/fixtures/azure/tls (a throwaway CA and a leaf for
//! IP 127.0.0.1; see the README there) and pipes the bytes to the plain-HTTP
//! server behind it. The built binary, which only speaks https to ARM and Entra ID,
//! reaches the stand-ins through it with `SSL_CERT_FILE` naming the test CA.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

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
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert)], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)))
        .expect("TLS config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut plain) = TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}
