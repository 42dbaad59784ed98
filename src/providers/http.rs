//! What the plain-HTTP sources (Prometheus, Alertmanager) share: a client with the
//! source's timeout and extra CAs, credentials read from the keyring on first use,
//! and one mapping from transport and HTTP failures to [`ProviderError`].

use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

pub use super::http_auth::HttpAuthConfig;
use super::tls::{self, ExtraRoots};
use super::{ProviderError, words};
use crate::credentials::{Keyring, Secret, SecretStore};

/// Bodies larger than this are refused: no legitimate answer opsdeck asks for is
/// near it, and a runaway one must not eat the bastion's memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Credentials to attach to each request.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(Secret),
    Basic { user: String, password: Secret },
}

/// A client for one HTTP source: base URL, timeout, auth resolved lazily.
pub struct HttpSource {
    client: reqwest::Client,
    auth_cfg: HttpAuthConfig,
    /// Keyring reads block, so they happen once, on first use, off the reactor.
    auth: OnceCell<Auth>,
}

impl HttpSource {
    /// Build the client. Fails only on a CA file that cannot be read or parsed.
    pub fn new(auth_cfg: &HttpAuthConfig, timeout: Duration) -> Result<HttpSource, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")));
        let roots = ExtraRoots::load_opt(auth_cfg.ca_file.as_deref()).map_err(|e| e.to_string())?;
        builder = tls::with_roots(builder, roots.as_ref());
        let client = builder.build().map_err(|e| format!("HTTP client: {e}"))?;
        Ok(HttpSource { client, auth_cfg: auth_cfg.clone(), auth: OnceCell::new() })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The configured credentials, read from the keyring the first time.
    pub async fn auth(&self) -> Result<&Auth, ProviderError> {
        self.auth
            .get_or_try_init(|| async {
                let cfg = self.auth_cfg.clone();
                tokio::task::spawn_blocking(move || resolve_auth(&cfg, &Keyring::detect()))
                    .await
                    .map_err(|e| ProviderError::Auth(format!("keyring read failed: {e}")))?
            })
            .await
    }

    /// `builder` with the source's credentials attached.
    pub async fn authorised(&self, builder: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, ProviderError> {
        Ok(match self.auth().await? {
            Auth::None => builder,
            Auth::Bearer(token) => builder.bearer_auth(token.expose()),
            Auth::Basic { user, password } => builder.basic_auth(user, Some(password.expose())),
        })
    }
}

/// Turn the auth config into credentials, reading the named keyring entries.
pub fn resolve_auth(cfg: &HttpAuthConfig, store: &dyn SecretStore) -> Result<Auth, ProviderError> {
    let read = |entry: &str| -> Result<Secret, ProviderError> {
        let (source, field) = entry
            .split_once('/')
            .ok_or_else(|| ProviderError::Auth(format!("keyring entry '{entry}' is not <source>/<field>")))?;
        match store.get(source, field) {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(ProviderError::Auth(format!(
                "keyring entry {entry} is missing: store it with `opsdeck creds set {source} {field}`"
            ))),
            Err(e) => Err(ProviderError::Auth(format!("keyring entry {entry}: {e}"))),
        }
    };
    if let Some(entry) = &cfg.bearer_token_entry {
        return Ok(Auth::Bearer(read(entry)?));
    }
    match (&cfg.basic_auth_user, &cfg.basic_auth_password_entry) {
        (Some(user), Some(entry)) => {
            let password = read(entry)?;
            // The header carries base64 of user:password: scrub that form too.
            crate::redaction::hold_basic(user, password.expose());
            Ok(Auth::Basic { user: user.clone(), password })
        }
        _ => Ok(Auth::None),
    }
}

/// A transport failure in words: refused, timed out, TLS, or other. The
/// innermost cause names the problem; reqwest's own text would quote the URL
/// (query string included) and hide the cause behind "error sending request".
pub fn transport_error(what: &str, e: &reqwest::Error) -> ProviderError {
    // A certificate problem is named first: it is what the operator must fix.
    if let Some(words) = tls::problem(e) {
        return ProviderError::Unreachable(format!("{what}: {words}"));
    }
    let words = format!("{what}: {}", transport_words(e));
    if !e.is_timeout() && !e.is_connect() && (e.is_decode() || e.is_body()) {
        ProviderError::BadResponse(words)
    } else {
        ProviderError::Unreachable(words)
    }
}

/// [`transport_error`]'s words without the kind: "timed out", "cannot connect:
/// Connection refused", "body cut short: ...".
pub fn transport_words(e: &reqwest::Error) -> String {
    if let Some(words) = tls::problem(e) {
        return words;
    }
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        format!("cannot connect: {}", words::root_cause(e))
    } else if e.is_decode() || e.is_body() {
        format!("body cut short: {}", words::root_cause(e))
    } else {
        words::transport(e)
    }
}

/// Read a whole body, refusing one over [`MAX_BODY_BYTES`].
pub async fn read_body(what: &str, mut resp: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ProviderError::BadResponse(format!("{what}: answer larger than {MAX_BODY_BYTES} bytes")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(what, &e))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ProviderError::BadResponse(format!("{what}: answer larger than {MAX_BODY_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Decode JSON, saying where it went wrong (serde_json also refuses nesting past
/// 128 levels, so a hostile deeply nested body fails here, not on the stack).
pub fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| ProviderError::BadResponse(format!("{what}: unreadable answer: {e}")))
}

/// The status line as a provider error, for answers that are not the API's own
/// error shape: "HTTP 500 Internal Server Error: <the body's first line>".
pub fn status_error(what: &str, status: reqwest::StatusCode, body: &[u8]) -> ProviderError {
    let words = format!("{what}: {}", words::status_with_body(status.as_u16(), body));
    match status.as_u16() {
        401 | 403 => ProviderError::Auth(words),
        429 => ProviderError::Throttled(words),
        _ => ProviderError::BadResponse(words),
    }
}

/// Join a base URL (which may carry a path prefix) and an API path.
pub fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::CredError;

    fn cfg(bearer: Option<&str>, user: Option<&str>, password: Option<&str>) -> HttpAuthConfig {
        HttpAuthConfig {
            bearer_token_entry: bearer.map(String::from),
            basic_auth_user: user.map(String::from),
            basic_auth_password_entry: password.map(String::from),
            ca_file: None,
        }
    }

    /// A store answering from a closure (the keyring's mock store is exercised in
    /// tests/secrets/credential_order.rs).
    struct Fixed<F>(F);
    impl<F: Fn(&str, &str) -> Result<Option<Secret>, CredError> + Send + Sync> SecretStore for Fixed<F> {
        fn get(&self, source: &str, field: &str) -> Result<Option<Secret>, CredError> {
            (self.0)(source, field)
        }
        fn label(&self) -> &'static str {
            "fixed"
        }
    }

    #[test]
    fn keyring_entries_resolve_to_credentials_and_missing_ones_say_how_to_fix() {
        let store = Fixed(|s: &str, f: &str| -> Result<Option<Secret>, CredError> {
            Ok((s == "prom" && f == "bearer_token").then(|| Secret::new("tok-123")))
        });
        match resolve_auth(&cfg(Some("prom/bearer_token"), None, None), &store) {
            Ok(Auth::Bearer(t)) => assert_eq!(t.expose(), "tok-123"),
            other => panic!("{other:?}"),
        }
        let err = resolve_auth(&cfg(None, Some("opsdeck"), Some("prom/password")), &store).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "authentication failed: keyring entry prom/password is missing: store it with `opsdeck creds set prom password`"
        );
        assert!(matches!(resolve_auth(&cfg(None, None, None), &store), Ok(Auth::None)));
    }

    #[test]
    fn a_keyring_failure_is_an_auth_error_that_names_the_entry() {
        let broken =
            Fixed(|_: &str, _: &str| -> Result<Option<Secret>, CredError> { Err(CredError::Keyring("locked".into())) });
        let err = resolve_auth(&cfg(Some("am/bearer_token"), None, None), &broken).expect_err("fails");
        assert!(err.to_string().contains("am/bearer_token"), "{err}");
    }

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(join("http://p:9090/", "/api/v1/query"), "http://p:9090/api/v1/query");
        assert_eq!(join("http://p/prom", "api/v1/query"), "http://p/prom/api/v1/query");
    }

    #[test]
    fn a_status_error_keeps_one_short_clean_line() {
        let body = format!("bad \u{1b}[31m{}\nsecond line", "x".repeat(500));
        let e = status_error("GET /api/v2/alerts", reqwest::StatusCode::BAD_GATEWAY, body.as_bytes());
        let s = e.to_string();
        assert!(s.starts_with("bad response: GET /api/v2/alerts: HTTP 502 Bad Gateway: bad [31mxxx"), "{s}");
        assert!(!s.contains("second line"), "the first line only: {s}");
        assert!(!s.chars().any(char::is_control) && s.len() < 300, "{s}");
        assert!(matches!(status_error("x", reqwest::StatusCode::UNAUTHORIZED, b""), ProviderError::Auth(_)));
    }

    /// What `transport_error` says of one GET to `url` with a short timeout.
    async fn transport_said(url: &str) -> ProviderError {
        let client = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().expect("client");
        let e = client.get(format!("{url}/api/v1/query?query=up")).send().await.expect_err("fails");
        transport_error("query rps", &e)
    }

    #[tokio::test]
    async fn transport_failures_are_one_plain_sentence_without_the_url() {
        use crate::providers::canned::{self, Answer, assert_clean};
        let e = transport_said(&canned::closed()).await;
        assert_eq!(e.to_string(), "unreachable: query rps: cannot connect: Connection refused");
        let e = transport_said(&canned::serve(Answer::Hang)).await;
        assert_eq!(e.to_string(), "unreachable: query rps: timed out");
        assert_clean(&e.to_string());
    }

    #[test]
    fn moto_s_500_page_is_the_status_and_its_sentence() {
        use crate::providers::canned::{MOTO_500, MOTO_500_WORDS, assert_clean};
        let e = status_error("GET /api/v2/alerts", reqwest::StatusCode::INTERNAL_SERVER_ERROR, MOTO_500.as_bytes());
        assert_eq!(e, ProviderError::BadResponse(format!("GET /api/v2/alerts: {MOTO_500_WORDS}")));
        assert_clean(&e.to_string());
    }
}
