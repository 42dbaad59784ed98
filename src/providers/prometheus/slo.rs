//! SLOs measured by Prometheus (`[[slos]]` with `source` and `bad` + `total`, or
//! `ratio`): a source of kind `slo` that asks each SLO's Prometheus for its
//! expressions over the window with `query_range`.
//!
//! The step keeps a window under 11 000 points, in whole minutes (12h → 60 s,
//! 30d → 240 s), and the range ends on a step boundary so repeated polls agree.
//! Each evaluation instant's rate stands for the step that ends at it: events =
//! rate × step, covered = step. An instant where either expression has no
//! finite value is uncovered (write `bad` as `… or vector(0)` when no 5xx series
//! may exist). Several series are summed; a `ratio` weighs every instant the same
//! (the worst series counts). When the step is longer than a minute, the burns
//! over 5m … 6h come from a second, one-minute query over the last 6 hours.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::api::{self, Series};
use super::config::PrometheusConfig;
use crate::config::SourceConfig;
use crate::model::{SloFigures, SloStatus, SourceId, SourceReport};
use crate::providers::http::HttpSource;
use crate::providers::{Provider, ProviderError};
use crate::slo::budget::{BURN_SPANS, Tally};
use crate::slo::{Measure, SloConfig};

pub const KIND: &str = "slo";
/// Budgets move slowly: a minute between reads is plenty.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// Prometheus refuses a range of more than 11 000 points.
pub const MAX_POINTS: u64 = 11_000;
const FINE_STEP: u64 = 60;

/// The step of a window's range query: under [`MAX_POINTS`], whole minutes.
pub fn step_for(window_secs: u64) -> u64 {
    window_secs.div_ceil(MAX_POINTS).div_ceil(60).max(1) * 60
}

struct Measured {
    cfg: SloConfig,
    prometheus: String,
    http: Arc<HttpSource>,
    base: String,
}

pub struct SloSource {
    id: SourceId,
    slos: Vec<Measured>,
    timeout: Duration,
}

impl SloSource {
    /// The source for the PromQL SLOs of `slos`, each asking the prometheus source
    /// it names among `sources`; None when no SLO is measured by PromQL.
    pub fn new(slos: &[SloConfig], sources: &[SourceConfig]) -> Result<Option<SloSource>, String> {
        let mut measured = Vec::new();
        let mut timeout = Duration::from_secs(1);
        for cfg in slos {
            let name = match cfg.measure() {
                Measure::Traffic => continue,
                Measure::Promql { source, .. } | Measure::Ratio { source, .. } => source,
            };
            let src = sources.iter().find(|s| s.name == name);
            let Some((src, prom)) = src.and_then(|s| s.table::<PrometheusConfig>().map(|p| (s, p))) else {
                return Err(format!("slo {}: no prometheus source named '{name}'", cfg.name));
            };
            timeout = timeout.max(src.timeout());
            let http = HttpSource::new(&prom.auth, src.timeout()).map_err(|e| format!("slo {}: {e}", cfg.name))?;
            measured.push(Measured {
                cfg: cfg.clone(),
                prometheus: name,
                http: Arc::new(http),
                base: prom.url.clone(),
            });
        }
        Ok((!measured.is_empty()).then(|| SloSource { id: SourceId::new(KIND), slos: measured, timeout }))
    }

    /// The longest a poll may take: two range queries per expression, one after the other.
    pub fn timeout(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(1)
    }
}

/// Per evaluation instant (unix seconds): (events or seconds, bad), where both are known.
type Points = BTreeMap<i64, (f64, f64)>;

/// Sum the series of an answer per instant, finite values only; an instant where
/// any series is not finite is unknown.
fn per_instant(series: &[Series], combine: fn(f64, f64) -> f64) -> BTreeMap<i64, Option<f64>> {
    let mut out: BTreeMap<i64, Option<f64>> = BTreeMap::new();
    for s in series {
        for (t, v) in &s.points {
            let v = v.is_finite().then_some(*v).filter(|v| *v >= 0.0);
            let slot = out.entry(t.timestamp()).or_insert(Some(f64::NAN));
            *slot = match (*slot, v) {
                (Some(acc), Some(v)) if acc.is_nan() => Some(v),
                (Some(acc), Some(v)) => Some(combine(acc, v)),
                _ => None,
            };
        }
    }
    out
}

async fn range(
    m: &Measured,
    expr: &str,
    (start, end): (i64, i64),
    step: u64,
    timeout: f64,
) -> Result<Vec<Series>, ProviderError> {
    let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or_default();
    api::query_range(&m.http, &m.base, &format!("slo {}", m.cfg.name), expr, (at(start), at(end)), step, timeout).await
}

/// The instants of `[start, end]` every `step` where the SLO's expressions are known.
async fn points(m: &Measured, span: (i64, i64), step: u64, timeout: f64) -> Result<Points, ProviderError> {
    let mut out = Points::new();
    match m.cfg.measure() {
        Measure::Promql { bad, total, .. } => {
            let (bad, total) =
                futures::try_join!(range(m, &bad, span, step, timeout), range(m, &total, span, step, timeout))?;
            let bad = per_instant(&bad, |a, b| a + b);
            for (t, total) in per_instant(&total, |a, b| a + b) {
                if let (Some(total), Some(Some(bad))) = (total, bad.get(&t)) {
                    out.insert(t, (total * step as f64, bad.min(total) * step as f64));
                }
            }
        }
        Measure::Ratio { ratio, .. } => {
            for (t, r) in per_instant(&range(m, &ratio, span, step, timeout).await?, f64::max) {
                if let Some(r) = r {
                    out.insert(t, (step as f64, r.min(1.0) * step as f64));
                }
            }
        }
        Measure::Traffic => {}
    }
    Ok(out)
}

/// The instants in `(end − span, end]`, each standing for one step.
fn tally(points: &Points, end: i64, span: u64, step: u64) -> Tally {
    let mut t = Tally::default();
    for (_, (total, bad)) in points.range((end - span as i64 + 1)..=end) {
        t.add(Tally { total: *total, bad: *bad, covered_secs: step as f64 });
    }
    t
}

async fn measure(m: &Measured, now: DateTime<Utc>, timeout: f64) -> Result<SloFigures, ProviderError> {
    let window = m.cfg.window_secs();
    let step = step_for(window);
    let end = now.timestamp() - now.timestamp().rem_euclid(step as i64);
    let coarse = points(m, (end - window as i64 + step as i64, end), step, timeout).await?;
    let six_hours = BURN_SPANS[3] as u64;
    let fine_end = now.timestamp() - now.timestamp().rem_euclid(FINE_STEP as i64);
    let fine = if step == FINE_STEP {
        None
    } else {
        Some(points(m, (fine_end - six_hours as i64 + FINE_STEP as i64, fine_end), FINE_STEP, timeout).await?)
    };
    let (short, short_end, short_step) = match &fine {
        Some(f) => (f, fine_end, FINE_STEP),
        None => (&coarse, end, step),
    };
    let spans = [
        tally(short, short_end, BURN_SPANS[0] as u64, short_step),
        tally(short, short_end, BURN_SPANS[1] as u64, short_step),
        tally(short, short_end, BURN_SPANS[2] as u64, short_step),
        tally(short, short_end, six_hours, short_step),
        tally(&coarse, end, BURN_SPANS[4] as u64, step),
    ];
    let whole = tally(&coarse, end, window, step);
    Ok(crate::slo::figures(m.cfg.cloud(), whole, &spans, m.cfg.objective_fraction(), window as f64))
}

#[async_trait]
impl Provider for SloSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    /// Never fails as a whole: an SLO its Prometheus cannot answer for is unknown,
    /// with the reason, and the others are still measured.
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let timeout = self.timeout.as_secs_f64();
        let measured = futures::future::join_all(self.slos.iter().map(|m| measure(m, now, timeout))).await;
        let slos: Vec<SloStatus> = self
            .slos
            .iter()
            .zip(measured)
            .map(|(m, r)| {
                let by = format!("prometheus {}", m.prometheus);
                match r {
                    Ok(f) => {
                        let note = (f.covered_secs <= 0.0).then(|| "Prometheus has no data for the window".to_string());
                        crate::slo::status(&m.cfg, by, f, Vec::new(), note)
                    }
                    Err(e) => {
                        let why = crate::format::one_line(&crate::credentials::redact(&e.to_string()), 200);
                        crate::slo::status(&m.cfg, by, SloFigures::unknown(m.cfg.cloud()), Vec::new(), Some(why))
                    }
                }
            })
            .collect();
        Ok(SourceReport { slos, ..SourceReport::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_stays_under_the_point_limit_in_whole_minutes() {
        assert_eq!(step_for(43_200), 60);
        assert_eq!(step_for(7 * 86_400), 60);
        assert_eq!(step_for(30 * 86_400), 240);
        assert_eq!(step_for(90 * 86_400), 720);
        for days in 1..=90 {
            let w = days * 86_400;
            assert!(w / step_for(w) <= MAX_POINTS, "{days}d");
        }
    }
}
