use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::cost::{self, Cheapest, CurrencyTotal, Rates, totals_by_currency};
use super::{
    Alert, Arbiter, CloudKind, CloudMetrics, CostSnapshot, Health, Link, NotificationRoute, Parts, Replication,
    ReplicationKind, ScalingGroup, SourceId, SourceReport, SpotPrice, TrafficPolicy,
};

/// The `kind` of the simulated source: what it reports is labelled DEMO.
pub const DEMO_KIND: &str = "demo";

/// How current one source's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Never polled successfully yet.
    Pending,
    /// Last poll succeeded.
    Fresh,
    /// Last poll failed (or data is too old); the last good report is still shown.
    Stale { reason: String },
}

/// Per-source bookkeeping shown in the header and used by guardrails.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    pub id: SourceId,
    pub kind: String,
    pub freshness: Freshness,
    pub last_ok: Option<DateTime<Utc>>,
    pub last_attempt: Option<DateTime<Utc>>,
    /// How often it is polled (0 when unknown).
    pub interval_secs: u64,
    /// How long one poll may take (0 when unknown).
    pub timeout_secs: u64,
    /// What its last good poll cost at the API.
    pub poll_cost: Option<super::PollCost>,
    /// How long the last poll took (answer or failure), seconds, when timed.
    pub last_poll_secs: Option<f64>,
    /// Sections the last poll could not read (their last good data is shown): the
    /// source is partial while this is not empty.
    pub partial: Vec<super::PartialSection>,
}

impl SourceStatus {
    pub fn new(id: SourceId, kind: impl Into<String>) -> Self {
        SourceStatus {
            id,
            kind: kind.into(),
            freshness: Freshness::Pending,
            last_ok: None,
            last_attempt: None,
            interval_secs: 0,
            timeout_secs: 0,
            poll_cost: None,
            last_poll_secs: None,
            partial: Vec::new(),
        }
    }

    /// Seconds since the last good poll, if any.
    pub fn age_secs(&self, now: DateTime<Utc>) -> Option<i64> {
        self.last_ok.map(|t| (now - t).num_seconds().max(0))
    }
}

/// One cloud's traffic at one instant. A figure no source reported for it is None:
/// the Traffic pane draws a gap there rather than a fall to zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficPoint {
    pub at: DateTime<Utc>,
    pub rps: Option<f64>,
    pub p95_ms: Option<f64>,
    pub error_rate: Option<f64>,
}

impl TrafficPoint {
    /// An instant nothing has been reported for yet.
    pub fn unreported(at: DateTime<Utc>) -> TrafficPoint {
        TrafficPoint { at, rps: None, p95_ms: None, error_rate: None }
    }

    /// Add one region's (or series') figures: requests are summed, latency and error
    /// rate are the worst reported; a figure stays None until someone reports it.
    pub fn add(&mut self, rps: Option<f64>, p95_ms: Option<f64>, error_rate: Option<f64>) {
        self.rps = sum_opt(self.rps, rps);
        self.p95_ms = max_opt(self.p95_ms, p95_ms);
        self.error_rate = max_opt(self.error_rate, error_rate);
    }
}

/// Bounded per-cloud history so the traffic pane can draw a series; the bound keeps
/// memory flat on a wallboard that runs for weeks. Shared between the Fleets
/// published from it: a poll that adds no point to a cloud copies nothing of its
/// series, and one that does copies that series once (the published Fleets keep
/// theirs unchanged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrafficHistory {
    points: Arc<VecDeque<TrafficPoint>>,
}

impl TrafficHistory {
    pub const CAPACITY: usize = 240;

    pub fn push(&mut self, p: TrafficPoint) {
        let points = Arc::make_mut(&mut self.points);
        // A poll repeated at the same instant replaces, it does not duplicate.
        if points.back().is_some_and(|last| last.at >= p.at) {
            points.pop_back();
        }
        if points.len() == Self::CAPACITY {
            points.pop_front();
        }
        points.push_back(p);
    }

    /// Whether two histories are one shared series (nothing was copied).
    pub fn shares(&self, other: &TrafficHistory) -> bool {
        Arc::ptr_eq(&self.points, &other.points)
    }
    pub fn points(&self) -> impl DoubleEndedIterator<Item = &TrafficPoint> + ExactSizeIterator {
        self.points.iter()
    }
    pub fn len(&self) -> usize {
        self.points.len()
    }
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// The immutable snapshot the UI draws: the merge of every source's latest report.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    /// Increases with every publish; lets views cache work derived from a fleet.
    pub generation: u64,
    pub built_at: Option<DateTime<Utc>>,
    /// Every source is the demo (the header's DEMO badge). In a fleet that mixes
    /// the demo with real sources this is false and each item the demo produced is
    /// labelled instead: see [`Fleet::is_demo_source`] and the summaries' `demo`.
    pub demo: bool,
    pub sources: Vec<SourceStatus>,
    pub metrics: Vec<(SourceId, CloudMetrics)>,
    pub groups: Parts<ScalingGroup>,
    pub policies: Vec<TrafficPolicy>,
    pub replication: Vec<Replication>,
    /// The source that reported each replication figure (same order).
    pub replication_sources: Vec<SourceId>,
    /// One per subscription / account, with the source that reported it.
    pub costs: Vec<(SourceId, CostSnapshot)>,
    pub spot_prices: Vec<SpotPrice>,
    /// The source that reported each price (same order).
    pub spot_price_sources: Vec<SourceId>,
    /// The operator's currency and exchange rates, to compare prices across clouds.
    pub rates: Arc<Rates>,
    pub alerts: Parts<Alert>,
    pub routes: Vec<NotificationRoute>,
    pub links: Vec<Link>,
    /// The source that measured each link (same order).
    pub link_sources: Vec<SourceId>,
    pub arbiters: Vec<Arbiter>,
    /// The source that probed each arbiter (same order).
    pub arbiter_sources: Vec<SourceId>,
    pub history: BTreeMap<CloudKind, TrafficHistory>,
    /// Chaos drills in force, as reported by the demo.
    pub drills: Vec<String>,
    /// Where each configured SLO stands (`[[slos]]`, computed by `crate::slo`).
    pub slos: Vec<super::SloStatus>,
}

/// One region of one cloud: what its metrics and scaling groups say.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionSummary {
    pub region: String,
    /// Everything known about the region came from the demo.
    pub demo: bool,
    /// Judged from its groups and metrics; Unknown only when nothing is known
    /// (or what is known comes from a stale source).
    pub health: Health,
    /// Front-door figures; `None` when no source reports them for the region.
    pub rps: Option<f64>,
    pub p95_ms: Option<f64>,
    pub error_rate: Option<f64>,
    pub groups: usize,
    /// Groups idle or inactive on purpose (they do not count against health).
    pub idle_groups: usize,
    pub age_secs: Option<i64>,
    pub stale: bool,
}

/// One cloud on the Overview: its regions and the figures that belong to the
/// whole cloud (DNS share, replication, cost).
#[derive(Debug, Clone, PartialEq)]
pub struct CloudSummary {
    pub cloud: CloudKind,
    /// The cloud's regions, joined by ", " (one name for most clouds).
    pub region: String,
    /// Every region, in name order; each is visible on its own.
    pub regions: Vec<RegionSummary>,
    /// Everything known about the cloud came from the demo.
    pub demo: bool,
    /// Some of what is known about the cloud came from the demo (a region, an
    /// account): the cloud cannot be shown unlabelled.
    pub partly_demo: bool,
    pub health: Health,
    /// Share of DNS answers; `None` when no traffic policy is read at all.
    pub traffic_share: Option<f64>,
    /// Summed over regions; `None` when no region reports it.
    pub rps: Option<f64>,
    /// Worst region; `None` when no region reports it.
    pub p95_ms: Option<f64>,
    /// Worst region; `None` when no region reports it.
    pub error_rate: Option<f64>,
    pub db_lag: Option<(f64, f64)>,
    /// The cloud holds the primary of a replicated database.
    pub db_primary: bool,
    /// Every subscription / account summed, one entry per currency.
    pub costs: Vec<CurrencyTotal>,
    pub age_secs: Option<i64>,
    pub stale: bool,
}

/// What a set of sources says about freshness: the oldest age and whether any is stale.
#[derive(Default)]
struct Provenance<'a> {
    sources: Vec<&'a SourceId>,
}

impl<'a> Provenance<'a> {
    fn add(&mut self, id: &'a SourceId) {
        if !self.sources.contains(&id) {
            self.sources.push(id);
        }
    }
    fn age(&self, fleet: &Fleet, now: DateTime<Utc>) -> Option<i64> {
        self.sources.iter().filter_map(|id| fleet.source(id)?.age_secs(now)).max()
    }
    fn stale(&self, fleet: &Fleet) -> bool {
        self.sources.iter().any(|id| fleet.source(id).is_some_and(|s| matches!(s.freshness, Freshness::Stale { .. })))
    }
    fn demo(&self, fleet: &Fleet) -> bool {
        !self.sources.is_empty() && self.sources.iter().all(|id| fleet.is_demo_source(id))
    }
    fn partly_demo(&self, fleet: &Fleet) -> bool {
        self.sources.iter().any(|id| fleet.is_demo_source(id))
    }
}

/// Fold one more judgement into what is known so far.
fn judge(known: Option<Health>, h: Health) -> Option<Health> {
    Some(known.map_or(h, |k| k.worst(h)))
}

/// Health implied by a front door's 5xx rate.
fn error_health(rate: f64) -> Health {
    if rate >= 0.05 {
        Health::Down
    } else if rate >= 0.01 {
        Health::Degraded
    } else {
        Health::Ok
    }
}

/// The larger of two figures either of which may be unknown: unknown only when both are.
fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The sum of two figures either of which may be unknown: unknown only when both
/// are (what was reported is summed; nothing reported is not 0).
fn sum_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

impl Fleet {
    /// Merge the latest report of each source into a new snapshot.
    pub fn merge(
        generation: u64,
        now: DateTime<Utc>,
        demo: bool,
        sources: &[(SourceStatus, Option<Arc<SourceReport>>)],
        history: BTreeMap<CloudKind, TrafficHistory>,
    ) -> Fleet {
        let mut fleet = Fleet { generation, built_at: Some(now), demo, history, ..Fleet::default() };
        for (status, report) in sources {
            let mut status = status.clone();
            if let Some(r) = report {
                status.poll_cost.clone_from(&r.poll_cost);
            }
            let id = status.id.clone();
            fleet.sources.push(status);
            let Some(r) = report else { continue };
            // The source that read item `i` of a section: its origin when the report
            // names one (read through an exporter), else this report's source.
            let by = |origins: &[SourceId], i: usize| origins.get(i).cloned().unwrap_or_else(|| id.clone());
            let o = &r.origins;
            fleet.metrics.extend(r.metrics.iter().cloned().enumerate().map(|(i, m)| (by(&o.metrics, i), m)));
            fleet.groups.extend_shared(&r.groups);
            fleet.policies.extend(r.policies.iter().cloned());
            fleet.replication.extend(r.replication.iter().cloned());
            fleet.replication_sources.extend((0..r.replication.len()).map(|i| by(&o.replication, i)));
            fleet.costs.extend(r.costs.iter().cloned().enumerate().map(|(i, c)| (by(&o.costs, i), c)));
            fleet.spot_prices.extend(r.spot_prices.iter().cloned());
            fleet.spot_price_sources.extend((0..r.spot_prices.len()).map(|i| by(&o.spot_prices, i)));
            fleet.alerts.extend_shared(&r.alerts);
            fleet.routes.extend(r.routes.iter().cloned());
            fleet.links.extend(r.links.iter().cloned());
            fleet.link_sources.extend(r.links.iter().map(|_| id.clone()));
            fleet.drills.extend(r.drills.iter().cloned());
            fleet.slos.extend(r.slos.iter().cloned());
            fleet.arbiters.extend(r.arbiters.iter().cloned());
            fleet.arbiter_sources.extend((0..r.arbiters.len()).map(|i| by(&o.arbiters, i)));
        }
        fleet.add_upstream(sources);
        fleet
    }

    /// A status row for each source a report read through another opsdeck's
    /// exporter, so the items that keep its id are judged by its freshness (the
    /// last success the exporter saw). A source polled here by that id keeps its own
    /// row. What a stale reader last said is stale too, whatever it said.
    fn add_upstream(&mut self, sources: &[(SourceStatus, Option<Arc<SourceReport>>)]) {
        for (reader, report) in sources {
            let Some(r) = report else { continue };
            for u in &r.upstream {
                if self.source(&u.id).is_some() {
                    continue;
                }
                let mut u = u.clone();
                if let Freshness::Stale { reason } = &reader.freshness {
                    u.freshness =
                        Freshness::Stale { reason: format!("read through {}, which is stale: {reason}", reader.id) };
                }
                // Reading through the exporter and the reader adds up to one poll of the reader.
                u.timeout_secs = u.timeout_secs.max(reader.interval_secs + reader.timeout_secs);
                self.sources.push(u);
            }
        }
    }

    pub fn source(&self, id: &SourceId) -> Option<&SourceStatus> {
        self.sources.iter().find(|s| &s.id == id)
    }

    /// Clouds that appear anywhere in the fleet (metrics, groups, costs, DNS
    /// answers), in display order.
    pub fn clouds(&self) -> Vec<CloudKind> {
        let mut clouds: Vec<CloudKind> = self
            .metrics
            .iter()
            .map(|(_, m)| m.cloud)
            .chain(self.groups.iter().map(|g| g.cloud))
            .chain(self.costs.iter().map(|(_, c)| c.cloud))
            .chain(self.policies.iter().flat_map(|p| p.endpoints.iter().map(|e| e.cloud)))
            .collect();
        clouds.sort();
        clouds.dedup();
        clouds
    }

    /// The regions of `cloud` that metrics or groups are reported for, in name order.
    pub fn regions(&self, cloud: CloudKind) -> Vec<String> {
        let mut regions: Vec<String> = self
            .metrics
            .iter()
            .map(|(_, m)| m)
            .filter(|m| m.cloud == cloud)
            .map(|m| m.region.clone())
            .chain(self.groups.iter().filter(|g| g.cloud == cloud).map(|g| g.region.clone()))
            .collect();
        regions.sort();
        regions.dedup();
        regions
    }

    /// The source is the simulated estate: what it reports is labelled DEMO.
    pub fn is_demo_source(&self, id: &SourceId) -> bool {
        self.source(id).is_some_and(|s| s.kind == DEMO_KIND)
    }

    /// The demo runs beside real sources: the header cannot say DEMO for all, so
    /// each row the demo produced says it.
    pub fn mixes_demo(&self) -> bool {
        let demo = self.sources.iter().filter(|s| s.kind == DEMO_KIND).count();
        demo > 0 && demo < self.sources.len()
    }

    /// Traffic share per cloud from the DNS policies (weights among healthy answers).
    pub fn traffic_share(&self, cloud: CloudKind) -> f64 {
        let mut share = 0.0;
        let mut policies = 0.0;
        for p in &self.policies {
            policies += 1.0;
            share += p.endpoints.iter().zip(p.shares()).filter(|(e, _)| e.cloud == cloud).map(|(_, s)| s).sum::<f64>();
        }
        if policies > 0.0 { share / policies } else { 0.0 }
    }

    /// One region of a cloud, judged from what is known about it: its groups
    /// (idle ones do not count against it) and its front-door figures. Nothing
    /// known, or only what a stale source said, is Unknown.
    pub fn region_summary(&self, cloud: CloudKind, region: &str, now: DateTime<Utc>) -> RegionSummary {
        let mut from = Provenance::default();
        let mut known: Option<Health> = None;
        let (mut rps, mut p95, mut err) = (None, None, None);
        for (src, m) in self.metrics.iter().filter(|(_, m)| m.cloud == cloud && m.region == region) {
            from.add(src);
            rps = sum_opt(rps, m.rps);
            p95 = max_opt(p95, m.p95_ms);
            err = max_opt(err, m.error_rate);
            // An error rate nobody reported judges nothing either way.
            if let Some(e) = m.error_rate {
                known = judge(known, error_health(e));
            }
        }
        let (mut groups, mut idle_groups) = (0, 0);
        for g in self.groups.iter().filter(|g| g.cloud == cloud && g.region == region) {
            from.add(&g.source);
            groups += 1;
            if g.idle().is_some() {
                idle_groups += 1;
            }
            known = judge(known, g.health());
        }
        let stale = from.stale(self);
        if stale {
            known = judge(known, Health::Unknown);
        }
        RegionSummary {
            region: region.to_string(),
            demo: from.demo(self),
            health: known.unwrap_or(Health::Unknown),
            rps,
            p95_ms: p95,
            error_rate: err,
            groups,
            idle_groups,
            age_secs: from.age(self, now),
            stale,
        }
    }

    /// A cloud: every region, the DNS answers that route to it, its replication
    /// and every account's cost. Its health is the worst of its regions and DNS
    /// answers; a cloud whose every group is idle is idle, not down.
    pub fn summary(&self, cloud: CloudKind, now: DateTime<Utc>) -> CloudSummary {
        let regions: Vec<RegionSummary> =
            self.regions(cloud).iter().map(|r| self.region_summary(cloud, r, now)).collect();
        let mut from = Provenance::default();
        for (src, m) in &self.metrics {
            if m.cloud == cloud {
                from.add(src);
            }
        }
        for g in self.groups.iter().filter(|g| g.cloud == cloud) {
            from.add(&g.source);
        }
        let mut known: Option<Health> = None;
        for r in &regions {
            known = judge(known, r.health);
        }
        for p in &self.policies {
            for e in p.endpoints.iter().filter(|e| e.cloud == cloud) {
                from.add(&p.source);
                // A down DNS answer is a degraded cloud, not a dead one: other
                // answers may still route to it. An answer whose health nobody
                // checks says nothing either way.
                known = match e.health {
                    Health::Ok => judge(known, Health::Ok),
                    Health::Degraded | Health::Down => judge(known, Health::Degraded),
                    Health::Idle | Health::Unknown => known,
                };
            }
        }
        let db_lag = self
            .replication
            .iter()
            .filter(|r| r.kind == ReplicationKind::Database && (r.to == cloud))
            .map(|r| (r.value, r.target))
            .fold(None, |acc: Option<(f64, f64)>, x| match acc {
                Some(a) if a.0 >= x.0 => Some(a),
                _ => Some(x),
            });
        let db_primary = self.replication.iter().any(|r| r.kind == ReplicationKind::Database && r.from == cloud);
        let costs: Vec<&CostSnapshot> = self
            .costs
            .iter()
            .filter(|(_, c)| c.cloud == cloud)
            .map(|(src, c)| {
                from.add(src);
                c
            })
            .collect();
        let reported = |f: fn(&RegionSummary) -> Option<f64>| regions.iter().filter_map(f);
        let rps = reported(|r| r.rps).reduce(|a, b| a + b);
        let p95_ms = reported(|r| r.p95_ms).reduce(f64::max);
        let error_rate = reported(|r| r.error_rate).reduce(f64::max);
        CloudSummary {
            cloud,
            region: regions.iter().map(|r| r.region.as_str()).collect::<Vec<_>>().join(", "),
            demo: from.demo(self),
            partly_demo: from.partly_demo(self),
            health: known.unwrap_or(Health::Unknown),
            traffic_share: (!self.policies.is_empty()).then(|| self.traffic_share(cloud)),
            rps,
            p95_ms,
            error_rate,
            db_lag,
            db_primary,
            costs: totals_by_currency(costs),
            age_secs: regions.iter().filter_map(|r| r.age_secs).max(),
            stale: regions.iter().any(|r| r.stale),
            regions,
        }
    }

    /// The cheapest capacity for the next scale-out across clouds, in the
    /// configured currency (other currencies only through a configured rate).
    pub fn cheapest_capacity(&self) -> Option<(Cheapest, &SpotPrice)> {
        let c = cost::cheapest(&self.spot_prices, &self.rates)?;
        let p = self.spot_prices.get(c.index)?;
        Some((c, p))
    }

    /// Currencies of prices that could not be compared: no rate configured.
    pub fn uncompared_currencies(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .spot_prices
            .iter()
            // A price whose currency the cloud did not say is no currency to rate.
            .filter(|p| p.currency != "unknown" && self.rates.to_base(1.0, &p.currency).is_none())
            .map(|p| p.currency.as_str())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, PolicyKind};

    fn endpoint(cloud: CloudKind, weight: u32, health: Health) -> Endpoint {
        Endpoint { name: cloud.slug().into(), cloud, target: String::new(), weight, health, check: String::new() }
    }

    #[test]
    fn shares_withhold_unhealthy_answers() {
        let p = TrafficPolicy {
            detection: None,
            source: SourceId::new("t"),
            name: "shop".into(),
            kind: PolicyKind::Global,
            ttl_secs: 60,
            endpoints: vec![
                endpoint(CloudKind::Aws, 50, Health::Down),
                endpoint(CloudKind::Azure, 30, Health::Ok),
                endpoint(CloudKind::Aliyun, 20, Health::Ok),
            ],
        };
        assert_eq!(p.shares(), vec![0.0, 0.6, 0.4]);
    }

    #[test]
    fn shares_fall_back_to_all_when_none_is_healthy() {
        let p = TrafficPolicy {
            detection: None,
            source: SourceId::new("t"),
            name: "shop".into(),
            kind: PolicyKind::Global,
            ttl_secs: 60,
            endpoints: vec![endpoint(CloudKind::Aws, 1, Health::Down), endpoint(CloudKind::Azure, 3, Health::Down)],
        };
        assert_eq!(p.shares(), vec![0.25, 0.75]);
    }

    /// Sources read through another opsdeck's exporter get rows of their own; a
    /// source polled here keeps its own row, and a stale reader makes them stale.
    #[test]
    fn upstream_sources_become_rows_and_share_their_readers_staleness() {
        let t = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        let row = |id: &str, freshness: Freshness| SourceStatus {
            freshness,
            last_ok: Some(t - chrono::Duration::seconds(40)),
            interval_secs: 30,
            ..SourceStatus::new(SourceId::new(id), "aws")
        };
        let report = SourceReport {
            upstream: vec![row("aws/eu", Freshness::Fresh), row("direct", Freshness::Fresh)],
            ..SourceReport::default()
        };
        let mut prom = SourceStatus::new(SourceId::new("prom"), "prometheus");
        (prom.freshness, prom.interval_secs, prom.timeout_secs) = (Freshness::Fresh, 15, 5);
        let direct = SourceStatus::new(SourceId::new("direct"), "azure");
        let pairs = vec![(prom.clone(), Some(Arc::new(report.clone()))), (direct.clone(), None)];
        let f = Fleet::merge(1, t, false, &pairs, BTreeMap::new());
        let ids: Vec<&str> = f.sources.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, vec!["prom", "direct", "aws/eu"]);
        let up = f.source(&SourceId::new("aws/eu")).expect("row");
        assert_eq!((&up.freshness, up.last_ok, up.timeout_secs), (&Freshness::Fresh, report.upstream[0].last_ok, 20));
        assert_eq!(f.source(&SourceId::new("direct")).map(|s| s.kind.as_str()), Some("azure"));
        prom.freshness = Freshness::Stale { reason: "timed out".into() };
        let f = Fleet::merge(2, t, false, &[(prom, Some(Arc::new(report)))], BTreeMap::new());
        let up = f.source(&SourceId::new("aws/eu")).expect("row");
        assert_eq!(up.freshness, Freshness::Stale { reason: "read through prom, which is stale: timed out".into() });
    }

    /// Items read through an exporter are filed under the source that read them
    /// from the cloud, so that source's freshness (not the reader's) judges them;
    /// a report naming no origins files them under its own source.
    #[test]
    fn items_read_through_an_exporter_keep_the_source_that_read_them() {
        use crate::model::{Forecast, Origins, Replication, ReplicationKind};
        let t = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        let lag = |name: &str| Replication {
            kind: ReplicationKind::Database,
            name: name.into(),
            from: CloudKind::Aws,
            to: CloudKind::Azure,
            value: 4.0,
            target: 30.0,
        };
        let cost = CostSnapshot {
            cloud: CloudKind::Aws,
            currency: "USD".into(),
            month_to_date: 10.0,
            forecast: Forecast::TooEarly,
            by_service: vec![],
        };
        let (aws, azure) = (SourceId::new("aws/eu"), SourceId::new("azure/sub"));
        let report = SourceReport {
            replication: vec![lag("orders"), lag("carts")],
            costs: vec![cost.clone()],
            origins: Origins {
                replication: vec![aws.clone(), azure.clone()],
                costs: vec![aws.clone()],
                ..Origins::default()
            },
            ..SourceReport::default()
        };
        let plain = SourceReport { replication: vec![lag("own")], costs: vec![cost], ..SourceReport::default() };
        let (prom, direct) = (SourceId::new("prom"), SourceId::new("direct"));
        let pairs = vec![
            (SourceStatus::new(prom.clone(), "prometheus"), Some(Arc::new(report))),
            (SourceStatus::new(direct.clone(), "aws"), Some(Arc::new(plain))),
        ];
        let f = Fleet::merge(1, t, false, &pairs, BTreeMap::new());
        assert_eq!(f.replication_sources, vec![aws.clone(), azure, direct.clone()]);
        let cost_sources: Vec<&SourceId> = f.costs.iter().map(|(s, _)| s).collect();
        assert_eq!(cost_sources, vec![&aws, &direct]);
    }

    #[test]
    fn history_is_bounded_and_replaces_same_instant() {
        let mut h = TrafficHistory::default();
        let t0 = DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
        for i in 0..(TrafficHistory::CAPACITY as i64 + 10) {
            let at = t0 + chrono::Duration::seconds(i);
            h.push(TrafficPoint { at, rps: Some(i as f64), p95_ms: None, error_rate: None });
        }
        assert_eq!(h.len(), TrafficHistory::CAPACITY);
        let last = *h.points().last().expect("points");
        h.push(TrafficPoint { rps: Some(-1.0), ..last });
        assert_eq!(h.len(), TrafficHistory::CAPACITY);
        assert_eq!(h.points().last().expect("points").rps, Some(-1.0));
    }
}
