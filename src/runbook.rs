//! Actions from the command line, for runbooks and chat-ops: the same intent →
//! plan → guardrails → execute → audit path as the console, without a terminal.
//! A dry run by default; `--yes` executes (a failover also needs `--confirm
//! <target>`). Exit codes tell scripts what happened.

use std::time::Duration;

use serde::Serialize;

use crate::actions::run::{self, Consent, Decision, WritePath};
use crate::actions::{self, Checked, InFlight, Intent, Outcome, Sent, Settled};
use crate::collector::{SourceSchedule, collect_once};
use crate::ui::sanitize;

/// Exit codes of `opsdeck failover|drain|scale|ack`.
pub mod exit {
    /// Dry run whose guardrails pass, or executed and confirmed by a fresh read.
    pub const OK: u8 = 0;
    /// Refused: no plan, a guardrail failed (without --force), read-only, or no --confirm.
    pub const REFUSED: u8 = 3;
    /// The provider call failed.
    pub const FAILED: u8 = 4;
    /// Sent, but a fresh read did not show the change in time.
    pub const UNCONFIRMED: u8 = 5;
}

/// Bump when the JSON below changes incompatibly.
pub const SCHEMA_VERSION: u32 = 2;

pub struct Request {
    pub intent: Intent,
    pub yes: bool,
    pub confirm: Option<String>,
    pub force: Option<String>,
    /// `[guards] require`: guardrails whose unknown refuses.
    pub require: Vec<actions::guard::GuardKey>,
    /// How long to wait for a fresh read to show the change.
    pub confirm_timeout: Duration,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema: u32,
    pub action: String,
    pub target: Option<String>,
    pub plan: Vec<String>,
    pub changes: serde_json::Value,
    pub guards: serde_json::Value,
    pub time_to_effect_secs: Option<u32>,
    /// The time to effect in words when health-check detection is part of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    /// dry_run, refused, executed, failed or unconfirmed.
    pub outcome: &'static str,
    pub reason: Option<String>,
    pub forced: Option<String>,
    pub request_id: Option<String>,
    pub confirmed_after_secs: Option<f64>,
    /// `opsdeck undo`: the audited action this one reverses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undoes: Option<Undone>,
    /// A followed failover's measured phases (absent with --no-follow, for
    /// other actions, and when nothing was executed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rto: Option<crate::model::rto::Rto>,
    pub exit_code: u8,
}

/// How to follow an executed failover until traffic has moved.
pub struct Follow {
    pub config: crate::config::RtoConfig,
}

/// The action an undo reverses, as its audit line recorded it.
#[derive(Debug, Clone, Serialize)]
pub struct Undone {
    pub action: String,
    pub time: chrono::DateTime<chrono::Utc>,
    pub request_id: Option<String>,
}

impl Undone {
    pub fn of(r: &actions::AuditRecord) -> Undone {
        Undone { action: r.action.clone(), time: r.time, request_id: r.request_id.clone() }
    }
}

impl Report {
    fn new(intent: &Intent) -> Report {
        Report {
            schema: SCHEMA_VERSION,
            action: intent.to_string(),
            target: None,
            plan: vec![],
            changes: serde_json::Value::Null,
            guards: serde_json::Value::Null,
            time_to_effect_secs: None,
            effect: None,
            outcome: "refused",
            reason: None,
            forced: None,
            request_id: None,
            confirmed_after_secs: None,
            undoes: None,
            rto: None,
            exit_code: exit::REFUSED,
        }
    }

    /// Human-readable form for a terminal.
    pub fn to_text(&self) -> String {
        // Plan lines, guard details and reasons carry names from the clouds: sanitised.
        let mut out = String::new();
        if let Some(u) = &self.undoes {
            let request = u.request_id.as_deref().map(|r| format!(", request {}", sanitize(r))).unwrap_or_default();
            out.push_str(&format!(
                "undoes: {} at {}{request}\n",
                sanitize(&u.action),
                u.time.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        out.push_str(&format!("{}\n", sanitize(&self.action)));
        for l in &self.plan {
            out.push_str(&format!("  {}\n", sanitize(l)));
        }
        match (self.time_to_effect_secs, &self.effect) {
            (Some(t), Some(words)) => out.push_str(&format!("  time to effect: about {t}s ({words})\n")),
            (Some(t), None) => out.push_str(&format!("  time to effect: clients follow within the {t}s DNS TTL\n")),
            _ => {}
        }
        if let Some(guards) = self.guards.as_array() {
            out.push_str("guardrails:\n");
            for g in guards {
                let state = match (g["state"].as_str(), g["required"].as_bool()) {
                    (Some("passed"), _) => "ok  ",
                    (Some("unknown"), Some(true)) => "UNKN",
                    (Some("unknown"), _) => "unkn",
                    _ => "FAIL",
                };
                out.push_str(&format!(
                    "  {} {:<24} {}\n",
                    state,
                    g["name"].as_str().unwrap_or(""),
                    sanitize(g["detail"].as_str().unwrap_or(""))
                ));
            }
        }
        out.push_str(&format!("outcome: {}", self.outcome));
        if let Some(r) = &self.reason {
            out.push_str(&format!(" ({})", sanitize(r)));
        }
        if let Some(id) = &self.request_id {
            out.push_str(&format!(", request {}", sanitize(id)));
        }
        if let Some(s) = self.confirmed_after_secs {
            out.push_str(&format!(", confirmed by a fresh read after {s:.1}s"));
        }
        out.push('\n');
        if let Some(rto) = &self.rto {
            out.push_str("measured:\n");
            for (name, at) in rto.phases() {
                out.push_str(&format!("  {}\n", sanitize(&rto.phase_text(name, at))));
            }
            if let Some(p) = rto.predicted_secs {
                out.push_str(&format!("  predicted: {p} s\n"));
            }
            for l in rto.detail() {
                out.push_str(&format!("  {}\n", sanitize(&l)));
            }
        }
        out
    }
}

/// Run one action from the command line, through the write path (whose executor
/// is `None` in read-only mode). Times come from the write path's clock.
pub async fn run(req: Request, sources: &[SourceSchedule], path: &WritePath) -> Report {
    run_following(req, sources, path, None).await
}

/// [`run`], and with `follow` an executed failover is followed until traffic
/// has moved or the deadline passed: the report's `rto`, and one `measured`
/// audit line.
pub async fn run_following(
    req: Request,
    sources: &[SourceSchedule],
    path: &WritePath,
    follow: Option<Follow>,
) -> Report {
    let mut report = Report::new(&req.intent);
    let fleet = collect_once(sources, path.now(), false).await;
    let fleet_before = fleet.clone();
    let checked = match run::prepare(&req.intent, &fleet, path.now(), &[], &req.require) {
        Ok(c) => c,
        Err(e) => {
            report.reason = Some(e);
            return report;
        }
    };
    report.target = Some(checked.plan.target.clone());
    report.plan = checked.plan.describe();
    report.changes = serde_json::to_value(&checked.plan.changes).unwrap_or_default();
    report.guards = serde_json::to_value(&checked.guards).unwrap_or_default();
    report.time_to_effect_secs = checked.plan.time_to_effect_secs;
    report.effect = checked.plan.effect.clone();
    report.forced = run::force_reason(&checked, req.force.as_deref());

    if !req.yes {
        report.outcome = if checked.passed() { "dry_run" } else { "refused" };
        report.exit_code = if checked.passed() { exit::OK } else { exit::REFUSED };
        if !checked.passed() {
            report.reason = Some(actions::guard::reasons(&checked.guards));
        }
        return report;
    }
    let consent = Consent { typed_target: req.confirm.as_deref(), force: req.force.as_deref() };
    let decision = if path.read_only() {
        Err("read-only: actions are disabled".to_string())
    } else {
        match run::decide(&checked, &consent) {
            Decision::NeedsTarget { target } => Err(format!("a failover needs --confirm {target}")),
            Decision::Refused { reasons } => Err(reasons),
            Decision::Run { forced } => Ok(forced),
        }
    };
    let forced = match decision {
        Ok(forced) => forced,
        Err(reason) => {
            let record = path.record(&checked, Outcome::Refused, report.forced.clone(), Some(reason.clone()));
            report.reason = Some(match path.audit(&record).await {
                Ok(()) => reason,
                Err(e) => format!("{reason}; AUDIT NOT WRITTEN: {e}"),
            });
            return report;
        }
    };

    let attempt = path.send(&checked, forced).await;
    if let Some(e) = &attempt.audit_error {
        eprintln!("opsdeck: AUDIT NOT WRITTEN: {e}");
    }
    let target = checked.plan.target.clone();
    let mut flight = InFlight::new(chrono_secs(req.confirm_timeout));
    flight.start(checked.clone(), attempt.at, chrono_secs(req.confirm_timeout));
    report.request_id = attempt.record.request_id.clone();
    match &attempt.sent {
        Sent::Done(receipt) => flight.answered(&target, &receipt.request_id),
        // A lost answer is not a failure: the re-reads below say whether it landed.
        Sent::Unknown(_) => {
            flight.lost(&target, attempt.at);
            report.reason = attempt.record.error.clone();
        }
        Sent::Failed(_) => {
            report.outcome = "failed";
            report.reason = attempt.record.error.clone();
            report.exit_code = exit::FAILED;
            return report;
        }
    }
    // Re-read until a fresh read settles it, instead of trusting the write's answer.
    loop {
        let now = path.now();
        let fleet = collect_once(sources, now, false).await;
        let mut settled = flight.on_read(&fleet, now);
        settled.extend(flight.on_tick(path.now()));
        if let Some(s) = settled.into_iter().next() {
            let mut report = finish(report, s, &req, path).await;
            if let (Some(f), Sent::Done(receipt)) = (&follow, &attempt.sent) {
                report.rto = follow_failover(f, &checked, &attempt, receipt, &fleet_before, sources, path).await;
            }
            return report;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Follow an executed failover (a plan of weights) and audit what was measured.
async fn follow_failover(
    follow: &Follow,
    checked: &Checked,
    attempt: &run::Attempt,
    receipt: &crate::providers::Receipt,
    before: &crate::model::Fleet,
    sources: &[SourceSchedule],
    path: &WritePath,
) -> Option<crate::model::rto::Rto> {
    use crate::actions::rto_follow::{FollowSetup, Followed, follow as follow_rto, tracker_for};
    use crate::providers::dns::{DemoResolvers, NetResolvers, Resolvers};
    let mut tracker = tracker_for(&checked.plan, before, attempt.sent_at, follow.config.deadline_secs)?;
    tracker.accepted(attempt.at);
    let policy = tracker.rto().policy.clone();
    let setup = FollowSetup::from_config(&follow.config, &policy);
    // The demo's resolvers answer from the policy the fresh reads show.
    let before_policy = before.policies.iter().find(|p| p.name == policy).cloned();
    let latest: std::sync::Arc<std::sync::Mutex<Option<crate::model::TrafficPolicy>>> = Default::default();
    let resolvers: Box<dyn Resolvers> = if before.is_demo_source(&checked.plan.source) {
        let cell = latest.clone();
        Box::new(DemoResolvers::new(follow.config.resolvers.clone(), path.clock(), before_policy, move || {
            cell.lock().unwrap_or_else(|e| e.into_inner()).clone()
        }))
    } else {
        match NetResolvers::from_config(&follow.config) {
            Ok(r) => Box::new(r),
            Err(e) => {
                eprintln!("opsdeck: not following the failover: {e}");
                return None;
            }
        }
    };
    let read = || {
        let latest = latest.clone();
        let policy = policy.clone();
        async move {
            let fleet = collect_once(sources, path.now(), false).await;
            let p = fleet.policies.iter().find(|p| p.name == policy).cloned();
            *latest.lock().unwrap_or_else(|e| e.into_inner()) = p;
            fleet
        }
    };
    let rto = follow_rto(
        tracker,
        Followed { plan: &checked.plan, request_id: Some(&receipt.request_id) },
        path,
        resolvers.as_ref(),
        &setup,
        read,
        |_| {},
    )
    .await;
    let line = crate::actions::rto::measured_line(&attempt.record, rto.clone());
    if let Err(e) = path.audit(&line).await {
        eprintln!("opsdeck: AUDIT NOT WRITTEN: {e}");
    }
    Some(rto)
}

/// The report (and, for a lost answer, the audited verdict) once the action settled.
async fn finish(mut report: Report, settled: Settled, req: &Request, path: &WritePath) -> Report {
    let verdict = |checked: &Checked, outcome| path.record(checked, outcome, None, None);
    let (line, confirmed) = match settled {
        Settled::Confirmed { after, .. } => (None, Some(after)),
        Settled::Landed { checked, after } => (Some(verdict(&checked, Outcome::Landed)), Some(after)),
        Settled::NotLanded { checked } => (Some(verdict(&checked, Outcome::NotLanded)), None),
        // A lost answer no read settled in time is "not landed" as far as anyone can tell.
        Settled::Expired { checked, lost } => (lost.then(|| verdict(&checked, Outcome::NotLanded)), None),
    };
    if let Some(line) = line
        && let Err(e) = path.audit(&line).await
    {
        eprintln!("opsdeck: AUDIT NOT WRITTEN: {e}");
    }
    match confirmed {
        Some(after) => {
            report.outcome = "executed";
            report.exit_code = exit::OK;
            report.confirmed_after_secs = Some(after.num_milliseconds() as f64 / 1000.0);
        }
        None => {
            report.outcome = "unconfirmed";
            report.reason = Some(format!("a fresh read did not show the change within {:?}", req.confirm_timeout));
            report.exit_code = exit::UNCONFIRMED;
        }
    }
    report
}

fn chrono_secs(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
