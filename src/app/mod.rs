//! The pure UI state machine: `App::update(msg, fleet)` → commands. No terminal,
//! no I/O, no clock: everything it needs arrives in the message.

pub mod dialog;
pub mod keymap;
pub mod palette;
pub mod views;
pub mod wallboard;

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

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
    Help,
}

impl Pane {
    pub const ALL: [Pane; 8] =
        [Pane::Overview, Pane::Health, Pane::Traffic, Pane::Cost, Pane::Alerts, Pane::Logs, Pane::Audit, Pane::Help];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Overview => "Overview",
            Pane::Health => "Health",
            Pane::Traffic => "Traffic",
            Pane::Cost => "Cost",
            Pane::Alerts => "Alerts",
            Pane::Logs => "Logs",
            Pane::Audit => "Audit",
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
        }
    }

    /// Apply one message. Returns the commands the runtime must carry out.
    pub fn update(&mut self, msg: Msg, fleet: &Fleet) -> Vec<Command> {
        match msg {
            Msg::Key(k) if k.kind == KeyEventKind::Release => vec![],
            Msg::Key(k) => self.on_key(k, fleet),
            Msg::FleetChanged => {
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

    fn on_dialog_key(&mut self, d: Dialog, k: KeyEvent) -> Vec<Command> {
        match d.on_key(k) {
            Decision::Open(d) => {
                self.mode = Mode::Confirm(Box::new(d));
                vec![]
            }
            Decision::Closed { outcome, checked, forced } => {
                if outcome == Outcome::Refused {
                    self.error(format!("refused: {}", actions::guard::reasons(&checked.guards)));
                } else {
                    self.info(format!("cancelled: {}", checked.plan.intent));
                }
                vec![Command::Record { checked, outcome, forced }]
            }
            Decision::Run { checked, forced } => {
                self.info(format!("running: {} …", checked.plan.intent));
                self.in_flight.start(checked.clone(), self.now, chrono::Duration::seconds(CONFIRM_TIMEOUT_SECS));
                vec![Command::Execute { checked, forced }]
            }
        }
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

    fn rebuild_rows(&mut self, fleet: &Fleet) {
        self.alert_rows = views::alert_rows(fleet, &self.alerts.filter, self.alert_sort);
        self.zone_rows = views::zone_rows(fleet, &self.health.filter);
        self.alert_counts = views::AlertCounts::of(fleet);
        self.worst_alerts = views::worst_open(fleet, 10);
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

    fn on_key(&mut self, k: KeyEvent, fleet: &Fleet) -> Vec<Command> {
        // Ctrl-C always quits, whatever mode: the operator's way out must never fail.
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            return vec![Command::Quit];
        }
        match std::mem::take(&mut self.mode) {
            Mode::Normal => self.on_normal_key(k, fleet),
            Mode::Filter => self.on_filter_key(k, fleet),
            Mode::Palette(p) => self.on_palette_key(p, k, fleet),
            Mode::Confirm(d) => self.on_dialog_key(*d, k),
        }
    }

    fn on_normal_key(&mut self, k: KeyEvent, fleet: &Fleet) -> Vec<Command> {
        let Some(action) = keymap::lookup(&k, self.pane) else {
            return vec![];
        };
        self.status = None;
        let page = usize::from(self.size.1.saturating_sub(10)).max(1);
        match action {
            Action::Quit => return vec![Command::Quit],
            Action::NextPane => self.pane = self.pane.offset(1),
            Action::PrevPane => self.pane = self.pane.offset(-1),
            Action::GoTo(p) => self.pane = p,
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-(page as isize)),
            Action::PageDown => self.move_selection(page as isize),
            Action::Top => self.move_selection(isize::MIN / 2),
            Action::Bottom => self.move_selection(isize::MAX / 2),
            Action::Filter => self.mode = Mode::Filter,
            Action::ClearFilter => self.set_filter(String::new(), fleet),
            Action::Palette => self.open_palette(String::new(), fleet),
            Action::CycleSort => self.set_sort(self.alert_sort.next(), fleet),
            Action::Refresh => return vec![Command::RefreshNow],
            // Action keys only prefill the palette: the dialog still stands between
            // the key and production.
            Action::Failover => self.open_palette("failover ".into(), fleet),
            Action::Scale => {
                let target = self.zone_rows.get(self.health.selected).and_then(|&(gi, _)| fleet.groups.get(gi));
                match target {
                    Some(g) => self.open_palette(format!("scale {}/{} ", g.cloud.slug(), g.name), fleet),
                    None => self.error("select a scaling group first"),
                }
            }
            Action::Ack => {
                let target = self.alert_rows.get(self.alerts.selected).and_then(|&i| fleet.alerts.get(i));
                match target {
                    // On an acknowledged alert the same key offers to withdraw the ack.
                    Some(a) if matches!(a.state, AlertState::Acknowledged { .. }) => {
                        self.open_palette(format!("unack {}", a.id), fleet)
                    }
                    Some(a) => self.open_palette(format!("ack {} ", a.id), fleet),
                    None => self.error("select an alert first"),
                }
            }
        }
        vec![]
    }

    fn move_selection(&mut self, by: isize) {
        if self.pane == Pane::Help {
            let max = crate::ui::help::line_count().saturating_sub(1) as isize;
            self.help_scroll = (self.help_scroll as isize).saturating_add(by).clamp(0, max) as u16;
            return;
        }
        if let Some((list, len)) = self.list_mut() {
            let max = len.saturating_sub(1) as isize;
            list.selected = (list.selected as isize).saturating_add(by).clamp(0, max) as usize;
        }
    }

    fn set_filter(&mut self, filter: String, fleet: &Fleet) {
        if let Some((list, _)) = self.list_mut() {
            list.filter = filter;
            list.selected = 0;
        }
        self.rebuild_rows(fleet);
    }

    fn set_sort(&mut self, sort: AlertSort, fleet: &Fleet) {
        self.alert_sort = sort;
        self.alerts.selected = 0;
        self.rebuild_rows(fleet);
        self.status = Some(Status { level: Level::Info, text: format!("alerts sorted by {}", sort.label()) });
    }

    fn on_filter_key(&mut self, k: KeyEvent, fleet: &Fleet) -> Vec<Command> {
        let Some(current) = self.list().map(|l| l.filter.clone()) else {
            return vec![];
        };
        match k.code {
            KeyCode::Enter => return vec![],
            KeyCode::Esc => {
                self.set_filter(String::new(), fleet);
                return vec![];
            }
            KeyCode::Backspace => {
                let mut f = current;
                f.pop();
                self.set_filter(f, fleet);
            }
            KeyCode::Char(c) if !c.is_control() && !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.set_filter(format!("{current}{c}"), fleet);
            }
            _ => {}
        }
        self.mode = Mode::Filter;
        vec![]
    }

    fn open_palette(&mut self, input: String, fleet: &Fleet) {
        let candidates = palette::complete(&input, self.estate.as_deref(), fleet);
        self.mode = Mode::Palette(PaletteState { input, candidates, selected: None });
    }

    fn on_palette_key(&mut self, mut p: PaletteState, k: KeyEvent, fleet: &Fleet) -> Vec<Command> {
        match k.code {
            KeyCode::Esc => return vec![],
            KeyCode::Enter => {
                let line = match p.selected.and_then(|i| p.candidates.get(i)) {
                    Some(c) => c.clone(),
                    None => p.input.clone(),
                };
                return self.run_palette(&line, fleet);
            }
            KeyCode::Tab => {
                // Tab takes the highlighted (or only / first) candidate.
                let pick = p.selected.unwrap_or(0);
                if let Some(c) = p.candidates.get(pick).cloned() {
                    self.open_palette(c, fleet);
                    return vec![];
                }
            }
            KeyCode::Down | KeyCode::BackTab | KeyCode::Up if !p.candidates.is_empty() => {
                let n = p.candidates.len();
                p.selected = Some(match (k.code, p.selected) {
                    (KeyCode::Down, None) => 0,
                    (KeyCode::Down, Some(i)) => (i + 1) % n,
                    (_, None) => n - 1,
                    (_, Some(i)) => (i + n - 1) % n,
                });
            }
            KeyCode::Backspace => {
                if p.input.is_empty() {
                    return vec![]; // backspace on an empty palette closes it, as in vim
                }
                p.input.pop();
                self.open_palette(p.input, fleet);
                return vec![];
            }
            KeyCode::Char(c) if !c.is_control() && !k.modifiers.contains(KeyModifiers::CONTROL) => {
                p.input.push(c);
                self.open_palette(p.input, fleet);
                return vec![];
            }
            _ => {}
        }
        self.mode = Mode::Palette(p);
        vec![]
    }

    fn run_palette(&mut self, line: &str, fleet: &Fleet) -> Vec<Command> {
        match palette::parse(line) {
            Err(e) => {
                self.error(e);
                vec![]
            }
            Ok(PaletteCommand::Quit) => vec![Command::Quit],
            Ok(PaletteCommand::GoTo(p)) => {
                self.pane = p;
                vec![]
            }
            Ok(PaletteCommand::Sort(s)) => {
                self.set_sort(s, fleet);
                vec![]
            }
            Ok(PaletteCommand::Filter(f)) => {
                if !self.pane.has_list() {
                    self.error(format!("the {} pane has no list to filter", self.pane.title()));
                    return vec![];
                }
                self.set_filter(f, fleet);
                vec![]
            }
            Ok(PaletteCommand::Refresh) => vec![Command::RefreshNow],
            Ok(PaletteCommand::Action(intent)) => self.begin(intent, fleet),
            Ok(PaletteCommand::Undo) => match self.undo.clone() {
                Some(intent) => self.begin(intent, fleet),
                None => {
                    self.error("nothing to undo: no failover, scale or ack has run in this session");
                    vec![]
                }
            },
            Ok(PaletteCommand::Drill(args)) => {
                let Some(estate) = self.estate.clone() else {
                    self.error("drills run only on the demo estate");
                    return vec![];
                };
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                match DrillCommand::parse(&args, &estate) {
                    Ok(cmd) => vec![Command::Drill(cmd)],
                    Err(e) => {
                        self.error(e);
                        vec![]
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
