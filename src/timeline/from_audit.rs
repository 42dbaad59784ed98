//! Audit lines as timeline entries: every attempted action with its plan, the
//! guardrails' verdicts and what came of it; acknowledgements as acks.

use crate::actions::{AuditRecord, Outcome};
use crate::model::rto::Rto;
use crate::model::{EventKind, Origin, TimelineEvent};

/// The verdicts of the guardrails an audit line kept: "guards: all 6 passed", or
/// "guards: 5 passed, target capacity failed". The guards are kept as JSON so any
/// version's log reads.
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
    // Only an ack that went through is an ack; a refused or failed one is an
    // attempt, like any other action's.
    let went_through = matches!(r.outcome, Outcome::Executed | Outcome::Landed);
    let kind = if went_through && r.action.starts_with("ack ") {
        EventKind::Ack
    } else if went_through && r.action.starts_with("unack ") {
        EventKind::Unack
    } else {
        EventKind::Action
    };
    let mut what = format!("{} — {}", r.action, r.outcome.label());
    let ack_attempt = r.action.starts_with("ack ") || r.action.starts_with("unack ");
    if !r.plan.is_empty() && !ack_attempt {
        what.push_str(&format!("; plan: {}", r.plan.join("; ")));
    }
    if let Some(g) = guards_line(&r.guards).filter(|_| !ack_attempt) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::reference_instant;
    use crate::model::Actor;

    fn line(action: &str, outcome: Outcome, guards: serde_json::Value) -> AuditRecord {
        AuditRecord {
            time: reference_instant(),
            actor: Actor { user: "ana".into(), host: "bastion".into(), ssh_client: None },
            action: action.into(),
            target: "t".into(),
            source: "aws".into(),
            plan: vec!["AWS web: weight 50 → 0".into()],
            changes: serde_json::json!([]),
            guards,
            forced: None,
            outcome,
            request_id: None,
            error: Some("capacity too small".into()),
            rto: None,
        }
    }

    #[test]
    fn actions_say_plan_guards_and_outcome_and_only_an_ack_that_went_through_is_an_ack() {
        let guards = serde_json::json!([
            {"name": "target healthy", "state": "passed"},
            {"name": "target capacity", "state": "failed"},
            {"name": "arbiter reachable", "state": "unknown"}
        ]);
        let e = &entries(&line("drain aws", Outcome::Refused, guards))[0];
        assert_eq!(e.kind, EventKind::Action);
        assert_eq!(e.who.as_deref(), Some("ana@bastion"));
        assert_eq!(
            e.what,
            "drain aws — refused; plan: AWS web: weight 50 → 0; guards: 1 passed, target capacity failed, \
             arbiter reachable unknown; capacity too small"
        );
        let all = serde_json::json!([{"name": "a", "state": "passed"}, {"name": "b", "state": "passed"}]);
        assert!(entries(&line("drain aws", Outcome::Executed, all))[0].what.ends_with("; guards: all 2 passed"));
        assert_eq!(entries(&line("ack fp-1", Outcome::Executed, serde_json::json!([])))[0].kind, EventKind::Ack);
        assert_eq!(entries(&line("unack fp-1", Outcome::Landed, serde_json::json!([])))[0].kind, EventKind::Unack);
        let refused = &entries(&line("ack fp-1", Outcome::Refused, serde_json::json!([])))[0];
        assert_eq!(refused.kind, EventKind::Action, "a refused ack is an attempt, not an ack");
        assert!(!refused.what.contains("plan:"), "{}", refused.what);
    }

    #[test]
    fn a_measured_line_is_the_measurement_and_the_moment_traffic_moved() {
        let t = |s| reference_instant() + chrono::Duration::seconds(s);
        let rto = Rto {
            action: "failover aws -> azure".into(),
            policy: "shop".into(),
            sent_at: t(0),
            accepted_at: Some(t(1)),
            in_sync_at: Some(t(21)),
            resolvers_at: None,
            traffic_at: Some(t(75)),
            predicted_secs: Some(90),
            finished_at: Some(t(80)),
            timed_out: false,
            deadline_secs: 600,
            resolvers: vec![],
            traffic: vec![],
            traffic_unknown: None,
        };
        let mut r = line("failover aws -> azure", Outcome::Measured, serde_json::json!([]));
        r.rto = Some(rto.clone());
        let got = entries(&r);
        assert_eq!(
            got.iter().map(|e| (e.kind, e.at)).collect::<Vec<_>>(),
            [(EventKind::TrafficMoved, t(75)), (EventKind::Rto, t(80))]
        );
        assert!(got[0].what.contains("75.0 s after failover aws -> azure"), "{}", got[0].what);
        assert!(got[1].what.starts_with("RTO failover aws -> azure: accepted"), "{}", got[1].what);
        assert!(got[1].what.ends_with("(predicted 90 s)"), "{}", got[1].what);
        r.rto = Some(Rto { traffic_at: None, ..rto });
        assert_eq!(entries(&r).len(), 1, "no traffic move is claimed when none was measured");
    }
}
