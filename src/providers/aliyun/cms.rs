//! CloudMonitor (cms 2019-01-01): the newest datapoints of the configured metrics
//! (one DescribeMetricLast per metric, every instance in one Dimensions list), and
//! alert logs (DescribeAlertLogList) as alerts.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::client::{Client, Product};
use super::config::AliyunConfig;
use super::json;
use crate::format::one_line;
use crate::model::{Alert, AlertState, CloudKind, CloudMetrics, Replication, ReplicationKind, Severity, SourceId};
use crate::providers::ProviderError;

/// Period of every query, seconds (CloudMonitor's finest for most products).
const PERIOD: u32 = 60;
const MAX_PAGES: u32 = 20;
pub const ALERT_PAGE_SIZE: u32 = 100;

/// One metric over several instances of one dimension.
pub struct Query<'a> {
    pub namespace: &'a str,
    pub metric: &'a str,
    pub dimension: &'a str,
    pub ids: &'a [String],
}

/// `[{"instanceId":"i-1"},{"instanceId":"i-2"}]`, as the API wants it.
fn dimensions(dimension: &str, ids: &[String]) -> String {
    let list: Vec<Value> = ids.iter().map(|id| serde_json::json!({ dimension: id })).collect();
    Value::Array(list).to_string()
}

/// Every datapoint of a DescribeMetricLast (or DescribeMetricList) read, all pages.
pub async fn datapoints(
    client: &Client,
    action: &str,
    q: &Query<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Value>, ProviderError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut params: Vec<(&str, String)> = vec![
            ("Namespace", q.namespace.to_string()),
            ("MetricName", q.metric.to_string()),
            ("Dimensions", dimensions(q.dimension, q.ids)),
            ("Period", PERIOD.to_string()),
        ];
        if action == "DescribeMetricList" {
            params.push(("StartTime", (now - Duration::minutes(5)).timestamp_millis().to_string()));
            params.push(("EndTime", now.timestamp_millis().to_string()));
        }
        if let Some(t) = &token {
            params.push(("NextToken", t.clone()));
        }
        let v = client.read(Product::Cms, action, &params).await?;
        // The SDK types Datapoints as a string holding JSON; the docs print an array.
        let points = json::embedded_list(&v, "Datapoints")
            .map_err(|e| ProviderError::BadResponse(format!("{action} {}: {e}", q.metric)))?;
        out.extend(points);
        token = json::text(&v, "NextToken").filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// Per value of `key` (an instance id), `field` of its newest datapoint; points
/// of the same instant keep the largest value.
pub fn newest_by(points: &[Value], key: &str, field: &str) -> BTreeMap<String, f64> {
    let mut best: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for p in points {
        let (Some(k), Some(v)) = (json::text(p, key), json::num(p, field)) else { continue };
        let at = json::num(p, "timestamp").unwrap_or(0.0);
        let e = best.entry(k).or_insert((at, v));
        if at > e.0 || (at == e.0 && v > e.1) {
            *e = (at, v);
        }
    }
    best.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

/// A sum over load balancers of figures each may not have reported.
fn add(sum: Option<f64>, v: Option<f64>) -> Option<f64> {
    match (sum, v) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

pub struct RegionFigures {
    pub front_door: Option<CloudMetrics>,
    pub replication: Vec<Replication>,
}

/// ECS CPU, the load balancers' requests / response time / 5xx, PolarDB lag.
pub async fn region_figures(
    client: &Client,
    cfg: &AliyunConfig,
    now: DateTime<Utc>,
) -> Result<RegionFigures, ProviderError> {
    let m = &cfg.metrics;
    let last = "DescribeMetricLast";
    let mut cpu = None;
    if !m.ecs_instances.is_empty() {
        let q = Query {
            namespace: "acs_ecs_dashboard",
            metric: "CPUUtilization",
            dimension: "instanceId",
            ids: &m.ecs_instances,
        };
        let v = newest_by(&datapoints(client, last, &q, now).await?, "instanceId", "Average");
        if !v.is_empty() {
            cpu = Some(v.values().sum::<f64>() / v.len() as f64 / 100.0);
        }
    }
    // Each figure is None until a load balancer reports a datapoint for it.
    let (mut rps, mut rt_ms) = (None, None);
    // Requests and 5xx of the load balancers that reported both: the 5xx share.
    let (mut shared_qps, mut shared_errors) = (None::<f64>, 0.0);
    for lb in &m.load_balancers {
        let Some((qps_m, rt_m, err_m)) = lb.metric_names() else { continue };
        let ids = std::slice::from_ref(&lb.id);
        let read = |metric: String| async move {
            let q = Query { namespace: lb.namespace(), metric: &metric, dimension: lb.dimension(), ids };
            let points = datapoints(client, last, &q, now).await?;
            let newest = newest_by(&points, lb.dimension(), "Average");
            Ok::<Option<f64>, ProviderError>((!newest.is_empty()).then(|| newest.values().sum()))
        };
        let qps = read(qps_m).await?;
        rps = add(rps, qps);
        // The load balancers report an average response time, not a percentile:
        // the slowest one is shown in the p95 column, and the README says so.
        if let Some(rt) = read(rt_m).await? {
            rt_ms = Some(rt_ms.map_or(rt, |w: f64| w.max(rt)));
        }
        if let (Some(q), Some(e)) = (qps, read(err_m).await?) {
            shared_qps = add(shared_qps, Some(q));
            shared_errors += e;
        }
    }
    let mut replication = Vec::new();
    for cluster in &m.polardb_clusters {
        let ids = std::slice::from_ref(cluster);
        let q = Query { namespace: "acs_polardb", metric: "cluster_replica_lag", dimension: "clusterId", ids };
        let points = datapoints(client, last, &q, now).await?;
        // Several read-only nodes report per cluster: the worst one counts.
        let lag = newest_by(&points, "instanceId", "Maximum")
            .into_values()
            .chain(newest_by(&points, "clusterId", "Average").into_values())
            .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))));
        if let Some(value) = lag {
            replication.push(Replication {
                kind: ReplicationKind::Database,
                name: format!("{cluster} ({})", cfg.region),
                from: CloudKind::Aliyun,
                to: CloudKind::Aliyun,
                value,
                target: cfg.rpo_secs,
            });
        }
    }
    let front_door = (!m.ecs_instances.is_empty() || !m.load_balancers.is_empty()).then(|| CloudMetrics {
        cloud: CloudKind::Aliyun,
        region: cfg.region.clone(),
        rps,
        p95_ms: rt_ms,
        error_rate: shared_qps.filter(|q| *q > 0.0).map(|q| (shared_errors / q).clamp(0.0, 1.0)),
        cpu,
    });
    Ok(RegionFigures { front_door, replication })
}

/// CloudMonitor's level as ours: "P1".."P4" through the configured map; the
/// levels of metric rules ("CRITICAL", "WARN", "INFO", any case, also spelled
/// "WARNING" / "INFORMATION") as P2, P3 and P4. "OK" and anything else: None.
pub fn severity(level: &str, map: &BTreeMap<String, Severity>) -> Option<Severity> {
    let level = match level.trim().to_ascii_uppercase().as_str() {
        "CRITICAL" => "P2".to_string(),
        "WARN" | "WARNING" => "P3".to_string(),
        "INFO" | "INFORMATION" => "P4".to_string(),
        other => other.to_string(),
    };
    map.get(&level).copied()
}

/// Whether a log clears its alert: its level is OK, or, with no level, its level
/// change ends at OK ("P4->OK") or its event is a recovery ("AlertOk").
fn clears(l: &Value) -> bool {
    let ok = |s: &str| s.trim().eq_ignore_ascii_case("OK");
    match json::text(l, "Level").filter(|s| !s.trim().is_empty()) {
        Some(level) => ok(&level),
        None => {
            json::text(l, "LevelChange").is_some_and(|c| c.rsplit("->").next().is_some_and(ok))
                || json::text(l, "EventName").is_some_and(|e| e.eq_ignore_ascii_case("AlertOk"))
        }
    }
}

/// Alert logs of the last `alert_window_mins` as alerts: the newest log of each
/// rule and resource decides its state (level OK → resolved).
pub async fn alerts(
    client: &Client,
    source: &SourceId,
    cfg: &AliyunConfig,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ProviderError> {
    let start = now - Duration::minutes(i64::from(cfg.alert_window_mins));
    let mut logs = Vec::new();
    for page in 1..=MAX_PAGES {
        let v = client
            .read(
                Product::Cms,
                "DescribeAlertLogList",
                &[
                    ("StartTime", start.timestamp_millis().to_string()),
                    ("EndTime", now.timestamp_millis().to_string()),
                    ("PageNumber", page.to_string()),
                    ("PageSize", ALERT_PAGE_SIZE.to_string()),
                ],
            )
            .await?;
        let items = json::list(&v, "AlertLogList", "Alarm");
        logs.extend(items.iter().cloned());
        // The answer has no total: a page shorter than the size the server used
        // (it may use less than asked) is the last.
        let size = json::count(&v, "PageSize").filter(|n| *n > 0).unwrap_or(ALERT_PAGE_SIZE);
        if items.is_empty() || (items.len() as u32) < size {
            return Ok(alerts_from_logs(&logs, source, &cfg.severity_map, now));
        }
    }
    log::warn!("{source}: DescribeAlertLogList still had pages after {MAX_PAGES}; older logs are not read");
    Ok(alerts_from_logs(&logs, source, &cfg.severity_map, now))
}

pub fn alerts_from_logs(
    logs: &[Value],
    source: &SourceId,
    map: &BTreeMap<String, Severity>,
    now: DateTime<Utc>,
) -> Vec<Alert> {
    let mut newest: BTreeMap<String, (i64, Alert)> = BTreeMap::new();
    for l in logs {
        let rule = json::text(l, "RuleId").unwrap_or_default();
        let dims: Vec<String> = json::list(l, "Dimensions", "Dimension")
            .iter()
            .filter_map(|d| Some(format!("{}={}", json::text(d, "Key")?, json::text(d, "Value")?)))
            .collect();
        // The resource is the instance the log is about; the userId dimension is the account.
        let resource = dims.iter().filter(|d| !d.starts_with("userId=")).cloned().collect::<Vec<_>>().join(",");
        let id = if resource.is_empty() { rule.clone() } else { format!("{rule}:{resource}") };
        let at_ms = json::num(l, "AlertTime").map_or(0, |t| t as i64);
        let level = json::text(l, "Level").unwrap_or_default();
        // A log that resolves an alert (OK) still says which level it was at.
        let raised = json::text(l, "LevelChange").and_then(|c| c.split("->").next().map(str::to_string));
        let escalation = l.get("Escalation").and_then(|e| json::text(e, "Level"));
        let sev = [Some(level.clone()), escalation.clone(), raised]
            .into_iter()
            .flatten()
            .find_map(|lv| severity(&lv, map))
            .unwrap_or(Severity::P2);
        let rule_name = json::text(l, "RuleName").unwrap_or_else(|| rule.clone());
        let expr = escalation.and(l.get("Escalation").and_then(|e| json::text(e, "Expression")));
        let metric = json::text(l, "MetricName").unwrap_or_default();
        let title = match expr {
            Some(e) => format!("{rule_name}: {metric} {e}"),
            None => format!("{rule_name}: {metric}"),
        };
        let host = json::text(l, "InstanceName").filter(|s| !s.is_empty());
        // The log's dimensions, rule, metric and level are its labels (shown and filterable).
        let mut labels: BTreeMap<String, String> = json::list(l, "Dimensions", "Dimension")
            .iter()
            .filter_map(|d| Some((json::text(d, "Key")?, json::text(d, "Value")?)))
            .collect();
        labels.insert("rule".into(), rule_name.clone());
        labels.extend([("metric".to_string(), metric.clone()), ("level".to_string(), level.clone())]);
        labels.retain(|_, v| !v.is_empty());
        let alert = Alert {
            id: id.clone(),
            source: source.clone(),
            cloud: Some(CloudKind::Aliyun),
            severity: sev,
            title: one_line(&title, 200),
            resource: match host {
                Some(h) if !resource.is_empty() => format!("{h} ({resource})"),
                Some(h) => h,
                None if resource.is_empty() => json::text(l, "Namespace").unwrap_or_default(),
                None => resource,
            },
            started_at: DateTime::from_timestamp_millis(at_ms).unwrap_or(now),
            state: if clears(l) { AlertState::Resolved } else { AlertState::Firing },
            route: l
                .get("ContactGroups")
                .and_then(Value::as_array)
                .map(|g| g.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
                .unwrap_or_default(),
            labels: labels.into(),
        };
        match newest.get(&id) {
            Some((t, _)) if *t >= at_ms => {}
            _ => {
                newest.insert(id, (at_ms, alert));
            }
        }
    }
    let mut out: Vec<Alert> = newest.into_values().map(|(_, a)| a).collect();
    out.sort_by(|a, b| a.severity.cmp(&b.severity).then(b.started_at.cmp(&a.started_at)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::aliyun::config::default_severity_map;

    fn fixture(name: &str) -> Value {
        let p = format!("{}/tests/fixtures/aliyun/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(p).expect(name)).expect("json")
    }

    #[test]
    fn datapoints_as_string_or_array_give_the_same_newest_value() {
        for f in [
            "cms-2019-01-01-DescribeMetricLast.sdk.json",
            "cms-2019-01-01-DescribeMetricLast.doc.json",
            "cms-2019-01-01-DescribeMetricList.sdk.json",
            "cms-2019-01-01-DescribeMetricList.doc.json",
        ] {
            let points = json::embedded_list(&fixture(f), "Datapoints").expect(f);
            assert_eq!(points.len(), 10, "{f}");
            let newest = newest_by(&points, "instanceId", "Average");
            // timestamp 1490153400000 is the newest: Average 99.35.
            assert_eq!(newest.get("i-abcdefgh12****"), Some(&99.35), "{f}");
        }
    }

    #[test]
    fn alert_logs_number_or_string_times_and_levels() {
        let map = default_severity_map();
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("now");
        for f in ["cms-2019-01-01-DescribeAlertLogList.doc.json", "cms-2019-01-01-DescribeAlertLogList.sdk.json"] {
            let v = fixture(f);
            let a = alerts_from_logs(json::list(&v, "AlertLogList", "Alarm"), &SourceId::new("ali/cn"), &map, now);
            assert_eq!(a.len(), 1, "{f}");
            let a = &a[0];
            assert_eq!(a.id, "d582b9e9-b1c1-4f17-9279-0f****_ResponseTime:instanceId=i-abcdefgh12****");
            assert_eq!(a.severity, Severity::P3, "P4 maps to P3 by default");
            assert_eq!(a.state, AlertState::Resolved, "the log's level is OK");
            assert_eq!(a.started_at.timestamp_millis(), 1_610_085_521_564);
            assert_eq!(a.title, "CPU utilization: cpu_total $Average>=800");
            assert_eq!(a.resource, "portalHost (instanceId=i-abcdefgh12****)");
            assert_eq!(a.route, "ECS_Group");
        }
        assert_eq!(severity("CRITICAL", &map), Some(Severity::P1));
        assert_eq!(severity("p1", &map), Some(Severity::P0));
        assert_eq!(severity("Warning", &map), Some(Severity::P2));
        assert_eq!(severity("info", &map), Some(Severity::P3));
        assert_eq!(severity("OK", &map), None);
    }

    #[test]
    fn a_clearing_log_is_resolved_with_the_level_it_cleared() {
        let map = default_severity_map();
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("now");
        let log = |extra: Value| {
            let mut l = serde_json::json!({"RuleId": "r", "RuleName": "商城-web 5xx", "AlertTime": "1"});
            if let (Some(o), Some(e)) = (l.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            let a = alerts_from_logs(&[l], &SourceId::new("ali/cn"), &map, now).remove(0);
            (a.severity, a.state, a.title)
        };
        let (sev, state, title) = log(serde_json::json!({"Level": "OK", "LevelChange": "CRITICAL->OK"}));
        assert_eq!((sev, state), (Severity::P1, AlertState::Resolved));
        assert!(title.starts_with("商城-web 5xx"), "{title}");
        let (sev, state, _) = log(serde_json::json!({"LevelChange": "P3->OK", "EventName": "AlertOk"}));
        assert_eq!((sev, state), (Severity::P2, AlertState::Resolved), "no Level: the change says OK");
        let (sev, state, _) = log(serde_json::json!({"Level": "WARN", "LevelChange": "OK->WARN"}));
        assert_eq!((sev, state), (Severity::P2, AlertState::Firing));
    }
}
