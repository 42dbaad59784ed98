//! The state machine, driven the way an operator drives it, without a terminal.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::clock::reference_instant;
use crate::model::{CloudKind, Severity};
use crate::providers::demo::{self, Drill, DrillBook, EstateSpec};

fn estate() -> Arc<EstateSpec> {
    Arc::new(EstateSpec::embedded().expect("estate"))
}

fn fleet_with(book: &DrillBook) -> Fleet {
    demo::fleet_at(&estate(), book, reference_instant(), 1)
}

fn app(fleet: &Fleet) -> App {
    let mut app = App::new(Some(estate()));
    app.update(Msg::FleetChanged, fleet);
    app
}

fn key(app: &mut App, fleet: &Fleet, code: KeyCode) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)), fleet)
}

fn typed(app: &mut App, fleet: &Fleet, text: &str) -> Vec<Command> {
    let mut out = vec![];
    for c in text.chars() {
        out.extend(key(app, fleet, KeyCode::Char(c)));
    }
    out
}

#[test]
fn tab_digits_and_arrows_switch_panes() {
    let f = fleet_with(&DrillBook::default());
    let mut a = app(&f);
    assert_eq!(a.pane, Pane::Overview);
    key(&mut a, &f, KeyCode::Tab);
    assert_eq!(a.pane, Pane::Health);
    key(&mut a, &f, KeyCode::BackTab);
    key(&mut a, &f, KeyCode::BackTab);
    assert_eq!(a.pane, Pane::Help, "wraps around");
    typed(&mut a, &f, "5");
    assert_eq!(a.pane, Pane::Alerts);
    typed(&mut a, &f, "l");
    assert_eq!(a.pane, Pane::Logs);
    typed(&mut a, &f, "?");
    assert_eq!(a.pane, Pane::Help);
}

#[test]
fn q_and_ctrl_c_quit_even_mid_palette() {
    let f = fleet_with(&DrillBook::default());
    let mut a = app(&f);
    assert_eq!(typed(&mut a, &f, "q"), vec![Command::Quit]);
    typed(&mut a, &f, ":dri");
    assert!(matches!(a.mode, Mode::Palette(_)));
    let cmds = a.update(Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), &f);
    assert_eq!(cmds, vec![Command::Quit]);
    // In the palette, q is just a letter.
    let mut a = app(&f);
    assert!(typed(&mut a, &f, ":q").is_empty());
}

#[test]
fn selection_moves_and_clamps() {
    let f = fleet_with(&DrillBook::default());
    let mut a = app(&f);
    typed(&mut a, &f, "2");
    let rows = a.zone_rows.len();
    assert_eq!(rows, 9, "three clouds by three zones");
    typed(&mut a, &f, "jjj");
    assert_eq!(a.health.selected, 3);
    key(&mut a, &f, KeyCode::Up);
    assert_eq!(a.health.selected, 2);
    typed(&mut a, &f, "G");
    assert_eq!(a.health.selected, rows - 1);
    typed(&mut a, &f, "jjj");
    assert_eq!(a.health.selected, rows - 1, "clamped at the end");
    typed(&mut a, &f, "g");
    assert_eq!(a.health.selected, 0);
    // Overview has no list: j does nothing there and nothing breaks.
    typed(&mut a, &f, "1j");
    assert_eq!(a.pane, Pane::Overview);
}

#[test]
fn filter_narrows_the_list_live_and_esc_clears_it() {
    let f = fleet_with(&DrillBook::default());
    let mut a = app(&f);
    typed(&mut a, &f, "2/azure");
    assert_eq!(a.mode, Mode::Filter);
    assert_eq!(a.health.filter, "azure");
    assert_eq!(a.zone_rows.len(), 3);
    key(&mut a, &f, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.zone_rows.len(), 3, "filter stays after Enter");
    key(&mut a, &f, KeyCode::Esc);
    assert_eq!(a.zone_rows.len(), 9);
    typed(&mut a, &f, "/nothing-matches");
    assert!(a.zone_rows.is_empty());
    typed(&mut a, &f, "jjk");
    assert_eq!(a.health.selected, 0, "moving in an empty list is harmless");
}

#[test]
fn palette_completes_and_starts_a_drill() {
    let f = fleet_with(&DrillBook::default());
    let mut a = app(&f);
    typed(&mut a, &f, ":dr");
    key(&mut a, &f, KeyCode::Tab);
    typed(&mut a, &f, "az");
    key(&mut a, &f, KeyCode::Tab);
    typed(&mut a, &f, "aws/us-west-1b");
    let Mode::Palette(p) = &a.mode else { panic!("palette open") };
    assert_eq!(p.input, "drill az-outage aws/us-west-1b");
    let cmds = key(&mut a, &f, KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Drill(DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1b".into() }))]
    );
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn palette_refuses_bad_drills_with_a_reason_and_changes_nothing() {
    let f = fleet_with(&DrillBook::default());
    let mut a = app(&f);
    let before = (a.pane, a.health.clone(), a.alerts.clone());
    typed(&mut a, &f, ":drill az-outage aws/mars-1a");
    assert!(key(&mut a, &f, KeyCode::Enter).is_empty());
    let status = a.status.clone().expect("an error is shown");
    assert_eq!(status.level, Level::Error);
    assert!(status.text.contains("us-west-1a"), "{}", status.text);
    assert_eq!((a.pane, a.health.clone(), a.alerts.clone()), before);
}

#[test]
fn drills_are_refused_outside_the_demo() {
    let f = fleet_with(&DrillBook::default());
    let mut a = App::new(None);
    a.update(Msg::FleetChanged, &f);
    typed(&mut a, &f, ":drill clear");
    assert!(key(&mut a, &f, KeyCode::Enter).is_empty());
    assert!(a.status.expect("status").text.contains("demo"));
}

#[test]
fn esc_and_backspace_close_the_palette() {
    let f = fleet_with(&DrillBook::default());
    let mut a = app(&f);
    typed(&mut a, &f, ":x");
    key(&mut a, &f, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
    typed(&mut a, &f, ":");
    key(&mut a, &f, KeyCode::Backspace);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn alerts_sort_and_follow_the_fleet() {
    let quiet = fleet_with(&DrillBook::default());
    let mut a = app(&quiet);
    typed(&mut a, &quiet, "5");
    let quiet_rows = a.alert_rows.len();
    let mut book = DrillBook::default();
    book.apply(
        DrillCommand::Start(Drill::DbPrimaryDown { cloud: CloudKind::Aws }),
        reference_instant() - chrono::Duration::seconds(60),
    )
    .expect("drill");
    let broken = fleet_with(&book);
    a.update(Msg::FleetChanged, &broken);
    assert!(a.alert_rows.len() > quiet_rows, "new alerts appear");
    let first = &broken.alerts[a.alert_rows[0]];
    assert_eq!(first.severity, Severity::P0, "worst first by default");
    typed(&mut a, &broken, "s");
    assert_eq!(a.alert_sort, AlertSort::Age);
    let ages: Vec<_> = a.alert_rows.iter().map(|&i| broken.alerts[i].started_at).collect();
    assert!(ages.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // Fewer alerts after recovery: the selection is clamped, not left dangling.
    typed(&mut a, &broken, "G");
    a.update(Msg::FleetChanged, &quiet);
    assert!(a.alerts.selected < a.alert_rows.len().max(1));
}

#[test]
fn unknown_keys_and_releases_do_nothing() {
    let f = fleet_with(&DrillBook::default());
    let mut a = app(&f);
    let before = format!("{a:?}");
    assert!(key(&mut a, &f, KeyCode::F(9)).is_empty());
    assert!(typed(&mut a, &f, "zZ!").is_empty());
    let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = crossterm::event::KeyEventKind::Release;
    assert!(a.update(Msg::Key(release), &f).is_empty());
    assert_eq!(format!("{a:?}"), before);
}
