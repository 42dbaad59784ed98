//! The sections of one poll. Each succeeds or fails on its own: a source whose
//! alarms cannot be read still shows its groups and metrics, and the failed
//! section keeps its last good data, marked stale with the reason.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::SourceReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Groups,
    Alerts,
    Metrics,
    Records,
    Cost,
    Replication,
    Prices,
    Routes,
    Links,
}

impl Section {
    pub const ALL: [Section; 9] = [
        Section::Groups,
        Section::Alerts,
        Section::Metrics,
        Section::Records,
        Section::Cost,
        Section::Replication,
        Section::Prices,
        Section::Routes,
        Section::Links,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Section::Groups => "groups",
            Section::Alerts => "alerts",
            Section::Metrics => "metrics",
            Section::Records => "records",
            Section::Cost => "cost",
            Section::Replication => "replication",
            Section::Prices => "prices",
            Section::Routes => "routes",
            Section::Links => "links",
        }
    }

    /// Whether not reading this section leaves the estate's health unknown. Prices
    /// and paging routes inform decisions but say nothing of whether the shop is
    /// up: a role without `sns:ListSubscriptionsByTopic` must not turn every
    /// check UNKNOWN.
    pub fn bears_on_health(self) -> bool {
        !matches!(self, Section::Prices | Section::Routes)
    }

    /// Copy this section's data from `from` into `to` (the last good data of a
    /// section that failed this time).
    pub fn carry(self, from: &SourceReport, to: &mut SourceReport) {
        match self {
            Section::Groups => to.groups.clone_from(&from.groups),
            Section::Alerts => {
                to.alerts.clone_from(&from.alerts);
            }
            Section::Routes => to.routes.clone_from(&from.routes),
            Section::Links => to.links.clone_from(&from.links),
            // Each item with the source that read it (see SourceReport::origins).
            Section::Metrics => {
                to.metrics.clone_from(&from.metrics);
                to.origins.metrics.clone_from(&from.origins.metrics);
            }
            Section::Records => to.policies.clone_from(&from.policies),
            Section::Cost => {
                to.costs.clone_from(&from.costs);
                to.origins.costs.clone_from(&from.origins.costs);
            }
            Section::Replication => {
                to.replication.clone_from(&from.replication);
                to.origins.replication.clone_from(&from.origins.replication);
            }
            Section::Prices => {
                to.spot_prices.clone_from(&from.spot_prices);
                to.origins.spot_prices.clone_from(&from.origins.spot_prices);
            }
        }
    }
}

/// A section the provider could not read this poll.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionFailure {
    pub section: Section,
    pub reason: String,
}

/// A section of a source that is stale while the rest is live.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartialSection {
    pub section: Section,
    pub reason: String,
    /// When the data shown for it was read; None if never.
    pub last_ok: Option<DateTime<Utc>>,
}
