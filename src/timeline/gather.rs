//! Reading every history for `opsdeck timeline`: the audit log, the journal,
//! and each source's own alert history (side by side, each bounded in time, a
//! failure said in the timeline rather than ending it).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::assemble::{HistoryRead, Timeline, assemble};
use super::from_audit;
use super::journal::Journal;
use crate::actions::AuditLog;
use crate::model::TimelineEvent;
use crate::providers::{Provider, ProviderError};

/// Where to read from; any may be absent (no state directory, no sources).
pub struct Histories<'a> {
    pub audit: Option<&'a AuditLog>,
    pub journal: Option<&'a Journal>,
    pub sources: &'a [Arc<dyn Provider>],
    /// How long one source's history read may take.
    pub timeout: Duration,
}

/// The timeline of `[since, now]` from every history.
pub async fn gather(h: &Histories<'_>, since: DateTime<Utc>, now: DateTime<Utc>) -> Timeline {
    let mut events: Vec<TimelineEvent> = Vec::new();
    let mut reads = Vec::new();
    if let Some(log) = h.audit {
        let log = log.clone();
        let read = tokio::task::spawn_blocking(move || log.read_since(since)).await;
        reads.push(match read {
            Ok(Ok(records)) => {
                events.extend(records.iter().flat_map(from_audit::entries));
                HistoryRead { name: "audit log".into(), state: "read", entries: records.len(), error: None }
            }
            Ok(Err(e)) => failed("audit log", e.to_string()),
            Err(e) => failed("audit log", e.to_string()),
        });
    }
    if let Some(journal) = h.journal {
        let j = journal.clone();
        let read = tokio::task::spawn_blocking(move || j.read_since(since)).await;
        reads.push(match read {
            Ok(Ok((got, skipped))) => {
                let n = got.len();
                events.extend(got);
                let error = (skipped > 0).then(|| format!("{skipped} lines could not be read"));
                HistoryRead { name: "journal".into(), state: "read", entries: n, error }
            }
            Ok(Err(e)) => failed("journal", e.to_string()),
            Err(e) => failed("journal", e.to_string()),
        });
    }
    let asked = h.sources.iter().map(|p| {
        let p = p.clone();
        async move {
            let r = match tokio::time::timeout(h.timeout, p.alert_history(since, now)).await {
                Ok(r) => r,
                Err(_) => Err(ProviderError::Timeout(h.timeout)),
            };
            (p.id().to_string(), r)
        }
    });
    for (name, r) in join_all(asked).await {
        reads.push(match r {
            Ok(Some(got)) => {
                let n = got.len();
                events.extend(got);
                HistoryRead { name, state: "read", entries: n, error: None }
            }
            Ok(None) => HistoryRead { name, state: "none", entries: 0, error: None },
            Err(e) => failed(&name, crate::credentials::redact(&e.to_string()).into_owned()),
        });
    }
    assemble(events, since, now, reads)
}

fn failed(name: &str, error: String) -> HistoryRead {
    HistoryRead { name: name.to_string(), state: "failed", entries: 0, error: Some(error) }
}
