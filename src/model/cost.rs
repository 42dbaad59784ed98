use serde::Serialize;

use super::CloudKind;

/// Month-to-date spend and the forecast to month end, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostSnapshot {
    pub cloud: CloudKind,
    pub currency: String,
    pub month_to_date: f64,
    pub forecast: f64,
    /// (service, month-to-date) sorted by spend, largest first.
    pub by_service: Vec<(String, f64)>,
}

/// Price of the next instance a scale-out would add, on demand and spot/preemptible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotPrice {
    pub cloud: CloudKind,
    pub region: String,
    pub instance_type: String,
    pub currency: String,
    pub on_demand_hourly: f64,
    pub spot_hourly: f64,
}

impl SpotPrice {
    /// Saving of spot over on-demand, 0..1.
    pub fn discount(&self) -> f64 {
        if self.on_demand_hourly <= 0.0 {
            return 0.0;
        }
        1.0 - self.spot_hourly / self.on_demand_hourly
    }
}

/// The first day of `today`'s month and the first day of the next.
pub fn month_bounds(today: chrono::NaiveDate) -> (chrono::NaiveDate, chrono::NaiveDate) {
    use chrono::{Datelike, NaiveDate};
    let first = today.with_day(1).unwrap_or(today);
    let next = if today.month() == 12 {
        NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(today.year(), today.month() + 1, 1)
    }
    .unwrap_or(today);
    (first, next)
}

/// Spend per service, summed as a bill's lines are read (a service may come in
/// several lines), for every cloud's cost reader.
#[derive(Debug, Default)]
pub struct ServiceTotals(Vec<(String, f64)>);

impl ServiceTotals {
    pub fn add(&mut self, service: String, amount: f64) {
        match self.0.iter_mut().find(|(s, _)| *s == service) {
            Some((_, v)) => *v += amount,
            None => self.0.push((service, amount)),
        }
    }

    /// The services by spend, largest first (ties by name, so the order is stable),
    /// and their sum: the month to date.
    pub fn finish(mut self) -> (Vec<(String, f64)>, f64) {
        self.0.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let total = self.0.iter().map(|(_, v)| v).sum();
        (self.0, total)
    }
}

/// Month-end forecast at the month-to-date daily run rate (clouds whose API
/// gives no forecast of its own).
pub fn run_rate_forecast(month_to_date: f64, today: chrono::NaiveDate) -> f64 {
    use chrono::Datelike;
    let (first, next) = month_bounds(today);
    let days = (next - first).num_days().max(1) as f64;
    month_to_date / f64::from(today.day()).max(1.0) * days
}

#[cfg(test)]
mod totals_tests {
    use super::ServiceTotals;

    #[test]
    fn lines_of_one_service_add_up_and_the_largest_comes_first() {
        let mut t = ServiceTotals::default();
        for (s, v) in [("EC2", 10.0), ("S3", 4.0), ("EC2", 5.5), ("RDS", 4.0)] {
            t.add(s.into(), v);
        }
        let (by_service, total) = t.finish();
        assert_eq!(by_service, vec![("EC2".into(), 15.5), ("RDS".into(), 4.0), ("S3".into(), 4.0)]);
        assert_eq!(total, 23.5);
    }
}

#[cfg(test)]
mod month_tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn run_rate_spans_the_whole_month_including_december() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(month_bounds(d(2026, 12, 5)), (d(2026, 12, 1), d(2027, 1, 1)));
        assert_eq!(run_rate_forecast(100.0, d(2026, 2, 14)), 200.0);
        assert_eq!(run_rate_forecast(31.0, d(2026, 1, 1)), 961.0);
    }
}
