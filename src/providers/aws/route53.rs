//! Route 53 weighted / failover record sets as a traffic policy, with their
//! health checks; weights changed with one UPSERT batch per hosted zone.

use std::collections::BTreeMap;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{Change as R53Change, ChangeAction, ChangeBatch, ResourceRecordSet};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::config::AwsRecordConfig;
use super::{READS_IN_FLIGHT, sdk_error};
use crate::model::{CloudKind, Detection, Endpoint, Health, PolicyKind, SourceId, TrafficPolicy};
use crate::providers::{ProviderError, Receipt};

fn normal(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn zone_id(z: &str) -> String {
    z.trim_start_matches("/hostedzone/").to_string()
}

/// Which cloud an answer serves: configured, else guessed from where it points.
pub fn cloud_of(set_id: &str, target: &str, configured: &BTreeMap<String, CloudKind>) -> CloudKind {
    if let Some(c) = configured.get(set_id) {
        return *c;
    }
    let t = target.to_ascii_lowercase();
    if t.contains("azure") || t.contains("trafficmanager.net") || t.contains("azurefd.net") {
        CloudKind::Azure
    } else if t.contains("aliyun") || t.contains("alibaba") || t.contains("alicdn") {
        CloudKind::Aliyun
    } else {
        CloudKind::Aws
    }
}

/// The configured record as a policy, and its record sets by set identifier.
pub async fn policy(
    client: &Client,
    source: &SourceId,
    rec: &AwsRecordConfig,
) -> Result<(TrafficPolicy, Vec<(String, ResourceRecordSet)>), ProviderError> {
    let wanted = normal(&rec.name);
    let mut sets: Vec<ResourceRecordSet> = Vec::new();
    let mut start: Option<(String, Option<String>)> = Some((rec.name.clone(), None));
    // Pages are read until the record's name is passed.
    while let Some((name, ident)) = start.take() {
        let resp = client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id(&rec.zone_id))
            .start_record_name(name)
            .set_start_record_identifier(ident)
            .send()
            .await
            .map_err(|e| sdk_error("ListResourceRecordSets", e))?;
        let mut passed = false;
        for rs in resp.resource_record_sets() {
            if normal(rs.name()) == wanted {
                sets.push(rs.clone());
            } else if !sets.is_empty() {
                passed = true;
            }
        }
        if resp.is_truncated() && !passed {
            start = resp.next_record_name().map(|n| (n.to_string(), resp.next_record_identifier().map(String::from)));
        }
    }
    let sets: Vec<ResourceRecordSet> = sets
        .into_iter()
        .filter(|rs| rs.set_identifier().is_some() && (rs.weight().is_some() || rs.failover().is_some()))
        .collect();
    if sets.is_empty() {
        return Err(ProviderError::BadResponse(format!(
            "no weighted or failover record sets named {} in zone {}",
            rec.name, rec.zone_id
        )));
    }
    // The health checks of the sets side by side, a few at a time, in the sets' order.
    // (Gathered by a loop, not a closure: a stream over a borrowing closure is not
    // `Send` enough for the provider's boxed future.)
    let mut reads = Vec::with_capacity(sets.len());
    for rs in &sets {
        reads.push(health_or_unknown(client, rs.health_check_id()));
    }
    let healths: Vec<(Health, String)> = stream::iter(reads).buffered(READS_IN_FLIGHT).try_collect().await?;
    // Failover records fail over by themselves: how long their checks take to
    // call a primary dead is part of the time to effect.
    let failover_checks: Vec<String> = sets
        .iter()
        .filter(|rs| rs.failover().is_some())
        .filter_map(|rs| rs.health_check_id().map(String::from))
        .collect();
    let detection = detection_of(client, &failover_checks).await?;
    let mut endpoints = Vec::new();
    let mut out = Vec::new();
    let mut ttl = 0;
    for (rs, (health, check)) in sets.into_iter().zip(healths) {
        let set_id = rs.set_identifier().unwrap_or_default().to_string();
        let target = rs
            .alias_target()
            .map(|a| a.dns_name().to_string())
            .or_else(|| rs.resource_records().first().map(|r| r.value().to_string()))
            .unwrap_or_default();
        ttl = ttl.max(rs.ttl().unwrap_or(60));
        endpoints.push(Endpoint {
            name: set_id.clone(),
            cloud: cloud_of(&set_id, &target, &rec.clouds),
            target,
            // Failover records: the primary takes everything while healthy.
            weight: match (rs.weight(), rs.failover()) {
                (Some(w), _) => u32::try_from(w).unwrap_or(0),
                (None, Some(f)) if f.as_str() == "PRIMARY" => 1,
                _ => 0,
            },
            health,
            check,
        });
        out.push((set_id, rs));
    }
    let policy = TrafficPolicy {
        detection,
        source: source.clone(),
        name: normal(&rec.name),
        kind: PolicyKind::Route53,
        ttl_secs: u32::try_from(ttl).unwrap_or(60),
        endpoints,
    };
    Ok((policy, out))
}

/// The slowest of the checks' detection (RequestInterval × FailureThreshold,
/// `GetHealthCheck`); None without checks, or when a check does not say.
async fn detection_of(client: &Client, checks: &[String]) -> Result<Option<Detection>, ProviderError> {
    let mut worst: Option<Detection> = None;
    for id in checks {
        let resp =
            client.get_health_check().health_check_id(id).send().await.map_err(|e| sdk_error("GetHealthCheck", e))?;
        let cfg = resp.health_check().and_then(|h| h.health_check_config());
        let (Some(interval), Some(failures)) =
            (cfg.and_then(|c| c.request_interval()), cfg.and_then(|c| c.failure_threshold()))
        else {
            return Ok(None);
        };
        let d = Detection {
            interval_secs: u32::try_from(interval).unwrap_or(0),
            failures: u32::try_from(failures).unwrap_or(0),
        };
        if worst.is_none_or(|w| d.secs() > w.secs()) {
            worst = Some(d);
        }
    }
    Ok(worst)
}

/// The health of a record set's check; unknown without one.
async fn health_or_unknown(client: &Client, check: Option<&str>) -> Result<(Health, String), ProviderError> {
    match check {
        Some(id) => health_of(client, id).await,
        // Route 53 always answers it, but nothing says it is healthy: unknown.
        None => Ok((Health::Unknown, "no health check (Route 53 always answers it)".to_string())),
    }
}

/// Healthy when most Route 53 checkers report success.
async fn health_of(client: &Client, id: &str) -> Result<(Health, String), ProviderError> {
    let resp = client
        .get_health_check_status()
        .health_check_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("GetHealthCheckStatus", e))?;
    let obs = resp.health_check_observations();
    let ok = obs
        .iter()
        .filter(|o| o.status_report().and_then(|r| r.status()).is_some_and(|s| s.starts_with("Success")))
        .count();
    let health = if obs.is_empty() {
        Health::Unknown
    } else if ok * 2 > obs.len() {
        Health::Ok
    } else if ok > 0 {
        Health::Degraded
    } else {
        Health::Down
    };
    Ok((health, format!("health check {id}: {ok}/{} checkers healthy", obs.len())))
}

/// UPSERT the given record sets with new weights, one change batch per zone.
pub async fn set_weights(
    client: &Client,
    updates: Vec<(String, ResourceRecordSet, u32)>,
    comment: &str,
) -> Result<Receipt, ProviderError> {
    let mut by_zone: BTreeMap<String, Vec<R53Change>> = BTreeMap::new();
    for (zone, mut rs, weight) in updates {
        rs.weight = Some(i64::from(weight));
        let change = R53Change::builder()
            .action(ChangeAction::Upsert)
            .resource_record_set(rs)
            .build()
            .map_err(|e| ProviderError::BadResponse(format!("building the change: {e}")))?;
        by_zone.entry(zone_id(&zone)).or_default().push(change);
    }
    let mut ids = Vec::new();
    for (zone, changes) in by_zone {
        let batch = ChangeBatch::builder()
            .comment(comment.chars().take(256).collect::<String>())
            .set_changes(Some(changes))
            .build()
            .map_err(|e| ProviderError::BadResponse(format!("building the change batch: {e}")))?;
        let resp = client
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(batch)
            .send()
            .await
            .map_err(|e| sdk_error("ChangeResourceRecordSets", e))?;
        ids.extend(resp.change_info().map(|c| c.id().to_string()));
    }
    Ok(Receipt { request_id: ids.join(",") })
}

/// Whether every change of a receipt (ids comma separated, as `set_weights`
/// returns them) is INSYNC at Route 53's servers (`GetChange`).
pub async fn changes_in_sync(client: &Client, request_id: &str) -> Result<bool, ProviderError> {
    let ids: Vec<&str> = request_id.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if ids.is_empty() {
        return Err(ProviderError::BadResponse("the receipt holds no change id".into()));
    }
    for id in ids {
        let resp = client
            .get_change()
            .id(id.trim_start_matches("/change/"))
            .send()
            .await
            .map_err(|e| sdk_error("GetChange", e))?;
        let status = resp.change_info().map(|c| c.status().clone());
        if status != Some(aws_sdk_route53::types::ChangeStatus::Insync) {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod change_tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn get_change(id: &str, status: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GetChangeResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">\
             <ChangeInfo><Id>/change/{id}</Id><Status>{status}</Status><SubmittedAt>2026-11-18T14:30:00Z</SubmittedAt></ChangeInfo>\
             </GetChangeResponse>"
        )
    }

    /// moto says INSYNC for any change at once, so the other answer is played
    /// here: a receipt is in sync only when every one of its changes is.
    #[tokio::test]
    async fn a_receipt_is_in_sync_only_when_every_change_is() {
        let server = MockServer::start().await;
        for (id, status) in [("C1", "PENDING"), ("C2", "INSYNC")] {
            Mock::given(method("GET"))
                .and(path(format!("/2013-04-01/change/{id}")))
                .respond_with(ResponseTemplate::new(200).set_body_string(get_change(id, status)))
                .mount(&server)
                .await;
        }
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_route53::config::Region::new("us-east-1"))
            .endpoint_url(server.uri())
            .credentials_provider(aws_sdk_route53::config::Credentials::new("testing", "testing", None, None, "static"))
            .load()
            .await;
        let client = Client::new(&conf);
        assert_eq!(changes_in_sync(&client, "/change/C2").await, Ok(true));
        assert_eq!(changes_in_sync(&client, "/change/C2,/change/C1").await, Ok(false));
        assert_eq!(changes_in_sync(&client, "C1").await, Ok(false));
        assert!(changes_in_sync(&client, " , ").await.is_err(), "a receipt without ids is no answer");
    }
}
