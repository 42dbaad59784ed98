//! The incident timeline of a demo drill on an injected clock: drill → alerts →
//! failover → recovery, as the console's journal and the audit log keep them,
//! read back the way `opsdeck timeline` reads them. Its measures are checked
//! against the drill's scripted timings (the demo's rules fire a fixed time after
//! the fault, `Drill::detect_secs`).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use opsdeck::actions::rto::measured_line;
use opsdeck::actions::rto_follow::{rps_of, tracker_for};
use opsdeck::actions::run::prepare;
use opsdeck::actions::{Actor, AuditLog, Executor, Intent, Outcome, WritePath};
use opsdeck::clock::{ManualClock, reference_instant};
use opsdeck::collector::{SourceSchedule, collect_once};
use opsdeck::model::{CloudKind, EventKind, Fleet, SourceId, TimelineEvent};
use opsdeck::providers::Provider;
use opsdeck::providers::demo::{DemoHandle, DemoProvider, Drill, DrillCommand, EstateSpec};
use opsdeck::timeline::assemble::human;
use opsdeck::timeline::gather::{Histories, gather};
use opsdeck::timeline::{Journal, Observer, drill_entry, render};

struct Drilled {
    demo: DemoHandle,
    provider: Arc<DemoProvider>,
    sources: Vec<SourceSchedule>,
    observer: Observer,
    journal: Journal,
    audit: AuditLog,
    fleet: Arc<Fleet>,
    t0: DateTime<Utc>,
    _dir: tempfile::TempDir,
}

const WHO: &str = "oncall@bastion";

impl Drilled {
    async fn new() -> Drilled {
        let dir = tempfile::tempdir().expect("tempdir");
        let estate = Arc::new(EstateSpec::embedded().expect("estate"));
        let demo = DemoHandle::default();
        let provider = Arc::new(DemoProvider::new(SourceId::new("demo"), estate, demo.clone()));
        let sources = vec![SourceSchedule {
            provider: provider.clone(),
            interval: std::time::Duration::from_secs(5),
            timeout: std::time::Duration::from_secs(2),
        }];
        let mut d = Drilled {
            demo,
            provider,
            sources,
            observer: Observer::new(),
            journal: Journal::new(dir.path().join("journal.jsonl")),
            audit: AuditLog::new(dir.path().join("audit.jsonl")),
            fleet: Arc::new(Fleet::default()),
            t0: reference_instant(),
            _dir: dir,
        };
        d.poll(0).await;
        d
    }

    fn at(&self, secs: i64) -> DateTime<Utc> {
        self.t0 + Duration::seconds(secs)
    }

    /// A read of the estate `secs` after t0, observed and journalled as the console does.
    async fn poll(&mut self, secs: i64) -> Vec<TimelineEvent> {
        let now = self.at(secs);
        self.fleet = Arc::new(collect_once(&self.sources, now, true).await);
        let seen = self.observer.observe(&self.fleet, now);
        self.journal.append(&seen).expect("journal");
        seen
    }

    fn drill(&mut self, secs: i64, cmd: DrillCommand) {
        let said = self.demo.apply(cmd, self.at(secs)).expect("drill");
        self.journal.append(&[drill_entry(&said, self.at(secs), WHO)]).expect("journal");
    }
}

#[tokio::test]
async fn a_drilled_zone_outage_reads_back_as_a_timeline_with_its_scripted_detection_time() {
    let mut d = Drilled::new().await;
    let outage = Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() };
    let detect = outage.detect_secs();
    d.drill(10, DrillCommand::Start(outage));
    for s in (15..=55).step_by(5) {
        d.poll(s).await;
    }

    // The failover, through the write path on the injected clock.
    let clock = Arc::new(ManualClock::new(d.at(60)));
    let actor = Actor { user: "oncall".into(), host: "bastion".into(), ssh_client: None };
    let provider: Arc<dyn Provider> = d.provider.clone();
    let write = WritePath::new(Some(Executor::new([provider])), Some(d.audit.clone()), actor, clock);
    let intent = Intent::Shift { from: CloudKind::Aws, to: CloudKind::Azure, percent: Some(20.0) };
    let checked = prepare(&intent, &d.fleet, d.at(60), &[], &[]).expect("plan");
    let attempt = write.send(&checked, None).await;
    assert_eq!(attempt.record.outcome, Outcome::Executed, "{:?}", attempt.record.error);

    // Followed as the console follows it, read by read: the demo's clients move
    // to the new weights evenly over the policy's TTL, so the traffic is within
    // 5 points of the plan once three quarters of that 20-point move is made.
    let mut tracker = tracker_for(&checked.plan, &d.fleet, attempt.sent_at, 600).expect("a weight plan");
    tracker.accepted(attempt.at);
    let ttl = d.fleet.policies[0].ttl_secs;
    let mut moved_at = None;
    for s in (65..=115).step_by(5) {
        d.poll(s).await;
        if checked.plan.is_reflected_in(&d.fleet) {
            tracker.in_sync(d.at(s));
        }
        tracker.traffic(d.at(s), &rps_of(&d.fleet));
        if moved_at.is_none() && tracker.rto().traffic_at.is_some() {
            moved_at = Some(s);
        }
    }
    // The scripted timing: the first read at or after 60 s + ¾ TTL.
    let scripted = i64::from((60 + (ttl * 3).div_ceil(4)).div_ceil(5) * 5);
    assert_eq!(moved_at, Some(scripted), "ttl {ttl}: {:?}", tracker.rto());
    assert_eq!(tracker.rto().in_sync_at, Some(d.at(65)), "the first read after the write shows it");
    let mut rto = tracker.rto().clone();
    rto.finished_at = Some(d.at(115));
    d.audit.append(&measured_line(&attempt.record, rto)).expect("measured line");
    d.drill(120, DrillCommand::Clear);
    let mut resolved_at = None;
    for s in (125..=240).step_by(5) {
        let seen = d.poll(s).await;
        if resolved_at.is_none()
            && seen.iter().any(|e| e.kind == EventKind::AlertResolved && e.what.contains("us-west-1a"))
        {
            resolved_at = Some(d.at(s));
        }
    }

    let sources: Vec<Arc<dyn Provider>> = vec![d.provider.clone()];
    let histories = Histories {
        audit: Some(&d.audit),
        journal: Some(&d.journal),
        sources: &sources,
        timeout: std::time::Duration::from_secs(5),
    };
    let t = gather(&histories, d.at(-60), d.at(300)).await;

    // Detection: the drill is the first signal, the zone's alarm fires `detect` later.
    let m = &t.measures;
    let signal = m.first_signal.as_ref().expect("a first signal");
    assert_eq!(signal.at, d.at(10), "{signal:?}");
    assert!(signal.what.contains("az-outage aws/us-west-1a"), "{signal:?}");
    let alert = m.first_alert.as_ref().expect("a first alert");
    assert_eq!(alert.at, d.at(10 + detect), "{alert:?}");
    assert_eq!(m.time_to_detect_secs, Some(detect));
    // Mitigation: from that alert to the traffic moving as the follow measured it.
    let moved = m.traffic_moved.as_ref().expect("traffic moved");
    assert_eq!(moved.at, d.at(moved_at.unwrap_or_default()));
    assert_eq!(m.time_to_mitigate_secs, moved_at.map(|s| s - (10 + detect)));
    let rto_entry = t.events.iter().find(|e| e.kind == EventKind::Rto).expect("the measurement");
    assert!(
        rto_entry.what.starts_with("RTO failover aws -> azure 20%: accepted 0.0s · in sync 5.0s"),
        "{}",
        rto_entry.what
    );

    // Every kind of entry the story has, each once, in order, with who did it.
    let kinds: Vec<EventKind> = t.events.iter().map(|e| e.kind).collect();
    let first = |k: EventKind| kinds.iter().position(|x| *x == k).unwrap_or_else(|| panic!("no {k:?} in {kinds:?}"));
    assert!(first(EventKind::Drill) < first(EventKind::AlertFiring));
    assert!(first(EventKind::AlertFiring) < first(EventKind::Action));
    assert!(first(EventKind::Action) < first(EventKind::TrafficMoved));
    assert!(first(EventKind::TrafficMoved) < first(EventKind::DrillCleared));
    let zone_resolved = t
        .events
        .iter()
        .position(|e| e.kind == EventKind::AlertResolved && e.what.contains("us-west-1a"))
        .unwrap_or_else(|| panic!("the zone alert resolved: {:#?}", t.events));
    assert!(first(EventKind::DrillCleared) < zone_resolved);
    let zone = t.events.iter().filter(|e| e.kind == EventKind::AlertFiring && e.what.contains("us-west-1a")).count();
    assert_eq!(zone, 1, "the zone alert fired once however many reads saw it: {:#?}", t.events);
    let action = t.events.iter().find(|e| e.kind == EventKind::Action).expect("action");
    assert_eq!(action.at, d.at(60));
    assert_eq!(action.who.as_deref(), Some(WHO));
    assert!(action.what.starts_with("failover aws -> azure 20% — executed; plan: AWS"), "{}", action.what);
    assert!(action.what.contains("; guards: all 6 passed"), "{}", action.what);
    let drill = t.events.iter().find(|e| e.kind == EventKind::Drill).expect("drill");
    assert_eq!(drill.who.as_deref(), Some(WHO));
    let signal = t.events.iter().find(|e| e.kind == EventKind::Signal).expect("health signal");
    assert_eq!(signal.at, d.at(15), "the first read after the drill saw AWS fall: {signal:?}");
    let resolved = &t.events[zone_resolved];
    assert_eq!(Some(resolved.at), resolved_at);
    assert!(resolved.at > d.at(120));
    assert!(t.events.iter().any(|e| e.kind == EventKind::Recovered), "AWS health came back: {kinds:?}");
    assert!(t.histories.iter().any(|h| h.name == "demo" && h.state == "none"), "{:?}", t.histories);

    let md = render::markdown(&t);
    println!("{md}");
    assert!(md.contains(&format!("- **Time to detect:** {detect} s (")), "{md}");
    assert!(md.contains("| Time (UTC) | Kind | Who | What | Source |"), "{md}");
    assert_eq!(md.matches("\n| ").count(), t.events.len() + 1, "one row per entry: {md}");
    let json: serde_json::Value = serde_json::from_str(&render::json(&t).expect("json")).expect("parses");
    assert_eq!(json["schema"], 1);
    assert_eq!(json["measures"]["time_to_detect_secs"], detect);
    assert_eq!(json["measures"]["time_to_mitigate_secs"], serde_json::json!(moved_at.map(|s| s - (10 + detect))));
    assert!(
        md.contains(&format!("- **Time to mitigate:** {}", human(moved_at.unwrap_or_default() - 10 - detect))),
        "{md}"
    );
    assert_eq!(json["events"].as_array().map(Vec::len), Some(t.events.len()));
}
