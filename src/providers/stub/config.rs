//! `[sources.stub]`: the table of the test-only kind that shows what a fourth
//! cloud adds. A real kind's config.rs looks the same: schema, defaults, checks.

use serde::Deserialize;

use crate::config::{KindTable, SourceConfig};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StubConfig {
    /// The regions it reports one group for.
    pub regions: Vec<String>,
    /// Instances in each group.
    #[serde(default = "default_instances")]
    pub instances: u32,
}

fn default_instances() -> u32 {
    2
}

impl KindTable for StubConfig {
    fn validate(&self, _source: &SourceConfig) -> Result<(), (&'static str, String)> {
        if self.regions.is_empty() {
            return Err(("regions", "regions needs at least one region".into()));
        }
        Ok(())
    }
}
