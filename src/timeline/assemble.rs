//! The timeline itself: entries from every history merged, each happening once,
//! in time order, with the two measures a postmortem asks first: time to detect
//! (first signal → first alert) and time to mitigate (first alert → traffic
//! moved, as a failover's follow measured it).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::model::{EventKind, Origin, TimelineEvent};

/// How long after an acknowledgement sent through opsdeck the source's own record
/// of it may carry a different time and still be the same ack.
const SAME_ACK_WITHIN_SECS: i64 = 120;

/// What one history gave: read, not kept by that source, or failed (with why).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRead {
    pub name: String,
    /// `read` (with how many entries), `none` (the source keeps no alert history
    /// opsdeck can read) or `failed`.
    pub state: &'static str,
    pub entries: usize,
    pub error: Option<String>,
}

/// An instant and the entry that set it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    pub at: DateTime<Utc>,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measures {
    /// The first drill, health fall or stale source in the window.
    pub first_signal: Option<Mark>,
    /// The first alert firing at or after the first signal (or the first at all).
    pub first_alert: Option<Mark>,
    /// When a failover's follow saw traffic within 5 points of its plan, after the first alert.
    pub traffic_moved: Option<Mark>,
    /// Seconds; None when either end is unknown.
    pub time_to_detect_secs: Option<i64>,
    pub time_to_mitigate_secs: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub events: Vec<TimelineEvent>,
    pub measures: Measures,
    pub histories: Vec<HistoryRead>,
}

/// Merge `events` from every history into one timeline of `[since, until]`.
/// Two entries with one key are one happening: the earliest is kept, and at
/// one instant the audit's or the journal's copy over a source history's.
pub fn assemble(
    mut events: Vec<TimelineEvent>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    histories: Vec<HistoryRead>,
) -> Timeline {
    events.retain(|e| e.at >= since && e.at <= until);
    let rank = |o: &Origin| match o {
        Origin::Audit => 0,
        Origin::Journal => 1,
        Origin::Source(_) => 2,
    };
    // The earliest report of a happening is the closest to it (a console sees a
    // resolution at its next read, the source knows the instant); at one instant
    // the audit's or the journal's copy, which say who, is kept.
    events.sort_by(|a, b| a.key.cmp(&b.key).then(a.at.cmp(&b.at)).then(rank(&a.origin).cmp(&rank(&b.origin))));
    events.dedup_by(|later, first| later.key == first.key);
    drop_echoed_acks(&mut events);
    events.sort_by(|a, b| a.at.cmp(&b.at).then(a.kind.cmp(&b.kind)).then(a.what.cmp(&b.what)));
    let measures = measure(&events);
    Timeline { since, until, events, measures, histories }
}

/// An ack sent through opsdeck is audited, and the source then reports it too:
/// the source's copy of an audited ack (same kind, within two minutes, naming the
/// same alert) is dropped.
fn drop_echoed_acks(events: &mut Vec<TimelineEvent>) {
    let audited: Vec<(DateTime<Utc>, EventKind, String)> = events
        .iter()
        .filter(|e| e.origin == Origin::Audit && matches!(e.kind, EventKind::Ack | EventKind::Unack))
        .map(|e| (e.at, e.kind, e.what.clone()))
        .collect();
    events.retain(|e| {
        e.origin == Origin::Audit
            || !matches!(e.kind, EventKind::Ack | EventKind::Unack)
            || !audited.iter().any(|(at, kind, what)| {
                *kind == e.kind
                    && (e.at - *at).num_seconds().abs() <= SAME_ACK_WITHIN_SECS
                    && names_same_alert(what, &e.key)
            })
    });
}

/// Whether an audited ack line (`ack <id> — executed`) names the alert whose
/// key (`ack:alert:<source>:<id>:<start>:<at>`) the source reported.
fn names_same_alert(audit_what: &str, key: &str) -> bool {
    let id = audit_what.split_whitespace().nth(1).unwrap_or_default();
    !id.is_empty() && key.contains(&format!(":{id}:"))
}

fn mark(e: &TimelineEvent) -> Mark {
    Mark { at: e.at, what: e.what.clone() }
}

/// The measures of a sorted, deduplicated timeline.
pub fn measure(events: &[TimelineEvent]) -> Measures {
    let signal =
        events.iter().find(|e| matches!(e.kind, EventKind::Drill | EventKind::Signal | EventKind::SourceStale));
    let alert = events.iter().find(|e| e.kind == EventKind::AlertFiring && signal.is_none_or(|s| e.at >= s.at));
    let moved = alert.and_then(|a| events.iter().find(|e| e.kind == EventKind::TrafficMoved && e.at >= a.at));
    // To the nearest second: entries carry milliseconds, and 19.999 s is 20 s.
    let secs = |a: DateTime<Utc>, b: DateTime<Utc>| ((b - a).num_milliseconds() as f64 / 1000.0).round() as i64;
    Measures {
        time_to_detect_secs: signal.zip(alert).map(|(s, a)| secs(s.at, a.at)),
        time_to_mitigate_secs: alert.zip(moved).map(|(a, t)| secs(a.at, t.at)),
        first_signal: signal.map(mark),
        first_alert: alert.map(mark),
        traffic_moved: moved.map(mark),
    }
}

/// A duration as a postmortem writes it: 45 s, 3 min 05 s, 1 h 02 min.
pub fn human(secs: i64) -> String {
    let s = secs.max(0);
    let d = Duration::seconds(s);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", d.num_minutes(), s % 60),
        _ => format!("{} h {:02} min", d.num_hours(), (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::reference_instant;

    fn at(secs: i64) -> DateTime<Utc> {
        reference_instant() + Duration::seconds(secs)
    }

    fn ev(secs: i64, kind: EventKind, key: &str, origin: Origin) -> TimelineEvent {
        TimelineEvent {
            at: at(secs),
            kind,
            who: None,
            what: format!("{} {key}", kind.label()),
            cloud: None,
            source: Some("am".into()),
            key: key.into(),
            origin,
        }
    }

    #[test]
    fn one_happening_reported_twice_is_listed_once_and_the_window_cuts() {
        let events = vec![
            ev(30, EventKind::AlertFiring, "alert:am:a:1", Origin::Source("am".into())),
            ev(30, EventKind::AlertFiring, "alert:am:a:1", Origin::Journal),
            ev(-600, EventKind::AlertFiring, "alert:am:old:1", Origin::Journal),
            ev(10, EventKind::Drill, "drill:1", Origin::Journal),
        ];
        let t = assemble(events, at(-60), at(600), vec![]);
        assert_eq!(t.events.len(), 2, "{:#?}", t.events);
        assert_eq!(t.events[0].kind, EventKind::Drill);
        assert_eq!(t.events[1].origin, Origin::Journal, "the journal's copy is kept over the source's");
    }

    #[test]
    fn an_audited_ack_hides_the_sources_echo_of_it_but_not_another_ack() {
        let mut audited = ev(100, EventKind::Ack, "audit:1", Origin::Audit);
        audited.what = "ack fp-1 for 30m — executed".into();
        let echo = ev(101, EventKind::Ack, "ack:alert:am:fp-1:5:101", Origin::Journal);
        let other = ev(102, EventKind::Ack, "ack:alert:am:fp-2:5:102", Origin::Journal);
        let late = ev(400, EventKind::Ack, "ack:alert:am:fp-1:5:400", Origin::Source("am".into()));
        let t = assemble(vec![audited, echo, other, late], at(0), at(600), vec![]);
        let keys: Vec<&str> = t.events.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["audit:1", "ack:alert:am:fp-2:5:102", "ack:alert:am:fp-1:5:400"]);
    }

    #[test]
    fn detect_and_mitigate_are_measured_from_the_first_signal_and_the_first_alert_after_it() {
        let events = vec![
            // A standing alert before the incident is not its first alert.
            ev(0, EventKind::AlertFiring, "alert:am:standing:0", Origin::Journal),
            ev(60, EventKind::Signal, "signal:aws:60", Origin::Journal),
            ev(95, EventKind::AlertFiring, "alert:am:a:95", Origin::Journal),
            ev(140, EventKind::AlertFiring, "alert:am:b:140", Origin::Journal),
            // A traffic move before the alert is someone else's change.
            ev(80, EventKind::TrafficMoved, "moved:80", Origin::Audit),
            ev(215, EventKind::TrafficMoved, "moved:215", Origin::Audit),
        ];
        let m = assemble(events, at(-10), at(600), vec![]).measures;
        assert_eq!(m.first_signal.map(|s| s.at), Some(at(60)));
        assert_eq!(m.first_alert.map(|s| s.at), Some(at(95)));
        assert_eq!(m.time_to_detect_secs, Some(35));
        assert_eq!(m.traffic_moved.map(|s| s.at), Some(at(215)));
        assert_eq!(m.time_to_mitigate_secs, Some(120));

        let only_alerts = vec![ev(5, EventKind::AlertFiring, "alert:x", Origin::Journal)];
        let m = assemble(only_alerts, at(0), at(600), vec![]).measures;
        assert_eq!((m.time_to_detect_secs, m.time_to_mitigate_secs), (None, None), "unknown, never 0");
        assert_eq!(m.first_alert.map(|s| s.at), Some(at(5)));
    }

    #[test]
    fn durations_read_as_a_postmortem_writes_them() {
        assert_eq!(human(45), "45 s");
        assert_eq!(human(185), "3 min 05 s");
        assert_eq!(human(3725), "1 h 02 min");
    }
}
