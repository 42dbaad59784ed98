//! Replication: the primary database and cache feed every other cloud, and
//! buckets dual-write to a peer. Lag grows with link latency and stalls while a
//! database is down.

use super::super::estate::{CloudSpec, EstateSpec};
use super::CloudState;
use super::effects::{Effects, link_ms};
use super::noise::{noise, stream};
use crate::model::{Replication, ReplicationKind};

/// How far one replica trails the primary.
pub(super) struct ReplicaLag<'a> {
    pub primary: &'a CloudSpec,
    pub replica: &'a CloudSpec,
    pub db_secs: f64,
    pub cache_secs: f64,
}

/// Objects one bucket has not yet written to its peer.
pub(super) struct Backlog<'a> {
    pub from: &'a CloudSpec,
    pub to: &'a CloudSpec,
    pub objects: f64,
}

fn effects<'a>(clouds: &'a [CloudState], c: &CloudSpec) -> Option<&'a Effects> {
    clouds.iter().find(|s| s.spec.kind == c.kind).map(|s| &s.fx)
}

/// Database and cache lag of every cloud but the primary's; none without a primary.
pub(super) fn replica_lags<'a>(spec: &'a EstateSpec, clouds: &[CloudState], bucket: i64) -> Vec<ReplicaLag<'a>> {
    let seed = spec.seed;
    let Some(primary) = spec.primary_db().and_then(|p| spec.cloud(p)) else {
        return vec![];
    };
    let pfx = &effects(clouds, primary).cloned().unwrap_or_default();
    spec.clouds
        .iter()
        .filter(|c| c.kind != primary.kind)
        .map(|c| {
            let rfx = effects(clouds, c);
            let link = link_ms(pfx, c.kind);
            // Stalled replication grows one second per second while the primary (or this replica) is down.
            let stalled = pfx
                .db_down
                .into_iter()
                .chain(rfx.and_then(|f| f.db_down))
                .map(|(k, secs)| k * secs)
                .fold(0.0, f64::max);
            let db_secs = c.database.base_lag_secs * (1.0 + 0.3 * noise(seed, stream(c.kind, 4), bucket)).max(0.0)
                + link * 0.04
                + stalled;
            let cache_secs =
                c.cache.base_lag_secs * (1.0 + 0.3 * noise(seed, stream(c.kind, 5), bucket)).max(0.0) + link * 0.004;
            ReplicaLag { primary, replica: c, db_secs, cache_secs }
        })
        .collect()
}

/// The dual-write backlog of every bucket with a peer in the estate.
pub(super) fn backlogs<'a>(spec: &'a EstateSpec, clouds: &[CloudState], bucket: i64) -> Vec<Backlog<'a>> {
    spec.clouds
        .iter()
        .filter_map(|c| {
            let to = spec.cloud(c.storage.dual_write_to?)?;
            let fx = effects(clouds, c).cloned().unwrap_or_default();
            let objects = (c.storage.base_backlog * (1.0 + 0.5 * noise(spec.seed, stream(c.kind, 6), bucket))).max(0.0)
                + link_ms(&fx, to.kind) * 2.5;
            Some(Backlog { from: c, to, objects })
        })
        .collect()
}

/// The replication figures, as a source reports them: per replica its database
/// then its cache, then the buckets.
pub(super) fn figures(spec: &EstateSpec, lags: &[ReplicaLag], backlogs: &[Backlog]) -> Vec<Replication> {
    let mut out = Vec::new();
    for l in lags {
        out.push(Replication {
            kind: ReplicationKind::Database,
            name: format!("{} → {}", l.primary.database.name, l.replica.database.name),
            from: l.primary.kind,
            to: l.replica.kind,
            value: l.db_secs,
            target: spec.rpo_secs,
        });
        out.push(Replication {
            kind: ReplicationKind::Cache,
            name: format!("{} → {}", l.primary.cache.name, l.replica.cache.name),
            from: l.primary.kind,
            to: l.replica.kind,
            value: l.cache_secs,
            target: spec.cache_sync_target_secs,
        });
    }
    for b in backlogs {
        out.push(Replication {
            kind: ReplicationKind::Storage,
            name: format!("{} ⇄ {}", b.from.storage.name, b.to.storage.name),
            from: b.from.kind,
            to: b.to.kind,
            value: b.objects.round(),
            target: spec.storage_backlog_limit,
        });
    }
    out
}
