//! A failover's measured time to recover: when each phase of the change was
//! seen done, after the plan was sent. Filled by `actions::rto::Tracker`; read by
//! the status line, the Audit pane, the CLI report and the timeline.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::CloudKind;

/// The phases of one failover, each `None` until it was seen done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rto {
    /// The intent as displayed (`failover aws -> azure`).
    pub action: String,
    pub policy: String,
    pub sent_at: DateTime<Utc>,
    /// The API answered the write.
    pub accepted_at: Option<DateTime<Utc>>,
    /// The DNS provider has the change everywhere (Route 53 INSYNC, or a fresh
    /// read of the policy showing the planned weights).
    pub in_sync_at: Option<DateTime<Utc>>,
    /// Every configured resolver answered the planned shares.
    pub resolvers_at: Option<DateTime<Utc>>,
    /// The providers' requests/s per cloud matched the planned shares.
    pub traffic_at: Option<DateTime<Utc>>,
    /// What the plan promised (TTL + detection), for comparison.
    pub predicted_secs: Option<u32>,
    /// When the follow ended (all phases done, or the deadline passed).
    pub finished_at: Option<DateTime<Utc>>,
    /// The deadline passed with phases not reached.
    pub timed_out: bool,
    /// How long the follow waits at most.
    pub deadline_secs: u32,
    /// Each resolver's last round, as observed.
    #[serde(default)]
    pub resolvers: Vec<ResolverRound>,
    /// The last traffic reading per cloud.
    #[serde(default)]
    pub traffic: Vec<CloudShare>,
    /// Why the traffic phase could not be judged at the last reading (a cloud's
    /// rps unknown), if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_unknown: Option<String>,
}

/// One resolver's last round of queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolverRound {
    pub resolver: String,
    pub at: DateTime<Utc>,
    /// Queries that got an answer.
    pub answers: u32,
    /// Answers per cloud, with the planned share.
    pub clouds: Vec<CloudShare>,
    /// Answers that matched no endpoint of the policy.
    pub unmatched: u32,
    /// Queries that failed (timeouts, refusals), with the last error.
    pub failed: u32,
    pub error: Option<String>,
    /// This round showed the planned shares within tolerance.
    pub matches_plan: bool,
}

/// One cloud's planned and observed share (0..1); `observed` is None when unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudShare {
    pub cloud: CloudKind,
    pub planned: f64,
    pub observed: Option<f64>,
}

/// A phase as the status line and the panes show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseState {
    Done,
    Waiting,
    NotReached,
}

impl Rto {
    /// The four phases: (name, when done).
    pub fn phases(&self) -> [(&'static str, Option<DateTime<Utc>>); 4] {
        [
            ("accepted", self.accepted_at),
            ("in sync", self.in_sync_at),
            ("resolvers", self.resolvers_at),
            ("traffic", self.traffic_at),
        ]
    }

    pub fn all_done(&self) -> bool {
        self.phases().iter().all(|(_, t)| t.is_some())
    }

    /// Seconds from sending to `at`, to a tenth.
    fn secs(&self, at: DateTime<Utc>) -> f64 {
        (at - self.sent_at).num_milliseconds() as f64 / 1000.0
    }

    /// One phase in words: "in sync 21s", "resolvers …" while following, "traffic
    /// not reached in 600 s" after the deadline. Never a 0 for a phase not seen.
    pub fn phase_text(&self, name: &str, at: Option<DateTime<Utc>>) -> String {
        match at {
            Some(t) => format!("{name} {}", short_secs(self.secs(t))),
            None if self.timed_out => format!("{name} not reached in {} s", self.deadline_secs),
            None if name == "traffic" && self.traffic_unknown.is_some() => format!("{name} unknown"),
            None => format!("{name} …"),
        }
    }

    /// The status line: "failover aws -> azure: accepted 0.4s · in sync 21s · resolvers … · traffic …".
    pub fn line(&self) -> String {
        let phases: Vec<String> = self.phases().iter().map(|(n, t)| self.phase_text(n, *t)).collect();
        format!("{}: {}", self.action, phases.join(" · "))
    }

    /// Lines of detail: each resolver's last round and the traffic reading.
    pub fn detail(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.resolvers {
            let clouds: Vec<String> = r
                .clouds
                .iter()
                .map(|c| {
                    let obs = c.observed.map_or("–".to_string(), |o| format!("{:.0}%", o * 100.0));
                    format!("{} {obs} (plan {:.0}%)", c.cloud.slug(), c.planned * 100.0)
                })
                .collect();
            let mut line = format!("resolver {}: {} answers: {}", r.resolver, r.answers, clouds.join(", "));
            if r.unmatched > 0 {
                line.push_str(&format!("; {} answers matched no endpoint", r.unmatched));
            }
            if r.failed > 0 {
                line.push_str(&format!("; {} queries failed", r.failed));
                if let Some(e) = &r.error {
                    line.push_str(&format!(" ({e})"));
                }
            }
            out.push(line);
        }
        if let Some(why) = &self.traffic_unknown {
            out.push(format!("traffic unknown: {why}"));
        } else if !self.traffic.is_empty() {
            let clouds: Vec<String> = self
                .traffic
                .iter()
                .map(|c| {
                    let obs = c.observed.map_or("–".to_string(), |o| format!("{:.0}%", o * 100.0));
                    format!("{} {obs} (plan {:.0}%)", c.cloud.slug(), c.planned * 100.0)
                })
                .collect();
            out.push(format!("traffic: {}", clouds.join(", ")));
        }
        out
    }
}

/// "0.4s" under ten seconds, "21s" above.
fn short_secs(s: f64) -> String {
    if s < 10.0 { format!("{s:.1}s") } else { format!("{s:.0}s") }
}

/// One DNS answer: the CNAME chain's names and the addresses at its end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub names: Vec<String>,
    pub ips: Vec<IpAddr>,
}

/// One resolver's queries of one round: each an answer or why it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolverSample {
    pub resolver: String,
    pub answers: Vec<Result<Answer, String>>,
}
