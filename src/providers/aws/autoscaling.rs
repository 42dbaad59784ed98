//! Auto Scaling groups: DescribeAutoScalingGroups (every page) and SetDesiredCapacity.

use std::collections::BTreeMap;

use aws_sdk_autoscaling::Client;
use aws_sdk_autoscaling::operation::RequestId;
use aws_sdk_autoscaling::types::LifecycleState;

use super::sdk_error;
use crate::model::{CloudKind, ScalingGroup, SourceId, ZoneCapacity};
use crate::providers::{ProviderError, Receipt};

/// Group name → its launch configuration's name, for the groups that have one.
pub type LaunchConfigs = BTreeMap<String, String>;

/// Every group of the region, optionally only those tagged `Key=Value`, and the
/// launch configuration of each that has one.
pub async fn groups(
    client: &Client,
    source: &SourceId,
    region: &str,
    tag: Option<&str>,
) -> Result<(Vec<ScalingGroup>, LaunchConfigs), ProviderError> {
    let wanted = tag.and_then(|t| t.split_once('='));
    let mut out = Vec::new();
    let mut launch_configs = LaunchConfigs::new();
    let mut pages = client.describe_auto_scaling_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("DescribeAutoScalingGroups", e))?;
        for g in page.auto_scaling_groups() {
            if let Some((k, v)) = wanted
                && !g.tags().iter().any(|t| t.key() == Some(k) && t.value() == Some(v))
            {
                continue;
            }
            let Some(name) = g.auto_scaling_group_name() else { continue };
            // Every zone of the group appears, even one with no instance left in it.
            let mut zones: BTreeMap<String, ZoneCapacity> = g
                .availability_zones()
                .iter()
                .map(|z| (z.clone(), ZoneCapacity { zone: z.clone(), in_service: 0, healthy: 0 }))
                .collect();
            for i in g.instances() {
                let zone = i.availability_zone().unwrap_or("unknown").to_string();
                let entry = zones.entry(zone.clone()).or_insert(ZoneCapacity { zone, in_service: 0, healthy: 0 });
                if i.lifecycle_state() == Some(&LifecycleState::InService) {
                    entry.in_service += 1;
                    if i.health_status().is_some_and(|h| h.eq_ignore_ascii_case("healthy")) {
                        entry.healthy += 1;
                    }
                }
            }
            let count = |v: Option<i32>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
            // The type a scale-out adds: what most instances run now, else the first
            // override of a mixed-instances policy; unknown for a launch template
            // with no instance yet (its type is in the template's version).
            let mut types: BTreeMap<&str, u32> = BTreeMap::new();
            for t in g.instances().iter().filter_map(|i| i.instance_type()) {
                *types.entry(t).or_default() += 1;
            }
            let instance_type =
                types.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(t, _)| t.to_string()).or_else(|| {
                    g.mixed_instances_policy()
                        .and_then(|p| p.launch_template())
                        .and_then(|t| t.overrides().iter().find_map(|o| o.instance_type()))
                        .map(str::to_string)
                });
            let spot = g
                .mixed_instances_policy()
                .and_then(|p| p.instances_distribution())
                .and_then(|d| d.on_demand_percentage_above_base_capacity())
                .map_or(0.0, |pct| 1.0 - f64::from(pct) / 100.0);
            out.push(ScalingGroup {
                source: source.clone(),
                cloud: CloudKind::Aws,
                region: region.to_string(),
                name: name.to_string(),
                min: count(g.min_size()),
                max: count(g.max_size()),
                desired: count(g.desired_capacity()),
                zones: zones.into_values().collect(),
                spot_share: spot,
                rps_per_instance: None,
                inactive: false,
                instance_type,
            });
            if let Some(lc) = g.launch_configuration_name() {
                launch_configs.insert(name.to_string(), lc.to_string());
            }
        }
    }
    Ok((out, launch_configs))
}

/// The instance types of launch configurations `names` (50 a call, as the API
/// allows), for groups with no instance to say theirs. A launch configuration
/// cannot be changed once made, so the caller keeps what this finds. Best effort:
/// a failed read leaves those types unknown (logged), it does not fail the groups.
pub async fn launch_config_types(client: &Client, names: &[&str]) -> BTreeMap<String, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for chunk in names.chunks(50) {
        let mut pages = client
            .describe_launch_configurations()
            .set_launch_configuration_names(Some(chunk.iter().map(|n| n.to_string()).collect()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    for lc in page.launch_configurations() {
                        if let (Some(n), Some(t)) = (lc.launch_configuration_name(), lc.instance_type()) {
                            types.insert(n.to_string(), t.to_string());
                        }
                    }
                }
                Err(e) => {
                    log::warn!("{}", sdk_error("DescribeLaunchConfigurations", e));
                    break;
                }
            }
        }
    }
    types
}

pub async fn set_desired(client: &Client, group: &str, desired: u32) -> Result<Receipt, ProviderError> {
    let desired = i32::try_from(desired).map_err(|_| ProviderError::BadResponse("capacity out of range".into()))?;
    let out = client
        .set_desired_capacity()
        .auto_scaling_group_name(group)
        .desired_capacity(desired)
        .honor_cooldown(false)
        .send()
        .await
        .map_err(|e| sdk_error("SetDesiredCapacity", e))?;
    Ok(Receipt { request_id: out.request_id().unwrap_or("unknown").to_string() })
}
