//! Traffic: the diurnal demand curve, DNS weights and shares, and what each
//! cloud's share does to its latency, errors and CPU.

use chrono::{DateTime, Timelike, Utc};

use super::super::estate::{CloudSpec, DbRole, EstateSpec};
use super::super::state::Overrides;
use super::CloudState;
use super::capacity::TARGET_UTILISATION;
use super::noise::{noise, stream};
use crate::model::{Arbiter, CloudMetrics, Endpoint, Health, PolicyKind, SourceId, TrafficPolicy};

/// Global traffic multiplier over the day: trough around 04:00 UTC, peak around 16:00.
fn diurnal(now: DateTime<Utc>) -> f64 {
    let hours = f64::from(now.hour()) + f64::from(now.minute()) / 60.0 + f64::from(now.second()) / 3600.0;
    1.0 + 0.35 * (std::f64::consts::TAU * (hours - 10.0) / 24.0).sin()
}

/// Requests/s the whole shop receives at `now`.
pub(super) fn total_rps(spec: &EstateSpec, now: DateTime<Utc>, bucket: i64) -> f64 {
    spec.base_rps * diurnal(now) * (1.0 + 0.04 * noise(spec.seed, 1, bucket))
}

/// A cloud's DNS weight as operators left it.
fn weight(overrides: &Overrides, c: &CloudSpec) -> u32 {
    overrides.weights.get(&c.kind).copied().unwrap_or(c.weight)
}

/// The demand DNS weights send to `c` while every endpoint is healthy: what its
/// autoscaler sizes for.
pub(super) fn nominal_rps(spec: &EstateSpec, overrides: &Overrides, c: &CloudSpec, total_rps: f64) -> f64 {
    let weight_total: u32 = spec.clouds.iter().map(|c| weight(overrides, c)).sum();
    total_rps * f64::from(weight(overrides, c)) / f64::from(weight_total.max(1))
}

/// The global DNS policy: one endpoint per cloud, down when its group has no
/// healthy instance.
pub(super) fn policy(
    spec: &EstateSpec,
    overrides: &Overrides,
    clouds: &[CloudState],
    source: &SourceId,
) -> TrafficPolicy {
    TrafficPolicy {
        detection: None,
        source: source.clone(),
        name: spec.policy.name.clone(),
        kind: PolicyKind::Global,
        ttl_secs: spec.policy.ttl_secs,
        endpoints: clouds
            .iter()
            .map(|c| Endpoint {
                name: format!("{}-{}", c.spec.kind.slug(), c.spec.region),
                cloud: c.spec.kind,
                target: c.spec.endpoint.clone(),
                weight: weight(overrides, c.spec),
                health: c.endpoint_health,
                check: if c.endpoint_health == Health::Ok {
                    format!("{}: healthy", c.spec.health_check)
                } else {
                    format!("{}: failing (connection timeout)", c.spec.health_check)
                },
            })
            .collect(),
    }
}

/// The share of requests each endpoint receives. DNS answers the new weights at
/// once (`TrafficPolicy::shares`), but clients keep their cached answers until
/// the TTL runs out, so after a weight change the requests move evenly over one
/// TTL — which is what a failover's measured time to traffic shows on the demo.
pub(super) fn client_shares(policy: &TrafficPolicy, overrides: &Overrides, now: DateTime<Utc>) -> Vec<f64> {
    let answered = policy.shares();
    let Some(change) = &overrides.weight_change else { return answered };
    let ttl_ms = f64::from(policy.ttl_secs.max(1)) * 1000.0;
    let followed = ((now - change.at).num_milliseconds() as f64 / ttl_ms).clamp(0.0, 1.0);
    if followed >= 1.0 {
        return answered;
    }
    let mut cached = policy.clone();
    for e in &mut cached.endpoints {
        e.weight = change.before.get(&e.cloud).copied().unwrap_or(e.weight);
    }
    answered.iter().zip(cached.shares()).map(|(new, old)| old + (new - old) * followed).collect()
}

/// One cloud's figures under the traffic it receives.
pub(super) struct Load {
    pub rps: f64,
    /// Demand over healthy capacity; 2.0 when requests arrive and nothing serves them.
    pub util: f64,
    pub p95_ms: f64,
    pub error_rate: f64,
}

impl Load {
    pub fn cpu(&self) -> f64 {
        (0.12 + 0.8 * self.util).min(1.0)
    }

    pub fn metrics(&self, c: &CloudSpec) -> CloudMetrics {
        CloudMetrics {
            cloud: c.kind,
            region: c.region.clone(),
            // The simulation knows every figure of its estate.
            rps: Some(self.rps),
            p95_ms: Some(self.p95_ms),
            error_rate: Some(self.error_rate),
            cpu: Some(self.cpu()),
        }
    }
}

/// What `rps` does to a cloud with the capacity and drills of `state`.
pub(super) fn load(state: &CloudState, rps: f64, seed: u64, bucket: i64) -> Load {
    let c = state.spec;
    let kind = c.kind;
    let fx = &state.fx;
    let healthy = state.group.healthy();
    let capacity = f64::from(healthy) * c.group.rps_per_instance;
    let util = if capacity > 0.0 {
        rps / capacity
    } else if rps > 0.0 {
        2.0
    } else {
        0.0
    };
    let cross_ms: f64 = fx.link_ms.iter().map(|(_, ms)| ms).sum();
    let mut p95 = c.base_p95_ms * (1.0 + 4.0 * (util - TARGET_UTILISATION).max(0.0).powi(2))
        * (1.0 + 0.05 * noise(seed, stream(kind, 2), bucket))
        // About a third of requests make one cross-cloud call; p95 sees most of the added RTT.
        + 0.8 * cross_ms;
    let mut err = c.base_error_rate * (1.0 + 0.3 * noise(seed, stream(kind, 3), bucket));
    if util > 1.0 {
        err += (util - 1.0).min(1.0) * 0.3;
    }
    for (_, k, secs) in &fx.zones_out {
        // Connections to the lost zone fail until the load balancer drains it (~30 s).
        err += k * 0.04 * (-secs / 30.0).exp();
    }
    let db_primary_down = fx.db_down.filter(|_| c.database.role == Some(DbRole::Primary));
    let db_replica_down = fx.db_down.filter(|_| c.database.role != Some(DbRole::Primary));
    if let Some((k, _)) = db_primary_down {
        // Checkout writes fail everywhere while the primary is down; worst where it lives.
        err += k * 0.08;
        p95 += k * 400.0;
    }
    if let Some((k, _)) = db_replica_down {
        err += k * 0.03;
    }
    let err = err.clamp(0.0, 1.0);
    if healthy == 0 {
        p95 = 0.0;
    }
    Load { rps, util, p95_ms: p95, error_rate: err }
}

/// The split-brain witness, always reachable in the demo.
pub(super) fn arbiter(spec: &EstateSpec, bucket: i64) -> Arbiter {
    Arbiter {
        name: spec.arbiter.name.clone(),
        location: spec.arbiter.location.clone(),
        reachable: true,
        rtt_ms: Some(spec.arbiter.rtt_ms * (1.0 + 0.1 * noise(spec.seed, 9, bucket))),
        error: None,
    }
}
