use std::collections::BTreeMap;

use serde::Serialize;

use super::CloudKind;

/// Month-to-date spend and the forecast to month end, in one currency, for one
/// subscription / account / billing scope (a cloud may report several).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostSnapshot {
    pub cloud: CloudKind,
    pub currency: String,
    pub month_to_date: f64,
    pub forecast: Forecast,
    /// (service, month-to-date) sorted by spend, largest first.
    pub by_service: Vec<(String, f64)>,
}

/// A month-end forecast and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Forecast {
    /// The cloud's own forecast (Cost Explorer GetCostForecast, the demo's model).
    Cloud(f64),
    /// Computed here: the month-to-date daily run rate carried to month end.
    RunRate(f64),
    /// No forecast from the cloud, and too few days of the month have passed for a
    /// run rate to mean anything.
    TooEarly,
}

impl Forecast {
    /// The cloud's forecast when it gave one, else the run rate (or too early).
    pub fn cloud_or_run_rate(cloud: Option<f64>, month_to_date: f64, today: chrono::NaiveDate) -> Forecast {
        match cloud {
            Some(f) => Forecast::Cloud(f),
            None => Forecast::at_run_rate(month_to_date, today),
        }
    }

    pub fn at_run_rate(month_to_date: f64, today: chrono::NaiveDate) -> Forecast {
        run_rate_forecast(month_to_date, today).map_or(Forecast::TooEarly, Forecast::RunRate)
    }

    pub fn amount(self) -> Option<f64> {
        match self {
            Forecast::Cloud(f) | Forecast::RunRate(f) => Some(f),
            Forecast::TooEarly => None,
        }
    }

    /// Where the figure came from, as the JSON and the Cost pane say it.
    pub fn basis(self) -> &'static str {
        match self {
            Forecast::Cloud(_) => "cloud",
            Forecast::RunRate(_) => "run_rate",
            Forecast::TooEarly => "too_early",
        }
    }

    /// The forecast of several accounts together: unknown if any is (a partial sum
    /// would understate the month), and a run rate if any part is one.
    fn plus(self, other: Forecast) -> Forecast {
        match (self, other) {
            (Forecast::TooEarly, _) | (_, Forecast::TooEarly) => Forecast::TooEarly,
            (Forecast::Cloud(a), Forecast::Cloud(b)) => Forecast::Cloud(a + b),
            (a, b) => Forecast::RunRate(a.amount().unwrap_or(0.0) + b.amount().unwrap_or(0.0)),
        }
    }
}

/// Spend of every account of a cloud in one currency. Amounts in different
/// currencies are never added: a cloud billed in two has two of these.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub month_to_date: f64,
    pub forecast: Forecast,
    /// How many cost snapshots (subscriptions, accounts) were summed.
    pub accounts: usize,
}

/// Sum snapshots per currency, in currency-code order (amounts in different
/// currencies have no order between them).
pub fn totals_by_currency<'a>(costs: impl IntoIterator<Item = &'a CostSnapshot>) -> Vec<CurrencyTotal> {
    let mut totals: Vec<CurrencyTotal> = Vec::new();
    for c in costs {
        match totals.iter_mut().find(|t| t.currency == c.currency) {
            Some(t) => {
                t.month_to_date += c.month_to_date;
                t.forecast = t.forecast.plus(c.forecast);
                t.accounts += 1;
            }
            None => totals.push(CurrencyTotal {
                currency: c.currency.clone(),
                month_to_date: c.month_to_date,
                forecast: c.forecast,
                accounts: 1,
            }),
        }
    }
    totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    totals
}

/// What the next instance of a scaling group's type costs in one region, on
/// demand and spot / preemptible / low-priority. A price nobody reported is None:
/// "unknown", never 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotPrice {
    pub cloud: CloudKind,
    pub region: String,
    pub instance_type: String,
    pub currency: String,
    /// Where spot is priced per zone (AWS, Alibaba): the zone of the cheapest offer.
    pub zone: Option<String>,
    pub on_demand_hourly: Option<f64>,
    /// Where the on-demand price came from: the cloud's price API, or the
    /// operator's configured price when the account cannot call it.
    pub on_demand_from: String,
    pub spot_hourly: Option<f64>,
    /// When the cloud's spot price took effect, when it says.
    pub spot_since: Option<chrono::DateTime<chrono::Utc>>,
    /// The scaling groups that run this type here.
    pub groups: Vec<String>,
}

impl SpotPrice {
    /// Saving of spot over on-demand, 0..1; None unless both are known.
    pub fn discount(&self) -> Option<f64> {
        match (self.on_demand_hourly, self.spot_hourly) {
            (Some(od), Some(spot)) if od > 0.0 => Some(1.0 - spot / od),
            _ => None,
        }
    }

    /// The cheapest known hourly price of one more instance, and whether it is spot.
    pub fn next_instance(&self) -> Option<(f64, bool)> {
        match (self.spot_hourly, self.on_demand_hourly) {
            (Some(s), Some(o)) if o < s => Some((o, false)),
            (Some(s), _) => Some((s, true)),
            (None, Some(o)) => Some((o, false)),
            (None, None) => None,
        }
    }
}

/// The operator's exchange rates (`[prices]` in the config): prices in other
/// currencies are compared only through a rate the operator configured, and every
/// converted figure says so.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    /// The currency prices are compared in.
    pub currency: String,
    /// Units of `currency` one unit of each other currency is worth.
    pub to_base: BTreeMap<String, f64>,
}

impl Default for Rates {
    fn default() -> Self {
        Rates { currency: "USD".into(), to_base: BTreeMap::new() }
    }
}

impl Rates {
    /// `amount` of `currency` in the base currency, and whether it was converted;
    /// None when no rate is configured for it.
    pub fn to_base(&self, amount: f64, currency: &str) -> Option<(f64, bool)> {
        if currency.eq_ignore_ascii_case(&self.currency) {
            return Some((amount, false));
        }
        let rate = self.to_base.iter().find(|(c, _)| c.eq_ignore_ascii_case(currency))?.1;
        Some((amount * rate, true))
    }
}

/// The cheapest capacity for the next scale-out across every cloud.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cheapest {
    /// Index into the Fleet's `spot_prices`.
    pub index: usize,
    /// The hourly price in the base currency.
    pub hourly: f64,
    pub currency: String,
    pub spot: bool,
    /// Converted from the price's own currency at a configured rate.
    pub converted: bool,
}

/// Among `prices`, the cheapest next instance in `rates`' currency. Prices in a
/// currency with no configured rate are left out (the caller lists them as not
/// compared). Ties go to the first.
pub fn cheapest(prices: &[SpotPrice], rates: &Rates) -> Option<Cheapest> {
    let mut best: Option<Cheapest> = None;
    for (index, p) in prices.iter().enumerate() {
        let Some((hourly, spot)) = p.next_instance() else { continue };
        let Some((hourly, converted)) = rates.to_base(hourly, &p.currency) else { continue };
        if best.as_ref().is_none_or(|b| hourly < b.hourly) {
            best = Some(Cheapest { index, hourly, currency: rates.currency.clone(), spot, converted });
        }
    }
    best
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

/// Days of the month that must have begun before a run rate is extrapolated. On
/// the first day the month to date is a few hours of (often not yet billed) usage:
/// multiplied by the month's length it claims a bill nobody will get.
pub const MIN_RUN_RATE_DAY: u32 = 2;

/// Month-end forecast at the month-to-date daily run rate (clouds whose API
/// gives no forecast of its own); `None` while it is too early to tell.
pub fn run_rate_forecast(month_to_date: f64, today: chrono::NaiveDate) -> Option<f64> {
    use chrono::Datelike;
    if today.day() < MIN_RUN_RATE_DAY {
        return None;
    }
    let (first, next) = month_bounds(today);
    let days = (next - first).num_days().max(1) as f64;
    Some(month_to_date / f64::from(today.day()) * days)
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
        assert_eq!(run_rate_forecast(100.0, d(2026, 2, 14)), Some(200.0));
        assert_eq!(run_rate_forecast(20.0, d(2026, 1, 2)), Some(310.0));
    }

    #[test]
    fn on_the_first_day_the_run_rate_is_too_early_but_a_cloud_forecast_stands() {
        let day1 = NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
        assert_eq!(run_rate_forecast(31.0, day1), None);
        assert_eq!(Forecast::at_run_rate(31.0, day1), Forecast::TooEarly);
        assert_eq!(Forecast::at_run_rate(31.0, day1).amount(), None);
        assert_eq!(Forecast::cloud_or_run_rate(Some(900.0), 31.0, day1), Forecast::Cloud(900.0));
        let day10 = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        assert_eq!(Forecast::cloud_or_run_rate(None, 31.0, day10), Forecast::RunRate(31.0 / 10.0 * 31.0));
    }
}

#[cfg(test)]
mod currency_tests {
    use super::*;

    fn snap(currency: &str, mtd: f64, forecast: Forecast) -> CostSnapshot {
        CostSnapshot {
            cloud: CloudKind::Azure,
            currency: currency.into(),
            month_to_date: mtd,
            forecast,
            by_service: vec![],
        }
    }

    #[test]
    fn every_account_is_summed_per_currency_and_currencies_are_never_added() {
        let costs = [
            snap("USD", 1000.0, Forecast::Cloud(3000.0)),
            snap("EUR", 500.0, Forecast::RunRate(1500.0)),
            snap("USD", 234.0, Forecast::Cloud(700.0)),
            snap("EUR", 60.0, Forecast::Cloud(100.0)),
        ];
        let t = totals_by_currency(&costs);
        assert_eq!(
            t,
            vec![
                CurrencyTotal {
                    currency: "EUR".into(),
                    month_to_date: 560.0,
                    forecast: Forecast::RunRate(1600.0),
                    accounts: 2
                },
                CurrencyTotal {
                    currency: "USD".into(),
                    month_to_date: 1234.0,
                    forecast: Forecast::Cloud(3700.0),
                    accounts: 2
                },
            ]
        );
    }

    #[test]
    fn one_account_too_early_makes_its_currency_forecast_unknown() {
        let costs = [snap("USD", 10.0, Forecast::Cloud(300.0)), snap("USD", 5.0, Forecast::TooEarly)];
        let t = totals_by_currency(&costs);
        assert_eq!((t.len(), t[0].month_to_date, t[0].forecast), (1, 15.0, Forecast::TooEarly));
        assert!(totals_by_currency(&[]).is_empty());
    }
}

#[cfg(test)]
mod price_tests {
    use super::*;

    fn price(cloud: CloudKind, currency: &str, on_demand: Option<f64>, spot: Option<f64>) -> SpotPrice {
        SpotPrice {
            cloud,
            region: "r".into(),
            instance_type: "t".into(),
            currency: currency.into(),
            zone: None,
            on_demand_hourly: on_demand,
            on_demand_from: "configured".into(),
            spot_hourly: spot,
            spot_since: None,
            groups: vec![],
        }
    }

    fn rates(pairs: &[(&str, f64)]) -> Rates {
        Rates { currency: "USD".into(), to_base: pairs.iter().map(|(c, r)| (c.to_string(), *r)).collect() }
    }

    #[test]
    fn the_next_instance_is_the_cheaper_known_offer() {
        assert_eq!(price(CloudKind::Aws, "USD", Some(0.1), Some(0.03)).next_instance(), Some((0.03, true)));
        assert_eq!(price(CloudKind::Aws, "USD", Some(0.02), Some(0.03)).next_instance(), Some((0.02, false)));
        assert_eq!(price(CloudKind::Aws, "USD", None, Some(0.03)).next_instance(), Some((0.03, true)));
        assert_eq!(price(CloudKind::Aws, "USD", Some(0.1), None).next_instance(), Some((0.1, false)));
        assert_eq!(price(CloudKind::Aws, "USD", None, None).next_instance(), None);
        assert_eq!(price(CloudKind::Aws, "USD", None, Some(0.03)).discount(), None, "no on-demand: no saving");
    }

    #[test]
    fn other_currencies_are_compared_only_through_a_configured_rate() {
        let prices = [
            price(CloudKind::Aws, "USD", Some(0.10), Some(0.040)),
            price(CloudKind::Aliyun, "CNY", Some(0.60), Some(0.200)),
            price(CloudKind::Azure, "EUR", Some(0.09), Some(0.036)),
            price(CloudKind::Azure, "USD", None, None),
        ];
        // No rates: only USD is compared; AWS wins whatever CNY or EUR would cost.
        let c = cheapest(&prices, &Rates::default()).expect("a USD price");
        assert_eq!((c.index, c.hourly, c.converted, c.spot), (0, 0.040, false, true));
        // 0.2 CNY × 0.14 = 0.028 USD: Alibaba, converted and saying so.
        let c = cheapest(&prices, &rates(&[("CNY", 0.14)])).expect("cheapest");
        assert_eq!((c.index, c.converted, c.currency.as_str()), (1, true, "USD"));
        assert!((c.hourly - 0.028).abs() < 1e-12);
        // 0.036 EUR × 1.1 = 0.0396 < 0.040, but the CNY offer is cheaper still.
        let c = cheapest(&prices, &rates(&[("CNY", 0.14), ("eur", 1.1)])).expect("cheapest");
        assert_eq!(c.index, 1);
        let c = cheapest(&prices, &rates(&[("EUR", 1.1)])).expect("cheapest");
        assert_eq!(c.index, 2, "a rate's currency code is matched without regard to case");
        assert_eq!(cheapest(&prices[3..], &Rates::default()), None, "nothing known: no answer, not 0");
    }
}
