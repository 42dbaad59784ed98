//! Guardrails: the preflight checks every plan passes before it may run. Pure:
//! Fleet + plan + context.
//!
//! Each guard is three-valued. **Passed** and **failed** are judged from data the
//! clouds (or opsdeck's own probes) reported; **unknown** means there is nothing to
//! judge with, and the detail says what data would settle it. A failed guard
//! refuses (break glass with a reason); an unknown one warns and does not refuse,
//! unless the config names it in `[guards] require`. A guard that always fails
//! teaches operators to force; one that passes on missing data lies.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::plan::shares_after;
use crate::format::int;
use crate::model::{ActionKind, Intent};
use crate::model::{AlertState, CloudKind, Fleet, Freshness, Health, ReplicationKind, ScalingGroup, Section, SourceId};
use crate::model::{Change, Plan};

/// Share of a group's full capacity we plan to use; the rest is headroom.
pub const MAX_UTILISATION: f64 = 0.85;

/// Poll interval assumed for a source whose interval is not known.
const DEFAULT_INTERVAL_SECS: u64 = 30;

pub use crate::config::GuardsConfig;
pub use crate::model::GuardKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardState {
    Passed,
    Failed,
    /// No data to judge by; the detail says what would settle it.
    Unknown,
}

impl GuardState {
    pub fn label(self) -> &'static str {
        match self {
            GuardState::Passed => "passed",
            GuardState::Failed => "failed",
            GuardState::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardResult {
    pub key: GuardKey,
    pub name: &'static str,
    pub state: GuardState,
    pub detail: String,
    /// The config requires this guard: unknown refuses too.
    pub required: bool,
}

impl GuardResult {
    fn new(key: GuardKey, state: GuardState, detail: impl Into<String>) -> Self {
        GuardResult { key, name: key.name(), state, detail: detail.into(), required: false }
    }
    fn passed(key: GuardKey, detail: impl Into<String>) -> Self {
        Self::new(key, GuardState::Passed, detail)
    }
    fn failed(key: GuardKey, detail: impl Into<String>) -> Self {
        Self::new(key, GuardState::Failed, detail)
    }
    fn unknown(key: GuardKey, detail: impl Into<String>) -> Self {
        Self::new(key, GuardState::Unknown, detail)
    }

    pub fn is_passed(&self) -> bool {
        self.state == GuardState::Passed
    }

    /// Does this result refuse the action (unless forced)?
    pub fn refuses(&self) -> bool {
        match self.state {
            GuardState::Passed => false,
            GuardState::Failed => true,
            GuardState::Unknown => self.required,
        }
    }
}

/// What the guards need besides the plan and the Fleet.
#[derive(Debug, Clone)]
pub struct GuardContext<'a> {
    pub now: DateTime<Utc>,
    /// Targets with an action already in flight.
    pub in_flight: &'a [String],
    /// Guards whose unknown refuses (`[guards] require`).
    pub require: &'a [GuardKey],
}

pub fn check(plan: &Plan, fleet: &Fleet, ctx: &GuardContext) -> Vec<GuardResult> {
    let real = without_demo(plan, fleet);
    let fleet = real.as_ref().unwrap_or(fleet);
    let mut out = vec![fresh(plan, fleet, ctx), not_in_flight(plan, ctx)];
    match plan.kind() {
        ActionKind::Failover => {
            for (cloud, before, after) in gaining(plan, fleet) {
                out.push(target_healthy(plan, cloud, fleet));
                out.push(target_capacity(cloud, before, after, fleet));
                out.push(replication_within_rpo(cloud, fleet));
            }
            out.push(arbiter(fleet));
        }
        ActionKind::Scale => out.push(within_bounds(plan)),
        ActionKind::Ack if matches!(plan.intent, Intent::Unack { .. }) => out.push(alert_acked(plan, fleet)),
        ActionKind::Ack => out.push(alert_open(plan, fleet)),
    }
    for g in &mut out {
        g.required = ctx.require.contains(&g.key);
    }
    out
}

/// A change to the real estate is judged on real data only: when the demo runs
/// beside real sources, what it simulates (its witness, its sizing, its lag) must
/// not pass a guard for a real failover. None when there is nothing to drop.
fn without_demo(plan: &Plan, fleet: &Fleet) -> Option<Fleet> {
    if !fleet.mixes_demo() || fleet.is_demo_source(&plan.source) {
        return None;
    }
    let demo = |id: &SourceId| fleet.is_demo_source(id);
    let mut real = fleet.clone();
    real.metrics.retain(|(s, _)| !demo(s));
    real.groups = fleet.groups.iter().filter(|g| !demo(&g.source)).cloned().collect();
    real.policies.retain(|p| !demo(&p.source));
    (real.replication, real.replication_sources) =
        without_demo_items(&fleet.replication, &fleet.replication_sources, demo);
    (real.arbiters, real.arbiter_sources) = without_demo_items(&fleet.arbiters, &fleet.arbiter_sources, demo);
    Some(real)
}

/// `items` and their parallel `sources` without what a demo source reported (an
/// item whose source is not recorded is kept).
fn without_demo_items<T: Clone>(
    items: &[T],
    sources: &[SourceId],
    demo: impl Fn(&SourceId) -> bool,
) -> (Vec<T>, Vec<SourceId>) {
    let keep = |i: usize| !sources.get(i).is_some_and(&demo);
    let kept = items.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, t)| t.clone()).collect();
    let sources = sources.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, s)| s.clone()).collect();
    (kept, sources)
}

/// The clouds a failover sends more traffic to, with their share before and after.
/// A cloud gains when its weight rises (even if its answer is withheld as unhealthy,
/// which is exactly what must be caught) or its share rises.
fn gaining(plan: &Plan, fleet: &Fleet) -> Vec<(CloudKind, f64, f64)> {
    let weight_up: Vec<CloudKind> = plan
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Weight { cloud, before, after, .. } if after > before => Some(*cloud),
            _ => None,
        })
        .collect();
    // Per cloud, not per answer: a cloud with an answer in each region is judged once.
    let mut per_cloud: Vec<(CloudKind, f64, f64)> = Vec::new();
    for (cloud, before, after) in shares_after(plan, fleet) {
        match per_cloud.iter_mut().find(|(c, _, _)| *c == cloud) {
            Some((_, b, a)) => {
                *b += before;
                *a += after;
            }
            None => per_cloud.push((cloud, before, after)),
        }
    }
    per_cloud.into_iter().filter(|(cloud, before, after)| after > before || weight_up.contains(cloud)).collect()
}

/// No guard refuses.
pub fn all_passed(results: &[GuardResult]) -> bool {
    !results.iter().any(GuardResult::refuses)
}

/// The reasons of a refusal, for one line of text.
pub fn reasons(results: &[GuardResult]) -> String {
    results
        .iter()
        .filter(|g| g.refuses())
        .map(|g| match g.state {
            GuardState::Unknown => format!("{} is unknown and required ({})", g.name, g.detail),
            _ => g.detail.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The sources whose data the plan is built on or which carry it out: the writer,
/// and for a failover whatever reports on the clouds that gain traffic, plus the
/// arbiter probes. A stale source elsewhere in the estate does not block.
fn sources_touched(plan: &Plan, fleet: &Fleet) -> Vec<SourceId> {
    let mut ids = vec![plan.source.clone()];
    if plan.kind() == ActionKind::Failover {
        let clouds: Vec<CloudKind> = gaining(plan, fleet).into_iter().map(|(c, _, _)| c).collect();
        ids.extend(fleet.metrics.iter().filter(|(_, m)| clouds.contains(&m.cloud)).map(|(s, _)| s.clone()));
        ids.extend(fleet.groups.iter().filter(|g| clouds.contains(&g.cloud)).map(|g| g.source.clone()));
        // Whoever reports the lag into a gaining cloud: an old figure must not pass the RPO.
        ids.extend(
            fleet
                .replication
                .iter()
                .zip(&fleet.replication_sources)
                .filter(|(r, _)| clouds.contains(&r.to) || clouds.contains(&r.from))
                .map(|(_, s)| s.clone()),
        );
        ids.extend(fleet.sources.iter().filter(|s| s.kind == crate::providers::arbiter::KIND).map(|s| s.id.clone()));
    }
    let mut seen = Vec::new();
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen
}

/// Each touched source against its own schedule: older than two intervals plus a
/// timeout means at least one poll was missed.
fn fresh(plan: &Plan, fleet: &Fleet, ctx: &GuardContext) -> GuardResult {
    let (mut failed, mut pending, mut ok) = (Vec::new(), Vec::new(), Vec::new());
    // The sections of a partial source that this kind of plan is judged on.
    let relevant: &[Section] = match plan.kind() {
        ActionKind::Failover => &[Section::Groups, Section::Metrics, Section::Records, Section::Replication],
        ActionKind::Scale => &[Section::Groups],
        ActionKind::Ack => &[Section::Alerts],
    };
    for id in sources_touched(plan, fleet) {
        let Some(s) = fleet.source(&id) else { continue };
        for p in s.partial.iter().filter(|p| relevant.contains(&p.section)) {
            failed.push(format!("{}'s {} could not be read ({})", s.id, p.section.label(), p.reason));
        }
        let interval = if s.interval_secs == 0 { DEFAULT_INTERVAL_SECS } else { s.interval_secs };
        let budget = (2 * interval + s.timeout_secs) as i64;
        match (&s.freshness, s.age_secs(ctx.now)) {
            (Freshness::Stale { reason }, _) => failed.push(format!("{} is stale ({reason})", s.id)),
            (Freshness::Pending, _) | (_, None) => pending.push(format!("{} has not reported yet", s.id)),
            (Freshness::Fresh, Some(age)) if age > budget => {
                failed.push(format!("{} data is {age}s old (polled every {interval}s)", s.id))
            }
            (Freshness::Fresh, Some(age)) => ok.push(format!("{} {age}s", s.id)),
        }
    }
    if !failed.is_empty() {
        GuardResult::failed(GuardKey::Fresh, failed.join(", "))
    } else if !pending.is_empty() {
        GuardResult::unknown(GuardKey::Fresh, format!("{}: wait for its first poll", pending.join(", ")))
    } else {
        GuardResult::passed(GuardKey::Fresh, format!("read within their intervals: {}", ok.join(", ")))
    }
}

fn not_in_flight(plan: &Plan, ctx: &GuardContext) -> GuardResult {
    if ctx.in_flight.iter().any(|t| t == &plan.target) {
        GuardResult::failed(GuardKey::InFlight, format!("another action on {} has not taken effect yet", plan.target))
    } else {
        GuardResult::passed(GuardKey::InFlight, format!("no other action on {}", plan.target))
    }
}

/// The gaining cloud's answers in the policy the plan changes (another policy's
/// answers do not carry this traffic).
fn target_healthy(plan: &Plan, cloud: CloudKind, fleet: &Fleet) -> GuardResult {
    let changed: Vec<&str> = plan
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Weight { policy, .. } => Some(policy.as_str()),
            _ => None,
        })
        .collect();
    let endpoints: Vec<_> = fleet
        .policies
        .iter()
        .filter(|p| p.source == plan.source && changed.contains(&p.name.as_str()))
        .flat_map(|p| p.endpoints.iter())
        .filter(|e| e.cloud == cloud)
        .collect();
    if endpoints.is_empty() {
        return GuardResult::unknown(
            GuardKey::Healthy,
            format!("{} has no DNS answer with a health check to judge by", cloud.label()),
        );
    }
    let bad: Vec<String> = endpoints
        .iter()
        .filter(|e| matches!(e.health, Health::Down | Health::Degraded))
        .map(|e| format!("{} is {}", e.name, e.health.label()))
        .collect();
    // A disabled (drained) answer is not probed: raising its weight needs a check first.
    let unknown: Vec<&str> = endpoints
        .iter()
        .filter(|e| matches!(e.health, Health::Unknown | Health::Idle))
        .map(|e| e.name.as_str())
        .collect();
    if !bad.is_empty() {
        GuardResult::failed(GuardKey::Healthy, format!("{}: {}", cloud.label(), bad.join(", ")))
    } else if !unknown.is_empty() {
        GuardResult::unknown(
            GuardKey::Healthy,
            format!("{}: no health check result for {} (attach a health check)", cloud.label(), unknown.join(", ")),
        )
    } else {
        GuardResult::passed(GuardKey::Healthy, format!("{} endpoints pass their health checks", cloud.label()))
    }
}

/// Requests/s one instance of `g` can serve at the utilisation ceiling, and where
/// the figure comes from: the config's sizing, else the cloud's live load per
/// in-service instance scaled by its CPU headroom. Deriving needs every region of
/// the cloud to report both its request rate and its CPU: a region missing either
/// would understate the load or the headroom, so the size is unknown instead.
fn per_instance_capacity(g: &ScalingGroup, fleet: &Fleet) -> Option<(f64, &'static str)> {
    if let Some(configured) = g.rps_per_instance.filter(|r| r.is_finite() && *r > 0.0) {
        return Some((configured * MAX_UTILISATION, "configured"));
    }
    let live: Vec<(f64, f64)> = fleet
        .metrics
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.cloud == g.cloud)
        .map(|m| Some((m.rps?, m.cpu?)))
        .collect::<Option<_>>()?;
    let rps: f64 = live.iter().map(|(rps, _)| rps).sum();
    let in_service: u32 =
        fleet.groups.iter().filter(|o| o.cloud == g.cloud && !o.inactive).map(|o| o.in_service()).sum();
    // Traffic-weighted CPU of the cloud's web tier.
    let cpu = if rps > 0.0 { live.iter().map(|(rps, cpu)| cpu * rps).sum::<f64>() / rps } else { 0.0 };
    if !(rps.is_finite() && rps > 0.0 && in_service > 0 && cpu.is_finite() && cpu > 0.0) {
        return None;
    }
    let per_instance_now = rps / f64::from(in_service);
    Some((per_instance_now * (MAX_UTILISATION / cpu.min(1.0)), "derived from live load"))
}

/// Can `cloud` serve its new share? From the current total request rate and each
/// group's per-instance capacity, scaled out as far as its max allows.
fn target_capacity(cloud: CloudKind, before: f64, after: f64, fleet: &Fleet) -> GuardResult {
    let key = GuardKey::Capacity;
    if fleet.metrics.is_empty() {
        return GuardResult::unknown(key, "no source reports a request rate to size the new share against");
    }
    // The new share is of all traffic: a region whose request rate is unknown leaves
    // the total unknown (summing the rest would understate what must be served).
    let unreported: Vec<String> = fleet
        .metrics
        .iter()
        .filter(|(_, m)| m.rps.is_none())
        .map(|(_, m)| format!("{} {}", m.cloud.label(), m.region))
        .collect();
    if !unreported.is_empty() {
        return GuardResult::unknown(
            key,
            format!("no request rate reported for {} to size the new share against", unreported.join(", ")),
        );
    }
    let total_rps: f64 = fleet.metrics.iter().filter_map(|(_, m)| m.rps).sum();
    let need = total_rps * after;
    let groups: Vec<&ScalingGroup> = fleet.groups.iter().filter(|g| g.cloud == cloud && !g.inactive).collect();
    if groups.is_empty() {
        return GuardResult::unknown(key, format!("{} reports no active scaling group to serve from", cloud.label()));
    }
    let (mut now_cap, mut max_cap, mut healthy, mut max) = (0.0, 0.0, 0u32, 0u32);
    let mut sources: Vec<&str> = Vec::new();
    let mut unknown_size: Vec<&str> = Vec::new();
    for g in &groups {
        match per_instance_capacity(g, fleet) {
            Some((per, from)) => {
                now_cap += f64::from(g.healthy()) * per;
                max_cap += f64::from(g.max) * per;
                healthy += g.healthy();
                max += g.max;
                if !sources.contains(&from) {
                    sources.push(from);
                }
            }
            None => unknown_size.push(&g.name),
        }
    }
    let detail = format!(
        "{}: {} req/s at {:.0}% (from {:.0}%); {healthy} up serve {}, {max} max serve {} ({})",
        cloud.label(),
        int(need),
        after * 100.0,
        before * 100.0,
        int(now_cap),
        int(max_cap),
        sources.join(", ")
    );
    if need <= max_cap && !sources.is_empty() {
        // Groups of unknown size only add capacity: what is known already suffices.
        return GuardResult::passed(key, detail);
    }
    if !unknown_size.is_empty() {
        return GuardResult::unknown(
            key,
            format!(
                "{}: no per-instance capacity for {} (set rps_per_instance on the source, or wait for live \
                 requests/s and CPU from the cloud) to size {} req/s against",
                cloud.label(),
                unknown_size.join(", "),
                int(need)
            ),
        );
    }
    GuardResult::failed(key, detail)
}

/// The cloud's replicas against their own targets (each figure carries the RPO its
/// source was configured with).
fn replication_within_rpo(cloud: CloudKind, fleet: &Fleet) -> GuardResult {
    let key = GuardKey::Rpo;
    let db = || fleet.replication.iter().filter(|r| r.kind == ReplicationKind::Database);
    let usable = |r: &&crate::model::Replication| r.value.is_finite() && r.target.is_finite() && r.target > 0.0;
    // A figure that cannot be judged must not hide one that fails: judge the usable ones.
    let worst = db()
        .filter(|r| r.to == cloud)
        .filter(usable)
        .max_by(|a, b| (a.value / a.target).total_cmp(&(b.value / b.target)));
    let unusable = db().filter(|r| r.to == cloud).find(|r| !usable(r));
    if let Some(u) = unusable
        && worst.is_none_or(|r| r.value <= r.target)
    {
        return GuardResult::unknown(key, format!("{}: {} reports no usable lag", cloud.label(), u.name));
    }
    match worst {
        Some(r) if r.value <= r.target => {
            GuardResult::passed(key, format!("{} {} lag {:.1}s ≤ RPO {:.0}s", cloud.label(), r.name, r.value, r.target))
        }
        Some(r) => GuardResult::failed(
            key,
            format!(
                "{} {} replica is {:.0}s behind, RPO is {:.0}s: writes would be lost",
                cloud.label(),
                r.name,
                r.value,
                r.target
            ),
        ),
        None => match db().find(|r| r.from == cloud) {
            Some(r) => GuardResult::passed(
                key,
                format!("{} holds the primary of {} (replicating to {})", cloud.label(), r.name, r.to.label()),
            ),
            None => GuardResult::unknown(
                key,
                format!(
                    "no database replication figure for {}: configure its replication lag on a source \
                     (e.g. aurora_clusters, or a Prometheus replication query)",
                    cloud.label()
                ),
            ),
        },
    }
}

/// A majority of the configured witnesses must answer opsdeck's own probe.
fn arbiter(fleet: &Fleet) -> GuardResult {
    let key = GuardKey::Arbiter;
    let all = &fleet.arbiters;
    let configured = fleet.sources.iter().any(|s| s.kind == crate::providers::arbiter::KIND);
    if all.is_empty() && configured {
        // Witnesses are configured: no answer yet is not "no witness".
        return GuardResult::failed(key, "the arbiters have not been probed yet: wait for their first probe");
    }
    if all.is_empty() {
        return GuardResult::unknown(
            key,
            "no arbiter is configured: add [[arbiters]] (a witness outside the clouds) to check for split brain",
        );
    }
    let up: Vec<String> = all
        .iter()
        .filter(|a| a.reachable)
        .map(|a| match a.rtt_ms {
            Some(ms) => format!("{} {} ms", a.name, int(ms)),
            None => a.name.clone(),
        })
        .collect();
    let down: Vec<String> = all
        .iter()
        .filter(|a| !a.reachable)
        .map(|a| format!("{} ({})", a.name, a.error.as_deref().unwrap_or("no answer")))
        .collect();
    if up.len() * 2 > all.len() {
        let mut detail = format!("{} of {} answer: {}", up.len(), all.len(), up.join(", "));
        if !down.is_empty() {
            detail.push_str(&format!("; down: {}", down.join(", ")));
        }
        GuardResult::passed(key, detail)
    } else {
        GuardResult::failed(
            key,
            format!(
                "{} of {} arbiters answer, a majority is needed: risk of split brain; down: {}",
                up.len(),
                all.len(),
                down.join(", ")
            ),
        )
    }
}

fn within_bounds(plan: &Plan) -> GuardResult {
    let key = GuardKey::Bounds;
    match plan.changes.first() {
        Some(Change::Capacity { after, min, max, group, .. }) => {
            if (*min..=*max).contains(after) {
                GuardResult::passed(key, format!("{after} is within {min}–{max}"))
            } else {
                GuardResult::failed(key, format!("{group}: {after} is outside min {min} / max {max}"))
            }
        }
        _ => GuardResult::failed(key, "the plan changes no capacity"),
    }
}

fn alert_state(plan: &Plan, fleet: &Fleet) -> Option<AlertState> {
    fleet.alerts.iter().find(|a| a.id == plan.target).map(|a| a.state.clone())
}

fn alert_acked(plan: &Plan, fleet: &Fleet) -> GuardResult {
    let key = GuardKey::AlertAcked;
    match alert_state(plan, fleet) {
        Some(AlertState::Acknowledged { by, .. }) => GuardResult::passed(key, format!("acknowledged by {by}")),
        Some(other) => GuardResult::failed(key, format!("the alert is {}", other.label())),
        None => GuardResult::failed(key, "the alert is gone"),
    }
}

fn alert_open(plan: &Plan, fleet: &Fleet) -> GuardResult {
    let key = GuardKey::AlertFiring;
    match alert_state(plan, fleet) {
        Some(AlertState::Firing) => GuardResult::passed(key, "the alert is firing and unacknowledged"),
        Some(AlertState::Acknowledged { by, .. }) => GuardResult::failed(key, format!("already acknowledged by {by}")),
        Some(AlertState::Inhibited { by }) => {
            GuardResult::failed(key, format!("inhibited by {by}: acknowledge that one"))
        }
        Some(AlertState::Resolved) => GuardResult::failed(key, "the alert has resolved"),
        None => GuardResult::failed(key, "the alert is gone"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::actions::plan;
    use crate::model::{
        Arbiter, CloudMetrics, Endpoint, PolicyKind, Replication, SourceStatus, TrafficPolicy, ZoneCapacity,
    };

    fn t0() -> DateTime<Utc> {
        crate::clock::reference_instant()
    }

    fn status(id: &str, kind: &str, interval: u64, age: i64) -> SourceStatus {
        SourceStatus {
            freshness: Freshness::Fresh,
            last_ok: Some(t0() - Duration::seconds(age)),
            interval_secs: interval,
            timeout_secs: 10,
            ..SourceStatus::new(SourceId::new(id), kind)
        }
    }

    fn group(cloud: CloudKind, source: &str, healthy: u32, max: u32) -> ScalingGroup {
        ScalingGroup {
            source: SourceId::new(source),
            cloud,
            region: "r1".into(),
            name: format!("web-{}", cloud.slug()),
            min: 0,
            max,
            desired: healthy,
            zones: vec![ZoneCapacity { zone: "z1".into(), in_service: healthy, healthy }],
            spot_share: 0.0,
            rps_per_instance: None,
            inactive: false,
            instance_type: None,
        }
    }

    fn metrics(cloud: CloudKind, rps: f64, cpu: f64) -> CloudMetrics {
        CloudMetrics {
            cloud,
            region: "r1".into(),
            rps: Some(rps),
            p95_ms: Some(100.0),
            error_rate: Some(0.0),
            cpu: Some(cpu),
        }
    }

    /// A healthy two-cloud estate as real sources report it: no sizing, no arbiter,
    /// no replication figure, AWS polled every 60 s.
    fn estate() -> Fleet {
        let endpoint = |cloud: CloudKind, weight| Endpoint {
            name: cloud.slug().into(),
            cloud,
            target: String::new(),
            weight,
            health: Health::Ok,
            check: String::new(),
        };
        Fleet {
            sources: vec![status("aws", "aws", 60, 50), status("azure", "azure", 30, 5)],
            metrics: vec![
                (SourceId::new("aws"), metrics(CloudKind::Aws, 900.0, 0.45)),
                (SourceId::new("azure"), metrics(CloudKind::Azure, 100.0, 0.30)),
            ],
            groups: vec![group(CloudKind::Aws, "aws", 9, 20), group(CloudKind::Azure, "azure", 2, 10)].into(),
            policies: vec![TrafficPolicy {
                detection: None,
                source: SourceId::new("aws"),
                name: "shop".into(),
                kind: PolicyKind::Route53,
                ttl_secs: 60,
                endpoints: vec![endpoint(CloudKind::Aws, 90), endpoint(CloudKind::Azure, 10)],
            }],
            ..Fleet::default()
        }
    }

    fn shift(fleet: &Fleet, percent: f64, require: &[GuardKey]) -> Vec<GuardResult> {
        let intent = Intent::Shift { from: CloudKind::Aws, to: CloudKind::Azure, percent: Some(percent) };
        let p = plan(&intent, fleet).expect("plan");
        check(&p, fleet, &GuardContext { now: t0(), in_flight: &[], require })
    }

    fn state(results: &[GuardResult], key: GuardKey) -> GuardState {
        results.iter().find(|g| g.key == key).map(|g| g.state).unwrap_or_else(|| panic!("no {key:?}: {results:?}"))
    }

    #[test]
    fn a_healthy_real_estate_is_not_refused_and_says_what_it_cannot_judge() {
        let r = shift(&estate(), 10.0, &[]);
        assert!(all_passed(&r), "{r:?}");
        // AWS's 50 s old data is within its own 60 s interval.
        assert_eq!(state(&r, GuardKey::Fresh), GuardState::Passed);
        assert_eq!(state(&r, GuardKey::Arbiter), GuardState::Unknown);
        assert_eq!(state(&r, GuardKey::Rpo), GuardState::Unknown);
        let rpo = r.iter().find(|g| g.key == GuardKey::Rpo).expect("rpo");
        assert!(rpo.detail.contains("no database replication figure for Azure"), "{rpo:?}");
        // Capacity from live load: Azure serves 100 req/s on 2 instances at 30 % CPU,
        // so one instance serves 50 × 0.85 / 0.30 ≈ 142 at the ceiling; 10 max ≈ 1,417.
        let cap = r.iter().find(|g| g.key == GuardKey::Capacity).expect("capacity");
        assert_eq!(cap.state, GuardState::Passed, "{cap:?}");
        assert!(cap.detail.contains("derived from live load") && cap.detail.contains("1,417"), "{cap:?}");
    }

    #[test]
    fn required_unknowns_refuse_and_say_why() {
        let r = shift(&estate(), 10.0, &[GuardKey::Arbiter]);
        assert!(!all_passed(&r));
        assert!(reasons(&r).starts_with("arbiter reachable is unknown and required"), "{}", reasons(&r));
        assert_eq!(r.iter().filter(|g| g.refuses()).count(), 1);
    }

    #[test]
    fn arbiters_need_a_majority() {
        let mut f = estate();
        let witness = |name: &str, up: bool| Arbiter {
            name: name.into(),
            location: "on-prem".into(),
            reachable: up,
            rtt_ms: up.then_some(12.0),
            error: (!up).then(|| "connection refused".into()),
        };
        f.arbiters = vec![witness("a", true), witness("b", true), witness("c", false)];
        assert_eq!(state(&shift(&f, 10.0, &[]), GuardKey::Arbiter), GuardState::Passed);
        f.arbiters[1].reachable = false;
        let r = shift(&f, 10.0, &[]);
        assert_eq!(state(&r, GuardKey::Arbiter), GuardState::Failed);
        assert!(reasons(&r).contains("1 of 3 arbiters answer") && reasons(&r).contains("connection refused"));
    }

    #[test]
    fn capacity_prefers_configured_sizing_and_is_unknown_without_any() {
        let mut f = estate();
        // 60 % of 1,000 req/s on Azure: 600 needed.
        f.groups[1].rps_per_instance = Some(50.0);
        let r = shift(&f, 50.0, &[]);
        let cap = r.iter().find(|g| g.key == GuardKey::Capacity).expect("capacity");
        // 10 max × 50 × 0.85 = 425 < 600.
        assert_eq!(cap.state, GuardState::Failed, "{cap:?}");
        assert!(cap.detail.contains("configured"), "{cap:?}");
        f.groups[1].rps_per_instance = None;
        // An idle CPU figure: no headroom to derive from.
        f.metrics[1].1.cpu = Some(0.0);
        let cap = shift(&f, 50.0, &[]).into_iter().find(|g| g.key == GuardKey::Capacity).expect("capacity");
        assert_eq!(cap.state, GuardState::Unknown, "{cap:?}");
        assert!(cap.detail.contains("rps_per_instance"), "{cap:?}");
    }

    #[test]
    fn capacity_is_unknown_for_a_cloud_reporting_requests_but_no_cpu() {
        let mut f = estate();
        // Azure's front door reports 100 req/s, but no source reports its CPU.
        f.metrics[1].1.cpu = None;
        let r = shift(&f, 50.0, &[]);
        let cap = r.iter().find(|g| g.key == GuardKey::Capacity).expect("capacity");
        assert_eq!(cap.state, GuardState::Unknown, "{cap:?}");
        assert!(cap.detail.contains("no per-instance capacity for web-azure"), "{cap:?}");
        assert!(!r.iter().any(GuardResult::refuses), "unknown does not refuse unless required: {r:?}");
        assert!(shift(&f, 50.0, &[GuardKey::Capacity]).iter().any(GuardResult::refuses), "required: refused");
        // Configured sizing does not need the live CPU.
        f.groups[1].rps_per_instance = Some(200.0);
        assert_eq!(state(&shift(&f, 50.0, &[]), GuardKey::Capacity), GuardState::Passed);
    }

    #[test]
    fn capacity_is_unknown_when_a_regions_request_rate_is_unreported() {
        let mut f = estate();
        f.groups[1].rps_per_instance = Some(200.0);
        assert_eq!(state(&shift(&f, 50.0, &[]), GuardKey::Capacity), GuardState::Passed);
        // AWS reports CPU only (no load balancer): the total to size against is unknown.
        f.metrics[0].1.rps = None;
        let cap = shift(&f, 50.0, &[]).into_iter().find(|g| g.key == GuardKey::Capacity).expect("capacity");
        assert_eq!(cap.state, GuardState::Unknown, "{cap:?}");
        assert!(cap.detail.contains("no request rate reported for AWS r1"), "{cap:?}");
    }

    #[test]
    fn freshness_judges_only_touched_sources_each_by_its_own_interval() {
        let mut f = estate();
        f.sources.push(SourceStatus {
            freshness: Freshness::Stale { reason: "timed out".into() },
            ..status("aliyun", "aliyun", 60, 900)
        });
        assert_eq!(state(&shift(&f, 10.0, &[]), GuardKey::Fresh), GuardState::Passed, "an unrelated stale source");
        // Azure polled every 30 s with a 10 s timeout: 71 s old is two polls missed.
        f.sources[1].last_ok = Some(t0() - Duration::seconds(71));
        let r = shift(&f, 10.0, &[]);
        assert_eq!(state(&r, GuardKey::Fresh), GuardState::Failed);
        assert!(reasons(&r).contains("azure data is 71s old (polled every 30s)"), "{}", reasons(&r));
    }

    #[test]
    fn replication_is_judged_against_each_figures_own_target() {
        let mut f = estate();
        let lag = |value: f64, target: f64| Replication {
            kind: ReplicationKind::Database,
            name: "orders".into(),
            from: CloudKind::Aws,
            to: CloudKind::Azure,
            value,
            target,
        };
        f.replication = vec![lag(45.0, 60.0)];
        assert_eq!(state(&shift(&f, 10.0, &[]), GuardKey::Rpo), GuardState::Passed, "45 s within a 60 s RPO");
        f.replication = vec![lag(12.0, 10.0)];
        assert_eq!(state(&shift(&f, 10.0, &[]), GuardKey::Rpo), GuardState::Failed, "12 s beyond a 10 s RPO");
        // Traffic moving back to the primary's cloud: it holds the writes.
        f.policies[0].endpoints[0].weight = 10;
        f.policies[0].endpoints[1].weight = 90;
        let intent = Intent::Shift { from: CloudKind::Azure, to: CloudKind::Aws, percent: Some(10.0) };
        let p = plan(&intent, &f).expect("plan");
        let r = check(&p, &f, &GuardContext { now: t0(), in_flight: &[], require: &[] });
        let rpo = r.iter().find(|g| g.key == GuardKey::Rpo).expect("rpo");
        assert_eq!(rpo.state, GuardState::Passed, "{rpo:?}");
        assert!(rpo.detail.contains("holds the primary of orders"), "{rpo:?}");
    }

    #[test]
    fn a_cloud_with_an_answer_per_region_moves_as_a_whole_and_is_judged_once() {
        let mut f = estate();
        // Route 53 with one AWS answer per region, and one Azure answer.
        let answer = |name: &str, cloud, weight| Endpoint {
            name: name.into(),
            cloud,
            target: String::new(),
            weight,
            health: Health::Ok,
            check: String::new(),
        };
        f.policies[0].endpoints = vec![
            answer("aws-use1", CloudKind::Aws, 60),
            answer("aws-euw1", CloudKind::Aws, 30),
            answer("azure-weu", CloudKind::Azure, 10),
        ];
        let intent = Intent::Shift { from: CloudKind::Azure, to: CloudKind::Aws, percent: Some(10.0) };
        let p = plan(&intent, &f).expect("plan");
        let after: Vec<(&str, u32)> = p
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Weight { endpoint, after, .. } => Some((endpoint.as_str(), *after)),
                _ => None,
            })
            .collect();
        // 10 of 100 leave Azure; AWS's answers take them 2 : 1, as they hold 60 : 30.
        assert_eq!(after, vec![("aws-use1", 67), ("aws-euw1", 33), ("azure-weu", 0)]);
        let r = check(&p, &f, &GuardContext { now: t0(), in_flight: &[], require: &[] });
        let keys: Vec<GuardKey> = r.iter().map(|g| g.key).collect();
        assert_eq!(keys.iter().filter(|k| **k == GuardKey::Healthy).count(), 1, "{r:?}");
        // A fresh read showing each answer at its own new weight confirms the plan.
        assert!(!p.is_reflected_in(&f));
        for (e, (_, w)) in f.policies[0].endpoints.iter_mut().zip(&after) {
            e.weight = *w;
        }
        assert!(p.is_reflected_in(&f));
    }

    fn witness(name: &str, up: bool) -> Arbiter {
        Arbiter {
            name: name.into(),
            location: "on-prem".into(),
            reachable: up,
            rtt_ms: up.then_some(12.0),
            error: (!up).then(|| "connection refused".into()),
        }
    }

    #[test]
    fn the_demo_beside_real_sources_cannot_pass_a_guard_for_a_real_failover() {
        let mut f = estate();
        f.sources.push(status("demo", "demo", 5, 0));
        f.arbiters.push(witness("demo-witness", true));
        f.arbiter_sources.push(SourceId::new("demo"));
        f.replication.push(Replication {
            kind: ReplicationKind::Database,
            name: "simulated".into(),
            from: CloudKind::Aws,
            to: CloudKind::Azure,
            value: 0.5,
            target: 30.0,
        });
        f.replication_sources.push(SourceId::new("demo"));
        let r = shift(&f, 10.0, &[]);
        assert_eq!(state(&r, GuardKey::Arbiter), GuardState::Unknown, "the demo's witness is not a witness");
        assert_eq!(state(&r, GuardKey::Rpo), GuardState::Unknown, "the demo's lag is not a lag");
    }

    #[test]
    fn a_stale_source_of_another_policy_does_not_block() {
        let mut f = estate();
        let mut other = f.policies[0].clone();
        other.source = SourceId::new("gtm");
        other.name = "other.example.cn".into();
        f.policies.push(other);
        f.sources.push(SourceStatus {
            freshness: Freshness::Stale { reason: "throttled".into() },
            ..status("gtm", "aliyun", 60, 600)
        });
        let r = shift(&f, 10.0, &[]);
        assert_eq!(state(&r, GuardKey::Fresh), GuardState::Passed, "{r:?}");
    }

    #[test]
    fn configured_arbiters_not_yet_probed_refuse() {
        let mut f = estate();
        f.sources.push(SourceStatus {
            freshness: Freshness::Pending,
            ..SourceStatus::new(SourceId::new("arbiters"), "arbiter")
        });
        let r = shift(&f, 10.0, &[]);
        assert_eq!(state(&r, GuardKey::Arbiter), GuardState::Failed);
        assert!(reasons(&r).contains("not been probed yet"), "{}", reasons(&r));
    }

    #[test]
    fn an_unusable_lag_does_not_hide_a_failing_one() {
        let mut f = estate();
        let lag = |name: &str, value: f64| Replication {
            kind: ReplicationKind::Database,
            name: name.into(),
            from: CloudKind::Aws,
            to: CloudKind::Azure,
            value,
            target: 30.0,
        };
        f.replication = vec![lag("broken", f64::NAN), lag("orders", 45.0)];
        assert_eq!(state(&shift(&f, 10.0, &[]), GuardKey::Rpo), GuardState::Failed);
        f.replication = vec![lag("broken", f64::NAN), lag("orders", 4.0)];
        assert_eq!(state(&shift(&f, 10.0, &[]), GuardKey::Rpo), GuardState::Unknown);
    }

    #[test]
    fn a_drained_answer_is_not_healthy_by_default() {
        let mut f = estate();
        // Azure's answer was disabled by a drain: not probed, so not known healthy.
        f.policies[0].endpoints[1].health = Health::Idle;
        let r = shift(&f, 10.0, &[]);
        assert_eq!(state(&r, GuardKey::Healthy), GuardState::Unknown, "{r:?}");
        assert!(all_passed(&r), "unknown warns, it does not refuse");
    }
}
