//! Pure domain types: what opsdeck knows about an estate. No I/O, no terminal.
//!
//! Providers produce a [`SourceReport`]; the collector merges the latest report of
//! every source into one immutable [`Fleet`], which is all the UI ever reads.

mod action;
mod alert;
mod cloud;
pub mod cost;
mod fleet;
mod guard;
mod health;
mod labels;
mod link;
mod parts;
mod replication;
mod routes;
pub mod rto;
mod scaling;
mod section;
mod slo;
#[cfg(test)]
mod tests;
mod timeline;
mod traffic;

pub use action::{ActionKind, Actor, AlertMark, AnswerWeight, Change, Intent, Plan, inverse_of};
pub use alert::{Alert, AlertState, Severity};
pub use cloud::{CloudKind, SourceId};
pub use cost::{Cheapest, CostSnapshot, CurrencyTotal, Forecast, Rates, SpotPrice};
pub use fleet::{CloudSummary, DEMO_KIND, Fleet, Freshness, RegionSummary, SourceStatus, TrafficHistory, TrafficPoint};
pub use guard::GuardKey;
pub use health::Health;
pub use labels::Labels;
pub use link::Link;
pub use parts::Parts;
pub use replication::{Replication, ReplicationKind};
pub use routes::{Channel, NotificationRoute, mask_target};
pub use scaling::{IdleReason, ScalingGroup, ZoneCapacity};
pub use section::{PartialSection, Section, SectionFailure};
pub use slo::{BurnAlert, Burns, SloFigures, SloStatus};
pub use timeline::{EventKind, Origin, TimelineEvent, alert_line};
pub use traffic::{Arbiter, CloudMetrics, Detection, Endpoint, PolicyKind, TrafficPolicy};

use std::sync::Arc;

/// Everything one source saw in one poll. Every item carries its cloud so a
/// single source (the demo, Prometheus) can report on several clouds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceReport {
    pub metrics: Vec<CloudMetrics>,
    /// Shared with every Fleet built from this report (see [`Parts`]).
    pub groups: Arc<Vec<ScalingGroup>>,
    pub policies: Vec<TrafficPolicy>,
    pub replication: Vec<Replication>,
    pub costs: Vec<CostSnapshot>,
    pub spot_prices: Vec<SpotPrice>,
    /// Shared with every Fleet built from this report (see [`Parts`]).
    pub alerts: Arc<Vec<Alert>>,
    pub routes: Vec<NotificationRoute>,
    /// Cross-cloud links this source measured.
    pub links: Vec<Link>,
    /// Split-brain witnesses this source probed (the arbiter source, or the demo).
    pub arbiters: Vec<Arbiter>,
    /// Chaos drills in force (demo only), so every view can say the data is drilled.
    pub drills: Vec<String>,
    /// SLOs this source measured itself (the `slo` source, over Prometheus).
    pub slos: Vec<SloStatus>,
    /// What this poll cost at the cloud's API, when the provider can tell.
    pub poll_cost: Option<PollCost>,
    /// Past traffic points (oldest first) a source can read back, e.g. Prometheus'
    /// query_range on its first poll, so the traffic pane has a series at once.
    pub history: Vec<(CloudKind, TrafficPoint)>,
    /// Which source read each item of the sections whose items carry no source of
    /// their own, when that is not this report's source (a reader of another
    /// opsdeck's exporter); empty means all of them are this source's.
    pub origins: Origins,
    /// Sections this poll could not read; the collector keeps their last good data.
    pub failed: Vec<SectionFailure>,
    /// Sources another opsdeck polls, as read back through its exporter (Prometheus
    /// with `schema = "opsdeck"`): items of this report keep those sources' ids, and
    /// the Fleet gives each a status row of its own (see [`Fleet::merge`]).
    pub upstream: Vec<SourceStatus>,
}

impl SourceReport {
    /// Take the previous poll's alerts and groups where this poll read the same:
    /// the lists already published stay the ones every Fleet shares, this poll's
    /// copies are freed at once, and the console sees that nothing changed there
    /// (its derived rows are kept). Most polls of a big Alertmanager change nothing.
    pub fn share_unchanged(&mut self, previous: &SourceReport) {
        if Arc::ptr_eq(&self.alerts, &previous.alerts) || self.alerts == previous.alerts {
            self.alerts = previous.alerts.clone();
        }
        if Arc::ptr_eq(&self.groups, &previous.groups) || self.groups == previous.groups {
            self.groups = previous.groups.clone();
        }
    }
}

/// The source that read each item, position by position (see `SourceReport::origins`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origins {
    pub metrics: Vec<SourceId>,
    pub replication: Vec<SourceId>,
    pub costs: Vec<SourceId>,
    pub spot_prices: Vec<SourceId>,
    pub arbiters: Vec<SourceId>,
}

impl Origins {
    pub fn all(&self) -> impl Iterator<Item = &SourceId> {
        self.metrics.iter().chain(&self.replication).chain(&self.costs).chain(&self.spot_prices).chain(&self.arbiters)
    }
}

/// What polling a source costs, so an operator can see the bill a console runs up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollCost {
    /// HTTP requests the last poll made (retries included).
    pub api_calls: u32,
    /// Metrics requested per poll from an API billed per metric (CloudWatch GetMetricData).
    pub billed_metrics: u32,
    /// Monthly cost that does not depend on the poll interval (e.g. hourly Cost Explorer reads), USD.
    pub fixed_monthly_usd: f64,
    /// Read requests the cloud says are left in its throttling window (Azure's
    /// `x-ms-ratelimit-remaining-subscription-reads`), when it says.
    pub remaining_reads: Option<u32>,
    /// Calls of the reads made only every so often (prices: hourly), as
    /// (calls of the last such read, every how many seconds). Where they go
    /// through the same counted client (AWS) they are in `api_calls` of the poll
    /// that made them too; `api_calls` of Azure counts Resource Manager alone.
    pub slow_calls: Option<(u32, u64)>,
}

impl PollCost {
    /// CloudWatch: $0.01 per 1,000 metrics requested through GetMetricData.
    pub const USD_PER_1000_METRICS: f64 = 0.01;

    /// Estimated monthly bill at a poll every `interval_secs`.
    pub fn monthly_usd(&self, interval_secs: u64) -> f64 {
        let polls = 30.0 * 86_400.0 / interval_secs.max(1) as f64;
        f64::from(self.billed_metrics) * polls / 1000.0 * Self::USD_PER_1000_METRICS + self.fixed_monthly_usd
    }
}
