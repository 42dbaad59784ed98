//! The one write path. The console and the runbook CLI both go through it:
//!
//! plan + guardrails ([`prepare`]) → confirmation by policy ([`decide`]: a
//! failover needs its target typed, a failed guardrail a force reason) → execute
//! once and audit the attempt ([`WritePath::send`]) → a fresh read confirms it or,
//! for a lost answer, decides whether it landed ([`super::in_flight`]) → that
//! verdict is audited too ([`WritePath::record`]).
//!
//! Time comes from the injected clock, so a rehearsal on a manual clock audits
//! the times it claims.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::audit::{AuditLog, AuditRecord, Outcome};
use super::executor::{Executor, Sent};
use super::guard::{self, GuardContext, GuardKey};
use super::{Checked, plan};
use crate::clock::Clock;
use crate::model::{ActionKind, Actor, Fleet, Intent, Plan};

/// Plan `intent` on `fleet` and run the guardrails against it.
pub fn prepare(
    intent: &Intent,
    fleet: &Fleet,
    now: DateTime<Utc>,
    in_flight: &[String],
    require: &[GuardKey],
) -> Result<Checked, String> {
    let plan = plan(intent, fleet)?;
    let guards = guard::check(&plan, fleet, &GuardContext { now, in_flight, require });
    Ok(Checked { plan, guards })
}

/// What the operator gave along with "run it".
#[derive(Debug, Clone, Copy, Default)]
pub struct Consent<'a> {
    /// The target as typed (the dialog's text field, `--confirm`).
    pub typed_target: Option<&'a str>,
    /// The break-glass reason (`F` in the dialog, `--force`).
    pub force: Option<&'a str>,
}

/// Whether a checked plan may run with that consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it; `forced` carries the reason when a guardrail failed.
    Run { forced: Option<String> },
    /// A failover runs only once its target is typed exactly (case aside).
    NeedsTarget { target: String },
    /// A guardrail failed and no reason to force it was given.
    Refused { reasons: String },
}

/// Whether the plan runs only once its target is typed: a failover (it moves
/// traffic; a slip of `y` must not).
pub fn needs_typed_target(plan: &Plan) -> bool {
    plan.kind() == ActionKind::Failover
}

/// The reason a run overrides its guardrails, as audited: given, not blank, and
/// only when a guardrail failed (forcing a passing plan means nothing).
pub fn force_reason(checked: &Checked, force: Option<&str>) -> Option<String> {
    force.map(str::trim).filter(|f| !f.is_empty() && !checked.passed()).map(str::to_string)
}

/// The confirmation policy, the same for a key press and a command line.
pub fn decide(checked: &Checked, consent: &Consent) -> Decision {
    let target = &checked.plan.target;
    if needs_typed_target(&checked.plan) && !consent.typed_target.is_some_and(|t| t.trim().eq_ignore_ascii_case(target))
    {
        return Decision::NeedsTarget { target: target.clone() };
    }
    match force_reason(checked, consent.force) {
        _ if checked.passed() => Decision::Run { forced: None },
        Some(reason) => Decision::Run { forced: Some(reason) },
        None => Decision::Refused { reasons: guard::reasons(&checked.guards) },
    }
}

/// One send: what came of it and the audit line that says so.
#[derive(Debug)]
pub struct Attempt {
    pub sent: Sent,
    pub record: AuditRecord,
    /// When the plan was handed to the provider.
    pub sent_at: DateTime<Utc>,
    /// When the answer (or its loss) was known.
    pub at: DateTime<Utc>,
    /// The audit line could not be written (the action still happened).
    pub audit_error: Option<String>,
}

/// Who acts, through what, remembered where, on which clock.
pub struct WritePath {
    /// `None` in a read-only session: nothing can then be sent.
    executor: Option<Arc<Executor>>,
    audit: Option<AuditLog>,
    actor: Actor,
    clock: Arc<dyn Clock>,
}

impl WritePath {
    pub fn new(executor: Option<Executor>, audit: Option<AuditLog>, actor: Actor, clock: Arc<dyn Clock>) -> WritePath {
        WritePath { executor: executor.map(Arc::new), audit, actor, clock }
    }

    pub fn read_only(&self) -> bool {
        self.executor.is_none()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The audit line for an attempt that was not sent (refused, cancelled) or for
    /// the verdict on a lost answer, stamped now.
    pub fn record(
        &self,
        checked: &Checked,
        outcome: Outcome,
        forced: Option<String>,
        reason: Option<String>,
    ) -> AuditRecord {
        let error = reason.or_else(|| {
            (outcome == Outcome::NotLanded).then(|| "no fresh read after the lost answer showed the change".to_string())
        });
        checked.record(&self.actor, self.clock.now(), outcome, forced, None, error)
    }

    /// Append a line to the audit log off the reactor (it fsyncs). No log
    /// configured is not an error: there is nothing to write to.
    pub async fn audit(&self, record: &AuditRecord) -> Result<(), String> {
        let Some(log) = self.audit.clone() else { return Ok(()) };
        let r = record.clone();
        match tokio::task::spawn_blocking(move || log.append(&r)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("audit task failed: {e}")),
        }
    }

    /// Whether the DNS provider has an executed change everywhere (see
    /// `Provider::change_in_sync`); None also for a read-only session.
    pub async fn change_in_sync(
        &self,
        plan: &Plan,
        request_id: &str,
    ) -> Result<Option<bool>, crate::providers::ProviderError> {
        match &self.executor {
            Some(executor) => executor.change_in_sync(plan, request_id).await,
            None => Ok(None),
        }
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Send the plan once (never retried: a lost answer is re-read, not
    /// repeated) and audit the attempt.
    pub async fn send(&self, checked: &Checked, forced: Option<String>) -> Attempt {
        let sent_at = self.clock.now();
        let sent = match &self.executor {
            Some(executor) => Sent::of(executor.execute(&checked.plan, &self.actor, self.clock.now()).await),
            // Unreachable from the console and the CLI (both refuse first); harmless if reached.
            None => Sent::Failed(crate::providers::ProviderError::Unsupported(
                "read-only session: nothing was executed".into(),
            )),
        };
        let at = self.clock.now();
        let (outcome, request_id, error) = sent.audit();
        let record = checked.record(&self.actor, at, outcome, forced, request_id, error);
        let audit_error = self.audit(&record).await.err();
        Attempt { sent, record, sent_at, at, audit_error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::guard::{GuardResult, GuardState};
    use crate::clock::{ManualClock, reference_instant};
    use crate::model::CloudKind;
    use crate::providers::demo::{DemoHandle, DemoProvider, DrillBook, EstateSpec, fleet_at};

    fn fleet() -> Fleet {
        fleet_at(&EstateSpec::embedded().expect("estate"), &DrillBook::default(), reference_instant(), 1)
    }

    fn failing(mut checked: Checked) -> Checked {
        checked.guards.push(GuardResult {
            key: guard::GuardKey::Capacity,
            name: "capacity",
            state: GuardState::Failed,
            detail: "too small".into(),
            required: false,
        });
        checked
    }

    #[test]
    fn a_failover_needs_its_target_typed_and_a_failed_guard_a_reason() {
        let f = fleet();
        let shift = Intent::Shift { from: CloudKind::Aws, to: CloudKind::Azure, percent: None };
        let checked = prepare(&shift, &f, reference_instant(), &[], &[]).expect("plan");
        let target = checked.plan.target.clone();
        assert_eq!(decide(&checked, &Consent::default()), Decision::NeedsTarget { target: target.clone() });
        assert_eq!(
            decide(&checked, &Consent { typed_target: Some("other"), force: None }),
            Decision::NeedsTarget { target: target.clone() }
        );
        let typed = target.to_uppercase();
        let consent = Consent { typed_target: Some(&typed), force: Some("no reason needed") };
        let mut passing = checked.clone();
        passing.guards.retain(|g| g.state == GuardState::Passed);
        assert_eq!(decide(&passing, &consent), Decision::Run { forced: None }, "nothing to force");
        let bad = failing(checked);
        assert!(matches!(
            decide(&bad, &Consent { typed_target: Some(&target), force: Some("  ") }),
            Decision::Refused { reasons } if reasons.contains("too small")
        ));
        assert_eq!(
            decide(&bad, &Consent { typed_target: Some(&target), force: Some(" primary is gone ") }),
            Decision::Run { forced: Some("primary is gone".into()) }
        );
    }

    #[test]
    fn a_scale_runs_without_a_typed_target() {
        let f = fleet();
        let scale = Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired: 5 };
        let checked = prepare(&scale, &f, reference_instant(), &[], &[]).expect("plan");
        let mut passing = checked.clone();
        passing.guards.retain(|g| g.state == GuardState::Passed);
        assert_eq!(decide(&passing, &Consent::default()), Decision::Run { forced: None });
        let in_flight = vec![checked.plan.target.clone()];
        let again = prepare(&scale, &f, reference_instant(), &in_flight, &[]).expect("plan");
        assert!(!again.passed(), "a second action on a target in flight is refused");
    }

    /// The attempt and its audit line carry the injected clock's time, not the wall clock's.
    #[tokio::test]
    async fn a_send_is_audited_once_at_the_injected_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let estate = Arc::new(EstateSpec::embedded().expect("estate"));
        let provider: Arc<dyn crate::providers::Provider> =
            Arc::new(DemoProvider::new(crate::model::SourceId::new("demo"), estate, DemoHandle::default()));
        let at = reference_instant() - chrono::Duration::days(400);
        let clock = Arc::new(ManualClock::new(at));
        let actor = Actor { user: "oncall".into(), host: "bastion".into(), ssh_client: None };
        let path = WritePath::new(Some(Executor::new([provider])), Some(log.clone()), actor, clock);
        let scale = Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired: 5 };
        let checked = prepare(&scale, &fleet(), at, &[], &[]).expect("plan");
        let attempt = path.send(&checked, None).await;
        assert!(matches!(attempt.sent, Sent::Done(_)), "{:?}", attempt.sent);
        assert_eq!(attempt.audit_error, None);
        let lines = log.tail(10);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].time, at);
        assert_eq!(lines[0].outcome, Outcome::Executed);

        let verdict = path.record(&checked, Outcome::NotLanded, None, None);
        assert_eq!(verdict.time, at);
        assert!(verdict.error.as_deref().is_some_and(|e| e.contains("no fresh read")));

        let read_only = WritePath::new(None, None, path.actor().clone(), Arc::new(ManualClock::new(at)));
        assert!(read_only.read_only());
        let refused = read_only.send(&checked, None).await;
        assert_eq!(refused.record.outcome, Outcome::Failed);
    }
}
