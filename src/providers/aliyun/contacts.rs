//! Where CloudMonitor alerts page: the contact groups an alert log names
//! (`ContactGroups`, already each alert's `route`) → the account's contact groups
//! (DescribeContactGroupList) and contacts (DescribeContactList, each with the
//! groups it belongs to and its channels: mail, SMS, DingTalk robot, AliIM, and
//! Lark / WeCom / Slack where the account has them), masked.
//!
//! Both lists are account-wide and read whole, page by page, once a poll, and only
//! when an alert names a contact group. A group an alert names that the account
//! does not have is a route with no channels that says so.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::client::{Client, Product};
use super::json;
use crate::model::{Alert, Channel, CloudKind, NotificationRoute, Severity, SourceId};
use crate::providers::ProviderError;

/// Page size asked for; the server may use less.
pub const PAGE_SIZE: u32 = 100;
const MAX_PAGES: u32 = 50;

/// A contact group as the account has it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Book {
    /// Group name → its members' channels (sorted).
    pub groups: BTreeMap<String, Vec<Channel>>,
}

/// The receivers an alert names in its `route` (comma-separated contact groups).
pub fn named(alert: &Alert) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for g in alert.route.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// Every page of a contacts API, by PageNumber, until `Total` is reached or a
/// page comes back short.
async fn pages(client: &Client, action: &str, items_of: fn(&Value) -> &[Value]) -> Result<Vec<Value>, ProviderError> {
    let mut out = Vec::new();
    for page in 1..=MAX_PAGES {
        let v = client
            .read(Product::Cms, action, &[("PageNumber", page.to_string()), ("PageSize", PAGE_SIZE.to_string())])
            .await?;
        let items = items_of(&v);
        out.extend(items.iter().cloned());
        let total = json::count(&v, "Total");
        let size = json::count(&v, "PageSize").filter(|n| *n > 0).unwrap_or(PAGE_SIZE);
        let done = match total {
            Some(t) => out.len() >= t as usize,
            None => (items.len() as u32) < size,
        };
        if items.is_empty() || done {
            return Ok(out);
        }
    }
    Err(ProviderError::BadResponse(format!("{action}: more than {MAX_PAGES} pages")))
}

/// The kind of a contact channel key.
fn kind_of(key: &str) -> String {
    match key.to_ascii_lowercase().as_str() {
        "mail" => "email".into(),
        "sms" => "sms".into(),
        "dingwebhook" => "dingtalk".into(),
        "aliim" => "aliim".into(),
        "lark" | "feishu" | "larkwebhook" => "lark".into(),
        "wecom" | "wecomwebhook" | "weixin" => "wecom".into(),
        "slack" | "slackwebhook" => "slack".into(),
        other => other.to_string(),
    }
}

/// A contact's channels, masked; one still waiting for activation says so.
pub fn channels_of(contact: &Value) -> Vec<Channel> {
    let state = contact.get("ChannelsState");
    let mut out = Vec::new();
    let Some(channels) = contact.get("Channels").and_then(Value::as_object) else { return out };
    for (key, value) in channels {
        let Some(target) = value.as_str().map(str::trim).filter(|t| !t.is_empty()) else { continue };
        let mut c = Channel::masked(&kind_of(key), target);
        if state.and_then(|s| json::text(s, key)).is_some_and(|s| s.trim().eq_ignore_ascii_case("PENDING")) {
            c.target.push_str(" (pending activation)");
        }
        out.push(c);
    }
    out
}

/// Group names of one group-list item: `{"Name": .., "Contacts": {"Contact": [..]}}`
/// or, in the older shape, the name alone.
fn group_item(item: &Value) -> Option<(String, Vec<String>)> {
    match item {
        Value::String(name) => Some((name.clone(), vec![])),
        _ => {
            let name = json::text(item, "Name")?;
            let members = json::list(item, "Contacts", "Contact").iter().filter_map(|c| c.as_str().map(String::from));
            Some((name, members.collect()))
        }
    }
}

/// The account's contact book from the two lists.
pub fn book(group_items: &[Value], contacts: &[Value]) -> Book {
    let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, m) in group_items.iter().filter_map(group_item) {
        members.entry(name).or_default().extend(m);
    }
    let mut by_name: BTreeMap<String, Vec<Channel>> = BTreeMap::new();
    for c in contacts {
        let Some(name) = json::text(c, "Name") else { continue };
        for g in json::list(c, "ContactGroups", "ContactGroup").iter().filter_map(Value::as_str) {
            // Only groups the account lists: a contact's stale group name is not a group.
            if let Some(m) = members.get_mut(g) {
                m.insert(name.clone());
            }
        }
        by_name.entry(name).or_default().extend(channels_of(c));
    }
    let groups = members
        .into_iter()
        .map(|(g, names)| {
            let mut chans: Vec<Channel> = names.iter().filter_map(|n| by_name.get(n)).flatten().cloned().collect();
            chans.sort();
            (g, chans)
        })
        .collect();
    Book { groups }
}

/// Both lists, read whole.
pub async fn read_book(client: &Client) -> Result<Book, ProviderError> {
    let groups = pages(client, "DescribeContactGroupList", |v| {
        match json::list(v, "ContactGroupList", "ContactGroup") {
            // The older answer lists names only, under ContactGroups.
            [] => json::list(v, "ContactGroups", "ContactGroup"),
            items => items,
        }
    })
    .await?;
    let contacts = pages(client, "DescribeContactList", |v| json::list(v, "Contacts", "Contact")).await?;
    Ok(book(&groups, &contacts))
}

/// The routes of `alerts` through `book`: one per contact group an alert names.
pub fn routes(source: &SourceId, alerts: &[Alert], book: &Book) -> Vec<NotificationRoute> {
    let mut users: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
    for a in alerts {
        for g in named(a) {
            users.entry(g).or_default().push(a);
        }
    }
    users
        .into_iter()
        .map(|(group, alerts)| {
            let mut ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
            ids.sort();
            ids.dedup();
            let mut rules: Vec<&str> = alerts.iter().map(|a| a.labels.get("rule").unwrap_or(a.id.as_str())).collect();
            rules.sort();
            rules.dedup();
            let mut rule = format!("alert rules: {}", rules.join(", "));
            let channels = match book.groups.get(group) {
                Some(c) => c.clone(),
                None => {
                    rule.push_str(" (contact group not found)");
                    vec![]
                }
            };
            NotificationRoute {
                source: source.clone(),
                cloud: Some(CloudKind::Aliyun),
                severity: one_severity(alerts.iter().map(|a| a.severity)),
                receiver: group.to_string(),
                rule,
                alerts: ids,
                channels,
                firing_now: None,
            }
        })
        .collect()
}

fn one_severity(mut all: impl Iterator<Item = Severity>) -> Option<Severity> {
    let first = all.next()?;
    all.all(|s| s == first).then_some(first)
}

/// The routes of `alerts`, reading the contact book only when an alert names a group.
pub async fn read(
    client: &Client,
    source: &SourceId,
    alerts: &[Alert],
) -> Result<Vec<NotificationRoute>, ProviderError> {
    if alerts.iter().all(|a| named(a).is_empty()) {
        return Ok(vec![]);
    }
    Ok(routes(source, alerts, &read_book(client).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channels_by_kind_masked_pending_marked() {
        let c = json!({"Name": "Alice", "Channels": {"Mail": "alice@example.com", "SMS": "13800138000",
            "DingWebHook": "https://oapi.dingtalk.com/robot/send?access_token=9bf44f8189597d07", "AliIM": "", "Lark": "https://open.feishu.cn/open-apis/bot/v2/hook/x"},
            "ChannelsState": {"Mail": "PENDING", "SMS": "OK"}});
        let mut labels: Vec<String> = channels_of(&c).iter().map(Channel::label).collect();
        labels.sort();
        assert_eq!(
            labels,
            vec![
                "dingtalk:https://oapi.dingtalk.com/…",
                "email:a…@example.com (pending activation)",
                "lark:https://open.feishu.cn/…",
                "sms:1380…8000",
            ]
        );
    }

    #[test]
    fn groups_from_both_lists_and_a_missing_group_says_so() {
        let groups = [json!({"Name": "ECS_Group", "Contacts": {"Contact": ["Alice"]}}), json!({"Name": "空组"})];
        let contacts = [
            json!({"Name": "Alice", "Channels": {"Mail": "alice@example.com"}}),
            json!({"Name": "Bob", "Channels": {"SMS": "13900139000"}, "ContactGroups": {"ContactGroup": ["ECS_Group", "gone"]}}),
        ];
        let b = book(&groups, &contacts);
        let labels = |g: &str| b.groups[g].iter().map(Channel::label).collect::<Vec<_>>();
        assert_eq!(labels("ECS_Group"), vec!["email:a…@example.com", "sms:1390…9000"]);
        assert!(labels("空组").is_empty());
        assert!(!b.groups.contains_key("gone"));
        let src = SourceId::new("ali/cn");
        let alert = |id: &str, route: &str| Alert {
            id: id.into(),
            source: src.clone(),
            cloud: Some(CloudKind::Aliyun),
            severity: Severity::P1,
            title: String::new(),
            resource: String::new(),
            started_at: chrono::DateTime::UNIX_EPOCH,
            state: crate::model::AlertState::Firing,
            route: route.into(),
            labels: Default::default(),
        };
        let r = routes(&src, &[alert("a", "ECS_Group,gone"), alert("b", "ECS_Group")], &b);
        let seen: Vec<(&str, &str, usize)> =
            r.iter().map(|x| (x.receiver.as_str(), x.rule.as_str(), x.channels.len())).collect();
        assert_eq!(
            seen,
            vec![("ECS_Group", "alert rules: a, b", 2), ("gone", "alert rules: a (contact group not found)", 0)]
        );
        assert_eq!(r[0].alerts, vec!["a", "b"]);
        assert_eq!(r[0].severity, Some(Severity::P1));
    }
}
