//! Where Alibaba Cloud alerts page, against the signature-checking stand-in
//! serving generated contact books (tests/support/aliyun_routes.rs): the routes
//! opsdeck reports and each alert's `route` must equal the truth (masked), both
//! contact lists read page by page once a poll, and not at all when no alert
//! names a contact group.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use opsdeck::credentials::Secret;
use opsdeck::providers::aliyun::client::{KeySource, RetryPolicy};
use opsdeck::providers::aliyun::config::AliyunConfig;
use opsdeck::providers::aliyun::providers_with;
use opsdeck::providers::aliyun::sign::AccessKey;

use crate::aliyun_routes::{Estate, MISSING_GROUP, RouteView};
use crate::support::aliyun::{KEY_ID, KEY_SECRET, Seen, Server};

const SEEDS: u64 = 60;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z").expect("time").with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_contact_books_read_as_generated() {
    let (mut routes, mut shared, mut missing, mut pending, mut paged, mut untouched) = (0, 0, 0, 0, 0, 0);
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 0..SEEDS {
        let estate = Arc::new(Estate::generate(seed, now().timestamp_millis()));
        let e = estate.clone();
        let server = Server::start(Arc::new(move |req: &Seen| e.answer(req)));
        let mut cfg = AliyunConfig::new("cn-hangzhou");
        for k in ["cms", "ess", "alidns", "bss"] {
            cfg.endpoints.insert(k.into(), server.url.clone());
        }
        let key =
            KeySource::Given(AccessKey { id: KEY_ID.into(), secret: Secret::new(KEY_SECRET), security_token: None });
        let retry = RetryPolicy { attempts: 1, base: Duration::from_millis(10), max: Duration::from_millis(20) };
        let providers = providers_with("ali", &cfg, Duration::from_secs(5), key, retry).expect("providers");
        let r = providers[0].poll(now()).await.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let ctx = format!("seed {seed}");
        assert!(r.failed.is_empty(), "{ctx}: {:?}", r.failed);
        let seen: std::collections::BTreeMap<String, RouteView> = r
            .routes
            .iter()
            .map(|x| {
                assert_eq!(x.cloud, Some(opsdeck::model::CloudKind::Aliyun));
                let view = RouteView {
                    severity: x.severity.map(|s| s.label().to_string()),
                    rule: x.rule.clone(),
                    alerts: x.alerts.clone(),
                    channels: x.channels.iter().map(|c| (c.kind.clone(), c.target.clone())).collect(),
                };
                (x.receiver.clone(), view)
            })
            .collect();
        assert_eq!(seen, estate.expected_routes(), "{ctx}: routes");
        let alert_routes: std::collections::BTreeMap<String, String> =
            r.alerts.iter().map(|a| (a.id.clone(), a.route.clone())).collect();
        assert_eq!(alert_routes, estate.expected_alert_routes(), "{ctx}: alert routes");
        for a in r.alerts.iter() {
            let mut named: Vec<&str> = a.route.split(',').filter(|s| !s.is_empty()).collect();
            named.sort();
            let taken: Vec<&str> = r.routes.iter().filter(|x| x.pages(a)).map(|x| x.receiver.as_str()).collect();
            assert_eq!(taken, named, "{ctx}: {}", a.id);
        }
        // Every CloudMonitor call counted; the contact lists page by page, once.
        let cms: Vec<Seen> = server.seen().into_iter().filter(|s| s.version == "2019-01-01").collect();
        assert_eq!(cms.len(), estate.expected_calls(), "{ctx}: calls");
        assert!(cms.iter().all(|s| s.signature_ok), "{ctx}: signed");
        // And the one (empty) scaling group page.
        assert_eq!(r.poll_cost.as_ref().map(|c| c.api_calls as usize), Some(cms.len() + 1), "{ctx}: counted");

        let want = estate.expected_routes();
        routes += want.len();
        shared += want.values().filter(|v| v.alerts.len() >= 2).count();
        missing += usize::from(want.contains_key(MISSING_GROUP));
        pending += want.values().flat_map(|v| &v.channels).filter(|c| c.1.ends_with("(pending activation)")).count();
        paged += usize::from(server.seen_action("DescribeContactList").len() > 1);
        untouched += usize::from(server.seen_action("DescribeContactList").is_empty());
        kinds.extend(want.values().flat_map(|v| v.channels.iter().map(|c| c.0.clone())));
        server.stop();
    }
    eprintln!(
        "{SEEDS} seeds: {routes} routes ({shared} shared), {missing} naming a missing group, {pending} pending \
         channels, {paged} books in pages, {untouched} polls that needed no book; kinds {kinds:?}"
    );
    assert!(
        routes >= 60 && shared >= 15 && missing >= 3 && pending >= 5 && paged >= 20 && untouched >= 3,
        "{routes} {shared} {missing} {pending} {paged} {untouched}"
    );
    assert_eq!(kinds.len(), 7, "every channel kind: {kinds:?}");
}
