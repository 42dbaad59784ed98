//! From config to running parts: which sources to poll, and the demo's estate and
//! drills. Everything that can be wrong with the user's files is found here,
//! before the terminal is touched.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::collector::SourceSchedule;
use crate::config::{Config, SourceConfig, SourceKind};
use crate::model::SourceId;
use crate::providers::arbiter::{self, ArbiterSource};
use crate::providers::aws::SdkSource;
use crate::providers::demo::{DemoHandle, DemoProvider, EstateSpec};
use crate::providers::prometheus::PrometheusSource;
use crate::providers::prometheus::alertmanager::AlertmanagerSource;
use crate::toml_file::TomlError;

pub struct Estate {
    pub sources: Vec<SourceSchedule>,
    pub demo: bool,
    pub estate: Option<Arc<EstateSpec>>,
    pub demo_state: Option<DemoHandle>,
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
        Some(p) => Config::load(p).map(|c| (c, Some(p.to_path_buf()))).map_err(StartupError::Config),
        None => match Config::default_path().filter(|p| p.is_file()) {
            Some(p) => Config::load(&p).map(|c| (c, Some(p))).map_err(StartupError::Config),
            None => Ok((Config::default(), None)),
        },
    }
}

/// Build the sources of `config`. `demo_file` (from `--demo FILE`) replaces the
/// demo estate; with no sources configured the embedded demo runs.
pub fn build(config: &Config, demo_file: Option<&Path>) -> Result<Estate, StartupError> {
    let mut sources_cfg = config.sources.clone();
    if sources_cfg.is_empty() {
        sources_cfg.push(SourceConfig::new("demo", SourceKind::Demo));
    }
    let demos = sources_cfg.iter().filter(|s| s.kind == SourceKind::Demo).count();
    if demos > 1 {
        return Err(StartupError::Other("only one source of kind \"demo\" can run at a time".into()));
    }
    // Every ca_file is checked before anything is built, so a wrong path or a key
    // file given by mistake names the source and the file, not a later poll.
    for s in &sources_cfg {
        if let Err(e) = crate::providers::tls::ExtraRoots::load_opt(s.ca_file()) {
            return Err(StartupError::Other(format!("source {}: {e}", s.name)));
        }
    }
    let mut out = Estate { sources: Vec::new(), demo: config.is_demo(), estate: None, demo_state: None };
    for s in &sources_cfg {
        let providers: Vec<Arc<dyn crate::providers::Provider>> = match s.kind {
            SourceKind::Demo => {
                let spec = match demo_file.or(s.estate.as_deref()) {
                    Some(p) => EstateSpec::load(p),
                    None => EstateSpec::embedded(),
                }
                .map_err(StartupError::Estate)?;
                let spec = Arc::new(spec);
                let drills = DemoHandle::default();
                out.estate = Some(spec.clone());
                out.demo_state = Some(drills.clone());
                vec![Arc::new(DemoProvider::new(SourceId::new(&s.name), spec, drills))]
            }
            SourceKind::Aws => {
                let aws = s
                    .aws
                    .as_ref()
                    .ok_or_else(|| StartupError::Other(format!("source {} has no [sources.aws]", s.name)))?;
                crate::providers::aws::providers(
                    &s.name,
                    aws,
                    Duration::from_secs(s.timeout_secs),
                    SdkSource::StandardChain,
                )
            }
            SourceKind::Prometheus => {
                let p = s.prometheus.as_ref().ok_or_else(|| missing_table(s, "prometheus"))?;
                let src = PrometheusSource::new(&s.name, p, Duration::from_secs(s.timeout_secs))
                    .map_err(|e| StartupError::Other(format!("source {}: {e}", s.name)))?;
                vec![Arc::new(src)]
            }
            SourceKind::Alertmanager => {
                let a = s.alertmanager.as_ref().ok_or_else(|| missing_table(s, "alertmanager"))?;
                let src = AlertmanagerSource::new(&s.name, a, Duration::from_secs(s.timeout_secs))
                    .map_err(|e| StartupError::Other(format!("source {}: {e}", s.name)))?;
                vec![Arc::new(src)]
            }
            SourceKind::Aliyun => {
                let cfg = s
                    .aliyun
                    .as_ref()
                    .ok_or_else(|| StartupError::Other(format!("source {} has no [sources.aliyun]", s.name)))?;
                crate::providers::aliyun::providers(&s.name, cfg, Duration::from_secs(s.timeout_secs))
                    .map_err(|e| StartupError::Other(format!("source {}: {e}", s.name)))?
            }
            SourceKind::Azure => {
                let azure = s
                    .azure
                    .as_ref()
                    .ok_or_else(|| StartupError::Other(format!("source {} has no [sources.azure]", s.name)))?;
                crate::providers::azure::providers(&s.name, azure, crate::providers::azure::AzureOptions::standard())
                    .map_err(|e| StartupError::Other(format!("source {}: {e}", s.name)))?
            }
        };
        for provider in providers {
            out.sources.push(SourceSchedule {
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
    Ok(out)
}

fn missing_table(s: &SourceConfig, kind: &str) -> StartupError {
    StartupError::Other(format!("source {} has no [sources.{kind}]", s.name))
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
}
