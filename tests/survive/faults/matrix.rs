//! The fault families every source kind is put through, and the run over all of
//! them: while a fault lasts the source is stale (or partial) with its last good
//! time and a one-line reason on the sources table, keys are answered and the
//! demo keeps updating; when it ends the source recovers by itself. Then a long
//! fault, after which tasks and buffers are still bounded.

use std::time::{Duration, Instant};

use chrono::Utc;
use opsdeck::app::AUDIT_KEPT;
use opsdeck::model::{Freshness, SourceStatus, TrafficHistory};
use opsdeck::providers::Provider;
use std::sync::Arc;

use super::rig::{Rig, stale_reason};

/// One fault of each family: the source unreachable (refused, killed), too slow
/// (hung, trickling), refusing (HTTP errors, throttling), or answering what
/// cannot be read (cut short, malformed, the wrong shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Refused,
    Hang,
    Trickle,
    Http(u16),
    Throttle,
    Truncated,
    Malformed,
    WrongShape,
    /// The server process killed in the middle of polling, then started again on its port.
    Killed,
}

pub const ALL_FAULTS: [Fault; 11] = [
    Fault::Refused,
    Fault::Hang,
    Fault::Trickle,
    Fault::Http(500),
    Fault::Http(502),
    Fault::Http(503),
    Fault::Throttle,
    Fault::Truncated,
    Fault::Malformed,
    Fault::WrongShape,
    Fault::Killed,
];

/// A source kind under test: how to start and end each fault, and what the
/// stale reason must say.
pub trait Target: Send {
    fn kind(&self) -> &'static str;
    fn provider(&self) -> Arc<dyn Provider>;
    /// How long a poll may take before the collector gives up on it.
    fn timeout(&self) -> Duration;
    fn inject(&mut self, f: Fault);
    fn heal(&mut self, f: Fault);
    /// Words one of which the reason must contain.
    fn expect(&self, f: Fault) -> Vec<String>;
    /// Requests (or polls) that reached the source so far.
    fn attempts(&self) -> usize;
}

/// What the operator is told about a fault: the source is stale with its reason,
/// or (when some of its sections still read, e.g. a wrong-shaped answer that one
/// decoder rejects and another reads as empty) partial, with each failed section's
/// reason and the time its data was last good.
pub fn trouble(s: &SourceStatus) -> Option<(String, Option<chrono::DateTime<Utc>>)> {
    if let Some(r) = stale_reason(s) {
        return Some((r.to_string(), s.last_ok));
    }
    if s.partial.is_empty() {
        return None;
    }
    let reason =
        s.partial.iter().map(|p| format!("{}: {}", p.section.label(), p.reason)).collect::<Vec<_>>().join("; ");
    Some((reason, s.partial.iter().filter_map(|p| p.last_ok).min()))
}

/// Inject `fault`, check what the operator must see while it lasts, end it, see recovery.
pub async fn one_fault(rig: &mut Rig, t: &mut dyn Target, fault: Fault) -> String {
    let (target, healthy) = (rig.target.clone(), rig.healthy.clone());
    let before = rig.fleet();
    let last_good = rig.status(&before, &target).last_ok.expect("fresh before the fault");
    let started = Utc::now();
    t.inject(fault);
    // (Killing waits for a request to arrive first, so a poll may succeed until here.)
    let injected = Utc::now();
    let f = rig
        .until(&format!("{} {fault:?}: stale while the demo updates", t.kind()), |f, r| {
            let s = r.status(f, &target);
            let h = r.status(f, &healthy);
            trouble(s).is_some() && h.freshness == Freshness::Fresh && h.last_ok.is_some_and(|at| at > started)
        })
        .await;
    let s = rig.status(&f, &target);
    let (reason, kept) = trouble(s).expect("stale or partial");
    let what = format!("{} {fault:?}: {reason}", t.kind());
    // The time it was last good is kept: the last success before the fault (a poll
    // already under way when it began may have succeeded since).
    let kept = kept.expect("last good time kept");
    assert!(kept >= last_good && kept <= injected, "{what}: last good {kept} vs fault at {injected}");
    // One line, nothing a terminal would act on. (Length is not bounded here: the UI
    // cuts the reason to its column; AWS SDK reasons run to hundreds of characters.)
    assert!(!reason.is_empty() && !reason.chars().any(char::is_control), "one line: {what}");
    let words = t.expect(fault);
    assert!(words.iter().any(|w| reason.contains(w.as_str())), "{what}: expected one of {words:?}");
    // The operator sees it: STALE and the reason on the sources table.
    let screen = rig.sources_screen(&f);
    // The Source column is 22 wide: long ids (Azure's subscription) are cut.
    let id: String = target.as_str().chars().take(16).collect();
    let row = screen.lines().find(|l| l.contains(&id)).unwrap_or_else(|| panic!("{what}: no row:\n{screen}"));
    assert!(row.contains("STALE") || row.contains("PARTIAL"), "{what}: {row}");
    let head: String = reason.chars().take(10).collect();
    assert!(row.contains(&head), "{what}: reason not on screen: {row}");

    // A few more cycles under the fault: keys still answer, the demo still updates.
    let mark = Utc::now();
    rig.until(&format!("{what}: the demo keeps updating"), |f, r| {
        r.status(f, &healthy).last_ok.is_some_and(|at| at > mark)
    })
    .await;

    t.heal(fault);
    let healed = Utc::now();
    rig.until(&format!("{what}: recovers by itself"), |f, r| {
        let s = r.status(f, &target);
        s.freshness == Freshness::Fresh && s.partial.is_empty() && s.last_ok.is_some_and(|at| at >= healed)
    })
    .await;
    reason
}

pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Every fault in turn, then a long one; prints the worst key-to-frame time.
pub async fn run_all(t: &mut dyn Target, faults: &[Fault]) {
    let mut rig = Rig::new(t.provider(), t.timeout());
    rig.warm_up();
    let target = rig.target.clone();
    rig.until(&format!("{}: first good poll", t.kind()), |f, r| {
        r.status(f, &target).freshness == Freshness::Fresh && r.status(f, &r.healthy).freshness == Freshness::Fresh
    })
    .await;
    rig.measuring = true;
    let tasks_before = alive_tasks();
    for &fault in faults {
        let reason = one_fault(&mut rig, t, fault).await;
        eprintln!("faults: {} {fault:?} -> stale: {reason}", t.kind());
    }
    let tasks_after_matrix = alive_tasks();

    // A long fault: many poll cycles (a refresh asked every 10 ms on top of the
    // short interval), alternating fast failures and hangs past the timeout.
    let attempts_before = t.attempts();
    let until = Instant::now() + Duration::from_secs(8);
    let mut peak = 0;
    let mut phase = 0;
    while Instant::now() < until {
        let fault = if phase % 2 == 0 { Fault::Http(503) } else { Fault::Hang };
        t.inject(fault);
        let phase_end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < phase_end {
            rig.collector.refresh_now();
            rig.press();
            peak = peak.max(alive_tasks());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        t.heal(fault);
        phase += 1;
    }
    let cycles = t.attempts() - attempts_before;
    let healed = Utc::now();
    // After this many failures the source is at its backoff cap (eight intervals):
    // it recovers by itself within a few intervals, with no refresh asked.
    let f = rig
        .until("recovery by itself after the long fault", |f, r| {
            let s = r.status(f, &target);
            s.freshness == Freshness::Fresh && s.last_ok.is_some_and(|at| at >= healed)
        })
        .await;
    let recovered_after = (Utc::now() - healed).num_milliseconds();
    // A poll hung in the last phase runs out its timeout; then the cap (800 ms) plus
    // jitter and the poll itself. A five-minute cap would blow this by far.
    let bound = t.timeout().as_millis() as i64 + 3_000;
    assert!(recovered_after < bound, "{}: recovered only after {recovered_after} ms", t.kind());
    // Let sockets of abandoned polls close.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tasks_after = alive_tasks();
    eprintln!(
        "faults: {}: {}; tasks before {tasks_before}, after the matrix {tasks_after_matrix}, peak in a long \
         fault {peak}, after it {tasks_after}; {cycles} attempts in the long fault, back by itself after \
         {recovered_after} ms",
        t.kind(),
        rig.latency_report(t.kind()),
    );
    // (AWS's SDK retries a 503 with backoff inside one poll, so it makes fewer.)
    assert!(cycles >= 5, "{}: the long fault spanned only {cycles} attempts", t.kind());
    // Bounded: the collector's tasks plus a few connection tasks, never one per attempt.
    assert!(tasks_after <= tasks_before + 4, "{}: tasks {tasks_before} -> {tasks_after}", t.kind());
    assert!(peak <= tasks_before + 8, "{}: tasks peaked at {peak} (from {tasks_before})", t.kind());
    // Buffers stay capped: the traffic history, the app's audit lines and in-flight list.
    for (cloud, h) in &f.history {
        assert!(h.points().count() <= TrafficHistory::CAPACITY, "{cloud:?} history uncapped");
    }
    assert!(f.history.values().any(|h| h.points().count() == TrafficHistory::CAPACITY), "history should be full");
    assert!(rig.app.audit.len() <= AUDIT_KEPT && rig.app.in_flight.is_empty());
}
