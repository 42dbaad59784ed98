//! The collector with real tasks: a failing or hanging source is marked stale with
//! its reason, keeps its last good data, and never stops the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opsdeck::clock::SystemClock;
use opsdeck::collector::{Collector, SourceSchedule};
use opsdeck::model::{Fleet, Freshness, SourceId, SourceReport};
use opsdeck::providers::demo::{DemoHandle, DemoProvider, EstateSpec};
use opsdeck::providers::{Provider, ProviderError};

/// Succeeds on its first poll, then fails (or hangs) on every later one.
struct GoesBad {
    id: SourceId,
    polls: AtomicU32,
    hang: bool,
}

#[async_trait]
impl Provider for GoesBad {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "test"
    }
    async fn poll(&self, _now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        if self.polls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Ok(SourceReport { drills: vec!["marker".into()], ..SourceReport::default() });
        }
        if self.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Err(ProviderError::Unreachable("connection refused".into()))
    }
}

fn schedule(p: Arc<dyn Provider>) -> SourceSchedule {
    SourceSchedule { provider: p, interval: Duration::from_millis(20), timeout: Duration::from_millis(150) }
}

async fn wait_until(
    fleet: &mut tokio::sync::watch::Receiver<Arc<Fleet>>,
    what: &str,
    pred: impl Fn(&Fleet) -> bool,
) -> Arc<Fleet> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let f = fleet.borrow_and_update().clone();
        if pred(&f) {
            return f;
        }
        tokio::select! {
            _ = fleet.changed() => {}
            _ = tokio::time::sleep_until(deadline) => panic!("timed out waiting for: {what}; sources: {:?}", f.sources),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_and_hanging_sources_go_stale_while_the_demo_keeps_updating() {
    let estate = Arc::new(EstateSpec::embedded().expect("estate"));
    let demo = Arc::new(DemoProvider::new(SourceId::new("demo"), estate, DemoHandle::default()));
    let refused = Arc::new(GoesBad { id: SourceId::new("refused"), polls: AtomicU32::new(0), hang: false });
    let hung = Arc::new(GoesBad { id: SourceId::new("hung"), polls: AtomicU32::new(0), hang: true });
    let collector =
        Collector::spawn(vec![schedule(demo), schedule(refused), schedule(hung)], Arc::new(SystemClock), true);
    let mut rx = collector.fleet.clone();

    let stale = |f: &Fleet, id: &str| {
        matches!(f.source(&SourceId::new(id)).map(|s| &s.freshness), Some(Freshness::Stale { .. }))
    };
    let f = wait_until(&mut rx, "both bad sources stale", |f| stale(f, "refused") && stale(f, "hung")).await;
    let reason = |id: &str| match &f.source(&SourceId::new(id)).expect("source").freshness {
        Freshness::Stale { reason } => reason.clone(),
        other => panic!("{other:?}"),
    };
    assert!(reason("refused").contains("connection refused"), "{}", reason("refused"));
    assert!(reason("hung").contains("timed out"), "{}", reason("hung"));
    for id in ["refused", "hung"] {
        assert!(f.source(&SourceId::new(id)).expect("source").last_ok.is_some(), "{id} keeps when it was last good");
    }
    assert_eq!(f.drills.iter().filter(|d| *d == "marker").count(), 2, "last good reports are still shown");

    // The demo goes on being polled while the others fail.
    let seen = f.generation;
    let later = wait_until(&mut rx, "more demo polls", |f| {
        f.generation > seen + 5 && f.source(&SourceId::new("demo")).is_some_and(|s| s.freshness == Freshness::Fresh)
    })
    .await;
    assert_eq!(later.groups.len(), 3);
}
