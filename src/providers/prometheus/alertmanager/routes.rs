//! Alertmanager's routing, pure: the route tree and receivers of its YAML config
//! (as `GET /api/v2/status` returns it in `config.original`), Alertmanager's
//! matching semantics, and the tree as opsdeck's [`NotificationRoute`]s.
//!
//! Matching follows Alertmanager's `dispatch.Route.Match`: a node whose matchers
//! all hold is entered; its children are tried depth-first in order, the first
//! that matches ends the search unless it has `continue: true`; a node none of
//! whose children matched matches itself. Regexes are anchored (`^(?:re)$`), and
//! a label the alert lacks has the value "".

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use crate::model::{Channel, CloudKind, Labels, NotificationRoute, SourceId};
use crate::providers::shared::severity::SeverityMap;

/// Why a config could not be made into a route tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the config is not valid YAML: {0}")]
    Yaml(String),
    #[error("the config has no route")]
    NoRoute,
    #[error("the root route names no receiver")]
    NoRootReceiver,
    #[error("a route names receiver \"{0}\", which the config does not define")]
    UnknownReceiver(String),
    #[error("bad matcher {text:?}: {why}")]
    Matcher { text: String, why: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    NotEq,
    Re,
    NotRe,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::NotEq => "!=",
            Op::Re => "=~",
            Op::NotRe => "!~",
        }
    }
}

/// One label matcher of a route.
#[derive(Debug, Clone)]
pub struct LabelMatcher {
    pub name: String,
    pub op: Op,
    pub value: String,
    /// The anchored regex, for `=~` and `!~`.
    re: Option<Regex>,
}

impl PartialEq for LabelMatcher {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.op, &self.value) == (&other.name, other.op, &other.value)
    }
}

impl LabelMatcher {
    pub fn new(name: &str, op: Op, value: &str) -> Result<LabelMatcher, ConfigError> {
        let re = match op {
            Op::Re | Op::NotRe => Some(Regex::new(&format!("^(?:{value})$")).map_err(|e| ConfigError::Matcher {
                text: format!("{name}{}\"{value}\"", op.symbol()),
                why: e.to_string(),
            })?),
            Op::Eq | Op::NotEq => None,
        };
        Ok(LabelMatcher { name: name.to_string(), op, value: value.to_string(), re })
    }

    /// Whether a label value (`""` when the label is absent) satisfies it.
    pub fn matches(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (Op::Eq, _) => v == self.value,
            (Op::NotEq, _) => v != self.value,
            (Op::Re, Some(re)) => re.is_match(v),
            (Op::NotRe, Some(re)) => !re.is_match(v),
            // Built only by `new`, which always compiles a regex op's regex.
            (Op::Re | Op::NotRe, None) => false,
        }
    }

    /// As Alertmanager prints it: `name="value"`, the value quoted and escaped.
    pub fn words(&self) -> String {
        let v = self.value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        format!("{}{}\"{v}\"", self.name, self.op.symbol())
    }
}

/// Parse one entry of a route's `matchers` list: one or more matchers separated
/// by commas, optionally in braces (`{a="b", c=~"d|e"}`), values quoted or not.
pub fn parse_matchers(text: &str) -> Result<Vec<LabelMatcher>, ConfigError> {
    let bad = |why: &str| ConfigError::Matcher { text: text.to_string(), why: why.to_string() };
    let mut s = text.trim();
    if let Some(inner) = s.strip_prefix('{') {
        s = inner.strip_suffix('}').ok_or_else(|| bad("an opening brace without a closing one"))?.trim();
    }
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.trim().is_empty() {
        let r = rest.trim_start();
        let name_len = r
            .char_indices()
            .find(|&(i, c)| !(c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
            .map_or(r.len(), |(i, _)| i);
        if name_len == 0 {
            return Err(bad("expected a label name"));
        }
        let (name, after) = r.split_at(name_len);
        let after = after.trim_start();
        let (op, after) = [("=~", Op::Re), ("!~", Op::NotRe), ("!=", Op::NotEq), ("=", Op::Eq)]
            .iter()
            .find_map(|(sym, op)| after.strip_prefix(sym).map(|a| (*op, a)))
            .ok_or_else(|| bad("expected =, !=, =~ or !~ after the label name"))?;
        let after = after.trim_start();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, e)) => value.push(e),
                        None => return Err(bad("a value ends in a lone backslash")),
                    },
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| bad("a quoted value is not closed"))?;
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push(LabelMatcher::new(name, op, &value)?);
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(a) => a,
            None if after.is_empty() => after,
            None => return Err(bad("expected a comma between matchers")),
        };
    }
    Ok(out)
}

/// One node of the route tree, its receiver resolved (a node that names none
/// takes its parent's).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub receiver: String,
    pub matchers: Vec<LabelMatcher>,
    pub continues: bool,
    pub routes: Vec<Node>,
}

impl Node {
    pub fn matches_self(&self, labels: &Labels) -> bool {
        self.matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
    }

    /// The nodes an alert with `labels` is sent to, in order (Alertmanager's
    /// `Route.Match`); empty when this node itself does not match.
    pub fn route<'t>(&'t self, labels: &Labels) -> Vec<&'t Node> {
        if !self.matches_self(labels) {
            return Vec::new();
        }
        let mut all = Vec::new();
        for child in &self.routes {
            let matched = child.route(labels);
            let found = !matched.is_empty();
            all.extend(matched);
            if found && !child.continues {
                break;
            }
        }
        if all.is_empty() {
            all.push(self);
        }
        all
    }

    /// Each node with the path of nodes above it (root first), depth-first in order.
    fn walk<'t>(&'t self, path: &mut Vec<&'t Node>, out: &mut Vec<Vec<&'t Node>>) {
        path.push(self);
        out.push(path.clone());
        for child in &self.routes {
            child.walk(path, out);
        }
        path.pop();
    }
}

/// A receiver and where it sends (empty: a blackhole, alerts routed to it go nowhere).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverDef {
    pub name: String,
    pub channels: Vec<Channel>,
}

/// The routing part of an Alertmanager config.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteTree {
    pub root: Node,
    pub receivers: Vec<ReceiverDef>,
}

#[derive(Deserialize)]
struct RawConfig {
    route: Option<RawRoute>,
    #[serde(default)]
    receivers: Vec<RawReceiver>,
}

#[derive(Deserialize)]
struct RawRoute {
    #[serde(default)]
    receiver: Option<String>,
    #[serde(default)]
    matchers: Vec<String>,
    #[serde(default, rename = "match")]
    match_eq: BTreeMap<String, String>,
    #[serde(default)]
    match_re: BTreeMap<String, String>,
    #[serde(default, rename = "continue")]
    continues: bool,
    #[serde(default)]
    routes: Vec<RawRoute>,
}

#[derive(Deserialize)]
struct RawReceiver {
    name: String,
    /// Every `*_configs` list, kept as YAML: each integration has its own fields.
    #[serde(flatten)]
    rest: BTreeMap<String, serde_norway::Value>,
}

/// Parse the YAML config Alertmanager reports.
pub fn parse_config(yaml: &str) -> Result<RouteTree, ConfigError> {
    let raw: RawConfig = serde_norway::from_str(yaml).map_err(|e| ConfigError::Yaml(e.to_string()))?;
    let route = raw.route.ok_or(ConfigError::NoRoute)?;
    let root_receiver = route.receiver.clone().filter(|r| !r.is_empty()).ok_or(ConfigError::NoRootReceiver)?;
    let root = build_node(route, &root_receiver)?;
    let receivers: Vec<ReceiverDef> =
        raw.receivers.into_iter().map(|r| ReceiverDef { channels: channels(&r.rest), name: r.name }).collect();
    let mut unknown = None;
    check_receivers(&root, &receivers, &mut unknown);
    match unknown {
        Some(name) => Err(ConfigError::UnknownReceiver(name)),
        None => Ok(RouteTree { root, receivers }),
    }
}

fn check_receivers(node: &Node, receivers: &[ReceiverDef], unknown: &mut Option<String>) {
    if unknown.is_some() {
        return;
    }
    if !receivers.iter().any(|r| r.name == node.receiver) {
        *unknown = Some(node.receiver.clone());
        return;
    }
    for c in &node.routes {
        check_receivers(c, receivers, unknown);
    }
}

fn build_node(raw: RawRoute, parent_receiver: &str) -> Result<Node, ConfigError> {
    let receiver = raw.receiver.filter(|r| !r.is_empty()).unwrap_or_else(|| parent_receiver.to_string());
    let mut matchers = Vec::new();
    for text in &raw.matchers {
        matchers.extend(parse_matchers(text)?);
    }
    for (k, v) in &raw.match_eq {
        matchers.push(LabelMatcher::new(k, Op::Eq, v)?);
    }
    for (k, v) in &raw.match_re {
        matchers.push(LabelMatcher::new(k, Op::Re, v)?);
    }
    let routes = raw.routes.into_iter().map(|r| build_node(r, &receiver)).collect::<Result<_, _>>()?;
    Ok(Node { receiver, matchers, continues: raw.continues, routes })
}

/// Which field of each integration says where it sends, in order of preference;
/// the kind opsdeck shows for it. Secrets come back from Alertmanager as
/// `<secret>` and templates as `{{ ... }}`: neither names a place.
const INTEGRATIONS: &[(&str, &str, &[&str])] = &[
    ("email_configs", "email", &["to"]),
    ("webhook_configs", "webhook", &["url"]),
    ("slack_configs", "slack", &["channel", "api_url"]),
    ("pagerduty_configs", "pagerduty", &["routing_key", "service_key"]),
    ("opsgenie_configs", "opsgenie", &[]),
    ("sns_configs", "sns", &["topic_arn", "target_arn", "phone_number"]),
    ("telegram_configs", "telegram", &["chat_id"]),
    ("msteams_configs", "msteams", &["webhook_url"]),
    ("discord_configs", "discord", &["webhook_url"]),
    ("webex_configs", "webex", &["room_id"]),
    ("wechat_configs", "wechat", &["to_user", "to_party", "to_tag"]),
    ("pushover_configs", "pushover", &["user_key"]),
    ("victorops_configs", "victorops", &["routing_key"]),
];

/// The channels of one receiver: each entry of each `*_configs` list.
fn channels(rest: &BTreeMap<String, serde_norway::Value>) -> Vec<Channel> {
    let mut out = Vec::new();
    for (key, list) in rest {
        let Some(items) = list.as_sequence() else { continue };
        let Some(base) = key.strip_suffix("_configs") else { continue };
        let (kind, fields) =
            INTEGRATIONS.iter().find(|(k, ..)| k == key).map_or((base, &[][..]), |(_, kind, f)| (*kind, *f));
        for item in items {
            let target = if key == "opsgenie_configs" {
                opsgenie_responders(item)
            } else {
                fields.iter().find_map(|f| item.get(*f).and_then(place)).unwrap_or_default()
            };
            if target.is_empty() {
                out.push(Channel { kind: kind.to_string(), target: String::new() });
            } else if kind == "email" {
                // `to` may list several addresses: each masked on its own, so the
                // second is not left whole behind the first's domain.
                out.extend(
                    target.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| Channel::masked(kind, t)),
                );
            } else {
                out.push(Channel::masked(kind, &target));
            }
        }
    }
    out.sort();
    out
}

/// A field's value when it names a place: not a secret, not a template, not empty.
fn place(v: &serde_norway::Value) -> Option<String> {
    let s = match v {
        serde_norway::Value::String(s) => s.clone(),
        serde_norway::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let s = s.trim();
    (!s.is_empty() && s != "<secret>" && !s.contains("{{")).then(|| s.to_string())
}

/// Opsgenie sends to responders (teams, users, schedules), not to an address.
fn opsgenie_responders(item: &serde_norway::Value) -> String {
    let Some(list) = item.get("responders").and_then(|r| r.as_sequence()) else { return String::new() };
    let names: Vec<String> = list
        .iter()
        .filter_map(|r| {
            let kind = r.get("type").and_then(place).unwrap_or_else(|| "responder".into());
            ["name", "username", "id"].iter().find_map(|f| r.get(*f).and_then(place)).map(|n| format!("{kind} {n}"))
        })
        .collect();
    names.join(", ")
}

/// What decides the severity and cloud of a route: the source's labels.
pub struct Labelling<'a> {
    pub severity_label: &'a str,
    pub severity_map: &'a SeverityMap,
    pub cloud_label: &'a str,
}

impl RouteTree {
    /// The receivers an alert with `labels` is sent to, in order, each once
    /// (Alertmanager's `receivers` of the alert).
    pub fn receivers_for(&self, labels: &Labels) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for n in self.root.route(labels) {
            if !out.contains(&n.receiver.as_str()) {
                out.push(&n.receiver);
            }
        }
        out
    }

    /// One route per node of the tree, depth-first in the config's order: its
    /// receiver's channels, its matchers path in words, and the severity and
    /// cloud its matchers pin down (None when they allow more than one).
    /// How many of `alerts` (label sets) each node takes, in the order of
    /// [`RouteTree::notification_routes`]: an alert counts at every node it is
    /// routed to (several with `continue`), once per node.
    pub fn counts<'l>(&self, alerts: impl Iterator<Item = &'l Labels>) -> Vec<u32> {
        let mut paths = Vec::new();
        self.root.walk(&mut Vec::new(), &mut paths);
        let nodes: Vec<*const Node> = paths.iter().filter_map(|p| p.last().map(|n| *n as *const Node)).collect();
        let mut counts = vec![0u32; nodes.len()];
        for labels in alerts {
            for hit in self.root.route(labels) {
                if let Some(i) = nodes.iter().position(|n| std::ptr::eq(*n, hit)) {
                    counts[i] = counts[i].saturating_add(1);
                }
            }
        }
        counts
    }

    pub fn notification_routes(&self, source: &SourceId, how: &Labelling) -> Vec<NotificationRoute> {
        let mut paths = Vec::new();
        self.root.walk(&mut Vec::new(), &mut paths);
        paths
            .into_iter()
            .filter_map(|path| {
                let node = *path.last()?;
                let matchers: Vec<&LabelMatcher> = path.iter().flat_map(|n| n.matchers.iter()).collect();
                Some(NotificationRoute {
                    source: source.clone(),
                    cloud: pinned(&matchers, how.cloud_label, CloudKind::ALL.iter().map(|c| (c.slug(), *c)), |v| {
                        CloudKind::from_slug(v)
                    }),
                    severity: pinned(
                        &matchers,
                        how.severity_label,
                        how.severity_map.iter().map(|(k, v)| (k.as_str(), *v)),
                        |v| how.severity_map.get(&v.to_ascii_lowercase()).copied(),
                    ),
                    receiver: node.receiver.clone(),
                    rule: rule_words(&path),
                    alerts: Vec::new(),
                    firing_now: None,
                    channels: self
                        .receivers
                        .iter()
                        .find(|r| r.name == node.receiver)
                        .map(|r| r.channels.clone())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// The one value (a severity, a cloud) the matchers on `label` allow, if they
/// name one: an equality matcher's value read as the source reads labels, else
/// the known words (`known`) that satisfy every matcher on the label, when they
/// all mean the same. None when nothing matches on the label.
fn pinned<'w, T: PartialEq + Copy>(
    matchers: &[&LabelMatcher],
    label: &str,
    known: impl Iterator<Item = (&'w str, T)>,
    read: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let on: Vec<&&LabelMatcher> = matchers.iter().filter(|m| m.name == label).collect();
    if on.is_empty() {
        return None;
    }
    if let Some(eq) = on.iter().find(|m| m.op == Op::Eq) {
        return read(&eq.value).filter(|_| on.iter().all(|m| m.matches(&eq.value)));
    }
    let mut found: Option<T> = None;
    for (word, v) in known {
        if on.iter().all(|m| m.matches(word)) {
            match found {
                Some(f) if f != v => return None,
                _ => found = Some(v),
            }
        }
    }
    found
}

/// A node's path in words: the matchers of each node below the root, `›`
/// between levels; the root is the default route.
fn rule_words(path: &[&Node]) -> String {
    let Some(node) = path.last() else { return String::new() };
    if path.len() == 1 {
        return if node.routes.is_empty() { "every alert".into() } else { "default: no other route matched".into() };
    }
    let levels: Vec<String> = path[1..]
        .iter()
        .map(|n| {
            if n.matchers.is_empty() {
                "any".to_string()
            } else {
                n.matchers.iter().map(|m| m.words()).collect::<Vec<_>>().join(", ")
            }
        })
        .collect();
    let mut words = levels.join(" › ");
    if node.continues {
        words.push_str(" (continue)");
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity::{self, P0, P1};
    use crate::providers::shared::severity;

    const CONFIG: &str = r##"
route:
  receiver: oncall
  routes:
    - matchers: ['cloud="aws"', 'severity=~"critical|page"']
      receiver: aws-pager
      continue: true
      routes:
        - match: {team: db}
          receiver: db
    - match_re: {cloud: "azure|aliyun"}
      receiver: chat
      routes:
        - matchers: ['{severity="error", team!~"web.*"}']
    - matchers: [env!=""]
      receiver: oncall
receivers:
  - name: oncall
  - name: aws-pager
    pagerduty_configs: [{routing_key: <secret>}]
    sns_configs: [{topic_arn: "arn:aws:sns:us-east-1:123456789012:pager"}, {phone_number: "+15550100100"}]
  - name: db
    email_configs: [{to: dba@example.com}, {to: "a@example.org, 运维@example.cn"}]
    webhook_configs: [{url: "https://hooks.example.com/db/secret?token=x"}]
  - name: chat
    slack_configs: [{api_url: <secret>, channel: "#ops"}]
    opsgenie_configs: [{api_key: <secret>, responders: [{name: ops, type: team}]}]
    wechat_configs: [{to_user: alice, to_party: '{{ template "x" . }}'}]
    telegram_configs: [{chat_id: 12345678}]
"##;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs.iter().copied())
    }

    /// Two routes share the receiver `oncall` (the root and the `env!=""` one):
    /// each counts only the alerts the tree sends it, as Alertmanager routes them.
    #[test]
    fn each_route_counts_the_alerts_the_tree_sends_it_not_its_receivers_name() {
        let tree = parse_config(CONFIG).expect("config");
        let map = severity::map(severity::ALERTMANAGER);
        let how = Labelling { severity_label: "severity", severity_map: &map, cloud_label: "cloud" };
        let routes = tree.notification_routes(&SourceId::new("am"), &how);
        let alerts = [
            labels(&[("cloud", "gcp"), ("env", "prod")]),
            labels(&[("cloud", "gcp")]),
            labels(&[("cloud", "aws"), ("severity", "critical"), ("team", "db"), ("env", "prod")]),
            labels(&[("cloud", "azure"), ("severity", "error"), ("team", "db")]),
        ];
        let counts = tree.counts(alerts.iter());
        assert_eq!(counts.len(), routes.len());
        let by_rule: Vec<(String, u32)> = routes.iter().zip(&counts).map(|(r, n)| (r.rule.clone(), *n)).collect();
        let n = |rule: &str| by_rule.iter().find(|(r, _)| r == rule).map(|x| x.1);
        assert_eq!(n("default: no other route matched"), Some(1), "{by_rule:#?}");
        assert_eq!(n(r#"env!="""#), Some(2), "gcp in prod, and the aws alert that continued: {by_rule:#?}");
        assert_eq!(n(r#"cloud="aws", severity=~"critical|page" (continue)"#), Some(0), "its child took it");
        assert_eq!(n(r#"cloud="aws", severity=~"critical|page" › team="db""#), Some(1), "{by_rule:#?}");
        assert_eq!(n(r#"cloud=~"azure|aliyun" › severity="error", team!~"web.*""#), Some(1), "{by_rule:#?}");
    }

    #[test]
    fn matchers_parse_in_every_form_alertmanager_accepts() {
        let m = parse_matchers(r#"{a="b", c=~"d|e" , f!="g\"h", i!~ j.* }"#).expect("parse");
        let w: Vec<String> = m.iter().map(LabelMatcher::words).collect();
        assert_eq!(w, [r#"a="b""#, r#"c=~"d|e""#, r#"f!="g\"h""#, r#"i!~"j.*""#]);
        assert!(parse_matchers("=x").is_err());
        assert!(parse_matchers(r#"a="b"#).is_err());
        assert!(parse_matchers(r#"a=~"(""#).is_err(), "a bad regex is a bad config");
        assert!(parse_matchers(r#"a="b" c="d""#).is_err());
    }

    #[test]
    fn regexes_are_anchored_and_an_absent_label_is_empty() {
        let m = &parse_matchers(r#"a=~"b|c""#).expect("m")[0];
        assert!(m.matches("b") && m.matches("c") && !m.matches("bc") && !m.matches("xb"));
        let ne = &parse_matchers(r#"env!="""#).expect("m")[0];
        let tree = parse_config(CONFIG).expect("config");
        assert!(!ne.matches(""));
        // No env label: the last route's `env!=""` does not hold, the default takes it.
        assert_eq!(tree.receivers_for(&labels(&[("cloud", "gcp")])), ["oncall"]);
    }

    #[test]
    fn the_first_matching_child_wins_unless_it_continues() {
        let tree = parse_config(CONFIG).expect("config");
        let r = |p: &[(&str, &str)]| tree.receivers_for(&labels(p)).into_iter().map(String::from).collect::<Vec<_>>();
        // aws-pager continues: the search goes on to chat (no match) and env (no).
        assert_eq!(r(&[("cloud", "aws"), ("severity", "critical")]), ["aws-pager"]);
        // Its child db matched: db, not aws-pager itself (a node with a matching child is not matched).
        assert_eq!(r(&[("cloud", "aws"), ("severity", "page"), ("team", "db")]), ["db"]);
        // aws-pager continues, so the env route is tried after it as well.
        assert_eq!(r(&[("cloud", "aws"), ("severity", "page"), ("env", "prod")]), ["aws-pager", "oncall"]);
        // chat does not continue: env is never tried; its child (no receiver) inherits chat.
        assert_eq!(r(&[("cloud", "azure"), ("env", "prod")]), ["chat"]);
        assert_eq!(r(&[("cloud", "aliyun"), ("severity", "error"), ("team", "api")]), ["chat"]);
        let nodes = tree.root.route(&labels(&[("cloud", "aliyun"), ("severity", "error"), ("team", "api")]));
        assert!(nodes[0].routes.is_empty() && !nodes[0].matchers.is_empty(), "the child, not chat itself");
        // Anchored: "awsx" is not aws, "azure-cn" is not azure.
        assert_eq!(r(&[("cloud", "azure-cn"), ("severity", "critical")]), ["oncall"]);
    }

    #[test]
    fn routes_say_their_path_severity_cloud_and_masked_channels() {
        let tree = parse_config(CONFIG).expect("config");
        let map = severity::map(severity::ALERTMANAGER);
        let how = Labelling { severity_label: "severity", severity_map: &map, cloud_label: "cloud" };
        let routes = tree.notification_routes(&SourceId::new("am"), &how);
        let rows: Vec<(&str, Option<CloudKind>, Option<Severity>, &str)> =
            routes.iter().map(|r| (r.receiver.as_str(), r.cloud, r.severity, r.rule.as_str())).collect();
        assert_eq!(
            rows,
            [
                ("oncall", None, None, "default: no other route matched"),
                ("aws-pager", Some(CloudKind::Aws), Some(P0), r#"cloud="aws", severity=~"critical|page" (continue)"#),
                ("db", Some(CloudKind::Aws), Some(P0), r#"cloud="aws", severity=~"critical|page" › team="db""#),
                ("chat", None, None, r#"cloud=~"azure|aliyun""#),
                ("chat", None, Some(P1), r#"cloud=~"azure|aliyun" › severity="error", team!~"web.*""#),
                ("oncall", None, None, r#"env!="""#),
            ]
        );
        let labels_of = |i: usize| routes[i].channels.iter().map(Channel::label).collect::<Vec<_>>();
        assert!(labels_of(0).is_empty(), "oncall has no configs: a blackhole");
        assert_eq!(labels_of(1), ["pagerduty", "sns:+1555…0100", "sns:pager"]);
        assert_eq!(
            labels_of(2),
            [
                "email:a…@example.org",
                "email:d…@example.com",
                "email:运…@example.cn",
                "webhook:https://hooks.example.com/…"
            ]
        );
        assert_eq!(labels_of(3), ["opsgenie:te…ps", "slack:…", "telegram:12…78", "wechat:a…e"]);
    }

    #[test]
    fn a_config_that_cannot_route_says_why() {
        assert!(matches!(parse_config("route: [unclosed"), Err(ConfigError::Yaml(_))));
        assert_eq!(parse_config("receivers: []"), Err(ConfigError::NoRoute));
        assert_eq!(parse_config("route: {group_by: [a]}"), Err(ConfigError::NoRootReceiver));
        assert_eq!(
            parse_config("route: {receiver: a, routes: [{receiver: b}]}\nreceivers: [{name: a}]"),
            Err(ConfigError::UnknownReceiver("b".into()))
        );
    }
}
