//! Spot prices of the instance types the region's scaling groups run
//! (`spot_prices = true`): ESS `DescribeScalingConfigurations` says each group's
//! type (its active scaling configuration's `InstanceType`, else the first of its
//! `InstanceTypes`), and ECS `DescribeSpotPriceHistory` each type's spot price per
//! zone over the last hours, with `OriginPrice`, the pay-as-you-go price of the
//! same instance, which is the on-demand price. Groups on a launch template have
//! no scaling configuration: their type stays unknown.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::client::{Client, Product};
use super::json;
use crate::model::{CloudKind, SpotPrice};
use crate::providers::ProviderError;
use crate::providers::shared::price_cache::{Demand, PriceRead, TypeDemand};

/// Configuration ids asked per call (the API takes up to 10).
const IDS_PER_CALL: usize = 10;
/// Pages read per call at most.
const MAX_PAGES: u32 = 20;

/// Each active scaling configuration id's instance type.
pub async fn configuration_types(
    client: &Client,
    region: &str,
    config_ids: &[String],
) -> Result<BTreeMap<String, String>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in config_ids.chunks(IDS_PER_CALL) {
        for page in 1..=MAX_PAGES {
            let mut params: Vec<(&str, String)> =
                vec![("RegionId", region.to_string()), ("PageNumber", page.to_string()), ("PageSize", "50".into())];
            let keys: Vec<String> = (1..=chunk.len()).map(|i| format!("ScalingConfigurationId.{i}")).collect();
            params.extend(keys.iter().map(String::as_str).zip(chunk.iter().cloned()));
            let v = client.read(Product::Ess, "DescribeScalingConfigurations", &params).await?;
            let items = json::strict_list(&v, "ScalingConfigurations", "ScalingConfiguration")
                .map_err(|e| ProviderError::BadResponse(format!("DescribeScalingConfigurations: {e}")))?;
            for c in items {
                let Some(id) = json::text(c, "ScalingConfigurationId") else { continue };
                let t = json::text(c, "InstanceType").filter(|t| !t.is_empty()).or_else(|| {
                    json::list(c, "InstanceTypes", "InstanceType").iter().find_map(|t| t.as_str().map(str::to_string))
                });
                if let Some(t) = t {
                    out.insert(id, t);
                }
            }
            let total = json::count(&v, "TotalCount").map_or(0, |n| n as usize);
            if items.is_empty() || page as usize * 50 >= total {
                break;
            }
        }
    }
    Ok(out)
}

/// One history entry as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub zone: String,
    pub spot: f64,
    pub origin: Option<f64>,
    pub at: Option<DateTime<Utc>>,
}

/// Every demanded type's prices: one history read per type, every page.
pub async fn read(
    client: &Client,
    demand: &Demand,
    network: &str,
    os: &str,
    now: DateTime<Utc>,
) -> Result<PriceRead, ProviderError> {
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut out = PriceRead::default();
    for d in &demand.0 {
        let mut entries = Vec::new();
        let mut currency = None;
        let mut offset: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params: Vec<(&str, String)> = vec![
                ("RegionId", d.region.clone()),
                ("InstanceType", d.instance_type.clone()),
                ("NetworkType", network.to_string()),
                ("OSType", os.to_string()),
                ("StartTime", fmt(now - Duration::hours(3))),
                ("EndTime", fmt(now)),
            ];
            if let Some(o) = &offset {
                params.push(("Offset", o.clone()));
            }
            let v = client.read(Product::Ecs, "DescribeSpotPriceHistory", &params).await?;
            currency = currency.or_else(|| json::text(&v, "Currency"));
            let items = json::strict_list(&v, "SpotPrices", "SpotPriceType")
                .map_err(|e| ProviderError::BadResponse(format!("DescribeSpotPriceHistory: {e}")))?;
            entries.extend(items.iter().filter_map(entry));
            // NextOffset is the next page's start; absent, or no items, is the end.
            let next = json::text(&v, "NextOffset").or_else(|| json::num(&v, "NextOffset").map(|n| n.to_string()));
            match next.filter(|n| !n.is_empty() && n != "0") {
                Some(n) if !items.is_empty() && Some(&n) != offset.as_ref() => offset = Some(n),
                _ => break,
            }
        }
        // No Currency in the answer: Alibaba's international site prices in USD,
        // the China site in CNY; unknown is not guessed.
        out.prices.push(price(d, currency.as_deref(), &entries));
    }
    Ok(out)
}

fn entry(v: &Value) -> Option<Entry> {
    let zone = json::text(v, "ZoneId")?;
    let spot = json::num(v, "SpotPrice").filter(|p| p.is_finite() && *p >= 0.0)?;
    let at =
        json::text(v, "Timestamp").and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc));
    Some(Entry { zone, spot, origin: json::num(v, "OriginPrice").filter(|p| p.is_finite() && *p > 0.0), at })
}

/// Pure: the newest entry per zone, then the cheapest zone; its origin price is
/// the on-demand price.
pub fn price(d: &TypeDemand, currency: Option<&str>, entries: &[Entry]) -> SpotPrice {
    let mut newest: BTreeMap<&str, &Entry> = BTreeMap::new();
    for e in entries {
        match newest.get(e.zone.as_str()) {
            Some(n) if n.at >= e.at => {}
            _ => {
                newest.insert(e.zone.as_str(), e);
            }
        }
    }
    let best = newest.values().min_by(|a, b| a.spot.total_cmp(&b.spot).then(a.zone.cmp(&b.zone)));
    let on_demand = best.and_then(|e| e.origin);
    SpotPrice {
        cloud: CloudKind::Aliyun,
        region: d.region.clone(),
        instance_type: d.instance_type.clone(),
        currency: currency.unwrap_or("unknown").to_string(),
        zone: best.map(|e| e.zone.clone()),
        on_demand_hourly: on_demand,
        on_demand_from: if on_demand.is_some() { "OriginPrice".into() } else { "unknown".into() },
        spot_hourly: best.map(|e| e.spot),
        spot_since: best.and_then(|e| e.at),
        groups: d.groups.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand() -> TypeDemand {
        TypeDemand {
            region: "cn-hangzhou".into(),
            instance_type: "ecs.g7.large".into(),
            groups: vec!["web".into()],
            zones: vec![],
        }
    }

    /// The documented answer shape, numbers as numbers and as text.
    #[test]
    fn the_newest_entry_per_zone_and_the_cheapest_zone() {
        let v = serde_json::json!({
            "RequestId": "F2EEE24B-2E1A-4AB8-8B6C-5E4B2B3B2F7D", "Currency": "CNY", "NextOffset": 0,
            "SpotPrices": {"SpotPriceType": [
                {"ZoneId": "cn-hangzhou-h", "InstanceType": "ecs.g7.large", "IoOptimized": "optimized",
                 "Timestamp": "2026-12-01T08:00:00Z", "NetworkType": "vpc", "SpotPrice": 0.12, "OriginPrice": 0.9},
                {"ZoneId": "cn-hangzhou-h", "Timestamp": "2026-12-01T09:00:00Z", "SpotPrice": "0.31", "OriginPrice": "0.9"},
                {"ZoneId": "cn-hangzhou-i", "Timestamp": "2026-12-01T07:00:00Z", "SpotPrice": 0.2, "OriginPrice": 0.88},
                {"ZoneId": "cn-hangzhou-j", "Timestamp": "2026-12-01T07:00:00Z", "SpotPrice": null},
            ]}
        });
        let entries: Vec<Entry> = json::list(&v, "SpotPrices", "SpotPriceType").iter().filter_map(entry).collect();
        let p = price(&demand(), json::text(&v, "Currency").as_deref(), &entries);
        // Zone h's newest is 0.31 (not the older 0.12): zone i at 0.2 is cheapest.
        assert_eq!(
            (p.zone.as_deref(), p.spot_hourly, p.on_demand_hourly),
            (Some("cn-hangzhou-i"), Some(0.2), Some(0.88))
        );
        assert_eq!((p.currency.as_str(), p.on_demand_from.as_str()), ("CNY", "OriginPrice"));
        let none = price(&demand(), None, &[]);
        assert_eq!((none.spot_hourly, none.on_demand_hourly, none.currency.as_str()), (None, None, "unknown"));
    }
}
