//! The failover RTO tracker: pure bookkeeping of which phase of a sent failover
//! was seen done when. No I/O and no clock: the follower (`rto_follow`) feeds it
//! events with their times, so tests can replay any sequence.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::actions::{AuditRecord, Outcome};
pub use crate::model::rto::{Answer, ResolverSample};
use crate::model::rto::{CloudShare, ResolverRound, Rto};
use crate::model::{Change, CloudKind, Fleet, Plan, TrafficPolicy};

/// Share points a reading may differ from the plan by (plus 3 sigma for samples).
pub const TOLERANCE: f64 = 0.05;

/// What the follow expects to see: each cloud's planned share and which answer
/// targets belong to which cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub policy: String,
    /// Planned share per cloud, 0..1, each cloud of the policy once.
    pub shares: Vec<(CloudKind, f64)>,
    /// (normalised target, cloud) of every endpoint of the policy.
    pub targets: Vec<(String, CloudKind)>,
}

impl Expectation {
    /// The expectation of a weight plan on the policy as `fleet` shows it, or None
    /// when the plan changes no weights (not a failover) or the policy is gone.
    pub fn of(plan: &Plan, fleet: &Fleet) -> Option<Expectation> {
        let name = plan.changes.iter().find_map(|c| match c {
            Change::Weight { policy, .. } => Some(policy.clone()),
            _ => None,
        })?;
        let policy = fleet.policies.iter().find(|p| p.name == name)?;
        Some(Expectation::after(plan, policy))
    }

    /// The expectation of `plan` applied to `policy`.
    pub fn after(plan: &Plan, policy: &TrafficPolicy) -> Expectation {
        let mut after = policy.clone();
        for e in &mut after.endpoints {
            if let Some(Change::Weight { after: w, .. }) = plan.changes.iter().find(|c| {
                matches!(c, Change::Weight { policy: p, cloud, endpoint, .. }
                    if *p == policy.name && *cloud == e.cloud && *endpoint == e.name)
            }) {
                e.weight = *w;
            }
        }
        let mut shares: Vec<(CloudKind, f64)> = Vec::new();
        for (e, s) in after.endpoints.iter().zip(after.shares()) {
            match shares.iter_mut().find(|(c, _)| *c == e.cloud) {
                Some((_, total)) => *total += s,
                None => shares.push((e.cloud, s)),
            }
        }
        let targets = after.endpoints.iter().map(|e| (normal(&e.target), e.cloud)).collect();
        Expectation { policy: policy.name.clone(), shares, targets }
    }

    /// The cloud an answer belongs to: an IP or a CNAME chain name equal to an
    /// endpoint's target (case-insensitive, trailing dot ignored).
    pub fn cloud_of(&self, answer: &Answer) -> Option<CloudKind> {
        let ips = answer.ips.iter().map(IpAddr::to_string);
        let names = answer.names.iter().map(|n| normal(n));
        ips.chain(names).find_map(|k| self.targets.iter().find(|(t, _)| *t == k).map(|(_, c)| *c))
    }
}

fn normal(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `count` of `n` answers is the `planned` share within 5 points plus 3
/// sigma of a binomial sample of `n` (so 0 % and 100 % must hold within 5 points).
pub fn within_tolerance(count: u32, n: u32, planned: f64) -> bool {
    if n == 0 {
        return false;
    }
    let n_f = f64::from(n);
    let observed = f64::from(count) / n_f;
    let sigma = (planned * (1.0 - planned) / n_f).max(0.0).sqrt();
    (observed - planned).abs() <= TOLERANCE + 3.0 * sigma + 1e-9
}

/// Follows one failover's phases.
#[derive(Debug, Clone)]
pub struct Tracker {
    rto: Rto,
    expect: Expectation,
}

impl Tracker {
    pub fn new(
        action: String,
        expect: Expectation,
        sent_at: DateTime<Utc>,
        predicted_secs: Option<u32>,
        deadline_secs: u32,
    ) -> Tracker {
        let rto = Rto {
            action,
            policy: expect.policy.clone(),
            sent_at,
            accepted_at: None,
            in_sync_at: None,
            resolvers_at: None,
            traffic_at: None,
            predicted_secs,
            finished_at: None,
            timed_out: false,
            deadline_secs,
            resolvers: Vec::new(),
            traffic: Vec::new(),
            traffic_unknown: None,
        };
        Tracker { rto, expect }
    }

    pub fn rto(&self) -> &Rto {
        &self.rto
    }

    pub fn finished(&self) -> bool {
        self.rto.finished_at.is_some()
    }

    /// The write's answer arrived at `at`.
    pub fn accepted(&mut self, at: DateTime<Utc>) {
        self.mark(|r| &mut r.accepted_at, at);
    }

    /// The DNS provider said the change is in sync (or a fresh read showed it).
    pub fn in_sync(&mut self, at: DateTime<Utc>) {
        self.mark(|r| &mut r.in_sync_at, at);
    }

    /// One round of queries through every resolver. Done when every resolver
    /// answered and each cloud's share is within tolerance at each of them.
    pub fn resolver_round(&mut self, at: DateTime<Utc>, samples: &[ResolverSample]) {
        if self.finished() {
            return;
        }
        let rounds: Vec<ResolverRound> = samples.iter().map(|s| self.judge_resolver(at, s)).collect();
        let all = !rounds.is_empty() && rounds.iter().all(|r| r.matches_plan);
        self.rto.resolvers = rounds;
        if all {
            self.mark(|r| &mut r.resolvers_at, at);
        }
    }

    fn judge_resolver(&self, at: DateTime<Utc>, s: &ResolverSample) -> ResolverRound {
        let mut counts: Vec<u32> = vec![0; self.expect.shares.len()];
        let (mut answers, mut unmatched, mut failed, mut error) = (0u32, 0u32, 0u32, None);
        for a in &s.answers {
            match a {
                Ok(answer) => {
                    answers += 1;
                    match self
                        .expect
                        .cloud_of(answer)
                        .and_then(|c| self.expect.shares.iter().position(|(k, _)| *k == c))
                    {
                        Some(i) => counts[i] += 1,
                        None => unmatched += 1,
                    }
                }
                Err(e) => {
                    failed += 1;
                    error = Some(e.clone());
                }
            }
        }
        // Unmatched answers stay in the denominator: a resolver handing out
        // something else has not moved to the plan.
        let matches_plan =
            answers > 0 && self.expect.shares.iter().zip(&counts).all(|((_, p), n)| within_tolerance(*n, answers, *p));
        let clouds = self
            .expect
            .shares
            .iter()
            .zip(&counts)
            .map(|((cloud, planned), n)| CloudShare {
                cloud: *cloud,
                planned: *planned,
                observed: (answers > 0).then(|| f64::from(*n) / f64::from(answers)),
            })
            .collect();
        ResolverRound { resolver: s.resolver.clone(), at, answers, clouds, unmatched, failed, error, matches_plan }
    }

    /// A reading of requests/s per cloud (each region's figure, None = unknown).
    /// Done when every cloud's share of the sum is within 5 points of the plan; a
    /// cloud of the plan with an unknown rps makes the reading unknown.
    pub fn traffic(&mut self, at: DateTime<Utc>, rps: &[(CloudKind, Option<f64>)]) {
        if self.finished() {
            return;
        }
        let mut per_cloud: Vec<(CloudKind, f64, Option<f64>)> = Vec::new();
        let mut unknown: Vec<&'static str> = Vec::new();
        for (cloud, planned) in &self.expect.shares {
            let figures: Vec<Option<f64>> = rps.iter().filter(|(c, _)| c == cloud).map(|(_, r)| *r).collect();
            let sum = if figures.is_empty() || figures.iter().any(Option::is_none) {
                unknown.push(cloud.slug());
                None
            } else {
                Some(figures.iter().flatten().sum::<f64>())
            };
            per_cloud.push((*cloud, *planned, sum));
        }
        let total: f64 = per_cloud.iter().filter_map(|(_, _, r)| *r).sum();
        let why = if !unknown.is_empty() {
            Some(format!("rps of {} unknown", unknown.join(", ")))
        } else if total <= 0.0 {
            Some("no requests measured".to_string())
        } else {
            None
        };
        self.rto.traffic = per_cloud
            .iter()
            .map(|(cloud, planned, r)| CloudShare {
                cloud: *cloud,
                planned: *planned,
                observed: r.filter(|_| why.is_none()).map(|r| r / total),
            })
            .collect();
        let done = why.is_none()
            && self.rto.traffic.iter().all(|c| c.observed.is_some_and(|o| (o - c.planned).abs() <= TOLERANCE + 1e-9));
        self.rto.traffic_unknown = why;
        if done {
            self.mark(|r| &mut r.traffic_at, at);
        }
    }

    /// The clock moved on: past the deadline, the follow ends with what it has.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        if !self.finished() && now - self.rto.sent_at >= chrono::Duration::seconds(i64::from(self.rto.deadline_secs)) {
            self.rto.timed_out = true;
            self.rto.finished_at = Some(now);
        }
    }

    /// Set a phase's time once (the first observation counts); finish when all are done.
    fn mark(&mut self, phase: impl Fn(&mut Rto) -> &mut Option<DateTime<Utc>>, at: DateTime<Utc>) {
        if self.finished() {
            return;
        }
        let slot = phase(&mut self.rto);
        if slot.is_none() {
            *slot = Some(at);
        }
        if self.rto.all_done() {
            self.rto.finished_at = self.rto.phases().iter().filter_map(|(_, t)| *t).max();
        }
    }
}

/// The follow-up audit line of a finished follow: the executed line's action,
/// target and source, outcome `measured`, stamped when the follow ended.
pub fn measured_line(executed: &AuditRecord, rto: Rto) -> AuditRecord {
    AuditRecord {
        time: rto.finished_at.unwrap_or(rto.sent_at),
        outcome: Outcome::Measured,
        forced: None,
        error: None,
        rto: Some(rto),
        ..executed.clone()
    }
}

#[cfg(test)]
#[path = "rto_tests.rs"]
mod tests;
