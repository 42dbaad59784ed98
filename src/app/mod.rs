//! The pure UI state machine: `App::update(msg, fleet)` → commands. No terminal,
//! no I/O, no clock: everything it needs arrives in the message.

pub mod dialog;
mod input;
pub mod keymap;
pub mod palette;
pub mod routes;
pub mod views;
pub mod wallboard;

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crossterm::event::{KeyEvent, KeyEventKind};

pub use keymap::Action;
pub use views::AlertSort;

use crate::actions::{self, AuditRecord, Checked, Intent, Outcome};
use crate::model::{AlertState, Fleet};
use crate::providers::demo::{DrillCommand, EstateSpec};
use dialog::{Decision, Dialog};
use palette::PaletteCommand;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Overview,
    Health,
    Traffic,
    Cost,
    Alerts,
    Logs,
    Audit,
    Timeline,
    Help,
}

impl Pane {
    pub const ALL: [Pane; 9] = [
        Pane::Overview,
        Pane::Health,
        Pane::Traffic,
        Pane::Cost,
        Pane::Alerts,
        Pane::Logs,
        Pane::Audit,
        Pane::Timeline,
        Pane::Help,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Overview => "Overview",
            Pane::Health => "Health",
            Pane::Traffic => "Traffic",
            Pane::Cost => "Cost",
            Pane::Alerts => "Alerts",
            Pane::Logs => "Logs",
            Pane::Audit => "Audit",
            Pane::Timeline => "Timeline",
            Pane::Help => "Help",
        }
    }
    /// The palette command that opens this pane.
    pub fn command(self) -> &'static str {
        match self {
            Pane::Overview => "overview",
            Pane::Health => "health",
            Pane::Traffic => "traffic",
            Pane::Cost => "cost",
            Pane::Alerts => "alerts",
            Pane::Logs => "logs",
            Pane::Audit => "audit",
            Pane::Timeline => "timeline",
            Pane::Help => "help",
        }
    }
    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
    pub fn has_list(self) -> bool {
        matches!(self, Pane::Health | Pane::Alerts)
    }
    fn offset(self, by: isize) -> Pane {
        let n = Pane::ALL.len() as isize;
        Pane::ALL[(self.index() as isize + by).rem_euclid(n) as usize]
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Mode {
    #[default]
    Normal,
    /// Typing a filter for the current list.
    Filter,
    /// Typing a `:` command.
    Palette(PaletteState),
    /// Confirming (or refusing) an action.
    Confirm(Box<Dialog>),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaletteState {
    pub input: String,
    pub candidates: Vec<String>,
    pub selected: Option<usize>,
}

/// A selectable, filterable list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListState {
    pub selected: usize,
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub level: Level,
    pub text: String,
}

/// Input to the state machine.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// A new Fleet was published; derived rows must be rebuilt.
    FleetChanged,
    /// A new Fleet was published with its rows already derived (off the input
    /// path, by the runtime): the app only filters them.
    FleetDerived(Arc<views::Derived>),
    Resize {
        width: u16,
        height: u16,
    },
    /// The outcome of a command the runtime carried out.
    CommandDone(Result<String, String>),
    /// The time now, sent before input and on every clock tick (the app has no clock).
    Clock(DateTime<Utc>),
    /// An action ran: its request id, or why it failed.
    ActionFinished {
        checked: Checked,
        result: Result<String, String>,
    },
    /// A line was written to the audit log.
    Audited(Box<AuditRecord>),
    /// What the estate did since the last read (or the journal, at start).
    Observed(Vec<crate::model::TimelineEvent>),
    /// A followed failover's measured phases, as they progress.
    Rto(Box<crate::model::rto::Rto>),
    /// An action was sent but its answer was lost (`at`: when that was known): a
    /// fresh read must tell whether it landed. It is never re-sent.
    ActionUnknown {
        checked: Checked,
        error: String,
        at: DateTime<Utc>,
    },
}

impl Msg {
    /// The message for what came of sending `checked` once, known at `at`.
    pub fn sent(checked: Checked, sent: actions::Sent, at: DateTime<Utc>) -> Msg {
        match sent {
            actions::Sent::Done(r) => Msg::ActionFinished { checked, result: Ok(r.request_id) },
            // Provider errors can echo what was sent: scrub held secrets before they are shown.
            actions::Sent::Failed(e) => {
                Msg::ActionFinished { checked, result: Err(crate::credentials::redact(&e.to_string()).into_owned()) }
            }
            actions::Sent::Unknown(e) => {
                Msg::ActionUnknown { checked, error: crate::credentials::redact(&e.to_string()).into_owned(), at }
            }
        }
    }
}

/// Output of the state machine: work for the runtime (which does the I/O).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Quit,
    Drill(DrillCommand),
    RefreshNow,
    /// Run a confirmed plan through the executor (then audit it).
    Execute {
        checked: Checked,
        forced: Option<String>,
    },
    /// Audit an attempt that did not run (refused or cancelled).
    Record {
        checked: Checked,
        outcome: Outcome,
        forced: Option<String>,
    },
}

/// How long an executed change may take to show in a fresh read before the
/// operator is told it has not been confirmed.
pub const CONFIRM_TIMEOUT_SECS: i64 = 300;
/// Audit lines kept in memory for the Audit pane.
pub const AUDIT_KEPT: usize = 500;
/// How far back the Timeline pane reaches (the journal is read this far at start).
pub const TIMELINE_HOURS: i64 = 12;
/// Journal entries kept in memory for the Timeline pane, newest kept.
pub const TIMELINE_KEPT: usize = 2000;

/// Everything the UI remembers between frames.
#[derive(Debug, Clone)]
pub struct App {
    pub pane: Pane,
    pub mode: Mode,
    pub health: ListState,
    pub alerts: ListState,
    pub alert_sort: AlertSort,
    pub status: Option<Status>,
    pub size: (u16, u16),
    /// First line shown on the Help pane.
    pub help_scroll: u16,
    /// The demo estate, when running on it: drills are checked against it.
    pub estate: Option<Arc<EstateSpec>>,
    /// What the current Fleet's alerts look like sorted and searchable.
    pub derived: Arc<views::Derived>,
    /// The derived generation, filter and sort `alert_rows` were cut with (a
    /// longer filter narrows them); None after a new Fleet.
    alert_rows_for: Option<(u64, String, AlertSort)>,
    /// Derived rows, rebuilt on change only.
    pub alert_rows: Vec<usize>,
    pub zone_rows: Vec<views::ZoneRow>,
    pub alert_counts: views::AlertCounts,
    /// The worst open alerts, for the Overview.
    pub worst_alerts: Vec<usize>,
    /// No executor exists in a read-only session; the app refuses actions early too.
    pub read_only: bool,
    pub now: DateTime<Utc>,
    /// Guardrails whose unknown refuses (`[guards] require`).
    pub require: Vec<actions::guard::GuardKey>,
    /// Actions sent and not yet settled by a fresh read (tracked by the write path).
    pub in_flight: actions::InFlight,
    /// The inverse of the last executed failover or scale.
    pub undo: Option<Intent>,
    /// Recent audit lines, oldest first.
    pub audit: VecDeque<AuditRecord>,
    /// `--low-bandwidth`: the clock shows minutes and frames are rarer.
    pub low_bandwidth: bool,
    /// The Alerts pane shows the notification routes instead of the alerts.
    pub show_routes: bool,
    /// The last followed failover's measured phases (live while it is followed).
    pub rto: Option<crate::model::rto::Rto>,
    /// The Routes view's rows, cut only while it is shown.
    pub route_rows: Vec<routes::RouteRow>,
    /// The first Routes view row shown (j/k, PgUp/PgDn scroll it).
    pub routes_scroll: usize,
    /// What the estate did, as the journal keeps it, oldest first (the Timeline
    /// pane merges it with the audit lines).
    pub timeline: VecDeque<crate::model::TimelineEvent>,
    /// Timeline rows scrolled back from the newest (0: following the newest).
    pub timeline_scroll: usize,
}

impl App {
    pub fn new(estate: Option<Arc<EstateSpec>>) -> App {
        App {
            pane: Pane::Overview,
            mode: Mode::Normal,
            health: ListState::default(),
            alerts: ListState::default(),
            alert_sort: AlertSort::default(),
            status: None,
            size: (80, 24),
            help_scroll: 0,
            estate,
            derived: Arc::default(),
            alert_rows_for: None,
            alert_rows: Vec::new(),
            zone_rows: Vec::new(),
            alert_counts: views::AlertCounts::default(),
            worst_alerts: Vec::new(),
            read_only: false,
            now: DateTime::<Utc>::default(),
            require: Vec::new(),
            // The console keeps polling: the first fresh read after a lost answer decides.
            in_flight: actions::InFlight::new(chrono::Duration::zero()),
            undo: None,
            audit: VecDeque::new(),
            low_bandwidth: false,
            show_routes: false,
            route_rows: Vec::new(),
            routes_scroll: 0,
            timeline: VecDeque::new(),
            timeline_scroll: 0,
            rto: None,
        }
    }

    /// Apply one message. Returns the commands the runtime must carry out.
    pub fn update(&mut self, msg: Msg, fleet: &Fleet) -> Vec<Command> {
        match msg {
            Msg::Key(k) if k.kind == KeyEventKind::Release => vec![],
            Msg::Key(k) => self.on_key(k, fleet),
            Msg::FleetChanged | Msg::FleetDerived(_) => {
                self.derived = match msg {
                    Msg::FleetDerived(d) if d.generation == fleet.generation => d,
                    _ => Arc::new(views::Derived::build_reusing(fleet, Some(&self.derived))),
                };
                self.alert_rows_for = None; // a new Fleet: every row is cut afresh
                self.rebuild_rows(fleet);
                let settled = self.in_flight.on_read(fleet, self.now);
                self.settle(settled)
            }
            Msg::Resize { width, height } => {
                self.size = (width, height);
                vec![]
            }
            Msg::CommandDone(r) => {
                self.status = Some(match r {
                    Ok(text) => Status { level: Level::Info, text },
                    Err(text) => Status { level: Level::Error, text },
                });
                vec![]
            }
            Msg::Clock(now) => {
                self.now = now;
                let expired = self.in_flight.on_tick(now);
                self.settle(expired)
            }
            Msg::ActionFinished { checked, result } => self.on_action_finished(checked, result, fleet),
            Msg::ActionUnknown { checked, error, at } => self.on_action_unknown(checked, error, at),
            Msg::Observed(events) => {
                for e in events {
                    if self.timeline.len() == TIMELINE_KEPT {
                        self.timeline.pop_front();
                    }
                    self.timeline.push_back(e);
                }
                vec![]
            }
            Msg::Rto(rto) => {
                // The status line follows the phases; a follow that ran out of
                // time says so as a warning would.
                let level = if rto.timed_out { Level::Error } else { Level::Info };
                self.status = Some(Status { level, text: rto.line() });
                self.rto = Some(*rto);
                vec![]
            }
            Msg::Audited(record) => {
                if self.audit.len() == AUDIT_KEPT {
                    self.audit.pop_front();
                }
                self.audit.push_back(*record);
                vec![]
            }
        }
    }

    /// A session that can never change anything.
    pub fn with_read_only(mut self, read_only: bool) -> App {
        self.read_only = read_only;
        self
    }

    /// Plan an intent against the Fleet, run the guardrails, and open the dialog.
    fn begin(&mut self, intent: Intent, fleet: &Fleet) -> Vec<Command> {
        if self.read_only {
            self.error("read-only session: actions are disabled (started with --read-only or read_only = true)");
            return vec![];
        }
        match actions::run::prepare(&intent, fleet, self.now, &self.in_flight.targets(), &self.require) {
            Ok(checked) => self.mode = Mode::Confirm(Box::new(Dialog::new(checked))),
            Err(e) => self.error(format!("cannot plan '{intent}': {e}")),
        }
        vec![]
    }

    fn on_action_finished(&mut self, checked: Checked, result: Result<String, String>, fleet: &Fleet) -> Vec<Command> {
        let target = checked.plan.target.clone();
        match result {
            Ok(request_id) => {
                self.in_flight.answered(&target, &request_id);
                // The last action is what undo reverses; one without an inverse clears it,
                // so undo never replays an older, now meaningless, inverse.
                self.undo = checked.plan.inverse();
                self.info(format!(
                    "{} sent (request {request_id}); waiting for a fresh read to confirm",
                    checked.plan.intent
                ));
                let settled = self.in_flight.on_read(fleet, self.now);
                self.settle(settled)
            }
            Err(e) => {
                self.in_flight.failed(&target);
                self.error(format!("{} failed: {e}", checked.plan.intent));
                vec![]
            }
        }
    }

    /// The answer was lost: say so, keep it in flight, and ask for a fresh read.
    fn on_action_unknown(&mut self, checked: Checked, error: String, at: DateTime<Utc>) -> Vec<Command> {
        self.in_flight.lost(&checked.plan.target, at);
        self.error(format!(
            "unknown: {} — answer lost ({error}); re-reading {} (not re-sent)",
            checked.plan.intent, checked.plan.source
        ));
        vec![Command::RefreshNow]
    }

    /// Say how each settled action ended; the verdict on a lost answer is audited.
    fn settle(&mut self, settled: Vec<actions::Settled>) -> Vec<Command> {
        use actions::Settled;
        let mut commands = Vec::new();
        for s in settled {
            match s {
                Settled::Confirmed { checked, after, .. } => {
                    let effect = checked
                        .plan
                        .time_to_effect_secs
                        .map(|t| format!("; clients follow within the {t}s DNS TTL"))
                        .unwrap_or_default();
                    let took = after.num_seconds().max(0);
                    self.info(format!(
                        "{} in effect: confirmed by a fresh read after {took}s{effect}",
                        checked.plan.intent
                    ));
                }
                Settled::Landed { checked, .. } => {
                    self.undo = checked.plan.inverse();
                    self.info(format!(
                        "{} landed: a fresh read after the lost answer shows it (not re-sent)",
                        checked.plan.intent
                    ));
                    commands.push(Command::Record { checked, outcome: Outcome::Landed, forced: None });
                }
                Settled::NotLanded { checked } => {
                    self.error(format!(
                        "{} did not land: a fresh read after the lost answer shows no change; nothing was re-sent",
                        checked.plan.intent
                    ));
                    commands.push(Command::Record { checked, outcome: Outcome::NotLanded, forced: None });
                }
                Settled::Expired { checked, .. } => self.error(format!(
                    "{}: not confirmed by a fresh read after {CONFIRM_TIMEOUT_SECS}s; check the source",
                    checked.plan.intent
                )),
            }
        }
        commands
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { level: Level::Info, text: text.into() });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status { level: Level::Error, text: text.into() });
    }

    /// Cut the list panes' rows from the derived Fleet for the current filters and
    /// sort. A filter typed one more letter narrows the rows already cut.
    fn rebuild_rows(&mut self, fleet: &Fleet) {
        let narrow = self
            .alert_rows_for
            .as_ref()
            .is_some_and(|(generation, filter, sort)| {
                *generation == self.derived.generation
                    && *sort == self.alert_sort
                    && self.alerts.filter.starts_with(filter.as_str())
            })
            .then_some(self.alert_rows.as_slice());
        self.alert_rows = self.derived.alert_rows(&self.alerts.filter, self.alert_sort, narrow);
        self.alert_rows_for = Some((self.derived.generation, self.alerts.filter.clone(), self.alert_sort));
        self.zone_rows = views::zone_rows(fleet, &self.health.filter);
        self.alert_counts = self.derived.counts().clone();
        self.worst_alerts = self.derived.worst().to_vec();
        self.route_rows = if self.show_routes { routes::route_rows(fleet) } else { Vec::new() };
        self.routes_scroll = self.routes_scroll.min(self.route_rows.len().saturating_sub(1));
        self.alerts.selected = self.alerts.selected.min(self.alert_rows.len().saturating_sub(1));
        self.health.selected = self.health.selected.min(self.zone_rows.len().saturating_sub(1));
    }

    fn list_mut(&mut self) -> Option<(&mut ListState, usize)> {
        match self.pane {
            Pane::Health => Some((&mut self.health, self.zone_rows.len())),
            Pane::Alerts => Some((&mut self.alerts, self.alert_rows.len())),
            _ => None,
        }
    }

    /// The list of the current pane, if it has one.
    pub fn list(&self) -> Option<&ListState> {
        match self.pane {
            Pane::Health => Some(&self.health),
            Pane::Alerts => Some(&self.alerts),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
