//! From config to running parts: which sources to poll, and the demo's estate and
//! drills. Everything that can be wrong with the user's files is found here,
//! before the terminal is touched.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::collector::SourceSchedule;
use crate::config::{Config, SourceConfig};
use crate::model::DEMO_KIND;
use crate::providers::Provider;
use crate::providers::arbiter::{self, ArbiterSource};
use crate::providers::demo::{DemoHandle, EstateSpec};
use crate::providers::links::{self, LinkSource};
use crate::providers::prometheus::slo::{self as slo_source, SloSource};
use crate::providers::registry::{self, BuildContext, BuildError, Registry};
use crate::toml_file::TomlError;

pub struct Estate {
    /// The sources the collector polls.
    pub sources: Vec<SourceSchedule>,
    /// `poll = false` sources: never polled, they only carry out actions (their
    /// interval is unused; `doctor` checks them with their timeout).
    pub act_only: Vec<SourceSchedule>,
    pub demo: bool,
    pub estate: Option<Arc<EstateSpec>>,
    pub demo_state: Option<DemoHandle>,
    /// `[prices]`: how prices of different clouds are compared.
    pub rates: Arc<crate::model::Rates>,
    /// `[[slos]]`: what the collector keeps SLO history for.
    pub slos: Arc<Vec<crate::slo::SloConfig>>,
}

impl Estate {
    /// Every source that can carry out an action: the polled ones and the act-only ones.
    pub fn writers(&self) -> impl Iterator<Item = Arc<dyn Provider>> + '_ {
        self.sources.iter().chain(&self.act_only).map(|s| s.provider.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("config error: {0}")]
    Config(TomlError),
    #[error("demo estate error: {0}")]
    Estate(TomlError),
    #[error("{0}")]
    Other(String),
}

/// Which config file to read: the one given, else the default if it exists.
/// A path given explicitly must exist; the default may be absent (→ demo).
pub fn load_config(given: Option<&Path>) -> Result<(Config, Option<PathBuf>), StartupError> {
    match given {
        Some(p) => registry::load(p).map(|c| (c, Some(p.to_path_buf()))).map_err(StartupError::Config),
        None => match Config::default_path().filter(|p| p.is_file()) {
            Some(p) => registry::load(&p).map(|c| (c, Some(p))).map_err(StartupError::Config),
            None => Ok((Config::default(), None)),
        },
    }
}

/// Build the sources of `config`. `demo_file` (from `--demo FILE`) replaces the
/// demo estate; with no sources configured the embedded demo runs.
pub fn build(config: &Config, demo_file: Option<&Path>) -> Result<Estate, StartupError> {
    build_with(&Registry::standard(), config, demo_file)
}

/// [`build`] with the kinds of `kinds` (tests add a kind of their own).
pub fn build_with(kinds: &Registry, config: &Config, demo_file: Option<&Path>) -> Result<Estate, StartupError> {
    let mut sources_cfg = config.sources.clone();
    if sources_cfg.is_empty() {
        sources_cfg.push(SourceConfig::new("demo", DEMO_KIND));
    }
    let demos = sources_cfg.iter().filter(|s| s.kind == DEMO_KIND).count();
    if demos > 1 {
        return Err(StartupError::Other(format!("only one source of kind \"{DEMO_KIND}\" can run at a time")));
    }
    // Every ca_file is checked before anything is built, so a wrong path or a key
    // file given by mistake names the source and the file, not a later poll.
    for s in &sources_cfg {
        if let Err(e) = crate::providers::tls::ExtraRoots::load_opt(s.ca_file()) {
            return Err(StartupError::Other(format!("source {}: {e}", s.name)));
        }
    }
    let mut out = Estate {
        sources: Vec::new(),
        act_only: Vec::new(),
        demo: config.is_demo(),
        estate: None,
        demo_state: None,
        rates: Arc::new(config.prices.rates()),
        slos: Arc::new(config.slos.clone()),
    };
    let cx = BuildContext { demo_file };
    for s in &sources_cfg {
        let built = kinds.build(s, &cx).map_err(|e| match e {
            BuildError::Estate(e) => StartupError::Estate(e),
            BuildError::Other(e) => StartupError::Other(e),
        })?;
        if let Some((spec, drills)) = built.demo {
            out.estate = Some(spec);
            out.demo_state = Some(drills);
        }
        for provider in built.providers {
            let list = if s.poll { &mut out.sources } else { &mut out.act_only };
            list.push(SourceSchedule {
                provider: crate::providers::sizing::SizedSource::wrap(provider, s.rps_per_instance.as_ref()),
                interval: Duration::from_secs(s.interval_secs),
                timeout: Duration::from_secs(s.timeout_secs),
            });
        }
    }
    if !config.arbiters.is_empty() {
        let probes = ArbiterSource::new(&config.arbiters).map_err(StartupError::Other)?;
        let timeout = probes.timeout();
        out.sources.push(SourceSchedule { provider: Arc::new(probes), interval: arbiter::INTERVAL, timeout });
    }
    if !config.links.is_empty() {
        let measured = LinkSource::new(&config.links).map_err(StartupError::Other)?;
        let timeout = measured.timeout();
        out.sources.push(SourceSchedule { provider: Arc::new(measured), interval: links::INTERVAL, timeout });
    }
    // SLOs measured by PromQL: one source asks each SLO's Prometheus.
    if let Some(slos) = SloSource::new(&config.slos, &sources_cfg).map_err(StartupError::Other)? {
        let timeout = slos.timeout();
        out.sources.push(SourceSchedule { provider: Arc::new(slos), interval: slo_source::INTERVAL, timeout });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_config_runs_the_embedded_demo() {
        let e = build(&Config::default(), None).expect("demo");
        assert!(e.demo);
        assert_eq!(e.sources.len(), 1);
        assert!(e.estate.is_some() && e.demo_state.is_some());
    }

    #[test]
    fn a_bad_demo_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("estate.toml");
        std::fs::write(&p, "name = 3\n").expect("write");
        let err = build(&Config::default(), Some(&p)).err().expect("bad estate");
        let msg = err.to_string();
        assert!(msg.starts_with("demo estate error: ") && msg.contains("estate.toml:1:8"), "{msg}");
        let missing = build(&Config::default(), Some(&dir.path().join("nope.toml"))).err().expect("missing");
        assert!(missing.to_string().contains("cannot read demo estate"), "{missing}");
    }

    #[test]
    fn an_explicit_config_path_must_exist() {
        let err = load_config(Some(Path::new("/nonexistent/opsdeck.toml"))).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/opsdeck.toml"), "{err}");
    }

    /// `poll = false`: built and handed to the executor, never to the collector;
    /// the demo, which only reads, refuses it.
    #[test]
    fn an_act_only_source_writes_but_is_never_polled() {
        let text = "[[sources]]\nname = \"aws-prod\"\nkind = \"aws\"\npoll = false\n\
                    [sources.aws]\naccount = \"prod\"\nregions = [\"eu-west-1\"]\n";
        let config = registry::parse(Path::new("c.toml"), text).expect("config");
        assert!(!config.sources[0].poll);
        let e = build(&config, None).expect("built");
        assert!(e.sources.is_empty(), "nothing to poll");
        let writers: Vec<String> = e.writers().map(|p| p.id().to_string()).collect();
        assert_eq!(writers, ["aws-prod/eu-west-1", "aws-prod/global"], "one writer per region and the global one");

        let demo = "[[sources]]\nname = \"d\"\nkind = \"demo\"\npoll = false\n";
        let err = registry::parse(Path::new("c.toml"), demo).expect_err("demo only reads");
        assert!(err.message.contains("poll = false") && err.line == 4, "{err}");
    }

    /// The sample's commented monitoring-plane example is a config that works
    /// once uncommented: a reader and an act-only cloud source.
    #[test]
    fn the_samples_monitoring_plane_example_reads_as_a_config() {
        let sample = crate::config::SAMPLE;
        let start = sample.find("# [[sources]]\n# name = \"plane\"").expect("the example");
        let text: String = sample[start..]
            .lines()
            .map(|l| l.strip_prefix("# ").or_else(|| l.strip_prefix('#')).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let config = registry::parse(Path::new("sample.toml"), &text).expect("the example parses");
        let e = build(&config, None).expect("and builds");
        assert_eq!(e.sources.len(), 1, "only the reader is polled");
        assert!(e.writers().any(|p| p.id().as_str() == "aws-prod/eu-west-1"), "the act-only source can act");
    }
}
