use serde::Serialize;

use super::{CloudKind, Health, SourceId};

/// Front-door figures of one cloud region. Each is None when the source did not
/// report it (no load balancer configured, no datapoint, no series): a figure
/// nobody measured is unknown, never 0, so it reads "–" and judges nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloudMetrics {
    pub cloud: CloudKind,
    pub region: String,
    pub rps: Option<f64>,
    pub p95_ms: Option<f64>,
    /// 5xx responses as a fraction of all, 0..1.
    pub error_rate: Option<f64>,
    /// Average CPU of the web tier, 0..1.
    pub cpu: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyKind {
    Route53,
    TrafficManager,
    Gtm,
    /// A multi-cloud policy spanning several DNS services.
    Global,
}

impl PolicyKind {
    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::Route53 => "Route 53",
            PolicyKind::TrafficManager => "Traffic Manager",
            PolicyKind::Gtm => "GTM",
            PolicyKind::Global => "global",
        }
    }
}

/// One DNS answer in a traffic policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub name: String,
    pub cloud: CloudKind,
    pub target: String,
    pub weight: u32,
    pub health: Health,
    /// Health-check description or last observation.
    pub check: String,
}

/// DNS-based traffic steering between clouds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrafficPolicy {
    /// The source that reported the policy (and can change it).
    pub source: SourceId,
    pub name: String,
    pub kind: PolicyKind,
    pub ttl_secs: u32,
    pub endpoints: Vec<Endpoint>,
    /// How long the DNS service takes to notice a dead answer and fail over by
    /// itself (health-check interval × failures tolerated), when it does and the
    /// source says; None = unknown or no automatic failover (and left out of
    /// the snapshot JSON then, which had no such field before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<Detection>,
}

/// Health-check detection: a dead answer is withdrawn after `failures` failed
/// checks `interval_secs` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub interval_secs: u32,
    pub failures: u32,
}

impl Detection {
    pub fn secs(self) -> u32 {
        self.interval_secs.saturating_mul(self.failures)
    }
}

impl TrafficPolicy {
    /// Share of answers each endpoint gets: weighted among healthy endpoints, as DNS
    /// services do (unhealthy answers are withheld while a healthy one remains).
    pub fn shares(&self) -> Vec<f64> {
        let serving = |e: &Endpoint| e.health != Health::Down;
        let healthy_total: u32 = self.endpoints.iter().filter(|e| serving(e)).map(|e| e.weight).sum();
        let (total, filter_down) = if healthy_total > 0 {
            (healthy_total, true)
        } else {
            (self.endpoints.iter().map(|e| e.weight).sum(), false)
        };
        self.endpoints
            .iter()
            .map(
                |e| {
                    if total == 0 || (filter_down && !serving(e)) {
                        0.0
                    } else {
                        f64::from(e.weight) / f64::from(total)
                    }
                },
            )
            .collect()
    }
}

/// A split-brain witness in a fourth location, as last probed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arbiter {
    pub name: String,
    pub location: String,
    pub reachable: bool,
    /// Round trip of the last probe that answered; None when it did not.
    pub rtt_ms: Option<f64>,
    /// Why the last probe failed, in words (one line, from the probe itself).
    pub error: Option<String>,
}
