//! Azure through azure_core's HTTP pipeline and azure_identity's credentials: VM
//! Scale Sets, Azure Monitor metrics, Alerts Management, Traffic Manager and Cost
//! Management, as plain ARM JSON (there are no current typed ARM crates).
//!
//! One configured source becomes one opsdeck source per subscription: alerts, cost
//! and the ARM read budget are per subscription, so a throttled or forbidden
//! subscription is marked stale alone.

mod action_groups;
mod alerts;
pub mod arm;
pub mod cert;
pub mod config;
mod cosmos;
mod cost;
pub mod creds;
pub mod decode;
pub mod federated;
pub mod metrics;
mod prices;
mod traffic;
pub mod transport;
mod vmss;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::{Transport, Url};
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

pub use config::default_severity_map;
pub use traffic::recovery_estimate_secs;
pub use vmss::LroLimits;

use self::arm::{Arm, ArmSettings};
pub use self::config::{AzureConfig, subscription_of};
use self::traffic::EndpointRef;
use super::registry::{self, BuildError, Built, Entry};
use super::sections::Sections;
use super::shared::cost_cache::CostCache;
use super::shared::price_cache::{Demand, PriceCache};
use super::{Check, Provider, ProviderError, Receipt};
use crate::config::{KindSpec, SourceConfig, TableSpec, read_table};
use crate::model::{Actor, Change, Plan};
use crate::model::{CloudKind, CloudMetrics, CostSnapshot, PollCost, Section, SourceId, SourceReport};

/// Where the credential comes from.
#[derive(Clone)]
pub enum AzureAuth {
    /// The chain of [`creds`]: environment, keyring, Azure CLI, managed identity.
    StandardChain,
    /// A ready credential (tests: a client-secret credential on a local authority).
    Given(Arc<dyn TokenCredential>),
}

#[derive(Clone)]
pub struct AzureOptions {
    pub auth: AzureAuth,
    /// HTTP client for ARM and the token authority; when `None`, reqwest with the
    /// source's `ca_file` ([`transport::build`]).
    pub transport: Option<Transport>,
    pub lro: LroLimits,
}

impl AzureOptions {
    pub fn standard() -> AzureOptions {
        AzureOptions {
            auth: AzureAuth::StandardChain,
            transport: None,
            lro: LroLimits { timeout: Duration::from_secs(300), interval: Duration::from_secs(5) },
        }
    }
}

/// `kind = "azure"`, `[sources.azure]`.
pub const ENTRY: Entry = Entry {
    kind: KindSpec {
        name: "azure",
        aliases: &[],
        table: Some(TableSpec { key: "azure", read: read_table::<AzureConfig> }),
    },
    build: |s, _| {
        let azure = registry::table::<AzureConfig>(s, "azure")?;
        providers(&s.name, azure, AzureOptions::standard()).map(Built::providers).map_err(|e| BuildError::of(s, e))
    },
    credential_line,
};

/// Which credential of the chain the source would use, and why.
fn credential_line(s: &SourceConfig) -> String {
    let Some(a) = s.table::<AzureConfig>() else { return format!("{}: azure: no [sources.azure] table", s.name) };
    let keyring = crate::credentials::Keyring::detect();
    let (facts, _secret) = creds::gather_blocking(&s.name, a, Some(&keyring));
    let how = creds::describe(creds::choose(&facts), &facts, &s.name);
    format!("{}: azure subscriptions {}: {how}", s.name, a.subscriptions.join(", "))
}

/// The providers of one configured source: one per subscription.
pub fn providers(name: &str, cfg: &AzureConfig, opts: AzureOptions) -> Result<Vec<Arc<dyn Provider>>, String> {
    let endpoint = Url::parse(&cfg.arm_endpoint).map_err(|e| format!("arm_endpoint {}: {e}", cfg.arm_endpoint))?;
    let transport = match opts.transport {
        Some(t) => t,
        None => {
            let roots = super::tls::ExtraRoots::load_opt(cfg.ca_file.as_deref()).map_err(|e| e.to_string())?;
            transport::build(roots.as_ref())?
        }
    };
    let settings = ArmSettings { endpoint, transport: Some(transport.clone()), scope: Some(cfg.token_scope()) };
    let public_http = super::tls::with_roots(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION"))),
        super::tls::ExtraRoots::load_opt(cfg.ca_file.as_deref()).map_err(|e| e.to_string())?.as_ref(),
    )
    .build()
    .map_err(|e| format!("HTTP client: {e}"))?;
    let cfg = Arc::new(cfg.clone());
    let cred = Arc::new(CredCell {
        source: name.to_string(),
        cfg: cfg.clone(),
        auth: opts.auth,
        transport,
        cell: OnceCell::new(),
    });
    Ok(cfg
        .subscriptions
        .iter()
        .map(|sub| {
            Arc::new(AzureSubscription {
                id: SourceId::new(format!("{name}/{sub}")),
                subscription: sub.clone(),
                cfg: cfg.clone(),
                cred: cred.clone(),
                settings: settings.clone(),
                arm: OnceCell::new(),
                lro: opts.lro,
                endpoints: Mutex::new(BTreeMap::new()),
                alert_ids: Mutex::new(BTreeSet::new()),
                scale_sets: Mutex::new(BTreeMap::new()),
                cost: CostCache::new(cfg.cost_interval_secs),
                prices: PriceCache::new(cfg.price_interval_secs),
                public_http: public_http.clone(),
            }) as Arc<dyn Provider>
        })
        .collect())
}

/// The credential, shared by the subscriptions of one source and made on first use
/// (the keyring read blocks, so it runs on the blocking pool).
struct CredCell {
    source: String,
    cfg: Arc<AzureConfig>,
    auth: AzureAuth,
    /// The token authority is reached through the same client as ARM (same CAs).
    transport: Transport,
    cell: OnceCell<Arc<dyn TokenCredential>>,
}

impl CredCell {
    async fn get(&self) -> Result<Arc<dyn TokenCredential>, ProviderError> {
        self.cell
            .get_or_try_init(|| async {
                match &self.auth {
                    AzureAuth::Given(c) => Ok(c.clone()),
                    AzureAuth::StandardChain => {
                        let (source, cfg) = (self.source.clone(), self.cfg.clone());
                        let (facts, secret) = tokio::task::spawn_blocking(move || {
                            let keyring = crate::credentials::Keyring::detect();
                            creds::gather_blocking(&source, &cfg, Some(&keyring))
                        })
                        .await
                        .map_err(|e| ProviderError::Auth(format!("credential lookup: {e}")))?;
                        let choice = creds::choose(&facts);
                        log::info!(
                            "{}: Azure credential: {}",
                            self.source,
                            creds::describe(choice, &facts, &self.source)
                        );
                        creds::build(choice, &self.cfg, secret, self.transport.clone())
                    }
                }
            })
            .await
            .cloned()
    }
}

/// One subscription: its scale sets, metrics, alerts, Traffic Manager profiles, cost.
pub struct AzureSubscription {
    id: SourceId,
    subscription: String,
    cfg: Arc<AzureConfig>,
    cred: Arc<CredCell>,
    settings: ArmSettings,
    arm: OnceCell<Arm>,
    lro: LroLimits,
    /// (policy, endpoint) → what a PATCH needs, from the last read.
    endpoints: Mutex<BTreeMap<(String, String), EndpointRef>>,
    /// Alert GUIDs of the last read: only those can be acknowledged.
    alert_ids: Mutex<BTreeSet<String>>,
    /// Scale set name → resource id, from the last read.
    scale_sets: Mutex<BTreeMap<String, String>>,
    /// Cost Management is throttled per tenant: one query per `cost_interval_secs`.
    cost: CostCache<Vec<CostSnapshot>>,
    /// The sets' VM prices (the public Retail Prices API), read hourly.
    prices: PriceCache,
    /// A plain client for that public API (no token), trusting the ca_file.
    public_http: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AzureSubscription {
    async fn arm(&self) -> Result<&Arm, ProviderError> {
        let cred = self.cred.get().await?;
        Ok(self.arm.get_or_init(|| async { Arm::new(&self.settings, cred) }).await)
    }

    fn mine<'a>(&'a self, ids: &'a [String]) -> impl Iterator<Item = &'a String> + 'a {
        ids.iter().filter(|id| subscription_of(id).is_some_and(|s| s.eq_ignore_ascii_case(&self.subscription)))
    }

    /// Newest values of one resource's metrics; a metric failing inside the 200 is
    /// logged with its own error and left out.
    async fn metrics(
        &self,
        arm: &Arm,
        id: &str,
        names: &[&str],
        aggregation: &str,
        now: DateTime<Utc>,
    ) -> Result<metrics::Values, ProviderError> {
        let v = metrics::read(arm, id, names, aggregation, now).await?;
        for (metric, why) in &v.errors {
            log::warn!("{}: metric {metric} of {}: {why}", self.id, short_name(id));
        }
        Ok(v)
    }

    /// Each figure is None when Azure Monitor returned no value for its metric.
    async fn front_door(
        &self,
        arm: &Arm,
        now: DateTime<Utc>,
        cpu: Option<f64>,
    ) -> Result<Vec<CloudMetrics>, ProviderError> {
        let mut out = Vec::new();
        // Front Door: requests per minute bucket, mean total latency, 5xx percentage.
        for id in self.mine(&self.cfg.front_doors) {
            let v =
                self.metrics(arm, id, &["RequestCount", "TotalLatency", "Percentage5XX"], "total,average", now).await?;
            out.push(CloudMetrics {
                cloud: CloudKind::Azure,
                region: v.region.clone().unwrap_or_else(|| "global".into()),
                rps: v.total.get("RequestCount").map(|n| n / 60.0),
                // Azure Monitor has no p95 for these: the mean is shown.
                p95_ms: v.average.get("TotalLatency").copied(),
                error_rate: v.average.get("Percentage5XX").map(|p| (p / 100.0).clamp(0.0, 1.0)),
                cpu,
            });
        }
        // Application Gateway: FailedRequests counts the 5xx the gateway itself returned.
        for id in self.mine(&self.cfg.app_gateways) {
            let names = ["TotalRequests", "ApplicationGatewayTotalTime", "FailedRequests"];
            let v = self.metrics(arm, id, &names, "total,average", now).await?;
            let total = v.total.get("TotalRequests").copied();
            let failed = v.total.get("FailedRequests").copied();
            out.push(CloudMetrics {
                cloud: CloudKind::Azure,
                region: v.region.clone().unwrap_or_default(),
                rps: total.map(|n| n / 60.0),
                p95_ms: v.average.get("ApplicationGatewayTotalTime").copied(),
                // A share needs both counts, and requests to share out.
                error_rate: total.zip(failed).filter(|(t, _)| *t > 0.0).map(|(t, f)| (f / t).clamp(0.0, 1.0)),
                cpu,
            });
        }
        Ok(out)
    }
}

fn short_name(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

#[async_trait]
impl Provider for AzureSubscription {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "azure"
    }
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let arm = self.arm().await?;
        let calls_before = arm.meter.calls();
        let mut report = SourceReport::default();

        // Each section stands alone: a throttled alert list must not hide the scale sets.
        let mut sections = Sections::new();
        let groups = async {
            let (mut groups, mut names, mut cpus) = (Vec::new(), BTreeMap::new(), Vec::new());
            for id in self.mine(&self.cfg.scale_sets) {
                let g = vmss::read(arm, &self.id, id).await?;
                names.insert(g.name.clone(), id.clone());
                let v = self.metrics(arm, id, &["Percentage CPU"], "average", now).await?;
                cpus.extend(v.average.get("Percentage CPU").copied());
                groups.push(g);
            }
            Ok((groups, names, cpus))
        }
        .await;
        let mut cpus = Vec::new();
        let mut price_calls = None;
        // Only what is configured counts as a section read: nothing to read cannot succeed.
        let has = |ids: &[String]| self.mine(ids).next().is_some();
        if has(&self.cfg.scale_sets)
            && let Some((groups, names, group_cpus)) = sections.read(&[Section::Groups, Section::Prices], groups)
        {
            *lock(&self.scale_sets) = names;
            report.groups = groups.into();
            cpus = group_cpus;
            // The sizes the sets run, priced (hourly, or at once when a size changes).
            if let Some(url) = self.cfg.prices_url() {
                let demand = Demand::of(&report.groups);
                let read = prices::read(&self.public_http, url, &self.cfg.price_currency, &demand);
                let (prices, calls) = self.prices.get(now, demand.clone(), &mut sections, read).await;
                price_calls = calls;
                if let Some(prices) = prices {
                    report.spot_prices = prices;
                }
            }
        }
        let cpu = (!cpus.is_empty()).then(|| cpus.iter().sum::<f64>() / cpus.len() as f64 / 100.0);
        if (has(&self.cfg.front_doors) || has(&self.cfg.app_gateways))
            && let Some(metrics) = sections.read(&[Section::Metrics], self.front_door(arm, now, cpu).await)
        {
            report.metrics = metrics;
        }
        if report.metrics.is_empty()
            && let Some(g) = report.groups.first()
        {
            // No front door configured: the sets' CPU, and no request figures.
            report.metrics.push(CloudMetrics {
                cloud: CloudKind::Azure,
                region: g.region.clone(),
                rps: None,
                p95_ms: None,
                error_rate: None,
                cpu,
            });
        }

        if has(&self.cfg.cosmos_accounts) {
            let accounts: Vec<&String> = self.mine(&self.cfg.cosmos_accounts).collect();
            let read = cosmos::replication(arm, &accounts, self.cfg.rpo_secs, now).await;
            if let Some(replication) = sections.read(&[Section::Replication], read) {
                report.replication = replication;
            }
        }

        let policies = async {
            let (mut policies, mut seen) = (Vec::new(), BTreeMap::new());
            for id in self.mine(&self.cfg.traffic_manager_profiles) {
                let (policy, refs) = traffic::read(arm, &self.id, id).await?;
                for (endpoint, r) in refs {
                    seen.insert((policy.name.clone(), endpoint), r);
                }
                policies.push(policy);
            }
            Ok((policies, seen))
        }
        .await;
        if has(&self.cfg.traffic_manager_profiles)
            && let Some((policies, seen)) = sections.read(&[Section::Records], policies)
        {
            *lock(&self.endpoints) = seen;
            report.policies = policies;
        }

        let alerts =
            alerts::list(arm, &self.id, &self.subscription, &self.cfg.resource_groups, &self.cfg.severity_map, now)
                .await;
        let routes = match &alerts {
            Ok(read) => Some(action_groups::routes(arm, &self.id, &read.alerts, &read.rules).await),
            Err(_) => None,
        };
        // Without the alerts there is nothing to route: the routes keep their last read too.
        if let Some(mut read) = sections.read(&[Section::Alerts, Section::Routes], alerts) {
            if let Some(Ok(routing)) = &routes {
                routing.name_receivers(&mut read.alerts);
            }
            *lock(&self.alert_ids) = read.alerts.iter().map(|a| a.id.clone()).collect();
            report.alerts = read.alerts.into();
        }
        if let Some(routing) = routes.and_then(|r| sections.read(&[Section::Routes], r)) {
            report.routes = routing.routes;
        }

        let read = async {
            let fresh = cost::month_to_date(arm, &self.subscription, now).await;
            if fresh.as_ref().is_ok_and(|c| c.is_empty()) {
                log::info!("{}: Cost Management has no data for this month yet", self.id);
            }
            fresh
        };
        report.costs.extend(self.cost.get(now, &mut sections, read).await.unwrap_or_default());

        report.poll_cost = Some(PollCost {
            api_calls: arm.meter.calls().wrapping_sub(calls_before),
            remaining_reads: arm.meter.remaining_reads(),
            slow_calls: price_calls.map(|n| (n, self.prices.every_secs())),
            ..PollCost::default()
        });
        sections.finish(report)
    }

    async fn preflight(&self, _now: DateTime<Utc>) -> Vec<Check> {
        let check = Check::of;
        let cred = match self.cred.get().await {
            Ok(c) => c,
            Err(e) => return vec![check("credential".into(), Err(e))],
        };
        let scope = self.cfg.token_scope();
        let token = cred.get_token(&[&scope], None).await;
        let token_ok = token.is_ok();
        let mut out = vec![check(
            format!("token for {scope}"),
            token.map(|t| format!("acquired, expires {}", t.expires_on)).map_err(|e| match super::tls::problem(&e) {
                Some(words) => ProviderError::Unreachable(format!("token request to {words}")),
                None => ProviderError::Auth(arm::core_words(&e)),
            }),
        )];
        if !token_ok {
            return out;
        }
        let arm = match self.arm().await {
            Ok(a) => a,
            Err(e) => {
                out.push(check("ARM client".into(), Err(e)));
                return out;
            }
        };
        let sub = &self.subscription;
        let path = format!("/subscriptions/{sub}/providers/Microsoft.AlertsManagement/alerts");
        let url = arm.url(&path, alerts::API, &[("pageCount", "1")]);
        let r = arm.send("Alerts Management list", azure_core::http::Method::Get, url, None).await;
        out.push(check("Microsoft.AlertsManagement/alerts read".into(), r.map(|_| "permitted".into())));
        for id in self.mine(&self.cfg.scale_sets) {
            let v = arm.get::<vmss::Vmss>("VMSS GET", arm.url(id, vmss::API, &[])).await;
            let vms = match &v {
                // Instance health comes from the VM list, a permission of its own
                // (virtualMachineScaleSets/virtualMachines/read, or virtualMachines/read
                // for a Flexible set).
                Ok(v) => match vmss::vms_url(arm, id, v) {
                    Ok(url) => Some(arm.send("VMSS VMs list", azure_core::http::Method::Get, url, None).await),
                    Err(e) => Some(Err(e)),
                },
                Err(_) => None,
            };
            out.push(check(format!("VMSS {}", short_name(id)), v.map(|_| "readable".into())));
            if let Some(r) = vms {
                out.push(check(format!("VMSS {} VMs", short_name(id)), r.map(|_| "readable".into())));
            }
        }
        for id in self.mine(&self.cfg.traffic_manager_profiles) {
            let r = arm
                .send("Traffic Manager GET", azure_core::http::Method::Get, arm.url(id, traffic::API, &[]), None)
                .await;
            out.push(check(format!("Traffic Manager {}", short_name(id)), r.map(|_| "readable".into())));
        }
        let metric_ids: Vec<&String> = self
            .mine(&self.cfg.scale_sets)
            .chain(self.mine(&self.cfg.front_doors))
            .chain(self.mine(&self.cfg.app_gateways))
            .collect();
        if let Some(id) = metric_ids.first() {
            // Metric definitions: the cheapest Monitor call that needs the same read permission.
            let url = arm.url(&format!("{id}/providers/Microsoft.Insights/metricDefinitions"), "2018-01-01", &[]);
            let r = arm.send("Monitor metricDefinitions", azure_core::http::Method::Get, url, None).await;
            out.push(check("Microsoft.Insights/metrics read".into(), r.map(|_| "permitted".into())));
        }
        let r = cost::month_to_date(arm, sub, Utc::now()).await;
        out.push(check(
            "Microsoft.CostManagement/query".into(),
            r.map(|c| if c.is_empty() { "permitted (no data yet)".into() } else { "permitted".into() }),
        ));
        out
    }

    /// Alerts Management keeps every alert of the last 30 days with its start,
    /// resolution and last change: the subscription's history for the timeline.
    async fn alert_history(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<crate::model::TimelineEvent>>, ProviderError> {
        let arm = self.arm().await?;
        let cfg = &self.cfg;
        alerts::history(arm, &self.id, &self.subscription, &cfg.resource_groups, &cfg.severity_map, since, now)
            .await
            .map(Some)
    }

    async fn execute(&self, plan: &Plan, actor: &Actor, _now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        let arm = self.arm().await?;
        match plan.changes.as_slice() {
            [Change::Capacity { group, after, .. }] => {
                let id = lock(&self.scale_sets).get(group).cloned();
                let id =
                    id.ok_or_else(|| ProviderError::BadResponse(format!("scale set {group} is not in the last read")))?;
                vmss::set_capacity(arm, &id, *after, self.lro).await
            }
            [Change::AlertState { id, comment, .. }] => {
                if !lock(&self.alert_ids).contains(id) {
                    return Err(ProviderError::BadResponse(format!("alert {id} is not in the last read")));
                }
                let text = format!("{comment} (by {} via opsdeck)", actor.label());
                alerts::acknowledge(arm, &self.subscription, id, &text).await
            }
            changes if !changes.is_empty() && changes.iter().all(|c| matches!(c, Change::Weight { .. })) => {
                // Check every endpoint against the last read before changing any.
                let mut todo = Vec::new();
                for c in changes {
                    let Change::Weight { policy, endpoint, before, after, .. } = c else { continue };
                    let known = lock(&self.endpoints).get(&(policy.clone(), endpoint.clone())).cloned();
                    let r = known.ok_or_else(|| {
                        ProviderError::BadResponse(format!("endpoint {policy} / {endpoint} is not in the last read"))
                    })?;
                    if r.shown_weight != *before {
                        return Err(ProviderError::BadResponse(format!(
                            "{endpoint} weight is {} now, not {before} as planned; re-plan",
                            r.shown_weight
                        )));
                    }
                    todo.push((r, *after));
                }
                // Raise weights before lowering them, so no moment has every endpoint off.
                todo.sort_by_key(|(r, after)| *after < r.shown_weight);
                let mut ids = Vec::new();
                for (r, after) in todo {
                    if r.shown_weight == after {
                        continue;
                    }
                    ids.push(traffic::set_endpoint(arm, &r, after).await?.request_id);
                }
                Ok(Receipt { request_id: ids.join(",") })
            }
            _ => Err(ProviderError::Unsupported(format!("{} in {}", plan.intent, self.id))),
        }
    }
}
