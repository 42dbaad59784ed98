//! Sources of estate data. Each source is one `impl Provider`; the collector polls it.
//! Providers never touch the terminal and never block the UI.

pub mod aliyun;
pub mod arbiter;
pub mod aws;
pub mod azure;
pub mod demo;
pub mod http;
pub mod prometheus;
pub mod sections;
pub mod sizing;
pub mod tls;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::actions::{Actor, Plan};
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

/// What went wrong with one call to a source. The text comes partly from the
/// remote side (error bodies, messages), so it is shown flattened to one line
/// without control characters, however it was built.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ProviderError {
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("throttled: {}", shown(.0))]
    Throttled(String),
    #[error("authentication failed: {}", shown(.0))]
    Auth(String),
    #[error("unreachable: {}", shown(.0))]
    Unreachable(String),
    #[error("bad response: {}", shown(.0))]
    BadResponse(String),
    #[error("not supported by this source: {}", shown(.0))]
    Unsupported(String),
}

/// Long enough for any honest message; the collector cuts stale reasons shorter.
const SHOWN_CHARS: usize = 2000;

fn shown(s: &str) -> String {
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
}
