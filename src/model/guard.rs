//! Which guardrail: the key `[guards] require` names and every result carries.

use serde::{Deserialize, Serialize};

/// The guards by the short name `[guards] require` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardKey {
    Fresh,
    InFlight,
    Healthy,
    Capacity,
    Rpo,
    Arbiter,
    Bounds,
    AlertFiring,
    AlertAcked,
}

impl GuardKey {
    /// The name shown in the dialog, the CLI report and the audit line.
    pub fn name(self) -> &'static str {
        match self {
            GuardKey::Fresh => "data fresh",
            GuardKey::InFlight => "nothing in flight",
            GuardKey::Healthy => "target healthy",
            GuardKey::Capacity => "target capacity",
            GuardKey::Rpo => "replication within RPO",
            GuardKey::Arbiter => "arbiter reachable",
            GuardKey::Bounds => "within min/max",
            GuardKey::AlertFiring => "alert firing",
            GuardKey::AlertAcked => "alert acknowledged",
        }
    }
}
