use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{
    Alert, Arbiter, CloudKind, CloudMetrics, CostSnapshot, Health, NotificationRoute, Replication, ReplicationKind,
    ScalingGroup, SourceId, SourceReport, SpotPrice, TrafficPolicy,
};

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
            partial: Vec::new(),
        }
    }

    /// Seconds since the last good poll, if any.
    pub fn age_secs(&self, now: DateTime<Utc>) -> Option<i64> {
        self.last_ok.map(|t| (now - t).num_seconds().max(0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficPoint {
    pub at: DateTime<Utc>,
    pub rps: f64,
    pub p95_ms: f64,
    pub error_rate: f64,
}

/// Bounded per-cloud history so the traffic pane can draw a series; the bound keeps
/// memory flat on a wallboard that runs for weeks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrafficHistory {
    points: VecDeque<TrafficPoint>,
}

impl TrafficHistory {
    pub const CAPACITY: usize = 240;

    pub fn push(&mut self, p: TrafficPoint) {
        // A poll repeated at the same instant replaces, it does not duplicate.
        if self.points.back().is_some_and(|last| last.at >= p.at) {
            self.points.pop_back();
        }
        if self.points.len() == Self::CAPACITY {
            self.points.pop_front();
        }
        self.points.push_back(p);
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
    pub demo: bool,
    pub sources: Vec<SourceStatus>,
    pub metrics: Vec<(SourceId, CloudMetrics)>,
    pub groups: Vec<ScalingGroup>,
    pub policies: Vec<TrafficPolicy>,
    pub replication: Vec<Replication>,
    pub costs: Vec<CostSnapshot>,
    pub spot_prices: Vec<SpotPrice>,
    pub alerts: Vec<Alert>,
    pub routes: Vec<NotificationRoute>,
    pub arbiters: Vec<Arbiter>,
    pub history: BTreeMap<CloudKind, TrafficHistory>,
    /// Chaos drills in force, as reported by the demo.
    pub drills: Vec<String>,
}

/// One row of the Overview: everything about a cloud on one tile.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudSummary {
    pub cloud: CloudKind,
    pub region: String,
    pub health: Health,
    pub traffic_share: f64,
    pub rps: f64,
    pub p95_ms: f64,
    pub error_rate: f64,
    pub db_lag: Option<(f64, f64)>,
    /// The cloud holds the primary of a replicated database.
    pub db_primary: bool,
    pub month_to_date: Option<(f64, String)>,
    pub forecast: Option<f64>,
    pub age_secs: Option<i64>,
    pub stale: bool,
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
            fleet.metrics.extend(r.metrics.iter().cloned().map(|m| (id.clone(), m)));
            fleet.groups.extend(r.groups.iter().cloned());
            fleet.policies.extend(r.policies.iter().cloned());
            fleet.replication.extend(r.replication.iter().cloned());
            fleet.costs.extend(r.costs.iter().cloned());
            fleet.spot_prices.extend(r.spot_prices.iter().cloned());
            fleet.alerts.extend(r.alerts.iter().cloned());
            fleet.routes.extend(r.routes.iter().cloned());
            fleet.drills.extend(r.drills.iter().cloned());
            fleet.arbiters.extend(r.arbiters.iter().cloned());
        }
        fleet
    }

    pub fn source(&self, id: &SourceId) -> Option<&SourceStatus> {
        self.sources.iter().find(|s| &s.id == id)
    }

    /// Clouds that appear anywhere in the fleet, in display order.
    pub fn clouds(&self) -> Vec<CloudKind> {
        let mut clouds: Vec<CloudKind> =
            self.metrics.iter().map(|(_, m)| m.cloud).chain(self.groups.iter().map(|g| g.cloud)).collect();
        clouds.sort();
        clouds.dedup();
        clouds
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

    pub fn summary(&self, cloud: CloudKind, now: DateTime<Utc>) -> CloudSummary {
        let mut health = Health::Unknown;
        let mut region = String::new();
        let (mut rps, mut p95, mut err) = (0.0, 0.0, 0.0);
        let mut age: Option<i64> = None;
        let mut stale = false;
        for (src, m) in self.metrics.iter().filter(|(_, m)| m.cloud == cloud) {
            region.clone_from(&m.region);
            rps += m.rps;
            p95 = f64::max(p95, m.p95_ms);
            err = f64::max(err, m.error_rate);
            if let Some(s) = self.source(src) {
                let a = s.age_secs(now);
                age = match (age, a) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
                stale |= matches!(s.freshness, Freshness::Stale { .. });
            }
            health = Health::Ok;
        }
        if health == Health::Ok {
            for g in self.groups.iter().filter(|g| g.cloud == cloud) {
                health = health.worst(g.health());
            }
            for p in &self.policies {
                for e in p.endpoints.iter().filter(|e| e.cloud == cloud) {
                    // A down DNS answer is a degraded cloud, not a dead one: other
                    // answers may still route to it.
                    health = health.worst(if e.health == Health::Ok { Health::Ok } else { Health::Degraded });
                }
            }
            if err >= 0.05 {
                health = health.worst(Health::Down);
            } else if err >= 0.01 {
                health = health.worst(Health::Degraded);
            }
            if stale {
                health = health.worst(Health::Unknown);
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
        let cost = self.costs.iter().find(|c| c.cloud == cloud);
        CloudSummary {
            cloud,
            region,
            health,
            traffic_share: self.traffic_share(cloud),
            rps,
            p95_ms: p95,
            error_rate: err,
            db_lag,
            db_primary,
            month_to_date: cost.map(|c| (c.month_to_date, c.currency.clone())),
            forecast: cost.map(|c| c.forecast),
            age_secs: age,
            stale,
        }
    }

    /// The spot price a scale-out should use right now: cheapest spot across clouds.
    /// Prices in different currencies are not compared.
    pub fn cheapest_spot(&self) -> Option<&SpotPrice> {
        let currency = self.spot_prices.first()?.currency.clone();
        self.spot_prices
            .iter()
            .filter(|p| p.currency == currency)
            .min_by(|a, b| a.spot_hourly.total_cmp(&b.spot_hourly))
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
            source: SourceId::new("t"),
            name: "shop".into(),
            kind: PolicyKind::Global,
            ttl_secs: 60,
            endpoints: vec![endpoint(CloudKind::Aws, 1, Health::Down), endpoint(CloudKind::Azure, 3, Health::Down)],
        };
        assert_eq!(p.shares(), vec![0.25, 0.75]);
    }

    #[test]
    fn history_is_bounded_and_replaces_same_instant() {
        let mut h = TrafficHistory::default();
        let t0 = DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
        for i in 0..(TrafficHistory::CAPACITY as i64 + 10) {
            let at = t0 + chrono::Duration::seconds(i);
            h.push(TrafficPoint { at, rps: i as f64, p95_ms: 0.0, error_rate: 0.0 });
        }
        assert_eq!(h.len(), TrafficHistory::CAPACITY);
        let last = *h.points().last().expect("points");
        h.push(TrafficPoint { rps: -1.0, ..last });
        assert_eq!(h.len(), TrafficHistory::CAPACITY);
        assert_eq!(h.points().last().expect("points").rps, -1.0);
    }
}
