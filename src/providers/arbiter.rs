//! Split-brain witnesses, probed by opsdeck itself from the operator's machine.
//!
//! A failover is only safe when a majority of witnesses outside the three clouds
//! can still be reached: if the operator's console sees one cloud but not the
//! witnesses, it may be the one cut off. Each `[[arbiters]]` entry is probed every
//! poll: an HTTP(S) GET (any 2xx is alive) or a TCP connect. The probes run
//! concurrently, each within its own timeout, so one dead witness delays nothing.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::probe::Target;
use super::{Check, Provider, ProviderError};
pub use crate::config::ArbiterConfig;
use crate::model::{Arbiter, SourceId, SourceReport};

/// The source kind (and id) the witnesses are reported under.
pub const KIND: &str = "arbiter";

/// How often the witnesses are probed, and how long one probe may take.
pub const INTERVAL: Duration = Duration::from_secs(10);

struct Witness {
    cfg: ArbiterConfig,
    probe: Target,
}

/// The source that probes every configured witness.
pub struct ArbiterSource {
    id: SourceId,
    witnesses: Vec<Witness>,
}

impl ArbiterSource {
    /// Fails on an unreadable `ca_file` only; entries are validated with the config.
    pub fn new(configs: &[ArbiterConfig]) -> Result<ArbiterSource, String> {
        let mut witnesses = Vec::with_capacity(configs.len());
        for cfg in configs {
            let probe = match (&cfg.url, &cfg.tcp) {
                (Some(url), _) => Target::http(url, cfg.ca_file.clone(), cfg.timeout())
                    .map_err(|e| format!("arbiter {}: {e}", cfg.name))?,
                (None, Some(addr)) => Target::tcp(addr, false),
                (None, None) => return Err(format!("arbiter {} has neither url nor tcp", cfg.name)),
            };
            witnesses.push(Witness { cfg: cfg.clone(), probe });
        }
        Ok(ArbiterSource { id: SourceId::new("arbiters"), witnesses })
    }

    /// The longest a poll can take: the slowest probe, plus a margin.
    pub fn timeout(&self) -> Duration {
        let slowest = self.witnesses.iter().map(|w| w.cfg.timeout()).max().unwrap_or(Duration::from_secs(1));
        slowest + Duration::from_secs(1)
    }
}

/// One probe: Ok(round trip) or the reason in words.
async fn probe(w: &Witness) -> Result<Duration, String> {
    w.probe.once(w.cfg.timeout()).await
}

fn observed(w: &Witness, result: Result<Duration, String>) -> Arbiter {
    let (reachable, rtt_ms, error) = match result {
        Ok(rtt) => (true, Some(rtt.as_secs_f64() * 1000.0), None),
        Err(e) => (false, None, Some(crate::format::one_line(&e, 200))),
    };
    Arbiter { name: w.cfg.name.clone(), location: w.cfg.location.clone(), reachable, rtt_ms, error }
}

#[async_trait]
impl Provider for ArbiterSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    /// Never fails: an unreachable witness is data, not an error of this source.
    async fn poll(&self, _now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let results =
            futures::future::join_all(self.witnesses.iter().map(|w| async move { observed(w, probe(w).await) })).await;
        Ok(SourceReport { arbiters: results, ..SourceReport::default() })
    }

    async fn preflight(&self, _now: DateTime<Utc>) -> Vec<Check> {
        let mut out = Vec::new();
        for w in &self.witnesses {
            let a = observed(w, probe(w).await);
            out.push(Check {
                what: format!("arbiter {}", a.name),
                result: match (a.reachable, a.rtt_ms, a.error) {
                    (true, Some(ms), _) => Ok(format!("answers in {ms:.0} ms")),
                    (true, None, _) => Ok("answers".into()),
                    (false, _, e) => Err(e.unwrap_or_else(|| "no answer".into())),
                },
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(url: Option<&str>, tcp: Option<&str>) -> ArbiterConfig {
        ArbiterConfig {
            name: "witness".into(),
            location: "on-prem".into(),
            url: url.map(String::from),
            tcp: tcp.map(String::from),
            timeout_secs: 1.0,
            ca_file: None,
        }
    }

    #[test]
    fn entries_need_exactly_one_probe_that_parses() {
        assert!(cfg(Some("https://witness.example/health"), None).validate().is_ok());
        assert!(cfg(None, Some("10.0.0.1:443")).validate().is_ok());
        assert!(cfg(None, Some("[::1]:8443")).validate().is_ok());
        assert_eq!(cfg(None, None).validate().map_err(|e| e.0), Err("name"));
        assert_eq!(cfg(Some("https://a"), Some("b:1")).validate().map_err(|e| e.0), Err("name"));
        assert_eq!(cfg(Some("ftp://a/"), None).validate().map_err(|e| e.0), Err("url"));
        assert_eq!(cfg(None, Some("host")).validate().map_err(|e| e.0), Err("tcp"));
        assert_eq!(cfg(None, Some("host:0")).validate().map_err(|e| e.0), Err("tcp"));
        assert_eq!(cfg(None, Some(":80")).validate().map_err(|e| e.0), Err("tcp"));
    }

    #[tokio::test]
    async fn a_listening_port_is_alive_and_a_closed_one_is_not() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let open = listener.local_addr().expect("addr").to_string();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").to_string()
        };
        let source = ArbiterSource::new(&[
            cfg(None, Some(&open)),
            ArbiterConfig { name: "b".into(), ..cfg(None, Some(&closed)) },
        ])
        .expect("source");
        let report = source.poll(Utc::now()).await.expect("never fails");
        assert_eq!(report.arbiters.len(), 2);
        assert!(report.arbiters[0].reachable && report.arbiters[0].rtt_ms.is_some(), "{:?}", report.arbiters[0]);
        let down = &report.arbiters[1];
        assert!(!down.reachable && down.rtt_ms.is_none(), "{down:?}");
        assert!(down.error.as_deref().is_some_and(|e| e.contains("cannot connect")), "{down:?}");
    }
}
