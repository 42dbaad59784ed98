//! The judgements `Fleet::summary` makes on estates unlike the demo: idle and
//! inactive groups, several regions, figures nobody reports, several accounts and
//! currencies, and the demo beside real sources. Fleets are built the way the
//! collector builds them: source reports merged by `Fleet::merge`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-18T14:30:00Z").expect("time").with_timezone(&Utc)
}

fn status(id: &str, kind: &str) -> SourceStatus {
    SourceStatus {
        freshness: Freshness::Fresh,
        last_ok: Some(now()),
        last_attempt: Some(now()),
        interval_secs: 30,
        ..SourceStatus::new(SourceId::new(id), kind)
    }
}

fn group(source: &str, cloud: CloudKind, region: &str, name: &str, desired: u32, healthy: u32) -> ScalingGroup {
    ScalingGroup {
        source: SourceId::new(source),
        cloud,
        region: region.into(),
        name: name.into(),
        min: 0,
        max: 10,
        desired,
        zones: vec![ZoneCapacity { zone: format!("{region}a"), in_service: healthy, healthy }],
        spot_share: 0.0,
        rps_per_instance: None,
        inactive: false,
        instance_type: None,
    }
}

fn metrics(cloud: CloudKind, region: &str, rps: f64, p95_ms: f64, error_rate: f64) -> CloudMetrics {
    CloudMetrics {
        cloud,
        region: region.into(),
        rps: Some(rps),
        p95_ms: Some(p95_ms),
        error_rate: Some(error_rate),
        cpu: Some(0.3),
    }
}

fn cost(cloud: CloudKind, currency: &str, mtd: f64, forecast: Forecast) -> CostSnapshot {
    CostSnapshot { cloud, currency: currency.into(), month_to_date: mtd, forecast, by_service: vec![] }
}

fn fleet(sources: Vec<(SourceStatus, SourceReport)>) -> Fleet {
    let all_demo = sources.iter().all(|(s, _)| s.kind == DEMO_KIND);
    let pairs: Vec<_> = sources.into_iter().map(|(s, r)| (s, Some(Arc::new(r)))).collect();
    Fleet::merge(1, now(), all_demo, &pairs, BTreeMap::new())
}

#[test]
fn a_cloud_whose_every_group_is_idle_or_inactive_is_idle_not_down() {
    let mut inactive = group("ali", CloudKind::Aliyun, "cn-hangzhou", "batch", 2, 0);
    inactive.inactive = true;
    let report = SourceReport {
        groups: vec![group("ali", CloudKind::Aliyun, "cn-hangzhou", "web", 0, 0), inactive].into(),
        ..SourceReport::default()
    };
    let f = fleet(vec![(status("ali", "aliyun"), report)]);
    let s = f.summary(CloudKind::Aliyun, now());
    assert_eq!(s.health, Health::Idle);
    assert_eq!((s.regions[0].groups, s.regions[0].idle_groups), (2, 2));
    assert_eq!(
        f.groups.iter().map(|g| g.idle()).collect::<Vec<_>>(),
        vec![Some(IdleReason::ScaledToZero), Some(IdleReason::Inactive)]
    );
}

#[test]
fn an_idle_group_beside_a_serving_one_leaves_the_cloud_ok_and_a_dead_one_still_down() {
    let report = SourceReport {
        groups: vec![
            group("aws", CloudKind::Aws, "us-east-1", "web", 3, 3),
            group("aws", CloudKind::Aws, "us-east-1", "spare", 0, 0),
            group("aws", CloudKind::Azure, "westeurope", "web", 2, 0),
            group("aws", CloudKind::Azure, "westeurope", "spare", 0, 0),
        ]
        .into(),
        ..SourceReport::default()
    };
    let f = fleet(vec![(status("aws", "aws"), report)]);
    assert_eq!(f.summary(CloudKind::Aws, now()).health, Health::Ok);
    assert_eq!(f.summary(CloudKind::Azure, now()).health, Health::Down);
}

#[test]
fn every_region_of_a_cloud_is_summarised_on_its_own() {
    let east = SourceReport {
        metrics: vec![metrics(CloudKind::Aws, "us-east-1", 300.0, 120.0, 0.002)],
        groups: vec![group("aws-east", CloudKind::Aws, "us-east-1", "web", 4, 4)].into(),
        ..SourceReport::default()
    };
    let west = SourceReport {
        metrics: vec![metrics(CloudKind::Aws, "us-west-2", 100.0, 480.0, 0.02)],
        groups: vec![group("aws-west", CloudKind::Aws, "us-west-2", "web", 4, 2)].into(),
        ..SourceReport::default()
    };
    let f = fleet(vec![(status("aws-east", "aws"), east), (status("aws-west", "aws"), west)]);
    assert_eq!(f.regions(CloudKind::Aws), vec!["us-east-1".to_string(), "us-west-2".to_string()]);
    let s = f.summary(CloudKind::Aws, now());
    let regions: Vec<(&str, Health, Option<f64>)> =
        s.regions.iter().map(|r| (r.region.as_str(), r.health, r.rps)).collect();
    assert_eq!(regions, vec![("us-east-1", Health::Ok, Some(300.0)), ("us-west-2", Health::Degraded, Some(100.0))]);
    assert_eq!((s.rps, s.p95_ms, s.error_rate), (Some(400.0), Some(480.0), Some(0.02)));
    assert_eq!(s.health, Health::Degraded);
    assert_eq!(s.region, "us-east-1, us-west-2");
}

#[test]
fn a_figure_one_region_does_not_report_is_unknown_there_and_left_out_of_the_cloud() {
    let east = SourceReport {
        metrics: vec![metrics(CloudKind::Aws, "us-east-1", 300.0, 120.0, 0.002)],
        ..SourceReport::default()
    };
    // A request rate, but no latency or 5xx figure and no CPU.
    let west = SourceReport {
        metrics: vec![CloudMetrics {
            p95_ms: None,
            error_rate: None,
            cpu: None,
            ..metrics(CloudKind::Aws, "us-west-2", 100.0, 0.0, 0.0)
        }],
        groups: vec![group("aws-west", CloudKind::Aws, "us-west-2", "web", 4, 4)].into(),
        ..SourceReport::default()
    };
    // CPU only: nothing about traffic.
    let north = SourceReport {
        metrics: vec![CloudMetrics {
            rps: None,
            p95_ms: None,
            error_rate: None,
            ..metrics(CloudKind::Aws, "ca-central-1", 0.0, 0.0, 0.0)
        }],
        ..SourceReport::default()
    };
    let f = fleet(vec![
        (status("aws-east", "aws"), east),
        (status("aws-west", "aws"), west),
        (status("aws-north", "aws"), north),
    ]);
    let s = f.summary(CloudKind::Aws, now());
    type Row<'a> = (&'a str, Health, Option<f64>, Option<f64>, Option<f64>);
    let regions: Vec<Row> =
        s.regions.iter().map(|r| (r.region.as_str(), r.health, r.rps, r.p95_ms, r.error_rate)).collect();
    assert_eq!(
        regions,
        vec![
            ("ca-central-1", Health::Unknown, None, None, None),
            ("us-east-1", Health::Ok, Some(300.0), Some(120.0), Some(0.002)),
            ("us-west-2", Health::Ok, Some(100.0), None, None),
        ]
    );
    // Requests summed over the regions that report them; the worst p95 known.
    assert_eq!((s.rps, s.p95_ms, s.error_rate), (Some(400.0), Some(120.0), Some(0.002)));
}

#[test]
fn figures_no_source_reports_are_unknown_and_health_comes_from_what_is_known() {
    // A real estate read without metrics: groups and DNS answers only.
    let report = SourceReport {
        groups: vec![group("az", CloudKind::Azure, "westeurope", "web", 3, 3)].into(),
        policies: vec![TrafficPolicy {
            detection: None,
            source: SourceId::new("az"),
            name: "shop".into(),
            kind: PolicyKind::TrafficManager,
            ttl_secs: 60,
            endpoints: vec![
                Endpoint {
                    name: "azure".into(),
                    cloud: CloudKind::Azure,
                    target: String::new(),
                    weight: 1,
                    health: Health::Ok,
                    check: String::new(),
                },
                // Only known from DNS, with a health nobody checks.
                Endpoint {
                    name: "aws".into(),
                    cloud: CloudKind::Aws,
                    target: String::new(),
                    weight: 1,
                    health: Health::Unknown,
                    check: String::new(),
                },
            ],
        }],
        ..SourceReport::default()
    };
    let f = fleet(vec![(status("az", "azure"), report)]);
    let s = f.summary(CloudKind::Azure, now());
    assert_eq!((s.rps, s.p95_ms, s.error_rate), (None, None, None));
    assert_eq!(s.health, Health::Ok, "judged from its group and its DNS answer");
    assert!(s.costs.is_empty());
    // AWS is seen only as a DNS answer of unknown health: visible, and Unknown.
    assert!(f.clouds().contains(&CloudKind::Aws));
    let aws = f.summary(CloudKind::Aws, now());
    assert_eq!((aws.health, aws.rps, aws.regions.len()), (Health::Unknown, None, 0));
}

#[test]
fn a_stale_source_makes_what_it_said_unknown_not_ok() {
    let report = SourceReport {
        groups: vec![group("aws", CloudKind::Aws, "us-east-1", "web", 3, 3)].into(),
        ..SourceReport::default()
    };
    let mut st = status("aws", "aws");
    st.freshness = Freshness::Stale { reason: "timed out".into() };
    let f = fleet(vec![(st, report)]);
    let s = f.summary(CloudKind::Aws, now());
    assert_eq!((s.health, s.stale), (Health::Unknown, true));
}

#[test]
fn every_account_of_a_cloud_is_summed_per_currency() {
    let sub = |mtd: f64, currency: &str, forecast: Forecast| SourceReport {
        costs: vec![cost(CloudKind::Azure, currency, mtd, forecast)],
        ..SourceReport::default()
    };
    let f = fleet(vec![
        (status("az-a", "azure"), sub(1000.0, "USD", Forecast::RunRate(2000.0))),
        (status("az-b", "azure"), sub(234.0, "USD", Forecast::RunRate(468.0))),
        (status("az-c", "azure"), sub(560.0, "EUR", Forecast::TooEarly)),
        (
            status("aws", "aws"),
            SourceReport {
                costs: vec![cost(CloudKind::Aws, "USD", 50.0, Forecast::Cloud(90.0))],
                ..SourceReport::default()
            },
        ),
    ]);
    let s = f.summary(CloudKind::Azure, now());
    let got: Vec<(&str, f64, Forecast, usize)> =
        s.costs.iter().map(|c| (c.currency.as_str(), c.month_to_date, c.forecast, c.accounts)).collect();
    assert_eq!(got, vec![("EUR", 560.0, Forecast::TooEarly, 1), ("USD", 1234.0, Forecast::RunRate(2468.0), 2)]);
    // A cloud that only reports cost is still on the Overview.
    assert!(f.clouds().contains(&CloudKind::Azure));
    assert_eq!(f.summary(CloudKind::Aws, now()).costs[0].month_to_date, 50.0);
}

#[test]
fn the_demo_beside_real_sources_labels_only_what_it_made() {
    let demo = SourceReport {
        metrics: vec![metrics(CloudKind::Azure, "westeurope", 50.0, 90.0, 0.0)],
        groups: vec![group("demo", CloudKind::Azure, "westeurope", "web-vmss", 2, 2)].into(),
        costs: vec![cost(CloudKind::Azure, "EUR", 10.0, Forecast::Cloud(30.0))],
        ..SourceReport::default()
    };
    let real = SourceReport {
        groups: vec![
            group("aws", CloudKind::Aws, "us-east-1", "web", 2, 2),
            // The real source also has a region of the demo's cloud.
            group("aws", CloudKind::Azure, "northeurope", "bridge", 1, 1),
        ]
        .into(),
        ..SourceReport::default()
    };
    let f = fleet(vec![(status("demo", DEMO_KIND), demo), (status("aws", "aws"), real)]);
    assert!(!f.demo && f.mixes_demo());
    assert!(f.is_demo_source(&SourceId::new("demo")) && !f.is_demo_source(&SourceId::new("aws")));
    assert!(!f.summary(CloudKind::Aws, now()).demo);
    let azure = f.summary(CloudKind::Azure, now());
    assert!(!azure.demo, "half of Azure is real");
    let demo_regions: Vec<(&str, bool)> = azure.regions.iter().map(|r| (r.region.as_str(), r.demo)).collect();
    assert_eq!(demo_regions, vec![("northeurope", false), ("westeurope", true)]);

    // The demo alone: everything is demo and the header says so.
    let only = fleet(vec![(status("demo", DEMO_KIND), SourceReport::default())]);
    assert!(only.demo && !only.mixes_demo());
}

/// A small deterministic PRNG (xorshift64*): the generator's only randomness.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// What the generator meant a region to be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Intent {
    Serving,
    Degraded,
    Down,
    Idle,
}

/// The truth of one generated region, and what it must read as.
#[derive(Debug)]
struct RegionTruth {
    cloud: CloudKind,
    region: String,
    intent: Intent,
    /// Request rate when a front door reports one.
    rps: Option<f64>,
    /// p95 when the front door reports one.
    p95_ms: Option<f64>,
    demo: bool,
}

/// Month to date and number of accounts per cloud and currency.
type MoneyTruth = BTreeMap<(CloudKind, String), (f64, usize)>;

/// Generate an estate (regions with an intended state, accounts in currencies),
/// serve it as source reports, and return the truth beside the fleet.
fn generate(seed: u64) -> (Fleet, Vec<RegionTruth>, MoneyTruth) {
    let mut rng = Rng::new(seed);
    let mut truth = Vec::new();
    let mut money = MoneyTruth::new();
    let mut sources: Vec<(SourceStatus, SourceReport)> = Vec::new();
    let pool = ["r-east", "r-west", "r-north", "r-south"];
    for cloud in CloudKind::ALL {
        if rng.below(5) == 0 {
            continue;
        }
        let n = 1 + rng.below(3) as usize;
        let mut names: Vec<&str> = pool.to_vec();
        for i in 0..n {
            let name = names.remove(rng.below((names.len()) as u64) as usize);
            let demo = rng.below(3) == 0;
            let id = format!("{}-{i}", cloud.slug());
            let kind = if demo { DEMO_KIND } else { cloud.slug() };
            let intent = *rng.pick(&[Intent::Serving, Intent::Degraded, Intent::Down, Intent::Idle]);
            let mut report = SourceReport::default();
            let groups = 1 + rng.below(3) as u32;
            for gi in 0..groups {
                let desired = 1 + rng.below(5) as u32;
                let mut g = group(&id, cloud, name, &format!("g{gi}"), desired, desired);
                match intent {
                    // Idle: every group scaled to zero or switched off.
                    Intent::Idle if rng.below(2) == 0 => {
                        g.desired = 0;
                        g.zones[0] = ZoneCapacity { zone: g.zones[0].zone.clone(), in_service: 0, healthy: 0 };
                    }
                    Intent::Idle => g.inactive = true,
                    // One group short of its desired count, the others whole.
                    Intent::Degraded if gi == 0 => g.desired += 1,
                    Intent::Down if gi == 0 => g.zones[0].healthy = 0,
                    _ => {}
                }
                Arc::make_mut(&mut report.groups).push(g);
            }
            // An idle region's front door serves nothing, so no source reports one.
            // Others: no figures at all, CPU only (no load balancer configured), or
            // a request rate with or without a p95 and an error rate.
            let (mut rps, mut p95_ms) = (None, None);
            match rng.below(3) {
                _ if intent == Intent::Idle => {}
                0 => {}
                1 => report.metrics.push(CloudMetrics {
                    rps: None,
                    p95_ms: None,
                    error_rate: None,
                    ..metrics(cloud, name, 0.0, 0.0, 0.0)
                }),
                _ => {
                    rps = Some(rng.below(5000) as f64);
                    p95_ms = (rng.below(2) == 0).then(|| 50.0 + rng.below(400) as f64);
                    let error_rate = (rng.below(2) == 0).then_some(0.001);
                    report.metrics.push(CloudMetrics {
                        rps,
                        p95_ms,
                        error_rate,
                        ..metrics(cloud, name, 0.0, 0.0, 0.0)
                    });
                }
            }
            for _ in 0..rng.below(3) {
                let currency = *rng.pick(&["USD", "EUR", "CNY"]);
                let mtd = rng.below(10_000) as f64;
                report.costs.push(cost(cloud, currency, mtd, Forecast::Cloud(mtd * 2.0)));
                let e = money.entry((cloud, currency.to_string())).or_insert((0.0, 0));
                e.0 += mtd;
                e.1 += 1;
            }
            sources.push((status(&id, kind), report));
            truth.push(RegionTruth { cloud, region: name.to_string(), intent, rps, p95_ms, demo });
        }
    }
    (fleet(sources), truth, money)
}

fn expected_health(intent: Intent) -> Health {
    match intent {
        Intent::Serving => Health::Ok,
        Intent::Degraded => Health::Degraded,
        Intent::Down => Health::Down,
        Intent::Idle => Health::Idle,
    }
}

/// A cloud reads as its worst region, where idle is better than serving.
fn expected_cloud(intents: &[Intent]) -> Health {
    for (i, h) in [(Intent::Down, Health::Down), (Intent::Degraded, Health::Degraded), (Intent::Serving, Health::Ok)] {
        if intents.contains(&i) {
            return h;
        }
    }
    Health::Idle
}

#[test]
fn generated_estates_read_as_they_were_made() {
    const SEEDS: u64 = 80;
    for seed in 0..SEEDS {
        let (f, truth, money) = generate(seed);
        for cloud in CloudKind::ALL {
            let mine: Vec<&RegionTruth> = truth.iter().filter(|t| t.cloud == cloud).collect();
            if mine.is_empty() {
                assert!(!f.clouds().contains(&cloud), "seed {seed}: {cloud:?} was not generated");
                continue;
            }
            let s = f.summary(cloud, now());
            type Row = (String, Health, Option<f64>, Option<f64>, bool);
            let mut want: Vec<Row> =
                mine.iter().map(|t| (t.region.clone(), expected_health(t.intent), t.rps, t.p95_ms, t.demo)).collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            let got: Vec<Row> =
                s.regions.iter().map(|r| (r.region.clone(), r.health, r.rps, r.p95_ms, r.demo)).collect();
            assert_eq!(got, want, "seed {seed} {cloud:?}");
            let intents: Vec<Intent> = mine.iter().map(|t| t.intent).collect();
            assert_eq!(s.health, expected_cloud(&intents), "seed {seed} {cloud:?} {intents:?}");
            let reported: Vec<f64> = mine.iter().filter_map(|t| t.rps).collect();
            let want_rps = if reported.is_empty() { None } else { Some(reported.iter().sum::<f64>()) };
            assert_eq!(s.rps, want_rps, "seed {seed} {cloud:?}");
            let want_p95 = mine.iter().filter_map(|t| t.p95_ms).reduce(f64::max);
            assert_eq!(s.p95_ms, want_p95, "seed {seed} {cloud:?}: the worst reported p95, unknown if none");
            assert_eq!(s.demo, mine.iter().all(|t| t.demo), "seed {seed} {cloud:?}");
            let want_money: Vec<(String, f64, usize)> = money
                .iter()
                .filter(|((c, _), _)| *c == cloud)
                .map(|((_, cur), (sum, n))| (cur.clone(), *sum, *n))
                .collect();
            let got_money: Vec<(String, f64, usize)> =
                s.costs.iter().map(|c| (c.currency.clone(), c.month_to_date, c.accounts)).collect();
            assert_eq!(got_money, want_money, "seed {seed} {cloud:?}");
        }
    }
}

#[test]
fn a_poll_that_read_the_same_alerts_and_groups_shares_the_last_ones() {
    let alert = |title: &str| Alert {
        id: "a".into(),
        source: SourceId::new("am"),
        cloud: None,
        severity: Severity::P1,
        title: title.into(),
        resource: String::new(),
        started_at: now(),
        state: AlertState::Firing,
        route: String::new(),
        labels: Default::default(),
    };
    let previous = SourceReport {
        alerts: Arc::new(vec![alert("x")]),
        groups: Arc::new(vec![group("am", CloudKind::Aws, "r", "web", 2, 2)]),
        ..SourceReport::default()
    };
    let mut same = SourceReport {
        alerts: Arc::new(vec![alert("x")]),
        groups: Arc::new(vec![group("am", CloudKind::Aws, "r", "web", 2, 2)]),
        ..SourceReport::default()
    };
    same.share_unchanged(&previous);
    assert!(Arc::ptr_eq(&same.alerts, &previous.alerts) && Arc::ptr_eq(&same.groups, &previous.groups));
    let mut changed = SourceReport {
        alerts: Arc::new(vec![alert("y")]),
        groups: Arc::new(vec![group("am", CloudKind::Aws, "r", "web", 3, 2)]),
        ..SourceReport::default()
    };
    changed.share_unchanged(&previous);
    assert!(!Arc::ptr_eq(&changed.alerts, &previous.alerts) && !Arc::ptr_eq(&changed.groups, &previous.groups));
    assert_eq!(changed.alerts[0].title, "y");
}
