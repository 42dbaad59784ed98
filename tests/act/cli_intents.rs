//! What `opsdeck failover|drain|scale|ack|unack` read from their arguments: the
//! action each command line asks for, and the exact refusal (exit 2, nothing on
//! stdout, nothing audited) for arguments that name no action. The palette reads
//! the same words with the same checks, so the messages match it.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

fn opsdeck(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("USER", "runbook")
        .env_remove("OPSDECK_LOG_FILE")
        .env_remove("OPSDECK_LOG_LEVEL")
        .output()
        .expect("run opsdeck")
}

/// The dry-run report of a command line the demo can plan.
fn report(home: &Path, args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.push("--json");
    let out = opsdeck(home, &args);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[test]
fn each_command_line_becomes_the_action_it_names() {
    let home = tempfile::tempdir().expect("tempdir");
    let cases: &[(&[&str], &str)] = &[
        (&["failover", "aws", "azure"], "failover aws -> azure"),
        (&["failover", "azure", "aliyun", "--percent", "12.5"], "failover azure -> aliyun 12.5%"),
        (&["failover", "aws", "azure", "--percent", "100"], "failover aws -> azure 100%"),
        (&["drain", "azure"], "drain azure"),
        (&["scale", "aws/web-asg", "6"], "scale aws/web-asg 6"),
        (&["scale", "aliyun/web-ess", "0"], "scale aliyun/web-ess 0"),
        (&["ack", "demo:standing:0", "looking"], "ack demo:standing:0"),
        (&["ack", "demo:standing:0", "looking", "--minutes", "90"], "ack demo:standing:0 for 90m"),
        // Without --minutes, a leading duration word is the duration, as in the palette.
        (&["ack", "demo:standing:0", "2h", "looking"], "ack demo:standing:0 for 120m"),
        (&["unack", "demo:standing:1"], "unack demo:standing:1"),
    ];
    for (args, action) in cases {
        assert_eq!(report(home.path(), args)["action"], *action, "{args:?}");
    }
}

#[test]
fn an_acknowledgement_carries_its_comment_as_typed() {
    let home = tempfile::tempdir().expect("tempdir");
    let comment = |args: &[&str]| {
        let r = report(home.path(), args);
        assert_eq!(r["changes"].as_array().map(Vec::len), Some(1), "{args:?}: {r}");
        (r["changes"][0]["comment"].clone(), r["changes"][0]["minutes"].clone())
    };
    assert_eq!(
        comment(&["ack", "demo:standing:0", "\"looking", "into", "it\""]),
        (serde_json::json!("looking into it"), serde_json::Value::Null)
    );
    assert_eq!(
        comment(&["ack", "demo:standing:0", "known, ticket OPS-42", "--minutes", "120"]),
        (serde_json::json!("known, ticket OPS-42"), serde_json::json!(120))
    );
    // With --minutes given, a duration-like first word is part of the comment.
    assert_eq!(
        comment(&["ack", "demo:standing:0", "--minutes", "30", "2h", "until", "the", "deploy"]),
        (serde_json::json!("2h until the deploy"), serde_json::json!(30))
    );
    assert_eq!(
        comment(&["ack", "demo:standing:0", "维护", "en", "cours"]),
        (serde_json::json!("维护 en cours"), serde_json::Value::Null)
    );
    // Zero minutes is no duration, and the comment is still as typed.
    assert_eq!(
        comment(&["ack", "demo:standing:0", "seen", "--minutes", "0"]),
        (serde_json::json!("seen"), serde_json::Value::Null)
    );
    assert_eq!(
        comment(&["ack", "demo:standing:0", "90m", "slow", "disk"]),
        (serde_json::json!("slow disk"), serde_json::json!(90))
    );
}

#[test]
fn arguments_that_name_no_action_are_refused_with_the_reason() {
    let home = tempfile::tempdir().expect("tempdir");
    let clouds = "(aws, azure, aliyun)";
    let share = "the share to move must be between 0 and 100 %";
    let comment = "an acknowledgement needs a comment: ack <alert-id> [2h] <comment>";
    let cases: Vec<(&[&str], String)> = vec![
        (&["failover", "aws", "gcp"], format!("unknown cloud 'gcp' {clouds}")),
        (&["failover", "GCP", "aws"], format!("unknown cloud 'GCP' {clouds}")),
        (&["failover", "gcp", "gcp"], format!("unknown cloud 'gcp' {clouds}")),
        (&["failover", "aws", "aws"], "failover needs two different clouds".into()),
        (&["failover", "azure", "azure", "--percent", "20"], "failover needs two different clouds".into()),
        (&["failover", "aws", "azure", "--percent", "150"], share.into()),
        (&["failover", "aws", "azure", "--percent", "0"], share.into()),
        (&["failover", "aws", "azure", "--percent=-5"], share.into()),
        (&["failover", "aws", "azure", "--percent", "NaN"], share.into()),
        // The share is checked before the clouds.
        (&["failover", "aws", "gcp", "--percent", "150"], share.into()),
        (&["failover", "aws", "aws", "--percent", "101"], share.into()),
        (&["drain", "gcp"], format!("unknown cloud 'gcp' {clouds}")),
        (&["scale", "web-asg", "3"], "usage: scale <cloud>/<group> <desired>".into()),
        (&["scale", "gcp/web-asg", "3"], format!("unknown cloud 'gcp' {clouds}")),
        (&["ack", "demo:standing:0", ""], comment.into()),
        (&["ack", "demo:standing:0", "\"\""], comment.into()),
        (&["ack", "demo:standing:0", " ", " "], comment.into()),
        (&["ack", "demo:standing:0", "2h"], comment.into()),
        (&["ack", "demo:standing:0", "--minutes", "30", ""], comment.into()),
    ];
    for (args, reason) in cases {
        let out = opsdeck(home.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), format!("opsdeck: {reason}\n"), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
    }
    assert!(!home.path().join("state/opsdeck/audit.jsonl").exists(), "a refused command line is not an attempt");
}

#[test]
fn counts_the_shell_cannot_read_as_numbers_are_refused_before_anything_runs() {
    let home = tempfile::tempdir().expect("tempdir");
    for args in [
        &["scale", "aws/web-asg", "-1"][..],
        &["scale", "aws/web-asg", "six"],
        &["failover", "aws", "azure", "--percent", "20%"],
        &["ack", "demo:standing:0", "seen", "--minutes", "-5"],
        &["ack", "demo:standing:0", "seen", "--minutes", "2h"],
    ] {
        let out = opsdeck(home.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("error:"), "{args:?}");
    }
}
