//! What the drills in force do to one cloud at one instant.

use chrono::{DateTime, Utc};

use super::super::drill::{Drill, DrillBook};
use crate::model::CloudKind;

/// Everything the drills do to one cloud at one instant.
#[derive(Debug, Default, Clone)]
pub(super) struct Effects {
    /// Zones out, with intensity and seconds active.
    pub zones_out: Vec<(String, f64, f64)>,
    /// Database down: (intensity, seconds active).
    pub db_down: Option<(f64, f64)>,
    /// Added latency on links from this cloud: (peer, ms * intensity).
    pub link_ms: Vec<(CloudKind, f64)>,
}

pub(super) fn effects_for(cloud: CloudKind, book: &DrillBook, now: DateTime<Utc>) -> Effects {
    let mut fx = Effects::default();
    for e in book.entries() {
        let k = e.intensity(now);
        if k <= 0.0 {
            continue;
        }
        let secs = e.active_secs(now);
        match &e.drill {
            Drill::AzOutage { cloud: c, zone } if *c == cloud => fx.zones_out.push((zone.clone(), k, secs)),
            Drill::DbPrimaryDown { cloud: c } if *c == cloud => fx.db_down = Some((k, secs)),
            Drill::LinkLatency { a, b, ms } if *a == cloud => fx.link_ms.push((*b, ms * k)),
            Drill::LinkLatency { a, b, ms } if *b == cloud => fx.link_ms.push((*a, ms * k)),
            _ => {}
        }
    }
    fx
}

/// Latency added on the link to `peer`.
pub(super) fn link_ms(fx: &Effects, peer: CloudKind) -> f64 {
    fx.link_ms.iter().filter(|(p, _)| *p == peer).map(|(_, ms)| ms).sum()
}
