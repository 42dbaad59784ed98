//! The theme parser: never panics, errors point inside the text, and a theme is
//! accepted or refused alike whatever the terminal's colour depth.
#![no_main]

mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use opsdeck::theme::{ColorMode, Theme};

fuzz_target!(|text: &str| {
    // A path that does not exist: the parser must not depend on reading it.
    let path = Path::new("/nonexistent/fuzz-theme.toml");
    let modes = [ColorMode::TrueColor, ColorMode::Ansi256, ColorMode::Ansi16, ColorMode::None];
    let results: Vec<_> = modes.iter().map(|m| Theme::parse(path, text, *m)).collect();
    for r in &results {
        if let Err(opsdeck::theme::ThemeError::File(e)) = r {
            common::assert_position_inside(e, text);
        }
    }
    let oks: Vec<bool> = results.iter().map(Result::is_ok).collect();
    assert!(oks.iter().all(|o| *o == oks[0]), "accepted on some colour depths only: {oks:?}");
});
