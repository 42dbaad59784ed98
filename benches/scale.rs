//! What a Fleet change costs as the estate grows: 10,000 and 100,000 alerts in
//! the shapes an Alertmanager answers (made by scripts/gen-estate), beside the
//! demo estate.
//!
//! - `fleet_merge`: publishing a Fleet after a poll. The alerts are shared with
//!   the report, so this stays flat as the alerts grow (a few µs at any size).
//! - `derive_rows`: sorting and indexing the alerts for the Alerts pane, once per
//!   Fleet, off the input path: linear with the sorts' log factor.
//! - `filter_key`: one key typed in the filter: a scan of the derived text (the
//!   first letter) or of the rows it already kept (each letter after): linear
//!   with a small constant, well inside a frame at 100,000 alerts.
//! - `decode_alerts`: reading an Alertmanager answer into alerts: linear.

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use opsdeck::app::views::{AlertSort, Derived};
use opsdeck::clock::reference_instant;
use opsdeck::model::{Fleet, SourceId, SourceReport, SourceStatus};
use opsdeck::providers::demo::{self, DrillBook, EstateSpec};
use opsdeck::providers::http;
use opsdeck::providers::prometheus::AlertmanagerConfig;
use opsdeck::providers::prometheus::alertmanager::{GettableAlert, to_alerts};

const SIZES: [usize; 2] = [10_000, 100_000];

/// An Alertmanager answer with `n` alerts, from the benchmarks' generator.
fn generated_answer(n: usize) -> Vec<u8> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-estate");
    let out = Command::new("python3")
        .args([script, "alertmanager", "--alerts", &n.to_string(), "--seed", "7"])
        .output()
        .expect("python3 runs scripts/gen-estate");
    assert!(out.status.success(), "gen-estate: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn decode(body: &[u8]) -> Vec<opsdeck::model::Alert> {
    let alerts: Vec<GettableAlert> = http::decode("GET /api/v2/alerts", body).expect("generated answer decodes");
    let cfg = AlertmanagerConfig::new(vec!["http://127.0.0.1:9093".into()]);
    to_alerts(&cfg, &SourceId::new("am"), alerts, &Default::default())
}

/// The demo's report and an Alertmanager report with `body`'s alerts, as the collector holds them.
fn sources(body: &[u8]) -> Vec<(SourceStatus, Option<Arc<SourceReport>>)> {
    let estate = EstateSpec::embedded().expect("estate");
    let at = reference_instant();
    let demo_report = demo::simulate(&estate, &DrillBook::default(), &Default::default(), at, &SourceId::new("demo"));
    let am_report = SourceReport { alerts: Arc::new(decode(body)), ..SourceReport::default() };
    vec![
        (SourceStatus::new(SourceId::new("demo"), "demo"), Some(Arc::new(demo_report))),
        (SourceStatus::new(SourceId::new("am"), "alertmanager"), Some(Arc::new(am_report))),
    ]
}

fn scale(c: &mut Criterion) {
    let answers: Vec<(usize, Vec<u8>)> = SIZES.iter().map(|&n| (n, generated_answer(n))).collect();

    let mut group = c.benchmark_group("fleet_merge");
    for (n, body) in &answers {
        let sources = sources(body);
        let mut generation = 0;
        group.bench_with_input(BenchmarkId::from_parameter(n), &sources, |b, s| {
            b.iter(|| {
                generation += 1;
                black_box(Fleet::merge(generation, reference_instant(), false, s, Default::default()))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("derive_rows");
    group.sample_size(10);
    for (n, body) in &answers {
        let fleet = Fleet::merge(1, reference_instant(), false, &sources(body), Default::default());
        group.bench_with_input(BenchmarkId::from_parameter(n), &fleet, |b, f| b.iter(|| black_box(Derived::build(f))));
    }
    group.finish();

    let mut group = c.benchmark_group("filter_key");
    for (n, body) in &answers {
        let fleet = Fleet::merge(1, reference_instant(), false, &sources(body), Default::default());
        let derived = Derived::build(&fleet);
        group.bench_with_input(BenchmarkId::new("first_letter", n), &derived, |b, d| {
            b.iter(|| black_box(d.alert_rows("w", AlertSort::Severity, None)))
        });
        let kept = derived.alert_rows("w", AlertSort::Severity, None);
        group.bench_with_input(BenchmarkId::new("next_letter", n), &derived, |b, d| {
            b.iter(|| black_box(d.alert_rows("we", AlertSort::Severity, Some(&kept))))
        });
        group.bench_with_input(BenchmarkId::new("resort_unfiltered", n), &derived, |b, d| {
            b.iter(|| black_box(d.alert_rows("", AlertSort::Age, None)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("decode_alerts");
    group.sample_size(10);
    for (n, body) in &answers {
        group.bench_with_input(BenchmarkId::from_parameter(n), body, |b, body| b.iter(|| black_box(decode(body))));
    }
    group.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
