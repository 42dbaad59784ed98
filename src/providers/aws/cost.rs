//! Cost Explorer: month-to-date by service and the forecast to month end.

use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::types::{DateInterval, Granularity, GroupDefinition, GroupDefinitionType, Metric};
use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::sdk_error;
use crate::model::{CloudKind, CostSnapshot, Forecast};
use crate::providers::ProviderError;

fn interval(start: NaiveDate, end: NaiveDate) -> Result<DateInterval, ProviderError> {
    DateInterval::builder()
        .start(start.format("%Y-%m-%d").to_string())
        .end(end.format("%Y-%m-%d").to_string())
        .build()
        .map_err(|e| ProviderError::BadResponse(format!("date interval: {e}")))
}

/// Pages of one month's GetCostAndUsage read at most (a loop guard; a month by
/// service is one or two pages).
const MAX_PAGES: usize = 50;

pub async fn month_to_date(client: &Client, now: DateTime<Utc>) -> Result<CostSnapshot, ProviderError> {
    let today = now.date_naive();
    let (first, next_month) = crate::model::cost::month_bounds(today);
    // Cost Explorer's end date is exclusive: up to and including today.
    let tomorrow = today + Duration::days(1);
    let so_far = interval(first, tomorrow)?;
    // The forecast needs a future interval; on the last day of the month there is none.
    let rest = if tomorrow < next_month { Some(interval(tomorrow, next_month)?) } else { None };
    // The forecast does not depend on the month so far: both are asked at once.
    let (usage, forecast) = tokio::join!(usage(client, so_far), async {
        match rest {
            Some(rest) => forecast_rest(client, rest).await,
            None => None,
        }
    });
    let (currency, totals) = usage?;
    let (by_service, mtd) = totals.finish();
    // On the last day (no forecast asked) the run rate below is the month to date itself.
    let forecast = forecast.map(|rest| mtd + rest);
    // Without a forecast, extrapolate the month-to-date run rate (unknown on day 1).
    Ok(CostSnapshot {
        cloud: CloudKind::Aws,
        currency,
        month_to_date: mtd,
        forecast: Forecast::cloud_or_run_rate(forecast, mtd, today),
        by_service,
    })
}

/// The month so far by service, every page, and its currency.
async fn usage(
    client: &Client,
    so_far: DateInterval,
) -> Result<(String, crate::model::cost::ServiceTotals), ProviderError> {
    let mut currency = String::from("USD");
    let mut totals = crate::model::cost::ServiceTotals::default();
    // Cost Explorer pages its groups (NextPageToken): every page is part of the month.
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let resp = client
            .get_cost_and_usage()
            .time_period(so_far.clone())
            .granularity(Granularity::Monthly)
            .metrics("UnblendedCost")
            .group_by(GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key("SERVICE").build())
            .set_next_page_token(token.take())
            .send()
            .await
            .map_err(|e| sdk_error("GetCostAndUsage", e))?;
        for r in resp.results_by_time() {
            for g in r.groups() {
                let service = g.keys().first().cloned().unwrap_or_else(|| "unknown".into());
                let Some(m) = g.metrics().and_then(|m| m.get("UnblendedCost")) else { continue };
                let amount: f64 = m.amount().and_then(|a| a.parse().ok()).unwrap_or(0.0);
                if let Some(u) = m.unit() {
                    currency = u.to_string();
                }
                totals.add(service, amount);
            }
        }
        match resp.next_page_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    if token.is_some() {
        // A month cut short would read as a smaller bill: say so instead.
        return Err(ProviderError::BadResponse(format!("GetCostAndUsage: more than {MAX_PAGES} pages")));
    }
    Ok((currency, totals))
}

/// The forecast of the rest of the month, or None when it cannot be had.
async fn forecast_rest(client: &Client, rest: DateInterval) -> Option<f64> {
    match client
        .get_cost_forecast()
        .time_period(rest)
        .metric(Metric::UnblendedCost)
        .granularity(Granularity::Monthly)
        // Optional (the run rate stands in) and read again at the next cost poll:
        // asked once, so an endpoint without it (moto answers 5xx) or a failing one
        // costs no retries and no seconds of a one-shot snapshot.
        .customize()
        .config_override(
            aws_sdk_costexplorer::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled()),
        )
        .send()
        .await
    {
        Ok(f) => f.total().and_then(|t| t.amount()).and_then(|a| a.parse::<f64>().ok()),
        Err(e) => {
            log::warn!("{}", sdk_error("GetCostForecast", e));
            None
        }
    }
}
