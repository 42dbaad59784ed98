//! `opsdeck wallboard`: the read-only big-screen view.

use std::sync::Arc;

use opsdeck::clock::SystemClock;
use opsdeck::runtime;
use opsdeck::startup;

use crate::cli::Cli;

/// `opsdeck wallboard`: no executor is made; the session type has no place for one.
pub fn run(cli: &Cli, rotate_secs: u32, stale_after: u32) -> anyhow::Result<()> {
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let theme = super::theme(cli, &config)?;
    let rt = super::async_runtime()?;
    rt.block_on(runtime::run_wallboard(runtime::WallboardSession {
        sources: built.sources,
        clock: Arc::new(SystemClock),
        theme,
        demo: built.demo,
        rotate_every: chrono::Duration::seconds(i64::from(rotate_secs.max(1))),
        stale_after_intervals: stale_after,
    }))?;
    rt.shutdown_background();
    Ok(())
}
