//! The embedded demo exported: every family of the contract is written with HELP
//! and TYPE gauge, the families the demo fills have series, the text format passes
//! `promtool check metrics`, OpenMetrics comes when asked and ends in `# EOF`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::exporter::{Exporter, helps, parse, promtool_check, types};

/// What the demo estate holds (README, "The demo"): groups in every cloud, front
/// doors, one global DNS policy, replication links of every kind, bills, prices,
/// an arbiter, standing alerts, and itself as a source.
const DEMO_FILLS: &[&str] = &[
    "opsdeck_group_desired",
    "opsdeck_group_min",
    "opsdeck_group_max",
    "opsdeck_group_inactive",
    "opsdeck_group_spot_share",
    "opsdeck_group_zone_in_service",
    "opsdeck_group_zone_healthy",
    "opsdeck_requests_per_second",
    "opsdeck_latency_p95_seconds",
    "opsdeck_error_ratio",
    "opsdeck_cpu_ratio",
    "opsdeck_dns_ttl_seconds",
    "opsdeck_dns_weight",
    "opsdeck_dns_endpoint_health",
    "opsdeck_dns_healthy",
    "opsdeck_replication_lag_seconds",
    "opsdeck_replication_target_seconds",
    "opsdeck_replication_backlog_objects",
    "opsdeck_replication_backlog_target_objects",
    "opsdeck_cost_month_to_date",
    "opsdeck_cost_service_month_to_date",
    "opsdeck_cost_forecast",
    "opsdeck_spot_price_hourly",
    "opsdeck_on_demand_price_hourly",
    "opsdeck_arbiter_up",
    "opsdeck_arbiter_rtt_seconds",
    "opsdeck_alert",
    "opsdeck_alert_started_timestamp_seconds",
    "opsdeck_source_up",
    "opsdeck_source_partial_sections",
    "opsdeck_source_last_success_timestamp_seconds",
    "opsdeck_source_interval_seconds",
    "opsdeck_source_poll_duration_seconds",
    "opsdeck_exporter_info",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_exports_every_family_it_fills_and_promtool_accepts_it() {
    let mut exporter = Exporter::start(None);
    exporter.wait_healthy(30).await;
    let body = exporter.metrics().await;

    // Every family of the contract is described, as a gauge, with its help.
    let types = types(&body);
    let helps = helps(&body);
    let contract: BTreeSet<String> = opsdeck::export::FAMILIES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(types.keys().cloned().collect::<BTreeSet<_>>(), contract, "{body}");
    assert!(types.values().all(|t| t == "gauge"), "{types:?}");
    assert!(contract.iter().all(|n| helps.get(n).is_some_and(|h| !h.is_empty())), "{helps:?}");

    // The families the demo fills have series; nothing else is written.
    let samples = parse(&body);
    let filled: BTreeSet<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    for family in DEMO_FILLS {
        assert!(filled.contains(family), "{family} has no series:\n{body}");
    }
    assert!(filled.iter().all(|f| contract.contains(*f)), "{filled:?}");
    // The demo is one fresh source; no series names the exporter's own instance.
    let up: Vec<_> = samples.iter().filter(|s| s.name == "opsdeck_source_up").collect();
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!((up[0].label("source"), up[0].label("kind"), up[0].value), ("demo", "demo", 1.0));
    assert!(samples.iter().all(|s| !s.labels.contains_key("instance") && !s.labels.contains_key("job")));
    // The demo's standing alerts carry their identity and a clean name.
    let alerts: Vec<_> = samples.iter().filter(|s| s.name == "opsdeck_alert").collect();
    assert!(alerts.iter().all(|a| !a.label("alert_id").is_empty() && !a.label("name").is_empty()), "{alerts:?}");
    assert!(alerts.iter().all(|a| ["p0", "p1", "p2", "p3"].contains(&a.label("severity"))), "{alerts:?}");

    let (passed, said) = promtool_check(&body);
    assert!(passed, "promtool check metrics: {said}\n{body}");
    assert!(!body.contains("# EOF"), "the text format has no EOF marker");

    // OpenMetrics when asked, as Prometheus asks.
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (status, ct, om) = exporter.get("/metrics", Some(accept)).await.expect("scrape");
    assert_eq!(status, 200);
    assert_eq!(ct, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert!(om.ends_with("\n# EOF\n"), "{om}");
    assert_eq!(om.matches("# EOF").count(), 1);
    assert_eq!(crate::exporter::types(&om), types);
    // The same series (the demo may have polled again in between: names and labels,
    // leaving out the families whose labels carry a state the simulation moves).
    let keys = |b: &str| parse(b).into_iter().map(|s| (s.name, s.labels)).collect::<BTreeSet<_>>();
    let (a, b) = (keys(&body), keys(&om));
    let moving = [
        "opsdeck_alert",
        "opsdeck_alert_started_timestamp_seconds",
        "opsdeck_dns_endpoint_health",
        "opsdeck_dns_healthy",
    ];
    let moved: Vec<_> = a.symmetric_difference(&b).filter(|(n, _)| !moving.contains(&n.as_str())).collect();
    assert!(moved.is_empty(), "{moved:?}");
    // And the scraper's fallback: plain text for anything else.
    let (_, ct, _) = exporter.get("/metrics", Some("text/plain")).await.expect("scrape");
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    let (status, _, _) = exporter.get("/nothing", None).await.expect("404");
    assert_eq!(status, 404);
}

/// /healthz is 503 until the first poll has published a Fleet, then 200 even
/// when that poll failed (the source's own health is `opsdeck_source_up`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_waits_for_the_first_poll_even_a_failed_one() {
    // A Prometheus that accepts connections and never answers: the first poll
    // ends only at the source's 3 s timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let config = format!(
        "[[sources]]\nname = \"mute\"\nkind = \"prometheus\"\ninterval_secs = 30\ntimeout_secs = 3\n\
         [sources.prometheus]\nurl = \"http://127.0.0.1:{port}\"\nbackfill_minutes = 0\n"
    );
    let mut exporter = Exporter::start(Some(&config));
    let started = std::time::Instant::now();
    let first = crate::support::promstack::eventually(20, "the exporter listens", || async {
        exporter.get("/healthz", None).await
    })
    .await;
    assert_eq!((first.0, first.2.as_str()), (503, "waiting for the first poll\n"), "{}", exporter.stderr());
    // Before the first poll is in: the source is described, not up, never read.
    let samples = parse(&exporter.metrics().await);
    let up: Vec<_> =
        samples.iter().filter(|s| s.name == "opsdeck_source_up").map(|s| (s.label("source"), s.value)).collect();
    assert_eq!(up, vec![("mute", 0.0)]);
    assert!(!samples.iter().any(|s| s.name == "opsdeck_source_last_success_timestamp_seconds"));
    exporter.wait_healthy(20).await;
    assert!(
        started.elapsed() >= Duration::from_millis(2500),
        "200 only after the timed-out poll: {:?}",
        started.elapsed()
    );
    let samples = parse(&exporter.metrics().await);
    let up: Vec<_> = samples.iter().filter(|s| s.name == "opsdeck_source_up").map(|s| s.value).collect();
    assert_eq!(up, vec![0.0], "the poll failed: the source is not up");
    let took: Vec<f64> =
        samples.iter().filter(|s| s.name == "opsdeck_source_poll_duration_seconds").map(|s| s.value).collect();
    assert!(took.len() == 1 && took[0] >= 2.9, "the timed-out poll took its timeout: {took:?}");
    drop(silent);
}
