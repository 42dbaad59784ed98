//! Alibaba Cloud answers with any status through `classify` and each product's
//! parser (BSS bill overview, ESS scaling groups, GTM strategy + status, CMS
//! datapoints and alert logs). Errors stay one line.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use opsdeck::model::{CloudKind, SourceId};
use opsdeck::providers::aliyun::config::{GtmConfig, default_severity_map};
use opsdeck::providers::aliyun::decode;

const STATUSES: [u16; 6] = [200, 200, 400, 403, 429, 500];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let body = String::from_utf8_lossy(body);
    let status = STATUSES[usize::from(sel / 6) % STATUSES.len()];
    let source = SourceId::new("ali/cn-hangzhou");
    let result = match sel % 6 {
        0 => decode::bill_overview(status, &body, common::now()).map(drop),
        1 => decode::scaling_groups(status, &body, &source, "cn-hangzhou").map(drop),
        2 => {
            // Strategy and status bodies, split at the first NUL (absent: both the same).
            let (s, st) = body.split_once('\0').unwrap_or((&body, &body));
            let cfg = GtmConfig {
                instance_id: "gtm-cn-1".into(),
                strategy_id: "s-1".into(),
                name: None,
                default_cloud: CloudKind::Aliyun,
                failover_cloud: CloudKind::Azure,
                ttl_secs: 60,
            };
            decode::gtm_policy(s, st, &source, &cfg).map(drop)
        }
        3 => decode::metric_points(status, &body, "instanceId", "Average").map(drop),
        4 => decode::alert_logs(status, &body, &source, &default_severity_map(), common::now()).map(drop),
        _ => decode::answer("DescribeScalingGroups", status, &body).map(drop),
    };
    if let Err(e) = result {
        common::assert_one_line(&e);
    }
});
