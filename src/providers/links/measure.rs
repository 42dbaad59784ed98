//! How one link is measured: a round of probes from the operator's machine
//! (loss = the share lost, round trip = the median of the answered ones) and a
//! PromQL figure in seconds (e.g. a blackbox exporter's `probe_duration_seconds`
//! measured from the far side).

use std::time::Duration;

use crate::format::one_line;
use crate::providers::http::{HttpAuthConfig, HttpSource};
use crate::providers::probe::Target;
use crate::providers::prometheus::api;

/// One round of probes.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// Median of the answered probes; None when none answered.
    pub rtt_ms: Option<f64>,
    pub sent: u32,
    pub lost: u32,
    /// Why the first lost probe was lost.
    pub error: Option<String>,
}

impl Round {
    pub fn loss(&self) -> f64 {
        f64::from(self.lost) / f64::from(self.sent.max(1))
    }
}

/// `count` probes of `target` at once, each within `limit`: concurrent, so a
/// round never takes longer than one probe may.
pub async fn round(target: &Target, count: u32, limit: Duration) -> Round {
    let results = futures::future::join_all((0..count).map(|_| target.once(limit))).await;
    let mut answered: Vec<f64> =
        results.iter().filter_map(|r| r.as_ref().ok()).map(|d| d.as_secs_f64() * 1000.0).collect();
    let error = results.iter().find_map(|r| r.as_ref().err()).map(|e| one_line(e, 200));
    let lost = count - answered.len() as u32;
    Round { rtt_ms: median(&mut answered), sent: count, lost, error }
}

/// The middle value (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// A Prometheus to ask for a link's round trip.
pub struct PromFigure {
    http: HttpSource,
    base: String,
    pub query: String,
    timeout: Duration,
}

impl PromFigure {
    /// Fails only on an unreadable `ca_file`.
    pub fn new(
        base: &str,
        query: &str,
        ca_file: Option<std::path::PathBuf>,
        timeout: Duration,
    ) -> Result<PromFigure, String> {
        let auth = HttpAuthConfig { ca_file, ..HttpAuthConfig::default() };
        let http = HttpSource::new(&auth, timeout)?;
        Ok(PromFigure { http, base: base.to_string(), query: query.to_string(), timeout })
    }

    /// The round trip in milliseconds: the largest finite value of the answer
    /// (several series: the worst path counts), or why there is none.
    pub async fn rtt_ms(&self, name: &str) -> Result<f64, String> {
        let samples = api::query(&self.http, &self.base, name, &self.query, self.timeout.as_secs_f64())
            .await
            .map_err(|e| one_line(&e.to_string(), 200))?;
        if samples.is_empty() {
            return Err("PromQL: the query returned no series".into());
        }
        samples
            .iter()
            .map(|s| s.value)
            .filter(|v| v.is_finite() && *v >= 0.0)
            .max_by(f64::total_cmp)
            .map(|secs| secs * 1000.0)
            .ok_or_else(|| "PromQL: the query returned no usable number (NaN, Inf or negative)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[tokio::test]
    async fn a_closed_port_loses_every_probe() {
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").to_string()
        };
        let r = round(&Target::tcp(&closed, false), 4, Duration::from_secs(1)).await;
        assert_eq!((r.rtt_ms, r.sent, r.lost, r.loss()), (None, 4, 4, 1.0));
        assert!(r.error.as_deref().is_some_and(|e| e.starts_with("cannot connect")), "{r:?}");
    }
}
