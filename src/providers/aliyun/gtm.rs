//! Global Traffic Manager (alidns 2015-01-09). An access strategy has a default and
//! a failover address pool group; its access mode says which answers: DEFAULT,
//! FAILOVER, or AUTO (default while it is available). Shown as a traffic policy of
//! two endpoints, the group in effect weighted 1 and the other 0; a failover sets
//! the access mode with SetDnsGtmAccessMode (SwitchDnsGtmInstanceStrategyMode
//! changes the strategy *type*, geo vs latency: it is not a failover).

use serde_json::Value;

use super::client::{Client, Product};
use super::config::GtmConfig;
use super::json;
use crate::model::{Endpoint, Health, PolicyKind, SourceId, TrafficPolicy};
use crate::providers::{ProviderError, Receipt};

pub const DEFAULT: &str = "default";
pub const FAILOVER: &str = "failover";

fn group_health(status: Option<String>) -> Health {
    match status.as_deref() {
        Some("AVAILABLE") => Health::Ok,
        Some("NOT_AVAILABLE") => Health::Down,
        _ => Health::Unknown,
    }
}

fn pool_names(v: &Value, key: &str, inner: &str) -> String {
    json::list(v, key, inner)
        .iter()
        .filter_map(|p| json::text(p, "Name").or_else(|| json::text(p, "Id")))
        .collect::<Vec<_>>()
        .join(",")
}

/// The strategy as a policy. `status` is the instance's DescribeDnsGtmInstanceStatus answer.
pub fn policy(source: &SourceId, cfg: &GtmConfig, strategy: &Value, status: &Value) -> TrafficPolicy {
    let effective = json::text(strategy, "EffectiveAddrPoolGroupType").unwrap_or_default().to_ascii_uppercase();
    let mode = json::text(strategy, "AccessMode").unwrap_or_else(|| "?".into());
    let c = |k: &str| json::count(status, k).unwrap_or(0);
    let instance = format!(
        "{} addresses down, {} strategies unavailable, {} switched to failover",
        c("AddrNotAvailableNum"),
        c("StrategyNotAvailableNum"),
        c("SwitchToFailoverStrategyNum")
    );
    let endpoint = |name: &str, prefix: &str, pools: &str, pool: &str, cloud| Endpoint {
        name: name.to_string(),
        cloud,
        target: pool_names(strategy, pools, pool),
        weight: u32::from(effective == name.to_ascii_uppercase()),
        health: group_health(json::text(strategy, &format!("{prefix}AddrPoolGroupStatus"))),
        check: format!(
            "access mode {mode}; {} available addresses; instance: {instance}",
            json::count(strategy, &format!("{prefix}AvailableAddrNum")).unwrap_or(0)
        ),
    };
    TrafficPolicy {
        detection: None,
        source: source.clone(),
        name: cfg
            .name
            .clone()
            .or_else(|| json::text(strategy, "StrategyName"))
            .unwrap_or_else(|| cfg.strategy_id.clone()),
        kind: PolicyKind::Gtm,
        ttl_secs: cfg.ttl_secs,
        endpoints: vec![
            endpoint(DEFAULT, "Default", "DefaultAddrPools", "DefaultAddrPool", cfg.default_cloud),
            endpoint(FAILOVER, "Failover", "FailoverAddrPools", "FailoverAddrPool", cfg.failover_cloud),
        ],
    }
}

pub async fn read(client: &Client, source: &SourceId, cfg: &GtmConfig) -> Result<TrafficPolicy, ProviderError> {
    let status = client
        .read(Product::Alidns, "DescribeDnsGtmInstanceStatus", &[("InstanceId", cfg.instance_id.clone())])
        .await?;
    let strategy = client
        .read(Product::Alidns, "DescribeDnsGtmAccessStrategy", &[("StrategyId", cfg.strategy_id.clone())])
        .await?;
    Ok(policy(source, cfg, &strategy, &status))
}

/// The access mode that gives the planned weights: only the default group
/// weighted → DEFAULT, only the failover group → FAILOVER, both → AUTO.
pub fn access_mode(default_weight: u32, failover_weight: u32) -> Result<&'static str, ProviderError> {
    match (default_weight > 0, failover_weight > 0) {
        (true, false) => Ok("DEFAULT"),
        (false, true) => Ok("FAILOVER"),
        (true, true) => Ok("AUTO"),
        (false, false) => Err(ProviderError::BadResponse("a GTM strategy needs one address pool group serving".into())),
    }
}

pub async fn set_access_mode(client: &Client, strategy_id: &str, mode: &str) -> Result<Receipt, ProviderError> {
    let v = client
        .write(
            Product::Alidns,
            "SetDnsGtmAccessMode",
            &[("StrategyId", strategy_id.to_string()), ("AccessMode", mode.to_string())],
        )
        .await?;
    Ok(Receipt { request_id: json::text(&v, "RequestId").unwrap_or_else(|| "unknown".into()) })
}
