//! Where CloudWatch alarms page: the SNS topics among a firing alarm's
//! `AlarmActions` and each topic's subscriptions (protocol and endpoint, masked).
//!
//! Only ALARM actions page; OK and INSUFFICIENT_DATA actions announce a recovery
//! or a gap, and actions that are not SNS topics (Auto Scaling policies, EC2
//! stop/reboot, Systems Manager OpsItems) act on the estate instead of telling
//! anyone, so neither becomes a route.

use std::collections::BTreeMap;

use aws_sdk_sns::Client;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::{READS_IN_FLIGHT, sdk_error};
use crate::model::{Alert, Channel, CloudKind, NotificationRoute, Severity, SourceId};
use crate::providers::ProviderError;

/// A topic's subscriptions come in pages of 100; a server that keeps handing out
/// tokens is cut off here rather than read forever.
const MAX_PAGES: usize = 1_000;

/// The topic name of an SNS topic ARN (`arn:<partition>:sns:<region>:<account>:<name>`);
/// None for any other action.
pub fn topic_name(action: &str) -> Option<&str> {
    let parts: Vec<&str> = action.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", _, _, name] if !name.is_empty() => Some(name),
        _ => None,
    }
}

/// The SNS topics among an alarm's actions, in the alarm's order, each once.
pub fn topics_of(actions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in actions {
        if topic_name(a).is_some() && !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

/// An alert's `route`: the names of the topics it pages through, comma-separated.
pub fn route_field(topics: &[String]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for t in topics {
        if let Some(n) = topic_name(t)
            && !names.contains(&n)
        {
            names.push(n);
        }
    }
    names.join(", ")
}

/// The routes of `alerts`: one per SNS topic any of them pages through (`topics`:
/// alert id → topic ARNs), each topic's subscriptions read once, a few topics at
/// a time. A topic that cannot be read fails the whole section (its reason names
/// the topic): a route list missing one topic would read as "pages nobody".
pub async fn routes(
    client: &Client,
    source: &SourceId,
    alerts: &[Alert],
    topics: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<NotificationRoute>, ProviderError> {
    // topic ARN → the alerts that page through it.
    let mut users: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
    for a in alerts {
        for t in topics.get(&a.id).into_iter().flatten() {
            users.entry(t.as_str()).or_default().push(a);
        }
    }
    let mut reads = Vec::with_capacity(users.len());
    for arn in users.keys() {
        reads.push(subscriptions(client, arn));
    }
    let channels: Vec<Option<Vec<Channel>>> = stream::iter(reads).buffered(READS_IN_FLIGHT).try_collect().await?;
    let mut out: Vec<NotificationRoute> = users
        .into_iter()
        .zip(channels)
        .map(|((arn, alerts), channels)| match channels {
            Some(channels) => route(source, arn, &alerts, channels),
            // A deleted topic pages nobody: that is the route, not a failed read.
            None => {
                let mut r = route(source, arn, &alerts, vec![]);
                r.rule.push_str(" (topic not found: pages nobody)");
                r
            }
        })
        .collect();
    out.sort_by(|a, b| a.receiver.cmp(&b.receiver));
    Ok(out)
}

fn route(source: &SourceId, arn: &str, alerts: &[&Alert], mut channels: Vec<Channel>) -> NotificationRoute {
    let mut ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
    ids.sort();
    ids.dedup();
    channels.sort();
    NotificationRoute {
        source: source.clone(),
        cloud: Some(CloudKind::Aws),
        severity: one_severity(alerts.iter().map(|a| a.severity)),
        receiver: topic_name(arn).unwrap_or(arn).to_string(),
        rule: format!("alarms: {}", ids.join(", ")),
        alerts: ids,
        channels,
        firing_now: None,
    }
}

/// The severity all of them share, if they do.
pub(crate) fn one_severity(mut all: impl Iterator<Item = Severity>) -> Option<Severity> {
    let first = all.next()?;
    all.all(|s| s == first).then_some(first)
}

/// Every subscription of one topic, page by page; None when the topic does not
/// exist (SNS `NotFound`).
async fn subscriptions(client: &Client, arn: &str) -> Result<Option<Vec<Channel>>, ProviderError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = client.list_subscriptions_by_topic().topic_arn(arn).set_next_token(token.clone()).send().await;
        let page = match page {
            Ok(page) => page,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => return Ok(None),
            Err(e) => {
                return Err(sdk_error(&format!("ListSubscriptionsByTopic {}", topic_name(arn).unwrap_or(arn)), e));
            }
        };
        out.extend(
            page.subscriptions().iter().filter_map(|s| channel(s.protocol()?, s.endpoint()?, s.subscription_arn())),
        );
        match page.next_token().filter(|t| !t.is_empty()) {
            // The same token again would read the same page forever.
            Some(t) if token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => return Ok(Some(out)),
        }
    }
    Err(ProviderError::BadResponse(format!(
        "ListSubscriptionsByTopic {}: more than {MAX_PAGES} pages",
        topic_name(arn).unwrap_or(arn)
    )))
}

/// One subscription as a channel, its endpoint masked. A subscription still
/// waiting for its owner to confirm delivers nothing yet, and says so.
fn channel(protocol: &str, endpoint: &str, subscription_arn: Option<&str>) -> Option<Channel> {
    let protocol = protocol.trim();
    if protocol.is_empty() {
        return None;
    }
    let mut c = Channel::masked(&protocol.to_ascii_lowercase(), endpoint);
    if subscription_arn.is_some_and(|a| a.eq_ignore_ascii_case("PendingConfirmation")) {
        c.target.push_str(" (pending confirmation)");
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sns_topics_are_pages() {
        let actions: Vec<String> = [
            "arn:aws:sns:us-east-1:123456789012:oncall",
            "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1b2c:autoScalingGroupName/web:policyName/up",
            "arn:aws:automate:us-east-1:ec2:stop",
            "arn:aws:ssm:us-east-1:123456789012:opsitem:high",
            "arn:aws-cn:sns:cn-north-1:123456789012:pager",
            "arn:aws:sns:us-east-1:123456789012:oncall",
        ]
        .map(String::from)
        .to_vec();
        let topics = topics_of(&actions);
        assert_eq!(topics, vec![actions[0].clone(), actions[4].clone()]);
        assert_eq!(route_field(&topics), "oncall, pager");
        assert_eq!(topic_name("arn:aws:sns:us-east-1:123456789012:"), None);
        assert_eq!(route_field(&[]), "");
    }

    #[test]
    fn channels_are_masked_and_pending_ones_say_so() {
        let c = channel("sms", "+15550100100", Some("arn:aws:sns:us-east-1:1:t:abc")).expect("channel");
        assert_eq!(c.label(), "sms:+1555…0100");
        let c = channel("email", "oncall@example.com", Some("PendingConfirmation")).expect("channel");
        assert_eq!(c.label(), "email:o…@example.com (pending confirmation)");
        let c = channel("https", "https://events.pagerduty.com/integration/KEY/enqueue", None).expect("channel");
        assert_eq!(c.label(), "https:https://events.pagerduty.com/…");
        assert_eq!(channel(" ", "x", None), None);
    }

    #[test]
    fn a_route_has_a_severity_only_when_its_alarms_agree() {
        assert_eq!(one_severity([Severity::P1, Severity::P1].into_iter()), Some(Severity::P1));
        assert_eq!(one_severity([Severity::P1, Severity::P2].into_iter()), None);
        assert_eq!(one_severity(std::iter::empty()), None);
    }
}
