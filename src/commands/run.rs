//! `opsdeck` / `opsdeck run`: the console.

use std::sync::Arc;

use opsdeck::actions::{Actor, AuditLog, Executor};
use opsdeck::clock::SystemClock;
use opsdeck::runtime::{self, Session};
use opsdeck::startup;

use crate::cli::Cli;

pub fn run(cli: &Cli) -> anyhow::Result<()> {
    // Everything that reads the user's files happens before the terminal is touched.
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let theme = super::theme(cli, &config)?;

    log::info!("opsdeck {} started with {} source(s)", env!("CARGO_PKG_VERSION"), built.sources.len());

    let rt = super::async_runtime()?;
    let read_only = cli.read_only || config.read_only;
    // The only place an Executor is made; a read-only session never has one.
    let executor = (!read_only).then(|| Executor::new(built.writers()));
    let audit = AuditLog::default_path().map(AuditLog::new);
    if read_only {
        log::info!("read-only session: no action can be taken");
    }
    rt.block_on(runtime::run(Session {
        sources: built.sources,
        clock: Arc::new(SystemClock),
        theme,
        demo: built.demo,
        estate: built.estate,
        demo_state: built.demo_state,
        executor,
        audit,
        journal: opsdeck::timeline::Journal::default_path().map(opsdeck::timeline::Journal::new),
        actor: Actor::current(),
        low_bandwidth: cli.low_bandwidth,
        require: config.guards.require.clone(),
        rates: built.rates.clone(),
        slos: built.slos.clone(),
        rto: config.rto.clone().unwrap_or_default(),
    }))?;
    // The input thread may be blocked in read(); don't wait for it.
    rt.shutdown_background();
    Ok(())
}
