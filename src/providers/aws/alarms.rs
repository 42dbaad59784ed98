//! CloudWatch alarms → alerts. Severity from a tag (P0..P3) or a name prefix
//! ("P1-…"), P2 otherwise. An acknowledgement is recorded on the alarm itself
//! (tags: who, when, why, until) with its actions disabled, so every other
//! console and the AWS console see it.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::operation::RequestId;
use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, MetricAlarm, StateValue, Tag};
use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::{READS_IN_FLIGHT, sdk_error, sns, to_chrono};
use crate::model::Actor;
use crate::model::{Alert, AlertState, CloudKind, Severity, SourceId};
use crate::providers::{ProviderError, Receipt};

pub const TAG_BY: &str = "opsdeck:ack-by";
pub const TAG_AT: &str = "opsdeck:ack-at";
pub const TAG_COMMENT: &str = "opsdeck:ack-comment";
pub const TAG_UNTIL: &str = "opsdeck:ack-until";

/// Severity from a name like "P0-checkout-5xx" or "p1 api latency".
pub fn severity_from_name(name: &str) -> Option<Severity> {
    let head: String = name.chars().take(3).collect::<String>().to_ascii_uppercase();
    let sev = match head.get(..2)? {
        "P0" => Severity::P0,
        "P1" => Severity::P1,
        "P2" => Severity::P2,
        "P3" => Severity::P3,
        _ => return None,
    };
    // "P0-x", "P0 x", "P0_x", "P0:x" or just "P0"; not "P0wer".
    match head.chars().nth(2) {
        None | Some('-' | ' ' | '_' | ':' | '.') => Some(sev),
        _ => None,
    }
}

fn severity_from_tag(v: &str) -> Option<Severity> {
    match v.trim().to_ascii_uppercase().as_str() {
        "P0" | "CRITICAL" | "SEV0" => Some(Severity::P0),
        "P1" | "HIGH" | "SEV1" => Some(Severity::P1),
        "P2" | "MEDIUM" | "SEV2" => Some(Severity::P2),
        "P3" | "LOW" | "SEV3" | "INFO" => Some(Severity::P3),
        _ => None,
    }
}

/// What an alert needs of an alarm, metric or composite.
struct AlarmView<'a> {
    name: &'a str,
    arn: Option<&'a str>,
    state: Option<&'a StateValue>,
    reason: Option<&'a str>,
    updated: Option<&'a aws_sdk_cloudwatch::primitives::DateTime>,
    /// ALARM actions only: the ones that run when the alarm fires.
    actions: &'a [String],
    /// What the alarm watches, in words.
    resource: String,
}

impl<'a> AlarmView<'a> {
    fn metric(a: &'a MetricAlarm, region: &str) -> Option<AlarmView<'a>> {
        let resource = a
            .dimensions()
            .iter()
            .filter_map(|d| Some(format!("{}={}", d.name()?, d.value()?)))
            .collect::<Vec<_>>()
            .join(",");
        Some(AlarmView {
            name: a.alarm_name()?,
            arn: a.alarm_arn(),
            state: a.state_value(),
            reason: a.state_reason(),
            updated: a.state_updated_timestamp(),
            actions: a.alarm_actions(),
            resource: if resource.is_empty() { a.namespace().unwrap_or(region).to_string() } else { resource },
        })
    }

    fn composite(a: &'a CompositeAlarm) -> Option<AlarmView<'a>> {
        Some(AlarmView {
            name: a.alarm_name()?,
            arn: a.alarm_arn(),
            state: a.state_value(),
            reason: a.state_reason(),
            updated: a.state_updated_timestamp(),
            actions: a.alarm_actions(),
            // The rule names the alarms it combines; it may be long.
            resource: match a.alarm_rule() {
                Some(rule) => format!("composite: {}", rule.chars().take(160).collect::<String>()),
                None => "composite alarm".into(),
            },
        })
    }
}

/// One read of a region's alarms.
pub struct AlarmRead {
    /// Alarms in ALARM state as alerts.
    pub alerts: Vec<Alert>,
    /// Name → ARN of every alarm, for tagging an acknowledgement.
    pub arns: BTreeMap<String, String>,
    /// Alert id → the SNS topics among its alarm's ALARM actions (see `sns`).
    pub topics: BTreeMap<String, Vec<String>>,
}

/// Alarms in ALARM state as alerts, the name → ARN map of every alarm, and the
/// topics each firing alarm pages through.
/// Composite alarms are alarms too (often the very ones that page): DescribeAlarms
/// returns them only when asked for.
pub async fn alerts(
    client: &Client,
    source: &SourceId,
    region: &str,
    severity_tag: &str,
    now: DateTime<Utc>,
) -> Result<AlarmRead, ProviderError> {
    // Every page first: the tags of the firing alarms are then read side by side.
    let mut pages = client
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .into_paginator()
        .send();
    let mut read = Vec::new();
    while let Some(page) = pages.next().await {
        read.push(page.map_err(|e| sdk_error("DescribeAlarms", e))?);
    }
    let views = read.iter().flat_map(|page| {
        page.metric_alarms()
            .iter()
            .filter_map(|a| AlarmView::metric(a, region))
            .chain(page.composite_alarms().iter().filter_map(AlarmView::composite))
    });
    let mut arns = BTreeMap::new();
    let mut firing = Vec::new();
    for a in views {
        if let Some(arn) = a.arn {
            arns.insert(a.name.to_string(), arn.to_string());
        }
        if a.state == Some(&StateValue::Alarm) {
            firing.push(a);
        }
    }
    // Tags are read for firing alarms only, one call each, a few at a time: in the
    // alarms' order, so the first failure (in that order) is the one reported.
    // (The reads are gathered by a loop, not a closure: a stream over a borrowing
    // closure is not `Send` enough for the provider's boxed future.)
    let mut reads = Vec::with_capacity(firing.len());
    for a in &firing {
        reads.push(tags_of(client, a.arn));
    }
    let tags: Vec<BTreeMap<String, String>> = stream::iter(reads).buffered(READS_IN_FLIGHT).try_collect().await?;
    let topics = firing.iter().map(|a| (a.name.to_string(), sns::topics_of(a.actions))).collect();
    let alerts = firing.into_iter().zip(tags).map(|(a, tags)| alert(a, tags, source, severity_tag, now)).collect();
    Ok(AlarmRead { alerts, arns, topics })
}

/// An alarm's tags (none without an ARN to ask about).
async fn tags_of(client: &Client, arn: Option<&str>) -> Result<BTreeMap<String, String>, ProviderError> {
    let Some(arn) = arn else { return Ok(BTreeMap::new()) };
    Ok(client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_error("ListTagsForResource", e))?
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

/// A firing alarm as an alert: severity and acknowledgement from its tags.
fn alert(
    a: AlarmView<'_>,
    tags: BTreeMap<String, String>,
    source: &SourceId,
    severity_tag: &str,
    now: DateTime<Utc>,
) -> Alert {
    let name = a.name;
    let severity = tags
        .get(severity_tag)
        .and_then(|v| severity_from_tag(v))
        .or_else(|| severity_from_name(name))
        .unwrap_or(Severity::P2);
    let until = tags.get(TAG_UNTIL).and_then(|u| DateTime::parse_from_rfc3339(u).ok()).map(|u| u.with_timezone(&Utc));
    let state = match (tags.get(TAG_BY), tags.get(TAG_AT)) {
        (Some(by), Some(at)) if until.is_none_or(|u| now < u) => AlertState::Acknowledged {
            by: by.clone(),
            at: DateTime::parse_from_rfc3339(at).map(|t| t.with_timezone(&Utc)).unwrap_or(now),
            comment: tags.get(TAG_COMMENT).cloned().unwrap_or_default(),
        },
        _ => AlertState::Firing,
    };
    Alert {
        id: name.to_string(),
        source: source.clone(),
        cloud: Some(CloudKind::Aws),
        severity,
        title: match a.reason {
            Some(reason) => format!("{name}: {reason}"),
            None => name.to_string(),
        },
        resource: a.resource,
        started_at: a.updated.and_then(to_chrono).unwrap_or(now),
        state,
        // Where it paged: the topics among its actions, by name.
        route: sns::route_field(&sns::topics_of(a.actions)),
        // The alarm's tags are its labels; opsdeck's own ack bookkeeping is shown as the state.
        labels: tags.into_iter().filter(|(k, _)| !k.starts_with("opsdeck:")).collect(),
    }
}

/// Record the acknowledgement on the alarm and silence its actions.
pub async fn acknowledge(
    client: &Client,
    name: &str,
    arn: &str,
    actor: &Actor,
    comment: &str,
    minutes: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Receipt, ProviderError> {
    let tag = |k: &str, v: String| Tag::builder().key(k).value(v).build();
    let mut tags = vec![
        tag(TAG_BY, actor.label()),
        tag(TAG_AT, now.to_rfc3339()),
        // Tag values are limited to 256 characters.
        tag(TAG_COMMENT, comment.chars().take(256).collect()),
    ];
    if let Some(m) = minutes {
        tags.push(tag(TAG_UNTIL, (now + Duration::minutes(i64::from(m))).to_rfc3339()));
    }
    let tagged = client
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| sdk_error("TagResource", e))?;
    client.disable_alarm_actions().alarm_names(name).send().await.map_err(|e| sdk_error("DisableAlarmActions", e))?;
    Ok(Receipt { request_id: tagged.request_id().unwrap_or("unknown").to_string() })
}

/// Withdraw an acknowledgement: drop opsdeck's tags and turn the alarm's actions back on.
pub async fn unacknowledge(client: &Client, name: &str, arn: &str) -> Result<Receipt, ProviderError> {
    let untagged = client
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some([TAG_BY, TAG_AT, TAG_COMMENT, TAG_UNTIL].map(String::from).to_vec()))
        .send()
        .await
        .map_err(|e| sdk_error("UntagResource", e))?;
    client.enable_alarm_actions().alarm_names(name).send().await.map_err(|e| sdk_error("EnableAlarmActions", e))?;
    Ok(Receipt { request_id: untagged.request_id().unwrap_or("unknown").to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_prefixes() {
        assert_eq!(severity_from_name("P0-checkout-5xx"), Some(Severity::P0));
        assert_eq!(severity_from_name("p1 api latency"), Some(Severity::P1));
        assert_eq!(severity_from_name("P3"), Some(Severity::P3));
        assert_eq!(severity_from_name("P0wer-supply"), None);
        assert_eq!(severity_from_name("cpu-high"), None);
        assert_eq!(severity_from_tag(" critical "), Some(Severity::P0));
    }
}
