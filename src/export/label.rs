//! Label values as the exporter writes them. Every value came from a cloud or a
//! config (group names, alert titles, DNS targets), so it is treated as remote
//! text: held secrets scrubbed, made safe like anything drawn on a terminal, and
//! bounded, so one runaway alert title cannot blow up a Prometheus' index.

use crate::credentials::redact;
use crate::ui::sanitize;

/// The longest label value written, in characters ("…" included when cut).
pub const MAX_LABEL_CHARS: usize = 120;

/// `raw` as a label value: every held secret replaced by `***`, escape sequences
/// removed, control characters (line breaks and tabs become spaces; the rest a
/// visible U+FFFD) made inert as `ui::sanitize` does for the terminal, and at most
/// [`MAX_LABEL_CHARS`] characters, cut on a character boundary and ending in "…"
/// when cut. The result is always valid UTF-8 with no newline, so the exposition
/// stays one series per line.
pub fn label_value(raw: &str) -> String {
    let scrubbed = redact(raw);
    let safe = sanitize(&scrubbed);
    // Removing an escape sequence can join the two halves of a secret: scrub again.
    let safe = redact(&safe);
    bound(&safe, MAX_LABEL_CHARS)
}

/// At most `max` characters: longer text keeps `max - 1` and ends in "…".
fn bound(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_unchanged_including_non_ascii() {
        for name in ["web-eu-west-1", "pago-ñ-errores", "決済-latency", "aws/eu-west-1", "a \"quoted\" \\ name"] {
            assert_eq!(label_value(name), name);
        }
    }

    #[test]
    fn control_characters_and_line_breaks_never_survive() {
        let v = label_value("line one\nline two\r\n\u{1b}[31mred\u{1b}[0m\u{7}bell\ttab\u{202e}rtl");
        assert_eq!(v, "line one line two  red\u{fffd}bell tab\u{fffd}rtl");
        assert!(!v.chars().any(char::is_control), "{v:?}");
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary_with_an_ellipsis() {
        let ascii = "x".repeat(500);
        let v = label_value(&ascii);
        assert_eq!(v.chars().count(), MAX_LABEL_CHARS);
        assert!(v.ends_with('…') && v.starts_with("xxx"));
        // Multi-byte characters: the cut never splits one.
        let wide = "決".repeat(200);
        let v = label_value(&wide);
        assert_eq!(v.chars().count(), MAX_LABEL_CHARS);
        assert_eq!(v, format!("{}…", "決".repeat(MAX_LABEL_CHARS - 1)));
        // Exactly at the bound: untouched.
        let exact = "é".repeat(MAX_LABEL_CHARS);
        assert_eq!(label_value(&exact), exact);
    }

    #[test]
    fn a_held_secret_is_redacted_even_when_split_by_an_escape_sequence() {
        let _held = crate::credentials::Secret::new("label-s3cret-77d1c0");
        let v = label_value("token label-s3cret-77d1c0 leaked");
        assert_eq!(v, "token *** leaked");
        let split = label_value("token label-s3cr\u{1b}[0met-77d1c0 leaked");
        assert!(!split.contains("label-s3cret-77d1c0"), "{split}");
    }
}
