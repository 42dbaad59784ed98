//! Byte-level entry points to the Alibaba Cloud answer decoders: an HTTP status
//! and body through `classify` and then the product's parser, as a poll reads
//! them, without the HTTP around it. Used by the fuzz targets (fuzz/) and by
//! tests that feed hostile bodies.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::client::{Answer, classify};
use super::config::GtmConfig;
use super::{bss, cms, ess, gtm, json};
use crate::model::{Alert, CostSnapshot, ScalingGroup, Severity, SourceId, TrafficPolicy};
use crate::providers::ProviderError;

/// One answer as the client's read sees it (no retry): its JSON or the error.
pub fn answer(action: &str, status: u16, body: &str) -> Result<Value, ProviderError> {
    match classify(action, status, body) {
        Answer::Ok(v) => Ok(v),
        Answer::Throttled(words) => Err(ProviderError::Throttled(words)),
        Answer::Failed(e) => Err(e),
    }
}

/// QueryBillOverview: one snapshot per currency whose spend is known.
pub fn bill_overview(status: u16, body: &str, now: DateTime<Utc>) -> Result<Vec<CostSnapshot>, ProviderError> {
    Ok(bss::snapshot(&answer("QueryBillOverview", status, body)?, now))
}

/// DescribeScalingGroups (either API version): every group on the page.
pub fn scaling_groups(
    status: u16,
    body: &str,
    source: &SourceId,
    region: &str,
) -> Result<Vec<ScalingGroup>, ProviderError> {
    let v = answer("DescribeScalingGroups", status, body)?;
    Ok(json::list(&v, "ScalingGroups", "ScalingGroup")
        .iter()
        .filter_map(|g| Some(ess::parse_group(g, source, region, &json::text(g, "ScalingGroupId")?)))
        .collect())
}

/// DescribeDnsGtmAccessStrategy and DescribeDnsGtmInstanceStatus, as one policy.
pub fn gtm_policy(
    strategy: &str,
    status: &str,
    source: &SourceId,
    cfg: &GtmConfig,
) -> Result<TrafficPolicy, ProviderError> {
    let s = answer("DescribeDnsGtmAccessStrategy", 200, strategy)?;
    let st = answer("DescribeDnsGtmInstanceStatus", 200, status)?;
    Ok(gtm::policy(source, cfg, &s, &st))
}

/// DescribeMetricLast / DescribeMetricList: the newest `field` per `key`.
pub fn metric_points(status: u16, body: &str, key: &str, field: &str) -> Result<BTreeMap<String, f64>, ProviderError> {
    let v = answer("DescribeMetricLast", status, body)?;
    let points = json::embedded_list(&v, "Datapoints")
        .map_err(|e| ProviderError::BadResponse(format!("DescribeMetricLast: {e}")))?;
    Ok(cms::newest_by(&points, key, field))
}

/// DescribeAlertLogList: the page's alert logs as alerts.
pub fn alert_logs(
    status: u16,
    body: &str,
    source: &SourceId,
    map: &BTreeMap<String, Severity>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ProviderError> {
    let v = answer("DescribeAlertLogList", status, body)?;
    Ok(cms::alerts_from_logs(json::list(&v, "AlertLogList", "Alarm"), source, map, now))
}
