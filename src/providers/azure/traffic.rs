//! Traffic Manager profiles with their endpoints (api-version 2022-04-01), and
//! endpoint PATCHes of `weight` or `endpointStatus` for a failover.

use azure_core::http::Method;
use serde::Deserialize;

use super::arm::Arm;
use crate::model::{CloudKind, Detection, Endpoint, Health, PolicyKind, SourceId, TrafficPolicy};
use crate::providers::{ProviderError, Receipt};

pub const API: &str = "2022-04-01";

#[derive(Debug, Deserialize)]
pub struct Profile {
    pub name: String,
    pub properties: ProfileProps,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileProps {
    pub traffic_routing_method: Option<String>,
    pub dns_config: Option<DnsConfig>,
    pub monitor_config: Option<MonitorConfig>,
    #[serde(default)]
    pub endpoints: Vec<TmEndpoint>,
}

#[derive(Debug, Deserialize)]
pub struct DnsConfig {
    pub ttl: Option<u32>,
    pub fqdn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorConfig {
    pub interval_in_seconds: Option<u32>,
    pub tolerated_number_of_failures: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TmEndpoint {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub properties: EndpointProps,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointProps {
    pub endpoint_status: Option<String>,
    pub endpoint_monitor_status: Option<String>,
    pub target: Option<String>,
    pub weight: Option<u32>,
    pub priority: Option<u32>,
    pub endpoint_location: Option<String>,
}

/// What an endpoint change needs from the last read.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRef {
    /// `{profile id}/{externalEndpoints|azureEndpoints|nestedEndpoints}/{name}`.
    pub path: String,
    pub weighted: bool,
    pub enabled: bool,
    /// The weight the model shows (0 when disabled).
    pub shown_weight: u32,
}

/// Seconds from an endpoint failing to clients following: the probes needed to
/// declare it degraded (interval × (tolerated failures + 1)) plus the DNS TTL.
pub fn recovery_estimate_secs(ttl: u32, interval: u32, tolerated: u32) -> u32 {
    interval.saturating_mul(tolerated.saturating_add(1)).saturating_add(ttl)
}

fn health_of(monitor: Option<&str>) -> Health {
    match monitor.map(str::to_ascii_lowercase).as_deref() {
        Some("online") => Health::Ok,
        // Unmonitored endpoints are always served, but nothing checks them: unknown.
        Some("unmonitored") => Health::Unknown,
        Some("degraded" | "disabled" | "inactive" | "stopped") => Health::Down,
        _ => Health::Unknown,
    }
}

fn cloud_of(target: &str) -> CloudKind {
    let t = target.to_ascii_lowercase();
    if t.contains("amazonaws.com") || t.contains("cloudfront.net") {
        CloudKind::Aws
    } else if t.contains("aliyun") || t.contains("alibaba") || t.contains("alicdn") {
        CloudKind::Aliyun
    } else {
        CloudKind::Azure
    }
}

/// The profile as a policy, and what a change of each endpoint needs.
pub fn to_policy(source: &SourceId, profile_id: &str, p: &Profile) -> (TrafficPolicy, Vec<(String, EndpointRef)>) {
    let props = &p.properties;
    let method = props.traffic_routing_method.clone().unwrap_or_default();
    let weighted = method.eq_ignore_ascii_case("Weighted");
    let ttl = props.dns_config.as_ref().and_then(|d| d.ttl).unwrap_or(60);
    let (interval, tolerated) = props
        .monitor_config
        .as_ref()
        .map(|m| (m.interval_in_seconds.unwrap_or(30), m.tolerated_number_of_failures.unwrap_or(3)))
        .unwrap_or((30, 3));
    let recovery = recovery_estimate_secs(ttl, interval, tolerated);
    // Priority routing: only the best-priority enabled endpoint takes traffic.
    let top_priority = props
        .endpoints
        .iter()
        .filter(|e| e.properties.endpoint_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("Enabled")))
        .filter_map(|e| e.properties.priority)
        .min();
    let mut endpoints = Vec::new();
    let mut refs = Vec::new();
    for e in &props.endpoints {
        let ep = &e.properties;
        let enabled = ep.endpoint_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("Enabled"));
        let shown_weight = match (enabled, weighted, method.as_str()) {
            (false, _, _) => 0,
            (true, true, _) => ep.weight.unwrap_or(1),
            (true, false, "Priority") => u32::from(ep.priority == top_priority),
            (true, false, _) => 1,
        };
        let target = ep.target.clone().unwrap_or_default();
        let monitor = ep.endpoint_monitor_status.as_deref().unwrap_or("unknown");
        let mut check = format!(
            "{monitor}, {} · weight {} · priority {} · failover ≈ {recovery} s ({interval} s × {} probes + TTL {ttl} s)",
            ep.endpoint_status.as_deref().unwrap_or("?"),
            ep.weight.map_or("–".into(), |w| w.to_string()),
            ep.priority.map_or("–".into(), |w| w.to_string()),
            tolerated.saturating_add(1),
        );
        if let Some(loc) = &ep.endpoint_location {
            check.push_str(&format!(" · {loc}"));
        }
        endpoints.push(Endpoint {
            name: e.name.clone(),
            cloud: cloud_of(&target),
            target,
            weight: shown_weight,
            // A disabled endpoint was taken out on purpose (a drain does that): not
            // served (weight 0 above) and not probed, so neither healthy nor failing.
            health: if enabled { health_of(ep.endpoint_monitor_status.as_deref()) } else { Health::Idle },
            check,
        });
        let segment = e.kind.rsplit('/').next().unwrap_or("externalEndpoints");
        refs.push((
            e.name.clone(),
            EndpointRef {
                path: format!("{}/{segment}/{}", profile_id.trim_end_matches('/'), e.name),
                weighted,
                enabled,
                shown_weight,
            },
        ));
    }
    let name = props.dns_config.as_ref().and_then(|d| d.fqdn.clone()).unwrap_or_else(|| p.name.clone());
    // Traffic Manager withdraws an endpoint its probes find dead, whatever the
    // routing method: detection is known when the profile says how it probes.
    let detection = props.monitor_config.as_ref().and_then(|m| {
        // (0 failures tolerated still takes one probe interval.)
        Some(Detection { interval_secs: m.interval_in_seconds?, failures: m.tolerated_number_of_failures?.max(1) })
    });
    let policy = TrafficPolicy {
        source: source.clone(),
        name,
        kind: PolicyKind::TrafficManager,
        ttl_secs: ttl,
        endpoints,
        detection,
    };
    (policy, refs)
}

pub async fn read(
    arm: &Arm,
    source: &SourceId,
    profile_id: &str,
) -> Result<(TrafficPolicy, Vec<(String, EndpointRef)>), ProviderError> {
    let p: Profile = arm.get("Traffic Manager profile", arm.url(profile_id, API, &[])).await?;
    Ok(to_policy(source, profile_id, &p))
}

/// The PATCH body that takes an endpoint to `after` (the model's weight): 0 disables
/// it (Traffic Manager weights are 1..1000); otherwise enable it and, on a weighted
/// profile, set the weight.
pub fn patch_body(e: &EndpointRef, after: u32) -> serde_json::Value {
    if after == 0 {
        serde_json::json!({ "properties": { "endpointStatus": "Disabled" } })
    } else if e.weighted && e.enabled {
        serde_json::json!({ "properties": { "weight": after.min(1000) } })
    } else if e.weighted {
        serde_json::json!({ "properties": { "endpointStatus": "Enabled", "weight": after.min(1000) } })
    } else {
        serde_json::json!({ "properties": { "endpointStatus": "Enabled" } })
    }
}

pub async fn set_endpoint(arm: &Arm, e: &EndpointRef, after: u32) -> Result<Receipt, ProviderError> {
    let body = patch_body(e, after);
    let resp =
        arm.send("Traffic Manager endpoint PATCH", Method::Patch, arm.url(&e.path, API, &[]), Some(&body)).await?;
    Ok(Receipt { request_id: resp.header(&super::arm::REQUEST_ID).unwrap_or("unknown").to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_profile_as_policy() {
        let path = format!(
            "{}/tests/fixtures/azure/trafficmanager-2022-04-01-Profile-GET-WithEndpoints.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        let p: Profile = serde_json::from_value(v["responses"]["200"]["body"].clone()).expect("shape");
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/trafficmanagerprofiles/tm";
        let (policy, refs) = to_policy(&SourceId::new("az"), id, &p);
        assert_eq!(policy.ttl_secs, 35);
        assert_eq!(policy.name, "azuresdkfornetautoresttrafficmanager3880.tmpreview.watmtest.azure-test.net");
        let e = &policy.endpoints[0];
        assert_eq!((e.name.as_str(), e.weight, e.health), ("My external endpoint", 1, Health::Unknown));
        assert!(e.check.contains("failover ≈ 155 s"), "{}", e.check);
        assert_eq!(refs[0].1.path, format!("{id}/externalEndpoints/My external endpoint"));
        assert!(!refs[0].1.weighted);
    }

    #[test]
    fn recovery_and_patch_bodies() {
        assert_eq!(recovery_estimate_secs(35, 30, 3), 155);
        assert_eq!(recovery_estimate_secs(10, 10, 0), 20);
        let w = EndpointRef { path: "p".into(), weighted: true, enabled: true, shown_weight: 50 };
        assert_eq!(patch_body(&w, 20), serde_json::json!({"properties": {"weight": 20}}));
        assert_eq!(patch_body(&w, 0), serde_json::json!({"properties": {"endpointStatus": "Disabled"}}));
        let off = EndpointRef { enabled: false, ..w.clone() };
        assert_eq!(patch_body(&off, 5), serde_json::json!({"properties": {"endpointStatus": "Enabled", "weight": 5}}));
        let prio = EndpointRef { weighted: false, ..off };
        assert_eq!(patch_body(&prio, 1), serde_json::json!({"properties": {"endpointStatus": "Enabled"}}));
    }
}
