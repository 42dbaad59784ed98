use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;

use super::*;
use crate::clock::reference_instant;
use crate::model::{
    Alert, AlertState, Arbiter, CloudKind, CloudMetrics, CostSnapshot, Endpoint, PartialSection, PollCost, Replication,
    ScalingGroup, Section, Severity, SourceId, SourceReport, SourceStatus, SpotPrice, TrafficPolicy, ZoneCapacity,
};

/// (labels as "k=v" joined by ",", value) of one family.
fn series(fams: &[Family], name: &str) -> Vec<(String, f64)> {
    let f = fams.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no family {name}"));
    f.series
        .iter()
        .map(|s| (s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","), s.value))
        .collect()
}

fn status(id: &str, kind: &str) -> SourceStatus {
    SourceStatus {
        freshness: Freshness::Fresh,
        last_ok: Some(reference_instant() - Duration::seconds(5)),
        last_attempt: Some(reference_instant()),
        interval_secs: 60,
        last_poll_secs: Some(1.25),
        ..SourceStatus::new(SourceId::new(id), kind)
    }
}

fn alert(id: &str, cloud: Option<CloudKind>, title: &str, state: AlertState) -> Alert {
    Alert {
        id: id.into(),
        source: SourceId::new("aws/eu-west-1"),
        cloud,
        severity: Severity::P1,
        title: title.into(),
        resource: "web-eu".into(),
        started_at: reference_instant() - Duration::seconds(90),
        state,
        route: "oncall".into(),
        labels: BTreeMap::from([("team".to_string(), "free text never exported".to_string())]).into(),
    }
}

/// A two-source estate built through `Fleet::merge`, as the collector builds it.
fn estate() -> Fleet {
    let now = reference_instant();
    let group = |name: &str, inactive| ScalingGroup {
        source: SourceId::new("aws/eu-west-1"),
        cloud: CloudKind::Aws,
        region: "eu-west-1".into(),
        name: name.into(),
        min: 2,
        max: 10,
        desired: 4,
        zones: vec![
            ZoneCapacity { zone: "eu-west-1b".into(), in_service: 2, healthy: 1 },
            ZoneCapacity { zone: "eu-west-1a".into(), in_service: 2, healthy: 2 },
        ],
        spot_share: 0.25,
        rps_per_instance: None,
        inactive,
        instance_type: None,
    };
    let endpoint = |name: &str, cloud, weight, health| Endpoint {
        name: name.into(),
        cloud,
        target: format!("{name}.example.net"),
        weight,
        health,
        check: format!("{name} check"),
    };
    let cost = |mtd: f64, forecast, services: &[(&str, f64)]| CostSnapshot {
        cloud: CloudKind::Aws,
        currency: "USD".into(),
        month_to_date: mtd,
        forecast,
        by_service: services.iter().map(|(s, v)| (s.to_string(), *v)).collect(),
    };
    let aws = SourceReport {
        groups: vec![group("web-eu", false), group("batch", true)].into(),
        metrics: vec![CloudMetrics {
            cloud: CloudKind::Aws,
            region: "eu-west-1".into(),
            rps: Some(420.0),
            p95_ms: Some(180.0),
            error_rate: None,
            cpu: Some(f64::NAN),
        }],
        policies: vec![TrafficPolicy {
            detection: None,
            source: SourceId::new("aws/eu-west-1"),
            name: "shop.example.com".into(),
            kind: PolicyKind::Route53,
            ttl_secs: 60,
            endpoints: vec![
                endpoint("aws-eu", CloudKind::Aws, 70, Health::Ok),
                endpoint("azure-weu", CloudKind::Azure, 30, Health::Down),
                endpoint("aliyun-hz", CloudKind::Aliyun, 0, Health::Unknown),
            ],
        }],
        replication: vec![
            Replication {
                kind: ReplicationKind::Database,
                name: "orders".into(),
                from: CloudKind::Aws,
                to: CloudKind::Azure,
                value: 2.5,
                target: 30.0,
            },
            Replication {
                kind: ReplicationKind::Storage,
                name: "assets".into(),
                from: CloudKind::Aws,
                to: CloudKind::Aliyun,
                value: 1200.0,
                target: 5000.0,
            },
        ],
        costs: vec![
            cost(100.0, Forecast::Cloud(300.0), &[("EC2", 80.0), ("S3", 20.0)]),
            cost(50.0, Forecast::Cloud(150.0), &[("EC2", 50.0)]),
        ],
        spot_prices: vec![SpotPrice {
            cloud: CloudKind::Aws,
            region: "eu-west-1".into(),
            instance_type: "m6i.large".into(),
            currency: "USD".into(),
            zone: Some("eu-west-1b".into()),
            on_demand_hourly: Some(0.096),
            on_demand_from: "configured".into(),
            spot_hourly: Some(0.034),
            spot_since: None,
            groups: vec!["web".into()],
        }],
        alerts: vec![
            alert("a-1", Some(CloudKind::Aws), "High 5xx", AlertState::Firing),
            alert("a-2", None, "evil\nname\u{1b}[2J\u{7}", AlertState::Resolved),
        ]
        .into(),
        poll_cost: Some(PollCost {
            api_calls: 7,
            billed_metrics: 12,
            fixed_monthly_usd: 0.5,
            remaining_reads: None,
            slow_calls: None,
        }),
        ..SourceReport::default()
    };
    let azure = SourceReport {
        costs: vec![CostSnapshot {
            cloud: CloudKind::Azure,
            currency: "EUR".into(),
            month_to_date: 10.0,
            forecast: Forecast::TooEarly,
            by_service: vec![],
        }],
        arbiters: vec![
            Arbiter {
                name: "witness".into(),
                location: "fra".into(),
                reachable: true,
                rtt_ms: Some(12.0),
                error: None,
            },
            Arbiter {
                name: "witness-2".into(),
                location: "ams".into(),
                reachable: false,
                rtt_ms: None,
                error: Some("refused".into()),
            },
        ],
        drills: vec!["db-primary-down aws".into()],
        ..SourceReport::default()
    };
    let partial = SourceStatus {
        partial: vec![PartialSection { section: Section::Alerts, reason: "boom".into(), last_ok: None }],
        ..status("aws/eu-west-1", "aws")
    };
    let stale = SourceStatus {
        freshness: Freshness::Stale { reason: "timed out".into() },
        last_poll_secs: None,
        poll_cost: None,
        ..status("azure", "azure")
    };
    let pending = SourceStatus { interval_secs: 0, ..SourceStatus::new(SourceId::new("never"), "aliyun") };
    Fleet::merge(
        3,
        now,
        false,
        &[(partial, Some(Arc::new(aws))), (stale, Some(Arc::new(azure))), (pending, None)],
        BTreeMap::new(),
    )
}

#[test]
fn every_family_of_the_contract_is_written_once_in_contract_order() {
    let fams = families(&estate());
    let names: Vec<&str> = fams.iter().map(|f| f.name).collect();
    let contract: Vec<&str> = FAMILIES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, contract);
    assert!(fams.iter().all(|f| f.name.starts_with("opsdeck_") && !f.help.is_empty()));
    // No family name twice, no label names the exporter itself.
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    for f in &fams {
        for s in &f.series {
            assert!(s.labels.iter().all(|(k, _)| !matches!(*k, "instance" | "job")), "{}: {:?}", f.name, s.labels);
        }
    }
}

#[test]
fn groups_and_their_zones() {
    let fams = families(&estate());
    let g = "source=aws/eu-west-1,cloud=aws,region=eu-west-1,group";
    assert_eq!(series(&fams, "opsdeck_group_desired"), vec![(format!("{g}=batch"), 4.0), (format!("{g}=web-eu"), 4.0)]);
    assert_eq!(series(&fams, "opsdeck_group_min")[1], (format!("{g}=web-eu"), 2.0));
    assert_eq!(series(&fams, "opsdeck_group_max")[1], (format!("{g}=web-eu"), 10.0));
    assert_eq!(
        series(&fams, "opsdeck_group_inactive"),
        vec![(format!("{g}=batch"), 1.0), (format!("{g}=web-eu"), 0.0)]
    );
    assert_eq!(series(&fams, "opsdeck_group_spot_share")[0].1, 0.25);
    // Zones sorted by name whatever order the cloud listed them in.
    assert_eq!(
        series(&fams, "opsdeck_group_zone_healthy")[2..],
        [(format!("{g}=web-eu,zone=eu-west-1a"), 2.0), (format!("{g}=web-eu,zone=eu-west-1b"), 1.0)]
    );
    assert_eq!(series(&fams, "opsdeck_group_zone_in_service").len(), 4);
}

#[test]
fn unmeasured_traffic_figures_are_absent_not_zero() {
    let fams = families(&estate());
    let r = "source=aws/eu-west-1,cloud=aws,region=eu-west-1".to_string();
    assert_eq!(series(&fams, "opsdeck_requests_per_second"), vec![(r.clone(), 420.0)]);
    assert_eq!(series(&fams, "opsdeck_latency_p95_seconds"), vec![(r, 0.18)]);
    // error_rate None, cpu NaN: no series at all.
    assert!(series(&fams, "opsdeck_error_ratio").is_empty());
    assert!(series(&fams, "opsdeck_cpu_ratio").is_empty());
}

#[test]
fn dns_weights_health_states_and_healthy_only_when_known() {
    let fams = families(&estate());
    assert_eq!(
        series(&fams, "opsdeck_dns_ttl_seconds"),
        vec![("source=aws/eu-west-1,policy=shop.example.com,policy_kind=route53".into(), 60.0)]
    );
    let weights: Vec<(String, f64)> = series(&fams, "opsdeck_dns_weight");
    assert_eq!(weights.len(), 3);
    assert_eq!(
        weights[1],
        (
            "source=aws/eu-west-1,policy=shop.example.com,policy_kind=route53,cloud=aws,endpoint=aws-eu,target=aws-eu.example.net"
                .into(),
            70.0
        )
    );
    let health: Vec<String> = series(&fams, "opsdeck_dns_endpoint_health").into_iter().map(|(l, _)| l).collect();
    assert!(health.iter().any(|l| l.ends_with("endpoint=azure-weu,health=down,check=azure-weu check")), "{health:?}");
    assert!(health.iter().any(|l| l.ends_with("endpoint=aliyun-hz,health=unknown,check=aliyun-hz check")));
    let p = "source=aws/eu-west-1,policy=shop.example.com,cloud";
    assert_eq!(
        series(&fams, "opsdeck_dns_healthy"),
        vec![(format!("{p}=aws,endpoint=aws-eu"), 1.0), (format!("{p}=azure,endpoint=azure-weu"), 0.0)],
        "the unknown answer has no opsdeck_dns_healthy series"
    );
}

#[test]
fn replication_by_kind() {
    let fams = families(&estate());
    let db = "source=aws/eu-west-1,kind=database,name=orders,from=aws,to=azure".to_string();
    let st = "source=aws/eu-west-1,kind=storage,name=assets,from=aws,to=aliyun".to_string();
    assert_eq!(series(&fams, "opsdeck_replication_lag_seconds"), vec![(db.clone(), 2.5)]);
    assert_eq!(series(&fams, "opsdeck_replication_target_seconds"), vec![(db, 30.0)]);
    assert_eq!(series(&fams, "opsdeck_replication_backlog_objects"), vec![(st.clone(), 1200.0)]);
    assert_eq!(series(&fams, "opsdeck_replication_backlog_target_objects"), vec![(st, 5000.0)]);
}

#[test]
fn cost_is_summed_per_scope_and_a_too_early_forecast_is_absent() {
    let fams = families(&estate());
    let aws = "source=aws/eu-west-1,cloud=aws,currency=USD".to_string();
    let azure = "source=azure,cloud=azure,currency=EUR".to_string();
    assert_eq!(series(&fams, "opsdeck_cost_month_to_date"), vec![(aws.clone(), 150.0), (azure, 10.0)]);
    assert_eq!(
        series(&fams, "opsdeck_cost_service_month_to_date"),
        vec![(format!("{aws},service=EC2"), 130.0), (format!("{aws},service=S3"), 20.0)]
    );
    assert_eq!(series(&fams, "opsdeck_cost_forecast"), vec![(format!("{aws},method=cloud"), 450.0)]);
}

#[test]
fn prices_arbiters_drills_and_the_version() {
    let fams = families(&estate());
    let p = "source=aws/eu-west-1,cloud=aws,region=eu-west-1,instance_type=m6i.large,currency=USD".to_string();
    assert_eq!(series(&fams, "opsdeck_spot_price_hourly"), vec![(p.clone(), 0.034)]);
    assert_eq!(series(&fams, "opsdeck_on_demand_price_hourly"), vec![(p, 0.096)]);
    assert_eq!(
        series(&fams, "opsdeck_arbiter_up"),
        vec![
            ("source=azure,arbiter=witness,location=fra".into(), 1.0),
            ("source=azure,arbiter=witness-2,location=ams".into(), 0.0)
        ]
    );
    assert_eq!(
        series(&fams, "opsdeck_arbiter_rtt_seconds"),
        vec![("source=azure,arbiter=witness,location=fra".into(), 0.012)]
    );
    assert_eq!(series(&fams, "opsdeck_drill_active"), vec![("drill=db-primary-down aws".into(), 1.0)]);
    assert_eq!(series(&fams, "opsdeck_exporter_info"), vec![(format!("version={}", env!("CARGO_PKG_VERSION")), 1.0)]);
}

#[test]
fn alerts_carry_identity_and_a_clean_name_but_no_free_text() {
    let fams = families(&estate());
    assert_eq!(
        series(&fams, "opsdeck_alert"),
        vec![
            (
                "source=aws/eu-west-1,cloud=,alert_id=a-2,severity=p1,state=resolved,name=evil name\u{fffd},resource=web-eu,route=oncall"
                    .into(),
                1.0
            ),
            (
                "source=aws/eu-west-1,cloud=aws,alert_id=a-1,severity=p1,state=firing,name=High 5xx,resource=web-eu,route=oncall"
                    .into(),
                1.0
            ),
        ]
    );
    let started = (reference_instant() - Duration::seconds(90)).timestamp() as f64;
    assert_eq!(
        series(&fams, "opsdeck_alert_started_timestamp_seconds")[0],
        ("source=aws/eu-west-1,alert_id=a-1".into(), started)
    );
    let all = format!("{fams:?}");
    assert!(!all.contains("free text never exported") && !all.contains("timed out") && !all.contains("boom"));
}

#[test]
fn an_alert_title_that_is_hostile_is_one_bounded_line_without_secrets() {
    let _held = crate::credentials::Secret::new("exp-s3cret-4417ab");
    let mut fleet = estate();
    let title = format!("leak exp-s3cret-4417ab\r\nInjected{{x=\"1\"}} 99\n{}", "ü".repeat(300));
    fleet.alerts = vec![alert("a-9", Some(CloudKind::Azure), &title, AlertState::Firing)].into();
    let fams = families(&fleet);
    let f = fams.iter().find(|f| f.name == "opsdeck_alert").expect("alerts");
    let name = &f.series[0].labels.iter().find(|(k, _)| *k == "name").expect("name").1;
    assert!(name.starts_with("leak ***  Injected{x=\"1\"} 99 üü"), "{name}");
    assert_eq!(name.chars().count(), super::super::label::MAX_LABEL_CHARS);
    assert!(name.ends_with('…') && !name.chars().any(char::is_control), "{name:?}");
}

#[test]
fn sources_health_and_what_polling_them_costs() {
    let fams = families(&estate());
    let (aws, azure, never) = ("source=aws/eu-west-1,kind=aws", "source=azure,kind=azure", "source=never,kind=aliyun");
    assert_eq!(series(&fams, "opsdeck_source_up"), vec![(aws.into(), 1.0), (azure.into(), 0.0), (never.into(), 0.0)]);
    assert_eq!(
        series(&fams, "opsdeck_source_partial_sections"),
        vec![(aws.into(), 1.0), (azure.into(), 0.0), (never.into(), 0.0)]
    );
    let last_ok = (reference_instant() - Duration::seconds(5)).timestamp() as f64;
    assert_eq!(
        series(&fams, "opsdeck_source_last_success_timestamp_seconds"),
        vec![(aws.into(), last_ok), (azure.into(), last_ok)],
        "never read: no last success"
    );
    assert_eq!(series(&fams, "opsdeck_source_interval_seconds"), vec![(aws.into(), 60.0), (azure.into(), 60.0)]);
    assert_eq!(series(&fams, "opsdeck_source_poll_duration_seconds"), vec![(aws.into(), 1.25)]);
    assert_eq!(series(&fams, "opsdeck_source_api_calls"), vec![(aws.into(), 7.0)]);
    let monthly =
        PollCost { api_calls: 7, billed_metrics: 12, fixed_monthly_usd: 0.5, remaining_reads: None, slow_calls: None }
            .monthly_usd(60);
    assert_eq!(series(&fams, "opsdeck_source_monthly_cost_usd"), vec![(aws.into(), monthly)]);
}

#[test]
fn the_same_estate_listed_in_another_order_gives_the_same_families() {
    let a = estate();
    let mut b = estate();
    b.groups = b.groups.iter().rev().cloned().collect();
    b.alerts = b.alerts.iter().rev().cloned().collect();
    for p in &mut b.policies {
        p.endpoints.reverse();
    }
    assert_eq!(families(&a), families(&b));
}

#[test]
fn an_empty_fleet_writes_the_families_with_only_the_version() {
    let fams = families(&Fleet::default());
    assert_eq!(fams.len(), FAMILIES.len());
    let with_series: Vec<&str> = fams.iter().filter(|f| !f.series.is_empty()).map(|f| f.name).collect();
    assert_eq!(with_series, vec!["opsdeck_exporter_info"]);
}

#[test]
fn links_write_what_was_measured_and_nothing_for_the_unknown() {
    let mut f = estate();
    f.links = vec![opsdeck_link("db", Some(52.0), Some(0.2)), opsdeck_link("cache", None, None)];
    f.link_sources = vec![SourceId::new("links"), SourceId::new("links")];
    let fams = families(&f);
    let key = |n: &str| format!("source=links,link={n},a=aws,b=azure");
    assert_eq!(series(&fams, "opsdeck_link_rtt_seconds"), vec![(key("db"), 0.052)]);
    assert_eq!(series(&fams, "opsdeck_link_target_seconds"), vec![(key("cache"), 0.04), (key("db"), 0.04)]);
    assert_eq!(series(&fams, "opsdeck_link_loss_ratio"), vec![(key("db"), 0.2)]);
    assert_eq!(series(&fams, "opsdeck_link_over_target"), vec![(key("db"), 1.0)]);
}

fn opsdeck_link(name: &str, rtt_ms: Option<f64>, loss: Option<f64>) -> crate::model::Link {
    crate::model::Link {
        name: name.into(),
        a: CloudKind::Aws,
        b: CloudKind::Azure,
        rtt_ms,
        loss,
        bps: None,
        up: None,
        target_ms: 40.0,
        via: vec![],
        error: None,
    }
}

#[test]
fn slos_write_each_scope_and_nothing_for_the_unknown() {
    use crate::model::{BurnAlert, Burns, CloudKind, SloFigures, SloStatus};
    let known = |cloud, availability: f64, alert| SloFigures {
        cloud,
        covered_secs: 600.0,
        total: Some(1000.0),
        bad: Some(1000.0 * (1.0 - availability)),
        availability: Some(availability),
        budget_left: Some(0.25),
        burn: Burns { m5: Some(20.0), h1: Some(15.0), ..Burns::default() },
        alert,
    };
    let mut f = estate();
    f.slos = vec![SloStatus {
        name: "checkout".into(),
        objective_pct: 99.9,
        window: "7d".into(),
        window_secs: 604_800,
        cloud: None,
        measured_by: "traffic".into(),
        overall: known(None, 0.999, Some(BurnAlert::Page)),
        clouds: vec![known(Some(CloudKind::Aws), 0.998, None), SloFigures::unknown(Some(CloudKind::Azure))],
        note: None,
    }];
    let fams = families(&f);
    assert_eq!(series(&fams, "opsdeck_slo_objective_ratio"), vec![("slo=checkout".to_string(), 99.9 / 100.0)]);
    assert_eq!(series(&fams, "opsdeck_slo_window_seconds"), vec![("slo=checkout".to_string(), 604_800.0)]);
    let scope = |s: &str| format!("slo=checkout,scope={s}");
    // The unknown Azure scope held nothing: a coverage of 0 and no figures.
    assert_eq!(
        series(&fams, "opsdeck_slo_covered_seconds"),
        vec![(scope("aws"), 600.0), (scope("azure"), 0.0), (scope("shop"), 600.0)]
    );
    assert_eq!(series(&fams, "opsdeck_slo_availability_ratio"), vec![(scope("aws"), 0.998), (scope("shop"), 0.999)]);
    assert_eq!(
        series(&fams, "opsdeck_slo_error_budget_remaining_ratio"),
        vec![(scope("aws"), 0.25), (scope("shop"), 0.25)]
    );
    let burns = series(&fams, "opsdeck_slo_burn_rate");
    assert_eq!(burns.len(), 4, "{burns:?}");
    assert!(burns.contains(&(format!("{},span=5m", scope("shop")), 20.0)), "{burns:?}");
    assert_eq!(series(&fams, "opsdeck_slo_alert"), vec![(format!("{},level=page", scope("shop")), 1.0)]);
}
