//! Actions from the command line, for runbooks and chat-ops: the same intent →
//! plan → guardrails → execute → audit path as the console, without a terminal.
//! A dry run by default; `--yes` executes (a failover also needs `--confirm
//! <target>`). Exit codes tell scripts what happened.

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use crate::actions::{self, Actor, AuditLog, Checked, Executor, GuardContext, Intent, Outcome};
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
    /// dry_run, refused, executed, failed or unconfirmed.
    pub outcome: &'static str,
    pub reason: Option<String>,
    pub forced: Option<String>,
    pub request_id: Option<String>,
    pub confirmed_after_secs: Option<f64>,
    pub exit_code: u8,
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
            outcome: "refused",
            reason: None,
            forced: None,
            request_id: None,
            confirmed_after_secs: None,
            exit_code: exit::REFUSED,
        }
    }

    /// Human-readable form for a terminal.
    pub fn to_text(&self) -> String {
        // Plan lines, guard details and reasons carry names from the clouds: sanitised.
        let mut out = format!("{}\n", sanitize(&self.action));
        for l in &self.plan {
            out.push_str(&format!("  {}\n", sanitize(l)));
        }
        if let Some(t) = self.time_to_effect_secs {
            out.push_str(&format!("  time to effect: clients follow within the {t}s DNS TTL\n"));
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
        out
    }
}

/// Run one action from the command line. `executor` is `None` in read-only mode.
pub async fn run(
    req: Request,
    sources: &[SourceSchedule],
    executor: Option<&Executor>,
    audit: Option<&AuditLog>,
    actor: &Actor,
) -> Report {
    let mut report = Report::new(&req.intent);
    let now = Utc::now();
    let fleet = collect_once(sources, now, false).await;
    let plan = match actions::plan(&req.intent, &fleet) {
        Ok(p) => p,
        Err(e) => {
            report.reason = Some(e);
            return report;
        }
    };
    let guards = actions::guard::check(&plan, &fleet, &GuardContext { now, in_flight: &[], require: &req.require });
    let checked = Checked { plan, guards };
    report.target = Some(checked.plan.target.clone());
    report.plan = checked.plan.describe();
    report.changes = serde_json::to_value(&checked.plan.changes).unwrap_or_default();
    report.guards = serde_json::to_value(&checked.guards).unwrap_or_default();
    report.time_to_effect_secs = checked.plan.time_to_effect_secs;
    // Forcing only means something when a guardrail failed.
    report.forced = req.force.clone().filter(|f| !f.trim().is_empty() && !checked.passed());

    if !req.yes {
        report.outcome = if checked.passed() { "dry_run" } else { "refused" };
        report.exit_code = if checked.passed() { exit::OK } else { exit::REFUSED };
        if !checked.passed() {
            report.reason = Some(actions::guard::reasons(&checked.guards));
        }
        return report;
    }
    let refuse = |report: &mut Report, reason: String| {
        report.reason = Some(reason);
        if let Some(log) = audit {
            let r =
                checked.record(actor, Utc::now(), Outcome::Refused, report.forced.clone(), None, report.reason.clone());
            if let Err(e) = log.append(&r) {
                report.reason = Some(format!("{}; AUDIT NOT WRITTEN: {e}", report.reason.clone().unwrap_or_default()));
            }
        }
    };
    let Some(executor) = executor else {
        refuse(&mut report, "read-only: actions are disabled".into());
        return report;
    };
    if checked.plan.kind() == actions::ActionKind::Failover
        && !req.confirm.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&checked.plan.target))
    {
        refuse(&mut report, format!("a failover needs --confirm {}", checked.plan.target));
        return report;
    }
    if !checked.passed() && report.forced.is_none() {
        let reasons = actions::guard::reasons(&checked.guards);
        refuse(&mut report, reasons);
        return report;
    }

    let started = std::time::Instant::now();
    let sent = actions::Sent::of(executor.execute(&checked.plan, actor, Utc::now()).await);
    let (outcome, request_id, error) = sent.audit();
    let write_audit = |outcome: Outcome, forced: Option<String>, request_id: Option<String>, error: Option<String>| {
        if let Some(log) = audit
            && let Err(e) = log.append(&checked.record(actor, Utc::now(), outcome, forced, request_id, error))
        {
            eprintln!("opsdeck: AUDIT NOT WRITTEN: {e}");
        }
    };
    write_audit(outcome, report.forced.clone(), request_id.clone(), error.clone());
    report.request_id = request_id;
    // A lost answer is not a failure: the re-read below says whether it landed.
    if outcome == Outcome::Unknown {
        report.reason = error;
    } else if let Some(e) = error {
        report.outcome = "failed";
        report.reason = Some(e);
        report.exit_code = exit::FAILED;
        return report;
    }
    // Re-read until the change shows, instead of trusting the write's answer.
    let deadline = started + req.confirm_timeout;
    loop {
        let fleet = collect_once(sources, Utc::now(), false).await;
        if checked.plan.is_reflected_in(&fleet) {
            if outcome == Outcome::Unknown {
                // The verdict on the lost answer is audited too, after the "unknown" line
                // (which carries the force reason, as in the console).
                write_audit(Outcome::Landed, None, None, None);
            }
            report.outcome = "executed";
            report.exit_code = exit::OK;
            report.confirmed_after_secs = Some(started.elapsed().as_secs_f64());
            return report;
        }
        if std::time::Instant::now() >= deadline {
            if outcome == Outcome::Unknown {
                write_audit(Outcome::NotLanded, None, None, Some("no fresh read showed the change".into()));
            }
            report.outcome = "unconfirmed";
            report.reason = Some(format!("a fresh read did not show the change within {:?}", req.confirm_timeout));
            report.exit_code = exit::UNCONFIRMED;
            return report;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
