//! `opsdeck failover|drain|scale|ack|unack`: the console's action path, without
//! the console. A dry run unless --yes.
//!
//! The intent is built from the typed arguments with the palette's own checks
//! (`actions::intent`), so both refuse the same input with the same words.

use std::sync::Arc;

use opsdeck::actions::undo::last_undo;
use opsdeck::actions::{Actor, AuditLog, Executor, Intent, WritePath, intent};
use opsdeck::clock::SystemClock;
use opsdeck::credentials::redact;
use opsdeck::ui::sanitize;
use opsdeck::{runbook, startup};

use crate::cli::{ActArgs, Cli};

pub fn failover(from: &str, to: &str, percent: Option<f64>) -> Result<Intent, String> {
    intent::failover(from, to, percent)
}

pub fn drain(cloud: &str) -> Result<Intent, String> {
    Ok(Intent::Drain { cloud: intent::cloud(cloud)? })
}

pub fn scale(target: &str, desired: u32) -> Result<Intent, String> {
    let (cloud, group) = intent::scale_target(target)?;
    Ok(Intent::Scale { cloud: intent::cloud(cloud)?, group: group.to_string(), desired })
}

/// With --minutes, the comment is every word as typed; without it, a leading
/// "2h" word is the duration, as in the palette.
pub fn ack(alert_id: String, comment: &[String], minutes: Option<u32>) -> Result<Intent, String> {
    let words: Vec<&str> = comment.iter().map(String::as_str).collect();
    let (minutes, words) = match minutes {
        Some(m) => (intent::ack_minutes(m), &words[..]),
        None => intent::leading_duration(&words),
    };
    Ok(Intent::Ack { alert_id, comment: intent::ack_comment(words)?, minutes })
}

pub fn unack(alert_id: String) -> Intent {
    Intent::Unack { alert_id }
}

/// Plan, check and (with --yes) carry out `intent`; the report's exit code.
pub fn run(cli: &Cli, intent: Intent, act: ActArgs) -> anyhow::Result<u8> {
    carry_out(cli, intent, act, None)
}

/// `opsdeck undo`: the inverse of this operator's last executed action in the
/// audit log, through the same path (a dry run unless --yes). Nothing to undo is
/// a refusal (exit 3), said on stderr.
pub fn undo(cli: &Cli, act: ActArgs) -> anyhow::Result<u8> {
    let log = AuditLog::default_path()
        .map(AuditLog::new)
        .ok_or_else(|| anyhow::anyhow!("no audit log: this system has no state directory to keep one in"))?;
    match last_undo(&log, &Actor::current()) {
        Ok(undo) => {
            let undoes = runbook::Undone::of(&undo.last);
            carry_out(cli, undo.intent, act, Some(undoes))
        }
        Err(reason) => {
            eprintln!("opsdeck: {}", sanitize(&reason));
            Ok(runbook::exit::REFUSED)
        }
    }
}

fn carry_out(cli: &Cli, intent: Intent, act: ActArgs, undoes: Option<runbook::Undone>) -> anyhow::Result<u8> {
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let read_only = cli.read_only || config.read_only;
    let executor = (!read_only).then(|| Executor::new(built.writers()));
    let audit = AuditLog::default_path().map(AuditLog::new);
    let request = runbook::Request {
        intent,
        yes: act.yes,
        confirm: act.confirm,
        force: act.force,
        require: config.guards.require.clone(),
        confirm_timeout: std::time::Duration::from_secs(60),
    };
    let rt = super::async_runtime()?;
    let path = WritePath::new(executor, audit, Actor::current(), Arc::new(SystemClock));
    // Only a config with [rto] follows: a runbook that never asked for it does
    // not block for the follow's deadline.
    let follow = config.rto.clone().filter(|_| !act.no_follow).map(|config| runbook::Follow { config });
    let mut report = rt.block_on(runbook::run_following(request, &built.sources, &path, follow));
    report.undoes = undoes;
    if act.json {
        println!("{}", redact(&serde_json::to_string_pretty(&report)?));
    } else {
        print!("{}", redact(&report.to_text()));
    }
    Ok(report.exit_code)
}
