//! Run on a wallboard: the big-screen board as insta snapshots at a small and a
//! big screen, in ASCII, in 16 colours, the STALE banner when reports stop, and
//! no way to act. (The built binary's wallboard in a real terminal is in
//! tests/terminal/e2e_tmux.rs.)

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::wallboard::{WallCommand, WallMsg, Wallboard};
use opsdeck::clock::reference_instant;
use opsdeck::model::{CloudKind, Fleet};
use opsdeck::providers::demo::{self, Drill, DrillBook, DrillCommand, EstateSpec};
use opsdeck::theme::{ColorMode, Theme};
use opsdeck::ui::wallboard::{Screen, WallView, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn fleet() -> Fleet {
    demo_fleet(0, 1)
}

/// The demo estate with an AZ outage drill, `secs` after the reference instant.
fn demo_fleet(secs: i64, history: usize) -> Fleet {
    let estate = EstateSpec::embedded().expect("estate");
    let mut book = DrillBook::default();
    book.apply(
        DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() }),
        reference_instant() - Duration::seconds(30),
    )
    .expect("drill");
    demo::fleet_at(&estate, &book, reference_instant() + Duration::seconds(secs), history)
}

fn render(board: &Wallboard, fleet: &Fleet, theme: &Theme, w: u16, h: u16, now_offset: i64) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let view = WallView {
        board,
        fleet,
        theme,
        now: reference_instant() + Duration::seconds(now_offset),
        stale_after_secs: 15,
    };
    term.draw(|f| draw(f, &view)).expect("draw");
    term
}

#[test]
fn pages_at_80x24_and_200x60() {
    let f = fleet();
    let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
    let mut board = Wallboard::new(Duration::seconds(20));
    for page in 0..2 {
        for (w, h) in [(80, 24), (200, 60)] {
            let term = render(&board, &f, &theme, w, h, 0);
            insta::assert_snapshot!(format!("wallboard_page{}_{w}x{h}", page + 1), term.backend().to_string());
        }
        board.update(WallMsg::Key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE)));
    }
}

#[test]
fn ascii_mode_writes_nothing_but_ascii() {
    let f = fleet();
    let theme = Theme::load("default", None, ColorMode::Ansi16).expect("theme").with_ascii(true);
    let board = Wallboard::new(Duration::seconds(20));
    let term = render(&board, &f, &theme, 80, 24, 0);
    let screen = term.backend().to_string();
    assert!(screen.is_ascii(), "{screen}");
    insta::assert_snapshot!("wallboard_ascii_80x24", screen);
}

#[test]
fn sixteen_colour_mode_uses_named_colours_only() {
    let f = fleet();
    let theme = Theme::load("default", None, ColorMode::Ansi16).expect("theme");
    let board = Wallboard::new(Duration::seconds(20));
    let term = render(&board, &f, &theme, 200, 60, 0);
    for cell in term.backend().buffer().content() {
        for c in [cell.fg, cell.bg] {
            assert!(!matches!(c, Color::Rgb(..) | Color::Indexed(_)), "{c:?} in 16-colour mode");
        }
    }
}

#[test]
fn no_report_for_too_long_turns_the_board_into_a_stale_banner() {
    let f = fleet();
    let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
    let board = Wallboard::new(Duration::seconds(20));
    let fresh = render(&board, &f, &theme, 80, 24, 10).backend().to_string();
    assert!(!fresh.contains("S T A L E"));
    let stale = render(&board, &f, &theme, 80, 24, 600).backend().to_string();
    assert!(stale.contains("S T A L E") && stale.contains("no source has reported for 10m"), "{stale}");
}

#[test]
fn the_wallboard_has_no_path_to_an_action() {
    // Its state machine can answer a key only with Quit, and its session type
    // (runtime::WallboardSession) has no executor field to put one in.
    let mut board = Wallboard::new(Duration::seconds(20));
    for code in [
        KeyCode::Char('F'),
        KeyCode::Char('S'),
        KeyCode::Char('A'),
        KeyCode::Char(':'),
        KeyCode::Enter,
        KeyCode::Char('y'),
    ] {
        assert_eq!(board.update(WallMsg::Key(KeyEvent::new(code, KeyModifiers::NONE))), None);
    }
    assert_eq!(
        board.update(WallMsg::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE))),
        Some(WallCommand::Quit)
    );
}

/// Bytes a real terminal receives for one frame: the crossterm backend writes
/// into a shared Vec, so the count is exact and does not depend on timing.
mod bytes {
    use super::*;
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};
    use std::cell::RefCell;
    use std::io::Write;
    use std::rc::Rc;

    #[derive(Clone, Default)]
    pub struct Sink(Rc<RefCell<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    pub struct Counted {
        term: Terminal<CrosstermBackend<Sink>>,
        sink: Sink,
        screen: Screen,
    }

    impl Counted {
        pub fn new(w: u16, h: u16) -> Counted {
            let sink = Sink::default();
            let backend = CrosstermBackend::new(sink.clone());
            let options = TerminalOptions { viewport: Viewport::Fixed(Rect::new(0, 0, w, h)) };
            Counted {
                term: Terminal::with_options(backend, options).expect("terminal"),
                sink,
                screen: Screen::default(),
            }
        }

        /// Draw one frame the way the wallboard's loop does; the bytes it wrote.
        pub fn draw(&mut self, view: &WallView) -> usize {
            self.sink.0.borrow_mut().clear();
            if self.screen.render(&mut self.term, view).expect("render") {
                self.term.apply_buffer().expect("apply");
            }
            self.sink.0.borrow().len()
        }
    }
}

fn view<'a>(board: &'a Wallboard, fleet: &'a Fleet, theme: &'a Theme, s: i64) -> WallView<'a> {
    WallView { board, fleet, theme, now: reference_instant() + Duration::seconds(s), stale_after_secs: 15 }
}

/// The byte budget: under 15 KB per idle minute at 200×60 with the
/// default rotation (20 s: three page turns a minute) and the demo's 5-second
/// refreshes. Counted exactly through the crossterm backend, not timed.
#[test]
fn an_idle_board_at_200x60_writes_little_per_page_turn_and_nothing_per_quiet_second() {
    const TURN_BUDGET: usize = 4_000;
    const REFRESH_BUDGET: usize = 400;
    let f = fleet();
    let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
    let mut board = Wallboard::new(Duration::seconds(20));
    let mut c = bytes::Counted::new(200, 60);
    let first = c.draw(&view(&board, &f, &theme, 0));
    assert!(first > 5_000, "the first frame draws the whole screen: {first} bytes");
    // A second later nothing on page 1 has changed: the clock shows minutes and the
    // data's age is "≤5s" still. Nothing is written, not even colour resets.
    assert_eq!(c.draw(&view(&board, &f, &theme, 1)), 0);
    assert_eq!(c.draw(&view(&board, &f, &theme, 2)), 0);
    let mut turns = Vec::new();
    board.update(WallMsg::Tick(reference_instant()));
    for second in [20, 40] {
        board.update(WallMsg::Tick(reference_instant() + Duration::seconds(second)));
        turns.push(c.draw(&view(&board, &f, &theme, 2)));
    }
    assert_eq!(board.page, 0, "two turns: page 2 and back");
    for (i, n) in turns.iter().enumerate() {
        assert!(*n > 500, "turn {i} redrew the page: {n} bytes");
        assert!(*n < TURN_BUDGET, "turn {i} wrote {n} bytes (budget {TURN_BUDGET})");
    }
    // The demo's next poll: new figures on page 1, only they are rewritten.
    let next = demo_fleet(5, 2);
    let refresh = c.draw(&view(&board, &next, &theme, 5));
    assert!(refresh > 0 && refresh < REFRESH_BUDGET, "a data refresh wrote {refresh} bytes");
    // The clock's minute (and the age's next step): the header is rewritten, little else.
    let later = WallView { stale_after_secs: 600, ..view(&board, &next, &theme, 60) };
    let minute = c.draw(&later);
    assert!(minute > 0 && minute < 200, "the minute wrote {minute} bytes");
}
