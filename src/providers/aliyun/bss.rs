//! Billing (BssOpenApi 2017-12-14): QueryBillOverview for the current month, as
//! month-to-date spend by product, one snapshot per currency the bill is in.
//! There is no forecast API: the month-to-date run rate is extrapolated to the
//! month's end.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::client::{Client, Product};
use super::json;
use crate::model::cost::ServiceTotals;
use crate::model::{CloudKind, CostSnapshot};
use crate::providers::ProviderError;

pub async fn month_to_date(client: &Client, now: DateTime<Utc>) -> Result<Vec<CostSnapshot>, ProviderError> {
    let cycle = now.format("%Y-%m").to_string();
    let v = client.read(Product::Bss, "QueryBillOverview", &[("BillingCycle", cycle)]).await?;
    Ok(snapshot(&v, now))
}

/// Pre-tax amounts (after discounts) summed by product, largest first, in each
/// currency the items name (never added across currencies, never assumed).
///
/// A total is shown only when every line that could belong to it was read: a line
/// without an amount (absent, null, not a number) makes its currency's total
/// unknown, and a line without a currency makes every total unknown, since it may
/// belong to any. An unknown total is left out (and logged), never shown short.
/// A bill with no lines names no currency: nothing is shown.
pub fn snapshot(v: &Value, now: DateTime<Utc>) -> Vec<CostSnapshot> {
    let empty = Value::Null;
    let data = v.get("Data").unwrap_or(&empty);
    let mut totals: BTreeMap<String, ServiceTotals> = BTreeMap::new();
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    let mut homeless = 0usize;
    for i in json::list(data, "Items", "Item") {
        let product = json::text(i, "ProductName")
            .filter(|s| !s.is_empty())
            .or_else(|| json::text(i, "ProductCode"))
            .unwrap_or_else(|| "unknown".into());
        let Some(currency) = json::text(i, "Currency").map(|c| c.trim().to_string()).filter(|c| !c.is_empty()) else {
            homeless += 1;
            continue;
        };
        match json::num(i, "PretaxAmount").filter(|a| a.is_finite()) {
            Some(amount) => totals.entry(currency).or_default().add(product, amount),
            None => *unknown.entry(currency).or_default() += 1,
        }
    }
    if homeless > 0 {
        log::warn!("QueryBillOverview: {homeless} line(s) name no currency; the month's spend is unknown");
        return Vec::new();
    }
    for (currency, n) in &unknown {
        log::warn!("QueryBillOverview: {n} {currency} line(s) have no amount; the {currency} spend is unknown");
    }
    totals
        .into_iter()
        .filter(|(currency, _)| !unknown.contains_key(currency))
        .map(|(currency, t)| {
            let (by_service, mtd) = t.finish();
            CostSnapshot {
                cloud: CloudKind::Aliyun,
                currency,
                month_to_date: mtd,
                forecast: crate::model::Forecast::at_run_rate(mtd, now.date_naive()),
                by_service,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// (currency, month to date, by service)
    type Read = (String, f64, Vec<(String, f64)>);

    fn bill(items: Value) -> Vec<Read> {
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("now");
        snapshot(&json!({"Data": {"Items": {"Item": items}}}), now)
            .into_iter()
            .map(|c| (c.currency, c.month_to_date, c.by_service))
            .collect()
    }

    #[test]
    fn each_currency_is_its_own_total_and_nothing_is_assumed() {
        let two = bill(json!([
            {"ProductName": "ECS", "Currency": "USD", "PretaxAmount": 10.5},
            {"ProductName": "云数据库 RDS", "Currency": "CNY", "PretaxAmount": "70"},
            {"ProductName": "ECS", "Currency": "USD", "PretaxAmount": "4.5"},
        ]));
        assert_eq!(
            two,
            vec![
                ("CNY".into(), 70.0, vec![("云数据库 RDS".into(), 70.0)]),
                ("USD".into(), 15.0, vec![("ECS".into(), 15.0)]),
            ]
        );
        assert!(bill(json!([])).is_empty(), "no lines name no currency");
    }

    #[test]
    fn a_line_without_amount_or_currency_makes_the_total_unknown_not_short() {
        let some = bill(json!([
            {"ProductName": "ECS", "Currency": "USD", "PretaxAmount": 10},
            {"ProductName": "OSS", "Currency": "USD", "PretaxAmount": null},
            {"ProductName": "ECS", "Currency": "CNY", "PretaxAmount": 3},
            {"ProductName": "SLB", "Currency": "CNY"},
            {"ProductName": "NAT", "Currency": "EUR", "PretaxAmount": 1},
        ]));
        assert_eq!(some, vec![("EUR".into(), 1.0, vec![("NAT".into(), 1.0)])]);
        let homeless = bill(json!([
            {"ProductName": "ECS", "Currency": "USD", "PretaxAmount": 10},
            {"ProductName": "OSS", "PretaxAmount": 2},
        ]));
        assert!(homeless.is_empty(), "a line of no currency could belong to any");
    }
}
