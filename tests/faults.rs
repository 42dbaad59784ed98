//! Issue #9, faults: every source kind behind a misbehaving front (or, for the
//! demo, a wrapper told to fail, hang or panic), polled by a real `Collector`
//! while the real `App` state machine answers keys and draws frames on a
//! `TestBackend`. For every fault: a key is answered within 50 ms, the source goes
//! stale with its last good time and a one-line reason while the demo keeps
//! updating, and it recovers by itself when the fault ends. A long fault leaves
//! the task count and the buffers bounded.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{AUDIT_KEPT, App, Command, Msg, Pane};
use opsdeck::clock::SystemClock;
use opsdeck::collector::{Collector, SourceSchedule};
use opsdeck::model::{Fleet, Freshness, SourceId, SourceReport, SourceStatus, TrafficHistory};
use opsdeck::providers::demo::{DemoHandle, DemoProvider, EstateSpec};
use opsdeck::providers::{Provider, ProviderError};
use opsdeck::theme::{ColorMode, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::faulty::{Faulty, Mode};

/// How often the rig polls: short, so a fault spans many poll cycles quickly.
const INTERVAL: Duration = Duration::from_millis(100);
/// The issue's bound from a key to the next frame.
const KEY_TO_FRAME: Duration = Duration::from_millis(50);
/// Recovery and staleness waits: generous, for a loaded 2-core machine.
const WAIT_SECS: u64 = 90;
/// The terminal: an SSH window's usual size.
const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
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

const ALL_FAULTS: [Fault; 11] = [
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
trait Target: Send {
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

// ---------------------------------------------------------------------------
// The rig: a real collector, the real App, a TestBackend.

struct Rig {
    collector: Collector,
    app: App,
    term: Terminal<TestBackend>,
    theme: Theme,
    target: SourceId,
    healthy: SourceId,
    seen_generation: u64,
    keys: usize,
    worst: Duration,
    latencies: Vec<Duration>,
    /// Press an unbound key, which leaves the status line alone (for reading it).
    quiet: bool,
    /// Record and bound key-to-frame times (from the first good poll on: start-up,
    /// with servers launching beside it, is not what the issue measures).
    measuring: bool,
    /// Commands the App asked for on fresh reads (audit lines for settled actions).
    commands: Vec<Command>,
}

const KEYS: [KeyCode; 8] = [
    KeyCode::Tab,
    KeyCode::Char('2'),
    KeyCode::Char('j'),
    KeyCode::Char('k'),
    KeyCode::Char('5'),
    KeyCode::Char('G'),
    KeyCode::Char('6'),
    KeyCode::Char('1'),
];

impl Rig {
    fn new(target: Arc<dyn Provider>, timeout: Duration) -> Rig {
        let estate = Arc::new(EstateSpec::embedded().expect("estate"));
        let demo = Arc::new(DemoProvider::new(SourceId::new("demo"), estate, DemoHandle::default()));
        let id = target.id().clone();
        let sources = vec![
            SourceSchedule { provider: demo, interval: INTERVAL, timeout: Duration::from_secs(5) },
            SourceSchedule { provider: target, interval: INTERVAL, timeout },
        ];
        let collector = Collector::spawn(sources, Arc::new(SystemClock), false);
        let mut app = App::new(None);
        let fleet = collector.fleet.borrow().clone();
        app.update(Msg::Resize { width: WIDTH, height: HEIGHT }, &fleet);
        Rig {
            collector,
            app,
            term: Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal"),
            theme: Theme::load("default", None, ColorMode::TrueColor).expect("theme"),
            target: id,
            healthy: SourceId::new("demo"),
            seen_generation: u64::MAX,
            keys: 0,
            worst: Duration::ZERO,
            latencies: Vec::new(),
            quiet: false,
            measuring: false,
            commands: Vec::new(),
        }
    }

    /// Draw every pane once, untimed, so that the measured frames are steady-state
    /// ones (ratatui's layout cache warm), as in a session that has been running.
    fn warm_up(&mut self) {
        let fleet = self.fleet();
        self.app.update(Msg::FleetChanged, &fleet);
        for pane in Pane::ALL {
            self.app.pane = pane;
            self.draw(&fleet);
        }
        self.app.pane = Pane::Overview;
    }

    fn fleet(&self) -> Arc<Fleet> {
        self.collector.fleet.borrow().clone()
    }

    fn draw(&mut self, fleet: &Fleet) {
        let (app, theme) = (&self.app, &self.theme);
        self.term
            .draw(|f| opsdeck::ui::draw(f, &opsdeck::ui::View { app, fleet, theme, now: Utc::now() }))
            .expect("draw");
    }

    /// One key through the App and one frame: the UI path only (it never awaits a
    /// provider), timed from the key to the drawn frame.
    fn press(&mut self) -> Duration {
        let fleet = self.fleet();
        if fleet.generation != self.seen_generation {
            self.seen_generation = fleet.generation;
            let asked = self.app.update(Msg::FleetChanged, &fleet);
            self.commands.extend(asked);
        }
        self.app.update(Msg::Clock(Utc::now()), &fleet);
        let code = if self.quiet { KeyCode::Char('z') } else { KEYS[self.keys % KEYS.len()] };
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        self.keys += 1;
        let started = Instant::now();
        self.app.update(Msg::Key(key), &fleet);
        self.draw(&fleet);
        let took = started.elapsed();
        if !self.measuring {
            return took;
        }
        self.worst = self.worst.max(took);
        self.latencies.push(took);
        // Every key: a hard bound that a UI waiting on a provider (seconds) would break,
        // with room for a loaded 2-core machine preempting this thread in a debug build;
        // the issue's 50 ms is asserted on the 99th percentile (see `latency_report`).
        assert!(
            took < 5 * KEY_TO_FRAME,
            "key {key:?} to frame took {took:?} (key #{}, pane {:?})",
            self.keys,
            self.app.pane
        );
        took
    }

    /// Press keys every 20 ms until `pred` holds on the published Fleet.
    async fn until(&mut self, what: &str, pred: impl Fn(&Fleet, &Rig) -> bool) -> Arc<Fleet> {
        let deadline = Instant::now() + Duration::from_secs(WAIT_SECS);
        loop {
            self.press();
            let f = self.fleet();
            if pred(&f, self) {
                return f;
            }
            assert!(Instant::now() < deadline, "not within {WAIT_SECS} s: {what}; sources: {:#?}", f.sources);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// (median, 99th percentile, worst) key-to-frame time; asserts the issue's bound.
    fn latency_report(&self, kind: &str) -> String {
        let mut l = self.latencies.clone();
        l.sort();
        let at = |q: f64| l[((l.len() - 1) as f64 * q) as usize];
        let (p50, p99) = (at(0.5), at(0.99));
        assert!(p99 < KEY_TO_FRAME, "{kind}: 99th percentile key to frame {p99:?}");
        format!("key-to-frame over {} keys: median {p50:?}, p99 {p99:?}, worst {:?}", l.len(), self.worst)
    }

    fn status<'f>(&self, f: &'f Fleet, id: &SourceId) -> &'f SourceStatus {
        f.source(id).unwrap_or_else(|| panic!("no source {id}"))
    }

    /// The Logs pane as text: where the operator reads why a source is stale.
    fn sources_screen(&mut self, fleet: &Fleet) -> String {
        let pane = self.app.pane;
        self.app.pane = Pane::Logs;
        self.draw(fleet);
        self.app.pane = pane;
        self.term.backend().to_string()
    }
}

fn stale_reason(s: &SourceStatus) -> Option<&str> {
    match &s.freshness {
        Freshness::Stale { reason } => Some(reason),
        _ => None,
    }
}

/// What the operator is told about a fault: the source is stale with its reason,
/// or (when some of its sections still read, e.g. a wrong-shaped answer that one
/// decoder rejects and another reads as empty) partial, with each failed section's
/// reason and the time its data was last good.
fn trouble(s: &SourceStatus) -> Option<(String, Option<chrono::DateTime<Utc>>)> {
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

/// Inject `fault`, check what the issue asks while it lasts, end it, see recovery.
async fn one_fault(rig: &mut Rig, t: &mut dyn Target, fault: Fault) -> String {
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

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Every fault in turn, then a long one; prints the worst key-to-frame time.
async fn run_all(t: &mut dyn Target, faults: &[Fault]) {
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

// ---------------------------------------------------------------------------
// The demo: a wrapper told to fail, hang or panic.

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

// ---------------------------------------------------------------------------
// Sources over HTTP: a Faulty front before a real (or test) server.

/// Kills and revives the server behind the front.
trait Upstream: Send {
    fn kill(&mut self);
    fn revive(&mut self);
}

struct HttpTarget {
    kind: &'static str,
    provider: Arc<dyn Provider>,
    front: Faulty,
    timeout: Duration,
    /// This cloud's throttling dialect.
    throttle: Mode,
    upstream: Box<dyn Upstream>,
    expect: fn(Fault) -> Vec<&'static str>,
}

/// The words a stale reason must hold (one of them), per fault: for the
/// Prometheus and Alertmanager sources (opsdeck's own HTTP client).
fn prometheus_words(f: Fault) -> Vec<&'static str> {
    match f {
        Fault::Refused | Fault::Killed => vec!["unreachable", "cannot connect"],
        Fault::Hang | Fault::Trickle => vec!["timed out"],
        Fault::Http(_) => vec![],
        Fault::Throttle => vec!["throttled"],
        Fault::Truncated | Fault::Malformed | Fault::WrongShape => vec!["unreadable", "bad response"],
    }
}

/// ...and for the sources read through a cloud SDK (AWS, Azure), whose transport
/// errors on a cut body may surface either way.
fn sdk_words(f: Fault) -> Vec<&'static str> {
    match f {
        Fault::Refused | Fault::Killed => vec!["unreachable"],
        Fault::Hang | Fault::Trickle => vec!["timed out"],
        Fault::Http(_) => vec![],
        Fault::Throttle => vec!["throttled"],
        Fault::Truncated | Fault::Malformed | Fault::WrongShape => vec!["bad response", "unreachable"],
    }
}

impl Target for HttpTarget {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn provider(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn inject(&mut self, f: Fault) {
        let mode = match f {
            Fault::Refused => Mode::Down,
            Fault::Hang => Mode::Hang,
            Fault::Trickle => Mode::Trickle,
            Fault::Http(502) => Mode::Status502,
            Fault::Http(503) => Mode::Status503,
            Fault::Http(_) => Mode::Status500,
            Fault::Throttle => self.throttle,
            Fault::Truncated => Mode::Truncated,
            Fault::Malformed => Mode::Malformed,
            Fault::WrongShape => Mode::Wrong,
            Fault::Killed => {
                // Kill it while polls are under way (the interval is 100 ms; wait for one to arrive).
                let seen = self.front.total();
                let deadline = Instant::now() + Duration::from_secs(10);
                tokio::task::block_in_place(|| {
                    while self.front.total() == seen && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    self.upstream.kill()
                });
                return;
            }
        };
        self.front.set(mode);
    }
    fn heal(&mut self, f: Fault) {
        if f == Fault::Killed {
            tokio::task::block_in_place(|| self.upstream.revive());
        }
        self.front.set(Mode::Forward);
    }
    fn expect(&self, f: Fault) -> Vec<String> {
        let mut w: Vec<String> = (self.expect)(f).into_iter().map(String::from).collect();
        if let Fault::Http(code) = f {
            w.push(format!("HTTP {code}"));
        }
        w
    }
    fn attempts(&self) -> usize {
        self.front.total()
    }
}

// Prometheus and Alertmanager: the real servers (Debian packages).

mod prom {
    use super::support::promstack::{self, Server};
    use super::*;
    use opsdeck::providers::prometheus::PrometheusSource;
    use opsdeck::providers::prometheus::alertmanager::AlertmanagerSource;
    use opsdeck::providers::prometheus::{AlertmanagerConfig, PrometheusConfig};

    pub struct Up(pub Server);
    impl Upstream for Up {
        fn kill(&mut self) {
            self.0.kill();
        }
        fn revive(&mut self) {
            self.0.revive();
        }
    }

    pub fn config(url: &str) -> PrometheusConfig {
        let mut cfg = PrometheusConfig::new(url);
        cfg.backfill_minutes = 0;
        for q in [&mut cfg.queries.rps, &mut cfg.queries.p95_ms, &mut cfg.queries.error_rate, &mut cfg.queries.cpu] {
            *q = Some("shop_ok".into());
        }
        cfg
    }

    pub async fn prometheus_target() -> (HttpTarget, Server) {
        let pg = promstack::pushgateway();
        let prom = promstack::prometheus(&pg, None, "groups: []\n");
        promstack::push(&pg, "shop", "shop_ok{cloud=\"aws\",region=\"us-east-1\"} 7\n").await;
        let direct = PrometheusSource::new("prom", &config(&prom.url()), Duration::from_secs(5)).expect("source");
        promstack::eventually(30, "the pushed series scraped", || async {
            direct.poll(Utc::now()).await.ok().filter(|r| r.metrics.len() == 1)
        })
        .await;
        let front = Faulty::start(prom.port);
        // Derived from the Prometheus HTTP API's instant-query answer: a vector whose
        // sample value is a string instead of [time, "value"].
        front.set_wrong(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"cloud":"aws","region":"us-east-1"},"value":"seven"}]}}"#,
            "application/json",
        );
        let provider =
            Arc::new(PrometheusSource::new("prom", &config(&front.url()), Duration::from_secs(10)).expect("source"));
        let t = HttpTarget {
            kind: "prometheus",
            provider,
            front,
            timeout: Duration::from_secs(2),
            throttle: Mode::Throttle429,
            upstream: Box::new(Up(prom)),
            expect: prometheus_words,
        };
        (t, pg)
    }

    pub async fn alertmanager_target() -> HttpTarget {
        let am = promstack::alertmanager(None);
        let front = Faulty::start(am.port);
        // Derived from Alertmanager's GET /api/v2/alerts answer (gettableAlerts):
        // `labels` a string and `status` a number instead of objects.
        front.set_wrong(r#"[{"labels":"DiskFull","annotations":{},"startsAt":"x","status":3}]"#, "application/json");
        let provider = Arc::new(
            AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![front.url()]), Duration::from_secs(10))
                .expect("am"),
        );
        HttpTarget {
            kind: "alertmanager",
            provider,
            front,
            timeout: Duration::from_secs(2),
            throttle: Mode::Throttle429,
            upstream: Box::new(Up(am)),
            expect: prometheus_words,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_source_survives_every_fault() {
    let (mut t, _pushgateway) = prom::prometheus_target().await;
    run_all(&mut t, &ALL_FAULTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_source_survives_every_fault() {
    let mut t = prom::alertmanager_target().await;
    run_all(&mut t, &ALL_FAULTS).await;
}

// AWS: a real moto server.

mod aws_kind {
    use super::support::moto::{Moto, sdk_for};
    use super::*;
    use opsdeck::providers::aws::AwsConfig;
    use opsdeck::providers::aws::{self, SdkSource};

    pub struct Up(Option<Moto>, u16);
    impl Upstream for Up {
        fn kill(&mut self) {
            self.0 = None; // dropping it kills the process
        }
        fn revive(&mut self) {
            self.0 = Some(Moto::start_on(self.1));
        }
    }

    pub async fn target() -> HttpTarget {
        let moto = Moto::start();
        let front = Faulty::start(moto.port);
        // Derived from the DescribeAutoScalingGroups answer (Query protocol): a group
        // whose DesiredCapacity is a word and which lacks its name.
        front.set_wrong(
            "<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\
             <DescribeAutoScalingGroupsResult><AutoScalingGroups><member><DesiredCapacity>lots</DesiredCapacity>\
             </member></AutoScalingGroups></DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>",
            "text/xml",
        );
        let sdk = sdk_for(&front.url(), "us-east-1").await;
        let cfg = AwsConfig::new("test", vec!["us-east-1".into()]);
        let provider = aws::providers("aws-test", &cfg, Duration::from_secs(10), SdkSource::Given(Box::new(sdk)))
            .into_iter()
            .next()
            .expect("a region source");
        let port = moto.port;
        HttpTarget {
            kind: "aws",
            provider,
            front,
            timeout: Duration::from_secs(4),
            throttle: Mode::ThrottlingException,
            upstream: Box::new(Up(Some(moto), port)),
            expect: sdk_words,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_source_survives_every_fault() {
    let mut t = aws_kind::target().await;
    run_all(&mut t, &ALL_FAULTS).await;
}

// Azure: the wiremock stand-in for ARM and Entra ID, replaying the official examples.

mod azure_kind {
    use super::*;
    use opsdeck::credentials::Secret;
    use opsdeck::providers::azure::AzureConfig;
    use opsdeck::providers::azure::{self, AzureAuth, AzureOptions, LroLimits, creds};
    use serde_json::{Value, json};
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const SUB: &str = "3b540246-808d-4331-99aa-917b808a9166";
    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "0f3b7c1e-1111-2222-3333-444455556666";

    fn fixture(name: &str, status: &str) -> Value {
        let p = format!("{}/tests/fixtures/azure/{name}", env!("CARGO_MANIFEST_DIR"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json");
        v["responses"][status]["body"].clone()
    }

    async fn serve(listener: std::net::TcpListener) -> MockServer {
        let server = MockServer::builder().listener(listener).start().await;
        // OAuth 2.0 token response (RFC 6749 §5.1), as Entra ID sends it.
        Mock::given(method("POST"))
            .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "tok"
            })))
            .mount(&server)
            .await;
        // Derived: the Alerts_List example with its first alert only and no nextLink.
        let mut alerts = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
        let first = alerts["value"][0].clone();
        alerts["value"] = json!([first]);
        alerts.as_object_mut().expect("object").remove("nextLink");
        Mock::given(method("GET"))
            .and(path(format!("/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts")))
            .and(query_param("api-version", "2019-03-01"))
            .respond_with(ResponseTemplate::new(200).set_body_json(alerts))
            .mount(&server)
            .await;
        // Cost Management's documented empty answer.
        Mock::given(method("POST"))
            .and(path(format!("/subscriptions/{SUB}/providers/Microsoft.CostManagement/query")))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
        server
    }

    fn bind(port: u16) -> std::net::TcpListener {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match std::net::TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => return l,
                Err(e) if Instant::now() > deadline => panic!("rebind {port}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    pub struct Up(Option<MockServer>, u16);
    impl Upstream for Up {
        fn kill(&mut self) {
            self.0 = None;
        }
        fn revive(&mut self) {
            let l = bind(self.1);
            self.0 = Some(tokio::runtime::Handle::current().block_on(serve(l)));
        }
    }

    pub async fn target() -> HttpTarget {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = serve(listener).await;
        let front = Faulty::start(port);
        let base = front.url().replace("http://", "https://");
        let mut cfg = AzureConfig::new(vec![SUB.into()]);
        cfg.arm_endpoint = base.clone();
        cfg.authority_host = Some(base);
        cfg.tenant_id = Some(TENANT.into());
        cfg.client_id = Some(CLIENT.into());
        let transport = support::azure_http::plain_http;
        let cred =
            creds::client_secret(TENANT, CLIENT, &Secret::new("s3cr3t"), &cfg, Some(transport())).expect("credential");
        let opts = AzureOptions {
            auth: AzureAuth::Given(cred),
            transport: Some(transport()),
            lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
        };
        let provider = azure::providers("az", &cfg, opts).expect("providers").remove(0);
        // Derived from the Alerts_List example: `value` an object instead of a list.
        front.set_wrong(r#"{"value":{"id":7}}"#, "application/json");
        HttpTarget {
            kind: "azure",
            provider,
            front,
            timeout: Duration::from_secs(3),
            throttle: Mode::Throttle429,
            upstream: Box::new(Up(Some(server), port)),
            expect: sdk_words,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_source_survives_every_fault() {
    let mut t = azure_kind::target().await;
    run_all(&mut t, &ALL_FAULTS).await;
}

// Alibaba Cloud: the signature-checking stand-in replaying the fixtures.

mod aliyun_kind {
    use super::support::aliyun::{self, Handler, KEY_ID, KEY_SECRET, Seen, Server};
    use super::*;
    use opsdeck::credentials::Secret;
    use opsdeck::providers::aliyun::client::{KeySource, RetryPolicy};
    use opsdeck::providers::aliyun::config::AliyunConfig;
    use opsdeck::providers::aliyun::providers_with;
    use opsdeck::providers::aliyun::sign::AccessKey;

    fn replay(req: &Seen) -> (u16, String) {
        let f = match req.action.as_str() {
            "DescribeScalingGroups" => "ess-2014-08-28-DescribeScalingGroups.doc.json",
            "DescribeAlertLogList" => "cms-2019-01-01-DescribeAlertLogList.sdk.json",
            "DescribeMetricLast" => "cms-2019-01-01-DescribeMetricLast.sdk.json",
            "DescribeMetricList" => "cms-2019-01-01-DescribeMetricList.sdk.json",
            other => return (404, format!(r#"{{"Code":"InvalidAction.NotFound","Message":"{other}"}}"#)),
        };
        (200, aliyun::fixture(f))
    }

    pub struct Up(Server, Handler);
    impl Upstream for Up {
        fn kill(&mut self) {
            self.0.stop();
        }
        fn revive(&mut self) {
            self.0 = Server::start_on_port(self.0.port(), self.1.clone());
        }
    }

    pub fn target() -> HttpTarget {
        let handler: Handler = Arc::new(replay);
        let server = Server::start(handler.clone());
        let front = Faulty::start(server.port());
        let mut cfg = AliyunConfig::new("cn-qingdao");
        for k in ["cms", "ess", "alidns", "bss"] {
            cfg.endpoints.insert(k.into(), front.url());
        }
        cfg.scaling_groups = vec!["asg-bp14wlu85wrpchm0****".into()];
        let key =
            KeySource::Given(AccessKey { id: KEY_ID.into(), secret: Secret::new(KEY_SECRET), security_token: None });
        let retry = RetryPolicy { attempts: 2, base: Duration::from_millis(10), max: Duration::from_millis(20) };
        let provider = providers_with("ali", &cfg, Duration::from_secs(10), key, retry)
            .expect("providers")
            .into_iter()
            .find(|p| p.id().as_str() == "ali/cn-qingdao")
            .expect("region source");
        // Derived from the DescribeScalingGroups example: the groups a string.
        front.set_wrong(
            r#"{"RequestId":"473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E","TotalCount":1,"ScalingGroups":"none"}"#,
            "application/json",
        );
        HttpTarget {
            kind: "aliyun",
            provider,
            front,
            timeout: Duration::from_secs(3),
            throttle: Mode::ThrottlingUser,
            upstream: Box::new(Up(server, handler)),
            expect: |f| match f {
                Fault::Refused | Fault::Killed => vec!["unreachable", "cannot connect"],
                Fault::Hang | Fault::Trickle => vec!["timed out"],
                Fault::Http(_) => vec![],
                Fault::Throttle => vec!["throttled", "Throttling.User"],
                Fault::Truncated | Fault::Malformed | Fault::WrongShape => vec!["bad response", "unreachable"],
            },
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_source_survives_every_fault() {
    let mut t = aliyun_kind::target();
    run_all(&mut t, &ALL_FAULTS).await;
}

// ---------------------------------------------------------------------------
// Actions during faults.

mod actions_kind {
    use super::support::promstack;
    use super::*;
    use opsdeck::actions::{Actor, Executor, Sent};
    use opsdeck::app::Level;
    use opsdeck::model::AlertState;
    use opsdeck::providers::prometheus::AlertmanagerConfig;
    use opsdeck::providers::prometheus::alertmanager::AlertmanagerSource;
    use serde_json::json;

    fn actor() -> Actor {
        Actor { user: "oncall".into(), host: "bastion-1".into(), ssh_client: None }
    }

    /// Type a palette line and press Enter; then answer the dialog with `answer`.
    fn run_palette(rig: &mut Rig, line: &str, answer: char) -> Vec<Command> {
        let fleet = rig.fleet();
        rig.app.update(Msg::Clock(Utc::now()), &fleet);
        let key = |c| Msg::Key(KeyEvent::new(c, KeyModifiers::NONE));
        rig.app.update(key(KeyCode::Char(':')), &fleet);
        for c in line.chars() {
            rig.app.update(key(KeyCode::Char(c)), &fleet);
        }
        let opened = rig.app.update(key(KeyCode::Enter), &fleet);
        assert!(opened.is_empty(), "{opened:?}");
        assert!(matches!(rig.app.mode, opsdeck::app::Mode::Confirm(_)), "no dialog: {:?}", rig.app.status);
        rig.app.update(key(KeyCode::Char(answer)), &fleet)
    }

    /// An Alertmanager source behind a misbehaving front, with one firing alert.
    async fn alertmanager_with_alert(am: &promstack::Server, labels: serde_json::Value) -> (Faulty, Arc<dyn Provider>) {
        let alert =
            json!([{"labels": labels, "annotations": {"summary": "firing"}, "startsAt": Utc::now().to_rfc3339()}]);
        promstack::post_alerts(am, alert).await;
        let front = Faulty::start(am.port);
        let provider: Arc<dyn Provider> = Arc::new(
            AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![front.url()]), Duration::from_secs(2))
                .expect("am"),
        );
        (front, provider)
    }

    /// The audit lines the App asked for since the last call: the verdicts on lost answers.
    fn verdicts(rig: &mut Rig) -> Vec<(opsdeck::actions::Outcome, String)> {
        rig.commands
            .drain(..)
            .filter_map(|c| match c {
                Command::Record { checked, outcome, .. } => Some((outcome, checked.plan.target)),
                _ => None,
            })
            .collect()
    }

    fn status(rig: &Rig) -> String {
        rig.app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stale_plans_are_refused_and_lost_answers_are_re_read_never_re_sent() {
        let am = promstack::alertmanager(None);
        let (front, provider) = alertmanager_with_alert(
            &am,
            json!({"alertname": "DiskFull", "cloud": "aws", "severity": "warning", "instance": "db-1"}),
        )
        .await;
        let executor = Executor::new([provider.clone()]);
        let mut rig = Rig::new(provider, Duration::from_secs(3));
        rig.warm_up();
        let am_id = rig.target.clone();
        let f = rig
            .until("the alert read", |f, r| {
                r.status(f, &am_id).freshness == Freshness::Fresh && f.alerts.iter().any(|a| a.source == am_id)
            })
            .await;
        rig.measuring = true;
        let alert = f.alerts.iter().find(|a| a.source == am_id).expect("the DiskFull alert").clone();
        assert_eq!(alert.state, AlertState::Firing);
        let writes = |front: &Faulty| front.count_containing("POST /api/v2/silences");

        // 1. A plan made while the source is stale: the freshness guardrail refuses it.
        front.set(Mode::Status503);
        rig.until("am stale", |f, r| stale_reason(r.status(f, &am_id)).is_some()).await;
        let cmds = run_palette(&mut rig, &format!("ack {} disk cleanup", alert.id), 'y');
        assert!(
            matches!(cmds.as_slice(), [Command::Record { outcome: opsdeck::actions::Outcome::Refused, .. }]),
            "{cmds:?}"
        );
        let s = status(&rig);
        assert!(s.starts_with("refused:") && s.contains("am is stale") && s.contains("HTTP 503"), "{s}");
        front.set(Mode::Forward);
        let healed = Utc::now();
        rig.until("am fresh again", |f, r| r.status(f, &am_id).last_ok.is_some_and(|t| t >= healed)).await;
        assert_eq!(writes(&front), 0, "a refused plan sends nothing");

        // 2. The answer to the ack is lost after Alertmanager acted: unknown, re-read, landed.
        let cmds = run_palette(&mut rig, &format!("ack {} disk cleanup", alert.id), 'y');
        let [Command::Execute { checked, .. }] = cmds.as_slice() else { panic!("{cmds:?}") };
        front.only(Some("POST /api/v2/silences"));
        front.set(Mode::LoseResponse);
        let sent = Sent::of(executor.execute(&checked.plan, &actor(), Utc::now()).await);
        assert!(matches!(sent, Sent::Unknown(_)), "{sent:?}");
        assert_eq!(sent.audit().0, opsdeck::actions::Outcome::Unknown);
        front.set(Mode::Forward);
        front.only(None);
        let fleet = rig.fleet();
        let cmds = rig.app.update(Msg::sent(checked.clone(), sent, Utc::now()), &fleet);
        assert_eq!(cmds, vec![Command::RefreshNow], "a lost answer asks for a fresh read");
        let s = status(&rig);
        assert!(s.starts_with("unknown:") && s.contains("re-reading am"), "{s}");
        rig.collector.refresh_now();
        rig.quiet = true;
        rig.until("the fresh read settles it", |_, r| r.app.in_flight.is_empty()).await;
        let s = status(&rig);
        assert!(s.contains("landed") && !s.contains("did not"), "{s}");
        assert_eq!(rig.app.status.as_ref().map(|s| s.level), Some(Level::Info));
        assert_eq!(verdicts(&mut rig), vec![(opsdeck::actions::Outcome::Landed, checked.plan.target.clone())]);
        assert_eq!(writes(&front), 1, "exactly one write: never re-sent");
        let f = rig.fleet();
        let now = f.alerts.iter().find(|a| a.id == alert.id).expect("alert");
        assert!(matches!(now.state, AlertState::Acknowledged { .. }), "{:?}", now.state);

        // 3. The withdrawal hangs before Alertmanager sees it: unknown, re-read, did not land.
        let deletes = |front: &Faulty| front.count_containing("DELETE /api/v2/silence/");
        let cmds = run_palette(&mut rig, &format!("unack {}", alert.id), 'y');
        let [Command::Execute { checked, .. }] = cmds.as_slice() else { panic!("{cmds:?}") };
        front.only(Some("DELETE /api/v2/silence/"));
        front.set(Mode::Hang);
        let sent = Sent::of(executor.execute(&checked.plan, &actor(), Utc::now()).await);
        assert!(matches!(sent, Sent::Unknown(_)), "{sent:?}");
        front.set(Mode::Forward);
        front.only(None);
        let fleet = rig.fleet();
        let cmds = rig.app.update(Msg::sent(checked.clone(), sent, Utc::now()), &fleet);
        assert_eq!(cmds, vec![Command::RefreshNow]);
        rig.collector.refresh_now();
        rig.quiet = true;
        rig.until("the fresh read settles it", |_, r| r.app.in_flight.is_empty()).await;
        let s = status(&rig);
        assert!(s.contains("did not land") && s.contains("nothing was re-sent"), "{s}");
        assert_eq!(verdicts(&mut rig), vec![(opsdeck::actions::Outcome::NotLanded, checked.plan.target.clone())]);
        assert_eq!(deletes(&front), 1, "exactly one write: never re-sent");
        let f = rig.fleet();
        let now = f.alerts.iter().find(|a| a.id == alert.id).expect("alert");
        assert!(matches!(now.state, AlertState::Acknowledged { .. }), "still acknowledged: {:?}", now.state);
        eprintln!("faults: actions: {}", rig.latency_report("actions"));
    }
    /// The command-line path (`opsdeck ack … --yes`): a lost answer is audited as
    /// `unknown`, re-read, and the read's verdict is a second audit line.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_cli_audits_the_verdict_on_a_lost_answer() {
        let am = promstack::alertmanager(None);
        let (front, provider) =
            alertmanager_with_alert(&am, json!({"alertname": "QueueBacklog", "cloud": "azure", "severity": "warning"}))
                .await;
        let sources =
            vec![SourceSchedule { provider: provider.clone(), interval: INTERVAL, timeout: Duration::from_secs(3) }];
        let deadline = Instant::now() + Duration::from_secs(WAIT_SECS);
        let alert_id = loop {
            let f = opsdeck::collector::collect_once(&sources, Utc::now(), false).await;
            if let Some(a) = f.alerts.iter().find(|a| a.title.contains("QueueBacklog")) {
                break a.id.clone();
            }
            assert!(Instant::now() < deadline, "the alert never showed: {:?}", f.sources);
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let executor = Executor::new([provider]);
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = opsdeck::actions::AuditLog::new(dir.path().join("audit.jsonl"));
        front.only(Some("POST /api/v2/silences"));
        front.set(Mode::LoseResponse);
        let request = opsdeck::runbook::Request {
            intent: opsdeck::actions::Intent::Ack { alert_id, comment: "draining".into(), minutes: Some(30) },
            yes: true,
            confirm: None,
            force: None,
            require: vec![],
            confirm_timeout: Duration::from_secs(20),
        };
        let path = opsdeck::actions::WritePath::new(
            Some(executor),
            Some(audit.clone()),
            actor(),
            std::sync::Arc::new(opsdeck::clock::SystemClock),
        );
        let report = opsdeck::runbook::run(request, &sources, &path).await;
        assert_eq!(report.outcome, "executed", "{report:?}");
        assert_eq!(front.count_containing("POST /api/v2/silences"), 1, "exactly one write: never re-sent");
        let outcomes: Vec<_> = audit.tail(10).into_iter().map(|r| r.outcome).collect();
        use opsdeck::actions::Outcome;
        assert_eq!(outcomes, vec![Outcome::Unknown, Outcome::Landed]);
    }
}
