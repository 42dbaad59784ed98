//! Logs: every source with its state, when it was last good, why it is stale and
//! what its polling costs; under it opsdeck's own log records (tui-logger).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

use super::widgets::{block, fit};
use super::{View, format, sanitize};
use crate::model::Freshness;

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let sources_h = (v.fleet.sources.len() as u16 + 3).min(area.height / 2).max(3);
    let [sources, logs] = Layout::vertical([Constraint::Length(sources_h), Constraint::Min(3)]).areas(area);
    draw_sources(frame, sources, v);
    let t = v.theme;
    let widget = TuiLoggerWidget::default()
        .block(block("Logs", t))
        .style(t.base)
        .style_error(t.crit)
        .style_warn(t.warn)
        .style_info(t.ok)
        .style_debug(t.muted)
        .style_trace(t.muted)
        .output_separator(' ')
        .output_timestamp(Some("%H:%M:%S".to_string()))
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(true)
        .output_file(false)
        .output_line(false);
    frame.render_widget(widget, logs);
}

/// "alerts: throttled: …; cost: …" for a partial source, sanitised.
pub(super) fn partial_reason(s: &crate::model::SourceStatus) -> String {
    s.partial.iter().map(|p| format!("{}: {}", p.section.label(), sanitize(&p.reason))).collect::<Vec<_>>().join("; ")
}

fn draw_sources(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let reason_w = usize::from(area.width.saturating_sub(84)).max(12);
    let rows: Vec<Row> = v
        .fleet
        .sources
        .iter()
        .map(|s| {
            let (glyph, state, style, reason) = match &s.freshness {
                // Live, but some sections show their last good data: say which and why.
                Freshness::Fresh if !s.partial.is_empty() => ("◐", "PARTIAL", t.warn, partial_reason(s)),
                Freshness::Fresh => ("●", "fresh", t.ok, String::new()),
                Freshness::Pending => ("…", "waiting", t.muted, String::new()),
                Freshness::Stale { reason } => ("✖", "STALE", t.crit, sanitize(reason).into_owned()),
            };
            let last_good = match s.last_ok {
                Some(at) => format!("{} ago", format::age((v.now - at).num_seconds())),
                None => "never".into(),
            };
            let (calls, monthly) = match &s.poll_cost {
                // Reads made only every so often (prices, hourly) are named apart:
                // "6 +2/1h" is 6 calls a poll, and 2 more once an hour.
                Some(c) => (
                    match c.slow_calls {
                        Some((n, every)) => format!("{} +{n}/{}", c.api_calls, every_words(every)),
                        None => c.api_calls.to_string(),
                    },
                    format!("${:.2}", c.monthly_usd(s.interval_secs)),
                ),
                None => ("–".into(), "–".into()),
            };
            Row::new(vec![
                Cell::from(Span::styled(format!("{glyph} {state}"), style)),
                Cell::from(sanitize(s.id.as_str()).into_owned()),
                Cell::from(s.kind.clone()),
                Cell::from(if s.interval_secs > 0 { format!("{}s", s.interval_secs) } else { "–".into() }),
                Cell::from(last_good),
                Cell::from(calls),
                Cell::from(monthly),
                match (&s.freshness, s.poll_cost.as_ref().and_then(|c| c.remaining_reads)) {
                    // A fresh source has no reason to show: its read budget goes here.
                    (Freshness::Fresh, Some(left)) if s.partial.is_empty() => {
                        Cell::from(Span::styled(fit(&format!("reads left {left}"), reason_w), t.muted))
                    }
                    _ => Cell::from(Span::styled(fit(&reason, reason_w), t.crit)),
                },
            ])
        })
        .collect();
    let header =
        Row::new(["State", "Source", "Kind", "Every", "Last good", "Calls", "≈ /month", "Why stale"]).style(t.muted);
    let widths = [
        Constraint::Length(9),
        Constraint::Length(22),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Min(12),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).style(t.base).block(block("Sources", t)), area);
}

/// "1h", "6h", "30m": how often a slow read runs.
fn every_words(secs: u64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
