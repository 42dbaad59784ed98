//! A small Azure Resource Manager client over azure_core's HTTP pipeline: bearer
//! token per try, plain JSON in and out, ARM error bodies in words, 429s waited out
//! when the server asks for a short wait, and every request counted.
//!
//! azure_core's own retry policy is switched off: it honours `Retry-After` without a
//! bound (a throttled subscription can answer "retry after 3600 s"), and writes must
//! be sent once. [`Throttle`] retries 429 alone, and only for a bounded wait.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{HeaderName, Headers};
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{
    ClientOptions, Context, Method, Pipeline, PipelineSendOptions, Request, RetryOptions, StatusCode, Transport, Url,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::providers::{ProviderError, words};

/// The remaining read budget ARM reports for the subscription on every response.
pub const REMAINING_READS: HeaderName = HeaderName::from_static("x-ms-ratelimit-remaining-subscription-reads");
const RETRY_AFTER: HeaderName = HeaderName::from_static("retry-after");
pub const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
pub const LOCATION: HeaderName = HeaderName::from_static("location");
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");

/// The longest `Retry-After` a read waits out before giving up as throttled.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
const MAX_THROTTLE_RETRIES: u32 = 3;

/// How one source talks to ARM.
#[derive(Clone)]
pub struct ArmSettings {
    /// `https://management.azure.com` or a sovereign cloud's ARM endpoint.
    pub endpoint: Url,
    /// The HTTP client; `None` is azure_core's default (reqwest, the crate's one TLS stack).
    pub transport: Option<Transport>,
    /// The token scope when the audience is not the endpoint (`token_audience`);
    /// `None` is `<endpoint>/.default`.
    pub scope: Option<String>,
}

/// Counters one source reads after each poll.
#[derive(Debug, Default)]
pub struct Meter {
    /// HTTP requests sent (every try).
    pub calls: AtomicU32,
    /// Last `x-ms-ratelimit-remaining-subscription-reads` seen.
    pub remaining_reads: Mutex<Option<u32>>,
}

impl Meter {
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }
    pub fn remaining_reads(&self) -> Option<u32> {
        *self.remaining_reads.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A response that came back 2xx.
#[derive(Debug)]
pub struct ArmResponse {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl ArmResponse {
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, ProviderError> {
        decode(what, &self.body)
    }
    pub fn header(&self, name: &HeaderName) -> Option<&str> {
        self.headers.get_optional_str(name)
    }
}

pub struct Arm {
    pipeline: Pipeline,
    endpoint: Url,
    pub meter: Arc<Meter>,
}

impl Arm {
    pub fn new(settings: &ArmSettings, credential: Arc<dyn TokenCredential>) -> Arm {
        let meter = Arc::new(Meter::default());
        let scope = settings
            .scope
            .clone()
            .unwrap_or_else(|| format!("{}/.default", settings.endpoint.as_str().trim_end_matches('/')));
        let options =
            ClientOptions { retry: RetryOptions::none(), transport: settings.transport.clone(), ..Default::default() };
        let per_call: Vec<Arc<dyn Policy>> =
            vec![Arc::new(Throttle { max_wait: MAX_RETRY_AFTER, max_retries: MAX_THROTTLE_RETRIES })];
        let per_try: Vec<Arc<dyn Policy>> =
            vec![Arc::new(BearerTokenAuthorizationPolicy::new(credential, [scope])), Arc::new(Counter(meter.clone()))];
        let pipeline =
            Pipeline::new(Some("opsdeck"), Some(env!("CARGO_PKG_VERSION")), options, per_call, per_try, None);
        Arm { pipeline, endpoint: settings.endpoint.clone(), meter }
    }

    /// `{endpoint}{path}?api-version=..&extra..`; the path is percent-encoded as needed
    /// (endpoint names may hold spaces).
    pub fn url(&self, path: &str, api_version: &str, extra: &[(&str, &str)]) -> Url {
        let mut url = self.endpoint.clone();
        url.set_path(&format!("/{}", path.trim_start_matches('/')));
        {
            let mut q = url.query_pairs_mut();
            q.clear();
            q.append_pair("api-version", api_version);
            for (k, v) in extra {
                q.append_pair(k, v);
            }
        }
        url
    }

    /// A link the server handed back (nextLink, async operation): followed only when
    /// it points at the same ARM endpoint, so the bearer token never goes elsewhere.
    pub fn same_origin(&self, link: &str) -> Result<Url, ProviderError> {
        let url = Url::parse(link).map_err(|e| ProviderError::BadResponse(format!("link {link}: {e}")))?;
        if url.origin() != self.endpoint.origin() {
            return Err(ProviderError::BadResponse(format!(
                "refusing to follow a link off the ARM endpoint: {}",
                url.host_str().unwrap_or("?")
            )));
        }
        Ok(url)
    }

    pub async fn send(
        &self,
        what: &str,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<ArmResponse, ProviderError> {
        let mut req = Request::new(url, method);
        req.insert_header("accept", "application/json");
        if let Some(b) = body {
            req.insert_header("content-type", "application/json");
            req.set_body(serde_json::to_vec(b).map_err(|e| ProviderError::BadResponse(e.to_string()))?);
        }
        let ctx = Context::new();
        let opts = PipelineSendOptions { skip_checks: true, ..Default::default() };
        let resp = self.pipeline.send(&ctx, &mut req, Some(opts)).await.map_err(|e| core_error(what, &e))?;
        let (status, headers, body) = resp.deconstruct();
        let code = u16::from(status);
        let body: Vec<u8> = body.to_vec();
        if (200..300).contains(&code) {
            return Ok(ArmResponse { status: code, headers, body });
        }
        Err(arm_error(what, code, headers.get_optional_str(&RETRY_AFTER), &body))
    }

    pub async fn get<T: DeserializeOwned>(&self, what: &str, url: Url) -> Result<T, ProviderError> {
        self.send(what, Method::Get, url, None).await?.json(what)
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: Option<ErrorBody>,
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
}

/// Decode an ARM JSON body; the error is one short line.
pub fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| ProviderError::BadResponse(format!("{what}: {}", one_line(&e))))
}

/// An ARM error response in words: `{"error":{"code","message"}}` (or the bare
/// `{"code","message"}` some resource providers send), else the status alone.
pub fn arm_error(what: &str, status: u16, retry_after: Option<&str>, body: &[u8]) -> ProviderError {
    let (code, message) = match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(ErrorEnvelope { error: Some(e), .. }) => (e.code, e.message),
        Ok(e) => (e.code, e.message),
        Err(_) => (None, None),
    };
    let detail = match (code, message) {
        (Some(code), Some(m)) if !m.trim().is_empty() => format!("{what}: {code}: {}", one_line(&m)),
        (Some(code), _) => format!("{what}: {code} ({})", words::status_line(status)),
        // Not ARM's error shape (a gateway's page): the status and the body's first line.
        (None, _) => format!("{what}: {}", words::status_with_body(status, body)),
    };
    match status {
        429 => ProviderError::Throttled(match retry_after {
            Some(s) => format!("{detail} (retry after {s} s)"),
            None => detail,
        }),
        401 | 403 => ProviderError::Auth(detail),
        _ => ProviderError::BadResponse(detail),
    }
}

/// An error from the pipeline itself: token, connection, timeout.
fn core_error(what: &str, e: &azure_core::Error) -> ProviderError {
    use azure_core::error::ErrorKind;
    // A certificate problem is named as that, whatever kind the SDK wrapped it in
    // (a token request's failure comes back as a credential error).
    if let Some(words) = crate::providers::tls::problem(e) {
        return ProviderError::Unreachable(match e.kind() {
            ErrorKind::Credential => format!("{what}: token request to {words}"),
            _ => format!("{what}: {words}"),
        });
    }
    let text = core_words(e);
    match e.kind() {
        ErrorKind::Credential => ProviderError::Auth(format!("{what}: {text}")),
        ErrorKind::Io | ErrorKind::Connection => ProviderError::Unreachable(format!("{what}: {text}")),
        _ => ProviderError::BadResponse(format!("{what}: {text}")),
    }
}

/// What the transport layer below azure_core says: its own text for a failed
/// request is "failed to execute `reqwest` request", which names no cause.
const REQWEST_FAILED: &str = "failed to execute `reqwest` request";

/// An azure_core error in words: its first line (a credential's says which
/// credential failed), with the transport's cause in place of azure_core's
/// "failed to execute `reqwest` request".
pub fn core_words(e: &azure_core::Error) -> String {
    let first = one_line(e);
    let Some(cause) = transport_cause(e) else { return first };
    let lead = first.trim_end_matches(REQWEST_FAILED).trim_end();
    if lead.is_empty() { cause } else { format!("{lead} {cause}") }
}

/// The words for the first reqwest error in the chain, if there is one.
fn transport_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(r) = c.downcast_ref::<reqwest::Error>() {
            return Some(crate::providers::http::transport_words(r));
        }
        cause = c.source();
    }
    None
}

/// First line of an error, at most 200 characters and no control characters:
/// error text must stay one short line.
pub fn one_line(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    let first = s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    crate::format::one_line(first, 200)
}

/// Seconds from `Retry-After` (ARM sends delta-seconds).
pub fn retry_after(headers: &Headers) -> Option<Duration> {
    headers.get_optional_str(&RETRY_AFTER).and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs)
}

/// Waits out a 429 when the server's `Retry-After` is short; otherwise hands the
/// 429 back so the poll fails as throttled and the collector backs off.
#[derive(Debug)]
struct Throttle {
    max_wait: Duration,
    max_retries: u32,
}

#[async_trait]
impl Policy for Throttle {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let mut tries = 0;
        loop {
            let resp = next[0].send(ctx, request, &next[1..]).await?;
            if resp.status() != StatusCode::TooManyRequests || tries >= self.max_retries {
                return Ok(resp);
            }
            match retry_after(resp.headers()) {
                Some(wait) if wait <= self.max_wait => {
                    tries += 1;
                    log::info!("ARM throttled ({}); retrying in {} s", request.url().path(), wait.as_secs());
                    tokio::time::sleep(wait).await;
                    request.body_mut().reset().await?;
                }
                _ => return Ok(resp),
            }
        }
    }
}

/// Counts every try and keeps the remaining read budget ARM reports.
#[derive(Debug)]
struct Counter(Arc<Meter>);

#[async_trait]
impl Policy for Counter {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        let resp = next[0].send(ctx, request, &next[1..]).await?;
        if let Some(n) = resp.headers().get_optional_str(&REMAINING_READS).and_then(|v| v.trim().parse().ok()) {
            *self.0.remaining_reads.lock().unwrap_or_else(|e| e.into_inner()) = Some(n);
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_error_bodies_in_words() {
        let body = br#"{"error":{"code":"AuthorizationFailed","message":"The client 'x' does not have authorization\nto perform action."}}"#;
        let e = arm_error("GET vmss", 403, None, body);
        assert_eq!(
            e,
            ProviderError::Auth("GET vmss: AuthorizationFailed: The client 'x' does not have authorization".into())
        );
        let e = arm_error("GET vmss", 429, Some("30"), br#"{"code":"TooManyRequests","message":"slow down"}"#);
        assert_eq!(e, ProviderError::Throttled("GET vmss: TooManyRequests: slow down (retry after 30 s)".into()));
        let e = arm_error("GET vmss", 502, None, b"<html>bad gateway</html>");
        assert_eq!(e, ProviderError::BadResponse("GET vmss: HTTP 502 Bad Gateway".into()));
    }

    /// azure_core says "failed to execute `reqwest` request" for any transport
    /// failure, and a credential wraps that again: the words are the cause.
    #[tokio::test]
    async fn transport_failures_below_azure_core_are_their_cause() {
        use crate::providers::canned::{self, assert_clean};
        use azure_core::error::ErrorKind;
        let refused = || async {
            reqwest::Client::new().get(format!("{}/subscriptions", canned::closed())).send().await.expect_err("refused")
        };
        let e = azure_core::Error::with_error(ErrorKind::Connection, refused().await, REQWEST_FAILED);
        let said = core_error("GET alerts", &e);
        assert_eq!(said, ProviderError::Unreachable("GET alerts: cannot connect: Connection refused".into()));
        assert_clean(&said.to_string());

        // A token request that could not connect, as azure_identity wraps it.
        let inner = azure_core::Error::with_error(ErrorKind::Io, refused().await, REQWEST_FAILED);
        let cred = azure_core::Error::with_error(
            ErrorKind::Credential,
            inner,
            format!(
                "ClientSecretCredential authentication failed. {REQWEST_FAILED}\nTo troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#client-secret"
            ),
        );
        let said = core_error("GET alerts", &cred);
        assert_eq!(
            said.to_string(),
            "authentication failed: GET alerts: ClientSecretCredential authentication failed. cannot connect: Connection refused"
        );
        assert_clean(&said.to_string());
    }

    #[test]
    fn a_gateway_page_instead_of_arm_s_envelope_is_the_status_and_its_sentence() {
        use crate::providers::canned::{MOTO_500, MOTO_500_WORDS};
        let e = arm_error("GET vmss", 500, None, MOTO_500.as_bytes());
        assert_eq!(e, ProviderError::BadResponse(format!("GET vmss: {MOTO_500_WORDS}")));
        let e = arm_error("GET vmss", 404, None, br#"{"error":{"code":"ResourceNotFound"}}"#);
        assert_eq!(e, ProviderError::BadResponse("GET vmss: ResourceNotFound (HTTP 404 Not Found)".into()));
    }
}
