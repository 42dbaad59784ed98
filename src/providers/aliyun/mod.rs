//! Alibaba Cloud through its OpenAPI, signed here (there is no maintained Rust
//! SDK): CloudMonitor (metrics and alert logs), Auto Scaling (ESS), DNS/GTM
//! (alidns) and Billing (BssOpenApi).
//!
//! One configured account becomes two sources, as for AWS: the region (scaling
//! groups, alerts, metrics) and the account's global services (GTM strategies and
//! the bill), so a failing one is marked stale alone.

mod bss;
pub mod client;
mod cms;
pub mod config;
mod contacts;
pub mod creds;
pub mod decode;
mod ess;
mod gtm;
mod json;
pub mod keys;
mod metadata;
mod prices;
pub mod sign;
mod sts;
mod temporary;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use self::client::{Client, KeySource, Product, RetryPolicy};
use self::config::AliyunConfig;
use self::keys::{Keys, Refresh, Settings};
use super::registry::{self, BuildError, Built, Entry};
use super::sections::Sections;
use super::shared::cost_cache::CostCache;
use super::shared::price_cache::{Demand, PriceCache};
use super::tls::ExtraRoots;
use super::{Check, Provider, ProviderError, Receipt};
use crate::config::{KindSpec, SourceConfig, TableSpec, read_table};
use crate::credentials::Keyring;
use crate::model::{Actor, Change, Plan};
use crate::model::{CostSnapshot, PollCost, Section, SourceId, SourceReport};

/// `kind = "aliyun"` (or "alibaba"), `[sources.aliyun]`.
pub const ENTRY: Entry = Entry {
    kind: KindSpec {
        name: "aliyun",
        aliases: &["alibaba"],
        table: Some(TableSpec { key: "aliyun", read: read_table::<AliyunConfig> }),
    },
    build: |s, _| {
        let cfg = registry::table::<AliyunConfig>(s, "aliyun")?;
        providers(&s.name, cfg, s.timeout()).map(Built::providers).map_err(|e| BuildError::of(s, e))
    },
    credential_line,
};

/// Which identity an Alibaba Cloud source uses and where it was found (config,
/// env, aliyun CLI profile, ECS RAM role, RamRoleArn, keyring).
fn credential_line(s: &SourceConfig) -> String {
    let Some(a) = s.table::<AliyunConfig>() else { return format!("{}: aliyun: no [sources.aliyun] table", s.name) };
    match resolve_standard(&s.name, a) {
        Ok((identity, origin)) => format!("{}: aliyun {}: {}", s.name, a.region, creds::describe(&identity, &origin)),
        Err(why) => format!("{}: aliyun {}: {why}", s.name, a.region),
    }
}

/// The standard credential chain of a source (see [`creds`]); blocking (files, keyring).
pub fn resolve_standard(source: &str, cfg: &AliyunConfig) -> Result<(creds::Identity, creds::Origin), String> {
    let env = |k: &str| std::env::var(k).ok();
    let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    let keyring = Keyring::detect();
    let kr = |field: &str| keyring.get(source, field).map_err(|e| e.to_string());
    let inputs = creds::Inputs {
        env: &env,
        cli_config: creds::read_cli_config(home.as_deref()),
        profile: cfg.profile.as_deref(),
        keyring: &kr,
        ecs_ram_role: cfg.credentials == Some(config::CredentialMode::EcsRamRole),
        ram_role_name: cfg.ram_role_name.as_deref(),
    };
    creds::resolve(&inputs)
}

/// The standard credential chain of a source, resolved on first use.
pub fn standard_keys(source: &str, cfg: &AliyunConfig) -> KeySource {
    let (source, cfg) = (source.to_string(), cfg.clone());
    KeySource::Resolve(Arc::new(move || resolve_standard(&source, &cfg)))
}

/// Build the sources of one configured account with the standard credential chain.
pub fn providers(name: &str, cfg: &AliyunConfig, timeout: Duration) -> Result<Vec<Arc<dyn Provider>>, ProviderError> {
    providers_with(name, cfg, timeout, standard_keys(name, cfg), RetryPolicy::default())
}

/// Build the sources with given keys and retry policy (tests).
pub fn providers_with(
    name: &str,
    cfg: &AliyunConfig,
    timeout: Duration,
    keys: KeySource,
    retry: RetryPolicy,
) -> Result<Vec<Arc<dyn Provider>>, ProviderError> {
    providers_with_refresh(name, cfg, timeout, keys, retry, Refresh::default())
}

/// [`providers_with`] with a given renewal margin and clock for temporary keys (tests).
pub fn providers_with_refresh(
    name: &str,
    cfg: &AliyunConfig,
    timeout: Duration,
    keys: KeySource,
    retry: RetryPolicy,
    refresh: Refresh,
) -> Result<Vec<Arc<dyn Provider>>, ProviderError> {
    let cfg = Arc::new(cfg.clone());
    let endpoints = client::endpoints(&cfg.region, &cfg.endpoints);
    let roots = ExtraRoots::load_opt(cfg.ca_file.as_deref()).map_err(|e| ProviderError::Unreachable(e.to_string()))?;
    let settings = Settings {
        timeout,
        endpoints: endpoints.clone(),
        signature: cfg.signature,
        retry,
        roots: roots.clone(),
        metadata_url: cfg.metadata_url(),
        refresh,
    };
    // One key holder for both sources: one metadata read or AssumeRole per renewal.
    let keys = Arc::new(Keys::new(keys, settings)?);
    let make = || Client::new(timeout, endpoints.clone(), cfg.signature, keys.clone(), retry, roots.as_ref());
    let mut out: Vec<Arc<dyn Provider>> = vec![Arc::new(AliyunRegion {
        id: SourceId::new(format!("{name}/{}", cfg.region)),
        cfg: cfg.clone(),
        client: make()?,
        group_ids: Mutex::new(BTreeMap::new()),
        prices: PriceCache::new(cfg.price_interval_secs),
    })];
    if !cfg.gtm.is_empty() || cfg.billing {
        out.push(Arc::new(AliyunGlobal {
            id: SourceId::new(format!("{name}/global")),
            cfg: cfg.clone(),
            client: make()?,
            strategies: Mutex::new(BTreeMap::new()),
            cost: CostCache::new(cfg.cost_interval_secs),
        }));
    }
    Ok(out)
}

/// One region: ESS scaling groups, CloudMonitor alert logs and metrics.
pub struct AliyunRegion {
    id: SourceId,
    cfg: Arc<AliyunConfig>,
    client: Client,
    /// Group name → ScalingGroupId from the last read, for a scale.
    group_ids: Mutex<BTreeMap<String, String>>,
    /// The groups' spot prices (`spot_prices = true`), read hourly.
    prices: PriceCache,
}

impl AliyunRegion {
    /// The groups' types (from their active scaling configurations), then their
    /// prices through the hourly cache; the calls of the last price read.
    async fn spot_prices(
        &self,
        groups: &mut [crate::model::ScalingGroup],
        active: &BTreeMap<String, String>,
        sections: &mut Sections,
        report: &mut SourceReport,
        now: DateTime<Utc>,
    ) -> Option<u32> {
        let mut ids: Vec<String> = active.values().cloned().collect();
        ids.sort();
        ids.dedup();
        let types = if ids.is_empty() {
            Ok(BTreeMap::new())
        } else {
            prices::configuration_types(&self.client, &self.cfg.region, &ids).await
        };
        let types = sections.read(&[Section::Prices], types)?;
        for g in groups.iter_mut() {
            g.instance_type = active.get(&g.name).and_then(|c| types.get(c)).cloned();
        }
        let demand = Demand::of(groups);
        let before = self.client.calls();
        let read = async {
            let mut r = prices::read(&self.client, &demand, &self.cfg.spot_network, &self.cfg.spot_os, now).await?;
            r.calls = self.client.calls().wrapping_sub(before);
            Ok(r)
        };
        let (prices, calls) = self.prices.get(now, demand.clone(), sections, read).await;
        if let Some(prices) = prices {
            report.spot_prices = prices;
        }
        calls
    }
}

#[async_trait]
impl Provider for AliyunRegion {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "aliyun"
    }
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let before = self.client.calls();
        // Each section stands alone: a throttled alert log must not hide the groups.
        let mut sections = Sections::new();
        let mut report = SourceReport::default();
        let groups = ess::groups(&self.client, &self.id, &self.cfg.region, &self.cfg.scaling_groups).await;
        let mut price_calls = None;
        // Groups not read: nothing to price either, so asked-for prices keep their last read.
        let feeds: &[Section] =
            if self.cfg.spot_prices { &[Section::Groups, Section::Prices] } else { &[Section::Groups] };
        if let Some(mut groups) = sections.read(feeds, groups) {
            *self.group_ids.lock().unwrap_or_else(|e| e.into_inner()) = groups.ids;
            if self.cfg.spot_prices {
                price_calls =
                    self.spot_prices(&mut groups.groups, &groups.active_configs, &mut sections, &mut report, now).await;
            }
            report.groups = groups.groups.into();
        }
        let alerts = cms::alerts(&self.client, &self.id, &self.cfg, now).await;
        let routes = match &alerts {
            Ok(a) => Some(contacts::read(&self.client, &self.id, a).await),
            Err(_) => None,
        };
        // Without the alerts there is nothing to route: the routes keep their last read too.
        if let Some(alerts) = sections.read(&[Section::Alerts, Section::Routes], alerts) {
            report.alerts = alerts.into();
        }
        if let Some(routes) = routes.and_then(|r| sections.read(&[Section::Routes], r)) {
            report.routes = routes;
        }
        let m = &self.cfg.metrics;
        let figures = cms::region_figures(&self.client, &self.cfg, now).await;
        if !(m.ecs_instances.is_empty() && m.load_balancers.is_empty() && m.polardb_clusters.is_empty())
            && let Some(figures) = sections.read(&[Section::Metrics, Section::Replication], figures)
        {
            report.metrics = figures.front_door.into_iter().collect();
            report.replication = figures.replication;
        }
        // CloudMonitor reads are not billed per metric; calls are what count.
        report.poll_cost = Some(PollCost {
            api_calls: self.client.calls().wrapping_sub(before),
            slow_calls: price_calls.map(|n| (n, self.prices.every_secs())),
            ..PollCost::default()
        });
        sections.finish(report)
    }
    async fn preflight(&self, now: DateTime<Utc>) -> Vec<Check> {
        let region = self.cfg.region.clone();
        let c = &self.client;
        // First: a RAM role or AssumeRole that fails is the cause of every check after it.
        let identity = c.identity().await;
        let groups = c
            .read(Product::Ess, "DescribeScalingGroups", &[("RegionId", region.clone()), ("PageSize", "1".into())])
            .await
            .map(|v| format!("permitted; {} group(s) in {region}", json::count(&v, "TotalCount").unwrap_or(0)));
        let from = (now - chrono::Duration::minutes(5)).timestamp_millis().to_string();
        let logs = c
            .read(
                Product::Cms,
                "DescribeAlertLogList",
                &[
                    ("StartTime", from),
                    ("EndTime", now.timestamp_millis().to_string()),
                    ("PageNumber", "1".into()),
                    ("PageSize", "1".into()),
                ],
            )
            .await
            .map(|_| "permitted".to_string());
        let metric = c
            .read(
                Product::Cms,
                "DescribeMetricLast",
                &[
                    ("Namespace", "acs_ecs_dashboard".into()),
                    ("MetricName", "CPUUtilization".into()),
                    ("Length", "1".into()),
                ],
            )
            .await
            .map(|_| "permitted".to_string());
        vec![
            Check::of("identity", identity),
            Check::of("ess:DescribeScalingGroups", groups),
            Check::of("cms:DescribeAlertLogList", logs),
            Check::of("cms:DescribeMetricLast", metric),
        ]
    }
    async fn execute(&self, plan: &Plan, _actor: &Actor, _now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        match plan.changes.as_slice() {
            [Change::Capacity { group, after, .. }] => {
                let known = self.group_ids.lock().unwrap_or_else(|e| e.into_inner()).get(group).cloned();
                let id = known
                    .ok_or_else(|| ProviderError::BadResponse(format!("group {group} is not in the last read")))?;
                ess::set_desired(&self.client, &id, *after).await
            }
            [Change::AlertState { .. }] => Err(ProviderError::Unsupported(
                "CloudMonitor has no API to acknowledge an alert log; mute the rule in the CloudMonitor console".into(),
            )),
            _ => Err(ProviderError::Unsupported(format!("{} in {}", plan.intent, self.id))),
        }
    }
}

/// A GTM strategy as last read: its id and each endpoint's weight.
type Strategy = (String, BTreeMap<String, u32>);

/// The account's global services: GTM strategies and the month's bill.
pub struct AliyunGlobal {
    id: SourceId,
    cfg: Arc<AliyunConfig>,
    client: Client,
    /// Policy name → (strategy id, endpoint → weight) from the last read.
    strategies: Mutex<BTreeMap<String, Strategy>>,
    /// The bill changes slowly: read once per `cost_interval_secs`.
    cost: CostCache<Vec<CostSnapshot>>,
}

#[async_trait]
impl Provider for AliyunGlobal {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "aliyun"
    }
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let before = self.client.calls();
        let mut report = SourceReport::default();
        let mut sections = Sections::new();
        let policies = async {
            let (mut policies, mut seen) = (Vec::new(), BTreeMap::new());
            for g in &self.cfg.gtm {
                let p = gtm::read(&self.client, &self.id, g).await?;
                let weights = p.endpoints.iter().map(|e| (e.name.clone(), e.weight)).collect();
                seen.insert(p.name.clone(), (g.strategy_id.clone(), weights));
                policies.push(p);
            }
            Ok((policies, seen))
        }
        .await;
        if !self.cfg.gtm.is_empty()
            && let Some((policies, seen)) = sections.read(&[Section::Records], policies)
        {
            *self.strategies.lock().unwrap_or_else(|e| e.into_inner()) = seen;
            report.policies = policies;
        }
        if self.cfg.billing {
            let cost = self.cost.get(now, &mut sections, bss::month_to_date(&self.client, now)).await;
            report.costs.extend(cost.unwrap_or_default());
        }
        report.poll_cost =
            Some(PollCost { api_calls: self.client.calls().wrapping_sub(before), ..PollCost::default() });
        sections.finish(report)
    }
    async fn preflight(&self, now: DateTime<Utc>) -> Vec<Check> {
        let c = &self.client;
        let mut out = Vec::new();
        for g in &self.cfg.gtm {
            let r = c
                .read(Product::Alidns, "DescribeDnsGtmInstanceStatus", &[("InstanceId", g.instance_id.clone())])
                .await
                .map(|_| format!("instance {} readable", g.instance_id));
            out.push(Check::of(format!("alidns:DescribeDnsGtmInstanceStatus {}", g.instance_id), r));
            let r = c
                .read(Product::Alidns, "DescribeDnsGtmAccessStrategy", &[("StrategyId", g.strategy_id.clone())])
                .await
                .map(|v| format!("access mode {}", json::text(&v, "AccessMode").unwrap_or_else(|| "?".into())));
            out.push(Check::of(format!("alidns:DescribeDnsGtmAccessStrategy {}", g.strategy_id), r));
        }
        if self.cfg.billing {
            let r = bss::month_to_date(c, now).await.map(|s| {
                let per: Vec<String> =
                    s.iter().map(|c| format!("{} products billed in {}", c.by_service.len(), c.currency)).collect();
                if per.is_empty() { "no spend readable this month".to_string() } else { per.join(", ") }
            });
            out.push(Check::of("bss:QueryBillOverview", r));
        }
        out
    }
    async fn execute(&self, plan: &Plan, _actor: &Actor, _now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        let mut target: Option<(String, String, BTreeMap<String, u32>)> = None;
        for change in &plan.changes {
            let Change::Weight { policy, endpoint, before, after, .. } = change else {
                return Err(ProviderError::Unsupported(format!("{} in {}", plan.intent, self.id)));
            };
            if target.is_none() {
                let known = self.strategies.lock().unwrap_or_else(|e| e.into_inner()).get(policy).cloned();
                let (sid, weights) = known.ok_or_else(|| {
                    ProviderError::BadResponse(format!("GTM policy {policy} is not in the last read"))
                })?;
                target = Some((policy.clone(), sid, weights));
            }
            let Some((name, _, weights)) = target.as_mut() else { continue };
            if name != policy {
                return Err(ProviderError::Unsupported("one failover changes one GTM strategy".into()));
            }
            let now_w = weights.get(endpoint).copied();
            if now_w != Some(*before) {
                // The estate moved since the plan was made: refuse rather than overwrite.
                return Err(ProviderError::BadResponse(format!(
                    "{endpoint} of {policy} is {now_w:?} now, not {before} as planned; re-plan"
                )));
            }
            weights.insert(endpoint.clone(), *after);
        }
        let (_, strategy_id, weights) = target.ok_or_else(|| ProviderError::BadResponse("nothing to change".into()))?;
        let w = |e: &str| weights.get(e).copied().unwrap_or(0);
        let mode = gtm::access_mode(w(gtm::DEFAULT), w(gtm::FAILOVER))?;
        gtm::set_access_mode(&self.client, &strategy_id, mode).await
    }
}
