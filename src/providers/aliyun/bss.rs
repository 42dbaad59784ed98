//! Billing (BssOpenApi 2017-12-14): QueryBillOverview for the current month, as
//! month-to-date spend by product. There is no forecast API: the month-to-date
//! run rate is extrapolated to the month's end.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::client::{Client, Product};
use super::json;
use crate::model::{CloudKind, CostSnapshot};
use crate::providers::ProviderError;

pub async fn month_to_date(client: &Client, now: DateTime<Utc>) -> Result<CostSnapshot, ProviderError> {
    let cycle = now.format("%Y-%m").to_string();
    let v = client.read(Product::Bss, "QueryBillOverview", &[("BillingCycle", cycle)]).await?;
    Ok(snapshot(&v, now))
}

/// Pre-tax amounts (after discounts) summed by product, largest first.
pub fn snapshot(v: &Value, now: DateTime<Utc>) -> CostSnapshot {
    let empty = Value::Null;
    let data = v.get("Data").unwrap_or(&empty);
    let items = json::list(data, "Items", "Item");
    let mut by_service: Vec<(String, f64)> = Vec::new();
    let mut currency = None;
    for i in items {
        let product = json::text(i, "ProductName")
            .filter(|s| !s.is_empty())
            .or_else(|| json::text(i, "ProductCode"))
            .unwrap_or_else(|| "unknown".into());
        let amount = json::num(i, "PretaxAmount").unwrap_or(0.0);
        if currency.is_none() {
            currency = json::text(i, "Currency").filter(|c| !c.is_empty());
        }
        match by_service.iter_mut().find(|(p, _)| *p == product) {
            Some((_, a)) => *a += amount,
            None => by_service.push((product, amount)),
        }
    }
    by_service.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mtd: f64 = by_service.iter().map(|(_, a)| a).sum();
    CostSnapshot {
        cloud: CloudKind::Aliyun,
        currency: currency.unwrap_or_else(|| "CNY".into()),
        month_to_date: mtd,
        forecast: crate::model::cost::run_rate_forecast(mtd, now.date_naive()),
        by_service,
    }
}
