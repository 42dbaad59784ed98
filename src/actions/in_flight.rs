//! Actions sent but not yet seen in a fresh read. The console and the runbook
//! CLI both track them here: a fresh read that shows the plan confirms it; a lost
//! answer is settled by a fresh read of its source (`landed` / `not_landed`, both
//! audited); one that no read confirms in time expires. Nothing here re-sends.

use chrono::{DateTime, Duration, Utc};

use super::Checked;
use crate::model::{Fleet, Freshness};

/// One action on its way.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    pub checked: Checked,
    /// When it was sent.
    pub since: DateTime<Utc>,
    /// No fresh read showed it by then: the operator is told.
    pub deadline: DateTime<Utc>,
    pub request_id: Option<String>,
    /// Set when the answer was lost (and when that was known).
    pub lost: Option<DateTime<Utc>>,
}

/// How a tracked action left the list.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Answered, and a fresh read shows every planned "after".
    Confirmed { checked: Checked, request_id: Option<String>, after: Duration },
    /// The answer was lost; a fresh read taken after that shows the change.
    Landed { checked: Checked, after: Duration },
    /// The answer was lost; fresh reads after that show no change.
    NotLanded { checked: Checked },
    /// No fresh read confirmed it before its deadline (`lost`: its answer was
    /// lost and no read after that settled it either).
    Expired { checked: Checked, lost: bool },
}

/// The actions in flight, each keyed by its plan's target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InFlight {
    tracked: Vec<Tracked>,
    /// How long after a lost answer fresh reads may still show the change before
    /// the verdict is "not landed". Zero: the first fresh read decides (the
    /// console, which keeps polling anyway); the runbook CLI waits up to its
    /// confirmation timeout, as a slow API may show a landed write late.
    lost_grace: Duration,
}

impl InFlight {
    pub fn new(lost_grace: Duration) -> InFlight {
        InFlight { tracked: Vec::new(), lost_grace }
    }

    /// The targets with an action on its way (the "not in flight" guardrail).
    pub fn targets(&self) -> Vec<String> {
        self.tracked.iter().map(|t| t.checked.plan.target.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.tracked.is_empty()
    }

    pub fn len(&self) -> usize {
        self.tracked.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tracked> {
        self.tracked.iter()
    }

    /// A plan was sent at `now`; no read confirming it after `timeout` expires it.
    pub fn start(&mut self, checked: Checked, now: DateTime<Utc>, timeout: Duration) {
        self.tracked.push(Tracked { checked, since: now, deadline: now + timeout, request_id: None, lost: None });
    }

    /// The source took it.
    pub fn answered(&mut self, target: &str, request_id: &str) {
        if let Some(t) = self.find(target) {
            t.request_id = Some(request_id.to_string());
        }
    }

    /// The source refused it: nothing changed, nothing to wait for.
    pub fn failed(&mut self, target: &str) {
        self.tracked.retain(|t| t.checked.plan.target != target);
    }

    /// The answer was lost at `at`: from then on a fresh read decides.
    pub fn lost(&mut self, target: &str, at: DateTime<Utc>) {
        if let Some(t) = self.find(target) {
            t.lost = Some(at);
        }
    }

    fn find(&mut self, target: &str) -> Option<&mut Tracked> {
        self.tracked.iter_mut().find(|t| t.checked.plan.target == target)
    }

    /// Judge every action against a new read of the estate, taken at `now`.
    pub fn on_read(&mut self, fleet: &Fleet, now: DateTime<Utc>) -> Vec<Settled> {
        let grace = self.lost_grace;
        let mut settled = Vec::new();
        self.tracked.retain(|t| {
            let plan = &t.checked.plan;
            let shows = plan.is_reflected_in(fleet);
            let verdict = match t.lost {
                Some(at) => {
                    // Only a read of the plan's own source taken after the loss can tell.
                    let read_after = fleet
                        .source(&plan.source)
                        .is_some_and(|s| s.freshness == Freshness::Fresh && s.last_ok.is_some_and(|ok| ok >= at));
                    match (read_after, shows) {
                        (true, true) => Some(Settled::Landed { checked: t.checked.clone(), after: now - t.since }),
                        // (The read's own time says it came after the loss; the caller's
                        // `now` may lag it, so with no grace it is not consulted.)
                        (true, false) if grace.is_zero() || now >= at + grace => {
                            Some(Settled::NotLanded { checked: t.checked.clone() })
                        }
                        _ => None,
                    }
                }
                // Confirmed only once answered: a read before the answer proves nothing.
                None if t.request_id.is_some() && shows => Some(Settled::Confirmed {
                    checked: t.checked.clone(),
                    request_id: t.request_id.clone(),
                    after: now - t.since,
                }),
                None => None,
            };
            let keep = verdict.is_none();
            settled.extend(verdict);
            keep
        });
        settled
    }

    /// Actions past their deadline leave the list. A lost answer past it without
    /// any fresh read after the loss is "not landed" only as far as anyone can
    /// tell; it is reported as expired, not audited as a verdict.
    pub fn on_tick(&mut self, now: DateTime<Utc>) -> Vec<Settled> {
        let mut expired = Vec::new();
        self.tracked.retain(|t| {
            let late = now > t.deadline;
            if late {
                expired.push(Settled::Expired { checked: t.checked.clone(), lost: t.lost.is_some() });
            }
            !late
        });
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::plan;
    use crate::model::{CloudKind, Intent};
    use crate::providers::demo::{DrillBook, EstateSpec, fleet_at as demo_fleet};

    fn t0() -> DateTime<Utc> {
        crate::clock::reference_instant()
    }

    /// The demo estate read at `at` (its one source fresh as of then).
    fn fleet_at(at: DateTime<Utc>) -> Fleet {
        demo_fleet(&EstateSpec::embedded().expect("embedded estate"), &DrillBook::default(), at, 1)
    }

    fn scale_to(fleet: &Fleet, desired: u32) -> Checked {
        let intent = Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired };
        Checked { plan: plan(&intent, fleet).expect("plan"), guards: vec![] }
    }

    fn with_desired(mut fleet: Fleet, desired: u32) -> Fleet {
        for g in fleet.groups.iter_mut().filter(|g| g.cloud == CloudKind::Aws && g.name == "web-asg") {
            g.desired = desired;
        }
        fleet
    }

    #[test]
    fn an_answered_action_is_confirmed_by_the_first_read_that_shows_it() {
        let fleet = fleet_at(t0());
        let checked = scale_to(&fleet, 9);
        let mut flight = InFlight::new(Duration::zero());
        flight.start(checked.clone(), t0(), Duration::seconds(300));
        assert_eq!(flight.targets(), vec![checked.plan.target.clone()]);
        // A read showing the change before the answer came back proves nothing yet.
        assert!(flight.on_read(&with_desired(fleet_at(t0()), 9), t0()).is_empty());
        flight.answered(&checked.plan.target, "req-1");
        assert!(flight.on_read(&fleet_at(t0()), t0()).is_empty(), "the old value still shows");
        let later = t0() + Duration::seconds(7);
        let settled = flight.on_read(&with_desired(fleet_at(later), 9), later);
        assert_eq!(
            settled,
            vec![Settled::Confirmed { checked, request_id: Some("req-1".into()), after: Duration::seconds(7) }]
        );
        assert!(flight.is_empty());
    }

    #[test]
    fn a_lost_answer_is_settled_only_by_a_read_of_its_source_taken_after_the_loss() {
        let fleet = fleet_at(t0());
        let checked = scale_to(&fleet, 9);
        let mut flight = InFlight::new(Duration::zero());
        flight.start(checked.clone(), t0(), Duration::seconds(300));
        let lost_at = t0() + Duration::seconds(5);
        flight.lost(&checked.plan.target, lost_at);
        // A read from before the loss cannot tell, even if it shows the old value.
        assert!(flight.on_read(&fleet_at(t0()), lost_at).is_empty());
        let after = lost_at + Duration::seconds(1);
        assert_eq!(
            flight.on_read(&with_desired(fleet_at(after), 9), after),
            vec![Settled::Landed { checked: checked.clone(), after: Duration::seconds(6) }]
        );

        let mut flight = InFlight::new(Duration::zero());
        flight.start(checked.clone(), t0(), Duration::seconds(300));
        flight.lost(&checked.plan.target, lost_at);
        assert_eq!(flight.on_read(&fleet_at(after), after), vec![Settled::NotLanded { checked }]);
    }

    #[test]
    fn with_a_grace_a_lost_answer_waits_for_late_reads_before_not_landed() {
        let fleet = fleet_at(t0());
        let checked = scale_to(&fleet, 9);
        let mut flight = InFlight::new(Duration::seconds(60));
        flight.start(checked.clone(), t0(), Duration::seconds(60));
        flight.lost(&checked.plan.target, t0());
        let soon = t0() + Duration::seconds(10);
        assert!(flight.on_read(&fleet_at(soon), soon).is_empty(), "within the grace: keep reading");
        let late = t0() + Duration::seconds(61);
        assert_eq!(flight.on_read(&fleet_at(late), late), vec![Settled::NotLanded { checked }]);
    }

    #[test]
    fn a_refused_action_leaves_and_an_unconfirmed_one_expires() {
        let fleet = fleet_at(t0());
        let a = scale_to(&fleet, 9);
        let mut flight = InFlight::new(Duration::zero());
        flight.start(a.clone(), t0(), Duration::seconds(30));
        flight.failed(&a.plan.target);
        assert!(flight.is_empty());
        flight.start(a.clone(), t0(), Duration::seconds(30));
        flight.answered(&a.plan.target, "req-2");
        assert!(flight.on_tick(t0() + Duration::seconds(30)).is_empty(), "not yet past the deadline");
        assert_eq!(flight.on_tick(t0() + Duration::seconds(31)), vec![Settled::Expired { checked: a, lost: false }]);
        assert!(flight.is_empty());
    }
}
