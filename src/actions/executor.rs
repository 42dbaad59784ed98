//! The only value that can change production. Read-only and wallboard sessions
//! never construct one, so no key or command can reach a provider write.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::audit::Actor;
use super::plan::Plan;
use crate::model::SourceId;
use crate::providers::{Provider, ProviderError, Receipt};

pub struct Executor {
    providers: BTreeMap<SourceId, Arc<dyn Provider>>,
}

impl Executor {
    pub fn new(providers: impl IntoIterator<Item = Arc<dyn Provider>>) -> Executor {
        Executor { providers: providers.into_iter().map(|p| (p.id().clone(), p)).collect() }
    }

    /// Send the plan to the source that owns its target, once. Never retried here:
    /// a lost response must be re-read, not repeated.
    pub async fn execute(&self, plan: &Plan, actor: &Actor, now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        let provider = self
            .providers
            .get(&plan.source)
            .ok_or_else(|| ProviderError::Unsupported(format!("no source named {}", plan.source)))?;
        provider.execute(plan, actor, now).await
    }
}
