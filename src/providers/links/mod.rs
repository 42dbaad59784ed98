//! `[[links]]`: the cross-cloud links the estate depends on (replication, dual
//! writes, failover traffic), measured by opsdeck itself against each link's
//! round-trip target, a source of kind `links`.
//!
//! Each link is measured every poll by a round of probes from the operator's
//! machine, a PromQL figure, or both (the round trip is then the larger: the
//! target must hold on every path measured). A link over its target, or whose
//! probes were all lost, raises a local alert of this source; it resolves (is no
//! longer listed) when a measurement is back under target. A link that could
//! not be measured is unknown, with the reason; it raises nothing.

pub mod measure;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::probe::Target;
use super::{Check, Provider, ProviderError};
pub use crate::config::LinkConfig;
use crate::model::{Alert, AlertState, CloudKind, Link, SourceId, SourceReport};
use measure::PromFigure;

/// The source kind (and id) the links are reported under.
pub const KIND: &str = "links";

/// How often the links are measured.
pub const INTERVAL: Duration = Duration::from_secs(10);

struct Measured {
    cfg: LinkConfig,
    a: CloudKind,
    b: CloudKind,
    probe: Option<Target>,
    prom: Option<PromFigure>,
}

/// The source that measures every configured link.
pub struct LinkSource {
    id: SourceId,
    links: Vec<Measured>,
    /// When each link's alert started firing (kept across polls, so the alert's
    /// start is the first poll that found it over target).
    firing_since: Mutex<BTreeMap<String, DateTime<Utc>>>,
}

impl LinkSource {
    /// Fails on an unreadable `ca_file` only; entries are validated with the config.
    pub fn new(configs: &[LinkConfig]) -> Result<LinkSource, String> {
        let mut links = Vec::with_capacity(configs.len());
        for cfg in configs {
            let at = |e: String| format!("link {}: {e}", cfg.name);
            let (a, b) = cfg.clouds().ok_or_else(|| at("between does not name two clouds".into()))?;
            let probe = match (&cfg.tcp, &cfg.url) {
                (Some(addr), _) => Some(Target::tcp(addr, cfg.banner)),
                (None, Some(url)) => Some(Target::http(url, cfg.ca_file.clone(), cfg.timeout()).map_err(at)?),
                (None, None) => None,
            };
            let prom = match (&cfg.prometheus, &cfg.query) {
                (Some(base), Some(q)) => {
                    Some(PromFigure::new(base, q, cfg.ca_file.clone(), cfg.timeout()).map_err(at)?)
                }
                _ => None,
            };
            links.push(Measured { cfg: cfg.clone(), a, b, probe, prom });
        }
        Ok(LinkSource { id: SourceId::new(KIND), links, firing_since: Mutex::new(BTreeMap::new()) })
    }

    /// The longest a poll can take: the slowest link (probes and query run
    /// together), plus a margin.
    pub fn timeout(&self) -> Duration {
        let slowest = self.links.iter().map(|l| l.cfg.timeout()).max().unwrap_or(Duration::from_secs(1));
        slowest + Duration::from_secs(1)
    }

    /// This poll's alerts: one per link over target or all lost, started when
    /// it was first found so, forgotten once it is not.
    fn alerts(&self, links: &[Link], now: DateTime<Utc>) -> Vec<Alert> {
        let mut since = self.firing_since.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = Vec::new();
        for (m, link) in self.links.iter().zip(links) {
            let Some(title) = breach(link, m.cfg.probes) else {
                since.remove(&link.name);
                continue;
            };
            let started_at = *since.entry(link.name.clone()).or_insert(now);
            out.push(Alert {
                id: alert_id(&link.name),
                source: self.id.clone(),
                cloud: None,
                severity: m.cfg.severity(),
                title,
                resource: format!("{} ↔ {}", link.a.label(), link.b.label()),
                started_at,
                state: AlertState::Firing,
                route: String::new(),
                labels: Default::default(),
            });
        }
        out
    }
}

/// The stable id of a link's alert within this source.
pub fn alert_id(link: &str) -> String {
    format!("link:{link}")
}

/// Milliseconds in words: one decimal below 10 ms.
fn ms(v: f64) -> String {
    if v < 10.0 { format!("{v:.1} ms") } else { format!("{v:.0} ms") }
}

/// Why the link should page, in words (the alert's title), or None when it is
/// within target or unknown.
fn breach(l: &Link, probes: u32) -> Option<String> {
    let head = format!("Link {} ({} ↔ {})", l.name, l.a.label(), l.b.label());
    if l.up == Some(false) {
        return Some(format!("{head}: the interconnect is down"));
    }
    if l.loss == Some(1.0) {
        let why = l.error.as_deref().map_or_else(String::new, |e| format!(" ({e})"));
        return Some(format!("{head}: all {probes} probes lost{why}"));
    }
    match (l.over_target(), l.rtt_ms) {
        (Some(true), Some(rtt)) => Some(format!("{head}: round trip {} over the {} target", ms(rtt), ms(l.target_ms))),
        _ => None,
    }
}

/// Measure one link: its probes and its query together.
async fn measure(m: &Measured) -> Link {
    let cfg = &m.cfg;
    let probing = async {
        match &m.probe {
            Some(t) => Some((t.describe(), measure::round(t, cfg.probes, cfg.timeout()).await)),
            None => None,
        }
    };
    let asking = async {
        match &m.prom {
            Some(p) => Some((p, p.rtt_ms(&cfg.name).await)),
            None => None,
        }
    };
    let (round, answer) = futures::future::join(probing, asking).await;
    let mut link = Link {
        name: cfg.name.clone(),
        a: m.a,
        b: m.b,
        rtt_ms: None,
        loss: None,
        bps: None,
        up: None,
        target_ms: cfg.target_ms,
        via: Vec::new(),
        error: None,
    };
    let mut errors = Vec::new();
    let mut rtts = Vec::new();
    if let Some((what, r)) = round {
        let rtt = r.rtt_ms.map_or_else(|| "no answer".to_string(), |v| format!("median {}", ms(v)));
        link.via.push(format!("{what}: {rtt}, {} of {} probes lost", r.lost, r.sent));
        link.loss = Some(r.loss());
        rtts.extend(r.rtt_ms);
        if let Some(e) = r.error {
            errors.push(if r.lost == r.sent { e } else { format!("{} of {} probes lost: {e}", r.lost, r.sent) });
        }
    }
    if let Some((p, answer)) = answer {
        let query = crate::format::one_line(&p.query, 80);
        match answer {
            Ok(v) => {
                link.via.push(format!("PromQL {query}: {}", ms(v)));
                rtts.push(v);
            }
            Err(e) => {
                link.via.push(format!("PromQL {query}: unknown"));
                errors.push(e);
            }
        }
    }
    link.rtt_ms = rtts.into_iter().max_by(f64::total_cmp);
    link.error = (!errors.is_empty()).then(|| errors.join("; "));
    link
}

#[async_trait]
impl Provider for LinkSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    /// Never fails: a link that cannot be measured is data (unknown, with the
    /// reason), not an error of this source.
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let links = futures::future::join_all(self.links.iter().map(measure)).await;
        let alerts = self.alerts(&links, now);
        Ok(SourceReport { links, alerts: Arc::new(alerts), ..SourceReport::default() })
    }

    async fn preflight(&self, _now: DateTime<Utc>) -> Vec<Check> {
        let links = futures::future::join_all(self.links.iter().map(measure)).await;
        links
            .into_iter()
            .map(|l| Check {
                what: format!("link {}", l.name),
                result: match (l.rtt_ms, &l.error) {
                    (Some(rtt), _) => Ok(format!("round trip {} (target {})", ms(rtt), ms(l.target_ms))),
                    (None, e) => Err(e.clone().unwrap_or_else(|| "not measured".into())),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
