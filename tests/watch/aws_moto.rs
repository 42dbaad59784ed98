//! The AWS provider against a real AWS emulator (moto): what a seeded account
//! looks like in the Fleet, and that actions change exactly what was planned, as
//! seen by a second, independent client.

use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_autoscaling::types::Tag as AsgTag;
use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricDatum, StandardUnit, StateValue, Statistic, Tag};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HealthCheckConfig, HealthCheckType, ResourceRecord, ResourceRecordSet, RrType,
};
use chrono::Utc;
use opsdeck::actions::{self, Actor, Executor, GuardContext, Intent};
use opsdeck::collector::{SourceSchedule, collect_once};
use opsdeck::model::{AlertState, CloudKind, Fleet, Health, Severity};
use opsdeck::providers::Provider;
use opsdeck::providers::aws::{self, SdkSource};
use opsdeck::providers::aws::{AwsConfig, AwsRecordConfig};
use support::moto::Moto;

const REGION: &str = "us-east-1";
const AMI: &str = "ami-12c6146b";

struct Seeded {
    zone: String,
}

async fn seed(sdk: &SdkConfig, moto: &Moto) -> Seeded {
    let asg = aws_sdk_autoscaling::Client::new(sdk);
    asg.create_launch_configuration()
        .launch_configuration_name("web-lc")
        .image_id(AMI)
        .instance_type("t3.micro")
        .send()
        .await
        .expect("launch configuration");
    for (name, desired, env) in [("web-asg", 4, "Prod"), ("batch-asg", 1, "Dev")] {
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .launch_configuration_name("web-lc")
            .min_size(1)
            .max_size(10)
            .desired_capacity(desired)
            .availability_zones("us-east-1a")
            .availability_zones("us-east-1b")
            .tags(AsgTag::builder().key("Env").value(env).resource_id(name).resource_type("auto-scaling-group").build())
            .send()
            .await
            .expect("group");
    }

    // The topic the alarms page through, with an on-call phone and mailbox.
    let sns = aws_sdk_sns::Client::new(sdk);
    let topic = sns.create_topic().name("shop-oncall").send().await.expect("topic");
    let topic = topic.topic_arn().expect("topic arn");
    for (protocol, endpoint) in [("sms", "+15550100100"), ("email", "oncall@example.com")] {
        sns.subscribe().topic_arn(topic).protocol(protocol).endpoint(endpoint).send().await.expect("subscribe");
    }

    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let alarm = |name: &str| {
        cw.put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(80.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .dimensions(Dimension::builder().name("AutoScalingGroupName").value("web-asg").build())
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:shop-oncall")
    };
    alarm("P1-web-cpu-high").send().await.expect("alarm");
    alarm("checkout-errors").tags(Tag::builder().key("Severity").value("P0").build()).send().await.expect("alarm");
    alarm("disk-space").send().await.expect("alarm");
    alarm("evil\u{202e}gnp.exe").send().await.expect("alarm");
    for name in ["P1-web-cpu-high", "checkout-errors", "disk-space", "evil\u{202e}gnp.exe"] {
        let state = if name == "disk-space" { StateValue::Ok } else { StateValue::Alarm };
        cw.set_alarm_state()
            .alarm_name(name)
            .state_value(state)
            .state_reason("Threshold Crossed")
            .send()
            .await
            .expect("state");
    }
    cw.put_metric_data()
        .namespace("AWS/EC2")
        .metric_data(
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(Dimension::builder().name("AutoScalingGroupName").value("web-asg").build())
                .value(42.0)
                .unit(StandardUnit::Percent)
                .timestamp(AwsTime::from_secs(Utc::now().timestamp() - 90))
                .build(),
        )
        .send()
        .await
        .expect("metric");
    for (metric, cluster, secs) in
        [("ReplicationLag", "shop-cache-001", 0.4), ("GlobalDatastoreReplicationLag", "ldgnf-shop-cache-001", 2.5)]
    {
        cw.put_metric_data()
            .namespace("AWS/ElastiCache")
            .metric_data(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name("CacheClusterId").value(cluster).build())
                    .value(secs)
                    .unit(StandardUnit::Seconds)
                    .timestamp(AwsTime::from_secs(Utc::now().timestamp() - 90))
                    .build(),
            )
            .send()
            .await
            .expect("metric");
    }
    cw.put_metric_data()
        .namespace("AWS/RDS")
        .metric_data(
            MetricDatum::builder()
                .metric_name("AuroraGlobalDBReplicationLag")
                .dimensions(Dimension::builder().name("DBClusterIdentifier").value("shop-global").build())
                .value(1200.0)
                .unit(StandardUnit::Milliseconds)
                .timestamp(AwsTime::from_secs(Utc::now().timestamp() - 90))
                .build(),
        )
        .send()
        .await
        .expect("metric");

    let r53 = aws_sdk_route53::Client::new(sdk);
    let zone = r53
        .create_hosted_zone()
        .name("example.com")
        .caller_reference("opsdeck-test-zone")
        .send()
        .await
        .expect("zone")
        .hosted_zone()
        .map(|z| z.id().to_string())
        .expect("zone id");
    let check = r53
        .create_health_check()
        .caller_reference("opsdeck-test-check")
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::Https)
                .fully_qualified_domain_name("shop-use1.elb.amazonaws.com")
                .port(443)
                .resource_path("/healthz")
                .build()
                .expect("check config"),
        )
        .send()
        .await
        .expect("health check")
        .health_check()
        .map(|h| h.id().to_string())
        .expect("check id");
    let record = |name: &str, set: Option<(&str, i64)>, value: &str, check: Option<&str>| {
        let mut b = ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Cname)
            .ttl(60)
            .resource_records(ResourceRecord::builder().value(value).build().expect("rr"));
        if let Some((id, w)) = set {
            b = b.set_identifier(id).weight(w);
        }
        if let Some(c) = check {
            b = b.health_check_id(c);
        }
        Change::builder()
            .action(ChangeAction::Create)
            .resource_record_set(b.build().expect("rrs"))
            .build()
            .expect("change")
    };
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(record(
                    "shop.example.com",
                    Some(("aws-use1", 70)),
                    "shop-use1.elb.amazonaws.com",
                    Some(&check),
                ))
                .changes(record("shop.example.com", Some(("azure-weu", 30)), "shop-weu.trafficmanager.net", None))
                .changes(record("other.example.com", None, "elsewhere.example.net", None))
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("records");

    moto.post_json(
        "/moto-api/static/ce/cost-and-usage-results",
        r#"{"results":[{"ResultsByTime":[{"TimePeriod":{"Start":"2026-11-01","End":"2026-11-26"},"Total":{},"Estimated":false,
            "Groups":[{"Keys":["Amazon Elastic Compute Cloud - Compute"],"Metrics":{"UnblendedCost":{"Amount":"1234.50","Unit":"USD"}}},
                      {"Keys":["Amazon Route 53"],"Metrics":{"UnblendedCost":{"Amount":"12.25","Unit":"USD"}}}]}]}]}"#,
    );
    Seeded { zone }
}

fn config(zone: &str) -> AwsConfig {
    AwsConfig {
        asg_tag: Some("Env=Prod".into()),
        records: vec![AwsRecordConfig {
            zone_id: zone.into(),
            name: "shop.example.com".into(),
            clouds: BTreeMap::new(),
        }],
        aurora_clusters: BTreeMap::from([(REGION.to_string(), vec!["shop-global".to_string()])]),
        elasticache_clusters: BTreeMap::from([(REGION.to_string(), vec!["shop-cache-001".to_string()])]),
        // The second one has no datapoint: not shown, never a lag of 0.
        elasticache_global_datastores: BTreeMap::from([(
            REGION.to_string(),
            vec!["ldgnf-shop-cache-001".to_string(), "ldgnf-quiet-001".to_string()],
        )]),
        ..AwsConfig::new("test", vec![REGION.into()])
    }
}

fn schedules(providers: &[Arc<dyn Provider>]) -> Vec<SourceSchedule> {
    providers
        .iter()
        .map(|p| SourceSchedule {
            provider: p.clone(),
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(20),
        })
        .collect()
}

async fn read(sources: &[SourceSchedule]) -> Fleet {
    collect_once(sources, Utc::now(), false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_account_reaches_the_fleet() {
    let moto = Moto::start();
    let sdk = moto.sdk(REGION).await;
    let seeded = seed(&sdk, &moto).await;
    let providers =
        aws::providers("aws-test", &config(&seeded.zone), Duration::from_secs(20), SdkSource::Given(Box::new(sdk)));
    let ids: Vec<String> = providers.iter().map(|p| p.id().to_string()).collect();
    assert_eq!(ids, vec!["aws-test/us-east-1", "aws-test/global"]);
    let fleet = read(&schedules(&providers)).await;
    for s in &fleet.sources {
        assert!(s.last_ok.is_some(), "{} failed: {:?}", s.id, s.freshness);
    }

    // What the polls cost: every request counted, one billed metric (the group's CPU).
    let region = fleet.sources.iter().find(|s| s.id.as_str() == "aws-test/us-east-1").expect("region");
    let cost = region.poll_cost.as_ref().expect("poll cost");
    // DescribeAutoScalingGroups, DescribeAlarms, 3 ListTagsForResource (firing alarms), GetMetricData,
    // ListSubscriptionsByTopic (the one topic they page through, once), DescribeSpotPriceHistory
    // (the group's type, hourly: this is the first poll); billed: the group's CPU, the Aurora lag,
    // the ElastiCache lag and the two Global Datastore secondaries.
    assert_eq!((cost.api_calls, cost.billed_metrics), (8, 5), "{cost:?}");
    assert_eq!(cost.slow_calls, Some((1, 3600)), "the hourly price read, named in the Logs pane");
    let global = fleet.sources.iter().find(|s| s.id.as_str() == "aws-test/global").expect("global");
    assert!(
        global.poll_cost.as_ref().is_some_and(|c| c.fixed_monthly_usd > 14.0),
        "hourly Cost Explorer ≈ $14.40/month"
    );
    // ListResourceRecordSets, GetHealthCheckStatus, GetCostAndUsage and GetCostForecast,
    // each once: moto answers the optional forecast 5xx, and it is not retried.
    assert_eq!(global.poll_cost.as_ref().map(|c| c.api_calls), Some(4), "{:?}", global.poll_cost);

    // Groups: only the tagged one, with its zones and instances.
    assert_eq!(fleet.groups.len(), 1, "{:?}", fleet.groups);
    let g = &fleet.groups[0];
    assert_eq!((g.name.as_str(), g.min, g.max, g.desired), ("web-asg", 1, 10, 4));
    assert_eq!(g.in_service(), 4);
    assert_eq!(g.healthy(), 4);
    assert_eq!(g.zones.iter().map(|z| z.zone.as_str()).collect::<Vec<_>>(), vec!["us-east-1a", "us-east-1b"]);

    // Alarms in ALARM become alerts, with severity from the tag or the name prefix.
    let sev = |id: &str| fleet.alerts.iter().find(|a| a.id == id).map(|a| a.severity);
    assert_eq!(sev("checkout-errors"), Some(Severity::P0));
    assert_eq!(sev("P1-web-cpu-high"), Some(Severity::P1));
    assert_eq!(sev("evil\u{202e}gnp.exe"), Some(Severity::P2), "default P2; the UI sanitises the bidi override");
    assert_eq!(sev("disk-space"), None, "OK alarms are not alerts");
    let a = fleet.alerts.iter().find(|a| a.id == "checkout-errors").expect("alert");
    assert_eq!(a.route, "shop-oncall", "the alert names the topic it paged through");
    // The topic's route: the three firing alarms (not the OK one), its subscriptions masked.
    assert_eq!(fleet.routes.len(), 1, "{:?}", fleet.routes);
    let r = &fleet.routes[0];
    assert_eq!((r.receiver.as_str(), r.cloud, r.severity), ("shop-oncall", Some(CloudKind::Aws), None));
    assert_eq!(r.alerts, vec!["P1-web-cpu-high", "checkout-errors", "evil\u{202e}gnp.exe"]);
    let channels: Vec<String> = r.channels.iter().map(|c| c.label()).collect();
    assert_eq!(channels, vec!["email:o…@example.com", "sms:+1555…0100"]);
    assert!(fleet.alerts.iter().all(|a| r.pages(a)), "every firing alarm paged through it");
    assert_eq!(a.resource, "AutoScalingGroupName=web-asg");

    // CPU from GetMetricData.
    let m = fleet.metrics.iter().map(|(_, m)| m).find(|m| m.cloud == CloudKind::Aws).expect("metrics");
    assert!(m.cpu.is_some_and(|c| (c - 0.42).abs() < 1e-9), "cpu {:?}", m.cpu);
    // No load balancer configured for the region: its request figures are unknown,
    // not 0 req/s and 0 ms, and the overview says so.
    assert_eq!((m.rps, m.p95_ms, m.error_rate), (None, None, None), "{m:?}");
    let s = fleet.summary(CloudKind::Aws, Utc::now());
    assert_eq!((s.rps, s.p95_ms, s.error_rate), (None, None, None), "{s:?}");

    // Aurora global database lag, milliseconds → seconds, against the RPO.
    let lag = fleet.replication.iter().find(|r| r.name.starts_with("shop-global")).expect("aurora lag");
    assert_eq!((lag.value, lag.target), (1.2, 30.0));
    // ElastiCache: the in-region replica and the Global Datastore secondary, in seconds.
    let caches: Vec<(&str, f64, f64)> = fleet
        .replication
        .iter()
        .filter(|r| r.kind == opsdeck::model::ReplicationKind::Cache)
        .map(|r| (r.name.as_str(), r.value, r.target))
        .collect();
    assert_eq!(
        caches,
        [("shop-cache-001 (us-east-1)", 0.4, 2.0), ("ldgnf-shop-cache-001 global datastore (us-east-1)", 2.5, 2.0)]
    );

    // Route 53: the weighted record as a policy, clouds from the targets, health from the check.
    let p = &fleet.policies[0];
    assert_eq!(p.name, "shop.example.com");
    let weights: Vec<(&str, CloudKind, u32)> =
        p.endpoints.iter().map(|e| (e.name.as_str(), e.cloud, e.weight)).collect();
    assert_eq!(weights, vec![("aws-use1", CloudKind::Aws, 70), ("azure-weu", CloudKind::Azure, 30)]);
    assert_eq!(p.endpoints[0].health, Health::Ok);
    assert!((fleet.traffic_share(CloudKind::Azure) - 0.3).abs() < 1e-9);

    // Cost Explorer month to date by service.
    let (_, c) = &fleet.costs[0];
    assert_eq!(c.currency, "USD");
    assert!((c.month_to_date - 1246.75).abs() < 1e-6, "{c:?}");
    assert_eq!(c.by_service[0].0, "Amazon Elastic Compute Cloud - Compute");
    // moto has no GetCostForecast: the run rate, unknown on the first day of a month.
    assert!(c.forecast.amount().is_none_or(|f| f >= c.month_to_date), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_balancer_without_a_latency_figure_has_a_rate_and_no_p95() {
    let moto = Moto::start();
    let sdk = moto.sdk(REGION).await;
    let seeded = seed(&sdk, &moto).await;
    const LB: &str = "app/shop/50dc6c495c0c9188";
    // One minute of the load balancer: 6,000 requests, 30 of them 5xx; no
    // TargetResponseTime datapoint (none published for the minute).
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    for (metric, value) in [("RequestCount", 6000.0), ("HTTPCode_Target_5XX_Count", 30.0)] {
        cw.put_metric_data()
            .namespace("AWS/ApplicationELB")
            .metric_data(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name("LoadBalancer").value(LB).build())
                    .value(value)
                    .unit(StandardUnit::Count)
                    .timestamp(AwsTime::from_secs(Utc::now().timestamp() - 90))
                    .build(),
            )
            .send()
            .await
            .expect("metric");
    }
    let mut cfg = config(&seeded.zone);
    cfg.load_balancers = BTreeMap::from([(REGION.to_string(), LB.to_string())]);
    let providers = aws::providers("aws-test", &cfg, Duration::from_secs(20), SdkSource::Given(Box::new(sdk)));
    let region = providers.iter().find(|p| p.id().as_str() == "aws-test/us-east-1").expect("region");
    let r = region.poll(Utc::now()).await.expect("poll");
    // Billed: the group's CPU, the three load balancer metrics, the Aurora lag and the three
    // ElastiCache figures.
    assert_eq!(r.poll_cost.as_ref().map(|c| c.billed_metrics), Some(8), "{:?}", r.poll_cost);
    assert_eq!(r.metrics.len(), 1, "{:?}", r.metrics);
    let m = &r.metrics[0];
    assert_eq!((m.rps, m.p95_ms, m.error_rate), (Some(100.0), None, Some(0.005)), "{m:?}");
    assert!(m.cpu.is_some_and(|c| (c - 0.42).abs() < 1e-9), "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_change_exactly_what_was_planned() {
    let moto = Moto::start();
    let sdk = moto.sdk(REGION).await;
    let seeded = seed(&sdk, &moto).await;
    let providers = aws::providers(
        "aws-test",
        &config(&seeded.zone),
        Duration::from_secs(20),
        SdkSource::Given(Box::new(sdk.clone())),
    );
    let sources = schedules(&providers);
    let executor = Executor::new(providers.clone());
    let actor = Actor { user: "oncall".into(), host: "bastion".into(), ssh_client: None };
    let fleet = read(&sources).await;

    // Failover: shift 20 points from AWS to Azure.
    let plan =
        actions::plan(&Intent::Shift { from: CloudKind::Aws, to: CloudKind::Azure, percent: Some(20.0) }, &fleet)
            .expect("plan");
    let guards = actions::guard::check(&plan, &fleet, &GuardContext { now: Utc::now(), in_flight: &[], require: &[] });
    // The Azure answer has no Route 53 health check: nothing says it is healthy.
    let healthy = guards.iter().find(|g| g.name == "target healthy").expect("target healthy");
    assert_eq!(healthy.state, opsdeck::actions::guard::GuardState::Unknown, "{guards:?}");
    assert!(actions::guard::all_passed(&guards), "unknown does not refuse: {guards:?}");
    let receipt = executor.execute(&plan, &actor, Utc::now()).await.expect("failover");
    assert!(!receipt.request_id.is_empty());

    // A second, independent client sees exactly the planned weights, and nothing else moved.
    let r53 = aws_sdk_route53::Client::new(&sdk);
    let sets = r53.list_resource_record_sets().hosted_zone_id(&seeded.zone).send().await.expect("list");
    let mut seen: Vec<(String, Option<String>, Option<i64>)> = sets
        .resource_record_sets()
        .iter()
        .filter(|rs| rs.r#type() == &RrType::Cname)
        .map(|rs| (rs.name().to_string(), rs.set_identifier().map(String::from), rs.weight()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("other.example.com.".into(), None, None),
            ("shop.example.com.".into(), Some("aws-use1".into()), Some(50)),
            ("shop.example.com.".into(), Some("azure-weu".into()), Some(50)),
        ]
    );
    let after = read(&sources).await;
    assert!(plan.is_reflected_in(&after), "a fresh read confirms the plan");

    // Scale.
    let plan = actions::plan(&Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired: 6 }, &after)
        .expect("plan");
    executor.execute(&plan, &actor, Utc::now()).await.expect("scale");
    let asg = aws_sdk_autoscaling::Client::new(&sdk);
    let g = asg.describe_auto_scaling_groups().auto_scaling_group_names("web-asg").send().await.expect("describe");
    assert_eq!(g.auto_scaling_groups()[0].desired_capacity(), Some(6));

    // Acknowledge a CloudWatch alarm: visible to another client, and to the next read.
    let plan = actions::plan(
        &Intent::Ack { alert_id: "checkout-errors".into(), comment: "rolling back".into(), minutes: Some(60) },
        &after,
    )
    .expect("plan");
    executor.execute(&plan, &actor, Utc::now()).await.expect("ack");
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let alarms = cw.describe_alarms().alarm_names("checkout-errors").send().await.expect("describe");
    let alarm = &alarms.metric_alarms()[0];
    assert_eq!(alarm.actions_enabled(), Some(false), "actions disabled while acknowledged");
    let tags = cw.list_tags_for_resource().resource_arn(alarm.alarm_arn().expect("arn")).send().await.expect("tags");
    let tag = |k: &str| tags.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value()).map(String::from);
    assert_eq!(tag("opsdeck:ack-by").as_deref(), Some("oncall@bastion"));
    assert_eq!(tag("opsdeck:ack-comment").as_deref(), Some("rolling back"));
    let fleet = read(&sources).await;
    let a = fleet.alerts.iter().find(|a| a.id == "checkout-errors").expect("alert");
    assert!(matches!(&a.state, AlertState::Acknowledged { by, .. } if by == "oncall@bastion"), "{:?}", a.state);
}
