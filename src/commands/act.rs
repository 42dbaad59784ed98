//! `opsdeck failover|drain|scale|ack|unack`: the console's action path, without
//! the console. A dry run unless --yes.

use opsdeck::actions::{Actor, AuditLog, Executor};
use opsdeck::credentials::redact;
use opsdeck::{runbook, startup};

use crate::cli::{ActArgs, Cli, Cmd};

/// Read the action from the command line, then plan, check and (with --yes) carry it out.
pub fn run(cli: &Cli, command: Cmd) -> anyhow::Result<u8> {
    let (words, act): (Vec<String>, ActArgs) = match command {
        Cmd::Failover { from, to, percent, act } => {
            let mut w = vec!["failover".to_string(), from, to];
            w.extend(percent.map(|p| format!("{p}%")));
            (w, act)
        }
        Cmd::Drain { cloud, act } => (vec!["drain".into(), cloud], act),
        Cmd::Scale { target, desired, act } => (vec!["scale".into(), target, desired.to_string()], act),
        Cmd::Ack { id, comment, minutes, act } => {
            let mut w = vec!["ack".to_string(), id];
            w.extend(minutes.map(|m| format!("{m}m")));
            w.extend(comment);
            (w, act)
        }
        Cmd::Unack { id, act } => (vec!["unack".to_string(), id], act),
        _ => anyhow::bail!("not an action"),
    };
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let intent = opsdeck::actions::intent::parse(&words[0], &args).map_err(anyhow::Error::msg)?;
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let read_only = cli.read_only || config.read_only;
    let executor = (!read_only).then(|| Executor::new(built.sources.iter().map(|s| s.provider.clone())));
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
    let report =
        rt.block_on(runbook::run(request, &built.sources, executor.as_ref(), audit.as_ref(), &Actor::current()));
    if act.json {
        println!("{}", redact(&serde_json::to_string_pretty(&report)?));
    } else {
        print!("{}", redact(&report.to_text()));
    }
    Ok(report.exit_code)
}
