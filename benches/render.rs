//! Render cost of the long-list panes as rows grow: 100, 10,000 and 100,000 rows
//! at 200×60. Drawing must stay flat (only visible rows are built); the one-off
//! filter/sort on a Fleet change is measured separately and is linear by nature.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use opsdeck::app::views::{AlertSort, alert_rows, zone_rows};
use opsdeck::app::{App, Msg, Pane};
use opsdeck::clock::reference_instant;
use opsdeck::model::{Alert, Fleet, ScalingGroup};
use opsdeck::providers::demo::{self, DrillBook, EstateSpec};
use opsdeck::theme::{ColorMode, Theme};
use opsdeck::ui::{self, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: [usize; 3] = [100, 10_000, 100_000];

fn fleet_with_rows(rows: usize) -> (Arc<EstateSpec>, Fleet) {
    let estate = Arc::new(EstateSpec::embedded().expect("estate"));
    let mut fleet = demo::fleet_at(&estate, &DrillBook::default(), reference_instant(), 60);
    let alert: Alert = fleet.alerts[0].clone();
    fleet.alerts = (0..rows)
        .map(|i| Alert { id: format!("a{i}"), title: format!("synthetic alert {i}"), ..alert.clone() })
        .collect();
    let group: ScalingGroup = fleet.groups[0].clone();
    let zones = group.zones.len();
    fleet.groups =
        (0..rows.div_ceil(zones)).map(|i| ScalingGroup { name: format!("asg-{i}"), ..group.clone() }).collect();
    (estate, fleet)
}

fn render(c: &mut Criterion) {
    let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
    let mut group = c.benchmark_group("render_200x60");
    for rows in SIZES {
        let (estate, fleet) = fleet_with_rows(rows);
        let mut app = App::new(Some(estate));
        app.update(Msg::Resize { width: 200, height: 60 }, &fleet);
        app.update(Msg::FleetChanged, &fleet);
        for pane in [Pane::Alerts, Pane::Health] {
            app.pane = pane;
            // Worst case for windowing: the selection at the far end of the list.
            app.alerts.selected = rows - 1;
            app.health.selected = rows - 1;
            let mut term = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
            group.bench_with_input(BenchmarkId::new(pane.title(), rows), &rows, |b, _| {
                b.iter(|| {
                    term.draw(|f| {
                        ui::draw(f, &View { app: &app, fleet: &fleet, theme: &theme, now: reference_instant() })
                    })
                    .expect("draw");
                })
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("rows_on_fleet_change");
    group.sample_size(20);
    for rows in SIZES {
        let (_, fleet) = fleet_with_rows(rows);
        group.bench_with_input(BenchmarkId::new("alerts_sorted", rows), &fleet, |b, f| {
            b.iter(|| black_box(alert_rows(f, "", AlertSort::Severity)))
        });
        group.bench_with_input(BenchmarkId::new("zone_rows", rows), &fleet, |b, f| {
            b.iter(|| black_box(zone_rows(f, "")))
        });
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
