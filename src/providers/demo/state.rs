//! The demo's mutable state: drills in force and the changes operators made
//! through actions (DNS weights, desired capacities, acknowledgements). Shared
//! between the UI side and the demo provider behind one lock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use super::drill::{DrillBook, DrillCommand};
use crate::model::CloudKind;
use crate::model::{Actor, AlertMark, Change, Plan};

#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    pub by: String,
    pub at: DateTime<Utc>,
    pub comment: String,
    pub until: Option<DateTime<Utc>>,
}

/// What operators changed, applied on top of the estate file by the simulation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// DNS weight per cloud in the global policy.
    pub weights: BTreeMap<CloudKind, u32>,
    /// Desired capacity pinned per cloud's group (the autoscaler stands aside).
    pub desired: BTreeMap<CloudKind, u32>,
    /// Acknowledged alerts by id.
    pub acks: BTreeMap<String, Ack>,
    /// The last change of DNS weights: clients follow it over one TTL.
    pub weight_change: Option<WeightChange>,
}

/// When the weights last changed, and what they were before.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightChange {
    pub at: DateTime<Utc>,
    pub before: BTreeMap<CloudKind, u32>,
}

impl Overrides {
    /// The acknowledgement of `id` still in force at `now`.
    pub fn ack(&self, id: &str, now: DateTime<Utc>) -> Option<&Ack> {
        self.acks.get(id).filter(|a| a.until.is_none_or(|u| now < u))
    }
}

#[derive(Debug, Clone, Default)]
pub struct DemoState {
    pub drills: DrillBook,
    pub overrides: Overrides,
    executed: u64,
}

/// Cheap shared handle to the demo's state.
#[derive(Debug, Clone, Default)]
pub struct DemoHandle(Arc<Mutex<DemoState>>);

impl DemoHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, DemoState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn apply(&self, cmd: DrillCommand, now: DateTime<Utc>) -> Result<String, String> {
        self.lock().drills.apply(cmd, now)
    }

    pub fn snapshot(&self) -> DemoState {
        self.lock().clone()
    }

    /// Carry out a plan on the demo estate. Returns a request id, as a cloud API would.
    pub fn execute(&self, plan: &Plan, actor: &Actor, now: DateTime<Utc>) -> String {
        let mut state = self.lock();
        let mut before = BTreeMap::new();
        for change in &plan.changes {
            match change {
                Change::Weight { cloud, after, before: was, .. } => {
                    before.insert(*cloud, *was);
                    state.overrides.weights.insert(*cloud, *after);
                }
                Change::Capacity { cloud, after, .. } => {
                    state.overrides.desired.insert(*cloud, *after);
                }
                Change::AlertState { id, after, .. } if *after != AlertMark::Acked => {
                    state.overrides.acks.remove(id);
                }
                Change::AlertState { id, comment, minutes, .. } => {
                    let ack = Ack {
                        by: actor.label(),
                        at: now,
                        comment: comment.clone(),
                        until: minutes.map(|m| now + Duration::minutes(i64::from(m))),
                    };
                    state.overrides.acks.insert(id.clone(), ack);
                }
            }
        }
        if !before.is_empty() {
            state.overrides.weight_change = Some(WeightChange { at: now, before });
        }
        state.executed += 1;
        format!("demo-{:06}", state.executed)
    }
}
