//! The Routes view (in the Alerts pane, `p`): where each source's alerts are
//! sent, severity × cloud → channels, a row per route, with the alerts firing
//! through each now. Receivers, rules and channels come from remote systems:
//! every one is sanitised.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{block, fit};
use super::{View, sanitize};
use crate::app::routes::channel_words;

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let f = v.fleet;
    let rows = &v.app.route_rows;
    if rows.is_empty() {
        let words = "No notification routes read: Alertmanager's come from its config, the clouds' from their \
                     alarms' actions (p: back to the alerts)";
        frame.render_widget(
            Paragraph::new(Span::styled(words, t.muted))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block("Routes", t)),
            area,
        );
        return;
    }
    let visible = usize::from(area.height.saturating_sub(3));
    let wide = area.width >= 120;
    // Borders, gaps and the fixed columns; Rule and Channels share the rest.
    let fixed: u16 = if wide { 3 + 7 + 14 + 16 + 6 + 2 + 6 } else { 3 + 7 + 14 + 6 + 2 + 5 };
    let rest = usize::from(area.width.saturating_sub(fixed));
    let (rule_w, channels_w) = if wide { (rest * 2 / 5, rest - rest * 2 / 5) } else { (0, rest) };
    // Scrolled no further than a full last page.
    let first = v.app.routes_scroll.min(rows.len().saturating_sub(visible));
    let body: Vec<Row> = rows
        .iter()
        .skip(first)
        .take(visible)
        .filter_map(|row| {
            let r = f.routes.get(row.route)?;
            let sev = match r.severity {
                Some(s) => Cell::from(Span::styled(s.label(), t.severity[s.index()])),
                None => Cell::from(Span::styled("any", t.muted)),
            };
            let channels = channel_words(r);
            let channels_style = if r.channels.is_empty() { t.warn } else { t.base };
            let mut cells = vec![
                sev,
                Cell::from(r.cloud.map_or("any", |c| c.label())),
                Cell::from(fit(&sanitize(&r.receiver), 14)),
            ];
            if wide {
                cells.push(Cell::from(fit(&sanitize(r.source.as_str()), 16)));
                cells.push(Cell::from(fit(&sanitize(&r.rule), rule_w)));
            }
            cells.push(Cell::from(Span::styled(fit(&sanitize(&channels), channels_w), channels_style)));
            cells.push(Cell::from(if row.firing > 0 { row.firing.to_string() } else { "–".into() }));
            Some(Row::new(cells))
        })
        .collect();
    let mut header = vec!["Sev", "Cloud", "Receiver"];
    let mut widths = vec![Constraint::Length(3), Constraint::Length(7), Constraint::Length(14)];
    if wide {
        header.extend(["Source", "Rule"]);
        widths.extend([Constraint::Length(16), Constraint::Length(rule_w as u16)]);
    }
    header.extend(["Channels", "Now"]);
    widths.extend([Constraint::Min(10), Constraint::Length(5)]);
    let more = rows.len().saturating_sub(first + visible);
    // Short enough for 80 columns with both counts: what is out of view comes first.
    let mut title = format!("Routes ({})", rows.len());
    if first > 0 {
        title.push_str(&format!(" · {first} above"));
    }
    if more > 0 {
        title.push_str(&format!(" · {more} below (j/k)"));
    }
    title.push_str(" · severity × cloud → channels, firing now · p: alerts");
    frame.render_widget(
        Table::new(body, widths).header(Row::new(header).style(t.muted)).style(t.base).block(block(title, t)),
        area,
    );
}
