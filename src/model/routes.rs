//! Where alerts page: each alerting system's receivers and the channels behind
//! them (SNS subscriptions, Azure action groups, CloudMonitor contact groups,
//! Alertmanager receivers), as the architecture's table lays them out:
//! severity × cloud → channels.

use serde::Serialize;

use super::{Alert, CloudKind, Severity, SourceId};

/// One receiver of one alerting system, with what it sends to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotificationRoute {
    pub source: SourceId,
    /// The cloud whose alerts take this route; None when the route is not tied to
    /// one cloud (an Alertmanager route without a cloud matcher).
    pub cloud: Option<CloudKind>,
    /// The severity this route is for, when the route says (a matcher on the
    /// severity label, or the alarms that use it all of one severity).
    pub severity: Option<Severity>,
    /// The receiver's own name: an SNS topic, an action group, a contact group, an
    /// Alertmanager receiver.
    pub receiver: String,
    /// What decides that an alert takes this route, in the system's own words
    /// (alarm names, a route's matchers).
    pub rule: String,
    /// Ids of the alerts of this source that page through it, when the system ties
    /// alerts to receivers by name (a CloudWatch alarm's actions); alerts can also
    /// name the receiver themselves (see [`NotificationRoute::pages`]).
    pub alerts: Vec<String>,
    pub channels: Vec<Channel>,
    /// Firing alerts routed through this route, when the source routes by
    /// labels and so knows per route (Alertmanager's tree: two routes may share
    /// a receiver, yet an alert takes one of them). None: count the firing
    /// alerts that [`NotificationRoute::pages`].
    pub firing_now: Option<u32>,
}

/// One place a receiver sends to. `target` is masked before it enters the model:
/// an operator sees which phone or mailbox, never the whole number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Channel {
    /// email, sms, webhook, slack, pagerduty, opsgenie, dingtalk, logic app, ...
    pub kind: String,
    pub target: String,
}

impl Channel {
    /// A channel whose target is masked by its kind.
    pub fn masked(kind: &str, target: &str) -> Channel {
        Channel { kind: kind.to_string(), target: mask_target(kind, target) }
    }

    pub fn label(&self) -> String {
        if self.target.is_empty() { self.kind.clone() } else { format!("{}:{}", self.kind, self.target) }
    }
}

impl NotificationRoute {
    /// Whether `alert` pages through this route: same source, and either named by
    /// the route or naming the route's receiver in its own `route` field (a
    /// comma-separated list of receivers).
    pub fn pages(&self, alert: &Alert) -> bool {
        alert.source == self.source
            && (self.alerts.contains(&alert.id)
                || alert.route.split(',').map(str::trim).any(|r| !r.is_empty() && r == self.receiver))
    }
}

/// Mask what a channel points at, keeping enough to recognise it:
/// `+15550100100` → `+1555…0100`, `oncall@example.com` → `o…@example.com`,
/// a URL (with or without its scheme) → its host. Anything else keeps at most
/// four characters at each end and always hides at least three.
pub fn mask_target(kind: &str, target: &str) -> String {
    let target = target.trim();
    if let Some((scheme, rest)) = target.split_once("://") {
        // The host only: paths and queries of webhooks carry tokens.
        return format!("{scheme}://{}/…", host_of(rest));
    }
    if target.starts_with("arn:") {
        // An ARN names a resource, not a person: keep its last part.
        return target.rsplit([':', '/']).next().unwrap_or(target).to_string();
    }
    if target.contains('/') {
        // A URL without its scheme: the host only, as above.
        return format!("{}/…", host_of(target));
    }
    if let Some((user, domain)) = target.rsplit_once('@')
        && !user.is_empty()
        && !domain.is_empty()
        && !user.contains(':')
    {
        let first: String = user.chars().take(1).collect();
        return format!("{first}…@{domain}");
    }
    let _ = kind;
    let chars: Vec<char> = target.chars().collect();
    // A leading `+` (a phone number's) is not one of the digits that identify.
    let sign = usize::from(chars.first() == Some(&'+'));
    let keep = (chars.len() - sign).saturating_sub(3).div_euclid(2).min(4);
    if keep == 0 {
        return "…".into();
    }
    let head: String = chars[..sign + keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

/// The host of `rest` (what follows a URL's scheme): no user info, path or query.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit('@').next().unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_enough_to_recognise() {
        assert_eq!(mask_target("sms", "+15550100100"), "+1555…0100");
        assert_eq!(mask_target("email", "oncall@example.com"), "o…@example.com");
        assert_eq!(mask_target("EMAIL", "Zoë@bücher.example"), "Z…@bücher.example");
        assert_eq!(
            mask_target("webhook", "https://user:pw@hooks.example.com/services/T0/B0/secret?x=1"),
            "https://hooks.example.com/…"
        );
        assert_eq!(mask_target("lambda", "arn:aws:lambda:us-east-1:123456789012:function:pager"), "pager");
        assert_eq!(mask_target("dingtalk", "abc"), "…");
        assert_eq!(mask_target("sms", "13800138000"), "1380…8000");
        assert_eq!(mask_target("sms", "555010010"), "555…010", "at least three hidden");
        assert_eq!(mask_target("slack", "@alice"), "@…e", "a handle is not an address");
        assert_eq!(mask_target("slack", "#ops"), "…");
        assert_eq!(
            mask_target("webhook", "user:tok@hooks.example.com/services/T/B/SECRET"),
            "hooks.example.com/…",
            "a URL without its scheme keeps its host only"
        );
    }

    #[test]
    fn an_alert_pages_through_routes_that_name_it_or_that_it_names() {
        let src = SourceId::new("aws:us-east-1");
        let route = NotificationRoute {
            source: src.clone(),
            cloud: Some(CloudKind::Aws),
            severity: Some(Severity::P1),
            receiver: "pager".into(),
            rule: "alarms: web-5xx".into(),
            alerts: vec!["web-5xx".into()],
            channels: vec![Channel::masked("sms", "+15550100100")],
            firing_now: None,
        };
        let mut alert = Alert {
            id: "web-5xx".into(),
            source: src.clone(),
            cloud: Some(CloudKind::Aws),
            severity: Severity::P1,
            title: String::new(),
            resource: String::new(),
            started_at: chrono::DateTime::UNIX_EPOCH,
            state: super::super::AlertState::Firing,
            route: String::new(),
            labels: Default::default(),
        };
        assert!(route.pages(&alert));
        alert.id = "other".into();
        assert!(!route.pages(&alert));
        alert.route = "team, pager".into();
        assert!(route.pages(&alert));
        alert.source = SourceId::new("aws:eu-west-1");
        assert!(!route.pages(&alert), "another source's alert never takes this source's route");
    }
}
