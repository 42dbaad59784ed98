//! Timeline: what happened, in order: the journal this console (and earlier
//! ones) kept of alerts, health and sources, merged with the audit log's
//! actions, with time to detect and time to mitigate in the title. The same
//! entries and measures as `opsdeck timeline`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{block, fit};
use super::{View, sanitize};
use crate::model::EventKind;
use crate::theme::Theme;
use crate::timeline::assemble::human;
use crate::timeline::{Timeline, assemble, from_audit};

/// The timeline of the last `TIMELINE_HOURS` up to `now`, from what the app holds.
pub fn timeline_of(v: &View) -> Timeline {
    let since = v.now - chrono::Duration::hours(crate::app::TIMELINE_HOURS);
    let mut events: Vec<_> = v.app.timeline.iter().cloned().collect();
    events.extend(v.app.audit.iter().flat_map(from_audit::entries));
    assemble(events, since, v.now, Vec::new())
}

fn style_of(kind: EventKind, t: &Theme) -> ratatui::style::Style {
    match kind {
        EventKind::AlertFiring | EventKind::SourceStale => t.crit,
        EventKind::Signal | EventKind::Drill => t.warn,
        EventKind::AlertResolved | EventKind::Recovered | EventKind::SourceBack | EventKind::TrafficMoved => t.ok,
        EventKind::Action | EventKind::Rto | EventKind::Ack | EventKind::Unack => t.accent,
        EventKind::DrillCleared => t.muted,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let tl = timeline_of(v);
    let m = &tl.measures;
    let measure = |s: Option<i64>| s.map_or_else(|| "unknown".to_string(), human);
    let title = format!(
        "Timeline {}h: {} entries · detect {} · mitigate {}",
        crate::app::TIMELINE_HOURS,
        tl.events.len(),
        measure(m.time_to_detect_secs),
        measure(m.time_to_mitigate_secs)
    );
    if tl.events.is_empty() {
        frame.render_widget(
            Paragraph::new("Nothing has happened yet that this console saw or the audit log holds: alerts firing and resolving, health falling and recovering, sources going stale, drills and actions appear here as they happen. `opsdeck timeline` prints the same as markdown for a postmortem.")
                .style(t.muted)
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block(title, t)),
            area,
        );
        return;
    }
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    // Newest at the bottom, followed unless scrolled back.
    let back = v.app.timeline_scroll.min(tl.events.len().saturating_sub(1));
    let end = tl.events.len() - back;
    let start = end.saturating_sub(visible);
    let what_w = usize::from(area.width.saturating_sub(9 + 14 + 18 + 6)).max(10);
    let rows: Vec<Row> = tl.events[start..end]
        .iter()
        .map(|e| {
            Row::new(vec![
                Cell::from(e.at.format("%H:%M:%S").to_string()),
                Cell::from(Span::styled(e.kind.label(), style_of(e.kind, t))),
                Cell::from(fit(&sanitize(e.who.as_deref().unwrap_or("–")), 18)),
                Cell::from(fit(&sanitize(&e.what), what_w)),
            ])
        })
        .collect();
    let widths = [Constraint::Length(8), Constraint::Length(13), Constraint::Length(18), Constraint::Min(10)];
    let header = Row::new(["UTC", "Kind", "Who", "What"]).style(t.muted);
    let title = if back > 0 { format!("{title} · {back} newer below (j)") } else { title };
    frame.render_widget(Table::new(rows, widths).header(header).style(t.base).block(block(title, t)), area);
}
