//! Azure ARM answers, one shape per selector byte: Alerts Management pages,
//! Monitor metrics, Cost Management queries, Traffic Manager profiles, VMSS
//! GET + a page of its VMs with their instance views, and ARM error bodies. Errors stay one line.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use opsdeck::model::SourceId;
use opsdeck::providers::azure::{arm, decode, default_severity_map};

const ERROR_STATUSES: [u16; 4] = [400, 401, 429, 500];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let source = SourceId::new("az");
    let result = match sel % 6 {
        0 => decode::alerts_page(body, &source, &default_severity_map(), common::now()).map(drop),
        1 => decode::metric_values(body).map(|v| {
            for (_, why) in &v.errors {
                assert!(!why.chars().any(char::is_control), "metric error with a control character: {why:?}");
            }
        }),
        2 => decode::cost_query(body, common::now()).map(drop),
        3 => decode::traffic_profile(body, &source, "/subscriptions/s/resourceGroups/r/providers/x/p").map(drop),
        4 => {
            // GET and VM-list page bodies, split at the first NUL (absent: both the same).
            let at = body.iter().position(|b| *b == 0);
            let (v, vms) = at.map_or((body, body), |i| (&body[..i], &body[i + 1..]));
            decode::scale_set(v, vms, &source).map(drop)
        }
        _ => {
            let status = ERROR_STATUSES[usize::from(sel / 6) % ERROR_STATUSES.len()];
            Err(arm::arm_error("VMSS GET", status, Some("7"), body))
        }
    };
    if let Err(e) = result {
        common::assert_one_line(&e);
    }
});
