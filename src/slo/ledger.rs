//! The SLO history of direct sources (CloudWatch, Azure Monitor, CMS, the demo):
//! per cloud, per-minute buckets of requests and bad requests, integrated from
//! each fresh poll's requests/s and 5xx ratio over the time since the previous
//! poll of that cloud.
//!
//! A poll's rates stand for the span that ends at it (the metrics APIs report a
//! rate over their last period). The first poll of a cloud, and the first after a
//! gap longer than [`GAP_INTERVALS`] poll intervals, stand for one interval only:
//! a gap is never filled in, it stays uncovered. A poll whose figures are unknown
//! closes its span uncovered too. The ledger is bounded to the longest configured
//! window and held in memory only: a restart starts a new history (the coverage
//! says so).

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use super::budget::Tally;
use crate::model::{CloudKind, SourceReport};

/// A poll later than this many intervals after the previous one does not carry
/// the span between them.
pub const GAP_INTERVALS: f64 = 3.0;

/// One minute of one cloud: events (requests), bad events and measured seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Minutes since the Unix epoch.
    pub minute: i64,
    pub total: f64,
    pub bad: f64,
    pub covered_secs: f64,
}

#[derive(Debug, Clone, Default)]
struct Series {
    /// When the cloud was last polled (seconds since the epoch), known or not.
    last: Option<f64>,
    buckets: VecDeque<Bucket>,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    retention_secs: f64,
    clouds: BTreeMap<CloudKind, Series>,
}

fn secs(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

impl Ledger {
    /// A ledger keeping `retention_secs` (the longest configured window).
    pub fn new(retention_secs: u64) -> Ledger {
        Ledger { retention_secs: retention_secs as f64, clouds: BTreeMap::new() }
    }

    /// The clouds that have been polled.
    pub fn clouds(&self) -> impl Iterator<Item = CloudKind> + '_ {
        self.clouds.keys().copied()
    }

    /// The buckets of one cloud, oldest first.
    pub fn buckets(&self, cloud: CloudKind) -> impl Iterator<Item = &Bucket> {
        self.clouds.get(&cloud).into_iter().flat_map(|s| s.buckets.iter())
    }

    /// One poll of `cloud` at `at`: `figures` are (requests/s, bad requests/s), None
    /// when the poll could not tell. `interval_secs` is how often it is polled.
    pub fn observe(&mut self, cloud: CloudKind, at: DateTime<Utc>, figures: Option<(f64, f64)>, interval_secs: f64) {
        let at = secs(at);
        let interval = if interval_secs.is_finite() && interval_secs > 0.0 { interval_secs } else { 1.0 };
        let series = self.clouds.entry(cloud).or_default();
        let from = match series.last {
            // A repeated or late result: its span is already accounted.
            Some(prev) if at <= prev => return,
            Some(prev) if at - prev <= GAP_INTERVALS * interval => prev,
            _ => at - interval,
        };
        series.last = Some(at);
        if let Some((rps, bad_rps)) = figures.filter(|(r, b)| r.is_finite() && b.is_finite() && *r >= 0.0 && *b >= 0.0)
        {
            add_span(&mut series.buckets, from, at, rps, bad_rps.min(rps));
        }
        let oldest = ((at - self.retention_secs) / 60.0).floor() as i64;
        while series.buckets.front().is_some_and(|b| b.minute < oldest) {
            series.buckets.pop_front();
        }
    }

    /// Feed one source's fresh poll: each cloud it measured (`fresh`) as every
    /// source's latest report has it, regions summed. A cloud where any region
    /// lacks requests/s or its 5xx ratio is unknown for this span.
    pub fn observe_reports(
        &mut self,
        fresh: &[CloudKind],
        latest: &[&SourceReport],
        at: DateTime<Utc>,
        interval_secs: f64,
    ) {
        let mut clouds: BTreeMap<CloudKind, Option<(f64, f64)>> = BTreeMap::new();
        for m in latest.iter().flat_map(|r| r.metrics.iter()).filter(|m| fresh.contains(&m.cloud)) {
            let sum = clouds.entry(m.cloud).or_insert(Some((0.0, 0.0)));
            *sum = match (*sum, m.rps, m.error_rate) {
                (Some((rps, bad)), Some(r), Some(e)) => Some((rps + r, bad + r * e.clamp(0.0, 1.0))),
                _ => None,
            };
        }
        for (cloud, figures) in clouds {
            self.observe(cloud, at, figures, interval_secs);
        }
    }

    /// Tallies over the spans (seconds back from `now`) for one cloud or, with
    /// `scope` None, the whole shop: events summed across clouds (so each cloud
    /// weighs by its traffic); a minute's coverage is the most any cloud had in it.
    /// A minute cut by a span's start counts in proportion.
    pub fn tallies(&self, scope: Option<CloudKind>, now: DateTime<Utc>, spans: &[f64]) -> Vec<Tally> {
        let now = secs(now);
        let longest = spans.iter().copied().fold(0.0, f64::max);
        let first = ((now - longest) / 60.0).floor() as i64;
        let last = (now / 60.0).floor() as i64;
        let mut minutes: BTreeMap<i64, Tally> = BTreeMap::new();
        for (cloud, series) in &self.clouds {
            if scope.is_some_and(|c| c != *cloud) {
                continue;
            }
            // Buckets are in minute order: skip to the first one in range.
            let start = series.buckets.partition_point(|b| b.minute < first);
            for b in series.buckets.range(start..).take_while(|b| b.minute <= last) {
                let m = minutes.entry(b.minute).or_default();
                m.total += b.total;
                m.bad += b.bad;
                m.covered_secs = m.covered_secs.max(b.covered_secs);
            }
        }
        spans
            .iter()
            .map(|span| {
                let start = now - span;
                let mut t = Tally::default();
                for (minute, m) in minutes.range(((start / 60.0).floor() as i64)..) {
                    let f = ((((minute + 1) * 60) as f64 - start) / 60.0).clamp(0.0, 1.0);
                    t.add(Tally { total: m.total * f, bad: m.bad * f, covered_secs: m.covered_secs * f });
                }
                t
            })
            .collect()
    }
}

/// Spread a span of constant rates over the minutes it crosses.
fn add_span(buckets: &mut VecDeque<Bucket>, from: f64, to: f64, rps: f64, bad_rps: f64) {
    let mut start = from;
    while start < to {
        let minute = (start / 60.0).floor() as i64;
        let end = to.min(((minute + 1) * 60) as f64);
        let dt = end - start;
        let at = buckets.partition_point(|b| b.minute < minute);
        match buckets.get_mut(at) {
            Some(b) if b.minute == minute => {
                b.total += rps * dt;
                b.bad += bad_rps * dt;
                b.covered_secs += dt;
            }
            _ => buckets.insert(at, Bucket { minute, total: rps * dt, bad: bad_rps * dt, covered_secs: dt }),
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        // 1 800 000 000 is a minute boundary, so hand-computed minutes are whole.
        Utc.timestamp_opt(1_800_000_000 + s, 0).single().expect("valid")
    }

    #[test]
    fn polls_integrate_over_the_time_since_the_previous_one() {
        let mut l = Ledger::new(86_400);
        // First poll at 10 s stands for one interval (10 s) back: 0..10.
        l.observe(CloudKind::Aws, t(10), Some((100.0, 1.0)), 10.0);
        l.observe(CloudKind::Aws, t(20), Some((200.0, 0.0)), 10.0);
        l.observe(CloudKind::Aws, t(25), Some((50.0, 5.0)), 10.0);
        let b: Vec<Bucket> = l.buckets(CloudKind::Aws).copied().collect();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].covered_secs, 25.0);
        assert_eq!(b[0].total, 100.0 * 10.0 + 200.0 * 10.0 + 50.0 * 5.0);
        assert_eq!(b[0].bad, 10.0 + 0.0 + 25.0);
        // 25..70 crosses into the next minute: 35 s in minute 0, 10 s in minute 1.
        l.observe(CloudKind::Aws, t(70), Some((10.0, 1.0)), 30.0);
        let b: Vec<Bucket> = l.buckets(CloudKind::Aws).copied().collect();
        assert_eq!((b[0].covered_secs, b[1].covered_secs), (60.0, 10.0));
        assert_eq!(b[1].total, 100.0);
        let [whole] = l.tallies(None, t(70), &[70.0])[..] else { panic!("one span") };
        assert_eq!(whole.covered_secs, 70.0);
        assert_eq!(whole.total, 1000.0 + 2000.0 + 250.0 + 450.0);
        assert_eq!(whole.bad, 10.0 + 25.0 + 45.0);
    }

    #[test]
    fn a_gap_is_not_filled_in_and_an_unknown_poll_covers_nothing() {
        let mut l = Ledger::new(86_400);
        l.observe(CloudKind::Azure, t(0), Some((10.0, 0.0)), 10.0);
        // 40 s later is more than 3 intervals: only 30..40 counts.
        l.observe(CloudKind::Azure, t(40), Some((10.0, 1.0)), 10.0);
        // Unknown figures: 40..50 uncovered; then 50..60 counts again.
        l.observe(CloudKind::Azure, t(50), None, 10.0);
        l.observe(CloudKind::Azure, t(60), Some((20.0, 0.0)), 10.0);
        let [x] = l.tallies(Some(CloudKind::Azure), t(60), &[120.0])[..] else { panic!() };
        assert_eq!(x, Tally { total: 100.0 + 100.0 + 200.0, bad: 10.0, covered_secs: 30.0 });
        // Nothing for a cloud never polled.
        assert_eq!(l.tallies(Some(CloudKind::Aws), t(60), &[120.0])[0], Tally::default());
    }

    #[test]
    fn the_shop_sums_events_and_takes_the_widest_coverage() {
        let mut l = Ledger::new(86_400);
        for s in (60..=120).step_by(10) {
            l.observe(CloudKind::Aws, t(s), Some((900.0, 0.9)), 10.0);
        }
        for s in (90..=120).step_by(10) {
            l.observe(CloudKind::Aliyun, t(s), Some((100.0, 1.0)), 10.0);
        }
        let spans = [60.0, 30.0];
        let shop = l.tallies(None, t(120), &spans);
        // aws covers 60..120 (the first poll back to 50 is in minute 0, outside);
        // aliyun 80..120: 40 s.
        assert_eq!(shop[0].covered_secs, 60.0);
        assert_eq!(shop[0].total, 900.0 * 60.0 + 100.0 * 40.0);
        assert_eq!(shop[0].bad, 0.9 * 60.0 + 40.0);
        // A span cut mid-minute counts that minute in proportion.
        assert_eq!(shop[1].covered_secs, 30.0);
    }

    #[test]
    fn the_ledger_keeps_only_its_retention() {
        let mut l = Ledger::new(3_600);
        for s in (0..=7_200).step_by(30) {
            l.observe(CloudKind::Aws, t(s), Some((1.0, 0.0)), 30.0);
        }
        let b: Vec<Bucket> = l.buckets(CloudKind::Aws).copied().collect();
        assert!(b.len() <= 62, "{}", b.len());
        assert_eq!(b.last().map(|b| b.minute), Some(t(7_200).timestamp() / 60 - 1));
    }
}
