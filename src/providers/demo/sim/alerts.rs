//! Alerts from the simulated figures, with the severity a real rule set would
//! give them, plus the estate's standing alerts; acknowledgements made through
//! opsdeck live in the (simulated) source system.

use chrono::{DateTime, Duration, Utc};

use super::super::drill::{Drill, DrillBook};
use super::super::estate::{DbRole, EstateSpec};
use super::super::state::Overrides;
use super::CloudState;
use super::replication::{Backlog, ReplicaLag};
use super::traffic::Load;
use crate::model::{Alert, AlertState, Channel, CloudKind, NotificationRoute, Severity, SourceId};

/// Raises alerts for one poll: where they route, and since when they fire.
pub(super) struct Rules<'a> {
    pub spec: &'a EstateSpec,
    pub book: &'a DrillBook,
    pub now: DateTime<Utc>,
    pub source: &'a SourceId,
}

impl Rules<'_> {
    fn alert(
        &self,
        id: String,
        cloud: CloudKind,
        severity: Severity,
        title: String,
        resource: String,
        since: DateTime<Utc>,
    ) -> Alert {
        Alert {
            id,
            source: self.source.clone(),
            cloud: Some(cloud),
            severity,
            title,
            resource,
            started_at: since,
            state: AlertState::Firing,
            route: self.spec.cloud(cloud).map(|c| c.route.clone()).unwrap_or_default(),
            labels: [("cloud".to_string(), cloud.slug().to_string()), ("severity".into(), severity.label().into())]
                .into(),
        }
    }

    /// When the rule on a drill matching `pred` fires: the earliest such drill's
    /// start plus the time its rule takes to detect it (after `now`: not yet,
    /// and the alert is dropped); now when no drill did it.
    fn drill_start(&self, pred: &dyn Fn(&Drill) -> bool) -> DateTime<Utc> {
        self.book
            .entries()
            .iter()
            .filter(|e| pred(&e.drill))
            .map(|e| e.started_at + Duration::seconds(e.drill.detect_secs()))
            .min()
            .unwrap_or(self.now)
    }

    /// Lost zones, capacity below minimum or hot CPU, 5xx, a database down, slow links.
    pub fn load(&self, state: &CloudState, load: &Load, out: &mut Vec<Alert>) {
        let c = state.spec;
        let kind = c.kind;
        let fx = &state.fx;
        let healthy = state.group.healthy();
        for (zone, _, _) in fx.zones_out.iter().filter(|(_, k, _)| *k > 0.5) {
            let since =
                self.drill_start(&|d| matches!(d, Drill::AzOutage { cloud, zone: z } if *cloud == kind && z == zone));
            out.push(self.alert(
                format!("demo:{}:zone:{zone}", kind.slug()),
                kind,
                Severity::P1,
                format!("Zone {zone} unreachable: instances lost in {}", c.group.name),
                format!("{}/{zone}", c.group.name),
                since,
            ));
        }
        if healthy < c.group.min {
            out.push(self.alert(
                format!("demo:{}:capacity", kind.slug()),
                kind,
                Severity::P0,
                format!("{}: healthy {healthy} below minimum {}", c.group.name, c.group.min),
                c.group.name.clone(),
                self.drill_start(&|d| matches!(d, Drill::AzOutage { cloud, .. } if *cloud == kind)),
            ));
        } else if load.util > 0.85 {
            out.push(self.alert(
                format!("demo:{}:cpu", kind.slug()),
                kind,
                Severity::P2,
                format!("{}: CPU {:.0}% above 85%", c.group.name, load.cpu() * 100.0),
                c.group.name.clone(),
                self.drill_start(&|_| true),
            ));
        }
        let err = load.error_rate;
        if err >= 0.01 {
            let sev = if err >= 0.05 { Severity::P0 } else { Severity::P1 };
            out.push(self.alert(
                format!("demo:{}:5xx", kind.slug()),
                kind,
                sev,
                format!("5xx rate {:.1}% on {}", err * 100.0, c.endpoint),
                c.endpoint.clone(),
                self.drill_start(&|_| true),
            ));
        }
        if fx.db_down.is_some_and(|(k, _)| k > 0.5) {
            let primary = c.database.role == Some(DbRole::Primary);
            let what = if primary { "primary" } else { "replica" };
            out.push(self.alert(
                format!("demo:{}:db", kind.slug()),
                kind,
                if primary { Severity::P0 } else { Severity::P1 },
                format!("{} {what} unavailable: writes failing", c.database.name),
                c.database.name.clone(),
                self.drill_start(&|d| matches!(d, Drill::DbPrimaryDown { cloud } if *cloud == kind)),
            ));
        }
        for (peer, ms) in fx.link_ms.iter().filter(|(p, ms)| *ms >= 50.0 && kind < *p) {
            out.push(self.alert(
                format!("demo:link:{}-{}", kind.slug(), peer.slug()),
                kind,
                Severity::P2,
                format!("Cross-cloud latency {}↔{} +{ms:.0} ms", kind.label(), peer.label()),
                format!("link/{}-{}", kind.slug(), peer.slug()),
                self.drill_start(&|d| matches!(d, Drill::LinkLatency { .. })),
            ));
        }
    }

    /// Database lag against the RPO (P0 past it, P1 past half), cache lag against its target.
    pub fn replica(&self, lag: &ReplicaLag, out: &mut Vec<Alert>) {
        let spec = self.spec;
        let c = lag.replica;
        let (db_lag, cache_lag) = (lag.db_secs, lag.cache_secs);
        let since = self.drill_start(&|_| true);
        if db_lag > spec.rpo_secs {
            out.push(self.alert(
                format!("demo:{}:rpo", c.kind.slug()),
                c.kind,
                Severity::P0,
                format!("Replication lag {db_lag:.0}s breaches RPO {:.0}s: {}", spec.rpo_secs, c.database.name),
                c.database.name.clone(),
                since,
            ));
        } else if db_lag > spec.rpo_secs / 2.0 {
            out.push(self.alert(
                format!("demo:{}:rpo", c.kind.slug()),
                c.kind,
                Severity::P1,
                format!("Replication lag {db_lag:.0}s above half the RPO: {}", c.database.name),
                c.database.name.clone(),
                since,
            ));
        }
        if cache_lag > spec.cache_sync_target_secs {
            out.push(self.alert(
                format!("demo:{}:cache", c.kind.slug()),
                c.kind,
                Severity::P2,
                format!("Cache sync lag {cache_lag:.1}s above {:.0}s: {}", spec.cache_sync_target_secs, c.cache.name),
                c.cache.name.clone(),
                since,
            ));
        }
    }

    /// A dual-write backlog over the estate's limit.
    pub fn backlog(&self, b: &Backlog, out: &mut Vec<Alert>) {
        if b.objects > self.spec.storage_backlog_limit {
            out.push(self.alert(
                format!("demo:{}:storage", b.from.kind.slug()),
                b.from.kind,
                Severity::P2,
                format!("Dual-write backlog {:.0} objects to {}", b.objects, b.to.storage.name),
                b.from.storage.name.clone(),
                self.drill_start(&|_| true),
            ));
        }
    }

    /// The estate file's alerts that are always open, each as old as it says.
    pub fn standing(&self, out: &mut Vec<Alert>) {
        for (i, s) in self.spec.standing_alerts.iter().enumerate() {
            out.push(self.alert(
                format!("demo:standing:{i}"),
                s.cloud,
                s.severity,
                s.title.clone(),
                s.resource.clone(),
                self.now - Duration::minutes(s.age_minutes),
            ));
        }
    }
}

/// Acknowledgements made through opsdeck, still in force at `now`.
pub(super) fn apply_acks(alerts: &mut [Alert], overrides: &Overrides, now: DateTime<Utc>) {
    for a in alerts {
        if let Some(ack) = overrides.ack(&a.id, now) {
            a.state = AlertState::Acknowledged { by: ack.by.clone(), at: ack.at, comment: ack.comment.clone() };
        }
    }
}

/// Where each cloud's alerts are sent: the estate names one channel per cloud
/// (`kind:target`), which every alert of that cloud takes.
pub(super) fn routes(spec: &EstateSpec, source: &SourceId) -> Vec<NotificationRoute> {
    spec.clouds
        .iter()
        .map(|c| {
            let (kind, target) = c.route.split_once(':').unwrap_or((c.route.as_str(), ""));
            NotificationRoute {
                source: source.clone(),
                cloud: Some(c.kind),
                severity: None,
                receiver: c.route.clone(),
                rule: format!("every {} alert", c.kind.label()),
                alerts: vec![],
                channels: vec![Channel { kind: kind.to_string(), target: target.to_string() }],
                firing_now: None,
            }
        })
        .collect()
}
