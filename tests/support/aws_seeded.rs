//! A seeded AWS estate: the TRUTH (per region its Auto Scaling groups with their
//! counts and whether they are shown, its CloudWatch alarms with severity and
//! state; the account's Route 53 weighted / failover records and its Cost
//! Explorer month) and the calls that plant it in a real moto server through the
//! AWS SDK, as an operator's tooling would.
//!
//! What varies with the seed is what varies between real accounts: 1–3 regions;
//! groups with min / max / desired from 0 up, in one to three zones, some scaled
//! to zero on purpose, some with instances in Standby (desired decremented) or
//! marked Unhealthy; tags that match the configured `asg_tag`, differ only by the
//! value's case, use another key, or are absent; now and then more groups in a
//! region than one DescribeAutoScalingGroups page (moto pages at 50); alarms in
//! ALARM / OK / INSUFFICIENT_DATA, with a severity tag (P0, "critical", " sev2 ",
//! "urgent"…) or a name prefix ("P1-", "p3 ", "P0wer" which is none), some
//! acknowledged by opsdeck's tags (still valid or expired), non-ASCII names
//! ("pago-ñ-errores", "決済-latency"); sometimes many alarms (moto does not page
//! DescribeAlarms, so "many" stands in for paging); weighted and failover
//! records across AWS, Azure and Alibaba targets, with and without health
//! checks, some mapped to their cloud by config only, beside unrelated records;
//! a Cost Explorer month of 0–7 services in USD (one account bills in one
//! currency).
//!
//! Instance placement across a group's zones is moto's own (random) choice: the
//! per-zone truth is read back with DescribeAutoScalingInstances, an API opsdeck
//! does not use; the totals are the generator's.
//!
//! The truth is written down from what the generator decided, with its own
//! severity table and the health rules README.md states, not through opsdeck's code.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_autoscaling::types::Tag as AsgTag;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic, Tag};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HealthCheckConfig, HealthCheckType, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::support::moto::{Moto, sdk_for};

/// splitmix64: small, deterministic, good enough to vary test estates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0xA5A5_0F0F_1234_5678)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    /// lo..=hi
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi.saturating_sub(lo)) + 1) as u32
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Regions and zones that exist (moto checks zones against its EC2 regions).
const REGIONS: [(&str, [&str; 3]); 4] = [
    ("us-east-1", ["us-east-1a", "us-east-1b", "us-east-1c"]),
    ("eu-west-1", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ("ap-northeast-1", ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]),
    ("sa-east-1", ["sa-east-1a", "sa-east-1b", "sa-east-1c"]),
];
const AMI: &str = "ami-12c6146b";
const GROUP_NAMES: [&str; 6] = ["web", "pago-ñ-api", "決済-worker", "batch", "front door", "café-α"];
const ALARM_NAMES: [&str; 6] = ["pago-ñ-errores", "決済-latency", "cpu-high", "disk full", "5xx rate", "queue-depth"];
/// Name prefixes: a severity ("P1-"), or text that looks like one and is not.
const PREFIXES: [&str; 8] = ["", "", "P0-", "P1-", "p2 ", "P3_", "P0wer-", "p1:"];
/// Severity tag values as seen in accounts: opsdeck's words, other spellings, junk.
const SEVERITY_VALUES: [&str; 12] =
    ["P0", "p1", "P2", "P3", " critical ", "HIGH", "medium", "Low", "sev0", "SEV2", "info", "urgent"];
const SERVICES: [&str; 7] = [
    "Amazon Elastic Compute Cloud - Compute",
    "Amazon Relational Database Service",
    "Amazon Route 53",
    "AmazonCloudWatch",
    "Amazon Simple Storage Service",
    "AWS Data Transfer",
    "Amazon ElastiCache",
];
pub const ASG_TAG: (&str, &str) = ("Env", "Prod");

/// The severity the generator means, from its own table: the tag if it names one
/// (opsdeck's P0..P3 and the common words), else the name prefix, else P2.
pub fn expected_severity(tag: Option<&str>, name: &str) -> &'static str {
    let from_tag = tag.and_then(|t| match t.trim().to_ascii_uppercase().as_str() {
        "P0" | "CRITICAL" | "SEV0" => Some("P0"),
        "P1" | "HIGH" | "SEV1" => Some("P1"),
        "P2" | "MEDIUM" | "SEV2" => Some("P2"),
        "P3" | "LOW" | "SEV3" | "INFO" => Some("P3"),
        _ => None,
    });
    let from_prefix = || {
        let p = PREFIXES.iter().filter(|p| !p.is_empty()).find(|p| name.starts_with(**p))?;
        match p.to_ascii_uppercase().as_str() {
            "P0-" => Some("P0"),
            "P1-" | "P1:" => Some("P1"),
            "P2 " => Some("P2"),
            "P3_" => Some("P3"),
            _ => None, // "P0wer-"
        }
    };
    from_tag.or_else(from_prefix).unwrap_or("P2")
}

#[derive(Debug, Clone)]
pub struct GroupTruth {
    pub name: String,
    pub zones: Vec<String>,
    pub min: u32,
    pub max: u32,
    /// Desired at creation: that many instances are launched.
    pub launched: u32,
    /// Instances then put in Standby with the desired capacity decremented.
    pub standby: u32,
    /// In-service instances then marked Unhealthy.
    pub unhealthy: u32,
    pub tags: Vec<(String, String)>,
    /// Its launch configuration's type (what its instances run).
    pub instance_type: &'static str,
}

impl GroupTruth {
    pub fn desired(&self) -> u32 {
        self.launched - self.standby
    }
    pub fn in_service(&self) -> u32 {
        self.launched - self.standby
    }
    pub fn healthy(&self) -> u32 {
        self.in_service() - self.unhealthy
    }
    /// Shown when opsdeck filters by `tag` (Key=Value, exact) or does not filter.
    pub fn shown(&self, tag: Option<(&str, &str)>) -> bool {
        tag.is_none_or(|(k, v)| self.tags.iter().any(|(tk, tv)| tk == k && tv == v))
    }
    /// Desired 0 with nothing running is idle; else judged on healthy
    /// instances against desired and min.
    pub fn health(&self) -> &'static str {
        if self.desired() == 0 && self.in_service() == 0 {
            "IDLE"
        } else if self.healthy() == 0 {
            "DOWN"
        } else if self.healthy() < self.desired() || self.healthy() < self.min {
            "DEGRADED"
        } else {
            "OK"
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Alarm,
    Ok,
    Insufficient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    None,
    /// opsdeck's ack tags, with an expiry in the future or none.
    Active {
        until: bool,
    },
    /// opsdeck's ack tags whose expiry has passed: firing again.
    Expired,
}

#[derive(Debug, Clone)]
pub struct AlarmTruth {
    pub name: String,
    pub state: AlarmState,
    pub severity_tag: Option<String>,
    pub ack: Ack,
    pub group: Option<String>,
}

impl AlarmTruth {
    /// Shown as an alert when in ALARM; acknowledged while a valid ack stands.
    pub fn shown_state(&self) -> Option<&'static str> {
        match (self.state, self.ack) {
            (AlarmState::Alarm, Ack::Active { .. }) => Some("acked"),
            (AlarmState::Alarm, _) => Some("firing"),
            _ => None,
        }
    }
    pub fn severity(&self) -> &'static str {
        expected_severity(self.severity_tag.as_deref(), &self.name)
    }
}

#[derive(Debug, Clone)]
pub struct RegionTruth {
    pub name: String,
    pub groups: Vec<GroupTruth>,
    pub alarms: Vec<AlarmTruth>,
}

#[derive(Debug, Clone)]
pub struct EndpointTruth {
    pub set_id: String,
    pub target: String,
    /// Weighted: the weight; failover: PRIMARY shows 1, SECONDARY 0.
    pub weight: u32,
    pub primary: Option<bool>,
    pub health_check: bool,
    pub cloud: &'static str,
    /// The target does not say its cloud: only the config's `clouds` map does.
    pub mapped: bool,
}

#[derive(Debug, Clone)]
pub struct PolicyTruth {
    /// As written in the config (case and trailing dot vary).
    pub configured_name: String,
    /// As created in the zone and as opsdeck shows it.
    pub name: String,
    pub zone: usize,
    pub endpoints: Vec<EndpointTruth>,
}

#[derive(Debug, Clone)]
pub struct Estate {
    pub seed: u64,
    pub regions: Vec<RegionTruth>,
    pub asg_tag: bool,
    pub severity_tag: String,
    /// Hosted zones by DNS name; the ids are moto's, learnt when planted.
    pub zones: Vec<String>,
    pub policies: Vec<PolicyTruth>,
    pub filler_records: Vec<String>,
    /// Cost Explorer month: service → amount in cents (USD); a refund is negative.
    pub cost: Vec<(String, i64)>,
    /// How many GetCostAndUsage pages the month comes in (NextPageToken).
    pub cost_pages: usize,
    /// The on-demand prices configured, USD/h by instance type (not every type).
    pub on_demand: BTreeMap<&'static str, f64>,
}

/// Instance types the groups run; moto offers each in every zone of `REGIONS`.
pub const INSTANCE_TYPES: [&str; 4] = ["t3.micro", "m6i.large", "c7g.xlarge", "r6i.2xlarge"];
/// Spot prices by (region, instance type): (zone, spot, on-demand, groups).
pub type SpotTruth = BTreeMap<(String, String), (String, f64, Option<f64>, Vec<String>)>;
/// moto's DescribeSpotPriceHistory answers one fixed price for every type and zone.
pub const MOTO_SPOT_PRICE: f64 = 0.00001;

impl Estate {
    pub fn generate(seed: u64) -> Estate {
        let mut r = Rng::new(seed);
        let n_regions = r.range(1, 3) as usize;
        let first = r.below(REGIONS.len() as u64) as usize;
        let regions: Vec<RegionTruth> = (0..n_regions)
            .map(|i| {
                let (name, zones) = REGIONS[(first + i) % REGIONS.len()];
                // Every fifth seed, one region holds more groups than one page.
                let paged = seed.is_multiple_of(5) && i == 0;
                Estate::region(&mut r, name, &zones, paged)
            })
            .collect();
        let severity_tag = r.pick(&["Severity", "sev"]).to_string();
        let asg_tag = r.chance(70);
        let zones = vec!["example.com".to_string(), "shop.example.net".to_string()];
        let n_policies = r.range(1, 2) as usize;
        let policies = (0..n_policies).map(|k| Estate::policy(&mut r, k, &zones)).collect();
        let filler_records =
            (0..r.range(0, 8)).map(|i| format!("{}{i}", r.pick(&["a", "www", "shop-old", "zz"]))).collect();
        let n_services = r.range(0, 7) as usize;
        let cost: Vec<(String, i64)> = SERVICES[..n_services]
            .iter()
            .map(|s| {
                let cents = r.below(500_000) as i64 + 1;
                (s.to_string(), if r.chance(10) { -cents / 100 } else { cents })
            })
            .collect();
        // Cost Explorer pages its groups: a month may come in several answers.
        let cost_pages =
            if cost.len() >= 2 && r.chance(40) { r.range(2, cost.len().min(3) as u32) as usize } else { 1 };
        // Types and prices come from a generator of their own, so the estates the
        // other tests were written against stay the same.
        let mut t = Rng::new(seed ^ 0x005e_ed0f_7e57);
        let mut regions = regions;
        for g in regions.iter_mut().flat_map(|r| r.groups.iter_mut()) {
            g.instance_type = INSTANCE_TYPES[t.below(INSTANCE_TYPES.len() as u64) as usize];
        }
        let mut on_demand = BTreeMap::new();
        for ty in INSTANCE_TYPES {
            if t.chance(60) {
                on_demand.insert(ty, f64::from(t.range(40, 900)) / 1000.0);
            }
        }
        Estate { seed, regions, asg_tag, severity_tag, zones, policies, filler_records, cost, cost_pages, on_demand }
    }

    fn region(r: &mut Rng, name: &str, zones: &[&str; 3], paged: bool) -> RegionTruth {
        let zones: Vec<String> = zones.iter().map(|z| z.to_string()).collect();
        let n_groups = if paged { r.range(51, 58) } else { r.range(0, 5) } as usize;
        let groups: Vec<GroupTruth> = (0..n_groups)
            .map(|i| {
                // The bulk of a paged region is cheap: scaled to zero.
                let zero = r.chance(if paged && i > 3 { 90 } else { 25 });
                let launched = if zero { 0 } else { r.range(1, 5) };
                let standby = if launched > 1 && r.chance(25) { r.range(1, launched - 1) } else { 0 };
                let in_service = launched - standby;
                let unhealthy = if in_service > 0 && r.chance(30) { r.range(1, in_service) } else { 0 };
                let min = if in_service == 0 { 0 } else { r.range(0, in_service) };
                let max = (launched + r.range(0, 6)).max(1);
                let n_zones = r.range(1, 3) as usize;
                let start = r.below(3) as usize;
                let mut gz: Vec<String> = (0..n_zones).map(|k| zones[(start + k) % 3].clone()).collect();
                gz.sort();
                let tags = match r.below(6) {
                    0..=2 => vec![(ASG_TAG.0.to_string(), ASG_TAG.1.to_string())],
                    3 => vec![(ASG_TAG.0.to_string(), ASG_TAG.1.to_lowercase())],
                    4 => vec![("Team".to_string(), "payments".to_string()), ("Environment".into(), "Prod".into())],
                    _ => vec![],
                };
                GroupTruth {
                    name: format!("{}-{i}", r.pick(&GROUP_NAMES)),
                    zones: gz,
                    min,
                    max,
                    launched,
                    standby,
                    unhealthy,
                    tags,
                    instance_type: INSTANCE_TYPES[0],
                }
            })
            .collect();
        let n_alarms = if r.chance(15) { r.range(60, 90) } else { r.range(0, 12) } as usize;
        let alarms = (0..n_alarms)
            .map(|i| {
                let state = match r.below(10) {
                    0..=4 => AlarmState::Alarm,
                    5..=7 => AlarmState::Ok,
                    _ => AlarmState::Insufficient,
                };
                let name = format!("{}{}-{i}", r.pick(&PREFIXES), r.pick(&ALARM_NAMES));
                let severity_tag = r.chance(50).then(|| r.pick(&SEVERITY_VALUES).to_string());
                let ack = match r.below(8) {
                    0 => Ack::Active { until: r.chance(50) },
                    1 => Ack::Expired,
                    _ => Ack::None,
                };
                let group = (!groups.is_empty() && r.chance(70)).then(|| r.pick(&groups).name.clone());
                AlarmTruth { name, state, severity_tag, ack, group }
            })
            .collect();
        RegionTruth { name: name.to_string(), groups, alarms }
    }

    fn policy(r: &mut Rng, k: usize, zones: &[String]) -> PolicyTruth {
        let zone = r.below(zones.len() as u64) as usize;
        let name = format!("{}.{}", ["shop", "api"][k], zones[zone]);
        let failover = r.chance(25);
        let n = if failover { 2 } else { r.range(1, 4) };
        let endpoints = (0..n)
            .map(|i| {
                let (cloud, target, mapped) = match r.below(4) {
                    0 => ("aws", format!("shop-{i}.elb.amazonaws.com"), false),
                    1 => ("azure", format!("shop-{i}.trafficmanager.net"), false),
                    2 => ("aliyun", format!("shop-{i}.aliyuncs.com"), false),
                    // Nothing in the target says where it runs: the config maps it.
                    _ => (*r.pick(&["aws", "azure", "aliyun"]), format!("edge-{i}.cdn.example.org"), true),
                };
                let (weight, primary) =
                    if failover { (u32::from(i == 0), Some(i == 0)) } else { (r.range(0, 255), None) };
                EndpointTruth {
                    set_id: format!("{cloud}-{i}"),
                    target,
                    weight,
                    primary,
                    health_check: r.chance(50),
                    cloud,
                    mapped,
                }
            })
            .collect();
        // Config names are matched without case or the trailing dot.
        let configured_name = match r.below(3) {
            0 => name.clone(),
            1 => format!("{name}."),
            _ => name.to_uppercase(),
        };
        PolicyTruth { configured_name, name, zone, endpoints }
    }

    pub fn asg_tag(&self) -> Option<(&str, &str)> {
        self.asg_tag.then_some(ASG_TAG)
    }

    // ---- planting it in moto ------------------------------------------------

    /// Reset moto and plant the estate; the hosted zone ids moto gave, by zone index.
    pub async fn plant(&self, moto: &Moto) -> Planted {
        moto.post_json("/moto-api/reset", "{}");
        let mut placement = BTreeMap::new();
        for region in &self.regions {
            let sdk = sdk_for(&moto.url(), &region.name).await;
            plant_groups(&sdk, region).await;
            plant_alarms(&sdk, region, &self.severity_tag).await;
            placement.extend(read_placement(&sdk, &region.name).await);
        }
        let sdk = sdk_for(&moto.url(), "us-east-1").await;
        let zone_ids = plant_records(&sdk, self).await;
        if !self.cost.is_empty() {
            // moto hands each new distinct request the next queued answer: the first
            // page to the first request, the next to the one carrying its token.
            moto.post_json("/moto-api/static/ce/cost-and-usage-results", &self.cost_results().to_string());
        }
        Planted { zone_ids, placement }
    }

    fn cost_results(&self) -> Value {
        let now = Utc::now().date_naive();
        let per_page = self.cost.len().div_ceil(self.cost_pages);
        let pages: Vec<Value> = self
            .cost
            .chunks(per_page)
            .enumerate()
            .map(|(k, lines)| {
                let groups: Vec<Value> = lines
                    .iter()
                    .map(|(s, cents)| {
                        json!({"Keys": [s], "Metrics": {"UnblendedCost": {"Amount": cents_text(*cents), "Unit": "USD"}}})
                    })
                    .collect();
                let mut page = json!({"ResultsByTime": [{
                    "TimePeriod": {"Start": now.format("%Y-%m-01").to_string(), "End": now.format("%Y-%m-%d").to_string()},
                    "Total": {}, "Groups": groups, "Estimated": true,
                }], "DimensionValueAttributes": []});
                if (k + 1) * per_page < self.cost.len() {
                    page["NextPageToken"] = json!(format!("page-{}", k + 2));
                }
                page
            })
            .collect();
        json!({ "results": pages })
    }

    // ---- configuration ------------------------------------------------------

    /// The account as opsdeck's config table, pointed at moto.
    pub fn config(&self, name: &str, planted: &Planted) -> opsdeck::providers::aws::AwsConfig {
        opsdeck::providers::aws::AwsConfig {
            asg_tag: self.asg_tag().map(|(k, v)| format!("{k}={v}")),
            severity_tag: self.severity_tag.clone(),
            records: self
                .policies
                .iter()
                .map(|p| opsdeck::providers::aws::AwsRecordConfig {
                    zone_id: planted.zone_ids[p.zone].clone(),
                    name: p.configured_name.clone(),
                    clouds: p
                        .endpoints
                        .iter()
                        .filter(|e| e.mapped)
                        .map(|e| (e.set_id.clone(), cloud_kind(e.cloud)))
                        .collect(),
                })
                .collect(),
            on_demand_prices: self.on_demand.iter().map(|(t, p)| (t.to_string(), *p)).collect(),
            ..opsdeck::providers::aws::AwsConfig::new(name, self.regions.iter().map(|r| r.name.clone()).collect())
        }
    }

    /// The same as a config file for the binary.
    pub fn config_toml(&self, name: &str, planted: &Planted, endpoint: &str) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("toml string");
        let regions: Vec<String> = self.regions.iter().map(|r| q(&r.name)).collect();
        let mut out = format!(
            "[[sources]]\nname = \"{name}\"\nkind = \"aws\"\ninterval_secs = 60\ntimeout_secs = 30\n\n\
             [sources.aws]\naccount = \"gen\"\nregions = [{}]\nendpoint_url = \"{endpoint}\"\nseverity_tag = {}\n",
            regions.join(", "),
            q(&self.severity_tag)
        );
        if let Some((k, v)) = self.asg_tag() {
            out.push_str(&format!("asg_tag = \"{k}={v}\"\n"));
        }
        if !self.on_demand.is_empty() {
            let prices: Vec<String> = self.on_demand.iter().map(|(t, p)| format!("{} = {p}", q(t))).collect();
            out.push_str(&format!("on_demand_prices = {{ {} }}\n", prices.join(", ")));
        }
        for p in &self.policies {
            let clouds: Vec<String> = p
                .endpoints
                .iter()
                .filter(|e| e.mapped)
                .map(|e| format!("{} = \"{}\"", q(&e.set_id), e.cloud))
                .collect();
            out.push_str(&format!(
                "\n[[sources.aws.records]]\nzone_id = {}\nname = {}\nclouds = {{ {} }}\n",
                q(&planted.zone_ids[p.zone]),
                q(&p.configured_name),
                clouds.join(", ")
            ));
        }
        out
    }

    // ---- the truth in opsdeck's terms ----------------------------------------

    /// The spot prices opsdeck should show, by (region, instance type): the first
    /// zone (all priced alike by moto) of the shown groups running it, moto's
    /// price, the configured on-demand price, and those groups.
    pub fn expected_spot_prices(&self) -> SpotTruth {
        let mut out: SpotTruth = BTreeMap::new();
        for r in &self.regions {
            for g in r.groups.iter().filter(|g| g.shown(self.asg_tag())) {
                let e = out.entry((r.name.clone(), g.instance_type.to_string())).or_insert_with(|| {
                    (String::from("~"), MOTO_SPOT_PRICE, self.on_demand.get(g.instance_type).copied(), vec![])
                });
                let first = g.zones.iter().min().cloned().unwrap_or_default();
                if first < e.0 {
                    e.0 = first;
                }
                e.3.push(g.name.clone());
            }
        }
        for v in out.values_mut() {
            v.3.sort();
            v.3.dedup();
        }
        out
    }

    /// Shown groups by (region, name).
    pub fn expected_groups(&self, planted: &Planted) -> BTreeMap<(String, String), GroupView> {
        let mut out = BTreeMap::new();
        for region in &self.regions {
            for g in region.groups.iter().filter(|g| g.shown(self.asg_tag())) {
                let mut zones: BTreeMap<String, (u32, u32)> = g.zones.iter().map(|z| (z.clone(), (0, 0))).collect();
                for (zone, in_service, healthy) in
                    planted.placement.get(&(region.name.clone(), g.name.clone())).into_iter().flatten()
                {
                    let row = zones.entry(zone.clone()).or_default();
                    row.0 += u32::from(*in_service);
                    row.1 += u32::from(*healthy);
                }
                let view = GroupView {
                    min: g.min,
                    max: g.max,
                    desired: g.desired(),
                    in_service: g.in_service(),
                    healthy: g.healthy(),
                    health: g.health().to_string(),
                    idle: (g.health() == "IDLE").then(|| "idle".to_string()),
                    zones,
                };
                out.insert((region.name.clone(), g.name.clone()), view);
            }
        }
        out
    }

    /// Alert counts by (region, severity, state).
    pub fn expected_alerts(&self) -> BTreeMap<(String, String, String), usize> {
        let mut out = BTreeMap::new();
        for region in &self.regions {
            for a in &region.alarms {
                if let Some(state) = a.shown_state() {
                    *out.entry((region.name.clone(), a.severity().to_string(), state.to_string())).or_insert(0) += 1;
                }
            }
        }
        out
    }

    /// The ids (alarm names) of the alerts, by region.
    pub fn expected_alert_ids(&self) -> BTreeSet<(String, String)> {
        self.regions
            .iter()
            .flat_map(|r| {
                r.alarms.iter().filter(|a| a.shown_state().is_some()).map(|a| (r.name.clone(), a.name.clone()))
            })
            .collect()
    }

    /// Per policy: endpoints (set id, cloud, weight, health), sorted.
    pub fn expected_policies(&self) -> BTreeMap<String, Vec<(String, String, u32, String)>> {
        self.policies
            .iter()
            .map(|p| {
                let mut eps: Vec<_> = p
                    .endpoints
                    .iter()
                    // moto's health checkers all report success; an answer without a
                    // check is always served by Route 53, but nothing says it is healthy.
                    .map(|e| {
                        let health = if e.health_check { "OK" } else { "UNKNOWN" };
                        (e.set_id.clone(), e.cloud.to_string(), e.weight, health.to_string())
                    })
                    .collect();
                eps.sort();
                (p.name.clone(), eps)
            })
            .collect()
    }

    /// The month to date (USD) and its services, largest first.
    pub fn expected_cost(&self) -> CostView {
        let mut by_service: Vec<(String, f64)> =
            self.cost.iter().map(|(s, c)| (s.clone(), *c as f64 / 100.0)).collect();
        by_service.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        CostView {
            currency: "USD".into(),
            month_to_date: self.cost.iter().map(|(_, c)| *c as f64 / 100.0).sum(),
            by_service,
        }
    }

    /// Per region with a shown group: (groups, idle groups).
    pub fn expected_regions(&self) -> BTreeMap<String, (u64, u64)> {
        self.regions
            .iter()
            .filter_map(|r| {
                let shown: Vec<&GroupTruth> = r.groups.iter().filter(|g| g.shown(self.asg_tag())).collect();
                let idle = shown.iter().filter(|g| g.health() == "IDLE").count() as u64;
                (!shown.is_empty()).then(|| (r.name.clone(), (shown.len() as u64, idle)))
            })
            .collect()
    }

    /// The snapshot's verdict, by README.md's rules: a firing P0 or a group with
    /// nothing healthy that should serve is CRITICAL (idle is not); a firing P1/P2
    /// or a group short of healthy instances is a WARNING.
    pub fn expected_status(&self) -> &'static str {
        let shown = || self.regions.iter().flat_map(|r| r.groups.iter()).filter(|g| g.shown(self.asg_tag()));
        let firing = || self.regions.iter().flat_map(|r| r.alarms.iter()).filter(|a| a.shown_state() == Some("firing"));
        if firing().any(|a| a.severity() == "P0") || shown().any(|g| g.health() == "DOWN") {
            "CRITICAL"
        } else if firing().any(|a| matches!(a.severity(), "P1" | "P2")) || shown().any(|g| g.health() == "DEGRADED") {
            "WARNING"
        } else {
            "OK"
        }
    }
}

fn cents_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

fn cloud_kind(slug: &str) -> opsdeck::model::CloudKind {
    match slug {
        "azure" => opsdeck::model::CloudKind::Azure,
        "aliyun" => opsdeck::model::CloudKind::Aliyun,
        _ => opsdeck::model::CloudKind::Aws,
    }
}

/// (region, group) → per instance (zone, in service, healthy).
pub type Placement = BTreeMap<(String, String), Vec<(String, bool, bool)>>;

/// What moto decided while planting.
pub struct Planted {
    pub zone_ids: Vec<String>,
    /// (region, group) → per instance (zone, in service, healthy).
    pub placement: Placement,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    pub in_service: u32,
    pub healthy: u32,
    pub health: String,
    pub idle: Option<String>,
    pub zones: BTreeMap<String, (u32, u32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CostView {
    pub currency: String,
    pub month_to_date: f64,
    pub by_service: Vec<(String, f64)>,
}

impl CostView {
    /// Equal to the cent (amounts are decimal text summed as floats).
    pub fn matches(&self, other: &CostView) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        self.currency == other.currency
            && close(self.month_to_date, other.month_to_date)
            && self.by_service.len() == other.by_service.len()
            && self.by_service.iter().zip(&other.by_service).all(|(a, b)| a.0 == b.0 && close(a.1, b.1))
    }
}

async fn plant_groups(sdk: &aws_config::SdkConfig, region: &RegionTruth) {
    let asg = aws_sdk_autoscaling::Client::new(sdk);
    for t in INSTANCE_TYPES {
        asg.create_launch_configuration()
            .launch_configuration_name(format!("gen-lc-{t}"))
            .image_id(AMI)
            .instance_type(t)
            .send()
            .await
            .expect("launch configuration");
    }
    for g in &region.groups {
        let tags = g
            .tags
            .iter()
            .map(|(k, v)| {
                AsgTag::builder().key(k).value(v).resource_id(&g.name).resource_type("auto-scaling-group").build()
            })
            .collect();
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(&g.name)
            .launch_configuration_name(format!("gen-lc-{}", g.instance_type))
            .min_size(g.min as i32)
            .max_size(g.max as i32)
            .desired_capacity(g.launched as i32)
            .set_availability_zones(Some(g.zones.clone()))
            .set_tags(Some(tags))
            .send()
            .await
            .unwrap_or_else(|e| panic!("group {}: {e:?}", g.name));
        if g.standby == 0 && g.unhealthy == 0 {
            continue;
        }
        let described =
            asg.describe_auto_scaling_groups().auto_scaling_group_names(&g.name).send().await.expect("describe");
        let ids: Vec<String> = described.auto_scaling_groups()[0]
            .instances()
            .iter()
            .filter_map(|i| i.instance_id().map(String::from))
            .collect();
        assert_eq!(ids.len() as u32, g.launched, "moto launched the desired capacity");
        let (standby, serving) = ids.split_at(g.standby as usize);
        if !standby.is_empty() {
            asg.enter_standby()
                .auto_scaling_group_name(&g.name)
                .set_instance_ids(Some(standby.to_vec()))
                .should_decrement_desired_capacity(true)
                .send()
                .await
                .expect("standby");
        }
        for id in &serving[..g.unhealthy as usize] {
            asg.set_instance_health().instance_id(id).health_status("Unhealthy").send().await.expect("health");
        }
    }
}

/// Where moto put each instance, through an API opsdeck does not read.
async fn read_placement(sdk: &aws_config::SdkConfig, region: &str) -> Placement {
    let asg = aws_sdk_autoscaling::Client::new(sdk);
    let mut out = Placement::new();
    let mut pages = asg.describe_auto_scaling_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        for i in page.expect("instances").auto_scaling_instances() {
            let in_service = i.lifecycle_state() == Some("InService");
            let healthy = in_service && i.health_status().is_some_and(|h| h.eq_ignore_ascii_case("healthy"));
            let group = i.auto_scaling_group_name().expect("group name").to_string();
            out.entry((region.to_string(), group)).or_default().push((
                i.availability_zone().expect("zone").to_string(),
                in_service,
                healthy,
            ));
        }
    }
    out
}

async fn plant_alarms(sdk: &aws_config::SdkConfig, region: &RegionTruth, severity_tag: &str) {
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let now: DateTime<Utc> = Utc::now();
    // The alarms page an SNS topic of their own region, as CloudWatch requires.
    let topic = aws_sdk_sns::Client::new(sdk).create_topic().name("oncall").send().await.expect("topic");
    let topic = topic.topic_arn().expect("topic arn").to_string();
    for a in &region.alarms {
        let mut tags = Vec::new();
        if let Some(v) = &a.severity_tag {
            tags.push(Tag::builder().key(severity_tag).value(v).build());
        }
        let ack_tags = |until: Option<DateTime<Utc>>| {
            let mut t = vec![
                Tag::builder().key("opsdeck:ack-by").value("oncall@bastion").build(),
                Tag::builder().key("opsdeck:ack-at").value((now - Duration::minutes(90)).to_rfc3339()).build(),
                Tag::builder().key("opsdeck:ack-comment").value("mirando · 調査中").build(),
            ];
            if let Some(u) = until {
                t.push(Tag::builder().key("opsdeck:ack-until").value(u.to_rfc3339()).build());
            }
            t
        };
        match a.ack {
            Ack::None => {}
            Ack::Active { until } => tags.extend(ack_tags(until.then(|| now + Duration::hours(2)))),
            Ack::Expired => tags.extend(ack_tags(Some(now - Duration::minutes(30)))),
        }
        let mut put = cw
            .put_metric_alarm()
            .alarm_name(&a.name)
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(80.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .alarm_actions(&topic)
            .set_tags((!tags.is_empty()).then_some(tags));
        if let Some(g) = &a.group {
            put = put.dimensions(Dimension::builder().name("AutoScalingGroupName").value(g).build());
        }
        put.send().await.unwrap_or_else(|e| panic!("alarm {}: {e:?}", a.name));
        let state = match a.state {
            AlarmState::Alarm => StateValue::Alarm,
            AlarmState::Insufficient => StateValue::InsufficientData,
            AlarmState::Ok => continue, // moto's initial state
        };
        cw.set_alarm_state()
            .alarm_name(&a.name)
            .state_value(state)
            .state_reason("Umbral superado: 1 punto de datos [91.2] > 80.0 · しきい値超過")
            .send()
            .await
            .expect("alarm state");
    }
}

async fn plant_records(sdk: &aws_config::SdkConfig, e: &Estate) -> Vec<String> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let mut ids = Vec::new();
    for (i, z) in e.zones.iter().enumerate() {
        let id = r53
            .create_hosted_zone()
            .name(z)
            .caller_reference(format!("gen-{}-{i}", e.seed))
            .send()
            .await
            .expect("zone")
            .hosted_zone()
            .map(|h| h.id().to_string())
            .expect("zone id");
        ids.push(id);
    }
    let record = |name: &str, b: aws_sdk_route53::types::builders::ResourceRecordSetBuilder, value: &str| {
        let rs = b
            .name(name)
            .r#type(RrType::Cname)
            .ttl(60)
            .resource_records(ResourceRecord::builder().value(value).build().expect("rr"))
            .build()
            .expect("rrs");
        Change::builder().action(ChangeAction::Create).resource_record_set(rs).build().expect("change")
    };
    let mut by_zone: Vec<Vec<Change>> = vec![Vec::new(); ids.len()];
    for (i, f) in e.filler_records.iter().enumerate() {
        let zone = i % e.zones.len();
        by_zone[zone].push(record(
            &format!("{f}.{}", e.zones[zone]),
            ResourceRecordSet::builder(),
            "elsewhere.example.org",
        ));
    }
    for (k, p) in e.policies.iter().enumerate() {
        for (i, ep) in p.endpoints.iter().enumerate() {
            let mut b = ResourceRecordSet::builder().set_identifier(&ep.set_id);
            b = match ep.primary {
                Some(true) => b.failover(ResourceRecordSetFailover::Primary),
                Some(false) => b.failover(ResourceRecordSetFailover::Secondary),
                None => b.weight(i64::from(ep.weight)),
            };
            if ep.health_check {
                let check = r53
                    .create_health_check()
                    .caller_reference(format!("gen-{}-{k}-{i}", e.seed))
                    .health_check_config(
                        HealthCheckConfig::builder()
                            .r#type(HealthCheckType::Https)
                            .fully_qualified_domain_name(&ep.target)
                            .port(443)
                            .resource_path("/healthz")
                            .build()
                            .expect("check config"),
                    )
                    .send()
                    .await
                    .expect("health check")
                    .health_check()
                    .map(|h| h.id().to_string())
                    .expect("check id");
                b = b.health_check_id(check);
            }
            by_zone[p.zone].push(record(&p.name, b, &ep.target));
        }
    }
    for (zone, changes) in ids.iter().zip(by_zone) {
        if changes.is_empty() {
            continue;
        }
        r53.change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(ChangeBatch::builder().set_changes(Some(changes)).build().expect("batch"))
            .send()
            .await
            .expect("records");
    }
    ids
}

// ---- reading opsdeck's snapshot JSON back -----------------------------------

/// The snapshot's AWS groups by (region, name).
pub fn seen_groups(snap: &Value) -> BTreeMap<(String, String), GroupView> {
    let n = |v: &Value| u32::try_from(v.as_u64().expect("count")).expect("u32");
    snap["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter(|g| g["cloud"] == "aws")
        .map(|g| {
            let zones = g["zones"]
                .as_array()
                .expect("zones")
                .iter()
                .map(|z| (z["zone"].as_str().expect("zone").to_string(), (n(&z["in_service"]), n(&z["healthy"]))))
                .collect();
            let view = GroupView {
                min: n(&g["min"]),
                max: n(&g["max"]),
                desired: n(&g["desired"]),
                in_service: n(&g["in_service"]),
                healthy: n(&g["healthy"]),
                health: g["health"].as_str().expect("health").to_string(),
                idle: g["idle"].as_str().map(String::from),
                zones,
            };
            ((g["region"].as_str().expect("region").to_string(), g["name"].as_str().expect("name").to_string()), view)
        })
        .collect()
}

/// The region of a source id "name/region".
fn source_region(source: &str) -> String {
    source.rsplit('/').next().unwrap_or_default().to_string()
}

pub fn seen_alerts(snap: &Value) -> BTreeMap<(String, String, String), usize> {
    let mut out = BTreeMap::new();
    for a in snap["alerts"].as_array().expect("alerts") {
        let key = (
            source_region(a["source"].as_str().expect("source")),
            a["severity"].as_str().expect("severity").to_string(),
            a["state"].as_str().expect("state").to_string(),
        );
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

pub fn seen_alert_ids(snap: &Value) -> BTreeSet<(String, String)> {
    snap["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| (source_region(a["source"].as_str().expect("source")), a["id"].as_str().expect("id").to_string()))
        .collect()
}

pub fn seen_policies(snap: &Value) -> BTreeMap<String, Vec<(String, String, u32, String)>> {
    snap["traffic_policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| {
            let mut eps: Vec<_> = p["endpoints"]
                .as_array()
                .expect("endpoints")
                .iter()
                .map(|e| {
                    (
                        e["name"].as_str().expect("name").to_string(),
                        e["cloud"].as_str().expect("cloud").to_string(),
                        u32::try_from(e["weight"].as_u64().expect("weight")).expect("u32"),
                        e["health"].as_str().expect("health").to_string(),
                    )
                })
                .collect();
            eps.sort();
            (p["name"].as_str().expect("name").to_string(), eps)
        })
        .collect()
}

pub fn seen_costs(snap: &Value) -> Vec<CostView> {
    snap["costs"]
        .as_array()
        .expect("costs")
        .iter()
        .map(|c| CostView {
            currency: c["currency"].as_str().expect("currency").to_string(),
            month_to_date: c["month_to_date"].as_f64().expect("mtd"),
            by_service: c["by_service"]
                .as_array()
                .expect("by_service")
                .iter()
                .map(|s| (s["service"].as_str().expect("service").to_string(), s["amount"].as_f64().expect("amount")))
                .collect(),
        })
        .collect()
}

pub fn seen_regions(snap: &Value) -> BTreeMap<String, (u64, u64)> {
    snap["clouds"]
        .as_array()
        .expect("clouds")
        .iter()
        .filter(|c| c["cloud"] == "aws")
        .flat_map(|c| c["regions"].as_array().cloned().unwrap_or_default())
        .map(|r| {
            let n = |k: &str| r[k].as_u64().expect("count");
            (r["region"].as_str().expect("region").to_string(), (n("groups"), n("idle_groups")))
        })
        .collect()
}

/// The spot prices in a snapshot, in the shape of [`Estate::expected_spot_prices`].
pub fn seen_spot_prices(snap: &Value) -> SpotTruth {
    snap["spot_prices"]
        .as_array()
        .expect("spot_prices")
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
            let groups = p["groups"].as_array().expect("groups").iter().map(|g| g.as_str().unwrap_or("").to_string());
            (
                (s("region"), s("instance_type")),
                (
                    s("zone"),
                    p["spot_hourly"].as_f64().unwrap_or(f64::NAN),
                    p["on_demand_hourly"].as_f64(),
                    groups.collect(),
                ),
            )
        })
        .collect()
}
