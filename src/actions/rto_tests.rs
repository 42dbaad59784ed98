//! The tracker against generated sequences of events whose phase times are
//! known by construction, and its arithmetic against hand-computed cases.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::model::{Endpoint, Health, Intent, PolicyKind, SourceId};

/// splitmix64, as the test estates use.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// lo..=hi
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn t0() -> DateTime<Utc> {
    crate::clock::reference_instant()
}

fn endpoint(name: &str, cloud: CloudKind, target: &str, weight: u32) -> Endpoint {
    Endpoint { name: name.into(), cloud, target: target.into(), weight, health: Health::Ok, check: String::new() }
}

fn policy(endpoints: Vec<Endpoint>) -> TrafficPolicy {
    TrafficPolicy {
        detection: None,
        source: SourceId::new("aws-global"),
        name: "www.example.com".into(),
        kind: PolicyKind::Route53,
        ttl_secs: 60,
        endpoints,
    }
}

/// A failover plan moving every weight of `from` to the other endpoints.
fn drain_plan(p: &TrafficPolicy, from: CloudKind) -> Plan {
    let mut after = p.clone();
    for e in &mut after.endpoints {
        if e.cloud == from {
            e.weight = 0;
        }
    }
    let changes = p
        .endpoints
        .iter()
        .zip(&after.endpoints)
        .zip(p.shares().into_iter().zip(after.shares()))
        .filter(|((b, a), _)| b.weight != a.weight)
        .map(|((b, a), (sb, sa))| Change::Weight {
            policy: p.name.clone(),
            cloud: b.cloud,
            endpoint: b.name.clone(),
            before: b.weight,
            after: a.weight,
            share_before: sb,
            share_after: sa,
        })
        .collect();
    Plan {
        intent: Intent::Drain { cloud: from },
        source: p.source.clone(),
        target: from.slug().into(),
        changes,
        based_on: None,
        time_to_effect_secs: Some(p.ttl_secs),
        effect: None,
    }
}

fn ip_answer(ip: [u8; 4]) -> Answer {
    Answer { names: vec![], ips: vec![IpAddr::V4(Ipv4Addr::from(ip))] }
}

/// `n` answers in the given per-endpoint shares (largest remainder), as a
/// resolver that has the weights would hand them out over many queries.
fn answers_in_shares(answers: &[Answer], shares: &[f64], n: usize) -> Vec<Answer> {
    let exact: Vec<f64> = shares.iter().map(|s| s * n as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| (exact[*b] - exact[*b].floor()).total_cmp(&(exact[*a] - exact[*a].floor())));
    let short = n.saturating_sub(counts.iter().sum());
    for i in order.into_iter().take(short) {
        counts[i] += 1;
    }
    answers.iter().zip(counts).flat_map(|(a, c)| std::iter::repeat_n(a.clone(), c)).collect()
}

/// The truth of one generated follow: the phase times it must report.
#[derive(Debug, PartialEq)]
struct Truth {
    accepted: Option<DateTime<Utc>>,
    in_sync: Option<DateTime<Utc>>,
    resolvers: Option<DateTime<Utc>>,
    traffic: Option<DateTime<Utc>>,
    timed_out: bool,
    finished: Option<DateTime<Utc>>,
}

#[test]
fn generated_follows_report_the_first_poll_that_saw_each_phase() {
    let clouds = [CloudKind::Aws, CloudKind::Azure, CloudKind::Aliyun];
    let mut seen_timeouts = 0;
    let mut seen_unknown = 0;
    for seed in 0..80u64 {
        let mut rng = Rng(seed ^ 0x5254_4f00);
        // Some follows have a resolver that always hands out a stray answer, or a
        // cloud whose rps nobody measures: those phases are never reached. (A
        // stray answer is 12.5 points off a cloud planned at 100 %, which two
        // clouds give; with a split the 3 sigma of 8 samples would absorb it.)
        let stray = rng.chance(20);
        let unknown_rps = rng.chance(20);
        // The estate: 2 or 3 clouds, 1 or 2 answers each, IP or hostname targets.
        let n_clouds = if stray { 2 } else { rng.int(2, 3) as usize };
        let mut eps = Vec::new();
        let mut answer_of = Vec::new();
        for (ci, cloud) in clouds.iter().take(n_clouds).enumerate() {
            // AWS (drained) holds at least a fifth before, so 8 samples of the old
            // weights always show it (>= 1 answer, more than 5 points off 0 %).
            let (lo, hi) = if *cloud == CloudKind::Aws { (100, 200) } else { (1, 100) };
            for k in 0..rng.int(1, 2) {
                let name = format!("{}-{k}", cloud.slug());
                if rng.chance(50) {
                    let ip = [10, ci as u8, k as u8, 7];
                    eps.push(endpoint(&name, *cloud, &format!("10.{ci}.{k}.7"), rng.int(lo, hi) as u32));
                    answer_of.push(ip_answer(ip));
                } else {
                    // Case and trailing dot differ between the policy and the answers.
                    let host = format!("Front-{ci}-{k}.Example.NET");
                    eps.push(endpoint(&name, *cloud, &host, rng.int(lo, hi) as u32));
                    let chain = vec!["www.example.com.".into(), format!("{}.", host.to_lowercase())];
                    answer_of.push(Answer { names: chain, ips: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))] });
                }
            }
        }
        let before = policy(eps);
        let plan = drain_plan(&before, CloudKind::Aws);
        let expect = Expectation::after(&plan, &before);
        let mut after = before.clone();
        for e in &mut after.endpoints {
            if e.cloud == CloudKind::Aws {
                e.weight = 0;
            }
        }

        // The truth: when each thing happens, and the polls that see it.
        let sent = t0() + Duration::seconds(rng.int(0, 1000));
        let accepted = sent + Duration::milliseconds(rng.int(100, 2000));
        let sync = accepted + Duration::seconds(rng.int(0, 60));
        let n_resolvers = rng.int(1, 3) as usize;
        let switch: Vec<DateTime<Utc>> = (0..n_resolvers).map(|_| sync + Duration::seconds(rng.int(0, 120))).collect();
        let latest_switch = switch.iter().max().copied().unwrap_or(sync);
        let traffic_moves = latest_switch + Duration::seconds(rng.int(0, 120));
        let period = Duration::seconds(rng.int(2, 5));
        let deadline = 600u32;
        let polls: Vec<DateTime<Utc>> =
            (1..).map(|i| sent + period * i).take_while(|t| *t <= sent + Duration::seconds(700)).collect();
        let first_poll_at_or_after = |t: DateTime<Utc>| polls.iter().copied().find(|p| *p >= t);
        let deadline_poll = first_poll_at_or_after(sent + Duration::seconds(i64::from(deadline)));
        let mut truth = Truth {
            accepted: Some(accepted),
            in_sync: first_poll_at_or_after(sync),
            resolvers: (!stray).then(|| first_poll_at_or_after(latest_switch)).flatten(),
            traffic: (!unknown_rps).then(|| first_poll_at_or_after(traffic_moves)).flatten(),
            timed_out: false,
            finished: None,
        };
        let reached = [truth.accepted, truth.in_sync, truth.resolvers, truth.traffic];
        let by_deadline = |t: &Option<DateTime<Utc>>| t.is_some_and(|t| deadline_poll.is_none_or(|d| t <= d));
        if reached.iter().all(by_deadline) {
            truth.finished = reached.iter().flatten().max().copied();
        } else {
            // A phase seen after the deadline poll does not count.
            truth.timed_out = true;
            truth.finished = deadline_poll;
            for p in [&mut truth.in_sync, &mut truth.resolvers, &mut truth.traffic] {
                if !by_deadline(p) {
                    *p = None;
                }
            }
        }

        // Feed the tracker what the follower would see at each poll.
        let mut tracker = Tracker::new(plan.intent.to_string(), expect, sent, Some(60), deadline);
        tracker.accepted(accepted);
        for now in &polls {
            if *now >= sync {
                tracker.in_sync(*now);
            }
            let samples: Vec<ResolverSample> = switch
                .iter()
                .enumerate()
                .map(|(i, at)| {
                    let shares = if *now >= *at { after.shares() } else { before.shares() };
                    let mut answers: Vec<Result<Answer, String>> =
                        answers_in_shares(&answer_of, &shares, 8).into_iter().map(Ok).collect();
                    if stray && i == 0 {
                        answers[0] = Ok(ip_answer([203, 0, 113, 9]));
                    }
                    // A lost query now and then is not an answer either way.
                    if rng.chance(10) {
                        answers.push(Err("timed out".into()));
                    }
                    ResolverSample { resolver: format!("r{i}"), answers }
                })
                .collect();
            tracker.resolver_round(*now, &samples);
            let moved = *now >= traffic_moves;
            let shares = if moved { after.shares() } else { before.shares() };
            let rps: Vec<(CloudKind, Option<f64>)> = before
                .endpoints
                .iter()
                .zip(shares)
                .map(|(e, s)| (e.cloud, (!(unknown_rps && e.cloud == CloudKind::Azure)).then_some(s * 1000.0)))
                .collect();
            tracker.traffic(*now, &rps);
            tracker.tick(*now);
            if tracker.finished() {
                break;
            }
        }
        let r = tracker.rto();
        let got = Truth {
            accepted: r.accepted_at,
            in_sync: r.in_sync_at,
            resolvers: r.resolvers_at,
            traffic: r.traffic_at,
            timed_out: r.timed_out,
            finished: r.finished_at,
        };
        assert_eq!(got, truth, "seed {seed}");
        if truth.timed_out {
            seen_timeouts += 1;
            // What was not reached says so, never 0.
            let line = r.line();
            assert!(line.contains("not reached in 600 s"), "seed {seed}: {line}");
        }
        if stray {
            let detail = r.detail().join("\n");
            assert!(
                detail.contains("resolver r0: 8 answers") && detail.contains("1 answers matched no endpoint"),
                "seed {seed}: {detail}"
            );
        }
        if unknown_rps {
            seen_unknown += 1;
            assert_eq!(r.traffic_unknown.as_deref(), Some("rps of azure unknown"), "seed {seed}");
        }
    }
    // The generator exercised both endings.
    assert!(seen_timeouts > 5 && seen_timeouts < 60, "{seen_timeouts}");
    assert!(seen_unknown > 5, "{seen_unknown}");
}

#[test]
fn tolerance_is_five_points_plus_three_sigma() {
    // p = 0.5, n = 100: sigma 0.05, so 0.2 either side.
    assert!(within_tolerance(31, 100, 0.5));
    assert!(within_tolerance(69, 100, 0.5));
    assert!(!within_tolerance(29, 100, 0.5));
    assert!(!within_tolerance(71, 100, 0.5));
    // 0 % and 100 % have no sigma: 5 points exactly.
    assert!(within_tolerance(0, 8, 0.0));
    assert!(!within_tolerance(1, 8, 0.0));
    assert!(within_tolerance(19, 20, 1.0));
    assert!(!within_tolerance(18, 20, 1.0));
    // No answers judge nothing.
    assert!(!within_tolerance(0, 0, 0.0));
}

#[test]
fn answers_match_by_ip_or_cname_chain_ignoring_case_and_trailing_dot() {
    let p = policy(vec![
        endpoint("aws", CloudKind::Aws, "web-1.ELB.amazonaws.com.", 0),
        endpoint("azure", CloudKind::Azure, "20.1.2.3", 100),
    ]);
    let plan = drain_plan(&p, CloudKind::Aws);
    let e = Expectation::after(&plan, &p);
    let cname = Answer { names: vec!["www.example.com".into(), "WEB-1.elb.amazonaws.com".into()], ips: vec![] };
    assert_eq!(e.cloud_of(&cname), Some(CloudKind::Aws));
    assert_eq!(e.cloud_of(&ip_answer([20, 1, 2, 3])), Some(CloudKind::Azure));
    assert_eq!(e.cloud_of(&ip_answer([20, 1, 2, 4])), None);
}

#[test]
fn unknown_rps_is_never_a_pass_and_unmatched_answers_count_against() {
    let p = policy(vec![
        endpoint("aws", CloudKind::Aws, "1.1.1.1", 50),
        endpoint("azure", CloudKind::Azure, "2.2.2.2", 50),
    ]);
    let plan = drain_plan(&p, CloudKind::Aws);
    let mut t = Tracker::new("drain aws".into(), Expectation::after(&plan, &p), t0(), None, 30);
    // Azure is planned at 100 %; aws reads 0 rps but azure is unknown.
    t.traffic(t0() + Duration::seconds(5), &[(CloudKind::Aws, Some(0.0)), (CloudKind::Azure, None)]);
    assert_eq!(t.rto().traffic_at, None);
    assert_eq!(t.rto().phase_text("traffic", None), "traffic unknown");
    // 7 of 8 answers are azure's, one is nobody's: 87.5 % is not 100 %.
    let mut answers: Vec<Result<Answer, String>> = vec![Ok(ip_answer([2, 2, 2, 2])); 7];
    answers.push(Ok(ip_answer([9, 9, 9, 9])));
    t.resolver_round(t0() + Duration::seconds(5), &[ResolverSample { resolver: "1.1.1.1".into(), answers }]);
    assert_eq!(t.rto().resolvers_at, None);
    assert_eq!(t.rto().resolvers[0].unmatched, 1);
    t.tick(t0() + Duration::seconds(30));
    assert!(t.rto().timed_out);
    assert_eq!(
        t.rto().line(),
        "drain aws: accepted not reached in 30 s · in sync not reached in 30 s · resolvers not reached in 30 s · traffic not reached in 30 s"
    );
}

#[test]
fn the_line_shows_done_phases_in_seconds_and_waiting_ones_as_ellipsis() {
    let p = policy(vec![
        endpoint("aws", CloudKind::Aws, "1.1.1.1", 50),
        endpoint("azure", CloudKind::Azure, "2.2.2.2", 50),
    ]);
    let plan = drain_plan(&p, CloudKind::Aws);
    let mut t = Tracker::new("failover aws -> azure".into(), Expectation::after(&plan, &p), t0(), Some(90), 600);
    t.accepted(t0() + Duration::milliseconds(400));
    t.in_sync(t0() + Duration::seconds(21));
    assert_eq!(t.rto().line(), "failover aws -> azure: accepted 0.4s · in sync 21s · resolvers … · traffic …");
    // A later observation does not move a phase already seen.
    t.in_sync(t0() + Duration::seconds(25));
    assert_eq!(t.rto().in_sync_at, Some(t0() + Duration::seconds(21)));
}

#[test]
fn the_measured_line_repeats_the_executed_one_with_the_phases() {
    let p = policy(vec![
        endpoint("aws", CloudKind::Aws, "1.1.1.1", 50),
        endpoint("azure", CloudKind::Azure, "2.2.2.2", 50),
    ]);
    let plan = drain_plan(&p, CloudKind::Aws);
    let mut t = Tracker::new("drain aws".into(), Expectation::after(&plan, &p), t0(), None, 30);
    t.tick(t0() + Duration::seconds(31));
    let checked = crate::actions::Checked { plan, guards: vec![] };
    let actor = crate::model::Actor { user: "oncall".into(), host: "h".into(), ssh_client: None };
    let executed = checked.record(&actor, t0(), crate::actions::Outcome::Executed, None, Some("C1".into()), None);
    let line = measured_line(&executed, t.rto().clone());
    assert_eq!(line.outcome, crate::actions::Outcome::Measured);
    assert_eq!((&line.action, &line.target, &line.source), (&executed.action, &executed.target, &executed.source));
    assert_eq!(line.time, t0() + Duration::seconds(31));
    assert_eq!(line.rto.as_ref(), Some(t.rto()));
    // It reads back, and a line without the field still parses.
    let json = serde_json::to_string(&line).expect("json");
    assert_eq!(serde_json::from_str::<crate::actions::AuditRecord>(&json).ok(), Some(line));
    let old = serde_json::to_string(&executed).expect("json");
    assert!(!old.contains("\"rto\""));
    assert_eq!(serde_json::from_str::<crate::actions::AuditRecord>(&old).ok(), Some(executed));
}
