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
    /// The instance type (VM size, ECS instance type) the next scale-out adds,
    /// when the cloud says: what the spot price comparison prices.
    pub instance_type: Option<String>,
}

/// Why a group is not expected to serve, when it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdleReason {
    /// The cloud reports the group switched off (ESS `Inactive`).
    Inactive,
    /// Desired capacity 0 and nothing running: scaled to zero on purpose.
    ScaledToZero,
}

impl IdleReason {
    pub fn label(self) -> &'static str {
        match self {
            IdleReason::Inactive => "inactive",
            IdleReason::ScaledToZero => "idle",
        }
    }
}

impl ScalingGroup {
    pub fn in_service(&self) -> u32 {
        self.zones.iter().map(|z| z.in_service).sum()
    }
    pub fn healthy(&self) -> u32 {
        self.zones.iter().map(|z| z.healthy).sum()
    }

    /// Why the group is idle, if it is. A group with desired 0 that still has
    /// instances in service is scaling in, not idle: it is judged on what runs. One
    /// whose floor is above zero and has nothing left lost its instances (launch
    /// failures, a stock-out, or a desired read as 0 because the cloud has no
    /// expected-capacity mode): an outage, not idle.
    pub fn idle(&self) -> Option<IdleReason> {
        if self.inactive {
            Some(IdleReason::Inactive)
        } else if self.desired == 0 && self.min == 0 && self.in_service() == 0 && self.healthy() == 0 {
            Some(IdleReason::ScaledToZero)
        } else {
            None
        }
    }

    pub fn health(&self) -> Health {
        if self.idle().is_some() {
            return Health::Idle;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn group(desired: u32, healthy: u32, inactive: bool) -> ScalingGroup {
        ScalingGroup {
            source: SourceId::new("s"),
            cloud: CloudKind::Aliyun,
            region: "cn-hangzhou".into(),
            name: "g".into(),
            min: 0,
            max: 4,
            desired,
            zones: vec![ZoneCapacity { zone: "z".into(), in_service: healthy, healthy }],
            spot_share: 0.0,
            rps_per_instance: None,
            inactive,
            instance_type: None,
        }
    }

    #[test]
    fn a_group_scaled_to_zero_is_idle_not_down() {
        let g = group(0, 0, false);
        assert_eq!((g.idle(), g.health()), (Some(IdleReason::ScaledToZero), Health::Idle));
        // Desired 2 with nothing healthy is an outage.
        assert_eq!(group(2, 0, false).health(), Health::Down);
        // Desired 0 while instances still run: scaling in, judged on what runs.
        let draining = group(0, 2, false);
        assert_eq!((draining.idle(), draining.health()), (None, Health::Ok));
        // A floor of 2 and nothing left: the instances were lost, not scaled away.
        let lost = ScalingGroup { min: 2, ..group(0, 0, false) };
        assert_eq!((lost.idle(), lost.health()), (None, Health::Down));
    }

    #[test]
    fn an_inactive_group_is_inactive_whatever_its_counts() {
        for (desired, healthy) in [(0, 0), (3, 0), (3, 3)] {
            let g = group(desired, healthy, true);
            assert_eq!((g.idle(), g.health()), (Some(IdleReason::Inactive), Health::Idle), "{desired}/{healthy}");
        }
    }
}
