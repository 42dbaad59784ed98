//! A signed RPC client over reqwest: one `POST /` per call, the action's
//! parameters in the query, the answer's JSON decoded tolerantly and its error
//! envelope (`{RequestId, Code, Message}`, or `"Success": false` inside a 200)
//! turned into a [`ProviderError`] in words.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use super::creds::{Identity, Origin};
use super::json;
use super::keys::Keys;
use super::sign::{self, AccessKey, SignatureVersion};
use crate::format::one_line;
use crate::providers::tls::{self, ExtraRoots};
use crate::providers::{ProviderError, words};

/// The OpenAPI products a source calls, each with the API version it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Product {
    /// CloudMonitor: metrics and alert logs.
    Cms,
    /// Auto Scaling.
    Ess,
    /// DNS, for Global Traffic Manager.
    Alidns,
    /// Billing (BssOpenApi).
    Bss,
    /// Security Token Service: AssumeRole for RamRoleArn profiles.
    Sts,
    /// Elastic Compute Service: spot price history.
    Ecs,
}

impl Product {
    pub const ALL: [Product; 6] =
        [Product::Cms, Product::Ess, Product::Alidns, Product::Bss, Product::Sts, Product::Ecs];

    pub fn version(self) -> &'static str {
        match self {
            Product::Cms => "2019-01-01",
            Product::Ess => "2014-08-28",
            Product::Alidns => "2015-01-09",
            Product::Bss => "2017-12-14",
            Product::Sts => "2015-04-01",
            Product::Ecs => "2014-05-26",
        }
    }

    /// The key of this product in the config's `endpoints` table.
    pub fn key(self) -> &'static str {
        match self {
            Product::Cms => "cms",
            Product::Ess => "ess",
            Product::Alidns => "alidns",
            Product::Bss => "bss",
            Product::Sts => "sts",
            Product::Ecs => "ecs",
        }
    }

    pub fn from_key(k: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.key() == k || (k == "business" && *p == Product::Bss))
    }

    /// The public endpoint. CloudMonitor is regional; ESS, alidns and Billing
    /// answer on their central endpoints for every region (RegionId says which).
    pub fn default_endpoint(self, region: &str) -> String {
        match self {
            Product::Cms => format!("https://metrics.{region}.aliyuncs.com"),
            Product::Ess => "https://ess.aliyuncs.com".into(),
            Product::Alidns => "https://alidns.aliyuncs.com".into(),
            Product::Bss => "https://business.aliyuncs.com".into(),
            Product::Sts => "https://sts.aliyuncs.com".into(),
            Product::Ecs => format!("https://ecs.{region}.aliyuncs.com"),
        }
    }
}

/// Where each product is called: the defaults for the region, overridden by the
/// config (a VPC endpoint, the international Billing endpoint, a test server).
pub fn endpoints(region: &str, overrides: &BTreeMap<String, String>) -> BTreeMap<Product, String> {
    Product::ALL
        .into_iter()
        .map(|p| {
            let given = overrides.iter().find(|(k, _)| Product::from_key(k) == Some(p)).map(|(_, v)| v.clone());
            let url = given.unwrap_or_else(|| p.default_endpoint(region));
            let url = if url.contains("://") { url } else { format!("https://{url}") };
            (p, url.trim_end_matches('/').to_string())
        })
        .collect()
}

/// How throttled reads are retried: `attempts` tries in all, waiting `base`,
/// 2×`base`, ... (at most `max`) in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 4, base: Duration::from_millis(200), max: Duration::from_secs(2) }
    }
}

impl RetryPolicy {
    fn delay(&self, retry: u32) -> Duration {
        self.base.saturating_mul(1u32 << retry.min(16)).min(self.max)
    }
}

/// Where the identity comes from: a key given (tests), or the standard chain run
/// on first use by a blocking function (config, environment, CLI profile, keyring).
#[derive(Clone)]
pub enum KeySource {
    Given(AccessKey),
    Resolve(Arc<dyn Fn() -> Result<(Identity, Origin), String> + Send + Sync>),
}

pub struct Client {
    http: reqwest::Client,
    endpoints: BTreeMap<Product, String>,
    signature: SignatureVersion,
    /// The key to sign with, renewed when temporary; shared by a source's clients.
    keys: Arc<Keys>,
    calls: Arc<AtomicU32>,
    retry: RetryPolicy,
}

/// What one HTTP answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Ok(Value),
    /// `Throttling*` codes (HTTP 400 or 429: the code decides), retried for reads.
    Throttled(String),
    Failed(ProviderError),
}

impl Client {
    pub fn new(
        timeout: Duration,
        endpoints: BTreeMap<Product, String>,
        signature: SignatureVersion,
        keys: Arc<Keys>,
        retry: RetryPolicy,
        roots: Option<&ExtraRoots>,
    ) -> Result<Client, ProviderError> {
        let builder = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout.min(Duration::from_secs(5)));
        let http = tls::with_roots(builder, roots)
            .build()
            .map_err(|e| ProviderError::Unreachable(format!("HTTP client: {e}")))?;
        Ok(Client { http, endpoints, signature, keys, calls: Arc::new(AtomicU32::new(0)), retry })
    }

    /// HTTP requests sent so far (retries included), for the poll-cost figure.
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn endpoint(&self, p: Product) -> &str {
        self.endpoints.get(&p).map_or("", String::as_str)
    }

    /// Which identity signs, in words (fetching a temporary key if none is held).
    pub async fn identity(&self) -> Result<String, ProviderError> {
        self.keys.describe().await
    }

    /// A read: throttling answers are retried with backoff, a bounded number of times.
    pub async fn read(
        &self,
        product: Product,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        let mut retry = 0;
        loop {
            match self.send(product, action, params).await? {
                Answer::Ok(v) => return Ok(v),
                Answer::Failed(e) => return Err(e),
                Answer::Throttled(words) if retry + 1 >= self.retry.attempts => {
                    return Err(ProviderError::Throttled(words));
                }
                Answer::Throttled(words) => {
                    log::debug!("{words}; retrying");
                    tokio::time::sleep(self.retry.delay(retry)).await;
                    retry += 1;
                }
            }
        }
    }

    /// A write: sent once. A lost or throttled answer is re-read by the next poll,
    /// never retried blindly.
    pub async fn write(
        &self,
        product: Product,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        match self.send(product, action, params).await? {
            Answer::Ok(v) => Ok(v),
            Answer::Throttled(words) => Err(ProviderError::Throttled(words)),
            Answer::Failed(e) => Err(e),
        }
    }

    async fn send(&self, product: Product, action: &str, params: &[(&str, String)]) -> Result<Answer, ProviderError> {
        let key = self.keys.current().await?;
        let base = self.endpoint(product);
        let version = product.version();
        let params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let now = Utc::now();
        let nonce = sign::nonce();
        // V3 signs the query and the x-acs-* headers; V1 puts everything, its
        // signature included, in the query.
        let v3 = self.signature == SignatureVersion::V3;
        let query = if v3 { params } else { sign::v1_rpc_query(&key, "POST", action, version, &params, now, &nonce) };
        let qs = sign::canonical_query(&query);
        let url = if qs.is_empty() { format!("{base}/") } else { format!("{base}/?{qs}") };
        let url = reqwest::Url::parse(&url)
            .map_err(|e| ProviderError::Unreachable(format!("{product:?} endpoint {base}: {e}")))?;
        let mut req = self.http.post(url.clone()).header("accept", "application/json");
        if v3 {
            let host = match (url.host_str(), url.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => return Err(ProviderError::Unreachable(format!("endpoint {base} has no host"))),
            };
            for (k, v) in sign::v3_rpc_headers(&key, &host, action, version, &query, now, &nonce) {
                req = req.header(k, v);
            }
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        let resp = req.send().await.map_err(|e| transport_error(action, &e))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| transport_error(action, &e))?;
        Ok(classify(action, status, &body))
    }
}

/// The shared words for a transport failure (a certificate problem named as that):
/// reqwest's own text would quote the signed URL (a V1 signature and AccessKeyId are
/// in its query) and hide the cause. Like every transport failure, not retried.
fn transport_error(action: &str, e: &reqwest::Error) -> ProviderError {
    crate::providers::http::transport_error(action, e)
}

fn is_auth_code(code: &str) -> bool {
    code.contains("AccessKey")
        || code.starts_with("SignatureDoesNotMatch")
        || code.starts_with("IncompleteSignature")
        || code.starts_with("InvalidSecurityToken")
        || code.starts_with("Forbidden")
        || code.starts_with("NoPermission")
        || code.starts_with("NotAuthorized")
}

/// What an answer means: its JSON, throttling, or an error in words. Errors are
/// any non-2xx status, and `"Success": false` inside a 2xx.
pub fn classify(action: &str, status: u16, body: &str) -> Answer {
    let ok_status = (200..300).contains(&status);
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) if ok_status => {
            return Answer::Failed(ProviderError::BadResponse(format!("{action}: HTTP {status}: answer is not JSON")));
        }
        Err(_) => {
            let words = format!("{action}: {}", words::status_with_body(status, body.as_bytes()));
            return if status == 429 {
                Answer::Throttled(words)
            } else {
                Answer::Failed(ProviderError::BadResponse(words))
            };
        }
    };
    let failed = !ok_status || json::flag(&v, "Success") == Some(false);
    if !failed {
        return Answer::Ok(v);
    }
    let code = json::text(&v, "Code").unwrap_or_else(|| format!("HTTP {status}"));
    let message = json::text(&v, "Message").map(|m| one_line(&m, 200)).unwrap_or_default();
    let rid = json::text(&v, "RequestId").map(|r| format!(" (request {r})")).unwrap_or_default();
    let words =
        if message.is_empty() { format!("{action}: {code}{rid}") } else { format!("{action}: {code}: {message}{rid}") };
    if code.starts_with("Throttling") || (status == 429 && json::text(&v, "Code").is_none()) {
        Answer::Throttled(words)
    } else if is_auth_code(&code) {
        Answer::Failed(ProviderError::Auth(words))
    } else {
        Answer::Failed(ProviderError::BadResponse(words))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/aliyun/{name}", env!("CARGO_MANIFEST_DIR"))).expect(name)
    }

    #[test]
    fn error_bodies_in_words() {
        let body = fixture("error-ess-InternalError.doc.json");
        let Answer::Failed(e) = classify("DescribeScalingGroups", 500, &body) else { panic!("an error") };
        assert_eq!(
            e.to_string(),
            "bad response: DescribeScalingGroups: InternalError: The request processing has failed due to some \
             unknown error, exception or failure. (request 540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx)"
        );
    }

    #[test]
    fn throttling_is_read_from_the_code_not_the_status() {
        let body = fixture("error-Throttling.User.json");
        for status in [400, 429] {
            assert!(matches!(classify("X", status, &body), Answer::Throttled(w) if w.contains("user flow control")));
        }
        // A 400 that is not throttling is not retried.
        let other = body.replace("Throttling.User", "InvalidParameter");
        assert!(matches!(classify("X", 400, &other), Answer::Failed(ProviderError::BadResponse(_))));
        let auth = body.replace("Throttling.User", "SignatureDoesNotMatch");
        assert!(matches!(classify("X", 400, &auth), Answer::Failed(ProviderError::Auth(_))));
    }

    #[test]
    fn success_false_inside_a_200_is_an_error_and_code_may_be_a_number() {
        // Derived from the BssOpenApi fixture: Success false with its Code/Message.
        let ok = fixture("bssopenapi-2017-12-14-QueryBillOverview.sdk.json");
        assert!(matches!(classify("QueryBillOverview", 200, &ok), Answer::Ok(_)));
        let bad = ok.replace("\"Success\": true", "\"Success\": \"false\"").replace("Successful!", "no bill yet");
        let Answer::Failed(e) = classify("QueryBillOverview", 200, &bad) else { panic!("an error") };
        assert!(e.to_string().contains("QueryBillOverview: Success: no bill yet"), "{e}");
        let alerts = fixture("cms-2019-01-01-DescribeAlertLogList.doc.json");
        assert!(matches!(classify("DescribeAlertLogList", 200, &alerts), Answer::Ok(_)));
    }

    #[test]
    fn endpoints_default_per_region_and_are_overridable() {
        let mut o = BTreeMap::new();
        o.insert("ess".to_string(), "http://127.0.0.1:9/".to_string());
        o.insert("business".to_string(), "business.ap-southeast-1.aliyuncs.com".to_string());
        let e = endpoints("cn-hangzhou", &o);
        assert_eq!(e[&Product::Cms], "https://metrics.cn-hangzhou.aliyuncs.com");
        assert_eq!(e[&Product::Ess], "http://127.0.0.1:9");
        assert_eq!(e[&Product::Alidns], "https://alidns.aliyuncs.com");
        // Billing's endpoint is "business": either key overrides it.
        assert_eq!(e[&Product::Bss], "https://business.ap-southeast-1.aliyuncs.com");
        assert_eq!(RetryPolicy::default().delay(10), Duration::from_secs(2));
    }

    /// A crash page instead of Alibaba's JSON envelope: the status and its sentence.
    #[test]
    fn an_html_error_page_is_the_status_and_its_sentence() {
        use crate::providers::canned::{MOTO_500, MOTO_500_WORDS, assert_clean};
        let Answer::Failed(e) = classify("DescribeScalingGroups", 500, MOTO_500) else { panic!("an error") };
        assert_eq!(e, ProviderError::BadResponse(format!("DescribeScalingGroups: {MOTO_500_WORDS}")));
        assert_clean(&e.to_string());
        let Answer::Throttled(words) =
            classify("DescribeScalingGroups", 429, "<html><h1>429 Too Many Requests</h1>slow down</html>")
        else {
            panic!("throttled")
        };
        assert_eq!(words, "DescribeScalingGroups: HTTP 429 Too Many Requests: slow down");
    }

    /// reqwest's own text quotes the signed URL; the words name the cause only.
    #[tokio::test]
    async fn a_refused_connection_names_the_cause_not_the_signed_url() {
        use crate::providers::canned::{self, assert_clean};
        let base = canned::closed();
        let url = format!("{base}/?AccessKeyId=LTAIexample&Signature=abc%3D");
        let e = reqwest::Client::new().post(url).send().await.expect_err("refused");
        let shown = transport_error("DescribeScalingGroups", &e).to_string();
        assert_eq!(shown, "unreachable: DescribeScalingGroups: cannot connect: Connection refused");
        assert_clean(&shown);
    }
}
