//! Audit lines as timeline entries: every attempted action with its plan, the
//! guardrails' verdicts and what came of it; acknowledgements as acks.

use crate::actions::{AuditRecord, Outcome};
use crate::model::rto::Rto;
use crate::model::{EventKind, Origin, TimelineEvent};

/// The verdicts of the guardrails an audit line kept, counted: "guards 5 passed,
/// 1 failed (capacity)". The guards are kept as JSON so any version's log reads.
fn guards_line(guards: &serde_json::Value) -> Option<String> {
    let list = guards.as_array().filter(|l| !l.is_empty())?;
    let state = |g: &serde_json::Value| g.get("state").and_then(|s| s.as_str()).unwrap_or("unknown").to_string();
    let name = |g: &serde_json::Value| g.get("name").and_then(|s| s.as_str()).unwrap_or("?").to_string();
    let passed = list.iter().filter(|g| state(g).eq_ignore_ascii_case("passed")).count();
    let not: Vec<String> = list
        .iter()
        .filter(|g| !state(g).eq_ignore_ascii_case("passed"))
        .map(|g| format!("{} {}", name(g), state(g).to_lowercase()))
        .collect();
    Some(if not.is_empty() {
        format!("guards: all {passed} passed")
    } else {
        format!("guards: {passed} passed, {}", not.join(", "))
    })
}

/// The entries one audit line stands for: a `measured` line (a followed
/// failover's phases) is the measurement and, when the traffic moved, the
/// moment it did.
pub fn entries(r: &AuditRecord) -> Vec<TimelineEvent> {
    match (&r.rto, r.outcome) {
        (Some(rto), Outcome::Measured) => measured(r, rto),
        _ => vec![entry(r)],
    }
}

fn measured(r: &AuditRecord, rto: &Rto) -> Vec<TimelineEvent> {
    let predicted = rto.predicted_secs.map(|p| format!(" (predicted {p} s)")).unwrap_or_default();
    let base = TimelineEvent {
        at: rto.finished_at.unwrap_or(r.time),
        kind: EventKind::Rto,
        who: Some(r.actor.label()),
        what: format!("RTO {}{predicted}", rto.line()),
        cloud: None,
        source: Some(r.source.clone()).filter(|s| !s.is_empty()),
        key: format!("rto:{}:{}", rto.sent_at.timestamp_millis(), rto.action),
        origin: Origin::Audit,
    };
    let mut out = Vec::with_capacity(2);
    if let Some(at) = rto.traffic_at {
        let secs = (at - rto.sent_at).num_milliseconds() as f64 / 1000.0;
        out.push(TimelineEvent {
            at,
            kind: EventKind::TrafficMoved,
            what: format!("traffic moved: every cloud within 5 points of the plan, {secs:.1} s after {}", rto.action),
            key: format!("moved:{}:{}", rto.sent_at.timestamp_millis(), rto.action),
            ..base.clone()
        });
    }
    out.push(base);
    out
}

/// One audit line as one entry.
fn entry(r: &AuditRecord) -> TimelineEvent {
    let kind = if r.action.starts_with("ack ") {
        EventKind::Ack
    } else if r.action.starts_with("unack ") {
        EventKind::Unack
    } else {
        EventKind::Action
    };
    let mut what = format!("{} — {}", r.action, r.outcome.label());
    if !r.plan.is_empty() && kind == EventKind::Action {
        what.push_str(&format!("; plan: {}", r.plan.join("; ")));
    }
    if let Some(g) = guards_line(&r.guards).filter(|_| kind == EventKind::Action) {
        what.push_str(&format!("; {g}"));
    }
    if let Some(f) = &r.forced {
        what.push_str(&format!("; FORCED: {f}"));
    }
    if let Some(e) = r.error.as_deref().filter(|_| matches!(r.outcome, Outcome::Failed | Outcome::Refused)) {
        what.push_str(&format!("; {e}"));
    }
    TimelineEvent {
        at: r.time,
        kind,
        who: Some(r.actor.label()),
        what,
        cloud: None,
        source: Some(r.source.clone()).filter(|s| !s.is_empty()),
        key: format!("audit:{}:{}:{}", r.time.timestamp_millis(), r.action, r.outcome.label()),
        origin: Origin::Audit,
    }
}
