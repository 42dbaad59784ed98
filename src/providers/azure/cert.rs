//! A service principal's certificate as the signed client assertion Entra ID
//! takes instead of a secret (a JWT, RFC 7523, as Microsoft's "certificate
//! credentials" page describes it).
//!
//! azure_identity 1.0's own `ClientCertificateCredential` needs OpenSSL, a second
//! crypto stack beside rustls; this signs with aws-lc (already under rustls) and
//! hands the assertion to azure_identity's `ClientAssertionCredential`, which makes
//! the token request through the source's transport. The file is read once, when
//! the credential is made: a PEM file with the certificate and its unencrypted RSA
//! key (PKCS#8 or PKCS#1), or a PFX / PKCS#12 file, optionally with a password.

use std::ffi::CString;
use std::path::Path;
use std::ptr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use azure_core::error::ErrorKind;
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::pem::{PemObject, SectionKind};
use sha1::{Digest, Sha1};

use crate::credentials::Secret;

/// Entra ID accepts an assertion for at most ten minutes; five, as the Azure SDKs.
const ASSERTION_LIFETIME_SECS: u64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("client certificate {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("client certificate {path}: {why}")]
    Bad { path: String, why: String },
}

/// The certificate's DER, its SHA-1 thumbprint and its RSA key.
pub struct Certificate {
    key: RsaKeyPair,
    /// `x5t` of the assertion: base64url of the certificate's SHA-1 thumbprint.
    x5t: String,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate").field("x5t", &self.x5t).finish_non_exhaustive()
    }
}

impl Certificate {
    /// The file at `path`, PEM or PFX (told apart by content, not by name).
    pub fn load(path: &Path, password: Option<&Secret>) -> Result<Certificate, CertError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| CertError::Read { path: shown.clone(), source })?;
        let parsed =
            if bytes.windows(11).any(|w| w == b"-----BEGIN ") { from_pem(&bytes) } else { from_pfx(&bytes, password) };
        let (cert_der, key) = parsed.map_err(|why| CertError::Bad { path: shown, why })?;
        Ok(Certificate { key, x5t: URL_SAFE_NO_PAD.encode(Sha1::digest(&cert_der)) })
    }

    /// The base64url SHA-1 thumbprint Entra ID matches against the uploaded certificate.
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// A signed assertion for `client_id` at the token endpoint `audience`.
    pub fn assertion(&self, client_id: &str, audience: &str, now_secs: u64) -> Result<String, String> {
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now_secs,
            "nbf": now_secs,
            "exp": now_secs + ASSERTION_LIFETIME_SECS,
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
            .map_err(|_| "signing the client assertion failed".to_string())?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

fn from_pem(bytes: &[u8]) -> Result<(Vec<u8>, RsaKeyPair), String> {
    let (mut cert, mut key) = (None, None);
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
        match item.map_err(|e| format!("not a readable PEM file ({e})"))? {
            (SectionKind::Certificate, der) if cert.is_none() => cert = Some(der),
            (SectionKind::PrivateKey, der) if key.is_none() => {
                key = Some(RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("the key is not an RSA key ({e})"))?)
            }
            (SectionKind::RsaPrivateKey, der) if key.is_none() => {
                key = Some(RsaKeyPair::from_der(&der).map_err(|e| format!("unreadable RSA key ({e})"))?)
            }
            (SectionKind::EcPrivateKey, _) => return Err("Entra ID takes RSA certificates only, this key is EC".into()),
            _ => {}
        }
    }
    let encrypted = bytes.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY");
    match (cert, key) {
        (Some(c), Some(k)) => Ok((c, k)),
        (None, _) => Err("no CERTIFICATE in the PEM file".into()),
        (_, None) if encrypted => {
            Err("the PEM key is encrypted: use a PFX file (its password in the keyring) or an unencrypted key".into())
        }
        (_, None) => Err("no PRIVATE KEY in the PEM file (it needs the certificate and its key)".into()),
    }
}

/// Owned aws-lc objects, freed on every path out of [`from_pfx`].
struct Owned<T>(*mut T, unsafe extern "C" fn(*mut T));
impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from aws-lc, is owned here alone and freed once.
            unsafe { (self.1)(self.0) }
        }
    }
}

/// A DER buffer aws-lc allocated, wiped before it is freed (it may hold the key).
fn take_der(len: std::os::raw::c_int, buf: *mut u8) -> Option<Vec<u8>> {
    if len <= 0 || buf.is_null() {
        return None;
    }
    let len = len as usize;
    // SAFETY: aws-lc wrote `len` bytes at `buf` and handed the buffer over.
    let out = unsafe { std::slice::from_raw_parts(buf, len) }.to_vec();
    // SAFETY: as above; cleansed and freed once with aws-lc's allocator.
    unsafe {
        aws_lc_sys::OPENSSL_cleanse(buf.cast(), len);
        aws_lc_sys::OPENSSL_free(buf.cast());
    }
    Some(out)
}

fn from_pfx(bytes: &[u8], password: Option<&Secret>) -> Result<(Vec<u8>, RsaKeyPair), String> {
    use aws_lc_sys as sys;
    let password = CString::new(password.map(Secret::expose).unwrap_or(""))
        .map_err(|_| "the certificate password holds a NUL character".to_string())?;
    // A PFX is a DER SEQUENCE; aws-lc only looks inside when asked for the password.
    if bytes.first() != Some(&0x30) {
        return Err("neither PEM nor a PFX / PKCS#12 file".into());
    }
    let mut input = bytes.as_ptr();
    // SAFETY: `input` points at `bytes.len()` readable bytes; aws-lc only reads them.
    let p12 = Owned(unsafe { sys::d2i_PKCS12(ptr::null_mut(), &mut input, bytes.len()) }, sys::PKCS12_free);
    if p12.0.is_null() {
        return Err("neither PEM nor a PFX / PKCS#12 file".into());
    }
    let (mut pkey, mut cert) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: p12 is a live PKCS12; the outputs are written only on success; the CA
    // chain is not asked for (NULL), so aws-lc frees it itself.
    let ok = unsafe { sys::PKCS12_parse(p12.0, password.as_ptr(), &mut pkey, &mut cert, ptr::null_mut()) };
    let (pkey, cert) = (Owned(pkey, sys::EVP_PKEY_free), Owned(cert, sys::X509_free));
    if ok != 1 {
        return Err("the PFX file cannot be opened: wrong or missing password, or not a PFX file".into());
    }
    if pkey.0.is_null() || cert.0.is_null() {
        return Err("the PFX file needs both the certificate and its private key".into());
    }
    // SAFETY: pkey is a live EVP_PKEY.
    if unsafe { sys::EVP_PKEY_id(pkey.0) } != sys::EVP_PKEY_RSA {
        return Err("Entra ID takes RSA certificates only".into());
    }
    let mut buf = ptr::null_mut();
    // SAFETY: with *buf NULL, i2d allocates the output and returns its length.
    let key_der = take_der(unsafe { sys::i2d_PrivateKey(pkey.0, &mut buf) }, buf).ok_or("unreadable RSA key")?;
    let mut buf = ptr::null_mut();
    // SAFETY: as above, for the live X509.
    let cert_der = take_der(unsafe { sys::i2d_X509(cert.0, &mut buf) }, buf).ok_or("unreadable certificate")?;
    let key = RsaKeyPair::from_der(&key_der).map_err(|e| format!("unreadable RSA key ({e})"))?;
    Ok((cert_der, key))
}

/// The token endpoint of `authority` for `tenant`: the assertion's audience, the
/// same URL azure_identity posts to.
pub fn token_endpoint(authority: &str, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", authority.trim_end_matches('/'))
}

/// A fresh signed assertion for every token request.
#[derive(Debug, Clone)]
pub struct CertAssertion {
    pub cert: Arc<Certificate>,
    pub client_id: String,
    pub audience: String,
}

#[async_trait::async_trait]
impl ClientAssertion for CertAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let jwt = self
            .cert
            .assertion(&self.client_id, &self.audience, now)
            .map_err(|why| azure_core::Error::with_message(ErrorKind::Credential, why))?;
        // It stands for the key while it lives: held, so an echo of it is scrubbed.
        Ok(Secret::new(jwt).expose().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Certificate, CertError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sp.pem");
        std::fs::write(&p, text).expect("write");
        Certificate::load(&p, None)
    }

    #[test]
    fn unusable_files_are_refused_in_words() {
        let ec = rcgen::KeyPair::generate().expect("EC key");
        let ec_cert = rcgen::CertificateParams::new(vec!["x".into()]).expect("p").self_signed(&ec).expect("c");
        let why = |r: Result<Certificate, CertError>| r.expect_err("refused").to_string();
        assert!(why(load_text(&format!("{}{}", ec_cert.pem(), ec.serialize_pem()))).contains("RSA"));
        assert!(why(load_text(&ec_cert.pem())).contains("no PRIVATE KEY"));
        let encrypted = format!(
            "{}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            ec_cert.pem()
        );
        assert!(why(load_text(&encrypted)).contains("the PEM key is encrypted"));
        let rsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
        assert!(why(load_text(&rsa.serialize_pem())).contains("no CERTIFICATE"));
        assert!(why(load_text("not a certificate at all")).contains("neither PEM nor a PFX"));
        let missing = Certificate::load(Path::new("/nonexistent/sp.pem"), None).expect_err("missing");
        assert!(missing.to_string().starts_with("client certificate /nonexistent/sp.pem: "), "{missing}");
        let rsa_cert = rcgen::CertificateParams::new(vec!["x".into()]).expect("p").self_signed(&rsa).expect("c");
        let ok = load_text(&format!("{}{}", rsa.serialize_pem(), rsa_cert.pem())).expect("key before certificate");
        assert_eq!(ok.x5t(), URL_SAFE_NO_PAD.encode(Sha1::digest(rsa_cert.der())));
    }
}
