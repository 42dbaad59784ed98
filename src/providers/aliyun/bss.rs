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
    let mut totals = crate::model::cost::ServiceTotals::default();
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
        totals.add(product, amount);
    }
    let (by_service, mtd) = totals.finish();
    CostSnapshot {
        cloud: CloudKind::Aliyun,
        currency: currency.unwrap_or_else(|| "CNY".into()),
        month_to_date: mtd,
        forecast: crate::model::Forecast::at_run_rate(mtd, now.date_naive()),
        by_service,
    }
}
