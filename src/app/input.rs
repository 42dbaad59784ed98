//! Keys into the state machine: which mode gets a key, list movement, the
//! filter line, the palette, and the confirmation dialog's answers. Everything
//! here only changes `App` and returns commands; nothing does I/O.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

impl App {
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

    pub(super) fn on_key(&mut self, k: KeyEvent, fleet: &Fleet) -> Vec<Command> {
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
            Action::ToggleRoutes => {
                self.show_routes = !self.show_routes;
                self.routes_scroll = 0;
                self.route_rows = if self.show_routes { routes::route_rows(fleet) } else { Vec::new() };
            }
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
        if self.pane == Pane::Timeline {
            // Up goes back in time: the scroll counts rows back from the newest.
            let max = (self.timeline.len() + self.audit.len()).saturating_sub(1) as isize;
            self.timeline_scroll = (self.timeline_scroll as isize).saturating_sub(by).clamp(0, max) as usize;
            return;
        }
        if self.pane == Pane::Alerts && self.show_routes {
            // The Routes view scrolls its rows; the alerts keep their selection.
            let max = self.route_rows.len().saturating_sub(1) as isize;
            self.routes_scroll = (self.routes_scroll as isize).saturating_add(by).clamp(0, max) as usize;
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
