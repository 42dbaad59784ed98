//! The interactive loop: input, Fleet updates and the clock go into the pure App;
//! the commands it returns are carried out here; a frame is drawn only when
//! something visible changed, at most once per frame interval.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::Event;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::app::{App, Command, Msg};
use crate::clock::Clock;
use crate::collector::{Collector, SourceSchedule};
use crate::providers::demo::{DemoHandle, EstateSpec};
use crate::theme::Theme;
use crate::{terminal, ui};

/// Frames closer together than this are coalesced into one.
const FRAME_INTERVAL: Duration = Duration::from_millis(33);

pub struct Session {
    pub sources: Vec<SourceSchedule>,
    pub clock: Arc<dyn Clock>,
    pub theme: Theme,
    pub demo: bool,
    /// The demo estate and its drills, when running on it.
    pub estate: Option<Arc<EstateSpec>>,
    pub drills: Option<DemoHandle>,
}

pub async fn run(s: Session) -> anyhow::Result<()> {
    let collector = Collector::spawn(s.sources, s.clock.clone(), s.demo);
    let mut fleet_rx = collector.fleet.clone();
    let mut hangup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;

    let mut term = terminal::enter().context("cannot set up the terminal")?;
    let input = spawn_input_reader();
    let result = event_loop(
        &mut term,
        input,
        &mut fleet_rx,
        &collector,
        &s.clock,
        &s.theme,
        s.estate,
        s.drills.as_ref(),
        &mut hangup,
        &mut terminate,
    )
    .await;
    terminal::restore();
    result
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

#[allow(clippy::too_many_arguments)]
async fn event_loop(
    term: &mut terminal::Term,
    mut input: mpsc::Receiver<Event>,
    fleet_rx: &mut tokio::sync::watch::Receiver<Arc<crate::model::Fleet>>,
    collector: &Collector,
    clock: &Arc<dyn Clock>,
    theme: &Theme,
    estate: Option<Arc<EstateSpec>>,
    drills: Option<&DemoHandle>,
    hangup: &mut tokio::signal::unix::Signal,
    terminate: &mut tokio::signal::unix::Signal,
) -> anyhow::Result<()> {
    let mut app = App::new(estate);
    let mut fleet = fleet_rx.borrow_and_update().clone();
    let size = term.size()?;
    app.update(
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
        &fleet,
    );
    app.update(Msg::FleetChanged, &fleet);

    // The header clock shows seconds, so the view changes once a second.
    let mut clock_tick = tokio::time::interval(Duration::from_secs(1));
    clock_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME_INTERVAL;

    loop {
        let draw_at = last_draw + FRAME_INTERVAL;
        tokio::select! {
            _ = tokio::time::sleep_until(draw_at), if dirty => {
                let now = clock.now();
                terminal::draw_synchronized(term, |f| ui::draw(f, &ui::View { app: &app, fleet: &fleet, theme, now }))?;
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
                for cmd in app.update(msg, &fleet) {
                    match cmd {
                        Command::Quit => return Ok(()),
                        Command::RefreshNow => {
                            collector.refresh_now();
                            log::info!("refresh requested");
                        }
                        Command::Drill(d) => {
                            let outcome = match drills {
                                Some(h) => h.apply(d, clock.now()),
                                None => Err("drills run only on the demo estate".into()),
                            };
                            match &outcome {
                                Ok(m) => log::info!("{m}"),
                                Err(e) => log::warn!("drill refused: {e}"),
                            }
                            app.update(Msg::CommandDone(outcome), &fleet);
                            collector.refresh_now();
                        }
                    }
                }
                dirty = true;
            }
            changed = fleet_rx.changed() => {
                if changed.is_err() {
                    anyhow::bail!("collector stopped");
                }
                fleet = fleet_rx.borrow_and_update().clone();
                app.update(Msg::FleetChanged, &fleet);
                dirty = true;
            }
            _ = clock_tick.tick() => dirty = true,
            _ = hangup.recv() => {
                log::info!("SIGHUP: terminal gone, exiting");
                return Ok(());
            }
            _ = terminate.recv() => {
                log::info!("SIGTERM: exiting");
                return Ok(());
            }
        }
    }
}
