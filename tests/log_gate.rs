//! The log gate (terminal safety and secret hygiene): log records carry
//! remote words, so every one — ours or a dependency's — is scrubbed of held
//! secrets and made safe to draw before the Logs pane or the log file sees it.
//! One test per binary: the logger is process-global.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opsdeck::app::{App, Msg, Pane};
use opsdeck::clock::reference_instant;
use opsdeck::credentials::Secret;
use opsdeck::logging::{self, LogOptions};
use opsdeck::providers::demo::{self, DrillBook, EstateSpec};
use opsdeck::theme::{ColorMode, Theme};
use opsdeck::ui::{self, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const HOSTILE: &str =
    "pwn\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31mRED\u{202e}gnp.exe\r\nFAKE 00:00:00 INFO all clear\u{9b}6n";

fn logs_screen() -> Terminal<TestBackend> {
    let estate = Arc::new(EstateSpec::embedded().expect("estate"));
    let fleet = demo::fleet_at(&estate, &DrillBook::default(), reference_instant(), 1);
    let mut app = App::new(Some(estate));
    app.update(Msg::Resize { width: 200, height: 40 }, &fleet);
    app.update(Msg::FleetChanged, &fleet);
    app.pane = Pane::Logs;
    let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
    let mut term = Terminal::new(TestBackend::new(200, 40)).expect("terminal");
    term.draw(|f| ui::draw(f, &View { app: &app, fleet: &fleet, theme: &theme, now: reference_instant() }))
        .expect("draw");
    term
}

#[test]
fn hostile_and_secret_bearing_records_reach_the_pane_and_the_file_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("logs/opsdeck.log");
    logging::init(&LogOptions { level: log::LevelFilter::Trace, file: Some(file.clone()) }).expect("logger");
    let _held = Secret::new("gate-s3cret-41d9");

    log::warn!("source am failed: HTTP 401: {HOSTILE} Authorization: Bearer gate-s3cret-41d9");
    log::trace!(target: "hyper_util::client", "echo {HOSTILE}");
    log::info!(target: "evil\u{1b}[2Jtarget", "from a target with an escape in it");

    // The pane's buffer is filled by the mover thread.
    let deadline = Instant::now() + Duration::from_secs(5);
    let screen = loop {
        let term = logs_screen();
        let text = term.backend().to_string();
        if text.contains("from a target") || Instant::now() > deadline {
            break term;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = screen.backend().to_string();
    assert!(text.contains("Bearer ***"), "the record reached the pane, scrubbed:\n{text}");
    assert!(text.contains("pwnRED") && text.contains("from a target"), "{text}");
    assert!(!text.contains("gate-s3cret-41d9"), "{text}");
    for cell in screen.backend().buffer().content() {
        let bad = cell.symbol().chars().find(|c| c.is_control() || matches!(*c, '\u{202a}'..='\u{202e}'));
        assert!(bad.is_none(), "{bad:?} reached a cell");
    }
    // The forged second line stayed on the first: one record, one line.
    assert!(!text.lines().any(|l| l.trim_start_matches('│').trim_start().starts_with("FAKE")), "{text}");

    log::logger().flush();
    let written = std::fs::read_to_string(&file).expect("log file");
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 3, "one line per record: {written}");
    assert!(lines[0].contains(" WARN  ") && lines[0].contains("Bearer ***"), "{written}");
    assert!(lines[1].contains(" TRACE hyper_util::client: echo pwn"), "{written}");
    assert!(!written.contains("gate-s3cret-41d9"), "{written}");
    assert!(!written.chars().any(|c| c.is_control() && c != '\n'), "{written:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the log file is the owner's alone");
}
