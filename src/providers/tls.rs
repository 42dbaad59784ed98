//! Private certificate authorities and TLS failures in words, for every source
//! that speaks HTTPS (AWS, Azure, Alibaba Cloud, Prometheus, Alertmanager, arbiters).
//!
//! A source's `ca_file` is a PEM bundle whose certificates are trusted *besides*
//! the system roots (which `SSL_CERT_FILE` replaces, as rustls-native-certs reads
//! it). The file is checked once, when the sources are built, so a wrong path or a
//! key file given by mistake is a startup error naming the file, not a poll that
//! fails later.
//!
//! A handshake that fails on the certificate (unknown issuer, expired, another host
//! name) is told in those words: [`problem`] finds rustls's error anywhere in an
//! error chain, so each provider can say it instead of "cannot connect" or, after
//! retries, "timed out".

use std::error::Error as StdError;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls::CertificateError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// What is wrong with a `ca_file`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaFileError {
    #[error("ca_file {}: cannot read it: {why}", .path.display())]
    Unreadable { path: PathBuf, why: String },
    #[error("ca_file {}: not a PEM file (no -----BEGIN CERTIFICATE----- block)", .path.display())]
    NotPem { path: PathBuf },
    #[error("ca_file {}: holds no certificate (only other PEM blocks, such as keys)", .path.display())]
    NoCertificate { path: PathBuf },
    #[error("ca_file {}: certificate {index} is unreadable: {why}", .path.display())]
    BadCertificate { path: PathBuf, index: usize, why: String },
}

/// The certificates of one `ca_file`, checked: each parses as a trust anchor.
#[derive(Debug, Clone)]
pub struct ExtraRoots {
    path: PathBuf,
    certs: Vec<CertificateDer<'static>>,
}

impl ExtraRoots {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<ExtraRoots, CaFileError> {
        let bytes = std::fs::read(path)
            .map_err(|e| CaFileError::Unreadable { path: path.to_path_buf(), why: e.to_string() })?;
        Self::parse(path, &bytes)
    }

    /// [`ExtraRoots::load`] for an optional setting.
    pub fn load_opt(path: Option<&Path>) -> Result<Option<ExtraRoots>, CaFileError> {
        path.map(ExtraRoots::load).transpose()
    }

    /// Check a bundle already read from `path` (named in the errors).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<ExtraRoots, CaFileError> {
        let path = path.to_path_buf();
        if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            return Err(CaFileError::NotPem { path });
        }
        let mut certs = Vec::new();
        for (i, item) in CertificateDer::pem_slice_iter(bytes).enumerate() {
            let index = i + 1;
            let cert =
                item.map_err(|e| CaFileError::BadCertificate { path: path.clone(), index, why: e.to_string() })?;
            // The same check rustls makes when the root store is built: done here, the
            // AWS SDK's client (which panics on an unparsable root) never sees a bad one.
            rustls::RootCertStore::empty().add(cert.clone()).map_err(|e| CaFileError::BadCertificate {
                path: path.clone(),
                index,
                why: e.to_string(),
            })?;
            certs.push(cert);
        }
        if certs.is_empty() {
            return Err(CaFileError::NoCertificate { path });
        }
        Ok(ExtraRoots { path, certs })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `builder` trusting these certificates as well as the system roots.
    pub fn add_to(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let certs: Vec<reqwest::Certificate> =
            self.certs.iter().filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok()).collect();
        builder.tls_certs_merge(certs)
    }

    /// The AWS SDK's trust store: the system roots plus these certificates.
    pub fn smithy_trust_store(&self) -> aws_smithy_http_client::tls::TrustStore {
        let mut store = aws_smithy_http_client::tls::TrustStore::default().with_native_roots(true);
        for cert in &self.certs {
            store.add_pem_certificate(to_pem(cert));
        }
        store
    }
}

/// `builder` with `roots` added when there are any.
pub fn with_roots(builder: reqwest::ClientBuilder, roots: Option<&ExtraRoots>) -> reqwest::ClientBuilder {
    match roots {
        Some(r) => r.add_to(builder),
        None => builder,
    }
}

/// One certificate as a PEM block (re-encoded from the checked DER, so what the SDK
/// parses again is exactly what was checked).
fn to_pem(cert: &CertificateDer<'_>) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out.into_bytes()
}

/// A TLS failure already put in words (carried through SDKs that wrap errors, such
/// as azure_core, so the words survive and no retry policy takes it for a blip).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsFailure(pub String);

/// The TLS problem somewhere in `err`'s chain, in words, or `None` when it is not one.
/// `io::Error`s are looked into too: hyper-rustls and tokio-rustls nest rustls's
/// error inside them, where `source()` does not reach.
pub fn problem(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    let mut depth = 0;
    while let Some(e) = next {
        if let Some(words) = words_of(e) {
            return Some(words);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(words) = problem(inner)
        {
            return Some(words);
        }
        depth += 1;
        if depth > 32 {
            break;
        }
        next = e.source();
    }
    None
}

fn words_of(e: &(dyn StdError + 'static)) -> Option<String> {
    if let Some(t) = e.downcast_ref::<TlsFailure>() {
        return Some(t.0.clone());
    }
    e.downcast_ref::<rustls::Error>().map(rustls_words)
}

/// rustls's error as a sentence an operator can act on.
pub fn rustls_words(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => format!("TLS: {}", certificate_words(c)),
        rustls::Error::NoCertificatesPresented => "TLS: the server presented no certificate".into(),
        rustls::Error::AlertReceived(a) => format!("TLS: the server refused the handshake ({a:?} alert)"),
        other => format!("TLS handshake failed: {other}"),
    }
}

fn certificate_words(c: &CertificateError) -> String {
    use CertificateError as C;
    match c {
        C::UnknownIssuer => "certificate not trusted: unknown issuer (trust its CA with the source's ca_file)".into(),
        C::Expired => "certificate expired".into(),
        C::ExpiredContext { not_after, .. } => format!("certificate expired on {}", date(not_after.as_secs())),
        C::NotValidYet => "certificate not valid yet".into(),
        C::NotValidYetContext { not_before, .. } => {
            format!("certificate not valid yet (valid from {})", date(not_before.as_secs()))
        }
        C::NotValidForName => "certificate is for another host name".into(),
        C::NotValidForNameContext { expected, presented } => {
            let names: Vec<String> = presented.iter().take(5).map(|n| presented_name(n)).collect();
            let names = if names.is_empty() { "no name".to_string() } else { names.join(", ") };
            format!("certificate is for another host name: {} is not among {names}", expected.to_str())
        }
        C::Revoked => "certificate revoked".into(),
        C::BadSignature => "certificate signature does not verify".into(),
        C::BadEncoding => "certificate cannot be parsed".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => "certificate is not for server authentication".into(),
        other => format!("certificate rejected: {other}"),
    }
}

/// A name from the certificate as webpki reports it (`DnsName("a.example")`,
/// `IpAddress(10.0.0.1)`) as the bare name, short and printable: it is the
/// server's text.
fn presented_name(raw: &str) -> String {
    let inner = match (raw.find('('), raw.strip_suffix(')')) {
        (Some(open), Some(body)) if raw[..open].chars().all(|c| c.is_ascii_alphanumeric()) => &body[open + 1..],
        _ => raw,
    };
    crate::format::one_line(inner.trim_matches('"'), 80)
}

fn date(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(|| format!("{secs} s after 1970"), |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/etc/opsdeck/ca.pem")
    }

    #[test]
    fn a_file_that_is_not_pem_or_holds_no_certificate_is_named() {
        let e = ExtraRoots::parse(p(), b"hello").expect_err("not pem");
        assert_eq!(e.to_string(), "ca_file /etc/opsdeck/ca.pem: not a PEM file (no -----BEGIN CERTIFICATE----- block)");
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let e = ExtraRoots::parse(p(), key).expect_err("no cert");
        assert!(matches!(e, CaFileError::NoCertificate { .. }), "{e}");
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let e = ExtraRoots::parse(p(), junk).expect_err("junk");
        assert!(e.to_string().starts_with("ca_file /etc/opsdeck/ca.pem: certificate 1 is unreadable"), "{e}");
        let e = ExtraRoots::load(Path::new("/nonexistent/ca.pem")).expect_err("missing");
        assert!(e.to_string().starts_with("ca_file /nonexistent/ca.pem: cannot read it: "), "{e}");
    }

    #[test]
    fn rustls_errors_are_found_inside_io_errors_and_put_in_words() {
        let inner = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::other(inner);
        let wrapped = std::io::Error::other(io);
        let words = problem(&wrapped).expect("found");
        assert!(words.contains("certificate not trusted: unknown issuer"), "{words}");
        let expired = rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
            time: rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
            not_after: rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_700_000_000)),
        });
        assert_eq!(rustls_words(&expired), "TLS: certificate expired on 2023-11-14 22:13 UTC");
        assert_eq!(presented_name("DnsName(\"api.example.com\")"), "api.example.com");
        assert_eq!(presented_name("IpAddress(10.0.0.1)"), "10.0.0.1");
        assert_eq!(presented_name("*.example.com"), "*.example.com");
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(problem(&plain), None);
    }
}
