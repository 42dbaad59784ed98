//! The demo estate description: a data file under `assets/`, loaded at start.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::model::CloudKind;
use crate::toml_file::{self, TomlError};

/// The embedded reference estate (an e-commerce shop on three clouds).
pub const EMBEDDED: &str = include_str!("../../../assets/demo-estate.toml");
pub const EMBEDDED_NAME: &str = "assets/demo-estate.toml (embedded)";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EstateSpec {
    pub name: String,
    pub seed: u64,
    /// Recovery point objective for database replication, seconds.
    pub rpo_secs: f64,
    /// Global requests/s at the daily mean.
    pub base_rps: f64,
    pub cache_sync_target_secs: f64,
    pub storage_backlog_limit: f64,
    pub arbiter: ArbiterSpec,
    pub policy: PolicySpec,
    pub clouds: Vec<CloudSpec>,
    #[serde(default)]
    pub standing_alerts: Vec<StandingAlertSpec>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArbiterSpec {
    pub name: String,
    pub location: String,
    pub rtt_ms: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub name: String,
    pub ttl_secs: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CloudSpec {
    pub kind: CloudKind,
    pub region: String,
    pub zones: Vec<String>,
    /// DNS weight of this cloud's answer in the global policy.
    pub weight: u32,
    pub endpoint: String,
    pub health_check: String,
    pub base_p95_ms: f64,
    pub base_error_rate: f64,
    pub route: String,
    pub group: GroupSpec,
    /// Further scaling groups of this cloud (other tiers). The autoscaler holds
    /// each at its minimum; drills take capacity from them as from `group`. Only
    /// `group` takes the cloud's traffic and answers the palette's `scale`.
    #[serde(default)]
    pub other_groups: Vec<GroupSpec>,
    pub database: DataStoreSpec,
    pub cache: DataStoreSpec,
    pub storage: StorageSpec,
    pub prices: PriceSpec,
    pub currency: String,
    /// Monthly run-rate by service.
    pub costs: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub instance_type: String,
    /// Requests/s one instance serves at 100 % CPU.
    pub rps_per_instance: f64,
    #[serde(default)]
    pub spot_share: f64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DbRole {
    Primary,
    Replica,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataStoreSpec {
    pub name: String,
    #[serde(default)]
    pub role: Option<DbRole>,
    pub base_lag_secs: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    pub name: String,
    /// The cloud whose bucket every object is also written to, if any.
    #[serde(default)]
    pub dual_write_to: Option<CloudKind>,
    pub base_backlog: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    pub on_demand_hourly: f64,
    pub spot_hourly: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StandingAlertSpec {
    pub cloud: CloudKind,
    pub severity: crate::model::Severity,
    pub title: String,
    pub resource: String,
    pub age_minutes: i64,
}

impl EstateSpec {
    /// The embedded reference estate.
    pub fn embedded() -> Result<EstateSpec, TomlError> {
        Self::from_str(Path::new(EMBEDDED_NAME), EMBEDDED)
    }

    pub fn load(path: &Path) -> Result<EstateSpec, TomlError> {
        let text = std::fs::read_to_string(path).map_err(|e| TomlError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read demo estate: {e}"),
        })?;
        Self::from_str(path, &text)
    }

    pub fn from_str(path: &Path, text: &str) -> Result<EstateSpec, TomlError> {
        let spec: EstateSpec = toml_file::parse(path, text)?;
        spec.validate().map_err(|v| toml_file::invalid(path, text, v.key, v.near.as_deref(), v.message))?;
        Ok(spec)
    }

    pub fn cloud(&self, kind: CloudKind) -> Option<&CloudSpec> {
        self.clouds.iter().find(|c| c.kind == kind)
    }

    pub fn primary_db(&self) -> Option<CloudKind> {
        self.clouds.iter().find(|c| c.database.role == Some(DbRole::Primary)).map(|c| c.kind)
    }

    /// Checks serde cannot express.
    fn validate(&self) -> Result<(), Invalid> {
        if self.clouds.is_empty() {
            return Err(Invalid::new("clouds", "the estate needs at least one [[clouds]] entry"));
        }
        positive("rpo_secs", self.rpo_secs)?;
        positive("base_rps", self.base_rps)?;
        positive("cache_sync_target_secs", self.cache_sync_target_secs)?;
        positive("storage_backlog_limit", self.storage_backlog_limit)?;
        let mut kinds = BTreeSet::new();
        for c in &self.clouds {
            if !kinds.insert(c.kind) {
                return Err(Invalid::new("kind", format!("cloud {} is listed twice", c.kind.slug()))
                    .near(format!("\"{}\"", c.region)));
            }
            if c.zones.is_empty() {
                return Err(Invalid::new("zones", format!("cloud {} has no zones", c.kind.slug()))
                    .near(format!("\"{}\"", c.region)));
            }
            let unique: BTreeSet<_> = c.zones.iter().collect();
            if unique.len() != c.zones.len() {
                return Err(Invalid::new("zones", format!("cloud {} lists a zone twice", c.kind.slug()))
                    .near(format!("\"{}\"", c.region)));
            }
            let mut names = BTreeSet::new();
            for g in std::iter::once(&c.group).chain(&c.other_groups) {
                check_group(g, &c.region)?;
                if !names.insert(&g.name) {
                    return Err(Invalid::new(
                        "name",
                        format!("cloud {} has two groups named {}", c.kind.slug(), g.name),
                    )
                    .near(format!("\"{}\"", g.name)));
                }
            }
            if !(0.0..1.0).contains(&c.base_error_rate) {
                return Err(Invalid::new(
                    "base_error_rate",
                    format!("cloud {}: base_error_rate must be within 0..1", c.kind.slug()),
                )
                .near(format!("\"{}\"", c.region)));
            }
            positive("base_p95_ms", c.base_p95_ms)?;
            if c.prices.spot_hourly < 0.0 || c.prices.on_demand_hourly < 0.0 {
                return Err(Invalid::new("spot_hourly", format!("cloud {}: prices cannot be negative", c.kind.slug()))
                    .near(format!("\"{}\"", c.region)));
            }
            if c.costs.values().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(Invalid::new(
                    "costs",
                    format!("cloud {}: costs must be non-negative numbers", c.kind.slug()),
                )
                .near(format!("\"{}\"", c.region)));
            }
        }
        for c in &self.clouds {
            if let Some(peer) = c.storage.dual_write_to
                && (peer == c.kind || !kinds.contains(&peer))
            {
                return Err(Invalid::new(
                    "dual_write_to",
                    format!("cloud {}: dual_write_to must name another cloud of the estate", c.kind.slug()),
                )
                .near(format!("\"{}\"", c.region)));
            }
        }
        if self.clouds.iter().map(|c| c.weight).sum::<u32>() == 0 {
            return Err(Invalid::new("weight", "at least one cloud needs a DNS weight above 0"));
        }
        let primaries = self.clouds.iter().filter(|c| c.database.role == Some(DbRole::Primary)).count();
        if primaries != 1 {
            return Err(Invalid::new(
                "role",
                format!("exactly one database must have role = \"primary\", found {primaries}"),
            ));
        }
        for a in &self.standing_alerts {
            if self.cloud(a.cloud).is_none() {
                return Err(Invalid::new(
                    "cloud",
                    format!("standing alert for {}, which is not in the estate", a.cloud.slug()),
                )
                .near(format!("\"{}\"", a.title)));
            }
            if a.age_minutes < 0 {
                return Err(Invalid::new("age_minutes", "a standing alert's age_minutes cannot be negative")
                    .near(format!("\"{}\"", a.title)));
            }
        }
        Ok(())
    }
}

/// A validation failure: which key, near which text (a name in the file), and why.
struct Invalid {
    key: &'static str,
    near: Option<String>,
    message: String,
}

impl Invalid {
    fn new(key: &'static str, message: impl Into<String>) -> Self {
        Invalid { key, near: None, message: message.into() }
    }
    fn near(mut self, text: impl Into<String>) -> Self {
        self.near = Some(text.into());
        self
    }
}

/// The checks every scaling group of a cloud passes; `region` places the error.
fn check_group(g: &GroupSpec, region: &str) -> Result<(), Invalid> {
    if g.min > g.max {
        return Err(Invalid::new("min", format!("group {}: min {} is above max {}", g.name, g.min, g.max))
            .near(format!("\"{}\"", g.name)));
    }
    if !(g.rps_per_instance.is_finite() && g.rps_per_instance > 0.0) {
        return Err(Invalid::new(
            "rps_per_instance",
            format!("group {}: rps_per_instance must be a positive number", g.name),
        )
        .near(format!("\"{}\"", g.name)));
    }
    if !(0.0..=1.0).contains(&g.spot_share) {
        return Err(Invalid::new("spot_share", format!("group {}: spot_share must be within 0..1", g.name))
            .near(format!("\"{region}\"")));
    }
    Ok(())
}

fn positive(key: &'static str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(Invalid::new(key, format!("{key} must be a positive number"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_estate_is_valid() {
        let spec = EstateSpec::embedded().expect("embedded estate parses");
        assert_eq!(spec.clouds.len(), 3);
        assert_eq!(spec.primary_db(), Some(CloudKind::Aws));
        assert_eq!(spec.rpo_secs, 30.0);
    }

    #[test]
    fn min_above_max_is_refused_with_its_line() {
        let text = EMBEDDED.replacen("min = 2", "min = 20", 1);
        let err = EstateSpec::from_str(Path::new("e.toml"), &text).expect_err("invalid");
        assert!(err.message.contains("min 20 is above max"), "{err}");
        assert!(err.line > 0);
    }

    #[test]
    fn unknown_key_is_refused() {
        let text = format!("bogus = 1\n{EMBEDDED}");
        let err = EstateSpec::from_str(Path::new("e.toml"), &text).expect_err("invalid");
        assert_eq!(err.line, 1, "{err}");
        assert!(err.message.contains("bogus"), "{err}");
    }
}
