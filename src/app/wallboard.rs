//! The wallboard's state: which page is up, whether rotation is paused. Pure.
//! A wallboard has no actions at all: its messages can only move pages or quit,
//! and its session is built without an executor.

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Pages the board rotates through.
pub const PAGES: usize = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallboard {
    pub page: usize,
    pub paused: bool,
    pub rotate_every: Duration,
    rotated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WallMsg {
    Key(KeyEvent),
    Tick(DateTime<Utc>),
}

/// The only thing a wallboard can ask the runtime for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WallCommand {
    Quit,
}

impl Wallboard {
    pub fn new(rotate_every: Duration) -> Wallboard {
        Wallboard { page: 0, paused: false, rotate_every, rotated_at: None }
    }

    pub fn update(&mut self, msg: WallMsg) -> Option<WallCommand> {
        match msg {
            WallMsg::Tick(now) => {
                let since = *self.rotated_at.get_or_insert(now);
                if !self.paused && now - since >= self.rotate_every {
                    self.page = (self.page + 1) % PAGES;
                    self.rotated_at = Some(now);
                }
                None
            }
            WallMsg::Key(k) if k.kind == KeyEventKind::Release => None,
            WallMsg::Key(k) => match k.code {
                KeyCode::Char('q') => Some(WallCommand::Quit),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Some(WallCommand::Quit),
                KeyCode::Char(' ') => {
                    self.paused = !self.paused;
                    None
                }
                KeyCode::Right | KeyCode::Down => {
                    self.page = (self.page + 1) % PAGES;
                    self.rotated_at = None;
                    None
                }
                KeyCode::Left | KeyCode::Up => {
                    self.page = (self.page + PAGES - 1) % PAGES;
                    self.rotated_at = None;
                    None
                }
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> WallMsg {
        WallMsg::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    #[test]
    fn rotates_on_time_unless_paused() {
        let t = crate::clock::reference_instant();
        let mut w = Wallboard::new(Duration::seconds(20));
        w.update(WallMsg::Tick(t));
        w.update(WallMsg::Tick(t + Duration::seconds(19)));
        assert_eq!(w.page, 0);
        w.update(WallMsg::Tick(t + Duration::seconds(20)));
        assert_eq!(w.page, 1);
        w.update(key(KeyCode::Char(' ')));
        w.update(WallMsg::Tick(t + Duration::seconds(100)));
        assert_eq!(w.page, 1, "paused");
        w.update(key(KeyCode::Left));
        assert_eq!(w.page, 0);
    }

    #[test]
    fn only_q_space_and_arrows_do_anything() {
        let mut w = Wallboard::new(Duration::seconds(20));
        let before = w.clone();
        for c in ['F', 'S', 'A', ':', '/', 'y', '\n', 'r', '5'] {
            assert_eq!(w.update(key(KeyCode::Char(c))), None);
        }
        assert_eq!(w.update(key(KeyCode::Enter)), None);
        assert_eq!(w, before, "no key but q, space and arrows changes anything");
        assert_eq!(w.update(key(KeyCode::Char('q'))), Some(WallCommand::Quit));
    }
}
