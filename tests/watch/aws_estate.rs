//! Seeded AWS estates planted in a real moto server: opsdeck's snapshot JSON must
//! equal what the generator planted (groups and their counts, idle groups, alert
//! counts by severity and state, weights, cost, the verdict) through the library's
//! poll and through the built binary. And a region with one alarm the SDK cannot
//! parse is partial: its groups and metrics stay live, its alerts section keeps its
//! last good read, marked stale with the reason.

use crate::support;

use crate::aws_seeded;

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_seeded::{Ack, AlarmState, AlarmTruth, Estate, GroupTruth, Planted, RegionTruth};
use chrono::Utc;
use opsdeck::clock::SystemClock;
use opsdeck::collector::{Collector, SourceSchedule, collect_once};
use opsdeck::model::{Fleet, Freshness, Section};
use opsdeck::providers::Provider;
use opsdeck::providers::aws::{self, SdkSource};
use serde_json::Value;
use support::moto::{Moto, sdk_for};

/// Seeds read through the library's poll, one moto reset between each.
const LIBRARY_SEEDS: std::ops::Range<u64> = 0..30;
/// Seeds read by the built binary; 100 pages its first region's groups.
const BINARY_SEEDS: [u64; 3] = [100, 103, 107];

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

/// The SDK as the library test hands it to opsdeck. Single attempts: moto answers
/// GetCostForecast with HTTP 500 (not implemented), and three attempts with
/// backoff per seed would spend the test's time budget on a call that cannot work.
async fn library_sdk(moto: &Moto) -> SdkConfig {
    sdk_for(&moto.url(), "us-east-1")
        .await
        .to_builder()
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build()
}

/// Every judgement of the snapshot against the truth.
pub(crate) fn assert_equals_truth(estate: &Estate, planted: &Planted, snap: &Value, ctx: &str) {
    assert_eq!(aws_seeded::seen_groups(snap), estate.expected_groups(planted), "{ctx}: groups");
    assert_eq!(aws_seeded::seen_regions(snap), estate.expected_regions(), "{ctx}: regions");
    assert_eq!(aws_seeded::seen_alerts(snap), estate.expected_alerts(), "{ctx}: alerts by severity and state");
    assert_eq!(aws_seeded::seen_alert_ids(snap), estate.expected_alert_ids(), "{ctx}: alert ids");
    assert_eq!(aws_seeded::seen_policies(snap), estate.expected_policies(), "{ctx}: weights");
    assert_eq!(aws_seeded::seen_spot_prices(snap), estate.expected_spot_prices(), "{ctx}: spot prices");
    let costs = aws_seeded::seen_costs(snap);
    let want = estate.expected_cost();
    assert!(costs.len() == 1 && costs[0].matches(&want), "{ctx}: cost {costs:?} != {want:?}");
    assert_eq!(snap["status"], estate.expected_status(), "{ctx}: status; reasons {}", snap["reasons"]);
}

pub(crate) fn source_states(snap: &Value) -> Vec<(String, String)> {
    snap["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| (s["id"].as_str().unwrap_or("").to_string(), s["state"].as_str().unwrap_or("").to_string()))
        .collect()
}

pub(crate) fn fresh_sources(estate: &Estate, name: &str) -> Vec<(String, String)> {
    estate
        .regions
        .iter()
        .map(|r| format!("{name}/{}", r.name))
        .chain([format!("{name}/global")])
        .map(|id| (id, "fresh".to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_estates_read_as_generated() {
    let moto = Moto::start();
    let sdk = library_sdk(&moto).await;
    let (mut regions, mut groups, mut zero, mut degraded, mut paged, mut alarms, mut acked, mut endpoints) =
        (0, 0, 0, 0, 0, 0, 0, 0);
    let mut cost_paged = 0;
    let (mut priced, mut priced_unknown_on_demand) = (0, 0);
    let mut verdicts = std::collections::BTreeMap::<&str, usize>::new();
    for seed in LIBRARY_SEEDS {
        let estate = Estate::generate(seed);
        let planted = estate.plant(&moto).await;
        let cfg = estate.config("gen", &planted);
        let providers = aws::providers("gen", &cfg, Duration::from_secs(30), SdkSource::Given(Box::new(sdk.clone())));
        let now = Utc::now();
        let fleet: Fleet = collect_once(&schedules(&providers), now, false).await;
        let snap = opsdeck::snapshot::to_json(&fleet, now);
        let ctx = format!("seed {seed}");
        assert_eq!(source_states(&snap), fresh_sources(&estate, "gen"), "{ctx}: {:#}", snap["sources"]);
        assert_equals_truth(&estate, &planted, &snap, &ctx);

        regions += estate.regions.len();
        for r in &estate.regions {
            groups += r.groups.len();
            zero += r.groups.iter().filter(|g| g.health() == "IDLE").count();
            degraded += r.groups.iter().filter(|g| g.health() == "DEGRADED").count();
            paged += usize::from(r.groups.len() > 50);
            alarms += r.alarms.len();
            acked += r.alarms.iter().filter(|a| a.shown_state() == Some("acked")).count();
        }
        endpoints += estate.policies.iter().map(|p| p.endpoints.len()).sum::<usize>();
        cost_paged += usize::from(estate.cost_pages > 1);
        let prices = estate.expected_spot_prices();
        priced += prices.len();
        priced_unknown_on_demand += prices.values().filter(|p| p.2.is_none()).count();
        *verdicts.entry(estate.expected_status()).or_default() += 1;
    }
    eprintln!(
        "{} seeds: {regions} regions, {groups} groups ({zero} scaled to zero, {degraded} degraded, {paged} regions \
         paged), {alarms} alarms ({acked} acknowledged), {endpoints} DNS answers, {cost_paged} months in pages; verdicts {verdicts:?}",
        LIBRARY_SEEDS.end - LIBRARY_SEEDS.start
    );
    // The generator covered what it is for.
    assert!(
        regions >= 24
            && zero >= 10
            && degraded >= 3
            && paged >= 2
            && alarms >= 150
            && acked >= 5
            && endpoints >= 25
            && cost_paged >= 2
            && verdicts.len() >= 3
            && priced >= 20
            && priced_unknown_on_demand >= 3,
        "{regions} {zero} {degraded} {paged} {alarms} {acked} {endpoints} {cost_paged} {verdicts:?} {priced} {priced_unknown_on_demand}"
    );
}

/// `opsdeck snapshot --format json` against moto with `config`: (exit code, JSON).
async fn snapshot_of(config: String, seed: u64) -> (Option<i32>, Value) {
    let home = tempfile::tempdir().expect("tempdir");
    let path = home.path().join("opsdeck.toml");
    std::fs::write(&path, config).expect("config");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.arg("--config").arg(&path).args(["snapshot", "--format", "json"]);
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env_remove("AWS_PROFILE")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run opsdeck");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "seed {seed}: not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

fn exit_code(status: &str) -> i32 {
    match status {
        "OK" => 0,
        "WARNING" => 1,
        "CRITICAL" => 2,
        _ => 3,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_snapshot_equals_generated_estates() {
    let moto = Moto::start();
    for seed in BINARY_SEEDS {
        let estate = Estate::generate(seed);
        let planted = estate.plant(&moto).await;
        let (code, snap) = snapshot_of(estate.config_toml("gen", &planted, &moto.url()), seed).await;
        let ctx = format!("binary, seed {seed}");
        assert_eq!(source_states(&snap), fresh_sources(&estate, "gen"), "{ctx}: {:#}", snap["sources"]);
        assert_equals_truth(&estate, &planted, &snap, &ctx);
        assert_eq!(code, Some(exit_code(estate.expected_status())), "{ctx}: {}", snap["reasons"]);
    }
}

// ---- one unparseable alarm: a partial source --------------------------------

const REGION: &str = "us-east-1";
/// moto serves alarm texts raw: a control character makes DescribeAlarms
/// unparseable XML for the Rust SDK (boto3 reads it).
const UNPARSEABLE: &str = "threshold crossed \u{1} by a bad byte";

/// One region, healthy: a serving group, one scaled to zero, a P1 alarm firing and
/// a P2 one OK. Nothing critical, so an unreadable section decides the verdict.
fn quiet_estate() -> Estate {
    let group = |name: &str, launched: u32| GroupTruth {
        name: name.into(),
        zones: vec!["us-east-1a".into(), "us-east-1b".into()],
        min: 0,
        max: 6,
        launched,
        standby: 0,
        unhealthy: 0,
        tags: vec![],
        instance_type: "t3.micro",
    };
    let alarm = |name: &str, state| AlarmTruth {
        name: name.into(),
        state,
        severity_tag: None,
        ack: Ack::None,
        group: Some("pago-ñ-api".into()),
    };
    Estate {
        seed: 0,
        regions: vec![RegionTruth {
            name: REGION.into(),
            groups: vec![group("pago-ñ-api", 2), group("決済-worker", 0)],
            alarms: vec![alarm("P1-pago-ñ-errores", AlarmState::Alarm), alarm("決済-latency", AlarmState::Ok)],
        }],
        asg_tag: false,
        severity_tag: "Severity".into(),
        zones: vec!["example.com".into()],
        policies: vec![],
        filler_records: vec![],
        cost: vec![],
        cost_pages: 1,
        on_demand: Default::default(),
    }
}

/// Plant an alarm in ALARM whose reason the SDK cannot parse.
async fn plant_unparseable_alarm(sdk: &SdkConfig) {
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    cw.put_metric_alarm()
        .alarm_name("P0-unparseable")
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("alarm");
    cw.set_alarm_state()
        .alarm_name("P0-unparseable")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason(UNPARSEABLE)
        .send()
        .await
        .expect("state");
}

/// The next Fleet from the collector that satisfies `done`, asking for polls.
async fn wait_for(collector: &mut Collector, what: &str, done: impl Fn(&Fleet) -> bool) -> Arc<Fleet> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let fleet = collector.fleet.borrow_and_update().clone();
        if done(&fleet) {
            return fleet;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: not within 40 s; last {:?}", fleet.sources);
        collector.refresh_now();
        let _ = tokio::time::timeout(Duration::from_millis(300), collector.fleet.changed()).await;
    }
}

fn alert_view(fleet: &Fleet) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = fleet
        .alerts
        .iter()
        .map(|a| (a.id.clone(), a.severity.label().to_string(), a.state.label().to_string()))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_with_one_unparseable_alarm_keeps_its_groups_and_metrics_live() {
    let moto = Moto::start();
    let estate = quiet_estate();
    let planted = estate.plant(&moto).await;
    let sdk = library_sdk(&moto).await;
    let providers = aws::providers(
        "gen",
        &estate.config("gen", &planted),
        Duration::from_secs(30),
        SdkSource::Given(Box::new(sdk)),
    );
    // The region's source alone: the collector's own loop and merge, polled on demand.
    let region: Vec<SourceSchedule> = schedules(&providers).into_iter().take(1).collect();
    let id = region[0].provider.id().clone();
    assert_eq!(id.as_str(), "gen/us-east-1");
    let mut collector = Collector::spawn(region, Arc::new(SystemClock), false);

    // A good first read.
    let first = wait_for(&mut collector, "first read", |f| f.sources[0].last_ok.is_some()).await;
    assert!(first.sources[0].partial.is_empty(), "{:?}", first.sources[0].partial);
    let first_ok = first.sources[0].last_ok;
    let good_alerts = alert_view(&first);
    assert_eq!(good_alerts, vec![("P1-pago-ñ-errores".into(), "P1".into(), "firing".into())]);

    // Then: an alarm the SDK cannot parse; meanwhile the estate moves, so that a live
    // read and a carried one differ: a group scales out, the OK alarm fires.
    let seed_sdk = sdk_for(&moto.url(), REGION).await;
    plant_unparseable_alarm(&seed_sdk).await;
    let asg = aws_sdk_autoscaling::Client::new(&seed_sdk);
    asg.set_desired_capacity().auto_scaling_group_name("pago-ñ-api").desired_capacity(3).send().await.expect("scale");
    let cw = aws_sdk_cloudwatch::Client::new(&seed_sdk);
    cw.set_alarm_state()
        .alarm_name("決済-latency")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("p95 > 800 ms")
        .send()
        .await
        .expect("state");

    let partial = wait_for(&mut collector, "a partial read", |f| !f.sources[0].partial.is_empty()).await;
    let s = &partial.sources[0];
    // The source is live (not stale), with exactly its alerts section stale.
    assert_eq!(s.freshness, Freshness::Fresh, "{s:?}");
    assert!(s.last_ok > first_ok, "the partial poll counts as a read: {s:?}");
    let sections: Vec<Section> = s.partial.iter().map(|p| p.section).collect();
    // The routes come from the firing alarms: unread with them, and stale with them.
    assert_eq!(sections, vec![Section::Alerts, Section::Routes], "{:?}", s.partial);
    let p = &s.partial[0];
    assert!(p.reason.contains("DescribeAlarms"), "the reason names the call: {}", p.reason);
    assert!(!p.reason.chars().any(char::is_control), "one clean line: {:?}", p.reason);
    assert_eq!(p.last_ok, first_ok, "the alerts shown are from the first read");
    // Groups are this poll's: the scale-out shows.
    let g = partial.groups.iter().find(|g| g.name == "pago-ñ-api").expect("group");
    assert_eq!((g.desired, g.in_service(), g.healthy()), (3, 3, 3));
    assert_eq!(partial.groups.len(), 2, "{:?}", partial.groups);
    // Metrics are read (the front door of the region's groups).
    assert!(partial.metrics.iter().any(|(src, _)| *src == id), "metrics of {id}: {:?}", partial.metrics);
    // Alerts are the last good read: neither the new P0 nor the newly firing alarm.
    assert_eq!(alert_view(&partial), good_alerts);

    let snap = opsdeck::snapshot::to_json(&partial, Utc::now());
    assert_eq!(snap["sources"][0]["state"], "partial");
    assert_eq!(snap["sources"][0]["stale_sections"][0]["section"], "alerts");
    assert_eq!(snap["status"], "UNKNOWN", "{}", snap["reasons"]);
    assert!(
        snap["reasons"].as_array().expect("reasons").iter().any(|r| r.as_str().is_some_and(|r| r
            .starts_with("source gen/us-east-1 could not read its alerts: ")
            && r.contains("DescribeAlarms"))),
        "{}",
        snap["reasons"]
    );

    // When the alarm is fixed, the next read is whole again, and the alerts are live.
    cw.delete_alarms().alarm_names("P0-unparseable").send().await.expect("delete");
    let whole = wait_for(&mut collector, "a whole read", |f| f.sources[0].partial.is_empty()).await;
    assert_eq!(
        alert_view(&whole),
        vec![
            ("P1-pago-ñ-errores".into(), "P1".into(), "firing".into()),
            ("決済-latency".into(), "P2".into(), "firing".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_shows_a_partial_source_with_its_stale_section_and_exits_unknown() {
    let moto = Moto::start();
    let estate = quiet_estate();
    let planted = estate.plant(&moto).await;
    plant_unparseable_alarm(&sdk_for(&moto.url(), REGION).await).await;
    let (code, snap) = snapshot_of(estate.config_toml("gen", &planted, &moto.url()), 0).await;
    let ctx = format!("{snap:#}");
    assert_eq!(
        source_states(&snap),
        vec![("gen/us-east-1".to_string(), "partial".to_string()), ("gen/global".to_string(), "fresh".to_string())],
        "{ctx}"
    );
    let region = &snap["sources"][0];
    let stale = region["stale_sections"].as_array().expect("stale sections");
    assert_eq!(stale.len(), 2, "{ctx}");
    assert_eq!(stale[0]["section"], "alerts");
    // The routes come from the firing alarms: stale with them, for the same reason.
    assert_eq!(stale[1]["section"], "routes");
    assert_eq!(stale[1]["reason"], stale[0]["reason"], "{ctx}");
    assert!(stale[0]["reason"].as_str().is_some_and(|r| r.contains("DescribeAlarms")), "{ctx}");
    assert!(stale[0]["last_ok"].is_null(), "never read well in this run: {ctx}");
    // Groups are there, judged as usual (the scaled-to-zero one idle, not down).
    assert_eq!(aws_seeded::seen_groups(&snap), estate.expected_groups(&planted), "{ctx}");
    assert_eq!(aws_seeded::seen_alerts(&snap).len(), 0, "{ctx}");
    // Nothing critical could be read, and something could not be read at all: UNKNOWN.
    assert_eq!(snap["status"], "UNKNOWN", "{ctx}");
    assert_eq!(code, Some(3), "{ctx}");
}

// ---- composite alarms ---------------------------------------------------------

/// DescribeAlarms in AWS's documented Query shape: one composite alarm firing (the
/// kind that pages, combining others) and one metric alarm OK.
const DESCRIBE_WITH_COMPOSITE: &str = r#"<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
<DescribeAlarmsResult>
<CompositeAlarms><member>
<AlarmName>P1-checkout-composite</AlarmName>
<AlarmArn>arn:aws:cloudwatch:us-east-1:123456789012:alarm:P1-checkout-composite</AlarmArn>
<AlarmRule>ALARM("pago-ñ-errores") OR ALARM("決済-latency")</AlarmRule>
<ActionsEnabled>true</ActionsEnabled>
<AlarmActions><member>arn:aws:sns:us-east-1:123456789012:oncall</member></AlarmActions>
<StateValue>ALARM</StateValue>
<StateReason>arn:aws:cloudwatch:us-east-1:123456789012:alarm:pago-ñ-errores transitioned to ALARM</StateReason>
<StateUpdatedTimestamp>2026-12-01T10:00:00.000Z</StateUpdatedTimestamp>
</member></CompositeAlarms>
<MetricAlarms><member>
<AlarmName>pago-ñ-errores</AlarmName>
<AlarmArn>arn:aws:cloudwatch:us-east-1:123456789012:alarm:pago-ñ-errores</AlarmArn>
<StateValue>OK</StateValue>
<Namespace>AWS/EC2</Namespace><MetricName>CPUUtilization</MetricName>
<Dimensions/><AlarmActions/>
</member></MetricAlarms>
</DescribeAlarmsResult>
<ResponseMetadata><RequestId>2b1e0b8c-composite</RequestId></ResponseMetadata>
</DescribeAlarmsResponse>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_composite_alarm_is_an_alert() {
    // moto 5.2.5 serves no composite alarms (PutCompositeAlarm is HTTP 500, and its
    // PutMetricAlarm drops AlarmRule): a front answers DescribeAlarms in AWS's shape
    // and forwards the rest (the alarm's tags) to moto, where an alarm of the same
    // ARN carries them.
    let moto = Moto::start();
    let sdk = sdk_for(&moto.url(), REGION).await;
    aws_sdk_cloudwatch::Client::new(&sdk)
        .put_metric_alarm()
        .alarm_name("P1-checkout-composite")
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .tags(aws_sdk_cloudwatch::types::Tag::builder().key("Severity").value("P0").build())
        .send()
        .await
        .expect("alarm");
    aws_sdk_sns::Client::new(&sdk).create_topic().name("oncall").send().await.expect("topic");
    let front = support::faulty::Faulty::start(moto.port);
    front.set_wrong(DESCRIBE_WITH_COMPOSITE, "text/xml");
    front.only(Some("Action=DescribeAlarms"));
    front.set(support::faulty::Mode::Wrong);
    let providers = aws::providers(
        "gen",
        &opsdeck::providers::aws::AwsConfig::new("gen", vec![REGION.into()]),
        Duration::from_secs(30),
        SdkSource::Given(Box::new(sdk_for(&front.url(), REGION).await)),
    );
    let report = providers[0].poll(Utc::now()).await.expect("poll");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    // AWS returns composite alarms only when asked for them.
    assert_eq!(front.count_containing("AlarmTypes.member.2=CompositeAlarm"), 1);
    let alerts: Vec<(&str, &str, &str)> =
        report.alerts.iter().map(|a| (a.id.as_str(), a.severity.label(), a.state.label())).collect();
    assert_eq!(alerts, vec![("P1-checkout-composite", "P0", "firing")], "the tag outranks the name prefix");
    let a = &report.alerts[0];
    assert!(a.resource.starts_with("composite: ALARM(\"pago-ñ-errores\")"), "{}", a.resource);
    assert_eq!(a.route, "oncall");
    let routes: Vec<(&str, &[String])> =
        report.routes.iter().map(|r| (r.receiver.as_str(), r.alerts.as_slice())).collect();
    assert_eq!(routes, vec![("oncall", &["P1-checkout-composite".to_string()][..])]);
}
