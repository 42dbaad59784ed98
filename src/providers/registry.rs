//! The source kinds opsdeck knows, one line each. A kind's folder says how it is
//! written in the config and reads its `[sources.<kind>]` table ([`KindSpec`]),
//! builds its providers from a checked source, and says where its credentials
//! come from (`opsdeck creds list`, `opsdeck doctor`). Startup and the credential
//! listing go through here; nothing else matches on kinds.

use std::path::Path;
use std::sync::Arc;

use super::Provider;
use super::demo::{DemoHandle, EstateSpec};
use crate::config::{Config, KindSpec, KindTable, SourceConfig};
use crate::toml_file::TomlError;

/// One source kind.
#[derive(Clone, Copy)]
pub struct Entry {
    /// Its name in `kind = "..."` and its table (read and checked with the config).
    pub kind: KindSpec,
    /// The providers of one checked source (one per region, subscription, ...).
    pub build: fn(&SourceConfig, &BuildContext<'_>) -> Result<Built, BuildError>,
    /// Where the source's credentials resolve from, in one line (may read the
    /// keyring and files: call it off the async runtime).
    pub credential_line: fn(&SourceConfig) -> String,
}

/// What a build may need besides the source: the command line's `--demo FILE`.
#[derive(Debug, Default)]
pub struct BuildContext<'a> {
    pub demo_file: Option<&'a Path>,
}

/// What one source became.
#[derive(Default)]
pub struct Built {
    pub providers: Vec<Arc<dyn Provider>>,
    /// The demo's estate and drill handle, for the console's drills and `snapshot --drill`.
    pub demo: Option<(Arc<EstateSpec>, DemoHandle)>,
}

impl Built {
    pub fn providers(providers: Vec<Arc<dyn Provider>>) -> Built {
        Built { providers, demo: None }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The demo's estate file is wrong.
    #[error("{0}")]
    Estate(TomlError),
    #[error("{0}")]
    Other(String),
}

impl BuildError {
    /// A failure of the source `s`, named.
    pub fn of(s: &SourceConfig, e: impl std::fmt::Display) -> BuildError {
        BuildError::Other(format!("source {}: {e}", s.name))
    }
}

/// The kind's table of a checked source (the config check guarantees it is there).
pub fn table<'a, T: KindTable>(s: &'a SourceConfig, key: &str) -> Result<&'a T, BuildError> {
    s.table::<T>().ok_or_else(|| BuildError::Other(format!("source {} has no [sources.{key}]", s.name)))
}

/// Every kind, in the order the config's errors list them.
const STANDARD: &[Entry] = &[
    super::demo::ENTRY,
    super::aws::ENTRY,
    super::prometheus::ENTRY,
    super::prometheus::alertmanager::ENTRY,
    super::aliyun::ENTRY,
    super::azure::ENTRY,
];

/// A set of kinds: the standard one, or (tests) with more.
#[derive(Clone)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    pub fn standard() -> Registry {
        Registry { entries: STANDARD.to_vec() }
    }

    /// This registry with one more kind.
    pub fn with(mut self, entry: Entry) -> Registry {
        self.entries.push(entry);
        self
    }

    pub fn kinds(&self) -> Vec<KindSpec> {
        self.entries.iter().map(|e| e.kind).collect()
    }

    pub fn entry(&self, kind: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.kind.name == kind)
    }

    pub fn parse(&self, path: &Path, text: &str) -> Result<Config, TomlError> {
        Config::parse(path, text, &self.kinds())
    }

    pub fn load(&self, path: &Path) -> Result<Config, TomlError> {
        Config::load(path, &self.kinds())
    }

    /// The providers of one checked source.
    pub fn build(&self, s: &SourceConfig, cx: &BuildContext<'_>) -> Result<Built, BuildError> {
        let entry = self.entry(s.kind).ok_or_else(|| BuildError::of(s, format!("unknown kind {:?}", s.kind)))?;
        (entry.build)(s, cx)
    }

    /// One line per configured source: where its credentials resolve from.
    pub fn credential_lines(&self, config: &Config) -> Vec<String> {
        if config.sources.is_empty() {
            return vec!["demo: no credentials needed (embedded demo estate)".into()];
        }
        config
            .sources
            .iter()
            .map(|s| match self.entry(s.kind) {
                Some(e) => (e.credential_line)(s),
                None => format!("{}: {}: no credentials needed", s.name, s.kind),
            })
            .collect()
    }
}

/// Parse config text with the standard kinds.
pub fn parse(path: &Path, text: &str) -> Result<Config, TomlError> {
    Registry::standard().parse(path, text)
}

/// Read and check a config file with the standard kinds.
pub fn load(path: &Path) -> Result<Config, TomlError> {
    Registry::standard().load(path)
}

/// `opsdeck creds list` and `opsdeck doctor`: one line per configured source.
pub fn credential_lines(config: &Config) -> Vec<String> {
    Registry::standard().credential_lines(config)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn each_kind_is_registered_once_with_its_own_table() {
        let kinds = Registry::standard().kinds();
        let names: Vec<&str> = kinds.iter().map(|k| k.name).collect();
        assert_eq!(names, ["demo", "aws", "prometheus", "alertmanager", "aliyun", "azure"]);
        let tables: Vec<Option<&str>> = kinds.iter().map(|k| k.table.map(|t| t.key)).collect();
        assert_eq!(
            tables,
            [None, Some("aws"), Some("prometheus"), Some("alertmanager"), Some("aliyun"), Some("azure")]
        );
    }

    #[test]
    fn each_https_source_kind_takes_a_ca_file() {
        let text = "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = [\"eu-west-1\"]\nca_file = \"/ca/aws.pem\"\n\
                    [[sources]]\nname = \"z\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\nca_file = \"/ca/az.pem\"\n\
                    [[sources]]\nname = \"l\"\nkind = \"aliyun\"\n[sources.aliyun]\nregion = \"cn-hangzhou\"\nca_file = \"/ca/ali.pem\"\n\
                    [[sources]]\nname = \"p\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"https://p\"\n[sources.prometheus.auth]\nca_file = \"/ca/p.pem\"\n\
                    [[sources]]\nname = \"d\"\nkind = \"demo\"\n";
        let c = parse(Path::new("c.toml"), text).expect("parses");
        let files: Vec<Option<&Path>> = c.sources.iter().map(crate::config::SourceConfig::ca_file).collect();
        let want = ["/ca/aws.pem", "/ca/az.pem", "/ca/ali.pem", "/ca/p.pem"].map(|p| Some(Path::new(p)));
        assert_eq!(files[..4], want);
        assert_eq!(files[4], None);
    }

    #[test]
    fn sample_config_parses_and_selects_the_demo() {
        let c = parse(Path::new("sample.toml"), crate::config::SAMPLE).expect("sample parses");
        assert!(c.is_demo());
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sources[0].interval_secs, 5);
    }
}
