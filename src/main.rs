//! The `opsdeck` command line: parse, set up logging, dispatch to the command,
//! and turn its outcome into an exit code. Errors in the user's files are reported
//! before the terminal is touched, with a non-zero exit.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{ActArgs, Cli, Cmd};
use commands::{act, creds, docs, doctor, export, init, run, snapshot, timeline, wallboard};
use opsdeck::actions::Intent;

fn main() -> ExitCode {
    opsdeck::alloc_tuning::tune();
    let mut cli = Cli::parse();
    // The clouds' own chains read these from the environment, not through opsdeck's
    // Secret type: hold them for the scrubber too, so an echo of one never prints.
    opsdeck::redaction::hold_environment(|name| std::env::var(name));
    // Before anything can log: every record goes through the one gate.
    let logging = opsdeck::logging::LogOptions { level: cli.log_level.into(), file: cli.log_file.clone() };
    if let Err(e) = opsdeck::logging::init(&logging) {
        eprintln!("opsdeck: {e}");
        return ExitCode::from(2);
    }
    match cli.command.take().unwrap_or(Cmd::Run) {
        Cmd::Snapshot { format, source, drill } => match snapshot::run(&cli, format, source, &drill) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                // Monitoring-plugin convention: cannot tell → UNKNOWN.
                println!("opsdeck UNKNOWN — {e:#}");
                ExitCode::from(3)
            }
        },
        Cmd::Failover { from, to, percent, act: args } => action(&cli, act::failover(&from, &to, percent), args),
        Cmd::Drain { cloud, act: args } => action(&cli, act::drain(&cloud), args),
        Cmd::Scale { target, desired, act: args } => action(&cli, act::scale(&target, desired), args),
        Cmd::Ack { id, comment, minutes, act: args } => action(&cli, act::ack(id, &comment, minutes), args),
        Cmd::Unack { id, act: args } => action(&cli, Ok(act::unack(id)), args),
        Cmd::Undo { act: args } => act::undo(&cli, args).map_or_else(failed, ExitCode::from),
        Cmd::Completions { shell } => done(docs::completions(shell)),
        Cmd::Man => done(docs::man()),
        Cmd::Init { force } => done(init::run(cli.config.clone(), force)),
        Cmd::Wallboard { rotate_secs, stale_after } => done(wallboard::run(&cli, rotate_secs, stale_after)),
        Cmd::Creds { action } => done(creds::run(&cli, &action)),
        Cmd::Doctor => done(doctor::run(&cli)),
        Cmd::Export { listen } => done(export::run(&cli, &listen)),
        Cmd::Timeline { since, format, offline } => done(timeline::run(&cli, &since, format, offline)),
        Cmd::Run => done(run::run(&cli)),
    }
}

/// An action exits with its report's code (`runbook::exit`: refused, failed and
/// unconfirmed differ); arguments that name no action are bad input.
fn action(cli: &Cli, intent: Result<Intent, String>, args: ActArgs) -> ExitCode {
    match intent.map_err(anyhow::Error::msg).and_then(|intent| act::run(cli, intent, args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => failed(e),
    }
}

/// A command with no exit code of its own: 0 when it succeeds.
fn done(outcome: anyhow::Result<()>) -> ExitCode {
    outcome.map_or_else(failed, |()| ExitCode::SUCCESS)
}

/// Bad input, a bad config, or a failure on the way: said on stderr, exit 2.
fn failed(e: anyhow::Error) -> ExitCode {
    eprintln!("opsdeck: {e:#}");
    ExitCode::from(2)
}
