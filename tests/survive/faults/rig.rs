//! The rig every fault runs in: a real `Collector` polling the demo and the
//! source under test, the real `App` state machine answering keys, frames drawn
//! on a `TestBackend`, and each key's time to its frame measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{App, Command, Msg, Pane};
use opsdeck::clock::SystemClock;
use opsdeck::collector::{Collector, SourceSchedule};
use opsdeck::model::{Fleet, Freshness, SourceId, SourceStatus};
use opsdeck::providers::Provider;
use opsdeck::providers::demo::{DemoHandle, DemoProvider, EstateSpec};
use opsdeck::theme::{ColorMode, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// How often the rig polls: short, so a fault spans many poll cycles quickly.
pub const INTERVAL: Duration = Duration::from_millis(100);
/// The bound from a key to the next frame, whatever the sources are doing.
pub const KEY_TO_FRAME: Duration = Duration::from_millis(50);
/// Recovery and staleness waits: generous, for a loaded 2-core machine.
pub const WAIT_SECS: u64 = 90;
/// The terminal: an SSH window's usual size.
pub const WIDTH: u16 = 100;
pub const HEIGHT: u16 = 30;

pub struct Rig {
    pub collector: Collector,
    pub app: App,
    pub term: Terminal<TestBackend>,
    pub theme: Theme,
    pub target: SourceId,
    pub healthy: SourceId,
    pub seen_generation: u64,
    pub keys: usize,
    pub worst: Duration,
    pub latencies: Vec<Duration>,
    /// Press an unbound key, which leaves the status line alone (for reading it).
    pub quiet: bool,
    /// Record and bound key-to-frame times (from the first good poll on: start-up,
    /// with servers launching beside it, is not what the bound is about).
    pub measuring: bool,
    /// Commands the App asked for on fresh reads (audit lines for settled actions).
    pub commands: Vec<Command>,
}

pub const KEYS: [KeyCode; 8] = [
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
    pub fn new(target: Arc<dyn Provider>, timeout: Duration) -> Rig {
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
    pub fn warm_up(&mut self) {
        let fleet = self.fleet();
        self.app.update(Msg::FleetChanged, &fleet);
        for pane in Pane::ALL {
            self.app.pane = pane;
            self.draw(&fleet);
        }
        self.app.pane = Pane::Overview;
    }

    pub fn fleet(&self) -> Arc<Fleet> {
        self.collector.fleet.borrow().clone()
    }

    pub fn draw(&mut self, fleet: &Fleet) {
        let (app, theme) = (&self.app, &self.theme);
        self.term
            .draw(|f| opsdeck::ui::draw(f, &opsdeck::ui::View { app, fleet, theme, now: Utc::now() }))
            .expect("draw");
    }

    /// One key through the App and one frame: the UI path only (it never awaits a
    /// provider), timed from the key to the drawn frame.
    pub fn press(&mut self) -> Duration {
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
        // the 50 ms bound is asserted on the 99th percentile (see `latency_report`).
        assert!(
            took < 5 * KEY_TO_FRAME,
            "key {key:?} to frame took {took:?} (key #{}, pane {:?})",
            self.keys,
            self.app.pane
        );
        took
    }

    /// Press keys every 20 ms until `pred` holds on the published Fleet.
    pub async fn until(&mut self, what: &str, pred: impl Fn(&Fleet, &Rig) -> bool) -> Arc<Fleet> {
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

    /// (median, 99th percentile, worst) key-to-frame time; asserts the bound.
    pub fn latency_report(&self, kind: &str) -> String {
        let mut l = self.latencies.clone();
        l.sort();
        let at = |q: f64| l[((l.len() - 1) as f64 * q) as usize];
        let (p50, p99) = (at(0.5), at(0.99));
        assert!(p99 < KEY_TO_FRAME, "{kind}: 99th percentile key to frame {p99:?}");
        format!("key-to-frame over {} keys: median {p50:?}, p99 {p99:?}, worst {:?}", l.len(), self.worst)
    }

    pub fn status<'f>(&self, f: &'f Fleet, id: &SourceId) -> &'f SourceStatus {
        f.source(id).unwrap_or_else(|| panic!("no source {id}"))
    }

    /// The Logs pane as text: where the operator reads why a source is stale.
    pub fn sources_screen(&mut self, fleet: &Fleet) -> String {
        let pane = self.app.pane;
        self.app.pane = Pane::Logs;
        self.draw(fleet);
        self.app.pane = pane;
        self.term.backend().to_string()
    }
}

pub fn stale_reason(s: &SourceStatus) -> Option<&str> {
    match &s.freshness {
        Freshness::Stale { reason } => Some(reason),
        _ => None,
    }
}
