//! `[sources.aws]`: an AWS account. Schema, defaults and checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{KindTable, SourceConfig};
use crate::model::CloudKind;

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
    pub load_balancers: BTreeMap<String, String>,
    /// Cost Explorer is billed per call: poll it this rarely.
    #[serde(default = "default_cost_interval")]
    pub cost_interval_secs: u64,
    /// Aurora global database clusters per region (DBClusterIdentifier): replication lag.
    #[serde(default)]
    pub aurora_clusters: BTreeMap<String, Vec<String>>,
    /// ElastiCache cache clusters per region (CacheClusterId): replication lag.
    #[serde(default)]
    pub elasticache_clusters: BTreeMap<String, Vec<String>>,
    /// ElastiCache Global Datastore secondaries per region (the CacheClusterId of
    /// the secondary cluster's primary node): lag behind the primary region.
    #[serde(default)]
    pub elasticache_global_datastores: BTreeMap<String, Vec<String>>,
    /// Recovery point objective for database replication lag, seconds.
    #[serde(default = "default_rpo")]
    pub rpo_secs: f64,
    /// Target for cache replication lag, seconds.
    #[serde(default = "default_cache_target")]
    pub cache_lag_target_secs: f64,
    /// On-demand price per hour by instance type, in the region's currency (USD;
    /// CNY in the China regions), to compare spot against (the Pricing API is not
    /// called: see providers/aws/prices.rs).
    #[serde(default)]
    pub on_demand_prices: BTreeMap<String, f64>,
    /// The spot product priced (`Linux/UNIX`, `Windows`, `Red Hat Enterprise Linux`, ...).
    #[serde(default = "default_spot_product")]
    pub spot_product: String,
    /// Spot prices move slowly: read them this rarely (and at once when a group's
    /// instance type changes).
    #[serde(default = "default_price_interval")]
    pub price_interval_secs: u64,
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
            elasticache_global_datastores: Default::default(),
            rpo_secs: default_rpo(),
            cache_lag_target_secs: default_cache_target(),
            on_demand_prices: Default::default(),
            spot_product: default_spot_product(),
            price_interval_secs: default_price_interval(),
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
    pub clouds: BTreeMap<String, CloudKind>,
}

fn default_severity_tag() -> String {
    "Severity".into()
}
fn default_cost_interval() -> u64 {
    3600
}
fn default_price_interval() -> u64 {
    3600
}
fn default_spot_product() -> String {
    "Linux/UNIX".into()
}

impl KindTable for AwsConfig {
    fn validate(&self, _source: &SourceConfig) -> Result<(), (&'static str, String)> {
        if self.regions.is_empty() {
            return Err(("regions", "regions needs at least one region".into()));
        }
        if self.asg_tag.as_deref().is_some_and(|t| !t.contains('=')) {
            return Err(("asg_tag", "asg_tag must look like Key=Value".into()));
        }
        if self.cost_interval_secs < 60 {
            return Err(("cost_interval_secs", "cost_interval_secs must be at least 60".into()));
        }
        if self.price_interval_secs < 60 {
            return Err(("price_interval_secs", "price_interval_secs must be at least 60".into()));
        }
        if let Some((t, p)) = self.on_demand_prices.iter().find(|(_, p)| !(p.is_finite() && **p > 0.0)) {
            return Err(("on_demand_prices", format!("the on-demand price of {t} must be a positive number, not {p}")));
        }
        Ok(())
    }

    fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::providers::registry;

    #[test]
    fn the_aws_example_parses() {
        let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aws.toml"));
        let c = registry::load(p).expect("example parses");
        let aws = c.sources[0].table::<super::AwsConfig>().expect("aws table");
        assert_eq!(aws.regions, vec!["us-west-1", "us-east-1"]);
        assert_eq!(aws.records[0].clouds.get("azure-weu"), Some(&crate::model::CloudKind::Azure));
        assert!(!c.is_demo());
    }

    #[test]
    fn an_aws_source_needs_its_table_and_regions() {
        let err =
            registry::parse(Path::new("c.toml"), "[[sources]]\nname = \"a\"\nkind = \"aws\"\n").expect_err("no table");
        assert!(err.message.contains("[sources.aws]"), "{err}");
        let text = "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = []\n";
        let err = registry::parse(Path::new("c.toml"), text).expect_err("no regions");
        assert_eq!(err.line, 6, "{err}");
    }
}
