//! Alerts Management: the subscription's alerts (api-version 2019-03-01), every page
//! through `nextLink`, and `changestate` to Acknowledged.

use std::collections::BTreeMap;

use azure_core::http::Method;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::arm::Arm;
use crate::model::{Alert, AlertState, CloudKind, Origin, Severity, SourceId, TimelineEvent};
use crate::providers::{ProviderError, Receipt};

pub const API: &str = "2019-03-01";
/// A runaway `nextLink` chain must not hold a poll forever.
const MAX_PAGES: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    value: Vec<AzAlert>,
    next_link: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AzAlert {
    id: String,
    name: String,
    properties: Props,
}

#[derive(Debug, Deserialize)]
struct Props {
    essentials: Essentials,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Essentials {
    severity: Option<String>,
    alert_state: Option<String>,
    target_resource: Option<String>,
    target_resource_name: Option<String>,
    start_date_time: Option<DateTime<Utc>>,
    /// When the condition resolved (absent or null while it holds).
    monitor_condition_resolved_date_time: Option<DateTime<Utc>>,
    last_modified_date_time: Option<DateTime<Utc>>,
    last_modified_user_name: Option<String>,
    description: Option<String>,
    monitor_service: Option<String>,
    target_resource_group: Option<String>,
    target_resource_type: Option<String>,
    monitor_condition: Option<String>,
    signal_type: Option<String>,
    /// The rule that raised it: a resource id for metric, log and activity-log rules.
    alert_rule: Option<String>,
}

/// `monitorCondition` says whether the condition still holds (Fired / Resolved);
/// `alertState` is what people did with it (New / Acknowledged / Closed). An alert
/// whose condition resolved is resolved whatever its alertState, a closed one too;
/// an acknowledged one stays acknowledged while its condition is fired.
fn state_of(e: &Essentials, now: DateTime<Utc>) -> AlertState {
    let is = |v: &Option<String>, word: &str| v.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case(word));
    if is(&e.monitor_condition, "Resolved") || is(&e.alert_state, "Closed") {
        AlertState::Resolved
    } else if is(&e.alert_state, "Acknowledged") {
        AlertState::Acknowledged {
            by: e.last_modified_user_name.clone().unwrap_or_default(),
            at: e.last_modified_date_time.unwrap_or(now),
            comment: String::new(),
        }
    } else {
        AlertState::Firing
    }
}

fn to_alert(a: AzAlert, source: &SourceId, sev: &BTreeMap<String, Severity>, now: DateTime<Utc>) -> Alert {
    let e = a.properties.essentials;
    // The alert's GUID is the last segment of its id; `name` is the rule's name.
    let guid = a.id.rsplit('/').next().unwrap_or(&a.id).to_string();
    let severity = e.severity.as_deref().and_then(|s| sev.get(s)).copied().unwrap_or(Severity::P2);
    let state = state_of(&e, now);
    let title = match e.description.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => format!("{}: {d}", a.name),
        None => a.name.clone(),
    };
    // The essentials an operator filters on become the alert's labels.
    let labels: BTreeMap<String, String> = [
        ("severity", e.severity.clone()),
        ("monitorService", e.monitor_service.clone()),
        ("monitorCondition", e.monitor_condition.clone()),
        ("signalType", e.signal_type.clone()),
        ("targetResourceGroup", e.target_resource_group.clone()),
        ("targetResourceType", e.target_resource_type.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_string(), v.filter(|v| !v.is_empty())?)))
    .collect();
    Alert {
        id: guid,
        source: source.clone(),
        cloud: Some(CloudKind::Azure),
        severity,
        title,
        resource: e.target_resource_name.or(e.target_resource).unwrap_or_default(),
        started_at: e.start_date_time.unwrap_or(now),
        state,
        route: e.monitor_service.unwrap_or_default(),
        labels: labels.into(),
    }
}

/// Every alert of the subscription (or of the given resource groups), all pages.
/// One page of the alerts list as a poll reads it: the alerts, and whether a
/// `nextLink` follows (for the fuzz targets via `azure::decode`).
pub(super) fn decode_page(
    body: &[u8],
    source: &SourceId,
    sev: &BTreeMap<String, Severity>,
    now: DateTime<Utc>,
) -> Result<(Vec<Alert>, bool), ProviderError> {
    let page: Page = super::arm::decode("Alerts Management list", body)?;
    let more = page.next_link.as_deref().is_some_and(|l| !l.is_empty());
    Ok((page.value.into_iter().map(|a| to_alert(a, source, sev, now)).collect(), more))
}

/// One read of the alerts list.
pub struct AlertRead {
    pub alerts: Vec<Alert>,
    /// Alert id → the `alertRule` it names, for where it paged (`action_groups`).
    pub rules: BTreeMap<String, String>,
}

pub async fn list(
    arm: &Arm,
    source: &SourceId,
    subscription: &str,
    resource_groups: &[String],
    sev: &BTreeMap<String, Severity>,
    now: DateTime<Utc>,
) -> Result<AlertRead, ProviderError> {
    let mut out = Vec::new();
    let mut rules = BTreeMap::new();
    for a in every_alert(arm, source, subscription, resource_groups, &[]).await? {
        let rule = a.properties.essentials.alert_rule.clone().filter(|r| !r.is_empty());
        let alert = to_alert(a, source, sev, now);
        if let Some(rule) = rule {
            rules.insert(alert.id.clone(), rule);
        }
        out.push(alert);
    }
    Ok(AlertRead { alerts: out, rules })
}

/// Every alert of the list, all pages (with `query` added to the first page).
async fn every_alert(
    arm: &Arm,
    source: &SourceId,
    subscription: &str,
    resource_groups: &[String],
    query: &[(&str, &str)],
) -> Result<Vec<AzAlert>, ProviderError> {
    let path = format!("/subscriptions/{subscription}/providers/Microsoft.AlertsManagement/alerts");
    let firsts: Vec<_> = if resource_groups.is_empty() {
        vec![arm.url(&path, API, query)]
    } else {
        resource_groups
            .iter()
            .map(|rg| {
                let mut q = query.to_vec();
                q.push(("targetResourceGroup", rg));
                arm.url(&path, API, &q)
            })
            .collect()
    };
    let mut out = Vec::new();
    for first in firsts {
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let page: Page = arm.get("Alerts Management list", url).await?;
            out.extend(page.value);
            if let Some(link) = page.next_link.filter(|l| !l.is_empty()) {
                if pages >= MAX_PAGES {
                    log::warn!("{source}: alerts list stopped after {MAX_PAGES} pages");
                    break;
                }
                next = Some(arm.same_origin(&link)?);
            }
        }
    }
    Ok(out)
}

/// The list's `timeRange` that covers `since`: Alerts Management keeps 30 days.
fn time_range(since: DateTime<Utc>, now: DateTime<Utc>) -> &'static str {
    match (now - since).num_hours() {
        ..1 => "1h",
        1..24 => "1d",
        24..168 => "7d",
        _ => "30d",
    }
}

/// Alerts Management's own account of `[since, now]`: each alert that started
/// in it (at `startDateTime`), was acknowledged in it (by `lastModifiedUserName`
/// at `lastModifiedDateTime`), and resolved in it (at
/// `monitorConditionResolvedDateTime`, or closed by someone at its last change).
pub async fn history(
    arm: &Arm,
    source: &SourceId,
    subscription: &str,
    resource_groups: &[String],
    sev: &BTreeMap<String, Severity>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<TimelineEvent>, ProviderError> {
    let range = [("timeRange", time_range(since, now))];
    let raw = every_alert(arm, source, subscription, resource_groups, &range).await?;
    let origin = || Origin::Source(source.to_string());
    let within = |t: &DateTime<Utc>| *t >= since && *t <= now;
    let mut out = Vec::new();
    for a in raw {
        let e = &a.properties.essentials;
        let (started, resolved, modified, by) = (
            e.start_date_time,
            e.monitor_condition_resolved_date_time,
            e.last_modified_date_time,
            e.last_modified_user_name.clone().unwrap_or_default(),
        );
        let closed = e.alert_state.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case("Closed"));
        let acked = e.alert_state.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case("Acknowledged"));
        // An alert with no start is not placed on a timeline at a guessed time.
        let Some(started) = started else { continue };
        let alert = to_alert(a, source, sev, now);
        if within(&started) {
            out.push(TimelineEvent::firing(&alert, started, origin()));
        }
        if let Some(at) = modified.filter(|t| acked && within(t)) {
            out.push(TimelineEvent::acked(&alert, &by, at, "", origin()));
        }
        let ended = resolved.or(modified.filter(|_| closed));
        if let Some(at) = ended.filter(within) {
            let mut e = TimelineEvent::resolved(&alert, at, origin());
            if resolved.is_none() {
                e.what = format!("closed: {}", crate::model::alert_line(&alert));
                e.who = Some(by.clone()).filter(|b| !b.is_empty());
            }
            out.push(e);
        }
    }
    Ok(out)
}

/// `POST .../alerts/{id}/changestate?newState=Acknowledged` with the comment.
pub async fn acknowledge(arm: &Arm, subscription: &str, id: &str, comment: &str) -> Result<Receipt, ProviderError> {
    let path = format!("/subscriptions/{subscription}/providers/Microsoft.AlertsManagement/alerts/{id}/changestate");
    let url = arm.url(&path, API, &[("newState", "Acknowledged")]);
    let body = serde_json::json!({ "comments": comment });
    let resp = arm.send("Alerts Management changestate", Method::Post, url, Some(&body)).await?;
    let request_id = resp.header(&super::arm::REQUEST_ID).unwrap_or(id).to_string();
    Ok(Receipt { request_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::azure::default_severity_map;

    #[test]
    fn fixture_alerts_map_to_the_model() {
        let path =
            format!("{}/tests/fixtures/azure/alertsmanagement-2019-03-01-Alerts_List.json", env!("CARGO_MANIFEST_DIR"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        let page: Page = serde_json::from_value(v["responses"]["200"]["body"].clone()).expect("shape");
        assert!(page.next_link.as_deref().is_some_and(|l| l.contains("ctoken=")));
        let now = Utc::now();
        let src = SourceId::new("az/sub");
        let alerts: Vec<Alert> =
            page.value.into_iter().map(|a| to_alert(a, &src, &default_severity_map(), now)).collect();
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].id, "66114d64-d9d9-478b-95c9-b789d6502100");
        assert_eq!(alerts[0].severity, Severity::P3);
        assert!(matches!(&alerts[0].state, AlertState::Acknowledged { by, .. } if by == "System"));
        assert_eq!(alerts[1].state, AlertState::Firing);
        assert_eq!(alerts[0].resource, "servicedeskappinsight");
    }

    #[test]
    fn monitor_condition_resolved_is_resolved_whatever_the_alert_state() {
        let now = Utc::now();
        let state = |condition: Option<&str>, alert_state: Option<&str>| {
            let a: AzAlert = serde_json::from_value(serde_json::json!({
                "id": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/g", "name": "rule",
                "properties": {"essentials": {"monitorCondition": condition, "alertState": alert_state,
                    "lastModifiedUserName": "ana"}}
            }))
            .expect("shape");
            to_alert(a, &SourceId::new("az/s"), &default_severity_map(), now).state
        };
        for s in [Some("New"), Some("Acknowledged"), Some("Closed"), None] {
            assert_eq!(state(Some("Resolved"), s), AlertState::Resolved, "{s:?}");
        }
        assert_eq!(state(Some("resolved"), Some("New")), AlertState::Resolved);
        assert_eq!(state(Some("Fired"), Some("Closed")), AlertState::Resolved);
        assert_eq!(state(Some("Fired"), Some("New")), AlertState::Firing);
        assert_eq!(state(None, None), AlertState::Firing);
        assert!(
            matches!(state(Some("Fired"), Some("Acknowledged")), AlertState::Acknowledged { by, .. } if by == "ana")
        );
    }
}
