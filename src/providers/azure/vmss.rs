//! VM Scale Sets (api-version 2024-11-01): GET for `sku.capacity`, the scale set's
//! VMs with their instance views for how many run, are provisioned and (with the
//! Application Health extension) report healthy, and PATCH `sku.capacity` followed
//! until ARM says the update is done.
//!
//! The set-level instance view (`{id}/instanceView`) is not read: its
//! `statusesSummary` counts `ProvisioningState/*` only, with no power states, so it
//! cannot say how many instances run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use azure_core::http::{Method, Url};
use serde::Deserialize;

use super::arm::{AZURE_ASYNC_OPERATION, Arm, ArmResponse, LOCATION, retry_after};
use crate::model::{CloudKind, ScalingGroup, SourceId, ZoneCapacity};
use crate::providers::{ProviderError, Receipt};

pub const API: &str = "2024-11-01";
/// VMSS's own ceiling with platform images; autoscale profiles are not read.
pub const MAX_CAPACITY: u32 = 1000;
/// A runaway `nextLink` chain must not hold a poll forever; 1000 VMs fit many
/// times over at ARM's page sizes.
const MAX_PAGES: usize = 200;

#[derive(Debug, Deserialize)]
pub struct Vmss {
    pub name: String,
    pub location: String,
    pub sku: Sku,
    pub zones: Option<Vec<String>>,
    pub properties: Option<VmssProps>,
}

#[derive(Debug, Deserialize)]
pub struct Sku {
    pub capacity: Option<u32>,
    /// The VM size (`Standard_D2s_v5`): what a scale-out adds.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmssProps {
    pub provisioning_state: Option<String>,
    /// `Uniform` (the default) or `Flexible`.
    pub orchestration_mode: Option<String>,
}

impl Vmss {
    /// A Flexible scale set's VMs are ordinary VMs: ARM refuses the scale set's own
    /// VM list for it (OperationNotAllowed), so they are listed from the resource
    /// group, filtered to the set.
    pub fn flexible(&self) -> bool {
        self.properties.as_ref().and_then(|p| p.orchestration_mode.as_deref()).is_some_and(|m| eq(m, "Flexible"))
    }
}

/// One page of `{id}/virtualMachines?$expand=instanceView`. Every field the list
/// spec marks optional may be absent or null (the MinimumSet example has a VM with
/// `id` and `location` only).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmPage {
    pub value: Option<Vec<Vm>>,
    pub next_link: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Vm {
    pub zones: Option<Vec<String>>,
    pub properties: Option<VmProps>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmProps {
    pub provisioning_state: Option<String>,
    pub instance_view: Option<VmInstanceView>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmInstanceView {
    pub statuses: Option<Vec<Status>>,
    /// Present only when the Application Health extension (or a load-balancer
    /// health probe) reports on the VM.
    pub vm_health: Option<VmHealth>,
}

#[derive(Debug, Deserialize)]
pub struct VmHealth {
    pub status: Option<Status>,
}

#[derive(Debug, Deserialize)]
pub struct Status {
    pub code: Option<String>,
}

/// What one VM counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmState {
    pub running: bool,
    pub healthy: bool,
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Running: a `PowerState/running` status (codes compared case-blind). A VM with
/// no instance view has no known power state and is not counted as running.
/// Healthy: running, provisioned (`ProvisioningState/succeeded`, or the VM's own
/// `provisioningState` when the view has none) and, when the VM reports health,
/// `HealthState/healthy`.
pub fn vm_state(vm: &Vm) -> VmState {
    let props = vm.properties.as_ref();
    let view = props.and_then(|p| p.instance_view.as_ref());
    let codes: Vec<&str> =
        view.and_then(|v| v.statuses.as_deref()).unwrap_or_default().iter().filter_map(|s| s.code.as_deref()).collect();
    let running = codes.iter().any(|c| eq(c, "PowerState/running"));
    let provisioning: Vec<&str> = codes
        .iter()
        .filter_map(|c| c.split_once('/').filter(|(k, _)| eq(k, "ProvisioningState")).map(|(_, v)| v))
        .collect();
    // "ProvisioningState/failed/InternalError" carries a sub-code after the state.
    let provisioned = if provisioning.is_empty() {
        props.and_then(|p| p.provisioning_state.as_deref()).is_some_and(|s| eq(s, "Succeeded"))
    } else {
        provisioning.iter().all(|s| eq(s.split('/').next().unwrap_or(s), "succeeded"))
    };
    let reports_health = view.and_then(|v| v.vm_health.as_ref());
    let health_ok = match reports_health {
        None => true,
        Some(h) => h.status.as_ref().and_then(|s| s.code.as_deref()).is_some_and(|c| eq(c, "HealthState/healthy")),
    };
    VmState { running, healthy: running && provisioned && health_ok }
}

/// The zone a VM counts in: its first zone, or the set's location for a VM
/// placed without zones.
fn zone_of<'a>(vm: &'a Vm, location: &'a str) -> &'a str {
    vm.zones.as_deref().and_then(|z| z.iter().map(String::as_str).find(|z| !z.trim().is_empty())).unwrap_or(location)
}

/// The scale set as a group, its VMs counted per zone. The set's own zones are
/// rows even when empty (a zone with nothing running is worth seeing); a set with
/// no zone and no VM is one row named after its location.
pub fn to_group(source: &SourceId, v: &Vmss, vms: &[Vm]) -> ScalingGroup {
    let mut zones: BTreeMap<&str, ZoneCapacity> = BTreeMap::new();
    let row = |z: &str| ZoneCapacity { zone: z.to_string(), in_service: 0, healthy: 0 };
    for z in v.zones.as_deref().unwrap_or_default().iter().filter(|z| !z.trim().is_empty()) {
        zones.entry(z).or_insert_with(|| row(z));
    }
    for vm in vms {
        let z = zone_of(vm, &v.location);
        let s = vm_state(vm);
        let r = zones.entry(z).or_insert_with(|| row(z));
        r.in_service += u32::from(s.running);
        r.healthy += u32::from(s.healthy);
    }
    if zones.is_empty() {
        zones.insert(&v.location, row(&v.location));
    }
    ScalingGroup {
        source: source.clone(),
        cloud: CloudKind::Azure,
        region: v.location.clone(),
        name: v.name.clone(),
        min: 0,
        max: MAX_CAPACITY,
        desired: v.sku.capacity.unwrap_or(0),
        zones: zones.into_values().collect(),
        spot_share: 0.0,
        rps_per_instance: None,
        inactive: false,
        instance_type: v.sku.name.clone().filter(|n| !n.is_empty()),
    }
}

/// Decode one VM list page: its VMs and the `nextLink`, if any.
pub fn decode_page(body: &[u8]) -> Result<(Vec<Vm>, Option<String>), ProviderError> {
    let page: VmPage = super::arm::decode("VMSS VMs list", body)?;
    Ok((page.value.unwrap_or_default(), page.next_link.filter(|l| !l.trim().is_empty())))
}

/// The first page of the set's VMs with their instance views: the scale set's VM
/// list (Uniform), or the resource group's VMs filtered to the set (Flexible).
pub fn vms_url(arm: &Arm, id: &str, v: &Vmss) -> Result<Url, ProviderError> {
    let id = id.trim_end_matches('/');
    if !v.flexible() {
        return Ok(arm.url(&format!("{id}/virtualMachines"), API, &[("$expand", "instanceView")]));
    }
    // `/subscriptions/{sub}/resourceGroups/{rg}/providers/...`: the first four segments.
    let group: Vec<&str> = id.trim_start_matches('/').splitn(5, '/').take(4).collect();
    if group.len() < 4 || !group[2].eq_ignore_ascii_case("resourceGroups") {
        return Err(ProviderError::BadResponse(format!("{id} is not a resource id")));
    }
    let filter = format!("'virtualMachineScaleSet/id' eq '{id}'");
    let path = format!("/{}/providers/Microsoft.Compute/virtualMachines", group.join("/"));
    Ok(arm.url(&path, API, &[("$filter", &filter), ("$expand", "instanceView")]))
}

/// Every VM of the set, every page. A chain longer than [`MAX_PAGES`] fails the
/// read: a partial count would under-report the set.
pub async fn list_vms(arm: &Arm, id: &str, v: &Vmss) -> Result<Vec<Vm>, ProviderError> {
    let mut next = Some(vms_url(arm, id, v)?);
    let mut out = Vec::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(ProviderError::BadResponse(format!("VMSS VMs list: more than {MAX_PAGES} pages")));
        }
        let resp = arm.send("VMSS VMs list", Method::Get, url, None).await?;
        let (vms, link) = decode_page(&resp.body)?;
        out.extend(vms);
        if let Some(link) = link {
            next = Some(arm.same_origin(&link)?);
        }
    }
    Ok(out)
}

pub async fn read(arm: &Arm, source: &SourceId, id: &str) -> Result<ScalingGroup, ProviderError> {
    let v: Vmss = arm.get("VMSS GET", arm.url(id, API, &[])).await?;
    let vms = list_vms(arm, id, &v).await?;
    Ok(to_group(source, &v, &vms))
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
    fn the_scale_set_fixture_with_the_minimum_vm_list() {
        let v: Vmss = body("compute-2024-11-01-VirtualMachineScaleSet_Get_WithUserData.json");
        assert_eq!(v.sku.capacity, Some(4));
        assert_eq!(v.properties.as_ref().and_then(|p| p.provisioning_state.as_deref()), Some("succeeded"));
        // The MinimumSet VM has no instance view: no known power state, not running.
        let page: VmPage = body("compute-2024-11-01-VirtualMachineScaleSetVM_List_MinimumSet_Gen.json");
        assert!(page.next_link.is_none());
        let vms = page.value.expect("value");
        assert_eq!(vm_state(&vms[0]), VmState { running: false, healthy: false });
        let g = to_group(&SourceId::new("s"), &v, &vms);
        assert_eq!((g.desired, g.region.as_str(), g.name.as_str()), (4, "westus", "myVirtualMachineScaleSet"));
        assert_eq!(g.zones, vec![ZoneCapacity { zone: "westus".into(), in_service: 0, healthy: 0 }]);
    }

    fn vm(v: serde_json::Value) -> Vm {
        serde_json::from_value(v).expect("vm shape")
    }

    #[test]
    fn power_provisioning_and_health_per_vm() {
        let s = |statuses: serde_json::Value, health: Option<&str>| {
            let mut view = serde_json::json!({"statuses": statuses});
            if let Some(h) = health {
                view["vmHealth"] = serde_json::json!({"status": {"code": h}});
            }
            vm_state(&vm(serde_json::json!({"properties": {"instanceView": view}})))
        };
        let up = serde_json::json!([{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}]);
        assert_eq!(s(up.clone(), None), VmState { running: true, healthy: true });
        assert_eq!(s(up.clone(), Some("HealthState/healthy")), VmState { running: true, healthy: true });
        assert_eq!(s(up.clone(), Some("HealthState/unhealthy")), VmState { running: true, healthy: false });
        assert_eq!(s(up.clone(), Some("HealthState/initializing")), VmState { running: true, healthy: false });
        assert_eq!(s(up, Some("HealthState/unknown")), VmState { running: true, healthy: false });
        // Codes are compared case-blind; a failed provisioning carries a sub-code.
        let failed =
            serde_json::json!([{"code": "provisioningstate/Failed/InternalError"}, {"code": "powerstate/RUNNING"}]);
        assert_eq!(s(failed, None), VmState { running: true, healthy: false });
        let off = serde_json::json!([{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/deallocated"}]);
        assert_eq!(s(off, Some("HealthState/healthy")), VmState { running: false, healthy: false });
        // No ProvisioningState status: the VM's own provisioningState decides.
        let v = vm(serde_json::json!({"properties": {"provisioningState": "Succeeded",
            "instanceView": {"statuses": [{"code": "PowerState/running"}], "vmHealth": null}}}));
        assert_eq!(vm_state(&v), VmState { running: true, healthy: true });
        let v = vm(serde_json::json!({"properties": {"provisioningState": "Updating",
            "instanceView": {"statuses": [{"code": "PowerState/running"}, {"code": null}]}}}));
        assert_eq!(vm_state(&v), VmState { running: true, healthy: false });
        // vmHealth present but silent: health is not known, so not healthy.
        let v = vm(serde_json::json!({"properties": {"instanceView": {"statuses": [
            {"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}], "vmHealth": {"status": null}}}}));
        assert_eq!(vm_state(&v), VmState { running: true, healthy: false });
    }

    #[test]
    fn counts_split_by_zone_with_zoneless_vms_under_the_location() {
        let v: Vmss = serde_json::from_value(serde_json::json!({"name": "web-東京", "location": "japaneast",
            "sku": {"capacity": 5}, "zones": ["1", "2", "3"]}))
        .expect("vmss");
        let up =
            serde_json::json!({"statuses": [{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}]});
        let vms = vec![
            vm(serde_json::json!({"zones": ["2"], "properties": {"instanceView": up}})),
            vm(serde_json::json!({"zones": ["1"], "properties": {"instanceView": up}})),
            vm(
                serde_json::json!({"zones": ["1"], "properties": {"instanceView": {"statuses": [{"code": "PowerState/stopped"}]}}}),
            ),
            vm(serde_json::json!({"zones": null, "properties": {"instanceView": up}})),
            vm(serde_json::json!({"properties": null})),
        ];
        let g = to_group(&SourceId::new("s"), &v, &vms);
        let rows: Vec<(&str, u32, u32)> = g.zones.iter().map(|z| (z.zone.as_str(), z.in_service, z.healthy)).collect();
        assert_eq!(rows, vec![("1", 1, 1), ("2", 1, 1), ("3", 0, 0), ("japaneast", 1, 1)]);
        assert_eq!((g.desired, g.in_service(), g.healthy()), (5, 3, 3));
    }

    #[test]
    fn pages_decode_with_null_value_and_empty_links() {
        let (vms, next) = decode_page(br#"{"value": null, "nextLink": ""}"#).expect("page");
        assert!(vms.is_empty() && next.is_none());
        let (vms, next) = decode_page(br#"{"value": [{}], "nextLink": "https://x/next"}"#).expect("page");
        assert_eq!((vms.len(), next.as_deref()), (1, Some("https://x/next")));
    }
}
