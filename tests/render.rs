//! Render snapshots of every pane on the deterministic demo (ratatui TestBackend
//! + insta), at the two sizes people use most: an SSH window and a big terminal.

use std::sync::Arc;

use chrono::Duration;
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
    let evil = fleet.alerts.len() - 1;
    fleet.alerts.swap(0, evil);
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
