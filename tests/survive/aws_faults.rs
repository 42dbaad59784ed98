//! The AWS provider when the API misbehaves (a local misbehaving front for moto):
//! refused, hung, 500, throttled, malformed. Each marks the source stale with a
//! reason; it recovers by itself when the fault ends. And metric reads are batched.

use crate::support;

use std::time::Duration;

use chrono::Utc;
use opsdeck::collector::{SourceSchedule, collect_once};
use opsdeck::model::Freshness;
use opsdeck::providers::aws::AwsConfig;
use opsdeck::providers::aws::metrics::{Query, latest};
use opsdeck::providers::aws::{self, SdkSource};
use support::faulty::{Faulty, Mode};
use support::moto::{Moto, sdk_for};

fn config() -> AwsConfig {
    AwsConfig::new("test", vec!["us-east-1".into()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_read_500_to_a_call() {
    let moto = Moto::start();
    let front = Faulty::start(moto.port);
    let sdk = sdk_for(&front.url(), "us-east-1").await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let queries: Vec<Query> = (0..1200)
        .map(|i| Query {
            id: format!("m{i}"),
            namespace: "AWS/EC2".into(),
            metric: "CPUUtilization".into(),
            dimensions: vec![("AutoScalingGroupName".into(), format!("group-{i}"))],
            stat: "Average".into(),
        })
        .collect();
    latest(&cw, &queries, Utc::now()).await.expect("metric data");
    assert_eq!(front.count("GetMetricData"), 3, "1,200 metrics in 3 calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_marks_the_source_stale_with_a_reason_and_it_recovers() {
    let moto = Moto::start();
    let front = Faulty::start(moto.port);
    let sdk = sdk_for(&front.url(), "us-east-1").await;
    let providers = aws::providers("aws-test", &config(), Duration::from_secs(8), SdkSource::Given(Box::new(sdk)));
    let region: Vec<SourceSchedule> = providers
        .into_iter()
        .take(1)
        .map(|provider| SourceSchedule { provider, interval: Duration::from_secs(5), timeout: Duration::from_secs(10) })
        .collect();
    let reason_for = |mode| {
        let region = region.clone();
        let front = front.clone();
        async move {
            front.set(mode);
            let fleet = collect_once(&region, Utc::now(), false).await;
            match &fleet.sources[0].freshness {
                Freshness::Stale { reason } => reason.clone(),
                other => format!("not stale: {other:?}"),
            }
        }
    };
    assert_eq!(reason_for(Mode::Forward).await, "not stale: Fresh");
    let cases = [
        (Mode::Refuse, "unreachable"),
        (Mode::Hang, "timed out"),
        (Mode::Status500, "HTTP 500"),
        (Mode::Throttle, "throttled"),
        (Mode::Malformed, "bad response"),
    ];
    for (mode, expected) in cases {
        let reason = reason_for(mode).await;
        assert!(reason.contains(expected), "{mode:?}: {reason}");
        assert!(!reason.contains('\n'), "one line: {reason}");
    }
    assert_eq!(reason_for(Mode::Forward).await, "not stale: Fresh", "recovers when the fault ends");
}

#[test]
fn doctor_says_which_source_fails_and_why() {
    let home = tempfile::tempdir().expect("tempdir");
    let closed = support::moto::free_port();
    let cfg = home.path().join("aws.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[sources]]\nname = \"closed\"\nkind = \"aws\"\ntimeout_secs = 5\n[sources.aws]\naccount = \"x\"\nregions = [\"us-east-1\"]\nendpoint_url = \"http://127.0.0.1:{closed}\"\n"
        ),
    )
    .expect("config");
    let (code, text) = doctor(&cfg, home.path());
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("credentials  closed: aws account x: cloud chain: environment"), "{text}");
    assert!(text.contains("✗ closed/us-east-1 (aws) autoscaling:DescribeAutoScalingGroups: unreachable"), "{text}");

    // The same against a real moto: reachable and permitted.
    let moto = Moto::start();
    std::fs::write(&cfg, format!(
        "[[sources]]\nname = \"moto\"\nkind = \"aws\"\ntimeout_secs = 20\n[sources.aws]\naccount = \"x\"\nregions = [\"us-east-1\"]\nendpoint_url = \"{}\"\n",
        moto.url()
    ))
    .expect("config");
    let (code, text) = doctor(&cfg, home.path());
    assert_eq!(code, Some(0), "{text}");
    for api in ["autoscaling:DescribeAutoScalingGroups", "cloudwatch:DescribeAlarms", "cloudwatch:ListMetrics"] {
        assert!(text.contains(&format!("✓ moto/us-east-1 (aws) {api}: permitted")), "{api}: {text}");
    }
    assert!(text.contains("ce:GetCostAndUsage: not probed"), "{text}");
}

/// Two failing accounts of three (one on a closed port, one behind a front
/// answering moto's own 500 page), each a region and a global source: doctor
/// counts the 2 failing sources and their 6 failing checks apart, and says each
/// failure in one sentence, with no SDK Debug dump and no kind said twice.
#[test]
fn doctor_counts_failing_sources_and_checks_apart_in_clean_sentences() {
    let home = tempfile::tempdir().expect("tempdir");
    let closed = support::moto::free_port();
    let moto = Moto::start();
    let front = Faulty::start(moto.port);
    front.set(Mode::Status500);
    let account = |name: &str, url: &str| {
        format!(
            "[[sources]]\nname = \"{name}\"\nkind = \"aws\"\ntimeout_secs = 20\n[sources.aws]\naccount = \"x\"\nregions = [\"us-east-1\"]\nendpoint_url = \"{url}\"\n"
        )
    };
    let cfg = home.path().join("aws.toml");
    let text = [
        account("closed", &format!("http://127.0.0.1:{closed}")),
        account("broken", &front.url()),
        account("moto", &moto.url()),
    ]
    .concat();
    std::fs::write(&cfg, text).expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", cfg.to_str().expect("utf-8"), "doctor"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("HOME", home.path())
        .output()
        .expect("doctor");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    // Six sources: a region and the global one per account; each region has three checks, each global one.
    assert!(stderr.contains("opsdeck: 2 of 6 sources failed: 6 of 12 checks failed"), "{stdout}{stderr}");
    for api in ["DescribeAutoScalingGroups", "DescribeAlarms", "ListMetrics"] {
        let refused = format!("unreachable: {api}: cannot connect: Connection refused");
        let crashed = format!(
            "bad response: {api}: HTTP 500 Internal Server Error: The server encountered an internal error and was \
             unable to complete your request. Either the server is overloaded or there is an error in the application."
        );
        assert!(
            stdout.lines().any(|l| l.starts_with("✗ closed/us-east-1 (aws) ") && l.ends_with(&refused)),
            "{api}: {stdout}"
        );
        assert!(
            stdout.lines().any(|l| l.starts_with("✗ broken/us-east-1 (aws) ") && l.ends_with(&crashed)),
            "{api}: {stdout}"
        );
    }
    assert_eq!(stdout.lines().filter(|l| l.starts_with('✗')).count(), 6, "{stdout}");
    for bad in [
        "ServiceError(",
        "Unhandled(",
        "DispatchFailure",
        "os error",
        "<html",
        "unreachable: unreachable",
        "bad response: bad response",
    ] {
        assert!(!stdout.contains(bad) && !stderr.contains(bad), "{bad:?}: {stdout}{stderr}");
    }

    // All passing: the tally says so and the exit code is 0.
    std::fs::write(&cfg, account("moto", &moto.url())).expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", cfg.to_str().expect("utf-8"), "doctor"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("HOME", home.path())
        .output()
        .expect("doctor");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.ends_with("all 4 checks passed on 2 sources\n"), "{stdout}");
}

/// `opsdeck doctor` with test credentials: exit code and what it printed.
fn doctor(cfg: &std::path::Path, home: &std::path::Path) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", cfg.to_str().expect("utf-8"), "doctor"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("HOME", home)
        .output()
        .expect("doctor");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}
