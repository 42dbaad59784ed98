//! Properties shared by the targets.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use opsdeck::providers::ProviderError;
use opsdeck::toml_file::TomlError;

/// A fixed "now": runs must be reproducible from the input alone.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_000_000, 0).expect("valid timestamp")
}

/// Error text from a remote answer stays one line with no control characters
/// (no newline, no ESC): it lands in the status line and in logs.
pub fn assert_one_line(e: &ProviderError) {
    let s = e.to_string();
    assert!(!s.chars().any(char::is_control), "error text with a control character: {s:?}");
}

/// A parse error points inside the text it was given (or carries no position).
pub fn assert_position_inside(e: &TomlError, text: &str) {
    if e.line == 0 {
        return;
    }
    let lines = text.split('\n').count();
    assert!(e.line <= lines, "error at line {} of a {lines}-line text: {e}", e.line);
}
