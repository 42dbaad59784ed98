//! Generated AWS estates planted in a real moto, exported by the built binary: the
//! scaling groups (desired, min, max, per-zone counts), the DNS answers' weights
//! and health, the alerts and the month's bill in /metrics equal what the
//! generator planted; and two exporters on one config write the same series.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws_seeded::{Estate, Planted};
use crate::exporter::{Exporter, Sample, parse, promtool_check};
use crate::support::moto::Moto;

/// Seeds; 100 puts more groups in its first region than one API page.
pub const SEEDS: [u64; 6] = [100, 101, 103, 104, 107, 109];

/// The region of a source id "gen/<region>".
fn region_of(source: &str) -> String {
    source.rsplit('/').next().unwrap_or_default().to_string()
}

fn family<'a>(samples: &'a [Sample], name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
    samples.iter().filter(move |s| s.name == name)
}

type GroupFigures = (u32, u32, u32, BTreeMap<String, (u32, u32)>);

/// Exported groups by (region, name): (min, max, desired, zone → (in service, healthy)).
pub fn exported_groups(samples: &[Sample]) -> BTreeMap<(String, String), GroupFigures> {
    let mut out: BTreeMap<(String, String), GroupFigures> = BTreeMap::new();
    let key = |s: &Sample| {
        assert_eq!(s.label("cloud"), "aws");
        assert_eq!(region_of(s.label("source")), s.label("region"), "{s:?}");
        (s.label("region").to_string(), s.label("group").to_string())
    };
    for s in samples {
        let row = match s.name.as_str() {
            "opsdeck_group_min"
            | "opsdeck_group_max"
            | "opsdeck_group_desired"
            | "opsdeck_group_zone_in_service"
            | "opsdeck_group_zone_healthy" => out.entry(key(s)).or_default(),
            _ => continue,
        };
        let n = s.value as u32;
        assert_eq!(f64::from(n), s.value, "a count: {s:?}");
        match s.name.as_str() {
            "opsdeck_group_min" => row.0 = n,
            "opsdeck_group_max" => row.1 = n,
            "opsdeck_group_desired" => row.2 = n,
            "opsdeck_group_zone_in_service" => row.3.entry(s.label("zone").to_string()).or_default().0 = n,
            _ => row.3.entry(s.label("zone").to_string()).or_default().1 = n,
        }
    }
    out
}

fn expected_groups(estate: &Estate, planted: &Planted) -> BTreeMap<(String, String), GroupFigures> {
    estate.expected_groups(planted).into_iter().map(|(k, g)| (k, (g.min, g.max, g.desired, g.zones))).collect()
}

/// Exported DNS answers per policy: (endpoint, cloud, weight, HEALTH), sorted, as
/// the generator writes them down.
fn exported_policies(samples: &[Sample]) -> BTreeMap<String, Vec<(String, String, u32, String)>> {
    let health: BTreeMap<(String, String), String> = family(samples, "opsdeck_dns_endpoint_health")
        .map(|s| ((s.label("policy").into(), s.label("endpoint").into()), s.label("health").to_uppercase()))
        .collect();
    let mut out: BTreeMap<String, Vec<(String, String, u32, String)>> = BTreeMap::new();
    for s in family(samples, "opsdeck_dns_weight") {
        assert_eq!(s.label("policy_kind"), "route53");
        let (policy, endpoint) = (s.label("policy").to_string(), s.label("endpoint").to_string());
        let h = health.get(&(policy.clone(), endpoint.clone())).cloned().unwrap_or_default();
        out.entry(policy).or_default().push((endpoint, s.label("cloud").into(), s.value as u32, h));
    }
    for eps in out.values_mut() {
        eps.sort();
    }
    out
}

type AlertIds = BTreeSet<(String, String)>;
type AlertCounts = BTreeMap<(String, String, String), usize>;

/// Exported alerts: ids by region, and counts by (region, SEVERITY, state).
fn exported_alerts(samples: &[Sample]) -> (AlertIds, AlertCounts) {
    let mut ids = BTreeSet::new();
    let mut counts = BTreeMap::new();
    for s in family(samples, "opsdeck_alert") {
        let (region, id, name) = (region_of(s.label("source")), s.label("alert_id"), s.label("name"));
        assert_eq!(s.label("cloud"), "aws");
        // The name is the alarm's name, with CloudWatch's reason after it when given.
        assert!(name == id || name.starts_with(&format!("{id}: ")), "{s:?}");
        assert!(name.chars().count() <= 120 && !name.chars().any(char::is_control), "{s:?}");
        ids.insert((region.clone(), id.to_string()));
        *counts.entry((region, s.label("severity").to_uppercase(), s.label("state").to_string())).or_insert(0) += 1;
    }
    (ids, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_estates_equal_the_generated_truth() {
    let moto = Moto::start();
    let (mut groups, mut answers, mut alerts) = (0, 0, 0);
    for seed in SEEDS {
        let estate = Estate::generate(seed);
        let planted = estate.plant(&moto).await;
        let mut exporter = Exporter::start(Some(&estate.config_toml("gen", &planted, &moto.url())));
        let (body, samples) = exporter.wait_all_sources_up(90).await;
        let ctx = format!("seed {seed}");

        // Every source of the account is there: one per region and the global one.
        let sources: BTreeSet<&str> = family(&samples, "opsdeck_source_up").map(|s| s.label("source")).collect();
        let want: BTreeSet<String> =
            estate.regions.iter().map(|r| format!("gen/{}", r.name)).chain(["gen/global".to_string()]).collect();
        assert_eq!(sources, want.iter().map(String::as_str).collect(), "{ctx}");

        let want_groups = expected_groups(&estate, &planted);
        assert_eq!(exported_groups(&samples), want_groups, "{ctx}: groups");
        assert_eq!(exported_policies(&samples), estate.expected_policies(), "{ctx}: DNS answers");
        let (ids, counts) = exported_alerts(&samples);
        assert_eq!(ids, estate.expected_alert_ids(), "{ctx}: alert ids");
        assert_eq!(counts, estate.expected_alerts(), "{ctx}: alerts by severity and state");
        // Each alert has its start time, and nothing else does.
        let started: BTreeSet<(String, String)> = family(&samples, "opsdeck_alert_started_timestamp_seconds")
            .map(|s| (region_of(s.label("source")), s.label("alert_id").to_string()))
            .collect();
        assert_eq!(started, ids, "{ctx}");

        // The month's bill, per service, from the global source.
        let cost = estate.expected_cost();
        let mtd: Vec<_> = family(&samples, "opsdeck_cost_month_to_date").collect();
        assert_eq!(mtd.len(), 1, "{ctx}: {mtd:?}");
        assert_eq!((mtd[0].label("source"), mtd[0].label("currency")), ("gen/global", "USD"), "{ctx}");
        assert!((mtd[0].value - cost.month_to_date).abs() < 1e-6, "{ctx}: {} != {}", mtd[0].value, cost.month_to_date);
        let mut services: Vec<(String, f64)> = family(&samples, "opsdeck_cost_service_month_to_date")
            .map(|s| (s.label("service").to_string(), s.value))
            .collect();
        let mut want_services = cost.by_service.clone();
        services.sort_by(|a, b| a.0.cmp(&b.0));
        want_services.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(services.len(), want_services.len(), "{ctx}: {services:?}");
        assert!(services.iter().zip(&want_services).all(|(a, b)| a.0 == b.0 && (a.1 - b.1).abs() < 1e-6), "{ctx}");

        // What polling costs is measured for each region (moto answers each call).
        assert!(family(&samples, "opsdeck_source_api_calls").all(|s| s.value >= 1.0), "{ctx}");
        let (passed, said) = promtool_check(&body);
        assert!(passed, "{ctx}: promtool: {said}");

        groups += want_groups.len();
        answers += estate.expected_policies().values().map(Vec::len).sum::<usize>();
        alerts += estate.expected_alert_ids().len();
    }
    eprintln!("{} seeds: {groups} groups, {answers} DNS answers, {alerts} alerts", SEEDS.len());
    assert!(groups >= 10 && answers >= 4 && alerts >= 5, "{groups} {answers} {alerts}");
}

/// What differs between two exporters by design: when each polled, and how long
/// its polls took. Everything else is the clouds' and must be the same line for line.
fn without_poll_times(body: &str) -> String {
    body.lines()
        .filter(|l| {
            !l.starts_with("opsdeck_source_last_success_timestamp_seconds{")
                && !l.starts_with("opsdeck_source_poll_duration_seconds{")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_exporters_on_one_config_write_the_same_series() {
    let moto = Moto::start();
    // The first estate from seed 200 on with two regions, groups and alerts.
    let mut estate = (200..)
        .map(Estate::generate)
        .find(|e| {
            e.regions.len() >= 2 && !e.expected_alert_ids().is_empty() && e.regions.iter().all(|r| !r.groups.is_empty())
        })
        .expect("such a seed");
    // Cost Explorer in moto hands each request the next queued answer: two
    // exporters would read two different bills. Without one, both read the same.
    estate.cost.clear();
    let planted = estate.plant(&moto).await;
    let config = estate.config_toml("gen", &planted, &moto.url());
    let mut a = Exporter::start(Some(&config));
    let mut b = Exporter::start(Some(&config));
    let (body_a, samples_a) = a.wait_all_sources_up(90).await;
    let (body_b, _) = b.wait_all_sources_up(90).await;
    assert!(samples_a.iter().any(|s| s.name == "opsdeck_group_desired"), "{body_a}");
    assert!(samples_a.iter().any(|s| s.name == "opsdeck_alert"), "{body_a}");
    let (a_lines, b_lines) = (without_poll_times(&body_a), without_poll_times(&body_b));
    if a_lines != b_lines {
        let only_a: Vec<&str> = a_lines.lines().filter(|l| !b_lines.contains(l)).collect();
        let only_b: Vec<&str> = b_lines.lines().filter(|l| !a_lines.contains(l)).collect();
        panic!("the exporters differ:\nonly in a: {only_a:#?}\nonly in b: {only_b:#?}");
    }
    // The poll times are there in both, for the same sources.
    let keys = |body: &str| {
        parse(body)
            .into_iter()
            .filter(|s| s.name == "opsdeck_source_last_success_timestamp_seconds")
            .map(|s| s.labels)
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&body_a), keys(&body_b));
    assert_eq!(keys(&body_a).len(), estate.regions.len() + 1);
}
