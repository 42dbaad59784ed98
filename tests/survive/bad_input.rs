//! Runs every case of tests/bad_input/catalogue.toml: each bad input gets a clear
//! error, changes nothing and loses nothing (every file under HOME — the audit log,
//! the config, the input itself — is byte-identical afterwards).

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{App, Mode, Msg, Pane};
use opsdeck::model::{Alert, AlertState, CloudKind, Fleet, Severity, SourceId};
use opsdeck::providers::http;
use opsdeck::providers::prometheus::alertmanager::GettableAlert;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde::Deserialize;
use support::files_under;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalogue {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    #[serde(default)]
    code: bool,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    input_hex: Option<String>,
    /// A repository file to start the input from, with `append` added to its end.
    #[serde(default)]
    input_from: Option<String>,
    #[serde(default)]
    append: Option<String>,
    /// In the `input_from` text, replace the first string with the second.
    #[serde(default)]
    replace: Option<(String, String)>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    exit: Option<i32>,
    #[serde(default)]
    expect: Option<String>,
}

const AUDIT_LINE: &str =
    r#"{"at":"2026-11-25T10:00:00Z","actor":"earlier@bastion","intent":"scale aws/web-asg 6","outcome":"executed"}"#;

fn catalogue() -> Catalogue {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input/catalogue.toml");
    toml::from_str(&std::fs::read_to_string(&p).expect("catalogue")).expect("the catalogue parses")
}

#[test]
fn the_catalogue_covers_at_least_twenty_kinds_each_once() {
    let c = catalogue();
    assert!(c.case.len() >= 20, "{} cases", c.case.len());
    let mut ids: Vec<&str> = c.case.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "duplicate case ids");
}

/// Every file under `dir` with its bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir).into_iter().map(|f| (f.clone(), std::fs::read(&f).expect("read"))).collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// A HOME holding an audit log with history and the sample config.
fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    let state = home.path().join(".local/state/opsdeck");
    std::fs::create_dir_all(&state).expect("state dir");
    std::fs::write(state.join("audit.jsonl"), format!("{AUDIT_LINE}\n")).expect("audit");
    let config = home.path().join(".config/opsdeck");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(config.join("config.toml"), opsdeck::config::SAMPLE).expect("config");
    home
}

fn run_binary_case(case: &Case) -> Result<(), String> {
    let home = home();
    let inputs = home.path().join("inputs");
    std::fs::create_dir_all(&inputs).expect("inputs");
    let file: PathBuf = inputs.join(case.file.as_deref().unwrap_or("input.toml"));
    let bytes = match (&case.input, &case.input_hex, &case.input_from) {
        (Some(text), _, _) => Some(text.as_bytes().to_vec()),
        (_, Some(h), _) => Some(hex(h)),
        (_, _, Some(from)) => {
            let mut text =
                std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(from)).expect("input_from");
            if let Some((old, new)) = &case.replace {
                assert!(text.contains(old.as_str()), "{}: {old:?} is not in {from}", case.id);
                text = text.replacen(old.as_str(), new, 1);
            }
            text.push_str(case.append.as_deref().unwrap_or(""));
            Some(text.into_bytes())
        }
        _ => None,
    };
    if let Some(b) = bytes {
        std::fs::write(&file, b).expect("input");
    }
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| a.replace("{file}", &file.display().to_string()).replace("{home}", &home.path().display().to_string()))
        .collect();
    let before = contents(home.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(&args)
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .env_remove("XDG_DATA_HOME")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opsdeck");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!("{}: still running after 30 s", case.id));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let code = out.status.code();
    match case.exit {
        Some(want) if code != Some(want) => return Err(format!("{}: exit {code:?}, want {want}: {text}", case.id)),
        None if code == Some(0) => return Err(format!("{}: succeeded but must fail: {text}", case.id)),
        _ => {}
    }
    if let Some(expect) = &case.expect
        && !text.contains(expect.as_str())
    {
        return Err(format!("{}: output lacks {expect:?}:\n{text}", case.id));
    }
    if text.lines().count() > 40 {
        return Err(format!("{}: the error is not short ({} lines)", case.id, text.lines().count()));
    }
    if contents(home.path()) != before {
        return Err(format!("{}: files under HOME changed", case.id));
    }
    Ok(())
}

#[test]
fn every_file_and_command_line_case_is_refused_clearly_and_changes_nothing() {
    let failures: Vec<String> =
        catalogue().case.iter().filter(|c| !c.code).filter_map(|c| run_binary_case(c).err()).collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn every_code_case_is_checked() {
    let mut failures = Vec::new();
    for case in catalogue().case.iter().filter(|c| c.code) {
        let result = match case.id.as_str() {
            "palette-garbage" => palette_garbage(),
            "remote-text-escape-sequences" => {
                remote_text("\u{1b}]52;c;cm0gLXJmIC8=\u{7}\u{1b}[2J\u{1b}[?1049l\u{9b}31mx\r\n\u{8}")
            }
            "remote-text-bidi-overrides" => remote_text("invoice\u{202e}fdp.exe\u{2066}\u{2069}\u{200f}"),
            "remote-text-10000-character-line" => remote_text(&"W".repeat(10_000)),
            "api-body-invalid-utf8" => {
                api_body::<Vec<GettableAlert>>(b"[{\"fingerprint\":\"\xff\xfe\"}]", "unreadable answer")
            }
            // Into a free-form value, so only the depth can stop it.
            "api-body-nested-10000-deep" => {
                let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
                api_body::<serde_json::Value>(deep.as_bytes(), "recursion limit exceeded")
            }
            "api-body-wrong-types" => api_body::<Vec<GettableAlert>>(
                br#"[{"fingerprint":7,"labels":{},"startsAt":"2026-01-01T00:00:00Z","status":{"state":"active"}}]"#,
                "invalid type: integer `7`",
            ),
            other => Err(format!("no check for code case '{other}'")),
        };
        if let Err(e) = result {
            failures.push(format!("{}: {e}", case.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn demo_fleet() -> (Fleet, App) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let built = opsdeck::startup::build(&opsdeck::config::Config::default(), None).expect("demo");
    let fleet = rt.block_on(opsdeck::collector::collect_once(&built.sources, Utc::now(), true));
    let mut app = App::new(built.estate.clone());
    app.update(Msg::Resize { width: 120, height: 30 }, &fleet);
    app.update(Msg::FleetChanged, &fleet);
    (fleet, app)
}

/// Garbage typed into the palette: one clear error, and nothing else moves.
fn palette_garbage() -> Result<(), String> {
    let (fleet, mut app) = demo_fleet();
    let pane = app.pane;
    let mut commands = Vec::new();
    for c in ":\u{1b}[31mfrobnicate ☃ ;; rm -rf / \u{0}".chars() {
        commands.extend(app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)), &fleet));
    }
    commands.extend(app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)), &fleet));
    if !commands.is_empty() {
        return Err(format!("garbage produced commands: {commands:?}"));
    }
    let status = app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    if !status.contains("unknown command") {
        return Err(format!("no clear error, status: {status:?}"));
    }
    if app.pane != pane || !matches!(app.mode, Mode::Normal) || app.undo.is_some() {
        return Err(format!("state moved: pane {:?}, mode {:?}", app.pane, app.mode));
    }
    Ok(())
}

/// Hostile remote text in every text field of an alert, drawn on the Alerts pane
/// with the alert selected: no control character, escape or bidi control reaches
/// a cell, and nothing panics.
fn remote_text(hostile: &str) -> Result<(), String> {
    let (mut fleet, mut app) = demo_fleet();
    let now = Utc::now();
    let hostile_alert = Alert {
        id: format!("x{hostile}"),
        source: SourceId::new("demo"),
        cloud: Some(CloudKind::Aws),
        severity: Severity::P0,
        title: hostile.to_string(),
        resource: hostile.to_string(),
        started_at: now,
        state: AlertState::Acknowledged { by: hostile.to_string(), at: now, comment: hostile.to_string() },
        route: hostile.to_string(),
        labels: [(hostile.to_string(), hostile.to_string())].into(),
    };
    fleet.alerts = std::iter::once(hostile_alert).chain(fleet.alerts.iter().cloned()).collect();
    fleet.generation += 1;
    app.update(Msg::FleetChanged, &fleet);
    app.pane = Pane::Alerts;
    let theme = opsdeck::theme::Theme::load("default", None, opsdeck::theme::ColorMode::TrueColor).expect("theme");
    for (w, h) in [(120, 30), (80, 24)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        term.draw(|f| opsdeck::ui::draw(f, &opsdeck::ui::View { app: &app, fleet: &fleet, theme: &theme, now }))
            .map_err(|e| e.to_string())?;
        for cell in term.backend().buffer().content() {
            let bad = cell.symbol().chars().find(|c| {
                c.is_control()
                    || matches!(*c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
            });
            if let Some(c) = bad {
                return Err(format!("{c:?} reached a cell at {w}x{h}"));
            }
        }
    }
    Ok(())
}

/// A hostile API body is refused by the decoder with a clear, one-line reason.
fn api_body<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: &[u8], expect: &str) -> Result<(), String> {
    match http::decode::<T>("GET /api/v2/alerts", body) {
        Ok(v) => Err(format!("decoded a bad body: {:.200}", format!("{v:?}"))),
        Err(e) if e.to_string().contains(expect) && !e.to_string().contains('\n') => Ok(()),
        Err(e) => Err(format!("unclear error: {e}")),
    }
}
