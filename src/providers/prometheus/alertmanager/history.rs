//! Alertmanager's own account of the recent past, for the timeline. It keeps no
//! alert history as such: what it can tell is when each alert it still holds
//! started firing (`startsAt`) and who silenced what, when, saying what (every
//! silence, expired ones too, until Alertmanager drops them after its
//! retention). A silence made for exactly one alert is that alert's
//! acknowledgement, keyed as the console's journal keys it, so the two agree.

use chrono::{DateTime, Utc};

use super::{GettableSilence, Matcher, is_exact};
use crate::model::{Alert, EventKind, Origin, TimelineEvent};

fn matchers_text(ms: &[Matcher]) -> String {
    let op = |m: &Matcher| match (m.is_equal, m.is_regex) {
        (true, false) => "=",
        (false, false) => "!=",
        (true, true) => "=~",
        (false, true) => "!~",
    };
    let parts: Vec<String> = ms.iter().map(|m| format!("{}{}\"{}\"", m.name, op(m), m.value)).collect();
    format!("{{{}}}", parts.join(", "))
}

/// The entries of `[since, now]`: alerts that started firing in it, and silences
/// created in it (as acknowledgements of the alert they name exactly, else as a
/// silence of what their matchers select).
pub fn entries(
    source: &str,
    alerts: &[Alert],
    silences: &[GettableSilence],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<TimelineEvent> {
    let origin = || Origin::Source(source.to_string());
    let within = |t: DateTime<Utc>| t >= since && t <= now;
    let mut out: Vec<TimelineEvent> = alerts
        .iter()
        .filter(|a| within(a.started_at))
        .map(|a| TimelineEvent::firing(a, a.started_at, origin()))
        .collect();
    for s in silences.iter().filter(|s| within(s.starts_at)) {
        match alerts.iter().find(|a| is_exact(s, &a.labels)) {
            Some(a) => out.push(TimelineEvent::acked(a, &s.created_by, s.starts_at, &s.comment, origin())),
            None => {
                let comment = if s.comment.is_empty() { String::new() } else { format!(" — {}", s.comment) };
                out.push(TimelineEvent {
                    at: s.starts_at,
                    kind: EventKind::Ack,
                    who: Some(s.created_by.clone()).filter(|b| !b.is_empty()),
                    what: format!(
                        "silenced {} until {}{comment}",
                        matchers_text(&s.matchers),
                        s.ends_at.format("%H:%M:%SZ")
                    ),
                    cloud: None,
                    source: Some(source.to_string()),
                    key: format!("silence:{source}:{}", s.id),
                    origin: origin(),
                });
            }
        }
    }
    out
}
