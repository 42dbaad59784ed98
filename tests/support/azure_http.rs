//! ARM and Entra ID stand-ins (wiremock) speak plain HTTP on loopback, while
//! azure_core insists on https URLs: this transport sends each request over plain
//! HTTP to the same host and port, and refuses anything but loopback.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::http::{AsyncRawResponse, HttpClient, Request, Transport};

#[derive(Debug)]
struct PlainHttp(reqwest::Client);

#[async_trait]
impl HttpClient for PlainHttp {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut r = request.clone();
        assert_eq!(r.url().host_str(), Some("127.0.0.1"), "only loopback in tests");
        r.url_mut().set_scheme("http").expect("http");
        self.0.execute_request(&r).await
    }
}

/// The transport to hand azure_core (ARM pipeline and credentials) in tests.
pub fn plain_http() -> Transport {
    Transport::new(Arc::new(PlainHttp(reqwest::Client::new())))
}
