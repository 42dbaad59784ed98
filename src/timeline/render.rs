//! The timeline as text: markdown ready to paste into a postmortem, or JSON.
//! Entry text can be remote text (alert titles, silence comments): it is made
//! one line and stripped of control characters, and table cells escape `|`.

use serde::Serialize;

use super::assemble::{Timeline, human};
use crate::format::one_line;

/// The JSON layout version of `opsdeck timeline --format json`.
pub const SCHEMA_VERSION: u32 = 1;

fn cell(s: &str) -> String {
    one_line(s, 400).replace('\\', "\\\\").replace('|', "\\|")
}

fn hms(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%H:%M:%S").to_string()
}

/// Markdown: a title with the window, the measures, then one table row per entry.
pub fn markdown(t: &Timeline) -> String {
    let mut out = String::new();
    let day = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d %H:%M").to_string();
    out.push_str(&format!("## Incident timeline {} – {} UTC\n\n", day(t.since), day(t.until)));
    let m = &t.measures;
    let line = |label: &str, secs: Option<i64>, from: &str, to: &str| match secs {
        Some(s) => format!("- **{label}:** {} ({from} → {to})\n", human(s)),
        None => format!("- **{label}:** unknown ({from} → {to})\n"),
    };
    let said = |mk: &Option<super::assemble::Mark>, none: &str| match mk {
        Some(mk) => format!("{} {}", hms(mk.at), cell(&mk.what)),
        None => none.to_string(),
    };
    out.push_str(&line(
        "Time to detect",
        m.time_to_detect_secs,
        &said(&m.first_signal, "no signal before the first alert"),
        &said(&m.first_alert, "no alert"),
    ));
    out.push_str(&line(
        "Time to mitigate",
        m.time_to_mitigate_secs,
        &said(&m.first_alert, "no alert"),
        &said(&m.traffic_moved, "no failover measured traffic moving"),
    ));
    for h in &t.histories {
        let state = match (h.state, &h.error) {
            ("failed", Some(e)) => format!("could not be read: {}", cell(e)),
            ("none", _) => "keeps no alert history opsdeck reads".into(),
            (_, _) => format!("{} entries", h.entries),
        };
        out.push_str(&format!("- History of {}: {state}\n", cell(&h.name)));
    }
    out.push('\n');
    if t.events.is_empty() {
        out.push_str("Nothing happened in this window that opsdeck saw, audited or could read.\n");
        return out;
    }
    out.push_str("| Time (UTC) | Kind | Who | What | Source |\n|---|---|---|---|---|\n");
    for e in &t.events {
        let when = if e.at.date_naive() == t.until.date_naive() && e.at.date_naive() == t.since.date_naive() {
            hms(e.at)
        } else {
            e.at.format("%Y-%m-%d %H:%M:%S").to_string()
        };
        let from = match &e.origin {
            crate::model::Origin::Source(s) => format!("{} history", s),
            crate::model::Origin::Audit => "audit".into(),
            crate::model::Origin::Journal => e.source.clone().unwrap_or_else(|| "opsdeck".into()),
        };
        out.push_str(&format!(
            "| {when} | {} | {} | {} | {} |\n",
            e.kind.label(),
            cell(e.who.as_deref().unwrap_or("–")),
            cell(&e.what),
            cell(&from)
        ));
    }
    out
}

#[derive(Serialize)]
struct Json<'a> {
    schema: u32,
    #[serde(flatten)]
    timeline: &'a Timeline,
}

pub fn json(t: &Timeline) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&Json { schema: SCHEMA_VERSION, timeline: t })
}
