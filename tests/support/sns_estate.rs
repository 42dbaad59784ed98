//! A seeded estate of where CloudWatch alarms page: per region, SNS topics with
//! subscriptions of every protocol SNS has, and alarms whose ALARM actions name
//! some of them. The TRUTH (which topics each firing alarm pages through, and
//! what each topic sends to, masked) and the calls that plant it in a real moto
//! server through the AWS SDK.
//!
//! What varies with the seed: one or two regions; 0–5 topics, each with 0–5
//! subscriptions (email, email-json, sms, https, http, sqs, lambda, application,
//! firehose), now and then one topic with more than one page of them (moto pages
//! at 100, and exactly 100 gives a last, empty page); alarms in ALARM, OK or
//! INSUFFICIENT_DATA with a severity from their name prefix; ALARM actions naming
//! 0–3 topics (several topics per alarm, topics shared between alarms), with or
//! without an action that is not a page (an Auto Scaling policy, an EC2 stop, a
//! Systems Manager OpsItem), and OK / INSUFFICIENT_DATA actions naming other topics
//! (not pages either); non-ASCII alarm names and mailboxes.
//!
//! The masked form of each endpoint is written down by the generator from how it
//! built the endpoint (the rule README states: a phone keeps its first 5 and last
//! 4 characters, a mailbox its first letter and domain, a URL its scheme and host,
//! an ARN its last part), not through opsdeck's code.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use serde_json::Value;

use crate::aws_seeded::Rng;
use crate::support::moto::{Moto, sdk_for};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-northeast-1"];
const ACCOUNT: &str = "123456789012";
const TOPIC_NAMES: [&str; 6] = ["oncall", "pager-p0", "equipo_pagos", "ops-escalation", "dba", "noc"];
const ALARM_NAMES: [&str; 5] = ["pago-ñ-errores", "決済-latency", "cpu-high", "disk full", "5xx rate"];
const PREFIXES: [(&str, &str); 6] =
    [("P0-", "P0"), ("P1-", "P1"), ("P2 ", "P2"), ("P3_", "P3"), ("", "P2"), ("", "P2")];
const PROTOCOLS: [&str; 9] =
    ["email", "email-json", "sms", "https", "http", "sqs", "lambda", "application", "firehose"];
const MAILBOXES: [(&str, &str); 4] =
    [("oncall", "example.com"), ("Zoë", "bücher.example"), ("pagos.equipo", "example.org"), ("sre", "example.com")];

#[derive(Debug, Clone)]
pub struct SubTruth {
    pub protocol: String,
    /// As subscribed; for `application`, moto's platform endpoint ARN (known once planted).
    pub endpoint: String,
    /// What opsdeck must show.
    pub masked: String,
}

#[derive(Debug, Clone)]
pub struct TopicTruth {
    pub name: String,
    pub subs: Vec<SubTruth>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Alarm,
    Ok,
    Insufficient,
}

#[derive(Debug, Clone)]
pub enum Action {
    Topic(usize),
    /// Not a page: acts on the estate.
    Other(String),
}

#[derive(Debug, Clone)]
pub struct AlarmTruth {
    pub name: String,
    pub severity: &'static str,
    pub state: State,
    pub actions: Vec<Action>,
    /// OK and INSUFFICIENT_DATA actions: topic indexes that must not count.
    pub other_state_topics: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct RegionTruth {
    pub name: String,
    pub topics: Vec<TopicTruth>,
    pub alarms: Vec<AlarmTruth>,
}

#[derive(Debug, Clone)]
pub struct Estate {
    pub regions: Vec<RegionTruth>,
}

/// One route as the snapshot JSON carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    pub cloud: String,
    pub severity: Option<String>,
    pub rule: String,
    pub alerts: Vec<String>,
    pub channels: Vec<(String, String)>,
}

impl Estate {
    pub fn generate(seed: u64) -> Estate {
        let mut r = Rng::new(seed ^ 0x5EED_0005);
        let n = r.range(1, 2) as usize;
        let first = r.below(REGIONS.len() as u64) as usize;
        let regions = (0..n)
            .map(|i| {
                // Every seventh seed, the first topic has more than a page of subscriptions;
                // every eleventh, exactly one page (moto then hands out a token to an empty page).
                let big = match (i, seed % 7, seed % 11) {
                    (0, 3, _) => Some(r.range(101, 130) as usize),
                    (0, _, 5) => Some(100),
                    _ => None,
                };
                Estate::region(&mut r, REGIONS[(first + i) % REGIONS.len()], big)
            })
            .collect();
        Estate { regions }
    }

    fn region(r: &mut Rng, name: &str, big: Option<usize>) -> RegionTruth {
        let n_topics = if big.is_some() { r.range(1, 5) } else { r.range(0, 5) } as usize;
        let topics: Vec<TopicTruth> = (0..n_topics)
            .map(|t| {
                let n_subs = match big {
                    Some(n) if t == 0 => n,
                    _ => r.range(0, 5) as usize,
                };
                let subs = (0..n_subs)
                    .map(|k| {
                        // A big topic is phones and mailboxes, as on-call rotas are.
                        let protocol = if n_subs > 5 { *r.pick(&["sms", "email"]) } else { *r.pick(&PROTOCOLS) };
                        subscription(r, name, protocol, t, k)
                    })
                    .collect();
                TopicTruth { name: format!("{}-{t}", r.pick(&TOPIC_NAMES)), subs }
            })
            .collect();
        let n_alarms = r.range(0, 8) as usize;
        let alarms = (0..n_alarms)
            .map(|i| {
                let (prefix, severity) = *r.pick(&PREFIXES);
                let state = match r.below(10) {
                    0..=5 => State::Alarm,
                    6..=7 => State::Ok,
                    _ => State::Insufficient,
                };
                let mut actions: Vec<Action> = Vec::new();
                if !topics.is_empty() {
                    for _ in 0..r.range(0, 3) {
                        let t = r.below(topics.len() as u64) as usize;
                        if !actions.iter().any(|a| matches!(a, Action::Topic(x) if *x == t)) {
                            actions.push(Action::Topic(t));
                        }
                    }
                }
                if r.chance(30) {
                    let other = match r.below(3) {
                        0 => format!(
                            "arn:aws:autoscaling:{name}:{ACCOUNT}:scalingPolicy:8a2c-{i}:autoScalingGroupName/web:policyName/up"
                        ),
                        1 => format!("arn:aws:automate:{name}:ec2:stop"),
                        _ => format!("arn:aws:ssm:{name}:{ACCOUNT}:opsitem:3#CATEGORY=Availability"),
                    };
                    let at = r.below(actions.len() as u64 + 1) as usize;
                    actions.insert(at, Action::Other(other));
                }
                let other_state_topics = if !topics.is_empty() && r.chance(30) {
                    vec![r.below(topics.len() as u64) as usize]
                } else {
                    vec![]
                };
                AlarmTruth {
                    name: format!("{prefix}{}-{i}", r.pick(&ALARM_NAMES)),
                    severity,
                    state,
                    actions,
                    other_state_topics,
                }
            })
            .collect();
        RegionTruth { name: name.to_string(), topics, alarms }
    }

    /// Reset moto and plant the estate. Application endpoints get their ARNs from moto.
    pub async fn plant(&mut self, moto: &Moto) {
        moto.post_json("/moto-api/reset", "{}");
        for region in &mut self.regions {
            let sdk = sdk_for(&moto.url(), &region.name).await;
            plant_region(&sdk, region).await;
        }
    }

    pub fn source(region: &str) -> String {
        format!("gen/{region}")
    }

    pub fn topic_arn(region: &str, name: &str) -> String {
        format!("arn:aws:sns:{region}:{ACCOUNT}:{name}")
    }

    /// (source, receiver) → route: one per topic that at least one firing alarm pages through.
    pub fn expected_routes(&self) -> BTreeMap<(String, String), RouteView> {
        let mut out = BTreeMap::new();
        for region in &self.regions {
            for (t, topic) in region.topics.iter().enumerate() {
                let users: Vec<&AlarmTruth> = region
                    .alarms
                    .iter()
                    .filter(|a| {
                        a.state == State::Alarm && a.actions.iter().any(|x| matches!(x, Action::Topic(y) if *y == t))
                    })
                    .collect();
                if users.is_empty() {
                    continue;
                }
                let mut alerts: Vec<String> = users.iter().map(|a| a.name.clone()).collect();
                alerts.sort();
                let severity =
                    users.iter().all(|a| a.severity == users[0].severity).then(|| users[0].severity.to_string());
                let mut channels: Vec<(String, String)> =
                    topic.subs.iter().map(|s| (s.protocol.clone(), s.masked.clone())).collect();
                channels.sort();
                out.insert(
                    (Estate::source(&region.name), topic.name.clone()),
                    RouteView {
                        cloud: "aws".into(),
                        severity,
                        rule: format!("alarms: {}", alerts.join(", ")),
                        alerts,
                        channels,
                    },
                );
            }
        }
        out
    }

    /// (source, alert id) → the alert's `route`: its topics' names in its actions' order.
    pub fn expected_alert_routes(&self) -> BTreeMap<(String, String), String> {
        let mut out = BTreeMap::new();
        for region in &self.regions {
            for a in region.alarms.iter().filter(|a| a.state == State::Alarm) {
                let names: Vec<&str> = a
                    .actions
                    .iter()
                    .filter_map(|x| match x {
                        Action::Topic(t) => Some(region.topics[*t].name.as_str()),
                        Action::Other(_) => None,
                    })
                    .collect();
                out.insert((Estate::source(&region.name), a.name.clone()), names.join(", "));
            }
        }
        out
    }

    /// ListSubscriptionsByTopic requests one poll of `region` makes: each topic a
    /// firing alarm pages through, one page per 100 subscriptions and a last one.
    pub fn expected_sns_calls(region: &RegionTruth) -> u32 {
        let mut used: Vec<usize> = region
            .alarms
            .iter()
            .filter(|a| a.state == State::Alarm)
            .flat_map(|a| a.actions.iter())
            .filter_map(|x| match x {
                Action::Topic(t) => Some(*t),
                Action::Other(_) => None,
            })
            .collect();
        used.sort();
        used.dedup();
        used.iter().map(|t| (region.topics[*t].subs.len() / 100) as u32 + 1).sum()
    }
}

/// One subscription of topic `t`: a unique endpoint of `protocol` and its masked form.
fn subscription(r: &mut Rng, region: &str, protocol: &str, t: usize, k: usize) -> SubTruth {
    let (endpoint, masked) = match protocol {
        "email" | "email-json" => {
            let (user, domain) = *r.pick(&MAILBOXES);
            let first: String = user.chars().take(1).collect();
            (format!("{user}{t}x{k}@{domain}"), format!("{first}…@{domain}"))
        }
        "sms" => {
            let number = format!("+1555{:07}", t * 1000 + k);
            (number.clone(), format!("{}…{}", &number[..5], &number[number.len() - 4..]))
        }
        "https" => (
            format!("https://hooks.example.com/services/T0{t}/B{k}/s3cr3t?channel=%23oncall"),
            "https://hooks.example.com/…".to_string(),
        ),
        "http" => (
            format!("http://alerts.internal.example:8080/hook/{t}/{k}?token=abc"),
            "http://alerts.internal.example:8080/…".to_string(),
        ),
        "sqs" => (format!("arn:aws:sqs:{region}:{ACCOUNT}:alerts-{t}-{k}"), format!("alerts-{t}-{k}")),
        "lambda" => (format!("arn:aws:lambda:{region}:{ACCOUNT}:function:pager-{t}-{k}"), format!("pager-{t}-{k}")),
        "firehose" => (
            format!("arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/alert-log-{t}-{k}"),
            format!("alert-log-{t}-{k}"),
        ),
        // The endpoint ARN is moto's: filled in when planted.
        _ => (String::new(), String::new()),
    };
    SubTruth { protocol: protocol.to_string(), endpoint, masked }
}

async fn plant_region(sdk: &aws_config::SdkConfig, region: &mut RegionTruth) {
    let sns = aws_sdk_sns::Client::new(sdk);
    let mut arns = Vec::new();
    let mut app: Option<String> = None;
    for (t, topic) in region.topics.iter_mut().enumerate() {
        let arn = sns.create_topic().name(&topic.name).send().await.expect("topic");
        let arn = arn.topic_arn().expect("topic arn").to_string();
        assert_eq!(arn, Estate::topic_arn(&region.name, &topic.name));
        for (k, s) in topic.subs.iter_mut().enumerate() {
            if s.protocol == "application" {
                let app_arn = match &app {
                    Some(a) => a.clone(),
                    None => {
                        let made = sns
                            .create_platform_application()
                            .name("opsdeck-pager")
                            .platform("GCM")
                            .attributes("PlatformCredential", "server-key")
                            .send()
                            .await
                            .expect("platform application");
                        let a = made.platform_application_arn().expect("application arn").to_string();
                        app = Some(a.clone());
                        a
                    }
                };
                let ep = sns
                    .create_platform_endpoint()
                    .platform_application_arn(app_arn)
                    .token(format!("device-token-{t}-{k}"))
                    .send()
                    .await
                    .expect("platform endpoint");
                s.endpoint = ep.endpoint_arn().expect("endpoint arn").to_string();
                // The ARN's last part: moto's endpoint id.
                s.masked = s.endpoint.rsplit('/').next().expect("id").to_string();
            }
            sns.subscribe()
                .topic_arn(&arn)
                .protocol(&s.protocol)
                .endpoint(&s.endpoint)
                .send()
                .await
                .unwrap_or_else(|e| panic!("subscribe {} {}: {e:?}", s.protocol, s.endpoint));
        }
        arns.push(arn);
    }
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    for a in &region.alarms {
        let actions: Vec<String> = a
            .actions
            .iter()
            .map(|x| match x {
                Action::Topic(t) => arns[*t].clone(),
                Action::Other(s) => s.clone(),
            })
            .collect();
        let others: Vec<String> = a.other_state_topics.iter().map(|t| arns[*t].clone()).collect();
        cw.put_metric_alarm()
            .alarm_name(&a.name)
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(80.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .set_alarm_actions((!actions.is_empty()).then_some(actions))
            .set_ok_actions((!others.is_empty()).then(|| others.clone()))
            .set_insufficient_data_actions((!others.is_empty()).then_some(others))
            .send()
            .await
            .unwrap_or_else(|e| panic!("alarm {}: {e:?}", a.name));
        let state = match a.state {
            State::Alarm => StateValue::Alarm,
            State::Insufficient => StateValue::InsufficientData,
            State::Ok => continue, // moto's initial state
        };
        cw.set_alarm_state()
            .alarm_name(&a.name)
            .state_value(state)
            .state_reason("Umbral superado · しきい値超過")
            .send()
            .await
            .expect("alarm state");
    }
}

// ---- reading opsdeck's snapshot JSON back -----------------------------------

/// The snapshot's AWS routes by (source, receiver).
pub fn seen_routes(snap: &Value) -> BTreeMap<(String, String), RouteView> {
    let s = |v: &Value| v.as_str().expect("text").to_string();
    let mut out = BTreeMap::new();
    for r in snap["routes"].as_array().expect("routes") {
        if r["cloud"] != "aws" {
            continue;
        }
        let view = RouteView {
            cloud: s(&r["cloud"]),
            severity: r["severity"].as_str().map(String::from),
            rule: s(&r["rule"]),
            alerts: r["alerts"].as_array().expect("alerts").iter().map(s).collect(),
            channels: r["channels"]
                .as_array()
                .expect("channels")
                .iter()
                .map(|c| (s(&c["kind"]), s(&c["target"])))
                .collect(),
        };
        let key = (s(&r["source"]), s(&r["receiver"]));
        assert!(out.insert(key.clone(), view).is_none(), "one route per receiver and source: {key:?}");
    }
    out
}

/// The snapshot's AWS alerts' `route` by (source, id).
pub fn seen_alert_routes(snap: &Value) -> BTreeMap<(String, String), String> {
    snap["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["cloud"] == "aws")
        .map(|a| {
            let s = |k: &str| a[k].as_str().expect(k).to_string();
            ((s("source"), s("id")), s("route"))
        })
        .collect()
}
