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
    ToggleRoutes,
    Refresh,
    Failover,
    Scale,
    Ack,
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
    Key { code, mods: KeyModifiers::NONE }
}
const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}
const fn ctrl(c: char) -> Key {
    Key { code: KeyCode::Char(c), mods: KeyModifiers::CONTROL }
}

pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    pub scope: Scope,
    pub help: &'static str,
}

pub const BINDINGS: &[Binding] = &[
    bind(&[key(KeyCode::Tab)], Action::NextPane, Scope::Everywhere, "next pane"),
    bind(&[key(KeyCode::BackTab)], Action::PrevPane, Scope::Everywhere, "previous pane"),
    bind(&[ch('1')], Action::GoTo(Pane::Overview), Scope::Everywhere, "Overview pane"),
    bind(&[ch('2')], Action::GoTo(Pane::Health), Scope::Everywhere, "Health pane"),
    bind(&[ch('3')], Action::GoTo(Pane::Traffic), Scope::Everywhere, "Traffic pane"),
    bind(&[ch('4')], Action::GoTo(Pane::Cost), Scope::Everywhere, "Cost pane"),
    bind(&[ch('5')], Action::GoTo(Pane::Alerts), Scope::Everywhere, "Alerts pane"),
    bind(&[ch('6')], Action::GoTo(Pane::Logs), Scope::Everywhere, "Logs pane"),
    bind(&[ch('7')], Action::GoTo(Pane::Audit), Scope::Everywhere, "Audit pane"),
    bind(&[ch('8')], Action::GoTo(Pane::Timeline), Scope::Everywhere, "Timeline pane"),
    bind(&[ch('?'), ch('9')], Action::GoTo(Pane::Help), Scope::Everywhere, "this help"),
    bind(&[key(KeyCode::Up), ch('k')], Action::Up, Scope::Scrolls, "move up"),
    bind(&[key(KeyCode::Down), ch('j')], Action::Down, Scope::Scrolls, "move down"),
    bind(&[key(KeyCode::Left), ch('h')], Action::PrevPane, Scope::Everywhere, "previous pane"),
    bind(&[key(KeyCode::Right), ch('l')], Action::NextPane, Scope::Everywhere, "next pane"),
    bind(&[key(KeyCode::PageUp), ctrl('u')], Action::PageUp, Scope::Scrolls, "page up"),
    bind(&[key(KeyCode::PageDown), ctrl('d')], Action::PageDown, Scope::Scrolls, "page down"),
    bind(&[key(KeyCode::Home), ch('g')], Action::Top, Scope::Scrolls, "first row"),
    bind(&[key(KeyCode::End), ch('G')], Action::Bottom, Scope::Scrolls, "last row"),
    bind(&[ch('/')], Action::Filter, Scope::Lists, "filter the list"),
    bind(&[key(KeyCode::Esc)], Action::ClearFilter, Scope::Lists, "clear the filter"),
    bind(&[ch('s')], Action::CycleSort, Scope::Pane(Pane::Alerts), "sort by severity / age / cloud"),
    bind(&[ch('p')], Action::ToggleRoutes, Scope::Pane(Pane::Alerts), "paging routes: severity × cloud → channels"),
    // Actions sit on capital letters, away from navigation, and only prefill the
    // palette: the confirmation dialog always stands between a key and production.
    bind(&[ch('F')], Action::Failover, Scope::Pane(Pane::Overview), "failover: shift DNS traffic (confirm)"),
    bind(&[ch('F')], Action::Failover, Scope::Pane(Pane::Traffic), "failover: shift DNS traffic (confirm)"),
    bind(&[ch('S')], Action::Scale, Scope::Pane(Pane::Health), "scale the selected group (confirm)"),
    bind(&[ch('A')], Action::Ack, Scope::Pane(Pane::Alerts), "ack or unack the selected alert (confirm)"),
    bind(&[ch(':')], Action::Palette, Scope::Everywhere, "command palette (Tab completes)"),
    bind(&[ch('r')], Action::Refresh, Scope::Everywhere, "poll every source now"),
    bind(&[ch('q'), ctrl('c')], Action::Quit, Scope::Everywhere, "quit"),
];

const fn bind(keys: &'static [Key], action: Action, scope: Scope, help: &'static str) -> Binding {
    Binding { keys, action, scope, help }
}

impl Scope {
    pub fn applies_to(self, pane: Pane) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Lists => pane.has_list(),
            Scope::Scrolls => pane.has_list() || matches!(pane, Pane::Help | Pane::Timeline),
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
        if self.mods.contains(KeyModifiers::CONTROL) { format!("Ctrl-{base}") } else { base }
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

/// Short hints for the footer: the keys of the main actions that apply on this pane.
pub fn hints(pane: Pane) -> Vec<(String, &'static str)> {
    const SHOWN: [(Action, &str); 9] = [
        (Action::Palette, "command"),
        (Action::Failover, "failover"),
        (Action::Scale, "scale"),
        (Action::Ack, "ack"),
        (Action::Filter, "filter"),
        (Action::CycleSort, "sort"),
        (Action::Refresh, "refresh"),
        (Action::GoTo(Pane::Help), "help"),
        (Action::Quit, "quit"),
    ];
    SHOWN
        .iter()
        .filter_map(|(a, short)| {
            BINDINGS.iter().find(|b| b.action == *a && b.scope.applies_to(pane)).map(|b| (b.keys[0].label(), *short))
        })
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
                    assert!(!seen.contains(&(k.code, k.mods)), "{} bound twice on {pane:?}", k.label());
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
