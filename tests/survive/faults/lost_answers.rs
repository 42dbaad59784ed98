//! Acting while sources fail: a plan made on stale data is refused, and a write
//! whose answer is lost (dropped after the server acted, or hung before it saw
//! it) is re-read, never re-sent, with the read's verdict audited — in the
//! console and on the command line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{Command, Msg};
use opsdeck::collector::SourceSchedule;
use opsdeck::model::Freshness;
use opsdeck::providers::Provider;

use super::rig::{INTERVAL, Rig, WAIT_SECS, stale_reason};
use crate::support::faulty::{Faulty, Mode};
use crate::support::promstack;
use opsdeck::actions::{Actor, Executor, Sent};
use opsdeck::app::Level;
use opsdeck::model::AlertState;
use opsdeck::providers::prometheus::AlertmanagerConfig;
use opsdeck::providers::prometheus::alertmanager::AlertmanagerSource;
use serde_json::json;

fn actor() -> Actor {
    Actor { user: "oncall".into(), host: "bastion-1".into(), ssh_client: None }
}

/// Type a palette line and press Enter; then answer the dialog with `answer`.
fn run_palette(rig: &mut Rig, line: &str, answer: char) -> Vec<Command> {
    let fleet = rig.fleet();
    rig.app.update(Msg::Clock(Utc::now()), &fleet);
    let key = |c| Msg::Key(KeyEvent::new(c, KeyModifiers::NONE));
    rig.app.update(key(KeyCode::Char(':')), &fleet);
    for c in line.chars() {
        rig.app.update(key(KeyCode::Char(c)), &fleet);
    }
    let opened = rig.app.update(key(KeyCode::Enter), &fleet);
    assert!(opened.is_empty(), "{opened:?}");
    assert!(matches!(rig.app.mode, opsdeck::app::Mode::Confirm(_)), "no dialog: {:?}", rig.app.status);
    rig.app.update(key(KeyCode::Char(answer)), &fleet)
}

/// An Alertmanager source behind a misbehaving front, with one firing alert.
async fn alertmanager_with_alert(am: &promstack::Server, labels: serde_json::Value) -> (Faulty, Arc<dyn Provider>) {
    let alert = json!([{"labels": labels, "annotations": {"summary": "firing"}, "startsAt": Utc::now().to_rfc3339()}]);
    promstack::post_alerts(am, alert).await;
    let front = Faulty::start(am.port);
    let provider: Arc<dyn Provider> = Arc::new(
        AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![front.url()]), Duration::from_secs(2)).expect("am"),
    );
    (front, provider)
}

/// The audit lines the App asked for since the last call: the verdicts on lost answers.
fn verdicts(rig: &mut Rig) -> Vec<(opsdeck::actions::Outcome, String)> {
    rig.commands
        .drain(..)
        .filter_map(|c| match c {
            Command::Record { checked, outcome, .. } => Some((outcome, checked.plan.target)),
            _ => None,
        })
        .collect()
}

fn status(rig: &Rig) -> String {
    rig.app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_plans_are_refused_and_lost_answers_are_re_read_never_re_sent() {
    let am = promstack::alertmanager(None);
    let (front, provider) = alertmanager_with_alert(
        &am,
        json!({"alertname": "DiskFull", "cloud": "aws", "severity": "warning", "instance": "db-1"}),
    )
    .await;
    let executor = Executor::new([provider.clone()]);
    let mut rig = Rig::new(provider, Duration::from_secs(3));
    rig.warm_up();
    let am_id = rig.target.clone();
    let f = rig
        .until("the alert read", |f, r| {
            r.status(f, &am_id).freshness == Freshness::Fresh && f.alerts.iter().any(|a| a.source == am_id)
        })
        .await;
    rig.measuring = true;
    let alert = f.alerts.iter().find(|a| a.source == am_id).expect("the DiskFull alert").clone();
    assert_eq!(alert.state, AlertState::Firing);
    let writes = |front: &Faulty| front.count_containing("POST /api/v2/silences");

    // 1. A plan made while the source is stale: the freshness guardrail refuses it.
    front.set(Mode::Status503);
    rig.until("am stale", |f, r| stale_reason(r.status(f, &am_id)).is_some()).await;
    let cmds = run_palette(&mut rig, &format!("ack {} disk cleanup", alert.id), 'y');
    assert!(
        matches!(cmds.as_slice(), [Command::Record { outcome: opsdeck::actions::Outcome::Refused, .. }]),
        "{cmds:?}"
    );
    let s = status(&rig);
    assert!(s.starts_with("refused:") && s.contains("am is stale") && s.contains("HTTP 503"), "{s}");
    front.set(Mode::Forward);
    let healed = Utc::now();
    rig.until("am fresh again", |f, r| r.status(f, &am_id).last_ok.is_some_and(|t| t >= healed)).await;
    assert_eq!(writes(&front), 0, "a refused plan sends nothing");

    // 2. The answer to the ack is lost after Alertmanager acted: unknown, re-read, landed.
    let cmds = run_palette(&mut rig, &format!("ack {} disk cleanup", alert.id), 'y');
    let [Command::Execute { checked, .. }] = cmds.as_slice() else { panic!("{cmds:?}") };
    front.only(Some("POST /api/v2/silences"));
    front.set(Mode::LoseResponse);
    let sent = Sent::of(executor.execute(&checked.plan, &actor(), Utc::now()).await);
    assert!(matches!(sent, Sent::Unknown(_)), "{sent:?}");
    assert_eq!(sent.audit().0, opsdeck::actions::Outcome::Unknown);
    front.set(Mode::Forward);
    front.only(None);
    let fleet = rig.fleet();
    let cmds = rig.app.update(Msg::sent(checked.clone(), sent, Utc::now()), &fleet);
    assert_eq!(cmds, vec![Command::RefreshNow], "a lost answer asks for a fresh read");
    let s = status(&rig);
    assert!(s.starts_with("unknown:") && s.contains("re-reading am"), "{s}");
    rig.collector.refresh_now();
    rig.quiet = true;
    rig.until("the fresh read settles it", |_, r| r.app.in_flight.is_empty()).await;
    let s = status(&rig);
    assert!(s.contains("landed") && !s.contains("did not"), "{s}");
    assert_eq!(rig.app.status.as_ref().map(|s| s.level), Some(Level::Info));
    assert_eq!(verdicts(&mut rig), vec![(opsdeck::actions::Outcome::Landed, checked.plan.target.clone())]);
    assert_eq!(writes(&front), 1, "exactly one write: never re-sent");
    let f = rig.fleet();
    let now = f.alerts.iter().find(|a| a.id == alert.id).expect("alert");
    assert!(matches!(now.state, AlertState::Acknowledged { .. }), "{:?}", now.state);

    // 3. The withdrawal hangs before Alertmanager sees it: unknown, re-read, did not land.
    let deletes = |front: &Faulty| front.count_containing("DELETE /api/v2/silence/");
    let cmds = run_palette(&mut rig, &format!("unack {}", alert.id), 'y');
    let [Command::Execute { checked, .. }] = cmds.as_slice() else { panic!("{cmds:?}") };
    front.only(Some("DELETE /api/v2/silence/"));
    front.set(Mode::Hang);
    let sent = Sent::of(executor.execute(&checked.plan, &actor(), Utc::now()).await);
    assert!(matches!(sent, Sent::Unknown(_)), "{sent:?}");
    front.set(Mode::Forward);
    front.only(None);
    let fleet = rig.fleet();
    let cmds = rig.app.update(Msg::sent(checked.clone(), sent, Utc::now()), &fleet);
    assert_eq!(cmds, vec![Command::RefreshNow]);
    rig.collector.refresh_now();
    rig.quiet = true;
    rig.until("the fresh read settles it", |_, r| r.app.in_flight.is_empty()).await;
    let s = status(&rig);
    assert!(s.contains("did not land") && s.contains("nothing was re-sent"), "{s}");
    assert_eq!(verdicts(&mut rig), vec![(opsdeck::actions::Outcome::NotLanded, checked.plan.target.clone())]);
    assert_eq!(deletes(&front), 1, "exactly one write: never re-sent");
    let f = rig.fleet();
    let now = f.alerts.iter().find(|a| a.id == alert.id).expect("alert");
    assert!(matches!(now.state, AlertState::Acknowledged { .. }), "still acknowledged: {:?}", now.state);
    eprintln!("faults: actions: {}", rig.latency_report("actions"));
}
/// The command-line path (`opsdeck ack … --yes`): a lost answer is audited as
/// `unknown`, re-read, and the read's verdict is a second audit line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_audits_the_verdict_on_a_lost_answer() {
    let am = promstack::alertmanager(None);
    let (front, provider) =
        alertmanager_with_alert(&am, json!({"alertname": "QueueBacklog", "cloud": "azure", "severity": "warning"}))
            .await;
    let sources =
        vec![SourceSchedule { provider: provider.clone(), interval: INTERVAL, timeout: Duration::from_secs(3) }];
    let deadline = Instant::now() + Duration::from_secs(WAIT_SECS);
    let alert_id = loop {
        let f = opsdeck::collector::collect_once(&sources, Utc::now(), false).await;
        if let Some(a) = f.alerts.iter().find(|a| a.title.contains("QueueBacklog")) {
            break a.id.clone();
        }
        assert!(Instant::now() < deadline, "the alert never showed: {:?}", f.sources);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let executor = Executor::new([provider]);
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = opsdeck::actions::AuditLog::new(dir.path().join("audit.jsonl"));
    front.only(Some("POST /api/v2/silences"));
    front.set(Mode::LoseResponse);
    let request = opsdeck::runbook::Request {
        intent: opsdeck::actions::Intent::Ack { alert_id, comment: "draining".into(), minutes: Some(30) },
        yes: true,
        confirm: None,
        force: None,
        require: vec![],
        confirm_timeout: Duration::from_secs(20),
    };
    let path = opsdeck::actions::WritePath::new(
        Some(executor),
        Some(audit.clone()),
        actor(),
        std::sync::Arc::new(opsdeck::clock::SystemClock),
    );
    let report = opsdeck::runbook::run(request, &sources, &path).await;
    assert_eq!(report.outcome, "executed", "{report:?}");
    assert_eq!(front.count_containing("POST /api/v2/silences"), 1, "exactly one write: never re-sent");
    let outcomes: Vec<_> = audit.tail(10).into_iter().map(|r| r.outcome).collect();
    use opsdeck::actions::Outcome;
    assert_eq!(outcomes, vec![Outcome::Unknown, Outcome::Landed]);
}
