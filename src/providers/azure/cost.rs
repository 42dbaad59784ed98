//! Cost Management query (api-version 2023-11-01): actual cost, month to date,
//! grouped by service, every page (`properties.nextLink`, POSTed again with the same
//! body). Columns are found by name in `columns[]`, never by position. Rows are
//! summed per currency: one snapshot per currency the rows name, never a sum across
//! currencies. A 204 (no data yet for the period) is an empty month, not an error.

use std::collections::BTreeMap;

use azure_core::http::Method;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::arm::Arm;
use crate::model::cost::ServiceTotals;
use crate::model::{CloudKind, CostSnapshot};
use crate::providers::ProviderError;

pub const API: &str = "2023-11-01";
const COST: &str = "PreTaxCost";
const SERVICE: &str = "ServiceName";
const CURRENCY: &str = "Currency";
/// Rows whose currency the answer does not give are kept apart under this name,
/// never added to a known currency.
pub const UNKNOWN_CURRENCY: &str = "unknown";
/// Services with no name in the answer.
const UNKNOWN_SERVICE: &str = "unknown";
/// Cost Management pages at 1000-5000 rows; a service grouping needs one or two.
const MAX_PAGES: usize = 20;

#[derive(Debug, Deserialize)]
pub struct QueryResult {
    pub properties: QueryProps,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryProps {
    pub columns: Option<Vec<Column>>,
    pub rows: Option<Vec<Vec<serde_json::Value>>>,
    pub next_link: Option<String>,
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

/// Spend per currency, then per service, as the pages of one answer are read.
#[derive(Debug, Default)]
pub struct Totals(BTreeMap<String, ServiceTotals>);

impl Totals {
    /// Add one page's rows. A row with no amount adds nothing (it is not a zero
    /// spend, it is no figure); a row with no service name counts as "unknown".
    pub fn add_page(&mut self, q: &QueryProps) -> Result<(), ProviderError> {
        let columns = q.columns.as_deref().unwrap_or_default();
        let col = |name: &str| columns.iter().position(|c| c.name.eq_ignore_ascii_case(name));
        let rows = q.rows.as_deref().unwrap_or_default();
        let Some(cost) = col(COST) else {
            if rows.is_empty() {
                return Ok(());
            }
            return Err(ProviderError::BadResponse(format!("Cost Management: no {COST} column")));
        };
        let (service, currency) = (col(SERVICE), col(CURRENCY));
        let text = |row: &[serde_json::Value], i: Option<usize>| {
            i.and_then(|i| row.get(i))
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        for row in rows {
            let Some(amount) = row.get(cost).and_then(serde_json::Value::as_f64).filter(|a| a.is_finite()) else {
                continue;
            };
            let name = text(row, service).unwrap_or_else(|| UNKNOWN_SERVICE.to_string());
            let cur = text(row, currency).map_or_else(|| UNKNOWN_CURRENCY.to_string(), |c| c.to_ascii_uppercase());
            self.0.entry(cur).or_default().add(name, amount);
        }
        Ok(())
    }

    /// One snapshot per currency, in currency order; the forecast extrapolates each
    /// currency's month-to-date run rate.
    pub fn finish(self, now: DateTime<Utc>) -> Vec<CostSnapshot> {
        self.0
            .into_iter()
            .map(|(currency, t)| {
                let (by_service, mtd) = t.finish();
                CostSnapshot {
                    cloud: CloudKind::Azure,
                    currency,
                    month_to_date: mtd,
                    forecast: run_rate(mtd, now),
                    by_service,
                }
            })
            .collect()
    }
}

/// Pure: one page's rows as snapshots, one per currency.
pub fn to_snapshots(q: &QueryProps, now: DateTime<Utc>) -> Result<Vec<CostSnapshot>, ProviderError> {
    let mut t = Totals::default();
    t.add_page(q)?;
    Ok(t.finish(now))
}

fn run_rate(mtd: f64, now: DateTime<Utc>) -> crate::model::Forecast {
    crate::model::Forecast::at_run_rate(mtd, now.date_naive())
}

/// Empty when Cost Management answers 204 (nothing for the period yet).
pub async fn month_to_date(
    arm: &Arm,
    subscription: &str,
    now: DateTime<Utc>,
) -> Result<Vec<CostSnapshot>, ProviderError> {
    let path = format!("/subscriptions/{subscription}/providers/Microsoft.CostManagement/query");
    let body = request_body();
    let mut next = Some(arm.url(&path, API, &[]));
    let mut totals = Totals::default();
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(ProviderError::BadResponse(format!("Cost Management query: more than {MAX_PAGES} pages")));
        }
        let resp = arm.send("Cost Management query", Method::Post, url, Some(&body)).await?;
        if resp.status == 204 || resp.body.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        let q: QueryResult = resp.json("Cost Management query")?;
        totals.add_page(&q.properties)?;
        if let Some(link) = q.properties.next_link.as_deref().filter(|l| !l.trim().is_empty()) {
            next = Some(arm.same_origin(link)?);
        }
    }
    Ok(totals.finish(now))
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
        let all = to_snapshots(&q, now).expect("snapshot");
        assert_eq!(all.len(), 1);
        let s = &all[0];
        assert_eq!(s.currency, "EUR");
        assert_eq!(s.by_service, vec![("Virtual Machines".to_string(), 12.0), ("Storage".to_string(), 2.0)]);
        assert!(matches!(s.forecast, crate::model::Forecast::RunRate(f) if (f - 14.0 / 10.0 * 30.0).abs() < 1e-9));
    }

    #[test]
    fn currencies_are_never_added_together_and_nulls_are_no_figure() {
        let q: QueryProps = serde_json::from_value(serde_json::json!({
            "columns": [{"name": "PreTaxCost", "type": "Number"}, {"name": "ServiceName", "type": "String"},
                        {"name": "Currency", "type": "String"}],
            "rows": [[10.0, "Virtual Machines", "EUR"], [4.0, "Virtual Machines", "USD"], [null, "Storage", "EUR"],
                     [1.5, null, "eur"], [2.0, "", "USD"], [3.0, "Bandwidth", null], [7.0, "Storage"]],
            "nextLink": null
        }))
        .expect("shape");
        let now = DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z").expect("t").with_timezone(&Utc);
        let got = to_snapshots(&q, now).expect("snapshots");
        let line = |c: &CostSnapshot| format!("{} {} {:?}", c.currency, c.month_to_date, c.by_service);
        assert_eq!(
            got.iter().map(line).collect::<Vec<_>>(),
            vec![
                r#"EUR 11.5 [("Virtual Machines", 10.0), ("unknown", 1.5)]"#,
                r#"USD 6 [("Virtual Machines", 4.0), ("unknown", 2.0)]"#,
                r#"unknown 10 [("Storage", 7.0), ("Bandwidth", 3.0)]"#,
            ]
        );
        // An answer with no rows and no columns is an empty month, not an error.
        let empty: QueryProps =
            serde_json::from_value(serde_json::json!({"columns": null, "rows": []})).expect("shape");
        assert!(to_snapshots(&empty, now).expect("empty").is_empty());
    }
}
