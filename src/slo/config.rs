//! `[[slos]]`: one service level objective — its name, objective (percent), window,
//! which cloud (or the whole shop), and what counts as a bad event: the cloud's
//! 5xx ratio from the traffic figures (the default), a PromQL `bad` + `total`
//! pair, or a PromQL error `ratio`, asked of a named Prometheus source.

use serde::Deserialize;

use crate::model::CloudKind;

/// The shortest and longest window accepted: an hour says little about a
/// budget, and the per-minute ledger is bounded by the longest window.
pub const MIN_WINDOW_SECS: u64 = 3_600;
pub const MAX_WINDOW_SECS: u64 = 90 * 86_400;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    pub name: String,
    /// Percent of good events, e.g. 99.995; strictly between 0 and 100.
    pub objective: f64,
    /// "30d", "7d", "12h", "90m".
    pub window: String,
    /// aws, azure or aliyun; absent = the whole shop, traffic-weighted.
    #[serde(default)]
    pub cloud: Option<String>,
    /// The name of a Prometheus source (`[[sources]]` of kind prometheus) to ask.
    #[serde(default)]
    pub source: Option<String>,
    /// PromQL: the rate of bad events (with `total`).
    #[serde(default)]
    pub bad: Option<String>,
    /// PromQL: the rate of all events (with `bad`).
    #[serde(default)]
    pub total: Option<String>,
    /// PromQL: an error ratio 0..1, weighted evenly in time.
    #[serde(default)]
    pub ratio: Option<String>,
}

/// What counts as bad, once checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// The traffic figures: bad = error_rate × rps of each region.
    Traffic,
    /// Rates of bad and of all events, from a Prometheus source.
    Promql { source: String, bad: String, total: String },
    /// An error ratio from a Prometheus source (each instant weighs the same).
    Ratio { source: String, ratio: String },
}

impl SloConfig {
    /// What is wrong with this entry, as (key, message). `prometheus_sources` are
    /// the names of the configured sources of kind prometheus.
    pub fn validate(&self, prometheus_sources: &[&str]) -> Result<(), (&'static str, String)> {
        let name = &self.name;
        if name.trim().is_empty() {
            return Err(("name", "an SLO needs a non-empty name".into()));
        }
        if !(self.objective.is_finite() && self.objective > 0.0 && self.objective < 100.0) {
            return Err((
                "objective",
                format!(
                    "slo '{name}': objective is a percent above 0 and below 100 (e.g. 99.9), not {}",
                    self.objective
                ),
            ));
        }
        match parse_window(&self.window) {
            Some(s) if (MIN_WINDOW_SECS..=MAX_WINDOW_SECS).contains(&s) => {}
            Some(_) => return Err(("window", format!("slo '{name}': window must be between 1h and 90d"))),
            None => {
                return Err((
                    "window",
                    format!("slo '{name}': window '{}' is a number and a unit: 30d, 7d, 12h or 90m", self.window),
                ));
            }
        }
        if let Some(c) = &self.cloud
            && CloudKind::from_slug(c).is_none()
        {
            let slugs: Vec<&str> = CloudKind::ALL.iter().map(|c| c.slug()).collect();
            return Err(("cloud", format!("'{c}' is not a cloud: one of {}", slugs.join(", "))));
        }
        let empty = |q: &Option<String>| q.as_ref().is_some_and(|q| q.trim().is_empty());
        for (key, q) in [("bad", &self.bad), ("total", &self.total), ("ratio", &self.ratio)] {
            if empty(q) {
                return Err((key, format!("slo '{name}': {key} is empty (PromQL)")));
            }
        }
        match (&self.bad, &self.total, &self.ratio) {
            (None, None, None) => {
                if self.source.is_some() {
                    return Err(("source", format!("slo '{name}': source needs bad + total, or ratio (PromQL)")));
                }
                return Ok(());
            }
            (Some(_), None, _) => {
                return Err(("bad", format!("slo '{name}': bad needs total (the rate of all events)")));
            }
            (None, Some(_), _) => {
                return Err(("total", format!("slo '{name}': total needs bad (the rate of bad events)")));
            }
            (Some(_), Some(_), Some(_)) => {
                return Err(("ratio", format!("slo '{name}': either bad + total or ratio, not both")));
            }
            _ => {}
        }
        match &self.source {
            None => Err(("source", format!("slo '{name}': PromQL needs source = \"NAME\" of a prometheus source"))),
            Some(s) if !prometheus_sources.contains(&s.as_str()) => {
                Err(("source", format!("slo '{name}': '{s}' is not a configured source of kind prometheus")))
            }
            Some(_) => Ok(()),
        }
    }

    /// The window in seconds, once [`SloConfig::validate`] passed (0 otherwise).
    pub fn window_secs(&self) -> u64 {
        parse_window(&self.window).unwrap_or(0)
    }

    /// The objective as a fraction, 0..1.
    pub fn objective_fraction(&self) -> f64 {
        self.objective / 100.0
    }

    pub fn cloud(&self) -> Option<CloudKind> {
        self.cloud.as_deref().and_then(CloudKind::from_slug)
    }

    pub fn measure(&self) -> Measure {
        let source = self.source.clone().unwrap_or_default();
        match (&self.bad, &self.total, &self.ratio) {
            (Some(bad), Some(total), _) => Measure::Promql { source, bad: bad.clone(), total: total.clone() },
            (_, _, Some(ratio)) => Measure::Ratio { source, ratio: ratio.clone() },
            _ => Measure::Traffic,
        }
    }
}

/// "30d" → 2 592 000. A positive whole number and one of m, h, d.
pub fn parse_window(text: &str) -> Option<u64> {
    let text = text.trim();
    let unit = match text.chars().last()? {
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return None,
    };
    let n: u64 = text[..text.len() - 1].parse().ok()?;
    if n == 0 {
        return None;
    }
    n.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo() -> SloConfig {
        SloConfig {
            name: "checkout".into(),
            objective: 99.995,
            window: "30d".into(),
            cloud: None,
            source: None,
            bad: None,
            total: None,
            ratio: None,
        }
    }

    #[test]
    fn windows_read_in_minutes_hours_and_days() {
        assert_eq!(parse_window("30d"), Some(30 * 86_400));
        assert_eq!(parse_window("12h"), Some(43_200));
        assert_eq!(parse_window("90m"), Some(5_400));
        for bad in ["", "d", "0d", "30", "30s", "-1d", "1.5d", "30 days"] {
            assert_eq!(parse_window(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_mistake_is_named_at_its_key() {
        let proms = ["prom"];
        let key = |s: SloConfig| s.validate(&proms).err().map(|e| e.0);
        assert_eq!(key(slo()), None);
        assert_eq!(slo().measure(), Measure::Traffic);
        assert_eq!(key(SloConfig { name: " ".into(), ..slo() }), Some("name"));
        for o in [0.0, 100.0, -1.0, 120.0, f64::NAN] {
            assert_eq!(key(SloConfig { objective: o, ..slo() }), Some("objective"), "{o}");
        }
        assert_eq!(key(SloConfig { window: "30".into(), ..slo() }), Some("window"));
        assert_eq!(key(SloConfig { window: "30m".into(), ..slo() }), Some("window"));
        assert_eq!(key(SloConfig { window: "91d".into(), ..slo() }), Some("window"));
        assert_eq!(key(SloConfig { cloud: Some("gcp".into()), ..slo() }), Some("cloud"));
        assert_eq!(key(SloConfig { cloud: Some("azure".into()), ..slo() }), None);
        assert_eq!(key(SloConfig { source: Some("prom".into()), ..slo() }), Some("source"));
        let pair = SloConfig {
            source: Some("prom".into()),
            bad: Some("sum(rate(http_requests_total{code=~\"5..\"}[5m]))".into()),
            total: Some("sum(rate(http_requests_total[5m]))".into()),
            ..slo()
        };
        assert_eq!(key(pair.clone()), None);
        assert!(matches!(pair.measure(), Measure::Promql { .. }));
        assert_eq!(key(SloConfig { total: None, ..pair.clone() }), Some("bad"));
        assert_eq!(key(SloConfig { bad: None, ..pair.clone() }), Some("total"));
        assert_eq!(key(SloConfig { ratio: Some("x".into()), ..pair.clone() }), Some("ratio"));
        assert_eq!(key(SloConfig { source: None, ..pair.clone() }), Some("source"));
        assert_eq!(key(SloConfig { source: Some("cw".into()), ..pair.clone() }), Some("source"));
        assert_eq!(key(SloConfig { bad: Some(" ".into()), ..pair.clone() }), Some("bad"));
        let ratio = SloConfig { source: Some("prom".into()), ratio: Some("job:errors:ratio".into()), ..slo() };
        assert_eq!(key(ratio.clone()), None);
        assert!(matches!(ratio.measure(), Measure::Ratio { .. }));
    }

    /// What the config file check says: the file, line and column of the key,
    /// and the words.
    fn said(text: &str) -> String {
        match crate::providers::registry::parse(std::path::Path::new("c.toml"), text) {
            Ok(c) => format!("accepted: {} slo(s)", c.slos.len()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_config_file_refuses_each_mistake_at_its_key() {
        let prom =
            "[[sources]]\nname = \"prom\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p:9090\"\n";
        let base = "[[slos]]\nname = \"checkout\"\nobjective = 99.995\nwindow = \"30d\"\n";
        assert_eq!(said(base), "accepted: 1 slo(s)");
        assert_eq!(
            said("[[slos]]\nname = \"checkout\"\nobjective = 100\nwindow = \"30d\"\n"),
            "c.toml:3:1: slo 'checkout': objective is a percent above 0 and below 100 (e.g. 99.9), not 100"
        );
        assert_eq!(
            said("[[slos]]\nname = \"checkout\"\nobjective = 99.9\nwindow = \"a month\"\n"),
            "c.toml:4:1: slo 'checkout': window 'a month' is a number and a unit: 30d, 7d, 12h or 90m"
        );
        assert_eq!(
            said(&format!("{base}cloud = \"gcp\"\n")),
            "c.toml:5:1: 'gcp' is not a cloud: one of aws, azure, aliyun"
        );
        assert_eq!(
            said(&format!("{base}colour = 1\n")).split(',').next().unwrap_or_default(),
            "c.toml:5:1: unknown field `colour`"
        );
        assert_eq!(said(&format!("{base}{base}")), "c.toml:2:1: slo name 'checkout' is used twice");
        let pair = "source = \"prom\"\nbad = \"sum(rate(e[5m]))\"\ntotal = \"sum(rate(r[5m]))\"\n";
        assert_eq!(said(&format!("{prom}{base}{pair}")), "accepted: 1 slo(s)");
        assert_eq!(
            said(&format!("{base}{pair}")),
            "c.toml:5:1: slo 'checkout': 'prom' is not a configured source of kind prometheus"
        );
        assert_eq!(
            said(&format!("{prom}{base}source = \"prom\"\nbad = \"e\"\n")),
            "c.toml:11:1: slo 'checkout': bad needs total (the rate of all events)"
        );
    }
}
