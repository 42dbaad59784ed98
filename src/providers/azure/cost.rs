//! Cost Management query (api-version 2023-11-01): actual cost, month to date,
//! grouped by service. Columns are found by name in `columns[]`, never by position.
//! A 204 (no data yet for the period) is an empty month, not an error.

use azure_core::http::Method;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::arm::Arm;
use crate::model::{CloudKind, CostSnapshot};
use crate::providers::ProviderError;

pub const API: &str = "2023-11-01";
const COST: &str = "PreTaxCost";
const SERVICE: &str = "ServiceName";
const CURRENCY: &str = "Currency";

#[derive(Debug, Deserialize)]
pub struct QueryResult {
    pub properties: QueryProps,
}

#[derive(Debug, Deserialize)]
pub struct QueryProps {
    #[serde(default)]
    pub columns: Vec<Column>,
    #[serde(default)]
    pub rows: Vec<Vec<serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
pub struct Column {
    pub name: String,
}

pub fn request_body() -> serde_json::Value {
    serde_json::json!({
        "type": "ActualCost",
        "timeframe": "MonthToDate",
        "dataset": {
            "granularity": "None",
            "aggregation": { "totalCost": { "name": COST, "function": "Sum" } },
            "grouping": [ { "type": "Dimension", "name": SERVICE } ]
        }
    })
}

/// Pure: the rows as a snapshot; the forecast extrapolates the month-to-date run rate.
pub fn to_snapshot(q: &QueryProps, now: DateTime<Utc>) -> Result<CostSnapshot, ProviderError> {
    let col = |name: &str| q.columns.iter().position(|c| c.name.eq_ignore_ascii_case(name));
    let cost = col(COST).ok_or_else(|| ProviderError::BadResponse(format!("Cost Management: no {COST} column")))?;
    let service = col(SERVICE);
    let currency_col = col(CURRENCY);
    let mut currency = String::from("USD");
    let mut totals = crate::model::cost::ServiceTotals::default();
    for row in &q.rows {
        let amount = row.get(cost).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
        let name = service
            .and_then(|i| row.get(i))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string();
        if let Some(c) = currency_col.and_then(|i| row.get(i)).and_then(|v| v.as_str()) {
            currency = c.to_string();
        }
        totals.add(name, amount);
    }
    let (by_service, mtd) = totals.finish();
    Ok(CostSnapshot { cloud: CloudKind::Azure, currency, month_to_date: mtd, forecast: run_rate(mtd, now), by_service })
}

fn run_rate(mtd: f64, now: DateTime<Utc>) -> crate::model::Forecast {
    crate::model::Forecast::at_run_rate(mtd, now.date_naive())
}

/// `None` when Cost Management answers 204 (nothing for the period yet).
pub async fn month_to_date(
    arm: &Arm,
    subscription: &str,
    now: DateTime<Utc>,
) -> Result<Option<CostSnapshot>, ProviderError> {
    let path = format!("/subscriptions/{subscription}/providers/Microsoft.CostManagement/query");
    let resp = arm.send("Cost Management query", Method::Post, arm.url(&path, API, &[]), Some(&request_body())).await?;
    if resp.status == 204 || resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let q: QueryResult = resp.json("Cost Management query")?;
    to_snapshot(&q.properties, now).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_by_name() {
        // The fixture groups by ResourceGroup; the parser finds columns by name, so
        // with the grouping column renamed to ServiceName (and reordered) it reads the same.
        let q: QueryProps = serde_json::from_value(serde_json::json!({
            "columns": [{"name": "Currency", "type": "String"}, {"name": "ServiceName", "type": "String"},
                        {"name": "PreTaxCost", "type": "Number"}],
            "rows": [["EUR", "Virtual Machines", 10.5], ["EUR", "Storage", 2.0], ["EUR", "Virtual Machines", 1.5]]
        }))
        .expect("shape");
        let now = DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z").expect("t").with_timezone(&Utc);
        let s = to_snapshot(&q, now).expect("snapshot");
        assert_eq!(s.currency, "EUR");
        assert_eq!(s.by_service, vec![("Virtual Machines".to_string(), 12.0), ("Storage".to_string(), 2.0)]);
        assert!(matches!(s.forecast, crate::model::Forecast::RunRate(f) if (f - 14.0 / 10.0 * 30.0).abs() < 1e-9));
    }
}
