//! The write path: intent → plan → guardrails → confirmation (in the app) →
//! execute (once, through the provider) → audit. See ARCHITECTURE.md.

pub mod audit;
pub mod executor;
pub mod guard;
pub mod in_flight;
pub mod intent;
pub mod plan;
pub mod rto;
pub mod rto_follow;
pub mod run;
pub mod undo;

pub use audit::{AuditLog, AuditRecord, Outcome};
pub use executor::{Executor, Sent};
pub use guard::{GuardContext, GuardResult};
pub use in_flight::{InFlight, Settled};
pub use run::{Consent, Decision, WritePath};
// The action types live in `model` (providers read them too); re-exported here
// because every caller of the write path names them.
pub use crate::model::{ActionKind, Actor, AlertMark, Change, Intent, Plan};
pub use plan::plan;

/// A plan with its guard results: what the confirmation dialog shows and the
/// audit log records.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub plan: Plan,
    pub guards: Vec<GuardResult>,
}

impl Checked {
    pub fn passed(&self) -> bool {
        guard::all_passed(&self.guards)
    }

    /// The audit line for this attempt.
    pub fn record(
        &self,
        actor: &Actor,
        time: chrono::DateTime<chrono::Utc>,
        outcome: Outcome,
        forced: Option<String>,
        request_id: Option<String>,
        error: Option<String>,
    ) -> AuditRecord {
        AuditRecord {
            time,
            actor: actor.clone(),
            action: self.plan.intent.to_string(),
            target: self.plan.target.clone(),
            source: self.plan.source.to_string(),
            plan: self.plan.describe(),
            changes: serde_json::to_value(&self.plan.changes).unwrap_or_default(),
            guards: serde_json::to_value(&self.guards).unwrap_or_default(),
            forced,
            outcome,
            request_id,
            error,
            rto: None,
        }
    }
}
