//! Alibaba Cloud behind the front: the signature-checking stand-in replaying the
//! fixtures, stopped and started again on its port.

use std::sync::Arc;
use std::time::Duration;

use super::http::{HttpTarget, Upstream};
use super::matrix::{ALL_FAULTS, Fault, run_all};
use crate::support::aliyun::{self, Handler, KEY_ID, KEY_SECRET, Seen, Server};
use crate::support::faulty::{Faulty, Mode};
use opsdeck::credentials::Secret;
use opsdeck::providers::aliyun::client::{KeySource, RetryPolicy};
use opsdeck::providers::aliyun::config::AliyunConfig;
use opsdeck::providers::aliyun::providers_with;
use opsdeck::providers::aliyun::sign::AccessKey;

fn replay(req: &Seen) -> (u16, String) {
    let f = match req.action.as_str() {
        "DescribeScalingGroups" => "ess-2014-08-28-DescribeScalingGroups.doc.json",
        "DescribeAlertLogList" => "cms-2019-01-01-DescribeAlertLogList.sdk.json",
        "DescribeMetricLast" => "cms-2019-01-01-DescribeMetricLast.sdk.json",
        "DescribeMetricList" => "cms-2019-01-01-DescribeMetricList.sdk.json",
        "DescribeContactGroupList" | "DescribeContactList" => return (200, aliyun::contact_book(&req.action)),
        other => return (404, format!(r#"{{"Code":"InvalidAction.NotFound","Message":"{other}"}}"#)),
    };
    (200, aliyun::fixture(f))
}

pub struct Up(Server, Handler);
impl Upstream for Up {
    fn kill(&mut self) {
        self.0.stop();
    }
    fn revive(&mut self) {
        self.0 = Server::start_on_port(self.0.port(), self.1.clone());
    }
}

pub fn target() -> HttpTarget {
    let handler: Handler = Arc::new(replay);
    let server = Server::start(handler.clone());
    let front = Faulty::start(server.port());
    let mut cfg = AliyunConfig::new("cn-qingdao");
    for k in ["cms", "ess", "alidns", "bss"] {
        cfg.endpoints.insert(k.into(), front.url());
    }
    cfg.scaling_groups = vec!["asg-bp14wlu85wrpchm0****".into()];
    let key = KeySource::Given(AccessKey { id: KEY_ID.into(), secret: Secret::new(KEY_SECRET), security_token: None });
    let retry = RetryPolicy { attempts: 2, base: Duration::from_millis(10), max: Duration::from_millis(20) };
    let provider = providers_with("ali", &cfg, Duration::from_secs(10), key, retry)
        .expect("providers")
        .into_iter()
        .find(|p| p.id().as_str() == "ali/cn-qingdao")
        .expect("region source");
    // Derived from the DescribeScalingGroups example: the groups a string.
    front.set_wrong(
        r#"{"RequestId":"473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E","TotalCount":1,"ScalingGroups":"none"}"#,
        "application/json",
    );
    HttpTarget {
        kind: "aliyun",
        provider,
        front,
        timeout: Duration::from_secs(3),
        throttle: Mode::ThrottlingUser,
        upstream: Box::new(Up(server, handler)),
        expect: |f| match f {
            Fault::Refused | Fault::Killed => vec!["unreachable", "cannot connect"],
            Fault::Hang | Fault::Trickle => vec!["timed out"],
            Fault::Http(_) => vec![],
            Fault::Throttle => vec!["throttled", "Throttling.User"],
            Fault::Truncated | Fault::Malformed | Fault::WrongShape => vec!["bad response", "unreachable"],
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_source_survives_every_fault() {
    let mut t = target();
    run_all(&mut t, &ALL_FAULTS).await;
}
