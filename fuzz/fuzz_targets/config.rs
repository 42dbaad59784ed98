//! The config parser: `Config::parse` never panics on any text, and its errors
//! point at a line that exists.
#![no_main]

mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use opsdeck::config::Config;

fuzz_target!(|text: &str| {
    if let Err(e) = Config::parse(Path::new("fuzz.toml"), text) {
        common::assert_position_inside(&e, text);
    }
});
