//! `opsdeck snapshot`: one poll of every (or one) source, printed, with
//! monitoring-plugin exit codes.

use opsdeck::credentials::redact;
use opsdeck::startup;

use crate::cli::{Cli, SnapshotFormat};

/// `opsdeck snapshot`: one poll of every (or one) source, printed.
pub fn run(cli: &Cli, format: SnapshotFormat, only: Option<String>, drills: &[String]) -> anyhow::Result<u8> {
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let now = chrono::Utc::now();
    for d in drills {
        let (Some(estate), Some(state)) = (&built.estate, &built.demo_state) else {
            anyhow::bail!("--drill needs the demo estate");
        };
        let words: Vec<&str> = d.split_whitespace().collect();
        let cmd = opsdeck::providers::demo::DrillCommand::parse(&words, estate).map_err(anyhow::Error::msg)?;
        state.apply(cmd, now - chrono::Duration::seconds(60)).map_err(anyhow::Error::msg)?;
    }
    let sources: Vec<_> = built
        .sources
        .into_iter()
        .filter(|s| {
            only.as_deref().is_none_or(|n| {
                let id = s.provider.id().as_str();
                id == n || id.strip_prefix(n).is_some_and(|rest| rest.starts_with('/'))
            })
        })
        .collect();
    if sources.is_empty() {
        anyhow::bail!("no source named {}", only.unwrap_or_default());
    }
    let rt = super::async_runtime()?;
    let mut fleet = rt.block_on(opsdeck::collector::collect_once_slos(&sources, now, built.demo, &built.slos));
    fleet.rates = built.rates.clone();
    match format {
        SnapshotFormat::Json => {
            println!("{}", redact(&serde_json::to_string_pretty(&opsdeck::snapshot::to_json(&fleet, now))?))
        }
        SnapshotFormat::Table => print!("{}", redact(&opsdeck::snapshot::to_table(&fleet, now))),
    }
    Ok(opsdeck::snapshot::evaluate(&fleet, now).0 as u8)
}
