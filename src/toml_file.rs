//! Parsing of the TOML files opsdeck reads (config, themes, demo estates), with
//! errors that name the file, line and column.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Where a bad file is wrong, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub struct TomlError {
    pub path: PathBuf,
    /// 1-based; 0 when the error has no position (e.g. the file could not be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)
        }
    }
}

/// Read and parse a TOML file.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<T, TomlError> {
    let text = std::fs::read_to_string(path).map_err(|e| TomlError {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Parse TOML text that came from `path` (used for embedded files too).
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, TomlError> {
    toml::from_str(text).map_err(|e| from_toml_error(path, text, &e))
}

/// A toml parse or serde error on `text`, at the line and column of its span.
pub fn from_toml_error(path: &Path, text: &str, e: &toml::de::Error) -> TomlError {
    at_span(path, text, e.span(), e.message().trim())
}

/// An error about the bytes `span` of `text` (no position when there is no span).
pub fn at_span(path: &Path, text: &str, span: Option<Range<usize>>, message: impl Into<String>) -> TomlError {
    let (line, column) = span.map(|s| line_col(text, s.start)).unwrap_or((0, 0));
    TomlError { path: path.to_path_buf(), line, column, message: message.into() }
}

/// An error found after parsing (a value out of range), pinned to where the key is:
/// the first assignment of `key` at or after the first line mentioning `near`.
pub fn invalid(path: &Path, text: &str, key: &str, near: Option<&str>, message: impl Into<String>) -> TomlError {
    let from = near.and_then(|n| text.lines().position(|l| l.contains(n))).unwrap_or(0);
    let (line, column) = find_key(text, key, from).unwrap_or((0, 0));
    TomlError { path: path.to_path_buf(), line, column, message: message.into() }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// First assignment of `key` from line index `from` on, also inside inline tables
/// (best effort: a validation error still names the file when this finds nothing).
fn find_key(text: &str, key: &str, from: usize) -> Option<(usize, usize)> {
    text.lines().enumerate().skip(from).find_map(|(i, l)| {
        l.match_indices(key).find_map(|(at, _)| {
            let before_ok = l[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'));
            let after_ok = l[at + key.len()..].trim_start().starts_with('=');
            (before_ok && after_ok).then(|| (i + 1, l[..at].chars().count() + 1))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct T {
        a: u32,
    }

    #[test]
    fn parse_error_names_line_and_column() {
        let err = parse::<T>(Path::new("x.toml"), "# c\na = \"no\"\n").expect_err("must fail");
        assert_eq!((err.line, err.column), (2, 5));
        assert!(err.to_string().starts_with("x.toml:2:5: "), "{err}");
    }

    #[test]
    fn invalid_points_at_the_key() {
        let err = invalid(Path::new("x.toml"), "b = 1\n  a = 0\n", "a", None, "must be positive");
        assert_eq!(err.to_string(), "x.toml:2:3: must be positive");
        let text = "g = { name = \"one\", max = 1 }\ng = { name = \"two\", max = 0 }\n";
        let err = invalid(Path::new("x.toml"), text, "max", Some("\"two\""), "bad");
        assert_eq!((err.line, err.column), (2, 21));
    }
}
