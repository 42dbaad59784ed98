//! A seeded CloudMonitor contact book and the alert logs that name its groups,
//! served by the signature-checking stand-in (tests/support/aliyun.rs) in the API
//! reference's shapes: DescribeContactGroupList (`ContactGroupList.ContactGroup[]`
//! with each group's `Contacts.Contact[]` names), DescribeContactList
//! (`Contacts.Contact[]` with `Channels`, `ChannelsState` and `ContactGroups`),
//! both paged by PageNumber with a server page smaller than asked, `Total` as a
//! number, a string or absent; DescribeAlertLogList whose logs name 0–3 contact
//! groups, now and then one the account does not have.
//!
//! Group membership comes from the group's list, the contact's list, or both;
//! a contact may name a group the account no longer has. Channels: Mail, SMS,
//! DingWebHook, AliIM, Lark, WeCom, Slack, Mail and SMS sometimes PENDING.
//! The masked form of each channel is written down by the generator from how it
//! built it (README's rule), not through opsdeck's code.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::support::splitmix::Rng;

use crate::support::aliyun::Seen;

const GROUPS: [&str; 5] = ["运维组", "ECS_Group", "pagos-ñ", "dba", "oncall"];
const PEOPLE: [&str; 5] = ["Alice", "张伟", "José-ñ", "ops", "Ōta"];
const RULES: [&str; 4] = ["CPU使用率", "disco lleno-ñ", "5xx rate", "heartbeat"];
const LEVELS: [(&str, &str); 3] = [("CRITICAL", "P1"), ("WARN", "P2"), ("INFO", "P3")];
pub const MISSING_GROUP: &str = "已删除的组";

/// This generator's salt for the shared splitmix64 (`seed ^ SALT`).
const SALT: u64 = 0xC0_47AC_7500;

/// The rule for a target that is neither a mailbox nor a URL: at most four
/// characters at each end (a phone's `+` besides), at least three hidden.
fn mask_plain(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let sign = usize::from(c.first() == Some(&'+'));
    let keep = ((c.len() - sign).saturating_sub(3) / 2).min(4);
    if keep == 0 {
        return "…".into();
    }
    format!("{}…{}", c[..sign + keep].iter().collect::<String>(), c[c.len() - keep..].iter().collect::<String>())
}

#[derive(Debug, Clone)]
pub struct ContactTruth {
    pub name: String,
    /// (API key, value, PENDING) and the (kind, masked) opsdeck must show.
    pub channels: Vec<(String, String, bool, (String, String))>,
    /// Groups this contact's own list names (some not the account's).
    pub lists: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct GroupTruth {
    pub name: String,
    /// Names in the group's own `Contacts` list.
    pub listed: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AlertTruth {
    pub id: String,
    pub rule_name: String,
    pub severity: &'static str,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Estate {
    pub groups: Vec<GroupTruth>,
    pub contacts: Vec<ContactTruth>,
    pub alerts: Vec<AlertTruth>,
    /// The server's page size for the two contact lists.
    pub page: usize,
    /// 0: Total a number, 1: a string, 2: absent.
    pub total_as: u8,
    logs: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    pub severity: Option<String>,
    pub rule: String,
    pub alerts: Vec<String>,
    pub channels: Vec<(String, String)>,
}

fn channel(r: &mut Rng, key: &str, who: usize, k: usize) -> (String, String, bool, (String, String)) {
    let pending = matches!(key, "Mail" | "SMS") && r.chance(20);
    let (value, kind, masked) = match key {
        "Mail" => {
            let user = *r.pick(&["oncall", "Zoë", "équipe", "ops"]);
            let first: String = user.chars().take(1).collect();
            (format!("{user}.{who}{k}@example.cn"), "email", format!("{first}…@example.cn"))
        }
        "SMS" => {
            let n = format!("139{:08}", who * 1000 + k * 7 + r.usize(0, 99));
            let m = mask_plain(&n);
            (n, "sms", m)
        }
        "DingWebHook" => (
            format!("https://oapi.dingtalk.com/robot/send?access_token=9bf44f81{who}{k}"),
            "dingtalk",
            "https://oapi.dingtalk.com/…".to_string(),
        ),
        "AliIM" => {
            let n = format!("旺旺-{}", r.pick(&["ops", "pagos-ñ-equipo"]));
            let m = mask_plain(&n);
            (n, "aliim", m)
        }
        "Lark" => (
            format!("https://open.feishu.cn/open-apis/bot/v2/hook/{who}-{k}"),
            "lark",
            "https://open.feishu.cn/…".to_string(),
        ),
        "WeCom" => (
            format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={who}-{k}"),
            "wecom",
            "https://qyapi.weixin.qq.com/…".to_string(),
        ),
        _ => (
            format!("https://hooks.slack.com/services/T0/B{who}{k}/x"),
            "slack",
            "https://hooks.slack.com/…".to_string(),
        ),
    };
    let shown = if pending { format!("{masked} (pending activation)") } else { masked };
    (key.to_string(), value, pending, (kind.to_string(), shown))
}

impl Estate {
    pub fn generate(seed: u64, now_ms: i64) -> Estate {
        let mut r = Rng::new(seed ^ SALT);
        let group_names: Vec<String> = (0..r.usize(1, 5)).map(|k| format!("{}-{k}", GROUPS[k])).collect();
        let mut groups: Vec<GroupTruth> =
            group_names.iter().map(|n| GroupTruth { name: n.clone(), listed: vec![] }).collect();
        let contacts: Vec<ContactTruth> = (0..r.usize(0, 12))
            .map(|who| {
                let name = format!("{}-{who}", r.pick(&PEOPLE));
                let keys = ["Mail", "SMS", "DingWebHook", "AliIM", "Lark", "WeCom", "Slack"];
                let mut channels = Vec::new();
                for (k, key) in keys.iter().enumerate() {
                    if r.chance(if k < 3 { 50 } else { 20 }) {
                        channels.push(channel(&mut r, key, who, k));
                    }
                }
                let mut lists = Vec::new();
                for g in groups.iter_mut() {
                    if r.chance(35) {
                        // Membership said by the group, the contact, or both.
                        match r.usize(0, 2) {
                            0 => g.listed.push(name.clone()),
                            1 => lists.push(g.name.clone()),
                            _ => {
                                g.listed.push(name.clone());
                                lists.push(g.name.clone());
                            }
                        }
                    }
                }
                if r.chance(10) {
                    lists.push("旧组-stale".to_string());
                }
                ContactTruth { name, channels, lists }
            })
            .collect();
        let mut logs = Vec::new();
        let mut alerts = Vec::new();
        for k in 0..r.usize(0, 8) {
            let rule_name = format!("{}-{k}", r.pick(&RULES));
            let rule_id = format!("rule-{seed}-{k}");
            let (level, severity) = *r.pick(&LEVELS);
            let mut named: Vec<String> = Vec::new();
            for _ in 0..r.usize(0, 3) {
                let g = r.pick(&group_names).clone();
                if !named.contains(&g) {
                    named.push(g);
                }
            }
            if r.chance(8) {
                named.push(MISSING_GROUP.to_string());
            }
            let instance = format!("i-{seed}-{k}");
            logs.push(json!({
                "RuleId": rule_id, "RuleName": rule_name, "MetricName": "cpu_total", "Namespace": "acs_ecs_dashboard",
                "Level": level, "LevelChange": format!("OK->{level}"), "EventName": "AlertTriggered",
                "AlertTime": now_ms - 600_000 + k as i64 * 1000,
                "ContactGroups": named,
                "Dimensions": [{"Key": "userId", "Value": "127067667954****"}, {"Key": "instanceId", "Value": instance}],
                "Escalation": {"Expression": "$Average>=80", "Times": 1, "Level": level},
            }));
            alerts.push(AlertTruth {
                id: format!("{rule_id}:instanceId={instance}"),
                rule_name,
                severity,
                groups: named,
            });
        }
        Estate { groups, contacts, alerts, page: r.usize(1, 5), total_as: r.usize(0, 2) as u8, logs }
    }

    /// Members of `group` from both lists.
    fn members<'a>(&'a self, group: &'a GroupTruth) -> BTreeSet<&'a str> {
        let mut m: BTreeSet<&str> = group.listed.iter().map(String::as_str).collect();
        m.extend(self.contacts.iter().filter(|c| c.lists.contains(&group.name)).map(|c| c.name.as_str()));
        m
    }

    pub fn expected_routes(&self) -> BTreeMap<String, RouteView> {
        let mut users: BTreeMap<&str, Vec<&AlertTruth>> = BTreeMap::new();
        for a in &self.alerts {
            for g in &a.groups {
                users.entry(g).or_default().push(a);
            }
        }
        users
            .into_iter()
            .map(|(g, alerts)| {
                let mut ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
                ids.sort();
                let mut rules: Vec<&str> = alerts.iter().map(|a| a.rule_name.as_str()).collect();
                rules.sort();
                rules.dedup();
                let mut rule = format!("alert rules: {}", rules.join(", "));
                let channels = match self.groups.iter().find(|x| x.name == g) {
                    Some(group) => {
                        let members = self.members(group);
                        let mut c: Vec<(String, String)> = self
                            .contacts
                            .iter()
                            .filter(|c| members.contains(c.name.as_str()))
                            .flat_map(|c| c.channels.iter().map(|x| x.3.clone()))
                            .collect();
                        c.sort();
                        c
                    }
                    None => {
                        rule.push_str(" (contact group not found)");
                        vec![]
                    }
                };
                let sev = alerts[0].severity;
                let view = RouteView {
                    severity: alerts.iter().all(|a| a.severity == sev).then(|| sev.to_string()),
                    rule,
                    alerts: ids,
                    channels,
                };
                (g.to_string(), view)
            })
            .collect()
    }

    /// Alert id → its route: the groups its log names, as the log lists them.
    pub fn expected_alert_routes(&self) -> BTreeMap<String, String> {
        self.alerts.iter().map(|a| (a.id.clone(), a.groups.join(","))).collect()
    }

    /// Pages of one contact list of `n` items: until Total is reached, or (no Total)
    /// until a short page, which for a multiple of the page size is one more, empty.
    pub fn pages_for(&self, n: usize) -> usize {
        let full = n.div_ceil(self.page);
        match self.total_as {
            2 if n.is_multiple_of(self.page) => full + 1,
            _ => full.max(1),
        }
    }

    /// CloudMonitor calls of one poll: the alert log page, and the two contact
    /// lists when any alert names a group.
    pub fn expected_calls(&self) -> usize {
        let contacts = if self.alerts.iter().any(|a| !a.groups.is_empty()) {
            self.pages_for(self.groups.len()) + self.pages_for(self.contacts.len())
        } else {
            0
        };
        1 + contacts
    }

    fn page(&self, req: &Seen, items: Vec<Value>, key: &str) -> Value {
        let asked: usize = req.param("PageSize").and_then(|s| s.parse().ok()).unwrap_or(100);
        let number: usize = req.param("PageNumber").and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
        let size = asked.min(self.page).max(1);
        let part: Vec<Value> = items.iter().skip((number - 1) * size).take(size).cloned().collect();
        let mut out = json!({"RequestId": format!("contacts-{number}"), "Code": "200", "Success": true,
            "PageNumber": number, "PageSize": size, key: {key.trim_end_matches('s').trim_end_matches("List"): part}});
        match self.total_as {
            0 => out["Total"] = json!(items.len()),
            1 => out["Total"] = json!(items.len().to_string()),
            _ => {}
        }
        out
    }

    pub fn answer(&self, req: &Seen) -> (u16, String) {
        match req.action.as_str() {
            "DescribeAlertLogList" => (
                200,
                json!({"AlertLogList": self.logs, "PageNumber": 1, "PageSize": 100, "Code": 200, "Success": true})
                    .to_string(),
            ),
            "DescribeContactGroupList" => {
                let items = self
                    .groups
                    .iter()
                    .map(|g| json!({"Name": g.name, "Describe": "告警组", "EnableSubscribed": true, "Contacts": {"Contact": g.listed}}))
                    .collect();
                (200, self.page(req, items, "ContactGroupList").to_string())
            }
            "DescribeContactList" => {
                let items = self
                    .contacts
                    .iter()
                    .map(|c| {
                        let channels: serde_json::Map<String, Value> =
                            c.channels.iter().map(|(k, v, _, _)| (k.clone(), json!(v))).collect();
                        let state: serde_json::Map<String, Value> = c
                            .channels
                            .iter()
                            .map(|(k, _, p, _)| (k.clone(), json!(if *p { "PENDING" } else { "OK" })))
                            .collect();
                        json!({"Name": c.name, "Desc": "", "Lang": "zh-cn", "Channels": channels, "ChannelsState": state,
                            "ContactGroups": {"ContactGroup": c.lists}})
                    })
                    .collect();
                (200, self.page(req, items, "Contacts").to_string())
            }
            // The region has no scaling groups: one empty page.
            "DescribeScalingGroups" => (
                200,
                json!({"ScalingGroups": {"ScalingGroup": []}, "TotalCount": 0, "PageNumber": 1, "PageSize": 50})
                    .to_string(),
            ),
            other => (404, format!(r#"{{"Code":"InvalidAction.NotFound","Message":"{other}"}}"#)),
        }
    }
}
