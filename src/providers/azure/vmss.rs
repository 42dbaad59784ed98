//! VM Scale Sets (api-version 2024-11-01): GET for `sku.capacity`, the instance
//! view for how many instances run and are provisioned, and PATCH `sku.capacity`
//! followed until ARM says the update is done.

use std::time::{Duration, Instant};

use azure_core::http::{Method, Url};
use serde::Deserialize;

use super::arm::{AZURE_ASYNC_OPERATION, Arm, ArmResponse, LOCATION, retry_after};
use crate::model::{CloudKind, ScalingGroup, SourceId, ZoneCapacity};
use crate::providers::{ProviderError, Receipt};

pub const API: &str = "2024-11-01";
/// VMSS's own ceiling with platform images; autoscale profiles are not read.
pub const MAX_CAPACITY: u32 = 1000;

#[derive(Debug, Deserialize)]
pub struct Vmss {
    pub name: String,
    pub location: String,
    pub sku: Sku,
    #[serde(default)]
    pub zones: Vec<String>,
    pub properties: Option<VmssProps>,
}

#[derive(Debug, Deserialize)]
pub struct Sku {
    pub capacity: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmssProps {
    pub provisioning_state: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    pub virtual_machine: Option<Summary>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    #[serde(default)]
    pub statuses_summary: Vec<StatusCount>,
}

#[derive(Debug, Deserialize)]
pub struct StatusCount {
    pub code: String,
    pub count: u32,
}

/// Instances running, and of those how many are provisioned: counts by status code
/// (`PowerState/running`, `ProvisioningState/succeeded`), codes compared case-blind.
pub fn health(view: &InstanceView) -> (u32, u32) {
    let summary = view.virtual_machine.as_ref().map(|v| v.statuses_summary.as_slice()).unwrap_or_default();
    let count = |code: &str| summary.iter().filter(|s| s.code.eq_ignore_ascii_case(code)).map(|s| s.count).sum::<u32>();
    let running = count("PowerState/running");
    (running, running.min(count("ProvisioningState/succeeded")))
}

pub fn to_group(source: &SourceId, v: &Vmss, view: &InstanceView) -> ScalingGroup {
    let (running, healthy) = health(view);
    ScalingGroup {
        source: source.clone(),
        cloud: CloudKind::Azure,
        region: v.location.clone(),
        name: v.name.clone(),
        min: 0,
        max: MAX_CAPACITY,
        desired: v.sku.capacity.unwrap_or(0),
        // The instance view does not split by zone: one row for the whole set.
        zones: vec![ZoneCapacity {
            zone: if v.zones.is_empty() { v.location.clone() } else { v.zones.join(",") },
            in_service: running,
            healthy,
        }],
        spot_share: 0.0,
        rps_per_instance: None,
        inactive: false,
    }
}

pub async fn read(arm: &Arm, source: &SourceId, id: &str) -> Result<ScalingGroup, ProviderError> {
    let v: Vmss = arm.get("VMSS GET", arm.url(id, API, &[])).await?;
    let view: InstanceView = arm.get("VMSS instanceView", arm.url(&format!("{id}/instanceView"), API, &[])).await?;
    Ok(to_group(source, &v, &view))
}

/// How long and how often a long-running operation is followed.
#[derive(Debug, Clone, Copy)]
pub struct LroLimits {
    pub timeout: Duration,
    /// Wait between polls when the server gives no `Retry-After`.
    pub interval: Duration,
}

/// PATCH `sku.capacity`, then follow the operation to its end.
pub async fn set_capacity(arm: &Arm, id: &str, capacity: u32, lro: LroLimits) -> Result<Receipt, ProviderError> {
    let body = serde_json::json!({ "sku": { "capacity": capacity } });
    let resp = arm.send("VMSS PATCH", Method::Patch, arm.url(id, API, &[]), Some(&body)).await?;
    let request_id = resp.header(&super::arm::REQUEST_ID).unwrap_or("unknown").to_string();
    follow(arm, id, &resp, lro).await?;
    Ok(Receipt { request_id })
}

#[derive(Debug, Deserialize)]
struct OperationStatus {
    status: String,
    error: Option<OperationError>,
}

#[derive(Debug, Deserialize)]
struct OperationError {
    code: Option<String>,
    message: Option<String>,
}

fn wait_for(resp: &ArmResponse, lro: LroLimits) -> Duration {
    retry_after(&resp.headers).unwrap_or(lro.interval).min(Duration::from_secs(30))
}

/// ARM's three ways of saying "still working": an `Azure-AsyncOperation` URL to poll
/// for `status`; a `Location` URL answering 202 until done; or neither, and the
/// resource's own `provisioningState` is re-read until terminal.
async fn follow(arm: &Arm, id: &str, first: &ArmResponse, lro: LroLimits) -> Result<(), ProviderError> {
    let deadline = Instant::now() + lro.timeout;
    let expired = || ProviderError::Timeout(lro.timeout);
    if let Some(link) = first.header(&AZURE_ASYNC_OPERATION) {
        let url = arm.same_origin(link)?;
        return poll_until(arm, "VMSS operation status", url, first, lro, deadline, |resp| {
            let op: OperationStatus = resp.json("VMSS operation status")?;
            match op.status.to_ascii_lowercase().as_str() {
                "succeeded" => Ok(true),
                "failed" | "canceled" | "cancelled" => {
                    let e = op.error.unwrap_or(OperationError { code: None, message: None });
                    Err(ProviderError::BadResponse(format!(
                        "VMSS update {}: {} {}",
                        op.status,
                        e.code.unwrap_or_default(),
                        super::arm::one_line(&e.message.unwrap_or_default())
                    )))
                }
                _ => Ok(false),
            }
        })
        .await;
    }
    if first.status == 202
        && let Some(link) = first.header(&LOCATION)
    {
        let url = arm.same_origin(link)?;
        // The Location URL answers 202 while the operation runs.
        return poll_until(arm, "VMSS operation location", url, first, lro, deadline, |resp| Ok(resp.status != 202))
            .await;
    }
    // Neither header: the PATCH answer's provisioningState, then the resource's.
    let mut state = first
        .json::<serde_json::Value>("VMSS PATCH")
        .ok()
        .and_then(|v| v.pointer("/properties/provisioningState").and_then(|s| s.as_str()).map(str::to_string));
    loop {
        match state.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("succeeded") => return Ok(()),
            Some(s @ ("failed" | "canceled")) => {
                return Err(ProviderError::BadResponse(format!("VMSS update ended {s}")));
            }
            _ => {}
        }
        if state.is_some() {
            if Instant::now() + lro.interval > deadline {
                return Err(expired());
            }
            tokio::time::sleep(lro.interval).await;
        }
        let v: Vmss = arm.get("VMSS GET", arm.url(id, API, &[])).await?;
        state = Some(v.properties.and_then(|p| p.provisioning_state).unwrap_or_default());
    }
}

/// GET `url` until `settled` says the operation has ended (or fails it), waiting
/// between polls as the previous answer's `Retry-After` asks.
async fn poll_until(
    arm: &Arm,
    what: &str,
    url: Url,
    first: &ArmResponse,
    lro: LroLimits,
    deadline: Instant,
    settled: impl Fn(&ArmResponse) -> Result<bool, ProviderError>,
) -> Result<(), ProviderError> {
    let mut pause = wait_for(first, lro);
    loop {
        if Instant::now() + pause > deadline {
            return Err(ProviderError::Timeout(lro.timeout));
        }
        tokio::time::sleep(pause).await;
        let resp = arm.send(what, Method::Get, url.clone(), None).await?;
        if settled(&resp)? {
            return Ok(());
        }
        pause = wait_for(&resp, lro);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let path = format!("{}/tests/fixtures/azure/{name}", env!("CARGO_MANIFEST_DIR"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        serde_json::from_value(v["responses"]["200"]["body"].clone()).expect("shape")
    }

    #[test]
    fn capacity_and_health_from_the_fixtures() {
        let v: Vmss = body("compute-2024-11-01-VirtualMachineScaleSet_Get_WithUserData.json");
        assert_eq!(v.sku.capacity, Some(4));
        assert_eq!(v.properties.as_ref().and_then(|p| p.provisioning_state.as_deref()), Some("succeeded"));
        // The generated example's codes ("aa") are neither running nor provisioned.
        let view: InstanceView = body("compute-2024-11-01-VirtualMachineScaleSet_GetInstanceView_MaximumSet_Gen.json");
        assert_eq!(health(&view), (0, 0));
        let g = to_group(&SourceId::new("s"), &v, &view);
        assert_eq!((g.desired, g.region.as_str(), g.name.as_str()), (4, "westus", "myVirtualMachineScaleSet"));
    }

    #[test]
    fn running_and_provisioned_counts() {
        let view: InstanceView = serde_json::from_value(serde_json::json!({"virtualMachine": {"statusesSummary": [
            {"code": "ProvisioningState/succeeded", "count": 3}, {"code": "ProvisioningState/failed", "count": 1},
            {"code": "PowerState/running", "count": 4}]}}))
        .expect("shape");
        assert_eq!(health(&view), (4, 3));
    }
}
