//! The audit log: one JSON line per attempted action (refused, cancelled,
//! executed, failed), appended, fsynced, readable only by its owner.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Actor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Refused,
    Cancelled,
    Executed,
    Failed,
    /// Sent, but the answer was lost: it may or may not have landed. A fresh read
    /// decides; it is never re-sent.
    Unknown,
    /// The verdict on an earlier `unknown`: a fresh read shows the change.
    Landed,
    /// The verdict on an earlier `unknown`: a fresh read shows no change.
    NotLanded,
    /// A follow-up of an executed failover: its measured phases (`rto`).
    Measured,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Refused => "refused",
            Outcome::Cancelled => "cancelled",
            Outcome::Executed => "executed",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
            Outcome::Landed => "landed",
            Outcome::NotLanded => "not landed",
            Outcome::Measured => "measured",
        }
    }
}

// The operator of this process is read from the environment here, on the write
// path, so `model` stays free of I/O.
impl Actor {
    /// The operator of this process, from the environment.
    pub fn current() -> Actor {
        let user = ["USER", "LOGNAME"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .or_else(user_from_uid)
            .unwrap_or_else(|| "unknown".into());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".into());
        Actor { user, host, ssh_client: std::env::var("SSH_CLIENT").ok() }
    }
}

/// The login name of this process's real uid, from /proc and /etc/passwd (for
/// sessions without USER, such as cron or a bare `ssh host cmd`).
fn user_from_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok();
    let name = passwd.as_deref().and_then(|p| {
        p.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            (f.nth(1)? == uid).then(|| name.to_string())
        })
    });
    Some(name.unwrap_or_else(|| format!("uid:{uid}")))
}

/// One line of the audit log. Plans and guard results are kept as JSON values so
/// the log stays readable by any later version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub time: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub target: String,
    pub source: String,
    pub plan: Vec<String>,
    pub changes: serde_json::Value,
    pub guards: serde_json::Value,
    /// The typed reason when guardrails were overridden.
    pub forced: Option<String>,
    pub outcome: Outcome,
    pub request_id: Option<String>,
    pub error: Option<String>,
    /// The measured phases of a failover (outcome `measured` only); lines
    /// written before RTOs were measured have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto: Option<crate::model::rto::Rto>,
}

#[derive(Debug, thiserror::Error)]
#[error("audit log {path}: {source}")]
pub struct AuditError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Append-only JSONL file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// `$XDG_STATE_HOME/opsdeck/audit.jsonl` (or the platform's equivalent).
    pub fn default_path() -> Option<PathBuf> {
        let dirs = directories::ProjectDirs::from("", "", "opsdeck")?;
        Some(dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).join("audit.jsonl"))
    }

    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and make it durable before returning.
    pub fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let err = |source| AuditError { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let json = serde_json::to_string(record).map_err(|e| err(std::io::Error::other(e)))?;
        // An error message from a provider may echo a credential; none reaches the log.
        let mut line = crate::credentials::redact(&json).into_owned().into_bytes();
        line.push(b'\n');
        let mut f = OpenOptions::new().create(true).append(true).mode(0o600).open(&self.path).map_err(err)?;
        // A file created by someone else (or earlier, looser) is tightened too.
        f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        f.write_all(&line).map_err(err)?;
        f.sync_data().map_err(err)
    }

    /// The last record that `wanted` accepts, reading the whole log (lines that do
    /// not parse are skipped). A log not written yet holds nothing; one that
    /// cannot be read is an error, not "nothing".
    pub fn last_where(&self, wanted: impl Fn(&AuditRecord) -> bool) -> Result<Option<AuditRecord>, AuditError> {
        let err = |source| AuditError { path: self.path.clone(), source };
        let f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err(e)),
        };
        let mut last = None;
        for line in BufReader::new(f).lines() {
            let line = line.map_err(err)?;
            if let Ok(r) = serde_json::from_str::<AuditRecord>(&line)
                && wanted(&r)
            {
                last = Some(r);
            }
        }
        Ok(last)
    }

    /// Every record stamped at or after `since`, in file order (lines that do not
    /// parse are skipped). A log not written yet holds nothing; one that cannot be
    /// read is an error, not "nothing".
    pub fn read_since(&self, since: DateTime<Utc>) -> Result<Vec<AuditRecord>, AuditError> {
        let err = |source| AuditError { path: self.path.clone(), source };
        let f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(err(e)),
        };
        let mut out = Vec::new();
        for line in BufReader::new(f).lines() {
            let line = line.map_err(err)?;
            if let Ok(r) = serde_json::from_str::<AuditRecord>(&line)
                && r.time >= since
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The last `n` records (skipping lines that do not parse, e.g. a torn last line).
    pub fn tail(&self, n: usize) -> Vec<AuditRecord> {
        let Ok(f) = File::open(&self.path) else {
            return Vec::new();
        };
        let mut out: std::collections::VecDeque<AuditRecord> = std::collections::VecDeque::with_capacity(n);
        for line in BufReader::new(f).lines().map_while(Result::ok) {
            if let Ok(r) = serde_json::from_str(&line) {
                if out.len() == n {
                    out.pop_front();
                }
                out.push_back(r);
            }
        }
        out.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: Outcome) -> AuditRecord {
        AuditRecord {
            time: crate::clock::reference_instant(),
            actor: Actor { user: "oncall".into(), host: "bastion".into(), ssh_client: Some("10.0.0.1 5000 22".into()) },
            action: "scale aws/web-asg 6".into(),
            target: "aws/web-asg".into(),
            source: "demo".into(),
            plan: vec!["AWS web-asg: desired 4 → 6".into()],
            changes: serde_json::json!([]),
            guards: serde_json::json!([]),
            forced: None,
            outcome,
            request_id: Some("req-1".into()),
            error: None,
            rto: None,
        }
    }

    #[test]
    fn appends_one_line_per_record_with_owner_only_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::new(dir.path().join("state/opsdeck/audit.jsonl"));
        log.append(&record(Outcome::Refused)).expect("append");
        log.append(&record(Outcome::Executed)).expect("append");
        let text = std::fs::read_to_string(log.path()).expect("read");
        assert_eq!(text.lines().count(), 2);
        let mode = std::fs::metadata(log.path()).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back = log.tail(10);
        assert_eq!(back, vec![record(Outcome::Refused), record(Outcome::Executed)]);
    }

    #[test]
    fn the_user_is_found_without_environment_variables() {
        let id = std::process::Command::new("id").arg("-un").output().expect("id");
        let expected = String::from_utf8_lossy(&id.stdout).trim().to_string();
        assert_eq!(user_from_uid().as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn a_torn_line_is_skipped_and_tail_is_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        for _ in 0..5 {
            log.append(&record(Outcome::Cancelled)).expect("append");
        }
        let mut f = OpenOptions::new().append(true).open(log.path()).expect("open");
        f.write_all(b"{\"time\":\"2026-").expect("write");
        assert_eq!(log.tail(3).len(), 3);
        assert_eq!(log.tail(100).len(), 5);
    }
}
