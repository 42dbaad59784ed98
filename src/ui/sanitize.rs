//! One gate for remote text. Anything a stranger can write (alarm descriptions,
//! tags, alert annotations, resource names) passes here before it is drawn, so no
//! control character or escape sequence ever reaches the terminal raw.

use std::borrow::Cow;

/// Make `s` safe to draw on one line: escape sequences are removed, control
/// characters (C0, DEL, C1), bidirectional overrides and zero-width tricks are
/// replaced by a visible placeholder, and line breaks and tabs become spaces.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| !needs_work(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS introducers: swallow what they introduce.
            '\u{9b}' => skip_until_final(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\n' | '\r' | '\t' => out.push(' '),
            c if needs_work(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_work(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}' // zero-width and direction marks
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{feff}')
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC: CSI (`[`), OSC/DCS/APC/PM/SOS strings, or a two-character sequence.
fn skip_escape(chars: &mut Chars) {
    match chars.next() {
        Some('[') => skip_until_final(chars),
        Some(']' | 'P' | '_' | '^' | 'X') => skip_string(chars),
        // Character-set designations take one more character.
        Some('(' | ')' | '*' | '+' | '-' | '.' | '/' | '#' | '%') => {
            chars.next();
        }
        _ => {}
    }
}

/// CSI parameters and intermediates, up to and including the final byte (0x40..0x7e).
fn skip_until_final(chars: &mut Chars) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            return; // malformed: stop swallowing at the first byte that cannot belong
        }
    }
}

/// A control string, up to BEL, ST (ESC \) or C1 ST.
fn skip_string(chars: &mut Chars) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_untouched() {
        assert!(matches!(sanitize("Zone us-west-1a ↔ 東京 ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_are_removed() {
        assert_eq!(sanitize("a\u{1b}[2J\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(sanitize("x\u{1b}]0;pwned title\u{7}y"), "xy");
        assert_eq!(sanitize("x\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\y"), "xlinky");
        assert_eq!(sanitize("x\u{9b}31my"), "xy");
        assert_eq!(sanitize("x\u{1b}Py"), "x");
    }

    #[test]
    fn control_and_bidi_characters_are_made_visible() {
        assert_eq!(sanitize("a\u{7}b\u{0}c\u{7f}d"), "a\u{fffd}b\u{fffd}c\u{fffd}d");
        assert_eq!(sanitize("evil\u{202e}txt.exe"), "evil\u{fffd}txt.exe");
        assert_eq!(sanitize("two\nlines\tand tab"), "two lines and tab");
    }

    #[test]
    fn nothing_unsafe_survives_any_input() {
        // A small exhaustive sweep over tricky bytes in pairs.
        let tricky = ['\u{1b}', '[', ']', '\u{7}', '\u{9b}', '\u{9d}', '\\', 'P', 'm', 'a', '\u{202e}', '\n'];
        for a in tricky {
            for b in tricky {
                for c in tricky {
                    let s: String = [a, b, c].iter().collect();
                    let out = sanitize(&s);
                    assert!(!out.chars().any(needs_work), "{s:?} -> {out:?}");
                }
            }
        }
    }
}
