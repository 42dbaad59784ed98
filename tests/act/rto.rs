//! A Route 53 failover's RTO, measured through the real binary: moto holds the
//! weighted record, a local DNS responder (support/dns_stub.rs) answers the old
//! weights until a known instant and the new ones after it, and
//! `opsdeck failover aws azure --yes --confirm azure --json` with `[rto]`
//! pointing at that responder follows the change. The resolvers phase must land
//! at or after the switch and within a round of it; the phases come in order;
//! the traffic phase, with no requests/s anywhere in this estate, is reported
//! not reached (never as a time); and the audit log's `measured` line carries
//! the same phases as the report.

use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::support;
use crate::support::aws_estate::{Estate, RECORD};
use crate::support::dns_stub::DnsStub;

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

/// Estates whose AWS answers hold at least 30 % of the weight, so 8 queries of
/// the old weights always show AWS (and cannot pass for "all on Azure").
fn seeds() -> Vec<u64> {
    (0..200u64)
        .filter(|s| {
            let e = Estate::generate(*s);
            let total = e.weight_of("aws") + e.weight_of("azure");
            f64::from(e.weight_of("aws")) >= 0.3 * f64::from(total)
        })
        .take(2)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route53_failover_is_followed_until_the_resolvers_answer_the_new_weights() {
    for seed in seeds() {
        let ctx = format!("seed {seed}");
        let moto = support::moto::Moto::start();
        let estate = Estate::generate(seed);
        let zone = estate.seed(&moto.url()).await;
        let before: Vec<(String, u32)> = estate.answers.iter().map(|a| (a.target.clone(), a.weight)).collect();
        let after: Vec<(String, u32)> =
            estate.answers.iter().map(|a| (a.target.clone(), if a.cloud == "aws" { 0 } else { a.weight })).collect();
        // Long enough that the write has been sent by then (asserted below).
        let switch_at = Utc::now() + Duration::seconds(8);
        let stub = DnsStub::start(RECORD, before, after, switch_at);

        let home = tempfile::tempdir().expect("tempdir");
        let config = format!(
            "{}\n[rto]\nresolvers = [\"127.0.0.1:{}\"]\nsamples = 8\npoll_secs = 1\ndeadline_secs = 20\nquery_timeout_secs = 1\n",
            estate.config_toml(&moto.url(), &zone, "aws-estate"),
            stub.port
        );
        let path = home.path().join("opsdeck.toml");
        std::fs::write(&path, config).expect("config");
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&path)
            .args(["failover", "aws", "azure", "--yes", "--confirm", "azure", "--force", "rto test", "--json"])
            .env("XDG_CONFIG_HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("HOME", home.path())
            .env("USER", "runbook")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run opsdeck");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let report: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{ctx}: not JSON ({e}): {stdout}\n{stderr}"));
        assert_eq!(out.status.code(), Some(0), "{ctx}: {report:#}\n{stderr}");
        let rto = &report["rto"];
        let sent = time(&rto["sent_at"]).unwrap_or_else(|| panic!("{ctx}: no rto: {report:#}"));
        let accepted = time(&rto["accepted_at"]).expect("accepted");
        let in_sync = time(&rto["in_sync_at"]).expect("in sync");
        let resolvers = time(&rto["resolvers_at"]).unwrap_or_else(|| panic!("{ctx}: resolvers not reached: {rto:#}"));
        assert!(sent < switch_at, "{ctx}: the write went out after the switch; the test measured nothing");
        assert!(sent <= accepted && accepted <= in_sync && in_sync <= resolvers, "{ctx}: {rto:#}");
        // The resolvers phase is the first round after the switch: a round takes
        // 8 queries plus the 1 s pause between rounds.
        assert!(resolvers >= switch_at, "{ctx}: resolvers seen done before they switched: {rto:#}");
        assert!(resolvers <= switch_at + Duration::seconds(4), "{ctx}: {resolvers} vs switch {switch_at}: {rto:#}");
        // Before the switch the resolver was asked and answered the old weights.
        assert_eq!(rto["resolvers"][0]["answers"], 8, "{ctx}: {rto:#}");
        assert!(stub.queries.load(std::sync::atomic::Ordering::SeqCst) > 16, "{ctx}: more than one round asked");
        // No requests/s in this estate: traffic is not reached, and says why.
        assert_eq!(rto["traffic_at"], Value::Null, "{ctx}: {rto:#}");
        assert_eq!(rto["timed_out"], true, "{ctx}: {rto:#}");
        assert!(rto["traffic_unknown"].as_str().is_some_and(|w| w.contains("unknown")), "{ctx}: {rto:#}");
        let finished = time(&rto["finished_at"]).expect("finished");
        assert!(finished >= sent + Duration::seconds(20), "{ctx}: ended before the deadline: {rto:#}");

        // The audit log: the executed line, then one measured line with the same phases.
        let audit: Vec<Value> = std::fs::read_to_string(home.path().join("state/opsdeck/audit.jsonl"))
            .expect("audit log")
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
            .collect();
        let outcomes: Vec<&str> = audit.iter().filter_map(|l| l["outcome"].as_str()).collect();
        assert_eq!(outcomes, ["executed", "measured"], "{ctx}");
        let (executed, measured) = (&audit[0], &audit[1]);
        for key in ["action", "target", "source"] {
            assert_eq!(executed[key], measured[key], "{ctx}: {key}");
        }
        assert_eq!(&measured["rto"], rto, "{ctx}");
        assert_eq!(executed.get("rto"), None, "{ctx}: only the measured line has the field");
    }
}

/// The Audit pane with a measured failover under the list, the measured line's
/// phases in the list, and the status line saying the same.
#[test]
fn the_audit_pane_and_status_line_show_the_measured_phases() {
    use opsdeck::actions::rto::{Answer, Expectation, ResolverSample, Tracker, measured_line};
    use opsdeck::actions::{Actor, AuditRecord, Outcome};
    use opsdeck::app::{App, Msg, Pane};
    use opsdeck::clock::reference_instant;
    use opsdeck::model::{CloudKind, Fleet};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let t0 = reference_instant();
    let expect = Expectation {
        policy: "shop.example.com".into(),
        shares: vec![(CloudKind::Aws, 0.0), (CloudKind::Azure, 1.0)],
        targets: vec![
            ("shop-us-east-1.elb.amazonaws.com".into(), CloudKind::Aws),
            ("shop-weu.trafficmanager.net".into(), CloudKind::Azure),
        ],
    };
    let mut tracker = Tracker::new("failover aws -> azure".into(), expect, t0, Some(90), 600);
    tracker.accepted(t0 + Duration::milliseconds(400));
    tracker.in_sync(t0 + Duration::seconds(21));
    let azure = Answer { names: vec!["shop-weu.trafficmanager.net.".into()], ips: vec![] };
    let stray = Answer { names: vec!["parking.example.net.".into()], ips: vec![] };
    let mut answers = vec![Ok(azure); 5];
    answers.extend([Ok(stray.clone()), Ok(stray.clone()), Ok(stray), Err("timed out".to_string())]);
    tracker.resolver_round(t0 + Duration::seconds(48), &[ResolverSample { resolver: "1.1.1.1".into(), answers }]);
    tracker.traffic(t0 + Duration::seconds(48), &[(CloudKind::Aws, Some(10.0)), (CloudKind::Azure, None)]);
    let live = tracker.rto().clone();

    let executed = AuditRecord {
        time: t0 + Duration::milliseconds(400),
        actor: Actor { user: "oncall".into(), host: "bastion".into(), ssh_client: None },
        action: "failover aws -> azure".into(),
        target: "azure".into(),
        source: "aws-estate".into(),
        plan: vec!["AWS aws-us-east-1: weight 100 → 0 (share 50% → 0%)".into()],
        changes: serde_json::json!([]),
        guards: serde_json::json!([]),
        forced: None,
        outcome: Outcome::Executed,
        request_id: Some("C0123".into()),
        error: None,
        rto: None,
    };
    let mut app = App::new(None);
    app.pane = Pane::Audit;
    let fleet = Fleet::default();
    app.update(Msg::Clock(t0 + Duration::seconds(50)), &fleet);
    app.update(Msg::Resize { width: 120, height: 24 }, &fleet);
    app.update(Msg::Audited(Box::new(executed.clone())), &fleet);
    app.update(Msg::Rto(Box::new(live.clone())), &fleet);
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("failover aws -> azure: accepted 0.4s · in sync 21s · resolvers … · traffic unknown")
    );
    let theme = opsdeck::theme::Theme::load("default", None, opsdeck::theme::ColorMode::TrueColor).expect("theme");
    let draw = |app: &App| {
        let mut term = Terminal::new(TestBackend::new(120, 24)).expect("terminal");
        term.draw(|f| {
            opsdeck::ui::draw(
                f,
                &opsdeck::ui::View { app, fleet: &fleet, theme: &theme, now: t0 + Duration::seconds(50) },
            )
        })
        .expect("draw");
        term.backend().to_string()
    };
    insta::assert_snapshot!("rto_audit_following_120x24", draw(&app));

    // The deadline passes: the phases not reached say so, and the measured line is listed.
    tracker.tick(t0 + Duration::seconds(600));
    let done = tracker.rto().clone();
    app.update(Msg::Rto(Box::new(done.clone())), &fleet);
    app.update(Msg::Audited(Box::new(measured_line(&executed, done))), &fleet);
    let screen = draw(&app);
    assert!(screen.contains("resolvers not reached in 600 s"), "{screen}");
    insta::assert_snapshot!("rto_audit_measured_120x24", screen);
}

/// On the demo with `[rto]`: the text report prints the phases, and the demo's
/// resolvers still hand out the old weights until a TTL (60 s) has passed, so
/// with a 10 s deadline the resolvers phase is "not reached in 10 s", never a
/// time. `--no-follow` skips the follow: no `rto`, no measured line.
#[test]
fn the_text_report_prints_the_phases_and_no_follow_skips_them() {
    let run = |extra: &[&str]| {
        let home = tempfile::tempdir().expect("tempdir");
        let path = home.path().join("opsdeck.toml");
        std::fs::write(
            &path,
            "[[sources]]\nname = \"demo\"\nkind = \"demo\"\n[rto]\nresolvers = [\"system\", \"1.1.1.1\"]\npoll_secs = 1\ndeadline_secs = 10\n",
        )
        .expect("config");
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&path)
            .args(["failover", "aws", "azure", "--yes", "--confirm", "azure", "--force", "rto test"])
            .args(extra)
            .env("XDG_CONFIG_HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("USER", "runbook")
            .output()
            .expect("run opsdeck");
        let audit: Vec<Value> = std::fs::read_to_string(home.path().join("state/opsdeck/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
            .collect();
        (out, audit)
    };
    let (out, audit) = run(&[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("\nmeasured:\n  accepted "), "{text}");
    assert!(text.contains("\n  in sync "), "{text}");
    assert!(text.contains("\n  resolvers not reached in 10 s\n"), "{text}");
    assert!(text.contains("resolver system: 8 answers: aws "), "{text}");
    let outcomes: Vec<&str> = audit.iter().filter_map(|l| l["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["executed", "measured"]);
    assert_eq!(audit[1]["rto"]["timed_out"], true);
    assert_eq!(audit[1]["rto"]["resolvers_at"], Value::Null);

    let (out, audit) = run(&["--no-follow", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report.get("rto"), None, "{report:#}");
    let outcomes: Vec<&str> = audit.iter().filter_map(|l| l["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["executed"]);
}
