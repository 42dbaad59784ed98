//! The confirmation dialog of an action: shows the plan and the guardrails, and
//! takes the confirmation (typed target name for a failover, y / Enter for the
//! rest), a break-glass force with a typed reason, or Esc.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::actions::{Checked, Outcome, run};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Force {
    #[default]
    Off,
    /// Typing the reason for overriding the guardrails.
    Typing(String),
    /// Guardrails will be overridden, for this reason (audited).
    Reason(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub checked: Checked,
    /// What the operator has typed to confirm a failover.
    pub typed: String,
    pub force: Force,
    /// A one-line hint after a key that did not confirm (e.g. wrong name typed).
    pub hint: Option<String>,
}

/// What a key in the dialog decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Still deciding.
    Open(Dialog),
    /// Closed without running: cancelled or refused by the guardrails.
    Closed { outcome: Outcome, checked: Checked, forced: Option<String> },
    /// Confirmed: run it.
    Run { checked: Checked, forced: Option<String> },
}

impl Dialog {
    pub fn new(checked: Checked) -> Dialog {
        Dialog { checked, typed: String::new(), force: Force::Off, hint: None }
    }

    fn needs_typed_name(&self) -> bool {
        run::needs_typed_target(&self.checked.plan)
    }

    fn forced(&self) -> Option<String> {
        match &self.force {
            Force::Reason(r) => Some(r.clone()),
            _ => None,
        }
    }

    /// The prompt line under the plan.
    pub fn prompt(&self) -> String {
        let force = if self.checked.passed() || matches!(self.force, Force::Reason(_)) { "" } else { " · F force" };
        match &self.force {
            Force::Typing(_) => {
                "Reason for overriding the guardrails (audited), Enter to accept, Esc to go back".into()
            }
            _ if self.needs_typed_name() => {
                format!("Type '{}' and press Enter to run · Esc cancel{force}", self.checked.plan.target)
            }
            _ => format!("y / Enter run · n / Esc cancel{force}"),
        }
    }

    pub fn on_key(mut self, k: KeyEvent) -> Decision {
        let plain_char = match k.code {
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) && !c.is_control() => Some(c),
            _ => None,
        };
        self.hint = None;
        if let Force::Typing(reason) = &mut self.force {
            match (k.code, plain_char) {
                (KeyCode::Esc, _) => self.force = Force::Off,
                (KeyCode::Enter, _) => {
                    let r = reason.trim().to_string();
                    if r.is_empty() {
                        self.hint = Some("a forced action needs a reason".into());
                    } else {
                        self.force = Force::Reason(r);
                    }
                }
                (KeyCode::Backspace, _) => {
                    reason.pop();
                }
                (_, Some(c)) if reason.chars().count() < 200 => reason.push(c),
                _ => {}
            }
            return Decision::Open(self);
        }
        match (k.code, plain_char) {
            (KeyCode::Esc, _) | (_, Some('n')) if !self.needs_typed_name() || k.code == KeyCode::Esc => {
                let forced = self.forced();
                Decision::Closed { outcome: Outcome::Cancelled, checked: self.checked, forced }
            }
            // Break glass. Only offered when something failed: forcing a clean plan means nothing.
            (_, Some('F')) if !self.checked.passed() => {
                self.force = Force::Typing(String::new());
                Decision::Open(self)
            }
            (KeyCode::Enter, _) | (_, Some('y')) if !self.needs_typed_name() || k.code == KeyCode::Enter => {
                self.confirm()
            }
            (KeyCode::Backspace, _) => {
                self.typed.pop();
                Decision::Open(self)
            }
            (_, Some(c)) if self.needs_typed_name() && self.typed.chars().count() < 64 => {
                self.typed.push(c);
                Decision::Open(self)
            }
            _ => Decision::Open(self),
        }
    }

    /// The write path's confirmation policy decides; the dialog only gathers the consent.
    fn confirm(mut self) -> Decision {
        let forced = self.forced();
        let consent = run::Consent { typed_target: Some(&self.typed), force: forced.as_deref() };
        match run::decide(&self.checked, &consent) {
            run::Decision::NeedsTarget { target } => {
                self.hint = Some(format!("type '{target}' exactly to confirm"));
                Decision::Open(self)
            }
            run::Decision::Refused { .. } => {
                Decision::Closed { outcome: Outcome::Refused, checked: self.checked, forced: None }
            }
            run::Decision::Run { forced } => Decision::Run { checked: self.checked, forced },
        }
    }
}
