//! The config parser (the common fields and every registered kind's table): it never panics on any text, and its errors
//! point at a line that exists.
#![no_main]

mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use opsdeck::providers::registry;

fuzz_target!(|text: &str| {
    if let Err(e) = registry::parse(Path::new("fuzz.toml"), text) {
        common::assert_position_inside(&e, text);
    }
});
