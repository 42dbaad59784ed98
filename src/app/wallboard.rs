//! The wallboard's state: which page is up, whether rotation is paused. Pure.
//! A wallboard has no actions at all: its messages can only move pages or quit,
//! and its session is built without an executor.

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Pages the board rotates through.
pub const PAGES: usize = 2;

/// Ticks come once a second, but each is read off the clock a little late, by a
/// varying amount: the 20th tick after a turn can read 19.999 s. Without slack the
/// page would wait for the 21st, and `--rotate-secs 20` would turn every 21 s.
const TICK_SLACK: Duration = Duration::milliseconds(500);

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
                if !self.paused && now - since >= self.rotate_every - TICK_SLACK {
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
    fn a_tick_read_a_little_early_still_turns_the_page_on_time() {
        let t = crate::clock::reference_instant();
        let mut w = Wallboard::new(Duration::seconds(20));
        w.update(WallMsg::Tick(t + Duration::milliseconds(3)));
        w.update(WallMsg::Tick(t + Duration::milliseconds(19_400)));
        assert_eq!(w.page, 0, "not half a second early");
        w.update(WallMsg::Tick(t + Duration::milliseconds(20_001)));
        assert_eq!(w.page, 1, "the 20th tick, read 2 ms less late than the first");
        // Three minutes of ticks read 9 ms late in one 20-second stretch and 1 ms late
        // in the next: a turn every 20 s all the same (without the slack, every 21 s).
        let mut w = Wallboard::new(Duration::seconds(20));
        let mut turned_at = Vec::new();
        for s in 0..180 {
            let before = w.page;
            let late = if (s / 20) % 2 == 0 { 9 } else { 1 };
            w.update(WallMsg::Tick(t + Duration::seconds(s) + Duration::milliseconds(late)));
            if w.page != before {
                turned_at.push(s);
            }
        }
        assert_eq!(turned_at, [20, 40, 60, 80, 100, 120, 140, 160]);
        // A one-second rotation turns on every tick.
        let mut w = Wallboard::new(Duration::seconds(1));
        w.update(WallMsg::Tick(t));
        w.update(WallMsg::Tick(t + Duration::milliseconds(999)));
        assert_eq!(w.page, 1);
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
