//! Render snapshots of every pane on the deterministic demo (ratatui TestBackend
//! + insta), at the two sizes people use most: an SSH window and a big terminal.

use std::sync::Arc;

use chrono::Duration;
use opsdeck::actions::AuditRecord;
use opsdeck::app::{App, Msg, Pane};
use opsdeck::clock::reference_instant;
use opsdeck::model::{Alert, AlertState, CloudKind, Fleet, Severity, SourceId};
use opsdeck::providers::demo::{self, Drill, DrillBook, DrillCommand, EstateSpec};
use opsdeck::theme::{ColorMode, Theme};
use opsdeck::ui::{self, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn estate() -> Arc<EstateSpec> {
    Arc::new(EstateSpec::embedded().expect("embedded estate"))
}

/// The demo two minutes into an AZ outage on AWS with a slow AWS–Azure link.
fn drilled_fleet() -> Fleet {
    let now = reference_instant();
    let mut book = DrillBook::default();
    let start = now - Duration::seconds(40);
    book.apply(DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() }), start)
        .expect("drill");
    book.apply(DrillCommand::Start(Drill::LinkLatency { a: CloudKind::Aws, b: CloudKind::Azure, ms: 300.0 }), start)
        .expect("drill");
    demo::fleet_at(&estate(), &book, now, 120)
}

fn render(fleet: &Fleet, pane: Pane, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut app = App::new(Some(estate()));
    app.update(Msg::Resize { width, height }, fleet);
    app.update(Msg::FleetChanged, fleet);
    app.pane = pane;
    draw(&app, fleet, width, height)
}

fn draw(app: &App, fleet: &Fleet, width: u16, height: u16) -> Terminal<TestBackend> {
    let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
    let mut term = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    term.draw(|f| ui::draw(f, &View { app, fleet, theme: &theme, now: reference_instant() })).expect("draw");
    term
}

fn screen(term: &Terminal<TestBackend>) -> String {
    term.backend().to_string()
}

macro_rules! pane_snapshots {
    ($($name:ident => $pane:expr),* $(,)?) => {$(
        #[test]
        fn $name() {
            let fleet = drilled_fleet();
            for (w, h) in [(80, 24), (160, 48)] {
                let term = render(&fleet, $pane, w, h);
                insta::assert_snapshot!(format!("{}_{w}x{h}", stringify!($name)), screen(&term));
            }
        }
    )*};
}

pane_snapshots! {
    overview => Pane::Overview,
    health => Pane::Health,
    traffic => Pane::Traffic,
    cost => Pane::Cost,
    alerts => Pane::Alerts,
    logs => Pane::Logs,
    help => Pane::Help,
}

/// An audit history as the console loads it at start-up (the audit log's last
/// lines, oldest first), one attempt of every outcome: who acted and from where,
/// the request id, a forced action's typed reason, an error, a refusal's plan.
fn audit_history() -> Vec<AuditRecord> {
    let at = |minutes_ago: i64| (reference_instant() - Duration::minutes(minutes_ago)).to_rfc3339();
    let line = |minutes_ago: i64, user: &str, action: &str, target: &str, plan: &str, tail: serde_json::Value| {
        let mut record = serde_json::json!({
            "time": at(minutes_ago),
            "actor": {"user": user, "host": "bastion-1", "ssh_client": "10.0.4.7 52114 22"},
            "action": action, "target": target, "source": "demo", "plan": [plan],
            "changes": [], "guards": [], "forced": null, "request_id": null, "error": null,
        });
        record.as_object_mut().expect("object").extend(tail.as_object().expect("object").clone());
        serde_json::from_value(record).expect("an audit line")
    };
    use serde_json::json;
    vec![
        line(
            95,
            "oncall",
            "scale aws/web-asg 6",
            "aws/web-asg",
            "AWS web-asg: desired 4 → 6 (min 2, max 12)",
            json!({"outcome": "executed", "request_id": "5f1c9a2e-scale-web-asg"}),
        ),
        line(
            80,
            "oncall",
            "failover aws -> azure",
            "azure",
            "AWS shop-prod: weight 60 → 0 (share 60% → 0%)",
            json!({"outcome": "refused"}),
        ),
        line(
            78,
            "oncall",
            "failover aws -> azure",
            "azure",
            "AWS shop-prod: weight 60 → 0 (share 60% → 0%)",
            json!({"outcome": "cancelled"}),
        ),
        line(
            61,
            "lead",
            "failover aws -> azure 20%",
            "azure",
            "AWS shop-prod: weight 60 → 40 (share 60% → 40%)",
            json!({"outcome": "executed", "request_id": "C2PLM3QX9", "forced": "us-west-1a is down, lag is known stale"}),
        ),
        line(
            40,
            "oncall",
            "scale aliyun/api-ess 8",
            "aliyun/api-ess",
            "Alibaba api-ess: desired 4 → 8 (min 2, max 8)",
            json!({"outcome": "failed", "error": "Throttling.User: Request was denied due to user flow control"}),
        ),
        line(
            22,
            "oncall",
            "ack 42 for 30m",
            "42",
            "DiskFull db-1: firing → acknowledged for 30 min",
            json!({"outcome": "unknown", "error": "the answer was lost: connection closed before the response"}),
        ),
        line(
            21,
            "oncall",
            "ack 42 for 30m",
            "42",
            "DiskFull db-1: firing → acknowledged for 30 min",
            json!({"outcome": "landed"}),
        ),
        line(
            5,
            "oncall",
            "drain aliyun",
            "aliyun",
            "Alibaba shop-gtm: weight 20 → 0 (share 20% → 0%)",
            json!({"outcome": "not_landed", "error": "a fresh read shows no change; nothing was re-sent"}),
        ),
    ]
}

#[test]
fn audit() {
    let fleet = drilled_fleet();
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = App::new(Some(estate()));
        app.update(Msg::Resize { width: w, height: h }, &fleet);
        app.update(Msg::FleetChanged, &fleet);
        for record in audit_history() {
            app.update(Msg::Audited(Box::new(record)), &fleet);
        }
        app.pane = Pane::Audit;
        let s = screen(&draw(&app, &fleet, w, h));
        assert!(s.contains("Audit: 8 attempts"), "{s}");
        // Newest first: the verdict on the drain above everything older.
        let row = |needle: &str| s.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}:\n{s}"));
        assert!(row("drain aliyun") < row("ack 42 for 30m") && row("ack 42 for 30m") < row("scale aws/web-asg"), "{s}");
        // Every outcome whole, the longest ("not landed") too.
        for outcome in ["executed", "refused", "cancelled", "failed", "unknown", "landed", "not landed"] {
            assert!(s.contains(outcome), "{outcome}:\n{s}");
        }
        insta::assert_snapshot!(format!("audit_{w}x{h}"), s);
    }
}

#[test]
fn an_empty_audit_pane_says_what_it_will_record() {
    let s = screen(&render(&drilled_fleet(), Pane::Audit, 80, 24));
    assert!(s.contains("No action has been attempted yet"), "{s}");
    insta::assert_snapshot!("audit_empty_80x24", s);
}

#[test]
fn quiet_overview_shows_demo_badge_and_no_open_alerts_but_standing_ones() {
    let fleet = demo::fleet_at(&estate(), &DrillBook::default(), reference_instant(), 1);
    let s = screen(&render(&fleet, Pane::Overview, 80, 24));
    assert!(s.contains("DEMO"));
    assert!(s.contains("AWS us-west-1") && s.contains("Azure westeurope") && s.contains("Alibaba cn-hangzhou"));
    assert!(s.contains("● reachable"), "arbiter reachability is shown");
}

#[test]
fn every_size_down_to_the_minimum_draws_without_panic() {
    let fleet = drilled_fleet();
    for pane in Pane::ALL {
        for (w, h) in [(40, 12), (41, 13), (57, 17), (80, 24), (100, 30), (250, 80)] {
            let s = screen(&render(&fleet, pane, w, h));
            assert!(!s.contains("too small"), "{pane:?} at {w}x{h}");
        }
    }
    let s = screen(&render(&fleet, Pane::Overview, 39, 12));
    assert!(s.contains("too small"));
}

#[test]
fn remote_text_is_sanitised_before_it_reaches_the_screen() {
    let mut fleet = drilled_fleet();
    fleet.alerts.push(Alert {
        id: "evil".into(),
        source: SourceId::new("demo"),
        cloud: Some(CloudKind::Aws),
        severity: Severity::P0,
        title: "pwn\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31mRED\u{202e}gnp.exe\r\nnext".into(),
        resource: "\u{9b}6nres".into(),
        started_at: reference_instant(),
        state: AlertState::Acknowledged {
            by: "mallory\u{1b}[8m".into(),
            at: reference_instant(),
            comment: "hidden\u{1b}]52;c;cm0gLXJmIC8=\u{7}".into(),
        },
        route: "x\u{1b}[?1049lroute".into(),
        labels: [("team\u{1b}[5m".to_string(), "pay\u{202e}ments\u{0}".to_string())].into(),
    });
    // Only the selected alert's labels and ack are drawn in full: select the hostile one.
    let mut alerts = fleet.alerts.to_vec();
    let evil = alerts.len() - 1;
    alerts.swap(0, evil);
    fleet.alerts = alerts.into();
    let term = render(&fleet, Pane::Alerts, 160, 30);
    let s = screen(&term);
    assert!(s.contains("acked by mallory"), "{s}");
    assert!(s.contains("team=pay"), "{s}");
    assert!(s.contains("pwnRED\u{fffd}gnp.exe  next"), "{s}");
    assert!(s.contains("xroute"));
    for cell in term.backend().buffer().content() {
        assert!(!cell.symbol().chars().any(|c| c.is_control()), "control char in {:?}", cell.symbol());
    }
}

#[test]
fn long_lists_draw_only_what_fits_and_follow_the_selection() {
    let mut fleet = drilled_fleet();
    let template = fleet.alerts[0].clone();
    fleet.alerts = (0..10_000)
        .map(|i| Alert { id: format!("a{i}"), title: format!("alert number {i:05}"), ..template.clone() })
        .collect();
    let mut app = App::new(Some(estate()));
    app.update(Msg::FleetChanged, &fleet);
    app.pane = Pane::Alerts;
    app.alerts.selected = 9_999;
    let s = screen(&draw(&app, &fleet, 80, 24));
    assert!(s.contains("Alerts (10000)"));
    assert!(s.contains("alert number 09999"), "the selected last row is visible");
    assert!(!s.contains("alert number 00000"));
}

/// An estate unlike the demo, read from real sources (and the demo beside them):
/// AWS in two regions (one with no front-door metrics), two AWS accounts; Alibaba
/// with a group scaled to zero and an inactive one; Azure simulated by the demo,
/// billed in EUR, beside a real Azure subscription billed in USD on a run rate
/// it is too early to extrapolate. No DNS policy is read.
fn real_estate() -> Fleet {
    use opsdeck::model::{
        CloudMetrics, CostSnapshot, Forecast, Freshness, ScalingGroup, SourceReport, SourceStatus, ZoneCapacity,
    };
    let now = reference_instant();
    let status = |id: &str, kind: &str| SourceStatus {
        freshness: Freshness::Fresh,
        last_ok: Some(now - Duration::seconds(4)),
        last_attempt: Some(now),
        interval_secs: 30,
        ..SourceStatus::new(SourceId::new(id), kind)
    };
    let group = |src: &str, cloud, region: &str, name: &str, desired: u32, healthy: u32| ScalingGroup {
        source: SourceId::new(src),
        cloud,
        region: region.into(),
        name: name.into(),
        min: 0,
        max: 8,
        desired,
        zones: vec![ZoneCapacity { zone: format!("{region}-a"), in_service: healthy, healthy }],
        spot_share: 0.0,
        rps_per_instance: None,
        inactive: false,
        instance_type: None,
    };
    let cost = |cloud, currency: &str, mtd: f64, forecast| SourceReport {
        costs: vec![CostSnapshot {
            cloud,
            currency: currency.into(),
            month_to_date: mtd,
            forecast,
            by_service: vec![("Compute".into(), mtd * 0.75), ("Storage".into(), mtd * 0.25)],
        }],
        ..SourceReport::default()
    };
    let metrics = |cloud, region: &str, rps, p95_ms, error_rate| CloudMetrics {
        cloud,
        region: region.into(),
        rps: Some(rps),
        p95_ms: Some(p95_ms),
        error_rate: Some(error_rate),
        cpu: Some(0.4),
    };
    let mut east = cost(CloudKind::Aws, "USD", 1234.0, Forecast::Cloud(2500.0));
    east.metrics.push(metrics(CloudKind::Aws, "us-east-1", 1200.0, 180.0, 0.004));
    Arc::make_mut(&mut east.groups).push(group("aws-east", CloudKind::Aws, "us-east-1", "web-asg", 4, 4));
    let mut west = cost(CloudKind::Aws, "USD", 500.0, Forecast::RunRate(900.0));
    Arc::make_mut(&mut west.groups).push(group("aws-west", CloudKind::Aws, "us-west-2", "web-asg-w", 3, 3));
    let mut ali = cost(CloudKind::Aliyun, "CNY", 3000.0, Forecast::RunRate(9000.0));
    let mut inactive = group("ali", CloudKind::Aliyun, "cn-hangzhou", "batch-ess", 2, 0);
    inactive.inactive = true;
    Arc::make_mut(&mut ali.groups).push(group("ali", CloudKind::Aliyun, "cn-hangzhou", "web-ess", 0, 0));
    Arc::make_mut(&mut ali.groups).push(inactive);
    let mut sim = cost(CloudKind::Azure, "EUR", 560.0, Forecast::Cloud(1200.0));
    sim.metrics.push(metrics(CloudKind::Azure, "westeurope", 300.0, 95.0, 0.0));
    Arc::make_mut(&mut sim.groups).push(group("demo", CloudKind::Azure, "westeurope", "web-vmss", 3, 3));
    let az = cost(CloudKind::Azure, "USD", 1000.0, Forecast::TooEarly);
    let sources = [
        (status("aws-east", "aws"), east),
        (status("aws-west", "aws"), west),
        (status("ali", "aliyun"), ali),
        (status("demo", "demo"), sim),
        (status("az-prod", "azure"), az),
    ];
    let pairs: Vec<_> = sources.into_iter().map(|(s, r)| (s, Some(Arc::new(r)))).collect();
    Fleet::merge(1, now, false, &pairs, Default::default())
}

/// AWS whose load balancer reports requests but no latency or 5xx figure, with a
/// traffic history that has a poll nobody reported requests for; Azure reporting
/// CPU only (no front door configured).
fn partly_measured() -> Fleet {
    use opsdeck::model::{
        CloudMetrics, Freshness, ScalingGroup, SourceReport, SourceStatus, TrafficHistory, TrafficPoint, ZoneCapacity,
    };
    let now = reference_instant();
    let status = |id: &str, kind: &str| SourceStatus {
        freshness: Freshness::Fresh,
        last_ok: Some(now - Duration::seconds(4)),
        last_attempt: Some(now),
        interval_secs: 30,
        ..SourceStatus::new(SourceId::new(id), kind)
    };
    let group = |src: &str, cloud, region: &str| ScalingGroup {
        source: SourceId::new(src),
        cloud,
        region: region.into(),
        name: format!("web-{}", cloud.slug()),
        min: 1,
        max: 8,
        desired: 3,
        zones: vec![ZoneCapacity { zone: format!("{region}-a"), in_service: 3, healthy: 3 }],
        spot_share: 0.0,
        rps_per_instance: None,
        inactive: false,
        instance_type: None,
    };
    let aws = SourceReport {
        metrics: vec![CloudMetrics {
            cloud: CloudKind::Aws,
            region: "us-east-1".into(),
            rps: Some(1200.0),
            p95_ms: None,
            error_rate: None,
            cpu: Some(0.4),
        }],
        groups: vec![group("aws", CloudKind::Aws, "us-east-1")].into(),
        ..SourceReport::default()
    };
    // A second region: requests and 5xx, still no latency, and no CPU.
    let aws_west = SourceReport {
        metrics: vec![CloudMetrics {
            cloud: CloudKind::Aws,
            region: "us-west-2".into(),
            rps: Some(300.0),
            p95_ms: None,
            error_rate: Some(0.001),
            cpu: None,
        }],
        ..SourceReport::default()
    };
    let azure = SourceReport {
        metrics: vec![CloudMetrics {
            cloud: CloudKind::Azure,
            region: "westeurope".into(),
            rps: None,
            p95_ms: None,
            error_rate: None,
            cpu: Some(0.3),
        }],
        groups: vec![group("az", CloudKind::Azure, "westeurope")].into(),
        ..SourceReport::default()
    };
    let mut history = std::collections::BTreeMap::new();
    let mut aws_history = TrafficHistory::default();
    for (i, rps) in [Some(1000.0), Some(1100.0), None, Some(1200.0)].into_iter().enumerate() {
        let at = now - Duration::seconds(30 * (3 - i as i64));
        aws_history.push(TrafficPoint { at, rps, p95_ms: None, error_rate: None });
    }
    history.insert(CloudKind::Aws, aws_history);
    let sources = [(status("aws", "aws"), aws), (status("aws-west", "aws"), aws_west), (status("az", "azure"), azure)];
    let pairs: Vec<_> = sources.into_iter().map(|(s, r)| (s, Some(Arc::new(r)))).collect();
    Fleet::merge(1, now, false, &pairs, history)
}

#[test]
fn a_region_with_requests_but_no_p95_shows_a_dash_not_zero() {
    let fleet = partly_measured();
    let now = reference_instant();
    let s = screen(&render(&fleet, Pane::Overview, 160, 48));
    assert!(s.contains("● us-east-1 1,200/s – ms –"), "{s}");
    assert!(s.contains("● us-west-2 300/s – ms 0.10%"), "{s}");
    // The cloud: requests summed, p95 unknown since no region reports one.
    assert!(s.contains("Req/s    1,500") && s.contains("p95      –"), "{s}");
    // Azure reports CPU only, which says nothing of traffic.
    assert_eq!(s.matches("Req/s    –").count(), 1, "{s}");
    assert!(!s.contains(" 0 ms") && !s.contains(" 0/s") && !s.contains("0.00%"), "{s}");
    insta::assert_snapshot!("partly_measured_overview_160x48", s);

    // The Traffic pane: the title's figures, and the unreported poll drawn as a shaded
    // gap (░) rather than as a fall to nothing.
    let t = screen(&render(&fleet, Pane::Traffic, 160, 48));
    assert!(t.contains("1,500 req/s · p95 – ms · 5xx 0.10%"), "{t}");
    assert!(t.contains("westeurope · – req/s · p95 – ms · 5xx –"), "{t}");
    assert!(t.contains("peak 1,200 req/s over 4 polls"), "{t}");
    assert!(t.contains("░"), "the gap is visible: {t}");
    assert!(t.contains("peak – req/s over 0 polls"), "Azure has no request series: {t}");
    insta::assert_snapshot!("partly_measured_traffic_160x48", t);

    // The wallboard likewise.
    {
        use opsdeck::app::wallboard::Wallboard;
        use opsdeck::ui::wallboard::{WallView, draw};
        let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
        let board = Wallboard::new(Duration::seconds(20));
        let mut term = Terminal::new(TestBackend::new(160, 40)).expect("terminal");
        let view = WallView { board: &board, fleet: &fleet, theme: &theme, now, stale_after_secs: 60 };
        term.draw(|f| draw(f, &view)).expect("draw");
        let w = screen(&term);
        assert!(w.contains("1,500 req/s   p95 – ms"), "{w}");
        assert!(w.contains("– req/s   p95 – ms") && w.contains("5xx –"), "Azure: {w}");
        assert!(!w.contains(" 0 ms") && !w.contains(" 0 req/s"), "{w}");
    }

    // The snapshot: null where nothing was reported, in the JSON and the table.
    let null = serde_json::Value::Null;
    let v = opsdeck::snapshot::to_json(&fleet, now);
    let aws = v["clouds"].as_array().and_then(|a| a.iter().find(|c| c["cloud"] == "aws")).expect("aws");
    let figures = |v: &serde_json::Value| (v["rps"].clone(), v["p95_ms"].clone(), v["error_rate"].clone());
    assert_eq!(figures(aws), (serde_json::json!(1500.0), null.clone(), serde_json::json!(0.001)));
    let region = &aws["regions"][0];
    assert_eq!(region["region"], "us-east-1");
    assert_eq!(figures(region), (serde_json::json!(1200.0), null.clone(), null.clone()));
    let azure = v["clouds"].as_array().and_then(|a| a.iter().find(|c| c["cloud"] == "azure")).expect("azure");
    assert_eq!(figures(azure), (null.clone(), null.clone(), null));
    let table = opsdeck::snapshot::to_table(&fleet, now);
    assert!(!table.contains("0 ms"), "{table}");
}

#[test]
fn a_real_estate_on_the_overview_health_and_cost_panes() {
    let fleet = real_estate();
    for (pane, name) in [(Pane::Overview, "overview"), (Pane::Health, "health"), (Pane::Cost, "cost")] {
        for (w, h) in [(80, 24), (160, 48)] {
            let term = render(&fleet, pane, w, h);
            insta::assert_snapshot!(format!("real_estate_{name}_{w}x{h}"), screen(&term));
        }
    }
}

#[test]
fn every_region_idle_groups_unknown_figures_and_each_currency_are_on_the_overview() {
    let s = screen(&render(&real_estate(), Pane::Overview, 160, 48));
    // Both AWS regions, each with its own figures; the one nobody measures shows dashes.
    assert!(s.contains("AWS · 2 regions"), "{s}");
    assert!(s.contains("● us-east-1 1,200/s 180 ms 0.40%"), "{s}");
    assert!(s.contains("● us-west-2 –/s – ms –"), "{s}");
    assert!(s.contains("Req/s    1,200"), "the cloud's rate is what is reported: {s}");
    // Alibaba: every group idle or inactive — IDLE, not DOWN, and no made-up figures.
    assert!(s.contains("○ IDLE"), "{s}");
    assert!(!s.contains("DOWN") && !s.contains("0 req/s") && !s.contains(" 0 ms"), "{s}");
    // Two AWS accounts summed; Azure in two currencies, never added together.
    assert!(s.contains("$1,734"), "{s}");
    assert!(s.contains("$3,400"), "{s}");
    assert!(s.contains("€560 + $1,000"), "{s}");
    assert!(s.contains("€1,200 + USD too early"), "{s}");
    // The demo beside real sources: only what it made is labelled. Azure's region
    // is simulated, one of its accounts is real: "part DEMO".
    assert!(s.contains("part DEMO Azure westeurope"), "{s}");
    assert!(!s.contains("DEMO AWS") && !s.contains("DEMO Alibaba"), "{s}");
    assert!(!s.lines().next().is_some_and(|header| header.contains("DEMO")), "no whole-screen badge: {s}");
    let h = screen(&render(&real_estate(), Pane::Health, 160, 48));
    assert!(h.contains("DEMO web-vmss") && !h.contains("DEMO web-asg"), "{h}");
    assert!(h.contains("inactive") && h.contains("idle"), "{h}");
}

#[test]
fn a_real_estate_on_the_wallboard() {
    use opsdeck::app::wallboard::Wallboard;
    use opsdeck::ui::wallboard::{WallView, draw};
    let fleet = real_estate();
    let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
    let board = Wallboard::new(Duration::seconds(20));
    let mut term = Terminal::new(TestBackend::new(160, 40)).expect("terminal");
    let view = WallView { board: &board, fleet: &fleet, theme: &theme, now: reference_instant(), stale_after_secs: 60 };
    term.draw(|f| draw(f, &view)).expect("draw");
    let s = screen(&term);
    insta::assert_snapshot!("real_estate_wallboard_160x40", s);
    assert!(s.contains("us-west-2 OK – req/s") && s.contains("IDLE"), "{s}");
}

#[test]
fn the_snapshot_of_a_real_estate_says_what_is_known_and_nothing_more() {
    use opsdeck::snapshot::{Status, evaluate, to_json, to_table};
    let fleet = real_estate();
    let now = reference_instant();
    // An idle Alibaba is not an outage: nothing here is CRITICAL or even WARNING.
    assert_eq!(evaluate(&fleet, now), (Status::Ok, vec![]));
    let v = to_json(&fleet, now);
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["demo"], false);
    let cloud = |slug: &str| v["clouds"].as_array().and_then(|a| a.iter().find(|c| c["cloud"] == slug)).expect(slug);
    let aws = cloud("aws");
    assert_eq!(aws["rps"], 1200.0);
    assert_eq!(aws["traffic_share"], serde_json::Value::Null, "no DNS policy read");
    let regions: Vec<(&str, &serde_json::Value)> = aws["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .map(|r| (r["region"].as_str().expect("name"), &r["rps"]))
        .collect();
    assert_eq!(regions, vec![("us-east-1", &serde_json::json!(1200.0)), ("us-west-2", &serde_json::Value::Null)]);
    assert_eq!(
        aws["costs"],
        serde_json::json!([
            {"currency": "USD", "month_to_date": 1734.0, "forecast": 3400.0, "forecast_basis": "run_rate", "accounts": 2}
        ])
    );
    let ali = cloud("aliyun");
    assert_eq!(
        (&ali["health"], &ali["rps"], &ali["p95_ms"], &ali["error_rate"]),
        (&serde_json::json!("IDLE"), &serde_json::Value::Null, &serde_json::Value::Null, &serde_json::Value::Null)
    );
    let azure = cloud("azure");
    assert_eq!(azure["demo"], false, "half of Azure is a real subscription");
    assert_eq!(azure["regions"][0]["demo"], true);
    assert_eq!(
        azure["costs"],
        serde_json::json!([
            {"currency": "EUR", "month_to_date": 560.0, "forecast": 1200.0, "forecast_basis": "cloud", "accounts": 1},
            {"currency": "USD", "month_to_date": 1000.0, "forecast": null, "forecast_basis": "too_early", "accounts": 1}
        ])
    );
    let groups: Vec<(&str, &str, &serde_json::Value, bool)> = v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (g["name"].as_str().expect("name"), g["health"].as_str().expect("health"), &g["idle"], g["demo"] == true)
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            ("web-asg", "OK", &serde_json::Value::Null, false),
            ("web-asg-w", "OK", &serde_json::Value::Null, false),
            ("web-ess", "IDLE", &serde_json::json!("idle"), false),
            ("batch-ess", "IDLE", &serde_json::json!("inactive"), false),
            ("web-vmss", "OK", &serde_json::Value::Null, true),
        ]
    );
    let costs: Vec<(&str, bool)> = v["costs"]
        .as_array()
        .expect("costs")
        .iter()
        .map(|c| (c["source"].as_str().expect("source"), c["demo"] == true))
        .collect();
    assert_eq!(
        costs,
        vec![("aws-east", false), ("aws-west", false), ("ali", false), ("demo", true), ("az-prod", false)]
    );
    let table = to_table(&fleet, now);
    insta::assert_snapshot!("real_estate_snapshot_table", table);
}

/// Links as the links source reports them: one within target, one over it, one
/// lossy, one nothing could measure, one whose interconnect is down.
fn with_links() -> Fleet {
    use opsdeck::model::Link;
    let mut fleet = real_estate();
    let link = |name: &str, a, b, rtt_ms: Option<f64>, loss: Option<f64>, via: &str| Link {
        name: name.into(),
        a,
        b,
        rtt_ms,
        loss,
        bps: None,
        up: None,
        target_ms: 40.0,
        via: vec![via.into()],
        error: None,
    };
    fleet.links = vec![
        link("orders-db", CloudKind::Aws, CloudKind::Azure, Some(12.4), Some(0.0), "tcp 10.20.0.5:5432: median 12 ms"),
        link(
            "cache-sync",
            CloudKind::Azure,
            CloudKind::Aliyun,
            Some(57.0),
            None,
            "PromQL probe_duration_seconds: 57 ms",
        ),
        link(
            "dual-write",
            CloudKind::Aws,
            CloudKind::Aliyun,
            Some(31.0),
            Some(0.4),
            "https://oss-gw.example/healthz: x",
        ),
        Link {
            error: Some("cannot connect: Connection refused\x1b[31m".into()),
            ..link("witness-path", CloudKind::Aws, CloudKind::Aliyun, None, Some(1.0), "tcp 10.30.0.9:443: no answer")
        },
        Link {
            up: Some(false),
            ..link("dx-1", CloudKind::Aws, CloudKind::Azure, Some(3.2), None, "tcp 10.0.0.1:179: x")
        },
    ];
    fleet.link_sources = vec![SourceId::new("links"); fleet.links.len()];
    fleet
}

#[test]
fn links_on_the_overview_show_round_trip_against_target_loss_and_how_measured() {
    let fleet = with_links();
    let s = screen(&render(&fleet, Pane::Overview, 160, 48));
    insta::assert_snapshot!("links_overview_160x48", s);
    assert!(s.contains("orders-db AWS↔Azure  rtt 12 / 40 ms  loss 0.0%  via tcp"), "{s}");
    assert!(s.contains("cache-sync Azure↔Alibaba  rtt 57 / 40 ms  via PromQL"), "{s}");
    assert!(s.contains("rtt unknown / 40 ms  loss 100.0%  via tcp  cannot connect: Connection refused"), "{s}");
    assert!(s.contains("DOWN") && !s.contains('\x1b'), "{s}");
    // At 80×24 the lines fit their width (the error is cut, not wrapped).
    insta::assert_snapshot!("links_overview_80x24", screen(&render(&fleet, Pane::Overview, 80, 24)));
}

/// The drilled demo beside an Alertmanager whose routes come from a config with
/// nested routes, a blackhole default and a hostile receiver name; one of its
/// alerts pages through two receivers.
fn fleet_with_am_routes() -> (Fleet, String) {
    use opsdeck::model::Labels;
    use opsdeck::providers::prometheus::alertmanager::routes::{Labelling, parse_config};
    use opsdeck::providers::shared::severity;
    let config = r##"
route:
  receiver: blackhole
  routes:
    - matchers: ['severity=~"critical|page"']
      receiver: pager
      continue: true
      routes:
        - matchers: ['cloud="aws"']
          receiver: aws-oncall
    - match: {cloud: aliyun}
      receiver: "chat\u001b[2Jroom"
receivers:
  - name: blackhole
  - name: pager
    pagerduty_configs: [{routing_key: "<secret>"}]
    opsgenie_configs: [{responders: [{name: sre, type: team}]}]
  - name: aws-oncall
    sns_configs: [{topic_arn: "arn:aws:sns:us-east-1:123456789012:aws-pager"}, {phone_number: "+15550100100"}]
    email_configs: [{to: "oncall@example.com"}]
  - name: "chat\u001b[2Jroom"
    slack_configs: [{channel: "#aliyun-ops"}]
"##;
    let tree = parse_config(config).expect("config");
    let map = severity::map(severity::ALERTMANAGER);
    let how = Labelling { severity_label: "severity", severity_map: &map, cloud_label: "cloud" };
    let mut fleet = drilled_fleet();
    fleet.routes.extend(tree.notification_routes(&SourceId::new("am"), &how));
    let labels = Labels::new([("alertname", "RegionDown"), ("severity", "critical"), ("cloud", "aliyun")]);
    let route = tree.receivers_for(&labels).join(", ");
    fleet.alerts.push(Alert {
        id: "fp-am-1".into(),
        source: SourceId::new("am"),
        cloud: Some(CloudKind::Aliyun),
        severity: Severity::P0,
        title: "RegionDown: cn-hangzhou unreachable".into(),
        resource: "cn-hangzhou".into(),
        started_at: reference_instant() - Duration::seconds(30),
        state: AlertState::Firing,
        route,
        labels,
    });
    (fleet, "fp-am-1".into())
}

/// The Routes view (`p` on the Alerts pane): severity × cloud → channels, a
/// row per route of every source, with the alerts firing through each; and
/// back. The selected alert's detail says where it paged.
#[test]
fn the_routes_view_and_where_the_selected_alert_paged() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let (fleet, id) = fleet_with_am_routes();
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = App::new(Some(estate()));
        app.update(Msg::Resize { width: w, height: h }, &fleet);
        app.update(Msg::FleetChanged, &fleet);
        app.pane = Pane::Alerts;
        app.alerts.selected =
            app.alert_rows.iter().position(|&i| fleet.alerts.get(i).is_some_and(|a| a.id == id)).expect("row");
        let alerts = screen(&draw(&app, &fleet, w, h));
        assert!(alerts.contains("paged: pager → opsgenie:te…re, pagerduty · chatroom → slack:#ali…-ops"), "{alerts}");
        insta::assert_snapshot!(format!("alerts_paged_{w}x{h}"), alerts);

        app.update(Msg::Key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE)), &fleet);
        let term = draw(&app, &fleet, w, h);
        let routes = screen(&term);
        assert!(routes.contains("blackhole: no channels"), "{routes}");
        assert!(routes.contains("chatroom") && !routes.contains("\u{1b}"), "sanitised: {routes}");
        for cell in term.backend().buffer().content() {
            assert!(!cell.symbol().chars().any(|c| c.is_control()), "control char in {:?}", cell.symbol());
        }
        insta::assert_snapshot!(format!("routes_{w}x{h}"), routes);

        app.update(Msg::Key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE)), &fleet);
        assert_eq!(screen(&draw(&app, &fleet, w, h)), alerts, "p again: back to the alerts");
    }
    // More routes than rows: j scrolls the view and the title says what is above
    // and below; k goes back; the alerts keep their selection.
    let (w, h) = (80, 15);
    let mut fleet = fleet;
    for i in 0..8 {
        let mut r = fleet.routes[0].clone();
        r.receiver = format!("extra-{i}");
        fleet.routes.push(r);
    }
    let key = |c| Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let mut app = App::new(Some(estate()));
    app.update(Msg::Resize { width: w, height: h }, &fleet);
    app.update(Msg::FleetChanged, &fleet);
    app.pane = Pane::Alerts;
    let selected = app.alerts.selected;
    app.update(key('p'), &fleet);
    let top = screen(&draw(&app, &fleet, w, h));
    assert!(top.contains("· 5 below (j/k)") && !top.contains("above"), "{top}");
    app.update(key('j'), &fleet);
    let scrolled = screen(&draw(&app, &fleet, w, h));
    assert!(scrolled.contains("· 1 above · 4 below") && scrolled != top, "{scrolled}");
    app.update(key('k'), &fleet);
    assert_eq!(screen(&draw(&app, &fleet, w, h)), top, "k: back to the top");
    assert_eq!(app.alerts.selected, selected, "scrolling the routes moves no alert selection");
}

/// A source whose prices are read hourly says so in the Logs pane's call count.
#[test]
fn the_logs_pane_names_hourly_reads_apart_from_each_polls_calls() {
    use opsdeck::model::PollCost;
    let mut fleet = drilled_fleet();
    fleet.sources[0].poll_cost = Some(PollCost { api_calls: 6, slow_calls: Some((2, 3600)), ..PollCost::default() });
    let s = screen(&render(&fleet, Pane::Logs, 160, 48));
    assert!(s.contains("6 +2/1h"), "{s}");
    fleet.sources[0].poll_cost = Some(PollCost { api_calls: 6, slow_calls: Some((1, 1800)), ..PollCost::default() });
    assert!(screen(&render(&fleet, Pane::Logs, 160, 48)).contains("6 +1/30m"));
    fleet.sources[0].poll_cost = Some(PollCost { api_calls: 6, ..PollCost::default() });
    let s = screen(&render(&fleet, Pane::Logs, 160, 48));
    assert!(s.contains(" 6 ") && !s.contains("+"), "no hourly reads: the count alone");
}

/// The Timeline pane over a drill as the console's observer saw it read by read:
/// the drill, AWS falling, the alerts at their detected times, the audited
/// failover, with time to detect in the title; scrolled back, it says so.
#[test]
fn the_timeline_of_a_drill() {
    use opsdeck::timeline::{Observer, drill_entry};
    let start = reference_instant() - Duration::seconds(100);
    let mut book = DrillBook::default();
    let said = book
        .apply(DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() }), start)
        .expect("drill");
    let mut observer = Observer::new();
    let mut seen = vec![drill_entry(&said, start, "oncall@bastion")];
    let mut fleet = Fleet::default();
    for s in (-120..=0).step_by(10) {
        let at = reference_instant() + Duration::seconds(s);
        fleet = demo::fleet_at(&estate(), &book, at, 1);
        seen.extend(observer.observe(&Arc::new(fleet.clone()), at));
    }
    let mut app = App::new(Some(estate()));
    app.update(Msg::Resize { width: 120, height: 30 }, &fleet);
    app.update(Msg::FleetChanged, &fleet);
    app.update(Msg::Observed(seen), &fleet);
    app.pane = Pane::Timeline;
    let s = screen(&draw(&app, &fleet, 120, 30));
    assert!(s.contains("detect 20 s"), "{s}");
    insta::assert_snapshot!("timeline_120x30", s);
    for _ in 0..3 {
        app.update(Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Up)), &fleet);
    }
    let s = screen(&draw(&app, &fleet, 120, 30));
    assert!(s.contains("3 newer below"), "{s}");
}
