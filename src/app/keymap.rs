//! Every key binding in one table. The dispatcher and the Help pane both read it,
//! so the help can never drift from what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Pane;

/// What a key asks for, in normal mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    NextPane,
    PrevPane,
    GoTo(Pane),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Filter,
    ClearFilter,
    Palette,
    CycleSort,
    Refresh,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    /// Panes with a selectable list (Health, Alerts).
    Lists,
    /// Panes that scroll: the lists and Help.
    Scrolls,
    Pane(Pane),
}

#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn key(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}
const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}
const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    pub scope: Scope,
    pub help: &'static str,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[key(KeyCode::Tab)],
        action: Action::NextPane,
        scope: Scope::Everywhere,
        help: "next pane",
    },
    Binding {
        keys: &[key(KeyCode::BackTab)],
        action: Action::PrevPane,
        scope: Scope::Everywhere,
        help: "previous pane",
    },
    Binding {
        keys: &[ch('1')],
        action: Action::GoTo(Pane::Overview),
        scope: Scope::Everywhere,
        help: "Overview pane",
    },
    Binding {
        keys: &[ch('2')],
        action: Action::GoTo(Pane::Health),
        scope: Scope::Everywhere,
        help: "Health pane",
    },
    Binding {
        keys: &[ch('3')],
        action: Action::GoTo(Pane::Traffic),
        scope: Scope::Everywhere,
        help: "Traffic pane",
    },
    Binding {
        keys: &[ch('4')],
        action: Action::GoTo(Pane::Cost),
        scope: Scope::Everywhere,
        help: "Cost pane",
    },
    Binding {
        keys: &[ch('5')],
        action: Action::GoTo(Pane::Alerts),
        scope: Scope::Everywhere,
        help: "Alerts pane",
    },
    Binding {
        keys: &[ch('6')],
        action: Action::GoTo(Pane::Logs),
        scope: Scope::Everywhere,
        help: "Logs pane",
    },
    Binding {
        keys: &[ch('?'), ch('7')],
        action: Action::GoTo(Pane::Help),
        scope: Scope::Everywhere,
        help: "this help",
    },
    Binding {
        keys: &[key(KeyCode::Up), ch('k')],
        action: Action::Up,
        scope: Scope::Scrolls,
        help: "move up",
    },
    Binding {
        keys: &[key(KeyCode::Down), ch('j')],
        action: Action::Down,
        scope: Scope::Scrolls,
        help: "move down",
    },
    Binding {
        keys: &[key(KeyCode::Left), ch('h')],
        action: Action::PrevPane,
        scope: Scope::Everywhere,
        help: "previous pane",
    },
    Binding {
        keys: &[key(KeyCode::Right), ch('l')],
        action: Action::NextPane,
        scope: Scope::Everywhere,
        help: "next pane",
    },
    Binding {
        keys: &[key(KeyCode::PageUp), ctrl('u')],
        action: Action::PageUp,
        scope: Scope::Scrolls,
        help: "page up",
    },
    Binding {
        keys: &[key(KeyCode::PageDown), ctrl('d')],
        action: Action::PageDown,
        scope: Scope::Scrolls,
        help: "page down",
    },
    Binding {
        keys: &[key(KeyCode::Home), ch('g')],
        action: Action::Top,
        scope: Scope::Scrolls,
        help: "first row",
    },
    Binding {
        keys: &[key(KeyCode::End), ch('G')],
        action: Action::Bottom,
        scope: Scope::Scrolls,
        help: "last row",
    },
    Binding {
        keys: &[ch('/')],
        action: Action::Filter,
        scope: Scope::Lists,
        help: "filter the list",
    },
    Binding {
        keys: &[key(KeyCode::Esc)],
        action: Action::ClearFilter,
        scope: Scope::Lists,
        help: "clear the filter",
    },
    Binding {
        keys: &[ch('s')],
        action: Action::CycleSort,
        scope: Scope::Pane(Pane::Alerts),
        help: "sort by severity / age / cloud",
    },
    Binding {
        keys: &[ch(':')],
        action: Action::Palette,
        scope: Scope::Everywhere,
        help: "command palette (Tab completes)",
    },
    Binding {
        keys: &[ch('r')],
        action: Action::Refresh,
        scope: Scope::Everywhere,
        help: "poll every source now",
    },
    Binding {
        keys: &[ch('q'), ctrl('c')],
        action: Action::Quit,
        scope: Scope::Everywhere,
        help: "quit",
    },
];

impl Scope {
    pub fn applies_to(self, pane: Pane) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Lists => pane.has_list(),
            Scope::Scrolls => pane.has_list() || pane == Pane::Help,
            Scope::Pane(p) => p == pane,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Scope::Everywhere => "everywhere",
            Scope::Lists => "lists",
            Scope::Scrolls => "lists, help",
            Scope::Pane(p) => p.title(),
        }
    }
}

impl Key {
    fn matches(&self, ev: &KeyEvent) -> bool {
        // Shift is implied by the character itself ('G', '?'), so it is ignored for chars.
        let mods = match ev.code {
            KeyCode::Char(_) => ev.modifiers - KeyModifiers::SHIFT,
            _ => ev.modifiers,
        };
        self.code == ev.code && self.mods == mods
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "Shift-Tab".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// The action bound to `ev` on `pane`, if any.
pub fn lookup(ev: &KeyEvent, pane: Pane) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.scope.applies_to(pane))
        .find(|b| b.keys.iter().any(|k| k.matches(ev)))
        .map(|b| b.action)
}

/// Short hints for the footer: the bindings that apply on this pane.
pub fn hints(pane: Pane) -> Vec<(String, &'static str)> {
    const SHOWN: [Action; 6] = [
        Action::Palette,
        Action::Filter,
        Action::CycleSort,
        Action::Refresh,
        Action::GoTo(Pane::Help),
        Action::Quit,
    ];
    SHOWN
        .iter()
        .filter_map(|a| BINDINGS.iter().find(|b| b.action == *a && b.scope.applies_to(pane)))
        .map(|b| (b.keys[0].label(), b.help))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_on_any_pane() {
        for pane in Pane::ALL {
            let mut seen: Vec<(KeyCode, KeyModifiers)> = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.scope.applies_to(pane)) {
                for k in b.keys {
                    assert!(
                        !seen.contains(&(k.code, k.mods)),
                        "{} bound twice on {pane:?}",
                        k.label()
                    );
                    seen.push((k.code, k.mods));
                }
            }
        }
    }

    #[test]
    fn shifted_characters_match() {
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(lookup(&ev, Pane::Alerts), Some(Action::Bottom));
        let ev = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&ev, Pane::Overview), Some(Action::Quit));
    }
}
