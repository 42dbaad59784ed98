//! A seeded Alibaba Cloud estate: the TRUTH (groups with their counts and state,
//! alerts with severity and state, the bill per currency, GTM weights) and the
//! answers that carry it in the real API shapes, served by the signed-request
//! stand-in of `support::aliyun` (one server per region, as each region's
//! endpoints would be; the account's global services on the first).
//!
//! What varies with the seed is what varies between real estates: how many
//! regions, groups, rules and bill lines; LifecycleState Active / Inactive /
//! Deleting; DesiredCapacity present, absent, or stale beside
//! EnableDesiredCapacity false; desired 0; numbers as numbers or strings; the
//! 2014 wrapped or the 2022 flat list; TotalCount present, a string or absent;
//! the server's page size (1..N, whatever was asked); alert logs firing,
//! re-firing and clearing, with P1..P4 or CRITICAL / WARN / INFO levels; a bill
//! in CNY, USD or both, with lines whose amount is absent or null; non-ASCII
//! names ("商城-web", "tienda-ñ").
//!
//! The truth is written down from what the generator decided, with its own
//! severity table, not through opsdeck's code.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::aliyun::{Seen, Server, fixture};

/// splitmix64: small, deterministic, good enough to vary test estates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
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
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }
}

pub const REGIONS: [&str; 4] = ["cn-hangzhou", "cn-shanghai", "ap-southeast-1", "eu-central-1"];
const GROUP_NAMES: [&str; 6] = ["商城-web", "tienda-ñ", "api", "批处理-worker", "front door", "café-α"];
const RULE_NAMES: [&str; 5] = ["CPU 使用率", "tienda-ñ latencia", "disk full", "商城-web 5xx", "Memory"];
const HOSTS: [&str; 4] = ["商城-web-01", "tienda-ñ-2", "portalHost", ""];
const PRODUCTS: [&str; 5] =
    ["云服务器 ECS", "NAT Gateway", "Object Storage Service", "云数据库 RDS 版", "tienda-ñ CDN"];
/// Levels a firing alert log carries: the P-levels of current rules and the
/// levels of metric rules, in the spellings seen.
const LEVELS: [&str; 9] = ["P1", "P2", "P3", "P4", "CRITICAL", "WARN", "INFO", "critical", "Warn"];
pub const GTM_INSTANCE: &str = "gtm-cn-estate";
pub const GTM_STRATEGY: &str = "hr-estate";
pub const GTM_NAME: &str = "shop.example.com";
/// The Classic Load Balancer and PolarDB cluster whose CloudMonitor figures the
/// first region serves when the estate has [`Figures`].
pub const SLB_ID: &str = "lb-estate-ñ";
pub const POLARDB_ID: &str = "pc-estate";

/// CloudMonitor figures of the first region: the load balancer's requests/s, and
/// the replica lag of each read-only node of the PolarDB cluster (seconds; the
/// worst node is the cluster's lag).
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub qps: f64,
    pub node_lags: Vec<f64>,
}

impl Figures {
    pub fn lag(&self) -> f64 {
        self.node_lags.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

/// opsdeck's default map, written out here: P1→P0 .. P4→P3; CRITICAL, WARN and
/// INFO are CloudMonitor's P2, P3 and P4.
pub fn expected_severity(level: &str) -> &'static str {
    match level.to_ascii_uppercase().as_str() {
        "P1" => "P0",
        "P2" | "CRITICAL" => "P1",
        "P3" | "WARN" => "P2",
        "P4" | "INFO" => "P3",
        other => panic!("generator level {other}"),
    }
}

/// Spot prices by (region, type): (zone, spot, on-demand, currency, groups running it).
pub type PriceTruth = BTreeMap<(String, String), (String, f64, f64, &'static str, Vec<String>)>;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupTruth {
    pub region: String,
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    pub in_service: u32,
    pub inactive: bool,
    /// Its active scaling configuration's type; None on a launch template.
    pub instance_type: Option<&'static str>,
}

/// The worst of several healths: idle gives way to anything, unknown never hides down.
pub fn worst_of(hs: impl Iterator<Item = &'static str>) -> &'static str {
    let rank = |h: &str| ["IDLE", "OK", "DEGRADED", "UNKNOWN", "DOWN"].iter().position(|x| *x == h).expect("a health");
    hs.max_by_key(|h| rank(h)).unwrap_or("UNKNOWN")
}

/// The estate's health in the snapshot's words.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthTruth {
    /// (region, group name) → (health, idle reason).
    pub groups: BTreeMap<(String, String), (&'static str, Option<&'static str>)>,
    /// Cloud slug → (health, region → health).
    pub clouds: BTreeMap<String, (&'static str, BTreeMap<String, &'static str>)>,
    pub status: &'static str,
    pub exit_code: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AlertTruth {
    pub id: String,
    /// opsdeck's label: "P0".."P3".
    pub severity: &'static str,
    /// "firing" or "resolved".
    pub state: &'static str,
    pub rule_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CostTruth {
    pub currency: String,
    pub month_to_date: f64,
    pub by_service: Vec<(String, f64)>,
}

pub struct RegionEstate {
    pub region: String,
    pub groups: Vec<GroupTruth>,
    pub alerts: Vec<AlertTruth>,
    group_items: Vec<Value>,
    ess_page: usize,
    ess_wrapped: bool,
    /// 0: number, 1: string, 2: absent.
    total_count: u8,
    logs: Vec<Value>,
    cms_page: usize,
    strings: bool,
}

pub struct Estate {
    pub seed: u64,
    pub regions: Vec<RegionEstate>,
    /// GTM endpoint ("default" / "failover") → weight.
    pub weights: BTreeMap<String, u32>,
    /// Every currency whose month-to-date is known, sorted by currency.
    pub costs: Vec<CostTruth>,
    strategy: Value,
    instance_status: Value,
    bill: Value,
    /// The access mode last set by SetDnsGtmAccessMode, which later reads show.
    access_mode: std::sync::Mutex<Option<String>>,
    /// CloudMonitor metrics the first region answers (none unless set).
    pub figures: Option<Figures>,
}

/// A count as the API may send it: a number, or (when `strings`) sometimes its text.
fn n(rng: &mut Rng, strings: bool, v: u32) -> Value {
    if strings && rng.chance(50) { json!(v.to_string()) } else { json!(v) }
}

impl Estate {
    pub fn generate(seed: u64, now: DateTime<Utc>) -> Estate {
        let mut rng = Rng::new(seed);
        let region_count = rng.range(1, 3) as usize;
        let regions = REGIONS[..region_count].iter().map(|r| RegionEstate::generate(&mut rng, seed, r, now)).collect();
        let (strategy, weights) = gtm(&mut rng);
        let (bill, costs) = bill(&mut rng, now);
        Estate {
            seed,
            regions,
            weights,
            costs,
            strategy,
            instance_status: serde_json::from_str(&fixture("alidns-2015-01-09-DescribeDnsGtmInstanceStatus.sdk.json"))
                .expect("fixture"),
            bill,
            access_mode: std::sync::Mutex::default(),
            figures: None,
        }
    }

    /// The estate with CloudMonitor figures served by its first region.
    pub fn with_figures(mut self, figures: Figures) -> Estate {
        self.figures = Some(figures);
        self
    }

    /// DescribeMetricLast in the SDK's shape (Datapoints a string holding JSON),
    /// answering only for the estate's load balancer and PolarDB cluster.
    fn metric_last(&self, figures: &Figures, req: &Seen) -> (u16, String) {
        let now_ms = Utc::now().timestamp_millis();
        let dims: Vec<Value> = req.param("Dimensions").and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
        let asked = |key: &str, id: &str| dims.iter().any(|d| d[key] == id);
        let points: Vec<Value> = match (req.param("Namespace"), req.param("MetricName")) {
            (Some("acs_slb_dashboard"), Some(metric)) if asked("instanceId", SLB_ID) => {
                let value = match metric {
                    "InstanceQps" => figures.qps,
                    "InstanceRt" => 35.0,
                    _ => return (200, metric_answer(&[])),
                };
                // An older minute first, at another value: the newest one counts.
                [(now_ms - 180_000, value * 3.0 + 1.0), (now_ms - 60_000, value)]
                    .iter()
                    .map(|(at, v)| json!({"timestamp": at, "instanceId": SLB_ID, "userId": "1234", "Average": v, "Maximum": v * 1.5, "Minimum": v * 0.5}))
                    .collect()
            }
            (Some("acs_polardb"), Some("cluster_replica_lag")) if asked("clusterId", POLARDB_ID) => figures
                .node_lags
                .iter()
                .enumerate()
                .map(|(i, lag)| {
                    json!({"timestamp": now_ms - 60_000, "clusterId": POLARDB_ID, "instanceId": format!("pi-node-{i}"),
                           "userId": "1234", "Maximum": lag, "Average": lag / 2.0, "Minimum": 0.0})
                })
                .collect(),
            _ => vec![],
        };
        (200, metric_answer(&points))
    }

    /// Whether the strategy's default address pool group is AVAILABLE (a failover
    /// back to it is then one to a healthy cloud).
    pub fn default_available(&self) -> bool {
        self.strategy["DefaultAddrPoolGroupStatus"] == "AVAILABLE"
    }

    /// The strategy as it reads now: the generated one, with a mode set since.
    fn strategy_now(&self) -> Value {
        let mut s = self.strategy.clone();
        if let Some(mode) = self.access_mode.lock().expect("mode").clone() {
            // AUTO answers from the default group while it is available.
            let effective = match mode.as_str() {
                "AUTO" if self.default_available() => "DEFAULT",
                "AUTO" => "FAILOVER",
                m => m,
            };
            s["AccessMode"] = json!(mode);
            s["EffectiveAddrPoolGroupType"] = json!(effective);
        }
        s
    }

    /// SetDnsGtmAccessMode on the estate's strategy, as alidns answers it.
    fn set_access_mode(&self, req: &Seen) -> (u16, String) {
        if req.param("StrategyId") != Some(GTM_STRATEGY) {
            return (400, r#"{"Code":"InvalidStrategyId","Message":"no such strategy"}"#.into());
        }
        match req.param("AccessMode") {
            Some(m @ ("DEFAULT" | "FAILOVER" | "AUTO")) => {
                *self.access_mode.lock().expect("mode") = Some(m.to_string());
                (200, format!(r#"{{"RequestId":"gtm-mode-{}"}}"#, m.to_ascii_lowercase()))
            }
            _ => (400, r#"{"Code":"InvalidAccessMode","Message":"AccessMode is invalid"}"#.into()),
        }
    }

    /// Whether the failover address pool group (on AWS) is AVAILABLE.
    pub fn failover_available(&self) -> bool {
        self.strategy["FailoverAddrPoolGroupStatus"] == "AVAILABLE"
    }

    /// Health by the rules README.md states, worked out here from what the generator
    /// decided (not through opsdeck's code): per group, per cloud and region, and
    /// the snapshot's status and exit code, with every source read.
    pub fn expected_health(&self) -> HealthTruth {
        let mut groups = BTreeMap::new();
        let mut regions: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        for g in self.groups() {
            // ESS counts what is in service as healthy (no separate health figure).
            let healthy = g.in_service;
            let (health, idle) = if g.inactive {
                ("IDLE", Some("inactive"))
            } else if g.desired == 0 && g.min == 0 && g.in_service == 0 {
                ("IDLE", Some("idle"))
            } else if healthy == 0 {
                ("DOWN", None)
            } else if healthy < g.desired || healthy < g.min {
                ("DEGRADED", None)
            } else {
                ("OK", None)
            };
            regions.entry(g.region.clone()).or_default().push(health);
            groups.insert((g.region, g.name), (health, idle));
        }
        // GTM's pool groups: an unavailable one leaves its cloud DEGRADED (the
        // other pool may still answer), an available one OK.
        let pool = |up: bool| if up { "OK" } else { "DEGRADED" };
        let per_region: BTreeMap<String, &'static str> =
            regions.iter().map(|(r, hs)| (r.clone(), worst_of(hs.iter().copied()))).collect();
        let aliyun = worst_of(per_region.values().copied().chain([pool(self.default_available())]));
        let mut clouds = BTreeMap::new();
        clouds.insert("aliyun".to_string(), (aliyun, per_region));
        clouds.insert("aws".to_string(), (pool(self.failover_available()), BTreeMap::new()));
        let alerts = self.alerts();
        let firing = |sev: &[&str]| alerts.iter().any(|a| a.state == "firing" && sev.contains(&a.severity));
        let any = |h: &str| clouds.values().any(|c| c.0 == h);
        let (status, exit_code) = if firing(&["P0"]) || any("DOWN") {
            ("CRITICAL", 2)
        } else if firing(&["P1", "P2"]) || any("DEGRADED") {
            ("WARNING", 1)
        } else {
            ("OK", 0)
        };
        HealthTruth { groups, clouds, status, exit_code }
    }

    /// Every alert of every region, sorted.
    pub fn alerts(&self) -> Vec<AlertTruth> {
        let mut a: Vec<AlertTruth> = self.regions.iter().flat_map(|r| r.alerts.iter().cloned()).collect();
        a.sort();
        a
    }

    /// The spot prices opsdeck should show, by (region, type): (zone, spot,
    /// on-demand, currency, groups running it).
    pub fn expected_prices(&self) -> PriceTruth {
        let mut out: PriceTruth = BTreeMap::new();
        for g in self.groups() {
            let Some(t) = g.instance_type else { continue };
            let e = out.entry((g.region.clone(), t.to_string())).or_insert_with(|| {
                let (zone, spot, od, cur) = super::aliyun_prices::expected(self.seed, &g.region, t);
                (zone, spot, od, cur, vec![])
            });
            e.4.push(g.name.clone());
        }
        for v in out.values_mut() {
            v.4.sort();
            v.4.dedup();
        }
        out
    }

    /// Every group of every region, sorted.
    pub fn groups(&self) -> Vec<GroupTruth> {
        let mut g: Vec<GroupTruth> = self.regions.iter().flat_map(|r| r.groups.iter().cloned()).collect();
        g.sort();
        g
    }

    /// One stand-in server per region; the first also answers GTM and Billing.
    pub fn serve(self: &Arc<Estate>) -> Vec<Server> {
        (0..self.regions.len())
            .map(|i| {
                let estate = self.clone();
                Server::start(Arc::new(move |req: &Seen| estate.answer(i, req)))
            })
            .collect()
    }

    fn answer(&self, region: usize, req: &Seen) -> (u16, String) {
        let r = &self.regions[region];
        let global = region == 0;
        match req.action.as_str() {
            "DescribeScalingGroups" => {
                if req.param("RegionId") != Some(r.region.as_str()) {
                    return (400, r#"{"Code":"InvalidRegionId","Message":"wrong region"}"#.into());
                }
                (200, r.ess_page(req).to_string())
            }
            "DescribeAlertLogList" => (200, r.cms_page(req).to_string()),
            "DescribeScalingConfigurations" => super::aliyun_prices::configurations(req),
            "DescribeSpotPriceHistory" => super::aliyun_prices::spot_history(self.seed, req),
            "DescribeDnsGtmAccessStrategy" if global => (200, self.strategy_now().to_string()),
            "SetDnsGtmAccessMode" if global => self.set_access_mode(req),
            "DescribeDnsGtmInstanceStatus" if global => (200, self.instance_status.to_string()),
            "QueryBillOverview" if global => (200, self.bill.to_string()),
            "DescribeContactGroupList" | "DescribeContactList" => {
                (200, crate::support::aliyun::contact_book(&req.action))
            }
            "DescribeMetricLast" if global && self.figures.is_some() => {
                self.metric_last(self.figures.as_ref().expect("figures"), req)
            }
            other => (404, format!(r#"{{"Code":"InvalidAction.NotFound","Message":"{other} in region {region}"}}"#)),
        }
    }
}

fn metric_answer(points: &[Value]) -> String {
    json!({
        "RequestId": "cms-metric-last",
        "Code": "200",
        "Success": true,
        "Period": "60",
        "Datapoints": Value::Array(points.to_vec()).to_string(),
    })
    .to_string()
}

fn page_of(req: &Seen, server_size: usize) -> (usize, usize) {
    let asked: usize = req.param("PageSize").and_then(|s| s.parse().ok()).unwrap_or(10);
    let number: usize = req.param("PageNumber").and_then(|s| s.parse().ok()).unwrap_or(1);
    (number.max(1), asked.min(server_size).max(1))
}

impl RegionEstate {
    fn generate(rng: &mut Rng, seed: u64, region: &str, now: DateTime<Utc>) -> RegionEstate {
        let strings = rng.chance(50);
        let mut groups = Vec::new();
        let mut group_items = Vec::new();
        for i in 0..rng.range(0, 9) {
            let (truth, item) = group(rng, strings, seed, region, i);
            groups.push(truth);
            group_items.push(item);
        }
        let (logs, alerts) = logs(rng, strings, region, now);
        let min_cms_page = logs.len().div_ceil(19).max(1);
        RegionEstate {
            region: region.to_string(),
            groups,
            alerts,
            group_items,
            ess_page: rng.range(1, 6) as usize,
            ess_wrapped: rng.chance(50),
            total_count: if rng.chance(15) { 2 } else { rng.below(2) as u8 },
            cms_page: (rng.range(1, 7) as usize).max(min_cms_page),
            logs,
            strings,
        }
    }

    /// DescribeScalingGroups calls a reader needs: every page once, and one more
    /// (empty) when nothing says the last full page was the last (no TotalCount),
    /// or the one empty page of a region without groups.
    pub fn ess_calls_needed(&self) -> std::ops::RangeInclusive<usize> {
        let pages = self.group_items.len().div_ceil(self.ess_page);
        let extra = usize::from(self.total_count == 2 && self.group_items.len().is_multiple_of(self.ess_page));
        pages.max(1)..=pages.max(1) + extra
    }

    fn ess_page(&self, req: &Seen) -> Value {
        let (number, size) = page_of(req, self.ess_page);
        let items: Vec<Value> = self.group_items.iter().skip((number - 1) * size).take(size).cloned().collect();
        let count = |v: usize| if self.strings { json!(v.to_string()) } else { json!(v) };
        let mut out = json!({
            "RequestId": format!("ess-{}-{number}", self.region),
            "PageNumber": count(number),
            "PageSize": count(size),
            "ScalingGroups": if self.ess_wrapped { json!({ "ScalingGroup": items }) } else { json!(items) },
        });
        match self.total_count {
            0 => out["TotalCount"] = json!(self.group_items.len()),
            1 => out["TotalCount"] = json!(self.group_items.len().to_string()),
            _ => {}
        }
        out
    }

    fn cms_page(&self, req: &Seen) -> Value {
        let (number, size) = page_of(req, self.cms_page);
        let items: Vec<Value> = self.logs.iter().skip((number - 1) * size).take(size).cloned().collect();
        json!({
            "AlertLogList": items,
            "RequestId": format!("cms-{}-{number}", self.region),
            "PageNumber": if self.strings { json!(number.to_string()) } else { json!(number) },
            "PageSize": if self.strings { json!(size.to_string()) } else { json!(size) },
            "Code": if self.strings { json!("200") } else { json!(200) },
            "Success": true,
        })
    }
}

/// One scaling group: its truth and its DescribeScalingGroups item.
fn group(rng: &mut Rng, strings: bool, seed: u64, region: &str, i: u32) -> (GroupTruth, Value) {
    let name = format!("{}-{i}", rng.pick(&GROUP_NAMES));
    let id = format!("asg-{region}-{seed}-{i}");
    // 0 inactive / deleting, 1 scaled to zero, 2-3 expected capacity, 4-5 without it.
    let kind = rng.below(6);
    let expected_mode = match kind {
        0 => rng.chance(50),
        1..=3 => true,
        _ => false,
    };
    let (desired, total) = match kind {
        1 => (0, 0),
        _ if expected_mode => {
            let d = rng.range(1, 8);
            // A scaling activity may be under way: a few more or fewer than desired.
            (d, (d + rng.range(0, 2)).saturating_sub(1))
        }
        _ => {
            let t = rng.range(1, 8);
            (t, t)
        }
    };
    let in_service = if kind == 0 && rng.chance(60) { 0 } else { rng.range(0, total) };
    let lifecycle = match kind {
        0 if rng.chance(30) => "Deleting",
        0 => "Inactive",
        _ => "Active",
    };
    let min = rng.range(0, desired.min(2));
    let max = desired.max(total) + rng.range(0, 4);
    let mut item = json!({
        "ScalingGroupId": id,
        "ScalingGroupName": name,
        "RegionId": region,
        "LifecycleState": lifecycle,
        "MinSize": n(rng, strings, min),
        "MaxSize": n(rng, strings, max),
        "ActiveCapacity": n(rng, strings, in_service),
        "PendingCapacity": n(rng, strings, total - in_service),
        "RemovingCapacity": 0,
        "TotalCapacity": n(rng, strings, total),
        "DefaultCooldown": 300,
        "VSwitchId": "vsw-bp1whw2u46cn8zubm****",
        "CreationTime": "2014-08-14T10:58Z",
    });
    if rng.chance(50) {
        item["TotalInstanceCount"] = n(rng, strings, total);
    }
    if expected_mode {
        item["DesiredCapacity"] = n(rng, strings, desired);
        if rng.chance(50) {
            item["EnableDesiredCapacity"] = json!(true);
        }
    } else if rng.chance(40) {
        // Expected capacity switched off: a DesiredCapacity left from before is not the aim.
        item["EnableDesiredCapacity"] = json!(false);
        let stale = desired + rng.range(1, 5);
        item["DesiredCapacity"] = n(rng, strings, stale);
    }
    // From the id, not the generator: the estates other tests know stay the same.
    let config = super::aliyun_prices::configuration(&id);
    if let Some((config_id, _)) = &config {
        item["ActiveScalingConfigurationId"] = json!(config_id);
    }
    let truth = GroupTruth {
        region: region.to_string(),
        name,
        min,
        max,
        desired,
        in_service,
        inactive: lifecycle != "Active",
        instance_type: config.map(|(_, t)| t),
    };
    (truth, item)
}

/// Alert logs of a region's rules, shuffled, and the alert each (rule, instance) is now.
fn logs(rng: &mut Rng, strings: bool, region: &str, now: DateTime<Utc>) -> (Vec<Value>, Vec<AlertTruth>) {
    let now_ms = now.timestamp_millis();
    let mut out = Vec::new();
    let mut alerts = Vec::new();
    for r in 0..rng.range(0, 5) {
        let rule_name = rng.pick(&RULE_NAMES).to_string();
        let rule_id = format!("rule-{region}-{r}_cpu");
        let metric = *rng.pick(&["cpu_total", "memory_usedutilization", "InstanceQps"][..]);
        for k in 0..rng.range(1, 3) {
            let instance = format!("i-{region}-{r}-{k}");
            let host = *rng.pick(&HOSTS);
            let mut at = now_ms - 3_000_000 + i64::from(rng.range(0, 600)) * 1000;
            // The level the alert is at before this window: OK, or already raised.
            let mut prev: Option<&str> = if rng.chance(30) { Some(*rng.pick(&LEVELS)) } else { None };
            let mut last = None;
            for _ in 0..rng.range(1, 3) {
                at += i64::from(rng.range(1, 300)) * 1000;
                let fire = prev.is_none() || rng.chance(50);
                let from = prev.unwrap_or("OK");
                let mut log = json!({
                    "RuleId": rule_id,
                    "RuleName": rule_name,
                    "MetricName": metric,
                    "Namespace": "acs_ecs_dashboard",
                    "Product": "ECS",
                    "InstanceName": host,
                    "GroupId": "7301****",
                    "SendStatus": "0",
                    "ContactGroups": ["ECS_Group"],
                    "AlertTime": if strings { json!(at.to_string()) } else { json!(at) },
                    "Dimensions": [{"Key": "userId", "Value": "127067667954****"}, {"Key": "instanceId", "Value": instance}],
                });
                if fire {
                    let level = *rng.pick(&LEVELS);
                    log["Level"] = json!(level);
                    log["LevelChange"] = json!(format!("{from}->{level}"));
                    log["EventName"] = json!("AlertTriggered");
                    log["Escalation"] = json!({"Expression": "$Average>=80", "Times": 1, "Level": level});
                    prev = Some(level);
                    last = Some((expected_severity(level), "firing"));
                } else {
                    // A clearing log: Level OK (or, now and then, no Level, only the change).
                    if rng.chance(85) {
                        log["Level"] = json!("OK");
                    }
                    log["LevelChange"] = json!(format!("{from}->OK"));
                    log["EventName"] = json!("AlertOk");
                    log["Escalation"] = json!({"Expression": "$Average>=80", "Times": 1, "Level": from});
                    last = Some((expected_severity(from), "resolved"));
                    prev = None;
                }
                out.push(log);
            }
            let (severity, state) = last.expect("at least one log");
            alerts.push(AlertTruth {
                id: format!("{rule_id}:instanceId={instance}"),
                severity,
                state,
                rule_name: rule_name.clone(),
            });
        }
    }
    rng.shuffle(&mut out);
    (out, alerts)
}

/// The GTM strategy answer and the weights it means.
fn gtm(rng: &mut Rng) -> (Value, BTreeMap<String, u32>) {
    let mut s: Value =
        serde_json::from_str(&fixture("alidns-2015-01-09-DescribeDnsGtmAccessStrategy.sdk.json")).expect("fixture");
    let mode = *rng.pick(&["DEFAULT", "FAILOVER", "AUTO"][..]);
    // AUTO answers from the default group while it is available.
    let default_up = rng.chance(70);
    let effective = match mode {
        "DEFAULT" => "DEFAULT",
        "FAILOVER" => "FAILOVER",
        _ if default_up => "DEFAULT",
        _ => "FAILOVER",
    };
    s["AccessMode"] = json!(mode);
    s["EffectiveAddrPoolGroupType"] = json!(effective);
    s["DefaultAddrPoolGroupStatus"] = json!(if default_up { "AVAILABLE" } else { "NOT_AVAILABLE" });
    s["StrategyId"] = json!(GTM_STRATEGY);
    s["InstanceId"] = json!(GTM_INSTANCE);
    let weights = [("default", effective == "DEFAULT"), ("failover", effective == "FAILOVER")]
        .into_iter()
        .map(|(k, on)| (k.to_string(), u32::from(on)))
        .collect();
    (s, weights)
}

/// The month's bill and the spend per currency it means.
fn bill(rng: &mut Rng, now: DateTime<Utc>) -> (Value, Vec<CostTruth>) {
    let currencies: &[&str] = match rng.below(5) {
        0 => &["CNY", "USD"],
        1 | 2 => &["USD"],
        _ => &["CNY"],
    };
    let mut items = Vec::new();
    let mut sums: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut homeless = false;
    for _ in 0..rng.range(0, 8) {
        let product = rng.pick(&PRODUCTS).to_string();
        let currency = rng.pick(currencies).to_string();
        let cents = rng.below(200_000);
        let amount = cents as f64 / 100.0;
        let mut item = json!({
            "ProductName": product,
            "ProductCode": "ecs",
            "Item": "PayAsYouGoBill",
            "BillingCycle": now.format("%Y-%m").to_string(),
            "PaymentAmount": amount,
            "PaymentCurrency": "USD",
            "PretaxGrossAmount": amount,
            "Tax": 0,
            "RoundDownDiscount": "0",
        });
        // The currency names the line's own amounts; rarely it is missing.
        if rng.chance(3) {
            homeless = true;
        } else {
            item["Currency"] = json!(currency);
        }
        match rng.below(100) {
            0..=5 => {
                unknown.push(currency.clone());
            }
            6..=8 => {
                item["PretaxAmount"] = Value::Null;
                unknown.push(currency.clone());
            }
            9..=40 => item["PretaxAmount"] = json!(format!("{amount:.2}")),
            _ => item["PretaxAmount"] = json!(amount),
        }
        if item.get("Currency").is_some() && item.get("PretaxAmount").is_some_and(|v| !v.is_null()) {
            sums.entry(currency).or_default().push((product, amount));
        }
        items.push(item);
    }
    let costs = if homeless {
        Vec::new()
    } else {
        sums.into_iter()
            .filter(|(c, _)| !unknown.contains(c))
            .map(|(currency, lines)| {
                let mut by: BTreeMap<String, f64> = BTreeMap::new();
                for (p, a) in &lines {
                    *by.entry(p.clone()).or_default() += a;
                }
                let mut by_service: Vec<(String, f64)> = by.into_iter().collect();
                by_service.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                CostTruth { currency, month_to_date: lines.iter().map(|(_, a)| a).sum(), by_service }
            })
            .collect()
    };
    let bill = json!({
        "Code": "Success",
        "Message": "Successful!",
        "RequestId": "BCB1E1BC-05BF-4217-80EE-BF09A29407BA",
        "Success": true,
        "Data": {
            "AccountID": "185766xxxx",
            "BillingCycle": now.format("%Y-%m").to_string(),
            "Items": { "Item": items },
        },
    });
    (bill, costs)
}
