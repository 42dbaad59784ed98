//! The config file: TOML at the XDG config path (or `--config PATH`). It never
//! holds a secret; later sources name keyring entries instead.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::toml_file::{self, TomlError};

/// Written by `opsdeck init`.
pub const SAMPLE: &str = include_str!("../assets/config.sample.toml");

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Built-in theme name or a path to a theme file.
    #[serde(default)]
    pub theme: Option<String>,
    /// No action can be taken from this console. `--read-only` on the command line
    /// also sets it; neither can be undone by the other.
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// `[guards]`: which guardrails must be judged (unknown refuses).
    #[serde(default)]
    pub guards: crate::actions::guard::GuardsConfig,
    /// `[[arbiters]]`: split-brain witnesses opsdeck probes itself.
    #[serde(default)]
    pub arbiters: Vec<crate::providers::arbiter::ArbiterConfig>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Demo,
    Aws,
    Prometheus,
    Alertmanager,
    #[serde(alias = "alibaba")]
    Aliyun,
    Azure,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    pub kind: SourceKind,
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Demo only: an estate file to load instead of the embedded one.
    #[serde(default)]
    pub estate: Option<PathBuf>,
    /// Requests/s one instance of a group serves at full load, for the capacity
    /// guardrail: a number for every group of the source, or a table by group name.
    #[serde(default)]
    pub rps_per_instance: Option<crate::providers::sizing::RpsPerInstance>,
    /// Required for kind = "aws": what to read and where.
    #[serde(default)]
    pub aws: Option<AwsConfig>,
    /// Required for kind = "prometheus".
    #[serde(default)]
    pub prometheus: Option<PrometheusConfig>,
    /// Required for kind = "alertmanager".
    #[serde(default)]
    pub alertmanager: Option<AlertmanagerConfig>,
    /// Required for kind = "aliyun": what to read and where.
    #[serde(default)]
    pub aliyun: Option<crate::providers::aliyun::config::AliyunConfig>,
    /// Required for kind = "azure": subscriptions and resources to read.
    #[serde(default)]
    pub azure: Option<AzureConfig>,
}

impl SourceConfig {
    /// The `ca_file` of this source's table, whichever kind it is.
    pub fn ca_file(&self) -> Option<&Path> {
        self.aws
            .as_ref()
            .and_then(|a| a.ca_file.as_deref())
            .or_else(|| self.azure.as_ref().and_then(|a| a.ca_file.as_deref()))
            .or_else(|| self.aliyun.as_ref().and_then(|a| a.ca_file.as_deref()))
            .or_else(|| self.prometheus.as_ref().and_then(|p| p.auth.ca_file.as_deref()))
            .or_else(|| self.alertmanager.as_ref().and_then(|a| a.auth.ca_file.as_deref()))
    }

    /// A source of `kind` with default timings and no kind table yet.
    pub fn new(name: impl Into<String>, kind: SourceKind) -> SourceConfig {
        SourceConfig {
            name: name.into(),
            kind,
            interval_secs: default_interval(),
            timeout_secs: default_timeout(),
            estate: None,
            rps_per_instance: None,
            aws: None,
            prometheus: None,
            alertmanager: None,
            aliyun: None,
            azure: None,
        }
    }
}

/// How to reach an HTTP source that sits behind authentication. Secrets are
/// named by keyring entry (`<source>/<field>`, stored with `opsdeck creds set`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpAuthConfig {
    /// Keyring entry holding a bearer token, e.g. "prom/bearer_token".
    #[serde(default)]
    pub bearer_token_entry: Option<String>,
    #[serde(default)]
    pub basic_auth_user: Option<String>,
    /// Keyring entry holding the basic-auth password, e.g. "prom/password".
    #[serde(default)]
    pub basic_auth_password_entry: Option<String>,
    /// PEM file of certificate authorities to trust besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl HttpAuthConfig {
    /// Every keyring entry this auth names, as (source, field).
    pub fn entries(&self) -> Vec<(&str, &str)> {
        [&self.bearer_token_entry, &self.basic_auth_password_entry]
            .into_iter()
            .flatten()
            .filter_map(|e| e.split_once('/'))
            .collect()
    }
}

/// `[sources.prometheus]`: figures from PromQL, one query per figure.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Base URL, e.g. "http://prometheus:9090" (a path prefix is kept).
    pub url: String,
    #[serde(default)]
    pub auth: HttpAuthConfig,
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
    pub kind: crate::model::ReplicationKind,
    pub name: String,
    pub from: crate::model::CloudKind,
    pub to: crate::model::CloudKind,
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
    pub severity_map: std::collections::BTreeMap<String, crate::model::Severity>,
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
/// The severity words in common use (Prometheus mixins, PagerDuty) to P0..P3.
fn default_severity_map() -> std::collections::BTreeMap<String, crate::model::Severity> {
    use crate::model::Severity::*;
    [
        ("critical", P0),
        ("page", P0),
        ("error", P1),
        ("high", P1),
        ("warning", P2),
        ("medium", P2),
        ("info", P3),
        ("low", P3),
        ("none", P3),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// `[sources.aws]`: an AWS account. Credentials are never here: they come from the
/// standard chain (environment, shared files and profiles, SSO, assume-role, IMDS).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Label shown for the account ("prod", "123456789012").
    pub account: String,
    pub regions: Vec<String>,
    /// A profile of the shared config files; the default chain otherwise.
    #[serde(default)]
    pub profile: Option<String>,
    /// Send every call here instead of AWS (a VPC endpoint, or moto in tests).
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// PEM bundle of certificate authorities trusted besides the system's (a private
    /// endpoint or TLS-inspecting proxy), for every SDK call of this account.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Only Auto Scaling groups with this tag, as "Key=Value".
    #[serde(default)]
    pub asg_tag: Option<String>,
    /// Alarm severity: a tag holding P0..P3 (checked first), then name prefixes.
    #[serde(default = "default_severity_tag")]
    pub severity_tag: String,
    /// Route 53 record sets with weighted or failover routing to show and steer.
    #[serde(default)]
    pub records: Vec<AwsRecordConfig>,
    /// Load balancer per region (the `app/NAME/ID` dimension) for requests, p95 and 5xx.
    #[serde(default)]
    pub load_balancers: std::collections::BTreeMap<String, String>,
    /// Cost Explorer is billed per call: poll it this rarely.
    #[serde(default = "default_cost_interval")]
    pub cost_interval_secs: u64,
    /// Aurora global database clusters per region (DBClusterIdentifier): replication lag.
    #[serde(default)]
    pub aurora_clusters: std::collections::BTreeMap<String, Vec<String>>,
    /// ElastiCache cache clusters per region (CacheClusterId): replication lag.
    #[serde(default)]
    pub elasticache_clusters: std::collections::BTreeMap<String, Vec<String>>,
    /// Recovery point objective for database replication lag, seconds.
    #[serde(default = "default_rpo")]
    pub rpo_secs: f64,
    /// Target for cache replication lag, seconds.
    #[serde(default = "default_cache_target")]
    pub cache_lag_target_secs: f64,
}

impl AwsConfig {
    /// An account with every optional setting at its default.
    pub fn new(account: impl Into<String>, regions: Vec<String>) -> AwsConfig {
        AwsConfig {
            account: account.into(),
            regions,
            profile: None,
            endpoint_url: None,
            ca_file: None,
            asg_tag: None,
            severity_tag: default_severity_tag(),
            records: vec![],
            load_balancers: Default::default(),
            cost_interval_secs: default_cost_interval(),
            aurora_clusters: Default::default(),
            elasticache_clusters: Default::default(),
            rpo_secs: default_rpo(),
            cache_lag_target_secs: default_cache_target(),
        }
    }
}

fn default_rpo() -> f64 {
    30.0
}
fn default_cache_target() -> f64 {
    2.0
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsRecordConfig {
    /// Hosted zone id, with or without the `/hostedzone/` prefix.
    pub zone_id: String,
    /// Record name, e.g. "shop.example.com".
    pub name: String,
    /// Which cloud each answer (set identifier) serves; guessed from its target otherwise.
    #[serde(default)]
    pub clouds: std::collections::BTreeMap<String, crate::model::CloudKind>,
}

/// `[sources.azure]`: Azure subscriptions. Secrets are never here: the
/// environment's service principal or workload identity, a client certificate
/// (path here, its password in the keyring as `<source>/client_certificate_password`),
/// a client secret in the keyring (`<source>/client_secret`) for the tenant_id /
/// client_id named here, the Azure CLI login or managed identity.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// Subscription ids; one source each (alerts and cost are per subscription).
    pub subscriptions: Vec<String>,
    /// Only alerts of these resource groups; the whole subscription when empty.
    #[serde(default)]
    pub resource_groups: Vec<String>,
    /// VM Scale Set resource ids (`/subscriptions/../virtualMachineScaleSets/NAME`).
    #[serde(default)]
    pub scale_sets: Vec<String>,
    /// Traffic Manager profile resource ids.
    #[serde(default)]
    pub traffic_manager_profiles: Vec<String>,
    /// Front Door (Standard/Premium, `Microsoft.Cdn/profiles`) resource ids for requests, latency, 5xx.
    #[serde(default)]
    pub front_doors: Vec<String>,
    /// Application Gateway resource ids for requests, latency, failed requests.
    #[serde(default)]
    pub app_gateways: Vec<String>,
    /// A service principal whose secret is in the keyring as `<source>/client_secret`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Entra ID authority (sovereign clouds); AZURE_AUTHORITY_HOST or the public cloud otherwise.
    #[serde(default)]
    pub authority_host: Option<String>,
    /// Resource Manager endpoint; also the token audience unless `token_audience` says otherwise.
    #[serde(default = "default_arm_endpoint")]
    pub arm_endpoint: String,
    /// The audience tokens are asked for when it is not the ARM endpoint (Azure
    /// Stack Hub, some sovereign clouds): an app ID URI, or a scope ending in `/.default`.
    #[serde(default)]
    pub token_audience: Option<String>,
    /// A certificate for the tenant_id / client_id service principal: a PEM file with
    /// the certificate and its RSA key, or a PFX / PKCS#12 file whose password, if
    /// any, is in the keyring as `<source>/client_certificate_password`.
    #[serde(default)]
    pub client_certificate: Option<PathBuf>,
    /// PEM bundle of certificate authorities trusted besides the system's, for ARM
    /// and the token authority (Azure Stack Hub, a TLS-inspecting proxy).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Alert severity (Sev0..Sev4) to P0..P3.
    #[serde(default = "crate::providers::azure::default_severity_map")]
    pub severity_map: std::collections::BTreeMap<String, crate::model::Severity>,
    /// Cost Management is throttled hard: query it this rarely.
    #[serde(default = "default_cost_interval")]
    pub cost_interval_secs: u64,
}

impl AzureConfig {
    /// Subscriptions with every optional setting at its default.
    pub fn new(subscriptions: Vec<String>) -> AzureConfig {
        AzureConfig {
            subscriptions,
            resource_groups: vec![],
            scale_sets: vec![],
            traffic_manager_profiles: vec![],
            front_doors: vec![],
            app_gateways: vec![],
            tenant_id: None,
            client_id: None,
            authority_host: None,
            arm_endpoint: default_arm_endpoint(),
            token_audience: None,
            client_certificate: None,
            ca_file: None,
            severity_map: crate::providers::azure::default_severity_map(),
            cost_interval_secs: default_cost_interval(),
        }
    }

    /// The scope tokens are requested for: `token_audience` (or the ARM endpoint)
    /// plus `/.default`, or `token_audience` as written when it is already a scope.
    pub fn token_scope(&self) -> String {
        match self.token_audience.as_deref() {
            Some(a) if a.ends_with("/.default") => a.to_string(),
            Some(a) => format!("{}/.default", a.trim_end_matches('/')),
            None => format!("{}/.default", self.arm_endpoint.trim_end_matches('/')),
        }
    }

    /// Every configured resource id with the key it came from.
    pub fn resources(&self) -> impl Iterator<Item = (&'static str, &String)> {
        self.scale_sets
            .iter()
            .map(|r| ("scale_sets", r))
            .chain(self.traffic_manager_profiles.iter().map(|r| ("traffic_manager_profiles", r)))
            .chain(self.front_doors.iter().map(|r| ("front_doors", r)))
            .chain(self.app_gateways.iter().map(|r| ("app_gateways", r)))
    }
}

/// The subscription of an ARM resource id, if it is one.
pub fn subscription_of(resource_id: &str) -> Option<&str> {
    let mut parts = resource_id.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some(s), Some(id)) if s.eq_ignore_ascii_case("subscriptions") && !id.is_empty() => Some(id),
        _ => None,
    }
}

fn default_arm_endpoint() -> String {
    "https://management.azure.com".into()
}

fn default_severity_tag() -> String {
    "Severity".into()
}
fn default_cost_interval() -> u64 {
    3600
}

fn default_interval() -> u64 {
    5
}
fn default_timeout() -> u64 {
    4
}

impl Config {
    /// The config path opsdeck reads when none is given.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "opsdeck").map(|d| d.config_dir().join("config.toml"))
    }

    /// Where user themes live: `<config dir>/themes/NAME.toml`.
    pub fn themes_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "opsdeck").map(|d| d.config_dir().join("themes"))
    }

    pub fn load(path: &Path) -> Result<Config, TomlError> {
        let text = std::fs::read_to_string(path).map_err(|e| TomlError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read config: {e}"),
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, TomlError> {
        let config: Config = toml_file::parse(path, text)?;
        let mut names = BTreeSet::new();
        for s in &config.sources {
            let near = format!("\"{}\"", s.name);
            if s.name.trim().is_empty() {
                return Err(toml_file::invalid(path, text, "name", None, "a source needs a non-empty name"));
            }
            if !names.insert(s.name.as_str()) {
                return Err(toml_file::invalid(
                    path,
                    text,
                    "name",
                    Some(&near),
                    format!("source name '{}' is used twice", s.name),
                ));
            }
            if s.interval_secs == 0 || s.interval_secs > 86_400 {
                return Err(toml_file::invalid(
                    path,
                    text,
                    "interval_secs",
                    Some(&near),
                    "interval_secs must be between 1 and 86400",
                ));
            }
            if s.timeout_secs == 0 || s.timeout_secs > 600 {
                return Err(toml_file::invalid(
                    path,
                    text,
                    "timeout_secs",
                    Some(&near),
                    "timeout_secs must be between 1 and 600",
                ));
            }
            if let Some(Err(msg)) = s.rps_per_instance.as_ref().map(|r| r.validate()) {
                return Err(toml_file::invalid(path, text, "rps_per_instance", Some(&near), msg));
            }
            if s.estate.is_some() && s.kind != SourceKind::Demo {
                return Err(toml_file::invalid(
                    path,
                    text,
                    "estate",
                    Some(&near),
                    "estate is only for kind = \"demo\"",
                ));
            }
            match (&s.kind, &s.aws) {
                (SourceKind::Aws, None) => {
                    let msg = format!("source '{}' of kind \"aws\" needs a [sources.aws] table", s.name);
                    return Err(toml_file::invalid(path, text, "kind", Some(&near), msg));
                }
                (SourceKind::Aws, Some(a)) => {
                    let bad = |key: &str, msg: &str| Err(toml_file::invalid(path, text, key, Some(&near), msg));
                    if a.regions.is_empty() {
                        return bad("regions", "regions needs at least one region");
                    }
                    if a.asg_tag.as_deref().is_some_and(|t| !t.contains('=')) {
                        return bad("asg_tag", "asg_tag must look like Key=Value");
                    }
                    if a.cost_interval_secs < 60 {
                        return bad("cost_interval_secs", "cost_interval_secs must be at least 60");
                    }
                }
                (_, Some(_)) => {
                    let msg = "[sources.aws] is only for kind = \"aws\"";
                    return Err(toml_file::invalid(path, text, "aws", Some(&near), msg));
                }
                _ => {}
            }
            Self::check_http_sources(path, text, s, &near)?;
            match (&s.kind, &s.aliyun) {
                (SourceKind::Aliyun, None) => {
                    let msg = format!("source '{}' of kind \"aliyun\" needs a [sources.aliyun] table", s.name);
                    return Err(toml_file::invalid(path, text, "kind", Some(&near), msg));
                }
                (SourceKind::Aliyun, Some(a)) => {
                    if let Err((key, msg)) = a.validate() {
                        return Err(toml_file::invalid(path, text, key, Some(&near), msg));
                    }
                }
                (_, Some(_)) => {
                    let msg = "[sources.aliyun] is only for kind = \"aliyun\"";
                    return Err(toml_file::invalid(path, text, "aliyun", Some(&near), msg));
                }
                _ => {}
            }
            match (&s.kind, &s.azure) {
                (SourceKind::Azure, None) => {
                    let msg = format!("source '{}' of kind \"azure\" needs a [sources.azure] table", s.name);
                    return Err(toml_file::invalid(path, text, "kind", Some(&near), msg));
                }
                (SourceKind::Azure, Some(a)) => {
                    if let Err((key, msg)) = validate_azure(a) {
                        return Err(toml_file::invalid(path, text, key, Some(&near), msg));
                    }
                }
                (_, Some(_)) => {
                    let msg = "[sources.azure] is only for kind = \"azure\"";
                    return Err(toml_file::invalid(path, text, "azure", Some(&near), msg));
                }
                _ => {}
            }
        }
        let mut arbiters = BTreeSet::new();
        for a in &config.arbiters {
            let near = format!("\"{}\"", a.name);
            if let Err((key, msg)) = a.validate() {
                return Err(toml_file::invalid(path, text, key, Some(&near), msg));
            }
            if !arbiters.insert(a.name.as_str()) {
                let msg = format!("arbiter name '{}' is used twice", a.name);
                return Err(toml_file::invalid(path, text, "name", Some(&near), msg));
            }
        }
        Ok(config)
    }

    /// The `[sources.prometheus]` / `[sources.alertmanager]` tables: present for their
    /// kind only, with URLs that parse and keyring entries that name `<source>/<field>`.
    fn check_http_sources(path: &Path, text: &str, s: &SourceConfig, near: &str) -> Result<(), TomlError> {
        let bad = |key: &str, msg: String| Err(toml_file::invalid(path, text, key, Some(near), msg));
        let table_for = |present: bool, kind: SourceKind, key: &str| -> Result<(), TomlError> {
            if present && s.kind != kind {
                return bad(key, format!("[sources.{key}] is only for kind = \"{key}\""));
            }
            if !present && s.kind == kind {
                return bad("kind", format!("source '{}' of kind \"{key}\" needs a [sources.{key}] table", s.name));
            }
            Ok(())
        };
        table_for(s.prometheus.is_some(), SourceKind::Prometheus, "prometheus")?;
        table_for(s.alertmanager.is_some(), SourceKind::Alertmanager, "alertmanager")?;
        let check_url = |key: &str, url: &str| -> Result<(), TomlError> {
            match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
                Ok(u) => bad(key, format!("{url}: the scheme must be http or https, not {}", u.scheme())),
                Err(e) => bad(key, format!("'{url}' is not a URL: {e}")),
            }
        };
        let check_auth = |auth: &HttpAuthConfig| -> Result<(), TomlError> {
            for (key, entry) in [
                ("bearer_token_entry", &auth.bearer_token_entry),
                ("basic_auth_password_entry", &auth.basic_auth_password_entry),
            ] {
                if let Some(e) = entry
                    && !e.split_once('/').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
                {
                    return bad(key, format!("'{e}' must name a keyring entry as <source>/<field>"));
                }
            }
            if auth.basic_auth_user.is_some() != auth.basic_auth_password_entry.is_some() {
                return bad(
                    "basic_auth_user",
                    "basic auth needs both basic_auth_user and basic_auth_password_entry".into(),
                );
            }
            if auth.bearer_token_entry.is_some() && auth.basic_auth_user.is_some() {
                return bad("bearer_token_entry", "choose a bearer token or basic auth, not both".into());
            }
            Ok(())
        };
        if let Some(p) = &s.prometheus {
            check_url("url", &p.url)?;
            check_auth(&p.auth)?;
            for (key, q) in [
                ("rps", &p.queries.rps),
                ("p95_ms", &p.queries.p95_ms),
                ("error_rate", &p.queries.error_rate),
                ("cpu", &p.queries.cpu),
            ] {
                if q.as_deref().is_some_and(|q| q.trim().is_empty()) {
                    return bad(key, format!("the {key} query is empty: remove it to use the default"));
                }
            }
            for r in &p.replication {
                if !(r.target.is_finite() && r.target > 0.0) {
                    return bad("target", format!("replication '{}': target must be a positive number", r.name));
                }
            }
            if p.query_timeout_secs.is_some_and(|t| !(t > 0.0 && t <= s.timeout_secs as f64)) {
                return bad("query_timeout_secs", "query_timeout_secs must be above 0 and at most timeout_secs".into());
            }
            if p.backfill_minutes > 24 * 60 {
                return bad("backfill_minutes", "backfill_minutes must be at most 1440 (a day)".into());
            }
        }
        if let Some(a) = &s.alertmanager {
            if a.urls.is_empty() {
                return bad("urls", "urls needs at least one Alertmanager".into());
            }
            for u in &a.urls {
                check_url("urls", u)?;
            }
            check_auth(&a.auth)?;
            if a.ack_minutes == 0 || a.ack_minutes > 30 * 24 * 60 {
                return bad("ack_minutes", "ack_minutes must be between 1 and 43200 (30 days)".into());
            }
        }
        Ok(())
    }

    /// No sources configured means: run the embedded demo.
    pub fn is_demo(&self) -> bool {
        self.sources.is_empty() || self.sources.iter().all(|s| s.kind == SourceKind::Demo)
    }
}

/// An Entra ID audience: an absolute URI (`https://management.core.windows.net/`,
/// `api://GUID`), no query or fragment (they are not part of a scope).
fn audience_ok(aud: &str) -> Result<(), &'static str> {
    if aud.is_empty() || aud.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a URI without spaces");
    }
    let (scheme, rest) = aud.split_once("://").ok_or("must be an absolute URI such as https://management.example/")?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Err("has no valid scheme");
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err("names no host or application");
    }
    if aud.contains(['?', '#']) {
        return Err("must not carry a query or fragment");
    }
    Ok(())
}

/// `[sources.azure]` checks: the key to point at and what is wrong.
fn validate_azure(a: &AzureConfig) -> Result<(), (&'static str, String)> {
    if a.subscriptions.is_empty() {
        return Err(("subscriptions", "subscriptions needs at least one subscription id".into()));
    }
    for (key, id) in a.resources() {
        match subscription_of(id) {
            None => return Err((key, format!("{id:?} is not a resource id (/subscriptions/SUB/resourceGroups/...)"))),
            Some(sub) if !a.subscriptions.iter().any(|s| s.eq_ignore_ascii_case(sub)) => {
                return Err((key, format!("{id:?} is in subscription {sub}, which is not in subscriptions")));
            }
            _ => {}
        }
    }
    for (key, url) in [("arm_endpoint", Some(&a.arm_endpoint)), ("authority_host", a.authority_host.as_ref())] {
        if let Some(u) = url
            && !u.starts_with("https://")
        {
            return Err((key, format!("{key} must be an https:// URL (tokens are only sent over TLS)")));
        }
    }
    if a.tenant_id.is_some() != a.client_id.is_some() {
        return Err(("tenant_id", "tenant_id and client_id go together (the secret is in the keyring)".into()));
    }
    if a.client_certificate.is_some() && a.client_id.is_none() {
        return Err(("client_certificate", "client_certificate needs tenant_id and client_id".into()));
    }
    if let Some(aud) = &a.token_audience {
        audience_ok(aud).map_err(|why| ("token_audience", format!("token_audience {aud:?}: {why}")))?;
    }
    if a.cost_interval_secs < 60 {
        return Err(("cost_interval_secs", "cost_interval_secs must be at least 60".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_config_parses_and_selects_the_demo() {
        let c = Config::parse(Path::new("sample.toml"), SAMPLE).expect("sample parses");
        assert!(c.is_demo());
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sources[0].interval_secs, 5);
    }

    #[test]
    fn bad_value_names_file_line_column() {
        let text = "theme = \"default\"\n[[sources]]\nname = \"demo\"\nkind = \"demo\"\ninterval_secs = \"fast\"\n";
        let err = Config::parse(Path::new("/etc/opsdeck.toml"), text).expect_err("bad type");
        assert_eq!((err.line, err.column), (5, 17), "{err}");
        assert!(err.to_string().starts_with("/etc/opsdeck.toml:5:17:"), "{err}");
    }

    #[test]
    fn duplicate_source_names_are_refused() {
        let text = "[[sources]]\nname = \"a\"\nkind = \"demo\"\n[[sources]]\nname = \"a\"\nkind = \"demo\"\n";
        let err = Config::parse(Path::new("c.toml"), text).expect_err("dup");
        assert!(err.message.contains("used twice"), "{err}");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn the_aws_example_parses() {
        let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aws.toml"));
        let c = Config::load(p).expect("example parses");
        let aws = c.sources[0].aws.as_ref().expect("aws table");
        assert_eq!(aws.regions, vec!["us-west-1", "us-east-1"]);
        assert_eq!(aws.records[0].clouds.get("azure-weu"), Some(&crate::model::CloudKind::Azure));
        assert!(!c.is_demo());
    }

    #[test]
    fn each_https_source_kind_takes_a_ca_file() {
        let text = "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = [\"eu-west-1\"]\nca_file = \"/ca/aws.pem\"\n\
                    [[sources]]\nname = \"z\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\nca_file = \"/ca/az.pem\"\n\
                    [[sources]]\nname = \"l\"\nkind = \"aliyun\"\n[sources.aliyun]\nregion = \"cn-hangzhou\"\nca_file = \"/ca/ali.pem\"\n\
                    [[sources]]\nname = \"p\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"https://p\"\n[sources.prometheus.auth]\nca_file = \"/ca/p.pem\"\n\
                    [[sources]]\nname = \"d\"\nkind = \"demo\"\n";
        let c = Config::parse(Path::new("c.toml"), text).expect("parses");
        let files: Vec<Option<&Path>> = c.sources.iter().map(SourceConfig::ca_file).collect();
        let want = ["/ca/aws.pem", "/ca/az.pem", "/ca/ali.pem", "/ca/p.pem"].map(|p| Some(Path::new(p)));
        assert_eq!(files[..4], want);
        assert_eq!(files[4], None);
    }

    #[test]
    fn an_aws_source_needs_its_table_and_regions() {
        let err =
            Config::parse(Path::new("c.toml"), "[[sources]]\nname = \"a\"\nkind = \"aws\"\n").expect_err("no table");
        assert!(err.message.contains("[sources.aws]"), "{err}");
        let text = "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = []\n";
        let err = Config::parse(Path::new("c.toml"), text).expect_err("no regions");
        assert_eq!(err.line, 6, "{err}");
    }

    #[test]
    fn the_prometheus_example_parses() {
        let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/prometheus.toml"));
        let c = Config::load(p).expect("example parses");
        let prom = c.sources[0].prometheus.as_ref().expect("prometheus table");
        assert_eq!(prom.replication.len(), 2);
        assert_eq!(prom.replication[0].kind, crate::model::ReplicationKind::Database);
        let am = c.sources[1].alertmanager.as_ref().expect("alertmanager table");
        assert_eq!(am.urls.len(), 2);
        assert_eq!(am.severity_map.get("critical"), Some(&crate::model::Severity::P0));
        assert!(!c.is_demo());
    }

    #[test]
    fn the_azure_example_parses() {
        let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/azure.toml"));
        let c = Config::load(p).expect("example parses");
        let az = c.sources[0].azure.as_ref().expect("azure table");
        assert_eq!(az.subscriptions.len(), 1);
        assert_eq!(az.severity_map.get("Sev4"), Some(&crate::model::Severity::P3));
        assert_eq!(az.arm_endpoint, "https://management.azure.com");
        assert!(!c.is_demo());
    }

    #[test]
    fn http_sources_are_checked_with_the_line_at_fault() {
        let prom =
            |body: &str| format!("[[sources]]\nname = \"p\"\nkind = \"prometheus\"\n[sources.prometheus]\n{body}");
        let am =
            |body: &str| format!("[[sources]]\nname = \"a\"\nkind = \"alertmanager\"\n[sources.alertmanager]\n{body}");
        let err = |text: String| Config::parse(Path::new("c.toml"), &text).expect_err("refused");
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

    #[test]
    fn azure_validation_points_at_the_key() {
        let head = "[[sources]]\nname = \"a\"\nkind = \"azure\"\n";
        let err = Config::parse(Path::new("c.toml"), head).expect_err("no table");
        assert!(err.message.contains("[sources.azure]"), "{err}");
        let text = format!(
            "{head}[sources.azure]\nsubscriptions = [\"s1\"]\nscale_sets = [\"/subscriptions/s2/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/x\"]\n"
        );
        let err = Config::parse(Path::new("c.toml"), &text).expect_err("foreign subscription");
        assert_eq!(err.line, 6, "{err}");
        assert!(err.message.contains("subscription s2"), "{err}");
        let text = format!("{head}[sources.azure]\nsubscriptions = [\"s1\"]\narm_endpoint = \"http://127.0.0.1:1\"\n");
        let err = Config::parse(Path::new("c.toml"), &text).expect_err("plain http");
        assert!(err.message.contains("https://"), "{err}");
        let text = format!("{head}[sources.azure]\nsubscriptions = [\"s1\"]\nseverity_map = {{ Sev0 = \"P9\" }}\n");
        assert!(Config::parse(Path::new("c.toml"), &text).is_err(), "unknown severity");
        let text =
            format!("{head}[sources.azure]\nsubscriptions = [\"s1\"]\n[[sources]]\nname = \"b\"\nkind = \"demo\"\n");
        assert!(Config::parse(Path::new("c.toml"), &text).is_ok());
    }

    #[test]
    fn azure_token_audience_and_certificate_are_checked() {
        let head = "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s1\"]\n";
        let parse = |extra: &str| Config::parse(Path::new("c.toml"), &format!("{head}{extra}"));
        for bad in ["management.local", "https://", "https:///x", "https://a b", "https://m.local/?x=1", "://m"] {
            let err = parse(&format!("token_audience = {bad:?}\n")).expect_err(bad);
            assert_eq!(err.line, 6, "{bad}: {err}");
            assert!(err.message.contains("token_audience"), "{err}");
        }
        let ok = |extra: &str| parse(extra).expect("valid").sources.remove(0).azure.expect("azure");
        assert_eq!(ok("").token_scope(), "https://management.azure.com/.default", "the ARM endpoint by default");
        let hub = ok(
            "arm_endpoint = \"https://management.local.azurestack.external\"\ntoken_audience = \"https://management.adfs.azurestack.local/4de154de-f8a8-4017-af41-df619da68155\"\n",
        );
        assert_eq!(
            hub.token_scope(),
            "https://management.adfs.azurestack.local/4de154de-f8a8-4017-af41-df619da68155/.default"
        );
        assert_eq!(
            ok("token_audience = \"https://management.core.windows.net/\"\n").token_scope(),
            "https://management.core.windows.net/.default"
        );
        assert_eq!(
            ok("token_audience = \"api://x/.default\"\n").token_scope(),
            "api://x/.default",
            "a scope as written"
        );
        let err = parse("client_certificate = \"/c.pem\"\n").expect_err("no ids");
        assert!(err.message.contains("client_certificate needs tenant_id and client_id"), "{err}");
        let c = ok("tenant_id = \"t\"\nclient_id = \"c\"\nclient_certificate = \"/c.pfx\"\n");
        assert_eq!(c.client_certificate.as_deref(), Some(Path::new("/c.pfx")));
    }

    #[test]
    fn unknown_kind_is_refused() {
        let err = Config::parse(Path::new("c.toml"), "[[sources]]\nname = \"x\"\nkind = \"gcp\"\n").expect_err("kind");
        assert_eq!(err.line, 3, "{err}");
    }
}
