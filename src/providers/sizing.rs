//! Per-instance capacity from the config (`rps_per_instance` on a source), for the
//! capacity guardrail: no cloud API reports how many requests/s one instance of a
//! group can serve, so the operator's sizing is attached to the groups a source
//! reports, by group name or for every group of the source.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Check, Provider, ProviderError, Receipt};
use crate::model::{Actor, Plan};
use crate::model::{SourceId, SourceReport};

pub use crate::config::RpsPerInstance;

/// A source whose groups carry the configured sizing (a figure the provider itself
/// reports, e.g. the demo's, is kept).
pub struct SizedSource {
    inner: Arc<dyn Provider>,
    sizing: RpsPerInstance,
}

impl SizedSource {
    pub fn wrap(inner: Arc<dyn Provider>, sizing: Option<&RpsPerInstance>) -> Arc<dyn Provider> {
        match sizing {
            Some(s) => Arc::new(SizedSource { inner, sizing: s.clone() }),
            None => inner,
        }
    }
}

pub fn apply(report: &mut SourceReport, sizing: &RpsPerInstance) {
    for g in Arc::make_mut(&mut report.groups) {
        if g.rps_per_instance.is_none() {
            g.rps_per_instance = sizing.for_group(&g.name);
        }
    }
}

#[async_trait]
impl Provider for SizedSource {
    fn id(&self) -> &SourceId {
        self.inner.id()
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let mut report = self.inner.poll(now).await?;
        apply(&mut report, &self.sizing);
        Ok(report)
    }
    async fn preflight(&self, now: DateTime<Utc>) -> Vec<Check> {
        self.inner.preflight(now).await
    }
    async fn execute(&self, plan: &Plan, actor: &Actor, now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        self.inner.execute(plan, actor, now).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn sizing_by_name_falls_back_to_star() {
        let s: RpsPerInstance = toml::from_str::<BTreeMap<String, RpsPerInstance>>("r = { web = 120.0, \"*\" = 80 }")
            .expect("parse")
            .remove("r")
            .expect("r");
        assert_eq!(s.for_group("web"), Some(120.0));
        assert_eq!(s.for_group("batch"), Some(80.0));
        let all: RpsPerInstance =
            toml::from_str::<BTreeMap<String, RpsPerInstance>>("r = 150").expect("parse").remove("r").expect("r");
        assert_eq!(all.for_group("anything"), Some(150.0));
        assert!(RpsPerInstance::All(0.0).validate().is_err());
        assert!(RpsPerInstance::ByGroup(BTreeMap::from([("web".into(), -1.0)])).validate().is_err());
        assert!(RpsPerInstance::ByGroup(BTreeMap::new()).validate().is_err());
    }
}
