//! The demo estate's dynamics: a pure function of (estate, drills, time).
//!
//! Traffic follows a diurnal curve with seeded noise; an autoscaler tracks 60 % CPU;
//! drills remove capacity, stall replication or add latency, and alerts fire from
//! the resulting figures with the severity a real rule set would give them.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

use super::drill::{Drill, DrillBook};
use super::estate::{CloudSpec, DbRole, EstateSpec};
use super::state::Overrides;
use crate::model::{
    Alert, AlertState, Arbiter, CloudKind, CloudMetrics, CostSnapshot, Endpoint, Forecast, Health, NotificationRoute,
    PolicyKind, Replication, ReplicationKind, ScalingGroup, Severity, SourceId, SourceReport, SpotPrice, TrafficPolicy,
    ZoneCapacity,
};

/// CPU the autoscaler aims for.
const TARGET_UTILISATION: f64 = 0.6;
/// An Auto Scaling group replaces lost capacity in other zones after this delay...
const REPLACEMENT_DELAY_SECS: f64 = 60.0;
/// ...over this long.
const REPLACEMENT_RAMP_SECS: f64 = 60.0;

/// Deterministic noise in [-1, 1] for (seed, stream, time bucket).
fn noise(seed: u64, stream: u64, bucket: i64) -> f64 {
    // splitmix64: a well-known, tiny, stateless mixer; enough for plausible jitter.
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (bucket as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z as f64 / u64::MAX as f64) * 2.0 - 1.0
}

fn stream(cloud: CloudKind, what: u64) -> u64 {
    (cloud as u64 + 1) * 1000 + what
}

/// Global traffic multiplier over the day: trough around 04:00 UTC, peak around 16:00.
fn diurnal(now: DateTime<Utc>) -> f64 {
    let hours = f64::from(now.hour()) + f64::from(now.minute()) / 60.0 + f64::from(now.second()) / 3600.0;
    1.0 + 0.35 * (std::f64::consts::TAU * (hours - 10.0) / 24.0).sin()
}

/// Everything the drills do to one cloud at one instant.
#[derive(Debug, Default, Clone)]
struct Effects {
    /// Zones out, with intensity and seconds active.
    zones_out: Vec<(String, f64, f64)>,
    /// Database down: (intensity, seconds active).
    db_down: Option<(f64, f64)>,
    /// Added latency on links from this cloud: (peer, ms * intensity).
    link_ms: Vec<(CloudKind, f64)>,
}

fn effects_for(cloud: CloudKind, book: &DrillBook, now: DateTime<Utc>) -> Effects {
    let mut fx = Effects::default();
    for e in book.entries() {
        let k = e.intensity(now);
        if k <= 0.0 {
            continue;
        }
        let secs = e.active_secs(now);
        match &e.drill {
            Drill::AzOutage { cloud: c, zone } if *c == cloud => fx.zones_out.push((zone.clone(), k, secs)),
            Drill::DbPrimaryDown { cloud: c } if *c == cloud => fx.db_down = Some((k, secs)),
            Drill::LinkLatency { a, b, ms } if *a == cloud => fx.link_ms.push((*b, ms * k)),
            Drill::LinkLatency { a, b, ms } if *b == cloud => fx.link_ms.push((*a, ms * k)),
            _ => {}
        }
    }
    fx
}

fn link_ms(fx: &Effects, peer: CloudKind) -> f64 {
    fx.link_ms.iter().filter(|(p, _)| *p == peer).map(|(_, ms)| ms).sum()
}

/// Split `n` instances over zones, round-robin from the first.
fn spread(n: u32, zones: usize) -> Vec<u32> {
    let zones = zones.max(1) as u32;
    (0..zones).map(|i| n / zones + u32::from(i < n % zones)).collect()
}

struct CloudState<'a> {
    spec: &'a CloudSpec,
    fx: Effects,
    group: ScalingGroup,
    endpoint_health: Health,
}

/// The group as the autoscaler leaves it for `demand_rps`, or at the desired
/// capacity an operator pinned.
fn scaling_group(
    spec: &CloudSpec,
    fx: &Effects,
    demand_rps: f64,
    pinned: Option<u32>,
    source: &SourceId,
) -> ScalingGroup {
    let g = &spec.group;
    let needed = (demand_rps / (g.rps_per_instance * TARGET_UTILISATION)).ceil() as u32;
    let desired = pinned.unwrap_or(needed).clamp(g.min, g.max);
    let per_zone = spread(desired, spec.zones.len());
    let mut lost = 0u32;
    let mut replacement = 0.0f64;
    let mut zones: Vec<ZoneCapacity> = spec
        .zones
        .iter()
        .zip(per_zone)
        .map(|(zone, n)| {
            // A zone is out while its drill is active or still fading (until half-recovered).
            let out = fx.zones_out.iter().find(|(z, k, _)| z == zone && *k > 0.5);
            if let Some((_, _, secs)) = out {
                lost += n;
                replacement =
                    replacement.max(((secs - REPLACEMENT_DELAY_SECS) / REPLACEMENT_RAMP_SECS).clamp(0.0, 1.0));
                ZoneCapacity { zone: zone.clone(), in_service: 0, healthy: 0 }
            } else {
                ZoneCapacity { zone: zone.clone(), in_service: n, healthy: n }
            }
        })
        .collect();
    let replaced = (f64::from(lost) * replacement).round() as u32;
    let survivors: Vec<usize> = (0..zones.len()).filter(|i| zones[*i].in_service > 0 || lost == 0).collect();
    if !survivors.is_empty() {
        for (i, extra) in survivors.iter().zip(spread(replaced, survivors.len())) {
            zones[*i].in_service += extra;
            zones[*i].healthy += extra;
        }
    }
    ScalingGroup {
        source: source.clone(),
        cloud: spec.kind,
        region: spec.region.clone(),
        name: g.name.clone(),
        min: g.min,
        max: g.max,
        desired,
        zones,
        spot_share: g.spot_share,
        rps_per_instance: Some(g.rps_per_instance),
        inactive: false,
    }
}

/// Poll the demo estate at `now`.
pub fn simulate(
    spec: &EstateSpec,
    book: &DrillBook,
    overrides: &Overrides,
    now: DateTime<Utc>,
    source: &SourceId,
) -> SourceReport {
    let seed = spec.seed;
    let bucket = now.timestamp().div_euclid(5);
    let total_rps = spec.base_rps * diurnal(now) * (1.0 + 0.04 * noise(seed, 1, bucket));
    let primary = spec.primary_db();

    // DNS weights as operators left them.
    let weight = |c: &CloudSpec| overrides.weights.get(&c.kind).copied().unwrap_or(c.weight);

    // First pass: capacity and endpoint health, which decide the DNS shares.
    let mut clouds: Vec<CloudState> = spec
        .clouds
        .iter()
        .map(|c| {
            let fx = effects_for(c.kind, book, now);
            let weight_total: u32 = spec.clouds.iter().map(weight).sum();
            let nominal = total_rps * f64::from(weight(c)) / f64::from(weight_total.max(1));
            let group = scaling_group(c, &fx, nominal, overrides.desired.get(&c.kind).copied(), source);
            let endpoint_health = if group.healthy() == 0 { Health::Down } else { Health::Ok };
            CloudState { spec: c, fx, group, endpoint_health }
        })
        .collect();

    let policy = TrafficPolicy {
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
                weight: weight(c.spec),
                health: c.endpoint_health,
                check: if c.endpoint_health == Health::Ok {
                    format!("{}: healthy", c.spec.health_check)
                } else {
                    format!("{}: failing (connection timeout)", c.spec.health_check)
                },
            })
            .collect(),
    };
    let shares = policy.shares();

    let mut report = SourceReport { policies: vec![], ..SourceReport::default() };
    let mut alerts = Vec::new();
    let alert =
        |id: String, cloud: CloudKind, severity: Severity, title: String, resource: String, since: DateTime<Utc>| {
            Alert {
                id,
                source: source.clone(),
                cloud: Some(cloud),
                severity,
                title,
                resource,
                started_at: since,
                state: AlertState::Firing,
                route: spec.cloud(cloud).map(|c| c.route.clone()).unwrap_or_default(),
                labels: [("cloud".to_string(), cloud.slug().to_string()), ("severity".into(), severity.label().into())]
                    .into(),
            }
        };
    let drill_start = |pred: &dyn Fn(&Drill) -> bool| {
        book.entries().iter().filter(|e| pred(&e.drill)).map(|e| e.started_at).min().unwrap_or(now)
    };

    for (state, share) in clouds.iter_mut().zip(&shares) {
        let c = state.spec;
        let kind = c.kind;
        let fx = &state.fx;
        let rps = total_rps * share;
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
        report.metrics.push(CloudMetrics {
            cloud: kind,
            region: c.region.clone(),
            // The simulation knows every figure of its estate.
            rps: Some(rps),
            p95_ms: Some(p95),
            error_rate: Some(err),
            cpu: Some((0.12 + 0.8 * util).min(1.0)),
        });

        // Alerts from the figures, as a rule set would raise them.
        for (zone, _, _) in fx.zones_out.iter().filter(|(_, k, _)| *k > 0.5) {
            let since =
                drill_start(&|d| matches!(d, Drill::AzOutage { cloud, zone: z } if *cloud == kind && z == zone));
            alerts.push(alert(
                format!("demo:{}:zone:{zone}", kind.slug()),
                kind,
                Severity::P1,
                format!("Zone {zone} unreachable: instances lost in {}", c.group.name),
                format!("{}/{zone}", c.group.name),
                since,
            ));
        }
        if healthy < c.group.min {
            alerts.push(alert(
                format!("demo:{}:capacity", kind.slug()),
                kind,
                Severity::P0,
                format!("{}: healthy {healthy} below minimum {}", c.group.name, c.group.min),
                c.group.name.clone(),
                drill_start(&|d| matches!(d, Drill::AzOutage { cloud, .. } if *cloud == kind)),
            ));
        } else if util > 0.85 {
            alerts.push(alert(
                format!("demo:{}:cpu", kind.slug()),
                kind,
                Severity::P2,
                format!("{}: CPU {:.0}% above 85%", c.group.name, (0.12 + 0.8 * util).min(1.0) * 100.0),
                c.group.name.clone(),
                drill_start(&|_| true),
            ));
        }
        if err >= 0.01 {
            let sev = if err >= 0.05 { Severity::P0 } else { Severity::P1 };
            alerts.push(alert(
                format!("demo:{}:5xx", kind.slug()),
                kind,
                sev,
                format!("5xx rate {:.1}% on {}", err * 100.0, c.endpoint),
                c.endpoint.clone(),
                drill_start(&|_| true),
            ));
        }
        if fx.db_down.is_some_and(|(k, _)| k > 0.5) {
            let what = if db_primary_down.is_some() { "primary" } else { "replica" };
            alerts.push(alert(
                format!("demo:{}:db", kind.slug()),
                kind,
                if db_primary_down.is_some() { Severity::P0 } else { Severity::P1 },
                format!("{} {what} unavailable: writes failing", c.database.name),
                c.database.name.clone(),
                drill_start(&|d| matches!(d, Drill::DbPrimaryDown { cloud } if *cloud == kind)),
            ));
        }
        for (peer, ms) in fx.link_ms.iter().filter(|(p, ms)| *ms >= 50.0 && kind < *p) {
            alerts.push(alert(
                format!("demo:link:{}-{}", kind.slug(), peer.slug()),
                kind,
                Severity::P2,
                format!("Cross-cloud latency {}↔{} +{ms:.0} ms", kind.label(), peer.label()),
                format!("link/{}-{}", kind.slug(), peer.slug()),
                drill_start(&|d| matches!(d, Drill::LinkLatency { .. })),
            ));
        }
    }

    // Replication: the primary database and cache feed every other cloud.
    if let Some(primary) = primary.and_then(|p| spec.cloud(p)) {
        let pfx = &clouds.iter().find(|c| c.spec.kind == primary.kind).map(|c| c.fx.clone()).unwrap_or_default();
        for c in spec.clouds.iter().filter(|c| c.kind != primary.kind) {
            let rfx = clouds.iter().find(|s| s.spec.kind == c.kind).map(|s| &s.fx);
            let link = link_ms(pfx, c.kind);
            // Stalled replication grows one second per second while the primary (or this replica) is down.
            let stalled = pfx
                .db_down
                .into_iter()
                .chain(rfx.and_then(|f| f.db_down))
                .map(|(k, secs)| k * secs)
                .fold(0.0, f64::max);
            let db_lag = c.database.base_lag_secs * (1.0 + 0.3 * noise(seed, stream(c.kind, 4), bucket)).max(0.0)
                + link * 0.04
                + stalled;
            let cache_lag =
                c.cache.base_lag_secs * (1.0 + 0.3 * noise(seed, stream(c.kind, 5), bucket)).max(0.0) + link * 0.004;
            report.replication.push(Replication {
                kind: ReplicationKind::Database,
                name: format!("{} → {}", primary.database.name, c.database.name),
                from: primary.kind,
                to: c.kind,
                value: db_lag,
                target: spec.rpo_secs,
            });
            report.replication.push(Replication {
                kind: ReplicationKind::Cache,
                name: format!("{} → {}", primary.cache.name, c.cache.name),
                from: primary.kind,
                to: c.kind,
                value: cache_lag,
                target: spec.cache_sync_target_secs,
            });
            let since = drill_start(&|_| true);
            if db_lag > spec.rpo_secs {
                alerts.push(alert(
                    format!("demo:{}:rpo", c.kind.slug()),
                    c.kind,
                    Severity::P0,
                    format!("Replication lag {db_lag:.0}s breaches RPO {:.0}s: {}", spec.rpo_secs, c.database.name),
                    c.database.name.clone(),
                    since,
                ));
            } else if db_lag > spec.rpo_secs / 2.0 {
                alerts.push(alert(
                    format!("demo:{}:rpo", c.kind.slug()),
                    c.kind,
                    Severity::P1,
                    format!("Replication lag {db_lag:.0}s above half the RPO: {}", c.database.name),
                    c.database.name.clone(),
                    since,
                ));
            }
            if cache_lag > spec.cache_sync_target_secs {
                alerts.push(alert(
                    format!("demo:{}:cache", c.kind.slug()),
                    c.kind,
                    Severity::P2,
                    format!(
                        "Cache sync lag {cache_lag:.1}s above {:.0}s: {}",
                        spec.cache_sync_target_secs, c.cache.name
                    ),
                    c.cache.name.clone(),
                    since,
                ));
            }
        }
    }
    for c in &spec.clouds {
        let Some(peer) = c.storage.dual_write_to else {
            continue;
        };
        let Some(peer_spec) = spec.cloud(peer) else {
            continue;
        };
        let fx = clouds.iter().find(|s| s.spec.kind == c.kind).map(|s| s.fx.clone()).unwrap_or_default();
        let backlog = (c.storage.base_backlog * (1.0 + 0.5 * noise(seed, stream(c.kind, 6), bucket))).max(0.0)
            + link_ms(&fx, peer) * 2.5;
        report.replication.push(Replication {
            kind: ReplicationKind::Storage,
            name: format!("{} ⇄ {}", c.storage.name, peer_spec.storage.name),
            from: c.kind,
            to: peer,
            value: backlog.round(),
            target: spec.storage_backlog_limit,
        });
        if backlog > spec.storage_backlog_limit {
            alerts.push(alert(
                format!("demo:{}:storage", c.kind.slug()),
                c.kind,
                Severity::P2,
                format!("Dual-write backlog {backlog:.0} objects to {}", peer_spec.storage.name),
                c.storage.name.clone(),
                drill_start(&|_| true),
            ));
        }
    }

    for s in &clouds {
        report.groups.push(s.group.clone());
    }
    report.policies.push(policy);

    // Money: run-rate over the elapsed part of the month, forecast to month end.
    let (elapsed, month_len) = month_progress(now);
    for c in &spec.clouds {
        let mut by_service: Vec<(String, f64)> =
            c.costs.iter().map(|(svc, monthly)| (svc.clone(), monthly * elapsed / month_len)).collect();
        by_service.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mtd: f64 = by_service.iter().map(|(_, v)| v).sum();
        let run_rate: f64 = c.costs.values().sum();
        report.costs.push(CostSnapshot {
            cloud: c.kind,
            currency: c.currency.clone(),
            month_to_date: mtd,
            // The simulated cloud's own forecast, as Cost Explorer would give one.
            forecast: Forecast::Cloud(
                mtd + run_rate * (month_len - elapsed) / month_len
                    * (1.0 + 0.03 * noise(seed, stream(c.kind, 7), now.timestamp().div_euclid(3600))),
            ),
            by_service,
        });
        // Spot prices wander on a six-hour cycle, out of phase per cloud.
        let phase = f64::from(c.kind as u8) * 2.1;
        let hours = now.timestamp() as f64 / 3600.0;
        let spot = c.prices.spot_hourly * (1.0 + 0.18 * (std::f64::consts::TAU * hours / 6.0 + phase).sin());
        report.spot_prices.push(SpotPrice {
            cloud: c.kind,
            region: c.region.clone(),
            instance_type: c.group.instance_type.clone(),
            currency: c.currency.clone(),
            on_demand_hourly: c.prices.on_demand_hourly,
            spot_hourly: spot.max(0.0),
        });
        report.routes.push(NotificationRoute { cloud: c.kind, route: c.route.clone() });
    }

    for (i, s) in spec.standing_alerts.iter().enumerate() {
        alerts.push(alert(
            format!("demo:standing:{i}"),
            s.cloud,
            s.severity,
            s.title.clone(),
            s.resource.clone(),
            now - Duration::minutes(s.age_minutes),
        ));
    }
    // Acknowledgements made through opsdeck live in the (simulated) source system.
    for a in &mut alerts {
        if let Some(ack) = overrides.ack(&a.id, now) {
            a.state = AlertState::Acknowledged { by: ack.by.clone(), at: ack.at, comment: ack.comment.clone() };
        }
    }
    report.alerts = alerts;
    report.drills = book.active().map(|e| e.drill.to_string()).collect();
    report.arbiters = vec![Arbiter {
        name: spec.arbiter.name.clone(),
        location: spec.arbiter.location.clone(),
        reachable: true,
        rtt_ms: Some(spec.arbiter.rtt_ms * (1.0 + 0.1 * noise(seed, 9, bucket))),
        error: None,
    }];
    report
}

/// (days elapsed, days in month) as fractions, for month-to-date cost.
fn month_progress(now: DateTime<Utc>) -> (f64, f64) {
    let start = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now);
    let (ny, nm) = if now.month() == 12 { (now.year() + 1, 1) } else { (now.year(), now.month() + 1) };
    let next = Utc.with_ymd_and_hms(ny, nm, 1, 0, 0, 0).single().unwrap_or(now);
    let day = 86_400.0;
    ((now - start).num_seconds() as f64 / day, ((next - start).num_seconds() as f64 / day).max(1.0))
}
