//! The Prometheus and Alertmanager sources against the real servers (Debian's
//! prometheus, prometheus-alertmanager, prometheus-pushgateway) on 127.0.0.1:
//! metrics pushed through the pushgateway, rules firing into Alertmanager,
//! acknowledgements as silences seen through an HA peer, and faults.

use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::actions::{Actor, Intent, plan};
use opsdeck::app::{App, Msg};
use opsdeck::collector::{SourceSchedule, collect_once};
use opsdeck::model::{AlertState, CloudKind, Fleet, Freshness, ReplicationKind, Severity, SourceReport};
use opsdeck::providers::prometheus::PrometheusSource;
use opsdeck::providers::prometheus::alertmanager::AlertmanagerSource;
use opsdeck::providers::prometheus::{AlertmanagerConfig, PromReplicationConfig, PrometheusConfig};
use opsdeck::providers::{Provider, ProviderError};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use support::faulty::{Faulty, Mode};
use support::moto::free_port;
use support::promstack::{self, Server, eventually, get_json, post_alerts, push};

const TIMEOUT: Duration = Duration::from_secs(3);

const RULES: &str = r#"
groups:
  - name: shop
    rules:
      - alert: HighErrorRate
        expr: shop_error_ratio > 0.05
        labels: {severity: critical}
        annotations: {summary: "5xx ratio {{ $value }} in {{ $labels.cloud }}"}
"#;

fn actor() -> Actor {
    Actor { user: "oncall".into(), host: "bastion-1".into(), ssh_client: None }
}

/// Counters and a histogram per cloud as the common HTTP exporters expose them,
/// `n` scaling the counters so two pushes make a rate. Error share per cloud:
/// aws 5 %, azure 1 %, aliyun 20 %; 90 % of requests under 100 ms, all under 250 ms.
/// AWS has a second region, eu-west-1, that never answered a 5xx: it has no
/// 5xx-coded series at all, as a clean service exports none.
fn exporter_text(n: u64) -> String {
    let mut t = String::from(
        "# TYPE http_requests_total counter\n# TYPE http_request_duration_seconds histogram\n\
         # TYPE shop_cpu_percent gauge\n# TYPE shop_error_ratio gauge\n# TYPE shop_db_replication_lag_seconds gauge\n",
    );
    for (cloud, region, err_pct, cpu) in [
        ("aws", "us-east-1", 5, 41.5),
        ("aws", "eu-west-1", 0, 20.0),
        ("azure", "westeurope", 1, 63.0),
        ("aliyun", "cn-hangzhou", 20, 12.25),
    ] {
        let total = 1000 * n;
        let errors = total * err_pct / 100;
        let l = format!("cloud=\"{cloud}\",region=\"{region}\"");
        t += &format!("http_requests_total{{{l},code=\"200\"}} {}\n", total - errors);
        if errors > 0 {
            t += &format!("http_requests_total{{{l},code=\"503\"}} {errors}\n");
        }
        t += &format!("http_request_duration_seconds_bucket{{{l},le=\"0.1\"}} {}\n", total * 9 / 10);
        t += &format!("http_request_duration_seconds_bucket{{{l},le=\"0.25\"}} {total}\n");
        t += &format!("http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {total}\n");
        t += &format!("http_request_duration_seconds_sum{{{l}}} {}\n", total / 10);
        t += &format!("http_request_duration_seconds_count{{{l}}} {total}\n");
        t += &format!("shop_cpu_percent{{{l}}} {cpu}\n");
        t += &format!("shop_error_ratio{{{l}}} {}\n", err_pct as f64 / 100.0);
    }
    t += "shop_db_replication_lag_seconds{from=\"aws\",to=\"azure\",replica=\"r1\"} 12\n";
    t += "shop_db_replication_lag_seconds{from=\"aws\",to=\"azure\",replica=\"r2\"} 4\n";
    t
}

fn prom_config(prom: &Server) -> PrometheusConfig {
    let mut cfg = PrometheusConfig::new(prom.url());
    // rps, p95 and error rate use the defaults; CPU is a gauge here.
    cfg.queries.cpu = Some("avg by (cloud, region) (shop_cpu_percent)".into());
    cfg.replication.push(PromReplicationConfig {
        kind: ReplicationKind::Database,
        name: "orders-db".into(),
        from: CloudKind::Aws,
        to: CloudKind::Azure,
        query: "shop_db_replication_lag_seconds{from=\"aws\",to=\"azure\"}".into(),
        target: 30.0,
    });
    cfg
}

async fn poll(p: &dyn Provider) -> Result<SourceReport, ProviderError> {
    p.poll(Utc::now()).await
}

fn schedule(p: Arc<dyn Provider>) -> SourceSchedule {
    SourceSchedule { provider: p, interval: Duration::from_secs(5), timeout: TIMEOUT }
}

fn alerts_screen(fleet: &Fleet) -> String {
    let mut app = App::new(None);
    app.update(Msg::Resize { width: 160, height: 30 }, fleet);
    app.update(Msg::FleetChanged, fleet);
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('5'), KeyModifiers::NONE)), fleet);
    let theme = opsdeck::theme::Theme::load("default", None, opsdeck::theme::ColorMode::TrueColor).expect("theme");
    let mut term = Terminal::new(TestBackend::new(160, 30)).expect("terminal");
    term.draw(|f| opsdeck::ui::draw(f, &opsdeck::ui::View { app: &app, fleet, theme: &theme, now: Utc::now() }))
        .expect("draw");
    term.backend().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_metrics_become_figures_and_a_fired_rule_becomes_an_alert() {
    let pg = promstack::pushgateway();
    let am = promstack::alertmanager(None);
    let prom = promstack::prometheus(&pg, Some(&am), RULES);
    push(&pg, "shop", &exporter_text(1)).await;
    // Prometheus starts scraping a few seconds after it is ready: wait for the first
    // sample, so the second push makes a rate.
    let url = format!("{}/api/v1/query?query=http_requests_total", prom.url());
    eventually(30, "the first push scraped", || async {
        let v = get_json(&url).await;
        (v["data"]["result"].as_array().is_some_and(|r| !r.is_empty())).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    push(&pg, "shop", &exporter_text(3)).await;

    let cfg = prom_config(&prom);
    let probe = PrometheusSource::new("prom", &cfg, TIMEOUT).expect("source");
    let report = eventually(30, "rates for four places", || async {
        poll(&probe).await.ok().filter(|r| r.metrics.len() == 4 && r.metrics.iter().all(|m| m.rps > Some(0.0)))
    })
    .await;
    let m =
        |c: CloudKind| report.metrics.iter().find(|m| m.cloud == c && m.region != "eu-west-1").expect("cloud").clone();
    let aws = m(CloudKind::Aws);
    assert_eq!(aws.region, "us-east-1");
    // Both counters are sampled at the same scrapes, so the ratios are exact.
    let near = |v: Option<f64>, want: f64, eps: f64| v.is_some_and(|v| (v - want).abs() < eps);
    assert!(near(aws.error_rate, 0.05, 1e-9), "{aws:?}");
    assert!(near(m(CloudKind::Azure).error_rate, 0.01, 1e-9));
    assert!(near(m(CloudKind::Aliyun).error_rate, 0.20, 1e-9));
    // A region serving requests with no 5xx series at all: a measured 0, not unknown.
    let clean = report.metrics.iter().find(|m| m.region == "eu-west-1").expect("eu-west-1");
    assert_eq!(clean.error_rate, Some(0.0), "{clean:?}");
    // 95th percentile: 90 % ≤ 100 ms, the rest ≤ 250 ms → 100 + 150 × (95-90)/(100-90) = 175 ms.
    assert!(near(aws.p95_ms, 175.0, 1e-6), "{aws:?}");
    // The CPU query gives percent; the model holds a fraction.
    assert!(near(aws.cpu, 0.415, 1e-12), "{aws:?}");
    assert!(near(m(CloudKind::Aliyun).cpu, 0.1225, 1e-12));
    // Replication: the worst replica is the figure, against the RPO.
    assert_eq!(report.replication.len(), 1);
    let r = &report.replication[0];
    assert_eq!(
        (r.kind, r.from, r.to, r.value, r.target),
        (ReplicationKind::Database, CloudKind::Aws, CloudKind::Azure, 12.0, 30.0)
    );

    // A fresh source: the first poll also backfills history (3 range queries), later ones do not.
    // (Two seconds on, so the range's whole-second end is past the scrape that made the rates.)
    tokio::time::sleep(Duration::from_secs(2)).await;
    let fresh = PrometheusSource::new("prom", &cfg, TIMEOUT).expect("source");
    let first = poll(&fresh).await.expect("first poll");
    let second = poll(&fresh).await.expect("second poll");
    assert_eq!(first.poll_cost.as_ref().map(|c| c.api_calls), Some(4 + 1 + 3));
    assert_eq!(second.poll_cost.as_ref().map(|c| c.api_calls), Some(4 + 1));
    assert!(second.history.is_empty());
    // The backfill ends now and the instant queries above already saw rates, so it holds
    // points with the pushed traffic for every cloud (error ratios exact); points from
    // before the second push are rate 0, which is true of them.
    let window = Utc::now() - chrono::Duration::minutes(i64::from(cfg.backfill_minutes)) - chrono::Duration::seconds(5);
    assert!(first.history.iter().all(|(_, p)| p.at > window && p.at <= Utc::now()), "{:?}", first.history);
    assert!(first.history.windows(2).all(|w| w[0].1.at <= w[1].1.at), "oldest first");
    for (cloud, ratio) in [(CloudKind::Aws, 0.05), (CloudKind::Azure, 0.01), (CloudKind::Aliyun, 0.20)] {
        let busy = first.history.iter().filter(|(c, p)| *c == cloud && p.rps > Some(0.0)).map(|(_, p)| p).next_back();
        let busy = busy.unwrap_or_else(|| panic!("no backfilled traffic for {cloud:?}: {:?}", first.history));
        assert!(busy.error_rate.is_some_and(|e| (e - ratio).abs() < 1e-9), "{cloud:?}: {busy:?}");
    }

    // The rule fires for aliyun only (20 % > 5 %) and Alertmanager has it.
    let am_src = AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![am.url()]), TIMEOUT).expect("am");
    let alerts = eventually(30, "HighErrorRate in Alertmanager", || async {
        poll(&am_src).await.ok().map(|r| r.alerts).filter(|a| !a.is_empty())
    })
    .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!((a.severity, a.cloud, &a.state), (Severity::P0, Some(CloudKind::Aliyun), &AlertState::Firing));
    assert_eq!(a.title, "HighErrorRate: 5xx ratio 0.2 in aliyun");
    assert_eq!(a.labels.get("severity"), Some("critical"));
    assert_eq!(a.labels.get("region"), Some("cn-hangzhou"));
    assert_eq!(a.route, "oncall");

    // What an operator sees: both sources merged into one fleet, the alert in the pane.
    let sources = vec![
        schedule(Arc::new(PrometheusSource::new("prom", &cfg, TIMEOUT).expect("source"))),
        schedule(Arc::new(am_src)),
    ];
    let fleet = collect_once(&sources, Utc::now(), false).await;
    assert!(fleet.sources.iter().all(|s| s.freshness == Freshness::Fresh), "{:?}", fleet.sources);
    let screen = alerts_screen(&fleet);
    assert!(screen.contains("HighErrorRate: 5xx ratio 0.2 in aliyun"), "{screen}");
    assert!(screen.contains("P0") && screen.contains("Alibaba") && screen.contains("oncall"), "{screen}");
    assert!(screen.contains("alertname=HighErrorRate  cloud=aliyun"), "{screen}");
}

fn disk_alert() -> serde_json::Value {
    json!([{
        "labels": {"alertname": "DiskFull", "cloud": "aws", "severity": "warning", "instance": "db-1"},
        "annotations": {"summary": "disk 95% full"},
        "startsAt": Utc::now().to_rfc3339(),
    }])
}

/// Alerts in `fleet` from the one Alertmanager source, by alertname.
fn alert<'f>(fleet: &'f Fleet, name: &str) -> &'f opsdeck::model::Alert {
    fleet
        .alerts
        .iter()
        .find(|a| a.labels.get("alertname") == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {:?}", fleet.alerts))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_through_one_peer_is_a_silence_seen_through_the_other_and_unack_expires_it() {
    let (g1, g2) = (free_port(), free_port());
    let am1 = promstack::alertmanager(Some((g1, &[g2])));
    let am2 = promstack::alertmanager(Some((g2, &[g1])));
    // Prometheus sends every alert to every peer; peers gossip silences, not alerts.
    post_alerts(&am1, disk_alert()).await;
    post_alerts(&am2, disk_alert()).await;

    let via1: Arc<dyn Provider> =
        Arc::new(AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![am1.url()]), TIMEOUT).expect("am"));
    let sources = vec![schedule(via1.clone())];
    let fleet = collect_once(&sources, Utc::now(), false).await;
    let id = alert(&fleet, "DiskFull").id.clone();
    assert_eq!(alert(&fleet, "DiskFull").state, AlertState::Firing);

    let intent = Intent::Ack { alert_id: id.clone(), comment: "disk cleanup running".into(), minutes: Some(30) };
    let p = plan(&intent, &fleet).expect("plan");
    let receipt = via1.execute(&p, &actor(), Utc::now()).await.expect("ack");
    let silence_id = receipt.request_id;

    // An independent client asks the other peer: the alert is suppressed by that silence.
    let url = format!("{}/api/v2/alerts", am2.url());
    eventually(20, "the silence gossiped to the second peer", || async {
        let alerts = get_json(&url).await;
        let a = alerts.as_array()?.iter().find(|a| a["labels"]["alertname"] == "DiskFull")?.clone();
        (a["status"]["state"] == "suppressed" && a["status"]["silencedBy"][0] == silence_id.as_str()).then_some(())
    })
    .await;
    let silence = get_json(&format!("{}/api/v2/silence/{silence_id}", am2.url())).await;
    assert_eq!(silence["createdBy"], "oncall@bastion-1");
    assert_eq!(silence["comment"], "disk cleanup running");
    let ends = chrono::DateTime::parse_from_rfc3339(silence["endsAt"].as_str().expect("endsAt")).expect("time");
    let minutes = (ends.with_timezone(&Utc) - Utc::now()).num_minutes();
    assert!((28..=30).contains(&minutes), "silence lasts {minutes} min");
    // Exactly the alert's label set, nothing wider.
    let matchers = silence["matchers"].as_array().expect("matchers");
    assert_eq!(matchers.len(), 4);
    assert!(matchers.iter().all(|m| m["isRegex"] == false && m["isEqual"] == true));

    // amtool, the operators' own CLI, sees it through the second peer as well.
    let out = std::process::Command::new(promstack::amtool())
        .args(["silence", "query", "-o", "json", "--alertmanager.url", &am2.url()])
        .output()
        .expect("amtool");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("amtool json");
    assert!(listed.as_array().expect("list").iter().any(|s| s["id"] == silence_id.as_str()), "{listed}");

    // opsdeck reading the second peer shows who acknowledged and why.
    let via2: Arc<dyn Provider> = Arc::new(
        AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![am2.url(), am1.url()]), TIMEOUT).expect("am"),
    );
    let fleet = collect_once(&[schedule(via2.clone())], Utc::now(), false).await;
    match &alert(&fleet, "DiskFull").state {
        AlertState::Acknowledged { by, comment, .. } => {
            assert_eq!((by.as_str(), comment.as_str()), ("oncall@bastion-1", "disk cleanup running"));
        }
        other => panic!("{other:?}"),
    }
    assert!(p.is_reflected_in(&fleet));

    // Un-acknowledge through the second peer: the silence expires, and the first peer
    // shows the alert active again.
    let unack = plan(&Intent::Unack { alert_id: id.clone() }, &fleet).expect("plan");
    let receipt = via2.execute(&unack, &actor(), Utc::now()).await.expect("unack");
    assert_eq!(receipt.request_id, silence_id);
    let url = format!("{}/api/v2/alerts", am1.url());
    eventually(20, "the expiry gossiped to the first peer", || async {
        let alerts = get_json(&url).await;
        let a = alerts.as_array()?.iter().find(|a| a["labels"]["alertname"] == "DiskFull")?.clone();
        (a["status"]["state"] == "active").then_some(())
    })
    .await;
    let fleet = collect_once(&sources, Utc::now(), false).await;
    assert_eq!(alert(&fleet, "DiskFull").state, AlertState::Firing);
    assert!(unack.is_reflected_in(&fleet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn others_silences_and_inhibitions_show_and_a_wider_silence_is_not_ours_to_expire() {
    let am = promstack::alertmanager(None);
    let now = Utc::now().to_rfc3339();
    post_alerts(
        &am,
        json!([
            {"labels": {"alertname": "RegionDown", "cloud": "azure", "severity": "critical"}, "startsAt": now},
            {"labels": {"alertname": "LatencyHigh", "cloud": "azure", "severity": "warning"}, "startsAt": now},
            {"labels": {"alertname": "DiskFull", "cloud": "aws", "severity": "warning", "instance": "db-1"}, "startsAt": now},
        ]),
    )
    .await;
    // Alice silences every DiskFull for maintenance, with amtool.
    let out = std::process::Command::new(promstack::amtool())
        .args([
            "silence",
            "add",
            "alertname=DiskFull",
            "--author=alice",
            "--comment=maintenance window",
            "--duration=1h",
            "--alertmanager.url",
            &am.url(),
        ])
        .output()
        .expect("amtool");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let src: Arc<dyn Provider> =
        Arc::new(AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![am.url()]), TIMEOUT).expect("am"));
    let sources = vec![schedule(src.clone())];
    let fleet = eventually(20, "inhibition and silence applied", || async {
        let f = collect_once(&sources, Utc::now(), false).await;
        let ready = f.alerts.len() == 3
            && matches!(alert(&f, "LatencyHigh").state, AlertState::Inhibited { .. })
            && matches!(alert(&f, "DiskFull").state, AlertState::Acknowledged { .. });
        ready.then_some(f)
    })
    .await;
    assert_eq!(alert(&fleet, "RegionDown").state, AlertState::Firing);
    assert_eq!(alert(&fleet, "RegionDown").severity, Severity::P0);
    assert_eq!(alert(&fleet, "LatencyHigh").state, AlertState::Inhibited { by: "RegionDown".into() });
    match &alert(&fleet, "DiskFull").state {
        AlertState::Acknowledged { by, comment, .. } => {
            assert_eq!((by.as_str(), comment.as_str()), ("alice", "maintenance window"))
        }
        other => panic!("{other:?}"),
    }

    // Withdrawing "the ack" must not end Alice's maintenance window.
    let unack = plan(&Intent::Unack { alert_id: alert(&fleet, "DiskFull").id.clone() }, &fleet).expect("plan");
    let err = src.execute(&unack, &actor(), Utc::now()).await.expect_err("refused");
    assert!(err.to_string().contains("wider silences, left alone") && err.to_string().contains("by alice"), "{err}");
    let silences = get_json(&format!("{}/api/v2/silences", am.url())).await;
    let active = silences.as_array().expect("list").iter().filter(|s| s["status"]["state"] == "active").count();
    assert_eq!(active, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_make_the_source_stale_with_a_reason_and_nothing_else_breaks() {
    let pg = promstack::pushgateway();
    let prom = promstack::prometheus(&pg, None, "groups: []\n");
    let am = promstack::alertmanager(None);
    push(
        &pg,
        "bad",
        "shop_nan{cloud=\"aws\",region=\"us-east-1\"} NaN\nshop_inf{cloud=\"azure\",region=\"westeurope\"} +Inf\n\
         shop_ok{cloud=\"aws\",region=\"us-east-1\"} 7\n",
    )
    .await;
    let with = |rps: &str| {
        let mut cfg = PrometheusConfig::new(prom.url());
        cfg.backfill_minutes = 0;
        for q in [&mut cfg.queries.rps, &mut cfg.queries.p95_ms, &mut cfg.queries.error_rate, &mut cfg.queries.cpu] {
            *q = Some("shop_ok".into());
        }
        cfg.queries.rps = Some(rps.into());
        cfg
    };
    let ok = PrometheusSource::new("prom", &with("shop_ok"), TIMEOUT).expect("source");
    eventually(20, "the pushed series scraped", || async { poll(&ok).await.ok().filter(|r| r.metrics.len() == 1) })
        .await;

    // A figure whose query returns no series (no p95 histogram exported) is unknown,
    // not 0 ms — in the live figures and in the backfilled history alike.
    let mut no_p95 = with("shop_ok");
    no_p95.queries.p95_ms = Some("shop_missing".into());
    no_p95.backfill_minutes = 5;
    // (A fresh source backfills on its first poll; the range must reach past a scrape.)
    let r = eventually(20, "a backfilled poll", || async {
        let fresh = PrometheusSource::new("prom", &no_p95, TIMEOUT).expect("source");
        poll(&fresh).await.ok().filter(|r| !r.history.is_empty())
    })
    .await;
    assert_eq!(r.metrics.len(), 1, "{r:?}");
    let m = &r.metrics[0];
    assert_eq!((m.rps, m.p95_ms, m.error_rate, m.cpu), (Some(7.0), None, Some(7.0), Some(0.07)), "{m:?}");
    assert!(r.history.iter().all(|(_, p)| p.rps == Some(7.0) && p.p95_ms.is_none()), "{:?}", r.history);

    let err = |cfg: PrometheusConfig| async move {
        poll(&PrometheusSource::new("prom", &cfg, TIMEOUT).expect("source")).await.expect_err("must fail").to_string()
    };
    assert_eq!(err(with("shop_nan")).await, "bad response: query rps returned NaN for aws/us-east-1");
    assert_eq!(err(with("shop_inf")).await, "bad response: query rps returned inf for azure/westeurope");
    let e = err(with("sum(shop_ok")).await;
    assert!(e.contains("query rps: bad_data") && e.contains("parse error"), "{e}");
    // Prometheus itself gives up: its own evaluation timeout (a microsecond here).
    let mut slow = with("shop_ok");
    slow.query_timeout_secs = Some(0.000_001);
    let e = err(slow).await;
    assert!(e.contains("Prometheus gave up: query timed out"), "{e}");

    // A hang, garbage, a 500 and a refusal in front of Prometheus; Alertmanager down.
    // Each marks its own source stale with a reason, and the healthy source stays fresh.
    let front = Faulty::start(prom.port);
    let mut via_front = with("shop_ok");
    via_front.url = front.url();
    let dead_port = free_port();
    let sources = vec![
        schedule(Arc::new(PrometheusSource::new("prom-front", &via_front, TIMEOUT).expect("source"))),
        schedule(Arc::new(
            AlertmanagerSource::new(
                "am-down",
                &AlertmanagerConfig::new(vec![format!("http://127.0.0.1:{dead_port}")]),
                TIMEOUT,
            )
            .expect("am"),
        )),
        schedule(Arc::new(
            // HA: the first peer is down, the second answers.
            AlertmanagerSource::new(
                "am-ha",
                &AlertmanagerConfig::new(vec![format!("http://127.0.0.1:{dead_port}"), am.url()]),
                TIMEOUT,
            )
            .expect("am"),
        )),
    ];
    let reason =
        |f: &Fleet, name: &str| match &f.sources.iter().find(|s| s.id.as_str() == name).expect("source").freshness {
            Freshness::Stale { reason } => reason.clone(),
            other => format!("{other:?}"),
        };
    for (mode, expect) in [
        (Mode::Hang, "timed out"),
        (Mode::Malformed, "unreadable answer"),
        (Mode::Status500, "HTTP 500"),
        (Mode::Refuse, "prom-front"),
    ] {
        front.set(mode);
        let started = std::time::Instant::now();
        let fleet = collect_once(&sources, Utc::now(), false).await;
        assert!(started.elapsed() < TIMEOUT + Duration::from_secs(2), "{mode:?} held the poll up");
        let r = reason(&fleet, "prom-front");
        if mode == Mode::Refuse {
            assert!(r.contains("unreachable") || r.contains("body cut short"), "{mode:?}: {r}");
        } else {
            assert!(r.contains(expect), "{mode:?}: {r}");
        }
        assert!(reason(&fleet, "am-down").contains("cannot connect"), "{}", reason(&fleet, "am-down"));
        assert_eq!(fleet.source(&opsdeck::model::SourceId::new("am-ha")).expect("ha").freshness, Freshness::Fresh);
    }
    // The fault ends; the source recovers on its own.
    front.set(Mode::Forward);
    let fleet = collect_once(&sources, Utc::now(), false).await;
    assert_eq!(fleet.source(&opsdeck::model::SourceId::new("prom-front")).expect("front").freshness, Freshness::Fresh);
    assert_eq!(fleet.metrics.len(), 1);
}

#[test]
fn doctor_checks_each_query_and_peer_and_fails_on_a_dead_one() {
    let pg = promstack::pushgateway();
    let prom = promstack::prometheus(&pg, None, "groups: []\n");
    let am = promstack::alertmanager(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("config.toml");
    let write = |am_urls: &str| {
        let text = format!(
            "[[sources]]\nname = \"prom\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"{}\"\n\
             [[sources]]\nname = \"am\"\nkind = \"alertmanager\"\n[sources.alertmanager]\nurls = [{am_urls}]\n",
            prom.url()
        );
        std::fs::write(&cfg, text).expect("config");
    };
    let doctor = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(["--config", cfg.to_str().expect("utf-8"), "doctor"])
            .env("HOME", dir.path())
            .output()
            .expect("doctor");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    write(&format!("\"{}\"", am.url()));
    let (code, text) = doctor();
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Prometheus 2."), "{text}");
    assert!(text.contains("query rps") && text.contains("query cpu"), "{text}");
    assert!(text.contains("cluster disabled"), "{text}");

    let dead = free_port();
    write(&format!("\"{}\", \"http://127.0.0.1:{dead}\"", am.url()));
    let (code, text) = doctor();
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains(&format!("reach http://127.0.0.1:{dead}")) && text.contains("cannot connect"), "{text}");
    // Each peer's failure in one sentence, its kind said once.
    assert!(
        text.contains(&format!(
            "reach http://127.0.0.1:{dead}: unreachable: GET /api/v2/status at http://127.0.0.1:{dead}: cannot connect: Connection refused\n"
        )),
        "{text}"
    );
    assert!(!text.contains("unreachable: unreachable") && !text.contains("os error"), "{text}");
}

/// Seeded alerts posted to a real Alertmanager (a fresh one per seed): what
/// opsdeck shows equals the generator's truth — the alerts still held, each
/// with its severity and state (firing, acked by a silence, inhibited by a
/// RegionDown), and so the counts by both; resolved ones are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_alerts_in_a_real_alertmanager_read_as_generated() {
    use support::am_estate::{AmEstate, AmTruth};
    let (mut states, mut resolved) = (BTreeMap::<&str, usize>::new(), 0);
    let mut statuses = BTreeMap::<&str, usize>::new();
    for seed in 0..40u64 {
        let am = promstack::alertmanager(None);
        let now = Utc::now();
        let estate = AmEstate::generate(seed, now);
        post_alerts(&am, serde_json::Value::Array(estate.alerts.clone())).await;
        let client = reqwest::Client::new();
        for uid in &estate.silenced {
            let resp = client
                .post(format!("{}/api/v2/silences", am.url()))
                .json(&estate.silence_body(uid, now))
                .send()
                .await
                .expect("silence");
            assert!(resp.status().is_success(), "seed {seed}: silence {uid}: {}", resp.status());
        }
        let src = AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![am.url()]), TIMEOUT).expect("am");
        let shown = |r: &SourceReport| -> BTreeMap<String, AmTruth> {
            r.alerts
                .iter()
                .map(|a| {
                    let uid = a.labels.get("uid").unwrap_or_default().to_string();
                    let name = a.labels.get("alertname").unwrap_or_default().to_string();
                    (uid, AmTruth { severity: a.severity.label(), state: a.state.label(), alertname: name })
                })
                .collect()
        };
        // Inhibition follows the alerts Alertmanager has taken in, a moment after
        // the POST: wait until it settles, then it must equal the truth.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let report = loop {
            let r = poll(&src).await.expect("poll");
            if shown(&r) == estate.truth || std::time::Instant::now() > deadline {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let got = shown(&report);
        assert_eq!(got, estate.truth, "seed {seed}");
        let counts = |m: &BTreeMap<String, AmTruth>| {
            let mut c: BTreeMap<(&str, &str), usize> = BTreeMap::new();
            for t in m.values() {
                *c.entry((t.severity, t.state)).or_default() += 1;
            }
            c
        };
        assert_eq!(counts(&got), counts(&estate.truth), "seed {seed}: by severity and state");

        // The same through the collector and the snapshot JSON: the counts by
        // severity and state, and the status the truth implies (a firing P0 is
        // CRITICAL, a firing P1 or P2 a WARNING; acked, inhibited and silenced
        // ones are no reason).
        let provider: Arc<dyn Provider> = Arc::new(src);
        let schedule = [SourceSchedule { provider, interval: Duration::from_secs(15), timeout: TIMEOUT }];
        let now = Utc::now();
        let snap = opsdeck::snapshot::to_json(&collect_once(&schedule, now, false).await, now);
        let mut in_json: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for a in snap["alerts"].as_array().expect("alerts") {
            let (sev, state) = (a["severity"].as_str().expect("severity"), a["state"].as_str().expect("state"));
            *in_json.entry((sev, state)).or_default() += 1;
        }
        assert_eq!(in_json, counts(&estate.truth), "seed {seed}: snapshot alerts by severity and state: {snap:#}");
        let firing = |sev: &[&str]| estate.truth.values().any(|t| t.state == "firing" && sev.contains(&t.severity));
        let status = if firing(&["P0"]) {
            "CRITICAL"
        } else if firing(&["P1", "P2"]) {
            "WARNING"
        } else {
            "OK"
        };
        assert_eq!(snap["status"].as_str(), Some(status), "seed {seed}: {snap:#}");
        let firing_reasons = snap["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .filter(|r| r.as_str().is_some_and(|r| ["P0 ", "P1 ", "P2 "].iter().any(|p| r.starts_with(p))))
            .count();
        let want_reasons =
            estate.truth.values().filter(|t| t.state == "firing" && ["P0", "P1", "P2"].contains(&t.severity)).count();
        assert_eq!(firing_reasons, want_reasons, "seed {seed}: a reason per firing P0–P2 alert: {snap:#}");
        *statuses.entry(status).or_default() += 1;
        for a in report.alerts.iter() {
            // Non-ASCII label and annotation values arrive whole (sanitised only to draw).
            let name = a.labels.get("alertname").expect("alertname");
            assert!(a.title.starts_with(name), "seed {seed}: {}", a.title);
            if let AlertState::Acknowledged { by, comment, .. } = &a.state {
                assert_eq!((by.as_str(), comment.as_str()), (format!("gen-{seed}").as_str(), "mantenimiento 维护"));
            }
            if let AlertState::Inhibited { by } = &a.state {
                assert_eq!(by, "RegionDown", "seed {seed}");
            }
        }
        for t in estate.truth.values() {
            *states.entry(t.state).or_default() += 1;
        }
        resolved += estate.resolved;
    }
    // The seeds cover every state, and resolved alerts were posted and not shown.
    assert!(states.len() == 3 && states.values().all(|n| *n >= 3) && resolved >= 3, "{states:?} {resolved}");
    eprintln!("alertmanager seeds: statuses {statuses:?}");
    assert!(statuses.len() >= 2, "the seeds give more than one status: {statuses:?}");
}
