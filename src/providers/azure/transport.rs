//! The HTTP client under ARM and the token authority: reqwest (the crate's one
//! TLS stack) trusting the source's `ca_file` besides the system roots.
//!
//! A failed handshake leaves here as a [`TlsFailure`] in words with the error kind
//! `Other`: azure_core's retry policy retries only `Io` / `Connection` errors, so
//! the token request fails at once with the certificate problem instead of
//! retrying until the poll times out.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::error::ErrorKind;
use azure_core::http::{AsyncRawResponse, HttpClient, Request, Transport};

use crate::providers::tls::{self, ExtraRoots, TlsFailure};

/// azure_core's own defaults for its reqwest client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The transport for one source, trusting `roots` as well as the system's.
pub fn build(roots: Option<&ExtraRoots>) -> Result<Transport, String> {
    let builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        // ARM does not redirect; a redirect must not carry the bearer token elsewhere.
        .redirect(reqwest::redirect::Policy::none());
    let client = tls::with_roots(builder, roots).build().map_err(|e| format!("HTTP client: {e}"))?;
    Ok(wrap(client))
}

/// `client` as a transport whose TLS failures are in words and not retried.
pub fn wrap(client: reqwest::Client) -> Transport {
    Transport::new(Arc::new(TlsInWords(client)))
}

#[derive(Debug)]
struct TlsInWords(reqwest::Client);

#[async_trait]
impl HttpClient for TlsInWords {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        match self.0.execute_request(request).await {
            Err(e) => match tls::problem(&e) {
                Some(words) => {
                    let host = request.url().host_str().unwrap_or("?").to_string();
                    Err(azure_core::Error::new(ErrorKind::Other, TlsFailure(format!("{host}: {words}"))))
                }
                None => Err(e),
            },
            ok => ok,
        }
    }
}
