//! `opsdeck undo`: the inverse of the caller's last executed action, read from the
//! audit log. Only the very last one is undone: when it has no inverse (an
//! acknowledgement withdrawn), an older action is never reached for instead.

use super::audit::{AuditLog, AuditRecord, Outcome};
use crate::model::{Actor, Change, Intent, inverse_of};

/// The caller's last action that changed something, and the intent that reverses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Undo {
    pub last: AuditRecord,
    pub intent: Intent,
}

/// Whether a line records a change that happened: executed, or a lost answer that a
/// fresh read showed landed.
fn changed_something(r: &AuditRecord) -> bool {
    matches!(r.outcome, Outcome::Executed | Outcome::Landed)
}

/// The same operator: same login on the same host (a shared audit log may hold
/// several people's actions; one never undoes another's by accident).
fn same_operator(a: &Actor, b: &Actor) -> bool {
    a.user == b.user && a.host == b.host
}

/// Find what `actor` last executed in `log` and plan its inverse.
pub fn last_undo(log: &AuditLog, actor: &Actor) -> Result<Undo, String> {
    let last = log
        .last_where(|r| changed_something(r) && same_operator(&r.actor, actor))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
        format!("nothing to undo: {} has no executed action in {}", actor.label(), log.path().display())
    })?;
    let changes: Vec<Change> = serde_json::from_value(last.changes.clone()).map_err(|e| {
        format!("cannot undo '{}' of {}: its audit line's changes do not read back ({e})", last.action, last.time)
    })?;
    let intent = inverse_of(&changes)
        .ok_or_else(|| format!("'{}' of {} has no inverse; nothing older is undone instead", last.action, last.time))?;
    Ok(Undo { last, intent })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Checked;
    use crate::model::{AlertMark, AnswerWeight, CloudKind, Plan, SourceId};

    fn actor(user: &str) -> Actor {
        Actor { user: user.into(), host: "bastion".into(), ssh_client: None }
    }

    fn checked(intent: Intent, changes: Vec<Change>) -> Checked {
        let plan = Plan {
            intent,
            source: SourceId::new("aws/eu-west-1"),
            target: "t".into(),
            changes,
            based_on: None,
            time_to_effect_secs: None,
            effect: None,
        };
        Checked { plan, guards: vec![] }
    }

    fn scale(before: u32, after: u32) -> Checked {
        checked(
            Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired: after },
            vec![Change::Capacity { cloud: CloudKind::Aws, group: "web-asg".into(), before, after, min: 1, max: 10 }],
        )
    }

    fn write(log: &AuditLog, who: &Actor, c: &Checked, outcome: Outcome) {
        let at = crate::clock::reference_instant();
        log.append(&c.record(who, at, outcome, None, None, None)).expect("append");
    }

    #[test]
    fn undoes_the_callers_last_executed_or_landed_action_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let (me, other) = (actor("oncall"), actor("someone-else"));
        assert!(last_undo(&log, &me).expect_err("empty").contains("nothing to undo"));

        write(&log, &me, &scale(4, 6), Outcome::Executed);
        write(&log, &me, &scale(6, 9), Outcome::Refused);
        write(&log, &me, &scale(6, 12), Outcome::Unknown);
        write(&log, &me, &scale(6, 12), Outcome::NotLanded);
        write(&log, &other, &scale(6, 2), Outcome::Executed);
        let undo = last_undo(&log, &me).expect("undo");
        assert_eq!(undo.intent, Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired: 4 });

        write(&log, &me, &scale(6, 8), Outcome::Unknown);
        write(&log, &me, &scale(6, 8), Outcome::Landed);
        assert_eq!(
            last_undo(&log, &me).expect("undo").intent,
            Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired: 6 }
        );
        assert_eq!(
            last_undo(&log, &other).expect("undo").intent,
            Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired: 6 }
        );
    }

    #[test]
    fn an_action_without_an_inverse_is_not_skipped_for_an_older_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let me = actor("oncall");
        let alert = |after| Change::AlertState {
            id: "am:1".into(),
            title: "HighErrorRate".into(),
            before: "firing".into(),
            after,
            comment: "c".into(),
            minutes: None,
        };
        write(
            &log,
            &me,
            &checked(
                Intent::Ack { alert_id: "am:1".into(), comment: "c".into(), minutes: None },
                vec![alert(AlertMark::Acked)],
            ),
            Outcome::Executed,
        );
        assert_eq!(last_undo(&log, &me).expect("undo").intent, Intent::Unack { alert_id: "am:1".into() });
        write(
            &log,
            &me,
            &checked(Intent::Unack { alert_id: "am:1".into() }, vec![alert(AlertMark::Firing)]),
            Outcome::Executed,
        );
        assert!(last_undo(&log, &me).expect_err("no inverse").contains("has no inverse"));
    }

    #[test]
    /// Each answer gets its own old weight back, also when a cloud has several.
    fn a_failover_is_undone_to_the_weights_before_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let me = actor("oncall");
        let w = |cloud, endpoint: &str, before, after| Change::Weight {
            policy: "shop".into(),
            cloud,
            endpoint: endpoint.into(),
            before,
            after,
            share_before: 0.0,
            share_after: 0.0,
        };
        let shift = Intent::Shift { from: CloudKind::Aws, to: CloudKind::Azure, percent: None };
        write(
            &log,
            &me,
            &checked(
                shift,
                vec![
                    w(CloudKind::Aws, "use1", 60, 0),
                    w(CloudKind::Aws, "usw2", 20, 0),
                    w(CloudKind::Azure, "weu", 40, 100),
                ],
            ),
            Outcome::Executed,
        );
        assert_eq!(
            last_undo(&log, &me).expect("undo").intent,
            Intent::SetWeights {
                policy: "shop".into(),
                weights: vec![
                    AnswerWeight { cloud: CloudKind::Aws, endpoint: "use1".into(), weight: 60 },
                    AnswerWeight { cloud: CloudKind::Aws, endpoint: "usw2".into(), weight: 20 },
                    AnswerWeight { cloud: CloudKind::Azure, endpoint: "weu".into(), weight: 40 },
                ]
            }
        );
    }
}
