//! Where Azure alerts page: each alert's rule (Alerts Management
//! `essentials.alertRule`, a resource id) → the action groups the rule names →
//! each group's receivers by kind, as channels (addresses masked).
//!
//! Each rule and each action group is read once a poll, a few at a time. A rule
//! or group that cannot be read (404 included) fails the routes section alone,
//! with a reason naming it: a route list missing one group would read as "pages
//! nobody". An `alertRule` that is not a rule id opsdeck knows (a portal link, a
//! Prometheus rule group) is not read: its alert keeps its old `route`.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::Value;

use super::arm::Arm;
use crate::model::{Alert, Channel, CloudKind, NotificationRoute, Severity, SourceId};
use crate::providers::ProviderError;

/// Microsoft.Insights/actionGroups, the newest stable version in azure-rest-api-specs.
pub const ACTION_GROUPS_API: &str = "2023-01-01";
/// Rule reads in flight at once; ARM counts every read against the subscription's budget.
const IN_FLIGHT: usize = 4;

/// The rule kinds whose actions name action groups, with the api-version each is read with.
const RULE_KINDS: [(&str, &str); 4] = [
    // properties.actions[].actionGroupId
    ("/providers/microsoft.insights/metricalerts/", "2018-03-01"),
    // properties.actions.actionGroups[] (ids)
    ("/providers/microsoft.insights/scheduledqueryrules/", "2021-08-01"),
    // properties.actions.actionGroups[].actionGroupId
    ("/providers/microsoft.insights/activitylogalerts/", "2020-10-01"),
    // properties.actionGroups.groupIds[]
    ("/providers/microsoft.alertsmanagement/smartdetectoralertrules/", "2021-04-01"),
];

/// The api-version to read `rule` with, if it is a rule id of a kind that names action groups.
pub fn rule_api(rule: &str) -> Option<&'static str> {
    let lower = rule.to_ascii_lowercase();
    if !lower.starts_with("/subscriptions/") {
        return None;
    }
    RULE_KINDS.iter().find(|(kind, _)| lower.contains(kind)).map(|(_, api)| *api)
}

/// The last segment of a resource id: its name.
fn name_of(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

/// The action group ids a rule names, in its order, from whichever of the rule
/// kinds' shapes it has.
pub fn action_group_ids(rule: &Value) -> Vec<String> {
    let p = &rule["properties"];
    let id_of = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        other => other["actionGroupId"].as_str().map(String::from),
    };
    let lists = [&p["actions"], &p["actions"]["actionGroups"], &p["actionGroups"]["groupIds"]];
    let mut out: Vec<String> = Vec::new();
    for list in lists {
        for id in list.as_array().into_iter().flatten().filter_map(id_of) {
            let id = id.trim().to_string();
            if !id.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&id)) {
                out.push(id);
            }
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Receiver {
    name: Option<String>,
    status: Option<String>,
    email_address: Option<String>,
    country_code: Option<String>,
    phone_number: Option<String>,
    service_uri: Option<String>,
    resource_id: Option<String>,
    runbook_name: Option<String>,
    function_name: Option<String>,
    event_hub_name_space: Option<String>,
    event_hub_name: Option<String>,
}

/// `properties` of an action group; every receiver list may be absent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct GroupProps {
    enabled: Option<bool>,
    email_receivers: Vec<Receiver>,
    sms_receivers: Vec<Receiver>,
    voice_receivers: Vec<Receiver>,
    webhook_receivers: Vec<Receiver>,
    logic_app_receivers: Vec<Receiver>,
    azure_app_push_receivers: Vec<Receiver>,
    automation_runbook_receivers: Vec<Receiver>,
    azure_function_receivers: Vec<Receiver>,
    arm_role_receivers: Vec<Receiver>,
    event_hub_receivers: Vec<Receiver>,
    itsm_receivers: Vec<Receiver>,
}

#[derive(Debug, Deserialize)]
struct Group {
    name: Option<String>,
    #[serde(default)]
    properties: GroupProps,
}

/// An action group as opsdeck shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub name: String,
    pub enabled: bool,
    pub channels: Vec<Channel>,
}

/// A channel that names a resource (a Logic App, a runbook, a role), not a
/// person: kept whole, as an ARN's last part is.
fn named(kind: &str, name: &str) -> Channel {
    Channel { kind: kind.to_string(), target: name.trim().to_string() }
}

fn phone(r: &Receiver) -> Option<String> {
    let number = r.phone_number.as_deref()?.trim();
    let cc = r.country_code.as_deref().unwrap_or("").trim().trim_start_matches('+');
    Some(format!("+{cc}{number}"))
}

/// An action group's body as a view: its receivers by kind, disabled ones saying so.
pub fn view(body: &[u8], id: &str) -> Result<GroupView, ProviderError> {
    let g: Group = super::arm::decode(&format!("action group {}", name_of(id)), body)?;
    let p = g.properties;
    let mut channels = Vec::new();
    let mut add = |list: Vec<Receiver>, make: &dyn Fn(&Receiver) -> Option<Channel>| {
        for r in list {
            let Some(mut c) = make(&r) else { continue };
            if r.status.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case("disabled")) {
                c.target.push_str(" (disabled)");
            }
            channels.push(c);
        }
    };
    add(p.email_receivers, &|r| Some(Channel::masked("email", r.email_address.as_deref()?)));
    add(p.sms_receivers, &|r| Some(Channel::masked("sms", &phone(r)?)));
    add(p.voice_receivers, &|r| Some(Channel::masked("voice", &phone(r)?)));
    add(p.webhook_receivers, &|r| Some(Channel::masked("webhook", r.service_uri.as_deref()?)));
    add(p.logic_app_receivers, &|r| {
        Some(named("logic app", r.resource_id.as_deref().map(name_of).or(r.name.as_deref())?))
    });
    add(p.azure_app_push_receivers, &|r| Some(Channel::masked("azure app push", r.email_address.as_deref()?)));
    add(p.automation_runbook_receivers, &|r| Some(named("runbook", r.runbook_name.as_deref().or(r.name.as_deref())?)));
    add(p.azure_function_receivers, &|r| {
        Some(named("azure function", r.function_name.as_deref().or(r.name.as_deref())?))
    });
    add(p.arm_role_receivers, &|r| Some(named("arm role", r.name.as_deref()?)));
    add(p.event_hub_receivers, &|r| {
        let hub = match (r.event_hub_name_space.as_deref(), r.event_hub_name.as_deref()) {
            (Some(ns), Some(h)) => format!("{ns}/{h}"),
            (_, Some(h)) => h.to_string(),
            _ => r.name.clone()?,
        };
        Some(named("event hub", &hub))
    });
    add(p.itsm_receivers, &|r| Some(named("itsm", r.name.as_deref()?)));
    channels.sort();
    Ok(GroupView {
        name: g.name.filter(|n| !n.is_empty()).unwrap_or_else(|| name_of(id).to_string()),
        // `enabled` is required by the API; a group that does not say is taken as on.
        enabled: p.enabled.unwrap_or(true),
        channels,
    })
}

/// What one poll learnt of where its alerts page.
#[derive(Debug, Default)]
pub struct Routing {
    pub routes: Vec<NotificationRoute>,
    /// Alert id → its `route`: the names of its rule's action groups.
    pub alert_routes: BTreeMap<String, String>,
}

impl Routing {
    /// Name each alert's receivers in its `route` (alerts whose rule was read).
    pub fn name_receivers(&self, alerts: &mut [Alert]) {
        for a in alerts {
            if let Some(r) = self.alert_routes.get(&a.id) {
                a.route.clone_from(r);
            }
        }
    }
}

/// The routes of `alerts` (`rules`: alert id → its rule's resource id).
pub async fn routes(
    arm: &Arm,
    source: &SourceId,
    alerts: &[Alert],
    rules: &BTreeMap<String, String>,
) -> Result<Routing, ProviderError> {
    // Each rule once (ids are case-insensitive), in the alerts' order. Only open
    // alerts page: a resolved one's rule may be long deleted, and its 404 would
    // fail every route of the subscription until the alert ages out of the list.
    let mut rule_ids: Vec<(&str, &'static str)> = Vec::new();
    for a in alerts.iter().filter(|a| a.state.is_open()) {
        if let Some(rule) = rules.get(&a.id)
            && let Some(api) = rule_api(rule)
            && !rule_ids.iter().any(|(r, _)| r.eq_ignore_ascii_case(rule))
        {
            rule_ids.push((rule, api));
        }
    }
    let mut reads = Vec::with_capacity(rule_ids.len());
    for (rule, api) in &rule_ids {
        reads.push(read_rule(arm, rule, api));
    }
    let groups_of_rule: Vec<Vec<String>> = stream::iter(reads).buffered(IN_FLIGHT).try_collect().await?;
    let groups_of_rule: BTreeMap<String, Vec<String>> =
        rule_ids.iter().map(|(r, _)| r.to_ascii_lowercase()).zip(groups_of_rule).collect();

    // Each action group once, in the rules' order.
    let mut group_ids: Vec<&str> = Vec::new();
    for ids in groups_of_rule.values() {
        for id in ids {
            if !group_ids.iter().any(|g| g.eq_ignore_ascii_case(id)) {
                group_ids.push(id);
            }
        }
    }
    let mut reads = Vec::with_capacity(group_ids.len());
    for id in &group_ids {
        reads.push(read_group(arm, id));
    }
    let views: Vec<GroupView> = stream::iter(reads).buffered(IN_FLIGHT).try_collect().await?;
    let views: BTreeMap<String, GroupView> = group_ids.iter().map(|g| g.to_ascii_lowercase()).zip(views).collect();

    // group (lowercased id) → the alerts and rule names that use it.
    let mut users: BTreeMap<String, (Vec<&Alert>, Vec<String>)> = BTreeMap::new();
    let mut out = Routing::default();
    for a in alerts {
        let Some(rule) = rules.get(&a.id) else { continue };
        let Some(ids) = groups_of_rule.get(&rule.to_ascii_lowercase()) else { continue };
        let mut names: Vec<&str> = Vec::new();
        for id in ids {
            let key = id.to_ascii_lowercase();
            if let Some(v) = views.get(&key)
                && !names.contains(&v.name.as_str())
            {
                names.push(&v.name);
            }
            let entry = users.entry(key).or_default();
            entry.0.push(a);
            entry.1.push(name_of(rule).to_string());
        }
        out.alert_routes.insert(a.id.clone(), names.join(", "));
    }
    for (key, (alerts, mut rule_names)) in users {
        let Some(v) = views.get(&key) else { continue };
        rule_names.sort();
        rule_names.dedup();
        let mut ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
        ids.sort();
        ids.dedup();
        let mut rule = format!("alert rules: {}", rule_names.join(", "));
        if !v.enabled {
            rule.push_str(" (action group disabled)");
        }
        out.routes.push(NotificationRoute {
            source: source.clone(),
            cloud: Some(CloudKind::Azure),
            severity: one_severity(alerts.iter().map(|a| a.severity)),
            receiver: v.name.clone(),
            rule,
            alerts: ids,
            channels: v.channels.clone(),
            firing_now: None,
        });
    }
    out.routes.sort_by(|a, b| a.receiver.cmp(&b.receiver));
    Ok(out)
}

fn one_severity(mut all: impl Iterator<Item = Severity>) -> Option<Severity> {
    let first = all.next()?;
    all.all(|s| s == first).then_some(first)
}

async fn read_rule(arm: &Arm, rule: &str, api: &str) -> Result<Vec<String>, ProviderError> {
    let body: Value = arm.get(&format!("alert rule {}", name_of(rule)), arm.url(rule, api, &[])).await?;
    Ok(action_group_ids(&body))
}

async fn read_group(arm: &Arm, id: &str) -> Result<GroupView, ProviderError> {
    let what = format!("action group {}", name_of(id));
    let resp = arm.send(&what, azure_core::http::Method::Get, arm.url(id, ACTION_GROUPS_API, &[]), None).await?;
    view(&resp.body, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_rule_kind_names_its_action_groups() {
        let ag = |n: &str| format!("/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/actionGroups/{n}");
        let metric = json!({"properties": {"actions": [{"actionGroupId": ag("a"), "webHookProperties": {}}, {"actionGroupId": ag("b")}]}});
        assert_eq!(action_group_ids(&metric), vec![ag("a"), ag("b")]);
        let query = json!({"properties": {"actions": {"actionGroups": [ag("c")], "customProperties": {}}}});
        assert_eq!(action_group_ids(&query), vec![ag("c")]);
        let activity = json!({"properties": {"actions": {"actionGroups": [{"actionGroupId": ag("d")}, {"actionGroupId": ag("D")}]}}});
        assert_eq!(action_group_ids(&activity), vec![ag("d")], "ids are case-insensitive");
        let smart = json!({"properties": {"actionGroups": {"groupIds": [ag("e")]}}});
        assert_eq!(action_group_ids(&smart), vec![ag("e")]);
        assert!(action_group_ids(&json!({"properties": {}})).is_empty());
        assert_eq!(
            rule_api("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/metricAlerts/cpu"),
            Some("2018-03-01")
        );
        assert_eq!(rule_api("https://portal.example/#Edit Alert Rule"), None);
    }

    /// The example of azure-rest-api-specs (monitor, 2023-01-01, getActionGroup.json).
    #[test]
    fn the_official_example_reads_with_disabled_receivers_marked() {
        let body = json!({
            "id": "/subscriptions/187f412d-1758-44d9-b052-169e2564721d/resourceGroups/Default-NotificationRules/providers/microsoft.insights/actionGroups/SampleActionGroup",
            "type": "Microsoft.Insights/ActionGroups", "name": "SampleActionGroup", "location": "Global", "tags": {},
            "properties": {
                "groupShortName": "sample", "enabled": true,
                "emailReceivers": [
                    {"name": "John Doe's email", "emailAddress": "johndoe@email.com", "status": "Enabled", "useCommonAlertSchema": true},
                    {"name": "Jane Smith's email", "emailAddress": "janesmith@email.com", "status": "Disabled", "useCommonAlertSchema": true}
                ],
                "smsReceivers": [
                    {"name": "John Doe's mobile", "countryCode": "1", "phoneNumber": "1234567890", "status": "Disabled"},
                    {"name": "Jane Smith's mobile", "countryCode": "1", "phoneNumber": "0987654321", "status": "Enabled"}
                ],
                "webhookReceivers": [
                    {"name": "Sample webhook", "serviceUri": "http://www.example.com/webhook", "useCommonAlertSchema": false},
                    {"name": "Sample webhook 2", "serviceUri": "http://www.example.com/webhook2", "useCommonAlertSchema": true, "useAadAuth": true}
                ],
                "itsmReceivers": [], "azureAppPushReceivers": [], "automationRunbookReceivers": [], "voiceReceivers": [],
                "logicAppReceivers": [], "azureFunctionReceivers": [], "armRoleReceivers": [], "eventHubReceivers": []
            }
        });
        let v = view(body.to_string().as_bytes(), "x").expect("view");
        assert_eq!(v.name, "SampleActionGroup");
        assert!(v.enabled);
        let labels: Vec<String> = v.channels.iter().map(Channel::label).collect();
        assert_eq!(
            labels,
            vec![
                "email:j…@email.com",
                "email:j…@email.com (disabled)",
                "sms:+1098…4321",
                "sms:+1123…7890 (disabled)",
                "webhook:http://www.example.com/…",
                "webhook:http://www.example.com/…",
            ]
        );
    }

    #[test]
    fn absent_receiver_lists_and_other_kinds() {
        let body = json!({"name": "ops-ñ", "properties": {"enabled": false,
            "logicAppReceivers": [{"name": "la", "resourceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Logic/workflows/incident-bridge", "callbackUrl": "https://prod.logic.azure.com/x?sig=secret"}],
            "voiceReceivers": [{"name": "v", "countryCode": "44", "phoneNumber": "7700900123"}],
            "eventHubReceivers": [{"name": "eh", "eventHubNameSpace": "alerts-ns", "eventHubName": "pages"}]}});
        let v = view(body.to_string().as_bytes(), "/x/ops-ñ").expect("view");
        assert!(!v.enabled);
        let labels: Vec<String> = v.channels.iter().map(Channel::label).collect();
        assert_eq!(labels, vec!["event hub:alerts-ns/pages", "logic app:incident-bridge", "voice:+4477…0123"]);
        let v = view(br#"{"properties": {}}"#, "/subscriptions/s/x/actionGroups/bare").expect("view");
        assert_eq!((v.name.as_str(), v.channels.len()), ("bare", 0));
    }
}
