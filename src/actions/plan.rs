//! Plan: the exact change an intent makes, as before → after, computed from the
//! Fleet the operator is looking at. Nothing here talks to a provider.

use crate::model::{AlertMark, Change, CloudKind, Fleet, Intent, Plan, TrafficPolicy};

/// Compute the plan for `intent` on `fleet`, or say why there is none.
pub fn plan(intent: &Intent, fleet: &Fleet) -> Result<Plan, String> {
    match intent {
        Intent::Shift { from, to, percent } => {
            let policy = policy_with(fleet, &[*from, *to])?;
            let total: u32 = policy.endpoints.iter().map(|e| e.weight).sum();
            let from_w: u32 = weight_of(policy, *from);
            if from_w == 0 {
                return Err(format!("{} already has weight 0 in {}", from.label(), policy.name));
            }
            let moved = match percent {
                None => from_w,
                Some(p) => {
                    let moved = (p / 100.0 * f64::from(total)).round() as u32;
                    if moved > from_w {
                        return Err(format!(
                            "{} has only {:.0}% of {} to move",
                            from.label(),
                            f64::from(from_w) * 100.0 / f64::from(total.max(1)),
                            policy.name
                        ));
                    }
                    moved.max(1)
                }
            };
            // The moved weight leaves the source cloud's answers and reaches the
            // target's in proportion to what each holds, so the cloud as a whole moves
            // by the percent asked however many answers (regions) it has.
            let of = |cloud: CloudKind| -> Vec<usize> {
                policy.endpoints.iter().enumerate().filter(|(_, e)| e.cloud == cloud).map(|(i, _)| i).collect()
            };
            let (from_ix, to_ix) = (of(*from), of(*to));
            let w = |ix: &[usize]| ix.iter().map(|i| policy.endpoints[*i].weight).collect::<Vec<u32>>();
            let mut delta = vec![0i64; policy.endpoints.len()];
            for (i, d) in from_ix.iter().zip(apportion(moved, &w(&from_ix))) {
                delta[*i] -= i64::from(d);
            }
            for (i, d) in to_ix.iter().zip(apportion(moved, &w(&to_ix))) {
                delta[*i] += i64::from(d);
            }
            weights_plan(
                intent,
                policy,
                to.slug(),
                |i, e| u32::try_from((i64::from(e.weight) + delta[i]).max(0)).unwrap_or(e.weight),
                fleet,
            )
        }
        Intent::Drain { cloud } => {
            let policy = policy_with(fleet, &[*cloud])?;
            let others: u32 = policy.endpoints.iter().filter(|e| e.cloud != *cloud).map(|e| e.weight).sum();
            if others == 0 {
                return Err(format!("draining {} would leave {} with no weighted answer", cloud.label(), policy.name));
            }
            weights_plan(intent, policy, cloud.slug(), |_, e| if e.cloud == *cloud { 0 } else { e.weight }, fleet)
        }
        Intent::SetWeights { policy: name, weights } => {
            let policy = fleet
                .policies
                .iter()
                .find(|p| &p.name == name)
                .ok_or_else(|| format!("no traffic policy named {name}"))?;
            if weights.iter().map(|a| a.weight).sum::<u32>() == 0 {
                return Err("at least one weight must stay above 0".into());
            }
            weights_plan(
                intent,
                policy,
                &policy.name.clone(),
                |_, e| {
                    weights.iter().find(|a| a.cloud == e.cloud && a.endpoint == e.name).map_or(e.weight, |a| a.weight)
                },
                fleet,
            )
        }
        Intent::Scale { cloud, group, desired } => {
            let g = fleet
                .groups
                .iter()
                .find(|g| g.cloud == *cloud && &g.name == group)
                .ok_or_else(|| format!("no scaling group {}/{group}", cloud.slug()))?;
            if g.desired == *desired {
                return Err(format!("{}/{group} already has desired capacity {desired}", cloud.slug()));
            }
            Ok(Plan {
                intent: intent.clone(),
                source: g.source.clone(),
                target: format!("{}/{group}", cloud.slug()),
                changes: vec![Change::Capacity {
                    cloud: *cloud,
                    group: group.clone(),
                    before: g.desired,
                    after: *desired,
                    min: g.min,
                    max: g.max,
                }],
                based_on: fleet.built_at,
                time_to_effect_secs: None,
                effect: None,
            })
        }
        Intent::Ack { alert_id, comment, minutes } => {
            alert_plan(intent, fleet, alert_id, AlertMark::Acked, comment.clone(), *minutes)
        }
        Intent::Unack { alert_id } => alert_plan(intent, fleet, alert_id, AlertMark::Firing, String::new(), None),
    }
}

fn alert_plan(
    intent: &Intent,
    fleet: &Fleet,
    alert_id: &str,
    after: AlertMark,
    comment: String,
    minutes: Option<u32>,
) -> Result<Plan, String> {
    let a = fleet.alerts.iter().find(|a| a.id == alert_id).ok_or_else(|| format!("no alert with id {alert_id}"))?;
    Ok(Plan {
        intent: intent.clone(),
        source: a.source.clone(),
        target: alert_id.to_string(),
        changes: vec![Change::AlertState {
            id: alert_id.to_string(),
            title: a.title.clone(),
            before: a.state.label().to_string(),
            after,
            comment,
            minutes,
        }],
        based_on: fleet.built_at,
        time_to_effect_secs: None,
        effect: None,
    })
}

fn policy_with<'f>(fleet: &'f Fleet, clouds: &[CloudKind]) -> Result<&'f TrafficPolicy, String> {
    fleet.policies.iter().find(|p| clouds.iter().all(|c| p.endpoints.iter().any(|e| e.cloud == *c))).ok_or_else(|| {
        let names: Vec<&str> = clouds.iter().map(|c| c.label()).collect();
        format!("no traffic policy has answers in {}", names.join(" and "))
    })
}

fn weight_of(policy: &TrafficPolicy, cloud: CloudKind) -> u32 {
    policy.endpoints.iter().filter(|e| e.cloud == cloud).map(|e| e.weight).sum()
}

/// `amount` split over `weights` in proportion (largest remainders get the
/// rounding; evenly when all are 0). The parts add up to `amount`.
fn apportion(amount: u32, weights: &[u32]) -> Vec<u32> {
    if weights.is_empty() {
        return vec![];
    }
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    let shares: Vec<u64> =
        if total == 0 { vec![1; weights.len()] } else { weights.iter().map(|w| u64::from(*w)).collect() };
    let sum: u64 = shares.iter().sum();
    let exact: Vec<(u64, u64)> =
        shares.iter().map(|s| (u64::from(amount) * s / sum, u64::from(amount) * s % sum)).collect();
    let mut parts: Vec<u32> = exact.iter().map(|(q, _)| u32::try_from(*q).unwrap_or(u32::MAX)).collect();
    let short = amount.saturating_sub(parts.iter().sum());
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order.into_iter().take(short as usize) {
        parts[i] += 1;
    }
    parts
}

/// A plan that changes the weights of `policy` by `new_weight(index, endpoint)`.
fn weights_plan(
    intent: &Intent,
    policy: &TrafficPolicy,
    target: &str,
    new_weight: impl Fn(usize, &crate::model::Endpoint) -> u32,
    fleet: &Fleet,
) -> Result<Plan, String> {
    let mut after = policy.clone();
    for (i, e) in after.endpoints.iter_mut().enumerate() {
        e.weight = new_weight(i, &policy.endpoints[i]);
    }
    let (before_shares, after_shares) = (policy.shares(), after.shares());
    let changes: Vec<Change> = policy
        .endpoints
        .iter()
        .zip(&after.endpoints)
        .zip(before_shares.iter().zip(&after_shares))
        .filter(|((b, a), _)| b.weight != a.weight)
        .map(|((b, a), (sb, sa))| Change::Weight {
            policy: policy.name.clone(),
            cloud: b.cloud,
            endpoint: b.name.clone(),
            before: b.weight,
            after: a.weight,
            share_before: *sb,
            share_after: *sa,
        })
        .collect();
    if changes.is_empty() {
        return Err(format!("{} already has those weights", policy.name));
    }
    Ok(Plan {
        intent: intent.clone(),
        source: policy.source.clone(),
        target: target.to_string(),
        changes,
        based_on: fleet.built_at,
        // Clients follow within the TTL; when the DNS service fails over by
        // itself, its health checks take their time first.
        time_to_effect_secs: Some(policy.ttl_secs.saturating_add(policy.detection.map_or(0, |d| d.secs()))),
        effect: policy.detection.map(|_| effect_words(policy)),
    })
}

/// "TTL 60 s + detection 3×30 s", or "TTL 60 s" without automatic failover.
pub fn effect_words(policy: &TrafficPolicy) -> String {
    match policy.detection {
        Some(d) => format!("TTL {} s + detection {}×{} s", policy.ttl_secs, d.failures, d.interval_secs),
        None => format!("TTL {} s", policy.ttl_secs),
    }
}

/// Share each cloud gets after the plan, as the guards need it.
pub fn shares_after(plan: &Plan, fleet: &Fleet) -> Vec<(CloudKind, f64, f64)> {
    let mut out = Vec::new();
    for c in &plan.changes {
        if let Change::Weight { policy, .. } = c {
            let Some(p) = fleet.policies.iter().find(|p| &p.name == policy) else {
                continue;
            };
            let mut after = p.clone();
            for e in &mut after.endpoints {
                if let Some(Change::Weight { after: w, .. }) = plan.changes.iter().find(
                    |ch| matches!(ch, Change::Weight { cloud, endpoint, .. } if *cloud == e.cloud && *endpoint == e.name),
                ) {
                    e.weight = *w;
                }
            }
            for ((e, sb), sa) in p.endpoints.iter().zip(p.shares()).zip(after.shares()) {
                out.push((e.cloud, sb, sa));
            }
            break;
        }
    }
    out
}

#[cfg(test)]
mod effect_tests {
    use super::*;
    use crate::model::{Detection, Endpoint, Health, PolicyKind, SourceId};

    fn fleet(detection: Option<Detection>) -> Fleet {
        let ep = |cloud: CloudKind, weight| Endpoint {
            name: cloud.slug().into(),
            cloud,
            target: format!("{}.example.net", cloud.slug()),
            weight,
            health: Health::Ok,
            check: String::new(),
        };
        Fleet {
            policies: vec![TrafficPolicy {
                source: SourceId::new("dns"),
                name: "www.example.com".into(),
                kind: PolicyKind::Route53,
                ttl_secs: 60,
                endpoints: vec![ep(CloudKind::Aws, 1), ep(CloudKind::Azure, 1)],
                detection,
            }],
            ..Fleet::default()
        }
    }

    /// Automatic failover records: the checks' interval × threshold is added to
    /// the TTL, and the plan says so in words; without them, the TTL alone.
    #[test]
    fn the_time_to_effect_includes_health_check_detection() {
        let drain = Intent::Drain { cloud: CloudKind::Aws };
        let with = plan(&drain, &fleet(Some(Detection { interval_secs: 30, failures: 3 }))).expect("plan");
        assert_eq!(with.time_to_effect_secs, Some(150));
        assert_eq!(with.effect.as_deref(), Some("TTL 60 s + detection 3×30 s"));
        let fast = plan(&drain, &fleet(Some(Detection { interval_secs: 10, failures: 2 }))).expect("plan");
        assert_eq!((fast.time_to_effect_secs, fast.effect.as_deref()), (Some(80), Some("TTL 60 s + detection 2×10 s")));
        let without = plan(&drain, &fleet(None)).expect("plan");
        assert_eq!((without.time_to_effect_secs, without.effect), (Some(60), None));
    }
}
