//! Where each configured SLO stands: availability so far, error budget left and
//! burn rates, for one cloud or the whole shop (and its clouds). Computed by
//! `crate::slo` from the history opsdeck holds (or Prometheus' own); a figure with
//! no events behind it is None ("unknown"), never 100 % and never 0.

use serde::Serialize;

use super::CloudKind;

/// The multi-window burn-rate alert of the SRE workbook that is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BurnAlert {
    /// burn(3d) > 1 and burn(6h) > 1: the budget will be gone before the window ends.
    Ticket,
    /// burn(1h) > 14.4 and burn(5m) > 14.4, or burn(6h) > 6 and burn(30m) > 6.
    Page,
}

impl BurnAlert {
    pub fn label(self) -> &'static str {
        match self {
            BurnAlert::Page => "PAGE",
            BurnAlert::Ticket => "TICKET",
        }
    }
}

/// Burn rates (error ratio over the span ÷ the allowed error ratio) over the
/// spans the alerts use. None: no events in the span.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Burns {
    pub m5: Option<f64>,
    pub m30: Option<f64>,
    pub h1: Option<f64>,
    pub h6: Option<f64>,
    /// Only when the window is at least 3 days.
    pub d3: Option<f64>,
}

/// One scope's figures: the whole shop (`cloud` None) or one cloud.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloFigures {
    pub cloud: Option<CloudKind>,
    /// Seconds of the window opsdeck holds data for.
    pub covered_secs: f64,
    /// Events and bad events in the covered part (None when nothing is covered).
    pub total: Option<f64>,
    pub bad: Option<f64>,
    /// 1 − bad/total over the covered part, 0..1.
    pub availability: Option<f64>,
    /// Fraction of the whole window's error budget not yet spent (negative: overspent).
    pub budget_left: Option<f64>,
    pub burn: Burns,
    pub alert: Option<BurnAlert>,
}

impl SloFigures {
    /// A scope nothing is known about.
    pub fn unknown(cloud: Option<CloudKind>) -> SloFigures {
        SloFigures {
            cloud,
            covered_secs: 0.0,
            total: None,
            bad: None,
            availability: None,
            budget_left: None,
            burn: Burns::default(),
            alert: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloStatus {
    pub name: String,
    /// Percent, e.g. 99.995.
    pub objective_pct: f64,
    /// As configured: "30d".
    pub window: String,
    pub window_secs: u64,
    /// None: the whole shop, traffic-weighted across clouds.
    pub cloud: Option<CloudKind>,
    /// "traffic" (the 5xx ratio opsdeck polls) or "prometheus NAME".
    pub measured_by: String,
    /// The SLO's own scope.
    pub overall: SloFigures,
    /// For a shop-wide SLO, each cloud's share of it; empty for a one-cloud SLO.
    pub clouds: Vec<SloFigures>,
    /// Why figures are unknown, when something can say (one line).
    pub note: Option<String>,
}
