use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CloudKind, SourceId};

/// P0 is the worst. Ordered so that sorting ascending puts P0 first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    P0,
    P1,
    P2,
    P3,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::P0, Severity::P1, Severity::P2, Severity::P3];

    pub fn label(self) -> &'static str {
        match self {
            Severity::P0 => "P0",
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AlertState {
    Firing,
    Acknowledged {
        by: String,
        at: DateTime<Utc>,
        comment: String,
    },
    /// Muted by another alert that covers it (an Alertmanager inhibition rule):
    /// still true, but someone is already being told about the cause.
    Inhibited {
        by: String,
    },
    Resolved,
}

impl AlertState {
    pub fn label(&self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Acknowledged { .. } => "acked",
            AlertState::Inhibited { .. } => "inhibited",
            AlertState::Resolved => "resolved",
        }
    }
    pub fn is_open(&self) -> bool {
        !matches!(self, AlertState::Resolved)
    }
}

/// One alert from any source. Text fields are remote text: sanitise before drawing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Stable id within its source (alarm name, fingerprint, alert id).
    pub id: String,
    pub source: SourceId,
    pub cloud: Option<CloudKind>,
    pub severity: Severity,
    pub title: String,
    pub resource: String,
    pub started_at: DateTime<Utc>,
    pub state: AlertState,
    /// Where notifications for this alert go (pager rota, chat channel).
    pub route: String,
    /// The alert's own labels where its source has them (Alertmanager), else empty.
    pub labels: super::Labels,
}
