//! The interactive loop: input, Fleet updates and the clock go into the pure App;
//! the commands it returns are carried out here; a frame is drawn only when
//! something visible changed, at most once per frame interval.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::Event;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use crate::actions::{self, Actor, AuditLog, AuditRecord, Checked, Executor, WritePath};
use crate::app::views::Derived;
use crate::app::{App, Command, Msg};
use crate::clock::Clock;
use crate::collector::{Collector, SourceSchedule};
use crate::model::Fleet;
use crate::providers::demo::{DemoHandle, EstateSpec};
use crate::theme::Theme;
use crate::timeline::{Journal, Observer};
use crate::{terminal, ui};

/// Frames closer together than this are coalesced into one (at most ~30 a second,
/// 4 in low-bandwidth mode).
const FRAME_INTERVAL: Duration = Duration::from_millis(33);
const FRAME_INTERVAL_LOW_BANDWIDTH: Duration = Duration::from_millis(250);

pub struct Session {
    pub sources: Vec<SourceSchedule>,
    pub clock: Arc<dyn Clock>,
    pub theme: Theme,
    pub demo: bool,
    /// The demo estate and its state, when running on it.
    pub estate: Option<Arc<EstateSpec>>,
    pub demo_state: Option<DemoHandle>,
    /// `None` in a read-only session: nothing here can then change production.
    pub executor: Option<Executor>,
    pub audit: Option<AuditLog>,
    /// Where what the estate did is kept for `opsdeck timeline` (None: nowhere).
    pub journal: Option<Journal>,
    pub actor: Actor,
    /// Fewer frames and a minute clock, for slow links.
    pub low_bandwidth: bool,
    /// `[guards] require`: guardrails whose unknown refuses.
    pub require: Vec<crate::actions::guard::GuardKey>,
    /// `[prices]`: how prices of different clouds are compared.
    pub rates: Arc<crate::model::Rates>,
    /// `[[slos]]`: the SLOs the collector keeps history for.
    pub slos: Arc<Vec<crate::slo::SloConfig>>,
    /// `[rto]`: how an executed failover is followed (defaults when absent).
    pub rto: crate::config::RtoConfig,
}

pub async fn run(s: Session) -> anyhow::Result<()> {
    let collector = Collector::spawn_slos(s.sources.clone(), s.clock.clone(), s.demo, s.rates.clone(), s.slos.clone());
    let exits = ExitSignals::install()?;
    let history = match &s.audit {
        Some(log) => {
            let log = log.clone();
            tokio::task::spawn_blocking(move || log.tail(crate::app::AUDIT_KEPT)).await.unwrap_or_default()
        }
        None => Vec::new(),
    };

    let seen = match &s.journal {
        Some(j) => {
            let (j, since) = (j.clone(), s.clock.now() - chrono::Duration::hours(crate::app::TIMELINE_HOURS));
            match tokio::task::spawn_blocking(move || j.read_since(since)).await {
                Ok(Ok((events, _))) => events,
                Ok(Err(e)) => {
                    log::warn!("{e}");
                    Vec::new()
                }
                Err(_) => Vec::new(),
            }
        }
        None => Vec::new(),
    };

    let mut term = terminal::enter().context("cannot set up the terminal")?;
    let (done_tx, done_rx) = mpsc::channel(64);
    watch_for_the_journal(collector.fleet.clone(), s.clock.clone(), s.journal.clone(), done_tx.clone());
    let mut lp = Loop {
        fleet_rx: collector.fleet.clone(),
        collector,
        write: Arc::new(WritePath::new(s.executor, s.audit, s.actor, s.clock)),
        demo_state: s.demo_state,
        journal: s.journal,
        done_tx,
        rto: Arc::new(s.rto),
    };
    let read_only = lp.write.read_only();
    let mut app = App::new(s.estate).with_read_only(read_only);
    app.low_bandwidth = s.low_bandwidth;
    app.require = s.require;
    for r in history {
        app.update(Msg::Audited(Box::new(r)), &Fleet::default());
    }
    app.update(Msg::Observed(seen), &Fleet::default());
    let result = lp.run(&mut term, &mut app, &s.theme, spawn_input_reader(), done_rx, exits).await;
    terminal::restore();
    result
}

/// A wallboard session. It has no executor field: nothing built from it can act.
pub struct WallboardSession {
    pub sources: Vec<SourceSchedule>,
    pub clock: Arc<dyn Clock>,
    pub theme: Theme,
    pub demo: bool,
    pub rotate_every: chrono::Duration,
    /// STALE after this many of the longest poll interval without any report.
    pub stale_after_intervals: u32,
}

pub async fn run_wallboard(s: WallboardSession) -> anyhow::Result<()> {
    use crate::app::wallboard::{WallCommand, WallMsg, Wallboard};
    let longest = s.sources.iter().map(|x| x.interval.as_secs()).max().unwrap_or(5);
    let stale_after_secs =
        i64::try_from(longest.saturating_mul(u64::from(s.stale_after_intervals.max(1)))).unwrap_or(i64::MAX);
    let collector = Collector::spawn(s.sources, s.clock.clone(), s.demo);
    let mut fleet_rx = collector.fleet.clone();
    let mut exits = ExitSignals::install()?;
    let mut term = terminal::enter().context("cannot set up the terminal")?;
    let mut input = spawn_input_reader();
    let mut board = Wallboard::new(s.rotate_every);
    let mut screen = ui::wallboard::Screen::default();
    let mut fleet = fleet_rx.borrow_and_update().clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let result: anyhow::Result<()> = async {
        loop {
            let now = s.clock.now();
            let view = ui::wallboard::WallView { board: &board, fleet: &fleet, theme: &s.theme, now, stale_after_secs };
            // Only a frame that differs from the one on screen is written.
            if screen.render(&mut term, &view)? {
                crossterm::queue!(term.backend_mut(), crossterm::terminal::BeginSynchronizedUpdate)?;
                term.apply_buffer()?;
                crossterm::queue!(term.backend_mut(), crossterm::terminal::EndSynchronizedUpdate)?;
                std::io::Write::flush(term.backend_mut())?;
            }
            tokio::select! {
                ev = input.recv() => match ev {
                    Some(Event::Key(k)) => {
                        if board.update(WallMsg::Key(k)) == Some(WallCommand::Quit) {
                            return Ok(());
                        }
                    }
                    Some(_) => {}
                    None => anyhow::bail!("terminal input closed"),
                },
                changed = fleet_rx.changed() => {
                    if changed.is_err() {
                        anyhow::bail!("collector stopped");
                    }
                    fleet = fleet_rx.borrow_and_update().clone();
                }
                _ = tick.tick() => {
                    board.update(WallMsg::Tick(s.clock.now()));
                }
                _ = exits.recv() => return Ok(()),
            }
        }
    }
    .await;
    terminal::restore();
    result
}

/// Compare each new Fleet with the last (on the blocking pool: 100,000 alerts
/// are hashed), keep what changed in the journal, and show it in the Timeline.
fn watch_for_the_journal(
    mut fleets: watch::Receiver<Arc<Fleet>>,
    clock: Arc<dyn Clock>,
    journal: Option<Journal>,
    done: mpsc::Sender<Msg>,
) {
    tokio::spawn(async move {
        let observer = Arc::new(std::sync::Mutex::new(Observer::new()));
        while fleets.changed().await.is_ok() {
            let fleet = fleets.borrow_and_update().clone();
            // Nothing read yet: nothing to compare.
            let Some(read_at) = fleet.built_at else { continue };
            let (observer, journal, now) = (observer.clone(), journal.clone(), clock.now().max(read_at));
            let seen = tokio::task::spawn_blocking(move || {
                let seen = observer.lock().unwrap_or_else(|e| e.into_inner()).observe(&fleet, now);
                if let Some(e) = journal.as_ref().and_then(|j| j.append(&seen).err()) {
                    log::warn!("{e}");
                }
                seen
            })
            .await;
            match seen {
                Ok(seen) if !seen.is_empty() => {
                    if done.send(Msg::Observed(seen)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => log::error!("observing the estate for the timeline failed: {e}"),
            }
        }
    });
}

/// A Fleet with its rows derived (see [`crate::app::views::Derived`]); None when
/// the derivation failed, and the last Fleet stays on screen.
type DerivedFleet = Option<(Arc<Fleet>, Arc<Derived>)>;

/// Derive a Fleet's rows on the blocking pool (keeping `previous`'s where its
/// alerts are unchanged) and send them back to the loop.
fn derive_off_input_path(fleet: Arc<Fleet>, previous: Arc<Derived>, done: mpsc::Sender<DerivedFleet>) {
    tokio::spawn(async move {
        let f = fleet.clone();
        let derived = match tokio::task::spawn_blocking(move || Derived::build_reusing(&f, Some(&previous))).await {
            Ok(d) => Some((fleet, Arc::new(d))),
            Err(e) => {
                log::error!("deriving the alert rows failed: {e}");
                None
            }
        };
        let _ = done.send(derived).await;
    });
}

/// Read terminal events on a plain thread (crossterm's read blocks) into a channel.
fn spawn_input_reader() -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel(256);
    std::thread::Builder::new()
        .name("opsdeck-input".into())
        .spawn(move || {
            while let Ok(ev) = crossterm::event::read() {
                if tx.blocking_send(ev).is_err() {
                    break;
                }
            }
        })
        .ok();
    rx
}

/// The signals that end a session, each restoring the terminal on the way out:
/// SIGHUP (the SSH session dropped), SIGTERM, and SIGINT sent with `kill -INT`
/// (in raw mode Ctrl-C arrives as a key, which the app handles itself).
struct ExitSignals {
    hangup: Signal,
    terminate: Signal,
    interrupt: Signal,
}

impl ExitSignals {
    fn install() -> anyhow::Result<ExitSignals> {
        Ok(ExitSignals {
            hangup: signal(SignalKind::hangup()).context("installing SIGHUP handler")?,
            terminate: signal(SignalKind::terminate()).context("installing SIGTERM handler")?,
            interrupt: signal(SignalKind::interrupt()).context("installing SIGINT handler")?,
        })
    }

    /// Wait for the first of them; its name, for the log.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.hangup.recv() => "SIGHUP: terminal gone",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

struct Loop {
    collector: Collector,
    fleet_rx: watch::Receiver<Arc<Fleet>>,
    demo_state: Option<DemoHandle>,
    journal: Option<Journal>,
    /// Every write and every audit line goes through it; its clock is the session's.
    write: Arc<WritePath>,
    /// Results of background work (actions, audit writes) come back as messages.
    done_tx: mpsc::Sender<Msg>,
    /// `[rto]`: how executed failovers are followed.
    rto: Arc<crate::config::RtoConfig>,
}

impl Loop {
    #[allow(clippy::too_many_arguments)]
    async fn run(
        &mut self,
        term: &mut terminal::Term,
        app: &mut App,
        theme: &Theme,
        mut input: mpsc::Receiver<Event>,
        mut done: mpsc::Receiver<Msg>,
        mut exits: ExitSignals,
    ) -> anyhow::Result<()> {
        let mut fleet = self.fleet_rx.borrow_and_update().clone();
        let size = term.size()?;
        for msg in
            [Msg::Clock(self.write.now()), Msg::Resize { width: size.width, height: size.height }, Msg::FleetChanged]
        {
            if self.update(app, msg, &fleet) {
                return Ok(());
            }
        }

        // The header clock shows seconds, so the view changes once a second (once a
        // minute in low-bandwidth mode, where it shows minutes).
        let (frame_interval, tick_every) = if app.low_bandwidth {
            (FRAME_INTERVAL_LOW_BANDWIDTH, Duration::from_secs(60))
        } else {
            (FRAME_INTERVAL, Duration::from_secs(1))
        };
        let mut clock_tick = tokio::time::interval(tick_every);
        clock_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut dirty = true;
        let mut last_draw = Instant::now() - frame_interval;
        let (derived_tx, mut derived_rx) = mpsc::channel(1);
        let mut deriving = false;

        loop {
            let draw_at = last_draw + frame_interval;
            tokio::select! {
                _ = tokio::time::sleep_until(draw_at), if dirty => {
                    let now = self.write.now();
                    terminal::draw_synchronized(term, |f| {
                        crate::fault_injection::maybe_panic("render");
                        ui::draw(f, &ui::View { app, fleet: &fleet, theme, now })
                    })?;
                    dirty = false;
                    last_draw = Instant::now();
                }
                ev = input.recv() => {
                    let Some(ev) = ev else { anyhow::bail!("terminal input closed") };
                    let msg = match ev {
                        Event::Key(k) => Msg::Key(k),
                        Event::Resize(width, height) => Msg::Resize { width, height },
                        _ => continue,
                    };
                    if self.update(app, Msg::Clock(self.write.now()), &fleet) || self.update(app, msg, &fleet) {
                        return Ok(());
                    }
                    dirty = true;
                }
                Some(msg) = done.recv() => {
                    // An action's result can ask for more: a re-read after a lost answer.
                    if self.update(app, msg, &fleet) {
                        return Ok(());
                    }
                    dirty = true;
                }
                // A new Fleet's rows are derived off the input path (sorting 100,000
                // alerts takes longer than a frame); keys keep answering on the last
                // Fleet meanwhile. Fleets published during a derivation wait in the
                // watch channel, which keeps only the newest.
                changed = self.fleet_rx.changed(), if !deriving => {
                    if changed.is_err() {
                        anyhow::bail!("collector stopped");
                    }
                    deriving = true;
                    let next = self.fleet_rx.borrow_and_update().clone();
                    derive_off_input_path(next, app.derived.clone(), derived_tx.clone());
                }
                Some(derived) = derived_rx.recv() => {
                    deriving = false;
                    let Some((next, derived)) = derived else { continue };
                    fleet = next;
                    // A fresh read can settle an action (its verdict is audited from here).
                    if self.update(app, Msg::FleetDerived(derived), &fleet) {
                        return Ok(());
                    }
                    dirty = true;
                }
                _ = clock_tick.tick() => {
                    if self.update(app, Msg::Clock(self.write.now()), &fleet) {
                        return Ok(());
                    }
                    dirty = true;
                }
                sig = exits.recv() => {
                    log::info!("{sig}: exiting");
                    return Ok(());
                }
            }
        }
    }

    /// Apply one message and carry out every command it returns, whatever the
    /// message (a fleet change or an action's result yields commands too: the
    /// verdict of a lost answer to audit, a re-read to ask for). True to quit.
    fn update(&mut self, app: &mut App, msg: Msg, fleet: &Fleet) -> bool {
        let commands = app.update(msg, fleet);
        self.carry_out(commands, app, fleet)
    }

    /// Carry out the app's commands. Returns true to quit.
    fn carry_out(&mut self, commands: Vec<Command>, app: &mut App, fleet: &Fleet) -> bool {
        for cmd in commands {
            match cmd {
                Command::Quit => return true,
                Command::RefreshNow => {
                    self.collector.refresh_now();
                    log::info!("refresh requested");
                }
                Command::Drill(d) => {
                    // One instant for the drill and its journal entry: the time to
                    // detect is measured from it.
                    let now = self.write.now();
                    let outcome = match &self.demo_state {
                        Some(h) => h.apply(d, now),
                        None => Err("drills run only on the demo estate".into()),
                    };
                    match &outcome {
                        Ok(m) => {
                            log::info!("{m}");
                            let entry = crate::timeline::drill_entry(m, now, &self.write.actor().label());
                            if let Some(j) = self.journal.clone() {
                                let keep = [entry.clone()];
                                tokio::task::spawn_blocking(move || {
                                    if let Err(e) = j.append(&keep) {
                                        log::warn!("{e}");
                                    }
                                });
                            }
                            app.update(Msg::Observed(vec![entry]), fleet);
                        }
                        Err(e) => log::warn!("drill refused: {e}"),
                    }
                    app.update(Msg::CommandDone(outcome), fleet);
                    self.collector.refresh_now();
                }
                Command::Record { checked, outcome, forced } => {
                    log::info!("{}: {}", outcome.label(), checked.plan.intent);
                    let record = self.write.record(&checked, outcome, forced, None);
                    let (write, done) = (self.write.clone(), self.done_tx.clone());
                    tokio::spawn(async move { report_audit(&write, record, &done).await });
                }
                Command::Execute { checked, forced } => self.execute(checked, forced),
            }
        }
        false
    }

    /// Run a plan in the background: the UI keeps answering while the provider works.
    fn execute(&self, checked: Checked, forced: Option<String>) {
        let (write, done) = (self.write.clone(), self.done_tx.clone());
        let refresh = self.collector.refresher();
        let (fleet_rx, rto) = (self.fleet_rx.clone(), self.rto.clone());
        // The estate as planned on: what the follow expects is computed from it.
        let planned_on = self.fleet_rx.borrow().clone();
        log::info!("executing: {}{}", checked.plan.intent, if forced.is_some() { " (FORCED)" } else { "" });
        tokio::spawn(async move {
            let attempt = write.send(&checked, forced).await;
            if let actions::Sent::Done(receipt) = &attempt.sent
                && let Some(mut tracker) =
                    actions::rto_follow::tracker_for(&checked.plan, &planned_on, attempt.sent_at, rto.deadline_secs)
            {
                tracker.accepted(attempt.at);
                let follow = Follow {
                    tracker,
                    checked: checked.clone(),
                    record: attempt.record.clone(),
                    request_id: receipt.request_id.clone(),
                    demo: planned_on.is_demo_source(&checked.plan.source),
                };
                tokio::spawn(follow.run(write.clone(), fleet_rx, rto, done.clone()));
            }
            let record = &attempt.record;
            match (&record.request_id, &record.error) {
                (Some(r), _) => log::info!("executed {} (request {r})", checked.plan.intent),
                (_, e) => log::error!(
                    "{} {}: {}",
                    checked.plan.intent,
                    record.outcome.label(),
                    crate::credentials::redact(e.as_deref().unwrap_or(""))
                ),
            }
            show_audit(attempt.record, attempt.audit_error, &done).await;
            let _ = done.send(Msg::sent(checked, attempt.sent, attempt.at)).await;
            refresh.notify_waiters();
        });
    }
}

/// One executed failover being followed until traffic has moved (or the
/// deadline): progress reaches the app as `Msg::Rto`, the end as a `measured`
/// audit line.
struct Follow {
    tracker: actions::rto::Tracker,
    checked: Checked,
    record: AuditRecord,
    request_id: String,
    demo: bool,
}

impl Follow {
    async fn run(
        self,
        write: Arc<WritePath>,
        fleet_rx: watch::Receiver<Arc<Fleet>>,
        config: Arc<crate::config::RtoConfig>,
        done: mpsc::Sender<Msg>,
    ) {
        use crate::providers::dns::{DemoResolvers, NetResolvers, Resolvers};
        let policy = self.tracker.rto().policy.clone();
        let resolvers: Box<dyn Resolvers> = if self.demo {
            let (rx, name) = (fleet_rx.clone(), policy.clone());
            let before = fleet_rx.borrow().policies.iter().find(|p| p.name == policy).cloned();
            Box::new(DemoResolvers::new(config.resolvers.clone(), write.clock(), before, move || {
                rx.borrow().policies.iter().find(|p| p.name == name).cloned()
            }))
        } else {
            match NetResolvers::from_config(&config) {
                Ok(r) => Box::new(r),
                Err(e) => {
                    let _ = done.send(Msg::CommandDone(Err(format!("not following the failover: {e}")))).await;
                    return;
                }
            }
        };
        let setup = actions::rto_follow::FollowSetup::from_config(&config, &policy);
        let read = || {
            let fleet = fleet_rx.borrow().as_ref().clone();
            async move { fleet }
        };
        let progress = |rto: &crate::model::rto::Rto| {
            // A full channel drops a progress step, never the end (sent below).
            let _ = done.try_send(Msg::Rto(Box::new(rto.clone())));
        };
        let rto = actions::rto_follow::follow(
            self.tracker,
            actions::rto_follow::Followed { plan: &self.checked.plan, request_id: Some(&self.request_id) },
            &write,
            resolvers.as_ref(),
            &setup,
            read,
            progress,
        )
        .await;
        let _ = done.send(Msg::Rto(Box::new(rto.clone()))).await;
        report_audit(&write, actions::rto::measured_line(&self.record, rto), &done).await;
    }
}

/// Write an audit line through the write path, then show it (or why it failed).
async fn report_audit(write: &WritePath, record: AuditRecord, done: &mpsc::Sender<Msg>) {
    let error = write.audit(&record).await.err();
    show_audit(record, error, done).await;
}

/// Show a written audit line in the Audit pane; an unwritten one is an error the
/// operator must see.
async fn show_audit(record: AuditRecord, error: Option<String>, done: &mpsc::Sender<Msg>) {
    if let Some(e) = error {
        log::error!("{e}");
        let _ = done.send(Msg::CommandDone(Err(format!("AUDIT NOT WRITTEN: {e}")))).await;
    }
    let _ = done.send(Msg::Audited(Box::new(record))).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Outcome;
    use crate::actions::{Checked, Intent};
    use crate::clock::{ManualClock, reference_instant};
    use crate::model::SourceId;
    use crate::providers::demo::DemoProvider;

    /// Every attempt reaches the audit log: refused and cancelled ones from the
    /// dialog, executed and failed ones from the executor.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_outcome_is_written_to_the_audit_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let estate = Arc::new(EstateSpec::embedded().expect("estate"));
        let demo = DemoHandle::default();
        let provider: Arc<dyn crate::providers::Provider> =
            Arc::new(DemoProvider::new(SourceId::new("demo"), estate.clone(), demo.clone()));
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(reference_instant()));
        let sources = vec![SourceSchedule {
            provider: provider.clone(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(2),
        }];
        let fleet = crate::collector::collect_once(&sources, clock.now(), true).await;
        let (done_tx, mut done_rx) = mpsc::channel(64);
        let collector = Collector::spawn(sources, clock.clone(), true);
        let actor = Actor { user: "oncall".into(), host: "bastion".into(), ssh_client: Some("192.0.2.1 1 22".into()) };
        let mut lp = Loop {
            fleet_rx: collector.fleet.clone(),
            collector,
            write: Arc::new(WritePath::new(Some(Executor::new([provider])), Some(log.clone()), actor, clock)),
            demo_state: Some(demo),
            journal: None,
            done_tx,
            rto: Arc::default(),
        };
        let checked = |intent: Intent| {
            let plan = crate::actions::plan(&intent, &fleet).expect("plan");
            Checked { plan, guards: vec![] }
        };
        let scale = checked(Intent::Scale { cloud: crate::model::CloudKind::Aws, group: "web-asg".into(), desired: 6 });
        let mut unknown_source = scale.clone();
        unknown_source.plan.source = SourceId::new("gone");
        let mut app = App::new(Some(estate));
        let commands = vec![
            Command::Record { checked: scale.clone(), outcome: Outcome::Refused, forced: None },
            Command::Record { checked: scale.clone(), outcome: Outcome::Cancelled, forced: None },
            Command::Execute { checked: scale.clone(), forced: Some("drill rehearsal".into()) },
            Command::Execute { checked: unknown_source, forced: None },
        ];
        assert!(!lp.carry_out(commands, &mut app, &fleet));
        let mut audited = 0;
        while audited < 4 {
            let msg =
                tokio::time::timeout(Duration::from_secs(10), done_rx.recv()).await.expect("in time").expect("msg");
            if matches!(msg, Msg::Audited(_)) {
                audited += 1;
            }
        }
        let records = log.tail(10);
        let mut outcomes: Vec<Outcome> = records.iter().map(|r| r.outcome).collect();
        outcomes.sort_by_key(|o| o.label());
        assert_eq!(outcomes, vec![Outcome::Cancelled, Outcome::Executed, Outcome::Failed, Outcome::Refused]);
        let executed = records.iter().find(|r| r.outcome == Outcome::Executed).expect("executed");
        assert_eq!(executed.forced.as_deref(), Some("drill rehearsal"));
        assert!(executed.request_id.as_deref().is_some_and(|id| id.starts_with("demo-")));
        assert_eq!(executed.actor.ssh_client.as_deref(), Some("192.0.2.1 1 22"));
        let failed = records.iter().find(|r| r.outcome == Outcome::Failed).expect("failed");
        assert!(failed.error.as_deref().is_some_and(|e| e.contains("gone")));
    }
}
