//! Pure domain types: what opsdeck knows about an estate. No I/O, no terminal.
//!
//! Providers produce a [`SourceReport`]; the collector merges the latest report of
//! every source into one immutable [`Fleet`], which is all the UI ever reads.

mod alert;
mod cloud;
mod cost;
mod fleet;
mod health;
mod replication;
mod scaling;
mod traffic;

pub use alert::{Alert, AlertState, Severity};
pub use cloud::{CloudKind, SourceId};
pub use cost::{CostSnapshot, SpotPrice};
pub use fleet::{CloudSummary, Fleet, Freshness, SourceStatus, TrafficHistory, TrafficPoint};
pub use health::Health;
pub use replication::{Replication, ReplicationKind};
pub use scaling::{ScalingGroup, ZoneCapacity};
pub use traffic::{Arbiter, CloudMetrics, Endpoint, NotificationRoute, PolicyKind, TrafficPolicy};

/// Everything one source saw in one poll. Every item carries its cloud so a
/// single source (the demo, Prometheus) can report on several clouds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceReport {
    pub metrics: Vec<CloudMetrics>,
    pub groups: Vec<ScalingGroup>,
    pub policies: Vec<TrafficPolicy>,
    pub replication: Vec<Replication>,
    pub costs: Vec<CostSnapshot>,
    pub spot_prices: Vec<SpotPrice>,
    pub alerts: Vec<Alert>,
    pub routes: Vec<NotificationRoute>,
    pub arbiter: Option<Arbiter>,
    /// Chaos drills in force (demo only), so every view can say the data is drilled.
    pub drills: Vec<String>,
}
