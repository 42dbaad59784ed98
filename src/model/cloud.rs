use std::fmt;

use serde::{Deserialize, Serialize};

/// The clouds opsdeck understands. Order is display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudKind {
    Aws,
    Azure,
    #[serde(alias = "alibaba")]
    Aliyun,
    /// Tests only: the fourth cloud of `providers::stub`, proving that a cloud is
    /// one variant here (kept out of `ALL`, so no pane lists it).
    #[cfg(test)]
    Stub,
}

impl CloudKind {
    pub const ALL: [CloudKind; 3] = [CloudKind::Aws, CloudKind::Azure, CloudKind::Aliyun];

    /// Short lowercase name used in commands (`:drill db-primary-down aws`).
    pub fn slug(self) -> &'static str {
        match self {
            CloudKind::Aws => "aws",
            CloudKind::Azure => "azure",
            CloudKind::Aliyun => "aliyun",
            #[cfg(test)]
            CloudKind::Stub => "stub",
        }
    }

    /// Human label used in panes.
    pub fn label(self) -> &'static str {
        match self {
            CloudKind::Aws => "AWS",
            CloudKind::Azure => "Azure",
            CloudKind::Aliyun => "Alibaba",
            #[cfg(test)]
            CloudKind::Stub => "Stub",
        }
    }

    pub fn from_slug(s: &str) -> Option<CloudKind> {
        match s.to_ascii_lowercase().as_str() {
            "aws" => Some(CloudKind::Aws),
            "azure" => Some(CloudKind::Azure),
            "aliyun" | "alibaba" => Some(CloudKind::Aliyun),
            _ => None,
        }
    }
}

impl fmt::Display for CloudKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Name of a configured source (`demo`, `aws-prod`, ...). Unique within a config.
/// Every item a source reports carries it, so it is shared, not copied: a clone
/// is a reference count, not a string per alert.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceId(std::sync::Arc<str>);

impl SourceId {
    pub fn new(s: impl AsRef<str>) -> Self {
        SourceId(s.as_ref().into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
