use serde::{Deserialize, Serialize};

use super::CloudKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "lowercase"))]
pub enum ReplicationKind {
    /// Global database replica lag, in seconds, against the RPO.
    Database,
    /// Cache cross-region sync lag, in seconds.
    Cache,
    /// Object storage dual-write backlog, in objects.
    Storage,
}

impl ReplicationKind {
    pub fn label(self) -> &'static str {
        match self {
            ReplicationKind::Database => "DB",
            ReplicationKind::Cache => "Cache",
            ReplicationKind::Storage => "Storage",
        }
    }
    pub fn unit(self) -> &'static str {
        match self {
            ReplicationKind::Storage => "obj",
            _ => "s",
        }
    }
}

/// One replication link measured against its target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replication {
    pub kind: ReplicationKind,
    pub name: String,
    pub from: CloudKind,
    pub to: CloudKind,
    pub value: f64,
    pub target: f64,
}

impl Replication {
    pub fn within_target(&self) -> bool {
        self.value <= self.target
    }
    /// 0 at nothing, 1 at the target.
    pub fn ratio(&self) -> f64 {
        if self.target <= 0.0 {
            return 0.0;
        }
        self.value / self.target
    }
}
