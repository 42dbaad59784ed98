//! Spot prices of the instance types the region's groups run:
//! EC2 DescribeSpotPriceHistory at this moment (AWS answers each zone's price in
//! effect then), every page. The on-demand price is the operator's configured one
//! (`on_demand_prices`): the Pricing API is a separate, account-wide permission
//! many read-only roles lack, and its answers are megabytes per type.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::InstanceType;
use chrono::{DateTime, Utc};

use super::config::AwsConfig;
use crate::model::{CloudKind, SpotPrice};
use crate::providers::ProviderError;
use crate::providers::shared::price_cache::{Demand, PriceRead};

/// One entry of a spot price history, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub instance_type: String,
    pub zone: String,
    pub price: f64,
    pub at: Option<DateTime<Utc>>,
}

/// Every zone's current spot price for the demanded types, priced against the
/// configured on-demand prices.
pub async fn read(
    client: &aws_sdk_ec2::Client,
    demand: &Demand,
    cfg: &AwsConfig,
    now: DateTime<Utc>,
) -> Result<PriceRead, ProviderError> {
    let types: Vec<InstanceType> = demand.0.iter().map(|d| InstanceType::from(d.instance_type.as_str())).collect();
    let at = aws_sdk_ec2::primitives::DateTime::from_secs(now.timestamp());
    let mut pages = client
        .describe_spot_price_history()
        .set_instance_types(Some(types))
        .product_descriptions(cfg.spot_product.clone())
        .start_time(at)
        .end_time(at)
        .into_paginator()
        .send();
    let mut offers = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| super::sdk_error("DescribeSpotPriceHistory", e))?;
        for p in page.spot_price_history() {
            let (Some(t), Some(zone)) = (p.instance_type(), p.availability_zone()) else { continue };
            // The price is a decimal string; an entry that is not one is left out.
            let Some(price) = p.spot_price().and_then(|s| s.trim().parse::<f64>().ok()).filter(|v| v.is_finite())
            else {
                log::warn!("DescribeSpotPriceHistory: unreadable price for {} in {zone}", t.as_str());
                continue;
            };
            let at = p.timestamp().and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
            offers.push(Offer { instance_type: t.as_str().to_string(), zone: zone.to_string(), price, at });
        }
    }
    Ok(PriceRead { prices: prices(demand, &offers, cfg), calls: 0 })
}

/// EC2 prices in the China regions (Beijing, Ningxia) are in yuan.
fn region_currency(region: &str) -> &'static str {
    if region.starts_with("cn-") { "CNY" } else { "USD" }
}

/// Each demanded type's price: the newest entry per zone, then the cheapest zone
/// among those its groups span (any zone when they span none the answer has).
pub fn prices(demand: &Demand, offers: &[Offer], cfg: &AwsConfig) -> Vec<SpotPrice> {
    demand
        .0
        .iter()
        .map(|d| {
            let mut newest: BTreeMap<&str, &Offer> = BTreeMap::new();
            for o in offers.iter().filter(|o| o.instance_type == d.instance_type) {
                match newest.get(o.zone.as_str()) {
                    Some(n) if n.at >= o.at => {}
                    _ => {
                        newest.insert(o.zone.as_str(), o);
                    }
                }
            }
            let in_groups: Vec<&&Offer> = newest.values().filter(|o| d.zones.contains(&o.zone)).collect();
            let pool: Vec<&&Offer> = if in_groups.is_empty() { newest.values().collect() } else { in_groups };
            let best = pool.into_iter().min_by(|a, b| a.price.total_cmp(&b.price).then(a.zone.cmp(&b.zone)));
            let on_demand = cfg.on_demand_prices.get(&d.instance_type).copied();
            SpotPrice {
                cloud: CloudKind::Aws,
                region: d.region.clone(),
                instance_type: d.instance_type.clone(),
                currency: region_currency(&d.region).into(),
                zone: best.map(|o| o.zone.clone()),
                on_demand_hourly: on_demand,
                on_demand_from: if on_demand.is_some() { "configured".into() } else { "unknown".into() },
                spot_hourly: best.map(|o| o.price),
                spot_since: best.and_then(|o| o.at),
                groups: d.groups.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::shared::price_cache::TypeDemand;

    fn offer(t: &str, zone: &str, price: f64, at: i64) -> Offer {
        Offer { instance_type: t.into(), zone: zone.into(), price, at: DateTime::from_timestamp(at, 0) }
    }

    fn demand(t: &str, zones: &[&str]) -> Demand {
        Demand(vec![TypeDemand {
            region: "eu-west-1".into(),
            instance_type: t.into(),
            groups: vec!["web".into()],
            zones: zones.iter().map(|z| z.to_string()).collect(),
        }])
    }

    /// Over generated histories: the price shown is the cheapest among the
    /// newest entries of the group's zones, computed here the long way.
    #[test]
    fn the_newest_price_of_the_cheapest_zone_of_the_groups() {
        let mut cfg = AwsConfig::new("a", vec!["eu-west-1".into()]);
        cfg.on_demand_prices.insert("m6i.large".into(), 0.107);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"];
        for _seed in 0..200 {
            let mut offers = Vec::new();
            for _ in 0..next(12) {
                let t = if next(4) == 0 { "c7g.large" } else { "m6i.large" };
                let z = zones[next(4) as usize];
                offers.push(offer(t, z, (1 + next(900)) as f64 / 10_000.0, 1_700_000_000 + next(5000) as i64));
            }
            let group_zones: Vec<&str> = zones.iter().copied().filter(|_| next(2) == 0).collect();
            let got = prices(&demand("m6i.large", &group_zones), &offers, &cfg);
            // The long way: per zone the entry with the latest time, then the minimum.
            let mine: Vec<&Offer> = offers.iter().filter(|o| o.instance_type == "m6i.large").collect();
            let latest = |z: &str| {
                mine.iter().filter(|o| o.zone == z).fold(None::<&Offer>, |acc, o| match acc {
                    Some(a) if a.at >= o.at => Some(a),
                    _ => Some(o),
                })
            };
            let present: Vec<&str> = zones.iter().copied().filter(|z| latest(z).is_some()).collect();
            let wanted: Vec<&str> = present.iter().copied().filter(|z| group_zones.contains(z)).collect();
            let pool = if wanted.is_empty() { present } else { wanted };
            let want = pool
                .iter()
                .filter_map(|z| latest(z))
                .min_by(|a, b| a.price.total_cmp(&b.price).then(a.zone.cmp(&b.zone)));
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].spot_hourly, want.map(|o| o.price));
            assert_eq!(got[0].zone, want.map(|o| o.zone.clone()));
            assert_eq!(got[0].on_demand_hourly, Some(0.107));
        }
    }

    #[test]
    fn china_regions_price_in_yuan() {
        let cfg = AwsConfig::new("a", vec![]);
        let mut d = demand("m6i.large", &[]);
        d.0[0].region = "cn-northwest-1".into();
        assert_eq!(prices(&d, &[], &cfg)[0].currency, "CNY");
        assert_eq!(prices(&demand("m6i.large", &[]), &[], &cfg)[0].currency, "USD");
    }

    #[test]
    fn no_offer_and_no_configured_price_are_unknown_not_zero() {
        let cfg = AwsConfig::new("a", vec![]);
        let got = prices(&demand("x9.huge", &["z"]), &[], &cfg);
        assert_eq!((got[0].spot_hourly, got[0].on_demand_hourly), (None, None));
        assert_eq!(got[0].on_demand_from, "unknown");
        assert_eq!(got[0].discount(), None);
    }
}
