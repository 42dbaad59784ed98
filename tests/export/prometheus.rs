//! The real Debian Prometheus scrapes `opsdeck export` (OpenMetrics, as it asks
//! for it): the target is up and what Prometheus stores is what the exporter
//! serves, on the demo and on a generated estate in moto.

use std::collections::BTreeMap;

use crate::aws_seeded::Estate;
use crate::exporter::{Exporter, parse};
use crate::support::moto::Moto;
use crate::support::promstack::{Server, eventually, get_json, prometheus_scraping};

/// An instant query: each series' labels (Prometheus' own `__name__`, `instance`
/// and `job` included) and value.
async fn query(prom: &Server, promql: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let url = reqwest::Url::parse_with_params(&format!("{}/api/v1/query", prom.url()), &[("query", promql)])
        .expect("query url");
    let v = get_json(url.as_str()).await;
    assert_eq!(v["status"], "success", "{promql}: {v}");
    v["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|r| {
            let labels = r["metric"]
                .as_object()
                .expect("metric")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            let value = r["value"][1].as_str().and_then(|s| s.parse().ok()).expect("value");
            (labels, value)
        })
        .collect()
}

/// Wait until Prometheus has scraped `job` successfully.
async fn wait_up(prom: &Server, job: &str) {
    let q = format!("up{{job=\"{job}\"}}");
    eventually(30, "the exporter target up", || async {
        let r = query(prom, &q).await;
        (r.len() == 1 && r[0].1 == 1.0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_demo_exporter() {
    let mut exporter = Exporter::start(None);
    exporter.wait_healthy(30).await;
    let prom = prometheus_scraping(&[("opsdeck", exporter.port)]);
    wait_up(&prom, "opsdeck").await;
    let instance = format!("127.0.0.1:{}", exporter.port);
    let up = query(&prom, "opsdeck_source_up").await;
    assert_eq!(up.len(), 1, "{up:?}");
    let (labels, value) = &up[0];
    assert_eq!(value, &1.0);
    let want: BTreeMap<String, String> = [
        ("__name__", "opsdeck_source_up"),
        ("instance", instance.as_str()),
        ("job", "opsdeck"),
        ("kind", "demo"),
        ("source", "demo"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(labels, &want, "Prometheus adds instance and job; the exporter adds nothing of its own");
    // Every family the exporter serves is stored, series for series.
    let served = parse(&exporter.metrics().await);
    let stored = query(&prom, "count by (__name__) ({__name__=~\"opsdeck_.+\"})").await;
    let stored: BTreeMap<String, f64> = stored.into_iter().map(|(l, v)| (l["__name__"].clone(), v)).collect();
    let mut counts: BTreeMap<String, f64> = BTreeMap::new();
    for s in &served {
        *counts.entry(s.name.clone()).or_default() += 1.0;
    }
    // The demo's alerts and DNS health states move with its simulation: compare the rest.
    for moving in [
        "opsdeck_alert",
        "opsdeck_alert_started_timestamp_seconds",
        "opsdeck_dns_endpoint_health",
        "opsdeck_dns_healthy",
    ] {
        counts.remove(moving);
    }
    for (name, n) in &counts {
        assert_eq!(stored.get(name), Some(n), "{name}: stored {stored:?}");
    }
    let samples = query(&prom, "scrape_samples_scraped{job=\"opsdeck\"}").await;
    assert!(samples[0].1 >= 100.0, "{samples:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_stores_the_moto_estate_as_exported_and_generated() {
    let moto = Moto::start();
    let seed = crate::moto::SEEDS[0];
    let estate = Estate::generate(seed);
    let planted = estate.plant(&moto).await;
    let mut exporter = Exporter::start(Some(&estate.config_toml("gen", &planted, &moto.url())));
    let (_, served) = exporter.wait_all_sources_up(90).await;
    let prom = prometheus_scraping(&[("opsdeck", exporter.port)]);
    wait_up(&prom, "opsdeck").await;

    // Desired counts by (source, region, group): in Prometheus = served = planted.
    let key = |l: &BTreeMap<String, String>| (l["source"].clone(), l["region"].clone(), l["group"].clone());
    let served_desired: BTreeMap<_, f64> =
        served.iter().filter(|s| s.name == "opsdeck_group_desired").map(|s| (key(&s.labels), s.value)).collect();
    let stored_desired: BTreeMap<_, f64> = eventually(30, "every group stored", || {
        let (prom, n) = (&prom, served_desired.len());
        async move {
            let r: BTreeMap<_, f64> = query(prom, "opsdeck_group_desired{job=\"opsdeck\"}")
                .await
                .into_iter()
                .map(|(l, v)| (key(&l), v))
                .collect();
            (r.len() == n).then_some(r)
        }
    })
    .await;
    assert_eq!(stored_desired, served_desired);
    let truth: BTreeMap<_, f64> = estate
        .expected_groups(&planted)
        .into_iter()
        .map(|((region, name), g)| ((format!("gen/{region}"), region, name), f64::from(g.desired)))
        .collect();
    assert_eq!(stored_desired, truth, "seed {seed}");
    assert!(truth.len() > 50, "seed {seed} pages its groups: {}", truth.len());

    // Alerts: the same ids and names as served, none lost to label trouble.
    let alert_key = |l: &BTreeMap<String, String>| (l["alert_id"].clone(), l["name"].clone(), l["severity"].clone());
    let served_alerts: Vec<_> =
        served.iter().filter(|s| s.name == "opsdeck_alert").map(|s| alert_key(&s.labels)).collect();
    let mut stored_alerts: Vec<_> =
        query(&prom, "opsdeck_alert{job=\"opsdeck\"}").await.iter().map(|(l, _)| alert_key(l)).collect();
    let mut served_sorted = served_alerts.clone();
    served_sorted.sort();
    stored_alerts.sort();
    assert_eq!(stored_alerts, served_sorted);
    assert_eq!(stored_alerts.len(), estate.expected_alert_ids().len());
}
