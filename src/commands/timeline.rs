//! `opsdeck timeline`: the incident timeline of the last while, as markdown to
//! paste into a postmortem or as JSON.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use opsdeck::actions::AuditLog;
use opsdeck::credentials::redact;
use opsdeck::providers::Provider;
use opsdeck::startup;
use opsdeck::timeline::{Journal, gather, render};

use crate::cli::{Cli, TimelineFormat};

/// How long one source's history read may take.
const HISTORY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// `--since`: an age (`90m`, `2h`, `1d`, `30s`) or an RFC 3339 time.
pub fn since(arg: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let arg = arg.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(arg) {
        return Ok(t.with_timezone(&Utc));
    }
    let bad = || format!("--since '{arg}': give an age (90m, 2h, 1d) or an RFC 3339 time (2026-11-18T14:00:00Z)");
    let split = arg.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = arg.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let age = n.checked_mul(secs).filter(|s| *s > 0 && *s <= 400 * 86_400).ok_or_else(bad)?;
    Ok(now - Duration::seconds(age))
}

pub fn run(cli: &Cli, since_arg: &str, format: TimelineFormat, offline: bool) -> anyhow::Result<()> {
    let now = Utc::now();
    let since = since(since_arg, now).map_err(anyhow::Error::msg)?;
    let sources: Vec<Arc<dyn Provider>> = if offline {
        Vec::new()
    } else {
        let (config, _path) = startup::load_config(cli.config.as_deref())?;
        let built = startup::build(&config, cli.demo.as_deref())?;
        built.sources.iter().map(|s| s.provider.clone()).collect()
    };
    let audit = AuditLog::default_path().map(AuditLog::new);
    let journal = Journal::default_path().map(Journal::new);
    let histories = gather::Histories {
        audit: audit.as_ref(),
        journal: journal.as_ref(),
        sources: &sources,
        timeout: HISTORY_TIMEOUT,
    };
    let rt = super::async_runtime()?;
    let timeline = rt.block_on(gather::gather(&histories, since, now));
    let text = match format {
        TimelineFormat::Markdown => render::markdown(&timeline),
        TimelineFormat::Json => render::json(&timeline).context("writing the timeline as JSON")? + "\n",
    };
    print!("{}", redact(&text));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_ages_and_times_and_refuses_the_rest() {
        let now = opsdeck::clock::reference_instant();
        assert_eq!(since("2h", now), Ok(now - Duration::hours(2)));
        assert_eq!(since("90m", now), Ok(now - Duration::minutes(90)));
        assert_eq!(since("1d", now), Ok(now - Duration::days(1)));
        assert_eq!(since("2026-11-18T14:00:00Z", now), Ok(now - Duration::minutes(30)));
        for bad in ["", "h", "2", "2w", "-2h", "0m", "99999999999d", "2 h"] {
            assert!(since(bad, now).is_err(), "{bad}");
        }
    }
}
