//! Polls every source on its own tokio task and publishes an immutable [`Fleet`]
//! on a watch channel. A slow or failing source only ever marks itself stale: it
//! cannot delay another source, and it can never delay a frame.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::model::{
    CloudKind, Fleet, Freshness, PartialSection, Rates, Section, SourceId, SourceReport, SourceStatus, TrafficHistory,
    TrafficPoint,
};
use crate::providers::{Provider, ProviderError};
use crate::slo::{self, SloConfig};

/// How one source is polled.
#[derive(Clone)]
pub struct SourceSchedule {
    pub provider: Arc<dyn Provider>,
    pub interval: Duration,
    pub timeout: Duration,
}

/// While a source keeps failing, the wait between attempts doubles up to eight of
/// its intervals (so it comes back within a few of its own polls once the fault
/// ends: an operator mid-incident should not stare at a stale pane for minutes after
/// the API is back), and never beyond five minutes.
const MAX_BACKOFF_INTERVALS: u32 = 8;
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The delay before the next attempt: the interval while healthy, doubling per
/// consecutive failure up to the cap above, with up to 10 % jitter so that many
/// consoles do not poll an API in lockstep.
pub fn next_delay(interval: Duration, failures: u32, jitter_unit: f64) -> Duration {
    let base = if failures == 0 {
        interval
    } else {
        let cap = interval.saturating_mul(MAX_BACKOFF_INTERVALS).min(MAX_BACKOFF).max(interval);
        let factor = 2u32.saturating_pow(failures.min(16));
        interval.saturating_mul(factor).min(cap)
    };
    base.mul_f64(1.0 + 0.1 * jitter_unit.clamp(0.0, 1.0))
}

struct PollResult {
    index: usize,
    at: DateTime<Utc>,
    /// How long the poll took, answer or failure (the exporter's poll duration).
    took: Duration,
    result: Result<SourceReport, ProviderError>,
}

pub struct Collector {
    pub fleet: watch::Receiver<Arc<Fleet>>,
    refresh: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
}

impl Collector {
    /// Start one polling task per source and the merge task.
    pub fn spawn(sources: Vec<SourceSchedule>, clock: Arc<dyn Clock>, demo: bool) -> Collector {
        Collector::spawn_with(sources, clock, demo, Arc::default())
    }

    /// [`Collector::spawn`] comparing prices in `rates`' currency (`[prices]`).
    pub fn spawn_with(sources: Vec<SourceSchedule>, clock: Arc<dyn Clock>, demo: bool, rates: Arc<Rates>) -> Collector {
        Collector::spawn_slos(sources, clock, demo, rates, Arc::default())
    }

    /// [`Collector::spawn_with`] that also keeps the SLO history of `slos` (`[[slos]]`).
    pub fn spawn_slos(
        sources: Vec<SourceSchedule>,
        clock: Arc<dyn Clock>,
        demo: bool,
        rates: Arc<Rates>,
        slos: Arc<Vec<SloConfig>>,
    ) -> Collector {
        let statuses: Vec<SourceStatus> = sources
            .iter()
            .map(|s| SourceStatus {
                interval_secs: s.interval.as_secs(),
                timeout_secs: s.timeout.as_secs(),
                ..SourceStatus::new(s.provider.id().clone(), s.provider.kind())
            })
            .collect();
        let mut initial = Fleet::merge(
            0,
            clock.now(),
            demo,
            &statuses.iter().cloned().map(|s| (s, None)).collect::<Vec<_>>(),
            BTreeMap::new(),
        );
        initial.rates = rates.clone();
        let (fleet_tx, fleet_rx) = watch::channel(Arc::new(initial));
        // Bounded: a source can have at most a few results in flight; if the merger
        // lags, pollers wait rather than memory growing.
        let (result_tx, result_rx) = mpsc::channel(sources.len().max(1) * 4);
        let refresh = Arc::new(Notify::new());
        let mut tasks = Vec::with_capacity(sources.len() + 1);
        for (index, schedule) in sources.into_iter().enumerate() {
            tasks.push(tokio::spawn(poll_loop(index, schedule, clock.clone(), result_tx.clone(), refresh.clone())));
        }
        drop(result_tx);
        tasks.push(tokio::spawn(merge_loop(statuses, demo, rates, slos, result_rx, fleet_tx)));
        Collector { fleet: fleet_rx, refresh, tasks }
    }

    /// Ask every source to poll now (after a drill or an action).
    pub fn refresh_now(&self) {
        self.refresh.notify_waiters();
    }

    /// A handle that can ask for a refresh from another task.
    pub fn refresher(&self) -> Arc<Notify> {
        self.refresh.clone()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn poll_loop(
    index: usize,
    s: SourceSchedule,
    clock: Arc<dyn Clock>,
    out: mpsc::Sender<PollResult>,
    refresh: Arc<Notify>,
) {
    let mut failures = 0u32;
    let mut jitter = JitterSeq::new(index as u64);
    loop {
        let at = clock.now();
        // Each poll runs in a task of its own, so a provider that panics fails this
        // poll (the source goes stale with the reason) instead of ending its polling.
        let provider = s.provider.clone();
        let timeout = s.timeout;
        let started = tokio::time::Instant::now();
        let poll = tokio::spawn(async move {
            crate::fault_injection::maybe_panic("provider");
            match tokio::time::timeout(timeout, provider.poll(at)).await {
                Ok(r) => r,
                Err(_) => Err(ProviderError::Timeout(timeout)),
            }
        });
        let result = match poll.await {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(ProviderError::BadResponse(format!("the poll panicked: {}", panic_text(e)))),
            Err(_) => return, // cancelled: we are shutting down
        };
        let took = started.elapsed();
        failures = if result.is_ok() { 0 } else { failures.saturating_add(1) };
        if out.send(PollResult { index, at, took, result }).await.is_err() {
            return; // merger gone: we are shutting down
        }
        let delay = next_delay(s.interval, failures, jitter.next_unit());
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = refresh.notified() => {}
        }
    }
}

/// Why a source is stale, as shown and logged: held secrets scrubbed, one line,
/// no control characters (remote error bodies carry anything), and bounded.
fn stale_reason(e: &ProviderError) -> String {
    crate::format::one_line(&crate::credentials::redact(&e.to_string()), 400)
}

/// The message of a panicked task, for the source's stale reason.
fn panic_text(e: tokio::task::JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Cheap per-task jitter source; randomness quality does not matter here.
struct JitterSeq(u64);

impl JitterSeq {
    fn new(seed: u64) -> Self {
        JitterSeq(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_unit(&mut self) -> f64 {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

async fn merge_loop(
    mut statuses: Vec<SourceStatus>,
    demo: bool,
    rates: Arc<Rates>,
    slos: Arc<Vec<SloConfig>>,
    mut results: mpsc::Receiver<PollResult>,
    out: watch::Sender<Arc<Fleet>>,
) {
    let mut reports: Vec<Option<Arc<SourceReport>>> = vec![None; statuses.len()];
    let mut section_ok: Vec<BTreeMap<Section, DateTime<Utc>>> = vec![BTreeMap::new(); statuses.len()];
    let mut history: BTreeMap<CloudKind, TrafficHistory> = BTreeMap::new();
    let mut ledger = slo::ledger_for(&slos);
    let mut generation = 0u64;
    while let Some(PollResult { index, at, took, result }) = results.recv().await {
        let Some(status) = statuses.get_mut(index) else {
            continue;
        };
        status.last_attempt = Some(at);
        status.last_poll_secs = Some(took.as_secs_f64());
        match result {
            Ok(mut report) => {
                status.last_ok = Some(at);
                status.freshness = Freshness::Fresh;
                let fresh: Vec<CloudKind> = report.metrics.iter().map(|m| m.cloud).collect();
                let backfill = std::mem::take(&mut report.history);
                let (mut report, partial) =
                    absorb(&status.id, reports[index].as_deref(), report, at, &mut section_ok[index]);
                if let Some(previous) = &reports[index] {
                    report.share_unchanged(previous);
                }
                status.partial = partial;
                reports[index] = Some(Arc::new(report));
                let latest: Vec<&SourceReport> = reports.iter().flatten().map(|r| r.as_ref()).collect();
                record_history(&mut history, &backfill, &fresh, &latest, at);
                if !slos.is_empty() {
                    ledger.observe_reports(&fresh, &latest, at, status.interval_secs as f64);
                }
            }
            Err(e) => {
                // Remote error text can echo what was sent: scrub held secrets first.
                let reason = stale_reason(&e);
                log::warn!("source {} failed: {reason}", status.id);
                status.freshness = Freshness::Stale { reason };
                // The whole source is stale now: its sections' own reasons are history.
                status.partial.clear();
            }
        }
        generation += 1;
        let pairs: Vec<_> = statuses.iter().cloned().zip(reports.iter().cloned()).collect();
        let mut fleet = Fleet::merge(generation, at, demo, &pairs, history.clone());
        fleet.rates = rates.clone();
        fleet.slos = slo::merged(&slos, &ledger, at, std::mem::take(&mut fleet.slos));
        if out.send(Arc::new(fleet)).is_err() {
            return;
        }
    }
}

/// Fold a poll with failed sections into the source's last report: each failed
/// section keeps its last good data (marked with its reason and when it was read),
/// everything else is this poll's. `section_ok` remembers when each section last
/// read well.
pub fn absorb(
    id: &SourceId,
    previous: Option<&SourceReport>,
    mut report: SourceReport,
    at: DateTime<Utc>,
    section_ok: &mut BTreeMap<Section, DateTime<Utc>>,
) -> (SourceReport, Vec<PartialSection>) {
    let failed = std::mem::take(&mut report.failed);
    let mut partial = Vec::with_capacity(failed.len());
    for f in &failed {
        if let Some(prev) = previous {
            f.section.carry(prev, &mut report);
        }
        let reason = crate::format::one_line(&crate::credentials::redact(&f.reason), 400);
        log::warn!("source {id}: {} could not be read, showing the last good data: {reason}", f.section.label());
        partial.push(PartialSection { section: f.section, reason, last_ok: section_ok.get(&f.section).copied() });
    }
    for s in Section::ALL {
        if !failed.iter().any(|f| f.section == s) {
            section_ok.insert(s, at);
        }
    }
    (report, partial)
}

/// Append a point for each cloud a source has just measured (`fresh`): the
/// whole cloud as every source's latest report has it (`latest`), so a cloud read
/// region by region by several sources gets its total, not each region in turn —
/// requests summed, latency and error rate the worst region's. A figure no region
/// reported stays None in the point, and the Traffic pane draws that poll as a gap
/// (unknown), never as a fall to zero. `backfill` (a source's past points, e.g.
/// Prometheus' query_range) only extends a series forward: points older than it
/// holds are dropped.
pub fn record_history(
    history: &mut BTreeMap<CloudKind, TrafficHistory>,
    backfill: &[(CloudKind, TrafficPoint)],
    fresh: &[CloudKind],
    latest: &[&SourceReport],
    at: DateTime<Utc>,
) {
    for (cloud, p) in backfill {
        let series = history.entry(*cloud).or_default();
        if p.at < at && series.points().next_back().is_none_or(|last| last.at < p.at) {
            series.push(*p);
        }
    }
    let mut now: BTreeMap<CloudKind, TrafficPoint> = BTreeMap::new();
    for m in latest.iter().flat_map(|r| r.metrics.iter()).filter(|m| fresh.contains(&m.cloud)) {
        now.entry(m.cloud).or_insert_with(|| TrafficPoint::unreported(at)).add(m.rps, m.p95_ms, m.error_rate);
    }
    for (cloud, p) in now {
        history.entry(cloud).or_default().push(p);
    }
}

/// The history of one source that is the only one reporting its clouds (the demo, tests).
pub fn record_report(history: &mut BTreeMap<CloudKind, TrafficHistory>, report: &SourceReport, at: DateTime<Utc>) {
    let fresh: Vec<CloudKind> = report.metrics.iter().map(|m| m.cloud).collect();
    record_history(history, &report.history, &fresh, &[report], at);
}

/// Poll each source once, concurrently, and merge: for one-shot use and tests.
pub async fn collect_once(sources: &[SourceSchedule], now: DateTime<Utc>, demo: bool) -> Fleet {
    collect_once_slos(sources, now, demo, &[]).await
}

/// [`collect_once`] with the SLOs of `slos`: one poll holds one interval of
/// history per cloud (the coverage says so).
pub async fn collect_once_slos(
    sources: &[SourceSchedule],
    now: DateTime<Utc>,
    demo: bool,
    slos: &[SloConfig],
) -> Fleet {
    let mut set = tokio::task::JoinSet::new();
    for (i, s) in sources.iter().enumerate() {
        let (provider, timeout) = (s.provider.clone(), s.timeout);
        set.spawn(async move {
            let started = tokio::time::Instant::now();
            let r = match tokio::time::timeout(timeout, provider.poll(now)).await {
                Ok(r) => r,
                Err(_) => Err(ProviderError::Timeout(timeout)),
            };
            (i, r, started.elapsed())
        });
    }
    let mut results: Vec<Option<Result<SourceReport, ProviderError>>> = sources.iter().map(|_| None).collect();
    let mut took: Vec<Option<Duration>> = sources.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r, t)) = joined {
            results[i] = Some(r);
            took[i] = Some(t);
        }
    }
    let (mut fresh, mut backfill) = (Vec::new(), Vec::new());
    // Each source's fresh clouds and its interval, for the SLO ledger.
    let mut polled: Vec<(Vec<CloudKind>, f64)> = Vec::new();
    let pairs: Vec<_> = sources
        .iter()
        .zip(results)
        .zip(took)
        .map(|((s, r), took)| {
            let mut status = SourceStatus::new(s.provider.id().clone(), s.provider.kind());
            status.interval_secs = s.interval.as_secs();
            status.timeout_secs = s.timeout.as_secs();
            status.last_attempt = Some(now);
            status.last_poll_secs = took.map(|t| t.as_secs_f64());
            match r {
                Some(Ok(mut report)) => {
                    status.freshness = Freshness::Fresh;
                    status.last_ok = Some(now);
                    fresh.extend(report.metrics.iter().map(|m| m.cloud));
                    polled.push((report.metrics.iter().map(|m| m.cloud).collect(), s.interval.as_secs_f64()));
                    backfill.append(&mut report.history);
                    let (report, partial) = absorb(&status.id, None, report, now, &mut BTreeMap::new());
                    status.partial = partial;
                    (status, Some(Arc::new(report)))
                }
                Some(Err(e)) => {
                    status.freshness = Freshness::Stale { reason: stale_reason(&e) };
                    (status, None)
                }
                None => {
                    status.freshness = Freshness::Stale { reason: "poll task failed".into() };
                    (status, None)
                }
            }
        })
        .collect();
    let mut history = BTreeMap::new();
    let latest: Vec<&SourceReport> = pairs.iter().filter_map(|(_, r)| r.as_deref()).collect();
    record_history(&mut history, &backfill, &fresh, &latest, now);
    let mut ledger = slo::ledger_for(slos);
    for (clouds, interval) in &polled {
        ledger.observe_reports(clouds, &latest, now, *interval);
    }
    let mut fleet = Fleet::merge(1, now, demo, &pairs, history);
    fleet.slos = slo::merged(slos, &ledger, now, std::mem::take(&mut fleet.slos));
    fleet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_reason_is_one_clean_bounded_line() {
        let e = ProviderError::BadResponse(format!("bad\n\u{1b}[31mred\r\n{}", "x".repeat(1000)));
        let r = stale_reason(&e);
        assert!(r.starts_with("bad response: bad [31mred xxx"), "{r}");
        assert!(!r.chars().any(char::is_control) && r.chars().count() == 400, "{r}");
    }

    /// A poll of one source publishes a Fleet that shares, not copies, the other
    /// sources' alerts and groups and the series of clouds it added no point to.
    #[tokio::test]
    async fn a_fleet_change_shares_what_did_not_change() {
        use crate::model::{Alert, AlertState, CloudMetrics, Labels, ScalingGroup, Severity};
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let (am, cw) = (SourceId::new("am"), SourceId::new("aws"));
        let alerts: Vec<Alert> = (0..1000)
            .map(|i| Alert {
                id: format!("a{i}"),
                source: am.clone(),
                cloud: Some(CloudKind::Azure),
                severity: Severity::P2,
                title: format!("alert {i}"),
                resource: String::new(),
                started_at: t0,
                state: AlertState::Firing,
                route: String::new(),
                labels: Labels::default(),
            })
            .collect();
        let metrics = |cloud, rps| CloudMetrics {
            cloud,
            region: "r".into(),
            rps: Some(rps),
            p95_ms: None,
            error_rate: None,
            cpu: None,
        };
        let am_report = SourceReport {
            alerts: Arc::new(alerts),
            metrics: vec![metrics(CloudKind::Azure, 5.0)],
            ..SourceReport::default()
        };
        let aws_report = |rps, desired| SourceReport {
            metrics: vec![metrics(CloudKind::Aws, rps)],
            groups: Arc::new(vec![ScalingGroup {
                source: cw.clone(),
                cloud: CloudKind::Aws,
                region: "r".into(),
                name: "web".into(),
                min: 1,
                max: 3,
                desired,
                zones: Vec::new(),
                spot_share: 0.0,
                rps_per_instance: None,
                inactive: false,
                instance_type: None,
            }]),
            ..SourceReport::default()
        };
        let statuses = vec![SourceStatus::new(am.clone(), "alertmanager"), SourceStatus::new(cw.clone(), "aws")];
        let (tx, rx) = mpsc::channel(4);
        let (out, mut fleets) = watch::channel(Arc::new(Fleet::default()));
        tokio::spawn(merge_loop(statuses, false, Arc::default(), Arc::default(), rx, out));
        let publish = |index, secs, report| {
            let at = t0 + chrono::Duration::seconds(secs);
            let result = PollResult { index, at, took: Duration::from_millis(1), result: Ok(report) };
            tx.try_send(result).expect("queued");
        };
        publish(0, 0, am_report);
        publish(1, 1, aws_report(100.0, 2));
        fleets.changed().await.expect("first");
        let mut first = fleets.borrow_and_update().clone();
        while first.generation < 2 {
            fleets.changed().await.expect("second");
            first = fleets.borrow_and_update().clone();
        }
        publish(1, 6, aws_report(120.0, 3));
        fleets.changed().await.expect("third");
        let next = fleets.borrow_and_update().clone();
        assert_eq!(next.generation, 3);
        assert_eq!(next.alerts.len(), 1000);
        assert!(Arc::ptr_eq(&next.alerts.chunks()[0], &first.alerts.chunks()[0]), "the alerts are shared");
        assert!(!Arc::ptr_eq(&next.groups.chunks()[0], &first.groups.chunks()[0]), "the polled source's are new");
        let (h1, h2) = (&first.history, &next.history);
        assert!(h2[&CloudKind::Azure].shares(&h1[&CloudKind::Azure]), "no new Azure point: one series");
        assert!(!h2[&CloudKind::Aws].shares(&h1[&CloudKind::Aws]), "a new AWS point: its own series");
        assert_eq!(h2[&CloudKind::Aws].len(), h1[&CloudKind::Aws].len() + 1);
        // A poll that read the same groups again keeps the ones already published.
        publish(1, 11, aws_report(130.0, 3));
        fleets.changed().await.expect("fourth");
        let again = fleets.borrow_and_update().clone();
        assert!(Arc::ptr_eq(&again.groups.chunks()[0], &next.groups.chunks()[0]), "unchanged groups are shared");
    }

    /// The merge loop feeds the SLO ledger from each fresh poll, over the time
    /// since the previous one (the source's interval bounds a gap), two regions read
    /// by two sources summed, a failed poll adding nothing.
    #[tokio::test]
    async fn the_merge_loop_keeps_slo_history_from_fresh_polls() {
        use crate::model::CloudMetrics;
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let region = |name: &str, rps: f64, err: f64| SourceReport {
            metrics: vec![CloudMetrics {
                cloud: CloudKind::Aws,
                region: name.into(),
                rps: Some(rps),
                p95_ms: None,
                error_rate: Some(err),
                cpu: None,
            }],
            ..SourceReport::default()
        };
        let status = |name: &str| SourceStatus { interval_secs: 10, ..SourceStatus::new(SourceId::new(name), "aws") };
        let slo = SloConfig {
            name: "shop".into(),
            objective: 99.9,
            window: "1d".into(),
            cloud: None,
            source: None,
            bad: None,
            total: None,
            ratio: None,
        };
        let (tx, rx) = mpsc::channel(8);
        let (out, mut fleets) = watch::channel(Arc::new(Fleet::default()));
        tokio::spawn(merge_loop(
            vec![status("east"), status("west")],
            false,
            Arc::default(),
            Arc::new(vec![slo]),
            rx,
            out,
        ));
        let mut publish = async |index, secs: i64, result: Result<SourceReport, ProviderError>| {
            let at = t0 + chrono::Duration::seconds(secs);
            tx.send(PollResult { index, at, took: Duration::from_millis(1), result }).await.expect("queued");
            fleets.changed().await.expect("published");
            fleets.borrow_and_update().clone()
        };
        // East alone: its first poll stands for one interval, 10 s.
        let f = publish(0, 0, Ok(region("east", 100.0, 0.01))).await;
        assert_eq!(f.slos[0].overall.covered_secs, 10.0);
        assert_eq!(f.slos[0].overall.total, Some(1000.0));
        // West 5 s later: the cloud's total (150 req/s, 1.5 + 1 bad/s) since then.
        let f = publish(1, 5, Ok(region("west", 50.0, 0.02))).await;
        assert_eq!(f.slos[0].overall.covered_secs, 15.0);
        assert_eq!(f.slos[0].overall.total, Some(1000.0 + 150.0 * 5.0));
        assert_eq!(f.slos[0].overall.bad, Some(10.0 + 2.0 * 5.0));
        // A failed poll adds nothing; the next good one 60 s later is past the gap
        // limit (3 × 10 s): only its own interval counts.
        let f = publish(0, 20, Err(ProviderError::Unreachable("down".into()))).await;
        assert_eq!(f.slos[0].overall.covered_secs, 15.0);
        let f = publish(0, 65, Ok(region("east", 100.0, 0.0))).await;
        assert_eq!(f.slos[0].overall.covered_secs, 25.0);
        assert_eq!(f.slos[0].overall.total, Some(1000.0 + 750.0 + 150.0 * 10.0));
        assert_eq!(f.slos[0].overall.bad, Some(20.0 + 1.0 * 10.0));
    }

    #[test]
    fn backfilled_points_extend_a_series_forward_only() {
        use crate::model::{CloudMetrics, TrafficPoint};
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let point = |secs: i64, rps: f64| TrafficPoint {
            at: t0 + chrono::Duration::seconds(secs),
            rps: Some(rps),
            p95_ms: None,
            error_rate: None,
        };
        let metrics = |rps: f64| CloudMetrics {
            cloud: CloudKind::Aws,
            region: "r".into(),
            rps: Some(rps),
            p95_ms: None,
            error_rate: None,
            cpu: None,
        };
        let mut history = BTreeMap::new();
        let report = SourceReport {
            metrics: vec![metrics(9.0)],
            history: vec![(CloudKind::Aws, point(-60, 1.0)), (CloudKind::Aws, point(-30, 2.0))],
            ..SourceReport::default()
        };
        record_report(&mut history, &report, t0);
        let rps: Vec<Option<f64>> = history[&CloudKind::Aws].points().map(|p| p.rps).collect();
        assert_eq!(rps, vec![Some(1.0), Some(2.0), Some(9.0)]);
        // A later report carrying the same backfill again adds only the live point.
        record_report(&mut history, &report, t0 + chrono::Duration::seconds(5));
        let rps: Vec<Option<f64>> = history[&CloudKind::Aws].points().map(|p| p.rps).collect();
        assert_eq!(rps, vec![Some(1.0), Some(2.0), Some(9.0), Some(9.0)]);
    }

    #[test]
    fn a_point_sums_the_regions_and_keeps_unreported_figures_unknown() {
        use crate::model::{CloudMetrics, TrafficPoint};
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let region = |cloud, region: &str, rps, p95_ms, cpu| CloudMetrics {
            cloud,
            region: region.into(),
            rps,
            p95_ms,
            error_rate: None,
            cpu,
        };
        let report = SourceReport {
            metrics: vec![
                region(CloudKind::Aws, "us-east-1", Some(300.0), Some(120.0), Some(0.4)),
                region(CloudKind::Aws, "eu-west-1", Some(100.0), None, None),
                // A region that reports only CPU (no load balancer configured).
                region(CloudKind::Azure, "westeurope", None, None, Some(0.3)),
            ],
            ..SourceReport::default()
        };
        let mut history = BTreeMap::new();
        record_report(&mut history, &report, t0);
        let points = |c: CloudKind| history[&c].points().copied().collect::<Vec<_>>();
        assert_eq!(
            points(CloudKind::Aws),
            vec![TrafficPoint { at: t0, rps: Some(400.0), p95_ms: Some(120.0), error_rate: None }]
        );
        // The poll happened and said nothing of traffic: a gap, not a zero.
        assert_eq!(points(CloudKind::Azure), vec![TrafficPoint::unreported(t0)]);
    }

    /// AWS is one source per region: each region's poll adds a point for the whole
    /// cloud as all sources last read it, never one region's figure in turn.
    #[test]
    fn regions_read_by_separate_sources_make_one_series_of_totals() {
        use crate::model::CloudMetrics;
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let report = |region: &str, rps: f64| SourceReport {
            metrics: vec![CloudMetrics {
                cloud: CloudKind::Aws,
                region: region.into(),
                rps: Some(rps),
                p95_ms: Some(100.0),
                error_rate: Some(0.0),
                cpu: Some(0.4),
            }],
            ..SourceReport::default()
        };
        let (east, west) = (report("us-east-1", 300.0), report("eu-west-1", 100.0));
        let mut history = BTreeMap::new();
        record_history(&mut history, &[], &[CloudKind::Aws], &[&east], t0);
        let t1 = t0 + chrono::Duration::seconds(2);
        record_history(&mut history, &[], &[CloudKind::Aws], &[&east, &west], t1);
        let east2 = report("us-east-1", 320.0);
        let t2 = t0 + chrono::Duration::seconds(30);
        record_history(&mut history, &[], &[CloudKind::Aws], &[&east2, &west], t2);
        let rps: Vec<Option<f64>> = history[&CloudKind::Aws].points().map(|p| p.rps).collect();
        assert_eq!(rps, vec![Some(300.0), Some(400.0), Some(420.0)]);
        // A source that measured nothing new adds no point.
        record_history(&mut history, &[], &[], &[&east2, &west], t2 + chrono::Duration::seconds(1));
        assert_eq!(history[&CloudKind::Aws].len(), 3);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let i = Duration::from_secs(5);
        assert_eq!(next_delay(i, 0, 0.0), i);
        assert_eq!(next_delay(i, 1, 0.0), Duration::from_secs(10));
        assert_eq!(next_delay(i, 3, 0.0), Duration::from_secs(40));
        // Capped at eight intervals...
        assert_eq!(next_delay(i, 4, 0.0), Duration::from_secs(40));
        assert_eq!(next_delay(i, 30, 0.0), Duration::from_secs(40));
        // ...and five minutes, for slow sources (a cost API read hourly waits its hour).
        assert_eq!(next_delay(Duration::from_secs(60), 30, 0.0), MAX_BACKOFF);
        assert_eq!(next_delay(Duration::from_secs(3600), 30, 0.0), Duration::from_secs(3600));
        assert_eq!(next_delay(i, 0, 1.0), Duration::from_millis(5500));
    }
}
