//! What happened, when, and who did it: the entries of the incident timeline.
//! Every source of history (the audit log, the changes opsdeck saw between
//! reads, a source's own alert history) speaks in these entries, so the
//! timeline can merge them without knowing where each came from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Alert, CloudKind};

/// What kind of thing happened. Ordered as they usually follow one another, so
/// entries at the same instant read in a sensible order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A chaos drill started (demo).
    Drill,
    /// Something got worse before (or without) an alert: a cloud's health fell.
    Signal,
    /// A source could no longer be read.
    SourceStale,
    AlertFiring,
    Ack,
    Unack,
    /// A failover, drain or scale: planned, guarded, and what came of it.
    Action,
    /// A failover's measured phases (accepted → in sync → resolvers → traffic).
    Rto,
    /// A failover's follow saw the traffic shares within 5 points of its plan.
    TrafficMoved,
    AlertResolved,
    /// A cloud's health came back to OK.
    Recovered,
    /// A source could be read again.
    SourceBack,
    /// Drills were cleared (demo).
    DrillCleared,
}

impl EventKind {
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Drill => "drill",
            EventKind::Signal => "signal",
            EventKind::SourceStale => "stale",
            EventKind::AlertFiring => "firing",
            EventKind::Ack => "ack",
            EventKind::Unack => "unack",
            EventKind::Action => "action",
            EventKind::Rto => "rto",
            EventKind::TrafficMoved => "traffic moved",
            EventKind::AlertResolved => "resolved",
            EventKind::Recovered => "recovered",
            EventKind::SourceBack => "back",
            EventKind::DrillCleared => "drill cleared",
        }
    }
}

/// Where an entry was learnt: the journal opsdeck kept while it watched, the
/// audit log, or a source's own alert history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "name")]
pub enum Origin {
    Journal,
    Audit,
    /// The named source's own history (CloudWatch alarm history, Alertmanager).
    Source(String),
}

/// One entry of the timeline. Text fields can be remote text: sanitise before drawing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// Who did it (`user@host`, an Alertmanager silence's author); None for what
    /// the estate did by itself.
    pub who: Option<String>,
    /// One line saying what happened.
    pub what: String,
    pub cloud: Option<CloudKind>,
    /// The source it concerns (the alert's, the action's).
    pub source: Option<String>,
    /// What makes two reports of one happening the same (an alert's source, id and
    /// start; an action's audit time), so the journal and a source's own history
    /// do not list it twice.
    pub key: String,
    pub origin: Origin,
}

impl TimelineEvent {
    /// The key that makes every report of one alert's start the same happening,
    /// whoever reports it (the journal, the source's own history).
    pub fn alert_key(source: &str, id: &str, started_at: DateTime<Utc>) -> String {
        format!("alert:{source}:{id}:{}", started_at.timestamp())
    }

    /// An entry about `a`, with its cloud and source.
    pub fn about(a: &Alert, at: DateTime<Utc>, kind: EventKind, what: String, key: String, origin: Origin) -> Self {
        TimelineEvent { at, kind, who: None, what, cloud: a.cloud, source: Some(a.source.to_string()), key, origin }
    }

    /// `a` started firing at `at` (its source's start, or the read that first saw it).
    pub fn firing(a: &Alert, at: DateTime<Utc>, origin: Origin) -> Self {
        let key = Self::alert_key(a.source.as_str(), &a.id, a.started_at);
        Self::about(a, at, EventKind::AlertFiring, alert_line(a), key, origin)
    }

    /// `by` acknowledged `a` at `at`, saying `comment`.
    pub fn acked(a: &Alert, by: &str, at: DateTime<Utc>, comment: &str, origin: Origin) -> Self {
        let what = if comment.is_empty() {
            format!("acknowledged: {}", a.title)
        } else {
            format!("acknowledged: {} — {comment}", a.title)
        };
        let key = format!("ack:{}:{}", Self::alert_key(a.source.as_str(), &a.id, a.started_at), at.timestamp());
        let mut e = Self::about(a, at, EventKind::Ack, what, key, origin);
        e.who = Some(by.to_string()).filter(|b| !b.is_empty());
        e
    }

    /// `a`, open at the last read, is gone (or resolved) at `at`.
    pub fn resolved(a: &Alert, at: DateTime<Utc>, origin: Origin) -> Self {
        let key = format!("resolved:{}", Self::alert_key(a.source.as_str(), &a.id, a.started_at));
        Self::about(a, at, EventKind::AlertResolved, format!("resolved: {}", alert_line(a)), key, origin)
    }
}

/// "P1 AWS: title (resource)", the way every entry about an alert names it.
pub fn alert_line(a: &Alert) -> String {
    let cloud = a.cloud.map(|c| format!(" {}", c.label())).unwrap_or_default();
    if a.resource.is_empty() {
        format!("{}{cloud}: {}", a.severity.label(), a.title)
    } else {
        format!("{}{cloud}: {} ({})", a.severity.label(), a.title, a.resource)
    }
}
