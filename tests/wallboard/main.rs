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
use opsdeck::ui::wallboard::{WallView, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn fleet() -> Fleet {
    let estate = EstateSpec::embedded().expect("estate");
    let mut book = DrillBook::default();
    book.apply(
        DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() }),
        reference_instant() - Duration::seconds(30),
    )
    .expect("drill");
    demo::fleet_at(&estate, &book, reference_instant(), 1)
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
