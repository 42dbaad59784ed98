//! Spot prices on the Alibaba stand-in: each scaling group's active scaling
//! configuration (`DescribeScalingConfigurations`, the type as `InstanceType` or
//! only in `InstanceTypes`) and each type's spot price history per zone
//! (`DescribeSpotPriceHistory`, several entries per zone, paged by
//! `NextOffset`), all functions of the seed and names, and the prices opsdeck
//! should take from them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::aliyun::Seen;

pub const TYPES: [&str; 4] = ["ecs.g7.large", "ecs.c7.xlarge", "ecs.r7.2xlarge", "ecs.u1-c1m2.large"];

fn hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A group's active scaling configuration id and its type; None for a group on
/// a launch template (one in six).
pub fn configuration(group_id: &str) -> Option<(String, &'static str)> {
    let h = hash(&[group_id]);
    (!h.is_multiple_of(6)).then(|| (format!("asc-{group_id}"), TYPES[(h / 6 % TYPES.len() as u64) as usize]))
}

/// The answer to `DescribeScalingConfigurations` for the ids asked.
pub fn configurations(req: &Seen) -> (u16, String) {
    let items: Vec<Value> = req
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("ScalingConfigurationId."))
        .filter_map(|(_, id)| {
            let group = id.strip_prefix("asc-")?;
            let (_, t) = configuration(group)?;
            // Some configurations name several types and leave InstanceType empty.
            Some(if hash(&[id]).is_multiple_of(3) {
                json!({"ScalingConfigurationId": id, "InstanceType": "", "InstanceTypes": {"InstanceType": [t, "ecs.g6.large"]}})
            } else {
                json!({"ScalingConfigurationId": id, "InstanceType": t, "LifecycleState": "Active"})
            })
        })
        .collect();
    let n = items.len();
    (
        200,
        json!({"RequestId": "asc", "TotalCount": n, "PageNumber": 1, "PageSize": 50,
        "ScalingConfigurations": {"ScalingConfiguration": items}})
        .to_string(),
    )
}

/// Every entry of one type's history in a region: (zone, spot, origin, minutes ago).
fn history(seed: u64, region: &str, t: &str) -> Vec<(String, f64, f64, i64)> {
    let seed_text = seed.to_string();
    let h = hash(&[&seed_text, region, t]);
    let zones = 1 + h % 3;
    let origin = (200 + h % 1800) as f64 / 1000.0;
    let mut out = Vec::new();
    for z in 0..zones {
        let zone = format!("{region}-{}", ["h", "i", "j"][z as usize]);
        for k in 0..(1 + (h >> (8 + z)) % 4) {
            let hz = hash(&[&seed_text, region, t, &zone, &k.to_string()]);
            let spot = ((origin * (10 + hz % 60) as f64 / 100.0) * 10_000.0).round() / 10_000.0;
            out.push((zone.clone(), spot, origin, (k as i64) * 40 + (hz % 30) as i64));
        }
    }
    out
}

pub fn currency(region: &str) -> &'static str {
    if region.starts_with("cn-") { "CNY" } else { "USD" }
}

/// The answer to `DescribeSpotPriceHistory`: two entries a page.
pub fn spot_history(seed: u64, req: &Seen) -> (u16, String) {
    let (Some(region), Some(t)) = (req.param("RegionId"), req.param("InstanceType")) else {
        return (400, r#"{"Code":"MissingParameter","Message":"RegionId and InstanceType"}"#.into());
    };
    let now = chrono::Utc::now();
    let all = history(seed, region, t);
    let offset: usize = req.param("Offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let items: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(2)
        .map(|(zone, spot, origin, ago)| {
            json!({"ZoneId": zone, "InstanceType": t, "IoOptimized": "optimized", "NetworkType": "vpc",
                "Timestamp": (now - chrono::Duration::minutes(*ago)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "SpotPrice": spot, "OriginPrice": origin})
        })
        .collect();
    let next = if offset + 2 < all.len() { json!(offset + 2) } else { json!(0) };
    (
        200,
        json!({"RequestId": "sph", "Currency": currency(region), "NextOffset": next,
        "SpotPrices": {"SpotPriceType": items}})
        .to_string(),
    )
}

/// What opsdeck should show for `t` in `region`: (zone, spot, on-demand, currency).
pub fn expected(seed: u64, region: &str, t: &str) -> (String, f64, f64, &'static str) {
    let mut newest: BTreeMap<String, (f64, f64, i64)> = BTreeMap::new();
    for (zone, spot, origin, ago) in history(seed, region, t) {
        let e = newest.entry(zone).or_insert((spot, origin, ago));
        if ago < e.2 {
            *e = (spot, origin, ago);
        }
    }
    let (zone, (spot, origin, _)) =
        newest.into_iter().min_by(|a, b| a.1.0.total_cmp(&b.1.0).then(a.0.cmp(&b.0))).expect("every type has a zone");
    (zone, spot, origin, currency(region))
}
