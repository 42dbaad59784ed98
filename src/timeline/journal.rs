//! The journal: what the console saw happen (alerts firing and resolving,
//! health falling and recovering, sources going stale, drills), one JSON line
//! per entry, appended and readable only by its owner. The audit log says what
//! operators did; this says what the estate did, so `opsdeck timeline` can tell
//! an incident after the console that watched it has gone.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::model::TimelineEvent;

#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {source}")]
pub struct JournalError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// `$XDG_STATE_HOME/opsdeck/journal.jsonl`, beside the audit log.
    pub fn default_path() -> Option<PathBuf> {
        let dirs = directories::ProjectDirs::from("", "", "opsdeck")?;
        Some(dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).join("journal.jsonl"))
    }

    pub fn new(path: PathBuf) -> Journal {
        Journal { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append entries, one line each. Not fsynced per line as the audit log is: a
    /// lost last second of observations is re-observed by the next console, a
    /// lost audit line is not.
    pub fn append(&self, events: &[TimelineEvent]) -> Result<(), JournalError> {
        if events.is_empty() {
            return Ok(());
        }
        let err = |source| JournalError { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut text = Vec::new();
        for e in events {
            let json = serde_json::to_string(e).map_err(|e| err(std::io::Error::other(e)))?;
            text.extend_from_slice(crate::credentials::redact(&json).as_bytes());
            text.push(b'\n');
        }
        let mut f = OpenOptions::new().create(true).append(true).mode(0o600).open(&self.path).map_err(err)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        f.write_all(&text).map_err(err)
    }

    /// Entries at or after `since`, in file order. Lines that do not parse (a torn
    /// last line, a later version's kind) are skipped and counted. A journal not
    /// written yet holds nothing; one that cannot be read is an error.
    pub fn read_since(&self, since: DateTime<Utc>) -> Result<(Vec<TimelineEvent>, usize), JournalError> {
        let err = |source| JournalError { path: self.path.clone(), source };
        let f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(err(e)),
        };
        let (mut out, mut skipped) = (Vec::new(), 0);
        for line in BufReader::new(f).lines() {
            let line = line.map_err(err)?;
            match serde_json::from_str::<TimelineEvent>(&line) {
                Ok(e) if e.at >= since => out.push(e),
                Ok(_) => {}
                Err(_) if line.trim().is_empty() => {}
                Err(_) => skipped += 1,
            }
        }
        Ok((out, skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::reference_instant;
    use crate::model::{EventKind, Origin};

    fn entry(secs: i64, what: &str) -> TimelineEvent {
        TimelineEvent {
            at: reference_instant() + chrono::Duration::seconds(secs),
            kind: EventKind::AlertFiring,
            who: None,
            what: what.into(),
            cloud: None,
            source: Some("aws".into()),
            key: format!("k{secs}"),
            origin: Origin::Journal,
        }
    }

    #[test]
    fn entries_come_back_from_a_time_on_and_a_torn_line_is_counted_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::new(dir.path().join("state/opsdeck/journal.jsonl"));
        assert_eq!(j.read_since(reference_instant()).expect("absent is empty").0, vec![]);
        j.append(&[entry(0, "one"), entry(60, "two ✓")]).expect("append");
        j.append(&[entry(120, "three")]).expect("append");
        let mut f = OpenOptions::new().append(true).open(j.path()).expect("open");
        f.write_all(b"{\"at\":\"2026-").expect("torn");
        let (back, skipped) = j.read_since(reference_instant() + chrono::Duration::seconds(60)).expect("read");
        assert_eq!(back.iter().map(|e| e.what.as_str()).collect::<Vec<_>>(), ["two ✓", "three"]);
        assert_eq!(skipped, 1);
        let mode = std::fs::metadata(j.path()).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
