//! The month-to-date bill, read at most once per `cost_interval_secs`: the cost
//! APIs are billed per call (Cost Explorer) or throttled hard (Cost Management),
//! and a bill changes slowly. Between reads the last good one is reported again.

use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::model::Section;
use crate::providers::ProviderError;
use crate::providers::sections::Sections;

/// The last bill read and when.
pub struct CostCache<T> {
    every_secs: u64,
    last: Mutex<Option<(DateTime<Utc>, T)>>,
}

impl<T: Clone> CostCache<T> {
    /// Read again once `every_secs` have passed since the last good read.
    pub fn new(every_secs: u64) -> CostCache<T> {
        CostCache { every_secs, last: Mutex::new(None) }
    }

    /// The bill for this poll: `read` is awaited only when a read is due (a future
    /// does nothing until then), and its outcome is the poll's cost section. When
    /// it is not due, the cached bill is reported. A failed read keeps the last
    /// good bill for the next poll's cache but reports none now (the collector
    /// keeps the section's last good data).
    pub async fn get(
        &self,
        now: DateTime<Utc>,
        sections: &mut Sections,
        read: impl Future<Output = Result<T, ProviderError>>,
    ) -> Option<T> {
        let cached = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let due = cached.as_ref().is_none_or(|(at, _)| (now - *at).num_seconds() >= self.every_secs as i64);
        if !due {
            return cached.map(|(_, c)| c);
        }
        let fresh = sections.read(&[Section::Cost], read.await);
        if let Some(fresh) = &fresh {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, fresh.clone()));
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::model::SourceReport;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("time")
    }

    #[tokio::test]
    async fn reads_once_per_interval_and_reports_the_cached_bill_between() {
        let cache = CostCache::new(3600);
        let reads = AtomicU32::new(0);
        let read = |v: u32| {
            let reads = &reads;
            async move {
                reads.fetch_add(1, Ordering::Relaxed);
                Ok::<_, ProviderError>(v)
            }
        };
        let mut s = Sections::new();
        assert_eq!(cache.get(at(0), &mut s, read(1)).await, Some(1));
        assert_eq!(cache.get(at(3599), &mut s, read(2)).await, Some(1), "cached, not read");
        assert_eq!(reads.load(Ordering::Relaxed), 1);
        assert_eq!(cache.get(at(3600), &mut s, read(3)).await, Some(3));
        assert_eq!(reads.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_failed_read_is_the_polls_failed_section_and_is_tried_again_next_poll() {
        let cache = CostCache::new(3600);
        let mut s = Sections::new();
        let failed = cache.get(at(0), &mut s, async { Err(ProviderError::Throttled("slow down".into())) }).await;
        assert_eq!(failed, None::<u32>);
        // The only section tried failed: the poll fails with its reason.
        assert_eq!(s.finish(SourceReport::default()), Err(ProviderError::Throttled("slow down".into())));
        let mut s = Sections::new();
        assert_eq!(cache.get(at(1), &mut s, async { Ok(7) }).await, Some(7), "no good read yet: due again");
    }
}
