//! Byte-level entry points to the ARM answer decoders, one per answer shape:
//! exactly what a poll does with a 2xx body, without the HTTP around it. Used by
//! the fuzz targets (fuzz/) and by tests that feed hostile bodies.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{alerts, arm, cost, metrics, traffic, vmss};
use crate::model::{Alert, CostSnapshot, ScalingGroup, Severity, SourceId, TrafficPolicy};
use crate::providers::ProviderError;

/// One page of Alerts Management's list: the alerts, and whether a `nextLink` follows.
pub fn alerts_page(
    body: &[u8],
    source: &SourceId,
    sev: &BTreeMap<String, Severity>,
    now: DateTime<Utc>,
) -> Result<(Vec<Alert>, bool), ProviderError> {
    alerts::decode_page(body, source, sev, now)
}

/// A Monitor metrics answer: the newest values per metric.
pub fn metric_values(body: &[u8]) -> Result<metrics::Values, ProviderError> {
    let r: metrics::Response = arm::decode("Monitor metrics", body)?;
    Ok(metrics::newest(&r))
}

/// One page of a Cost Management query answer: a snapshot per currency.
pub fn cost_query(body: &[u8], now: DateTime<Utc>) -> Result<Vec<CostSnapshot>, ProviderError> {
    let q: cost::QueryResult = arm::decode("Cost Management query", body)?;
    cost::to_snapshots(&q.properties, now)
}

/// A Traffic Manager profile with its endpoints.
pub fn traffic_profile(body: &[u8], source: &SourceId, profile_id: &str) -> Result<TrafficPolicy, ProviderError> {
    let p: traffic::Profile = arm::decode("Traffic Manager profile", body)?;
    Ok(traffic::to_policy(source, profile_id, &p).0)
}

/// A scale set's GET answer and one page of its VM list (`virtualMachines?$expand=instanceView`),
/// as one scaling group.
pub fn scale_set(vmss_body: &[u8], vms_body: &[u8], source: &SourceId) -> Result<ScalingGroup, ProviderError> {
    let v: vmss::Vmss = arm::decode("VMSS GET", vmss_body)?;
    let (vms, _next) = vmss::decode_page(vms_body)?;
    Ok(vmss::to_group(source, &v, &vms))
}
