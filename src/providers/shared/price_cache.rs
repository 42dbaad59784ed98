//! Prices, read at most once per `price_interval_secs` (prices move slowly, and
//! the price APIs are throttled or billed), or again at once when what is asked
//! for changes (a group now runs another type, in other zones). Between reads the
//! last good prices are reported again.

use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::model::{ScalingGroup, Section, SpotPrice};
use crate::providers::ProviderError;
use crate::providers::sections::Sections;

/// What a price read asks for: each instance type with the groups that run it
/// and the zones they span, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Demand(pub Vec<TypeDemand>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDemand {
    pub region: String,
    pub instance_type: String,
    pub groups: Vec<String>,
    pub zones: Vec<String>,
}

impl Demand {
    /// The instance types of `groups` (those whose type the cloud reported), per
    /// region, with the groups running each and the zones those span.
    pub fn of(groups: &[ScalingGroup]) -> Demand {
        let mut by: std::collections::BTreeMap<(String, String), TypeDemand> = Default::default();
        for g in groups {
            let Some(t) = g.instance_type.as_deref().filter(|t| !t.is_empty()) else { continue };
            let d = by.entry((g.region.clone(), t.to_string())).or_insert_with(|| TypeDemand {
                region: g.region.clone(),
                instance_type: t.to_string(),
                groups: vec![],
                zones: vec![],
            });
            d.groups.push(g.name.clone());
            d.zones.extend(g.zones.iter().map(|z| z.zone.clone()));
        }
        let mut out: Vec<TypeDemand> = by.into_values().collect();
        for d in &mut out {
            d.groups.sort();
            d.groups.dedup();
            d.zones.sort();
            d.zones.dedup();
        }
        Demand(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One read's prices and the API calls it took.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceRead {
    pub prices: Vec<SpotPrice>,
    pub calls: u32,
}

struct Cached {
    at: DateTime<Utc>,
    demand: Demand,
    read: PriceRead,
}

pub struct PriceCache {
    every_secs: u64,
    last: Mutex<Option<Cached>>,
    /// The last failed read: when, for what, and why. It is not tried again
    /// before `RETRY_AFTER_FAILURE_SECS` (a denied permission or a throttled
    /// public API would otherwise be asked every poll), and the section stays
    /// failed with its reason meanwhile.
    failed: Mutex<Option<(DateTime<Utc>, Demand, ProviderError)>>,
}

/// How long a failed price read waits before it is tried again (or the price
/// interval, when that is shorter).
pub const RETRY_AFTER_FAILURE_SECS: u64 = 300;

impl PriceCache {
    pub fn new(every_secs: u64) -> PriceCache {
        PriceCache { every_secs, last: Mutex::new(None), failed: Mutex::new(None) }
    }

    pub fn every_secs(&self) -> u64 {
        self.every_secs
    }

    /// This poll's prices for `demand`: `read` is awaited only when a read is due
    /// (the interval passed, or the demand changed), and its outcome is the
    /// poll's Prices section. A failed read reports nothing now (the collector
    /// keeps the section's last good prices) and is tried again next poll. The
    /// second value is the calls the last read took (the Logs pane's call count).
    pub async fn get(
        &self,
        now: DateTime<Utc>,
        demand: Demand,
        sections: &mut Sections,
        read: impl Future<Output = Result<PriceRead, ProviderError>>,
    ) -> (Option<Vec<SpotPrice>>, Option<u32>) {
        {
            let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = last.as_ref()
                && c.demand == demand
                && (now - c.at).num_seconds() < self.every_secs as i64
            {
                return (Some(c.read.prices.clone()), Some(c.read.calls));
            }
        }
        if demand.is_empty() {
            return (Some(vec![]), None);
        }
        let wait = RETRY_AFTER_FAILURE_SECS.min(self.every_secs) as i64;
        let held = self.failed.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((at, asked, e)) = held
            && asked == demand
            && (now - at).num_seconds() < wait
        {
            // Still failed, for the same reason: the last good prices stay shown.
            sections.read::<()>(&[Section::Prices], Err(e));
            return (None, None);
        }
        let result = read.await;
        if let Err(e) = &result {
            *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, demand.clone(), e.clone()));
        }
        match sections.read(&[Section::Prices], result) {
            Some(fresh) => {
                *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = None;
                let out = (Some(fresh.prices.clone()), Some(fresh.calls));
                *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached { at: now, demand, read: fresh });
                out
            }
            None => (None, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::model::{CloudKind, SourceId, ZoneCapacity};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("time")
    }

    fn group(name: &str, t: Option<&str>, zones: &[&str]) -> ScalingGroup {
        ScalingGroup {
            source: SourceId::new("s"),
            cloud: CloudKind::Aws,
            region: "eu-west-1".into(),
            name: name.into(),
            min: 1,
            max: 2,
            desired: 1,
            zones: zones.iter().map(|z| ZoneCapacity { zone: z.to_string(), in_service: 1, healthy: 1 }).collect(),
            spot_share: 0.0,
            rps_per_instance: None,
            inactive: false,
            instance_type: t.map(str::to_string),
        }
    }

    #[test]
    fn demand_groups_types_and_leaves_out_unknown_ones() {
        let d = Demand::of(&[
            group("b", Some("m6i.large"), &["eu-west-1b", "eu-west-1a"]),
            group("a", Some("m6i.large"), &["eu-west-1a"]),
            group("c", None, &["eu-west-1c"]),
            group("d", Some("c7g.xlarge"), &[]),
        ]);
        assert_eq!(d.0.len(), 2);
        assert_eq!(d.0[0].instance_type, "c7g.xlarge");
        assert_eq!(d.0[1].groups, ["a", "b"]);
        assert_eq!(d.0[1].zones, ["eu-west-1a", "eu-west-1b"]);
    }

    #[tokio::test]
    async fn reads_hourly_and_again_when_the_demand_changes() {
        let cache = PriceCache::new(3600);
        let reads = AtomicU32::new(0);
        let read = || {
            let reads = &reads;
            async move {
                reads.fetch_add(1, Ordering::Relaxed);
                Ok::<_, ProviderError>(PriceRead { prices: vec![], calls: 2 })
            }
        };
        let one = Demand::of(&[group("a", Some("m6i.large"), &["z"])]);
        let two = Demand::of(&[group("a", Some("m7i.large"), &["z"])]);
        let mut s = Sections::new();
        assert_eq!(cache.get(at(0), one.clone(), &mut s, read()).await.1, Some(2));
        cache.get(at(3599), one.clone(), &mut s, read()).await;
        assert_eq!(reads.load(Ordering::Relaxed), 1, "cached within the hour");
        cache.get(at(3600), one.clone(), &mut s, read()).await;
        assert_eq!(reads.load(Ordering::Relaxed), 2, "read again after the hour");
        cache.get(at(3601), two, &mut s, read()).await;
        assert_eq!(reads.load(Ordering::Relaxed), 3, "read again at once for another type");
        let (prices, calls) = cache.get(at(3602), Demand::default(), &mut s, read()).await;
        assert_eq!((prices, calls, reads.load(Ordering::Relaxed)), (Some(vec![]), None, 3), "nothing to price");
    }

    #[tokio::test]
    async fn a_failed_read_stays_failed_for_a_while_then_is_tried_again() {
        let cache = PriceCache::new(3600);
        let d = Demand::of(&[group("a", Some("m6i.large"), &["z"])]);
        let reads = AtomicU32::new(0);
        let read = |ok: bool| {
            let reads = &reads;
            async move {
                reads.fetch_add(1, Ordering::Relaxed);
                if ok { Ok(PriceRead::default()) } else { Err(ProviderError::Throttled("slow".into())) }
            }
        };
        let failed_section = |s: Sections| {
            let mut s = s;
            s.read(&[Section::Groups], Ok::<_, ProviderError>(()));
            let r = s.finish(crate::model::SourceReport::default()).expect("partial, not failed");
            r.failed.iter().map(|f| (f.section, f.reason.clone())).collect::<Vec<_>>()
        };
        let mut s = Sections::new();
        assert_eq!(cache.get(at(0), d.clone(), &mut s, read(false)).await.0, None);
        assert_eq!(failed_section(s), [(Section::Prices, "throttled: slow".to_string())]);
        // The next polls within five minutes do not ask again, and say why.
        let mut s = Sections::new();
        assert_eq!(cache.get(at(60), d.clone(), &mut s, read(true)).await.0, None);
        assert_eq!(failed_section(s), [(Section::Prices, "throttled: slow".to_string())]);
        assert_eq!(reads.load(Ordering::Relaxed), 1, "not asked again within the wait");
        // Another demand is asked at once; after the wait, the same one is too.
        let other = Demand::of(&[group("a", Some("m7i.large"), &["z"])]);
        let mut s = Sections::new();
        assert_eq!(cache.get(at(61), other, &mut s, read(true)).await.0, Some(vec![]));
        let mut s = Sections::new();
        assert_eq!(cache.get(at(300), d, &mut s, read(true)).await.0, Some(vec![]));
        assert_eq!(reads.load(Ordering::Relaxed), 3);
    }
}
