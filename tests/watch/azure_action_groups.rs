//! Where Azure alerts page, against a local ARM + Entra ID serving generated
//! estates of alert rules and action groups (tests/support/azure_routes.rs): the
//! routes opsdeck reports and each alert's `route` must equal the truth (masked),
//! each rule and action group read once a poll; a rule naming an action group that
//! does not exist fails the routes section alone, with a reason naming the group,
//! and the alerts stay live.

use std::time::Duration;

use chrono::Utc;
use opsdeck::credentials::Secret;
use opsdeck::model::{Section, SourceReport};
use opsdeck::providers::azure::{self, AzureAuth, AzureConfig, AzureOptions, LroLimits, creds};

use crate::azure_routes::{self as routes_arm, AlertRule, Estate, RouteView};
use crate::support;

const SEEDS: u64 = 60;

fn seen_routes(r: &SourceReport) -> std::collections::BTreeMap<String, RouteView> {
    r.routes
        .iter()
        .map(|x| {
            assert_eq!(x.cloud, Some(opsdeck::model::CloudKind::Azure));
            let view = RouteView {
                severity: x.severity.map(|s| s.label().to_string()),
                rule: x.rule.clone(),
                alerts: x.alerts.clone(),
                channels: x.channels.iter().map(|c| (c.kind.clone(), c.target.clone())).collect(),
            };
            (x.receiver.clone(), view)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_action_groups_read_as_generated() {
    let (mut routes, mut shared, mut disabled, mut bare_rules, mut missing, mut not_rules) = (0, 0, 0, 0, 0, 0);
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 0..SEEDS {
        let estate = Estate::generate(seed);
        let server = routes_arm::serve(&estate).await;
        let base = server.uri().replace("http://", "https://");
        let mut cfg = AzureConfig::new(vec![estate.sub.clone()]);
        cfg.arm_endpoint = base.clone();
        cfg.authority_host = Some(base);
        let cred = creds::client_secret(
            routes_arm::TENANT,
            routes_arm::CLIENT,
            &Secret::new(routes_arm::SECRET),
            &cfg,
            Some(support::azure_http::plain_http()),
        )
        .expect("credential");
        let opts = AzureOptions {
            auth: AzureAuth::Given(cred),
            transport: Some(support::azure_http::plain_http()),
            lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
        };
        let providers = azure::providers("az", &cfg, opts).expect("providers");
        let r = providers[0].poll(Utc::now()).await.unwrap_or_else(|e| panic!("seed {seed}: poll: {e}"));
        let ctx = format!("seed {seed}");
        let alert_routes: std::collections::BTreeMap<String, String> =
            r.alerts.iter().map(|a| (a.id.clone(), a.route.clone())).collect();
        if let Some(gone) = estate.missing_group() {
            missing += 1;
            let failed: Vec<(Section, &str)> = r.failed.iter().map(|f| (f.section, f.reason.as_str())).collect();
            assert_eq!(failed.len(), 1, "{ctx}: {failed:?}");
            assert_eq!(failed[0].0, Section::Routes, "{ctx}");
            assert!(
                failed[0].1.contains(&format!("action group {}", gone.name))
                    && failed[0].1.contains("ResourceNotFound"),
                "{ctx}: the reason names the group: {}",
                failed[0].1
            );
            assert!(r.routes.is_empty(), "{ctx}: no half list: {:?}", r.routes);
            assert_eq!(alert_routes, estate.expected_alert_routes(false), "{ctx}: alert routes");
            continue;
        }
        assert!(r.failed.is_empty(), "{ctx}: {:?}", r.failed);
        assert_eq!(seen_routes(&r), estate.expected_routes(), "{ctx}: routes");
        assert_eq!(alert_routes, estate.expected_alert_routes(true), "{ctx}: alert routes");
        // Every alert whose rule was read takes exactly the routes its `route` names
        // (the others keep the monitor service there, as before routes were read).
        let ruled = |id: &str| estate.alerts.iter().any(|t| t.guid == id && matches!(t.rule, AlertRule::Rule(_)));
        for a in r.alerts.iter().filter(|a| ruled(&a.id)) {
            let mut named: Vec<&str> = a.route.split(", ").filter(|s| !s.is_empty()).collect();
            named.sort();
            named.dedup();
            let taken: Vec<&str> = r.routes.iter().filter(|x| x.pages(a)).map(|x| x.receiver.as_str()).collect();
            assert_eq!(taken, named, "{ctx}: {}", a.id);
        }
        let requests = server.received_requests().await.unwrap_or_default();
        let arm_calls = requests.iter().filter(|q| !q.url.path().contains("/oauth2/")).count() as u32;
        assert_eq!(arm_calls, estate.expected_calls(), "{ctx}: each rule and group read once");
        assert_eq!(r.poll_cost.as_ref().map(|c| c.api_calls), Some(estate.expected_calls()), "{ctx}: counted");

        let want = estate.expected_routes();
        routes += want.len();
        shared += want.values().filter(|v| v.alerts.len() >= 2).count();
        disabled += want.values().filter(|v| v.rule.ends_with("(action group disabled)")).count();
        bare_rules += estate
            .alerts
            .iter()
            .filter(|a| matches!(a.rule, AlertRule::Rule(k) if estate.rules[k].groups.is_empty()))
            .count();
        not_rules += estate.alerts.iter().filter(|a| !matches!(a.rule, AlertRule::Rule(_))).count();
        kinds.extend(want.values().flat_map(|v| v.channels.iter().map(|c| c.0.clone())));
    }
    eprintln!(
        "{SEEDS} seeds: {routes} routes ({shared} shared, {disabled} of a disabled group), {bare_rules} alerts of a rule \
         with no action group, {not_rules} without a rule id, {missing} estates with a missing group; kinds {kinds:?}"
    );
    assert!(
        routes >= 60 && shared >= 15 && disabled >= 3 && bare_rules >= 5 && not_rules >= 5 && missing >= 5,
        "{routes} {shared} {disabled} {bare_rules} {not_rules} {missing}"
    );
    assert_eq!(kinds.len(), 11, "every receiver kind: {kinds:?}");
}
