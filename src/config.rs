//! The config file: TOML at the XDG config path (or `--config PATH`). It never
//! holds a secret; later sources name keyring entries instead.
//!
//! This module knows the fields every source has (name, kind, interval, timeout,
//! sizing, the demo's estate file), opsdeck's own top-level tables (`[guards]`,
//! `[[arbiters]]`, `[[links]]` (in `links.rs`), `[[slos]]` (in `crate::slo::config`)) and how any table is checked: unknown keys refused, every error
//! at file:line:column. It knows no source kind: each provider folder owns its
//! `[sources.<kind>]` table and describes it with a [`KindSpec`], which the
//! provider registry (`providers::registry`) hands to [`Config::parse`]. So config
//! imports no provider, and a provider may use what is here.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::model::{DEMO_KIND, GuardKey};
use crate::toml_file::{self, TomlError};

mod links;
pub use links::{DEFAULT_LINK_PROBES, LinkConfig};
mod rto;
pub use rto::{ResolverSpec, RtoConfig};

/// Written by `opsdeck init`.
pub const SAMPLE: &str = include_str!("../assets/config.sample.toml");

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Built-in theme name or a path to a theme file.
    pub theme: Option<String>,
    /// No action can be taken from this console. `--read-only` on the command line
    /// also sets it; neither can be undone by the other.
    pub read_only: bool,
    pub sources: Vec<SourceConfig>,
    /// `[guards]`: which guardrails must be judged (unknown refuses).
    pub guards: GuardsConfig,
    /// `[[arbiters]]`: split-brain witnesses opsdeck probes itself.
    pub arbiters: Vec<ArbiterConfig>,
    /// `[[links]]`: cross-cloud links, measured against a latency target.
    pub links: Vec<LinkConfig>,
    /// `[prices]`: the currency prices are compared in, and exchange rates.
    pub prices: PricesConfig,
    /// `[[slos]]`: service level objectives and their error budgets.
    pub slos: Vec<crate::slo::SloConfig>,
    /// `[rto]`: how a failover is followed (resolvers, samples, deadline). The
    /// CLI follows only when the table is there (a runbook that never asked for
    /// it does not block for the deadline); the console always follows, with
    /// the defaults when it is absent.
    pub rto: Option<RtoConfig>,
}

/// The top level as serde reads it. `sources` is only checked to be an array here:
/// each entry is read by [`read_source`], which knows the kinds' tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Config")]
struct TopLevel {
    #[serde(default)]
    theme: Option<String>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    #[allow(dead_code)]
    sources: Vec<IgnoredAny>,
    #[serde(default)]
    guards: GuardsConfig,
    #[serde(default)]
    arbiters: Vec<ArbiterConfig>,
    #[serde(default)]
    links: Vec<LinkConfig>,
    #[serde(default)]
    prices: PricesConfig,
    #[serde(default)]
    slos: Vec<crate::slo::SloConfig>,
    rto: Option<RtoConfig>,
}

/// `[prices]`: how prices of different clouds are compared. A price in another
/// currency is compared only through a rate configured here, and is labelled as
/// converted wherever it is shown.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PricesConfig {
    /// The currency prices are compared in (an ISO 4217 code).
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Units of `currency` that one unit of each other currency is worth, e.g.
    /// `rates = { CNY = 0.138, EUR = 1.08 }`.
    #[serde(default)]
    pub rates: std::collections::BTreeMap<String, f64>,
}

fn default_currency() -> String {
    "USD".into()
}

impl Default for PricesConfig {
    fn default() -> Self {
        PricesConfig { currency: default_currency(), rates: Default::default() }
    }
}

impl PricesConfig {
    /// What is wrong with the table, as (key, message).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let code = |c: &str| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase());
        if !code(&self.currency) {
            return Err((
                "currency",
                format!("'{}' is not a currency code (three capital letters, e.g. USD)", self.currency),
            ));
        }
        for (c, rate) in &self.rates {
            if !code(c) {
                return Err(("rates", format!("'{c}' is not a currency code (three capital letters, e.g. CNY)")));
            }
            if !(rate.is_finite() && *rate > 0.0) {
                return Err(("rates", format!("the rate of {c} must be a positive number, not {rate}")));
            }
        }
        Ok(())
    }

    pub fn rates(&self) -> crate::model::Rates {
        crate::model::Rates { currency: self.currency.clone(), to_base: self.rates.clone() }
    }
}

/// One `[[sources]]` entry: the fields every kind has, and its kind's own table.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    /// The kind's name as the registry spells it (an alias such as "alibaba" is
    /// read as the kind it stands for).
    pub kind: &'static str,
    pub interval_secs: u64,
    pub timeout_secs: u64,
    /// Demo only: an estate file to load instead of the embedded one.
    pub estate: Option<PathBuf>,
    /// Requests/s one instance of a group serves at full load, for the capacity
    /// guardrail: a number for every group of the source, or a table by group name.
    pub rps_per_instance: Option<RpsPerInstance>,
    /// `poll = false`: an act-only source. Never polled; it carries out actions
    /// planned on what another source shows (a console reading `opsdeck export`
    /// through Prometheus writes to the cloud with the operator's own credentials).
    pub poll: bool,
    /// `[sources.<kind>]`, typed by the kind's folder; None for a kind without one.
    pub table: Option<Arc<dyn KindTable>>,
    /// Tables of other kinds found on this source (a mistake the check reports).
    stray_tables: Vec<&'static str>,
}

/// The keys of a source other than its kind's table, in the order errors list them.
const COMMON_KEYS: [&str; 7] = ["name", "kind", "interval_secs", "timeout_secs", "estate", "rps_per_instance", "poll"];

impl SourceConfig {
    /// A source of `kind` with default timings and no kind table yet.
    pub fn new(name: impl Into<String>, kind: &'static str) -> SourceConfig {
        SourceConfig {
            name: name.into(),
            kind,
            interval_secs: default_interval(),
            timeout_secs: default_timeout(),
            estate: None,
            rps_per_instance: None,
            poll: true,
            table: None,
            stray_tables: Vec::new(),
        }
    }

    /// The same source carrying `table` as its kind's table.
    pub fn with_table(mut self, table: impl KindTable) -> SourceConfig {
        self.table = Some(Arc::new(table));
        self
    }

    /// The kind's table, if it is a `T`.
    pub fn table<T: KindTable>(&self) -> Option<&T> {
        let table: &dyn Any = self.table.as_deref()?;
        table.downcast_ref::<T>()
    }

    /// The `ca_file` of this source's table, whichever kind it is.
    pub fn ca_file(&self) -> Option<&Path> {
        self.table.as_deref().and_then(|t| t.ca_file())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// A kind's `[sources.<kind>]` table, as its provider folder types it.
pub trait KindTable: Any + Debug + Send + Sync {
    /// What is wrong with the table (or with the source around it, e.g. a timeout
    /// its table must fit in), as (key to point at, message).
    fn validate(&self, _source: &SourceConfig) -> Result<(), (&'static str, String)> {
        Ok(())
    }
    /// A PEM bundle of extra certificate authorities, checked before anything is built.
    fn ca_file(&self) -> Option<&Path> {
        None
    }
}

/// What the config reader must know of one source kind: how it is written and how
/// its table is read. The provider registry holds one per kind.
#[derive(Clone, Copy)]
pub struct KindSpec {
    /// As written in `kind = "..."`.
    pub name: &'static str,
    /// Other spellings accepted for it (listed before the name in errors).
    pub aliases: &'static [&'static str],
    /// Its `[sources.<key>]` table and the reader for it; None: the kind has none.
    pub table: Option<TableSpec>,
}

#[derive(Clone, Copy)]
pub struct TableSpec {
    pub key: &'static str,
    pub read: ReadTable,
}

/// Reads a kind's table from its place in the file (so errors keep their line).
pub type ReadTable = fn(ValueDeserializer<'_>) -> Result<Arc<dyn KindTable>, toml::de::Error>;

/// The [`ReadTable`] of a table type: serde with `deny_unknown_fields` does the work.
pub fn read_table<T: KindTable + serde::de::DeserializeOwned>(
    de: ValueDeserializer<'_>,
) -> Result<Arc<dyn KindTable>, toml::de::Error> {
    T::deserialize(de).map(|t| Arc::new(t) as Arc<dyn KindTable>)
}

/// `[guards]` in the config.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GuardsConfig {
    /// Guards whose "unknown" refuses like a failure, e.g. `["arbiter", "capacity"]`.
    #[serde(default)]
    pub require: Vec<GuardKey>,
}

/// `rps_per_instance = 120` (every group of the source) or
/// `rps_per_instance = { "web-eu" = 120, "*" = 80 }` (by group name; `*` for the rest).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RpsPerInstance {
    All(f64),
    ByGroup(BTreeMap<String, f64>),
}

impl RpsPerInstance {
    /// The sizing for a group of this name, if any.
    pub fn for_group(&self, name: &str) -> Option<f64> {
        match self {
            RpsPerInstance::All(v) => Some(*v),
            RpsPerInstance::ByGroup(m) => m.get(name).or_else(|| m.get("*")).copied(),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        match self {
            RpsPerInstance::All(v) if !ok(*v) => Err(format!("rps_per_instance must be above 0, not {v}")),
            RpsPerInstance::ByGroup(m) => match m.iter().find(|(_, v)| !ok(**v)) {
                Some((k, v)) => Err(format!("rps_per_instance.\"{k}\" must be above 0, not {v}")),
                None if m.is_empty() => Err("rps_per_instance names no group".into()),
                None => Ok(()),
            },
            RpsPerInstance::All(_) => Ok(()),
        }
    }
}

/// `[[arbiters]]`: one split-brain witness (probed by `providers::arbiter`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArbiterConfig {
    pub name: String,
    /// Where it runs, shown beside it ("on-prem Frankfurt", "GCP europe-west3").
    #[serde(default)]
    pub location: String,
    /// HTTP(S) URL: any 2xx answer to a GET means alive.
    #[serde(default)]
    pub url: Option<String>,
    /// "host:port": a completed TCP handshake means alive.
    #[serde(default)]
    pub tcp: Option<String>,
    #[serde(default = "default_arbiter_timeout")]
    pub timeout_secs: f64,
    /// PEM bundle of CAs to trust for an https `url`, besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// How long one witness probe may take when the entry does not say.
pub const DEFAULT_ARBITER_TIMEOUT_SECS: f64 = 3.0;

fn default_arbiter_timeout() -> f64 {
    DEFAULT_ARBITER_TIMEOUT_SECS
}

impl ArbiterConfig {
    /// What is wrong with this entry, as (key, message).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.name.trim().is_empty() {
            return Err(("name", "an arbiter needs a non-empty name".into()));
        }
        match (&self.url, &self.tcp) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(("name", format!("arbiter '{}' needs exactly one of url or tcp", self.name)));
            }
            (Some(u), None) => check_http_url("url", u)?,
            (None, Some(t)) => check_host_port("tcp", t)?,
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 60.0) {
            return Err(("timeout_secs", "timeout_secs must be above 0 and at most 60".into()));
        }
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs)
    }
}

/// "host:port" with a port above 0, or the words for what is wrong with it.
pub fn check_host_port(key: &'static str, addr: &str) -> Result<(), (&'static str, String)> {
    let port = addr.rsplit_once(':').and_then(|(h, p)| (!h.is_empty()).then_some(p));
    if port.is_some_and(|p| p.parse::<u16>().is_ok_and(|p| p > 0)) {
        Ok(())
    } else {
        Err((key, format!("'{addr}' must look like host:port")))
    }
}

/// An http:// or https:// URL, or the words for what is wrong with it.
pub fn check_http_url(key: &'static str, url: &str) -> Result<(), (&'static str, String)> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err((key, format!("{url}: the scheme must be http or https, not {}", u.scheme()))),
        Err(e) => Err((key, format!("'{url}' is not a URL: {e}"))),
    }
}

fn default_interval() -> u64 {
    5
}
fn default_timeout() -> u64 {
    4
}

impl Config {
    /// The config path opsdeck reads when none is given.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "opsdeck").map(|d| d.config_dir().join("config.toml"))
    }

    /// Where user themes live: `<config dir>/themes/NAME.toml`.
    pub fn themes_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "opsdeck").map(|d| d.config_dir().join("themes"))
    }

    /// Read and check the file at `path`, with the source kinds in `kinds`.
    pub fn load(path: &Path, kinds: &[KindSpec]) -> Result<Config, TomlError> {
        let text = std::fs::read_to_string(path).map_err(|e| TomlError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read config: {e}"),
        })?;
        Self::parse(path, &text, kinds)
    }

    /// Parse and check config text. Everything that can be read is read first (in
    /// the file's terms: a wrong type, an unknown key or kind), then the values are
    /// checked source by source, each error pinned to its key.
    pub fn parse(path: &Path, text: &str, kinds: &[KindSpec]) -> Result<Config, TomlError> {
        let at = |e: toml::de::Error| toml_file::from_toml_error(path, text, &e);
        let root = DeTable::parse(text).map_err(at)?;
        let top = TopLevel::deserialize(toml::de::Deserializer::from(root.clone())).map_err(at)?;
        let mut sources = Vec::new();
        let entries = root.get_ref().iter().find(|(k, _)| k.get_ref() == "sources").map(|(_, v)| v.get_ref());
        if let Some(DeValue::Array(entries)) = entries {
            for entry in entries.iter() {
                sources.push(
                    read_source(entry, kinds)
                        .map_err(|(message, span)| toml_file::at_span(path, text, span, message))?,
                );
            }
        }
        let config = Config {
            theme: top.theme,
            read_only: top.read_only,
            sources,
            guards: top.guards,
            arbiters: top.arbiters,
            links: top.links,
            prices: top.prices,
            slos: top.slos,
            rto: top.rto,
        };
        config.check(path, text, kinds)?;
        Ok(config)
    }

    /// The checks serde cannot make, each error at the key it is about.
    fn check(&self, path: &Path, text: &str, kinds: &[KindSpec]) -> Result<(), TomlError> {
        let mut names = BTreeSet::new();
        for s in &self.sources {
            let near = format!("\"{}\"", s.name);
            let bad = |key: &str, msg: String| Err(toml_file::invalid(path, text, key, Some(&near), msg));
            if s.name.trim().is_empty() {
                return Err(toml_file::invalid(path, text, "name", None, "a source needs a non-empty name"));
            }
            if !names.insert(s.name.as_str()) {
                return bad("name", format!("source name '{}' is used twice", s.name));
            }
            if s.interval_secs == 0 || s.interval_secs > 86_400 {
                return bad("interval_secs", "interval_secs must be between 1 and 86400".into());
            }
            if s.timeout_secs == 0 || s.timeout_secs > 600 {
                return bad("timeout_secs", "timeout_secs must be between 1 and 600".into());
            }
            if let Some(Err(msg)) = s.rps_per_instance.as_ref().map(|r| r.validate()) {
                return bad("rps_per_instance", msg);
            }
            if !s.poll && s.kind == DEMO_KIND {
                return bad(
                    "poll",
                    format!("poll = false is for a cloud's own API; the {DEMO_KIND} estate is only read"),
                );
            }
            if s.estate.is_some() && s.kind != DEMO_KIND {
                return bad("estate", format!("estate is only for kind = \"{DEMO_KIND}\""));
            }
            // The source's own table is required and checked; any other kind's
            // table is a mistake (a table under the wrong source).
            for spec in kinds {
                let Some(table) = spec.table else { continue };
                if s.stray_tables.contains(&table.key) {
                    return bad(table.key, format!("[sources.{}] is only for kind = \"{}\"", table.key, spec.name));
                }
                match (&s.table, spec.name == s.kind) {
                    (None, true) => {
                        let msg =
                            format!("source '{}' of kind \"{}\" needs a [sources.{}] table", s.name, s.kind, table.key);
                        return bad("kind", msg);
                    }
                    (Some(t), true) => {
                        if let Err((key, msg)) = t.validate(s) {
                            return bad(key, msg);
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Err((key, msg)) = self.prices.validate() {
            return Err(toml_file::invalid(path, text, key, Some("[prices]"), msg));
        }
        if let Some(Err((key, msg))) = self.rto.as_ref().map(RtoConfig::validate) {
            return Err(toml_file::invalid(path, text, key, Some("[rto]"), msg));
        }
        let mut arbiters = BTreeSet::new();
        for a in &self.arbiters {
            let near = format!("\"{}\"", a.name);
            if let Err((key, msg)) = a.validate() {
                return Err(toml_file::invalid(path, text, key, Some(&near), msg));
            }
            if !arbiters.insert(a.name.as_str()) {
                let msg = format!("arbiter name '{}' is used twice", a.name);
                return Err(toml_file::invalid(path, text, "name", Some(&near), msg));
            }
        }
        let mut links = BTreeSet::new();
        for l in &self.links {
            let near = format!("\"{}\"", l.name);
            if let Err((key, msg)) = l.validate() {
                return Err(toml_file::invalid(path, text, key, Some(&near), msg));
            }
            if !links.insert(l.name.as_str()) {
                let msg = format!("link name '{}' is used twice", l.name);
                return Err(toml_file::invalid(path, text, "name", Some(&near), msg));
            }
        }
        // An SLO measured by PromQL names a source of kind prometheus to ask.
        let proms: Vec<&str> =
            self.sources.iter().filter(|s| s.kind == "prometheus").map(|s| s.name.as_str()).collect();
        let mut slos = BTreeSet::new();
        for o in &self.slos {
            let near = format!("\"{}\"", o.name);
            if let Err((key, msg)) = o.validate(&proms) {
                return Err(toml_file::invalid(path, text, key, Some(&near), msg));
            }
            if !slos.insert(o.name.as_str()) {
                let msg = format!("slo name '{}' is used twice", o.name);
                return Err(toml_file::invalid(path, text, "name", Some(&near), msg));
            }
        }
        Ok(())
    }

    /// No sources configured means: run the embedded demo.
    pub fn is_demo(&self) -> bool {
        self.sources.is_empty() || self.sources.iter().all(|s| s.kind == DEMO_KIND)
    }
}

/// A message and the byte range of the file it is about.
type SpannedError = (String, Option<Range<usize>>);

/// One `[[sources]]` entry, read key by key in the order serde would (so the
/// first mistake reported is the one serde reported when the kinds were fields):
/// the common fields, the kind, and each kind's table read where it stands in the
/// file (errors keep their line), then any missing field.
fn read_source(entry: &Spanned<DeValue<'_>>, kinds: &[KindSpec]) -> Result<SourceConfig, SpannedError> {
    let toml_error = |e: toml::de::Error| (e.message().trim().to_string(), e.span());
    let Some(table) = entry.get_ref().as_table() else {
        // Not a table: serde's own words for it.
        return Err(NotATable::deserialize(ValueDeserializer::from(entry.clone()))
            .map_or_else(toml_error, |_| ("a source must be a table".into(), Some(entry.span()))));
    };
    // An error serde makes after reading (an untagged enum matching no variant)
    // has no place of its own: it is the value's, as when the kinds were fields.
    let at_value =
        |v: &Spanned<DeValue<'_>>, e: toml::de::Error| (e.message().trim().to_string(), e.span().or(Some(v.span())));
    fn read<T: serde::de::DeserializeOwned>(v: &Spanned<DeValue<'_>>) -> Result<T, toml::de::Error> {
        T::deserialize(ValueDeserializer::from(v.clone()))
    }
    let table_keys: Vec<&'static str> = kinds.iter().filter_map(|k| k.table.map(|t| t.key)).collect();
    let mut source = SourceConfig::new(String::new(), "");
    let (mut name, mut kind) = (None, None);
    let mut tables = Vec::new();
    for (key, v) in table.iter() {
        match key.get_ref().as_ref() {
            "name" => name = Some(read::<String>(v).map_err(|e| at_value(v, e))?),
            "kind" => kind = Some(kind_of(v, kinds)?),
            "interval_secs" => source.interval_secs = read(v).map_err(|e| at_value(v, e))?,
            "timeout_secs" => source.timeout_secs = read(v).map_err(|e| at_value(v, e))?,
            "estate" => source.estate = Some(read(v).map_err(|e| at_value(v, e))?),
            "rps_per_instance" => source.rps_per_instance = Some(read(v).map_err(|e| at_value(v, e))?),
            "poll" => source.poll = read(v).map_err(|e| at_value(v, e))?,
            k => match kinds.iter().find_map(|spec| spec.table.filter(|t| t.key == k).map(|t| (spec.name, t))) {
                Some((owner, t)) => tables.push((
                    owner,
                    t.key,
                    (t.read)(ValueDeserializer::from(v.clone())).map_err(|e| at_value(v, e))?,
                )),
                None => {
                    let expected: Vec<String> =
                        COMMON_KEYS.iter().chain(&table_keys).map(|k| format!("`{k}`")).collect();
                    let msg = format!("unknown field `{k}`, expected one of {}", expected.join(", "));
                    return Err((msg, Some(key.span())));
                }
            },
        }
    }
    source.name = name.ok_or_else(|| ("missing field `name`".to_string(), Some(entry.span())))?;
    source.kind = kind.ok_or_else(|| ("missing field `kind`".to_string(), Some(entry.span())))?;
    for (owner, key, read) in tables {
        // Another kind's table was read too (its own mistakes first); the check refuses it.
        if owner == source.kind {
            source.table = Some(read);
        } else {
            source.stray_tables.push(key);
        }
    }
    Ok(source)
}

/// The kind a `kind = "..."` value names (an alias is read as its kind).
fn kind_of(v: &Spanned<DeValue<'_>>, kinds: &[KindSpec]) -> Result<&'static str, SpannedError> {
    let written = v.get_ref().as_str().ok_or_else(|| ("wanted string or table".to_string(), Some(v.span())))?;
    let spec = kinds.iter().find(|k| k.name == written || k.aliases.contains(&written)).ok_or_else(|| {
        let names: Vec<String> =
            kinds.iter().flat_map(|k| k.aliases.iter().chain([&k.name])).map(|n| format!("`{n}`")).collect();
        (format!("unknown variant `{written}`, expected one of {}", names.join(", ")), Some(v.span()))
    })?;
    Ok(spec.name)
}

/// Only for serde's message when a `[[sources]]` entry is not a table.
#[derive(Deserialize)]
#[serde(rename = "SourceConfig")]
struct NotATable {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kind with a table, as a provider folder would describe one.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Widget {
        size: u32,
    }

    impl KindTable for Widget {
        fn validate(&self, _: &SourceConfig) -> Result<(), (&'static str, String)> {
            if self.size == 0 { Err(("size", "size must be above 0".into())) } else { Ok(()) }
        }
    }

    const KINDS: &[KindSpec] = &[
        KindSpec { name: "demo", aliases: &[], table: None },
        KindSpec {
            name: "widget",
            aliases: &["gadget"],
            table: Some(TableSpec { key: "widget", read: read_table::<Widget> }),
        },
    ];

    fn parse(text: &str) -> Result<Config, TomlError> {
        Config::parse(Path::new("c.toml"), text, KINDS)
    }

    #[test]
    fn sample_config_parses_and_selects_the_demo() {
        let c = parse(SAMPLE).expect("sample parses");
        assert!(c.is_demo());
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sources[0].interval_secs, 5);
    }

    #[test]
    fn bad_value_names_file_line_column() {
        let text = "theme = \"default\"\n[[sources]]\nname = \"demo\"\nkind = \"demo\"\ninterval_secs = \"fast\"\n";
        let err = Config::parse(Path::new("/etc/opsdeck.toml"), text, KINDS).expect_err("bad type");
        assert_eq!((err.line, err.column), (5, 17), "{err}");
        assert!(err.to_string().starts_with("/etc/opsdeck.toml:5:17:"), "{err}");
    }

    #[test]
    fn the_rto_table_is_refused_at_the_bad_key() {
        let ok = parse("[rto]\nresolvers = [\"system\", \"1.1.1.1\", \"9.9.9.9:53\"]\n").expect("rto");
        let rto = ok.rto.expect("[rto]");
        assert_eq!(rto.specs().len(), 3);
        assert_eq!((rto.samples, rto.deadline_secs), (8, 600));
        assert_eq!(parse("").expect("empty").rto, None);
        let err = parse("theme = \"x\"\n[rto]\nsamples = 8\nresolvers = [\"dns.google\"]\n").expect_err("bad");
        assert_eq!(err.line, 4, "{err}");
        assert!(err.message.contains("'dns.google' is not a resolver"), "{err}");
        let err = parse("[rto]\ndeadline_secs = 0\n").expect_err("bad");
        assert_eq!((err.line, err.message.as_str()), (2, "deadline_secs must be between 10 and 86400, not 0"));
        let err = parse("[rto]\nsampels = 3\n").expect_err("unknown key");
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn duplicate_source_names_are_refused() {
        let text = "[[sources]]\nname = \"a\"\nkind = \"demo\"\n[[sources]]\nname = \"a\"\nkind = \"demo\"\n";
        let err = parse(text).expect_err("dup");
        assert!(err.message.contains("used twice"), "{err}");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn unknown_kind_is_refused() {
        let err = parse("[[sources]]\nname = \"x\"\nkind = \"gcp\"\n").expect_err("kind");
        assert_eq!(err.line, 3, "{err}");
        assert_eq!(err.message, "unknown variant `gcp`, expected one of `demo`, `gadget`, `widget`");
    }

    #[test]
    fn a_kinds_table_is_read_in_place_typed_and_checked() {
        let ok = parse("[[sources]]\nname = \"w\"\nkind = \"gadget\"\n[sources.widget]\nsize = 3\n").expect("alias");
        assert_eq!(ok.sources[0].kind, "widget");
        assert_eq!(ok.sources[0].table::<Widget>().map(|w| w.size), Some(3));
        let err = parse("[[sources]]\nname = \"w\"\nkind = \"widget\"\n[sources.widget]\nsize = \"big\"\n")
            .expect_err("type");
        assert_eq!((err.line, err.column), (5, 8), "{err}");
        let err = parse("[[sources]]\nname = \"w\"\nkind = \"widget\"\n[sources.widget]\nsize = 0\n").expect_err("0");
        assert_eq!((err.line, err.message.as_str()), (5, "size must be above 0"), "{err}");
        let err = parse("[[sources]]\nname = \"w\"\nkind = \"widget\"\n").expect_err("no table");
        assert_eq!(err.message, "source 'w' of kind \"widget\" needs a [sources.widget] table");
        let err = parse("[[sources]]\nname = \"d\"\nkind = \"demo\"\n[sources.widget]\nsize = 1\n").expect_err("wrong");
        assert_eq!(err.message, "[sources.widget] is only for kind = \"widget\"");
        let err = parse("[[sources]]\nname = \"d\"\nkind = \"demo\"\ncolour = 1\n").expect_err("unknown");
        assert_eq!((err.line, err.column), (4, 1), "{err}");
        assert!(err.message.ends_with("`estate`, `rps_per_instance`, `poll`, `widget`"), "{err}");
    }
}
