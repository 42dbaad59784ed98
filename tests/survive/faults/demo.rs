//! The demo source, wrapped to fail, hang or panic on demand: every fault family
//! without a server (a killed server is the poll panicking mid-way).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opsdeck::model::{SourceId, SourceReport};
use opsdeck::providers::demo::{DemoHandle, DemoProvider, EstateSpec};
use opsdeck::providers::{Provider, ProviderError};

use super::matrix::{ALL_FAULTS, Fault, Target, run_all};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DemoFault {
    None,
    Fail(Fault),
}

struct FaultyDemo {
    inner: DemoProvider,
    fault: Mutex<DemoFault>,
    polls: AtomicUsize,
    timeout: Duration,
}

#[async_trait]
impl Provider for FaultyDemo {
    fn id(&self) -> &SourceId {
        self.inner.id()
    }
    fn kind(&self) -> &'static str {
        "demo"
    }
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        let fault = *self.fault.lock().expect("lock");
        match fault {
            DemoFault::None => self.inner.poll(now).await,
            DemoFault::Fail(f) => match f {
                Fault::Refused => Err(ProviderError::Unreachable("connection refused".into())),
                Fault::Hang => std::future::pending().await,
                Fault::Trickle => {
                    tokio::time::sleep(self.timeout * 3).await;
                    self.inner.poll(now).await
                }
                Fault::Http(code) => Err(ProviderError::BadResponse(format!("HTTP {code}"))),
                Fault::Throttle => Err(ProviderError::Throttled("retry after 120s".into())),
                Fault::Truncated => Err(ProviderError::BadResponse("body cut short".into())),
                Fault::Malformed | Fault::WrongShape => Err(ProviderError::BadResponse("unreadable answer".into())),
                // The demo has no server to kill: the closest is its poll blowing up mid-way.
                Fault::Killed => panic!("injected: the demo source panicked mid-poll"),
            },
        }
    }
}

struct DemoTarget(Arc<FaultyDemo>);

impl Target for DemoTarget {
    fn kind(&self) -> &'static str {
        "demo"
    }
    fn provider(&self) -> Arc<dyn Provider> {
        self.0.clone()
    }
    fn timeout(&self) -> Duration {
        self.0.timeout
    }
    fn inject(&mut self, f: Fault) {
        *self.0.fault.lock().expect("lock") = DemoFault::Fail(f);
    }
    fn heal(&mut self, _: Fault) {
        *self.0.fault.lock().expect("lock") = DemoFault::None;
    }
    fn expect(&self, f: Fault) -> Vec<String> {
        let w = match f {
            Fault::Refused => "unreachable",
            Fault::Hang | Fault::Trickle => "timed out",
            Fault::Http(_) => "HTTP",
            Fault::Throttle => "throttled",
            Fault::Truncated => "cut short",
            Fault::Malformed | Fault::WrongShape => "unreadable",
            Fault::Killed => "panicked",
        };
        vec![w.into()]
    }
    fn attempts(&self) -> usize {
        self.0.polls.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_source_survives_every_fault() {
    let estate = Arc::new(EstateSpec::embedded().expect("estate"));
    let inner = DemoProvider::new(SourceId::new("demo-b"), estate, DemoHandle::default());
    let mut t = DemoTarget(Arc::new(FaultyDemo {
        inner,
        fault: Mutex::new(DemoFault::None),
        polls: AtomicUsize::new(0),
        timeout: Duration::from_millis(500),
    }));
    run_all(&mut t, &ALL_FAULTS).await;
}
