//! What an action is, independent of who carries it out: the operator's
//! [`Intent`], the [`Plan`] of exact changes computed from it, and the [`Actor`]
//! who asked. Providers execute plans and the write path (`actions`) makes them;
//! both depend on these types, so they live here and neither imports the other.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AlertState, CloudKind, Fleet, SourceId};

#[cfg(test)]
mod mark_tests {
    use super::*;

    #[test]
    fn marks_read_like_the_alert_states_they_lead_to() {
        let acked = AlertState::Acknowledged { by: "a".into(), at: chrono::DateTime::UNIX_EPOCH, comment: "c".into() };
        assert_eq!(AlertMark::Acked.label(), acked.label());
        assert_eq!(AlertMark::Firing.label(), AlertState::Firing.label());
        assert_eq!(serde_json::to_value(AlertMark::Acked).ok(), Some(serde_json::json!("acked")));
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Intent {
    /// Move `percent` points of the traffic share (all of it when `None`) from one cloud to another.
    Shift { from: CloudKind, to: CloudKind, percent: Option<f64> },
    /// Take a cloud out of DNS: its weight to 0, the others keep theirs.
    Drain { cloud: CloudKind },
    /// Set the weights of a policy's answers as given, each by its own name (a
    /// cloud may have several answers, one per region): restoring earlier weights.
    SetWeights { policy: String, weights: Vec<AnswerWeight> },
    /// Set the desired capacity of a scaling group.
    Scale { cloud: CloudKind, group: String, desired: u32 },
    /// Acknowledge an alert in its source, optionally for a while.
    Ack { alert_id: String, comment: String, minutes: Option<u32> },
    /// Withdraw an acknowledgement: the alert notifies again.
    Unack { alert_id: String },
}

/// One DNS answer's weight, named as the policy names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerWeight {
    pub cloud: CloudKind,
    pub endpoint: String,
    pub weight: u32,
}

/// The three kinds of action, for confirmation rules and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Failover,
    Scale,
    Ack,
}

impl Intent {
    pub fn kind(&self) -> ActionKind {
        match self {
            Intent::Shift { .. } | Intent::Drain { .. } | Intent::SetWeights { .. } => ActionKind::Failover,
            Intent::Scale { .. } => ActionKind::Scale,
            Intent::Ack { .. } | Intent::Unack { .. } => ActionKind::Ack,
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Intent::Shift { from, to, percent: None } => write!(f, "failover {} -> {}", from.slug(), to.slug()),
            Intent::Shift { from, to, percent: Some(p) } => {
                write!(f, "failover {} -> {} {p}%", from.slug(), to.slug())
            }
            Intent::Drain { cloud } => write!(f, "drain {}", cloud.slug()),
            Intent::SetWeights { policy, weights } => {
                let w: Vec<String> =
                    weights.iter().map(|a| format!("{}/{}={}", a.cloud.slug(), a.endpoint, a.weight)).collect();
                write!(f, "set weights {policy} {}", w.join(" "))
            }
            Intent::Scale { cloud, group, desired } => write!(f, "scale {}/{group} {desired}", cloud.slug()),
            Intent::Ack { alert_id, minutes: Some(m), .. } => write!(f, "ack {alert_id} for {m}m"),
            Intent::Ack { alert_id, .. } => write!(f, "ack {alert_id}"),
            Intent::Unack { alert_id } => write!(f, "unack {alert_id}"),
        }
    }
}

/// The intent that puts back what `changes` changed, read from the changes alone
/// (so an audit line's changes can be undone too): old weights, old desired
/// count, or withdrawing an acknowledgement. Withdrawing one has no inverse.
pub fn inverse_of(changes: &[Change]) -> Option<Intent> {
    match changes.first()? {
        Change::Weight { policy, .. } => {
            let weights = changes
                .iter()
                .filter_map(|c| match c {
                    Change::Weight { policy: p, cloud, endpoint, before, .. } if p == policy => {
                        Some(AnswerWeight { cloud: *cloud, endpoint: endpoint.clone(), weight: *before })
                    }
                    _ => None,
                })
                .collect();
            Some(Intent::SetWeights { policy: policy.clone(), weights })
        }
        Change::Capacity { cloud, group, before, .. } => {
            Some(Intent::Scale { cloud: *cloud, group: group.clone(), desired: *before })
        }
        Change::AlertState { id, after: AlertMark::Acked, .. } => Some(Intent::Unack { alert_id: id.clone() }),
        Change::AlertState { after: AlertMark::Firing, .. } => None,
    }
}

/// Where an alert change takes the alert: acknowledged (silenced, notifications
/// held), or back to firing. Serialised as the state labels the Alerts pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertMark {
    Acked,
    Firing,
}

impl AlertMark {
    pub fn label(self) -> &'static str {
        match self {
            AlertMark::Acked => "acked",
            AlertMark::Firing => "firing",
        }
    }
}

impl fmt::Display for AlertMark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Weight {
        policy: String,
        cloud: CloudKind,
        endpoint: String,
        before: u32,
        after: u32,
        share_before: f64,
        share_after: f64,
    },
    Capacity {
        cloud: CloudKind,
        group: String,
        before: u32,
        after: u32,
        min: u32,
        max: u32,
    },
    AlertState {
        id: String,
        title: String,
        /// The alert's state when planned (`AlertState::label`).
        before: String,
        after: AlertMark,
        comment: String,
        minutes: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub intent: Intent,
    /// The source that will carry the change out.
    pub source: SourceId,
    /// What the change is aimed at; a failover is confirmed by typing it.
    pub target: String,
    pub changes: Vec<Change>,
    /// When the data behind the plan was read.
    pub based_on: Option<DateTime<Utc>>,
    /// For failovers: how long until clients follow (DNS TTL, plus the health
    /// checks' detection where the DNS service fails over by itself), in seconds.
    pub time_to_effect_secs: Option<u32>,
    /// That time in words, when detection is part of it: "TTL 60 s + detection 3×30 s".
    pub effect: Option<String>,
}

impl Plan {
    pub fn kind(&self) -> ActionKind {
        self.intent.kind()
    }

    /// The intent that would put things back as they were.
    pub fn inverse(&self) -> Option<Intent> {
        inverse_of(&self.changes)
    }

    /// Whether a fresh read of the estate shows every planned "after".
    pub fn is_reflected_in(&self, fleet: &Fleet) -> bool {
        self.changes.iter().all(|c| match c {
            // Each answer by its own name: a cloud may have several (one per region).
            Change::Weight { policy, cloud, endpoint, after, .. } => fleet
                .policies
                .iter()
                .filter(|p| &p.name == policy)
                .flat_map(|p| p.endpoints.iter())
                .filter(|e| e.cloud == *cloud && &e.name == endpoint)
                .all(|e| e.weight == *after),
            Change::Capacity { cloud, group, after, .. } => {
                fleet.groups.iter().any(|g| g.cloud == *cloud && &g.name == group && g.desired == *after)
            }
            Change::AlertState { id, after, .. } => {
                let want_acked = *after == AlertMark::Acked;
                fleet
                    .alerts
                    .iter()
                    .filter(|a| &a.id == id)
                    .all(|a| matches!(a.state, AlertState::Acknowledged { .. }) == want_acked)
            }
        })
    }

    /// One line per change, for dialogs, dry runs and the audit pane.
    pub fn describe(&self) -> Vec<String> {
        self.changes
            .iter()
            .map(|c| match c {
                Change::Weight { cloud, endpoint, before, after, share_before, share_after, .. } => format!(
                    "{} {endpoint}: weight {before} → {after} (share {:.0}% → {:.0}%)",
                    cloud.label(),
                    share_before * 100.0,
                    share_after * 100.0
                ),
                Change::Capacity { cloud, group, before, after, min, max } => {
                    format!("{} {group}: desired {before} → {after} (min {min}, max {max})", cloud.label())
                }
                Change::AlertState { title, before, after, minutes, .. } => match minutes {
                    Some(m) => format!("{title}: {before} → {after} for {m} min"),
                    None => format!("{title}: {before} → {after}"),
                },
            })
            .collect()
    }
}

/// Who acted, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub host: String,
    /// `SSH_CLIENT` when the operator came in over SSH.
    pub ssh_client: Option<String>,
}

impl Actor {
    /// `user@host`, as shown on acknowledgements.
    pub fn label(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }
}
