use serde::Serialize;

use super::CloudKind;

/// Month-to-date spend and the forecast to month end, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostSnapshot {
    pub cloud: CloudKind,
    pub currency: String,
    pub month_to_date: f64,
    pub forecast: f64,
    /// (service, month-to-date) sorted by spend, largest first.
    pub by_service: Vec<(String, f64)>,
}

/// Price of the next instance a scale-out would add, on demand and spot/preemptible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotPrice {
    pub cloud: CloudKind,
    pub region: String,
    pub instance_type: String,
    pub currency: String,
    pub on_demand_hourly: f64,
    pub spot_hourly: f64,
}

impl SpotPrice {
    /// Saving of spot over on-demand, 0..1.
    pub fn discount(&self) -> f64 {
        if self.on_demand_hourly <= 0.0 {
            return 0.0;
        }
        1.0 - self.spot_hourly / self.on_demand_hourly
    }
}
