//! The demo estate parser: never panics, errors point inside the text, and an
//! estate that validates can be simulated (no dangling reference survives validation).
#![no_main]

mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use opsdeck::providers::demo::{drill::DrillBook, estate::EstateSpec, fleet_at};

fuzz_target!(|text: &str| {
    match EstateSpec::from_str(Path::new("fuzz-estate.toml"), text) {
        Ok(spec) => {
            let _ = spec.primary_db();
            let _ = fleet_at(&spec, &DrillBook::default(), common::now(), 3);
        }
        Err(e) => common::assert_position_inside(&e, text),
    }
});
