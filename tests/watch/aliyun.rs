//! The Alibaba Cloud provider against a local server that replays the fixture
//! payloads in tests/fixtures/aliyun/ and checks every request's signature with
//! the test's own key (tests/support/aliyun.rs).

use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use opsdeck::actions::{Actor, Change, Intent, Plan};
use opsdeck::credentials::Secret;
use opsdeck::model::{
    AlertState, CloudKind, CloudMetrics, Health, PolicyKind, Replication, ReplicationKind, ScalingGroup, Severity,
    SourceId, ZoneCapacity,
};
use opsdeck::providers::aliyun::client::{KeySource, RetryPolicy};
use opsdeck::providers::aliyun::config::{AliyunConfig, GtmConfig, LbKind, LoadBalancerConfig};
use opsdeck::providers::aliyun::providers_with;
use opsdeck::providers::aliyun::sign::{AccessKey, SignatureVersion};
use opsdeck::providers::{Provider, ProviderError};
use support::aliyun::{KEY_ID, KEY_SECRET, Seen, Server, fixture};

const GROUP_ID: &str = "asg-bp14wlu85wrpchm0****";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z").expect("time").with_timezone(&Utc)
}

fn key(secret: &str) -> KeySource {
    KeySource::Given(AccessKey { id: KEY_ID.into(), secret: Secret::new(secret), security_token: None })
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy { attempts: 3, base: Duration::from_millis(10), max: Duration::from_millis(20) }
}

fn config(url: &str) -> AliyunConfig {
    let mut c = AliyunConfig::new("cn-qingdao");
    for k in ["cms", "ess", "alidns", "bss"] {
        c.endpoints.insert(k.into(), url.into());
    }
    c
}

fn full_config(url: &str) -> AliyunConfig {
    let mut c = config(url);
    c.scaling_groups = vec![GROUP_ID.into()];
    c.metrics.ecs_instances = vec!["i-abcdefgh12****".into()];
    c.metrics.load_balancers = vec![LoadBalancerConfig {
        kind: LbKind::Slb,
        id: "i-abcdefgh12****".into(),
        qps_metric: None,
        rt_metric: None,
        errors_metric: None,
    }];
    c.metrics.polardb_clusters = vec!["pc-shop".into()];
    c.gtm = vec![GtmConfig {
        instance_id: "gtm-cn-wwo3a3hbz**".into(),
        strategy_id: "hr***".into(),
        name: Some("shop.example.com".into()),
        default_cloud: CloudKind::Aliyun,
        failover_cloud: CloudKind::Aws,
        ttl_secs: 60,
    }];
    c
}

/// DescribeContactGroupList and DescribeContactList in the shapes of the CloudMonitor
/// API reference (cms 2019-01-01), with its example values; derived here, not copied
/// (the shared fixtures have none): the group the alert-log fixture names.
const CONTACT_GROUPS: &str = r#"{"RequestId":"916EE694-03C2-47B6-85EE-5054E3C168D3","Code":"200","Success":true,"Total":1,
"ContactGroupList":{"ContactGroup":[{"Name":"ECS_Group","Describe":"ECS","EnabledWeeklyReport":false,"EnableSubscribed":true,
"Contacts":{"Contact":["Alice"]},"CreateTime":1552356159000,"UpdateTime":1552356159000}]}}"#;
const CONTACTS: &str = r#"{"RequestId":"06D5ECC2-B9BE-42A4-8FA3-1A610FB08B83","Code":"200","Success":true,"Total":1,
"Contacts":{"Contact":[{"Name":"Alice","Desc":"ECS联系人","Lang":"zh-cn","CreateTime":1552356159000,"UpdateTime":1552356159000,
"Channels":{"Mail":"Alice@example.com","AliIM":"Alice","DingWebHook":"https://oapi.dingtalk.com/robot/send?access_token=9bf44f8189597d07dfdd7a123455ffc112****","SMS":"1333333****"},
"ChannelsState":{"Mail":"PENDING","AliIM":"OK","DingWebHook":"OK","SMS":"OK"},
"ContactGroups":{"ContactGroup":["ECS_Group"]}}]}}"#;

/// The fixture answering each action.
fn replay(req: &Seen) -> (u16, String) {
    let f = match req.action.as_str() {
        "DescribeScalingGroups" => "ess-2014-08-28-DescribeScalingGroups.doc.json",
        "ModifyScalingGroup" => "ess-2014-08-28-ModifyScalingGroup.doc.json",
        "DescribeAlertLogList" => "cms-2019-01-01-DescribeAlertLogList.sdk.json",
        "DescribeMetricLast" => "cms-2019-01-01-DescribeMetricLast.sdk.json",
        "DescribeMetricList" => "cms-2019-01-01-DescribeMetricList.sdk.json",
        "DescribeDnsGtmInstanceStatus" => "alidns-2015-01-09-DescribeDnsGtmInstanceStatus.sdk.json",
        "DescribeDnsGtmAccessStrategy" => "alidns-2015-01-09-DescribeDnsGtmAccessStrategy.sdk.json",
        "SetDnsGtmAccessMode" => "alidns-2015-01-09-SetDnsGtmAccessMode.sdk.json",
        "QueryBillOverview" => "bssopenapi-2017-12-14-QueryBillOverview.sdk.json",
        "DescribeContactGroupList" => return (200, CONTACT_GROUPS.into()),
        "DescribeContactList" => return (200, CONTACTS.into()),
        other => return (404, format!(r#"{{"Code":"InvalidAction.NotFound","Message":"{other}"}}"#)),
    };
    (200, fixture(f))
}

fn sources(server: &Server, cfg: &AliyunConfig, secret: &str) -> (Arc<dyn Provider>, Arc<dyn Provider>) {
    let mut p = providers_with("ali", cfg, Duration::from_secs(5), key(secret), fast_retry()).expect("providers");
    assert_eq!(p.len(), 2);
    let global = p.pop().expect("global");
    let region = p.pop().expect("region");
    assert_eq!(region.id().as_str(), "ali/cn-qingdao");
    assert_eq!(global.id().as_str(), "ali/global");
    let _ = server;
    (region, global)
}

fn version_of(action: &str) -> &'static str {
    match action {
        "DescribeScalingGroups" | "ModifyScalingGroup" => "2014-08-28",
        "DescribeAlertLogList"
        | "DescribeMetricLast"
        | "DescribeMetricList"
        | "DescribeContactGroupList"
        | "DescribeContactList" => "2019-01-01",
        "QueryBillOverview" => "2017-12-14",
        _ => "2015-01-09",
    }
}

/// Every request: POST /, signed V3, with the right version for its action, and
/// neither Action nor Version in the query (V3 carries them in headers).
fn assert_v3_shape(seen: &[Seen]) {
    assert!(!seen.is_empty());
    for s in seen {
        assert!(s.signature_ok, "{} signature", s.action);
        assert_eq!((s.method.as_str(), s.path.as_str(), s.scheme), ("POST", "/", "v3"), "{}", s.action);
        assert_eq!(s.version, version_of(&s.action), "{}", s.action);
        assert!(s.param("Action").is_none() && s.param("Version").is_none(), "{}", s.action);
        assert_eq!(s.headers.get("x-acs-signature-nonce").map(String::len), Some(32));
        assert!(s.headers.get("x-acs-date").is_some_and(|d| d.ends_with('Z') && d.len() == 20));
    }
}

#[tokio::test]
async fn a_full_poll_reads_every_api_into_the_report() {
    let server = Server::start(Arc::new(replay));
    let cfg = full_config(&server.url);
    let (region, global) = sources(&server, &cfg, KEY_SECRET);

    let r = region.poll(now()).await.expect("region poll");
    let src = SourceId::new("ali/cn-qingdao");
    assert_eq!(
        *r.groups,
        vec![ScalingGroup {
            source: src.clone(),
            cloud: CloudKind::Aliyun,
            region: "cn-qingdao".into(),
            name: "scalinggroup****".into(),
            min: 1,
            max: 2,
            desired: 0,
            zones: vec![ZoneCapacity { zone: "cn-qingdao".into(), in_service: 0, healthy: 0 }],
            spot_share: 0.0,
            rps_per_instance: None,
            // The fixture's LifecycleState is Inactive.
            inactive: true,
            instance_type: None
        }]
    );
    // The fixture's newest datapoint (1490153400000) has Average 99.35 and Maximum 100;
    // every metric read replays the same payload.
    assert_eq!(
        r.metrics,
        vec![CloudMetrics {
            cloud: CloudKind::Aliyun,
            region: "cn-qingdao".into(),
            rps: Some(99.35),
            p95_ms: Some(99.35),
            error_rate: Some(1.0),
            cpu: Some(99.35 / 100.0),
        }]
    );
    assert_eq!(
        r.replication,
        vec![Replication {
            kind: ReplicationKind::Database,
            name: "pc-shop (cn-qingdao)".into(),
            from: CloudKind::Aliyun,
            to: CloudKind::Aliyun,
            value: 100.0,
            target: 30.0,
        }]
    );
    assert_eq!(r.alerts.len(), 1);
    assert_eq!(r.alerts[0].severity, Severity::P3);
    assert_eq!(r.alerts[0].state, AlertState::Resolved);
    assert_eq!(r.alerts[0].source, src);
    // Where it paged: the contact group its log names, and that group's contact's channels.
    assert_eq!(r.alerts[0].route, "ECS_Group");
    assert_eq!(r.routes.len(), 1, "{:?}", r.routes);
    let route = &r.routes[0];
    assert_eq!(
        (route.receiver.as_str(), route.cloud, route.severity),
        ("ECS_Group", Some(CloudKind::Aliyun), Some(Severity::P3))
    );
    assert!(route.pages(&r.alerts[0]));
    let mut channels: Vec<String> = route.channels.iter().map(|c| c.label()).collect();
    channels.sort();
    assert_eq!(
        channels,
        vec![
            "aliim:A…e",
            "dingtalk:https://oapi.dingtalk.com/…",
            "email:A…@example.com (pending activation)",
            "sms:1333…****",
        ]
    );
    // 1 ESS page, 1 alert page, the contact groups and contacts (1 page each), 1 CPU,
    // 3 load balancer and 1 PolarDB metric reads.
    assert_eq!(r.poll_cost.as_ref().map(|c| c.api_calls), Some(9));

    let seen = server.seen();
    assert_v3_shape(&seen);
    let ess = &server.seen_action("DescribeScalingGroups")[0];
    assert_eq!(ess.param("RegionId"), Some("cn-qingdao"));
    assert_eq!(ess.param("ScalingGroupId.1"), Some(GROUP_ID));
    assert_eq!((ess.param("PageNumber"), ess.param("PageSize")), (Some("1"), Some("50")));
    let logs = &server.seen_action("DescribeAlertLogList")[0];
    assert_eq!(logs.param("EndTime"), Some(now().timestamp_millis().to_string().as_str()));
    assert_eq!(logs.param("StartTime"), Some((now().timestamp_millis() - 3_600_000).to_string().as_str()));
    let metrics: Vec<(String, String, String)> = server
        .seen_action("DescribeMetricLast")
        .iter()
        .map(|s| {
            assert_eq!(s.param("Period"), Some("60"));
            let p = |k| s.param(k).unwrap_or_default().to_string();
            (p("Namespace"), p("MetricName"), p("Dimensions"))
        })
        .collect();
    let ecs = r#"[{"instanceId":"i-abcdefgh12****"}]"#;
    assert_eq!(
        metrics,
        vec![
            ("acs_ecs_dashboard".into(), "CPUUtilization".into(), ecs.into()),
            ("acs_slb_dashboard".into(), "InstanceQps".into(), ecs.into()),
            ("acs_slb_dashboard".into(), "InstanceRt".into(), ecs.into()),
            ("acs_slb_dashboard".into(), "InstanceStatusCode5xx".into(), ecs.into()),
            ("acs_polardb".into(), "cluster_replica_lag".into(), r#"[{"clusterId":"pc-shop"}]"#.into()),
        ]
    );

    let g = global.poll(now()).await.expect("global poll");
    assert_eq!(g.policies.len(), 1);
    let p = &g.policies[0];
    assert_eq!((p.name.as_str(), p.kind, p.ttl_secs), ("shop.example.com", PolicyKind::Gtm, 60));
    let eps: Vec<(&str, CloudKind, &str, u32, Health)> =
        p.endpoints.iter().map(|e| (e.name.as_str(), e.cloud, e.target.as_str(), e.weight, e.health)).collect();
    assert_eq!(
        eps,
        vec![
            ("default", CloudKind::Aliyun, "pool-default-1", 1, Health::Ok),
            ("failover", CloudKind::Aws, "pool-failover-1", 0, Health::Ok),
        ]
    );
    assert!(p.endpoints[0].check.starts_with("access mode AUTO; 1 available addresses"), "{}", p.endpoints[0].check);
    assert!(p.endpoints[0].check.contains("1 addresses down"), "{}", p.endpoints[0].check);
    assert_eq!(g.costs.len(), 1);
    let c = &g.costs[0];
    assert_eq!((c.cloud, c.currency.as_str(), c.month_to_date), (CloudKind::Aliyun, "CNY", 100.0));
    assert_eq!(c.by_service, vec![("NAT Gateway".to_string(), 100.0)]);
    // 100 by the 10th of a 30-day month: 300 at the run rate.
    assert_eq!(c.forecast.basis(), "run_rate");
    assert!(c.forecast.amount().is_some_and(|f| (f - 300.0).abs() < 1e-9), "{:?}", c.forecast);
    assert_eq!(server.seen_action("QueryBillOverview")[0].param("BillingCycle"), Some("2026-11"));
    assert_eq!(server.seen_action("DescribeDnsGtmInstanceStatus")[0].param("InstanceId"), Some("gtm-cn-wwo3a3hbz**"));
    assert_eq!(server.seen_action("DescribeDnsGtmAccessStrategy")[0].param("StrategyId"), Some("hr***"));
    assert_eq!(g.poll_cost.as_ref().map(|c| c.api_calls), Some(3));

    // The bill is read once per cost_interval_secs.
    global.poll(now() + chrono::Duration::seconds(60)).await.expect("second poll");
    assert_eq!(server.seen_action("QueryBillOverview").len(), 1);
    assert_v3_shape(&server.seen());
}

/// The fixture for every action, but the load balancer's metrics with no datapoints
/// (a new SLB, or one CloudMonitor has nothing for yet).
fn replay_without_lb_datapoints(req: &Seen) -> (u16, String) {
    if req.action == "DescribeMetricLast" && req.param("Namespace") == Some("acs_slb_dashboard") {
        let mut v: serde_json::Value =
            serde_json::from_str(&fixture("cms-2019-01-01-DescribeMetricLast.sdk.json")).expect("json");
        v["Datapoints"] = serde_json::json!("[]");
        return (200, v.to_string());
    }
    replay(req)
}

#[tokio::test]
async fn figures_cloudmonitor_does_not_report_are_unknown_not_zero() {
    // A load balancer with no datapoints: CPU is known, requests, RT and 5xx are not.
    let server = Server::start(Arc::new(replay_without_lb_datapoints));
    let (region, _) = sources(&server, &full_config(&server.url), KEY_SECRET);
    let r = region.poll(now()).await.expect("region poll");
    assert_eq!(
        r.metrics,
        vec![CloudMetrics {
            cloud: CloudKind::Aliyun,
            region: "cn-qingdao".into(),
            rps: None,
            p95_ms: None,
            error_rate: None,
            cpu: Some(99.35 / 100.0),
        }]
    );
    assert_eq!(server.seen_action("DescribeMetricLast").len(), 5, "every metric was asked for");

    // No load balancer configured at all: the same, without asking.
    let server = Server::start(Arc::new(replay));
    let mut cfg = full_config(&server.url);
    cfg.metrics.load_balancers.clear();
    let (region, _) = sources(&server, &cfg, KEY_SECRET);
    let r = region.poll(now()).await.expect("region poll");
    let m = r.metrics.first().expect("front door");
    assert_eq!((m.rps, m.p95_ms, m.error_rate, m.cpu), (None, None, None, Some(99.35 / 100.0)), "{m:?}");
}

#[tokio::test]
async fn scaling_groups_are_read_page_by_page() {
    // Page 2 is derived from the 2014-08-28 fixture: a second group (new id and
    // name, 3 of 4 in service, Active), PageNumber 2; both pages say TotalCount 2.
    let page1 =
        fixture("ess-2014-08-28-DescribeScalingGroups.doc.json").replace("\"TotalCount\": 1", "\"TotalCount\": 2");
    let page2 = page1
        .replace("asg-bp14wlu85wrpchm0****", "asg-second")
        .replace("scalinggroup****", "web-asg")
        .replace("\"PageNumber\": 1", "\"PageNumber\": 2")
        .replace("\"MaxSize\": 2", "\"MaxSize\": 6")
        .replace("\"TotalCapacity\": 0", "\"TotalCapacity\": 4")
        .replace("\"ActiveCapacity\": 0", "\"ActiveCapacity\": 3")
        .replace("\"LifecycleState\": \"Inactive\"", "\"LifecycleState\": \"Active\"");
    let server = Server::start(Arc::new(move |req: &Seen| match (req.action.as_str(), req.param("PageNumber")) {
        ("DescribeScalingGroups", Some("1")) => (200, page1.clone()),
        ("DescribeScalingGroups", Some("2")) => (200, page2.clone()),
        ("DescribeScalingGroups", _) => {
            (200, r#"{"RequestId":"x","TotalCount":2,"ScalingGroups":{"ScalingGroup":[]}}"#.into())
        }
        _ => replay(req),
    }));
    let (region, _) = sources(&server, &config(&server.url), KEY_SECRET);
    let r = region.poll(now()).await.expect("poll");
    let pages: Vec<Option<String>> =
        server.seen_action("DescribeScalingGroups").iter().map(|s| s.param("PageNumber").map(String::from)).collect();
    assert_eq!(pages, vec![Some("1".into()), Some("2".into())], "stops once TotalCount groups are read");
    assert!(server.seen_action("DescribeScalingGroups").iter().all(|s| s.param("ScalingGroupId.1").is_none()));
    let groups: Vec<(&str, u32, u32, u32)> =
        r.groups.iter().map(|g| (g.name.as_str(), g.max, g.desired, g.in_service())).collect();
    assert_eq!(groups, vec![("scalinggroup****", 2, 0, 0), ("web-asg", 6, 4, 3)]);
    assert_eq!(r.groups[1].health(), Health::Degraded, "3 in service of 4 desired");
}

#[tokio::test]
async fn the_flat_2022_shape_reads_the_same() {
    let server = Server::start(Arc::new(|req: &Seen| match req.action.as_str() {
        "DescribeScalingGroups" => (200, fixture("ess-2022-02-22-DescribeScalingGroups.sdk.json")),
        _ => replay(req),
    }));
    let (region, _) = sources(&server, &config(&server.url), KEY_SECRET);
    let r = region.poll(now()).await.expect("poll");
    assert_eq!(r.groups.len(), 1);
    assert_eq!((r.groups[0].name.as_str(), r.groups[0].min, r.groups[0].max), ("scalinggroup****", 1, 2));
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds() {
    for status in [400, 429] {
        let calls = Arc::new(AtomicU32::new(0));
        let n = calls.clone();
        let server = Server::start(Arc::new(move |req: &Seen| {
            if req.action == "DescribeScalingGroups" && n.fetch_add(1, Ordering::SeqCst) == 0 {
                return (status, fixture("error-Throttling.User.json"));
            }
            replay(req)
        }));
        let (region, _) = sources(&server, &config(&server.url), KEY_SECRET);
        let r = region.poll(now()).await.expect("poll after one throttle");
        assert_eq!(r.groups.len(), 1, "HTTP {status}");
        assert_eq!(server.seen_action("DescribeScalingGroups").len(), 2, "HTTP {status}");
        // Retries count as calls: 2 ESS + 1 alert log read + the contact groups and contacts.
        assert_eq!(r.poll_cost.map(|c| c.api_calls), Some(5));
    }
}

#[tokio::test]
async fn throttling_that_never_ends_gives_up_and_says_so() {
    let server = Server::start(Arc::new(|_: &Seen| (400, fixture("error-Throttling.User.json"))));
    let (region, _) = sources(&server, &config(&server.url), KEY_SECRET);
    let e = region.poll(now()).await.expect_err("throttled");
    assert_eq!(
        e,
        ProviderError::Throttled(
            "DescribeScalingGroups: Throttling.User: Request was denied due to user flow control. \
             (request 540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx)"
                .into()
        )
    );
    assert_eq!(server.seen_action("DescribeScalingGroups").len(), 3, "bounded: RetryPolicy.attempts");
}

#[tokio::test]
async fn an_error_body_is_shown_in_words() {
    let server = Server::start(Arc::new(|req: &Seen| match req.action.as_str() {
        "DescribeScalingGroups" => (500, fixture("error-ess-InternalError.doc.json")),
        _ => replay(req),
    }));
    let (region, _) = sources(&server, &config(&server.url), KEY_SECRET);
    // The groups section fails on its own, in words; the alerts are still read.
    let r = region.poll(now()).await.expect("partial, not failed");
    assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
    assert_eq!(r.failed[0].section, opsdeck::model::Section::Groups);
    assert_eq!(
        r.failed[0].reason,
        "bad response: DescribeScalingGroups: InternalError: The request processing has failed due to some unknown \
         error, exception or failure. (request 540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx)"
    );
    assert!(r.groups.is_empty() && !r.alerts.is_empty(), "{r:?}");
    assert_eq!(server.seen_action("DescribeScalingGroups").len(), 1, "an internal error is not retried");
}

#[tokio::test]
async fn a_request_signed_with_the_wrong_secret_is_refused() {
    let server = Server::start(Arc::new(replay));
    let (region, global) = sources(&server, &full_config(&server.url), "not-the-secret");
    let e = region.poll(now()).await.expect_err("bad signature");
    assert!(
        matches!(&e, ProviderError::Auth(m) if m.starts_with("DescribeScalingGroups: SignatureDoesNotMatch")),
        "{e}"
    );
    let e = global.poll(now()).await.expect_err("bad signature");
    assert!(matches!(e, ProviderError::Auth(_)), "{e}");
    assert!(server.seen().iter().all(|s| !s.signature_ok));
    // And with the right secret the same server accepts.
    let (region, _) = sources(&server, &full_config(&server.url), KEY_SECRET);
    region.poll(now()).await.expect("good signature");
}

#[tokio::test]
async fn success_false_inside_a_200_is_an_error() {
    // Derived from the QueryBillOverview fixture: Success false, with a Code and Message.
    let refused = fixture("bssopenapi-2017-12-14-QueryBillOverview.sdk.json")
        .replace("\"Success\": true", "\"Success\": false")
        .replace("\"Code\": \"Success\"", "\"Code\": \"NotApplicable\"")
        .replace("Successful!", "This API is not applicable for caller.");
    let server = Server::start(Arc::new(move |req: &Seen| match req.action.as_str() {
        "QueryBillOverview" => (200, refused.clone()),
        _ => replay(req),
    }));
    let (_, global) = sources(&server, &full_config(&server.url), KEY_SECRET);
    // The cost section fails in words; the GTM weights are still read.
    let r = global.poll(now()).await.expect("partial, not failed");
    assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
    assert_eq!(r.failed[0].section, opsdeck::model::Section::Cost);
    assert_eq!(
        r.failed[0].reason,
        ProviderError::BadResponse(
            "QueryBillOverview: NotApplicable: This API is not applicable for caller. \
             (request BCB1E1BC-05BF-4217-80EE-BF09A29407BA)"
                .into()
        )
        .to_string()
    );
    assert!(r.costs.is_empty() && !r.policies.is_empty(), "{r:?}");
}

fn plan(intent: Intent, source: &str, changes: Vec<Change>) -> Plan {
    Plan {
        intent,
        source: SourceId::new(source),
        target: String::new(),
        changes,
        based_on: Some(now()),
        time_to_effect_secs: None,
        effect: None,
    }
}

#[tokio::test]
async fn scale_sets_the_desired_capacity_of_the_group_by_id() {
    let server = Server::start(Arc::new(replay));
    let (region, _) = sources(&server, &full_config(&server.url), KEY_SECRET);
    let group = "scalinggroup****".to_string();
    let p = plan(
        Intent::Scale { cloud: CloudKind::Aliyun, group: group.clone(), desired: 2 },
        "ali/cn-qingdao",
        vec![Change::Capacity { cloud: CloudKind::Aliyun, group, before: 0, after: 2, min: 1, max: 2 }],
    );
    let e = region.execute(&p, &Actor::current(), now()).await.expect_err("unknown before a read");
    assert!(e.to_string().contains("not in the last read"), "{e}");
    region.poll(now()).await.expect("poll");
    let receipt = region.execute(&p, &Actor::current(), now()).await.expect("scale");
    assert_eq!(receipt.request_id, "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E");
    let m = server.seen_action("ModifyScalingGroup");
    assert_eq!(m.len(), 1);
    let params: Vec<(&str, &str)> = m[0].params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(params, vec![("DesiredCapacity", "2"), ("ScalingGroupId", GROUP_ID)]);
    assert_v3_shape(&m);
}

#[tokio::test]
async fn failover_sets_the_gtm_access_mode() {
    let server = Server::start(Arc::new(replay));
    let (_, global) = sources(&server, &full_config(&server.url), KEY_SECRET);
    global.poll(now()).await.expect("poll");
    let w = |endpoint: &str, cloud, before, after| Change::Weight {
        policy: "shop.example.com".into(),
        cloud,
        endpoint: endpoint.into(),
        before,
        after,
        share_before: f64::from(before),
        share_after: f64::from(after),
    };
    let p = plan(
        Intent::Shift { from: CloudKind::Aliyun, to: CloudKind::Aws, percent: None },
        "ali/global",
        vec![w("default", CloudKind::Aliyun, 1, 0), w("failover", CloudKind::Aws, 0, 1)],
    );
    let receipt = global.execute(&p, &Actor::current(), now()).await.expect("failover");
    assert_eq!(receipt.request_id, "29D0F8F8-5499-4F6C-9FDC-1EE13BF55925");
    let m = server.seen_action("SetDnsGtmAccessMode");
    assert_eq!(m.len(), 1);
    let params: Vec<(&str, &str)> = m[0].params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(params, vec![("AccessMode", "FAILOVER"), ("StrategyId", "hr***")]);
    assert_v3_shape(&m);

    // A plan made on weights that are no longer true is refused before any call.
    let stale = plan(
        Intent::Shift { from: CloudKind::Aws, to: CloudKind::Aliyun, percent: None },
        "ali/global",
        vec![w("failover", CloudKind::Aws, 1, 0), w("default", CloudKind::Aliyun, 0, 1)],
    );
    let e = global.execute(&stale, &Actor::current(), now()).await.expect_err("stale plan");
    assert!(e.to_string().contains("re-plan"), "{e}");
    assert_eq!(server.seen_action("SetDnsGtmAccessMode").len(), 1);
}

#[tokio::test]
async fn ack_is_refused_in_words() {
    let server = Server::start(Arc::new(replay));
    let (region, _) = sources(&server, &full_config(&server.url), KEY_SECRET);
    let p = plan(
        Intent::Ack { alert_id: "x".into(), comment: "looking".into(), minutes: None },
        "ali/cn-qingdao",
        vec![Change::AlertState {
            id: "x".into(),
            title: "t".into(),
            before: "firing".into(),
            after: opsdeck::model::AlertMark::Acked,
            comment: "looking".into(),
            minutes: None,
        }],
    );
    let e = region.execute(&p, &Actor::current(), now()).await.expect_err("unsupported");
    assert!(matches!(&e, ProviderError::Unsupported(m) if m.contains("CloudMonitor has no API")), "{e}");
    assert!(server.seen().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn v1_signing_carries_everything_in_the_query() {
    let server = Server::start(Arc::new(replay));
    let mut cfg = config(&server.url);
    cfg.signature = SignatureVersion::V1;
    let (region, _) = sources(&server, &cfg, KEY_SECRET);
    region.poll(now()).await.expect("poll signed v1");
    let seen = server.seen();
    // Groups, alert logs, and the contact groups and contacts the alert's log names.
    assert_eq!(seen.len(), 4);
    for s in &seen {
        assert!(s.signature_ok && s.scheme == "v1", "{s:?}");
        assert_eq!(s.param("SignatureVersion"), Some("1.0"));
        assert_eq!(s.param("Format"), Some("JSON"));
        assert_eq!(s.version, version_of(&s.action));
    }
    // And a wrong secret is refused under V1 too.
    let (region, _) = sources(&server, &cfg, "wrong");
    assert!(matches!(region.poll(now()).await, Err(ProviderError::Auth(_))));
}

#[test]
fn the_example_config_parses() {
    let p = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aliyun.toml"));
    let c = opsdeck::providers::registry::load(p).expect("example parses");
    let a = c.sources[0].table::<opsdeck::providers::aliyun::config::AliyunConfig>().expect("aliyun table");
    assert_eq!(a.region, "cn-hangzhou");
    assert_eq!(a.gtm.len(), 1);
    assert_eq!(a.severity_map.get("P1"), Some(&Severity::P0));
    // Startup makes the two sources without any I/O (credentials are read on first use).
    let built = opsdeck::startup::build(&c, None).expect("startup");
    let ids: Vec<String> = built.sources.iter().map(|s| s.provider.id().to_string()).collect();
    assert_eq!(ids, vec!["aliyun-prod/cn-hangzhou", "aliyun-prod/global"]);
    assert!(built.sources.iter().all(|s| s.provider.kind() == "aliyun"));
    assert!(!built.demo);
}

/// A server that remembers writes, so a fresh read shows them as Alibaba Cloud
/// would: the fixture with `DesiredCapacity` added after a ModifyScalingGroup, and
/// the strategy's `EffectiveAddrPoolGroupType` following SetDnsGtmAccessMode
/// (both derived from the fixtures).
fn stateful() -> Server {
    let state: Arc<std::sync::Mutex<(Option<String>, Option<String>)>> = Arc::default();
    Server::start(Arc::new(move |req: &Seen| {
        let mut st = state.lock().expect("state");
        match req.action.as_str() {
            "ModifyScalingGroup" => st.0 = req.param("DesiredCapacity").map(String::from),
            "SetDnsGtmAccessMode" => st.1 = req.param("AccessMode").map(String::from),
            "DescribeScalingGroups" => {
                let body = fixture("ess-2014-08-28-DescribeScalingGroups.doc.json");
                return match &st.0 {
                    Some(n) => {
                        (200, body.replace("\"MinSize\": 1,", &format!("\"MinSize\": 1, \"DesiredCapacity\": {n},")))
                    }
                    None => (200, body),
                };
            }
            "DescribeDnsGtmAccessStrategy" => {
                let body = fixture("alidns-2015-01-09-DescribeDnsGtmAccessStrategy.sdk.json");
                return match st.1.as_deref() {
                    Some("FAILOVER") => (
                        200,
                        body.replace("\"AccessMode\": \"AUTO\"", "\"AccessMode\": \"FAILOVER\"").replace(
                            "\"EffectiveAddrPoolGroupType\": \"DEFAULT\"",
                            "\"EffectiveAddrPoolGroupType\": \"FAILOVER\"",
                        ),
                    ),
                    _ => (200, body),
                };
            }
            _ => {}
        }
        replay(req)
    }))
}

fn schedules(server: &Server) -> Vec<opsdeck::collector::SourceSchedule> {
    let (region, global) = sources(server, &full_config(&server.url), KEY_SECRET);
    [region, global]
        .into_iter()
        .map(|provider| opsdeck::collector::SourceSchedule {
            provider,
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
        })
        .collect()
}

fn request(intent: Intent, confirm: Option<&str>, force: Option<&str>) -> opsdeck::runbook::Request {
    opsdeck::runbook::Request {
        intent,
        yes: true,
        confirm: confirm.map(String::from),
        force: force.map(String::from),
        require: vec![],
        confirm_timeout: Duration::from_secs(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_path_scales_and_confirms_by_a_fresh_read() {
    let server = stateful();
    let sources = schedules(&server);
    let executor = opsdeck::actions::Executor::new(sources.iter().map(|s| s.provider.clone()));
    let intent = opsdeck::actions::intent::parse("scale", &["aliyun/scalinggroup****", "2"]).expect("intent");
    let path = opsdeck::actions::WritePath::new(
        Some(executor),
        None,
        Actor::current(),
        std::sync::Arc::new(opsdeck::clock::SystemClock),
    );
    let report = opsdeck::runbook::run(request(intent, None, None), &sources, &path).await;
    assert_eq!((report.outcome, report.exit_code), ("executed", 0), "{report:?}");
    assert_eq!(report.request_id.as_deref(), Some("473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E"));
    let m = server.seen_action("ModifyScalingGroup");
    assert_eq!(m.len(), 1, "sent once");
    assert_eq!((m[0].param("ScalingGroupId"), m[0].param("DesiredCapacity")), (Some(GROUP_ID), Some("2")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_path_fails_over_gtm_and_confirms_by_a_fresh_read() {
    let server = stateful();
    let sources = schedules(&server);
    let executor = opsdeck::actions::Executor::new(sources.iter().map(|s| s.provider.clone()));
    let intent = opsdeck::actions::intent::parse("failover", &["aliyun", "aws"]).expect("intent");
    // No AWS source reports here, so the target-health guard fails: forced, as audited.
    let req = request(intent, Some("aws"), Some("test: no AWS source in this estate"));
    let path = opsdeck::actions::WritePath::new(
        Some(executor),
        None,
        Actor::current(),
        std::sync::Arc::new(opsdeck::clock::SystemClock),
    );
    let report = opsdeck::runbook::run(req, &sources, &path).await;
    assert_eq!((report.outcome, report.exit_code), ("executed", 0), "{report:?}");
    assert_eq!(report.request_id.as_deref(), Some("29D0F8F8-5499-4F6C-9FDC-1EE13BF55925"));
    let m = server.seen_action("SetDnsGtmAccessMode");
    assert_eq!(m.len(), 1, "sent once");
    assert_eq!((m[0].param("StrategyId"), m[0].param("AccessMode")), (Some("hr***"), Some("FAILOVER")));
}

// ---- Seeded estates: the generator's truth against what opsdeck shows -------------

use opsdeck::providers::aliyun::config::AliyunConfig as Cfg;
use support::aliyun_estate::{Estate, GTM_INSTANCE, GTM_NAME, GTM_STRATEGY};

const SEEDS: u64 = 60;

/// One source per region (its endpoints on that region's server); the first also
/// reads GTM and the bill.
fn estate_configs(estate: &Estate, servers: &[Server]) -> Vec<(String, Cfg)> {
    estate
        .regions
        .iter()
        .zip(servers)
        .enumerate()
        .map(|(i, (r, s))| {
            let mut c = Cfg::new(r.region.clone());
            for k in ["cms", "ess", "alidns", "bss", "ecs"] {
                c.endpoints.insert(k.into(), s.url.clone());
            }
            c.billing = i == 0;
            c.spot_prices = true;
            if i == 0 {
                c.gtm = vec![GtmConfig {
                    instance_id: GTM_INSTANCE.into(),
                    strategy_id: GTM_STRATEGY.into(),
                    name: Some(GTM_NAME.into()),
                    default_cloud: CloudKind::Aliyun,
                    failover_cloud: CloudKind::Aws,
                    ttl_secs: 60,
                }];
            }
            (format!("ali-{}", r.region), c)
        })
        .collect()
}

type GroupRow = (String, String, u64, u64, u64, u64, u64);

/// The snapshot's health against the generator's: every group's health and idle
/// reason, every cloud's and region's health, the status (and, from the binary,
/// the exit code).
fn assert_snapshot_health(estate: &Estate, snap: &serde_json::Value, exit_code: Option<i32>) {
    let want = estate.expected_health();
    let ctx = format!("seed {}: {snap:#}", estate.seed);
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_else(|| panic!("{ctx}: {v} is not text")).to_string();
    let groups: BTreeMap<(String, String), (String, Option<String>)> = snap["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| ((text(&g["region"]), text(&g["name"])), (text(&g["health"]), g["idle"].as_str().map(String::from))))
        .collect();
    let want_groups: BTreeMap<(String, String), (String, Option<String>)> =
        want.groups.iter().map(|(k, (h, i))| (k.clone(), (h.to_string(), i.map(String::from)))).collect();
    assert_eq!(groups, want_groups, "{ctx}: group health and idle");
    let clouds: BTreeMap<String, (String, BTreeMap<String, String>)> = snap["clouds"]
        .as_array()
        .expect("clouds")
        .iter()
        .map(|c| {
            let regions = c["regions"]
                .as_array()
                .expect("regions")
                .iter()
                .map(|r| (text(&r["region"]), text(&r["health"])))
                .collect();
            (text(&c["cloud"]), (text(&c["health"]), regions))
        })
        .collect();
    let want_clouds: BTreeMap<String, (String, BTreeMap<String, String>)> = want
        .clouds
        .iter()
        .map(|(c, (h, rs))| (c.clone(), (h.to_string(), rs.iter().map(|(r, h)| (r.clone(), h.to_string())).collect())))
        .collect();
    assert_eq!(clouds, want_clouds, "{ctx}: cloud and region health");
    assert_eq!(snap["status"].as_str(), Some(want.status), "{ctx}: status");
    if let Some(code) = exit_code {
        assert_eq!(code, want.exit_code, "{ctx}: exit code");
    }
}

/// The snapshot JSON (`opsdeck snapshot --format json`, or the same function in
/// process) against the estate's truth: every source fresh; every group with its
/// counts; every alert with its severity and state (and so the counts by both);
/// the spend per currency; the GTM weights.
fn assert_snapshot_is_the_truth(estate: &Estate, snap: &serde_json::Value) {
    assert_snapshot_health(estate, snap, None);
    let seed = estate.seed;
    let arr = |k: &str| snap[k].as_array().cloned().unwrap_or_else(|| panic!("seed {seed}: no {k} in {snap}"));
    for s in arr("sources") {
        assert_eq!(s["state"], "fresh", "seed {seed}: {s}");
    }
    let u = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("seed {seed}: {v} is not a count"));
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_else(|| panic!("seed {seed}: {v} is not text")).to_string();
    // Spot prices: each type the groups run, its cheapest zone's newest entry.
    type Prices = BTreeMap<(String, String), (String, f64, f64, String, Vec<String>)>;
    let prices: Prices = arr("spot_prices")
        .iter()
        .map(|p| {
            assert_eq!(
                (p["cloud"].as_str(), p["on_demand_from"].as_str()),
                (Some("aliyun"), Some("OriginPrice")),
                "{p}"
            );
            let f = |k: &str| p[k].as_f64().unwrap_or_else(|| panic!("seed {seed}: {k} in {p}"));
            let groups = p["groups"].as_array().expect("groups").iter().map(s).collect();
            (
                (s(&p["region"]), s(&p["instance_type"])),
                (s(&p["zone"]), f("spot_hourly"), f("on_demand_hourly"), s(&p["currency"]), groups),
            )
        })
        .collect();
    let want: Prices = estate
        .expected_prices()
        .into_iter()
        .map(|(k, (zone, spot, od, cur, groups))| (k, (zone, spot, od, cur.to_string(), groups)))
        .collect();
    assert_eq!(prices, want, "seed {seed}: spot prices");
    let mut groups: Vec<GroupRow> = arr("groups")
        .iter()
        .map(|g| {
            assert_eq!(g["cloud"], "aliyun");
            (
                s(&g["region"]),
                s(&g["name"]),
                u(&g["min"]),
                u(&g["max"]),
                u(&g["desired"]),
                u(&g["in_service"]),
                u(&g["healthy"]),
            )
        })
        .collect();
    groups.sort();
    let want: Vec<GroupRow> = estate
        .groups()
        .into_iter()
        .map(|g| {
            let (d, i) = (u64::from(g.desired), u64::from(g.in_service));
            (g.region, g.name, u64::from(g.min), u64::from(g.max), d, i, i)
        })
        .collect();
    assert_eq!(groups, want, "seed {seed}: groups");

    let alerts = arr("alerts");
    let mut got: Vec<(String, String, String)> =
        alerts.iter().map(|a| (s(&a["id"]), s(&a["severity"]), s(&a["state"]))).collect();
    got.sort();
    let truth = estate.alerts();
    let want: Vec<(String, String, String)> =
        truth.iter().map(|a| (a.id.clone(), a.severity.to_string(), a.state.to_string())).collect();
    assert_eq!(got, want, "seed {seed}: alerts");
    let counts = |rows: &[(String, String, String)]| {
        let mut m: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (_, sev, state) in rows {
            *m.entry((sev.clone(), state.clone())).or_default() += 1;
        }
        m
    };
    assert_eq!(counts(&got), counts(&want), "seed {seed}: alerts by severity and state");
    for t in &truth {
        let a = alerts.iter().find(|a| a["id"] == t.id.as_str()).expect("alert");
        // Non-ASCII rule names arrive whole; sanitising is for drawing.
        assert!(s(&a["title"]).starts_with(&t.rule_name), "seed {seed}: {} vs {}", a["title"], t.rule_name);
        assert_eq!(a["cloud"], "aliyun");
    }

    let costs: Vec<serde_json::Value> = arr("costs").into_iter().filter(|c| c["cloud"] == "aliyun").collect();
    let mut currencies: Vec<String> = costs.iter().map(|c| s(&c["currency"])).collect();
    currencies.sort();
    let want: Vec<String> = estate.costs.iter().map(|c| c.currency.clone()).collect();
    assert_eq!(currencies, want, "seed {seed}: one cost per currency whose spend is known");
    for t in &estate.costs {
        let c = costs.iter().find(|c| c["currency"] == t.currency.as_str()).expect("currency");
        let mtd = c["month_to_date"].as_f64().expect("mtd");
        assert!((mtd - t.month_to_date).abs() < 1e-6, "seed {seed}: {} {mtd} vs {}", t.currency, t.month_to_date);
        let by: Vec<(String, f64)> = c["by_service"]
            .as_array()
            .expect("by_service")
            .iter()
            .map(|r| (s(&r["service"]), r["amount"].as_f64().expect("amount")))
            .collect();
        assert_eq!(by.len(), t.by_service.len(), "seed {seed}: {by:?} vs {:?}", t.by_service);
        for ((gs, ga), (ws, wa)) in by.iter().zip(&t.by_service) {
            assert!(gs == ws && (ga - wa).abs() < 1e-6, "seed {seed}: {by:?} vs {:?}", t.by_service);
        }
    }

    let policies = arr("traffic_policies");
    assert_eq!(policies.len(), 1, "seed {seed}");
    let weights: BTreeMap<String, u32> = policies[0]["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| (s(&e["name"]), u(&e["weight"]) as u32))
        .collect();
    assert_eq!(weights, estate.weights, "seed {seed}: GTM weights");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_estates_read_as_generated() {
    let (mut inactive, mut zero, mut unknown_cost, mut both, mut paged) = (0, 0, 0, 0, 0);
    let (mut priced, mut unpriced_groups) = (0, 0);
    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    for seed in 0..SEEDS {
        let estate = Arc::new(Estate::generate(seed, now()));
        let servers = estate.serve();
        let mut schedules = Vec::new();
        for (name, cfg) in estate_configs(&estate, &servers) {
            for provider in
                providers_with(&name, &cfg, Duration::from_secs(5), key(KEY_SECRET), fast_retry()).expect("providers")
            {
                schedules.push(opsdeck::collector::SourceSchedule {
                    provider,
                    interval: Duration::from_secs(60),
                    timeout: Duration::from_secs(10),
                });
            }
        }
        let fleet = opsdeck::collector::collect_once(&schedules, now(), false).await;
        assert_snapshot_is_the_truth(&estate, &opsdeck::snapshot::to_json(&fleet, now()));
        // The inactive flag is in the model (the JSON shows the counts).
        let mut flags: Vec<(String, String, bool)> =
            fleet.groups.iter().map(|g| (g.region.clone(), g.name.clone(), g.inactive)).collect();
        flags.sort();
        let want: Vec<(String, String, bool)> =
            estate.groups().into_iter().map(|g| (g.region, g.name, g.inactive)).collect();
        assert_eq!(flags, want, "seed {seed}: inactive flags");
        // Every region asked for pages until it had them all, and no more than one past.
        for (r, server) in estate.regions.iter().zip(&servers) {
            let pages = server.seen_action("DescribeScalingGroups").len();
            paged += usize::from(pages > 1);
            assert!(r.ess_calls_needed().contains(&pages), "seed {seed} {}: {pages} calls", r.region);
        }
        *statuses.entry(estate.expected_health().status).or_insert(0) += 1;
        inactive += estate.groups().iter().filter(|g| g.inactive).count();
        zero += estate.groups().iter().filter(|g| g.desired == 0).count();
        priced += estate.expected_prices().len();
        unpriced_groups += estate.groups().iter().filter(|g| g.instance_type.is_none()).count();
        unknown_cost += usize::from(estate.costs.is_empty());
        both += usize::from(estate.costs.len() == 2);
        for s in &servers {
            s.stop();
        }
    }
    // The seeds cover what they are meant to.
    assert!(
        inactive > 10 && zero > 10 && unknown_cost > 3 && both > 3 && paged > 20 && priced > 40 && unpriced_groups > 5,
        "{inactive} {zero} {unknown_cost} {both} {paged} {priced} {unpriced_groups}"
    );
    eprintln!("{SEEDS} seeds: statuses {statuses:?}");
    assert!(statuses.len() >= 3, "the estates vary in health: {statuses:?}");
}

/// `opsdeck snapshot --format json`, the real binary, on a few generated estates.
#[test]
fn the_snapshot_command_shows_generated_estates_as_generated() {
    for seed in [3, 17, 29, 41] {
        let estate = Arc::new(Estate::generate(seed, Utc::now()));
        let servers = estate.serve();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut toml = String::new();
        for (name, cfg) in estate_configs(&estate, &servers) {
            toml += &format!(
                "[[sources]]\nname = \"{name}\"\nkind = \"aliyun\"\ninterval_secs = 60\ntimeout_secs = 20\n\
                 [sources.aliyun]\nregion = \"{}\"\nbilling = {}\nspot_prices = {}\n[sources.aliyun.endpoints]\n",
                cfg.region, cfg.billing, cfg.spot_prices
            );
            for (k, v) in &cfg.endpoints {
                toml += &format!("{k} = \"{v}\"\n");
            }
            for g in &cfg.gtm {
                toml += &format!(
                    "[[sources.aliyun.gtm]]\ninstance_id = \"{}\"\nstrategy_id = \"{}\"\nname = \"{GTM_NAME}\"\n\
                     default_cloud = \"aliyun\"\nfailover_cloud = \"aws\"\n",
                    g.instance_id, g.strategy_id
                );
            }
        }
        let path = dir.path().join("opsdeck.toml");
        std::fs::write(&path, &toml).expect("config");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(["--config", path.to_str().expect("utf-8"), "snapshot", "--format", "json"])
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET)
            .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
            .env("HOME", dir.path())
            .output()
            .expect("snapshot");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            matches!(out.status.code(), Some(0..=3)),
            "seed {seed}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let snap: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}: {text}"));
        assert_snapshot_is_the_truth(&estate, &snap);
        assert_snapshot_health(&estate, &snap, Some(out.status.code().expect("an exit code")));
        assert!(servers.iter().flat_map(|s| s.seen()).all(|s| s.signature_ok), "seed {seed}");
        for s in &servers {
            s.stop();
        }
    }
}
