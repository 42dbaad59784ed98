//! CloudWatch metrics through GetMetricData, up to 500 queries per call — never
//! one call per metric (each metric requested is billed, and calls are throttled).

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use chrono::{DateTime, Duration, Utc};

use super::config::AwsConfig;
use super::sdk_error;
use crate::model::{CloudKind, CloudMetrics, Replication, ReplicationKind, ScalingGroup};
use crate::providers::ProviderError;

/// The API's limit of queries per GetMetricData call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// Period of every query, seconds; the newest complete datapoint is used.
const PERIOD: i32 = 60;

/// One metric to read: a CloudWatch id (unique per call), and what it is.
#[derive(Debug, Clone)]
pub struct Query {
    pub id: String,
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    /// "Average", "Sum" or an extended statistic such as "p95".
    pub stat: String,
}

impl Query {
    fn to_sdk(&self) -> MetricDataQuery {
        let dims: Vec<Dimension> =
            self.dimensions.iter().map(|(n, v)| Dimension::builder().name(n).value(v).build()).collect();
        let metric =
            Metric::builder().namespace(&self.namespace).metric_name(&self.metric).set_dimensions(Some(dims)).build();
        MetricDataQuery::builder()
            .id(&self.id)
            .metric_stat(MetricStat::builder().metric(metric).period(PERIOD).stat(&self.stat).build())
            .return_data(true)
            .build()
    }
}

/// The newest datapoint of one query: its period's start (epoch seconds) and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Newest {
    pub at: i64,
    pub value: f64,
}

/// Newest datapoint of each query, by id. Queries go out in batches of 500, and
/// every page of each batch is read.
pub async fn latest(
    client: &Client,
    queries: &[Query],
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, Newest>, ProviderError> {
    let mut out = BTreeMap::new();
    let start = AwsTime::from_secs((now - Duration::minutes(15)).timestamp());
    let end = AwsTime::from_secs(now.timestamp());
    for batch in queries.chunks(MAX_QUERIES_PER_CALL) {
        let mut token: Option<String> = None;
        loop {
            let resp = client
                .get_metric_data()
                .set_metric_data_queries(Some(batch.iter().map(Query::to_sdk).collect()))
                .start_time(start)
                .end_time(end)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("GetMetricData", e))?;
            for r in resp.metric_data_results() {
                let (Some(id), Some(v)) = (r.id(), newest(r.timestamps(), r.values())) else { continue };
                out.insert(id.to_string(), v);
            }
            token = resp.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

/// The datapoint with the newest timestamp (the API's order is not relied on).
fn newest(times: &[AwsTime], values: &[f64]) -> Option<Newest> {
    times
        .iter()
        .zip(values)
        .max_by_key(|(t, _)| (t.secs(), t.subsec_nanos()))
        .map(|(t, v)| Newest { at: t.secs(), value: *v })
}

/// The load balancer's 5xx share in the minute of its newest request count. The
/// load balancer publishes HTTPCode_Target_5XX_Count only for a minute with a
/// nonzero count, so a 5xx count that is missing, or newest in an earlier minute,
/// is none in this one. Without a request count (or with none counted), or with a
/// 5xx count newer than it, the share is unknown.
fn error_rate(requests: Option<Newest>, errors: Option<Newest>) -> Option<f64> {
    let requests = requests.filter(|r| r.value > 0.0)?;
    let errors = match errors {
        None => 0.0,
        Some(e) if e.at == requests.at => e.value,
        Some(e) if e.at < requests.at => 0.0,
        Some(_) => return None,
    };
    Some((errors / requests.value).clamp(0.0, 1.0))
}

/// The region's front-door figures: CPU of its groups and, when a load balancer is
/// configured, its request rate, p95 response time and 5xx rate; and how many
/// metrics were requested (GetMetricData is billed per metric).
pub struct RegionFigures {
    pub front_door: Option<CloudMetrics>,
    pub replication: Vec<Replication>,
    /// Metrics requested (GetMetricData is billed per metric).
    pub billed_metrics: u32,
}

/// Every metric of the region in one batched read: group CPU, the load balancer's
/// requests, p95 and 5xx, and Aurora / ElastiCache replication lag where configured.
pub async fn region_figures(
    client: &Client,
    region: &str,
    groups: &[ScalingGroup],
    cfg: &AwsConfig,
    now: DateTime<Utc>,
) -> Result<RegionFigures, ProviderError> {
    let load_balancer = cfg.load_balancers.get(region).map(String::as_str);
    let mut queries: Vec<Query> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| Query {
            id: format!("cpu{i}"),
            namespace: "AWS/EC2".into(),
            metric: "CPUUtilization".into(),
            dimensions: vec![("AutoScalingGroupName".into(), g.name.clone())],
            stat: "Average".into(),
        })
        .collect();
    if let Some(lb) = load_balancer {
        let q = |id: &str, metric: &str, stat: &str| Query {
            id: id.into(),
            namespace: "AWS/ApplicationELB".into(),
            metric: metric.into(),
            dimensions: vec![("LoadBalancer".into(), lb.to_string())],
            stat: stat.into(),
        };
        queries.push(q("lbreq", "RequestCount", "Sum"));
        queries.push(q("lbp95", "TargetResponseTime", "p95"));
        queries.push(q("lb5xx", "HTTPCode_Target_5XX_Count", "Sum"));
    }
    let aurora = cfg.aurora_clusters.get(region).cloned().unwrap_or_default();
    let caches = cfg.elasticache_clusters.get(region).cloned().unwrap_or_default();
    for (i, id) in aurora.iter().enumerate() {
        queries.push(Query {
            id: format!("aurora{i}"),
            namespace: "AWS/RDS".into(),
            metric: "AuroraGlobalDBReplicationLag".into(),
            dimensions: vec![("DBClusterIdentifier".into(), id.clone())],
            stat: "Maximum".into(),
        });
    }
    for (i, id) in caches.iter().enumerate() {
        queries.push(Query {
            id: format!("cache{i}"),
            namespace: "AWS/ElastiCache".into(),
            metric: "ReplicationLag".into(),
            dimensions: vec![("CacheClusterId".into(), id.clone())],
            stat: "Maximum".into(),
        });
    }
    let global_caches = cfg.elasticache_global_datastores.get(region).cloned().unwrap_or_default();
    for (i, id) in global_caches.iter().enumerate() {
        queries.push(Query {
            id: format!("gcache{i}"),
            namespace: "AWS/ElastiCache".into(),
            metric: "GlobalDatastoreReplicationLag".into(),
            dimensions: vec![("CacheClusterId".into(), id.clone())],
            stat: "Maximum".into(),
        });
    }
    if queries.is_empty() {
        return Ok(RegionFigures { front_door: None, replication: vec![], billed_metrics: 0 });
    }
    let billed = u32::try_from(queries.len()).unwrap_or(u32::MAX);
    let v = latest(client, &queries, now).await?;
    let mut replication = Vec::new();
    let lag = |kind, name: &str, value: f64, target: f64| Replication {
        kind,
        name: format!("{name} ({region})"),
        from: CloudKind::Aws,
        to: CloudKind::Aws,
        value,
        target,
    };
    for (i, id) in aurora.iter().enumerate() {
        // Aurora reports milliseconds.
        if let Some(ms) = v.get(&format!("aurora{i}")) {
            replication.push(lag(ReplicationKind::Database, id, ms.value / 1000.0, cfg.rpo_secs));
        }
    }
    for (i, id) in caches.iter().enumerate() {
        if let Some(s) = v.get(&format!("cache{i}")) {
            replication.push(lag(ReplicationKind::Cache, id, s.value, cfg.cache_lag_target_secs));
        }
    }
    // Global Datastore: seconds behind the primary region, against the same target.
    for (i, id) in global_caches.iter().enumerate() {
        if let Some(s) = v.get(&format!("gcache{i}")) {
            replication.push(lag(
                ReplicationKind::Cache,
                &format!("{id} global datastore"),
                s.value,
                cfg.cache_lag_target_secs,
            ));
        }
    }
    let cpus: Vec<f64> = (0..groups.len()).filter_map(|i| v.get(&format!("cpu{i}")).map(|d| d.value)).collect();
    let cpu = (!cpus.is_empty()).then(|| cpus.iter().sum::<f64>() / cpus.len() as f64 / 100.0);
    let requests = v.get("lbreq").copied();
    let front_door = (!groups.is_empty() || load_balancer.is_some()).then(|| CloudMetrics {
        cloud: CloudKind::Aws,
        region: region.to_string(),
        // No load balancer configured, or no datapoint: the figure is unknown.
        rps: requests.map(|r| r.value / f64::from(PERIOD)),
        p95_ms: v.get("lbp95").map(|s| s.value * 1000.0),
        error_rate: error_rate(requests, v.get("lb5xx").copied()),
        cpu,
    });
    Ok(RegionFigures { front_door, replication, billed_metrics: billed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_5xx_share_is_of_the_newest_request_minute_and_unknown_without_one() {
        let at = |minute: i64, value: f64| Some(Newest { at: 1_800_000_000 + 60 * minute, value });
        assert_eq!(error_rate(at(5, 200.0), at(5, 10.0)), Some(0.05));
        // The 5xx count is published only for a minute with one: none in this minute.
        assert_eq!(error_rate(at(5, 200.0), None), Some(0.0));
        assert_eq!(error_rate(at(5, 200.0), at(2, 150.0)), Some(0.0), "errors of an earlier minute");
        // No request count (no load balancer, no datapoint), none counted, or a 5xx
        // count of a minute whose requests are not in: unknown.
        assert_eq!(error_rate(None, at(5, 10.0)), None);
        assert_eq!(error_rate(at(5, 0.0), None), None);
        assert_eq!(error_rate(at(4, 200.0), at(5, 10.0)), None);
    }
}
