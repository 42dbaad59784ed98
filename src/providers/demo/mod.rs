//! The embedded demo estate: a simulated three-cloud shop with chaos drills.
//! It needs no network and no credentials, and is deterministic for a given time.

pub mod drill;
pub mod estate;
mod sim;
pub mod state;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use drill::{DRILL_KINDS, Drill, DrillBook, DrillCommand};
pub use estate::EstateSpec;
pub use sim::simulate;
pub use state::{DemoHandle, DemoState, Overrides};

use super::registry::{BuildContext, BuildError, Built, Entry};
use super::{Provider, ProviderError, Receipt};
use crate::config::{KindSpec, SourceConfig};
use crate::model::{Actor, Plan};
use std::collections::BTreeMap;

use crate::collector::record_report;
use crate::model::{DEMO_KIND, Fleet, Freshness, SourceId, SourceReport, SourceStatus};

/// `kind = "demo"`: no table (its estate file is a common field), no credentials.
pub const ENTRY: Entry = Entry {
    kind: KindSpec { name: DEMO_KIND, aliases: &[], table: None },
    build,
    credential_line: |s| format!("{}: Demo: no credentials needed", s.name),
};

/// The estate from `--demo FILE`, else the source's `estate`, else the embedded shop.
fn build(s: &SourceConfig, cx: &BuildContext<'_>) -> Result<Built, BuildError> {
    let spec = match cx.demo_file.or(s.estate.as_deref()) {
        Some(p) => EstateSpec::load(p),
        None => EstateSpec::embedded(),
    }
    .map_err(BuildError::Estate)?;
    let spec = Arc::new(spec);
    let drills = DemoHandle::default();
    let provider = Arc::new(DemoProvider::new(SourceId::new(&s.name), spec.clone(), drills.clone()));
    Ok(Built { providers: vec![provider], demo: Some((spec, drills)) })
}

pub struct DemoProvider {
    id: SourceId,
    estate: Arc<EstateSpec>,
    state: DemoHandle,
}

impl DemoProvider {
    pub fn new(id: SourceId, estate: Arc<EstateSpec>, state: DemoHandle) -> Self {
        DemoProvider { id, estate, state }
    }
}

#[async_trait]
impl Provider for DemoProvider {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "demo"
    }
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let state = self.state.snapshot();
        Ok(simulate(&self.estate, &state.drills, &state.overrides, now, &self.id))
    }
    async fn execute(&self, plan: &Plan, actor: &Actor, now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        Ok(Receipt { request_id: self.state.execute(plan, actor, now) })
    }
}

/// The demo's Fleet at `now` with `history` points of traffic behind it (one per
/// poll interval), as the collector would have built it. For tests, snapshots,
/// benchmarks and one-shot output.
pub fn fleet_at(estate: &EstateSpec, book: &DrillBook, now: DateTime<Utc>, history: usize) -> Fleet {
    fleet_with(estate, book, &Overrides::default(), now, history)
}

/// [`fleet_at`] with operator changes applied.
pub fn fleet_with(
    estate: &EstateSpec,
    book: &DrillBook,
    overrides: &Overrides,
    now: DateTime<Utc>,
    history: usize,
) -> Fleet {
    let id = SourceId::new("demo");
    let mut hist = BTreeMap::new();
    let step = chrono::Duration::seconds(5);
    let mut last = None;
    for i in (0..history.max(1)).rev() {
        let at = now - step * i as i32;
        let report = simulate(estate, book, overrides, at, &id);
        record_report(&mut hist, &report, at);
        last = Some(report);
    }
    let mut status = SourceStatus::new(id, "demo");
    status.interval_secs = 5;
    status.freshness = Freshness::Fresh;
    status.last_ok = Some(now);
    status.last_attempt = Some(now);
    Fleet::merge(1, now, true, &[(status, last.map(Arc::new))], hist)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::clock::reference_instant;
    use crate::model::{CloudKind, Health, ReplicationKind, Severity};

    fn estate() -> EstateSpec {
        EstateSpec::embedded().expect("embedded estate")
    }
    fn src() -> SourceId {
        SourceId::new("demo")
    }
    fn run(book: &DrillBook, at: DateTime<Utc>) -> SourceReport {
        simulate(&estate(), book, &Overrides::default(), at, &src())
    }
    fn group(r: &SourceReport, cloud: CloudKind) -> &crate::model::ScalingGroup {
        r.groups.iter().find(|g| g.cloud == cloud).expect("group")
    }
    fn metrics(r: &SourceReport, cloud: CloudKind) -> &crate::model::CloudMetrics {
        r.metrics.iter().find(|m| m.cloud == cloud).expect("metrics")
    }
    #[test]
    fn other_groups_are_reported_at_their_minimum_and_lose_a_zone_in_an_outage() {
        let text = estate::EMBEDDED.replacen(
            "group = { name = \"web-asg\"",
            "other_groups = [{ name = \"api-asg\", min = 3, max = 9, instance_type = \"c7g.large\", \
             rps_per_instance = 300 }, { name = \"批处理\", min = 0, max = 4, instance_type = \"m6i.large\", \
             rps_per_instance = 100 }]\ngroup = { name = \"web-asg\"",
            1,
        );
        let spec = EstateSpec::from_str(std::path::Path::new("e.toml"), &text).expect("estate with other groups");
        let at = reference_instant();
        let quiet = simulate(&spec, &DrillBook::default(), &Overrides::default(), at, &src());
        let names: Vec<&str> =
            quiet.groups.iter().filter(|g| g.cloud == CloudKind::Aws).map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["web-asg", "api-asg", "批处理"]);
        let api = quiet.groups.iter().find(|g| g.name == "api-asg").expect("api-asg");
        assert_eq!((api.desired, api.healthy(), api.zones.len()), (3, 3, 3), "held at its minimum, one per zone");
        let idle = quiet.groups.iter().find(|g| g.name == "批处理").expect("idle group");
        assert_eq!(idle.desired, 0);

        let mut book = DrillBook::default();
        book.apply(DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() }), at)
            .expect("drill");
        let out = simulate(&spec, &book, &Overrides::default(), at + Duration::seconds(10), &src());
        let api = out.groups.iter().find(|g| g.name == "api-asg").expect("api-asg");
        assert_eq!(api.healthy(), 2, "the zone's instance is lost");

        let twice = estate::EMBEDDED.replacen(
            "group = { name = \"web-asg\"",
            "other_groups = [{ name = \"web-asg\", min = 1, max = 2, instance_type = \"x\", rps_per_instance = 1 }]\n\
             group = { name = \"web-asg\"",
            1,
        );
        let err = EstateSpec::from_str(std::path::Path::new("e.toml"), &twice).expect_err("one name twice");
        assert!(err.message.contains("cloud aws has two groups named web-asg"), "{err}");
    }

    fn db_lag(r: &SourceReport, to: CloudKind) -> f64 {
        r.replication.iter().find(|x| x.kind == ReplicationKind::Database && x.to == to).expect("lag").value
    }
    fn severities(r: &SourceReport, cloud: CloudKind) -> Vec<Severity> {
        r.alerts.iter().filter(|a| a.cloud == Some(cloud)).map(|a| a.severity).collect()
    }

    #[test]
    fn same_time_same_estate() {
        let t = reference_instant();
        assert_eq!(run(&DrillBook::default(), t), run(&DrillBook::default(), t));
    }

    #[test]
    fn quiet_estate_is_healthy_and_within_targets() {
        let r = run(&DrillBook::default(), reference_instant());
        for g in r.groups.iter() {
            assert_eq!(g.health(), Health::Ok, "{}", g.name);
            assert!(g.desired >= g.min && g.desired <= g.max);
        }
        for x in &r.replication {
            assert!(x.within_target(), "{} {} > {}", x.name, x.value, x.target);
        }
        let shares: f64 = r.policies[0].shares().iter().sum();
        assert!((shares - 1.0).abs() < 1e-9);
        // Only the standing alerts from the estate file are open.
        assert!(r.alerts.iter().all(|a| a.id.starts_with("demo:standing")), "{:#?}", r.alerts);
        assert!(
            r.costs.iter().all(|c| c.forecast.amount().is_some_and(|f| f > c.month_to_date) && c.month_to_date > 0.0)
        );
    }

    #[test]
    fn traffic_moves_over_the_day() {
        let t = reference_instant();
        let rps = |at| run(&DrillBook::default(), at).metrics.iter().filter_map(|m| m.rps).sum::<f64>();
        let afternoon = rps(t + Duration::hours(2)); // 16:30 UTC, near the peak
        let night = rps(t - Duration::hours(12)); // 02:30 UTC, near the trough
        assert!(afternoon > night * 1.5, "peak {afternoon} vs trough {night}");
    }

    #[test]
    fn az_outage_drops_capacity_fires_p1_then_asg_replaces() {
        let t0 = reference_instant();
        let mut book = DrillBook::default();
        let before = run(&book, t0);
        book.apply(DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() }), t0)
            .expect("drill");
        let during = run(&book, t0 + Duration::seconds(5));
        let g = group(&during, CloudKind::Aws);
        let zone = g.zones.iter().find(|z| z.zone == "us-west-1a").expect("zone");
        assert_eq!((zone.in_service, zone.healthy), (0, 0));
        assert!(g.healthy() < group(&before, CloudKind::Aws).healthy());
        assert!(metrics(&during, CloudKind::Aws).error_rate > metrics(&before, CloudKind::Aws).error_rate);
        // The zone's rule fires its detection time after the fault, not before.
        let detect = Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() }.detect_secs();
        assert!(!severities(&during, CloudKind::Aws).contains(&Severity::P1), "not detected 5 s in");
        let detected = run(&book, t0 + Duration::seconds(detect));
        assert!(severities(&detected, CloudKind::Aws).contains(&Severity::P1));
        let zone_alert = detected.alerts.iter().find(|a| a.id == "demo:aws:zone:us-west-1a").expect("zone alert");
        assert_eq!(zone_alert.started_at, t0 + Duration::seconds(detect));
        // Two minutes on, the group has replaced the lost instances in the other zones.
        let later = run(&book, t0 + Duration::seconds(150));
        assert!(group(&later, CloudKind::Aws).healthy() >= group(&before, CloudKind::Aws).healthy() - 1);
        // Other clouds are untouched.
        assert_eq!(group(&during, CloudKind::Azure), group(&before, CloudKind::Azure));
    }

    #[test]
    fn db_primary_down_breaches_rpo_with_p0_and_clear_restores() {
        let t0 = reference_instant();
        let mut book = DrillBook::default();
        book.apply(DrillCommand::Start(Drill::DbPrimaryDown { cloud: CloudKind::Aws }), t0).expect("drill");
        let early = run(&book, t0 + Duration::seconds(10));
        assert!(db_lag(&early, CloudKind::Azure) > 10.0);
        assert!(severities(&early, CloudKind::Aws).contains(&Severity::P0), "primary down is P0");
        let late = run(&book, t0 + Duration::seconds(45));
        assert!(db_lag(&late, CloudKind::Azure) > 30.0);
        assert!(late.alerts.iter().any(|a| a.id == "demo:azure:rpo" && a.severity == Severity::P0), "RPO breach is P0");
        let t_clear = t0 + Duration::seconds(60);
        book.apply(DrillCommand::Clear, t_clear).expect("clear");
        let recovering = run(&book, t_clear + Duration::seconds(5));
        assert!(db_lag(&recovering, CloudKind::Azure) < db_lag(&late, CloudKind::Azure));
        let t_after = t_clear + Duration::seconds(120);
        assert_eq!(run(&book, t_after), run(&DrillBook::default(), t_after), "clear restores the quiet estate");
    }

    #[test]
    fn link_latency_raises_p95_and_lag_on_both_ends_only() {
        let t0 = reference_instant();
        let mut book = DrillBook::default();
        let before = run(&book, t0);
        book.apply(DrillCommand::Start(Drill::LinkLatency { a: CloudKind::Aws, b: CloudKind::Azure, ms: 400.0 }), t0)
            .expect("drill");
        let during = run(&book, t0);
        for c in [CloudKind::Aws, CloudKind::Azure] {
            assert!(metrics(&during, c).p95_ms > metrics(&before, c).p95_ms.map(|p| p + 200.0), "{c}");
        }
        assert_eq!(metrics(&during, CloudKind::Aliyun), metrics(&before, CloudKind::Aliyun));
        assert!(db_lag(&during, CloudKind::Azure) > db_lag(&before, CloudKind::Azure) + 10.0);
        assert_eq!(db_lag(&during, CloudKind::Aliyun), db_lag(&before, CloudKind::Aliyun));
        let link_alert =
            |r: &SourceReport| r.alerts.iter().any(|a| a.id == "demo:link:aws-azure" && a.severity == Severity::P2);
        assert!(!link_alert(&during), "a slow link is detected over evaluation periods, not at once");
        let detect = Drill::LinkLatency { a: CloudKind::Aws, b: CloudKind::Azure, ms: 400.0 }.detect_secs();
        assert!(link_alert(&run(&book, t0 + Duration::seconds(detect))));
    }

    /// DNS answers the new weights at once; the requests follow over one TTL, as
    /// clients' cached answers expire.
    #[test]
    fn after_a_weight_change_requests_follow_over_one_ttl() {
        let t0 = reference_instant();
        let handle = DemoHandle::default();
        let before = run(&DrillBook::default(), t0);
        let policy = &before.policies[0];
        let aws = policy.endpoints.iter().position(|e| e.cloud == CloudKind::Aws).expect("aws");
        let azure = policy.endpoints.iter().position(|e| e.cloud == CloudKind::Azure).expect("azure");
        let mut plan_changes = Vec::new();
        for (i, after) in [(aws, 0u32), (azure, policy.endpoints[aws].weight + policy.endpoints[azure].weight)] {
            let e = &policy.endpoints[i];
            plan_changes.push(crate::model::Change::Weight {
                policy: policy.name.clone(),
                cloud: e.cloud,
                endpoint: e.name.clone(),
                before: e.weight,
                after,
                share_before: 0.0,
                share_after: 0.0,
            });
        }
        let plan = crate::model::Plan {
            intent: crate::model::Intent::Drain { cloud: CloudKind::Aws },
            source: src(),
            target: "aws".into(),
            changes: plan_changes,
            based_on: None,
            time_to_effect_secs: None,
            effect: None,
        };
        let actor = Actor { user: "a".into(), host: "b".into(), ssh_client: None };
        handle.execute(&plan, &actor, t0);
        let ttl = i64::from(policy.ttl_secs);
        let at = |secs: i64| {
            simulate(
                &estate(),
                &DrillBook::default(),
                &handle.snapshot().overrides,
                t0 + Duration::seconds(secs),
                &src(),
            )
        };
        let aws_share = |r: &SourceReport| {
            let total: f64 = r.metrics.iter().filter_map(|m| m.rps).sum();
            metrics(r, CloudKind::Aws).rps.unwrap_or(f64::NAN) / total
        };
        let start = aws_share(&before);
        assert_eq!(at(0).policies[0].endpoints[aws].weight, 0, "DNS has the change at once");
        assert!((aws_share(&at(0)) - start).abs() < 1e-9, "no client has followed yet");
        let half = aws_share(&at(ttl / 2));
        assert!((half - start / 2.0).abs() < 0.01, "half way through the TTL, half moved: {half} of {start}");
        assert!(aws_share(&at(ttl)) < 1e-9, "after one TTL every client follows");
    }

    #[test]
    fn losing_every_zone_takes_the_cloud_out_of_dns() {
        let t0 = reference_instant();
        let mut book = DrillBook::default();
        for z in ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"] {
            book.apply(DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aliyun, zone: z.into() }), t0)
                .expect("drill");
        }
        let r = run(&book, t0 + Duration::seconds(5));
        let policy = &r.policies[0];
        let i = policy.endpoints.iter().position(|e| e.cloud == CloudKind::Aliyun).expect("endpoint");
        assert_eq!(policy.endpoints[i].health, Health::Down);
        assert_eq!(policy.shares()[i], 0.0);
        assert_eq!(metrics(&r, CloudKind::Aliyun).rps, Some(0.0));
        let detected = run(&book, t0 + Duration::seconds(25));
        assert!(severities(&detected, CloudKind::Aliyun).contains(&Severity::P0), "below min is P0");
    }
}
