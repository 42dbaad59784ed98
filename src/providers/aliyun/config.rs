//! `[sources.aliyun]`: an Alibaba Cloud account in one region. Credentials are
//! never here: environment, the aliyun CLI's profile, the ECS instance's RAM
//! role, or the keyring (see creds). Only which identity to use may be said here.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::client::Product;
use super::sign::SignatureVersion;
use crate::config::{KindTable, SourceConfig};
use crate::model::{CloudKind, Severity};
use crate::providers::shared::severity;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AliyunConfig {
    /// Label shown for the account.
    #[serde(default)]
    pub account: Option<String>,
    /// Region id, e.g. "cn-hangzhou".
    pub region: String,
    /// An aliyun CLI profile (`~/.aliyun/config.json`); its current one otherwise.
    #[serde(default)]
    pub profile: Option<String>,
    /// `"ecs_ram_role"`: the RAM role of the ECS instance opsdeck runs on, read from
    /// the metadata service. Unset: the standard chain (see creds).
    #[serde(default)]
    pub credentials: Option<CredentialMode>,
    /// The instance's RAM role to use; the one attached to it when unset.
    #[serde(default)]
    pub ram_role_name: Option<String>,
    /// The ECS metadata service (a test's stand-in, a proxy); http://100.100.100.200 when unset.
    #[serde(default)]
    pub metadata_endpoint: Option<String>,
    /// Per-product endpoint overrides: keys cms, ess, alidns, bss (or business), sts, ecs.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// "v3" (ACS3-HMAC-SHA256, the default) or "v1" (RPC HMAC-SHA1).
    #[serde(default)]
    pub signature: SignatureVersion,
    /// ESS scaling group ids to show and scale; every group of the region when empty.
    #[serde(default)]
    pub scaling_groups: Vec<String>,
    /// GTM access strategies to show and fail over.
    #[serde(default)]
    pub gtm: Vec<GtmConfig>,
    /// What CloudMonitor reads.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// CloudMonitor alert level → opsdeck severity; default P1→P0, P2→P1, P3→P2, P4→P3.
    #[serde(default = "default_severity_map")]
    pub severity_map: BTreeMap<String, Severity>,
    /// Recovery point objective for PolarDB replication lag, seconds.
    #[serde(default = "default_rpo")]
    pub rpo_secs: f64,
    /// Read the bill (QueryBillOverview) this rarely.
    #[serde(default = "default_cost_interval")]
    pub cost_interval_secs: u64,
    /// Set false to skip Billing (a RAM user without bss permissions).
    #[serde(default = "yes")]
    pub billing: bool,
    /// How far back CloudMonitor alert logs are read, minutes.
    #[serde(default = "default_alert_window")]
    pub alert_window_mins: u32,
    /// PEM bundle of certificate authorities trusted besides the system's (a TLS
    /// proxy or private endpoint in front of the OpenAPI endpoints).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Read the groups' spot and pay-as-you-go prices (ESS
    /// DescribeScalingConfigurations each poll, ECS DescribeSpotPriceHistory
    /// hourly). Off unless asked: the RAM policy needs ecs:DescribeSpotPriceHistory
    /// and ess:DescribeScalingConfigurations besides the read-only monitoring set.
    #[serde(default)]
    pub spot_prices: bool,
    /// The spot offer priced: network type (`vpc`, `classic`) and OS (`linux`, `windows`).
    #[serde(default = "default_spot_network")]
    pub spot_network: String,
    #[serde(default = "default_spot_os")]
    pub spot_os: String,
    /// Prices move slowly: read them this rarely (and at once when a type changes).
    #[serde(default = "default_price_interval")]
    pub price_interval_secs: u64,
}

fn default_spot_network() -> String {
    "vpc".into()
}
fn default_spot_os() -> String {
    "linux".into()
}
fn default_price_interval() -> u64 {
    3600
}

/// An identity named in the config rather than found by the standard chain.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CredentialMode {
    /// The ECS instance's RAM role, through the metadata service.
    EcsRamRole,
}

/// Where the ECS metadata service answers on every instance.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GtmConfig {
    /// GTM instance id (`gtm-cn-...`), for DescribeDnsGtmInstanceStatus.
    pub instance_id: String,
    /// Access strategy id, for DescribeDnsGtmAccessStrategy and SetDnsGtmAccessMode.
    pub strategy_id: String,
    /// Policy name shown (the domain); the strategy's name otherwise.
    #[serde(default)]
    pub name: Option<String>,
    /// Which cloud the default address pool group serves.
    #[serde(default = "aliyun")]
    pub default_cloud: CloudKind,
    /// Which cloud the failover address pool group serves.
    #[serde(default = "aliyun")]
    pub failover_cloud: CloudKind,
    /// DNS TTL of the answers, seconds (GTM does not report it with the strategy).
    #[serde(default = "default_ttl")]
    pub ttl_secs: u32,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// ECS instance ids whose CPUUtilization (acs_ecs_dashboard) is averaged.
    #[serde(default)]
    pub ecs_instances: Vec<String>,
    /// Load balancers whose requests, response time and 5xx make the front door.
    #[serde(default)]
    pub load_balancers: Vec<LoadBalancerConfig>,
    /// PolarDB cluster ids whose replica lag (acs_polardb cluster_replica_lag, s) is read.
    #[serde(default)]
    pub polardb_clusters: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LbKind {
    /// Classic Load Balancer: acs_slb_dashboard, dimension instanceId.
    Slb,
    /// Application Load Balancer: acs_alb, dimension loadBalancerId; metric names must be given.
    Alb,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerConfig {
    pub kind: LbKind,
    pub id: String,
    /// Requests per second (SLB default InstanceQps).
    #[serde(default)]
    pub qps_metric: Option<String>,
    /// Response time in ms (SLB default InstanceRt).
    #[serde(default)]
    pub rt_metric: Option<String>,
    /// 5xx answers per second (SLB default InstanceStatusCode5xx).
    #[serde(default)]
    pub errors_metric: Option<String>,
}

impl LoadBalancerConfig {
    pub fn namespace(&self) -> &'static str {
        match self.kind {
            LbKind::Slb => "acs_slb_dashboard",
            LbKind::Alb => "acs_alb",
        }
    }
    pub fn dimension(&self) -> &'static str {
        match self.kind {
            LbKind::Slb => "instanceId",
            LbKind::Alb => "loadBalancerId",
        }
    }
    /// (qps, rt, 5xx) metric names; ALB has no defaults here (none are pinned by a fixture).
    pub fn metric_names(&self) -> Option<(String, String, String)> {
        let d = |given: &Option<String>, slb: &str| match self.kind {
            LbKind::Slb => Some(given.clone().unwrap_or_else(|| slb.to_string())),
            LbKind::Alb => given.clone(),
        };
        Some((
            d(&self.qps_metric, "InstanceQps")?,
            d(&self.rt_metric, "InstanceRt")?,
            d(&self.errors_metric, "InstanceStatusCode5xx")?,
        ))
    }
}

fn yes() -> bool {
    true
}
fn aliyun() -> CloudKind {
    CloudKind::Aliyun
}
fn default_ttl() -> u32 {
    60
}
fn default_rpo() -> f64 {
    30.0
}
fn default_cost_interval() -> u64 {
    3600
}
fn default_alert_window() -> u32 {
    60
}

/// CloudMonitor levels P1..P4 to P0..P3.
pub fn default_severity_map() -> BTreeMap<String, Severity> {
    severity::map(severity::CLOUDMONITOR)
}

impl KindTable for AliyunConfig {
    fn validate(&self, _source: &SourceConfig) -> Result<(), (&'static str, String)> {
        AliyunConfig::validate(self)
    }

    fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_deref()
    }
}

impl AliyunConfig {
    /// An account in `region` with every optional setting at its default.
    pub fn new(region: impl Into<String>) -> AliyunConfig {
        AliyunConfig {
            account: None,
            region: region.into(),
            profile: None,
            credentials: None,
            ram_role_name: None,
            metadata_endpoint: None,
            endpoints: BTreeMap::new(),
            signature: SignatureVersion::V3,
            scaling_groups: vec![],
            gtm: vec![],
            metrics: MetricsConfig::default(),
            severity_map: default_severity_map(),
            rpo_secs: default_rpo(),
            cost_interval_secs: default_cost_interval(),
            billing: true,
            alert_window_mins: default_alert_window(),
            ca_file: None,
            spot_prices: false,
            spot_network: default_spot_network(),
            spot_os: default_spot_os(),
            price_interval_secs: default_price_interval(),
        }
    }

    /// The metadata service's base URL, without a trailing slash.
    pub fn metadata_url(&self) -> String {
        let url = self.metadata_endpoint.as_deref().unwrap_or(DEFAULT_METADATA_ENDPOINT);
        let url = if url.contains("://") { url.to_string() } else { format!("http://{url}") };
        url.trim_end_matches('/').to_string()
    }

    /// The key at fault and why, for a file:line:col error.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let region_ok = !self.region.is_empty()
            && self.region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(("region", format!("'{}' is not a region id such as cn-hangzhou", self.region)));
        }
        for (k, url) in &self.endpoints {
            if Product::from_key(k).is_none() {
                return Err(("endpoints", format!("unknown endpoint key '{k}' (cms, ess, alidns, bss, sts, ecs)")));
            }
            if url.trim().is_empty() || url.contains(char::is_whitespace) {
                return Err(("endpoints", format!("endpoint for {k} must be a host or URL")));
            }
        }
        if let Some(m) = &self.metadata_endpoint
            && (m.trim().is_empty() || m.contains(char::is_whitespace))
        {
            return Err(("metadata_endpoint", "metadata_endpoint must be a host or URL".into()));
        }
        if let Some(r) = &self.ram_role_name
            && (r.trim().is_empty() || r.contains(['/', ' ']))
        {
            return Err(("ram_role_name", format!("'{r}' is not a RAM role name")));
        }
        for k in self.severity_map.keys() {
            if !matches!(k.as_str(), "P1" | "P2" | "P3" | "P4") {
                return Err(("severity_map", format!("severity_map keys are P1..P4 (CloudMonitor levels), not '{k}'")));
            }
        }
        if self.price_interval_secs < 60 {
            return Err(("price_interval_secs", "price_interval_secs must be at least 60".into()));
        }
        if self.cost_interval_secs < 60 {
            return Err(("cost_interval_secs", "cost_interval_secs must be at least 60".into()));
        }
        if !(1..=1440).contains(&self.alert_window_mins) {
            return Err(("alert_window_mins", "alert_window_mins must be between 1 and 1440".into()));
        }
        // NaN is refused too.
        if self.rpo_secs.is_nan() || self.rpo_secs <= 0.0 {
            return Err(("rpo_secs", "rpo_secs must be above 0".into()));
        }
        for g in &self.gtm {
            if g.instance_id.trim().is_empty() || g.strategy_id.trim().is_empty() {
                return Err(("instance_id", "each [[sources.aliyun.gtm]] needs instance_id and strategy_id".into()));
            }
        }
        for lb in &self.metrics.load_balancers {
            if lb.metric_names().is_none() {
                return Err((
                    "load_balancers",
                    format!("ALB {} needs qps_metric, rt_metric and errors_metric (see the ALB metrics list)", lb.id),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;
    use crate::providers::registry;

    fn parse(body: &str) -> Result<Config, crate::toml_file::TomlError> {
        let text = format!("[[sources]]\nname = \"a\"\nkind = \"aliyun\"\n{body}");
        registry::parse(Path::new("c.toml"), &text)
    }

    #[test]
    fn an_aliyun_source_needs_its_table() {
        let err = parse("").expect_err("no table");
        assert!(err.message.contains("[sources.aliyun]"), "{err}");
        let ok = parse("[sources.aliyun]\nregion = \"cn-hangzhou\"\n").expect("minimal");
        let a = ok.sources[0].table::<super::AliyunConfig>().expect("table");
        assert_eq!((a.signature, a.billing, a.rpo_secs), (super::SignatureVersion::V3, true, 30.0));
        assert!(!ok.is_demo());
    }

    #[test]
    fn identity_settings_parse_and_are_checked() {
        let ok = parse(
            "[sources.aliyun]\nregion = \"cn-hangzhou\"\ncredentials = \"ecs_ram_role\"\nram_role_name = \"shop-reader\"\n\
             metadata_endpoint = \"127.0.0.1:8080/\"\n[sources.aliyun.endpoints]\nsts = \"sts.cn-hangzhou.aliyuncs.com\"\n",
        )
        .expect("identity settings");
        let a = ok.sources[0].table::<super::AliyunConfig>().expect("table");
        assert_eq!(a.credentials, Some(super::CredentialMode::EcsRamRole));
        assert_eq!(
            (a.ram_role_name.as_deref(), a.metadata_url()),
            (Some("shop-reader"), "http://127.0.0.1:8080".into())
        );
        assert_eq!(super::AliyunConfig::new("cn-hangzhou").metadata_url(), "http://100.100.100.200");
        let err = parse("[sources.aliyun]\nregion = \"cn-hangzhou\"\ncredentials = \"instance\"\n").expect_err("mode");
        assert_eq!(err.line, 6, "{err}");
        let err = parse("[sources.aliyun]\nregion = \"cn-hangzhou\"\nram_role_name = \"a/b\"\n").expect_err("role");
        assert!(err.message.contains("not a RAM role name"), "{err}");
    }

    #[test]
    fn bad_values_name_their_line() {
        let err =
            parse("[sources.aliyun]\nregion = \"cn-hangzhou\"\nseverity_map = { P5 = \"P0\" }\n").expect_err("P5");
        assert_eq!(err.line, 6, "{err}");
        assert!(err.message.contains("P1..P4"), "{err}");
        let err = parse("[sources.aliyun]\nregion = \"Hangzhou 1\"\n").expect_err("region");
        assert_eq!(err.line, 5, "{err}");
        let err = parse("[sources.aliyun]\nregion = \"cn-hangzhou\"\nsignature = \"v2\"\n").expect_err("v2");
        assert_eq!(err.line, 6, "{err}");
        let err = parse("[sources.aliyun]\nregion = \"cn-hangzhou\"\n[sources.aliyun.endpoints]\nvpc = \"x\"\n")
            .expect_err("unknown product");
        assert!(err.message.contains("unknown endpoint key 'vpc'"), "{err}");
        let alb = "[sources.aliyun]\nregion = \"cn-hangzhou\"\n[[sources.aliyun.metrics.load_balancers]]\nkind = \"alb\"\nid = \"alb-1\"\n";
        let err = parse(alb).expect_err("alb without metric names");
        assert!(err.message.contains("qps_metric"), "{err}");
        let err = registry::parse(
            Path::new("c.toml"),
            "[[sources]]\nname = \"a\"\nkind = \"demo\"\n[sources.aliyun]\nregion = \"cn-hangzhou\"\n",
        )
        .expect_err("table on the wrong kind");
        assert!(err.message.contains("only for kind"), "{err}");
    }
}
