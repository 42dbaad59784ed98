//! The metric families of `opsdeck export` as Prometheus returns them: each
//! series cut down to the labels the contract gives its family (what Prometheus,
//! the scrape job or an HA pair's external labels added is where the series came
//! from, its origin), and the copies an exporter pair writes made one.
//!
//! Which copy is kept: the one from the exporter that read the item's source most
//! recently (the newest `opsdeck_source_last_success_timestamp_seconds` it exports
//! for that source); when that does not decide (equal or unknown), the larger
//! value, then the smaller attribute labels, so every console keeps the same copy.

use std::collections::BTreeMap;

use super::api::Sample;

/// One family of the contract: the labels that name one item (the key) and the
/// labels that describe it (attributes, e.g. an alert's state).
pub struct Family {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub attrs: &'static [&'static str],
}

const fn family(name: &'static str, key: &'static [&'static str], attrs: &'static [&'static str]) -> Family {
    Family { name, key, attrs }
}

const GROUP: &[&str] = &["source", "cloud", "region", "group"];
const ZONE: &[&str] = &["source", "cloud", "region", "group", "zone"];
const PLACE: &[&str] = &["source", "cloud", "region"];
const ENDPOINT: &[&str] = &["source", "policy", "cloud", "endpoint"];
const LINK: &[&str] = &["source", "kind", "name", "from", "to"];
const COST: &[&str] = &["source", "cloud", "currency"];
const PRICE: &[&str] = &["source", "cloud", "region", "instance_type", "currency"];
const ARBITER: &[&str] = &["source", "arbiter", "location"];
const ALERT: &[&str] = &["source", "alert_id"];
const SOURCE: &[&str] = &["source"];

pub const GROUP_DESIRED: &str = "opsdeck_group_desired";
pub const GROUP_MIN: &str = "opsdeck_group_min";
pub const GROUP_MAX: &str = "opsdeck_group_max";
pub const GROUP_INACTIVE: &str = "opsdeck_group_inactive";
pub const GROUP_SPOT_SHARE: &str = "opsdeck_group_spot_share";
pub const ZONE_IN_SERVICE: &str = "opsdeck_group_zone_in_service";
pub const ZONE_HEALTHY: &str = "opsdeck_group_zone_healthy";
pub const RPS: &str = "opsdeck_requests_per_second";
pub const P95_SECONDS: &str = "opsdeck_latency_p95_seconds";
pub const ERROR_RATIO: &str = "opsdeck_error_ratio";
pub const CPU_RATIO: &str = "opsdeck_cpu_ratio";
pub const DNS_TTL: &str = "opsdeck_dns_ttl_seconds";
pub const DNS_WEIGHT: &str = "opsdeck_dns_weight";
pub const DNS_HEALTH: &str = "opsdeck_dns_endpoint_health";
pub const DNS_HEALTHY: &str = "opsdeck_dns_healthy";
pub const REPL_LAG: &str = "opsdeck_replication_lag_seconds";
pub const REPL_TARGET: &str = "opsdeck_replication_target_seconds";
pub const REPL_BACKLOG: &str = "opsdeck_replication_backlog_objects";
pub const REPL_BACKLOG_TARGET: &str = "opsdeck_replication_backlog_target_objects";
pub const COST_MTD: &str = "opsdeck_cost_month_to_date";
pub const COST_SERVICE: &str = "opsdeck_cost_service_month_to_date";
pub const COST_FORECAST: &str = "opsdeck_cost_forecast";
pub const SPOT_PRICE: &str = "opsdeck_spot_price_hourly";
pub const ON_DEMAND_PRICE: &str = "opsdeck_on_demand_price_hourly";
pub const ARBITER_UP: &str = "opsdeck_arbiter_up";
pub const ARBITER_RTT: &str = "opsdeck_arbiter_rtt_seconds";
pub const ALERT_FAMILY: &str = "opsdeck_alert";
pub const ALERT_STARTED: &str = "opsdeck_alert_started_timestamp_seconds";
pub const SOURCE_UP: &str = "opsdeck_source_up";
pub const SOURCE_PARTIAL: &str = "opsdeck_source_partial_sections";
pub const SOURCE_LAST_SUCCESS: &str = "opsdeck_source_last_success_timestamp_seconds";
pub const SOURCE_INTERVAL: &str = "opsdeck_source_interval_seconds";
pub const SOURCE_POLL_DURATION: &str = "opsdeck_source_poll_duration_seconds";
pub const SOURCE_API_CALLS: &str = "opsdeck_source_api_calls";
pub const SOURCE_MONTHLY_COST: &str = "opsdeck_source_monthly_cost_usd";
pub const DRILL_ACTIVE: &str = "opsdeck_drill_active";
pub const EXPORTER_INFO: &str = "opsdeck_exporter_info";

/// Every family of the contract (docs: the `opsdeck export` metric families).
pub const FAMILIES: &[Family] = &[
    family(GROUP_DESIRED, GROUP, &[]),
    family(GROUP_MIN, GROUP, &[]),
    family(GROUP_MAX, GROUP, &[]),
    family(GROUP_INACTIVE, GROUP, &[]),
    family(GROUP_SPOT_SHARE, GROUP, &[]),
    family(ZONE_IN_SERVICE, ZONE, &[]),
    family(ZONE_HEALTHY, ZONE, &[]),
    family(RPS, PLACE, &[]),
    family(P95_SECONDS, PLACE, &[]),
    family(ERROR_RATIO, PLACE, &[]),
    family(CPU_RATIO, PLACE, &[]),
    family(DNS_TTL, &["source", "policy"], &["policy_kind"]),
    family(DNS_WEIGHT, ENDPOINT, &["policy_kind", "target"]),
    family(DNS_HEALTH, ENDPOINT, &["health", "check"]),
    family(DNS_HEALTHY, ENDPOINT, &[]),
    family(REPL_LAG, LINK, &[]),
    family(REPL_TARGET, LINK, &[]),
    family(REPL_BACKLOG, LINK, &[]),
    family(REPL_BACKLOG_TARGET, LINK, &[]),
    family(COST_MTD, COST, &[]),
    family(COST_SERVICE, &["source", "cloud", "currency", "service"], &[]),
    family(COST_FORECAST, COST, &["method"]),
    family(SPOT_PRICE, PRICE, &[]),
    family(ON_DEMAND_PRICE, PRICE, &[]),
    family(ARBITER_UP, ARBITER, &[]),
    family(ARBITER_RTT, ARBITER, &[]),
    family(ALERT_FAMILY, ALERT, &["cloud", "severity", "state", "name", "resource", "route"]),
    family(ALERT_STARTED, ALERT, &[]),
    family(SOURCE_UP, SOURCE, &["kind"]),
    family(SOURCE_PARTIAL, SOURCE, &["kind"]),
    family(SOURCE_LAST_SUCCESS, SOURCE, &["kind"]),
    family(SOURCE_INTERVAL, SOURCE, &["kind"]),
    family(SOURCE_POLL_DURATION, SOURCE, &["kind"]),
    family(SOURCE_API_CALLS, SOURCE, &["kind"]),
    family(SOURCE_MONTHLY_COST, SOURCE, &["kind"]),
    family(DRILL_ACTIVE, &["drill"], &[]),
    family(EXPORTER_INFO, &["version"], &[]),
];

pub fn family_of(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// One exported series, keyed by its contract labels only.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub family: &'static str,
    /// The contract's labels of its family; a label Prometheus dropped because its
    /// value was empty (an alert with no cloud) reads as "".
    pub labels: BTreeMap<&'static str, String>,
    /// Every other label (instance, job, an HA pair's external labels), joined:
    /// which exporter, through which Prometheus, the copy came from.
    pub origin: String,
    pub value: f64,
}

impl Series {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }

    fn key(&self, f: &Family) -> Vec<String> {
        f.key.iter().map(|k| self.label(k).to_string()).collect()
    }

    fn attrs(&self, f: &Family) -> Vec<String> {
        f.attrs.iter().map(|k| self.label(k).to_string()).collect()
    }
}

/// A sample as a contract series; None for a series of no family of the contract
/// (another exporter's, or a family a newer opsdeck added).
pub fn split(sample: Sample) -> Option<Series> {
    let mut labels = sample.labels;
    let f = family_of(&labels.remove("__name__")?)?;
    let mut contract = BTreeMap::new();
    for name in f.key.iter().chain(f.attrs) {
        contract.insert(*name, labels.remove(*name).unwrap_or_default());
    }
    let origin = labels.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    Some(Series { family: f.name, labels: contract, origin, value: sample.value })
}

/// When each exporter (origin) last read each source: seconds since the epoch.
#[derive(Debug, Default)]
pub struct Origins(BTreeMap<(String, String), f64>);

impl Origins {
    pub fn of(series: &[Series]) -> Origins {
        let mut seen = BTreeMap::new();
        for s in series.iter().filter(|s| s.family == SOURCE_LAST_SUCCESS && s.value.is_finite()) {
            let at = seen.entry((s.origin.clone(), s.label("source").to_string())).or_insert(f64::MIN);
            *at = s.value.max(*at);
        }
        Origins(seen)
    }

    fn last_success(&self, s: &Series) -> f64 {
        self.0.get(&(s.origin.clone(), s.label("source").to_string())).copied().unwrap_or(f64::MIN)
    }
}

/// One copy per item (family and key labels), chosen as the module says. Series
/// whose value is not a finite number are dropped first: a figure that is not a
/// number is unknown, like an absent one.
pub fn dedupe(series: Vec<Series>, origins: &Origins) -> Vec<Series> {
    let mut best: BTreeMap<(&'static str, Vec<String>), Series> = BTreeMap::new();
    for s in series.into_iter().filter(|s| s.value.is_finite()) {
        let Some(f) = family_of(s.family) else { continue };
        let key = (s.family, s.key(f));
        match best.get(&key) {
            Some(kept) if !better(&s, kept, f, origins) => {}
            _ => {
                best.insert(key, s);
            }
        }
    }
    best.into_values().collect()
}

fn better(a: &Series, b: &Series, f: &Family, origins: &Origins) -> bool {
    let by_origin = origins.last_success(a).total_cmp(&origins.last_success(b));
    let by_value = a.value.total_cmp(&b.value);
    by_origin.then(by_value).then_with(|| b.attrs(f).cmp(&a.attrs(f))).then_with(|| b.origin.cmp(&a.origin)).is_gt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
        let mut l: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        l.insert("__name__".into(), name.into());
        Sample { labels: l, value }
    }

    #[test]
    fn deployment_labels_are_the_origin_not_the_key() {
        let s = split(sample(
            GROUP_DESIRED,
            &[
                ("source", "aws"),
                ("cloud", "aws"),
                ("region", "r"),
                ("group", "web"),
                ("instance", "a:9808"),
                ("replica", "1"),
            ],
            3.0,
        ))
        .expect("a contract series");
        assert_eq!(s.origin, "instance=a:9808,replica=1");
        assert_eq!(s.labels.len(), 4);
        assert_eq!(split(sample("up", &[("instance", "a")], 1.0)), None);
        assert_eq!(split(sample("opsdeck_future_family", &[], 1.0)), None);
    }

    #[test]
    fn the_copy_of_the_exporter_that_read_the_source_last_is_kept() {
        let series: Vec<Series> = [
            sample(SOURCE_LAST_SUCCESS, &[("source", "s"), ("kind", "aws"), ("instance", "a")], 100.0),
            sample(SOURCE_LAST_SUCCESS, &[("source", "s"), ("kind", "aws"), ("instance", "b")], 130.0),
            sample(GROUP_DESIRED, &[("source", "s"), ("group", "web"), ("instance", "a")], 9.0),
            sample(GROUP_DESIRED, &[("source", "s"), ("group", "web"), ("instance", "b")], 4.0),
            // An alert's state is an attribute: one alert, not two.
            sample(ALERT_FAMILY, &[("source", "s"), ("alert_id", "1"), ("state", "firing"), ("instance", "a")], 1.0),
            sample(ALERT_FAMILY, &[("source", "s"), ("alert_id", "1"), ("state", "acked"), ("instance", "b")], 1.0),
            // Unknown freshness on both: the larger value.
            sample(GROUP_MAX, &[("source", "t"), ("group", "db"), ("instance", "a")], 7.0),
            sample(GROUP_MAX, &[("source", "t"), ("group", "db"), ("instance", "b")], 8.0),
            sample(GROUP_MIN, &[("source", "t"), ("group", "db"), ("instance", "b")], f64::NAN),
        ]
        .into_iter()
        .filter_map(split)
        .collect();
        let origins = Origins::of(&series);
        let kept = dedupe(series, &origins);
        let find = |f: &str| kept.iter().filter(|s| s.family == f).collect::<Vec<_>>();
        assert_eq!(find(GROUP_DESIRED).iter().map(|s| s.value).collect::<Vec<_>>(), vec![4.0]);
        let alerts = find(ALERT_FAMILY);
        assert_eq!((alerts.len(), alerts[0].label("state")), (1, "acked"));
        assert_eq!(find(GROUP_MAX).iter().map(|s| s.value).collect::<Vec<_>>(), vec![8.0]);
        assert!(find(GROUP_MIN).is_empty(), "NaN is no figure");
        assert_eq!(find(SOURCE_LAST_SUCCESS)[0].value, 130.0);
    }
}
