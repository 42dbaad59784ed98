//! Actions end to end on the demo, the way an operator meets them: palette or
//! pane key → plan → guardrails → dialog → executor → a fresh read confirms →
//! undo. Drives the pure App and the real demo executor, no terminal.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::actions::guard::{GuardKey, GuardState};
use opsdeck::actions::{Actor, Checked, Executor, Outcome};
use opsdeck::app::{App, Command, Mode, Msg};
use opsdeck::clock::reference_instant;
use opsdeck::collector::SourceSchedule;
use opsdeck::collector::collect_once;
use opsdeck::model::{AlertState, CloudKind, Fleet, Freshness};
use opsdeck::providers::demo::{DemoHandle, DemoProvider, Drill, DrillCommand, EstateSpec};
use opsdeck::ui::{self, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

struct Harness {
    estate: Arc<EstateSpec>,
    demo: DemoHandle,
    sources: Vec<SourceSchedule>,
    executor: Executor,
    app: App,
    fleet: Fleet,
    now: DateTime<Utc>,
    /// What the app asked to audit or run, in order.
    outcomes: Vec<Outcome>,
    /// The break-glass reason of each execution.
    forced: Vec<Option<String>>,
}

fn actor() -> Actor {
    Actor { user: "oncall".into(), host: "bastion-1".into(), ssh_client: None }
}

impl Harness {
    async fn new() -> Harness {
        Self::with_estate(EstateSpec::embedded().expect("estate")).await
    }

    async fn with_estate(estate: EstateSpec) -> Harness {
        let estate = Arc::new(estate);
        let demo = DemoHandle::default();
        let provider = Arc::new(DemoProvider::new(opsdeck::model::SourceId::new("demo"), estate.clone(), demo.clone()));
        let sources = vec![SourceSchedule {
            provider: provider.clone(),
            interval: std::time::Duration::from_secs(5),
            timeout: std::time::Duration::from_secs(2),
        }];
        let executor = Executor::new([provider as Arc<dyn opsdeck::providers::Provider>]);
        let now = reference_instant();
        let fleet = collect_once(&sources, now, true).await;
        let mut app = App::new(Some(estate.clone()));
        app.update(Msg::Clock(now), &fleet);
        app.update(Msg::FleetChanged, &fleet);
        Harness { estate, demo, sources, executor, app, fleet, now, outcomes: vec![], forced: vec![] }
    }

    /// Poll the demo again, `secs` later, as the collector would.
    async fn poll(&mut self, secs: i64) {
        self.now += Duration::seconds(secs);
        self.fleet = collect_once(&self.sources, self.now, true).await;
        self.app.update(Msg::Clock(self.now), &self.fleet);
        self.app.update(Msg::FleetChanged, &self.fleet);
    }

    async fn keys(&mut self, codes: &[KeyCode]) {
        for code in codes {
            let cmds = self.app.update(Msg::Key(KeyEvent::new(*code, KeyModifiers::NONE)), &self.fleet);
            self.carry_out(cmds).await;
        }
    }

    async fn text(&mut self, s: &str) {
        let codes: Vec<KeyCode> = s.chars().map(KeyCode::Char).collect();
        self.keys(&codes).await;
    }

    /// `:command` then Enter.
    async fn command(&mut self, line: &str) {
        self.text(&format!(":{line}")).await;
        self.keys(&[KeyCode::Enter]).await;
    }

    async fn carry_out(&mut self, cmds: Vec<Command>) {
        for cmd in cmds {
            match cmd {
                Command::Execute { checked, forced } => {
                    let r = self.executor.execute(&checked.plan, &actor(), self.now).await;
                    self.outcomes.push(if r.is_ok() { Outcome::Executed } else { Outcome::Failed });
                    self.forced.push(forced);
                    let result = r.map(|r| r.request_id).map_err(|e| e.to_string());
                    self.app.update(Msg::ActionFinished { checked, result }, &self.fleet);
                }
                Command::Record { outcome, .. } => self.outcomes.push(outcome),
                Command::Drill(d) => {
                    self.demo.apply(d, self.now).expect("drill");
                }
                Command::Quit | Command::RefreshNow => {}
            }
        }
    }

    fn dialog(&self) -> &Checked {
        match &self.app.mode {
            Mode::Confirm(d) => &d.checked,
            other => panic!("expected the confirmation dialog, got {other:?}; status {:?}", self.app.status),
        }
    }

    fn failed_guards(&self) -> Vec<&'static str> {
        self.dialog().guards.iter().filter(|g| g.refuses()).map(|g| g.name).collect()
    }

    fn share(&self, cloud: CloudKind) -> f64 {
        self.fleet.traffic_share(cloud)
    }

    fn status(&self) -> String {
        self.app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default()
    }

    fn screen(&self, w: u16, h: u16) -> String {
        let theme = opsdeck::theme::Theme::load("default", None, opsdeck::theme::ColorMode::TrueColor).expect("theme");
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        term.draw(|f| ui::draw(f, &View { app: &self.app, fleet: &self.fleet, theme: &theme, now: self.now }))
            .expect("draw");
        term.backend().to_string()
    }
}

#[tokio::test]
async fn failover_needs_the_typed_target_moves_the_shares_and_undo_restores_them() {
    let mut h = Harness::new().await;
    assert_eq!(h.share(CloudKind::Aws), 0.5);
    // At the afternoon peak no single cloud could take all of AWS's traffic (the
    // capacity guard says so); a 20-point shift fits.
    h.command("failover aws -> aliyun").await;
    assert_eq!(h.failed_guards(), vec!["target capacity"]);
    h.keys(&[KeyCode::Esc]).await;
    h.outcomes.clear();
    h.command("failover aws -> aliyun 20%").await;
    assert!(h.dialog().passed(), "{:?}", h.dialog().guards);
    insta::assert_snapshot!("failover_dialog_100x30", h.screen(100, 30));

    // Enter without the name, or with the wrong one, does nothing.
    h.keys(&[KeyCode::Enter]).await;
    h.text("azure").await;
    h.keys(&[KeyCode::Enter]).await;
    assert!(h.outcomes.is_empty());
    assert!(matches!(h.app.mode, Mode::Confirm(_)));
    for _ in 0..5 {
        h.keys(&[KeyCode::Backspace]).await;
    }
    h.text("aliyun").await;
    h.keys(&[KeyCode::Enter]).await;
    assert_eq!(h.outcomes, vec![Outcome::Executed]);
    assert_eq!(h.app.in_flight.len(), 1, "waits for a fresh read");

    h.poll(5).await;
    assert!(h.app.in_flight.is_empty(), "confirmed by the fresh read");
    assert!(h.status().contains("in effect"), "{}", h.status());
    assert!((h.share(CloudKind::Aws) - 0.3).abs() < 1e-9);
    assert!((h.share(CloudKind::Aliyun) - 0.4).abs() < 1e-9);

    // Undo plans the inverse through the same path (and dialog).
    h.command("undo").await;
    assert_eq!(
        h.dialog().plan.intent.to_string(),
        "set weights shop.example.com aws/aws-us-west-1=50 aliyun/aliyun-cn-hangzhou=20"
    );
    let target = h.dialog().plan.target.clone();
    h.text(&target).await;
    h.keys(&[KeyCode::Enter]).await;
    h.poll(5).await;
    assert_eq!(h.share(CloudKind::Aws), 0.5);
    assert!((h.share(CloudKind::Aliyun) - 0.2).abs() < 1e-9);
}

#[tokio::test]
async fn esc_cancels_and_changes_nothing() {
    let mut h = Harness::new().await;
    let before = h.fleet.policies.clone();
    h.command("failover aws -> azure 20%").await;
    h.text("azu").await;
    h.keys(&[KeyCode::Esc]).await;
    assert_eq!(h.outcomes, vec![Outcome::Cancelled]);
    assert_eq!(h.app.mode, Mode::Normal);
    h.poll(5).await;
    assert_eq!(h.fleet.policies, before);
}

#[tokio::test]
async fn failing_guardrails_refuse_and_force_needs_a_reason() {
    let mut h = Harness::new().await;
    // Take every Alibaba zone out: its endpoint fails its health check.
    for z in ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"] {
        h.demo
            .apply(DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aliyun, zone: z.into() }), h.now)
            .expect("drill");
    }
    h.poll(5).await;
    h.command("failover aws -> aliyun 10%").await;
    assert_eq!(h.failed_guards(), vec!["target healthy"], "{:?}", h.dialog().guards);
    insta::assert_snapshot!("refused_dialog_100x30", h.screen(100, 30));
    h.text("aliyun").await;
    h.keys(&[KeyCode::Enter]).await;
    assert_eq!(h.outcomes, vec![Outcome::Refused]);
    assert!(h.status().starts_with("refused: Alibaba"), "{}", h.status());

    // Break glass: F, an empty reason is not accepted, a real one is.
    h.command("failover aws -> aliyun 10%").await;
    h.text("F").await;
    h.keys(&[KeyCode::Enter]).await;
    assert!(matches!(&h.app.mode, Mode::Confirm(d) if d.hint.is_some()), "empty reason refused");
    h.text("health checks are wrong, confirmed by phone").await;
    h.keys(&[KeyCode::Enter]).await;
    h.text("aliyun").await;
    h.keys(&[KeyCode::Enter]).await;
    assert_eq!(h.outcomes, vec![Outcome::Refused, Outcome::Executed]);
    assert_eq!(h.forced, vec![Some("health checks are wrong, confirmed by phone".to_string())]);
}

#[tokio::test]
async fn replication_lag_past_the_rpo_refuses_a_failover_to_that_replica() {
    let mut h = Harness::new().await;
    h.demo.apply(DrillCommand::Start(Drill::DbPrimaryDown { cloud: CloudKind::Aws }), h.now).expect("drill");
    h.poll(45).await;
    h.command("failover aws -> azure 10%").await;
    assert!(h.failed_guards().contains(&"replication within RPO"), "{:?}", h.dialog().guards);
}

#[tokio::test]
async fn a_target_that_cannot_absorb_the_traffic_is_refused() {
    let mut spec = EstateSpec::embedded().expect("estate");
    let aliyun = spec.clouds.iter_mut().find(|c| c.kind == CloudKind::Aliyun).expect("aliyun");
    aliyun.group.max = 3;
    let mut h = Harness::with_estate(spec).await;
    h.command("failover aws -> aliyun").await;
    let g = h.dialog().guards.iter().find(|g| g.name == "target capacity").expect("guard").clone();
    assert!(g.state == GuardState::Failed && g.detail.contains("max serve"), "{g:?}");
}

#[tokio::test]
async fn stale_data_and_an_unreachable_arbiter_are_refused() {
    let mut h = Harness::new().await;
    h.fleet.sources[0].freshness = Freshness::Stale { reason: "timed out".into() };
    for a in &mut h.fleet.arbiters {
        a.reachable = false;
    }
    h.command("failover aws -> azure").await;
    let failed = h.failed_guards();
    assert!(failed.contains(&"data fresh") && failed.contains(&"arbiter reachable"), "{failed:?}");

    // Old data is as bad as no data.
    let mut h = Harness::new().await;
    h.now += Duration::seconds(120);
    h.app.update(Msg::Clock(h.now), &h.fleet);
    h.command("scale aws/web-asg 6").await;
    assert_eq!(h.failed_guards(), vec!["data fresh"]);
}

#[tokio::test]
async fn scale_from_the_health_pane_within_bounds_only() {
    let mut h = Harness::new().await;
    h.keys(&[KeyCode::Char('2'), KeyCode::Char('S')]).await;
    match &h.app.mode {
        Mode::Palette(p) => assert_eq!(p.input, "scale aws/web-asg "),
        other => panic!("{other:?}"),
    }
    h.text("12").await;
    h.keys(&[KeyCode::Enter]).await;
    assert_eq!(h.failed_guards(), vec!["within min/max"]);
    h.keys(&[KeyCode::Char('n')]).await;
    assert_eq!(h.outcomes, vec![Outcome::Cancelled]);

    h.command("scale aws/web-asg 9").await;
    insta::assert_snapshot!("scale_dialog_80x24", h.screen(80, 24));
    h.keys(&[KeyCode::Char('y')]).await;
    h.poll(5).await;
    let g = h.fleet.groups.iter().find(|g| g.cloud == CloudKind::Aws).expect("group");
    assert_eq!(g.desired, 9);
    assert_eq!(h.app.undo.as_ref().map(|u| u.to_string()).as_deref(), Some("scale aws/web-asg 10"));

    // A second action on the same target before the first is confirmed is refused.
    h.command("scale aws/web-asg 8").await;
    h.keys(&[KeyCode::Enter]).await;
    h.command("scale aws/web-asg 7").await;
    assert_eq!(h.failed_guards(), vec!["nothing in flight"]);
}

#[tokio::test]
async fn ack_from_the_alerts_pane_is_visible_in_the_source_with_who_and_comment() {
    let mut h = Harness::new().await;
    h.keys(&[KeyCode::Char('5'), KeyCode::Char('A')]).await;
    let Mode::Palette(p) = &h.app.mode else { panic!("palette") };
    let id = p.input.trim_start_matches("ack ").trim().to_string();
    h.text("1h looking into it").await;
    h.keys(&[KeyCode::Enter]).await;
    insta::assert_snapshot!("ack_dialog_80x24", h.screen(80, 24));
    h.keys(&[KeyCode::Enter]).await;
    h.poll(5).await;
    let a = h.fleet.alerts.iter().find(|a| a.id == id).expect("alert");
    match &a.state {
        AlertState::Acknowledged { by, comment, .. } => {
            assert_eq!(by, "oncall@bastion-1");
            assert_eq!(comment, "looking into it");
        }
        other => panic!("{other:?}"),
    }
    assert!(h.screen(160, 30).contains("ack oncall@bastion-1"));
    assert_eq!(h.app.undo.as_ref().map(|u| u.to_string()), Some(format!("unack {id}")));
    // An hour later the acknowledgement has lapsed.
    h.poll(3600).await;
    assert_eq!(h.fleet.alerts.iter().find(|a| a.id == id).expect("alert").state, AlertState::Firing);
}

#[tokio::test]
async fn the_ack_key_on_an_acked_alert_withdraws_the_ack() {
    let mut h = Harness::new().await;
    h.keys(&[KeyCode::Char('5'), KeyCode::Char('A')]).await;
    let Mode::Palette(p) = &h.app.mode else { panic!("palette") };
    let id = p.input.trim_start_matches("ack ").trim().to_string();
    h.text("investigating").await;
    h.keys(&[KeyCode::Enter, KeyCode::Enter]).await;
    h.poll(5).await;
    assert!(matches!(
        h.fleet.alerts.iter().find(|a| a.id == id).expect("alert").state,
        AlertState::Acknowledged { .. }
    ));

    // Unack on an alert nobody acknowledged is refused by its guard.
    let other = h.fleet.alerts.iter().find(|a| a.state == AlertState::Firing).expect("a firing alert").id.clone();
    h.command(&format!("unack {other}")).await;
    assert_eq!(h.failed_guards(), vec!["alert acknowledged"]);
    h.keys(&[KeyCode::Esc]).await;

    // The same key on the acked alert offers the unack, and it lands in the source.
    h.keys(&[KeyCode::Char('A')]).await;
    let Mode::Palette(p) = &h.app.mode else { panic!("palette") };
    assert_eq!(p.input, format!("unack {id}"));
    h.keys(&[KeyCode::Enter, KeyCode::Enter]).await;
    h.poll(5).await;
    assert_eq!(h.fleet.alerts.iter().find(|a| a.id == id).expect("alert").state, AlertState::Firing);
    assert_eq!(h.outcomes.last(), Some(&Outcome::Executed));
    assert_eq!(h.app.undo, None, "withdrawing an ack leaves nothing to undo");
}

#[tokio::test]
async fn a_read_only_session_cannot_reach_an_executor() {
    let mut h = Harness::new().await;
    h.app = App::new(Some(h.estate.clone())).with_read_only(true);
    h.app.update(Msg::FleetChanged, &h.fleet);
    for line in ["failover aws -> azure", "scale aws/web-asg 6", "drain azure"] {
        h.command(line).await;
        assert_eq!(h.app.mode, Mode::Normal, "no dialog opens");
        assert!(h.status().contains("read-only"), "{}", h.status());
    }
    h.keys(&[KeyCode::Char('5'), KeyCode::Char('A')]).await;
    h.text("1h x").await;
    h.keys(&[KeyCode::Enter, KeyCode::Enter, KeyCode::Char('y')]).await;
    assert!(h.outcomes.is_empty(), "nothing was executed or even offered");
    assert!(h.screen(80, 24).contains("READ-ONLY"));
}

/// What a real estate without a witness, sizing or replication figures looks like:
/// the unknown guards are amber `?` lines that say what would settle them, and do
/// not refuse; `[guards] require` turns one into a refusal that needs glass broken.
#[tokio::test]
async fn unknown_guards_warn_in_amber_and_refuse_only_when_required() {
    let mut h = Harness::new().await;
    h.fleet.arbiters.clear();
    h.fleet.replication.clear();
    for g in h.fleet.groups.iter_mut() {
        g.rps_per_instance = None;
    }
    for (_, m) in &mut h.fleet.metrics {
        m.cpu = None;
    }
    h.command("failover aws -> azure 10%").await;
    let states: Vec<(&str, GuardState)> = h.dialog().guards.iter().map(|g| (g.name, g.state)).collect();
    for unknown in ["target capacity", "replication within RPO", "arbiter reachable"] {
        assert!(states.contains(&(unknown, GuardState::Unknown)), "{unknown}: {states:?}");
    }
    assert!(h.dialog().passed(), "unknown does not refuse: {states:?}");
    let screen = h.screen(100, 30);
    insta::assert_snapshot!("failover_dialog_unknown_guards_100x30", screen);
    assert!(screen.contains("? arbiter reachable") && screen.contains("add [[arbiters]]"), "{screen}");
    assert!(!screen.contains("F force"), "nothing to force: {screen}");

    // Required, the unknown arbiter refuses like a failure.
    h.keys(&[KeyCode::Esc]).await;
    h.app.require = vec![GuardKey::Arbiter];
    h.command("failover aws -> azure 10%").await;
    assert!(!h.dialog().passed());
    assert_eq!(h.failed_guards(), vec!["arbiter reachable"]);
    let screen = h.screen(100, 30);
    assert!(screen.contains("Refused unless forced") && screen.contains("F force"), "{screen}");
}
