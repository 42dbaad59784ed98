//! `schema = "opsdeck"`: the estate another opsdeck polls and exports (`opsdeck
//! export`), read back from Prometheus with no query configured, one instant
//! query per section. Every item keeps the id of the source that read it from its
//! cloud (the `source` label), so an action on it goes to the source of that id
//! configured beside this one; the exported health of each of those sources
//! becomes a status row of its own ([`SourceReport::upstream`]).
//!
//! A figure nobody exported stays unknown (None), never 0.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::exported::{self as x, Origins, Series};
use crate::model::{
    Alert, AlertState, Arbiter, CloudKind, CloudMetrics, CostSnapshot, Endpoint, Forecast, Freshness, Health,
    PolicyKind, PollCost, Replication, ReplicationKind, ScalingGroup, Section, Severity, SourceId, SourceStatus,
    SpotPrice, TrafficPolicy, ZoneCapacity,
};
use crate::providers::ProviderError;

/// The series of each section, by family name (Prometheus anchors the regex).
pub const CORE_QUERY: &str = r#"{__name__=~"opsdeck_(source_.+|arbiter_.+|drill_active|exporter_info)"}"#;
pub const SECTION_QUERIES: [(Section, &str); 7] = [
    (Section::Groups, r#"{__name__=~"opsdeck_group_.+"}"#),
    (Section::Metrics, r#"{__name__=~"opsdeck_(requests_per_second|latency_p95_seconds|error_ratio|cpu_ratio)"}"#),
    (Section::Records, r#"{__name__=~"opsdeck_dns_.+"}"#),
    (Section::Replication, r#"{__name__=~"opsdeck_replication_.+"}"#),
    (Section::Cost, r#"{__name__=~"opsdeck_cost_.+"}"#),
    (Section::Prices, r#"{__name__=~"opsdeck_(spot|on_demand)_price_hourly"}"#),
    (Section::Alerts, r#"{__name__=~"opsdeck_alert|opsdeck_alert_started_timestamp_seconds"}"#),
];

/// Time a source's last success may lag its interval before it counts as stale:
/// the exporter's scrape interval and Prometheus' evaluation on top of its own
/// polls (two intervals, as the freshness guardrail allows).
const SCRAPE_SLACK_SECS: f64 = 60.0;
/// The interval assumed for a source whose exporter does not say it.
const DEFAULT_INTERVAL_SECS: f64 = 60.0;

/// What `Acknowledged` says of an acknowledgement read back from Prometheus: the
/// contract carries the state only; who, when and why stay at the alerting system.
pub const ACKED_BY: &str = "via Prometheus";
pub const ACK_COMMENT: &str = "who acknowledged it, when and why are not exported";
pub const INHIBITED_BY: &str = "an inhibition (which one is not exported)";

/// The series of one query as contract series, de-duplicated.
pub struct Read {
    series: Vec<Series>,
}

impl Read {
    /// `core`: the first read of a poll, whose last-success times decide which
    /// copy of an exporter pair's series is kept (see `exported`).
    pub fn new(samples: Vec<super::api::Sample>, origins: &Origins) -> Read {
        let series: Vec<Series> = samples.into_iter().filter_map(x::split).collect();
        Read { series: x::dedupe(series, origins) }
    }

    pub fn origins(samples: &[super::api::Sample]) -> Origins {
        Origins::of(&samples.iter().cloned().filter_map(x::split).collect::<Vec<_>>())
    }

    fn of<'a>(&'a self, family: &'a str) -> impl Iterator<Item = &'a Series> + 'a {
        self.series.iter().filter(move |s| s.family == family)
    }

    /// The value of `family` for each key (the labels `key` names, in order).
    fn values(&self, family: &str, key: &[&str]) -> BTreeMap<Vec<String>, f64> {
        self.of(family).map(|s| (key.iter().map(|k| s.label(k).to_string()).collect(), s.value)).collect()
    }
}

fn bad(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::BadResponse(format!("exported estate: {what}"))
}

fn cloud(s: &str) -> Result<CloudKind, ProviderError> {
    CloudKind::from_slug(s).ok_or_else(|| bad(format_args!("unknown cloud '{}'", clip(s))))
}

/// A label value for an error message: one bounded line.
fn clip(s: &str) -> String {
    crate::format::one_line(s, 60)
}

/// A count: a whole number within u32.
fn count(family: &str, v: f64) -> Result<u32, ProviderError> {
    if v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0 {
        Ok(v as u32)
    } else {
        Err(bad(format_args!("{family} is {v}, not a count")))
    }
}

fn when(secs: f64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis((secs * 1000.0).round() as i64)
}

pub fn groups(r: &Read) -> Result<Vec<ScalingGroup>, ProviderError> {
    const KEY: &[&str] = &["source", "cloud", "region", "group"];
    let (min, max) = (r.values(x::GROUP_MIN, KEY), r.values(x::GROUP_MAX, KEY));
    let (inactive, spot) = (r.values(x::GROUP_INACTIVE, KEY), r.values(x::GROUP_SPOT_SHARE, KEY));
    let mut zones: BTreeMap<Vec<String>, Vec<ZoneCapacity>> = BTreeMap::new();
    let healthy = r.values(x::ZONE_HEALTHY, &["source", "cloud", "region", "group", "zone"]);
    for s in r.of(x::ZONE_IN_SERVICE) {
        let key: Vec<String> = KEY.iter().map(|k| s.label(k).to_string()).collect();
        let mut zkey = key.clone();
        zkey.push(s.label("zone").to_string());
        // A zone is in the group only with both counts; half of it would be a guess.
        let h = healthy.get(&zkey).ok_or_else(|| bad(format_args!("zone {} has no healthy count", clip(&zkey[4]))))?;
        zones.entry(key).or_default().push(ZoneCapacity {
            zone: zkey[4].clone(),
            in_service: count(x::ZONE_IN_SERVICE, s.value)?,
            healthy: count(x::ZONE_HEALTHY, *h)?,
        });
    }
    let mut out = Vec::new();
    for (key, desired) in r.values(x::GROUP_DESIRED, KEY) {
        let name = &key[3];
        let need = |m: &BTreeMap<Vec<String>, f64>, f: &str| {
            m.get(&key).copied().ok_or_else(|| bad(format_args!("group {} has no {f}", clip(name))))
        };
        let mut z = zones.remove(&key).unwrap_or_default();
        z.sort_by(|a, b| a.zone.cmp(&b.zone));
        out.push(ScalingGroup {
            source: SourceId::new(&key[0]),
            cloud: cloud(&key[1])?,
            region: key[2].clone(),
            name: name.clone(),
            min: count(x::GROUP_MIN, need(&min, x::GROUP_MIN)?)?,
            max: count(x::GROUP_MAX, need(&max, x::GROUP_MAX)?)?,
            desired: count(x::GROUP_DESIRED, desired)?,
            zones: z,
            // Exported for every group; a copy without it is an older exporter's.
            spot_share: spot.get(&key).copied().unwrap_or(0.0),
            // Sizing is console configuration, not exported: unknown here.
            rps_per_instance: None,
            inactive: inactive.get(&key).is_some_and(|v| *v == 1.0),
            instance_type: None,
        });
    }
    Ok(out)
}

/// The source that read an item: its exported `source` label.
fn origin(key: &[String]) -> SourceId {
    SourceId::new(key[0].as_str())
}

pub fn metrics(r: &Read) -> Result<Vec<(SourceId, CloudMetrics)>, ProviderError> {
    const KEY: &[&str] = &["source", "cloud", "region"];
    let mut places: BTreeMap<Vec<String>, CloudMetrics> = BTreeMap::new();
    for (family, scale) in [(x::RPS, 1.0), (x::P95_SECONDS, 1000.0), (x::ERROR_RATIO, 1.0), (x::CPU_RATIO, 1.0)] {
        for (key, v) in r.values(family, KEY) {
            let m = match places.get_mut(&key) {
                Some(m) => m,
                None => places.entry(key.clone()).or_insert(CloudMetrics {
                    cloud: cloud(&key[1])?,
                    region: key[2].clone(),
                    rps: None,
                    p95_ms: None,
                    error_rate: None,
                    cpu: None,
                }),
            };
            let slot = match family {
                x::RPS => &mut m.rps,
                x::P95_SECONDS => &mut m.p95_ms,
                x::ERROR_RATIO => &mut m.error_rate,
                _ => &mut m.cpu,
            };
            *slot = Some(v * scale);
        }
    }
    Ok(places.into_iter().map(|(key, m)| (origin(&key), m)).collect())
}

fn policy_kind(s: &str) -> Result<PolicyKind, ProviderError> {
    Ok(match s {
        "route53" => PolicyKind::Route53,
        "traffic_manager" => PolicyKind::TrafficManager,
        "gtm" => PolicyKind::Gtm,
        "global" => PolicyKind::Global,
        other => return Err(bad(format_args!("unknown policy_kind '{}'", clip(other)))),
    })
}

fn health(s: &str) -> Result<Health, ProviderError> {
    Ok(match s {
        "idle" => Health::Idle,
        "ok" => Health::Ok,
        "degraded" => Health::Degraded,
        "down" => Health::Down,
        "unknown" => Health::Unknown,
        other => return Err(bad(format_args!("unknown health '{}'", clip(other)))),
    })
}

pub fn policies(r: &Read) -> Result<Vec<TrafficPolicy>, ProviderError> {
    let mut out: BTreeMap<(String, String), TrafficPolicy> = BTreeMap::new();
    for s in r.of(x::DNS_TTL) {
        let key = (s.label("source").to_string(), s.label("policy").to_string());
        out.insert(
            key.clone(),
            TrafficPolicy {
                detection: None,
                source: SourceId::new(&key.0),
                name: key.1,
                kind: policy_kind(s.label("policy_kind"))?,
                ttl_secs: count(x::DNS_TTL, s.value)?,
                endpoints: vec![],
            },
        );
    }
    // The state set: the series at 1 is the endpoint's health (dedupe kept it).
    let states: BTreeMap<Vec<String>, &Series> = r
        .of(x::DNS_HEALTH)
        .filter(|s| s.value == 1.0)
        .map(|s| (["source", "policy", "cloud", "endpoint"].iter().map(|k| s.label(k).to_string()).collect(), s))
        .collect();
    for s in r.of(x::DNS_WEIGHT) {
        let key = (s.label("source").to_string(), s.label("policy").to_string());
        let p = out.get_mut(&key).ok_or_else(|| bad(format_args!("policy {} has no TTL", clip(&key.1))))?;
        let ekey: Vec<String> =
            ["source", "policy", "cloud", "endpoint"].iter().map(|k| s.label(k).to_string()).collect();
        let state = states.get(&ekey);
        p.endpoints.push(Endpoint {
            name: s.label("endpoint").to_string(),
            cloud: cloud(s.label("cloud"))?,
            target: s.label("target").to_string(),
            weight: count(x::DNS_WEIGHT, s.value)?,
            // No health series: nobody said, so unknown.
            health: state.map_or(Ok(Health::Unknown), |st| health(st.label("health")))?,
            check: state.map_or(String::new(), |st| st.label("check").to_string()),
        });
    }
    let mut out: Vec<TrafficPolicy> = out.into_values().collect();
    for p in &mut out {
        p.endpoints.sort_by(|a, b| a.cloud.cmp(&b.cloud).then_with(|| a.name.cmp(&b.name)));
    }
    Ok(out)
}

pub fn replication(r: &Read) -> Result<Vec<(SourceId, Replication)>, ProviderError> {
    const KEY: &[&str] = &["source", "kind", "name", "from", "to"];
    let mut out = Vec::new();
    for (value_family, target_family) in [(x::REPL_LAG, x::REPL_TARGET), (x::REPL_BACKLOG, x::REPL_BACKLOG_TARGET)] {
        let targets = r.values(target_family, KEY);
        for (key, value) in r.values(value_family, KEY) {
            let kind = match key[1].as_str() {
                "database" => ReplicationKind::Database,
                "cache" => ReplicationKind::Cache,
                "storage" => ReplicationKind::Storage,
                other => return Err(bad(format_args!("unknown replication kind '{}'", clip(other)))),
            };
            let target = targets
                .get(&key)
                .copied()
                .ok_or_else(|| bad(format_args!("replication {} has no target", clip(&key[2]))))?;
            let item =
                Replication { kind, name: key[2].clone(), from: cloud(&key[3])?, to: cloud(&key[4])?, value, target };
            out.push((origin(&key), item));
        }
    }
    Ok(out)
}

pub fn costs(r: &Read) -> Result<Vec<(SourceId, CostSnapshot)>, ProviderError> {
    const KEY: &[&str] = &["source", "cloud", "currency"];
    let forecasts: BTreeMap<Vec<String>, &Series> =
        r.of(x::COST_FORECAST).map(|s| (KEY.iter().map(|k| s.label(k).to_string()).collect(), s)).collect();
    let mut services: BTreeMap<Vec<String>, Vec<(String, f64)>> = BTreeMap::new();
    for s in r.of(x::COST_SERVICE) {
        let key = KEY.iter().map(|k| s.label(k).to_string()).collect();
        services.entry(key).or_default().push((s.label("service").to_string(), s.value));
    }
    let mut out = Vec::new();
    for (key, mtd) in r.values(x::COST_MTD, KEY) {
        let forecast = match forecasts.get(&key) {
            Some(f) if f.label("method") == "cloud" => Forecast::Cloud(f.value),
            Some(f) if f.label("method") == "run_rate" => Forecast::RunRate(f.value),
            Some(f) => return Err(bad(format_args!("unknown forecast method '{}'", clip(f.label("method"))))),
            // Not exported: too early in the month for any forecast.
            None => Forecast::TooEarly,
        };
        let mut by_service = services.remove(&key).unwrap_or_default();
        by_service.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let item =
            CostSnapshot { cloud: cloud(&key[1])?, currency: key[2].clone(), month_to_date: mtd, forecast, by_service };
        out.push((origin(&key), item));
    }
    Ok(out)
}

pub fn prices(r: &Read) -> Result<Vec<(SourceId, SpotPrice)>, ProviderError> {
    const KEY: &[&str] = &["source", "cloud", "region", "instance_type", "currency"];
    let on_demand = r.values(x::ON_DEMAND_PRICE, KEY);
    let mut out = Vec::new();
    for (key, spot) in r.values(x::SPOT_PRICE, KEY) {
        let item = SpotPrice {
            cloud: cloud(&key[1])?,
            region: key[2].clone(),
            instance_type: key[3].clone(),
            currency: key[4].clone(),
            zone: None,
            on_demand_hourly: on_demand.get(&key).copied(),
            on_demand_from: "exporter".into(),
            spot_hourly: Some(spot),
            spot_since: None,
            groups: vec![],
        };
        out.push((origin(&key), item));
    }
    // An on-demand price the exporter knew without a spot price is an item too.
    let spot = r.values(x::SPOT_PRICE, KEY);
    for (key, od) in on_demand {
        if spot.contains_key(&key) {
            continue;
        }
        let item = SpotPrice {
            cloud: cloud(&key[1])?,
            region: key[2].clone(),
            instance_type: key[3].clone(),
            currency: key[4].clone(),
            zone: None,
            on_demand_hourly: Some(od),
            on_demand_from: "exporter".into(),
            spot_hourly: None,
            spot_since: None,
            groups: vec![],
        };
        out.push((origin(&key), item));
    }
    Ok(out)
}

pub fn arbiters(r: &Read) -> Vec<(SourceId, Arbiter)> {
    const KEY: &[&str] = &["source", "arbiter", "location"];
    let rtt = r.values(x::ARBITER_RTT, KEY);
    r.values(x::ARBITER_UP, KEY)
        .into_iter()
        .map(|(key, up)| {
            let reachable = up == 1.0;
            let item = Arbiter {
                name: key[1].clone(),
                location: key[2].clone(),
                reachable,
                rtt_ms: rtt.get(&key).map(|s| s * 1000.0),
                error: (!reachable).then(|| "not reachable from the exporter (its reason is not exported)".into()),
            };
            (origin(&key), item)
        })
        .collect()
}

pub fn drills(r: &Read) -> Vec<String> {
    r.of(x::DRILL_ACTIVE).filter(|s| s.value == 1.0).map(|s| s.label("drill").to_string()).collect()
}

/// Alerts, acknowledged ones with the time this reader first saw them acked
/// (`acked_since`, kept across polls): the contract carries no ack time.
pub fn alerts(
    r: &Read,
    now: DateTime<Utc>,
    acked_since: &Mutex<BTreeMap<(String, String), DateTime<Utc>>>,
) -> Result<Vec<Alert>, ProviderError> {
    let started = r.values(x::ALERT_STARTED, &["source", "alert_id"]);
    let mut seen_acked = BTreeMap::new();
    let known = acked_since.lock().map(|m| m.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for s in r.of(x::ALERT_FAMILY).filter(|s| s.value == 1.0) {
        let key = (s.label("source").to_string(), s.label("alert_id").to_string());
        let state = match s.label("state") {
            "firing" => AlertState::Firing,
            "acked" => {
                let at = known.get(&key).copied().unwrap_or(now);
                seen_acked.insert(key.clone(), at);
                AlertState::Acknowledged { by: ACKED_BY.into(), at, comment: ACK_COMMENT.into() }
            }
            "inhibited" => AlertState::Inhibited { by: INHIBITED_BY.into() },
            "resolved" => AlertState::Resolved,
            other => return Err(bad(format_args!("unknown alert state '{}'", clip(other)))),
        };
        let severity = match s.label("severity") {
            "p0" => Severity::P0,
            "p1" => Severity::P1,
            "p2" => Severity::P2,
            "p3" => Severity::P3,
            other => return Err(bad(format_args!("unknown severity '{}'", clip(other)))),
        };
        out.push(Alert {
            id: key.1.clone(),
            source: SourceId::new(&key.0),
            cloud: match s.label("cloud") {
                "" => None,
                c => Some(cloud(c)?),
            },
            severity,
            title: s.label("name").to_string(),
            resource: s.label("resource").to_string(),
            // Exported with every alert; without it, the first time it is seen here.
            started_at: started.get(&vec![key.0.clone(), key.1.clone()]).and_then(|t| when(*t)).unwrap_or(now),
            state,
            route: s.label("route").to_string(),
            labels: crate::model::Labels::default(),
        });
    }
    // Only alerts acked now are remembered: an un-ack and re-ack is a new ack.
    if let Ok(mut m) = acked_since.lock() {
        *m = seen_acked;
    }
    Ok(out)
}

/// Each source the exporters read, as they last saw it, judged at `now`: stale
/// when its exporter says it is not up, when some of its sections failed (which
/// ones is not exported, so any figure of it may be old), or when its last success
/// is older than two of its intervals and a scrape. `also` names sources that only
/// items mention (no health exported for them): they are stale too.
pub fn upstream<'a>(r: &Read, now: DateTime<Utc>, also: impl IntoIterator<Item = &'a SourceId>) -> Vec<SourceStatus> {
    let key = &["source"][..];
    let (up, partial) = (r.values(x::SOURCE_UP, key), r.values(x::SOURCE_PARTIAL, key));
    let (last, interval) = (r.values(x::SOURCE_LAST_SUCCESS, key), r.values(x::SOURCE_INTERVAL, key));
    let (calls, monthly) = (r.values(x::SOURCE_API_CALLS, key), r.values(x::SOURCE_MONTHLY_COST, key));
    let took = r.values(x::SOURCE_POLL_DURATION, key);
    let kinds: BTreeMap<&str, &str> = r.of(x::SOURCE_UP).map(|s| (s.label("source"), s.label("kind"))).collect();
    let mut out: BTreeMap<String, SourceStatus> = BTreeMap::new();
    for (k, up) in &up {
        let id = &k[0];
        let last_ok = last.get(k).and_then(|t| when(*t));
        let every = interval.get(k).copied().filter(|i| *i > 0.0);
        let age = last_ok.map(|t| (now - t).num_milliseconds() as f64 / 1000.0);
        let budget = 2.0 * every.unwrap_or(DEFAULT_INTERVAL_SECS) + SCRAPE_SLACK_SECS;
        let failed = partial.get(k).copied().unwrap_or(0.0);
        let freshness = if *up != 1.0 {
            Freshness::Stale {
                reason: match age {
                    Some(a) => {
                        format!("its exporter could not read it (last read {} ago)", crate::format::age(a as i64))
                    }
                    None => "its exporter has not read it yet".into(),
                },
            }
        } else if failed > 0.0 {
            Freshness::Stale {
                reason: format!(
                    "{failed} section(s) of its last poll failed at the exporter (which is not exported): \
                     any of its figures may be old"
                ),
            }
        } else {
            match age {
                Some(a) if a > budget => Freshness::Stale {
                    reason: format!(
                        "last read by its exporter {} ago (polled every {}s)",
                        crate::format::age(a as i64),
                        every.unwrap_or(DEFAULT_INTERVAL_SECS)
                    ),
                },
                Some(_) => Freshness::Fresh,
                None => Freshness::Stale { reason: "its exporter exports no last success time".into() },
            }
        };
        let poll_cost = calls.get(k).map(|c| PollCost {
            api_calls: count(x::SOURCE_API_CALLS, *c).unwrap_or(0),
            // The exported monthly estimate already holds its interval: kept whole as
            // a fixed amount, so PollCost::monthly_usd gives it back at any interval.
            fixed_monthly_usd: monthly.get(k).copied().unwrap_or(0.0),
            ..PollCost::default()
        });
        let mut status = SourceStatus::new(SourceId::new(id), kinds.get(id.as_str()).copied().unwrap_or(""));
        status.freshness = freshness;
        status.last_ok = last_ok;
        status.interval_secs = every.map_or(0, |i| i as u64);
        status.poll_cost = poll_cost;
        // How long the exporter's last poll of it took (the Logs pane shows it).
        status.last_poll_secs = took.get(k).copied().filter(|t| t.is_finite() && *t >= 0.0);
        out.insert(id.clone(), status);
    }
    for id in also {
        if !out.contains_key(id.as_str()) {
            let mut status = SourceStatus::new(id.clone(), "");
            status.freshness = Freshness::Stale { reason: "its exporter exports no health for it".into() };
            out.insert(id.as_str().to_string(), status);
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::prometheus::api::Sample;

    fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
        let mut l: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        l.insert("__name__".into(), name.into());
        Sample { labels: l, value }
    }

    fn read(samples: Vec<Sample>) -> Read {
        let origins = Read::origins(&samples);
        Read::new(samples, &origins)
    }

    /// Each way an exporter says a source is not current makes its row stale, with
    /// the exported last success kept as its last_ok; the rest is fresh.
    #[test]
    fn upstream_rows_are_judged_from_what_the_exporter_says() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let t = now.timestamp() as f64;
        let mut samples = Vec::new();
        // (source, up, partial, seconds since its last success, interval)
        for (id, up, partial, ago, every) in [
            ("fresh", 1.0, 0.0, Some(20.0), 30.0),
            ("down", 0.0, 0.0, Some(100.0), 30.0),
            ("partial", 1.0, 2.0, Some(5.0), 30.0),
            ("old", 1.0, 0.0, Some(121.0), 30.0),
            ("never", 0.0, 0.0, None, 30.0),
        ] {
            let l = [("source", id), ("kind", "aws")];
            samples.push(sample(x::SOURCE_UP, &l, up));
            samples.push(sample(x::SOURCE_PARTIAL, &l, partial));
            samples.push(sample(x::SOURCE_INTERVAL, &l, every));
            if let Some(ago) = ago {
                samples.push(sample(x::SOURCE_LAST_SUCCESS, &l, t - ago));
            }
        }
        samples.push(sample(x::SOURCE_API_CALLS, &[("source", "fresh"), ("kind", "aws")], 7.0));
        samples.push(sample(x::SOURCE_MONTHLY_COST, &[("source", "fresh"), ("kind", "aws")], 16.86));
        samples.push(sample(x::SOURCE_POLL_DURATION, &[("source", "fresh"), ("kind", "aws")], 1.25));
        let rows = upstream(&read(samples), now, &[SourceId::new("fresh"), SourceId::new("unhealthy")]);
        let row = |id: &str| rows.iter().find(|r| r.id.as_str() == id).expect(id);
        assert_eq!(row("fresh").freshness, Freshness::Fresh);
        assert_eq!(row("fresh").last_ok, Some(now - chrono::Duration::seconds(20)));
        assert_eq!((row("fresh").kind.as_str(), row("fresh").interval_secs), ("aws", 30));
        let cost = row("fresh").poll_cost.clone().expect("cost");
        assert_eq!((cost.api_calls, cost.monthly_usd(1), cost.monthly_usd(3600)), (7, 16.86, 16.86));
        assert_eq!((row("fresh").last_poll_secs, row("down").last_poll_secs), (Some(1.25), None));
        let reason = |id: &str| match &row(id).freshness {
            Freshness::Stale { reason } => reason.clone(),
            f => panic!("{id} is {f:?}"),
        };
        assert_eq!(reason("down"), "its exporter could not read it (last read 1m ago)");
        assert!(reason("partial").starts_with("2 section(s) of its last poll failed"), "{}", reason("partial"));
        // Two intervals and a scrape's minute: 120 s.
        assert_eq!(reason("old"), "last read by its exporter 2m ago (polled every 30s)");
        assert_eq!(reason("never"), "its exporter has not read it yet");
        assert_eq!(row("never").last_ok, None);
        assert_eq!(reason("unhealthy"), "its exporter exports no health for it");
    }

    /// The state set may come whole (every state, one at 1) or as the current state
    /// only; no health series at all is unknown, and a policy of answers keeps them
    /// in cloud then name order.
    #[test]
    fn endpoint_health_from_the_state_set_and_unknown_without_one() {
        let p = [("source", "r53"), ("policy", "shop")];
        let answer = |cloud: &str, name: &str| {
            [p[0], p[1], ("cloud", cloud), ("endpoint", name)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let mut samples = vec![sample(x::DNS_TTL, &[p[0], p[1], ("policy_kind", "route53")], 60.0)];
        for (cloud, name, weight) in [("azure", "b", 30.0), ("aws", "z", 50.0), ("aws", "a", 20.0)] {
            let mut l: Vec<(String, String)> = answer(cloud, name);
            l.push(("policy_kind".into(), "route53".into()));
            l.push(("target".into(), format!("{name}.example")));
            let l: Vec<(&str, &str)> = l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            samples.push(sample(x::DNS_WEIGHT, &l, weight));
        }
        for (h, v) in [("ok", 0.0), ("down", 1.0), ("degraded", 0.0)] {
            samples.push(sample(x::DNS_HEALTH, &[p[0], p[1], ("cloud", "aws"), ("endpoint", "z"), ("health", h)], v));
        }
        samples.push(sample(
            x::DNS_HEALTH,
            &[p[0], p[1], ("cloud", "azure"), ("endpoint", "b"), ("health", "ok"), ("check", "HTTPS /")],
            1.0,
        ));
        let got = policies(&read(samples)).expect("policies");
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].kind, got[0].ttl_secs, got[0].source.as_str()), (PolicyKind::Route53, 60, "r53"));
        let seen: Vec<(&str, Health, u32, &str)> =
            got[0].endpoints.iter().map(|e| (e.name.as_str(), e.health, e.weight, e.check.as_str())).collect();
        assert_eq!(
            seen,
            vec![("a", Health::Unknown, 20, ""), ("z", Health::Down, 50, ""), ("b", Health::Ok, 30, "HTTPS /")]
        );
        // A weight that is not a count is refused, naming the family.
        let bad = read(vec![
            sample(x::DNS_TTL, &[p[0], p[1], ("policy_kind", "gtm")], 60.0),
            sample(x::DNS_WEIGHT, &[p[0], p[1], ("cloud", "aws"), ("endpoint", "a")], 2.5),
        ]);
        assert!(policies(&bad).expect_err("2.5").to_string().contains("opsdeck_dns_weight is 2.5, not a count"));
    }
}
