//! Cross-cloud links: the interconnects and paths between two clouds the shop
//! depends on (replication, dual writes, failover traffic), measured against a
//! latency target.

use serde::Serialize;

use super::CloudKind;

/// One link as last measured. Every figure is None when nothing measured it:
/// "unknown", never 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub name: String,
    pub a: CloudKind,
    pub b: CloudKind,
    /// Round trip over the link, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Share of probes lost in the last round, 0..1.
    pub loss: Option<f64>,
    /// Traffic over the link (the interconnect's own metric), bits per second.
    /// No source reads interconnect metrics yet: always None (unknown) today.
    pub bps: Option<f64>,
    /// The interconnect's own state (Direct Connect ConnectionState, BGP
    /// availability), when a metric says; like `bps`, not read by any source yet.
    pub up: Option<bool>,
    /// Round-trip target, in milliseconds.
    pub target_ms: f64,
    /// How each figure was measured, in words ("tcp 10.0.0.5:5432", "PromQL").
    pub via: Vec<String>,
    /// Why a measurement failed, in words (one line).
    pub error: Option<String>,
}

impl Link {
    /// Over target when its round trip is, or when the interconnect says it is
    /// down; None when nothing measured it.
    pub fn over_target(&self) -> Option<bool> {
        if self.up == Some(false) {
            return Some(true);
        }
        self.rtt_ms.map(|rtt| rtt > self.target_ms)
    }
}
