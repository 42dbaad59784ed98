//! Sources of estate data. Each source is one `impl Provider`; the collector polls it.
//! Providers never touch the terminal and never block the UI.

pub mod aliyun;
pub mod arbiter;
pub mod aws;
pub mod azure;
#[cfg(test)]
pub(crate) mod canned;
pub mod demo;
pub mod dns;
pub mod http;
pub mod http_auth;
pub mod http_stream;
pub mod links;
pub mod probe;
pub mod prometheus;
pub mod registry;
pub mod sections;
pub mod shared;
pub mod sizing;
#[cfg(test)]
pub mod stub;
pub mod tls;
pub mod words;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::model::{Actor, Plan};
use crate::model::{SourceId, SourceReport};

/// What a provider returns for an executed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The provider's request / change id, kept in the audit log.
    pub request_id: String,
}

/// One preflight check of `opsdeck doctor`: an API call and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: String,
    /// What was found, or why it failed (with the fix where there is one).
    pub result: Result<String, String>,
}

impl Check {
    /// A check from one call's outcome, its error in words.
    pub fn of(what: impl Into<String>, result: Result<String, ProviderError>) -> Check {
        Check { what: what.into(), result: result.map_err(|e| e.to_string()) }
    }
}

/// What went wrong with one call to a source. The text comes partly from the
/// remote side (error bodies, messages), so it is shown flattened to one line
/// without control characters, however it was built.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ProviderError {
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("throttled: {}", shown(.0, THROTTLED))]
    Throttled(String),
    #[error("authentication failed: {}", shown(.0, AUTH))]
    Auth(String),
    #[error("unreachable: {}", shown(.0, UNREACHABLE))]
    Unreachable(String),
    #[error("bad response: {}", shown(.0, BAD_RESPONSE))]
    BadResponse(String),
    #[error("not supported by this source: {}", shown(.0, UNSUPPORTED))]
    Unsupported(String),
}

const THROTTLED: &str = "throttled: ";
const AUTH: &str = "authentication failed: ";
const UNREACHABLE: &str = "unreachable: ";
const BAD_RESPONSE: &str = "bad response: ";
const UNSUPPORTED: &str = "not supported by this source: ";

impl ProviderError {
    /// What went wrong without the kind's prefix, for wrapping into another
    /// error of the same or another kind without saying "unreachable" twice.
    pub fn detail(&self) -> String {
        match self {
            ProviderError::Timeout(_) => self.to_string(),
            ProviderError::Throttled(s) => shown(s, THROTTLED),
            ProviderError::Auth(s) => shown(s, AUTH),
            ProviderError::Unreachable(s) => shown(s, UNREACHABLE),
            ProviderError::BadResponse(s) => shown(s, BAD_RESPONSE),
            ProviderError::Unsupported(s) => shown(s, UNSUPPORTED),
        }
    }
}

/// Long enough for any honest message; the collector cuts stale reasons shorter.
const SHOWN_CHARS: usize = 2000;

/// The text as one line, without a leading copy of the kind's own prefix: a
/// message built from another error's `to_string()` would otherwise read
/// "unreachable: unreachable: ...".
fn shown(s: &str, prefix: &str) -> String {
    let mut s = s.trim_start();
    // (An empty prefix would match forever.)
    while let Some(rest) = s.strip_prefix(prefix).filter(|_| !prefix.is_empty()) {
        s = rest.trim_start();
    }
    crate::format::one_line(s, SHOWN_CHARS)
}

#[async_trait]
pub trait Provider: Send + Sync {
    fn id(&self) -> &SourceId;
    /// Short kind name shown in the source list (`demo`, `aws`, ...).
    fn kind(&self) -> &'static str;
    /// Read the estate as it is now. Must not block the executor.
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError>;
    /// `opsdeck doctor`: one cheap call per API the source uses. The default is a
    /// single poll.
    async fn preflight(&self, now: DateTime<Utc>) -> Vec<Check> {
        vec![Check {
            what: "poll".into(),
            result: self.poll(now).await.map(|_| "reachable and permitted".into()).map_err(|e| e.to_string()),
        }]
    }
    /// Carry out a planned change, once. Sources that cannot change anything keep
    /// this default. Only `actions::Executor` calls it.
    async fn execute(&self, plan: &Plan, _actor: &Actor, _now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        Err(ProviderError::Unsupported(format!("{} cannot {}", self.kind(), plan.intent)))
    }
    /// `opsdeck timeline`: the source's own record of alerts firing, resolving and
    /// being acknowledged between `since` and `now`. `Ok(None)`: the source keeps
    /// no alert history opsdeck can read (said as such, not as "nothing happened").
    async fn alert_history(
        &self,
        _since: DateTime<Utc>,
        _now: DateTime<Utc>,
    ) -> Result<Option<Vec<crate::model::TimelineEvent>>, ProviderError> {
        Ok(None)
    }
    /// Whether the DNS provider has an executed change everywhere, by the
    /// receipt's request id: Some(true) in sync, Some(false) pending. The default,
    /// None, means the source does not track changes: a fresh read showing the
    /// planned weights stands for "in sync".
    async fn change_in_sync(&self, _request_id: &str) -> Result<Option<bool>, ProviderError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Error text is built from remote bodies in many places; however it was built,
    /// it is shown as one line with no control characters (what the fuzz targets'
    /// property checks on every decoder).
    #[test]
    fn errors_show_as_one_clean_line_whatever_they_carry() {
        let hostile = "Throttling.User\r\nX-Injected: 1\u{1b}]0;pwned\u{7}\u{1b}[2J\u{0}\u{9b}31m end";
        for e in [
            ProviderError::Throttled(hostile.into()),
            ProviderError::Auth(hostile.into()),
            ProviderError::Unreachable(hostile.into()),
            ProviderError::BadResponse(hostile.into()),
            ProviderError::Unsupported(hostile.into()),
        ] {
            let shown = e.to_string();
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
            assert!(shown.ends_with("Throttling.User X-Injected: 1 ]0;pwned [2J 31m end"), "{shown:?}");
        }
        // Alibaba's decoder, with a message that tries to start a new log line.
        let body =
            r#"{"Code":"Forbidden.RAM","Message":"denied\n2026-01-01 INFO all good\u001b[0m","RequestId":"r-1"}"#;
        let e = aliyun::decode::answer("DescribeScalingGroups", 403, body).expect_err("an error");
        let shown = e.to_string();
        assert!(!shown.chars().any(char::is_control) && shown.contains("denied 2026-01-01 INFO all good"), "{shown:?}");
    }

    /// A message built from another error's text says its kind once; `detail`
    /// is the text without the kind, for joining several failures in one.
    #[test]
    fn a_kind_is_said_once_however_the_message_was_built() {
        let inner =
            ProviderError::Unreachable("GET /api/v2/alerts at http://a: cannot connect: Connection refused".into());
        let wrapped = ProviderError::Unreachable(inner.to_string());
        assert_eq!(wrapped.to_string(), inner.to_string());
        assert_eq!(
            wrapped.to_string(),
            "unreachable: GET /api/v2/alerts at http://a: cannot connect: Connection refused"
        );
        assert_eq!(inner.detail(), "GET /api/v2/alerts at http://a: cannot connect: Connection refused");
        let twice = ProviderError::BadResponse("bad response: bad response: X: HTTP 500".into());
        assert_eq!(twice.to_string(), "bad response: X: HTTP 500");
        assert_eq!(twice.detail(), "X: HTTP 500");
        // Another kind's words inside the text are the message's, and kept.
        let other = ProviderError::BadResponse("unreachable: X".into());
        assert_eq!(other.to_string(), "bad response: unreachable: X");
    }
}
