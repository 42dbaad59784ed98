//! The sanitiser, the one gate for remote text: its output has no control
//! character (so no ESC, no newline), no bidi embedding/override/isolate, and
//! sanitising twice changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opsdeck::ui::sanitize::sanitize;

fn forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fuzz_target!(|data: &[u8]| {
    // Remote bytes arrive lossily decoded; fuzz that path and raw UTF-8 alike.
    let text = String::from_utf8_lossy(data);
    let once = sanitize(&text);
    if let Some(c) = once.chars().find(|c| forbidden(*c)) {
        panic!("sanitize let {c:?} through: {once:?}");
    }
    let twice = sanitize(&once);
    assert_eq!(once, twice, "sanitize is not idempotent");
    // Nothing is ever added except the placeholder and spaces: output is no longer
    // (in characters) than the input.
    assert!(once.chars().count() <= text.chars().count());
});
