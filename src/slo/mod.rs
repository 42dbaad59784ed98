//! SLOs and error budgets: `[[slos]]` (config.rs), the arithmetic (budget.rs,
//! pure), the per-minute history of direct sources (ledger.rs), and here the
//! step from those to each SLO's [`SloStatus`] in the Fleet.

pub mod budget;
pub mod config;
pub mod ledger;

#[cfg(test)]
mod generated;

use chrono::{DateTime, Utc};

pub use config::{Measure, SloConfig};
pub use ledger::Ledger;

use crate::model::{Burns, CloudKind, SloFigures, SloStatus};
use budget::{BURN_SPANS, Tally};

/// The ledger that holds enough for every SLO in `slos` (at least a day, so a
/// config with none still costs little and is never zero-length).
pub fn ledger_for(slos: &[SloConfig]) -> Ledger {
    Ledger::new(slos.iter().map(SloConfig::window_secs).max().unwrap_or(0).max(86_400))
}

/// "4h12m": a coverage or window for people; whole minutes, largest two units.
pub fn duration_text(secs: f64) -> String {
    let m = (secs.max(0.0) / 60.0).floor() as u64;
    let (d, h, m) = (m / 1_440, (m / 60) % 24, m % 60);
    match (d, h, m) {
        (0, 0, 0) if secs > 0.0 => format!("{}s", secs.round() as u64),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m:02}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

/// One scope's figures from its tallies over the window and the burn spans.
pub fn figures(
    cloud: Option<CloudKind>,
    window: Tally,
    spans: &[Tally; 5],
    objective: f64,
    window_secs: f64,
) -> SloFigures {
    let burn = |t: &Tally| budget::burn(t, objective);
    // The 3-day burn only means something for a window that long.
    let long = window_secs >= BURN_SPANS[4];
    let burns = Burns {
        m5: burn(&spans[0]),
        m30: burn(&spans[1]),
        h1: burn(&spans[2]),
        h6: burn(&spans[3]),
        d3: if long { burn(&spans[4]) } else { None },
    };
    // An alert judges a span only when at least a twelfth of it is held (5m of
    // the hour, 30m of 6h, 6h of 3d: the length of its short partner), so a few
    // polls after a start cannot page on their own.
    let held = |i: usize, b: Option<f64>| b.filter(|_| spans[i].covered_secs * 12.0 >= BURN_SPANS[i]);
    let judged = Burns {
        m5: held(0, burns.m5),
        m30: held(1, burns.m30),
        h1: held(2, burns.h1),
        h6: held(3, burns.h6),
        d3: held(4, burns.d3),
    };
    let measured = window.covered_secs > 0.0;
    SloFigures {
        cloud,
        covered_secs: window.covered_secs.min(window_secs),
        total: measured.then_some(window.total),
        bad: measured.then_some(window.bad),
        availability: budget::availability(&window),
        budget_left: budget::budget_left(&window, objective, window_secs),
        alert: budget::alert(&judged, long),
        burn: burns,
    }
}

/// One scope from the ledger at `now`.
fn from_ledger(ledger: &Ledger, scope: Option<CloudKind>, slo: &SloConfig, now: DateTime<Utc>) -> SloFigures {
    let window = slo.window_secs() as f64;
    let mut spans: Vec<f64> = BURN_SPANS.to_vec();
    spans.push(window);
    let t = ledger.tallies(scope, now, &spans);
    let burns = [t[0], t[1], t[2], t[3], t[4]];
    figures(scope, t[5], &burns, slo.objective_fraction(), window)
}

/// Every SLO measured from the traffic figures, from the ledger. SLOs measured by
/// Prometheus are left out here: `prometheus` measures them.
pub fn evaluate(slos: &[SloConfig], ledger: &Ledger, now: DateTime<Utc>) -> Vec<SloStatus> {
    slos.iter()
        .filter(|s| s.measure() == Measure::Traffic)
        .map(|slo| {
            let cloud = slo.cloud();
            let overall = from_ledger(ledger, cloud, slo, now);
            let clouds = match cloud {
                Some(_) => Vec::new(),
                None => ledger.clouds().map(|c| from_ledger(ledger, Some(c), slo, now)).collect(),
            };
            let note = (overall.covered_secs <= 0.0).then(|| "no traffic history held yet".to_string());
            status(slo, "traffic".into(), overall, clouds, note)
        })
        .collect()
}

/// The SLOs measured from the ledger and those sources measured (`measured`,
/// Prometheus' own), in the config's order.
pub fn merged(slos: &[SloConfig], ledger: &Ledger, now: DateTime<Utc>, measured: Vec<SloStatus>) -> Vec<SloStatus> {
    let mut all = evaluate(slos, ledger, now);
    all.extend(measured);
    all.sort_by_key(|s| slos.iter().position(|c| c.name == s.name).unwrap_or(usize::MAX));
    all
}

/// The status of `slo` with its figures.
pub fn status(
    slo: &SloConfig,
    measured_by: String,
    overall: SloFigures,
    clouds: Vec<SloFigures>,
    note: Option<String>,
) -> SloStatus {
    SloStatus {
        name: slo.name.clone(),
        objective_pct: slo.objective,
        window: slo.window.clone(),
        window_secs: slo.window_secs(),
        cloud: slo.cloud(),
        measured_by,
        overall,
        clouds,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_text(0.0), "0m");
        assert_eq!(duration_text(5.0), "5s");
        assert_eq!(duration_text(4.0 * 3600.0 + 12.0 * 60.0), "4h12m");
        assert_eq!(duration_text(30.0 * 86_400.0), "30d");
        assert_eq!(duration_text(2.0 * 86_400.0 + 5.0 * 3600.0 + 59.0), "2d5h");
        assert_eq!(duration_text(3600.0), "1h");
        assert_eq!(duration_text(125.0), "2m");
    }
}
