//! The incident timeline: alerts firing and resolving, acknowledgements,
//! actions with their plans and guardrails, drills, sources going stale and
//! back, and failover measurements, merged from the audit log, the journal the
//! console keeps while it watches, and the sources' own alert histories; with
//! time to detect and time to mitigate computed from them.
//!
//! `observe` turns reads of the estate into entries (pure), `journal` keeps
//! them, `from_audit` reads the audit log's lines as entries, `assemble` merges
//! and measures, `render` writes markdown or JSON.

pub mod assemble;
pub mod from_audit;
pub mod gather;
pub mod journal;
pub mod observe;
pub mod render;

pub use assemble::{HistoryRead, Measures, Timeline, assemble};
pub use journal::Journal;
pub use observe::Observer;

use chrono::{DateTime, Utc};

use crate::model::{EventKind, Origin, TimelineEvent};

/// The entry for a drill started or cleared through the console (demo).
pub fn drill_entry(said: &str, at: DateTime<Utc>, who: &str) -> TimelineEvent {
    let kind = if said.starts_with("cleared") { EventKind::DrillCleared } else { EventKind::Drill };
    TimelineEvent {
        at,
        kind,
        who: Some(who.to_string()),
        what: said.to_string(),
        cloud: None,
        source: None,
        key: format!("drill:{}:{said}", at.timestamp_millis()),
        origin: Origin::Journal,
    }
}
