//! Where AWS alarms page, against a real moto server: generated estates of SNS
//! topics and subscriptions and of alarms whose ALARM actions name them. The
//! snapshot JSON's `routes` and each alert's `route` must equal what the generator
//! planted (masked), each topic read once per poll and counted in the poll's
//! calls. And an alarm naming a topic that does not exist fails the routes section
//! alone, with a reason naming the topic, keeping the alerts live.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use chrono::Utc;
use opsdeck::collector::{SourceSchedule, collect_once};
use opsdeck::providers::Provider;
use opsdeck::providers::aws::{self, AwsConfig, SdkSource};

use crate::sns_estate::{Action, Estate, State};
use crate::support::moto::{Moto, sdk_for};

const SEEDS: std::ops::Range<u64> = 0..40;

fn schedules(providers: &[Arc<dyn Provider>]) -> Vec<SourceSchedule> {
    providers
        .iter()
        .map(|p| SourceSchedule {
            provider: p.clone(),
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_paging_estates_read_as_planted() {
    let moto = Moto::start();
    let sdk = sdk_for(&moto.url(), "us-east-1").await.to_builder().retry_config(RetryConfig::disabled()).build();
    let (mut routes, mut shared, mut multi, mut bare, mut non_sns, mut paged, mut mixed) = (0, 0, 0, 0, 0, 0, 0);
    let mut protocols = std::collections::BTreeSet::new();
    for seed in SEEDS {
        let mut estate = Estate::generate(seed);
        estate.plant(&moto).await;
        let regions: Vec<String> = estate.regions.iter().map(|r| r.name.clone()).collect();
        let providers = aws::providers(
            "gen",
            &AwsConfig::new("gen", regions.clone()),
            Duration::from_secs(30),
            SdkSource::Given(Box::new(sdk.clone())),
        );
        // The regions' sources only: the routes are regional.
        let regional: Vec<Arc<dyn Provider>> = providers.into_iter().take(regions.len()).collect();
        let now = Utc::now();
        let fleet = collect_once(&schedules(&regional), now, false).await;
        let ctx = format!("seed {seed}");
        for s in &fleet.sources {
            assert!(s.last_ok.is_some() && s.partial.is_empty(), "{ctx}: {} {:?} {:?}", s.id, s.freshness, s.partial);
        }
        let snap = opsdeck::snapshot::to_json(&fleet, now);
        assert_eq!(crate::sns_estate::seen_routes(&snap), estate.expected_routes(), "{ctx}: routes");
        assert_eq!(crate::sns_estate::seen_alert_routes(&snap), estate.expected_alert_routes(), "{ctx}: alert routes");
        // Every alert takes exactly the routes its `route` names.
        for a in &fleet.alerts {
            let named: Vec<&str> = a.route.split(", ").filter(|s| !s.is_empty()).collect();
            let taken: Vec<&str> = fleet.routes.iter().filter(|r| r.pages(a)).map(|r| r.receiver.as_str()).collect();
            let mut named_sorted = named.clone();
            named_sorted.sort();
            assert_eq!(taken, named_sorted, "{ctx}: {}", a.id);
        }

        // Each used topic's subscriptions read once per poll, page by page, counted.
        for region in &estate.regions {
            let source = fleet.sources.iter().find(|s| s.id.as_str() == Estate::source(&region.name)).expect("source");
            let firing = region.alarms.iter().filter(|a| a.state == State::Alarm).count() as u32;
            // DescribeAutoScalingGroups, DescribeAlarms, a ListTagsForResource per firing
            // alarm (no groups: no metrics to ask for), and the topics.
            let want = 2 + firing + Estate::expected_sns_calls(region);
            assert_eq!(source.poll_cost.as_ref().map(|c| c.api_calls), Some(want), "{ctx}: {} calls", region.name);

            paged += region.topics.iter().filter(|t| t.subs.len() >= 100).count();
            for a in region.alarms.iter().filter(|a| a.state == State::Alarm) {
                let topics = a.actions.iter().filter(|x| matches!(x, Action::Topic(_))).count();
                multi += usize::from(topics >= 2);
                bare += usize::from(a.actions.is_empty());
                non_sns += usize::from(a.actions.iter().any(|x| matches!(x, Action::Other(_))));
            }
            for t in &region.topics {
                protocols.extend(t.subs.iter().map(|s| s.protocol.clone()));
            }
        }
        let want = estate.expected_routes();
        routes += want.len();
        shared += want.values().filter(|r| r.alerts.len() >= 2).count();
        mixed += want.values().filter(|r| r.severity.is_none()).count();
    }
    eprintln!(
        "{} seeds: {routes} routes ({shared} shared, {mixed} of mixed severity), {multi} alarms paging several \
         topics, {bare} with no actions, {non_sns} with a non-SNS action, {paged} topics past a page; {protocols:?}",
        SEEDS.end - SEEDS.start
    );
    // The generator covered what it is for.
    assert!(
        routes >= 40 && shared >= 10 && mixed >= 3 && multi >= 10 && bare >= 5 && non_sns >= 5 && paged >= 4,
        "{routes} {shared} {mixed} {multi} {bare} {non_sns} {paged}"
    );
    assert_eq!(protocols.len(), 9, "every SNS protocol: {protocols:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_topic_is_a_route_that_pages_nobody_and_the_others_are_read() {
    let moto = Moto::start();
    let region = "eu-west-1";
    let sdk = sdk_for(&moto.url(), region).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let kept = sns.create_topic().name("oncall").send().await.expect("topic");
    let kept = kept.topic_arn().expect("arn").to_string();
    sns.subscribe().topic_arn(&kept).protocol("sms").endpoint("+15550100100").send().await.expect("subscribe");
    let gone = Estate::topic_arn(region, "deleted-team");
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    cw.put_metric_alarm()
        .alarm_name("P1-pago-ñ-errores")
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .alarm_actions(&kept)
        .alarm_actions(&gone)
        .send()
        .await
        .expect("alarm");
    cw.set_alarm_state()
        .alarm_name("P1-pago-ñ-errores")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("over")
        .send()
        .await
        .expect("state");
    let providers = aws::providers(
        "gen",
        &AwsConfig::new("gen", vec![region.into()]),
        Duration::from_secs(30),
        SdkSource::Given(Box::new(sdk.to_builder().retry_config(RetryConfig::disabled()).build())),
    );
    let report = providers[0].poll(Utc::now()).await.expect("poll");
    assert!(report.failed.is_empty(), "a topic that does not exist is an answer, not a failure: {:?}", report.failed);
    let routes: Vec<(&str, &str, Vec<String>)> = report
        .routes
        .iter()
        .map(|r| (r.receiver.as_str(), r.rule.as_str(), r.channels.iter().map(|c| c.label()).collect()))
        .collect();
    assert_eq!(
        routes,
        [
            ("deleted-team", "alarms: P1-pago-ñ-errores (topic not found: pages nobody)", vec![]),
            ("oncall", "alarms: P1-pago-ñ-errores", vec!["sms:+1555…0100".to_string()]),
        ]
    );
    // The alert is live and still says where it paged.
    assert_eq!(report.alerts.len(), 1);
    assert_eq!(report.alerts[0].route, "oncall, deleted-team");
}
