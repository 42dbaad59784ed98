//! Guardrails: the preflight checks every plan passes before it may run. Each
//! result is shown; a refusal names its reasons. Pure: Fleet + plan + context.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::intent::{ActionKind, Intent};
use super::plan::{Change, Plan, shares_after};
use crate::format::int;
use crate::model::{AlertState, CloudKind, Fleet, Freshness, Health, ReplicationKind};

/// Share of a group's full capacity we plan to use; the rest is headroom.
pub const MAX_UTILISATION: f64 = 0.85;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardResult {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

impl GuardResult {
    fn new(name: &'static str, passed: bool, detail: impl Into<String>) -> Self {
        GuardResult { name, passed, detail: detail.into() }
    }
}

/// What the guards need besides the plan and the Fleet.
#[derive(Debug, Clone)]
pub struct GuardContext<'a> {
    pub now: DateTime<Utc>,
    /// Recovery point objective for replication lag, seconds.
    pub rpo_secs: f64,
    /// Older data than this is not fresh enough to act on.
    pub max_data_age_secs: i64,
    /// Targets with an action already in flight.
    pub in_flight: &'a [String],
}

pub fn check(plan: &Plan, fleet: &Fleet, ctx: &GuardContext) -> Vec<GuardResult> {
    let mut out = vec![fresh(fleet, ctx), not_in_flight(plan, ctx)];
    match plan.kind() {
        ActionKind::Failover => {
            // A cloud gains when its weight rises (even if its answer is withheld as
            // unhealthy, which is exactly what must be caught) or its share rises.
            let weight_up: Vec<CloudKind> = plan
                .changes
                .iter()
                .filter_map(|c| match c {
                    Change::Weight { cloud, before, after, .. } if after > before => Some(*cloud),
                    _ => None,
                })
                .collect();
            let gaining: Vec<(CloudKind, f64, f64)> = shares_after(plan, fleet)
                .into_iter()
                .filter(|(cloud, before, after)| after > before || weight_up.contains(cloud))
                .collect();
            for (cloud, before, after) in &gaining {
                out.push(target_healthy(*cloud, fleet));
                out.push(target_capacity(*cloud, *before, *after, fleet));
                out.push(replication_within_rpo(*cloud, fleet, ctx));
            }
            out.push(arbiter(fleet));
        }
        ActionKind::Scale => out.push(within_bounds(plan)),
        ActionKind::Ack if matches!(plan.intent, Intent::Unack { .. }) => out.push(alert_acked(plan, fleet)),
        ActionKind::Ack => out.push(alert_open(plan, fleet)),
    }
    out
}

pub fn all_passed(results: &[GuardResult]) -> bool {
    results.iter().all(|g| g.passed)
}

/// The reasons of a refusal, for one line of text.
pub fn reasons(results: &[GuardResult]) -> String {
    results.iter().filter(|g| !g.passed).map(|g| g.detail.clone()).collect::<Vec<_>>().join("; ")
}

fn fresh(fleet: &Fleet, ctx: &GuardContext) -> GuardResult {
    let mut problems = Vec::new();
    for s in &fleet.sources {
        match (&s.freshness, s.age_secs(ctx.now)) {
            (Freshness::Stale { reason }, _) => problems.push(format!("{} is stale ({reason})", s.id)),
            (Freshness::Pending, _) | (_, None) => problems.push(format!("{} has not reported yet", s.id)),
            (Freshness::Fresh, Some(age)) if age > ctx.max_data_age_secs => {
                problems.push(format!("{} data is {age}s old", s.id))
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        GuardResult::new("data fresh", true, format!("every source read within {}s", ctx.max_data_age_secs))
    } else {
        GuardResult::new("data fresh", false, problems.join(", "))
    }
}

fn not_in_flight(plan: &Plan, ctx: &GuardContext) -> GuardResult {
    if ctx.in_flight.iter().any(|t| t == &plan.target) {
        GuardResult::new(
            "nothing in flight",
            false,
            format!("another action on {} has not taken effect yet", plan.target),
        )
    } else {
        GuardResult::new("nothing in flight", true, format!("no other action on {}", plan.target))
    }
}

fn target_healthy(cloud: CloudKind, fleet: &Fleet) -> GuardResult {
    let bad: Vec<String> = fleet
        .policies
        .iter()
        .flat_map(|p| p.endpoints.iter())
        .filter(|e| e.cloud == cloud && e.health != Health::Ok)
        .map(|e| format!("{} is {}", e.name, e.health.label()))
        .collect();
    if bad.is_empty() {
        GuardResult::new("target healthy", true, format!("{} endpoints pass their health checks", cloud.label()))
    } else {
        GuardResult::new("target healthy", false, format!("{}: {}", cloud.label(), bad.join(", ")))
    }
}

/// Can `cloud` serve its new share? From the current total request rate and the
/// group's per-instance capacity, scaled out as far as its max allows.
fn target_capacity(cloud: CloudKind, before: f64, after: f64, fleet: &Fleet) -> GuardResult {
    let total_rps: f64 = fleet.metrics.iter().map(|(_, m)| m.rps).sum();
    let need = total_rps * after;
    let groups: Vec<_> = fleet.groups.iter().filter(|g| g.cloud == cloud).collect();
    let per_instance: Option<f64> = groups.iter().map(|g| g.rps_per_instance).sum();
    let Some(per_instance) = per_instance.filter(|p| *p > 0.0) else {
        return GuardResult::new(
            "target capacity",
            false,
            format!("{} has no known per-instance capacity to size {:.0} req/s against", cloud.label(), need),
        );
    };
    let healthy: u32 = groups.iter().map(|g| g.healthy()).sum();
    let max: u32 = groups.iter().map(|g| g.max).sum();
    let per = per_instance / groups.len().max(1) as f64;
    let now_cap = f64::from(healthy) * per * MAX_UTILISATION;
    let max_cap = f64::from(max) * per * MAX_UTILISATION;
    let detail = format!(
        "{}: {} req/s at {:.0}% (from {:.0}%); {healthy} up serve {}, {max} max serve {}",
        cloud.label(),
        int(need),
        after * 100.0,
        before * 100.0,
        int(now_cap),
        int(max_cap)
    );
    GuardResult::new("target capacity", need <= max_cap, detail)
}

fn replication_within_rpo(cloud: CloudKind, fleet: &Fleet, ctx: &GuardContext) -> GuardResult {
    let worst = fleet
        .replication
        .iter()
        .filter(|r| r.kind == ReplicationKind::Database && r.to == cloud)
        .map(|r| r.value)
        .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))));
    match worst {
        None => {
            GuardResult::new("replication within RPO", true, format!("{} holds the primary database", cloud.label()))
        }
        Some(lag) if lag <= ctx.rpo_secs => GuardResult::new(
            "replication within RPO",
            true,
            format!("{} lag {lag:.1}s ≤ RPO {:.0}s", cloud.label(), ctx.rpo_secs),
        ),
        Some(lag) => GuardResult::new(
            "replication within RPO",
            false,
            format!("{} replica is {lag:.0}s behind, RPO is {:.0}s: writes would be lost", cloud.label(), ctx.rpo_secs),
        ),
    }
}

fn arbiter(fleet: &Fleet) -> GuardResult {
    match &fleet.arbiter {
        Some(a) if a.reachable => GuardResult::new("arbiter reachable", true, format!("{} answers", a.name)),
        Some(a) => {
            GuardResult::new("arbiter reachable", false, format!("{} is unreachable: risk of split brain", a.name))
        }
        None => GuardResult::new("arbiter reachable", false, "no arbiter is reporting: risk of split brain"),
    }
}

fn within_bounds(plan: &Plan) -> GuardResult {
    match plan.changes.first() {
        Some(Change::Capacity { after, min, max, group, .. }) => {
            let ok = (*min..=*max).contains(after);
            GuardResult::new(
                "within min/max",
                ok,
                if ok {
                    format!("{after} is within {min}–{max}")
                } else {
                    format!("{group}: {after} is outside min {min} / max {max}")
                },
            )
        }
        _ => GuardResult::new("within min/max", false, "the plan changes no capacity"),
    }
}

fn alert_acked(plan: &Plan, fleet: &Fleet) -> GuardResult {
    let state = fleet.alerts.iter().find(|a| a.id == plan.target).map(|a| &a.state);
    match state {
        Some(AlertState::Acknowledged { by, .. }) => {
            GuardResult::new("alert acknowledged", true, format!("acknowledged by {by}"))
        }
        Some(other) => GuardResult::new("alert acknowledged", false, format!("the alert is {}", other.label())),
        None => GuardResult::new("alert acknowledged", false, "the alert is gone"),
    }
}

fn alert_open(plan: &Plan, fleet: &Fleet) -> GuardResult {
    let state = fleet.alerts.iter().find(|a| a.id == plan.target).map(|a| &a.state);
    match state {
        Some(AlertState::Firing) => GuardResult::new("alert firing", true, "the alert is firing and unacknowledged"),
        Some(AlertState::Acknowledged { by, .. }) => {
            GuardResult::new("alert firing", false, format!("already acknowledged by {by}"))
        }
        Some(AlertState::Inhibited { by }) => {
            GuardResult::new("alert firing", false, format!("inhibited by {by}: acknowledge that one"))
        }
        Some(AlertState::Resolved) => GuardResult::new("alert firing", false, "the alert has resolved"),
        None => GuardResult::new("alert firing", false, "the alert is gone"),
    }
}
