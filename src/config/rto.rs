//! `[rto]`: how a failover is followed until traffic has moved: which resolvers
//! are asked (and how many times a round), how long the follow lasts, and the
//! record to ask for when a policy's name is not a resolvable name.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RtoConfig {
    /// `"system"` (/etc/resolv.conf), an IP (port 53) or `ip:port` / `[ipv6]:port`.
    #[serde(default = "default_resolvers")]
    pub resolvers: Vec<String>,
    /// Queries per resolver per round: the answers counted per cloud.
    #[serde(default = "default_samples")]
    pub samples: u32,
    /// How long a follow lasts at most; unfinished phases are "not reached".
    #[serde(default = "default_deadline")]
    pub deadline_secs: u32,
    /// Seconds between rounds.
    #[serde(default = "default_poll")]
    pub poll_secs: u32,
    /// How long one DNS query may take.
    #[serde(default = "default_query_timeout")]
    pub query_timeout_secs: f64,
    /// Policy name → the record to resolve, where the policy's name is not it.
    #[serde(default)]
    pub records: BTreeMap<String, String>,
}

fn default_resolvers() -> Vec<String> {
    vec!["system".into()]
}
fn default_samples() -> u32 {
    8
}
fn default_deadline() -> u32 {
    600
}
fn default_poll() -> u32 {
    3
}
fn default_query_timeout() -> f64 {
    2.0
}

impl Default for RtoConfig {
    fn default() -> Self {
        RtoConfig {
            resolvers: default_resolvers(),
            samples: default_samples(),
            deadline_secs: default_deadline(),
            poll_secs: default_poll(),
            query_timeout_secs: default_query_timeout(),
            records: BTreeMap::new(),
        }
    }
}

/// One configured resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolverSpec {
    /// The system's resolvers (/etc/resolv.conf).
    System,
    At(SocketAddr),
}

impl ResolverSpec {
    pub fn parse(s: &str) -> Result<ResolverSpec, String> {
        let s = s.trim();
        if s == "system" {
            return Ok(ResolverSpec::System);
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(ResolverSpec::At(SocketAddr::new(ip, 53)));
        }
        s.parse::<SocketAddr>().map(ResolverSpec::At).map_err(|_| {
            format!("'{s}' is not a resolver: \"system\", an IP address, or ip:port (IPv6 as [addr]:port)")
        })
    }
}

impl RtoConfig {
    /// What is wrong with the table, as (key, message).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.resolvers.is_empty() {
            return Err(("resolvers", "at least one resolver is needed (e.g. [\"system\"])".into()));
        }
        for r in &self.resolvers {
            ResolverSpec::parse(r).map_err(|m| ("resolvers", m))?;
        }
        if !(1..=100).contains(&self.samples) {
            return Err(("samples", format!("samples must be between 1 and 100, not {}", self.samples)));
        }
        if !(10..=86_400).contains(&self.deadline_secs) {
            return Err((
                "deadline_secs",
                format!("deadline_secs must be between 10 and 86400, not {}", self.deadline_secs),
            ));
        }
        if !(1..=300).contains(&self.poll_secs) {
            return Err(("poll_secs", format!("poll_secs must be between 1 and 300, not {}", self.poll_secs)));
        }
        if !(self.query_timeout_secs.is_finite() && self.query_timeout_secs > 0.0 && self.query_timeout_secs <= 30.0) {
            return Err(("query_timeout_secs", "query_timeout_secs must be above 0 and at most 30".into()));
        }
        for (policy, record) in &self.records {
            let ok = !record.is_empty()
                && record.len() <= 253
                && record.trim_end_matches('.').split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
            if !ok {
                return Err(("records", format!("the record of {policy}, '{record}', is not a DNS name")));
            }
        }
        Ok(())
    }

    pub fn specs(&self) -> Vec<(String, ResolverSpec)> {
        self.resolvers.iter().filter_map(|r| ResolverSpec::parse(r).ok().map(|s| (r.clone(), s))).collect()
    }

    pub fn query_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.query_timeout_secs)
    }

    /// The name to resolve for `policy`.
    pub fn record_of(&self, policy: &str) -> String {
        self.records.get(policy).cloned().unwrap_or_else(|| policy.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolvers_are_system_an_ip_or_an_address_with_port() {
        assert_eq!(ResolverSpec::parse("system"), Ok(ResolverSpec::System));
        assert_eq!(ResolverSpec::parse("1.1.1.1"), Ok(ResolverSpec::At("1.1.1.1:53".parse().expect("addr"))));
        assert_eq!(ResolverSpec::parse("9.9.9.9:5353"), Ok(ResolverSpec::At("9.9.9.9:5353".parse().expect("addr"))));
        assert_eq!(ResolverSpec::parse("[::1]:53"), Ok(ResolverSpec::At("[::1]:53".parse().expect("addr"))));
        assert!(ResolverSpec::parse("dns.google").is_err());
    }
}
