//! What changed between two reads of the estate, as timeline entries: alerts
//! that started firing, were acknowledged or went away, clouds whose health fell
//! or came back, sources that went stale or answered again. Pure: the caller
//! hands in each new Fleet and the time it was read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{Alert, AlertState, CloudKind, EventKind, Fleet, Freshness, Health, Origin, TimelineEvent};

/// The state the next read is compared with.
#[derive(Debug, Default)]
pub struct Observer {
    /// The open alerts of the previous read (identity → acknowledged): only what
    /// tells a change, so a console watching 100,000 alerts keeps a few bytes
    /// each. The text of an alert that went away is read from the previous
    /// Fleet, which is shared, not copied.
    alerts: HashMap<u64, bool>,
    previous: Option<Arc<Fleet>>,
    stale: BTreeMap<String, bool>,
    health: BTreeMap<CloudKind, Health>,
}

/// One alert's identity: its source and its id.
fn identity(a: &Alert) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    a.source.as_str().hash(&mut h);
    a.id.hash(&mut h);
    h.finish()
}

fn event(at: DateTime<Utc>, kind: EventKind, what: String, key: String) -> TimelineEvent {
    TimelineEvent { at, kind, who: None, what, cloud: None, source: None, key, origin: Origin::Journal }
}

impl Observer {
    pub fn new() -> Observer {
        Observer::default()
    }

    /// The entries `fleet` (read at `now`) adds to what was seen before. The first
    /// read reports the alerts already open (at the time their source says they
    /// started) and any cloud already unwell, so a console started mid-incident
    /// still has them.
    pub fn observe(&mut self, fleet: &Arc<Fleet>, now: DateTime<Utc>) -> Vec<TimelineEvent> {
        let mut out = Vec::new();
        self.sources(fleet, now, &mut out);
        self.clouds(fleet, now, &mut out);
        self.alerts(fleet, now, &mut out);
        self.previous = Some(fleet.clone());
        out.sort_by(|a, b| a.at.cmp(&b.at).then(a.kind.cmp(&b.kind)));
        out
    }

    fn sources(&mut self, fleet: &Fleet, now: DateTime<Utc>, out: &mut Vec<TimelineEvent>) {
        for s in &fleet.sources {
            let name = s.id.to_string();
            let stale = matches!(s.freshness, Freshness::Stale { .. });
            let was = self.stale.insert(name.clone(), stale);
            let (kind, what) = match (&s.freshness, was) {
                (Freshness::Stale { reason }, Some(false) | None) => {
                    (EventKind::SourceStale, format!("source {name} stale: {reason}"))
                }
                (Freshness::Fresh, Some(true)) => (EventKind::SourceBack, format!("source {name} read again")),
                _ => continue,
            };
            let mut e = event(now, kind, what, format!("{}:{name}:{}", kind.label(), now.timestamp()));
            e.source = Some(name);
            out.push(e);
        }
    }

    fn clouds(&mut self, fleet: &Fleet, now: DateTime<Utc>, out: &mut Vec<TimelineEvent>) {
        for cloud in fleet.clouds() {
            let health = fleet.summary(cloud, now).health;
            // Unknown says nothing about the estate (a stale source says it already).
            if health == Health::Unknown {
                continue;
            }
            let was = self.health.insert(cloud, health);
            let bad = |h: Health| matches!(h, Health::Degraded | Health::Down);
            let kind = match was {
                Some(w) if w == health => continue,
                _ if bad(health) => EventKind::Signal,
                Some(w) if bad(w) && health == Health::Ok => EventKind::Recovered,
                _ => continue,
            };
            let what = match was {
                Some(w) => format!("{} health {} → {}", cloud.label(), w.label(), health.label()),
                None => format!("{} health {} when first read", cloud.label(), health.label()),
            };
            let mut e = event(now, kind, what, format!("{}:{}:{}", kind.label(), cloud.slug(), now.timestamp()));
            e.cloud = Some(cloud);
            out.push(e);
        }
    }

    fn alerts(&mut self, fleet: &Fleet, now: DateTime<Utc>, out: &mut Vec<TimelineEvent>) {
        let mut open: HashMap<u64, bool> = HashMap::with_capacity(self.alerts.len());
        for a in fleet.alerts.iter().filter(|a| a.state.is_open()) {
            let id = identity(a);
            let acked = matches!(a.state, AlertState::Acknowledged { .. });
            // Open in the previous read too: the same alert, whatever start its source
            // stamps on it now (a re-fire has a gap between, where it was resolved).
            let before = self.alerts.get(&id);
            if before.is_none() {
                // A source may stamp a start in the future of our clock: never after the read.
                out.push(TimelineEvent::firing(a, a.started_at.min(now), Origin::Journal));
            }
            if let AlertState::Acknowledged { by, at, comment } = &a.state
                && before != Some(&true)
            {
                out.push(TimelineEvent::acked(a, by, (*at).min(now), comment, Origin::Journal));
            }
            open.insert(id, acked);
        }
        let gone: HashSet<u64> = self.alerts.keys().filter(|id| !open.contains_key(id)).copied().collect();
        if let Some(previous) = self.previous.as_ref().filter(|_| !gone.is_empty()) {
            for a in previous.alerts.iter().filter(|a| a.state.is_open() && gone.contains(&identity(a))) {
                out.push(TimelineEvent::resolved(a, now, Origin::Journal));
            }
        }
        self.alerts = open;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::reference_instant;
    use crate::model::{Severity, SourceId, SourceStatus};

    fn alert(id: &str, state: AlertState, started: i64) -> Alert {
        Alert {
            id: id.into(),
            source: SourceId::new("am"),
            cloud: Some(CloudKind::Aws),
            severity: Severity::P1,
            title: format!("Title {id} ✓"),
            resource: String::new(),
            started_at: reference_instant() + chrono::Duration::seconds(started),
            state,
            route: String::new(),
            labels: Default::default(),
        }
    }

    fn fleet(alerts: Vec<Alert>, freshness: Freshness) -> Arc<Fleet> {
        let mut status = SourceStatus::new(SourceId::new("am"), "alertmanager");
        status.freshness = freshness;
        Arc::new(Fleet { sources: vec![status], alerts: alerts.into(), ..Fleet::default() })
    }

    fn kinds(events: &[TimelineEvent]) -> Vec<(EventKind, String)> {
        events.iter().map(|e| (e.kind, e.what.clone())).collect()
    }

    #[test]
    fn alerts_fire_once_are_acked_once_and_resolve_when_gone() {
        let t = |s| reference_instant() + chrono::Duration::seconds(s);
        let mut o = Observer::new();
        let first = o.observe(&fleet(vec![alert("a", AlertState::Firing, -30)], Freshness::Fresh), t(0));
        assert_eq!(kinds(&first), [(EventKind::AlertFiring, "P1 AWS: Title a ✓".to_string())]);
        assert_eq!(first[0].at, t(-30), "at the start its source gives");
        // The same alert again, with a start its source moved: not a new firing.
        assert!(o.observe(&fleet(vec![alert("a", AlertState::Firing, -20)], Freshness::Fresh), t(5)).is_empty());
        let ack = AlertState::Acknowledged { by: "ana".into(), at: t(7), comment: "looking".into() };
        let acked = o.observe(&fleet(vec![alert("a", ack.clone(), -20)], Freshness::Fresh), t(10));
        assert_eq!(kinds(&acked), [(EventKind::Ack, "acknowledged: Title a ✓ — looking".to_string())]);
        assert_eq!((acked[0].at, acked[0].who.as_deref()), (t(7), Some("ana")));
        assert!(o.observe(&fleet(vec![alert("a", ack, -20)], Freshness::Fresh), t(15)).is_empty());
        let gone = o.observe(&fleet(vec![alert("b", AlertState::Firing, 18)], Freshness::Fresh), t(20));
        assert_eq!(
            kinds(&gone),
            [
                (EventKind::AlertFiring, "P1 AWS: Title b ✓".to_string()),
                (EventKind::AlertResolved, "resolved: P1 AWS: Title a ✓".to_string())
            ]
        );
        // Resolved in its source (still listed) counts as gone too.
        let resolved = o.observe(&fleet(vec![alert("b", AlertState::Resolved, 18)], Freshness::Fresh), t(25));
        assert_eq!(kinds(&resolved), [(EventKind::AlertResolved, "resolved: P1 AWS: Title b ✓".to_string())]);
    }

    #[test]
    fn a_source_going_stale_and_back_is_said_once_each() {
        let t = |s| reference_instant() + chrono::Duration::seconds(s);
        let mut o = Observer::new();
        assert!(o.observe(&fleet(vec![], Freshness::Fresh), t(0)).is_empty());
        let stale = Freshness::Stale { reason: "timed out".into() };
        let went = o.observe(&fleet(vec![], stale.clone()), t(5));
        assert_eq!(kinds(&went), [(EventKind::SourceStale, "source am stale: timed out".to_string())]);
        assert!(o.observe(&fleet(vec![], stale), t(10)).is_empty());
        let back = o.observe(&fleet(vec![], Freshness::Fresh), t(15));
        assert_eq!(kinds(&back), [(EventKind::SourceBack, "source am read again".to_string())]);
    }
}
