//! `[[links]]`: one cross-cloud link (probed by `providers::links`), the two
//! clouds it joins, its round-trip target and how it is measured: a probe from
//! the operator's machine (TCP or HTTP), a PromQL figure (a blackbox exporter's
//! `probe_duration_seconds`), or both.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{DEFAULT_ARBITER_TIMEOUT_SECS, check_host_port, check_http_url};
use crate::model::{CloudKind, Severity};

/// Probes per round when the entry does not say: enough for a loss figure and a
/// median that one slow answer does not move.
pub const DEFAULT_LINK_PROBES: u32 = 5;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    pub name: String,
    /// The two clouds it joins, by slug: `["aws", "azure"]`.
    pub between: Vec<String>,
    /// Round-trip target, milliseconds: above it the link raises an alert.
    pub target_ms: f64,
    /// "host:port" reached over the link: the TCP handshake is the round trip.
    #[serde(default)]
    pub tcp: Option<String>,
    /// With `tcp`: wait for the server's first bytes (a greeting) instead.
    #[serde(default)]
    pub banner: bool,
    /// HTTP(S) URL reached over the link: a GET on a fresh connection, any 2xx.
    #[serde(default)]
    pub url: Option<String>,
    /// Probes per round (for loss; the round trip is their median).
    #[serde(default = "default_probes")]
    pub probes: u32,
    /// How long one probe (or the PromQL query) may take, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// PEM bundle of CAs to trust for an https `url` or `prometheus`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// A Prometheus to ask for the link's round trip (`query`, in seconds).
    #[serde(default)]
    pub prometheus: Option<String>,
    /// PromQL giving the round trip in seconds; the largest series counts.
    #[serde(default)]
    pub query: Option<String>,
    /// Severity of the alert a link over its target raises (P2 when not given).
    #[serde(default)]
    pub severity: Option<Severity>,
}

fn default_probes() -> u32 {
    DEFAULT_LINK_PROBES
}

fn default_timeout() -> f64 {
    DEFAULT_ARBITER_TIMEOUT_SECS
}

impl LinkConfig {
    /// What is wrong with this entry, as (key, message).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let name = &self.name;
        if name.trim().is_empty() {
            return Err(("name", "a link needs a non-empty name".into()));
        }
        let slugs: Vec<String> = CloudKind::ALL.iter().map(|c| c.slug().to_string()).collect();
        let [a, b] = self.between.as_slice() else {
            return Err(("between", format!("link '{name}': between names two clouds, e.g. [\"aws\", \"azure\"]")));
        };
        for c in [a, b] {
            if CloudKind::from_slug(c).is_none() {
                return Err(("between", format!("'{c}' is not a cloud: one of {}", slugs.join(", "))));
            }
        }
        if CloudKind::from_slug(a) == CloudKind::from_slug(b) {
            return Err(("between", format!("link '{name}' joins two different clouds, not {a} and {b}")));
        }
        if !(self.target_ms.is_finite() && self.target_ms > 0.0) {
            return Err(("target_ms", format!("target_ms must be above 0 (milliseconds), not {}", self.target_ms)));
        }
        match (&self.prometheus, &self.query) {
            (Some(p), Some(q)) => {
                check_http_url("prometheus", p)?;
                if q.trim().is_empty() {
                    return Err(("query", "query is empty: PromQL giving the round trip in seconds".into()));
                }
            }
            (Some(_), None) => {
                return Err(("prometheus", format!("link '{name}': prometheus needs a query (PromQL, in seconds)")));
            }
            (None, Some(_)) => {
                return Err(("query", format!("link '{name}': query needs prometheus = \"http://…\" to ask")));
            }
            (None, None) => {}
        }
        match (&self.tcp, &self.url, &self.prometheus) {
            (None, None, None) => {
                return Err((
                    "name",
                    format!("link '{name}' needs a way to measure it: tcp, url, or prometheus with query"),
                ));
            }
            (Some(_), Some(_), _) => {
                return Err(("url", format!("link '{name}' takes one probe: tcp or url, not both")));
            }
            _ => {}
        }
        if let Some(t) = &self.tcp {
            check_host_port("tcp", t)?;
        }
        if self.banner && self.tcp.is_none() {
            return Err(("banner", "banner is for a tcp probe".into()));
        }
        if let Some(u) = &self.url {
            check_http_url("url", u)?;
        }
        if !(1..=100).contains(&self.probes) {
            return Err(("probes", format!("probes must be between 1 and 100, not {}", self.probes)));
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 60.0) {
            return Err(("timeout_secs", "timeout_secs must be above 0 and at most 60".into()));
        }
        Ok(())
    }

    /// The two clouds, once [`LinkConfig::validate`] passed.
    pub fn clouds(&self) -> Option<(CloudKind, CloudKind)> {
        match self.between.as_slice() {
            [a, b] => Some((CloudKind::from_slug(a)?, CloudKind::from_slug(b)?)),
            _ => None,
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs)
    }

    pub fn severity(&self) -> Severity {
        self.severity.unwrap_or(Severity::P2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> LinkConfig {
        LinkConfig {
            name: "db".into(),
            between: vec!["aws".into(), "azure".into()],
            target_ms: 40.0,
            tcp: Some("10.0.0.5:5432".into()),
            banner: false,
            url: None,
            probes: DEFAULT_LINK_PROBES,
            timeout_secs: 3.0,
            ca_file: None,
            prometheus: None,
            query: None,
            severity: None,
        }
    }

    #[test]
    fn each_mistake_is_named_at_its_key() {
        let key = |l: LinkConfig| l.validate().err().map(|e| e.0);
        assert_eq!(key(link()), None);
        assert_eq!(link().clouds(), Some((CloudKind::Aws, CloudKind::Azure)));
        assert_eq!(key(LinkConfig { between: vec!["aws".into(), "gcp".into()], ..link() }), Some("between"));
        assert_eq!(key(LinkConfig { between: vec!["aws".into()], ..link() }), Some("between"));
        assert_eq!(key(LinkConfig { between: vec!["aws".into(), "AWS".into()], ..link() }), Some("between"));
        assert_eq!(key(LinkConfig { target_ms: 0.0, ..link() }), Some("target_ms"));
        assert_eq!(key(LinkConfig { target_ms: f64::NAN, ..link() }), Some("target_ms"));
        assert_eq!(key(LinkConfig { tcp: None, ..link() }), Some("name"));
        assert_eq!(key(LinkConfig { url: Some("https://x/".into()), ..link() }), Some("url"));
        assert_eq!(key(LinkConfig { tcp: Some("host".into()), ..link() }), Some("tcp"));
        assert_eq!(
            key(LinkConfig { tcp: None, banner: true, url: Some("http://x/".into()), ..link() }),
            Some("banner")
        );
        assert_eq!(key(LinkConfig { prometheus: Some("http://p:9090".into()), ..link() }), Some("prometheus"));
        assert_eq!(key(LinkConfig { query: Some("up".into()), ..link() }), Some("query"));
        assert_eq!(key(LinkConfig { probes: 0, ..link() }), Some("probes"));
        assert_eq!(key(LinkConfig { timeout_secs: 0.0, ..link() }), Some("timeout_secs"));
        let promql_only = LinkConfig {
            tcp: None,
            prometheus: Some("http://p:9090".into()),
            query: Some("probe_duration_seconds".into()),
            ..link()
        };
        assert_eq!(key(promql_only), None);
    }
}
