//! The only value that can change production. Read-only and wallboard sessions
//! never construct one, so no key or command can reach a provider write.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::audit::Outcome;
use crate::model::Actor;
use crate::model::Plan;
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

    /// Ask the source that carried `plan` out whether its change is in sync.
    pub async fn change_in_sync(&self, plan: &Plan, request_id: &str) -> Result<Option<bool>, ProviderError> {
        match self.providers.get(&plan.source) {
            Some(p) => p.change_in_sync(request_id).await,
            None => Ok(None),
        }
    }
}

/// What came of sending a plan once.
#[derive(Debug)]
pub enum Sent {
    /// The source took it: its request id.
    Done(Receipt),
    /// The source said no: nothing changed.
    Failed(ProviderError),
    /// The answer was lost (a timeout, or the connection gone after the request may
    /// have left): the change may or may not have landed. Re-read, never re-send.
    Unknown(ProviderError),
}

impl Sent {
    pub fn of(result: Result<Receipt, ProviderError>) -> Sent {
        match result {
            Ok(r) => Sent::Done(r),
            Err(e @ (ProviderError::Timeout(_) | ProviderError::Unreachable(_))) => Sent::Unknown(e),
            Err(e) => Sent::Failed(e),
        }
    }

    /// The audit outcome, request id and error of this attempt.
    pub fn audit(&self) -> (Outcome, Option<String>, Option<String>) {
        match self {
            Sent::Done(r) => (Outcome::Executed, Some(r.request_id.clone()), None),
            Sent::Failed(e) => (Outcome::Failed, None, Some(e.to_string())),
            Sent::Unknown(e) => (Outcome::Unknown, None, Some(format!("answer lost: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_answer_is_unknown_and_a_refusal_is_a_failure() {
        let lost = Sent::of(Err(ProviderError::Timeout(std::time::Duration::from_secs(5))));
        assert_eq!(lost.audit().0, Outcome::Unknown);
        assert_eq!(Sent::of(Err(ProviderError::Unreachable("reset".into()))).audit().0, Outcome::Unknown);
        assert_eq!(Sent::of(Err(ProviderError::Throttled("slow down".into()))).audit().0, Outcome::Failed);
        assert_eq!(Sent::of(Err(ProviderError::BadResponse("HTTP 400".into()))).audit().0, Outcome::Failed);
        let done = Sent::of(Ok(Receipt { request_id: "r-1".into() }));
        assert_eq!(done.audit(), (Outcome::Executed, Some("r-1".into()), None));
    }
}
