//! Scaling groups: an autoscaler that tracks its CPU target, zones lost to
//! drills, and the replacement instances a group starts elsewhere.

use super::super::estate::{CloudSpec, GroupSpec};
use super::effects::Effects;
use crate::model::{ScalingGroup, SourceId, ZoneCapacity};

/// CPU the autoscaler aims for.
pub(super) const TARGET_UTILISATION: f64 = 0.6;
/// An Auto Scaling group replaces lost capacity in other zones after this delay...
const REPLACEMENT_DELAY_SECS: f64 = 60.0;
/// ...over this long.
const REPLACEMENT_RAMP_SECS: f64 = 60.0;

/// Split `n` instances over zones, round-robin from the first.
fn spread(n: u32, zones: usize) -> Vec<u32> {
    let zones = zones.max(1) as u32;
    (0..zones).map(|i| n / zones + u32::from(i < n % zones)).collect()
}

/// The group as the autoscaler leaves it for `demand_rps`, or at the desired
/// capacity an operator pinned.
pub(super) fn scaling_group(
    spec: &CloudSpec,
    g: &GroupSpec,
    fx: &Effects,
    demand_rps: f64,
    pinned: Option<u32>,
    source: &SourceId,
) -> ScalingGroup {
    let needed = (demand_rps / (g.rps_per_instance * TARGET_UTILISATION)).ceil() as u32;
    let desired = pinned.unwrap_or(needed).clamp(g.min, g.max);
    let per_zone = spread(desired, spec.zones.len());
    let mut lost = 0u32;
    let mut replacement = 0.0f64;
    let mut zones: Vec<ZoneCapacity> = spec
        .zones
        .iter()
        .zip(per_zone)
        .map(|(zone, n)| {
            // A zone is out while its drill is active or still fading (until half-recovered).
            let out = fx.zones_out.iter().find(|(z, k, _)| z == zone && *k > 0.5);
            if let Some((_, _, secs)) = out {
                lost += n;
                replacement =
                    replacement.max(((secs - REPLACEMENT_DELAY_SECS) / REPLACEMENT_RAMP_SECS).clamp(0.0, 1.0));
                ZoneCapacity { zone: zone.clone(), in_service: 0, healthy: 0 }
            } else {
                ZoneCapacity { zone: zone.clone(), in_service: n, healthy: n }
            }
        })
        .collect();
    let replaced = (f64::from(lost) * replacement).round() as u32;
    let survivors: Vec<usize> = (0..zones.len()).filter(|i| zones[*i].in_service > 0 || lost == 0).collect();
    if !survivors.is_empty() {
        for (i, extra) in survivors.iter().zip(spread(replaced, survivors.len())) {
            zones[*i].in_service += extra;
            zones[*i].healthy += extra;
        }
    }
    ScalingGroup {
        source: source.clone(),
        cloud: spec.kind,
        region: spec.region.clone(),
        name: g.name.clone(),
        min: g.min,
        max: g.max,
        desired,
        zones,
        spot_share: g.spot_share,
        rps_per_instance: Some(g.rps_per_instance),
        inactive: false,
        instance_type: Some(g.instance_type.clone()),
    }
}
