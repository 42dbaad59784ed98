//! `[sources.prometheus]` and `[sources.alertmanager]`: the plain-HTTP sources of
//! the monitoring plane. Schema, defaults and checks; secrets are keyring entries
//! named in `auth` (see [`HttpAuthConfig`]).

use serde::Deserialize;

use crate::config::{KindTable, SourceConfig, check_http_url};
use crate::model::{CloudKind, ReplicationKind};
use crate::providers::http_auth::HttpAuthConfig;
use crate::providers::shared::severity::{self, SeverityMap};

/// What the series in Prometheus are: figures PromQL makes of the common
/// exporters' series (one query per figure), or the families `opsdeck export`
/// writes, which rebuild the whole estate with no query configured.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub enum Schema {
    #[default]
    Queries,
    Opsdeck,
}

impl TryFrom<String> for Schema {
    type Error = String;
    fn try_from(s: String) -> Result<Schema, String> {
        match s.as_str() {
            "queries" => Ok(Schema::Queries),
            "opsdeck" => Ok(Schema::Opsdeck),
            other => Err(format!(
                "unknown schema \"{}\": use \"opsdeck\" (the metric families of `opsdeck export`) or \
                 \"queries\" (PromQL per figure, the default)",
                other.chars().filter(|c| !c.is_control()).take(40).collect::<String>()
            )),
        }
    }
}

/// `[sources.prometheus]`: figures from PromQL, one query per figure, or (with
/// `schema = "opsdeck"`) the estate another opsdeck exports.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Base URL, e.g. "http://prometheus:9090" (a path prefix is kept).
    pub url: String,
    #[serde(default)]
    pub auth: HttpAuthConfig,
    /// `"opsdeck"`: read the families of `opsdeck export`; `"queries"` (default):
    /// the figures below.
    #[serde(default)]
    pub schema: Schema,
    /// The label that says which cloud a series is from (values aws, azure, aliyun).
    #[serde(default = "default_cloud_label")]
    pub cloud_label: String,
    #[serde(default = "default_region_label")]
    pub region_label: String,
    /// PromQL per figure; unset figures use the defaults for the common exporters.
    #[serde(default)]
    pub queries: FigureQueries,
    #[serde(default)]
    pub replication: Vec<PromReplicationConfig>,
    /// On the first poll, fill the traffic history this far back with query_range (0: off).
    #[serde(default = "default_backfill")]
    pub backfill_minutes: u32,
    /// How long Prometheus may spend evaluating one query (its `timeout` parameter);
    /// the source's timeout_secs when unset.
    #[serde(default)]
    pub query_timeout_secs: Option<f64>,
}

/// One PromQL expression per figure. Each must return series labelled with the
/// cloud (and region) labels.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FigureQueries {
    /// Requests per second.
    #[serde(default)]
    pub rps: Option<String>,
    /// 95th percentile latency, milliseconds.
    #[serde(default)]
    pub p95_ms: Option<String>,
    /// Share of requests failing, 0..1.
    #[serde(default)]
    pub error_rate: Option<String>,
    /// CPU utilisation, percent.
    #[serde(default)]
    pub cpu: Option<String>,
}

/// A replication figure: a query returning the lag (seconds, or objects for storage).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PromReplicationConfig {
    pub kind: ReplicationKind,
    pub name: String,
    pub from: CloudKind,
    pub to: CloudKind,
    pub query: String,
    /// The target (the RPO for a database), in the figure's unit.
    pub target: f64,
}

/// `[sources.alertmanager]`: one Alertmanager, or the peers of an HA cluster.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// Each peer of the cluster; read from the first that answers.
    pub urls: Vec<String>,
    #[serde(default)]
    pub auth: HttpAuthConfig,
    /// The label holding the severity, mapped to P0..P3 by `severity_map`.
    #[serde(default = "default_severity_label")]
    pub severity_label: String,
    #[serde(default = "default_severity_map")]
    pub severity_map: SeverityMap,
    /// The label that says which cloud an alert is about.
    #[serde(default = "default_cloud_label")]
    pub cloud_label: String,
    /// Matchers passed to Alertmanager to narrow the alerts shown, e.g. 'team="shop"'.
    #[serde(default)]
    pub filter: Vec<String>,
    /// How long an acknowledgement (a silence) lasts when none is given, minutes.
    #[serde(default = "default_ack_minutes")]
    pub ack_minutes: u32,
}

impl AlertmanagerConfig {
    pub fn new(urls: Vec<String>) -> AlertmanagerConfig {
        AlertmanagerConfig {
            urls,
            auth: HttpAuthConfig::default(),
            severity_label: default_severity_label(),
            severity_map: default_severity_map(),
            cloud_label: default_cloud_label(),
            filter: vec![],
            ack_minutes: default_ack_minutes(),
        }
    }
}

impl PrometheusConfig {
    pub fn new(url: impl Into<String>) -> PrometheusConfig {
        PrometheusConfig {
            url: url.into(),
            auth: HttpAuthConfig::default(),
            schema: Schema::default(),
            cloud_label: default_cloud_label(),
            region_label: default_region_label(),
            queries: FigureQueries::default(),
            replication: vec![],
            backfill_minutes: default_backfill(),
            query_timeout_secs: None,
        }
    }
}

fn default_cloud_label() -> String {
    "cloud".into()
}
fn default_region_label() -> String {
    "region".into()
}
fn default_backfill() -> u32 {
    30
}
fn default_severity_label() -> String {
    "severity".into()
}
fn default_ack_minutes() -> u32 {
    120
}
fn default_severity_map() -> SeverityMap {
    severity::map(severity::ALERTMANAGER)
}

impl KindTable for PrometheusConfig {
    fn validate(&self, source: &SourceConfig) -> Result<(), (&'static str, String)> {
        check_http_url("url", &self.url)?;
        self.auth.validate()?;
        if self.schema == Schema::Opsdeck {
            self.validate_opsdeck()?;
        }
        for (key, q) in [
            ("rps", &self.queries.rps),
            ("p95_ms", &self.queries.p95_ms),
            ("error_rate", &self.queries.error_rate),
            ("cpu", &self.queries.cpu),
        ] {
            if q.as_deref().is_some_and(|q| q.trim().is_empty()) {
                return Err((key, format!("the {key} query is empty: remove it to use the default")));
            }
        }
        for r in &self.replication {
            if !(r.target.is_finite() && r.target > 0.0) {
                return Err(("target", format!("replication '{}': target must be a positive number", r.name)));
            }
        }
        if self.query_timeout_secs.is_some_and(|t| !(t > 0.0 && t <= source.timeout_secs as f64)) {
            return Err(("query_timeout_secs", "query_timeout_secs must be above 0 and at most timeout_secs".into()));
        }
        if self.backfill_minutes > 24 * 60 {
            return Err(("backfill_minutes", "backfill_minutes must be at most 1440 (a day)".into()));
        }
        Ok(())
    }

    fn ca_file(&self) -> Option<&std::path::Path> {
        self.auth.ca_file.as_deref()
    }
}

impl PrometheusConfig {
    /// The exported families name their own labels and figures: a setting that
    /// shapes queries would be silently ignored, so it is refused instead.
    fn validate_opsdeck(&self) -> Result<(), (&'static str, String)> {
        let why = "schema = \"opsdeck\" reads the families of `opsdeck export` by their own names";
        let q = &self.queries;
        if q.rps.is_some() || q.p95_ms.is_some() || q.error_rate.is_some() || q.cpu.is_some() {
            return Err(("queries", format!("{why}: remove [sources.prometheus.queries]")));
        }
        if !self.replication.is_empty() {
            return Err((
                "replication",
                format!("{why}, replication included: remove the [[sources.prometheus.replication]] tables"),
            ));
        }
        if self.cloud_label != default_cloud_label() {
            return Err(("cloud_label", format!("{why}: its cloud label is always \"cloud\"; remove cloud_label")));
        }
        if self.region_label != default_region_label() {
            return Err(("region_label", format!("{why}: its region label is always \"region\"; remove region_label")));
        }
        Ok(())
    }
}

impl KindTable for AlertmanagerConfig {
    fn validate(&self, _source: &SourceConfig) -> Result<(), (&'static str, String)> {
        if self.urls.is_empty() {
            return Err(("urls", "urls needs at least one Alertmanager".into()));
        }
        for u in &self.urls {
            check_http_url("urls", u)?;
        }
        self.auth.validate()?;
        if self.ack_minutes == 0 || self.ack_minutes > 30 * 24 * 60 {
            return Err(("ack_minutes", "ack_minutes must be between 1 and 43200 (30 days)".into()));
        }
        Ok(())
    }

    fn ca_file(&self) -> Option<&std::path::Path> {
        self.auth.ca_file.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{AlertmanagerConfig, PrometheusConfig};
    use crate::providers::registry;

    #[test]
    fn the_prometheus_example_parses() {
        let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/prometheus.toml"));
        let c = registry::load(p).expect("example parses");
        let prom = c.sources[0].table::<PrometheusConfig>().expect("prometheus table");
        assert_eq!(prom.replication.len(), 2);
        assert_eq!(prom.replication[0].kind, crate::model::ReplicationKind::Database);
        let am = c.sources[1].table::<AlertmanagerConfig>().expect("alertmanager table");
        assert_eq!(am.urls.len(), 2);
        assert_eq!(am.severity_map.get("critical"), Some(&crate::model::Severity::P0));
        assert!(!c.is_demo());
    }

    #[test]
    fn http_sources_are_checked_with_the_line_at_fault() {
        let prom =
            |body: &str| format!("[[sources]]\nname = \"p\"\nkind = \"prometheus\"\n[sources.prometheus]\n{body}");
        let am =
            |body: &str| format!("[[sources]]\nname = \"a\"\nkind = \"alertmanager\"\n[sources.alertmanager]\n{body}");
        let err = |text: String| registry::parse(Path::new("c.toml"), &text).expect_err("refused");
        let e = err(prom("url = \"ftp://x\"\n"));
        assert!(e.message.contains("scheme must be http or https"), "{e}");
        assert_eq!(e.line, 5, "{e}");
        assert!(err(prom("url = \"not a url\"\n")).message.contains("is not a URL"));
        let e = err(prom("url = \"http://p\"\n[sources.prometheus.auth]\nbearer_token_entry = \"token\"\n"));
        assert!(e.message.contains("<source>/<field>"), "{e}");
        let e = err(prom("url = \"http://p\"\n[sources.prometheus.auth]\nbasic_auth_user = \"me\"\n"));
        assert!(e.message.contains("needs both"), "{e}");
        let e = err(prom("url = \"http://p\"\nquery_timeout_secs = 9.0\n"));
        assert!(e.message.contains("at most timeout_secs"), "{e}");
        let e = err(prom("url = \"http://p\"\n[sources.prometheus.queries]\nrps = \" \"\n"));
        assert!(e.message.contains("rps query is empty"), "{e}");
        let e = err(prom("url = \"http://p\"\npassword = \"hunter2\"\n"));
        assert!(e.message.contains("unknown field `password`"), "{e}");
        let opsdeck = |rest: &str| prom(&format!("url = \"http://p\"\nschema = \"opsdeck\"\n{rest}"));
        let e = err(prom("url = \"http://p\"\nschema = \"opsdek\"\n"));
        assert!(e.message.contains("unknown schema \"opsdek\": use \"opsdeck\""), "{e}");
        assert_eq!(e.line, 6, "{e}");
        let e = err(opsdeck("[sources.prometheus.queries]\ncpu = \"avg(cpu)\"\n"));
        assert!(e.message.contains("remove [sources.prometheus.queries]"), "{e}");
        let e = err(opsdeck(
            "[[sources.prometheus.replication]]\nkind = \"database\"\nname = \"db\"\nfrom = \"aws\"\nto = \"azure\"\nquery = \"x\"\ntarget = 1\n",
        ));
        assert!(e.message.contains("replication included"), "{e}");
        let e = err(opsdeck("cloud_label = \"provider\"\n"));
        assert!(e.message.contains("remove cloud_label"), "{e}");
        assert_eq!(e.line, 7, "{e}");
        let ok = registry::parse(Path::new("c.toml"), &opsdeck("backfill_minutes = 10\n")).expect("accepted");
        assert_eq!(ok.sources[0].table::<PrometheusConfig>().map(|p| p.schema), Some(super::Schema::Opsdeck));
        let e = err(am("urls = []\n"));
        assert!(e.message.contains("at least one Alertmanager"), "{e}");
        let e = err(am("urls = [\"http://a\"]\nseverity_map = { critical = \"P9\" }\n"));
        assert_eq!(e.line, 6, "{e}");
        let e = err("[[sources]]\nname = \"p\"\nkind = \"prometheus\"\n".into());
        assert!(e.message.contains("needs a [sources.prometheus] table"), "{e}");
        let e =
            err("[[sources]]\nname = \"d\"\nkind = \"demo\"\n[sources.alertmanager]\nurls = [\"http://a\"]\n".into());
        assert!(e.message.contains("only for kind = \"alertmanager\""), "{e}");
    }
}
