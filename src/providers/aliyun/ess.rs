//! Auto Scaling (ESS 2014-08-28): DescribeScalingGroups, every page, and
//! ModifyScalingGroup for the desired capacity.

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::{Client, Product};
use super::json;
use crate::model::{CloudKind, ScalingGroup, SourceId, ZoneCapacity};
use crate::providers::{ProviderError, Receipt};

/// Groups per page: the API's maximum.
pub const PAGE_SIZE: u32 = 50;
/// The API takes at most 20 `ScalingGroupId.N` filters per call.
const MAX_IDS: usize = 20;
/// A bound on pages, so a server that never says "last page" cannot loop us.
const MAX_PAGES: u32 = 200;

/// Groups of the region as read, and each group's name → id (actions name groups
/// by name, the API by id).
pub struct Groups {
    pub groups: Vec<ScalingGroup>,
    pub ids: BTreeMap<String, String>,
    /// Group name → its active scaling configuration id (absent on launch templates).
    pub active_configs: BTreeMap<String, String>,
}

/// Every group of the region, or only `wanted` ids.
pub async fn groups(
    client: &Client,
    source: &SourceId,
    region: &str,
    wanted: &[String],
) -> Result<Groups, ProviderError> {
    let mut filter: Vec<(String, String)> = Vec::new();
    // Up to 20 ids are filtered by the API; beyond that every group is read and
    // filtered here, which costs pages but never misses one.
    if !wanted.is_empty() && wanted.len() <= MAX_IDS {
        filter = wanted.iter().enumerate().map(|(i, id)| (format!("ScalingGroupId.{}", i + 1), id.clone())).collect();
    }
    let mut out = Groups { groups: Vec::new(), ids: BTreeMap::new(), active_configs: BTreeMap::new() };
    let mut seen = 0u64;
    for page in 1..=MAX_PAGES {
        let mut params: Vec<(&str, String)> = vec![
            ("RegionId", region.to_string()),
            ("PageNumber", page.to_string()),
            ("PageSize", PAGE_SIZE.to_string()),
        ];
        params.extend(filter.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let v = client.read(Product::Ess, "DescribeScalingGroups", &params).await?;
        // 2014-08-28 wraps the list (ScalingGroups.ScalingGroup[]); 2022-02-22 does not.
        // A wrongly typed list is an error: reading it as "no groups" would hide the estate.
        let items = json::strict_list(&v, "ScalingGroups", "ScalingGroup")
            .map_err(|e| ProviderError::BadResponse(format!("DescribeScalingGroups: {e}")))?;
        seen += items.len() as u64;
        for g in items {
            let Some(id) = json::text(g, "ScalingGroupId") else { continue };
            if !wanted.is_empty() && !wanted.contains(&id) {
                continue;
            }
            let group = parse_group(g, source, region, &id);
            out.ids.insert(group.name.clone(), id.clone());
            if let Some(c) = json::text(g, "ActiveScalingConfigurationId").filter(|c| !c.is_empty()) {
                out.active_configs.insert(group.name.clone(), c);
            }
            out.groups.push(group);
        }
        if last_page(&v, items.len(), seen) {
            return Ok(out);
        }
    }
    log::warn!("{source}: DescribeScalingGroups still had pages after {MAX_PAGES}; groups beyond are not shown");
    Ok(out)
}

/// Whether this answer was the last page. TotalCount says so when present (as a
/// number or a string); without it a page shorter than its PageSize (the size the
/// server used, which may be smaller than asked) is the last.
fn last_page(v: &Value, items: usize, seen: u64) -> bool {
    if items == 0 {
        return true;
    }
    match json::num(v, "TotalCount") {
        Some(total) => seen >= total.max(0.0) as u64,
        None => {
            let size = json::count(v, "PageSize").filter(|n| *n > 0).unwrap_or(PAGE_SIZE);
            items < size as usize
        }
    }
}

/// One group. ESS has no per-zone breakdown in this answer: the group's instances
/// in service (ActiveCapacity) are shown as one line for the region. ESS replaces
/// unhealthy instances, so those in service are counted healthy.
pub fn parse_group(g: &Value, source: &SourceId, region: &str, id: &str) -> ScalingGroup {
    let n = |k: &str| json::count(g, k).unwrap_or(0);
    let active = n("ActiveCapacity");
    // DesiredCapacity is kept only by groups with expected capacity enabled (it may
    // be absent, or stale with EnableDesiredCapacity false); otherwise the group aims
    // at the instances it has: TotalInstanceCount (TotalCapacity is weighted
    // capacity in weighted groups), else TotalCapacity, else those in service.
    let expected = json::flag(g, "EnableDesiredCapacity") != Some(false);
    let desired = json::count(g, "DesiredCapacity")
        .filter(|_| expected)
        .or_else(|| json::count(g, "TotalInstanceCount"))
        .or_else(|| json::count(g, "TotalCapacity"))
        .unwrap_or(active);
    // Inactive (disabled, or still being created/enabled) and Deleting groups run no
    // scaling activity: they are not expected to serve.
    let inactive = json::text(g, "LifecycleState")
        .is_some_and(|s| s.eq_ignore_ascii_case("Inactive") || s.eq_ignore_ascii_case("Deleting"));
    // Groups mixing spot and on-demand say what share above the base is on-demand.
    let spot =
        json::num(g, "OnDemandPercentageAboveBaseCapacity").map_or(0.0, |pct| (1.0 - pct / 100.0).clamp(0.0, 1.0));
    ScalingGroup {
        source: source.clone(),
        cloud: CloudKind::Aliyun,
        region: json::text(g, "RegionId").unwrap_or_else(|| region.to_string()),
        name: json::text(g, "ScalingGroupName").filter(|s| !s.is_empty()).unwrap_or_else(|| id.to_string()),
        min: n("MinSize"),
        max: n("MaxSize"),
        desired,
        zones: vec![ZoneCapacity { zone: region.to_string(), in_service: active, healthy: active }],
        spot_share: spot,
        rps_per_instance: None,
        inactive,
        instance_type: None,
    }
}

/// Set the desired capacity (only groups with expected capacity enabled accept it).
pub async fn set_desired(client: &Client, group_id: &str, desired: u32) -> Result<Receipt, ProviderError> {
    let v = client
        .write(
            Product::Ess,
            "ModifyScalingGroup",
            &[("ScalingGroupId", group_id.to_string()), ("DesiredCapacity", desired.to_string())],
        )
        .await?;
    Ok(Receipt { request_id: json::text(&v, "RequestId").unwrap_or_else(|| "unknown".into()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(v: Value) -> ScalingGroup {
        parse_group(&v, &SourceId::new("ali/cn"), "cn-hangzhou", "asg-1")
    }

    #[test]
    fn lifecycle_state_inactive_or_deleting_is_inactive() {
        for (state, inactive) in [("Active", false), ("Inactive", true), ("Deleting", true), ("inactive", true)] {
            assert_eq!(parsed(json!({"LifecycleState": state})).inactive, inactive, "{state}");
        }
        assert!(!parsed(json!({})).inactive, "no state said: not claimed inactive");
    }

    #[test]
    fn desired_is_the_expected_capacity_only_where_it_is_kept() {
        let g = |v| parsed(v).desired;
        assert_eq!(g(json!({"DesiredCapacity": "0", "TotalCapacity": 3})), 0, "scaled to zero on purpose");
        assert_eq!(g(json!({"DesiredCapacity": 5, "EnableDesiredCapacity": true, "TotalCapacity": 3})), 5);
        assert_eq!(g(json!({"DesiredCapacity": 9, "EnableDesiredCapacity": false, "TotalCapacity": "3"})), 3);
        assert_eq!(g(json!({"TotalInstanceCount": 4, "TotalCapacity": 16})), 4, "weighted capacity is not a count");
        assert_eq!(g(json!({"ActiveCapacity": 2})), 2);
    }

    #[test]
    fn the_last_page_is_known_with_or_without_a_total() {
        assert!(last_page(&json!({"TotalCount": "3"}), 1, 3));
        assert!(!last_page(&json!({"TotalCount": 3}), 1, 2));
        assert!(!last_page(&json!({"PageSize": "2"}), 2, 2), "a full page of the server's size");
        assert!(last_page(&json!({"PageSize": 2}), 1, 3));
        assert!(last_page(&json!({"TotalCount": 9}), 0, 4), "an empty page ends it whatever the total says");
    }
}
