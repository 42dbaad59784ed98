//! `opsdeck failover|drain|scale|ack` as a runbook script meets them: dry run by
//! default, --yes (and --confirm for a failover) to execute, JSON, exit codes,
//! and an audit line for every attempt.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

fn opsdeck(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("USER", "runbook")
        .output()
        .expect("run opsdeck")
}

fn audit_lines(home: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(home.join("state/opsdeck/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect()
}

#[test]
fn dry_run_prints_plan_and_guardrails_and_changes_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = opsdeck(home.path(), &["failover", "aws", "azure", "--percent", "10", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["schema"], 2);
    assert_eq!(report["outcome"], "dry_run");
    assert_eq!(report["target"], "azure");
    assert_eq!(report["changes"].as_array().map(Vec::len), Some(2));
    assert!(report["guards"].as_array().is_some_and(|g| g.iter().all(|g| g["state"] == "passed")));
    assert!(audit_lines(home.path()).is_empty(), "a dry run is not an attempt");
}

#[test]
fn a_failover_runs_only_with_yes_and_the_typed_target() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = opsdeck(home.path(), &["failover", "aws", "azure", "--percent", "10", "--yes"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("needs --confirm azure"));

    let out =
        opsdeck(home.path(), &["failover", "aws", "azure", "--percent", "10", "--yes", "--confirm", "azure", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["outcome"], "executed");
    assert!(report["request_id"].as_str().is_some_and(|id| id.starts_with("demo-")));
    assert!(report["confirmed_after_secs"].is_number());

    let audit = audit_lines(home.path());
    let outcomes: Vec<&str> = audit.iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, vec!["refused", "executed"]);
    assert_eq!(audit[1]["actor"]["user"], "runbook");
}

#[test]
fn refusals_have_their_own_exit_code_and_reasons() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = opsdeck(home.path(), &["scale", "aws/web-asg", "50", "--yes"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("outside min 2 / max 10"));

    let out = opsdeck(home.path(), &["--read-only", "ack", "demo:standing:0", "seen", "--yes"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("read-only"));

    let out = opsdeck(home.path(), &["scale", "aws/no-such-group", "3"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no scaling group aws/no-such-group"));

    let out = opsdeck(home.path(), &["failover", "aws", "gcp"]);
    assert_eq!(out.status.code(), Some(2), "usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown cloud 'gcp'"));
}

#[test]
fn forcing_past_a_guardrail_is_audited_with_its_reason() {
    let home = tempfile::tempdir().expect("tempdir");
    // An estate whose Alibaba group can never take most of the traffic.
    let estate = home.path().join("small-aliyun.toml");
    let text = include_str!("../../assets/demo-estate.toml").replace(
        "min = 2, max = 8, instance_type = \"ecs.g7.large\"",
        "min = 1, max = 2, instance_type = \"ecs.g7.large\"",
    );
    std::fs::write(&estate, text).expect("write estate");
    let estate = estate.to_str().expect("utf-8 path");
    let base = ["--demo", estate, "failover", "aws", "aliyun", "--yes", "--confirm", "aliyun"];

    let out = opsdeck(home.path(), &base);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL target capacity"));

    let mut forced = base.to_vec();
    forced.extend(["--force", "bridge call decided: AWS region is gone"]);
    let out = opsdeck(home.path(), &forced);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    let audit = audit_lines(home.path());
    let outcomes: Vec<&str> = audit.iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, vec!["refused", "executed"]);
    assert_eq!(audit[1]["forced"], "bridge call decided: AWS region is gone");
    assert_eq!(audit[0]["forced"], serde_json::Value::Null);
}

#[test]
fn snapshot_follows_the_monitoring_plugin_convention() {
    let home = tempfile::tempdir().expect("tempdir");
    // The quiet demo has a standing P2: WARNING.
    let out = opsdeck(home.path(), &["snapshot"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("opsdeck WARNING"), "{text}");
    assert!(text.contains("AWS") && text.contains("web-asg") && text.contains("shop.example.com"));

    let out = opsdeck(home.path(), &["snapshot", "--format", "json", "--source", "demo"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["status"], "WARNING");
    assert_eq!(v["clouds"].as_array().map(Vec::len), Some(3));

    let out = opsdeck(home.path(), &["snapshot", "--source", "nope"]);
    assert_eq!(out.status.code(), Some(3), "unknown source is UNKNOWN");
    let out = opsdeck(home.path(), &["snapshot", "--config", "/nonexistent.toml"]);
    assert_eq!(out.status.code(), Some(3), "unreadable config is UNKNOWN");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("opsdeck UNKNOWN"));
}

#[test]
fn snapshot_exit_code_moves_from_ok_to_critical_under_a_drill() {
    let home = tempfile::tempdir().expect("tempdir");
    // The demo estate without its standing alerts is quiet: OK.
    let text = include_str!("../../assets/demo-estate.toml");
    let quiet = text.split("[[standing_alerts]]").next().expect("estate");
    let estate = home.path().join("quiet.toml");
    std::fs::write(&estate, quiet).expect("write");
    let estate = estate.to_str().expect("utf-8");
    let out = opsdeck(home.path(), &["--demo", estate, "snapshot"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("opsdeck OK"));

    let out =
        opsdeck(home.path(), &["--demo", estate, "snapshot", "--drill", "db-primary-down aws", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["status"], "CRITICAL");
    assert!(v["reasons"].as_array().is_some_and(|r| r.iter().any(|r| r.as_str().is_some_and(|s| s.contains("RPO")))));
}
