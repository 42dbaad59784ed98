//! Test-only fault injection for the terminal-safety tests: with
//! `OPSDECK_INJECT_PANIC=render` or `=provider`, a debug build panics in the render
//! path or in a provider's poll. Release builds compile it to nothing.

/// Panic here if this build is a debug build and the environment asks for it.
pub fn maybe_panic(place: &str) {
    if cfg!(debug_assertions) && std::env::var("OPSDECK_INJECT_PANIC").is_ok_and(|v| v == place) {
        panic!("injected {place} panic (OPSDECK_INJECT_PANIC)");
    }
}
