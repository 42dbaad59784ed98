//! Money: month-to-date spend from each cloud's monthly run-rate, the cloud's own
//! forecast, and spot prices that wander around their list price.

use chrono::{DateTime, Datelike, TimeZone, Utc};

use super::super::estate::EstateSpec;
use super::noise::{noise, stream};
use crate::model::{CostSnapshot, Forecast, SpotPrice};

/// Run-rate over the elapsed part of the month, forecast to month end.
pub(super) fn costs(spec: &EstateSpec, now: DateTime<Utc>) -> Vec<CostSnapshot> {
    let (elapsed, month_len) = month_progress(now);
    spec.clouds
        .iter()
        .map(|c| {
            let mut by_service: Vec<(String, f64)> =
                c.costs.iter().map(|(svc, monthly)| (svc.clone(), monthly * elapsed / month_len)).collect();
            by_service.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let mtd: f64 = by_service.iter().map(|(_, v)| v).sum();
            let run_rate: f64 = c.costs.values().sum();
            CostSnapshot {
                cloud: c.kind,
                currency: c.currency.clone(),
                month_to_date: mtd,
                // The simulated cloud's own forecast, as Cost Explorer would give one.
                forecast: Forecast::Cloud(
                    mtd + run_rate * (month_len - elapsed) / month_len
                        * (1.0 + 0.03 * noise(spec.seed, stream(c.kind, 7), now.timestamp().div_euclid(3600))),
                ),
                by_service,
            }
        })
        .collect()
}

/// Spot prices wander on a six-hour cycle, out of phase per cloud.
pub(super) fn spot_prices(spec: &EstateSpec, now: DateTime<Utc>) -> Vec<SpotPrice> {
    spec.clouds
        .iter()
        .map(|c| {
            let phase = f64::from(c.kind as u8) * 2.1;
            let hours = now.timestamp() as f64 / 3600.0;
            let spot = c.prices.spot_hourly * (1.0 + 0.18 * (std::f64::consts::TAU * hours / 6.0 + phase).sin());
            SpotPrice {
                cloud: c.kind,
                region: c.region.clone(),
                instance_type: c.group.instance_type.clone(),
                currency: c.currency.clone(),
                zone: None,
                on_demand_hourly: Some(c.prices.on_demand_hourly),
                on_demand_from: "demo".into(),
                spot_hourly: Some(spot.max(0.0)),
                spot_since: None,
                groups: vec![c.group.name.clone()],
            }
        })
        .collect()
}

/// (days elapsed, days in month) as fractions, for month-to-date cost.
fn month_progress(now: DateTime<Utc>) -> (f64, f64) {
    let start = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now);
    let (ny, nm) = if now.month() == 12 { (now.year() + 1, 1) } else { (now.year(), now.month() + 1) };
    let next = Utc.with_ymd_and_hms(ny, nm, 1, 0, 0, 0).single().unwrap_or(now);
    let day = 86_400.0;
    ((now - start).num_seconds() as f64 / day, ((next - start).num_seconds() as f64 / day).max(1.0))
}
