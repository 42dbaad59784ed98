//! A seeded estate of where Azure alerts page, and a local ARM + Entra ID serving
//! it in the real API shapes: the Alerts Management list (each alert's
//! `essentials.alertRule` a rule id, absent, or a portal link), metric alert rules
//! (`properties.actions[].actionGroupId`, api-version 2018-03-01), scheduled query
//! rules (`properties.actions.actionGroups[]`, 2021-08-01), activity log alerts
//! (`properties.actions.actionGroups[].actionGroupId`, 2020-10-01), and action
//! groups (Microsoft.Insights/actionGroups 2023-01-01) with receivers of every kind
//! the spec lists, each list present, empty or absent, email and SMS receivers
//! sometimes Disabled, groups sometimes disabled; several rules sharing a group,
//! a rule with no action group, non-ASCII names; now and then a rule naming an
//! action group that does not exist (404).
//!
//! The masked form of each address is written down by the generator from how it
//! built it (a phone keeps its first 5 and last 4 characters, a mailbox its first
//! letter and domain, a URL its scheme and host), not through opsdeck's code.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::splitmix::Rng;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const TENANT: &str = "4d2c1b0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d";
pub const CLIENT: &str = "1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d";
pub const SECRET: &str = "routes-s3cr3t";
pub const TOKEN: &str = "routes-token-from-the-local-entra";

const GROUP_NAMES: [&str; 5] = ["oncall-ñ", "pager", "運用チーム", "dba", "sre escalation"];
const RULE_NAMES: [&str; 5] = ["cpu alert", "disco lleno-ñ", "応答遅延", "5xx rate", "heartbeat"];
const MAILBOXES: [(&str, &str); 3] = [("oncall", "contoso.com"), ("Zoë", "bücher.example"), ("équipe", "example.org")];
const KINDS: [&str; 11] = [
    "emailReceivers",
    "smsReceivers",
    "voiceReceivers",
    "webhookReceivers",
    "logicAppReceivers",
    "azureAppPushReceivers",
    "automationRunbookReceivers",
    "azureFunctionReceivers",
    "armRoleReceivers",
    "eventHubReceivers",
    "itsmReceivers",
];

/// This generator's salt for the shared splitmix64 (`seed ^ SALT`).
const SALT: u64 = 0xA2_0C7E_5EED;

#[derive(Debug, Clone)]
pub struct ReceiverTruth {
    /// The receiver as ARM lists it.
    pub json: Value,
    /// (kind, target) as opsdeck must show it.
    pub channel: (String, String),
}

#[derive(Debug, Clone)]
pub struct GroupTruth {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Per receiver kind: None = the key is absent; Some(list), possibly empty.
    pub receivers: Vec<(&'static str, Option<Vec<ReceiverTruth>>)>,
    /// Not there: ARM answers 404.
    pub missing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Metric,
    ScheduledQuery,
    ActivityLog,
}

#[derive(Debug, Clone)]
pub struct RuleTruth {
    pub id: String,
    pub name: String,
    pub kind: RuleKind,
    /// Indexes into the groups, in the rule's order.
    pub groups: Vec<usize>,
}

#[derive(Debug, Clone)]
pub enum AlertRule {
    Rule(usize),
    Absent,
    /// A log search alert of the classic kind: a portal link, not a rule id.
    Link,
}

#[derive(Debug, Clone)]
pub struct AlertTruth {
    pub guid: String,
    pub rule: AlertRule,
    /// Sev0..Sev4.
    pub severity: u8,
}

impl AlertTruth {
    pub fn severity_label(&self) -> &'static str {
        ["P0", "P1", "P2", "P3", "P3"][usize::from(self.severity)]
    }
}

#[derive(Debug, Clone)]
pub struct Estate {
    pub sub: String,
    pub groups: Vec<GroupTruth>,
    pub rules: Vec<RuleTruth>,
    pub alerts: Vec<AlertTruth>,
}

/// One route as opsdeck reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    pub severity: Option<String>,
    pub rule: String,
    pub alerts: Vec<String>,
    pub channels: Vec<(String, String)>,
}

fn guid(r: &mut Rng) -> String {
    let (a, b) = (r.next(), r.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

fn phone(r: &mut Rng, n: usize) -> (String, String, String) {
    let cc = r.pick(&["1", "34", "81"]).to_string();
    let number = format!("{:010}", 5_550_100_000u64 + n as u64 * 7919 + r.next() % 1000);
    let full = format!("+{cc}{number}");
    let masked = format!("{}…{}", &full[..5], &full[full.len() - 4..]);
    (cc, number, masked)
}

fn receiver(r: &mut Rng, kind: &str, n: usize) -> ReceiverTruth {
    let name = format!("{kind}-{n}");
    let disabled = r.chance(20);
    let status = if disabled { "Disabled" } else { "Enabled" };
    let suffix = if disabled { " (disabled)" } else { "" };
    let mail = |r: &mut Rng| {
        let (user, domain) = *r.pick(&MAILBOXES);
        let first: String = user.chars().take(1).collect();
        (format!("{user}.{n}@{domain}"), format!("{first}…@{domain}"))
    };
    let (json, channel) = match kind {
        "emailReceivers" => {
            let (addr, masked) = mail(r);
            (
                json!({"name": name, "emailAddress": addr, "useCommonAlertSchema": true, "status": status}),
                ("email", format!("{masked}{suffix}")),
            )
        }
        "smsReceivers" => {
            let (cc, number, masked) = phone(r, n);
            (
                json!({"name": name, "countryCode": cc, "phoneNumber": number, "status": status}),
                ("sms", format!("{masked}{suffix}")),
            )
        }
        "voiceReceivers" => {
            let (cc, number, masked) = phone(r, n);
            (json!({"name": name, "countryCode": cc, "phoneNumber": number}), ("voice", masked))
        }
        "webhookReceivers" => (
            json!({"name": name, "serviceUri": format!("https://hooks.example.com/services/T{n}/s3cr3t?x=1"), "useCommonAlertSchema": false}),
            ("webhook", "https://hooks.example.com/…".to_string()),
        ),
        "logicAppReceivers" => (
            json!({"name": name, "resourceId": format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Logic/workflows/incident-bridge-{n}"),
                "callbackUrl": "https://prod-27.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=s3cr3t", "useCommonAlertSchema": true}),
            ("logic app", format!("incident-bridge-{n}")),
        ),
        "azureAppPushReceivers" => {
            let (addr, masked) = mail(r);
            (json!({"name": name, "emailAddress": addr}), ("azure app push", masked))
        }
        "automationRunbookReceivers" => (
            json!({"name": name, "automationAccountId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Automation/automationAccounts/ops",
                "runbookName": format!("restart-web-{n}"), "webhookResourceId": "/subscriptions/s/x", "isGlobalRunbook": false,
                "serviceUri": "https://s1events.azure-automation.net/webhooks?token=s3cr3t"}),
            ("runbook", format!("restart-web-{n}")),
        ),
        "azureFunctionReceivers" => (
            json!({"name": name, "functionAppResourceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/fn",
                "functionName": format!("page-oncall-{n}"), "httpTriggerUrl": "https://fn.azurewebsites.net/api/page?code=s3cr3t"}),
            ("azure function", format!("page-oncall-{n}")),
        ),
        "armRoleReceivers" => (
            json!({"name": format!("Monitoring Contributor {n}"), "roleId": "749f88d5-cbae-40b8-bcfc-e573ddc772fa", "useCommonAlertSchema": true}),
            ("arm role", format!("Monitoring Contributor {n}")),
        ),
        "eventHubReceivers" => (
            json!({"name": name, "eventHubNameSpace": "alerts-ns", "eventHubName": format!("pages-{n}"), "subscriptionId": "s", "tenantId": "t"}),
            ("event hub", format!("alerts-ns/pages-{n}")),
        ),
        _ => (
            json!({"name": name, "workspaceId": "5def922a-3ed4-49c1-b9fd-05ec533819a3|55dfd1f8-7e59-4f89-bf56-4c82f5ace23c",
                "connectionId": "a3b9076c-ce8e-434e-85b4-aff10cb3c8f1", "ticketConfiguration": "{}", "region": "westcentralus"}),
            ("itsm", name.clone()),
        ),
    };
    ReceiverTruth { json, channel: (channel.0.to_string(), channel.1) }
}

impl Estate {
    pub fn generate(seed: u64) -> Estate {
        let mut r = Rng::new(seed ^ SALT);
        let sub = guid(&mut r);
        let n_groups = r.usize(1, 5);
        // Every ninth seed, the last group is named by a rule and does not exist.
        let missing = seed % 9 == 4;
        let groups: Vec<GroupTruth> = (0..n_groups)
            .map(|k| {
                let name = format!("{}-{k}", r.pick(&GROUP_NAMES));
                let mut n = 0;
                let receivers = KINDS
                    .iter()
                    .map(|kind| {
                        let list = match r.usize(0, 9) {
                            0..=3 => None,
                            4 => Some(vec![]),
                            _ => Some(
                                (0..r.usize(1, 2))
                                    .map(|_| {
                                        n += 1;
                                        receiver(&mut r, kind, n)
                                    })
                                    .collect(),
                            ),
                        };
                        (*kind, list)
                    })
                    .collect();
                GroupTruth {
                    id: format!("/subscriptions/{sub}/resourceGroups/rg-monitor/providers/microsoft.insights/actionGroups/{name}"),
                    name,
                    enabled: !r.chance(15),
                    receivers,
                    missing: missing && k == n_groups - 1,
                }
            })
            .collect();
        let rules: Vec<RuleTruth> = (0..r.usize(1, 5))
            .map(|k| {
                let kind =
                    *r.pick(&[RuleKind::Metric, RuleKind::Metric, RuleKind::ScheduledQuery, RuleKind::ActivityLog]);
                let name = format!("{}-{k}", r.pick(&RULE_NAMES));
                let provider = match kind {
                    RuleKind::Metric => "Microsoft.Insights/metricAlerts",
                    RuleKind::ScheduledQuery => "Microsoft.Insights/scheduledQueryRules",
                    RuleKind::ActivityLog => "Microsoft.Insights/activityLogAlerts",
                };
                let mut gs: Vec<usize> = Vec::new();
                for _ in 0..r.usize(0, 3) {
                    let g = r.usize(0, groups.len() - 1);
                    if !gs.contains(&g) {
                        gs.push(g);
                    }
                }
                RuleTruth {
                    id: format!("/subscriptions/{sub}/resourceGroups/rg-{k}/providers/{provider}/{name}"),
                    name,
                    kind,
                    groups: gs,
                }
            })
            .collect();
        let mut rules = rules;
        if missing {
            // The missing group is named by the first rule, which an alert uses.
            let last = groups.len() - 1;
            if !rules[0].groups.contains(&last) {
                rules[0].groups.push(last);
            }
        }
        let mut alerts: Vec<AlertTruth> = (0..r.usize(0, 10))
            .map(|_| AlertTruth {
                guid: guid(&mut r),
                rule: match r.usize(0, 9) {
                    0 => AlertRule::Absent,
                    1 => AlertRule::Link,
                    _ => AlertRule::Rule(r.usize(0, rules.len() - 1)),
                },
                severity: r.usize(0, 4) as u8,
            })
            .collect();
        if missing {
            alerts.push(AlertTruth { guid: guid(&mut r), rule: AlertRule::Rule(0), severity: 1 });
        }
        Estate { sub, groups, rules, alerts }
    }

    pub fn missing_group(&self) -> Option<&GroupTruth> {
        self.groups.iter().find(|g| g.missing)
    }

    /// The alert ids of a rule's alerts, and of the alerts whose rule is read.
    fn rule_of(&self, a: &AlertTruth) -> Option<&RuleTruth> {
        match a.rule {
            AlertRule::Rule(k) => Some(&self.rules[k]),
            _ => None,
        }
    }

    /// receiver → route, when every group can be read.
    pub fn expected_routes(&self) -> BTreeMap<String, RouteView> {
        let mut out = BTreeMap::new();
        for (g, group) in self.groups.iter().enumerate() {
            let users: Vec<&AlertTruth> =
                self.alerts.iter().filter(|a| self.rule_of(a).is_some_and(|r| r.groups.contains(&g))).collect();
            if users.is_empty() {
                continue;
            }
            let mut alerts: Vec<String> = users.iter().map(|a| a.guid.clone()).collect();
            alerts.sort();
            let mut rules: Vec<String> = users.iter().filter_map(|a| self.rule_of(a)).map(|r| r.name.clone()).collect();
            rules.sort();
            rules.dedup();
            let sev = users[0].severity_label();
            let mut rule = format!("alert rules: {}", rules.join(", "));
            if !group.enabled {
                rule.push_str(" (action group disabled)");
            }
            let mut channels: Vec<(String, String)> =
                group.receivers.iter().flat_map(|(_, l)| l.iter().flatten()).map(|r| r.channel.clone()).collect();
            channels.sort();
            out.insert(
                group.name.clone(),
                RouteView {
                    severity: users.iter().all(|a| a.severity_label() == sev).then(|| sev.to_string()),
                    rule,
                    alerts,
                    channels,
                },
            );
        }
        out
    }

    /// alert id → its `route`: its rule's groups by name, or the monitor service
    /// when its rule is not read (or, with `routes_read` false, nothing was).
    pub fn expected_alert_routes(&self, routes_read: bool) -> BTreeMap<String, String> {
        self.alerts
            .iter()
            .map(|a| {
                let route = match self.rule_of(a) {
                    Some(r) if routes_read => {
                        r.groups.iter().map(|g| self.groups[*g].name.as_str()).collect::<Vec<_>>().join(", ")
                    }
                    _ => "Platform".to_string(),
                };
                (a.guid.clone(), route)
            })
            .collect()
    }

    /// ARM calls of one poll when every group can be read: the alerts page, each
    /// rule an alert names once, each group those rules name once, the cost query.
    pub fn expected_calls(&self) -> u32 {
        let mut rules: Vec<usize> =
            self.alerts.iter().filter_map(|a| if let AlertRule::Rule(k) = a.rule { Some(k) } else { None }).collect();
        rules.sort();
        rules.dedup();
        let mut groups: Vec<usize> = rules.iter().flat_map(|k| self.rules[*k].groups.clone()).collect();
        groups.sort();
        groups.dedup();
        1 + rules.len() as u32 + groups.len() as u32 + 1
    }

    fn alert_json(&self, a: &AlertTruth) -> Value {
        let rule = match &a.rule {
            AlertRule::Rule(k) => json!(self.rules[*k].id),
            AlertRule::Absent => Value::Null,
            AlertRule::Link => {
                json!("https://portal.example/#Workspace/overview/settings/details/Edit Alert Rule/details")
            }
        };
        json!({
            "id": format!("/subscriptions/{}/providers/Microsoft.AlertsManagement/alerts/{}", self.sub, a.guid),
            "type": "Microsoft.AlertsManagement/alerts",
            "name": self.rule_of(a).map_or("classic", |r| r.name.as_str()),
            "properties": {"essentials": {
                "severity": format!("Sev{}", a.severity), "signalType": "Metric", "alertState": "New",
                "monitorCondition": "Fired", "monitorService": "Platform", "alertRule": rule,
                "startDateTime": "2026-11-30T10:00:00Z", "lastModifiedDateTime": "2026-11-30T10:05:00Z",
            }}
        })
    }

    fn rule_json(&self, r: &RuleTruth) -> Value {
        let ids: Vec<&str> = r.groups.iter().map(|g| self.groups[*g].id.as_str()).collect();
        let (kind, props) = match r.kind {
            RuleKind::Metric => (
                "Microsoft.Insights/metricAlerts",
                json!({"severity": 2, "enabled": true, "scopes": [], "evaluationFrequency": "PT1M", "windowSize": "PT5M",
                    "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": []},
                    "actions": ids.iter().map(|id| json!({"actionGroupId": id, "webHookProperties": {}})).collect::<Vec<_>>()}),
            ),
            RuleKind::ScheduledQuery => (
                "Microsoft.Insights/scheduledQueryRules",
                json!({"severity": 3, "enabled": true, "scopes": [], "criteria": {"allOf": []},
                    "actions": {"actionGroups": ids, "customProperties": {"team": "pagos-ñ"}}}),
            ),
            RuleKind::ActivityLog => (
                "Microsoft.Insights/ActivityLogAlerts",
                json!({"enabled": true, "scopes": [], "condition": {"allOf": []},
                    "actions": {"actionGroups": ids.iter().map(|id| json!({"actionGroupId": id, "webhookProperties": {}})).collect::<Vec<_>>()}}),
            ),
        };
        json!({"id": r.id, "name": r.name, "type": kind, "location": "global", "properties": props})
    }

    fn group_json(g: &GroupTruth) -> Value {
        let mut props = json!({"groupShortName": "ops", "enabled": g.enabled});
        for (kind, list) in &g.receivers {
            if let Some(list) = list {
                props[*kind] = json!(list.iter().map(|r| r.json.clone()).collect::<Vec<_>>());
            }
        }
        json!({"id": g.id, "type": "Microsoft.Insights/ActionGroups", "name": g.name, "location": "Global", "tags": {}, "properties": props})
    }
}

fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {"code": code, "message": message}}))
}

struct RoutesArm(Arc<Estate>);

impl RoutesArm {
    fn answer(&self, req: &Request) -> ResponseTemplate {
        let e = &self.0;
        let path = percent_encoding::percent_decode_str(req.url.path()).decode_utf8_lossy().into_owned();
        if req.method.as_str() == "POST" && path == format!("/{TENANT}/oauth2/v2.0/token") {
            let body = String::from_utf8_lossy(&req.body);
            return if body.contains(&format!("client_id={CLIENT}")) && body.contains(&format!("client_secret={SECRET}"))
            {
                ResponseTemplate::new(200)
                    .set_body_json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN}))
            } else {
                ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"}))
            };
        }
        if req.headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(format!("Bearer {TOKEN}").as_str()) {
            return arm_error(401, "AuthenticationFailed", "no or wrong bearer token");
        }
        let api = req.url.query_pairs().find(|(k, _)| k == "api-version").map(|(_, v)| v.into_owned());
        let api = api.as_deref().unwrap_or("");
        let lower = path.to_lowercase();
        let sub = e.sub.to_lowercase();
        if req.method.as_str() == "POST"
            && lower == format!("/subscriptions/{sub}/providers/microsoft.costmanagement/query")
        {
            return ResponseTemplate::new(204);
        }
        if req.method.as_str() != "GET" {
            return arm_error(405, "MethodNotAllowed", &path);
        }
        if lower == format!("/subscriptions/{sub}/providers/microsoft.alertsmanagement/alerts") && api == "2019-03-01" {
            let value: Vec<Value> = e.alerts.iter().map(|a| e.alert_json(a)).collect();
            return ResponseTemplate::new(200).set_body_json(json!({"value": value}));
        }
        if let Some(r) = e.rules.iter().find(|r| r.id.to_lowercase() == lower) {
            let want = match r.kind {
                RuleKind::Metric => "2018-03-01",
                RuleKind::ScheduledQuery => "2021-08-01",
                RuleKind::ActivityLog => "2020-10-01",
            };
            return if api == want {
                ResponseTemplate::new(200).set_body_json(e.rule_json(r))
            } else {
                arm_error(400, "InvalidApiVersion", api)
            };
        }
        if let Some(g) = e.groups.iter().find(|g| g.id.to_lowercase() == lower) {
            if api != "2023-01-01" {
                return arm_error(400, "InvalidApiVersion", api);
            }
            if g.missing {
                return arm_error(
                    404,
                    "ResourceNotFound",
                    &format!(
                        "The Resource 'microsoft.insights/actionGroups/{}' under resource group 'rg-monitor' was not found.",
                        g.name
                    ),
                );
            }
            return ResponseTemplate::new(200).set_body_json(Estate::group_json(g));
        }
        arm_error(404, "ResourceNotFound", &format!("{path} was not found"))
    }
}

impl Respond for RoutesArm {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.answer(request)
    }
}

/// A local server answering for `estate` (HTTP on loopback).
pub async fn serve(estate: &Estate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any()).respond_with(RoutesArm(Arc::new(estate.clone()))).mount(&server).await;
    server
}
