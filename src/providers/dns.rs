//! DNS resolution for following a failover: ask each configured resolver for a
//! policy's record a few times and say what it answered. The real resolvers go
//! over the network with caching off (each query reaches the resolver); the
//! demo's answer from the demo estate's weights as clients would see them.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

use crate::clock::Clock;
use crate::config::{ResolverSpec, RtoConfig};
use crate::model::TrafficPolicy;
use crate::model::rto::{Answer, ResolverSample};

/// Something that can be asked for a record through each of its resolvers.
#[async_trait]
pub trait Resolvers: Send + Sync {
    /// One round: `samples` queries of `record` through each resolver.
    async fn round(&self, record: &str, samples: u32) -> Vec<ResolverSample>;
}

#[derive(Debug, thiserror::Error)]
#[error("resolver {name}: {reason}")]
pub struct DnsError {
    pub name: String,
    pub reason: String,
}

/// The configured resolvers, over the network.
pub struct NetResolvers {
    resolvers: Vec<(String, TokioResolver)>,
    timeout: Duration,
}

impl NetResolvers {
    pub fn from_config(config: &RtoConfig) -> Result<NetResolvers, DnsError> {
        let timeout = config.query_timeout();
        let mut resolvers = Vec::new();
        for (name, spec) in config.specs() {
            let err = |e: &dyn std::fmt::Display| DnsError { name: name.clone(), reason: e.to_string() };
            let (cfg, mut opts) = match spec {
                ResolverSpec::System => hickory_resolver::system_conf::read_system_conf().map_err(|e| err(&e))?,
                ResolverSpec::At(addr) => {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = addr.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = addr.port();
                    let mut server = NameServerConfig::udp(addr.ip());
                    server.connections = vec![udp, tcp];
                    (ResolverConfig::from_name_servers(vec![server]), ResolverOpts::default())
                }
            };
            // Each query must reach the resolver: a cache here would answer the
            // old weights for the whole TTL and measure nothing.
            opts.cache_size = 0;
            opts.timeout = timeout;
            opts.attempts = 1;
            opts.use_hosts_file = ResolveHosts::Never;
            opts.preserve_intermediates = true;
            let mut builder = TokioResolver::builder_with_config(cfg, TokioRuntimeProvider::default());
            *builder.options_mut() = opts;
            let resolver = builder.build().map_err(|e| err(&e))?;
            resolvers.push((name, resolver));
        }
        Ok(NetResolvers { resolvers, timeout })
    }
}

#[async_trait]
impl Resolvers for NetResolvers {
    async fn round(&self, record: &str, samples: u32) -> Vec<ResolverSample> {
        // Fully qualified, so no search domain is tried.
        let fqdn = format!("{}.", record.trim_end_matches('.'));
        let mut out = Vec::new();
        for (name, resolver) in &self.resolvers {
            let mut answers = Vec::new();
            for _ in 0..samples {
                resolver.clear_cache();
                let asked = tokio::time::timeout(self.timeout * 2, resolver.lookup(fqdn.as_str(), RecordType::A)).await;
                answers.push(match asked {
                    Ok(Ok(lookup)) => Ok(answer_of(lookup.answers().iter().map(|r| &r.data))),
                    Ok(Err(e)) => Err(crate::format::one_line(&e.to_string(), 200)),
                    Err(_) => Err(format!("no answer within {:?}", self.timeout * 2)),
                });
            }
            out.push(ResolverSample { resolver: name.clone(), answers });
        }
        out
    }
}

/// The names of a CNAME chain and the addresses at its end.
fn answer_of<'a>(data: impl Iterator<Item = &'a RData>) -> Answer {
    let mut a = Answer::default();
    for d in data {
        match d {
            RData::A(ip) => a.ips.push(IpAddr::V4(ip.0)),
            RData::AAAA(ip) => a.ips.push(IpAddr::V6(ip.0)),
            RData::CNAME(name) => a.names.push(name.0.to_string()),
            _ => {}
        }
    }
    a
}

/// The demo's resolvers: they answer the demo policy's weights as clients see
/// them, the weights in force one TTL ago (a change reaches clients only when
/// the answers cached before it have expired).
pub struct DemoResolvers {
    policy: Box<dyn Fn() -> Option<TrafficPolicy> + Send + Sync>,
    clock: Arc<dyn Clock>,
    names: Vec<String>,
    /// Each set of weights seen, with when it was first seen (oldest first).
    seen: Mutex<Vec<(DateTime<Utc>, TrafficPolicy)>>,
}

impl DemoResolvers {
    /// `before`: the policy in force before the change being followed (clients
    /// have had it for longer than any TTL); `policy` reads the current one.
    pub fn new(
        names: Vec<String>,
        clock: Arc<dyn Clock>,
        before: Option<TrafficPolicy>,
        policy: impl Fn() -> Option<TrafficPolicy> + Send + Sync + 'static,
    ) -> DemoResolvers {
        let seen = before.map(|p| (DateTime::<Utc>::MIN_UTC, p)).into_iter().collect();
        DemoResolvers { policy: Box::new(policy), clock, names, seen: Mutex::new(seen) }
    }

    /// The policy as clients see it at `now`.
    fn visible(&self, now: DateTime<Utc>) -> Option<TrafficPolicy> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = (self.policy)() {
            let weights = |x: &TrafficPolicy| x.endpoints.iter().map(|e| e.weight).collect::<Vec<u32>>();
            if seen.last().is_none_or(|(_, last)| weights(last) != weights(&p)) {
                // The first policy seen has been in force for longer than any TTL.
                let since = if seen.is_empty() { DateTime::<Utc>::MIN_UTC } else { now };
                seen.push((since, p));
            }
        }
        let ttl = |p: &TrafficPolicy| chrono::Duration::seconds(i64::from(p.ttl_secs));
        seen.iter()
            .rev()
            .find(|(since, p)| *since == DateTime::<Utc>::MIN_UTC || *since + ttl(p) <= now)
            .map(|(_, p)| p.clone())
    }
}

#[async_trait]
impl Resolvers for DemoResolvers {
    async fn round(&self, _record: &str, samples: u32) -> Vec<ResolverSample> {
        let now = self.clock.now();
        let policy = self.visible(now);
        self.names
            .iter()
            .map(|name| {
                let answers = match &policy {
                    Some(p) => spread(p, samples).into_iter().map(Ok).collect(),
                    None => vec![Err("the demo estate has no such policy".to_string()); samples as usize],
                };
                ResolverSample { resolver: name.clone(), answers }
            })
            .collect()
    }
}

/// `samples` answers in the policy's shares (largest remainder), each an
/// endpoint's target: its address, or a CNAME to its name.
fn spread(p: &TrafficPolicy, samples: u32) -> Vec<Answer> {
    let shares = p.shares();
    let exact: Vec<f64> = shares.iter().map(|s| s * f64::from(samples)).collect();
    let mut counts: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|a, b| (exact[*b] - exact[*b].floor()).total_cmp(&(exact[*a] - exact[*a].floor())));
    let short = samples.saturating_sub(counts.iter().sum());
    for i in order.into_iter().take(short as usize) {
        counts[i] += 1;
    }
    p.endpoints
        .iter()
        .zip(counts)
        .flat_map(|(e, n)| {
            let a = match e.target.parse::<IpAddr>() {
                Ok(ip) => Answer { names: vec![], ips: vec![ip] },
                Err(_) => Answer { names: vec![e.target.clone()], ips: vec![] },
            };
            std::iter::repeat_n(a, n as usize)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, reference_instant};
    use crate::model::{CloudKind, Endpoint, Health, PolicyKind, SourceId};

    fn policy(aws: u32, azure: u32) -> TrafficPolicy {
        let ep = |cloud: CloudKind, target: &str, weight| Endpoint {
            name: cloud.slug().into(),
            cloud,
            target: target.into(),
            weight,
            health: Health::Ok,
            check: String::new(),
        };
        TrafficPolicy {
            source: SourceId::new("demo"),
            name: "www.example.com".into(),
            kind: PolicyKind::Global,
            ttl_secs: 60,
            endpoints: vec![ep(CloudKind::Aws, "10.0.0.1", aws), ep(CloudKind::Azure, "front.azure.example", azure)],
            detection: None,
        }
    }

    /// The demo's resolvers hand out the old weights until one TTL after the
    /// new ones were first seen, then the new ones, in their shares.
    #[tokio::test]
    async fn demo_answers_follow_the_weights_one_ttl_late() {
        let clock = Arc::new(ManualClock::new(reference_instant()));
        let current = Arc::new(Mutex::new(policy(50, 50)));
        let cell = current.clone();
        let r = DemoResolvers::new(vec!["system".into()], clock.clone(), Some(policy(50, 50)), move || {
            Some(cell.lock().unwrap_or_else(|e| e.into_inner()).clone())
        });
        let azure_share = |s: &[ResolverSample]| {
            let answers: Vec<&Answer> = s[0].answers.iter().flatten().collect();
            let azure = answers.iter().filter(|a| a.names.iter().any(|n| n == "front.azure.example")).count();
            (azure, answers.len())
        };
        assert_eq!(azure_share(&r.round("www.example.com", 8).await), (4, 8));
        *current.lock().unwrap_or_else(|e| e.into_inner()) = policy(0, 100);
        assert_eq!(azure_share(&r.round("www.example.com", 8).await), (4, 8), "the change is seen, not yet served");
        clock.advance(chrono::Duration::seconds(59));
        assert_eq!(azure_share(&r.round("www.example.com", 8).await), (4, 8));
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(azure_share(&r.round("www.example.com", 8).await), (8, 8), "one TTL on");
        let ips: Vec<IpAddr> = spread(&policy(1, 0), 2).into_iter().flat_map(|a| a.ips).collect();
        assert_eq!(ips, vec![IpAddr::from([10, 0, 0, 1]); 2]);
    }
}
