//! The demo estate's dynamics: a pure function of (estate, drills, time).
//!
//! Traffic follows a diurnal curve with seeded noise; an autoscaler tracks 60 % CPU;
//! drills remove capacity, stall replication or add latency, and alerts fire from
//! the resulting figures with the severity a real rule set would give them.
//!
//! One file per concern, as in `model/`: `traffic` (demand, DNS, per-cloud load),
//! `capacity` (scaling groups), `replication`, `cost`, `alerts`; `effects` says
//! what the drills do and `noise` gives the seeded jitter. [`simulate`] runs them
//! in order.

mod alerts;
mod capacity;
mod cost;
mod effects;
mod noise;
mod replication;
mod traffic;

use chrono::{DateTime, Utc};

use super::drill::DrillBook;
use super::estate::{CloudSpec, EstateSpec};
use super::state::Overrides;
use crate::model::{Health, ScalingGroup, SourceId, SourceReport};
use effects::Effects;

/// One cloud after the first pass: drills applied and capacity settled.
struct CloudState<'a> {
    spec: &'a CloudSpec,
    fx: Effects,
    group: ScalingGroup,
    endpoint_health: Health,
}

/// Poll the demo estate at `now`.
pub fn simulate(
    spec: &EstateSpec,
    book: &DrillBook,
    overrides: &Overrides,
    now: DateTime<Utc>,
    source: &SourceId,
) -> SourceReport {
    let bucket = now.timestamp().div_euclid(5);
    let total_rps = traffic::total_rps(spec, now, bucket);

    // First pass: capacity and endpoint health, which decide the DNS shares.
    let clouds: Vec<CloudState> = spec
        .clouds
        .iter()
        .map(|c| {
            let fx = effects::effects_for(c.kind, book, now);
            let nominal = traffic::nominal_rps(spec, overrides, c, total_rps);
            let pinned = overrides.desired.get(&c.kind).copied();
            let group = capacity::scaling_group(c, &c.group, &fx, nominal, pinned, source);
            let endpoint_health = if group.healthy() == 0 { Health::Down } else { Health::Ok };
            CloudState { spec: c, fx, group, endpoint_health }
        })
        .collect();
    let policy = traffic::policy(spec, overrides, &clouds, source);

    // Second pass: each cloud under the share its clients send it.
    let shares = traffic::client_shares(&policy, overrides, now);
    let loads: Vec<(&CloudState, traffic::Load)> = clouds
        .iter()
        .zip(&shares)
        .map(|(state, share)| (state, traffic::load(state, total_rps * share, spec.seed, bucket)))
        .collect();
    let lags = replication::replica_lags(spec, &clouds, bucket);
    let backlogs = replication::backlogs(spec, &clouds, bucket);

    let rules = alerts::Rules { spec, book, now, source };
    let mut alerts = Vec::new();
    for (state, load) in &loads {
        rules.load(state, load, &mut alerts);
    }
    for lag in &lags {
        rules.replica(lag, &mut alerts);
    }
    for backlog in &backlogs {
        rules.backlog(backlog, &mut alerts);
    }
    rules.standing(&mut alerts);
    // A rule fires only once its detection time has passed (see `Drill::detect_secs`).
    alerts.retain(|a| a.started_at <= now);
    alerts::apply_acks(&mut alerts, overrides, now);

    SourceReport {
        metrics: loads.iter().map(|(state, load)| load.metrics(state.spec)).collect(),
        groups: clouds
            .iter()
            .flat_map(|s| {
                // The other tiers take no front-door traffic: the autoscaler holds them at their minimum.
                let others =
                    s.spec.other_groups.iter().map(|g| capacity::scaling_group(s.spec, g, &s.fx, 0.0, None, source));
                std::iter::once(s.group.clone()).chain(others)
            })
            .collect::<Vec<_>>()
            .into(),
        replication: replication::figures(spec, &lags, &backlogs),
        costs: cost::costs(spec, now),
        spot_prices: cost::spot_prices(spec, now),
        routes: alerts::routes(spec, source),
        alerts: alerts.into(),
        drills: book.active().map(|e| e.drill.to_string()).collect(),
        arbiters: vec![traffic::arbiter(spec, bucket)],
        policies: vec![policy],
        ..SourceReport::default()
    }
}
