//! Azure Monitor metrics: `GET {resourceUri}/providers/Microsoft.Insights/metrics`
//! (api-version 2024-02-01), several metrics of one resource per call. A metric can
//! fail inside a 200 (`errorCode` other than `Success`): that metric alone is left
//! out and reported; the others are used.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Deserialize;

use super::arm::Arm;
use crate::providers::ProviderError;

pub const API: &str = "2024-02-01";

#[derive(Debug, Deserialize)]
pub struct Response {
    #[serde(default)]
    pub value: Vec<Metric>,
    pub resourceregion: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    pub name: Name,
    #[serde(default)]
    pub timeseries: Vec<Series>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Name {
    pub value: String,
}

#[derive(Debug, Deserialize)]
pub struct Series {
    /// The dimension values of this series (`$filter=Dim eq '*'` splits by them).
    #[serde(default)]
    pub metadatavalues: Vec<MetadataValue>,
    #[serde(default)]
    pub data: Vec<Point>,
}

#[derive(Debug, Deserialize)]
pub struct MetadataValue {
    pub name: Name,
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub time_stamp: DateTime<Utc>,
    pub average: Option<f64>,
    pub total: Option<f64>,
    pub maximum: Option<f64>,
}

/// One series of a metric split by dimensions: its dimension values (lowercased
/// names) and its newest `maximum`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesValue {
    pub dimensions: BTreeMap<String, String>,
    pub maximum: f64,
}

/// Pure: per series of `metric`, the newest point carrying a `maximum`. A metric
/// failing inside the 200 is an error here: its series are all there is.
pub fn newest_per_series(resp: &Response, metric: &str) -> Result<Vec<SeriesValue>, ProviderError> {
    let mut out = Vec::new();
    for m in resp.value.iter().filter(|m| m.name.value.eq_ignore_ascii_case(metric)) {
        if let Some(code) = m.error_code.as_deref().filter(|c| !c.eq_ignore_ascii_case("Success")) {
            let msg = m.error_message.as_deref().unwrap_or("");
            return Err(ProviderError::BadResponse(format!("Monitor metric {metric}: {code}: {msg}")));
        }
        for s in &m.timeseries {
            let Some(p) = s.data.iter().filter(|p| p.maximum.is_some()).max_by_key(|p| p.time_stamp) else { continue };
            let Some(maximum) = p.maximum.filter(|v| v.is_finite()) else { continue };
            let dimensions = s
                .metadatavalues
                .iter()
                .map(|d| (d.name.value.to_lowercase(), d.value.clone().unwrap_or_default()))
                .collect();
            out.push(SeriesValue { dimensions, maximum });
        }
    }
    Ok(out)
}

/// One metric of one resource split by `dimensions` (each `eq '*'`), its
/// maximum over the last 15 minutes at one-minute grain, newest per series.
pub async fn read_split(
    arm: &Arm,
    resource_id: &str,
    metric: &str,
    dimensions: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<SeriesValue>, ProviderError> {
    let span = format!(
        "{}/{}",
        (now - Duration::minutes(15)).to_rfc3339_opts(SecondsFormat::Secs, true),
        now.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let path = format!("{}/providers/Microsoft.Insights/metrics", resource_id.trim_end_matches('/'));
    let filter = dimensions.iter().map(|d| format!("{d} eq '*'")).collect::<Vec<_>>().join(" and ");
    let url = arm.url(
        &path,
        API,
        &[
            ("metricnames", metric),
            ("aggregation", "maximum"),
            ("interval", "PT1M"),
            ("timespan", &span),
            ("$filter", &filter),
            // Monitor returns 10 series unless asked for more: a multi-region
            // account has more region pairs than that.
            ("top", "1000"),
        ],
    );
    let resp: Response = arm.get("Monitor metrics", url).await?;
    newest_per_series(&resp, metric)
}

/// The newest value of each metric, by metric name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Values {
    /// Newest `average` (mean over time series) and `total` (sum over time series).
    pub average: BTreeMap<String, f64>,
    pub total: BTreeMap<String, f64>,
    /// Metrics that failed inside the 200: (name, "code: message").
    pub errors: Vec<(String, String)>,
    pub region: Option<String>,
}

/// Pure: the newest data point carrying a value, per metric and aggregation.
pub fn newest(resp: &Response) -> Values {
    let mut out = Values { region: resp.resourceregion.clone(), ..Values::default() };
    for m in &resp.value {
        let name = m.name.value.clone();
        if let Some(code) = m.error_code.as_deref().filter(|c| !c.eq_ignore_ascii_case("Success")) {
            let msg = m.error_message.as_deref().unwrap_or("");
            out.errors.push((name, format!("{code}: {msg}").trim_end_matches([':', ' ']).to_string()));
            continue;
        }
        let pick = |f: fn(&Point) -> Option<f64>| -> Vec<f64> {
            m.timeseries
                .iter()
                .filter_map(|s| s.data.iter().filter(|p| f(p).is_some()).max_by_key(|p| p.time_stamp).and_then(f))
                .collect()
        };
        let avgs = pick(|p| p.average);
        if !avgs.is_empty() {
            out.average.insert(name.clone(), avgs.iter().sum::<f64>() / avgs.len() as f64);
        }
        let totals = pick(|p| p.total);
        if !totals.is_empty() {
            out.total.insert(name, totals.iter().sum());
        }
    }
    out
}

/// One call for `names` of one resource over the last 15 minutes at one-minute grain.
pub async fn read(
    arm: &Arm,
    resource_id: &str,
    names: &[&str],
    aggregation: &str,
    now: DateTime<Utc>,
) -> Result<Values, ProviderError> {
    let span = format!(
        "{}/{}",
        (now - Duration::minutes(15)).to_rfc3339_opts(SecondsFormat::Secs, true),
        now.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let path = format!("{}/providers/Microsoft.Insights/metrics", resource_id.trim_end_matches('/'));
    let joined = names.join(",");
    let url = arm.url(
        &path,
        API,
        &[("metricnames", &joined), ("aggregation", aggregation), ("interval", "PT1M"), ("timespan", &span)],
    );
    let resp: Response = arm.get("Monitor metrics", url).await?;
    Ok(newest(&resp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Response {
        let path = format!("{}/tests/fixtures/azure/{name}", env!("CARGO_MANIFEST_DIR"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        serde_json::from_value(v["responses"]["200"]["body"].clone()).expect("shape")
    }

    #[test]
    fn newest_point_per_metric() {
        let v = newest(&fixture("monitor-2024-02-01-GetMetric.json"));
        assert!(v.errors.is_empty());
        // BlobCount at 13:00 over five tiers: Hot 7, Standard 2, Cool/Archive/Untiered 0 → mean 1.8.
        let blobs = v.average.get("BlobCount").copied().expect("BlobCount");
        assert!((blobs - 1.8).abs() < 1e-9, "{blobs}");
        assert_eq!(v.region.as_deref(), Some("westus2"));
    }

    #[test]
    fn a_metric_error_inside_a_200_is_that_metric_alone() {
        let v = newest(&fixture("monitor-2018-01-01-GetMetricError.json"));
        assert_eq!(v.errors.len(), 1);
        assert_eq!(v.errors[0].0, "MongoRequestsCount");
        assert!(v.errors[0].1.starts_with("InvalidSamplingType: Sampling type is not found"), "{:?}", v.errors);
        assert_eq!(v.average.get("MongoRequests"), Some(&0.0));
        assert!(!v.average.contains_key("MongoRequestsCount"));
    }
}
