//! Prometheus query API answers (`/api/v1/query`, `/api/v1/query_range`) with
//! any status: never a panic, errors one line, range points always finite.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use opsdeck::providers::prometheus::api::{decode_instant, decode_range};

/// Statuses the decoder treats differently (success, API errors, throttling, auth, proxies).
const STATUSES: [u16; 8] = [200, 400, 401, 422, 429, 502, 503, 504];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let status = STATUSES[usize::from(sel & 7)];
    if sel & 8 == 0 {
        match decode_instant("query rps", status, body) {
            Ok(_) => {}
            Err(e) => common::assert_one_line(&e),
        }
    } else {
        match decode_range("query_range rps", status, body) {
            Ok(series) => {
                for s in &series {
                    assert!(s.points.iter().all(|(_, v)| v.is_finite()), "non-finite point kept");
                }
            }
            Err(e) => common::assert_one_line(&e),
        }
    }
});
