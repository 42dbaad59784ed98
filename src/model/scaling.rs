use serde::Serialize;

use super::{CloudKind, Health, SourceId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneCapacity {
    pub zone: String,
    pub in_service: u32,
    pub healthy: u32,
}

/// An Auto Scaling group, VM Scale Set or ESS scaling group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingGroup {
    /// The source that reported the group (and can change it).
    pub source: SourceId,
    pub cloud: CloudKind,
    pub region: String,
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    pub zones: Vec<ZoneCapacity>,
    /// Share of instances on spot / preemptible capacity, 0..1.
    pub spot_share: f64,
    /// Requests/s one instance serves at full load, when known (sizing data).
    pub rps_per_instance: Option<f64>,
    /// The cloud reports the group switched off (an ESS group in `Inactive` state):
    /// it is not expected to serve, so its empty zones are not an outage.
    pub inactive: bool,
}

impl ScalingGroup {
    pub fn in_service(&self) -> u32 {
        self.zones.iter().map(|z| z.in_service).sum()
    }
    pub fn healthy(&self) -> u32 {
        self.zones.iter().map(|z| z.healthy).sum()
    }
    pub fn health(&self) -> Health {
        let healthy = self.healthy();
        if healthy == 0 {
            Health::Down
        } else if healthy < self.desired || healthy < self.min {
            Health::Degraded
        } else {
            Health::Ok
        }
    }
}
