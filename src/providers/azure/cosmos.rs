//! Cosmos DB replication: Azure Monitor's `ReplicationLatency` (milliseconds,
//! per source and target region) of each configured account, split by
//! `SourceRegion` and `TargetRegion`, as database replication figures against
//! the RPO.

use chrono::{DateTime, Utc};

use super::arm::Arm;
use super::metrics::{self, SeriesValue};
use crate::model::{CloudKind, Replication, ReplicationKind};
use crate::providers::ProviderError;

pub const METRIC: &str = "ReplicationLatency";

/// The account's name: the last segment of its resource id.
fn account_name(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

/// Pure: one figure per region pair, in seconds.
pub fn figures(account_id: &str, series: &[SeriesValue], rpo_secs: f64) -> Vec<Replication> {
    let name = account_name(account_id);
    let mut out: Vec<Replication> = series
        .iter()
        .map(|s| {
            let region = |k: &str| s.dimensions.get(k).filter(|v| !v.is_empty()).map_or("unknown", String::as_str);
            Replication {
                kind: ReplicationKind::Database,
                name: format!("{name} ({} → {})", region("sourceregion"), region("targetregion")),
                from: CloudKind::Azure,
                to: CloudKind::Azure,
                value: s.maximum / 1000.0,
                target: rpo_secs,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Every configured account's figures (an account with no datapoint yet has none).
pub async fn replication(
    arm: &Arm,
    accounts: &[&String],
    rpo_secs: f64,
    now: DateTime<Utc>,
) -> Result<Vec<Replication>, ProviderError> {
    let mut out = Vec::new();
    for id in accounts {
        let series = metrics::read_split(arm, id, METRIC, &["SourceRegion", "TargetRegion"], now).await?;
        out.extend(figures(id, &series, rpo_secs));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::azure::metrics::Response;

    /// The documented GetMetric answer, made ReplicationLatency split by region pair.
    #[test]
    fn one_figure_per_region_pair_in_seconds_from_the_newest_maximum() {
        let resp: Response = serde_json::from_value(serde_json::json!({
            "value": [{
                "name": {"value": "ReplicationLatency", "localizedValue": "P99 Replication Latency"},
                "unit": "MilliSeconds",
                "timeseries": [
                    {"metadatavalues": [
                        {"name": {"value": "sourceregion"}, "value": "West Europe"},
                        {"name": {"value": "targetregion"}, "value": "East US 2"}],
                     "data": [
                        {"timeStamp": "2026-12-01T10:00:00Z", "maximum": 900.0},
                        {"timeStamp": "2026-12-01T10:01:00Z", "maximum": 1400.0},
                        {"timeStamp": "2026-12-01T10:02:00Z"}]},
                    {"metadatavalues": [
                        {"name": {"value": "SourceRegion"}, "value": "East US 2"},
                        {"name": {"value": "TargetRegion"}, "value": "West Europe"}],
                     "data": [{"timeStamp": "2026-12-01T10:00:00Z", "maximum": 35000.0}]},
                    {"metadatavalues": [], "data": []}
                ]
            }]
        }))
        .expect("documented shape");
        let series = metrics::newest_per_series(&resp, METRIC).expect("series");
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/shop-cosmos";
        let got: Vec<(String, f64, bool)> =
            figures(id, &series, 30.0).into_iter().map(|r| (r.name.clone(), r.value, r.within_target())).collect();
        assert_eq!(
            got,
            [
                ("shop-cosmos (East US 2 → West Europe)".to_string(), 35.0, false),
                ("shop-cosmos (West Europe → East US 2)".to_string(), 1.4, true),
            ],
            "a series with no point is no figure, never 0"
        );
    }

    #[test]
    fn a_metric_failing_inside_the_200_is_an_error() {
        let resp: Response = serde_json::from_value(serde_json::json!({
            "value": [{"name": {"value": "ReplicationLatency"}, "errorCode": "Throttled", "errorMessage": "slow down"}]
        }))
        .expect("shape");
        let e = metrics::newest_per_series(&resp, METRIC).expect_err("failed metric");
        assert!(e.to_string().contains("Throttled: slow down"), "{e}");
    }
}
