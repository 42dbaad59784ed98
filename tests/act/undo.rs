//! `opsdeck undo`, the real binary, on a generated Route 53 estate in moto: after
//! a failover, undo plans the old weights back (a dry run that writes nothing),
//! refuses to run without the typed target like any failover, and with it puts
//! every answer's weight back as it was — also where a cloud has two answers —
//! read back with boto3. Only the caller's own actions are undone, and with
//! nothing to undo it says so and exits 3.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::aws_estate::{Estate, boto3_weights};

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

struct Run {
    code: Option<i32>,
    report: Value,
    stderr: String,
}

/// `opsdeck --config <home>/opsdeck.toml ARGS --json` as `user`, with its audit log in `home`.
async fn opsdeck(home: &Path, user: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(home.join("opsdeck.toml"))
        .args(args)
        .arg("--json")
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("HOME", home)
        .env("USER", user)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run opsdeck");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    Run { code: out.status.code(), report, stderr }
}

fn audit_outcomes(home: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(home.join("state/opsdeck/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("audit line is JSON"))
        .map(|r| (r["action"].as_str().unwrap_or("").to_string(), r["outcome"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// The planned "after" per answer of a report's weight changes.
fn planned(report: &Value) -> BTreeMap<String, u32> {
    report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["endpoint"].as_str().expect("endpoint").to_string(), c["after"].as_u64().expect("after") as u32))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_puts_back_every_answers_weight_after_a_failover() {
    let mut saw_two_aws_answers = false;
    for seed in [1u64, 7, 23] {
        let moto = support::moto::Moto::start();
        let estate = Estate::generate(seed);
        saw_two_aws_answers |= estate.answers.iter().filter(|a| a.cloud == "aws").count() > 1;
        let zone = estate.seed(&moto.url()).await;
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::write(home.path().join("opsdeck.toml"), estate.config_toml(&moto.url(), &zone, "aws-estate"))
            .expect("config");
        let ctx = format!("seed {seed}");

        let nothing = opsdeck(home.path(), "oncall", &["undo"]).await;
        assert_eq!(nothing.code, Some(3), "{ctx}: {}", nothing.stderr);
        assert!(nothing.stderr.contains("nothing to undo"), "{ctx}: {}", nothing.stderr);

        let before = boto3_weights(&moto.url(), &zone).await;
        let failover = opsdeck(
            home.path(),
            "oncall",
            &["failover", "azure", "aws", "--percent", "10", "--yes", "--confirm", "aws"],
        )
        .await;
        assert_eq!(failover.code, Some(0), "{ctx}: {}\n{}", failover.report, failover.stderr);
        let moved = boto3_weights(&moto.url(), &zone).await;
        assert_ne!(moved, before, "{ctx}: the failover moved weight");

        // Someone else on the same log has nothing of theirs to undo.
        let other = opsdeck(home.path(), "someone-else", &["undo"]).await;
        assert_eq!(other.code, Some(3), "{ctx}: {}", other.stderr);

        let dry = opsdeck(home.path(), "oncall", &["undo"]).await;
        assert_eq!((dry.code, dry.report["outcome"].as_str()), (Some(0), Some("dry_run")), "{ctx}: {}", dry.report);
        assert!(
            dry.report["undoes"]["action"].as_str().is_some_and(|a| a.starts_with("failover azure -> aws")),
            "{ctx}: {}",
            dry.report
        );
        let restored: BTreeMap<String, u32> =
            before.iter().filter(|(id, w)| moved.get(*id) != Some(*w)).map(|(id, w)| (id.clone(), *w)).collect();
        assert_eq!(planned(&dry.report), restored, "{ctx}: the plan is the old weight of each moved answer");
        assert_eq!(boto3_weights(&moto.url(), &zone).await, moved, "{ctx}: a dry run writes nothing");

        let target = dry.report["target"].as_str().expect("target").to_string();
        let unconfirmed = opsdeck(home.path(), "oncall", &["undo", "--yes"]).await;
        assert_eq!(unconfirmed.code, Some(3), "{ctx}: {}", unconfirmed.report);
        assert!(
            unconfirmed.report["reason"].as_str().is_some_and(|r| r.contains("--confirm")),
            "{ctx}: {}",
            unconfirmed.report
        );
        assert_eq!(boto3_weights(&moto.url(), &zone).await, moved, "{ctx}: refused, nothing written");

        let undone = opsdeck(home.path(), "oncall", &["undo", "--yes", "--confirm", &target]).await;
        assert_eq!(
            (undone.code, undone.report["outcome"].as_str()),
            (Some(0), Some("executed")),
            "{ctx}: {}\n{}",
            undone.report,
            undone.stderr
        );
        assert_eq!(boto3_weights(&moto.url(), &zone).await, before, "{ctx}: every answer as before the failover");

        let outcomes = audit_outcomes(home.path());
        let kinds: Vec<&str> = outcomes.iter().map(|(_, o)| o.as_str()).collect();
        assert_eq!(kinds, ["executed", "refused", "executed"], "{ctx}: {outcomes:?}");
        assert!(outcomes[2].0.starts_with("set weights"), "{ctx}: {outcomes:?}");
    }
    assert!(saw_two_aws_answers, "some seed must give a cloud two answers, the case a per-cloud undo got wrong");
}
